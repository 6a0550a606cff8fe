import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.RequestHeaderDataJsonConverter;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.message.ResponseHeaderDataJsonConverter;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.RequestHeader;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * An independent codec for the wire-format tests: Kafka's own generated
 * message classes (kafka-clients 4.4.0) decode the bytes our TypeScript
 * encoder writes, and encode the responses our decoder is tested against.
 *
 * One JVM serves many cases: one command per stdin line, exactly one answer
 * line per command on stdout ("OK <payload>" or "ERR <message>"), flushed at
 * once, so a caller can pipeline everything and read answers in order.
 *
 *   REQ <apiKey> <version> <hex>
 *       <hex> is a request frame without its size prefix. Parses the header
 *       with RequestHeader.parse (as a broker does; the JSON shows the raw
 *       RequestHeaderData, so a null client id stays null) and the body with
 *       the generated XxxRequestData (any API key: the class and its
 *       JsonConverter are found from ApiKeys' message type), requires every
 *       byte consumed, and answers
 *       {"headerVersion":h,"header":{...},"body":{...},"reencoded":"<hex>"}
 *       where header/body come from the generated JsonConverters (Produce
 *       records as the hex of their bytes: the converter itself writes an
 *       empty placeholder) and reencoded is Kafka's own serialization of the
 *       parsed header and body.
 *   RES <apiKey> <version> <correlationId> <json>
 *       Reads the body with XxxResponseDataJsonConverter.read and answers the
 *       hex of header + body (no size prefix). The header version is
 *       ApiKeys.responseHeaderVersion, so ApiVersions gets header v0.
 *   RESDEC <apiKey> <version> <hex>
 *       The reverse of RES: parses a response frame (header + body, all bytes
 *       consumed) and answers {"header":{...},"body":{...}}.
 *
 * In REQ and RESDEC answers, integers beyond JavaScript's safe range (2^53-1,
 * e.g. int64 producer ids and offsets) are written as the string
 * "int64:<decimal>", which test/harness/protocol-codec.ts turns into a bigint.
 */
