#!/usr/bin/env bash
# Flatten killed part-way loses no data. Debian 12's librbd (16.2)
# flattens only the objects its object map says may be missing, and a
# copy-up marks the map before it writes, so a flatten killed between the
# two and resumed with the map on detached the parent over objects the
# cluster never got: zeros (Ceph tracker 68998; rbdops/object_map.c). So
# every case here compares `rbd export` checksums of the operating image
# with those of its parent snapshot, which stays, after:
#
#   - a kill at each flatten.* failpoint (`rowcat debug failpoints`);
#   - kills after a delay, spread over the time a clean flatten takes
#     (measured here, so that they land inside librbd's flatten and inside
#     the object map's off/on/rebuild whatever the machine), each resumed
#     by `rowcat recover`, by `rowcat flatten` again, or by a recovery
#     that is itself killed part-way and then run again;
#   - a plain `rbd flatten` killed part-way, then `rowcat flatten`, and the
#     state such a kill can leave made on purpose (objects the map claims
#     and the cluster lacks);
#   - a kill between librbd's flatten and the map on again (made);
#   - a policy run that flattens for max_depth, killed after a delay.
#
# Timing decides only where a kill lands, never whether a test passes;
# but the delay test counts where its kills landed and fails when fewer
# than half landed mid-flatten, so that it cannot quietly stop testing
# what it claims. A rowcat killed with an image open keeps its watch for
# about 30 s, and the next client waits for it: kills are done in batches,
# and the batch waits once for the dead watches to go.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crash_lib.sh"

SIZE=134217728 # 128 MiB, 32 objects: a flatten long enough to kill inside
OBJECTS=32
SEED=7
MAP_KEY=rowcat.flatten.map-features
# Delay kills of test_flatten_killed_after_a_delay_loses_nothing; the
# sanitizer build (tests/CMakeLists.txt) sets fewer, as its rowcat is
# slower and the suite's time is bounded. Fixed positions, not random.
KILLS=${ROWCAT_FLATTEN_KILLS:-12}
BATCH=6 # volumes alive at once: 2 x 128 MiB each in the memstore OSD
WANT=$(pattern_checksum $SIZE $SEED)

# rowcat_at CATALOG ARGS...: rowcat on another catalog than the test's;
# each killed volume has its own, so that a recovery resumes only it.
rowcat_at() {
	local cat=$1
	shift
	"$ROWCAT" --id rowcat --catalog "$cat" "$@"
}

