/*
 * The reference model of the gc planner, for test_gc_plan: what a plan of
 * a catalog_gc_state must be, and the checks that hold every plan to it.
 *
 * It is built from the definitions in catalog.h, not from the planner's
 * code: what is needed is the least fixpoint of those definitions, and
 * Ceph's ordering rules are replayed on per-row flags, both in plan order
 * and with only the steps each step waits for done (a gc runs independent
 * steps side by side).
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gc_plan_model.h"
#include "rowcat/catalog.h"

/* ---- failures that say how to replay them ------------------------------ */

uint64_t prop_seed;
bool prop_running;
int64_t prop_blamed;	/* the catalog id of the volume at fault */
void (*prop_dump)(int64_t volume_id);

void RC_PRINTF(3, 4) prop_fail(const char *file, int line,
			       const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (prop_running)
		print_error("GC_PROPERTY_SEED=%" PRIu64 ": %s\n", prop_seed, msg);
	else
		print_error("%s\n", msg);
	if (prop_dump)
		prop_dump(prop_blamed);
	_fail(file, line);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	assert_non_null(p);
	return p;
}

static void *xmemdup(const void *from, size_t n, size_t size)
{
	void *p = xcalloc(n, size);

	if (n)
		memcpy(p, from, n * size);
	return p;
}

const char *action_name(enum catalog_gc_action action)
{
	switch (action) {
	case CATALOG_GC_TRASH:
		return "trash";
	case CATALOG_GC_REMOVE_SNAPSHOT:
		return "remove snapshot";
	case CATALOG_GC_PURGE:
		return "purge";
	}
	return "?";
}

/* ---- the reference: what is needed, and what Ceph allows -------------- */

/* Rows by id, and the links between them, built from the state alone. */
struct view {
	const struct catalog_gc_state *st;
	size_t *vol_at, *img_at, *snap_at;	/* by id: the row, or NONE */
	size_t vol_ids, img_ids, snap_ids;
	size_t *img_vol;			/* per image: its volume */
	size_t *snap_img;			/* per snapshot: its image */
	size_t *reads;				/* per image: the snapshot it
						   reads through, or NONE */
	size_t *kids_first, *kids;		/* per snapshot: its readers */
	size_t *own_first, *own;		/* per image: its snapshots */
	bool *img_needed, *snap_needed;
};

static int64_t row_id(const void *rows, size_t k, size_t size)
{
	int64_t id;

	/* the id is the first member of every catalog_gc_* row */
	memcpy(&id, (const char *)rows + k * size, sizeof(id));
	return id;
}

size_t *by_id(const void *rows, size_t count, size_t size,
	      size_t *ids, const char *what)
{
	int64_t last = 0;
	size_t *at;

	for (size_t k = 0; k < count; k++) {
		int64_t id = row_id(rows, k, size);
		require(0, id > last, "%s %" PRId64 " is out of id order", what,
			id);
		last = id;
	}
	*ids = (size_t)last + 1;
	at = xcalloc(*ids, sizeof(*at));
	for (size_t i = 0; i < *ids; i++)
		at[i] = NONE;
	for (size_t k = 0; k < count; k++)
		at[row_id(rows, k, size)] = k;
	return at;
}

size_t find(const size_t *at, size_t ids, int64_t id)
{
	return id > 0 && (uint64_t)id < ids ? at[id] : NONE;
}

/* Counting sort: items of key o are items[first[o] .. first[o + 1]). */
static void group(const size_t *key, size_t count, size_t owners,
		  size_t **first_out, size_t **items_out)
{
	size_t *first = xcalloc(owners + 2, sizeof(*first));
	size_t *items = xcalloc(count, sizeof(*items));

	for (size_t k = 0; k < count; k++)
		if (key[k] != NONE)
			first[key[k] + 2]++;
	for (size_t o = 0; o < owners; o++)
		first[o + 2] += first[o + 1];
	for (size_t k = 0; k < count; k++)
		if (key[k] != NONE)
			items[first[key[k] + 1]++] = k;
	*first_out = first;
	*items_out = items;
}

/* An image of no volume in the state: a foreign ancestor, or another
 * volume's image in the state of one volume. Not the plan's. */
static bool outside(const struct view *v, size_t image)
{
	return v->img_vol[image] == NONE;
}

static bool volume_marked(const struct view *v, size_t image)
{
	return !outside(v, image) &&
	       v->st->volumes[v->img_vol[image]].marked_at != 0;
}

/*
 * The least fixpoint of catalog.h's definitions: a snapshot is needed when
 * pinned, when neither it nor its volume is marked, or when a needed image
 * reads through it; an image when it operates a volume not marked or
 * carries a needed snapshot. A removed snapshot is no reason by itself: it
 * is gone. An image outside the state's volumes is needed unless it is in
 * the trash; its snapshots only when a needed image reads through them.
 */
