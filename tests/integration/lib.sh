# Shared by the integration tests: sourced, never run.
#
# A test file defines functions named test_*; `run_tests` runs each in a
# subshell with a fresh catalog, reports "ok"/"not ok" per test and ends
# with the line "N passed, M failed". The real rowcat binary ($ROWCAT) is
# run as the least-privilege client.rowcat; results are checked with Ceph's
# own rbd CLI as client.admin, never with rowcat alone.
#
# Environment (set by ctest): ROWCAT, the binary; ROWCAT_TEST_CLUSTER, the
# directory of a running throwaway cluster (tests/cluster/ceph-cluster.sh),
# for tests that need one.

set -uo pipefail

: "${ROWCAT:?ROWCAT must name the rowcat binary}"

# A manual snap reads the policy timer's file for max_depth
# (/etc/rowcat/policy.yaml): the tests' own, when they give one
export ROWCAT_POLICY_FILE=
# and every command reads rowcat.conf (/etc/rowcat/rowcat.conf) for its
# catalog: none, unless a test gives one
export ROWCAT_CONFIG=

if [ -n "${ROWCAT_TEST_CLUSTER:-}" ]; then
	# shellcheck disable=SC1091
	. "$ROWCAT_TEST_CLUSTER/env"
fi

fail() {
	echo "    FAIL: $*" >&2
	exit 1
}

# rowcat ARGS... : the binary as client.rowcat on this test's catalog.
rowcat() {
	"$ROWCAT" --id rowcat --catalog "$CATALOG" "$@"
}

# run CMD... : runs CMD, keeping its exit status in $status, stdout in
# $out and stderr in $err (both without trailing newlines).
run() {
	local o e
	o=$(mktemp) e=$(mktemp)
	# the subshell keeps bash's "Killed" notice of a crash test quiet
	("$@" >"$o" 2>"$e"; exit $?) 2>/dev/null
	status=$?
	out=$(cat "$o") err=$(cat "$e")
	rm -f "$o" "$e"
}

expect_eq() { # EXPECTED ACTUAL WHAT
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

expect_contains() { # HAYSTACK NEEDLE WHAT
	case "$1" in *"$2"*) ;; *) fail "$3: '$2' not in: $1" ;; esac
}

