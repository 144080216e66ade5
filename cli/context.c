/* What commands share: finding and opening the catalog, connecting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static char default_path[4096];

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
 * The catalog path: --catalog, else $ROWCAT_CATALOG, else the default
 * location, whose directory is created when `create` is set.
 */
static int resolve_catalog_path(struct cli_ctx *ctx, bool create)
{
	const char *env = getenv("ROWCAT_CATALOG");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	char dir[sizeof(default_path) - sizeof("/catalog.db")];
	int n;

	if (ctx->catalog_path)
		return 0;
	if (env && env[0]) {
		ctx->catalog_path = env;
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
			"no catalog location: use --catalog or set ROWCAT_CATALOG");
	if (n < 0 || (size_t)n >= sizeof(dir))
		return rc_error_usage(&ctx->err,
			"the default catalog location is too long; use --catalog");
	snprintf(default_path, sizeof(default_path), "%s/catalog.db", dir);
	ctx->catalog_path = default_path;
	return create ? make_dirs(dir, &ctx->err) : 0;
}

int cli_open_catalog(struct cli_ctx *ctx, bool create)
{
	int rc;

	if (ctx->catalog)
		return 0;
	rc = resolve_catalog_path(ctx, create);
	if (rc < 0)
		return rc;
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

int cli_find_volume(struct cli_ctx *ctx, const char *name,
		    struct catalog_volume *out)
{
	int rc = rc_name_check("volume name", name, &ctx->err);

	if (rc < 0)
		return rc;
	rc = cli_open_catalog(ctx, false);
	if (rc < 0)
		return rc;
	return catalog_volume_find(ctx->catalog, name, out, &ctx->err);
}
