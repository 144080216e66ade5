/*
 * cli/tree_dot.c: tree --format dot, over lineages built in code (with a
 * foreign ancestor and another volume's image, which only adoption
 * makes), read back as text. test_tree.sh renders its output with dot.
 */
#define _GNU_SOURCE /* open_memstream */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tree_dot.h"

/*
 * Volume 1 ("vol1"), adopted: its root image volume-1 is a clone of
 * glance@snap, a foreign ancestor (no volume's own); its snapshot s1 is
 * cloned by its operating image volume-1.rc1 and by base-child, an image
 * of volume 2 ("other").
 */
struct adopted {
	struct catalog_image images[4];
	int depths[4];
	struct catalog_snapshot snapshots[2];
	struct catalog_lineage lin;
	const char *owners[4];
};

static void image_row(struct catalog_image *img, int64_t id, int64_t volume,
		      const char *name, int64_t parent)
{
	memset(img, 0, sizeof(*img));
	img->id = id;
	img->volume_id = volume;
	snprintf(img->spec.pool, sizeof(img->spec.pool), "rbd");
	snprintf(img->spec.name, sizeof(img->spec.name), "%s", name);
	img->parent_snapshot_id = parent;
	img->created_at = 1000 * id;
}

static void build(struct adopted *a)
{
	memset(a, 0, sizeof(*a));
	image_row(&a->images[0], 1, 0, "glance", 0);
	image_row(&a->images[1], 2, 1, "volume-1", 1);
	image_row(&a->images[2], 3, 1, "volume-1.rc1", 2);
	image_row(&a->images[3], 4, 2, "base-child", 2);
	a->snapshots[0] = (struct catalog_snapshot){ .id = 1, .image_id = 1,
		.name = "snap", .origin = "adopted", .is_protected = true };
	a->snapshots[1] = (struct catalog_snapshot){ .id = 2, .image_id = 2,
		.name = "s1", .origin = "manual", .is_protected = true };
	a->lin.volume.id = 1;
	snprintf(a->lin.volume.name, sizeof(a->lin.volume.name), "vol1");
	a->lin.volume.operating_image_id = 3;
	a->lin.images = a->images;
	a->lin.depths = a->depths;
	a->lin.image_count = 4;
	a->lin.snapshots = a->snapshots;
	a->lin.snapshot_count = 2;
	a->owners[3] = "other";
}

/* The graph as text; the caller frees it. */
static char *draw(const struct tree_dot *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(tree_dot_print(out, d), 0);
	fclose(out);
	return text;
}

/* The line that declares node `name`, or "" when none. */
static const char *node_line(const char *text, const char *name, char *buf,
			     size_t len)
{
	char start[64];
	const char *at, *end;

	snprintf(start, sizeof(start), "\n  %s [", name);
	at = strstr(text, start);
	if (!at)
		return "";
	at += 3;
	end = strchr(at, '\n');
	snprintf(buf, len, "%.*s", (int)(end - at), at);
	return buf;
}

static void test_foreign_nodes_and_the_operating_image_are_styled_apart(
	void **state)
{
	struct adopted a;
	struct tree_dot d;
	char *text, line[1024];

	(void)state;
	build(&a);
	d = (struct tree_dot){ &a.lin, false, a.owners, "volume vol1" };
	text = draw(&d);
	node_line(text, "i1", line, sizeof(line));
	assert_non_null(strstr(line, "foreign ancestor"));
	assert_non_null(strstr(line, "diagonals"));
	node_line(text, "i4", line, sizeof(line));
	assert_non_null(strstr(line, "label=\"rbd/base-child\\nvolume other\""));
	node_line(text, "i3", line, sizeof(line));
	assert_non_null(strstr(line, "operating"));
	assert_non_null(strstr(line, "style=\"filled,bold\""));
	node_line(text, "i2", line, sizeof(line));
	assert_null(strstr(line, "style="));
	/* clone edges from the snapshot each was made of */
	assert_non_null(strstr(text, "\n  s1 -> i2;"));
	assert_non_null(strstr(text, "\n  s2 -> i3;"));
	assert_non_null(strstr(text, "\n  s2 -> i4;"));
	assert_non_null(strstr(text, "subgraph cluster_legend"));
	free(text);
}

static void test_flattened_marked_pinned_and_collected_nodes(void **state)
{
	struct adopted a;
	struct tree_dot d;
	char *text, line[1024];

	(void)state;
	build(&a);
	a.images[2].flattened_at = 5000;
	a.snapshots[0].pinned = true;
	a.snapshots[1].marked_at = 6000;
	d = (struct tree_dot){ &a.lin, false, a.owners, "volume vol1" };
	text = draw(&d);
	assert_non_null(strstr(text, "\n  s2 -> i3 [style=dashed, label=\"flattened\""));
	node_line(text, "s1", line, sizeof(line));
	assert_non_null(strstr(line, "fillcolor=\"#ffe680\""));
	assert_non_null(strstr(line, "pinned"));
	node_line(text, "s2", line, sizeof(line));
	assert_non_null(strstr(line, "style=\"dashed\""));
	assert_non_null(strstr(line, "marked"));
	free(text);

	/* gc moved base-child to the trash: left out unless all */
	a.images[3].removed_at = 7000;
	a.images[3].trash_until = 8000;
	text = draw(&d);
	assert_string_equal(node_line(text, "i4", line, sizeof(line)), "");
	assert_null(strstr(text, "-> i4"));
	free(text);
	d.all = true;
	text = draw(&d);
	node_line(text, "i4", line, sizeof(line));
	assert_non_null(strstr(line, "dotted"));
	assert_non_null(strstr(line, "in trash until 1970-01-01T02:13:20Z"));
	free(text);
}

/* Names are only ever labels, quoted: " and \ escaped, & an entity. */
static void test_every_name_is_quoted_and_escaped(void **state)
{
	struct adopted a;
	struct tree_dot d;
	char *text, line[1024];

	(void)state;
	build(&a);
	snprintf(a.images[2].spec.name, sizeof(a.images[2].spec.name),
		 "a\"b\\c&lt;d{e}->f;g");
	snprintf(a.snapshots[1].name, sizeof(a.snapshots[1].name), "x\"];y\\");
	d = (struct tree_dot){ &a.lin, false, a.owners, "volume \"v\\\"" };
	text = draw(&d);
	node_line(text, "i3", line, sizeof(line));
	assert_non_null(strstr(line, "label=\"rbd/a\\\"b\\\\c&amp;lt;d{e}->f;g\\noperating\""));
	node_line(text, "s2", line, sizeof(line));
	assert_non_null(strstr(line, "label=\"@x\\\"];y\\\\\\nmanual\""));
	assert_non_null(strstr(text, "label=\"volume \\\"v\\\\\\\"\""));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_foreign_nodes_and_the_operating_image_are_styled_apart),
		cmocka_unit_test(test_flattened_marked_pinned_and_collected_nodes),
		cmocka_unit_test(test_every_name_is_quoted_and_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
