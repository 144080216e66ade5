#!/usr/bin/env bash
# A cluster that stops answering in the middle of an operation: the command
# fails within its timeout with exit 75 and leaves the operation in the
# journal; once the cluster answers again, `rowcat recover` converges.
. "$(dirname "$0")/lib.sh"
# the full cluster's test keeps a catalog in RADOS beside its own (run_tests
# removes it)
TESTS_MAKE_RADOS_CATALOGS=1

# paused_at FAILPOINT CMD...: runs rowcat CMD with a 5 s timeout, pauses
# every OSD once it reaches FAILPOINT, and lets it go on. Sets status,
# err and elapsed (seconds from the pause to its exit).
paused_at() {
	local fp=$1 pid start; shift
	ROWCAT_FAILPOINT="$fp:stop" "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		--timeout 5 "$@" 2>"$SCRATCH/err" &
	pid=$!
	wait_stopped "$pid"
	ceph osd pause >/dev/null 2>&1 || fail "ceph osd pause"
	trap 'ceph osd unpause >/dev/null 2>&1' EXIT
	start=$(date +%s)
	kill -CONT "$pid"
	wait "$pid"
	status=$? elapsed=$(($(date +%s) - start)) err=$(cat "$SCRATCH/err")
	ceph osd unpause >/dev/null 2>&1 || fail "ceph osd unpause"
	trap - EXIT
}

# timeout_decided ELAPSED: the 5 s --timeout, not the default of 120 s,
# ended the command. Far from either, so that a loaded machine's slowness
# cannot decide the test: this bounds no speed.
timeout_decided() {
	[ "$1" -lt 100 ] || fail "took ${1}s with a 5 s timeout: the 120 s default decided"
}

