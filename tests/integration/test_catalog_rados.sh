#!/usr/bin/env bash
# rowcat catalog copy and rowcat catalog info: a catalog copied file ->
# RADOS -> file dumps the same as it started, a copy never lands on a
# catalog (file or RADOS) and leaves nothing behind when it fails, and info
# says where a catalog is, what it is and who holds it (the SQLite VFS's
# lock in RADOS, read while another process holds it; a file catalog's gc
# lock). The RADOS side is checked with `rados` as client.admin, files
# with sqlite3.
. "$(dirname "$0")/lib.sh"
# Each test names both ends of its copies: the test's own catalog is the
# file they start from, in both passes of the suite (see lib.sh).
ROWCAT_TEST_CATALOG=file

# A rados:// catalog name unique to this test run (all tests share the
# pool), and its first object, which carries the VFS's lock.
rados_name() { echo "$(volname "$1").db"; }
first_object() { echo "$1.0000000000000000"; }

# rados_objects NAME: the objects of database NAME in pool rbd (its
# stripes and its journal's), sorted.
rados_objects() {
	rados -p rbd ls | grep -E "^$1(-journal)?\.[0-9a-f]{16}$" | sort
}

# remove_rados NAME: what a test made in RADOS, gone (the pool is shared).
remove_rados() {
	local o
	for o in $(rados_objects "$1"); do rados -p rbd rm "$o"; done
}

# rowcat_at CATALOG ARGS...: rowcat as client.rowcat on another catalog.
rowcat_at() {
	local catalog=$1
	shift
	"$ROWCAT" --id rowcat --catalog "$catalog" "$@"
}

# a file catalog with real volumes: two, with snapshots and a restore
make_source() {
	local v=$1
	rowcat init -q || fail init
	rowcat create "rbd/$v" --size 4M -q || fail create
	rowcat create "rbd/${v}b" --size 4M -q || fail "create b"
	rowcat snap "$v" s1 -q && rowcat snap "$v" s2 -q || fail snap
	rowcat restore "$v" s1 -q || fail restore
	rowcat snap "${v}b" t1 -q || fail "snap b"
}

test_a_copy_file_to_rados_to_file_dumps_the_same() {
	local v name back=$SCRATCH/back.db; v=$(volname) name=$(rados_name r)
	make_source "$v"
	run "$ROWCAT" --id rowcat catalog copy "$CATALOG" "rados://rbd/$name"
	expect_eq 0 "$status" "copy to RADOS ($err)"
	expect_contains "$err" "copied catalog $CATALOG to rados://rbd/$name" "copy's line"
	rados -p rbd stat "$(first_object "$name")" >/dev/null ||
		fail "no first object $(first_object "$name") in RADOS"
	# a catalog as any other there: tree reads it, check finds the cluster
	run rowcat_at "rados://rbd/$name" tree "$v" --format json
	expect_eq 0 "$status" "tree on the RADOS copy ($err)"
	expect_eq "$(rowcat tree "$v" --format json)" "$out" "tree of the RADOS copy"
	run rowcat_at "rados://rbd/$name" ls
	expect_eq "$(rowcat ls)" "$out" "ls of the RADOS copy"

	run "$ROWCAT" --id rowcat catalog copy "rados://rbd/$name" "$back"
	expect_eq 0 "$status" "copy back to a file ($err)"
	expect_eq "$(sqlite3 "$CATALOG" .dump)" "$(sqlite3 "$back" .dump)" \
		"the dump after file -> RADOS -> file"
	expect_eq wal "$(sqlite3 "$back" 'PRAGMA journal_mode')" "journal mode of the file copy"
	expect_eq 4096 "$(sqlite3 "$back" 'PRAGMA page_size')" "page size of the file copy"
	expect_eq 600 "$(stat -c %a "$back")" "mode of the file copy"
	CATALOG=$back expect_check_clean

	# RADOS -> RADOS and file -> file too
	run "$ROWCAT" --id rowcat catalog copy "rados://rbd/$name" "rados://rbd/$(rados_name s)"
	expect_eq 0 "$status" "copy RADOS -> RADOS ($err)"
	run "$ROWCAT" --id rowcat catalog copy "rados://rbd/$(rados_name s)" "$SCRATCH/again.db"
	expect_eq 0 "$status" "copy back ($err)"
	expect_eq "$(sqlite3 "$CATALOG" .dump)" "$(sqlite3 "$SCRATCH/again.db" .dump)" \
		"the dump after RADOS -> RADOS -> file"
	run "$ROWCAT" --id rowcat catalog copy "$back" "$SCRATCH/file.db"
	expect_eq 0 "$status" "copy file -> file ($err)"
	expect_eq "$(sqlite3 "$CATALOG" .dump)" "$(sqlite3 "$SCRATCH/file.db" .dump)" \
		"the dump after file -> file"
	remove_rados "$name"
	remove_rados "$(rados_name s)"
}

