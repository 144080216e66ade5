/*
 * The gc planner: catalog state in, an ordered list of steps out. Pure:
 * no SQL, no cluster, no clock but opts->now, so that it can be tested on
 * thousands of random trees and re-run inside the transaction that
 * journals each step.
 *
 * One pass, newest image first, each image with its snapshots. An image
 * is needed when a needed clone reads through one of its snapshots, and a
 * clone's id is above its parent's, so by the time an image comes, every
 * clone of its snapshots has been judged, and what the plan will do with
 * it (trash it, purge it) is known: what the clone left for its parent
 * (a clone_rec) waits in a heap ordered by the image it is for, and is
 * taken off when that image comes. Leaf first is then also the order of
 * the steps: a step only ever waits for steps emitted before it.
 *
 * The pass holds only those records, the volumes and the plan, never the
 * rows, so that a million images plan in little memory; it is fed by a
 * source that hands out the images. There are two, and every rule lives
 * here, once: catalog_gc_plan walks a catalog_gc_state in memory (the
 * state source below), catalog_gc_plan_catalog (gc_rows.c) reads two
 * cursors over the catalog.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/sys/by_id.h"
#include "rowcat/sys/grow.h"
#include "internal.h" /* catalog_gc_plan_stream; no SQL here all the same */

#define NONE RC_NOT_FOUND

static bool old_enough(int64_t created_at, const struct catalog_gc_options *o)
{
	return created_at <= o->now - o->min_age;
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

/* One of the current image's snapshots, and what the plan makes of it. */
struct snap_verdict {
	bool needed, will_remove;
	size_t remove_step;
	size_t first_clone, end_clone; /* its clones: planner.clones[first..end) */
};

/* What the pass holds between images. */
struct planner {
	const struct catalog_gc_volume *volumes;
	size_t volume_count;
	int64_t *operating;         /* operating images of volumes not marked,
				       sorted */
	size_t operating_count;
	struct clone_rec *heap;     /* a max-heap by rec_above */
	size_t heap_count, heap_cap;
	struct clone_rec *clones;   /* the current image's, ascending */
	size_t clone_count, clone_cap;
	struct snap_verdict *snaps; /* the current image's, as its rows */
	size_t snap_cap;
};

static int heap_push(struct planner *st, struct clone_rec r)
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

static struct clone_rec heap_pop(struct planner *st)
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

/* The records left for image r's snapshots, ascending, each snapshot's
 * run in snaps[]; records for snapshots that are not among them, or for
 * images that never came, are dropped: a link to a row the source does
 * not hold decides nothing. */
static int take_clones(struct planner *st, const struct catalog_gc_image_rows *r)
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
		st->snaps[s] = (struct snap_verdict){ .remove_step = NONE,
						     .first_clone = w };
		while (k < n && st->clones[k].snap == id)
			st->clones[w++] = st->clones[k++];
		st->snaps[s].end_clone = w;
	}
	st->clone_count = w;
	return 0;
}

/* The first clone of snapshot ss still in the lineage: with `purged`, not
 * gone for good; without, not in the trash. 0 when none (catalog ids
 * start at 1). */
static int64_t clone_left(const struct planner *st,
			  const struct snap_verdict *ss, bool purged)
{
	for (size_t k = ss->first_clone; k < ss->end_clone; k++)
		if (!(purged ? st->clones[k].gone : st->clones[k].trash_out))
			return st->clones[k].clone;
	return 0;
}

/* What the plan makes of one image. outside: of no volume the source
 * holds (a foreign ancestor, volume_id 0; in the state of one volume,
 * another volume's image): the plan never acts on it nor on its
 * snapshots, and it stands for something that still reads until it is in
 * the trash. */
struct image_verdict {
	bool outside, volume_marked, needed;
	bool will_trash, will_purge;
	size_t trash_step, purge_step;
};

