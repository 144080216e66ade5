#!/usr/bin/env bash
# rm, pin and gc on a real cluster, checked with rbd: a dry run changes
# nothing, gc removes exactly what the dry run listed and nothing that is
# needed, the data of what remains reads back unchanged, images open by a
# client are kept, and one gc runs at a time.
. "$(dirname "$0")/lib.sh"

SIZE=8388608 # 8 MiB

safety_snapshot() { # VOL: the newest pre-restore snapshot's name
	safety_snapshots "$1" | tail -1
}

# build_lineage VOL: root -s1-> A -s2-> B -s3-> C, each generation with
# its own data, then restore to s1 (safety snapshot P on C). Leaves
# SUM_S1, SUM_S2, SUM_S3 (the data of each snapshot) and SUM_OP.
build_lineage() {
	local v=$1
	rowcat create "rbd/$v" --size 8M || fail "create $v"
	generations "$v" 1 2 3
	rowcat restore "$v" s1 -q || fail "restore s1"
	SUM_S1=$(pattern_checksum $SIZE 1)
	SUM_S2=$(pattern_checksum $SIZE 2)
	SUM_S3=$(pattern_checksum $SIZE 3)
	SUM_OP=$(checksum "$(rowcat which "$v")")
	expect_eq "$SUM_S1" "$SUM_OP" "the restored image reads s1's data"
}

# snapshot_state: every snapshot of every image in pool rbd, as rbd sees it.
snapshot_state() {
	local image
	for image in $(rbd ls rbd | sort); do
		echo "== $image"
		rbd snap ls --all --format json "rbd/$image"
	done
	echo "== trash"
	rbd trash ls --format json rbd
}

# plan_subjects JSON-PLAN: "action pool/image[@snap]" per step.
plan_subjects() {
	jq -r '.[] | .action + " " + .pool + "/" + .image +
		(if .snapshot then "@" + .snapshot else "" end)'
}

