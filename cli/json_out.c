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

/*
 * A catalog written before names were checked may hold bytes that are not
 * UTF-8; json-c would pass them through and make the answer invalid JSON,
 * so each becomes U+FFFD, as a JSON reader would show it.
 */
struct json_object *cli_json_string(const char *value)
{
	static const char replacement[] = "\xef\xbf\xbd";
	struct json_object *out;
	size_t len, at = 0, used = 0, n;
	char *copy;

	if (!value)
		return NULL;
	len = strlen(value);
	while (at < len && (n = rc_utf8_sequence_length(value + at)) > 0)
		at += n;
	if (at == len)
		return json_object_new_string(value);
	copy = malloc(len * (sizeof(replacement) - 1) + 1);
	if (!copy)
		return NULL;
	for (at = 0; at < len; at += n) {
		n = rc_utf8_sequence_length(value + at);
		if (n == 0) {
			memcpy(copy + used, replacement, sizeof(replacement) - 1);
			used += sizeof(replacement) - 1;
			n = 1;
		} else {
			memcpy(copy + used, value + at, n);
			used += n;
		}
	}
	out = json_object_new_string_len(copy, (int)used);
	free(copy);
	return out;
}