running_ops_at() {
	CATALOG=$1 catalog_sql "SELECT count(*) FROM operation WHERE state = 'running'"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# prepare CATALOG VOL: a volume of SIZE with the pattern SEED written into
# its first image, snapped as s1; prints the operating image (a clone of
# rbd/VOL@s1 that owns no data yet).
prepare() {
	local cat=$1 v=$2
	CATALOG=$cat catalog_exists || rowcat_at "$cat" init -q || fail "init $cat"
	rowcat_at "$cat" create "rbd/$v" --size "${SIZE}B" -q || fail "create $v"
	"$RBD_PATTERN" write "rbd/$v" $SEED || fail "write $v"
	rowcat_at "$cat" snap "$v" s1 -q || fail "snap $v"
	rowcat_at "$cat" which "$v"
}

# discard CATALOG VOL: removes every image of VOL from the cluster, the
# newest (the children) first: the test cluster is shared and in memory.
discard() {
	local img snap
	for img in $(CATALOG=$1 catalog_sql "SELECT pool || '/' || name FROM image
		WHERE volume_id = (SELECT id FROM volume WHERE name = '$2') ORDER BY id DESC"); do
		for snap in $(rbd snap ls --format json "$img" 2>/dev/null | jq -r '.[].name'); do
			rbd snap unprotect "$img@$snap" >/dev/null 2>&1
		done
		rbd snap purge --no-progress "$img" >/dev/null 2>&1
		rbd rm --no-progress "$img" >/dev/null 2>&1 || echo "# could not remove $img" >&2
	done
}

has_map_key() {
	rbd image-meta ls --format json "$1" 2>/dev/null | jq -e --arg k "$MAP_KEY" 'has($k)' >/dev/null
}

has_object_map() {
	rbd info --format json "$1" | jq -e '.features | index("object-map")' >/dev/null
}

# objects_of IMAGE: how many data objects the image owns on the cluster.
objects_of() {
	local prefix
	prefix=$(rbd info --format json "$1" | jq -r .block_name_prefix)
	rados -p rbd ls | grep -c "^$prefix\\." || true
}

# flatten_problems CATALOG VOL IMAGE PARENT_SNAP: prints what is wrong
# with a flatten that should be finished, one line each (nothing if all
# is well): the journal empty, `rowcat check` clean, no parent, the data
# of the parent snapshot (and the pattern written), the object map and
# fast-diff on and valid, the metadata key gone.
flatten_problems() {
	local cat=$1 v=$2 img=$3 snap=$4 info got from
	[ "$(running_ops_at "$cat")" = 0 ] || echo "operations left running"
	run rowcat_at "$cat" check "$v"
	[ "$status" = 0 ] && [ -z "$out" ] || echo "rowcat check: $status: $out $err"
	[ "$(rbd_parent "$img")" = none ] || echo "$img still has a parent: $(rbd_parent "$img")"
	got=$(checksum "$img") from=$(checksum "$snap")
	[ "$from" = "$WANT" ] || echo "DATA: $snap is not the pattern written"
	[ "$got" = "$from" ] || echo "DATA: $img differs from $snap"
	info=$(rbd info --format json "$img")
	jq -e '(.features | index("object-map")) and (.features | index("fast-diff"))' \
		<<<"$info" >/dev/null || echo "features of $img: $(jq -c .features <<<"$info")"
	[ "$(jq -c .flags <<<"$info")" = "[]" ] || echo "flags of $img: $(jq -c .flags <<<"$info")"
	! has_map_key "$img" || echo "$MAP_KEY left on $img"
}

# expect_flattened CATALOG VOL IMAGE PARENT_SNAP WHAT
expect_flattened() {
	local problems
	problems=$(flatten_problems "$1" "$2" "$3" "$4")
	[ -z "$problems" ] || fail "after $5: ${problems//$'\n'/; }"
}

# landing CATALOG IMAGE: where a kill of a flatten of IMAGE landed, from
# what it left: before (nothing journalled), map-off (journalled, the map
# not off yet), inside (the map off, the parent still there: librbd's
# flatten), restore (no parent, the map being turned on and rebuilt),
# commit (all done on the cluster, the catalog not yet).
landing() {
	local cat=$1 img=$2
	if [ "$(running_ops_at "$cat")" = 0 ]; then
		if [ "$(rbd_parent "$img")" = none ]; then echo finished; else echo before; fi
	elif [ "$(rbd_parent "$img")" != none ]; then
		if has_map_key "$img" && ! has_object_map "$img"; then
			echo "inside $(objects_of "$img")"
		else
			echo map-off
		fi
	elif has_map_key "$img"; then
		echo restore
	else
		echo commit
	fi
}

# kill_after SECONDS OUTFILE CMD...: runs CMD (a program, not a shell
# function: the kill must reach it, not a subshell waiting for it),
# SIGKILLs it after SECONDS; writes "killed" or "exited STATUS" to OUTFILE.
kill_after() {
	local delay=$1 outfile=$2 pid st
	shift 2
	(exec "$@" >/dev/null 2>&1) &
	pid=$!
	sleep "$delay"
	if kill -KILL "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		echo killed >"$outfile"
	else
		wait "$pid"
		st=$?
		echo "exited $st" >"$outfile"
	fi
}

# measure_clean_flatten: prints the median wall time (ms) of three clean
# `rowcat flatten` runs of a freshly prepared volume, each checked too.
measure_clean_flatten() {
	local i v img t0 t1 times=()
	for i in 1 2 3; do
		v=$(volname "m$i")
		img=$(prepare "$(other_catalog m$i)" "$v") || fail "prepare"
		t0=$(now_ms)
		rowcat_at "$(other_catalog m$i)" flatten "$v" -q || fail "clean flatten of $v"
		t1=$(now_ms)
		times+=($((t1 - t0)))
		expect_flattened "$(other_catalog m$i)" "$v" "$img" "rbd/$v@s1" "a clean flatten" >&2
		discard "$(other_catalog m$i)" "$v"
	done
	printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

# delay_of I N MS: the I-th of N kill delays spread evenly over MS
# milliseconds (the middles of N equal parts), in seconds.
delay_of() {
	awk -v i="$1" -v n="$2" -v ms="$3" 'BEGIN { printf "%.3f", (i - 0.5) / n * ms / 1000 }'
}

test_flatten_killed_at_each_failpoint_loses_nothing() {
	local fps fp v img n=0 cat
	fps=$(for fp in $ALL_FAILPOINTS; do
		case "$fp" in flatten.*) echo "$fp" ;; esac
	done)
	[ "$(wc -w <<<"$fps")" -ge 8 ] || fail "flatten failpoints: $fps"
	for fp in $fps; do
		n=$((n + 1)) v=$(volname "f$n") cat=$(other_catalog f$n)
		img=$(prepare "$cat" "$v") || fail "prepare"
		CATALOG=$cat crash_at "$fp" rowcat flatten "$v"
		CATALOG=$cat recover_through_crashes
		if [ "$fp" = flatten.journal.before ]; then
			# nothing journalled, nothing done: the image is as it
			# was, and the operator's next flatten does it all
			expect_eq "rbd/$v@s1" "$(rbd_parent "$img")" "parent after a kill at $fp"
			has_map_key "$img" && fail "$MAP_KEY set before journalling"
			rowcat_at "$cat" flatten "$v" -q || fail "flatten after a kill at $fp"
		fi
		expect_flattened "$cat" "$v" "$img" "rbd/$v@s1" "flatten killed at $fp"
		expect_eq 0 "$(rowcat_at "$cat" ls --format json | jq '.[0].depth')" "depth after $fp"
		discard "$cat" "$v"
	done
	expect_failpoints_exercised 'flatten.*'
}

# One batch of delay kills: kill I (1-based, of KILLS) is resumed by
# route I mod 3: 0 recover, 1 flatten again, 2 a recovery killed after a
# delay too, then recover. Appends "I LANDING | SECOND LANDING | problems"
# to $SCRATCH/landings and problems to $SCRATCH/problems.
delay_kill_batch() {
	local ms=$1 first=$2 last=$3 i v img cat st route vols=() imgs=() where second
	for ((i = first; i <= last; i++)); do
		v=$(volname "d$i") cat=$(other_catalog d$i)
		img=$(prepare "$cat" "$v") || fail "prepare"
		vols[i]=$v imgs[i]=$img
		kill_after "$(delay_of "$i" "$KILLS" "$ms")" "$SCRATCH/st$i" \
			"$ROWCAT" --id rowcat --catalog "$cat" flatten "$v" -q
		st=$(cat "$SCRATCH/st$i")
		if [ "$st" = killed ]; then where=$(landing "$cat" "$img"); else where="exited-${st#exited }"; fi
		echo "$where" >"$SCRATCH/where$i"
	done
	wait_unwatched "${imgs[@]:first}"
	for ((i = first; i <= last; i++)); do
		cat=$(other_catalog d$i) v=${vols[i]} img=${imgs[i]} route=$((i % 3)) second=-
		case $route in
		0) rowcat_at "$cat" recover -q || echo "$i: recover failed" >>"$SCRATCH/problems" ;;
		1) rowcat_at "$cat" flatten "$v" -q || echo "$i: flatten again failed" >>"$SCRATCH/problems" ;;
		2)
			# the second kill at another place than the first
			kill_after "$(delay_of $(((i + KILLS / 2) % KILLS + 1)) "$KILLS" "$ms")" \
				"$SCRATCH/st2-$i" "$ROWCAT" --id rowcat --catalog "$cat" recover -q
			second=$(cat "$SCRATCH/st2-$i")
			[ "$second" = killed ] && second=$(landing "$cat" "$img")
			;;
		esac
		echo "$second" >"$SCRATCH/second$i"
	done
	wait_unwatched "${imgs[@]:first}"
	for ((i = first; i <= last; i++)); do
		cat=$(other_catalog d$i) v=${vols[i]} img=${imgs[i]}
		if [ $((i % 3)) = 2 ]; then
			rowcat_at "$cat" recover -q || echo "$i: recover after the second kill failed" >>"$SCRATCH/problems"
		fi
		# a kill before the journal left nothing to resume: the
		# operator runs the flatten again
		if [ "$(running_ops_at "$cat")" = 0 ] && [ "$(rbd_parent "$img")" != none ]; then
			has_map_key "$img" && echo "$i: $MAP_KEY set with nothing journalled" >>"$SCRATCH/problems"
			rowcat_at "$cat" flatten "$v" -q || echo "$i: flatten failed" >>"$SCRATCH/problems"
		fi
		flatten_problems "$cat" "$v" "$img" "rbd/$v@s1" | sed "s/^/$i: /" >>"$SCRATCH/problems"
		echo "$i $(cat "$SCRATCH/where$i") | $(cat "$SCRATCH/second$i") | $(grep -c "^$i: " "$SCRATCH/problems")" \
			>>"$SCRATCH/landings"
		discard "$cat" "$v"
	done
}

