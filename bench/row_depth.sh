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
