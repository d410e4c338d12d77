/*
 * The benchmark job done with icdapi: one token, then N GETs of distinct entities.
 *
 *   icdapi_client N BASE_URL [MODE]
 *
 * MODE:
 *   nocache  (default) option cache_entries = 0; N GETs of distinct URLs
 *   cache    the cache at its default (1024 entries); N GETs of distinct URLs, so it never hits
 *            but fills to its bound and evicts
 *   hit      the cache at its default; one GET fills it, then N GETs of that same URL, each
 *            icd_get + icd_free_string timed alone with clock_gettime
 *   perclient N GETs, each by a client of its own (created, set up, used once and freed), as a
 *            PHP page does; cache off
 *
 * Environment: BENCH_CA_FILE sets the option ca_file (TLS with a CA made for the run);
 * BENCH_TOKEN_BASE puts the token endpoint on another origin than BASE_URL (as WHO's is).
 *
 * Prints one line of key=value pairs: wall_us and cpu_us cover the job only (client creation,
 * token, requests; not process start-up), hwm_kib is VmHWM at the end.
 */
#include "bench_common.h"
#include "icdapi.h"

static void die(const char *what) {
    fprintf(stderr, "icdapi_client: %s failed: code %d, http %d: %s\n", what, (int)icd_last_error_code(),
            icd_last_http_status(), icd_last_error_message());
    exit(1);
}

static void set(IcdClient *client, const char *name, const char *value) {
    if (icd_client_set_option(client, name, value) != ICD_OK) die(name);
}

/* A client set up as every mode wants it. */
static IcdClient *new_client(const char *base, const char *token_endpoint, int cache) {
    IcdClient *client = icd_client_new("bench", "bench");
    if (!client) die("icd_client_new");
    set(client, "api_base", base);
    set(client, "token_endpoint", token_endpoint);
    set(client, "language", "en");
    set(client, "api_version", "v2");
    const char *ca_file = getenv("BENCH_CA_FILE");
    if (ca_file && *ca_file) set(client, "ca_file", ca_file);
    if (!cache) set(client, "cache_entries", "0");
    return client;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s N BASE_URL [nocache|cache|hit|perclient]\n", argv[0]);
        return 2;
    }
    long n = parse_count(argv[1], "N");
    const char *base = argv[2];
    const char *mode = argc > 3 ? argv[3] : "nocache";
    int hit = strcmp(mode, "hit") == 0, perclient = strcmp(mode, "perclient") == 0;
    if (!hit && !perclient && strcmp(mode, "nocache") != 0 && strcmp(mode, "cache") != 0) {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    char token_endpoint[512], path[128];
    const char *token_base = getenv("BENCH_TOKEN_BASE");
    snprintf(token_endpoint, sizeof token_endpoint, "%s/connect/token", token_base && *token_base ? token_base : base);

    double cpu0 = cpu_us(), t0 = now_us();
    size_t bytes = 0;
    if (perclient) {
        for (long i = 0; i < n; i++) {
            IcdClient *client = new_client(base, token_endpoint, 0);
            snprintf(path, sizeof path, ENTITY_PATH_FMT, FIRST_ENTITY_ID + i);
            char *body = icd_get(client, path);
            if (!body) die("icd_get");
            bytes += strlen(body);
            icd_free_string(body);
            icd_client_free(client);
        }
        double wall = now_us() - t0, cpu = cpu_us() - cpu0;
        printf("client=icdapi mode=%s requests=%ld wall_us=%.0f cpu_us=%.0f bytes=%zu hwm_kib=%ld\n", mode, n, wall,
               cpu, bytes, vm_hwm_kib());
        return 0;
    }
    IcdClient *client = new_client(base, token_endpoint, strcmp(mode, "nocache") != 0);
    if (!hit) {
        for (long i = 0; i < n; i++) {
            snprintf(path, sizeof path, ENTITY_PATH_FMT, FIRST_ENTITY_ID + i);
            char *body = icd_get(client, path);
            if (!body) die("icd_get");
            bytes += strlen(body);
            icd_free_string(body);
        }
        double wall = now_us() - t0, cpu = cpu_us() - cpu0;
        printf("client=icdapi mode=%s requests=%ld wall_us=%.0f cpu_us=%.0f bytes=%zu hwm_kib=%ld\n", mode, n, wall,
               cpu, bytes, vm_hwm_kib());
    } else {
        snprintf(path, sizeof path, ENTITY_PATH_FMT, FIRST_ENTITY_ID);
        char *body = icd_get(client, path); /* the miss that fills the cache */
        if (!body) die("icd_get");
        icd_free_string(body);
        long long *ns = malloc(sizeof *ns * (size_t)(n > 0 ? n : 1));
        if (!ns) return 1;
        long long all0 = now_ns();
        for (long i = 0; i < n; i++) {
            long long a = now_ns();
            body = icd_get(client, path);
            if (!body) die("icd_get (cache hit)");
            icd_free_string(body);
            ns[i] = now_ns() - a;
        }
        long long all = now_ns() - all0;
        /* The cost of clock_gettime itself, to subtract nothing but to report next to it. */
        long long c0 = now_ns();
        for (int i = 0; i < 100000; i++) (void)now_ns();
        double clock_ns = (double)(now_ns() - c0) / 100000.0;
        qsort(ns, (size_t)n, sizeof *ns, cmp_ll);
        if (n > 0) {
            printf("client=icdapi mode=hit requests=%ld median_ns=%lld p99_ns=%lld min_ns=%lld mean_ns=%.0f "
                   "clock_ns=%.0f hwm_kib=%ld\n",
                   n, ns[n / 2], ns[(n * 99) / 100], ns[0], (double)all / (double)n, clock_ns, vm_hwm_kib());
        }
        free(ns);
    }
    icd_client_free(client);
    return 0;
}
