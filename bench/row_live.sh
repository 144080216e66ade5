# Row 8: a live snap's pause of a running guest against the bare librbd
# sequence (sourced by run.sh).

# live_events WATCH T0 T1: "STOP RESUME" of the QMP events QEMU stamped
# between T0 and T1 (host real-time seconds), and "GAP": the longest time
# between two of the guest's acks that spans them; empty fields when
# something is missing (median then stops the run).
live_events() {
	awk -v t0="$2" -v t1="$3" '
		$1 == "event" && $2 == "STOP" && $3 >= t0 && $3 <= t1 && !stop { stop = $3 }
		$1 == "event" && $2 == "RESUME" && $3 >= t0 && $3 <= t1 && stop { resume = $3 }
		$1 == "ack" { if (!stop || $3 < stop) before = $3; else if (resume && $3 > resume && !after) after = $3 }
		END {
			if (stop && resume) printf "%.1f", (resume - stop) * 1000; else printf "-"
			if (before && after) printf " %.1f\n", (after - before) * 1000; else printf " -\n"
		}' "$1"
}

# live_round N SPEC DIR GAP: one round of row 8 in a rotating order, each
# way after GAP seconds of quiet: the live snap of volume lv, and the bare
# sequence on the chains p (protected, lock held by another client), n
# (not protected, clone format 2, lock held) and u (protected, nobody holds
# the lock). Prints "PAUSED_MS SNAP_MS T0 T1 P_TOTAL P_CREATE P_PROTECT
# P_CLONE N_TOTAL N_CREATE N_PROTECT N_CLONE U_TOTAL".
live_round() {
	local n=$1 spec=$2 dir=$3 gap=$4 way t0 t1 answer
	local paused="" wall="" p="" nprot="" u=""
	for way in $(printf '%s\n' live p n u live p n | tail -n +$((n % 4 + 1)) | head -4); do
		sleep "$gap"
		case $way in
		live)
			t0=$EPOCHREALTIME
			wall=$(time_ms rc snap lv "s$n" --qmp "$dir/qmp.sock")
			t1=$EPOCHREALTIME
			paused=$(rc log lv --format json |
				jq -r --arg s "s$n" '.[] | select(.operation == "snap" and .snapshot == $s) | .paused_ms')
			;;
		p | n)
			librbd_ask hold "$spec" "$way$((n - 1))" >/dev/null
			answer=$(librbd_ask chain "$spec" "$way$((n - 1))" s "$way$n" \
				"$([ "$way" = p ] && echo protect || echo noprotect)")
			[ "$way" = p ] && p=$answer || nprot=$answer
			;;
		u)
			u=$(librbd_ask seq "$spec" "u$((n - 1))" s "u$n")
			;;
		esac
	done
	echo "$paused $wall $t0 $t1 $p $nprot $u"
}

# spread N FILE: the fastest and slowest of column N in FILE.
spread() {
	column "$1" <"$2" | sort -g | sed -n '1p;$p' | paste -sd' ' |
		awk '{ printf "%.0f to %.0f", $1, $2 }'
}

