/*
 * config/: the policy file. What policy_parse makes of a file, and what it
 * says about one it refuses: every problem, each at the line and column an
 * editor jumps to, and never more than a bounded cost for a hostile file
 * (alias bombs, deep nesting, size). Then policy_load, which reads from
 * disk, policy_match, which picks a volume's policy, and how diagnostics
 * are printed.
 *
 * Positions are 1-based, as policy_diagnostics_print writes them; a
 * scalar's position is its first character (the quote of a quoted one), a
 * collection's is its '[', '{' or first key.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rowcat/policy.h"
#include "testdir.h"

/* The example file of the issue (and README.md), comments and all. */
static const char issue_example[] =
	"version: 1\n"
	"cluster: {conf: /etc/ceph/ceph.conf, id: rowcat, timeout: 30s}   # optional; Ceph's defaults otherwise\n"
	"timezone: UTC                       # or an IANA name; buckets follow local days and weeks\n"
	"defaults: {max_depth: 8}\n"
	"policies:                           # the first policy whose pattern matches a volume wins\n"
	"  - name: gold\n"
	"    volumes: [\"rbd/vm-*\", \"ssd/db-*\"]   # globs on POOL[/NS]/VOL\n"
	"    every: 1h                           # or  cron: \"0 */4 * * *\"\n"
	"    keep: {latest: 3, hourly: 48, daily: 14, weekly: 8, monthly: 12, yearly: 2}\n"
	"    max_depth: 4\n"
	"  - name: bronze\n"
	"    volumes: [\"rbd/*\"]\n"
	"    every: 1d\n"
	"    keep: {daily: 7}\n"
	"gc: {min_age: 1h, trash_delay: 24h}     # optional: policy run --gc collects after expiring\n";

/* ---- helpers -------------------------------------------------------------- */

static void show_diagnostics(const struct policy_diagnostics *diags)
{
	for (size_t i = 0; i < diags->count; i++)
		print_message("  %d:%d: %s%s\n", diags->items[i].at.line,
			      diags->items[i].at.column,
			      diags->items[i].warning ? "warning: " : "",
			      diags->items[i].message);
}

/* The error diagnostic at line:column whose message holds part, or NULL. */
static const struct policy_diagnostic *
find_error(const struct policy_diagnostics *diags, int line, int column,
	   const char *part)
{
	for (size_t i = 0; i < diags->count; i++) {
		const struct policy_diagnostic *d = &diags->items[i];

		if (!d->warning && d->at.line == line && d->at.column == column &&
		    strstr(d->message, part))
			return d;
	}
	return NULL;
}

static bool mentions(const struct policy_diagnostics *diags, const char *part)
{
	for (size_t i = 0; i < diags->count; i++) {
		if (strstr(diags->items[i].message, part))
			return true;
	}
	return false;
}

static void assert_error_at(const struct policy_diagnostics *diags, int line,
			    int column, const char *part)
{
	if (find_error(diags, line, column, part))
		return;
	print_message("expected an error at %d:%d holding \"%s\"; got:\n", line,
		      column, part);
	show_diagnostics(diags);
	fail();
}

/* Parses len bytes of text that must be refused, into diags. */
static void parse_refused_len(const char *text, size_t len,
			      struct policy_diagnostics *diags)
{
	struct policy_file *file = (struct policy_file *)1;

	assert_int_equal(policy_parse(&file, text, len, diags), -EINVAL);
	assert_null(file);
	assert_true(diags->errors > 0);
}

static void parse_refused(const char *text, struct policy_diagnostics *diags)
{
	parse_refused_len(text, strlen(text), diags);
}

/* text is refused with exactly one problem: at line:column, holding part. */
static void expect_only_error_len(const char *text, size_t len, int line,
				  int column, const char *part)
{
	struct policy_diagnostics diags = {0};

	parse_refused_len(text, len, &diags);
	if (diags.errors != 1 || diags.count != 1) {
		print_message("expected one error, got %zu:\n", diags.errors);
		show_diagnostics(&diags);
		fail();
	}
	assert_error_at(&diags, line, column, part);
	policy_diagnostics_free(&diags);
}

static void expect_only_error(const char *text, int line, int column,
			      const char *part)
{
	expect_only_error_len(text, strlen(text), line, column, part);
}

/* text parses with no diagnostic at all; free the result. */
static struct policy_file *parse_ok(const char *text)
{
	struct policy_diagnostics diags = {0};
	struct policy_file *file = NULL;
	int rc = policy_parse(&file, text, strlen(text), &diags);

	if (rc != 0 || diags.count != 0) {
		print_message("expected no diagnostics, rc %d:\n", rc);
		show_diagnostics(&diags);
		fail();
	}
	assert_non_null(file);
	policy_diagnostics_free(&diags);
	return file;
}

/* A file of one policy, with a line of its own given in extra. */
static char *one_policy(const char *extra)
{
	static const char head[] =
		"version: 1\n"
		"policies:\n"
		"  - name: p\n"
		"    volumes: [rbd/*]\n";
	char *text = malloc(sizeof(head) + strlen(extra));

	assert_non_null(text);
	memcpy(text, head, sizeof(head) - 1);
	strcpy(text + sizeof(head) - 1, extra);
	return text;
}

/* one_policy(extra) is refused with exactly one error at line:column. */
static void expect_policy_error(const char *extra, int line, int column,
				const char *part)
{
	char *text = one_policy(extra);

	expect_only_error(text, line, column, part);
	free(text);
}

static struct policy_file *parse_policy_ok(const char *extra)
{
	char *text = one_policy(extra);
	struct policy_file *file = parse_ok(text);

	free(text);
	return file;
}

/* count copies of c, then a NUL, in a new string. */
static char *repeat(char c, size_t count)
{
	char *s = malloc(count + 1);

	assert_non_null(s);
	memset(s, c, count);
	s[count] = '\0';
	return s;
}

/* A file policy.yaml in dir (made on first use) holding len bytes of
 * content; its path into path. */
