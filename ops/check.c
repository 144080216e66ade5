/*
 * rowcat check: the catalog against the cluster. It only reads.
 *
 * For each volume: every image the catalog says exists must exist, with
 * the parent link the catalog gives it (none once flattened); every
 * snapshot must exist with the catalog's protection; a snapshot on one of
 * those images that the catalog does not know is reported. Then every
 * image in the volumes' pools named as one of their clones (VOL.rcN) that
 * the catalog does not know is an orphan, unless a running operation is
 * making it; every running operation is reported too. An image gc moved
 * to the trash must be there until gc purges it, and gone after.
 *
 * An adopted volume may read through images that are not its own. A
 * foreign ancestor (no volume's: a Glance image) is checked once a run as
 * the catalog recorded it, its parent link and the snapshots the chain
 * goes through; its other snapshots are not rowcat's to know, nor is the
 * image an orphan of anyone. Another volume's image is checked with that
 * volume.
 *
 * Each image is read from its header (rbdops_header_read), not opened: an
 * open reads the image's whole parent chain, which made a check of a
 * volume n snapshots deep cost n²/2 opens of a level. What the header
 * cannot tell for sure, and a parent link that differs from the
 * catalog's, is looked at through an open as before, which words the
 * report.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/sys/grow.h"
#include "internal.h"

struct checker {
	struct rbd_conn *conn;
	struct catalog *cat;
	ops_difference_fn fn;
	void *ctx;
	struct rc_error *err;   /* the check's own: fn explains its failure */
	size_t count;
	struct catalog_operation *running;
	size_t running_count;
	int64_t *foreign_done;  /* foreign ancestors checked already */
	size_t foreign_count, foreign_cap;
};

static const char *const kind_names[] = {
	[OPS_DIFF_MISSING_IMAGE] = "missing-image",
	[OPS_DIFF_PARENT] = "parent",
	[OPS_DIFF_MISSING_SNAPSHOT] = "missing-snapshot",
	[OPS_DIFF_PROTECTION] = "protection",
	[OPS_DIFF_UNKNOWN_SNAPSHOT] = "unknown-snapshot",
	[OPS_DIFF_ORPHAN_IMAGE] = "orphan-image",
	[OPS_DIFF_UNFINISHED] = "unfinished-operation",
	[OPS_DIFF_TRASH] = "trash",
	[OPS_DIFF_LOST_DATA] = "lost-data",
	[OPS_DIFF_MAP_WITHOUT_OBJECT] = "map-without-object",
};

const char *ops_difference_kind_name(enum ops_difference_kind kind)
{
	return kind_names[kind];
}

static int report(struct checker *c, enum ops_difference_kind kind,
		  const char *volume, const char *subject, const char *fmt, ...)
	RC_PRINTF(5, 6);

static int report(struct checker *c, enum ops_difference_kind kind,
		  const char *volume, const char *subject, const char *fmt, ...)
{
	struct ops_difference diff = { .kind = kind, .volume = volume };
	va_list ap;

	diff.kind_name = ops_difference_kind_name(kind);
	snprintf(diff.subject, sizeof(diff.subject), "%s", subject);
	va_start(ap, fmt);
	vsnprintf(diff.message, sizeof(diff.message), fmt, ap);
	va_end(ap);
	c->count++;
	return c->fn ? c->fn(c->ctx, &diff, c->err) : 0;
}

/* The snapshot (and its image) the catalog says image reads through;
 * *parent NULL for none. */
static void expected_link(const struct catalog_lineage *lin,
			  const struct catalog_image *image,
			  const struct catalog_snapshot **snap,
			  const struct catalog_image **parent)
{
	*snap = NULL;
	*parent = NULL;
	if (image->parent_snapshot_id && !image->flattened_at)
		*snap = catalog_lineage_snapshot(lin, image->parent_snapshot_id);
	if (*snap)
		*parent = catalog_lineage_image(lin, (*snap)->image_id);
}

