#!/usr/bin/env bash
# rowcat explain on a real cluster: a volume whose policy kept snapshots by
# different rules and expired one, a pin, a manual snapshot marked by rm
# that a restore's old line still reads through, a pre-restore snapshot and
# the restore's clone of an older snapshot. explain names each reason; what
# it says goes is what `rowcat gc` removes (checked with rbd), and what it
# says a flatten would free is what gc collects after the flatten. It reads
# the catalog alone (a file catalog needs no cluster) and changes nothing.
. "$(dirname "$0")/lib.sh"

# The policy runs' clock (--now): fixed days in the real clock's past, so
# the test means the same whatever day it runs.
DAY1=2020-05-01T10:00:00Z
DAY2=2020-05-02T10:00:00Z
DAY3_08=2020-05-03T08:00:00Z
DAY3_09=2020-05-03T09:00:00Z
# the snapshot names a policy run gives those times
S1=20200501T100000Z S2=20200502T100000Z S3=20200503T080000Z S4=20200503T090000Z

own_namespace() {
	local ns; ns=$(volname)
	rbd namespace create "rbd/$ns" || fail "rbd namespace create rbd/$ns"
	echo "rbd/$ns"
}

# make_volume SPEC: rowcat create, then dated before the policy's first
# run (rowcat create has no --now, rightly).
make_volume() {
	local vol=${1##*/}
	catalog_exists || rowcat init -q || fail init
	rowcat create "$1" --size 8M -q || fail "create $1"
	catalog_sql "UPDATE image SET created_at = 1588000000
		WHERE volume_id = (SELECT id FROM volume WHERE name = '$vol');
		SELECT changes();" | grep -qx 1 || fail "dating $1"
}

# item JSON SUBJECT: the item of explain's JSON whose subject (IMAGE or
# IMAGE@SNAP, IMAGE as pool[/ns]/name) is SUBJECT.
item() {
	jq -c --arg s "$2" "$JQ_SPEC"'.items[] |
		select((spec + (if .snapshot then "@" + .snapshot else "" end)) == $s)' <<<"$1"
}

# whys JSON SUBJECT: the item's verdict and its reasons' words, one line.
whys() {
	local it; it=$(item "$1" "$2")
	[ -n "$it" ] || fail "explain says nothing of $2"
	jq -r '[.verdict] + [.reasons[].why] | join(" ")' <<<"$it"
}

# the lineage: four policy runs on three days, a pin, a manual snapshot, a
# restore of an older snapshot, and rm of the manual one
build() {
	NS=$(own_namespace) VOL=$(volname)
	cat >policy.yaml <<EOF
version: 1
timezone: UTC
gc: {min_age: 0s, trash_delay: 0s}
policies:
  - name: p
    volumes: ["$NS/$VOL"]
    every: 1h
    keep: {latest: 1, hourly: 2, daily: 2}
EOF
	make_volume "$NS/$VOL"
	for t in $DAY1 $DAY2 $DAY3_08 $DAY3_09; do
		rowcat policy run policy.yaml --now "$t" -q || fail "policy run at $t"
	done
	rowcat pin "$VOL@$S2" -q || fail "pin $S2"
	rowcat snap "$VOL" m1 -q || fail "snap m1"
	rowcat restore "$VOL" "$S3" -q || fail "restore $S3"
	rowcat rm "$VOL@m1" -q || fail "rm $VOL@m1"
	PRE=$(safety_snapshots "$VOL" | tail -1)
	[ -n "$PRE" ] || fail "no pre-restore snapshot"
	OPERATING=$(rowcat which "$VOL")
}

# the images in SPEC's pool/namespace carrying a snapshot, IMAGE@SNAP
snapshots_on_cluster() {
	local image
	for image in $(rbd ls "$1"); do
		rbd snap ls --format json "$1/$image" | jq -r --arg i "$1/$image" \
			'.[] | $i + "@" + .name'
	done | sort
}

test_explain_names_each_reason() {
	local json plain before
	build
	before=$(catalog_state)
	run rowcat explain "$VOL" --policy policy.yaml --format json
	expect_eq 0 "$status" "explain ($err)"
	json=$out
	expect_eq "$before" "$(catalog_state)" "explain changes nothing"

	# S1: expired by the policy, kept because the chain reads through it
	expect_eq "kept expired read-by" "$(whys "$json" "$NS/$VOL@$S1")" "$S1"
	expect_eq false "$(item "$json" "$NS/$VOL@$S1" | jq '.reasons[0].rules |
		map(select(.rule == "daily"))[0].keeps')" "$S1's day is past daily 2"
	# S2: pinned
	expect_eq "kept pinned read-by" "$(whys "$json" "$NS/$VOL.rc2@$S2")" "$S2"
	# S3: hourly's second slot; the operating image reads through it
	expect_eq "kept policy-keeps read-by read-by" \
		"$(whys "$json" "$NS/$VOL.rc3@$S3")" "$S3"
	expect_eq '{"rule":"hourly","slot":2,"bucket":"2020-05-03 08h"}' \
		"$(item "$json" "$NS/$VOL.rc3@$S3" | jq -c '.reasons[0].rules[] |
			select(.keeps) | {rule, slot, bucket}')" "$S3's rule"
	expect_eq "$OPERATING" "$(item "$json" "$NS/$VOL.rc3@$S3" | jq -r \
		'.reasons[] | select(.why == "read-by" and .operating) | .by')" \
		"$S3 is read by the operating image"
	# S4: latest, hourly and daily
	expect_eq "latest hourly daily" "$(item "$json" "$NS/$VOL.rc4@$S4" |
		jq -r '[.reasons[0].rules[] | select(.keeps) | .rule] | join(" ")')" \
		"$S4's rules"
	# m1: marked by rm, still read by the old line's clone, which the
	# pre-restore snapshot keeps
	expect_eq "kept marked read-by" "$(whys "$json" "$NS/$VOL.rc5@m1")" m1
	expect_eq "$NS/$VOL.rc6" "$(item "$json" "$NS/$VOL.rc5@m1" | jq -r \
		'.reasons[] | select(.why == "read-by") | .by')" "m1's reader"
	expect_eq "kept origin" "$(whys "$json" "$NS/$VOL.rc6@$PRE")" "$PRE"
	expect_eq "kept carries" "$(whys "$json" "$NS/$VOL.rc6")" "$VOL.rc6"
	expect_eq "kept operating" "$(whys "$json" "$OPERATING")" "operating image"
	expect_eq "$OPERATING" "$(jq -r "$JQ_SPEC"'.operating | spec' <<<"$json")" \
		"the operating image"
	expect_eq 0 "$(jq '[.items[] | select(.verdict != "kept")] | length' \
		<<<"$json")" "nothing goes yet"

	run rowcat explain "$VOL" --policy policy.yaml
	expect_eq 0 "$status" "plain explain ($err)"
	plain=$out
	expect_contains "$plain" "expired by policy p at" "plain: expiry"
	expect_contains "$plain" "daily 2: 2020-05-01 is the 3rd newest, past 2" \
		"plain: the rule that let $S1 go"
	expect_contains "$plain" "policy p keeps it: hourly 2: slot 2 of 2, 2020-05-03 08h" \
		"plain: $S3's slot"
	expect_contains "$plain" "pinned: kept" "plain: pin"
	expect_contains "$plain" "$NS/$VOL.rc6, a clone kept for its own snapshots, reads through it" \
		"plain: m1's clone"
	expect_contains "$plain" "the safety snapshot a restore took" "plain: pre-restore"
	expect_contains "$plain" "$OPERATING reads through it: the operating image" \
		"plain: the operating image's parent"

	# one snapshot, and an unknown one
	run rowcat explain "$VOL@m1"
	expect_eq 0 "$status" "explain $VOL@m1 ($err)"
	expect_eq 1 "$(grep -c '^kept ' <<<"$out")" "explain VOL@SNAP: one item"
	expect_contains "$out" "$NS/$VOL.rc5@m1" "explain VOL@SNAP"
	expect_refused 1 "has no snapshot 'nope'" rowcat explain "$VOL@nope"
	expect_refused 2 "" rowcat explain "$VOL" --min-age soon
}

