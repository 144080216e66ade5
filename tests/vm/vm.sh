#!/usr/bin/env bash
# A real QEMU guest for the live-volume tests: Debian's kernel, a busybox
# initramfs built here, and guest_writer (tests/vm/guest_writer.c) writing
# numbered records to its disk, an RBD image read through QEMU's rbd
# driver, each write acknowledged on the serial console.
#
#   vm.sh start DIR POOL[/NS]/IMAGE   boot the guest in the background; return
#                                     once it has acknowledged its first records
#   vm.sh qmp DIR 'JSON-COMMAND'      one QMP command; prints its "return"
#   vm.sh stop DIR                    QMP quit, and wait until QEMU has ended
#   vm.sh acked DIR                   the highest record N acknowledged so far
#                                     (-1: none)
#   vm.sh wait-acked DIR N            wait until record N is acknowledged
#   vm.sh nonce DIR                   the boot's nonce, as the records hold it
#   vm.sh storage-node POOL[/NS]/IMAGE NODE
#                                     the rbd node's options as JSON, as start
#                                     gives them (blockdev-add arguments for a
#                                     switch to IMAGE)
#   vm.sh prepare                     only fetch the kernel into the cache
#   vm.sh accel                       kvm or tcg: what start would use
#
# DIR holds what one guest leaves: qmp.sock (QMP, one client at a time),
# console.log (the guest's serial console: "nonce HEX", "ack N",
# "ioerr N ERRNO", "end N"), qemu.pid, qemu.log, initramfs.gz.
#
# The disk is configured with -blockdev as libvirt does: a protocol node
# "libvirt-1-storage" (driver rbd: pool, namespace, image, conf, user) under
# a format node "libvirt-1-format" (driver raw), both with libvirt's
# cache='none' options, attached to a virtio-blk-pci device "virtio-disk0".
#
# Environment:
#   CEPH_CONF            the cluster's config (tests/cluster's DIR/env sets it)
#   ROWCAT_VM_USER       the Ceph client QEMU connects as (default admin)
#   ROWCAT_VM_CACHE      where Debian's kernel is kept between runs (default
#                        /var/cache/rowcat-vm, or ~/.cache/rowcat-vm when that
#                        is not writable)
#   ROWCAT_VM_ACCEL      kvm or tcg (default: kvm when /dev/kvm opens
#                        read-write and the CPU has vmx or svm)
#   ROWCAT_VM_DELAY_US   guest pause between records (default 0)
#   ROWCAT_VM_COUNT      records to write (default 0: until the disk is full)
#   ROWCAT_VM_LIMIT      seconds that start and stop wait at most before they
#                        report failure (default 300)
#   ROWCAT_VM_EVENTS=1   a second QMP monitor, DIR/events.sock, for a watcher
#                        of QEMU's events while rowcat holds qmp.sock
#                        (bench/live_watch.py)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STORAGE_NODE=libvirt-1-storage
FORMAT_NODE=libvirt-1-format
# the guest's modules, dependencies resolved from the kernel package
WANTED_MODULES="virtio_pci virtio_blk"

say() { echo "vm.sh: $*" >&2; }
die() { say "$*"; exit 1; }

cache_dir() {
	local dir=${ROWCAT_VM_CACHE:-}
	if [ -z "$dir" ]; then
		dir=/var/cache/rowcat-vm
		if ! mkdir -p "$dir" 2>/dev/null || [ ! -w "$dir" ]; then
			dir=${XDG_CACHE_HOME:-$HOME/.cache}/rowcat-vm
		fi
	fi
	mkdir -p "$dir" || die "cannot create the cache $dir"
	echo "$dir"
}

# kernel_package: the package linux-image-amd64 points at today.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}

# module_deps KO: the modules KO depends on (its .modinfo "depends=").
module_deps() {
	tr '\0' '\n' < "$1" | sed -n 's/^depends=//p' | tr ',' ' '
}

