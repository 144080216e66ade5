# Row 3: the bookkeeping rowcat adds to a snapshot (sourced by run.sh).

rbd_cli_seq() { # SPEC IMAGE SNAP CLONE: the three commands a script runs
	rbd snap create "$1/$2@$3" --no-progress &&
		rbd snap protect "$1/$2@$3" &&
		rbd clone --image-feature "$features" "$1/$2@$3" "$1/$4"
}

# snap_round SPEC N PAUSE : one snapshot by each of the three ways, on
# fresh images of round N, each after PAUSE seconds of quiet; prints
# "ROWCAT_MS LIBRBD_MS RBD_MS". The order rotates with N.
snap_round() {
	local spec=$1 n=$2 pause=$3 way t
	for way in $(printf '%s\n' rowcat librbd rbd rowcat librbd | tail -n +$((n % 3 + 1)) | head -3); do
		sleep "$pause"
		case $way in
		rowcat) t=$(time_ms rc snap "a$n" s) ;;
		librbd) t=$(librbd_ask seq "$spec" "b$n" s "b$n.c") ;;
		rbd) t=$(time_ms rbd_cli_seq "$spec" "c$n" s "c$n.c") ;;
		esac
		printf -v "t_$way" '%s' "$t"
	done
	echo "$t_rowcat $t_librbd $t_rbd"
}

row_snap() {
	local reps=7 quiet_pause=1.5 spec n mode pause
	[ "$quick" = 1 ] && reps=2 quiet_pause=0.1
	spec=$(namespace snap)
	paxos 1
	say "row 3: $reps snapshots each way, twice"
	# images for every round: rowcat's volumes a*, bare images b* and c*
	for n in $(seq $((2 * reps))); do
		rc create "$spec/a$n" --size 1G || bench_fail "create a$n"
		rbd create "$spec/b$n" --size 1G --image-feature "$features" &&
			rbd create "$spec/c$n" --size 1G --image-feature "$features" ||
			bench_fail "rbd create b$n c$n"
	done
	librbd_start
	local t_rowcat t_librbd t_rbd
	for mode in quiet busy; do
		# quiet: a pause longer than the proposal interval before each
		# snapshot; busy: back to back, as in a loop over many volumes
		pause=$quiet_pause
		[ "$mode" = busy ] && pause=0
		: >"$work/snap.$mode"
		for n in $(seq "$reps"); do
			[ "$mode" = busy ] && n=$((n + reps))
			snap_round "$spec" "$n" "$pause" >>"$work/snap.$mode"
		done
	done
	librbd_stop

	# the harness checks what it timed: every clone has its parent
	for n in $(seq $((2 * reps))); do
		for image in "$(rc which "a$n" | sed 's|.*/||')" "b$n.c" "c$n.c"; do
			[ "$(rbd info --format json "$spec/$image" | jq -r .parent.snapshot)" = s ] ||
				bench_fail "$spec/$image is not a clone of a snapshot s"
		done
	done

	local paxos_now m_rowcat m_librbd m_rbd
	paxos_now=$(paxos_setting)
	cat <<EOT
## 3. Bookkeeping overhead of \`rowcat snap\`

One ROW snapshot of a 1 GiB image, three ways, on fresh images each time:
\`rowcat snap\` (process start, cluster connect, journal and catalog
included); the bare librbd sequence (open, snapshot create, protect,
close, clone with rowcat's features) in one already connected process
(\`bench/bench_rbd\`); and the three \`rbd\` commands a script would run
(\`snap create\`, \`snap protect\`, \`clone\`). The order of the three rotates
from round to round. paxos_propose_interval $paxos_now. Medians of $reps rounds.

- **spaced**: each snapshot ${quiet_pause} s after the one before, longer than
  the monitor's proposal interval (one snapshot now and then);
- **back to back**: no pause (a loop over many volumes).

| what | \`rowcat snap\` | bare librbd | 3 x \`rbd\` | rowcat / librbd | rowcat / rbd |
|---|---|---|---|---|---|
EOT
	for mode in quiet busy; do
		m_rowcat=$(column 1 <"$work/snap.$mode" | median)
		m_librbd=$(column 2 <"$work/snap.$mode" | median)
		m_rbd=$(column 3 <"$work/snap.$mode" | median)
		echo "| $([ $mode = quiet ] && echo spaced || echo "back to back") | $m_rowcat ms | $m_librbd ms | $m_rbd ms | $(ratio "$m_rowcat" "$m_librbd") | $(ratio "$m_rowcat" "$m_rbd") |"
	done
	echo
}
