/*
 * rowcat explain VOL[@SNAP]: why each snapshot and image of a volume's
 * tree is kept or would go, as ops_explain gathers it (gc's planner,
 * retention, and the planner again for each flatten); this file words
 * it. Catalog only: a file catalog needs no cluster.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json_out.h"
#include "policy_cli.h"
#include "rowcat/clock.h"

/* the policy file of the policy timer, as snap reads it */
#define POLICY_FILE_DEFAULT "/etc/rowcat/policy.yaml"

#define SUBJECT_MAX (RC_SPEC_MAX + 1 + RC_NAME_MAX)
#define TEXT_MAX 2048

struct explain_cli {
	struct cli_ctx *ctx;
	const struct ops_explanation *e;
	const char *policy_path;        /* NULL: none read */
};

static const char *verdict_word(enum ops_explain_verdict v)
{
	switch (v) {
	case OPS_EXPLAIN_KEPT:
		return "kept";
	case OPS_EXPLAIN_GOES:
		return "goes";
	case OPS_EXPLAIN_WAITS:
		return "waits";
	case OPS_EXPLAIN_COLLECTED:
		return "collected";
	}
	return "?";
}

static const char *why_word(enum ops_explain_why why)
{
	static const char *const words[] = {
		[OPS_WHY_OPERATING] = "operating",
		[OPS_WHY_FOREIGN] = "foreign-ancestor",
		[OPS_WHY_OTHER_VOLUME] = "other-volume",
		[OPS_WHY_PINNED] = "pinned",
		[OPS_WHY_ORIGIN] = "origin",
		[OPS_WHY_POLICY_KEEPS] = "policy-keeps",
		[OPS_WHY_POLICY_EXPIRES] = "policy-expires",
		[OPS_WHY_POLICY_UNKNOWN] = "policy-unknown",
		[OPS_WHY_READ_BY] = "read-by",
		[OPS_WHY_CARRIES] = "carries",
		[OPS_WHY_MARKED] = "marked",
		[OPS_WHY_EXPIRED] = "expired",
		[OPS_WHY_VOLUME_REMOVED] = "volume-removed",
		[OPS_WHY_UNNEEDED] = "unneeded",
		[OPS_WHY_GC_STEP] = "gc-step",
		[OPS_WHY_GC_WAIT] = "gc-wait",
		[OPS_WHY_FLATTEN_FREES] = "flatten-frees",
		[OPS_WHY_COLLECTED] = "collected",
	};

	return (size_t)why < sizeof(words) / sizeof(words[0]) && words[why]
		? words[why] : "?";
}

/* ---- naming things -------------------------------------------------------- */

static void item_subject(const struct ops_explain_item *it, char *buf,
			 size_t len)
{
	char image[RC_SPEC_MAX];

	rc_image_spec_format(&it->image.spec, image, sizeof(image));
	snprintf(buf, len, "%s%s%s", image, it->snapshot.id ? "@" : "",
		 it->snapshot.id ? it->snapshot.name : "");
}

/* An image by id: from the items, else the catalog, else its id. */
static void image_name(const struct explain_cli *x, int64_t id, char *buf,
		       size_t len)
{
	const struct ops_explain_item *it = ops_explain_find(x->e, id, 0);
	struct catalog_image image;
	struct rc_error err = {0};

	if (it)
		rc_image_spec_format(&it->image.spec, buf, len);
	else if (catalog_image_get(x->ctx->catalog, id, &image, &err) == 0)
		rc_image_spec_format(&image.spec, buf, len);
	else
		snprintf(buf, len, "image %lld", (long long)id);
}

static const char *volume_name(const struct explain_cli *x, int64_t id)
{
	const struct catalog_volume *v = ops_explain_volume(x->e, id);

	return v ? v->name : "?";
}

/* Whose an image is, for a reader named in a reason: "" the volume's. */
static void whose(const struct explain_cli *x, int64_t volume_id, char *buf,
		  size_t len)
{
	if (volume_id == x->e->volume.id)
		buf[0] = '\0';
	else if (!volume_id)
		snprintf(buf, len, " (a foreign image, no volume's own)");
	else
		snprintf(buf, len, " (volume %s)", volume_name(x, volume_id));
}

