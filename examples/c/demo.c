/*
 * The demo job in C: search "cholera", take the first code, print its code info and its title
 * in English and French. Answers are read with the library's JSON functions (icd_json_*): no
 * JSON library, no string scraping.
 *
 *   cc demo.c -I../../include -L../../target/release -licdapi -o demo
 *   ICD_CLIENT_ID=... ICD_CLIENT_SECRET=... ./demo
 *
 * Credentials come from ICD_CLIENT_ID / ICD_CLIENT_SECRET (register at https://icd.who.int/icdapi);
 * ICD_API_BASE / ICD_TOKEN_ENDPOINT redirect it to another server, such as the local stand-in.
 */
#include <stdio.h>
#include <stdlib.h>

#include "icdapi.h"

/* Prints what failed and the library's explanation, then exits. */
static void die(const char *what) {
    fprintf(stderr, "C: %s failed: error %d (HTTP %d): %s\n", what, (int)icd_last_error_code(),
            icd_last_http_status(), icd_last_error_message());
    exit(1);
}

/* Parses a body the library returned, and frees the body: the document keeps what it needs. */
static IcdJson *parse(char *body, const char *what) {
    IcdJson *doc;
    if (body == NULL) die(what);
    doc = icd_json_parse(body);
    icd_free_string(body);
    if (doc == NULL) die("icd_json_parse");
    return doc;
}

/* Prints the title of the code's entity in one language. */
static void print_title(IcdClient *client, const char *code, const char *language) {
    IcdJson *entity;
    const char *title;
    if (icd_client_set_option(client, "language", language) != ICD_OK) die("set_option language");
    entity = parse(icd_entity_by_code(client, code), "icd_entity_by_code"); /* codeinfo, then its stemId */
    title = icd_json_string(entity, "/title"); /* {"@language": ..., "@value": ...} reads as its text */
    printf("C: title %s: %s\n", language, title ? title : "(none)");
    icd_json_free(entity); /* title was borrowed from it */
}

int main(void) {
    /* Plain titles, without the <em class='found'> marks the API adds by default. */
    const char *const search_params[] = {"highlightingEnabled", "false", NULL};
    IcdJson *found;
    const char *code, *title;
    char *info;
    IcdClient *client = icd_client_new(NULL, NULL); /* credentials from the environment */
    if (client == NULL) die("icd_client_new");

    found = parse(icd_search_with(client, "cholera", search_params), "icd_search_with");
    code = icd_json_string(found, "/destinationEntities/0/theCode");
    if (code == NULL) {
        fprintf(stderr, "C: no code in the search result\n");
        return 1;
    }
    title = icd_json_string(found, "/destinationEntities/0/title");
    printf("C: search \"cholera\" -> %s (%s)\n", code, title ? title : "no title");

    info = icd_codeinfo(client, code);
    if (info == NULL) die("icd_codeinfo");
    printf("C: codeinfo %s -> %s\n", code, info);
    icd_free_string(info);

    print_title(client, code, "en");
    print_title(client, code, "fr");

    icd_json_free(found); /* code was borrowed from it */
    icd_client_free(client);
    return 0;
}
