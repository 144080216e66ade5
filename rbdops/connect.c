/*
 * Connecting as Ceph's own tools do.
 *
 * --id, --name, --cluster and --conf are "early" arguments: rbd parses them
 * itself, from argv and then CEPH_ARGS (argv wins), because
 * rados_conf_parse_env does not apply them and rados_create2 takes the
 * client name only as an argument. So they are resolved here first; then
 * the conf file, then CEPH_ARGS for every other option, then our own
 * settings (-m, --keyring, the timeouts), which the command line gives.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int rbdops_fail(struct rc_error *err, int code, const char *fmt, ...)
{
	char doing[RC_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(doing, sizeof(doing), fmt, ap);
	va_end(ap);
	return rc_error_set(err, code, "%s: %s", doing, strerror(code < 0 ? -code : code));
}

/* The early arguments, each either borrowed from opts or owned here. */
struct early_args {
	char *conf, *cluster, *id, *name;
};

static void early_args_free(struct early_args *a)
{
	free(a->conf);
	free(a->cluster);
	free(a->id);
	free(a->name);
}

/*
 * Takes the value of early argument `flag` from the CEPH_ARGS words, as
 * "--flag VALUE" or "--flag=VALUE". Returns a malloc'd copy or NULL.
 */
static char *env_arg(char **words, int count, const char *const flags[])
{
	for (int i = 0; i < count; i++) {
		for (const char *const *f = flags; *f; f++) {
			size_t n = strlen(*f);
			if (strcmp(words[i], *f) == 0 && i + 1 < count)
				return strdup(words[i + 1]);
			if (strncmp(words[i], *f, n) == 0 && words[i][n] == '=')
				return strdup(words[i] + n + 1);
		}
	}
	return NULL;
}

static char *pick(const char *given, char **words, int count,
		  const char *const flags[])
{
	return given ? strdup(given) : env_arg(words, count, flags);
}

static int resolve_early_args(const struct rbdops_conn_options *opts,
			      struct early_args *out, struct rc_error *err)
{
	static const char *const conf_flags[] = {"--conf", "-c", NULL};
	static const char *const cluster_flags[] = {"--cluster", NULL};
	static const char *const id_flags[] = {"--id", "--user", "-i", NULL};
	static const char *const name_flags[] = {"--name", "-n", NULL};
	const char *env = getenv("CEPH_ARGS");
	char *copy = strdup(env ? env : "");
	char *words[128];
	int count = 0, rc = 0;

	if (!copy)
		return rc_error_set(err, -ENOMEM, "out of memory");
	for (char *save = NULL, *w = strtok_r(copy, " \t\n", &save);
	     w && count < (int)(sizeof(words) / sizeof(words[0]));
	     w = strtok_r(NULL, " \t\n", &save))
		words[count++] = w;

	out->conf = pick(opts->conf, words, count, conf_flags);
	out->cluster = pick(opts->cluster, words, count, cluster_flags);
	/* --name and --id on argv both override CEPH_ARGS */
	if (opts->name || opts->id) {
		out->name = opts->name ? strdup(opts->name) : NULL;
		out->id = opts->id ? strdup(opts->id) : NULL;
	} else {
		out->name = env_arg(words, count, name_flags);
		out->id = env_arg(words, count, id_flags);
	}
	if (out->name && strncmp(out->name, "client.", 7) != 0)
		rc = rc_error_usage(err,
			"--name '%s' is not a client name (client.ID)", out->name);
	free(copy);
	return rc;
}

static int set_option(rados_t cluster, const char *key, const char *value,
		      struct rc_error *err)
{
	int rc = rados_conf_set(cluster, key, value);
	if (rc < 0)
		return rbdops_fail(err, rc, "setting Ceph option %s=%s", key, value);
	return 0;
}

