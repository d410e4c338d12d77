/*
 * Throughput of one icdapi client shared by T threads: TOTAL GETs of distinct entities split
 * evenly between the threads, cache off (cache_entries = 0).
 *
 *   icdapi_threads TOTAL THREADS BASE_URL
 *
 * One GET before the clock starts fetches the token (and opens one connection). The threads then
 * start together at a barrier; the time runs from the barrier to the last join.
 * Prints one line of key=value pairs.
 */
#include <pthread.h>

#include "bench_common.h"
#include "icdapi.h"

static IcdClient *client;
static pthread_barrier_t start_line;
static long per_thread;

static void die(const char *what) {
    fprintf(stderr, "icdapi_threads: %s failed: code %d, http %d: %s\n", what, (int)icd_last_error_code(),
            icd_last_http_status(), icd_last_error_message());
    exit(1);
}

static void *worker(void *arg) {
    long first = FIRST_ENTITY_ID + 1 + (long)(size_t)arg * per_thread;
    char path[128];
    pthread_barrier_wait(&start_line);
    for (long i = 0; i < per_thread; i++) {
        snprintf(path, sizeof path, ENTITY_PATH_FMT, first + i);
        char *body = icd_get(client, path);
        if (!body) die("icd_get");
        icd_free_string(body);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s TOTAL THREADS BASE_URL\n", argv[0]);
        return 2;
    }
    long total = parse_count(argv[1], "TOTAL");
    long threads = parse_count(argv[2], "THREADS");
    const char *base = argv[3];
    if (threads < 1 || threads > 256) return 2;
    per_thread = total / threads;
    char token_endpoint[512];
    snprintf(token_endpoint, sizeof token_endpoint, "%s/connect/token", base);

    client = icd_client_new("bench", "bench");
    if (!client) die("icd_client_new");
    if (icd_client_set_option(client, "api_base", base) != ICD_OK) die("api_base");
    if (icd_client_set_option(client, "token_endpoint", token_endpoint) != ICD_OK) die("token_endpoint");
    if (icd_client_set_option(client, "cache_entries", "0") != ICD_OK) die("cache_entries");
    char path[128];
    snprintf(path, sizeof path, ENTITY_PATH_FMT, FIRST_ENTITY_ID);
    char *body = icd_get(client, path); /* the token, outside the clock */
    if (!body) die("icd_get (warm-up)");
    icd_free_string(body);

    pthread_t ids[256];
    pthread_barrier_init(&start_line, NULL, (unsigned)threads + 1);
    for (long t = 0; t < threads; t++) {
        if (pthread_create(&ids[t], NULL, worker, (void *)(size_t)t) != 0) die("pthread_create");
    }
    double cpu0 = cpu_us(), t0 = now_us();
    pthread_barrier_wait(&start_line);
    for (long t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    double wall = now_us() - t0, cpu = cpu_us() - cpu0;
    long done = per_thread * threads;
    printf("client=icdapi_threads threads=%ld requests=%ld wall_us=%.0f cpu_us=%.0f rps=%.0f hwm_kib=%ld\n", threads,
           done, wall, cpu, (double)done / (wall / 1e6), vm_hwm_kib());
    pthread_barrier_destroy(&start_line);
    icd_client_free(client);
    return 0;
}
