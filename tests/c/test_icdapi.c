/*
 * The C API as a C (and C++) program uses it, against the local stand-in of the WHO API.
 * Compiled by tests/c_program.rs as C99 and as C++ with -Wall -Wextra -Werror, and run with
 * ICD_CLIENT_ID, ICD_CLIENT_SECRET, ICD_API_BASE and ICD_TOKEN_ENDPOINT pointing at the stand-in,
 * which runs with --escape-non-ascii (non-ASCII characters arrive as \u00e9 escapes).
 * Answers are read with the icd_json_* functions, as the README shows: no JSON scraping.
 * Prints one line per check and "N passed, M failed" last; exits 1 on any failure.
 *
 * The same program is the proof of every platform (tests/platforms/run.sh): cross-built with
 * mingw-w64 and run under Wine, under qemu-aarch64, linked with musl-gcc. What differs between
 * platforms is checked where the harness sets these (see test_platform):
 *   ICDAPI_TEST_CACHE_DIR   a cache_dir written the platform's way (C:\... on Windows)
 *   ICDAPI_TEST_TOKEN_FILE  a token_cache_file path (refused on Windows, saying why)
 *   ICDAPI_TEST_TLS_BASE, ICDAPI_TEST_CA_FILE  an https stand-in and the certificate to trust;
 *   ICDAPI_TEST_SYSTEM_TRUSTS_CA  what the system's certificate store does with it: unset, it
 *       does not hold it (refused as an unknown issuer); "1", it holds it (trusted);
 *       "revocation-unknown" (Wine 8), it holds it but Wine's chain policy then fails every
 *       certificate without revocation information (CERT_E_REVOCATION_FAILURE, 0x800B010E,
 *       printed -2146762482), which Windows ignores as rustls-platform-verifier asks
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* sockets, clock_gettime, nanosleep under -std=c99 */
#endif
#include "icdapi.h"

#ifdef _WIN32
/* Windows (mingw-w64, run under Wine): Winsock for the silent server of the icd_start tests;
   pthreads, clock_gettime and nanosleep come from winpthreads, linked statically. */
#include <winsock2.h>
#include <ws2tcpip.h>
typedef SOCKET socket_t;
#define SOCKET_FAILED INVALID_SOCKET
#define close_socket closesocket
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
typedef int socket_t;
#define SOCKET_FAILED (-1)
#define close_socket close
#endif
#include <pthread.h>
#include <time.h>
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

/* Whether text holds needle: for error messages, never for JSON (icd_json_* read that). */
static int has_text(const char *text, const char *needle) {
    size_t length = strlen(needle);
    for (; text != NULL && *text != '\0'; text++) {
        if (strncmp(text, needle, length) == 0) return 1;
    }
    return 0;
}

/* Whether the string at pointer in doc equals expected. */
static int json_is(const IcdJson *doc, const char *pointer, const char *expected) {
    const char *value = icd_json_string(doc, pointer);
    return value != NULL && strcmp(value, expected) == 0;
}

/* Parses a returned body and frees it: the document owns a copy of everything it needs. */
static IcdJson *parse_body(char *body) {
    IcdJson *doc = body != NULL ? icd_json_parse(body) : NULL;
    icd_free_string(body);
    return doc;
}

/* Whether the body's string at pointer equals expected; frees the body. */
static int body_is(char *body, const char *pointer, const char *expected) {
    IcdJson *doc = parse_body(body);
    int same = json_is(doc, pointer, expected);
    icd_json_free(doc);
    return same;
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
        if (!body_is(body, "/code", codes[i % 3])) worker->failures++;
    }
    return NULL;
}

struct reader {
    const IcdJson *doc;
    const char *expected_code;
    int failures;
};

/* Many threads read one document at once: the same answers, the same borrowed pointers. */
static void *read_document(void *arg) {
    struct reader *reader = (struct reader *)arg;
    int i;
    for (i = 0; i < 200; i++) {
        const IcdJson *hit = icd_json_at(reader->doc, "/destinationEntities/0");
        if (hit == NULL || icd_json_string(hit, "/theCode") != reader->expected_code) reader->failures++;
        if (!json_is(reader->doc, "/destinationEntities/0/title", "Cholera")) reader->failures++;
    }
    return NULL;
}

