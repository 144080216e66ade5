#!/usr/bin/env bash
# rowcat check --data: a flatten that lost data (librbd 16.2 trusting an
# object map that claims objects the cluster lacks, Ceph tracker 68998) is
# found object by object, and so is the stale map that leads to it. The
# state is made with Ceph's own `rbd flatten`, killed and run again, and
# the truth is taken from `rbd export`, never from rowcat.
. "$(dirname "$0")/lib.sh"

SEED=7

# new_volume VOL: a 128 MiB volume (32 objects of 4 MiB) whose first image
# holds rbd_pattern's pattern everywhere, snapped as s1: its operating
# image is a clone of VOL@s1 reading all of it through the parent.
new_volume() {
	rowcat create "rbd/$1" --size 128M -q || fail "create $1"
	"$RBD_PATTERN" write "$(rowcat which "$1")" "$SEED" || fail "write $1"
	rowcat snap "$1" s1 -q || fail "snap $1"
}

# drop_volume VOL: removes new_volume's images with rbd (each try holds
# 256 MiB of the test cluster's memory once flattened).
drop_volume() {
	local op
	op=$(rowcat which "$1") || fail "which $1"
	rbd rm --no-progress "$op" >/dev/null 2>&1 || fail "rbd rm $op"
	rbd snap unprotect "rbd/$1@s1" >/dev/null 2>&1 || fail "unprotect $1@s1"
	rbd snap purge --no-progress "rbd/$1" >/dev/null 2>&1 || fail "snap purge $1"
	rbd rm --no-progress "rbd/$1" >/dev/null 2>&1 || fail "rbd rm $1"
}

