/*
 * rowcat explain: why each image and snapshot of a volume's tree is kept,
 * or would go. Nothing here decides anything of its own: what is needed,
 * what gc's next run takes and why the rest waits are gc's planner's
 * answers (catalog_gc_needed, catalog_gc_plan) on the whole catalog, as
 * `rowcat gc` plans; which rule keeps a policy snapshot is retention's
 * (ops_policy_retention, as a policy run weighs it); what a flatten would
 * free is the planner's answer on the catalog with that image flattened.
 * This file only gathers those answers per item, with the rows that name
 * them.
 *
 * The items: the volume's images and snapshots, the images and snapshots
 * of others (foreign ancestors, another volume's) that its images read
 * through, and the images of others that read through its snapshots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/sys/by_id.h"
#include "rowcat/sys/grow.h"
#include "internal.h"

#define NONE RC_NOT_FOUND

/* ---- finding rows of the gc state by id ----------------------------------- */

static size_t image_at(const struct catalog_gc_state *st, int64_t id)
{
	return rc_find_by_id(st->images, st->image_count, sizeof(*st->images),
			     id);
}

static size_t snapshot_at(const struct catalog_gc_state *st, int64_t id)
{
	return rc_find_by_id(st->snapshots, st->snapshot_count,
			     sizeof(*st->snapshots), id);
}

static size_t volume_at(const struct catalog_gc_state *st, int64_t id)
{
	for (size_t v = 0; v < st->volume_count; v++)
		if (st->volumes[v].id == id)
			return v;
	return NONE;
}

/* Whether image i reads through its parent snapshot, and which (NONE). */
static size_t parent_read(const struct catalog_gc_state *st, size_t i)
{
	const struct catalog_gc_image *img = &st->images[i];

	if (!img->parent_snapshot_id || img->flattened || img->purged)
		return NONE;
	return snapshot_at(st, img->parent_snapshot_id);
}

/* ---- what the planner says ------------------------------------------------ */

/* Everything the reasons are gathered from, per row of the state. */
struct facts {
	const struct catalog_gc_state *st;
	const struct catalog_volume *volume;
	bool *image_needed, *snap_needed;
	struct catalog_gc_plan plan;
	size_t *image_step, *snap_step;   /* the plan's last step, or NONE */
	size_t *image_wait, *snap_wait;   /* the plan's wait, or NONE */
	int64_t *operating_of;            /* the unmarked volume whose
					     operating image it is; 0 */
	int64_t *chain_of;                /* one whose operating image is it
					     or reads through it; 0 */
	bool *in_image, *in_snap;         /* an item of the explanation */
};

static void facts_free(struct facts *f)
{
	free(f->image_needed);
	free(f->snap_needed);
	catalog_gc_plan_free(&f->plan);
	free(f->image_step);
	free(f->snap_step);
	free(f->image_wait);
	free(f->snap_wait);
	free(f->operating_of);
	free(f->chain_of);
	free(f->in_image);
	free(f->in_snap);
}

static int facts_alloc(struct facts *f, size_t ni, size_t ns)
{
	f->image_needed = calloc(ni + 1, sizeof(bool));
	f->snap_needed = calloc(ns + 1, sizeof(bool));
	f->image_step = malloc((ni + 1) * sizeof(size_t));
	f->snap_step = malloc((ns + 1) * sizeof(size_t));
	f->image_wait = malloc((ni + 1) * sizeof(size_t));
	f->snap_wait = malloc((ns + 1) * sizeof(size_t));
	f->operating_of = calloc(ni + 1, sizeof(int64_t));
	f->chain_of = calloc(ni + 1, sizeof(int64_t));
	f->in_image = calloc(ni + 1, sizeof(bool));
	f->in_snap = calloc(ns + 1, sizeof(bool));
	if (!f->image_needed || !f->snap_needed || !f->image_step ||
	    !f->snap_step || !f->image_wait || !f->snap_wait ||
	    !f->operating_of || !f->chain_of || !f->in_image || !f->in_snap)
		return -ENOMEM;
	for (size_t i = 0; i < ni; i++)
		f->image_step[i] = f->image_wait[i] = NONE;
	for (size_t s = 0; s < ns; s++)
		f->snap_step[s] = f->snap_wait[s] = NONE;
	return 0;
}