static void test_v01_calls(IcdClient *client) {
    char *body;
    IcdJson *doc;
    char stem[256] = "";
    int i;

    body = icd_search(client, "cholera");
    check(icd_last_error_code() == ICD_OK && icd_last_http_status() == 200, "success clears the last error, HTTP 200");
    check(strcmp(icd_last_error_message(), "") == 0, "message is empty after a success");
    check(body_is(body, "/destinationEntities/0/theCode", "1A00"), "search cholera finds 1A00");

    doc = parse_body(icd_codeinfo(client, "1A00"));
    check(icd_json_string(doc, "/stemId") != NULL, "codeinfo 1A00 has a stemId");
    if (icd_json_string(doc, "/stemId") != NULL && strlen(icd_json_string(doc, "/stemId")) < sizeof stem) {
        strcpy(stem, icd_json_string(doc, "/stemId"));
    }
    icd_json_free(doc);
    check(body_is(icd_get(client, stem), "/title", "Cholera"), "following the stemId URI gives Cholera");
    check(icd_client_set_option(client, "language", "fr") == ICD_OK, "language fr");
    body = icd_get(client, stem);
    check(body != NULL && has_text(body, "Chol\\u00e9ra"), "the stand-in sends the French title escaped");
    check(body_is(body, "/title", "Chol\xc3\xa9ra"), "icd_json_string gives it unescaped: Chol\xc3\xa9ra");
    check(icd_client_set_option(client, "language", "en") == ICD_OK, "language en");

    check(body_is(icd_autocode(client, "cholera"), "/theCode", "1A00"), "autocode");
    check(body_is(icd_lookup(client, "http://id.who.int/icd/entity/257068234"), "/code", "1A00"), "lookup");
    check(body_is(icd_post(client, "/icd/release/11/2026-01/codedit", "{\"causes\":[{\"code\":\"1A00\"}]}"), "/report",
                  "Codes found: 1A00"),
          "post a death certificate (JSON)");
    check(body_is(icd_codeinfo(client, "1A00&XN6Y3"), "/code", "1A00&XN6Y3"), "postcoordinated code with &");

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
        check(icd_last_error_code() == ICD_ERR_HTTP && strncmp(icd_last_error_message(), "item 1: ", 8) == 0,
              "icd_get_many: the last error tells of the first failure");
        check(bodies[1] == NULL && bodies[2] == NULL && body_is(bodies[0], "/title", "Cholera") &&
                  body_is(bodies[3], "/title", "Malaria"),
              "icd_get_many: bodies in order");
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
    check(has_text(icd_last_error_message(), "404"), "the message names the status");
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
    icd_json_free(NULL);
    check(icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT, "free functions leave the last error alone");
}

static void test_parameters(IcdClient *client) {
    const char *const plain[] = {"highlightingEnabled", "false", "flatResults", "true", NULL};
    const char *const nested[] = {"highlightingEnabled", "false", "medicalCodingMode", "false",
                                  "flatResults", "false", NULL};
    const char *const chapter15[] = {"chapterFilter", "15", NULL};
    const char *const no_value[] = {"flatResults", "true", "highlightingEnabled", NULL};
    const char *const empty_name[] = {"", "x", NULL};
    const char *const include[] = {"include", "ancestor", NULL};
    const char *const flexible[] = {"flexiblemode", "true", NULL};
    const char *const threshold[] = {"matchThreshold", "0.5", NULL};
    IcdJson *doc;

    doc = parse_body(icd_search_with(client, "cholera", plain));
    check(json_is(doc, "/destinationEntities/0/title", "Cholera"), "highlightingEnabled=false: a plain title");
    icd_json_free(doc);
    doc = parse_body(icd_search(client, "cholera"));
    check(json_is(doc, "/destinationEntities/0/title", "<em class='found'>Cholera</em>"), "by default, highlighted");
    icd_json_free(doc);

    doc = parse_body(icd_search_with(client, "malaria", nested));
    check(icd_json_count(doc, "/destinationEntities") == 1 && json_is(doc, "/destinationEntities/0/title", "Malaria") &&
              icd_json_count(doc, "/destinationEntities/0/descendants") == 7,
          "flatResults=false: the categories nest in their block");
    icd_json_free(doc);
    doc = parse_body(icd_search_with(client, "malaria", chapter15));
    check(doc != NULL && icd_json_count(doc, "/destinationEntities") == 0 &&
              icd_json_type(doc, "/destinationEntities") == ICD_JSON_ARRAY,
          "chapterFilter=15: no malaria there");
    icd_json_free(doc);

    check(icd_search_with(client, "cholera", no_value) == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT &&
              has_text(icd_last_error_message(), "has no value"),
          "a name without a value is refused");
    check(icd_get_with(client, "/icd/entity", empty_name) == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT,
          "an empty name is refused");
    check(body_is(icd_get_with(client, "/icd/release/11/2026-01/mms/257068234?x=1", include), "/ancestor/0",
                  "http://id.who.int/icd/release/11/2026-01/mms/135352227"),
          "icd_get_with adds to a query the path already has");
    check(body_is(icd_get_with(client, "/icd/release/11/2026-01/mms/257068234", NULL), "/code", "1A00"),
          "icd_get_with with NULL params is icd_get");
    check(body_is(icd_codeinfo_with(client, "1A00", flexible), "/code", "1A00"), "icd_codeinfo_with");
    check(body_is(icd_autocode_with(client, "cholera", threshold), "/theCode", "1A00"), "icd_autocode_with");
}