static void reference_needed(struct view *v)
{
	const struct catalog_gc_state *st = v->st;
	bool changed = true;

	for (size_t s = 0; s < st->snapshot_count; s++) {
		const struct catalog_gc_snapshot *sn = &st->snapshots[s];

		v->snap_needed[s] = !sn->removed &&
			!outside(v, v->snap_img[s]) &&
			(sn->pinned || (!sn->marked_at &&
					!volume_marked(v, v->snap_img[s])));
	}
	for (size_t i = 0; i < st->image_count; i++)
		if (outside(v, i) && !st->images[i].trashed &&
		    !st->images[i].purged)
			v->img_needed[i] = true;
	for (size_t x = 0; x < st->volume_count; x++) {
		size_t op = find(v->img_at, v->img_ids,
				 st->volumes[x].operating_image_id);

		if (!st->volumes[x].marked_at && op != NONE)
			v->img_needed[op] = true;
	}
	while (changed) {
		changed = false;
		for (size_t s = 0; s < st->snapshot_count; s++) {
			if (v->snap_needed[s] && !v->img_needed[v->snap_img[s]]) {
				v->img_needed[v->snap_img[s]] = true;
				changed = true;
			}
		}
		for (size_t i = 0; i < st->image_count; i++) {
			size_t p = v->reads[i];

			if (v->img_needed[i] && p != NONE && !v->snap_needed[p]) {
				v->snap_needed[p] = true;
				changed = true;
			}
		}
	}
}

static void view_build(struct view *v, const struct catalog_gc_state *st)
{
	size_t ni = st->image_count, ns = st->snapshot_count;

	memset(v, 0, sizeof(*v));
	v->st = st;
	v->vol_at = by_id(st->volumes, st->volume_count, sizeof(*st->volumes),
			  &v->vol_ids, "volume");
	v->img_at = by_id(st->images, ni, sizeof(*st->images), &v->img_ids,
			  "image");
	v->snap_at = by_id(st->snapshots, ns, sizeof(*st->snapshots),
			   &v->snap_ids, "snapshot");
	v->img_vol = xcalloc(ni, sizeof(size_t));
	v->reads = xcalloc(ni, sizeof(size_t));
	v->snap_img = xcalloc(ns, sizeof(size_t));
	for (size_t i = 0; i < ni; i++) {
		const struct catalog_gc_image *img = &st->images[i];

		v->img_vol[i] = find(v->vol_at, v->vol_ids, img->volume_id);
		v->reads[i] = NONE;
		if (img->parent_snapshot_id && !img->flattened) {
			v->reads[i] = find(v->snap_at, v->snap_ids,
					   img->parent_snapshot_id);
			require(img->volume_id, v->reads[i] != NONE,
				"image %" PRId64 " reads a snapshot not in the "
				"state", img->id);
		}
	}
	for (size_t s = 0; s < ns; s++) {
		v->snap_img[s] = find(v->img_at, v->img_ids,
				      st->snapshots[s].image_id);
		require(0, v->snap_img[s] != NONE,
			"snapshot %" PRId64 " has no image in the state",
			st->snapshots[s].id);
	}
	group(v->reads, ni, ns, &v->kids_first, &v->kids);
	group(v->snap_img, ns, ni, &v->own_first, &v->own);
	v->img_needed = xcalloc(ni, sizeof(bool));
	v->snap_needed = xcalloc(ns, sizeof(bool));
	reference_needed(v);
}

static void view_free(struct view *v)
{
	free(v->vol_at);
	free(v->img_at);
	free(v->snap_at);
	free(v->img_vol);
	free(v->snap_img);
	free(v->reads);
	free(v->kids_first);
	free(v->kids);
	free(v->own_first);
	free(v->own);
	free(v->img_needed);
	free(v->snap_needed);
}

static int64_t image_volume_id(const struct view *v, size_t i)
{
	return v->st->images[i].volume_id;
}

/*
 * A state Ceph could be in, and in which gc never took anything needed:
 * what earlier rounds did is checked here, against today's needs (which
 * only restores and pins of live snapshots can widen).
 */