/* Judges image r with what its clones left: what is needed (catalog.h's
 * rules), then which of its steps Ceph accepts now. */
static void judge_image(struct planner *st,
			const struct catalog_gc_image_rows *r,
			struct image_verdict *v,
			const struct catalog_gc_options *o)
{
	const struct catalog_gc_image *img = &r->image;
	size_t vi = rc_find_by_id(st->volumes, st->volume_count,
				  sizeof(*st->volumes), img->volume_id);
	bool garbage, in_trash, expired, all_removed = true;

	*v = (struct image_verdict){ .trash_step = NONE, .purge_step = NONE };
	v->outside = vi == NONE;
	v->volume_marked = !v->outside && st->volumes[vi].marked_at != 0;
	v->needed = (v->outside && !img->trashed && !img->purged) ||
		    bsearch(&img->id, st->operating, st->operating_count,
			    sizeof(*st->operating), cmp_id) != NULL;
	for (size_t s = 0; s < r->snapshot_count; s++) {
		const struct catalog_gc_snapshot *snap = &r->snapshots[s];
		struct snap_verdict *ss = &st->snaps[s];

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
		/* young snapshots travel with their image: wait for them too */
		bool ready = old_enough(img->created_at, o);

		for (size_t s = 0; ready && s < r->snapshot_count; s++)
			ready = !clone_left(st, &st->snaps[s], false) &&
				(r->snapshots[s].removed ||
				 old_enough(r->snapshots[s].created_at, o));
		v->will_trash = ready;
	}
	in_trash = img->trashed || v->will_trash;
	expired = in_trash && (img->trashed ? img->trash_until
					    : o->now + o->trash_delay) <= o->now;
	for (size_t s = 0; s < r->snapshot_count; s++) {
		const struct catalog_gc_snapshot *snap = &r->snapshots[s];
		struct snap_verdict *ss = &st->snaps[s];

		if (snap->removed || img->purged)
			continue;
		ss->will_remove = !ss->needed && old_enough(snap->created_at, o) &&
				  (!in_trash || expired) &&
				  !clone_left(st, ss, true);
		all_removed = all_removed && ss->will_remove;
	}
	v->will_purge = garbage && in_trash && expired && all_removed;
}

/* The steps of image r, in the order Ceph needs them. */
static void emit_image(struct emitter *e, struct planner *st,
		       const struct catalog_gc_image_rows *r,
		       struct image_verdict *v)
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
		struct snap_verdict *ss = &st->snaps[s];

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

/* What the plan leaves waiting of image r: its garbage snapshots it does
 * not remove, then the image if garbage it does not purge, each with why
 * (judge_image's tests, in its order); and when the first trash delay of
 * an image in the trash will be over. False when out of memory. */
static bool add_waits(const struct planner *st,
		      const struct catalog_gc_image_rows *r,
		      const struct image_verdict *v,
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
		const struct snap_verdict *ss = &st->snaps[s];

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
			w.on_image_id = clone_left(st, ss, true);
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
			int64_t clone = clone_left(st, &st->snaps[s], false);

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
	/* an image this plan moves has a delay only once the move is done:
	 * "next trash delay ends" speaks of what is in the trash now */
	if (img->trashed && img->trash_until > o->now &&
	    (!out->next_purge_at || img->trash_until < out->next_purge_at))
		out->next_purge_at = img->trash_until;
	return add_wait(out, cap, w);
}

static void planner_free(struct planner *st)
{
	free(st->operating);
	free(st->heap);
	free(st->clones);
	free(st->snaps);
}

/* Called, when set, with each image judged: what the plan made of it and
 * of its snapshots (snaps[k] for rows->snapshots[k]). */
typedef void (*judged_fn)(void *ctx, const struct catalog_gc_image_rows *rows,
			  const struct image_verdict *v,
			  const struct snap_verdict *snaps);

