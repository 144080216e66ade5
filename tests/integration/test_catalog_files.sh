#!/usr/bin/env bash
# The catalog file and the files rowcat keeps beside it, when they are not
# what they should be: an empty file is not taken for a new catalog, a
# damaged one is refused by init, recover, check and ls, a full or read-only
# file system is named as such (and nothing is said to have died), planted
# symbolic links are refused and their targets left alone, metrics files
# are 0644 whatever the umask, their directory is synced after the rename,
# a metrics path too long for its temporary name is refused, and a policy
# file that is a FIFO is refused at once. The file system tests mount a small tmpfs of their own: they
# need root, as the suite has in CI.
. "$(dirname "$0")/lib.sh"
# Every test here is about a file catalog and the files beside it: a file
# catalog in both passes of the suite (see lib.sh).
ROWCAT_TEST_CATALOG=file

# small_fs SIZE: a tmpfs of SIZE at $SCRATCH/fs, unmounted when the test
# ends; the test's catalog moves there.
small_fs() {
	[ "$(id -u)" = 0 ] || fail "this test mounts a tmpfs: run it as root (CI does)"
	mkdir "$SCRATCH/fs" || fail "mkdir"
	mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$SCRATCH/fs" || fail "mount tmpfs"
	trap 'umount -l "$SCRATCH/fs"' EXIT
	CATALOG=$SCRATCH/fs/catalog.db
}

# leave_free KIB: fills $SCRATCH/fs (after emptying its filler) until KIB
# KiB are free; 0 fills it up.
leave_free() {
	local avail
	rm -f "$SCRATCH/fs/filler"
	avail=$(df -k --output=avail "$SCRATCH/fs" | tail -1)
	if [ "$1" = 0 ]; then
		dd if=/dev/zero of="$SCRATCH/fs/filler" bs=4k status=none 2>/dev/null
	else
		[ "$avail" -gt "$1" ] || fail "only $avail KiB free, wanted $1"
		dd if=/dev/zero of="$SCRATCH/fs/filler" bs=1k count=$((avail - $1)) status=none ||
			fail "filling the file system"
	fi
}

expect_not_contains() { # HAYSTACK NEEDLE WHAT
	case "$1" in *"$2"*) fail "$3: '$2' in: $1" ;; esac
}

# image_listing VOL: VOL's images and their snapshots as rbd shows them.
image_listing() {
	rbd ls -l --format json rbd | jq -c --arg v "$1" \
		'[.[] | select(.image | test("^" + $v + "(\\.rc[0-9]+)?$"))]'
}

# damage_table TABLE: overwrites the first page of TABLE in $CATALOG with
# bytes that no SQLite page starts with, as a failing disk might.
damage_table() {
	local root size
	root=$(sqlite3 "$CATALOG" "SELECT rootpage FROM sqlite_master WHERE name = '$1'")
	size=$(sqlite3 "$CATALOG" "PRAGMA page_size")
	[ -n "$root" ] && [ ! -e "$CATALOG-wal" ] || fail "no page of $1, or a WAL left"
	head -c "$size" /dev/zero | tr '\0' '\377' |
		dd of="$CATALOG" bs="$size" seek=$((root - 1)) conv=notrunc status=none ||
		fail "dd"
}

test_an_empty_catalog_file_is_never_taken_for_a_new_catalog() {
	rowcat init -q || fail init
	local v before; v=$(volname)
	rowcat create "rbd/$v" --size 1M -q && rowcat snap "$v" s1 -q || fail setup
	# the catalog is lost (a botched copy, a full disk at the wrong time)
	: >"$CATALOG"
	before=$(image_listing "$v")
	local cmd
	for cmd in ls recover check "which $v" "tree $v" "snap $v" "pin $v@s1" \
		"gc --min-age 0s" "create rbd/$(volname b) --size 1M"; do
		# shellcheck disable=SC2086
		expect_refused 1 "$CATALOG is empty, not a rowcat catalog" rowcat $cmd
		expect_eq 0 "$(stat -c %s "$CATALOG")" "catalog size after '$cmd'"
	done
	expect_eq "$before" "$(image_listing "$v")" "the cluster after the refusals"
	# init is asked to make a catalog there: it does
	run rowcat init
	expect_eq 0 "$status" "init of an empty file ($err)"
	expect_contains "$err" "ready" "init"
}