static int gather_facts(struct facts *f, const struct catalog_gc_state *st,
			const struct catalog_volume *volume,
			const struct catalog_gc_options *gc,
			struct rc_error *err)
{
	const struct catalog_gc_plan *plan = &f->plan;
	int rc;

	f->st = st;
	f->volume = volume;
	if (facts_alloc(f, st->image_count, st->snapshot_count) < 0)
		return rc_error_set(err, -ENOMEM, "out of memory");
	rc = catalog_gc_needed(st, f->image_needed, f->snap_needed, err);
	if (rc == 0)
		rc = catalog_gc_plan(st, gc, &f->plan, err);
	if (rc < 0)
		return rc;
	for (size_t k = 0; k < plan->count; k++) {
		const struct catalog_gc_step *step = &plan->steps[k];
		size_t at = step->action == CATALOG_GC_REMOVE_SNAPSHOT
			? snapshot_at(st, step->snapshot_id)
			: image_at(st, step->image_id);

		if (at == NONE)
			continue;
		if (step->action == CATALOG_GC_REMOVE_SNAPSHOT)
			f->snap_step[at] = k;
		else
			f->image_step[at] = k; /* a purge after its trash */
	}
	for (size_t k = 0; k < plan->waiting; k++) {
		const struct catalog_gc_wait *w = &plan->waits[k];
		size_t at = w->snapshot_id ? snapshot_at(st, w->snapshot_id)
					   : image_at(st, w->image_id);

		if (at != NONE && w->snapshot_id)
			f->snap_wait[at] = k;
		else if (at != NONE)
			f->image_wait[at] = k;
	}
	for (size_t v = 0; v < st->volume_count; v++) {
		const struct catalog_gc_volume *vol = &st->volumes[v];
		size_t i = image_at(st, vol->operating_image_id);

		if (vol->marked_at || i == NONE)
			continue;
		f->operating_of[i] = vol->id;
		/* up the chain it reads; chains are finite: parents are
		 * older (the planner refused the state otherwise) */
		while (i != NONE && !f->chain_of[i]) {
			size_t parent = parent_read(st, i);

			f->chain_of[i] = vol->id;
			i = parent == NONE ? NONE
				: image_at(st, st->snapshots[parent].image_id);
		}
	}
	return 0;
}

/* ---- which rows are items ------------------------------------------------- */

/* The volume's rows, what its images read through, and what reads
 * through its snapshots. */
static void choose_items(struct facts *f)
{
	const struct catalog_gc_state *st = f->st;
	int64_t vid = f->volume->id;

	for (size_t i = 0; i < st->image_count; i++)
		f->in_image[i] = st->images[i].volume_id == vid;
	for (size_t s = 0; s < st->snapshot_count; s++) {
		size_t i = image_at(st, st->snapshots[s].image_id);

		f->in_snap[s] = i != NONE && f->in_image[i];
	}
	for (size_t i = 0; i < st->image_count; i++) {
		size_t parent, owner;

		if (st->images[i].volume_id != vid)
			continue;
		/* up through others' rows as far as the chain reads */
		for (size_t at = i; (parent = parent_read(st, at)) != NONE;
		     at = owner) {
			owner = image_at(st, st->snapshots[parent].image_id);
			if (owner == NONE || st->images[owner].volume_id == vid)
				break;
			f->in_snap[parent] = true;
			f->in_image[owner] = true;
		}
	}
	for (size_t i = 0; i < st->image_count; i++) {
		size_t parent = parent_read(st, i), owner;

		if (parent == NONE || st->images[i].volume_id == vid)
			continue;
		owner = image_at(st, st->snapshots[parent].image_id);
		if (owner != NONE && st->images[owner].volume_id == vid)
			f->in_image[i] = true;
	}
}

/* ---- the explanation ------------------------------------------------------ */

void ops_explanation_free(struct ops_explanation *e)
{
	if (!e)
		return;
	for (size_t k = 0; k < e->count; k++)
		free(e->items[k].reasons);
	for (size_t k = 0; k < e->flatten_count; k++)
		free(e->flattens[k].items);
	free(e->items);
	free(e->flattens);
	free(e->volumes);
	free(e);
}

