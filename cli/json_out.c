/*
 * --format json through json-c: a command builds its answer as json-c
 * objects and prints it here, compact or, with --pretty-format, indented
 * as rbd's --pretty-format does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "rowcat/names.h"

int cli_json_print(struct cli_ctx *ctx, struct json_object *value)
{
	int flags = ctx->pretty_format ?
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
		JSON_C_TO_STRING_PLAIN;
	const char *text;

	flags |= JSON_C_TO_STRING_NOSLASHESCAPE;
	text = json_object_to_json_string_ext(value, flags);
	if (!text)
		return rc_error_set(&ctx->err, -ENOMEM,
				    "cannot write the JSON answer");
	fputs(text, stdout);
	fputc('\n', stdout);
	return 0;
}

/* json-c copies bytes as they are: the bad ones are replaced here. */
struct json_object *cli_json_string(const char *value)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	struct json_object *str;
	const char *s;
	char *copy, *to;

	if (!value)
		return NULL;
	for (s = value; *s && rc_utf8_sequence_length(s); )
		s += rc_utf8_sequence_length(s);
	if (!*s)
		return json_object_new_string(value);
	copy = malloc(3 * strlen(value) + 1);
	if (!copy)
		return NULL;
	for (s = value, to = copy; *s; ) {
		size_t n = rc_utf8_sequence_length(s);

		if (n) {
			memcpy(to, s, n);
			to += n;
			s += n;
		} else {
			memcpy(to, replacement, 3);
			to += 3;
			s++;
		}
	}
	*to = '\0';
	str = json_object_new_string(copy);
	free(copy);
	return str;
}

struct json_object *cli_json_add_image(struct json_object *obj,
				       const struct rc_image_spec *spec)
{
	json_object_object_add(obj, "pool", cli_json_string(spec->pool));
	json_object_object_add(obj, "pool_namespace", cli_json_string(spec->ns));
	json_object_object_add(obj, "image", cli_json_string(spec->name));
	return obj;
}

struct json_object *cli_json_image(const struct rc_image_spec *spec)
{
	struct json_object *obj = json_object_new_object();

	return obj ? cli_json_add_image(obj, spec) : NULL;
}
