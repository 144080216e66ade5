/*
 * rowcat's client for QEMU's monitor protocol (QMP): enough of it to pause
 * a guest, find the disk that reads an RBD image, and switch that disk to
 * another image while the guest is paused.
 *
 * Two transports: a QMP UNIX socket that rowcat connects to itself, or
 * libvirt's `virsh qemu-monitor-command DOMAIN JSON` for a VM that libvirt
 * manages (libvirt holds the socket then). Every command's answer is bounded
 * by the timeout given to qmp_open. Nothing here knows the catalog or
 * librbd, and nothing is printed: every failure is one line in the
 * rc_error, a refusal of QEMU's with QMP's class and description.
 *
 * A struct qmp is one monitor connection, used by one thread at a time.
 */
#ifndef ROWCAT_QMP_H
#define ROWCAT_QMP_H

#include <stdbool.h>

#include "rowcat/error.h"
#include "rowcat/names.h"

struct qmp;

/* Longest address of a monitor, with its NUL. */
#define QMP_WHERE_MAX 256

/*
 * Checks an operator's address of a monitor and writes it the one way the
 * catalog keeps it: "unix:PATH" (from unix:PATH or an absolute PATH of a
 * QMP socket) or "virsh:DOMAIN". A usage error (-EINVAL) names the text.
 */
int qmp_where_normalize(const char *text, char out[QMP_WHERE_MAX],
			struct rc_error *err);

/*
 * Connects to a QEMU monitor. `where` is "unix:PATH" or a plain PATH (a
 * QMP UNIX socket), or "virsh:DOMAIN" (every command through `virsh
 * qemu-monitor-command DOMAIN JSON`, run without a shell; virsh is found on
 * PATH). timeout_ms (> 0) bounds connecting and each command's answer.
 *
 * On a socket: reads QEMU's greeting and negotiates capabilities. QEMU
 * serves one monitor client at a time and accepts a second connection
 * without greeting it, so a socket held by another client (libvirt, a
 * second rowcat) ends in -ETIMEDOUT with a message that says so. Through
 * virsh: asks for the VM's status once, so that an unknown domain or a
 * missing virsh fails here.
 *
 * Returns 0 and a connection in *out for qmp_close, or -ENOENT (no such
 * socket, virsh not found), -ECONNREFUSED (nobody listens), -ETIMEDOUT, or
 * another negative code, with a message naming the socket or domain.
 */
int qmp_open(const char *where, int timeout_ms, struct qmp **out,
	     struct rc_error *err);

/* Closes the connection; accepts NULL. */
void qmp_close(struct qmp *q);

/*
 * Pauses the guest (QMP `stop`; QEMU drains in-flight I/O first). Harmless
 * on a paused guest.
 */
int qmp_stop(struct qmp *q, struct rc_error *err);

/* Resumes the guest (QMP `cont`). Harmless on a running guest. */
int qmp_cont(struct qmp *q, struct rc_error *err);

/*
 * Whether the guest runs, and QEMU's word for its state ("running",
 * "paused", "inmigrate", ...) in status.
 */
int qmp_query_status(struct qmp *q, bool *running, char status[32],
		     struct rc_error *err);

/*
 * Runs one QMP command and hands back its answer ("return") as JSON text in
 * *answer (malloc'd, the caller frees; NULL to drop it). arguments_json is a
 * JSON object's text or NULL. A refusal of QEMU's is -EIO (-ENOTSUP for an
 * unknown command) with "QEMU refused COMMAND: DESC (CLASS)". For tests and
 * diagnostics; the functions above and below are the API.
 */
int qmp_execute_text(struct qmp *q, const char *command,
		     const char *arguments_json, char **answer,
		     struct rc_error *err);

/* QEMU's node names are at most 31 bytes; this leaves room to spare. */
#define QMP_NODE_MAX 128