const struct catalog_volume *
ops_explain_volume(const struct ops_explanation *e, int64_t id)
{
	for (size_t v = 0; id && v < e->volume_count; v++)
		if (e->volumes[v].id == id)
			return &e->volumes[v];
	return NULL;
}

const struct ops_explain_item *
ops_explain_find(const struct ops_explanation *e, int64_t image_id,
		 int64_t snapshot_id)
{
	for (size_t k = 0; k < e->count; k++) {
		const struct ops_explain_item *it = &e->items[k];

		if (snapshot_id ? it->snapshot.id == snapshot_id
				: !it->snapshot.id && it->image.id == image_id)
			return it;
	}
	return NULL;
}

/* Adds a reason to item; -ENOMEM. */
static int add(struct ops_explain_item *it, size_t *cap,
	       struct ops_explain_reason r)
{
	if (rc_grow((void **)&it->reasons, cap, it->reason_count + 1,
		    sizeof(*it->reasons), 4) < 0)
		return -ENOMEM;
	it->reasons[it->reason_count++] = r;
	return 0;
}

/* An item's row of the state: a snapshot's index, or an image's index
 * with the top bit set. */
#define IMAGE_ROW (~(SIZE_MAX >> 1))

struct row_key {
	int64_t image_id, snapshot_id;  /* snapshot_id 0: the image */
	size_t row;
};

static int by_image_then_snapshot(const void *a, const void *b)
{
	const struct row_key *x = a, *y = b;

	if (x->image_id != y->image_id)
		return x->image_id < y->image_id ? -1 : 1;
	return (x->snapshot_id > y->snapshot_id) -
	       (x->snapshot_id < y->snapshot_id);
}

/* The items, read from the catalog: by image id, each image before its
 * snapshots. rows[k] is item k's row of the state. */
static int read_items(struct ops_explanation *e, struct catalog *cat,
		      const struct facts *f, size_t **rows_out,
		      struct rc_error *err)
{
	const struct catalog_gc_state *st = f->st;
	struct row_key *keys = NULL;
	size_t n = 0, *rows = NULL;
	int rc = 0;

	keys = calloc(st->image_count + st->snapshot_count + 1, sizeof(*keys));
	if (!keys)
		return rc_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < st->image_count; i++)
		if (f->in_image[i])
			keys[n++] = (struct row_key){ st->images[i].id, 0,
						      i | IMAGE_ROW };
	for (size_t s = 0; s < st->snapshot_count; s++)
		if (f->in_snap[s])
			keys[n++] = (struct row_key){ st->snapshots[s].image_id,
						      st->snapshots[s].id, s };
	qsort(keys, n, sizeof(*keys), by_image_then_snapshot);
	e->items = calloc(n + 1, sizeof(*e->items));
	rows = calloc(n + 1, sizeof(*rows));
	if (!e->items || !rows) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; rc == 0 && k < n; k++) {
		struct ops_explain_item *it = &e->items[k];

		rc = catalog_image_get(cat, keys[k].image_id, &it->image, err);
		if (rc == 0 && keys[k].snapshot_id)
			rc = catalog_snapshot_get(cat, keys[k].snapshot_id,
						  &it->snapshot, err);
		rows[k] = keys[k].row;
		e->count = k + 1;
	}
out:
	free(keys);
	*rows_out = rows;
	return rc;
}

static bool is_image_row(size_t row)
{
	return row & IMAGE_ROW;
}

static size_t image_row(size_t row)
{
	return row & ~IMAGE_ROW;
}

/* The volumes the items belong to. */
static int read_volumes(struct ops_explanation *e, struct catalog *cat,
			struct rc_error *err)
{
	size_t cap = 0;
	int rc = 0;

