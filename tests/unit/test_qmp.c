/*
 * The QMP client (rowcat/qmp.h) against a scripted QEMU: a thread that
 * listens on a UNIX socket, greets, and answers each command as its script
 * says, with events, stale answers, split writes, refusals, silence or a
 * hang-up in between. The block-layer answers are QEMU 7.2's own, copied
 * verbatim from a QEMU (Debian 1:7.2+dfsg-7+deb12u18) that ran a
 * libvirt-style -blockdev disk on rbd/img and a `-drive
 * file=rbd:rbd/ns1/nimg:...,format=raw,if=virtio` disk.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rowcat/qmp.h"
#include "testdir.h"

/* query-named-block-nodes, verbatim */
static const char NODES_7_2[] =
	"{\"return\": [{\"iops_rd\": 0, \"detect_zeroes\": \"off\", \"image\": {\"virtual-size\": 6"
	"7108864, \"filename\": \"json:{\\\"driver\\\": \\\"raw\\\", \\\"file\\\": {\\\"pool\\\": \\\""
	"rbd\\\", \\\"image\\\": \\\"nimg\\\", \\\"conf\\\": \\\"/tmp/rc-qmp/ceph.conf\\\", \\\"dri"
	"ver\\\": \\\"rbd\\\", \\\"namespace\\\": \\\"ns1\\\", \\\"user\\\": \\\"admin\\\"}}\", \"c"
	"luster-size\": 4194304, \"format\": \"raw\", \"dirty-flag\": false}, \"iops_wr\": 0, \"ro\""
	": false, \"node-name\": \"#block123\", \"backing_file_depth\": 0, \"drv\": \"raw\", \"iops"
	"\": 0, \"bps_wr\": 0, \"write_threshold\": 0, \"encrypted\": false, \"bps\": 0, \"bps_rd\""
	": 0, \"cache\": {\"no-flush\": false, \"direct\": false, \"writeback\": true}, \"file\": \""
	"json:{\\\"driver\\\": \\\"raw\\\", \\\"file\\\": {\\\"pool\\\": \\\"rbd\\\", \\\"image\\\""
	": \\\"nimg\\\", \\\"conf\\\": \\\"/tmp/rc-qmp/ceph.conf\\\", \\\"driver\\\": \\\"rbd\\\", "
	"\\\"namespace\\\": \\\"ns1\\\", \\\"user\\\": \\\"admin\\\"}}\"}, {\"iops_rd\": 0, \"detec"
	"t_zeroes\": \"off\", \"image\": {\"virtual-size\": 67108864, \"filename\": \"json:{\\\"poo"
	"l\\\": \\\"rbd\\\", \\\"image\\\": \\\"nimg\\\", \\\"conf\\\": \\\"/tmp/rc-qmp/ceph.conf\\\""
	", \\\"driver\\\": \\\"rbd\\\", \\\"namespace\\\": \\\"ns1\\\", \\\"user\\\": \\\"admin\\\""
	"}\", \"cluster-size\": 4194304, \"format\": \"rbd\", \"format-specific\": {\"type\": \"rbd"
	"\", \"data\": {}}, \"dirty-flag\": false}, \"iops_wr\": 0, \"ro\": false, \"node-name\": \""
	"#block088\", \"backing_file_depth\": 0, \"drv\": \"rbd\", \"iops\": 0, \"bps_wr\": 0, \"wr"
	"ite_threshold\": 0, \"encrypted\": false, \"bps\": 0, \"bps_rd\": 0, \"cache\": {\"no-flus"
	"h\": false, \"direct\": false, \"writeback\": true}, \"file\": \"json:{\\\"pool\\\": \\\"r"
	"bd\\\", \\\"image\\\": \\\"nimg\\\", \\\"conf\\\": \\\"/tmp/rc-qmp/ceph.conf\\\", \\\"driv"
	"er\\\": \\\"rbd\\\", \\\"namespace\\\": \\\"ns1\\\", \\\"user\\\": \\\"admin\\\"}\"}, {\"i"
	"ops_rd\": 0, \"detect_zeroes\": \"off\", \"image\": {\"snapshots\": [{\"icount\": 0, \"vm-"
	"clock-nsec\": 0, \"name\": \"s1\", \"date-sec\": 0, \"date-nsec\": 0, \"vm-clock-sec\": 0,"
	" \"id\": \"s1\", \"vm-state-size\": 67108864}], \"virtual-size\": 67108864, \"filename\": "
	"\"json:{\\\"driver\\\": \\\"raw\\\", \\\"file\\\": {\\\"pool\\\": \\\"rbd\\\", \\\"image\\\""
	": \\\"img\\\", \\\"conf\\\": \\\"/tmp/rc-qmp/ceph.conf\\\", \\\"driver\\\": \\\"rbd\\\", \\\""
	"user\\\": \\\"admin\\\"}}\", \"cluster-size\": 4194304, \"format\": \"raw\", \"dirty-flag\""
	": false}, \"iops_wr\": 0, \"ro\": false, \"node-name\": \"libvirt-1-format\", \"backing_fi"
	"le_depth\": 0, \"drv\": \"raw\", \"iops\": 0, \"bps_wr\": 0, \"write_threshold\": 0, \"enc"
	"rypted\": false, \"bps\": 0, \"bps_rd\": 0, \"cache\": {\"no-flush\": false, \"direct\": t"
	"rue, \"writeback\": true}, \"file\": \"json:{\\\"driver\\\": \\\"raw\\\", \\\"file\\\": {\\\""
	"pool\\\": \\\"rbd\\\", \\\"image\\\": \\\"img\\\", \\\"conf\\\": \\\"/tmp/rc-qmp/ceph.conf"
	"\\\", \\\"driver\\\": \\\"rbd\\\", \\\"user\\\": \\\"admin\\\"}}\"}, {\"iops_rd\": 0, \"de"
	"tect_zeroes\": \"off\", \"image\": {\"snapshots\": [{\"icount\": 0, \"vm-clock-nsec\": 0, "
	"\"name\": \"s1\", \"date-sec\": 0, \"date-nsec\": 0, \"vm-clock-sec\": 0, \"id\": \"s1\", "
	"\"vm-state-size\": 67108864}], \"virtual-size\": 67108864, \"filename\": \"json:{\\\"pool\\\""
	": \\\"rbd\\\", \\\"image\\\": \\\"img\\\", \\\"conf\\\": \\\"/tmp/rc-qmp/ceph.conf\\\", \\\""
	"driver\\\": \\\"rbd\\\", \\\"user\\\": \\\"admin\\\"}\", \"cluster-size\": 4194304, \"form"
	"at\": \"rbd\", \"format-specific\": {\"type\": \"rbd\", \"data\": {}}, \"dirty-flag\": fal"
	"se}, \"iops_wr\": 0, \"ro\": false, \"node-name\": \"libvirt-1-storage\", \"backing_file_d"
	"epth\": 0, \"drv\": \"rbd\", \"iops\": 0, \"bps_wr\": 0, \"write_threshold\": 0, \"encrypt"
	"ed\": false, \"bps\": 0, \"bps_rd\": 0, \"cache\": {\"no-flush\": false, \"direct\": true,"
	" \"writeback\": true}, \"file\": \"json:{\\\"pool\\\": \\\"rbd\\\", \\\"image\\\": \\\"img"
	"\\\", \\\"conf\\\": \\\"/tmp/rc-qmp/ceph.conf\\\", \\\"driver\\\": \\\"rbd\\\", \\\"user\\\""
	": \\\"admin\\\"}\"}]}";

