#!/usr/bin/env bash
# rowcat du on a real cluster: every image's and snapshot's bytes and the
# total are what Ceph's own `rbd du --format json` says of the same
# images, measured by fast-diff where the image has it and by a full diff
# where it does not; what du says gc would free is what rbd du says those
# images hold, and rowcat gc then removes exactly them.
. "$(dirname "$0")/lib.sh"

MIB=1048576

# write_objects SPEC MIB: rbd bench writes MIB whole 4 MiB objects' worth
# from the image's start (as client.admin), so that generations differ.
write_objects() {
	rbd bench --io-type write --io-size 4M --io-threads 1 --io-total "$2"M \
		--io-pattern seq "$1" >/dev/null 2>&1 || fail "rbd bench on $1"
}

# three_generations VOL: a 32 MiB volume: the pattern everywhere, snapshot
# s1; 8 MiB more, s2; 12 MiB in the operating image, not snapped.
three_generations() {
	local v=$1
	rowcat init -q || fail init
	rowcat create "rbd/$v" --size 32M -q || fail "create $v"
	"$RBD_PATTERN" write "$(rowcat which "$v")" 1 || fail "write 1"
	rowcat snap "$v" s1 -q || fail "snap s1"
	write_objects "$(rowcat which "$v")" 8
	rowcat snap "$v" s2 -q || fail "snap s2"
	write_objects "$(rowcat which "$v")" 12
}

# rbd_used SPEC [SNAP]: rbd du's used_size of SPEC's head, or of SPEC@SNAP.
rbd_used() {
	rbd du --format json "$1" 2>/dev/null | jq -r --arg s "${2:-}" \
		'.images[] | select((.snapshot // "") == $s) | .used_size'
}

# rbd_total SPEC...: what rbd du says the images hold, snapshots included.
rbd_total() {
	local spec sum=0 n
	for spec in "$@"; do
		n=$(rbd du --format json "$spec" 2>/dev/null |
			jq '[.images[].used_size] | add') || fail "rbd du $spec"
		sum=$((sum + n))
	done
	echo "$sum"
}

