#include "rowcat/clock.h"

#include <stdbool.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t policy_now;

int64_t rc_clock_now(void)
{
	return (int64_t)time(NULL);
}

int64_t rc_clock_policy_now(void)
{
	return policy_now ? policy_now : rc_clock_now();
}

int64_t rc_clock_policy_given(void)
{
	return policy_now;
}

int64_t rc_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rc_clock_policy_set(int64_t unix_seconds)
{
	policy_now = unix_seconds;
}

void rc_time_format_iso(int64_t t, char buf[RC_ISO_TIME_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, RC_ISO_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Days from 1970-01-01 to the given civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

int rc_time_parse_iso(const char *text, int64_t *out, struct rc_error *err)
{
	int y, mo, d, h, mi, s, consumed = 0;
	int off_h = 0, off_m = 0, sign = 0;
	const char *rest;

	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
		   &consumed) != 6 || consumed != 19)
		goto bad;
	rest = text + consumed;
	if (strcmp(rest, "Z") == 0) {
		sign = 0;
	} else if ((rest[0] == '+' || rest[0] == '-') && strlen(rest) == 6 &&
		   sscanf(rest + 1, "%2d:%2d", &off_h, &off_m) == 2) {
		sign = rest[0] == '+' ? 1 : -1;
	} else {
		goto bad;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || s > 60 || off_h > 23 || off_m > 59)
		goto bad;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
	       sign * (off_h * 3600 + off_m * 60);
	return 0;
bad:
	return rc_error_usage(err,
		"'%s' is not an ISO-8601 time like 2026-11-24T10:00:00Z", text);
}
