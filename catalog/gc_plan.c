/*
 * The gc planner: catalog state in, an ordered list of steps out. Pure:
 * no SQL, no cluster, no clock but opts->now, so that it can be tested on
 * thousands of random trees and re-run inside the transaction that
 * journals each step.
 *
 * Two passes. The first finds what is needed, walking up from what needs
 * no reason (operating images, pinned or unmarked snapshots, images that
 * are not the plan's to judge) through every parent link an image still
 * reads through. The second goes leaf first
 * (clones have higher ids than their parents, so descending id order
 * visits every clone before the image it was cloned from) and decides,
 * with what the clones below will do in this same plan, which steps Ceph
 * will accept now.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/catalog.h" /* no SQL here */
#include "rowcat/sys/by_id.h"
#include "rowcat/sys/grow.h"

#define NONE RC_NOT_FOUND

/* Indexes built over the state: who is whose, by array position. */
struct graph {
	const struct catalog_gc_state *st;
	size_t *image_volume;   /* per image: its volume, or NONE */
	size_t *image_parent;   /* per image: its parent snapshot if it reads
				   through it (not flattened), or NONE */
	size_t *snap_image;     /* per snapshot: its image, or NONE */
	/* the snapshots of each image, and the clones reading each snapshot,
	 * as counting-sorted runs: items[first[k] .. first[k + 1]) */
	size_t *snaps_first, *snaps;
	size_t *clones_first, *clones;
};

/* Per-item verdicts. */
struct marks {
	bool *image_needed, *snap_needed;
	bool *will_trash, *will_remove, *will_purge;
	size_t *trash_step, *remove_step, *purge_step;
};

/* Groups `count` items under `owners` keys: first[k]..first[k+1] indexes
 * into items for key k. key[i] NONE leaves item i out. */
static int group(const size_t *key, size_t count, size_t owners,
		 size_t **first_out, size_t **items_out)
{
	size_t *first = calloc(owners + 1, sizeof(*first));
	size_t *items = malloc((count + 1) * sizeof(*items));
	size_t *fill = calloc(owners + 1, sizeof(*fill));

	if (!first || !items || !fill) {
		free(first);
		free(items);
		free(fill);
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++)
		if (key[i] != NONE)
			first[key[i] + 1]++;
	for (size_t k = 0; k < owners; k++)
		first[k + 1] += first[k];
	for (size_t i = 0; i < count; i++)
		if (key[i] != NONE)
			items[first[key[i]] + fill[key[i]]++] = i;
	free(fill);
	*first_out = first;
	*items_out = items;
	return 0;
}

static void graph_free(struct graph *g)
{
	free(g->image_volume);
	free(g->image_parent);
	free(g->snap_image);
	free(g->snaps_first);
	free(g->snaps);
	free(g->clones_first);
	free(g->clones);
}

static int graph_build(struct graph *g, const struct catalog_gc_state *st,
		       struct rc_error *err)
{
	size_t ni = st->image_count, ns = st->snapshot_count;

	memset(g, 0, sizeof(*g));
	g->st = st;
	if (!rc_sorted_by_id(st->volumes, st->volume_count, sizeof(*st->volumes)) ||
	    !rc_sorted_by_id(st->images, ni, sizeof(*st->images)) ||
	    !rc_sorted_by_id(st->snapshots, ns, sizeof(*st->snapshots)))
		return rc_error_set(err, -EINVAL, "gc state is not sorted by id");
	g->image_volume = malloc((ni + 1) * sizeof(size_t));
	g->image_parent = malloc((ni + 1) * sizeof(size_t));
	g->snap_image = malloc((ns + 1) * sizeof(size_t));
	if (!g->image_volume || !g->image_parent || !g->snap_image)
		return rc_error_set(err, -ENOMEM, "out of memory planning gc");
	for (size_t s = 0; s < ns; s++)
		g->snap_image[s] = rc_find_by_id(st->images, ni, sizeof(*st->images),
					      st->snapshots[s].image_id);
	for (size_t i = 0; i < ni; i++) {
		const struct catalog_gc_image *img = &st->images[i];
		size_t parent = NONE;

		g->image_volume[i] = rc_find_by_id(st->volumes, st->volume_count,
						sizeof(*st->volumes),
						img->volume_id);
		if (img->parent_snapshot_id && !img->flattened)
			parent = rc_find_by_id(st->snapshots, ns,
					    sizeof(*st->snapshots),
					    img->parent_snapshot_id);
		if (parent != NONE && g->snap_image[parent] != NONE &&
		    st->images[g->snap_image[parent]].id >= img->id)
			return rc_error_set(err, -EINVAL,
				"image %lld is older than its parent",
				(long long)img->id);
		g->image_parent[i] = parent;
	}
	if (group(g->snap_image, ns, ni, &g->snaps_first, &g->snaps) < 0 ||
	    group(g->image_parent, ni, ns, &g->clones_first, &g->clones) < 0)
		return rc_error_set(err, -ENOMEM, "out of memory planning gc");
	return 0;
}

static bool volume_marked(const struct graph *g, size_t image)
{
	size_t v = image == NONE ? NONE : g->image_volume[image];
	return v != NONE && g->st->volumes[v].marked_at != 0;
}

