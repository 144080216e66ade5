#!/usr/bin/env bash
# Installs, as root, every Debian package that rowcat's build, tests, demo
# and benchmarks need, when any is missing. Does nothing when all are there.
set -euo pipefail

packages=(
	# build
	build-essential cmake pkg-config libsqlite3-dev libyaml-dev
	libjson-c-dev libcmocka-dev librbd-dev librados-dev libsmartcols-dev
	# the man pages (scdoc builds them, man-db renders them in the tests)
	# and bash-completion (its completionsdir, and loading on demand)
	scdoc man-db bash-completion
	# the throwaway cluster and Ceph's own tools to check against
	ceph-mon ceph-osd ceph-common
	# Ceph's SQLite VFS: a catalog in RADOS (rowcat loads it with dlopen)
	libsqlite3-mod-ceph
	# test and benchmark helpers
	sqlite3 jq python3 time util-linux uuid-runtime clang procps fio strace
	# bench row 11's plot (an SVG, no X)
	gnuplot-nox
	# tree --format dot rendered by Graphviz (test_tree, test_tree_history)
	graphviz
	# libFuzzer for the policy parser's fuzz target; zone files for policies
	libclang-rt-14-dev tzdata
	# systemd-analyze, to verify the gc units cmake --install ships
	systemd
	# QEMU with its rbd driver: the QMP client's tests (no guest) and the
	# live-volume tests' guest (tests/vm/), busybox for its initramfs (its
	# kernel is fetched by tests/vm/vm.sh into a cache, never installed);
	# socat holds a QMP socket busy in test_qmp.sh
	qemu-system-x86 qemu-block-extra busybox-static socat
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the ceph packages from starting services of their own
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod +x "$policy"
	created_policy=1
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[ "$created_policy" = 1 ] && rm -f "$policy"
exit 0
