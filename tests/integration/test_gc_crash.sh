#!/usr/bin/env bash
# Crash matrix for gc, as for snap, restore and flatten in
# test_row_crash.sh: on a lineage where one run of `rowcat gc` trashes
# images, removes snapshots and purges images, learn which failpoints a
# clean run passes (ROWCAT_FAILPOINT_TRACE); for each, on a fresh volume,
# kill gc there, then crash `rowcat recover` at every failpoint it passes
# in turn until it completes; then check that the journal is empty,
# `rowcat check` finds no difference, everything the volume needs is still
# on the cluster (as rbd sees it), and the next gc finishes the collection
# with the data unchanged. The same for unrm, which restores from the
# trash what gc moved there. The last test asserts that every gc and unrm
# failpoint compiled in was exercised.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crash_lib.sh"

SIZE=4194304
# Everything collectable now, and purged at once.
GC=(gc --min-age 0s --trash-delay 0s)

# build_lineage VOL: makes VOL with this lineage (the pattern written
# into each image in parentheses, `rowcat rm` marks in brackets):
#
#   rbd/VOL (1) @s1
#   └── MID (2) @s2 [rm, but read through by OP]
#       ├── B (3) @s3 [rm]
#       │   └── C (4) @pre-restore-… [rm]
#       ├── D (5) @pre-restore-…-2 [rm]
#       └── OP, operating, reads pattern 2
#
# so that gc trashes, strips and purges D, C and then B (B's snapshot
# only once C is purged), and keeps rbd/VOL@s1, MID@s2 and OP. Sets OP,
# MID and GARBAGE (the images gc takes, "pool/image" each, oldest first:
# B, C, D).
build_lineage() {
	local v=$1 p
	rowcat create "rbd/$v" --size "${SIZE}B" -q || fail "create $v"
	generations "$v" 1 2 3
	"$RBD_PATTERN" write "$(rowcat which "$v")" 4 || fail "write 4"
	rowcat restore "$v" s2 -q || fail "restore to s2"
	"$RBD_PATTERN" write "$(rowcat which "$v")" 5 || fail "write 5"
	rowcat restore "$v" s2 -q || fail "second restore to s2"
	for p in $(safety_snapshots "$v"); do
		rowcat rm -q "$v@$p" || fail "rm $v@$p"
	done
	rowcat rm -q "$v@s3" && rowcat rm -q "$v@s2" || fail "rm s3, s2"
	OP=$(rowcat which "$v") MID=$(image_of "$v" s2)
	GARBAGE=$(rowcat tree "$v" --format json | jq -r --arg op "$OP" --arg mid "$MID" \
		--arg root "rbd/$v" '.nodes[] | select(.type == "image") | .id |
		select(. != $op and . != $mid and . != $root)' | sort -V)
	expect_eq 3 "$(wc -w <<<"$GARBAGE")" "garbage images of $v"
}

# expect_kept VOL WHAT: everything VOL needs is on the cluster, as rbd
# sees it: its operating image, that image's parent chain, the snapshots
# the chain reads through (s1 unmarked, s2 marked but needed), and its
# data.
expect_kept() {
	local v=$1 what=$2
	expect_eq "$OP" "$(rowcat which "$v")" "operating image after $what"
	rbd info "$OP" >/dev/null 2>&1 || fail "$OP is gone after $what"
	expect_eq "$MID@s2" "$(rbd_parent "$OP" 2>/dev/null)" "parent of $OP after $what"
	expect_eq "rbd/$v@s1" "$(rbd_parent "$MID" 2>/dev/null)" "parent of $MID after $what"
	expect_eq none "$(rbd_parent "rbd/$v" 2>/dev/null)" "parent of rbd/$v after $what"
	expect_eq '["s1"]' "$(rbd snap ls --format json "rbd/$v" | jq -c '[.[].name]')" \
		"snapshots of rbd/$v after $what"
	expect_eq '["s2"]' "$(rbd snap ls --format json "$MID" | jq -c '[.[].name]')" \
		"snapshots of $MID after $what"
	expect_eq "$(pattern_checksum $SIZE 2)" "$(checksum "$OP")" "data of $OP after $what"
	expect_eq "$(pattern_checksum $SIZE 1)" "$(checksum "rbd/$v@s1")" "data of s1 after $what"
}

# expect_plan_empty WHAT: a dry run finds nothing left to do or wait for.
expect_plan_empty() {
	run rowcat "${GC[@]}" --dry-run
	[ "$status" = 0 ] || fail "dry run after $1: $err"
	expect_eq "gc plan: 0 steps" "$out" "plan after $1"
}

# expect_collected VOL WHAT: only VOL's needed images are left, in the
# pool; none of its images is in the trash.
expect_collected() {
	local v=$1 what=$2
	expect_eq "$(printf '%s\n' "rbd/$v" "$MID" "$OP" | sed 's|^rbd/||' | sort)" \
		"$(rbd ls rbd | grep -E "^$v(\\.|\$)" | sort)" "images of $v after $what"
	expect_eq "" "$(rbd trash ls rbd | awk -v v="$v" 'index($2, v ".") == 1')" \
		"trash of $v after $what"
}

# finish_collection VOL WHAT: the next gc runs cleanly and leaves nothing.
finish_collection() {
	local v=$1 what=$2
	after_kill rowcat "${GC[@]}" -q
	expect_eq 0 "$status" "gc after $what (stderr: $err)"
	expect_eq 0 "$(running_ops)" "running operations after the gc after $what"
	expect_plan_empty "the gc after $what"
	expect_check_clean "$v"
	expect_collected "$v" "the gc after $what"
	expect_kept "$v" "the gc after $what"
}

test_a_clean_gc_takes_every_kind_of_step() {
	rowcat init -q || fail init
	local v; v=$(volname)
	build_lineage "$v"
	run rowcat "${GC[@]}" --dry-run --format json
	expect_eq 0 "$status" "dry run ($err)"
	expect_eq '{"purge":3,"remove":3,"trash":3}' \
		"$(jq -c 'group_by(.action) | map({(.[0].action): length}) | add' <<<"$out")" \
		"steps of the plan"
	# s3 goes only after C, the clone reading it, was purged
	expect_eq true "$(jq --arg c "$(sed -n 2p <<<"$GARBAGE")" '. as $p | any(.[];
		.snapshot == "s3" and any(.after[]; $p[. - 1].action == "purge" and
		("rbd/" + $p[. - 1].image) == $c))' <<<"$out")" "s3 waits for the purge of its clone"
	# the dry run changed nothing
	expect_eq "" "$(rbd trash ls rbd | awk -v v="$v" 'index($2, v ".") == 1')" "trash after a dry run"
	run rowcat "${GC[@]}"
	expect_eq 0 "$status" "gc ($err)"
	expect_contains "$err" "3 images moved to the trash, 3 snapshots removed, 3 images purged" "summary"
	expect_contains "$err" "0 busy, 0 skipped, 0 failed; 0 waiting" "summary"
	expect_plan_empty "a clean gc"
	expect_check_clean "$v"
	expect_collected "$v" "a clean gc"
	expect_kept "$v" "a clean gc"
}

