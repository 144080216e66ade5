/*
 * config/: retention. Which snapshots a keep: set holds on to, checked
 * three ways:
 *
 *  - hand-worked cases, written as the times an operator reads: ISO weeks
 *    across a year end, days of 23 and 25 hours, hours that come back,
 *    ties in time;
 *  - a reference written here from the rule in policy.h and not from
 *    retention.c: a bucket is a strftime label of localtime_r, snapshots
 *    are grouped by label, the groups ordered by their newest snapshot,
 *    and the first N groups keep their newest;
 *  - two years of hourly snapshots where, as rowcat's policy runs do, each
 *    new snapshot is followed by dropping what retention does not keep;
 *    at every step the kept set must be the reference's, and what is left
 *    at the end was worked out by hand.
 *
 * The simulated years are 2026 and 2027: 2026-01-01 is a Thursday, so
 * 2026 has an ISO week 53, which runs from Monday 2026-12-28 to Sunday
 * 2027-01-03. Europe/Berlin changes to CEST on 2026-03-29 and 2027-03-28
 * and back on 2026-10-25 and 2027-10-31, at 01:00Z. Antarctica/Troll
 * changes at the same moments, but by two hours: from 03:00+02:00 back to
 * 01:00+00:00, so that the wall clock shows 01 and 02 twice, apart.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "rowcat/clock.h"
#include "rowcat/policy.h"

#define HOUR 3600
#define TWO_YEARS_OF_HOURS (730 * 24)

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		fail_msg("out of memory");
	return p;
}

/* Scratch arrays that grow as needed: the simulations call retain and the
 * reference a few hundred thousand times, and the sanitizers' allocator
 * would otherwise be most of the run. */
struct scratch {
	void *p;
	size_t bytes;
};

static void *scratch_for(struct scratch *s, size_t n, size_t size)
{
	if (n * size > s->bytes) {
		free(s->p);
		s->bytes = n * size * 2;
		s->p = xcalloc(s->bytes, 1);
	}
	return s->p;
}

static struct scratch retain_before, ref_order, ref_newest;

static void scratch_free(void)
{
	struct scratch *all[] = { &retain_before, &ref_order, &ref_newest };

	for (size_t i = 0; i < COUNT(all); i++) {
		free(all[i]->p);
		*all[i] = (struct scratch){0};
	}
}

static void use_zone(const char *zone)
{
	struct rc_error err = {0};

	if (policy_zone_use(zone, &err) != 0)
		fail_msg("policy_zone_use(%s): %s", zone, err.message);
}

/* A moment as an operator writes it: "2026-10-25T02:30:00+02:00". */
static int64_t at(const char *text)
{
	struct rc_error err = {0};
	int64_t t = 0;

	if (rc_time_parse_iso(text, &t, &err) != 0)
		fail_msg("%s", err.message);
	return t;
}

/* t as policy_time_format writes it in the zone in use. */
struct time_text {
	char s[POLICY_TIME_TEXT_MAX];
};

static struct time_text text_of(int64_t t)
{
	struct time_text text;

	policy_time_format(t, text.s);
	return text;
}

static bool same_bucket(enum policy_bucket kind, const char *a,
			const char *b)
{
	return policy_bucket_key(kind, at(a)) == policy_bucket_key(kind, at(b));
}

static void keep_text(const struct policy_keep *keep, char *buf, size_t size)
{
	size_t used = (size_t)snprintf(buf, size, "{%slatest:%d",
				       keep->given ? "" : "not given, ",
				       keep->latest);

	for (int k = 0; k < POLICY_BUCKET_KINDS && used < size; k++)
		used += (size_t)snprintf(buf + used, size - used, ", %s:%d",
					 policy_bucket_name(k),
					 keep->buckets[k]);
	if (used < size)
		snprintf(buf + used, size - used, "}");
}

/* policy_retain, which must succeed and leave the caller's array as it
 * was. */
static void retain(const struct policy_keep *keep,
		   const struct policy_snapshot *snaps, size_t n, bool *kept)
{
	struct policy_snapshot *before = scratch_for(&retain_before, n,
						    sizeof(*before));
	struct rc_error err = {0};
	int rc;

	if (n)
		memcpy(before, snaps, n * sizeof(*snaps));
	rc = policy_retain(keep, snaps, n, kept, &err);
	if (rc != 0)
		fail_msg("policy_retain: %d %s", rc, err.message);
	if (n)
		assert_memory_equal(before, snaps, n * sizeof(*snaps));
}

/* ---- the reference ------------------------------------------------------ */

#define LABEL_MAX 32

struct labels {
	char of[POLICY_BUCKET_KINDS][LABEL_MAX];
};

/* The name of each of a snapshot's buckets, made with strftime: a way of
 * naming buckets that shares nothing with policy_bucket_key. */
static void label(int64_t t, struct labels *out)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) ||
	    !strftime(out->of[POLICY_HOURLY], LABEL_MAX, "%Y-%m-%d-%H", &tm) ||
	    !strftime(out->of[POLICY_DAILY], LABEL_MAX, "%Y-%m-%d", &tm) ||
	    !strftime(out->of[POLICY_WEEKLY], LABEL_MAX, "%G-W%V", &tm) ||
	    !strftime(out->of[POLICY_MONTHLY], LABEL_MAX, "%Y-%m", &tm) ||
	    !strftime(out->of[POLICY_YEARLY], LABEL_MAX, "%Y", &tm))
		fail_msg("no labels for %" PRId64, t);
}

/* a is newer than b: taken later, or at the same second with a higher id. */
static bool newer(const struct policy_snapshot *a,
		  const struct policy_snapshot *b)
{
	return a->created_at > b->created_at ||
	       (a->created_at == b->created_at && a->id > b->id);
}

/* qsort takes no context; the reference runs on one thread. */
static const struct policy_snapshot *ref_snaps;
static const struct labels *ref_labels;
static int ref_kind;

static int ref_newest_first(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	return newer(&ref_snaps[j], &ref_snaps[i]) -
	       newer(&ref_snaps[i], &ref_snaps[j]);
}

static int ref_by_label(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	return strcmp(ref_labels[i].of[ref_kind], ref_labels[j].of[ref_kind]);
}

/*
 * The rule: latest N keeps the N newest; for each kind with count N, the
 * snapshots are grouped by their label of that kind, the groups ordered
 * by their newest snapshot, and the first N groups keep their newest.
 * Kept is the union; a keep not given keeps all.
 */
static void reference_retain(const struct policy_keep *keep,
			     const struct policy_snapshot *snaps,
			     const struct labels *labels, size_t n,
			     bool *kept)
{
	size_t *order = scratch_for(&ref_order, n, sizeof(*order));
	size_t *newest = scratch_for(&ref_newest, n, sizeof(*newest));

	for (size_t i = 0; i < n; i++)
		kept[i] = !keep->given;
	if (!keep->given)
		return;
	ref_snaps = snaps;
	ref_labels = labels;

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort(order, n, sizeof(*order), ref_newest_first);
	for (size_t i = 0; i < n && (int64_t)i < keep->latest; i++)
		kept[order[i]] = true;

	for (ref_kind = 0; ref_kind < POLICY_BUCKET_KINDS; ref_kind++) {
		size_t groups = 0;

		if (keep->buckets[ref_kind] <= 0)
			continue;
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		qsort(order, n, sizeof(*order), ref_by_label);
		for (size_t i = 0; i < n; i++) {
			size_t s = order[i];

			if (i == 0 || ref_by_label(&order[i - 1], &s) != 0)
				newest[groups++] = s;
			else if (newer(&snaps[s], &snaps[newest[groups - 1]]))
				newest[groups - 1] = s;
		}
		qsort(newest, groups, sizeof(*newest), ref_newest_first);
		for (size_t g = 0; g < groups &&
				   (int64_t)g < keep->buckets[ref_kind]; g++)
			kept[newest[g]] = true;
	}
}

