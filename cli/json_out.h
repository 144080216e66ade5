/*
 * --format json: commands build json-c objects (json_object_new_*,
 * json_object_object_add, ...) and print them with cli_json_print.
 * json-c's NULL object is JSON's null. The keys follow rbd's JSON; the
 * README's "JSON output" table is the vocabulary every command shares.
 */
#ifndef ROWCAT_CLI_JSON_OUT_H
#define ROWCAT_CLI_JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

struct cli_ctx;
struct rc_image_spec;

/* Prints value and a newline on stdout: compact, or indented with
 * --pretty-format. Does not take value's reference. */
int cli_json_print(struct cli_ctx *ctx, struct json_object *value);

/* Prints an array of count items, item(items, i) making item i, as
 * cli_json_print does; "out of memory DOING" when json-c cannot. */
int cli_json_print_array(struct cli_ctx *ctx, const void *items, size_t count,
			 struct json_object *(*item)(const void *items, size_t i),
			 const char *doing);

/* Adds item to list; false, with item dropped, when json-c cannot (either
 * is NULL, or out of memory). */
bool cli_json_append(struct json_object *list, struct json_object *item);

/* A JSON string, or null for NULL or "" (not recorded). */
struct json_object *cli_json_nonempty(const char *value);

/* A time as ISO 8601 UTC text, or null for 0 (never). */
struct json_object *cli_json_time(int64_t t);

/* A JSON string, or null for a NULL value. Names are checked to be UTF-8
 * when they are given, but a catalog made before that check, or a
 * cluster, may still hold other bytes: each byte that begins no UTF-8
 * sequence becomes U+FFFD, so the output is always valid JSON. */
struct json_object *cli_json_string(const char *value);

/* Adds an image as rbd names one, "pool", "pool_namespace" ("" for the
 * default namespace) and "image", to obj; returns obj. */
struct json_object *cli_json_add_image(struct json_object *obj,
				       const struct rc_image_spec *spec);

/* The image alone, as an object of those three keys (rbd's "parent"
 * without its snapshot). */
struct json_object *cli_json_image(const struct rc_image_spec *spec);

#endif