static void check_state(const struct view *v)
{
	const struct catalog_gc_state *st = v->st;

	for (size_t i = 0; i < st->image_count; i++) {
		const struct catalog_gc_image *img = &st->images[i];
		int64_t vid = img->volume_id;

		require(vid, !v->img_needed[i] || !img->trashed,
			"needed image %" PRId64 " is in the trash", img->id);
		require(vid, !img->purged || img->trashed,
			"image %" PRId64 " is purged but was never trashed",
			img->id);
		for (size_t k = v->own_first[i]; k < v->own_first[i + 1]; k++) {
			size_t s = v->own[k];

			require(vid, !img->purged || st->snapshots[s].removed,
				"purged image %" PRId64 " kept snapshot %" PRId64,
				img->id, st->snapshots[s].id);
			for (size_t c = v->kids_first[s]; c < v->kids_first[s + 1];
			     c++) {
				const struct catalog_gc_image *kid =
					&st->images[v->kids[c]];

				require(vid, !img->trashed || kid->trashed,
					"image %" PRId64 " is in the trash while "
					"its clone %" PRId64 " reads it", img->id,
					kid->id);
				require(vid, !st->snapshots[s].removed ||
					kid->purged, "snapshot %" PRId64 " is "
					"removed while clone %" PRId64 " reads it",
					st->snapshots[s].id, kid->id);
			}
		}
	}
	for (size_t s = 0; s < st->snapshot_count; s++)
		require(image_volume_id(v, v->snap_img[s]),
			!v->snap_needed[s] || !st->snapshots[s].removed,
			"needed snapshot %" PRId64 " was removed",
			st->snapshots[s].id);
}

/* Which step of a plan acts on each image and snapshot. */
struct plan_index {
	size_t *trash_at, *purge_at;	/* per image: the step, or NONE */
	size_t *remove_at;		/* per snapshot */
};

static size_t step_image(const struct view *v, const struct catalog_gc_step *s)
{
	size_t i = find(v->img_at, v->img_ids, s->image_id);

	require(s->volume_id, i != NONE, "a step names image %" PRId64
		", which is not in the state", s->image_id);
	return i;
}

static size_t step_snapshot(const struct view *v,
			    const struct catalog_gc_step *s)
{
	size_t sn = find(v->snap_at, v->snap_ids, s->snapshot_id);

	require(s->volume_id, sn != NONE, "a step names snapshot %" PRId64
		", which is not in the state", s->snapshot_id);
	return sn;
}

/* The slot of x that step s fills. */
static size_t *slot(const struct view *v, const struct plan_index *x,
		    const struct catalog_gc_step *s)
{
	switch (s->action) {
	case CATALOG_GC_TRASH:
		return &x->trash_at[step_image(v, s)];
	case CATALOG_GC_REMOVE_SNAPSHOT:
		return &x->remove_at[step_snapshot(v, s)];
	case CATALOG_GC_PURGE:
		return &x->purge_at[step_image(v, s)];
	}
	require(s->volume_id, false, "a step has action %d", (int)s->action);
	return NULL;
}

static void index_plan(const struct view *v, const struct catalog_gc_plan *p,
		       struct plan_index *x)
{
	size_t ni = v->st->image_count, ns = v->st->snapshot_count;

	x->trash_at = xcalloc(ni, sizeof(size_t));
	x->purge_at = xcalloc(ni, sizeof(size_t));
	x->remove_at = xcalloc(ns, sizeof(size_t));
	for (size_t i = 0; i < ni; i++)
		x->trash_at[i] = x->purge_at[i] = NONE;
	for (size_t s = 0; s < ns; s++)
		x->remove_at[s] = NONE;
	for (size_t k = 0; k < p->count; k++) {
		const struct catalog_gc_step *s = &p->steps[k];
		size_t *at = slot(v, x, s);

		require(s->volume_id, *at == NONE, "steps %zu and %zu both %s "
			"image %" PRId64 " (snapshot %" PRId64 ")", *at, k,
			action_name(s->action), s->image_id, s->snapshot_id);
		*at = k;
	}
}

static void plan_index_free(struct plan_index *x)
{
	free(x->trash_at);
	free(x->purge_at);
	free(x->remove_at);
}

