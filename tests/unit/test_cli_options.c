/* cli/options.c: declared options parsed by getopt_long, and the help's
 * wrapping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

/* A mutable copy of a literal, for an argv that cli_parse reorders. */
#define A(text) ((char[]){ text })

/* A command with a flag, a string, a number and --format; two arguments
 * at most. */
struct fixture {
	struct cli_ctx ctx;
	bool flag;
	const char *text;
	int count;
	struct cli_option options[5];
	struct cli_spec spec;
};

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->options[0] = (struct cli_option){ 'a', "all", CLI_OPT_FLAG, &f->flag,
					     NULL, "every one" };
	f->options[1] = (struct cli_option){ 0, "text", CLI_OPT_STRING, &f->text,
					     "TEXT", "a text" };
	f->options[2] = (struct cli_option){ 'j', "jobs", CLI_OPT_INT, &f->count,
					     "N", "a count" };
	f->options[3] = (struct cli_option)CLI_OPT_FORMAT(&f->ctx);
	f->options[4] = (struct cli_option)CLI_OPT_END;
	f->spec = (struct cli_spec){ "cmd [--all] ARG [ARG]", "A command.",
				     f->options, 1, 2 };
}

static int parse(struct fixture *f, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return cli_parse(&f->ctx, &f->spec, argc, argv);
}

static void expect_usage_error(struct fixture *f, char **argv, const char *says)
{
	assert_true(parse(f, argv) < 0);
	assert_true(f->ctx.err.usage);
	if (!strstr(f->ctx.err.message, says))
		fail_msg("'%s' not in '%s'", says, f->ctx.err.message);
}

static void test_options_go_before_between_and_after_arguments(void **state)
{
	struct fixture f;
	char *argv[] = { A("cmd"), A("-q"), A("one"), A("--all"), A("--text=t"), A("two"),
			 A("--id"), A("rowcat"), A("-j"), A("3"), NULL };
	(void)state;

	fixture_init(&f);
	assert_int_equal(parse(&f, argv), 2);
	assert_string_equal(argv[1], "one");
	assert_string_equal(argv[2], "two");
	assert_true(f.flag);
	assert_string_equal(f.text, "t");
	assert_int_equal(f.count, 3);
	assert_true(f.ctx.quiet);
	assert_string_equal(f.ctx.ceph.id, "rowcat");
}

static void test_a_double_dash_ends_the_options(void **state)
{
	struct fixture f;
	char *argv[] = { A("cmd"), A("x"), A("--"), A("-a"), NULL };
	(void)state;

	fixture_init(&f);
	assert_int_equal(parse(&f, argv), 2);
	assert_string_equal(argv[1], "x");
	assert_string_equal(argv[2], "-a");
	assert_false(f.flag);
}

static void test_bad_options_are_one_usage_error_each(void **state)
{
	struct fixture f;
	char *unknown[] = { A("cmd"), A("x"), A("--bogus=1"), NULL };
	char *unknown_short[] = { A("cmd"), A("x"), A("-aZ"), NULL };
	char *missing[] = { A("cmd"), A("x"), A("--text"), NULL };
	char *missing_short[] = { A("cmd"), A("x"), A("-j"), NULL };
	char *valued_flag[] = { A("cmd"), A("x"), A("--all=yes"), NULL };
	char *abbreviated[] = { A("cmd"), A("x"), A("--te"), A("t"), NULL };
	char *not_a_number[] = { A("cmd"), A("x"), A("--jobs"), A("many"), NULL };
	char *too_many[] = { A("cmd"), A("x"), A("y"), A("z"), NULL };
	char *too_few[] = { A("cmd"), NULL };
	(void)state;

	fixture_init(&f);
	expect_usage_error(&f, unknown, "unknown option '--bogus'");
	fixture_init(&f);
	expect_usage_error(&f, unknown_short, "unknown option '-Z'");
	fixture_init(&f);
	expect_usage_error(&f, missing, "option --text needs a value (TEXT)");
	fixture_init(&f);
	expect_usage_error(&f, missing_short, "option --jobs needs a value (N)");
	fixture_init(&f);
	expect_usage_error(&f, valued_flag, "option --all takes no value");
	/* getopt_long would take a unique abbreviation; rowcat does not, so
	 * that a new option never breaks a script that abbreviated */
	fixture_init(&f);
	expect_usage_error(&f, abbreviated, "unknown option '--te'");
	fixture_init(&f);
	expect_usage_error(&f, not_a_number, "--jobs needs a positive whole number");
	fixture_init(&f);
	expect_usage_error(&f, too_many, "usage: rowcat cmd [--all] ARG [ARG]");
	fixture_init(&f);
	expect_usage_error(&f, too_few, "usage: rowcat cmd");
}

static void test_json_only_where_the_command_declares_it(void **state)
{
	struct fixture f;
	char *with[] = { A("cmd"), A("x"), A("--format"), A("json"), NULL };
	char *without[] = { A("cmd"), A("x"), A("--format"), A("json"), NULL };
	char *plain[] = { A("cmd"), A("x"), A("--format=plain"), NULL };
	(void)state;

	fixture_init(&f);
	assert_int_equal(parse(&f, with), 1);
	assert_int_equal(f.ctx.format, FORMAT_JSON);
	fixture_init(&f);
	f.options[3] = (struct cli_option)CLI_OPT_END;
	expect_usage_error(&f, without, "--format json: 'rowcat cmd' has no JSON output");
	fixture_init(&f);
	f.options[3] = (struct cli_option)CLI_OPT_END;
	assert_int_equal(parse(&f, plain), 1);
	assert_int_equal(f.ctx.format, FORMAT_PLAIN);
}