test_gc_removes_exactly_its_dry_run_and_nothing_needed() {
	rowcat init -q || fail init
	local v gone plan before after done_steps; v=$(volname)
	build_lineage "$v"
	gone=$(volname x)
	rowcat create "rbd/$gone" --size 4M && rowcat snap "$gone" g1 -q || fail "second volume"
	local a b c p
	a=$(image_of "$v" s2) b=$(image_of "$v" s3)
	c=$(image_of "$v" "$(safety_snapshot "$v")") p=$(safety_snapshot "$v")
	# s2, s3 and the safety snapshot marked: A, B and C hang on nothing
	# needed, while s1 stays (the operating image reads through it)
	rowcat rm "$v@s2" -q && rowcat rm "$v@s3" -q && rowcat rm "$v@$p" -q &&
		rowcat rm "$gone" -q || fail "rm"
	expect_refused 1 "no snapshot" rowcat rm "$v@nosuch"

	before=$(cluster_state; snapshot_state) || fail "cluster state"
	local catalog_before; catalog_before=$(catalog_state)
	run rowcat gc --dry-run --min-age 0s --trash-delay 0s --format json
	expect_eq 0 "$status" "dry run ($err)"
	plan=$out
	expect_json_keys "$plan" "step action volume pool pool_namespace image snapshot why after" "plan json"
	after=$(cluster_state; snapshot_state)
	expect_eq "$before" "$after" "the cluster after a dry run"
	expect_eq "$catalog_before" "$(catalog_state)" "the catalog after a dry run"
	# A, B, C and the other volume's two images go to the trash and are
	# purged; s2, s3, P and g1 are removed
	expect_eq 4 "$(jq '[.[] | select(.action == "remove")] | length' <<<"$plan")" \
		"snapshot removals planned"
	expect_eq 5 "$(jq '[.[] | select(.action == "trash")] | length' <<<"$plan")" \
		"trash moves planned"
	expect_eq 5 "$(jq '[.[] | select(.action == "purge")] | length' <<<"$plan")" \
		"purges planned"
	# every step comes after the steps it waits for
	expect_eq true "$(jq 'all(.[]; .step as $n | all(.after[]; . < $n))' <<<"$plan")" \
		"leaf-first order"

	run rowcat gc --min-age 0s --trash-delay 0s --format json --jobs 3
	expect_eq 0 "$status" "gc ($err)"
	done_steps=$(jq '[.[] | select(.outcome == "done")]' <<<"$out")
	expect_json_keys "$(jq '[.[] | select(.action != "purge")]' <<<"$out")" \
		"step action volume pool pool_namespace image snapshot why after outcome" "gc json"
	expect_json_keys "$(jq '[.[] | select(.action == "purge")]' <<<"$out")" \
		"step action volume pool pool_namespace image snapshot why after outcome bytes" "gc json, purges"
	expect_eq "$(plan_subjects <<<"$plan" | sort)" \
		"$(plan_subjects <<<"$done_steps" | sort)" "gc did exactly the dry run's plan"

	# on the cluster: the collected images are gone, trash included
	local image
	for image in "$a" "$b" "$c" "rbd/$gone"; do
		rbd info "$image" >/dev/null 2>&1 && fail "$image still exists"
	done
	expect_eq 0 "$(rbd trash ls --format json rbd |
		jq --arg v "$v" '[.[] | select(.name | startswith($v))] | length')" \
		"this test's images in the trash after a purge"
	# what is needed is there, with its data
	expect_eq "$SUM_S1" "$(checksum "rbd/$v@s1")" "s1's data"
	expect_eq "$SUM_OP" "$(checksum "$(rowcat which "$v")")" "the operating image's data"
	expect_eq "rbd/$v@s1" "$(rbd_parent "$(rowcat which "$v")")" "the operating image's parent"
	expect_check_clean
	# nothing is left to collect, and what was collected is history only
	run rowcat gc --dry-run --min-age 0s --trash-delay 0s
	expect_eq "gc plan: 0 steps" "$out" "the plan after gc"
	expect_eq "" "$(rowcat ls --format json | jq -r --arg g "$gone" '.[] | select(.volume == $g) | .volume')" \
		"a collected volume leaves ls"
	rowcat tree "$v" | grep -q "@s2" && fail "tree draws a removed snapshot"
	rowcat tree "$v" --all --raw -o name,state | grep -Eq '^@s2 (un)?protected\\x20marked\\x20removed$' ||
		fail "tree --all draws it"
	expect_eq gc-purge "$(rowcat log "$v" --format json | jq -r '.[0].operation')" "log"
}

# Needed things stay whatever is marked: what the operating image reads
# through, and pinned snapshots with everything they read through.
test_gc_keeps_what_the_operating_image_reads_and_pinned_snapshots() {
	rowcat init -q || fail init
	local v plan; v=$(volname)
	build_lineage "$v"
	rowcat restore "$v" s3 -q || fail "restore s3"
	rowcat rm "$v@s1" -q && rowcat rm "$v@s2" -q || fail rm
	rowcat pin "$v@$(safety_snapshot "$v")" -q || fail pin
	# the operating image reads through s3, s2 and s1; the pinned safety
	# snapshot keeps its image: nothing at all is garbage
	run rowcat gc --dry-run --min-age 0s --trash-delay 0s --format json
	expect_eq "[]" "$out" "plan with everything needed"
	expect_refused 1 "pinned" rowcat rm "$v@$(safety_snapshot "$v")"
	rowcat tree "$v" --raw -o name,state | grep -qxF '@s1 protected\x20marked' ||
		fail "tree shows the mark"
	rowcat tree "$v" -o state | grep -q "pinned" || fail "tree shows the pin"
	expect_eq true "$(rowcat tree "$v" --format json |
		jq '.nodes[] | select(.snapshot? == "s1") | .marked')" "json marked"
	# after a flatten the operating image reads nothing: the chain under
	# it can go, except what the pin keeps
	rowcat flatten "$v" -q || fail flatten
	# -n is the global --name in gc as everywhere (it was gc's --dry-run),
	# and a bare 0 is a duration
	"$ROWCAT" --catalog "$CATALOG" gc -n client.rowcat --min-age 0 --trash-delay 0 \
		-q >/dev/null || fail "gc -n client.rowcat"
	expect_eq "$SUM_S3" "$(checksum "$(rowcat which "$v")")" "data after flatten and gc"
	local pinned; pinned=$(safety_snapshot "$v")
	expect_eq "$SUM_S1" "$(checksum "$(image_of "$v" "$pinned")@$pinned")" \
		"the pinned snapshot's data"
	expect_check_clean
}

