/* The mapping tables' row of the benchmark: how long WHO-sized tables take to load, how much
 * memory they take, and how long one lookup takes after loading (icd_map_icd10_to_icd11 and
 * icd_map_icd11_to_icd10 through the C ABI, the returned string freed: what a C caller pays).
 *
 *   icdapi_maps MAPPING_TABLES ROWS LOOKUPS
 *
 * The tables are navigation_bench.py's synthetic ones: ICD-10 codes S00000.0 ... and ICD-11
 * codes X0000 ..., ROWS of each. Prints one line of JSON. */
#include <stdint.h>
#include "bench_common.h"
#include "icdapi.h"

static int by_value(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Resident set now (not the peak), in KiB, from /proc/self/statm. */
static long rss_kib(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2) {
        if (f) fclose(f);
        return -1;
    }
    fclose(f);
    return resident * 4;
}

static void check(char *answer, const char *code) {
    if (!answer || answer[0] != '[' || answer[1] != '{') {
        fprintf(stderr, "no rows for %s: %s\n", code, answer ? answer : icd_last_error_message());
        exit(1);
    }
    icd_free_string(answer);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: icdapi_maps MAPPING_TABLES ROWS LOOKUPS\n");
        return 2;
    }
    long rows = parse_count(argv[2], "ROWS"), lookups = parse_count(argv[3], "LOOKUPS");
    IcdClient *client = icd_client_new_local("http://127.0.0.1:9");
    if (!client || icd_client_set_option(client, "mapping_tables", argv[1]) != ICD_OK) {
        fprintf(stderr, "%s\n", icd_last_error_message());
        return 1;
    }
    char code[32];
    long before = rss_kib();
    long long started = now_ns();
    check(icd_map_icd10_to_icd11(client, "S00000.0"), "S00000.0"); /* reads both 10->11 tables */
    long long ten_loaded = now_ns();
    check(icd_map_icd11_to_icd10(client, "X0000"), "X0000"); /* reads the 11->10 table */
    long long all_loaded = now_ns();
    long after = rss_kib();

    long long *took = malloc(sizeof *took * (size_t)lookups);
    uint64_t state = 88172645463325252ULL; /* xorshift: codes asked in no particular order */
    for (long i = 0; i < lookups; i++) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        long row = (long)(state % (uint64_t)rows);
        int backwards = i % 2;
        snprintf(code, sizeof code, backwards ? "X%04ld" : "S%05ld.0", row);
        long long t0 = now_ns();
        char *answer = backwards ? icd_map_icd11_to_icd10(client, code) : icd_map_icd10_to_icd11(client, code);
        long long t1 = now_ns();
        took[i] = t1 - t0;
        check(answer, code);
    }
    qsort(took, (size_t)lookups, sizeof *took, by_value);
    printf("{\"rows\": %ld, \"load_10to11_ms\": %.1f, \"load_all_ms\": %.1f, \"rss_growth_mib\": %.1f, "
           "\"lookups\": %ld, \"p50_us\": %.3f, \"p99_us\": %.3f, \"max_us\": %.1f}\n",
           rows, (ten_loaded - started) / 1e6, (all_loaded - started) / 1e6, (after - before) / 1024.0, lookups,
           took[lookups / 2] / 1e3, took[lookups * 99 / 100] / 1e3, took[lookups - 1] / 1e3);
    free(took);
    icd_client_free(client);
    return 0;
}
