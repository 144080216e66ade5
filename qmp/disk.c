/*
 * The guest disk that reads an RBD image, and its switch to another image.
 *
 * A disk is a stack of block nodes: the device reads a format node (raw),
 * whose "file" child is QEMU's rbd protocol node:
 *
 *     device --root--> format node (raw) --file--> storage node (rbd)
 *
 * The switch adds a second storage node for the new image, reopens the
 * format node onto it and deletes the old one; the device never notices.
 * Which node reads which image comes from query-named-block-nodes, whose
 * "file" is the node's filename: "json:{...}" with the rbd driver's
 * options (QEMU 2.10 and later; mon hosts flattened to "server.0.host"), or
 * the legacy "rbd:pool/[ns/]image[@snap][:key=value...]". Which node is
 * whose child comes from x-debug-query-block-graph; a QEMU without it is
 * matched by the format node's filename, which embeds its child's.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAW_DRIVER "raw"

/* What an rbd node's filename says it reads. */
struct rbd_location {
	char pool[RC_NAME_MAX];
	char ns[RC_NAME_MAX];
	char image[RC_NAME_MAX];
	char snapshot[RC_NAME_MAX]; /* "" for the image itself */
	json_object *options;       /* blockdev-add's options, owned */
};

static const char *string_field(json_object *obj, const char *key)
{
	json_object *value;
	if (!json_object_object_get_ex(obj, key, &value) ||
	    !json_object_is_type(value, json_type_string))
		return NULL;
	return json_object_get_string(value);
}

static bool bool_field(json_object *obj, const char *key)
{
	json_object *value;
	return json_object_object_get_ex(obj, key, &value) &&
	       json_object_get_boolean(value);
}