test_flatten_killed_after_a_delay_loses_nothing() {
	local ms i mid inside restore lost
	ms=$(measure_clean_flatten) || fail "measuring a clean flatten"
	echo "# clean flatten of $((SIZE >> 20)) MiB: ${ms} ms (median of 3); $KILLS kills over it"
	: >"$SCRATCH/problems" && : >"$SCRATCH/landings"
	for ((i = 1; i <= KILLS; i += BATCH)); do
		delay_kill_batch "$ms" "$i" $((i + BATCH - 1 < KILLS ? i + BATCH - 1 : KILLS))
	done
	sed 's/^/#   kill /' "$SCRATCH/landings"
	# mid-flatten: the operation journalled, the parent still there
	mid=$(grep -cE '^[0-9]+ (map-off|inside)' "$SCRATCH/landings")
	inside=$(grep -cE '^[0-9]+ inside' "$SCRATCH/landings")
	restore=$(grep -cE '^[0-9]+ restore' "$SCRATCH/landings")
	lost=$(grep -c 'DATA:' "$SCRATCH/problems")
	echo "# $KILLS kills: $mid mid-flatten ($inside inside librbd's flatten with the map off)," \
		"$restore while the map was restored; second kills: $(awk -F' [|] ' \
		'$2 ~ /^(map-off|inside)/' "$SCRATCH/landings" | wc -l) mid-flatten; data mismatches: $lost"
	[ -s "$SCRATCH/problems" ] && fail "$(wc -l <"$SCRATCH/problems") problems: $(paste -sd';' "$SCRATCH/problems")"
	[ $((2 * mid)) -ge "$KILLS" ] || fail "only $mid of $KILLS kills landed mid-flatten"
}

