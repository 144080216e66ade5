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
# for tests that need one; ROWCAT_TEST_CATALOG=rados puts each test's
# catalog in RADOS (rados://rbd/NAME, through Ceph's SQLite VFS) instead of
# a file in its scratch directory (the shipping build's pass; see
# tests/CMakeLists.txt). Tests read and change the catalog through
# catalog_sql and catalog_exists, which work on either kind. A test about
# the catalog's files sets CATALOG=$SCRATCH/catalog.db itself (a file of
# such tests sets ROWCAT_TEST_CATALOG=file after sourcing this), and so
# tests the same thing in both passes.

set -uo pipefail

: "${ROWCAT:?ROWCAT must name the rowcat binary}"

# Claims on a catalog in RADOS outlive a stopped rowcat (a ':stop'
# failpoint) only as long as its lease: tests stop one to hold its claim
# while they try another, as a file catalog's locks hold forever, so the
# lease is longer than any test; a killed rowcat's claims are taken over
# at once by the next rowcat of this host. Tests of expiry set their own.
export ROWCAT_CLAIM_LEASE=1h

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

case ${ROWCAT_TEST_CATALOG:=file} in
file) ;;
rados)
	[ -n "${ROWCAT_TEST_CLUSTER:-}" ] || {
		echo "ROWCAT_TEST_CATALOG=rados needs a cluster (ROWCAT_TEST_CLUSTER)" >&2
		exit 1
	} ;;
*)
	echo "ROWCAT_TEST_CATALOG must be file or rados, not '$ROWCAT_TEST_CATALOG'" >&2
	exit 1 ;;
esac

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

# rados_location URI: "POOL NAMESPACE NAME" of a rados://POOL[/NS]/NAME
# catalog (NAMESPACE "-" for the default one).
rados_location() {
	local rest=${1#rados://} pool ns name
	pool=${rest%%/*} rest=${rest#*/}
	case $rest in
	*/*) ns=${rest%%/*} name=${rest#*/} ;;
	*) ns=- name=$rest ;;
	esac
	echo "$pool $ns $name"
}

# catalog_sql ARGS...: the sqlite3 shell on this test's catalog, a file or
# one in RADOS (through Ceph's SQLite VFS, as client.admin), with ARGS
# after the database: SQL or dot-commands, and options such as -separator.
catalog_sql() {
	local pool ns name
	case $CATALOG in
	rados://*)
		read -r pool ns name < <(rados_location "$CATALOG")
		[ "$ns" = - ] && ns=
		sqlite3 -cmd '.load libcephsqlite.so' \
			-cmd ".open file:///$pool:$ns/$name?vfs=ceph" :memory: "$@" ;;
	*) sqlite3 "$CATALOG" "$@" ;;
	esac
}

# other_catalog NAME: where a test keeps a catalog of its own beside
# $CATALOG, of the same kind (removed with the test in RADOS too).
other_catalog() {
	case $CATALOG in
	rados://*) echo "${CATALOG%.db}-$1.db" ;;
	*) echo "$SCRATCH/$1.db" ;;
	esac
}

# catalog_exists: this test's catalog is there (for one in RADOS, its
# first object, which the VFS makes with the database).
catalog_exists() {
	local pool ns name nsopt=()
	case $CATALOG in
	rados://*)
		read -r pool ns name < <(rados_location "$CATALOG")
		[ "$ns" = - ] || nsopt=(-N "$ns")
		rados -p "$pool" "${nsopt[@]}" stat "$name.0000000000000000" >/dev/null 2>&1 ;;
	*) [ -e "$CATALOG" ] ;;
	esac
}

# catalog_state: the whole catalog as SQL text, or "absent".
catalog_state() {
	if catalog_exists; then catalog_sql .dump; else echo absent; fi
}

run_tests() {
	local passed=0 failed=0 name
	for name in $(declare -F | awk '{ print $3 }' | grep '^test_'); do
		local scratch catalog
		scratch=$(mktemp -d "${TMPDIR:-/tmp}/rowcat-it.XXXXXX")
		# in RADOS, a name as unique as the scratch directory's
		catalog=$scratch/catalog.db
		[ "$ROWCAT_TEST_CATALOG" = rados ] && catalog=rados://rbd/it-${scratch##*.}.db
		if (
			export CATALOG=$catalog SCRATCH=$scratch
			cd "$scratch" && "$name"
		); then
			echo "ok - $name"
			passed=$((passed + 1))
		else
			echo "not ok - $name"
			failed=$((failed + 1))
		fi
		rm -rf "$scratch"
		# the pool is shared by every test of the run: the catalog, its
		# journal and its claims' object go with the test, and so does
		# any other catalog in RADOS it named it-SUFFIX-... (other_catalog;
		# a file whose tests make one on a file pass too sets
		# TESTS_MAKE_RADOS_CATALOGS=1)
		if [ "$ROWCAT_TEST_CATALOG" = rados ] ||
			[ -n "${TESTS_MAKE_RADOS_CATALOGS:-}" ]; then
			local object
			for object in $(rados -p rbd ls | grep -E "^it-${scratch##*.}[.-]"); do
				rados -p rbd rm "$object" || echo "could not remove $object" >&2
			done
		fi
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
	catalog_sql "SELECT count(*) FROM operation WHERE state = 'running'"
}