/*
 * An image of no volume the state holds: a foreign ancestor (no volume's
 * own, volume_id 0), or, in the state of one volume, another volume's
 * image cloned from one of its snapshots or that it reads through. The
 * plan never acts on it nor on its snapshots. Whoever judges it (nobody,
 * or its own volume's plan), it stands for something that still reads
 * until it is in the trash: needed, unless there, and then only when a
 * needed image reads through it.
 */
static bool outside(const struct graph *g, size_t image)
{
	return g->image_volume[image] == NONE;
}

/* Pass one: what is needed. */
static void find_needed(const struct graph *g, struct marks *m, size_t *stack)
{
	const struct catalog_gc_state *st = g->st;
	size_t top = 0;

	/* The stack holds images whose parent link is still to be followed. */
	for (size_t v = 0; v < st->volume_count; v++) {
		size_t op = rc_find_by_id(st->images, st->image_count,
				       sizeof(*st->images),
				       st->volumes[v].operating_image_id);
		if (!st->volumes[v].marked_at && op != NONE &&
		    !m->image_needed[op]) {
			m->image_needed[op] = true;
			stack[top++] = op;
		}
	}
	for (size_t i = 0; i < st->image_count; i++) {
		if (outside(g, i) && !st->images[i].trashed &&
		    !st->images[i].purged && !m->image_needed[i]) {
			m->image_needed[i] = true;
			stack[top++] = i;
		}
	}
	for (size_t s = 0; s < st->snapshot_count; s++) {
		const struct catalog_gc_snapshot *snap = &st->snapshots[s];
		size_t owner = g->snap_image[s];

		if (snap->removed || owner == NONE || outside(g, owner))
			continue;
		if (snap->pinned ||
		    (!snap->marked_at && !volume_marked(g, owner))) {
			m->snap_needed[s] = true;
			if (!m->image_needed[owner]) {
				m->image_needed[owner] = true;
				stack[top++] = owner;
			}
		}
	}
	while (top > 0) {
		size_t i = stack[--top], parent = g->image_parent[i], owner;

		if (parent == NONE || m->snap_needed[parent])
			continue;
		m->snap_needed[parent] = true;
		owner = g->snap_image[parent];
		if (owner != NONE && !m->image_needed[owner]) {
			m->image_needed[owner] = true;
			stack[top++] = owner;
		}
	}
}

static bool old_enough(int64_t created_at, const struct catalog_gc_options *o)
{
	return created_at <= o->now - o->min_age;
}

/* Whether image i is out of the trash for good by the end of this plan. */
static bool gone(const struct catalog_gc_state *st, const struct marks *m,
		 size_t i)
{
	return st->images[i].purged || m->will_purge[i];
}

/* The first clone of snapshot s still in the lineage: with `purged`, not
 * gone for good; without, not in the trash. 0 when none. */
static int64_t clone_left(const struct graph *g, const struct marks *m,
			  size_t s, bool purged)
{
	const struct catalog_gc_state *st = g->st;

	for (size_t k = g->clones_first[s]; k < g->clones_first[s + 1]; k++) {
		size_t c = g->clones[k];
		bool out = purged ? gone(st, m, c)
				  : st->images[c].trashed || m->will_trash[c] ||
				    st->images[c].purged;
		if (!out)
			return st->images[c].id;
	}
	return 0;
}

/* Whether every clone reading snapshot s has left the lineage (catalog
 * ids start at 1). */
static bool clones_out(const struct graph *g, const struct marks *m, size_t s,
		       bool purged)
{
	return clone_left(g, m, s, purged) == 0;
}

/* Pass two, for one image: which of its steps Ceph accepts now. */
static void decide_image(const struct graph *g, struct marks *m, size_t i,
			 const struct catalog_gc_options *o)
{
	const struct catalog_gc_state *st = g->st;
	const struct catalog_gc_image *img = &st->images[i];
	bool garbage = !m->image_needed[i] && !img->purged;
	bool in_trash, expired, all_removed = true;

	if (outside(g, i))
		return;
	if (garbage && !img->trashed) {
		/* young snapshots travel with their image: wait for them too */
		bool ready = old_enough(img->created_at, o);
		for (size_t k = g->snaps_first[i];
		     ready && k < g->snaps_first[i + 1]; k++) {
			size_t s = g->snaps[k];
			ready = clones_out(g, m, s, false) &&
				(st->snapshots[s].removed ||
				 old_enough(st->snapshots[s].created_at, o));
		}
		m->will_trash[i] = ready;
	}
	in_trash = img->trashed || m->will_trash[i];
	expired = in_trash && (img->trashed ? img->trash_until
					    : o->now + o->trash_delay) <= o->now;
	for (size_t k = g->snaps_first[i]; k < g->snaps_first[i + 1]; k++) {
		size_t s = g->snaps[k];
		const struct catalog_gc_snapshot *snap = &st->snapshots[s];

		if (snap->removed || img->purged)
			continue;
		if (!m->snap_needed[s] && old_enough(snap->created_at, o) &&
		    (!in_trash || expired) && clones_out(g, m, s, true))
			m->will_remove[s] = true;
		all_removed = all_removed && m->will_remove[s];
	}
	m->will_purge[i] = garbage && in_trash && expired && all_removed;
}

