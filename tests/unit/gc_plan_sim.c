/*
 * The simulator of test_gc_plan: 10,000 random volume histories (snap,
 * restore, flatten, mark, pin, rm, and up to two gc rounds in between),
 * each recorded in a struct m_volume, the simulator's own account of what
 * happened. The first LIVE volumes are driven through catalog calls, their
 * gc rounds carried out step by step through the journal; the others are
 * planned on the simulator's state and written to the catalog afterwards,
 * in bulk. Every plan on the way is held to the reference model.
 *
 * A failure prints its seed, with the history of the volume at fault.
 * GC_PROPERTY_SEED=N replays a run; GC_PROPERTY_VOLUME=I replays volume I
 * of it alone; GC_PROPERTY_TRACE=1 prints each operation.
 */
#include <errno.h>
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
#include <sqlite3.h>

#include "gc_plan_model.h"
#include "gc_plan_sim.h"
#include "rowcat/catalog.h"
#include "rowcat/sys/journal.h"
#include "testdir.h"

/* ---- plans carried out and looked up ---------------------------------- */

void plan_done(struct catalog_gc_state *st, struct catalog_gc_plan *p)
{
	catalog_gc_plan_free(p);
	catalog_gc_state_free(st);
}

static bool same_wait(const struct catalog_gc_wait *a,
		      const struct catalog_gc_wait *b)
{
	return a->volume_id == b->volume_id && a->image_id == b->image_id &&
	       a->snapshot_id == b->snapshot_id && a->why == b->why &&
	       a->until == b->until && a->on_image_id == b->on_image_id &&
	       a->on_snapshot_id == b->on_snapshot_id;
}

void require_same_plan_from_cursors(struct catalog *cat,
				    const struct catalog_gc_options *o,
				    const struct catalog_gc_plan *p)
{
	struct rc_error err = {0};
	struct catalog_gc_plan q;
	size_t deps = 0;

	require(0, catalog_gc_plan_catalog(cat, o, &q, &err) == 0,
		"the plan from the cursors failed: %s", err.message);
	require(0, q.count == p->count && q.waiting == p->waiting &&
		q.next_purge_at == p->next_purge_at,
		"the plan from the cursors has %zu steps and %zu waits (next purge at "
		"%" PRId64 "), from the loaded state %zu and %zu (%" PRId64 ")",
		q.count, q.waiting, q.next_purge_at, p->count, p->waiting,
		p->next_purge_at);
	for (size_t k = 0; k < p->count; k++) {
		const struct catalog_gc_step *a = &p->steps[k], *b = &q.steps[k];

		require(a->volume_id, a->action == b->action &&
			a->reason == b->reason && a->volume_id == b->volume_id &&
			a->image_id == b->image_id &&
			a->snapshot_id == b->snapshot_id &&
			a->first_dep == b->first_dep &&
			a->dep_count == b->dep_count,
			"step %zu differs: %s image %" PRId64 " snapshot %"
			PRId64 " (%zu deps), from the cursors %s image %" PRId64
			" snapshot %" PRId64 " (%zu deps)", k,
			action_name(a->action), a->image_id, a->snapshot_id,
			a->dep_count, action_name(b->action), b->image_id,
			b->snapshot_id, b->dep_count);
		deps += a->dep_count;
	}
	for (size_t d = 0; d < deps; d++)
		require(0, p->deps[d] == q.deps[d], "dep %zu differs: %zu, "
			"from the cursors %zu", d, p->deps[d], q.deps[d]);
	for (size_t w = 0; w < p->waiting; w++)
		require(p->waits[w].volume_id,
			same_wait(&p->waits[w], &q.waits[w]),
			"wait %zu differs (image %" PRId64 " snapshot %" PRId64
			", why %d; from the cursors image %" PRId64 " snapshot %" PRId64
			", why %d)", w, p->waits[w].image_id,
			p->waits[w].snapshot_id, (int)p->waits[w].why,
			q.waits[w].image_id, q.waits[w].snapshot_id,
			(int)q.waits[w].why);
	catalog_gc_plan_free(&q);
}

