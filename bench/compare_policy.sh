#!/usr/bin/env bash
# Row 4's comparison of builds and settings, side by side in one run:
#
#   bench/compare_policy.sh CLUSTER_DIR ROUNDS LABEL:ROWCAT:JOBS...
#
# One set of COMPARE_VOLUMES (default 100) fresh 1 GiB volumes per LABEL
# (in a namespace of its own, one file catalog for all), then ROUNDS
# rounds: each runs every set's `rowcat policy run` once (ROWCAT, the
# binary to time; JOBS, its --jobs, or - for its default), the sets'
# order rotated each round and the policy time an hour later each round,
# so every round deepens every volume by one. CLUSTER_DIR is a cluster
# tests/cluster/ceph-cluster.sh started (bench/RESULTS.md row 4 says
# which). Prints a line per run:
# round, depth before it, label, wall ms, CPU s (user + sys), peak RSS
# MiB, 1-minute load average as it ended.
set -euo pipefail
cluster=$1 rounds=$2
shift 2
sets=("$@")
# shellcheck disable=SC1091
. "$cluster/env"
dir=$(mktemp -d "${TMPDIR:-/tmp}/compare-policy.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cat=$dir/catalog.db
first=${sets[0]#*:}
"${first%%:*}" --catalog "$cat" init -q
for set in "${sets[@]}"; do
	label=${set%%:*} rest=${set#*:}
	ns=cmp-$label-$$
	rbd namespace create "rbd/$ns"
	printf 'version: 1\npolicies:\n  - name: b\n    volumes: ["rbd/%s/*"]\n    every: 1h\n    max_depth: 100\n' \
		"$ns" >"$dir/$label.yaml"
	seq -f "${label}v%04g" "${COMPARE_VOLUMES:-100}" |
		xargs -P4 -I{} "${rest%%:*}" --catalog "$cat" -q create "rbd/$ns/{}" --size 1G
done
t0=1577836800 # 2020-01-01T00:00:00Z: policy times are the run's own
n=${#sets[@]}
for round in $(seq "$rounds"); do
	for k in $(seq 0 $((n - 1))); do
		set=${sets[$(((k + round) % n))]}
		label=${set%%:*} rest=${set#*:}
		bin=${rest%%:*} jobs=${rest#*:}
		extra=()
		[ "$jobs" = - ] || extra=(--jobs "$jobs")
		now=$(date -u -d "@$((t0 + round * 3600))" +%Y-%m-%dT%H:%M:%SZ)
		start=$EPOCHREALTIME
		/usr/bin/time -f '%U %S %M' -o "$dir/time" "$bin" --catalog "$cat" -q \
			policy run "$dir/$label.yaml" --now "$now" "${extra[@]}" >/dev/null
		end=$EPOCHREALTIME
		read -r user sys kib <"$dir/time"
		awk -v r="$round" -v l="$label" -v s="$start" -v e="$end" -v u="$user" \
			-v y="$sys" -v k="$kib" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
			'BEGIN { printf "%d %d %s %.0f %.2f %d %s\n", r, r - 1, l,
				(e - s) * 1000, u + y, k / 1024, load }'
	done
done
