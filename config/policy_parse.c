/*
 * The policy file's schema: walks the YAML tree and fills a struct
 * policy_file, recording every problem found rather than stopping at the
 * first, so that one `policy check` shows an operator all of them.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "yaml_tree.h"

#define DEFAULT_GC_MIN_AGE (3600)
#define DEFAULT_GC_TRASH_DELAY (24 * 3600)
#define MAX_DEPTH_LIMIT 1000

struct walk {
	struct policy_diagnostics *diags;
	int nomem;
};

static void report(struct walk *w, const struct ynode *at, bool warning,
		   const char *fmt, ...) RC_PRINTF(4, 5);

static void report(struct walk *w, const struct ynode *at, bool warning,
		   const char *fmt, ...)
{
	char message[sizeof(((struct policy_diagnostic *)0)->message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (policy_diagnostics_add(w->diags, at->mark, warning, "%s",
				   message) < 0)
		w->nomem = 1;
}

#define error_at(w, at, ...) report((w), (at), false, __VA_ARGS__)

static const char *kind_word(enum ynode_kind kind)
{
	switch (kind) {
	case YNODE_SCALAR:
		return "a single value";
	case YNODE_SEQUENCE:
		return "a list";
	case YNODE_MAPPING:
		return "a mapping";
	}
	return "?";
}

static bool is_kind(struct walk *w, const struct ynode *node,
		    enum ynode_kind kind, const char *what)
{
	if (node->kind == kind)
		return true;
	error_at(w, node, "%s must be %s, not %s", what, kind_word(kind),
		 kind_word(node->kind));
	return false;
}

/* ---- keys ---------------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diagonal = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t above = row[j];
			size_t best = diagonal + (a[i - 1] != b[j - 1]);

			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

static void unknown_key(struct walk *w, const struct ynode *key,
			const char *where, const char *const *valid)
{
	const char *nearest = NULL;
	size_t best = SIZE_MAX, allowed = strlen(key->text) / 3 + 1;
	char list[256] = "";

	for (size_t i = 0; valid[i]; i++) {
		size_t d = edit_distance(key->text, valid[i]);

		if (d < best) {
			best = d;
			nearest = valid[i];
		}
		if (strlen(list) + strlen(valid[i]) + 3 < sizeof(list)) {
			strcat(list, i ? ", " : "");
			strcat(list, valid[i]);
		}
	}
	if (nearest && best <= allowed)
		error_at(w, key, "unknown key '%.64s' in %s (did you mean '%s'?)",
			 key->text, where, nearest);
	else
		error_at(w, key, "unknown key '%.64s' in %s; it takes %s",
			 key->text, where, list);
}

/* Whether a scalar key is exactly word (a NUL inside it never is). */
static bool key_is(const struct ynode *key, const char *word)
{
	return key->kind == YNODE_SCALAR && key->text_len == strlen(word) &&
	       strcmp(key->text, word) == 0;
}

#define KEYS_MAX 8 /* the most keys any mapping of the file takes */

/*
 * Checks a mapping's keys against valid (NULL-terminated, at most
 * KEYS_MAX): each key a single value, known, and there once. Linear in
 * the keys, so a hostile file of a million keys costs no more than
 * reading it. Returns false when map is no mapping.
 */
static bool check_keys(struct walk *w, const struct ynode *map,
		       const char *where, const char *const *valid)
{
	const struct ynode *first[KEYS_MAX] = {0};

	if (!is_kind(w, map, YNODE_MAPPING, where))
		return false;
	for (size_t i = 0; i + 1 < map->count; i += 2) {
		const struct ynode *key = map->items[i];
		size_t v = 0;

		if (key->kind != YNODE_SCALAR) {
			error_at(w, key, "a key in %s must be a single word, not "
				 "%s", where, kind_word(key->kind));
			continue;
		}
		if (strlen(key->text) != key->text_len) {
			error_at(w, key, "a key in %s contains a NUL character",
				 where);
			continue;
		}
		while (valid[v] && !key_is(key, valid[v]))
			v++;
		if (!valid[v]) {
			unknown_key(w, key, where, valid);
			continue;
		}
		if (first[v])
			error_at(w, key, "duplicate key '%s' in %s (first at line "
				 "%d)", key->text, where, first[v]->mark.line);
		else
			first[v] = key;
	}
	return true;
}

/* The value of key in map (its first occurrence), or NULL. */
static const struct ynode *lookup(const struct ynode *map, const char *key)
{
	for (size_t i = 0; i + 1 < map->count; i += 2) {
		if (key_is(map->items[i], key))
			return map->items[i + 1];
	}
	return NULL;
}

