/*
 * --format json through json-c: a command builds its answer as json-c
 * objects and prints it here, compact or, with --pretty-format, indented
 * as rbd's --pretty-format does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/printbuf.h>

#include "cli.h"
#include "json_out.h"
#include "rowcat/clock.h"
#include "rowcat/names.h"

static int write_empty_array(struct json_object *value, struct printbuf *pb,
			     int level, int flags)
{
	(void)value, (void)level, (void)flags;
	return printbuf_memappend(pb, "[]", 2);
}

static int write_empty_object(struct json_object *value, struct printbuf *pb,
			      int level, int flags)
{
	(void)value, (void)level, (void)flags;
	return printbuf_memappend(pb, "{}", 2);
}

/* json-c indents an empty array or object over two lines; rbd, and
 * every reader's eye, keeps it as [] or {}. */
static void keep_empty_on_one_line(struct json_object *value)
{
	size_t n;

	switch (json_object_get_type(value)) {
	case json_type_array:
		n = json_object_array_length(value);
		if (n == 0)
			json_object_set_serializer(value, write_empty_array,
						   NULL, NULL);
		for (size_t i = 0; i < n; i++)
			keep_empty_on_one_line(json_object_array_get_idx(value, i));
		break;
	case json_type_object:
		if (json_object_object_length(value) == 0)
			json_object_set_serializer(value, write_empty_object,
						   NULL, NULL);
		json_object_object_foreach(value, key, member) {
			(void)key;
			keep_empty_on_one_line(member);
		}
		break;
	default:
		break;
	}
}

int cli_json_print(struct cli_ctx *ctx, struct json_object *value)
{
	int flags = ctx->pretty_format ?
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
		JSON_C_TO_STRING_PLAIN;
	const char *text;

	if (ctx->pretty_format)
		keep_empty_on_one_line(value);
	flags |= JSON_C_TO_STRING_NOSLASHESCAPE;
	text = json_object_to_json_string_ext(value, flags);
	if (!text)
		return rc_error_set(&ctx->err, -ENOMEM,
				    "cannot write the JSON answer");
	fputs(text, stdout);
	fputc('\n', stdout);
	return 0;
}

int cli_json_print_array(struct cli_ctx *ctx, const void *items, size_t count,
			 struct json_object *(*item)(const void *items, size_t i),
			 const char *doing)
{
	struct json_object *list = json_object_new_array();
	int rc = list ? 0 : -ENOMEM;

	for (size_t i = 0; rc == 0 && i < count; i++)
		if (!cli_json_append(list, item(items, i)))
			rc = -ENOMEM;
	if (rc == 0)
		rc = cli_json_print(ctx, list);
	json_object_put(list);
	if (rc == -ENOMEM)
		rc = rc_error_set(&ctx->err, rc, "out of memory %s", doing);
	return rc;
}

bool cli_json_append(struct json_object *list, struct json_object *item)
{
	if (list && item && json_object_array_add(list, item) == 0)
		return true;
	json_object_put(item);
	return false;
}

struct json_object *cli_json_nonempty(const char *value)
{
	return value && value[0] ? cli_json_string(value) : NULL;
}

struct json_object *cli_json_time(int64_t t)
{
	char when[RC_ISO_TIME_MAX];

	if (!t)
		return NULL;
	rc_time_format_iso(t, when);
	return json_object_new_string(when);
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
