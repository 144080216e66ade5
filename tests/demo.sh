#!/usr/bin/env bash
# A real demo on a fresh Debian 12 machine, as root: installs what is
# missing, builds rowcat, starts a throwaway single-node Ceph cluster, and
# runs rowcat against it as the least-privilege client.rowcat, showing what
# Ceph's own rbd says beside it. The cluster is stopped at the end.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash tests/cluster/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

cluster=$(mktemp -d /tmp/rowcat-demo.XXXXXX)
trap 'bash tests/cluster/ceph-cluster.sh stop "$cluster"' EXIT
bash tests/cluster/ceph-cluster.sh start "$cluster"
# shellcheck disable=SC1091
. "$cluster/env"
export ROWCAT_CATALOG=$cluster/catalog.db

show() {
	printf '\n$ %s\n' "$*"
	"$@"
}

export PATH=$top/build/cli:$PATH
show rowcat init
show rowcat --id rowcat create rbd/vol1 --size 64M
show rowcat --id rowcat create rbd/ns1/db1 --size 1G
show rowcat which vol1
show rowcat ls
show rowcat tree vol1
show rowcat tree vol1 --format json
show rbd info "$(rowcat which vol1)"
