#!/usr/bin/env bash
# snap, restore, flatten, log, check and the switch hook on a real cluster,
# checked with rbd.
. "$(dirname "$0")/lib.sh"

SIZE=8388608 # 8 MiB: two 4 MiB objects

new_volume() { # VOL
	rowcat init -q || fail init
	rowcat create "rbd/$1" --size 8M || fail "create $1"
}

# expect_lineage_matches_rbd VOL: every image that rowcat tree --format
# json draws has, on the cluster, the parent its tree position gives it
# (none for the root and for flattened images), and every snapshot it
# draws exists with the protection it shows.
expect_lineage_matches_rbd() {
	local tree; tree=$(rowcat tree "$1" --format json) || fail "tree $1"
	local edges
	# image, its parent in the catalog ("none" or image@snap), flattened
	# and depth
	edges=$(jq -r '.nodes[] | select(.type == "image") |
		[.id, .parent_id // "none", .flattened, .depth] | @tsv' <<<"$tree")
	while IFS=$'\t' read -r image parent flattened depth; do
		local actual; actual=$(rbd_parent "$image")
		if [ "$actual" = none ] && [ "$parent" != none ]; then
			# the catalog must say it was flattened
			[ "$flattened $depth" = "true 0" ] ||
				fail "$image has no parent on the cluster, tree says $parent"
		else
			expect_eq "$parent" "$actual" "parent of $image"
		fi
	done <<<"$edges"
	jq -r '.nodes[] | select(.type == "snapshot") |
		[.parent_id, .snapshot, .protected] | @tsv' <<<"$tree" |
	while IFS=$'\t' read -r image snap protected; do
		local on; on=$(rbd snap ls --format json "$image" |
			jq -r --arg s "$snap" '.[] | select(.name == $s) | .name')
		expect_eq "$snap" "$on" "snapshot $image@$snap on the cluster"
		local p; p=$(rbd info --format json "$image@$snap" | jq -r .protected)
		expect_eq "$protected" "$p" "protection of $image@$snap"
	done || exit 1
}

test_snap_switches_to_a_protected_clone_with_the_five_features() {
	local v; v=$(volname); new_volume "$v"
	run rowcat snap "$v" first
	expect_eq 0 "$status" "snap status ($err)"
	local op; op=$(rowcat which "$v")
	expect_contains "$op" "rbd/$v.rc" "new operating image"
	expect_eq "rbd/$v@first" "$(rbd_parent "$op")" "parent of the clone"
	expect_eq true "$(rbd info --format json "rbd/$v@first" | jq -r .protected)" "protected"
	expect_eq '["deep-flatten","exclusive-lock","fast-diff","layering","object-map"]' \
		"$(rbd info --format json "$op" | jq -c '.features | sort')" "clone features"
	expect_eq "$op" "$(rbd children "rbd/$v@first")" "rbd children"
	# a second snap without a name gets a UTC timestamp name
	rowcat snap "$v" -q || fail "second snap"
	local name; name=$(rowcat tree "$v" --format json |
		jq -r '.nodes[] | select(.type == "snapshot" and .snapshot != "first") | .snapshot')
	[[ "$name" =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || fail "default name '$name'"
	expect_eq 2 "$(rowcat ls --format json | jq '.[0].depth')" "depth after two snaps"
	expect_lineage_matches_rbd "$v"
	expect_check_clean
}

test_restore_brings_back_the_data_and_keeps_a_safety_snapshot() {
	local v; v=$(volname); new_volume "$v"
	local p1 p2 p3
	p1=$(pattern_checksum $SIZE 1) p2=$(pattern_checksum $SIZE 2) p3=$(pattern_checksum $SIZE 3)
	"$RBD_PATTERN" write "$(rowcat which "$v")" 1 || fail "write pattern 1"
	rowcat snap "$v" s1 -q || fail "snap s1"
	"$RBD_PATTERN" write "$(rowcat which "$v")" 2 || fail "write pattern 2"
	rowcat snap "$v" s2 -q || fail "snap s2"
	"$RBD_PATTERN" write "$(rowcat which "$v")" 3 || fail "write pattern 3"
	local before; before=$(rowcat which "$v")
	expect_lineage_matches_rbd "$v"

	run rowcat restore "$v" s1 --format json
	expect_eq 0 "$status" "restore status ($err)"
	local now safety; now=$(rowcat which "$v")
	safety=$(jq -r .snapshot <<<"$out")
	expect_json_keys "$out" "volume pool pool_namespace image snapshot operating" "restore json"
	expect_eq "$now" "$(jq -r "$JQ_SPEC .operating | spec" <<<"$out")" "restore json operating image"
	expect_eq "$before" "$(jq -r "$JQ_SPEC spec" <<<"$out")" "restore json: the safety snapshot's image"
	expect_eq "rbd/$v@s1" "$(rbd_parent "$now")" "restored clone's parent"
	expect_eq "$p1" "$(checksum "$now")" "restored data is the first pattern"
	expect_eq "$p1" "$(checksum "rbd/$v@s1")" "s1 unchanged"
	expect_eq "$p2" "$(checksum "$(rbd_parent "$before" | sed 's/@.*//')@s2")" "s2 unchanged"
	expect_eq "$p3" "$(checksum "$before@$safety")" "safety snapshot holds the last pattern"
	expect_eq true "$(rbd info --format json "$before@$safety" | jq -r .protected)" "safety protected"
	expect_eq pre-restore "$(rowcat tree "$v" --format json |
		jq -r --arg s "$safety" '.nodes[] | select(.snapshot? == $s) | .origin')" "origin"
	# nothing was deleted: every image of the lineage is still there
	expect_eq 4 "$(rbd ls rbd | grep -c "^$v")" "images of the volume"
	expect_lineage_matches_rbd "$v"

	# and the restore can itself be undone from the safety snapshot,
	# named as rbd names a snapshot
	rowcat restore "$v@$safety" -q || fail "restore to the safety snapshot"
	expect_eq "$p3" "$(checksum "$(rowcat which "$v")")" "undone restore"
	expect_check_clean
}

test_flatten_cuts_the_parent_and_keeps_the_history() {
	local v; v=$(volname); new_volume "$v"
	"$RBD_PATTERN" write "rbd/$v" 7 || fail "write"
	rowcat snap "$v" a -q && rowcat snap "$v" b -q || fail snaps
	local op; op=$(rowcat which "$v")
	run rowcat flatten "$v"
	expect_eq 0 "$status" "flatten ($err)"
	expect_eq "" "$out" "flatten prints no data"
	expect_contains "$err" "flattened" "flatten message"
	expect_eq none "$(rbd_parent "$op")" "parent after flatten"
	expect_eq "$(pattern_checksum $SIZE 7)" "$(checksum "$op")" "data after flatten"
	local tree; tree=$(rowcat tree "$v" --format json)
	expect_eq 0 "$(jq --arg op "$op" '.nodes[] | select(.id == $op) | .depth' <<<"$tree")" \
		"depth after flatten"
	expect_eq "$op 0 operating\\x20flattened" \
		"$(rowcat tree "$v" --raw --noheadings -o id,depth,state | grep -F "$op ")" "tree marks it"
	expect_eq 0 "$(rowcat ls --format json | jq '.[0].depth')" "ls depth"
	# the history stays: the flattened image is still drawn under b
	expect_eq "$(image_of "$v" b)@b" \
		"$(jq -r --arg op "$op" '.nodes[] | select(.id == $op) | .parent_id' <<<"$tree")" \
		"the flattened image's parent in the catalog"
	run rowcat flatten "$v"
	expect_eq 0 "$status" "second flatten"
	expect_contains "$err" "nothing to flatten" "second flatten message"
	rowcat snap "$v" c -q || fail "snap after flatten"
	expect_eq 1 "$(rowcat ls --format json | jq '.[0].depth')" "depth after snap of a flattened image"
	expect_lineage_matches_rbd "$v"
	expect_check_clean
}

# Progress on a terminal as rbd draws it: a line only when the whole
# percentage changes (a 1 GiB clone's flatten reports each of its 256
# objects), ending "100% complete...done."; --no-progress draws none.
test_flatten_progress_redraws_only_when_the_percentage_changes() {
	local v cmd; v=$(volname)
	rowcat init -q || fail init
	rowcat create "rbd/$v" --size 1G -q && rowcat snap "$v" s1 -q || fail setup
	cmd=$(printf '%q ' "$ROWCAT" --id rowcat --catalog "$CATALOG" flatten "$v")
	script -qec "$cmd" /dev/null >"$SCRATCH/pty" || fail "flatten on a terminal"
	tr '\r' '\n' <"$SCRATCH/pty" | grep '^Flattening image' >"$SCRATCH/lines"
	expect_eq "Flattening image: 100% complete...done." "$(tail -1 "$SCRATCH/lines")" "last line"
	sed '$d' "$SCRATCH/lines" | sed 's/^Flattening image: \([0-9]*\)% complete\.\.\.$/\1/' >"$SCRATCH/percents"
	[ "$(wc -l <"$SCRATCH/percents")" -ge 50 ] || fail "too few progress lines: $(cat "$SCRATCH/lines")"
	awk 'NR > 1 && $1 + 0 <= last { bad = 1; print "drawn again or back: " last " then " $1 }
	     { last = $1 + 0 } END { exit bad }' "$SCRATCH/percents" >&2 ||
		fail "each line shows a new percentage"
	expect_eq none "$(rbd_parent "$(rowcat which "$v")")" "parent after the flatten"
	rowcat snap "$v" s2 -q || fail "second snap"
	cmd=$(printf '%q ' "$ROWCAT" --id rowcat --catalog "$CATALOG" --no-progress flatten "$v")
	script -qec "$cmd" /dev/null >"$SCRATCH/pty" || fail "flatten --no-progress"
	grep -q 'Flattening image' "$SCRATCH/pty" && fail "--no-progress drew: $(cat "$SCRATCH/pty")"
	expect_eq none "$(rbd_parent "$(rowcat which "$v")")" "parent after the second flatten"
}

# krbd maps an image through at most 16 clone levels (Linux's
# RBD_MAX_PARENT_CHAIN_LEN): from 12 on, snap warns, naming the image and
# the way out, and changes nothing of what it does; rbd counts the same
# levels. After a flatten the warning is gone.
test_a_deep_chain_warns_of_the_kernel_clients_limit() {
	local v d image depth; v=$(volname); new_volume "$v"
	for ((d = 1; d < 12; d++)); do
		run rowcat snap "$v" "s$d" -q
		expect_eq "0 " "$status $err" "snap to depth $d, without a warning"
	done
	run rowcat snap "$v" s12 -q
	expect_eq 0 "$status" "snap to depth 12 ($err)"
	image=$(rowcat which "$v")
	expect_eq "rowcat: warning: $v's operating image $image reads through 12 clone levels; the kernel's rbd client maps at most 16; 'rowcat flatten $v' brings it to 0" \
		"$err" "the warning at depth 12"
	depth=0
	while image=$(rbd_parent "$image") && [ "$image" != none ]; do
		image=${image%@*} depth=$((depth + 1))
	done
	expect_eq 12 "$depth" "the parent chain rbd walks"
	rowcat flatten "$v" -q || fail flatten
	run rowcat snap "$v" s13 -q
	expect_eq "0 " "$status $err" "snap after the flatten, without a warning"
	expect_check_clean
}

# Every open of a clone opens its whole parent chain, so a snap opens its
# operating image once, for the snapshot create (its looks read the
# header and ask the header's watchers; the protect is written on the
# header), and never the new clone (the tag is written on its header),
# and check opens no image whose header it can read: the differences it
# finds there are the same as through an open.
test_a_snap_opens_no_clone_and_check_no_image() {
	local v d clone; v=$(volname); new_volume "$v"
	for d in 1 2 3; do rowcat snap "$v" "s$d" -q || fail "snap s$d"; done
	export ROWCAT_DEBUG_OPENS=1
	run rowcat snap "$v" s4 -q
	expect_eq "0 rowcat: image opens: 1" "$status $err" "snap at depth 3"
	clone=$(rowcat which "$v")
	rbd snap ls --format json "$(rbd_parent "$clone" | cut -d@ -f1)" |
		jq -e 'map(select(.name == "s4" and .protected == "true")) | length == 1' \
		>/dev/null || fail "s4 is not protected, as rbd snap ls shows it"
	expect_eq "op:" "$(rbd image-meta get "$clone" rowcat.operation | cut -c1-3)" \
		"the clone's tag, written on its header"
	expect_lineage_matches_rbd "$v"
	run rowcat check "$v"
	expect_eq "0 rowcat: image opens: 0" "$status $err" "check of a clean volume"
	rbd snap create --no-progress "$clone@stray" || fail "rbd snap create"
	run rowcat check "$v" --format json
	expect_eq 1 "$status" "check of a volume with a stray snapshot ($err)"
	expect_eq "rowcat: image opens: 0" "$(tail -1 <<<"$err")" \
		"the opens of a check with a difference"
	expect_eq "$clone@stray" \
		"$(jq -r '.[] | select(.kind == "unknown-snapshot") | .subject' <<<"$out")" \
		"the stray snapshot, read from the header"
	unset ROWCAT_DEBUG_OPENS
	rbd snap rm --no-progress "$clone@stray" || fail "rbd snap rm"
	expect_check_clean "$v"
}

# A manual snap past the max_depth of the volume's policy, in the policy
# timer's file ($ROWCAT_POLICY_FILE), says so; a file that does not parse
# says nothing (policy check tells its mistakes).
test_a_snap_past_the_policys_max_depth_warns() {
	local v image; v=$(volname); new_volume "$v"
	printf '%s\n' "version: 1" "policies:" "  - name: shallow" "    volumes: [\"rbd/$v\"]" \
		"    every: 1h" "    max_depth: 1" >"$SCRATCH/policy.yaml"
	export ROWCAT_POLICY_FILE=$SCRATCH/policy.yaml
	run rowcat snap "$v" s1 -q
	expect_eq "0 " "$status $err" "snap to depth 1, the policy's max_depth"
	run rowcat snap "$v@s2" -q
	image=$(rowcat which "$v")
	expect_eq "0" "$status" "snap to depth 2 ($err)"
	expect_eq "rowcat: warning: $v's operating image $image reads through 2 clone levels, more than max_depth 1 of policy 'shallow' ($SCRATCH/policy.yaml); the next policy run flattens it, or 'rowcat flatten $v' now" \
		"$err" "the warning at depth 2"
	echo "policies: [" >"$SCRATCH/policy.yaml"
	run rowcat snap "$v" s3 -q
	expect_eq "0 " "$status $err" "snap with a policy file that does not parse"
	expect_eq 1 "$(rbd snap ls --format json "$image" | jq length)" "the snapshot s3"
	expect_eq 3 "$(rowcat ls --format json | jq '.[0].depth')" "depth after s3"
}

test_log_lists_operations_newest_first() {
	local v; v=$(volname); new_volume "$v"
	local first; first=$(rowcat which "$v")
	# a snapshot named as rbd names one, VOL@SNAP
	run rowcat snap "$v@one" --format json
	expect_eq 0 "$status" "snap ($err)"
	expect_json_keys "$out" "volume pool pool_namespace image snapshot operating" "snap json"
	expect_eq "$first@one" "$(jq -r "$JQ_SPEC spec + \"@\" + .snapshot" <<<"$out")" "snap json snapshot"
	expect_eq "$(rowcat which "$v")" "$(jq -r "$JQ_SPEC .operating | spec" <<<"$out")" "snap json operating"
	run rowcat which "$v" --format json
	expect_json_keys "$out" "volume pool pool_namespace image" "which json"
	expect_eq "$(rowcat which "$v")" "$(jq -r "$JQ_SPEC spec" <<<"$out")" "which json image"
	rowcat restore "$v" one -q || fail "restore"
	run rowcat flatten "$v" --format json
	expect_json_keys "$out" "volume pool pool_namespace image flattened" "flatten json"
	expect_eq "$(rowcat which "$v") true" "$(jq -r "$JQ_SPEC spec + \" \(.flattened)\"" <<<"$out")" "flatten json"
	run rowcat flatten "$v" --format json
	expect_eq false "$(jq .flattened <<<"$out")" "flatten json of an image without parent"
	run rowcat consumer "$v" --format json
	expect_eq '{"volume":"'"$v"'","consumer":null,"host":null}' "$out" "consumer json"
	run rowcat recover --format json
	expect_eq '{"finished":0,"undone":0,"failed":0,"busy":0}' "$out" "recover json"
	local log; log=$(rowcat log "$v" --format json)
	expect_json_keys "$log" "id operation started finished policy_time result step duration_ms target snapshot detail clients_ignored paused_ms error host user pid" "log json"
	# --pretty-format indents the same answer
	run rowcat log "$v" --format json --pretty-format
	expect_eq "$log" "$(jq -c . <<<"$out")" "pretty log, read back"
	expect_contains "$out" $'[\n  {\n    "id": ' "pretty log indented"
	expect_eq "flatten restore snap create" "$(jq -r '[.[].operation] | join(" ")' <<<"$log")" "order"
	expect_eq "done done done done" "$(jq -r '[.[].result] | join(" ")' <<<"$log")" "results"
	expect_eq one "$(jq -r '.[2].snapshot' <<<"$log")" "snap's snapshot"
	expect_eq "$(rowcat which "$v")" "$(jq -r "$JQ_SPEC .[1].target | spec" <<<"$log")" "restore's image"
	expect_eq "$(rowcat which "$v")" "$(jq -r "$JQ_SPEC .[0].target | spec" <<<"$log")" "flatten's image"
	jq -e 'all(.[]; .duration_ms >= 0)' <<<"$log" >/dev/null || fail "durations"
	run rowcat log "$v"
	expect_eq 5 "$(wc -l <<<"$out")" "plain log lines"
	expect_contains "$(sed -n 2p <<<"$out")" "flatten" "newest first"
	expect_contains "$(sed -n 4p <<<"$out")" "one as rbd/$v.rc" "snap detail"
	expect_contains "$(sed -n 2p <<<"$out")" "$(rowcat which "$v")" "flatten names its image"
}

test_the_switch_hook_gets_the_images_and_its_failure_keeps_the_switch() {
	local v; v=$(volname); new_volume "$v"
	local old; old=$(rowcat which "$v")
	rowcat snap "$v" h1 -q --on-switch 'echo "$ROWCAT_VOLUME $ROWCAT_OLD_IMAGE $ROWCAT_NEW_IMAGE" > hook.out' ||
		fail "snap with hook"
	expect_eq "$v $old $(rowcat which "$v")" "$(cat hook.out)" "hook environment"
	old=$(rowcat which "$v")
	ROWCAT_ON_SWITCH='echo env-hook > env.out' rowcat restore "$v" h1 -q || fail "restore with env hook"
	expect_eq env-hook "$(cat env.out)" "hook from ROWCAT_ON_SWITCH"
	old=$(rowcat which "$v")
	expect_refused 1 "switch hook 'exit 3' exited 3" rowcat snap "$v" h2 -q --on-switch 'exit 3'
	[ "$(rowcat which "$v")" != "$old" ] || fail "the failed hook undid the switch"
	expect_eq "rbd/$v.rc" "$(rowcat which "$v" | sed 's/rc[0-9]*$/rc/')" "switched"
	expect_check_clean
}

# expect_ended PID WHAT: waits until process PID has ended (a zombie has), at
# most 30 s; fails after that.
expect_ended() {
	local state
	for _ in $(seq 300); do
		state=$(ps -o stat= -p "$1" | cut -c1)
		[ -z "$state" ] || [ "$state" = Z ] && return 0
		sleep 0.1
	done
	fail "process $1 ($2) is still running"
}

test_a_switch_hook_that_never_returns_is_stopped_at_its_time_limit() {
	local v; v=$(volname); new_volume "$v"
	local old new hook='echo $$ > hook.pid; sleep 1000 & echo $! > sleep.pid; wait'
	old=$(rowcat which "$v")
	# timeout only keeps a broken rowcat from hanging the test: 124 fails
	run timeout 300 "$ROWCAT" --id rowcat --catalog "$CATALOG" --hook-timeout 1s \
		--on-switch "$hook" snap "$v" s1
	expect_eq 1 "$status" "snap with a hook that never returns ($err)"
	expect_contains "$err" "volume '$v' switched to rbd/$v.rc" "the message"
	expect_contains "$err" "did not finish within 1 s (--hook-timeout) and was stopped" "the message"
	new=$(rowcat which "$v")
	[ "$new" != "$old" ] || fail "the stopped hook undid the switch"
	expect_eq "rbd/$v@s1" "$(rbd_parent "$new")" "the switch stands on the cluster"
	# the hook and what it started in the background were both stopped
	expect_ended "$(cat hook.pid)" "the hook's shell"
	expect_ended "$(cat sleep.pid)" "the hook's background sleep"
	expect_eq 0 "$(running_ops)" "operations left running"
	# $ROWCAT_HOOK_TIMEOUT sets the limit where $ROWCAT_ON_SWITCH sets the
	# hook; a bare number is seconds, as before limits took units
	run timeout 300 env ROWCAT_HOOK_TIMEOUT=1 ROWCAT_ON_SWITCH='sleep 1000' \
		"$ROWCAT" --id rowcat --catalog "$CATALOG" snap "$v" s2
	expect_eq 1 "$status" "snap with ROWCAT_HOOK_TIMEOUT ($err)"
	expect_contains "$err" "switch hook 'sleep 1000' did not finish within 1 s" "the message"
	# a limit that is no duration, or none, is refused before anything
	# changes
	new=$(rowcat which "$v")
	expect_refused 2 "ROWCAT_HOOK_TIMEOUT: 'soon' is not a duration" \
		env ROWCAT_HOOK_TIMEOUT=soon ROWCAT_ON_SWITCH=true \
		"$ROWCAT" --id rowcat --catalog "$CATALOG" snap "$v" s3
	expect_refused 2 "--hook-timeout: '0' is less than 1s" \
		rowcat snap "$v" s3 --hook-timeout 0
	expect_eq "$new" "$(rowcat which "$v")" "no switch after a refusal"
	rbd snap ls --format json "$new" | jq -e 'length == 0' >/dev/null ||
		fail "a refused snap made a snapshot"
	expect_check_clean
}

# The hook gets PATH, the locale, HOME and the three ROWCAT_ variables; not
# rowcat's Ceph settings (CEPH_ARGS may carry --key) nor anything else.
test_the_switch_hook_gets_a_minimal_environment() {
	local v; v=$(volname); new_volume "$v"
	local old; old=$(rowcat which "$v")
	CEPH_ARGS="--keyring $ROWCAT_TEST_CLUSTER/ceph.client.rowcat.keyring" \
		ROWCAT_TEST_SECRET=hunter2 LC_TIME=C.UTF-8 \
		rowcat snap "$v" e1 -q --on-switch 'env > hook.env' || fail "snap with hook"
	grep -qx "ROWCAT_VOLUME=$v" hook.env || fail "no ROWCAT_VOLUME: $(cat hook.env)"
	grep -qx "ROWCAT_OLD_IMAGE=$old" hook.env || fail "no ROWCAT_OLD_IMAGE: $(cat hook.env)"
	grep -qx "ROWCAT_NEW_IMAGE=$(rowcat which "$v")" hook.env || fail "no ROWCAT_NEW_IMAGE"
	grep -qx "PATH=$PATH" hook.env || fail "not rowcat's PATH: $(cat hook.env)"
	grep -qx "LC_TIME=C.UTF-8" hook.env || fail "no LC_TIME: $(cat hook.env)"
	grep -q '^CEPH_' hook.env && fail "Ceph settings reached the hook: $(grep '^CEPH_' hook.env)"
	grep -q 'hunter2' hook.env && fail "an unrelated variable reached the hook"
	# without a PATH of ours, a standard one
	env -u PATH "$ROWCAT" --id rowcat --catalog "$CATALOG" snap "$v" e3 -q \
		--on-switch 'echo "$PATH" > hook.path' || fail "snap without PATH"
	expect_eq /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$(cat hook.path)" \
		"the hook's PATH when rowcat has none"
}

test_two_snaps_at_once_never_make_two_operating_images() {
	local v; v=$(volname); new_volume "$v"
	local i pids=() statuses=""
	for i in 1 2 3; do
		rowcat snap "$v" "c$i" -q 2>"err$i" & pids+=($!)
	done
	for i in 0 1 2; do
		wait "${pids[$i]}"; statuses+="$? "
	done
	local ok=0
	for i in 1 2 3; do
		if [ -s "err$i" ]; then
			expect_contains "$(cat "err$i")" "volume '$v' is busy" "the loser's message"
			[ "$(wc -l <"err$i")" = 1 ] || fail "more than one line: $(cat "err$i")"
		else
			ok=$((ok + 1))
		fi
	done
	[ "$ok" -ge 1 ] || fail "no snap succeeded ($statuses)"
	expect_eq "$ok" "$(rowcat tree "$v" --format json | jq '[.nodes[] | select(.type == "snapshot")] | length')" \
		"one snapshot per success"
	expect_eq 1 "$(rowcat tree "$v" --format json | jq '[.nodes[] | select(.operating? == true)] | length')" \
		"one operating image"
	expect_eq "$((ok + 1))" "$(rbd ls rbd | grep -c "^$v")" "images on the cluster"
	expect_eq 0 "$(running_ops)" "running operations"
	expect_check_clean
}

# A consumer runs on one host: rowcat consumer records the host it is run
# on ($ROWCAT_HOST plays two here), and a snap through that consumer on
# any other host is refused, naming the host, with nothing changed. A
# restore never goes through the consumer; a consumer given with --qmp is
# the operator's word that it runs here.
test_a_snap_through_a_consumer_of_another_host_is_refused_there() {
	local v before catalog
	v=$(volname); new_volume "$v"
	ROWCAT_HOST=hv-2 rowcat consumer "$v" "unix:$SCRATCH/vm.qmp" || fail "consumer"
	expect_eq "unix:$SCRATCH/vm.qmp on host hv-2" "$(ROWCAT_HOST=hv-1 rowcat consumer "$v")" \
		"the consumer and its host"
	run rowcat consumer "$v" --format json
	expect_eq '{"volume":"'"$v"'","consumer":"unix:'"$SCRATCH"'/vm.qmp","host":"hv-2"}' "$out" \
		"consumer json"
	before=$(cluster_state) catalog=$(catalog_state)
	ROWCAT_HOST=hv-1 expect_refused 3 \
		"$v's consumer runs on host hv-2 (unix:$SCRATCH/vm.qmp); snap it there, or" \
		rowcat snap "$v" s1
	ROWCAT_HOST=hv-1 expect_refused 3 "runs on host hv-2" rowcat snap "$v" s1 --format json
	expect_eq "" "$out" "no JSON from a refused snap"
	expect_eq "$before" "$(cluster_state)" "cluster after the refusals"
	expect_eq "$catalog" "$(catalog_state)" "catalog after the refusals"
	# its own host snaps it (no QEMU listens: as without a consumer)
	ROWCAT_HOST=hv-2 run rowcat snap "$v" s1
	expect_eq 0 "$status" "the snap on hv-2 ($err)"
	ROWCAT_HOST=hv-1 run rowcat restore "$v" s1 -q
	expect_eq "0 " "$status $err" "a restore on hv-1"
	# a consumer given for the snap is reached, not refused for the host
	ROWCAT_HOST=hv-1 run rowcat snap "$v" s2 --qmp "$SCRATCH/other.qmp"
	expect_eq 1 "$status" "a snap through a monitor nobody listens at ($err)"
	case "$err" in *"runs on host"*) fail "--qmp refused for the recorded host: $err" ;; esac
	# the guest moved: recorded again, from hv-1
	ROWCAT_HOST=hv-1 rowcat consumer "$v" "unix:$SCRATCH/vm.qmp" || fail "consumer again"
	expect_eq hv-1 "$(rowcat consumer "$v" --format json | jq -r .host)" "the new host"
	ROWCAT_HOST=hv-1 run rowcat snap "$v" s2 -q
	expect_eq "0 " "$status $err" "the snap on the consumer's new host"
	ROWCAT_HOST=hv-2 expect_refused 3 "runs on host hv-1" rowcat snap "$v" s3
	rowcat consumer "$v" --clear || fail "consumer --clear"
	run rowcat consumer "$v" --format json
	expect_eq '{"volume":"'"$v"'","consumer":null,"host":null}' "$out" "consumer json after --clear"
	ROWCAT_HOST=hv-2 run rowcat snap "$v" s3 -q
	expect_eq "0 " "$status $err" "a snap of the detached volume on hv-2"
	expect_check_clean "$v"
}

