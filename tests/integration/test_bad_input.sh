#!/usr/bin/env bash
# Every bad input: one line naming the problem, a non-zero exit (2 for
# usage), and no change on the cluster or in the catalog.
. "$(dirname "$0")/lib.sh"

# refused_without_change STATUS MESSAGE ARGS... : runs rowcat ARGS and
# checks the refusal and that neither the cluster nor the catalog changed.
refused_without_change() {
	local want=$1 message=$2 before_cluster before_catalog
	shift 2
	before_cluster=$(cluster_state)
	before_catalog=$(catalog_state)
	expect_refused "$want" "$message" "$@"
	expect_eq "$before_cluster" "$(cluster_state)" "cluster after '$*'"
	expect_eq "$before_catalog" "$(catalog_state)" "catalog after '$*'"
}

test_bad_volume_names_are_usage_errors() {
	rowcat init -q || fail init
	local long; long=$(printf 'x%.0s' $(seq 256))
	refused_without_change 2 "volume name is empty" rowcat create rbd/ --size 1M
	refused_without_change 2 "contains '/'" rowcat create rbd/ns1/a/b --size 1M
	refused_without_change 2 "contains '@'" rowcat create rbd/a@b --size 1M
	refused_without_change 2 "control character" rowcat create "rbd/a$(printf '\t')b" --size 1M
	refused_without_change 2 "control character" rowcat create "rbd/a$(printf '\001')" --size 1M
	refused_without_change 2 "starts with '-'" rowcat create rbd/-a --size 1M
	refused_without_change 2 "256 bytes long" rowcat create "rbd/$long" --size 1M
	# a volume name leaves room for its clones' names, VOL.rcN-K
	refused_without_change 2 "volume name is 230 bytes long; the limit is 229" \
		rowcat create "rbd/$(printf 'x%.0s' $(seq 230))" --size 1M
	refused_without_change 2 "volume name is 255 bytes long; the limit is 229" \
		rowcat create "rbd/${long:1}" --size 1M
	refused_without_change 2 "volume name is not valid UTF-8 (byte 0xe9 at offset 3)" \
		rowcat create "rbd/caf$(printf '\351')" --size 1M
	refused_without_change 2 "volume name is not valid UTF-8 (byte 0xc0 at offset 0)" \
		rowcat create "rbd/$(printf '\300\257')x" --size 1M
	refused_without_change 2 "namespace name is not valid UTF-8" \
		rowcat create "rbd/$(printf '\377')/a" --size 1M
	refused_without_change 2 "pool name is empty" rowcat create /a --size 1M
	refused_without_change 2 "is not POOL/NAME" rowcat create justaname --size 1M
	# bare names in later commands follow the same rule
	refused_without_change 2 "volumes are named without their pool: did you mean 'a'? (no volume" \
		rowcat which rbd/a
	refused_without_change 2 "'rbd/' contains '/'" rowcat which rbd/
	refused_without_change 2 "contains '@'" rowcat tree a@b
	refused_without_change 2 "starts with '-'" rowcat tree -- -a
	refused_without_change 2 "is empty" rowcat which ""
}

