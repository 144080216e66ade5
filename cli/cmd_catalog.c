/* rowcat catalog copy|info: the catalog itself, not what it holds. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rowcat/clock.h"
#include "cli.h"
#include "json_out.h"

static int catalog_copy_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_spec spec = {
		"catalog copy FROM TO",
		"Copies the catalog at FROM to TO, each a file or a catalog in\n"
		"RADOS (rados://POOL[/NAMESPACE]/NAME), either way, with SQLite's\n"
		"backup API: one consistent read of FROM, however busy. FROM is\n"
		"opened as every command opens it (a rowcat catalog, migrated to\n"
		"this rowcat's schema). TO must not exist: a file (even an empty\n"
		"one), or a database in RADOS (its first object NAME.0000000000000000),\n"
		"is never overwritten, and two copies to one place cannot both\n"
		"make it. The copy gets the layout of its kind (a file: WAL mode;\n"
		"RADOS: 64 KiB pages and a persistent rollback journal), is opened\n"
		"as a catalog and passes SQLite's integrity check before the copy\n"
		"succeeds; otherwise what was made at TO is removed. FROM is left\n"
		"as it was: point --catalog (or $ROWCAT_CATALOG) at TO to use the\n"
		"copy, and stop using FROM.",
		NULL, 2, 2,
	};
	bool rados;
	int rc, version;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	/* a malformed location is a usage error before any connection */
	for (int i = 1; i <= 2; i++) {
		struct catalog_rados_location loc;

		if (catalog_path_is_rados(argv[i]) &&
		    (rc = catalog_rados_location_parse(argv[i], &loc,
						       &ctx->err)) < 0)
			return rc;
	}
	rados = catalog_path_is_rados(argv[1]) || catalog_path_is_rados(argv[2]);
	if (rados && (rc = cli_connect(ctx)) < 0)
		return rc;
	rc = ops_catalog_copy(ctx->conn, argv[1], argv[2], &version, &ctx->err);
	if (rc == 0 && !ctx->quiet)
		fprintf(stderr, "rowcat: copied catalog %s to %s (schema version "
			"%d)\n", argv[1], argv[2], version);
	return rc;
}

/* "client.4136 at ADDR (cookie C, "DESC", until T)" */
static void locker_text(const struct rbdops_locker *l, char *buf, size_t len)
{
	char until[RC_ISO_TIME_MAX] = "";

	if (l->expires_at)
		rc_time_format_iso(l->expires_at, until);
	snprintf(buf, len, "%s at %s (cookie %s%s%s%s%s%s)", l->entity, l->addr,
		 l->cookie, l->description[0] ? ", \"" : "", l->description,
		 l->description[0] ? "\"" : "", until[0] ? ", until " : "", until);
}

/* A claim's holder as its lease's description names it, with the entity,
 * address and expiry the OSD keeps. */
static void claim_holder(const struct rbdops_locker *l,
			 struct rbdops_lease_holder *h)
{
	memset(h, 0, sizeof(*h));
	rbdops_lease_desc_parse(l->description, h);
	snprintf(h->entity, sizeof(h->entity), "%s", l->entity);
	snprintf(h->rados_addr, sizeof(h->rados_addr), "%s", l->addr);
	h->expires_at = l->expires_at;
}