# add_module TREE NAME OUT: copies NAME's .ko and, first, its dependencies
# into OUT, and appends each to OUT/load in the order insmod needs.
add_module() {
	local tree=$1 name=$2 out=$3 ko dep
	grep -qx "$name" "$out/load" 2>/dev/null && return 0
	ko=$(find "$tree" -name "$name.ko" -print -quit)
	[ -n "$ko" ] || die "module $name not in $tree (built in? see the kernel's config)"
	for dep in $(module_deps "$ko"); do
		add_module "$tree" "$dep" "$out"
	done
	cp "$ko" "$out/"
	echo "$name" >> "$out/load"
}

# fetch_kernel: prints the directory holding vmlinuz and the guest's
# modules (with "load", their insmod order), fetching Debian's kernel
# package into the cache the first time. Nothing is installed.
fetch_kernel() {
	local cache pkg dir work
	cache=$(cache_dir)
	pkg=$(kernel_package)
	if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -qq >&2 || true
		pkg=$(kernel_package)
	fi
	if [ -z "$pkg" ]; then
		# no package lists (offline): the newest kernel already cached
		dir=$(find "$cache" -maxdepth 2 -name ready -printf '%h\n' 2>/dev/null | sort -V | tail -n 1)
		[ -n "$dir" ] || die "cannot resolve linux-image-amd64 (apt-cache depends) and nothing is cached in $cache"
		echo "$dir"
		return 0
	fi
	dir=$cache/$pkg
	exec 9>"$cache/.lock"
	flock 9
	if [ ! -e "$dir/ready" ]; then
		say "fetching $pkg into $cache"
		work=$(mktemp -d "$cache/.fetch.XXXXXX")
		# every step in a subshell, so that a failing one leaves no
		# half-made directory in the cache
		if ! (
			set -e
			cd "$work"
			apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2
			dpkg-deb -x ./*.deb x
			mkdir -p out/modules
			cp x/boot/vmlinuz-* out/vmlinuz
			cp x/boot/config-* out/config
			: > out/modules/load
			for m in $WANTED_MODULES; do
				add_module x/lib/modules "$m" out/modules
			done
		); then
			rm -rf "$work"
			die "fetching and unpacking $pkg failed"
		fi
		rm -rf "$dir"
		mv "$work/out" "$dir"
		rm -rf "$work"
		touch "$dir/ready"
	fi
	exec 9>&-
	echo "$dir"
}

# build_initramfs KERNEL_DIR OUT: busybox, /init, guest_writer and the
# modules, as a gzipped newc cpio archive.
build_initramfs() {
	local kdir=$1 out=$2 root
	root=$(mktemp -d "${TMPDIR:-/tmp}/rowcat-vm-root.XXXXXX")
	mkdir -p "$root"/{bin,dev,proc,sys,lib/modules}
	cp /bin/busybox "$root/bin/busybox"
	cp "$HERE/init.sh" "$root/init"
	chmod 755 "$root/init"
	cp "$kdir"/modules/* "$root/lib/modules/"
	# static and outside the project's flags: the ASan build never sees it
	cc -static -O2 -Wall -Wextra -o "$root/bin/guest_writer" "$HERE/guest_writer.c" ||
		{ rm -rf "$root"; die "cannot build guest_writer"; }
	(cd "$root" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) > "$out" ||
		{ rm -rf "$root"; die "cannot pack the initramfs"; }
	rm -rf "$root"
}

# accel: kvm when /dev/kvm opens read-write and the CPU offers hardware
# virtualization, else tcg. The second condition is no formality: a
# /dev/kvm backed by PVM (a software KVM in some cloud sandboxes, seen as
# "nested_pvm=1") opens fine but runs only PVM-built guest kernels; a stock
# Debian kernel hangs there without a line on the console.
accel() {
	if [ -n "${ROWCAT_VM_ACCEL:-}" ]; then
		echo "$ROWCAT_VM_ACCEL"
	elif (exec 3<>/dev/kvm) 2>/dev/null && grep -q -w -E 'vmx|svm' /proc/cpuinfo; then
		echo kvm
	else
		echo tcg
	fi
}

accel_args() { # ACCEL
	local accel=$1
	case $accel in
	kvm) echo "-machine q35,accel=kvm -cpu host" ;;
	tcg) echo "-machine q35,accel=tcg" ;;
	*) die "ROWCAT_VM_ACCEL must be kvm or tcg, not $accel" ;;
	esac
}

# storage_node POOL[/NS]/IMAGE NODE: the rbd protocol node's options, as
# JSON (also the blockdev-add arguments for a switch to another image).
storage_node() {
	local spec=$1 node=$2 pool ns="" image
	pool=${spec%%/*}
	image=${spec##*/}
	case $spec in */*/*) ns=${spec#*/}; ns=${ns%/*} ;; esac
	python3 - "$node" "$pool" "$ns" "$image" "$CEPH_CONF" "${ROWCAT_VM_USER:-admin}" <<'EOF'
import json, sys
node, pool, ns, image, conf, user = sys.argv[1:]
o = {"driver": "rbd", "node-name": node, "pool": pool, "image": image,
     "conf": conf, "user": user, "auto-read-only": True, "discard": "unmap",
     "cache": {"direct": True, "no-flush": False}}
if ns:
    o["namespace"] = ns
print(json.dumps(o))
EOF
}

qemu_pid() {
	[ -s "$1/qemu.pid" ] && cat "$1/qemu.pid"
}

# alive PID: the process exists and is no zombie.
alive() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[ "${state:0:1}" != Z ]
}

acked() {
	local n copy
	copy=$(mktemp) || die "mktemp"
	cat "$1/console.log" >"$copy" 2>/dev/null || true
	# a line the guest is still writing is no ack yet: "ack 147" may be
	# the first bytes of "ack 1473"
	[ -z "$(tail -c 1 "$copy")" ] || sed -i '$d' "$copy"
	n=$(tr -d '\r' < "$copy" | grep -a -E '^ack [0-9]+$' | tail -n 1 | cut -d' ' -f2) || true
	rm -f "$copy"
	echo "${n:--1}"
}

# launch DIR SPEC KDIR ACCEL: starts QEMU (daemonized) with accelerator
# ACCEL, the guest's disk SPEC; ROWCAT_VM_EVENTS=1 adds a second monitor,
# DIR/events.sock, for a watcher of QEMU's events beside rowcat.
launch() {
	local dir=$1 spec=$2 kdir=$3 accel=$4
	rm -f "$dir/console.log" "$dir/qmp.sock" "$dir/events.sock" "$dir/qemu.pid" "$dir/qemu.log"
	local -a events=()
	[ "${ROWCAT_VM_EVENTS:-0}" = 1 ] &&
		events=(-qmp "unix:$dir/events.sock,server=on,wait=off")
	# shellcheck disable=SC2046
	qemu-system-x86_64 -name rowcat-test-vm $(accel_args "$accel") -m 256 -smp 1 \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$dir/initramfs.gz" \
		-append "console=ttyS0 panic=-1 loglevel=4 rowcat.delay_us=${ROWCAT_VM_DELAY_US:-0} rowcat.count=${ROWCAT_VM_COUNT:-0}" \
		-serial "file:$dir/console.log" \
		-blockdev "$(storage_node "$spec" "$STORAGE_NODE")" \
		-blockdev "{\"node-name\":\"$FORMAT_NODE\",\"driver\":\"raw\",\"file\":\"$STORAGE_NODE\",\"read-only\":false,\"discard\":\"unmap\",\"cache\":{\"direct\":true,\"no-flush\":false}}" \
		-device virtio-blk-pci,drive=$FORMAT_NODE,id=virtio-disk0,write-cache=on \
		-qmp "unix:$dir/qmp.sock,server=on,wait=off" "${events[@]}" \
		-pidfile "$dir/qemu.pid" -D "$dir/qemu.log" -daemonize 2>>"$dir/qemu.log" || {
		say "qemu-system-x86_64 ($accel) did not start:"
		tail -n 5 "$dir/qemu.log" >&2
		return 1
	}
}

cmd_start() {
	local dir=$1 spec=$2 kdir accel
	: "${CEPH_CONF:?CEPH_CONF must name the cluster config file}"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ -e "$dir/qemu.pid" ] && alive "$(qemu_pid "$dir")" && die "a guest already runs in $dir"
	kdir=$(fetch_kernel)
	build_initramfs "$kdir" "$dir/initramfs.gz"
	accel=$(accel)
	rm -f "$dir/accel"
	# the guest is up once it has written a few records
	if ! launch "$dir" "$spec" "$kdir" "$accel" || ! wait_acked "$dir" 2; then
		(cmd_stop "$dir") >/dev/null 2>&1 || true
		# a /dev/kvm that cannot run this guest ends QEMU before the
		# guest printed a byte: TCG runs it, slower
		if [ "$accel" = kvm ] && [ ! -s "$dir/console.log" ] &&
		   [ -z "${ROWCAT_VM_ACCEL:-}" ]; then
			say "KVM could not run the guest; starting it under TCG"
			launch "$dir" "$spec" "$kdir" tcg && wait_acked "$dir" 2 &&
				{ echo tcg >"$dir/accel"; return 0; }
			(cmd_stop "$dir") >/dev/null 2>&1 || true
		fi
		exit 1
	fi
	echo "$accel" >"$dir/accel"
}

# wait_acked DIR N: waits until the guest has acknowledged record N. Fails
# (with the console's tail) when the guest reports an I/O error, fills its
# disk first, or QEMU ends; the limit (ROWCAT_VM_LIMIT) only reports a hang.
wait_acked() {
	local dir=$1 want=$2 pid limit deadline
	pid=$(qemu_pid "$dir") || die "no guest in $dir"
	limit=${ROWCAT_VM_LIMIT:-300}
	deadline=$(( $(date +%s) + limit ))
	until [ "$(acked "$dir")" -ge "$want" ]; do
		if tr -d '\r' < "$dir/console.log" | grep -a -q -E '^(ioerr|end) '; then
			say "the guest stopped writing before record $want:"
			tail -n 5 "$dir/console.log" >&2
			return 1
		fi
		if ! alive "$pid"; then
			say "QEMU ended before the guest acknowledged record $want; console and log:"
			tail -n 20 "$dir/console.log" "$dir/qemu.log" >&2 || true
			return 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			say "record $want not acknowledged after $limit s; console:"
			tail -n 20 "$dir/console.log" >&2 || true
			return 1
		fi
		sleep 0.1
	done
}

cmd_qmp() {
	python3 "$HERE/qmp.py" "$1/qmp.sock" "$2"
}

cmd_stop() {
	local dir=$1 pid limit deadline
	pid=$(qemu_pid "$dir") || die "no guest in $dir"
	alive "$pid" || { rm -f "$dir/qemu.pid"; return 0; }
	cmd_qmp "$dir" '{"execute":"quit"}' >/dev/null || say "QMP quit failed"
	limit=${ROWCAT_VM_LIMIT:-300}
	deadline=$(( $(date +%s) + limit ))
	while alive "$pid"; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			say "QEMU $pid still runs $limit s after quit; killing it"
			kill -9 "$pid" 2>/dev/null || true
			return 1
		fi
		sleep 0.1
	done
	rm -f "$dir/qemu.pid"
}

case ${1:-} in
start) [ $# = 3 ] || die "usage: vm.sh start DIR POOL[/NS]/IMAGE"; cmd_start "$2" "$3" ;;
qmp) [ $# = 3 ] || die "usage: vm.sh qmp DIR 'JSON-COMMAND'"; cmd_qmp "$2" "$3" ;;
stop) [ $# = 2 ] || die "usage: vm.sh stop DIR"; cmd_stop "$2" ;;
acked) [ $# = 2 ] || die "usage: vm.sh acked DIR"; acked "$2" ;;
wait-acked) [ $# = 3 ] || die "usage: vm.sh wait-acked DIR N"; wait_acked "$2" "$3" ;;
accel) accel ;;
nonce) [ $# = 2 ] || die "usage: vm.sh nonce DIR"
	tr -d '\r' < "$2/console.log" | grep -a -m 1 -E '^nonce [0-9a-f]{16}$' | cut -d' ' -f2 ;;
storage-node) [ $# = 3 ] || die "usage: vm.sh storage-node POOL[/NS]/IMAGE NODE"
	: "${CEPH_CONF:?CEPH_CONF must name the cluster config file}"; storage_node "$2" "$3" ;;
prepare) fetch_kernel >/dev/null ;;
*) die "usage: vm.sh start|qmp|stop|acked|wait-acked|nonce|storage-node|prepare|accel ..." ;;
esac