test_a_damaged_catalog_is_refused_by_init_recover_check_and_ls() {
	rowcat init -q || fail init
	local v cmd sum; v=$(volname)
	rowcat create "rbd/$v" --size 1M -q && rowcat snap "$v" s1 -q || fail setup
	cp "$CATALOG" "$SCRATCH/whole.db"
	# the volume table: every command reads it
	damage_table volume
	sum=$(sha256sum <"$CATALOG")
	for cmd in init recover check ls; do
		expect_refused 1 "$CATALOG is damaged" rowcat "$cmd"
		expect_eq "$sum" "$(sha256sum <"$CATALOG")" "catalog after '$cmd'"
	done
	# the journal: ls does not read it, but recover must not say "nothing
	# to recover" over it, nor init "ready"
	cp "$SCRATCH/whole.db" "$CATALOG"
	damage_table operation
	sum=$(sha256sum <"$CATALOG")
	for cmd in init recover check; do
		expect_refused 1 "$CATALOG is damaged" rowcat "$cmd"
		expect_eq "$sum" "$(sha256sum <"$CATALOG")" "catalog after '$cmd'"
	done
	# and the whole copy is clean, which shows the damage was the reason
	cp "$SCRATCH/whole.db" "$CATALOG"
	expect_check_clean
}

test_a_full_file_system_is_named_and_nobody_is_said_to_have_died() {
	small_fs 2m
	rowcat init -q || fail init
	local v kib left_unfinished=0; v=$(volname)
	rowcat create "rbd/$v" --size 1M -q && rowcat snap "$v" s0 -q || fail setup

	# not a byte left: even opening needs room beside the catalog
	leave_free 0
	expect_refused 1 "No space left on device" rowcat ls
	expect_not_contains "$err" "not a rowcat catalog" "ls on a full file system"

	# a few KiB left: some writes fit, others do not
	for kib in 16 24 32 40 48 56 64 72 80 96; do
		leave_free "$kib"
		run rowcat snap "$v" "t$kib" -q
		if [ "$status" != 0 ]; then
			expect_contains "$err" "No space left on device" "snap with $kib KiB free"
			expect_not_contains "$err" "died" "snap with $kib KiB free"
		fi
		run rowcat pin "$v@s0" -q
		if [ "$status" != 0 ]; then
			expect_not_contains "$err" "died" "pin with $kib KiB free"
			case "$err" in
			*"was left unfinished (its rowcat was killed, or could not write the catalog)"*)
				left_unfinished=$((left_unfinished + 1)) ;;
			*"No space left on device"*) ;;
			*) fail "pin with $kib KiB free: $err" ;;
			esac
		fi
	done
	# the case of the report: a snap stopped by the full disk holds its
	# volume, and the refusal says what may have happened
	[ "$left_unfinished" -gt 0 ] || fail "no free space left a snap unfinished"

	rm -f "$SCRATCH/fs/filler"
	rowcat recover -q || fail "recover once there is room"
	expect_eq 0 "$(running_ops)" "running operations after recover"
	# no operation whose snapshot was recorded says it was never taken
	expect_eq 0 "$(sqlite3 "$CATALOG" "SELECT count(*) FROM operation
		WHERE step NOT IN ('journalled', 'target-chosen')
		AND error LIKE '%before its snapshot%'")" "words of the rolled-back operations"
	expect_check_clean
	rowcat snap "$v" after -q || fail "a snap once there is room"
	expect_check_clean
}

