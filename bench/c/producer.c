/*
 * librdkafka's C producer as the native ceiling of the benchmark.
 *
 *   producer --bootstrap H:P --topic T --records N --value-bytes B
 *            --acks 1|all --idempotence off|default
 *            --mode throughput|bounded|latency|transactional
 *            [--max-outstanding 1000] [--warmup N] [--rate 5000]
 *            [--linger 5] [--keys N --partitions P] [-X key=value ...]
 *            [--transaction-records N --transactional-id ID]
 *
 * Prints one line "BENCH_RESULT {json}" on stdout (the same fields as the
 * Node runners in bench/clients/).  Settings: linger.ms=5 (0 for latency),
 * batch.size=1000000, batch.num.messages=10000,
 * queue.buffering.max.messages=1000000, socket.nagle.disable=true; values are
 * one static buffer passed without RD_KAFKA_MSG_F_COPY (librdkafka's zero-copy
 * path, valid because the buffer outlives every message).
 *
 * --keys N (scenario 6): record i carries the key "key-<i mod N>", placed by the
 * partitioner (the bench sets -X partitioner=murmur2_random, Java's placement);
 * librdkafka always copies keys.  --partitions P: the topic's partition count;
 * after the run the producer's metadata must show P partitions, or the run
 * counts an error.
 *
 * --mode transactional (scenario 7): transactional.id ID (librdkafka then turns
 * idempotence on), rd_kafka_init_transactions() before the clock starts, then
 * rd_kafka_begin_transaction(), N produce calls, rd_kafka_commit_transaction()
 * (which flushes and waits for the commit), repeated, with --keys as in the
 * other modes.  A failed call counts an error and ends the run.
 *
 * Pacing in the latency mode is the same as the Node runners': every ~1 ms
 * tick sends the records due at --rate per second; latency is measured from
 * rd_kafka_producev() to the delivery report (CLOCK_MONOTONIC).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

static long long sent_cnt, acked_cnt, err_cnt;
static char first_error[512];
static double *starts;     /* per record send time (latency mode) */
static double *lat;        /* per measured record latency (ms) */
static long long warmup;

/* A failure: count it, and keep the first one's message for the result line. */
__attribute__((format(printf, 1, 2))) static void count_error(const char *fmt, ...) {
        err_cnt++;
        if (first_error[0])
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(first_error, sizeof(first_error), fmt, ap);
        va_end(ap);
}

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        if (m->err) {
                count_error("%s", rd_kafka_err2str(m->err));
                return;
        }
        acked_cnt++;
        if (lat) {
                long long i = (long long)(intptr_t)m->_private;
                if (i >= warmup)
                        lat[i - warmup] = now_ms() - starts[i];
        }
}

static void die(const char *fmt, const char *arg) {
        fprintf(stderr, "producer: ");
        fprintf(stderr, fmt, arg);
        fputc('\n', stderr);
        exit(2);
}

