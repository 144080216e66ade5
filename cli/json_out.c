/*
 * --format json through json-c: a command builds its answer as json-c
 * objects and prints it here, compact or, with --pretty-format, indented
 * as rbd's --pretty-format does.
 */
#include <errno.h>

#include "cli.h"
#include "json_out.h"

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

struct json_object *cli_json_string(const char *value)
{
	return value ? json_object_new_string(value) : NULL;
}