/* ---- values -------------------------------------------------------------- */

static bool get_text(struct walk *w, const struct ynode *node,
		     const char *what, char *out, size_t size)
{
	if (!is_kind(w, node, YNODE_SCALAR, what))
		return false;
	if (strlen(node->text) != node->text_len) {
		error_at(w, node, "%s contains a NUL character", what);
		return false;
	}
	if (!node->text[0]) {
		error_at(w, node, "%s is empty", what);
		return false;
	}
	if (node->text_len >= size) {
		error_at(w, node, "%s is longer than %zu characters", what,
			 size - 1);
		return false;
	}
	memcpy(out, node->text, node->text_len + 1);
	return true;
}

static bool get_count(struct walk *w, const struct ynode *node,
		      const char *what, int min, int max, int *out)
{
	char *end;
	long value;

	if (!is_kind(w, node, YNODE_SCALAR, what))
		return false;
	errno = 0;
	value = strtol(node->text, &end, 10);
	if (!node->plain) {
		error_at(w, node, "%s must be a whole number, not a quoted "
			 "string", what);
		return false;
	}
	if (end == node->text || *end ||
	    strspn(node->text, "+-0123456789") != node->text_len) {
		error_at(w, node, "%s must be a whole number, not '%.64s'", what,
			 node->text);
		return false;
	}
	if (value < min) {
		error_at(w, node, "%s is %.32s; it may not be below %d", what,
			 node->text, min);
		return false;
	}
	if (errno == ERANGE || value > max) {
		error_at(w, node, "%s is %.32s; it may be at most %d", what,
			 node->text, max);
		return false;
	}
	*out = (int)value;
	return true;
}

static bool get_duration(struct walk *w, const struct ynode *node,
			 const char *what, int64_t min, int64_t *out)
{
	struct rc_error err = {0};
	char text[64];

	if (!get_text(w, node, what, text, sizeof(text)))
		return false;
	if (policy_duration_parse(text, out, &err) < 0) {
		error_at(w, node, "%s: %s", what, err.message);
		return false;
	}
	if (*out < min) {
		error_at(w, node, "%s must be at least %llds", what,
			 (long long)min);
		return false;
	}
	return true;
}

static char *dup_text(struct walk *w, const struct ynode *node,
		      const char *what)
{
	char text[4096];
	char *copy;

	if (!get_text(w, node, what, text, sizeof(text)))
		return NULL;
	copy = strdup(text);
	if (!copy)
		w->nomem = 1;
	return copy;
}

/* ---- sections ------------------------------------------------------------ */

static void read_cluster(struct walk *w, const struct ynode *map,
			 struct policy_file *f)
{
	static const char *const keys[] = { "conf", "id", "timeout", NULL };
	const struct ynode *v;
	int64_t timeout;

	if (!check_keys(w, map, "cluster", keys))
		return;
	if ((v = lookup(map, "conf")))
		f->cluster_conf = dup_text(w, v, "cluster conf");
	if ((v = lookup(map, "id")))
		f->cluster_id = dup_text(w, v, "cluster id");
	if ((v = lookup(map, "timeout")) &&
	    get_duration(w, v, "cluster timeout", 1, &timeout)) {
		if (timeout > 3600)
			error_at(w, v, "cluster timeout may be at most 1h");
		else
			f->cluster_timeout = (int)timeout;
	}
}

static void read_timezone(struct walk *w, const struct ynode *node,
			  struct policy_file *f)
{
	struct rc_error err = {0};

	if (!get_text(w, node, "timezone", f->timezone, sizeof(f->timezone)))
		return;
	if (policy_zone_check(f->timezone, &err) < 0)
		error_at(w, node, "timezone: %s", err.message);
}

static void read_keep(struct walk *w, const struct ynode *map,
		      struct policy_keep *keep)
{
	static const char *const keys[] = { "latest", "hourly", "daily",
					    "weekly", "monthly", "yearly", NULL };
	size_t errors_before = w->diags->errors;
	const struct ynode *v;
	bool any = false;

	if (!check_keys(w, map, "keep", keys))
		return;
	keep->given = true;
	if ((v = lookup(map, "latest")) &&
	    get_count(w, v, "keep latest", 0, POLICY_COUNT_MAX, &keep->latest))
		any = any || keep->latest > 0;
	for (int k = 0; k < POLICY_BUCKET_KINDS; k++) {
		const char *name = policy_bucket_name((enum policy_bucket)k);
		char what[32];

		snprintf(what, sizeof(what), "keep %s", name);
		if ((v = lookup(map, name)) &&
		    get_count(w, v, what, 0, POLICY_COUNT_MAX, &keep->buckets[k]))
			any = any || keep->buckets[k] > 0;
	}
	if (!any && w->diags->errors == errors_before)
		error_at(w, map, "keep keeps no snapshot; give a count above 0, "
			 "or leave keep out to keep every snapshot");
}

