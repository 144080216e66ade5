/*
 * config/: cron expressions, their slots on a wall clock that changes, and
 * when a policy's next snapshot is due. Every expected time here was
 * worked out by hand from the calendar and the zones' rules (zdump -v),
 * not by the code under test; local times are in the comments.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "rowcat/clock.h"
#include "rowcat/policy.h"

static void use_zone(const char *zone)
{
	struct rc_error err = {0};

	assert_int_equal(policy_zone_use(zone, &err), 0);
}

static int64_t at(const char *iso)
{
	struct rc_error err = {0};
	int64_t t = 0;

	assert_int_equal(rc_time_parse_iso(iso, &t, &err), 0);
	return t;
}

static struct policy_cron cron_of(const char *text)
{
	struct rc_error err = {0};
	struct policy_cron cron;

	if (policy_cron_parse(text, &cron, &err) != 0)
		fail_msg("\"%s\" refused: %s", text, err.message);
	return cron;
}

static void expect_refused(const char *text, const char *why)
{
	struct rc_error err = {0};
	struct policy_cron cron;

	assert_int_equal(policy_cron_parse(text, &cron, &err), -EINVAL);
	assert_true(err.usage);
	if (!strstr(err.message, why))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", text,
			 err.message, why);
}

static void expect_same_cron(const char *a, const char *b)
{
	struct policy_cron x = cron_of(a), y = cron_of(b);

	assert_true(x.minutes == y.minutes);
	assert_int_equal(x.hours, y.hours);
	assert_int_equal(x.days, y.days);
	assert_int_equal(x.months, y.months);
	assert_int_equal(x.weekdays, y.weekdays);
	assert_int_equal(x.days_restricted, y.days_restricted);
	assert_int_equal(x.weekdays_restricted, y.weekdays_restricted);
}

/* The slots of text after `after`, one by one: NULL ends the list. */
static void expect_slots(const char *text, const char *after,
			 const char *const *slots)
{
	struct policy_cron cron = cron_of(text);
	struct rc_error err = {0};
	char got[RC_ISO_TIME_MAX];
	int64_t t = at(after), next = 0;

	for (; *slots; slots++) {
		assert_int_equal(policy_cron_next(&cron, t, &next, &err), 0);
		rc_time_format_iso(next, got);
		if (strcmp(got, *slots) != 0)
			fail_msg("\"%s\" after %s: %s, expected %s", text,
				 after, got, *slots);
		t = next;
	}
}

#define SLOTS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- parsing ---------------------------------------------------------- */

static void test_cron_reads_every_field_form(void **state)
{
	struct policy_cron c;

	(void)state;
	c = cron_of("*/15 0-6/3 1,15,31 */4 1-5");
	assert_true(c.minutes == (1ULL | 1ULL << 15 | 1ULL << 30 | 1ULL << 45));
	assert_int_equal(c.hours, 1 << 0 | 1 << 3 | 1 << 6);
	assert_int_equal(c.days, 1U << 1 | 1U << 15 | 1U << 31);
	assert_int_equal(c.months, 1 << 1 | 1 << 5 | 1 << 9);
	assert_int_equal(c.weekdays, 0x3e);
	assert_true(c.days_restricted);
	assert_true(c.weekdays_restricted);

	/* N/n runs from N to the end of the field, as in cronie */
	c = cron_of("5/20 23 * * *");
	assert_true(c.minutes == (1ULL << 5 | 1ULL << 25 | 1ULL << 45));
	assert_int_equal(c.hours, 1U << 23);
	assert_int_equal(c.days, 0xfffffffeU);
	assert_int_equal(c.months, 0x1ffe);
	assert_int_equal(c.weekdays, 0x7f);
	assert_false(c.days_restricted);
	assert_false(c.weekdays_restricted);

	c = cron_of("0-59/30,7 10-12,20 2-4/2 12 0");
	assert_true(c.minutes == (1ULL | 1ULL << 7 | 1ULL << 30));
	assert_int_equal(c.hours, 1 << 10 | 1 << 11 | 1 << 12 | 1 << 20);
	assert_int_equal(c.days, 1 << 2 | 1 << 4);
	assert_int_equal(c.months, 1 << 12);
	assert_int_equal(c.weekdays, 1);

	c = cron_of("\t 59  23\t31 12 6 \n");
	assert_true(c.minutes == 1ULL << 59);
	assert_int_equal(c.weekdays, 1 << 6);
	c = cron_of("* * * * *");
	assert_true(c.minutes == (1ULL << 60) - 1);
	assert_int_equal(c.hours, (1U << 24) - 1);
}

static void test_cron_reads_names_in_any_case_and_7_as_sunday(void **state)
{
	struct policy_cron c;

	(void)state;
	c = cron_of("0 12 * JAN-mar,Dec Mon-FRI");
	assert_int_equal(c.months, 1 << 1 | 1 << 2 | 1 << 3 | 1 << 12);
	assert_int_equal(c.weekdays, 0x3e);
	assert_int_equal(cron_of("0 0 * * sun").weekdays, 1);
	assert_int_equal(cron_of("0 0 * * 7").weekdays, 1);
	assert_int_equal(cron_of("0 0 * * 0,7").weekdays, 1);
	assert_int_equal(cron_of("0 0 * * 5-7").weekdays, 1 | 1 << 5 | 1 << 6);
	assert_int_equal(cron_of("0 0 * * sat,SUN").weekdays, 1 | 1 << 6);
	assert_int_equal(cron_of("0 0 * * 0-7").weekdays, 0x7f);
	assert_int_equal(cron_of("0 0 * * */2").weekdays, 0x55);
	assert_int_equal(cron_of("0 0 * * mon-fri/2").weekdays, 0x2a);
	assert_int_equal(cron_of("0 0 * feb/3 *").months,
			 1 << 2 | 1 << 5 | 1 << 8 | 1 << 11);
}