# The longest volume name takes snapshots: every clone name fits.
test_a_volume_name_of_the_limit_takes_snapshots() {
	rowcat init -q || fail init
	local v; v=$(volname)
	v=$v$(printf 'y%.0s' $(seq $((229 - ${#v}))))
	expect_eq 229 "${#v}" "name length"
	rowcat create "rbd/$v" --size 1M || fail "create a 229-byte volume"
	local first
	rowcat snap "$v" s1 -q || fail "snap of a 229-byte volume"
	first=$(rowcat which "$v")
	expect_eq "rbd/$v@s1" "$(rbd_parent "$first")" "the first clone's parent"
	rowcat snap "$v" s2 -q || fail "second snap of a 229-byte volume"
	expect_eq "$first@s2" "$(rbd_parent "$(rowcat which "$v")")" "the second clone's parent"
	expect_check_clean "$v"
}

# Snapshot names are checked the same way wherever one is given.
test_snapshot_names_that_are_not_utf8_are_refused() {
	rowcat init -q || fail init
	local v bad; v=$(volname) bad="snap$(printf '\377')"
	rowcat create "rbd/$v" --size 1M && rowcat snap "$v" s1 -q || fail setup
	refused_without_change 2 "snapshot name is not valid UTF-8 (byte 0xff at offset 4)" \
		rowcat snap "$v" "$bad"
	refused_without_change 2 "snapshot name is not valid UTF-8" rowcat restore "$v" "$bad"
	refused_without_change 2 "snapshot name is not valid UTF-8" rowcat rm "$v@$bad"
	refused_without_change 2 "snapshot name is not valid UTF-8" rowcat pin "$v@$bad"
	refused_without_change 2 "volume name is not valid UTF-8" rowcat snap "$v$(printf '\351')"
	refused_without_change 2 "volume name is not valid UTF-8" rowcat tree "$v$(printf '\351')"
}

# A catalog written before names were checked may hold other bytes: JSON
# output stays valid, with U+FFFD in their place.
test_json_stays_valid_with_a_name_from_before_the_check() {
	rowcat init -q || fail init
	local v; v=$(volname)
	rowcat create "rbd/$v" --size 1M || fail create
	catalog_sql "UPDATE volume SET name = name || CAST(X'e9' AS TEXT)"
	run rowcat ls --format json
	expect_eq 0 "$status" "ls --format json"
	# jq itself reads bad bytes as U+FFFD: a strict reader tells
	printf '%s' "$out" | python3 -c 'import json, sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))' ||
		fail "ls --format json is not UTF-8 JSON: $out"
	expect_contains "$out" "\"volume\":\"$v"$'\xef\xbf\xbd'"\"" "the name, with U+FFFD for the bad byte"
	# every command's JSON goes through the same writer: gc's plan
	catalog_sql "UPDATE volume SET marked_at = 1"
	run rowcat gc --dry-run --min-age 0s --format json
	expect_eq 0 "$status" "gc --dry-run --format json ($err)"
	printf '%s' "$out" | python3 -c 'import json, sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))' ||
		fail "gc --format json is not UTF-8 JSON: $out"
	expect_contains "$out" "\"volume\":\"$v"$'\xef\xbf\xbd'\" "the name in gc's plan, with U+FFFD"
}

test_unknown_pool_and_namespace_are_refused() {
	rowcat init -q || fail init
	refused_without_change 1 "pool 'nopool' does not exist" \
		rowcat create "nopool/$(volname)" --size 1M
	refused_without_change 1 "namespace 'rbd/nons' does not exist" \
		rowcat create "rbd/nons/$(volname)" --size 1M
}

test_bad_sizes_are_usage_errors() {
	rowcat init -q || fail init
	local v; v=$(volname)
	refused_without_change 2 "size '0' is zero" rowcat create "rbd/$v" --size 0
	refused_without_change 2 "'-1M' is not a size" rowcat create "rbd/$v" --size -1M
	refused_without_change 2 "'lots' is not a size" rowcat create "rbd/$v" --size lots
	refused_without_change 2 "'1.5G' is not a size" rowcat create "rbd/$v" --size 1.5G
	refused_without_change 2 "--size is required" rowcat create "rbd/$v"
	refused_without_change 2 "option --size needs a value" rowcat create "rbd/$v" --size
	# what rbd refuses, with the form it takes
	refused_without_change 2 "'10MiB' is not a size as rbd reads one: write 10M" \
		rowcat create "rbd/$v" --size 10MiB
	refused_without_change 2 "write 10G" rowcat create "rbd/$v" --size 10g
	refused_without_change 2 "'10Mx' is not a size" rowcat create "rbd/$v" --size 10Mx
	# more objects than an object map holds: refused before anything is
	# journalled, not by librbd after (256,000,000 objects of 4 MiB)
	refused_without_change 2 "--size: at most 1000000 GiB with 4 MiB objects" \
		rowcat create "rbd/$v" --size 1P
}

# --size as rbd create reads it: a plain number is MiB.
test_sizes_are_read_as_rbd_reads_them() {
	rowcat init -q || fail init
	local v; v=$(volname)
	rowcat create "rbd/$v" --size 10 || fail "create --size 10"
	expect_eq 10485760 "$(rbd info --format json "rbd/$v" | jq .size)" "size of --size 10"
	rowcat create "rbd/${v}b" --size 4096B || fail "create --size 4096B"
	expect_eq 4096 "$(rbd info --format json "rbd/${v}b" | jq .size)" "size of --size 4096B"
	rowcat create "rbd/${v}c" --size 2MB || fail "create --size 2MB"
	expect_eq 2097152 "$(rbd info --format json "rbd/${v}c" | jq .size)" "size of --size 2MB"
}

test_a_second_create_of_a_volume_is_refused() {
	rowcat init -q || fail init
	local v; v=$(volname)
	rowcat create "rbd/ns1/$v" --size 1M || fail "first create"
	# names are unique across pools: the refusal says where the one is
	refused_without_change 1 "volume '$v' already exists, in pool 'rbd', namespace 'ns1'" \
		rowcat create "rbd/ns1/$v" --size 1M
	refused_without_change 1 "volume '$v' already exists, in pool 'rbd', namespace 'ns1'" \
		rowcat create "other/$v" --size 2M
	# a volume named as rbd names an image: the name it probably meant
	refused_without_change 2 "volumes are named without their pool: did you mean '$v'? (rbd/ns1/$v is an image of volume '$v')" \
		rowcat snap "rbd/ns1/$v"
	refused_without_change 2 "did you mean '$v'? (volume '$v' is in pool 'rbd', namespace 'ns1', not in pool 'other')" \
		rowcat restore "other/$v@s1"
}

test_an_image_that_is_not_ours_is_never_taken_over() {
	rowcat init -q || fail init
	local v; v=$(volname)
	rbd create "rbd/$v" --size 1M || fail "rbd create"
	refused_without_change 1 "already exists on the cluster" rowcat create "rbd/$v" --size 1M
	rbd rm --no-progress "rbd/$v" >/dev/null 2>&1
}

test_bad_catalogs_are_refused_unchanged() {
	local v; v=$(volname)
	refused_without_change 1 "no catalog at" rowcat create "rbd/$v" --size 1M
	catalog_exists && fail "a catalog was created without init"

	rowcat init -q || fail init
	catalog_sql "PRAGMA user_version = 999"
	refused_without_change 1 "newer than this rowcat" rowcat create "rbd/$v" --size 1M
	refused_without_change 1 "newer than this rowcat" rowcat ls
}

# What is at a catalog's path but is no catalog: about files, so a file
# catalog in both passes of the suite.
test_a_path_that_holds_no_catalog_is_refused_unchanged() {
	local v; v=$(volname)
	CATALOG=$SCRATCH/catalog.db
	mkdir "$SCRATCH/adir"
	refused_without_change 1 "is a directory" \
		"$ROWCAT" --id rowcat --catalog "$SCRATCH/adir" create "rbd/$v" --size 1M

	echo "not a database at all" > "$CATALOG"
	refused_without_change 1 "not a rowcat catalog" rowcat create "rbd/$v" --size 1M
	refused_without_change 1 "not a rowcat catalog" rowcat init
}

test_a_monitor_that_does_not_answer_is_exit_75() {
	rowcat init -q || fail init
	local port start
	# a port where a listener accepts connections and never says anything
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(16); conns = []
end = time.time() + 60
while time.time() < end:
    s.settimeout(1)
    try: conns.append(s.accept()[0])
    except socket.timeout: pass
" &
	local silent=$!
	sleep 0.5
	refused_without_change 75 "did not answer within 3 s" \
		timeout 30 "$ROWCAT" --id rowcat --catalog "$CATALOG" -m "127.0.0.1:$port" \
		--timeout 3 create "rbd/$(volname)" --size 1M
	kill "$silent" 2>/dev/null
	# and a port where nothing listens at all
	# (--timeout takes a duration; a bare number is seconds, as before)
	refused_without_change 75 "did not answer within 2 s" \
		timeout 30 "$ROWCAT" --id rowcat --catalog "$CATALOG" -m "127.0.0.1:$port" \
		--timeout 2s create "rbd/$(volname)" --size 1M
}

test_bad_qemu_monitors_and_pause_timeouts_are_usage_errors() {
	rowcat init -q || fail init
	local v; v=$(volname)
	rowcat create "rbd/$v" --size 1M -q || fail setup
	refused_without_change 2 "'qmp.sock' is not a QEMU monitor" \
		rowcat snap "$v" --qmp qmp.sock
	refused_without_change 2 "virsh:DOMAIN needs a domain name" \
		rowcat snap "$v" --qmp virsh:
	refused_without_change 2 "longer than a UNIX socket path can be" \
		rowcat consumer "$v" "/$(printf 'x%.0s' $(seq 120))"
	refused_without_change 2 "'unix:run/vm.qmp' is not a QEMU monitor" \
		rowcat consumer "$v" unix:run/vm.qmp
	refused_without_change 2 "give an address or --clear, not both" \
		rowcat consumer "$v" /run/vm.qmp --clear
	refused_without_change 2 "--pause-timeout: a pause of less than 1 s" \
		rowcat snap "$v" --pause-timeout 0s
	# a bare 0 is a duration (zero in any unit), and too short here too
	refused_without_change 2 "--pause-timeout: a pause of less than 1 s" \
		rowcat snap "$v" --pause-timeout 0
	refused_without_change 2 "--pause-timeout: " rowcat snap "$v" --pause-timeout 10
	# a monitor nobody listens at, given for this snap: refused, nothing
	# journalled
	refused_without_change 1 "/nonexistent/vm.qmp" \
		rowcat snap "$v" --qmp /nonexistent/vm.qmp
}

# A client that cannot connect is told what to fix (exit 78, EX_CONFIG):
# the configuration or keyring librados looked for, a keyring without the
# client's key, a key the cluster refuses; nothing else on stderr.
test_a_client_that_cannot_connect_is_told_what_to_fix() {
	rowcat init -q || fail init
	local v dir; v=$(volname) dir=$(dirname "$CEPH_CONF")
	refused_without_change 78 "no keyring for client.nosuch: $dir/ceph.client.nosuch.keyring does not exist" \
		"$ROWCAT" --id nosuch --catalog "$CATALOG" create "rbd/$v" --size 1M
	refused_without_change 78 "keyring $dir/ceph.client.admin.keyring holds no key for client.nosuch" \
		"$ROWCAT" --id nosuch -k "$dir/ceph.client.admin.keyring" --catalog "$CATALOG" \
		create "rbd/$v" --size 1M
	sed "s|key = .*|key = $(ceph-authtool --gen-print-key)|" \
		"$dir/ceph.client.rowcat.keyring" >"$SCRATCH/stale.keyring"
	refused_without_change 78 "the cluster refused the key of client.rowcat in $SCRATCH/stale.keyring" \
		rowcat -k "$SCRATCH/stale.keyring" create "rbd/$v" --size 1M
	# no ceph.conf where librados looks (a cluster name of its own, so
	# that no file of the machine's can be found), and no monitor given
	refused_without_change 78 "no Ceph configuration: none of /etc/ceph/rcnone.conf, ~/.ceph/rcnone.conf, ./rcnone.conf exists" \
		env -u CEPH_CONF "$ROWCAT" --cluster rcnone --catalog "$CATALOG" create "rbd/$v" --size 1M
	refused_without_change 78 "no Ceph configuration: \$CEPH_CONF names $SCRATCH/none.conf, which does not exist" \
		env CEPH_CONF="$SCRATCH/none.conf" "$ROWCAT" --catalog "$CATALOG" create "rbd/$v" --size 1M
	refused_without_change 78 "reading $SCRATCH/none.conf: No such file or directory" \
		rowcat -c "$SCRATCH/none.conf" create "rbd/$v" --size 1M
}

# A client whose caps do not allow a step is told which cap it lacks.
test_a_refused_client_is_told_the_cap_it_lacks() {
	rowcat init -q || fail init
	local v ro elsewhere; v=$(volname) ro=client.ro$(volname) elsewhere=client.else$(volname)
	rowcat create "rbd/$v" --size 1M -q || fail create
	ceph auth get-or-create "$ro" mon 'profile rbd' osd 'profile rbd-read-only pool=rbd' \
		-o "$SCRATCH/ro.keyring" 2>/dev/null || fail "ceph auth $ro"
	ceph auth get-or-create "$elsewhere" mon 'profile rbd' osd 'profile rbd pool=other' \
		-o "$SCRATCH/else.keyring" 2>/dev/null || fail "ceph auth $elsewhere"
	# the journal keeps each failed operation; the cluster is as it was
	local cluster; cluster=$(cluster_state)
	expect_refused 1 "$ro may read pool 'rbd' but not write to it (a read-only profile?); rowcat needs osd 'profile rbd pool=rbd' and mon 'profile rbd'" \
		"$ROWCAT" -n "$ro" -k "$SCRATCH/ro.keyring" --catalog "$CATALOG" create "rbd/${v}b" --size 1M
	expect_refused 1 "$elsewhere has no cap on pool 'rbd'; rowcat needs osd 'profile rbd pool=rbd'" \
		"$ROWCAT" -n "$elsewhere" -k "$SCRATCH/else.keyring" --catalog "$CATALOG" create "rbd/${v}b" --size 1M
	expect_refused 1 "$elsewhere has no cap on pool 'rbd'" \
		"$ROWCAT" -n "$elsewhere" -k "$SCRATCH/else.keyring" --catalog "$CATALOG" snap "$v"
	expect_eq "$cluster" "$(cluster_state)" "cluster after the refused client"
	expect_eq 0 "$(running_ops)" "operations left running"
	expect_check_clean "$v"
	ceph auth del "$ro" 2>/dev/null
	ceph auth del "$elsewhere" 2>/dev/null
}

run_tests
