#!/usr/bin/env bash
# A policy run killed anywhere leaves nothing lost and nothing twice: the
# next run settles what the dead one left (recovery first, per volume),
# takes no second snapshot for the same slot, keeps the depth limit and
# retention, and `rowcat check` is clean. Every failpoint a policy run
# passes (flatten, snap, the expiry marks) is crashed at, one at a time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crash_lib.sh"

T0=2026-11-27T00:00:00Z T1=2026-11-27T01:00:00Z T2=2026-11-27T02:00:00Z

# policy_file VOL...: one policy for exactly these volumes: hourly, keep
# the latest 2, max_depth 2 (the third run flattens, snaps and expires).
policy_file() {
	local f=$SCRATCH/policy-$1.yaml v
	{
		echo "version: 1"
		echo "policies:"
		echo "  - name: crash"
		echo "    volumes:"
		for v in "$@"; do echo "      - rbd/$v"; done
		echo "    every: 1h"
		echo "    keep: {latest: 2}"
		echo "    max_depth: 2"
	} >"$f"
	echo "$f"
}

# two_runs FILE VOL...: creates the volumes and runs the policy at T0, T1.
two_runs() {
	local f=$1 v
	shift
	catalog_exists || rowcat init -q || fail "init"
	for v in "$@"; do
		rowcat create "rbd/$v" --size 8M -q || fail "create $v"
	done
	rowcat policy run "$f" --now "$T0" -q >/dev/null || fail "run at $T0"
	rowcat policy run "$f" --now "$T1" -q >/dev/null || fail "run at $T1"
}

# live_policy_snapshots VOL [marked]: the names of VOL's policy snapshots
# not collected, unmarked ones only unless "marked" is given.
live_policy_snapshots() {
	catalog_sql "SELECT s.name FROM snapshot s
		JOIN image i ON i.id = s.image_id JOIN volume v ON v.id = i.volume_id
		WHERE v.name = '$1' AND s.origin = 'policy:crash'
		AND s.removed_at IS NULL
		AND (s.marked_at IS NULL OR '${2:-}' = 'marked')
		ORDER BY s.name" | paste -sd' '
}

# rbd_depth SPEC: clone levels above the image, by rbd's parent links.
rbd_depth() {
	local spec=$1 depth=0 parent
	while parent=$(rbd_parent "$spec") && [ "$parent" != none ]; do
		depth=$((depth + 1))
		spec=${parent%@*}
	done
	echo "$depth"
}

# expect_settled VOL: the state a clean run at T2 leaves.
expect_settled() {
	local v=$1
	expect_eq "20261127T010000Z 20261127T020000Z" "$(live_policy_snapshots "$v")" \
		"$v: retention kept the latest 2, and the slot at $T2 has one snapshot"
	expect_eq "20261127T000000Z 20261127T010000Z 20261127T020000Z" \
		"$(live_policy_snapshots "$v" marked)" "$v: no snapshot taken twice"
	[ "$(rbd_depth "$(rowcat which "$v")")" -le 2 ] ||
		fail "$v: operating image deeper than max_depth"
	expect_check_clean "$v"
}

test_policy_run_killed_at_each_failpoint_is_settled_by_the_next() {
	local ref f fps fp n=0 v
	ref=$(volname ref)
	f=$(policy_file "$ref")
	two_runs "$f" "$ref"
	fps=$(trace_of rowcat policy run "$f" --now "$T2" -q)
	for fp in flatten.flatten.before row.snapshot.after policy.expire.before; do
		echo "$fps" | grep -qx "$fp" || fail "a run at $T2 never passes $fp"
	done
	for fp in $fps; do
		n=$((n + 1))
		v=$(volname "c$n")
		f=$(policy_file "$v")
		two_runs "$f" "$v"
		crash_at "$fp" rowcat policy run "$f" --now "$T2" -q
		after_kill rowcat policy run "$f" --now "$T2" -q
		expect_eq 0 "$status" "the run after a crash at $fp ($err)"
		expect_eq 0 "$(running_ops)" "journal empty after the crash at $fp"
		expect_settled "$v"
	done
	expect_failpoints_exercised 'policy.*'
}

test_a_run_killed_while_volumes_run_side_by_side_is_settled() {
	local a b c f
	a=$(volname a) b=$(volname b) c=$(volname c)
	f=$(policy_file "$a" "$b" "$c")
	two_runs "$f" "$a" "$b" "$c"
	crash_at row.clone.after rowcat policy run "$f" --now "$T2" --jobs 4 -q
	# the other volumes' threads may have been inside a snapshot create
	# when the process died: its watch on their images outlives it until
	# the OSD times it out, and until then the next run finds them in use
	# shellcheck disable=SC2046
	wait_unwatched $(rbd ls rbd | grep -E "^($a|$b|$c)(\.rc[0-9]+)?$")
	after_kill rowcat policy run "$f" --now "$T2" --jobs 4 -q
	expect_eq 0 "$status" "the run after the crash ($err)"
	expect_eq 0 "$(running_ops)" "journal empty"
	for v in "$a" "$b" "$c"; do
		expect_settled "$v"
	done
}

run_tests
