/*
 * Declared options: each command lists its options as data (struct
 * cli_spec), and the same declaration drives parsing and --help, so the
 * help never lies. The parsing is glibc's getopt_long, over one table per
 * command: the command's options and the global ones together, so global
 * options are accepted before the command name and among its arguments
 * alike, as rbd accepts them.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "table.h"
#include "rowcat/policy.h"

#define GLOBAL_OPTION_COUNT 18

/* Options of one command and the global ones, with --help: at most. */
#define MERGED_OPTION_MAX 64

/* Where an option's help starts: two spaces, the option, a space; on a
 * terminal narrower than HELP_BESIDE_MIN, on the next line at
 * HELP_BELOW_COLUMN, so that a long word of the help (a path) still fits. */
#define HELP_COLUMN 31
#define HELP_BESIDE_MIN 72
#define HELP_BELOW_COLUMN 8

/* Where a table column's help starts, after "  * POLICY-TIME ". */
#define COLUMN_HELP_COLUMN 17

/* getopt_long's val of the option at index i of a merged table; above any
 * short option's character, so a long name never reads as a short one. */
#define LONG_VAL(i) (256 + (i))

static void global_options(struct cli_ctx *ctx,
			   struct cli_option out[GLOBAL_OPTION_COUNT])
{
	const struct cli_option table[GLOBAL_OPTION_COUNT] = {
		{ 0, "catalog", CLI_OPT_STRING, &ctx->catalog_path, "PATH",
		  "the catalog, a file or rados://POOL[/NS]/NAME (default "
		  "$ROWCAT_CATALOG, else 'catalog = ...' in "
		  "/etc/rowcat/rowcat.conf or $ROWCAT_CONFIG, else "
		  "/var/lib/rowcat/catalog.db as root, else "
		  "$XDG_DATA_HOME/rowcat/catalog.db)" },
		{ 'c', "conf", CLI_OPT_STRING, &ctx->ceph.conf, "FILE",
		  "Ceph configuration file (default: as librados finds it)" },
		{ 0, "cluster", CLI_OPT_STRING, &ctx->ceph.cluster, "NAME",
		  "Ceph cluster name (default ceph)" },
		{ 0, "id", CLI_OPT_STRING, &ctx->ceph.id, "ID",
		  "Ceph client id: connect as client.ID (default admin)" },
		{ 0, "user", CLI_OPT_STRING, &ctx->ceph.id, "ID",
		  "same as --id" },
		{ 'n', "name", CLI_OPT_STRING, &ctx->ceph.name, "client.ID",
		  "Ceph client name" },
		{ 'k', "keyring", CLI_OPT_STRING, &ctx->ceph.keyring, "FILE",
		  "Ceph keyring" },
		{ 'm', "mon-host", CLI_OPT_STRING, &ctx->ceph.mon_host, "ADDR",
		  "Ceph monitor address(es)" },
		{ 0, "timeout", CLI_OPT_SECONDS, &ctx->ceph.timeout_seconds,
		  "DURATION", "give up when connecting, or one cluster request, "
		  "takes this long: 30s, 2m, or whole seconds (default 2m)" },
		{ 0, "format", CLI_OPT_STRING, &ctx->format_text, "plain|json",
		  "output format (default plain); json for the commands that "
		  "print it; dot (Graphviz) for tree" },
		{ 0, "pretty-format", CLI_OPT_FLAG, &ctx->pretty_format, NULL,
		  "indent --format json output for reading" },
		{ 'q', "quiet", CLI_OPT_FLAG, &ctx->quiet, NULL,
		  "no progress or informational messages" },
		{ 0, "no-progress", CLI_OPT_FLAG, &ctx->no_progress, NULL,
		  "no progress lines (flatten, gc), as rbd's --no-progress" },
		{ 0, "on-switch", CLI_OPT_STRING, &ctx->on_switch, "CMD",
		  "run CMD (sh -c) whenever a volume's operating image changes "
		  "(default $ROWCAT_ON_SWITCH)" },
		{ 0, "on-freeze", CLI_OPT_STRING, &ctx->on_freeze, "CMD",
		  "a snap runs CMD (sh -c) before its snapshot, to freeze a "
		  "consumer that is not QEMU (krbd, rbd-nbd, a script); needs "
		  "--on-thaw (default $ROWCAT_ON_FREEZE)" },
		{ 0, "on-thaw", CLI_OPT_STRING, &ctx->on_thaw, "CMD",
		  "a snap with --on-freeze runs CMD at its end, after the "
		  "switch hook, whatever happened; recover runs it after a "
		  "crash (default $ROWCAT_ON_THAW)" },
		{ 0, "hook-timeout", CLI_OPT_SECONDS, &ctx->hook_timeout_seconds,
		  "DURATION", "stop a hook (SIGTERM, SIGKILL 5 s later) after "
		  "this long: 30s, 2m, or whole seconds (default "
		  "$ROWCAT_HOOK_TIMEOUT, else 1m)" },
		CLI_OPT_END,
	};
	memcpy(out, table, sizeof(table));
}