test_a_copy_never_lands_on_a_catalog() {
	local v name sum state objects; v=$(volname) name=$(rados_name r)
	make_source "$v"
	# a file there, even an empty one
	: >"$SCRATCH/empty.db"
	expect_refused 1 "$SCRATCH/empty.db exists" \
		"$ROWCAT" --id rowcat catalog copy "$CATALOG" "$SCRATCH/empty.db"
	expect_eq 0 "$(stat -c %s "$SCRATCH/empty.db")" "the empty file after the refusal"
	cp "$CATALOG" "$SCRATCH/other.db" || fail cp
	sqlite3 "$SCRATCH/other.db" "UPDATE volume SET size = size + 1" || fail "change the other"
	sum=$(sha256sum <"$SCRATCH/other.db")
	expect_refused 1 "never overwrites" \
		"$ROWCAT" --id rowcat catalog copy "$CATALOG" "$SCRATCH/other.db"
	expect_eq "$sum" "$(sha256sum <"$SCRATCH/other.db")" "the other catalog after the refusal"
	# a WAL left where the copy would go: SQLite would replay it
	: >"$SCRATCH/new.db-wal"
	expect_refused 1 "$SCRATCH/new.db-wal exists" \
		"$ROWCAT" --id rowcat catalog copy "$CATALOG" "$SCRATCH/new.db"
	[ ! -e "$SCRATCH/new.db" ] || fail "the refused copy made $SCRATCH/new.db"

	# a catalog in RADOS there
	"$ROWCAT" --id rowcat catalog copy "$CATALOG" "rados://rbd/$name" -q || fail "first copy"
	state=$(rados -p rbd stat "$(first_object "$name")"; rados -p rbd getxattr \
		"$(first_object "$name")" striper.version)
	objects=$(rados_objects "$name")
	expect_refused 1 "a catalog is at rados://rbd/$name already" \
		"$ROWCAT" --id rowcat catalog copy "$SCRATCH/other.db" "rados://rbd/$name"
	expect_eq "$state" "$(rados -p rbd stat "$(first_object "$name")"; rados -p rbd \
		getxattr "$(first_object "$name")" striper.version)" "the RADOS catalog after the refusal"
	expect_eq "$objects" "$(rados_objects "$name")" "its objects after the refusal"
	run "$ROWCAT" --id rowcat catalog copy "rados://rbd/$name" "$SCRATCH/check.db"
	expect_eq "$(sqlite3 "$CATALOG" .dump)" "$(sqlite3 "$SCRATCH/check.db" .dump)" \
		"the RADOS catalog still holds the first copy"
	# and a journal without its database, which SQLite would replay
	echo junk | rados -p rbd put "$(rados_name j)-journal.0000000000000000" - ||
		fail "rados put"
	expect_refused 1 "journal is there" \
		"$ROWCAT" --id rowcat catalog copy "$CATALOG" "rados://rbd/$(rados_name j)"
	expect_eq "$(rados_name j)-journal.0000000000000000" "$(rados_objects "$(rados_name j)")" \
		"objects after the refusal"
	# no lock object of the copies is left
	expect_eq "" "$(rados -p rbd ls | grep -F "$(volname)" | grep rowcat-create)" \
		"the copies' lock objects"
	remove_rados "$name"
	remove_rados "$(rados_name j)"
}

