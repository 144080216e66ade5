# Row 7: gc throughput (sourced by run.sh).

# gc_set NAME VOLUMES : a catalog of its own, NAME.db, holding VOLUMES
# removed volumes of 3 images and 2 snapshots each, in the namespace
# rbd/NAME: 5 garbage items per volume. Prints the namespace.
gc_set() {
	local name=$1 volumes=$2 spec db=$work/$1.db file=$work/$1.yaml v
	local gcat=("$rowcat" --catalog "$db" -q)
	spec=$(namespace "$name")
	"${gcat[@]}" init || bench_fail "init $db"
	seq -f 'g%03g' "$volumes" | xargs -P 4 -I{} "${gcat[@]}" create "$spec/{}" --size 64M ||
		bench_fail "creating $volumes volumes"
	printf 'version: 1\npolicies:\n  - name: gc\n    volumes: ["%s/*"]\n    every: 1h\n' "$spec" >"$file"
	"${gcat[@]}" policy run "$file" --now 2026-01-01T00:00:00Z >/dev/null &&
		"${gcat[@]}" policy run "$file" --now 2026-01-01T01:00:00Z >/dev/null ||
		bench_fail "snapshotting $volumes volumes"
	for v in $(seq -f 'g%03g' "$volumes"); do
		"${gcat[@]}" rm "$v" || bench_fail "rm $v"
	done
	echo "$spec"
}

# timed_cpu CMD... : "MS CPU_S", the wall time of one run of CMD and the
# CPU it used (user + system, every thread's, by GNU time).
timed_cpu() {
	local t
	t=$(time_gnu '%U %S' "$@")
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' <<<"$t"
}

# gc_rounds INTERVAL REPS JOBS... : REPS rounds, each timing one gc of a
# fresh set per JOBS value (the order rotates each round), with the
# monitor at paxos_propose_interval INTERVAL while timed (the sets are
# built at 0.01 s). Appends "INTERVAL JOBS MS CPU_S LOAD" lines to
# $work/gc, LOAD the 1-minute load average as the gc ended.
gc_rounds() {
	local interval=$1 reps=$2 rep jobs spec images t order load
	shift 2
	for rep in $(seq "$reps"); do
		order=$(printf '%s\n' "$@" | awk -v r="$rep" '{ v[NR] = $1 } END {
			for (i = 0; i < NR; i++) print v[(i + r) % NR + 1] }')
		for jobs in $order; do
			say "row 7: interval $interval s, round $rep, --jobs $jobs: making $((volumes * 5)) garbage items"
			paxos 0.01
			spec=$(gc_set "gc$interval-$rep-$jobs-" "$volumes")
			images=$(rbd ls "$spec" | wc -l)
			[ "$images" = $((volumes * 3)) ] || bench_fail "$images images in $spec, expected $((volumes * 3))"
			paxos "$interval"
			t=$(timed_cpu "$rowcat" --catalog "$work/gc$interval-$rep-$jobs-.db" -q gc \
				--min-age 0s --trash-delay 0s --jobs "$jobs")
			load=$(cut -d' ' -f1 /proc/loadavg)
			say "row 7: interval $interval s, --jobs $jobs: $t (ms, CPU s), load $load"
			echo "$interval $jobs $t $load" >>"$work/gc"
			# the harness checks what it timed: nothing left, not even in
			# the trash
			local left trashed
			left=$(rbd ls "$spec")
			trashed=$(rbd trash ls "$spec")
			[ -z "$left$trashed" ] || bench_fail "gc left images in $spec: $left $trashed"
		done
	done
}

# gc_table INTERVAL REPS JOBS... : the table of one interval's rounds.
gc_table() {
	local interval=$1 reps=$2 jobs m m1 cpu ld
	shift 2
	cat <<EOT
paxos_propose_interval $interval s while timed; medians of $reps rounds.
rowcat's CPU is its own process's (user + system), not the OSD's or the
monitor's; the load average (1 minute, as each gc ended, lowest and
highest) says what else the machine's cores were doing.

| what | median | items per second | speed-up over --jobs 1 | rowcat CPU per item | load average |
|---|---|---|---|---|---|
EOT
	m1=$(awk -v i="$interval" '$1 == i && $2 == 1 { print $3 }' "$work/gc" | median)
	for jobs in "$@"; do
		m=$(awk -v i="$interval" -v j="$jobs" '$1 == i && $2 == j { print $3 }' "$work/gc" | median)
		cpu=$(awk -v i="$interval" -v j="$jobs" '$1 == i && $2 == j { print $4 }' "$work/gc" | median)
		ld=$(awk -v i="$interval" -v j="$jobs" '$1 == i && $2 == j { print $5 }' "$work/gc" |
			sort -g | sed -n '1p;$p' | paste -sd- -)
		echo "| \`gc --jobs $jobs\` | $m ms | $(awk -v n=$((volumes * 5)) -v t="$m" 'BEGIN { printf "%.0f", n / (t / 1000) }') | $(ratio "$m1" "$m") | $(awk -v n=$((volumes * 5)) -v c="$cpu" 'BEGIN { printf "%.1f ms", c * 1000 / n }') | $ld |"
	done
	echo
}

# ROW_GC_JOBS (default "1 8"), ROW_GC_VOLUMES (200), ROW_GC_REPS (5) and
# ROW_GC_REPS_DEFAULT (rounds at the
# default interval, 3: a --jobs 1 round there takes minutes) tune it.
row_gc() {
	local reps=${ROW_GC_REPS:-5} reps_default=${ROW_GC_REPS_DEFAULT:-3} jobs_list
	volumes=${ROW_GC_VOLUMES:-200}
	jobs_list=${ROW_GC_JOBS:-1 8}
	[ "$quick" = 1 ] && volumes=4 reps=2 reps_default=1
	: >"$work/gc"
	# shellcheck disable=SC2086
	gc_rounds 0.01 "$reps" $jobs_list
	# shellcheck disable=SC2086
	[ "$own_cluster" = 1 ] && gc_rounds 1 "$reps_default" $jobs_list
	cat <<EOT
## 7. gc throughput

$volumes removed volumes of 3 images (64 MiB, never written) and 2
snapshots each: $((volumes * 5)) garbage items per round, collected by one \`rowcat gc
--min-age 0s --trash-delay 0s\` (trash, unprotect, remove, purge: nothing
left on the cluster, checked with \`rbd ls\` and \`rbd trash ls\`). A fresh
set each round, in its own catalog, built at paxos_propose_interval 0.01 s;
the --jobs values alternate. Every snapshot removal is also a monitor
proposal, so the row times gc at 0.01 s and at Ceph's default, 1 s.

EOT
	# shellcheck disable=SC2086
	gc_table 0.01 "$reps" $jobs_list
	# shellcheck disable=SC2086
	[ "$own_cluster" = 1 ] && gc_table 1 "$reps_default" $jobs_list
	paxos 1
}
