#!/usr/bin/env bash
# Leases on a RADOS object (rowcat/rbdops.h), the Ceph layer under the
# claims of a catalog in RADOS: two hosts are two lease_probe processes
# with different clients (client.rowcat and a client of the test's own,
# with the same caps); what they see is checked with Ceph's own `rados
# lock info` and `ceph osd blocklist ls`. Every wait polls, bounded only
# by a limit far above what a loaded machine needs.
. "$(dirname "$0")/lib.sh"

: "${LEASE_PROBE:?LEASE_PROBE must name the lease_probe binary}"

LIMIT=120 # seconds any one wait may take before the test fails

# hosta ARGS...: the probe as client.rowcat; hostb ARGS...: as client.$B,
# made by make_hostb with exactly rowcat's caps on pool rbd.
hosta() { "$LEASE_PROBE" --id rowcat "$@"; }
hostb() { "$LEASE_PROBE" --id "$B" --keyring "$SCRATCH/hostb.keyring" "$@"; }

# make_client ID MON-CAP: a client of this test's, its keyring in $SCRATCH.
make_client() {
	ceph auth get-or-create "client.$1" mon "$2" osd 'profile rbd pool=rbd' \
		-o "$SCRATCH/$1.keyring" 2>/dev/null || fail "ceph auth client.$1"
}

setup() {
	B=hb$(volname) OBJ=$(volname).rowcat
	make_client "$B" 'profile rbd'
	mv "$SCRATCH/$B.keyring" "$SCRATCH/hostb.keyring"
	HOLDERS=() BLOCKED=()
	trap cleanup EXIT
}

cleanup() {
	local pid addr
	for pid in "${HOLDERS[@]}"; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null # reaped, and bash's "Killed" notice kept quiet
	done
	for addr in "${BLOCKED[@]}"; do ceph osd blocklist rm "$addr" >/dev/null 2>&1; done
	ceph auth del "client.$B" 2>/dev/null
	rados -p rbd rm "$OBJ" 2>/dev/null
	return 0
}

# start_holder OUT ARGS...: hosta hold ARGS in the background, its output
# in OUT; waits until it says it holds the lease.
start_holder() {
	local out=$1
	shift
	# not through hosta: $! must be the probe's own pid, to kill
	"$LEASE_PROBE" --id rowcat hold "rbd/$OBJ" "$@" >"$out" 2>&1 &
	HOLDER=$!
	HOLDERS+=("$HOLDER")
	wait_for_line "$out" '^held ' "the holder's take"
}

# wait_for_line FILE REGEX WHAT: polls until FILE has a line matching REGEX.
wait_for_line() {
	local start=$SECONDS
	until grep -q -- "$2" "$1"; do
		((SECONDS - start < LIMIT)) || fail "$3: no '$2' in $LIMIT s: $(cat "$1")"
		sleep 0.1
	done
}

# field FILE KEY: the value after KEY= on the holder's "held" line.
field() {
	sed -n "s/^held .*$2=\([^ ]*\).*/\1/p" "$1"
}

# lock_desc NAME: the description the OSD keeps for lock NAME on $OBJ.
lock_desc() {
	rados -p rbd lock info "$OBJ" "$1" | jq -r '.lockers[0].description // "none"'
}

test_a_second_host_is_refused_and_told_who_holds_it_until_when() {
	setup
	start_holder "$SCRATCH/a.out" gc 30 'host a;pid=1 %'
	local entity rados
	entity=$(field "$SCRATCH/a.out" entity) rados=$(field "$SCRATCH/a.out" rados)
	run hostb take "rbd/$OBJ" gc 30 hostb
	expect_eq 16 "$status" "exit of a take of a held lease (EBUSY): $out"
	expect_contains "$out" "lease 'gc' on rbd/$OBJ is held by host host a;pid=1 % (pid $HOLDER, $entity at $rados) until 20" "the refusal"
	expect_contains "$out" "Z unless renewed" "the refusal's end time"
	# the odd host name is encoded in the description, not taken as fields
	expect_contains "$(lock_desc gc)" "host=host%20a%3Bpid%3D1%20%25;pid=$HOLDER;" "description"
	run hostb holder "rbd/$OBJ" gc
	expect_contains "$out" $'\nentity='"$entity"$'\n' "holder entity"
	expect_contains "$out" $'\npid='"$HOLDER"$'\n' "holder pid"
	expect_contains "$out" $'\nours=0\n' "hostb's view"
	expect_eq "host=host a;pid=1 %" "$(head -1 <<<"$out")" "holder host"
	# a holder that ends drops its lease at once
	kill -TERM "$HOLDER"
	wait "$HOLDER"
	expect_eq 0 "$?" "exit of the holder asked to stop"
	expect_eq none "$(lock_desc gc)" "the lock after the holder ended"
	run hostb take "rbd/$OBJ" gc 30 hostb
	expect_eq "0 taken" "$status $out" "take after the holder ended"
}