	for (size_t k = 0; rc == 0 && k < e->count; k++) {
		int64_t id = e->items[k].image.volume_id;

		if (!id || ops_explain_volume(e, id))
			continue;
		if (rc_grow((void **)&e->volumes, &cap, e->volume_count + 1,
			    sizeof(*e->volumes), 4) < 0)
			return rc_error_set(err, -ENOMEM, "out of memory");
		rc = catalog_volume_get(cat, id, &e->volumes[e->volume_count],
					err);
		if (rc == 0)
			e->volume_count++;
	}
	return rc;
}

/* ---- retention ------------------------------------------------------------ */

/* What retention says of each of the volume's snapshots among the items
 * (by item index; weighed false for those it does not weigh): of an
 * unmarked one, as a policy run weighs it; of a marked one, as it would
 * among the unmarked ones, so that a snapshot retention let go reads as
 * expired, and one it would keep as marked by rm. */
static int retention(const struct ops_explanation *e, bool *weighed,
		     struct policy_retention *why, struct rc_error *err)
{
	struct catalog_snapshot *snaps = NULL;
	struct policy_retention *one_why = NULL;
	bool *one_weighed = NULL, *kept = NULL;
	size_t *item_of = NULL, n = 0;
	int rc = 0;

	if (!e->policy)
		return 0;
	snaps = calloc(e->count + 1, sizeof(*snaps));
	item_of = calloc(e->count + 1, sizeof(*item_of));
	one_why = calloc(e->count + 1, sizeof(*one_why));
	one_weighed = calloc(e->count + 1, sizeof(*one_weighed));
	kept = calloc(e->count + 1, sizeof(*kept));
	if (!snaps || !item_of || !one_why || !one_weighed || !kept) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < e->count; k++) {
		if (!e->items[k].snapshot.id ||
		    e->items[k].image.volume_id != e->volume.id)
			continue;
		snaps[n] = e->items[k].snapshot;
		item_of[n++] = k;
	}
	rc = ops_policy_retention(e->policy, snaps, n, 0, one_weighed, kept,
				  one_why, err);
	for (size_t j = 0; rc == 0 && j < n; j++) {
		if (!one_weighed[j])
			continue;
		weighed[item_of[j]] = true;
		why[item_of[j]] = one_why[j];
	}
	/* each marked one of the policy's own, weighed with the unmarked */
	for (size_t j = 0; rc == 0 && j < n; j++) {
		char origin[POLICY_ORIGIN_MAX];

		policy_origin(e->policy, origin);
		if (!snaps[j].marked_at || snaps[j].removed_at ||
		    strcmp(snaps[j].origin, origin) != 0)
			continue;
		rc = ops_policy_retention(e->policy, snaps, n, snaps[j].id,
					  one_weighed, kept, one_why, err);
		if (rc == 0) {
			weighed[item_of[j]] = true;
			why[item_of[j]] = one_why[j];
		}
	}
	/* held_by named the retention's array; the items' index is kept */
	for (size_t k = 0; rc == 0 && k < e->count; k++)
		for (int b = 0; weighed[k] && b < POLICY_BUCKET_KINDS; b++)
			why[k].bucket[b].held_by =
				item_of[why[k].bucket[b].held_by];
out:
	free(kept);
	free(one_weighed);
	free(one_why);
	free(item_of);
	free(snaps);
	return rc;
}

/* ---- reasons -------------------------------------------------------------- */

/* Why the volume's own snapshot item k is kept, or marked: its pin, its
 * mark, its origin and retention. */
