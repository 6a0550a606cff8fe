import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Java producer (kafka-clients) for the per-record scenarios of the
 * benchmark, where ProducerPerformance has no equivalent: at most N records
 * outstanding (mode "bounded"), and paced sends with microsecond latency
 * (mode "latency"; ProducerPerformance reports whole milliseconds).  The
 * throughput scenarios use org.apache.kafka.tools.ProducerPerformance itself.
 *
 *   java BenchProducer --bootstrap H:P --topic T --records N --value-bytes B
 *        --acks 1|all --idempotence off|default --mode bounded|latency|throughput
 *        [--max-outstanding 1000] [--warmup N] [--rate 5000] [--linger 5] [--batch-size 65536]
 *        [--keys N --partitions P] [--transaction-records N --transactional-id ID]
 *
 * --keys N (scenario 6, mode bounded): record i carries the key "key-<i mod N>" (UTF-8
 * bytes), placed by the default partitioner (murmur2).  --partitions P: the topic's
 * partition count; after the run partitionsFor(topic) must list P, or the run counts an error.
 *
 * Mode "transactional" (scenario 7): transactional.id ID (idempotence stays on, as it must),
 * initTransactions() before the clock starts, then beginTransaction(), N sends,
 * commitTransaction() (which flushes and waits for the commit), repeated. A commit that
 * fails ends the run, counted as an error, and the result is still printed.
 *
 * Prints one line "BENCH_RESULT {json}" like the Node runners.
 */
public class BenchProducer {
    /** What became of the sends: acknowledged, or failed (with the first error's text). */
    static final class Outcomes {
        final AtomicLong acked = new AtomicLong(), errors = new AtomicLong();
        final AtomicReference<String> firstError = new AtomicReference<>();

        void error(String what) {
            errors.incrementAndGet();
            firstError.compareAndSet(null, what);
        }

        /**
         * The send callback: counts the outcome; `onAck` (may be null) runs after a success, before
         * it is counted, and `then` (may be null) after either.
         */
        Callback callback(Runnable onAck, Runnable then) {
            return (md, e) -> {
                if (e != null) error(e.toString());
                else {
                    if (onAck != null) onAck.run();
                    acked.incrementAndGet();
                }
                if (then != null) then.run();
            };
        }
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = null, topic = null, acks = "1", idem = "off", mode = "bounded";
        long records = 0, maxOut = 1000, warmup = 0, rate = 5000;
        int nkeys = 0, partitions = 0;
        long txnRecords = 0;
        String txnId = null;
        int valueBytes = 100, linger = 5, batchSize = 65536;
        for (int i = 0; i + 1 < args.length; i += 2) {
            String a = args[i], v = args[i + 1];
            switch (a) {
                case "--bootstrap": bootstrap = v; break;
                case "--topic": topic = v; break;
                case "--records": records = Long.parseLong(v); break;
                case "--value-bytes": valueBytes = Integer.parseInt(v); break;
                case "--acks": acks = v; break;
                case "--idempotence": idem = v; break;
                case "--mode": mode = v; break;
                case "--max-outstanding": maxOut = Long.parseLong(v); break;
                case "--warmup": warmup = Long.parseLong(v); break;
                case "--rate": rate = Long.parseLong(v); break;
                case "--linger": linger = Integer.parseInt(v); break;
                case "--batch-size": batchSize = Integer.parseInt(v); break;
                case "--keys": nkeys = Integer.parseInt(v); break;
                case "--partitions": partitions = Integer.parseInt(v); break;
                case "--transaction-records": txnRecords = Long.parseLong(v); break;
                case "--transactional-id": txnId = v; break;
                default: throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-java");
        p.put(ProducerConfig.ACKS_CONFIG, acks);
        p.put(ProducerConfig.LINGER_MS_CONFIG, Integer.toString(linger));
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(batchSize));
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        if (idem.equals("off")) p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        if (mode.equals("transactional")) {
            if (txnId == null || txnRecords <= 0) throw new IllegalArgumentException("mode transactional needs --transactional-id and --transaction-records");
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId);
        }
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