/* The parent the catalog says image reads through: *has false for none. */
static void expected_parent(const struct catalog_lineage *lin,
			    const struct catalog_image *image, bool *has,
			    char *text, size_t len)
{
	const struct catalog_snapshot *snap;
	const struct catalog_image *parent;
	char spec[RC_SPEC_MAX];

	*has = false;
	expected_link(lin, image, &snap, &parent);
	if (!parent)
		return;
	*has = true;
	rc_image_spec_format(&parent->spec, spec, sizeof(spec));
	snprintf(text, len, "%s@%s", spec, snap->name);
}

static int check_parent(struct checker *c, const struct catalog_lineage *lin,
			const struct catalog_image *image, const char *spec,
			struct rc_error *err)
{
	struct rbdops_parent actual;
	char want[RC_SPEC_MAX + RC_NAME_MAX], have[RC_SPEC_MAX + RC_NAME_MAX];
	bool has_want;
	int rc;

	rc = rbdops_image_parent(c->conn, &image->spec, &actual, err);
	if (rc < 0)
		return rc;
	expected_parent(lin, image, &has_want, want, sizeof(want));
	if (actual.has_parent) {
		rc_image_spec_format(&actual.image, have, RC_SPEC_MAX);
		snprintf(have + strlen(have), sizeof(have) - strlen(have), "@%s",
			 actual.snapshot);
	}
	if (!has_want && !actual.has_parent)
		return 0;
	if (has_want && actual.has_parent && strcmp(want, have) == 0)
		return 0;
	return report(c, OPS_DIFF_PARENT, lin->volume.name, spec,
		      "image %s: parent on the cluster is %s, the catalog says %s",
		      spec, actual.has_parent ? have : "none",
		      has_want ? want : "none");
}

/*
 * The headers of one lineage's images, each read once (rbdops_header_read:
 * no open, so no walk of the parent chain); an image whose header cannot
 * be read so is opened instead, as before.
 */
struct lineage_headers {
	struct rbdops_header *items;
	signed char *state; /* 0 unread, 1 read, -1 open it instead */
	size_t count;
};

static const struct rbdops_header *header_of(struct checker *c,
					     struct lineage_headers *h,
					     const struct catalog_lineage *lin,
					     const struct catalog_image *image)
{
	struct rc_error ignored = {0};
	size_t i = (size_t)(image - lin->images);

	if (i >= h->count || image->removed_at)
		return NULL;
	if (h->state[i] == 0)
		h->state[i] = rbdops_header_read(c->conn, &image->spec,
						 &h->items[i], &ignored) == 0
			? 1 : -1;
	return h->state[i] == 1 ? &h->items[i] : NULL;
}

static void lineage_headers_free(struct lineage_headers *h)
{
	for (size_t i = 0; h->items && i < h->count; i++)
		rbdops_header_free(&h->items[i]);
	free(h->items);
	free(h->state);
}

/* The parent link, from the headers when they agree with the catalog;
 * anything else is looked at through an open, which words the report. */
static int check_parent_fast(struct checker *c, struct lineage_headers *h,
			     const struct catalog_lineage *lin,
			     const struct catalog_image *image,
			     const struct rbdops_header *header,
			     const char *spec, struct rc_error *err)
{
	const struct catalog_snapshot *snap;
	const struct catalog_image *parent;
	const struct rbdops_header *parent_header;

	expected_link(lin, image, &snap, &parent);
	if (!parent && !header->has_parent)
		return 0;
	parent_header = parent ? header_of(c, h, lin, parent) : NULL;
	if (parent_header &&
	    rbdops_header_parent_is(header, parent_header, snap->name))
		return 0;
	return check_parent(c, lin, image, spec, err);
}

/* Whether a running operation is taking snapshot `name` of image. */
static bool is_running_target_snapshot(const struct checker *c,
				       const struct catalog_image *image,
				       const char *name)
{
	for (size_t i = 0; i < c->running_count; i++)
		if (c->running[i].image_id == image->id &&
		    strcmp(c->running[i].target_snapshot, name) == 0)
			return true;
	return false;
}

/* Whether a running operation is making the image at spec. */
static bool is_running_target_image(const struct checker *c,
				    const struct rc_image_spec *spec)
{
	for (size_t i = 0; i < c->running_count; i++) {
		const struct rc_image_spec *t = &c->running[i].target;
		if (strcmp(t->pool, spec->pool) == 0 &&
		    strcmp(t->ns, spec->ns) == 0 &&
		    strcmp(t->name, spec->name) == 0)
			return true;
	}
	return false;
}