static const struct cli_option help_option = {
	'h', "help", CLI_OPT_FLAG, NULL, NULL, "describe the command"
};

int cli_seconds_parse(const char *text, int *seconds, struct rc_error *err)
{
	int64_t n = 0;
	size_t digits = strspn(text, "0123456789");
	int rc;

	/* a bare number was seconds before durations had units here */
	if (digits > 0 && text[digits] == '\0') {
		if (digits > 10)
			return rc_error_usage(err, "'%s' seconds is too long",
					      text);
		n = strtoll(text, NULL, 10);
	} else {
		rc = policy_duration_parse(text, &n, err);
		if (rc < 0)
			return rc;
	}
	if (n < 1)
		return rc_error_usage(err, "'%s' is less than 1s", text);
	if (n > INT_MAX)
		return rc_error_usage(err, "'%s' is too long", text);
	*seconds = (int)n;
	return 0;
}

static int store(struct cli_ctx *ctx, const struct cli_option *opt,
		 const char *value)
{
	char *end;
	long n;
	int rc;

	switch (opt->kind) {
	case CLI_OPT_FLAG:
		*(bool *)opt->value = true;
		return 0;
	case CLI_OPT_STRING:
		*(const char **)opt->value = value;
		return 0;
	case CLI_OPT_INT:
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno || *end || end == value || n <= 0 || n > INT_MAX)
			return rc_error_usage(&ctx->err,
				"--%s needs a positive whole number, not '%s'",
				opt->long_name, value);
		*(int *)opt->value = (int)n;
		return 0;
	case CLI_OPT_SECONDS:
		rc = cli_seconds_parse(value, (int *)opt->value, &ctx->err);
		if (rc < 0)
			return rc_error_prefix(&ctx->err, "--%s: ",
					       opt->long_name);
		return 0;
	}
	return -EINVAL;
}

/* ---- the help, wrapped at the terminal's width -------------------------- */

int cli_help_width(void)
{
	struct winsize ws;
	const char *columns = getenv("COLUMNS");
	int width = 80;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		width = ws.ws_col;
	} else if (columns && columns[0]) {
		char *end;
		long n = strtol(columns, &end, 10);

		if (*end == '\0' && n > 0 && n < 10000)
			width = (int)n;
	}
	/* below this the option column leaves no room for its help */
	return width < 50 ? 50 : width;
}

void cli_wrap(FILE *out, const char *text, int column, int indent, int width)
{
	const char *p = text;
	bool line_start = true; /* nothing of text on this line yet */

	while (*p) {
		size_t len;

		if (*p == '\n' && p[1] == '\n') {
			/* an empty line: a new paragraph */
			fprintf(out, "\n\n%*s", indent, "");
			column = indent;
			line_start = true;
			p += 2;
			continue;
		}
		if (*p == ' ' || *p == '\n') {
			p++;
			continue;
		}
		len = strcspn(p, " \n");
		if (!line_start && column + 1 + (int)len > width) {
			fprintf(out, "\n%*s", indent, "");
			column = indent;
			line_start = true;
		}
		if (!line_start) {
			fputc(' ', out);
			column++;
		}
		fwrite(p, 1, len, out);
		column += (int)len;
		line_start = false;
		p += len;
	}
}

/* The usage line: continuation lines start under the command's first
 * argument, and no [group] is split. */
static void print_usage(FILE *out, const char *usage, int width)
{
	const char *p = usage;
	int column = fprintf(out, "usage: rowcat ");
	int indent = column + (int)strcspn(usage, " ") + 1;
	bool line_start = true;

	if (indent > width / 2)
		indent = column;
	while (*p) {
		const char *q = p;
		int depth = 0;

		if (*p == ' ') {
			p++;
			continue;
		}
		for (; *q && (depth > 0 || *q != ' '); q++)
			depth += (*q == '[') - (*q == ']');
		if (!line_start && column + 1 + (int)(q - p) > width) {
			fprintf(out, "\n%*s", indent, "");
			column = indent;
			line_start = true;
		}
		if (!line_start)
			column += fprintf(out, " ");
		column += fprintf(out, "%.*s", (int)(q - p), p);
		line_start = false;
		p = q;
	}
	fputc('\n', out);
}

