/*
 * Time as rowcat records it: whole seconds since the Unix epoch, UTC.
 *
 * Two clocks. The real clock says when something happened and decides
 * every destructive step (what --min-age and --trash-delay guard); nothing
 * replaces it. The policy clock decides what a policy would snapshot and
 * expire; `policy run --now` sets it to rehearse or simulate, and it is
 * recorded beside the real time, never instead of it.
 */
#ifndef ROWCAT_CLOCK_H
#define ROWCAT_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "rowcat/error.h"

/* Length of "2026-11-24T10:00:00Z" plus its NUL. */
#define RC_ISO_TIME_MAX 21

/* The real time: what the catalog records, and what gc is judged by. */
int64_t rc_clock_now(void);

/* The time a policy decides by: the one set by rc_clock_policy_set, else
 * the real time. */
int64_t rc_clock_policy_now(void);

/* The time set by rc_clock_policy_set, or 0 when the policy clock is the
 * real one. */
int64_t rc_clock_policy_given(void);

/* Sets the policy clock to a fixed time (--now); 0 makes it real again. */
void rc_clock_policy_set(int64_t unix_seconds);

/* Milliseconds since the epoch by the real wall clock: for measuring how
 * long something took. */
int64_t rc_wall_ms(void);

/* Writes t as ISO-8601 UTC ("2026-11-24T10:00:00Z") into buf. */
void rc_time_format_iso(int64_t t, char buf[RC_ISO_TIME_MAX]);

/*
 * Parses "YYYY-MM-DDTHH:MM:SSZ" (or with a +HH:MM / -HH:MM offset) into
 * Unix seconds. Returns 0 or a usage error.
 */
int rc_time_parse_iso(const char *text, int64_t *out, struct rc_error *err);

#endif