static int own_snapshot_reasons(const struct ops_explanation *e,
				struct ops_explain_item *it, size_t *cap,
				bool weighed,
				const struct policy_retention *why)
{
	const struct catalog_snapshot *s = &it->snapshot;
	char origin[POLICY_ORIGIN_MAX] = "";
	bool policy_own;
	int rc = 0;

	if (e->policy)
		policy_origin(e->policy, origin);
	policy_own = e->policy && strcmp(s->origin, origin) == 0;
	if (s->pinned)
		rc = add(it, cap, (struct ops_explain_reason){
			.why = OPS_WHY_PINNED });
	if (rc == 0 && e->volume.marked_at)
		return add(it, cap, (struct ops_explain_reason){
			.why = OPS_WHY_VOLUME_REMOVED,
			.volume_id = e->volume.id, .at = e->volume.marked_at });
	if (rc < 0 || s->pinned)
		return rc;
	if (s->marked_at && policy_own && weighed)
		return add(it, cap, (struct ops_explain_reason){
			.why = why->kept ? OPS_WHY_MARKED : OPS_WHY_EXPIRED,
			.at = s->marked_at, .policy_checked = why->kept,
			.retention = *why });
	if (s->marked_at)
		return add(it, cap, (struct ops_explain_reason){
			.why = OPS_WHY_MARKED, .at = s->marked_at });
	if (policy_own && weighed)
		return add(it, cap, (struct ops_explain_reason){
			.why = why->kept ? OPS_WHY_POLICY_KEEPS
					 : OPS_WHY_POLICY_EXPIRES,
			.retention = *why });
	/* a policy's snapshot with no policy given: which policy manages
	 * the volume is not known, nor whether it is this one */
	if (!e->policy && strncmp(s->origin, "policy:", 7) == 0)
		return add(it, cap, (struct ops_explain_reason){
			.why = OPS_WHY_POLICY_UNKNOWN });
	return add(it, cap, (struct ops_explain_reason){ .why = OPS_WHY_ORIGIN });
}

/* The verdict, and gc's step or wait. */
static int fate(const struct facts *f, struct ops_explain_item *it,
		size_t *cap, bool needed, size_t step, size_t wait)
{
	if (needed) {
		it->verdict = OPS_EXPLAIN_KEPT;
		return 0;
	}
	if (step != NONE) {
		it->verdict = OPS_EXPLAIN_GOES;
		return add(it, cap, (struct ops_explain_reason){
			.why = OPS_WHY_GC_STEP,
			.action = f->plan.steps[step].action });
	}
	it->verdict = OPS_EXPLAIN_WAITS;
	if (wait == NONE)
		return 0;
	return add(it, cap, (struct ops_explain_reason){
		.why = OPS_WHY_GC_WAIT, .wait = f->plan.waits[wait] });
}

/* What the item is: whose, and for the volume's own snapshots why they
 * are kept or marked. Sets *collected for what gc already took. */
static int identity(const struct ops_explanation *e, const struct facts *f,
		    struct ops_explain_item *it, size_t *cap, size_t row,
		    bool weighed, const struct policy_retention *why,
		    bool *collected)
{
	const struct catalog_gc_state *st = f->st;
	size_t i = is_image_row(row) ? image_row(row)
				     : image_at(st, it->image.id);
	int rc = 0;

	*collected = (i != NONE && st->images[i].purged) ||
		     (!is_image_row(row) && st->snapshots[row].removed);
	if (*collected) {
		it->verdict = OPS_EXPLAIN_COLLECTED;
		return add(it, cap, (struct ops_explain_reason){
			.why = OPS_WHY_COLLECTED,
			.at = it->snapshot.id && it->snapshot.removed_at
			      ? it->snapshot.removed_at : it->image.purged_at });
	}
	if (!it->image.volume_id)
		rc = add(it, cap, (struct ops_explain_reason){
			.why = OPS_WHY_FOREIGN });
	else if (it->image.volume_id != e->volume.id)
		rc = add(it, cap, (struct ops_explain_reason){
			.why = OPS_WHY_OTHER_VOLUME,
			.volume_id = it->image.volume_id });
	else if (!is_image_row(row))
		rc = own_snapshot_reasons(e, it, cap, weighed, why);
	if (rc == 0 && is_image_row(row) && f->operating_of[i])
		rc = add(it, cap, (struct ops_explain_reason){
			.why = OPS_WHY_OPERATING,
			.volume_id = f->operating_of[i] });
	return rc;
}

static int flattens(struct ops_explanation *e, const struct facts *f,
		    const size_t *rows, size_t *caps, struct rc_error *err);

/* The reasons of every item, from the facts, in passes so that each
 * item's read in order: what it is, what needs it, gc's answer, and what
 * flattens would free it. */