# Two copies to one place at once: one makes it, the other is refused
# (whichever comes second, and however they interleave).
test_two_copies_to_one_place_make_one_catalog() {
	local v name to i ok refused pids; v=$(volname) name=$(rados_name r)
	make_source "$v"
	for to in "rados://rbd/$name" "$SCRATCH/both.db"; do
		pids=()
		for i in 0 1; do
			"$ROWCAT" --id rowcat catalog copy "$CATALOG" "$to" \
				>"$SCRATCH/out.$i" 2>"$SCRATCH/err.$i" &
			pids+=($!)
		done
		ok=0 refused=0
		for i in 0 1; do
			if wait "${pids[i]}"; then
				ok=$((ok + 1))
			else
				grep -Eq "already|exists|under way" "$SCRATCH/err.$i" ||
					fail "copy $i to $to: $(cat "$SCRATCH/err.$i")"
				refused=$((refused + 1))
			fi
		done
		expect_eq "1 1" "$ok $refused" "copies to $to that succeeded and were refused"
	done
	run "$ROWCAT" --id rowcat catalog copy "rados://rbd/$name" "$SCRATCH/back.db"
	expect_eq 0 "$status" "copy back ($err)"
	expect_eq "$(sqlite3 "$CATALOG" .dump)" "$(sqlite3 "$SCRATCH/back.db" .dump)" \
		"the dump of the one copy in RADOS"
	expect_eq "$(sqlite3 "$CATALOG" .dump)" "$(sqlite3 "$SCRATCH/both.db" .dump)" \
		"the dump of the one file copy"
	remove_rados "$name"
}

test_a_copy_that_fails_leaves_nothing_behind() {
	local v name; v=$(volname) name=$(rados_name r)
	make_source "$v"
	expect_refused 1 "failure injected at copy.verify.before" env \
		ROWCAT_FAILPOINT=copy.verify.before:error \
		"$ROWCAT" --id rowcat catalog copy "$CATALOG" "rados://rbd/$name"
	expect_eq "" "$(rados_objects "$name")" "objects of the failed copy into RADOS"
	expect_refused 1 "failure injected at copy.verify.before" env \
		ROWCAT_FAILPOINT=copy.verify.before:error \
		"$ROWCAT" --id rowcat catalog copy "$CATALOG" "$SCRATCH/f.db"
	expect_eq "" "$(cd "$SCRATCH" && ls -d f.db* 2>/dev/null)" "files of the failed copy"
	# and the place is free for the next copy
	run "$ROWCAT" --id rowcat catalog copy "$CATALOG" "rados://rbd/$name"
	expect_eq 0 "$status" "a copy after the failed one ($err)"
	remove_rados "$name"
}

INFO_KEYS="catalog type pool pool_namespace object schema_version size wal_size page_size journal_mode lockers holder_address gc_pid policy_pid operations claims"

