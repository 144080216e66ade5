/*
 * The rowcat command line: what every command gets (struct cli_ctx), the
 * declared options that parse its arguments and write its --help, and the
 * command table.
 */
#ifndef ROWCAT_CLI_H
#define ROWCAT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "rowcat/catalog.h"
#include "rowcat/error.h"
#include "rowcat/ops.h"

/* Exit statuses. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_IN_USE = 3,       /* a client has the volume open (rc_error_in_use);
				  nothing was changed */
	EXIT_UNREACHABLE = 75, /* EX_TEMPFAIL: the cluster did not answer */
	EXIT_CONFIG = 78,      /* EX_CONFIG: no ceph.conf, keyring or key that
				  works (rc_error_config); nothing was changed */
};

enum cli_format { FORMAT_PLAIN, FORMAT_JSON, FORMAT_DOT };

/* What every command gets: global options, the error, lazily opened
 * catalog and cluster connection (closed by main). */
struct cli_ctx {
	const char *catalog_path;        /* --catalog, else resolved default */
	struct rbdops_conn_options ceph; /* -c, --cluster, --id, ... */
	const char *format_text;         /* --format */
	enum cli_format format;
	bool pretty_format;              /* --pretty-format: indented JSON */
	bool quiet;
	const char *on_switch;           /* --on-switch, else $ROWCAT_ON_SWITCH */
	const char *on_freeze;           /* --on-freeze, else $ROWCAT_ON_FREEZE */
	const char *on_thaw;             /* --on-thaw, else $ROWCAT_ON_THAW */
	int hook_timeout_seconds;        /* --hook-timeout; 0: see cli_hook_timeout */
	bool no_progress;                /* --no-progress */
	bool progress_shown;             /* a progress line is on the terminal */
	int progress_percent;            /* the percentage it shows */
	bool help_shown;                 /* --help was answered; exit 0 */
	struct rc_error err;
	struct catalog *catalog;
	struct rbd_conn *conn;
	struct ops_claims *claims;       /* a catalog in RADOS: its claims */
};

/* ---- declared options ---------------------------------------------------- */

/*
 * CLI_OPT_SECONDS: a duration as policies write them (30s, 2m, 1h30m), or
 * a bare whole number of seconds as these options took before they took
 * units; at least 1 s.
 */
enum cli_opt_kind { CLI_OPT_FLAG, CLI_OPT_STRING, CLI_OPT_INT, CLI_OPT_SECONDS };

/*
 * One option. No command may give a global option's short name to an
 * option of its own: cli_parse fails every run of such a command, --help
 * included. help is prose, wrapped at the terminal's width: a newline in
 * it reads as a space, an empty line starts a paragraph.
 */
struct cli_option {
	char short_name;       /* 0: none */
	const char *long_name;
	enum cli_opt_kind kind;
	void *value;           /* bool *, const char **, int * by kind */
	const char *arg_name;  /* shown in --help, e.g. "SIZE" */
	const char *help;
};

#define CLI_OPT_END { 0, NULL, CLI_OPT_FLAG, NULL, NULL, NULL }
/* --format is a global option; a command declares it to say that it
 * prints JSON (any other refuses --format json). */
#define CLI_OPT_FORMAT(ctx) \
	{ 0, "format", CLI_OPT_STRING, &(ctx)->format_text, "plain|json", \
	  "output format (default plain)" }
/* --format for a command that draws a Graphviz graph too (tree): the
 * formats a command takes are those its declaration lists. */
#define CLI_OPT_FORMAT_DOT(ctx) \
	{ 0, "format", CLI_OPT_STRING, &(ctx)->format_text, "plain|json|dot", \
	  "output format (default plain); dot: Graphviz's language, " \
	  "for dot -Tsvg" }

/* A command's arguments as declared: parsing and --help both read it. */
struct cli_spec {
	const char *usage;       /* "create POOL[/NAMESPACE]/VOL --size SIZE" */
	const char *description; /* prose for --help, wrapped like an option's */
	struct cli_option *options;
	int min_args, max_args;  /* positional arguments after the command */
};

/*
 * Parses argv (argv[0] is the command name) with getopt_long against
 * spec's options and the global options; "--" ends the options.
 * Positional arguments are moved to the front of argv+1, in their order;
 * their count is returned. On --help, prints the help and sets
 * ctx->help_shown (returns 0). Returns a usage error otherwise.
 */
int cli_parse(struct cli_ctx *ctx, const struct cli_spec *spec, int argc,
	      char **argv);

struct cli_column;

