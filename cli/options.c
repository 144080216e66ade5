/*
 * Declared options: each command lists its options as data (struct
 * cli_spec), and the same declaration drives parsing and --help, so the
 * help never lies. Global options are accepted before the command name and
 * among its arguments alike, as rbd accepts them.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define GLOBAL_OPTION_COUNT 17

static void global_options(struct cli_ctx *ctx,
			   struct cli_option out[GLOBAL_OPTION_COUNT])
{
	const struct cli_option table[GLOBAL_OPTION_COUNT] = {
		{ 0, "catalog", CLI_OPT_STRING, &ctx->catalog_path, "PATH",
		  "the catalog (default $ROWCAT_CATALOG, else "
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
		{ 0, "timeout", CLI_OPT_INT, &ctx->ceph.timeout_seconds, "SECONDS",
		  "give up when connecting, or one cluster request, takes this "
		  "long (default 120)" },
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
		  "a snap runs CMD (sh -c) before its snapshot, to freeze a\n"
		  "consumer that is not QEMU (krbd, rbd-nbd, a script); needs\n"
		  "--on-thaw (default $ROWCAT_ON_FREEZE)" },
		{ 0, "on-thaw", CLI_OPT_STRING, &ctx->on_thaw, "CMD",
		  "a snap with --on-freeze runs CMD at its end, after the\n"
		  "switch hook, whatever happened; recover runs it after a\n"
		  "crash (default $ROWCAT_ON_THAW)" },
		{ 0, "hook-timeout", CLI_OPT_INT, &ctx->hook_timeout_seconds,
		  "SECONDS", "stop a hook (SIGTERM, SIGKILL 5 s later) after "
		  "this long\n(default $ROWCAT_HOOK_TIMEOUT, else 60)" },
		CLI_OPT_END,
	};
	memcpy(out, table, sizeof(table));
}

static const struct cli_option *find_long(const struct cli_option *opts,
					  const char *name, size_t len)
{
	for (; opts && opts->long_name; opts++)
		if (strlen(opts->long_name) == len &&
		    strncmp(opts->long_name, name, len) == 0)
			return opts;
	return NULL;
}

static const struct cli_option *find_short(const struct cli_option *opts,
					   char c)
{
	for (; opts && opts->long_name; opts++)
		if (opts->short_name && opts->short_name == c)
			return opts;
	return NULL;
}

static int store(struct cli_ctx *ctx, const struct cli_option *opt,
		 const char *value)
{
	char *end;
	long n;

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
	}
	return -EINVAL;
}

/*
 * Applies the option at argv[*i] (found in cmd_opts or globals); advances *i
 * past its value. Returns 0, or a usage error.
 */
static int take_option(struct cli_ctx *ctx, const struct cli_option *cmd_opts,
		       const struct cli_option *globals, int argc, char **argv,
		       int *i)
{
	const char *arg = argv[*i];
	const struct cli_option *opt;
	const char *value = NULL;

	if (arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);

		opt = find_long(cmd_opts, name, len);
		if (!opt)
			opt = find_long(globals, name, len);
		if (!opt)
			return rc_error_usage(&ctx->err, "unknown option '%.*s'",
					      (int)len + 2, arg);
		if (eq && opt->kind == CLI_OPT_FLAG)
			return rc_error_usage(&ctx->err,
					      "option --%s takes no value",
					      opt->long_name);
		if (eq)
			value = eq + 1;
	} else {
		opt = arg[2] == '\0' ? find_short(cmd_opts, arg[1]) : NULL;
		if (!opt && arg[2] == '\0')
			opt = find_short(globals, arg[1]);
		if (!opt)
			return rc_error_usage(&ctx->err, "unknown option '%s'", arg);
	}
	if (opt->kind != CLI_OPT_FLAG && !value) {
		if (*i + 1 >= argc)
			return rc_error_usage(&ctx->err, "option --%s needs a value (%s)",
					      opt->long_name, opt->arg_name);
		value = argv[++*i];
	}
	return store(ctx, opt, value);
}

static bool is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

static void print_options(FILE *out, const struct cli_option *opts)
{
	for (; opts && opts->long_name; opts++) {
		char left[64];
		int n = 0;

		if (opts->short_name)
			n = snprintf(left, sizeof(left), "-%c, ", opts->short_name);
		else
			n = snprintf(left, sizeof(left), "    ");
		snprintf(left + n, sizeof(left) - (size_t)n, "--%s%s%s",
			 opts->long_name, opts->arg_name ? " " : "",
			 opts->arg_name ? opts->arg_name : "");
		fprintf(out, "  %-28s ", left);
		/* a help of several lines keeps to its column */
		for (const char *h = opts->help; *h; h++) {
			fputc(*h, out);
			if (*h == '\n')
				fprintf(out, "%31s", "");
		}
		fputc('\n', out);
	}
}

void cli_print_global_help(FILE *out)
{
	struct cli_ctx scratch = {0};
	struct cli_option globals[GLOBAL_OPTION_COUNT];

	global_options(&scratch, globals);
	fprintf(out, "global options (before or after the command):\n");
	print_options(out, globals);
}

static void print_command_help(const struct cli_spec *spec)
{
	printf("usage: rowcat %s\n\n%s\n", spec->usage, spec->description);
	if (spec->options && spec->options->long_name) {
		printf("\noptions:\n");
		print_options(stdout, spec->options);
	}
	printf("\n");
	cli_print_global_help(stdout);
}

static int check_format(struct cli_ctx *ctx)
{
	if (!ctx->format_text || strcmp(ctx->format_text, "plain") == 0)
		ctx->format = FORMAT_PLAIN;
	else if (strcmp(ctx->format_text, "json") == 0)
		ctx->format = FORMAT_JSON;
	else
		return rc_error_usage(&ctx->err,
			"--format must be plain or json, not '%s'", ctx->format_text);
	return 0;
}

int cli_parse(struct cli_ctx *ctx, const struct cli_spec *spec, int argc,
	      char **argv)
{
	struct cli_option globals[GLOBAL_OPTION_COUNT];
	bool options_done = false;
	int count = 0, rc;

	global_options(ctx, globals);
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!options_done && is_help(arg)) {
			print_command_help(spec);
			ctx->help_shown = true;
			return 0;
		}
		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = true;
		} else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
			rc = take_option(ctx, spec->options, globals, argc, argv, &i);
			if (rc < 0)
				return rc;
		} else {
			argv[1 + count++] = argv[i];
		}
	}
	if (count < spec->min_args || count > spec->max_args)
		return rc_error_usage(&ctx->err, "usage: rowcat %s", spec->usage);
	rc = check_format(ctx);
	return rc < 0 ? rc : count;
}

int cli_parse_global(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_option globals[GLOBAL_OPTION_COUNT];
	int i, rc;

	global_options(ctx, globals);
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (is_help(argv[i]) || strcmp(argv[i], "--version") == 0)
			break;
		rc = take_option(ctx, NULL, globals, argc, argv, &i);
		if (rc < 0)
			return rc;
	}
	return i;
}