/* x-debug-query-block-graph, verbatim */
static const char GRAPH_7_2[] =
	"{\"return\": {\"edges\": [{\"name\": \"file\", \"parent\": 2, \"shared-perm\": [\"resize\""
	", \"write-unchanged\", \"consistent-read\"], \"perm\": [\"write\", \"consistent-read\"], \""
	"child\": 6}, {\"name\": \"file\", \"parent\": 4, \"shared-perm\": [\"resize\", \"write-unc"
	"hanged\", \"consistent-read\"], \"perm\": [\"write\", \"consistent-read\"], \"child\": 5},"
	" {\"name\": \"root\", \"parent\": 3, \"shared-perm\": [\"resize\", \"write-unchanged\", \""
	"consistent-read\"], \"perm\": [\"write\", \"consistent-read\"], \"child\": 4}, {\"name\": "
	"\"root\", \"parent\": 1, \"shared-perm\": [\"resize\", \"write-unchanged\", \"consistent-r"
	"ead\"], \"perm\": [\"write\", \"consistent-read\"], \"child\": 2}], \"nodes\": [{\"name\":"
	" \"#block123\", \"type\": \"block-driver\", \"id\": 2}, {\"name\": \"#block088\", \"type\""
	": \"block-driver\", \"id\": 6}, {\"name\": \"libvirt-1-format\", \"type\": \"block-driver\""
	", \"id\": 4}, {\"name\": \"libvirt-1-storage\", \"type\": \"block-driver\", \"id\": 5}, {\""
	"name\": \"/machine/peripheral/virtio-disk0/virtio-backend\", \"type\": \"block-backend\", "
	"\"id\": 3}, {\"name\": \"virtio0\", \"type\": \"block-backend\", \"id\": 1}]}}";