/* Adds a waiting item to the plan; false when out of memory. */
static bool add_wait(struct catalog_gc_plan *out, size_t *cap,
		     struct catalog_gc_wait w)
{
	if (rc_grow((void **)&out->waits, cap, out->waiting + 1,
		    sizeof(*out->waits), 16) < 0)
		return false;
	out->waits[out->waiting++] = w;
	return true;
}

/* Why image i, garbage the plan does not purge, waits: the tests of
 * decide_image, in its order. */
static void image_wait(const struct graph *g, const struct marks *m, size_t i,
		       const struct catalog_gc_options *o,
		       struct catalog_gc_wait *w)
{
	const struct catalog_gc_state *st = g->st;
	const struct catalog_gc_image *img = &st->images[i];

	if (img->trashed) {
		w->why = img->trash_until > o->now ? CATALOG_GC_WAIT_TRASH_DELAY
						   : CATALOG_GC_WAIT_SNAPSHOTS;
		w->until = w->why == CATALOG_GC_WAIT_TRASH_DELAY
			   ? img->trash_until : 0;
		return;
	}
	if (m->will_trash[i]) {
		w->why = o->trash_delay > 0 ? CATALOG_GC_WAIT_TRASHED_NOW
					    : CATALOG_GC_WAIT_SNAPSHOTS;
		w->until = o->trash_delay > 0 ? o->now + o->trash_delay : 0;
		return;
	}
	if (!old_enough(img->created_at, o)) {
		w->why = CATALOG_GC_WAIT_YOUNG;
		w->until = img->created_at + o->min_age;
		return;
	}
	for (size_t k = g->snaps_first[i]; k < g->snaps_first[i + 1]; k++) {
		size_t s = g->snaps[k];
		int64_t clone = clone_left(g, m, s, false);

		if (clone) {
			w->why = CATALOG_GC_WAIT_CLONE;
			w->on_image_id = clone;
			return;
		}
		if (!st->snapshots[s].removed &&
		    !old_enough(st->snapshots[s].created_at, o)) {
			w->why = CATALOG_GC_WAIT_YOUNG_SNAPSHOT;
			w->until = st->snapshots[s].created_at + o->min_age;
			w->on_snapshot_id = st->snapshots[s].id;
			return;
		}
	}
	w->why = CATALOG_GC_WAIT_SNAPSHOTS; /* not reached: it would go */
}

/* Why snapshot s of image i, garbage the plan does not remove, waits. */
static void snapshot_wait(const struct graph *g, const struct marks *m,
			  size_t i, size_t s,
			  const struct catalog_gc_options *o,
			  struct catalog_gc_wait *w)
{
	const struct catalog_gc_state *st = g->st;
	const struct catalog_gc_image *img = &st->images[i];
	int64_t until = img->trashed ? img->trash_until
		      : m->will_trash[i] ? o->now + o->trash_delay : 0;

	if (!old_enough(st->snapshots[s].created_at, o)) {
		w->why = CATALOG_GC_WAIT_YOUNG;
		w->until = st->snapshots[s].created_at + o->min_age;
	} else if ((img->trashed || m->will_trash[i]) && until > o->now) {
		w->why = img->trashed ? CATALOG_GC_WAIT_TRASH_DELAY
				      : CATALOG_GC_WAIT_TRASHED_NOW;
		w->until = until;
	} else {
		w->why = CATALOG_GC_WAIT_CLONE;
		w->on_image_id = clone_left(g, m, s, true);
	}
}

/* What this plan leaves waiting: garbage it does not finish with, each
 * with why, and when the first trash delay of an image in the trash will
 * be over. False when out of memory. */
static bool count_waiting(const struct graph *g, const struct marks *m,
			  size_t i, const struct catalog_gc_options *o,
			  struct catalog_gc_plan *out, size_t *cap)
{
	const struct catalog_gc_state *st = g->st;
	const struct catalog_gc_image *img = &st->images[i];
	struct catalog_gc_wait w;

	if (outside(g, i))
		return true; /* not this plan's garbage */
	for (size_t k = g->snaps_first[i]; k < g->snaps_first[i + 1]; k++) {
		size_t s = g->snaps[k];

		if (st->snapshots[s].removed || img->purged ||
		    m->snap_needed[s] || m->will_remove[s])
			continue;
		w = (struct catalog_gc_wait){ .volume_id = img->volume_id,
			.image_id = img->id, .snapshot_id = st->snapshots[s].id };
		snapshot_wait(g, m, i, s, o, &w);
		if (!add_wait(out, cap, w))
			return false;
	}
	if (m->image_needed[i] || img->purged || m->will_purge[i])
		return true;
	w = (struct catalog_gc_wait){ .volume_id = img->volume_id,
				      .image_id = img->id };
	image_wait(g, m, i, o, &w);
	/* an image this plan moves has a delay only once the move is done:
	 * "next trash delay ends" speaks of what is in the trash now */
	if (img->trashed && img->trash_until > o->now &&
	    (!out->next_purge_at || img->trash_until < out->next_purge_at))
		out->next_purge_at = img->trash_until;
	return add_wait(out, cap, w);
}

/* ---- emitting the steps ------------------------------------------------ */

struct emitter {
	struct catalog_gc_plan *plan;
	size_t cap, dep_cap, dep_count;
	int rc;
};