long step_of(const struct catalog_gc_plan *p,
	     enum catalog_gc_action action, int64_t image,
	     int64_t snapshot)
{
	for (size_t k = 0; k < p->count; k++)
		if (p->steps[k].action == action &&
		    p->steps[k].image_id == image &&
		    p->steps[k].snapshot_id == snapshot)
			return (long)k;
	return -1;
}

void apply_all(struct catalog_gc_state *st,
	       const struct catalog_gc_plan *p,
	       const struct catalog_gc_options *o)
{
	for (size_t k = 0; k < p->count; k++)
		catalog_gc_state_apply(st, &p->steps[k], o);
}

/* ---- 10,000 random lineages ------------------------------------------- */

static struct sim *the_sim;

static void RC_PRINTF(2, 3) trace(const struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->trace)
		return;
	va_start(ap, fmt);
	printf("v%05d ", s->cur);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

/* Times as offsets from the end of the generated histories. */
static long long rel(int64_t t)
{
	return t ? (long long)(t - GEN_END) : 0;
}

static void dump_volume(const struct sim *s, int vi)
{
	const struct m_volume *v = &s->vols[vi];

	print_error("volume v%05d (id %" PRId64 "), operating img%d, marked "
		    "%lld; times are from the end, %d\n", vi, v->id,
		    v->operating, rel(v->marked_at), GEN_END);
	for (int i = 0; i < v->nimages; i++) {
		const struct m_image *m = &v->img[i];

		print_error("  img%d id %" PRId64 " made %lld from s%d, "
			    "flattened %lld, trashed %lld until %lld, purged "
			    "%lld\n", i, m->id, rel(m->created_at), m->parent,
			    rel(m->flattened_at), rel(m->trashed_at),
			    rel(m->trash_until), rel(m->purged_at));
	}
	for (int k = 0; k < v->nsnaps; k++) {
		const struct m_snap *m = &v->snap[k];

		print_error("  s%d id %" PRId64 " of img%d made %lld%s%s, "
			    "marked %lld, removed %lld\n", k, m->id, m->image,
			    rel(m->created_at), m->pre_restore ?
			    " (pre-restore)" : "", m->pinned ? " pinned" : "",
			    rel(m->marked_at), rel(m->removed_at));
	}
	print_error("replay it alone: GC_PROPERTY_SEED=%" PRIu64
		    " GC_PROPERTY_VOLUME=%d GC_PROPERTY_TRACE=1\n", s->seed, vi);
}

static void dump_blamed(int64_t volume_id)
{
	const struct sim *s = the_sim;

	if (!s)
		return;
	if (s->cur >= 0) {
		dump_volume(s, s->cur);
		return;
	}
	for (int vi = s->first; vi < s->end; vi++)
		if (volume_id && s->vols[vi].id == volume_id)
			dump_volume(s, vi);
}

static struct rc_image_spec image_spec(int vi, int im)
{
	struct rc_image_spec spec = { "rbd", "", "" };

	if (im == 0)
		snprintf(spec.name, sizeof(spec.name), "v%05d", vi);
	else
		snprintf(spec.name, sizeof(spec.name), "v%05d.%d", vi, im);
	return spec;
}

static int new_snap(struct m_volume *v, int image, int64_t t, bool pre)
{
	v->snap[v->nsnaps] = (struct m_snap){
		.image = image, .seq = v->nseq++, .created_at = t,
		.pre_restore = pre,
	};
	return v->nsnaps++;
}

static int new_image(struct m_volume *v, int parent, int64_t t)
{
	v->img[v->nimages] = (struct m_image){
		.parent = parent, .seq = v->nseq++, .created_at = t,
	};
	return v->nimages++;
}

