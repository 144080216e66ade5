# Row 11: a VM-like load under periodic snapshots, ROW against native
# (sourced by run.sh).
#
# Every series is one image (native, plain) or one volume (ROW) under the
# same fio load: random 4 KiB reads and writes, 70% writes, iodepth 16,
# over the first WS bytes of the image (the working set). Time runs in
# steps; in each step every series runs one fio segment on the image it
# writes now (for a volume: its operating image, which moves with every
# snapshot, so fio is started anew each step, and native and plain are
# treated alike), then every series but plain takes one snapshot. The
# order of the series rotates from step to step, so the machine's load
# falls on all of them alike.

# The series: KIND:WS_PERCENT. Kinds:
#   plain     no snapshot ever (the reference)
#   native    rbd snap create on the image fio keeps writing
#   row       rowcat volume, policy run, max_depth 1000 (never flattens)
#   rowmd     rowcat volume, policy run, max_depth $wl_md (flattens)
#   native1m  native with 1 MiB objects
#   row1m     row with 1 MiB objects (rbd_default_order 20 when created:
#             rowcat creates images with rbd's default order, and a clone
#             keeps its parent's)
#   rowcor    row read by a client with rbd_clone_copy_on_read = true
wl_kinds="plain native row rowmd native1m row1m rowcor"

# wl_image KIND WS : the image fio writes now for series KIND:WS.
wl_image() {
	local name="w11$1-$2-$run_id" image
	case $1 in
	row*)
		image=$(rc which "$name") || bench_fail "rowcat which $name"
		echo "${image#rbd/}"
		;;
	*) echo "$name" ;;
	esac
}

# wl_segment KIND WS STEP : one fio segment; appends
# "KIND WS STEP IOPS READ_P99_US WRITE_P99_US WRITES" to $work/workload.
wl_segment() {
	local kind=$1 ws=$2 step=$3 image out=$work/fio-wl-$1-$2-$3 conf=$CEPH_CONF
	image=$(wl_image "$kind" "$ws")
	[ "$kind" = rowcor ] && conf=$work/cor.conf
	# the same random offsets for every series in a step, new ones each step
	CEPH_CONF=$conf fio_json "$out" "$image" --rw=randrw --rwmixread=30 \
		--size="${wl_ws_bytes[$ws]}" --time_based --runtime="$wl_runtime" \
		--randseed=$((1000 + step))
	python3 - "$out" "$kind $ws $step" >>"$work/workload" <<'EOF' ||
import json, sys
job = json.load(open(sys.argv[1]))["jobs"][0]
r, w = job["read"], job["write"]
if r["total_ios"] == 0 or w["total_ios"] == 0:
    sys.exit(1)
p99 = lambda d: d["clat_ns"]["percentile"]["99.000000"] / 1e3
print("%s %.0f %.0f %.0f %d" % (sys.argv[2], r["iops"] + w["iops"], p99(r), p99(w),
                                w["total_ios"]))
EOF
		bench_fail "fio on $image did not both read and write"
}

