#!/usr/bin/env bash
# rowcat policy on a real cluster, checked with rbd: three days of hourly
# runs over three volumes with different policies keep exactly what the
# retention rule says (stated here, apart from rowcat's code) and leave
# nothing else behind, never let a clone chain grow past max_depth, and end
# with a catalog that matches the cluster. Around that: a bad policy file
# changes nothing; manual, pre-restore and pinned snapshots are never
# expired; one failing volume does not stop the others; one run at a time;
# the metrics file; --jobs 1 and --jobs 8 agree; --gc leaves a gc running
# elsewhere and volumes busy elsewhere alone.
. "$(dirname "$0")/lib.sh"

ZONE=Europe/Berlin
# The simulation starts on Saturday 2020-11-28 at 21:00 in Berlin (20:00Z)
# and runs every hour for 72 hours: three local midnights, the ISO week
# turning on Monday 2020-11-30 and the month on Tuesday 2020-12-01.
#
# Its clock (--now) is fixed, so that the test means the same whatever the
# day it runs, and all of it lies in the real clock's past: rowcat lets
# --now decide what a policy takes and expires, but never lets a
# destructive step (gc's min_age and trash delay) come sooner than the
# real clock allows (design.md, "Time"). The volumes are made before the
# simulation, with rowcat create and the real clock, and then dated an
# hour before T0 (create_volumes): a volume made "after" the runs that
# snapshot it would be too young for gc's min_age at every simulated hour,
# and its first image would stay whatever the rule says (the CI failure
# of issue 12, once the real clock had passed the old start plus 18 h).
T0=$(date -u -d 2020-11-28T20:00:00Z +%s)
HOURS=72

iso() { # T: --now's form of Unix time T
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}

hour_iso() { # H: --now's form of hour H of the simulation
	iso $((T0 + $1 * 3600))
}

snap_name() { # T: the name of a policy snapshot taken at T (its UTC time)
	date -u -d "@$1" +%Y%m%dT%H%M%SZ
}

local_time() { # T: T as policy check prints it, on the file's wall clock
	TZ=$ZONE date -d "@$1" +%Y-%m-%dT%H:%M:%S%:z
}

