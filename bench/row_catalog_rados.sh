# Row 9: the catalog in RADOS beside the local file (sourced by run.sh).
#
# One run, two catalogs: a file, and one in RADOS (Ceph's SQLite VFS)
# made from it with `rowcat catalog copy`, so both hold the same lineage.
# Each part times the same command on both, in turns: a snap against the
# bare librbd sequence (row 3's helper), what one catalog transaction
# costs, `tree` of a 100-generation volume, `policy run` of many volumes,
# and the rate of transactions that concurrent clients reach.

# rcf / rcr ARGS... : rowcat on this row's file / RADOS catalog.
rcf() { "$rowcat" --catalog "$cat_file" -q "$@"; }
rcr() { "$rowcat" --catalog "$cat_rados" -q "$@"; }

# txns_of_last : "N W" of the last timed command (time_ms keeps its
# stderr), from the line ROWCAT_DEBUG_TXNS=1 makes it print.
txns_of_last() {
	sed -n 's/^rowcat: catalog transactions: \([0-9]*\) (\([0-9]*\) writes)$/\1 \2/p' \
		"$work/cmd.err" | grep . || bench_fail "no transaction count in: $(cat "$work/cmd.err")"
}

# rados_snap_round SPEC N PAUSE : one snapshot each way (file catalog,
# RADOS catalog, bare librbd) on round N's fresh images, each after
# PAUSE seconds; the order rotates with N. Prints "FILE_MS RADOS_MS
# LIBRBD_MS FILE_TXNS RADOS_TXNS".
rados_snap_round() {
	local spec=$1 n=$2 pause=$3 way t x_file x_rados
	local t_file t_rados t_librbd
	for way in $(printf '%s\n' file rados librbd file rados | tail -n +$((n % 3 + 1)) | head -3); do
		sleep "$pause"
		case $way in
		file)
			t=$(ROWCAT_DEBUG_TXNS=1 time_ms rcf snap "fa$n" s)
			x_file=$(txns_of_last | column 1) ;;
		rados)
			t=$(ROWCAT_DEBUG_TXNS=1 time_ms rcr snap "ra$n" s)
			x_rados=$(txns_of_last | column 1) ;;
		librbd) t=$(librbd_ask seq "$spec" "b$n" s "b$n.c") ;;
		esac
		printf -v "t_$way" '%s' "$t"
	done
	echo "$t_file $t_rados $t_librbd $x_file $x_rados"
}