# A plain `rbd flatten` (librbd with the object map on, the vulnerable
# path) killed part-way, then `rowcat flatten`: rowcat turns the map off
# before it flattens, so whatever the kill left is copied.
test_rowcat_finishes_a_plain_rbd_flatten_killed_part_way() {
	local ms t0 v img i cat imgs=() vols=() copied
	v=$(volname m) cat=$(other_catalog m)
	img=$(prepare "$cat" "$v") || fail "prepare"
	t0=$(now_ms)
	rbd flatten --no-progress "$img" || fail "rbd flatten"
	ms=$(($(now_ms) - t0))
	discard "$cat" "$v"
	for i in 1 2 3; do
		v=$(volname "r$i") cat=$(other_catalog r$i)
		img=$(prepare "$cat" "$v") || fail "prepare"
		vols[i]=$v imgs[i]=$img
		kill_after "$(delay_of "$i" 3 "$ms")" "$SCRATCH/st$i" rbd flatten --no-progress "$img"
		copied=$(objects_of "$img")
		echo "# plain rbd flatten ($ms ms) killed after $(delay_of "$i" 3 "$ms") s:" \
			"$(cat "$SCRATCH/st$i"), $copied of $OBJECTS objects copied, parent $(rbd_parent "$img")"
	done
	wait_unwatched "${imgs[@]:1}"
	for i in 1 2 3; do
		rowcat_at "$(other_catalog r$i)" flatten "${vols[i]}" -q || fail "rowcat flatten after rbd's killed flatten"
		expect_flattened "$(other_catalog r$i)" "${vols[i]}" "${imgs[i]}" "rbd/${vols[i]}@s1" \
			"rowcat flatten after a killed rbd flatten"
		discard "$(other_catalog r$i)" "${vols[i]}"
	done
}