static void print_options(FILE *out, const struct cli_option *opts, int width)
{
	int column = width < HELP_BESIDE_MIN ? HELP_BELOW_COLUMN : HELP_COLUMN;

	for (; opts && opts->long_name; opts++) {
		char left[64];
		int n;

		if (opts->short_name)
			n = snprintf(left, sizeof(left), "-%c, ", opts->short_name);
		else
			n = snprintf(left, sizeof(left), "    ");
		snprintf(left + n, sizeof(left) - (size_t)n, "--%s%s%s",
			 opts->long_name, opts->arg_name ? " " : "",
			 opts->arg_name ? opts->arg_name : "");
		n = fprintf(out, "  %s", left);
		if (n >= column)
			fprintf(out, "\n%*s", column, "");
		else
			fprintf(out, "%*s", column - n, "");
		cli_wrap(out, opts->help, column, column, width);
		fputc('\n', out);
	}
}

void cli_print_global_help(FILE *out)
{
	struct cli_ctx scratch = {0};
	struct cli_option globals[GLOBAL_OPTION_COUNT];

	global_options(&scratch, globals);
	fprintf(out, "global options (before or after the command):\n");
	print_options(out, globals, cli_help_width());
}

/* A table's columns as -o takes them, each with its help, the default
 * ones starred. */
static void print_columns(FILE *out, const struct cli_column *columns,
			  size_t count, int width)
{
	fprintf(out, "\ncolumns (-o; * printed by default):\n");
	for (size_t c = 0; c < count; c++) {
		int n = fprintf(out, "  %c %s", columns[c].by_default ? '*' : ' ',
				columns[c].name);

		if (n >= COLUMN_HELP_COLUMN)
			fprintf(out, "\n%*s", COLUMN_HELP_COLUMN, "");
		else
			fprintf(out, "%*s", COLUMN_HELP_COLUMN - n, "");
		cli_wrap(out, columns[c].help, COLUMN_HELP_COLUMN,
			 COLUMN_HELP_COLUMN, width);
		fputc('\n', out);
	}
}

static void print_command_help(const struct cli_spec *spec,
			       const struct cli_column *columns,
			       size_t column_count)
{
	int width = cli_help_width();

	print_usage(stdout, spec->usage, width);
	putchar('\n');
	cli_wrap(stdout, spec->description, 0, 0, width);
	putchar('\n');
	if (columns)
		print_columns(stdout, columns, column_count, width);
	if (spec->options && spec->options->long_name) {
		printf("\noptions:\n");
		print_options(stdout, spec->options, width);
	}
	putchar('\n');
	cli_wrap(stdout, "Global options (the catalog, how to reach Ceph, "
		 "--format, hooks, -q) go before or after the command; "
		 "'rowcat --help' lists them.", 0, 0, width);
	putchar('\n');
}

/* ---- parsing -------------------------------------------------------------- */

/* The first option of table[0..n) that shares a name with opt. */
static const struct cli_option *clash_of(const struct cli_option *opt,
					 const struct cli_option *table, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].long_name, opt->long_name) == 0 ||
		    (opt->short_name && table[i].short_name == opt->short_name))
			return &table[i];
	return NULL;
}

/*
 * One table of the global options, --help and the command's options
 * (opts, may be NULL): merged[] with a NULL long_name at its end. A
 * command may name a global option only as that option itself
 * (CLI_OPT_FORMAT); any other clash of names, long or short, is the
 * programmer's error, reported whatever the command line is, so that the
 * test that asks every command for its --help finds it.
 */
static int merge_options(struct cli_ctx *ctx, const char *command,
			 const struct cli_option *opts,
			 const struct cli_option *globals,
			 struct cli_option merged[MERGED_OPTION_MAX])
{
	size_t n = 0;

	for (; globals->long_name; globals++)
		merged[n++] = *globals;
	merged[n++] = help_option;
	for (; opts && opts->long_name; opts++) {
		const struct cli_option *other = clash_of(opts, merged, n);

		if (other && other->value == opts->value &&
		    other->short_name == opts->short_name &&
		    strcmp(other->long_name, opts->long_name) == 0)
			continue;
		if (other)
			return rc_error_set(&ctx->err, -EINVAL, "internal error: "
				"%s declares -%c/--%s, which clashes with -%c/--%s",
				command, opts->short_name ? opts->short_name : '-',
				opts->long_name,
				other->short_name ? other->short_name : '-',
				other->long_name);
		if (n + 1 >= MERGED_OPTION_MAX)
			return rc_error_set(&ctx->err, -E2BIG, "internal error: "
					    "%s declares too many options", command);
		merged[n++] = *opts;
	}
	merged[n] = (struct cli_option)CLI_OPT_END;
	return 0;
}

