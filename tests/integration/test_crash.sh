#!/usr/bin/env bash
# Crash matrix: for every failpoint the binary lists, kill the operation
# there, run `rowcat recover`, and check that catalog and cluster agree.
. "$(dirname "$0")/lib.sh"

running_ops() {
	catalog_sql "SELECT count(*) FROM operation WHERE state = 'running'"
}

# in_catalog VOL / on_cluster VOL: whether each side has the volume.
in_catalog() { [ "$(catalog_sql "SELECT count(*) FROM volume WHERE name = '$1'")" = 1 ]; }
on_cluster() { rbd info "rbd/$1" >/dev/null 2>&1; }

test_create_recovers_from_a_crash_at_every_failpoint() {
	rowcat init -q || fail init
	local fps n=0 fp v
	fps=$("$ROWCAT" debug failpoints | grep '^create\.') || fail "no create failpoints listed"
	for fp in $fps; do
		n=$((n + 1))
		v=$(volname "c$n")
		run env ROWCAT_FAILPOINT="$fp" "$ROWCAT" --id rowcat --catalog "$CATALOG" \
			create "rbd/$v" --size 4M
		expect_eq 137 "$status" "create killed at $fp"

		recover_after_kill || fail "recover after $fp: $err"
		expect_eq 0 "$(running_ops)" "running operations after recovering $fp"
		if in_catalog "$v"; then
			on_cluster "$v" || fail "$fp: volume in the catalog, image not on the cluster"
			expect_eq "rbd/$v" "$(rowcat which "$v")" "which after $fp"
		else
			on_cluster "$v" && fail "$fp: image on the cluster, volume not in the catalog"
			rowcat create "rbd/$v" --size 4M || fail "create again after $fp"
		fi
		# recovery is done: a second one needs no cluster at all
		expect_nothing_to_recover "second recover after $fp"
	done
	expect_eq "$(echo "$fps" | wc -w)" "$n" "failpoints exercised"
	[ "$n" -ge 10 ] || fail "only $n create failpoints"
}

test_recovery_never_takes_over_an_image_it_did_not_make() {
	rowcat init -q || fail init
	local v; v=$(volname)
	run env ROWCAT_FAILPOINT=create.journal.after "$ROWCAT" --id rowcat \
		--catalog "$CATALOG" create "rbd/$v" --size 4M
	expect_eq 137 "$status" "killed after journalling"
	# meanwhile someone else makes an image of that name, marked as theirs
	rbd create "rbd/$v" --size 8M || fail "rbd create"
	rbd image-meta set "rbd/$v" rowcat.operation op:999999:1 >/dev/null || fail "image-meta"
	recover_after_kill || fail "recover: $err"
	expect_eq 0 "$(running_ops)" "running operations"
	in_catalog "$v" && fail "someone else's image became a volume"
	expect_eq 8388608 "$(rbd info --format json "rbd/$v" | jq .size)" "their image untouched"
	expect_contains "$(catalog_sql "SELECT state || ': ' || error FROM operation")" \
		"failed: image rbd/$v exists but was not made by this operation" "operation outcome"
	rbd rm --no-progress "rbd/$v" >/dev/null 2>&1
}

# An image that someone else made, untagged, at the name of a create that
# died before it made anything, is not taken over, however new it is (its
# creation time after the create's start once made it look like ours).
test_recovery_never_takes_over_an_untagged_image_it_did_not_make() {
	rowcat init -q || fail init
	local v; v=$(volname)
	run env ROWCAT_FAILPOINT=create.journal.after "$ROWCAT" --id rowcat \
		--catalog "$CATALOG" create "rbd/$v" --size 4M
	expect_eq 137 "$status" "killed once journalled"
	rbd create "rbd/$v" --size 8M || fail "rbd create"
	recover_after_kill || fail "recover: $err"
	expect_eq 0 "$(running_ops)" "running operations"
	in_catalog "$v" && fail "someone else's untagged image became a volume"
	expect_eq "" "$(rbd image-meta get "rbd/$v" rowcat.operation 2>/dev/null)" "their image untagged"
	expect_eq 8388608 "$(rbd info --format json "rbd/$v" | jq .size)" "their image untouched"
	rbd rm --no-progress "rbd/$v" >/dev/null 2>&1
}

# Whether the image a killed create left untagged is its own does not
# depend on clocks: with this host's clock an hour ahead of the cluster's
# when the create started (the journal's start time moved on by an hour),
# or an hour behind, recovery finishes the create all the same.
test_recovery_of_a_create_does_not_depend_on_the_clock() {
	rowcat init -q || fail init
	local v skew n=0
	for skew in +3600 -3600; do
		n=$((n + 1))
		v=$(volname "k$n")
		run env ROWCAT_FAILPOINT=create.image.after "$ROWCAT" --id rowcat \
			--catalog "$CATALOG" create "rbd/$v" --size 4M
		expect_eq 137 "$status" "killed between the create and the tag"
		on_cluster "$v" || fail "no image after create.image.after"
		catalog_sql "UPDATE operation SET started_at = started_at $skew
			WHERE state = 'running'" || fail "sqlite3"
		recover_after_kill || fail "recover with the clock $skew s off: $err"
		expect_eq 0 "$(running_ops)" "running operations ($skew)"
		in_catalog "$v" || fail "the create's own image left as an orphan (clock $skew s off)"
		expect_eq "rbd/$v" "$(rowcat which "$v")" "which ($skew)"
		expect_contains "$(rbd image-meta get "rbd/$v" rowcat.operation)" "op:" "tagged ($skew)"
		expect_check_clean "$v"
	done
}

run_tests
