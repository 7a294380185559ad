// The floor for NATSKit's benchmark: the same operations made directly with cnats 3.4.1, against
// the same server, in the same run. Prints one JSON object per line:
//   {"op":"js_publish","count":N,"seconds":S,"rate":R}
//   {"op":"request_reply","count":N,"seconds":S,"rate":R,"p50_us":A,"p99_us":B}
// Usage: raw_cnats URL COUNT
//
// Second use, the latency floor under load: raw_cnats URL sample SUBJECT QUERY
// answers "raw.echo" itself in a cnats callback (as the floor above) and, until SIGTERM, asks
// alternately SUBJECT with QUERY and raw.echo with a payload of the same size, serially, 1 ms
// apart; then prints one line per subject:
//   {"op":"sample","subject":S,"count":N,"p50_us":A,"p99_us":B,"failures":F}
// Both are asked by the same client in the same moments, so they see the same load.
// Built by factory-bench (cc raw_cnats.c -lnats); not part of the product.
#include <nats/nats.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void) { return nats_NowInNanoSeconds(); }

static void check(natsStatus s, const char *what) {
    if (s != NATS_OK) {
        fprintf(stderr, "raw_cnats: %s failed: %s (%s)\n", what, natsStatus_GetText(s), nats_GetLastError(NULL));
        exit(1);
    }
}

static void report(const char *op, int count, int64_t elapsed) {
    double seconds = (double) elapsed / 1e9;
    printf("{\"op\":\"%s\",\"count\":%d,\"seconds\":%.6f,\"rate\":%.1f}\n", op, count, seconds, count / seconds);
    fflush(stdout);
}

static int compare_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

