#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing (as root),
# builds twice — the shipping build and an AddressSanitizer +
# UndefinedBehaviorSanitizer build — and runs every test of each with ctest:
# unit tests, then integration tests against a throwaway Ceph cluster that
# ctest starts and stops itself.
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

run_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_build build-asan -DCMAKE_BUILD_TYPE=Debug -DROWCAT_SANITIZE=ON
