/*
 * What gc would free of a volume, in the bytes du measured: the pure
 * part of rowcat du, with no cluster and no catalog connection. The
 * planner decides what goes (catalog_gc_plan, the very function gc
 * runs); this file only reads its steps. "After a flatten" is the plan
 * of the same state with the operating image marked flattened, as
 * `rowcat flatten` would leave the catalog: whatever that plan collects
 * beyond the plan of now is what the flatten would let go.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static struct ops_du_image *own_image(struct ops_du_report *r, int64_t id)
{
	for (size_t i = 0; i < r->image_count; i++)
		if (r->images[i].owner == OPS_DU_OWN &&
		    r->images[i].image.id == id)
			return &r->images[i];
	return NULL;
}

static struct ops_du_snapshot *snapshot_of(struct ops_du_image *img,
					   int64_t id)
{
	for (size_t s = 0; img && s < img->snapshot_count; s++)
		if (img->snapshots[s].snapshot_id == id)
			return &img->snapshots[s];
	return NULL;
}

/* An image the plan moves to the trash: it frees what it holds, its
 * snapshots included, which go with it. */
static void count_trash(struct ops_du_image *img, enum ops_du_gc verdict,
			struct ops_du_frees *f)
{
	if (!img) {
		f->unmeasured++;
		return;
	}
	if (img->gc != OPS_DU_GC_KEEPS)
		return;
	img->gc = verdict;
	f->images++;
	if (img->state == OPS_DU_MEASURED)
		f->bytes += img->used;
	else
		f->unmeasured++;
	for (size_t s = 0; s < img->snapshot_count; s++)
		if (img->snapshots[s].gc == OPS_DU_GC_KEEPS)
			img->snapshots[s].gc = verdict;
}

/* A snapshot the plan removes: counted unless its image went to the
 * trash in this plan or an earlier one (then it was counted with it, or
 * not measured). */
static void count_snapshot(struct ops_du_image *img, int64_t id,
			   enum ops_du_gc verdict, struct ops_du_frees *f)
{
	struct ops_du_snapshot *snap = snapshot_of(img, id);

	if (!snap) {
		f->unmeasured++;
		return;
	}
	if (snap->gc != OPS_DU_GC_KEEPS)
		return;
	snap->gc = verdict;
	if (img->state == OPS_DU_IN_TRASH || snap->state != OPS_DU_MEASURED) {
		f->unmeasured++;
		return;
	}
	f->snapshots++;
	f->bytes += snap->used;
}

/* A purge: of an image this plan moved, counted with the move; of one an
 * earlier run moved, not measured (du reads nothing in the trash). */
static void count_purge(struct ops_du_image *img, enum ops_du_gc verdict,
			struct ops_du_frees *f)
{
	if (img && img->gc != OPS_DU_GC_KEEPS)
		return;
	if (img)
		img->gc = verdict;
	f->unmeasured++;
}

static void count_plan(struct ops_du_report *r,
		       const struct catalog_gc_plan *plan,
		       enum ops_du_gc verdict, struct ops_du_frees *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t k = 0; k < plan->count; k++) {
		const struct catalog_gc_step *step = &plan->steps[k];
		struct ops_du_image *img;

		if (step->volume_id != r->volume.id)
			continue;
		img = own_image(r, step->image_id);
		switch (step->action) {
		case CATALOG_GC_TRASH:
			count_trash(img, verdict, f);
			break;
		case CATALOG_GC_REMOVE_SNAPSHOT:
			count_snapshot(img, step->snapshot_id, verdict, f);
			break;
		case CATALOG_GC_PURGE:
			count_purge(img, verdict, f);
			break;
		}
	}
}

/* The index in state of the volume's operating image when it reads
 * through a parent (a flatten would change something), else SIZE_MAX. */
static size_t flattenable(const struct catalog_gc_state *state,
			  int64_t volume_id)
{
	int64_t op = 0;

	for (size_t v = 0; v < state->volume_count; v++)
		if (state->volumes[v].id == volume_id)
			op = state->volumes[v].operating_image_id;
	for (size_t i = 0; op && i < state->image_count; i++) {
		const struct catalog_gc_image *img = &state->images[i];

		if (img->id == op)
			return img->parent_snapshot_id && !img->flattened
				? i : SIZE_MAX;
	}
	return SIZE_MAX;
}

int ops_du_frees(struct ops_du_report *report,
		 const struct catalog_gc_state *state,
		 const struct catalog_gc_options *opts, struct rc_error *err)
{
	struct catalog_gc_plan now = {0}, flat = {0};
	struct catalog_gc_state flattened = *state;
	struct catalog_gc_image *images = NULL;
	size_t op = flattenable(state, report->volume.id);
	int rc;

	for (size_t i = 0; i < report->image_count; i++) {
		report->images[i].gc = OPS_DU_GC_KEEPS;
		for (size_t s = 0; s < report->images[i].snapshot_count; s++)
			report->images[i].snapshots[s].gc = OPS_DU_GC_KEEPS;
	}
	memset(&report->after_flatten, 0, sizeof(report->after_flatten));
	rc = catalog_gc_plan(state, opts, &now, err);
	if (rc < 0)
		goto out;
	count_plan(report, &now, OPS_DU_GC_NOW, &report->gc_now);
	report->can_flatten = op != SIZE_MAX;
	if (!report->can_flatten)
		goto out;
	images = malloc((state->image_count + 1) * sizeof(*images));
	if (!images) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(images, state->images, state->image_count * sizeof(*images));
	images[op].flattened = true;
	flattened.images = images;
	rc = catalog_gc_plan(&flattened, opts, &flat, err);
	if (rc == 0)
		count_plan(report, &flat, OPS_DU_GC_AFTER_FLATTEN,
			   &report->after_flatten);
out:
	catalog_gc_plan_free(&now);
	catalog_gc_plan_free(&flat);
	free(images);
	return rc;
}
