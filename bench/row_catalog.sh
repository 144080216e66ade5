# Row 1: the catalog at scale, no cluster (sourced by bench/run.sh).

# hostile_policies DIR: writes the policy files of 1 MiB (the size limit)
# that tests/unit/test_policy_file.c checks the verdicts on, in the same
# shapes, and the alias bomb; prints "FILE WHAT" for each, WHAT being part
# of what policy check must say of it.
hostile_policies() {
	python3 - "$1" <<'EOT'
import sys
top, limit = sys.argv[1], 1024 * 1024
def write(name, head, item, upto, tail=""):
    text, n = [head], 0
    size = len(head)
    while size < upto:
        text.append(item(n)); size += len(text[-1]); n += 1
    while tail and size < limit - 16:
        text.append(tail); size += len(tail)
    open(f"{top}/{name}.yaml", "w").write("".join(text))
write("keys", "", lambda n: f"a{n}: 1\n", limit // 3, "version: 1\n")
print(f"{top}/keys.yaml {top}/keys.yaml:1:1: unknown key 'a0' in the file")
write("policies", "version: 1\npolicies:\n", lambda n: f"- {{name: p{n}}}\n", limit - 32)
print(f"{top}/policies.yaml {top}/policies.yaml:3:3: policy 'p0' needs volumes")
write("aliases", "", lambda n: f"- &a{n} 0\n", limit // 2, "- *a0\n")
print(f"{top}/aliases.yaml aliases expand to more than 10000 nodes")
write("cron", "version: 1\npolicies:\n",
      lambda n: '- {name: p, volumes: [rbd/*], cron: "0 0 1 1 */2"}\n', limit - 64)
print(f"{top}/cron.yaml {top}/cron.yaml:4:3: a second policy named 'p'")
level = ['a: &a [' + ",".join(['"lol"'] * 9) + ']']
for a, b in zip("bcdefghi", "abcdefgh"):
    level.append(f"{a}: &{a} [" + ",".join([f"*{b}"] * 9) + "]")
open(f"{top}/bomb.yaml", "w").write("version: 1\n" + "\n".join(level) + "\npolicies: [*i]\n")
print(f"{top}/bomb.yaml {top}/bomb.yaml:6:8: aliases expand to more than 10000 nodes")
EOT
}

# policy_refused FILE: rowcat policy check FILE, which must refuse it.
policy_refused() {
	local status=0
	"$rowcat" policy check "$1" || status=$?
	[ "$status" = 1 ]
}

# interleaved_ms REPS NAME... : runs each command NAME (a function, no
# arguments) once per round, in turn, for REPS rounds, so that a change in
# the machine's load falls on all of them alike; prints "NAME MEDIAN_MS"
# for each.
interleaved_ms() {
	local reps=$1 i name
	shift
	for i in $(seq "$reps"); do
		for name in "$@"; do
			echo "$name $(time_ms "$name")"
		done
	done >"$work/interleaved"
	for name in "$@"; do
		echo "$name $(awk -v n="$name" '$1 == n { print $2 }' "$work/interleaved" | median)"
	done
}

row_catalog() {
	local volumes=10000 generations=100 removed=100 reps=11
	[ "$quick" = 1 ] && volumes=200 removed=2 reps=3
	local db=$work/scale.db mid gen_s images listed steps q
	mid=$(printf 'vol%06d' $((volumes / 2)))
	# no cluster: any attempt to reach one would fail the run
	local -x CEPH_CONF=/nonexistent
	local scale=("$rowcat" --catalog "$db")

	say "row 1: catalog of $volumes volumes x $generations generations"
	gen_s=$("$bench_catalog" gen "$db" "$volumes" "$generations" | awk '/gen_seconds/ { print $2 }')
	local depth_us lineage_us queries_mib
	q=$("$bench_catalog" queries "$db" "$volumes" 101)
	depth_us=$(awk '/depth_query/ { print $2 }' <<<"$q")
	lineage_us=$(awk '/lineage_load/ { print $2 }' <<<"$q")
	[ -n "$depth_us" ] && [ -n "$lineage_us" ] || bench_fail "bench_catalog queries: $q"
	queries_mib=$(peak_mib "$bench_catalog" queries "$db" "$volumes" 101)
	# the gc plan has work: some volumes removed, their chains garbage
	for v in $(seq 1 "$removed"); do "${scale[@]}" -q rm "$(printf 'vol%06d' "$v")" ||
		bench_fail "rm of a synthetic volume"; done

	# The harness checks what it times: a wrong answer fails the run.
	images=$("${scale[@]}" tree "$mid" --format json |
		jq '[.nodes[] | select(.type == "image")] | length')
	[ "$images" = "$generations" ] || bench_fail "tree printed $images images, expected $generations"
	listed=$("${scale[@]}" ls | wc -l)
	[ "$listed" = $((volumes + 1)) ] || bench_fail "ls printed $listed lines"
	steps=$("${scale[@]}" gc --dry-run --min-age 0s --format json | jq length)
	[ "$steps" = $((removed * generations)) ] ||
		bench_fail "the gc plan has $steps steps, expected one per image of the removed volumes"
	local count
	count=$(sqlite3 "$db" 'select count(*) from image')
	[ "$count" = $((volumes * generations)) ] ||
		bench_fail "sqlite3 counted $count images, expected $((volumes * generations))"

	# Start-up: the commands that read only the catalog against the
	# sqlite3 shell's smallest query of the same file, and against
	# rowcat's own start with (--version asks librbd and librados their
	# versions) and without (--help) Ceph's libraries; round-robin.
	start_sqlite() { sqlite3 "$db" 'select count(*) from image'; }
	start_help() { "$rowcat" --help; }
	start_version() { "$rowcat" --version; }
	start_tree_plain() { "${scale[@]}" tree "$mid"; }
	start_tree_json() { "${scale[@]}" tree "$mid" --format json; }
	local starts=(start_sqlite start_help start_version start_tree_plain start_tree_json)
	local -A start_ms start_mib
	local name figure
	while read -r name figure; do start_ms[$name]=$figure; done \
		< <(interleaved_ms "$reps" "${starts[@]}")
	for name in "${starts[@]}"; do
		[ -n "${start_ms[$name]:-}" ] || bench_fail "no median for $name"
	done
	start_mib[start_sqlite]=$(peak_mib sqlite3 "$db" 'select count(*) from image')
	start_mib[start_help]=$(peak_mib "$rowcat" --help)
	start_mib[start_version]=$(peak_mib "$rowcat" --version)
	start_mib[start_tree_plain]=$(peak_mib "${scale[@]}" tree "$mid")
	start_mib[start_tree_json]=$(peak_mib "${scale[@]}" tree "$mid" --format json)
	local ls_ms=$(median_ms "$reps" "${scale[@]}" ls)
	ls_mib=$(peak_mib "${scale[@]}" ls)
	gc_ms=$(median_ms "$reps" "${scale[@]}" gc --dry-run --min-age 0s)
	gc_mib=$(peak_mib "${scale[@]}" gc --dry-run --min-age 0s)
	local file what policy_rows="" shape
	mkdir -p "$work/hostile"
	while read -r file what; do
		shape=$(basename "$file" .yaml)
		"$rowcat" policy check "$file" >/dev/null 2>"$work/hostile.err" &&
			bench_fail "policy check accepted $file"
		grep -qF -- "$what" "$work/hostile.err" ||
			bench_fail "policy check of $file: no '$what' in: $(head -3 "$work/hostile.err")"
		policy_rows+="| \`rowcat policy check\` refusing $shape.yaml ($(du -k "$file" | cut -f1) KiB) | $(median_ms "$reps" policy_refused "$file") ms | – |"$'\n'
	done < <(hostile_policies "$work/hostile")

	cat <<EOT
## 1. Catalog at scale (no cluster)

$volumes volumes x $generations generations = $((volumes * generations)) images
and $((volumes * (generations - 1))) snapshots, $removed volumes removed (\`rowcat rm\`);
catalog file $(du -m "$db" | cut -f1) MiB, generated in ${gen_s} s. Medians of
$reps runs of the rowcat binary (process start, catalog open and output
included); peak memory is GNU time's maximum resident set size of one run.

Start-up, side by side: $reps rounds, each running every command below
once in turn; the ratio is to the \`sqlite3\` shell's query on the same
catalog. \`--help\` loads no Ceph library; \`--version\` loads librados
and librbd to ask their versions, as any command that connects does.

| what | median | peak RSS | / sqlite3 |
|---|---|---|---|
| \`sqlite3 CATALOG 'select count(*) from image'\` | ${start_ms[start_sqlite]} ms | ${start_mib[start_sqlite]} MiB | 1.00 |
| \`rowcat --help\` (process start, no Ceph) | ${start_ms[start_help]} ms | ${start_mib[start_help]} MiB | $(ratio "${start_ms[start_help]}" "${start_ms[start_sqlite]}") |
| \`rowcat --version\` (process start, librados and librbd loaded) | ${start_ms[start_version]} ms | ${start_mib[start_version]} MiB | $(ratio "${start_ms[start_version]}" "${start_ms[start_sqlite]}") |
| \`rowcat tree $mid\` (plain) | ${start_ms[start_tree_plain]} ms | ${start_mib[start_tree_plain]} MiB | $(ratio "${start_ms[start_tree_plain]}" "${start_ms[start_sqlite]}") |
| \`rowcat tree $mid --format json\` | ${start_ms[start_tree_json]} ms | ${start_mib[start_tree_json]} MiB | $(ratio "${start_ms[start_tree_json]}" "${start_ms[start_sqlite]}") |

The rest, one command after another:

| what | median | peak RSS |
|---|---|---|
| \`rowcat ls\` (all $volumes volumes, with depth; removed ones are listed as marked until gc) | ${ls_ms} ms | ${ls_mib} MiB |
| \`rowcat gc --dry-run --min-age 0s\` (the plan: $steps steps) | ${gc_ms} ms | ${gc_mib} MiB |
| depth query of an operating image (in process; median over 101 volumes) | ${depth_us} µs | see note |
| lineage load of one volume (in process; median over 101 volumes) | ${lineage_us} µs | see note |
${policy_rows%$'\n'}

The in-process figures come from \`bench/bench_catalog queries\`, one
process for all 202 queries: its peak RSS, ${queries_mib} MiB, bounds theirs.
The policy files are hostile ones at the 1 MiB limit, in the shapes
tests/unit/test_policy_file.c checks the verdicts on (100,000 unknown keys, then
duplicates; policies without volumes; anchors and aliases; cron policies
under one name; the alias bomb): a check of each item against all earlier
ones would take minutes on them.

EOT
}