static void test_api_errors(IcdClient *client) {
    IcdJson *doc;
    int flag = 0;
    check(icd_search(client, "%") == NULL && icd_last_error_code() == ICD_ERR_API && icd_last_http_status() == 200,
          "a search the API could not run: ICD_ERR_API, HTTP 200");
    check(has_text(icd_last_error_message(), "The search text (q) is empty."), "the message quotes errorMessage");
    check(icd_search_with(client, "%", NULL) == NULL && icd_last_error_code() == ICD_ERR_API, "icd_search_with too");
    doc = parse_body(icd_get(client, "/icd/release/11/2026-01/mms/search?q=%25"));
    check(doc != NULL && icd_json_bool(doc, "/error", &flag) == 1 && flag == 1, "icd_get returns such a body as it came");
    icd_json_free(doc);
}

static void test_entities_and_options(IcdClient *client) {
    char *value;
    check(body_is(icd_entity_by_code(client, "1A00"), "/title", "Cholera"), "icd_entity_by_code 1A00: Cholera");
    check(body_is(icd_entity_by_code(client, "1A00&XN6Y3"), "/code", "1A00"), "a postcoordinated code: its stem");
    check(icd_entity_by_code(client, "ZZ99.9") == NULL && icd_last_error_code() == ICD_ERR_HTTP &&
              icd_last_http_status() == 404,
          "icd_entity_by_code of an unknown code: 404");

    check(body_is(icd_icd10(client, "A00.0"), "/classKind", "category"), "ICD-10 category A00.0");
    check(body_is(icd_icd10(client, "A00-A09"), "/classKind", "block"), "ICD-10 block A00-A09");
    check(body_is(icd_icd10(client, "I"), "/title", "Certain infectious and parasitic diseases"), "ICD-10 chapter I");
    check(icd_client_set_option(client, "icd10_release", "2010") == ICD_OK &&
              body_is(icd_icd10(client, "A00"), "/@id", "http://id.who.int/icd/release/10/2010/A00"),
          "icd10_release 2010");
    check(icd_client_set_option(client, "icd10_release", "") == ICD_ERR_INVALID_ARGUMENT, "an empty icd10_release is refused");
    check(icd_icd10(client, "") == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT, "an empty ICD-10 code is refused");

    value = icd_client_get_option(client, "icd10_release");
    check(value != NULL && strcmp(value, "2010") == 0, "icd_client_get_option icd10_release");
    icd_free_string(value);
    value = icd_client_get_option(client, "release");
    check(value != NULL && strcmp(value, "2026-01") == 0, "icd_client_get_option release");
    icd_free_string(value);
    check(icd_client_get_option(client, "client_secret") == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT,
          "the secret cannot be read back");

    /* A release the API does not list: the 404 says so and names those it serves. */
    check(icd_client_set_option(client, "release", "2017-01") == ICD_OK, "release 2017-01");
    check(icd_codeinfo(client, "1A00") == NULL && icd_last_error_code() == ICD_ERR_HTTP && icd_last_http_status() == 404,
          "an unserved release: ICD_ERR_HTTP 404");
    check(strncmp(icd_last_error_message(), "release \"2017-01\" is not served by ", 35) == 0 &&
              has_text(icd_last_error_message(), "(it serves 2026-01, 2025-01") &&
              has_text(icd_last_error_message(), "set the release option"),
          "... with a message naming the releases served");
    check(icd_client_set_option(client, "release", "2026-01") == ICD_OK, "release 2026-01 again");
}

