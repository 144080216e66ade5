#!/usr/bin/env bash
# One catalog in RADOS, several hosts: each "host" is a separate rowcat
# process with a client of its own (client.rowcat and client.hostb, both
# with only the caps rowcat asks for) and a name of its own (ROWCAT_HOST).
# Claims are leases on the catalog's NAME.claims object; a host that took
# over a claim fences the old holder's two clients (its own and its SQLite
# VFS's) with a blocklist entry. Checked with rbd, ceph osd blocklist ls and
# SQLite's integrity_check through the VFS.
. "$(dirname "$0")/lib.sh"

# its catalogs in RADOS go with each test, in either pass (lib.sh)
TESTS_MAKE_RADOS_CATALOGS=1

# Every test here is about a catalog in RADOS, whatever the suite's kind.
use_rados_catalog() {
	CATALOG=rados://rbd/it-${SCRATCH##*.}-hosts.db
	export CATALOG
}

# host_a / host_b ARGS...: rowcat as one host or the other.
host_a() {
	ROWCAT_HOST=hv-a "$ROWCAT" --id rowcat --catalog "$CATALOG" "$@"
}
host_b() {
	ROWCAT_HOST=hv-b "$ROWCAT" --id hostb --catalog "$CATALOG" "$@"
}

# A second least-privilege client, as a second hypervisor would have.
ensure_hostb_client() {
	local keyring
	keyring=$(dirname "$CEPH_CONF")/ceph.client.hostb.keyring
	[ -s "$keyring" ] && return
	ceph auth get-or-create client.hostb mon 'profile rbd' \
		osd 'profile rbd pool=rbd, profile rbd pool=other' >"$keyring" ||
		fail "creating client.hostb"
}

# expect_catalog_sound: SQLite finds nothing wrong, and no operation is
# left unfinished.
expect_catalog_sound() {
	expect_eq ok "$(catalog_sql 'PRAGMA integrity_check')" "integrity_check"
	expect_eq 0 "$(catalog_sql "SELECT count(*) FROM operation WHERE state = 'running'")" \
		"operations left running"
}

# unblocklist ADDR...: takes the test's fencing back out of the cluster.
unblocklist() {
	local a
	for a in "$@"; do ceph osd blocklist rm "$a" >/dev/null 2>&1; done
}

# holder_addrs OP_ID: the two client addresses the journal recorded for
# the holder of operation OP_ID.
holder_addrs() {
	catalog_sql "SELECT holder FROM operation WHERE id = $1" |
		tr ';' '\n' | sed -n 's/^\(rados\|vfs\)=//p' | sed 's/%3A/:/g; s/%2F/\//g'
}

# volume_snapshots POOL VOL: the names of the snapshots of every image of
# VOL (VOL, VOL.rcN) that rbd lists in POOL, sorted.
volume_snapshots() {
	local img
	for img in $(rbd ls "$1" | grep -E "^$2(\.rc[0-9]+)?\$"); do
		rbd snap ls --format json "$1/$img" | jq -r '.[].name'
	done | sort | paste -sd' '
}

# stopped_snap_of_a VOL@SNAP [ENV=VALUE...]: host a's snap, stopped (a
# SIGSTOP of its own) between two steps with its claim held; sets pid,
# op (its operation) and addrs (the two client addresses the journal
# recorded for it). Its stderr goes to $SCRATCH/a.err.
stopped_snap_of_a() {
	local target=$1
	shift
	env ROWCAT_FAILPOINT=row.snapshot.after:stop ROWCAT_HOST=hv-a "$@" \
		"$ROWCAT" --id rowcat --catalog "$CATALOG" snap "$target" -q \
		2>"$SCRATCH/a.err" &
	pid=$!
	wait_until_stopped "$pid"
	op=$(catalog_sql "SELECT id FROM operation WHERE state = 'running'")
	mapfile -t addrs < <(holder_addrs "$op")
	expect_eq 2 "${#addrs[@]}" "the journal records both of a's clients"
}

# killed_snap_of_a VOL@SNAP: host a's snap, killed (-9) between two steps
# with its claim held.
killed_snap_of_a() {
	run env ROWCAT_FAILPOINT=row.snapshot.after ROWCAT_HOST=hv-a \
		"$ROWCAT" --id rowcat --catalog "$CATALOG" snap "$1"
	expect_eq 137 "$status" "host a killed in its snap"
}

setup_hosts() {
	use_rados_catalog
	ensure_hostb_client
	host_a init -q || fail "init"
}