/*
 * getopt_long's view of a merged table: longs[] and the short options'
 * string, which starts with mode ("-" in order, "+" up to the first
 * argument) and ':' (a missing value is reported, not printed).
 */
static void getopt_tables(const struct cli_option *merged, const char *mode,
			  struct option longs[MERGED_OPTION_MAX],
			  char shorts[3 * MERGED_OPTION_MAX])
{
	size_t n = 0, s = 0;

	s += (size_t)snprintf(shorts, 3, "%s:", mode);
	for (; merged[n].long_name; n++) {
		longs[n] = (struct option){
			merged[n].long_name,
			merged[n].kind == CLI_OPT_FLAG ? no_argument
						       : required_argument,
			NULL, LONG_VAL((int)n),
		};
		if (merged[n].short_name) {
			shorts[s++] = merged[n].short_name;
			if (merged[n].kind != CLI_OPT_FLAG)
				shorts[s++] = ':';
		}
	}
	longs[n] = (struct option){ NULL, 0, NULL, 0 };
	shorts[s] = '\0';
}

/* The entry of merged that getopt_long's val or optopt c stands for. */
static const struct cli_option *entry_of(const struct cli_option *merged,
					 int c)
{
	if (c >= LONG_VAL(0))
		return &merged[c - LONG_VAL(0)];
	for (; merged->long_name; merged++)
		if (merged->short_name && merged->short_name == c)
			return merged;
	return NULL;
}

/* Whether token ("--name" or "--name=value") spells long_name in full:
 * getopt_long also takes a unique abbreviation, which a later option
 * could make ambiguous under a script that relied on it. */
static bool spelled_out(const char *token, const char *long_name)
{
	size_t len;

	if (strncmp(token, "--", 2) != 0)
		return true;
	token += 2;
	len = strcspn(token, "=");
	return strlen(long_name) == len && strncmp(token, long_name, len) == 0;
}

static int unknown_option(struct cli_ctx *ctx, const char *token, int c)
{
	if (c > 0 && c < LONG_VAL(0))
		return rc_error_usage(&ctx->err, "unknown option '-%c'", c);
	return rc_error_usage(&ctx->err, "unknown option '%.*s'",
			      (int)strcspn(token, "="), token);
}

/*
 * Runs getopt_long over argv with merged; stops at an option that has
 * no value to store (--help, --version: *stop points to it), at the end,
 * at "--", or, in "+" mode, at the first argument. Each argument met in
 * "-" mode is moved to argv[1 + *count]; *next is the index getopt_long
 * stopped at.
 */
static int run_getopt(struct cli_ctx *ctx, const struct cli_option *merged,
		      const char *mode, int argc, char **argv, int *count,
		      int *next, const struct cli_option **stop)
{
	struct option longs[MERGED_OPTION_MAX];
	char shorts[3 * MERGED_OPTION_MAX];
	int c, rc;

	getopt_tables(merged, mode, longs, shorts);
	*stop = NULL;
	opterr = 0;
	optind = 0; /* glibc: start over, on a new argv */
	for (;;) {
		const struct cli_option *opt;
		int index = -1;

		c = getopt_long(argc, argv, shorts, longs, &index);
		if (c == -1)
			break;
		if (c == 1) {
			/* "-" mode keeps the order, so argv[1 + *count] is a
			 * slot getopt_long has passed and never reads again */
			argv[1 + (*count)++] = optarg;
			continue;
		}
		if (c == '?') {
			opt = optopt ? entry_of(merged, optopt) : NULL;
			if (!opt || !spelled_out(argv[optind - 1], opt->long_name))
				return unknown_option(ctx, argv[optind - 1], optopt);
			return rc_error_usage(&ctx->err, "option --%s takes no value",
					      opt->long_name);
		}
		if (c == ':') {
			opt = entry_of(merged, optopt);
			if (!opt || !spelled_out(argv[optind - 1], opt->long_name))
				return unknown_option(ctx, argv[optind - 1], optopt);
			return rc_error_usage(&ctx->err, "option --%s needs a value (%s)",
					      opt->long_name, opt->arg_name);
		}
		opt = entry_of(merged, c);
		if (!opt)
			return rc_error_set(&ctx->err, -EINVAL, "internal error: "
					    "getopt_long returned %d", c);
		if (index >= 0) {
			/* the option's own word: before its value when that
			 * came as the next argument */
			const char *token = argv[optind - 1];

			if (opt->kind != CLI_OPT_FLAG && optarg == argv[optind - 1])
				token = argv[optind - 2];
			if (!spelled_out(token, opt->long_name))
				return unknown_option(ctx, token, 0);
		}
		if (opt->value == NULL) {
			*stop = opt;
			break;
		}
		rc = store(ctx, opt, optarg);
		if (rc < 0)
			return rc;
	}
	*next = optind;
	return 0;
}

