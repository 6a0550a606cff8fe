import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidMetadataException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;

/**
 * Prints Kafka's error-code table as JSON, one object per line, in code order,
 * for scripts/gen-error-codes.mjs. It reads the table from the running
 * kafka-clients jar rather than from a copy, so the generated TypeScript is
 * exactly what that Kafka version's Errors enum says.
 *
 * Run in source-file mode: java -cp 'libs/*' scripts/java/GenErrorCodes.java
 */
public class GenErrorCodes {
    public static void main(String[] args) {
        Errors[] all = Errors.values();
        java.util.Arrays.sort(all, (a, b) -> Short.compare(a.code(), b.code()));
        for (Errors e : all) {
            ApiException ex = e.exception();
            StringBuilder sb = new StringBuilder();
            sb.append("{\"code\":").append(e.code())
              .append(",\"name\":").append(quote(e.name()))
              .append(",\"retriable\":").append(ex instanceof RetriableException)
              .append(",\"invalidMetadata\":").append(ex instanceof InvalidMetadataException)
              .append(",\"exception\":").append(ex == null ? "null" : quote(ex.getClass().getSimpleName()))
              .append(",\"message\":").append(quote(e.message()))
              .append('}');
            System.out.println(sb);
        }
    }

    private static String quote(String s) {
        if (s == null) return "null";
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