static void copy_name(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/*
 * Adds value under a dotted key as QEMU flattens options
 * ("server.0.host"), nested the way blockdev-add takes them; takes value
 * over.
 */
static int put_dotted(json_object *root, const char *key, json_object *value)
{
	char path[256], *segment, *dot;
	json_object *cur = root;

	if (snprintf(path, sizeof(path), "%s", key) >= (int)sizeof(path))
		goto fail;
	segment = path;
	while ((dot = strchr(segment, '.')) != NULL) {
		json_object *next = NULL;
		const char *after = dot + 1;
		bool array_next = after[0] >= '0' && after[0] <= '9';
		*dot = '\0';
		if (json_object_is_type(cur, json_type_array)) {
			size_t idx = strtoul(segment, NULL, 10);
			next = json_object_array_get_idx(cur, idx);
			if (!next) {
				next = array_next ? json_object_new_array() :
						    json_object_new_object();
				if (idx > 1024 || json_object_array_put_idx(cur, idx, next) < 0)
					goto fail;
			}
		} else if (!json_object_object_get_ex(cur, segment, &next)) {
			next = array_next ? json_object_new_array() :
					    json_object_new_object();
			json_object_object_add(cur, segment, next);
		}
		cur = next;
		segment = dot + 1;
	}
	if (json_object_is_type(cur, json_type_array)) {
		size_t idx = strtoul(segment, NULL, 10);
		if (idx > 1024 || json_object_array_put_idx(cur, idx, value) < 0)
			goto fail;
	} else if (json_object_is_type(cur, json_type_object)) {
		json_object_object_add(cur, segment, value);
	} else {
		goto fail;
	}
	return 0;
fail:
	json_object_put(value);
	return -EINVAL;
}

/*
 * One token of a legacy rbd: filename, unescaping backslashes, up to one of
 * delims; *found gets the delimiter that ended it ('\0' at the end).
 */
static const char *legacy_token(const char *src, const char *delims, char *dst,
				size_t len, char *found)
{
	size_t n = 0;
	while (*src && !strchr(delims, *src)) {
		if (*src == '\\' && src[1])
			src++;
		if (n + 1 < len)
			dst[n++] = *src;
		src++;
	}
	dst[n] = '\0';
	*found = *src;
	return *src ? src + 1 : src;
}

static int parse_legacy(const char *text, struct rbd_location *loc)
{
	char first[RC_NAME_MAX], key[RC_NAME_MAX], value[1024], found;
	const char *p = text;
	json_object *opt = json_object_new_object();

	p = legacy_token(p, "/", loc->pool, sizeof(loc->pool), &found);
	if (found != '/')
		goto fail;
	p = legacy_token(p, "/@:", first, sizeof(first), &found);
	if (found == '/') {
		copy_name(loc->ns, sizeof(loc->ns), first);
		p = legacy_token(p, "@:", loc->image, sizeof(loc->image), &found);
	} else {
		copy_name(loc->image, sizeof(loc->image), first);
	}
	if (found == '@')
		p = legacy_token(p, ":", loc->snapshot, sizeof(loc->snapshot), &found);
	json_object_object_add(opt, "driver", json_object_new_string("rbd"));
	json_object_object_add(opt, "pool", json_object_new_string(loc->pool));
	if (loc->ns[0])
		json_object_object_add(opt, "namespace", json_object_new_string(loc->ns));
	json_object_object_add(opt, "image", json_object_new_string(loc->image));
	/* conf= and id= have blockdev options; other pairs are not reported back */
	while (found == ':') {
		p = legacy_token(p, "=", key, sizeof(key), &found);
		if (found != '=')
			break;
		p = legacy_token(p, ":", value, sizeof(value), &found);
		if (strcmp(key, "conf") == 0)
			json_object_object_add(opt, "conf", json_object_new_string(value));
		else if (strcmp(key, "id") == 0)
			json_object_object_add(opt, "user", json_object_new_string(value));
	}
	if (!loc->pool[0] || !loc->image[0])
		goto fail;
	loc->options = opt;
	return 0;
fail:
	json_object_put(opt);
	return -EINVAL;
}

static int parse_json_filename(const char *text, struct rbd_location *loc)
{
	json_object *flat = json_tokener_parse(text), *opt = NULL;
	const char *driver;

	if (!flat || !json_object_is_type(flat, json_type_object))
		goto fail;
	driver = string_field(flat, "driver");
	if (!driver || strcmp(driver, "rbd") != 0 || !string_field(flat, "pool") ||
	    !string_field(flat, "image"))
		goto fail;
	copy_name(loc->pool, sizeof(loc->pool), string_field(flat, "pool"));
	copy_name(loc->ns, sizeof(loc->ns), string_field(flat, "namespace"));
	copy_name(loc->image, sizeof(loc->image), string_field(flat, "image"));
	copy_name(loc->snapshot, sizeof(loc->snapshot), string_field(flat, "snapshot"));
	opt = json_object_new_object();
	json_object_object_foreach(flat, key, value) {
		/* the legacy name of blockdev-add's key-secret */
		const char *name = strcmp(key, "password-secret") == 0 ? "key-secret" : key;
		if (strcmp(key, "namespace") == 0 && !loc->ns[0])
			continue;
		if (put_dotted(opt, name, json_object_get(value)) < 0)
			goto fail;
	}
	json_object_put(flat);
	loc->options = opt;
	return 0;
fail:
	json_object_put(opt);
	json_object_put(flat);
	return -EINVAL;
}

/* Reads an rbd node's filename; -EINVAL when it is neither form. */
static int parse_rbd_filename(const char *filename, struct rbd_location *loc)
{
	memset(loc, 0, sizeof(*loc));
	if (!filename)
		return -EINVAL;
	if (strncmp(filename, "json:", 5) == 0)
		return parse_json_filename(filename + 5, loc);
	if (strncmp(filename, "rbd:", 4) == 0)
		return parse_legacy(filename + 4, loc);
	return -EINVAL;
}

static bool location_is(const struct rbd_location *loc,
			const struct rc_image_spec *image)
{
	return strcmp(loc->pool, image->pool) == 0 &&
	       strcmp(loc->ns, image->ns) == 0 &&
	       strcmp(loc->image, image->name) == 0;
}

/* The node of that name in a query-named-block-nodes answer, or NULL. */
static json_object *node_named(json_object *nodes, const char *name)
{
	size_t count = json_object_array_length(nodes);
	for (size_t i = 0; i < count; i++) {
		json_object *node = json_object_array_get_idx(nodes, i);
		const char *node_name = string_field(node, "node-name");
		if (node_name && strcmp(node_name, name) == 0)
			return node;
	}
	return NULL;
}

/* The block graph's id of a block-driver node, or -1. */
static int64_t graph_id(json_object *graph, const char *name)
{
	json_object *gnodes;
	if (!json_object_object_get_ex(graph, "nodes", &gnodes))
		return -1;
	for (size_t i = 0; i < json_object_array_length(gnodes); i++) {
		json_object *g = json_object_array_get_idx(gnodes, i), *id;
		const char *gname = string_field(g, "name");
		const char *type = string_field(g, "type");
		if (gname && type && strcmp(type, "block-driver") == 0 &&
		    strcmp(gname, name) == 0 && json_object_object_get_ex(g, "id", &id))
			return json_object_get_int64(id);
	}
	return -1;
}

static const char *graph_name(json_object *graph, int64_t id)
{
	json_object *gnodes, *gid;
	if (!json_object_object_get_ex(graph, "nodes", &gnodes))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(gnodes); i++) {
		json_object *g = json_object_array_get_idx(gnodes, i);
		if (json_object_object_get_ex(g, "id", &gid) &&
		    json_object_get_int64(gid) == id)
			return string_field(g, "name");
	}
	return NULL;
}