static void put_snap(struct sim *s, struct m_volume *v, int k)
{
	struct m_snap *m = &v->snap[k];
	char name[16];

	snprintf(name, sizeof(name), "s%d", k);
	ok(&s->err, catalog_snapshot_insert(s->cat, v->img[m->image].id, name,
					    m->pre_restore ? "pre-restore"
							   : "manual",
					    true, m->created_at, &m->id, &s->err));
}

static void put_image(struct sim *s, int vi, int im)
{
	struct m_volume *v = &s->vols[vi];
	struct m_image *m = &v->img[im];
	struct rc_image_spec spec = image_spec(vi, im);

	ok(&s->err, catalog_clone_insert(s->cat, v->id, &spec,
					 v->snap[m->parent].id, m->created_at,
					 &m->id, &s->err));
	if (m->flattened_at)
		ok(&s->err, catalog_image_set_flattened(s->cat, m->id,
							m->flattened_at, &s->err));
}

/* A snapshot `rowcat` can still name: not removed, its image not trashed. */
static int pick_snapshot(struct sim *s, const struct m_volume *v)
{
	int live[MAX_OPS], n = 0;

	for (int k = 0; k < v->nsnaps; k++)
		if (!v->snap[k].removed_at && !v->img[v->snap[k].image].trashed_at)
			live[n++] = k;
	return n ? live[rnd(&s->rng, n)] : -1;
}

/* rowcat's ROW snap: snapshot the operating image, clone it, switch. */
static void op_snap(struct sim *s, int vi, int64_t t)
{
	struct m_volume *v = &s->vols[vi];
	int k = new_snap(v, v->operating, t, false);
	int im = new_image(v, k, t);

	trace(s, "%lld snap: s%d of img%d, cloned to img%d", rel(t), k,
	      v->operating, im);
	v->operating = im;
	if (!v->live)
		return;
	ok(&s->err, catalog_begin(s->cat, &s->err));
	put_snap(s, v, k);
	put_image(s, vi, im);
	ok(&s->err, catalog_volume_set_operating(s->cat, v->id, v->img[im].id,
						 &s->err));
	ok(&s->err, catalog_commit(s->cat, &s->err));
}

static bool op_restore(struct sim *s, int vi, int64_t t)
{
	struct m_volume *v = &s->vols[vi];
	int from = pick_snapshot(s, v), pre, im;

	if (from < 0)
		return false;
	pre = new_snap(v, v->operating, t, true);
	im = new_image(v, from, t);
	trace(s, "%lld restore s%d: pre-restore s%d of img%d, cloned to img%d",
	      rel(t), from, pre, v->operating, im);
	v->operating = im;
	if (!v->live)
		return true;
	ok(&s->err, catalog_begin(s->cat, &s->err));
	put_snap(s, v, pre);
	put_image(s, vi, im);
	ok(&s->err, catalog_volume_set_operating(s->cat, v->id, v->img[im].id,
						 &s->err));
	ok(&s->err, catalog_commit(s->cat, &s->err));
	return true;
}

static bool op_flatten(struct sim *s, int vi, int64_t t)
{
	struct m_volume *v = &s->vols[vi];
	struct m_image *m = &v->img[v->operating];

	if (m->parent < 0 || m->flattened_at)
		return false;
	trace(s, "%lld flatten img%d", rel(t), v->operating);
	m->flattened_at = t;
	if (v->live)
		ok(&s->err, catalog_image_set_flattened(s->cat, m->id, t, &s->err));
	return true;
}

static bool op_mark(struct sim *s, int vi, int64_t t)
{
	struct m_volume *v = &s->vols[vi];
	int k = pick_snapshot(s, v);
	char name[16];

	if (k < 0)
		return false;
	snprintf(name, sizeof(name), "s%d", k);
	trace(s, "%lld mark s%d%s", rel(t), k,
	      v->snap[k].pinned ? " (pinned: refused)" : "");
	if (v->snap[k].pinned) {
		if (v->live)
			require(v->id, catalog_snapshot_mark(s->cat, v->id, name,
				t, &s->err) == -EPERM, "marking pinned s%d "
				"was not refused", k);
		return true;
	}
	if (!v->snap[k].marked_at)
		v->snap[k].marked_at = t;
	if (v->live)
		ok(&s->err, catalog_snapshot_mark(s->cat, v->id, name, t, &s->err));
	return true;
}

