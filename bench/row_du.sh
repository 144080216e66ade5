# Row 10: rowcat du of a deep volume against rbd du (sourced by run.sh).

row_du() {
	local depth=100 reps=5 size=256M mib=8
	[ "$quick" = 1 ] && depth=4 reps=2 size=32M mib=4
	local ns vol images=() rep
	ns=$(namespace du)
	vol="du$run_id"
	say "row 10: a volume of $depth generations in $ns"
	deep_volume "$ns/$vol" "$size" "$depth" "$mib"
	mapfile -t images <"$work/deep-$vol"
	[ "${#images[@]}" = $((depth + 1)) ] || bench_fail "${#images[@]} images, expected $((depth + 1))"

	# the harness checks what it times: rowcat du's total is rbd du's,
	# and each image's figures are rbd du's of that image
	local du pool_du
	du=$(rc du "$vol" --format json) || bench_fail "rowcat du"
	pool_du=$(rbd du --format json -p rbd --namespace "${ns#rbd/}" 2>/dev/null) ||
		bench_fail "rbd du -p rbd --namespace ${ns#rbd/}"
	[ "$(jq .total_used_size <<<"$du")" = "$(jq .total_used_size <<<"$pool_du")" ] ||
		bench_fail "rowcat du's total $(jq .total_used_size <<<"$du") is not rbd du's $(jq .total_used_size <<<"$pool_du")"
	[ "$(jq '[.images[] | select(.method == "fast-diff")] | length' <<<"$du")" = $((depth + 1)) ] ||
		bench_fail "rowcat du measured some image without fast-diff"
	[ "$(jq -c '[.images[] | [.image, .used_size]] | sort' <<<"$du")" = \
	  "$(jq -c '[.images[] | select(.snapshot == null) | [.name, .used_size]] | sort' <<<"$pool_du")" ] ||
		bench_fail "rowcat du's images differ from rbd du's"

	# the same images three ways, in turn within each round
	per_image() {
		local spec
		for spec in "${images[@]}"; do
			rbd du --format json "$spec" >/dev/null 2>&1 || return 1
		done
	}
	: >"$work/du"
	for rep in $(seq "$reps"); do
		say "row 10: round $rep of $reps"
		echo "rowcat $(time_ms "$rowcat" --catalog "$work/catalog.db" -q du "$vol" --format json)" >>"$work/du"
		echo "rowcat1 $(time_ms "$rowcat" --catalog "$work/catalog.db" -q du "$vol" --format json --jobs 1)" >>"$work/du"
		echo "pool $(time_ms rbd du --format json -p rbd --namespace "${ns#rbd/}")" >>"$work/du"
		echo "each $(time_ms per_image)" >>"$work/du"
	done

	local m_rowcat m_rowcat1 m_pool m_each total load paxos_now
	paxos_now=$(paxos_setting)
	m_rowcat=$(awk '$1 == "rowcat" { print $2 }' "$work/du" | median)
	m_rowcat1=$(awk '$1 == "rowcat1" { print $2 }' "$work/du" | median)
	m_pool=$(awk '$1 == "pool" { print $2 }' "$work/du" | median)
	m_each=$(awk '$1 == "each" { print $2 }' "$work/du" | median)
	total=$(jq .total_used_size <<<"$du")
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	cat <<EOT
## 10. \`rowcat du\` of $depth generations against \`rbd du\`

One $size volume, filled, then $depth \`rowcat snap\`s with $mib MiB
written (random whole objects) into each new operating image: $((depth + 1))
images, each a clone of the one before (the last reads through $depth
parents), $depth snapshots, $total bytes in all. The same images measured
four ways, in turn within each round: \`rowcat du VOL --format json\`
(one process, one read-only open per image, each snapshot read through
that handle, 4 images at a time: its default \`--jobs\`), the same with
\`--jobs 1\`; \`rbd du --format json -p rbd --namespace NS\` (one
process: the volume's namespace holds only its images; rbd opens each
image and then each snapshot as an image of its own); and \`rbd du
--format json POOL/NS/IMAGE\` for each image in a shell loop ($((depth + 1))
processes). Checked, not timed: rowcat du's total and every image's
used_size equal rbd du's, all measured by fast-diff. Built at
paxos_propose_interval 0.01 s, measured at $paxos_now (nothing measured
waits for a proposal); load average after the row: $load.
Medians of $reps rounds.

| what | median | / rowcat du |
|---|---|---|
| \`rowcat du\` | $m_rowcat ms | 1.00 |
| \`rowcat du --jobs 1\` | $m_rowcat1 ms | $(ratio "$m_rowcat1" "$m_rowcat") |
| \`rbd du -p rbd --namespace NS\` | $m_pool ms | $(ratio "$m_pool" "$m_rowcat") |
| \`rbd du IMAGE\`, each image | $m_each ms | $(ratio "$m_each" "$m_rowcat") |

EOT
}
