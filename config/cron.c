/*
 * Cron expressions: crontab(5) text into bit sets, and the next slot of
 * one on the wall clock of the zone in use.
 *
 * The day rule follows Vixie cron and cronie, which decide it on a day
 * field's first character: one that starts with '*' ("*", "*\/2") is
 * unrestricted, and only when neither is does a day match on either field.
 * So "0 0 *\/2 * 5" is odd-numbered Fridays, as under cron, and
 * days_restricted means "did not start with '*'".
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "rowcat/policy.h"

/* How far policy_cron_next looks: 10 years and a few days, in days. */
#define HORIZON_DAYS 3660
/* The longest wait between matching days that parsing lets through. */
#define LONGEST_WAIT_DAYS 3650
/* The walk's longest stride. No zone changes its offset twice within a
 * day, so an offset equal at both ends means no change in between. */
#define STRIDE (24 * 3600)
#define DAYS_400Y 146097     /* the Gregorian calendar repeats after these */
#define ALL_DAYS 0xfffffffeU /* days 1-31 */
#define ALL_MINUTES ((1ULL << 60) - 1)
/* policy_cron_next keeps to years 1-9999, where nothing overflows. */
#define T_MIN (-62135596800LL)
#define T_MAX 253402300799LL
#define BLANKS " \t\n\r\f\v"

enum { F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW, FIELDS };

static const struct field {
	const char *name;
	int min, max;
	const char *names; /* three letters each, for min, min + 1, ... */
} fields[FIELDS] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12, "janfebmaraprmayjunjulaugsepoctnovdec" },
	{ "day-of-week", 0, 7, "sunmontuewedthufrisat" },
};

