/*
 * --format json: commands build json-c objects (json_object_new_*,
 * json_object_object_add, ...) and print them with cli_json_print.
 * json-c's NULL object is JSON's null.
 */
#ifndef ROWCAT_CLI_JSON_OUT_H
#define ROWCAT_CLI_JSON_OUT_H

#include <json-c/json.h>

struct cli_ctx;

/* Prints value and a newline on stdout: compact, or indented with
 * --pretty-format. Does not take value's reference. */
int cli_json_print(struct cli_ctx *ctx, struct json_object *value);

/* A JSON string, or null for a NULL value. */
struct json_object *cli_json_string(const char *value);

#endif
