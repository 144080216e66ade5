# Row 4: many volumes at once (sourced by run.sh).

# many_policy FILE SPEC : every volume of SPEC snapshotted hourly, all kept.
many_policy() {
	cat >"$1" <<EOT
version: 1
policies:
  - name: bench
    volumes: ["$2/*"]
    every: 1h
EOT
}

# shell_loop SPEC ROUND VOL... : what a script without rowcat runs.
shell_loop() {
	local spec=$1 round=$2 vol
	shift 2
	for vol in "$@"; do
		rbd snap create "$spec/$vol@loop$round" --no-progress &&
			rbd snap protect "$spec/$vol@loop$round" &&
			rbd clone --image-feature "$features" "$spec/$vol@loop$round" \
				"$spec/$vol.loop$round" || return 1
	done
}

row_volumes() {
	local counts="10 100 300" reps=5
	[ "$quick" = 1 ] && counts="2 4" reps=2
	local count spec file round vols policy_ms loop_ms n t0 hour
	paxos 1
	: >"$work/volumes.rows"
	for count in $counts; do
		n=$reps
		spec=$(namespace "v$count")
		file=$work/policy-$count.yaml
		many_policy "$file" "$spec"
		vols=$(seq -f "n${count}v%03g" "$count")
		say "row 4: $count volumes, $n rounds"
		# shellcheck disable=SC2086
		printf '%s\n' $vols | xargs -P 4 -I{} "$rowcat" --catalog "$work/catalog.db" -q \
			create "$spec/{}" --size 1G || bench_fail "creating $count volumes"
		: >"$work/volumes.$count"
		t0=$(date -u +%s)
		for round in $(seq "$n"); do
			# --now an hour on per round: every volume is due each time
			hour=$(date -u -d "@$((t0 + round * 3600))" +%Y-%m-%dT%H:%M:%SZ)
			policy_ms=$(time_ms rc policy run "$file" --now "$hour")
			# shellcheck disable=SC2086
			loop_ms=$(time_ms shell_loop "$spec" "$round" $vols)
			echo "$policy_ms $loop_ms" >>"$work/volumes.$count"
		done
		# the harness checks what it timed: n policy snapshots and n loop
		# snapshots on every volume's chain
		local made
		made=$(rc ls --format json | jq --arg ns "${spec#rbd/}" \
			'[.[] | select(.pool_namespace == $ns and .depth == '"$n"')] | length')
		[ "$made" = "$count" ] || bench_fail "rowcat ls shows $made volumes of depth $n in $spec"
		made=$(rbd ls "$spec" | { grep -c '\.loop' || true; })
		[ "$made" = $((count * n)) ] || bench_fail "$made loop clones in $spec, expected $((count * n))"
		made=$(rbd ls "$spec" | { grep -c '\.rc' || true; })
		[ "$made" = $((count * n)) ] || bench_fail "$made rowcat clones in $spec, expected $((count * n))"
		local p l
		p=$(column 1 <"$work/volumes.$count" | median)
		l=$(column 2 <"$work/volumes.$count" | median)
		echo "$count $n $p $l" >>"$work/volumes.rows"
	done

	local paxos_now
	paxos_now=$(paxos_setting)
	cat <<EOT
## 4. Many volumes at once

\`rowcat policy run\` (default \`--jobs 8\`) taking one ROW snapshot of
every volume, against a shell loop of \`rbd snap create\`, \`rbd snap
protect\` and \`rbd clone\` over the same volumes (1 GiB images, fresh
snapshots each round; the two alternate). paxos_propose_interval
$paxos_now: every snapshot create waits for a monitor proposal
round, and concurrent creates share rounds. Medians of the rounds shown.

| volumes | rounds | \`policy run\` | shell loop | loop / policy run | policy run per volume | loop per volume |
|---|---|---|---|---|---|---|
EOT
	local rounds p l
	while read -r count rounds p l; do
		echo "| $count | $rounds | $p ms | $l ms | $(ratio "$l" "$p") | $(ratio "$p" "$count") ms | $(ratio "$l" "$count") ms |"
	done <"$work/volumes.rows"
	echo
}
