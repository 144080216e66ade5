/*
 * A catalog itself, rather than what it holds: copying it between a file
 * and RADOS, and saying what and where it is and who holds it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/*
 * The object on which copies into one rados:// location take turns: the
 * VFS creates a database that exists already without a word, so the look
 * for a catalog there and its creation must be one step for every copy.
 * Its lock need last only until the copy's first object exists (a later
 * copy then finds it and refuses); it ends anyway, should the copy die.
 */
#define CREATE_GUARD_SUFFIX ".rowcat-create"
#define CREATE_GUARD_LOCK "create"
#define CREATE_GUARD_SECONDS 60

int ops_catalog_vfs_ready(struct rbd_conn *conn, const char *path,
			  struct rc_error *err)
{
	struct catalog_rados_location loc;
	int rc = catalog_rados_location_parse(path, &loc, err);

	if (rc == 0)
		rc = rbdops_pool_check(conn, loc.pool, loc.ns, err);
	if (rc == 0)
		rc = catalog_ceph_vfs_load(rbdops_ceph_context(conn), err);
	return rc;
}

/* Refuses a rados:// location where a database or its journal is. */
static int rados_target_free(struct rbd_conn *conn, const char *to,
			     const struct catalog_rados_location *loc,
			     struct rc_error *err)
{
	char oid[2 * RC_NAME_MAX];
	bool exists;
	int rc;

	catalog_rados_object_name(loc, false, oid, sizeof(oid));
	rc = rbdops_object_stat(conn, loc->pool, loc->ns, oid, &exists, NULL,
				err);
	if (rc == 0 && exists)
		return rc_error_set(err, -EEXIST, "a catalog is at %s already "
				    "(RADOS object %s); rowcat catalog copy "
				    "never overwrites one", to, oid);
	catalog_rados_object_name(loc, true, oid, sizeof(oid));
	if (rc == 0)
		rc = rbdops_object_stat(conn, loc->pool, loc->ns, oid, &exists,
					NULL, err);
	if (rc == 0 && exists)
		return rc_error_set(err, -EEXIST, "%s has no database but its "
				    "journal is there (RADOS object %s), which "
				    "SQLite would replay into the copy: remove "
				    "it first (rados rm)", to, oid);
	return rc;
}

/* catalog_copy into RADOS, the look and the creation one step (above). */
static int copy_to_rados(struct rbd_conn *conn, const char *from,
			 const char *to, int *version, struct rc_error *err)
{
	struct catalog_rados_location loc;
	char guard[2 * RC_NAME_MAX + 16], cookie[64], desc[128], host[64];
	int rc;

	rc = catalog_rados_location_parse(to, &loc, err);
	if (rc < 0)
		return rc;
	snprintf(guard, sizeof(guard), "%s" CREATE_GUARD_SUFFIX, loc.name);
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	snprintf(cookie, sizeof(cookie), "copy.%ld", (long)getpid());
	snprintf(desc, sizeof(desc), "rowcat catalog copy (host %s, pid %ld)",
		 host, (long)getpid());
	rc = rbdops_object_lock(conn, loc.pool, loc.ns, guard,
				CREATE_GUARD_LOCK, cookie, desc,
				CREATE_GUARD_SECONDS, err);
	if (rc == -EBUSY)
		return rc_error_set(err, -EBUSY, "another rowcat catalog copy "
				    "to %s is under way (lock %s on RADOS object "
				    "%s); this one is refused", to,
				    CREATE_GUARD_LOCK, guard);
	if (rc < 0)
		return rc;
	rc = rados_target_free(conn, to, &loc, err);
	if (rc == 0)
		rc = catalog_copy(from, to, version, err);
	rbdops_object_unlock(conn, loc.pool, loc.ns, guard, CREATE_GUARD_LOCK,
			     cookie);
	/* a copy that took the lock after ours finds the database (or
	 * finds nothing, ours having failed): the object is no longer
	 * needed, by anyone */
	rbdops_object_remove(conn, loc.pool, loc.ns, guard,
			     &(struct rc_error){0});
	return rc;
}

int ops_catalog_copy(struct rbd_conn *conn, const char *from, const char *to,
		     int *schema_version, struct rc_error *err)
{
	int rc = 0;

	*schema_version = 0;
	if (strcmp(from, to) == 0)
		return rc_error_usage(err, "'%s' is both FROM and TO; a catalog "
				      "is copied to another place", from);
	if (catalog_path_is_rados(from))
		rc = ops_catalog_vfs_ready(conn, from, err);
	if (rc == 0 && catalog_path_is_rados(to))
		rc = ops_catalog_vfs_ready(conn, to, err);
	if (rc < 0)
		return rc;
	if (catalog_path_is_rados(to))
		return copy_to_rados(conn, from, to, schema_version, err);
	return catalog_copy(from, to, schema_version, err);
}

