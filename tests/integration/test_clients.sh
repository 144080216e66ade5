#!/usr/bin/env bash
# Attached volumes on a real cluster, checked with rbd: while a librbd
# client (rbd bench, writing) has a volume's operating image open, snap and
# restore refuse with exit 3 before anything changes, naming the client as
# rbd status shows it; --ignore-clients goes on and rowcat log names whom
# it ignored; policy run snapshots the other volumes, reports the attached
# one in-use and counts it in its metrics. rowcat's own connection is
# never counted: every other test snaps with no other client.
. "$(dirname "$0")/lib.sh"

WRITERS=""

# start_writer IMAGE: a client writing IMAGE until stop_writer, as admin;
# returns once rbd status shows its watch, and sets WRITER (its pid) and
# WATCHER ("client.N at ADDR", as rbd status names it).
start_writer() {
	local n
	rbd bench --io-type write --io-size 4K --io-threads 1 --io-total 100G \
		"$1" >/dev/null 2>&1 &
	WRITER=$!
	WRITERS="$WRITERS $WRITER"
	until n=$(rbd status --format json "$1" | jq '.watchers | length') &&
		[ "$n" -gt 0 ]; do
		kill -0 "$WRITER" 2>/dev/null || fail "the writer of $1 ended before it opened it"
		sleep 0.1
	done
	WATCHER=$(rbd status --format json "$1" |
		jq -r '.watchers[0] | "client.\(.client) at \(.address)"')
}

# stop_writer PID IMAGE: stops the writer cleanly (SIGINT: rbd closes the
# image and its watch ends at once, where a killed client's stays about
# 30 s) and waits until rbd status shows no watcher of IMAGE.
stop_writer() {
	kill -INT "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	until [ "$(rbd status --format json "$2" | jq '.watchers | length')" = 0 ]; do
		sleep 0.1
	done
}

# Whatever a failing test leaves running is stopped with it.
stop_all_writers() {
	local pid
	for pid in $WRITERS; do
		kill -INT "$pid" 2>/dev/null
	done
	wait 2>/dev/null
}

test_snap_and_restore_refuse_while_a_client_writes() {
	trap stop_all_writers EXIT
	rowcat init -q || fail init
	local v img cluster_before catalog_before log_before
	v=$(volname)
	rowcat create "rbd/$v" --size 8M -q || fail "create $v"
	rowcat snap "$v" s0 -q || fail "snap s0 with no other client"
	img=$(rowcat which "$v")
	start_writer "$img"
	cluster_before=$(cluster_state) catalog_before=$(catalog_state)
	log_before=$(rowcat log "$v" --format json)

	expect_refused 3 "volume '$v' is in use: $img is open by $WATCHER," rowcat snap "$v" s1
	expect_contains "$err" "stop it, or give rowcat its QEMU monitor (--qmp), or pass --ignore-clients if it only reads" \
		"the ways forward"
	expect_refused 3 "volume '$v' is in use: $img is open by $WATCHER;" rowcat restore "$v" s0
	expect_contains "$err" "stop the guest first" "restore's way forward"
	# JSON asked for, and a default name: refused all the same
	expect_refused 3 "is open by $WATCHER" rowcat snap "$v" --format json
	expect_eq "" "$out" "stdout of a refused snap"

	expect_eq "$cluster_before" "$(cluster_state)" "the cluster after the refusals"
	expect_eq "$catalog_before" "$(catalog_state)" "the catalog after the refusals"
	expect_eq "$log_before" "$(rowcat log "$v" --format json)" "the log after the refusals"
	rbd snap ls --format json "$img" | jq -e 'map(.name) == []' >/dev/null ||
		fail "a snapshot on $img after the refusals"
	expect_eq "$img" "$(rowcat which "$v")" "the operating image after the refusals"

	# the operator knows better: the snapshot is taken and the log says so
	run rowcat snap "$v" s1 --ignore-clients
	expect_eq 0 "$status" "snap --ignore-clients ($err)"
	rbd snap ls --format json "$img" | jq -e 'map(.name) == ["s1"]' >/dev/null ||
		fail "no s1 on $img after snap --ignore-clients"
	# protected on the header while the writer holds the exclusive lock
	rbd snap ls --format json "$img" | jq -e '.[0].protected == "true"' >/dev/null ||
		fail "s1 is not protected: $(rbd snap ls --format json "$img")"
	expect_eq "$img@s1" "$(rbd_parent "$(rowcat which "$v")")" "the new operating image's parent"
	rowcat log "$v" | sed -n 2p | grep -qF "s1 as $(rowcat which "$v"); clients ignored: $WATCHER" ||
		fail "rowcat log does not name the client ignored: $(rowcat log "$v")"
	expect_eq "$WATCHER" "$(rowcat log "$v" --format json | jq -r '.[0].clients_ignored')" \
		"clients_ignored in JSON"
	expect_eq null "$(rowcat log "$v" --format json | jq -r '.[1].clients_ignored')" \
		"clients_ignored of s0's snap"

	# the writer still has the old image open, not the new one: the next
	# snap goes on, with nothing to ignore
	rowcat snap "$v" s2 -q || fail "snap s2: the writer is on an image the volume left"
	stop_writer "$WRITER" "$img"
	run rowcat restore "$v" s0
	expect_eq 0 "$status" "restore once the writer stopped ($err)"
	expect_eq null "$(rowcat log "$v" --format json | jq -r '.[0].clients_ignored')" \
		"clients_ignored of a restore with no client"
	expect_check_clean "$v"
}

