# Row 6: clone depth (sourced by run.sh).

# deep_volume POOL[/NS]/VOL SIZE DEPTH [MIB]: a volume of SIZE, filled
# (rbd bench: whole 4 MiB objects, one at a time), then DEPTH rowcat snaps
# with MIB written between them (random whole objects; 0 or none: no
# writes, so every image but the first holds nothing of its own), built
# at paxos_propose_interval 0.01 s and left at 1 s. Line d of
# $work/deep-VOL is the operating image after d snaps (POOL[/NS]/IMAGE),
# which reads through d parents.
deep_volume() {
	local spec=$1 size=$2 max=$3 mib=${4:-0} list=$work/deep-${1##*/} d
	paxos 0.01
	rc create "$spec" --size "$size" || bench_fail "rowcat create $spec"
	rbd bench --io-type write --io-size 4M --io-threads 1 --io-pattern seq \
		--io-total "$size" "$spec" >/dev/null 2>&1 || bench_fail "filling $spec"
	rc which "${spec##*/}" >"$list" || bench_fail "rowcat which"
	for d in $(seq "$max"); do
		# (past depth 12 each snap warns of krbd's limit: not news here)
		rc snap "${spec##*/}" "d$d" >/dev/null 2>"$work/snap.err" ||
			bench_fail "rowcat snap: $(cat "$work/snap.err")"
		rc which "${spec##*/}" >>"$list" || bench_fail "rowcat which"
		[ "$mib" = 0 ] || rbd bench --io-type write --io-size 4M \
			--io-threads 1 --io-pattern rand --io-total "${mib}M" \
			"$(tail -1 "$list")" >/dev/null 2>&1 || bench_fail "writing generation $d"
	done
	paxos 1
}

row_depth() {
	local depths="0 1 4 8 16" reps=5 size=1G runtime=10 ramp=2 opens=21
	[ "$quick" = 1 ] && depths="0 1 2" reps=2 size=64M runtime=1 ramp=0 opens=3
	local vol="depth$run_id" max d rep out
	max=$(tr ' ' '\n' <<<"$depths" | tail -1)
	say "row 6: a volume of depth $max"
	deep_volume "rbd/$vol" "$size" "$max"
	# the operating image after d snapshots (fio's engine takes the name
	# in the default namespace)
	local at_depth=()
	mapfile -t at_depth < <(sed 's|^rbd/||' "$work/deep-$vol")
	local found walk
	for d in $depths; do
		found=-1 walk=${at_depth[$d]}
		while [ -n "$walk" ]; do
			walk=$(rbd info --format json "rbd/$walk" | jq -r '.parent.image // empty')
			found=$((found + 1))
		done
		[ "$found" = "$d" ] || bench_fail "${at_depth[$d]} has $found parents, expected $d"
	done

	librbd_start
	: >"$work/depth"
	local count figures open_ms order
	count=$(wc -w <<<"$depths")
	for rep in $(seq "$reps"); do
		say "row 6: round $rep of $reps"
		# the order rotates: no depth always reads the coldest cache
		order=$(printf '%s\n' $depths $depths | tail -n +$((rep % count + 1)) | head -"$count")
		for d in $order; do
			out=$work/fio-depth-$d-$rep
			fio_json "$out" "${at_depth[$d]}" --rw=randread --size="$size" \
				--time_based --runtime="$runtime" --ramp_time="$ramp"
			figures=$(fio_figures "$out" read)
			open_ms=$(librbd_ask open rbd "${at_depth[$d]}" "$opens")
			echo "$d $figures $open_ms" >>"$work/depth"
		done
	done
	librbd_stop
	local paxos_now
	paxos_now=$(paxos_setting)

	cat <<EOT
## 6. Clone depth

One $size volume, prefilled, then $max \`rowcat snap\`s with no writes
between, so every read of the operating image at depth d goes through d
parents to the data in the first image. Random 4 KiB reads, iodepth 16
(fio's rbd engine, ${runtime} s after ${ramp} s ramp), and the time of
\`rbd_open\` of the image (median of $opens opens in the connected harness
\`bench/bench_rbd\`: a clone opens its whole parent chain). Built at
paxos_propose_interval 0.01 s, read at $paxos_now; the order of the depths
rotates from round to round. Medians of $reps rounds.

| depth | IOPS | mean latency | p99 latency | IOPS / depth 0 | image open |
|---|---|---|---|---|---|
EOT
	local base iops mean p99 open
	base=$(awk '$1 == 0 { print $2 }' "$work/depth" | median)
	for d in $depths; do
		iops=$(awk -v d="$d" '$1 == d { print $2 }' "$work/depth" | median)
		mean=$(awk -v d="$d" '$1 == d { print $3 }' "$work/depth" | median)
		p99=$(awk -v d="$d" '$1 == d { print $4 }' "$work/depth" | median)
		open=$(awk -v d="$d" '$1 == d { print $5 }' "$work/depth" | median)
		echo "| $d | $iops | $mean µs | $p99 µs | $(ratio "$iops" "$base") | $open ms |"
	done
	echo
}

# Row 6b: what depth costs rowcat's own commands (sourced by run.sh). A
# snap of a volume `deep` operations deep against one of a volume at
# depth 1 and one bare rbd_open of the deep operating image (a snap opens
# its operating image once: goal, snap(deep) <= snap(1) + open(deep)), and
# `rowcat check` of the deep volume against `rbd children --all
# --descendants` of its root, which opens every image without its parent
# chain (goal: check <= 3x children).
row_depth_ops() {
	local deep=100 reps=5 opens=5
	[ "$quick" = 1 ] && deep=3 reps=2 opens=2
	local vol="deepops$run_id" d rep shallow image
	say "row 6b: a volume $deep snapshots deep"
	paxos 0.01
	rc create "rbd/$vol" --size 64M || bench_fail "rowcat create"
	for d in $(seq "$deep"); do
		rc snap "$vol" "d$d" >/dev/null || bench_fail "rowcat snap"
	done
	# the fixture is built; everything timed from here runs at the
	# monitor's default proposal interval (a snapshot create waits for it)
	paxos 1
	local children
	children=$(rbd children --all --descendants "rbd/$vol" | wc -l)
	[ "$children" -ge "$deep" ] ||
		bench_fail "rbd children of rbd/$vol lists $children images, expected $deep or more"

	librbd_start
	: >"$work/depth-ops"
	local snap1 snapd open close check kids now_depth
	for rep in $(seq "$reps"); do
		say "row 6b: round $rep of $reps"
		# a volume at depth 1, new each round, so that it stays at 1
		shallow="shallow$run_id-$rep"
		rc create "rbd/$shallow" --size 64M || bench_fail "rowcat create"
		rc snap "$shallow" s0 >/dev/null || bench_fail "rowcat snap"
		snap1=$(time_ms rc snap "$shallow" "s1")
		image=$(rc which "$vol")
		snapd=$(time_ms rc snap "$vol" "r$rep")
		read -r open close <<<"$(librbd_ask open rbd "${image#rbd/}" "$opens")"
		check=$(time_ms rc check "$vol")
		kids=$(time_ms rbd children --all --descendants "rbd/$vol")
		echo "$snap1 $snapd $open $close $check $kids" >>"$work/depth-ops"
	done
	librbd_stop
	rc check "$vol" >/dev/null || bench_fail "rowcat check found differences in $vol"
	now_depth=$(rc tree "$vol" --format json | jq .depth)
	local paxos_now
	paxos_now=$(paxos_setting)

	cat <<EOT
## 6b. Depth and rowcat's own commands

One 64 MiB volume $deep \`rowcat snap\`s deep (built at
paxos_propose_interval 0.01 s; timed at $paxos_now), and each round a new
volume at depth 1. Per round, side by side: \`rowcat snap\` of the
depth-1 volume, \`rowcat snap\` of the deep one (its operating image at
depth $deep + round - 1; $now_depth at the end), one \`rbd_open\` of
that operating image and its \`rbd_close\` (medians of $opens in
\`bench/bench_rbd\`; a close closes the whole chain too),
\`rowcat check\` of the deep volume, and \`rbd children --all
--descendants\` of its root (every image of the chain, each opened by
librbd without its parents). Medians of $reps rounds, milliseconds.

| snap, depth 1 | snap, depth $deep | snap $deep − snap 1 | rbd_open, depth $deep | rbd_close, depth $deep | check, depth $deep | rbd children --descendants | check / children |
|---|---|---|---|---|---|---|---|
EOT
	local m1 md mo mx mc mk
	m1=$(column 1 <"$work/depth-ops" | median)
	md=$(column 2 <"$work/depth-ops" | median)
	mo=$(column 3 <"$work/depth-ops" | median)
	mx=$(column 4 <"$work/depth-ops" | median)
	mc=$(column 5 <"$work/depth-ops" | median)
	mk=$(column 6 <"$work/depth-ops" | median)
	echo "| $m1 | $md | $(awk -v a="$md" -v b="$m1" 'BEGIN { printf "%.1f", a - b }') | $mo | $mx | $mc | $mk | $(ratio "$mc" "$mk") |"
	echo
}
