/*
 * The demo job in C: search "cholera", take the first code, print its code info and its title
 * in English and French.
 *
 *   cc demo.c -I../../include -L../../target/release -licdapi -o demo
 *   ICD_CLIENT_ID=... ICD_CLIENT_SECRET=... ./demo
 *
 * Credentials come from ICD_CLIENT_ID / ICD_CLIENT_SECRET (register at https://icd.who.int/icdapi);
 * ICD_API_BASE / ICD_TOKEN_ENDPOINT redirect it to another server, such as the local stand-in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icdapi.h"

/* Prints what failed and the library's explanation, then exits. */
static void die(const char *what) {
    fprintf(stderr, "C: %s failed: error %d (HTTP %d): %s\n", what, (int)icd_last_error_code(),
            icd_last_http_status(), icd_last_error_message());
    exit(1);
}

/* Copies the string after `"key":"` (starting the search at `from`) into out. A real program
 * would use a JSON parser; the demo stays dependency-free. */
static const char *string_after(const char *from, const char *key, char *out, size_t size) {
    char pattern[64];
    const char *start, *end;
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    start = strstr(from, pattern);
    if (start == NULL) return NULL;
    start += strlen(pattern);
    end = strchr(start, '"');
    if (end == NULL || (size_t)(end - start) >= size) return NULL;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return end;
}

/* Prints the entity's title in one language. */
static void print_title(IcdClient *client, const char *uri, const char *language) {
    char title[256];
    const char *at;
    char *entity;
    if (icd_client_set_option(client, "language", language) != ICD_OK) die("set_option language");
    entity = icd_get(client, uri);
    if (entity == NULL) die("icd_get");
    at = strstr(entity, "\"title\"");
    if (at == NULL || string_after(at, "@value", title, sizeof title) == NULL) {
        fprintf(stderr, "C: no title in %s\n", entity);
        exit(1);
    }
    printf("C: title %s: %s\n", language, title);
    icd_free_string(entity);
}

int main(void) {
    char code[64], stem[512];
    char *found, *info;
    IcdClient *client = icd_client_new(NULL, NULL); /* credentials from the environment */
    if (client == NULL) die("icd_client_new");

    found = icd_search(client, "cholera");
    if (found == NULL) die("icd_search");
    if (string_after(found, "theCode", code, sizeof code) == NULL) {
        fprintf(stderr, "C: no code in the search result\n");
        return 1;
    }
    printf("C: search \"cholera\" -> %s\n", code);
    icd_free_string(found);

    info = icd_codeinfo(client, code);
    if (info == NULL) die("icd_codeinfo");
    printf("C: codeinfo %s -> %s\n", code, info);
    if (string_after(info, "stemId", stem, sizeof stem) == NULL) {
        fprintf(stderr, "C: no stemId in the code info\n");
        return 1;
    }
    icd_free_string(info);

    print_title(client, stem, "en");
    print_title(client, stem, "fr");

    icd_client_free(client);
    return 0;
}
