/* rbdops/: what the thin Ceph layer decides without a cluster (the list
 * of an image's clients) and the error that says a client has it open. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rowcat/error.h"
#include "rowcat/rbdops.h"

#define WRITER_ADDR "127.0.0.1:0/1256915530"
#define READER_ADDR "127.0.0.1:0/3230503575"

static void test_a_watcher_that_owns_the_lock_is_one_client(void **state)
{
	struct rbdops_clients list = {0};
	struct rc_error err = {0};
	char text[256];
	(void)state;

	assert_int_equal(rbdops_clients_add(&list, "client.4449", WRITER_ADDR,
					    true, false, &err), 0);
	assert_int_equal(rbdops_clients_add(&list, "client.4449", WRITER_ADDR,
					    false, true, &err), 0);
	assert_int_equal(list.count, 1);
	assert_true(list.items[0].watching);
	assert_true(list.items[0].lock_owner);
	assert_int_equal(rbdops_clients_format(&list, true, text, sizeof(text)),
			 1);
	assert_string_equal(text, "client.4449 at " WRITER_ADDR);
	rbdops_clients_free(&list);
}

static void test_clients_are_named_in_the_order_seen(void **state)
{
	struct rbdops_clients list = {0};
	struct rc_error err = {0};
	char text[256];
	(void)state;

	assert_int_equal(rbdops_clients_add(&list, "client.4450", READER_ADDR,
					    true, false, &err), 0);
	assert_int_equal(rbdops_clients_add(&list, "client.4449", WRITER_ADDR,
					    true, false, &err), 0);
	assert_int_equal(rbdops_clients_add(&list, "client.4449", WRITER_ADDR,
					    false, true, &err), 0);
	assert_int_equal(rbdops_clients_format(&list, true, text, sizeof(text)),
			 2);
	assert_string_equal(text, "client.4450 at " READER_ADDR
			    ", client.4449 at " WRITER_ADDR);
	rbdops_clients_free(&list);
}

/* A lock owner without a watch is dead or cut off: listed, but not among
 * the clients that have the image open. */
static void test_a_lock_owner_without_a_watch_is_not_watching(void **state)
{
	struct rbdops_clients list = {0};
	struct rc_error err = {0};
	char text[256];
	(void)state;

	assert_int_equal(rbdops_clients_add(&list, "client.4127", READER_ADDR,
					    false, true, &err), 0);
	assert_int_equal(list.count, 1);
	assert_false(list.items[0].watching);
	assert_int_equal(rbdops_clients_format(&list, true, text, sizeof(text)),
			 0);
	assert_string_equal(text, "");
	assert_int_equal(rbdops_clients_format(&list, false, text, sizeof(text)),
			 1);
	assert_string_equal(text, "client.4127 at " READER_ADDR);
	rbdops_clients_free(&list);
}

static void test_our_own_connection_is_left_out(void **state)
{
	struct rbdops_clients list = {0};
	struct rc_error err = {0};
	char text[256];
	(void)state;

	assert_int_equal(rbdops_clients_add(&list, "client.4449", WRITER_ADDR,
					    true, true, &err), 0);
	assert_int_equal(rbdops_clients_add(&list, "client.5000",
					    "127.0.0.1:0/1", true, false,
					    &err), 0);
	rbdops_clients_drop_entity(&list, "client.5000");
	assert_int_equal(rbdops_clients_format(&list, true, text, sizeof(text)),
			 1);
	assert_string_equal(text, "client.4449 at " WRITER_ADDR);
	rbdops_clients_drop_entity(&list, "client.4449");
	assert_int_equal(list.count, 0);
	assert_int_equal(rbdops_clients_format(&list, true, text, sizeof(text)),
			 0);
	assert_string_equal(text, "");
	rbdops_clients_free(&list);
	rbdops_clients_free(NULL);
}

/* Many clients and a small buffer: every one counted, the text cut with
 * "..." and always terminated. */