static size_t emit(struct emitter *e, enum catalog_gc_action action,
		   enum catalog_gc_reason reason, int64_t volume_id,
		   int64_t image_id, int64_t snapshot_id)
{
	struct catalog_gc_plan *p = e->plan;
	struct catalog_gc_step *steps;

	if (e->rc < 0)
		return NONE;
	if (rc_grow((void **)&p->steps, &e->cap, p->count + 1,
		    sizeof(*p->steps), 16) < 0) {
		e->rc = -ENOMEM;
		return NONE;
	}
	steps = p->steps;
	steps[p->count] = (struct catalog_gc_step){
		action, reason, volume_id, image_id, snapshot_id, e->dep_count, 0,
	};
	return p->count++;
}

/* Makes the newest step wait for step `on` (NONE: nothing to wait for). */
static void depend(struct emitter *e, size_t on)
{
	struct catalog_gc_plan *p = e->plan;

	if (on == NONE || e->rc < 0)
		return;
	if (rc_grow((void **)&p->deps, &e->dep_cap, e->dep_count + 1,
		    sizeof(*p->deps), 16) < 0) {
		e->rc = -ENOMEM;
		return;
	}
	p->deps[e->dep_count++] = on;
	p->steps[p->count - 1].dep_count++;
}

static enum catalog_gc_reason snapshot_reason(const struct graph *g, size_t s)
{
	return volume_marked(g, g->snap_image[s]) ? CATALOG_GC_VOLUME_REMOVED
						  : CATALOG_GC_MARKED;
}

/* The steps of image i, in the order Ceph needs them. */
static void emit_image(struct emitter *e, const struct graph *g,
		       struct marks *m, size_t i)
{
	const struct catalog_gc_image *img = &g->st->images[i];
	size_t first = g->snaps_first[i], end = g->snaps_first[i + 1];

	if (m->will_trash[i]) {
		m->trash_step[i] = emit(e, CATALOG_GC_TRASH,
			volume_marked(g, i) ? CATALOG_GC_VOLUME_REMOVED
					    : CATALOG_GC_UNNEEDED,
			img->volume_id, img->id, 0);
		for (size_t k = first; k < end; k++)
			for (size_t c = g->clones_first[g->snaps[k]];
			     c < g->clones_first[g->snaps[k] + 1]; c++)
				depend(e, m->trash_step[g->clones[c]]);
	}
	for (size_t k = first; k < end; k++) {
		size_t s = g->snaps[k];

		if (!m->will_remove[s])
			continue;
		m->remove_step[s] = emit(e, CATALOG_GC_REMOVE_SNAPSHOT,
					 snapshot_reason(g, s), img->volume_id,
					 img->id, g->st->snapshots[s].id);
		depend(e, m->trash_step[i]);
		for (size_t c = g->clones_first[s]; c < g->clones_first[s + 1]; c++)
			depend(e, m->purge_step[g->clones[c]]);
	}
	if (m->will_purge[i]) {
		m->purge_step[i] = emit(e, CATALOG_GC_PURGE,
					CATALOG_GC_TRASH_EXPIRED,
					img->volume_id, img->id, 0);
		depend(e, m->trash_step[i]);
		for (size_t k = first; k < end; k++)
			depend(e, m->remove_step[g->snaps[k]]);
	}
}

static void marks_free(struct marks *m)
{
	free(m->image_needed);
	free(m->snap_needed);
	free(m->will_trash);
	free(m->will_remove);
	free(m->will_purge);
	free(m->trash_step);
	free(m->remove_step);
	free(m->purge_step);
}

static int marks_init(struct marks *m, size_t ni, size_t ns)
{
	memset(m, 0, sizeof(*m));
	m->image_needed = calloc(ni + 1, sizeof(bool));
	m->snap_needed = calloc(ns + 1, sizeof(bool));
	m->will_trash = calloc(ni + 1, sizeof(bool));
	m->will_purge = calloc(ni + 1, sizeof(bool));
	m->will_remove = calloc(ns + 1, sizeof(bool));
	m->trash_step = malloc((ni + 1) * sizeof(size_t));
	m->purge_step = malloc((ni + 1) * sizeof(size_t));
	m->remove_step = malloc((ns + 1) * sizeof(size_t));
	if (!m->image_needed || !m->snap_needed || !m->will_trash ||
	    !m->will_purge || !m->will_remove || !m->trash_step ||
	    !m->purge_step || !m->remove_step)
		return -ENOMEM;
	for (size_t i = 0; i < ni; i++)
		m->trash_step[i] = m->purge_step[i] = NONE;
	for (size_t s = 0; s < ns; s++)
		m->remove_step[s] = NONE;
	return 0;
}

/*
 * The graph of state and what in it is needed (find_needed), the start of
 * a plan and of catalog_gc_needed alike. g and m are the caller's to free
 * (graph_free, marks_free), whatever the result.
 */
static int mark_needed(const struct catalog_gc_state *state, struct graph *g,
		       struct marks *m, struct rc_error *err)
{
	size_t *stack = NULL;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = graph_build(g, state, err);
	if (rc < 0)
		goto out;
	stack = malloc((state->image_count + 1) * sizeof(*stack));
	if (marks_init(m, state->image_count, state->snapshot_count) < 0 ||
	    !stack) {
		rc = rc_error_set(err, -ENOMEM, "out of memory planning gc");
		goto out;
	}
	find_needed(g, m, stack);
out:
	free(stack);
	return rc;
}

