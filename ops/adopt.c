/*
 * rowcat adopt: images rowcat did not create become volumes.
 *
 *   read the cluster             judge                  one transaction
 *   ─────────────────────        ─────────────────      ─────────────────────
 *   the image, and each          refuse what is in      foreign ancestors,
 *   parent up to the root        the middle of          the links' snapshots,
 *   (rbdops_image_describe)      something, or          volume, image and its
 *                                rowcat's already       snapshots, op 'adopt'
 *
 * Nothing is done on the cluster, so there is nothing to recover: the
 * operation is journalled done in the transaction that writes its rows
 * (catalog_adopt_record), and a crash before it leaves nothing.
 *
 * What makes an image refused, each with one line: it is in the trash (it
 * cannot be opened by its name), being migrated (rbd_migration_status),
 * the mgr has a task queued for it (`ceph rbd task add flatten`, seen in
 * the pool's rbd_task object whether or not a mgr runs it now), an
 * ancestor is in the trash or being migrated, it carries rowcat's owner
 * tag or a name rowcat gives clones (VOL.rcN) while this catalog does not
 * know it (another catalog's image, or one an interrupted operation left
 * and its recovery may remove), its name is not a volume name, or the
 * catalog refuses it (catalog_adopt_record: a volume's image already, a
 * volume name taken). A flatten that a client runs itself (`rbd flatten`)
 * leaves no such trace: adopted meanwhile, the image is recorded with the
 * parent it still had, and `rowcat check` shows the difference once the
 * flatten ends (`rowcat flatten VOL` then records it).
 *
 * A snapshot in Ceph's trash namespace (removed while a clone still reads
 * it, as ceph-csi does with the snapshot it clones a csi-snap from) is
 * recorded under its name on the cluster, the one `rbd snap ls --all` and
 * `rbd info` of its clone show, and pinned, so that gc never plans to
 * remove it: Ceph removes it itself when its last clone goes.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/clock.h"
#include "rowcat/sys/grow.h"
#include "internal.h"

/* Longer chains than this are taken for a loop in what the cluster says. */
#define ADOPT_MAX_CHAIN 128

/* One image to adopt, its ancestry and what the catalog is given. */
struct candidate {
	struct ops_adopt_item item;
	char volume[RC_NAME_MAX];
	struct catalog_adopt_image *chain;   /* root first */
	size_t chain_length;
	struct catalog_adopt_snapshot *snapshots;
	size_t snapshot_count;
	bool described; /* the image itself was read (a failure after is
			   not its absence) */
};

static void candidate_free(struct candidate *c)
{
	free(c->chain);
	free(c->snapshots);
	c->chain = NULL;
	c->snapshots = NULL;
}

static int refuse(struct candidate *c, const char *fmt, ...) RC_PRINTF(2, 3);

static int refuse(struct candidate *c, const char *fmt, ...)
{
	va_list ap;

	c->item.outcome = OPS_ADOPT_REFUSED;
	va_start(ap, fmt);
	vsnprintf(c->item.message, sizeof(c->item.message), fmt, ap);
	va_end(ap);
	return 0;
}

/* Whether name is one rowcat gives clones, VOL.rcN[-K], for some VOL. */
static bool is_rowcat_clone_name(const char *name)
{
	char volume[RC_NAME_MAX];

	for (const char *p = strstr(name, ".rc"); p; p = strstr(p + 1, ".rc")) {
		snprintf(volume, sizeof(volume), "%.*s", (int)(p - name), name);
		if (volume[0] && ops_is_clone_name(volume, name))
			return true;
	}
	return false;
}

static void snapshot_of(const struct rbdops_snap_desc *s,
			struct catalog_adopt_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", s->name);
	out->is_protected = s->is_protected;
	out->pinned = s->kind != RBDOPS_SNAP_USER;
	out->created_at = s->created_at;
}

static void image_of(const struct rbdops_image_desc *d,
		     struct catalog_adopt_image *out)
{
	memset(out, 0, sizeof(*out));
	out->spec = d->spec;
	snprintf(out->rbd_id, sizeof(out->rbd_id), "%s", d->id);
	out->created_at = d->created_at;
}

/* The words for what an image is in the middle of; false when nothing. */
static bool busy_words(const struct rbdops_image_desc *d, char *buf,
		       size_t len)
{
	if (d->migration[0])
		snprintf(buf, len, "being migrated (migration %s; finish it "
			 "with 'rbd migration execute' and 'commit', or "
			 "'abort' it, first)", d->migration);
	else if (d->task[0])
		snprintf(buf, len, "the mgr has a '%s' task queued for it "
			 "('ceph rbd task list'); adopt it once the task is "
			 "done", d->task);
	else
		return false;
	return true;
}

