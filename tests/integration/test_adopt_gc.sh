#!/usr/bin/env bash
# Adopted volumes under snap, restore, rm, gc and policy, checked with rbd:
# the foreign image they were cloned from (a Glance image and its
# protected snapshot) is never touched, adopted snapshots outlive policy
# expiry and go only once rm names them, and gc removes nothing of one
# volume that another still reads through.
#
# The pool "other" stands for Glance's images pool and a namespace of
# "rbd" for Cinder's volumes pool: client.rowcat's caps name these two
# (tests/cluster/ceph-cluster.sh), and the namespace keeps rbd ls to this
# test's images.
. "$(dirname "$0")/lib.sh"

SIZE=8388608 # 8 MiB

# own_namespace: a namespace of pool rbd for this test, as "rbd/NS".
own_namespace() {
	local ns; ns=$(volname)
	rbd namespace create "rbd/$ns" || fail "rbd namespace create rbd/$ns"
	echo "rbd/$ns"
}

# image_state SPEC: what rowcat must never change of a foreign image: its
# info (timestamps aside: reading through it may move them) and every
# snapshot with its protection, as client.admin sees them.
# Ceph itself keeps the "operations" feature and the clone-parent op
# feature while clone v2 children exist, and clears them once the last one
# goes: those follow the clones, not anything done to the image.
image_state() {
	rbd info --format json "$1" |
		jq -S 'del(.access_timestamp, .modify_timestamp, .create_timestamp,
			.op_features) | .features -= ["operations"]' &&
		rbd snap ls --all --format json "$1" | jq -S '[.[] | del(.timestamp)]' &&
		rbd info --format json "$1@snap" | jq -S '.protected'
}

# snapshots_of SPEC: the names of the image's snapshots, one a line.
snapshots_of() {
	rbd snap ls --format json "$1" | jq -r '.[].name' | sort
}

# in_trash SPEC...: the names in the RBD trash of each POOL[/NS] given.
in_trash() {
	local spec
	for spec in "$@"; do
		rbd trash ls --format json "$spec" | jq -r '.[].name'
	done
}

gc_now() {
	rowcat gc --min-age 0s --trash-delay 0s -q || fail "gc"
}

# glance_and_cinder NS G: Glance's image other/G, written, with the
# protected snapshot snap; Cinder's volume-1 and volume-2 in NS cloned from
# it, volume-1 with a protected snapshot of its own, cinder-s1. Clone v2,
# as Cinder's clones across pools into a namespace need.
glance_and_cinder() {
	local ns=$1 g=$2
	rbd create "other/$g" --size 8M || fail "rbd create other/$g"
	"$RBD_PATTERN" write "other/$g" 7 || fail "write other/$g"
	rbd snap create "other/$g@snap" && rbd snap protect "other/$g@snap" ||
		fail "Glance's snapshot"
	rbd clone --rbd-default-clone-format 2 "other/$g@snap" "$ns/volume-1" &&
		rbd clone --rbd-default-clone-format 2 "other/$g@snap" \
			"$ns/volume-2" || fail "rbd clone"
	rbd snap create "$ns/volume-1@cinder-s1" &&
		rbd snap protect "$ns/volume-1@cinder-s1" || fail "Cinder's snapshot"
}