/*
 * The names of the nodes that have node `name` as their "file" child (at
 * most max of them, in parents[]); returns how many there are.
 */
static size_t file_parents(json_object *nodes, json_object *graph,
			   const char *name, const char *parents[], size_t max)
{
	size_t found = 0;

	if (graph) {
		json_object *edges;
		int64_t id = graph_id(graph, name);
		if (id < 0 || !json_object_object_get_ex(graph, "edges", &edges))
			return 0;
		for (size_t i = 0; i < json_object_array_length(edges); i++) {
			json_object *e = json_object_array_get_idx(edges, i), *v;
			const char *edge = string_field(e, "name");
			if (!edge || strcmp(edge, "file") != 0 ||
			    !json_object_object_get_ex(e, "child", &v) ||
			    json_object_get_int64(v) != id ||
			    !json_object_object_get_ex(e, "parent", &v))
				continue;
			const char *parent = graph_name(graph, json_object_get_int64(v));
			if (parent && found < max)
				parents[found] = parent;
			if (parent)
				found++;
		}
		return found;
	}

	/* without the graph: a parent's filename embeds its child's options */
	json_object *node = node_named(nodes, name);
	const char *filename = node ? string_field(node, "file") : NULL;
	json_object *child = NULL;
	if (!filename || strncmp(filename, "json:", 5) != 0 ||
	    !(child = json_tokener_parse(filename + 5)))
		return 0;
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *other = json_object_array_get_idx(nodes, i);
		const char *text = string_field(other, "file");
		json_object *parsed, *file;
		if (!text || strncmp(text, "json:", 5) != 0 ||
		    !(parsed = json_tokener_parse(text + 5)))
			continue;
		if (json_object_object_get_ex(parsed, "file", &file) &&
		    json_object_equal(file, child)) {
			if (found < max)
				parents[found] = string_field(other, "node-name");
			found++;
		}
		json_object_put(parsed);
	}
	json_object_put(child);
	return found;
}

/* Both answers that describe the block layer; graph is NULL without it. */
static int query_nodes(struct qmp *q, json_object **nodes, json_object **graph,
		       struct rc_error *err)
{
	int rc;

	*nodes = NULL;
	if (graph)
		*graph = NULL;
	rc = qmp_execute(q, "query-named-block-nodes", NULL, nodes, err);
	if (rc < 0)
		return rc;
	if (!json_object_is_type(*nodes, json_type_array)) {
		json_object_put(*nodes);
		*nodes = NULL;
		return rc_error_set(err, -EPROTO,
				    "QEMU's answer to query-named-block-nodes is no list");
	}
	if (!graph)
		return 0;
	rc = qmp_execute(q, "x-debug-query-block-graph", NULL, graph, err);
	if (rc == -ENOTSUP) {
		/* a QEMU before 4.0: matched by filename instead */
		rc_error_clear(err);
		*graph = NULL;
		return 0;
	}
	if (rc < 0) {
		json_object_put(*nodes);
		*nodes = NULL;
	}
	return rc;
}

/*
 * Whether the rbd node `name` (in nodes) connects as the same Ceph user with
 * the same conf as `like` does: then its key is the one `like` needs.
 */