# A client killed while it had the operating image open keeps its watch
# until the OSD times it out (about 30 s), and answers no notify: the snap
# refuses all the same, naming it as rbd status does (the look without an
# open counts a watcher that does not answer). Should the watch time out
# before the snap looks (a machine so loaded that a snap takes 30 s), the
# snap goes on, and rightly: rbd status then lists no watcher after it.
test_a_killed_clients_watch_still_refuses_the_snap() {
	trap stop_all_writers EXIT
	rowcat init -q || fail init
	local v img watchers
	v=$(volname)
	rowcat create "rbd/$v" --size 8M -q || fail "create $v"
	img=$(rowcat which "$v")
	start_writer "$img"
	kill -KILL "$WRITER"
	wait "$WRITER" 2>/dev/null
	run rowcat snap "$v" s1
	watchers=$(rbd status --format json "$img" | jq '.watchers | length')
	if [ "$status" = 3 ]; then
		expect_contains "$err" "volume '$v' is in use: $img is open by $WATCHER," \
			"the refusal"
	else
		expect_eq 0 "$watchers" "watchers of $img left after a snap that went on ($status: $err)"
	fi
}

test_restore_ignoring_a_reader_is_logged() {
	trap stop_all_writers EXIT
	rowcat init -q || fail init
	local v img
	v=$(volname)
	rowcat create "rbd/$v" --size 8M -q || fail "create $v"
	rowcat snap "$v" s0 -q || fail "snap s0"
	img=$(rowcat which "$v")
	start_writer "$img"
	run rowcat restore "$v" s0 --ignore-clients --format json
	expect_eq 0 "$status" "restore --ignore-clients ($err)"
	expect_eq "$(jq -r "$JQ_SPEC spec" <<<"$out")" "$img" "the image restored away from"
	rowcat log "$v" --format json | jq -e --arg w "$WATCHER" \
		'.[0].operation == "restore" and .[0].clients_ignored == $w and
		 (.[0].detail | endswith("; clients ignored: " + $w))' >/dev/null ||
		fail "the restore's log: $(rowcat log "$v" --format json | jq -c '.[0]')"
	stop_writer "$WRITER" "$img"
	expect_check_clean "$v"
}

test_policy_run_snapshots_the_others_and_reports_the_attached_one() {
	trap stop_all_writers EXIT
	rowcat init -q || fail init
	local base a b sp file=$SCRATCH/policy.yaml prom=$SCRATCH/policy.prom img
	base=$(volname) a=$(volname a) b=$(volname b)
	sp=rbd/$(volname)
	rbd namespace create "$sp" || fail "rbd namespace create $sp"
	rowcat create "$sp/$a" --size 8M -q || fail "create $a"
	rowcat create "$sp/$b" --size 8M -q || fail "create $b"
	cat >"$file" <<EOF
version: 1
gc: {min_age: 0s, trash_delay: 0s}
policies:
  - name: p
    volumes: ["$sp/${base}[ab]"]
    every: 1h
    keep: {latest: 2}
EOF
	img=$(rowcat which "$b")
	start_writer "$img"
	# A fixed policy clock, as in test_policy.sh, so that the runs mean the
	# same on any day: 20:00, 21:00 and 22:00 are three hourly slots, each
	# due. It lies in the real clock's past; nothing here is collected
	# (no gc), so no step waits on the real clock.
	run rowcat policy run "$file" --now 2020-11-28T20:00:00Z --jobs 2 --metrics "$prom"
	expect_eq 3 "$status" "the run with an attached volume ($err)"
	expect_contains "$err" "rowcat: policy: $b: in-use: volume '$b' is in use: $img is open by $WATCHER," \
		"the attached volume's line"
	expect_contains "$err" "2 volumes managed: 1 snapshot taken, 0 expired, 0 flattened; 0 busy, 0 failed, 1 in use ($b)" \
		"the summary"
	expect_eq "rowcat: policy: 1 of 2 volumes in use by a client, not snapshotted" \
		"$(tail -1 <<<"$err")" "the last line"
	expect_contains "$out" "$a: policy p: snapshot 20201128T200000Z taken" "a's line"
	rbd snap ls --format json "$sp/$a" | jq -e 'map(.name) == ["20201128T200000Z"]' >/dev/null ||
		fail "a has no snapshot on the cluster"
	rbd snap ls --format json "$img" | jq -e 'map(.name) == []' >/dev/null ||
		fail "b has a snapshot on the cluster"
	expect_eq "$img" "$(rowcat which "$b")" "b's operating image"
	expect_eq 1 "$(rowcat log "$b" --format json | jq length)" "b's operations (its create only)"
	grep -qx 'rowcat_policy_volumes{outcome="in-use"} 1' "$prom" || fail "metrics: in-use"
	grep -qx 'rowcat_policy_volumes{outcome="ok"} 1' "$prom" || fail "metrics: ok"
	grep -qx 'rowcat_policy_volumes{outcome="failed"} 0' "$prom" || fail "metrics: failed"
	grep -qx 'rowcat_policy_last_run_success 0' "$prom" || fail "metrics: success"
	grep -qx 'rowcat_policy_overdue_volumes 1' "$prom" || fail "metrics: overdue"

	# JSON says the same; the next hour, --ignore-clients takes b's
	run rowcat policy run "$file" --now 2020-11-28T21:00:00Z --format json
	expect_eq 3 "$status" "the next run"
	expect_eq "$a ok true
$b in-use false" "$(jq -r '.[] | "\(.volume) \(.outcome) \(.snapshot != null)"' <<<"$out")" \
		"the next run's volumes"
	jq -e --arg b "$b" '.[] | select(.volume == $b) | .message | contains("is in use")' \
		<<<"$out" >/dev/null || fail "no message for the attached volume: $out"
	run rowcat policy run "$file" --now 2020-11-28T22:00:00Z --ignore-clients --metrics "$prom" -q
	expect_eq 0 "$status" "the run with --ignore-clients ($err)"
	rbd snap ls --format json "$img" | jq -e 'map(.name) == ["20201128T220000Z"]' >/dev/null ||
		fail "b has no snapshot after --ignore-clients"
	expect_eq "$WATCHER" "$(rowcat log "$b" --format json | jq -r '.[0].clients_ignored')" \
		"b's log names the client ignored"
	grep -qx 'rowcat_policy_volumes{outcome="in-use"} 0' "$prom" || fail "metrics: in-use after"
	stop_writer "$WRITER" "$img"
	expect_eq 0 "$(running_ops)" "operations left running"
	expect_check_clean
}

