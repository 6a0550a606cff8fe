/*
 * mockcluster: a librdkafka (2.0.x) mock Kafka cluster driven over stdin.
 *
 *   mockcluster <nbrokers>
 *
 * Prints exactly one line "BOOTSTRAP host:port,host:port,..." on stdout once
 * the cluster listens (brokers have ids 1..n and listen on 127.0.0.1 with
 * ephemeral ports), then reads one command per line on stdin and answers every
 * line with exactly one line: "OK" (optionally followed by a value) or
 * "ERR <message>".  When stdin reaches EOF (e.g. the parent died) the cluster
 * is destroyed and the process exits 0.
 *
 * Arguments <err> accept a number (e.g. 6, -195) or an rd_kafka_resp_err_t
 * name with or without prefix (NOT_LEADER_FOR_PARTITION,
 * RD_KAFKA_RESP_ERR__TRANSPORT, _TRANSPORT, ...).  <apikey> accepts a number
 * or a protocol request name (Produce, Metadata, InitProducerId, ...).
 * Error code -195 (_TRANSPORT) makes the mock broker disconnect the client.
 *
 * Commands (see `help`):
 *   topic <name> <partitions> [replication]    create topic
 *   push_errors <apikey> <err> [err ...]       cluster-wide error stack (FIFO)
 *   broker_push_errors <brokerid> <apikey> <err>[:<rtt_ms>] ...
 *                                              per-broker stack, precedence over cluster
 *   error_stack_cnt <brokerid> <apikey>        -> "OK <n>" remaining broker errors
 *   clear_errors [apikey]                      clear cluster-wide stack (all keys if omitted;
 *                                              per-broker stacks cannot be cleared in 2.0.2)
 *   topic_error <topic> <err>                  error for Metadata/AddPartitionsToTxn (0 clears)
 *   broker_down <id>  broker_up <id>           id -1 = all brokers; no leader change
 *   rtt <brokerid> <ms>                        added response latency
 *   rack <brokerid> <rack>
 *   leader <topic> <partition> <brokerid>      -1 = leaderless
 *   follower <topic> <partition> <brokerid>    preferred replica (KIP-392)
 *   follower_wmarks <topic> <partition> <lo> <hi>
 *   coordinator <transaction|group> <key> <brokerid>
 *   apiversion <apikey> <min> <max>            -1 -1 disables the API
 *   bootstrap                                  -> "OK <bootstrap servers>"
 *   ping                                       -> "OK"
 *   help                                       -> "OK <command list>"
 *   quit | exit                                -> "OK", then exit
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_ARGS 512

static rd_kafka_mock_cluster_t *mcluster;
static int broker_cnt;

static void reply_ok(const char *fmt, ...) {
        fputs("OK", stdout);
        if (fmt) {
                va_list ap;
                fputc(' ', stdout);
                va_start(ap, fmt);
                vfprintf(stdout, fmt, ap);
                va_end(ap);
        }
        fputc('\n', stdout);
        fflush(stdout);
}

static void reply_err(const char *fmt, ...) {
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        /* One line only. */
        for (char *p = buf; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        printf("ERR %s\n", buf);
        fflush(stdout);
}

/* Reply according to an rd_kafka_resp_err_t returned by the mock API. */
static void reply_err_code(rd_kafka_resp_err_t err, const char *what) {
        if (err)
                reply_err("%s: %s (%s, %d)", what, rd_kafka_err2str(err),
                          rd_kafka_err2name(err), (int)err);
        else
                reply_ok(NULL);
}