static void set(rd_kafka_conf_t *conf, const char *k, const char *v) {
        char err[512];
        if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
                die("%s", err);
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static void json_escape(const char *s, char *out, size_t n) {
        size_t j = 0;
        for (; *s && j + 2 < n; s++) {
                if (*s == '"' || *s == '\\')
                        out[j++] = '\\';
                out[j++] = (*s == '\n') ? ' ' : *s;
        }
        out[j] = 0;
}

/* A failed transactional call: count it, keep the first message, and free the error. */
static int txn_failed(const char *what, rd_kafka_error_t *error) {
        if (!error)
                return 0;
        count_error("%s: %s", what, rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        return 1;
}

/* --keys: "key-<k>" for k < nkeys, built before the clock starts, KEY_STRIDE bytes apart. */
#define KEY_STRIDE 24

/* What every produce call of the throughput, bounded and transactional modes sends. */
struct load {
        rd_kafka_t *rk;
        const char *topic;
        char *value; /* zero-copy: outlives every message */
        size_t value_bytes;
        const char *keys; /* NULL: no keys */
        const int *key_len;
        long long nkeys;
        long long max_out; /* at most this many records outstanding; 0: no bound */
};

/*
 * Produces records [from, to): record i with key "key-<i mod nkeys>" when there
 * are keys, waiting (serving delivery reports) while the queue is full or
 * max_out records are outstanding. A produce call that fails otherwise counts
 * an error. Delivery reports are also served every 1024 records.
 */
static void produce_range(const struct load *l, long long from, long long to) {
        for (long long i = from; i < to; i++) {
                if (l->max_out > 0)
                        while (sent_cnt - acked_cnt - err_cnt >= l->max_out)
                                rd_kafka_poll(l->rk, 1);
                const char *key = l->keys ? l->keys + (i % l->nkeys) * KEY_STRIDE : NULL;
                size_t klen = l->keys ? (size_t)l->key_len[i % l->nkeys] : 0;
                for (;;) {
                        rd_kafka_resp_err_t err = rd_kafka_producev(l->rk, RD_KAFKA_V_TOPIC(l->topic), RD_KAFKA_V_KEY(key, klen),
                                                                    RD_KAFKA_V_VALUE(l->value, l->value_bytes), RD_KAFKA_V_END);
                        if (!err)
                                break;
                        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                                count_error("produce: %s", rd_kafka_err2str(err));
                                break;
                        }
                        rd_kafka_poll(l->rk, 1);
                }
                sent_cnt++;
                if ((i & 1023) == 1023)
                        rd_kafka_poll(l->rk, 0);
        }
}

int main(int argc, char **argv) {
        const char *bootstrap = NULL, *topic = NULL, *acks = "1", *idem = "off", *mode = "throughput";
        long long records = 0, max_out = 1000, rate = 5000, nkeys = 0, partitions = 0, txn_records = 0;
        const char *txn_id = NULL;
        int value_bytes = 100, linger = 5;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[512], buf[32];

        const char *overrides[64];
        int n_overrides = 0;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (!v)
                        die("missing value for %s", a);
                if (!strcmp(a, "--bootstrap")) bootstrap = v;
                else if (!strcmp(a, "--topic")) topic = v;
                else if (!strcmp(a, "--records")) records = atoll(v);
                else if (!strcmp(a, "--value-bytes")) value_bytes = atoi(v);
                else if (!strcmp(a, "--acks")) acks = v;
                else if (!strcmp(a, "--idempotence")) idem = v;
                else if (!strcmp(a, "--mode")) mode = v;
                else if (!strcmp(a, "--max-outstanding")) max_out = atoll(v);
                else if (!strcmp(a, "--warmup")) warmup = atoll(v);
                else if (!strcmp(a, "--rate")) rate = atoll(v);
                else if (!strcmp(a, "--linger")) linger = atoi(v);
                else if (!strcmp(a, "--keys")) nkeys = atoll(v);
                else if (!strcmp(a, "--partitions")) partitions = atoll(v);
                else if (!strcmp(a, "--transaction-records")) txn_records = atoll(v);
                else if (!strcmp(a, "--transactional-id")) txn_id = v;
                else if (!strcmp(a, "-X")) {
                        /* applied after the defaults below, so they can override them */
                        if (n_overrides == 64)
                                die("%s", "too many -X");
                        overrides[n_overrides++] = v;
                } else
                        die("unknown argument %s", a);
                i++;
        }
        if (!bootstrap || !topic || records <= 0)
                die("%s", "need --bootstrap, --topic and --records");

        set(conf, "bootstrap.servers", bootstrap);
        set(conf, "client.id", "bench-c");
        snprintf(buf, sizeof(buf), "%d", linger);
        set(conf, "linger.ms", buf);
        set(conf, "batch.size", "1000000");
        set(conf, "batch.num.messages", "10000");
        set(conf, "queue.buffering.max.messages", "1000000");
        set(conf, "queue.buffering.max.kbytes", "1048576");
        set(conf, "compression.codec", "none");
        set(conf, "socket.nagle.disable", "true");
        set(conf, "acks", !strcmp(acks, "all") ? "-1" : acks);
        int is_txn = !strcmp(mode, "transactional");
        if (is_txn) {
                if (!txn_id || txn_records <= 0)
                        die("%s", "--mode transactional needs --transactional-id and --transaction-records");
                set(conf, "transactional.id", txn_id);
        } else if (!strcmp(idem, "off"))
                set(conf, "enable.idempotence", "false");
        for (int k = 0; k < n_overrides; k++) {
                char *kv = strdup(overrides[k]), *eq = strchr(kv, '=');
                if (!eq)
                        die("-X needs key=value, got %s", overrides[k]);
                *eq = 0;
                set(conf, kv, eq + 1);
                free(kv);
        }
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);

        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk)
                die("rd_kafka_new: %s", errstr);

        char *value = malloc((size_t)value_bytes);
        memset(value, 'x', (size_t)value_bytes);
        long long total = records + warmup;
        char *keys = NULL;
        int *key_len = NULL;
        if (nkeys > 0) {
                keys = malloc((size_t)nkeys * KEY_STRIDE);
                key_len = malloc((size_t)nkeys * sizeof(int));
                for (long long k = 0; k < nkeys; k++)
                        key_len[k] = snprintf(keys + k * KEY_STRIDE, KEY_STRIDE, "key-%lld", k);
        }
        int is_latency = !strcmp(mode, "latency");
        if (is_latency) {
                starts = calloc((size_t)total, sizeof(double));
                lat = calloc((size_t)records, sizeof(double));
        }

        struct load load = {rk, topic, value, (size_t)value_bytes, keys, key_len, nkeys, 0};
        if (is_txn && txn_failed("init_transactions", rd_kafka_init_transactions(rk, 60000)))
                txn_records = 0; /* nothing is sent */
        double t0 = now_ms();
        if (is_txn) {
                for (long long i = 0; i < total && txn_records > 0;) {
                        if (txn_failed("begin_transaction", rd_kafka_begin_transaction(rk)))
                                break;
                        long long end = i + txn_records < total ? i + txn_records : total;
                        produce_range(&load, i, end);
                        i = end;
                        /* Flushes the transaction's messages (serving delivery reports) and waits for EndTxn(commit). */
                        if (txn_failed("commit_transaction", rd_kafka_commit_transaction(rk, -1))) {
                                /* Fail what is still queued or in flight (delivery reports with errors), so the
                                 * wait below does not last until message.timeout.ms. */
                                rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
                                break;
                        }
                }
        } else if (!strcmp(mode, "throughput") || !strcmp(mode, "bounded")) {
                if (!strcmp(mode, "bounded"))
                        load.max_out = max_out;
                produce_range(&load, 0, total);
        } else if (is_latency) {
                long long i = 0;
                while (i < total) {
                        double t = now_ms();
                        long long due = (long long)((t - t0) * (double)rate / 1000.0) + 1;
                        if (due > total)
                                due = total;
                        for (; i < due; i++) {
                                starts[i] = now_ms();
                                rd_kafka_resp_err_t err = rd_kafka_producev(
                                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(value, (size_t)value_bytes),
                                    RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END);
                                if (err)
                                        count_error("produce: %s", rd_kafka_err2str(err));
                                sent_cnt++;
                        }
                        /* Serve delivery reports until the next ~1 ms tick. */
                        double next = t + 1.0;
                        do
                                rd_kafka_poll(rk, 1);
                        while (now_ms() < next);
                }
        } else
                die("unknown --mode %s", mode);

        while (sent_cnt - acked_cnt - err_cnt > 0) {
                rd_kafka_resp_err_t ferr = rd_kafka_flush(rk, 1000);
                if (ferr && ferr != RD_KAFKA_RESP_ERR__TIMED_OUT)
                        break;
                if (now_ms() - t0 > 600000)
                        break;
        }
        double t_end = now_ms();
        double elapsed = is_latency && warmup > 0 ? t_end - starts[warmup] : t_end - t0;

        /* --partitions: the topic's partition count as this producer's metadata has it (after the clock). */
        int seen_partitions = -1;
        if (partitions > 0) {
                rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
                const struct rd_kafka_metadata *md = NULL;
                if (rkt && rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1)
                        seen_partitions = md->topics[0].partition_cnt;
                if (md)
                        rd_kafka_metadata_destroy(md);
                if (rkt)
                        rd_kafka_topic_destroy(rkt);
                if (seen_partitions != partitions)
                        count_error("metadata shows %d partitions, expected %lld", seen_partitions, partitions);
        }

        char esc[600];
        json_escape(first_error, esc, sizeof(esc));
        printf("BENCH_RESULT {\"client\":\"librdkafka C\",\"version\":\"%s\",\"sent\":%lld,\"acked\":%lld,"
               "\"errors\":%lld,\"firstError\":%s%s%s,\"elapsedMs\":%.3f,\"partitions\":%d,\"latency\":",
               rd_kafka_version_str(), sent_cnt, acked_cnt, err_cnt, first_error[0] ? "\"" : "",
               first_error[0] ? esc : "null", first_error[0] ? "\"" : "", elapsed, seen_partitions);
        if (is_latency && records > 0) {
                qsort(lat, (size_t)records, sizeof(double), cmp_double);
                double sum = 0;
                for (long long i = 0; i < records; i++)
                        sum += lat[i];
#define PCT(p) lat[(long long)((p) * (double)records + 0.999999) - 1 < 0 ? 0 : (long long)((p) * (double)records + 0.999999) - 1]
                printf("{\"count\":%lld,\"p50\":%.4f,\"p99\":%.4f,\"p999\":%.4f,\"max\":%.4f,\"mean\":%.4f}}\n", records,
                       PCT(0.5), PCT(0.99), PCT(0.999), lat[records - 1], sum / (double)records);
        } else
                printf("null}\n");
        fflush(stdout);
        rd_kafka_destroy(rk);
        free(value);
        free(keys);
        free(key_len);
        return 0;
}
