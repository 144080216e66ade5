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

row_gc() {
	local volumes=200 reps=5 rep jobs spec
	[ "$quick" = 1 ] && volumes=4 reps=2
	: >"$work/gc"
	for rep in $(seq "$reps"); do
		for jobs in $( ((rep % 2)) && echo 1 8 || echo 8 1); do
			say "row 7: round $rep, --jobs $jobs: making $((volumes * 5)) garbage items"
			paxos 0.01
			spec=$(gc_set "gc$rep-$jobs-" "$volumes")
			local images t
			images=$(rbd ls "$spec" | wc -l)
			[ "$images" = $((volumes * 3)) ] || bench_fail "$images images in $spec, expected $((volumes * 3))"
			t=$(time_ms "$rowcat" --catalog "$work/gc$rep-$jobs-.db" -q gc \
				--min-age 0s --trash-delay 0s --jobs "$jobs")
			echo "$jobs $t" >>"$work/gc"
			# the harness checks what it timed: nothing left, not even in
			# the trash
			local left trashed
			left=$(rbd ls "$spec")
			trashed=$(rbd trash ls "$spec")
			[ -z "$left$trashed" ] || bench_fail "gc left images in $spec: $left $trashed"
		done
	done

	local m1 m8
	m1=$(awk '$1 == 1 { print $2 }' "$work/gc" | median)
	m8=$(awk '$1 == 8 { print $2 }' "$work/gc" | median)
	cat <<EOT
## 7. gc throughput

$volumes removed volumes of 3 images (64 MiB, never written) and 2
snapshots each: $((volumes * 5)) garbage items per round, collected by one \`rowcat gc
--min-age 0s --trash-delay 0s\` (trash, unprotect, remove, purge: nothing
left on the cluster, checked with \`rbd ls\` and \`rbd trash ls\`). A fresh
set each round, in its own catalog; \`--jobs 1\` and \`--jobs 8\` alternate.
paxos_propose_interval 0.01 s, set for this row: every snapshot removal is
also a monitor proposal, and at the default 1 s a run of --jobs 1 would
spend most of its time waiting for rounds (not measured here). Medians of
$reps rounds.

| what | median | items per second |
|---|---|---|
| \`gc --jobs 1\` | $m1 ms | $(awk -v n=$((volumes * 5)) -v t="$m1" 'BEGIN { printf "%.0f", n / (t / 1000) }') |
| \`gc --jobs 8\` | $m8 ms | $(awk -v n=$((volumes * 5)) -v t="$m8" 'BEGIN { printf "%.0f", n / (t / 1000) }') |
| speed-up (jobs 1 / jobs 8) | $(ratio "$m1" "$m8") | |

EOT
	paxos 1
}
