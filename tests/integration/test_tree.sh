#!/usr/bin/env bash
# rowcat tree and ls on catalogs written straight into SQLite or by
# lineage_catalog (tests/support): both read the catalog alone, so no
# cluster is needed, and lineages hundreds of generations long cost
# nothing.
. "$(dirname "$0")/lib.sh"

: "${LINEAGE_CATALOG:?LINEAGE_CATALOG must name the lineage_catalog binary}"

test_a_restore_is_a_side_branch_and_the_operating_line_stays_leftmost() {
	make_branching_catalog
	local expected
	expected=$(cat <<'EOT'
volume vol1 (64 MiB)
NAME           DEPTH CREATED              ORIGIN       STATE
* rbd/vol1         0 2026-01-01T00:00:00Z
o @s1                2026-01-01T01:00:00Z manual       protected
|\
| * rbd/vol1.1     1 2026-01-01T01:00:00Z
| o @s2              2026-01-01T02:00:00Z manual       protected
| * rbd/vol1.2     2 2026-01-01T02:00:00Z
| o @pre             2026-01-01T03:00:00Z pre-restore  protected
* rbd/vol1.3       1 2026-01-01T03:00:00Z
o @s3                2026-01-01T04:00:00Z policy:daily protected pinned
* rbd/vol1.4       2 2026-01-01T04:00:00Z              operating
EOT
)
	expect_eq "$expected" "$(LC_ALL=C "$ROWCAT" --catalog "$CATALOG" tree vol1)" "tree under LC_ALL=C"
	# under UTF-8 the same drawing in box-drawing characters
	expected=$(sed -e 's/^\* /● /' -e 's/^o @/○ @/' -e 's/^| \* /| ● /' \
		-e 's/^| o @/| ○ @/' -e 's/^|\\$/├─╮/' -e 's/^| /│ /' <<<"$expected")
	expect_eq "$expected" "$(LC_ALL=C.UTF-8 "$ROWCAT" --catalog "$CATALOG" tree vol1)" \
		"tree under LC_ALL=C.UTF-8"
}

test_json_is_a_flat_list_of_nodes_with_their_parents() {
	make_branching_catalog
	local tree
	tree=$("$ROWCAT" --catalog "$CATALOG" tree vol1 --format json) || fail "tree json"
	expect_eq '{"volume":"vol1","pool":"rbd","pool_namespace":"","size":67108864,"operating":"rbd/vol1.4","depth":2,"snapshots":4,"marked":false}' \
		"$(jq -c 'del(.nodes)' <<<"$tree")" "the volume's fields"
	# the nodes in drawing order, each with its parent's id
	expect_eq "rbd/vol1 - image
rbd/vol1@s1 rbd/vol1 snapshot
rbd/vol1.1 rbd/vol1@s1 image
rbd/vol1.1@s2 rbd/vol1.1 snapshot
rbd/vol1.2 rbd/vol1.1@s2 image
rbd/vol1.2@pre rbd/vol1.2 snapshot
rbd/vol1.3 rbd/vol1@s1 image
rbd/vol1.3@s3 rbd/vol1.3 snapshot
rbd/vol1.4 rbd/vol1.3@s3 image" \
		"$(jq -r '.nodes[] | "\(.id) \(.parent_id // "-") \(.type)"' <<<"$tree")" "nodes"
	expect_eq '{"id":"rbd/vol1.3@s3","parent_id":"rbd/vol1.3","type":"snapshot","pool":"rbd","pool_namespace":"","image":"vol1.3","foreign":false,"volume":"vol1","snapshot":"s3","protected":true,"created":"2026-01-01T04:00:00Z","policy_time":null,"origin":"policy:daily","pinned":true,"marked":false,"removed":false}' \
		"$(jq -c '.nodes[7]' <<<"$tree")" "a snapshot node"
	expect_eq '{"id":"rbd/vol1.4","parent_id":"rbd/vol1.3@s3","type":"image","pool":"rbd","pool_namespace":"","image":"vol1.4","foreign":false,"volume":"vol1","depth":2,"created":"2026-01-01T04:00:00Z","operating":true,"flattened":false,"in_trash":false,"trash_until":null,"purged":false}' \
		"$(jq -c '.nodes[8]' <<<"$tree")" "an image node"
	# ls prints the same keys for the same volume
	expect_eq "$(jq -c 'del(.nodes)' <<<"$tree")" \
		"$("$ROWCAT" --catalog "$CATALOG" ls --format json | jq -c '.[0]')" "ls --format json"
	expect_eq "vol1 rbd 64 MiB rbd/vol1.4 2 4" \
		"$("$ROWCAT" --catalog "$CATALOG" ls | sed -n 2p | tr -s ' ')" "ls row"
}