/* The pass: catalog_gc_plan_stream, telling `judged` (ctx) of each image. */
static int plan_images(const struct catalog_gc_volume *volumes,
		       size_t volume_count, catalog_gc_next_image next,
		       void *ctx, judged_fn judged,
		       const struct catalog_gc_options *opts,
		       struct catalog_gc_plan *out, struct rc_error *err)
{
	struct emitter e = { out, 0, 0, 0, 0 };
	struct planner st = { .volumes = volumes, .volume_count = volume_count };
	struct catalog_gc_image_rows r;
	struct image_verdict v;
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
		judge_image(&st, &r, &v, opts);
		if (judged)
			judged(ctx, &r, &v, st.snaps);
		emit_image(&e, &st, &r, &v);
		if (!add_waits(&st, &r, &v, opts, out, &wait_cap))
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
	planner_free(&st);
	if (rc < 0)
		catalog_gc_plan_free(out);
	return rc;
}

int catalog_gc_plan_stream(const struct catalog_gc_volume *volumes,
			   size_t volume_count, catalog_gc_next_image next,
			   void *ctx, const struct catalog_gc_options *opts,
			   struct catalog_gc_plan *out, struct rc_error *err)
{
	return plan_images(volumes, volume_count, next, ctx, NULL, opts, out,
			   err);
}

/* ---- the state source: a catalog_gc_state in memory -------------------- */

/*
 * Hands out the images of a state newest first, each with its snapshots
 * (ascending, as the state holds them), by array position: the images'
 * order is the array's, the snapshots are grouped by image once.
 */
struct state_source {
	const struct catalog_gc_state *st;
	size_t *snap_image;     /* per snapshot: its image, or NONE */
	size_t *snaps_first;    /* image i's snapshots: grouped[first[i] ..
				   first[i + 1]) */
	size_t *order;          /* per grouped snapshot: its index in st */
	struct catalog_gc_snapshot *grouped;
	size_t left;            /* images[left - 1] comes next */
	/* catalog_gc_needed's answers, per row of st; NULL for a plan */
	bool *image_needed, *snap_needed;
};

static void state_source_free(struct state_source *src)
{
	free(src->snap_image);
	free(src->snaps_first);
	free(src->order);
	free(src->grouped);
}

static int state_source_init(struct state_source *src,
			     const struct catalog_gc_state *st,
			     struct rc_error *err)
{
	size_t ni = st->image_count, ns = st->snapshot_count, *fill = NULL;
	int rc = 0;

	memset(src, 0, sizeof(*src));
	src->st = st;
	src->left = ni;
	if (!rc_sorted_by_id(st->images, ni, sizeof(*st->images)) ||
	    !rc_sorted_by_id(st->snapshots, ns, sizeof(*st->snapshots)))
		return rc_error_set(err, -EINVAL, "gc state is not sorted by id");
	src->snap_image = malloc((ns + 1) * sizeof(*src->snap_image));
	src->snaps_first = calloc(ni + 2, sizeof(*src->snaps_first));
	src->order = malloc((ns + 1) * sizeof(*src->order));
	src->grouped = malloc((ns + 1) * sizeof(*src->grouped));
	fill = calloc(ni + 1, sizeof(*fill));
	if (!src->snap_image || !src->snaps_first || !src->order ||
	    !src->grouped || !fill) {
		rc = rc_error_set(err, -ENOMEM, "out of memory planning gc");
		goto out;
	}
	/* a counting sort, stable: each image's snapshots stay ascending; a
	 * snapshot of an image the state does not hold is left out */
	for (size_t s = 0; s < ns; s++) {
		src->snap_image[s] = rc_find_by_id(st->images, ni,
						   sizeof(*st->images),
						   st->snapshots[s].image_id);
		if (src->snap_image[s] != NONE)
			src->snaps_first[src->snap_image[s] + 1]++;
	}
	for (size_t i = 0; i < ni; i++)
		src->snaps_first[i + 1] += src->snaps_first[i];
	for (size_t s = 0; s < ns; s++) {
		size_t i = src->snap_image[s], at;

		if (i == NONE)
			continue;
		at = src->snaps_first[i] + fill[i]++;
		src->order[at] = s;
		src->grouped[at] = st->snapshots[s];
	}
out:
	free(fill);
	return rc;
}

