# Shared by bench/run.sh and its rows: sourced, never run.
#
# Every timed command is checked: a command that fails, or a harness
# check that does not hold, stops the run (bench_fail). Nothing here
# asserts a timing.

say() { echo "bench: $*" >&2; }
bench_fail() { say "FAILED: $*"; exit 1; }

# median: the median of the numbers on stdin, one per line; anything but
# numbers (an empty field of a failed measurement) stops the run.
median() {
	sort -g | awk '$1 !~ /^[0-9]+(\.[0-9]+)?$/ { bad = 1 } { v[NR] = $1 } END {
		if (NR == 0 || bad) exit 1
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f\n", m }'
}

# ratio A B: A / B to two places.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a / b }'; }

# time_ms CMD... : runs CMD once (output discarded) and prints its wall
# time in milliseconds; stops the run if CMD fails. The clock is bash's
# own, so no process of the harness's is started inside the interval.
time_ms() {
	local start end
	start=$EPOCHREALTIME
	"$@" >/dev/null 2>"$work/cmd.err" || bench_fail "$* exited $?: $(cat "$work/cmd.err")"
	end=$EPOCHREALTIME
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", (e - s) * 1000 }'
}

# time_gnu FORMAT CMD... : "MS FIELDS", the wall time of one run of CMD
# in milliseconds (bash's clock, as time_ms) and what GNU time's FORMAT
# says of it ('%M' the peak RSS in KiB, '%U %S' the CPU in seconds).
time_gnu() {
	local format=$1 start end
	shift
	start=$EPOCHREALTIME
	/usr/bin/time -f "$format" -o "$work/time.out" "$@" >/dev/null 2>"$work/cmd.err" ||
		bench_fail "$* exited $?: $(cat "$work/cmd.err")"
	end=$EPOCHREALTIME
	awk -v s="$start" -v e="$end" -v t="$(tail -n 1 "$work/time.out")" \
		'BEGIN { printf "%.1f %s\n", (e - s) * 1000, t }'
}

# median_ms REPS CMD... : the median of REPS runs of time_ms CMD.
median_ms() {
	local reps=$1 i
	shift
	for i in $(seq "$reps"); do time_ms "$@"; done | median
}

# peak_mib CMD... : the peak resident memory of one run of CMD, in MiB.
peak_mib() {
	/usr/bin/time -f '%M' -o "$work/time.out" "$@" >/dev/null ||
		bench_fail "$* exited $?"
	awk '{ printf "%.1f\n", $1 / 1024 }' "$work/time.out"
}

# rc ARGS... : rowcat on the bench's catalog, as client.admin, quiet.
rc() { "$rowcat" --catalog "$work/catalog.db" -q "$@"; }

# paxos VALUE : sets the monitor's paxos_propose_interval, on a cluster
# this run started; on a borrowed cluster (quick mode in ctest) it leaves
# the setting alone. paxos_setting prints what the monitor has now.
paxos() {
	[ "$own_cluster" = 1 ] || return 0
	ceph tell mon.a config set paxos_propose_interval "$1" >/dev/null ||
		bench_fail "setting paxos_propose_interval"
}
paxos_setting() {
	ceph tell mon.a config get paxos_propose_interval -f json |
		python3 -c 'import json, sys; print("%g s" % float(json.load(sys.stdin)["paxos_propose_interval"]))'
}

# namespace NAME : a fresh RBD namespace rbd/NAME-RUN for one row's images,
# so a borrowed cluster's other images never meet the bench's. (Rows 5 and
# 6 cannot use one: fio's rbd engine has no namespace option; their image
# names carry the run's id instead.)
namespace() {
	local ns="$1$run_id"
	rbd namespace create "rbd/$ns" || bench_fail "rbd namespace create rbd/$ns"
	echo "rbd/$ns"
}

# fio_json FILE RBDNAME ARGS... : fio's rbd engine on rbd/RBDNAME (the
# default namespace: fio 3.33's engine has no namespace option), 4 KiB
# blocks at iodepth 16 unless ARGS say otherwise; JSON into FILE.
fio_json() {
	local out=$1 image=$2
	shift 2
	fio --name=bench --ioengine=rbd --clientname=admin --pool=rbd \
		--rbdname="$image" --bs=4k --iodepth=16 --direct=1 \
		--output-format=json "$@" >"$out" 2>"$work/fio.err" ||
		bench_fail "fio on $image ($*): $(tail -3 "$work/fio.err")"
}

# fio_figures FILE read|write [IOS] : "IOPS MEAN_US P99_US" of one fio run
# (completion latency); stops the run when fio moved no I/O, or not
# exactly IOS of them when IOS is given.
fio_figures() {
	python3 - "$1" "$2" "${3:-0}" <<'EOF' || bench_fail "fio run $1 did not do the I/O it was asked"
import json, sys
job = json.load(open(sys.argv[1]))["jobs"][0][sys.argv[2]]
want = int(sys.argv[3])
if job["total_ios"] == 0 or job["iops"] <= 0 or (want and job["total_ios"] != want):
    sys.exit(1)
clat = job["clat_ns"]
print("%.0f %.0f %.0f" % (job["iops"], clat["mean"] / 1e3,
                          clat["percentile"]["99.000000"] / 1e3))
EOF
}

# The connected librbd harness (bench_rbd.c) as a coprocess: librbd_start,
# then librbd_ask COMMAND... prints the figure of its answer.
librbd_start() {
	coproc LIBRBD { "$bench_rbd"; }
	local ready=""
	read -t 120 -r ready <&"${LIBRBD[0]}" || true
	[ "$ready" = ready ] || bench_fail "bench_rbd did not connect"
}
librbd_ask() {
	local answer=""
	echo "$*" >&"${LIBRBD[1]}"
	read -t 600 -r answer <&"${LIBRBD[0]}" || bench_fail "bench_rbd $*: no answer"
	case "$answer" in
	"ok "*) echo "${answer#ok }" ;;
	*) bench_fail "bench_rbd $*: $answer" ;;
	esac
}
librbd_stop() {
	local in=${LIBRBD[1]} out=${LIBRBD[0]} pid=$LIBRBD_PID
	exec {in}>&- {out}<&-
	wait "$pid" || bench_fail "bench_rbd exited $?"
}

# column N : field N of each line on stdin, for median.
column() { awk -v n="$1" '{ print $n }'; }