test_hosts_work_side_by_side_on_one_catalog() {
	local v1 v2 v3 v4 pids=() p failed=0
	setup_hosts
	v1=$(volname a) v2=$(volname b) v3=$(volname c) v4=$(volname d)
	host_a create "rbd/$v1" --size 16 -q || fail "create v1"
	host_b create "rbd/$v2" --size 16 -q || fail "create v2"
	host_a create "rbd/ns1/$v3" --size 16 -q || fail "create v3"
	host_b create "other/$v4" --size 16 -q || fail "create v4"
	host_b snap "$v3@base" -q || fail "snap v3"
	host_a rm "$v4" -q || fail "rm v4"

	# at once: snaps on two hosts, a restore, and a gc run
	(for i in 1 2 3; do host_a snap "$v1@a$i" -q || exit 1; done) & pids+=($!)
	(for i in 1 2 3; do host_b snap "$v2@b$i" -q || exit 1; done) & pids+=($!)
	host_a restore "$v3@base" -q & pids+=($!)
	host_b gc --min-age 0 --trash-delay 0 -q & pids+=($!)
	for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
	expect_eq 0 "$failed" "commands that failed"

	expect_eq "a1 a2 a3" "$(volume_snapshots rbd "$v1")" \
		"v1's snapshots on the cluster"
	expect_eq "b1 b2 b3" "$(volume_snapshots rbd "$v2")" \
		"v2's snapshots on the cluster"
	expect_eq "" "$(rbd ls other | grep -x "$v4")" "v4 after gc"
	run host_a check
	expect_eq 0 "$status" "check after the hosts' work: $out $err"
	expect_catalog_sound
}

test_one_volume_from_two_hosts_one_wins() {
	local v pid op addrs before
	setup_hosts
	v=$(volname)
	host_a create "rbd/$v" --size 16 -q || fail "create"
	# host a stops with its claim held, between two steps of its snap
	stopped_snap_of_a "$v@first"
	before=$(cluster_state)
	expect_refused 1 "is in progress in rowcat on host hv-a (pid $pid" \
		host_b snap "$v@second"
	expect_contains "$err" "until " "the refusal says until when"
	# catalog info, from the other host, names the claim and its holder
	expect_eq "hv-a $pid" "$(host_b catalog info --format json |
		jq -r '.claims[] | select(.claim | startswith("op.")) | "\(.host) \(.pid)"')" \
		"catalog info's claims"
	expect_eq "$before" "$(cluster_state)" "the cluster after the refused snap"
	kill -CONT "$pid"
	wait "$pid" || fail "host a's snap failed after it went on"
	expect_eq "first" "$(rbd snap ls --format json "rbd/$v" | jq -r '.[].name')" \
		"the one snapshot taken"
	host_b snap "$v@second" -q || fail "host b's snap once a's was done"
	run host_b check
	expect_eq 0 "$status" "check: $out $err"
	expect_catalog_sound
}

# wait_until_stopped PID: until the process stops itself at a failpoint.
wait_until_stopped() {
	local i
	for i in $(seq 600); do
		[ "$(ps -o stat= -p "$1" | cut -c1)" = T ] && return
		sleep 0.1
	done
	fail "process $1 never stopped at its failpoint"
}

# recover_until_taken_over HOST_FN: runs recover on that host until it
# settles what another host left (at most 120 tries: the tests' leases are
# 15 s); the first refusal must name the holder.
recover_until_taken_over() {
	local i named=0
	for i in $(seq 120); do
		run "$1" recover
		[ "$status" = 0 ] || fail "recover: $err"
		case "$err" in
		*"1 finished"* | *"1 undone"*)
			expect_eq 1 "$named" "a refusal naming the holder came first"
			return ;;
		*"1 left to a running rowcat"*)
			expect_contains "$err" "in progress in rowcat on host hv-a" \
				"recover names the holder"
			expect_contains "$err" "until " "recover says until when"
			named=1 ;;
		*) fail "recover said: $err" ;;
		esac
		sleep 0.5
	done
	fail "the claim was never taken over"
}

test_a_killed_host_is_taken_over_once_its_claim_expires() {
	local v op addrs
	setup_hosts
	# long enough that the first recover, right after the kill, finds it
	# held on the busiest machine; short enough to wait out
	export ROWCAT_CLAIM_LEASE=15s
	v=$(volname)
	host_a create "rbd/$v" --size 16 -q || fail "create"
	killed_snap_of_a "$v@k"
	op=$(catalog_sql "SELECT id FROM operation WHERE state = 'running'")
	mapfile -t addrs < <(holder_addrs "$op")
	expect_eq 2 "${#addrs[@]}" "the journal records both of a's clients"
	recover_until_taken_over host_b
	for a in "${addrs[@]}"; do
		ceph osd blocklist ls 2>/dev/null | grep -q "^$a " ||
			fail "host a's client $a was not fenced"
	done
	unblocklist "${addrs[@]}"
	rbd info "rbd/$v.rc2" >/dev/null 2>&1 || fail "the snap was not finished"
	expect_eq k "$(rbd snap ls --format json "rbd/$v" | jq -r '.[].name')" \
		"the snapshot of the finished snap"
	run host_b check
	expect_eq 0 "$status" "check: $out $err"
	expect_catalog_sound
}