/* Each step on its own: its target, and what it may never touch. */
static void check_steps(const struct view *v, const struct catalog_gc_options *o,
			const struct catalog_gc_plan *p)
{
	const struct catalog_gc_state *st = v->st;
	int64_t old = o->now - o->min_age;

	for (size_t k = 0; k < p->count; k++) {
		const struct catalog_gc_step *s = &p->steps[k];
		size_t i = step_image(v, s), sn;
		const struct catalog_gc_image *img = &st->images[i];
		const struct catalog_gc_volume *vol;
		const struct catalog_gc_snapshot *snap;
		int64_t vid;
		const char *what = action_name(s->action);

		require(s->volume_id, !outside(v, i), "step %zu: %s of image %"
			PRId64 " (snapshot %" PRId64 "), of volume %" PRId64
			", which is not the plan's", k, what, img->id,
			s->snapshot_id, img->volume_id);
		vol = &st->volumes[v->img_vol[i]];
		vid = vol->id;

		require(vid, s->volume_id == vid, "step %zu names volume %"
			PRId64 "; its image %" PRId64 " is in %" PRId64, k,
			s->volume_id, img->id, vid);
		for (size_t d = 0; d < s->dep_count; d++)
			require(vid, p->deps[s->first_dep + d] < k, "step %zu "
				"waits for step %zu, which is not before it", k,
				p->deps[s->first_dep + d]);
		switch (s->action) {
		case CATALOG_GC_TRASH:
		case CATALOG_GC_PURGE:
			require(vid, s->snapshot_id == 0, "step %zu: %s with "
				"snapshot %" PRId64, k, what, s->snapshot_id);
			require(vid, vol->marked_at ||
				vol->operating_image_id != img->id, "step %zu: "
				"%s of the operating image %" PRId64 " of a volume "
				"not marked", k, what, img->id);
			require(vid, !v->img_needed[i], "step %zu: %s of image %"
				PRId64 ", which is needed", k, what, img->id);
			require(vid, img->created_at <= old, "step %zu: %s of "
				"image %" PRId64 ", created %" PRId64 " s before "
				"now, under min_age", k, what, img->id,
				o->now - img->created_at);
			if (s->action == CATALOG_GC_PURGE)
				require(vid, s->reason == CATALOG_GC_TRASH_EXPIRED,
					"step %zu: purge for reason %d", k,
					(int)s->reason);
			else
				require(vid, s->reason == (vol->marked_at ?
					CATALOG_GC_VOLUME_REMOVED :
					CATALOG_GC_UNNEEDED), "step %zu: trash "
					"for reason %d", k, (int)s->reason);
			break;
		case CATALOG_GC_REMOVE_SNAPSHOT:
			sn = step_snapshot(v, s);
			snap = &st->snapshots[sn];
			require(vid, snap->image_id == img->id, "step %zu: "
				"snapshot %" PRId64 " is not of image %" PRId64,
				k, snap->id, img->id);
			require(vid, !snap->pinned, "step %zu: removes pinned "
				"snapshot %" PRId64, k, snap->id);
			require(vid, snap->marked_at || vol->marked_at, "step "
				"%zu: removes snapshot %" PRId64 ", neither marked "
				"nor of a marked volume", k, snap->id);
			require(vid, !v->snap_needed[sn], "step %zu: removes "
				"snapshot %" PRId64 ", which a needed image reads "
				"through", k, snap->id);
			require(vid, snap->created_at <= old, "step %zu: removes "
				"snapshot %" PRId64 ", created %" PRId64 " s before "
				"now, under min_age", k, snap->id,
				o->now - snap->created_at);
			require(vid, (s->reason == CATALOG_GC_VOLUME_REMOVED &&
				      vol->marked_at) ||
				     (s->reason == CATALOG_GC_MARKED &&
				      snap->marked_at), "step %zu: removes "
				"snapshot %" PRId64 " for reason %d, not true of "
				"it", k, snap->id, (int)s->reason);
			break;
		}
	}
}

/*
 * What Ceph holds at one point of a plan. The flags are a base; when
 * stamps are kept, a step whose row carries the current stamp is applied
 * on top (so each step's own world costs only what it waits for).
 */
struct world {
	bool *trashed, *purged, *removed;
	int64_t *until;
	size_t *t_at, *p_at, *r_at, stamp;
};

static void world_init(struct world *w, const struct view *v, bool stamps)
{
	const struct catalog_gc_state *st = v->st;
	size_t ni = st->image_count, ns = st->snapshot_count;

	memset(w, 0, sizeof(*w));
	w->trashed = xcalloc(ni, sizeof(bool));
	w->purged = xcalloc(ni, sizeof(bool));
	w->until = xcalloc(ni, sizeof(int64_t));
	w->removed = xcalloc(ns, sizeof(bool));
	for (size_t i = 0; i < ni; i++) {
		w->trashed[i] = st->images[i].trashed;
		w->purged[i] = st->images[i].purged;
		w->until[i] = st->images[i].trash_until;
	}
	for (size_t s = 0; s < ns; s++)
		w->removed[s] = st->snapshots[s].removed;
	if (stamps) {
		w->t_at = xcalloc(ni, sizeof(size_t));
		w->p_at = xcalloc(ni, sizeof(size_t));
		w->r_at = xcalloc(ns, sizeof(size_t));
	}
}

static void world_free(struct world *w)
{
	free(w->trashed);
	free(w->purged);
	free(w->until);
	free(w->removed);
	free(w->t_at);
	free(w->p_at);
	free(w->r_at);
}

static bool stamped(const size_t *at, size_t k, size_t stamp)
{
	return at && at[k] == stamp;
}

static bool w_trashed(const struct world *w, size_t i)
{
	return w->trashed[i] || stamped(w->t_at, i, w->stamp);
}

static bool w_purged(const struct world *w, size_t i)
{
	return w->purged[i] || stamped(w->p_at, i, w->stamp);
}

static bool w_removed(const struct world *w, size_t s)
{
	return w->removed[s] || stamped(w->r_at, s, w->stamp);
}

