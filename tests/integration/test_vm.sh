#!/usr/bin/env bash
# A real QEMU guest (tests/vm/) on a volume's operating image: the harness
# that the live-snap tests build on, proved against the real cluster. The
# guest writes numbered records with direct, synchronous I/O and acks each
# on its console; the host takes Ceph's own snapshots of the running disk
# (they stand in for rowcat's live snaps, which switch the guest too).
# Afterwards, from the cluster with `rbd export` and record_check: every
# acked record is in the image, each snapshot holds an unbroken prefix with
# every record acked before it was taken, the guest saw no I/O error, and
# the VM's watch was there while it ran and is gone after. One boot.
#
# Environment besides lib.sh's: RECORD_CHECK, the record_check binary.
. "$(dirname "$0")/lib.sh"

: "${RECORD_CHECK:?RECORD_CHECK must name the record_check binary}"
VM="bash $(cd "$(dirname "$0")/../vm" && pwd)/vm.sh"
SNAPS=3
# records the guest acks between two snapshots: a few thousand in all
STRIDE=700

# watchers SPEC: how many watches the image has.
watchers() {
	rbd status --format json "$1" | jq '.watchers | length'
}

# check_records SPEC ACKED NONCE: SPEC's exported data is an unbroken
# prefix of the boot NONCE's records holding record ACKED; prints it.
check_records() {
	local spec=$1 acked=$2 nonce=$3 report
	report=$(rbd export --no-progress "$spec" - 2>/dev/null |
		"$RECORD_CHECK" --acked "$acked" --nonce "$nonce" - 2>&1) ||
		fail "$spec is no prefix holding record $acked: $report"
	sed -n 's/^prefix //p' <<<"$report"
}

test_guest_records_land_in_the_image_and_every_snapshot_holds_a_prefix() {
	local v op dir i acked nonce prefix last=0 report
	local -a snap_acked
	v=$(volname)
	rowcat init -q || fail "rowcat init"
	rowcat create "rbd/$v" --size 64M -q || fail "create $v"
	op=$(rowcat which "$v") || fail "which $v"
	expect_eq 0 "$(watchers "$op")" "watchers before the boot"

	dir=$SCRATCH/vm
	trap '$VM stop "$dir" >/dev/null 2>&1' EXIT
	$VM start "$dir" "$op" || fail "the guest did not boot on $op"
	echo "    guest: $($VM accel) on $op" >&2
	expect_eq 1 "$(watchers "$op")" "watchers while the guest runs"

	for ((i = 1; i <= SNAPS; i++)); do
		$VM wait-acked "$dir" $((i * STRIDE)) || fail "the guest stopped writing"
		# every record acked before the snapshot starts must be in it
		snap_acked[i]=$($VM acked "$dir")
		rbd snap create "$op@live$i" >/dev/null 2>&1 || fail "rbd snap create $op@live$i"
	done
	$VM wait-acked "$dir" $(((SNAPS + 1) * STRIDE)) || fail "the guest stopped writing"
	expect_eq 1 "$(watchers "$op")" "watchers after the snapshots"
	$VM stop "$dir" || fail "the guest did not stop"
	trap - EXIT
	expect_eq 0 "$(watchers "$op")" "watchers after the guest ended"

	expect_eq 0 "$(grep -a -c '^ioerr ' "$dir/console.log")" "I/O errors the guest saw"
	acked=$($VM acked "$dir")
	nonce=$($VM nonce "$dir")
	[ -n "$nonce" ] || fail "no nonce on the console"

	prefix=$(check_records "$op" "$acked" "$nonce")
	echo "    image: $((acked + 1)) records acked, prefix $prefix" >&2
	for ((i = 1; i <= SNAPS; i++)); do
		report=$(check_records "$op@live$i" "${snap_acked[i]}" "$nonce")
		# snapshots later in time hold longer prefixes, none past the image's
		if [ "$report" -lt "$last" ] || [ "$report" -gt "$prefix" ]; then
			fail "live$i holds $report records: not between $last and $prefix"
		fi
		echo "    live$i: ${snap_acked[i]} acked before it, prefix $report" >&2
		last=$report
	done

	rbd snap purge --no-progress "$op" >/dev/null 2>&1 || fail "snap purge $op"
	rbd rm --no-progress "$op" >/dev/null 2>&1 || fail "rbd rm $op"
}

run_tests