# sql_costs KIND DB COUNT STATEMENT... : what one run of each STATEMENT
# costs on DB (a file, or POOL:NS/NAME in RADOS), in microseconds, one
# line each: one sqlite3 process with the settings rowcat gives a catalog
# of KIND runs each statement COUNT times between two clock readings
# (\`.shell date\`), less the time of a reading alone, over COUNT.
sql_costs() {
	local kind=$1 db=$2 count=$3 script=$work/sql.script stmt
	shift 3
	{
		if [ "$kind" = rados ]; then
			printf '%s\n' ".load libcephsqlite.so" ".open file:///$db?vfs=ceph" \
				".output /dev/null" "PRAGMA journal_mode = PERSIST;" \
				"PRAGMA temp_store = MEMORY;" "PRAGMA cache_size = -16384;"
		else
			printf '%s\n' ".open $db" ".output /dev/null" "PRAGMA journal_mode = WAL;"
		fi
		printf '%s\n' "PRAGMA synchronous = FULL;" "PRAGMA foreign_keys = ON;" \
			".shell date +%s%N" ".shell date +%s%N"
		for stmt in "$@"; do
			for _ in $(seq "$count"); do echo "$stmt"; done
			echo ".shell date +%s%N"
		done
	} >"$script"
	sqlite3 -bail <"$script" >"$work/sql.out" 2>"$work/sql.err" ||
		bench_fail "sqlite3 on $db: $(cat "$work/sql.err")"
	[ "$(wc -l <"$work/sql.out")" = $(($# + 2)) ] ||
		bench_fail "sqlite3 on $db said: $(head -3 "$work/sql.out")"
	awk -v n="$count" 'NR == 1 { prev = $1; next }
		NR == 2 { reading = $1 - prev; prev = $1; next }
		{ d = ($1 - prev - reading) / n / 1e6; prev = $1
		  printf "%.1f\n", d < 0 ? 0 : d * 1000 }' "$work/sql.out"
}

# sat_client CATALOG VOL ITERATIONS OUT : one client of the saturation
# test, pinning and unpinning VOL@s ITERATIONS times; each command's
# transaction count goes to OUT.
sat_client() {
	local i verb
	for i in $(seq "$3"); do
		for verb in pin unpin; do
			ROWCAT_DEBUG_TXNS=1 "$rowcat" --catalog "$1" -q "$verb" "$2@s" \
				>/dev/null 2>>"$4" || { echo "FAILED $verb $2@s: exit $?" >>"$4"; return 1; }
		done
	done
}

# sat_round KIND CLIENTS ITERATIONS : CLIENTS concurrent clients, each on
# its own volume: of the file catalog (file), of the RADOS catalog
# (rados), or each of its own copy of the RADOS catalog (own). Prints
# "WALL_MS TRANSACTIONS COMMANDS".
sat_round() {
	local kind=$1 clients=$2 iters=$3 c start end pids=() catalog vol
	for c in $(seq "$clients"); do : >"$work/sat.$c"; done
	start=$EPOCHREALTIME
	for c in $(seq "$clients"); do
		case $kind in
		file) catalog=$cat_file vol=satf$c ;;
		rados) catalog=$cat_rados vol=satr$c ;;
		own) catalog=$cat_rados-own$c vol=satr$c ;;
		esac
		sat_client "$catalog" "$vol" "$iters" "$work/sat.$c" &
		pids+=($!)
	done
	for c in "${pids[@]}"; do
		wait "$c" || bench_fail "saturation ($kind, $clients clients): $(grep -h -v '^rowcat: catalog transactions' "$work"/sat.* | head -3)"
	done
	end=$EPOCHREALTIME
	# every command of every client counted, nothing else said
	local lines txns
	lines=$(cat "$work"/sat.* | grep -c '^rowcat: catalog transactions: ' || true)
	[ "$lines" = $((clients * iters * 2)) ] && ! grep -qv '^rowcat: catalog transactions: ' "$work"/sat.* ||
		bench_fail "saturation ($kind, $clients clients): $lines commands counted, expected $((clients * iters * 2)): $(grep -h -v '^rowcat: catalog' "$work"/sat.* | head -3)"
	txns=$(cat "$work"/sat.* | awk '{ n += $4 } END { print n }')
	rm -f "$work"/sat.*
	awk -v s="$start" -v e="$end" -v t="$txns" -v l="$lines" \
		'BEGIN { printf "%.1f %d %d\n", (e - s) * 1000, t, l }'
}

# lock_round KIND CLIENTS COUNT : CLIENTS sqlite3 processes at once, each
# running COUNT read transactions on the RADOS catalog (shared), or each
# on its own copy (own), waiting for the lock as rowcat does (10 s busy
# timeout). Prints "WALL_MS TRANSACTIONS", the wall time from the first
# client's first transaction to the last one's last (no process start
# or connect in it).
lock_round() {
	local kind=$1 clients=$2 count=$3 c db pids=()
	for c in $(seq "$clients"); do
		db=$vfs_db
		[ "$kind" = own ] && db=$vfs_db-own$c
		{
			printf '%s\n' ".load libcephsqlite.so" ".open file:///$db?vfs=ceph" \
				".timeout 10000" ".output /dev/null" "PRAGMA journal_mode = PERSIST;" \
				".shell date +%s%N"
			for _ in $(seq "$count"); do echo "SELECT count(*) FROM volume;"; done
			printf '%s\n' ".shell date +%s%N"
		} >"$work/lock.$c.sql"
		sqlite3 -bail <"$work/lock.$c.sql" >"$work/lock.$c.out" 2>&1 &
		pids+=($!)
	done
	for c in "${pids[@]}"; do
		wait "$c" || bench_fail "lock test ($kind, $clients clients): $(cat "$work"/lock.*.out | grep -v '^[0-9]*$' | head -3)"
	done
	for c in $(seq "$clients"); do
		[ "$(grep -c '^[0-9]*$' "$work/lock.$c.out")" = 2 ] && [ "$(wc -l <"$work/lock.$c.out")" = 2 ] ||
			bench_fail "lock test ($kind, $clients clients), client $c said: $(head -3 "$work/lock.$c.out")"
	done
	cat "$work"/lock.*.out | sort -n | sed -n '1p;$p' | paste -sd' ' |
		awk -v t=$((clients * count)) '{ printf "%.1f %d\n", ($2 - $1) / 1e6, t }'
	rm -f "$work"/lock.*
}