/* qom-list /objects of a libvirt-style VM with a cephx secret, verbatim */
static const char OBJECTS_7_2[] =
	"{\"return\": [{\"name\": \"type\", \"type\": \"string\"}, {\"name\": \"libvirt-1-storage-auth-secret0\", \"type\": \"child<secret>\"}, {\"name\": \"pc.ram\", \"type\": \"child<memory-backend-ram>\"}]}";

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, " \
	"\"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, \"capabilities\": [\"oob\"]}}"
#define OK "{\"return\": {}}"
#define NOT_FOUND "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command x-debug-query-block-graph has not been found\"}}"

enum act {
	ANSWER,       /* the answer, with the command's id */
	NOISE_FIRST,  /* an event and a stale answer, then the answer in two writes */
	HANG_UP,      /* half the answer, then close */
	SILENCE,      /* no answer until the client goes */
};

struct step {
	const char *expect; /* the command's name */
	enum act act;
	const char *answer; /* QEMU's answer without id */
};

struct peer {
	char path[300];
	int listener;
	bool greet;
	const struct step *steps;
	size_t count;
	size_t done;           /* steps the client went through */
	char failure[200];     /* what the peer saw wrong */
	pthread_t thread;
};

static void send_text(int fd, const char *text)
{
	size_t len = strlen(text);
	while (len > 0) {
		ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		text += n;
		len -= (size_t)n;
	}
}

/* Reads one line; false at the end. */
static bool read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;
	while (read(fd, &c, 1) == 1) {
		if (c == '\n') {
			buf[n] = '\0';
			return true;
		}
		if (n + 1 < len)
			buf[n++] = c;
	}
	return false;
}

/* "{"id": "ID", ...answer without its first brace" */
static char *with_id(const char *answer, const char *id)
{
	size_t len = strlen(answer) + strlen(id) + 32;
	char *text = malloc(len);
	assert_non_null(text);
	snprintf(text, len, "{\"id\": \"%s\", %s\r\n", id, answer + 1);
	return text;
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	char line[8192], id[64], *answer;
	int fd = accept(p->listener, NULL, NULL);

	if (fd < 0)
		return NULL;
	if (!p->greet) {
		/* as QEMU does for a second client: accepted, never greeted */
		while (read_line(fd, line, sizeof(line)))
			;
		close(fd);
		return NULL;
	}
	send_text(fd, GREETING "\r\n");
	for (size_t i = 0; i < p->count; i++) {
		const struct step *s = &p->steps[i];
		char *at;
		if (!read_line(fd, line, sizeof(line)))
			break;
		if (!strstr(line, s->expect)) {
			snprintf(p->failure, sizeof(p->failure), "step %zu: expected %s, got %.120s",
				 i, s->expect, line);
			break;
		}
		at = strstr(line, "\"id\":\"");
		id[0] = '\0';
		if (at)
			sscanf(at + 6, "%63[^\"]", id);
		p->done = i + 1;
		if (s->act == SILENCE) {
			while (read_line(fd, line, sizeof(line)))
				;
			break;
		}
		answer = with_id(s->answer, id);
		if (s->act == NOISE_FIRST) {
			size_t half = strlen(answer) / 2;
			char first[8192];
			send_text(fd, "{\"timestamp\": {\"seconds\": 1795991250, \"microseconds\": 177059}, \"event\": \"STOP\"}\r\n");
			send_text(fd, "\r\n");
			send_text(fd, "{\"id\": \"rowcat-0\", \"return\": {}}\r\n");
			snprintf(first, sizeof(first), "%.*s", (int)half, answer);
			send_text(fd, first);
			nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
			send_text(fd, answer + half);
		} else if (s->act == HANG_UP) {
			answer[strlen(answer) / 2] = '\0';
			send_text(fd, answer);
			free(answer);
			break;
		} else {
			send_text(fd, answer);
		}
		free(answer);
	}
	close(fd);
	return NULL;
}

