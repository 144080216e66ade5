#!/usr/bin/env bash
# rowcat benchmarks: one entry command.
#
#   bench/run.sh            full run; prints a Markdown report to stdout
#   bench/run.sh --quick    small sizes, few repetitions: checks that the
#                           harness and every command it times work (CI);
#                           asserts outputs, never timings
#   --build DIR             use an existing build instead of building
#                           bench's own Release build in build-bench/
#
# Times are medians of repeated runs of the real rowcat binary; peak memory
# is GNU time's maximum resident set size.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
quick=0
build=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--build) build=$2; shift ;;
	*) echo "bench: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

say() { echo "bench: $*" >&2; }

if [ -z "$build" ]; then
	build=$top/build-bench
	cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release \
		-DROWCAT_TESTS=OFF >/dev/null
	cmake --build "$build" -j"$(nproc)" >/dev/null
fi
rowcat=$build/cli/rowcat
bench_catalog=$build/bench/bench_catalog
work=$(mktemp -d "${TMPDIR:-/tmp}/rowcat-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# median_ms REPS CMD... : runs CMD REPS times (output discarded), prints the
# median wall time in milliseconds.
median_ms() {
	local reps=$1; shift
	local times=() start end
	for _ in $(seq "$reps"); do
		start=$(date +%s%N)
		"$@" >/dev/null
		end=$(date +%s%N)
		times+=($(( (end - start) / 1000 )))
	done
	printf '%s\n' "${times[@]}" | sort -n |
		awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m / 1000 }'
}

# peak_mib CMD... : the peak resident memory of one run of CMD, in MiB.
peak_mib() {
	/usr/bin/time -f '%M' -o "$work/time.out" "$@" >/dev/null
	awk '{ printf "%.1f\n", $1 / 1024 }' "$work/time.out"
}

row_catalog() {
	local volumes=10000 generations=100 reps=11
	[ "$quick" = 1 ] && volumes=200 generations=100 reps=3
	local db=$work/catalog.db mid
	mid=$(printf 'vol%06d' $((volumes / 2)))

	say "catalog: generating $volumes volumes x $generations generations"
	local gen_s
	gen_s=$("$bench_catalog" gen "$db" "$volumes" "$generations" | awk '/gen_seconds/ { print $2 }')

	# The harness checks what it times: a wrong answer fails the run.
	local images
	# (jq refuses JSON nested over 256 levels; a tree nests 4 per generation)
	images=$("$rowcat" --catalog "$db" tree "$mid" --format json | python3 -c '
import json, sys
sys.setrecursionlimit(100000)
def count(node):
    return 1 + sum(count(c) for s in node["snapshots"] for c in s["children"])
print(count(json.load(sys.stdin)["root"]))')
	[ "$images" = "$generations" ] || { say "tree printed $images images, expected $generations"; exit 1; }
	local listed
	listed=$("$rowcat" --catalog "$db" ls | wc -l)
	[ "$listed" = $((volumes + 1)) ] || { say "ls printed $listed lines"; exit 1; }

	local start_ms tree_ms tree_plain_ms ls_ms ls_json_ms tree_mib ls_mib q
	start_ms=$(median_ms "$reps" "$rowcat" --version)
	tree_ms=$(median_ms "$reps" "$rowcat" --catalog "$db" tree "$mid" --format json)
	tree_plain_ms=$(median_ms "$reps" "$rowcat" --catalog "$db" tree "$mid")
	ls_ms=$(median_ms "$reps" "$rowcat" --catalog "$db" ls)
	ls_json_ms=$(median_ms "$reps" "$rowcat" --catalog "$db" ls --format json)
	tree_mib=$(peak_mib "$rowcat" --catalog "$db" tree "$mid" --format json)
	ls_mib=$(peak_mib "$rowcat" --catalog "$db" ls)
	q=$("$bench_catalog" queries "$db" "$volumes" 101)

	cat <<EOT
### 1. Catalog at scale (no cluster)

$volumes volumes x $generations generations = $((volumes * generations)) images
and $((volumes * (generations - 1))) snapshots; catalog file
$(du -m "$db" | cut -f1) MiB, generated in ${gen_s} s. Medians of $reps runs
of the rowcat binary (process start, catalog open and output included).

| what | median | peak RSS |
|---|---|---|
| \`rowcat --version\` (process start alone: librados and librbd load) | ${start_ms} ms | |
| \`rowcat tree $mid --format json\` | ${tree_ms} ms | ${tree_mib} MiB |
| \`rowcat tree $mid\` (plain) | ${tree_plain_ms} ms | |
| \`rowcat ls\` (all $volumes volumes, with depth) | ${ls_ms} ms | ${ls_mib} MiB |
| \`rowcat ls --format json\` | ${ls_json_ms} ms | |
| depth query of an operating image (in process) | $(awk '/depth_query/ { print $2 }' <<<"$q") µs | |
| lineage load of one volume (in process) | $(awk '/lineage_load/ { print $2 }' <<<"$q") µs | |

EOT
}

cat <<EOT
# rowcat benchmark results

- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
- machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB, $(uname -srm)
- rowcat: $("$rowcat" --version)
- mode: $([ "$quick" = 1 ] && echo quick || echo full)
- command: \`bench/run.sh$([ "$quick" = 1 ] && echo " --quick")\`

EOT
row_catalog