/* Prints the snapshots on which policy_retain and the reference differ
 * (all of a small set, for context), and fails. */
static void differ(const char *zone, const struct policy_keep *keep,
		   const char *when, const struct policy_snapshot *snaps,
		   const struct labels *labels, size_t n, const bool *kept,
		   const bool *want)
{
	char keep_buf[200];

	keep_text(keep, keep_buf, sizeof(keep_buf));
	print_error("%s, in %s, keep %s, over %zu snapshots:\n", when, zone,
		    keep_buf, n);
	for (size_t i = 0; i < n; i++) {
		if (n > 60 && kept[i] == want[i])
			continue;
		print_error("  [%zu] id %" PRId64 " %s (%s, %s): policy_retain "
			    "%s, the reference %s%s\n", i, snaps[i].id,
			    text_of(snaps[i].created_at).s,
			    labels[i].of[POLICY_HOURLY],
			    labels[i].of[POLICY_WEEKLY],
			    kept[i] ? "keeps" : "drops",
			    want[i] ? "keeps" : "drops",
			    kept[i] != want[i] ? "   <--" : "");
	}
	fail();
}

static void check_against_reference(const char *zone,
				    const struct policy_keep *keep,
				    const char *when,
				    const struct policy_snapshot *snaps,
				    const struct labels *labels, size_t n,
				    bool *kept, bool *want)
{
	retain(keep, snaps, n, kept);
	reference_retain(keep, snaps, labels, n, want);
	if (n && memcmp(kept, want, n * sizeof(*kept)) != 0)
		differ(zone, keep, when, snaps, labels, n, kept, want);
}

/* ---- hand-worked expectations ------------------------------------------- */

static int by_time_then_id(const void *a, const void *b)
{
	const struct policy_snapshot *x = a, *y = b;

	return newer(x, y) - newer(y, x);
}

/*
 * The snapshots kept (all of them when kept is NULL) are exactly those at
 * the times listed, oldest first, as policy_time_format writes them.
 */
static void expect_kept_times(const struct policy_snapshot *snaps,
			      const bool *kept, size_t n,
			      const char *const *want, size_t want_n)
{
	struct policy_snapshot *got = xcalloc(n, sizeof(*got));
	size_t got_n = 0;
	bool same;

	for (size_t i = 0; i < n; i++)
		if (!kept || kept[i])
			got[got_n++] = snaps[i];
	qsort(got, got_n, sizeof(*got), by_time_then_id);
	same = got_n == want_n;
	for (size_t i = 0; same && i < got_n; i++)
		same = strcmp(text_of(got[i].created_at).s, want[i]) == 0;
	if (!same) {
		print_error("kept %zu (left), expected %zu (right):\n", got_n,
			    want_n);
		for (size_t i = 0; i < got_n || i < want_n; i++) {
			struct time_text t = { "" };

			if (i < got_n)
				t = text_of(got[i].created_at);
			print_error("  %-26s %s\n", t.s,
				    i < want_n ? want[i] : "");
		}
		fail();
	}
	free(got);
}

#define EXPECT_KEPT(snaps, kept, n, ...)                                  \
	expect_kept_times((snaps), (kept), (n),                           \
			  (const char *const[]){ __VA_ARGS__ },           \
			  COUNT(((const char *const[]){ __VA_ARGS__ })))

