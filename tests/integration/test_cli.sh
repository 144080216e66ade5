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
	# the global options once, in rowcat --help; a command's help points there
	case $out in *"--catalog PATH"*) fail "create --help repeats the global options" ;; esac
	expect_contains "$out" "'rowcat --help' lists them" "create --help points to the global options"
	run "$ROWCAT" --help
	expect_eq 1 "$(grep -c -- '--catalog PATH' <<<"$out")" "rowcat --help: global options once"
	expect_contains "$out" "-n, --name client.ID" "rowcat --help: -n is --name"
	run "$ROWCAT" tree --help
	expect_contains "$out" "--format plain|json" "tree documents --format"
}

# commands: every command of rowcat --help's table.
commands() {
	"$ROWCAT" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]\{1,\}\) .*/\1/p'
}

# No command may give a global short option a meaning of its own (gc's -n
# was --dry-run while -n is --name): rowcat refuses to run a command that
# declares one, --help included, and no command's help shows one.
test_no_command_reuses_a_global_short_option() {
	local globals cmd shorts count=0
	globals=$("$ROWCAT" --help | sed -n '/^global options/,/^$/s/^  -\(.\), .*/\1/p' | tr -d '\n')
	[ ${#globals} -ge 5 ] || fail "no global short options found in rowcat --help: '$globals'"
	for cmd in $(commands); do
		run "$ROWCAT" "$cmd" --help
		expect_eq 0 "$status" "$cmd --help ($err)"
		shorts=$(sed -n '/^options:/,/^$/s/^  -\(.\), .*/\1/p' <<<"$out" | tr -d '\n')
		case $shorts in *["$globals"h]*) fail "$cmd declares a global short option: -[$shorts]" ;; esac
		count=$((count + 1))
	done
	[ "$count" -ge 18 ] || fail "only $count commands asked for their help"
	# gc's dry run has no short name; -n stays the client's name
	"$ROWCAT" --catalog "$CATALOG" init -q || fail init
	run "$ROWCAT" --catalog "$CATALOG" gc -n client.admin --dry-run --min-age 0
	expect_eq 0 "$status" "gc -n client.admin --dry-run ($err)"
	expect_contains "$out" "gc plan: 0 steps" "gc -n client.admin --dry-run"
}

# Help wraps at the terminal's width ($COLUMNS when stdout is no
# terminal): no line past it, and an option's help goes on under its own
# column, never at column 0.
test_help_wraps_at_the_terminal_width() {
	local width cmd long
	for width in 60 100; do
		for cmd in "" gc snap check; do
			run env COLUMNS=$width "$ROWCAT" $cmd --help
			expect_eq 0 "$status" "COLUMNS=$width rowcat $cmd --help"
			long=$(awk -v w=$width 'length($0) > w' <<<"$out")
			[ -z "$long" ] || fail "rowcat $cmd --help at $width columns: longer lines: $long"
			long=$(sed -En '/^(global )?options.*:$/,/^$/{/:$/d;/^$/d;/^ /d;p}' <<<"$out")
			[ -z "$long" ] || fail "rowcat $cmd --help at $width columns: options' help at column 0: $long"
		done
	done
	# the same help, wider: fewer lines
	[ "$(COLUMNS=60 "$ROWCAT" gc --help | wc -l)" -gt "$(COLUMNS=100 "$ROWCAT" gc --help | wc -l)" ] ||
		fail "gc --help is not shorter at 100 columns than at 60"
	expect_eq "$(COLUMNS=80 "$ROWCAT" --help)" "$(env -u COLUMNS "$ROWCAT" --help)" "80 columns without COLUMNS"
}

# The newest migration in schema.sql, which the binary embeds.
SCHEMA_VERSION=$(sed -n 's/^-- migration \([0-9]*\)$/\1/p' \
	"$(dirname "$0")/../../schema.sql" | sort -n | tail -1)

test_version_names_the_schema_and_the_libraries() {
	run "$ROWCAT" --version
	expect_eq 0 "$status" "--version status"
	expect_contains "$out" "catalog schema $SCHEMA_VERSION" "--version"
	grep -Eqx 'librbd [0-9]+\.[0-9]+\.[0-9]+' <<<"$out" || fail "--version: no librbd line: $out"
	grep -Eqx 'librados [0-9]+\.[0-9]+\.[0-9]+' <<<"$out" || fail "--version: no librados line: $out"
	grep -Eqx 'libyaml [0-9]+\.[0-9]+\.[0-9]+' <<<"$out" || fail "--version: no libyaml line: $out"
	# the library it runs with: the one Debian's sqlite3 shell uses too
	expect_eq "sqlite $(sqlite3 --version | cut -d' ' -f1)" "$(grep '^sqlite ' <<<"$out")" "--version: SQLite"
	# global options may come before it
	expect_eq "$out" "$("$ROWCAT" -q --version)" "-q --version"
}

# Ceph's libraries are loaded only by a command that needs the cluster:
# the dynamic linker's own trace (LD_DEBUG=libs, on stderr) of a command
# that reads only the catalog, a policy file or its own tables never
# names librbd or librados. --version, which asks them their versions,
# loads them: the same trace names them there, so the check can fail.
test_commands_without_the_cluster_never_load_ceph() {
	make_branching_catalog
	local policy=$SCRATCH/policy.yaml args
	printf '%s\n' "version: 1" "policies:" "  - name: daily" "    volumes: [rbd/vol1]" \
		"    every: 1d" "    keep: {latest: 2}" >"$policy"
	local commands=("tree vol1" "tree vol1 --format json" "tree vol1 --format dot" "ls"
		"which vol1" "log vol1" "explain vol1" "policy check $policy" "complete volumes"
		"complete snapshots vol1" "gc --dry-run --min-age 0" "--help" "tree --help")
	for args in "${commands[@]}"; do
		# shellcheck disable=SC2086
		run env LD_DEBUG=libs "$ROWCAT" --catalog "$CATALOG" $args
		expect_eq 0 "$status" "rowcat $args (${err: -300})"
		grep -q 'calling init: .*libsqlite3' <<<"$err" ||
			fail "rowcat $args: no LD_DEBUG=libs trace of the libraries it loads"
		! grep -m3 -E 'librbd|librados|libceph' <<<"$err" ||
			fail "rowcat $args loaded Ceph's libraries"
	done
	run env LD_DEBUG=libs "$ROWCAT" --version
	expect_eq 0 "$status" "--version"
	grep -q 'calling init: .*/librbd\.so\.1$' <<<"$err" || fail "--version did not load librbd.so.1"
	grep -q 'calling init: .*/librados\.so\.2$' <<<"$err" || fail "--version did not load librados.so.2"
}

# A copy of rowcat whose soname of Ceph's library LIB (librbd.so.1 or
# librados.so.2) names one that is not installed (LIB with its last digit
# an X: the same length, so the binary stays whole): a host without
# Debian's librbd1 or librados2, for rowcat. Prints the copy's path.
rowcat_without() {
	local lib=$1 copy=$SCRATCH/rowcat-without-$1
	local missing=${lib%?}X
	LC_ALL=C grep -qaF "$lib" "$ROWCAT" || fail "the rowcat binary names no $lib"
	LC_ALL=C sed "s/${lib//./\\.}\x00/$missing\x00/g" "$ROWCAT" >"$copy" || fail "copying rowcat"
	chmod +x "$copy"
	! LC_ALL=C grep -qaF "$lib" "$copy" || fail "the copy still names $lib"
	echo "$copy"
}

# Without librbd1 or librados2, what needs the cluster is refused with one
# line naming the package (a configuration error: exit 78), before any
# change; --version still names rowcat and the other libraries; what reads
# only the catalog works as before.
test_commands_refused_without_ceph_name_the_package() {
	make_branching_catalog
	local lib package copy before
	before=$(catalog_sql 'SELECT count(*) FROM operation; SELECT count(*) FROM volume')
	for lib in librbd.so.1:librbd1 librados.so.2:librados2; do
		package=${lib#*:} lib=${lib%:*}
		copy=$(rowcat_without "$lib")
		expect_refused 78 "Ceph's ${lib%.so.*} cannot be loaded (Debian: apt-get install $package): ${lib%?}X: cannot open shared object file" \
			"$copy" --catalog "$CATALOG" -m 127.0.0.1:1 --timeout 5 check
		expect_refused 78 "apt-get install $package" \
			"$copy" --catalog "$CATALOG" -m 127.0.0.1:1 --timeout 5 create rbd/vol2 --size 8M
		expect_refused 78 "apt-get install $package" \
			"$copy" --catalog "$CATALOG" -m 127.0.0.1:1 --timeout 5 snap vol1
		run "$copy" --version
		expect_eq 78 "$status" "--version without $lib"
		expect_contains "$err" "apt-get install $package" "--version without $lib"
		expect_contains "$out" "catalog schema $SCHEMA_VERSION" "--version without $lib"
		grep -q '^sqlite ' <<<"$out" || fail "--version without $lib: no sqlite line: $out"
		! grep -Eq '^librbd|^librados' <<<"$out" || fail "--version without $lib names it: $out"
		expect_eq "rbd/vol1.4" "$("$copy" --catalog "$CATALOG" which vol1)" "which without $lib"
		"$copy" --catalog "$CATALOG" tree vol1 >/dev/null || fail "tree without $lib"
	done
	expect_eq "$before" "$(catalog_sql 'SELECT count(*) FROM operation; SELECT count(*) FROM volume')" \
		"the catalog after the refusals"
}

test_usage_errors_exit_2_with_one_line() {
	expect_refused 2 "no command given" "$ROWCAT"
	expect_refused 2 "unknown command 'frobnicate'" "$ROWCAT" frobnicate
	expect_refused 2 "unknown option '--bogus'" "$ROWCAT" ls --bogus
	expect_refused 2 "usage: rowcat which VOL" "$ROWCAT" which
	expect_refused 2 "usage: rowcat which VOL" "$ROWCAT" which a b
	expect_refused 2 "--format must be plain or json" "$ROWCAT" --catalog "$CATALOG" ls --format xml
	expect_refused 2 "--format must be plain or json" "$ROWCAT" --format xml --catalog "$CATALOG" ls
	expect_refused 2 "--format json: 'rowcat debug' has no JSON output" \
		"$ROWCAT" --format json debug failpoints
	expect_refused 2 "unknown option '-z'" "$ROWCAT" ls -z
	expect_refused 2 "unknown option '--form'" "$ROWCAT" ls --form json
	expect_refused 2 "option --catalog needs a value (PATH)" "$ROWCAT" ls --catalog
	expect_refused 2 "option --quiet takes no value" "$ROWCAT" --quiet=yes ls
	# durations: with units, or whole seconds where they were taken before
	expect_refused 2 "--timeout: '0' is less than 1s" "$ROWCAT" --timeout 0 ls
	expect_refused 2 "--timeout: '3x' is not a duration" "$ROWCAT" --timeout 3x ls
	expect_refused 2 "--hook-timeout: '1.5' is not a duration" "$ROWCAT" ls --hook-timeout 1.5
	expect_refused 2 "--min-age: '5' is not a duration (the last number has no unit)" \
		"$ROWCAT" --catalog "$CATALOG" gc --dry-run --min-age 5
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

# rowcat.conf ($ROWCAT_CONFIG here, /etc/rowcat/rowcat.conf by default)
# sets the catalog after --catalog and $ROWCAT_CATALOG, before the
# built-in default; a wrong line is one line naming it, exit 78, and is
# not read when the catalog is given otherwise.
test_catalog_location_from_rowcat_conf() {
	local conf=$SCRATCH/rowcat.conf bad=$SCRATCH/bad.conf
	printf '# this host'"'"'s catalog\n\ncatalog = %s   # a file here\n' \
		"$SCRATCH/conf.db" >"$conf"
	ROWCAT_CONFIG=$conf "$ROWCAT" init -q || fail "init via rowcat.conf"
	[ -f "$SCRATCH/conf.db" ] || fail "rowcat.conf's catalog not used"
	ROWCAT_CONFIG=$conf run "$ROWCAT" ls --format json
	expect_eq "0 []" "$status $out" "ls on rowcat.conf's catalog ($err)"
	printf 'catalog = %s\n' "$SCRATCH/absent.db" >"$SCRATCH/absent.conf"
	ROWCAT_CONFIG=$SCRATCH/absent.conf run "$ROWCAT" ls
	expect_eq 1 "$status" "ls on a catalog rowcat.conf names and init never made ($err)"
	expect_contains "$err" "$SCRATCH/absent.db" "the catalog ls looked for"
	# $ROWCAT_CATALOG and --catalog win over it
	ROWCAT_CONFIG=$conf ROWCAT_CATALOG=$SCRATCH/env.db "$ROWCAT" init -q || fail "init via ROWCAT_CATALOG"
	[ -f "$SCRATCH/env.db" ] || fail "ROWCAT_CATALOG lost to rowcat.conf"
	ROWCAT_CONFIG=$conf "$ROWCAT" --catalog "$SCRATCH/flag.db" init -q || fail "init --catalog"
	[ -f "$SCRATCH/flag.db" ] || fail "--catalog lost to rowcat.conf"

	# a typo is an error, not a default
	printf 'catalog = %s\ncatlog = /elsewhere.db\n' "$SCRATCH/conf.db" >"$bad"
	ROWCAT_CONFIG=$bad expect_refused 78 \
		"rowcat: $bad:2: unknown key 'catlog' (the only key is 'catalog')" "$ROWCAT" ls
	printf 'catalog = catalog.db\n' >"$bad"
	ROWCAT_CONFIG=$bad expect_refused 78 \
		"rowcat: $bad:1: catalog: 'catalog.db' is neither an absolute path nor rados://POOL[/NAMESPACE]/NAME" \
		"$ROWCAT" ls
	ROWCAT_CONFIG=$SCRATCH/none.conf expect_refused 78 \
		"rowcat: cannot read $SCRATCH/none.conf: No such file or directory" "$ROWCAT" ls
	# read only when it decides the catalog
	ROWCAT_CONFIG=$bad run "$ROWCAT" --catalog "$SCRATCH/conf.db" ls --format json
	expect_eq "0 []" "$status $out" "ls with --catalog and a bad rowcat.conf ($err)"
	ROWCAT_CONFIG=$bad ROWCAT_CATALOG=$SCRATCH/conf.db run "$ROWCAT" ls --format json
	expect_eq "0 []" "$status $out" "ls with ROWCAT_CATALOG and a bad rowcat.conf ($err)"
}

test_read_commands_on_an_empty_catalog() {
	"$ROWCAT" --catalog "$CATALOG" init -q || fail init
	expect_eq "[]" "$("$ROWCAT" --catalog "$CATALOG" ls --format json)" "empty ls json"
	# --format is global: before the command, and as --opt=value
	expect_eq "[]" "$("$ROWCAT" --format json --catalog "$CATALOG" ls)" "--format json before ls"
	expect_eq "[]" "$("$ROWCAT" --catalog="$CATALOG" ls --format=json)" "ls --format=json"
	# every duration takes a bare 0 (zero in any unit), and whole
	# seconds stay seconds for --timeout and --hook-timeout
	run "$ROWCAT" --catalog "$CATALOG" --timeout 3 --hook-timeout 2m gc --dry-run \
		--min-age 0 --trash-delay 0 --format json
	expect_eq 0 "$status" "gc --dry-run --min-age 0 --trash-delay 0 ($err)"
	expect_eq "[]" "$(head -1 <<<"$out")" "an empty plan"
	expect_refused 1 "no volume named 'ghost'" "$ROWCAT" --catalog "$CATALOG" which ghost
	expect_refused 1 "no volume named 'ghost'" "$ROWCAT" --catalog "$CATALOG" tree ghost
}

# completion LINE: what rowcat's bash completion offers for LINE, typed so
# far after "rowcat ", one per line; bash would set COMP_WORDS and
# COMP_CWORD too, split at COMP_WORDBREAKS, and the completion reads the
# line itself. The script is the one cmake --install ships.
COMPLETION_SCRIPT=$(cd "$(dirname "$0")/../.." && pwd)/cli/completion/rowcat.bash
completion() {
	COMP_LINE="$ROWCAT $1"
	COMP_POINT=${#COMP_LINE}
	read -ra COMP_WORDS <<<"$COMP_LINE"
	[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_rowcat "$ROWCAT" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	printf '%s\n' "${COMPREPLY[@]}"
}

test_bash_completion_offers_commands_options_volumes_and_snapshots() {
	make_branching_catalog
	# shellcheck disable=SC1090
	. "$COMPLETION_SCRIPT" || fail "sourcing the completion"
	complete -p rowcat | grep -q -- '-F _rowcat' || fail "no completion registered for rowcat"
	unset ROWCAT_CATALOG

	# commands, from the table; the hidden one is not offered
	expect_eq "which" "$(completion "wh")" "a command"
	expect_contains "$(completion "")" "recover" "every command"
	[[ $(completion "") != *complete* ]] || fail "the hidden command 'complete' is offered"
	# options, from the command's --help and rowcat --help
	expect_eq "--size" "$(completion "create --s")" "create's option"
	expect_contains "$(completion "tree --")" "--all" "tree's own option"
	expect_contains "$(completion "tree --")" "--catalog" "a global option"
	expect_eq $'plain\njson' "$(completion "ls --format ")" "--format's values"
	expect_eq "json" "$(completion "ls --format=j")" "--format=VALUE"

	# a command's subcommands, then their own options
	expect_eq $'copy\ninfo' "$(completion "catalog ")" "catalog's subcommands"
	expect_eq "--format" "$(completion "catalog info --for")" "catalog info's option"

	# volume names from the catalog the line names, however it is named
	expect_eq "vol1" "$(completion "--catalog $CATALOG which v")" "--catalog PATH"
	expect_eq "vol1" "$(completion "which --catalog=$CATALOG ")" "--catalog=PATH"
	expect_eq "vol1" "$(ROWCAT_CATALOG=$CATALOG; export ROWCAT_CATALOG
		completion "tree ")" "\$ROWCAT_CATALOG"
	expect_eq "vol1@" "$(completion "--catalog $CATALOG pin ")" "pin goes on to VOL@"
	# an option's value is not a volume: gc's --metrics takes a file
	[[ $(completion "--catalog $CATALOG gc --metrics ") != *vol1* ]] ||
		fail "a volume offered as --metrics FILE"

	# snapshot names after VOL@: bash completes the word from the '@' on
	# (readline's rl_special_prefixes), so the reply keeps the '@'
	expect_eq $'@s1\n@s2\n@pre\n@s3' "$(completion "--catalog $CATALOG rm vol1@")" "VOL@"
	expect_eq "@s2" "$(completion "--catalog $CATALOG pin vol1@s2")" "VOL@SNAP"
	expect_eq $'s1\ns2\npre\ns3' "$(completion "restore vol1 --catalog $CATALOG ")" \
		"restore VOL SNAP"

	# no catalog there: nothing offered, nothing said
	run completion "--catalog $SCRATCH/none.db which "
	expect_eq "" "$out$err" "completion without a catalog"
	[ ! -e "$SCRATCH/none.db" ] || fail "completion created a catalog"
}

test_complete_prints_names_from_the_catalog_alone() {
	run "$ROWCAT" --help
	[[ $out != *complete* ]] || fail "rowcat --help lists the hidden command"
	run "$ROWCAT" --catalog "$SCRATCH/none.db" complete volumes
	expect_eq "0:" "$status:$out$err" "complete volumes without a catalog"
	make_branching_catalog
	expect_eq "vol1" "$("$ROWCAT" --catalog "$CATALOG" complete volumes)" "volumes"
	expect_eq $'s1\ns2\npre\ns3' "$("$ROWCAT" --catalog "$CATALOG" complete snapshots vol1)" \
		"snapshots"
	run "$ROWCAT" --catalog "$CATALOG" complete snapshots ghost
	expect_eq "0:" "$status:$out$err" "snapshots of no volume"
	expect_refused 2 "usage: rowcat complete" "$ROWCAT" --catalog "$CATALOG" complete things
}

run_tests
