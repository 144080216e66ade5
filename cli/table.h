/*
 * Tables on stdout through util-linux's libsmartcols, as lsblk prints
 * them: each command declares its columns, and -o/--output, --raw and
 * --noheadings choose what is printed and how. Also the characters a
 * graph may use: box drawing under a UTF-8 locale, ASCII otherwise.
 */
#ifndef ROWCAT_CLI_TABLE_H
#define ROWCAT_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>

struct cli_ctx;
struct libscols_table;
struct libscols_line;

/* One column a command can print. */
struct cli_column {
	const char *name;   /* as -o takes it and the heading shows it */
	const char *help;   /* one line of --help */
	bool by_default;    /* printed without -o */
	bool right;         /* numbers: aligned right */
};

/* What -o/--output, --raw and --noheadings asked for (CLI_OPT_TABLE). */
struct cli_table_options {
	const char *output;
	bool raw, noheadings;
};

#define CLI_OPT_TABLE(o)                                                   \
	{ 'o', "output", CLI_OPT_STRING, &(o)->output, "COLUMNS",          \
	  "the columns to print, comma-separated (listed\n"                \
	  "above); +COLUMNS adds them to the default ones" },              \
	{ 'r', "raw", CLI_OPT_FLAG, &(o)->raw, NULL,                       \
	  "one space between columns, none aligned, no title or\n"         \
	  "graph; spaces and unsafe bytes written as \\xHH" },             \
	{ 0, "noheadings", CLI_OPT_FLAG, &(o)->noheadings, NULL,           \
	  "no title and no line of column headings" }

/* A table being filled: which of the declared columns are printed. */
struct cli_table {
	struct libscols_table *tb;
	size_t column_count;
	int *position;      /* per declared column: where it is printed, or -1 */
	bool raw, noheadings;
};

/*
 * Makes t, an empty table of the columns o chooses among `columns` (the
 * default ones without -o). A usage error for an unknown column, or for
 * these options with --format json (whose objects hold every field).
 */
int cli_table_init(struct cli_table *t, struct cli_ctx *ctx,
		   const struct cli_column *columns, size_t count,
		   const struct cli_table_options *o);

/* Whether declared column `column` is printed. */
bool cli_table_shows(const struct cli_table *t, size_t column);

/* A new row at the end; NULL when out of memory. */
struct libscols_line *cli_table_row(struct cli_table *t);

/* Sets a cell of declared column `column` (nothing when it is not
 * printed). Returns 0 or -ENOMEM. */
int cli_table_set(struct cli_table *t, struct libscols_line *row,
		  size_t column, const char *text);

/* Prints the table on stdout. */
int cli_table_print(struct cli_table *t, struct cli_ctx *ctx);

void cli_table_free(struct cli_table *t);

/* The characters of a graph: box drawing or ASCII. */
struct cli_graph_glyphs {
	const char *image;      /* a node that is an image: "● " or "* " */
	const char *snapshot;   /* a node that is a snapshot: "○ " or "o " */
	const char *line;       /* a column going on: "│ " or "| " */
	const char *fork;       /* a new column to the right: "├─╮" or "|\\" */
	const char *elided;     /* what was left out above: "~ " */
};

/*
 * Box drawing when the locale's character set (LC_CTYPE, set from the
 * environment by main) is UTF-8, ASCII otherwise (LC_ALL=C, a POSIX
 * locale, a Latin-1 one).
 */
const struct cli_graph_glyphs *cli_graph_glyphs(void);

#endif