test_osds_paused_mid_snap_is_exit_75_and_recover_converges() {
	rowcat init -q || fail init
	local v; v=$(volname)
	rowcat create "rbd/$v" --size 4M && rowcat snap "$v" before -q || fail setup
	paused_at row.protect.before snap "$v" s1
	expect_eq 75 "$status" "snap against paused OSDs (stderr: $err)"
	timeout_decided "$elapsed"
	[ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "more than one line: $err"
	expect_contains "$err" "stays in the journal" "message"
	expect_eq 1 "$(running_ops)" "the operation is kept in the journal"
	rowcat recover -q || fail "recover once the cluster is back"
	expect_eq 0 "$(running_ops)" "running operations after recover"
	expect_check_clean "$v"
	# the snapshot was taken before the pause: recovery finished the snap
	expect_eq "rbd/$v.rc" "$(rowcat which "$v" | sed 's/rc[0-9]*$/rc/')" "rolled forward"
	rowcat tree "$v" --format json | jq -e '[.nodes[] | select(.snapshot? == "s1")] | length == 1' \
		>/dev/null || fail "s1 not in the catalog"
	rowcat snap "$v" after -q || fail "snap after recovery"
}

test_osds_paused_mid_flatten_is_exit_75_and_recover_converges() {
	rowcat init -q || fail init
	local v op; v=$(volname)
	rowcat create "rbd/$v" --size 4M && rowcat snap "$v" -q || fail setup
	op=$(rowcat which "$v")
	paused_at flatten.flatten.before flatten "$v"
	expect_eq 75 "$status" "flatten against paused OSDs (stderr: $err)"
	timeout_decided "$elapsed"
	expect_eq 1 "$(running_ops)" "the operation is kept in the journal"
	rowcat recover -q || fail "recover"
	expect_eq none "$(rbd_parent "$op")" "flattened by recovery"
	expect_check_clean "$v"
}

# pool_full POOL: whether the OSD map flags POOL full: the item "full" of
# its flags, not "nearfull" or "backfillfull", which come first as the
# ratios drop (a test that took nearfull for full once saw its create
# succeed).
pool_full() {
	ceph osd dump 2>/dev/null |
		grep -Eq "^pool [0-9]+ '$1' .*flags ([^ ]*,)?full(,| |$)"
}

# full_ratios NEAR BACKFILL FULL: sets the OSD full ratios, in the order
# Ceph accepts without complaint.
full_ratios() {
	ceph osd set-nearfull-ratio "$1" >/dev/null 2>&1 &&
	ceph osd set-backfillfull-ratio "$2" >/dev/null 2>&1 &&
	ceph osd set-full-ratio "$3" >/dev/null 2>&1
}

# A full cluster holds writes until rados_osd_op_timeout: rowcat says the
# cluster is full (exit 1), not that it did not answer (exit 75), and once
# there is room again recovery converges. The OSD is made full by setting
# its full ratio below what it already holds; the test puts Ceph's default
# ratios back however it ends. The operation that stays in the journal is
# a file catalog's, in both passes of the suite; a catalog in RADOS is in
# the full cluster itself, and cannot be written either: with one, rowcat
# says the same, and nothing is journalled.
test_a_full_cluster_is_reported_full_not_unreachable() {
	CATALOG=$SCRATCH/catalog.db
	rowcat init -q || fail init
	local v i in_rados; v=$(volname) in_rados=rados://rbd/it-${SCRATCH##*.}-full.db
	rowcat create "rbd/$v" --size 4M && rowcat snap "$v" before -q || fail setup
	CATALOG=$in_rados rowcat init -q || fail "init in RADOS"
	CATALOG=$in_rados rowcat create "rbd/${v}r" --size 4M -q || fail "create in RADOS"
	local rados_state; rados_state=$(CATALOG=$in_rados catalog_state)
	# 4 MiB of data, so that the OSD holds more than the ratio below of
	# its 8 GiB even when this test runs first on a fresh cluster
	"$RBD_PATTERN" write "$(rowcat which "$v")" 1 || fail "writing data"
	trap 'full_ratios 0.85 0.9 0.95' EXIT
	full_ratios 0.00001 0.00001 0.00001 || fail "setting the full ratios"
	for i in $(seq 600); do pool_full rbd && break; sleep 0.1; done
	pool_full rbd || fail "the OSD never became full"
	run "$ROWCAT" --id rowcat --catalog "$CATALOG" --timeout 3 create "rbd/${v}n" --size 4M
	expect_eq 1 "$status" "create on a full cluster ($err)"
	[ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "more than one line: $err"
	expect_contains "$err" "rowcat: the cluster is full: Ceph holds all writes to pool 'rbd'" "create's message"
	run "$ROWCAT" --id rowcat --catalog "$CATALOG" --timeout 3 snap "$v" s1
	expect_eq 1 "$status" "snap on a full cluster ($err)"
	expect_contains "$err" "rowcat: the cluster is full: " "snap's message"
	expect_contains "$err" "stays in the journal" "snap's message"
	run "$ROWCAT" --id rowcat --catalog "$in_rados" --timeout 3 create "rbd/${v}m" --size 4M
	expect_eq 1 "$status" "create on a full cluster, catalog in RADOS ($err)"
	[ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "more than one line: $err"
	expect_contains "$err" "rowcat: the catalog $in_rados: the cluster is full: Ceph holds all writes to pool 'rbd'" \
		"create's message, catalog in RADOS"
	run "$ROWCAT" --id rowcat --catalog "$in_rados" --timeout 3 snap "${v}r" s1
	expect_eq 1 "$status" "snap on a full cluster, catalog in RADOS ($err)"
	expect_contains "$err" "rowcat: the catalog $in_rados: the cluster is full: " \
		"snap's message, catalog in RADOS"
	full_ratios 0.85 0.9 0.95 || fail "putting the full ratios back"
	trap - EXIT
	for i in $(seq 600); do pool_full rbd || break; sleep 0.1; done
	pool_full rbd && fail "the OSD stayed full"
	rowcat recover -q || fail "recover once there is room"
	expect_eq 0 "$(running_ops)" "running operations after recover"
	expect_check_clean "$v"
	rbd info "rbd/${v}n" >/dev/null 2>&1 && fail "the create left an image"
	rowcat snap "$v" s2 -q || fail "snap once there is room"
	# the catalog in RADOS: nothing was written, and it works again
	expect_eq "$rados_state" "$(CATALOG=$in_rados catalog_state)" "the catalog in RADOS"
	rbd info "rbd/${v}m" >/dev/null 2>&1 && fail "the create with the catalog in RADOS left an image"
	CATALOG=$in_rados expect_check_clean "${v}r"
	CATALOG=$in_rados rowcat snap "${v}r" s2 -q || fail "snap once there is room, catalog in RADOS"
}

run_tests