/* cli_parse for a command that prints a table: its --help lists the
 * columns (table.h) that -o takes. */
int cli_parse_table(struct cli_ctx *ctx, const struct cli_spec *spec,
		    const struct cli_column *columns, size_t column_count,
		    int argc, char **argv);

enum cli_request { CLI_RUN_COMMAND, CLI_SHOW_HELP, CLI_SHOW_VERSION };

/* Parses the global options before the command name, up to --help or
 * --version (*request says which, if any); returns the index of the
 * command name (argc when none is given), or a usage error. */
int cli_parse_global(struct cli_ctx *ctx, int argc, char **argv,
		     enum cli_request *request);

/* The global options' help, once, for 'rowcat --help'. */
void cli_print_global_help(FILE *out);

/* The width help is wrapped at: stdout's terminal, else $COLUMNS, else
 * 80 (at least 50). */
int cli_help_width(void);

/* Writes prose text from column (where the cursor is) on, wrapping at
 * width; continuation lines start at column indent. No newline at the
 * end. */
void cli_wrap(FILE *out, const char *text, int column, int indent, int width);

/* Reads a CLI_OPT_SECONDS value (text) into *seconds; a usage error
 * naming text otherwise. */
int cli_seconds_parse(const char *text, int *seconds, struct rc_error *err);

/* ---- the commands -------------------------------------------------------- */

struct cli_command {
	const char *name;
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;   /* NULL: a hidden command, not in --help */
};

extern const struct cli_command cli_commands[];

/* gc's defaults, which du and explain judge its plan with too */
#define CLI_GC_MIN_AGE "1h"
#define CLI_GC_TRASH_DELAY "24h"

