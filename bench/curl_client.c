/*
 * The benchmark job hand-written on libcurl, the practical limit for a blocking client: one easy
 * handle reused for everything (so one kept-alive connection), the token fetched with a form POST,
 * then N GETs of distinct entities with the ICD headers, each body read fully into one reused
 * buffer. No JSON parsing beyond finding the token.
 *
 *   curl_client N BASE_URL [MODE]
 *
 * MODE:
 *   one    (default) one handle for everything
 *   fresh  the token with one handle, then each GET with a fresh handle (created, used, cleaned
 *          up): a new connection and a full TLS handshake each time, as a PHP page does
 *   who    the WHO sample: for each GET a token request and the GET, each with a fresh handle
 *
 * Environment: BENCH_CA_FILE is the CA bundle to trust (CURLOPT_CAINFO); BENCH_TOKEN_BASE puts
 * the token endpoint on another origin than BASE_URL.
 *
 * Prints one line of key=value pairs, like icdapi_client.
 */
#include <curl/curl.h>
#include <json-c/json.h>

#include "bench_common.h"

struct buffer {
    char *data;
    size_t len, cap;
};

static size_t on_body(char *chunk, size_t size, size_t count, void *user) {
    struct buffer *b = user;
    size_t n = size * count;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (b->len + n + 1 > cap) cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data) return 0;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, chunk, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static void check(CURL *curl, CURLcode rc, const char *what) {
    long status = 0;
    if (rc != CURLE_OK) {
        fprintf(stderr, "curl_client: %s: %s\n", what, curl_easy_strerror(rc));
        exit(1);
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "curl_client: %s: HTTP %ld\n", what, status);
        exit(1);
    }
}

static struct buffer body;

/* A handle set up as every request wants it. */
static CURL *new_handle(void) {
    CURL *curl = curl_easy_init();
    if (!curl) exit(1);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "bench-curl");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    const char *ca_file = getenv("BENCH_CA_FILE");
    if (ca_file && *ca_file) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    return curl;
}

/* The token: client credentials as a form POST; returns the Authorization header line. */
static void fetch_token(CURL *curl, const char *token_base, char *auth, size_t auth_size) {
    char url[512];
    snprintf(url, sizeof url, "%s/connect/token", token_base);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
                     "grant_type=client_credentials&scope=icdapi_access&client_id=bench&client_secret=bench");
    body.len = 0;
    check(curl, curl_easy_perform(curl), "token");
    /* Read with a JSON library (json-c), as a careful libcurl program would: no string scraping. */
    json_object *answer = body.data ? json_tokener_parse(body.data) : NULL;
    json_object *token = NULL;
    if (!answer || !json_object_object_get_ex(answer, "access_token", &token) ||
        !json_object_is_type(token, json_type_string)) {
        fprintf(stderr, "curl_client: no access_token in the token response\n");
        exit(1);
    }
    snprintf(auth, auth_size, "Authorization: Bearer %s", json_object_get_string(token));
    json_object_put(answer);
}

static size_t get(CURL *curl, struct curl_slist *headers, const char *base, long i) {
    char url[512];
    snprintf(url, sizeof url, "%s" ENTITY_PATH_FMT, base, FIRST_ENTITY_ID + i);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    body.len = 0;
    check(curl, curl_easy_perform(curl), "GET");
    return body.len;
}

static struct curl_slist *api_headers(const char *auth) {
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, auth);
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Accept-Language: en");
    headers = curl_slist_append(headers, "API-Version: v2");
    return headers;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s N BASE_URL [one|fresh|who]\n", argv[0]);
        return 2;
    }
    long n = parse_count(argv[1], "N");
    const char *base = argv[2];
    const char *mode = argc > 3 ? argv[3] : "one";
    if (strcmp(mode, "one") != 0 && strcmp(mode, "fresh") != 0 && strcmp(mode, "who") != 0) {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    const char *token_base = getenv("BENCH_TOKEN_BASE");
    if (!token_base || !*token_base) token_base = base;
    char auth[4096];

    double cpu0 = cpu_us(), t0 = now_us();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    size_t bytes = 0;
    if (strcmp(mode, "who") == 0) {
        for (long i = 0; i < n; i++) {
            CURL *curl = new_handle();
            fetch_token(curl, token_base, auth, sizeof auth);
            curl_easy_cleanup(curl);
            struct curl_slist *headers = api_headers(auth);
            curl = new_handle();
            bytes += get(curl, headers, base, i);
            curl_easy_cleanup(curl);
            curl_slist_free_all(headers);
        }
    } else {
        CURL *curl = new_handle();
        fetch_token(curl, token_base, auth, sizeof auth);
        struct curl_slist *headers = api_headers(auth);
        for (long i = 0; i < n; i++) {
            if (strcmp(mode, "fresh") == 0) {
                curl_easy_cleanup(curl);
                curl = new_handle();
            }
            bytes += get(curl, headers, base, i);
        }
        curl_easy_cleanup(curl);
        curl_slist_free_all(headers);
    }
    curl_global_cleanup();
    double wall = now_us() - t0, cpu = cpu_us() - cpu0;
    printf("client=curl mode=%s requests=%ld wall_us=%.0f cpu_us=%.0f bytes=%zu hwm_kib=%ld\n", mode, n, wall, cpu,
           bytes, vm_hwm_kib());
    free(body.data);
    return 0;
}