/* The image the parent snapshot of image i is of, as a source must give
 * it (catalog_gc_image_rows): 0 when none is read through, or the state
 * holds no such snapshot or image. */
static int64_t state_parent_image(const struct state_source *src, size_t i)
{
	const struct catalog_gc_state *st = src->st;
	const struct catalog_gc_image *img = &st->images[i];
	size_t p;

	if (!img->parent_snapshot_id || img->flattened)
		return 0;
	p = rc_find_by_id(st->snapshots, st->snapshot_count,
			  sizeof(*st->snapshots), img->parent_snapshot_id);
	if (p == NONE || src->snap_image[p] == NONE)
		return 0;
	return st->images[src->snap_image[p]].id;
}

static int state_next(void *ctx, struct catalog_gc_image_rows *rows,
		      struct rc_error *err)
{
	struct state_source *src = ctx;
	size_t i;

	(void)err;
	if (src->left == 0)
		return 0;
	i = --src->left;
	*rows = (struct catalog_gc_image_rows){
		.image = src->st->images[i],
		.parent_image_id = state_parent_image(src, i),
		.snapshots = src->grouped + src->snaps_first[i],
		.snapshot_count = src->snaps_first[i + 1] - src->snaps_first[i],
	};
	return 1;
}

/* catalog_gc_needed's judged_fn: the verdicts, by row of the state. */
static void state_judged(void *ctx, const struct catalog_gc_image_rows *rows,
			 const struct image_verdict *v,
			 const struct snap_verdict *snaps)
{
	struct state_source *src = ctx;
	const struct catalog_gc_state *st = src->st;
	size_t i = src->left, first = src->snaps_first[i], p;

	src->image_needed[i] = v->needed;
	for (size_t k = 0; k < rows->snapshot_count; k++)
		src->snap_needed[src->order[first + k]] = snaps[k].needed;
	/* a snapshot of an image the state does not hold is no row the
	 * plan judges, yet a needed image reading through it keeps it */
	if (!v->needed || !rows->image.parent_snapshot_id ||
	    rows->image.flattened || rows->parent_image_id)
		return;
	p = rc_find_by_id(st->snapshots, st->snapshot_count,
			  sizeof(*st->snapshots), rows->image.parent_snapshot_id);
	if (p != NONE)
		src->snap_needed[p] = true;
}

int catalog_gc_plan(const struct catalog_gc_state *state,
		    const struct catalog_gc_options *opts,
		    struct catalog_gc_plan *out, struct rc_error *err)
{
	struct state_source src;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = state_source_init(&src, state, err);
	if (rc == 0)
		rc = plan_images(state->volumes, state->volume_count, state_next,
				 &src, NULL, opts, out, err);
	state_source_free(&src);
	return rc;
}

int catalog_gc_needed(const struct catalog_gc_state *state, bool *image_needed,
		      bool *snap_needed, struct rc_error *err)
{
	/* what is needed depends on no clock: any will do */
	const struct catalog_gc_options any = {0};
	struct catalog_gc_plan plan = {0};
	struct state_source src;
	int rc;

	rc = state_source_init(&src, state, err);
	if (rc < 0)
		goto out;
	memset(image_needed, 0, state->image_count * sizeof(bool));
	memset(snap_needed, 0, state->snapshot_count * sizeof(bool));
	src.image_needed = image_needed;
	src.snap_needed = snap_needed;
	rc = plan_images(state->volumes, state->volume_count, state_next, &src,
			 state_judged, &any, &plan, err);
out:
	catalog_gc_plan_free(&plan);
	state_source_free(&src);
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