# trash_ids SPEC: the ids of the images in SPEC's RBD trash, one a line.
trash_ids() {
	rbd trash ls --format json "$1" | jq -r '.[].id'
}

# trash_id SPEC IMAGE: the id of IMAGE in SPEC's RBD trash, or "".
trash_id() {
	rbd trash ls --format json "$1" | jq -r --arg n "$2" '.[] | select(.name == $n) | .id'
}

# With a trash delay, images wait in the RBD trash (restorable) and their
# snapshots with them, whatever time a command line gives: a dry run may
# show the plan as it would be later, but gc judges the delay by the real
# clock and refuses --now when it would collect.
test_trash_delay_keeps_images_restorable_until_it_ends() {
	rowcat init -q || fail init
	local v c p id; v=$(volname)
	build_lineage "$v"
	p=$(safety_snapshot "$v") c=$(image_of "$v" "$p")
	rowcat rm "$v@$p" -q || fail rm
	# --verbose says what waits and why: C goes to the trash now, its
	# snapshot P with it; nothing is in the trash yet, so no delay ends
	expect_refused 2 "--verbose lists in plain text" \
		rowcat gc --min-age 0s --trash-delay 1h --verbose --format json
	run rowcat gc --min-age 0s --trash-delay 1h --verbose
	expect_eq 0 "$status" "gc --verbose ($err)"
	expect_eq "$c moved to the trash
waiting: 2 garbage items not collectable yet:
      $c@$p  ($v: its image goes to the trash in this run, for the trash delay (until about @))
      $c  ($v: goes to the trash in this run, for the trash delay (until about @))" \
		"$(sed 's/about [-0-9T:]*Z)/about @)/' <<<"$out")" "gc --verbose"
	id=$(rbd trash ls --format json rbd | jq -r --arg n "${c#rbd/}" '.[] | select(.name == $n) | .id')
	[ -n "$id" ] || fail "$c is not in the trash"
	expect_eq 1 "$(rbd snap ls --pool rbd --image-id "$id" --format json | jq length)" \
		"its snapshot waits with it in the trash"
	expect_check_clean
	local until
	until=$(date -u -d "@$(catalog_sql "SELECT trash_until FROM image
		WHERE pool = 'rbd' AND name = '${c#rbd/}'")" +%Y-%m-%dT%H:%M:%SZ)
	run rowcat gc --dry-run --min-age 0s --trash-delay 1h --verbose
	expect_eq "gc plan: 0 steps
waiting: 2 garbage items not collectable yet (younger than --min-age, in the trash, or behind those)
      $c@$p  ($v: its image is in the trash until $until)
      $c  ($v: in the trash until $until)
next trash delay ends at $until" "$out" "dry run --verbose names the purge time"
	rowcat gc --min-age 0s --trash-delay 1h -q >/dev/null || fail "gc within the delay"
	expect_eq "$id" "$(trash_ids rbd | grep -x "$id")" "still in the trash within the delay"
	local ahead before
	ahead=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)
	before=$(catalog_state; cluster_state)
	run rowcat gc --dry-run --min-age 0s --now "$ahead" --format json
	expect_eq 0 "$status" "gc --dry-run --now $ahead ($err)"
	expect_eq "[\"remove\",\"purge\"]" "$(jq -c --arg i "${c#rbd/}" \
		'map(select(.image == $i) | .action)' <<<"$out")" \
		"the plan two hours on, previewed"
	expect_refused 2 "--now only with --dry-run" rowcat gc --min-age 0s --now "$ahead"
	expect_refused 2 "--now only with --dry-run" rowcat gc --min-age 0s --trash-delay 0s \
		--now "$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%SZ)"
	expect_eq "$before" "$(catalog_state; cluster_state)" "the catalog and the cluster after --now"
	expect_eq "$id" "$(trash_ids rbd | grep -x "$id")" "still in the trash after gc --now"
	expect_check_clean

	# unrm brings the image back from the trash, its snapshot with it,
	# and unmarks the snapshot: gc has nothing left to take
	run rowcat unrm "$v@$p"
	expect_eq "0 rowcat: $v@$p unmarked; 1 image restored from the RBD trash" \
		"$status $err" "unrm $v@$p"
	expect_eq "" "$(trash_ids rbd | grep -x "$id")" "out of the trash after unrm"
	expect_eq "$id" "$(rbd info --format json "$c" | jq -r .id)" "the same image back under its name"
	expect_eq "$p" "$(rbd snap ls --format json "$c" | jq -r '.[].name')" "its snapshot with it"
	expect_check_clean
	run rowcat gc --dry-run --min-age 0s --trash-delay 1h
	expect_eq "gc plan: 0 steps" "$out" "nothing to collect after unrm"
	# once gc removed the snapshot there is no undo, and unrm says so
	rowcat rm "$v@$p" -q || fail "rm again"
	rowcat gc --min-age 0s --trash-delay 0s -q >/dev/null || fail "gc without a delay"
	expect_refused 1 "$v@$p is gone: gc removed it at" rowcat unrm "$v@$p"
	expect_check_clean
}