static int explain_items(struct ops_explanation *e, const struct facts *f,
			 const size_t *rows, struct rc_error *err)
{
	const struct catalog_gc_state *st = f->st;
	struct policy_retention *why = NULL;
	bool *weighed = NULL, *collected = NULL;
	size_t *caps = NULL, *item_of_image = NULL, *item_of_snap = NULL;
	int rc = 0;

	why = calloc(e->count + 1, sizeof(*why));
	weighed = calloc(e->count + 1, sizeof(*weighed));
	collected = calloc(e->count + 1, sizeof(*collected));
	caps = calloc(e->count + 1, sizeof(*caps));
	item_of_image = malloc((st->image_count + 1) * sizeof(size_t));
	item_of_snap = malloc((st->snapshot_count + 1) * sizeof(size_t));
	if (!why || !weighed || !collected || !caps || !item_of_image ||
	    !item_of_snap) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < st->image_count; i++)
		item_of_image[i] = NONE;
	for (size_t s = 0; s < st->snapshot_count; s++)
		item_of_snap[s] = NONE;
	for (size_t k = 0; k < e->count; k++) {
		if (is_image_row(rows[k]))
			item_of_image[image_row(rows[k])] = k;
		else
			item_of_snap[rows[k]] = k;
	}
	rc = retention(e, weighed, why, err);
	for (size_t k = 0; rc == 0 && k < e->count; k++)
		rc = identity(e, f, &e->items[k], &caps[k], rows[k], weighed[k],
			      &why[k], &collected[k]);
	/* the needed images that read through each snapshot */
	for (size_t c = 0; rc == 0 && c < st->image_count; c++) {
		size_t parent = parent_read(st, c), k;

		if (!f->image_needed[c] || parent == NONE)
			continue;
		k = item_of_snap[parent];
		if (k == NONE || collected[k])
			continue;
		rc = add(&e->items[k], &caps[k], (struct ops_explain_reason){
			.why = OPS_WHY_READ_BY,
			.image_id = st->images[c].id,
			.volume_id = st->images[c].volume_id,
			.chain = f->chain_of[c] != 0,
			.operating = f->operating_of[c] != 0 });
	}
	/* the needed snapshots each image carries */
	for (size_t s = 0; rc == 0 && s < st->snapshot_count; s++) {
		size_t i = image_at(st, st->snapshots[s].image_id), k;

		if (!f->snap_needed[s] || i == NONE)
			continue;
		k = item_of_image[i];
		if (k == NONE || collected[k])
			continue;
		rc = add(&e->items[k], &caps[k], (struct ops_explain_reason){
			.why = OPS_WHY_CARRIES,
			.snapshot_id = st->snapshots[s].id });
	}
	for (size_t k = 0; rc == 0 && k < e->count; k++) {
		struct ops_explain_item *it = &e->items[k];
		size_t r = rows[k], i = image_row(r);

		if (collected[k])
			continue;
		if (!is_image_row(r)) {
			rc = fate(f, it, &caps[k], f->snap_needed[r],
				  f->snap_step[r], f->snap_wait[r]);
			continue;
		}
		if (!f->image_needed[i] && it->image.volume_id)
			rc = add(it, &caps[k], (struct ops_explain_reason){
				.why = it->image.volume_id == e->volume.id &&
				       e->volume.marked_at
				       ? OPS_WHY_VOLUME_REMOVED
				       : OPS_WHY_UNNEEDED,
				.volume_id = it->image.volume_id,
				.at = e->volume.marked_at });
		if (rc == 0)
			rc = fate(f, it, &caps[k], f->image_needed[i],
				  f->image_step[i], f->image_wait[i]);
	}
	if (rc < 0 && rc != -ENOMEM)
		goto out;
	if (rc < 0)
		rc = rc_error_set(err, rc, "out of memory");
	else
		rc = flattens(e, f, rows, caps, err);
out:
	free(item_of_snap);
	free(item_of_image);
	free(caps);
	free(collected);
	free(weighed);
	free(why);
	return rc;
}

/* ---- flattens ------------------------------------------------------------- */

/* For each operating image among the items that reads through a parent:
 * what the planner no longer needs once it is flattened. */