# After a flatten, gc collects the ancestors the flattened image no longer
# reads; a pin keeps s1 and what it reads through (vol1).
make_collected_catalog() {
	make_branching_catalog
	sqlite3 "$CATALOG" "
	BEGIN;
	UPDATE image SET flattened_at = 1767243600 WHERE id = 5;
	UPDATE snapshot SET pinned = 0 WHERE id = 4;
	UPDATE snapshot SET pinned = 1 WHERE id = 1;
	UPDATE image SET removed_at = 1767247200, trash_until = 1767333600, purged_at = 1767333700 WHERE id IN (2, 3);
	UPDATE snapshot SET removed_at = 1767333600, marked_at = 1767243600 WHERE id IN (2, 3);
	UPDATE image SET removed_at = 1767247200, trash_until = 1767333600 WHERE id = 4;
	COMMIT;" || fail "collecting"
}

test_what_gc_collected_is_left_out_unless_all() {
	make_collected_catalog
	local expected
	expected=$(cat <<'EOT'
volume vol1 (64 MiB)
NAME          DEPTH CREATED              ORIGIN STATE
* rbd/vol1        0 2026-01-01T00:00:00Z
o @s1               2026-01-01T01:00:00Z manual protected pinned
~ 2 collected
* rbd/vol1.4      0 2026-01-01T04:00:00Z        operating flattened
EOT
)
	expect_eq "$expected" "$(LC_ALL=C "$ROWCAT" --catalog "$CATALOG" tree vol1)" "tree"
	expect_eq "rbd/vol1 rbd/vol1@s1 rbd/vol1.4" \
		"$("$ROWCAT" --catalog "$CATALOG" tree vol1 --format json | jq -r '[.nodes[].id] | join(" ")')" \
		"tree --format json"
	# --all draws everything, in the trash and purged
	expected=$(cat <<'EOT'
volume vol1 (64 MiB)
NAME           DEPTH CREATED              ORIGIN       STATE
* rbd/vol1         0 2026-01-01T00:00:00Z
o @s1                2026-01-01T01:00:00Z manual       protected pinned
|\
| * rbd/vol1.1     1 2026-01-01T01:00:00Z              purged
| o @s2              2026-01-01T02:00:00Z manual       protected marked removed
| * rbd/vol1.2     2 2026-01-01T02:00:00Z              purged
| o @pre             2026-01-01T03:00:00Z pre-restore  protected marked removed
* rbd/vol1.3       1 2026-01-01T03:00:00Z              in trash until 2026-01-02T06:00:00Z
o @s3                2026-01-01T04:00:00Z policy:daily protected
* rbd/vol1.4       0 2026-01-01T04:00:00Z              operating flattened
EOT
)
	expect_eq "$expected" "$(LC_ALL=C "$ROWCAT" --catalog "$CATALOG" tree vol1 --all)" "tree --all"
	expect_eq "9 2 1" "$("$ROWCAT" --catalog "$CATALOG" tree vol1 --all --format json |
		jq -r '[(.nodes | length), ([.nodes[] | select(.purged)] | length),
			([.nodes[] | select(.in_trash)] | length)] | join(" ")')" "tree --all --format json"
	# a volume gc collected whole: the title says so
	sqlite3 "$CATALOG" "BEGIN;
	UPDATE volume SET marked_at = 1767340000;
	UPDATE image SET removed_at = 1767340000, trash_until = 1767340000,
		purged_at = 1767340000 WHERE purged_at IS NULL;
	UPDATE snapshot SET removed_at = 1767340000 WHERE removed_at IS NULL;
	COMMIT;" || fail "collecting all"
	expect_eq "volume vol1 (64 MiB)  marked for collection  all collected: --all draws it" \
		"$("$ROWCAT" --catalog "$CATALOG" tree vol1)" "tree of a volume collected whole"
	expect_eq "0 9" "$("$ROWCAT" --catalog "$CATALOG" tree vol1 --format json | jq '.nodes | length') $(
		"$ROWCAT" --catalog "$CATALOG" tree vol1 --all --format json | jq '.nodes | length')" \
		"its nodes, without and with --all"
}