test_bad_input_to_snap_and_restore_changes_nothing() {
	local v; v=$(volname); new_volume "$v"
	rowcat snap "$v" s1 -q || fail snap
	local cluster catalog
	cluster=$(cluster_state) catalog=$(catalog_state)
	expect_refused 1 "no volume named 'nosuch'" rowcat snap nosuch
	# refused from a file catalog alone: no cluster is needed to say so
	local offline; offline=$(catalog_as_file) || fail "no file of the catalog"
	CATALOG=$offline expect_refused 1 "no volume named 'nosuch'" \
		rowcat -m 127.0.0.1:1 --timeout 1 restore nosuch s1
	expect_refused 1 "already has a snapshot named 's1'" rowcat snap "$v" s1
	expect_refused 2 "'a@b' contains '@'" rowcat snap "$v" a@b
	expect_refused 2 "'-x' starts with '-'" rowcat snap "$v" -- -x
	expect_refused 1 "volume '$v' has no snapshot 'nope'" rowcat restore "$v" nope
	CATALOG=$offline expect_refused 1 "volume '$v' has no snapshot 'nope'" \
		rowcat -m 127.0.0.1:1 --timeout 1 restore "$v@nope"
	expect_refused 2 "'$v' names no snapshot: write VOL@SNAP or VOL SNAP" rowcat restore "$v"
	expect_refused 2 "names the snapshot, and so does 's1'" rowcat restore "$v@s1" s1
	expect_refused 2 "volumes are named without their pool: did you mean 'x'?" rowcat flatten rbd/x
	expect_eq "$cluster" "$(cluster_state)" "cluster unchanged"
	expect_eq "$catalog" "$(catalog_state)" "catalog unchanged"
}