static void write_temp(struct testdir *dir, char path[256], const char *content,
		       size_t len)
{
	int fd;

	if (!dir->path[0])
		testdir_make(dir);
	testdir_file(dir, "policy.yaml", path, 256);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* ---- what a valid file says ---------------------------------------------- */

static void test_the_issue_example_reads_as_every_value_it_writes(void **state)
{
	struct policy_file *f = parse_ok(issue_example);
	const struct policy *gold, *bronze;
	char origin[POLICY_ORIGIN_MAX];

	(void)state;
	assert_int_equal(f->version, 1);
	assert_string_equal(f->cluster_conf, "/etc/ceph/ceph.conf");
	assert_string_equal(f->cluster_id, "rowcat");
	assert_int_equal(f->cluster_timeout, 30);
	assert_string_equal(f->timezone, "UTC");
	assert_int_equal(f->policy_count, 2);
	assert_true(f->gc_given);
	assert_int_equal(f->gc_min_age, 3600);
	assert_int_equal(f->gc_trash_delay, 24 * 3600);

	gold = &f->policies[0];
	assert_string_equal(gold->name, "gold");
	assert_int_equal(gold->mark.line, 6);
	assert_int_equal(gold->mark.column, 5);
	assert_int_equal(gold->pattern_count, 2);
	assert_string_equal(gold->patterns[0].glob, "rbd/vm-*");
	assert_int_equal(gold->patterns[0].mark.line, 7);
	assert_int_equal(gold->patterns[0].mark.column, 15);
	assert_string_equal(gold->patterns[1].glob, "ssd/db-*");
	assert_int_equal(gold->patterns[1].mark.line, 7);
	assert_int_equal(gold->patterns[1].mark.column, 27);
	assert_int_equal(gold->every, 3600);
	assert_string_equal(gold->cron_text, "");
	assert_true(gold->keep.given);
	assert_int_equal(gold->keep.latest, 3);
	assert_int_equal(gold->keep.buckets[POLICY_HOURLY], 48);
	assert_int_equal(gold->keep.buckets[POLICY_DAILY], 14);
	assert_int_equal(gold->keep.buckets[POLICY_WEEKLY], 8);
	assert_int_equal(gold->keep.buckets[POLICY_MONTHLY], 12);
	assert_int_equal(gold->keep.buckets[POLICY_YEARLY], 2);
	assert_int_equal(gold->max_depth, 4);
	policy_origin(gold, origin);
	assert_string_equal(origin, "policy:gold");

	bronze = &f->policies[1];
	assert_string_equal(bronze->name, "bronze");
	assert_int_equal(bronze->mark.line, 11);
	assert_int_equal(bronze->mark.column, 5);
	assert_int_equal(bronze->pattern_count, 1);
	assert_string_equal(bronze->patterns[0].glob, "rbd/*");
	assert_int_equal(bronze->every, 86400);
	assert_string_equal(bronze->cron_text, "");
	assert_true(bronze->keep.given);
	assert_int_equal(bronze->keep.latest, 0);
	assert_int_equal(bronze->keep.buckets[POLICY_HOURLY], 0);
	assert_int_equal(bronze->keep.buckets[POLICY_DAILY], 7);
	assert_int_equal(bronze->keep.buckets[POLICY_WEEKLY], 0);
	assert_int_equal(bronze->keep.buckets[POLICY_MONTHLY], 0);
	assert_int_equal(bronze->keep.buckets[POLICY_YEARLY], 0);
	assert_int_equal(bronze->max_depth, 8);
	policy_file_free(f);
}

static void test_a_file_silent_on_the_options_gets_their_defaults(void **state)
{
	struct policy_file *f = parse_ok("version: 1\n"
					 "policies:\n"
					 "  - name: plain\n"
					 "    volumes: [rbd/*]\n"
					 "    every: 15m\n");

	(void)state;
	assert_int_equal(f->version, 1);
	assert_null(f->cluster_conf);
	assert_null(f->cluster_id);
	assert_int_equal(f->cluster_timeout, 0);
	assert_string_equal(f->timezone, "UTC");
	assert_false(f->gc_given);
	assert_int_equal(f->gc_min_age, 3600);
	assert_int_equal(f->gc_trash_delay, 24 * 3600);
	assert_int_equal(f->policy_count, 1);
	assert_int_equal(f->policies[0].every, 900);
	assert_int_equal(f->policies[0].max_depth, POLICY_DEFAULT_MAX_DEPTH);
	assert_int_equal(POLICY_DEFAULT_MAX_DEPTH, 8);
	/* no keep: every snapshot is kept */
	assert_false(f->policies[0].keep.given);
	assert_int_equal(f->policies[0].keep.latest, 0);
	for (int k = 0; k < POLICY_BUCKET_KINDS; k++)
		assert_int_equal(f->policies[0].keep.buckets[k], 0);
	policy_file_free(f);
}

static void test_defaults_max_depth_applies_to_policies_without_their_own(
	void **state)
{
	struct policy_file *f = parse_ok("version: 1\n"
					 "defaults: {max_depth: 3}\n"
					 "policies:\n"
					 "  - {name: a, volumes: [rbd/a*], every: 1h}\n"
					 "  - {name: b, volumes: [rbd/b*], every: 1h, max_depth: 5}\n"
					 "  - {name: c, volumes: [rbd/c*], every: 1h}\n");

	(void)state;
	assert_int_equal(f->policies[0].max_depth, 3);
	assert_int_equal(f->policies[1].max_depth, 5);
	assert_int_equal(f->policies[2].max_depth, 3);
	policy_file_free(f);
}

static void test_gc_with_one_option_keeps_the_default_of_the_other(void **state)
{
	struct policy_file *f = parse_policy_ok("    every: 1h\n"
						"gc: {min_age: 2h}\n");

	(void)state;
	assert_true(f->gc_given);
	assert_int_equal(f->gc_min_age, 7200);
	assert_int_equal(f->gc_trash_delay, 24 * 3600);
	policy_file_free(f);

	f = parse_policy_ok("    every: 1h\n"
			    "gc: {trash_delay: 0s}\n");
	assert_true(f->gc_given);
	assert_int_equal(f->gc_min_age, 3600);
	assert_int_equal(f->gc_trash_delay, 0);
	policy_file_free(f);
}

static void test_a_cron_policy_keeps_its_expression_and_no_every(void **state)
{
	struct policy_file *f = parse_ok("version: 1\n"
					 "policies:\n"
					 "  - name: weekdays\n"
					 "    volumes: [rbd/ns1/*, \"other/db-?\"]\n"
					 "    cron: \"30 2 * * mon-fri\"\n"
					 "    keep: {daily: 5, weekly: 4}\n"
					 "  - name: nightly\n"
					 "    volumes: [rbd/x-*]\n"
					 "    cron: \"@daily\"\n");
	const struct policy *p = &f->policies[0];

	(void)state;
	assert_int_equal(p->every, 0);
	assert_string_equal(p->cron_text, "30 2 * * mon-fri");
	assert_true(p->cron.minutes == UINT64_C(1) << 30);
	assert_true(p->cron.hours == UINT32_C(1) << 2);
	assert_int_equal(p->cron.weekdays, 0x3e);   /* Monday to Friday */
	assert_true(p->cron.weekdays_restricted);
	assert_false(p->cron.days_restricted);
	assert_int_equal(p->pattern_count, 2);
	assert_string_equal(p->patterns[0].glob, "rbd/ns1/*");
	assert_string_equal(p->patterns[1].glob, "other/db-?");

	p = &f->policies[1];
	assert_int_equal(p->every, 0);
	assert_string_equal(p->cron_text, "@daily");
	assert_true(p->cron.minutes == 1);
	assert_true(p->cron.hours == 1);
	assert_false(p->keep.given);
	policy_file_free(f);
}

static void test_an_installed_iana_timezone_is_kept(void **state)
{
	struct policy_file *f;
	char *text;

	(void)state;
	text = one_policy("    every: 1h\n"
			  "timezone: Europe/Berlin\n");
	f = parse_ok(text);
	assert_string_equal(f->timezone, "Europe/Berlin");
	policy_file_free(f);
	free(text);
}

/* ---- unknown and duplicate keys ------------------------------------------ */

/* The misspelt file of README.md, with the messages it shows. */
static void test_unknown_keys_are_errors_naming_the_nearest_valid_key(
	void **state)
{
	struct policy_diagnostics diags = {0};

	(void)state;
	parse_refused("version: 1\n"
		      "timezon: UTC\n"
		      "policies:\n"
		      "  - name: gold\n"
		      "    volumes: [\"rbd/vm-*\"]\n"
		      "    evry: 1h\n"
		      "    keep: {dialy: 7}\n"
		      "    max_depth: -1\n", &diags);
	assert_int_equal(diags.errors, 5);
	assert_error_at(&diags, 2, 1, "unknown key 'timezon' in the file "
			"(did you mean 'timezone'?)");
	assert_error_at(&diags, 4, 5, "policy 'gold' needs every (like 1h) or "
			"cron");
	assert_error_at(&diags, 6, 5, "unknown key 'evry' in a policy "
			"(did you mean 'every'?)");
	assert_error_at(&diags, 7, 12, "unknown key 'dialy' in keep "
			"(did you mean 'daily'?)");
	assert_error_at(&diags, 8, 16, "max_depth is -1; it may not be below 1");
	policy_diagnostics_free(&diags);

	expect_policy_error("    every: 1h\n"
			    "    max-depth: 4\n", 6, 5,
			    "unknown key 'max-depth' in a policy (did you mean "
			    "'max_depth'?)");
	expect_policy_error("    every: 1h\n"
			    "    keep: {hourley: 3}\n", 6, 12,
			    "(did you mean 'hourly'?)");
	expect_only_error("version: 1\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n"
			  "gc: {min_ages: 1h}\n", 3, 6,
			  "unknown key 'min_ages' in gc (did you mean 'min_age'?)");
	expect_only_error("version: 1\n"
			  "cluster: {conff: /etc/ceph/ceph.conf}\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n",
			  2, 11, "unknown key 'conff' in cluster (did you mean "
			  "'conf'?)");
}

static void test_an_unknown_key_like_no_valid_one_lists_the_valid_keys(
	void **state)
{
	(void)state;
	expect_policy_error("    every: 1h\n"
			    "    keep: {daily: 7, fortnightly: 2}\n", 6, 22,
			    "unknown key 'fortnightly' in keep; it takes latest, "
			    "hourly, daily, weekly, monthly, yearly");
	expect_policy_error("    every: 1h\n"
			    "    owner: alice\n", 6, 5,
			    "unknown key 'owner' in a policy; it takes name, "
			    "volumes, every, cron, keep, max_depth");
}

static void test_duplicate_keys_are_errors_at_the_second(void **state)
{
	struct policy_diagnostics diags = {0};

	(void)state;
	parse_refused("version: 1\n"
		      "policies:\n"
		      "  - name: gold\n"
		      "    volumes: [rbd/*]\n"
		      "    every: 1h\n"
		      "    every: 2h\n"
		      "    keep: {daily: 3, daily: 4}\n"
		      "version: 1\n", &diags);
	assert_int_equal(diags.errors, 3);
	assert_error_at(&diags, 6, 5, "duplicate key 'every' in a policy "
			"(first at line 5)");
	assert_error_at(&diags, 7, 22, "duplicate key 'daily' in keep (first "
			"at line 7)");
	assert_error_at(&diags, 8, 1, "duplicate key 'version' in the file "
			"(first at line 1)");
	policy_diagnostics_free(&diags);
}

static void test_a_key_must_be_a_single_word(void **state)
{
	(void)state;
	expect_policy_error("    every: 1h\n"
			    "    ? [a, b]\n"
			    "    : 1\n", 6, 7,
			    "a key in a policy must be a single word, not a list");
}

/* ---- values --------------------------------------------------------------- */

static void test_counts_below_zero_are_refused(void **state)
{
	(void)state;
	expect_policy_error("    every: 1h\n"
			    "    keep: {latest: -1, daily: 7}\n", 6, 20,
			    "keep latest is -1; it may not be below 0");
	expect_policy_error("    every: 1h\n"
			    "    keep: {weekly: -3, daily: 7}\n", 6, 20,
			    "keep weekly is -3; it may not be below 0");
	/* max_depth counts flattenings' depth: it starts at 1 */
	expect_policy_error("    every: 1h\n"
			    "    max_depth: 0\n", 6, 16,
			    "max_depth is 0; it may not be below 1");
	expect_only_error("version: 1\n"
			  "defaults: {max_depth: -2}\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n",
			  2, 23, "defaults max_depth is -2; it may not be below 1");
}

static void test_counts_above_the_maximum_are_refused(void **state)
{
	struct policy_file *f;

	(void)state;
	assert_int_equal(POLICY_COUNT_MAX, 100000);
	f = parse_policy_ok("    every: 1h\n"
			    "    keep: {latest: 100000, yearly: 100000}\n");
	assert_int_equal(f->policies[0].keep.latest, POLICY_COUNT_MAX);
	assert_int_equal(f->policies[0].keep.buckets[POLICY_YEARLY],
			 POLICY_COUNT_MAX);
	policy_file_free(f);

	expect_policy_error("    every: 1h\n"
			    "    keep: {latest: 100001}\n", 6, 20,
			    "keep latest is 100001; it may be at most 100000");
	expect_policy_error("    every: 1h\n"
			    "    keep: {daily: 99999999999999999999}\n", 6, 19,
			    "keep daily is 99999999999999999999; it may be at "
			    "most 100000");
	expect_policy_error("    every: 1h\n"
			    "    max_depth: 1001\n", 6, 16,
			    "max_depth is 1001; it may be at most 1000");
}

/* Past what a long holds, the count is quoted as written, not clamped. */
static void test_a_count_too_large_to_read_is_quoted_as_written(void **state)
{
	(void)state;
	expect_policy_error("    every: 1h\n"
			    "    keep: {latest: -99999999999999999999}\n", 6, 20,
			    "keep latest is -99999999999999999999; it may not be "
			    "below 0");
}

static void test_a_quoted_number_is_not_a_count(void **state)
{
	(void)state;
	expect_policy_error("    every: 1h\n"
			    "    keep: {daily: \"3\"}\n", 6, 19,
			    "keep daily must be a whole number, not a quoted "
			    "string");
	expect_policy_error("    every: 1h\n"
			    "    max_depth: '4'\n", 6, 16,
			    "max_depth must be a whole number, not a quoted string");
	expect_only_error("version: \"1\"\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n",
			  1, 10, "version must be a whole number, not a quoted "
			  "string");
}

static void test_a_count_must_be_a_whole_number(void **state)
{
	(void)state;
	expect_policy_error("    every: 1h\n"
			    "    keep: {hourly: 1.5}\n", 6, 20,
			    "keep hourly must be a whole number, not '1.5'");
	expect_policy_error("    every: 1h\n"
			    "    keep: {hourly: 0x10}\n", 6, 20,
			    "keep hourly must be a whole number, not '0x10'");
	expect_policy_error("    every: 1h\n"
			    "    keep: {hourly: many}\n", 6, 20,
			    "keep hourly must be a whole number, not 'many'");
	expect_policy_error("    every: 1h\n"
			    "    keep: {hourly: [1]}\n", 6, 20,
			    "keep hourly must be a single value, not a list");
}

static void test_bad_durations_are_refused_with_the_reason(void **state)
{
	(void)state;
	expect_policy_error("    every: 90\n", 5, 12,
			    "every: '90' is not a duration (the last number has "
			    "no unit)");
	expect_policy_error("    every: 1y\n", 5, 12,
			    "every: '1y' is not a duration");
	expect_only_error("version: 1\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n"
			  "gc: {min_age: -1h, trash_delay: 1d}\n", 3, 15,
			  "gc min_age: '-1h' is not a duration (it is negative)");
	expect_only_error("version: 1\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n"
			  "gc: {min_age: 1h, trash_delay: forever}\n", 3, 32,
			  "gc trash_delay: 'forever' is not a duration");
	expect_only_error("version: 1\n"
			  "cluster: {timeout: 30}\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n",
			  2, 20, "cluster timeout: '30' is not a duration");
	expect_only_error("version: 1\n"
			  "cluster: {timeout: 2h}\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n",
			  2, 20, "cluster timeout may be at most 1h");
	expect_only_error("version: 1\n"
			  "cluster: {timeout: 0s}\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n",
			  2, 20, "cluster timeout must be at least 1s");
}

static void test_every_below_a_minute_is_refused(void **state)
{
	struct policy_file *f;

	(void)state;
	expect_policy_error("    every: 59s\n", 5, 12,
			    "every must be at least 60s");
	expect_policy_error("    every: 0s\n", 5, 12,
			    "every must be at least 60s");
	f = parse_policy_ok("    every: 60s\n");
	assert_int_equal(f->policies[0].every, 60);
	policy_file_free(f);
	f = parse_policy_ok("    every: 1m\n");
	assert_int_equal(f->policies[0].every, 60);
	policy_file_free(f);
}

static void test_bad_cron_expressions_are_refused_naming_the_field(
	void **state)
{
	(void)state;
	expect_policy_error("    cron: \"61 25 32 13 8\"\n", 5, 11,
			    "cron \"61 25 32 13 8\": minute 61 is out of range "
			    "0-59");
	expect_policy_error("    cron: \"0 0 30 2 *\"\n", 5, 11,
			    "day-of-month 30 never comes in the months given");
	expect_policy_error("    cron: \"* * * *\"\n", 5, 11,
			    "expected 5 fields");
	expect_policy_error("    cron: [\"0 * * * *\"]\n", 5, 11,
			    "cron must be a single value, not a list");
}

static void test_a_policy_needs_exactly_one_of_every_and_cron(void **state)
{
	(void)state;
	/* both: at the cron, which is the one to take out or keep */
	expect_policy_error("    every: 1h\n"
			    "    cron: \"0 * * * *\"\n", 6, 11,
			    "policy 'p' has both every and cron; give one");
	/* both, each wrong as well: all three are said at once */
	{
		char *text = one_policy("    every: 30s\n"
					"    cron: \"61 * * * *\"\n");
		struct policy_diagnostics diags = {0};

		parse_refused(text, &diags);
		assert_int_equal(diags.errors, 3);
		assert_error_at(&diags, 5, 12, "every must be at least 60s");
		assert_error_at(&diags, 6, 11, "policy 'p' has both every and "
				"cron");
		assert_error_at(&diags, 6, 11, "minute 61 is out of range");
		policy_diagnostics_free(&diags);
		free(text);
	}
	/* neither: at the policy */
	expect_policy_error("    keep: {daily: 7}\n", 3, 5,
			    "policy 'p' needs every (like 1h) or cron");
}

static void test_two_policies_of_one_name_are_refused(void **state)
{
	(void)state;
	expect_only_error("version: 1\n"
			  "policies:\n"
			  "  - {name: gold, volumes: [rbd/a*], every: 1h}\n"
			  "  - {name: silver, volumes: [rbd/b*], every: 1h}\n"
			  "  - {name: gold, volumes: [rbd/c*], every: 2h}\n",
			  5, 5, "a second policy named 'gold' (the first is at "
			  "line 3)");
}

static void test_policy_names_are_short_words(void **state)
{
	char *name = repeat('n', POLICY_NAME_MAX);
	struct policy_file *f;
	char text[256];

	(void)state;
	expect_only_error("version: 1\n"
			  "policies:\n"
			  "  - {name: \"bad name!\", volumes: [rbd/*], every: 1h}\n",
			  3, 12, "policy name 'bad name!' may hold only letters, "
			  "digits and _ . -");
	expect_only_error("version: 1\n"
			  "policies:\n"
			  "  - {volumes: [rbd/*], every: 1h}\n",
			  3, 5, "a policy needs a name");
	snprintf(text, sizeof(text), "version: 1\n"
		 "policies: [{name: %s, volumes: [rbd/*], every: 1h}]\n", name);
	expect_only_error(text, 2, 19, "policy name is longer than 63 "
			  "characters");
	/* 63 characters: the longest name */
	name[POLICY_NAME_MAX - 1] = '\0';
	snprintf(text, sizeof(text), "version: 1\n"
		 "policies: [{name: %s, volumes: [rbd/*], every: 1h}]\n", name);
	f = parse_ok(text);
	assert_string_equal(f->policies[0].name, name);
	policy_file_free(f);
	free(name);
}

static void test_keep_that_keeps_nothing_is_refused(void **state)
{
	(void)state;
	expect_policy_error("    every: 1h\n"
			    "    keep: {latest: 0, hourly: 0, daily: 0, weekly: 0, "
			    "monthly: 0, yearly: 0}\n", 6, 11,
			    "keep keeps no snapshot; give a count above 0, or "
			    "leave keep out to keep every snapshot");
	expect_policy_error("    every: 1h\n"
			    "    keep: {}\n", 6, 11, "keep keeps no snapshot");
	/* a count that is itself wrong is the one reported, not this */
	expect_policy_error("    every: 1h\n"
			    "    keep: {latest: -1}\n", 6, 20,
			    "keep latest is -1");
}

static void test_a_timezone_that_is_not_installed_is_refused(void **state)
{
	(void)state;
	expect_only_error("version: 1\n"
			  "timezone: Mars/Olympus_Mons\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n",
			  2, 11, "timezone: unknown time zone 'Mars/Olympus_Mons'");
	expect_only_error("version: 1\n"
			  "timezone: ../../etc/passwd\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n",
			  2, 11, "'../../etc/passwd' is not a time zone name");
}

static void test_a_pattern_must_name_a_pool_and_a_volume(void **state)
{
	struct policy_diagnostics diags = {0};

	(void)state;
	parse_refused("version: 1\n"
		      "policies:\n"
		      "  - name: p\n"
		      "    volumes: [vm-*, /rbd/x, a/b/c/d, rbd/, \"rbd//x\"]\n"
		      "    every: 1h\n", &diags);
	assert_int_equal(diags.errors, 5);
	assert_error_at(&diags, 4, 15, "'vm-*' is not a POOL[/NAMESPACE]/VOLUME "
			"pattern (like rbd/vm-* or ssd/tenant1/*)");
	assert_error_at(&diags, 4, 21, "'/rbd/x' is not a POOL[/NAMESPACE]"
			"/VOLUME pattern");
	assert_error_at(&diags, 4, 29, "'a/b/c/d' is not a POOL[/NAMESPACE]"
			"/VOLUME pattern");
	assert_error_at(&diags, 4, 38, "'rbd/' is not");
	assert_error_at(&diags, 4, 44, "'rbd//x' is not");
	policy_diagnostics_free(&diags);

	expect_only_error("version: 1\n"
			  "policies: [{name: p, volumes: [], every: 1h}]\n", 2, 31,
			  "volumes is empty; list POOL[/NAMESPACE]/VOLUME patterns");
	expect_only_error("version: 1\n"
			  "policies: [{name: p, every: 1h}]\n", 2, 12,
			  "policy 'p' needs volumes: a list of "
			  "POOL[/NAMESPACE]/VOLUME patterns");
}

static void test_the_version_must_be_1(void **state)
{
	(void)state;
	expect_only_error("version: 2\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n",
			  1, 10, "version 2 is not one this rowcat reads");
	expect_only_error("policies: [{name: p, volumes: [rbd/*], every: 1h}]\n",
			  1, 1, "version is missing");
	expect_only_error("version: 1\n", 1, 1, "policies is missing");
	expect_only_error("version: 1\npolicies: []\n", 2, 11,
			  "policies is empty");
}

/* ---- many problems ------------------------------------------------------- */

static void test_every_problem_of_a_file_is_reported_not_just_the_first(
	void **state)
{
	struct policy_diagnostics diags = {0};

	(void)state;
	parse_refused("version: 2\n"
		      "timezone: Mars/Olympus_Mons\n"
		      "defaults: {max_depth: 0}\n"
		      "policies:\n"
		      "  - name: \"bad name!\"\n"
		      "    volumes: [vm-*, \"/rbd/x\", \"a/b/c/d\"]\n"
		      "    every: 90\n"
		      "    keep: {latest: -1, hourly: 1.5, daily: \"3\", weekly: 99999999999999999999}\n"
		      "  - name: both\n"
		      "    volumes: [rbd/*]\n"
		      "    every: 1h\n"
		      "    cron: \"0 * * * *\"\n"
		      "  - name: neither\n"
		      "    volumes: []\n"
		      "  - name: badcron\n"
		      "    volumes: [rbd/*]\n"
		      "    cron: \"61 25 32 13 8\"\n"
		      "  - name: badcron\n"
		      "    volumes: [rbd/*]\n"
		      "    cron: \"0 0 30 2 *\"\n"
		      "gc: {min_age: -1h, trash_delay: forever}\n", &diags);
	assert_int_equal(diags.errors, 20);
	assert_int_equal(diags.count, 20);
	assert_error_at(&diags, 1, 10, "version 2");
	assert_error_at(&diags, 2, 11, "Mars/Olympus_Mons");
	assert_error_at(&diags, 3, 23, "defaults max_depth is 0");
	assert_error_at(&diags, 5, 11, "policy name 'bad name!'");
	assert_error_at(&diags, 6, 15, "'vm-*'");
	assert_error_at(&diags, 6, 21, "'/rbd/x'");
	assert_error_at(&diags, 6, 31, "'a/b/c/d'");
	assert_error_at(&diags, 7, 12, "every: '90'");
	assert_error_at(&diags, 8, 20, "keep latest is -1");
	assert_error_at(&diags, 8, 32, "keep hourly");
	assert_error_at(&diags, 8, 44, "keep daily");
	assert_error_at(&diags, 8, 57, "keep weekly");
	assert_error_at(&diags, 12, 11, "both every and cron");
	assert_error_at(&diags, 13, 5, "policy 'neither' needs every");
	assert_error_at(&diags, 14, 14, "volumes is empty");
	assert_error_at(&diags, 17, 11, "minute 61");
	assert_error_at(&diags, 18, 5, "a second policy named 'badcron' (the "
			"first is at line 15)");
	assert_error_at(&diags, 20, 11, "never comes");
	assert_error_at(&diags, 21, 15, "gc min_age");
	assert_error_at(&diags, 21, 33, "gc trash_delay");
	policy_diagnostics_free(&diags);
}

/* ---- the shape of the file ----------------------------------------------- */

static void test_more_than_one_document_is_refused(void **state)
{
	(void)state;
	expect_only_error("version: 1\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n"
			  "---\n"
			  "version: 1\n", 3, 1,
			  "more than one YAML document; a policy file holds one");
	expect_only_error("---\n"
			  "version: 1\n"
			  "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n"
			  "...\n"
			  "---\n"
			  "version: 1\n", 5, 1, "more than one YAML document");
}

static void test_an_empty_file_is_refused(void **state)
{
	(void)state;
	expect_only_error("", 1, 1, "the file is empty; a policy file starts "
			  "with version: 1");
	expect_only_error("# nothing but a comment\n\n", 1, 1,
			  "the file is empty");
}

static void test_a_file_that_is_not_a_mapping_is_refused(void **state)
{
	(void)state;
	expect_only_error("[1, 2, 3]\n", 1, 1,
			  "the file must be a mapping, not a list");
	expect_only_error("- version: 1\n", 1, 1,
			  "the file must be a mapping, not a list");
	expect_only_error("version\n", 1, 1,
			  "the file must be a mapping, not a single value");
}

static void test_yaml_syntax_errors_are_refused_where_libyaml_stops(
	void **state)
{
	(void)state;
	expect_only_error("version: 1\n"
			  "policies:\n"
			  "\t- name: tab\n", 3, 1,
			  "YAML syntax: found character that cannot start any "
			  "token");
	expect_only_error("version: 1\n"
			  "policies: [{name: p\n", 3, 1, "YAML syntax: ");
}

static void test_a_nul_escaped_inside_a_string_is_refused(void **state)
{
	(void)state;
	expect_only_error("version: 1\n"
			  "policies:\n"
			  "  - name: \"nul\\0byte\"\n"
			  "    volumes: [rbd/*]\n"
			  "    every: 1h\n", 3, 11,
			  "policy name contains a NUL character");
	expect_policy_error("    every: \"1h\\0junk\"\n", 5, 12,
			    "every contains a NUL character");
	expect_only_error("version: 1\n"
			  "policies: [{name: p, volumes: [\"rbd/a\\0b\"], "
			  "every: 1h}]\n", 2, 32,
			  "a volumes pattern contains a NUL character");
}

/* A key is matched whole: "policies\0evil" is not policies. */
static void test_a_nul_inside_a_key_is_refused(void **state)
{
	struct policy_diagnostics diags = {0};

	(void)state;
	parse_refused("version: 1\n"
		      "\"policies\\0evil\": [{name: p, volumes: [rbd/*], "
		      "every: 1h}]\n", &diags);
	assert_error_at(&diags, 2, 1, "NUL");
	policy_diagnostics_free(&diags);
}

/*
 * A raw NUL byte (or any control character, or bytes that are not UTF-8)
 * is refused by libyaml's reader, which records the offset of the byte,
 * not a line and column: the message must still point at the byte.
 */
static void test_a_raw_nul_byte_is_refused_at_its_place(void **state)
{
	static const char text[] = "version: 1\n"
				   "policies:\n"
				   "  - name: \"a\0b\"\n";
	static const char not_utf8[] = "version: 1\n"
				       "policies:\n"
				       "  - name: \"a\xff\"\n";

	(void)state;
	expect_only_error_len(text, sizeof(text) - 1, 3, 13,
			      "control characters are not allowed");
	expect_only_error_len(not_utf8, sizeof(not_utf8) - 1, 3, 13,
			      "UTF-8");
}

/* ---- aliases -------------------------------------------------------------- */

static void test_an_anchor_reused_for_a_keep_set_parses(void **state)
{
	struct policy_file *f = parse_ok("version: 1\n"
					 "policies:\n"
					 "  - name: a\n"
					 "    volumes: [rbd/x-*]\n"
					 "    cron: \"@hourly\"\n"
					 "    keep: &std {hourly: 24, daily: 7}\n"
					 "  - name: b\n"
					 "    volumes: [rbd/y-*]\n"
					 "    every: 2h\n"
					 "    keep: *std\n");

	(void)state;
	for (int i = 0; i < 2; i++) {
		const struct policy_keep *keep = &f->policies[i].keep;

		assert_true(keep->given);
		assert_int_equal(keep->latest, 0);
		assert_int_equal(keep->buckets[POLICY_HOURLY], 24);
		assert_int_equal(keep->buckets[POLICY_DAILY], 7);
		assert_int_equal(keep->buckets[POLICY_WEEKLY], 0);
	}
	assert_int_equal(f->policies[1].every, 7200);
	policy_file_free(f);
}

static void test_a_scalar_anchor_reused_parses(void **state)
{
	struct policy_file *f = parse_ok("version: 1\n"
					 "policies:\n"
					 "  - {name: a, volumes: [rbd/a*], every: &e 30m}\n"
					 "  - {name: b, volumes: [rbd/b*], every: *e}\n");

	(void)state;
	assert_int_equal(f->policies[0].every, 1800);
	assert_int_equal(f->policies[1].every, 1800);
	policy_file_free(f);
}

/* Billion laughs: nine levels of nine aliases to the level below. (How
 * long it takes is bench/'s to measure: row 1.) */
static void test_an_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit(
	void **state)
{
	static const char bomb[] =
		"version: 1\n"
		"a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
		"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
		"policies: [*i]\n";

	(void)state;
	/*
	 * The aliases of b stand for 9 * 10 nodes, those of c for 9 * 91,
	 * those of d for 9 * 820: 8289 together. The first alias in e adds
	 * d's 7381 and crosses 10000: refused there, before the rest is read.
	 */
	expect_only_error(bomb, 6, 8, "aliases expand to more than 10000 "
			  "nodes (an alias bomb?)");
}

/*
 * The limit is on the nodes the file's aliases stand for, all of them
 * together: in [&a [k values], *a] the alias stands for k + 1 nodes.
 */
static void test_aliases_may_expand_to_exactly_the_node_limit(void **state)
{
	size_t k = POLICY_ALIAS_NODES_MAX - 1;
	size_t size = 32 + 2 * (k + 2);
	char *text = malloc(size), *end = text;

	(void)state;
	assert_non_null(text);
	assert_int_equal(POLICY_ALIAS_NODES_MAX, 10000);
	/* the alias stands for exactly 10000 nodes: read */
	end += sprintf(end, "[&a [");
	for (size_t i = 0; i < k; i++)
		end += sprintf(end, "%s0", i ? "," : "");
	end += sprintf(end, "], *a]\n");
	expect_only_error(text, 1, 1, "the file must be a mapping, not a list");

	/* with one value more in a: 10001, refused at the alias */
	end = text;
	end += sprintf(end, "[&a [");
	for (size_t i = 0; i < k + 1; i++)
		end += sprintf(end, "%s0", i ? "," : "");
	end += sprintf(end, "], *a]\n");
	expect_only_error(text, 1, (int)(5 + 2 * (k + 1) + 3),
			  "aliases expand to more than 10000 nodes");

	/* two aliases of 5000 each are 10000 together: read; a third is not */
	end = text;
	end += sprintf(end, "[&a [");
	for (size_t i = 0; i < 4999; i++)
		end += sprintf(end, "%s0", i ? "," : "");
	end += sprintf(end, "], *a, *a]\n");
	expect_only_error(text, 1, 1, "the file must be a mapping, not a list");
	end[-2] = ',';
	sprintf(end - 1, " *a]\n");
	expect_only_error(text, 1, (int)(5 + 2 * 4999 - 1 + 12),
			  "aliases expand to more than 10000 nodes");
	free(text);
}

static void test_an_alias_to_the_node_it_is_in_is_refused(void **state)
{
	(void)state;
	expect_only_error("version: 1\n"
			  "policies: &p\n"
			  "  - name: loop\n"
			  "    volumes: *p\n", 4, 14,
			  "alias *p refers to the node it is in");
	expect_only_error("version: 1\n"
			  "policies:\n"
			  "  - &me {name: loop, volumes: [rbd/*], keep: *me}\n",
			  3, 46, "alias *me refers to the node it is in");
}

static void test_an_alias_to_no_anchor_is_refused(void **state)
{
	(void)state;
	expect_only_error("version: 1\n"
			  "policies: *nowhere\n", 2, 11,
			  "alias *nowhere names no anchor before it");
	/* the anchor comes after: YAML reads in order */
	expect_only_error("version: 1\n"
			  "policies: [{name: a, volumes: [rbd/*], every: *t}]\n"
			  "gc: {min_age: &t 1h}\n", 2, 47,
			  "alias *t names no anchor before it");
}

/* ---- nesting ------------------------------------------------------------- */

/*
 * "version: 1\npolicies: " and brackets: the file's mapping is the first
 * level, each '[' one more. The loader refuses the collection that would
 * open level POLICY_NESTING_MAX + 1, at its '['.
 */
static char *nested_flow(int brackets)
{
	char *text = malloc(32 + 2 * (size_t)brackets);
	char *end = text;

	assert_non_null(text);
	end += sprintf(end, "version: 1\npolicies: ");
	for (int i = 0; i < brackets; i++)
		*end++ = '[';
	for (int i = 0; i < brackets; i++)
		*end++ = ']';
	strcpy(end, "\n");
	return text;
}

static void test_nesting_64_levels_is_read_and_65_is_refused(void **state)
{
	char *text;

	(void)state;
	assert_int_equal(POLICY_NESTING_MAX, 64);
	/* 64 levels: read, and refused only by the schema */
	text = nested_flow(POLICY_NESTING_MAX - 1);
	expect_only_error(text, 2, 12, "a policy must be a mapping, not a list");
	free(text);
	/* 65 levels: refused at the 65th, the 64th '[' (column 11 + 63) */
	text = nested_flow(POLICY_NESTING_MAX);
	expect_only_error(text, 2, 74, "nesting deeper than 64 levels");
	free(text);
	/* far deeper: still one error, at the same place */
	text = nested_flow(100000);
	expect_only_error(text, 2, 74, "nesting deeper than 64 levels");
	free(text);
}

/* "- - - ... - x": block sequences, one level per "- ". */
static void test_block_nesting_has_the_same_limit(void **state)
{
	char text[2 * (POLICY_NESTING_MAX + 1) + 8];
	char *end;

	(void)state;
	end = text;
	for (int i = 0; i < POLICY_NESTING_MAX; i++)
		end += sprintf(end, "- ");
	strcpy(end, "x\n");
	expect_only_error(text, 1, 1, "the file must be a mapping, not a list");

	end = text;
	for (int i = 0; i < POLICY_NESTING_MAX + 1; i++)
		end += sprintf(end, "- ");
	strcpy(end, "x\n");
	expect_only_error(text, 1, 2 * POLICY_NESTING_MAX + 1,
			  "nesting deeper than 64 levels");
}

/*
 * An alias to a collection of height h used inside d open collections
 * makes d + h levels: a: &deep (61 or 62 lists) is used three levels down.
 */
static char *nested_alias(int height)
{
	char *text = malloc(64 + 2 * (size_t)height);
	char *end = text;

	assert_non_null(text);
	end += sprintf(end, "a: &deep ");
	for (int i = 0; i < height; i++)
		*end++ = '[';
	for (int i = 0; i < height; i++)
		*end++ = ']';
	strcpy(end, "\nb: {c: {d: *deep}}\n");
	return text;
}

static void test_an_alias_that_would_nest_past_64_levels_is_refused(
	void **state)
{
	struct policy_diagnostics diags = {0};
	char *text;

	(void)state;
	/* 3 + 61 = 64 levels: the loader reads it; only the schema objects */
	text = nested_alias(POLICY_NESTING_MAX - 3);
	parse_refused(text, &diags);
	assert_false(mentions(&diags, "nest"));
	assert_error_at(&diags, 1, 1, "unknown key 'a' in the file");
	policy_diagnostics_free(&diags);
	free(text);
	/* 3 + 62 = 65 */
	text = nested_alias(POLICY_NESTING_MAX - 2);
	expect_only_error(text, 2, 12, "alias *deep nests deeper than 64 "
			  "levels");
	free(text);
}

/* ---- size ------------------------------------------------------------------ */

/* A valid file padded with a comment to exactly size bytes. */
static char *padded_valid_file(size_t size)
{
	static const char valid[] = "version: 1\n"
				    "policies: [{name: p, volumes: [rbd/*], every: 1h}]\n"
				    "# ";
	char *text = malloc(size + 1);

	assert_non_null(text);
	assert_true(size > sizeof(valid));
	memcpy(text, valid, sizeof(valid) - 1);
	memset(text + sizeof(valid) - 1, 'x', size - sizeof(valid));
	text[size - 1] = '\n';
	text[size] = '\0';
	return text;
}

static void test_a_text_of_exactly_the_size_limit_is_read(void **state)
{
	char *text = padded_valid_file(POLICY_FILE_MAX);
	struct policy_file *f;

	(void)state;
	assert_int_equal(strlen(text), POLICY_FILE_MAX);
	f = parse_ok(text);
	assert_int_equal(f->policy_count, 1);
	policy_file_free(f);
	free(text);
}

static void test_a_text_one_byte_over_the_size_limit_is_refused_at_1_1(
	void **state)
{
	char *text = padded_valid_file(POLICY_FILE_MAX + 1);

	(void)state;
	expect_only_error(text, 1, 1, "the file is over 1048576 bytes, the most "
			  "a policy file may hold");
	free(text);
	/* not read at all: brackets that would nest too deep go unseen */
	text = repeat('[', POLICY_FILE_MAX + 1);
	expect_only_error(text, 1, 1, "the file is over 1048576 bytes");
	free(text);
}

/*
 * Files of the size limit, in shapes that a check of each item against all
 * earlier ones would take minutes over: each key against the earlier keys
 * of its mapping, each policy name against the earlier names, each alias
 * against the anchors; and one where each item alone costs too much. Here,
 * what each is refused for; how long each takes is measured in bench/
 * (row 1, `rowcat policy check` of the same shapes), not asserted in a
 * test, whose clock is the machine's load.
 */
static void test_a_megabyte_of_unknown_then_duplicate_keys_is_refused(
	void **state)
{
	struct policy_diagnostics diags = {0};
	char *text = malloc(POLICY_FILE_MAX + 64), *end = text;
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	while (end - text < POLICY_FILE_MAX / 3)
		end += sprintf(end, "a%zu: 1\n", n++);
	while (end - text < POLICY_FILE_MAX - 16)
		end += sprintf(end, "version: 1\n");
	parse_refused(text, &diags);
	assert_error_at(&diags, 1, 1, "unknown key 'a0' in the file");
	policy_diagnostics_free(&diags);
	free(text);
}

static void test_a_megabyte_of_policies_without_volumes_is_refused(void **state)
{
	struct policy_diagnostics diags = {0};
	char *text = malloc(POLICY_FILE_MAX + 64), *end = text;
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	end += sprintf(end, "version: 1\npolicies:\n");
	while (end - text < POLICY_FILE_MAX - 32)
		end += sprintf(end, "- {name: p%zu}\n", n++);
	parse_refused(text, &diags);
	assert_error_at(&diags, 3, 3, "policy 'p0' needs volumes");
	policy_diagnostics_free(&diags);
	free(text);
}

static void test_a_megabyte_of_anchors_and_aliases_is_refused_at_the_limit(
	void **state)
{
	struct policy_diagnostics diags = {0};
	char *text = malloc(POLICY_FILE_MAX + 64), *end = text;
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	while (end - text < POLICY_FILE_MAX / 2)
		end += sprintf(end, "- &a%zu 0\n", n++);
	while (end - text < POLICY_FILE_MAX - 16)
		end += sprintf(end, "- *a0\n");
	parse_refused(text, &diags);
	assert_int_equal(diags.errors, 1);
	assert_true(mentions(&diags, "aliases expand to more than 10000 nodes"));
	policy_diagnostics_free(&diags);
	free(text);
}

/*
 * A cron expression whose day of the month is narrowed by a weekday is
 * checked to come at least once in 10 years, each of a megabyte of them.
 * (One name for all keeps the check of names out of the count.)
 */
static void test_a_megabyte_of_cron_policies_is_refused_for_a_name(void **state)
{
	struct policy_diagnostics diags = {0};
	char *text = malloc(POLICY_FILE_MAX + 64), *end = text;

	(void)state;
	assert_non_null(text);
	end += sprintf(end, "version: 1\npolicies:\n");
	while (end - text < POLICY_FILE_MAX - 64)
		end += sprintf(end, "- {name: p, volumes: [rbd/*], "
			       "cron: \"0 0 1 1 */2\"}\n");
	parse_refused(text, &diags);
	assert_error_at(&diags, 4, 3, "a second policy named 'p'");
	assert_false(mentions(&diags, "cron"));
	policy_diagnostics_free(&diags);
	free(text);
}

/* ---- policy_load ----------------------------------------------------------- */

static void test_loading_a_file_reads_it_as_parsing_its_text(void **state)
{
	struct policy_diagnostics diags = {0};
	struct rc_error err = {0};
	struct policy_file *f = NULL;
	struct testdir dir = {0};
	char path[256];

	(void)state;
	write_temp(&dir, path, issue_example, strlen(issue_example));
	assert_int_equal(policy_load(&f, path, &diags, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(diags.count, 0);
	assert_non_null(f);
	assert_int_equal(f->policy_count, 2);
	assert_string_equal(f->policies[1].name, "bronze");
	assert_string_equal(f->cluster_id, "rowcat");
	policy_file_free(f);
	unlink(path);
	testdir_remove(&dir);
}

static void test_loading_an_invalid_file_gives_diagnostics_not_an_error(
	void **state)
{
	static const char text[] = "version: 1\ntimezon: UTC\n";
	struct policy_diagnostics diags = {0};
	struct rc_error err = {0};
	struct policy_file *f = (struct policy_file *)1;
	struct testdir dir = {0};
	char path[256];

	(void)state;
	write_temp(&dir, path, text, sizeof(text) - 1);
	assert_int_equal(policy_load(&f, path, &diags, &err), -EINVAL);
	assert_null(f);
	assert_int_equal(err.code, 0);
	assert_error_at(&diags, 2, 1, "did you mean 'timezone'?");
	policy_diagnostics_free(&diags);
	unlink(path);
	testdir_remove(&dir);
}

static void test_loading_a_file_of_exactly_the_size_limit_reads_it(
	void **state)
{
	char *text = padded_valid_file(POLICY_FILE_MAX);
	struct policy_diagnostics diags = {0};
	struct rc_error err = {0};
	struct policy_file *f = NULL;
	struct testdir dir = {0};
	char path[256];

	(void)state;
	write_temp(&dir, path, text, POLICY_FILE_MAX);
	assert_int_equal(policy_load(&f, path, &diags, &err), 0);
	assert_int_equal(diags.count, 0);
	assert_int_equal(f->policy_count, 1);
	policy_file_free(f);
	unlink(path);
	free(text);
	testdir_remove(&dir);
}

/* 64 MiB of a sparse file: refused from its size, without reading it. */
static void test_loading_a_file_over_the_size_limit_refuses_it_unread(
	void **state)
{
	struct policy_diagnostics diags = {0};
	struct rc_error err = {0};
	struct policy_file *f = (struct policy_file *)1;
	char *text = repeat('[', POLICY_FILE_MAX + 1);
	struct testdir dir = {0};
	char path[256];
	int fd;

	(void)state;
	write_temp(&dir, path, "", 0);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 * 1024 * 1024), 0);
	close(fd);
	assert_int_equal(policy_load(&f, path, &diags, &err), -EINVAL);
	assert_null(f);
	assert_int_equal(diags.errors, 1);
	assert_error_at(&diags, 1, 1, "the file is 67108864 bytes; a policy "
			"file may be at most 1048576");
	policy_diagnostics_free(&diags);
	unlink(path);

	/* one byte over: the same, and brackets that would nest go unseen */
	write_temp(&dir, path, text, POLICY_FILE_MAX + 1);
	assert_int_equal(policy_load(&f, path, &diags, &err), -EINVAL);
	assert_int_equal(diags.errors, 1);
	assert_error_at(&diags, 1, 1, "the file is 1048577 bytes");
	policy_diagnostics_free(&diags);
	unlink(path);
	free(text);
	testdir_remove(&dir);
}

static void test_loading_a_missing_file_is_an_error_of_enoent(void **state)
{
	struct policy_diagnostics diags = {0};
	struct rc_error err = {0};
	struct policy_file *f = (struct policy_file *)1;

	(void)state;
	assert_int_equal(policy_load(&f, "/nonexistent/rowcat/policy.yaml",
				     &diags, &err), -ENOENT);
	assert_null(f);
	assert_int_equal(err.code, -ENOENT);
	assert_non_null(strstr(err.message, "/nonexistent/rowcat/policy.yaml"));
	assert_int_equal(diags.count, 0);
	assert_int_equal(diags.errors, 0);
}

/* A FIFO would block the open, and the run, until someone writes to it. */
static void test_loading_a_fifo_refuses_it_without_waiting(void **state)
{
	struct policy_diagnostics diags = {0};
	struct rc_error err = {0};
	struct policy_file *f = (struct policy_file *)1;
	struct testdir dir;
	char path[512];

	(void)state;
	testdir_make(&dir);
	testdir_file(&dir, "policy.yaml", path, sizeof(path));
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(policy_load(&f, path, &diags, &err), -EINVAL);
	assert_null(f);
	assert_non_null(strstr(err.message, "is not a regular file"));
	assert_int_equal(diags.count, 0);
	unlink(path);
	testdir_remove(&dir);
}

static void test_loading_a_directory_is_an_error_of_eisdir(void **state)
{
	struct policy_diagnostics diags = {0};
	struct rc_error err = {0};
	struct policy_file *f = (struct policy_file *)1;
	struct testdir dir;

	(void)state;
	testdir_make(&dir);
	assert_int_equal(policy_load(&f, dir.path, &diags, &err), -EISDIR);
	assert_null(f);
	assert_int_equal(err.code, -EISDIR);
	assert_non_null(strstr(err.message, "is a directory"));
	assert_int_equal(diags.count, 0);
	testdir_remove(&dir);
}

/* ---- policy_match ------------------------------------------------------- */

static void test_the_first_policy_whose_pattern_matches_wins(void **state)
{
	struct policy_file *f = parse_ok(issue_example);
	const struct policy *p;

	(void)state;
	/* rbd/vm-1 matches gold's rbd/vm-* and bronze's too: gold */
	p = policy_match(f, "rbd", "", "vm-1");
	assert_non_null(p);
	assert_string_equal(p->name, "gold");
	/* gold's second pattern */
	p = policy_match(f, "ssd", "", "db-7");
	assert_non_null(p);
	assert_string_equal(p->name, "gold");
	p = policy_match(f, "rbd", "", "scratch");
	assert_non_null(p);
	assert_string_equal(p->name, "bronze");
	assert_null(policy_match(f, "ssd", "", "vm-1"));
	assert_null(policy_match(f, "rbd2", "", "vm-1"));
	policy_file_free(f);
}

static void test_a_star_never_crosses_a_slash(void **state)
{
	struct policy_file *f = parse_ok("version: 1\n"
					 "policies:\n"
					 "  - {name: flat, volumes: [rbd/*], every: 1h}\n"
					 "  - {name: spaced, volumes: [rbd/*/*], every: 1h}\n");
	const struct policy *p;

	(void)state;
	p = policy_match(f, "rbd", "ns1", "vm-1");
	assert_non_null(p);
	assert_string_equal(p->name, "spaced");
	p = policy_match(f, "rbd", "", "vm-1");
	assert_non_null(p);
	assert_string_equal(p->name, "flat");
	assert_false(policy_pattern_matches("rbd/*", "rbd", "ns1", "vm-1"));
	assert_true(policy_pattern_matches("rbd/*/*", "rbd", "ns1", "vm-1"));
	assert_false(policy_pattern_matches("rbd/*/*", "rbd", "", "vm-1"));
	assert_false(policy_pattern_matches("rbd/vm-*", "rbd", "ns1", "vm-1"));
	assert_false(policy_pattern_matches("*", "rbd", "", "vm-1"));
	policy_file_free(f);
}

static void test_patterns_match_the_pool_namespace_and_volume(void **state)
{
	(void)state;
	assert_true(policy_pattern_matches("rbd/vm-1", "rbd", "", "vm-1"));
	assert_true(policy_pattern_matches("rbd/vm-1", "rbd", NULL, "vm-1"));
	assert_true(policy_pattern_matches("rbd/ns1/vm-?", "rbd", "ns1", "vm-7"));
	assert_false(policy_pattern_matches("rbd/ns1/vm-?", "rbd", "ns2",
					    "vm-7"));
	assert_false(policy_pattern_matches("rbd/ns1/vm-?", "ssd", "ns1",
					    "vm-7"));
	assert_false(policy_pattern_matches("rbd/ns1/vm-?", "rbd", "ns1",
					    "vm-10"));
	assert_true(policy_pattern_matches("*/db-[0-9]", "ssd", "", "db-3"));
	assert_true(policy_pattern_matches("ssd/*/db-*", "ssd", "tenant1",
					   "db-main"));
	/* a pool's default namespace is not a namespace named "" */
	assert_false(policy_pattern_matches("rbd//vm-1", "rbd", "", "vm-1"));
	/* the whole of each part: no prefix or suffix matches */
	assert_false(policy_pattern_matches("rbd/vm", "rbd", "", "vm-1"));
	assert_false(policy_pattern_matches("rb/vm-1", "rbd", "", "vm-1"));
}

static void test_a_volume_no_pattern_matches_has_no_policy(void **state)
{
	struct policy_file *f = parse_policy_ok("    every: 1h\n");

	(void)state;
	assert_non_null(policy_match(f, "rbd", "", "anything"));
	assert_null(policy_match(f, "ssd", "", "anything"));
	assert_null(policy_match(f, "rbd", "ns", "anything"));
	policy_file_free(f);
}

/* ---- printing diagnostics ---------------------------------------------- */

/*
 * What policy_diagnostics_print writes for file, in out->text (the caller
 * frees it). The buffer and its length live in the caller's struct, not in
 * here: open_memstream keeps their addresses, so a pointer into the text
 * must never be derived from locals that end with this function.
 */
struct printout {
	char *text;
	size_t len;
};

static void print_to(struct printout *out, const char *file,
		     const struct policy_diagnostics *diags)
{
	FILE *stream;

	out->text = NULL;
	out->len = 0;
	stream = open_memstream(&out->text, &out->len);
	assert_non_null(stream);
	policy_diagnostics_print(stream, file, diags);
	assert_int_equal(fclose(stream), 0);
}

static void test_diagnostics_print_as_file_line_column_sorted_by_position(
	void **state)
{
	struct policy_mark at_8_16 = { 8, 16 }, at_2_1 = { 2, 1 };
	struct policy_mark at_7_12 = { 7, 12 }, at_7_3 = { 7, 3 };
	struct policy_diagnostics diags = {0};
	struct printout printout;

	(void)state;
	assert_int_equal(policy_diagnostics_add(&diags, at_8_16, false,
						"max_depth is %d", -1), 0);
	assert_int_equal(policy_diagnostics_add(&diags, at_2_1, false,
						"unknown key 'timezon'"), 0);
	/* the warning `policy check` gives for a pattern matching nothing */
	assert_int_equal(policy_diagnostics_add(&diags, at_7_12, true,
						"'rbd/vm-*' matches no volume "
						"in the catalog"), 0);
	assert_int_equal(policy_diagnostics_add(&diags, at_7_3, false,
						"second"), 0);
	assert_int_equal(policy_diagnostics_add(&diags, at_7_3, false,
						"third, found after second"), 0);
	assert_int_equal(diags.count, 5);
	assert_int_equal(diags.errors, 4);
	/* kept in the order found; printed in the order of the file */
	assert_string_equal(diags.items[0].message, "max_depth is -1");
	print_to(&printout, "policy.yaml", &diags);
	assert_string_equal(printout.text,
		"policy.yaml:2:1: unknown key 'timezon'\n"
		"policy.yaml:7:3: second\n"
		"policy.yaml:7:3: third, found after second\n"
		"policy.yaml:7:12: warning: 'rbd/vm-*' matches no volume in the "
		"catalog\n"
		"policy.yaml:8:16: max_depth is -1\n");
	free(printout.text);
	policy_diagnostics_free(&diags);
	assert_int_equal(diags.count, 0);
	assert_int_equal(diags.errors, 0);
	assert_null(diags.items);
}

static void test_the_diagnostics_of_a_refused_file_print_in_file_order(
	void **state)
{
	struct policy_diagnostics diags = {0};
	struct printout printout;

	(void)state;
	parse_refused("version: 1\n"
		      "policies:\n"
		      "  - name: gold\n"
		      "    evry: 1h\n"
		      "    volumes: [vm-*]\n", &diags);
	/* found: the key, then the volumes, then the missing schedule */
	print_to(&printout, "p.yaml", &diags);
	assert_string_equal(printout.text,
		"p.yaml:3:5: policy 'gold' needs every (like 1h) or cron "
		"(like \"0 */4 * * *\")\n"
		"p.yaml:4:5: unknown key 'evry' in a policy (did you mean "
		"'every'?)\n"
		"p.yaml:5:15: 'vm-*' is not a POOL[/NAMESPACE]/VOLUME pattern "
		"(like rbd/vm-* or ssd/tenant1/*)\n");
	free(printout.text);
	policy_diagnostics_free(&diags);
}

static void test_warnings_alone_do_not_refuse_a_file(void **state)
{
	struct policy_mark at = { 4, 15 };
	struct policy_diagnostics diags = {0};
	struct policy_file *f = NULL;

	(void)state;
	assert_int_equal(policy_diagnostics_add(&diags, at, true,
						"matches no volume"), 0);
	assert_int_equal(diags.errors, 0);
	assert_int_equal(policy_parse(&f, issue_example, strlen(issue_example),
				      &diags), 0);
	assert_non_null(f);
	assert_int_equal(diags.count, 1);
	policy_file_free(f);
	policy_diagnostics_free(&diags);
}

static void test_past_100_diagnostics_are_counted_not_kept(void **state)
{
	struct policy_diagnostics diags = {0};
	struct printout printout;
	char *last;

	(void)state;
	for (int i = 0; i < 150; i++) {
		struct policy_mark at = { 150 - i, 1 };

		assert_int_equal(policy_diagnostics_add(&diags, at, false,
							"problem %d", i), 0);
	}
	assert_int_equal(diags.count, 100);
	assert_int_equal(diags.errors, 150);
	print_to(&printout, "f.yaml", &diags);
	assert_true(strncmp(printout.text, "f.yaml:51:1: problem 99\n",
			    24) == 0);
	last = strrchr(printout.text, '\n');
	assert_non_null(last);
	*last = '\0';
	last = strrchr(printout.text, '\n');
	assert_non_null(last);
	assert_string_equal(last + 1, "f.yaml: 50 more errors not shown");
	free(printout.text);
	policy_diagnostics_free(&diags);
}

static void test_no_diagnostics_print_nothing(void **state)
{
	struct policy_diagnostics diags = {0};
	struct printout printout;

	(void)state;
	print_to(&printout, "f.yaml", &diags);
	assert_string_equal(printout.text, "");
	free(printout.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_issue_example_reads_as_every_value_it_writes),
		cmocka_unit_test(test_a_file_silent_on_the_options_gets_their_defaults),
		cmocka_unit_test(test_defaults_max_depth_applies_to_policies_without_their_own),
		cmocka_unit_test(test_gc_with_one_option_keeps_the_default_of_the_other),
		cmocka_unit_test(test_a_cron_policy_keeps_its_expression_and_no_every),
		cmocka_unit_test(test_an_installed_iana_timezone_is_kept),
		cmocka_unit_test(test_unknown_keys_are_errors_naming_the_nearest_valid_key),
		cmocka_unit_test(test_an_unknown_key_like_no_valid_one_lists_the_valid_keys),
		cmocka_unit_test(test_duplicate_keys_are_errors_at_the_second),
		cmocka_unit_test(test_a_key_must_be_a_single_word),
		cmocka_unit_test(test_counts_below_zero_are_refused),
		cmocka_unit_test(test_counts_above_the_maximum_are_refused),
		cmocka_unit_test(test_a_count_too_large_to_read_is_quoted_as_written),
		cmocka_unit_test(test_a_quoted_number_is_not_a_count),
		cmocka_unit_test(test_a_count_must_be_a_whole_number),
		cmocka_unit_test(test_bad_durations_are_refused_with_the_reason),
		cmocka_unit_test(test_every_below_a_minute_is_refused),
		cmocka_unit_test(test_bad_cron_expressions_are_refused_naming_the_field),
		cmocka_unit_test(test_a_policy_needs_exactly_one_of_every_and_cron),
		cmocka_unit_test(test_two_policies_of_one_name_are_refused),
		cmocka_unit_test(test_policy_names_are_short_words),
		cmocka_unit_test(test_keep_that_keeps_nothing_is_refused),
		cmocka_unit_test(test_a_timezone_that_is_not_installed_is_refused),
		cmocka_unit_test(test_a_pattern_must_name_a_pool_and_a_volume),
		cmocka_unit_test(test_the_version_must_be_1),
		cmocka_unit_test(test_every_problem_of_a_file_is_reported_not_just_the_first),
		cmocka_unit_test(test_more_than_one_document_is_refused),
		cmocka_unit_test(test_an_empty_file_is_refused),
		cmocka_unit_test(test_a_file_that_is_not_a_mapping_is_refused),
		cmocka_unit_test(test_yaml_syntax_errors_are_refused_where_libyaml_stops),
		cmocka_unit_test(test_a_nul_escaped_inside_a_string_is_refused),
		cmocka_unit_test(test_a_nul_inside_a_key_is_refused),
		cmocka_unit_test(test_a_raw_nul_byte_is_refused_at_its_place),
		cmocka_unit_test(test_an_anchor_reused_for_a_keep_set_parses),
		cmocka_unit_test(test_a_scalar_anchor_reused_parses),
		cmocka_unit_test(test_an_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit),
		cmocka_unit_test(test_aliases_may_expand_to_exactly_the_node_limit),
		cmocka_unit_test(test_an_alias_to_the_node_it_is_in_is_refused),
		cmocka_unit_test(test_an_alias_to_no_anchor_is_refused),
		cmocka_unit_test(test_nesting_64_levels_is_read_and_65_is_refused),
		cmocka_unit_test(test_block_nesting_has_the_same_limit),
		cmocka_unit_test(test_an_alias_that_would_nest_past_64_levels_is_refused),
		cmocka_unit_test(test_a_text_of_exactly_the_size_limit_is_read),
		cmocka_unit_test(test_a_text_one_byte_over_the_size_limit_is_refused_at_1_1),
		cmocka_unit_test(test_a_megabyte_of_unknown_then_duplicate_keys_is_refused),
		cmocka_unit_test(test_a_megabyte_of_policies_without_volumes_is_refused),
		cmocka_unit_test(test_a_megabyte_of_anchors_and_aliases_is_refused_at_the_limit),
		cmocka_unit_test(test_a_megabyte_of_cron_policies_is_refused_for_a_name),
		cmocka_unit_test(test_loading_a_file_reads_it_as_parsing_its_text),
		cmocka_unit_test(test_loading_an_invalid_file_gives_diagnostics_not_an_error),
		cmocka_unit_test(test_loading_a_file_of_exactly_the_size_limit_reads_it),
		cmocka_unit_test(test_loading_a_file_over_the_size_limit_refuses_it_unread),
		cmocka_unit_test(test_loading_a_missing_file_is_an_error_of_enoent),
		cmocka_unit_test(test_loading_a_directory_is_an_error_of_eisdir),
		cmocka_unit_test(test_loading_a_fifo_refuses_it_without_waiting),
		cmocka_unit_test(test_the_first_policy_whose_pattern_matches_wins),
		cmocka_unit_test(test_a_star_never_crosses_a_slash),
		cmocka_unit_test(test_patterns_match_the_pool_namespace_and_volume),
		cmocka_unit_test(test_a_volume_no_pattern_matches_has_no_policy),
		cmocka_unit_test(test_diagnostics_print_as_file_line_column_sorted_by_position),
		cmocka_unit_test(test_the_diagnostics_of_a_refused_file_print_in_file_order),
		cmocka_unit_test(test_warnings_alone_do_not_refuse_a_file),
		cmocka_unit_test(test_past_100_diagnostics_are_counted_not_kept),
		cmocka_unit_test(test_no_diagnostics_print_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
