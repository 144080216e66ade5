/*
 * The time zone that buckets and cron slots follow. The C library's
 * localtime_r does the zone arithmetic (from the system's tzdata); this
 * file makes sure the zone named is one that really exists, since glibc
 * silently falls back to UTC for a name it cannot find.
 */
#define _DEFAULT_SOURCE /* tm_gmtoff */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "rowcat/policy.h"

static bool zone_name_chars_ok(const char *name)
{
	if (!name[0] || name[0] == '/' || strstr(name, ".."))
		return false;
	for (const char *p = name; *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || strchr("_+-/", *p);
		if (!ok)
			return false;
	}
	return true;
}

/* Whether path is a TZif file: its first four bytes say so. */
static bool is_tzif(const char *path)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	     memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}

int policy_zone_check(const char *name, struct rc_error *err)
{
	const char *dir = getenv("TZDIR");
	char path[4096];

	if (strcmp(name, "UTC") == 0)
		return 0;
	if (strlen(name) >= POLICY_ZONE_MAX || !zone_name_chars_ok(name))
		return rc_error_usage(err, "'%s' is not a time zone name; write "
				      "UTC or an IANA name like Europe/Berlin",
				      name);
	snprintf(path, sizeof(path), "%s/%s",
		 dir && dir[0] ? dir : "/usr/share/zoneinfo", name);
	if (!is_tzif(path))
		return rc_error_usage(err, "unknown time zone '%s' (no zone file "
				      "%s; is tzdata installed?)", name, path);
	return 0;
}

int policy_zone_use(const char *name, struct rc_error *err)
{
	int rc = policy_zone_check(name, err);

	if (rc < 0)
		return rc;
	if (setenv("TZ", strcmp(name, "UTC") == 0 ? "UTC0" : name, 1) != 0)
		return rc_error_set(err, -errno, "setting TZ: %s", strerror(errno));
	tzset();
	return 0;
}

/*
 * ISO 8601's week-numbering year and week (a week belongs to the year
 * that holds its Thursday), as strftime's %G and %V compute them from the
 * tm_year, tm_yday and tm_wday that localtime_r filled in.
 */
static void iso_week_of(const struct tm *tm, struct policy_civil *c)
{
	char text[32];

	if (strftime(text, sizeof(text), "%G %V", tm) == 0 ||
	    sscanf(text, "%d %d", &c->iso_year, &c->iso_week) != 2)
		c->iso_year = c->iso_week = 0;
}

void policy_civil_of(int64_t t, struct policy_civil *out)
{
	time_t tt = (time_t)t;
	struct tm tm;

	memset(out, 0, sizeof(*out));
	if (!localtime_r(&tt, &tm))
		return;
	out->year = tm.tm_year + 1900;
	out->month = tm.tm_mon + 1;
	out->day = tm.tm_mday;
	out->hour = tm.tm_hour;
	out->minute = tm.tm_min;
	out->second = tm.tm_sec;
	out->weekday = tm.tm_wday;
	out->utc_offset = tm.tm_gmtoff;
	iso_week_of(&tm, out);
}

void policy_time_format(int64_t t, char buf[POLICY_TIME_TEXT_MAX])
{
	struct policy_civil c;
	char text[96];
	int64_t off;
	size_t n;

	policy_civil_of(t, &c);
	off = c.utc_offset < 0 ? -c.utc_offset : c.utc_offset;
	if (c.utc_offset == 0)
		snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02dZ",
			 c.year % 10000, c.month, c.day, c.hour, c.minute,
			 c.second);
	else
		snprintf(text, sizeof(text),
			 "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
			 c.year % 10000, c.month, c.day, c.hour, c.minute,
			 c.second, c.utc_offset < 0 ? '-' : '+',
			 (int)(off / 3600) % 100, (int)(off % 3600 / 60));
	n = strlen(text);
	if (n >= POLICY_TIME_TEXT_MAX)
		n = POLICY_TIME_TEXT_MAX - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
}