# recover_after_kill [PREFIX...]: `PREFIX... rowcat recover --format json`
# through run, again while it leaves operations to a running rowcat, for
# up to 60 s (then status 1). A killed rowcat's claims on a catalog in
# RADOS are leases that outlive it until they expire (ROWCAT_CLAIM_LEASE;
# tests that kill make them 3 s); on a file catalog they die with it, and
# the first recovery takes everything.
recover_after_kill() {
	local deadline=$((SECONDS + 60))
	while :; do
		run "$@" "$ROWCAT" --id rowcat --catalog "$CATALOG" recover --format json
		{ [ "$status" = 0 ] && [ "$(jq .busy <<<"$out")" != 0 ]; } || return "$status"
		if [ "$SECONDS" -ge "$deadline" ]; then
			status=1 err="operations still claimed after 60 s: $out"
			return 1
		fi
		sleep 0.2
	done
}

# wait_for_dead_claims: returns once no claim on the test's catalog is
# held by a live process, for up to 60 s (then fails). A killed rowcat's
# claims (its operations', its gc or policy run's) on a catalog in RADOS
# are leases that outlive it until they expire (`catalog info` lists those
# held), but a rowcat of the same host takes over at once the claims of
# one whose process is gone; on a file catalog they die with it. For a
# test whose only other rowcat was killed.
wait_for_dead_claims() {
	local deadline=$((SECONDS + 60)) info pid live
	while :; do
		info=$("$ROWCAT" --id rowcat --catalog "$CATALOG" catalog info --format json) ||
			fail "catalog info failed: $info"
		live=0
		for pid in $(jq -r '(.claims // [])[] | .pid // 0' <<<"$info"); do
			{ [ "$pid" = 0 ] || kill -0 "$pid" 2>/dev/null; } && live=1
		done
		[ "$live" = 0 ] && return 0
		[ "$SECONDS" -lt "$deadline" ] || fail "claims still held after 60 s: $info"
		sleep 0.2
	done
}

# after_kill CMD...: CMD through run, once no live process holds a claim
# (wait_for_dead_claims): one run, which takes over what the killed one
# held and finds everything it left.
after_kill() {
	wait_for_dead_claims
	run "$@"
	return "$status"
}

# catalog_as_file: prints a file that holds the test's catalog as it is
# now: the catalog itself, or a copy of one in RADOS (rowcat catalog copy),
# for what rowcat must answer from a file catalog alone, with no cluster
# (a catalog in RADOS is read through the cluster).
catalog_as_file() {
	local copy
	case $CATALOG in
	rados://*)
		# a name only: catalog copy makes the file itself, with
		# O_EXCL, and refuses one that exists
		copy=$(mktemp -u "$SCRATCH/offline.XXXXXX.db")
		"$ROWCAT" --id rowcat catalog copy "$CATALOG" "$copy" -q ||
			fail "copying $CATALOG to a file"
		echo "$copy" ;;
	*) echo "$CATALOG" ;;
	esac
}

# expect_nothing_to_recover WHAT: the journal holds nothing unfinished,
# which `rowcat recover` finds without contacting any cluster (asked of
# catalog_as_file).
expect_nothing_to_recover() {
	local offline
	offline=$(catalog_as_file) || fail "$1: no file of the catalog"
	run "$ROWCAT" --catalog "$offline" -m 127.0.0.1:1 --timeout 1 recover
	expect_eq 0 "$status" "$1: idle recover's status ($err)"
	expect_contains "$err" "nothing to recover" "$1: idle recover"
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
	catalog_sql "SELECT s.name FROM snapshot s
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

# svg_nodes FILE: reads FILE as XML (failing, with python's message, where
# it is not well-formed) and prints each node of the graph dot drew, one a
# line: the fill colour of its shape, a tab, and its label's lines joined
# by '|' ("#bfdcff<TAB>rbd/vol1.4|operating").
svg_nodes() {
	python3 - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET

SVG = '{http://www.w3.org/2000/svg}'
for g in ET.parse(sys.argv[1]).getroot().iter(SVG + 'g'):
    if g.get('class') != 'node':
        continue
    shapes = [e for e in g.iter() if e.tag in (SVG + 'polygon', SVG + 'ellipse', SVG + 'path')]
    fill = shapes[0].get('fill', '') if shapes else ''
    texts = [t.text or '' for t in g.iter(SVG + 'text')]
    print(fill + '\t' + '|'.join(texts))
PY
}

# A lineage with a restore branch: vol1 -@s1-> vol1.1 -@s2-> vol1.2, then
# a pre-restore snapshot of vol1.2 and a restore of s1 into vol1.3, which
# is snapped once more into vol1.4.
make_branching_catalog() {
	"$ROWCAT" --catalog "$CATALOG" init -q || fail init
	catalog_sql "
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
