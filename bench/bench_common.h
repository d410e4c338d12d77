/* Small helpers shared by the benchmark's C programs (not part of the library). */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* The first entity id; request i asks for id FIRST_ENTITY_ID + i, so every URL is distinct. */
#define FIRST_ENTITY_ID 1000000000L
#define ENTITY_PATH_FMT "/icd/release/11/2026-01/mms/%ld"

static inline double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* User + system CPU time of this process (all threads), in microseconds. */
static inline double cpu_us(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* VmHWM (peak resident set) from /proc/self/status, in KiB; -1 if unavailable. */
static inline long vm_hwm_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

static inline long parse_count(const char *text, const char *what) {
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (!end || *end != '\0' || value < 0) {
        fprintf(stderr, "bad %s: %s\n", what, text);
        exit(2);
    }
    return value;
}

#endif
