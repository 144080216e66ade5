#!/usr/bin/env bash
# The command line itself: help, version, usage errors, init. No cluster.
. "$(dirname "$0")/lib.sh"

test_help_lists_every_command_of_the_table() {
	run "$ROWCAT" --help
	expect_eq 0 "$status" "--help status"
	local cmd
	for cmd in init create ls which tree rm pin unpin gc; do
		expect_contains "$out" "  $cmd " "--help lists $cmd"
	done
}

test_command_help_comes_from_the_declared_options() {
	run "$ROWCAT" create --help
	expect_eq 0 "$status" "create --help status"
	expect_contains "$out" "usage: rowcat create POOL[/NAMESPACE]/VOL --size SIZE" "usage line"
	expect_contains "$out" "--size SIZE" "--size documented"
	expect_contains "$out" "--catalog PATH" "global options documented"
	run "$ROWCAT" tree --help
	expect_contains "$out" "--format plain|json" "tree documents --format"
}

# The newest migration in schema.sql, which the binary embeds.
SCHEMA_VERSION=$(sed -n 's/^-- migration \([0-9]*\)$/\1/p' \
	"$(dirname "$0")/../../schema.sql" | sort -n | tail -1)

test_version_names_the_schema() {
	run "$ROWCAT" --version
	expect_eq 0 "$status" "--version status"
	expect_contains "$out" "catalog schema $SCHEMA_VERSION" "--version"
}

test_usage_errors_exit_2_with_one_line() {
	expect_refused 2 "no command given" "$ROWCAT"
	expect_refused 2 "unknown command 'frobnicate'" "$ROWCAT" frobnicate
	expect_refused 2 "unknown option '--bogus'" "$ROWCAT" ls --bogus
	expect_refused 2 "usage: rowcat which VOL" "$ROWCAT" which
	expect_refused 2 "usage: rowcat which VOL" "$ROWCAT" which a b
	expect_refused 2 "--format must be plain or json" "$ROWCAT" --catalog "$CATALOG" ls --format xml
	expect_refused 2 "--timeout needs a positive whole number" "$ROWCAT" --timeout 0 ls
}

test_init_creates_a_private_catalog_once() {
	run "$ROWCAT" --catalog "$CATALOG" init
	expect_eq 0 "$status" "init"
	expect_contains "$err" "schema version $SCHEMA_VERSION" "init message"
	expect_eq 600 "$(stat -c %a "$CATALOG")" "catalog mode"
	local before; before=$(sqlite3 "$CATALOG" .dump)
	"$ROWCAT" --catalog "$CATALOG" init -q || fail "second init"
	expect_eq "$before" "$(sqlite3 "$CATALOG" .dump)" "second init changed the catalog"
}

test_catalog_location_follows_the_environment() {
	ROWCAT_CATALOG=$SCRATCH/env.db "$ROWCAT" init -q || fail "init via ROWCAT_CATALOG"
	[ -f "$SCRATCH/env.db" ] || fail "ROWCAT_CATALOG not used"
	# --catalog wins over ROWCAT_CATALOG
	ROWCAT_CATALOG=$SCRATCH/env.db "$ROWCAT" --catalog "$SCRATCH/flag.db" init -q || fail "init --catalog"
	[ -f "$SCRATCH/flag.db" ] || fail "--catalog not used"
	# for a non-root user, the XDG data directory
	if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
		mkdir -p "$SCRATCH/xdg" && chmod 777 "$SCRATCH" "$SCRATCH/xdg"
		env -u ROWCAT_CATALOG XDG_DATA_HOME="$SCRATCH/xdg" \
			setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$ROWCAT" init -q || fail "init as nobody"
		[ -f "$SCRATCH/xdg/rowcat/catalog.db" ] || fail "XDG location not used"
		expect_eq 700 "$(stat -c %a "$SCRATCH/xdg/rowcat")" "XDG dir mode"
	else
		fail "the test needs the user nobody and setpriv"
	fi
}

test_read_commands_on_an_empty_catalog() {
	"$ROWCAT" --catalog "$CATALOG" init -q || fail init
	expect_eq "[]" "$("$ROWCAT" --catalog "$CATALOG" ls --format json)" "empty ls json"
	expect_refused 1 "no volume named 'ghost'" "$ROWCAT" --catalog "$CATALOG" which ghost
	expect_refused 1 "no volume named 'ghost'" "$ROWCAT" --catalog "$CATALOG" tree ghost
}

run_tests
