#!/usr/bin/env bash
# A throwaway single-node Ceph cluster for tests, demos and benchmarks.
#
#   ceph-cluster.sh start DIR    start one mon and one OSD under DIR
#   ceph-cluster.sh stop DIR     stop them and remove DIR
#   ceph-cluster.sh pause DIR    ceph osd pause (client I/O stops)
#   ceph-cluster.sh unpause DIR  ceph osd unpause
#   ceph-cluster.sh status DIR   ceph -s
#
# Everything lives under DIR: config, keyrings, mon and OSD data, sockets,
# logs, pid files. cephx is on. `start` writes DIR/env, to be sourced: it
# sets CEPH_CONF, so `rbd` and `rowcat` find the cluster as client.admin by
# default and as the least-privilege client with `--id rowcat`
# (mon 'profile rbd', osd 'profile rbd' on the pools rbd and other).
# Pools: rbd (with the namespace ns1) and other, both rbd-initialised.
#
# Environment:
#   ROWCAT_TEST_OBJECTSTORE=bluestore  an OSD on a sparse file instead of
#                                      memstore (benchmarks: memstore hides
#                                      the disk)
#   ROWCAT_TEST_PAXOS_DEFAULT=1        keep the monitor's default proposal
#                                      interval (benchmarks); tests lower it,
#                                      since every snapshot create waits for
#                                      one proposal round
set -euo pipefail

say() { echo "ceph-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_conf() { # DIR PORT FSID
	local dir=$1 port=$2 fsid=$3 store paxos
	store=${ROWCAT_TEST_OBJECTSTORE:-memstore}
	paxos="paxos propose interval = 0.01"
	[ "${ROWCAT_TEST_PAXOS_DEFAULT:-0}" = 1 ] && paxos="# paxos propose interval: Ceph's default"
	cat > "$dir/ceph.conf" <<EOT
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$port
ms bind msgr2 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
run dir = $dir/run
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log

[mon]
mon data = $dir/mon/\$cluster-\$id
mon data avail warn = 1
mon data avail crit = 0
$paxos

[osd]
osd data = $dir/osd/\$cluster-\$id
osd objectstore = $store
memstore device bytes = 8589934592
bluestore block create = true
bluestore block size = 32212254720
osd class load list = *
osd class default list = *
osd memory target = 939524096

[client]
keyring = $dir/ceph.\$name.keyring
admin socket = $dir/run/\$cluster-\$name.\$pid.asok
EOT
}

wait_for() { # SECONDS WHAT CMD... : retries CMD until it succeeds
	local deadline=$(( $(date +%s) + $1 )) what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			say "timed out waiting for $what; log tails:"
			tail -n 20 "$DIR"/log/*.log >&2 || true
			exit 1
		fi
		sleep 0.2
	done
}

osd_is_up() {
	[ "$(ceph osd stat -f json | python3 -c 'import json,sys; print(json.load(sys.stdin)["num_up_osds"])')" = 1 ]
}

start() {
	local port fsid osd_uuid
	[ -e "$DIR/ceph.conf" ] && die "$DIR already holds a cluster"
	mkdir -p "$DIR"/{mon,osd/ceph-0,run,log}
	# a start that fails part-way leaves no daemon behind
	trap 'status=$?; [ $status = 0 ] || { say "start failed"; kill_daemons; }' EXIT
	port=$(free_port)
	fsid=$(uuidgen)
	write_conf "$DIR" "$port" "$fsid"
	export CEPH_CONF=$DIR/ceph.conf

	ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. \
		--cap mon 'allow *' >/dev/null
	ceph-authtool --create-keyring "$DIR/ceph.client.admin.keyring" --gen-key \
		-n client.admin --cap mon 'allow *' --cap osd 'allow *' \
		--cap mgr 'allow *' >/dev/null
	ceph-authtool "$DIR/mon.keyring" \
		--import-keyring "$DIR/ceph.client.admin.keyring" >/dev/null
	monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$port]" \
		"$DIR/monmap" >/dev/null
	ceph-mon --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/mon.keyring"
	ceph-mon -i a 2>>"$DIR/log/daemons.stderr"
	wait_for 30 "the monitor" ceph mon stat

	osd_uuid=$(uuidgen)
	ceph osd new "$osd_uuid" >/dev/null
	ceph auth get-or-create osd.0 mon 'allow profile osd' osd 'allow *' \
		-o "$DIR/osd/ceph-0/keyring" 2>/dev/null
	ceph-osd -i 0 --mkfs --osd-uuid "$osd_uuid" 2>>"$DIR/log/daemons.stderr" ||
		die "ceph-osd --mkfs failed; see $DIR/log/osd.0.log"
	ceph-osd -i 0 2>>"$DIR/log/daemons.stderr"
	wait_for 60 "the OSD" osd_is_up

	local pool
	for pool in rbd other; do
		ceph osd pool create "$pool" 8 8 >/dev/null 2>&1
		timeout 60 rbd pool init "$pool" || die "rbd pool init $pool failed"
	done
	rbd namespace create rbd/ns1
	ceph auth get-or-create client.rowcat mon 'profile rbd' \
		osd 'profile rbd pool=rbd, profile rbd pool=other' \
		-o "$DIR/ceph.client.rowcat.keyring" 2>/dev/null

	printf 'export CEPH_CONF=%q\n' "$DIR/ceph.conf" > "$DIR/env"
	echo "$DIR/env"
}

# Nothing under DIR is worth a clean shutdown: SIGKILL, then wait for exit.
kill_daemons() {
	local pidfile pid pids=()
	for pidfile in "$DIR"/run/*.pid; do
		[ -e "$pidfile" ] || continue
		pid=$(cat "$pidfile")
		kill -KILL "$pid" 2>/dev/null && pids+=("$pid")
	done
	for pid in "${pids[@]}"; do
		while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	done
}

stop() {
	[ -d "$DIR" ] || return 0
	kill_daemons
	rm -rf "$DIR"
}

[ $# -eq 2 ] || die "usage: ceph-cluster.sh start|stop|pause|unpause|status DIR"
DIR=$(realpath -m "$2")
case "$1" in
start) start ;;
stop) stop ;;
pause) CEPH_CONF=$DIR/ceph.conf ceph osd pause ;;
unpause) CEPH_CONF=$DIR/ceph.conf ceph osd unpause ;;
status) CEPH_CONF=$DIR/ceph.conf ceph -s ;;
*) die "unknown command $1" ;;
esac