static void test_a_long_list_is_cut_and_says_so(void **state)
{
	struct rbdops_clients list = {0};
	struct rc_error err = {0};
	char text[40], entity[32], addr[64];
	(void)state;

	for (int i = 0; i < 20; i++) {
		snprintf(entity, sizeof(entity), "client.%d", 4000 + i);
		snprintf(addr, sizeof(addr), "127.0.0.1:0/%d", 1000 + i);
		assert_int_equal(rbdops_clients_add(&list, entity, addr, true,
						    false, &err), 0);
	}
	assert_int_equal(list.count, 20);
	assert_int_equal(rbdops_clients_format(&list, true, text, sizeof(text)),
			 20);
	assert_int_equal(strlen(text), sizeof(text) - 1);
	assert_string_equal(text + sizeof(text) - 4, "...");
	assert_memory_equal(text, "client.4000 at 127.0.0.1:0/1000, ", 33);
	rbdops_clients_free(&list);
}

/* The refusal's error: its own flag and code, never "busy", and no
 * stale flag after a later error or a clear. */
static void test_the_in_use_error_is_its_own(void **state)
{
	struct rc_error err = {0};
	(void)state;

	assert_int_equal(rc_error_in_use(&err, "volume '%s' is in use", "v"),
			 RC_IN_USE);
	assert_true(err.in_use);
	assert_false(err.usage);
	assert_int_not_equal(err.code, -EBUSY);
	assert_string_equal(err.message, "volume 'v' is in use");
	rc_error_prefix(&err, "policy: ");
	assert_true(err.in_use);
	rc_error_set(&err, -EIO, "later");
	assert_false(err.in_use);
	rc_error_in_use(&err, "again");
	rc_error_usage(&err, "bad");
	assert_false(err.in_use);
	rc_error_in_use(&err, "again");
	rc_error_clear(&err);
	assert_false(err.in_use);
	assert_int_equal(err.code, 0);
}

/* A host name with the description's own separators (and bytes no
 * terminal shows) comes back as it was, and forges no field. */
static void test_a_lease_description_keeps_any_host_name(void **state)
{
	struct rbdops_lease_holder h = {0};
	char desc[1024];
	(void)state;

	assert_int_equal(rbdops_lease_desc_format(desc, sizeof(desc),
						  "h;pid=9;vfs=x %\x01", 42,
						  WRITER_ADDR, READER_ADDR, 30,
						  1796015956),
			 0);
	assert_string_equal(desc, "host=h%3Bpid%3D9%3Bvfs%3Dx%20%25%01;pid=42;"
			    "rados=" WRITER_ADDR ";vfs=" READER_ADDR
			    ";lease=30;renewed=1796015956");
	assert_true(rbdops_lease_desc_parse(desc, &h));
	assert_string_equal(h.host, "h;pid=9;vfs=x %\x01");
	assert_int_equal(h.pid, 42);
	assert_string_equal(h.rados_addr, WRITER_ADDR);
	assert_string_equal(h.vfs_addr, READER_ADDR);
	assert_int_equal(h.lease_s, 30);
	assert_int_equal(h.renewed_at, 1796015956);
}

/* The OSD's address of the holder wins over the one it wrote; fields a
 * reader does not know, and descriptions not ours, are passed over. */
static void test_a_lease_description_is_read_forgivingly(void **state)
{
	struct rbdops_lease_holder h = {0};
	char desc[16];
	(void)state;

	snprintf(h.rados_addr, sizeof(h.rados_addr), "%s", WRITER_ADDR);
	assert_true(rbdops_lease_desc_parse("zone=a;host=b;rados=1.2.3.4:0/1;"
					    "pid=7;bad%;=;x", &h));
	assert_string_equal(h.host, "b");
	assert_string_equal(h.rados_addr, WRITER_ADDR);
	assert_int_equal(h.pid, 7);
	memset(&h, 0, sizeof(h));
	assert_false(rbdops_lease_desc_parse("taken by rbd lock add", &h));
	assert_string_equal(h.host, "");
	assert_int_equal(rbdops_lease_desc_format(desc, sizeof(desc), "host",
						  1, "", "", 30, 0),
			 -ENAMETOOLONG);
}