static size_t cat_text(char *buf, size_t len, size_t used, const char *fmt,
		       ...) RC_PRINTF(4, 5);

static size_t cat_text(char *buf, size_t len, size_t used, const char *fmt,
		       ...)
{
	va_list ap;
	int n;

	if (used >= len)
		return used;
	va_start(ap, fmt);
	n = vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
	return n < 0 ? used : used + (size_t)n;
}

static const char *ordinal_suffix(int n)
{
	if (n % 100 >= 11 && n % 100 <= 13)
		return "th";
	switch (n % 10) {
	case 1:
		return "st";
	case 2:
		return "nd";
	case 3:
		return "rd";
	}
	return "th";
}

/* ---- retention ------------------------------------------------------------ */

/* The rules that keep it (kept), or where it stands under each (not). */
static void retention_text(const struct explain_cli *x,
			   const struct ops_explain_item *it,
			   const struct policy_retention *r, bool kept,
			   char *buf, size_t len)
{
	const struct policy_keep *keep = &x->e->policy->keep;
	int64_t t = catalog_snapshot_policy_time(&it->snapshot);
	char label[POLICY_BUCKET_LABEL_MAX];
	size_t used = 0;

	buf[0] = '\0';
	if (r->all) {
		snprintf(buf, len, "its keep: is not set, so it keeps every "
			 "snapshot");
		return;
	}
	if (keep->latest && (!kept || r->by_latest) && r->rank == 1)
		used = cat_text(buf, len, used, "latest %d: the newest",
				keep->latest);
	else if (keep->latest && (!kept || r->by_latest))
		used = cat_text(buf, len, used, "latest %d: the %d%s newest",
				keep->latest, r->rank, ordinal_suffix(r->rank));
	for (int k = 0; k < POLICY_BUCKET_KINDS; k++) {
		const struct policy_bucket_place *b = &r->bucket[k];
		const struct ops_explain_item *holder;

		if (keep->buckets[k] <= 0 || (kept && !b->keeps))
			continue;
		policy_bucket_label((enum policy_bucket)k, t, label);
		used = cat_text(buf, len, used, "%s%s %d: ", used ? "; " : "",
				policy_bucket_name((enum policy_bucket)k),
				keep->buckets[k]);
		holder = b->held_by < x->e->count ? &x->e->items[b->held_by]
						  : NULL;
		if (b->keeps)
			used = cat_text(buf, len, used, "slot %d of %d, %s",
					b->slot, keep->buckets[k], label);
		else if (holder && holder != it)
			used = cat_text(buf, len, used, "%s is held by the "
					"newer @%s", label, holder->snapshot.name);
		else
			used = cat_text(buf, len, used, "%s is the %d%s newest, "
					"past %d", label, b->slot,
					ordinal_suffix(b->slot),
					keep->buckets[k]);
	}
	if (!used)
		snprintf(buf, len, "no rule of its keep: holds it");
}

/* ---- a reason as one sentence --------------------------------------------- */

static void origin_text(const struct explain_cli *x,
			const struct ops_explain_item *it, char *buf,
			size_t len)
{
	const char *o = it->snapshot.origin;

	if (strcmp(o, "manual") == 0)
		snprintf(buf, len, "a manual snapshot: only 'rowcat rm' lets "
			 "it go");
	else if (strcmp(o, "pre-restore") == 0)
		snprintf(buf, len, "the safety snapshot a restore took: only "
			 "'rowcat rm' lets it go");
	else if (strcmp(o, "adopted") == 0)
		snprintf(buf, len, "adopted with its image: only 'rowcat rm' "
			 "lets it go (no policy expires it)");
	else if (strncmp(o, "policy:", 7) == 0 && x->e->policy)
		snprintf(buf, len, "taken by policy %s, which does not manage "
			 "the volume now (policy %s does): only 'rowcat rm' "
			 "lets it go", o + 7, x->e->policy->name);
	else if (strncmp(o, "policy:", 7) == 0)
		snprintf(buf, len, "taken by policy %s, which does not manage "
			 "the volume now (no policy of %s matches it): only "
			 "'rowcat rm' lets it go", o + 7, x->policy_path);
	else
		snprintf(buf, len, "origin %s: only 'rowcat rm' lets it go", o);
}

