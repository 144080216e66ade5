/*
 * test_gc_plan's reference model of the gc planner (gc_plan_model.c):
 * what a plan of a catalog_gc_state must be, stated from catalog.h's
 * definitions and Ceph's ordering rules, never from the planner's code.
 * Also the failure report all of test_gc_plan uses, which names the seed
 * and the volume to replay.
 */
#ifndef ROWCAT_TEST_GC_PLAN_MODEL_H
#define ROWCAT_TEST_GC_PLAN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rowcat/catalog.h"

#define NONE SIZE_MAX

/* ---- failures that say how to replay them ------------------------------ */

/* Set by the property test (gc_plan_sim.c) while it runs: the seed to
 * print, and who prints the history of the volume at fault. */
extern uint64_t prop_seed;
extern bool prop_running;
extern int64_t prop_blamed;	/* the catalog id of the volume at fault */
extern void (*prop_dump)(int64_t volume_id);

/* Prints the message (with the seed while the property test runs) and
 * the blamed volume's history, then fails the cmocka test. */
void RC_PRINTF(3, 4) prop_fail(const char *file, int line,
			       const char *fmt, ...);

#define require(volume_id, cond, ...)                                  \
	do {                                                           \
		if (!(cond)) {                                         \
			prop_blamed = (volume_id);                     \
			prop_fail(__FILE__, __LINE__, __VA_ARGS__);    \
		}                                                      \
	} while (0)

/* A catalog call that must succeed; says why when it does not. */
#define ok(err, call)                                                  \
	do {                                                           \
		int rc_ = (call);                                      \
		if (rc_ != 0) {                                        \
			prop_blamed = 0;                               \
			prop_fail(__FILE__, __LINE__, "%s: %d, %s",    \
				  #call, rc_, (err)->message);         \
		}                                                      \
	} while (0)

/* ---- small helpers ----------------------------------------------------- */

/* calloc that fails the test instead of returning NULL; never NULL for
 * n == 0. */
void *xcalloc(size_t n, size_t size);

const char *action_name(enum catalog_gc_action action);

/* Rows (any catalog_gc_* array, whose first member is the id) indexed by
 * id: at[id] is the row, or NONE; *ids is one past the highest id. Ids
 * must ascend. The caller frees the array. */
size_t *by_id(const void *rows, size_t count, size_t size, size_t *ids,
	      const char *what);

/* The row of id in an array from by_id, or NONE. */
size_t find(const size_t *at, size_t ids, int64_t id);

/* A number in [0, n), from the splitmix64 stream in *x. */
int64_t rnd(uint64_t *x, int64_t n);

/* ---- the reference ----------------------------------------------------- */

enum {
	VERIFY_STEPWISE = 1,	/* re-plan after each step, in a random
				   order the deps allow */
	VERIFY_PART = 2,	/* re-plan after one random part */
};

/*
 * Everything a plan p of st at o must be: st a state Ceph could be in,
 * what catalog_gc_needed says of st the least fixpoint of catalog.h's
 * definitions of needed, each step safe and of the right reason, Ceph's ordering rules kept in
 * plan order and with only the steps each waits for done, `waiting` and
 * `next_purge_at` right, and the plan carried out (wholly, in part, or
 * step by step as `how` says, in an order drawn from rng) leaving exactly
 * the rest for a new plan. Fails the test at the first thing wrong.
 */
void verify_plan(const struct catalog_gc_state *st,
		 const struct catalog_gc_options *o,
		 const struct catalog_gc_plan *p, int how, uint64_t *rng);

#endif