static bool op_pin(struct sim *s, int vi, int64_t t)
{
	struct m_volume *v = &s->vols[vi];
	int k = pick_snapshot(s, v);
	char name[16];

	if (k < 0)
		return false;
	snprintf(name, sizeof(name), "s%d", k);
	v->snap[k].pinned = !v->snap[k].pinned;
	trace(s, "%lld %s s%d", rel(t), v->snap[k].pinned ? "pin" : "unpin", k);
	if (v->live)
		ok(&s->err, catalog_snapshot_set_pinned(s->cat, v->id, name,
							v->snap[k].pinned,
							&s->err));
	return true;
}

static void op_mark_volume(struct sim *s, int vi, int64_t t)
{
	struct m_volume *v = &s->vols[vi];

	trace(s, "%lld rm volume", rel(t));
	if (!v->marked_at)
		v->marked_at = t;
	if (v->live)
		ok(&s->err, catalog_volume_mark(s->cat, v->id, t, &s->err));
}

static void run_op(struct sim *s, int vi, int64_t t)
{
	struct m_volume *v = &s->vols[vi];
	/* a removed volume takes no more snaps, restores or flattens */
	int64_t r = v->marked_at ? 56 + rnd(&s->rng, 38) : rnd(&s->rng, 100);
	bool done;

	if (r < 32) {
		op_snap(s, vi, t);
		return;
	}
	if (r < 46)
		done = op_restore(s, vi, t);
	else if (r < 56)
		done = op_flatten(s, vi, t);
	else if (r < 80)
		done = op_mark(s, vi, t);
	else if (r < 94)
		done = op_pin(s, vi, t);
	else {
		op_mark_volume(s, vi, t);
		done = true;
	}
	if (!done && !v->marked_at)
		op_snap(s, vi, t);
}

/* The model's view of one volume, with ids local to it (1, 2, ...). */
static void model_state(const struct m_volume *v, struct catalog_gc_state *st)
{
	memset(st, 0, sizeof(*st));
	st->volume_count = 1;
	st->volumes = xcalloc(1, sizeof(*st->volumes));
	st->volumes[0] = (struct catalog_gc_volume){
		.id = 1, .operating_image_id = v->operating + 1,
		.marked_at = v->marked_at,
	};
	st->image_count = (size_t)v->nimages;
	st->images = xcalloc(st->image_count, sizeof(*st->images));
	for (int i = 0; i < v->nimages; i++) {
		const struct m_image *m = &v->img[i];

		st->images[i] = (struct catalog_gc_image){
			.id = i + 1, .volume_id = 1,
			.parent_snapshot_id = m->parent + 1,
			.created_at = m->created_at,
			.flattened = m->flattened_at != 0,
			.trashed = m->trashed_at != 0,
			.purged = m->purged_at != 0,
			.trash_until = m->trash_until,
		};
	}
	st->snapshot_count = (size_t)v->nsnaps;
	st->snapshots = xcalloc(st->snapshot_count, sizeof(*st->snapshots));
	for (int k = 0; k < v->nsnaps; k++) {
		const struct m_snap *m = &v->snap[k];

		st->snapshots[k] = (struct catalog_gc_snapshot){
			.id = k + 1, .image_id = m->image + 1,
			.created_at = m->created_at, .marked_at = m->marked_at,
			.pinned = m->pinned, .removed = m->removed_at != 0,
		};
	}
}