static void reason_text(const struct explain_cli *x,
			const struct ops_explain_item *it,
			const struct ops_explain_reason *r, char *buf,
			size_t len)
{
	char when[RC_ISO_TIME_MAX], image[RC_SPEC_MAX], owner[RC_NAME_MAX + 64],
	     rules[TEXT_MAX / 2];
	const struct policy *p = x->e->policy;
	const struct ops_explain_item *other;

	rc_time_format_iso(r->at, when);
	switch (r->why) {
	case OPS_WHY_OPERATING:
		snprintf(buf, len, "the operating image of volume %s (what "
			 "'rowcat which %s' prints)", volume_name(x, r->volume_id),
			 volume_name(x, r->volume_id));
		return;
	case OPS_WHY_FOREIGN:
		snprintf(buf, len, "a foreign ancestor, no volume's own: rowcat "
			 "reads through it and never collects it");
		return;
	case OPS_WHY_OTHER_VOLUME:
		snprintf(buf, len, "volume %s's: 'rowcat explain %s' says why "
			 "it is kept", volume_name(x, r->volume_id),
			 volume_name(x, r->volume_id));
		return;
	case OPS_WHY_PINNED:
		snprintf(buf, len, "pinned: kept whatever marks and policies "
			 "say ('rowcat unpin' ends that)");
		return;
	case OPS_WHY_ORIGIN:
		origin_text(x, it, buf, len);
		return;
	case OPS_WHY_POLICY_KEEPS:
		retention_text(x, it, &r->retention, true, rules, sizeof(rules));
		snprintf(buf, len, "policy %s keeps it: %s", p ? p->name : "?",
			 rules);
		return;
	case OPS_WHY_POLICY_EXPIRES:
		retention_text(x, it, &r->retention, false, rules, sizeof(rules));
		snprintf(buf, len, "policy %s no longer keeps it (%s): its "
			 "next run marks it for collection", p ? p->name : "?",
			 rules);
		return;
	case OPS_WHY_POLICY_UNKNOWN:
		snprintf(buf, len, "taken by policy %s, which keeps it until "
			 "its retention lets it go; no policy file was read "
			 "to say which rule keeps it (--policy FILE)",
			 it->snapshot.origin + 7);
		return;
	case OPS_WHY_READ_BY:
		image_name(x, r->image_id, image, sizeof(image));
		whose(x, r->volume_id, owner, sizeof(owner));
		if (r->operating)
			snprintf(buf, len, "%s%s reads through it: the "
				 "operating image", image, owner);
		else if (r->chain)
			snprintf(buf, len, "%s%s reads through it, and an "
				 "operating image reads through that", image,
				 owner);
		else
			snprintf(buf, len, "%s%s, a clone kept for its own "
				 "snapshots, reads through it", image, owner);
		return;
	case OPS_WHY_CARRIES:
		other = ops_explain_find(x->e, 0, r->snapshot_id);
		snprintf(buf, len, "its snapshot @%s is kept",
			 other ? other->snapshot.name : "?");
		return;
	case OPS_WHY_MARKED:
		if (!r->policy_checked) {
			snprintf(buf, len, "marked for collection at %s "
				 "('rowcat rm'; 'rowcat unrm' undoes it)", when);
			return;
		}
		retention_text(x, it, &r->retention, true, rules, sizeof(rules));
		snprintf(buf, len, "marked for collection at %s by 'rowcat rm' "
			 "('rowcat unrm' undoes it); policy %s would still keep "
			 "it: %s", when, p ? p->name : "?", rules);
		return;
	case OPS_WHY_EXPIRED:
		retention_text(x, it, &r->retention, false, rules, sizeof(rules));
		snprintf(buf, len, "expired by policy %s at %s: %s",
			 p ? p->name : "?", when, rules);
		return;
	case OPS_WHY_VOLUME_REMOVED:
		snprintf(buf, len, "volume %s was removed with 'rowcat rm' at %s",
			 x->e->volume.name, when);
		return;
	case OPS_WHY_UNNEEDED:
		snprintf(buf, len, "nothing kept reads through it or keeps a "
			 "snapshot on it");
		return;
	case OPS_WHY_GC_STEP:
		snprintf(buf, len, "%s", r->action == CATALOG_GC_TRASH
			 ? "the next gc run moves it to the RBD trash"
			 : r->action == CATALOG_GC_PURGE
			 ? "the next gc run purges it from the RBD trash"
			 : "the next gc run unprotects and removes it");
		return;
	case OPS_WHY_GC_WAIT:
		cli_gc_wait_text(x->ctx->catalog, &r->wait, rules, sizeof(rules));
		snprintf(buf, len, "gc waits: %s", rules);
		return;
	case OPS_WHY_FLATTEN_FREES:
		image_name(x, r->image_id, image, sizeof(image));
		snprintf(buf, len, "flattening %s ('rowcat flatten %s') would "
			 "let gc collect it", image, volume_name(x, r->volume_id));
		return;
	case OPS_WHY_COLLECTED:
		snprintf(buf, len, "collected by gc at %s", when);
		return;
	}
	snprintf(buf, len, "?");
}

