# bash completion for rowcat(1); cmake --install puts it where
# bash-completion loads it on demand (its completionsdir, as "rowcat").
#
# Nothing here is a copy that could drift from the binary: the commands come
# from `rowcat complete commands`, each command's options from its own
# --help (and the global ones from `rowcat --help`), volume and snapshot
# names from `rowcat complete volumes|snapshots VOL`, which reads only the
# catalog that the line names (--catalog, else $ROWCAT_CATALOG, else the
# default) and never the cluster.
#
# Words are split at white space, read from COMP_LINE: bash's own words
# (COMP_WORDS) are also split at the characters of COMP_WORDBREAKS, '@' and
# '=' among them, which would cut VOL@SNAP and --catalog=PATH in two.

# _rowcat_options ROWCAT [WORDS...]: the options of `ROWCAT WORDS... --help`,
# one a line, "--name" for a flag and "--name=" for one that takes a value,
# and "-x" / "-x=" for its short form. An option line starts with a few
# spaces (a help's continuation lines, with many, may mention options),
# then "-x, --name" or "--name", then the value's name (capitals or a '|':
# SIZE, plain|json, client.ID) after one space.
_rowcat_options()
{
	"$@" --help 2>/dev/null | awk '
		/^ +(-[[:alnum:]], )?--[[:alnum:]]/ {
			match($0, /^ +/)
			if (RLENGTH > 8)
				next
			line = substr($0, RLENGTH + 1)
			short = ""
			if (line ~ /^-[[:alnum:]], /) {
				short = substr(line, 1, 2)
				line = substr(line, 5)
			}
			name = line
			sub(/[ =].*/, "", name)
			rest = substr(line, length(name) + 1)
			value = (rest ~ /^[ =][^ ]*([A-Z]|\|)/) ? "=" : ""
			print name value
			if (short != "")
				print short value
		}'
}

# _rowcat_reply CUR CANDIDATES...: COMPREPLY from the candidates that start
# with CUR, each less what bash counts as an earlier word (up to the last
# COMP_WORDBREAKS character of CUR), since that part stays on the line.
# An '@' (or '$') there starts the word bash replaces instead (readline's
# rl_special_prefixes, "$@" in bash): for VOL@S, bash completes "@S".
_rowcat_reply()
{
	local cur=$1 breaks=${COMP_WORDBREAKS:-$' \t\n"\'@><=;|&(:'} head candidate
	shift
	head=${cur%"${cur##*["$breaks"]}"}
	[[ $head == *[@$] ]] && head=${head%?}
	COMPREPLY=()
	for candidate in "$@"; do
		[[ $candidate == "$cur"* ]] && COMPREPLY+=("${candidate#"$head"}")
	done
}

# _rowcat_files CUR [PREFIX]: files and directories for CUR, a value that
# follows PREFIX ("--catalog=") in the same word.
_rowcat_files()
{
	local cur=$1 prefix=${2:-} path
	local -a found=()
	while IFS= read -r path; do
		found+=("$prefix$path")
	done < <(compgen -f -- "${cur#"$prefix"}")
	compopt -o filenames 2>/dev/null
	_rowcat_reply "$cur" "${found[@]}"
}

