#include "json.h"

#include <inttypes.h>

#include "rowcat/names.h"

void json_init(struct json_writer *w, FILE *out)
{
	w->out = out;
	w->last = 0;
}

/* A value or key after a complete value needs a comma first. */
static void separate(struct json_writer *w)
{
	if (w->last && w->last != '{' && w->last != '[' && w->last != ':')
		fputc(',', w->out);
}

static void emit(struct json_writer *w, char c)
{
	fputc(c, w->out);
	w->last = c;
}

void json_object_begin(struct json_writer *w)
{
	separate(w);
	emit(w, '{');
}

void json_object_end(struct json_writer *w)
{
	emit(w, '}');
}

void json_array_begin(struct json_writer *w)
{
	separate(w);
	emit(w, '[');
}

void json_array_end(struct json_writer *w)
{
	emit(w, ']');
}

/* Writes s as a JSON string. Names are checked to be UTF-8 when they are
 * given, but a catalog made before that check, or a cluster, may still
 * hold other bytes: each byte that begins no UTF-8 sequence is written as
 * U+FFFD, so the output is always valid JSON. */
static void write_string(FILE *out, const char *s)
{
	fputc('"', out);
	while (*s) {
		unsigned char c = (unsigned char)*s;
		size_t n = rc_utf8_sequence_length(s);

		switch (c) {
		case '"':  fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\t': fputs("\\t", out); break;
		case '\r': fputs("\\r", out); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(out, "\\u%04x", c);
			else if (n == 0)
				fputs("\\ufffd", out);
			else
				fwrite(s, 1, n, out);
		}
		s += n ? n : 1;
	}
	fputc('"', out);
}

void json_key(struct json_writer *w, const char *key)
{
	separate(w);
	write_string(w->out, key);
	emit(w, ':');
}

void json_string(struct json_writer *w, const char *value)
{
	separate(w);
	write_string(w->out, value);
	w->last = '"';
}

void json_int(struct json_writer *w, int64_t value)
{
	separate(w);
	fprintf(w->out, "%" PRId64, value);
	w->last = '0';
}

void json_boolean(struct json_writer *w, bool value)
{
	separate(w);
	fputs(value ? "true" : "false", w->out);
	w->last = 'e';
}

void json_null(struct json_writer *w)
{
	separate(w);
	fputs("null", w->out);
	w->last = 'l';
}

void json_kv_string(struct json_writer *w, const char *key, const char *value)
{
	json_key(w, key);
	json_string(w, value);
}

void json_kv_int(struct json_writer *w, const char *key, int64_t value)
{
	json_key(w, key);
	json_int(w, value);
}

void json_kv_bool(struct json_writer *w, const char *key, bool value)
{
	json_key(w, key);
	json_boolean(w, value);
}