/* Whether a running gc operation works on image_id: it is reported as
 * unfinished, and the image may be anywhere between its steps. */
static bool is_being_collected(const struct checker *c, int64_t image_id)
{
	for (size_t i = 0; i < c->running_count; i++)
		if (catalog_op_is_gc(c->running[i].kind) &&
		    c->running[i].image_id == image_id)
			return true;
	return false;
}

/* The snapshots of image: those the catalog has must be there, as it
 * says; of the volume's own images, those it does not have are reported. */
static int check_snapshots(struct checker *c, const struct catalog_lineage *lin,
			   const struct catalog_image *image, const char *spec,
			   const struct rbdops_header *header,
			   struct rc_error *err)
{
	struct rbdops_snapshot *listed = NULL;
	const struct rbdops_snapshot *snaps;
	char subject[RC_SPEC_MAX + RC_NAME_MAX];
	size_t count = 0;
	int rc = 0;

	if (header) {
		snaps = header->snapshots;
		count = header->snapshot_count;
	} else {
		rc = rbdops_snapshot_list(c->conn, &image->spec, &listed,
					  &count, err);
		snaps = listed;
	}
	if (rc < 0)
		goto out;
	for (size_t s = 0; s < lin->snapshot_count && rc == 0; s++) {
		const struct catalog_snapshot *snap = &lin->snapshots[s];
		const struct rbdops_snapshot *found = NULL;

		if (snap->image_id != image->id || snap->removed_at)
			continue;
		snprintf(subject, sizeof(subject), "%s@%s", spec, snap->name);
		for (size_t k = 0; k < count && !found; k++)
			if (strcmp(snaps[k].name, snap->name) == 0)
				found = &snaps[k];
		if (!found) {
			rc = report(c, OPS_DIFF_MISSING_SNAPSHOT, lin->volume.name,
				    subject, "snapshot %s is in the catalog but not "
				    "on the cluster", subject);
			continue;
		}
		if (found->is_protected != snap->is_protected)
			rc = report(c, OPS_DIFF_PROTECTION, lin->volume.name,
				    subject, "snapshot %s is %s on the cluster, %s "
				    "in the catalog", subject,
				    found->is_protected ? "protected" : "unprotected",
				    snap->is_protected ? "protected" : "unprotected");
	}
	/* an image the volume reads through but does not own (a foreign
	 * ancestor, another volume's image) has in its lineage only the
	 * snapshots the chain reads: its others are not the volume's */
	for (size_t k = 0; k < count && rc == 0 &&
			   catalog_lineage_owns(lin, image); k++) {
		bool known = false;

		for (size_t s = 0; s < lin->snapshot_count; s++)
			known = known || (lin->snapshots[s].image_id == image->id &&
					  !lin->snapshots[s].removed_at &&
					  strcmp(lin->snapshots[s].name,
						 snaps[k].name) == 0);
		if (known || is_running_target_snapshot(c, image, snaps[k].name))
			continue;
		snprintf(subject, sizeof(subject), "%s@%s", spec, snaps[k].name);
		rc = report(c, OPS_DIFF_UNKNOWN_SNAPSHOT, lin->volume.name,
			    subject, "snapshot %s is on the cluster but not in "
			    "the catalog", subject);
	}
out:
	free(listed);
	return rc;
}

/* An image gc took out of the lineage: in the trash, or purged. A gc step
 * still running on it may be between the two. */
static int check_collected(struct checker *c, const struct catalog_lineage *lin,
			   const struct catalog_image *image, const char *spec,
			   struct rc_error *err)
{
	enum rbdops_whereabouts where;
	int rc;

