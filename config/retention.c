/*
 * Retention: which of a policy's snapshots its keep: holds on to. The
 * snapshots are walked newest first once, and each bucket kind takes the
 * first snapshot it meets of each bucket it has not met before, until it
 * has its count of buckets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/policy.h"

static const char *const bucket_names[POLICY_BUCKET_KINDS] = {
	[POLICY_HOURLY] = "hourly",
	[POLICY_DAILY] = "daily",
	[POLICY_WEEKLY] = "weekly",
	[POLICY_MONTHLY] = "monthly",
	[POLICY_YEARLY] = "yearly",
};

const char *policy_bucket_name(enum policy_bucket kind)
{
	if ((unsigned int)kind >= POLICY_BUCKET_KINDS)
		return "unknown";
	return bucket_names[kind];
}

/*
 * Decimal digits, so that a key printed while debugging reads as its
 * bucket: 2026102502 is 02:00-02:59 on 2026-10-25. The offset takes no
 * part: the two 02:00s of a fall-back night are one hour of the wall clock,
 * and one bucket. Weeks are numbered in their ISO year, so that the days
 * of 2026-W53 that fall in January 2027 stay in it.
 */
static int64_t key_of(enum policy_bucket kind, const struct policy_civil *c)
{
	int64_t day = (int64_t)c->year * 10000 + c->month * 100 + c->day;

	switch (kind) {
	case POLICY_HOURLY:
		return day * 100 + c->hour;
	case POLICY_DAILY:
		return day;
	case POLICY_WEEKLY:
		return (int64_t)c->iso_year * 100 + c->iso_week;
	case POLICY_MONTHLY:
		return (int64_t)c->year * 100 + c->month;
	case POLICY_YEARLY:
		return c->year;
	default:
		return 0;
	}
}

int64_t policy_bucket_key(enum policy_bucket kind, int64_t t)
{
	struct policy_civil c;

	policy_civil_of(t, &c);
	return key_of(kind, &c);
}

/* A snapshot in the newest-first order retention walks. */
struct ranked {
	int64_t created_at, id;
	size_t index;               /* in the caller's array */
	struct policy_civil civil;
	/* of one kind's buckets at a time: */
	bool opens;                 /* first met of its bucket */
	size_t held_by;             /* the rank of its bucket's first met */
	int slot;                   /* its bucket's place among buckets */
};

static int newest_first(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->created_at != y->created_at)
		return x->created_at > y->created_at ? -1 : 1;
	if (x->id != y->id)
		return x->id > y->id ? -1 : 1;
	/* Only a caller's duplicate comes here; keep the result stable. */
	return (x->index > y->index) - (x->index < y->index);
}

/* A bucket key and the rank (position in the walk) of one snapshot. */
struct keyed {
	int64_t key;
	size_t rank;
};

static int by_key_then_rank(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->rank > y->rank) - (x->rank < y->rank);
}

/*
 * Marks the snapshots that open a bucket of kind in the walk: the first
 * met of their bucket. Sorting by key, rather than comparing with the
 * previous snapshot's key, is what keeps a bucket met again later in the
 * walk from counting twice: wall-clock hours repeat apart where a zone
 * falls back by more than an hour, or mid-hour.
 */
static void find_openers(enum policy_bucket kind, struct ranked *order,
			 size_t n, struct keyed *scratch)
{
	size_t opener = 0;
	int slots = 0;

	for (size_t r = 0; r < n; r++) {
		scratch[r].key = key_of(kind, &order[r].civil);
		scratch[r].rank = r;
		order[r].opens = false;
	}
	qsort(scratch, n, sizeof(*scratch), by_key_then_rank);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || scratch[i].key != scratch[i - 1].key) {
			opener = scratch[i].rank;
			order[opener].opens = true;
		}
		order[scratch[i].rank].held_by = opener;
	}
	/* a bucket's place is the order in which the walk opens it */
	for (size_t r = 0; r < n; r++)
		if (order[r].opens)
			order[r].slot = ++slots;
	for (size_t r = 0; r < n; r++)
		order[r].slot = order[order[r].held_by].slot;
}

/*
 * The rule, once: policy_retain and policy_retain_explain are this, with
 * why NULL or not.
 */
static int retain(const struct policy_keep *keep,
		  const struct policy_snapshot *snaps, size_t n, bool *keep_out,
		  struct policy_retention *why, struct rc_error *err)
{
	struct ranked *order = NULL;
	struct keyed *scratch = NULL;
	bool any_buckets = false;
	size_t latest;
	int rc = 0;

