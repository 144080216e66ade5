/*
 * A catalog that many hosts share: opened in RADOS over the command's own
 * cluster connection, with claims that every host sees (leases beside the
 * database) in place of the file catalog's locks.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rowcat/host.h"
#include "internal.h"
#include "rowcat/ops.h"

struct ops_claims {
	struct rbd_leases *leases;
	char host[RC_HOST_MAX];
	/* this process as a holder: the description its leases carry,
	 * which the journal keeps beside each operation it runs */
	char identity[1024];
};

/* never made: written to, to learn whether the client may write there */
#define ACCESS_PROBE_SUFFIX ".access-probe"

/*
 * The lease a claim takes. A gc run is one per catalog, whichever host
 * runs it; a policy run is one per host, since each host's run takes the
 * volumes attached there (the detached ones go to whichever run journals
 * them first).
 */
static void lease_name(const struct ops_claims *c, const char *claim,
		       char buf[RBDOPS_LEASE_NAME_MAX])
{
	size_t n;

	if (strcmp(claim, "policy") != 0) {
		snprintf(buf, RBDOPS_LEASE_NAME_MAX, "%s", claim);
		return;
	}
	n = (size_t)snprintf(buf, RBDOPS_LEASE_NAME_MAX, "policy.%s", c->host);
	/* a lease name takes letters, digits and . _ - : only */
	for (size_t i = strlen("policy."); i < n && buf[i]; i++) {
		char ch = buf[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '-' || ch == ':'))
			buf[i] = '_';
	}
}

/*
 * Whether h, another process's lease, was this host's and its process is
 * gone: a rowcat that was killed, whose lease would otherwise hold until
 * it expires. A pid that lives (or was reused) keeps it: only ESRCH says
 * dead. ROWCAT_HOST must name one host (one pid namespace): two that share
 * a name could fence each other's live work, which then fails, cleanly.
 */
static bool died_on_this_host(const struct ops_claims *c,
			      const struct rbdops_lease_holder *h)
{
	return !h->ours && h->pid > 0 && h->host[0] &&
	       strcmp(h->host, c->host) == 0 &&
	       kill((pid_t)h->pid, 0) < 0 && errno == ESRCH;
}

static int claims_take(void *ctx, const char *claim, struct rc_error *err)
{
	struct ops_claims *c = ctx;
	struct rbdops_lease_holder h;
	struct rc_error probe = {0};
	char name[RBDOPS_LEASE_NAME_MAX];
	int rc;

	lease_name(c, claim, name);
	rc = rbdops_lease_take(c->leases, name, err);
	if (rc != -EBUSY ||
	    rbdops_lease_holder(c->leases, name, &h, &probe) < 0 ||
	    !died_on_this_host(c, &h))
		return rc;
	/* its lease need not be waited out: fenced and broken, as after
	 * it expired, then taken */
	rc_error_clear(err);
	rc = rbdops_lease_fence(c->leases, name, &h, err);
	if (rc == 0)
		rc = rbdops_lease_take(c->leases, name, err);
	return rc;
}