static int64_t w_until(const struct world *w, size_t i,
		       const struct catalog_gc_options *o)
{
	return stamped(w->t_at, i, w->stamp) ? o->now + o->trash_delay
					     : w->until[i];
}

static void w_apply(struct world *w, const struct view *v,
		    const struct catalog_gc_step *s,
		    const struct catalog_gc_options *o)
{
	size_t i = step_image(v, s);

	switch (s->action) {
	case CATALOG_GC_TRASH:
		if (w->t_at) {
			w->t_at[i] = w->stamp;
		} else {
			w->trashed[i] = true;
			w->until[i] = o->now + o->trash_delay;
		}
		break;
	case CATALOG_GC_REMOVE_SNAPSHOT:
		if (w->r_at)
			w->r_at[step_snapshot(v, s)] = w->stamp;
		else
			w->removed[step_snapshot(v, s)] = true;
		break;
	case CATALOG_GC_PURGE:
		if (w->p_at)
			w->p_at[i] = w->stamp;
		else
			w->purged[i] = true;
		break;
	}
}

/* The Ceph rule step s would break in world w, or NULL. */
static const char *rule_broken(const struct view *v, const struct world *w,
			       const struct catalog_gc_step *s,
			       const struct catalog_gc_options *o)
{
	size_t i = step_image(v, s), sn;

	switch (s->action) {
	case CATALOG_GC_TRASH:
		if (w_trashed(w, i))
			return "the image is in the trash already";
		for (size_t k = v->own_first[i]; k < v->own_first[i + 1]; k++)
			for (size_t c = v->kids_first[v->own[k]];
			     c < v->kids_first[v->own[k] + 1]; c++)
				if (!w_trashed(w, v->kids[c]))
					return "a clone reading one of its "
					       "snapshots is not in the trash";
		break;
	case CATALOG_GC_REMOVE_SNAPSHOT:
		sn = step_snapshot(v, s);
		if (w_removed(w, sn))
			return "the snapshot is removed already";
		if (w_purged(w, i))
			return "its image is purged";
		for (size_t c = v->kids_first[sn]; c < v->kids_first[sn + 1]; c++)
			if (!w_purged(w, v->kids[c]))
				return "a clone reading it is not purged";
		if (w_trashed(w, i) && w_until(w, i, o) > o->now)
			return "its image is in the trash, delay not over";
		break;
	case CATALOG_GC_PURGE:
		if (!w_trashed(w, i))
			return "the image is not in the trash";
		if (w_purged(w, i))
			return "the image is purged already";
		if (w_until(w, i, o) > o->now)
			return "its trash delay is not over";
		for (size_t k = v->own_first[i]; k < v->own_first[i + 1]; k++)
			if (!w_removed(w, v->own[k]))
				return "one of its snapshots is not removed";
		break;
	}
	return NULL;
}

static void check_rules(const struct view *v, const struct catalog_gc_options *o,
			const struct catalog_gc_plan *p,
			const struct plan_index *x)
{
	struct world seq, deps;
	size_t *seen = xcalloc(p->count, sizeof(size_t));
	size_t *stack = xcalloc(p->count, sizeof(size_t));

	world_init(&seq, v, false);
	world_init(&deps, v, true);
	for (size_t k = 0; k < p->count; k++) {
		const struct catalog_gc_step *s = &p->steps[k];
		size_t i = step_image(v, s), top = 0;
		int64_t vid = image_volume_id(v, i);
		const char *why = rule_broken(v, &seq, s, o);

		require(vid, !why, "step %zu (%s of image %" PRId64 ", snapshot %"
			PRId64 "), in plan order: %s", k, action_name(s->action),
			s->image_id, s->snapshot_id, why);
		w_apply(&seq, v, s, o);

		deps.stamp = k + 1;
		seen[k] = k + 1;
		stack[top++] = k;
		while (top > 0) {
			const struct catalog_gc_step *t = &p->steps[stack[--top]];

			if (t != s)
				w_apply(&deps, v, t, o);
			for (size_t d = 0; d < t->dep_count; d++) {
				size_t on = p->deps[t->first_dep + d];

				if (seen[on] != k + 1) {
					seen[on] = k + 1;
					stack[top++] = on;
				}
			}
		}
		why = rule_broken(v, &deps, s, o);
		require(vid, !why, "step %zu (%s of image %" PRId64 ", snapshot %"
			PRId64 "), with only the steps it waits for done: %s", k,
			action_name(s->action), s->image_id, s->snapshot_id, why);
		/* run side by side, a trash move it does not wait for could
		 * come first and start a delay */
		if (s->action == CATALOG_GC_REMOVE_SNAPSHOT && o->trash_delay > 0)
			require(vid, x->trash_at[i] == NONE ||
				seen[x->trash_at[i]] == k + 1, "step %zu removes "
				"snapshot %" PRId64 " without waiting for step %zu, "
				"which trashes its image", k, s->snapshot_id,
				x->trash_at[i]);
	}
	world_free(&seq);
	world_free(&deps);
	free(seen);
	free(stack);
}