static void test_cron_macros_stand_for_their_fields(void **state)
{
	(void)state;
	expect_same_cron("@hourly", "0 * * * *");
	expect_same_cron("@daily", "0 0 * * *");
	expect_same_cron("@midnight", "0 0 * * *");
	expect_same_cron("@weekly", "0 0 * * 0");
	expect_same_cron("@monthly", "0 0 1 * *");
	expect_same_cron("@yearly", "0 0 1 1 *");
	expect_same_cron("@annually", "0 0 1 1 *");
	expect_same_cron("  @Daily ", "0 0 * * *");
	expect_refused("@reboot", "unknown macro '@reboot'");
	expect_refused("@daily 5", "a macro stands alone");
	expect_refused("@", "unknown macro");
}

/* Vixie cron decides the day rule on the field's first character. */
static void test_cron_day_field_starting_with_star_is_unrestricted(void **state)
{
	struct policy_cron c;

	(void)state;
	c = cron_of("0 0 * * *");
	assert_false(c.days_restricted);
	assert_false(c.weekdays_restricted);
	c = cron_of("0 0 */2 * */2");
	assert_false(c.days_restricted);
	assert_false(c.weekdays_restricted);
	c = cron_of("0 0 1-31 * 0-7");
	assert_true(c.days_restricted);
	assert_true(c.weekdays_restricted);
	c = cron_of("0 0 1 * *");
	assert_true(c.days_restricted);
	assert_false(c.weekdays_restricted);
	c = cron_of("0 0 * * mon");
	assert_false(c.days_restricted);
	assert_true(c.weekdays_restricted);
}

static void test_cron_refuses_other_than_five_fields(void **state)
{
	(void)state;
	expect_refused("0 0 * *", "expected 5 fields");
	expect_refused("0 0 * *", "found 4");
	expect_refused("0 0 * * * *", "found 6");
	expect_refused("0 0 * * * root /bin/true", "found 7");
	expect_refused("", "found 0");
	expect_refused("   ", "found 0");
}

static void test_cron_refuses_values_out_of_range(void **state)
{
	struct rc_error err = {0};
	struct policy_cron c;

	(void)state;
	assert_int_equal(policy_cron_parse("0 25 * * *", &c, &err), -EINVAL);
	assert_true(err.usage);
	assert_string_equal(err.message, "cron \"0 25 * * *\": hour 25 is out "
			    "of range 0-23");
	expect_refused("60 * * * *", "minute 60 is out of range 0-59");
	expect_refused("0 0 0 * *", "day-of-month 0 is out of range 1-31");
	expect_refused("0 0 32 * *", "day-of-month 32 is out of range 1-31");
	expect_refused("0 0 * 0 *", "month 0 is out of range 1-12");
	expect_refused("0 0 * 13 *", "month 13 is out of range 1-12");
	expect_refused("0 0 * * 8", "day-of-week 8 is out of range 0-7");
	expect_refused("0 1-24 * * *", "hour 24 is out of range 0-23");
	expect_refused("99999999999 * * * *",
		       "minute 99999999999 is out of range 0-59");
}

static void test_cron_refuses_empty_list_items(void **state)
{
	(void)state;
	expect_refused("1,,2 * * * *", "empty item in minute field \"1,,2\"");
	expect_refused("0 1, * * *", "empty item in hour field \"1,\"");
	expect_refused("0 0 ,1 * *", "empty item in day-of-month field");
	expect_refused("0 0 * * ,", "empty item in day-of-week field");
}

static void test_cron_refuses_steps_of_0_and_too_long(void **state)
{
	(void)state;
	expect_refused("*/0 * * * *", "minute step 0 is out of range 1-59");
	expect_refused("0 0 1-10/0 * *", "day-of-month step 0");
	expect_refused("0 */24 * * *", "hour step 24 is out of range 1-23");
	expect_refused("0 0 * */13 *", "month step 13 is out of range 1-12");
}

static void test_cron_refuses_ranges_that_run_backwards(void **state)
{
	(void)state;
	expect_refused("0 5-2 * * *", "hour range 5-2 runs backwards");
	expect_refused("0 0 * dec-jan *", "month range dec-jan runs backwards");
	expect_refused("0 0 * * fri-sun",
		       "day-of-week range fri-sun runs backwards (Sunday is 7");
	expect_refused("30-10/5 * * * *", "minute range 30-10 runs backwards");
}