	if (!image->rbd_id[0])
		return report(c, OPS_DIFF_TRASH, lin->volume.name, spec,
			      "image %s was collected without a recorded id",
			      spec);
	rc = rbdops_trash_whereabouts(c->conn, &image->spec, image->rbd_id,
				      &where, err);
	if (rc == RBDOPS_NO_POOL)
		rc_error_clear(err);
	if (rc == RBDOPS_NO_POOL && !image->purged_at)
		return report(c, OPS_DIFF_TRASH, lin->volume.name, spec,
			      "image %s (id %s) should be in the trash until gc "
			      "purges it, but its pool '%s' does not exist",
			      spec, image->rbd_id, image->spec.pool);
	if (rc == RBDOPS_NO_POOL)
		return 0; /* purged, and its pool gone after it */
	if (rc < 0)
		return rc;
	if (where == RBDOPS_IN_POOL)
		return report(c, OPS_DIFF_TRASH, lin->volume.name, spec,
			      "image %s (id %s) was moved to the trash by gc but "
			      "is back in the pool (restored from the trash?)",
			      spec, image->rbd_id);
	if (!image->purged_at && where == RBDOPS_GONE)
		return report(c, OPS_DIFF_TRASH, lin->volume.name, spec,
			      "image %s (id %s) should be in the trash until gc "
			      "purges it, but is gone", spec, image->rbd_id);
	if (image->purged_at && where == RBDOPS_IN_TRASH)
		return report(c, OPS_DIFF_TRASH, lin->volume.name, spec,
			      "image %s (id %s) was purged by gc but is still in "
			      "the trash", spec, image->rbd_id);
	return 0;
}

/* Whether lin's image is to be checked with lin's volume: its own, and
 * a foreign ancestor the first time a run meets it. */
static int check_here(struct checker *c, const struct catalog_lineage *lin,
		      const struct catalog_image *image, bool *here,
		      struct rc_error *err)
{
	*here = catalog_lineage_owns(lin, image);
	if (*here || image->volume_id != 0)
		return 0;
	for (size_t k = 0; k < c->foreign_count; k++)
		if (c->foreign_done[k] == image->id)
			return 0;
	if (rc_grow((void **)&c->foreign_done, &c->foreign_cap,
		    c->foreign_count + 1, sizeof(*c->foreign_done), 16) < 0)
		return rc_error_set(err, -ENOMEM, "out of memory");
	c->foreign_done[c->foreign_count++] = image->id;
	*here = true;
	return 0;
}

static int check_images(struct checker *c, const struct catalog_lineage *lin,
			struct rc_error *err)
{
	struct lineage_headers h = { .count = lin->image_count };
	const struct rbdops_header *header;
	char spec[RC_SPEC_MAX];
	bool exists, here;
	int rc = 0;

	h.items = calloc(lin->image_count + 1, sizeof(*h.items));
	h.state = calloc(lin->image_count + 1, sizeof(*h.state));
	if (!h.items || !h.state) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < lin->image_count && rc == 0; i++) {
		const struct catalog_image *image = &lin->images[i];

		rc_image_spec_format(&image->spec, spec, sizeof(spec));
		rc = check_here(c, lin, image, &here, err);
		if (rc < 0 || !here)
			continue;
		if (is_being_collected(c, image->id))
			continue;
		if (image->removed_at) {
			rc = check_collected(c, lin, image, spec, err);
			continue;
		}
		header = header_of(c, &h, lin, image);
		exists = header != NULL;
		if (!header)
			rc = rbdops_image_exists(c->conn, &image->spec, &exists,
						 err);
		if (rc == RBDOPS_NO_POOL) {
			rc_error_clear(err);
			rc = report(c, OPS_DIFF_MISSING_IMAGE, lin->volume.name,
				    spec, "image %s is in the catalog but its pool "
				    "'%s' does not exist", spec, image->spec.pool);
			continue;
		}
		if (rc < 0)
			break;
		if (!exists) {
			rc = report(c, OPS_DIFF_MISSING_IMAGE, lin->volume.name,
				    spec, "image %s%s is in the catalog but not on "
				    "the cluster", spec,
				    catalog_lineage_owns(lin, image) ? "" :
				    " (a foreign image the volume reads through)");
			continue;
		}
		rc = header ? check_parent_fast(c, &h, lin, image, header, spec,
						err)
			    : check_parent(c, lin, image, spec, err);
		if (rc == 0)
			rc = check_snapshots(c, lin, image, spec, header, err);
	}
out:
	lineage_headers_free(&h);
	return rc;
}

/* Orphans in the pool and namespace of lin's own root image (not of a
 * foreign image it reads through: rowcat makes no clone there). */