static struct testdir dir;

static void peer_start(struct peer *p, bool greet, const struct step *steps,
		       size_t count)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	memset(p, 0, sizeof(*p));
	p->greet = greet;
	p->steps = steps;
	p->count = count;
	testdir_make(&dir);
	testdir_file(&dir, "qmp.sock", p->path, sizeof(p->path));
	assert_true(strlen(p->path) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, p->path, strlen(p->path) + 1);
	p->listener = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(p->listener >= 0);
	assert_int_equal(0, bind(p->listener, (struct sockaddr *)&addr, sizeof(addr)));
	assert_int_equal(0, listen(p->listener, 1));
	assert_int_equal(0, pthread_create(&p->thread, NULL, peer_main, p));
}

/* Waits for the peer and checks it went through its whole script. */
static void peer_end(struct peer *p)
{
	pthread_join(p->thread, NULL);
	close(p->listener);
	testdir_remove(&dir);
	if (p->failure[0])
		fail_msg("%s", p->failure);
	assert_int_equal(p->count, p->done);
}

static struct qmp *open_peer(struct peer *p, int timeout_ms)
{
	struct rc_error err = { 0 };
	struct qmp *q = NULL;
	int rc = qmp_open(p->path, timeout_ms, &q, &err);
	if (rc != 0)
		fail_msg("qmp_open: %d %s", rc, err.message);
	return q;
}

static void test_status_skips_events_and_stale_answers_and_joins_split_reads(void **state)
{
	(void)state;
	static const struct step steps[] = {
		{ "qmp_capabilities", ANSWER, OK },
		{ "\"stop\"", NOISE_FIRST, OK },
		{ "query-status", NOISE_FIRST,
		  "{\"return\": {\"status\": \"paused\", \"singlestep\": false, \"running\": false}}" },
	};
	struct peer p;
	struct rc_error err = { 0 };
	bool running = true;
	char status[32];

	peer_start(&p, true, steps, 3);
	struct qmp *q = open_peer(&p, 5000);
	assert_int_equal(0, qmp_stop(q, &err));
	assert_int_equal(0, qmp_query_status(q, &running, status, &err));
	assert_false(running);
	assert_string_equal("paused", status);
	qmp_close(q);
	peer_end(&p);
}

static void test_refusal_names_command_desc_and_class(void **state)
{
	(void)state;
	static const struct step steps[] = {
		{ "qmp_capabilities", ANSWER, OK },
		{ "blockdev-reopen", ANSWER,
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Cannot find device='' nor node-name='nope'\"}}" },
		{ "nosuch", ANSWER,
		  "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nosuch has not been found\"}}" },
	};
	struct peer p;
	struct rc_error err = { 0 };

	peer_start(&p, true, steps, 3);
	struct qmp *q = open_peer(&p, 5000);
	assert_int_equal(-EIO, qmp_execute_text(q, "blockdev-reopen",
		"{\"options\":[{\"driver\":\"raw\",\"node-name\":\"f\",\"file\":\"nope\"}]}", NULL, &err));
	assert_string_equal("QEMU refused blockdev-reopen: Cannot find device='' nor node-name='nope' (GenericError)",
			    err.message);
	assert_int_equal(-ENOTSUP, qmp_execute_text(q, "nosuch", NULL, NULL, &err));
	qmp_close(q);
	peer_end(&p);
}

static void test_qemu_that_closes_mid_answer_is_connection_reset(void **state)
{
	(void)state;
	static const struct step steps[] = {
		{ "qmp_capabilities", ANSWER, OK },
		{ "query-named-block-nodes", HANG_UP, NODES_7_2 },
	};
	struct peer p;
	struct rc_error err = { 0 };
	bool exists;

	peer_start(&p, true, steps, 2);
	struct qmp *q = open_peer(&p, 5000);
	assert_int_equal(-ECONNRESET, qmp_node_exists(q, "libvirt-1-storage", &exists, &err));
	assert_non_null(strstr(err.message, "QEMU closed QMP socket"));
	assert_non_null(strstr(err.message, "while rowcat waited for its answer to query-named-block-nodes (did QEMU exit?)"));
	/* the next command meets a closed socket: an error, no SIGPIPE */
	assert_true(qmp_stop(q, &err) < 0);
	qmp_close(q);
	peer_end(&p);
}

