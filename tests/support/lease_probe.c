/*
 * lease_probe: drives the leases of rowcat/rbdops.h from the shell, one
 * host per process, for test_leases.sh. Each process connects as the
 * client its options name, so two of them are two hosts to the cluster.
 *
 *   lease_probe [--id ID] [--keyring FILE] COMMAND POOL[/NS]/OBJECT ARGS
 *
 *   take NAME LEASE_S HOST   takes the lease and prints "taken", then
 *                            drops it; else prints the error's line and
 *                            exits with its errno (EBUSY: 16)
 *   again NAME LEASE_S HOST  takes it twice (the second is a renewal),
 *                            prints "ours=1" when the holder is itself,
 *                            and the refusal to fence itself
 *   churn NAME LEASE_S HOST  4 threads, each taking, reading, checking
 *                            and dropping NAME.0 .. NAME.3 20 times while
 *                            the renewal thread runs (for TSan); prints
 *                            "churned"
 *   hold NAME LEASE_S HOST [write|keep]
 *                            takes it with a second client of its own
 *                            standing for the SQLite VFS's, prints
 *                            "held rados=ADDR vfs=ADDR entity=ENTITY",
 *                            and holds it until SIGTERM (exit 0) or until
 *                            rbdops_leases_check fails: then prints
 *                            "lost: CODE MESSAGE" and, with write, tries
 *                            to create image
 *                            POOL/NAME-rados through its own client and
 *                            POOL/NAME-vfs through the second, printing
 *                            "rados write: CODE MESSAGE" and "vfs write:
 *                            ...", and exits 3. With keep it does not
 *                            look whether the lease is lost, and on
 *                            SIGTERM drops it (rbdops_lease_drop, as a
 *                            process does that finds out no sooner),
 *                            prints "dropped" and exits 0
 *   holder NAME              prints the holder, one key=value a line, or
 *                            "none"
 *   fence NAME               fences the holder (blocklist, then break),
 *                            prints "fenced ENTITY", or the error's line
 *                            (exit with its errno); "none" when nobody
 *                            holds it (exit 2)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rowcat/error.h"
#include "rowcat/names.h"
#include "rowcat/rbdops.h"

static volatile sig_atomic_t stop_asked;

static void on_term(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: lease_probe [--id ID] [--keyring FILE] "
		"take|hold|holder|fence POOL[/NS]/OBJECT NAME [LEASE_S HOST]\n");
	return 64;
}

/* Splits POOL[/NS]/OBJECT in place. */
static int split_where(char *where, const char **pool, const char **ns,
		       const char **oid)
{
	char *first = strchr(where, '/'), *last = strrchr(where, '/');

	if (!first)
		return -1;
	*first = '\0';
	*pool = where;
	*ns = first == last ? "" : first + 1;
	if (first != last)
		*last = '\0';
	*oid = last + 1;
	return 0;
}

static int fail_with(const struct rc_error *err)
{
	printf("%s\n", err->message);
	fflush(stdout);
	return -err->code & 0xff;
}

static void print_holder(const struct rbdops_lease_holder *h)
{
	char text[512];

	rbdops_lease_holder_format(h, text, sizeof(text));
	printf("host=%s\npid=%ld\nrados=%s\nvfs=%s\nentity=%s\ncookie=%s\n"
	       "renewed=%lld\nlease=%d\nexpires=%lld\nours=%d\ntext=%s\n",
	       h->host, h->pid, h->rados_addr, h->vfs_addr, h->entity,
	       h->cookie, (long long)h->renewed_at, h->lease_s,
	       (long long)h->expires_at, h->ours, text);
}

/* Creates pool/name-suffix through conn: a write of that client's. */
static void try_write(struct rbd_conn *conn, const char *label,
		      const char *pool, const char *ns, const char *name,
		      const char *suffix)
{
	struct rc_image_spec spec = {0};
	struct rc_error err = {0};
	int rc;

	snprintf(spec.pool, sizeof(spec.pool), "%s", pool);
	snprintf(spec.ns, sizeof(spec.ns), "%s", ns);
	snprintf(spec.name, sizeof(spec.name), "%s-%s", name, suffix);
	rc = rbdops_image_create(conn, &spec, 1 << 20, &err);
	printf("%s write: %d %s\n", label, rc, rc ? err.message : "done");
	fflush(stdout);
}

static int hold(struct rbdops_conn_options *opts, struct rbd_conn *conn,
		const char *pool, const char *ns, const char *oid,
		const char *name, int lease_s, const char *host, bool write,
		bool keep)
{
	struct rbd_conn *vfs = NULL;
	struct rbd_leases *leases = NULL;
	struct rc_error err = {0};
	char rados_addr[RBDOPS_ADDR_MAX], vfs_addr[RBDOPS_ADDR_MAX];
	struct rbdops_lease_holder me;
	int rc;

	signal(SIGTERM, on_term);
	if ((rc = rbdops_connect(&vfs, opts, &err)) < 0 ||
	    (rc = rbdops_conn_addr(vfs, vfs_addr, sizeof(vfs_addr), &err)) < 0 ||
	    (rc = rbdops_conn_addr(conn, rados_addr, sizeof(rados_addr), &err)) < 0 ||
	    (rc = rbdops_leases_open(&leases, conn, pool, ns, oid, host,
				     vfs_addr, lease_s, &err)) < 0 ||
	    (rc = rbdops_lease_take(leases, name, &err)) < 0 ||
	    (rc = rbdops_lease_holder(leases, name, &me, &err)) < 0) {
		rc = fail_with(&err);
		goto out;
	}
	printf("held rados=%s vfs=%s entity=%s\n", rados_addr, vfs_addr,
	       me.entity);
	fflush(stdout);
	while (!stop_asked) {
		struct timespec pause = {0, 100 * 1000 * 1000};

		if (!keep && rbdops_leases_check(leases, &err) < 0) {
			printf("lost: %d %s\n", err.code, err.message);
			fflush(stdout);
			if (write) {
				try_write(conn, "rados", pool, ns, name, "rados");
				try_write(vfs, "vfs", pool, ns, name, "vfs");
			}
			rc = 3;
			goto out;
		}
		nanosleep(&pause, NULL);
	}
	if (keep) {
		rbdops_lease_drop(leases, name);
		printf("dropped\n");
	}
	rc = 0;
out:
	rbdops_leases_close(leases);
	rbdops_disconnect(vfs);
	return rc;
}