static int ascending(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The ids of the snapshots kept are exactly those listed, ascending. */
static void expect_kept_ids(const struct policy_snapshot *snaps,
			    const bool *kept, size_t n, const int64_t *want,
			    size_t want_n)
{
	int64_t *got = xcalloc(n, sizeof(*got));
	size_t got_n = 0;

	for (size_t i = 0; i < n; i++)
		if (kept[i])
			got[got_n++] = snaps[i].id;
	qsort(got, got_n, sizeof(*got), ascending);
	for (size_t i = 0; i < got_n || i < want_n; i++)
		if (i >= got_n || i >= want_n || got[i] != want[i])
			fail_msg("kept %zu snapshots, expected %zu; the %zuth "
				 "kept is id %" PRId64 ", expected %" PRId64,
				 got_n, want_n, i + 1,
				 i < got_n ? got[i] : -1,
				 i < want_n ? want[i] : -1);
	free(got);
}

#define EXPECT_KEPT_IDS(snaps, kept, n, ...)                              \
	expect_kept_ids((snaps), (kept), (n),                             \
			(const int64_t[]){ __VA_ARGS__ },                 \
			COUNT(((const int64_t[]){ __VA_ARGS__ })))

/* Snapshots an hour apart from first, ids 1, 2, ... */
static struct policy_snapshot *hourly_from(const char *first, size_t n)
{
	struct policy_snapshot *snaps = xcalloc(n, sizeof(*snaps));

	for (size_t i = 0; i < n; i++) {
		snaps[i].id = (int64_t)i + 1;
		snaps[i].created_at = at(first) + (int64_t)i * HOUR;
	}
	return snaps;
}

#define SNAP(id_, when) { .id = (id_), .created_at = at(when) }

static void test_bucket_names_are_the_keys_of_the_file(void **state)
{
	(void)state;
	assert_string_equal(policy_bucket_name(POLICY_HOURLY), "hourly");
	assert_string_equal(policy_bucket_name(POLICY_DAILY), "daily");
	assert_string_equal(policy_bucket_name(POLICY_WEEKLY), "weekly");
	assert_string_equal(policy_bucket_name(POLICY_MONTHLY), "monthly");
	assert_string_equal(policy_bucket_name(POLICY_YEARLY), "yearly");
}

static void test_hours_days_months_years_of_the_clock(void **state)
{
	(void)state;
	use_zone("UTC");
	assert_true(same_bucket(POLICY_HOURLY, "2026-06-15T10:00:00Z",
				"2026-06-15T10:59:59Z"));
	assert_false(same_bucket(POLICY_HOURLY, "2026-06-15T10:59:59Z",
				 "2026-06-15T11:00:00Z"));
	assert_false(same_bucket(POLICY_HOURLY, "2026-06-15T10:00:00Z",
				 "2026-06-16T10:00:00Z"));
	assert_false(same_bucket(POLICY_HOURLY, "2026-06-15T10:00:00Z",
				 "2026-07-15T10:00:00Z"));

	assert_true(same_bucket(POLICY_DAILY, "2026-06-15T00:00:00Z",
				"2026-06-15T23:59:59Z"));
	assert_false(same_bucket(POLICY_DAILY, "2026-06-15T23:59:59Z",
				 "2026-06-16T00:00:00Z"));
	assert_false(same_bucket(POLICY_DAILY, "2026-06-15T12:00:00Z",
				 "2027-06-15T12:00:00Z"));

	assert_true(same_bucket(POLICY_MONTHLY, "2026-02-01T00:00:00Z",
				"2026-02-28T23:59:59Z"));
	assert_false(same_bucket(POLICY_MONTHLY, "2026-02-28T23:59:59Z",
				 "2026-03-01T00:00:00Z"));
	assert_false(same_bucket(POLICY_MONTHLY, "2026-02-10T00:00:00Z",
				 "2027-02-10T00:00:00Z"));

	assert_true(same_bucket(POLICY_YEARLY, "2026-01-01T00:00:00Z",
				"2026-12-31T23:59:59Z"));
	assert_false(same_bucket(POLICY_YEARLY, "2026-12-31T23:59:59Z",
				 "2027-01-01T00:00:00Z"));
}

static void test_buckets_follow_the_zone_in_use(void **state)
{
	(void)state;
	/* 23:30Z on 15 June is 01:30 on 16 June in Berlin (CEST). */
	use_zone("Europe/Berlin");
	assert_true(same_bucket(POLICY_DAILY, "2026-06-15T23:30:00Z",
				"2026-06-16T12:00:00+02:00"));
	assert_false(same_bucket(POLICY_DAILY, "2026-06-15T23:30:00Z",
				 "2026-06-15T12:00:00+02:00"));
	/* And 23:30Z on 31 December is in the new year there. */
	assert_true(same_bucket(POLICY_YEARLY, "2026-12-31T23:30:00Z",
				"2027-06-01T00:00:00Z"));
	use_zone("UTC");
	assert_true(same_bucket(POLICY_DAILY, "2026-06-15T23:30:00Z",
				"2026-06-15T12:00:00Z"));
	assert_false(same_bucket(POLICY_YEARLY, "2026-12-31T23:30:00Z",
				 "2027-06-01T00:00:00Z"));
}

static void test_weeks_are_iso_weeks_monday_first(void **state)
{
	(void)state;
	use_zone("UTC");
	/* Sunday 14 June 2026 ends the week that Monday 8 June began. */
	assert_true(same_bucket(POLICY_WEEKLY, "2026-06-08T00:00:00Z",
				"2026-06-14T23:59:59Z"));
	assert_false(same_bucket(POLICY_WEEKLY, "2026-06-14T23:59:59Z",
				 "2026-06-15T00:00:00Z"));

	/* 2026-W53: Monday 28 December to Sunday 3 January. Thursday 31
	 * December and Friday 1 January share it: the year does not split
	 * it. */
	assert_true(same_bucket(POLICY_WEEKLY, "2026-12-31T12:00:00Z",
				"2027-01-01T12:00:00Z"));
	assert_true(same_bucket(POLICY_WEEKLY, "2026-12-28T00:00:00Z",
				"2027-01-03T23:59:59Z"));
	assert_false(same_bucket(POLICY_WEEKLY, "2026-12-27T23:59:59Z",
				 "2026-12-28T00:00:00Z"));
	assert_false(same_bucket(POLICY_WEEKLY, "2027-01-03T23:59:59Z",
				 "2027-01-04T00:00:00Z"));
	/* Week 53 of 2026 is not week 53 of anything else. */
	assert_false(same_bucket(POLICY_WEEKLY, "2027-01-01T12:00:00Z",
				 "2020-12-31T12:00:00Z"));

	/* The other way: Monday 30 December 2024 begins 2025-W01. */
	assert_true(same_bucket(POLICY_WEEKLY, "2024-12-30T00:00:00Z",
				"2025-01-01T12:00:00Z"));
	assert_false(same_bucket(POLICY_WEEKLY, "2024-12-29T23:59:59Z",
				 "2024-12-30T00:00:00Z"));
}

/* policy_civil_of's ISO week-numbering year and week (strftime's %G and
 * %V), where they differ from the calendar's year. */
static void expect_iso_week(const char *when, int iso_year, int iso_week)
{
	struct policy_civil c;

	policy_civil_of(at(when), &c);
	if (c.iso_year != iso_year || c.iso_week != iso_week)
		fail_msg("%s: ISO week %d-W%02d, expected %d-W%02d", when,
			 c.iso_year, c.iso_week, iso_year, iso_week);
}

static void test_iso_week_numbers_around_the_year_end(void **state)
{
	(void)state;
	use_zone("UTC");
	expect_iso_week("2026-12-31T12:00:00Z", 2026, 53); /* a Thursday */
	expect_iso_week("2027-01-03T23:59:59Z", 2026, 53); /* its Sunday */
	expect_iso_week("2027-01-04T00:00:00Z", 2027, 1);  /* the Monday */
	expect_iso_week("2024-12-30T00:00:00Z", 2025, 1);
	expect_iso_week("2024-12-29T23:59:59Z", 2024, 52);
	expect_iso_week("2026-06-15T00:00:00Z", 2026, 25);
	/* The zone's wall clock decides: 23:30Z on Sunday 3 January is
	 * already Monday in Berlin. */
	use_zone("Europe/Berlin");
	expect_iso_week("2027-01-03T23:30:00Z", 2027, 1);
	use_zone("UTC");
}

static void test_weekly_across_the_year_end(void **state)
{
	struct policy_snapshot snaps[] = {
		SNAP(1, "2026-12-20T12:00:00Z"), /* Sunday, 2026-W51 */
		SNAP(2, "2026-12-24T12:00:00Z"), /* Thursday, 2026-W52 */
		SNAP(3, "2026-12-31T12:00:00Z"), /* Thursday, 2026-W53 */
		SNAP(4, "2027-01-01T12:00:00Z"), /* Friday, 2026-W53 */
	};
	struct policy_keep weekly = { .given = true,
				      .buckets[POLICY_WEEKLY] = 2 };
	struct policy_keep yearly = { .given = true,
				      .buckets[POLICY_YEARLY] = 2 };
	bool kept[COUNT(snaps)];

	(void)state;
	use_zone("UTC");
	retain(&weekly, snaps, COUNT(snaps), kept);
	EXPECT_KEPT(snaps, kept, COUNT(snaps),
		    "2026-12-24T12:00:00Z", "2027-01-01T12:00:00Z");
	/* Years do split there. */
	retain(&yearly, snaps, COUNT(snaps), kept);
	EXPECT_KEPT(snaps, kept, COUNT(snaps),
		    "2026-12-31T12:00:00Z", "2027-01-01T12:00:00Z");
}

static void test_a_fall_back_hour_is_one_hourly_bucket(void **state)
{
	struct policy_snapshot night[] = {
		SNAP(1, "2026-10-25T01:30:00+02:00"),
		SNAP(2, "2026-10-25T02:30:00+02:00"),
		SNAP(3, "2026-10-25T02:30:00+01:00"), /* an hour later */
		SNAP(4, "2026-10-25T03:30:00+01:00"),
	};
	struct policy_keep hourly2 = { .given = true,
				       .buckets[POLICY_HOURLY] = 2 };
	struct policy_keep hourly3 = { .given = true,
				       .buckets[POLICY_HOURLY] = 3 };
	struct policy_keep hourly100 = { .given = true,
					 .buckets[POLICY_HOURLY] = 100 };
	struct policy_keep daily1 = { .given = true,
				      .buckets[POLICY_DAILY] = 1 };
	struct policy_snapshot *day;
	bool kept[25];

	(void)state;
	use_zone("Europe/Berlin");
	assert_true(same_bucket(POLICY_HOURLY, "2026-10-25T02:30:00+02:00",
				"2026-10-25T02:30:00+01:00"));
	assert_true(same_bucket(POLICY_HOURLY, "2026-10-25T02:00:00+02:00",
				"2026-10-25T02:59:59+01:00"));
	assert_false(same_bucket(POLICY_HOURLY, "2026-10-25T01:59:59+02:00",
				 "2026-10-25T02:00:00+02:00"));
	assert_false(same_bucket(POLICY_HOURLY, "2026-10-25T02:59:59+01:00",
				 "2026-10-25T03:00:00+01:00"));

	retain(&hourly2, night, COUNT(night), kept);
	EXPECT_KEPT(night, kept, COUNT(night),
		    "2026-10-25T02:30:00+01:00", "2026-10-25T03:30:00+01:00");
	retain(&hourly3, night, COUNT(night), kept);
	EXPECT_KEPT(night, kept, COUNT(night), "2026-10-25T01:30:00+02:00",
		    "2026-10-25T02:30:00+01:00", "2026-10-25T03:30:00+01:00");

	/* The day has 25 hours, in 24 hourly buckets and one daily one. */
	assert_int_equal(at("2026-10-26T00:00:00+01:00") -
			 at("2026-10-25T00:00:00+02:00"), 25 * HOUR);
	assert_true(same_bucket(POLICY_DAILY, "2026-10-25T00:00:00+02:00",
				"2026-10-25T23:59:59+01:00"));
	day = hourly_from("2026-10-25T00:00:00+02:00", 25);
	retain(&hourly100, day, 25, kept);
	assert_false(kept[2]);
	assert_string_equal(text_of(day[2].created_at).s,
			    "2026-10-25T02:00:00+02:00");
	for (size_t i = 0; i < 25; i++)
		assert_true(kept[i] || i == 2);
	retain(&daily1, day, 25, kept);
	EXPECT_KEPT(day, kept, 25, "2026-10-25T23:00:00+01:00");
	free(day);
}

static void test_a_spring_forward_day_has_23_hours(void **state)
{
	struct policy_keep hourly100 = { .given = true,
					 .buckets[POLICY_HOURLY] = 100 };
	struct policy_keep daily2 = { .given = true,
				      .buckets[POLICY_DAILY] = 2 };
	struct policy_snapshot *day;
	bool kept[24];

	(void)state;
	use_zone("Europe/Berlin");
	/* One second apart, two hours apart on the wall. */
	assert_int_equal(at("2026-03-29T03:00:00+02:00") -
			 at("2026-03-29T01:59:59+01:00"), 1);
	assert_false(same_bucket(POLICY_HOURLY, "2026-03-29T01:59:59+01:00",
				 "2026-03-29T03:00:00+02:00"));
	assert_true(same_bucket(POLICY_DAILY, "2026-03-29T00:00:00+01:00",
				"2026-03-29T23:59:59+02:00"));

	/* 23 hourly snapshots fill the day; the 24th is the next day's. */
	day = hourly_from("2026-03-29T00:00:00+01:00", 24);
	retain(&hourly100, day, 24, kept);
	for (size_t i = 0; i < 24; i++)
		assert_true(kept[i]);
	retain(&daily2, day, 24, kept);
	EXPECT_KEPT(day, kept, 24,
		    "2026-03-29T23:00:00+02:00", "2026-03-30T00:00:00+02:00");
	free(day);
}

/*
 * In Antarctica/Troll the night of 2026-10-25 reads 00, 01, 02, then 01,
 * 02, 03: hours 01 and 02 come back after another hour. Walking newest
 * first, 02:00+02:00 and 01:00+02:00 are in buckets already met, so the
 * fourth bucket is 00. (Comparing each snapshot's bucket with only the
 * previous one's, as restic's forget does, would count 02:00+02:00.)
 */
static void test_hours_that_come_back_later_are_not_new(void **state)
{
	struct policy_keep hourly4 = { .given = true,
				       .buckets[POLICY_HOURLY] = 4 };
	struct policy_snapshot *night;
	bool kept[6];

	(void)state;
	use_zone("Antarctica/Troll");
	night = hourly_from("2026-10-25T00:00:00+02:00", 6);
	assert_string_equal(text_of(night[3].created_at).s,
			    "2026-10-25T01:00:00Z");
	assert_true(same_bucket(POLICY_HOURLY, "2026-10-25T01:00:00+02:00",
				"2026-10-25T01:00:00Z"));
	retain(&hourly4, night, 6, kept);
	EXPECT_KEPT(night, kept, 6, "2026-10-25T00:00:00+02:00",
		    "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z",
		    "2026-10-25T03:00:00Z");
	free(night);
}

static void test_keep_not_given_keeps_everything(void **state)
{
	struct policy_snapshot snaps[] = {
		SNAP(5, "2026-05-01T10:00:00Z"),
		SNAP(2, "2026-05-01T10:00:00Z"),
		SNAP(9, "2020-01-01T00:00:00Z"),
		SNAP(1, "2026-05-01T10:30:00Z"),
	};
	struct policy_keep none = { .given = false };
	struct policy_keep nothing = { .given = true };
	bool kept[COUNT(snaps)];

	(void)state;
	use_zone("UTC");
	retain(&none, snaps, COUNT(snaps), kept);
	EXPECT_KEPT_IDS(snaps, kept, COUNT(snaps), 1, 2, 5, 9);
	/* keep: given with every count 0 is a different thing. */
	retain(&nothing, snaps, COUNT(snaps), kept);
	for (size_t i = 0; i < COUNT(snaps); i++)
		assert_false(kept[i]);
}

static void test_a_count_of_0_keeps_nothing_of_its_kind(void **state)
{
	struct policy_snapshot snaps[] = {
		SNAP(1, "2026-03-01T10:00:00Z"),
		SNAP(2, "2026-04-01T10:00:00Z"),
		SNAP(3, "2026-04-02T10:00:00Z"),
	};
	struct policy_keep monthly = {
		.given = true, .latest = 0,
		.buckets = { [POLICY_MONTHLY] = 2, [POLICY_DAILY] = 0 },
	};
	struct policy_keep daily = { .given = true,
				     .buckets[POLICY_DAILY] = 3 };
	bool kept[COUNT(snaps)];

	(void)state;
	use_zone("UTC");
	/* daily: 0 is daily not written: 2, the newest of its day, goes. */
	retain(&monthly, snaps, COUNT(snaps), kept);
	EXPECT_KEPT_IDS(snaps, kept, COUNT(snaps), 1, 3);
	retain(&daily, snaps, COUNT(snaps), kept);
	EXPECT_KEPT_IDS(snaps, kept, COUNT(snaps), 1, 2, 3);
}

static void test_ties_in_time_go_to_the_higher_id(void **state)
{
	struct policy_snapshot snaps[] = {
		SNAP(7, "2026-05-02T08:00:00Z"),
		SNAP(100, "2026-05-02T07:59:59Z"),
		SNAP(9, "2026-05-02T08:00:00Z"),
		SNAP(3, "2026-05-02T08:00:00Z"),
		SNAP(4, "2026-05-01T20:00:00Z"),
		SNAP(6, "2026-05-01T20:00:00Z"),
	};
	struct policy_keep latest1 = { .given = true, .latest = 1 };
	struct policy_keep latest2 = { .given = true, .latest = 2 };
	struct policy_keep hourly1 = { .given = true,
				       .buckets[POLICY_HOURLY] = 1 };
	struct policy_keep daily2 = { .given = true,
				      .buckets[POLICY_DAILY] = 2 };
	bool kept[COUNT(snaps)];

	(void)state;
	use_zone("UTC");
	/* An id breaks a tie in time, and nothing else: 100 is older. */
	retain(&latest1, snaps, COUNT(snaps), kept);
	EXPECT_KEPT_IDS(snaps, kept, COUNT(snaps), 9);
	retain(&latest2, snaps, COUNT(snaps), kept);
	EXPECT_KEPT_IDS(snaps, kept, COUNT(snaps), 7, 9);
	retain(&hourly1, snaps, COUNT(snaps), kept);
	EXPECT_KEPT_IDS(snaps, kept, COUNT(snaps), 9);
	retain(&daily2, snaps, COUNT(snaps), kept);
	EXPECT_KEPT_IDS(snaps, kept, COUNT(snaps), 6, 9);
}

static void test_counts_past_the_buckets_keep_each_once(void **state)
{
	struct policy_snapshot snaps[] = {
		SNAP(1, "2026-04-30T10:00:00Z"),
		SNAP(2, "2026-03-05T10:00:00Z"),
		SNAP(3, "2026-04-01T10:00:00Z"),
		SNAP(4, "2026-03-31T10:00:00Z"),
		SNAP(5, "2026-04-15T10:00:00Z"),
	};
	struct policy_keep monthly = {
		.given = true, .buckets[POLICY_MONTHLY] = POLICY_COUNT_MAX,
	};
	struct policy_keep latest = { .given = true, .latest = 100 };
	bool kept[COUNT(snaps)];

	(void)state;
	use_zone("UTC");
	retain(&monthly, snaps, COUNT(snaps), kept);
	EXPECT_KEPT(snaps, kept, COUNT(snaps),
		    "2026-03-31T10:00:00Z", "2026-04-30T10:00:00Z");
	retain(&latest, snaps, COUNT(snaps), kept);
	EXPECT_KEPT_IDS(snaps, kept, COUNT(snaps), 1, 2, 3, 4, 5);
}

static void test_no_snapshots_is_nothing_to_do(void **state)
{
	struct policy_keep some = {
		.given = true, .latest = 2, .buckets[POLICY_DAILY] = 7,
	};
	struct policy_keep none = { .given = false };
	struct rc_error err = {0};

	(void)state;
	use_zone("UTC");
	assert_int_equal(policy_retain(&some, NULL, 0, NULL, &err), 0);
	assert_int_equal(policy_retain(&none, NULL, 0, NULL, &err), 0);
}

/* ---- two years of hourly snapshots -------------------------------------- */

struct live {
	struct policy_snapshot *snaps;
	struct labels *labels;
	size_t n;
};

static void live_free(struct live *live)
{
	free(live->snaps);
	free(live->labels);
}

/*
 * Takes a snapshot every hour of 2026 and 2027 (from 2026-01-01T00:00Z,
 * ids 1, 2, ...), in zone, and after each drops what policy_retain does
 * not keep, as a policy run marks it for collection. At every step the
 * kept set must be the reference's. Leaves in *live what is left.
 */
static void simulate(const char *zone, const struct policy_keep *keep,
		     struct live *live)
{
	size_t cap = 64;
	bool *kept = xcalloc(cap, sizeof(*kept));
	bool *want = xcalloc(cap, sizeof(*want));
	int64_t start = at("2026-01-01T00:00:00Z");
	char when[64];

	use_zone(zone);
	live->snaps = xcalloc(cap, sizeof(*live->snaps));
	live->labels = xcalloc(cap, sizeof(*live->labels));
	live->n = 0;
	for (size_t h = 0; h < TWO_YEARS_OF_HOURS; h++) {
		size_t n = live->n, left = 0;

		if (n == cap) {
			cap *= 2;
			live->snaps = realloc(live->snaps,
					      cap * sizeof(*live->snaps));
			live->labels = realloc(live->labels,
					       cap * sizeof(*live->labels));
			free(kept);
			free(want);
			kept = xcalloc(cap, sizeof(*kept));
			want = xcalloc(cap, sizeof(*want));
			assert_non_null(live->snaps);
			assert_non_null(live->labels);
		}
		live->snaps[n].id = (int64_t)h + 1;
		live->snaps[n].created_at = start + (int64_t)h * HOUR;
		label(live->snaps[n].created_at, &live->labels[n]);
		n++;

		snprintf(when, sizeof(when), "after the snapshot of %s",
			 text_of(live->snaps[n - 1].created_at).s);
		check_against_reference(zone, keep, when, live->snaps,
					live->labels, n, kept, want);
		for (size_t i = 0; i < n; i++) {
			if (!kept[i])
				continue;
			live->snaps[left] = live->snaps[i];
			live->labels[left] = live->labels[i];
			left++;
		}
		live->n = left;
	}
	free(want);
	free(kept);
}

static void test_two_years_of_latest_3(void **state)
{
	struct policy_keep keep = { .given = true, .latest = 3 };
	struct live live;

	(void)state;
	simulate("UTC", &keep, &live);
	EXPECT_KEPT(live.snaps, NULL, live.n, "2027-12-31T21:00:00Z",
		    "2027-12-31T22:00:00Z", "2027-12-31T23:00:00Z");
	live_free(&live);
}

/* The last n live snapshots are hourly ones, the first of them at first. */
static void expect_hourly_tail(const struct live *live, size_t n,
			       const char *first)
{
	assert_true(live->n >= n);
	assert_string_equal(text_of(live->snaps[live->n - n].created_at).s,
			    first);
	for (size_t i = live->n - n + 1; i < live->n; i++)
		assert_int_equal(live->snaps[i].created_at -
				 live->snaps[i - 1].created_at, HOUR);
}

static void test_two_years_of_hourly_48(void **state)
{
	struct policy_keep keep = { .given = true,
				    .buckets[POLICY_HOURLY] = 48 };
	struct live live;

	(void)state;
	simulate("UTC", &keep, &live);
	assert_int_equal(live.n, 48);
	expect_hourly_tail(&live, 48, "2027-12-30T00:00:00Z");
	live_free(&live);
}

/* Twice the hours 01 and 02 come back in Troll, checked along the way. */
static void test_two_years_of_hourly_6_in_troll(void **state)
{
	struct policy_keep keep = { .given = true,
				    .buckets[POLICY_HOURLY] = 6 };
	struct live live;

	(void)state;
	simulate("Antarctica/Troll", &keep, &live);
	assert_int_equal(live.n, 6);
	expect_hourly_tail(&live, 6, "2027-12-31T18:00:00Z");
	live_free(&live);
}

static void test_two_years_of_daily_7(void **state)
{
	struct policy_keep keep = { .given = true,
				    .buckets[POLICY_DAILY] = 7 };
	struct live live;

	(void)state;
	simulate("UTC", &keep, &live);
	/* The newest, and the last of each of the 6 days before. */
	EXPECT_KEPT(live.snaps, NULL, live.n,
		    "2027-12-25T23:00:00Z", "2027-12-26T23:00:00Z",
		    "2027-12-27T23:00:00Z", "2027-12-28T23:00:00Z",
		    "2027-12-29T23:00:00Z", "2027-12-30T23:00:00Z",
		    "2027-12-31T23:00:00Z");
	live_free(&live);
}

static void test_two_years_of_weekly_2(void **state)
{
	struct policy_keep keep = { .given = true,
				    .buckets[POLICY_WEEKLY] = 2 };
	struct live live;

	(void)state;
	simulate("UTC", &keep, &live);
	/* Friday 31 December 2027 is in 2027-W52, which began on Monday the
	 * 27th; 2027-W51 ended on Sunday the 26th. */
	EXPECT_KEPT(live.snaps, NULL, live.n,
		    "2027-12-26T23:00:00Z", "2027-12-31T23:00:00Z");
	live_free(&live);
}

static void test_two_years_of_a_grandfather_scheme(void **state)
{
	struct policy_keep keep = {
		.given = true,
		.buckets = {
			[POLICY_HOURLY] = 24, [POLICY_DAILY] = 7,
			[POLICY_WEEKLY] = 4, [POLICY_MONTHLY] = 12,
			[POLICY_YEARLY] = 2,
		},
	};
	struct live live;

	(void)state;
	simulate("UTC", &keep, &live);
	assert_int_equal(live.n, 44);
	expect_kept_times(live.snaps, NULL, 20, (const char *const[]){
		/* yearly: 2026 (2027 is the newest) */
		"2026-12-31T23:00:00Z",
		/* monthly: January to November 2027 */
		"2027-01-31T23:00:00Z", "2027-02-28T23:00:00Z",
		"2027-03-31T23:00:00Z", "2027-04-30T23:00:00Z",
		"2027-05-31T23:00:00Z", "2027-06-30T23:00:00Z",
		"2027-07-31T23:00:00Z", "2027-08-31T23:00:00Z",
		"2027-09-30T23:00:00Z", "2027-10-31T23:00:00Z",
		"2027-11-30T23:00:00Z",
		/* weekly: W49 and W50 (daily has W51, W52) */
		"2027-12-12T23:00:00Z", "2027-12-19T23:00:00Z",
		/* daily: 25 to 30 December */
		"2027-12-25T23:00:00Z", "2027-12-26T23:00:00Z",
		"2027-12-27T23:00:00Z", "2027-12-28T23:00:00Z",
		"2027-12-29T23:00:00Z", "2027-12-30T23:00:00Z",
	}, 20);
	/* hourly: the 24 hours of 31 December */
	expect_hourly_tail(&live, 24, "2027-12-31T00:00:00Z");
	live_free(&live);
}

/*
 * In Berlin the last snapshot, 2027-12-31T23:00Z, is at midnight of
 * Saturday 1 January 2028 (still in 2027-W52): a new day, month and year.
 * So yearly 2 keeps 2028 and 2027, and 2026 goes.
 */
static void test_two_years_of_everything_in_berlin(void **state)
{
	struct policy_keep keep = {
		.given = true, .latest = 3,
		.buckets = {
			[POLICY_HOURLY] = 48, [POLICY_DAILY] = 14,
			[POLICY_WEEKLY] = 8, [POLICY_MONTHLY] = 12,
			[POLICY_YEARLY] = 2,
		},
	};
	struct live live;

	(void)state;
	simulate("Europe/Berlin", &keep, &live);
	assert_int_equal(live.n, 74);
	expect_kept_times(live.snaps, NULL, 26, (const char *const[]){
		/* monthly: February to November 2027 (December's newest is
		 * hourly's, January 2028's is the newest) */
		"2027-02-28T23:00:00+01:00", "2027-03-31T23:00:00+02:00",
		"2027-04-30T23:00:00+02:00", "2027-05-31T23:00:00+02:00",
		"2027-06-30T23:00:00+02:00", "2027-07-31T23:00:00+02:00",
		"2027-08-31T23:00:00+02:00", "2027-09-30T23:00:00+02:00",
		"2027-10-31T23:00:00+01:00",
		/* weekly: W45 to W49 (W50 to W52 are daily's or newer) */
		"2027-11-14T23:00:00+01:00", "2027-11-21T23:00:00+01:00",
		"2027-11-28T23:00:00+01:00",
		"2027-11-30T23:00:00+01:00", /* monthly: November */
		"2027-12-05T23:00:00+01:00", "2027-12-12T23:00:00+01:00",
		/* daily: 19 to 29 December (30, 31 and 1 January are in
		 * the 48 hours) */
		"2027-12-19T23:00:00+01:00", "2027-12-20T23:00:00+01:00",
		"2027-12-21T23:00:00+01:00", "2027-12-22T23:00:00+01:00",
		"2027-12-23T23:00:00+01:00", "2027-12-24T23:00:00+01:00",
		"2027-12-25T23:00:00+01:00", "2027-12-26T23:00:00+01:00",
		"2027-12-27T23:00:00+01:00", "2027-12-28T23:00:00+01:00",
		"2027-12-29T23:00:00+01:00",
	}, 26);
	/* hourly 48 (latest 3 among them) */
	expect_hourly_tail(&live, 48, "2027-12-30T01:00:00+01:00");
	assert_string_equal(text_of(live.snaps[live.n - 1].created_at).s,
			    "2028-01-01T00:00:00+01:00");
	live_free(&live);
}

/*
 * Counts past what two years hold: every ISO week, month and year keeps
 * its newest. 105 weeks (2026 has 53), whose newest is Sunday's 23:00 but
 * for 2027-W52's, the last snapshot; 24 months, of which 2026-05-31,
 * 2027-01-31, 2027-02-28 and 2027-10-31 are Sundays and 2027-12-31 is the
 * last snapshot, so 19 more; 2026's and 2027's newest are month ends.
 * latest 2 adds 2027-12-31T22:00Z: 125.
 */
static void test_two_years_of_large_counts(void **state)
{
	struct policy_keep keep = {
		.given = true, .latest = 2,
		.buckets = {
			[POLICY_WEEKLY] = 1000, [POLICY_MONTHLY] = 1000,
			[POLICY_YEARLY] = POLICY_COUNT_MAX,
		},
	};
	struct live live;

	(void)state;
	simulate("UTC", &keep, &live);
	assert_int_equal(live.n, 125);
	expect_kept_times(live.snaps, NULL, 6, (const char *const[]){
		"2026-01-04T23:00:00Z", "2026-01-11T23:00:00Z",
		"2026-01-18T23:00:00Z", "2026-01-25T23:00:00Z",
		"2026-01-31T23:00:00Z", "2026-02-01T23:00:00Z",
	}, 6);
	expect_kept_times(live.snaps + live.n - 3, NULL, 3,
			  (const char *const[]){
		"2027-12-26T23:00:00Z", "2027-12-31T22:00:00Z",
		"2027-12-31T23:00:00Z",
	}, 3);
	live_free(&live);
}

/* ---- the same two years at once ----------------------------------------- */

static void test_two_years_at_once(void **state)
{
	static const struct {
		const char *zone;
		/* every bucket of each kind, counted by hand (see the top) */
		int buckets[POLICY_BUCKET_KINDS];
	} zones[] = {
		{ "UTC", { 17520, 730, 105, 24, 2 } },
		/* two fall-back hours merge; 2028-01-01 begins at the end */
		{ "Europe/Berlin", { 17518, 731, 105, 25, 3 } },
		/* four hours come back */
		{ "Antarctica/Troll", { 17516, 730, 105, 24, 2 } },
	};
	/* buckets: hourly, daily, weekly, monthly, yearly */
	static const struct policy_keep sets[] = {
		{ .given = true, .latest = 3 },
		{ .given = true, .buckets[POLICY_HOURLY] = 48 },
		{ .given = true, .buckets[POLICY_DAILY] = 7 },
		{ .given = true, .buckets = { 24, 7, 4, 12, 2 } },
		{ .given = true, .latest = 3, .buckets = { 48, 14, 8, 12, 2 } },
		{ .given = true, .latest = 20000,
		  .buckets = { 20000, 1000, 1000, 1000, 1000 } },
		{ .given = false },
	};
	size_t n = TWO_YEARS_OF_HOURS;
	struct policy_snapshot *snaps = hourly_from("2026-01-01T00:00:00Z", n);
	struct labels *labels = xcalloc(n, sizeof(*labels));
	bool *kept = xcalloc(n, sizeof(*kept));
	bool *want = xcalloc(n, sizeof(*want));

	(void)state;
	for (size_t z = 0; z < COUNT(zones); z++) {
		use_zone(zones[z].zone);
		for (size_t i = 0; i < n; i++)
			label(snaps[i].created_at, &labels[i]);
		for (size_t s = 0; s < COUNT(sets); s++)
			check_against_reference(zones[z].zone, &sets[s],
						"two years at once", snaps,
						labels, n, kept, want);
		for (int k = 0; k < POLICY_BUCKET_KINDS; k++) {
			struct policy_keep all = { .given = true };
			size_t count = 0;

			all.buckets[k] = POLICY_COUNT_MAX;
			check_against_reference(zones[z].zone, &all,
						"two years at once", snaps,
						labels, n, kept, want);
			for (size_t i = 0; i < n; i++)
				count += kept[i];
			if (count != (size_t)zones[z].buckets[k])
				fail_msg("%s, %s: %zu buckets, expected %d",
					 zones[z].zone, policy_bucket_name(k),
					 count, zones[z].buckets[k]);
		}
	}
	free(want);
	free(kept);
	free(labels);
	free(snaps);
}

/* ---- random sets -------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int64_t rng_below(int64_t n)
{
	return (int64_t)(rng() % (uint64_t)n);
}

static int random_count(void)
{
	switch (rng_below(8)) {
	case 0:
		return POLICY_COUNT_MAX;
	case 1: case 2: case 3:
		return (int)rng_below(7) + 1;
	default:
		return 0;
	}
}

#define RANDOM_MAX_N 48

/*
 * A random set of up to RANDOM_MAX_N snapshots over a span of hours to
 * years, as often around a change of offset or a year end as anywhere;
 * some at the very second of another, ids in no relation to times or to
 * places in the array; and a random keep set.
 */
static size_t random_case(struct policy_snapshot *snaps,
			  struct policy_keep *keep)
{
	static const int64_t spans[] = {
		3 * HOUR, 3 * 24 * HOUR, 60 * 24 * HOUR, 3 * 366 * 24 * HOUR,
	};
	static const char *const edges[] = {
		"2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z",
		"2027-10-31T01:00:00Z", "2026-12-31T23:00:00Z",
		"2027-01-04T00:00:00Z",
		"2026-04-04T15:00:00Z", /* Lord Howe falls back half an hour */
	};
	size_t n = (size_t)rng_below(RANDOM_MAX_N + 1);
	int64_t span = spans[rng_below(COUNT(spans))];
	int64_t base;

	if (rng_below(2))
		base = at("2026-01-01T00:00:00Z") + rng_below(730 * 24 * HOUR);
	else
		base = at(edges[rng_below(COUNT(edges))]) - span / 2;
	for (size_t i = 0; i < n; i++) {
		int64_t t = base + rng_below(span);

		if (i > 0 && rng_below(4) == 0)
			t = snaps[rng_below((int64_t)i)].created_at;
		else if (rng_below(3) == 0)
			t -= t % 1800; /* on the hour or the half hour */
		snaps[i].created_at = t;
		snaps[i].id = (int64_t)i + 1;
	}
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rng_below((int64_t)i);
		int64_t id = snaps[i - 1].id;

		snaps[i - 1].id = snaps[j].id;
		snaps[j].id = id;
	}
	*keep = (struct policy_keep){ .given = rng_below(16) > 0 };
	keep->latest = rng_below(2) ? 0 : random_count();
	for (int k = 0; k < POLICY_BUCKET_KINDS; k++)
		keep->buckets[k] = random_count();
	return n;
}