# rm VOL undone: before gc, by the catalog alone (no cluster is asked);
# after gc, while the images wait in the trash, from the trash, where rbd
# sees them come back with their snapshots and parent links; once gc
# purged them, unrm says what is gone and changes nothing.
test_unrm_undoes_rm_of_a_volume_until_gc_purges_it() {
	rowcat init -q || fail init
	local v op in_trash; v=$(volname)
	rowcat create "rbd/$v" --size 4M && rowcat snap "$v" s1 -q || fail setup
	op=$(rowcat which "$v")
	rowcat rm "$v" -q || fail rm
	# with a file catalog, unrm before gc needs no cluster (asked of a copy
	# of a catalog in RADOS, which is then unmarked through the cluster)
	local offline; offline=$(catalog_as_file) || fail "no file of the catalog"
	CATALOG=$offline run rowcat -m 127.0.0.1:1 --timeout 1 unrm "$v"
	expect_eq "0 rowcat: $v unmarked" "$status $err" "unrm before gc, without a cluster"
	expect_eq "" "$(CATALOG=$offline catalog_sql "SELECT marked_at FROM volume WHERE name = '$v'")" \
		"the mark after unrm, without a cluster"
	if [ "$offline" != "$CATALOG" ]; then
		run rowcat unrm "$v"
		expect_eq "0 rowcat: $v unmarked" "$status $err" "unrm before gc"
	fi
	expect_eq "" "$(catalog_sql "SELECT marked_at FROM volume WHERE name = '$v'")" \
		"the mark after unrm"
	run rowcat unrm "$v"
	expect_eq "0 rowcat: $v is not marked for collection; nothing to undo" \
		"$status $err" "unrm twice"
	rowcat rm "$v" -q || fail "rm again"
	rowcat gc --min-age 0s --trash-delay 1h -q >/dev/null || fail gc
	in_trash() {
		rbd trash ls --format json rbd | jq -r --arg v "$v" \
			'[.[] | select(.name == $v or (.name | startswith($v + ".rc"))) | .name] | sort | join(" ")'
	}
	expect_eq "$v ${op#rbd/}" "$(in_trash)" "the trash after gc"
	run rowcat unrm "$v"
	expect_eq "0 rowcat: $v unmarked; 2 images restored from the RBD trash" \
		"$status $err" "unrm after gc"
	expect_eq "" "$(in_trash)" "the trash after unrm"
	expect_eq "$v ${op#rbd/}" "$(rbd ls rbd | grep -E "^$v(\.rc[0-9]+)?$" | sort | paste -sd' ')" \
		"rbd ls after unrm"
	expect_eq s1 "$(rbd snap ls --format json "rbd/$v" | jq -r '.[].name')" "rbd snap ls after unrm"
	expect_eq "rbd/$v@s1" "$(rbd_parent "$op")" "the parent link after unrm"
	expect_eq "$op" "$(rowcat which "$v")" "the operating image after unrm"
	expect_check_clean
	rowcat snap "$v" s2 -q || fail "snap of the volume unrm brought back"
	rowcat rm "$v" -q || fail "rm a third time"
	rowcat gc --min-age 0s --trash-delay 0s -q >/dev/null || fail "gc without a delay"
	local before; before=$(catalog_state)
	expect_refused 1 "cannot undo the rm of '$v': gc purged rbd/$v" rowcat unrm "$v"
	expect_eq "$before" "$(catalog_state)" "the catalog after a refused unrm"
	expect_check_clean
}

