#!/usr/bin/env bash
# rowcat adopt: layouts built with the rbd CLI as OpenStack, ceph-csi and a
# person make them, adopted, then snapped, restored and flattened with
# rowcat; what the volumes read through and do not own (a Glance image)
# is compared, with rbd, before and after. Refusals change nothing.
. "$(dirname "$0")/lib.sh"

# foreign_state SPEC...: what rbd says of images rowcat must never touch:
# `rbd info` (but for its access and modify times, which librbd updates
# on I/O of its own accord) and `rbd snap ls --all`, and who their clones are.
foreign_state() {
	local spec
	for spec in "$@"; do
		rbd info --format json "$spec" | jq -c 'del(.access_timestamp, .modify_timestamp)'
		rbd snap ls --all --format json "$spec"
	done
}

# operating SPEC: the volume's operating image.
which_of() {
	rowcat which "$1" || fail "rowcat which $1"
}

# The OpenStack shape: Glance's image in one pool with a protected
# snapshot, Cinder's volumes in another cloned from it, one with
# snapshots of its own. Pools of this test's own, as client.admin
# (client.rowcat's caps name the pools rbd and other).
test_openstack_volumes_share_their_glance_image_as_a_foreign_ancestor() {
	local images volumes before foreign u1 u2 op json
	images=$(volname img) volumes=$(volname vol)
	u1=volume-$(volname)-1 u2=volume-$(volname)-2
	ceph osd pool create "$images" 8 8 >/dev/null 2>&1 || fail "pool create"
	ceph osd pool create "$volumes" 8 8 >/dev/null 2>&1 || fail "pool create"
	# the test runs in a subshell of its own: its end removes them
	trap "ceph osd pool delete $images $images --yes-i-really-really-mean-it >/dev/null 2>&1
	      ceph osd pool delete $volumes $volumes --yes-i-really-really-mean-it >/dev/null 2>&1" EXIT
	timeout 60 rbd pool init "$images" && timeout 60 rbd pool init "$volumes" || fail "pool init"
	admin() { "$ROWCAT" --catalog "$CATALOG" "$@"; }
	{
		rbd create "$images/G" --size 8M &&
		rbd snap create "$images/G@snap" && rbd snap protect "$images/G@snap" &&
		rbd clone "$images/G@snap" "$volumes/$u1" &&
		rbd clone "$images/G@snap" "$volumes/$u2" &&
		rbd snap create "$volumes/$u1@s1" && rbd snap protect "$volumes/$u1@s1" &&
		rbd snap create "$volumes/$u1@s2"
	} >/dev/null 2>&1 || fail "layout"
	admin init -q || fail init
	foreign=$(foreign_state "$images/G")

	before=$(catalog_state)
	run admin adopt --pool "$volumes" --match 'volume-*' --dry-run
	expect_eq 0 "$status" "dry run ($err)"
	expect_contains "$err" "would adopt $volumes/$u1 as volume '$u1': 2 snapshots, parent $images/G@snap, 1 foreign ancestor to be recorded" "dry run's line"
	expect_eq "$before" "$(catalog_state)" "catalog after the dry run"

	run admin adopt --pool "$volumes" --match 'volume-*'
	expect_eq 0 "$status" "adopt --pool ($err)"
	expect_contains "$err" "adopted $volumes/$u2 as volume '$u2': 0 snapshots, parent $images/G@snap" "adopt's line"
	# one row for the Glance image, no volume's, with the one snapshot
	# the chains read through
	expect_eq "1|1|snap|1|adopted" "$(catalog_sql "SELECT count(*), sum(i.volume_id IS NULL AND i.adopted_at IS NOT NULL), s.name, s.protected, s.origin FROM image i JOIN snapshot s ON s.image_id = i.id WHERE i.pool = '$images' AND i.name = 'G'")" "G recorded once, foreign"
	expect_eq "s1|1|adopted
s2|0|adopted" "$(catalog_sql "SELECT s.name, s.protected, s.origin FROM snapshot s JOIN image i ON i.id = s.image_id WHERE i.name = '$u1' ORDER BY s.name")" "$u1's snapshots"
	expect_eq "2" "$(catalog_sql "SELECT count(*) FROM operation WHERE kind = 'adopt' AND state = 'done'")" "adopt operations"
	expect_eq "$volumes/$u1" "$(which_of "$u1")" "which $u1"
	expect_eq "8388608" "$(catalog_sql "SELECT size FROM volume WHERE name = '$u2'")" "volume size"

	# again: nothing added, and said so
	before=$(catalog_state)
	run admin adopt --pool "$volumes" --match 'volume-*' --format json
	expect_eq 0 "$status" "second adopt ($err)"
	expect_json_keys "$out" "volume pool pool_namespace image outcome size snapshots parent ancestors_recorded snapshots_recorded message" "adopt's JSON"
	expect_eq "already already" "$(jq -r '[.[].outcome] | join(" ")' <<<"$out")" "second run's outcomes"
	expect_eq "$before" "$(catalog_state)" "catalog after the second adopt"

	run admin ls
	expect_contains "$out" "$u1" "ls"
	run admin tree "$u1"
	expect_contains "$out" "$images/G" "tree of $u1 reads through G"
	expect_contains "$out" "@s2" "tree of $u1"
	run admin check
	expect_eq 0 "$status" "check after adopt: $out $err"

	# snap and restore work as on a created volume, beside the image
	admin snap "$u1" snew -q || fail "snap $u1"
	op=$(which_of "$u1")
	case $op in "$volumes/$u1.rc"*) ;; *) fail "snap's clone $op is not beside $volumes/$u1" ;; esac
	expect_eq "$volumes/$u1@snew" "$(rbd_parent "$op")" "snap's clone's parent"
	expect_eq "true" "$(rbd snap ls --format json "$volumes/$u1" | jq -r '.[] | select(.name == "snew") | .protected')" "snew protected"
	admin restore "$u1" s1 -q || fail "restore $u1 s1"
	op=$(which_of "$u1")
	expect_eq "$volumes/$u1@s1" "$(rbd_parent "$op")" "restore's clone's parent"
	expect_contains "$(rbd children "$volumes/$u1@s1")" "${op#*/}" "rbd children of s1"
	admin snap "$u2" -q || fail "snap $u2"
	expect_eq "$images/G@snap" "$(rbd_parent "$volumes/$u2")" "$u2's root still reads G"
	run admin check
	expect_eq 0 "$status" "check after snap and restore: $out $err"
	expect_eq "$foreign" "$(foreign_state "$images/G")" "G untouched"
	json=$(admin log "$u1" --format json) || fail "log"
	expect_contains "$json" '"adopt"' "log shows the adopt"
}