# removed_while_paused FAILPOINT VOL CMD...: runs rowcat CMD until it stops
# itself at FAILPOINT (its own reads done, nothing journalled yet), runs
# `rowcat rm VOL` there, then lets CMD go on. Sets status and err, and
# MARKED: the catalog as rm left it.
removed_while_paused() {
	local fp=$1 v=$2 pid; shift 2
	ROWCAT_FAILPOINT="$fp:stop" "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		"$@" >"$SCRATCH/out" 2>"$SCRATCH/err" &
	pid=$!
	wait_stopped "$pid" "rowcat $*"
	rowcat rm "$v" -q || { kill -CONT "$pid"; fail "rm $v"; }
	MARKED=$(catalog_state)
	kill -CONT "$pid"
	wait "$pid"
	status=$? err=$(cat "$SCRATCH/err")
}

# The rule that a removed volume takes no snap, restore or flatten is the
# journal's, not the command line's: an `rm VOL` that lands after the
# command's own checks and before its journal entry still stops it.
test_a_volume_removed_just_before_the_journal_entry_takes_no_snap_restore_or_flatten() {
	rowcat init -q || fail init
	local cmd v cluster ops
	for cmd in snap restore flatten; do
		v=$(volname "$cmd")
		rowcat create "rbd/$v" --size 8M || fail "create $v"
		rowcat snap "$v" s1 -q || fail "snap $v s1"
		local operating; operating=$(rowcat which "$v")
		cluster=$(cluster_state)
		ops=$(catalog_sql "SELECT count(*) FROM operation")
		case $cmd in
		snap) removed_while_paused row.journal.before "$v" snap "$v" s2 ;;
		restore) removed_while_paused row.journal.before "$v" restore "$v" s1 ;;
		flatten) removed_while_paused flatten.journal.before "$v" flatten "$v" ;;
		esac
		expect_eq 1 "$status" "$cmd of a volume removed meanwhile: status ($err)"
		expect_eq "rowcat: volume '$v' was removed ('rowcat rm'); it is marked for collection" \
			"$err" "$cmd of a volume removed meanwhile: message"
		# nothing new on the cluster: no snapshot, no clone, no flatten
		expect_eq 1 "$(rbd snap ls --format json "rbd/$v" | jq length)" "snapshots of rbd/$v after $cmd"
		expect_eq 0 "$(rbd snap ls --format json "$operating" | jq length)" "snapshots of $operating after $cmd"
		expect_eq "rbd/$v $operating" "$(rbd ls rbd | grep "^$v" | sed 's|^|rbd/|' | sort | xargs)" \
			"images of $v after $cmd"
		expect_eq "rbd/$v@s1" "$(rbd_parent "$operating")" "parent of $operating after $cmd"
		expect_eq "$cluster" "$(cluster_state)" "cluster after $cmd"
		# the catalog holds the mark and nothing else new
		expect_eq 1 "$(catalog_sql "SELECT count(*) FROM volume
			WHERE name = '$v' AND marked_at IS NOT NULL")" "$v marked"
		expect_eq "$ops" "$(catalog_sql "SELECT count(*) FROM operation")" \
			"operations after $cmd"
		expect_eq "$MARKED" "$(catalog_state)" "catalog after $cmd"
	done
}