int catalog_gc_plan(const struct catalog_gc_state *state,
		    const struct catalog_gc_options *opts,
		    struct catalog_gc_plan *out, struct rc_error *err)
{
	struct emitter e = { out, 0, 0, 0, 0 };
	size_t ni = state->image_count, wait_cap = 0;
	struct graph g;
	struct marks m;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = mark_needed(state, &g, &m, err);
	if (rc < 0)
		goto out;
	for (size_t i = ni; i-- > 0;) {
		decide_image(&g, &m, i, opts);
		emit_image(&e, &g, &m, i);
		if (!count_waiting(&g, &m, i, opts, out, &wait_cap))
			e.rc = -ENOMEM;
	}
	if (e.rc < 0)
		rc = rc_error_set(err, e.rc, "out of memory planning gc");
out:
	marks_free(&m);
	graph_free(&g);
	if (rc < 0)
		catalog_gc_plan_free(out);
	return rc;
}

int catalog_gc_needed(const struct catalog_gc_state *state, bool *image_needed,
		      bool *snap_needed, struct rc_error *err)
{
	struct graph g;
	struct marks m;
	int rc;

	rc = mark_needed(state, &g, &m, err);
	if (rc < 0)
		goto out;
	memcpy(image_needed, m.image_needed, state->image_count * sizeof(bool));
	memcpy(snap_needed, m.snap_needed, state->snapshot_count * sizeof(bool));
out:
	marks_free(&m);
	graph_free(&g);
	return rc;
}

/* ---- the streamed plan ------------------------------------------------- */

/*
 * catalog_gc_plan_stream: the two passes above fused into one, newest
 * image first. An image is needed when a needed clone reads through one of
 * its snapshots, and a clone's id is above its parent's, so by the time an
 * image comes, every clone of its snapshots has been judged: what the
 * clone left for it (a clone_rec) waits in a heap ordered by the image it
 * is for, and is taken off when that image comes. The rules, the order of
 * the steps, of their deps and of the waits are those of the passes above;
 * the unit tests compare the two plans on random catalogs.
 */

/* What a judged clone leaves for the image its parent snapshot is of. */
struct clone_rec {
	int64_t owner, snap, clone; /* owner: the parent snapshot's image */
	size_t trash_step, purge_step;
	bool needed;
	bool trash_out;             /* in the trash or purged, by the plan */
	bool gone;                  /* purged, by the plan */
};

static bool rec_above(const struct clone_rec *a, const struct clone_rec *b)
{
	if (a->owner != b->owner)
		return a->owner > b->owner;
	if (a->snap != b->snap)
		return a->snap > b->snap;
	return a->clone > b->clone;
}

/* One image's snapshots and what the planner makes of them. */
struct stream_snap {
	bool needed, will_remove;
	size_t remove_step;
	size_t first_clone, end_clone; /* its clones: stream.clones[first..end) */
};

struct stream {
	const struct catalog_gc_volume *volumes;
	size_t volume_count;
	int64_t *operating;         /* operating images of volumes not marked,
				       sorted */
	size_t operating_count;
	struct clone_rec *heap;     /* a max-heap by rec_above */
	size_t heap_count, heap_cap;
	struct clone_rec *clones;   /* the current image's, ascending */
	size_t clone_count, clone_cap;
	struct stream_snap *snaps;
	size_t snap_cap;
};

static int heap_push(struct stream *st, struct clone_rec r)
{
	size_t i;

	if (rc_grow((void **)&st->heap, &st->heap_cap, st->heap_count + 1,
		    sizeof(*st->heap), 64) < 0)
		return -ENOMEM;
	i = st->heap_count++;
	while (i > 0 && rec_above(&r, &st->heap[(i - 1) / 2])) {
		st->heap[i] = st->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	st->heap[i] = r;
	return 0;
}

static struct clone_rec heap_pop(struct stream *st)
{
	struct clone_rec top = st->heap[0], last = st->heap[--st->heap_count];
	size_t i = 0, n = st->heap_count;

	if (n == 0)
		return top;
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && rec_above(&st->heap[c + 1], &st->heap[c]))
			c++;
		if (!rec_above(&st->heap[c], &last))
			break;
		st->heap[i] = st->heap[c];
		i = c;
	}
	st->heap[i] = last;
	return top;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The records of image `id`'s snapshots, ascending, each snapshot's run
 * in snaps[]; records for snapshots that are not among them are dropped,
 * like the links the passes above find no snapshot for. */