	/* Keeping all is also what a caller that ignores an error gets. */
	for (size_t i = 0; i < n; i++) {
		keep_out[i] = true;
		if (why)
			why[i] = (struct policy_retention){ .kept = true,
							    .all = true };
	}
	if (!keep->given || n == 0)
		return 0;
	for (int k = 0; k < POLICY_BUCKET_KINDS; k++)
		any_buckets |= keep->buckets[k] > 0;

	order = calloc(n, sizeof(*order));
	if (any_buckets)
		scratch = calloc(n, sizeof(*scratch));
	if (!order || (any_buckets && !scratch)) {
		rc = rc_error_set(err, -ENOMEM,
				  "retention over %zu snapshots: out of memory",
				  n);
		goto out;
	}
	/* The caller's array stays as it is: the walk is an index. */
	for (size_t i = 0; i < n; i++) {
		order[i].created_at = snaps[i].created_at;
		order[i].id = snaps[i].id;
		order[i].index = i;
		keep_out[i] = false;
		if (why)
			memset(&why[i], 0, sizeof(why[i]));
	}
	qsort(order, n, sizeof(*order), newest_first);

	latest = keep->latest > 0 ? (size_t)keep->latest : 0;
	for (size_t r = 0; r < n; r++) {
		if (why) {
			why[order[r].index].rank = (int)(r + 1);
			why[order[r].index].by_latest = r < latest;
		}
		if (r < latest)
			keep_out[order[r].index] = true;
	}
	if (!any_buckets)
		goto out;

	/* One localtime per snapshot, however many kinds are kept. */
	for (size_t r = 0; r < n; r++)
		policy_civil_of(order[r].created_at, &order[r].civil);
	for (int k = 0; k < POLICY_BUCKET_KINDS; k++) {
		int count = keep->buckets[k];

		if (count <= 0)
			continue;
		find_openers((enum policy_bucket)k, order, n, scratch);
		for (size_t r = 0; r < n; r++) {
			bool keeps = order[r].opens && order[r].slot <= count;

			if (keeps)
				keep_out[order[r].index] = true;
			if (why)
				why[order[r].index].bucket[k] =
					(struct policy_bucket_place){
					key_of((enum policy_bucket)k,
					       &order[r].civil),
					order[r].slot,
					order[order[r].held_by].index, keeps };
		}
	}
out:
	if (why && rc == 0)
		for (size_t i = 0; i < n; i++)
			why[i].kept = keep_out[i];
	free(scratch);
	free(order);
	return rc;
}

int policy_retain(const struct policy_keep *keep,
		  const struct policy_snapshot *snaps, size_t n, bool *keep_out,
		  struct rc_error *err)
{
	return retain(keep, snaps, n, keep_out, NULL, err);
}

int policy_retain_explain(const struct policy_keep *keep,
			  const struct policy_snapshot *snaps, size_t n,
			  bool *keep_out, struct policy_retention *why,
			  struct rc_error *err)
{
	return retain(keep, snaps, n, keep_out, why, err);
}

void policy_bucket_label(enum policy_bucket kind, int64_t t,
			 char buf[POLICY_BUCKET_LABEL_MAX])
{
	struct policy_civil c;

	policy_civil_of(t, &c);
	switch (kind) {
	case POLICY_HOURLY:
		snprintf(buf, POLICY_BUCKET_LABEL_MAX, "%04d-%02d-%02d %02dh",
			 c.year, c.month, c.day, c.hour);
		return;
	case POLICY_DAILY:
		snprintf(buf, POLICY_BUCKET_LABEL_MAX, "%04d-%02d-%02d",
			 c.year, c.month, c.day);
		return;
	case POLICY_WEEKLY:
		snprintf(buf, POLICY_BUCKET_LABEL_MAX, "%04d-W%02d", c.iso_year,
			 c.iso_week);
		return;
	case POLICY_MONTHLY:
		snprintf(buf, POLICY_BUCKET_LABEL_MAX, "%04d-%02d", c.year,
			 c.month);
		return;
	case POLICY_YEARLY:
		snprintf(buf, POLICY_BUCKET_LABEL_MAX, "%04d", c.year);
		return;
	default:
		snprintf(buf, POLICY_BUCKET_LABEL_MAX, "?");
	}
}