/* Whether the '|'-separated list names word. */
static bool listed(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; p; p = strchr(p, '|')) {
		p += *p == '|';
		if (strncmp(p, word, len) == 0 && (p[len] == '|' || !p[len]))
			return true;
	}
	return false;
}

/* --format against what the command declares: plain always; json and
 * dot only where its --format lists them. */
static int check_format(struct cli_ctx *ctx, const struct cli_spec *spec)
{
	const char *declared = NULL;
	const char *text = ctx->format_text;

	for (const struct cli_option *o = spec->options; o && o->long_name; o++)
		if (o->value == (void *)&ctx->format_text)
			declared = o->arg_name;
	if (!text || strcmp(text, "plain") == 0)
		ctx->format = FORMAT_PLAIN;
	else if (strcmp(text, "json") == 0)
		ctx->format = FORMAT_JSON;
	else if (strcmp(text, "dot") == 0)
		ctx->format = FORMAT_DOT;
	else if (declared && listed(declared, "dot"))
		return rc_error_usage(&ctx->err,
			"--format must be plain, json or dot, not '%s'", text);
	else
		return rc_error_usage(&ctx->err,
			"--format must be plain or json, not '%s'", text);
	if (ctx->format == FORMAT_JSON && !declared)
		return rc_error_usage(&ctx->err, "--format json: 'rowcat %.*s' "
				      "has no JSON output",
				      (int)strcspn(spec->usage, " "), spec->usage);
	if (ctx->format == FORMAT_DOT && !(declared && listed(declared, "dot")))
		return rc_error_usage(&ctx->err, "--format dot: 'rowcat %.*s' "
				      "draws no graph (only tree does)",
				      (int)strcspn(spec->usage, " "), spec->usage);
	return 0;
}

int cli_parse_table(struct cli_ctx *ctx, const struct cli_spec *spec,
		    const struct cli_column *columns, size_t column_count,
		    int argc, char **argv)
{
	struct cli_option globals[GLOBAL_OPTION_COUNT];
	struct cli_option merged[MERGED_OPTION_MAX];
	const struct cli_option *help;
	int count = 0, next, rc;

	global_options(ctx, globals);
	rc = merge_options(ctx, argv[0], spec->options, globals, merged);
	if (rc < 0)
		return rc;
	rc = run_getopt(ctx, merged, "-", argc, argv, &count, &next, &help);
	if (rc < 0)
		return rc;
	if (help) {
		print_command_help(spec, columns, column_count);
		ctx->help_shown = true;
		return 0;
	}
	/* what follows "--" */
	for (int i = next; i < argc; i++)
		argv[1 + count++] = argv[i];
	if (count < spec->min_args || count > spec->max_args)
		return rc_error_usage(&ctx->err, "usage: rowcat %s", spec->usage);
	rc = check_format(ctx, spec);
	return rc < 0 ? rc : count;
}

int cli_parse(struct cli_ctx *ctx, const struct cli_spec *spec, int argc,
	      char **argv)
{
	return cli_parse_table(ctx, spec, NULL, 0, argc, argv);
}

int cli_parse_global(struct cli_ctx *ctx, int argc, char **argv,
		     enum cli_request *request)
{
	static const struct cli_option version[] = {
		{ 0, "version", CLI_OPT_FLAG, NULL, NULL, NULL }, CLI_OPT_END,
	};
	struct cli_option globals[GLOBAL_OPTION_COUNT];
	struct cli_option merged[MERGED_OPTION_MAX];
	const struct cli_option *stop;
	int count = 0, next, rc;

	global_options(ctx, globals);
	rc = merge_options(ctx, "rowcat", version, globals, merged);
	if (rc < 0)
		return rc;
	rc = run_getopt(ctx, merged, "+", argc, argv, &count, &next, &stop);
	if (rc < 0)
		return rc;
	*request = !stop ? CLI_RUN_COMMAND
		   : strcmp(stop->long_name, "version") == 0 ? CLI_SHOW_VERSION
		   : CLI_SHOW_HELP;
	return next;
}
