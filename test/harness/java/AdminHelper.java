package kafkaharness;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Long-lived Admin client for the test harness (one JVM per test cluster).
 *
 * usage: java kafkaharness.AdminHelper <bootstrap>
 * Prints "READY" once started, then reads one command per line on stdin and
 * answers each with exactly one line "OK [result]" or "ERR <message>":
 *
 *   ready <nBrokers> <timeoutMs>        all n brokers registered+unfenced and the
 *                                       controller accepts a (validate-only) topic
 *                                       creation with replication factor n
 *   create <topic> <partitions> <rf> <timeoutMs> [config=value ...]
 *                                       create, then wait until every partition has
 *                                       a leader, a full ISR and answers ListOffsets
 *   hwm <topic> <timeoutMs>             -> "OK p:offset p:offset ..." (high watermarks)
 *   leaders <topic> <timeoutMs>         -> "OK p:leader:isr1/isr2 ..." (leader -1 if none)
 *   fullisr <topic> <timeoutMs>         wait until every partition has a leader and ISR == replicas
 *   waitbroker <nodeId> <timeoutMs>     wait until the broker is registered, unfenced and answers requests
 *   delete <topic> <timeoutMs>
 *   quit
 */
public class AdminHelper {
    private static Admin admin;

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: AdminHelper <bootstrap>");
            System.exit(2);
        }
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "harness-admin");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "50");
        p.put(AdminClientConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "500");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "50");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, "1000");
        p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, "3000");
        p.put(AdminClientConfig.METADATA_MAX_AGE_CONFIG, "3000");
        admin = Admin.create(p);

        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        out.println("READY");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            line = line.trim();
            if (line.isEmpty()) continue;
            String[] a = line.split("\\s+");
            if (a[0].equals("quit")) {
                out.println("OK");
                break;
            }
            String reply;
            try {
                reply = "OK" + handle(a);
            } catch (Throwable t) {
                reply = "ERR " + describe(t);
            }
            out.println(reply.replace('\n', ' ').replace('\r', ' '));
        }
        admin.close(java.time.Duration.ofSeconds(2));
        System.exit(0);
    }

    private static String describe(Throwable t) {
        while ((t instanceof ExecutionException || t.getClass() == RuntimeException.class) && t.getCause() != null) t = t.getCause();
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    private static Throwable unwrap(Throwable t) {
        while (t instanceof ExecutionException && t.getCause() != null) t = t.getCause();
        return t;
    }

    private static long deadline(String ms) {
        return System.currentTimeMillis() + Long.parseLong(ms);
    }

    private static int remaining(long deadline) {
        return (int) Math.max(100, Math.min(10_000, deadline - System.currentTimeMillis()));
    }

    private static void sleepOrTimeout(long deadline, String what, Throwable last) throws Exception {
        if (System.currentTimeMillis() + 100 > deadline) {
            throw new RuntimeException("timed out waiting for " + what + (last == null ? "" : " (last error: " + describe(last) + ")"));
        }
        Thread.sleep(100);
    }

    private static String handle(String[] a) throws Exception {
        switch (a[0]) {
            case "ping":
                return "";
            case "ready":
                need(a, 3);
                return ready(Integer.parseInt(a[1]), deadline(a[2]));
            case "create": {
                if (a.length < 5) throw new IllegalArgumentException("usage: create <topic> <partitions> <rf> <timeoutMs> [k=v ...]");
                Map<String, String> configs = new HashMap<>();
                for (int i = 5; i < a.length; i++) {
                    int eq = a[i].indexOf('=');
                    if (eq <= 0) throw new IllegalArgumentException("bad config '" + a[i] + "', expected key=value");
                    configs.put(a[i].substring(0, eq), a[i].substring(eq + 1));
                }
                return create(a[1], Integer.parseInt(a[2]), Short.parseShort(a[3]), configs, deadline(a[4]));
            }
            case "hwm":
                need(a, 3);
                return hwm(a[1], deadline(a[2]));
            case "leaders":
                need(a, 3);
                return leaders(a[1], deadline(a[2]));
            case "fullisr":
                need(a, 3);
                return fullIsr(a[1], deadline(a[2]));
            case "waitbroker":
                need(a, 3);
                return waitBroker(Integer.parseInt(a[1]), deadline(a[2]));
            case "delete":
                need(a, 3);
                admin.deleteTopics(List.of(a[1])).all().get(Long.parseLong(a[2]), TimeUnit.MILLISECONDS);
                return "";
            default:
                throw new IllegalArgumentException("unknown command '" + a[0] + "'");
        }
    }

    private static void need(String[] a, int n) {
        if (a.length != n) throw new IllegalArgumentException("wrong number of arguments for " + a[0]);
    }

    private static Collection<Node> nodes(long deadline) throws Exception {
        return admin.describeCluster(new DescribeClusterOptions().timeoutMs(remaining(deadline)))
            .nodes().get(remaining(deadline) + 1000L, TimeUnit.MILLISECONDS);
    }

    private static String ready(int n, long deadline) throws Exception {
        Throwable last = null;
        while (true) {
            try {
                Collection<Node> nodes = nodes(deadline);
                if (nodes.size() >= n) {
                    for (Node node : nodes) brokerServes(node.id(), deadline);
                    NewTopic probe = new NewTopic("__harness_ready_probe", 1, (short) n);
                    try {
                        admin.createTopics(List.of(probe), new CreateTopicsOptions().validateOnly(true).timeoutMs(remaining(deadline)))
                            .all().get(remaining(deadline) + 1000L, TimeUnit.MILLISECONDS);
                    } catch (ExecutionException e) {
                        if (!(unwrap(e) instanceof TopicExistsException)) throw e;
                    }
                    return " " + nodes.stream().map(x -> Integer.toString(x.id())).sorted().collect(Collectors.joining(","));
                }
                last = new RuntimeException("only " + nodes.size() + " of " + n + " brokers registered");
            } catch (Exception e) {
                last = e;
            }
            sleepOrTimeout(deadline, "cluster readiness", last);
        }
    }

    private static boolean fatal(Throwable t) {
        return t instanceof InvalidTopicException || t instanceof InvalidConfigurationException
            || t instanceof PolicyViolationException || t instanceof InvalidPartitionsException;
    }

    private static String create(String topic, int partitions, short rf, Map<String, String> configs, long deadline) throws Exception {
        NewTopic nt = new NewTopic(topic, partitions, rf).configs(configs);
        Throwable last = null;
        boolean attempted = false;
        while (true) {
            try {
                admin.createTopics(List.of(nt), new CreateTopicsOptions().timeoutMs(remaining(deadline)))
                    .all().get(remaining(deadline) + 1000L, TimeUnit.MILLISECONDS);
                break;
            } catch (Exception e) {
                Throwable t = unwrap(e);
                // A retry of a request that timed out may find the topic created by the first try.
                if (t instanceof TopicExistsException) {
                    if (attempted) break;
                    throw new RuntimeException("topic '" + topic + "' already exists");
                }
                if (fatal(t)) throw e;
                last = t;
                attempted = true;
            }
            sleepOrTimeout(deadline, "creation of topic " + topic, last);
        }
        waitServing(topic, partitions, rf, deadline);
        return "";
    }

    private static TopicDescription describeTopic(String topic, long deadline) throws Exception {
        return admin.describeTopics(List.of(topic), new DescribeTopicsOptions().timeoutMs(remaining(deadline)))
            .allTopicNames().get(remaining(deadline) + 1000L, TimeUnit.MILLISECONDS).get(topic);
    }

    /** Every partition has a leader and a full ISR, and each leader answers ListOffsets. */
    private static void waitServing(String topic, int partitions, int rf, long deadline) throws Exception {
        Throwable last = null;
        while (true) {
            try {
                TopicDescription d = describeTopic(topic, deadline);
                String problem = null;
                if (d.partitions().size() != partitions) problem = "metadata shows " + d.partitions().size() + " partitions";
                for (TopicPartitionInfo pi : d.partitions()) {
                    if (problem != null) break;
                    if (pi.leader() == null || pi.leader().isEmpty()) problem = "partition " + pi.partition() + " has no leader";
                    else if (pi.isr().size() < rf) problem = "partition " + pi.partition() + " ISR " + pi.isr().size() + " < " + rf;
                }
                if (problem == null) {
                    latest(topic, d, deadline);
                    return;
                }
                last = new RuntimeException(problem);
            } catch (Exception e) {
                Throwable t = unwrap(e);
                last = t;
            }
            sleepOrTimeout(deadline, "leaders of topic " + topic, last);
        }
    }

    private static Map<Integer, Long> latest(String topic, TopicDescription d, long deadline) throws Exception {
        Map<TopicPartition, OffsetSpec> req = new HashMap<>();
        for (TopicPartitionInfo pi : d.partitions()) req.put(new TopicPartition(topic, pi.partition()), OffsetSpec.latest());
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> res = admin
            .listOffsets(req, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED).timeoutMs(remaining(deadline)))
            .all().get(remaining(deadline) + 1000L, TimeUnit.MILLISECONDS);
        Map<Integer, Long> m = new TreeMap<>();
        res.forEach((tp, info) -> m.put(tp.partition(), info.offset()));
        return m;
    }

    private static String hwm(String topic, long deadline) throws Exception {
        Throwable last = null;
        while (true) {
            try {
                Map<Integer, Long> m = latest(topic, describeTopic(topic, deadline), deadline);
                StringBuilder sb = new StringBuilder();
                m.forEach((k, v) -> sb.append(' ').append(k).append(':').append(v));
                return sb.toString();
            } catch (Exception e) {
                Throwable t = unwrap(e);
                if (t instanceof UnknownTopicOrPartitionException && last == null) throw e;
                last = t;
            }
            sleepOrTimeout(deadline, "high watermarks of " + topic, last);
        }
    }

    private static String fullIsr(String topic, long deadline) throws Exception {
        Throwable last = null;
        while (true) {
            try {
                String problem = null;
                for (TopicPartitionInfo pi : describeTopic(topic, deadline).partitions()) {
                    if (pi.leader() == null || pi.leader().isEmpty()) problem = "partition " + pi.partition() + " has no leader";
                    else if (pi.isr().size() < pi.replicas().size()) problem = "partition " + pi.partition() + " ISR " + pi.isr() + " replicas " + pi.replicas();
                    if (problem != null) break;
                }
                if (problem == null) return "";
                last = new RuntimeException(problem);
            } catch (Exception e) {
                last = unwrap(e);
            }
            sleepOrTimeout(deadline, "full ISR of " + topic, last);
        }
    }

    private static String leaders(String topic, long deadline) throws Exception {
        TopicDescription d = describeTopic(topic, deadline);
        StringBuilder sb = new StringBuilder();
        for (TopicPartitionInfo pi : d.partitions()) {
            int leader = pi.leader() == null || pi.leader().isEmpty() ? -1 : pi.leader().id();
            sb.append(' ').append(pi.partition()).append(':').append(leader).append(':')
              .append(pi.isr().stream().map(x -> Integer.toString(x.id())).collect(Collectors.joining("/")));
        }
        return sb.toString();
    }

    /** The broker answers a request addressed to it (so it is unfenced and processing requests) and is in the metadata. */
    private static void brokerServes(int id, long deadline) throws Exception {
        ConfigResource r = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(id));
        admin.describeConfigs(List.of(r), new DescribeConfigsOptions().timeoutMs(Math.min(3000, remaining(deadline))))
            .all().get(remaining(deadline) + 1000L, TimeUnit.MILLISECONDS);
    }

    private static String waitBroker(int id, long deadline) throws Exception {
        Throwable last = null;
        while (true) {
            try {
                brokerServes(id, deadline);
                Set<Integer> ids = nodes(deadline).stream().map(Node::id).collect(Collectors.toSet());
                if (ids.contains(id)) return "";
                last = new RuntimeException("registered brokers: " + ids);
            } catch (Exception e) {
                last = unwrap(e);
            }
            sleepOrTimeout(deadline, "broker " + id, last);
        }
    }
}