# kill_flatten_midway SPEC: starts Ceph's `rbd flatten` of SPEC and kills
# it (-9) once RADOS holds a quarter of the image's 32 objects, so that the
# kill lands among copy-ups in flight, whatever the machine's speed. The
# flatten's own client delays each OSD reply (a Ceph messenger debug
# option, only in that process) so that a copy-up is long enough to be
# caught in flight. (rbd's progress is no trigger: it showed 28% with no
# object written yet.)
kill_flatten_midway() {
	local prefix pid
	prefix=$(rbd info --format json "$1" | jq -r .block_name_prefix)
	rbd flatten --no-progress --ms_inject_delay_type osd \
		--ms_inject_delay_max 0.02 --ms_inject_delay_probability 1 "$1" &
	pid=$!
	until [ "$(rados -p rbd ls | grep -c "^$prefix\.")" -ge 8 ] ||
		! kill -0 "$pid" 2>/dev/null; do
		:
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# objects_of KIND: the object numbers of check --data's findings of KIND in
# $out (JSON), ascending, on one line.
objects_of() {
	jq -r --arg k "$1" '.[] | select(.kind == $k) | .object' <<<"$out" |
		sort -n | xargs
}

# differing_objects A B: the numbers of the 4 MiB objects in which the
# exports of A and B differ, ascending, on one line.
differing_objects() {
	rbd export --no-progress "$1" "$SCRATCH/a.raw" >/dev/null 2>&1 || fail "export $1"
	rbd export --no-progress "$2" "$SCRATCH/b.raw" >/dev/null 2>&1 || fail "export $2"
	python3 - "$SCRATCH/a.raw" "$SCRATCH/b.raw" <<-'EOF'
	import sys
	size = 4 << 20
	with open(sys.argv[1], 'rb') as a, open(sys.argv[2], 'rb') as b:
	    n, differ = 0, []
	    while True:
	        x, y = a.read(size), b.read(size)
	        if not x and not y:
	            break
	        if x != y:
	            differ.append(str(n))
	        n += 1
	print(' '.join(differ))
	EOF
	rm -f "$SCRATCH/a.raw" "$SCRATCH/b.raw"
}

# absent_objects SPEC: the numbers of SPEC's objects that RADOS lacks, of
# the first 32, ascending, on one line.
absent_objects() {
	local prefix n absent=()
	prefix=$(rbd info --format json "$1" | jq -r .block_name_prefix)
	for n in $(seq 0 31); do
		rados -p rbd stat "$(printf '%s.%016x' "$prefix" "$n")" >/dev/null 2>&1 ||
			absent+=("$n")
	done
	echo "${absent[*]}"
}

# check_data_changes_nothing VOL: runs `rowcat check --data VOL --format
# json` into $status/$out/$err, and checks that cluster, image data and
# catalog are as before.
check_data_changes_nothing() {
	local before_cluster before_catalog before_data op
	op=$(rowcat which "$1")
	before_cluster=$(cluster_state)
	before_catalog=$(catalog_state)
	before_data=$(checksum "$op")
	run rowcat check --data "$1" --format json
	expect_eq "$before_cluster" "$(cluster_state)" "cluster after check --data"
	expect_eq "$before_catalog" "$(catalog_state)" "catalog after check --data"
	expect_eq "$before_data" "$(checksum "$op")" "data after check --data"
}

# stale_map_volume: makes volumes until a killed `rbd flatten` leaves an
# operating image whose object map claims objects the cluster lacks;
# sets $v, $op and $claimed (the object numbers check --data reports).
stale_map_volume() {
	local try
	claimed=
	for try in $(seq 1 12); do
		v=$(volname "-$try")
		new_volume "$v"
		op=$(rowcat which "$v")
		kill_flatten_midway "$op"
		# finished before the kill, or killed between copy-ups: again
		if [ "$(rbd_parent "$op")" != none ]; then
			check_data_changes_nothing "$v"
			claimed=$(objects_of map-without-object)
			[ -n "$claimed" ] && return 0
			expect_eq 0 "$status" "check --data of a clone with a sound map ($out $err)"
		fi
		drop_volume "$v"
	done
	fail "no killed flatten left an object map claiming a missing object in $try tries"
}

test_a_sound_clone_and_a_flatten_by_rowcat_are_clean() {
	rowcat init -q || fail init
	local v; v=$(volname)
	new_volume "$v"
	run rowcat check --data "$v"
	expect_eq 0 "$status" "check --data of a clone ($err)"
	expect_eq "" "$out" "check --data output of a clone"
	rowcat flatten "$v" -q || fail flatten
	expect_eq none "$(rbd_parent "$(rowcat which "$v")")" "flattened"
	check_data_changes_nothing "$v"
	expect_eq 0 "$status" "check --data of a flattened volume ($out $err)"
	expect_eq "[]" "$out" "check --data JSON of a flattened volume"
	run rowcat check --data "$v"
	expect_eq 0 "$status" "check --data of a flattened volume ($err)"
	expect_eq "" "$out" "check --data output of a flattened volume"
	expect_eq "" "$err" "check --data messages of a flattened volume"
	drop_volume "$v"
}

# The killed flatten leaves the trap; Ceph's flatten run again springs it.
# check --data names the trap's objects first, then exactly the objects
# whose data the export shows lost.
test_a_plain_flatten_killed_and_rerun_loses_objects_check_data_names_them() {
	rowcat init -q || fail init
	local v op claimed lost truth absent
	stale_map_volume
	expect_eq 1 "$status" "check --data exit with a stale map ($err)"
	expect_eq "" "$(jq -r '.[] | select(.kind != "map-without-object") | .message' <<<"$out")" \
		"nothing but the map's claims before the second flatten"
	expect_contains "$err" "of volume '$v' with lost or endangered data" "summary"
	absent=" $(absent_objects "$op") "
	for n in $claimed; do
		case "$absent" in *" $n "*) ;; *) fail "object $n reported as missing is on the cluster" ;; esac
	done
	# the snapshot still reads the same through the clone, for now
	expect_eq "" "$(differing_objects "$op" "rbd/$v@s1")" "the clone reads its parent"

	rbd flatten --no-progress "$op" || fail "plain rbd flatten"
	expect_eq none "$(rbd_parent "$op")" "flattened by rbd"
	truth=$(differing_objects "$op" "rbd/$v@s1")
	[ -n "$truth" ] || fail "the second flatten lost nothing (claimed: $claimed)"
	expect_eq "$claimed" "$truth" "the objects the map claimed are the ones lost"

	check_data_changes_nothing "$v"
	expect_eq 1 "$status" "check --data exit after the loss ($err)"
	lost=$(objects_of lost-data)
	expect_eq "$truth" "$lost" "objects check --data reports as lost"
	expect_eq "" "$(objects_of map-without-object)" "no map claims left"
	# the catalog's parent link is reported too: rbd flattened behind its back
	expect_eq "parent" "$(jq -r '[.[] | select(.kind != "lost-data") | .kind] | unique | join(",")' <<<"$out")" \
		"the other difference"
	# the plain lines: one per lost object, naming image, range and snapshot
	run rowcat check --data "$v"
	expect_eq 1 "$status" "plain check --data exit"
	for n in $truth; do
		expect_contains "$out" "image $op: object $n (bytes $((n * 4194304))-$(((n + 1) * 4194304 - 1))) is not on the cluster and the image has no parent any more, but parent snapshot rbd/$v@s1 has data there" \
			"line of object $n"
	done
	expect_eq "$(($(wc -w <<<"$truth") + 1))" "$(wc -l <<<"$out")" "one line per lost object, one for the parent"
	expect_eq 1 "$(printf '%s\n' "$err" | wc -l)" "one summary line"
	drop_volume "$v"
}

# rowcat's own flatten resumes the killed one without losing anything
# (the object map off), and check --data agrees.
test_a_killed_flatten_resumed_by_rowcat_loses_nothing() {
	rowcat init -q || fail init
	local v op claimed
	stale_map_volume
	rowcat flatten "$v" -q || fail "rowcat flatten"
	expect_eq none "$(rbd_parent "$op")" "flattened"
	expect_eq "$(pattern_checksum $((128 << 20)) "$SEED")" "$(checksum "$op")" \
		"the data after rowcat's flatten"
	run rowcat check --data "$v"
	expect_eq 0 "$status" "check --data after rowcat's flatten ($out $err)"
	expect_eq "" "$out" "check --data output after rowcat's flatten"
	drop_volume "$v"
}

test_check_data_refuses_bad_input_in_one_line() {
	rowcat init -q || fail init
	local before_cluster before_catalog
	before_cluster=$(cluster_state)
	before_catalog=$(catalog_state)
	expect_refused 2 "check --data needs a volume" rowcat check --data
	expect_refused 2 "check --data needs a volume" rowcat check --data --format json
	expect_refused 1 "nosuchvolume" rowcat check --data nosuchvolume
	expect_refused 2 "volumes are named without their pool: did you mean 'x'?" rowcat check --data rbd/x
	expect_eq "$before_cluster" "$(cluster_state)" "cluster after refusals"
	expect_eq "$before_catalog" "$(catalog_state)" "catalog after refusals"
}

run_tests