/* ---- plain ---------------------------------------------------------------- */

static void print_header(const struct explain_cli *x)
{
	const struct ops_explanation *e = x->e;
	const struct ops_explain_item *op =
		ops_explain_find(e, e->volume.operating_image_id, 0);
	char spec[RC_SPEC_MAX] = "?", when[RC_ISO_TIME_MAX],
	     min_age[POLICY_DURATION_TEXT_MAX], delay[POLICY_DURATION_TEXT_MAX],
	     schedule[160], keep[160];

	if (op)
		rc_image_spec_format(&op->image.spec, spec, sizeof(spec));
	printf("volume %s: operating image %s%s\n", e->volume.name, spec,
	       e->volume.marked_at ? "; removed with 'rowcat rm'" : "");
	if (e->policy) {
		policy_cli_schedule_text(e->policy, schedule, sizeof(schedule));
		policy_cli_keep_text(&e->policy->keep, keep, sizeof(keep));
		printf("policy %s (%s): %s; keep %s\n", e->policy->name,
		       x->policy_path, schedule, keep);
	} else if (x->policy_path) {
		printf("policy: none of %s matches the volume\n", x->policy_path);
	} else {
		printf("policy: no policy file read\n");
	}
	rc_time_format_iso(e->gc.now, when);
	policy_duration_format(e->gc.min_age, min_age);
	policy_duration_format(e->gc.trash_delay, delay);
	printf("gc judged at %s with --min-age %s --trash-delay %s\n", when,
	       min_age, delay);
}

static void print_item(const struct explain_cli *x,
		       const struct ops_explain_item *it)
{
	char subject[SUBJECT_MAX], when[RC_ISO_TIME_MAX], text[TEXT_MAX];

	item_subject(it, subject, sizeof(subject));
	if (it->snapshot.id) {
		rc_time_format_iso(catalog_snapshot_policy_time(&it->snapshot),
				   when);
		printf("%-9s %s  (snapshot, %s, %s)\n", verdict_word(it->verdict),
		       subject, it->snapshot.origin, when);
	} else {
		printf("%-9s %s  (image)\n", verdict_word(it->verdict), subject);
	}
	for (size_t r = 0; r < it->reason_count; r++) {
		reason_text(x, it, &it->reasons[r], text, sizeof(text));
		printf("          %s\n", text);
	}
}