static void test_json(IcdClient *client) {
    static const char text[] = "{\"a/b\":{\"m~n\":1.5},\"list\":[10,20],\"t\":true,\"nul\":\"x\\u0000y\","
                               "\"title\":{\"@language\":\"en\",\"@value\":\"Caf\\u00e9\"},\"none\":null}";
    IcdJson *doc = icd_json_parse(text);
    const IcdJson *list;
    double number = 0;
    int flag = -1;
    check(doc != NULL, "icd_json_parse");
    check(icd_json_number(doc, "/a~1b/m~0n", &number) == 1 && number == 1.5, "~1 and ~0 escapes; a number");
    check(json_is(doc, "/title", "Caf\xc3\xa9"), "a JSON-LD @value is a string, unescaped");
    check(icd_json_string(doc, "/nul") == NULL && icd_last_error_code() == ICD_OK &&
              icd_json_type(doc, "/nul") == ICD_JSON_STRING,
          "a string holding U+0000: NULL, not an error");
    check(icd_json_bool(doc, "/t", &flag) == 1 && flag == 1 && icd_json_bool(doc, "/t", NULL) == 1, "a boolean; out may be NULL");
    check(icd_json_number(doc, "/t", &number) == 0 && number == 1.5, "not a number: 0, out untouched");
    check(icd_json_count(doc, "/list") == 2 && icd_json_count(doc, "") == 6 && icd_json_count(doc, "/t") == 0, "counts");
    check(icd_json_at(doc, "/list/01") == NULL && icd_json_at(doc, "/list/-") == NULL && icd_json_at(doc, "/list/2") == NULL &&
              icd_last_error_code() == ICD_OK,
          "leading zero, '-', past the end: missing, not an error");
    list = icd_json_at(doc, "/list");
    check(list != NULL && icd_json_number(list, "/1", &number) == 1 && number == 20, "a value read as a document");
    check(icd_json_type(doc, "/none") == ICD_JSON_NULL && icd_json_type(doc, "/zzz") == ICD_JSON_MISSING, "types");
    check(icd_json_string(doc, "title") == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT,
          "a pointer without '/': ICD_ERR_INVALID_ARGUMENT");
    check(icd_json_at(doc, "/a~2") == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT, "'~2': ICD_ERR_INVALID_ARGUMENT");
    check(icd_json_string(NULL, "") == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT, "a NULL document");
    icd_json_free((IcdJson *)list); /* a value of the document: nothing happens */
    check(icd_json_count(list, "") == 2, "freeing a value inside a document does nothing");
    icd_json_free(doc);
    check(icd_json_parse("{\"a\": }") == NULL && icd_last_error_code() == ICD_ERR_PARSE &&
              has_text(icd_last_error_message(), "column"),
          "not JSON: ICD_ERR_PARSE saying where");
    check(icd_json_parse(NULL) == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT, "NULL text refused");

    /* One search result read by many threads at once. */
    {
        const char *const plain[] = {"highlightingEnabled", "false", NULL};
        pthread_t threads[8];
        struct reader readers[8];
        int i, failures = 0;
        doc = parse_body(icd_search_with(client, "cholera", plain));
        for (i = 0; i < 8; i++) {
            readers[i].doc = doc;
            readers[i].expected_code = icd_json_string(doc, "/destinationEntities/0/theCode");
            readers[i].failures = 0;
            pthread_create(&threads[i], NULL, read_document, &readers[i]);
        }
        for (i = 0; i < 8; i++) {
            pthread_join(threads[i], NULL);
            failures += readers[i].failures;
        }
        check(failures == 0 && json_is(doc, "/destinationEntities/0/theCode", "1A00"),
              "8 threads read one document: the same strings at the same addresses");
        icd_json_free(doc);
    }
}

