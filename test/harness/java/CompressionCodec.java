import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.apache.kafka.common.utils.internals.ByteBufferOutputStream;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The reference for the compression tests: Kafka's own
 * org.apache.kafka.common.compress.Compression classes (kafka-clients 4.4.0,
 * with the snappy-java, lz4-java and zstd-jni it runs on) compress and
 * decompress exactly as the Java producer and the broker do for a v2 record
 * batch (RecordBatch.CURRENT_MAGIC_VALUE).
 *
 * One JVM serves many cases: one command per stdin line, exactly one answer
 * line per command on stdout ("OK <payload>" or "ERR <message>"), flushed at
 * once, so a caller can pipeline commands and read the answers in order.
 * Payloads are base64 (empty input: an empty field).
 *
 *   COMPRESS <codec> <level|default> <base64>
 *       Compression.of(codec).level(level).build().wrapForOutput(...), the
 *       input written in one call, the stream closed; answers the frame.
 *   DECOMPRESS <codec> <base64>
 *       wrapForInput(frame, magic 2, BufferSupplier.create()) read to the end;
 *       answers the decoded bytes, or ERR with Kafka's exception.
 *   LEVELS
 *       {"gzip":{"min":..,"max":..,"default":..},"lz4":{..},"zstd":{..}} from
 *       CompressionType's minLevel / maxLevel / defaultLevel.
 *   VALIDATE <producer config name> <value>
 *       Parses <value> as ProducerConfig.configDef() types that key and runs
 *       its validator; answers {"default":"<default value>"} when valid, ERR
 *       with the ConfigException otherwise.
 */
public class CompressionCodec {
    private static final Base64.Decoder B64_IN = Base64.getDecoder();
    private static final Base64.Encoder B64_OUT = Base64.getEncoder();

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII), 1 << 20);
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.US_ASCII);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) continue;
            String answer;
            try {
                answer = "OK " + handle(line.trim());
            } catch (Throwable t) {
                String msg = t.getClass().getSimpleName() + ": " + t.getMessage();
                Throwable cause = t.getCause();
                if (cause != null) msg += " (caused by " + cause.getClass().getSimpleName() + ": " + cause.getMessage() + ")";
                answer = "ERR " + msg.replace('\n', ' ').replace('\r', ' ');
            }
            out.println(answer);
            out.flush();
        }
    }

    private static String handle(String line) throws Exception {
        String[] parts = line.split(" ", -1);
        switch (parts[0]) {
            case "COMPRESS": return compress(parts[1], parts[2], arg(parts, 3));
            case "DECOMPRESS": return decompress(parts[1], arg(parts, 2));
            case "LEVELS": return levels();
            case "VALIDATE": return validate(parts[1], arg(parts, 2));
            default: throw new IllegalArgumentException("unknown command '" + parts[0] + "'");
        }
    }

    private static String arg(String[] parts, int i) {
        return parts.length > i ? parts[i] : "";
    }

    private static Compression build(String codec, String level) {
        CompressionType type = CompressionType.forName(codec);
        if (level.equals("default")) return Compression.of(type).build();
        int n = Integer.parseInt(level);
        switch (type) {
            case GZIP: return Compression.gzip().level(n).build();
            case LZ4: return Compression.lz4().level(n).build();
            case ZSTD: return Compression.zstd().level(n).build();
            default: throw new IllegalArgumentException(codec + " has no level");
        }
    }

    private static String compress(String codec, String level, String b64) throws Exception {
        byte[] input = B64_IN.decode(b64);
        ByteBufferOutputStream buffer = new ByteBufferOutputStream(Math.max(64, input.length / 2));
        try (OutputStream os = build(codec, level).wrapForOutput(buffer, RecordBatch.CURRENT_MAGIC_VALUE)) {
            os.write(input);
        }
        ByteBuffer bb = buffer.buffer();
        bb.flip();
        byte[] frame = new byte[bb.remaining()];
        bb.get(frame);
        return B64_OUT.encodeToString(frame);
    }

    private static String decompress(String codec, String b64) throws Exception {
        ByteBuffer frame = ByteBuffer.wrap(B64_IN.decode(b64));
        ByteArrayOutputStream decoded = new ByteArrayOutputStream();
        try (InputStream is = Compression.of(CompressionType.forName(codec)).build()
                .wrapForInput(frame, RecordBatch.CURRENT_MAGIC_VALUE, BufferSupplier.create())) {
            byte[] chunk = new byte[16 * 1024];
            int n;
            while ((n = is.read(chunk, 0, chunk.length)) != -1) decoded.write(chunk, 0, n);
        }
        return B64_OUT.encodeToString(decoded.toByteArray());
    }

    private static String levels() {
        StringBuilder sb = new StringBuilder("{");
        CompressionType[] types = {CompressionType.GZIP, CompressionType.LZ4, CompressionType.ZSTD};
        for (int i = 0; i < types.length; i++) {
            CompressionType t = types[i];
            if (i > 0) sb.append(',');
            sb.append('"').append(t.name).append("\":{\"min\":").append(t.minLevel())
              .append(",\"max\":").append(t.maxLevel()).append(",\"default\":").append(t.defaultLevel()).append('}');
        }
        return sb.append('}').toString();
    }

    private static String validate(String name, String value) {
        ConfigDef.ConfigKey key = ProducerConfig.configDef().configKeys().get(name);
        if (key == null) throw new IllegalArgumentException("no producer config " + name);
        Object parsed = ConfigDef.parseType(name, value, key.type);
        if (key.validator != null) key.validator.ensureValid(name, parsed);
        return "{\"default\":\"" + String.valueOf(key.defaultValue).replace("\"", "\\\"") + "\"}";
    }
}