test_what_explain_says_goes_is_what_gc_removes() {
	local json goes kept left subject
	build
	# the restore's old line: let its pre-restore snapshot go too
	rowcat rm "$VOL@$PRE" -q || fail "rm $PRE"
	run rowcat explain "$VOL" --policy policy.yaml --format json
	expect_eq 0 "$status" "explain ($err)"
	json=$out
	expect_eq "goes marked gc-step" "$(whys "$json" "$NS/$VOL.rc6@$PRE")" "$PRE"
	expect_eq "goes marked gc-step" "$(whys "$json" "$NS/$VOL.rc5@m1")" m1
	expect_eq "goes unneeded gc-step" "$(whys "$json" "$NS/$VOL.rc6")" "$VOL.rc6"
	expect_eq "goes unneeded gc-step" "$(whys "$json" "$NS/$VOL.rc5")" "$VOL.rc5"
	goes=$(jq -r "$JQ_SPEC"'.items[] | select(.verdict == "goes") |
		spec + (if .snapshot then "@" + .snapshot else "" end)' <<<"$json" | sort)
	kept=$(jq -r "$JQ_SPEC"'.items[] | select(.verdict == "kept") |
		spec + (if .snapshot then "@" + .snapshot else "" end)' <<<"$json" | sort)

	rowcat gc -q --min-age 0s --trash-delay 0s || fail "gc"
	left=$( (rbd ls "$NS" | sed "s|^|$NS/|"; snapshots_on_cluster "$NS") | sort)
	for subject in $goes; do
		grep -qxF "$subject" <<<"$left" && fail "explain said $subject goes; gc left it"
	done
	for subject in $kept; do
		grep -qxF "$subject" <<<"$left" || fail "explain said $subject is kept; gc took it"
	done
	expect_eq "$(printf '%s\n' $kept | sort)" "$left" \
		"what is left on the cluster is what explain said is kept"
	run rowcat explain "$VOL" --policy policy.yaml --format json
	expect_eq 0 "$(jq '[.items[] | select(.verdict != "kept")] | length' <<<"$out")" \
		"after gc nothing goes"
}

test_explain_says_what_a_flatten_frees() {
	local ns vol json frees
	ns=$(own_namespace) vol=$(volname f)
	make_volume "$ns/$vol"
	rowcat snap "$vol" a -q || fail "snap a"
	rowcat rm "$vol@a" -q || fail "rm $vol@a"
	run rowcat explain "$vol" --min-age 0s --trash-delay 0s --format json
	json=$out
	expect_eq "kept marked read-by flatten-frees" "$(whys "$json" "$ns/$vol@a")" "@a"
	frees=$(jq -r '.flattens[0].frees | join(" ")' <<<"$json")
	expect_eq "$ns/$vol $ns/$vol@a" "$frees" "what flatten frees"
	# until the flatten, gc takes none of it
	rowcat gc -q --min-age 0s --trash-delay 0s || fail "gc before flatten"
	expect_eq "$ns/$vol@a" "$(snapshots_on_cluster "$ns")" "@a kept before the flatten"

	rowcat flatten "$vol" -q --no-progress || fail "flatten"
	run rowcat explain "$vol" --min-age 0s --trash-delay 0s --format json
	for subject in $frees; do
		expect_eq goes "$(item "$out" "$subject" | jq -r .verdict)" \
			"$subject after the flatten"
	done
	rowcat gc -q --min-age 0s --trash-delay 0s || fail "gc after flatten"
	expect_eq "" "$(snapshots_on_cluster "$ns")" "@a removed"
	expect_eq "$(rowcat which "$vol" | sed 's|.*/||')" "$(rbd ls "$ns")" \
		"only the operating image is left"
}

test_explain_needs_no_cluster() {
	local offline
	build
	offline=$(catalog_as_file) || fail "no file of the catalog"
	run "$ROWCAT" --catalog "$offline" -m 127.0.0.1:1 --timeout 1 \
		explain "$VOL" --policy policy.yaml
	expect_eq 0 "$status" "explain without a cluster ($err)"
	expect_contains "$out" "policy p keeps it" "explain without a cluster"
}

run_tests
