/* Durations as policies and options write them: 30s, 1h30m, 7d, 2w. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rowcat/policy.h"

#define MAX_SECONDS (100LL * 366 * 86400)

static const struct unit {
	char letter;
	int64_t seconds;
} units[] = {
	{ 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};
#define UNIT_COUNT (sizeof(units) / sizeof(units[0]))

static int bad(struct rc_error *err, const char *text, const char *why)
{
	return rc_error_usage(err, "'%s' is not a duration (%s); write it like "
			      "30s, 15m, 1h30m, 7d or 2w", text, why);
}

int policy_duration_parse(const char *text, int64_t *seconds,
			  struct rc_error *err)
{
	const char *p = text;
	size_t next_unit = 0; /* units must come largest first, each once */
	int64_t total = 0;

	if (!*p)
		return bad(err, text, "it is empty");
	/* zero is zero in any unit: the one number that needs none */
	if (strspn(p, "0") == strlen(p)) {
		*seconds = 0;
		return 0;
	}
	while (*p) {
		int64_t n = 0;
		size_t u;

		if (*p < '0' || *p > '9')
			return bad(err, text, *p == '-' ? "it is negative"
					      : "a number must come first");
		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (*p++ - '0');
			if (n > MAX_SECONDS)
				return bad(err, text, "it is over 100 years");
		}
		if (!*p)
			return bad(err, text, "the last number has no unit");
		for (u = next_unit; u < UNIT_COUNT && units[u].letter != *p; u++) {
		}
		if (u == UNIT_COUNT)
			return bad(err, text, strchr("wdhms", *p)
				   ? "units go largest first, each once"
				   : "units are s, m, h, d and w");
		total += n * units[u].seconds;
		if (total > MAX_SECONDS)
			return bad(err, text, "it is over 100 years");
		next_unit = u + 1;
		p++;
	}
	*seconds = total;
	return 0;
}

void policy_duration_format(int64_t seconds, char buf[POLICY_DURATION_TEXT_MAX])
{
	size_t used = 0;

	buf[0] = '\0';
	if (seconds <= 0) {
		snprintf(buf, POLICY_DURATION_TEXT_MAX, "0s");
		return;
	}
	/* days, not weeks: "10d" reads more plainly than "1w3d" */
	for (size_t u = 1; u < UNIT_COUNT; u++) {
		int64_t n = seconds / units[u].seconds;
		if (n == 0)
			continue;
		seconds -= n * units[u].seconds;
		used += (size_t)snprintf(buf + used, POLICY_DURATION_TEXT_MAX - used,
					 "%lld%c", (long long)n, units[u].letter);
	}
}
