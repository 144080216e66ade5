#!/usr/bin/env bash
# create, which, ls and tree on a real cluster, checked with rbd.
. "$(dirname "$0")/lib.sh"

setup_catalog() {
	rowcat init -q || fail "rowcat init"
}

test_create_makes_an_image_with_the_five_features() {
	setup_catalog
	local v; v=$(volname)
	rowcat create "rbd/$v" --size 64M || fail "create"
	local info; info=$(rbd info --format json "rbd/$v") || fail "rbd info"
	expect_eq 67108864 "$(jq .size <<<"$info")" "size"
	expect_eq '["deep-flatten","exclusive-lock","fast-diff","layering","object-map"]' \
		"$(jq -c '.features | sort' <<<"$info")" "features"
}

test_which_ls_and_tree_agree_with_rbd() {
	setup_catalog
	local v; v=$(volname)
	rowcat create "rbd/$v" --size 64M || fail "create"

	expect_eq "rbd/$v" "$(rowcat which "$v")" "which"
	rbd info "$(rowcat which "$v")" >/dev/null || fail "which names no rbd image"

	run rowcat ls
	expect_eq 0 "$status" "ls status"
	expect_eq "VOLUME" "$(head -1 <<<"$out" | awk '{ print $1 }')" "ls header"
	expect_eq "$v rbd 64 MiB rbd/$v 0 0" "$(sed -n 2p <<<"$out" | tr -s ' ')" "ls row"

	local ls_json; ls_json=$(rowcat ls --format json)
	expect_eq "$v" "$(jq -r '.[0].volume' <<<"$ls_json")" "ls json volume"
	expect_eq "$(rbd info --format json "rbd/$v" | jq .size)" \
		"$(jq '.[0].size' <<<"$ls_json")" "ls json size = rbd size"

	local tree; tree=$(rowcat tree "$v" --format json)
	expect_eq "$v" "$(jq -r .volume <<<"$tree")" "tree volume"
	expect_eq rbd "$(jq -r .pool <<<"$tree")" "tree pool"
	expect_eq "" "$(jq -r .pool_namespace <<<"$tree")" "tree namespace"
	expect_eq 67108864 "$(jq .size <<<"$tree")" "tree size"
	expect_eq "rbd/$v" "$(jq -r .operating <<<"$tree")" "tree operating"
	expect_eq "rbd/$v" "$(jq -r .nodes[0].id <<<"$tree")" "tree root"
	expect_eq "$v null" "$(jq -r '.nodes[0] | "\(.image) \(.parent_id)"' <<<"$tree")" "root's image, no parent"
	expect_eq true "$(jq .nodes[0].operating <<<"$tree")" "root is operating"
	expect_eq 0 "$(jq .nodes[0].depth <<<"$tree")" "root depth"
	# ls and tree print the volume with the same keys
	expect_eq "$(jq -c 'del(.nodes)' <<<"$tree")" "$(jq -c '.[0]' <<<"$ls_json")" "ls and tree agree"
	# no snapshots in the catalog, none on the cluster, no parent on either
	expect_eq 1 "$(jq '.nodes | length' <<<"$tree")" "tree nodes: the root alone"
	expect_eq 0 "$(rbd snap ls --format json "rbd/$v" | jq length)" "rbd snapshots"
	expect_eq null "$(rbd info --format json "rbd/$v" | jq .parent)" "rbd parent"

	run rowcat tree "$v"
	expect_eq 0 "$status" "tree status"
	expect_eq "volume $v (64 MiB)" "$(sed -n 1p <<<"$out")" "tree title"
	expect_eq "NAME DEPTH CREATED ORIGIN STATE" "$(sed -n 2p <<<"$out" | tr -s ' ')" "tree headings"
	expect_eq "rbd/$v 0 operating" "$(sed -n 3p <<<"$out" | tr -s ' ' | cut -d' ' -f2,3,5)" \
		"tree root line"
}

test_create_in_a_namespace_and_in_another_pool() {
	setup_catalog
	local a b; a=$(volname a) b=$(volname b)
	rowcat create "rbd/ns1/$a" --size 1G || fail "create in namespace"
	rowcat create "other/$b" --size 10M || fail "create in pool other"
	expect_eq "rbd/ns1/$a" "$(rowcat which "$a")" "which in namespace"
	expect_eq 1073741824 "$(rbd info --format json "rbd/ns1/$a" | jq .size)" "namespace image size"
	expect_eq 10485760 "$(rbd info --format json "other/$b" | jq .size)" "other pool image size"
	local tree; tree=$(rowcat tree "$a" --format json)
	expect_eq ns1 "$(jq -r .pool_namespace <<<"$tree")" "tree namespace"
	expect_eq "rbd/ns1/$a rbd ns1 $a" \
		"$(jq -r '.nodes[0] | "\(.id) \(.pool) \(.pool_namespace) \(.image)"' <<<"$tree")" \
		"tree root in namespace"
	expect_eq 2 "$(rowcat ls --format json | jq length)" "ls counts both"
}

test_ceph_args_choose_the_client_as_rbd_does() {
	setup_catalog
	local v; v=$(volname)
	# client.rowcat comes from CEPH_ARGS alone here
	CEPH_ARGS="--id rowcat" "$ROWCAT" --catalog "$CATALOG" create "rbd/$v" --size 4M ||
		fail "create with CEPH_ARGS"
	# an unknown client from CEPH_ARGS is refused by the cluster, while
	# --id on the command line wins over CEPH_ARGS
	run env CEPH_ARGS="--id nobody" "$ROWCAT" --catalog "$CATALOG" --timeout 5 \
		create "rbd/$(volname x)" --size 4M
	[ "$status" != 0 ] || fail "client.nobody was let in"
	CEPH_ARGS="--id nobody" "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		create "rbd/$(volname y)" --size 4M || fail "--id did not win over CEPH_ARGS"
}

run_tests