test_a_partitioned_host_can_change_nothing_after_a_takeover() {
	local v pid op addrs after_takeover status_a
	setup_hosts
	export ROWCAT_CLAIM_LEASE=15s
	v=$(volname)
	host_a create "rbd/$v" --size 16 -q || fail "create"
	# stopped, host a renews nothing: to the others it is cut off
	stopped_snap_of_a "$v@p"
	recover_until_taken_over host_b
	after_takeover=$(cluster_state; catalog_sql .dump)
	# back on the network: it must stop, and change nothing
	kill -CONT "$pid"
	wait "$pid"
	status_a=$?
	[ "$status_a" != 0 ] || fail "host a went on after its claim was taken over"
	expect_eq 1 "$(wc -l <"$SCRATCH/a.err")" "lines host a printed"
	expect_contains "$(cat "$SCRATCH/a.err")" "lost its claim on operation $op" \
		"host a's message"
	expect_eq "$after_takeover" "$(cluster_state; catalog_sql .dump)" \
		"the cluster and the catalog after host a came back"
	unblocklist "${addrs[@]}"
	run host_b check
	expect_eq 0 "$status" "check: $out $err"
	expect_catalog_sound
}

test_a_killed_rowcat_is_taken_over_at_once_on_its_own_host() {
	local v
	setup_hosts
	# a lease far longer than the test: only the takeover can free it
	export ROWCAT_CLAIM_LEASE=1h
	v=$(volname)
	host_a create "rbd/$v" --size 16 -q || fail "create"
	killed_snap_of_a "$v@k"
	# another host waits for the lease; host a's next rowcat does not
	run host_b recover
	expect_contains "$err" "1 left to a running rowcat" "host b's recover"
	run host_a recover
	expect_eq 0 "$status" "host a's recover: $err"
	expect_contains "$err" "1 finished" "host a's recover"
	expect_eq k "$(rbd snap ls --format json "rbd/$v" | jq -r '.[].name')" \
		"the snapshot of the finished snap"
	run host_b check
	expect_eq 0 "$status" "check: $out $err"
	expect_catalog_sound
}

# make_client ID MON OSD: a client with exactly these caps.
make_client() {
	ceph auth get-or-create "client.$1" mon "$2" osd "$3" \
		>"$(dirname "$CEPH_CONF")/ceph.client.$1.keyring" ||
		fail "creating client.$1"
}

test_a_client_without_caps_on_the_catalogs_pool_is_told_which() {
	local before
	setup_hosts
	make_client nocat 'profile rbd' 'profile rbd pool=other'
	make_client rdcat 'profile rbd' 'profile rbd-read-only pool=rbd'
	before=$(catalog_sql .dump; rados -p rbd ls | sort)
	expect_refused 1 "client.nocat has no cap on pool 'rbd'; rowcat needs osd 'profile rbd pool=rbd' and mon 'profile rbd'" \
		"$ROWCAT" --id nocat --catalog "$CATALOG" ls
	expect_refused 1 "client.rdcat may read pool 'rbd' but not write to it" \
		"$ROWCAT" --id rdcat --catalog "$CATALOG" ls
	expect_refused 1 "client.nocat has no cap on pool 'rbd'" \
		"$ROWCAT" --id nocat --catalog "$CATALOG" create other/x --size 1
	expect_eq "$before" "$(catalog_sql .dump; rados -p rbd ls | sort)" \
		"the catalog and the pool after the refusals"
	ceph auth rm client.nocat >/dev/null 2>&1
	ceph auth rm client.rdcat >/dev/null 2>&1
}

test_a_blocklisted_host_stops_and_one_gc_runs_at_a_time() {
	local v pid op addrs a before
	setup_hosts
	v=$(volname)
	host_a create "rbd/$v" --size 16 -q || fail "create"
	host_a create "rbd/${v}g" --size 16 -q || fail "create"
	host_a rm "${v}g" -q || fail "rm"
	# one gc on the catalog at a time, whichever host runs it
	ROWCAT_FAILPOINT=gc.journal.before:stop ROWCAT_HOST=hv-a \
		"$ROWCAT" --id rowcat --catalog "$CATALOG" gc --min-age 0 -q &
	pid=$!
	wait_until_stopped "$pid"
	expect_refused 1 "another rowcat gc is running; this run is refused: lease 'gc'" \
		host_b gc --min-age 0
	expect_contains "$err" "held by host hv-a (pid $pid" "who runs the gc"
	kill -CONT "$pid"
	wait "$pid" || fail "host a's gc"
	# an operator fences host a by hand while it works (its network is
	# cut, say): both its clients blocklisted
	stopped_snap_of_a "$v@b" ROWCAT_CLAIM_LEASE=15s
	for a in "${addrs[@]}"; do
		ceph osd blocklist add "$a" >/dev/null 2>&1 || fail "blocklisting $a"
	done
	before=$(cluster_state; catalog_sql .dump)
	kill -CONT "$pid"
	wait "$pid" && fail "a blocklisted host finished its snap"
	expect_eq 1 "$(wc -l <"$SCRATCH/a.err")" "lines host a printed"
	expect_contains "$(cat "$SCRATCH/a.err")" "snap of '$v'" "host a's message"
	expect_eq "$before" "$(cluster_state; catalog_sql .dump)" \
		"the cluster and the catalog after the blocklisted host went on"
	unblocklist "${addrs[@]}"
	recover_until_taken_over host_b
	run host_b check
	expect_eq 0 "$status" "check: $out $err"
	expect_catalog_sound
}

run_tests
