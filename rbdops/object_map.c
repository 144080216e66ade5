/*
 * The object map off while an image is flattened, and on again after.
 *
 * Why: librbd 16.2 (Debian 12's) flattens an object only when the image's
 * object map says it may not exist; an object marked EXISTS or
 * EXISTS_CLEAN in a valid map is skipped. A copy-up marks its object
 * EXISTS in the map first and writes the parent's data after, so a client
 * killed between the two (a flatten killed part-way, or any writer of a
 * clone that dies during its first write to an object) leaves an object
 * that the map claims and the cluster does not have. librbd reads through
 * to the parent there, so nothing shows, until the next flatten skips the
 * object, detaches the parent, and the image reads zeros there for good
 * (Ceph tracker 68998; fixed in reef and squid, never in pacific). Neither
 * `rbd object-map check` nor a rebuild sees that state: both allow a map
 * to claim more than exists. Without an object map, librbd's flatten asks
 * the OSD about every object, and copies each one that is missing.
 *
 *  image metadata              features            a crash here
 *  ─────────────────────────   ─────────────────   ──────────────────────
 *  (none)                      object-map on       the next flatten turns
 *     │ rowcat.flatten.map-features = the bits        it off the same way
 *     ▼ to restore
 *  key set                     on, then off        the next flatten sees
 *     │ flatten (no map: every object is asked)     the key, turns off
 *     ▼                                             what is still on
 *  key set, no parent          off, or on again    restore: turn on what
 *     │ on again, rebuild the map of the image      is off, rebuild, drop
 *     ▼ and of each of its snapshots                the key
 *  (none)                      on, maps valid
 *
 * The key lives on the image, so whatever resumes a flatten (recover, a
 * retried flatten, a policy's flatten) finds it without the catalog.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#define MAP_FEATURES (RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF)

/* librbd calls its progress callback unconditionally: NULL crashes it. */
static int no_progress(uint64_t offset, uint64_t total, void *ctx)
{
	(void)offset;
	(void)total;
	(void)ctx;
	return 0;
}

/* The map features the key says to restore, 0 without a key. */
static int saved_features(rbd_image_t image, uint64_t *out)
{
	char value[32];
	size_t len = sizeof(value);
	int rc = rbd_metadata_get(image, RBDOPS_MAP_FEATURES_KEY, value, &len);

	*out = 0;
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	*out = strtoull(value, NULL, 10) & MAP_FEATURES;
	return 0;
}

int rbdops_object_map_off(rbd_image_t image, const char *text,
			  struct rc_error *err)
{
	uint64_t features = 0, saved = 0, on;
	char value[32];
	int rc = rbd_get_features(image, &features);

	if (rc == 0)
		rc = saved_features(image, &saved);
	if (rc < 0)
		goto out;
	on = features & MAP_FEATURES;
	if (!on)
		goto out;
	if (!saved) {
		snprintf(value, sizeof(value), "%" PRIu64, on);
		rc = rbd_metadata_set(image, RBDOPS_MAP_FEATURES_KEY, value);
		if (rc < 0)
			goto out;
	}
	rc = rbd_update_features(image, on, 0);
out:
	if (rc < 0)
		return rbdops_fail(err, rc, "turning off the object map of %s "
				   "to flatten it", text);
	return 0;
}

static int rebuild_snapshot_maps(struct rbd_conn *conn,
				 const struct rc_image_spec *spec,
				 rbd_image_t image, const char *text,
				 struct rc_error *err)
{
	rbd_snap_info_t *snaps = NULL;
	int count = 0, rc;

	rc = rbdops_snap_list(image, &snaps, &count);
	if (rc < 0)
		return rbdops_fail(err, rc, "listing the snapshots of %s", text);
	for (int i = 0; i < count && rc == 0; i++) {
		struct open_image at;

		rc = rbdops_open_image_at(conn, spec, snaps[i].name, &at, err);
		if (rc < 0)
			break;
		rc = rbd_rebuild_object_map(at.image, no_progress, NULL);
		if (rc < 0)
			rbdops_fail(err, rc, "rebuilding the object map of "
				    "%s@%s", text, snaps[i].name);
		rbdops_close_image(&at);
	}
	rbd_snap_list_end(snaps);
	free(snaps);
	return rc;
}

/* Rebuilds the map of the image and of each snapshot, then drops the key.
 * A fresh open: the handle that turned the features on still sees them
 * off until it refreshes, and librbd refuses to rebuild then (EINVAL). */
static int rebuild_and_forget(struct rbd_conn *conn,
			      const struct rc_image_spec *spec,
			      const char *text, struct rc_error *err)
{
	struct open_image img;
	int rc = rbdops_open_image(conn, spec, false, &img, err);

	if (rc < 0)
		return rc;
	rc = rbd_rebuild_object_map(img.image, no_progress, NULL);
	if (rc < 0) {
		rbdops_fail(err, rc, "rebuilding the object map of %s", text);
		goto out;
	}
	rc = rebuild_snapshot_maps(conn, spec, img.image, text, err);
	if (rc < 0)
		goto out;
	rc = rbd_metadata_remove(img.image, RBDOPS_MAP_FEATURES_KEY);
	if (rc == -ENOENT)
		rc = 0;
	if (rc < 0)
		rbdops_fail(err, rc, "removing %s from %s",
			    RBDOPS_MAP_FEATURES_KEY, text);
out:
	rbdops_close_image(&img);
	return rc;
}

int rbdops_object_map_restore(struct rbd_conn *conn,
			      const struct rc_image_spec *spec,
			      struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	struct open_image img;
	uint64_t features = 0, saved = 0;
	int rc;

	rc_image_spec_format(spec, text, sizeof(text));
	rc = rbdops_open_image(conn, spec, false, &img, err);
	if (rc < 0)
		return rc;
	rc = saved_features(img.image, &saved);
	if (rc == 0 && saved)
		rc = rbd_get_features(img.image, &features);
	/* in one call: on separately, fast-diff would find the object map
	 * still off in this handle, which has not refreshed (EINVAL) */
	if (rc == 0 && (saved & ~features))
		rc = rbd_update_features(img.image, saved & ~features, 1);
	rbdops_close_image(&img);
	if (rc < 0)
		return rbdops_fail(err, rc, "turning the object map of %s on "
				   "again after its flatten", text);
	return saved ? rebuild_and_forget(conn, spec, text, err) : 0;
}