static void print_plain(const struct explain_cli *x, int64_t only, bool all)
{
	const struct ops_explanation *e = x->e;
	size_t counts[4] = {0}, hidden = 0;
	char subject[SUBJECT_MAX], image[RC_SPEC_MAX];

	print_header(x);
	putchar('\n');
	for (size_t k = 0; k < e->count; k++) {
		const struct ops_explain_item *it = &e->items[k];

		if (only && it->snapshot.id != only)
			continue;
		if (!only && !all && it->verdict == OPS_EXPLAIN_COLLECTED) {
			hidden++;
			continue;
		}
		counts[it->verdict]++;
		print_item(x, it);
	}
	if (only)
		return;
	putchar('\n');
	for (size_t f = 0; f < e->flatten_count; f++) {
		const struct ops_explain_flatten *fl = &e->flattens[f];

		image_name(x, fl->image_id, image, sizeof(image));
		printf("flattening %s ('rowcat flatten %s') would let gc "
		       "collect: ", image, volume_name(x, fl->volume_id));
		for (size_t j = 0; j < fl->count; j++) {
			item_subject(&e->items[fl->items[j]], subject,
				     sizeof(subject));
			printf("%s%s", j ? ", " : "", subject);
		}
		printf("%s\n", fl->count ? "" : "nothing (what it reads is kept for other reasons)");
	}
	printf("%zu kept, %zu go at the next gc run, %zu waiting", counts[0],
	       counts[1], counts[2]);
	if (hidden)
		printf("; %zu collected by gc not shown (--all shows them)",
		       hidden);
	putchar('\n');
}

/* ---- json ----------------------------------------------------------------- */

static struct json_object *json_rules(const struct explain_cli *x,
				      const struct ops_explain_item *it,
				      const struct policy_retention *r)
{
	const struct policy_keep *keep = &x->e->policy->keep;
	struct json_object *list = json_object_new_array(), *rule;
	char label[POLICY_BUCKET_LABEL_MAX];

	if (!list || r->all)
		return list;
	if (keep->latest) {
		rule = json_object_new_object();
		json_object_object_add(rule, "rule", cli_json_string("latest"));
		json_object_object_add(rule, "count",
				       json_object_new_int(keep->latest));
		json_object_object_add(rule, "rank", json_object_new_int(r->rank));
		json_object_object_add(rule, "keeps",
				       json_object_new_boolean(r->by_latest));
		cli_json_append(list, rule);
	}
	for (int k = 0; k < POLICY_BUCKET_KINDS; k++) {
		const struct policy_bucket_place *b = &r->bucket[k];

		if (keep->buckets[k] <= 0)
			continue;
		policy_bucket_label((enum policy_bucket)k,
				    catalog_snapshot_policy_time(&it->snapshot),
				    label);
		rule = json_object_new_object();
		json_object_object_add(rule, "rule", cli_json_string(
			policy_bucket_name((enum policy_bucket)k)));
		json_object_object_add(rule, "count",
				       json_object_new_int(keep->buckets[k]));
		json_object_object_add(rule, "slot", json_object_new_int(b->slot));
		json_object_object_add(rule, "bucket", cli_json_string(label));
		json_object_object_add(rule, "keeps",
				       json_object_new_boolean(b->keeps));
		if (!b->keeps && b->held_by < x->e->count &&
		    &x->e->items[b->held_by] != it)
			json_object_object_add(rule, "held_by", cli_json_string(
				x->e->items[b->held_by].snapshot.name));
		cli_json_append(list, rule);
	}
	return list;
}