# create_volumes SPEC...: rowcat create each volume (8 MiB), then dates
# the volume and its first image in the catalog an hour before T0, when the
# simulated operator made them (rowcat create has no --now, rightly).
create_volumes() {
	local spec vol
	for spec in "$@"; do
		rowcat create "$spec" --size 8M -q || fail "create $spec"
		vol=${spec##*/}
		catalog_sql "UPDATE image SET created_at = $((T0 - 3600))
			WHERE volume_id = (SELECT id FROM volume WHERE name = '$vol');
			UPDATE volume SET created_at = $((T0 - 3600)) WHERE name = '$vol';
			SELECT changes();" | grep -qx 1 || fail "dating $spec before T0"
	done
}

# one_policy FILE PATTERN EVERY KEEP [MAX_DEPTH]: a policy file with one
# policy, p, and a gc that collects at once.
one_policy() {
	cat >"$1" <<EOF
version: 1
timezone: $ZONE
gc: {min_age: 0s, trash_delay: 0s}
policies:
  - name: p
    volumes: ["$2"]
    every: $3
    keep: $4
    max_depth: ${5:-8}
EOF
}

# cluster_snapshots SPEC VOL: the snapshots rbd shows on VOL's images in
# SPEC (POOL or POOL/NS), as "IMAGE@SNAP", sorted.
cluster_snapshots() {
	rbd ls -l --format json "$1" | jq -r --arg v "$2" '.[] |
		select(.snapshot and (.image | test("^" + $v + "(\\.rc[0-9]+)?$"))) |
		.image + "@" + .snapshot' | sort
}

# own_namespace: makes a namespace of pool rbd for this test and prints
# "rbd/NS": rbd ls -l there shows this test's images and nothing else,
# however much other tests have left in the pool, and stays quick.
own_namespace() {
	local ns; ns=$(volname)
	rbd namespace create "rbd/$ns" || fail "rbd namespace create rbd/$ns"
	echo "rbd/$ns"
}

# ---- the simulation ------------------------------------------------------

# sim_policy FILE NS: the simulation's policies, managing the volumes gold,
# silver and bronze in the namespace rbd/NS.
sim_policy() {
	cat >"$1" <<EOF
version: 1
timezone: $ZONE
defaults: {max_depth: 3}
gc: {min_age: 0s, trash_delay: 0s}
policies:
  - name: gold
    volumes: ["rbd/$2/gold"]
    every: 1h
    keep: {latest: 3, hourly: 6, daily: 2}
    max_depth: 4
  - name: silver
    volumes: ["rbd/$2/silver"]
    cron: "0 */6 * * *"
    keep: {daily: 2, weekly: 2}
  - name: bronze
    volumes: ["rbd/$2/bronze"]
    every: 6h
    keep: {latest: 2, monthly: 2}
    max_depth: 2
EOF
}

# The same policies as this test states them: KEEP, the counts of latest,
# hourly, daily, weekly, monthly and yearly; MAX_DEPTH (silver's from
# defaults:).
POLICIES="gold silver bronze"
declare -A KEEP=([gold]="3 6 2 0 0 0" [silver]="0 0 2 2 0 0" [bronze]="2 0 0 0 2 0")
declare -A MAX_DEPTH=([gold]=4 [silver]=3 [bronze]=2)

# learn_time T: caches what the test needs of moment T: NAME_OF[T], the
# name of a snapshot taken then; BUCKETS[T], its buckets on Berlin's wall
# clock, "HOUR DAY ISO-WEEK MONTH YEAR"; HOUR_OF[T], the local hour. Call
# it in the test's own shell, not in $(...), or the cache is lost.
declare -A NAME_OF=() BUCKETS=() HOUR_OF=()
learn_time() {
	local b
	[ -n "${NAME_OF[$1]:-}" ] && return
	NAME_OF[$1]=$(snap_name "$1")
	b=$(TZ=$ZONE date -d "@$1" '+%Y-%m-%d-%H %F %G-W%V %Y-%m %Y %H')
	BUCKETS[$1]=${b% *} HOUR_OF[$1]=${b##* }
}

# is_due POLICY LAST NOW: whether POLICY's schedule has a snapshot due at
# NOW, its last taken at LAST (0: none yet, so one is due at once). The
# runs come every hour on the hour, so silver's cron "0 */6 * * *" (local
# time) has had a slot since the last run exactly when NOW's local hour is
# 0, 6, 12 or 18.
is_due() {
	local last=$2 now=$3
	[ "$last" = 0 ] && return 0
	case $1 in
	gold) [ $((now - last)) -ge 3600 ] ;;
	bronze) [ $((now - last)) -ge $((6 * 3600)) ] ;;
	silver) [ $((10#${HOUR_OF[$now]} % 6)) = 0 ] ;;
	*) fail "no schedule for $1" ;;
	esac
}

# retain POLICY T...: prints the times (one a line, oldest first) that
# POLICY's keep: holds of its live snapshots, taken at T... (a policy takes
# one snapshot a run at most, so its times tell them apart). The rule, as
# restic's forget --keep-* has it: latest N keeps the N newest; for each
# bucket kind, N keeps the newest snapshot of each of the N most recent
# buckets that hold one; what is kept is the union.
retain() {
	local -a counts times labels
	local -A kept=() seen=()
	local i k t bucket
	read -ra counts <<<"${KEEP[$1]}"
	shift
	[ $# -gt 0 ] || return 0
	mapfile -t times < <(printf '%s\n' "$@" | sort -rn) # newest first
	for ((i = 0; i < ${#times[@]} && i < counts[0]; i++)); do
		kept[${times[i]}]=1
	done
	for k in 1 2 3 4 5; do
		[ "${counts[k]}" -gt 0 ] || continue
		seen=()
		for t in "${times[@]}"; do
			read -ra labels <<<"${BUCKETS[$t]}"
			bucket=${labels[k - 1]}
			[ -n "${seen[$bucket]:-}" ] && continue # not its bucket's newest
			[ "${#seen[@]}" -lt "${counts[k]}" ] || break
			seen[$bucket]=1 kept[$t]=1
		done
	done
	[ "${#kept[@]}" -gt 0 ] && printf '%s\n' "${!kept[@]}" | sort -n
}

# expect_same_set WHAT A B: the associative arrays named A and B have the
# same keys. (Bash alone: this runs some thousand times a simulation.)
expect_same_set() {
	local -n set_a=$2 set_b=$3
	local key same=1
	[ "${#set_a[@]}" = "${#set_b[@]}" ] || same=0
	for key in "${!set_a[@]}"; do
		[ -n "${set_b[$key]+set}" ] || same=0
	done
	[ "$same" = 1 ] || fail "$1: expected '$(printf '%s\n' "${!set_a[@]}" | sort |
		paste -sd' ')', got '$(printf '%s\n' "${!set_b[@]}" | sort | paste -sd' ')'"
}

# check_volume POLICY HOUR TREES LINEAGE: after a run, POLICY's volume
# (named as the policy, in rbd/$ns) as the catalog and as rbd see it,
# against ${live[POLICY]}, the times of the snapshots the rule keeps.
# TREES and LINEAGE are what tree_snapshots and cluster_lineage printed
# after the run. Sets depth[POLICY] and operating[POLICY].
#
# With redirect-on-write each snapshot's clone is the next operating
# image, and that clone reads through the snapshot, so a snapshot that
# retention has dropped cannot go while an image that is still needed
# reads through it: not before a flatten (max_depth's) cuts the chain
# below it. So the cluster holds exactly the kept snapshots and those that
# the operating image or the images carrying kept snapshots read through,
# following rbd's parent links up to an image without a parent; every
# other snapshot gc has removed, with the image that carried it.
# shellcheck disable=SC2034 # the sets are compared through namerefs
check_volume() {
	local p=$1 h=$2 trees=$3 lineage=$4 v=$1
	local op="" catalog_depth="" img parent_img snap t d
	local kind vol name origin marked removed a b c
	local -A kept=() catalog_kept=() catalog_live=() snap_image=() parent=()
	local -A wanted=() wanted_images=() images=()
	local -a starts=()

	for t in ${live[$p]}; do kept[${NAME_OF[$t]}]=1; done

	# the catalog: its unmarked snapshots of the policy are the kept ones
	while read -r kind vol name origin marked removed _; do
		[ "$vol" = "$v" ] || continue
		if [ "$kind" = O ]; then
			op=$name catalog_depth=$origin
			continue
		fi
		[ "$removed" = - ] && catalog_live[$name]=1
		[ "$origin" = "policy:$p" ] && [ "$marked" = - ] && [ "$removed" = - ] &&
			catalog_kept[$name]=1
	done <<<"$trees"
	[ -n "$op" ] || fail "hour $h: the catalog has no operating image of $v"
	expect_same_set "hour $h: $v's unmarked snapshots in the catalog" kept catalog_kept
	op=${op#"rbd/$ns/"}

	# the cluster: what rbd shows of the volume's images
	while read -r kind img a b c; do
		[[ $img =~ ^$v(\.rc[0-9]+)?$ ]] || continue
		if [ "$kind" = S ]; then
			snap_image[$a]=$img
		else
			images[$img]=1
			if [ "$a" != - ]; then
				expect_eq "rbd/$ns" "$c" "hour $h: pool and namespace of $img's parent"
				parent[$img]="$a $b"
			fi
		fi
	done <<<"$lineage"
	starts=("$op")
	for name in "${!kept[@]}"; do
		[ -n "${snap_image[$name]:-}" ] || fail "hour $h: $v's kept snapshot $name is not on the cluster"
		wanted[$name]=1
		starts+=("${snap_image[$name]}")
	done
	for img in "${starts[@]}"; do
		wanted_images[$img]=1
		while [ -n "${parent[$img]:-}" ]; do
			read -r parent_img snap <<<"${parent[$img]}"
			wanted[$snap]=1 wanted_images[$parent_img]=1
			img=$parent_img
		done
	done
	expect_same_set "hour $h: $v's snapshots on the cluster (kept, and what live images read through)" \
		wanted snap_image
	expect_same_set "hour $h: $v's images on the cluster" wanted_images images
	expect_same_set "hour $h: $v's snapshots the catalog has not seen removed" snap_image catalog_live

	# the depth of the operating image, by rbd's parent links
	d=0 img=$op
	while [ -n "${parent[$img]:-}" ]; do
		read -r img snap <<<"${parent[$img]}"
		d=$((d + 1))
	done
	[ "$d" -le "${MAX_DEPTH[$p]}" ] ||
		fail "hour $h: $v's operating image $op is $d deep, over max_depth ${MAX_DEPTH[$p]}"
	expect_eq "$d" "$catalog_depth" "hour $h: the catalog's depth of $op"
	depth[$p]=$d operating[$p]=rbd/$ns/$op
}

# tree_snapshots: reads what rowcat tree --format json printed, for one
# volume or several, and prints each snapshot as "S VOL NAME ORIGIN
# marked|- removed|- pinned|-", and the operating image as "O VOL IMAGE
# DEPTH".
tree_snapshots() {
	jq -r '.volume as $v | .nodes[] |
		if .type == "snapshot" then
			"S \($v) \(.snapshot) \(.origin) " +
			([if .marked then "marked" else "-" end,
			  if .removed then "removed" else "-" end,
			  if .pinned then "pinned" else "-" end] | join(" "))
		elif .operating then "O \($v) \(.id) \(.depth)"
		else empty end'
}

# cluster_lineage SPEC: every image and snapshot rbd shows in SPEC, one a
# line: "I IMAGE PARENT-IMAGE PARENT-SNAP PARENT-POOL/NS" ("I IMAGE - - -"
# without a parent) and "S IMAGE SNAP". One rbd ls -l for all volumes.
cluster_lineage() {
	rbd ls -l --format json "$1" | jq -r '.[] |
		if .snapshot then "S \(.image) \(.snapshot)"
		elif .parent then "I \(.image) \(.parent.image) \(.parent.snapshot) \(.parent.pool)/\(.parent.pool_namespace)"
		else "I \(.image) - - -" end'
}

test_three_days_of_hourly_runs_keep_what_the_rule_says() {
	rowcat init -q || fail init
	local ns file=$SCRATCH/policy.yaml p h now want results lineage
	local vol pol outcome got expired before trees
	local -A result=()
	local -a times
	local -A live=() last=() history=() depth=() deepest=() operating=()
	local flattens=0
	ns=$(own_namespace) || exit 1
	ns=${ns#rbd/}
	for p in $POLICIES; do
		create_volumes "rbd/$ns/$p"
		live[$p]="" last[$p]=0 history[$p]="" deepest[$p]=0
	done
	sim_policy "$file" "$ns"

	for ((h = 0; h < HOURS; h++)); do
		now=$((T0 + h * 3600))
		learn_time "$now"
		run rowcat policy run "$file" --now "$(iso "$now")" --gc --format json
		[ "$status" = 0 ] || fail "hour $h: policy run exited $status: $err"
		results=$(jq -r '.[] | "\(.volume) \(.policy) \(.outcome) \(.snapshot) \(.expired)"' \
			<<<"$out") || fail "hour $h: the run's output is not JSON: $out"
		expect_json_keys "$out" "volume policy outcome due snapshot flattened expired" \
			"hour $h: the run's JSON"
		jq -e 'all(.[]; .flattened == null or
			(.flattened | keys_unsorted) == ["pool", "pool_namespace", "image"])' \
			<<<"$out" >/dev/null || fail "hour $h: flattened images: $out"
		flattens=$((flattens + $(jq '[.[] | select(.flattened != null)] | length' <<<"$out")))
		trees=$(for p in $POLICIES; do rowcat tree "$p" --format json || exit; done) ||
			fail "hour $h: rowcat tree"
		# what gc collected is left out without --all
		expect_eq 0 "$(jq -s '[.[].nodes[] | select(.removed or .in_trash or .purged)] |
			length' <<<"$trees")" "hour $h: nodes gc collected, in rowcat tree"
		trees=$(tree_snapshots <<<"$trees")
		lineage=$(cluster_lineage "rbd/$ns") || fail "hour $h: rbd ls -l"
		result=()
		while read -r vol pol outcome got expired; do
			result[$vol]="$vol $pol $outcome $got $expired"
		done <<<"$results"
		for p in $POLICIES; do
			# what the schedule says the run took
			want=null
			if is_due "$p" "${last[$p]}" "$now"; then
				want=${NAME_OF[$now]} last[$p]=$now
				history[$p]+=" $want" live[$p]+=" $now"
			fi
			read -r vol pol outcome got expired <<<"${result[$p]:-}"
			expect_eq "$p $p ok $want" "$vol $pol $outcome $got" "hour $h: the run on $p"
			# what the rule keeps of the policy's snapshots not yet
			# expired, the one just taken included
			read -ra times <<<"${live[$p]}"
			before=${#times[@]}
			live[$p]=$(retain "$p" "${times[@]}" | paste -sd' ')
			read -ra times <<<"${live[$p]}"
			expect_eq $((before - ${#times[@]})) "$expired" \
				"hour $h: how many of $p's snapshots the run expired"
			check_volume "$p" "$h" "$trees" "$lineage"
			[ "${depth[$p]}" -gt "${deepest[$p]}" ] && deepest[$p]=${depth[$p]}
		done
		[ $((h % 24)) = 23 ] && expect_check_clean
	done

	for p in $POLICIES; do
		# gc collected most of them: tree --all draws them, tree not
		[ "$(rowcat tree "$p" --all --format json |
			jq '[.nodes[] | select(.removed or .purged)] | length')" -gt 0 ] ||
			fail "tree --all draws nothing gc collected of $p"
		rowcat tree "$p" -o state | grep -E 'removed|purged|trash' &&
			fail "tree draws what gc collected of $p"
		# every snapshot the policy ever took, gc's included
		expect_eq "$(tr ' ' '\n' <<<"${history[$p]# }" | sort)" \
			"$(rowcat tree "$p" --all --format json | tree_snapshots |
				awk -v o="policy:$p" '$1 == "S" { print ($4 == o ? "" : $4 ": ") $3 }' |
				sort)" "every snapshot $p took"
		expect_eq "${operating[$p]}" "$(rowcat which "$p")" "which $p"
		# the limit was reached, so flattens kept it
		expect_eq "${MAX_DEPTH[$p]}" "${deepest[$p]}" "the deepest $p's operating image got"
	done
	[ "$flattens" -gt 0 ] || fail "no run's JSON named the image it flattened"
	# the schedules, by hand: every hour for gold; bronze every 6 hours
	# from the first run; silver at the first run, then at 00, 06, 12 and
	# 18 in Berlin (23, 05, 11, 17 UTC)
	expect_eq 72 "$(wc -w <<<"${history[gold]}")" "gold's snapshots"
	expect_eq "20201128T200000Z 20201129T020000Z 20201129T080000Z 20201129T140000Z
20201129T200000Z 20201130T020000Z 20201130T080000Z 20201130T140000Z
20201130T200000Z 20201201T020000Z 20201201T080000Z 20201201T140000Z" \
		"$(xargs -n4 <<<"${history[bronze]}")" "bronze's snapshots"
	expect_eq "20201128T200000Z 20201128T230000Z 20201129T050000Z 20201129T110000Z
20201129T170000Z 20201129T230000Z 20201130T050000Z 20201130T110000Z
20201130T170000Z 20201130T230000Z 20201201T050000Z 20201201T110000Z
20201201T170000Z" "$(xargs -n4 <<<"${history[silver]}")" "silver's snapshots"
	expect_check_clean

	# policy check, half an hour after the last run: each volume with its
	# policy, its last snapshot and when the next is due
	local end=$((T0 + (HOURS - 1) * 3600 + 1800)) line
	declare -A next_due=(
		[gold]=$((last[gold] + 3600))
		[bronze]=$((last[bronze] + 6 * 3600))
		[silver]=$(date -u -d 2020-12-01T23:00:00Z +%s) # 00:00 in Berlin
	)
	# and a volume no policy matches, named in both outputs
	rowcat create "rbd/$ns/stray-$ns" --size 8M -q || fail "create stray-$ns"
	run rowcat policy check "$file" --now "$(iso "$end")"
	expect_eq 0 "$status" "policy check ($err)"
	expect_contains "$out" "3 volumes managed, 1 matching no policy: stray-$ns" \
		"policy check names the volume no policy matches"
	local plain=$out
	expect_contains "$out" "timezone $ZONE" "policy check's zone"
	expect_contains "$out" "policy silver: cron 0 */6 * * *; keep daily 2, weekly 2; max_depth 3" \
		"policy check's silver"
	for p in $POLICIES; do
		line=$(grep "^$p " <<<"$out") || fail "policy check shows no $p: $out"
		expect_eq "$p $p $(local_time "${last[$p]}") $(local_time "${next_due[$p]}") ${depth[$p]}/${MAX_DEPTH[$p]}" \
			"$(tr -s ' ' <<<"$line")" "policy check's line for $p"
	done
	run rowcat policy check "$file" --now "$(iso "$end")" --format json
	expect_eq 0 "$status" "policy check --format json ($err)"
	python3 -c 'import json, sys; json.load(sys.stdin)' <<<"$out" || fail "policy check's JSON: $out"
	expect_json_keys "$out" "file timezone policies volumes unmanaged_volumes" "policy check's JSON"
	# the volumes no policy matches, by name, as the plain output names them
	expect_eq "$(sed -n 's/.* matching no policy: //p' <<<"$plain")" \
		"$(jq -r '.unmanaged_volumes | join(", ")' <<<"$out")" "policy check's unmanaged volumes"
	expect_json_keys "$(jq .volumes <<<"$out")" \
		"volume pool pool_namespace image policy last_snapshot next_due due_now depth max_depth" \
		"policy check's JSON volumes"
	for p in $POLICIES; do
		expect_eq "$p $(local_time "${last[$p]}") $(local_time "${next_due[$p]}") false ${depth[$p]} ${MAX_DEPTH[$p]}" \
			"$(jq -r --arg v "$p" '.volumes[] | select(.volume == $v) |
				"\(.policy) \(.last_snapshot) \(.next_due) \(.due_now) \(.depth) \(.max_depth)"' <<<"$out")" \
			"policy check's JSON for $p"
	done
}

# ---- the rest ------------------------------------------------------------

# volume_snapshot_state SPEC VOL: every snapshot of VOL's images in SPEC,
# as rbd sees it.
volume_snapshot_state() {
	local image
	for image in $(rbd ls "$1" | grep -E "^$2(\.rc[0-9]+)?$" | sort); do
		echo "== $image"
		rbd snap ls --all --format json "$1/$image"
	done
}

test_a_bad_policy_file_changes_nothing() {
	rowcat init -q || fail init
	local v sp before bad=$SCRATCH/bad.yaml good=$SCRATCH/good.yaml positions
	v=$(volname) sp=$(own_namespace)
	create_volumes "$sp/$v"
	one_policy "$good" "$sp/$v" 1h "{latest: 1}"
	rowcat policy run "$good" --now "$(hour_iso 0)" -q >/dev/null || fail "a first run"
	cat >"$bad" <<EOF
version: 1
timezone: Mars/Olympus_Mons
gc: {min_age: 0s, trash_delay: 0s}
policies:
  - name: gold
    volumes: ["$sp/$v"]
    evry: 1h
    keep: {latest: 1}
  - name: silver
    volumes: ["$sp/$v"]
    cron: "61 * * * *"
    keep: {daily: -1}
EOF
	before=$(catalog_state; cluster_state; rbd ls -l "$sp"; volume_snapshot_state "$sp" "$v")

	# every problem, each as FILE:LINE:COLUMN, then one line saying so
	run rowcat policy run "$bad" --now "$(hour_iso 1)" --gc
	expect_eq 1 "$status" "policy run of a bad file"
	expect_eq "" "$out" "policy run of a bad file: stdout"
	positions=$(grep -o "^$bad:[0-9]*:[0-9]*: " <<<"$err" | sed "s|^$bad:||; s|: $||")
	expect_eq "2:11 5:5 7:5 11:11 12:19" "$(paste -sd' ' <<<"$positions")" "where the problems are"
	grep "^$bad:2:11: " <<<"$err" | grep -q "Mars/Olympus_Mons" || fail "no word of the zone: $err"
	grep "^$bad:7:5: " <<<"$err" | grep -q "evry" || fail "no word of evry: $err"
	grep "^$bad:11:11: " <<<"$err" | grep -q "61" || fail "no word of the cron: $err"
	grep "^$bad:12:19: " <<<"$err" | grep -q -- "-1" || fail "no word of the count: $err"
	expect_eq "rowcat: $bad: 5 errors; nothing was done" "$(tail -1 <<<"$err")" "the last line"
	expect_eq 6 "$(wc -l <<<"$err")" "lines of stderr"
	run rowcat policy check "$bad"
	expect_eq 1 "$status" "policy check of a bad file"
	expect_eq "$positions" "$(grep -o "^$bad:[0-9]*:[0-9]*: " <<<"$err" | sed "s|^$bad:||; s|: $||")" \
		"policy check finds the same problems"

	# a volume that no policy matches is named, not only counted
	one_policy "$SCRATCH/other.yaml" "$sp/$v-typo" 1h "{latest: 1}"
	run rowcat policy check "$SCRATCH/other.yaml"
	expect_eq 0 "$status" "policy check of a file that manages nothing ($err)"
	expect_eq "0 volumes managed, 1 matching no policy: $v" "$(tail -1 <<<"$out")" \
		"policy check names the volume no policy matches"

	expect_refused 1 "nosuch.yaml" rowcat policy run "$SCRATCH/nosuch.yaml" --now "$(hour_iso 1)"
	expect_refused 2 "--now" rowcat policy run "$good" --now yesterday
	expect_refused 2 "--jobs" rowcat policy run "$good" --now "$(hour_iso 1)" --jobs 0
	expect_refused 2 "--jobs" rowcat policy run "$good" --now "$(hour_iso 1)" --jobs 257
	expect_refused 2 "format" rowcat policy run "$good" --now "$(hour_iso 1)" --format xml
	expect_eq "$before" "$(catalog_state; cluster_state; rbd ls -l "$sp"; volume_snapshot_state "$sp" "$v")" \
		"the catalog and the cluster after bad input"
}

test_manual_safety_and_pinned_snapshots_are_never_expired() {
	rowcat init -q || fail init
	local v sp file=$SCRATCH/policy.yaml first second safety h name image kept
	v=$(volname) sp=$(own_namespace)
	create_volumes "$sp/$v"
	# keep only the newest, and flatten often
	one_policy "$file" "$sp/$v" 1h "{latest: 1}" 2
	first=$(snap_name "$T0") second=$(snap_name $((T0 + 3600)))
	rowcat policy run "$file" --now "$(hour_iso 0)" --gc -q >/dev/null || fail "hour 0"
	rowcat pin "$v@$first" -q || fail pin
	rowcat snap "$v" mine -q || fail "manual snapshot"
	rowcat policy run "$file" --now "$(hour_iso 1)" --gc -q >/dev/null || fail "hour 1"
	rowcat restore "$v" "$second" -q || fail restore
	safety=$(safety_snapshots "$v")
	[ -n "$safety" ] || fail "no pre-restore snapshot"
	for h in $(seq 2 13); do
		rowcat policy run "$file" --now "$(hour_iso "$h")" --gc -q >/dev/null || fail "hour $h"
	done
	# of the policy's own, only the newest is left unmarked, besides the
	# pinned one
	expect_eq "$(printf '%s\n' "$first policy:p pinned" \
		"$(snap_name $((T0 + 13 * 3600))) policy:p" "$safety pre-restore" \
		"mine manual" | sort)" "$(rowcat tree "$v" --format json | jq -r '.nodes[] |
		select(.type == "snapshot" and (.marked | not) and (.removed | not)) |
		.snapshot + " " + .origin + (if .pinned then " pinned" else "" end)' | sort)" \
		"unmarked snapshots"
	for name in "$first" mine "$safety"; do
		image=$(image_of "$v" "$name")
		rbd snap ls --format json "$image" | jq -e --arg s "$name" 'any(.[]; .name == $s)' \
			>/dev/null || fail "$name is not on the cluster"
	done
	kept=$(cluster_snapshots "$sp" "$v")
	expect_refused 1 "pinned" rowcat rm "$v@$first"
	rowcat gc --min-age 0s --trash-delay 0s -q >/dev/null || fail gc
	expect_eq "$kept" "$(cluster_snapshots "$sp" "$v")" "the cluster after one more gc"
	expect_check_clean
}

test_a_failing_volume_does_not_stop_the_others() {
	rowcat init -q || fail init
	local base a b c v sp file=$SCRATCH/policy.yaml name2 prom=$SCRATCH/policy.prom
	base=$(volname) a=$(volname a) b=$(volname b) c=$(volname c) sp=$(own_namespace)
	create_volumes "$sp/$a" "$sp/$b" "$sp/$c"
	one_policy "$file" "$sp/${base}[abc]" 1h "{latest: 2}"
	rowcat policy run "$file" --now "$(hour_iso 0)" -q >/dev/null || fail "hour 0"
	# b's operating image disappears behind rowcat's back
	rbd rm --no-progress "$(rowcat which "$b")" >/dev/null 2>&1 || fail "rbd rm"
	name2=$(snap_name $((T0 + 3600)))
	run rowcat policy run "$file" --now "$(hour_iso 1)" --gc --metrics "$prom"
	expect_eq 1 "$status" "the run with a failing volume"
	expect_contains "$err" "rowcat: policy: $b: failed: " "the failing volume's line"
	expect_contains "$err" "3 volumes managed: 2 snapshots taken, 0 expired, 0 flattened; 0 busy, 1 failed ($b)" \
		"the summary"
	expect_eq "rowcat: policy: 1 of 3 volumes failed" "$(tail -1 <<<"$err")" "the last line"
	expect_contains "$out" "$a: policy p: snapshot $name2 taken" "a's line"
	expect_contains "$out" "$c: policy p: snapshot $name2 taken" "c's line"
	for v in "$a" "$c"; do
		cluster_snapshots "$sp" "$v" | grep -q "@$name2$" || fail "$v has no $name2 on the cluster"
	done
	cluster_snapshots "$sp" "$b" | grep -q "@$name2$" && fail "$b has $name2 on the cluster"
	grep -qx 'rowcat_policy_last_run_success 0' "$prom" || fail "metrics: success"
	grep -qx 'rowcat_policy_volumes{outcome="failed"} 1' "$prom" || fail "metrics: failed"
	grep -qx 'rowcat_policy_volumes{outcome="ok"} 2' "$prom" || fail "metrics: ok"
	grep -qx 'rowcat_policy_snapshots_taken 2' "$prom" || fail "metrics: taken"
	# and so on at every run, in JSON too
	run rowcat policy run "$file" --now "$(hour_iso 2)" --format json
	expect_eq 1 "$status" "the next run"
	expect_eq "$a ok true
$b failed false
$c ok true" "$(jq -r '.[] | "\(.volume) \(.outcome) \(.snapshot != null)"' <<<"$out")" "the next run's volumes"
	[ -n "$(jq -r --arg b "$b" '.[] | select(.volume == $b) | .message // empty' <<<"$out")" ] ||
		fail "no message for the failed volume: $out"
	expect_eq 0 "$(running_ops)" "operations left running"
}

test_one_policy_run_at_a_time() {
	rowcat init -q || fail init
	local v sp file=$SCRATCH/policy.yaml pid hook
	v=$(volname) sp=$(own_namespace)
	create_volumes "$sp/$v"
	one_policy "$file" "$sp/$v" 1h "{latest: 1}"
	# the switch hook holds the first run (and its lock) until "go"
	hook="touch '$SCRATCH/in-hook'; while [ ! -e '$SCRATCH/go' ]; do sleep 0.05; done"
	"$ROWCAT" --id rowcat --catalog "$CATALOG" --on-switch "$hook" \
		policy run "$file" --now "$(hour_iso 0)" -q >/dev/null 2>"$SCRATCH/first.err" &
	pid=$!
	for _ in $(seq 300); do [ -e "$SCRATCH/in-hook" ] && break; sleep 0.1; done
	[ -e "$SCRATCH/in-hook" ] || fail "the first run never switched: $(cat "$SCRATCH/first.err")"
	expect_refused 1 "another rowcat policy run is running" \
		rowcat policy run "$file" --now "$(hour_iso 1)" --metrics "$SCRATCH/refused.prom"
	expect_contains "$err" "(pid $pid" "the refusal names the running policy run"
	[ -e "$SCRATCH/refused.prom" ] && fail "a refused run wrote metrics"
	expect_eq "" "$(find "$SCRATCH" -name '*.tmp.*')" "no temporary metrics file left"
	# check only reads: it is not refused
	run rowcat policy check "$file" --now "$(hour_iso 1)"
	expect_eq 0 "$status" "policy check while a run holds the lock ($err)"
	touch "$SCRATCH/go"
	wait "$pid" || fail "the first run: $(cat "$SCRATCH/first.err")"
	rowcat policy run "$file" --now "$(hour_iso 1)" -q >/dev/null || fail "a run after the first"
	expect_eq "$(snap_name "$T0") $(snap_name $((T0 + 3600)))" \
		"$(cluster_snapshots "$sp" "$v" | sed 's/.*@//' | sort | paste -sd' ')" "the snapshots of both runs"
	expect_check_clean
}

# A switch hook that never returns is stopped at its time limit: the run
# ends, the snapshot stands, and the policy lock is free for the next run.
test_a_switch_hook_that_never_returns_does_not_hold_the_policy_lock() {
	rowcat init -q || fail init
	local v sp file=$SCRATCH/policy.yaml
	v=$(volname) sp=$(own_namespace)
	rowcat create "$sp/$v" --size 8M -q || fail create
	one_policy "$file" "$sp/$v" 1h "{latest: 2}"
	# timeout only keeps a broken rowcat from hanging the test: 124 fails
	run timeout 300 "$ROWCAT" --id rowcat --catalog "$CATALOG" --hook-timeout 1 \
		--on-switch 'sleep 1000' policy run "$file" --now "$(hour_iso 0)"
	expect_eq 1 "$status" "the run with a hook that never returns ($err)"
	expect_contains "$err" "rowcat: policy: $v: failed: volume '$v' switched to" "the volume's line"
	expect_contains "$err" "did not finish within 1 s (--hook-timeout) and was stopped" "the volume's line"
	expect_eq "$sp/$v@$(snap_name "$T0")" "$(rbd_parent "$(rowcat which "$v")")" "the switch stands"
	run rowcat policy run "$file" --now "$(hour_iso 1)"
	expect_eq 0 "$status" "the next run ($err)"
	expect_eq "$(snap_name "$T0") $(snap_name $((T0 + 3600)))" \
		"$(cluster_snapshots "$sp" "$v" | sed 's/.*@//' | sort | paste -sd' ')" "the snapshots of both runs"
	expect_check_clean
}

# The summary names the busy volumes after the busy count and the failed
# ones after the failed count.
test_the_summary_names_busy_and_failed_volumes_apart() {
	rowcat init -q || fail init
	local base a b c sp file=$SCRATCH/policy.yaml pid
	base=$(volname) a=$(volname a) b=$(volname b) c=$(volname c) sp=$(own_namespace)
	for v in "$a" "$b" "$c"; do rowcat create "$sp/$v" --size 8M -q || fail "create $v"; done
	one_policy "$file" "$sp/${base}[abc]" 1h "{latest: 2}"
	rowcat policy run "$file" --now "$(hour_iso 0)" -q >/dev/null || fail "hour 0"
	# a is busy: a snap of it is stopped halfway in another rowcat
	ROWCAT_FAILPOINT=row.journal.after:stop "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		snap "$a" held -q 2>/dev/null &
	pid=$!
	wait_stopped "$pid" "the snap of $a"
	# b fails: its operating image disappears behind rowcat's back
	rbd rm --no-progress "$(rowcat which "$b")" >/dev/null 2>&1 || fail "rbd rm"
	run rowcat policy run "$file" --now "$(hour_iso 1)"
	kill -CONT "$pid"
	wait "$pid" || fail "the held snap of $a"
	expect_eq 1 "$status" "the run"
	expect_contains "$err" "rowcat: policy: $a: busy: " "a's line"
	expect_contains "$err" "3 volumes managed: 1 snapshot taken, 0 expired, 0 flattened; 1 busy ($a), 1 failed ($b)" \
		"the summary"
}

test_metrics_file() {
	rowcat init -q || fail init
	local base sp file=$SCRATCH/policy.yaml prom=$SCRATCH/policy.prom name
	base=$(volname) sp=$(own_namespace)
	create_volumes "$sp/${base}a" "$sp/${base}b"
	one_policy "$file" "$sp/$base?" 1h "{latest: 1}"
	run rowcat policy run "$file" --now "$(hour_iso 0)" --metrics "$prom" -q
	expect_eq 0 "$status" "policy run with metrics ($err)"
	grep -qx 'rowcat_policy_last_run_success 1' "$prom" || fail "metrics: success"
	grep -qx 'rowcat_policy_snapshots_taken 2' "$prom" || fail "metrics: taken"
	grep -qx 'rowcat_policy_snapshots_expired 0' "$prom" || fail "metrics: expired"
	grep -qx 'rowcat_policy_volumes{outcome="ok"} 2' "$prom" || fail "metrics: ok"
	grep -qx 'rowcat_policy_volumes{outcome="failed"} 0' "$prom" || fail "metrics: failed"
	grep -q '^rowcat_policy_last_run_timestamp_seconds [0-9]' "$prom" || fail "metrics: time"
	grep -q '^rowcat_policy_duration_seconds [0-9]' "$prom" || fail "metrics: duration"
	# the text format: one TYPE line per name, before its samples, and
	# every other line a sample
	for name in $(grep -v '^#' "$prom" | sed 's/[{ ].*//' | sort -u); do
		expect_eq "# TYPE $name gauge" "$(grep "^# TYPE $name " "$prom")" "TYPE of $name"
		[ "$(grep -n "^# TYPE $name " "$prom" | cut -d: -f1)" -lt \
			"$(grep -n "^${name}[{ ]" "$prom" | head -1 | cut -d: -f1)" ] ||
			fail "TYPE of $name after its samples"
	done
	grep -v '^#' "$prom" | grep -Evx '[a-z_]+(\{[a-z_]+="[a-z-]+"\})? [0-9]+(\.[0-9]+)?' &&
		fail "a line that is not a sample"
	expect_eq "" "$(find "$SCRATCH" -name '*.tmp.*')" "no temporary metrics file left"
	# half an hour on, nothing is due: the file says so
	run rowcat policy run "$file" --now "$(iso $((T0 + 1800)))" --metrics "$prom" -q
	expect_eq 0 "$status" "the second run ($err)"
	grep -qx 'rowcat_policy_snapshots_taken 0' "$prom" || fail "metrics: none taken"
	grep -qx 'rowcat_policy_last_run_success 1' "$prom" || fail "metrics: second success"
	expect_eq "" "$(find "$SCRATCH" -name '*.tmp.*')" "no temporary metrics file left"
}

# jobs_state CATALOG SPEC PREFIX: what the catalog and the cluster (SPEC)
# hold of the volumes PREFIX1..PREFIX4, with PREFIX and image names left
# out, so that two sets of volumes can be compared.
jobs_state() {
	local i v
	for i in 1 2 3 4; do
		v=$3$i
		echo "== $i"
		# created and trash_until are the real time, which differs
		# from run to run; policy_time is the --now each snapshot was
		# taken at. Image and volume names differ too: a parent is
		# named by its place in the list.
		CATALOG=$1 rowcat tree "$v" --all --format json |
			jq -cS '(.nodes | map(.id) | to_entries |
				map({key: .value, value: .key}) | from_entries) as $at |
				del(.volume, .operating) |
				.nodes |= map(.parent_id |= (if . then $at[.] else null end) |
					del(.id, .image, .volume, .created, .trash_until))'
		cluster_snapshots "$2" "$v" | sed 's/.*@//' | sort
		rbd ls "$2" | grep -cE "^$v(\.rc[0-9]+)?$"
	done
}

test_jobs_1_and_8_give_the_same_result() {
	local base sp file=$SCRATCH/policy.yaml j i h outputs
	local -A state=() runs=()
	base=$(volname) sp=$(own_namespace)
	# two policies over four volumes, each set of volumes in its own
	# catalog; the first policy that matches wins
	cat >"$file" <<EOF
version: 1
timezone: $ZONE
gc: {min_age: 0s, trash_delay: 0s}
policies:
  - name: often
    volumes: ["$sp/${base}j?-[12]"]
    every: 1h
    keep: {latest: 2}
    max_depth: 2
  - name: seldom
    volumes: ["$sp/${base}j?-*"]
    every: 2h
    keep: {latest: 1, daily: 1}
    max_depth: 3
EOF
	local own=$CATALOG
	for j in 1 8; do
		export CATALOG; CATALOG=$(CATALOG=$own other_catalog "jobs$j")
		rowcat init -q || fail "init $j"
		for i in 1 2 3 4; do
			create_volumes "$sp/${base}j$j-$i"
		done
		outputs=""
		for h in 0 1 2 3 4; do
			run rowcat policy run "$file" --now "$(hour_iso "$h")" --gc --jobs "$j" --format json
			expect_eq 0 "$status" "--jobs $j, hour $h ($err)"
			python3 -c 'import json, sys; json.load(sys.stdin)' <<<"$out" ||
				fail "--jobs $j: not JSON: $out"
			outputs+=$(jq -c --arg p "${base}j$j-" 'map(.volume |= ltrimstr($p) |
				.flattened |= (. != null))' <<<"$out")$'\n'
		done
		runs[$j]=$outputs
		state[$j]=$(jobs_state "$CATALOG" "$sp" "${base}j$j-")
		expect_check_clean
	done
	expect_eq "${runs[1]}" "${runs[8]}" "what the runs did with --jobs 1 and --jobs 8"
	expect_eq "${state[1]}" "${state[8]}" "the catalog and the cluster after --jobs 1 and --jobs 8"
	# not trivially equal: snapshots were taken, expired, flattened
	expect_contains "${runs[1]}" '"flattened":true' "a flatten in the runs"
	[ "$(jq -s 'map(.[].expired) | add' <<<"${runs[1]}")" -gt 0 ] || fail "nothing expired"
}

# ---- --now never makes anything go sooner --------------------------------

# in_trash SPEC NAME-REGEX: the ids of SPEC's RBD trash entries whose image
# name matches, sorted, on one line.
in_trash() {
	rbd trash ls --format json "$1" |
		jq -r --arg n "$2" '[.[] | select(.name | test($n)) | .id] | sort | join(" ")'
}

# iso_seconds ISO: Unix time of an ISO-8601 time rowcat printed.
iso_seconds() {
	date -u -d "$1" +%s
}

# Issue 12: a volume removed and collected waits out its 24 h in the RBD
# trash; a rehearsal three days ahead (policy run --gc --now) for a policy
# that names another volume decides what that policy takes and expires,
# and nothing more. x stays in the trash (not the run's volume, and its
# delay is the real clock's); so does the run's own volume's leftover in
# the trash; garbage of a volume no policy of the file names is left to
# rowcat gc; what the run did is recorded at the real time, and log shows
# the policy time beside it.
test_a_rehearsal_three_days_ahead_removes_nothing_sooner() {
	rowcat init -q || fail init
	local x v w sp vol file=$SCRATCH/sim.yaml ahead first last when
	local trashed_x trashed_v safety_v safety_w old_w log name created
	x=$(volname x) v=$(volname) w=$(volname w) sp=$(own_namespace)
	for vol in "$x" "$v" "$w"; do
		rowcat create "$sp/$vol" --size 8M -q || fail "create $vol"
	done
	rowcat snap "$x" s1 -q || fail "snap $x"
	# a restore leaves a safety snapshot on the image it moved away from
	for vol in "$v" "$w"; do
		rowcat snap "$vol" s1 -q && rowcat restore "$vol" s1 -q || fail "restore $vol"
	done
	safety_v=$(safety_snapshots "$v") safety_w=$(safety_snapshots "$w")
	old_w=$(image_of "$w" "$safety_w")
	rowcat rm "$x" -q && rowcat rm "$v@$safety_v" -q || fail rm
	rowcat gc --min-age 0s -q >/dev/null || fail "gc with the default 24 h delay"
	trashed_x=$(in_trash "$sp" "^$x(\\.rc[0-9]+)?\$")
	trashed_v=$(in_trash "$sp" "^$v(\\.rc[0-9]+)?\$")
	expect_eq 2 "$(wc -w <<<"$trashed_x")" "x's images in the trash (rbd trash ls)"
	expect_eq 1 "$(wc -w <<<"$trashed_v")" "v's leftover in the trash (rbd trash ls)"
	# marked only now: gc could take it at once, by the real clock
	rowcat rm "$w@$safety_w" -q || fail "rm $w@$safety_w"
	printf '%s\n' "version: 1" "timezone: UTC" "gc: {min_age: 0s, trash_delay: 0s}" \
		"policies:" "  - name: p" "    volumes: [\"$sp/$v\"]" "    every: 1h" \
		"    keep: {latest: 1}" >"$file"
	ahead=$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%SZ)
	first=$(date +%s)
	run rowcat policy run "$file" --gc --now "$ahead"
	last=$(date +%s)
	expect_eq 0 "$status" "policy run --gc --now $ahead ($err)"
	name=$(date -u -d "$ahead" +%Y%m%dT%H%M%SZ)
	expect_contains "$out" "snapshot $name taken" "the rehearsal's snapshot, named for its policy time"
	expect_eq "$trashed_x" "$(in_trash "$sp" "^$x(\\.rc[0-9]+)?\$")" \
		"x in the trash after the rehearsal (rbd trash ls)"
	expect_eq "$trashed_v" "$(in_trash "$sp" "^$v(\\.rc[0-9]+)?\$")" \
		"v's leftover in the trash after the rehearsal (rbd trash ls)"
	rbd snap ls --format json "$old_w" | jq -e --arg s "$safety_w" 'any(.[]; .name == $s)' \
		>/dev/null || fail "the rehearsal collected $w@$safety_w, of a volume it does not manage"

	# recorded at the real time; the policy time beside it
	log=$(rowcat log "$v" --format json) || fail "log $v"
	expect_eq "snap $ahead" "$(jq -r '.[0] | "\(.operation) \(.policy_time)"' <<<"$log")" \
		"log: the rehearsal's snapshot and its policy time"
	expect_eq 1 "$(jq '[.[] | select(.policy_time != null)] | length' <<<"$log")" \
		"log: operations with a policy time"
	for when in $(jq -r '.[] | .started, (.finished // empty)' <<<"$log"); do
		[ "$(iso_seconds "$when")" -le "$last" ] || fail "log shows $when, after the run ended"
	done
	when=$(jq -r '.[0].started' <<<"$log")
	[ "$(iso_seconds "$when")" -ge "$first" ] ||
		fail "log: the rehearsal's snapshot started $when, before the run"
	run rowcat log "$v"
	expect_contains "$(sed -n 1p <<<"$out")" "POLICY TIME" "log's header"
	expect_contains "$(sed -n 2p <<<"$out")" "$ahead" "log's line for the rehearsal"
	created=$(rowcat tree "$v" --format json | jq -r --arg n "$name" \
		'.nodes[] | select(.snapshot? == $n) | .created')
	[ -n "$created" ] && [ "$(iso_seconds "$created")" -ge "$first" ] &&
		[ "$(iso_seconds "$created")" -le "$last" ] ||
		fail "tree: the rehearsal's snapshot created at '$created', not at the real time"

	# a later real run judges by the real clock too: w's garbage goes, the
	# trash waits out its delay
	rowcat gc --min-age 0s --trash-delay 0s -q >/dev/null || fail "gc"
	expect_eq "" "$(rbd ls "$sp" | grep -x "${old_w##*/}")" \
		"rowcat gc collects $old_w, which carried $w@$safety_w (rbd ls)"
	expect_eq "" "$(in_trash "$sp" "^$w(\\.rc[0-9]+)?\$")" "w's images purged (rbd trash ls)"
	expect_eq "$trashed_x" "$(in_trash "$sp" "^$x(\\.rc[0-9]+)?\$")" "x in the trash after gc"
	expect_eq "$trashed_v" "$(in_trash "$sp" "^$v(\\.rc[0-9]+)?\$")" \
		"v's leftover in the trash after gc"
	expect_check_clean
}


# --gc collects what it can: a gc already running elsewhere is not the
# run's failure (that gc collects), and a volume busy with another rowcat
# is left for the next run while the others are collected.
test_gc_skips_a_gc_running_elsewhere_and_volumes_busy_elsewhere() {
	rowcat init -q || fail init
	local base a b x sp file=$SCRATCH/policy.yaml pid
	base=$(volname) a=$(volname a) b=$(volname b) x=$(volname x) sp=$(own_namespace)
	create_volumes "$sp/$a" "$sp/$b"
	# max_depth 1: each run flattens, so what retention expires is garbage
	one_policy "$file" "$sp/${base}[ab]" 1h "{latest: 1}" 1
	rowcat policy run "$file" --now "$(hour_iso 0)" -q >/dev/null || fail "hour 0"
	# another gc holds gc's lock, stopped at its first step (on x)
	rowcat create "$sp/$x" --size 4M -q && rowcat rm "$x" -q || fail "volume $x"
	ROWCAT_FAILPOINT=gc.journal.after:stop "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		gc --min-age 0s --trash-delay 0s -q >/dev/null 2>&1 &
	pid=$!
	wait_stopped "$pid"
	run rowcat policy run "$file" --now "$(hour_iso 1)" --gc
	expect_eq 0 "$status" "the run while a gc runs elsewhere ($err)"
	expect_contains "$err" "rowcat: policy: gc skipped: another rowcat gc is running" \
		"the skipped gc"
	expect_contains "$(grep 'gc skipped' <<<"$err")" "(pid $pid" "the skipped gc names the running gc"
	expect_contains "$err" "2 volumes managed: 2 snapshots taken, 2 expired, 2 flattened" "the summary"
	for v in "$a" "$b"; do
		expect_contains "$(cluster_snapshots "$sp" "$v")" "$v@$(snap_name "$T0")" \
			"$v's expired snapshot, not collected"
	done
	resume_until_ended "$pid"
	wait "$pid" || fail "the other gc"
	# a is busy: a snap of it is stopped halfway in another rowcat
	ROWCAT_FAILPOINT=row.journal.after:stop "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		snap "$a" held -q 2>/dev/null &
	pid=$!
	wait_stopped "$pid"
	run rowcat policy run "$file" --now "$(hour_iso 2)" --gc
	kill -CONT "$pid"
	wait "$pid" || fail "the held snap of $a"
	expect_eq 0 "$status" "the run with a busy volume ($err)"
	expect_contains "$err" "rowcat: policy: $a: busy: " "a's line"
	expect_contains "$err" "rowcat: policy: gc: " "the gc's line"
	# b's expired snapshots and the images they left are collected, a's kept
	expect_eq "$(snap_name $((T0 + 7200)))" "$(cluster_snapshots "$sp" "$b" | sed 's/.*@//')" \
		"b's snapshots after the gc"
	expect_contains "$(cluster_snapshots "$sp" "$a")" "$a@$(snap_name "$T0")" "a's garbage kept"
	rowcat gc --min-age 0s --trash-delay 0s -q >/dev/null || fail "gc after"
	expect_check_clean
}

# A volume removed with rowcat rm while the run is about to snapshot it
# (after its own reads, before the journal entry) takes no snapshot, and is
# left alone like one removed before the run: not a failure of the run.
test_a_volume_removed_during_the_run_takes_no_snapshot_and_is_no_failure() {
	rowcat init -q || fail init
	local v sp file=$SCRATCH/policy.yaml pid catalog
	v=$(volname) sp=$(own_namespace)
	create_volumes "$sp/$v"
	one_policy "$file" "$sp/$v" 1h "{latest: 2}"
	ROWCAT_FAILPOINT=row.journal.before:stop "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		policy run "$file" --now "$(hour_iso 0)" >"$SCRATCH/out" 2>"$SCRATCH/err" &
	pid=$!
	wait_stopped "$pid"
	run rowcat rm "$v" -q
	[ "$status" = 0 ] || { kill -CONT "$pid"; fail "rm $v: $err"; }
	catalog=$(catalog_state)
	kill -CONT "$pid"
	wait "$pid"
	status=$? err=$(cat "$SCRATCH/err")
	expect_eq 0 "$status" "the run ($err)"
	expect_contains "$err" "1 volume managed: 0 snapshots taken, 0 expired, 0 flattened; 0 busy, 0 failed" \
		"the summary"
	expect_eq "" "$(cluster_snapshots "$sp" "$v")" "snapshots of $v"
	expect_eq "$v" "$(rbd ls "$sp" | xargs)" "images of $v"
	expect_eq "$catalog" "$(catalog_state)" "the catalog after the run"
}

# Many hosts share one catalog (ROWCAT_HOST plays two on this machine): a
# volume whose consumer runs on hv-2 is hv-2's run's, untouched by hv-1's
# ('elsewhere', exit 0 as for nothing due), and a detached volume is
# taken by whichever run comes first, once: the slot hv-1 took is not
# due for hv-2. A consumer recorded before hosts were counts as the host's
# own, whichever host runs.
test_each_host_takes_its_attached_volumes_and_the_detached_ones_once() {
	rowcat init -q || fail init
	local base a b c sp file=$SCRATCH/policy.yaml name0 name1 prom=$SCRATCH/policy.prom
	base=$(volname) a=$(volname a) b=$(volname b) c=$(volname c) sp=$(own_namespace)
	create_volumes "$sp/$a" "$sp/$b" "$sp/$c"
	one_policy "$file" "$sp/${base}[abc]" 1h "{latest: 2}"
	name0=$(snap_name "$T0") name1=$(snap_name $((T0 + 3600)))
	# no QEMU listens: each host's own snaps of a and c go on as without one
	ROWCAT_HOST=hv-2 rowcat consumer "$a" "unix:$SCRATCH/a.qmp" || fail "consumer $a"
	ROWCAT_HOST=hv-1 rowcat consumer "$c" "unix:$SCRATCH/c.qmp" || fail "consumer $c"

	run env ROWCAT_HOST=hv-1 "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		policy run "$file" --now "$(hour_iso 0)" --format json --metrics "$prom"
	expect_eq 0 "$status" "hv-1's run ($err)"
	expect_eq "$a elsewhere null null hv-2
$b ok true $name0 null
$c ok true $name0 null" "$(jq -r '.[] | "\(.volume) \(.outcome) \(.due) \(.snapshot) \(.host)"' <<<"$out")" \
		"hv-1's run's volumes"
	expect_eq "its consumer runs on host hv-2 (unix:$SCRATCH/a.qmp); that host's policy run takes it" \
		"$(jq -r --arg a "$a" '.[] | select(.volume == $a) | .message' <<<"$out")" "a's message"
	expect_contains "$err" "rowcat: policy: $a: elsewhere: its consumer runs on host hv-2" "a's line"
	grep -qx 'rowcat_policy_volumes{outcome="elsewhere"} 1' "$prom" || fail "metrics: elsewhere"
	grep -qx 'rowcat_policy_volumes{outcome="ok"} 2' "$prom" || fail "metrics: ok"
	grep -qx 'rowcat_policy_last_run_success 1' "$prom" || fail "metrics: success"
	expect_eq "" "$(cluster_snapshots "$sp" "$a")" "snapshots of $a after hv-1's run"

	# hv-2 at the same hour: a is its own; b's slot is taken already
	run env ROWCAT_HOST=hv-2 "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		policy run "$file" --now "$(hour_iso 0)"
	expect_eq 0 "$status" "hv-2's run ($err)"
	expect_eq "$a: policy p: snapshot $name0 taken; 0 expired" "$out" "hv-2's run's lines"
	expect_contains "$err" "rowcat: policy: $c: elsewhere: its consumer runs on host hv-1" "c's line"
	expect_contains "$err" "3 volumes managed: 1 snapshot taken, 0 expired, 0 flattened; 0 busy, 0 failed, 0 in use, 1 on other hosts ($c)" \
		"hv-2's summary"
	for v in "$a" "$b" "$c"; do
		expect_eq "$name0" "$(cluster_snapshots "$sp" "$v" | sed 's/.*@//' | xargs)" "snapshots of $v"
	done
	# quiet, as the timer runs it: another host's volume is no news
	run env ROWCAT_HOST=hv-2 "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		policy run "$file" --now "$(hour_iso 0)" -q
	expect_eq "0  " "$status $out $err" "hv-2's quiet run with nothing due"

	# a consumer recorded before hosts were: every host's own
	catalog_sql "UPDATE volume SET consumer_host = NULL WHERE name = '$a'"
	run env ROWCAT_HOST=hv-1 "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		policy run "$file" --now "$(hour_iso 1)" --format json
	expect_eq 0 "$status" "hv-1's run at hour 1 ($err)"
	expect_eq "$a ok $name1
$b ok $name1
$c ok $name1" "$(jq -r '.[] | "\(.volume) \(.outcome) \(.snapshot)"' <<<"$out")" \
		"hv-1's run at hour 1"
	expect_eq 0 "$(running_ops)" "operations left running"
	expect_check_clean
}

run_tests