test_an_undone_snap_whose_end_was_not_recorded_says_what_happened() {
	rowcat init -q || fail init
	local v; v=$(volname)
	rowcat create "rbd/$v" --size 1M -q || fail create
	# the snapshot is taken and recorded (the clone begun), the clone
	# fails, the undo removes the snapshot and dies before it can record
	# its end (as a full disk would stop it)
	run env ROWCAT_FAILPOINT=row.clone.before:error,row.undo-commit.before \
		"$ROWCAT" --id rowcat --catalog "$CATALOG" snap "$v" s1 -q
	[ "$status" = 0 ] && fail "the snap was not stopped"
	expect_eq "running cloning" \
		"$(sqlite3 "$CATALOG" "SELECT state, step FROM operation WHERE kind = 'snap'" | tr '|' ' ')" \
		"the journal after the undo"
	expect_eq "" "$(rbd snap ls --format json "rbd/$v" | jq -r '.[].name')" "snapshots on the cluster"
	rowcat recover -q || fail recover
	run sqlite3 "$CATALOG" "SELECT state || ': ' || error FROM operation WHERE kind = 'snap'"
	expect_contains "$out" "rolled-back: its snapshot, recorded as taken, is gone from the cluster" \
		"the recovered operation"
	expect_check_clean
}

test_a_read_only_file_system_is_named() {
	small_fs 1m
	rowcat init -q || fail init
	mount -o remount,ro "$SCRATCH/fs" || fail "remount ro"
	local cmd
	for cmd in ls init recover check; do
		expect_refused 1 "cannot open catalog $CATALOG: Read-only file system" rowcat "$cmd"
	done
}

test_planted_symbolic_links_are_refused_and_their_targets_left_alone() {
	rowcat init -q || fail init
	local v victim=$SCRATCH/victim prom=$SCRATCH/gc.prom file=$SCRATCH/policy.yaml
	v=$(volname)
	echo precious >"$victim"
	cat >"$file" <<EOF
version: 1
timezone: UTC
policies:
  - name: p
    volumes: ["rbd/$v"]
    every: 1h
    keep: {latest: 1}
EOF

	ln -s "$victim" "$CATALOG-oplock"
	expect_refused 1 "$CATALOG-oplock is a symbolic link" rowcat create "rbd/$v" --size 1M
	rbd info "rbd/$v" >/dev/null 2>&1 && fail "create went ahead without its claim"
	rm "$CATALOG-oplock"
	rowcat create "rbd/$v" --size 1M -q || fail create

	ln -s "$victim" "$CATALOG-gc.lock"
	expect_refused 1 "$CATALOG-gc.lock is a symbolic link" rowcat gc --min-age 0s
	rm "$CATALOG-gc.lock"
	# a dangling link is not created through either
	ln -s "$SCRATCH/made-by-root" "$CATALOG-gc.lock"
	expect_refused 1 "$CATALOG-gc.lock is a symbolic link" rowcat gc --min-age 0s
	[ -e "$SCRATCH/made-by-root" ] && fail "a file was created through a dangling link"
	rm "$CATALOG-gc.lock"

	ln -s "$victim" "$CATALOG-policy.lock"
	expect_refused 1 "$CATALOG-policy.lock is a symbolic link" rowcat policy run "$file"
	rm "$CATALOG-policy.lock"
	ln "$victim" "$CATALOG-policy.lock"
	expect_refused 1 "$CATALOG-policy.lock has 2 hard links" rowcat policy run "$file"
	rm "$CATALOG-policy.lock"

	# the metrics file's temporary name is PATH.tmp.PID: exec keeps the
	# shell's pid, so the link is planted at the name rowcat will use
	expect_refused 1 "$prom.tmp." bash -c 'ln -s "$0" "$1.tmp.$$" && exec "${@:2}"' \
		"$victim" "$prom" "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		gc --min-age 0s -q --metrics "$prom"
	expect_contains "$err" "already exists" "the metrics refusal"
	[ -e "$prom" ] && fail "metrics were written through a planted link"

	expect_eq precious "$(cat "$victim")" "the victim"
	expect_eq 1 "$(stat -c %h "$victim")" "the victim's links"
	expect_check_clean
}

test_metrics_files_are_0644_whatever_the_umask() {
	rowcat init -q || fail init
	local mask
	for mask in 000 022 077; do
		(umask "$mask" && rowcat gc --min-age 0s -q --metrics "$SCRATCH/gc-$mask.prom") ||
			fail "gc --metrics under umask $mask"
		expect_eq 644 "$(stat -c %a "$SCRATCH/gc-$mask.prom")" "mode under umask $mask"
	done
	expect_eq "" "$(find "$SCRATCH" -name '*.tmp.*')" "temporary metrics files left"
}