static void print_plain(const char *path, const struct ops_catalog_info *info)
{
	static const char *const job_words[CATALOG_JOB_KINDS] = {
		[CATALOG_JOB_GC] = "gc", [CATALOG_JOB_POLICY] = "policy run",
	};
	char text[1024];

	printf("catalog:        %s\n", path);
	if (info->rados) {
		printf("pool:           %s\n", info->location.pool);
		printf("namespace:      %s\n", info->location.ns[0]
		       ? info->location.ns : "(default)");
		printf("object:         %s\n", info->object);
	}
	printf("schema version: %d\n", info->schema_version);
	if (info->rados || !info->file.wal_size)
		printf("size:           %" PRIu64 " bytes\n", info->size);
	else
		printf("size:           %" PRIu64 " bytes, and %" PRIu64
		       " bytes of WAL\n", info->size, info->file.wal_size);
	printf("page size:      %d\n", info->page_size);
	printf("journal mode:   %s\n", info->journal_mode);
	if (info->rados) {
		if (info->lock.count == 0)
			printf("lock:           free\n");
		for (size_t i = 0; i < info->lock.count; i++) {
			locker_text(&info->lock.lockers[i], text, sizeof(text));
			printf("lock:           held by %s\n", text);
		}
		printf("holder address: %s\n", info->holder_addrs[0]
		       ? info->holder_addrs : "(none)");
		if (info->claims_count == 0)
			printf("claims:         none held\n");
		for (size_t i = 0; i < info->claims_count; i++) {
			struct rbdops_lease_holder h;

			claim_holder(&info->claims[i].holder, &h);
			rbdops_lease_holder_format(&h, text, sizeof(text));
			printf("%-15s %s by %s\n", i ? "" : "claims:",
			       info->claims[i].name, text);
		}
		return;
	}
	for (int j = 0; j < CATALOG_JOB_KINDS; j++) {
		long pid = info->file.job_pid[j];

		if (!pid)
			printf("%-15s not running\n", job_words[j]);
		else if (pid < 0)
			printf("%-15s running (pid unknown)\n", job_words[j]);
		else
			printf("%-15s running (pid %ld)\n", job_words[j], pid);
	}
	if (info->file.claimed_count == 0) {
		printf("operations:     none in progress\n");
		return;
	}
	printf("operations:     in progress:");
	for (size_t i = 0; i < info->file.claimed_count; i++)
		printf(" %" PRId64, info->file.claimed_ops[i]);
	printf("\n");
}

static struct json_object *json_pid(long pid)
{
	return pid > 0 ? json_object_new_int64(pid) : NULL;
}

static struct json_object *json_info(const char *path,
				     const struct ops_catalog_info *info)
{
	struct json_object *obj = json_object_new_object(), *list;
	bool rados = info->rados;

	if (!obj)
		return NULL;
	json_object_object_add(obj, "catalog", cli_json_string(path));
	json_object_object_add(obj, "type",
			       json_object_new_string(rados ? "rados" : "file"));
	json_object_object_add(obj, "pool",
			       rados ? cli_json_string(info->location.pool) : NULL);
	json_object_object_add(obj, "pool_namespace",
			       rados ? cli_json_string(info->location.ns) : NULL);
	json_object_object_add(obj, "object",
			       rados ? cli_json_string(info->object) : NULL);
	json_object_object_add(obj, "schema_version",
			       json_object_new_int(info->schema_version));
	json_object_object_add(obj, "size",
			       json_object_new_int64((int64_t)info->size));
	json_object_object_add(obj, "wal_size", rados ? NULL :
			       json_object_new_int64((int64_t)info->file.wal_size));
	json_object_object_add(obj, "page_size",
			       json_object_new_int(info->page_size));
	json_object_object_add(obj, "journal_mode",
			       json_object_new_string(info->journal_mode));
	list = rados ? json_object_new_array() : NULL;
	for (size_t i = 0; list && i < info->lock.count; i++) {
		const struct rbdops_locker *l = &info->lock.lockers[i];
		struct json_object *item = json_object_new_object();

		if (!cli_json_append(list, item))
			continue;
		json_object_object_add(item, "entity", cli_json_string(l->entity));
		json_object_object_add(item, "cookie", cli_json_string(l->cookie));
		json_object_object_add(item, "address", cli_json_string(l->addr));
		json_object_object_add(item, "description",
				       cli_json_nonempty(l->description));
		json_object_object_add(item, "expires", cli_json_time(l->expires_at));
	}
	json_object_object_add(obj, "lockers", list);
	json_object_object_add(obj, "holder_address", rados
			       ? cli_json_nonempty(info->holder_addrs) : NULL);
	json_object_object_add(obj, "gc_pid", rados ? NULL :
			       json_pid(info->file.job_pid[CATALOG_JOB_GC]));
	json_object_object_add(obj, "policy_pid", rados ? NULL :
			       json_pid(info->file.job_pid[CATALOG_JOB_POLICY]));
	list = rados ? NULL : json_object_new_array();
	for (size_t i = 0; list && i < info->file.claimed_count; i++)
		cli_json_append(list, json_object_new_int64(info->file.claimed_ops[i]));
	json_object_object_add(obj, "operations", list);
	list = rados ? json_object_new_array() : NULL;
	for (size_t i = 0; list && i < info->claims_count; i++) {
		struct json_object *item = json_object_new_object();
		struct rbdops_lease_holder h;

		if (!cli_json_append(list, item))
			continue;
		claim_holder(&info->claims[i].holder, &h);
		json_object_object_add(item, "claim",
				       cli_json_string(info->claims[i].name));
		json_object_object_add(item, "host", cli_json_nonempty(h.host));
		json_object_object_add(item, "pid", h.pid > 0
				       ? json_object_new_int64(h.pid) : NULL);
		json_object_object_add(item, "entity", cli_json_string(h.entity));
		json_object_object_add(item, "address",
				       cli_json_string(h.rados_addr));
		json_object_object_add(item, "expires", cli_json_time(h.expires_at));
	}
	json_object_object_add(obj, "claims", list);
	return obj;
}