# The state a copy-up cut short leaves, made on purpose: every object of
# the clone written (copied up) with the data its parent has, so that the
# map marks it, then three objects removed behind librbd's back. The image
# still reads whole (through to the parent); a flatten with the map on
# would skip the three.
test_rowcat_flattens_objects_the_map_claims_and_the_cluster_lacks() {
	local v img prefix o; v=$(volname)
	img=$(prepare "$CATALOG" "$v") || fail "prepare"
	"$RBD_PATTERN" write "$img" $SEED || fail "copy-up of $img"
	expect_eq $OBJECTS "$(objects_of "$img")" "objects of $img after the copy-up"
	prefix=$(rbd info --format json "$img" | jq -r .block_name_prefix)
	for o in 0 13 31; do
		rados -p rbd rm "$(printf '%s.%016x' "$prefix" $o)" || fail "removing object $o"
	done
	expect_eq "$WANT" "$(checksum "$img")" "data of $img with three objects missing"
	has_object_map "$img" || fail "$img has no object map"
	rowcat flatten "$v" -q || fail "rowcat flatten"
	expect_flattened "$CATALOG" "$v" "$img" "rbd/$v@s1" "a flatten over objects the map claims"
	discard "$CATALOG" "$v"
}

# The window between librbd's flatten and the map on again is short, and
# delay kills rarely land in it: the state such a kill leaves is made
# here. The flatten is journalled (killed at flatten.flatten.before), then
# done as rowcat does it, with the map off and the key noting what was on;
# recovery must turn the map on, rebuild it, and drop the key.
test_recovery_after_a_kill_between_the_flatten_and_the_map_restored() {
	local v img; v=$(volname)
	img=$(prepare "$CATALOG" "$v") || fail "prepare"
	crash_at flatten.flatten.before rowcat flatten "$v"
	expect_eq 1 "$(running_ops)" "the flatten journalled"
	rbd image-meta set "$img" "$MAP_KEY" 24 >/dev/null || fail "setting $MAP_KEY"
	rbd feature disable "$img" fast-diff object-map || fail "map off"
	rbd flatten --no-progress "$img" || fail "rbd flatten"
	expect_eq none "$(rbd_parent "$img")" "parent after rbd flatten"
	recover_through_crashes
	expect_flattened "$CATALOG" "$v" "$img" "rbd/$v@s1" "a kill before the map was restored"
	discard "$CATALOG" "$v"
}

T0=2026-11-27T00:00:00Z T1=2026-11-27T01:00:00Z T2=2026-11-27T02:00:00Z