# start_quiescer IMAGE ERRNO: a librbd client of IMAGE that answers each
# quiesce request with -ERRNO (0: quiesced), as rbd-nbd --quiesce does with
# its hook's exit; sets QUIESCER (its pid) and QUIESCED (the file it
# prints "quiesce" to for each request). Ended by stop_quiescer.
start_quiescer() {
	QUIESCED=$SCRATCH/quiesced.$2
	mkfifo "$SCRATCH/quiescer.$2"
	"$RBD_PATTERN" quiesce "$1" "$2" <"$SCRATCH/quiescer.$2" >"$QUIESCED" &
	QUIESCER=$!
	exec 3>"$SCRATCH/quiescer.$2"
	# no limit of its own: a busy machine only waits longer
	until [ -s "$QUIESCED" ]; do
		kill -0 "$QUIESCER" 2>/dev/null || fail "the quiescing client of $1 ended"
		sleep 0.1
	done
	expect_eq open "$(head -1 "$QUIESCED")" "the quiescing client of $1"
}

stop_quiescer() {
	exec 3>&-
	wait "$QUIESCER"
}

test_a_client_that_fails_to_quiesce_fails_the_snap() {
	rowcat init -q || fail init
	local v img cluster_before tree_before
	v=$(volname)
	rowcat create "rbd/$v" --size 8M -q && rowcat snap "$v" s0 -q || fail setup
	img=$(rowcat which "$v")
	start_quiescer "$img" 5
	cluster_before=$(cluster_state) tree_before=$(rowcat tree "$v" --format json)
	run rowcat snap "$v" q1 --ignore-clients
	expect_eq 1 "$status" "a snap whose client fails to quiesce ($err)"
	expect_contains "$err" "a client of $img (client." "the quiesce failure's message"
	expect_contains "$err" "failed to quiesce for the snapshot (rbd-nbd --quiesce's hook?): Input/output error" \
		"the quiesce failure's message"
	expect_contains "$err" "nothing was changed" "the quiesce failure's message"
	grep -qx quiesce "$QUIESCED" || fail "the client was never asked to quiesce"
	expect_eq "$cluster_before" "$(cluster_state)" "cluster after the failed quiesce"
	expect_eq "$tree_before" "$(rowcat tree "$v" --format json)" "catalog after the failed quiesce"
	expect_eq "$img" "$(rowcat which "$v")" "operating image after the failed quiesce"
	expect_eq 0 "$(running_ops)" "running operations after the failed quiesce"
	stop_quiescer

	# a client that quiesces lets the snapshot through
	start_quiescer "$img" 0
	run rowcat snap "$v" q2 --ignore-clients
	[ "$status" = 0 ] || fail "a snap whose client quiesces: $err"
	grep -qx quiesce "$QUIESCED" || fail "the client was never asked to quiesce"
	rbd snap ls --format json "$img" | jq -e 'any(.[]; .name == "q2")' >/dev/null ||
		fail "no snapshot q2 on $img"
	stop_quiescer
	expect_check_clean "$v"
}

run_tests