static void test_cron_refuses_junk(void **state)
{
	(void)state;
	expect_refused("5x * * * *", "unexpected 'x' in minute field \"5x\"");
	expect_refused("1- * * * *", "minute field \"1-\" ends early");
	expect_refused("*/ * * * *", "minute field \"*/\" ends early");
	expect_refused("-1 * * * *", "unexpected '-' in minute field");
	expect_refused("** * * * *", "unexpected '*' in minute field");
	expect_refused("1/2/3 * * * *", "unexpected '/' in minute field");
	expect_refused("1.5 * * * *", "unexpected '.' in minute field");
	expect_refused("mon * * * *", "unexpected 'm' in minute field");
	expect_refused("0 0 L * *", "unexpected 'L' in day-of-month field");
	expect_refused("0 0 * * 1;2", "unexpected ';' in day-of-week field");
	expect_refused("0 0 * foo *",
		       "month 'foo' is not a number or a name (jan-dec)");
	expect_refused("0 0 * * monday", "day-of-week 'monday' is not a "
		       "number or a name (sun-sat)");
	expect_refused("0 0 * * */x", "unexpected 'x' in day-of-week field");
}

static void test_cron_refuses_days_that_never_come(void **state)
{
	(void)state;
	expect_refused("0 0 30 2 *", "day-of-month 30 never comes");
	expect_refused("0 0 31 4,6 *", "day-of-month 31 never comes");
	expect_refused("0 0 30,31 feb *", "day-of-month 30 never comes");
	expect_refused("0 0 31 2,4,6,9,11 *", "day-of-month 31 never comes");
	/* "*\/2" leaves the weekday unrestricted: both fields must match */
	expect_refused("0 0 31 2 */2", "day-of-month 31 never comes");
	/* 1 January is a Sunday in 2023 and next in 2034 */
	expect_refused("0 0 1 1 */7", "less than once in 10 years");
	/* 29 February on Sun/Tue/Thu/Sat: 2032, then 2048 */
	expect_refused("0 0 29 2 */2", "less than once in 10 years");

	cron_of("0 0 29 2 *");      /* leap years */
	cron_of("0 0 31 * *");
	cron_of("0 0 31 1-4 *");
	cron_of("0 0 30 2 mon");    /* either field: any Monday of February */
	cron_of("0 0 1 1 */2");
	cron_of("0 0 13 * */2");
}

/* ---- matching --------------------------------------------------------- */

static struct policy_civil civil(int y, int mo, int d, int h, int mi, int wd)
{
	return (struct policy_civil){ .year = y, .month = mo, .day = d,
				      .hour = h, .minute = mi, .weekday = wd };
}

static void test_cron_matches_minute_hour_month_and_day(void **state)
{
	struct policy_cron c = cron_of("30 2 * jan-jun *");
	struct policy_civil mon = civil(2026, 3, 30, 2, 30, 1);

	(void)state;
	assert_true(policy_cron_matches(&c, &mon));
	mon.minute = 31;
	assert_false(policy_cron_matches(&c, &mon));
	mon.minute = 30, mon.hour = 3;
	assert_false(policy_cron_matches(&c, &mon));
	mon.hour = 2, mon.month = 7;
	assert_false(policy_cron_matches(&c, &mon));
}

/* 2026-04-10 is a Friday, 2026-04-13 a Monday, 2026-04-16 a Thursday. */
static void test_cron_day_matches_either_field_when_both_restricted(
	void **state)
{
	struct policy_civil fri10 = civil(2026, 4, 10, 0, 0, 5);
	struct policy_civil mon13 = civil(2026, 4, 13, 0, 0, 1);
	struct policy_civil thu16 = civil(2026, 4, 16, 0, 0, 4);
	struct policy_cron either = cron_of("0 0 13 * 5");
	struct policy_cron dom = cron_of("0 0 13 * *");
	struct policy_cron dow = cron_of("0 0 * * fri");
	struct policy_cron odd_fridays = cron_of("0 0 */2 * 5");

	(void)state;
	assert_true(policy_cron_matches(&either, &fri10));
	assert_true(policy_cron_matches(&either, &mon13));
	assert_false(policy_cron_matches(&either, &thu16));
	assert_false(policy_cron_matches(&dom, &fri10));
	assert_true(policy_cron_matches(&dom, &mon13));
	assert_true(policy_cron_matches(&dow, &fri10));
	assert_false(policy_cron_matches(&dow, &mon13));
	/* a day field starting with '*' makes both fields count */
	assert_false(policy_cron_matches(&odd_fridays, &fri10));
	fri10.day = 17;
	assert_true(policy_cron_matches(&odd_fridays, &fri10));
	thu16.day = 17, thu16.weekday = 6;
	assert_false(policy_cron_matches(&odd_fridays, &thu16));
}

/* ---- every ------------------------------------------------------------ */

static struct policy every_policy(int64_t every)
{
	struct policy p;

	memset(&p, 0, sizeof(p));
	strcpy(p.name, "test");
	p.every = every;
	return p;
}

static struct policy cron_policy(const char *text)
{
	struct policy p;

	memset(&p, 0, sizeof(p));
	strcpy(p.name, "test");
	p.cron = cron_of(text);
	snprintf(p.cron_text, sizeof(p.cron_text), "%s", text);
	return p;
}

