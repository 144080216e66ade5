#!/usr/bin/env bash
# Live snaps of a running guest: a real QEMU (tests/vm/) whose disk is the
# volume's operating image, configured as libvirt does, writing numbered
# records with direct, synchronous I/O and acking each on its console.
# rowcat pauses the guest over QMP, takes the snapshot and clone, switches
# the guest's disk to the clone and resumes it. Everything is checked from
# the cluster (rbd export, rbd status) and from QEMU (query-status):
#   - every record the guest saw acknowledged is in the final operating
#     image; each snapshot holds an unbroken prefix with every record acked
#     before its snap began; the guest saw no I/O error; its only watch is
#     on the newest operating image;
#   - a failure, the pause timeout and SIGTERM inside the window leave the
#     guest running on the image it was using, and nothing changed;
#   - rowcat killed at every failpoint of a live snap: after `rowcat
#     recover` the guest runs, on the image the catalog names, and goes on
#     writing, and `check` is clean.
# One boot for all of it.
#
# Environment besides lib.sh's: RECORD_CHECK, the record_check binary.
# ROWCAT_LIVE_KILLS: how many of the live snap's failpoints the crash
# matrix kills at, spread evenly over them (0 or unset: every one).
. "$(dirname "$0")/lib.sh"

: "${RECORD_CHECK:?RECORD_CHECK must name the record_check binary}"
VM="bash $(cd "$(dirname "$0")/../vm" && pwd)/vm.sh"
SNAPS=10
# records the guest acks between two snaps
STRIDE=300

watchers() { # SPEC: how many watches the image has
	rbd status --format json "$1" | jq '.watchers | length'
}

guest_status() { # DIR: running, paused, ...
	$VM qmp "$1" '{"execute":"query-status"}' | jq -r .status
}

# expect_guest_on DIR VOL [PREVIOUS]: the guest runs, with one watch on
# the image the catalog names as the operating image and none on
# PREVIOUS, the operating image before (when it is another one).
expect_guest_on() {
	local dir=$1 v=$2 previous=${3:-} op
	op=$(rowcat which "$v") || fail "which $v"
	expect_eq running "$(guest_status "$dir")" "the guest's state"
	expect_eq 1 "$(watchers "$op")" "watches on the operating image $op"
	if [ -n "$previous" ] && [ "$previous" != "$op" ]; then
		expect_eq 0 "$(watchers "$previous")" "watches on $previous"
	fi
}

# expect_only_watch_on_operating VOL: of all VOL's images, only the
# operating image has a watch (the guest's).
expect_only_watch_on_operating() {
	local v=$1 op image
	op=$(rowcat which "$v") || fail "which $v"
	for image in $(rbd ls rbd | grep "^$v"); do
		[ "rbd/$image" = "$op" ] && continue
		expect_eq 0 "$(watchers "rbd/$image")" "watches on rbd/$image"
	done
}

# keeps_writing DIR: the guest acks more records than it has now
keeps_writing() {
	local now
	now=$($VM acked "$1")
	$VM wait-acked "$1" $((now + 20)) || fail "the guest stopped writing"
}

# wait_reached TRACE NAME PID: until rowcat PID passed failpoint NAME
wait_reached() {
	while ! grep -qx "$2" "$1" 2>/dev/null; do
		kill -0 "$3" 2>/dev/null || fail "rowcat ended before $2"
		sleep 0.1
	done
}

# at FP ARGS...: rowcat ARGS with ROWCAT_FAILPOINT=FP.
at() {
	(export ROWCAT_FAILPOINT=$1; shift; rowcat "$@")
}

# spread LIST K: K entries of LIST spread evenly over it, first and last
# among them (K 0, or K at least LIST's length: all of it).
spread() {
	awk -v k="$2" '{ a[NR] = $0 } END {
		if (k <= 0 || k >= NR) { for (i = 1; i <= NR; i++) print a[i]; exit }
		for (j = 0; j < k; j++) print a[1 + int(j * (NR - 1) / (k - 1) + 0.5)]
	}' <<<"$1"
}

check_records() { # SPEC ACKED NONCE: prints SPEC's prefix length
	local report
	report=$(rbd export --no-progress "$1" - 2>/dev/null |
		"$RECORD_CHECK" --acked "$2" --nonce "$3" - 2>&1) ||
		fail "$1 is no prefix holding record $2: $report"
	sed -n 's/^prefix //p' <<<"$report"
}

