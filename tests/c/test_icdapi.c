/*
 * The C API as a C (and C++) program uses it, against the local stand-in of the WHO API.
 * Compiled by tests/c_program.rs as C99 and as C++ with -Wall -Wextra -Werror, and run with
 * ICD_CLIENT_ID, ICD_CLIENT_SECRET, ICD_API_BASE and ICD_TOKEN_ENDPOINT pointing at the stand-in,
 * which runs with --escape-non-ascii (non-ASCII characters arrive as \u00e9 escapes).
 * Answers are read with the icd_json_* functions, as the README shows: no JSON scraping.
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
