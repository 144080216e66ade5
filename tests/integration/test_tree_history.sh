#!/usr/bin/env bash
# tree --format dot and tree --at on a real volume, and who log says made
# each change, checked against rbd's own listing of the cluster.
. "$(dirname "$0")/lib.sh"

export ROWCAT_HOST=hv-history-1

# A volume with a history: s1, s2, a restore of s1 (a branch, with its
# safety snapshot), s3 pinned, s2 marked by rm. Prints nothing.
make_history() { # VOL
	local v=$1
	rowcat init -q || fail "init"
	rowcat create "rbd/$v" --size 16M -q || fail "create"
	rowcat snap "$v" s1 -q || fail "snap s1"
	rowcat snap "$v" s2 -q || fail "snap s2"
	rowcat restore "$v" s1 -q || fail "restore s1"
	rowcat snap "$v" s3 -q || fail "snap s3"
	rowcat pin "$v@s3" -q || fail "pin s3"
	rowcat rm "$v@s2" -q || fail "rm $v@s2"
}

# Every image of the volume on the cluster (rbd ls, its own and its
# clones'), and every snapshot of them (rbd snap ls), as POOL/IMAGE and @SNAP.
cluster_names() { # VOL
	local image
	for image in $(rbd ls rbd | grep -xE "$(printf '%s' "$1" | sed 's/[][\.*^$(){}?+|/]/\\&/g')(\.rc[0-9-]+)?"); do
		echo "rbd/$image"
		rbd snap ls --format json "rbd/$image" | jq -r '.[] | "@" + .name'
	done
}

# expect_every_name_drawn NODES NAMES: each of NAMES (one a line, as rbd
# lists them) labels a node of NODES (svg_nodes' lines).
expect_every_name_drawn() {
	local name
	while IFS= read -r name; do
		grep -qxF -- "$name" <(cut -f2 <<<"$1" | cut -d'|' -f1) ||
			fail "rbd lists '$name', the picture does not: $1"
	done <<<"$2"
}

test_dot_draws_every_image_and_snapshot_rbd_lists() {
	local v; v=$(volname)
	make_history "$v"
	rowcat tree "$v" --format dot >graph.dot || fail "tree --format dot"
	dot -Tsvg graph.dot >graph.svg || fail "dot -Tsvg"
	local nodes; nodes=$(svg_nodes graph.svg) || fail "the SVG is not well-formed"
	local names; names=$(cluster_names "$v")
	# 5 images, s1 s2 s3 and the restore's safety snapshot
	expect_eq 9 "$(wc -l <<<"$names")" "images and snapshots on the cluster: $names"
	expect_every_name_drawn "$nodes" "$names"
	expect_eq "#bfdcff	$(rowcat which "$v")|operating" \
		"$(grep -F "|operating" <<<"$nodes" | grep -v 'operating image')" \
		"the operating image, filled"
	expect_eq "#ffe680" "$(grep -F "	@s3|" <<<"$nodes" | cut -f1)" "s3, pinned"
	expect_contains "$(grep -F "	@s2|" <<<"$nodes")" "marked" "s2, marked"
	# a restore's branch: s1 has two clones
	local s1; s1=$(grep -oE '^  s[0-9]+ \[shape=ellipse, fontsize=10, label="@s1' graph.dot | awk '{ print $1 }')
	expect_eq 2 "$(grep -cE "^  $s1 -> i[0-9]+" graph.dot)" "s1's clones"
}

# A volume and snapshot whose names hold what dot, XML and the shell
# treat specially: rbd takes them, and so does the picture.
test_dot_takes_a_hostile_volume_name() {
	local v; v="$(volname)\"a&b<c>d\\e{f};g&lt;"
	rowcat init -q || fail "init"
	rowcat create "rbd/$v" --size 16M -q || fail "create"
	rowcat snap "$v" 's"&<1\' -q || fail "snap"
	rowcat tree "$v" --format dot | dot -Tsvg >graph.svg || fail "tree | dot"
	local nodes; nodes=$(svg_nodes graph.svg) || fail "the SVG is not well-formed"
	local names; names=$(cluster_names "$v")
	expect_eq 3 "$(wc -l <<<"$names")" "rbd's names: $names"
	expect_every_name_drawn "$nodes" "$names"
}