test_live_snaps_switch_a_running_guest_and_strand_no_write() {
	local v dir i op before after nonce acked prefix fp list n state
	local policy_snap policy_before op_of_policy
	local -a snap_image snap_before snap_after
	v=$(volname)
	rowcat init -q || fail "rowcat init"
	rowcat create "rbd/$v" --size 256M -q || fail "create $v"
	dir=$SCRATCH/vm
	trap '$VM stop "$dir" >/dev/null 2>&1' EXIT
	$VM start "$dir" "$(rowcat which "$v")" || fail "the guest did not boot"
	echo "    guest: $(cat "$dir/accel")" >&2

	# -- SNAPS live snaps, the first through --qmp, the rest through the
	# consumer recorded for the volume
	for ((i = 1; i <= SNAPS; i++)); do
		$VM wait-acked "$dir" $((i * STRIDE)) || fail "the guest stopped writing"
		snap_image[i]=$(rowcat which "$v")
		snap_before[i]=$($VM acked "$dir")
		if [ "$i" = 1 ]; then
			run rowcat snap "$v" "s$i" --qmp "$dir/qmp.sock"
			rowcat consumer "$v" "unix:$dir/qmp.sock" || fail "consumer"
			expect_eq "unix:$dir/qmp.sock on host ${ROWCAT_HOST:-$(hostname)}" \
				"$(rowcat consumer "$v")" "consumer"
		else
			run rowcat snap "$v" "s$i"
		fi
		snap_after[i]=$($VM acked "$dir")
		[ "$status" = 0 ] || fail "live snap $i: $err"
		expect_contains "$err" "paused" "live snap $i says how long"
		expect_guest_on "$dir" "$v" "${snap_image[i]}"
	done
	expect_eq "$SNAPS" "$(rowcat log "$v" --format json |
		jq '[.[] | select(.operation == "snap" and .paused_ms != null)] | length')" \
		"live snaps the log keeps with their pause"

	# -- another host sharing the catalog does not reach this host's
	# guest: refused, nothing changed, the guest runs on
	op=$(rowcat which "$v")
	before=$(cluster_state)
	ROWCAT_HOST="not-${ROWCAT_HOST:-$(hostname)}" expect_refused 3 \
		"$v's consumer runs on host ${ROWCAT_HOST:-$(hostname)}" rowcat snap "$v" elsewhere1
	expect_eq "$op" "$(rowcat which "$v")" "operating image after the refusal"
	expect_eq "$before" "$(cluster_state)" "cluster after the refusal"
	expect_guest_on "$dir" "$v"

	# -- a failure inside the window: undone, the guest runs on
	run at row.clone.before:error snap "$v" failed1
	expect_eq 1 "$status" "a snap that fails in the window"
	expect_contains "$err" "nothing was changed" "the failure's message"
	expect_eq "$op" "$(rowcat which "$v")" "operating image after a failure"
	expect_eq "$before" "$(cluster_state)" "cluster after a failure"
	expect_guest_on "$dir" "$v"

	# -- the pause timeout: the watchdog resumes the guest while the snap
	# is held at a failpoint, then the snap undoes itself
	run at row.snapshot.after:block snap "$v" slow1 --pause-timeout 1s
	expect_eq 1 "$status" "a snap past its pause timeout"
	expect_contains "$err" "pause timeout" "the timeout's message"
	expect_eq "$op" "$(rowcat which "$v")" "operating image after a timeout"
	expect_eq "$before" "$(cluster_state)" "cluster after a timeout"
	expect_guest_on "$dir" "$v"

	# -- SIGTERM in the window: taken as a failure, then rowcat ends
	: >"$SCRATCH/trace"
	ROWCAT_FAILPOINT=row.clone.before:block ROWCAT_FAILPOINT_TRACE=$SCRATCH/trace \
		"$ROWCAT" --id rowcat --catalog "$CATALOG" snap "$v" term1 \
		2>"$SCRATCH/term.err" &
	n=$!
	wait_reached "$SCRATCH/trace" row.clone.before "$n"
	kill -TERM "$n"
	wait "$n"
	expect_eq 143 "$?" "rowcat's end after SIGTERM"
	expect_contains "$(cat "$SCRATCH/term.err")" "interrupted by" "SIGTERM's message"
	expect_eq "$op" "$(rowcat which "$v")" "operating image after SIGTERM"
	expect_eq "$before" "$(cluster_state)" "cluster after SIGTERM"
	expect_guest_on "$dir" "$v"
	keeps_writing "$dir"

	# -- killed at every failpoint of a live snap, then recovered
	list=$(trace_of rowcat snap "$v" traced1 | grep -v '^row\.undo')
	expect_check_clean
	expect_guest_on "$dir" "$v"
	# every failpoint of the window is on a live snap's way (test_row_crash
	# leaves these to this file)
	for fp in $("$ROWCAT" debug failpoints | grep -E \
		'^row\.(consumer|pausing-step|pause|switch|switched-step|resume)\.'); do
		grep -qx "$fp" <<<"$list" || fail "a live snap does not pass $fp"
	done
	list=$(spread "$list" "${ROWCAT_LIVE_KILLS:-0}")
	n=0
	for fp in $list; do
		n=$((n + 1))
		op=$(rowcat which "$v")
		[ -n "${ROWCAT_LIVE_VERBOSE:-}" ] && echo "    $(date +%T) kill at $fp" >&2
		run at "$fp" snap "$v" "k$n"
		expect_eq 137 "$status" "snap killed at $fp"
		recover_after_kill
		[ "$status" = 0 ] || fail "recover after $fp: $err"
		state=$(guest_status "$dir")
		expect_eq running "$state" "the guest after $fp and recover"
		expect_check_clean
		expect_guest_on "$dir" "$v" "$op"
		keeps_writing "$dir"
	done
	echo "    killed at $n failpoints" >&2
	expect_only_watch_on_operating "$v"

	# -- a policy run snapshots the volume through its recorded consumer
	# (the policy never took one, so it is due)
	cat >"$SCRATCH/policy.yaml" <<EOF