static int claims_held_elsewhere(void *ctx, const char *claim, char *holder,
				 size_t len, struct rc_error *err)
{
	struct ops_claims *c = ctx;
	struct rbdops_lease_holder h;
	char name[RBDOPS_LEASE_NAME_MAX], who[512];
	int rc;

	lease_name(c, claim, name);
	rc = rbdops_lease_holder(c->leases, name, &h, err);
	if (rc == -ENOENT) {
		rc_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	/* a killed rowcat of this host is nobody: its work is left
	 * unfinished, and the next claim takes it over at once */
	if (died_on_this_host(c, &h))
		return 0;
	/* another thread of this process counts as elsewhere too: the
	 * caller's own claims are not asked about */
	if (h.ours) {
		snprintf(holder, len, "this rowcat (pid %ld)", (long)getpid());
		return 1;
	}
	rbdops_lease_holder_format(&h, who, sizeof(who));
	snprintf(holder, len, "rowcat on %s", who);
	return 1;
}

static void claims_drop(void *ctx, const char *claim)
{
	struct ops_claims *c = ctx;
	char name[RBDOPS_LEASE_NAME_MAX];

	lease_name(c, claim, name);
	rbdops_lease_drop(c->leases, name);
}

static int claims_fence(void *ctx, const char *claim, const char *holder,
			struct rc_error *err)
{
	struct ops_claims *c = ctx;
	struct rbdops_lease_holder dead;
	char name[RBDOPS_LEASE_NAME_MAX];

	memset(&dead, 0, sizeof(dead));
	if (!rbdops_lease_desc_parse(holder, &dead) || !dead.rados_addr[0])
		return rc_error_set(err, -EINVAL, "the journal names its holder "
				    "as '%s', which this rowcat cannot fence, "
				    "so it takes nothing over", holder);
	lease_name(c, claim, name);
	return rbdops_lease_fence(c->leases, name, &dead, err);
}

static const char *claims_identity(void *ctx)
{
	struct ops_claims *c = ctx;

	return c->identity;
}

static int claims_check(void *ctx, struct rc_error *err)
{
	struct ops_claims *c = ctx;

	return rbdops_leases_check(c->leases, err);
}

void ops_claims_close(struct ops_claims *c)
{
	if (!c)
		return;
	rbdops_leases_close(c->leases);
	free(c);
}

/* The leases of a catalog at loc, as this process (its two clients). */
static int claims_open(struct rbd_conn *conn,
		       const struct catalog_rados_location *loc, int lease_s,
		       struct ops_claims **out, struct rc_error *err)
{
	struct ops_claims *c = calloc(1, sizeof(*c));
	char object[RC_NAME_MAX + sizeof(OPS_CLAIMS_OBJECT_SUFFIX)];
	char rados_addr[RBDOPS_ADDR_MAX];
	const char *vfs_addr = catalog_ceph_vfs_client_addr();
	int rc;

	*out = NULL;
	if (!c)
		return rc_error_set(err, -ENOMEM, "out of memory");
	rc_host_name(c->host);
	rc = rbdops_conn_addr(conn, rados_addr, sizeof(rados_addr), err);
	if (rc == 0)
		rc = rbdops_lease_desc_format(c->identity, sizeof(c->identity),
					      c->host, (long)getpid(),
					      rados_addr, vfs_addr, lease_s, 0);
	if (rc < 0) {
		if (!err->message[0])
			rc_error_set(err, rc, "describing this rowcat as a "
				     "holder: %s", strerror(-rc));
		goto out;
	}
	snprintf(object, sizeof(object), "%s%s", loc->name,
		 OPS_CLAIMS_OBJECT_SUFFIX);
	rc = rbdops_leases_open(&c->leases, conn, loc->pool, loc->ns, object,
				c->host, vfs_addr, lease_s, err);
out:
	if (rc < 0) {
		ops_claims_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

/*
 * Whether this client may write beside the catalog, asked before the VFS
 * is: the VFS takes a lock on the database's first object for every
 * transaction, reads included, and answers a write its client may not
 * make, or that a full cluster holds, with SQLite's "disk I/O error" (or
 * EPERM with no cap on the pool at all). The probe's own failure says
 * which cap is missing, or that the pool is full.
 */
static int check_access(struct rbd_conn *conn,
			const struct catalog_rados_location *loc,
			struct rc_error *err)
{
	char probe[RC_NAME_MAX + sizeof(ACCESS_PROBE_SUFFIX)];
	int rc;

	snprintf(probe, sizeof(probe), "%s%s", loc->name, ACCESS_PROBE_SUFFIX);
	rc = rbdops_object_write_check(conn, loc->pool, loc->ns, probe, err);
	if (rc < 0)
		rc_error_prefix(err, "the catalog %s%s%s%s/%s: ",
				CATALOG_RADOS_SCHEME, loc->pool,
				loc->ns[0] ? "/" : "", loc->ns, loc->name);
	return rc;
}

/* A failed open that the cluster may explain (the caps changed, or the
 * pool filled, since check_access): asked once more. */
static int explain_open_failure(struct rbd_conn *conn,
				const struct catalog_rados_location *loc,
				struct rc_error *err)
{
	struct rc_error probe = {0};

	if (err->code != -EIO && err->code != -EPERM && err->code != -EACCES)
		return err->code;
	if (check_access(conn, loc, &probe) < 0)
		*err = probe;
	return err->code;
}

int ops_catalog_open_shared(struct rbd_conn *conn, const char *uri,
			    enum catalog_open_mode mode, int lease_s,
			    struct catalog **cat, struct ops_claims **claims,
			    struct rc_error *err)
{
	struct catalog_rados_location loc;
	struct catalog_claims hooks = {
		.take = claims_take, .held_elsewhere = claims_held_elsewhere,
		.drop = claims_drop, .fence = claims_fence,
		.identity = claims_identity, .check = claims_check,
	};
	int rc;

	*cat = NULL;
	*claims = NULL;
	rc = catalog_rados_location_parse(uri, &loc, err);
	if (rc == 0)
		rc = rbdops_pool_check(conn, loc.pool, loc.ns, err);
	if (rc == 0)
		rc = check_access(conn, &loc, err);
	if (rc == 0)
		rc = catalog_ceph_vfs_load(rbdops_ceph_context(conn), err);
	if (rc == 0)
		rc = claims_open(conn, &loc, lease_s ? lease_s
			: OPS_CLAIM_LEASE_DEFAULT, claims, err);
	if (rc < 0)
		return rc;
	rc = catalog_open(cat, uri, mode, err);
	if (rc < 0) {
		rc = explain_open_failure(conn, &loc, err);
		ops_claims_close(*claims);
		*claims = NULL;
		return rc;
	}
	hooks.ctx = *claims;
	catalog_set_claims(*cat, &hooks);
	return 0;
}
