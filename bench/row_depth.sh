# Row 6: clone depth (sourced by run.sh).

row_depth() {
	local depths="0 1 4 8 16" reps=5 size=1G runtime=10 ramp=2 opens=21
	[ "$quick" = 1 ] && depths="0 1 2" reps=2 size=64M runtime=1 ramp=0 opens=3
	local vol="depth$run_id" max d rep image out
	max=$(tr ' ' '\n' <<<"$depths" | tail -1)
	say "row 6: a volume of depth $max"
	paxos 0.01
	rc create "rbd/$vol" --size "$size" || bench_fail "rowcat create"
	fio_json "$work/fill.json" "$vol" --rw=write --bs=4m --size="$size"
	# the operating image after d snapshots, which reads through d parents
	declare -A at_depth=([0]=$vol)
	for d in $(seq "$max"); do
		rc snap "$vol" "d$d" >/dev/null || bench_fail "rowcat snap"
		image=$(rc which "$vol")
		at_depth[$d]=${image#rbd/}
	done
	paxos 1
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
