/*
 * config: rowcat's policy file (YAML, through libyaml) and the arithmetic
 * of a policy: durations, cron expressions, the time zone its buckets and
 * slots follow, when a snapshot is due, and which snapshots retention keeps.
 *
 * Everything here is pure: no catalog, no cluster. The one piece of process
 * state is the time zone (policy_zone_use), which sets TZ for the whole
 * process, as the C library's local time needs; set it once, before any
 * thread starts.
 */
#ifndef ROWCAT_POLICY_H
#define ROWCAT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rowcat/error.h"
#include "rowcat/names.h"

/* ---- durations ---------------------------------------------------------- */

/* Longest text policy_duration_format writes, with its NUL. */
#define POLICY_DURATION_TEXT_MAX 48

/*
 * Parses a duration: one or more NUMBER UNIT groups, largest unit first,
 * each unit once: s (seconds), m (minutes), h (hours), d (days), w (weeks).
 * "30s", "1h", "1h30m", "7d"; a bare 0 (zero in any unit). Any other bare
 * number is refused (seconds or minutes? the reader cannot tell), as are
 * negative values, unknown units and durations over 100 years. Returns 0
 * with *seconds set, or a usage error naming the text.
 */
int policy_duration_parse(const char *text, int64_t *seconds,
			  struct rc_error *err);

/* Writes seconds in the shortest form policy_duration_parse reads back:
 * 5400 → "1h30m", 0 → "0s". */
void policy_duration_format(int64_t seconds,
			    char buf[POLICY_DURATION_TEXT_MAX]);

/* ---- the time zone ------------------------------------------------------ */

/* Longest IANA zone name accepted, with its NUL. */
#define POLICY_ZONE_MAX 128

/*
 * Makes name, "UTC" or an IANA zone installed under /usr/share/zoneinfo
 * ($TZDIR when set), the zone of policy_civil_of, policy_time_format, cron
 * slots and retention buckets, by setting TZ for the whole process; a
 * usage error naming the zone when it is not one. Not thread-safe: call
 * before starting threads.
 */
int policy_zone_use(const char *name, struct rc_error *err);

/* A moment as the wall clock of the zone in use shows it. */
struct policy_civil {
	int year, month, day;       /* month 1-12, day 1-31 */
	int hour, minute, second;
	int weekday;                /* 0 = Sunday ... 6 = Saturday */
	int iso_year, iso_week;     /* ISO 8601 week-numbering year, week */
	int64_t utc_offset;         /* seconds east of UTC */
};

/* t (Unix seconds) on the wall clock of the zone in use. Thread-safe. */
void policy_civil_of(int64_t t, struct policy_civil *out);

/* Length of "2026-11-25T11:00:00+01:00" plus its NUL. */
#define POLICY_TIME_TEXT_MAX 26

/* Writes t as ISO 8601 in the zone in use ("...Z" when the offset is 0). */
void policy_time_format(int64_t t, char buf[POLICY_TIME_TEXT_MAX]);

/* ---- cron expressions --------------------------------------------------- */

/*
 * A cron expression as crontab(5) writes it: five fields, minute (0-59),
 * hour (0-23), day of month (1-31), month (1-12 or jan-dec), day of week
 * (0-7 or sun-sat, 0 and 7 both Sunday); each field "*", a value, a range
 * "a-b", a step "*\/n", "a-b/n" or "a/n" (a to the end), or a comma list
 * of those. The macros @hourly, @daily (@midnight), @weekly, @monthly and
 * @yearly (@annually) stand for their five fields. As in Vixie cron, when both day fields are
 * restricted a day matches when either does.
 */
struct policy_cron {
	uint64_t minutes;           /* bit m: minute m */
	uint32_t hours;             /* bit h: hour h */
	uint32_t days;              /* bit d: day of month d (1-31) */
	uint16_t months;            /* bit m: month m (1-12) */
	uint8_t weekdays;           /* bit w: 0 = Sunday ... 6 = Saturday */
	/* As in Vixie cron, a day field that starts with '*' ("*", "*\/2")
	 * is unrestricted for the either-day rule. */
	bool days_restricted;
	bool weekdays_restricted;
};

/*
 * Parses a cron expression. Refuses, with a usage error naming the field,
 * values out of range, empty lists, steps of 0, ranges that run backwards,
 * other than five fields, and days that never come ("0 0 30 2 *") or come
 * less than once in 10 years ("0 0 1 1 *\/7" with its both-fields rule).
 */
int policy_cron_parse(const char *text, struct policy_cron *out,
		      struct rc_error *err);

/* Whether the wall-clock minute c matches the expression. */
bool policy_cron_matches(const struct policy_cron *cron,
			 const struct policy_civil *c);

/*
 * The first slot of cron after `after` (Unix seconds), in the zone in use.
 * A slot is a wall-clock minute the expression matches, and it comes at
 * the first moment the wall clock reaches it: a time that a spring-forward
 * change skips comes when the gap ends (so a 02:30 job still runs that
 * day, at 03:00), and a time that a fall-back change repeats comes once,
 * the first time. -ERANGE for `after` outside the years 1-9999, or when
 * no slot comes within 10 years (which cannot happen for an expression
 * policy_cron_parse accepted).
 */