static void test_random_sets_match_the_reference(void **state)
{
	static const char *const zones[] = {
		"UTC", "Europe/Berlin", "Antarctica/Troll",
		"Australia/Lord_Howe",
	};
	struct policy_snapshot snaps[RANDOM_MAX_N];
	struct labels labels[RANDOM_MAX_N];
	bool kept[RANDOM_MAX_N], want[RANDOM_MAX_N];
	struct policy_keep keep;
	char when[64];

	(void)state;
	rng_state = 0x2545f4914f6cdd1dULL;
	for (size_t z = 0; z < COUNT(zones); z++) {
		use_zone(zones[z]);
		for (int c = 0; c < 1000; c++) {
			size_t n = random_case(snaps, &keep);

			for (size_t i = 0; i < n; i++)
				label(snaps[i].created_at, &labels[i]);
			snprintf(when, sizeof(when), "random case %d", c);
			check_against_reference(zones[z], &keep, when, snaps,
						labels, n, kept, want);
		}
	}
}

/* ---- why: policy_retain_explain ------------------------------------------ */

/*
 * Five snapshots over three days, keep latest 1, daily 2, monthly 1:
 *
 *   id  when              rank  daily (bucket: slot, held by)    kept by
 *   5   05-03 09:00       1     05-03: 1, 5 (opens)              latest, daily, monthly
 *   4   05-03 08:00       2     05-03: 1, held by 5              -
 *   3   05-02 23:00       3     05-02: 2, 3 (opens)              daily
 *   2   05-02 10:00       4     05-02: 2, held by 3              -
 *   1   05-01 10:00       5     05-01: 3, 1 (opens, past 2)      -
 */