# tree --at each time the log dates: the operating image that the last
# create, snap or restore done by then made, and only the rows made by
# then. Operations this quick share seconds, and the journal's ids order
# those that do: the times asked are the distinct seconds the log shows
# (at least the create's and the last one's when they differ), never
# times made apart by sleeping.
test_tree_at_the_logs_times_shows_the_operating_image_of_then() {
	local v; v=$(volname)
	make_history "$v"
	local log; log=$(rowcat log "$v" --format json) || fail "log"
	local tried=0 finished op target last=""
	while IFS=$'\t' read -r finished op target; do
		local tree
		tree=$(rowcat tree "$v" --at "$finished" --format json) || fail "tree --at $finished"
		expect_eq "$target" "$(jq -r .operating <<<"$tree")" "operating at $finished (after $op)"
		expect_eq "$finished" "$(jq -r .at <<<"$tree")" "at"
		expect_eq "$op" "$(jq -r .switched_by.operation <<<"$tree")" "the switch at $finished"
		expect_eq "$(id -un)@$ROWCAT_HOST" \
			"$(jq -r '.switched_by | "\(.user)@\(.host)"' <<<"$tree")" "who switched"
		jq -e --arg t "$finished" 'all(.nodes[]; .created <= $t)' <<<"$tree" >/dev/null ||
			fail "nodes made after $finished: $(jq -c '.nodes' <<<"$tree")"
		tried=$((tried + 1)) last=$target
	done < <(jq -r "$JQ_SPEC"'
		[.[] | select(.result == "done" and (.operation == "create" or
			.operation == "snap" or .operation == "restore"))] as $switches
		| [$switches[].finished] | unique[] as $t
		| [$switches[] | select(.finished <= $t)] | max_by(.id)
		| [$t, .operation, (.target | spec)] | @tsv' <<<"$log")
	[ "$tried" -ge 1 ] || fail "no done operation in the log: $log"
	# the last second the log shows: the operating image of now
	expect_eq "$(rowcat which "$v")" "$last" "the last switch's image"

	# now: the catalog as it is, which tree without --at shows
	local now; now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	expect_eq "$(rowcat tree "$v" --format json | jq -c '.nodes')" \
		"$(rowcat tree "$v" --at "$now" --format json | jq -c '.nodes')" "--at now"
	# s2 is marked now, and from the second the catalog dates the mark;
	# at the second s2 was taken only if rm came within it
	local marked taken restored then
	marked=$(catalog_sql "SELECT marked_at FROM snapshot WHERE name = 's2'")
	taken=$(catalog_sql "SELECT created_at FROM snapshot WHERE name = 's2'")
	restored=$(jq -r '[.[] | select(.operation == "restore")][0].finished' <<<"$log")
	expect_eq true "$(rowcat tree "$v" --at "$(date -u -d "@$marked" +%Y-%m-%dT%H:%M:%SZ)" \
		--format json | jq '.nodes[] | select(.snapshot? == "s2") | .marked')" "s2 marked at its mark"
	then=false
	[ "$taken" -ge "$marked" ] && then=true
	expect_eq "$then" "$(rowcat tree "$v" --at "$(date -u -d "@$taken" +%Y-%m-%dT%H:%M:%SZ)" \
		--format json | jq '.nodes[] | select(.snapshot? == "s2") | .marked')" "s2 when taken"
	run rowcat tree "$v" --at "$restored"
	expect_eq 0 "$status" "tree --at, plain ($err)"
	expect_eq "volume $v (16 MiB) at $restored" "$(sed -n 1p <<<"$out")" "the title"
	expect_contains "$(sed -n 2p <<<"$out")" "operating image since $restored: " "the switch's line"
	rowcat tree "$v" --at "$restored" --format dot | dot -Tsvg >/dev/null || fail "tree --at | dot"

	# before the volume: one line, a failure
	local created; created=$(jq -r '.[-1].started' <<<"$log")
	expect_refused 1 "volume '$v' did not exist yet at 2020-01-01T00:00:00Z" \
		rowcat tree "$v" --at 2020-01-01T00:00:00Z
	expect_refused 2 "--at: '2026-13-01T00:00:00Z' is not an ISO-8601 time" \
		rowcat tree "$v" --at 2026-13-01T00:00:00Z
	# -DURATION: that long before now, which is after the volume was made
	run rowcat tree "$v" --at -0s --format json
	expect_eq "0 $(rowcat which "$v")" "$status $(jq -r .operating <<<"$out")" "--at -0s"
	[ -n "$created" ] || fail "no create in the log"
}

test_log_says_who_made_each_change() {
	local v; v=$(volname)
	rowcat init -q || fail "init"
	rowcat create "rbd/$v" --size 16M -q || fail "create"
	ROWCAT_HOST=hv-history-2 rowcat snap "$v" s1 -q || fail "snap"
	local log; log=$(rowcat log "$v" --format json) || fail "log"
	expect_eq "$(id -un) hv-history-2 $(id -un) hv-history-1" \
		"$(jq -r '[.[] | .user, .host] | join(" ")' <<<"$log")" "users and hosts"
	jq -e 'all(.[]; .pid > 1)' <<<"$log" >/dev/null || fail "pids: $log"
	run rowcat log "$v"
	expect_contains "$(sed -n 1p <<<"$out")" " BY " "the header"
	expect_contains "$(sed -n 2p <<<"$out")" "$(id -un)@hv-history-2[$(jq '.[0].pid' <<<"$log")]" "the snap's line"
	expect_contains "$(sed -n 3p <<<"$out")" "$(id -un)@hv-history-1[" "the create's line"
	# an operation from before rowcat recorded who: "-" and null
	catalog_sql "UPDATE operation SET host = NULL, user = NULL, pid = NULL WHERE kind = 'create'" ||
		fail "forgetting who"
	expect_eq "null null null" "$(rowcat log "$v" --format json |
		jq -r '.[1] | "\(.user) \(.host) \(.pid)"')" "an old row in JSON"
	run rowcat log "$v"
	expect_eq "-" "$(sed -n 3p <<<"$out" | awk '{ print $6 }')" "an old row's BY"
}

run_tests
