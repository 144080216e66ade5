# Shared by the crash-matrix tests (test_row_crash.sh, test_gc_crash.sh):
# sourced after lib.sh, never run.
#
# What the tests of one file exercised, shared by their subshells:
# COVERAGE, every failpoint a command or a recovery was killed at;
# RECOVERY_SEEN, those a recovery was killed at.
STATE=$(mktemp -d "${TMPDIR:-/tmp}/rowcat-crash.XXXXXX") || {
	echo "cannot make a state directory" >&2
	exit 1
}
trap 'rm -rf "$STATE"' EXIT
COVERAGE=$STATE/coverage RECOVERY_SEEN=$STATE/recovery-seen
SAMPLED_OUT=$STATE/sampled-out
: >"$COVERAGE" && : >"$RECOVERY_SEEN" && : >"$SAMPLED_OUT" || exit 1
export COVERAGE RECOVERY_SEEN SAMPLED_OUT
ALL_FAILPOINTS=$("$ROWCAT" debug failpoints)

# with_failpoint FP CMD...: CMD (a function too) with ROWCAT_FAILPOINT=FP.
with_failpoint() {
	(export ROWCAT_FAILPOINT=$1; shift; "$@")
}

# sample_failpoints PHASE LIST: the failpoints of LIST a matrix kills at.
# All of them, unless ROWCAT_CRASH_STRIDE=K (CI sets it): then every K-th,
# starting at the (PHASE + ROWCAT_CRASH_PHASE)-th, so that matrices given
# different phases leave out different steps of the saga they share, and
# two passes given ROWCAT_CRASH_PHASE 0 and 1 with K=2 (CI's sanitizer
# pass on file catalogs, its shipping pass on catalogs in RADOS) kill at
# every step between them. The ones left out are recorded, and
# expect_failpoints_exercised counts them as seen by a clean run.
sample_failpoints() {
	local phase=$(($1 + ${ROWCAT_CRASH_PHASE:-0})) stride=${ROWCAT_CRASH_STRIDE:-1} i=0 fp
	for fp in $2; do
		if [ $(((i + stride - phase % stride) % stride)) = 0 ]; then
			echo "$fp"
		else
			echo "$fp" >>"$SAMPLED_OUT"
		fi
		i=$((i + 1))
	done
}

# crash_at FP CMD...: CMD must die at failpoint FP.
crash_at() {
	local fp=$1; shift
	run with_failpoint "$fp" "$@"
	expect_eq 137 "$status" "'$*' killed at $fp (stderr: $err)"
	echo "$fp" >>"$COVERAGE"
}

# recover_through_crashes: recovery killed at each failpoint it reaches
# that no recovery in this file has been killed at yet, one more each
# time, until a recovery completes.
recover_through_crashes() {
	local trace=$SCRATCH/rtrace list fp n=0
	while :; do
		list=$(for fp in $ALL_FAILPOINTS; do
			grep -qx "$fp" "$RECOVERY_SEEN" || echo "$fp"
		done | paste -sd,)
		: >"$trace"
		recover_after_kill env ROWCAT_FAILPOINT="$list" ROWCAT_FAILPOINT_TRACE="$trace"
		[ "$status" = 0 ] && break
		expect_eq 137 "$status" "recover under failpoints (stderr: $err)"
		fp=$(tail -1 "$trace")
		echo "$fp" >>"$RECOVERY_SEEN"
		echo "$fp" >>"$COVERAGE"
		n=$((n + 1))
		[ "$n" -lt 100 ] || fail "recovery never completes"
	done
}

# expect_failpoints_exercised INCLUDE [EXCLUDE...]: every compiled-in
# failpoint whose name matches the shell pattern INCLUDE and none of the
# EXCLUDE patterns was killed at by this file (or, in a sampled run, passed
# by a clean run and left out by sample_failpoints).
expect_failpoints_exercised() {
	local include=$1 fp x missing="" skip
	shift
	for fp in $ALL_FAILPOINTS; do
		# shellcheck disable=SC2254
		case "$fp" in $include) ;; *) continue ;; esac
		skip=0
		for x in "$@"; do
			# shellcheck disable=SC2254
			case "$fp" in $x) skip=1 ;; esac
		done
		[ "$skip" = 1 ] && continue
		grep -qx "$fp" "$COVERAGE" "$SAMPLED_OUT" || missing+=" $fp"
	done
	[ -z "$missing" ] || fail "failpoints never exercised:$missing"
}

# wait_unwatched IMAGE...: until no client watches the images (a killed
# client's watch ends when the OSD times it out, after about 30 s).
wait_unwatched() {
	local img n=0
	for img in "$@"; do
		until [ "$(rbd status --format json "$img" | jq '.watchers | length')" = 0 ]; do
			n=$((n + 1))
			[ "$n" -le 120 ] || fail "$img still watched after 120 s"
			sleep 1
		done
	done
}