static void test_why_names_the_rule_and_the_slot(void **state)
{
	struct policy_snapshot snaps[] = {
		SNAP(1, "2026-05-01T10:00:00Z"),
		SNAP(3, "2026-05-02T23:00:00Z"),
		SNAP(5, "2026-05-03T09:00:00Z"),
		SNAP(2, "2026-05-02T10:00:00Z"),
		SNAP(4, "2026-05-03T08:00:00Z"),
	};
	struct policy_keep keep = { .given = true, .latest = 1,
				    .buckets[POLICY_DAILY] = 2,
				    .buckets[POLICY_MONTHLY] = 1 };
	struct policy_retention why[COUNT(snaps)];
	bool kept[COUNT(snaps)];
	struct rc_error err = {0};
	char label[POLICY_BUCKET_LABEL_MAX];

	(void)state;
	use_zone("UTC");
	assert_int_equal(policy_retain_explain(&keep, snaps, COUNT(snaps), kept,
					       why, &err), 0);
	/* id 5 (index 2): every rule keeps it */
	assert_true(why[2].kept && why[2].by_latest && !why[2].all);
	assert_int_equal(why[2].rank, 1);
	assert_true(why[2].bucket[POLICY_DAILY].keeps);
	assert_int_equal(why[2].bucket[POLICY_DAILY].slot, 1);
	assert_true(why[2].bucket[POLICY_MONTHLY].keeps);
	assert_int_equal(why[2].bucket[POLICY_HOURLY].slot, 0);
	/* id 4 (index 4): its day is held by 5 */
	assert_false(why[4].kept);
	assert_int_equal(why[4].rank, 2);
	assert_false(why[4].by_latest);
	assert_false(why[4].bucket[POLICY_DAILY].keeps);
	assert_int_equal(why[4].bucket[POLICY_DAILY].held_by, 2);
	assert_int_equal(why[4].bucket[POLICY_DAILY].slot, 1);
	/* id 3 (index 1): daily's second slot */
	assert_true(why[1].kept && !why[1].by_latest);
	assert_true(why[1].bucket[POLICY_DAILY].keeps);
	assert_int_equal(why[1].bucket[POLICY_DAILY].slot, 2);
	assert_int_equal(why[1].bucket[POLICY_DAILY].held_by, 1);
	assert_false(why[1].bucket[POLICY_MONTHLY].keeps);
	assert_int_equal(why[1].bucket[POLICY_MONTHLY].held_by, 2);
	/* id 2 (index 3): held by 3 */
	assert_false(why[3].kept);
	assert_int_equal(why[3].bucket[POLICY_DAILY].held_by, 1);
	/* id 1 (index 0): opens its day, the third: past daily 2 */
	assert_false(why[0].kept);
	assert_int_equal(why[0].rank, 5);
	assert_int_equal(why[0].bucket[POLICY_DAILY].held_by, 0);
	assert_int_equal(why[0].bucket[POLICY_DAILY].slot, 3);
	assert_false(why[0].bucket[POLICY_DAILY].keeps);
	for (size_t i = 0; i < COUNT(snaps); i++)
		assert_int_equal(kept[i], why[i].kept);
	policy_bucket_label(POLICY_DAILY, snaps[1].created_at, label);
	assert_string_equal(label, "2026-05-02");
	policy_bucket_label(POLICY_HOURLY, snaps[1].created_at, label);
	assert_string_equal(label, "2026-05-02 23h");
	policy_bucket_label(POLICY_WEEKLY, snaps[1].created_at, label);
	assert_string_equal(label, "2026-W18");
	policy_bucket_label(POLICY_MONTHLY, snaps[1].created_at, label);
	assert_string_equal(label, "2026-05");
	policy_bucket_label(POLICY_YEARLY, snaps[1].created_at, label);
	assert_string_equal(label, "2026");
}