# One job, so that gc dies exactly at the failpoint, between librbd
# calls; test_gc_killed_with_steps_side_by_side kills it mid-call too.
test_gc_recovers_from_a_crash_at_every_step() {
	rowcat init -q || fail init
	local v fps fp n=0; v=$(volname t)
	build_lineage "$v"
	fps=$(trace_of rowcat "${GC[@]}" --jobs 1)
	[ "$(wc -w <<<"$fps")" -ge 14 ] || fail "gc passes only: $fps"
	for fp in gc.identify.before gc.trash.after gc.unprotect.before gc.purge.after; do
		grep -qx "$fp" <<<"$fps" || fail "gc never passes $fp: $fps"
	done
	expect_collected "$v" "the traced gc"
	for fp in $(sample_failpoints 0 "$fps"); do
		n=$((n + 1)) v=$(volname "k$n")
		build_lineage "$v"
		crash_at "$fp" rowcat "${GC[@]}" --jobs 1
		# a step left unfinished holds its volume: no pin may be taken
		# while gc is committed to removing what it journalled
		if [ "$(running_ops)" -gt 0 ]; then
			expect_refused 1 "is busy" rowcat pin "$v@s1"
		fi
		recover_through_crashes
		expect_eq 0 "$(running_ops)" "running operations after gc killed at $fp"
		expect_check_clean "$v"
		expect_kept "$v" "gc killed at $fp"
		finish_collection "$v" "gc killed at $fp"
	done
}