int policy_cron_next(const struct policy_cron *cron, int64_t after,
		     int64_t *next, struct rc_error *err);

/* ---- the policy file ---------------------------------------------------- */

#define POLICY_FILE_MAX (1024 * 1024)   /* bytes */
#define POLICY_NESTING_MAX 64           /* levels of YAML collections */
#define POLICY_ALIAS_NODES_MAX 10000    /* nodes aliases may expand to */
#define POLICY_DEFAULT_MAX_DEPTH 8
#define POLICY_COUNT_MAX 100000         /* largest keep count */

/* Where something stood in the file: 1-based line and column. */
struct policy_mark {
	int line, column;
};

enum policy_bucket {
	POLICY_HOURLY,
	POLICY_DAILY,
	POLICY_WEEKLY,              /* ISO 8601 weeks, Monday first */
	POLICY_MONTHLY,
	POLICY_YEARLY,
	POLICY_BUCKET_KINDS,
};

/* The key names of the bucket kinds, as the file writes them: "hourly"... */
const char *policy_bucket_name(enum policy_bucket kind);

/* keep: in the file. Counts are 0 when not given. */
struct policy_keep {
	bool given;                 /* false: every snapshot is kept */
	int latest;
	int buckets[POLICY_BUCKET_KINDS];
};

struct policy_pattern {
	char *glob;                 /* on POOL[/NAMESPACE]/VOL */
	struct policy_mark mark;
};

#define POLICY_NAME_MAX 64              /* with its NUL */
#define POLICY_ORIGIN_MAX (POLICY_NAME_MAX + 7) /* "policy:NAME" */

struct policy {
	char name[POLICY_NAME_MAX];
	struct policy_pattern *patterns;
	size_t pattern_count;
	int64_t every;              /* seconds; 0 when the policy uses cron */
	struct policy_cron cron;
	char cron_text[128];        /* "" when the policy uses every */
	struct policy_keep keep;
	int max_depth;              /* its own, else defaults:, else 8 */
	struct policy_mark mark;
};

struct policy_file {
	int version;
	/* cluster: NULL / 0 where the file is silent */
	char *cluster_conf;
	char *cluster_id;
	int cluster_timeout;        /* seconds */
	char timezone[POLICY_ZONE_MAX]; /* "UTC" when the file is silent */
	struct policy *policies;    /* in file order: the first match wins */
	size_t policy_count;
	bool gc_given;              /* gc: present */
	int64_t gc_min_age;         /* seconds; defaults 1h and 24h */
	int64_t gc_trash_delay;
};

/* One problem found in a file: an error, or a warning that does not stop
 * the file from being used. */
struct policy_diagnostic {
	struct policy_mark at;
	bool warning;
	char message[256];
};

struct policy_diagnostics {
	struct policy_diagnostic *items; /* in the order found */
	size_t count, capacity;
	size_t errors;
};

/* Records a problem at `at`; messages past the 100th are dropped (the
 * count of errors still grows). Returns -ENOMEM or 0. */
int policy_diagnostics_add(struct policy_diagnostics *diags,
			   struct policy_mark at, bool warning,
			   const char *fmt, ...) RC_PRINTF(4, 5);

/* Prints each as "FILE:LINE:COLUMN: message" ("...: warning: ..."),
 * sorted by position. */
void policy_diagnostics_print(FILE *out, const char *file,
			      const struct policy_diagnostics *diags);

void policy_diagnostics_free(struct policy_diagnostics *diags);

/*
 * Parses and validates a policy file held in text (len bytes, not
 * necessarily NUL-terminated). Every problem found goes into diags, not
 * just the first: YAML syntax, unknown keys (with the nearest valid key
 * suggested), duplicate keys, wrong types, counts below 0, bad durations,
 * cron expressions and zones, two policies of one name, a policy with
 * both or neither of every and cron, aliases that would expand past
 * POLICY_ALIAS_NODES_MAX nodes, nesting deeper than POLICY_NESTING_MAX, and
 * text over POLICY_FILE_MAX bytes.
 *
 * Returns 0 with *out the caller's (free with policy_file_free) when diags
 * holds no errors; -EINVAL with *out NULL when it does; -ENOMEM.
 */
int policy_parse(struct policy_file **out, const char *text, size_t len,
		 struct policy_diagnostics *diags);

/*
 * Reads path (refusing more than POLICY_FILE_MAX bytes without reading
 * them) and parses it with policy_parse. A file that cannot be read is an
 * error in err (-ENOENT, ...); an invalid one is -EINVAL with diags.
 */
int policy_load(struct policy_file **out, const char *path,
		struct policy_diagnostics *diags, struct rc_error *err);

/* The version of the libyaml this process runs with
 * (yaml_get_version_string), such as "0.2.5"; static text. */
const char *policy_libyaml_version(void);

void policy_file_free(struct policy_file *file);

