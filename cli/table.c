/*
 * Tables through libsmartcols, the library behind lsblk and findmnt: it
 * measures cells in terminal columns (multibyte characters included),
 * aligns, and writes --raw output with unsafe bytes escaped.
 */
#include <errno.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libsmartcols/libsmartcols.h>

#include "cli.h"
#include "table.h"

static int find_column(const struct cli_column *columns, size_t count,
		       const char *name, size_t len)
{
	for (size_t c = 0; c < count; c++)
		if (strlen(columns[c].name) == len &&
		    strncasecmp(columns[c].name, name, len) == 0)
			return (int)c;
	return -1;
}

/* The declared columns in the order -o names them, or the default ones. */
static int choose_columns(struct cli_ctx *ctx, const struct cli_column *columns,
			  size_t count, const char *output, int *order,
			  size_t *chosen)
{
	const char *at = output;

	*chosen = 0;
	if (!output || output[0] == '+') {
		for (size_t c = 0; c < count; c++)
			if (columns[c].by_default)
				order[(*chosen)++] = (int)c;
		if (!output)
			return 0;
		at++;
	}
	for (;;) {
		size_t len = strcspn(at, ",");
		int c = find_column(columns, count, at, len);

		if (c < 0)
			return rc_error_usage(&ctx->err,
				"unknown column '%.*s' for --output; "
				"--help lists the columns", (int)len, at);
		for (size_t i = 0; i < *chosen; i++)
			if (order[i] == c)
				return rc_error_usage(&ctx->err,
					"column %s is printed already; "
					"--output names each column once",
					columns[c].name);
		order[(*chosen)++] = c;
		if (at[len] == '\0')
			return 0;
		at += len + 1;
	}
}

int cli_table_init(struct cli_table *t, struct cli_ctx *ctx,
		   const struct cli_column *columns, size_t count,
		   const struct cli_table_options *o)
{
	int *order = NULL;
	size_t chosen;
	int rc;

	memset(t, 0, sizeof(*t));
	if (ctx->format == FORMAT_JSON && (o->output || o->raw || o->noheadings))
		return rc_error_usage(&ctx->err,
			"--output, --raw and --noheadings shape the plain table; "
			"--format json prints every field");
	t->column_count = count;
	t->raw = o->raw;
	t->noheadings = o->noheadings;
	t->position = malloc(count * sizeof(*t->position));
	order = malloc(count * sizeof(*order));
	if (!t->position || !order) {
		rc = rc_error_set(&ctx->err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = choose_columns(ctx, columns, count, o->output, order, &chosen);
	if (rc < 0)
		goto out;
	t->tb = scols_new_table();
	if (!t->tb) {
		rc = rc_error_set(&ctx->err, -ENOMEM, "out of memory");
		goto out;
	}
	scols_table_enable_raw(t->tb, o->raw);
	scols_table_enable_noheadings(t->tb, o->noheadings);
	for (size_t c = 0; c < count; c++)
		t->position[c] = -1;
	for (size_t i = 0; i < chosen; i++) {
		const struct cli_column *col = &columns[order[i]];

		/* never truncated: a cut name or time is a wrong one */
		if (!scols_table_new_column(t->tb, col->name, 0,
					    col->right ? SCOLS_FL_RIGHT : 0)) {
			rc = rc_error_set(&ctx->err, -ENOMEM, "out of memory");
			goto out;
		}
		t->position[order[i]] = (int)i;
	}
	rc = 0;
out:
	free(order);
	if (rc < 0)
		cli_table_free(t);
	return rc;
}

bool cli_table_shows(const struct cli_table *t, size_t column)
{
	return column < t->column_count && t->position[column] >= 0;
}

struct libscols_line *cli_table_row(struct cli_table *t)
{
	return scols_table_new_line(t->tb, NULL);
}

int cli_table_set(struct cli_table *t, struct libscols_line *row,
		  size_t column, const char *text)
{
	if (!cli_table_shows(t, column))
		return 0;
	return scols_line_set_data(row, (size_t)t->position[column], text) < 0 ?
		-ENOMEM : 0;
}

/* Prints text without the blanks libsmartcols pads a line's empty last
 * cells with. */
static void put_trimmed(const char *text)
{
	while (*text) {
		size_t len = strcspn(text, "\n"), end = len;

		while (end > 0 && text[end - 1] == ' ')
			end--;
		fwrite(text, 1, end, stdout);
		if (text[len] == '\n')
			fputc('\n', stdout);
		text += len + (text[len] == '\n');
	}
}

int cli_table_print(struct cli_table *t, struct cli_ctx *ctx)
{
	char *text = NULL;

	if (t->raw) /* every cell stays where a script counts it */
		return scols_print_table(t->tb) < 0 ?
			rc_error_set(&ctx->err, -EIO, "cannot print the table") : 0;
	if (scols_print_table_to_string(t->tb, &text) < 0)
		return rc_error_set(&ctx->err, -ENOMEM, "out of memory printing the table");
	put_trimmed(text);
	/* a table ends its last line only when printed to a stream */
	if (text[0] && text[strlen(text) - 1] != '\n')
		fputc('\n', stdout);
	free(text);
	return 0;
}

void cli_table_free(struct cli_table *t)
{
	scols_unref_table(t->tb);
	free(t->position);
	memset(t, 0, sizeof(*t));
}

const struct cli_graph_glyphs *cli_graph_glyphs(void)
{
	static const struct cli_graph_glyphs utf8 = {
		"\u25cf ", "\u25cb ", "\u2502 ", "\u251c\u2500\u256e", "~ ",
	};
	static const struct cli_graph_glyphs ascii = {
		"* ", "o ", "| ", "|\\", "~ ",
	};
	const char *codeset = nl_langinfo(CODESET);

	return codeset && (strcasecmp(codeset, "UTF-8") == 0 ||
			   strcasecmp(codeset, "utf8") == 0) ? &utf8 : &ascii;
}