# expect_du_matches_rbd JSON: each measured image of du's JSON, head and
# snapshots, against rbd du of that image; the total against the sum of
# the volume's own.
expect_du_matches_rbd() {
	local json=$1 spec snap want got specs=()
	while read -r spec; do
		# the total is the volume's own images': what it reads through
		# is counted apart
		[ "$(jq -r --arg s "$spec" "$JQ_SPEC"'.images[] | select(spec == $s) |
			.owner' <<<"$json")" = own ] && specs+=("$spec")
		want=$(rbd du --format json "$spec" 2>/dev/null) || fail "rbd du $spec"
		got=$(jq -c --arg s "$spec" "$JQ_SPEC"'.images[] | select(spec == $s)' <<<"$json")
		expect_eq "$(jq '.images[] | select(.snapshot == null) | .used_size' <<<"$want")" \
			"$(jq .used_size <<<"$got")" "$spec: used_size"
		expect_eq "$(jq '.images[] | select(.snapshot == null) | .provisioned_size' <<<"$want")" \
			"$(jq .provisioned_size <<<"$got")" "$spec: provisioned_size"
		expect_eq "$(jq '[.images[].used_size] | add' <<<"$want")" \
			"$(jq .total_used_size <<<"$got")" "$spec: with its snapshots"
		expect_eq "$(jq -r '[.images[] | select(.snapshot != null) | .snapshot] | join(" ")' <<<"$want")" \
			"$(jq -r '[.snapshots[] | select(.state == "measured") | .snapshot] | join(" ")' <<<"$got")" \
			"$spec: its snapshots"
		for snap in $(jq -r '.images[] | select(.snapshot != null) | .snapshot' <<<"$want"); do
			expect_eq "$(rbd_used "$spec" "$snap")" \
				"$(jq --arg n "$snap" '.snapshots[] | select(.snapshot == $n) | .used_size' <<<"$got")" \
				"$spec@$snap: used_size"
		done
	done < <(jq -r "$JQ_SPEC"'.images[] | select(.state == "measured") | spec' <<<"$json")
	[ "${#specs[@]}" -gt 0 ] || fail "du measured no image of the volume's own"
	expect_eq "$(rbd_total "${specs[@]}")" "$(jq .total_used_size <<<"$json")" "total_used_size"
}

test_du_matches_rbd_du_image_by_image_and_snapshot_by_snapshot() {
	local v json root
	v=$(volname)
	three_generations "$v"
	run rowcat du "$v" --format json
	[ "$status" = 0 ] || fail "du: $err"
	json=$out
	expect_json_keys "$json" "volume size operating images total_used_size read_through_used_size gc_frees_now gc_frees_after_flatten" "du"
	expect_eq 3 "$(jq '.images | length' <<<"$json")" "images of the tree"
	expect_du_matches_rbd "$json"
	# the numbers are not all zero: s1 holds the whole pattern (32 MiB),
	# s2 the 8 MiB written after it, the head the 12 MiB written since
	root=$(jq -r '.images[0].image' <<<"$json")
	expect_eq $((32 * MIB)) "$(jq '.images[0].snapshots[0].used_size' <<<"$json")" "s1"
	expect_eq $((8 * MIB)) "$(jq '.images[1].snapshots[0].used_size' <<<"$json")" "s2"
	expect_eq $((12 * MIB)) "$(jq '.images[2].used_size' <<<"$json")" "the operating image"
	expect_eq $((52 * MIB)) "$(jq .total_used_size <<<"$json")" "total"
	expect_eq "$v" "$root" "the root image first"
	expect_eq "fast-diff fast-diff fast-diff" \
		"$(jq -r '[.images[].method] | join(" ")' <<<"$json")" "method"
	expect_eq "$(rowcat which "$v")" \
		"$(jq -r "$JQ_SPEC"'.operating | spec' <<<"$json")" "operating"
	# the table says the same in words
	run rowcat du "$v"
	[ "$status" = 0 ] || fail "du: $err"
	expect_contains "$out" "total: 52 MiB" "plain total"
	expect_contains "$out" "fast-diff" "plain method"
	run rowcat du "$v" --bytes -o ID,USED --raw
	expect_contains "$out" "rbd/$v@s1 $((32 * MIB))" "raw bytes of s1"
}

test_an_image_without_fast_diff_is_measured_by_a_full_diff() {
	local v json root op
	v=$(volname)
	three_generations "$v"
	root=rbd/$v op=$(rowcat which "$v")
	# the root image, with its snapshot, and the operating image lose
	# their maps; the image between keeps them
	rbd feature disable "$root" fast-diff object-map >/dev/null 2>&1 ||
		fail "feature disable $root"
	rbd feature disable "$op" fast-diff object-map >/dev/null 2>&1 ||
		fail "feature disable $op"
	run rowcat du "$v" --format json
	[ "$status" = 0 ] || fail "du: $err"
	json=$out
	expect_eq "full diff" "$(jq -r --arg s "$root" "$JQ_SPEC"'.images[] |
		select(spec == $s) | .method' <<<"$json")" "method of $root"
	expect_eq "full diff" "$(jq -r --arg s "$op" "$JQ_SPEC"'.images[] |
		select(spec == $s) | .method' <<<"$json")" "method of $op"
	expect_eq "fast-diff" "$(jq -r '.images[1].method' <<<"$json")" \
		"method of the image between"
	expect_du_matches_rbd "$json"
	run rowcat du "$v"
	expect_contains "$out" "full diff" "plain method"
}

test_what_gc_would_free_is_what_gc_then_frees() {
	local v json pre a b root freed
	v=$(volname)
	three_generations "$v"
	root=rbd/$v
	a=$(image_of "$v" s2)
	b=$(rowcat which "$v")
	# restore s1: the branch a (s2) -> b (pre-restore) is left behind;
	# marking both snapshots makes it garbage now, and s1 too once the
	# new operating image no longer reads through it
	rowcat restore "$v" s1 -q || fail "restore"
	pre=$(safety_snapshots "$v" | tail -1)
	rowcat rm "$v@s2" -q && rowcat rm "$v@$pre" -q && rowcat rm "$v@s1" -q ||
		fail "rm"
	run rowcat du "$v" --min-age 0s --trash-delay 0s --format json
	[ "$status" = 0 ] || fail "du: $err"
	json=$out
	freed=$(rbd_total "$a" "$b")
	[ "$freed" -ge $((8 * MIB)) ] || fail "the branch holds only $freed bytes"
	expect_eq "$freed" "$(jq .gc_frees_now.used_size <<<"$json")" "gc frees now"
	expect_eq 2 "$(jq .gc_frees_now.images <<<"$json")" "images gc trashes now"
	expect_eq "$(rbd_total "$root")" \
		"$(jq .gc_frees_after_flatten.used_size <<<"$json")" "after a flatten"
	expect_eq "after-flatten now now" "$(jq -r --arg a "$a" --arg b "$b" \
		--arg r "$root" "$JQ_SPEC"'[.images[] | select(spec == $a or
		spec == $b or spec == $r) | .gc] | join(" ")' <<<"$json")" "verdicts"
	run rowcat du "$v" --min-age 0s --trash-delay 0s
	expect_contains "$out" "gc would free now: $((freed / MIB)) MiB" "plain gc line"
	# gc removes exactly the two images du named, and keeps the root
	rowcat gc --min-age 0s --trash-delay 0s -q >/dev/null || fail "gc"
	for spec in "$a" "$b"; do
		rbd info "$spec" >/dev/null 2>&1 && fail "$spec is still in the pool"
	done
	rbd trash ls --format json | jq -e --arg a "${a#rbd/}" --arg b "${b#rbd/}" \
		'map(select(.name == $a or .name == $b)) | length == 0' >/dev/null ||
		fail "the branch is still in the trash"
	rbd info "$root" >/dev/null 2>&1 || fail "the root was collected before a flatten"
	# once flattened, what du promised goes too
	rowcat flatten "$v" -q || fail "flatten"
	run rowcat du "$v" --min-age 0s --trash-delay 0s --format json
	expect_eq "$(rbd_total "$root")" "$(jq .gc_frees_now.used_size <<<"$out")" \
		"gc frees the root now"
	expect_eq null "$(jq .gc_frees_after_flatten <<<"$out")" "nothing to flatten"
	rowcat gc --min-age 0s --trash-delay 0s -q >/dev/null || fail "gc after flatten"
	rbd info "$root" >/dev/null 2>&1 && fail "the root outlived its flatten"
	# what gc collected is listed with --all, unmeasured
	run rowcat du "$v" --all --format json
	expect_eq "gone gone gone" "$(jq -r --arg a "$a" --arg b "$b" \
		--arg r "$root" "$JQ_SPEC"'[.images[] | select(spec == $a or
		spec == $b or spec == $r) | .state] | join(" ")' <<<"$out")" "collected images"
	run rowcat du "$v" --format json
	expect_eq 1 "$(jq '.images | length' <<<"$out")" "without --all"
}