# lines_wider_than COLUMNS: the lines of stdin wider than COLUMNS
# characters (UTF-8), each with its width.
lines_wider_than() {
	LC_ALL=C.UTF-8 awk -v max="$1" '{ w = length($0) } w > max { print w ": " $0 }'
}

test_a_100_generation_lineage_fits_in_100_columns() {
	"$LINEAGE_CATALOG" "$CATALOG" 100 10 || fail "lineage_catalog"
	local v out_c out_utf8
	for v in vol000000 forked; do
		out_c=$(LC_ALL=C "$ROWCAT" --catalog "$CATALOG" tree "$v") || fail "tree $v"
		out_utf8=$(LC_ALL=C.UTF-8 "$ROWCAT" --catalog "$CATALOG" tree "$v") || fail "tree $v"
		# gawk counts characters; mawk, bytes: a line of box drawing
		# would seem wider, never narrower
		expect_eq "" "$(lines_wider_than 100 <<<"$out_c")" "$v's lines over 100 columns (C)"
		expect_eq "" "$(lines_wider_than 100 <<<"$out_utf8")" "$v's lines over 100 columns (UTF-8)"
		# LC_ALL=C is pure ASCII; UTF-8 draws with box-drawing characters
		expect_eq 0 "$(LC_ALL=C tr -d '\000-\177' <<<"$out_c" | wc -c)" "$v: bytes beyond ASCII under LC_ALL=C"
		expect_eq $(($(wc -l <<<"$out_c") - 2)) \
			"$(LC_ALL=C.UTF-8 grep -c '^[│●○├]' <<<"$out_utf8")" \
			"$v: UTF-8 lines under the title and headings that start with box drawing"
		# 100 images and 99 snapshots, one a line
		expect_eq 199 "$(grep -c '^\(| \)*[*o] ' <<<"$out_c")" "$v: node lines"
	done
	# the straight chain runs down the first column
	expect_eq 199 "$(grep -c '^[*o] ' <<<"$(LC_ALL=C "$ROWCAT" --catalog "$CATALOG" tree vol000000)")" \
		"vol000000's nodes in the first column"
	# a restore every 10 generations, 9 in 100, each of the snapshot 5
	# generations back: the line it leaves (5 images, 4 snapshots and
	# the pre-restore one) is a side branch in the second column
	expect_eq 9 "$(grep -c '^|\\$' <<<"$out_c")" "forked's forks"
	expect_eq 90 "$(grep -c '^| [*o] ' <<<"$out_c")" "forked's nodes in the second column"
	expect_eq 0 "$(grep -c '^| | ' <<<"$out_c")" "forked's lines in the third column"
	# depth: 5 more a restore, 1 a snap since: 45 + 9
	expect_eq "* rbd/forked.g0099 54 2026-01-05T03:00:00Z operating" \
		"$(tail -1 <<<"$out_c" | tr -s ' ')" "the operating image ends the drawing"
}