static bool same_user(json_object *nodes, const char *name, json_object *like)
{
	json_object *node = node_named(nodes, name);
	struct rbd_location loc;
	bool same = false;
	const char *user, *conf, *like_user, *like_conf;

	if (!node || parse_rbd_filename(string_field(node, "file"), &loc) < 0)
		return false;
	user = string_field(loc.options, "user");
	conf = string_field(loc.options, "conf");
	like_user = string_field(like, "user");
	like_conf = string_field(like, "conf");
	same = strcmp(user ? user : "", like_user ? like_user : "") == 0 &&
	       strcmp(conf ? conf : "", like_conf ? like_conf : "") == 0;
	json_object_put(loc.options);
	return same;
}

/*
 * The QOM secret object that holds the rbd node's key into secret ("" when
 * none is found: the key then comes from the keyring of the node's conf, as
 * it did for the node). QEMU reports no node's key-secret; libvirt names
 * the secret after the node it made ("libvirt-1-storage-auth-secret0") and
 * keeps it for the VM's life, also after rowcat replaced that node by its
 * own. So: the secret named after this node; else the one secret named
 * after a node that is gone (the node this one replaced); else one named
 * after a live rbd node of the same Ceph user and conf. Encryption secrets
 * never count. Best effort: a QEMU without QOM lists finds none.
 */
static void key_secret_of(struct qmp *q, json_object *nodes, const char *node,
			  json_object *options, char secret[QMP_NODE_MAX])
{
	json_object *objects = NULL, *arguments = json_object_new_object();
	struct rc_error ignored = { 0 };
	char orphan[QMP_NODE_MAX] = "", shared[QMP_NODE_MAX] = "";
	size_t orphans = 0;

	secret[0] = '\0';
	json_object_object_add(arguments, "path", json_object_new_string("/objects"));
	if (qmp_execute(q, "qom-list", arguments, &objects, &ignored) < 0 ||
	    !json_object_is_type(objects, json_type_array))
		goto out;
	for (size_t i = 0; i < json_object_array_length(objects); i++) {
		json_object *o = json_object_array_get_idx(objects, i);
		const char *name = string_field(o, "name");
		const char *type = string_field(o, "type");
		char owner[QMP_NODE_MAX];
		const char *dash;
		if (!name || !type || strcmp(type, "child<secret>") != 0 ||
		    strstr(name, "encrypt"))
			continue;
		/* the node it is named after: the longest live prefix, else
		 * the part before "-secret" or "-auth-secret" */
		owner[0] = '\0';
		for (dash = strchr(name, '-'); dash; dash = strchr(dash + 1, '-')) {
			char prefix[QMP_NODE_MAX];
			snprintf(prefix, sizeof(prefix), "%.*s", (int)(dash - name), name);
			if (node_named(nodes, prefix))
				copy_name(owner, sizeof(owner), prefix);
		}
		if (strcmp(owner, node) == 0) {
			copy_name(secret, QMP_NODE_MAX, name);
			goto out;
		}
		if (owner[0]) {
			if (!shared[0] && same_user(nodes, owner, options))
				copy_name(shared, sizeof(shared), name);
			continue;
		}
		if (strstr(name, "secret")) {
			orphans++;
			copy_name(orphan, sizeof(orphan), name);
		}
	}
	if (orphans == 1)
		copy_name(secret, QMP_NODE_MAX, orphan);
	else if (orphans == 0)
		copy_name(secret, QMP_NODE_MAX, shared);
out:
	json_object_put(objects);
	json_object_put(arguments);
}

/* read-only, cache and detect-zeroes, as query-named-block-nodes says */
static void add_common_options(json_object *opt, json_object *node)
{
	json_object *cache, *out_cache = json_object_new_object();
	const char *detect_zeroes = string_field(node, "detect_zeroes");

	json_object_object_add(opt, "read-only",
			       json_object_new_boolean(bool_field(node, "ro")));
	if (json_object_object_get_ex(node, "cache", &cache)) {
		json_object_object_add(out_cache, "direct",
				       json_object_new_boolean(bool_field(cache, "direct")));
		json_object_object_add(out_cache, "no-flush",
				       json_object_new_boolean(bool_field(cache, "no-flush")));
	}
	json_object_object_add(opt, "cache", out_cache);
	if (detect_zeroes)
		json_object_object_add(opt, "detect-zeroes",
				       json_object_new_string(detect_zeroes));
}

