#!/usr/bin/env bash
# rowcat's QMP client (rowcat/qmp.h, driven by tests/support/qmp_drive)
# against a real QEMU whose disk reads an image of the test cluster through
# QEMU's rbd driver: the disk is found, switched to a clone while the VM is
# paused, and the result checked with QMP and with rbd (the watch moved).
# QEMU starts paused (-S) with no guest at all: the block layer is all
# these tests need. Each test boots one QEMU and stops it at its end.
. "$(dirname "$0")/lib.sh"

: "${QMP_DRIVE:?QMP_DRIVE must name the qmp_drive test program}"
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 is not installed"

# qmp ARGS...: the driver on this test's QEMU, 10 s per answer.
qmp() {
	"$QMP_DRIVE" "$SCRATCH/qmp.sock" 10000 "$@"
}

# boot_qemu ARGS...: a paused QEMU with these block options, monitored on
# $SCRATCH/qmp.sock, stopped when the test ends.
boot_qemu() {
	qemu-system-x86_64 -S -machine q35 -accel tcg -nodefaults -display none \
		-qmp "unix:$SCRATCH/qmp.sock,server=on,wait=off" \
		-pidfile "$SCRATCH/qemu.pid" -daemonize "$@" ||
		fail "qemu did not start"
	trap stop_qemu EXIT
}