static void test_silent_qemu_times_out(void **state)
{
	(void)state;
	static const struct step steps[] = {
		{ "qmp_capabilities", ANSWER, OK },
		{ "\"cont\"", SILENCE, NULL },
	};
	struct peer p;
	struct rc_error err = { 0 };

	peer_start(&p, true, steps, 2);
	struct qmp *q = open_peer(&p, 200);
	assert_int_equal(-ETIMEDOUT, qmp_cont(q, &err));
	assert_non_null(strstr(err.message, "QEMU sent no answer to cont on QMP socket "));
	assert_non_null(strstr(err.message, " within 200 ms"));
	qmp_close(q);
	peer_end(&p);
}

static void test_socket_without_greeting_is_busy(void **state)
{
	(void)state;
	struct peer p;
	struct rc_error err = { 0 };
	struct qmp *q = NULL;

	peer_start(&p, false, NULL, 0);
	assert_int_equal(-ETIMEDOUT, qmp_open(p.path, 200, &q, &err));
	assert_null(q);
	assert_non_null(strstr(err.message, "QEMU sent no greeting"));
	assert_non_null(strstr(err.message, "is another (libvirt, a second rowcat) connected?"));
	peer_end(&p);
}

static void test_no_socket_is_enoent(void **state)
{
	(void)state;
	struct rc_error err = { 0 };
	struct qmp *q = NULL;
	assert_int_equal(-ENOENT, qmp_open("unix:/nonexistent/qmp.sock", 200, &q, &err));
	assert_string_equal("cannot connect to QMP socket /nonexistent/qmp.sock: No such file or directory",
			    err.message);
}

static const struct rc_image_spec IMG = { "rbd", "", "img" };

static void test_finds_libvirt_blockdev_disk_with_its_secret(void **state)
{
	(void)state;
	static const struct step steps[] = {
		{ "qmp_capabilities", ANSWER, OK },
		{ "query-named-block-nodes", ANSWER, NODES_7_2 },
		{ "x-debug-query-block-graph", ANSWER, GRAPH_7_2 },
		{ "qom-list", ANSWER, OBJECTS_7_2 },
	};
	struct peer p;
	struct rc_error err = { 0 };
	struct qmp_disk disk;

	peer_start(&p, true, steps, 4);
	struct qmp *q = open_peer(&p, 5000);
	assert_int_equal(0, qmp_disk_find(q, &IMG, &disk, &err));
	assert_string_equal("libvirt-1-storage", disk.storage_node);
	assert_string_equal("libvirt-1-format", disk.format_node);
	assert_string_equal("libvirt-1-storage-auth-secret0", disk.key_secret);
	assert_string_equal("{\"pool\":\"rbd\",\"image\":\"img\",\"conf\":\"/tmp/rc-qmp/ceph.conf\","
			    "\"driver\":\"rbd\",\"user\":\"admin\",\"key-secret\":\"libvirt-1-storage-auth-secret0\","
			    "\"read-only\":false,\"cache\":{\"direct\":true,\"no-flush\":false},"
			    "\"detect-zeroes\":\"off\",\"discard\":\"unmap\"}", disk.storage_options);
	assert_string_equal("{\"driver\":\"raw\",\"node-name\":\"libvirt-1-format\",\"file\":\"libvirt-1-storage\","
			    "\"read-only\":false,\"cache\":{\"direct\":true,\"no-flush\":false},"
			    "\"detect-zeroes\":\"off\"}", disk.format_options);
	qmp_disk_release(&disk);
	qmp_close(q);
	peer_end(&p);
}

static void test_without_the_graph_the_parent_is_found_by_filename(void **state)
{
	(void)state;
	static const struct step steps[] = {
		{ "qmp_capabilities", ANSWER, OK },
		{ "query-named-block-nodes", ANSWER, NODES_7_2 },
		{ "x-debug-query-block-graph", ANSWER, NOT_FOUND },
		{ "qom-list", ANSWER, "{\"return\": []}" },
	};
	struct peer p;
	struct rc_error err = { 0 };
	struct qmp_disk disk;

	peer_start(&p, true, steps, 4);
	struct qmp *q = open_peer(&p, 5000);
	assert_int_equal(0, qmp_disk_find(q, &IMG, &disk, &err));
	assert_string_equal("libvirt-1-storage", disk.storage_node);
	assert_string_equal("libvirt-1-format", disk.format_node);
	assert_string_equal("", disk.key_secret);
	assert_int_equal(0, err.code);
	qmp_disk_release(&disk);
	qmp_close(q);
	peer_end(&p);
}