# An adopted Cinder-like volume cloned from a Glance-like image in the
# pool other: the Glance image is read through, measured as rbd du measures
# it and counted apart, never in the volume's total, and gc would free
# nothing of it, even after a flatten.
test_a_foreign_ancestor_is_measured_apart() {
	local v g json
	v=$(volname) g=$(volname)g
	rowcat init -q || fail init
	rbd create "other/$g" --size 16M || fail "rbd create other/$g"
	write_objects "other/$g" 12
	rbd snap create "other/$g@snap" && rbd snap protect "other/$g@snap" ||
		fail "Glance's snapshot"
	rbd clone "other/$g@snap" "rbd/$v" || fail "rbd clone"
	write_objects "rbd/$v" 4
	rowcat adopt "rbd/$v" -q || fail "adopt rbd/$v"
	run rowcat du "$v" --format json
	[ "$status" = 0 ] || fail "du: $err"
	json=$out
	expect_eq "read-through true" "$(jq -r --arg s "other/$g" "$JQ_SPEC"'.images[] |
		select(spec == $s) | "\(.owner) \(.foreign)"' <<<"$json")" "the Glance image"
	expect_eq "$(rbd_total "other/$g")" "$(jq .read_through_used_size <<<"$json")" \
		"read through, as rbd du counts the Glance image"
	expect_eq "$(rbd_total "rbd/$v")" "$(jq .total_used_size <<<"$json")" \
		"the volume's total: its own image only"
	expect_eq $((4 * MIB)) "$(jq .total_used_size <<<"$json")" "the clone's own bytes"
	expect_eq 0 "$(jq .gc_frees_now.used_size <<<"$json")" "gc now"
	expect_eq 0 "$(jq .gc_frees_after_flatten.used_size <<<"$json")" \
		"gc after a flatten: a foreign ancestor is never collected"
	expect_du_matches_rbd "$json"
	rbd rm --no-progress "rbd/$v" >/dev/null 2>&1 &&
		rbd snap unprotect "other/$g@snap" && rbd snap rm "other/$g@snap" &&
		rbd rm --no-progress "other/$g" >/dev/null 2>&1 || fail "cleaning up"
}

test_bad_input_is_refused_with_one_line() {
	local v before
	v=$(volname)
	rowcat init -q || fail init
	rowcat create "rbd/$v" --size 4M -q || fail "create"
	before=$(catalog_state; cluster_state)
	expect_refused 1 "no volume named" rowcat du "$(volname x)"
	expect_refused 2 "" rowcat du "rbd/$v"
	expect_refused 2 "--min-age" rowcat du "$v" --min-age soon
	expect_refused 2 "--jobs" rowcat du "$v" --jobs 0
	expect_refused 2 "" rowcat du
	expect_eq "$before" "$(catalog_state; cluster_state)" "nothing changed"
}

run_tests