/* Death certificates (the stand-in's rule, not WHO's DORIS: the lowest used line of Part 1). */
static void test_certificates(IcdClient *client) {
    const char *const certificate[] = {"causeOfDeathCodeA", "1A00", "causeOfDeathCodeB", "1F40", "sex", "1", NULL};
    const char *const part2_only[] = {"causeOfDeathCodePart2", "1A00", NULL};
    const char *const misspelt[] = {"causeOfDeathCodeA1", "1A00", NULL};
    const char *const no_cause[] = {"sex", "1", NULL};
    const char *const no_value[] = {"causeOfDeathCodeA", "1A00", "sex", NULL};
    char *body;
    IcdJson *doc;
    int rejected = -1;

    check(body_is(icd_doris(client, certificate), "/code", "1F40"), "icd_doris: the underlying cause");
    body = icd_doris(client, part2_only);
    doc = parse_body(body);
    check(doc != NULL && icd_json_bool(doc, "/reject", &rejected) == 1 && rejected == 1 &&
              has_text(icd_json_string(doc, "/error"), "Part 1"),
          "icd_doris: a rejection is an answer to read");
    icd_json_free(doc);
    check(body_is(icd_codedit(client, certificate), "/issueIds", ""), "icd_codedit: no issue");
    check(icd_doris(client, misspelt) == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT &&
              has_text(icd_last_error_message(), "did you mean causeOfDeathCodeA?"),
          "a misspelt field: ICD_ERR_INVALID_ARGUMENT naming the closest");
    check(icd_codedit(client, no_cause) == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT,
          "no cause of death: ICD_ERR_INVALID_ARGUMENT");
    check(icd_doris(client, no_value) == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT,
          "a missing value: ICD_ERR_INVALID_ARGUMENT");
    check(icd_certificate_check(certificate) == ICD_OK && icd_certificate_check(misspelt) == ICD_ERR_INVALID_ARGUMENT,
          "icd_certificate_check");
    check(strcmp(icd_certificate_field(0), "sex") == 0 && icd_certificate_field(40) == NULL, "icd_certificate_field");
}

/* Navigation: describe, releases, the hierarchy with titles; the maps without their option. */
static void test_navigation(IcdClient *client) {
    IcdJson *doc;
    char *body;

    check(body_is(icd_describe(client, "1A00", NULL), "/label", "Cholera"), "icd_describe: a code");
    check(body_is(icd_parents(client, "1A00"), "/0/title", "Bacterial intestinal infections"),
          "icd_parents: the block above 1A00, with its title");
    doc = parse_body(icd_ancestors(client, "1A00&XN8P1"));
    check(doc != NULL && icd_json_count(doc, "") == 3 && json_is(doc, "/0/classKind", "block") &&
              json_is(doc, "/2/classKind", "chapter") && json_is(doc, "/2/code", "01"),
          "icd_ancestors: nearest first, up to the chapter (a postcoordinated code stands for its stem)");
    icd_json_free(doc);
    doc = parse_body(icd_children(client, "http://id.who.int/icd/release/11/2026-01/mms/135352227"));
    check(doc != NULL && icd_json_count(doc, "") > 10 && json_is(doc, "/0/code", "1A00"), "icd_children: in the API's order");
    icd_json_free(doc);
    body = icd_releases(client);
    check(body != NULL && has_text(body, "latestRelease"), "icd_releases: the list the API serves");
    icd_free_string(body);
    check(icd_map_icd10_to_icd11(client, "A00.0") == NULL && icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT &&
              has_text(icd_last_error_message(), "mapping_tables"),
          "icd_map_icd10_to_icd11 without the option: ICD_ERR_INVALID_ARGUMENT naming it");
}

/* ---- Calls that do not block a thread: icd_start, icd_cancel ---- */

/* What one callback received; the callback signals it. */
struct outcome {
    pthread_mutex_t lock;
    pthread_cond_t arrived;
    int calls; /* how many times the callback ran: must end at 1 */
    IcdStatus status;
    int http_status;
    char *body;
    char message[512];
    pthread_t thread;
    IcdClient *start_on; /* set: the callback starts a call on this client into *then */
    struct outcome *then;
    uint64_t then_id;
};

