/*
 * Who has an image open: its watchers and the owner of its exclusive lock.
 *
 * What the cluster says, measured on Ceph 16.2: a client that opens an
 * image writable watches its header at once (`rbd status` lists it as
 * client.ID at its address, with a cookie); a read-only open adds no watch.
 * The client that writes also owns the exclusive lock, whose locker names
 * the same client and address (rbd_list_lockers: tag "internal", cookie
 * "auto N"; rbd_lock_get_owners gives only the address, and refuses an
 * image opened read-only). A client killed keeps its watch until the OSD
 * times it out (about 30 s) and its lock until another client breaks it.
 * So the image is opened read-only here: the look adds no client of its
 * own, and a rowcat killed while it looks leaves nothing behind.
 *
 * An open reads the image's whole parent chain (about 6 ms a level), and
 * librados's C API cannot list an object's watchers (only the C++ one
 * can, which rbd_watchers_list uses). But every watcher of an object
 * answers a notify on it: librbd and krbd ack each one, and a watch whose
 * client is gone, which the OSD keeps until it times out, is listed in
 * the notify's reply as timed out. So the header object is asked first,
 * with the notify librbd sends after changing a header (an empty one: a
 * watcher refreshes its view of the header before its next I/O, which
 * costs a running client nothing it does not do after any snapshot by
 * another client). No answer but this connection's own: nobody has the
 * image open, and it is not opened. Anyone else: the image is opened and
 * its watchers listed as before, with their addresses (a notify's reply
 * names a client by its id only).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowcat/sys/grow.h"
#include "internal.h"

void rbdops_clients_free(struct rbdops_clients *list)
{
	if (!list)
		return;
	free(list->items);
	list->items = NULL;
	list->count = 0;
	list->capacity = 0;
}

int rbdops_clients_add(struct rbdops_clients *list, const char *entity,
		       const char *addr, bool watching, bool lock_owner,
		       struct rc_error *err)
{
	struct rbdops_client *c = NULL;

	for (size_t i = 0; i < list->count && !c; i++)
		if (strcmp(list->items[i].addr, addr) == 0)
			c = &list->items[i];
	if (!c) {
		int rc = rc_grow((void **)&list->items, &list->capacity,
				 list->count + 1, sizeof(*list->items), 4);

		if (rc < 0)
			return rc_error_set(err, rc, "out of memory");
		c = &list->items[list->count++];
		memset(c, 0, sizeof(*c));
		snprintf(c->addr, sizeof(c->addr), "%s", addr);
	}
	if (!c->entity[0] && entity)
		snprintf(c->entity, sizeof(c->entity), "%s", entity);
	c->watching |= watching;
	c->lock_owner |= lock_owner;
	return 0;
}

void rbdops_clients_drop_entity(struct rbdops_clients *list, const char *entity)
{
	size_t kept = 0;

	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i].entity, entity) != 0)
			list->items[kept++] = list->items[i];
	list->count = kept;
}

size_t rbdops_clients_format(const struct rbdops_clients *list,
			     bool watching_only, char *buf, size_t len)
{
	size_t named = 0, used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < list->count; i++) {
		const struct rbdops_client *c = &list->items[i];
		int n;

		if (watching_only && !c->watching)
			continue;
		n = snprintf(buf + used, used < len ? len - used : 0,
			     "%s%s at %s", named ? ", " : "",
			     c->entity[0] ? c->entity : "a client", c->addr);
		named++;
		if (n > 0)
			used += (size_t)n;
	}
	if (len && used >= len && len > 4)
		memcpy(buf + len - 4, "...", 4); /* cut: say so */
	return named;
}

/* Adds the image's watchers: every client that has it open. */
static int add_watchers(rbd_image_t image, const char *text,
			struct rbdops_clients *list, struct rc_error *err)
{
	rbd_image_watcher_t *watchers = NULL;
	size_t count = 8;
	int rc;

	for (;;) {
		free(watchers);
		watchers = calloc(count, sizeof(*watchers));
		if (!watchers)
			return rc_error_set(err, -ENOMEM, "out of memory");
		rc = rbd_watchers_list(image, watchers, &count);
		if (rc != -ERANGE)
			break;
	}
	if (rc < 0) {
		free(watchers);
		return rbdops_fail(err, rc, "listing the watchers of %s", text);
	}
	for (size_t i = 0; i < count && rc == 0; i++) {
		char entity[RBDOPS_ENTITY_MAX];

		snprintf(entity, sizeof(entity), "client.%" PRIu64,
			 watchers[i].id);
		rc = rbdops_clients_add(list, entity, watchers[i].addr, true,
					false, err);
	}
	rbd_watchers_list_cleanup(watchers, count);
	free(watchers);
	return rc;
}

/* Adds the owner of the image's exclusive lock: librbd's managed lock is
 * tagged "internal" with a cookie "auto N" (an advisory lock of `rbd lock
 * add` is not a client that has the image open, and is left out). */
static int add_lock_owner(rbd_image_t image, const char *text,
			  struct rbdops_clients *list, struct rc_error *err)
{
	size_t tag_len = 64, clients_len = 256, cookies_len = 256;
	size_t addrs_len = 256;
	char *tag = NULL, *clients = NULL, *cookies = NULL, *addrs = NULL;
	const char *client, *cookie, *addr;
	int exclusive = 0, rc = 0;
	ssize_t n;