/*
 * The policy that manages the volume whose operating image lives in
 * pool/ns and whose name is volume: the first whose patterns match
 * "POOL/VOL" (ns "") or "POOL/NS/VOL", with fnmatch(3) and FNM_PATHNAME,
 * so that a * never crosses a '/': rbd/vm-* matches no volume of a
 * namespace. NULL when none does.
 */
const struct policy *policy_match(const struct policy_file *file,
				  const char *pool, const char *ns,
				  const char *volume);

/* The origin the catalog records on p's snapshots: "policy:NAME". A
 * policy only ever expires snapshots of its own origin. */
void policy_origin(const struct policy *p, char buf[POLICY_ORIGIN_MAX]);

/* Whether one pattern matches, as policy_match uses it. */
bool policy_pattern_matches(const char *glob, const char *pool,
			    const char *ns, const char *volume);

/* ---- when a snapshot is due --------------------------------------------- */

/*
 * The slack allowed on `every`: min(every / 10, 60 s). A timer that
 * fires every 5 minutes starts a little late or early each time; without
 * slack an hourly policy would slip to the next firing whenever its run
 * started a second early, and drift across the hour.
 */
int64_t policy_every_slack(int64_t every);

/*
 * When policy p's next snapshot of a volume falls due, given the time of
 * its last one (0: it has taken none, and one is due at once: *due = 0).
 * every: last + every. cron: the first slot after last.
 */
int policy_next_due(const struct policy *p, int64_t last, int64_t *due,
		    struct rc_error *err);

/*
 * Whether a snapshot is due at `now`: none taken yet, a cron slot reached,
 * or (every) now >= last + every - policy_every_slack(every).
 */
int policy_is_due(const struct policy *p, int64_t last, int64_t now,
		  bool *due, struct rc_error *err);

/* ---- retention ---------------------------------------------------------- */

/* The bucket t falls in, for kind, in the zone in use: a number that is
 * equal for two moments exactly when they share the bucket (the local
 * hour, day, ISO week, month or year). */
int64_t policy_bucket_key(enum policy_bucket kind, int64_t t);

/* One snapshot a policy took, as retention sees it. */
struct policy_snapshot {
	int64_t id;                 /* ties in time: the higher id is newer */
	int64_t created_at;
};

/*
 * Retention, the rule restic's forget --keep-* documents: latest N keeps
 * the N newest; for each bucket kind, N keeps the newest snapshot of each
 * of the N most recent buckets that hold one, recency being that of a
 * bucket's newest snapshot. The kept set is the union. (restic's code
 * differs in two corners: it counts a wall-clock hour that a fall-back
 * change repeats twice, and it keeps the oldest snapshot when a count is
 * not used up; rowcat follows the rule as written.) Sets keep_out[i] for
 * each of the n snapshots (any order; NULL arrays when n is 0). Counts of
 * 0 keep nothing of their kind; keep->given false keeps all. -ENOMEM,
 * with every keep_out[i] true, so a caller that goes on expires nothing.
 */
int policy_retain(const struct policy_keep *keep,
		  const struct policy_snapshot *snaps, size_t n, bool *keep_out,
		  struct rc_error *err);

/* What policy_retain_explain says of one snapshot, for each bucket kind
 * whose count is above 0 (the others are left 0). */
struct policy_bucket_place {
	int64_t key;                /* its bucket (policy_bucket_key) */
	int slot;                   /* its bucket's place among those that
				       hold a snapshot: 1 is the newest */
	size_t held_by;             /* index (in snaps) of the newest
				       snapshot of its bucket, which the
				       kind keeps if any of the bucket */
	bool keeps;                 /* this kind keeps it: it is held_by
				       and slot <= the kind's count */
};

/* Why retention keeps one snapshot, or lets it go. */
struct policy_retention {
	bool kept;                  /* the union of what each rule keeps */
	bool all;                   /* keep: not given: every one is kept */
	int rank;                   /* 1 is the newest snapshot weighed */
	bool by_latest;             /* rank <= keep->latest */
	struct policy_bucket_place bucket[POLICY_BUCKET_KINDS];
};

/*
 * policy_retain, and for each of the n snapshots why: which rule keeps it
 * (latest N, or the bucket slot of each kind that keeps it), or, for one
 * let go, where it stands under each rule (its rank past latest N; its
 * bucket held by a newer snapshot, or past the count of buckets).
 * policy_retain is this without why: one rule, one code. why[i] (n of
 * them, the caller's) is filled; keep_out as policy_retain's.
 */
int policy_retain_explain(const struct policy_keep *keep,
			  const struct policy_snapshot *snaps, size_t n,
			  bool *keep_out, struct policy_retention *why,
			  struct rc_error *err);

/* Longest text policy_bucket_label writes, with its NUL. */
#define POLICY_BUCKET_LABEL_MAX 32

/* The bucket of kind that t falls in, as an operator reads it, in the
 * zone in use: "2026-11-24 10h" (hourly), "2026-11-24", "2026-W48",
 * "2026-11", "2026". */
void policy_bucket_label(enum policy_bucket kind, int64_t t,
			 char buf[POLICY_BUCKET_LABEL_MAX]);

#endif