/*
 * Walks from d up to the root, filling c's chain (root first) and the
 * snapshots of the image; refuses (c->item) an ancestor that is in the
 * trash or in the middle of something.
 */
static int read_chain(struct rbd_conn *conn, const struct rbdops_image_desc *d,
		      struct candidate *c, struct rc_error *err)
{
	struct catalog_adopt_image *links = NULL;
	struct rbdops_image_desc cur = *d, up;
	char text[RC_SPEC_MAX], why[RC_SPEC_MAX + 128];
	size_t n = 0, cap = 0;
	bool owned = false; /* cur is ours to free (not d) */
	int rc = 0;

	c->snapshots = calloc(d->snapshot_count + 1, sizeof(*c->snapshots));
	if (!c->snapshots)
		return rc_error_set(err, -ENOMEM, "out of memory");
	for (size_t s = 0; s < d->snapshot_count; s++)
		snapshot_of(&d->snapshots[s], &c->snapshots[s]);
	c->snapshot_count = d->snapshot_count;
	for (;;) {
		const struct rbdops_snap_desc *link = NULL;

		if (rc_grow((void **)&links, &cap, n + 1, sizeof(*links), 4) < 0) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			break;
		}
		image_of(&cur, &links[n++]);
		if (!cur.parent.has_parent)
			break;
		rc_image_spec_format(&cur.parent.image, text, sizeof(text));
		if (cur.parent.image_in_trash) {
			refuse(c, "its ancestor %s (id %s) is in the RBD trash; "
			       "restore it first ('rbd trash restore')", text,
			       cur.parent.image_id);
			break;
		}
		if (n >= ADOPT_MAX_CHAIN) {
			rc = rc_error_set(err, -ELOOP, "the clone chain above "
					  "%s is longer than %d images",
					  c->item.image.name, ADOPT_MAX_CHAIN);
			break;
		}
		rc = rbdops_image_describe(conn, &cur.parent.image, &up, err);
		if (rc < 0) {
			rbdops_image_desc_free(&up);
			break;
		}
		if (busy_words(&up, why, sizeof(why))) {
			refuse(c, "its ancestor %s is %s", text, why);
			rbdops_image_desc_free(&up);
			break;
		}
		for (size_t s = 0; s < up.snapshot_count && !link; s++)
			if (up.snapshots[s].id == cur.parent.snap_id)
				link = &up.snapshots[s];
		if (!link) {
			rc = rc_error_set(err, -ENOENT, "%s has no snapshot with "
					  "id %llu, the one its clone reads", text,
					  (unsigned long long)cur.parent.snap_id);
			rbdops_image_desc_free(&up);
			break;
		}
		snapshot_of(link, &links[n - 1].parent_snapshot);
		if (owned)
			rbdops_image_desc_free(&cur);
		cur = up;
		owned = true;
	}
	if (owned)
		rbdops_image_desc_free(&cur);
	if (rc < 0 || c->item.outcome == OPS_ADOPT_REFUSED) {
		free(links);
		return rc;
	}
	/* child first as walked; the catalog takes the root first */
	for (size_t i = 0; i < n / 2; i++) {
		struct catalog_adopt_image t = links[i];
		links[i] = links[n - 1 - i];
		links[n - 1 - i] = t;
	}
	c->chain = links;
	c->chain_length = n;
	return 0;
}

/*
 * Reads image spec and its chain into c, and refuses (c->item) what ops
 * judges: a volume name that is not one, the image or an ancestor in the
 * middle of something, rowcat's name or tag on an image this catalog does
 * not know. Fails (-ENOENT) when there is no image spec.
 */
static int inspect(struct rbd_conn *conn, struct catalog *cat,
		   const struct rc_image_spec *spec, const char *volume,
		   struct candidate *c, struct rc_error *err)
{
	struct rbdops_image_desc d;
	struct catalog_image known;
	struct rc_error name_err = {0};
	char why[RC_SPEC_MAX + 128];
	bool in_catalog;
	int rc;