static int take_clones(struct stream *st, const struct catalog_gc_image_rows *r)
{
	size_t n = 0, k = 0, w = 0;

	while (st->heap_count > 0 && st->heap[0].owner >= r->image.id) {
		struct clone_rec rec = heap_pop(st);

		if (rec.owner != r->image.id)
			continue; /* its image never came: not in the catalog */
		if (rc_grow((void **)&st->clones, &st->clone_cap, n + 1,
			    sizeof(*st->clones), 16) < 0)
			return -ENOMEM;
		st->clones[n++] = rec;
	}
	for (size_t a = 0, b = n; a + 1 < b; a++, b--) {
		struct clone_rec t = st->clones[a];

		st->clones[a] = st->clones[b - 1];
		st->clones[b - 1] = t;
	}
	if (rc_grow((void **)&st->snaps, &st->snap_cap, r->snapshot_count + 1,
		    sizeof(*st->snaps), 16) < 0)
		return -ENOMEM;
	for (size_t s = 0; s < r->snapshot_count; s++) {
		int64_t id = r->snapshots[s].id;

		while (k < n && st->clones[k].snap < id)
			k++;
		st->snaps[s] = (struct stream_snap){ .remove_step = NONE,
						     .first_clone = w };
		while (k < n && st->clones[k].snap == id)
			st->clones[w++] = st->clones[k++];
		st->snaps[s].end_clone = w;
	}
	st->clone_count = w;
	return 0;
}

/* clone_left, on the current image's records. */
static int64_t stream_clone_left(const struct stream *st,
				 const struct stream_snap *ss, bool purged)
{
	for (size_t k = ss->first_clone; k < ss->end_clone; k++)
		if (!(purged ? st->clones[k].gone : st->clones[k].trash_out))
			return st->clones[k].clone;
	return 0;
}

/* The verdicts on one image (decide_image's, with find_needed's for it). */
struct stream_image {
	bool outside, volume_marked, needed;
	bool will_trash, will_purge;
	size_t trash_step, purge_step;
};

static void stream_decide(struct stream *st, const struct catalog_gc_image_rows *r,
			  struct stream_image *v,
			  const struct catalog_gc_options *o)
{
	const struct catalog_gc_image *img = &r->image;
	size_t vi = rc_find_by_id(st->volumes, st->volume_count,
				  sizeof(*st->volumes), img->volume_id);
	bool garbage, in_trash, expired, all_removed = true;

	*v = (struct stream_image){ .trash_step = NONE, .purge_step = NONE };
	v->outside = vi == NONE;
	v->volume_marked = !v->outside && st->volumes[vi].marked_at != 0;
	v->needed = (v->outside && !img->trashed && !img->purged) ||
		    bsearch(&img->id, st->operating, st->operating_count,
			    sizeof(*st->operating), cmp_id) != NULL;
	for (size_t s = 0; s < r->snapshot_count; s++) {
		const struct catalog_gc_snapshot *snap = &r->snapshots[s];
		struct stream_snap *ss = &st->snaps[s];

		ss->needed = !snap->removed && !v->outside &&
			     (snap->pinned ||
			      (!snap->marked_at && !v->volume_marked));
		for (size_t k = ss->first_clone; k < ss->end_clone; k++)
			ss->needed = ss->needed || st->clones[k].needed;
		v->needed = v->needed || ss->needed;
	}
	if (v->outside)
		return;
	garbage = !v->needed && !img->purged;
	if (garbage && !img->trashed) {
		bool ready = old_enough(img->created_at, o);

		for (size_t s = 0; ready && s < r->snapshot_count; s++)
			ready = !stream_clone_left(st, &st->snaps[s], false) &&
				(r->snapshots[s].removed ||
				 old_enough(r->snapshots[s].created_at, o));
		v->will_trash = ready;
	}
	in_trash = img->trashed || v->will_trash;
	expired = in_trash && (img->trashed ? img->trash_until
					    : o->now + o->trash_delay) <= o->now;
	for (size_t s = 0; s < r->snapshot_count; s++) {
		const struct catalog_gc_snapshot *snap = &r->snapshots[s];
		struct stream_snap *ss = &st->snaps[s];

		if (snap->removed || img->purged)
			continue;
		ss->will_remove = !ss->needed && old_enough(snap->created_at, o) &&
				  (!in_trash || expired) &&
				  !stream_clone_left(st, ss, true);
		all_removed = all_removed && ss->will_remove;
	}
	v->will_purge = garbage && in_trash && expired && all_removed;
}

/* emit_image's steps, in its order. */
static void stream_emit(struct emitter *e, struct stream *st,
			const struct catalog_gc_image_rows *r,
			struct stream_image *v)
{
	const struct catalog_gc_image *img = &r->image;
	size_t ns = r->snapshot_count;

	if (v->will_trash) {
		v->trash_step = emit(e, CATALOG_GC_TRASH,
			v->volume_marked ? CATALOG_GC_VOLUME_REMOVED
					 : CATALOG_GC_UNNEEDED,
			img->volume_id, img->id, 0);
		for (size_t k = 0; k < st->clone_count; k++)
			depend(e, st->clones[k].trash_step);
	}
	for (size_t s = 0; s < ns; s++) {
		struct stream_snap *ss = &st->snaps[s];

		if (!ss->will_remove)
			continue;
		ss->remove_step = emit(e, CATALOG_GC_REMOVE_SNAPSHOT,
			v->volume_marked ? CATALOG_GC_VOLUME_REMOVED
					 : CATALOG_GC_MARKED,
			img->volume_id, img->id, r->snapshots[s].id);
		depend(e, v->trash_step);
		for (size_t k = ss->first_clone; k < ss->end_clone; k++)
			depend(e, st->clones[k].purge_step);
	}
	if (v->will_purge) {
		v->purge_step = emit(e, CATALOG_GC_PURGE,
				     CATALOG_GC_TRASH_EXPIRED, img->volume_id,
				     img->id, 0);
		depend(e, v->trash_step);
		for (size_t s = 0; s < ns; s++)
			depend(e, st->snaps[s].remove_step);
	}
}