# The ceph-csi shape (clone v2): a snapshot of csi-vol-X is cloned into
# csi-snap-Y and then removed, so it goes to the trash namespace, since
# its clone reads it; csi-snap-Y is snapshotted as itself, and a restore
# clones that into csi-vol-Z. In the pool rbd, as client.rowcat.
test_ceph_csi_volumes_and_a_snapshot_in_the_trash_namespace() {
	local s x y z trashed before
	s=$(volname) x=csi-vol-$s y=csi-snap-$s z=csi-vol-$s-z
	{
		rbd create "rbd/$x" --size 8M &&
		rbd snap create "rbd/$x@tmp" &&
		rbd clone --rbd-default-clone-format 2 "rbd/$x@tmp" "rbd/$y" &&
		rbd snap rm "rbd/$x@tmp" &&
		rbd snap create "rbd/$y@$y" &&
		rbd clone --rbd-default-clone-format 2 "rbd/$y@$y" "rbd/$z"
	} >/dev/null 2>&1 || fail "layout"
	trashed=$(rbd snap ls --all --format json "rbd/$x" | jq -r '.[] | select(.namespace.type == "trash") | .name')
	[ -n "$trashed" ] || fail "no snapshot in the trash namespace"
	rowcat init -q || fail init
	run rowcat adopt --pool rbd --match "csi-*$s*"
	expect_eq 0 "$status" "adopt ($err)"
	# parents first: the operations in the chain's order
	expect_eq "$x $y $z" "$(catalog_sql "SELECT group_concat(target_image, ' ') FROM (SELECT target_image FROM operation WHERE kind = 'adopt' ORDER BY id)")" "adopted parents first"
	# the trashed snapshot is the link, under its name on the cluster,
	# and pinned so that nothing of rowcat's ever removes it
	expect_eq "$trashed|1|0" "$(catalog_sql "SELECT s.name, s.pinned, s.protected FROM snapshot s JOIN image i ON i.id = s.image_id WHERE i.name = '$x'")" "trash snapshot's row"
	expect_eq "$trashed" "$(catalog_sql "SELECT s.name FROM image c JOIN snapshot s ON s.id = c.parent_snapshot_id WHERE c.name = '$y'")" "$y's parent link"
	expect_eq "0" "$(catalog_sql "SELECT count(*) FROM image WHERE volume_id IS NULL")" "no foreign ancestor: all are volumes"
	expect_check_clean
	before=$(rbd snap ls --all --format json "rbd/$x")
	rowcat snap "$z" s1 -q || fail "snap $z"
	rowcat restore "$z" s1 -q || fail "restore $z"
	expect_eq "rbd/$z@s1" "$(rbd_parent "$(which_of "$z")")" "restore's clone's parent"
	rowcat snap "$y" -q || fail "snap $y"
	expect_check_clean
	expect_eq "$before" "$(rbd snap ls --all --format json "rbd/$x")" "the trashed snapshot is untouched"
}