# The delay is the real clock's: the first run after it is over by the
# real clock purges the image. (A 2 s delay, waited out by watching the
# clock, however long the machine takes.)
test_an_image_is_purged_once_its_delay_is_over_by_the_real_clock() {
	rowcat init -q || fail init
	local v c p id until started first last; v=$(volname)
	build_lineage "$v"
	p=$(safety_snapshot "$v") c=$(image_of "$v" "$p")
	rowcat rm "$v@$p" -q || fail rm
	first=$(date +%s)
	rowcat gc --min-age 0s --trash-delay 2s -q >/dev/null || fail "gc"
	last=$(date +%s)
	id=$(trash_id rbd "${c#rbd/}")
	[ -n "$id" ] || fail "$c is not in the trash"
	read -r started until < <(catalog_sql -separator ' ' "SELECT o.started_at,
		i.trash_until FROM image i JOIN operation o ON o.image_id = i.id
		WHERE o.kind = 'gc-trash' AND i.pool = 'rbd' AND i.name = '${c#rbd/}'")
	[ "$started" -ge "$first" ] && [ "$started" -le "$last" ] ||
		fail "the move of $c recorded at $started, not between $first and $last"
	expect_eq $((started + 2)) "$until" "the end of the delay, 2 s from the move"
	while [ "$(date +%s)" -le "$until" ]; do sleep 0.2; done
	run rowcat gc --dry-run --min-age 0s --format json
	expect_eq "[\"remove\",\"purge\"]" "$(jq -c --arg i "${c#rbd/}" \
		'map(select(.image == $i) | .action)' <<<"$out")" "the plan once the delay is over"
	rowcat gc --min-age 0s -q >/dev/null || fail "gc after the delay"
	expect_eq "" "$(trash_ids rbd | grep -x "$id")" "purged once the delay is over"
	expect_check_clean
}

# An image a client has open (a hypervisor's watch) is kept; the rest of
# the plan goes on, and the next run takes it.
test_an_image_open_by_a_client_is_kept_busy() {
	rowcat init -q || fail init
	local v other c p holder; v=$(volname) other=$(volname o)
	build_lineage "$v"
	rowcat create "rbd/$other" --size 4M || fail "other volume"
	p=$(safety_snapshot "$v") c=$(image_of "$v" "$p")
	rowcat rm "$v@$p" -q && rowcat rm "$other" -q || fail rm
	mkfifo "$SCRATCH/hold"
	"$RBD_PATTERN" hold "$c" <"$SCRATCH/hold" >"$SCRATCH/held" &
	holder=$!
	exec 3>"$SCRATCH/hold"
	for _ in $(seq 100); do [ -s "$SCRATCH/held" ] && break; sleep 0.1; done
	expect_eq open "$(cat "$SCRATCH/held")" "the client holds $c"
	run rowcat gc --min-age 0s --trash-delay 0s
	expect_eq 0 "$status" "gc with a busy image ($err)"
	expect_contains "$err" "busy $c: image $c is open by a client" "busy message"
	expect_contains "$err" "1 busy" "summary"
	rbd info "$c" >/dev/null || fail "$c was removed while open"
	rbd info "rbd/$other" >/dev/null 2>&1 && fail "the rest of the plan did not run"
	expect_eq rolled-back "$(catalog_sql "SELECT o.state FROM operation o
		JOIN image i ON i.id = o.image_id
		WHERE o.kind = 'gc-trash' AND i.name = '${c#rbd/}'")" "the busy step changed nothing"
	expect_check_clean
	exec 3>&-
	wait "$holder"
	rowcat gc --min-age 0s --trash-delay 0s -q >/dev/null || fail "gc after the client left"
	rbd info "$c" >/dev/null 2>&1 && fail "$c kept after the client left"
	expect_check_clean
}

test_one_gc_at_a_time_and_metrics() {
	rowcat init -q || fail init
	local v pid offline; v=$(volname)
	rowcat create "rbd/$v" --size 4M && rowcat snap "$v" s1 -q || fail setup
	rowcat rm "$v" -q || fail "rm"
	ROWCAT_FAILPOINT=gc.journal.after:stop "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		gc --min-age 0s --trash-delay 0s -q >/dev/null 2>"$SCRATCH/first.err" &
	pid=$!
	wait_stopped "$pid" "the first gc"
	expect_refused 1 "another rowcat gc is running" \
		rowcat gc --min-age 0s --metrics "$SCRATCH/refused.prom"
	expect_contains "$err" "(pid $pid" "the refusal names the running gc"
	[ -e "$SCRATCH/refused.prom" ] && fail "a refused run wrote metrics"
	# a dry run takes no lock, and with a file catalog needs no cluster
	offline=$(catalog_as_file) || fail "no file of the catalog"
	CATALOG=$offline run rowcat -m 127.0.0.1:1 --timeout 1 gc --dry-run --min-age 0s
	expect_eq 0 "$status" "a dry run while a gc runs, without a cluster ($err)"
	expect_contains "$out" "gc plan: " "the dry run's plan"
	# no pin is taken while a gc step works on the volume
	expect_refused 1 "is busy" rowcat pin "$v@s1"
	# it stops at every step it journals: let it go on each time
	resume_until_ended "$pid"
	wait "$pid" || fail "the first gc: $(cat "$SCRATCH/first.err")"
	run rowcat gc --min-age 0s --trash-delay 0s --metrics "$SCRATCH/gc.prom"
	expect_eq 0 "$status" "gc with metrics ($err)"
	grep -qx 'rowcat_gc_last_run_success 1' "$SCRATCH/gc.prom" || fail "metrics: success"
	grep -q '^rowcat_gc_last_run_timestamp_seconds [0-9]' "$SCRATCH/gc.prom" || fail "metrics: time"
	grep -q '^rowcat_gc_duration_seconds [0-9]' "$SCRATCH/gc.prom" || fail "metrics: duration"
	grep -qx 'rowcat_gc_steps{outcome="failed"} 0' "$SCRATCH/gc.prom" || fail "metrics: failed"
	grep -q '^# TYPE rowcat_gc_steps gauge' "$SCRATCH/gc.prom" || fail "metrics: type line"
	expect_eq "" "$(ls "$SCRATCH" | grep '\.tmp\.')" "no temporary metrics file left"
	expect_check_clean
}

# A pool deleted while a gc step on it is pending: the step fails saying
# the pool is missing (it used to crash inside librbd), nothing is marked
# gone as if the images were, and check says which pool is missing. As
# client.admin: client.rowcat's caps name the test pools, and this pool is
# the test's own.
test_a_deleted_pool_is_not_read_as_deleted_images() {
	local pool catalog_before
	pool=$(volname p)
	ceph osd pool create "$pool" 8 8 >/dev/null 2>&1 || fail "ceph osd pool create"
	timeout 60 rbd pool init "$pool" || fail "rbd pool init"
	admin() { "$ROWCAT" --catalog "$CATALOG" "$@"; }
	admin init -q || fail init
	admin create "$pool/pv" --size 4M && admin snap pv s1 -q && admin rm pv -q || fail setup
	# the first step's image is identified, then gc dies before the move
	# (on a catalog in RADOS its claims last 3 s, and the next gc waits
	# for them to expire)
	run env ROWCAT_FAILPOINT=gc.trash.before ROWCAT_CLAIM_LEASE=3s "$ROWCAT" \
		--catalog "$CATALOG" gc --min-age 0s --trash-delay 0s --jobs 1
	expect_eq 137 "$status" "gc killed before the move to the trash ($err)"
	ceph osd pool delete "$pool" "$pool" --yes-i-really-really-mean-it >/dev/null 2>&1 ||
		fail "ceph osd pool delete"
	catalog_before=$(catalog_sql "SELECT id, removed_at, purged_at FROM image")
	after_kill timeout 300 "$ROWCAT" --catalog "$CATALOG" gc --min-age 0s --trash-delay 0s
	expect_eq 1 "$status" "gc with the pool gone ($err)"
	expect_contains "$err" "rowcat: 1 of 5 gc steps failed; the first: pool '$pool' does not exist" \
		"gc's last line"
	expect_eq "$catalog_before" "$(catalog_sql "SELECT id, removed_at, purged_at FROM image")" \
		"no image marked gone"
	run admin check pv
	expect_eq 1 "$status" "check ($err)"
	expect_eq "image $pool/pv is in the catalog but its pool '$pool' does not exist
image $pool/pv.rc2 is in the catalog but its pool '$pool' does not exist" \
		"$(sort <<<"$out")" "check's differences"
	expect_eq 0 "$(running_ops)" "operations left running"
}

test_bad_input_changes_nothing() {
	rowcat init -q || fail init
	local v before; v=$(volname)
	rowcat create "rbd/$v" --size 4M && rowcat snap "$v" s1 -q || fail setup
	before=$(catalog_state; cluster_state)
	expect_refused 2 "--min-age" rowcat gc --min-age 10
	expect_refused 2 "--trash-delay" rowcat gc --trash-delay soon
	expect_refused 2 "--jobs" rowcat gc --jobs 0
	# -n names the client, which gc connects as: not a usage error
	run "$ROWCAT" --catalog "$CATALOG" gc -n client.nosuch --min-age 0
	[ "$status" != 0 ] && [ "$status" != 2 ] || fail "gc -n client.nosuch exited $status ($err)"
	expect_contains "$err" "client.nosuch" "gc -n client.nosuch"
	expect_refused 2 "names no snapshot" rowcat pin "$v"
	expect_refused 2 "snapshot name" rowcat rm "$v@"
	expect_refused 1 "no volume named" rowcat rm nosuch
	expect_refused 1 "no snapshot" rowcat pin "$v@nosuch"
	expect_refused 1 "no volume named" rowcat unrm nosuch
	expect_refused 1 "has no snapshot 'nosuch'" rowcat unrm "$v@nosuch"
	expect_refused 2 "snapshot name" rowcat unrm "$v@"
	expect_eq "$before" "$(catalog_state; cluster_state)" "state after bad input"
}

run_tests