static int parse_long(const char *s, long min, long max, long *out) {
        char *end;
        long v;
        if (!s || !*s)
                return -1;
        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

static int parse_ll(const char *s, long long *out) {
        char *end;
        if (!s || !*s)
                return -1;
        errno = 0;
        *out  = strtoll(s, &end, 10);
        return (errno || *end) ? -1 : 0;
}

/* Error code: number or name. */
static int parse_err(const char *s, rd_kafka_resp_err_t *out) {
        long v;
        const struct rd_kafka_err_desc *descs;
        size_t cnt, i;
        const char *name = s;

        if (parse_long(s, INT_MIN, INT_MAX, &v) == 0) {
                *out = (rd_kafka_resp_err_t)v;
                return 0;
        }
        if (!strncasecmp(name, "RD_KAFKA_RESP_ERR_", 18))
                name += 18;
        else if (!strncasecmp(name, "ERR_", 4))
                name += 4;
        /* KIP-? rename; librdkafka's table only has the old name. */
        if (!strcasecmp(name, "NOT_LEADER_OR_FOLLOWER"))
                name = "NOT_LEADER_FOR_PARTITION";

        rd_kafka_get_err_descs(&descs, &cnt);
        for (i = 0; i < cnt; i++) {
                if (descs[i].name && !strcasecmp(descs[i].name, name)) {
                        *out = descs[i].code;
                        return 0;
                }
        }
        return -1;
}

static const char *api_names[] = {
    "Produce",         "Fetch",
    "ListOffsets",     "Metadata",
    "LeaderAndIsr",    "StopReplica",
    "UpdateMetadata",  "ControlledShutdown",
    "OffsetCommit",    "OffsetFetch",
    "FindCoordinator", "JoinGroup",
    "Heartbeat",       "LeaveGroup",
    "SyncGroup",       "DescribeGroups",
    "ListGroups",      "SaslHandshake",
    "ApiVersions",     "CreateTopics",
    "DeleteTopics",    "DeleteRecords",
    "InitProducerId",  "OffsetForLeaderEpoch",
    "AddPartitionsToTxn", "AddOffsetsToTxn",
    "EndTxn",          "WriteTxnMarkers",
    "TxnOffsetCommit", "DescribeAcls",
    "CreateAcls",      "DeleteAcls",
    "DescribeConfigs", "AlterConfigs",
    "AlterReplicaLogDirs", "DescribeLogDirs",
    "SaslAuthenticate", "CreatePartitions",
    "CreateDelegationToken", "RenewDelegationToken",
    "ExpireDelegationToken", "DescribeDelegationToken",
    "DeleteGroups",    "ElectLeaders",
    "IncrementalAlterConfigs", "AlterPartitionReassignments",
    "ListPartitionReassignments", "OffsetDelete",
};

static int parse_apikey(const char *s, int16_t *out) {
        long v;
        size_t i;
        if (parse_long(s, 0, 200, &v) == 0) {
                *out = (int16_t)v;
                return 0;
        }
        for (i = 0; i < sizeof(api_names) / sizeof(api_names[0]); i++) {
                if (!strcasecmp(api_names[i], s)) {
                        *out = (int16_t)i;
                        return 0;
                }
        }
        return -1;
}

static int parse_broker(const char *s, int allow_all, int32_t *out) {
        long v;
        if (parse_long(s, allow_all ? -1 : 1, INT32_MAX, &v))
                return -1;
        *out = (int32_t)v;
        return 0;
}

#define NEED(n, usage)                                                         \
        do {                                                                   \
                if (argc != (n)) {                                             \
                        reply_err("usage: %s", usage);                         \
                        return 0;                                              \
                }                                                              \
        } while (0)

#define NEED_MIN(n, usage)                                                     \
        do {                                                                   \
                if (argc < (n)) {                                              \
                        reply_err("usage: %s", usage);                         \
                        return 0;                                              \
                }                                                              \
        } while (0)

static const char *HELP =
    "topic push_errors broker_push_errors error_stack_cnt clear_errors "
    "topic_error broker_down broker_up rtt rack leader follower "
    "follower_wmarks coordinator apiversion bootstrap ping help quit";

static int handle(int argc, char **argv) {
        const char *cmd = argv[0];
        long v, v2;
        long long ll1, ll2;
        int32_t bid;
        int16_t apikey;
        rd_kafka_resp_err_t err;

        if (!strcmp(cmd, "ping")) {
                reply_ok(NULL);

        } else if (!strcmp(cmd, "help")) {
                reply_ok("%s", HELP);

        } else if (!strcmp(cmd, "quit") || !strcmp(cmd, "exit")) {
                reply_ok(NULL);
                return 1;

        } else if (!strcmp(cmd, "bootstrap")) {
                reply_ok("%s", rd_kafka_mock_cluster_bootstraps(mcluster));

        } else if (!strcmp(cmd, "topic")) {
                long rf = 1;
                if (argc != 3 && argc != 4) {
                        reply_err("usage: topic <name> <partitions> [replication]");
                        return 0;
                }
                if (parse_long(argv[2], 1, 100000, &v)) {
                        reply_err("invalid partition count '%s'", argv[2]);
                        return 0;
                }
                if (argc == 4 && parse_long(argv[3], 1, broker_cnt, &rf)) {
                        reply_err("invalid replication factor '%s' (1..%d)",
                                  argv[3], broker_cnt);
                        return 0;
                }
                err = rd_kafka_mock_topic_create(mcluster, argv[1], (int)v,
                                                 (int)rf);
                reply_err_code(err, "topic_create");

        } else if (!strcmp(cmd, "push_errors")) {
                rd_kafka_resp_err_t errs[MAX_ARGS];
                int i;
                NEED_MIN(3, "push_errors <apikey> <err> [err ...]");
                if (parse_apikey(argv[1], &apikey)) {
                        reply_err("invalid apikey '%s'", argv[1]);
                        return 0;
                }
                for (i = 2; i < argc; i++) {
                        if (parse_err(argv[i], &errs[i - 2])) {
                                reply_err("invalid error code '%s'", argv[i]);
                                return 0;
                        }
                }
                rd_kafka_mock_push_request_errors_array(mcluster, apikey,
                                                        (size_t)(argc - 2), errs);
                reply_ok(NULL);

        } else if (!strcmp(cmd, "broker_push_errors")) {
                rd_kafka_resp_err_t errs[MAX_ARGS];
                int rtts[MAX_ARGS];
                int i, n;
                NEED_MIN(4, "broker_push_errors <brokerid> <apikey> "
                            "<err>[:<rtt_ms>] ...");
                if (parse_broker(argv[1], 0, &bid)) {
                        reply_err("invalid broker id '%s'", argv[1]);
                        return 0;
                }
                if (parse_apikey(argv[2], &apikey)) {
                        reply_err("invalid apikey '%s'", argv[2]);
                        return 0;
                }
                n = argc - 3;
                for (i = 0; i < n; i++) {
                        char *tok   = argv[3 + i];
                        char *colon = strchr(tok, ':');
                        rtts[i]     = 0;
                        if (colon) {
                                *colon = '\0';
                                if (parse_long(colon + 1, 0, INT_MAX, &v)) {
                                        reply_err("invalid rtt '%s'", colon + 1);
                                        return 0;
                                }
                                rtts[i] = (int)v;
                        }
                        if (parse_err(tok, &errs[i])) {
                                reply_err("invalid error code '%s'", tok);
                                return 0;
                        }
                }
                /* Only a varargs variant exists in 2.0.2; the stack is FIFO
                 * and appended to, so pushing one tuple at a time is
                 * equivalent to pushing them all at once. */
                for (i = 0; i < n; i++) {
                        err = rd_kafka_mock_broker_push_request_error_rtts(
                            mcluster, bid, apikey, 1, errs[i], rtts[i]);
                        if (err) {
                                reply_err_code(err, "broker_push_request_error_rtts");
                                return 0;
                        }
                }
                reply_ok(NULL);

        } else if (!strcmp(cmd, "error_stack_cnt")) {
                size_t cnt = 0;
                NEED(3, "error_stack_cnt <brokerid> <apikey>");
                if (parse_broker(argv[1], 0, &bid) ||
                    parse_apikey(argv[2], &apikey)) {
                        reply_err("invalid broker id or apikey");
                        return 0;
                }
                err = rd_kafka_mock_broker_error_stack_cnt(mcluster, bid,
                                                           apikey, &cnt);
                if (err)
                        reply_err_code(err, "broker_error_stack_cnt");
                else
                        reply_ok("%zu", cnt);

        } else if (!strcmp(cmd, "clear_errors")) {
                if (argc == 1) {
                        int16_t k;
                        for (k = 0; k < 100; k++)
                                rd_kafka_mock_clear_request_errors(mcluster, k);
                } else {
                        NEED(2, "clear_errors [apikey]");
                        if (parse_apikey(argv[1], &apikey)) {
                                reply_err("invalid apikey '%s'", argv[1]);
                                return 0;
                        }
                        rd_kafka_mock_clear_request_errors(mcluster, apikey);
                }
                reply_ok(NULL);

        } else if (!strcmp(cmd, "topic_error")) {
                NEED(3, "topic_error <topic> <err>");
                if (parse_err(argv[2], &err)) {
                        reply_err("invalid error code '%s'", argv[2]);
                        return 0;
                }
                rd_kafka_mock_topic_set_error(mcluster, argv[1], err);
                reply_ok(NULL);

        } else if (!strcmp(cmd, "broker_down") || !strcmp(cmd, "broker_up")) {
                NEED(2, "broker_down|broker_up <brokerid|-1>");
                if (parse_broker(argv[1], 1, &bid) || bid > broker_cnt) {
                        reply_err("invalid broker id '%s' (1..%d or -1)",
                                  argv[1], broker_cnt);
                        return 0;
                }
                err = cmd[7] == 'd' ? rd_kafka_mock_broker_set_down(mcluster, bid)
                                    : rd_kafka_mock_broker_set_up(mcluster, bid);
                reply_err_code(err, cmd);

        } else if (!strcmp(cmd, "rtt")) {
                NEED(3, "rtt <brokerid|-1> <ms>");
                if (parse_broker(argv[1], 1, &bid) ||
                    parse_long(argv[2], 0, INT_MAX, &v)) {
                        reply_err("invalid broker id or rtt");
                        return 0;
                }
                err = rd_kafka_mock_broker_set_rtt(mcluster, bid, (int)v);
                reply_err_code(err, "broker_set_rtt");

        } else if (!strcmp(cmd, "rack")) {
                NEED(3, "rack <brokerid|-1> <rack>");
                if (parse_broker(argv[1], 1, &bid)) {
                        reply_err("invalid broker id '%s'", argv[1]);
                        return 0;
                }
                err = rd_kafka_mock_broker_set_rack(mcluster, bid, argv[2]);
                reply_err_code(err, "broker_set_rack");

        } else if (!strcmp(cmd, "leader") || !strcmp(cmd, "follower")) {
                int is_leader = cmd[0] == 'l';
                NEED(4, "leader|follower <topic> <partition> <brokerid>");
                if (parse_long(argv[2], 0, INT32_MAX, &v) ||
                    parse_long(argv[3], -1, INT32_MAX, &v2)) {
                        reply_err("invalid partition or broker id");
                        return 0;
                }
                if (is_leader && v2 > broker_cnt) {
                        reply_err("invalid broker id %ld (1..%d or -1)", v2,
                                  broker_cnt);
                        return 0;
                }
                err = is_leader ? rd_kafka_mock_partition_set_leader(
                                      mcluster, argv[1], (int32_t)v, (int32_t)v2)
                                : rd_kafka_mock_partition_set_follower(
                                      mcluster, argv[1], (int32_t)v, (int32_t)v2);
                reply_err_code(err, cmd);

        } else if (!strcmp(cmd, "follower_wmarks")) {
                NEED(5, "follower_wmarks <topic> <partition> <lo> <hi>");
                if (parse_long(argv[2], 0, INT32_MAX, &v) ||
                    parse_ll(argv[3], &ll1) || parse_ll(argv[4], &ll2)) {
                        reply_err("invalid partition or offsets");
                        return 0;
                }
                err = rd_kafka_mock_partition_set_follower_wmarks(
                    mcluster, argv[1], (int32_t)v, ll1, ll2);
                reply_err_code(err, "partition_set_follower_wmarks");

        } else if (!strcmp(cmd, "coordinator")) {
                NEED(4, "coordinator <transaction|group> <key> <brokerid>");
                if (strcmp(argv[1], "transaction") && strcmp(argv[1], "group")) {
                        reply_err("key type must be 'transaction' or 'group'");
                        return 0;
                }
                if (parse_long(argv[3], -1, INT32_MAX, &v)) {
                        reply_err("invalid broker id '%s'", argv[3]);
                        return 0;
                }
                err = rd_kafka_mock_coordinator_set(mcluster, argv[1], argv[2],
                                                    (int32_t)v);
                reply_err_code(err, "coordinator_set");

        } else if (!strcmp(cmd, "apiversion")) {
                NEED(4, "apiversion <apikey> <min> <max>");
                if (parse_apikey(argv[1], &apikey) ||
                    parse_long(argv[2], -1, INT16_MAX, &v) ||
                    parse_long(argv[3], -1, INT16_MAX, &v2)) {
                        reply_err("invalid apikey or version");
                        return 0;
                }
                err = rd_kafka_mock_set_apiversion(mcluster, apikey, (int16_t)v,
                                                   (int16_t)v2);
                reply_err_code(err, "set_apiversion");

        } else {
                reply_err("unknown command '%s' (try: help)", cmd);
        }
        return 0;
}

int main(int argc, char **argv) {
        char errstr[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        char *line  = NULL;
        size_t cap  = 0;
        ssize_t len;
        long n      = 1;
        const char *dbg = getenv("MOCKCLUSTER_DEBUG");

        if (argc > 2 || (argc == 2 && parse_long(argv[1], 1, 64, &n))) {
                fprintf(stderr, "usage: %s <nbrokers 1..64>\n", argv[0]);
                return 2;
        }
        broker_cnt = (int)n;

        /* The mock cluster needs an rd_kafka_t for its bookkeeping; a
         * producer handle that never produces is the documented way. */
        conf = rd_kafka_conf_new();
        /* Silence the "No bootstrap.servers configured" notice for this
         * bookkeeping handle unless debugging was asked for. */
        if (!(dbg && *dbg))
                rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
        if (dbg && *dbg &&
            rd_kafka_conf_set(conf, "debug", dbg, errstr, sizeof(errstr))) {
                fprintf(stderr, "mockcluster: %s\n", errstr);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "mockcluster: rd_kafka_new failed: %s\n", errstr);
                return 1;
        }

        /* Mock brokers listen on 127.0.0.1 (INADDR_LOOPBACK), port 0. */
        mcluster = rd_kafka_mock_cluster_new(rk, broker_cnt);
        if (!mcluster) {
                fprintf(stderr, "mockcluster: rd_kafka_mock_cluster_new failed\n");
                rd_kafka_destroy(rk);
                return 1;
        }

        printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
        fflush(stdout);

        while ((len = getline(&line, &cap, stdin)) != -1) {
                char *args[MAX_ARGS + 1];
                int nargs = 0;
                char *save = NULL, *tok;

                for (tok = strtok_r(line, " \t\r\n", &save); tok;
                     tok = strtok_r(NULL, " \t\r\n", &save)) {
                        if (nargs == MAX_ARGS)
                                break;
                        args[nargs++] = tok;
                }
                if (nargs == 0) {
                        reply_err("empty command");
                        continue;
                }
                if (nargs == MAX_ARGS && tok) {
                        reply_err("too many arguments (max %d)", MAX_ARGS - 1);
                        continue;
                }
                if (handle(nargs, args))
                        break;
        }

        free(line);
        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 0;
}