/* Garbage left in st: images not needed nor purged, snapshots not needed
 * nor removed. *unstepped counts those no step of x acts on. */
static size_t count_garbage(const struct view *v,
			    const struct catalog_gc_state *st,
			    const struct plan_index *x, size_t *unstepped)
{
	size_t left = 0, bare = 0;

	for (size_t i = 0; i < st->image_count; i++) {
		if (v->img_needed[i] || st->images[i].purged || outside(v, i))
			continue;
		left++;
		if (!x || (x->trash_at[i] == NONE && x->purge_at[i] == NONE))
			bare++;
	}
	for (size_t s = 0; s < st->snapshot_count; s++) {
		if (v->snap_needed[s] || st->snapshots[s].removed ||
		    st->images[v->snap_img[s]].purged ||
		    outside(v, v->snap_img[s]))
			continue;
		left++;
		if (!x || x->remove_at[s] == NONE)
			bare++;
	}
	if (unstepped)
		*unstepped = bare;
	return left;
}

/* The earliest end of a trash delay ahead in st (v's rows, perhaps with
 * other flags), of the plan's images: not of those outside it. */
static int64_t next_purge(const struct view *v,
			  const struct catalog_gc_state *st,
			  const struct catalog_gc_options *o)
{
	int64_t next = 0;

	for (size_t i = 0; i < st->image_count; i++) {
		const struct catalog_gc_image *img = &st->images[i];

		if (outside(v, i))
			continue;
		if (img->trashed && !img->purged && img->trash_until > o->now &&
		    (!next || img->trash_until < next))
			next = img->trash_until;
	}
	return next;
}

static void state_copy(struct catalog_gc_state *to,
		       const struct catalog_gc_state *from)
{
	*to = *from;
	to->volumes = xmemdup(from->volumes, from->volume_count,
			      sizeof(*from->volumes));
	to->images = xmemdup(from->images, from->image_count,
			     sizeof(*from->images));
	to->snapshots = xmemdup(from->snapshots, from->snapshot_count,
				sizeof(*from->snapshots));
}

static void replan(const struct catalog_gc_state *st,
		   const struct catalog_gc_options *o, struct catalog_gc_plan *p)
{
	struct rc_error err = {0};

	ok(&err, catalog_gc_plan(st, o, p, &err));
}

/*
 * Carries the whole plan out with catalog_gc_state_apply: it must change
 * exactly its targets, leave nothing for a new plan at the same time, and
 * (with neither min_age nor trash delay) leave no garbage but what waits
 * for an older trash delay.
 */
static void check_applied(const struct view *v,
			  const struct catalog_gc_options *o,
			  const struct catalog_gc_plan *p,
			  const struct plan_index *x)
{
	const struct catalog_gc_state *st = v->st;
	struct catalog_gc_state after;
	struct catalog_gc_plan again;
	bool *pending;

	state_copy(&after, st);
	for (size_t k = 0; k < p->count; k++)
		catalog_gc_state_apply(&after, &p->steps[k], o);
	for (size_t i = 0; i < st->image_count; i++) {
		const struct catalog_gc_image *a = &after.images[i];
		const struct catalog_gc_image *b = &st->images[i];
		bool trash = x->trash_at[i] != NONE, purge = x->purge_at[i] != NONE;

		require(a->volume_id, a->trashed == (b->trashed || trash) &&
			a->purged == (b->purged || purge) &&
			a->trash_until == (trash ? o->now + o->trash_delay
						 : b->trash_until) &&
			a->flattened == b->flattened &&
			a->created_at == b->created_at,
			"catalog_gc_state_apply left image %" PRId64 " wrong",
			a->id);
	}
	for (size_t s = 0; s < st->snapshot_count; s++)
		require(image_volume_id(v, v->snap_img[s]),
			after.snapshots[s].removed ==
			(st->snapshots[s].removed || x->remove_at[s] != NONE),
			"catalog_gc_state_apply left snapshot %" PRId64 " wrong",
			st->snapshots[s].id);

	replan(&after, o, &again);
	require(again.count ? again.steps[0].volume_id : 0, again.count == 0,
		"after carrying out the plan, a new plan at the same time "
		"has %zu steps, the first a %s of image %" PRId64 " (snapshot %"
		PRId64 ")", again.count, again.count ?
		action_name(again.steps[0].action) : "", again.count ?
		again.steps[0].image_id : 0, again.count ?
		again.steps[0].snapshot_id : 0);
	require(0, again.waiting == count_garbage(v, &after, NULL, NULL),
		"after carrying out the plan, %zu rows wait, and %zu are "
		"garbage", again.waiting, count_garbage(v, &after, NULL, NULL));
	require(0, again.next_purge_at == next_purge(v, &after, o),
		"after carrying out the plan, next_purge_at is %" PRId64
		", not %" PRId64, again.next_purge_at, next_purge(v, &after, o));
	catalog_gc_plan_free(&again);

	if (o->min_age == 0 && o->trash_delay == 0) {
		pending = xcalloc(st->volume_count, sizeof(bool));
		for (size_t i = 0; i < st->image_count; i++) {
			size_t read = v->reads[i] == NONE ? NONE
				      : v->snap_img[v->reads[i]];

			if (!after.images[i].trashed || after.images[i].purged)
				continue;
			if (!outside(v, i) && after.images[i].trash_until > o->now)
				pending[v->img_vol[i]] = true;
			/* an image outside the plan leaves the trash by its
			 * own volume's plan, whose delay this one does not
			 * know: what it reads waits for it */
			if (outside(v, i) && read != NONE && !outside(v, read))
				pending[v->img_vol[read]] = true;
		}
		for (size_t i = 0; i < st->image_count; i++)
			require(image_volume_id(v, i), outside(v, i) ||
				v->img_needed[i] ||
				pending[v->img_vol[i]] || after.images[i].purged,
				"with no min_age nor trash delay, image %" PRId64
				", not needed, outlives the plan",
				st->images[i].id);
		for (size_t s = 0; s < st->snapshot_count; s++) {
			size_t i = v->snap_img[s];

			if (outside(v, i))
				continue;
			require(image_volume_id(v, i), v->snap_needed[s] ||
				pending[v->img_vol[i]] ||
				after.snapshots[s].removed, "with no min_age "
				"nor trash delay, snapshot %" PRId64 ", not "
				"needed, outlives the plan", st->snapshots[s].id);
		}
		free(pending);
	}
	catalog_gc_state_free(&after);
}