static const struct macro {
	const char *name, *fields;
} macros[] = {
	{ "@hourly", "0 * * * *" }, { "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" }, { "@weekly", "0 0 * * 0" },
	{ "@monthly", "0 0 1 * *" }, { "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
};

/* Where parsing stands, for messages: the expression, the field. */
struct parser {
	const char *text;
	const char *start, *end;
	int fi;
	struct rc_error *err;
};

static int refuse(const struct parser *ps, const char *fmt, ...)
	RC_PRINTF(2, 3);

static int refuse(const struct parser *ps, const char *fmt, ...)
{
	char why[RC_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return rc_error_usage(ps->err, "cron \"%s\": %s", ps->text, why);
}

static int unexpected(const struct parser *ps, const char *at)
{
	const char *name = fields[ps->fi].name;
	int len = (int)(ps->end - ps->start);

	if (at == ps->end)
		return refuse(ps, "%s field \"%.*s\" ends early", name, len,
			      ps->start);
	return refuse(ps, "unexpected '%c' in %s field \"%.*s\"", *at, name,
		      len, ps->start);
}

static bool at_digit(const struct parser *ps, const char *p)
{
	return p < ps->end && isdigit((unsigned char)*p);
}

/* A number, saturating so that a long one is still out of range. */
static int read_number(const struct parser *ps, const char **pos)
{
	int n = 0;

	for (; at_digit(ps, *pos); (*pos)++)
		n = n > 100000 ? n : n * 10 + (**pos - '0');
	return n;
}

static int read_value(const struct parser *ps, const char **pos, int *value)
{
	const struct field *f = &fields[ps->fi];
	const char *p = *pos, *q = p;
	size_t i, count = f->names ? strlen(f->names) / 3 : 0;

	if (at_digit(ps, q)) {
		*value = read_number(ps, &q);
		if (*value < f->min || *value > f->max)
			return refuse(ps, "%s %.*s is out of range %d-%d",
				      f->name, (int)(q - p), p, f->min, f->max);
	} else if (count && q < ps->end && isalpha((unsigned char)*q)) {
		while (q < ps->end && isalpha((unsigned char)*q))
			q++;
		for (i = 0; i < count; i++)
			if (q - p == 3 && !strncasecmp(f->names + 3 * i, p, 3))
				break;
		if (i == count)
			return refuse(ps, "%s '%.*s' is not a number or a name "
				      "(%.3s-%.3s)", f->name, (int)(q - p), p,
				      f->names, f->names + 3 * (count - 1));
		*value = f->min + (int)i;
	} else {
		return unexpected(ps, q);
	}
	*pos = q;
	return 0;
}

/* A field: a comma list of "*", "N" and "a-b", each maybe with "/step". */
static int parse_field(const struct parser *ps, uint64_t *bits)
{
	const struct field *f = &fields[ps->fi];
	const char *p = ps->start;
	int rc;

	for (*bits = 0;; p++) {
		const char *item = p, *digits;
		int lo = f->min, hi = f->max, step = 1;
		bool ranged = true;

		if (p == ps->end || *p == ',')
			return refuse(ps, "empty item in %s field \"%.*s\"",
				      f->name, (int)(ps->end - ps->start),
				      ps->start);
		if (*p == '*') {
			p++;
		} else {
			rc = read_value(ps, &p, &lo);
			if (rc < 0)
				return rc;
			hi = lo;
			ranged = p < ps->end && *p == '-';
			if (ranged) {
				p++;
				rc = read_value(ps, &p, &hi);
				if (rc < 0)
					return rc;
			}
			if (hi < lo)
				return refuse(ps, "%s range %.*s runs "
					      "backwards%s", f->name,
					      (int)(p - item), item,
					      ps->fi == F_DOW ? " (Sunday is 7 "
					      "at the end of a range)" : "");
		}
		if (p < ps->end && *p == '/') {
			digits = ++p;
			if (!at_digit(ps, p))
				return unexpected(ps, p);
			step = read_number(ps, &p);
			if (step < 1 || step > f->max)
				return refuse(ps, "%s step %.*s is out of "
					      "range 1-%d", f->name,
					      (int)(p - digits), digits,
					      f->max);
			if (!ranged) /* "N/n" runs to the end, as in cronie */
				hi = f->max;
		}
		for (int v = lo; v <= hi; v += step)
			*bits |= 1ULL << v;
		if (p == ps->end)
			break;
		if (*p != ',')
			return unexpected(ps, p);
	}
	if (ps->fi == F_DOW && (*bits & 0x80))
		*bits = (*bits & 0x7f) | 1; /* 7 is Sunday too */
	return 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* A day on the calendar, stepped through one at a time. */
struct date {
	int64_t year;
	int month, day, weekday;
};

static void next_day(struct date *dt)
{
	dt->weekday = (dt->weekday + 1) % 7;
	if (++dt->day <= days_in_month(dt->year, dt->month))
		return;
	dt->day = 1;
	if (++dt->month > 12)
		dt->month = 1, dt->year++;
}

static bool day_matches(const struct policy_cron *cron, const struct date *dt)
{
	bool dom = cron->days >> dt->day & 1;
	bool dow = cron->weekdays >> dt->weekday & 1;

	if (!(cron->months >> dt->month & 1))
		return false;
	if (cron->days_restricted && cron->weekdays_restricted)
		return dom || dow;
	return dom && dow;
}

/* Where a year's matching days lie: a year is one of 14 kinds (leap or
 * not, by the weekday of 1 January), and its days match alike. */
struct year_kind {
	int first, last;        /* day of the year (0-based); -1: none */
	int gap;                /* longest wait between two of its matches */
	int length;
};

static void year_kind_of(const struct policy_cron *cron, int64_t year,
			 int jan1_weekday, struct year_kind *k)
{
	struct date dt = { year, 1, 1, jan1_weekday };

	k->first = k->last = -1;
	k->gap = 0;
	k->length = days_in_month(year, 2) == 29 ? 366 : 365;
	for (int doy = 0; doy < k->length; doy++, next_day(&dt)) {
		if (!day_matches(cron, &dt))
			continue;
		if (k->first < 0)
			k->first = doy;
		else if (doy - k->last > k->gap)
			k->gap = doy - k->last;
		k->last = doy;
	}
}

/*
 * The longest run of days without a matching one, over the 400 years
 * after which the calendar repeats. Worth the pass only where a weekday
 * narrows days of the month: 1 January on a Sunday ("0 0 1 1 *\/7") comes
 * 11 years apart. Each of the 14 kinds of year is read once, then the 400
 * years are strung together from them: a policy file full of such
 * expressions must not cost seconds to check.
 */
static int64_t longest_wait(const struct policy_cron *cron)
{
	struct year_kind kinds[2][7];
	int64_t base = 0, first = -1, last = -1, gap = 0;
	int jan1 = 6; /* 1 January 2000 was a Saturday */

	for (int w = 0; w < 7; w++) {
		year_kind_of(cron, 2001, w, &kinds[0][w]); /* not leap */
		year_kind_of(cron, 2000, w, &kinds[1][w]); /* leap */
	}
	for (int64_t y = 2000; y < 2400; y++) {
		bool leap = days_in_month(y, 2) == 29;
		const struct year_kind *k = &kinds[leap][jan1];

		if (k->first >= 0) {
			if (first < 0)
				first = base + k->first;
			else if (base + k->first - last > gap)
				gap = base + k->first - last;
			if (k->gap > gap)
				gap = k->gap;
			last = base + k->last;
		}
		base += k->length;
		jan1 = (jan1 + k->length) % 7;
	}
	if (first < 0)
		return INT64_MAX;
	return gap > first + DAYS_400Y - last ? gap : first + DAYS_400Y - last;
}

/*
 * Refuses day fields that never (or hardly ever) meet: the AND rule needs
 * a day of the month that some month selected has, and with a weekday
 * set too, one that falls on it often enough.
 */
static int check_days_come(const struct parser *ps,
			   const struct policy_cron *cron)
{
	int lowest = 0;
	bool meet = false;

	if (cron->days_restricted && cron->weekdays_restricted)
		return 0; /* every month has every weekday */
	for (int d = 31; d >= 1; d--) {
		if (!(cron->days >> d & 1))
			continue;
		lowest = d;
		for (int m = 1; m <= 12; m++)
			meet |= (cron->months >> m & 1) &&
				d <= days_in_month(2000, m);
	}
	if (!meet)
		return refuse(ps, "day-of-month %d never comes in the months "
			      "given", lowest);
	/* On any weekday, 29 February is the rarest day: 8 years apart. */
	if ((cron->weekdays & 0x7f) != 0x7f && cron->days != ALL_DAYS &&
	    longest_wait(cron) > LONGEST_WAIT_DAYS)
		return refuse(ps, "its days come less than once in 10 years");
	return 0;
}

static int parse_macro(const struct parser *ps, const char *p,
		       struct policy_cron *out)
{
	size_t len = strcspn(p, BLANKS);

	if (p[len + strspn(p + len, BLANKS)])
		return refuse(ps, "a macro stands alone");
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strlen(macros[i].name) == len &&
		    !strncasecmp(macros[i].name, p, len))
			return policy_cron_parse(macros[i].fields, out,
						 ps->err);
	return refuse(ps, "unknown macro '%.*s' (there are @hourly, @daily, "
		      "@weekly, @monthly and @yearly)", (int)len, p);
}

int policy_cron_parse(const char *text, struct policy_cron *out,
		      struct rc_error *err)
{
	struct parser ps[FIELDS], whole = { .text = text, .err = err };
	uint64_t bits[FIELDS];
	struct policy_cron cron;
	const char *p = text;
	int n = 0, rc;

	p += strspn(p, BLANKS);
	if (*p == '@')
		return parse_macro(&whole, p, out);
	for (; *p; n++) {
		size_t len = strcspn(p, BLANKS);

		if (n < FIELDS)
			ps[n] = (struct parser){ text, p, p + len, n, err };
		p += len + strspn(p + len, BLANKS);
	}
	if (n != FIELDS)
		return refuse(&whole, "expected 5 fields (minute hour "
			      "day-of-month month day-of-week), found %d", n);
	for (int fi = 0; fi < FIELDS; fi++) {
		rc = parse_field(&ps[fi], &bits[fi]);
		if (rc < 0)
			return rc;
	}
	cron = (struct policy_cron){
		.minutes = bits[F_MINUTE],
		.hours = (uint32_t)bits[F_HOUR],
		.days = (uint32_t)bits[F_DOM],
		.months = (uint16_t)bits[F_MONTH],
		.weekdays = (uint8_t)bits[F_DOW],
		.days_restricted = *ps[F_DOM].start != '*',
		.weekdays_restricted = *ps[F_DOW].start != '*',
	};
	rc = check_days_come(&whole, &cron);
	if (rc < 0)
		return rc;
	*out = cron;
	return 0;
}

bool policy_cron_matches(const struct policy_cron *cron,
			 const struct policy_civil *c)
{
	struct date dt = { c->year, c->month, c->day, c->weekday };

	if (c->minute < 0 || c->minute > 59 || c->hour < 0 || c->hour > 23 ||
	    c->day < 1 || c->day > 31 || c->month < 1 || c->month > 12 ||
	    c->weekday < 0 || c->weekday > 6)
		return false;
	return (cron->minutes >> c->minute & 1) &&
	       (cron->hours >> c->hour & 1) && day_matches(cron, &dt);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/*
 * The first matching wall-clock minute after `wall` (local time, in
 * seconds counted as if it were UTC), as such seconds. False when none
 * comes within the horizon.
 */
static bool first_match_after(const struct policy_cron *cron, int64_t wall,
			      int64_t *slot)
{
	int64_t minute = floor_div(wall, 60) + 1;
	int64_t day = floor_div(minute, 1440);
	int from = (int)(minute - day * 1440);
	time_t midnight = (time_t)(day * 86400);
	struct date dt;
	struct tm tm;

	gmtime_r(&midnight, &tm);
	dt = (struct date){ tm.tm_year + 1900LL, tm.tm_mon + 1, tm.tm_mday,
			    tm.tm_wday };
	for (int i = 0; i <= HORIZON_DAYS; i++, day++, next_day(&dt)) {
		if (i > 0)
			from = 0;
		if (!day_matches(cron, &dt))
			continue;
		for (int h = from / 60; h < 24; h++) {
			int mi = h == from / 60 ? from % 60 : 0;
			uint64_t minutes = cron->minutes & ALL_MINUTES;

			minutes = minutes >> mi << mi;
			if (!(cron->hours >> h & 1) || !minutes)
				continue;
			while (!(minutes >> mi & 1))
				mi++;
			*slot = ((day * 24 + h) * 60 + mi) * 60;
			return true;
		}
	}
	return false;
}

static int64_t offset_at(int64_t t)
{
	struct policy_civil c;

	policy_civil_of(t, &c);
	return c.utc_offset;
}

/* The first moment in (lo, hi] whose offset is not off, given that lo's
 * offset is off and hi's is not. */
static int64_t change_in(int64_t lo, int64_t hi, int64_t off)
{
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (offset_at(mid) == off)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/*
 * A slot comes at the first moment the wall clock shows it or a later
 * time, so slots come in their order on the calendar, and the answer is
 * the moment of the first slot past the latest wall time shown by `after`.
 * That is after's own time, unless a fall-back within the last day put
 * the clock back from a later one. Then walk forward to that moment, at
 * most a day a stride, and to the exact moment of any change of offset on
 * the way: the clock runs on, or jumps at the change, and the slot comes
 * where it first reaches it.
 */
int policy_cron_next(const struct policy_cron *cron, int64_t after,
		     int64_t *next, struct rc_error *err)
{
	int64_t off, before, shown, slot, probe, off_probe, t = after;
	char text[POLICY_TIME_TEXT_MAX];

	if (after < T_MIN || after > T_MAX)
		return rc_error_set(err, -ERANGE, "cron: %lld is outside years "
				    "1-9999", (long long)after);
	off = offset_at(after);
	shown = after + off;
	before = offset_at(after - STRIDE);
	if (before != off) {
		int64_t change = change_in(after - STRIDE, after, before);

		if (change - 1 + before > shown)
			shown = change - 1 + before;
	}
	if (!first_match_after(cron, shown, &slot))
		goto out;
	for (int strides = 0; strides < 2 * HORIZON_DAYS + 100; strides++) {
		probe = slot - off < t + STRIDE ? slot - off : t + STRIDE;
		off_probe = offset_at(probe);
		if (off_probe != off) {
			probe = change_in(t, probe, off);
			off_probe = offset_at(probe);
		}
		if (probe + off_probe >= slot) {
			*next = probe;
			return 0;
		}
		t = probe;
		off = off_probe;
	}
out:
	policy_time_format(after, text);
	return rc_error_set(err, -ERANGE, "cron: no slot within 10 years "
			    "after %s", text);
}
