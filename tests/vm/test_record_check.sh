#!/usr/bin/env bash
# record_check on synthetic disks: a clean prefix passes, and every way a
# disk can hold something else (a record past a gap, another boot's record,
# a flipped byte, a record in the wrong sector, a missing acked record, a
# wrong nonce) fails with its count. Run by ctest as record_check.
#
#   test_record_check.sh PATH-TO-record_check
set -uo pipefail

CHECK=${1:?usage: test_record_check.sh PATH-TO-record_check}
NONCE=00c0ffee12345678
OTHER=0123456789abcdef
work=$(mktemp -d "${TMPDIR:-/tmp}/record-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0

# disk FILE SECTORS: a zeroed disk.
disk() { rm -f "$1"; truncate -s $(($2 * 512)) "$1"; }

# put FILE SECTOR NONCE SEQ: record SEQ of NONCE into sector SECTOR.
put() {
	"$CHECK" --emit "$3" "$4" | dd of="$1" bs=512 seek="$2" conv=notrunc status=none
}

# prefix FILE N: records 0..N-1 of NONCE in their sectors.
prefix() {
	local i
	for ((i = 0; i < $2; i++)); do put "$1" "$i" "$NONCE" "$i"; done
}

# expect WHAT STATUS "KEY VALUE..." CHECK-ARGS...: record_check exits
# STATUS and prints each "KEY VALUE" line.
expect() {
	local what=$1 want=$2 lines=$3 out status line
	shift 3
	out=$("$CHECK" "$@" 2>/dev/null)
	status=$?
	if [ "$status" != "$want" ]; then
		echo "not ok - $what: exit $status, expected $want"; failed=1; return
	fi
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		if ! grep -qx "$line" <<<"$out"; then
			echo "not ok - $what: no line '$line' in: $out"; failed=1; return
		fi
	done <<<"$lines"
	echo "ok - $what"
}

d=$work/disk
disk "$d" 64; prefix "$d" 10
expect "a prefix then zeros passes" 0 "nonce $NONCE
prefix 10
after_gap 0
other 0" "$d"
expect "stdin works as a file" 0 "prefix 10" - <"$d"
expect "acked records inside the prefix pass" 0 "prefix 10" --acked 9 "$d"
expect "an acked record past the prefix fails" 1 "prefix 10" --acked 10 "$d"
expect "the boot's nonce passes" 0 "prefix 10" --nonce "$NONCE" "$d"
expect "another nonce fails: its records are foreign" 1 "prefix 0
foreign 10" --nonce "$OTHER" "$d"

disk "$d" 64; prefix "$d" 10; put "$d" 12 "$NONCE" 12
expect "a record past a gap fails" 1 "prefix 10
after_gap 1
stray 12 12" "$d"

disk "$d" 64; prefix "$d" 10; put "$d" 10 "$OTHER" 10
expect "an older boot's record fails" 1 "prefix 10
foreign 1" "$d"

disk "$d" 64; prefix "$d" 10; put "$d" 10 "$NONCE" 11
expect "a record in the wrong sector fails" 1 "prefix 10
misplaced 1" "$d"

disk "$d" 64; prefix "$d" 10
printf '\x01' | dd of="$d" bs=1 seek=$((5 * 512 + 100)) conv=notrunc status=none
expect "a flipped filler byte fails" 1 "prefix 5
corrupt 1
after_gap 4" "$d"

disk "$d" 64; prefix "$d" 10
printf 'junk' | dd of="$d" bs=1 seek=$((20 * 512)) conv=notrunc status=none
expect "foreign bytes fail" 1 "prefix 10
other 1" "$d"

disk "$d" 64
expect "an empty disk is an empty prefix" 0 "nonce none
prefix 0" "$d"
expect "an empty disk misses an acked record" 1 "prefix 0" --acked 0 "$d"

disk "$d" 64; prefix "$d" 3; truncate -s $((64 * 512 + 7)) "$d"
expect "a tail shorter than a sector fails" 1 "prefix 3
other 1" "$d"

expect "a missing file is a usage error" 2 "" "$work/nothing"
expect "a bad --acked is a usage error" 2 "" --acked x "$d"

exit $failed