static const char *due_text(const struct policy *p, const char *last,
			    char buf[RC_ISO_TIME_MAX])
{
	struct rc_error err = {0};
	int64_t due = -1;

	assert_int_equal(policy_next_due(p, at(last), &due, &err), 0);
	rc_time_format_iso(due, buf);
	return buf;
}

static bool is_due(const struct policy *p, int64_t last, int64_t now)
{
	struct rc_error err = {0};
	bool due = false;

	assert_int_equal(policy_is_due(p, last, now, &due, &err), 0);
	return due;
}

static void test_every_slack_is_a_tenth_at_most_a_minute(void **state)
{
	(void)state;
	assert_int_equal(policy_every_slack(7 * 86400), 60);
	assert_int_equal(policy_every_slack(86400), 60);
	assert_int_equal(policy_every_slack(3600), 60);
	assert_int_equal(policy_every_slack(600), 60);
	assert_int_equal(policy_every_slack(300), 30);
	assert_int_equal(policy_every_slack(60), 6);
	assert_int_equal(policy_every_slack(30), 3);
	assert_int_equal(policy_every_slack(5), 0);
	assert_int_equal(policy_every_slack(0), 0);
}

static void test_first_snapshot_is_due_at_once(void **state)
{
	struct policy hourly = every_policy(3600);
	struct policy nightly = cron_policy("0 3 * * *");
	struct rc_error err = {0};
	int64_t due = -1;

	(void)state;
	use_zone("UTC");
	assert_int_equal(policy_next_due(&hourly, 0, &due, &err), 0);
	assert_int_equal(due, 0);
	due = -1;
	assert_int_equal(policy_next_due(&nightly, 0, &due, &err), 0);
	assert_int_equal(due, 0);
	assert_true(is_due(&hourly, 0, at("2026-05-01T10:00:00Z")));
	assert_true(is_due(&nightly, 0, at("2026-05-01T10:00:00Z")));
}

static void test_every_is_due_after_every_less_slack(void **state)
{
	char buf[RC_ISO_TIME_MAX];
	struct policy h1 = every_policy(3600), d1 = every_policy(86400);
	struct policy w1 = every_policy(7 * 86400), m5 = every_policy(300);
	int64_t last = at("2026-05-01T10:00:00Z");

	(void)state;
	assert_string_equal(due_text(&h1, "2026-05-01T10:00:00Z", buf),
			    "2026-05-01T11:00:00Z");
	assert_string_equal(due_text(&d1, "2026-05-01T10:00:00Z", buf),
			    "2026-05-02T10:00:00Z");
	assert_string_equal(due_text(&w1, "2026-05-01T10:00:00Z", buf),
			    "2026-05-08T10:00:00Z");
	assert_string_equal(due_text(&m5, "2026-05-01T10:00:00Z", buf),
			    "2026-05-01T10:05:00Z");

	/* a timer firing a little early still takes the snapshot */
	assert_true(is_due(&h1, last, at("2026-05-01T10:59:00Z")));
	assert_false(is_due(&h1, last, at("2026-05-01T10:58:59Z")));
	assert_true(is_due(&d1, last, at("2026-05-02T09:59:00Z")));
	assert_false(is_due(&d1, last, at("2026-05-02T09:58:59Z")));
	assert_true(is_due(&w1, last, at("2026-05-08T09:59:00Z")));
	assert_false(is_due(&w1, last, at("2026-05-08T09:58:59Z")));
	assert_true(is_due(&m5, last, at("2026-05-01T10:04:30Z")));
	assert_false(is_due(&m5, last, at("2026-05-01T10:04:29Z")));
	assert_true(is_due(&m5, last, at("2026-06-01T00:00:00Z")));
}

/* Berlin: 2026-03-28 12:00 CET; a day later the clocks say 13:00 CEST. */
static void test_every_1d_is_24_hours_across_a_clock_change(void **state)
{
	char buf[POLICY_TIME_TEXT_MAX], iso[RC_ISO_TIME_MAX];
	struct policy d1 = every_policy(86400);
	struct rc_error err = {0};
	int64_t due;

	(void)state;
	use_zone("Europe/Berlin");
	assert_string_equal(due_text(&d1, "2026-03-28T11:00:00Z", iso),
			    "2026-03-29T11:00:00Z");
	assert_int_equal(policy_next_due(&d1, at("2026-03-28T11:00:00Z"), &due,
					 &err), 0);
	policy_time_format(due, buf);
	assert_string_equal(buf, "2026-03-29T13:00:00+02:00");
	/* 2026-10-24 12:00 CEST; a day later it is 11:00 CET */
	assert_int_equal(policy_next_due(&d1, at("2026-10-24T10:00:00Z"), &due,
					 &err), 0);
	policy_time_format(due, buf);
	assert_string_equal(buf, "2026-10-25T11:00:00+01:00");
	assert_true(is_due(&d1, at("2026-10-24T10:00:00Z"),
			   at("2026-10-25T09:59:00Z")));
	assert_false(is_due(&d1, at("2026-10-24T10:00:00Z"),
			    at("2026-10-25T09:58:00Z")));
}