_rowcat()
{
	local rowcat=$1 line=${COMP_LINE:0:COMP_POINT}
	local -a words=() catalog=() args=() names=() options=() globals=()
	local cur command="" i word opt skip=0
	declare -A takes_value=()

	read -ra words <<<"$line"
	[[ $line =~ [[:space:]]$ || ${#words[@]} -eq 0 ]] && words+=("")
	cur=${words[${#words[@]}-1]}
	# a "~/" typed on the line is not expanded yet
	# shellcheck disable=SC2088
	[[ $rowcat == "~/"* ]] && rowcat=$HOME/${rowcat#"~/"}

	mapfile -t globals < <(_rowcat_options "$rowcat")
	for opt in "${globals[@]}"; do
		[[ $opt == *= ]] && takes_value[${opt%=}]=1
	done

	# the words before CUR: global options (and the catalog one names),
	# the command, its options and its arguments
	for ((i = 1; i < ${#words[@]} - 1; i++)); do
		word=${words[i]}
		if ((skip)); then
			skip=0
			[[ $opt == --catalog ]] && catalog=(--catalog "$word")
			continue
		fi
		if [[ $word == -?* && $word != -- ]]; then
			opt=${word%%=*}
			if [[ $word == *=* ]]; then
				[[ $opt == --catalog ]] && catalog=(--catalog "${word#*=}")
			elif [[ -n ${takes_value[$opt]:-} ]]; then
				skip=1
			fi
		elif [[ -z $command ]]; then
			command=$word
			# the command's own options, and which of them take a value
			case $command in
			policy | catalog | debug) ;;  # known once the subcommand is
			*) mapfile -t options < <(_rowcat_options "$rowcat" "$command") ;;
			esac
			# a command's own option wins over a global one of its name
			for opt in "${options[@]}"; do
				takes_value[${opt%=}]=${opt//[^=]/}
			done
		else
			args+=("$word")
			if [[ ($command == policy || $command == catalog) &&
			      ${#args[@]} -eq 1 ]]; then
				mapfile -t options < <(_rowcat_options "$rowcat" \
					"$command" "$word")
				for opt in "${options[@]}"; do
					takes_value[${opt%=}]=${opt//[^=]/}
				done
			fi
		fi
	done
	# shellcheck disable=SC2088
	[[ ${catalog[1]:-} == "~/"* ]] && catalog[1]=$HOME/${catalog[1]#"~/"}

	# the value of an option: CUR after the option's word, or after '='
	if ((skip)); then
		opt=${words[${#words[@]}-2]}
	elif [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
	else
		opt=""
	fi
	if [[ -n $opt ]]; then
		local prefix=""
		[[ $cur == --*=* ]] && prefix="$opt="
		case $opt in
		--catalog | -c | --conf | -k | --keyring | --metrics | --qmp | --policy)
			_rowcat_files "$cur" "$prefix" ;;
		--format)
			if [[ $command == tree ]]; then
				_rowcat_reply "$cur" "${prefix}plain" "${prefix}json" "${prefix}dot"
			else
				_rowcat_reply "$cur" "${prefix}plain" "${prefix}json"
			fi ;;
		# a time: now, the form every --at and --now take
		--at) _rowcat_reply "$cur" "${prefix}$(date -u +%Y-%m-%dT%H:%M:%SZ)" ;;
		*) COMPREPLY=() ;;
		esac
		return 0
	fi

	if [[ $cur == -* ]]; then
		local -A seen=()
		names=(--help)
		[[ -z $command ]] && names+=(--version)
		for opt in "${options[@]}" "${globals[@]}"; do
			opt=${opt%=}
			[[ $opt == --* && -z ${seen[$opt]:-} ]] || continue
			seen[$opt]=1
			names+=("$opt")
		done
		_rowcat_reply "$cur" "${names[@]}"
		return 0
	fi

	if [[ -z $command ]]; then
		mapfile -t names < <("$rowcat" complete commands 2>/dev/null)
		_rowcat_reply "$cur" "${names[@]}"
		return 0
	fi

	# the command's arguments
	case $command:${#args[@]} in
	which:0 | tree:0 | du:0 | snap:0 | flatten:0 | log:0 | check:0 | consumer:0 | \
	restore:0 | rm:0 | unrm:0 | pin:0 | unpin:0 | explain:0)
		if [[ $cur == *@* ]]; then
			[[ $command == restore || $command == rm || $command == unrm ||
			   $command == pin || $command == unpin ||
			   $command == explain ]] || return 0
			mapfile -t names < <("$rowcat" "${catalog[@]}" complete \
				snapshots "${cur%%@*}" 2>/dev/null)
			names=("${names[@]/#/${cur%%@*}@}")
		else
			mapfile -t names < <("$rowcat" "${catalog[@]}" complete volumes \
				2>/dev/null)
			# pin and unpin name a snapshot: go on to VOL@ at once
			if [[ $command == pin || $command == unpin ]]; then
				names=("${names[@]/%/@}")
				compopt -o nospace 2>/dev/null
			fi
		fi
		_rowcat_reply "$cur" "${names[@]}"
		;;
	restore:1)
		[[ ${args[0]} == *@* ]] && return 0
		mapfile -t names < <("$rowcat" "${catalog[@]}" complete snapshots \
			"${args[0]}" 2>/dev/null)
		_rowcat_reply "$cur" "${names[@]}"
		;;
	consumer:1) _rowcat_files "$cur" ;;
	policy:0) _rowcat_reply "$cur" check run ;;
	policy:1) _rowcat_files "$cur" ;;
	catalog:0) _rowcat_reply "$cur" copy info ;;
	# FROM and TO: files (a rados:// location is typed)
	catalog:1 | catalog:2) [[ ${args[0]} == copy ]] && _rowcat_files "$cur" ;;
	# adopt names images of the cluster, which completion never asks
	adopt:*) COMPREPLY=() ;;
	debug:0) _rowcat_reply "$cur" failpoints ;;
	complete:0) _rowcat_reply "$cur" commands volumes snapshots ;;
	*) COMPREPLY=() ;;
	esac
	return 0
}

complete -F _rowcat rowcat
