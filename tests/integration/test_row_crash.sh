#!/usr/bin/env bash
# Crash matrix for snap, restore and flatten: for every failpoint a clean
# run of each passes (learnt from ROWCAT_FAILPOINT_TRACE, out of the list
# `rowcat debug failpoints` prints), kill the command there; then crash
# `rowcat recover` at every failpoint it passes in turn (SQLite-style: die
# at the first failpoint not yet crashed in a recovery of this file, again
# and again until recovery completes); then check that the journal is empty, `rowcat check` finds no
# difference and no orphan, and the volume takes a snapshot again. The last
# test asserts that every failpoint compiled in was exercised, so a new one
# is tested without anyone adding it here. ROWCAT_CRASH_STRIDE=K kills the
# three big matrices at every K-th step only (crash_lib.sh's
# sample_failpoints): CI's two passes kill at every other step, the
# sanitizer build's on file catalogs from the first, the shipping build's
# on catalogs in RADOS from the second (ROWCAT_CRASH_PHASE=1), and so at
# every step between them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crash_lib.sh"

# expect_settled VOL WHAT: nothing unfinished, nothing different, nothing
# orphaned, and the volume takes a snapshot.
expect_settled() {
	expect_eq 0 "$(running_ops)" "running operations after $2"
	run rowcat check "$1"
	[ "$status" = 0 ] || fail "check after $2: $out $err"
	rowcat snap "$1" -q || fail "snap after $2"
}

test_snap_recovers_from_a_crash_at_every_step() {
	rowcat init -q || fail init
	local v fps fp n=0; v=$(volname)
	rowcat create "rbd/$v" --size 4M || fail create
	fps=$(trace_of rowcat snap "$v" traced)
	[ "$(wc -w <<<"$fps")" -ge 14 ] || fail "snap passes only: $fps"
	for fp in $(sample_failpoints 0 "$fps"); do
		n=$((n + 1))
		crash_at "$fp" rowcat snap "$v" "k$n"
		recover_through_crashes
		expect_settled "$v" "snap killed at $fp"
		# k$n is either wholly there (rolled forward) or wholly gone
		if rowcat tree "$v" --format json | jq -e --arg s "k$n" \
			'[.nodes[] | select(.snapshot? == $s)] | length == 1' >/dev/null; then
			rbd snap ls --all "$(image_of "$v" "k$n")" |
				grep -qw "k$n" || fail "k$n in the catalog, not on the cluster"
		fi
	done
	# after all that, a recovery has nothing to do and calls no cluster
	expect_nothing_to_recover "idle recover"
}

test_restore_recovers_from_a_crash_at_every_step() {
	rowcat init -q || fail init
	local v fps fp; v=$(volname)
	rowcat create "rbd/$v" --size 4M && rowcat snap "$v" s0 -q || fail setup
	fps=$(trace_of rowcat restore "$v" s0)
	[ "$(wc -w <<<"$fps")" -ge 14 ] || fail "restore passes only: $fps"
	for fp in $(sample_failpoints 1 "$fps"); do
		crash_at "$fp" rowcat restore "$v" s0
		recover_through_crashes
		expect_settled "$v" "restore killed at $fp"
	done
}

test_flatten_recovers_from_a_crash_at_every_step() {
	rowcat init -q || fail init
	local v fps fp; v=$(volname)
	rowcat create "rbd/$v" --size 4M && rowcat snap "$v" -q || fail setup
	fps=$(trace_of rowcat flatten "$v")
	[ "$(wc -w <<<"$fps")" -ge 8 ] || fail "flatten passes only: $fps"
	for fp in $(sample_failpoints 0 "$fps"); do
		rowcat snap "$v" -q || fail "snap before flatten"
		local op; op=$(rowcat which "$v")
		crash_at "$fp" rowcat flatten "$v"
		recover_through_crashes
		# rolled forward, or killed before it was journalled: the
		# catalog's depth agrees with the cluster either way
		if [ "$fp" = flatten.journal.before ]; then
			[ "$(rbd_parent "$op")" != none ] || fail "flattened before journalling"
		else
			expect_eq none "$(rbd_parent "$op")" "parent after flatten killed at $fp"
			expect_eq 0 "$(rowcat ls --format json | jq '.[0].depth')" "depth after $fp"
		fi
		expect_settled "$v" "flatten killed at $fp"
	done
}