stop_qemu() {
	local pid
	pid=$(cat "$SCRATCH/qemu.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

# A ceph.conf without the keyring line: a QEMU that reads it can reach the
# cluster only with the key its secret object holds.
conf_without_keyring() {
	grep -v '^keyring' "$CEPH_CONF" >"$SCRATCH/qemu.conf"
	echo "$SCRATCH/qemu.conf"
}

# new_image_and_clone SPEC CLONE: an image with a protected snapshot s and
# its clone, as rowcat's snap makes them.
new_image_and_clone() {
	rbd create --size 16M "$1" || fail "rbd create $1"
	rbd snap create --no-progress "$1@s" >/dev/null || fail "rbd snap create $1@s"
	rbd snap protect "$1@s" || fail "rbd snap protect $1@s"
	rbd clone "$1@s" "$2" || fail "rbd clone $2"
}

# watchers SPEC: how many watchers rbd status shows on the image.
watchers() {
	rbd status --format json "$1" | jq '.watchers | length'
}

# node_field NODE FIELD: a field of the node in query-named-block-nodes.
node_field() {
	qmp exec query-named-block-nodes |
		jq -c --arg n "$1" ".[] | select(.\"node-name\" == \$n) | $2"
}

# write_through_device QDEV PATTERN OFFSET: the guest's device writes 1 MiB
# (HMP's qemu-io on the device's own block backend, as the guest would).
write_through_device() {
	local answer
	answer=$(qmp exec human-monitor-command "$(jq -cn --arg q "$1" --arg p "$2" --arg o "$3" \
		'{"command-line": ("qemu-io -d " + $q + " \"write -P " + $p + " " + $o + " 1M\"")}')") ||
		fail "qemu-io write"
	expect_eq '""' "$answer" "qemu-io's answer"
}

# byte_at SPEC OFFSET: one byte of the image, in hex, as rbd exports it.
byte_at() {
	rbd export --no-progress "$1" - 2>/dev/null |
		od -A n -t x1 -j "$2" -N 1 | tr -d ' '
}

test_switch_of_a_libvirt_style_disk_moves_the_watch_to_the_clone() {
	local img clone clone2 key conf
	img=rbd/$(volname) clone=rbd/$(volname c) clone2=rbd/$(volname d)
	new_image_and_clone "$img" "$clone"
	key=$(ceph auth print-key client.admin) || fail "admin key"
	conf=$(conf_without_keyring)
	boot_qemu \
		-object "secret,id=libvirt-1-storage-auth-secret0,data=$key,format=base64" \
		-blockdev '{"driver":"rbd","pool":"rbd","image":"'"${img#rbd/}"'","conf":"'"$conf"'","user":"admin","auth-client-required":["cephx","none"],"key-secret":"libvirt-1-storage-auth-secret0","node-name":"libvirt-1-storage","cache":{"direct":true,"no-flush":false},"auto-read-only":true,"discard":"unmap"}' \
		-blockdev '{"node-name":"libvirt-1-format","read-only":false,"discard":"unmap","detect-zeroes":"unmap","cache":{"direct":true,"no-flush":false},"driver":"raw","file":"libvirt-1-storage"}' \
		-device virtio-blk-pci,drive=libvirt-1-format,id=virtio-disk0
	local qdev=/machine/peripheral/virtio-disk0/virtio-backend
	expect_eq 1 "$(watchers "$img")" "QEMU's watch on $img before"

	run qmp find "$img"
	expect_eq 0 "$status" "find $img ($err)"
	expect_eq libvirt-1-storage "$(sed -n 1p <<<"$out")" "storage node"
	expect_eq libvirt-1-format "$(sed -n 2p <<<"$out")" "format node"
	expect_eq libvirt-1-storage-auth-secret0 "$(sed -n 3p <<<"$out" | jq -r '."key-secret"')" \
		"the key secret in the storage options"
	expect_eq "$conf" "$(sed -n 3p <<<"$out" | jq -r .conf)" "conf in the storage options"
	local before; before=$(node_field libvirt-1-format '[.ro, .cache, .detect_zeroes]')

	run qmp switch "$img" "$clone" rowcat-1
	expect_eq 0 "$status" "switch to $clone ($err)"
	expect_eq "running running" "$(qmp status)" "the VM runs again"
	expect_eq rowcat-1 "$(qmp child libvirt-1-format)" "the format node's file child"
	expect_eq no "$(qmp exists libvirt-1-storage)" "the old node is gone"
	expect_eq "$before" "$(node_field libvirt-1-format '[.ro, .cache, .detect_zeroes]')" \
		"the format node's options after the reopen"
	expect_eq "${clone#rbd/}" \
		"$(qmp exec query-block | jq -r --arg q "$qdev" '.[] | select(.qdev == $q) |
			.inserted.image.filename | ltrimstr("json:") | fromjson | .file.image')" \
		"the image the device reads (query-block)"
	expect_eq 0 "$(watchers "$img")" "watchers of $img after"
	expect_eq 1 "$(watchers "$clone")" "watchers of $clone after"

	# the guest's writes land in the clone
	write_through_device "$qdev" 0xab 0
	expect_eq ab "$(byte_at "$clone" 0)" "a write after the switch, in the clone"
	expect_eq 00 "$(byte_at "$img" 0)" "the old image untouched"

	# a second switch of the same disk: the secret is libvirt's, named
	# after a node that is gone now
	run qmp find "$clone"
	expect_eq libvirt-1-storage-auth-secret0 "$(sed -n 3p <<<"$out" | jq -r '."key-secret"')" \
		"the key secret found again after a switch"
	rbd snap create --no-progress "$clone@s" >/dev/null && rbd snap protect "$clone@s" &&
		rbd clone "$clone@s" "$clone2" || fail "clone of $clone"
	run qmp switch "$clone" "$clone2" rowcat-2
	expect_eq 0 "$status" "second switch ($err)"
	expect_eq rowcat-2 "$(qmp child libvirt-1-format)" "child after the second switch"
	expect_eq 0 "$(watchers "$clone")" "watchers of $clone after the second switch"
	expect_eq 1 "$(watchers "$clone2")" "watchers of $clone2"
	write_through_device "$qdev" 0xcd 1048576
	expect_eq cd "$(byte_at "$clone2" 1048576)" "a write after the second switch"
	expect_eq ab "$(byte_at "$clone2" 0)" "the first write, read through the chain"

	# recovery's steps are idempotent
	run qmp del rowcat-1
	expect_eq 0 "$status" "blockdev-del of a node that is gone ($err)"
}

test_switch_of_a_drive_in_a_namespace_and_the_refusals() {
	local img=rbd/ns1/$(volname) clone=rbd/ns1/$(volname c) unnamed=rbd/$(volname u)
	new_image_and_clone "$img" "$clone"
	rbd create --size 16M "$unnamed" || fail "rbd create $unnamed"
	boot_qemu -drive "file=rbd:$img:conf=$CEPH_CONF:id=admin,format=raw,if=virtio,node-name=disk0" \
		-drive "file=rbd:$unnamed:conf=$CEPH_CONF:id=admin,format=raw,if=virtio"

	run qmp find "$img"
	expect_eq 0 "$status" "find $img ($err)"
	local storage format
	storage=$(sed -n 1p <<<"$out") format=$(sed -n 2p <<<"$out")
	expect_contains "$storage" "#block" "the rbd node's automatic name"
	expect_eq disk0 "$format" "the format node's name"
	expect_eq ns1 "$(sed -n 3p <<<"$out" | jq -r .namespace)" "namespace in the options"

	run qmp find "$unnamed"
	expect_eq 1 "$status" "find of a -drive without node-name"
	expect_contains "$err" "error ENOTSUP: cannot switch the disk that reads $unnamed on QMP socket $SCRATCH/qmp.sock: its format node #block" \
		"a format node with an automatic name"

	run qmp find "rbd/$(volname)"
	expect_eq 1 "$status" "find of an image in the default namespace"
	expect_contains "$err" "error ENOENT: no block node of QEMU on QMP socket $SCRATCH/qmp.sock reads rbd/$(volname)" \
		"the message names the image and the socket"

	run qmp switch "$img" "$clone" rowcat-1
	expect_eq 0 "$status" "switch ($err)"
	expect_eq rowcat-1 "$(qmp child "$format")" "the format node's file child"
	expect_eq no "$(qmp exists "$storage")" "the -drive's rbd node went with its parent"
	expect_eq 0 "$(watchers "$img")" "watchers of $img after"
	expect_eq 1 "$(watchers "$clone")" "watchers of $clone after"

	# QEMU serves one monitor client at a time
	local holder
	socat -u "UNIX-CONNECT:$SCRATCH/qmp.sock" "OPEN:$SCRATCH/greeting,creat" &
	holder=$!
	while [ ! -s "$SCRATCH/greeting" ]; do sleep 0.1; done
	run "$QMP_DRIVE" "$SCRATCH/qmp.sock" 1000 status
	expect_eq 1 "$status" "status on a busy socket"
	expect_contains "$err" "error ETIMEDOUT: QEMU sent no greeting on QMP socket $SCRATCH/qmp.sock within 1000 ms" \
		"busy socket"
	expect_contains "$err" "is another (libvirt, a second rowcat) connected?" "busy socket's hint"
	kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
	expect_eq "running running" "$(qmp status)" "status once the other client left"

	# QEMU gone
	stop_qemu
	run qmp status
	expect_eq 1 "$status" "status of a QEMU that exited"
	expect_contains "$err" "cannot connect to QMP socket $SCRATCH/qmp.sock" "QEMU gone"
}

# Libvirt itself is not installed here: a fake `virsh` on PATH stands in
# for it, doing what `virsh qemu-monitor-command DOMAIN JSON` does (libvirt
# holds the monitor, gives the command an id of its own, prints the answer).
# It knows one domain, testvm, whose monitor is this test's socket.
fake_virsh() {
	mkdir -p "$SCRATCH/bin"
	cat >"$SCRATCH/bin/virsh" <<-EOF
	#!/usr/bin/env python3
	import json, socket, sys
	if sys.argv[1:2] != ["qemu-monitor-command"] or len(sys.argv) != 4:
	    sys.exit("error: this fake virsh knows qemu-monitor-command DOMAIN JSON only")
	if sys.argv[2] != "testvm":
	    sys.exit("error: failed to get domain '%s'" % sys.argv[2])
	command = json.loads(sys.argv[3])
	if "id" in command:
	    sys.exit("error: internal error: cannot parse json %s: id already present" % sys.argv[3])
	s = socket.socket(socket.AF_UNIX)
	s.connect("$SCRATCH/qmp.sock")
	f = s.makefile("rw")
	json.loads(f.readline())
	f.write('{"execute": "qmp_capabilities"}\n'); f.flush(); f.readline()
	command["id"] = "libvirt-42"
	f.write(json.dumps(command) + "\n"); f.flush()
	while True:
	    answer = json.loads(f.readline())
	    if answer.get("id") == "libvirt-42":
	        break
	print(json.dumps(answer))
	EOF
	chmod +x "$SCRATCH/bin/virsh"
}

test_virsh_transport_switches_the_disk() {
	local img=rbd/$(volname) clone=rbd/$(volname c)
	new_image_and_clone "$img" "$clone"
	boot_qemu \
		-blockdev '{"driver":"rbd","pool":"rbd","image":"'"${img#rbd/}"'","conf":"'"$CEPH_CONF"'","user":"admin","node-name":"libvirt-1-storage"}' \
		-blockdev '{"node-name":"libvirt-1-format","driver":"raw","file":"libvirt-1-storage"}' \
		-device virtio-blk-pci,drive=libvirt-1-format,id=virtio-disk0
	fake_virsh
	export PATH=$SCRATCH/bin:$PATH

	run "$QMP_DRIVE" virsh:testvm 10000 switch "$img" "$clone" rowcat-1
	expect_eq 0 "$status" "switch through virsh ($err)"
	expect_eq rowcat-1 "$("$QMP_DRIVE" virsh:testvm 10000 child libvirt-1-format)" "child through virsh"
	expect_eq "running running" "$("$QMP_DRIVE" virsh:testvm 10000 status)" "status through virsh"
	expect_eq 0 "$(watchers "$img")" "watchers of $img after"
	expect_eq 1 "$(watchers "$clone")" "watchers of $clone after"

	run "$QMP_DRIVE" virsh:othervm 10000 status
	expect_eq 1 "$status" "an unknown domain"
	expect_contains "$err" "virsh qemu-monitor-command othervm query-status failed: error: failed to get domain 'othervm'" \
		"virsh's own message"
	run "$QMP_DRIVE" virsh:testvm 10000 exec blockdev-del '{"node-name":"nosuchnode"}'
	expect_eq 1 "$status" "a refusal through virsh"
	expect_contains "$err" "QEMU refused blockdev-del: Failed to find node with node-name='nosuchnode' (GenericError)" \
		"QEMU's refusal through virsh"
	run env PATH=/nonexistent "$QMP_DRIVE" virsh:testvm 10000 status
	expect_contains "$err" "virsh not found on PATH" "no virsh"
}

run_tests
