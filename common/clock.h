/*
 * Time as rowcat records it: whole seconds since the Unix epoch, UTC.
 *
 * The clock can be replaced (policy runs simulate months with --now), so
 * every time that rowcat writes into the catalog comes from rc_clock_now.
 */
#ifndef ROWCAT_CLOCK_H
#define ROWCAT_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Length of "2026-11-24T10:00:00Z" plus its NUL. */
#define RC_ISO_TIME_MAX 21

/* The current time, or the time set by rc_clock_set (while it is nonzero). */
int64_t rc_clock_now(void);

/* Replaces the clock with a fixed time; 0 restores the system clock. */
void rc_clock_set(int64_t unix_seconds);

/* Milliseconds since the epoch by the real wall clock, which rc_clock_set
 * never replaces: for measuring how long something took. */
int64_t rc_wall_ms(void);

/* Writes t as ISO-8601 UTC ("2026-11-24T10:00:00Z") into buf. */
void rc_time_format_iso(int64_t t, char buf[RC_ISO_TIME_MAX]);

/*
 * Parses "YYYY-MM-DDTHH:MM:SSZ" (or with a +HH:MM / -HH:MM offset) into
 * Unix seconds. Returns 0 or a usage error.
 */
int rc_time_parse_iso(const char *text, int64_t *out, struct rc_error *err);

#endif