/*
 * The guest disk that reads an RBD image: QEMU's rbd protocol node and the
 * raw format node above it that the device uses, as libvirt sets them up
 * (-blockdev, node names libvirt-N-storage / libvirt-N-format) and as plain
 * `-drive file=rbd:...,format=raw,node-name=NAME` does (the rbd node's
 * automatic name, #blockNNN, is fine; the format node needs a name of its
 * own, since QEMU's blockdev-reopen cannot address an automatic one).
 */
struct qmp_disk {
	char storage_node[QMP_NODE_MAX];
	char format_node[QMP_NODE_MAX];
	/*
	 * JSON text: blockdev-add options for an rbd node like the storage
	 * node (image and node-name to be replaced). QEMU reports some of a
	 * node's options and not others; see qmp_disk_find.
	 */
	char *storage_options;
	/* JSON text: the format node's options, for blockdev-reopen */
	char *format_options;
	/*
	 * The QOM secret object the storage options take the Ceph key from
	 * (also in storage_options), "" when none was found
	 */
	char key_secret[QMP_NODE_MAX];
};

/*
 * Finds the disk that reads `image` (query-named-block-nodes for the
 * nodes, x-debug-query-block-graph for which node is whose child). Fills
 * *out, to be released with qmp_disk_release.
 *
 * The storage options are what QEMU reports of the rbd node: pool,
 * namespace, conf, user and mon hosts (from the node's filename), its key
 * secret (password-secret; else the QOM secret object named after the node,
 * as libvirt names them, NODE-auth-secret0; else the one named after a node
 * that is gone, as libvirt's secret outlives the node rowcat replaced; else
 * one named after a live node of the same Ceph user), read-only, cache and
 * detect-zeroes; discard is "unmap", so that the format node above, whose
 * discard setting the reopen keeps, alone decides whether a guest's discards
 * pass. QEMU does not report key=value pairs of a legacy `rbd:` filename
 * (keyring=, mon_host=) nor auth-client-required: a VM that needs them to
 * reach the cluster needs them in a ceph.conf or its keyring instead.
 *
 * Returns -ENOENT (the message names the image and the monitor) when no
 * node reads the image, and -ENOTSUP, saying why, when one does but its
 * disk cannot be switched: no raw format node above it (another format, or
 * the device reads the rbd node itself), a format node with an automatic
 * name (a -drive without node-name=), read-only, a snapshot of the image
 * rather than the image, or two disks that read the image.
 */
int qmp_disk_find(struct qmp *q, const struct rc_image_spec *image,
		  struct qmp_disk *out, struct rc_error *err);

/* Frees the option texts; the struct itself is the caller's. NULL is fine. */
void qmp_disk_release(struct qmp_disk *disk);

/*
 * blockdev-add an rbd node called node_name that reads new_image, with the
 * disk's storage options. Idempotent: a node of that name that already
 * reads new_image is 0; one that reads another image is -EEXIST.
 */
int qmp_disk_add_storage(struct qmp *q, const struct qmp_disk *disk,
			 const struct rc_image_spec *new_image,
			 const char *node_name, struct rc_error *err);

/*
 * blockdev-reopen the disk's format node so that its file child is
 * node_name, every other option unchanged. Idempotent.
 */
int qmp_disk_reopen(struct qmp *q, const struct qmp_disk *disk,
		    const char *node_name, struct rc_error *err);

/*
 * blockdev-del node_name; 0 when no such node exists (any more). A -drive's
 * rbd node goes by itself when the reopen leaves it without a parent.
 */
int qmp_node_del(struct qmp *q, const char *node_name, struct rc_error *err);

/* For recovery: whether a node called node_name exists. */
int qmp_node_exists(struct qmp *q, const char *node_name, bool *exists,
		    struct rc_error *err);

/*
 * For recovery: the node that format_node reads as its file child now.
 * -ENOENT when there is no such format node or it has no file child.
 */
int qmp_format_child(struct qmp *q, const char *format_node,
		     char child[QMP_NODE_MAX], struct rc_error *err);

#endif