static void outcome_init(struct outcome *o) {
    memset(o, 0, sizeof *o);
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->arrived, NULL);
}

static void outcome_done(struct outcome *o) {
    icd_free_string(o->body);
    pthread_mutex_destroy(&o->lock);
    pthread_cond_destroy(&o->arrived);
}

static void on_done(void *user_data, IcdStatus status, char *body, int http_status, const char *message) {
    struct outcome *o = (struct outcome *)user_data;
    uint64_t id = 0;
    if (o->start_on != NULL) id = icd_start(o->start_on, ICD_CALL_CODEINFO, "1A00", NULL, on_done, o->then);
    pthread_mutex_lock(&o->lock);
    o->calls++;
    o->status = status;
    o->http_status = http_status;
    o->body = body; /* ours now */
    strncpy(o->message, message, sizeof o->message - 1);
    o->thread = pthread_self();
    o->then_id = id;
    pthread_cond_broadcast(&o->arrived);
    pthread_mutex_unlock(&o->lock);
}

/* Waits up to `seconds` for the callback; 1 if it came. */
static int wait_outcome(struct outcome *o, int seconds) {
    struct timespec until;
    int came;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    pthread_mutex_lock(&o->lock);
    while (o->calls == 0) {
        if (pthread_cond_timedwait(&o->arrived, &o->lock, &until) != 0) break;
    }
    came = o->calls > 0;
    pthread_mutex_unlock(&o->lock);
    return came;
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A loopback port that accepts connections (the kernel does, into the backlog) and never
   answers: requests to it hang until cancelled. Returns the listening socket, or SOCKET_FAILED. */
static socket_t silent_server(int *port) {
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    socket_t fd;
#ifdef _WIN32
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return SOCKET_FAILED;
#endif
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (fd == SOCKET_FAILED || bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        return SOCKET_FAILED;
    }
    *port = ntohs(address.sin_port);
    return fd;
}

static void test_calls(IcdClient *client) {
    struct outcome found, missing, first, second, hanging, in_flight[3];
    const char *const flat[] = {"flatResults", "true", NULL};
    uint64_t id;
    int i, port, all_cancelled;
    socket_t listener;
    char base[64];
    IcdClient *silent;
    double started;

    outcome_init(&found);
    id = icd_start(client, ICD_CALL_SEARCH, "cholera", flat, on_done, &found);
    check(id > 0 && icd_last_error_code() == ICD_OK, "icd_start(SEARCH) returns a call id at once");
    check(wait_outcome(&found, 20) && found.status == ICD_OK && found.http_status == 200 &&
              found.message[0] == '\0',
          "its callback gets ICD_OK, HTTP 200 and an empty message");
    check(!pthread_equal(found.thread, pthread_self()), "on a thread of the library's, not the caller's");
    {
        IcdJson *doc = icd_json_parse(found.body);
        check(json_is(doc, "/destinationEntities/0/theCode", "1A00"), "the body is the search's answer (ours to free)");
        icd_json_free(doc);
    }
    outcome_done(&found);

    outcome_init(&missing);
    check(icd_start(client, ICD_CALL_CODEINFO, "NOPE", NULL, on_done, &missing) > 0, "icd_start(CODEINFO NOPE)");
    check(wait_outcome(&missing, 20) && missing.status == ICD_ERR_HTTP && missing.http_status == 404 &&
              missing.body == NULL && has_text(missing.message, "404"),
          "a failure reaches the callback: ICD_ERR_HTTP, 404, NULL body, a message");
    outcome_done(&missing);

    check(icd_start(client, ICD_CALL_GET, "/icd/entity", NULL, NULL, NULL) == 0 &&
              icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT,
          "a NULL callback: 0 and ICD_ERR_INVALID_ARGUMENT");
    check(icd_start(client, ICD_CALL_DORIS, NULL, flat, on_done, NULL) == 0 &&
              has_text(icd_last_error_message(), "did you mean"),
          "a certificate with an unknown field: 0, checked before icd_start returns");
    check(icd_start(client, ICD_CALL_LOOKUP, "http://id.who.int/icd/entity/1", flat, on_done, NULL) == 0 &&
              icd_last_error_code() == ICD_ERR_INVALID_ARGUMENT,
          "params for a call that takes none: 0 and ICD_ERR_INVALID_ARGUMENT");

    /* A callback starts a call. */
    outcome_init(&first);
    outcome_init(&second);
    first.start_on = client;
    first.then = &second;
    check(icd_start(client, ICD_CALL_CODEINFO, "1A00", NULL, on_done, &first) > 0, "icd_start, whose callback starts another");
    check(wait_outcome(&first, 20) && first.status == ICD_OK && first.then_id > 0, "the callback started a call");
    check(wait_outcome(&second, 20) && second.status == ICD_OK && body_is(second.body, "/code", "1A00"),
          "and that call completed");
    second.body = NULL; /* body_is freed it */
    outcome_done(&first);
    outcome_done(&second);

    /* Cancellation, against a server that never answers. */
    listener = silent_server(&port);
    check(listener != SOCKET_FAILED, "a silent loopback server");
    if (listener == SOCKET_FAILED) return;
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    silent = icd_client_new_local(base);
    check(silent != NULL, "a client of the silent server");
    outcome_init(&hanging);
    id = icd_start(silent, ICD_CALL_GET, "/icd/entity", NULL, on_done, &hanging);
    check(id > 0 && !wait_outcome(&hanging, 1), "a call to the silent server hangs");
    started = now_seconds();
    check(icd_cancel(silent, id) == 1, "icd_cancel of a running call: 1");
    check(wait_outcome(&hanging, 10) && hanging.status == ICD_ERR_CANCELLED && hanging.body == NULL &&
              now_seconds() - started < 3.0,
          "its callback comes at once with ICD_ERR_CANCELLED");
    check(icd_cancel(silent, id) == 0, "icd_cancel again: 0");
    outcome_done(&hanging);

    /* Freeing a client with calls in flight. */
    for (i = 0; i < 3; i++) {
        outcome_init(&in_flight[i]);
        icd_start(silent, ICD_CALL_GET, "/icd/entity", NULL, on_done, &in_flight[i]);
    }
    {
        struct timespec pause = {0, 200000000};
        nanosleep(&pause, NULL);
    }
    started = now_seconds();
    icd_client_free(silent);
    all_cancelled = 1;
    for (i = 0; i < 3; i++) {
        all_cancelled &= in_flight[i].calls == 1 && in_flight[i].status == ICD_ERR_CANCELLED;
        outcome_done(&in_flight[i]);
    }
    check(all_cancelled && now_seconds() - started < 3.0,
          "icd_client_free cancels the calls in flight and returns after their callbacks ran");
    close_socket(listener);
}

/* What differs between platforms: paths, the token file, the certificate store. */
static void test_platform(void) {
    const char *cache_dir = getenv("ICDAPI_TEST_CACHE_DIR");
    const char *token_file = getenv("ICDAPI_TEST_TOKEN_FILE");
    const char *tls_base = getenv("ICDAPI_TEST_TLS_BASE");
    const char *ca_file = getenv("ICDAPI_TEST_CA_FILE");
    const char *system_trusts = getenv("ICDAPI_TEST_SYSTEM_TRUSTS_CA");
    static const char malaria[] = "/icd/release/11/2026-01/mms/1439886552";
    char *value;

    if (cache_dir != NULL) {
        /* Stored by one client, read by another whose secret is wrong: only the disk can answer it. */
        IcdClient *writer = icd_client_new(NULL, NULL);
        IcdClient *reader = icd_client_new("standin-client", "not-the-secret-xyz");
        check(icd_client_set_option(writer, "cache_dir", cache_dir) == ICD_OK, "cache_dir in this platform's form");
        value = icd_client_get_option(writer, "cache_dir");
        check(value != NULL && strcmp(value, cache_dir) == 0, "cache_dir reads back as it was set");
        icd_free_string(value);
        check(body_is(icd_get(writer, malaria), "/title", "Malaria"), "an answer fetched and stored in cache_dir");
        check(icd_client_set_option(reader, "cache_dir", cache_dir) == ICD_OK &&
                  body_is(icd_get(reader, malaria), "/title", "Malaria"),
              "another client (wrong secret: no token) reads it from cache_dir");
        check(icd_get(reader, "/icd/release/11/2026-01/mms/257068234") == NULL && icd_last_error_code() == ICD_ERR_AUTH,
              "... and only what is stored there");
        icd_client_free(writer);
        icd_client_free(reader);
    }

    if (token_file != NULL) {
        IcdClient *client = icd_client_new(NULL, NULL);
        IcdStatus status = icd_client_set_option(client, "token_cache_file", token_file);
#ifdef _WIN32
        check(status == ICD_ERR_INVALID_ARGUMENT && has_text(icd_last_error_message(), "Unix only") &&
                  has_text(icd_last_error_message(), token_file),
              "Windows: token_cache_file is refused, naming the file and saying why");
        value = icd_client_get_option(client, "token_cache_file");
        check(value != NULL && strcmp(value, "") == 0, "... and stays unset");
        icd_free_string(value);
#else
        check(status == ICD_OK, "token_cache_file is taken");
        value = icd_client_get_option(client, "token_cache_file");
        check(value != NULL && strcmp(value, token_file) == 0, "... and reads back");
        icd_free_string(value);
#endif
        check(body_is(icd_codeinfo(client, "1A00"), "/code", "1A00"), "the client works on after it");
        icd_client_free(client);
    }

    if (tls_base != NULL && ca_file != NULL) {
        char endpoint[512];
        IcdClient *pinned = icd_client_new(NULL, NULL);
        IcdClient *store_client = icd_client_new(NULL, NULL);
        snprintf(endpoint, sizeof endpoint, "%s/connect/token", tls_base);
        check(icd_client_set_option(pinned, "api_base", tls_base) == ICD_OK &&
                  icd_client_set_option(pinned, "token_endpoint", endpoint) == ICD_OK &&
                  icd_client_set_option(pinned, "ca_file", ca_file) == ICD_OK,
              "https stand-in with ca_file in this platform's form");
        check(body_is(icd_codeinfo(pinned, "1A00"), "/code", "1A00"), "TLS with ca_file: the CA it names is trusted");
        check(icd_client_set_option(store_client, "api_base", tls_base) == ICD_OK &&
                  icd_client_set_option(store_client, "token_endpoint", endpoint) == ICD_OK,
              "https stand-in with the system's certificate store");
        if (system_trusts != NULL && strcmp(system_trusts, "1") == 0) {
            check(body_is(icd_codeinfo(store_client, "1A00"), "/code", "1A00"),
                  "TLS with the system's store: the certificate installed in it is trusted");
        } else if (system_trusts != NULL && strcmp(system_trusts, "revocation-unknown") == 0) {
            check(icd_codeinfo(store_client, "1A00") == NULL && icd_last_error_code() == ICD_ERR_NETWORK &&
                      has_text(icd_last_error_message(), "-2146762482") &&
                      !has_text(icd_last_error_message(), "UnknownIssuer"),
                  "TLS with the system's store: the chain reaches the certificate installed in it (Wine 8: "
                  "then revocation unknown)");
        } else {
            check(icd_codeinfo(store_client, "1A00") == NULL && icd_last_error_code() == ICD_ERR_NETWORK &&
                      has_text(icd_last_error_message(), "UnknownIssuer") &&
                      has_text(icd_last_error_message(), "set the option ca_file"),
                  "TLS with the system's store: a certificate it does not hold is refused, saying what to do");
        }
        icd_client_free(pinned);
        icd_client_free(store_client);
    }
}

int main(void) {
    IcdClient *client;
    int i;

    /* The header and the library agree. */
    check(strcmp(icd_version(), ICDAPI_VERSION) == 0, "icd_version() equals ICDAPI_VERSION");
    check(strncmp(icd_option_names(), "language,release,", 17) == 0 && strstr(icd_option_names(), ",concurrency,") != NULL,
          "icd_option_names() lists the options, comma-separated");

    /* Credentials and endpoints from the environment. */
    client = icd_client_new(NULL, NULL);
    check(client != NULL, "icd_client_new(NULL, NULL) reads the environment");
    if (client == NULL) return 1;

    test_v01_calls(client);
    test_parameters(client);
    test_api_errors(client);
    test_entities_and_options(client);
    test_json(client);
    test_certificates(client);
    test_navigation(client);
    test_calls(client);
    test_platform();

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
    check(!has_text(icd_last_error_message(), "not-the-secret-xyz"), "the message does not hold the secret");
    icd_client_free(client);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