test_info_says_what_and_where_a_catalog_is() {
	local v name; v=$(volname) name=$(rados_name r)
	make_source "$v"
	# a file
	run rowcat catalog info
	expect_eq 0 "$status" "info of a file ($err)"
	expect_contains "$out" "catalog:        $CATALOG" "info's location"
	expect_contains "$out" "schema version: $(sqlite3 "$CATALOG" 'PRAGMA user_version')" "info's version"
	expect_contains "$out" "journal mode:   wal" "info's journal mode"
	expect_contains "$out" "gc              not running" "info's gc"
	run rowcat catalog info --format json
	expect_eq 0 "$status" "info --format json of a file ($err)"
	expect_json_keys "$out" "$INFO_KEYS" "info of a file"
	expect_eq "file $CATALOG $(sqlite3 "$CATALOG" 'PRAGMA user_version') $(stat -c %s "$CATALOG") 4096 wal null" \
		"$(jq -r '[.type, .catalog, .schema_version, .size, .page_size, .journal_mode, .pool] | join(" ")' <<<"$out" |
		sed 's/ $/ null/')" "info's values of a file"
	expect_eq "null null []" "$(jq -c -r '[.gc_pid, .policy_pid] + [.operations] | map(tojson) | join(" ")' <<<"$out")" \
		"nothing holds the file catalog"

	# in RADOS, in a namespace too
	rbd namespace create rbd/ns1 2>/dev/null
	"$ROWCAT" --id rowcat catalog copy "$CATALOG" "rados://rbd/ns1/$name" -q || fail "copy"
	run rowcat_at "rados://rbd/ns1/$name" catalog info --format json
	expect_eq 0 "$status" "info --format json in RADOS ($err)"
	expect_json_keys "$out" "$INFO_KEYS" "info in RADOS"
	local size
	size=$(rados -p rbd -N ns1 getxattr "$(first_object "$name")" striper.size) || fail getxattr
	expect_eq "rados rbd ns1 $(first_object "$name") $(sqlite3 "$CATALOG" 'PRAGMA user_version') $((10#$size)) 65536 persist 0" \
		"$(jq -r '[.type, .pool, .pool_namespace, .object, .schema_version, .size, .page_size, .journal_mode, (.lockers | length)] | join(" ")' <<<"$out")" \
		"info's values in RADOS"
	run rowcat_at "rados://rbd/ns1/$name" catalog info
	expect_eq 0 "$status" "info in RADOS ($err)"
	expect_contains "$out" "namespace:      ns1" "info's namespace"
	expect_contains "$out" "lock:           free" "info's lock"
	for o in $(rados -p rbd -N ns1 ls | grep -E "^$name(-journal)?\.[0-9a-f]{16}$"); do
		rados -p rbd -N ns1 rm "$o"
	done
	# nothing there
	expect_refused 1 "no catalog at rados://rbd/$name" rowcat_at "rados://rbd/$name" catalog info
	expect_refused 1 "no catalog at $SCRATCH/none.db" rowcat_at "$SCRATCH/none.db" catalog info
}

test_info_names_the_holder_of_the_rados_lock() {
	local v name obj fifo=$SCRATCH/hold.fifo holder lock; v=$(volname) name=$(rados_name r)
	make_source "$v"
	"$ROWCAT" --id rowcat catalog copy "$CATALOG" "rados://rbd/$name" -q || fail "copy"
	obj=$(first_object "$name")
	# another process holds the VFS's lock: sqlite3 with Ceph's VFS in
	# exclusive locking mode, which keeps it until it ends
	mkfifo "$fifo" || fail mkfifo
	CEPH_ARGS="--id rowcat" timeout 300 sqlite3 -cmd '.load libcephsqlite.so' \
		-cmd ".open file:///rbd:/$name?vfs=ceph" <"$fifo" >"$SCRATCH/hold.out" 2>&1 &
	holder=$!
	exec 3>"$fifo"
	echo "PRAGMA locking_mode = EXCLUSIVE; SELECT count(*) FROM volume;" >&3
	# until the OSD lists it (a bounded wait, not a timing)
	for _ in $(seq 600); do
		lock=$(rados -p rbd lock info "$obj" striper.lock) || fail "rados lock info"
		[ "$(jq '.lockers | length' <<<"$lock")" = 1 ] && break
		kill -0 "$holder" 2>/dev/null || fail "the holder ended: $(cat "$SCRATCH/hold.out")"
		sleep 0.1
	done
	[ "$(jq '.lockers | length' <<<"$lock")" = 1 ] || fail "the holder never took the lock"
	run rowcat_at "rados://rbd/$name" catalog info --format json
	expect_eq 0 "$status" "info while the lock is held ($err)"
	expect_eq "$(jq -r '.lockers[0] | [.name, .cookie, .description] | join(" ")' <<<"$lock")" \
		"$(jq -r '.lockers[0] | [.entity, .cookie, .description] | join(" ")' <<<"$out")" \
		"the holder info names"
	expect_eq "$(rados -p rbd getxattr "$obj" striper.excl)" "$(jq -r .holder_address <<<"$out")" \
		"the holder's address (striper.excl)"
	[ "$(jq -r '.lockers[0].expires' <<<"$out")" != null ] || fail "no expiry: $out"
	run rowcat_at "rados://rbd/$name" catalog info
	expect_contains "$out" "lock:           held by $(jq -r '.lockers[0].name' <<<"$lock") at" "info's holder"
	expect_contains "$out" "\"SimpleRADOSStriper\"" "info's description of the holder"
	# the holder goes; the lock with it
	exec 3>&-
	wait "$holder"
	run rowcat_at "rados://rbd/$name" catalog info --format json
	expect_eq "0 null" "$(jq -r '[(.lockers | length), .holder_address] | join(" ")' <<<"$out" | sed 's/ $/ null/')" \
		"the lock after the holder ended"
	remove_rados "$name"
}