	memset(c, 0, sizeof(*c));
	c->item.image = *spec;
	c->item.outcome = OPS_ADOPT_ADOPTED;
	snprintf(c->volume, sizeof(c->volume), "%s", volume ? volume : spec->name);
	snprintf(c->item.volume, sizeof(c->item.volume), "%s", c->volume);
	rc = rbdops_image_describe(conn, spec, &d, err);
	if (rc < 0)
		goto out;
	c->described = true;
	c->item.size = d.size;
	c->item.snapshots = d.snapshot_count;
	c->item.has_parent = d.parent.has_parent;
	c->item.parent = d.parent.image;
	snprintf(c->item.parent_snapshot, sizeof(c->item.parent_snapshot), "%s",
		 d.parent.snap_name);
	rc = catalog_image_find(cat, spec, &known, err);
	in_catalog = rc == 0;
	if (rc == -ENOENT) {
		rc_error_clear(err);
		rc = 0;
	}
	if (rc < 0)
		goto out;
	if (!volume && rc_volume_name_check(spec->name, &name_err) < 0) {
		refuse(c, "its name is not a volume name (%s); adopt it with "
		       "--as VOL", name_err.message);
		goto out;
	}
	if (busy_words(&d, why, sizeof(why))) {
		refuse(c, "it is %s", why);
		goto out;
	}
	/* the catalog judges the images it knows (its own, foreign ones) */
	if (!in_catalog && d.owner[0]) {
		refuse(c, "it carries rowcat's tag (%s=%s): another catalog's "
		       "image", RBDOPS_OWNER_KEY, d.owner);
		goto out;
	}
	if (!in_catalog && is_rowcat_clone_name(spec->name)) {
		refuse(c, "its name is one rowcat gives clones (VOL.rcN): "
		       "another catalog's image, or one an interrupted "
		       "operation left, which its recovery may remove");
		goto out;
	}
	rc = read_chain(conn, &d, c, err);
out:
	rbdops_image_desc_free(&d);
	return rc;
}

/* -ENOENT for an image that cannot be opened: in the trash, says so. */
static int explain_missing(struct rbd_conn *conn,
			   const struct rc_image_spec *spec,
			   struct rc_error *err)
{
	char **names = NULL, text[RC_SPEC_MAX];
	size_t count = 0;
	bool trashed = false;
	struct rc_error ignored = {0};

	if (rbdops_trash_names(conn, spec->pool, spec->ns, &names, &count,
			       &ignored) == 0)
		for (size_t i = 0; i < count && !trashed; i++)
			trashed = strcmp(names[i], spec->name) == 0;
	rbdops_names_free(names, count);
	if (!trashed)
		return err->code;
	rc_image_spec_format(spec, text, sizeof(text));
	return rc_error_set(err, -ENOENT, "cannot adopt %s: it is in the RBD "
			    "trash ('rbd trash ls'); restore it first ('rbd "
			    "trash restore')", text);
}

/* Fewer links first: a parent's chain is shorter than its clone's. */
static int by_chain(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->chain_length != y->chain_length)
		return x->chain_length < y->chain_length ? -1 : 1;
	return strcmp(x->item.image.name, y->item.image.name);
}

/* Records the candidates that ops let through, in one transaction, and
 * fills the report (the caller's to free) in their order. */
static int record(struct catalog *cat, struct candidate *cands, size_t n,
		  const struct ops_adopt_options *opts,
		  struct ops_adopt_report *report, struct rc_error *err)
{
	struct catalog_adopt *adopts = calloc(n + 1, sizeof(*adopts));
	struct catalog_adopt_result *results = calloc(n + 1, sizeof(*results));
	size_t *which = calloc(n + 1, sizeof(*which)), m = 0;
	int rc = 0;

	report->items = calloc(n + 1, sizeof(*report->items));
	if (!adopts || !results || !which || !report->items) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	qsort(cands, n, sizeof(*cands), by_chain);
	for (size_t i = 0; i < n; i++) {
		if (cands[i].item.outcome == OPS_ADOPT_REFUSED)
			continue;
		adopts[m] = (struct catalog_adopt) {
			.volume = cands[i].volume,
			.size = cands[i].item.size,
			.chain = cands[i].chain,
			.chain_length = cands[i].chain_length,
			.snapshots = cands[i].snapshots,
			.snapshot_count = cands[i].snapshot_count,
		};
		which[m++] = i;
	}
	if (m)
		rc = catalog_adopt_record(cat, adopts, m, rc_clock_now(),
					  opts->dry_run, results, err);
	if (rc < 0)
		goto out;
	for (size_t k = 0; k < m; k++) {
		struct candidate *c = &cands[which[k]];
		const struct catalog_adopt_result *r = &results[k];

		snprintf(c->item.volume, sizeof(c->item.volume), "%s",
			 r->volume[0] ? r->volume : c->volume);
		c->item.ancestors_added = r->ancestors_added;
		c->item.snapshots_added = r->snapshots_added;
		c->item.was_foreign = r->was_foreign;
		switch (r->outcome) {
		case CATALOG_ADOPT_ADOPTED:
			c->item.outcome = OPS_ADOPT_ADOPTED;
			break;
		case CATALOG_ADOPT_ALREADY:
			c->item.outcome = OPS_ADOPT_ALREADY;
			break;
		case CATALOG_ADOPT_MANAGED:
		case CATALOG_ADOPT_NAME_TAKEN:
		case CATALOG_ADOPT_OTHER_IMAGE:
			refuse(c, "%s", r->message);
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		report->items[report->count++] = cands[i].item;
		switch (cands[i].item.outcome) {
		case OPS_ADOPT_ADOPTED: report->adopted++; break;
		case OPS_ADOPT_ALREADY: report->already++; break;
		case OPS_ADOPT_REFUSED: report->refused++; break;
		}
	}
out:
	free(adopts);
	free(results);
	free(which);
	return rc;
}

void ops_adopt_report_free(struct ops_adopt_report *report)
{
	if (!report)
		return;
	free(report->items);
	memset(report, 0, sizeof(*report));
}

int ops_adopt_image(struct rbd_conn *conn, struct catalog *cat,
		    const struct rc_image_spec *image,
		    const struct ops_adopt_options *opts,
		    struct ops_adopt_report *report, struct rc_error *err)
{
	struct candidate c;
	char text[RC_SPEC_MAX];
	int rc;