static void test_drive_with_automatic_format_node_name_is_not_supported(void **state)
{
	(void)state;
	static const struct step steps[] = {
		{ "qmp_capabilities", ANSWER, OK },
		{ "query-named-block-nodes", ANSWER, NODES_7_2 },
		{ "x-debug-query-block-graph", ANSWER, GRAPH_7_2 },
	};
	static const struct rc_image_spec nimg = { "rbd", "ns1", "nimg" };
	struct peer p;
	struct rc_error err = { 0 };
	struct qmp_disk disk;

	peer_start(&p, true, steps, 3);
	struct qmp *q = open_peer(&p, 5000);
	assert_int_equal(-ENOTSUP, qmp_disk_find(q, &nimg, &disk, &err));
	assert_non_null(strstr(err.message, "cannot switch the disk that reads rbd/ns1/nimg on QMP socket "));
	assert_non_null(strstr(err.message, ": its format node #block123 has an automatic node name"));
	qmp_close(q);
	peer_end(&p);
}

static void test_image_no_node_reads_is_enoent_naming_image_and_socket(void **state)
{
	(void)state;
	static const struct step steps[] = {
		{ "qmp_capabilities", ANSWER, OK },
		{ "query-named-block-nodes", ANSWER, NODES_7_2 },
		{ "x-debug-query-block-graph", ANSWER, GRAPH_7_2 },
	};
	/* same name, other namespace: not the image */
	static const struct rc_image_spec nimg = { "rbd", "", "nimg" };
	struct peer p;
	struct rc_error err = { 0 };
	struct qmp_disk disk;
	char want[400];

	peer_start(&p, true, steps, 3);
	struct qmp *q = open_peer(&p, 5000);
	assert_int_equal(-ENOENT, qmp_disk_find(q, &nimg, &disk, &err));
	snprintf(want, sizeof(want), "no block node of QEMU on QMP socket %s reads rbd/nimg", p.path);
	assert_string_equal(want, err.message);
	qmp_close(q);
	peer_end(&p);
}

/* Nodes as an older QEMU or a hand-made setup may show them. */
static const char LEGACY_NODES[] =
	"{\"return\": ["
	"{\"node-name\": \"snapnode\", \"drv\": \"rbd\", \"ro\": true, \"detect_zeroes\": \"off\","
	" \"cache\": {\"direct\": false, \"no-flush\": false, \"writeback\": true},"
	" \"file\": \"rbd:pool1/ns2/img3@s1:conf=/etc/ceph/ceph.conf\"},"
	"{\"node-name\": \"stor\", \"drv\": \"rbd\", \"ro\": false, \"detect_zeroes\": \"unmap\","
	" \"cache\": {\"direct\": true, \"no-flush\": false, \"writeback\": true},"
	" \"file\": \"rbd:pool1/img\\\\:3:conf=/etc/ceph/c\\\\:1.conf:id=cinder:keyring=/k\"},"
	"{\"node-name\": \"fmt\", \"drv\": \"raw\", \"ro\": false, \"detect_zeroes\": \"unmap\","
	" \"cache\": {\"direct\": true, \"no-flush\": false, \"writeback\": true},"
	" \"file\": \"json:{\\\"driver\\\": \\\"raw\\\", \\\"offset\\\": 512, \\\"file\\\": {}}\"},"
	"{\"node-name\": \"mons\", \"drv\": \"rbd\", \"ro\": false, \"detect_zeroes\": \"off\","
	" \"cache\": {\"direct\": true, \"no-flush\": false, \"writeback\": true},"
	" \"file\": \"json:{\\\"pool\\\": \\\"p\\\", \\\"image\\\": \\\"m\\\", \\\"server.0.host\\\": \\\"10.0.0.1\\\","
	" \\\"driver\\\": \\\"rbd\\\", \\\"server.0.port\\\": \\\"6789\\\", \\\"server.1.host\\\": \\\"10.0.0.2\\\","
	" \\\"server.1.port\\\": \\\"6789\\\", \\\"password-secret\\\": \\\"sec0\\\"}\"},"
	"{\"node-name\": \"qcow\", \"drv\": \"qcow2\", \"ro\": false, \"detect_zeroes\": \"off\","
	" \"cache\": {\"direct\": true, \"no-flush\": false, \"writeback\": true}, \"file\": \"json:{}\"}"
	"]}";
