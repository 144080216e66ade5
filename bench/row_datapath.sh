# Row 5: the data path, the ROW claim (sourced by run.sh).

# datapath_phases IMAGE KIND REP : the three phases on rbd/IMAGE; appends
# "KIND PHASE IOPS MEAN_US P99_US" lines to $work/datapath.
datapath_phases() {
	local image=$1 kind=$2 rep=$3 out=$work/fio-$kind-$rep figures
	# the first write to every 4 MiB object: one 4 KiB write at the start
	# of each object (skip 4092 KiB after each; without number_ios fio
	# would wrap around until it had written the whole size)
	fio_json "$out.first" "$image" --rw=write:4092k --size="$dp_size" \
		--number_ios="$dp_objects"
	figures=$(fio_figures "$out.first" write "$dp_objects")
	echo "$kind first $figures" >>"$work/datapath"
	fio_json "$out.randwrite" "$image" --rw=randwrite --size="$dp_size" \
		--time_based --runtime="$dp_runtime" --ramp_time="$dp_ramp"
	figures=$(fio_figures "$out.randwrite" write)
	echo "$kind randwrite $figures" >>"$work/datapath"
	fio_json "$out.randread" "$image" --rw=randread --size="$dp_size" \
		--time_based --runtime="$dp_runtime" --ramp_time="$dp_ramp"
	figures=$(fio_figures "$out.randread" read)
	echo "$kind randread $figures" >>"$work/datapath"
}

row_datapath() {
	local reps=5 dp_size=1G dp_runtime=15 dp_ramp=2 rep kind image
	[ "$quick" = 1 ] && reps=2 dp_size=64M dp_runtime=1 dp_ramp=0
	local dp_objects fio_version paxos_now
	dp_objects=$(( $(numfmt --from=iec "$dp_size") / 4194304 ))
	fio_version=$(fio --version)
	paxos 1
	say "row 5: three $dp_size images, prefilled"
	rbd create "rbd/dp-plain$run_id" --size "$dp_size" --image-feature "$features" &&
		rbd create "rbd/dp-native$run_id" --size "$dp_size" --image-feature "$features" ||
		bench_fail "rbd create"
	rc create "rbd/dprow$run_id" --size "$dp_size" || bench_fail "rowcat create"
	for image in "dp-plain$run_id" "dp-native$run_id" "dprow$run_id"; do
		fio_json "$work/fill.json" "$image" --rw=write --bs=4m --size="$dp_size"
	done
	rc snap "dprow$run_id" base >/dev/null || bench_fail "rowcat snap"

	: >"$work/datapath"
	for rep in $(seq "$reps"); do
		say "row 5: round $rep of $reps"
		# fresh state each round: a new native snapshot, a new operating
		# clone of the same snapshot (rowcat restore)
		rbd snap create "rbd/dp-native$run_id@r$rep" --no-progress ||
			bench_fail "rbd snap create"
		[ "$rep" = 1 ] || rc restore "dprow$run_id" base >/dev/null ||
			bench_fail "rowcat restore"
		image=$(rc which "dprow$run_id")
		image=${image#rbd/}
		[ "$(rbd info --format json "rbd/$image" | jq -r .parent.snapshot)" = base ] ||
			bench_fail "$image is not a clone of base"
		for kind in $(printf '%s\n' plain native row plain native | tail -n +$((rep % 3 + 1)) | head -3); do
			case $kind in
			plain) datapath_phases "dp-plain$run_id" plain "$rep" ;;
			native) datapath_phases "dp-native$run_id" native "$rep" ;;
			row) datapath_phases "$image" row "$rep" ;;
			esac
		done
	done
	# after the rounds: a removal's trimming would run under the next round
	for rep in $(seq "$reps"); do
		rbd snap rm "rbd/dp-native$run_id@r$rep" --no-progress || bench_fail "rbd snap rm"
	done
	paxos_now=$(paxos_setting)

	cat <<EOT
## 5. The data path: plain image, native RBD snapshot, ROW operating clone

fio ${fio_version#fio-}'s rbd engine, 4 KiB blocks, iodepth 16, on three $dp_size images
prefilled with 4 MiB writes (object size 4 MiB, rowcat's features):

- **plain**: an image with no snapshot;
- **native**: an image with a native RBD snapshot taken just before
  (the OSD copies each object on its first write: copy-on-write); one
  image, a new snapshot each round, so round k runs with k snapshots
  (see the table by round below);
- **ROW**: the operating clone of a volume right after \`rowcat snap\`
  (later rounds: \`rowcat restore\` to the same snapshot), whose first
  write to each object copies the object up from the parent.

Three phases in order on each image: the first write to every 4 MiB
object (one 4 KiB write at the start of each, $dp_objects writes), then steady
random writes (${dp_runtime} s after ${dp_ramp} s ramp), then random reads (the same).
Each round starts from a fresh snapshot or clone; the order of the three
images rotates; the round's native snapshots are removed after the last
round. Latency is fio's completion latency. paxos_propose_interval
$paxos_now (no phase creates a snapshot). Medians of $reps rounds.

The first phase copies every object of the ROW clone up from its parent,
so the later phases run on a clone that no longer reads through; reads
through parents are row 6.

| phase | image | IOPS | mean latency | p99 latency | IOPS / plain |
|---|---|---|---|---|---|
EOT
	local phase plain_iops iops mean p99
	for phase in first randwrite randread; do
		plain_iops=$(awk -v p=$phase '$1 == "plain" && $2 == p { print $3 }' "$work/datapath" | median)
		for kind in plain native row; do
			iops=$(awk -v k=$kind -v p=$phase '$1 == k && $2 == p { print $3 }' "$work/datapath" | median)
			mean=$(awk -v k=$kind -v p=$phase '$1 == k && $2 == p { print $4 }' "$work/datapath" | median)
			p99=$(awk -v k=$kind -v p=$phase '$1 == k && $2 == p { print $5 }' "$work/datapath" | median)
			echo "| $phase | $kind | $iops | $mean µs | $p99 µs | $(ratio "$iops" "$plain_iops") |"
		done
	done
	cat <<EOT

The native image by round (round k with k snapshots; IOPS):

| round | snapshots | first write | random writes | random reads |
|---|---|---|---|---|
EOT
	for rep in $(seq "$reps"); do
		awk -v r="$rep" '$1 == "native" { n[$2]++; if (n[$2] == r) v[$2] = $3 }
			END { printf "| %d | %d | %s | %s | %s |\n", r, r, v["first"], v["randwrite"], v["randread"] }' "$work/datapath"
	done
	echo
}