/* gc once declared -n for --dry-run, which is the global --name. */
static void test_a_command_cannot_take_a_global_short_option(void **state)
{
	struct fixture f;
	char *argv[] = { A("cmd"), A("--help"), NULL };
	bool dry_run;
	const char *other;
	(void)state;

	fixture_init(&f);
	f.options[0] = (struct cli_option){ 'n', "dry-run", CLI_OPT_FLAG,
					    &dry_run, NULL, "no changes" };
	assert_int_equal(parse(&f, argv), -EINVAL);
	assert_false(f.ctx.err.usage);
	assert_false(f.ctx.help_shown);
	assert_non_null(strstr(f.ctx.err.message, "declares -n/--dry-run, "
					       "which clashes with -n/--name"));
	fixture_init(&f);
	f.options[0].short_name = 'h';
	assert_int_equal(parse(&f, argv), -EINVAL);
	assert_non_null(strstr(f.ctx.err.message, "-h/--all, which clashes with -h/--help"));
	/* a global long name, for something else */
	fixture_init(&f);
	f.options[1] = (struct cli_option){ 0, "name", CLI_OPT_STRING, &other,
					    "X", "another name" };
	assert_int_equal(parse(&f, argv), -EINVAL);
	assert_non_null(strstr(f.ctx.err.message, "-/--name, which clashes with -n/--name"));
}

static void test_global_options_stop_at_the_command(void **state)
{
	struct cli_ctx ctx = {0};
	enum cli_request request;
	char *argv[] = { A("rowcat"), A("--id"), A("x"), A("-q"), A("ls"), A("--bogus"), NULL };
	char *version[] = { A("rowcat"), A("-q"), A("--version"), A("ls"), NULL };
	char *help[] = { A("rowcat"), A("-h"), NULL };
	char *unknown[] = { A("rowcat"), A("--jobs"), A("2"), A("gc"), NULL };
	(void)state;

	assert_int_equal(cli_parse_global(&ctx, 6, argv, &request), 4);
	assert_int_equal(request, CLI_RUN_COMMAND);
	assert_string_equal(ctx.ceph.id, "x");
	assert_true(ctx.quiet);
	memset(&ctx, 0, sizeof(ctx));
	assert_true(cli_parse_global(&ctx, 4, version, &request) >= 0);
	assert_int_equal(request, CLI_SHOW_VERSION);
	memset(&ctx, 0, sizeof(ctx));
	assert_true(cli_parse_global(&ctx, 2, help, &request) >= 0);
	assert_int_equal(request, CLI_SHOW_HELP);
	memset(&ctx, 0, sizeof(ctx));
	assert_true(cli_parse_global(&ctx, 4, unknown, &request) < 0);
	assert_string_equal(ctx.err.message, "unknown option '--jobs'");
}

static int seconds_of(const char *text)
{
	struct rc_error err = {0};
	int seconds = -1;

	assert_int_equal(cli_seconds_parse(text, &seconds, &err), 0);
	return seconds;
}

static void test_timeouts_take_units_and_bare_seconds(void **state)
{
	struct rc_error err = {0};
	int seconds;
	(void)state;

	assert_int_equal(seconds_of("3"), 3);
	assert_int_equal(seconds_of("3s"), 3);
	assert_int_equal(seconds_of("2m"), 120);
	assert_int_equal(seconds_of("1h30m"), 5400);
	assert_int_equal(cli_seconds_parse("0", &seconds, &err), -EINVAL);
	assert_non_null(strstr(err.message, "'0' is less than 1s"));
	assert_int_equal(cli_seconds_parse("0s", &seconds, &err), -EINVAL);
	assert_int_equal(cli_seconds_parse("3x", &seconds, &err), -EINVAL);
	assert_non_null(strstr(err.message, "'3x' is not a duration"));
	assert_int_equal(cli_seconds_parse("99999999999", &seconds, &err), -EINVAL);
	assert_int_equal(cli_seconds_parse("100w", &seconds, &err), 0);
	assert_int_equal(seconds, 100 * 7 * 86400);
}

/* What cli_wrap writes for text from column 10 at width 30. */
static char *wrapped(const char *text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	fputs("option    ", out);
	cli_wrap(out, text, 10, 10, 30);
	fclose(out);
	return buf;
}

static void test_help_wraps_under_its_column(void **state)
{
	char *text = wrapped("keep images in the RBD trash this long\nbefore "
			     "purging them (default 24h)");
	(void)state;

	assert_string_equal(text,
		"option    keep images in the\n"
		"          RBD trash this long\n"
		"          before purging them\n"
		"          (default 24h)");
	free(text);
	text = wrapped("one\n\ntwo");
	assert_string_equal(text, "option    one\n\n          two");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_go_before_between_and_after_arguments),
		cmocka_unit_test(test_a_double_dash_ends_the_options),
		cmocka_unit_test(test_bad_options_are_one_usage_error_each),
		cmocka_unit_test(test_json_only_where_the_command_declares_it),
		cmocka_unit_test(test_a_command_cannot_take_a_global_short_option),
		cmocka_unit_test(test_global_options_stop_at_the_command),
		cmocka_unit_test(test_timeouts_take_units_and_bare_seconds),
		cmocka_unit_test(test_help_wraps_under_its_column),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