	for (;;) { /* librbd says how much room it needs */
		free(tag);
		free(clients);
		free(cookies);
		free(addrs);
		tag = calloc(1, tag_len);
		clients = calloc(1, clients_len);
		cookies = calloc(1, cookies_len);
		addrs = calloc(1, addrs_len);
		if (!tag || !clients || !cookies || !addrs) {
			rc = rc_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		n = rbd_list_lockers(image, &exclusive, tag, &tag_len, clients,
				     &clients_len, cookies, &cookies_len, addrs,
				     &addrs_len);
		if (n != -ERANGE)
			break;
	}
	if (n < 0) {
		rc = rbdops_fail(err, (int)n, "listing the lock owners of %s",
				 text);
		goto out;
	}
	if (n == 0 || strcmp(tag, "internal") != 0)
		goto out;
	client = clients;
	cookie = cookies;
	addr = addrs;
	for (ssize_t i = 0; i < n && rc == 0; i++) {
		if (strncmp(cookie, "auto ", 5) == 0)
			rc = rbdops_clients_add(list, client, addr, false, true,
						err);
		client += strlen(client) + 1;
		cookie += strlen(cookie) + 1;
		addr += strlen(addr) + 1;
	}
out:
	free(tag);
	free(clients);
	free(cookies);
	free(addrs);
	return rc;
}

/* The clients of an open image, this connection's own left out. */
static int clients_of(struct rbd_conn *conn, rbd_image_t image,
		      const char *text, struct rbdops_clients *out,
		      struct rc_error *err)
{
	char self[RBDOPS_ENTITY_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = add_watchers(image, text, out, err);
	if (rc == 0)
		rc = add_lock_owner(image, text, out, err);
	if (rc < 0) {
		rbdops_clients_free(out);
		return rc;
	}
	/* this connection's own watch, should it have the image open (the
	 * threads of a policy run share it, and a snap holds it open) */
	snprintf(self, sizeof(self), "client.%" PRIu64,
		 rados_get_instance_id(conn->cluster));
	rbdops_clients_drop_entity(out, self);
	return 0;
}

/* How long the header's watchers have to answer: one that answers later
 * is listed all the same (as timed out), so this bounds only the wait for
 * a dead client's watch, which the open that follows lists anyway. */
#define WATCHERS_ASK_TIMEOUT_MS 1000

/*
 * Whether a client other than this connection watches the header of the
 * image at spec, asked with a notify (see the top of this file).
 * -EOPNOTSUPP when the header cannot be asked (a format-1 image, none at
 * spec, a notify that fails): the caller opens the image, which words
 * any failure. RBDOPS_NO_POOL when the pool does not exist.
 */
static int watched_unopened(struct rbd_conn *conn,
			    const struct rc_image_spec *spec, bool *watched,
			    struct rc_error *err)
{
	char id[RC_RBD_ID_MAX], oid[RC_RBD_ID_MAX + 16];
	struct notify_ack_t *acks = NULL;
	struct notify_timeout_t *timeouts = NULL;
	size_t ack_count = 0, timeout_count = 0, reply_len = 0;
	uint64_t self = rados_get_instance_id(conn->cluster);
	char *reply = NULL;
	rados_ioctx_t io = NULL;
	int rc;

	*watched = true;
	rc = rbdops_ioctx(conn, spec->pool, spec->ns, &io, err);
	if (rc < 0)
		return rc;
	rc = rbdops_header_oid(io, spec->name, id, sizeof(id), oid, sizeof(oid));
	if (rc == 0)
		rc = rados_notify2(io, oid, "", 0, WATCHERS_ASK_TIMEOUT_MS,
				   &reply, &reply_len);
	/* a watcher did not answer in time: there is one */
	if (rc == -ETIMEDOUT)
		goto out;
	if (rc == 0 && !reply)
		rc = -EOPNOTSUPP;
	if (rc == 0)
		rc = rados_decode_notify_response(reply, reply_len, &acks,
						  &ack_count, &timeouts,
						  &timeout_count);
	if (rc < 0) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	*watched = false;
	for (size_t i = 0; i < ack_count; i++)
		*watched |= acks[i].notifier_id != self;
	for (size_t i = 0; i < timeout_count; i++)
		*watched |= timeouts[i].notifier_id != self;
	rados_free_notify_response(acks, ack_count, timeouts);
out:
	if (reply)
		rados_buffer_free(reply);
	rados_ioctx_destroy(io);
	return rc == -ETIMEDOUT ? 0 : rc;
}

int rbdops_image_clients(struct rbd_conn *conn,
			 const struct rc_image_spec *spec,
			 struct rbdops_clients *out, struct rc_error *err)
{
	char text[RC_SPEC_MAX];
	struct open_image img;
	bool watched = true;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = watched_unopened(conn, spec, &watched, err);
	if (rc == 0 && !watched)
		return 0;
	if (rc < 0 && rc != -EOPNOTSUPP)
		return rc;
	rc_image_spec_format(spec, text, sizeof(text));
	rc = rbdops_open_image(conn, spec, true, &img, err);
	if (rc == 0)
		rc = clients_of(conn, img.image, text, out, err);
	rbdops_close_image(&img);
	return rc;
}