test_a_killed_holders_lease_expires_by_the_osds_clock() {
	setup
	start_holder "$SCRATCH/a.out" op.1 3 hosta
	kill -9 "$HOLDER"
	wait "$HOLDER" 2>/dev/null
	local start=$SECONDS
	until [ "$(hostb holder "rbd/$OBJ" op.1)" = none ]; do
		((SECONDS - start < LIMIT)) || fail "the killed holder's lease never expired"
		sleep 0.2
	done
	run hostb take "rbd/$OBJ" op.1 3 hostb
	expect_eq "0 taken" "$status $out" "take after the holder's lease expired"
}

test_fencing_blocklists_both_addresses_then_breaks_the_lock() {
	setup
	start_holder "$SCRATCH/a.out" op.2 30 hosta write
	local entity rados vfs blocked
	entity=$(field "$SCRATCH/a.out" entity) rados=$(field "$SCRATCH/a.out" rados)
	vfs=$(field "$SCRATCH/a.out" vfs)
	[ -n "$vfs" ] && [ "$vfs" != "$rados" ] || fail "two addresses: '$rados' '$vfs'"
	BLOCKED=("$rados" "$vfs")
	run hostb fence "rbd/$OBJ" op.2
	expect_eq "0 fenced $entity" "$status $out" "fence"
	blocked=$(ceph osd blocklist ls 2>/dev/null | awk '{ print $1 }')
	grep -qxF "$rados" <<<"$blocked" || fail "$rados not blocklisted: $blocked"
	grep -qxF "$vfs" <<<"$blocked" || fail "$vfs not blocklisted: $blocked"
	expect_eq none "$(lock_desc op.2)" "the lock after the fence"
	# the fenced holder, still running, finds its lease lost and can
	# write nothing through either client
	wait_for_line "$SCRATCH/a.out" '^vfs write: ' "the fenced holder"
	wait "$HOLDER"
	expect_eq 3 "$?" "exit of the fenced holder"
	expect_contains "$(cat "$SCRATCH/a.out")" "lost: -108 lease 'op.2' on rbd/$OBJ is lost" "its loss"
	expect_contains "$(cat "$SCRATCH/a.out")" "rados write: -108 " "its own client's write"
	expect_contains "$(cat "$SCRATCH/a.out")" "vfs write: -108 " "its second client's write"
	rbd info rbd/op.2-rados >/dev/null 2>&1 && fail "the fenced client created an image"
	rbd info rbd/op.2-vfs >/dev/null 2>&1 && fail "the fenced second client created an image"
	run hostb take "rbd/$OBJ" op.2 30 hostb
	expect_eq "0 taken" "$status $out" "take after the fence"
}

test_a_holder_the_cluster_stops_answering_loses_its_lease() {
	setup
	start_holder "$SCRATCH/a.out" op.3 3 hosta
	trap 'ceph osd unpause >/dev/null 2>&1; cleanup' EXIT
	ceph osd pause >/dev/null 2>&1 || fail "ceph osd pause"
	wait_for_line "$SCRATCH/a.out" '^lost: ' "the holder cut off"
	ceph osd unpause >/dev/null 2>&1
	expect_contains "$(cat "$SCRATCH/a.out")" "lost: -108 lease 'op.3' on rbd/$OBJ is lost: not renewed for" "the loss"
	wait "$HOLDER"
	expect_eq 3 "$?" "exit of the holder cut off"
}

test_a_client_that_may_not_blocklist_is_told_the_cap_and_changes_nothing() {
	setup
	local r=mr$(volname) entity rados
	make_client "$r" 'allow r'
	start_holder "$SCRATCH/a.out" policy 30 hosta
	entity=$(field "$SCRATCH/a.out" entity) rados=$(field "$SCRATCH/a.out" rados)
	run "$LEASE_PROBE" --id "$r" --keyring "$SCRATCH/$r.keyring" fence "rbd/$OBJ" policy
	ceph auth del "client.$r" 2>/dev/null
	expect_eq 13 "$status" "exit of the refused fence (EACCES): $out"
	expect_contains "$out" "client.$r may not blocklist $rados (to fence a lease holder): rowcat needs mon 'profile rbd'" "the refusal"
	ceph osd blocklist ls 2>/dev/null | grep -qF "$rados" && fail "$rados blocklisted"
	run hostb holder "rbd/$OBJ" policy
	expect_contains "$out" $'\nentity='"$entity"$'\n' "the holder after the refused fence"
}