version: 1
timezone: UTC
policies:
  - name: live
    volumes: ["rbd/$v"]
    every: 1h
    keep: {latest: 10}
EOF
	op_of_policy=$(rowcat which "$v")
	policy_before=$($VM acked "$dir")
	run rowcat policy run "$SCRATCH/policy.yaml" --format json
	[ "$status" = 0 ] || fail "policy run: $err"
	policy_snap=$(jq -r '.[0].snapshot // empty' <<<"$out")
	[ -n "$policy_snap" ] || fail "the policy run took no snapshot: $out"
	rowcat log "$v" --format json | jq -e --arg s "$policy_snap" '.[0] |
		.snapshot == $s and .result == "done" and .paused_ms != null' >/dev/null ||
		fail "the policy's snap is not logged with its pause: $(rowcat log "$v" | head -3)"
	expect_guest_on "$dir" "$v" "$op_of_policy"
	keeps_writing "$dir"

	# -- the records, from the cluster
	$VM wait-acked "$dir" $(($($VM acked "$dir") + STRIDE)) || fail "the guest stopped writing"
	op=$(rowcat which "$v")
	$VM stop "$dir" || fail "the guest did not stop"
	trap - EXIT
	expect_eq 0 "$(grep -a -c '^ioerr ' "$dir/console.log")" "I/O errors the guest saw"
	acked=$($VM acked "$dir")
	nonce=$($VM nonce "$dir")
	prefix=$(check_records "$op" "$acked" "$nonce")
	echo "    $op: $((acked + 1)) records acked, prefix $prefix" >&2
	check_records "$op_of_policy@$policy_snap" "$policy_before" "$nonce" >/dev/null
	for ((i = 1; i <= SNAPS; i++)); do
		prefix=$(check_records "${snap_image[i]}@s$i" "${snap_before[i]}" "$nonce")
		# the console lags the disk by a record or two: the snapshot may
		# hold those, never a record written after the guest resumed
		# on the clone (acked after the snap returned, plus that lag)
		if [ "$prefix" -gt $((snap_after[i] + 3)) ]; then
			fail "s$i holds $prefix records; only $((snap_after[i] + 1)) were acked when its snap returned"
		fi
	done
}

run_tests