# snap_meeting_a_foreign_clone VOL FAILPOINTS [STOP]: snap stopped at STOP
# (by default once the cluster said its clone's name was free); meanwhile
# someone else creates an image of that name; then the snap goes on, with
# FAILPOINTS (after the stop) in force.
snap_meeting_a_foreign_clone() {
	local v=$1 extra=$2 stop=${3:-row.snapshot.before} pid target
	ROWCAT_FAILPOINT="$stop:stop${extra:+,$extra}" \
		ROWCAT_FAILPOINT_TRACE="$SCRATCH/trace" \
		"$ROWCAT" --id rowcat --catalog "$CATALOG" snap "$v" >"$SCRATCH/out" 2>"$SCRATCH/err" &
	pid=$!
	wait_stopped "$pid" "the snap"
	target=$(catalog_sql "SELECT target_pool || '/' || target_image FROM operation
		WHERE state = 'running'")
	rbd create "$target" --size 1M || fail "foreign image $target"
	kill -CONT "$pid"
	wait "$pid"
	status=$? err=$(cat "$SCRATCH/err")
	FOREIGN=$target
}

test_a_foreign_image_at_the_clone_name_is_left_alone_and_the_snap_undone() {
	rowcat init -q || fail init
	local v fps fp; v=$(volname)
	rowcat create "rbd/$v" --size 4M || fail create
	: >"$SCRATCH/trace"
	snap_meeting_a_foreign_clone "$v" ""
	expect_eq 1 "$status" "snap status"
	expect_contains "$err" "is not rowcat's; it is left alone" "message"
	expect_contains "$err" "nothing was changed" "message"
	expect_eq 1048576 "$(rbd info --format json "$FOREIGN" | jq .size)" "foreign image untouched"
	expect_eq 0 "$(rbd snap ls --format json "rbd/$v" | jq length)" "the snapshot was undone"
	expect_eq "rbd/$v" "$(rowcat which "$v")" "no switch"
	expect_eq failed "$(rowcat log "$v" --format json | jq -r '.[0].result')" "logged as failed"
	rbd rm --no-progress "$FOREIGN" >/dev/null 2>&1
	expect_check_clean "$v"
	fps=$(grep '^row\.undo' "$SCRATCH/trace" | awk '!seen[$0]++')
	[ "$(wc -w <<<"$fps")" -ge 6 ] || fail "undo passes only: $fps"
	for fp in $fps; do
		snap_meeting_a_foreign_clone "$v" "$fp"
		expect_eq 137 "$status" "snap killed in its undo at $fp ($err)"
		echo "$fp" >>"$COVERAGE"
		recover_through_crashes
		expect_eq 1048576 "$(rbd info --format json "$FOREIGN" | jq .size)" \
			"foreign image untouched after $fp"
		rbd rm --no-progress "$FOREIGN" >/dev/null 2>&1
		expect_settled "$v" "undo killed at $fp"
	done
}

# The clone's name is journalled with the snap and only then looked for on
# the cluster: an image there that is not rowcat's makes the snap journal
# the next name (VOL.rcN-2), and leaves the image alone; killed on the way,
# it is rolled back.
test_a_foreign_image_at_the_journalled_clone_name_gets_the_next_name() {
	rowcat init -q || fail init
	local v fp; v=$(volname)
	rowcat create "rbd/$v" --size 4M || fail create
	: >"$SCRATCH/trace"
	snap_meeting_a_foreign_clone "$v" "" row.journal.after
	expect_eq 0 "$status" "snap status ($err)"
	expect_eq "$FOREIGN-2" "$(rowcat which "$v")" "the next name"
	expect_eq 1048576 "$(rbd info --format json "$FOREIGN" | jq .size)" "foreign image untouched"
	rbd rm --no-progress "$FOREIGN" >/dev/null 2>&1
	expect_settled "$v" "a snap past a foreign image"
	for fp in $(grep '^row\.target\.' "$SCRATCH/trace" | awk '!seen[$0]++'); do
		snap_meeting_a_foreign_clone "$v" "$fp" row.journal.after
		expect_eq 137 "$status" "snap killed at $fp ($err)"
		echo "$fp" >>"$COVERAGE"
		recover_through_crashes
		expect_eq 1048576 "$(rbd info --format json "$FOREIGN" | jq .size)" \
			"foreign image untouched after $fp"
		rbd rm --no-progress "$FOREIGN" >/dev/null 2>&1
		expect_settled "$v" "snap killed at $fp"
	done
	grep -qx row.target.after "$COVERAGE" || fail "row.target.* never passed: $(cat "$SCRATCH/trace")"
}

# The librbd trap: a clone killed after it created the child image but
# before it attached it to the parent leaves a child without a parent.
# Failpoints sit between librbd calls, so the test makes that child itself:
# snap is killed once the journal says the clone started, and an image
# without parent or tag appears at the clone's name, as librbd leaves it.
test_a_half_made_clone_is_removed_and_made_again() {
	rowcat init -q || fail init
	local v pid target; v=$(volname)
	rowcat create "rbd/$v" --size 4M || fail create
	ROWCAT_FAILPOINT=row.cloning-step.after:stop \
		"$ROWCAT" --id rowcat --catalog "$CATALOG" snap "$v" half 2>/dev/null &
	pid=$!
	wait_stopped "$pid" "the snap"
	kill -KILL "$pid"; wait "$pid" 2>/dev/null
	echo row.cloning-step.after >>"$COVERAGE"
	target=$(catalog_sql "SELECT target_pool || '/' || target_image FROM operation
		WHERE state = 'running'")
	[ -n "$target" ] || fail "no running snap"
	rbd create "$target" --size 4M || fail "the half-made child"
	recover_through_crashes
	grep -qx row.clone-cleanup.after "$COVERAGE" || fail "the half-made clone was not cleaned up"
	expect_eq "rbd/$v@half" "$(rbd_parent "$target")" "the clone made again"
	expect_eq "$target" "$(rowcat which "$v")" "rolled forward"
	expect_settled "$v" "a half-made clone"
}

# restore protects a chosen snapshot that is not protected (an operator
# unprotected a safety snapshot, which has no clones).
# A clone killed inside librbd before it wrote the child's header leaves a
# name that rbd ls lists and nothing opens (seen under ASan in a policy
# run killed with 4 jobs): still the clone's own, removed and made again,
# never left as an orphan.
test_a_clone_killed_before_its_header_is_removed_and_made_again() {
	rowcat init -q || fail init
	local v target id; v=$(volname)
	rowcat create "rbd/$v" --size 4M || fail create
	crash_at row.cloning-step.after rowcat snap "$v" headerless
	target=$(catalog_sql "SELECT target_pool || '/' || target_image FROM operation
		WHERE state = 'running'")
	[ -n "$target" ] || fail "no running snap"
	rbd create "$target" --size 4M || fail "the child"
	id=$(rbd info --format json "$target" | jq -r .id)
	rados -p rbd rm "rbd_header.$id" || fail "removing the child's header"
	rbd info "$target" >/dev/null 2>&1 && fail "$target still opens"
	rbd ls rbd | grep -qx "${target#rbd/}" || fail "rbd ls no longer lists $target"
	recover_through_crashes
	expect_eq "rbd/$v@headerless" "$(rbd_parent "$target")" "the clone made again"
	expect_eq "$target" "$(rowcat which "$v")" "rolled forward"
	expect_settled "$v" "a clone without its header"
}

# A flatten that cut the parent but could not turn the object map on again
# is never ended 'failed' (the catalog would then say the image still
# reads through its parent): it stays in the journal and recover ends it.
test_a_flatten_failing_after_the_parent_is_cut_stays_for_recovery() {
	rowcat init -q || fail init
	local v img; v=$(volname)
	rowcat create "rbd/$v" --size 4M -q && rowcat snap "$v" s1 -q || fail setup
	img=$(rowcat which "$v")
	run with_failpoint flatten.map.before:error rowcat flatten "$v"
	expect_eq 1 "$status" "flatten with the map step failing ($err)"
	expect_contains "$err" "stays in the journal" "the flatten's message"
	expect_eq none "$(rbd_parent "$img")" "the parent cut on the cluster"
	expect_eq 1 "$(running_ops)" "the flatten still in the journal"
	rowcat recover -q || fail recover
	expect_eq '[]' "$(rbd info --format json "$img" | jq -c .flags)" "object map valid again"
	expect_settled "$v" "a flatten whose map step failed"
}

test_restore_protects_an_unprotected_snapshot_first() {
	rowcat init -q || fail init
	local v safety fp image; v=$(volname)
	rowcat create "rbd/$v" --size 4M && rowcat snap "$v" s0 -q || fail setup
	for fp in "" row.source-protect.before row.source-protect.after; do
		rowcat restore "$v" s0 -q || fail "restore"
		safety=$(rowcat log "$v" --format json | jq -r '.[0].detail' | sed 's/.*safety snapshot \([^)]*\)).*/\1/')
		image=$(image_of "$v" "$safety")
		rbd snap unprotect "$image@$safety" || fail "unprotect $image@$safety"
		if [ -z "$fp" ]; then
			rowcat restore "$v" "$safety" -q || fail "restore to an unprotected snapshot"
		else
			crash_at "$fp" rowcat restore "$v" "$safety"
			recover_through_crashes
		fi
		expect_eq true "$(rbd info --format json "$image@$safety" | jq -r .protected)" \
			"protected again (${fp:-no crash})"
		expect_settled "$v" "restore from an unprotected snapshot (${fp:-no crash})"
	done
}

# A failure that waiting does not cure after the clone was made: undo
# removes the clone and the snapshot; killed while it does, recovery
# finishes the job.
test_a_failure_after_the_clone_is_undone_even_through_crashes() {
	rowcat init -q || fail init
	local v fp; v=$(volname)
	rowcat create "rbd/$v" --size 4M || fail create
	expect_refused 1 "failure injected at row.tag.before" \
		with_failpoint row.tag.before:error rowcat snap "$v" u0
	expect_contains "$err" "nothing was changed" "undo message"
	expect_eq "rbd/$v" "$(rowcat which "$v")" "no switch"
	expect_eq "" "$(rbd ls rbd | grep "^$v\.rc")" "the clone was removed"
	expect_eq 0 "$(rbd snap ls --format json "rbd/$v" | jq length)" "the snapshot was removed"
	expect_check_clean "$v"
	for fp in row.undo-clone.before row.undo-clone.after row.undo-unprotect.before \
		  row.undo-snapshot.after row.undo-commit.before; do
		crash_at "row.tag.before:error,$fp" rowcat snap "$v"
		echo "$fp" >>"$COVERAGE"
		recover_through_crashes
		expect_settled "$v" "undo killed at $fp"
	done
}

test_zz_every_failpoint_compiled_in_was_exercised() {
	# test_crash.sh covers create, test_gc_crash.sh gc and unrm,
	# test_policy_crash.sh policy, test_catalog_rados.sh catalog copy's;
	# the windows of a live snap need a consumer: test_live.sh (a
	# real guest) kills at QEMU's, test_hooks.sh at the freeze and thaw
	# hooks'
	expect_failpoints_exercised '*' 'create.*' 'gc.*' 'unrm.*' 'policy.*' 'copy.*' \
		'row.consumer.*' 'row.pausing-step.*' 'row.pause.*' 'row.switch.*' \
		'row.switched-step.*' 'row.resume.*' \
		'row.freeze.*' 'row.switch-hook.*' 'row.thaw.*' 'row.hooks-done.*'
}

run_tests