row_live() {
	local reps=15 gap=2 spec dir n watch_pid watch_in i
	[ "$quick" = 1 ] && reps=2 gap=0.1
	spec=$(namespace live)
	paxos 1
	dir=$work/vm
	say "row 8: booting the guest ($(bash "$top/tests/vm/vm.sh" accel)), $reps live snaps against the bare sequence"
	rc create "$spec/lv" --size 1G || bench_fail "create lv"
	for i in p n u; do
		rbd create "$spec/${i}0" --size 1G --image-feature "$features" ||
			bench_fail "rbd create ${i}0"
	done
	ROWCAT_VM_EVENTS=1 bash "$top/tests/vm/vm.sh" start "$dir" "$(rc which lv)" ||
		bench_fail "the guest did not boot"
	# the watcher reads QEMU's events and the guest's acks until its
	# stdin closes
	exec {watch_in}> >(exec python3 "$top/bench/live_watch.py" "$dir/events.sock" \
		"$dir/console.log" >"$work/live.watch")
	watch_pid=$!
	for i in $(seq 100); do
		grep -q '^ready' "$work/live.watch" 2>/dev/null && break
		sleep 0.1
	done
	grep -q '^ready' "$work/live.watch" || bench_fail "live_watch.py did not connect"
	librbd_start
	: >"$work/live.rounds"
	for n in $(seq "$reps"); do
		live_round "$n" "$spec" "$dir" "$gap" >>"$work/live.rounds"
	done
	librbd_stop
	local acked_end
	acked_end=$(bash "$top/tests/vm/vm.sh" acked "$dir")
	exec {watch_in}>&-
	wait "$watch_pid" 2>/dev/null || true

	# the harness checks what it timed: the guest runs on the newest clone
	# and wrote on after the last snap, without an I/O error; every clone
	# has its parent
	[ "$(bash "$top/tests/vm/vm.sh" qmp "$dir" '{"execute":"query-status"}' | jq -r .status)" = running ] ||
		bench_fail "the guest is not running after the live snaps"
	bash "$top/tests/vm/vm.sh" wait-acked "$dir" $((acked_end + 20)) ||
		bench_fail "the guest stopped writing"
	[ "$(rbd status --format json "$(rc which lv)" | jq '.watchers | length')" = 1 ] ||
		bench_fail "the guest does not watch the operating image"
	bash "$top/tests/vm/vm.sh" stop "$dir" >/dev/null || bench_fail "stopping the guest"
	for n in $(seq "$reps"); do
		for i in p n u; do
			[ "$(rbd info --format json "$spec/$i$n" | jq -r .parent.image)" = "$i$((n - 1))" ] ||
				bench_fail "$spec/$i$n is not a clone of $i$((n - 1))"
		done
	done
	[ "$(rbd info --format json "$spec/n$reps" | jq -r '.op_features | index("clone-child") != null')" = true ] ||
		bench_fail "$spec/n$reps is no format 2 clone"

	# QEMU's own stamps on STOP and RESUME, and the acks' gap, per round
	: >"$work/live.outside"
	while read -r paused wall t0 t1 rest; do
		echo "$(live_events "$work/live.watch" "$t0" "$t1")"
	done <"$work/live.rounds" >"$work/live.outside"

	local paxos_now m_paused m_event m_gap m_wall m_p m_pc m_pp m_pk m_n m_nc m_nk m_u
	paxos_now=$(paxos_setting)
	m_paused=$(column 1 <"$work/live.rounds" | median) || bench_fail "a live snap logged no pause"
	m_wall=$(column 2 <"$work/live.rounds" | median)
	m_p=$(column 5 <"$work/live.rounds" | median)
	m_pc=$(column 6 <"$work/live.rounds" | median)
	m_pp=$(column 7 <"$work/live.rounds" | median)
	m_pk=$(column 8 <"$work/live.rounds" | median)
	m_n=$(column 9 <"$work/live.rounds" | median)
	m_nc=$(column 10 <"$work/live.rounds" | median)
	m_nk=$(column 12 <"$work/live.rounds" | median)
	m_u=$(column 13 <"$work/live.rounds" | median)
	m_event=$(column 1 <"$work/live.outside" | median) ||
		bench_fail "QEMU's STOP and RESUME events missing for a round"
	m_gap=$(column 2 <"$work/live.outside" | median) ||
		bench_fail "no ack on both sides of a pause"
	cat <<EOT
## 8. The guest's pause in a live snap

A running guest (tests/vm/: QEMU $(qemu-system-x86_64 --version | awk 'NR == 1 { print $4 }'),
$(bash "$top/tests/vm/vm.sh" accel | tr a-z A-Z), Debian's kernel, a busybox initramfs)
whose disk is a volume's operating image through QEMU's rbd driver writes
numbered records with direct, synchronous I/O. Each round takes one live
snap (\`rowcat snap lv --qmp SOCKET\`: stop, snapshot and protect (one open), clone,
blockdev-add, blockdev-reopen, blockdev-del, cont, tag) and the bare librbd
sequence (\`bench/bench_rbd\`, one connected process: open, snapshot create,
protect, close, clone) on three chains of images, in an order that
rotates, each ${gap} s after the one before. Every chain grows one clone a
round, as the volume does, so each round compares images of the same
depth (0 to $((reps - 1))). On chains p and n another client (a second
connection of bench_rbd) holds the image open and owns its exclusive
lock, as the guest's QEMU does, and moves to the new clone after each
sequence, as the guest does; chain u has no other client. Chain n skips
the protect and clones in format 2. paxos_propose_interval $paxos_now.
Medians of $reps rounds.

The pause is measured three ways: rowcat's own (\`paused_ms\` of
\`rowcat log\`: from QEMU's answer to \`stop\` to its answer to \`cont\`);
QEMU's time stamps on its STOP and RESUME events, read on a second
monitor; and the longest time between two records the guest acknowledged
across the pause (the guest's view: it includes the write in flight
around it, and the first write to the clone copies its object up).

| what | median | rounds' range |
|---|---|---|
| live snap: guest paused, rowcat's \`paused_ms\` | $m_paused ms | $(spread 1 "$work/live.rounds") ms |
| live snap: guest paused, QEMU's STOP to RESUME | $m_event ms | $(spread 1 "$work/live.outside") ms |
| live snap: longest gap between the guest's acks | $m_gap ms | $(spread 2 "$work/live.outside") ms |
| live snap: the whole \`rowcat snap\` (process, connect, journal) | $m_wall ms | $(spread 2 "$work/live.rounds") ms |
| bare sequence, lock held by another client (chain p) | $m_p ms | $(spread 5 "$work/live.rounds") ms |
| &nbsp;&nbsp;of it: snapshot create / protect / clone | $m_pc / $m_pp / $m_pk ms | |
| bare sequence without protect, clone format 2, lock held (chain n) | $m_n ms | $(spread 9 "$work/live.rounds") ms |
| &nbsp;&nbsp;of it: snapshot create / clone | $m_nc / $m_nk ms | |
| bare sequence, nobody holds the lock (chain u) | $m_u ms | $(spread 13 "$work/live.rounds") ms |
| pause - bare sequence (p): goal at most 150 ms | $(awk -v a="$m_paused" -v b="$m_p" 'BEGIN { printf "%.1f", a - b }') ms | |
| pause / bare sequence (p) | $(ratio "$m_paused" "$m_p") | |

EOT
}
