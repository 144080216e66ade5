#!/usr/bin/env bash
# cmake --install puts the binary, the nightly gc units and the 5-minute
# policy units in place, and each service runs the binary that was
# installed with it; the man pages and the bash completion go where man and
# bash-completion look for them.
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
	# names the binary inside the install root, and it asks man for the
	# pages of Documentation=, so man looks in the install root too
	sed "s|^ExecStart=$exec|ExecStart=$root$exec|" "$unitdir/rowcat-gc.service" \
		>"$SCRATCH/rowcat-gc.service"
	cp "$unitdir/rowcat-gc.timer" "$SCRATCH/"
	run env MANPATH="$root${exec%/bin/rowcat}/share/man" \
		systemd-analyze verify "$SCRATCH/rowcat-gc.service" "$SCRATCH/rowcat-gc.timer"
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
	# install root (verify resolves ExecStart on this host), with man
	# looking for the pages of Documentation= there too
	sed "s|^ExecStart=$exec|ExecStart=$root$exec|" "$unitdir/rowcat-policy.service" \
		>"$SCRATCH/rowcat-policy.service"
	cp "$unitdir/rowcat-policy.timer" "$SCRATCH/"
	run env MANPATH="$root${exec%/bin/rowcat}/share/man" \
		systemd-analyze verify "$SCRATCH/rowcat-policy.service" "$SCRATCH/rowcat-policy.timer"
	expect_eq 0 "$status" "systemd-analyze verify ($err)"
}

# expect_man_page PREFIX SECTION NAME: man finds the page by name in the
# installed tree, and renders it without a warning.
expect_man_page() {
	local prefix=$1 section=$2 name=$3
	[ -f "$prefix/share/man/man$section/$name.$section" ] ||
		fail "no share/man/man$section/$name.$section"
	run env MANPATH="$prefix/share/man" MANWIDTH=80 man --warnings "$section" "$name"
	expect_eq 0 "$status" "man $section $name ($err)"
	expect_eq "" "$err" "man $section $name warnings"
	expect_contains "$out" "SEE ALSO" "man $section $name"
}

test_install_ships_the_man_pages_and_the_bash_completion() {
	local root=$SCRATCH/root prefix completion
	DESTDIR=$root cmake --install "$ROWCAT_BUILD_DIR" >/dev/null || fail "cmake --install"
	prefix=$root$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$ROWCAT_BUILD_DIR/CMakeCache.txt")
	[ -x "$prefix/bin/rowcat" ] || fail "no rowcat under $prefix/bin"

	# a build without scdoc (ROWCAT_MAN=OFF) installs no man page
	if [ "${ROWCAT_MAN_BUILT:-ON}" = OFF ]; then
		[ -z "$(find "$root" -name 'rowcat*.[15]')" ] ||
			fail "man pages installed by a build without them"
	else
		expect_man_page "$prefix" 1 rowcat
		expect_man_page "$prefix" 5 rowcat-policy
	fi

	# bash-completion loads the completion on demand from the installed
	# tree (its completions dirs are under each of XDG_DATA_DIRS), and it
	# offers the installed binary's commands
	completion=$(find "$root" -path '*/bash-completion/completions/rowcat')
	[ -n "$completion" ] || fail "no bash-completion/completions/rowcat under the install"
	[ -f /usr/share/bash-completion/bash_completion ] ||
		fail "the test needs bash-completion (tests/cluster/install-deps.sh)"
	run env -i PATH="$prefix/bin:/usr/bin:/bin" HOME="$SCRATCH" \
		XDG_DATA_DIRS="${completion%/bash-completion/completions/rowcat}" \
		bash --norc --noprofile -c '
		. /usr/share/bash-completion/bash_completion
		_completion_loader rowcat
		complete -p rowcat || exit 1
		COMP_LINE="rowcat wh" COMP_POINT=9 COMP_WORDS=(rowcat wh) COMP_CWORD=1
		_rowcat rowcat wh rowcat
		echo "${COMPREPLY[*]}"'
	expect_eq 0 "$status" "loading the completion ($err)"
	expect_contains "$out" "complete -F _rowcat rowcat" "the completion loaded"
	expect_eq "which" "$(tail -1 <<<"$out")" "the loaded completion offers"
}

run_tests
