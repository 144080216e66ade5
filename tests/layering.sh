#!/bin/bash
# The module graph, drawn from the #include lines of the library and the
# command line, and checked: every arrow points down
#
#   cli -> ops -> catalog | rbdops | qmp | config -> common
#
# and nothing reaches past its neighbours' public headers: only ops/ (and
# catalog/ itself) includes the catalog's writers (rowcat/sys/journal.h),
# nothing below the CLI includes a CLI header, the Ceph layer includes no
# catalog header, and only the module that wraps a library includes its
# header (sqlite3: catalog/, librbd and librados: rbdops/, json-c:
# qmp/ for QEMU's monitor and cli/ for --format json, libsmartcols: cli/,
# libyaml: config/). Prints the graph, one line per module, as the README shows it;
# exits 1, naming each include that breaks a rule, when one does.
#
# usage: tests/layering.sh [SOURCE_DIR]
set -u
src=${1:-$(dirname "$0")/..}
cd "$src" || exit 2

modules=(cli ops catalog rbdops qmp config common)
# what each module may include besides its own folder
declare -A allowed=(
	[cli]="ops catalog rbdops qmp config common"
	[ops]="catalog journal rbdops qmp config common"
	[catalog]="journal common"
	[rbdops]="common"
	[qmp]="common"
	[config]="common"
	[common]="common"
)
# the module a header belongs to
header_module() {
	case $1 in
	rowcat/sys/journal.h) echo journal ;;
	rowcat/catalog.h) echo catalog ;;
	rowcat/rbdops.h) echo rbdops ;;
	rowcat/ops.h) echo ops ;;
	rowcat/qmp.h) echo qmp ;;
	rowcat/policy.h | rowcat/config.h) echo config ;;
	rowcat/error.h | rowcat/names.h | rowcat/clock.h | rowcat/units.h | rowcat/host.h | \
		rowcat/sys/*) echo common ;;
	sqlite3.h) echo lib:sqlite3 ;;
	rbd/* | rados/*) echo lib:ceph ;;
	yaml.h) echo lib:yaml ;;
	json-c/*) echo lib:jsonc ;;
	libsmartcols.h | libsmartcols/*) echo lib:smartcols ;;
	*) echo other ;;
	esac
}
# who may include a wrapped library's header
declare -A wrapper=([lib:sqlite3]=catalog [lib:ceph]=rbdops [lib:jsonc]="qmp cli"
	[lib:smartcols]=cli [lib:yaml]=config)

# the folder a public header's code lives in, so that its own includes are
# held to its module's rules too
header_home() {
	case $(header_module "$1") in
	journal) echo catalog ;;
	*) header_module "$1" ;;
	esac
}

failures=0
declare -A edges
check_include() { # FILE MODULE INCLUDED SYSTEM
	local file=$1 module=$2 inc=$3 system=$4 target
	if [[ $inc == internal.h || $inc == */internal.h ]]; then
		if [[ $inc == */* ]]; then
			echo "layering: $file includes $inc: an internal.h is private to its folder"
			failures=$((failures + 1))
		fi
		return
	fi
	target=$(header_module "$inc")
	case $target in
	lib:*)
		if [[ " ${wrapper[$target]} " != *" $module "* ]]; then
			echo "layering: $file includes <$inc>: that library is for ${wrapper[$target]// /, } only"
			failures=$((failures + 1))
		fi
		return ;;
	other)
		# the C library and POSIX, or a header of the module's own
		# folder (cli.h, json.h, yaml_tree.h)
		if [[ $system == no && ( $inc == */* || ! -f $(dirname "$file")/$inc ) ]]; then
			echo "layering: $file includes \"$inc\": not a header of its own folder nor a public one"
			failures=$((failures + 1))
		fi
		return ;;
	esac
	[[ $target == "$module" ]] && return
	if [[ " ${allowed[$module]} " != *" $target "* ]]; then
		echo "layering: $file includes \"$inc\": $module/ may not depend on $target"
		failures=$((failures + 1))
		return
	fi
	[[ $target == journal ]] && target=catalog
	[[ $target != "$module" ]] && edges[$module]+=" $target"
}

scan() { # FILE MODULE
	local delim inc
	while read -r delim inc; do
		check_include "$1" "$2" "$inc" \
			"$([[ $delim == '<' ]] && echo yes || echo no)"
	done < <(sed -nE 's/^#include *([<"])([^">]+)[">].*/\1 \2/p' "$1")
}

for module in "${modules[@]}"; do
	for f in "$module"/*.c "$module"/*.h; do
		[[ -e $f ]] && scan "$f" "$module"
	done
done
for h in include/rowcat/*.h include/rowcat/sys/*.h; do
	scan "$h" "$(header_home "${h#include/}")"
done

for module in "${modules[@]}"; do
	deps=$(tr ' ' '\n' <<<"${edges[$module]:-}" | sed '/^$/d' | sort -u |
		awk -v order="${modules[*]}" 'BEGIN { n = split(order, o, " ");
			for (i = 1; i <= n; i++) rank[o[i]] = i }
			{ print rank[$1], $1 }' | sort -n | cut -d' ' -f2 |
		paste -sd, | sed 's/,/, /g')
	printf '%-8s -> %s\n' "$module" "${deps:-(nothing)}"
done
if ((failures)); then
	echo "layering: $failures include(s) break the module graph" >&2
	exit 1
fi