/* count_waiting's waits (with snapshot_wait's and image_wait's reasons). */
static bool stream_waits(const struct stream *st,
			 const struct catalog_gc_image_rows *r,
			 const struct stream_image *v,
			 const struct catalog_gc_options *o,
			 struct catalog_gc_plan *out, size_t *cap)
{
	const struct catalog_gc_image *img = &r->image;
	bool moving = img->trashed || v->will_trash;
	int64_t until = img->trashed ? img->trash_until
		      : v->will_trash ? o->now + o->trash_delay : 0;
	struct catalog_gc_wait w;

	if (v->outside)
		return true;
	for (size_t s = 0; s < r->snapshot_count; s++) {
		const struct catalog_gc_snapshot *snap = &r->snapshots[s];
		const struct stream_snap *ss = &st->snaps[s];

		if (snap->removed || img->purged || ss->needed || ss->will_remove)
			continue;
		w = (struct catalog_gc_wait){ .volume_id = img->volume_id,
			.image_id = img->id, .snapshot_id = snap->id };
		if (!old_enough(snap->created_at, o)) {
			w.why = CATALOG_GC_WAIT_YOUNG;
			w.until = snap->created_at + o->min_age;
		} else if (moving && until > o->now) {
			w.why = img->trashed ? CATALOG_GC_WAIT_TRASH_DELAY
					     : CATALOG_GC_WAIT_TRASHED_NOW;
			w.until = until;
		} else {
			w.why = CATALOG_GC_WAIT_CLONE;
			w.on_image_id = stream_clone_left(st, ss, true);
		}
		if (!add_wait(out, cap, w))
			return false;
	}
	if (v->needed || img->purged || v->will_purge)
		return true;
	w = (struct catalog_gc_wait){ .volume_id = img->volume_id,
				      .image_id = img->id };
	if (img->trashed) {
		w.why = img->trash_until > o->now ? CATALOG_GC_WAIT_TRASH_DELAY
						  : CATALOG_GC_WAIT_SNAPSHOTS;
		w.until = w.why == CATALOG_GC_WAIT_TRASH_DELAY ? img->trash_until
							       : 0;
	} else if (v->will_trash) {
		w.why = o->trash_delay > 0 ? CATALOG_GC_WAIT_TRASHED_NOW
					   : CATALOG_GC_WAIT_SNAPSHOTS;
		w.until = o->trash_delay > 0 ? o->now + o->trash_delay : 0;
	} else if (!old_enough(img->created_at, o)) {
		w.why = CATALOG_GC_WAIT_YOUNG;
		w.until = img->created_at + o->min_age;
	} else {
		w.why = CATALOG_GC_WAIT_SNAPSHOTS; /* not reached: it would go */
		for (size_t s = 0; s < r->snapshot_count; s++) {
			const struct catalog_gc_snapshot *snap = &r->snapshots[s];
			int64_t clone = stream_clone_left(st, &st->snaps[s], false);

			if (clone) {
				w.why = CATALOG_GC_WAIT_CLONE;
				w.on_image_id = clone;
				break;
			}
			if (!snap->removed && !old_enough(snap->created_at, o)) {
				w.why = CATALOG_GC_WAIT_YOUNG_SNAPSHOT;
				w.until = snap->created_at + o->min_age;
				w.on_snapshot_id = snap->id;
				break;
			}
		}
	}
	if (img->trashed && img->trash_until > o->now &&
	    (!out->next_purge_at || img->trash_until < out->next_purge_at))
		out->next_purge_at = img->trash_until;
	return add_wait(out, cap, w);
}

static void stream_free(struct stream *st)
{
	free(st->operating);
	free(st->heap);
	free(st->clones);
	free(st->snaps);
}

int catalog_gc_plan_stream(const struct catalog_gc_volume *volumes,
			   size_t volume_count, catalog_gc_next_image next,
			   void *ctx, const struct catalog_gc_options *opts,
			   struct catalog_gc_plan *out, struct rc_error *err)
{
	struct emitter e = { out, 0, 0, 0, 0 };
	struct stream st = { .volumes = volumes, .volume_count = volume_count };
	struct catalog_gc_image_rows r;
	struct stream_image v;
	int64_t last_id = 0;
	size_t wait_cap = 0;
	int rc = 0, more;