static int flattens(struct ops_explanation *e, const struct facts *f,
		    const size_t *rows, size_t *caps, struct rc_error *err)
{
	const struct catalog_gc_state *st = f->st;
	struct catalog_gc_state what_if = *st;
	struct catalog_gc_image *images = NULL;
	bool *image_needed = NULL, *snap_needed = NULL;
	size_t cap = 0;
	int rc = 0;

	images = malloc((st->image_count + 1) * sizeof(*images));
	image_needed = calloc(st->image_count + 1, sizeof(bool));
	snap_needed = calloc(st->snapshot_count + 1, sizeof(bool));
	if (!images || !image_needed || !snap_needed) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	what_if.images = images;
	for (size_t k = 0; rc == 0 && k < e->count; k++) {
		struct ops_explain_flatten *fl;
		size_t i = image_row(rows[k]), fcap = 0;

		if (!is_image_row(rows[k]) || !f->operating_of[i] ||
		    parent_read(st, i) == NONE)
			continue;
		memcpy(images, st->images, st->image_count * sizeof(*images));
		images[i].flattened = true;
		rc = catalog_gc_needed(&what_if, image_needed, snap_needed, err);
		if (rc < 0)
			break;
		if (rc_grow((void **)&e->flattens, &cap, e->flatten_count + 1,
			    sizeof(*e->flattens), 4) < 0) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			break;
		}
		fl = &e->flattens[e->flatten_count++];
		*fl = (struct ops_explain_flatten){
			.volume_id = f->operating_of[i],
			.image_id = st->images[i].id };
		for (size_t j = 0; rc == 0 && j < e->count; j++) {
			size_t r = rows[j];
			bool before = is_image_row(r) ? f->image_needed[image_row(r)]
						      : f->snap_needed[r];
			bool after = is_image_row(r) ? image_needed[image_row(r)]
						     : snap_needed[r];

			/* a foreign ancestor nothing needs any more still
			 * stays: gc never collects it */
			if (!before || after || !e->items[j].image.volume_id)
				continue;
			if (rc_grow((void **)&fl->items, &fcap, fl->count + 1,
				    sizeof(*fl->items), 8) < 0 ||
			    add(&e->items[j], &caps[j],
				(struct ops_explain_reason){
					.why = OPS_WHY_FLATTEN_FREES,
					.image_id = fl->image_id,
					.volume_id = fl->volume_id }) < 0)
				rc = rc_error_set(err, -ENOMEM, "out of memory");
			else
				fl->items[fl->count++] = j;
		}
	}
out:
	free(snap_needed);
	free(image_needed);
	free(images);
	return rc;
}

/* ---- the whole ------------------------------------------------------------ */

int ops_explain(struct ops_explanation **out, struct catalog *cat,
		const struct catalog_volume *volume,
		const struct policy *policy,
		const struct catalog_gc_options *gc, struct rc_error *err)
{
	struct ops_explanation *e = calloc(1, sizeof(*e));
	struct catalog_gc_state st = {0};
	struct facts f = {0};
	size_t *rows = NULL;
	bool reading = false;
	int rc;

	*out = NULL;
	if (!e)
		return rc_error_set(err, -ENOMEM, "out of memory");
	e->policy = policy;
	e->gc = *gc;
	/* one read: the state, the rows and the volume agree */
	rc = catalog_read_begin(cat, err);
	reading = rc == 0;
	if (rc == 0)
		rc = catalog_volume_get(cat, volume->id, &e->volume, err);
	if (rc == 0)
		rc = catalog_gc_state_load(cat, 0, &st, err);
	if (rc == 0)
		rc = gather_facts(&f, &st, &e->volume, gc, err);
	if (rc == 0 && volume_at(&st, volume->id) == NONE)
		rc = rc_error_set(err, -ENOENT, "volume '%s' is not in the "
				  "catalog", volume->name);
	if (rc == 0) {
		choose_items(&f);
		rc = read_items(e, cat, &f, &rows, err);
	}
	if (rc == 0)
		rc = read_volumes(e, cat, err);
	if (reading)
		catalog_read_end(cat);
	if (rc == 0)
		rc = explain_items(e, &f, rows, err);
	free(rows);
	facts_free(&f);
	catalog_gc_state_free(&st);
	if (rc < 0) {
		ops_explanation_free(e);
		return rc;
	}
	*out = e;
	return 0;
}