static int catalog_info_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_option options[] = { CLI_OPT_FORMAT(ctx), CLI_OPT_END };
	struct cli_spec spec = {
		"catalog info [--format plain|json]",
		"Says where the catalog is (--catalog, else $ROWCAT_CATALOG, else\n"
		"the default), its schema version, its size, page size and journal\n"
		"mode, and who holds it. In RADOS: the holder of the SQLite VFS's\n"
		"lock (striper.lock on the first object: client, address, cookie,\n"
		"description, and until when, by the OSD's clock, unless renewed),\n"
		"and the addresses it wrote (striper.excl; empty between\n"
		"transactions), and the claims held (operations, gc, policy runs:\n"
		"leases on NAME.claims, each with its host and until when), all\n"
		"read from the objects without waiting for that lock. A file: its\n"
		"WAL's size, whether a gc or a policy run holds its lock (with its\n"
		"pid), and which operations a live rowcat is carrying out. Reads\n"
		"only; migrates nothing.",
		options, 0, 0,
	};
	struct ops_catalog_info info;
	struct json_object *obj;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_catalog_path(ctx);
	if (rc < 0)
		return rc;
	if (catalog_path_is_rados(ctx->catalog_path)) {
		struct catalog_rados_location loc;

		rc = catalog_rados_location_parse(ctx->catalog_path, &loc,
						  &ctx->err);
		if (rc == 0)
			rc = cli_connect(ctx);
		if (rc < 0)
			return rc;
	}
	rc = ops_catalog_info(ctx->conn, ctx->catalog_path, &info, &ctx->err);
	if (rc < 0)
		return rc;
	if (ctx->format != FORMAT_JSON) {
		print_plain(ctx->catalog_path, &info);
		return 0;
	}
	obj = json_info(ctx->catalog_path, &info);
	if (!obj)
		return rc_error_set(&ctx->err, -ENOMEM, "out of memory");
	rc = cli_json_print(ctx, obj);
	json_object_put(obj);
	return rc;
}

int cmd_catalog(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "copy") == 0)
		return catalog_copy_cmd(ctx, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "info") == 0)
		return catalog_info_cmd(ctx, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
			  strcmp(argv[1], "-h") == 0)) {
		char copy[] = "copy", info[] = "info", help[] = "--help";
		char *copy_argv[] = { copy, help, NULL };
		char *info_argv[] = { info, help, NULL };
		int rc = catalog_copy_cmd(ctx, 2, copy_argv);

		putchar('\n');
		return rc < 0 ? rc : catalog_info_cmd(ctx, 2, info_argv);
	}
	return rc_error_usage(&ctx->err, "usage: rowcat catalog copy FROM TO | "
			      "rowcat catalog info; 'rowcat catalog --help' says "
			      "more");
}
