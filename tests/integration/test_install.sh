#!/usr/bin/env bash
# cmake --install puts the binary, the nightly gc units and the 5-minute
# policy units in place, and each service runs the binary that was
# installed with it.
. "$(dirname "$0")/lib.sh"

: "${ROWCAT_BUILD_DIR:?ROWCAT_BUILD_DIR must name the build tree}"

test_install_ships_the_gc_service_and_timer() {
	local root=$SCRATCH/root unitdir exec
	DESTDIR=$root cmake --install "$ROWCAT_BUILD_DIR" >/dev/null || fail "cmake --install"
	unitdir=$(find "$root" -type d -path '*/lib/systemd/system' | head -1)
	[ -n "$unitdir" ] || fail "no lib/systemd/system under the install"
	[ -f "$unitdir/rowcat-gc.service" ] || fail "rowcat-gc.service not installed"
	[ -f "$unitdir/rowcat-gc.timer" ] || fail "rowcat-gc.timer not installed"
	grep -qx 'OnCalendar=daily' "$unitdir/rowcat-gc.timer" || fail "the timer is not daily"
	grep -q '^RandomizedDelaySec=' "$unitdir/rowcat-gc.timer" || fail "no randomised delay"
	grep -qx 'WantedBy=timers.target' "$unitdir/rowcat-gc.timer" || fail "timer not installable"
	grep -qx 'Type=oneshot' "$unitdir/rowcat-gc.service" || fail "service type"
	exec=$(sed -n 's/^ExecStart=\([^ ]*\) gc .*/\1/p' "$unitdir/rowcat-gc.service")
	[ -n "$exec" ] || fail "no 'rowcat gc' ExecStart"
	[ -x "$root$exec" ] || fail "ExecStart names $exec, which was not installed"
	"$root$exec" gc --help | grep -q -- '--metrics' || fail "the installed rowcat has no gc"
	# systemd's own check (tests/cluster/install-deps.sh installs it);
	# verify resolves ExecStart on this host, so it checks a copy that
	# names the binary inside the install root
	sed "s|^ExecStart=$exec|ExecStart=$root$exec|" "$unitdir/rowcat-gc.service" \
		>"$SCRATCH/rowcat-gc.service"
	cp "$unitdir/rowcat-gc.timer" "$SCRATCH/"
	run systemd-analyze verify "$SCRATCH/rowcat-gc.service" "$SCRATCH/rowcat-gc.timer"
	expect_eq 0 "$status" "systemd-analyze verify ($err)"
}

test_install_ships_the_policy_service_and_timer() {
	local root=$SCRATCH/root unitdir exec
	DESTDIR=$root cmake --install "$ROWCAT_BUILD_DIR" >/dev/null || fail "cmake --install"
	unitdir=$(find "$root" -type d -path '*/lib/systemd/system' | head -1)
	[ -n "$unitdir" ] || fail "no lib/systemd/system under the install"
	[ -f "$unitdir/rowcat-policy.service" ] || fail "rowcat-policy.service not installed"
	[ -f "$unitdir/rowcat-policy.timer" ] || fail "rowcat-policy.timer not installed"
	grep -qx 'OnCalendar=\*:0/5' "$unitdir/rowcat-policy.timer" ||
		fail "the timer does not fire every 5 minutes"
	grep -qx 'WantedBy=timers.target' "$unitdir/rowcat-policy.timer" || fail "timer not installable"
	grep -qx 'Type=oneshot' "$unitdir/rowcat-policy.service" || fail "service type"
	exec=$(sed -n 's/^ExecStart=\([^ ]*\) policy run .*/\1/p' "$unitdir/rowcat-policy.service")
	[ -n "$exec" ] || fail "no 'rowcat policy run' ExecStart"
	[ -x "$root$exec" ] || fail "ExecStart names $exec, which was not installed"
	"$root$exec" policy run --help | grep -q -- '--metrics' ||
		fail "the installed rowcat has no policy run"
	# systemd's own check, on a copy that names the binary inside the
	# install root (verify resolves ExecStart on this host)
	sed "s|^ExecStart=$exec|ExecStart=$root$exec|" "$unitdir/rowcat-policy.service" \
		>"$SCRATCH/rowcat-policy.service"
	cp "$unitdir/rowcat-policy.timer" "$SCRATCH/"
	run systemd-analyze verify "$SCRATCH/rowcat-policy.service" "$SCRATCH/rowcat-policy.timer"
	expect_eq 0 "$status" "systemd-analyze verify ($err)"
}

run_tests