static struct json_object *json_reason(const struct explain_cli *x,
				       const struct ops_explain_item *it,
				       const struct ops_explain_reason *r)
{
	struct json_object *obj = json_object_new_object();
	char text[TEXT_MAX], image[RC_SPEC_MAX];

	if (!obj)
		return NULL;
	reason_text(x, it, r, text, sizeof(text));
	json_object_object_add(obj, "why", cli_json_string(why_word(r->why)));
	json_object_object_add(obj, "text", cli_json_string(text));
	switch (r->why) {
	case OPS_WHY_OPERATING:
	case OPS_WHY_OTHER_VOLUME:
	case OPS_WHY_VOLUME_REMOVED:
		json_object_object_add(obj, "volume", cli_json_string(
				volume_name(x, r->volume_id)));
		break;
	case OPS_WHY_READ_BY:
	case OPS_WHY_FLATTEN_FREES:
		image_name(x, r->image_id, image, sizeof(image));
		json_object_object_add(obj, "by", cli_json_string(image));
		json_object_object_add(obj, "volume", r->volume_id
				       ? cli_json_string(volume_name(x, r->volume_id))
				       : NULL);
		if (r->why == OPS_WHY_READ_BY)
			json_object_object_add(obj, "operating",
					       json_object_new_boolean(r->operating));
		break;
	case OPS_WHY_CARRIES: {
		const struct ops_explain_item *s =
			ops_explain_find(x->e, 0, r->snapshot_id);
		json_object_object_add(obj, "snapshot", cli_json_string(
				s ? s->snapshot.name : NULL));
		break;
	}
	case OPS_WHY_POLICY_KEEPS:
	case OPS_WHY_POLICY_EXPIRES:
	case OPS_WHY_EXPIRED:
	case OPS_WHY_MARKED:
		if (r->why == OPS_WHY_MARKED || r->why == OPS_WHY_EXPIRED)
			json_object_object_add(obj, "at", cli_json_time(r->at));
		if (r->why != OPS_WHY_MARKED || r->policy_checked) {
			json_object_object_add(obj, "policy", cli_json_string(
					x->e->policy->name));
			json_object_object_add(obj, "rules",
					       json_rules(x, it, &r->retention));
		}
		break;
	case OPS_WHY_GC_WAIT:
		json_object_object_add(obj, "until", cli_json_time(r->wait.until));
		break;
	case OPS_WHY_COLLECTED:
		json_object_object_add(obj, "at", cli_json_time(r->at));
		break;
	default:
		break;
	}
	return obj;
}