/* Takes into the model what a round did to st (see model_state). */
static void model_take(struct m_volume *v, const struct catalog_gc_state *st,
		       int64_t now)
{
	for (int i = 0; i < v->nimages; i++) {
		struct m_image *m = &v->img[i];

		if (st->images[i].trashed && !m->trashed_at) {
			m->trashed_at = now;
			m->trash_until = st->images[i].trash_until;
		}
		if (st->images[i].purged && !m->purged_at)
			m->purged_at = now;
	}
	for (int k = 0; k < v->nsnaps; k++)
		if (st->snapshots[k].removed && !v->snap[k].removed_at)
			v->snap[k].removed_at = now;
}

static void model_step(struct m_volume *v, const struct catalog_gc_step *step,
		       const struct catalog_gc_options *o)
{
	for (int i = 0; i < v->nimages; i++) {
		struct m_image *m = &v->img[i];

		if (m->id != step->image_id)
			continue;
		if (step->action == CATALOG_GC_TRASH) {
			m->trashed_at = o->now;
			m->trash_until = o->now + o->trash_delay;
		} else if (step->action == CATALOG_GC_PURGE) {
			m->purged_at = o->now;
		}
	}
	for (int k = 0; k < v->nsnaps; k++)
		if (step->action == CATALOG_GC_REMOVE_SNAPSHOT &&
		    v->snap[k].id == step->snapshot_id)
			v->snap[k].removed_at = o->now;
}

/* One gc run on the volume, every step through the journal. */
static void gc_round_live(struct sim *s, struct m_volume *v,
			  const struct catalog_gc_options *o)
{
	struct catalog_gc_state st;
	struct catalog_gc_plan p;
	char rbd_id[32];

	ok(&s->err, catalog_gc_state_load(s->cat, v->id, &st, &s->err));
	ok(&s->err, catalog_gc_plan(&st, o, &p, &s->err));
	verify_plan(&st, o, &p, VERIFY_STEPWISE, &s->rng);
	for (size_t k = 0; k < p.count; k++) {
		const struct catalog_gc_step *step = &p.steps[k];
		struct catalog_operation op;
		int rc = catalog_gc_step_begin(s->cat, step, o, &op, &s->err);

		require(v->id, rc == 0, "step %zu (%s of image %" PRId64
			", snapshot %" PRId64 ") was refused: %d, %s", k,
			action_name(step->action), step->image_id,
			step->snapshot_id, rc, s->err.message);
		if (step->action == CATALOG_GC_TRASH) {
			snprintf(rbd_id, sizeof(rbd_id), "%" PRIx64,
				 (uint64_t)step->image_id);
			ok(&s->err, catalog_gc_image_identify(s->cat,
				step->image_id, rbd_id, &s->err));
		}
		ok(&s->err, catalog_gc_step_finish(s->cat, &op, o->now, &s->err));
		model_step(v, step, o);
	}
	plan_done(&st, &p);
	ok(&s->err, catalog_gc_state_load(s->cat, v->id, &st, &s->err));
	ok(&s->err, catalog_gc_plan(&st, o, &p, &s->err));
	require(v->id, p.count == 0, "after a gc run, the catalog still "
		"plans %zu steps", p.count);
	plan_done(&st, &p);
}

static void gc_round(struct sim *s, int vi, int64_t t)
{
	struct m_volume *v = &s->vols[vi];
	struct catalog_gc_options o = {
		t, rnd(&s->rng, 2) ? 3600 : 0, rnd(&s->rng, 2) ? DAY : 0,
	};
	struct catalog_gc_state st;
	struct catalog_gc_plan p;

	trace(s, "%lld gc, min_age %lld, trash delay %lld", rel(t),
	      (long long)o.min_age, (long long)o.trash_delay);
	if (v->live) {
		gc_round_live(s, v, &o);
		return;
	}
	model_state(v, &st);
	ok(&s->err, catalog_gc_plan(&st, &o, &p, &s->err));
	verify_plan(&st, &o, &p, VERIFY_STEPWISE, &s->rng);
	apply_all(&st, &p, &o);
	model_take(v, &st, t);
	plan_done(&st, &p);
}

