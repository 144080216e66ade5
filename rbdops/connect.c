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
#include <stdatomic.h>
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
	code = rc_error_set(err, code, "%s: %s", doing,
			    strerror(code < 0 ? -code : code));
	err->denied = code == -EPERM || code == -EACCES;
	return code;
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

/* The value of Ceph option key ("" when unset or unreadable). */
static void get_option(rados_t cluster, const char *key, char *buf, size_t len)
{
	if (rados_conf_get(cluster, key, buf, len) < 0)
		buf[0] = '\0';
}

/*
 * With no ceph.conf found and no monitor given, refuses before
 * connecting, naming where librados looked: rados_connect would look the
 * monitors up in DNS (SRV records named by mon_dns_srv_name) and, when
 * that fails, print a line of its own on stderr (MonMap::build_initial
 * writes to std::cerr, past every log option). An operator who keeps the
 * monitors in DNS gives a ceph.conf of one [global] section.
 */
static int check_monitors_known(rados_t cluster, const char *cluster_name,
				struct rc_error *err)
{
	const char *env = getenv("CEPH_CONF");
	char mon_host[1024];
	int got = rados_conf_get(cluster, "mon_host", mon_host,
				 sizeof(mon_host));

	/* a value too long for the buffer is a value: monitors are given */
	if (got == -ENAMETOOLONG || (got == 0 && mon_host[0]))
		return 0;
	if (env && env[0])
		return rc_error_config(err, -ENOENT, "no Ceph configuration: "
				       "$CEPH_CONF names %s, which does not "
				       "exist; give one with -c/--conf, or "
				       "the monitors with -m", env);
	/* librados's search when neither -c nor $CEPH_CONF name a file
	 * (CEPH_CONF_FILE_DEFAULT in Ceph's src/common/config.cc) */
	return rc_error_config(err, -ENOENT, "no Ceph configuration: none of "
			       "/etc/ceph/%s.conf, ~/.ceph/%s.conf, ./%s.conf "
			       "exists; give one with -c/--conf, or the "
			       "monitors with -m", cluster_name, cluster_name,
			       cluster_name);
}

static int configure(rados_t cluster, const struct rbdops_conn_options *opts,
		     const char *conf, const char *cluster_name,
		     struct rc_error *err)
{
	bool no_conf_file = false;
	char timeout[16];
	int rc;

	rc = rados_conf_read_file(cluster, conf);
	/* Without -c, a missing ceph.conf is fine when -m or CEPH_ARGS say
	 * where the monitors are (check_monitors_known). */
	if (rc == -ENOENT && conf == NULL)
		no_conf_file = true;
	else if (rc < 0)
		return rc_error_config(err, rc, "reading %s: %s",
				       conf ? conf : "the Ceph configuration",
				       strerror(-rc));
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
	return no_conf_file ? check_monitors_known(cluster, cluster_name, err)
			    : 0;
}

/* Whether the keyring file at path has a section for entity. */
static bool keyring_has(const char *path, const char *entity)
{
	char line[512], want[RC_NAME_MAX + 16];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	snprintf(want, sizeof(want), "[%s]", entity);
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strcspn(p, " \t\r\n");
		*end = '\0';
		found = strcmp(p, want) == 0;
	}
	fclose(f);
	return found;
}

/*
 * Says why connecting as entity failed with code when the cause is the
 * key: rados_connect answers ENOENT for a keyring it did not find, EPERM
 * for one without the entity's key and EACCES for a key the monitors
 * refuse, and names none of them (its own "unable to find a keyring on
 * ..." goes to the log, which rowcat keeps off stderr). The keyring
 * option is a list, expanded ($cluster, $name) by rados_conf_get; like
 * Ceph's ceph_resolve_file_search, the first file that opens is the one
 * read. Returns 0 when the key is not the cause (a key or keyfile option
 * gives it, or the code says something else), else the config error.
 */
