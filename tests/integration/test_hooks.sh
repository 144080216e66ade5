#!/usr/bin/env bash
# Snaps of a volume whose consumer is not QEMU, between the operator's
# hooks (--on-freeze, --on-thaw, with the switch hook between): the hooks
# are shell commands that write marker lines, so the order they ran in,
# what they were told and how often they ran are all read back. Checked
# from the cluster with rbd:
#   - freeze, switch, thaw, in that order, with ROWCAT_HOOK, ROWCAT_VOLUME,
#     ROWCAT_OLD_IMAGE, ROWCAT_NEW_IMAGE and ROWCAT_OPERATING_IMAGE, and
#     none of rowcat's other environment;
#   - a freeze hook that fails: nothing changed, the thaw ran; a failure
#     inside the window and the pause timeout: the same; a switch hook that
#     fails: the switch stands, the thaw ran, exit 1;
#   - rowcat killed at every failpoint of the hooks' snap, then `rowcat
#     recover` given no hook at all: it runs the thaw exactly when the
#     journal says a freeze may have run (and the switch hook before it
#     once the catalog is switched), and `check` is clean.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crash_lib.sh"

# hooks LOG: the options of a snap whose hooks append "WHAT VARS" to LOG
hooks() {
	local line='$ROWCAT_HOOK $ROWCAT_VOLUME $ROWCAT_OLD_IMAGE $ROWCAT_NEW_IMAGE $ROWCAT_OPERATING_IMAGE'
	HOOKS=(--on-freeze "echo \"freeze $line\" >>'$1'"
	       --on-thaw "echo \"thaw $line\" >>'$1'"
	       --on-switch "echo \"switch $line\" >>'$1'")
}

# what_ran LOG: the hooks that ran, in order, on one line
what_ran() {
	[ -e "$1" ] || { echo; return; }
	awk '{ print $1 }' "$1" | paste -sd' '
}

test_hooks_run_in_order_around_the_switch() {
	rowcat init -q || fail init
	local v log=$SCRATCH/hooks.log old new
	v=$(volname)
	rowcat create "rbd/$v" --size 8M -q || fail create
	old=$(rowcat which "$v")
	hooks "$log"
	run rowcat snap "$v" s1 "${HOOKS[@]}"
	[ "$status" = 0 ] || fail "snap between hooks: $err"
	expect_contains "$err" "consumer frozen" "the snap says how long"
	new=$(rowcat which "$v")
	[ "$new" != "$old" ] || fail "the volume was not switched"
	expect_eq "freeze switch thaw" "$(what_ran "$log")" "the hooks' order"
	expect_eq "freeze freeze $v $old $new $old" "$(sed -n 1p "$log")" "the freeze's environment"
	expect_eq "switch switch $v $old $new $new" "$(sed -n 2p "$log")" "the switch's environment"
	expect_eq "thaw thaw $v $old $new $new" "$(sed -n 3p "$log")" "the thaw's environment"
	expect_eq "$old@s1" "$(rbd_parent "$new")" "the clone's parent on the cluster"
	rowcat log "$v" --format json | jq -e '.[0].paused_ms >= 0' >/dev/null ||
		fail "the log keeps no pause: $(rowcat log "$v")"
	expect_contains "$(rowcat log "$v")" "consumer frozen" "the log's words"
	# the hooks see nothing else of rowcat's environment (CEPH_CONF here)
	run rowcat snap "$v" s2 --on-freeze "env >'$SCRATCH/env'" --on-thaw true
	[ "$status" = 0 ] || fail "snap with env: $err"
	grep -q '^CEPH_CONF=' "$SCRATCH/env" && fail "the freeze hook saw CEPH_CONF"
	grep -qx "ROWCAT_HOOK=freeze" "$SCRATCH/env" || fail "no ROWCAT_HOOK: $(cat "$SCRATCH/env")"
	# the same through the environment, as a timer would give them
	: >"$log"
	ROWCAT_ON_FREEZE="echo freeze >>'$log'" ROWCAT_ON_THAW="echo thaw >>'$log'" \
		rowcat snap "$v" s3 -q || fail "snap with hooks from the environment"
	expect_eq "freeze thaw" "$(what_ran "$log")" "the hooks from the environment"
	expect_check_clean "$v"
}