/* Carrying out the steps marked done (a set closed under deps) must leave
 * exactly the other steps for a new plan at the same time, or a step
 * begun later would be refused as stale. */
static void check_rest(const struct view *v, const struct catalog_gc_options *o,
		       const struct catalog_gc_plan *p,
		       const struct plan_index *x, const bool *done)
{
	struct catalog_gc_state part;
	struct catalog_gc_plan rest;
	size_t expected = 0;

	state_copy(&part, v->st);
	for (size_t k = 0; k < p->count; k++) {
		if (done[k])
			catalog_gc_state_apply(&part, &p->steps[k], o);
		else
			expected++;
	}
	replan(&part, o, &rest);
	for (size_t k = 0; k < rest.count; k++) {
		const struct catalog_gc_step *s = &rest.steps[k];
		size_t was = *slot(v, x, s);

		require(s->volume_id, was != NONE && !done[was], "after part "
			"of a plan, a new plan %s image %" PRId64 " (snapshot %"
			PRId64 "): %s", action_name(s->action), s->image_id,
			s->snapshot_id, was == NONE ? "the first plan did not"
						    : "that is done already");
	}
	require(0, rest.count == expected, "after part of a plan, a new plan "
		"has %zu steps and %zu are left", rest.count, expected);
	catalog_gc_plan_free(&rest);
	catalog_gc_state_free(&part);
}

