#!/usr/bin/env bash
# rowcat benchmarks: one entry command.
#
#   bench/run.sh            the full run (about 100 min on 2 cores): starts
#                           its own throwaway cluster (one bluestore OSD on
#                           a sparse file, Ceph's default proposal
#                           interval), prints a Markdown report to stdout
#   bench/run.sh --quick    small sizes, few repetitions: checks that the
#                           harness and every command it times work (CI);
#                           asserts outputs, never timings
#   --build DIR             use an existing build instead of building
#                           bench's own Release build in build-bench/
#   --rows LIST             only these rows, e.g. 1,3 (default all: 1-11;
#                           6 includes 6b, which runs alone as --rows 6b)
#
# With ROWCAT_TEST_CLUSTER set (ctest's fixture), rows use that cluster
# and leave its settings alone; otherwise the run starts its own and
# stops it at the end. Needs fio and jq (tests/cluster/install-deps.sh);
# row 8 boots a guest with tests/vm/vm.sh (QEMU, Debian's kernel); row 9
# puts a catalog in RADOS (libsqlite3-mod-ceph) and times it with sqlite3;
# row 10 builds a volume of 100 generations and measures it with rowcat du
# and rbd du.
# row 11 plots with gnuplot into bench/row11-workload.svg (full mode);
# BENCH_ROW11_SEGMENT=S sets its fio segment (default 8 s): the writes
# between two snapshots.
set -euo pipefail
shopt -s inherit_errexit

top=$(cd "$(dirname "$0")/.." && pwd)
quick=0
build=""
rows=1,2,3,4,5,6,7,8,9,10,11
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
for row in catalog lineage snap volumes datapath depth gc live catalog_rados du workload; do
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
	# row 8's guest, when a failure left it running
	if [ -s "$work/vm/qemu.pid" ]; then
		bash "$top/tests/vm/vm.sh" stop "$work/vm" >/dev/null 2>&1 || true
	fi
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

build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
ceph_version=$(ceph --version | awk '{ print $3, $5 }')
fio_version=$(fio --version)
# (--version names the libraries on lines of their own: one line here)
rowcat_version=$("$rowcat" --version | paste -sd, - | sed 's/,/, /g')
command=bench/run.sh mode=full
[ "$quick" = 1 ] && mode=quick
[ "$quick" = 1 ] && command+=" --quick"
[ "$rows" = 1,2,3,4,5,6,7,8,9,10,11 ] || command+=" --rows $rows"
cat <<EOT
# rowcat benchmark results

- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
- machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB, $(uname -srm)
- rowcat: $rowcat_version (${build_type:-default} build)
- Ceph: $ceph_version, ${fio_version/-/ }
- cluster: ${cluster_text:-none (row 1 only)}
- mode: $mode
- command: \`$command\`

EOT
# (a row runs outside any && list, so that set -e holds inside it)
if wants 1; then row_catalog; fi
if wants 2; then row_lineage; fi
if wants 3; then row_snap; fi
if wants 4; then row_volumes; fi
if wants 5; then row_datapath; fi
if wants 6; then row_depth; fi
if wants 6 || wants 6b; then row_depth_ops; fi
if wants 7; then row_gc; fi
if wants 8; then row_live; fi
if wants 9; then row_catalog_rados; fi
if wants 10; then row_du; fi
if wants 11; then row_workload; fi
say "done"
