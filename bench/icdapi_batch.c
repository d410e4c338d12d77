/*
 * Batch against sequential: N distinct lookups done with N icd_get calls one after another, or
 * with one icd_get_many (option concurrency, default 16), against a server that answers each in
 * a fixed time (the stand-in with delay_ms).
 *
 *   icdapi_batch N BASE_URL seq|batch OFFSET
 *
 * OFFSET makes the URLs of one run distinct from every other run's (the cache is off anyway).
 * Environment: BENCH_CA_FILE sets ca_file (TLS), BENCH_CONCURRENCY the option concurrency.
 * Prints: wall_us=... requests=N ok=...
 */
#include "bench_common.h"
#include "icdapi.h"

static const char *const IDS[] = {"257068234", "1439886552", "579583286", "1203794080", "862789727", "135352227"};

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s N BASE_URL seq|batch OFFSET\n", argv[0]);
        return 2;
    }
    long n = parse_count(argv[1], "N"), offset = parse_count(argv[4], "OFFSET");
    const char *base = argv[2];
    int batch = strcmp(argv[3], "batch") == 0;
    char endpoint[512];
    snprintf(endpoint, sizeof endpoint, "%s/connect/token", base);
    IcdClient *client = icd_client_new("standin-client", "standin-secret");
    if (!client || icd_client_set_option(client, "api_base", base) != ICD_OK ||
        icd_client_set_option(client, "token_endpoint", endpoint) != ICD_OK ||
        icd_client_set_option(client, "cache_entries", "0") != ICD_OK) {
        fprintf(stderr, "setup: %s\n", icd_last_error_message());
        return 1;
    }
    const char *ca_file = getenv("BENCH_CA_FILE"), *concurrency = getenv("BENCH_CONCURRENCY");
    if ((ca_file && *ca_file && icd_client_set_option(client, "ca_file", ca_file) != ICD_OK) ||
        (concurrency && *concurrency && icd_client_set_option(client, "concurrency", concurrency) != ICD_OK)) {
        fprintf(stderr, "setup: %s\n", icd_last_error_message());
        return 1;
    }
    char *warm = icd_search(client, "cholera"); /* the token, outside the timing */
    icd_free_string(warm);

    char **paths = calloc((size_t)n, sizeof *paths);
    char **bodies = calloc((size_t)n, sizeof *bodies);
    for (long i = 0; i < n; i++) {
        paths[i] = malloc(96);
        snprintf(paths[i], 96, "/icd/release/11/2026-01/mms/%s?run=%ld", IDS[i % 6], offset + i);
    }
    long ok = 0;
    double start = now_us();
    if (batch) {
        ok = (long)icd_get_many(client, (const char *const *)paths, (size_t)n, bodies, NULL);
    } else {
        for (long i = 0; i < n; i++) {
            bodies[i] = icd_get(client, paths[i]);
            ok += bodies[i] != NULL;
        }
    }
    double wall = now_us() - start;
    for (long i = 0; i < n; i++) {
        icd_free_string(bodies[i]);
        free(paths[i]);
    }
    free(paths);
    free(bodies);
    icd_client_free(client);
    printf("wall_us=%.0f requests=%ld ok=%ld\n", wall, n, ok);
    return ok == n ? 0 : 1;
}