	memset(out, 0, sizeof(*out));
	if (!rc_sorted_by_id(volumes, volume_count, sizeof(*volumes)))
		return rc_error_set(err, -EINVAL, "gc state is not sorted by id");
	st.operating = malloc((volume_count + 1) * sizeof(*st.operating));
	if (!st.operating) {
		rc = rc_error_set(err, -ENOMEM, "out of memory planning gc");
		goto out;
	}
	for (size_t i = 0; i < volume_count; i++)
		if (!volumes[i].marked_at)
			st.operating[st.operating_count++] =
				volumes[i].operating_image_id;
	qsort(st.operating, st.operating_count, sizeof(*st.operating), cmp_id);
	while ((more = next(ctx, &r, err)) > 0) {
		const struct catalog_gc_image *img = &r.image;

		if (last_id && img->id >= last_id) {
			rc = rc_error_set(err, -EINVAL,
					  "gc state is not sorted by id");
			goto out;
		}
		last_id = img->id;
		if (img->parent_snapshot_id && !img->flattened &&
		    r.parent_image_id >= img->id) {
			rc = rc_error_set(err, -EINVAL,
				"image %lld is older than its parent",
				(long long)img->id);
			goto out;
		}
		if (take_clones(&st, &r) < 0) {
			rc = rc_error_set(err, -ENOMEM, "out of memory planning gc");
			goto out;
		}
		stream_decide(&st, &r, &v, opts);
		stream_emit(&e, &st, &r, &v);
		if (!stream_waits(&st, &r, &v, opts, out, &wait_cap))
			e.rc = -ENOMEM;
		if (e.rc == 0 && img->parent_snapshot_id && !img->flattened &&
		    r.parent_image_id) {
			struct clone_rec rec = {
				.owner = r.parent_image_id,
				.snap = img->parent_snapshot_id,
				.clone = img->id,
				.trash_step = v.trash_step,
				.purge_step = v.purge_step,
				.needed = v.needed,
				.trash_out = img->trashed || v.will_trash ||
					     img->purged,
				.gone = img->purged || v.will_purge,
			};
			e.rc = heap_push(&st, rec);
		}
		if (e.rc < 0) {
			rc = rc_error_set(err, e.rc, "out of memory planning gc");
			goto out;
		}
	}
	if (more < 0)
		rc = more;
out:
	stream_free(&st);
	if (rc < 0)
		catalog_gc_plan_free(out);
	return rc;
}

int catalog_gc_plan_append(struct catalog_gc_plan *into,
			   const struct catalog_gc_plan *from,
			   struct rc_error *err)
{
	size_t deps_into = 0, deps_from = 0, step_cap, dep_cap, wait_cap;

	for (size_t i = 0; i < into->count; i++)
		deps_into += into->steps[i].dep_count;
	for (size_t i = 0; i < from->count; i++)
		deps_from += from->steps[i].dep_count;
	/* the arrays' capacities are not kept: grow from their sizes */
	step_cap = into->count;
	dep_cap = deps_into;
	if (rc_grow((void **)&into->steps, &step_cap,
		    into->count + from->count + 1, sizeof(*into->steps), 16) < 0 ||
	    rc_grow((void **)&into->deps, &dep_cap,
		    deps_into + deps_from + 1, sizeof(*into->deps), 16) < 0)
		return rc_error_set(err, -ENOMEM, "out of memory planning gc");
	for (size_t d = 0; d < deps_from; d++)
		into->deps[deps_into + d] = from->deps[d] + into->count;
	for (size_t i = 0; i < from->count; i++) {
		into->steps[into->count + i] = from->steps[i];
		into->steps[into->count + i].first_dep += deps_into;
	}
	wait_cap = into->waiting;
	if (from->waiting &&
	    rc_grow((void **)&into->waits, &wait_cap,
		    into->waiting + from->waiting, sizeof(*into->waits), 16) < 0)
		return rc_error_set(err, -ENOMEM, "out of memory planning gc");
	if (from->waiting)
		memcpy(into->waits + into->waiting, from->waits,
		       from->waiting * sizeof(*from->waits));
	into->count += from->count;
	into->waiting += from->waiting;
	if (from->next_purge_at && (!into->next_purge_at ||
				    from->next_purge_at < into->next_purge_at))
		into->next_purge_at = from->next_purge_at;
	return 0;
}

void catalog_gc_plan_free(struct catalog_gc_plan *plan)
{
	free(plan->steps);
	free(plan->deps);
	free(plan->waits);
	memset(plan, 0, sizeof(*plan));
}

void catalog_gc_state_apply(struct catalog_gc_state *state,
			    const struct catalog_gc_step *step,
			    const struct catalog_gc_options *opts)
{
	size_t i = rc_find_by_id(state->images, state->image_count,
			      sizeof(*state->images), step->image_id);
	size_t s = rc_find_by_id(state->snapshots, state->snapshot_count,
			      sizeof(*state->snapshots), step->snapshot_id);

	switch (step->action) {
	case CATALOG_GC_TRASH:
		if (i != NONE) {
			state->images[i].trashed = true;
			state->images[i].trash_until = opts->now + opts->trash_delay;
		}
		break;
	case CATALOG_GC_REMOVE_SNAPSHOT:
		if (s != NONE)
			state->snapshots[s].removed = true;
		break;
	case CATALOG_GC_PURGE:
		if (i != NONE)
			state->images[i].purged = true;
		break;
	}
}

const char *catalog_gc_reason_text(enum catalog_gc_reason reason)
{
	switch (reason) {
	case CATALOG_GC_VOLUME_REMOVED:
		return "volume removed";
	case CATALOG_GC_MARKED:
		return "marked for collection";
	case CATALOG_GC_UNNEEDED:
		return "nothing needs it";
	case CATALOG_GC_TRASH_EXPIRED:
		return "trash delay over";
	}
	return "?";
}