row_catalog_rados() {
	local reps=5 quiet_pause=1.5 generations=100 count=100 iters=5
	local clients_list="1 2 4 8" sql_count=100 tree_reps=5 lock_count=200
	[ "$quick" = 1 ] && reps=2 quiet_pause=0.1 generations=5 count=5 iters=2 \
		clients_list="1 2" sql_count=3 tree_reps=2 lock_count=5
	local spec spec_pf spec_pr n c i
	spec=$(namespace crados)
	spec_pf=$(namespace cpolf)
	spec_pr=$(namespace cpolr)
	cat_file=$work/catalog-row9.db
	cat_rados=rados://$spec/catalog
	local vfs_db="rbd:${spec#rbd/}/catalog"

	# fixtures at the fast proposal interval (nothing timed): the lineage
	# in the file catalog, copied to RADOS so that both hold it
	say "row 9: a lineage of $generations generations, copied to RADOS"
	paxos 0.01
	rcf init || bench_fail "init $cat_file"
	rcf create "$spec/lin" --size 64M || bench_fail "create lin"
	for i in $(seq "$generations"); do
		# (its warnings of a deep chain are expected: kept out of the report)
		rcf snap lin "g$i" >/dev/null 2>"$work/cmd.err" ||
			bench_fail "snap lin g$i: $(cat "$work/cmd.err")"
	done
	"$rowcat" -q catalog copy "$cat_file" "$cat_rados" || bench_fail "catalog copy to $cat_rados"

	say "row 9: volumes for the snaps, the policy runs and the clients"
	for n in $(seq $((2 * reps))); do
		rcf create "$spec/fa$n" --size 1G && rcr create "$spec/ra$n" --size 1G ||
			bench_fail "create fa$n ra$n"
		rbd create "$spec/b$n" --size 1G --image-feature "$features" ||
			bench_fail "rbd create b$n"
	done
	seq -f "f%03g" "$count" | xargs -P 4 -I{} "$rowcat" --catalog "$cat_file" -q \
		create "$spec_pf/{}" --size 1G || bench_fail "creating $count volumes (file)"
	seq -f "r%03g" "$count" | xargs -P 4 -I{} "$rowcat" --catalog "$cat_rados" -q \
		create "$spec_pr/{}" --size 1G || bench_fail "creating $count volumes (RADOS)"
	local clients_max=${clients_list##* }
	for c in $(seq "$clients_max"); do
		rcf create "$spec/satf$c" --size 64M && rcf snap "satf$c" s >/dev/null &&
			rcr create "$spec/satr$c" --size 64M && rcr snap "satr$c" s >/dev/null ||
			bench_fail "client volumes $c"
	done
	# one copy of the RADOS catalog per client: the same work without
	# the shared lock
	for c in $(seq "$clients_max"); do
		"$rowcat" -q catalog copy "$cat_rados" "$cat_rados-own$c" ||
			bench_fail "catalog copy own$c"
	done
	# a scratch table for the write transactions, with each kind's layout
	sqlite3 -bail "$work/txn.db" "PRAGMA journal_mode = WAL; CREATE TABLE t(k INTEGER PRIMARY KEY, n INTEGER); INSERT INTO t VALUES (1, 0);" >/dev/null ||
		bench_fail "scratch database (file)"
	printf '%s\n' ".load libcephsqlite.so" ".open file:///rbd:${spec#rbd/}/txn?vfs=ceph" \
		"PRAGMA page_size = 65536;" "PRAGMA journal_mode = PERSIST;" \
		"CREATE TABLE t(k INTEGER PRIMARY KEY, n INTEGER);" "INSERT INTO t VALUES (1, 0);" >"$work/sql.make"
	sqlite3 -bail <"$work/sql.make" >/dev/null || bench_fail "scratch database (RADOS)"
	paxos 1

	# a) snap, both catalogs and the bare sequence
	say "row 9: $reps snapshots each way, spaced and back to back"
	librbd_start
	local mode pause
	for mode in quiet busy; do
		pause=$quiet_pause
		[ "$mode" = busy ] && pause=0
		: >"$work/r9snap.$mode"
		for n in $(seq "$reps"); do
			[ "$mode" = busy ] && n=$((n + reps))
			rados_snap_round "$spec" "$n" "$pause" >>"$work/r9snap.$mode"
		done
	done
	librbd_stop
	for n in $(seq $((2 * reps))); do
		for image in "$(rcf which "fa$n" | sed 's|.*/||')" "$(rcr which "ra$n" | sed 's|.*/||')" "b$n.c"; do
			[ "$(rbd info --format json "$spec/$image" | jq -r .parent.snapshot)" = s ] ||
				bench_fail "$spec/$image is not a clone of a snapshot s"
		done
	done

	# what one transaction costs, statement by statement
	say "row 9: one catalog transaction, $sql_count at a time"
	local kind db
	local -a stmts=("SELECT count(*) FROM volume;"
		"SELECT count(*) FROM sqlite_master;" "PRAGMA application_id;"
		"PRAGMA user_version;" "PRAGMA journal_mode = PERSIST;"
		"PRAGMA temp_store = MEMORY;" "PRAGMA cache_size = -16384;"
		"PRAGMA synchronous = FULL;" "PRAGMA foreign_keys = ON;")
	local write="BEGIN IMMEDIATE; UPDATE t SET n = n + 1 WHERE k = 1; COMMIT;"
	for kind in file rados; do
		: >"$work/r9sql.$kind"
		for i in $(seq "$reps"); do
			if [ "$kind" = file ]; then
				sql_costs file "$cat_file" "$sql_count" "${stmts[@]/PERSIST/WAL}" >"$work/sql.r"
				sql_costs file "$work/txn.db" "$sql_count" "$write" >>"$work/sql.r"
			else
				sql_costs rados "$vfs_db" "$sql_count" "${stmts[@]}" >"$work/sql.r"
				sql_costs rados "rbd:${spec#rbd/}/txn" "$sql_count" "$write" >>"$work/sql.r"
			fi
			paste -sd' ' "$work/sql.r" >>"$work/r9sql.$kind"
		done
	done

	# b) tree of the lineage on both
	say "row 9: tree of $generations generations"
	local images_f images_r tree_f tree_r tx_tree_f tx_tree_r
	images_f=$(rcf tree lin --format json | jq '[.nodes[] | select(.type == "image")] | length')
	images_r=$(rcr tree lin --format json | jq '[.nodes[] | select(.type == "image")] | length')
	[ "$images_f" = $((generations + 1)) ] && [ "$images_r" = "$images_f" ] ||
		bench_fail "tree lin: file catalog $images_f images, RADOS $images_r, expected $((generations + 1))"
	tree_f=$(median_ms "$tree_reps" rcf tree lin)
	tree_r=$(median_ms "$tree_reps" rcr tree lin)
	ROWCAT_DEBUG_TXNS=1 time_ms rcf tree lin >/dev/null
	tx_tree_f=$(txns_of_last | column 1)
	ROWCAT_DEBUG_TXNS=1 time_ms rcr tree lin >/dev/null
	tx_tree_r=$(txns_of_last | column 1)

	# c) policy run of many volumes, the two catalogs in turns
	say "row 9: policy run of $count volumes, $reps rounds each"
	local pol_f=$work/policy-r9f.yaml pol_r=$work/policy-r9r.yaml t0 hour round t_f t_r x_f x_r
	many_policy "$pol_f" "$spec_pf"
	many_policy "$pol_r" "$spec_pr"
	: >"$work/r9policy"
	t0=$(date -u +%s)
	for round in $(seq "$reps"); do
		hour=$(date -u -d "@$((t0 + round * 3600))" +%Y-%m-%dT%H:%M:%SZ)
		if [ $((round % 2)) = 1 ]; then
			t_f=$(ROWCAT_DEBUG_TXNS=1 time_ms rcf policy run "$pol_f" --now "$hour")
			x_f=$(txns_of_last | column 1)
			t_r=$(ROWCAT_DEBUG_TXNS=1 time_ms rcr policy run "$pol_r" --now "$hour")
			x_r=$(txns_of_last | column 1)
		else
			t_r=$(ROWCAT_DEBUG_TXNS=1 time_ms rcr policy run "$pol_r" --now "$hour")
			x_r=$(txns_of_last | column 1)
			t_f=$(ROWCAT_DEBUG_TXNS=1 time_ms rcf policy run "$pol_f" --now "$hour")
			x_f=$(txns_of_last | column 1)
		fi
		echo "$t_f $t_r $x_f $x_r" >>"$work/r9policy"
	done
	local made
	made=$(rcf ls --format json | jq --arg ns "${spec_pf#rbd/}" \
		'[.[] | select(.pool_namespace == $ns and .depth == '"$reps"')] | length')
	[ "$made" = "$count" ] || bench_fail "file catalog: $made volumes of depth $reps in $spec_pf, expected $count"
	made=$(rcr ls --format json | jq --arg ns "${spec_pr#rbd/}" \
		'[.[] | select(.pool_namespace == $ns and .depth == '"$reps"')] | length')
	[ "$made" = "$count" ] || bench_fail "RADOS catalog: $made volumes of depth $reps in $spec_pr, expected $count"

	# d) concurrent clients: transactions per second
	say "row 9: concurrent clients ($clients_list), $iters pin + unpin each, $reps rounds"
	: >"$work/r9sat"
	local rep k figures
	for rep in $(seq "$reps"); do
		for c in $clients_list; do
			for k in $(printf '%s\n' file rados own file rados | tail -n +$((rep % 3 + 1)) | head -3); do
				figures=$(sat_round "$k" "$c" "$iters")
				echo "$k $c $figures" >>"$work/r9sat"
			done
		done
	done

	# the lock alone: transactions in connected sqlite3 processes
	say "row 9: the lock alone ($clients_list clients), $lock_count reads each, $reps rounds"
	: >"$work/r9lock"
	for rep in $(seq "$reps"); do
		for c in $clients_list; do
			for k in $(printf '%s\n' rados own rados | tail -n +$((rep % 2 + 1)) | head -2); do
				figures=$(lock_round "$k" "$c" "$lock_count")
				echo "$k $c $figures" >>"$work/r9lock"
			done
		done
	done

	# the report
	local paxos_now load
	paxos_now=$(paxos_setting)
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	local sf sr sl xf xr
	cat <<EOT
## 9. The catalog in RADOS beside the local file

Two catalogs in one run, on the same cluster: a file (SQLite, WAL), and
one in RADOS through Ceph's SQLite VFS (\`--catalog rados://POOL/NS/NAME\`:
64 KiB pages, a persistent rollback journal; every transaction, reads
included, takes the database's one exclusive RADOS lock and gives it
back). The RADOS catalog was made from the file with \`rowcat catalog
copy\` after the lineage below was built, so both hold the same
lineage. paxos_propose_interval $paxos_now for everything timed (fixtures
built at 0.01 s). Load average at the end of the row: $load.

### 9a. \`rowcat snap\`

One ROW snapshot of a 1 GiB image, three ways, on fresh images each
round, in an order that rotates: \`rowcat snap\` with the file catalog,
with the RADOS catalog, and the bare librbd sequence in one connected
process (row 3's \`bench/bench_rbd\`). Spaced: each ${quiet_pause} s after the one
before; back to back: no pause. Medians of $reps rounds. Transactions:
\`ROWCAT_DEBUG_TXNS=1\` on every timed snap (the median; on RADOS each
takes the lock once, but for the opening's settings \`PRAGMA\`s: 9b).

| what | file catalog | RADOS catalog | bare librbd | file / librbd | RADOS / librbd | RADOS - file |
|---|---|---|---|---|---|---|
EOT
	for mode in quiet busy; do
		sf=$(column 1 <"$work/r9snap.$mode" | median)
		sr=$(column 2 <"$work/r9snap.$mode" | median)
		sl=$(column 3 <"$work/r9snap.$mode" | median)
		echo "| $([ $mode = quiet ] && echo spaced || echo "back to back") | $sf ms | $sr ms | $sl ms | $(ratio "$sf" "$sl") | $(ratio "$sr" "$sl") | $(awk -v a="$sr" -v b="$sf" 'BEGIN { printf "%.1f", a - b }') ms |"
	done
	xf=$(cat "$work"/r9snap.* | column 4 | median)
	xr=$(cat "$work"/r9snap.* | column 5 | median)
	echo "| transactions per snap | ${xf%.0} | ${xr%.0} | | | | |"
	cat <<EOT

### 9b. One transaction

What one statement costs on each kind, measured directly: the sqlite3
shell (the SQLite and the VFS rowcat uses), with rowcat's settings for
that kind, runs it $sql_count times in a row between two readings of the clock
(\`.shell date\`, whose own cost is taken off), over $sql_count. Reads on this
row's catalogs; the write on a one-row scratch table beside each, with
the same layout. The rows marked "opening" are the 10 that \`rowcat\`
counts when it opens a catalog in RADOS (8 of a file: \`journal_mode\`
is WAL there, and no \`temp_store\` or \`cache_size\`), each as it costs
when repeated on an open connection. Medians of $reps.

| statement | file catalog | RADOS catalog |
|---|---|---|
EOT
	local -a names=("a read: \`SELECT count(*) FROM volume\`"
		"opening (1 of 10): \`SELECT count(*) FROM sqlite_master\`"
		"opening (1 of 10): \`PRAGMA application_id\`"
		"opening (3 of 10): \`PRAGMA user_version\`"
		"opening (1 of 10): \`PRAGMA journal_mode = PERSIST\` (file: WAL)"
		"opening (1 of 10): \`PRAGMA temp_store = MEMORY\` (not on a file)"
		"opening (1 of 10): \`PRAGMA cache_size = -16384\` (not on a file)"
		"opening (1 of 10): \`PRAGMA synchronous = FULL\`"
		"opening (1 of 10): \`PRAGMA foreign_keys = ON\`"
		"a write: \`BEGIN IMMEDIATE\`, \`UPDATE\` of one row, \`COMMIT\`")
	local cost_file cost_rados
	for i in "${!names[@]}"; do
		cost_file=$(column $((i + 1)) <"$work/r9sql.file" | median)
		cost_rados=$(column $((i + 1)) <"$work/r9sql.rados" | median)
		echo "| ${names[$i]} | $cost_file µs | $cost_rados µs |"
	done
	cat <<EOT

### 9c. \`rowcat tree\` of $generations generations

\`rowcat tree lin\` ($images_f images in one chain, the same in both
catalogs: the harness checks). Medians of $tree_reps runs.

| what | file catalog | RADOS catalog | RADOS / file |
|---|---|---|---|
| \`rowcat tree lin\` | $tree_f ms | $tree_r ms | $(ratio "$tree_r" "$tree_f") |
| transactions | $tx_tree_f | $tx_tree_r | |

### 9d. \`policy run\` of $count volumes, \`--jobs 8\`

Row 4's policy (every volume snapshotted hourly) over $count volumes of
1 GiB in each catalog (their own namespaces), the two catalogs in turns,
one snapshot of every volume per run. Medians of $reps runs.

| what | file catalog | RADOS catalog | RADOS / file |
|---|---|---|---|
EOT
	local pf pr px_f px_r
	pf=$(column 1 <"$work/r9policy" | median)
	pr=$(column 2 <"$work/r9policy" | median)
	px_f=$(column 3 <"$work/r9policy" | median)
	px_r=$(column 4 <"$work/r9policy" | median)
	echo "| \`policy run\`, $count volumes | $pf ms | $pr ms | $(ratio "$pr" "$pf") |"
	echo "| per volume | $(ratio "$pf" "$count") ms | $(ratio "$pr" "$count") ms | |"
	echo "| transactions per run | ${px_f%.0} | ${px_r%.0} | |"
	cat <<EOT

### 9e. Concurrent clients: where the lock saturates

N clients at once, separate processes, each on its own volume, each
running $iters x (\`rowcat pin VOL@s\`, \`rowcat unpin VOL@s\`): one
write transaction and the catalog's opening per command. Every command's
transactions are counted (\`ROWCAT_DEBUG_TXNS=1\`), so the rate is
transactions completed over the wall time of the whole set. Three ways:
the file catalog; the RADOS catalog shared by all clients; and a control
with one copy of the RADOS catalog per client (the same work, the same
OSD and cores, no shared lock). Medians of $reps rounds (the three ways in
turns).

| clients | file: txn/s | RADOS shared: txn/s | RADOS, own catalog each: txn/s | file: commands/s | RADOS shared: commands/s | RADOS own: commands/s |
|---|---|---|---|---|---|---|
EOT
	for c in $clients_list; do
		local row="| $c" kind_rates="" kind_cmds="" kk
		for kk in file rados own; do
			kind_rates+=" | $(awk -v k="$kk" -v c="$c" '$1 == k && $2 == c { printf "%.1f\n", $4 / ($3 / 1000) }' "$work/r9sat" | median)"
			kind_cmds+=" | $(awk -v k="$kk" -v c="$c" '$1 == k && $2 == c { printf "%.1f\n", $5 / ($3 / 1000) }' "$work/r9sat" | median)"
		done
		echo "$row$kind_rates$kind_cmds |"
	done
	cat <<EOT

The same with the process and its connection taken out: N sqlite3
processes (the SQLite and the VFS rowcat uses, rowcat's busy timeout of
10 s), each already connected, each running $lock_count read transactions
(\`SELECT count(*) FROM volume\`), on the one RADOS catalog or each on
its own copy; the rate is all transactions over the time from the first
client's first to the last client's last. Medians of $reps rounds.

| clients | RADOS shared: txn/s | RADOS, own catalog each: txn/s | shared / own |
|---|---|---|---|
EOT
	local ls lo
	for c in $clients_list; do
		ls=$(awk -v c="$c" '$1 == "rados" && $2 == c { printf "%.1f\n", $4 / ($3 / 1000) }' "$work/r9lock" | median)
		lo=$(awk -v c="$c" '$1 == "own" && $2 == c { printf "%.1f\n", $4 / ($3 / 1000) }' "$work/r9lock" | median)
		echo "| $c | $ls | $lo | $(ratio "$ls" "$lo") |"
	done
	echo
	local per_pin
	per_pin=$(awk '$1 == "rados" { print $4 / $5 }' "$work/r9sat" | median)
	echo "Transactions per command (pin or unpin) on the RADOS catalog: $per_pin;"
	echo "per snap: ${xr%.0}."
	echo
}