static void test_cron_policy_is_due_at_its_next_slot(void **state)
{
	char buf[RC_ISO_TIME_MAX];
	struct policy nightly = cron_policy("0 3 * * *");
	int64_t last = at("2026-05-01T03:00:07Z");
	struct policy none = every_policy(0);
	struct rc_error err = {0};
	int64_t due;

	(void)state;
	use_zone("UTC");
	assert_string_equal(due_text(&nightly, "2026-05-01T03:00:07Z", buf),
			    "2026-05-02T03:00:00Z");
	/* no slack on cron: a slot is a time of day */
	assert_false(is_due(&nightly, last, at("2026-05-02T02:59:59Z")));
	assert_true(is_due(&nightly, last, at("2026-05-02T03:00:00Z")));
	assert_true(is_due(&nightly, last, at("2026-05-09T00:00:00Z")));
	use_zone("Europe/Berlin"); /* 03:00 CEST is 01:00Z */
	assert_string_equal(due_text(&nightly, "2026-05-01T01:00:00Z", buf),
			    "2026-05-02T01:00:00Z");
	assert_int_equal(policy_next_due(&none, 1, &due, &err), -EINVAL);
	assert_non_null(strstr(err.message, "neither every nor cron"));
}

/* ---- cron slots, UTC -------------------------------------------------- */

static void test_cron_31st_skips_months_without_one(void **state)
{
	(void)state;
	use_zone("UTC");
	expect_slots("0 0 31 * *", "2026-01-31T00:00:00Z",
		     SLOTS("2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z",
			   "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z",
			   "2026-10-31T00:00:00Z", "2026-12-31T00:00:00Z",
			   "2027-01-31T00:00:00Z"));
	expect_slots("0 0 31 * *", "2026-01-30T23:59:59Z",
		     SLOTS("2026-01-31T00:00:00Z"));
}

static void test_cron_29_february_waits_for_a_leap_year(void **state)
{
	(void)state;
	use_zone("UTC");
	expect_slots("0 12 29 2 *", "2026-01-01T00:00:00Z",
		     SLOTS("2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"));
	/* 2100 is no leap year: 8 years, the longest wait there is */
	expect_slots("0 12 29 2 *", "2096-02-29T12:00:00Z",
		     SLOTS("2104-02-29T12:00:00Z"));
}

/* April 2026: Fridays 3, 10, 17, 24; the 13th is a Monday; 1 May a Friday. */
static void test_cron_13th_or_friday_when_both_day_fields_given(void **state)
{
	(void)state;
	use_zone("UTC");
	expect_slots("0 0 13 * 5", "2026-04-01T00:00:00Z",
		     SLOTS("2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z",
			   "2026-04-13T00:00:00Z", "2026-04-17T00:00:00Z",
			   "2026-04-24T00:00:00Z", "2026-05-01T00:00:00Z"));
	expect_slots("0 0 13 * *", "2026-04-01T00:00:00Z",
		     SLOTS("2026-04-13T00:00:00Z", "2026-05-13T00:00:00Z"));
	expect_slots("0 0 * * fri", "2026-04-01T00:00:00Z",
		     SLOTS("2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z",
			   "2026-04-17T00:00:00Z"));
	/* "*\/2" starts with '*': odd days that are Fridays (May 1, 15, 29) */
	expect_slots("0 0 */2 * 5", "2026-04-01T00:00:00Z",
		     SLOTS("2026-04-03T00:00:00Z", "2026-04-17T00:00:00Z",
			   "2026-05-01T00:00:00Z", "2026-05-15T00:00:00Z",
			   "2026-05-29T00:00:00Z"));
}

static void test_cron_yearly_crosses_the_year_end(void **state)
{
	(void)state;
	use_zone("UTC");
	expect_slots("@yearly", "2026-12-31T23:59:59Z",
		     SLOTS("2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z",
			   "2029-01-01T00:00:00Z"));
	expect_slots("@monthly", "2026-02-15T08:00:00Z",
		     SLOTS("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"));
	/* 2026-04-01 is a Wednesday */
	expect_slots("@weekly", "2026-04-01T00:00:00Z",
		     SLOTS("2026-04-05T00:00:00Z", "2026-04-12T00:00:00Z"));
}

static void test_cron_every_15_minutes_steps_by_quarter_hours(void **state)
{
	(void)state;
	use_zone("UTC");
	expect_slots("*/15 * * * *", "2026-05-01T10:07:30Z",
		     SLOTS("2026-05-01T10:15:00Z", "2026-05-01T10:30:00Z",
			   "2026-05-01T10:45:00Z", "2026-05-01T11:00:00Z"));
	expect_slots("*/15 * * * *", "2026-12-31T23:50:00Z",
		     SLOTS("2027-01-01T00:00:00Z"));
}

static void test_cron_next_is_strictly_after(void **state)
{
	(void)state;
	use_zone("UTC");
	expect_slots("* * * * *", "2026-05-01T10:00:00Z",
		     SLOTS("2026-05-01T10:01:00Z", "2026-05-01T10:02:00Z"));
	expect_slots("* * * * *", "2026-05-01T10:00:59Z",
		     SLOTS("2026-05-01T10:01:00Z"));
	expect_slots("0 10 * * *", "2026-05-01T10:00:00Z",
		     SLOTS("2026-05-02T10:00:00Z"));
	expect_slots("0 10 * * *", "2026-05-01T09:59:59Z",
		     SLOTS("2026-05-01T10:00:00Z"));
}

