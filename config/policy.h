/*
 * config: rowcat's policy file (YAML, through libyaml) and the values it
 * is written in. So far: durations, as the policy file and the gc options
 * write them.
 */
#ifndef ROWCAT_POLICY_H
#define ROWCAT_POLICY_H

#include <stdint.h>

#include "error.h"

/* Longest text policy_duration_format writes, with its NUL. */
#define POLICY_DURATION_TEXT_MAX 48

/*
 * Parses a duration: one or more NUMBER UNIT groups, largest unit first,
 * each unit once: s (seconds), m (minutes), h (hours), d (days), w (weeks).
 * "30s", "1h", "1h30m", "7d". A bare number is refused (seconds or
 * minutes? the reader cannot tell), as are negative values, unknown units
 * and durations over 100 years. Returns 0 with *seconds set, or a usage
 * error naming the text.
 */
int policy_duration_parse(const char *text, int64_t *seconds,
			  struct rc_error *err);

/* Writes seconds in the shortest form policy_duration_parse reads back:
 * 5400 → "1h30m", 0 → "0s". */
void policy_duration_format(int64_t seconds,
			    char buf[POLICY_DURATION_TEXT_MAX]);

#endif