/* Seconds to days, each scale as likely. */
static int64_t interval(struct sim *s)
{
	switch (rnd(&s->rng, 4)) {
	case 0:
		return 1 + rnd(&s->rng, 60);
	case 1:
		return 60 + rnd(&s->rng, 3600);
	case 2:
		return 3600 + rnd(&s->rng, DAY);
	default:
		return DAY + rnd(&s->rng, 5 * DAY);
	}
}

/*
 * One volume's history: up to MAX_OPS operations and up to two gc runs in
 * between, timed to end at various distances before GEN_END so that the
 * final plans see every age.
 */
void simulate(struct sim *s, int vi)
{
	struct m_volume *v = &s->vols[vi];
	int64_t delta[MAX_OPS + 2], span = 0, tail, t, r;
	bool is_gc[MAX_OPS + 2];
	int nops, ngc, n;
	char name[16];

	s->cur = vi;
	s->rng = s->seed ^ (0xd1b54a32d192ed03ULL * (uint64_t)(vi + 1));
	nops = (int)rnd(&s->rng, MAX_OPS + 1);
	r = rnd(&s->rng, 100);
	ngc = r < 55 ? 0 : r < 85 ? 1 : 2;
	n = nops + ngc;
	for (int e = 0; e < n; e++)
		is_gc[e] = e >= nops;
	for (int e = n - 1; e > 0; e--) {
		int other = (int)rnd(&s->rng, e + 1);
		bool swap = is_gc[e];

		is_gc[e] = is_gc[other];
		is_gc[other] = swap;
	}
	for (int e = 0; e < n; e++) {
		delta[e] = interval(s);
		span += delta[e];
	}
	r = rnd(&s->rng, 10);
	tail = r < 4 ? rnd(&s->rng, 7200) : r < 8 ? rnd(&s->rng, 3 * DAY)
						 : rnd(&s->rng, 60 * DAY);
	t = GEN_END - span - tail;

	memset(v, 0, sizeof(*v));
	v->live = vi < LIVE;
	v->operating = new_image(v, -1, t);
	trace(s, "%lld create", rel(t));
	if (v->live) {
		struct rc_image_spec root = image_spec(vi, 0);
		struct catalog_volume vol;

		snprintf(name, sizeof(name), "v%05d", vi);
		ok(&s->err, catalog_begin(s->cat, &s->err));
		ok(&s->err, catalog_volume_insert(s->cat, name, 1 << 30, &root,
						  t, &v->id, &s->err));
		ok(&s->err, catalog_commit(s->cat, &s->err));
		ok(&s->err, catalog_volume_get(s->cat, v->id, &vol, &s->err));
		v->img[0].id = vol.operating_image_id;
	}
	for (int e = 0; e < n; e++) {
		t += delta[e];
		if (is_gc[e])
			gc_round(s, vi, t);
		else
			run_op(s, vi, t);
	}
	s->cur = -1;
}

/* Writes a simulated volume's rows in creation order (inside the
 * caller's transaction); its flags come later, in write_flags. */
void write_volume(struct sim *s, int vi)
{
	struct m_volume *v = &s->vols[vi];
	struct rc_image_spec root = image_spec(vi, 0);
	struct catalog_volume vol;
	int i = 1, k = 0;
	char name[16];

	snprintf(name, sizeof(name), "v%05d", vi);
	ok(&s->err, catalog_volume_insert(s->cat, name, 1 << 30, &root,
					  v->img[0].created_at, &v->id, &s->err));
	ok(&s->err, catalog_volume_get(s->cat, v->id, &vol, &s->err));
	v->img[0].id = vol.operating_image_id;
	while (i < v->nimages || k < v->nsnaps) {
		if (k < v->nsnaps &&
		    (i >= v->nimages || v->snap[k].seq < v->img[i].seq))
			put_snap(s, v, k++);
		else
			put_image(s, vi, i++);
	}
	ok(&s->err, catalog_volume_set_operating(s->cat, v->id,
						 v->img[v->operating].id,
						 &s->err));
}