static void read_patterns(struct walk *w, const struct ynode *seq,
			  struct policy *p)
{
	if (!is_kind(w, seq, YNODE_SEQUENCE, "volumes"))
		return;
	if (seq->count == 0) {
		error_at(w, seq, "volumes is empty; list POOL[/NAMESPACE]/VOLUME "
			 "patterns such as rbd/vm-*");
		return;
	}
	p->patterns = calloc(seq->count, sizeof(*p->patterns));
	if (!p->patterns) {
		w->nomem = 1;
		return;
	}
	for (size_t i = 0; i < seq->count; i++) {
		const struct ynode *item = seq->items[i];
		char *glob = dup_text(w, item, "a volumes pattern");
		size_t slashes = 0;

		if (!glob)
			continue;
		for (const char *c = glob; *c; c++)
			slashes += *c == '/';
		if (slashes < 1 || slashes > 2 || glob[0] == '/' ||
		    glob[strlen(glob) - 1] == '/' || strstr(glob, "//")) {
			error_at(w, item, "'%.64s' is not a POOL[/NAMESPACE]/VOLUME "
				 "pattern (like rbd/vm-* or ssd/tenant1/*)", glob);
			free(glob);
			continue;
		}
		p->patterns[p->pattern_count].glob = glob;
		p->patterns[p->pattern_count++].mark = item->mark;
	}
}

/* The policy's name for messages, also before it is known. */
static const char *label(const struct policy *p)
{
	return p->name[0] ? p->name : "(unnamed)";
}

static void read_schedule(struct walk *w, const struct ynode *map,
			  struct policy *p)
{
	const struct ynode *every = lookup(map, "every");
	const struct ynode *cron = lookup(map, "cron");
	struct rc_error err = {0};

	if (every && cron)
		error_at(w, cron, "policy '%s' has both every and cron; give one",
			 label(p));
	if (!every && !cron) {
		error_at(w, map, "policy '%s' needs every (like 1h) or cron (like "
			 "\"0 */4 * * *\")", label(p));
		return;
	}
	/* with both, each is still read: the one kept must be right too,
	 * and a check that hid its errors would need a second round */
	if (every)
		get_duration(w, every, "every", 60, &p->every);
	if (cron && get_text(w, cron, "cron", p->cron_text,
			     sizeof(p->cron_text)) &&
	    policy_cron_parse(p->cron_text, &p->cron, &err) < 0)
		error_at(w, cron, "%s", err.message);
}

static bool name_chars_ok(const char *name)
{
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_.-") == strlen(name);
}

static void read_policy(struct walk *w, const struct ynode *map,
			struct policy *p, int default_max_depth)
{
	static const char *const keys[] = { "name", "volumes", "every", "cron",
					    "keep", "max_depth", NULL };
	const struct ynode *v;

	p->mark = map->mark;
	p->max_depth = default_max_depth;
	if (!check_keys(w, map, "a policy", keys))
		return;
	v = lookup(map, "name");
	if (!v)
		error_at(w, map, "a policy needs a name");
	else if (get_text(w, v, "policy name", p->name, sizeof(p->name)) &&
		 !name_chars_ok(p->name))
		error_at(w, v, "policy name '%s' may hold only letters, digits "
			 "and _ . -", p->name);
	if ((v = lookup(map, "volumes")))
		read_patterns(w, v, p);
	else
		error_at(w, map, "policy '%s' needs volumes: a list of "
			 "POOL[/NAMESPACE]/VOLUME patterns", label(p));
	read_schedule(w, map, p);
	if ((v = lookup(map, "keep")))
		read_keep(w, v, &p->keep);
	if ((v = lookup(map, "max_depth")))
		get_count(w, v, "max_depth", 1, MAX_DEPTH_LIMIT, &p->max_depth);
}

/* Orders policies by name, then by place in the file. */
static int by_name(const void *a, const void *b)
{
	const struct policy *x = *(const struct policy *const *)a;
	const struct policy *y = *(const struct policy *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x > y) - (x < y);
}

/* Reports every policy whose name an earlier one has: sorted, so that a
 * file of a hundred thousand policies is checked in n log n. */
static void check_names_unique(struct walk *w, const struct ynode *seq,
			       struct policy_file *f)
{
	const struct policy **order = calloc(f->policy_count, sizeof(*order));