test_jq_follows_200_generations_by_parent_ids() {
	"$LINEAGE_CATALOG" "$CATALOG" 200 10 || fail "lineage_catalog"
	local v tree
	for v in vol000000 forked; do
		tree=$("$ROWCAT" --catalog "$CATALOG" tree "$v" --format json) || fail "tree $v"
		expect_eq "200 images, 199 snapshots" "$(jq -r '
			"\([.nodes[] | select(.type == "image")] | length) images, \([.nodes[] | select(.type == "snapshot")] | length) snapshots"' \
			<<<"$tree")" "$v: the nodes jq reads"
		# every parent is a node of the list, and one node is the root
		expect_eq "0 1" "$(jq -r '(.nodes | map({key: .id, value: true}) | from_entries) as $ids |
			"\([.nodes[] | .parent_id // empty | select($ids[.] | not)] | length) \([.nodes[] | select(.parent_id == null)] | length)"' \
			<<<"$tree")" "$v: parents missing, and roots"
	done
	# the straight chain: from the operating image up to the root by
	# parent_id, all 200 generations (jq 1.6 stops parsing at 256 levels)
	tree=$("$ROWCAT" --catalog "$CATALOG" tree vol000000 --format json)
	expect_eq "399 nodes, 200 images, from rbd/vol000000.g0199 to rbd/vol000000" "$(jq -r '
		(.nodes | map({key: .id, value: .}) | from_entries) as $by_id |
		[.operating | recurse($by_id[.].parent_id // empty)] as $up |
		"\($up | length) nodes, \([$up[] | select($by_id[.].type == "image")] | length) images, from \($up[0]) to \($up[-1])"' \
		<<<"$tree")" "vol000000: up from the operating image"
}

test_columns_raw_and_noheadings() {
	make_branching_catalog
	expect_eq "rbd/vol1@s1 snapshot rbd/vol1
rbd/vol1.1@s2 snapshot rbd/vol1.1
rbd/vol1.2@pre snapshot rbd/vol1.2
rbd/vol1.3@s3 snapshot rbd/vol1.3" \
		"$("$ROWCAT" --catalog "$CATALOG" tree vol1 --raw --noheadings -o id,type,parent | grep ' snapshot ')" \
		"tree --raw -o ID,TYPE,PARENT"
	# raw: no title, no graph, unsafe bytes escaped
	expect_eq "NAME DEPTH CREATED ORIGIN STATE
rbd/vol1 0 2026-01-01T00:00:00Z  " \
		"$("$ROWCAT" --catalog "$CATALOG" tree vol1 --raw | head -2)" "tree --raw"
	expect_eq "NAME           TYPE     STATE" \
		"$("$ROWCAT" --catalog "$CATALOG" tree vol1 -o name,type,state | sed -n 2p)" "tree -o"
	expect_eq "NAME           DEPTH CREATED              ORIGIN       STATE            POLICY-TIME" \
		"$("$ROWCAT" --catalog "$CATALOG" tree vol1 -o +POLICY-TIME | sed -n 2p)" "tree -o +COLUMN"
	expect_eq "vol1 67108864" "$("$ROWCAT" --catalog "$CATALOG" ls --noheadings -o volume,bytes | tr -s ' ')" \
		"ls --noheadings -o"
	expect_eq "VOLUME POOL SIZE OPERATING DEPTH SNAPSHOTS STATE
vol1 rbd 64\\x20MiB rbd/vol1.4 2 4 " "$("$ROWCAT" --catalog "$CATALOG" ls --raw)" "ls --raw"
	# --help lists the columns from their declaration
	run "$ROWCAT" tree --help
	expect_contains "$out" "  * DEPTH        an image's clone depth" "tree --help lists DEPTH"
	expect_contains "$out" "    PARENT       the ID of the node" "tree --help lists PARENT"
	run "$ROWCAT" ls --help
	expect_contains "$out" "    BYTES        its size in bytes" "ls --help lists BYTES"
	expect_refused 2 "unknown column 'SIZE' for --output" \
		"$ROWCAT" --catalog "$CATALOG" tree vol1 -o NAME,SIZE
	expect_refused 2 "column NAME is printed already" \
		"$ROWCAT" --catalog "$CATALOG" tree vol1 -o +name
	expect_refused 2 "--format json prints every field" \
		"$ROWCAT" --catalog "$CATALOG" ls --raw --format json
}

# --format dot renders with Graphviz's dot whatever the names hold: each
# image and snapshot is a node with its name, the operating image filled.
test_dot_renders_every_node_whatever_its_name() {
	make_branching_catalog
	local hostile='vol1.2"<a&b>\c{d};e->f&lt;' snap='s"2&<\'
	# another volume's adopted image, cloned from vol1's snapshot s1 (as
	# adopt --pool records a chain that two volumes share): drawn in its
	# own volume's tree, where vol1's images are the ones it reads through
	catalog_sql "
	UPDATE image SET name = '${hostile//\'/\'\'}' WHERE id = 3;
	UPDATE snapshot SET name = '${snap//\'/\'\'}' WHERE id = 2;
	UPDATE snapshot SET marked_at = 1767243600 WHERE id = 3;
	INSERT INTO volume (id, name, size, created_at) VALUES (2, 'other', 67108864, 1767240000);
	INSERT INTO image (id, volume_id, pool, name, parent_snapshot_id, created_at, adopted_at) VALUES (6, 2, 'rbd', 'other', 1, 1767240000, 1767240000);
	UPDATE volume SET operating_image_id = 6 WHERE id = 2;" || fail "naming"
	"$ROWCAT" --catalog "$CATALOG" tree vol1 --format dot >graph.dot || fail "tree --format dot"
	dot -Tsvg graph.dot >graph.svg || fail "dot -Tsvg: $(cat graph.dot)"
	local nodes; nodes=$(svg_nodes graph.svg) || fail "the SVG is not well-formed"
	local name
	for name in rbd/vol1 rbd/vol1.1 "rbd/$hostile" rbd/vol1.3 rbd/vol1.4 \
		@s1 "@$snap" @pre @s3; do
		grep -qxF -- "$name" <(cut -f2 <<<"$nodes" | cut -d'|' -f1) ||
			fail "no node '$name' in: $nodes"
	done
	expect_eq "#bfdcff" "$(grep -F "	rbd/vol1.4|operating" <<<"$nodes" | cut -f1)" \
		"the operating image's fill"
	expect_eq "#ffe680" "$(grep -F "	@s3|" <<<"$nodes" | cut -f1)" "the pinned snapshot's fill"
	grep -q '^  s3 \[.*style="dashed"' graph.dot || fail "the marked snapshot is not dashed: $(grep '^  s3' graph.dot)"
	# one node per image and snapshot, the legend's apart
	expect_eq 9 "$(grep -c '^  [is][0-9]* \[' graph.dot)" "nodes"
	"$ROWCAT" --catalog "$CATALOG" tree other --format dot >other.dot ||
		fail "tree other --format dot"
	dot -Tsvg other.dot >other.svg || fail "dot -Tsvg: $(cat other.dot)"
	nodes=$(svg_nodes other.svg) || fail "other's SVG is not well-formed"
	expect_eq "#efe0f5	rbd/vol1|volume vol1" "$(grep -F "	rbd/vol1|" <<<"$nodes")" \
		"another volume's image it reads through"
	expect_eq "#bfdcff" "$(grep -F "	rbd/other|operating" <<<"$nodes" | cut -f1)" \
		"the other volume's operating image"
	expect_refused 2 "--format dot: 'rowcat ls' draws no graph" "$ROWCAT" --catalog "$CATALOG" ls --format dot
	expect_refused 2 "--format must be plain, json or dot, not 'svg'" \
		"$ROWCAT" --catalog "$CATALOG" tree vol1 --format svg
}

run_tests