/* An operator reads who holds a lease and until when. */
static void test_a_lease_holder_is_named_with_its_end(void **state)
{
	struct rbdops_lease_holder h = {.pid = 12, .expires_at = 1796015959,
					.renewed_at = 1, .lease_s = 3};
	char text[256];
	(void)state;

	snprintf(h.host, sizeof(h.host), "hosta");
	snprintf(h.entity, sizeof(h.entity), "client.4133");
	snprintf(h.rados_addr, sizeof(h.rados_addr), "%s", WRITER_ADDR);
	rbdops_lease_holder_format(&h, text, sizeof(text));
	assert_string_equal(text, "host hosta (pid 12, client.4133 at "
			    WRITER_ADDR ") until 2026-11-30T05:19:19Z unless "
			    "renewed");
	/* a lock some other tool took: no host, no expiry */
	memset(&h, 0, sizeof(h));
	snprintf(h.entity, sizeof(h.entity), "client.9");
	rbdops_lease_holder_format(&h, text, sizeof(text));
	assert_string_equal(text, "(client.9), without expiry");
}

/* A parent's header with snapshots a (id 4) and b (id 7), and a child of
 * parent_snap_id: what check compares instead of opening either. */
static void headers(struct rbdops_header *parent, struct rbdops_header *child,
		    struct rbdops_snapshot snaps[2], uint64_t parent_snap_id)
{
	memset(parent, 0, sizeof(*parent));
	memset(child, 0, sizeof(*child));
	memset(snaps, 0, 2 * sizeof(*snaps));
	snprintf(snaps[0].name, sizeof(snaps[0].name), "a");
	snaps[0].id = 4;
	snprintf(snaps[1].name, sizeof(snaps[1].name), "b");
	snaps[1].id = 7;
	snprintf(parent->id, sizeof(parent->id), "10ab");
	parent->pool_id = 2;
	snprintf(parent->ns, sizeof(parent->ns), "ns1");
	parent->snapshots = snaps;
	parent->snapshot_count = 2;
	child->has_parent = true;
	child->parent_pool_id = 2;
	snprintf(child->parent_ns, sizeof(child->parent_ns), "ns1");
	snprintf(child->parent_id, sizeof(child->parent_id), "10ab");
	child->parent_snap_id = parent_snap_id;
}

static void test_a_header_names_its_parent_by_ids(void **state)
{
	struct rbdops_header parent, child;
	struct rbdops_snapshot snaps[2];

	(void)state;
	headers(&parent, &child, snaps, 7);
	assert_true(rbdops_header_parent_is(&child, &parent, "b"));
	assert_false(rbdops_header_parent_is(&child, &parent, "a"));
	assert_false(rbdops_header_parent_is(&child, &parent, "c"));
}

static void test_a_parent_elsewhere_or_gone_is_not_the_one(void **state)
{
	struct rbdops_header parent, child;
	struct rbdops_snapshot snaps[2];

	(void)state;
	headers(&parent, &child, snaps, 9); /* a snapshot parent has not */
	assert_false(rbdops_header_parent_is(&child, &parent, "b"));
	headers(&parent, &child, snaps, 7);
	child.parent_pool_id = 3;
	assert_false(rbdops_header_parent_is(&child, &parent, "b"));
	headers(&parent, &child, snaps, 7);
	snprintf(child.parent_ns, sizeof(child.parent_ns), "%s", "");
	assert_false(rbdops_header_parent_is(&child, &parent, "b"));
	headers(&parent, &child, snaps, 7);
	snprintf(child.parent_id, sizeof(child.parent_id), "10ac");
	assert_false(rbdops_header_parent_is(&child, &parent, "b"));
	headers(&parent, &child, snaps, 7);
	child.has_parent = false; /* flattened */
	assert_false(rbdops_header_parent_is(&child, &parent, "b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_watcher_that_owns_the_lock_is_one_client),
		cmocka_unit_test(test_clients_are_named_in_the_order_seen),
		cmocka_unit_test(test_a_lock_owner_without_a_watch_is_not_watching),
		cmocka_unit_test(test_our_own_connection_is_left_out),
		cmocka_unit_test(test_a_long_list_is_cut_and_says_so),
		cmocka_unit_test(test_the_in_use_error_is_its_own),
		cmocka_unit_test(test_a_lease_description_keeps_any_host_name),
		cmocka_unit_test(test_a_lease_description_is_read_forgivingly),
		cmocka_unit_test(test_a_lease_holder_is_named_with_its_end),
		cmocka_unit_test(test_a_header_names_its_parent_by_ids),
		cmocka_unit_test(test_a_parent_elsewhere_or_gone_is_not_the_one),
	};
	return cmocka_run_group_tests_name("rbdops", tests, NULL, NULL);
}
