/*
 * The C API as a C (and C++) program uses it, against the local stand-in of the WHO API.
 * Compiled by tests/c_program.rs as C99 and as C++ with -Wall -Wextra -Werror, and run with
 * ICD_CLIENT_ID, ICD_CLIENT_SECRET, ICD_API_BASE and ICD_TOKEN_ENDPOINT pointing at the stand-in.
 * Prints one line per check and "N passed, M failed" last; exits 1 on any failure.
 */
#include "icdapi.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed = 0;
static int failed = 0;

static void check(int ok, const char *what) {
    if (ok) {
        passed++;
        printf("ok   %s\n", what);
    } else {
        failed++;
        printf("FAIL %s (last error %d, HTTP %d: %s)\n", what, (int)icd_last_error_code(),
               icd_last_http_status(), icd_last_error_message());
    }
}

/* True when body is non-NULL and contains needle; frees body. */
static int body_contains(char *body, const char *needle) {
    int found = body != NULL && strstr(body, needle) != NULL;
    icd_free_string(body);
    return found;
}

/* Copies the string value of "key":"value" from a JSON text into out (no JSON library in C). */
static int json_string_field(const char *json, const char *key, char *out, size_t out_size) {
    char pattern[64];
    const char *start;
    const char *end;
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    start = json ? strstr(json, pattern) : NULL;
    if (start == NULL) return 0;
    start += strlen(pattern);
    end = strchr(start, '"');
    if (end == NULL || (size_t)(end - start) >= out_size) return 0;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return 1;
}

#define THREADS 16
#define CALLS_PER_THREAD 20

struct worker {
    IcdClient *client;
    int failures;
};

static void *work(void *arg) {
    struct worker *worker = (struct worker *)arg;
    static const char *const codes[] = {"1A00", "1F4Z", "FB32.5"};
    int i;
    for (i = 0; i < CALLS_PER_THREAD; i++) {
        char *body = icd_codeinfo(worker->client, codes[i % 3]);
        if (body == NULL || icd_last_error_code() != ICD_OK) worker->failures++;
        icd_free_string(body);
    }
    return NULL;
}