# expect_json_keys JSON "KEY ..." WHAT: JSON parses, and is an object (or
# a list of objects) with exactly these keys in this order: the keys the
# README's "JSON output" examples promise. An empty list has none to check.
expect_json_keys() {
	local got
	got=$(jq -r 'if type == "array" then .[] else . end | keys_unsorted |
		join(" ")' <<<"$1" | sort -u) || fail "$3: not JSON: $1"
	[ -z "$got" ] && [ "$(jq -c . <<<"$1")" = "[]" ] && return
	expect_eq "$2" "$got" "$3: keys"
}

# A jq definition: spec turns {pool, pool_namespace, image} into the
# POOL[/NS]/IMAGE that rowcat which and rbd print.
JQ_SPEC='def spec: [.pool, (.pool_namespace | select(. != "")), .image] | join("/");'

# expect_refused STATUS MESSAGE CMD... : CMD exits STATUS with exactly one
# line on stderr, which starts "rowcat: " and contains MESSAGE.
expect_refused() {
	local want=$1 message=$2
	shift 2
	run "$@"
	[ "$status" = "$want" ] || fail "'$*' exited $status, expected $want (stderr: $err)"
	[ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "'$*' printed more than one line: $err"
	expect_contains "$err" "rowcat: " "message prefix of '$*'"
	expect_contains "$err" "$message" "message of '$*'"
}

# cluster_state: every image, its size and snapshots, in every test pool and
# namespace, as client.admin sees them — compared before and after a
# command that must change nothing. rbd's stderr must not share stdout's
# pipe: when it does, `rbd ls -l` output stops at the pipe's 64 KiB
# (seen in CI once earlier tests had left ~1,000 images in the pool).
# Once in CI an `rbd ls -l` hung in a futex wait with the cluster healthy
# (a second one answered at once): each try has a time limit.
cluster_state() {
	local spec listing try
	for spec in rbd rbd/ns1 other; do
		echo "== $spec"
		for try in 1 2 3 none; do
			[ "$try" = none ] && { echo "rbd ls -l $spec failed 3 times"; break; }
			if listing=$(timeout 60 rbd ls -l --format json "$spec" 2>/dev/null); then
				echo "$listing"
				break
			fi
			echo "cluster_state: rbd ls -l $spec: try $try failed" >&2
		done
	done
}

# catalog_state: the whole catalog as SQL text, or "absent".
catalog_state() {
	if [ -e "$CATALOG" ]; then sqlite3 "$CATALOG" .dump; else echo absent; fi
}

run_tests() {
	local passed=0 failed=0 name
	for name in $(declare -F | awk '{ print $3 }' | grep '^test_'); do
		local scratch
		scratch=$(mktemp -d "${TMPDIR:-/tmp}/rowcat-it.XXXXXX")
		if (
			export CATALOG=$scratch/catalog.db SCRATCH=$scratch
			cd "$scratch" && "$name"
		); then
			echo "ok - $name"
			passed=$((passed + 1))
		else
			echo "not ok - $name"
			failed=$((failed + 1))
		fi
		rm -rf "$scratch"
	done
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}

# volname [SUFFIX]: a volume name unique to this test run, since all tests
# share one cluster.
volname() {
	echo "v${SCRATCH##*.}${1:-}"
}

# running_ops: how many operations the catalog's journal holds unfinished.
running_ops() {
	sqlite3 "$CATALOG" "SELECT count(*) FROM operation WHERE state = 'running'"
}

# expect_check_clean [VOL]: rowcat check finds no difference.
expect_check_clean() {
	run rowcat check "$@"
	[ "$status" = 0 ] || fail "rowcat check $*: exit $status: $out $err"
	expect_eq "" "$out" "rowcat check $* output"
}

# checksum SPEC: sha256 of the image or snapshot's data, as rbd exports it.
checksum() {
	rbd export --no-progress "$1" - 2>/dev/null | sha256sum | cut -d' ' -f1
}

# pattern_checksum SIZE SEED: sha256 of the pattern rbd_pattern writes.
pattern_checksum() {
	"$RBD_PATTERN" print "$1" "$2" | sha256sum | cut -d' ' -f1
}

# rbd_parent SPEC: the parent "pool/image@snap" rbd reports, or "none".
rbd_parent() {
	rbd info --format json "$1" | jq -r 'if .parent then
		.parent.pool + "/" + (if .parent.pool_namespace != "" then
		.parent.pool_namespace + "/" else "" end) + .parent.image + "@" +
		.parent.snapshot else "none" end'
}

# safety_snapshots VOL: the names of VOL's pre-restore snapshots that
# tree shows, oldest first. Oldest by the catalog's row ids: two restores
# may share a second, and tree's order is the lineage's, not the clock's.
safety_snapshots() {
	local shown
	shown=$(rowcat tree "$1" --format json | jq -r '.nodes[] |
		select(.origin? == "pre-restore") | .snapshot') || return 1
	sqlite3 "$CATALOG" "SELECT s.name FROM snapshot s
		JOIN image i ON i.id = s.image_id JOIN volume v ON v.id = i.volume_id
		WHERE v.name = '$1' AND s.origin = 'pre-restore' ORDER BY s.id" |
		grep -xF -f <(printf '%s\n' "$shown")
}

# image_of VOL SNAP: the image carrying VOL's snapshot SNAP (also one gc
# has collected).
image_of() {
	rowcat tree "$1" --all --format json | jq -r --arg s "$2" '.nodes[] |
		select(.snapshot? == $s) | .parent_id'
}

# generations VOL SEED...: for each SEED, writes rbd_pattern's pattern
# SEED into VOL's operating image and snaps it as sSEED ("s1", "s2", ...).
generations() {
	local v=$1 seed
	shift
	for seed in "$@"; do
		"$RBD_PATTERN" write "$(rowcat which "$v")" "$seed" || fail "write $seed"
		rowcat snap "$v" "s$seed" -q || fail "snap s$seed"
	done
}

# trace_of CMD...: runs CMD cleanly and prints the failpoints it passed.
trace_of() {
	local trace=$SCRATCH/trace
	: >"$trace"
	ROWCAT_FAILPOINT_TRACE=$trace "$@" >/dev/null 2>&1 || fail "traced run of $*"
	awk '!seen[$0]++' "$trace"
}

# wait_stopped PID [WHAT]: waits until process PID has stopped itself at a
# ':stop' failpoint; fails when it ends first. No time limit of its own: a
# busy machine only makes the wait longer (ctest's TIMEOUT ends a hang).
wait_stopped() {
	local state
	while state=$(ps -o stat= -p "$1"); do
		case $state in
		T*) return 0 ;;
		Z*) break ;;
		esac
		sleep 0.1
	done
	fail "${2:-rowcat $1} ended before it reached its failpoint"
}

# resume_until_ended PID: lets process PID go on each time it stops at a
# ':stop' failpoint (one that is reached at every step), until it ends.
resume_until_ended() {
	local state
	while state=$(ps -o stat= -p "$1") && [ "${state:0:1}" != Z ]; do
		kill -CONT "$1" 2>/dev/null
		sleep 0.1
	done
}

# A lineage with a restore branch: vol1 -@s1-> vol1.1 -@s2-> vol1.2, then
# a pre-restore snapshot of vol1.2 and a restore of s1 into vol1.3, which
# is snapped once more into vol1.4.
make_branching_catalog() {
	"$ROWCAT" --catalog "$CATALOG" init -q || fail init
	sqlite3 "$CATALOG" "
	PRAGMA foreign_keys = ON;
	BEGIN;
	INSERT INTO volume (id, name, size, created_at) VALUES (1, 'vol1', 67108864, 1767225600);
	INSERT INTO image (id, volume_id, pool, name, created_at) VALUES (1, 1, 'rbd', 'vol1', 1767225600);
	INSERT INTO snapshot (id, image_id, name, protected, origin, created_at) VALUES (1, 1, 's1', 1, 'manual', 1767229200);
	INSERT INTO image (id, volume_id, pool, name, parent_snapshot_id, created_at) VALUES (2, 1, 'rbd', 'vol1.1', 1, 1767229200);
	INSERT INTO snapshot (id, image_id, name, protected, origin, created_at) VALUES (2, 2, 's2', 1, 'manual', 1767232800);
	INSERT INTO image (id, volume_id, pool, name, parent_snapshot_id, created_at) VALUES (3, 1, 'rbd', 'vol1.2', 2, 1767232800);
	INSERT INTO snapshot (id, image_id, name, protected, origin, created_at) VALUES (3, 3, 'pre', 1, 'pre-restore', 1767236400);
	INSERT INTO image (id, volume_id, pool, name, parent_snapshot_id, created_at) VALUES (4, 1, 'rbd', 'vol1.3', 1, 1767236400);
	INSERT INTO snapshot (id, image_id, name, protected, origin, created_at, pinned) VALUES (4, 4, 's3', 1, 'policy:daily', 1767240000, 1);
	INSERT INTO image (id, volume_id, pool, name, parent_snapshot_id, created_at) VALUES (5, 1, 'rbd', 'vol1.4', 4, 1767240000);
	UPDATE volume SET operating_image_id = 5 WHERE id = 1;
	COMMIT;" || fail "building the lineage"
}