test_a_process_renews_its_own_lease_and_never_fences_itself() {
	setup
	run hosta again "rbd/$OBJ" op.4 30 hosta
	expect_eq 0 "$status" "exit: $out"
	expect_eq "ours=1
-22 refusing to fence the holder of lease 'op.4' on rbd/$OBJ: it is this process" "$out" "again"
	# its close dropped it
	expect_eq none "$(lock_desc op.4)" "the lock after close"
}

# lock_attrs: the cls_lock attributes on $OBJ ("lock.NAME"), one a line.
lock_attrs() {
	local attrs
	attrs=$(rados -p rbd listxattr "$OBJ") || fail "rados listxattr $OBJ"
	grep '^lock\.' <<<"$attrs"
	return 0
}

test_dropped_leases_leave_no_attribute_behind() {
	setup
	# a held lease is an attribute of the object, as cls_lock keeps it
	start_holder "$SCRATCH/a.out" op.0 30 hosta keep
	expect_eq lock.op.0 "$(lock_attrs)" "the attributes while op.0 is held"
	kill -TERM "$HOLDER"
	wait "$HOLDER"
	expect_eq "0 dropped" "$? $(tail -1 "$SCRATCH/a.out")" "the holder's drop"
	# ten names, each taken once, as operations take theirs: a close
	# drops each (take), a drop each of four names twenty times (churn)
	local i
	for i in $(seq 10); do
		run hosta take "rbd/$OBJ" "op.$i" 30 hosta
		expect_eq "0 taken" "$status $out" "take of op.$i"
	done
	run hosta churn "rbd/$OBJ" w 3 hosta
	expect_eq "0 churned" "$status $out" "churn"
	rados -p rbd stat "$OBJ" >/dev/null || fail "no object $OBJ"
	expect_eq "" "$(lock_attrs)" "the attributes after every lease was dropped"
}

test_a_drop_after_a_takeover_leaves_the_new_holder_and_its_attribute() {
	setup
	start_holder "$SCRATCH/a.out" op.7 30 hosta keep
	local lock cookie entity b
	lock=$(rados -p rbd lock info "$OBJ" op.7) || fail "rados lock info"
	entity=$(jq -r '.lockers[0].name' <<<"$lock") cookie=$(jq -r '.lockers[0].cookie' <<<"$lock")
	expect_eq "$(field "$SCRATCH/a.out" entity)" "$entity" "the holder"
	# as if its lease had expired: broken by hand (hosta, holding it in
	# keep mode, neither notices nor takes it again), then taken by hostb
	rados -p rbd lock break "$OBJ" op.7 "$entity" --lock-cookie "$cookie" ||
		fail "rados lock break"
	"$LEASE_PROBE" --id "$B" --keyring "$SCRATCH/hostb.keyring" hold "rbd/$OBJ" op.7 30 hostb \
		>"$SCRATCH/b.out" 2>&1 &
	b=$!
	HOLDERS+=("$b")
	wait_for_line "$SCRATCH/b.out" '^held ' "hostb's take"
	lock=$(rados -p rbd lock info "$OBJ" op.7) || fail "rados lock info"
	cookie=$(jq -r '.lockers[0].cookie' <<<"$lock")
	# hosta drops what it still thinks it holds: its unlock is refused,
	# and with it the removal of the attribute
	kill -TERM "$HOLDER"
	wait "$HOLDER"
	expect_eq "0 dropped" "$? $(tail -1 "$SCRATCH/a.out")" "hosta's drop"
	lock=$(rados -p rbd lock info "$OBJ" op.7) || fail "rados lock info"
	expect_eq "$(field "$SCRATCH/b.out" entity) $cookie" \
		"$(jq -r '.lockers[] | "\(.name) \(.cookie)"' <<<"$lock")" "the holder after hosta's drop"
	expect_eq lock.op.7 "$(lock_attrs)" "the attributes after hosta's drop"
	run hosta take "rbd/$OBJ" op.7 30 hosta
	expect_eq 16 "$status" "exit of a take after hosta's drop (EBUSY): $out"
	# the holder's own close takes it away
	kill -TERM "$b"
	wait "$b"
	expect_eq 0 "$?" "exit of hostb asked to stop"
	expect_eq "" "$(lock_attrs)" "the attributes after hostb's close"
}

test_threads_take_and_drop_leases_while_they_are_renewed() {
	setup
	run hosta churn "rbd/$OBJ" w 3 hosta
	expect_eq "0 churned" "$status $out" "churn"
}

run_tests