test_info_names_the_gc_run_that_holds_a_file_catalog() {
	local fifo=$SCRATCH/gc.fifo holder
	rowcat init -q || fail init
	# holds CATALOG-gc.lock as a gc run does (an OFD lock, its pid
	# written in), until the fifo closes
	mkfifo "$fifo" || fail mkfifo
	python3 - "$CATALOG-gc.lock" "$fifo" <<'PY' &
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, 0, 0, 0))
os.ftruncate(fd, 0)
os.write(fd, b"%d\n" % os.getpid())
with open(sys.argv[2]) as f:
    f.read()
PY
	holder=$!
	exec 3>"$fifo"
	for _ in $(seq 600); do
		[ -s "$CATALOG-gc.lock" ] && break
		sleep 0.1
	done
	# rowcat's own gc sees the same lock
	expect_refused 1 "another rowcat gc is running (pid $holder)" rowcat gc --min-age 0s
	run rowcat catalog info --format json
	expect_eq "$holder null" "$(jq -r '[.gc_pid, .policy_pid] | map(tojson) | join(" ")' <<<"$out")" \
		"info's gc and policy holders"
	run rowcat catalog info
	expect_contains "$out" "gc              running (pid $holder)" "info's gc line"
	exec 3>&-
	wait "$holder"
	run rowcat catalog info --format json
	expect_eq null "$(jq -r .gc_pid <<<"$out")" "info's gc after the run ended"
}

test_bad_locations_and_arguments_are_refused() {
	rowcat init -q || fail init
	local bad
	for bad in rados:// rados://rbd rados://rbd/ rados://rbd/a/b/c 'rados://rbd/a b' \
		'rados://rbd/x$y' rados:///x; do
		expect_refused 2 "catalog '$bad'" "$ROWCAT" --id rowcat catalog copy "$CATALOG" "$bad"
		expect_refused 2 "catalog '$bad'" "$ROWCAT" --id rowcat catalog copy "$bad" "$SCRATCH/x.db"
		expect_refused 2 "catalog '$bad'" rowcat_at "$bad" catalog info
	done
	[ ! -e "$SCRATCH/x.db" ] || fail "a refused copy made x.db"
	expect_refused 1 "pool 'nopool' does not exist" \
		"$ROWCAT" --id rowcat catalog copy "$CATALOG" rados://nopool/x.db
	expect_refused 1 "pool 'nopool' does not exist" rowcat_at rados://nopool/x.db catalog info
	expect_refused 2 "both FROM and TO" "$ROWCAT" --id rowcat catalog copy "$CATALOG" "$CATALOG"
	expect_refused 2 "usage: rowcat catalog" "$ROWCAT" catalog
	expect_refused 2 "usage: rowcat catalog" "$ROWCAT" catalog move a b
	expect_refused 2 "" "$ROWCAT" catalog copy "$CATALOG"
	expect_refused 1 "is not a rowcat catalog" "$ROWCAT" catalog copy /etc/passwd "$SCRATCH/y.db"
	[ ! -e "$SCRATCH/y.db" ] || fail "a refused copy made y.db"
}

run_tests