/* Takes the lease twice, reads itself as the holder, and may not fence
 * itself. */
static int again(struct rbd_leases *leases, const char *name)
{
	struct rbdops_lease_holder me;
	struct rc_error err = {0};

	if (rbdops_lease_take(leases, name, &err) < 0 ||
	    rbdops_lease_take(leases, name, &err) < 0 ||
	    rbdops_lease_holder(leases, name, &me, &err) < 0)
		return fail_with(&err);
	printf("ours=%d\n", me.ours);
	if (rbdops_lease_fence(leases, name, &me, &err) == 0) {
		printf("fenced itself\n");
		return 1;
	}
	printf("%d %s\n", err.code, err.message);
	return 0;
}

struct churner {
	struct rbd_leases *leases;
	char name[RBDOPS_LEASE_NAME_MAX];
	int failures;
	char why[RC_ERROR_MESSAGE_MAX];
};

static void *churn_main(void *arg)
{
	struct churner *c = arg;

	for (int i = 0; i < 20; i++) {
		struct rbdops_lease_holder h;
		struct rc_error err = {0};

		if (rbdops_lease_take(c->leases, c->name, &err) < 0 ||
		    rbdops_lease_holder(c->leases, c->name, &h, &err) < 0 ||
		    rbdops_leases_check(c->leases, &err) < 0 || !h.ours) {
			c->failures++;
			snprintf(c->why, sizeof(c->why), "%s", err.message);
		}
		rbdops_lease_drop(c->leases, c->name);
	}
	return NULL;
}

static int churn(struct rbd_leases *leases, const char *name)
{
	struct churner c[4];
	pthread_t threads[4];
	int failures = 0;

	for (int i = 0; i < 4; i++) {
		c[i] = (struct churner){.leases = leases};
		snprintf(c[i].name, sizeof(c[i].name), "%s.%d", name, i);
		if (pthread_create(&threads[i], NULL, churn_main, &c[i]) != 0)
			return 1;
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
		if (c[i].failures)
			printf("%s: %d failures: %s\n", c[i].name,
			       c[i].failures, c[i].why);
		failures += c[i].failures;
	}
	if (failures)
		return 1;
	printf("churned\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct rbdops_conn_options opts = {0};
	struct rbd_conn *conn = NULL;
	struct rbd_leases *leases = NULL;
	struct rbdops_lease_holder holder;
	struct rc_error err = {0};
	const char *command, *pool, *ns, *oid, *name;
	int i = 1, rc;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--id") == 0)
			opts.id = argv[i + 1];
		else if (strcmp(argv[i], "--keyring") == 0)
			opts.keyring = argv[i + 1];
		else
			return usage();
	}
	if (argc - i < 3)
		return usage();
	command = argv[i];
	name = argv[i + 2];
	if (split_where(argv[i + 1], &pool, &ns, &oid) < 0)
		return usage();
	if (strcmp(command, "holder") != 0 && strcmp(command, "fence") != 0 &&
	    argc - i != 5 && !(strcmp(command, "hold") == 0 && argc - i == 6))
		return usage();
	if (rbdops_connect(&conn, &opts, &err) < 0)
		return fail_with(&err);

	if (strcmp(command, "hold") == 0) {
		const char *mode = argc - i == 6 ? argv[i + 5] : "";

		rc = hold(&opts, conn, pool, ns, oid, name, atoi(argv[i + 3]),
			  argv[i + 4], strcmp(mode, "write") == 0,
			  strcmp(mode, "keep") == 0);
		goto out;
	}
	rc = rbdops_leases_open(&leases, conn, pool, ns, oid,
				argc - i == 5 ? argv[i + 4] : NULL, NULL,
				argc - i == 5 ? atoi(argv[i + 3]) : 30, &err);
	if (rc < 0) {
		rc = fail_with(&err);
		goto out;
	}
	if (strcmp(command, "take") == 0) {
		rc = rbdops_lease_take(leases, name, &err);
		if (rc == 0)
			printf("taken\n");
		rc = rc < 0 ? fail_with(&err) : 0;
	} else if (strcmp(command, "again") == 0) {
		rc = again(leases, name);
	} else if (strcmp(command, "churn") == 0) {
		rc = churn(leases, name);
	} else if (strcmp(command, "holder") == 0 ||
		   strcmp(command, "fence") == 0) {
		rc = rbdops_lease_holder(leases, name, &holder, &err);
		if (rc == -ENOENT) {
			printf("none\n");
			rc = strcmp(command, "fence") == 0 ? 2 : 0;
		} else if (rc < 0) {
			rc = fail_with(&err);
		} else if (strcmp(command, "holder") == 0) {
			print_holder(&holder);
		} else if ((rc = rbdops_lease_fence(leases, name, &holder,
						    &err)) < 0) {
			rc = fail_with(&err);
		} else {
			printf("fenced %s\n", holder.entity);
		}
	} else {
		rc = usage();
	}
out:
	rbdops_leases_close(leases);
	rbdops_disconnect(conn);
	return rc;
}
