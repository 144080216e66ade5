#!/usr/bin/env bash
# cmake --install puts the binary and the nightly gc units in place, and
# the service runs the binary that was installed with it.
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

run_tests