static char *to_text(json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	return text ? strdup(text) : NULL;
}

/* Fills disk's option texts from the two nodes. */
static int describe_disk(struct qmp *q, json_object *nodes, json_object *storage,
			 json_object *format, struct rbd_location *loc,
			 struct qmp_disk *disk, struct rc_error *err)
{
	json_object *format_opt = json_object_new_object(), *format_file = NULL;
	const char *format_filename = string_field(format, "file");
	int rc;

	json_object_object_del(loc->options, "node-name");
	if (!string_field(loc->options, "key-secret")) {
		key_secret_of(q, nodes, disk->storage_node, loc->options,
			      disk->key_secret);
		if (disk->key_secret[0])
			json_object_object_add(loc->options, "key-secret",
					       json_object_new_string(disk->key_secret));
	} else {
		copy_name(disk->key_secret, sizeof(disk->key_secret),
			  string_field(loc->options, "key-secret"));
	}
	add_common_options(loc->options, storage);
	/* the format node above decides whether discards pass; its own
	 * setting is kept by the reopen */
	json_object_object_add(loc->options, "discard", json_object_new_string("unmap"));

	json_object_object_add(format_opt, "driver", json_object_new_string(RAW_DRIVER));
	json_object_object_add(format_opt, "node-name",
			       json_object_new_string(disk->format_node));
	json_object_object_add(format_opt, "file",
			       json_object_new_string(disk->storage_node));
	add_common_options(format_opt, format);
	/* raw's offset and size, which its filename reports */
	if (format_filename && strncmp(format_filename, "json:", 5) == 0 &&
	    (format_file = json_tokener_parse(format_filename + 5))) {
		json_object *value;
		if (json_object_object_get_ex(format_file, "offset", &value))
			json_object_object_add(format_opt, "offset", json_object_get(value));
		if (json_object_object_get_ex(format_file, "size", &value))
			json_object_object_add(format_opt, "size", json_object_get(value));
	}
	disk->storage_options = to_text(loc->options);
	disk->format_options = to_text(format_opt);
	if (!disk->storage_options || !disk->format_options) {
		rc = rc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_object_put(format_file);
	json_object_put(format_opt);
	return rc;
}

/*
 * Why the disk of rbd node `name` cannot be switched, into why (empty when
 * it can); *format gets its raw format node.
 */
static void check_switchable(json_object *nodes, json_object *graph,
			     json_object *node, const struct rbd_location *loc,
			     json_object **format, char *why, size_t len)
{
	const char *name = string_field(node, "node-name");
	const char *parents[4];
	size_t count;
	json_object *parent;
	const char *driver;

	*format = NULL;
	why[0] = '\0';
	if (loc->snapshot[0]) {
		snprintf(why, len, "node %s reads its snapshot %s, not the image",
			 name, loc->snapshot);
		return;
	}
	count = file_parents(nodes, graph, name, parents, 4);
	if (count == 0) {
		snprintf(why, len, "node %s has no raw format node above it "
			 "(a device reads the rbd node itself, or nothing does)", name);
		return;
	}
	if (count > 1) {
		snprintf(why, len, "node %s is the file of %zu nodes (%s, %s%s)",
			 name, count, parents[0], parents[1], count > 2 ? ", ..." : "");
		return;
	}
	parent = node_named(nodes, parents[0]);
	driver = parent ? string_field(parent, "drv") : NULL;
	if (!driver || strcmp(driver, RAW_DRIVER) != 0) {
		snprintf(why, len, "node %s is read through node %s of format %s; "
			 "only a raw format node can be switched", name, parents[0],
			 driver ? driver : "unknown");
		return;
	}
	if (parents[0][0] == '#') {
		/* blockdev-reopen compares the node-name it is given with the
		 * node's options, which hold none for an automatic name */
		snprintf(why, len, "its format node %s has an automatic node name, "
			 "which blockdev-reopen cannot address; give the drive one "
			 "(-drive ...,node-name=NAME) or use -blockdev as libvirt does",
			 parents[0]);
		return;
	}
	if (bool_field(node, "ro") || bool_field(parent, "ro")) {
		snprintf(why, len, "its disk (node %s) is read-only", parents[0]);
		return;
	}
	*format = parent;
}

int qmp_disk_find(struct qmp *q, const struct rc_image_spec *image,
		  struct qmp_disk *out, struct rc_error *err)
{
	json_object *nodes = NULL, *graph = NULL;
	json_object *head = NULL, *format = NULL;
	struct rbd_location head_loc = { 0 }, loc;
	char spec[RC_SPEC_MAX], why[400] = "", first_why[400] = "";
	size_t head_count = 0, readers = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc_image_spec_format(image, spec, sizeof(spec));
	rc = query_nodes(q, &nodes, &graph, err);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *node = json_object_array_get_idx(nodes, i);
		const char *driver = string_field(node, "drv");
		if (!driver || strcmp(driver, "rbd") != 0 ||
		    parse_rbd_filename(string_field(node, "file"), &loc) < 0)
			continue;
		if (!location_is(&loc, image)) {
			json_object_put(loc.options);
			continue;
		}
		readers++;
		if (loc.snapshot[0]) {
			if (!first_why[0])
				check_switchable(nodes, graph, node, &loc, &format,
						 first_why, sizeof(first_why));
			json_object_put(loc.options);
			continue;
		}
		if (head_count++ == 0) {
			head = node;
			head_loc = loc;
		} else {
			snprintf(why, sizeof(why), "nodes %s and %s both read it",
				 string_field(head, "node-name"),
				 string_field(node, "node-name"));
			json_object_put(loc.options);
		}
	}
	if (readers == 0) {
		rc = rc_error_set(err, -ENOENT, "no block node of QEMU on %s %s reads %s",
				  qmp_target_kind(q), q->target, spec);
		goto out;
	}
	if (head_count == 0) {
		rc = rc_error_set(err, -ENOTSUP, "cannot switch the disk that reads %s on %s %s: %s",
				  spec, qmp_target_kind(q), q->target, first_why);
		goto out;
	}
	if (head_count == 1)
		check_switchable(nodes, graph, head, &head_loc, &format, why, sizeof(why));
	if (why[0]) {
		rc = rc_error_set(err, -ENOTSUP, "cannot switch the disk that reads %s on %s %s: %s",
				  spec, qmp_target_kind(q), q->target, why);
		goto out;
	}
	copy_name(out->storage_node, sizeof(out->storage_node),
		  string_field(head, "node-name"));
	copy_name(out->format_node, sizeof(out->format_node),
		  string_field(format, "node-name"));
	rc = describe_disk(q, nodes, head, format, &head_loc, out, err);
	if (rc < 0)
		qmp_disk_release(out);
out:
	json_object_put(head_loc.options);
	json_object_put(graph);
	json_object_put(nodes);
	return rc;
}