static void test_cron_that_never_fires_gives_erange(void **state)
{
	struct policy_cron c = cron_of("0 0 30 1 *");
	struct rc_error err = {0};
	int64_t next = 0;

	(void)state;
	use_zone("UTC");
	c.months = 1 << 2; /* 30 February, past the parser's checks */
	assert_int_equal(policy_cron_next(&c, at("2026-01-01T00:00:00Z"), &next,
					  &err), -ERANGE);
	assert_non_null(strstr(err.message, "no slot within 10 years"));
}

/* ---- cron slots on clocks that change --------------------------------- */

/* Berlin, 2026-03-29: at 01:00Z the clocks go from 02:00 CET to 03:00 CEST. */
static void test_cron_0230_runs_at_0300_on_spring_forward_day(void **state)
{
	(void)state;
	use_zone("Europe/Berlin");
	expect_slots("30 2 * * *", "2026-03-28T12:00:00Z",
		     SLOTS("2026-03-29T01:00:00Z",     /* 03:00 CEST */
			   "2026-03-30T00:30:00Z",     /* 02:30 CEST */
			   "2026-03-31T00:30:00Z"));
	expect_slots("30 2 * * *", "2026-03-27T12:00:00Z",
		     SLOTS("2026-03-28T01:30:00Z"));   /* 02:30 CET */
}

/* Berlin, 2026-10-25: at 01:00Z the clocks go from 03:00 CEST to 02:00 CET. */
static void test_cron_0230_runs_once_on_fall_back_day(void **state)
{
	(void)state;
	use_zone("Europe/Berlin");
	expect_slots("30 2 * * *", "2026-10-24T12:00:00Z",
		     SLOTS("2026-10-25T00:30:00Z",     /* 02:30 CEST */
			   "2026-10-26T01:30:00Z"));   /* 02:30 CET */
	/* not 2026-10-25T01:30Z, which repeats 02:30; nor when asked in the
	 * repeated hour, at 02:20 CET */
	expect_slots("30 2 * * *", "2026-10-25T01:20:00Z",
		     SLOTS("2026-10-26T01:30:00Z"));
	expect_slots("0 3 * * *", "2026-10-25T01:20:00Z",
		     SLOTS("2026-10-25T02:00:00Z"));   /* 03:00 CET */
	expect_slots("*/15 * * * *", "2026-10-25T00:50:00Z",
		     SLOTS("2026-10-25T02:00:00Z", "2026-10-25T02:15:00Z"));
}

static void test_hourly_cron_skips_the_repeated_hour_on_fall_back_day(
	void **state)
{
	(void)state;
	use_zone("Europe/Berlin");
	/* 00:00, 01:00, 02:00 CEST, (02:00 CET repeats a time), 03:00 CET */
	expect_slots("0 * * * *", "2026-10-24T22:00:00Z",
		     SLOTS("2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z",
			   "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"));
}

static void test_hourly_cron_has_one_slot_at_the_gap_end_on_spring_forward_day(
	void **state)
{
	(void)state;
	use_zone("Europe/Berlin");
	/* 01:00 CET, then 02:00 and 03:00 both at the gap end, 04:00 CEST */
	expect_slots("0 * * * *", "2026-03-28T23:00:00Z",
		     SLOTS("2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z",
			   "2026-03-29T02:00:00Z"));
	expect_slots("*/15 * * * *", "2026-03-29T00:50:00Z",
		     SLOTS("2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"));
}

/* New York 2026: 03-08 at 07:00Z, 02:00 EST → 03:00 EDT; 11-01 at 06:00Z,
 * 02:00 EDT → 01:00 EST. */
static void test_new_york_daily_cron_across_both_2026_changes(void **state)
{
	(void)state;
	use_zone("America/New_York");
	expect_slots("30 2 * * *", "2026-03-07T12:00:00Z",
		     SLOTS("2026-03-08T07:00:00Z",     /* 03:00 EDT */
			   "2026-03-09T06:30:00Z"));   /* 02:30 EDT */
	expect_slots("30 1 * * *", "2026-10-31T12:00:00Z",
		     SLOTS("2026-11-01T05:30:00Z",     /* 01:30 EDT */
			   "2026-11-02T06:30:00Z"));   /* 01:30 EST */
	/* 02:00 is reached at 07:00Z (02:00 EST), not at the change */
	expect_slots("0 2 * * *", "2026-10-31T12:00:00Z",
		     SLOTS("2026-11-01T07:00:00Z", "2026-11-02T07:00:00Z"));
}

/* Lord Howe shifts by 30 minutes: 2026-04-05 at 15:00Z (04-04), 02:00 +11
 * → 01:30 +1030; 2026-10-04 at 15:30Z (10-03), 02:00 +1030 → 02:30 +11. */
