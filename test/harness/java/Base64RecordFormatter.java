package kafkaharness;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.MessageFormatter;
import org.apache.kafka.common.header.Header;

/**
 * Binary-safe formatter for kafka-console-consumer (--formatter kafkaharness.Base64RecordFormatter).
 *
 * One line per record, fields separated by a single space:
 *
 *   R topic partition offset timestamp timestampType key value headers
 *
 * key / value: standard base64 of the bytes, "-" for null ("" is an empty array,
 * which shows up as two adjacent spaces).  headers: "-" when there are none,
 * else comma separated base64(key UTF-8) ":" base64(value) with "-" as value for
 * a null header value.  Base64 never contains '-', ' ', ',' or ':'.
 */
public class Base64RecordFormatter implements MessageFormatter {
    private static final Base64.Encoder B64 = Base64.getEncoder();

    private static String b64(byte[] b) {
        return b == null ? "-" : B64.encodeToString(b);
    }

    @Override
    public void writeTo(ConsumerRecord<byte[], byte[]> r, PrintStream out) {
        StringBuilder sb = new StringBuilder(64 + (r.serializedValueSize() > 0 ? r.serializedValueSize() * 4 / 3 : 0));
        sb.append("R ").append(r.topic()).append(' ').append(r.partition()).append(' ').append(r.offset())
          .append(' ').append(r.timestamp()).append(' ').append(r.timestampType().id)
          .append(' ').append(b64(r.key())).append(' ').append(b64(r.value())).append(' ');
        boolean first = true;
        for (Header h : r.headers()) {
            if (!first) sb.append(',');
            first = false;
            sb.append(B64.encodeToString(h.key().getBytes(StandardCharsets.UTF_8))).append(':').append(b64(h.value()));
        }
        if (first) sb.append('-');
        sb.append('\n');
        out.print(sb);
    }
}