static int explain_key(rados_t cluster, const char *entity, int code,
		       struct rc_error *err)
{
	char list[2048], key[256], keyfile[1024], tried[1024] = "";
	const char *used = NULL;
	int open_errno = ENOENT, files = 0;

	if (code != -ENOENT && code != -EPERM && code != -EACCES)
		return 0;
	get_option(cluster, "key", key, sizeof(key));
	get_option(cluster, "keyfile", keyfile, sizeof(keyfile));
	get_option(cluster, "keyring", list, sizeof(list));
	if (key[0] || keyfile[0] || !list[0])
		return 0;
	for (char *save = NULL, *path = strtok_r(list, ",;= \t", &save); path;
	     path = strtok_r(NULL, ",;= \t", &save)) {
		FILE *f = fopen(path, "r");
		size_t n = strlen(tried);

		if (f) {
			fclose(f);
			used = path;
			break;
		}
		open_errno = errno;
		snprintf(tried + n, sizeof(tried) - n, "%s%s", files ? ", " : "",
			 path);
		files++;
	}
	if (!used && open_errno != ENOENT)
		return rc_error_config(err, code, "cannot read the keyring of "
				       "%s: %s: %s", entity, tried,
				       strerror(open_errno));
	if (!used)
		return rc_error_config(err, code, "no keyring for %s: %s%s %s "
				       "(the keyring option; give one with "
				       "-k/--keyring, or write one with 'ceph "
				       "auth get %s -o FILE')", entity,
				       files > 1 ? "none of " : "", tried,
				       files > 1 ? "exists" : "does not exist",
				       entity);
	if (!keyring_has(used, entity))
		return rc_error_config(err, code, "keyring %s holds no key for "
				       "%s (give its keyring with -k/--keyring, "
				       "or another client with --id)", used,
				       entity);
	if (code == -EACCES)
		return rc_error_config(err, code, "the cluster refused the key "
				       "of %s in %s: the cluster has no such "
				       "client, or another key for it ('ceph "
				       "auth get %s')", entity, used, entity);
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
	rc = rbdops_ceph_load(err);
	if (rc < 0)
		goto out;
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
	snprintf(conn->entity, sizeof(conn->entity), "%s", entity);
	rc = configure(conn->cluster, opts, early.conf,
		       early.cluster ? early.cluster : "ceph", err);
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
		else if (explain_key(conn->cluster, entity, rc, err) == 0)
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

/* Every open of an image opens its whole parent chain, level by level
 * (bench row 6): the count is what a deep volume pays for. */
static _Atomic unsigned long image_opens;

void rbdops_count_open(void)
{
	atomic_fetch_add(&image_opens, 1);
}

void rbdops_disconnect(struct rbd_conn *conn)
{
	const char *wanted = getenv("ROWCAT_DEBUG_OPENS");

	if (!conn)
		return;
	if (wanted && strcmp(wanted, "1") == 0)
		fprintf(stderr, "rowcat: image opens: %lu\n",
			atomic_load(&image_opens));
	if (conn->cluster)
		rados_shutdown(conn->cluster);
	free(conn);
}

void *rbdops_ceph_context(struct rbd_conn *conn)
{
	return rados_cct(conn->cluster);
}

int rbdops_library_versions(char librbd[RBDOPS_VERSION_TEXT_MAX],
			    char librados[RBDOPS_VERSION_TEXT_MAX],
			    struct rc_error *err)
{
	int major, minor, extra;
	int rc = rbdops_ceph_load(err);

	if (rc < 0)
		return rc;
	rbd_version(&major, &minor, &extra);
	snprintf(librbd, RBDOPS_VERSION_TEXT_MAX, "%d.%d.%d", major, minor, extra);
	rados_version(&major, &minor, &extra);
	snprintf(librados, RBDOPS_VERSION_TEXT_MAX, "%d.%d.%d", major, minor,
		 extra);
	return 0;
}