static void make_stream(jsCtx *js, const char *name, const char *subject) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = name;
    config.Subjects = (const char *[1]){subject};
    config.SubjectsLen = 1;
    config.Retention = js_WorkQueuePolicy;
    config.Storage = js_FileStorage;
    jsStreamInfo *info = NULL;
    jsErrCode err = 0;
    check(js_AddStream(&info, js, &config, NULL, &err), "js_AddStream");
    jsStreamInfo_Destroy(info);
}

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void) sub; (void) closure;
    natsConnection_Publish(nc, natsMsg_GetReply(msg), natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

// The raw floor's responder: a connection of its own with SendAsap, answering raw.echo inside the
// cnats callback.
typedef struct {
    natsOptions *options;
    natsConnection *connection;
    natsSubscription *subscription;
} echo_responder;

static echo_responder start_echo_responder(const char *url) {
    echo_responder echo = {NULL, NULL, NULL};
    check(natsOptions_Create(&echo.options), "options");
    check(natsOptions_SetURL(echo.options, url), "url");
    check(natsOptions_SetSendAsap(echo.options, true), "sendasap");
    check(natsConnection_Connect(&echo.connection, echo.options), "responder connect");
    check(natsConnection_QueueSubscribe(&echo.subscription, echo.connection, "raw.echo", "echo", on_request, NULL), "responder subscribe");
    check(natsConnection_Flush(echo.connection), "flush");
    return echo;
}

static void stop_echo_responder(echo_responder *echo) {
    natsSubscription_Destroy(echo->subscription);
    natsConnection_Destroy(echo->connection);
    natsOptions_Destroy(echo->options);
}

static volatile sig_atomic_t stopping = 0;
static void on_term(int signal) { (void) signal; stopping = 1; }

static void print_sample(const char *subject, int64_t *latencies, int count, int failures) {
    qsort(latencies, (size_t) count, sizeof(int64_t), compare_i64);
    printf("{\"op\":\"sample\",\"subject\":\"%s\",\"count\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f,\"failures\":%d}\n", subject, count,
           count ? latencies[count / 2] / 1e3 : 0.0, count ? latencies[(count * 99) / 100] / 1e3 : 0.0, failures);
}

static int sample(const char *url, const char *subject, const char *query) {
    // A child inherits its parent thread's blocked signals (Swift's Process spawns from a thread
    // that blocks them): unblock before cnats starts its threads, which inherit this mask.
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGINT);
    sigprocmask(SIG_UNBLOCK, &wanted, NULL);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    echo_responder responder = start_echo_responder(url);
    natsConnection *nc = NULL;
    check(natsConnection_Connect(&nc, responder.options), "connect");
    size_t size = strlen(query);
    char *echo = malloc(size);
    memset(echo, 'x', size);
    int capacity = 1 << 20, counts[2] = {0, 0}, failures[2] = {0, 0};
    int64_t *latencies[2] = {calloc((size_t) capacity, sizeof(int64_t)), calloc((size_t) capacity, sizeof(int64_t))};
    const char *subjects[2] = {subject, "raw.echo"};
    const char *payloads[2] = {query, echo};
    printf("{\"op\":\"ready\"}\n");
    fflush(stdout);
    struct timespec pause = {0, 1000000};
    for (int turn = 0; !stopping && counts[turn % 2] < capacity; turn++) {
        int which = turn % 2;
        natsMsg *reply = NULL;
        int64_t t0 = now_ns();
        natsStatus status = natsConnection_Request(&reply, nc, subjects[which], payloads[which], (int) size, 2000);
        if (status == NATS_OK) {
            latencies[which][counts[which]++] = now_ns() - t0;
            natsMsg_Destroy(reply);
        } else {
            failures[which]++;
        }
        nanosleep(&pause, NULL);
    }
    print_sample(subject, latencies[0], counts[0], failures[0]);
    print_sample("raw.echo", latencies[1], counts[1], failures[1]);
    fflush(stdout);
    natsConnection_Destroy(nc);
    stop_echo_responder(&responder);
    nats_Close();
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[2], "sample") == 0) return sample(argv[1], argv[3], argv[4]);
    if (argc < 3) { fprintf(stderr, "usage: raw_cnats URL COUNT\n"); return 2; }
    const char *url = argv[1];
    int count = atoi(argv[2]);
    char payload[128];
    memset(payload, 'x', sizeof(payload));
    char id[64];

    natsConnection *nc = NULL;
    check(natsConnection_ConnectTo(&nc, url), "connect");
    jsCtx *js = NULL;
    check(natsConnection_JetStream(&js, nc, NULL), "jetstream");

    // 1. JetStream publish, synchronous, with a message id.
    make_stream(js, "RAWPUB", "raw.pub");
    int64_t start = now_ns();
    for (int i = 0; i < count; i++) {
        jsPubOptions options;
        jsPubOptions_Init(&options);
        snprintf(id, sizeof(id), "m-%d", i);
        options.MsgId = id;
        jsPubAck *ack = NULL;
        check(js_Publish(&ack, js, "raw.pub", payload, sizeof(payload), &options, NULL), "js_Publish");
        jsPubAck_Destroy(ack);
    }
    report("js_publish", count, now_ns() - start);

    // 2. Fetch(100) + Ack, then Fetch(100) + AckSync, from a durable pull consumer.
    int fetchCount = count * 4;
    const char *modes[2] = {"fetch_ack", "fetch_acksync"};
    for (int mode = 0; mode < 2; mode++) {
        char stream[32], subject[32];
        snprintf(stream, sizeof(stream), "RAWFETCH%d", mode);
        snprintf(subject, sizeof(subject), "raw.fetch%d", mode);
        make_stream(js, stream, subject);
        int total = mode == 0 ? fetchCount : count;
        for (int i = 0; i < total; i++) check(js_PublishAsync(js, subject, payload, sizeof(payload), NULL), "js_PublishAsync");
        jsPubOptions complete;
        jsPubOptions_Init(&complete);
        complete.MaxWait = 30000;
        check(js_PublishAsyncComplete(js, &complete), "js_PublishAsyncComplete");
        jsConsumerConfig cc;
        jsConsumerConfig_Init(&cc);
        cc.Durable = "raw";
        cc.AckPolicy = js_AckExplicit;
        jsConsumerInfo *ci = NULL;
        check(js_AddConsumer(&ci, js, stream, &cc, NULL, NULL), "js_AddConsumer");
        jsConsumerInfo_Destroy(ci);
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = stream;
        so.Consumer = "raw";
        natsSubscription *sub = NULL;
        check(js_PullSubscribe(&sub, js, NULL, NULL, NULL, &so, NULL), "js_PullSubscribe");
        int received = 0;
        start = now_ns();
        while (received < total) {
            natsMsgList list = {0};
            natsStatus s = natsSubscription_Fetch(&list, sub, 100, 5000, NULL);
            if (s != NATS_OK && s != NATS_TIMEOUT) check(s, "natsSubscription_Fetch");
            for (int i = 0; i < list.Count; i++) {
                if (mode == 0) check(natsMsg_Ack(list.Msgs[i], NULL), "natsMsg_Ack");
                else check(natsMsg_AckSync(list.Msgs[i], NULL, NULL), "natsMsg_AckSync");
            }
            received += list.Count;
            natsMsgList_Destroy(&list);
        }
        report(modes[mode], total, now_ns() - start);
        natsSubscription_Destroy(sub);
    }

    // 3. KV put, get, update (compare-and-set).
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = "RAWKV";
    kc.History = 1;
    kvStore *kv = NULL;
    check(js_CreateKeyValue(&kv, js, &kc), "js_CreateKeyValue");
    uint64_t *revisions = calloc((size_t) count, sizeof(uint64_t));
    char key[64];
    start = now_ns();
    for (int i = 0; i < count; i++) {
        snprintf(key, sizeof(key), "k.%d", i);
        check(kvStore_Put(&revisions[i], kv, key, payload, sizeof(payload)), "kvStore_Put");
    }
    report("kv_put", count, now_ns() - start);
    start = now_ns();
    for (int i = 0; i < count; i++) {
        snprintf(key, sizeof(key), "k.%d", i);
        kvEntry *entry = NULL;
        check(kvStore_Get(&entry, kv, key), "kvStore_Get");
        kvEntry_Destroy(entry);
    }
    report("kv_get", count, now_ns() - start);
    start = now_ns();
    for (int i = 0; i < count; i++) {
        snprintf(key, sizeof(key), "k.%d", i);
        uint64_t revision = 0;
        check(kvStore_Update(&revision, kv, key, payload, sizeof(payload), revisions[i]), "kvStore_Update");
    }
    report("kv_update", count, now_ns() - start);
    free(revisions);
    kvStore_Destroy(kv);

    // 4. Request-reply: a responder connection with SendAsap, a requester, serial requests.
    echo_responder responder = start_echo_responder(url);
    int64_t *latencies = calloc((size_t) count, sizeof(int64_t));
    for (int i = 0; i < 200; i++) {  // warm up
        natsMsg *reply = NULL;
        check(natsConnection_Request(&reply, nc, "raw.echo", payload, sizeof(payload), 2000), "warm-up request");
        natsMsg_Destroy(reply);
    }
    start = now_ns();
    for (int i = 0; i < count; i++) {
        int64_t t0 = now_ns();
        natsMsg *reply = NULL;
        check(natsConnection_Request(&reply, nc, "raw.echo", payload, sizeof(payload), 2000), "request");
        latencies[i] = now_ns() - t0;
        natsMsg_Destroy(reply);
    }
    int64_t elapsed = now_ns() - start;
    qsort(latencies, (size_t) count, sizeof(int64_t), compare_i64);
    printf("{\"op\":\"request_reply\",\"count\":%d,\"seconds\":%.6f,\"rate\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
           count, elapsed / 1e9, count / (elapsed / 1e9), latencies[count / 2] / 1e3, latencies[(count * 99) / 100] / 1e3);
    free(latencies);
    stop_echo_responder(&responder);

    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return 0;
}