static bool deps_done(const struct catalog_gc_plan *p, size_t k,
		      const bool *done)
{
	const struct catalog_gc_step *s = &p->steps[k];

	for (size_t d = 0; d < s->dep_count; d++)
		if (!done[p->deps[s->first_dep + d]])
			return false;
	return true;
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int64_t rnd(uint64_t *x, int64_t n)
{
	return (int64_t)(splitmix(x) % (uint64_t)n);
}

/* Each waiting item is garbage the plan does not finish with, named once,
 * with a reason that holds: a time ahead, or an item to wait for. */
static void check_waits(const struct view *v, const struct catalog_gc_options *o,
			const struct catalog_gc_plan *p,
			const struct plan_index *x)
{
	const struct catalog_gc_state *st = v->st;
	bool *seen_img = xcalloc(st->image_count + 1, sizeof(bool));
	bool *seen_snap = xcalloc(st->snapshot_count + 1, sizeof(bool));

	for (size_t k = 0; k < p->waiting; k++) {
		const struct catalog_gc_wait *w = &p->waits[k];
		size_t i = find(v->img_at, v->img_ids, w->image_id), sn = NONE;

		require(w->volume_id, i != NONE && v->img_vol[i] != NONE &&
			st->volumes[v->img_vol[i]].id == w->volume_id,
			"waiting item %zu names image %" PRId64 " of another "
			"volume, or none", k, w->image_id);
		if (w->snapshot_id) {
			sn = find(v->snap_at, v->snap_ids, w->snapshot_id);
			require(w->volume_id, sn != NONE && v->snap_img[sn] == i &&
				!v->snap_needed[sn] && !st->snapshots[sn].removed &&
				x->remove_at[sn] == NONE && !seen_snap[sn],
				"waiting snapshot %" PRId64 " is needed, gone, "
				"removed by the plan or named twice",
				w->snapshot_id);
			seen_snap[sn] = true;
		} else {
			require(w->volume_id, !v->img_needed[i] &&
				!st->images[i].purged && x->purge_at[i] == NONE &&
				!seen_img[i], "waiting image %" PRId64 " is "
				"needed, gone, purged by the plan or named twice",
				w->image_id);
			seen_img[i] = true;
		}
		switch (w->why) {
		case CATALOG_GC_WAIT_YOUNG:
		case CATALOG_GC_WAIT_YOUNG_SNAPSHOT:
		case CATALOG_GC_WAIT_TRASH_DELAY:
		case CATALOG_GC_WAIT_TRASHED_NOW:
			require(w->volume_id, w->until > o->now, "waiting item "
				"%zu (reason %d) waits until %" PRId64 ", not "
				"after now", k, (int)w->why, w->until);
			break;
		case CATALOG_GC_WAIT_CLONE:
			require(w->volume_id, find(v->img_at, v->img_ids,
						   w->on_image_id) != NONE,
				"waiting item %zu waits for no clone", k);
			break;
		case CATALOG_GC_WAIT_SNAPSHOTS:
			require(w->volume_id, w->snapshot_id == 0 &&
				(st->images[i].trashed || x->trash_at[i] != NONE),
				"waiting item %zu waits for its snapshots out of "
				"the trash", k);
			break;
		}
	}
	free(seen_img);
	free(seen_snap);
}

/* catalog_gc_needed says of every row what the fixpoint says. */
static void check_needed(const struct view *v)
{
	const struct catalog_gc_state *st = v->st;
	bool *img = xcalloc(st->image_count + 1, sizeof(bool));
	bool *snap = xcalloc(st->snapshot_count + 1, sizeof(bool));
	struct rc_error err = {0};

	require(0, catalog_gc_needed(st, img, snap, &err) == 0,
		"catalog_gc_needed failed: %s", err.message);
	for (size_t i = 0; i < st->image_count; i++)
		require(st->images[i].volume_id, img[i] == v->img_needed[i],
			"catalog_gc_needed says image %" PRId64 " is%s needed",
			st->images[i].id, img[i] ? "" : " not");
	for (size_t s = 0; s < st->snapshot_count; s++)
		require(0, snap[s] == v->snap_needed[s],
			"catalog_gc_needed says snapshot %" PRId64 " is%s "
			"needed", st->snapshots[s].id, snap[s] ? "" : " not");
	free(img);
	free(snap);
}

/* Everything a plan of st at o must be; see the checks above. */
void verify_plan(const struct catalog_gc_state *st,
		 const struct catalog_gc_options *o,
		 const struct catalog_gc_plan *p, int how, uint64_t *rng)
{
	struct view v;
	struct plan_index x;
	size_t bare, left;
	int64_t ahead;
	bool *done;

	view_build(&v, st);
	check_state(&v);
	check_needed(&v);
	index_plan(&v, p, &x);
	check_steps(&v, o, p);
	check_rules(&v, o, p, &x);
	left = count_garbage(&v, st, &x, &bare);
	require(0, p->waiting >= bare && p->waiting <= left, "the plan says "
		"%zu rows wait; %zu are garbage, %zu of them with no step",
		p->waiting, left, bare);
	check_waits(&v, o, p, &x);
	/* the delays this plan starts are not counted: until its trash
	 * moves are done, nothing of them is in the trash */
	ahead = next_purge(&v, st, o);
	require(0, p->next_purge_at == ahead, "next_purge_at is %" PRId64
		", not %" PRId64, p->next_purge_at, ahead);
	check_applied(&v, o, p, &x);

	done = xcalloc(p->count, sizeof(bool));
	if (how & VERIFY_PART) {
		for (size_t k = 0; k < p->count; k++)
			done[k] = deps_done(p, k, done) && rnd(rng, 2);
		check_rest(&v, o, p, &x, done);
	}
	if (how & VERIFY_STEPWISE) {
		size_t *ready = xcalloc(p->count, sizeof(size_t));

		memset(done, 0, p->count * sizeof(bool));
		for (size_t n = 0; n < p->count; n++) {
			size_t nready = 0;

			for (size_t k = 0; k < p->count; k++)
				if (!done[k] && deps_done(p, k, done))
					ready[nready++] = k;
			require(0, nready > 0, "no step of the plan is ready");
			done[ready[rnd(rng, (int64_t)nready)]] = true;
			check_rest(&v, o, p, &x, done);
		}
		free(ready);
	}
	free(done);
	plan_index_free(&x);
	view_free(&v);
}