static void test_half_hour_shift_zone_follows_the_same_rules(void **state)
{
	(void)state;
	use_zone("Australia/Lord_Howe");
	expect_slots("15 2 * * *", "2026-10-03T12:00:00Z",
		     SLOTS("2026-10-03T15:30:00Z",     /* gap end, 02:30 +11 */
			   "2026-10-04T15:15:00Z"));   /* 02:15 +11 */
	expect_slots("45 1 * * *", "2026-04-04T12:00:00Z",
		     SLOTS("2026-04-04T14:45:00Z",     /* 01:45 +11 */
			   "2026-04-05T15:15:00Z"));   /* 01:45 +1030 */
	expect_slots("0 * * * *", "2026-04-04T13:30:00Z",
		     SLOTS("2026-04-04T14:00:00Z",     /* 01:00 +11 */
			   "2026-04-04T15:30:00Z"));   /* 02:00 +1030 */
	expect_slots("0 * * * *", "2026-10-03T14:00:00Z",
		     SLOTS("2026-10-03T14:30:00Z",     /* 01:00 +1030 */
			   "2026-10-03T15:30:00Z",     /* 02:00, gap end */
			   "2026-10-03T16:00:00Z"));   /* 03:00 +11 */
}

/* ---- properties ------------------------------------------------------- */

typedef bool (*wall_match)(const struct tm *wall);

static bool at_0230(const struct tm *w)
{
	return w->tm_hour == 2 && w->tm_min == 30;
}

static bool every_2_hours(const struct tm *w)
{
	return w->tm_hour % 2 == 0 && w->tm_min == 0;
}

static bool quarter_hours(const struct tm *w)
{
	return w->tm_min % 15 == 0;
}

static bool sunday_0300(const struct tm *w)
{
	return w->tm_wday == 0 && w->tm_hour == 3 && w->tm_min == 0;
}

static bool weekdays_0215_0245(const struct tm *w)
{
	return w->tm_wday >= 1 && w->tm_wday <= 5 && w->tm_hour == 2 &&
	       (w->tm_min == 15 || w->tm_min == 45);
}

/* A wall-clock minute (local seconds counted as UTC) as a calendar. */
static struct tm wall_tm(int64_t wall)
{
	time_t t = (time_t)wall;
	struct tm tm;

	gmtime_r(&t, &tm);
	return tm;
}

static int64_t wall_of(int64_t t)
{
	struct policy_civil c;

	policy_civil_of(t, &c);
	return t + c.utc_offset;
}

/*
 * The definition in policy.h, applied minute by minute: walking UTC
 * minutes, a slot comes at the first minute whose wall clock reaches it,
 * past the latest wall time already shown. Checks that next is such a
 * minute and that none lies strictly between after and next.
 */
static void check_by_brute_force(wall_match match, const char *text,
				 int64_t after, int64_t next)
{
	int64_t start = after - after % 60 - 3 * 3600;
	int64_t shown = wall_of(start);
	bool fired_at_next = false;

	assert_true(next > after);
	assert_int_equal(next % 60, 0);
	for (int64_t t = start + 60; t <= next; t += 60) {
		int64_t wall = wall_of(t);
		bool fires = false;

		for (int64_t w = shown + 60; w <= wall; w += 60) {
			struct tm tm = wall_tm(w);

			fires |= match(&tm);
		}
		if (wall > shown)
			shown = wall;
		if (fires && t > after && t < next)
			fail_msg("\"%s\" after %lld: next %lld skips a slot "
				 "at %lld", text, (long long)after,
				 (long long)next, (long long)t);
		if (t == next)
			fired_at_next = fires;
	}
	if (!fired_at_next)
		fail_msg("\"%s\" after %lld: %lld is no slot", text,
			 (long long)after, (long long)next);
}

/* Berlin's changes in 2026-2029 (zdump -v Europe/Berlin), all at 01:00Z. */
static const char *const berlin_changes[] = {
	"2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z",
	"2027-03-28T01:00:00Z", "2027-10-31T01:00:00Z",
	"2028-03-26T01:00:00Z", "2028-10-29T01:00:00Z",
	"2029-03-25T01:00:00Z", "2029-10-28T01:00:00Z",
};

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	return *x;
}

static void test_cron_next_is_the_first_slot_by_brute_force(void **state)
{
	static const struct {
		const char *text;
		wall_match match;
		int samples;
	} cases[] = {
		{ "30 2 * * *", at_0230, 2000 },
		{ "0 */2 * * *", every_2_hours, 2000 },
		{ "*/15 * * * *", quarter_hours, 2000 },
		{ "0 3 * * sun", sunday_0300, 400 },
		{ "15,45 2 * * mon-fri", weekdays_0215_0245, 1000 },
	};
	int64_t from = at("2026-01-01T00:00:00Z");
	uint64_t span = (uint64_t)(at("2030-01-01T00:00:00Z") - from);
	struct rc_error err = {0};
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	use_zone("Europe/Berlin");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy_cron cron = cron_of(cases[i].text);

		for (int n = 0; n < cases[i].samples; n++) {
			uint64_t r = xorshift(&x);
			int64_t change = at(berlin_changes[r / 2 % 8]);
			int64_t after, next = 0;
			struct policy_civil c;
			struct tm tm;

			/* half near a change of clocks, where it goes wrong */
			if (r % 2)
				after = change - 36 * 3600 +
					(int64_t)(r / 16 % (72 * 3600));
			else
				after = from + (int64_t)(r / 2 % span);
			if (r / 4096 % 3 == 0) /* on a minute, maybe a slot */
				after -= after % 60;
			assert_int_equal(policy_cron_next(&cron, after, &next,
							  &err), 0);
			check_by_brute_force(cases[i].match, cases[i].text,
					     after, next);
			/* a matching time shows, or a gap that hid one ends */
			policy_civil_of(next, &c);
			tm = wall_tm(wall_of(next));
			if (!cases[i].match(&tm)) {
				struct policy_civil before;

				policy_civil_of(next - 1, &before);
				assert_true(c.utc_offset > before.utc_offset);
			}
		}
	}
}

