/* What commands share: finding and opening the catalog, connecting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rowcat/config.h"

/* rowcat's configuration file, unless $ROWCAT_CONFIG names another (or,
 * empty, none). */
#define CONFIG_FILE_DEFAULT "/etc/rowcat/rowcat.conf"

static char default_path[4096];
static struct config_file config;

/* Creates dir and its missing parents, mode 0700. */
static int make_dirs(const char *dir, struct rc_error *err)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return rc_error_set(err, -errno, "creating %s: %s", path,
					    strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return rc_error_set(err, -errno, "creating %s: %s", path,
				    strerror(errno));
	return 0;
}

/*
 * The catalog that rowcat.conf sets into config.catalog ("" when none
 * does): $ROWCAT_CONFIG, which must exist when it is set (an operator
 * named it), else CONFIG_FILE_DEFAULT if there is one. Read only when
 * the command line and the environment leave the catalog to it, so that
 * they work whatever the file says.
 */
static int read_config(struct cli_ctx *ctx)
{
	const char *env = getenv("ROWCAT_CONFIG");
	bool found;

	if (env && !env[0])
		return 0;
	return config_file_load(&config, env ? env : CONFIG_FILE_DEFAULT,
				env != NULL, &found, &ctx->err);
}

/*
 * The catalog path: --catalog, else $ROWCAT_CATALOG, else the catalog of
 * rowcat.conf, else the default location, whose directory is created when
 * `create` is set.
 */
static int resolve_catalog_path(struct cli_ctx *ctx, bool create)
{
	const char *env = getenv("ROWCAT_CATALOG");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	char dir[sizeof(default_path) - sizeof("/catalog.db")];
	int n, rc;

	if (ctx->catalog_path)
		return 0;
	if (env && env[0]) {
		ctx->catalog_path = env;
		return 0;
	}
	rc = read_config(ctx);
	if (rc < 0)
		return rc;
	if (config.catalog[0]) {
		ctx->catalog_path = config.catalog;
		return 0;
	}
	if (geteuid() == 0)
		n = snprintf(dir, sizeof(dir), "/var/lib/rowcat");
	else if (xdg && xdg[0] == '/')
		n = snprintf(dir, sizeof(dir), "%s/rowcat", xdg);
	else if (home && home[0])
		n = snprintf(dir, sizeof(dir), "%s/.local/share/rowcat", home);
	else
		return rc_error_usage(&ctx->err,
			"no catalog location: use --catalog, set ROWCAT_CATALOG, "
			"or set catalog in " CONFIG_FILE_DEFAULT);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return rc_error_usage(&ctx->err,
			"the default catalog location is too long; use --catalog");
	snprintf(default_path, sizeof(default_path), "%s/catalog.db", dir);
	ctx->catalog_path = default_path;
	return create ? make_dirs(dir, &ctx->err) : 0;
}

/*
 * A catalog in RADOS is reached over the cluster connection that the
 * command uses for its images, as the same client.
 */
static int open_rados_catalog(struct cli_ctx *ctx, bool create)
{
	struct catalog_rados_location loc;
	const char *lease = getenv("ROWCAT_CLAIM_LEASE");
	int64_t lease_s = 0;
	int rc;

	/* a malformed location is a usage error before any connection */
	rc = catalog_rados_location_parse(ctx->catalog_path, &loc, &ctx->err);
	if (rc < 0)
		return rc;
	if (lease && lease[0]) {
		rc = policy_duration_parse(lease, &lease_s, &ctx->err);
		if (rc == 0 && (lease_s < RBDOPS_LEASE_MIN_SECONDS ||
				lease_s > RBDOPS_LEASE_MAX_SECONDS))
			rc = rc_error_usage(&ctx->err, "a claim lasts %d s to "
					    "%d s", RBDOPS_LEASE_MIN_SECONDS,
					    RBDOPS_LEASE_MAX_SECONDS);
		if (rc < 0)
			return rc_error_prefix(&ctx->err, "ROWCAT_CLAIM_LEASE: ");
	}
	rc = cli_connect(ctx);
	if (rc == 0)
		rc = ops_catalog_open_shared(ctx->conn, ctx->catalog_path,
					     create ? CATALOG_OPEN_CREATE
						    : CATALOG_OPEN_EXISTING,
					     (int)lease_s, &ctx->catalog,
					     &ctx->claims, &ctx->err);
	return rc;
}

int cli_catalog_path(struct cli_ctx *ctx)
{
	return resolve_catalog_path(ctx, false);
}

int cli_open_catalog(struct cli_ctx *ctx, bool create)
{
	int rc;

	if (ctx->catalog)
		return 0;
	rc = resolve_catalog_path(ctx, create);
	if (rc < 0)
		return rc;
	if (catalog_path_is_rados(ctx->catalog_path))
		return open_rados_catalog(ctx, create);
	return catalog_open(&ctx->catalog, ctx->catalog_path,
			    create ? CATALOG_OPEN_CREATE : CATALOG_OPEN_EXISTING,
			    &ctx->err);
}

