# Row 2: lineage from the catalog vs from the cluster (sourced by run.sh).

# lineage_by_rbd POOL/NS IMAGE : what a script without a catalog runs to
# learn a volume's lineage: every descendant of its first image, then
# rbd info of each (parent, size, snapshot count). Prints one line per
# image: NAME PARENT.
lineage_by_rbd() {
	local spec=$1 root=$2 image
	local children
	children=$(rbd children --all --descendants --format json "$spec/$root" |
		jq -r '.[].image') || return 1
	for image in "$root" $children; do
		rbd info --format json "$spec/$image" |
			jq -r --arg i "$image" '"\($i) \(.parent.image // "-")"' || return 1
	done
}

row_lineage() {
	local generations=100 reps=5
	[ "$quick" = 1 ] && generations=5 reps=3
	local spec vol=lin images_rbd images_rowcat i
	spec=$(namespace lineage)

	# building the chain is not what is timed: the fast proposal interval
	say "row 2: a volume of $generations generations"
	paxos 0.01
	rc create "$spec/$vol" --size 64M || bench_fail "create $vol"
	for i in $(seq "$generations"); do
		rc snap "$vol" "g$i" >/dev/null || bench_fail "snap $vol g$i"
	done
	paxos 1

	# both ways find the same images
	images_rbd=$(lineage_by_rbd "$spec" "$vol" | wc -l)
	images_rowcat=$(rc tree "$vol" --format json |
		jq '[.nodes[] | select(.type == "image")] | length')
	[ "$images_rbd" = $((generations + 1)) ] && [ "$images_rowcat" = "$images_rbd" ] ||
		bench_fail "lineage: rbd found $images_rbd images, rowcat $images_rowcat, expected $((generations + 1))"

	local tree_ms rbd_ms
	tree_ms=$(median_ms "$reps" rc tree "$vol")
	rbd_ms=$(median_ms "$reps" lineage_by_rbd "$spec" "$vol")
	cat <<EOT
## 2. Lineage from the catalog vs from the cluster

One volume, $generations \`rowcat snap\`s: $((generations + 1)) images in one chain.
Its lineage drawn by \`rowcat tree $vol\` (the catalog) against the same
lineage learned with Ceph's tools as a script would: \`rbd children --all
--descendants\` of the first image, then \`rbd info\` of each image (both
find the same $images_rbd images; the harness checks). The script's time
includes the jq that reads each answer, as a script's would. Medians of
$reps runs.
Built at paxos_propose_interval 0.01 s; nothing timed here creates a
snapshot.

| what | median |
|---|---|
| \`rowcat tree $vol\` | $tree_ms ms |
| \`rbd children\` + $images_rbd x \`rbd info\` | $rbd_ms ms |
| ratio (rbd / rowcat) | $(ratio "$rbd_ms" "$tree_ms") |

EOT
}
