#!/usr/bin/env bash
# rowcat benchmarks: one entry command.
#
#   bench/run.sh            the full run (about an hour on 2 cores): starts
#                           its own throwaway cluster (one bluestore OSD on
#                           a sparse file, Ceph's default proposal
#                           interval), prints a Markdown report to stdout
#   bench/run.sh --quick    small sizes, few repetitions: checks that the
#                           harness and every command it times work (CI);
#                           asserts outputs, never timings
#   --build DIR             use an existing build instead of building
#                           bench's own Release build in build-bench/
#   --rows LIST             only these rows, e.g. 1,3 (default all: 1-7)
#
# With ROWCAT_TEST_CLUSTER set (ctest's fixture), rows use that cluster
# and leave its settings alone; otherwise the run starts its own and
# stops it at the end. Needs fio and jq (tests/cluster/install-deps.sh).
set -euo pipefail
shopt -s inherit_errexit

top=$(cd "$(dirname "$0")/.." && pwd)
quick=0
build=""
rows=1,2,3,4,5,6,7
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--build) build=$2; shift ;;
	--rows) rows=$2; shift ;;
	*) echo "bench: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
for row in catalog lineage snap volumes datapath depth gc; do
	# shellcheck disable=SC1090
	. "$top/bench/row_$row.sh"
done

if [ -z "$build" ]; then
	build=$top/build-bench
	cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release \
		-DROWCAT_TESTS=OFF >/dev/null
	cmake --build "$build" -j"$(nproc)" >/dev/null
fi
rowcat=$build/cli/rowcat
bench_catalog=$build/bench/bench_catalog
bench_rbd=$build/bench/bench_rbd
features=layering,exclusive-lock,object-map,fast-diff,deep-flatten
work=$(mktemp -d "${TMPDIR:-/tmp}/rowcat-bench.XXXXXX")
run_id=${work##*.}
own_cluster=0

finish() {
	local status=$?
	if [ "$own_cluster" = 1 ]; then
		bash "$top/tests/cluster/ceph-cluster.sh" stop "$work/cluster" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
	exit $status
}
trap finish EXIT

wants() { [[ ",$rows," == *",$1,"* ]]; }

if [ "$rows" != 1 ]; then
	if [ -n "${ROWCAT_TEST_CLUSTER:-}" ]; then
		# shellcheck disable=SC1091
		. "$ROWCAT_TEST_CLUSTER/env"
		cluster_text="borrowed: $ROWCAT_TEST_CLUSTER (ctest's fixture)"
	else
		say "starting a throwaway cluster (bluestore on a sparse file)"
		ROWCAT_TEST_OBJECTSTORE=bluestore ROWCAT_TEST_PAXOS_DEFAULT=1 \
			bash "$top/tests/cluster/ceph-cluster.sh" start "$work/cluster" >/dev/null
		own_cluster=1
		# shellcheck disable=SC1091
		. "$work/cluster/env"
		cluster_text="one monitor, one OSD (bluestore on a 30 GiB sparse file in the run's work directory), size 1, 8 PGs per pool; tests/cluster/ceph-cluster.sh with ROWCAT_TEST_OBJECTSTORE=bluestore ROWCAT_TEST_PAXOS_DEFAULT=1"
	fi
	rc init || bench_fail "rowcat init"
fi

cat <<EOT
# rowcat benchmark results

- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
- machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB, $(uname -srm)
- rowcat: $("$rowcat" --version) (Release build)
- Ceph: $(ceph --version 2>/dev/null | awk '{ print $3, $5 }'), fio $(fio --version | sed 's/^fio-//')
- cluster: ${cluster_text:-none (row 1 only)}
- mode: $([ "$quick" = 1 ] && echo quick || echo full)
- command: \`bench/run.sh$([ "$quick" = 1 ] && echo " --quick")$([ "$rows" = 1,2,3,4,5,6,7 ] || echo " --rows $rows")\`

EOT
wants 1 && row_catalog
wants 2 && row_lineage
wants 3 && row_snap
wants 4 && row_volumes
wants 5 && row_datapath
wants 6 && row_depth
wants 7 && row_gc
say "done"