test_failures_change_nothing_and_always_thaw() {
	rowcat init -q || fail init
	local v log=$SCRATCH/hooks.log op before
	v=$(volname)
	rowcat create "rbd/$v" --size 8M -q && rowcat snap "$v" s0 -q || fail setup
	op=$(rowcat which "$v")
	before=$(cluster_state)
	hooks "$log"

	# a freeze that fails: a half-done freeze is thawed, nothing is taken
	run rowcat snap "$v" f1 "${HOOKS[@]}" --on-freeze "echo freeze >>'$log'; exit 3"
	expect_eq 1 "$status" "a snap whose freeze fails"
	expect_contains "$err" "nothing was changed" "the failed freeze's message"
	expect_contains "$err" "exited 3" "the failed freeze's message"
	expect_eq "freeze thaw" "$(what_ran "$log")" "hooks after a failed freeze"
	expect_eq "$op" "$(rowcat which "$v")" "operating image after a failed freeze"
	expect_eq "$before" "$(cluster_state)" "cluster after a failed freeze"

	# a failure inside the window: thawed, undone, no switch hook
	: >"$log"
	run with_failpoint row.clone.before:error rowcat snap "$v" f2 "${HOOKS[@]}"
	expect_eq 1 "$status" "a snap failing in the window"
	expect_contains "$err" "nothing was changed" "the failure's message"
	expect_eq "freeze thaw" "$(what_ran "$log")" "hooks after a failure"
	expect_eq "$before" "$(cluster_state)" "cluster after a failure"

	# the pause timeout: the watchdog thaws while the snap is held
	: >"$log"
	run with_failpoint row.snapshot.after:block rowcat snap "$v" f3 \
		"${HOOKS[@]}" --pause-timeout 1s
	expect_eq 1 "$status" "a snap past its pause timeout"
	expect_contains "$err" "pause timeout" "the timeout's message"
	expect_eq "freeze thaw" "$(what_ran "$log")" "hooks after the timeout"
	expect_eq "$before" "$(cluster_state)" "cluster after the timeout"
	expect_eq "$op" "$(rowcat which "$v")" "operating image after the timeout"
	expect_eq 0 "$(running_ops)" "running operations after the failures"
	expect_check_clean "$v"

	# a switch hook that fails: the switch stands, the thaw still runs
	: >"$log"
	run rowcat snap "$v" f4 "${HOOKS[@]}" --on-switch "echo switch >>'$log'; exit 4"
	expect_eq 1 "$status" "a snap whose switch hook fails"
	expect_contains "$err" "switched to" "the switch hook's message"
	expect_contains "$err" "exited 4" "the switch hook's message"
	expect_eq "freeze switch thaw" "$(what_ran "$log")" "hooks after a failed switch hook"
	[ "$(rowcat which "$v")" != "$op" ] || fail "the switch was undone"
	expect_eq "$op@f4" "$(rbd_parent "$(rowcat which "$v")")" "the clone of f4"
	expect_eq 0 "$(running_ops)" "running operations after the switch hook"

	# usage: one without the other, or with --qmp: nothing changes
	before=$(cluster_state)
	expect_refused 2 "go together" rowcat snap "$v" u1 --on-freeze true
	expect_refused 2 "go together" rowcat snap "$v" u1 --on-thaw true
	expect_refused 2 "one or the other" rowcat snap "$v" u1 --on-freeze true \
		--on-thaw true --qmp "$SCRATCH/none.sock"
	# a volume with a QEMU consumer recorded: refused, nothing changes
	rowcat consumer "$v" "unix:$SCRATCH/none.sock" || fail "consumer"
	expect_refused 1 "QEMU consumer recorded" rowcat snap "$v" u1 \
		--on-freeze true --on-thaw true
	expect_eq "$before" "$(cluster_state)" "cluster after the refusals"
	expect_check_clean "$v"
}

# journal_froze: whether the one unfinished operation says a freeze may
# have run (and so its thaw must): consumer 'hooks', at pausing or later,
# its thaw not yet run
journal_froze() {
	catalog_sql "SELECT count(*) FROM operation WHERE state = 'running'
		AND consumer = 'hooks' AND consumer_resume = 1
		AND step NOT IN ('journalled', 'target-chosen')"
}

# journal_switched: whether it committed the catalog switch
journal_switched() {
	catalog_sql "SELECT count(*) FROM operation WHERE state = 'running'
		AND consumer = 'hooks' AND step = 'consumer-switched'"
}

test_recover_thaws_exactly_when_the_journal_says_a_freeze_may_have_run() {
	rowcat init -q || fail init
	local v log=$SCRATCH/hooks.log fps fp n=0 froze switched thaws=0
	v=$(volname)
	rowcat create "rbd/$v" --size 4M -q || fail create
	hooks "$log"
	fps=$(trace_of rowcat snap "$v" traced "${HOOKS[@]}")
	for fp in row.freeze.after row.switch-hook.after row.thaw.after row.hooks-done.after; do
		grep -qx "$fp" <<<"$fps" || fail "a snap between hooks never passes $fp: $fps"
	done
	for fp in $fps; do
		n=$((n + 1))
		: >"$log"
		crash_at "$fp" rowcat snap "$v" "k$n" "${HOOKS[@]}"
		froze=$(journal_froze) switched=$(journal_switched)
		: >"$log"
		# recover knows the hooks from the journal alone
		recover_after_kill env -u ROWCAT_ON_FREEZE -u ROWCAT_ON_THAW -u ROWCAT_ON_SWITCH
		[ "$status" = 0 ] || fail "recover after $fp: $err"
		if [ "$switched" = 1 ]; then
			expect_eq "switch thaw" "$(what_ran "$log")" "recovery's hooks after $fp"
			expect_eq "thaw thaw $v" "$(sed -n 2p "$log" | cut -d' ' -f1-3)" \
				"recovery's thaw after $fp"
		elif [ "$froze" = 1 ]; then
			expect_eq "thaw" "$(what_ran "$log")" "recovery's hooks after $fp"
		else
			expect_eq "" "$(what_ran "$log")" "recovery's hooks after $fp"
		fi
		[ "$froze" = 1 ] && thaws=$((thaws + 1))
		expect_eq 0 "$(running_ops)" "running operations after $fp"
		expect_check_clean "$v"
	done
	# the kills spanned both sides of the freeze's record
	[ "$thaws" -gt 0 ] && [ "$thaws" -lt "$n" ] ||
		fail "recovery thawed after $thaws of $n kills"
	rowcat snap "$v" after -q "${HOOKS[@]}" || fail "snap after the kills"
	expect_failpoints_exercised 'row.freeze.*'
	expect_failpoints_exercised 'row.switch-hook.*'
	expect_failpoints_exercised 'row.thaw.*'
	expect_failpoints_exercised 'row.hooks-done.*'
}

run_tests