/* A daily cron chained over 4 years: one slot a day, 02:30 but on the four
 * spring-forward days, when it is 03:00. */
static void test_daily_cron_chained_over_years_fires_once_a_day(void **state)
{
	struct policy_cron cron = cron_of("30 2 * * *");
	int64_t t = at("2026-01-01T00:00:00Z");
	int64_t end = at("2030-01-01T00:00:00Z");
	struct rc_error err = {0};
	struct policy_civil c, prev = {0};
	int slots = 0, at_0300 = 0;

	(void)state;
	use_zone("Europe/Berlin");
	for (;;) {
		assert_int_equal(policy_cron_next(&cron, t, &t, &err), 0);
		if (t >= end)
			break;
		policy_civil_of(t, &c);
		if (slots++)
			assert_true(c.day != prev.day || c.month != prev.month);
		if (c.hour == 3) {
			assert_int_equal(c.minute, 0);
			assert_int_equal(c.month, 3);
			assert_int_equal(c.weekday, 0);
			at_0300++;
		} else {
			assert_int_equal(c.hour, 2);
			assert_int_equal(c.minute, 30);
		}
		prev = c;
	}
	assert_int_equal(slots, 365 * 4 + 1); /* 2028 is a leap year */
	assert_int_equal(at_0300, 4);
}

/* Many calls, as policy runs make them: rare slots must not be slow. */
static void test_rare_slots_are_found_quickly(void **state)
{
	struct policy_cron yearly = cron_of("@yearly");
	struct policy_cron leap = cron_of("0 12 29 2 *");
	struct rc_error err = {0};
	uint64_t x = 12345;
	int64_t next;

	(void)state;
	use_zone("Europe/Berlin");
	for (int i = 0; i < 20000; i++) {
		int64_t after = at("2026-01-01T00:00:00Z") +
				(int64_t)(xorshift(&x) % (4 * 366 * 86400ULL));

		assert_int_equal(policy_cron_next(i % 2 ? &yearly : &leap,
						  after, &next, &err), 0);
		assert_true(next > after);
		assert_true(next - after <= 8LL * 366 * 86400);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cron_reads_every_field_form),
		cmocka_unit_test(test_cron_reads_names_in_any_case_and_7_as_sunday),
		cmocka_unit_test(test_cron_macros_stand_for_their_fields),
		cmocka_unit_test(test_cron_day_field_starting_with_star_is_unrestricted),
		cmocka_unit_test(test_cron_refuses_other_than_five_fields),
		cmocka_unit_test(test_cron_refuses_values_out_of_range),
		cmocka_unit_test(test_cron_refuses_empty_list_items),
		cmocka_unit_test(test_cron_refuses_steps_of_0_and_too_long),
		cmocka_unit_test(test_cron_refuses_ranges_that_run_backwards),
		cmocka_unit_test(test_cron_refuses_junk),
		cmocka_unit_test(test_cron_refuses_days_that_never_come),
		cmocka_unit_test(test_cron_matches_minute_hour_month_and_day),
		cmocka_unit_test(test_cron_day_matches_either_field_when_both_restricted),
		cmocka_unit_test(test_every_slack_is_a_tenth_at_most_a_minute),
		cmocka_unit_test(test_first_snapshot_is_due_at_once),
		cmocka_unit_test(test_every_is_due_after_every_less_slack),
		cmocka_unit_test(test_every_1d_is_24_hours_across_a_clock_change),
		cmocka_unit_test(test_cron_policy_is_due_at_its_next_slot),
		cmocka_unit_test(test_cron_31st_skips_months_without_one),
		cmocka_unit_test(test_cron_29_february_waits_for_a_leap_year),
		cmocka_unit_test(test_cron_13th_or_friday_when_both_day_fields_given),
		cmocka_unit_test(test_cron_yearly_crosses_the_year_end),
		cmocka_unit_test(test_cron_every_15_minutes_steps_by_quarter_hours),
		cmocka_unit_test(test_cron_next_is_strictly_after),
		cmocka_unit_test(test_cron_that_never_fires_gives_erange),
		cmocka_unit_test(test_cron_0230_runs_at_0300_on_spring_forward_day),
		cmocka_unit_test(test_cron_0230_runs_once_on_fall_back_day),
		cmocka_unit_test(test_hourly_cron_skips_the_repeated_hour_on_fall_back_day),
		cmocka_unit_test(test_hourly_cron_has_one_slot_at_the_gap_end_on_spring_forward_day),
		cmocka_unit_test(test_new_york_daily_cron_across_both_2026_changes),
		cmocka_unit_test(test_half_hour_shift_zone_follows_the_same_rules),
		cmocka_unit_test(test_cron_next_is_the_first_slot_by_brute_force),
		cmocka_unit_test(test_daily_cron_chained_over_years_fires_once_a_day),
		cmocka_unit_test(test_rare_slots_are_found_quickly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