# With steps on different images running side by side, the thread that
# reaches the failpoint kills the others wherever they are, inside librbd
# calls too. Recovery and the next gc must still lose nothing and fail no
# step; an image the dead rowcat still had open keeps its watch for a
# while (30 s), so the next gc may find it busy and leave it for later.
test_gc_killed_with_steps_side_by_side() {
	rowcat init -q || fail init
	local v fp n=0
	for fp in gc.trash.after gc.commit.before gc.unprotect.before gc.purge.before; do
		n=$((n + 1)) v=$(volname "p$n")
		build_lineage "$v"
		crash_at "$fp" rowcat "${GC[@]}" --jobs 4
		recover_through_crashes
		expect_eq 0 "$(running_ops)" "running operations after gc killed at $fp"
		expect_check_clean "$v"
		expect_kept "$v" "gc --jobs 4 killed at $fp"
		after_kill rowcat "${GC[@]}"
		expect_eq 0 "$status" "gc after gc --jobs 4 killed at $fp (stderr: $err)"
		expect_contains "$err" " 0 failed;" "gc after gc --jobs 4 killed at $fp"
		grep "^rowcat: gc: busy" <<<"$err" | grep -v -e "is open by" -e "holds its lock" &&
			fail "busy for another reason than the dead rowcat's watch or lock after $fp: $err"
		expect_eq 0 "$(running_ops)" "running operations after the gc after $fp"
		expect_check_clean "$v"
		expect_kept "$v" "the gc after gc --jobs 4 killed at $fp"
	done
}

# Without a `rowcat recover` in between, gc finishes what the killed gc
# left first and then collects the rest.
test_the_next_gc_finishes_what_a_killed_gc_left() {
	rowcat init -q || fail init
	local v; v=$(volname)
	build_lineage "$v"
	crash_at gc.snap-remove.after rowcat "${GC[@]}" --jobs 1
	[ "$(running_ops)" -gt 0 ] || fail "nothing left running by a gc killed mid-step"
	after_kill rowcat "${GC[@]}"
	expect_eq 0 "$status" "gc after a killed gc ($err)"
	expect_contains "$err" "unfinished operation" "gc reports its recovery"
	expect_eq 0 "$(running_ops)" "running operations"
	expect_plan_empty "the gc after a killed gc"
	expect_check_clean "$v"
	expect_collected "$v" "the gc after a killed gc"
	expect_kept "$v" "the gc after a killed gc"
}