	if (!order) {
		w->nomem = 1;
		return;
	}
	for (size_t i = 0; i < f->policy_count; i++)
		order[i] = &f->policies[i];
	qsort(order, f->policy_count, sizeof(*order), by_name);
	for (size_t i = 1, first = 0; i < f->policy_count; i++) {
		if (!order[i]->name[0] ||
		    strcmp(order[i]->name, order[first]->name) != 0) {
			first = i;
			continue;
		}
		error_at(w, seq->items[order[i] - f->policies], "a second policy "
			 "named '%s' (the first is at line %d)", order[i]->name,
			 order[first]->mark.line);
	}
	free(order);
}

static void read_policies(struct walk *w, const struct ynode *seq,
			  struct policy_file *f, int default_max_depth)
{
	if (!is_kind(w, seq, YNODE_SEQUENCE, "policies"))
		return;
	if (seq->count == 0) {
		error_at(w, seq, "policies is empty");
		return;
	}
	f->policies = calloc(seq->count, sizeof(*f->policies));
	if (!f->policies) {
		w->nomem = 1;
		return;
	}
	f->policy_count = seq->count;
	for (size_t i = 0; i < seq->count; i++)
		read_policy(w, seq->items[i], &f->policies[i], default_max_depth);
	check_names_unique(w, seq, f);
}

static void read_gc(struct walk *w, const struct ynode *map,
		    struct policy_file *f)
{
	static const char *const keys[] = { "min_age", "trash_delay", NULL };
	const struct ynode *v;

	if (!check_keys(w, map, "gc", keys))
		return;
	f->gc_given = true;
	if ((v = lookup(map, "min_age")))
		get_duration(w, v, "gc min_age", 0, &f->gc_min_age);
	if ((v = lookup(map, "trash_delay")))
		get_duration(w, v, "gc trash_delay", 0, &f->gc_trash_delay);
}

static void read_file(struct walk *w, const struct ynode *root,
		      struct policy_file *f)
{
	static const char *const keys[] = { "version", "cluster", "timezone",
					    "defaults", "policies", "gc", NULL };
	static const char *const default_keys[] = { "max_depth", NULL };
	int default_max_depth = POLICY_DEFAULT_MAX_DEPTH;
	const struct ynode *v;

	if (!check_keys(w, root, "the file", keys))
		return;
	v = lookup(root, "version");
	if (!v)
		error_at(w, root, "version is missing; write version: 1 first");
	else if (get_count(w, v, "version", INT_MIN, INT_MAX, &f->version) &&
		 f->version != 1)
		error_at(w, v, "version %d is not one this rowcat reads (it "
			 "reads version 1)", f->version);
	if ((v = lookup(root, "cluster")))
		read_cluster(w, v, f);
	if ((v = lookup(root, "timezone")))
		read_timezone(w, v, f);
	if ((v = lookup(root, "defaults")) &&
	    check_keys(w, v, "defaults", default_keys) &&
	    (v = lookup(v, "max_depth")))
		get_count(w, v, "defaults max_depth", 1, MAX_DEPTH_LIMIT,
			  &default_max_depth);
	if ((v = lookup(root, "policies")))
		read_policies(w, v, f, default_max_depth);
	else
		error_at(w, root, "policies is missing: a list of policies");
	if ((v = lookup(root, "gc")))
		read_gc(w, v, f);
}

int policy_parse(struct policy_file **out, const char *text, size_t len,
		 struct policy_diagnostics *diags)
{
	struct policy_mark start = { 1, 1 };
	struct walk w = { .diags = diags };
	struct policy_file *f = NULL;
	struct ytree tree = {0};
	size_t errors_before = diags->errors;
	int rc = 0;

	*out = NULL;
	if (len > POLICY_FILE_MAX) {
		rc = policy_diagnostics_add(diags, start, false, "the file is over "
					    "%d bytes, the most a policy file "
					    "may hold", POLICY_FILE_MAX);
		rc = rc < 0 ? rc : -EINVAL;
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(f->timezone, sizeof(f->timezone), "UTC");
	f->gc_min_age = DEFAULT_GC_MIN_AGE;
	f->gc_trash_delay = DEFAULT_GC_TRASH_DELAY;
	rc = ytree_load(&tree, text, len, diags);
	if (rc < 0)
		goto out;
	if (!tree.root)
		policy_diagnostics_add(diags, start, false, "the file is empty; "
				       "a policy file starts with version: 1");
	else
		read_file(&w, tree.root, f);
	if (w.nomem)
		rc = -ENOMEM;
	else if (diags->errors > errors_before)
		rc = -EINVAL;
out:
	ytree_free(&tree);
	if (rc < 0)
		policy_file_free(f);
	else
		*out = f;
	return rc;
}