# wl_snapshots STEP : one snapshot of every series but plain; appends
# "STEP NATIVE_MS POLICY_RUN_MS FLATTENED" to $work/workload-snaps.
wl_snapshots() {
	local step=$1 kind ws native_ms=0 ms now flattened
	for kind in native native1m; do
		for ws in $wl_fractions; do
			ms=$(time_ms rbd snap create "rbd/w11$kind-$ws-$run_id@s$step" --no-progress)
			native_ms=$(awk -v a="$native_ms" -v b="$ms" 'BEGIN { print a + b }')
		done
	done
	# a policy's "every 1h" due each step: --now runs an hour a step ahead
	now=$(date -u -d "+$step hour" +%Y-%m-%dT%H:%M:%SZ)
	local start=$EPOCHREALTIME
	rc policy run "$work/workload.yaml" --now "$now" --format json \
		>"$work/policy-$step.json" 2>"$work/cmd.err" ||
		bench_fail "policy run at step $step: $(cat "$work/cmd.err")"
	ms=$(awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.0f\n", (e - s) * 1000 }')
	flattened=$(jq -r '[.[] | select(.outcome != "ok" or .due != true) | .volume] | join(",")' \
		"$work/policy-$step.json")
	[ -z "$flattened" ] || bench_fail "policy run at step $step: no snapshot of $flattened"
	flattened=$(jq -r '[.[] | select(.flattened != null) | .volume | ltrimstr("w11") | split("-")[0:2] | join("/")] | join(",")' \
		"$work/policy-$step.json")
	echo "$step $native_ms $ms ${flattened:--}" >>"$work/workload-snaps"
}

# wl_check STEP : every series has the snapshots and depth it should.
wl_check() {
	local step=$1 ws kind count depth want
	for ws in $wl_fractions; do
		for kind in native native1m; do
			count=$(rbd snap ls --format json "rbd/w11$kind-$ws-$run_id" | jq length)
			[ "$count" = "$step" ] || bench_fail "w11$kind-$ws has $count snapshots, not $step"
		done
		for kind in row rowmd row1m rowcor; do
			depth=$(rc ls --format json | jq -r --arg v "w11$kind-$ws-$run_id" \
				'.[] | select(.volume == $v) | .depth')
			want=$step
			# max_depth M: a snapshot that would go past M flattens first,
			# so the depth runs 1..M, then again from 1
			[ "$kind" = rowmd ] && [ "$step" -gt 0 ] && want=$(( (step - 1) % wl_md + 1 ))
			[ "$depth" = "$want" ] || bench_fail "w11$kind-$ws is at depth $depth, not $want"
		done
	done
}

row_workload() {
	# Space: every ROW snapshot copies the working set up (and a flatten
	# copies the image), so the four ROW kinds take about
	# 4 x (10% + 50%) x size a snapshot. The OSD's file grew to 9.7 GiB
	# in all at 256M with 2 s segments (4.1 GiB by the second snapshot
	# with 8 s), inside the bench cluster's 30 GiB OSD; at 512M it grew
	# 2.2 GiB a step with 8 s, which would have filled it.
	local size=256M steps=12 wl_runtime=${BENCH_ROW11_SEGMENT:-8} wl_md=4 wl_fractions="10 50"
	[ "$quick" = 1 ] && size=32M steps=2 wl_runtime=1 wl_md=1 wl_fractions=50
	local fio_version load_start load_end kind ws step series count
	fio_version=$(fio --version)
	load_start=$(cut -d' ' -f1-3 /proc/loadavg)
	local -A wl_ws_bytes
	local size_bytes unit=4194304
	size_bytes=$(numfmt --from=iec "$size")
	# the working set: a whole number of 4 MiB objects, the nearest to the
	# fraction (at least one)
	for ws in $wl_fractions; do
		wl_ws_bytes[$ws]=$(( (size_bytes * ws / 100 + unit / 2) / unit * unit ))
		[ "${wl_ws_bytes[$ws]}" -gt 0 ] || wl_ws_bytes[$ws]=$unit
	done
	paxos 1
	say "row 11: $(( $(wc -w <<<"$wl_kinds") * $(wc -w <<<"$wl_fractions") )) images of $size, working sets prefilled"
	awk '{ print } /^\[client\]/ { print "rbd clone copy on read = true" }' \
		"$CEPH_CONF" >"$work/cor.conf"
	grep -q '^rbd clone copy on read = true' "$work/cor.conf" ||
		bench_fail "$CEPH_CONF has no [client] section for copy-on-read"
	cat >"$work/workload.yaml" <<EOT
version: 1
policies:
  - name: flatten
    volumes: ["rbd/w11rowmd-*-$run_id"]
    every: 1h
    max_depth: $wl_md
  - name: deep
    volumes: ["rbd/w11row*-*-$run_id"]
    every: 1h
    max_depth: 1000
EOT
	local name order_want
	for ws in $wl_fractions; do
		for kind in $wl_kinds; do
			name="w11$kind-$ws-$run_id" order_want=22
			case $kind in
			plain | native)
				rbd create "rbd/$name" --size "$size" --image-feature "$features" ;;
			native1m)
				order_want=20
				rbd create "rbd/$name" --size "$size" --image-feature "$features" \
					--object-size 1M ;;
			row1m)
				order_want=20
				CEPH_ARGS="--rbd_default_order=20" rc create "rbd/$name" --size "$size" ;;
			*) rc create "rbd/$name" --size "$size" ;;
			esac || bench_fail "creating $name"
			[ "$(rbd info --format json "rbd/$name" | jq .order)" = "$order_want" ] ||
				bench_fail "$name does not have order $order_want"
			fio_json "$work/fill.json" "$name" --rw=write --bs=4m --size="${wl_ws_bytes[$ws]}"
		done
	done

	local all=() steps_done
	for ws in $wl_fractions; do
		for kind in $wl_kinds; do all+=("$kind:$ws"); done
	done
	count=${#all[@]}
	: >"$work/workload"
	: >"$work/workload-snaps"
	local row_start=$EPOCHREALTIME
	for step in $(seq 0 "$steps"); do
		say "row 11: step $step of $steps ($(cut -d' ' -f1 /proc/loadavg) load)"
		wl_check "$step"
		for series in $(printf '%s\n' "${all[@]}" "${all[@]}" |
			tail -n +$((step % count + 1)) | head -"$count"); do
			wl_segment "${series%:*}" "${series#*:}" "$step"
		done
		[ "$step" = "$steps" ] || wl_snapshots $((step + 1))
	done
	steps_done=$(awk -v s="$row_start" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", (e - s) / 60 }')
	load_end=$(cut -d' ' -f1-3 /proc/loadavg)
	if [ "$quick" = 1 ]; then
		grep -q ' rowmd' "$work/workload-snaps" || bench_fail "max_depth $wl_md never flattened"
	fi

	# space used by each series at the end, snapshots and ancestors
	# included (fast-diff: no object walk)
	rbd du --format json --pool rbd >"$work/du.json" || bench_fail "rbd du"
	: >"$work/workload-du"
	for ws in $wl_fractions; do
		for kind in $wl_kinds; do
			jq -r --arg p "w11$kind-$ws-$run_id" '[.images[] |
				select(.name == $p or (.name | startswith($p + ".")))] |
				map(.used_size) | add' "$work/du.json" |
				awk -v k="$kind" -v w="$ws" '{ printf "%s %s %.0f\n", k, w, $1 / 1048576 }' \
					>>"$work/workload-du"
		done
	done

	# a segment other than the default's plots beside it, not over it
	local base=row11-workload
	[ "$wl_runtime" = 8 ] || base+=-${wl_runtime}s
	local svg=$work/$base.svg data=$work/$base.dat
	[ "$quick" = 1 ] || svg=$top/bench/$base.svg data=$top/bench/$base.dat
	wl_plot "$data" "$svg"
	local paxos_now ws_text=""
	paxos_now=$(paxos_setting)
	for ws in $wl_fractions; do
		ws_text+="$ws% ($((wl_ws_bytes[$ws] / 1048576)) MiB) "
	done

	cat <<EOT
## 11. A VM-like load under periodic snapshots: ROW against native

fio ${fio_version#fio-}'s rbd engine on $size images (object size 4 MiB
unless the kind says 1 MiB): random 4 KiB reads and writes, 70% writes,
iodepth 16, over a working set at the start of the image, prefilled with
4 MiB writes: ${ws_text}of the image.
Time runs in steps of one snapshot. In each step every series runs one
fio segment of ${wl_runtime} s on the image it writes now (a volume's
operating image moves with each snapshot, so fio starts anew each step,
native and plain alike), then every series but plain takes a snapshot:
native ones with \`rbd snap create\` on the image fio keeps writing, ROW
ones by one \`rowcat policy run\` (every 1h, run with \`--now\` an hour
further each step). $steps snapshots, so $((steps + 1)) segments a series;
the order of the series rotates each step, so the machine's load falls on
all alike; each segment has new random offsets, the same for every
series. Series:

- **plain**: no snapshot (the reference);
- **native**: \`rbd snap create\` each step;
- **row**: a rowcat volume, \`max_depth\` 1000 (never flattened);
- **rowmd**: the same with \`max_depth\` $wl_md: the policy run flattens
  before a snapshot that would take the volume past it;
- **native1m**, **row1m**: native and row on images with 1 MiB objects
  (\`rbd create --object-size 1M\`; \`rowcat create\` with
  \`CEPH_ARGS=--rbd_default_order=20\`: rowcat creates with rbd's default
  order and a clone keeps its parent's);
- **rowcor**: row, read by a client with \`rbd clone copy on read =
  true\` (in the fio client's ceph.conf): a read of an object the clone
  does not have yet copies it up.

IOPS are reads and writes together; p99 is fio's completion latency.
paxos_propose_interval $paxos_now. The row took $steps_done min; load
average (1, 5, 15 min) $load_start at its start, $load_end at its end.
Plotted in \`bench/$base.svg\` (data: \`bench/$base.dat\`).

EOT
	wl_report
}

# wl_plot DATA SVG : the series as gnuplot data blocks, and their plot.
wl_plot() {
	local data=$1 svg=$2
	python3 - "$work/workload" "$data" "$wl_kinds" "$wl_fractions" <<'EOF' ||
import sys
rows = [l.split() for l in open(sys.argv[1])]
with open(sys.argv[2], "w") as out:
    out.write("# bench row 11: step (snapshots taken) IOPS read_p99_ms write_p99_ms writes\n")
    for ws in sys.argv[4].split():
        for kind in sys.argv[3].split():
            out.write("# %s %s%%\n" % (kind, ws))
            for r in sorted((r for r in rows if r[0] == kind and r[1] == ws),
                            key=lambda r: int(r[2])):
                out.write("%s %s %.2f %.2f %s\n" % (r[2], r[3], float(r[4]) / 1e3,
                                                    float(r[5]) / 1e3, r[6]))
            out.write("\n\n")
EOF
		bench_fail "writing $data"
	wl_gnuplot "$data" "$svg" "$wl_runtime"
}

# wl_gnuplot DATA SVG SEGMENT : the plot of DATA (written by wl_plot): one column
# per working set, IOPS and both p99s (log scale) over the snapshots taken. Native
# kinds are drawn in reds, ROW kinds in blues and greens, plain in black.
wl_gnuplot() {
	local data=$1 svg=$2 segment=$3
	command -v gnuplot >/dev/null || bench_fail "no gnuplot (tests/cluster/install-deps.sh)"
	local -A style=(
		[plain]="lc rgb '#000000' dt 2 pt 1"
		[native]="lc rgb '#d62728' lw 2 pt 5"
		[native1m]="lc rgb '#ff7f0e' lw 2 pt 4"
		[row]="lc rgb '#1f4fb4' lw 2 pt 7"
		[rowmd]="lc rgb '#2ca02c' lw 2 pt 9"
		[row1m]="lc rgb '#17becf' lw 2 pt 6"
		[rowcor]="lc rgb '#9467bd' lw 1 dt 3 pt 8"
	)
	local nkinds col=0 ws kind what i line index
	nkinds=$(wc -w <<<"$wl_kinds")
	{
		echo "set terminal svg size 1200,960 dynamic font 'sans,11' background '#ffffff'"
		echo "set output '$svg'"
		echo "set multiplot layout 3,$(wc -w <<<"$wl_fractions") columnsfirst title 'bench row 11: 4 KiB random I/O, 70% writes, a snapshot after every ${segment} s segment'"
		echo "set key outside right top vertical font 'sans,9'"
		echo "set grid"
		echo "set xlabel 'snapshots taken'"
		for ws in $wl_fractions; do
			for what in "2:IOPS" "4:write p99 (ms, log scale)" "3:read p99 (ms, log scale)"; do
				# a copy-up or a flatten puts one p99 ten times above the rest
				if [ "${what%%:*}" = 2 ]; then
					line="unset logscale y; set yrange [0:*];"
				else
					line="set logscale y; set yrange [*:*];"
				fi
				line+=" set title 'working set ${ws}%: ${what#*:}'; plot"
				i=0
				for kind in $wl_kinds; do
					index=$((col * nkinds + i))
					line+=" '$data' index $index using 1:${what%%:*} with linespoints ${style[$kind]:-} title '$kind',"
					i=$((i + 1))
				done
				echo "${line%,}"
			done
			col=$((col + 1))
		done
		echo "unset multiplot"
	} >"$work/workload.gp"
	gnuplot "$work/workload.gp" 2>"$work/gnuplot.err" || bench_fail "gnuplot: $(cat "$work/gnuplot.err")"
	grep -q '</svg>' "$svg" || bench_fail "gnuplot wrote no SVG"
}

# wl_report : the tables of row 11, from $work/workload*.
wl_report() {
	local sizes="" ws
	for ws in $wl_fractions; do sizes+="$ws:${wl_ws_bytes[$ws]} "; done
	python3 - "$work/workload" "$work/workload-snaps" "$work/workload-du" \
		"$wl_kinds" "$sizes" "$wl_md" <<'EOF' || bench_fail "row 11's report"
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
snaps = [l.split() for l in open(sys.argv[2])]
du = {(k, w): mib for k, w, mib in (l.split() for l in open(sys.argv[3]))}
kinds, md = sys.argv[4].split(), int(sys.argv[6])
ws_bytes = dict(w.split(":") for w in sys.argv[5].split())
fractions = list(ws_bytes)
fig = {(r[0], r[1], int(r[2])): (float(r[3]), float(r[4]), float(r[5]), int(r[6]))
       for r in rows}
steps = max(k[2] for k in fig)
med = statistics.median

for ws in fractions:
    print("Working set %s%%: IOPS / write p99 (ms) per segment, by snapshots "
          "taken before it.\n" % ws)
    print("| snapshots | " + " | ".join(kinds) + " |")
    print("|---" * (len(kinds) + 1) + "|")
    for s in range(steps + 1):
        print("| %d | " % s + " | ".join("%.0f / %.1f" % (fig[k, ws, s][0], fig[k, ws, s][2] / 1e3)
                                       for k in kinds) + " |")
    print()

late = list(range(max(1, steps - 4), steps + 1))
print("Medians over segments: after 1 to %d snapshots (%d segments), and after "
      "%d to %d (the last %d: the deep end). Ratios are of medians.\n"
      % (steps, steps, late[0], steps, len(late)))
print("| working set | kind | IOPS 1-%d | / plain | IOPS %d-%d | / plain | write p99 %d-%d | read p99 %d-%d | rbd du at the end (whole objects) |"
      % (steps, late[0], steps, late[0], steps, late[0], steps))
print("|---|---|---|---|---|---|---|---|---|")
for ws in fractions:
    pa = med(fig["plain", ws, s][0] for s in range(1, steps + 1))
    pl = med(fig["plain", ws, s][0] for s in late)
    for k in kinds:
        a = med(fig[k, ws, s][0] for s in range(1, steps + 1))
        l = med(fig[k, ws, s][0] for s in late)
        print("| %s%% | %s | %.0f | %.2f | %.0f | %.2f | %.1f ms | %.1f ms | %s MiB |" % (
            ws, k, a, a / pa, l, l / pl,
            med(fig[k, ws, s][2] for s in late) / 1e3,
            med(fig[k, ws, s][1] for s in late) / 1e3, du[k, ws]))
print()

print("**Crossover** (ROW against native of the same object size): the "
      "number of snapshots from which ROW has more IOPS than native for good. "
      "Strictly: in that segment and every later one. By medians: the median "
      "of 5 neighbouring segments (k-2 to k+2, shifted at the ends) of ROW "
      "above native's, from that window on. Under a shared machine's load "
      "one segment moves by a factor of two; the medians are the figure to "
      "read.\n")
print("| working set | ROW | native | crossover, strictly | crossover, by medians of 5 | ROW ahead in | 4 KiB writes a segment, plain / ROW (medians) | writes per object of the working set, plain / ROW |")
print("|---|---|---|---|---|---|---|---|")

def window(k):
    lo = min(max(1, k - 2), max(1, steps - 4))
    return range(lo, min(steps, lo + 4) + 1)

def crossover(wins):
    cross = None
    for k in range(steps, 0, -1):
        if not wins[k - 1]:
            break
        cross = k
    return "after %d" % cross if cross else "none in %d" % steps

for ws in fractions:
    for r, n, obj in (("row", "native", 4), ("rowmd", "native", 4), ("rowcor", "native", 4),
                      ("row1m", "native1m", 1)):
        if r not in kinds:
            continue
        ahead = [fig[r, ws, s][0] > fig[n, ws, s][0] for s in range(1, steps + 1)]
        ahead_med = [med(fig[r, ws, s][0] for s in window(k)) >
                     med(fig[n, ws, s][0] for s in window(k)) for k in range(1, steps + 1)]
        # plain's writes are the load's own pace; ROW's are what it got
        # done, fewer where copy-ups held it up
        writes = med(fig[r, ws, s][3] for s in range(1, steps + 1))
        pace = med(fig["plain", ws, s][3] for s in range(1, steps + 1))
        objects = int(ws_bytes[ws]) // (obj << 20)
        print("| %s%% | %s | %s | %s | %s | %d of %d segments | %.0f / %.0f | %.0f / %.0f (%d objects of %d MiB) |" % (
            ws, r, n, crossover(ahead), crossover(ahead_med),
            sum(ahead), steps, pace, writes, pace / objects, writes / objects, objects, obj))
print()
print("Snapshot steps (`rbd snap create` of the native images one after "
      "another, the policy run for every ROW volume at once, `--jobs 8`): "
      "median %.0f ms and %.0f ms; the policy run flattened at steps %s." % (
      med(float(s[1]) for s in snaps), med(float(s[2]) for s in snaps),
      ", ".join("%s (%s, %s ms)" % (s[0], s[3], s[2]) for s in snaps if s[3] != "-") or "none"))
print()
EOF
}
