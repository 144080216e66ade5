/*
 * rowcat du: what each image and snapshot of a volume's tree holds on
 * its own, as `rbd du` counts it, and what gc would free.
 *
 *   catalog (one read): the volume, its tree, the ancestors it reads
 *                       through that are not its own, gc's state
 *   cluster:            each image not in the trash measured through one
 *                       open (rbdops_image_usage), `jobs` at a time,
 *                       none inside the catalog's read
 *   pure:               gc's plans of now and after a flatten, summed
 *                       (du_frees.c)
 *
 * The catalog names what belongs to the volume; the cluster's snapshot
 * list is what rbd du diffs along, so a snapshot the catalog does not
 * know is measured and listed as well (it holds bytes of that image),
 * and one the catalog has but the cluster lacks is missing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/sys/grow.h"
#include "internal.h"

struct du_build {
	struct ops_du_report *r;
	size_t cap;
	const struct catalog_lineage *lin;
};

static struct ops_du_image *add_image(struct du_build *b,
				      const struct catalog_image *image,
				      enum ops_du_owner owner)
{
	struct ops_du_report *r = b->r;
	struct ops_du_image *img;

	if (rc_grow((void **)&r->images, &b->cap, r->image_count + 1,
		    sizeof(*r->images), 16) < 0)
		return NULL;
	img = &r->images[r->image_count++];
	memset(img, 0, sizeof(*img));
	img->image = *image;
	img->owner = owner;
	img->operating = image->id == r->volume.operating_image_id;
	if (image->purged_at)
		img->state = OPS_DU_GONE;
	else if (image->removed_at)
		img->state = OPS_DU_IN_TRASH;
	else
		img->state = OPS_DU_MEASURED; /* until the cluster says not */
	snprintf(img->rbd_id, sizeof(img->rbd_id), "%s", image->rbd_id);
	return img;
}

/* The catalog's snapshots of an own image, in the tree's order. */
static int add_catalog_snapshots(struct du_build *b, struct ops_du_image *img)
{
	const struct catalog_lineage *lin = b->lin;
	size_t n = 0, k = 0;

	for (size_t s = 0; s < lin->snapshot_count; s++)
		n += lin->snapshots[s].image_id == img->image.id;
	img->snapshots = calloc(n + 1, sizeof(*img->snapshots));
	if (!img->snapshots)
		return -ENOMEM;
	for (size_t s = 0; s < lin->snapshot_count; s++) {
		const struct catalog_snapshot *cs = &lin->snapshots[s];
		struct ops_du_snapshot *snap;

		if (cs->image_id != img->image.id)
			continue;
		snap = &img->snapshots[k++];
		snap->snapshot_id = cs->id;
		snprintf(snap->name, sizeof(snap->name), "%s", cs->name);
		snap->state = cs->removed_at ? OPS_DU_GONE
			    : img->state == OPS_DU_MEASURED ? OPS_DU_MEASURED
			    : img->state;
	}
	img->snapshot_count = k;
	return 0;
}

/* The volume's images, and those above its adopted roots that it reads
 * through but does not own (its lineage holds both), from the catalog;
 * nothing measured yet. */