static int configure(rados_t cluster, const struct rbdops_conn_options *opts,
		     const char *conf, struct rc_error *err)
{
	char timeout[16];
	int rc;

	rc = rados_conf_read_file(cluster, conf);
	/* Without -c, a missing ceph.conf is fine when -m or CEPH_ARGS say
	 * where the monitors are; connecting reports it otherwise. */
	if (rc < 0 && !(conf == NULL && rc == -ENOENT))
		return rbdops_fail(err, rc, "reading %s",
				   conf ? conf : "the Ceph configuration");
	/* Ceph's own log lines on stderr would break rowcat's one-line
	 * messages; CEPH_ARGS can still turn them on for debugging. */
	if ((rc = set_option(cluster, "log_to_stderr", "false", err)) < 0 ||
	    (rc = set_option(cluster, "err_to_stderr", "false", err)) < 0)
		return rc;
	rc = rados_conf_parse_env(cluster, NULL);
	if (rc < 0)
		return rbdops_fail(err, rc, "parsing CEPH_ARGS");
	if (opts->mon_host && (rc = set_option(cluster, "mon_host",
					       opts->mon_host, err)) < 0)
		return rc;
	if (opts->keyring && (rc = set_option(cluster, "keyring",
					      opts->keyring, err)) < 0)
		return rc;
	snprintf(timeout, sizeof(timeout), "%d",
		 opts->timeout_seconds > 0 ? opts->timeout_seconds
					   : RBDOPS_DEFAULT_TIMEOUT);
	if ((rc = set_option(cluster, "client_mount_timeout", timeout, err)) < 0 ||
	    (rc = set_option(cluster, "rados_mon_op_timeout", timeout, err)) < 0 ||
	    (rc = set_option(cluster, "rados_osd_op_timeout", timeout, err)) < 0)
		return rc;
	return 0;
}

int rbdops_connect(struct rbd_conn **out, const struct rbdops_conn_options *opts,
		   struct rc_error *err)
{
	struct early_args early = {0};
	struct rbd_conn *conn = NULL;
	char entity[RC_NAME_MAX + 8];
	int rc;

	*out = NULL;
	rc = resolve_early_args(opts, &early, err);
	if (rc < 0)
		goto out;
	if (early.name)
		snprintf(entity, sizeof(entity), "%s", early.name);
	else
		snprintf(entity, sizeof(entity), "client.%s",
			 early.id ? early.id : "admin");

	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = rados_create2(&conn->cluster,
			   early.cluster ? early.cluster : "ceph", entity, 0);
	if (rc < 0) {
		conn->cluster = NULL;
		rc = rbdops_fail(err, rc, "creating a Ceph client as %s", entity);
		goto out;
	}
	rc = configure(conn->cluster, opts, early.conf, err);
	if (rc < 0)
		goto out;
	rc = rados_connect(conn->cluster);
	if (rc < 0) {
		int seconds = opts->timeout_seconds > 0 ? opts->timeout_seconds
							: RBDOPS_DEFAULT_TIMEOUT;
		if (rc == -ETIMEDOUT)
			rc = rc_error_set(err, rc,
				"the Ceph cluster did not answer within %d s "
				"(connecting as %s)", seconds, entity);
		else
			rc = rbdops_fail(err, rc, "connecting to the Ceph cluster as %s",
					 entity);
		goto out;
	}
out:
	early_args_free(&early);
	if (rc < 0) {
		rbdops_disconnect(conn);
		return rc;
	}
	*out = conn;
	return 0;
}

void rbdops_disconnect(struct rbd_conn *conn)
{
	if (!conn)
		return;
	if (conn->cluster)
		rados_shutdown(conn->cluster);
	free(conn);
}

void rbdops_library_versions(char librbd[RBDOPS_VERSION_TEXT_MAX],
			     char librados[RBDOPS_VERSION_TEXT_MAX])
{
	int major, minor, extra;

	rbd_version(&major, &minor, &extra);
	snprintf(librbd, RBDOPS_VERSION_TEXT_MAX, "%d.%d.%d", major, minor, extra);
	rados_version(&major, &minor, &extra);
	snprintf(librados, RBDOPS_VERSION_TEXT_MAX, "%d.%d.%d", major, minor,
		 extra);
}