/* The claims held now: the leases on NAME.claims that have a holder
 * (a dropped or lapsed lease leaves its name behind, held by nobody). */
static int rados_claims(struct rbd_conn *conn, struct ops_catalog_info *out,
			struct rc_error *err)
{
	char names[CATALOG_CLAIMS_SHOWN][RBDOPS_LEASE_NAME_MAX];
	char object[RC_NAME_MAX + sizeof(OPS_CLAIMS_OBJECT_SUFFIX)];
	const struct catalog_rados_location *loc = &out->location;
	struct rbdops_lock_state lock;
	size_t n;
	int rc;

	snprintf(object, sizeof(object), "%s%s", loc->name,
		 OPS_CLAIMS_OBJECT_SUFFIX);
	rc = rbdops_object_lock_names(conn, loc->pool, loc->ns, object, names,
				      CATALOG_CLAIMS_SHOWN, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = rbdops_object_lockers(conn, loc->pool, loc->ns, object,
					   names[i], &lock, err);
		if (rc < 0 || lock.count == 0)
			continue;
		snprintf(out->claims[out->claims_count].name,
			 sizeof(out->claims[0].name), "%s", names[i]);
		out->claims[out->claims_count++].holder = lock.lockers[0];
	}
	return rc;
}

static int rados_info(struct rbd_conn *conn, const char *path,
		      struct ops_catalog_info *out, struct rc_error *err)
{
	unsigned char header[CATALOG_HEADER_SIZE];
	struct catalog_header parsed;
	char text[64];
	size_t got;
	bool exists;
	int rc;

	rc = catalog_rados_location_parse(path, &out->location, err);
	if (rc == 0)
		rc = rbdops_pool_check(conn, out->location.pool,
				       out->location.ns, err);
	if (rc < 0)
		return rc;
	catalog_rados_object_name(&out->location, false, out->object,
				  sizeof(out->object));
	rc = rbdops_object_stat(conn, out->location.pool, out->location.ns,
				out->object, &exists, NULL, err);
	if (rc == 0 && !exists)
		rc = rc_error_set(err, -ENOENT, "no catalog at %s (create one "
				  "with 'rowcat init')", path);
	/* the lock before anything that could wait for it */
	if (rc == 0)
		rc = rbdops_object_lockers(conn, out->location.pool,
					   out->location.ns, out->object,
					   CATALOG_RADOS_LOCK, &out->lock, err);
	if (rc == 0)
		rc = rbdops_object_xattr(conn, out->location.pool,
					 out->location.ns, out->object,
					 CATALOG_RADOS_HOLDER_XATTR,
					 out->holder_addrs,
					 sizeof(out->holder_addrs), err);
	if (rc == 0)
		rc = rbdops_object_xattr(conn, out->location.pool,
					 out->location.ns, out->object,
					 CATALOG_RADOS_SIZE_XATTR, text,
					 sizeof(text), err);
	if (rc < 0)
		return rc;
	out->size = strtoull(text, NULL, 10);
	rc = rbdops_object_read(conn, out->location.pool, out->location.ns,
				out->object, 0, header, sizeof(header), &got, err);
	if (rc == 0)
		rc = catalog_header_parse(header, out->size < got ? out->size : got,
					  path, &parsed, err);
	if (rc < 0)
		return rc;
	out->schema_version = parsed.schema_version;
	out->page_size = parsed.page_size;
	/* a connection to a catalog in RADOS always says PERSIST; the
	 * header says only WAL or not */
	snprintf(out->journal_mode, sizeof(out->journal_mode), "%s",
		 parsed.wal ? "wal" : "persist");
	return rados_claims(conn, out, err);
}

int ops_catalog_info(struct rbd_conn *conn, const char *path,
		     struct ops_catalog_info *out, struct rc_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->rados = catalog_path_is_rados(path);
	if (out->rados)
		return rados_info(conn, path, out, err);
	rc = catalog_file_info(path, &out->file, err);
	if (rc < 0)
		return rc;
	out->size = out->file.size;
	out->schema_version = out->file.schema_version;
	out->page_size = out->file.page_size;
	snprintf(out->journal_mode, sizeof(out->journal_mode), "%s",
		 out->file.journal_mode);
	return 0;
}