# policy_prepare CATALOG VOL: a volume with the pattern, hourly, max_depth
# 2, run at T0 and T1, so that the run at T2 flattens; prints the policy
# file and then the image the run at T2 flattens.
policy_prepare() {
	local cat=$1 v=$2 f=$SCRATCH/policy-$2.yaml
	printf '%s\n' "version: 1" "policies:" "  - name: flat" "    volumes:" \
		"      - rbd/$v" "    every: 1h" "    keep: {latest: 2}" "    max_depth: 2" >"$f"
	rowcat_at "$cat" init -q || fail "init $cat"
	rowcat_at "$cat" create "rbd/$v" --size "${SIZE}B" -q || fail "create $v"
	"$RBD_PATTERN" write "rbd/$v" $SEED || fail "write $v"
	rowcat_at "$cat" policy run "$f" --now $T0 -q >/dev/null || fail "run at $T0"
	rowcat_at "$cat" policy run "$f" --now $T1 -q >/dev/null || fail "run at $T1"
	echo "$f"
	rowcat_at "$cat" which "$v"
}

# A policy run killed after a delay while it flattens for max_depth; the
# next run (odd kills) or `rowcat recover` and then the next run (even)
# finish it with the flattened image whole.
test_a_policy_flatten_killed_after_a_delay_loses_nothing() {
	local v cat f img parent t0 ms i n=4 vols=() imgs=() files=() wheres=""
	v=$(volname pm) cat=$(other_catalog pm)
	f=$(policy_prepare "$cat" "$v") || fail "policy_prepare"
	img=${f##*$'\n'} f=${f%%$'\n'*}
	t0=$(now_ms)
	rowcat_at "$cat" policy run "$f" --now $T2 -q >/dev/null || fail "clean run at $T2"
	ms=$(($(now_ms) - t0))
	expect_eq none "$(rbd_parent "$img")" "parent of $img after a clean run"
	discard "$cat" "$v"
	for ((i = 1; i <= n; i++)); do
		v=$(volname "p$i") cat=$(other_catalog p$i)
		f=$(policy_prepare "$cat" "$v") || fail "policy_prepare"
		img=${f##*$'\n'} f=${f%%$'\n'*}
		vols[i]=$v imgs[i]=$img files[i]=$f
		kill_after "$(delay_of "$i" $n "$ms")" "$SCRATCH/st$i" \
			"$ROWCAT" --id rowcat --catalog "$cat" policy run "$f" --now $T2 -q
		if [ "$(cat "$SCRATCH/st$i")" = killed ]; then
			wheres+=" $(landing "$cat" "$img" | cut -d' ' -f1)"
		else
			wheres+=" exited"
		fi
	done
	echo "# policy run at $T2 ($ms ms) killed at:$wheres"
	wait_unwatched "${imgs[@]:1}"
	for ((i = 1; i <= n; i++)); do
		v=${vols[i]} cat=$(other_catalog p$i) img=${imgs[i]}
		parent=$(CATALOG=$cat catalog_sql "SELECT i.pool || '/' || i.name || '@' || s.name
			FROM image c JOIN snapshot s ON s.id = c.parent_snapshot_id
			JOIN image i ON i.id = s.image_id
			WHERE c.pool || '/' || c.name = '$img'")
		[ "$parent" = "${parent%@*}@20261127T010000Z" ] || fail "parent of $img: $parent"
		if [ $((i % 2)) = 0 ]; then
			rowcat_at "$cat" recover -q || fail "recover after a policy run killed ($i)"
		fi
		run rowcat_at "$cat" policy run "${files[i]}" --now $T2 -q
		expect_eq 0 "$status" "the run after a kill ($i): $err"
		expect_flattened "$cat" "$v" "$img" "$parent" "a policy run killed after a delay ($i)"
		[ "$(rowcat_at "$cat" which "$v")" != "$img" ] || fail "no snapshot at $T2 after kill $i"
		discard "$cat" "$v"
	done
}

run_tests