test_openstack_volumes_leave_their_glance_image_alone() {
	local ns g v1 v2 glance_before tree now policy op
	ns=$(own_namespace) g=$(volname g) v1=$(volname 1) v2=$(volname 2)
	glance_and_cinder "$ns" "$g"
	glance_before=$(image_state "other/$g") || fail "Glance's image"
	rowcat init -q || fail init
	rowcat adopt "$ns/volume-1" --as "$v1" -q || fail "adopt volume-1"
	rowcat adopt "$ns/volume-2" --as "$v2" -q || fail "adopt volume-2"
	expect_check_clean

	# the tree starts at Glance's image, shown as foreign, no volume's
	tree=$(rowcat tree "$v1" --format json) || fail "tree $v1"
	expect_eq "true null" "$(jq -r --arg id "other/$g" '.nodes[] |
		select(.id == $id) | "\(.foreign) \(.volume)"' <<<"$tree")" \
		"Glance's image in the tree"
	expect_eq "false" "$(jq -r --arg id "$ns/volume-1" '.nodes[] |
		select(.id == $id) | .foreign' <<<"$tree")" "volume-1 in the tree"
	expect_eq 1 "$(jq -r .depth <<<"$tree")" "an adopted clone's depth"
	expect_eq "cinder-s1" "$(rowcat complete snapshots "$v1")" \
		"the snapshots completion offers"

	# Glance's snapshot is no volume's to restore from, rm or pin
	expect_refused 1 "foreign" rowcat restore "$v1" snap
	expect_refused 1 "foreign" rowcat rm "$v1@snap"
	expect_refused 1 "foreign" rowcat pin "$v1@snap"
	expect_refused 1 "foreign" rowcat unrm "$v1@snap"

	# snap and restore work as on a volume rowcat created
	"$RBD_PATTERN" write "$(rowcat which "$v1")" 1 || fail "write v1"
	rowcat snap "$v1" s1 -q || fail "snap $v1"
	expect_eq "$ns/volume-1@s1" "$(rbd_parent "$(rowcat which "$v1")")" \
		"the snapshot's clone"
	rowcat restore "$v1" s1 -q || fail "restore $v1 s1"
	expect_eq "$(pattern_checksum $SIZE 1)" "$(checksum "$(rowcat which "$v1")")" \
		"the restored image reads s1"
	expect_check_clean

	# a policy that keeps its latest snapshot only: its older one is
	# marked, the adopted one neither marked nor counted
	policy=$SCRATCH/policy.yaml
	cat >"$policy" <<EOF
version: 1
timezone: UTC
gc: {min_age: 0s, trash_delay: 0s}
policies:
  - name: p
    volumes: ["$ns/$v1"]
    every: 1h
    keep: {latest: 1}
EOF
	# the policy's clock (--now): fixed hours, in the real clock's past
	# and two apart, so that the run means the same whatever day it is
	for now in 2020-05-01T10:00:00Z 2020-05-01T12:00:00Z; do
		rowcat policy run "$policy" --now "$now" --gc -q ||
			fail "policy run at $now"
	done
	expect_eq 1 "$(catalog_sql "SELECT count(*) FROM snapshot
		WHERE origin = 'policy:p' AND marked_at IS NOT NULL")" \
		"snapshots the policy expired"
	expect_eq 0 "$(catalog_sql "SELECT count(*) FROM snapshot
		WHERE origin = 'adopted' AND marked_at IS NOT NULL")" \
		"adopted snapshots the policy expired"
	expect_contains "$(snapshots_of "$ns/volume-1")" cinder-s1 \
		"the adopted snapshot after the policy's gc"

	# gc takes the adopted snapshot once, and only once, rm names it
	gc_now
	expect_contains "$(snapshots_of "$ns/volume-1")" cinder-s1 \
		"the adopted snapshot after gc"
	rowcat rm "$v1@cinder-s1" -q || fail "rm $v1@cinder-s1"
	gc_now
	case $(snapshots_of "$ns/volume-1") in
	*cinder-s1*) fail "gc kept cinder-s1 once it was marked" ;;
	esac
	expect_eq "$glance_before" "$(image_state "other/$g")" \
		"Glance's image after gc"
	expect_check_clean

	# both volumes removed: all of theirs goes, Glance's image stays
	rowcat rm "$v2" -q || fail "rm $v2"
	gc_now
	case $(rbd ls "$ns") in
	*volume-2*) fail "volume-2 outlived gc: $(rbd ls "$ns")" ;;
	esac
	rowcat rm "$v1" -q || fail "rm $v1"
	gc_now
	expect_eq "" "$(rbd ls "$ns")" "the volumes' images after gc"
	expect_eq "" "$(in_trash "$ns")" "the volumes' trash after gc"
	expect_eq "$glance_before" "$(image_state "other/$g")" \
		"Glance's image once nothing reads it"
	case $(in_trash other) in
	*"$g"*) fail "Glance's image is in the trash" ;;
	esac
	op=$(catalog_sql "SELECT count(*) FROM image WHERE volume_id IS NULL
		AND (removed_at IS NOT NULL OR purged_at IS NOT NULL)")
	expect_eq 0 "$op" "foreign images the catalog says gc collected"
	expect_check_clean
	rbd snap unprotect "other/$g@snap" && rbd snap rm "other/$g@snap" &&
		rbd rm --no-progress "other/$g" || fail "removing Glance's image"
}

# adopt --pool of a hand-made chain base -> base@s1 -> child makes two
# volumes; child reads through base's snapshot, which gc keeps whatever
# marks base, until child goes too.
test_a_snapshot_another_volume_reads_outlives_its_volume() {
	local ns tree
	ns=$(own_namespace)
	rbd create "$ns/base" --size 8M || fail "rbd create base"
	"$RBD_PATTERN" write "$ns/base" 3 || fail "write base"
	rbd snap create "$ns/base@s1" && rbd snap protect "$ns/base@s1" &&
		rbd snap create "$ns/base@s2" || fail "base's snapshots"
	rbd clone "$ns/base@s1" "$ns/child" || fail "rbd clone"
	rowcat init -q || fail init
	rowcat adopt --pool "$ns" --match '*' -q || fail "adopt --pool"
	expect_eq "base
child" "$(rowcat complete volumes)" "the volumes adopted"
	expect_check_clean
	tree=$(rowcat tree child --format json) || fail "tree child"
	expect_eq "true base" "$(jq -r --arg id "$ns/base" '.nodes[] |
		select(.id == $id) | "\(.foreign) \(.volume)"' <<<"$tree")" \
		"base's image in child's tree"
	expect_refused 1 "base@s1" rowcat rm child@s1

	# base removed: s2 goes; base's image and s1 stay while child reads them
	rowcat rm base -q || fail "rm base"
	gc_now
	expect_eq "s1" "$(snapshots_of "$ns/base")" "base's snapshots after gc"
	expect_eq "$ns/base@s1" "$(rbd_parent "$ns/child")" "child's parent"
	expect_eq "$(pattern_checksum $SIZE 3)" "$(checksum "$ns/child")" \
		"child's data"
	expect_eq "" "$(in_trash "$ns")" "the trash while child reads base"
	expect_check_clean

	# child removed too: both go, leaf first
	rowcat rm child -q || fail "rm child"
	gc_now
	expect_eq "" "$(rbd ls "$ns")" "the images after gc"
	expect_eq "" "$(in_trash "$ns")" "the trash after gc"
	expect_check_clean
}

run_tests