	memset(report, 0, sizeof(*report));
	rc_image_spec_format(image, text, sizeof(text));
	rc = rbdops_pool_check(conn, image->pool, image->ns, err);
	if (rc < 0)
		return rc;
	rc = inspect(conn, cat, image, opts->volume, &c, err);
	if (rc == -ENOENT && !c.described)
		rc = explain_missing(conn, image, err);
	if (rc == 0)
		rc = record(cat, &c, 1, opts, report, err);
	candidate_free(&c);
	if (rc == 0 && report->refused)
		rc = rc_error_set(err, -EPERM, "cannot adopt %s: %s", text,
				  report->items[0].message);
	return rc;
}

/* Refusals for the images of the trash whose names match: a glob that
 * names one says why it is not adopted. */
static int trash_refusals(struct rbd_conn *conn, const char *pool,
			  const char *ns, const char *match,
			  struct candidate **cands, size_t *n, size_t *cap,
			  struct rc_error *err)
{
	char **names = NULL;
	size_t count = 0;
	int rc = rbdops_trash_names(conn, pool, ns, &names, &count, err);

	for (size_t i = 0; rc == 0 && i < count; i++) {
		struct candidate *c;

		if (!match || fnmatch(match, names[i], 0) != 0)
			continue;
		if (rc_grow((void **)cands, cap, *n + 1, sizeof(**cands), 16) < 0) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			break;
		}
		c = &(*cands)[(*n)++];
		memset(c, 0, sizeof(*c));
		snprintf(c->item.image.pool, sizeof(c->item.image.pool), "%s", pool);
		snprintf(c->item.image.ns, sizeof(c->item.image.ns), "%s", ns);
		snprintf(c->item.image.name, sizeof(c->item.image.name), "%s",
			 names[i]);
		refuse(c, "it is in the RBD trash ('rbd trash ls'); restore it "
		       "first ('rbd trash restore')");
	}
	rbdops_names_free(names, count);
	return rc;
}

int ops_adopt_pool(struct rbd_conn *conn, struct catalog *cat,
		   const char *pool, const char *ns,
		   const struct ops_adopt_options *opts,
		   struct ops_adopt_report *report, struct rc_error *err)
{
	struct candidate *cands = NULL;
	char **names = NULL;
	size_t count = 0, n = 0, cap = 0;
	int rc;

	memset(report, 0, sizeof(*report));
	rc = rbdops_pool_check(conn, pool, ns, err);
	if (rc == 0)
		rc = rbdops_image_list(conn, pool, ns, &names, &count, err);
	for (size_t i = 0; rc == 0 && i < count; i++) {
		struct rc_image_spec spec = {0};

		if (opts->match && fnmatch(opts->match, names[i], 0) != 0)
			continue;
		if (rc_grow((void **)&cands, &cap, n + 1, sizeof(*cands), 16) < 0) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			break;
		}
		snprintf(spec.pool, sizeof(spec.pool), "%s", pool);
		snprintf(spec.ns, sizeof(spec.ns), "%s", ns);
		snprintf(spec.name, sizeof(spec.name), "%s", names[i]);
		rc = inspect(conn, cat, &spec, NULL, &cands[n], err);
		n++;
		/* removed since it was listed: not there to adopt */
		if (rc == -ENOENT && !cands[n - 1].described) {
			rc_error_clear(err);
			rc = 0;
			candidate_free(&cands[--n]);
		}
	}
	if (rc == 0)
		rc = trash_refusals(conn, pool, ns, opts->match, &cands, &n, &cap,
				    err);
	if (rc == 0 && n == 0 && opts->match)
		rc = rc_error_set(err, -ENOENT, "no image of %s%s%s matches '%s'",
				  pool, ns[0] ? "/" : "", ns, opts->match);
	if (rc == 0)
		rc = record(cat, cands, n, opts, report, err);
	for (size_t i = 0; i < n; i++)
		candidate_free(&cands[i]);
	free(cands);
	rbdops_names_free(names, count);
	if (rc < 0)
		ops_adopt_report_free(report);
	return rc;
}