# A chain made by hand in a namespace, adopted one image at a time:
# ancestors become foreign, then one of them a volume of its own.
test_hand_made_chain_in_a_namespace_adopted_image_by_image() {
	local s base mid leaf before
	s=$(volname) base=base-$s mid=mid-$s leaf=leaf-$s
	{
		rbd create "rbd/ns1/$base" --size 8M &&
		rbd snap create "rbd/ns1/$base@s1" && rbd snap protect "rbd/ns1/$base@s1" &&
		rbd clone "rbd/ns1/$base@s1" "rbd/ns1/$mid" &&
		rbd snap create "rbd/ns1/$mid@s2" && rbd snap protect "rbd/ns1/$mid@s2" &&
		rbd clone "rbd/ns1/$mid@s2" "rbd/ns1/$leaf" &&
		rbd snap create "rbd/ns1/$leaf@s3"
	} >/dev/null 2>&1 || fail "layout"
	rowcat init -q || fail init
	run rowcat adopt "rbd/ns1/$leaf" --as "L$s"
	expect_eq 0 "$status" "adopt leaf ($err)"
	expect_contains "$err" "adopted rbd/ns1/$leaf as volume 'L$s': 1 snapshot, parent rbd/ns1/$mid@s2, 2 foreign ancestors recorded" "adopt's line"
	expect_eq "$base|
$mid|" "$(catalog_sql "SELECT name, volume_id FROM image WHERE volume_id IS NULL ORDER BY id")" "foreign ancestors"
	run rowcat adopt "rbd/ns1/$mid"
	expect_eq 0 "$status" "adopt mid ($err)"
	expect_contains "$err" "(a foreign ancestor until now)" "mid was foreign"
	expect_eq "3" "$(catalog_sql "SELECT count(*) FROM image")" "no image recorded twice"
	expect_eq "$mid" "$(catalog_sql "SELECT i.name FROM image i JOIN volume v ON v.operating_image_id = i.id WHERE v.name = '$mid'")" "mid is its volume's"
	before=$(catalog_state)
	run rowcat adopt "rbd/ns1/$leaf" --as "other$s"
	expect_eq 0 "$status" "adopt leaf again ($err)"
	expect_contains "$err" "is the operating image of volume 'L$s' already; nothing to adopt" "again"
	expect_eq "$before" "$(catalog_state)" "catalog after adopting again"
	expect_check_clean
	rowcat snap "L$s" s4 -q || fail snap
	rowcat flatten "L$s" -q || fail flatten
	expect_eq "none" "$(rbd_parent "$(which_of "L$s")")" "flattened"
	expect_eq "rbd/ns1/$mid@s2" "$(rbd_parent "rbd/ns1/$leaf")" "the adopted image still reads mid"
	expect_check_clean
}

