/*
 * A small streaming JSON writer for --format json. Commas are placed from
 * the last token written, so callers never track "first element" state.
 */
#ifndef ROWCAT_JSON_H
#define ROWCAT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_writer {
	FILE *out;
	char last; /* the last structural character written, or 0 */
};

void json_init(struct json_writer *w, FILE *out);
void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);
void json_string(struct json_writer *w, const char *value);
void json_int(struct json_writer *w, int64_t value);
void json_boolean(struct json_writer *w, bool value); /* json-c owns json_bool */
void json_null(struct json_writer *w);

/* Shorthands for "key": value inside an object. */
void json_kv_string(struct json_writer *w, const char *key, const char *value);
void json_kv_int(struct json_writer *w, const char *key, int64_t value);
void json_kv_bool(struct json_writer *w, const char *key, bool value);

#endif