int main(void) {
    IcdClient *client;
    char *body;
    char stem[256];
    int i;

    /* The header and the library agree. */
    check(strcmp(icd_version(), ICDAPI_VERSION) == 0, "icd_version() equals ICDAPI_VERSION");

    /* Credentials and endpoints from the environment. */
    client = icd_client_new(NULL, NULL);
    check(client != NULL, "icd_client_new(NULL, NULL) reads the environment");
    if (client == NULL) return 1;

    check(body_contains(icd_search(client, "cholera"), "\"theCode\":\"1A00\""), "search cholera finds 1A00");
    check(icd_last_error_code() == ICD_OK && icd_last_http_status() == 200, "success clears the last error, HTTP 200");
    check(strcmp(icd_last_error_message(), "") == 0, "message is empty after a success");

    body = icd_codeinfo(client, "1A00");
    check(json_string_field(body, "stemId", stem, sizeof stem), "codeinfo 1A00 has a stemId");
    icd_free_string(body);
    check(body_contains(icd_get(client, stem), "\"@value\":\"Cholera\""), "following the stemId URI gives Cholera");
    check(icd_client_set_option(client, "language", "fr") == ICD_OK, "language fr");
    check(body_contains(icd_get(client, stem), "Chol\xc3\xa9ra"), "the French title is Chol\xc3\xa9ra");
    check(icd_client_set_option(client, "language", "en") == ICD_OK, "language en");

    check(body_contains(icd_autocode(client, "cholera"), "1A00"), "autocode");
    check(body_contains(icd_lookup(client, "http://id.who.int/icd/entity/257068234"), "1A00"), "lookup");
    check(body_contains(icd_post(client, "/icd/release/11/2026-01/codedit", "{\"causes\":[{\"code\":\"1A00\"}]}"),
                        "Codes found: 1A00"),
          "post a death certificate (JSON)");
    check(body_contains(icd_codeinfo(client, "1A00&XN6Y3"), "1A00&XN6Y3"), "postcoordinated code with &");

    /* A batch: every item in order, one failing item failing alone. */
    {
        const char *const paths[] = {"/icd/release/11/2026-01/mms/257068234", "/icd/release/11/2026-01/mms/codeinfo/ZZ99",
                                     NULL, "http://id.who.int/icd/release/11/2026-01/mms/1439886552"};
        char *bodies[4];
        IcdStatus statuses[4];
        size_t ok = icd_get_many(client, paths, 4, bodies, statuses);
        check(ok == 2, "icd_get_many: two of four succeed");
        check(statuses[0] == ICD_OK && statuses[1] == ICD_ERR_HTTP && statuses[2] == ICD_ERR_INVALID_ARGUMENT &&
                  statuses[3] == ICD_OK,
              "icd_get_many: a status per item");
        check(bodies[0] != NULL && strstr(bodies[0], "Cholera") != NULL && bodies[1] == NULL && bodies[2] == NULL &&
                  bodies[3] != NULL && strstr(bodies[3], "Malaria") != NULL,
              "icd_get_many: bodies in order");
        check(icd_last_error_code() == ICD_ERR_HTTP && strncmp(icd_last_error_message(), "item 1: ", 8) == 0,
              "icd_get_many: the last error tells of the first failure");
        for (i = 0; i < 4; i++) icd_free_string(bodies[i]);
        {
            int http[4];
            ok = icd_get_many_detailed(client, paths, 4, bodies, NULL, http);
            check(ok == 2 && http[0] == 200 && http[1] == 404 && http[2] == 0 && http[3] == 200,
                  "icd_get_many_detailed: the HTTP status of each item");
            for (i = 0; i < 4; i++) icd_free_string(bodies[i]);
        }
    }

    /* Errors. */
    check(icd_codeinfo(client, "ZZ99.9") == NULL && icd_last_error_code() == ICD_ERR_HTTP &&
              icd_last_http_status() == 404,
          "unknown code: ICD_ERR_HTTP, 404");
    check(strstr(icd_last_error_message(), "404") != NULL, "the message names the status");
    check(icd_get(client, "https://example.org/icd/entity") == NULL &&
              icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT,
          "foreign host refused");
    check(icd_get(client, NULL) == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT,
          "NULL path refused");
    check(icd_get(NULL, "/icd/entity") == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT,
          "NULL client refused");
    check(icd_client_set_option(client, "no_such_option", "1") == ICD_ERR_INVALID_ARGUMENT,
          "unknown option refused");
    check(icd_client_set_option(client, "timeout_ms", "soon") == ICD_ERR_INVALID_ARGUMENT,
          "bad option value refused");
    check(icd_last_error_message() != NULL && strlen(icd_last_error_message()) > 0, "error message is set");
    icd_free_string(NULL);
    icd_client_free(NULL);
    check(icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT, "free functions leave the last error alone");

    /* One client, many threads, one token (the test harness counts the tokens issued). */
    check(icd_client_set_option(client, "cache_entries", "0") == ICD_OK, "cache off");
    {
        pthread_t threads[THREADS];
        struct worker workers[THREADS];
        int failures = 0;
        for (i = 0; i < THREADS; i++) {
            workers[i].client = client;
            workers[i].failures = 0;
            pthread_create(&threads[i], NULL, work, &workers[i]);
        }
        for (i = 0; i < THREADS; i++) {
            pthread_join(threads[i], NULL);
            failures += workers[i].failures;
        }
        check(failures == 0, "16 threads x 20 calls on one client all succeed");
    }

    icd_client_free(client);

    /* A wrong secret is an authentication error, and the message does not show it. */
    client = icd_client_new("standin-client", "not-the-secret-xyz");
    check(client != NULL, "client with a wrong secret");
    check(icd_search(client, "cholera") == NULL && icd_last_error_code() == ICD_ERR_AUTH,
          "wrong secret: ICD_ERR_AUTH");
    check(strstr(icd_last_error_message(), "not-the-secret-xyz") == NULL, "the message does not hold the secret");
    icd_client_free(client);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
