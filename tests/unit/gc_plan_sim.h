/*
 * test_gc_plan's simulator (gc_plan_sim.c): random volume histories, each
 * recorded in a struct m_volume and written to a catalog, with gc rounds
 * that carry plans out between operations; and the plain helpers that
 * carry out and look up plans, which the scenarios use too.
 */
#ifndef ROWCAT_TEST_GC_PLAN_SIM_H
#define ROWCAT_TEST_GC_PLAN_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "rowcat/catalog.h"
#include "testdir.h"

#define DAY 86400

/* ---- plans carried out and looked up ---------------------------------- */

void plan_done(struct catalog_gc_state *st, struct catalog_gc_plan *p);

/* The step of p doing `action` to image (and snapshot), or -1. */
long step_of(const struct catalog_gc_plan *p, enum catalog_gc_action action,
	     int64_t image, int64_t snapshot);

/* The plan catalog_gc_plan_catalog draws from cat's two cursors at o is
 * p, the plan of the rows catalog_gc_state_load read of every volume,
 * step for step, dep for dep, wait for wait: one planner, two sources,
 * which must hand it the same images, snapshots and parent links. */
void require_same_plan_from_cursors(struct catalog *cat,
				    const struct catalog_gc_options *o,
				    const struct catalog_gc_plan *p);

/* Every step of p, in order, through catalog_gc_state_apply. */
void apply_all(struct catalog_gc_state *st, const struct catalog_gc_plan *p,
	       const struct catalog_gc_options *o);

/* ---- 10,000 random lineages ------------------------------------------- */

#define VOLUMES 10000
#define LIVE 200	/* volumes driven through catalog calls throughout */
#define BATCH 500	/* the others, written this many per transaction */
#define MAX_OPS 12
#define GEN_END (1767225600 + 400 * DAY)

struct m_image {
	int64_t id;		/* in the catalog, once written */
	int parent;		/* the snapshot it was cloned from, or -1 */
	int seq;		/* creation order among the volume's rows */
	int64_t created_at, flattened_at, trashed_at, trash_until, purged_at;
};

struct m_snap {
	int64_t id;
	int image;
	int seq;
	bool pinned, pre_restore;
	int64_t created_at, marked_at, removed_at;
};

struct m_volume {
	int64_t id;
	bool live;
	int operating, nimages, nsnaps, nseq;
	int64_t marked_at;
	struct m_image img[MAX_OPS + 1];	/* each op makes one at most */
	struct m_snap snap[MAX_OPS];
};

struct sim {
	struct testdir dir;
	char path[512];
	struct catalog *cat;
	struct rc_error err;
	uint64_t seed, rng;
	int first, end;		/* the volumes in play */
	int cur;		/* the volume being simulated, or -1 */
	bool trace;
	struct m_volume *vols;
};

/* cmocka setup and teardown of a struct sim: a fresh catalog, the seed
 * and volumes from GC_PROPERTY_SEED / _VOLUME / _TRACE, and failures
 * reported with the seed and the history of the volume at fault. */
int setup_sim(void **state);
int teardown_sim(void **state);

/* Volume vi's history, from its own seed; a LIVE volume's straight
 * through the catalog, the others only in s->vols. */
void simulate(struct sim *s, int vi);

/* A volume simulated off the catalog: its rows (inside the caller's
 * transaction), then, for all of them at once, its flags. */
void write_volume(struct sim *s, int vi);
void write_flags(struct sim *s);

/* The catalog (st, loaded whole) holds exactly what the histories say. */
void compare_with_model(struct sim *s, const struct catalog_gc_state *st);

/* A plan of v alone holds the steps `all` (a plan of every volume at o)
 * holds for it. */
void compare_one_volume(struct sim *s, const struct m_volume *v,
			const struct catalog_gc_options *o,
			const struct catalog_gc_plan *all);

#endif