# What is in the middle of something, what rowcat names, and bad input:
# one line each, and nothing changes, in the catalog or on the cluster.
test_refusals_and_bad_input_change_nothing() {
	local s v before id
	s=$(volname) v=$(volname)v
	rowcat init -q || fail init
	rowcat create "rbd/$v" --size 4M -q || fail create
	{
		rbd create "rbd/t-$s" --size 4M && rbd trash mv "rbd/t-$s" &&
		rbd create "rbd/m-$s" --size 4M &&
		rbd migration prepare "rbd/m-$s" "rbd/m2-$s" &&
		rbd create "rbd/f-$s" --size 4M &&
		rbd create "rbd/o-$s" --size 4M &&
		rbd create "rbd/x$s.rc12" --size 4M
	} >/dev/null 2>&1 || fail "layout"
	# a flatten the mgr has queued, as its rbd_support module records one
	id=$(rbd info --format json "rbd/f-$s" | jq -r .id)
	rados -p rbd setomapval rbd_task 00000000000000A1 \
		"{\"sequence\": 161, \"id\": \"t-$s\", \"message\": \"Flattening image rbd/f-$s\", \"refs\": {\"action\": \"flatten\", \"pool_name\": \"rbd\", \"pool_namespace\": \"\", \"image_name\": \"f-$s\", \"image_id\": \"$id\"}}" ||
		fail "rbd_task"
	before=$(catalog_state; cluster_state)
	expect_refused 1 "is in the RBD trash" rowcat adopt "rbd/t-$s"
	expect_refused 1 "cannot adopt rbd/t-$s: it is in the RBD trash" rowcat adopt --pool rbd --match "t-$s"
	expect_refused 1 "it is being migrated (migration prepared" rowcat adopt "rbd/m2-$s"
	expect_refused 1 "the mgr has a 'flatten' task queued for it" rowcat adopt "rbd/f-$s"
	expect_refused 1 "volume '$v' already exists; adopt the image under another name with --as VOL" \
		rowcat adopt "rbd/o-$s" --as "$v"
	expect_refused 1 "its name is one rowcat gives clones" rowcat adopt "rbd/x$s.rc12"
	expect_refused 1 "image rbd/nope-$s does not exist" rowcat adopt "rbd/nope-$s"
	expect_refused 1 "pool 'nopool$s' does not exist" rowcat adopt "nopool$s/x"
	expect_refused 1 "no image of rbd matches 'nope-$s*'" rowcat adopt --pool rbd --match "nope-$s*"
	expect_refused 2 "never closed" rowcat adopt --pool rbd --match "[ab"
	expect_refused 2 "--match" rowcat adopt --pool rbd --match "rbd/x"
	expect_refused 2 "--match needs --pool" rowcat adopt "rbd/o-$s" --match "o-*"
	expect_refused 2 "not both" rowcat adopt "rbd/o-$s" --pool rbd
	expect_refused 2 "give POOL" rowcat adopt
	expect_refused 2 "--as" rowcat adopt --pool rbd --as x
	expect_refused 2 "--as" rowcat adopt "rbd/o-$s" --as "a/b"
	expect_refused 2 "--pool" rowcat adopt --pool "rbd/ns1/x"
	expect_eq "$before" "$(catalog_state; cluster_state)" "catalog and cluster"
	rados -p rbd rmomapkey rbd_task 00000000000000A1
	rbd migration abort "rbd/m2-$s" >/dev/null 2>&1
}

run_tests
