# Row 1: the catalog at scale, no cluster (sourced by bench/run.sh).

row_catalog() {
	local volumes=10000 generations=100 removed=100 reps=11
	[ "$quick" = 1 ] && volumes=200 removed=2 reps=3
	local db=$work/scale.db mid gen_s images listed steps q
	mid=$(printf 'vol%06d' $((volumes / 2)))
	# no cluster: any attempt to reach one would fail the run
	local -x CEPH_CONF=/nonexistent
	local scale=("$rowcat" --catalog "$db")

	say "row 1: catalog of $volumes volumes x $generations generations"
	gen_s=$("$bench_catalog" gen "$db" "$volumes" "$generations" | awk '/gen_seconds/ { print $2 }')
	local depth_us lineage_us queries_mib
	q=$("$bench_catalog" queries "$db" "$volumes" 101)
	depth_us=$(awk '/depth_query/ { print $2 }' <<<"$q")
	lineage_us=$(awk '/lineage_load/ { print $2 }' <<<"$q")
	[ -n "$depth_us" ] && [ -n "$lineage_us" ] || bench_fail "bench_catalog queries: $q"
	queries_mib=$(peak_mib "$bench_catalog" queries "$db" "$volumes" 101)
	# the gc plan has work: some volumes removed, their chains garbage
	for v in $(seq 1 "$removed"); do "${scale[@]}" -q rm "$(printf 'vol%06d' "$v")" ||
		bench_fail "rm of a synthetic volume"; done

	# The harness checks what it times: a wrong answer fails the run.
	# (jq refuses JSON nested over 256 levels; a tree nests 4 per generation)
	images=$("${scale[@]}" tree "$mid" --format json | python3 -c '
import json, sys
sys.setrecursionlimit(100000)
def count(node):
    return 1 + sum(count(c) for s in node["snapshots"] for c in s["children"])
print(count(json.load(sys.stdin)["root"]))')
	[ "$images" = "$generations" ] || bench_fail "tree printed $images images, expected $generations"
	listed=$("${scale[@]}" ls | wc -l)
	[ "$listed" = $((volumes + 1)) ] || bench_fail "ls printed $listed lines"
	steps=$("${scale[@]}" gc --dry-run --min-age 0s --format json | jq length)
	[ "$steps" = $((removed * generations)) ] ||
		bench_fail "the gc plan has $steps steps, expected one per image of the removed volumes"
	local start_ms start_mib tree_json_ms tree_json_mib tree_plain_ms \
		tree_plain_mib ls_ms ls_mib gc_ms gc_mib
	start_ms=$(median_ms "$reps" "$rowcat" --version)
	start_mib=$(peak_mib "$rowcat" --version)
	tree_json_ms=$(median_ms "$reps" "${scale[@]}" tree "$mid" --format json)
	tree_json_mib=$(peak_mib "${scale[@]}" tree "$mid" --format json)
	tree_plain_ms=$(median_ms "$reps" "${scale[@]}" tree "$mid")
	tree_plain_mib=$(peak_mib "${scale[@]}" tree "$mid")
	ls_ms=$(median_ms "$reps" "${scale[@]}" ls)
	ls_mib=$(peak_mib "${scale[@]}" ls)
	gc_ms=$(median_ms "$reps" "${scale[@]}" gc --dry-run --min-age 0s)
	gc_mib=$(peak_mib "${scale[@]}" gc --dry-run --min-age 0s)

	cat <<EOT
## 1. Catalog at scale (no cluster)

$volumes volumes x $generations generations = $((volumes * generations)) images
and $((volumes * (generations - 1))) snapshots, $removed volumes removed (\`rowcat rm\`);
catalog file $(du -m "$db" | cut -f1) MiB, generated in ${gen_s} s. Medians of
$reps runs of the rowcat binary (process start, catalog open and output
included); peak memory is GNU time's maximum resident set size of one run.

| what | median | peak RSS |
|---|---|---|
| \`rowcat --version\` (process start alone: librados and librbd load) | ${start_ms} ms | ${start_mib} MiB |
| \`rowcat tree $mid --format json\` | ${tree_json_ms} ms | ${tree_json_mib} MiB |
| \`rowcat tree $mid\` (plain) | ${tree_plain_ms} ms | ${tree_plain_mib} MiB |
| \`rowcat ls\` (all $volumes volumes, with depth; removed ones are listed as marked until gc) | ${ls_ms} ms | ${ls_mib} MiB |
| \`rowcat gc --dry-run --min-age 0s\` (the plan: $steps steps) | ${gc_ms} ms | ${gc_mib} MiB |
| depth query of an operating image (in process; median over 101 volumes) | ${depth_us} µs | see note |
| lineage load of one volume (in process; median over 101 volumes) | ${lineage_us} µs | see note |

The in-process figures come from \`bench/bench_catalog queries\`, one
process for all 202 queries: its peak RSS, ${queries_mib} MiB, bounds theirs.

EOT
}
