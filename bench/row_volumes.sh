# Row 4: many volumes at once (sourced by run.sh).

# many_policy FILE SPEC : every volume of SPEC snapshotted hourly, all kept,
# never flattened (two snapshots a round deepen a volume past the default
# max_depth of 8).
many_policy() {
	cat >"$1" <<EOT
version: 1
policies:
  - name: bench
    volumes: ["$2/*"]
    every: 1h
    max_depth: 100
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

# timed_rss CMD... : "MS KIB", the wall time and the peak resident memory
# (GNU time's maximum RSS) of one run of CMD.
timed_rss() { time_gnu '%M' "$@"; }

# policy_round FILE ROUND : "NEW_MS NEW_KIB OLD_MS OLD_KIB", one run at
# the default --jobs and one at the old default (--jobs 8), each an hour
# after the one before, so that both take a snapshot of every volume; the
# order alternates with the round, as each snapshot deepens the volumes.
policy_round() {
	local file=$1 round=$2 t_new t_old first second
	first=$(date -u -d "@$((t0 + (2 * round - 1) * 3600))" +%Y-%m-%dT%H:%M:%SZ)
	second=$(date -u -d "@$((t0 + 2 * round * 3600))" +%Y-%m-%dT%H:%M:%SZ)
	if [ $((round % 2)) = 1 ]; then
		t_new=$(timed_rss "$rowcat" --catalog "$work/catalog.db" -q policy run "$file" --now "$first")
		t_old=$(timed_rss "$rowcat" --catalog "$work/catalog.db" -q policy run "$file" --now "$second" --jobs 8)
	else
		t_old=$(timed_rss "$rowcat" --catalog "$work/catalog.db" -q policy run "$file" --now "$first" --jobs 8)
		t_new=$(timed_rss "$rowcat" --catalog "$work/catalog.db" -q policy run "$file" --now "$second")
	fi
	echo "$t_new $t_old"
}

row_volumes() {
	local counts="10 100" reps=5 big=1000 big_reps=2
	[ "$quick" = 1 ] && counts="2 4" reps=2 big=6 big_reps=1
	local count spec file round vols n t0 loop_ms load times new_ms new_kib old_ms old_kib
	paxos 1
	: >"$work/volumes.rows"
	for count in $counts $big; do
		n=$reps
		[ "$count" = "$big" ] && n=$big_reps
		spec=$(namespace "v$count")
		file=$work/policy-$count.yaml
		many_policy "$file" "$spec"
		vols=$(seq -f "n${count}v%04g" "$count")
		say "row 4: $count volumes, $n rounds"
		# shellcheck disable=SC2086
		printf '%s\n' $vols | xargs -P 4 -I{} "$rowcat" --catalog "$work/catalog.db" -q \
			create "$spec/{}" --size 1G || bench_fail "creating $count volumes"
		: >"$work/volumes.$count"
		t0=$(date -u +%s)
		for round in $(seq "$n"); do
			load=$(cut -d' ' -f1 /proc/loadavg)
			# --now an hour on per run: every volume is due each time
			times=$(policy_round "$file" "$round")
			read -r new_ms new_kib old_ms old_kib <<<"$times"
			# a loop of 1,000 volumes takes 1,000 proposal rounds a round
			loop_ms=-
			if [ "$count" != "$big" ]; then
				# shellcheck disable=SC2086
				loop_ms=$(time_ms shell_loop "$spec" "$round" $vols)
			fi
			echo "$new_ms $old_ms $loop_ms $new_kib $old_kib $load" >>"$work/volumes.$count"
		done
		# the harness checks what it timed: 2n policy snapshots and n loop
		# snapshots on every volume's chain
		local made
		made=$(rc ls --format json | jq --arg ns "${spec#rbd/}" \
			'[.[] | select(.pool_namespace == $ns and .depth == '"$((2 * n))"')] | length')
		[ "$made" = "$count" ] || bench_fail "rowcat ls shows $made volumes of depth $((2 * n)) in $spec"
		made=$(rbd ls "$spec" | { grep -c '\.rc' || true; })
		[ "$made" = $((count * 2 * n)) ] || bench_fail "$made rowcat clones in $spec, expected $((count * 2 * n))"
		if [ "$count" != "$big" ]; then
			made=$(rbd ls "$spec" | { grep -c '\.loop' || true; })
			[ "$made" = $((count * n)) ] || bench_fail "$made loop clones in $spec, expected $((count * n))"
		fi
		local p o l pk ok ld
		p=$(column 1 <"$work/volumes.$count" | median)
		o=$(column 2 <"$work/volumes.$count" | median)
		l=-
		[ "$count" != "$big" ] && l=$(column 3 <"$work/volumes.$count" | median)
		pk=$(column 4 <"$work/volumes.$count" | sort -n | tail -n 1)
		ok=$(column 5 <"$work/volumes.$count" | sort -n | tail -n 1)
		ld=$(column 6 <"$work/volumes.$count" | sort -n | sed -n '1p;$p' | paste -sd- -)
		echo "$count $n $p $o $l $pk $ok $ld" >>"$work/volumes.rows"
	done

	local paxos_now
	paxos_now=$(paxos_setting)
	cat <<EOT
## 4. Many volumes at once

\`rowcat policy run\` taking one ROW snapshot of every volume, at the
default \`--jobs\` ($(rowcat_default_jobs)) and at the old default
(\`--jobs 8\`), against a shell loop of \`rbd snap create\`, \`rbd snap
protect\` and \`rbd clone\` over the same volumes (1 GiB images, fresh
snapshots each round; the three take turns, the two policy runs in
alternating order, as each snapshot deepens the volumes: after n rounds
every volume is 2n deep). No shell loop for $big volumes: it would take
$big proposal rounds a round. paxos_propose_interval $paxos_now: every
snapshot create waits for a monitor proposal round, and concurrent
creates share rounds. Medians of the rounds shown; peak RSS is GNU
time's maximum over the rounds; load is the 1-minute load average at
the start of each round (lowest-highest).

| volumes | rounds | \`policy run\` | \`policy run --jobs 8\` | --jobs 8 / default | shell loop | loop / policy run | per volume | peak RSS | peak RSS, --jobs 8 | load |
|---|---|---|---|---|---|---|---|---|---|---|
EOT
	local rounds p o l pk ok ld lr
	while read -r count rounds p o l pk ok ld; do
		lr=-
		[ "$l" != - ] && lr=$(ratio "$l" "$p") && l="$l ms"
		echo "| $count | $rounds | $p ms | $o ms | $(ratio "$o" "$p") | $l | $lr | $(ratio "$p" "$count") ms | $((pk / 1024)) MiB | $((ok / 1024)) MiB | $ld |"
	done <"$work/volumes.rows"
	echo
}

# The --jobs a policy run takes by default, as its --help says.
rowcat_default_jobs() {
	"$rowcat" policy run --help | sed -n 's/.*(default \([0-9]*\)[,)].*/\1/p' | head -n 1
}