int cmd_init(struct cli_ctx *ctx, int argc, char **argv);
int cmd_create(struct cli_ctx *ctx, int argc, char **argv);
int cmd_adopt(struct cli_ctx *ctx, int argc, char **argv);
int cmd_ls(struct cli_ctx *ctx, int argc, char **argv);
int cmd_which(struct cli_ctx *ctx, int argc, char **argv);
int cmd_tree(struct cli_ctx *ctx, int argc, char **argv);
int cmd_du(struct cli_ctx *ctx, int argc, char **argv);
int cmd_snap(struct cli_ctx *ctx, int argc, char **argv);
int cmd_restore(struct cli_ctx *ctx, int argc, char **argv);
int cmd_flatten(struct cli_ctx *ctx, int argc, char **argv);
int cmd_consumer(struct cli_ctx *ctx, int argc, char **argv);
int cmd_log(struct cli_ctx *ctx, int argc, char **argv);
int cmd_check(struct cli_ctx *ctx, int argc, char **argv);
int cmd_recover(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rm(struct cli_ctx *ctx, int argc, char **argv);
int cmd_unrm(struct cli_ctx *ctx, int argc, char **argv);
int cmd_pin(struct cli_ctx *ctx, int argc, char **argv);
int cmd_unpin(struct cli_ctx *ctx, int argc, char **argv);
int cmd_gc(struct cli_ctx *ctx, int argc, char **argv);
int cmd_explain(struct cli_ctx *ctx, int argc, char **argv);
int cmd_policy(struct cli_ctx *ctx, int argc, char **argv);
int cmd_catalog(struct cli_ctx *ctx, int argc, char **argv);
int cmd_debug(struct cli_ctx *ctx, int argc, char **argv);
int cmd_complete(struct cli_ctx *ctx, int argc, char **argv);

/* ---- what commands share ------------------------------------------------- */

/* Why gc's plan leaves w waiting, as one phrase ("younger than
 * --min-age until ...", "until its clone ... is purged from the trash"),
 * as gc --verbose and explain say it; cat names the rows. */
void cli_gc_wait_text(struct catalog *cat, const struct catalog_gc_wait *w,
		      char *buf, size_t len);

/* Resolves ctx->catalog_path (--catalog, $ROWCAT_CATALOG, the default)
 * without opening anything. */
int cli_catalog_path(struct cli_ctx *ctx);

/* Opens the catalog (ctx->catalog), creating it only with `create`. */
int cli_open_catalog(struct cli_ctx *ctx, bool create);

/* Connects to the cluster (ctx->conn). */
int cli_connect(struct cli_ctx *ctx);

/* cli_connect as an operation's connect event (ops.h: the operation
 * connects only when it needs the cluster), ctx_arg the cli_ctx whose
 * err the operation was given. */
int cli_connect_event(void *ctx_arg, struct rbd_conn **conn,
		      struct rc_error *err);

/*
 * The events of an operation as the command line shows them: the switch
 * hook (--on-switch / $ROWCAT_ON_SWITCH) and rbd-style progress lines on a
 * terminal. ev->ctx is ctx.
 */
void cli_events(struct cli_ctx *ctx, struct ops_events *ev);

enum cli_hook { CLI_HOOK_SWITCH, CLI_HOOK_FREEZE, CLI_HOOK_THAW };

/* A hook's command: its option, else its variable ($ROWCAT_ON_SWITCH,
 * ...); NULL when neither gives one. */
const char *cli_hook_command(struct cli_ctx *ctx, enum cli_hook hook);

/*
 * Puts the freeze, thaw and switch hooks in opts (a snap, or each snap of
 * a policy run) when a freeze and a thaw hook are given; a usage error
 * when only one of them is, or with --qmp (opts->consumer), or when one is
 * too long to be journalled.
 */
int cli_window_hooks(struct cli_ctx *ctx, struct ops_row_options *opts);

/* The switch hook's time limit when none is given. */
#define CLI_HOOK_TIMEOUT_DEFAULT 60

/*
 * The switch hook's time limit in seconds: --hook-timeout, else
 * $ROWCAT_HOOK_TIMEOUT, else CLI_HOOK_TIMEOUT_DEFAULT. A usage error when
 * $ROWCAT_HOOK_TIMEOUT is not what --hook-timeout takes (a duration, or
 * whole seconds; CLI_OPT_SECONDS).
 */
int cli_hook_timeout(struct cli_ctx *ctx, int *seconds);

/* Whether progress lines are drawn: as rbd, only for a person watching
 * a terminal, unless -q or --no-progress. */
bool cli_progress_wanted(const struct cli_ctx *ctx);

/* Ends a progress line that cli_events started, as rbd does:
 * "100% complete...done." or "N% complete...failed.". */
void cli_progress_end(struct cli_ctx *ctx, bool ok);

/*
 * The percentage offset is of total, and whether a progress line must be
 * redrawn for it: only when it differs from *last, which it then becomes
 * (rbd's rule; *last starts at 0, so 0% is never drawn).
 */
bool cli_progress_redraw(int *last, uint64_t offset, uint64_t total,
			 int *percent);

/* Writes a Prometheus text-format file atomically (for --metrics). */
int cli_metrics_write(const char *path, const char *text, struct rc_error *err);

/* One gauge line of such a file, with its HELP and TYPE unless help is
 * NULL (a further label set of a name already introduced). */
void cli_metric(FILE *out, const char *name, const char *help,
		const char *labels, double value);

/* The metrics of one run of a job, built in memory, then written. */
struct cli_metrics {
	FILE *out;          /* cli_metric() the job's own figures into it */
	char *text;
	size_t len;
};

/* Starts the figures every job has: rowcat_JOB_last_run_timestamp_seconds,
 * rowcat_JOB_last_run_success (ok, explained by success_help) and
 * rowcat_JOB_duration_seconds (since started_ms, by rc_wall_ms). */
int cli_metrics_begin(struct cli_metrics *m, const char *job,
		      const char *success_help, int64_t started_ms, bool ok,
		      struct rc_error *err);

/* Writes the figures to path (cli_metrics_write) and frees them. */
int cli_metrics_end(struct cli_metrics *m, const char *path,
		    struct rc_error *err);

/* The command's result once its metrics were written (metrics_rc): a
 * failed write fails a run that succeeded, and is only printed after a
 * run that failed, whose own error stays the one reported. */
int cli_metrics_outcome(struct cli_ctx *ctx, int rc, int metrics_rc,
			const struct rc_error *metrics_err);

/*
 * Checks a volume's bare name (rc_name_check). A name written with its
 * pool, as rbd names an image (rbd/vm-1), is a usage error that names the
 * volume it probably meant.
 */
int cli_volume_name_check(struct cli_ctx *ctx, const char *name);

/* Finds a volume by its bare name, checking the name first. */
int cli_find_volume(struct cli_ctx *ctx, const char *name,
		    struct catalog_volume *out);

/*
 * A snapshot named as rbd names one, VOL@SNAP (first), or as two
 * arguments, VOL SNAP (second, NULL when not given): cuts first at its
 * '@', so that it holds the volume alone, and points *snap at the
 * snapshot's name, NULL when neither names one. A usage error when both
 * do, or the snapshot's name is bad.
 */
int cli_snapshot_arg(struct cli_ctx *ctx, char *first, const char *second,
		     const char **snap);

#endif