void qmp_disk_release(struct qmp_disk *disk)
{
	if (!disk)
		return;
	free(disk->storage_options);
	free(disk->format_options);
	disk->storage_options = disk->format_options = NULL;
}

/* One node's entry in query-named-block-nodes (a new reference), or NULL. */
static int find_node(struct qmp *q, const char *node_name, json_object **node,
		     struct rc_error *err)
{
	json_object *nodes = NULL, *found;
	int rc = query_nodes(q, &nodes, NULL, err);

	*node = NULL;
	if (rc < 0)
		return rc;
	found = node_named(nodes, node_name);
	if (found)
		*node = json_object_get(found);
	json_object_put(nodes);
	return 0;
}

int qmp_node_exists(struct qmp *q, const char *node_name, bool *exists,
		    struct rc_error *err)
{
	json_object *node = NULL;
	int rc = find_node(q, node_name, &node, err);
	*exists = node != NULL;
	json_object_put(node);
	return rc;
}

int qmp_disk_add_storage(struct qmp *q, const struct qmp_disk *disk,
			 const struct rc_image_spec *new_image,
			 const char *node_name, struct rc_error *err)
{
	json_object *opt = NULL, *existing = NULL;
	struct rbd_location loc = { 0 };
	char spec[RC_SPEC_MAX];
	int rc;

	rc_image_spec_format(new_image, spec, sizeof(spec));
	rc = find_node(q, node_name, &existing, err);
	if (rc < 0)
		goto out;
	if (existing) {
		/* added before a crash: ours when it reads the new image */
		if (parse_rbd_filename(string_field(existing, "file"), &loc) == 0 &&
		    location_is(&loc, new_image) && !loc.snapshot[0]) {
			rc = 0;
			goto out;
		}
		rc = rc_error_set(err, -EEXIST, "QEMU on %s %s has a node %s already, "
				  "and it does not read %s", qmp_target_kind(q),
				  q->target, node_name, spec);
		goto out;
	}
	opt = json_tokener_parse(disk->storage_options ? disk->storage_options : "");
	if (!opt || !json_object_is_type(opt, json_type_object)) {
		rc = rc_error_set(err, -EINVAL, "the disk's storage options are no JSON object");
		goto out;
	}
	json_object_object_add(opt, "pool", json_object_new_string(new_image->pool));
	if (new_image->ns[0])
		json_object_object_add(opt, "namespace", json_object_new_string(new_image->ns));
	else
		json_object_object_del(opt, "namespace");
	json_object_object_add(opt, "image", json_object_new_string(new_image->name));
	json_object_object_add(opt, "node-name", json_object_new_string(node_name));
	rc = qmp_execute(q, "blockdev-add", opt, NULL, err);
	if (rc < 0)
		rc_error_prefix(err, "adding node %s for %s: ", node_name, spec);
out:
	json_object_put(loc.options);
	json_object_put(existing);
	json_object_put(opt);
	return rc;
}