# The temporary name is PATH.tmp.PID: a path that is valid (4090 bytes,
# under PATH_MAX) but leaves no room for that suffix is refused, and
# nothing is written in its directory (a temporary name cut short would
# have been written and renamed).
test_a_metrics_path_too_long_for_its_temporary_name_is_refused() {
	rowcat init -q || fail init
	local dir=$SCRATCH/long name prom
	while [ $((4090 - ${#dir} - 1)) -gt 250 ]; do
		dir+=/$(printf 'd%.0s' $(seq 200))
	done
	mkdir -p "$dir" || fail "mkdir of a long path"
	name=$(printf 'm%.0s' $(seq $((4090 - ${#dir} - 1))))
	prom=$dir/$name
	expect_eq 4090 "${#prom}" "the metrics path's length"
	expect_refused 1 "path is too long for the temporary file" \
		rowcat gc --min-age 0s -q --metrics "$prom"
	expect_eq "" "$(ls -A "$dir")" "files written beside the long path"
}

# after_rename_dir_synced TRACE DIR FILE: strace's TRACE shows the rename
# onto FILE, then DIR opened as a directory and that descriptor synced.
after_rename_dir_synced() {
	awk -v dir="\"$2\"" -v file="\"$3\"" '
		/rename/ && index($0, file) { renamed = 1; next }
		renamed && /openat\(/ && index($0, dir) && /O_DIRECTORY/ { fd = $NF; next }
		fd != "" && $0 ~ "fsync\\(" fd "\\) += 0" { found = 1; exit }
		END { exit !found }' "$1"
}

# Without a sync of the directory, a crash after the rename can bring back
# the old file, or none: the rename is only on disk once the directory is.
test_metrics_directory_is_synced_after_the_rename() {
	command -v strace >/dev/null ||
		fail "strace is missing (tests/cluster/install-deps.sh installs it)"
	rowcat init -q || fail init
	mkdir "$SCRATCH/textfile" || fail mkdir
	# LeakSanitizer cannot run under ptrace; the other tests check leaks
	local ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	export ASAN_OPTIONS
	strace -f -qq -e trace=rename,renameat,renameat2,openat,fsync \
		-o "$SCRATCH/trace" "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		gc --min-age 0s -q --metrics "$SCRATCH/textfile/gc.prom" ||
		fail "gc --metrics under strace"
	after_rename_dir_synced "$SCRATCH/trace" "$SCRATCH/textfile" \
		"$SCRATCH/textfile/gc.prom" ||
		fail "no sync of the directory after the rename: $(grep -E 'rename|fsync|textfile' "$SCRATCH/trace")"
	# a bare file name: the directory is the current one
	(cd "$SCRATCH/textfile" && strace -f -qq -e trace=rename,renameat,renameat2,openat,fsync \
		-o "$SCRATCH/trace2" "$ROWCAT" --id rowcat --catalog "$CATALOG" \
		gc --min-age 0s -q --metrics gc2.prom) || fail "gc --metrics gc2.prom"
	after_rename_dir_synced "$SCRATCH/trace2" . gc2.prom ||
		fail "no sync of . after the rename: $(grep -E 'rename|fsync|"\."' "$SCRATCH/trace2")"
	grep -q '^rowcat_gc_last_run_success 1$' "$SCRATCH/textfile/gc2.prom" ||
		fail "the metrics written by name"
}

test_a_policy_file_that_is_a_fifo_is_refused_at_once() {
	rowcat init -q || fail init
	mkfifo "$SCRATCH/policy.yaml" || fail mkfifo
	local cmd
	for cmd in check run; do
		# the time limit only turns a hang into a failure
		expect_refused 1 "policy file $SCRATCH/policy.yaml is not a regular file" \
			timeout 60 "$ROWCAT" --id rowcat --catalog "$CATALOG" \
			policy "$cmd" "$SCRATCH/policy.yaml"
	done
}

run_tests