        final byte[] value = new byte[valueBytes];
        Arrays.fill(value, (byte) 'x');
        final long total = records + warmup;
        final byte[][] keys = new byte[nkeys][];
        for (int k = 0; k < nkeys; k++) keys[k] = ("key-" + k).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        final Outcomes out = new Outcomes();
        final double[] lat = new double[(int) Math.max(0, records)];
        long sent = 0;
        int seenPartitions = -1;
        long t0;
        long tEnd;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            final String topicF = topic;
            final long warmF = warmup;
            if (mode.equals("bounded") || mode.equals("throughput")) {
                final Semaphore sem = new Semaphore((int) Math.min(Integer.MAX_VALUE, mode.equals("bounded") ? maxOut : Integer.MAX_VALUE));
                final Callback cb = out.callback(null, sem::release);
                t0 = System.nanoTime();
                for (long i = 0; i < total; i++) {
                    sem.acquire();
                    sent++;
                    byte[] key = keys.length == 0 ? null : keys[(int) (i % keys.length)];
                    producer.send(new ProducerRecord<>(topicF, key, value), cb);
                }
                producer.flush();
            } else if (mode.equals("transactional")) {
                final Callback cb = out.callback(null, null);
                producer.initTransactions();
                t0 = System.nanoTime();
                for (long i = 0; i < total; ) {
                    producer.beginTransaction();
                    long end = Math.min(total, i + txnRecords);
                    for (; i < end; i++) {
                        sent++;
                        producer.send(new ProducerRecord<>(topicF, value), cb);
                    }
                    // Flushes the transaction's records and waits for EndTxn(commit).
                    try {
                        producer.commitTransaction();
                    } catch (KafkaException e) {
                        out.error("commitTransaction: " + e);
                        break;
                    }
                }
            } else if (mode.equals("latency")) {
                long start = System.nanoTime();
                t0 = start;
                long i = 0;
                while (i < total) {
                    long t = System.nanoTime();
                    long due = Math.min(total, (t - start) * rate / 1_000_000_000L + 1);
                    for (; i < due; i++) {
                        final long idx = i;
                        final long ts = System.nanoTime();
                        if (idx == warmF) t0 = ts;
                        sent++;
                        producer.send(new ProducerRecord<>(topicF, value), out.callback(() -> {
                            if (idx >= warmF) lat[(int) (idx - warmF)] = (System.nanoTime() - ts) / 1e6;
                        }, null));
                    }
                    long next = t + 1_000_000L; // ~1 ms ticks, like the other runners
                    long sleepNs = next - System.nanoTime();
                    if (sleepNs > 0) Thread.sleep(sleepNs / 1_000_000L, (int) (sleepNs % 1_000_000L));
                }
                producer.flush();
            } else throw new IllegalArgumentException("unknown mode " + mode);
            tEnd = System.nanoTime();
            if (partitions > 0) {
                seenPartitions = producer.partitionsFor(topicF).size();
                if (seenPartitions != partitions) out.error("metadata shows " + seenPartitions + " partitions, expected " + partitions);
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append("BENCH_RESULT {\"client\":\"java\",\"version\":\"")
          .append(kafkaClientsVersion()).append("\",")
          .append("\"sent\":").append(sent).append(",\"acked\":").append(out.acked.get())
          .append(",\"errors\":").append(out.errors.get()).append(",\"firstError\":");
        String fe = out.firstError.get();
        sb.append(fe == null ? "null" : "\"" + fe.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"");
        sb.append(",\"elapsedMs\":").append(String.format(java.util.Locale.ROOT, "%.3f", (tEnd - t0) / 1e6))
          .append(",\"partitions\":").append(seenPartitions).append(",\"latency\":");
        if (mode.equals("latency") && records > 0) {
            double[] a = lat.clone();
            Arrays.sort(a);
            int n = a.length;
            double sum = 0;
            for (double x : a) sum += x;
            sb.append(String.format(java.util.Locale.ROOT, "{\"count\":%d,\"p50\":%.4f,\"p99\":%.4f,\"p999\":%.4f,\"max\":%.4f,\"mean\":%.4f}",
                n, a[rank(0.5, n)], a[rank(0.99, n)], a[rank(0.999, n)], a[n - 1], sum / n));
        } else sb.append("null");
        sb.append("}");
        System.out.println(sb);
        System.out.flush();
    }

    private static int rank(double p, int n) {
        return Math.max(0, Math.min(n - 1, (int) Math.ceil(p * n) - 1));
    }

    /**
     * The kafka-clients version, read from the resource AppInfoParser reads: AppInfoParser itself
     * moved (org.apache.kafka.common.utils.internals in 4.x), so it is not referenced.
     */
    static String kafkaClientsVersion() {
        try (java.io.InputStream in = KafkaProducer.class.getResourceAsStream("/kafka/kafka-version.properties")) {
            if (in == null) return "unknown";
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