test_check_reports_each_difference_and_exits_1() {
	local v; v=$(volname); new_volume "$v"
	rowcat snap "$v" s1 -q && rowcat snap "$v" s2 -q || fail snaps
	expect_check_clean "$v"
	local root=rbd/$v op; op=$(rowcat which "$v")
	# behind rowcat's back: an extra snapshot, an orphan clone, s2 unprotected
	rbd snap create "$op@extra" >/dev/null 2>&1 || fail "rbd snap create"
	rbd clone "$root@s1" "rbd/$v.rc999" || fail "rbd clone"
	local s2_image; s2_image=$(rbd_parent "$op" | sed 's/@.*//')
	run rowcat check "$v" --format json
	expect_eq 1 "$status" "check status"
	expect_json_keys "$out" "kind volume subject message" "check json"
	expect_eq "orphan-image unknown-snapshot" \
		"$(jq -r '[.[].kind] | sort | join(" ")' <<<"$out")" "kinds"
	expect_eq "rbd/$v.rc999" "$(jq -r '.[] | select(.kind == "orphan-image") | .subject' <<<"$out")" "orphan"
	expect_eq "$op@extra" "$(jq -r '.[] | select(.kind == "unknown-snapshot") | .subject' <<<"$out")" "extra"
	run rowcat check "$v"
	expect_eq 2 "$(wc -l <<<"$out")" "one line per difference"
	expect_contains "$err" "2 differences" "summary"
	rbd rm --no-progress "rbd/$v.rc999" >/dev/null 2>&1
	rbd snap rm --no-progress "$op@extra" >/dev/null 2>&1
	# a snapshot that vanished, and a parent link the catalog does not have
	rbd flatten --no-progress "$op" >/dev/null 2>&1 || fail "rbd flatten"
	run rowcat check "$v"
	expect_eq 1 "$status" "check after flatten behind its back"
	expect_contains "$out" "image $op: parent on the cluster is none, the catalog says $s2_image@s2" "parent"
	rbd snap unprotect "$s2_image@s2" >/dev/null 2>&1 || fail "unprotect"
	run rowcat check "$v"
	expect_contains "$out" "snapshot $s2_image@s2 is unprotected on the cluster, protected in the catalog" "protection"
	rbd snap rm --no-progress "$s2_image@s2" >/dev/null 2>&1 || fail "snap rm"
	run rowcat check "$v"
	expect_contains "$out" "snapshot $s2_image@s2 is in the catalog but not on the cluster" "missing"
}

run_tests