# A snapshot on an image that is not in the trash is unprotected and
# removed by name (one in the trash, by the image's id, as above). The
# planner gives such a step for a garbage image too young to trash but
# with a snapshot old enough to go; no command leaves an image younger
# than its own snapshot, so the catalog is told so directly.
test_a_snapshot_on_an_image_out_of_the_trash_is_removed_through_crashes() {
	rowcat init -q || fail init
	local v fps fp n=0 old safety young
	lineage_with_young_image() {
		v=$(volname "$1")
		rowcat create "rbd/$v" --size "${SIZE}B" -q || fail "create $v"
		"$RBD_PATTERN" write "rbd/$v" 1 || fail "write 1"
		rowcat snap "$v" s1 -q || fail "snap s1"
		"$RBD_PATTERN" write "$(rowcat which "$v")" 2 || fail "write 2"
		rowcat restore "$v" s1 -q || fail "restore to s1"
		safety=$(safety_snapshots "$v") old=$(image_of "$v" "$safety")
		young=$(rowcat which "$v")
		rowcat rm -q "$v@$safety" || fail "rm $v@$safety"
		catalog_sql "UPDATE image SET created_at = created_at + 86400
			WHERE pool = 'rbd' AND name = '${old#rbd/}'" || fail "age $old"
		run rowcat "${GC[@]}" --dry-run --format json
		expect_eq "[\"remove ${old#rbd/}@$safety\"]" \
			"$(jq -c 'map(.action + " " + .image + "@" + .snapshot)' <<<"$out")" "plan"
	}
	# expect_removed WHAT: the snapshot is gone, its image kept in the pool
	expect_removed() {
		expect_eq 0 "$(running_ops)" "running operations after $1"
		expect_check_clean "$v"
		expect_eq "[]" "$(rbd snap ls --format json "$old" | jq -c .)" "snapshots of $old after $1"
		expect_eq "$(pattern_checksum $SIZE 2)" "$(checksum "$old")" "data of $old after $1"
		expect_eq "$young" "$(rowcat which "$v")" "operating image after $1"
		expect_eq "rbd/$v@s1" "$(rbd_parent "$young")" "parent of $young after $1"
		expect_eq "$(pattern_checksum $SIZE 1)" "$(checksum "$young")" "data of $young after $1"
		expect_eq '["s1"]' "$(rbd snap ls --format json "rbd/$v" | jq -c '[.[].name]')" \
			"snapshots of rbd/$v after $1"
		run rowcat "${GC[@]}" --dry-run
		expect_contains "$out" "gc plan: 0 steps" "plan after $1"
		# once old enough, the image goes too
		catalog_sql "UPDATE image SET created_at = created_at - 86400
			WHERE pool = 'rbd' AND name = '${old#rbd/}'" || fail "age $old back"
		after_kill rowcat "${GC[@]}" -q || fail "gc of $old after $1: $err"
		expect_plan_empty "the gc of $old after $1"
		expect_check_clean "$v"
		rbd info "$old" >/dev/null 2>&1 && fail "$old still in the pool after $1"
		expect_eq "" "$(rbd trash ls rbd | awk -v v="$v" 'index($2, v ".") == 1')" \
			"trash of $v after $1"
		expect_eq "$(pattern_checksum $SIZE 1)" "$(checksum "$young")" "data of $young after $1"
	}
	lineage_with_young_image t
	fps=$(trace_of rowcat "${GC[@]}")
	expect_eq "gc.journal.before gc.journal.after gc.unprotect.before gc.unprotect.after gc.snap-remove.before gc.snap-remove.after gc.commit.before gc.commit.after" \
		"${fps//$'\n'/ }" "failpoints of a snapshot removal"
	expect_removed "a clean gc"
	for fp in $(sample_failpoints 1 "$fps"); do
		n=$((n + 1))
		lineage_with_young_image "k$n"
		crash_at "$fp" rowcat "${GC[@]}"
		recover_through_crashes
		expect_eq 0 "$(running_ops)" "running operations after gc killed at $fp"
		expect_check_clean "$v"
		if [ "$fp" = gc.journal.before ]; then
			# nothing journalled, nothing done: the next gc does it
			expect_eq "[\"$safety\"]" "$(rbd snap ls --format json "$old" |
				jq -c '[.[].name]')" "snapshots of $old after gc killed at $fp"
			after_kill rowcat "${GC[@]}" -q || fail "gc after gc killed at $fp: $err"
		fi
		expect_removed "gc killed at $fp"
	done
}