int qmp_disk_reopen(struct qmp *q, const struct qmp_disk *disk,
		    const char *node_name, struct rc_error *err)
{
	json_object *opt = json_tokener_parse(disk->format_options ?
					      disk->format_options : "");
	json_object *arguments = json_object_new_object(), *list = json_object_new_array();
	int rc;

	if (!opt || !json_object_is_type(opt, json_type_object)) {
		json_object_put(list);
		rc = rc_error_set(err, -EINVAL, "the disk's format options are no JSON object");
		goto out;
	}
	json_object_object_add(opt, "file", json_object_new_string(node_name));
	json_object_array_add(list, json_object_get(opt));
	json_object_object_add(arguments, "options", list);
	rc = qmp_execute(q, "blockdev-reopen", arguments, NULL, err);
	if (rc < 0)
		rc_error_prefix(err, "reopening node %s onto %s: ", disk->format_node,
				node_name);
out:
	json_object_put(arguments);
	json_object_put(opt);
	return rc;
}

int qmp_node_del(struct qmp *q, const char *node_name, struct rc_error *err)
{
	json_object *arguments = NULL;
	bool exists;
	int rc = qmp_node_exists(q, node_name, &exists, err);

	if (rc < 0 || !exists)
		return rc;
	arguments = json_object_new_object();
	json_object_object_add(arguments, "node-name", json_object_new_string(node_name));
	rc = qmp_execute(q, "blockdev-del", arguments, NULL, err);
	json_object_put(arguments);
	return rc;
}

int qmp_format_child(struct qmp *q, const char *format_node,
		     char child[QMP_NODE_MAX], struct rc_error *err)
{
	json_object *nodes = NULL, *graph = NULL;
	int rc;

	child[0] = '\0';
	rc = query_nodes(q, &nodes, &graph, err);
	if (rc < 0)
		return rc;
	if (!node_named(nodes, format_node)) {
		rc = rc_error_set(err, -ENOENT, "QEMU on %s %s has no node %s",
				  qmp_target_kind(q), q->target, format_node);
		goto out;
	}
	/* every node whose file parent is format_node: there is one at most */
	for (size_t i = 0; i < json_object_array_length(nodes) && !child[0]; i++) {
		const char *name = string_field(json_object_array_get_idx(nodes, i),
						"node-name");
		const char *parents[4];
		size_t count = name ? file_parents(nodes, graph, name, parents, 4) : 0;
		for (size_t k = 0; k < count && k < 4; k++)
			if (strcmp(parents[k], format_node) == 0)
				copy_name(child, QMP_NODE_MAX, name);
	}
	if (!child[0])
		rc = rc_error_set(err, -ENOENT, "node %s on %s %s has no file child",
				  format_node, qmp_target_kind(q), q->target);
out:
	json_object_put(graph);
	json_object_put(nodes);
	return rc;
}