int cli_connect(struct cli_ctx *ctx)
{
	int hook_limit, rc;

	if (ctx->conn)
		return 0;
	/* every command that may run the switch hook connects before it
	 * changes anything: a bad limit is refused here, not after a switch */
	rc = cli_hook_timeout(ctx, &hook_limit);
	if (rc < 0)
		return rc;
	return rbdops_connect(&ctx->conn, &ctx->ceph, &ctx->err);
}

int cli_connect_event(void *ctx_arg, struct rbd_conn **conn,
		      struct rc_error *err)
{
	struct cli_ctx *ctx = ctx_arg;
	int rc = cli_connect(ctx);

	(void)err; /* cli_connect explains in ctx->err, which is err */
	*conn = ctx->conn;
	return rc;
}

/* "pool 'rbd'" or "pool 'rbd', namespace 'ns1'" into buf. */
static void pool_text(const struct rc_image_spec *spec, char *buf, size_t len)
{
	if (spec->ns[0])
		snprintf(buf, len, "pool '%s', namespace '%s'", spec->pool,
			 spec->ns);
	else
		snprintf(buf, len, "pool '%s'", spec->pool);
}

/*
 * The usage error for a volume named the way rbd names an image,
 * POOL[/NS]/VOL: says which bare name to write, and what the catalog
 * knows of it (the volume an image of that spec belongs to, or where a
 * volume of that name lives). The catalog is read only for the message:
 * when it cannot be, the message goes without.
 */
static int pool_qualified_name(struct cli_ctx *ctx, const char *text)
{
	struct rc_error lookup = {0};
	struct catalog_volume volume;
	struct catalog_image image;
	struct rc_image_spec spec;
	char given[2 * RC_NAME_MAX + 32], home[2 * RC_NAME_MAX + 32];

	if (rc_image_spec_parse(&spec, text, "volume name", &lookup) < 0)
		return rc_name_check("volume name", text, &ctx->err);
	pool_text(&spec, given, sizeof(given));
	if (cli_open_catalog(ctx, false) < 0) {
		rc_error_clear(&ctx->err);
		return rc_error_usage(&ctx->err, "volumes are named without "
				      "their pool: did you mean '%s'?",
				      spec.name);
	}
	if (catalog_image_find(ctx->catalog, &spec, &image, &lookup) == 0 &&
	    catalog_volume_get(ctx->catalog, image.volume_id, &volume,
			       &lookup) == 0)
		return rc_error_usage(&ctx->err, "volumes are named without "
				      "their pool: did you mean '%s'? (%s is "
				      "an image of volume '%s')", volume.name,
				      text, volume.name);
	if (catalog_volume_find(ctx->catalog, spec.name, &volume, &lookup) < 0)
		return rc_error_usage(&ctx->err, "volumes are named without "
				      "their pool: did you mean '%s'? (no "
				      "volume of that name is in the catalog "
				      "either)", spec.name);
	if (catalog_image_get(ctx->catalog, volume.operating_image_id, &image,
			      &lookup) < 0)
		return rc_error_usage(&ctx->err, "volumes are named without "
				      "their pool: did you mean '%s'?",
				      spec.name);
	pool_text(&image.spec, home, sizeof(home));
	if (strcmp(home, given) == 0)
		return rc_error_usage(&ctx->err, "volumes are named without "
				      "their pool: did you mean '%s'? (volume "
				      "'%s' is in %s)", spec.name, spec.name,
				      home);
	return rc_error_usage(&ctx->err, "volumes are named without their "
			      "pool: did you mean '%s'? (volume '%s' is in %s, "
			      "not in %s)", spec.name, spec.name, home, given);
}

int cli_volume_name_check(struct cli_ctx *ctx, const char *name)
{
	if (strchr(name, '/'))
		return pool_qualified_name(ctx, name);
	return rc_name_check("volume name", name, &ctx->err);
}

int cli_find_volume(struct cli_ctx *ctx, const char *name,
		    struct catalog_volume *out)
{
	int rc = cli_volume_name_check(ctx, name);

	if (rc < 0)
		return rc;
	rc = cli_open_catalog(ctx, false);
	if (rc < 0)
		return rc;
	return catalog_volume_find(ctx->catalog, name, out, &ctx->err);
}

int cli_snapshot_arg(struct cli_ctx *ctx, char *first, const char *second,
		     const char **snap)
{
	char *at = strchr(first, '@');

	*snap = second;
	if (at && second)
		return rc_error_usage(&ctx->err, "'%s' names the snapshot, and "
				      "so does '%s': give VOL@SNAP or VOL SNAP",
				      first, second);
	if (at) {
		*at = '\0';
		*snap = at + 1;
	}
	if (!*snap)
		return 0;
	return rc_name_check("snapshot name", *snap, &ctx->err);
}