public class ProtocolCodec {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) continue;
            String answer;
            try {
                answer = "OK " + handle(line.trim());
            } catch (Throwable t) {
                String msg = t.getClass().getSimpleName() + ": " + t.getMessage();
                answer = "ERR " + msg.replace('\n', ' ').replace('\r', ' ');
            }
            out.println(answer);
            out.flush();
        }
    }

    private static String handle(String line) throws Exception {
        String[] parts = line.split(" ", 5);
        switch (parts[0]) {
            case "REQ": return decodeRequest(Short.parseShort(parts[1]), Short.parseShort(parts[2]), parts.length > 3 ? parts[3] : "");
            case "RES": return encodeResponse(Short.parseShort(parts[1]), Short.parseShort(parts[2]), Integer.parseInt(parts[3]), parts[4]);
            case "RESDEC": return decodeResponse(Short.parseShort(parts[1]), Short.parseShort(parts[2]), parts.length > 3 ? parts[3] : "");
            default: throw new IllegalArgumentException("unknown command '" + parts[0] + "'");
        }
    }

    private static String decodeRequest(short apiKey, short version, String hex) throws Exception {
        byte[] bytes = HEX.parseHex(hex);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        // The broker's path: header version from the api key and version.
        RequestHeader header = RequestHeader.parse(buf);
        // RequestHeader.parse turns a null client id into ""; keep the raw
        // header data so the JSON and the re-encoding show what was sent.
        RequestHeaderData rawHeader = new RequestHeaderData(new ByteBufferAccessor(ByteBuffer.wrap(bytes)), header.headerVersion());
        if (header.apiKey().id != apiKey || header.apiVersion() != version) {
            throw new IllegalStateException("header says api " + header.apiKey().id + " v" + header.apiVersion()
                + ", expected " + apiKey + " v" + version);
        }
        ByteBufferAccessor acc = new ByteBufferAccessor(buf);
        ApiMessage body = ApiKeys.forId(apiKey).messageType.newRequest();
        body.read(acc, version);
        JsonNode bodyJson = toJson(body, version);
        if (body instanceof ProduceRequestData) bodyJson = withRecords((ProduceRequestData) body, bodyJson);
        if (buf.hasRemaining()) {
            throw new IllegalStateException(buf.remaining() + " of " + bytes.length + " bytes left unread after the body");
        }
        ObjectNode result = MAPPER.createObjectNode();
        result.put("headerVersion", header.headerVersion());
        result.set("header", RequestHeaderDataJsonConverter.write(rawHeader, header.headerVersion()));
        result.set("body", exactInt64(bodyJson));
        result.put("reencoded", HEX.formatHex(serialize(rawHeader, header.headerVersion(), body, version)));
        return MAPPER.writeValueAsString(result);
    }

    private static String encodeResponse(short apiKey, short version, int correlationId, String json) throws Exception {
        JsonNode node = MAPPER.readTree(json);
        ApiMessage body = fromJson(ApiKeys.forId(apiKey).messageType.newResponse(), node, version);
        short headerVersion = ApiKeys.forId(apiKey).responseHeaderVersion(version);
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(correlationId);
        return HEX.formatHex(serialize(header, headerVersion, body, version));
    }

    private static String decodeResponse(short apiKey, short version, String hex) throws Exception {
        ByteBuffer buf = ByteBuffer.wrap(HEX.parseHex(hex));
        short headerVersion = ApiKeys.forId(apiKey).responseHeaderVersion(version);
        ByteBufferAccessor acc = new ByteBufferAccessor(buf);
        ResponseHeaderData header = new ResponseHeaderData(acc, headerVersion);
        ApiMessage body = ApiKeys.forId(apiKey).messageType.newResponse();
        body.read(acc, version);
        JsonNode bodyJson = toJson(body, version);
        if (buf.hasRemaining()) throw new IllegalStateException(buf.remaining() + " bytes left unread after the body");
        ObjectNode result = MAPPER.createObjectNode();
        result.set("header", ResponseHeaderDataJsonConverter.write(header, headerVersion));
        result.set("body", exactInt64(bodyJson));
        return MAPPER.writeValueAsString(result);
    }

    /**
     * Every generated XxxData class has a generated XxxDataJsonConverter beside
     * it with static write(XxxData, short) and read(JsonNode, short): reached by
     * name, so any API key ApiKeys knows works without a case per API.
     */
    private static Class<?> converterOf(ApiMessage message) throws ClassNotFoundException {
        return Class.forName(message.getClass().getName() + "JsonConverter");
    }

    private static JsonNode toJson(ApiMessage message, short version) throws Exception {
        Method write = converterOf(message).getMethod("write", message.getClass(), short.class);
        return (JsonNode) invoke(write, message, version);
    }

    private static ApiMessage fromJson(ApiMessage prototype, JsonNode node, short version) throws Exception {
        Method read = converterOf(prototype).getMethod("read", JsonNode.class, short.class);
        return (ApiMessage) invoke(read, node, version);
    }

    /** Reflection wraps what the converter throws; callers want the converter's own exception. */
    private static Object invoke(Method m, Object a, short version) throws Exception {
        try {
            return m.invoke(null, a, version);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception) throw (Exception) cause;
            throw e;
        }
    }

    /** Beyond 2^53 a JSON number loses digits in JavaScript's JSON.parse. */
    private static final long JS_SAFE = (1L << 53) - 1;

    /**
     * Replaces every integer outside JavaScript's safe range (int64 fields
     * such as producer ids) with the text "int64:<decimal>", which
     * test/harness/protocol-codec.ts revives as a bigint, so the caller
     * compares the exact value rather than the nearest double.
     */
    private static JsonNode exactInt64(JsonNode node) {
        if (node.isIntegralNumber() && (!node.canConvertToLong() || node.longValue() > JS_SAFE || node.longValue() < -JS_SAFE)) {
            return new TextNode("int64:" + node.bigIntegerValue());
        }
        if (node instanceof ObjectNode) {
            ObjectNode o = (ObjectNode) node;
            java.util.List<String> names = new java.util.ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            for (String name : names) o.set(name, exactInt64(o.get(name)));
        } else if (node instanceof ArrayNode) {
            ArrayNode a = (ArrayNode) node;
            for (int i = 0; i < a.size(); i++) a.set(i, exactInt64(a.get(i)));
        }
        return node;
    }

    /**
     * The generated JsonConverter writes RECORDS as an empty placeholder; put
     * the actual bytes (hex) in their place so callers can compare them.
     */
    private static JsonNode withRecords(ProduceRequestData data, JsonNode json) {
        int t = 0;
        for (ProduceRequestData.TopicProduceData topic : data.topicData()) {
            JsonNode partitionsJson = json.get("topicData").get(t++).get("partitionData");
            int p = 0;
            for (ProduceRequestData.PartitionProduceData partition : topic.partitionData()) {
                ObjectNode pj = (ObjectNode) partitionsJson.get(p++);
                BaseRecords records = partition.records();
                if (records == null) pj.putNull("records");
                else pj.put("records", HEX.formatHex(recordBytes(records)));
            }
        }
        return json;
    }

    private static byte[] recordBytes(BaseRecords records) {
        if (!(records instanceof MemoryRecords)) throw new IllegalStateException("unexpected records type " + records.getClass());
        ByteBuffer b = ((MemoryRecords) records).buffer().duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** Header then body, sized first through one ObjectSerializationCache, as Kafka's own send path does. */
    private static byte[] serialize(Message header, short headerVersion, Message body, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = header.size(cache, headerVersion) + body.size(cache, version);
        ByteBuffer buf = ByteBuffer.allocate(size);
        ByteBufferAccessor acc = new ByteBufferAccessor(buf);
        header.write(acc, cache, headerVersion);
        body.write(acc, cache, version);
        if (buf.hasRemaining()) throw new IllegalStateException("serialized " + buf.position() + " of " + size + " bytes");
        return buf.array();
    }
}