static struct json_object *json_item(const struct explain_cli *x,
				     const struct ops_explain_item *it)
{
	struct json_object *obj = json_object_new_object(), *reasons;
	bool whole = obj != NULL;

	if (!obj)
		return NULL;
	json_object_object_add(obj, "type", cli_json_string(
			it->snapshot.id ? "snapshot" : "image"));
	cli_json_add_image(obj, &it->image.spec);
	json_object_object_add(obj, "snapshot", it->snapshot.id
			       ? cli_json_string(it->snapshot.name) : NULL);
	json_object_object_add(obj, "volume", it->image.volume_id
			       ? cli_json_string(volume_name(x, it->image.volume_id))
			       : NULL);
	if (it->snapshot.id) {
		json_object_object_add(obj, "origin",
				       cli_json_string(it->snapshot.origin));
		json_object_object_add(obj, "created",
				       cli_json_time(it->snapshot.created_at));
		json_object_object_add(obj, "policy_time",
				       cli_json_time(it->snapshot.policy_at));
		json_object_object_add(obj, "pinned",
				       json_object_new_boolean(it->snapshot.pinned));
	}
	json_object_object_add(obj, "verdict",
			       cli_json_string(verdict_word(it->verdict)));
	reasons = json_object_new_array();
	json_object_object_add(obj, "reasons", reasons);
	for (size_t r = 0; whole && r < it->reason_count; r++)
		whole = cli_json_append(reasons,
					json_reason(x, it, &it->reasons[r]));
	if (!whole || !reasons) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

static int print_json(const struct explain_cli *x, int64_t only, bool all)
{
	const struct ops_explanation *e = x->e;
	const struct ops_explain_item *op =
		ops_explain_find(e, e->volume.operating_image_id, 0);
	struct json_object *top = json_object_new_object(), *items, *gc,
			   *flattens;
	char subject[SUBJECT_MAX];
	bool whole = top != NULL;
	int rc;

	if (!top)
		return rc_error_set(&x->ctx->err, -ENOMEM, "out of memory");
	json_object_object_add(top, "volume", cli_json_string(e->volume.name));
	json_object_object_add(top, "operating", op
			       ? cli_json_image(&op->image.spec) : NULL);
	json_object_object_add(top, "marked",
			       json_object_new_boolean(e->volume.marked_at != 0));
	json_object_object_add(top, "policy", e->policy
			       ? cli_json_string(e->policy->name) : NULL);
	json_object_object_add(top, "policy_file",
			       cli_json_string(x->policy_path));
	gc = json_object_new_object();
	json_object_object_add(top, "gc", gc);
	if (gc) {
		json_object_object_add(gc, "now", cli_json_time(e->gc.now));
		json_object_object_add(gc, "min_age_seconds",
				       json_object_new_int64(e->gc.min_age));
		json_object_object_add(gc, "trash_delay_seconds",
				       json_object_new_int64(e->gc.trash_delay));
	}
	items = json_object_new_array();
	json_object_object_add(top, "items", items);
	for (size_t k = 0; whole && k < e->count; k++) {
		const struct ops_explain_item *it = &e->items[k];

		if ((only && it->snapshot.id != only) ||
		    (!only && !all && it->verdict == OPS_EXPLAIN_COLLECTED))
			continue;
		whole = cli_json_append(items, json_item(x, it));
	}
	flattens = json_object_new_array();
	json_object_object_add(top, "flattens", flattens);
	for (size_t f = 0; whole && !only && f < e->flatten_count; f++) {
		const struct ops_explain_flatten *fl = &e->flattens[f];
		const struct ops_explain_item *img =
			ops_explain_find(e, fl->image_id, 0);
		struct json_object *one = json_object_new_object(), *frees;

		whole = cli_json_append(flattens, one);
		if (!whole || !img)
			break;
		json_object_object_add(one, "volume", cli_json_string(
				volume_name(x, fl->volume_id)));
		cli_json_add_image(one, &img->image.spec);
		frees = json_object_new_array();
		json_object_object_add(one, "frees", frees);
		for (size_t j = 0; whole && j < fl->count; j++) {
			item_subject(&e->items[fl->items[j]], subject,
				     sizeof(subject));
			whole = cli_json_append(frees, cli_json_string(subject));
		}
	}
	rc = whole && items && flattens
		? cli_json_print(x->ctx, top)
		: rc_error_set(&x->ctx->err, -ENOMEM, "out of memory");
	json_object_put(top);
	return rc;
}

/* ---- the command ---------------------------------------------------------- */

/* The policy file: --policy, else $ROWCAT_POLICY_FILE (empty: none),
 * else the policy timer's file when there is one. *path NULL: none. */
static int load_policy(struct cli_ctx *ctx, const char *given,
		       const char **path, struct policy_file **file)
{
	const char *env = getenv("ROWCAT_POLICY_FILE");

	*path = given ? given : env ? env : POLICY_FILE_DEFAULT;
	*file = NULL;
	if (!(*path)[0] ||
	    (!given && !env && access(POLICY_FILE_DEFAULT, F_OK) != 0)) {
		*path = NULL;
		return 0;
	}
	return policy_cli_load(ctx, *path, file);
}

struct explain_args {
	const char *policy, *min_age, *trash_delay, *now;
	bool all;
};

/* gc's options: the command line's, else the policy file's gc:, else
 * gc's own defaults; --now, else the real clock. */
static int gc_options(struct cli_ctx *ctx, const struct explain_args *a,
		      const struct policy_file *file,
		      struct catalog_gc_options *gc)
{
	int rc = 0;

	gc->now = rc_clock_now();
	gc->min_age = file ? file->gc_min_age : 0;
	gc->trash_delay = file ? file->gc_trash_delay : 0;
	if (a->now && (rc = rc_time_parse_iso(a->now, &gc->now, &ctx->err)) < 0)
		return rc_error_prefix(&ctx->err, "--now: ");
	if ((a->min_age || !file) &&
	    (rc = policy_duration_parse(a->min_age ? a->min_age
				       : CLI_GC_MIN_AGE, &gc->min_age,
				       &ctx->err)) < 0)
		return rc_error_prefix(&ctx->err, "--min-age: ");
	if ((a->trash_delay || !file) &&
	    (rc = policy_duration_parse(a->trash_delay ? a->trash_delay
				       : CLI_GC_TRASH_DELAY, &gc->trash_delay,
				       &ctx->err)) < 0)
		return rc_error_prefix(&ctx->err, "--trash-delay: ");
	return 0;
}

int cmd_explain(struct cli_ctx *ctx, int argc, char **argv)
{
	struct explain_args a = {0};
	struct cli_option options[] = {
		{ 0, "policy", CLI_OPT_STRING, &a.policy, "FILE",
		  "the policy file that says which rule keeps each policy "
		  "snapshot (default $ROWCAT_POLICY_FILE, else "
		  POLICY_FILE_DEFAULT " when it exists)" },
		{ 0, "min-age", CLI_OPT_STRING, &a.min_age, "DURATION",
		  "judge gc's plan with this --min-age (default the policy "
		  "file's gc: min_age, else " CLI_GC_MIN_AGE ")" },
		{ 0, "trash-delay", CLI_OPT_STRING, &a.trash_delay, "DURATION",
		  "judge gc's plan with this --trash-delay (default the policy "
		  "file's gc: trash_delay, else " CLI_GC_TRASH_DELAY ")" },
		{ 0, "now", CLI_OPT_STRING, &a.now, "TIME",
		  "judge gc's plan as it would be at TIME "
		  "(2026-11-25T03:00:00Z; default now)" },
		{ 'a', "all", CLI_OPT_FLAG, &a.all, NULL,
		  "also what gc has collected (removed, purged)" },
		CLI_OPT_FORMAT(ctx),
		CLI_OPT_END,
	};
	struct cli_spec spec = {
		"explain VOL[@SNAP] [--policy FILE] [--min-age DURATION] "
		"[--trash-delay DURATION] [--now TIME] [--all] "
		"[--format plain|json]",
		"Says why each snapshot and image of VOL's tree is kept or would\n"
		"go (or only SNAP): kept by a rule of the volume's policy (which\n"
		"slot), pinned, only 'rowcat rm' removes it (manual, pre-restore,\n"
		"adopted), a clone reads through it (which, and whose), the\n"
		"operating image; or marked by 'rowcat rm' or expired by the\n"
		"policy (which rule let it go), and whether the next gc run\n"
		"collects it or what it waits for, as gc's own plan says; and\n"
		"what flattening the operating image would let gc collect.\n"
		"Foreign ancestors (no volume's own) are never collected. Reads\n"
		"the catalog only; changes nothing.",
		options, 1, 1,
	};
	struct explain_cli x = { .ctx = ctx };
	struct ops_explanation *e = NULL;
	struct policy_file *file = NULL;
	struct catalog_gc_options gc;
	struct catalog_volume volume;
	struct catalog_snapshot snap = {0};
	struct catalog_image operating;
	const char *snap_name = NULL;
	const struct policy *policy = NULL;
	int rc;

	rc = cli_parse(ctx, &spec, argc, argv);
	if (rc < 0 || ctx->help_shown)
		return rc;
	rc = cli_snapshot_arg(ctx, argv[1], NULL, &snap_name);
	if (rc == 0)
		rc = load_policy(ctx, a.policy, &x.policy_path, &file);
	if (rc == 0)
		rc = gc_options(ctx, &a, file, &gc);
	if (rc == 0)
		rc = cli_find_volume(ctx, argv[1], &volume);
	if (rc == 0 && snap_name) {
		rc = catalog_snapshot_find_any(ctx->catalog, volume.id,
					       snap_name, &snap, &ctx->err);
		if (rc == -ENOENT)
			rc = rc_error_set(&ctx->err, -ENOENT, "volume '%s' has "
					  "no snapshot '%s'", volume.name,
					  snap_name);
	}
	if (rc == 0 && file) {
		rc = catalog_image_get(ctx->catalog, volume.operating_image_id,
				       &operating, &ctx->err);
		if (rc == 0)
			policy = policy_match(file, operating.spec.pool,
					      operating.spec.ns, volume.name);
	}
	if (rc == 0)
		rc = ops_explain(&e, ctx->catalog, &volume, policy, &gc,
				 &ctx->err);
	if (rc < 0)
		goto out;
	x.e = e;
	if (snap.id && !ops_explain_find(e, 0, snap.id)) {
		rc = rc_error_set(&ctx->err, -ENOENT, "snapshot '%s' is no "
				  "longer in volume '%s''s tree", snap_name,
				  volume.name);
		goto out;
	}
	if (ctx->format == FORMAT_JSON)
		rc = print_json(&x, snap.id, a.all);
	else
		print_plain(&x, snap.id, a.all);
out:
	ops_explanation_free(e);
	policy_file_free(file);
	return rc;
}
