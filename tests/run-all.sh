#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing (as root),
# builds twice — the shipping build and an AddressSanitizer +
# UndefinedBehaviorSanitizer build — and runs every test of each with ctest:
# unit tests, then integration tests against a throwaway Ceph cluster that
# ctest starts and stops itself (their catalogs in RADOS in the shipping
# build, files in the other); then builds the policy parser's libFuzzer
# target with clang and replays its corpus. Every build here treats
# warnings as errors (ROWCAT_WERROR, which is off for everyone else).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash tests/cluster/install-deps.sh

run_build() { # DIR CMAKE-ARGS...
	local dir=$1; shift
	echo "== $dir: configure and build" >&2
	cmake -S . -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$(nproc)" >/dev/null
	echo "== $dir: ctest" >&2
	ctest --test-dir "$dir" --output-on-failure --timeout 1200
}

# The policy parser under libFuzzer (clang): replay the seed corpus, then
# a short fuzzing run from a fixed seed on a scratch copy of it.
fuzz_build() {
	local scratch
	echo "== build-fuzz: configure and build (clang, libFuzzer)" >&2
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DROWCAT_FUZZ=ON \
		-DROWCAT_WERROR=ON -DROWCAT_TESTS=OFF -DROWCAT_BENCH=OFF >/dev/null
	cmake --build build-fuzz -j"$(nproc)" --target fuzz_policy >/dev/null
	echo "== build-fuzz: replay the corpus, then fuzz from seed 1" >&2
	build-fuzz/tests/fuzz/fuzz_policy -runs=0 tests/fuzz/corpus
	scratch=$(mktemp -d)
	cp tests/fuzz/corpus/* "$scratch"/
	build-fuzz/tests/fuzz/fuzz_policy -seed=1 -runs=200000 -max_len=4096 \
		-dict=tests/fuzz/policy.dict \
		-rss_limit_mb=2048 "$scratch"
	rm -rf "$scratch"
}

# ROWCAT_MAN: the man pages and their test are never left out for want of
# scdoc. ROWCAT_TEST_CATALOG: the integration suite runs once on each kind
# of catalog, in RADOS in the shipping build, in files under the
# sanitizers (a third pass would not fit CI's time; see the README's
# Testing).
run_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROWCAT_WERROR=ON -DROWCAT_MAN=ON \
	-DROWCAT_TEST_CATALOG=rados
run_build build-asan -DCMAKE_BUILD_TYPE=Debug -DROWCAT_SANITIZE=ON -DROWCAT_WERROR=ON \
	-DROWCAT_MAN=ON -DROWCAT_TEST_CATALOG=file
fuzz_build