static void test_why_without_keep_says_all(void **state)
{
	struct policy_snapshot snaps[] = { SNAP(1, "2026-05-01T10:00:00Z") };
	struct policy_keep keep = { .given = false };
	struct policy_retention why[1];
	bool kept[1];
	struct rc_error err = {0};

	(void)state;
	assert_int_equal(policy_retain_explain(&keep, snaps, 1, kept, why,
					       &err), 0);
	assert_true(kept[0] && why[0].kept && why[0].all);
}

/* On random sets, the rules that say they keep a snapshot are exactly
 * what policy_retain keeps. */
static void test_why_agrees_with_what_is_kept(void **state)
{
	struct policy_snapshot snaps[RANDOM_MAX_N];
	struct policy_retention why[RANDOM_MAX_N];
	bool kept[RANDOM_MAX_N], explained[RANDOM_MAX_N];
	struct policy_keep keep;
	struct rc_error err = {0};

	(void)state;
	rng_state = 0x9e3779b97f4a7c15ULL;
	use_zone("Europe/Berlin");
	for (int c = 0; c < 2000; c++) {
		size_t n = random_case(snaps, &keep);

		assert_int_equal(policy_retain(&keep, snaps, n, kept, &err), 0);
		assert_int_equal(policy_retain_explain(&keep, snaps, n,
						       explained, why, &err), 0);
		for (size_t i = 0; i < n; i++) {
			bool any = why[i].all || why[i].by_latest;

			for (int k = 0; k < POLICY_BUCKET_KINDS; k++)
				any = any || why[i].bucket[k].keeps;
			assert_int_equal(kept[i], explained[i]);
			assert_int_equal(kept[i], why[i].kept);
			assert_int_equal(kept[i], any);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_names_are_the_keys_of_the_file),
		cmocka_unit_test(test_hours_days_months_years_of_the_clock),
		cmocka_unit_test(test_buckets_follow_the_zone_in_use),
		cmocka_unit_test(test_weeks_are_iso_weeks_monday_first),
		cmocka_unit_test(test_iso_week_numbers_around_the_year_end),
		cmocka_unit_test(test_weekly_across_the_year_end),
		cmocka_unit_test(test_a_fall_back_hour_is_one_hourly_bucket),
		cmocka_unit_test(test_a_spring_forward_day_has_23_hours),
		cmocka_unit_test(test_hours_that_come_back_later_are_not_new),
		cmocka_unit_test(test_keep_not_given_keeps_everything),
		cmocka_unit_test(test_a_count_of_0_keeps_nothing_of_its_kind),
		cmocka_unit_test(test_ties_in_time_go_to_the_higher_id),
		cmocka_unit_test(test_counts_past_the_buckets_keep_each_once),
		cmocka_unit_test(test_no_snapshots_is_nothing_to_do),
		cmocka_unit_test(test_two_years_of_latest_3),
		cmocka_unit_test(test_two_years_of_hourly_48),
		cmocka_unit_test(test_two_years_of_hourly_6_in_troll),
		cmocka_unit_test(test_two_years_of_daily_7),
		cmocka_unit_test(test_two_years_of_weekly_2),
		cmocka_unit_test(test_two_years_of_a_grandfather_scheme),
		cmocka_unit_test(test_two_years_of_everything_in_berlin),
		cmocka_unit_test(test_two_years_of_large_counts),
		cmocka_unit_test(test_two_years_at_once),
		cmocka_unit_test(test_random_sets_match_the_reference),
		cmocka_unit_test(test_why_names_the_rule_and_the_slot),
		cmocka_unit_test(test_why_without_keep_says_all),
		cmocka_unit_test(test_why_agrees_with_what_is_kept),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	scratch_free();
	return failed;
}