static const char LEGACY_GRAPH[] =
	"{\"return\": {\"edges\": ["
	"{\"name\": \"file\", \"parent\": 3, \"child\": 2, \"perm\": [], \"shared-perm\": []},"
	"{\"name\": \"file\", \"parent\": 5, \"child\": 4, \"perm\": [], \"shared-perm\": []}],"
	" \"nodes\": [{\"name\": \"snapnode\", \"type\": \"block-driver\", \"id\": 1},"
	"{\"name\": \"stor\", \"type\": \"block-driver\", \"id\": 2},"
	"{\"name\": \"fmt\", \"type\": \"block-driver\", \"id\": 3},"
	"{\"name\": \"mons\", \"type\": \"block-driver\", \"id\": 4},"
	"{\"name\": \"qcow\", \"type\": \"block-driver\", \"id\": 5}]}}";

static void test_legacy_filename_escapes_and_options(void **state)
{
	(void)state;
	static const struct step steps[] = {
		{ "qmp_capabilities", ANSWER, OK },
		{ "query-named-block-nodes", ANSWER, LEGACY_NODES },
		{ "x-debug-query-block-graph", ANSWER, LEGACY_GRAPH },
		{ "qom-list", ANSWER, "{\"return\": []}" },
		{ "query-named-block-nodes", ANSWER, LEGACY_NODES },
		{ "x-debug-query-block-graph", ANSWER, LEGACY_GRAPH },
		{ "query-named-block-nodes", ANSWER, LEGACY_NODES },
		{ "x-debug-query-block-graph", ANSWER, LEGACY_GRAPH },
	};
	static const struct rc_image_spec img3 = { "pool1", "", "img:3" };
	static const struct rc_image_spec snap = { "pool1", "ns2", "img3" };
	static const struct rc_image_spec mons = { "p", "", "m" };
	struct peer p;
	struct rc_error err = { 0 };
	struct qmp_disk disk;

	peer_start(&p, true, steps, 8);
	struct qmp *q = open_peer(&p, 5000);
	assert_int_equal(0, qmp_disk_find(q, &img3, &disk, &err));
	assert_string_equal("stor", disk.storage_node);
	assert_string_equal("{\"driver\":\"rbd\",\"pool\":\"pool1\",\"image\":\"img:3\","
			    "\"conf\":\"/etc/ceph/c:1.conf\",\"user\":\"cinder\",\"read-only\":false,"
			    "\"cache\":{\"direct\":true,\"no-flush\":false},\"detect-zeroes\":\"unmap\","
			    "\"discard\":\"unmap\"}", disk.storage_options);
	assert_string_equal("{\"driver\":\"raw\",\"node-name\":\"fmt\",\"file\":\"stor\","
			    "\"read-only\":false,\"cache\":{\"direct\":true,\"no-flush\":false},"
			    "\"detect-zeroes\":\"unmap\",\"offset\":512}", disk.format_options);
	qmp_disk_release(&disk);

	assert_int_equal(-ENOTSUP, qmp_disk_find(q, &snap, &disk, &err));
	assert_non_null(strstr(err.message, "node snapnode reads its snapshot s1, not the image"));
	assert_int_equal(-ENOTSUP, qmp_disk_find(q, &mons, &disk, &err));
	assert_non_null(strstr(err.message, "node mons is read through node qcow of format qcow2"));
	qmp_close(q);
	peer_end(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_skips_events_and_stale_answers_and_joins_split_reads),
		cmocka_unit_test(test_refusal_names_command_desc_and_class),
		cmocka_unit_test(test_qemu_that_closes_mid_answer_is_connection_reset),
		cmocka_unit_test(test_silent_qemu_times_out),
		cmocka_unit_test(test_socket_without_greeting_is_busy),
		cmocka_unit_test(test_no_socket_is_enoent),
		cmocka_unit_test(test_finds_libvirt_blockdev_disk_with_its_secret),
		cmocka_unit_test(test_without_the_graph_the_parent_is_found_by_filename),
		cmocka_unit_test(test_drive_with_automatic_format_node_name_is_not_supported),
		cmocka_unit_test(test_image_no_node_reads_is_enoent_naming_image_and_socket),
		cmocka_unit_test(test_legacy_filename_escapes_and_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