# A trash step killed before or after its move keeps the delay it was
# journalled with: recovery moves the image with what is left of it, and
# a gc with a shorter --trash-delay does not purge it sooner. (One job, so
# that D's trash is the one step journalled when gc dies.)
test_a_trash_delay_survives_a_crash() {
	rowcat init -q || fail init
	local v fp b c d until deferred before after
	for fp in gc.trash.before gc.trash.after; do
		v=$(volname "${fp#gc.trash.}")
		build_lineage "$v"
		d=${GARBAGE##*$'\n'}
		before=$(date +%s)
		crash_at "$fp" rowcat gc --min-age 0s --trash-delay 1h --jobs 1
		after=$(date +%s)
		expect_eq 1 "$(running_ops)" "running operations when gc was killed at $fp"
		recover_through_crashes
		expect_eq 0 "$(running_ops)" "running operations after gc killed at $fp"
		expect_check_clean "$v"
		expect_kept "$v" "gc --trash-delay 1h killed at $fp"
		# the delay was fixed when the killed gc journalled the step, an
		# hour from then, and recovery (however long it took) kept it
		until=$(catalog_sql "SELECT trash_until FROM image
			WHERE pool = 'rbd' AND name = '${d#rbd/}'")
		[ -n "$until" ] && [ "$until" -ge $((before + 3600)) ] &&
			[ "$until" -le $((after + 3600)) ] ||
			fail "$d in the trash until ${until:-never}, not an hour after the gc killed at $fp ($before-$after)"
		deferred=$(rbd trash ls -l --format json rbd |
			jq -r --arg n "${d#rbd/}" '.[] | select(.name == $n) | .status')
		deferred=$(date -d "${deferred#protected until }" +%s 2>/dev/null) ||
			fail "$d not deferred in the trash after $fp"
		[ "$deferred" -ge $((until - 1)) ] ||
			fail "$d deferred in the trash only until $deferred, not $until, after $fp"
		# C and then B are collected at once; D waits in the trash
		run rowcat "${GC[@]}" --dry-run --format json
		c=$(sed -n 2p <<<"$GARBAGE") b=${GARBAGE%%$'\n'*}
		expect_eq "[\"trash $c\",\"remove $c\",\"purge $c\",\"trash $b\",\"remove $b\",\"purge $b\"]" \
			"$(jq -c --arg v "$v" 'map(select(.volume == $v) | .action + " rbd/" + .image)' \
			<<<"$out")" "plan after $fp"
	done
}

# librbd moves an image to the trash in steps: a trash entry in state
# MOVING, the id object and directory entry removed, the state set to
# NORMAL. rowcat killed inside that call (another gc thread reaching a
# failpoint, OOM, power) leaves an entry librbd refuses to purge ("image
# is pending moving to the trash") until a trash move of the name
# finishes it. The test leaves that state itself: gc is killed once D's
# trash step is journalled, and D is moved with rbd and set back to
# MOVING, as a kill before the last step leaves it.
test_a_trash_move_cut_short_inside_librbd_is_finished() {
	rowcat init -q || fail init
	local v d id; v=$(volname)
	build_lineage "$v"
	d=${GARBAGE##*$'\n'}
	crash_at gc.trash.before rowcat "${GC[@]}" --jobs 1
	id=$(catalog_sql "SELECT rbd_id FROM image WHERE pool = 'rbd' AND name = '${d#rbd/}'")
	[ -n "$id" ] || fail "no id recorded for $d"
	rbd trash mv "$d" || fail "rbd trash mv $d"
	rados -p rbd getomapval rbd_trash "id_$id" "$SCRATCH/spec" >/dev/null 2>&1 ||
		fail "trash entry of $d"
	expect_eq 00 "$(tail -c 1 "$SCRATCH/spec" | od -An -tx1 | tr -d ' ')" "state of the entry"
	{ head -c -1 "$SCRATCH/spec"; printf '\001'; } >"$SCRATCH/moving"
	rados -p rbd setomapval rbd_trash "id_$id" --input-file "$SCRATCH/moving" ||
		fail "setting the entry of $d to MOVING"
	run rbd trash rm --force "rbd/$id"
	expect_contains "$err" "pending moving to the trash" "librbd sees an unfinished move"
	recover_through_crashes
	expect_eq 0 "$(running_ops)" "running operations after recovery"
	expect_check_clean "$v"
	expect_kept "$v" "a trash move cut short"
	finish_collection "$v" "a trash move cut short"
}

# An injected EIO fails its step for good: gc exits 1 saying so, every
# step waiting for it is skipped, the rest of the plan runs, the operation
# ends 'failed' rather than running, and the next gc collects it all.
test_a_failed_step_skips_its_dependents_and_the_next_gc_finishes() {
	rowcat init -q || fail init
	local v failed first line; v=$(volname)
	build_lineage "$v"
	# D first, so that the failing run has steps independent of C's trash
	first=${GARBAGE##*$'\n'} failed=$(sed -n 2p <<<"$GARBAGE")
	run rowcat "${GC[@]}" --max-steps 1
	expect_eq 0 "$status" "gc --max-steps 1 ($err)"
	expect_eq "$first moved to the trash" "$out" "gc --max-steps 1"
	run with_failpoint gc.trash.before:error rowcat "${GC[@]}"
	expect_eq 1 "$status" "gc with a failing step (stderr: $err)"
	expect_contains "$err" "rowcat: gc: failed $failed: failure injected at gc.trash.before" "failure"
	expect_contains "$err" "rowcat: 1 of 8 gc steps failed; the first: failure injected at gc.trash.before" \
		"final message"
	expect_contains "$err" "0 busy, 5 skipped, 1 failed" "summary"
	expect_eq 5 "$(grep -c "^rowcat: gc: skipped .*, which did not succeed\$" <<<"$err")" \
		"skipped dependents ($err)"
	for line in "skipped $failed@" "skipped $failed:" "skipped ${GARBAGE%%$'\n'*}:" \
		    "skipped ${GARBAGE%%$'\n'*}@s3:"; do
		expect_contains "$err" "rowcat: gc: $line" "skipped dependent"
	done
	expect_eq "$(printf '%s@pre-restore-* removed\n%s purged from the trash (4 MiB)' "$first" "$first")" \
		"$(sed 's/@pre-restore-[^ ]* removed/@pre-restore-* removed/' <<<"$out")" \
		"the independent steps ran"
	expect_eq 0 "$(running_ops)" "running operations after a failed step"
	expect_eq "failed failure injected at gc.trash.before" \
		"$(rowcat log "$v" --format json | jq -r --arg d "$failed (nothing needs it)" \
		'.[] | select(.operation == "gc-trash" and .detail == $d) | .result + " " + .error')" \
		"the failed step in the log"
	expect_check_clean "$v"
	expect_kept "$v" "a failed step"
	rbd info "$failed" >/dev/null 2>&1 || fail "$failed left the pool though its trash step failed"
	rbd info "$first" >/dev/null 2>&1 && fail "$first still in the pool"
	expect_eq "" "$(rbd trash ls rbd | awk -v f="${first#rbd/}" '$2 == f')" "$first purged"
	finish_collection "$v" "a failed step"
}

# A step whose cluster side is done but whose record fails stays in the
# journal, to be rolled forward, rather than ending 'failed' with the
# catalog and the cluster apart.
test_a_step_that_fails_to_record_stays_for_recovery() {
	rowcat init -q || fail init
	local v first; v=$(volname)
	build_lineage "$v"
	first=${GARBAGE##*$'\n'}
	run with_failpoint gc.commit.before:error rowcat "${GC[@]}" --max-steps 1
	expect_eq 1 "$status" "gc failing to record (stderr: $err)"
	expect_contains "$err" "stays in the journal; 'rowcat recover' finishes it" "message"
	expect_eq 1 "$(running_ops)" "the step left running"
	rbd info "$first" >/dev/null 2>&1 && fail "$first not moved"
	run rowcat check "$v"
	expect_eq 1 "$status" "check with the step unfinished"
	expect_contains "$out" "(gc-trash of volume '$v') is unfinished" "check names the unfinished step"
	recover_through_crashes
	expect_eq 0 "$(running_ops)" "running operations after recovery"
	expect_check_clean "$v"
	expect_kept "$v" "a step that failed to record"
	finish_collection "$v" "a step that failed to record"
}

# unrm_lineage VOL: VOL of two images (root @s1, its clone operating),
# marked and moved to the trash by gc, with a delay; sets OP.
unrm_lineage() {
	rowcat create "rbd/$1" --size $SIZE -q && rowcat snap "$1" s1 -q ||
		fail "create $1"
	OP=$(rowcat which "$1")
	rowcat rm "$1" -q && rowcat gc --min-age 0s --trash-delay 1h -q >/dev/null ||
		fail "rm and gc of $1"
}

# An unrm killed at each of its failpoints, then recovery killed at each
# it passes: the images end back in the pool, under their names, out of
# the trash, the volume unmarked, and the catalog agrees.
test_unrm_recovers_from_a_crash_at_every_step() {
	rowcat init -q || fail init
	local v fps fp n=0; v=$(volname u)
	unrm_lineage "$v"
	fps=$(trace_of rowcat unrm "$v")
	for fp in unrm.journal.before unrm.restore.after unrm.commit.after; do
		grep -qx "$fp" <<<"$fps" || fail "unrm never passes $fp: $fps"
	done
	for fp in $(sample_failpoints 0 "$fps"); do
		n=$((n + 1)) v=$(volname "u$n")
		unrm_lineage "$v"
		crash_at "$fp" rowcat unrm "$v"
		recover_through_crashes
		# killed before it journalled: nothing happened, and the
		# operator's unrm does it all
		[ "$fp" = unrm.journal.before ] && { rowcat unrm "$v" -q || fail "unrm after $fp"; }
		expect_eq 0 "$(running_ops)" "running operations after unrm killed at $fp"
		expect_eq "" "$(rbd trash ls --format json rbd | jq -r --arg v "$v" \
			'.[] | select(.name == $v or (.name | startswith($v + ".rc"))) | .name')" \
			"the trash after unrm killed at $fp"
		expect_eq "rbd/$v@s1" "$(rbd_parent "$OP")" "$OP after unrm killed at $fp"
		expect_eq "" "$(catalog_sql "SELECT marked_at FROM volume WHERE name = '$v'")" \
			"the mark after unrm killed at $fp"
		expect_check_clean "$v"
	done
}

test_zz_every_gc_failpoint_was_exercised() {
	expect_failpoints_exercised 'gc.*'
	expect_failpoints_exercised 'unrm.*'
}

run_tests