static int collect(struct du_build *b, struct rc_error *err)
{
	const struct catalog_lineage *lin = b->lin;

	for (size_t i = 0; i < lin->image_count; i++) {
		bool own = catalog_lineage_owns(lin, &lin->images[i]);
		struct ops_du_image *img = add_image(b, &lin->images[i],
			own ? OPS_DU_OWN : OPS_DU_READ_THROUGH);

		if (!img || (own && add_catalog_snapshots(b, img) < 0))
			return rc_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* The catalog's snapshot of img called name, or NULL. */
static struct ops_du_snapshot *named(struct ops_du_image *img,
				     const char *name)
{
	for (size_t s = 0; s < img->snapshot_count; s++)
		if (img->snapshots[s].state != OPS_DU_GONE &&
		    strcmp(img->snapshots[s].name, name) == 0)
			return &img->snapshots[s];
	return NULL;
}

/* Puts the cluster's rows on img: the catalog's snapshots by name, those
 * it lacks after them; a snapshot the cluster lacks is missing. */
static int apply_usage(struct ops_du_image *img, const struct rbdops_usage *u)
{
	size_t extra = 0, k;
	const struct rbdops_usage_row *head = &u->rows[u->count - 1];
	struct ops_du_snapshot *grown;

	for (size_t s = 0; s < img->snapshot_count; s++)
		if (img->snapshots[s].state == OPS_DU_MEASURED)
			img->snapshots[s].state = OPS_DU_MISSING;
	for (size_t i = 0; i + 1 < u->count; i++)
		extra += named(img, u->rows[i].snapshot) == NULL;
	grown = realloc(img->snapshots,
			(img->snapshot_count + extra + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	img->snapshots = grown;
	k = img->snapshot_count;
	snprintf(img->rbd_id, sizeof(img->rbd_id), "%s", u->id);
	img->fast_diff_feature = u->fast_diff_feature;
	img->fast_diff = true;
	img->used = 0;
	for (size_t i = 0; i < u->count; i++) {
		const struct rbdops_usage_row *row = &u->rows[i];
		struct ops_du_snapshot *snap;

		img->fast_diff = img->fast_diff && row->fast_diff;
		img->used += row->used;
		if (row == head)
			break;
		snap = named(img, row->snapshot);
		if (!snap) {
			snap = &img->snapshots[k++];
			memset(snap, 0, sizeof(*snap));
			snprintf(snap->name, sizeof(snap->name), "%s",
				 row->snapshot);
		}
		snap->state = OPS_DU_MEASURED;
		snap->rbd_snap_id = row->snap_id;
		snap->provisioned = row->provisioned;
		snap->used = row->used;
		snap->fast_diff = row->fast_diff;
	}
	img->snapshot_count = k;
	img->provisioned = head->provisioned;
	img->head_used = head->used;
	return 0;
}

/* Measures one image that is on the cluster by the catalog. */
static int measure_one(struct rbd_conn *conn, struct ops_du_image *img,
		       struct rc_error *err)
{
	struct rbdops_usage u;
	int rc = rbdops_image_usage(conn, &img->image.spec, &u, err);

	if (rc == -ENOENT || rc == RBDOPS_NO_POOL) {
		rc_error_clear(err);
		img->state = OPS_DU_MISSING;
		for (size_t s = 0; s < img->snapshot_count; s++)
			if (img->snapshots[s].state == OPS_DU_MEASURED)
				img->snapshots[s].state = OPS_DU_MISSING;
		return 0;
	}
	if (rc < 0)
		return rc;
	rc = apply_usage(img, &u);
	rbdops_usage_free(&u);
	if (rc < 0)
		return rc_error_set(err, rc, "out of memory");
	return 0;
}

/*
 * The images are measured `jobs` at a time: each open of a clone reads
 * its whole parent chain, one round trip after the other, so at depth 100
 * a volume's opens are some 5,000 image opens that wait on the OSDs far
 * more than they compute.
 */
struct measuring {
	pthread_mutex_t lock;
	struct rbd_conn *conn;
	struct ops_du_report *r;
	size_t next;
	int rc;
	struct rc_error err;
};

static void *measure_worker(void *arg)
{
	struct measuring *m = arg;
	struct rc_error err = {0};

	for (;;) {
		struct ops_du_image *img = NULL;
		int rc;

		pthread_mutex_lock(&m->lock);
		while (m->rc == 0 && m->next < m->r->image_count && !img) {
			img = &m->r->images[m->next++];
			if (img->state != OPS_DU_MEASURED)
				img = NULL;
		}
		pthread_mutex_unlock(&m->lock);
		if (!img)
			break;
		rc = measure_one(m->conn, img, &err);
		if (rc < 0) {
			pthread_mutex_lock(&m->lock);
			if (m->rc == 0) {
				m->rc = rc;
				m->err = err;
			}
			pthread_mutex_unlock(&m->lock);
			break;
		}
	}
	return NULL;
}

/* Measures every image that is on the cluster by the catalog. */
static int measure(struct rbd_conn *conn, struct ops_du_report *r, int jobs,
		   struct rc_error *err)
{
	struct measuring m = { .conn = conn, .r = r };
	pthread_t threads[OPS_DU_MAX_JOBS];
	int started = 0;

	if (jobs < 1)
		jobs = 1;
	if (jobs > OPS_DU_MAX_JOBS)
		jobs = OPS_DU_MAX_JOBS;
	pthread_mutex_init(&m.lock, NULL);
	for (; started < jobs && (size_t)started < r->image_count; started++)
		if (pthread_create(&threads[started], NULL, measure_worker,
				   &m) != 0)
			break;
	/* no thread at all: this one does the work */
	if (started == 0)
		measure_worker(&m);
	for (int t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	pthread_mutex_destroy(&m.lock);
	if (m.rc < 0) {
		*err = m.err;
		return m.rc;
	}
	for (size_t i = 0; i < r->image_count; i++) {
		const struct ops_du_image *img = &r->images[i];

		if (img->state != OPS_DU_MEASURED)
			continue;
		if (img->owner == OPS_DU_OWN)
			r->total += img->used;
		else
			r->read_through += img->used;
	}
	return 0;
}

/* Everything du needs of the catalog, read in one transaction. */
static int read_catalog(struct catalog *cat, const char *volume,
			struct ops_du_report *r, struct catalog_gc_state *state,
			struct rc_error *err)
{
	struct catalog_lineage *lin = NULL;
	struct du_build b = { r, 0, NULL };
	int rc = catalog_read_begin(cat, err);

	if (rc < 0)
		return rc;
	rc = catalog_volume_find(cat, volume, &r->volume, err);
	if (rc == 0)
		rc = catalog_lineage_load(&lin, cat, &r->volume, err);
	b.lin = lin;
	if (rc == 0)
		rc = collect(&b, err);
	if (rc == 0)
		rc = catalog_gc_state_load(cat, 0, state, err);
	catalog_read_end(cat);
	catalog_lineage_free(lin);
	return rc;
}

int ops_volume_du(struct rbd_conn *conn, struct catalog *cat,
		  const char *volume, const struct catalog_gc_options *opts,
		  int jobs, struct ops_du_report *out, struct rc_error *err)
{
	struct catalog_gc_state state = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = read_catalog(cat, volume, out, &state, err);
	if (rc == 0)
		rc = measure(conn, out, jobs, err);
	if (rc == 0)
		rc = ops_du_frees(out, &state, opts, err);
	catalog_gc_state_free(&state);
	return rc;
}

void ops_du_report_free(struct ops_du_report *report)
{
	for (size_t i = 0; report && i < report->image_count; i++)
		free(report->images[i].snapshots);
	if (report) {
		free(report->images);
		memset(report, 0, sizeof(*report));
	}
}