static void bind_time(sqlite3_stmt *st, int col, int64_t t)
{
	if (t)
		sqlite3_bind_int64(st, col, t);
	else
		sqlite3_bind_null(st, col);
}

static void step_sql(sqlite3 *db, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		require(0, false, "writing flags: %s", sqlite3_errmsg(db));
	sqlite3_reset(st);
}

/*
 * Marks, pins and what gc did, for the volumes simulated off the catalog,
 * straight into its tables: through the API each is a transaction of its
 * own, which 10,000 volumes cannot afford.
 */
void write_flags(struct sim *s)
{
	sqlite3 *db;
	sqlite3_stmt *vol, *snap, *img;

	assert_int_equal(sqlite3_open(s->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
		"UPDATE volume SET marked_at = ?2 WHERE id = ?1", -1, &vol,
		NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
		"UPDATE snapshot SET marked_at = ?2, pinned = ?3,"
		" removed_at = ?4 WHERE id = ?1", -1, &snap, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
		"UPDATE image SET removed_at = ?2, trash_until = ?3,"
		" purged_at = ?4 WHERE id = ?1", -1, &img, NULL), SQLITE_OK);
	for (int vi = s->first; vi < s->end; vi++) {
		const struct m_volume *v = &s->vols[vi];

		if (v->live)
			continue;
		if (v->marked_at) {
			sqlite3_bind_int64(vol, 1, v->id);
			sqlite3_bind_int64(vol, 2, v->marked_at);
			step_sql(db, vol);
		}
		for (int k = 0; k < v->nsnaps; k++) {
			const struct m_snap *m = &v->snap[k];

			if (!m->marked_at && !m->pinned && !m->removed_at)
				continue;
			sqlite3_bind_int64(snap, 1, m->id);
			bind_time(snap, 2, m->marked_at);
			sqlite3_bind_int(snap, 3, m->pinned);
			bind_time(snap, 4, m->removed_at);
			step_sql(db, snap);
		}
		for (int i = 0; i < v->nimages; i++) {
			const struct m_image *m = &v->img[i];

			if (!m->trashed_at)
				continue;
			sqlite3_bind_int64(img, 1, m->id);
			bind_time(img, 2, m->trashed_at);
			bind_time(img, 3, m->trash_until);
			bind_time(img, 4, m->purged_at);
			step_sql(db, img);
		}
	}
	sqlite3_finalize(vol);
	sqlite3_finalize(snap);
	sqlite3_finalize(img);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* The catalog holds exactly what the model says happened. */
void compare_with_model(struct sim *s, const struct catalog_gc_state *st)
{
	size_t ni = 0, ns = 0, nv = 0, vol_ids, img_ids, snap_ids;
	size_t *vol_at = by_id(st->volumes, st->volume_count,
			       sizeof(*st->volumes), &vol_ids, "volume");
	size_t *img_at = by_id(st->images, st->image_count,
			       sizeof(*st->images), &img_ids, "image");
	size_t *snap_at = by_id(st->snapshots, st->snapshot_count,
				sizeof(*st->snapshots), &snap_ids, "snapshot");

	for (int vi = s->first; vi < s->end; vi++) {
		const struct m_volume *v = &s->vols[vi];
		size_t x = find(vol_at, vol_ids, v->id);

		require(v->id, x != NONE && st->volumes[x].marked_at ==
			v->marked_at && st->volumes[x].operating_image_id ==
			v->img[v->operating].id, "the catalog's volume differs");
		for (int i = 0; i < v->nimages; i++) {
			const struct m_image *m = &v->img[i];
			size_t c = find(img_at, img_ids, m->id);
			const struct catalog_gc_image *r = &st->images[c];

			require(v->id, c != NONE, "img%d is not in the catalog", i);
			require(v->id, r->volume_id == v->id &&
				r->parent_snapshot_id == (m->parent < 0 ? 0 :
					v->snap[m->parent].id) &&
				r->created_at == m->created_at &&
				r->flattened == (m->flattened_at != 0) &&
				r->trashed == (m->trashed_at != 0) &&
				r->purged == (m->purged_at != 0) &&
				r->trash_until == m->trash_until,
				"the catalog's img%d differs", i);
		}
		for (int k = 0; k < v->nsnaps; k++) {
			const struct m_snap *m = &v->snap[k];
			size_t c = find(snap_at, snap_ids, m->id);
			const struct catalog_gc_snapshot *r = &st->snapshots[c];

			require(v->id, c != NONE, "s%d is not in the catalog", k);
			require(v->id, r->image_id == v->img[m->image].id &&
				r->created_at == m->created_at &&
				r->marked_at == m->marked_at &&
				r->pinned == m->pinned &&
				r->removed == (m->removed_at != 0),
				"the catalog's s%d differs", k);
		}
		nv++;
		ni += (size_t)v->nimages;
		ns += (size_t)v->nsnaps;
	}
	require(0, st->volume_count == nv && st->image_count == ni &&
		st->snapshot_count == ns, "the catalog has %zu volumes, %zu "
		"images, %zu snapshots; the model %zu, %zu, %zu",
		st->volume_count, st->image_count, st->snapshot_count, nv, ni, ns);
	free(vol_at);
	free(img_at);
	free(snap_at);
}

/* A plan of one volume holds the steps a plan of all holds for it: what
 * catalog_gc_step_begin relies on when it re-plans one volume. */
void compare_one_volume(struct sim *s, const struct m_volume *v,
			const struct catalog_gc_options *o,
			const struct catalog_gc_plan *all)
{
	struct catalog_gc_state st;
	struct catalog_gc_plan p;
	size_t mine = 0;

	ok(&s->err, catalog_gc_state_load(s->cat, v->id, &st, &s->err));
	ok(&s->err, catalog_gc_plan(&st, o, &p, &s->err));
	for (size_t k = 0; k < all->count; k++) {
		const struct catalog_gc_step *a = &all->steps[k];

		if (a->volume_id != v->id)
			continue;
		mine++;
		require(v->id, step_of(&p, a->action, a->image_id,
				       a->snapshot_id) >= 0,
			"a plan of all volumes has a %s of image %" PRId64
			" (snapshot %" PRId64 "), a plan of its volume not",
			action_name(a->action), a->image_id, a->snapshot_id);
	}
	require(v->id, p.count == mine, "a plan of the volume has %zu steps, a "
		"plan of all %zu for it", p.count, mine);
	plan_done(&st, &p);
}

int setup_sim(void **state)
{
	struct sim *s = xcalloc(1, sizeof(*s));
	const char *seed = getenv("GC_PROPERTY_SEED");
	const char *only = getenv("GC_PROPERTY_VOLUME");
	const char *tr = getenv("GC_PROPERTY_TRACE");

	s->seed = seed && seed[0] ? strtoull(seed, NULL, 0) : 20260101;
	s->first = 0;
	s->end = VOLUMES;
	if (only && only[0]) {
		s->first = atoi(only);
		s->end = s->first + 1;
	}
	s->trace = tr && tr[0] && strcmp(tr, "0") != 0;
	s->cur = -1;
	s->vols = xcalloc(VOLUMES, sizeof(*s->vols));
	testdir_make(&s->dir);
	testdir_file(&s->dir, "catalog.db", s->path, sizeof(s->path));
	assert_int_equal(catalog_open(&s->cat, s->path, CATALOG_OPEN_CREATE,
				      &s->err), 0);
	the_sim = s;
	prop_seed = s->seed;
	prop_running = true;
	prop_dump = dump_blamed;
	*state = s;
	return 0;
}

int teardown_sim(void **state)
{
	struct sim *s = *state;

	prop_running = false;
	prop_dump = NULL;
	the_sim = NULL;
	catalog_close(s->cat);
	testdir_remove(&s->dir);
	free(s->vols);
	free(s);
	return 0;
}