static int check_orphans(struct checker *c, const struct catalog_lineage *lin,
			 struct rc_error *err)
{
	const struct rc_image_spec *root = &catalog_lineage_root(lin)->spec;
	char **names = NULL;
	struct catalog_image known;
	char spec[RC_SPEC_MAX];
	size_t count = 0;
	int rc;

	rc = rbdops_image_list(c->conn, root->pool, root->ns, &names, &count,
			       err);
	if (rc == RBDOPS_NO_POOL) {
		rc_error_clear(err);
		return 0; /* no pool, no orphans: its images are reported */
	}
	for (size_t i = 0; rc == 0 && i < count; i++) {
		struct rc_image_spec candidate = *root;

		if (!ops_is_clone_name(lin->volume.name, names[i]))
			continue;
		snprintf(candidate.name, sizeof(candidate.name), "%s", names[i]);
		rc = catalog_image_find(c->cat, &candidate, &known, err);
		if (rc == 0)
			continue;
		if (rc != -ENOENT)
			break;
		rc_error_clear(err);
		rc = 0;
		if (is_running_target_image(c, &candidate))
			continue;
		rc_image_spec_format(&candidate, spec, sizeof(spec));
		rc = report(c, OPS_DIFF_ORPHAN_IMAGE, lin->volume.name, spec,
			    "image %s is named as a clone of volume '%s' but the "
			    "catalog does not know it (an orphan)", spec,
			    lin->volume.name);
	}
	rbdops_names_free(names, count);
	return rc;
}

static int check_volume(struct checker *c, const struct catalog_volume *volume,
			struct rc_error *err)
{
	struct catalog_lineage *lin = NULL;
	char subject[64];
	int rc;

	rc = catalog_lineage_load(&lin, c->cat, volume, err);
	if (rc == 0)
		rc = check_images(c, lin, err);
	if (rc == 0)
		rc = check_orphans(c, lin, err);
	for (size_t i = 0; rc == 0 && i < c->running_count; i++) {
		const struct catalog_operation *op = &c->running[i];
		if (op->volume_id != volume->id)
			continue;
		snprintf(subject, sizeof(subject), "operation %lld",
			 (long long)op->id);
		rc = report(c, OPS_DIFF_UNFINISHED, volume->name, subject,
			    "operation %lld (%s of volume '%s') is unfinished "
			    "since step '%s'; 'rowcat recover' settles it",
			    (long long)op->id, catalog_op_kind_name(op->kind),
			    volume->name, catalog_op_step_name(op->step));
	}
	catalog_lineage_free(lin);
	return rc;
}

/* Collects the volumes to check, for catalog_volume_list. */
struct volume_names {
	struct catalog_volume *volumes;
	size_t count, capacity;
};

static int collect_volume(void *ctx, const struct catalog_volume_summary *row,
			  struct rc_error *err)
{
	struct volume_names *all = ctx;

	if (rc_grow((void **)&all->volumes, &all->capacity, all->count + 1,
		    sizeof(*all->volumes), 16) < 0)
		return rc_error_set(err, -ENOMEM, "out of memory");
	all->volumes[all->count++] = row->volume;
	return 0;
}

int ops_check(struct rbd_conn *conn, struct catalog *cat,
	      const char *volume, ops_difference_fn fn, void *ctx,
	      size_t *count, struct rc_error *err)
{
	struct checker c = { .conn = conn, .cat = cat, .fn = fn, .ctx = ctx,
			     .err = err };
	struct volume_names all = {0};
	struct catalog_volume one;
	int rc;

	*count = 0;
	if (volume) {
		rc = catalog_volume_find(cat, volume, &one, err);
		if (rc < 0)
			return rc;
		all.volumes = &one;
		all.count = 1;
	} else {
		rc = catalog_volume_list(cat, collect_volume, &all, err);
		if (rc < 0)
			goto out;
	}
	rc = catalog_op_list_running(cat, &c.running, &c.running_count, err);
	for (size_t i = 0; rc == 0 && i < all.count; i++)
		rc = check_volume(&c, &all.volumes[i], err);
	*count = c.count;
out:
	free(c.running);
	free(c.foreign_done);
	if (!volume)
		free(all.volumes);
	return rc;
}
