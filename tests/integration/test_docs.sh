#!/usr/bin/env bash
# The man pages: they render without a warning, and they cannot fall behind
# the binary and the sources they describe (every command of the table,
# every option a --help prints, every exit status, every environment
# variable rowcat reads, every key of the policy file). No cluster.
. "$(dirname "$0")/lib.sh"

: "${ROWCAT_BUILD_DIR:?ROWCAT_BUILD_DIR must name the build tree}"

SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
MAN1_SOURCE=$SOURCE_DIR/doc/rowcat.1.scd
MAN5_SOURCE=$SOURCE_DIR/doc/rowcat-policy.5.scd

# terms PAGE: the lines that a definition list's entries start with, in
# bold ("*--jobs* _N_", "*-j*, *--jobs* _N_", "\t*trash_delay*"): what a
# page describes, not what it only mentions in passing.
terms() {
	grep -E '^[[:space:]]*\*[^*[:space:]]+\*(,| |$)' "$1" | grep -v '^\*rowcat '
}

# expect_no_render_warnings PAGE: man(1), with troff's warnings on, says
# nothing on stderr, in a UTF-8 locale and in plain C (ASCII).
expect_no_render_warnings() {
	local page=$1 locale
	[ -s "$page" ] || fail "$page was not built"
	for locale in C.UTF-8 C; do
		run env LC_ALL=$locale MANWIDTH=80 man --warnings -l "$page"
		expect_eq 0 "$status" "man -l $page ($locale)"
		expect_eq "" "$err" "man --warnings -l $page ($locale)"
		expect_contains "$out" "NAME" "$page rendered ($locale)"
	done
}

test_the_man_pages_render_without_warnings() {
	expect_no_render_warnings "$ROWCAT_BUILD_DIR/doc/rowcat.1"
	expect_no_render_warnings "$ROWCAT_BUILD_DIR/doc/rowcat-policy.5"
	# the check itself finds a warning when there is one
	{ cat "$ROWCAT_BUILD_DIR/doc/rowcat.1"; echo ".XX not a macro"; } >"$SCRATCH/bad.1"
	run env MANWIDTH=80 man --warnings -l "$SCRATCH/bad.1"
	expect_contains "$err" "warning" "a broken page warns"
}

# The names of the command table, hidden ones included.
table_commands() {
	sed -n 's/^[[:space:]]*{ "\([a-z]*\)",.*/\1/p' "$SOURCE_DIR/cli/commands.c"
}

test_every_command_of_the_table_has_a_section() {
	local cmd count=0
	for cmd in $(table_commands); do
		grep -qx "## $cmd" "$MAN1_SOURCE" || fail "rowcat.1.scd has no '## $cmd' section"
		count=$((count + 1))
	done
	[ "$count" -ge 18 ] || fail "read only $count commands from cli/commands.c"
}

# every_help: the --help of rowcat, of each command and subcommand.
every_help() {
	local cmd
	"$ROWCAT" --help
	for cmd in $(table_commands); do
		case $cmd in
		policy) "$ROWCAT" policy check --help; "$ROWCAT" policy run --help ;;
		catalog) "$ROWCAT" catalog copy --help; "$ROWCAT" catalog info --help ;;
		*) "$ROWCAT" "$cmd" --help ;;
		esac
	done
}

test_every_option_a_help_prints_is_in_the_man_page() {
	local helps option count=0
	helps=$(every_help) || fail "a --help failed"
	# option lines: a few spaces, then "-x, --name" or "--name"
	for option in $(grep -E '^ {1,8}(-[[:alnum:]], )?--[[:alnum:]]' <<<"$helps" |
			grep -oE -- '--[[:alnum:]][[:alnum:]-]*' | sort -u); do
		terms "$MAN1_SOURCE" | grep -qF -- "*$option*" ||
			fail "rowcat.1.scd does not describe $option"
		count=$((count + 1))
	done
	[ "$count" -ge 30 ] || fail "read only $count options from the --help texts"
}

test_every_exit_status_is_in_the_man_page() {
	local status_code count=0
	for status_code in $(sed -n 's/^[[:space:]]*EXIT_[A-Z_]* = \([0-9][0-9]*\).*/\1/p' \
			"$SOURCE_DIR/cli/cli.h"); do
		grep -qx "|  $status_code" "$MAN1_SOURCE" ||
			fail "the EXIT STATUS table has no row for $status_code"
		count=$((count + 1))
	done
	[ "$count" -ge 5 ] || fail "read only $count exit statuses from cli/cli.h"
}

test_every_environment_variable_read_is_in_the_man_page() {
	local var count=0
	# getenv("NAME") anywhere, and the ROWCAT_/CEPH_ names the CLI and the
	# library spell out (hook variables, their tables of names)
	for var in $(cat "$SOURCE_DIR"/{cli,ops,common,catalog,rbdops,config,qmp}/*.c |
			grep -oE 'getenv\("[A-Z_]+"\)|"(ROWCAT|CEPH)_[A-Z_]+"' |
			grep -oE '[A-Z][A-Z_]+' | grep -vx getenv | sort -u); do
		terms "$MAN1_SOURCE" | grep -qF -- "*$var*" ||
			fail "rowcat.1.scd does not describe $var"
		count=$((count + 1))
	done
	[ "$count" -ge 10 ] || fail "read only $count variables from the sources"
}

test_every_key_of_the_policy_file_is_in_its_man_page() {
	local key count=0
	for key in $(sed -n '/keys\[\] = {/,/};/p' "$SOURCE_DIR/config/policy_parse.c" |
			grep -oE '"[a-z_]+"' | tr -d '"' | sort -u); do
		terms "$MAN5_SOURCE" | grep -qF -- "*$key*" ||
			fail "rowcat-policy.5.scd does not describe $key"
		count=$((count + 1))
	done
	[ "$count" -ge 20 ] || fail "read only $count keys from config/policy_parse.c"
}

run_tests
