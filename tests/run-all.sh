#!/usr/bin/env bash
# Set up a fresh Debian 12 machine (as root) and run every test:
#   1. install the packages we need (tools/install-deps.sh)
#   2. build from scratch: Release with -Werror in build/, ASan+UBSan in build-asan/ (the
#      checking build: -O1 and assertions on), TSan in build-tsan/, and the libFuzzer targets
#      with clang in build-fuzz/ (-DIXYD_FUZZ=ON)
#   3. run the ctest labels: unit (plain, ASan+UBSan and TSan), ixgbe (plain and ASan),
#      vm (QEMU guests), netns (network namespaces; plain and ASan: the tests run the ixyd of
#      the build directory they are in), fuzz (each libFuzzer target 20 s from its seed
#      corpus, fails on any crash), perf (benchmarks: print figures, never fail on time)
# Prints one ctest summary per step and a closing "N passed, N failed" line.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)

if [ "$(id -u)" -ne 0 ]; then
	echo "run-all: run as root (installs packages, uses namespaces, QEMU and huge pages)" >&2
	exit 2
fi
tools/install-deps.sh || { echo "run-all: installing dependencies failed" >&2; exit 2; }

build() { # dir, extra cmake args...
	local dir=$1
	shift
	rm -rf "$dir"
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DIXYD_WERROR=ON "$@" >/dev/null &&
		cmake --build "$dir" -j "$jobs"
}

tests_total=0
tests_failed=0
steps_failed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
step() { # name, build dir, ctest args...
	local name=$1 dir=$2
	shift 2
	echo "=== $name"
	(cd "$dir" && ctest --output-on-failure "$@") 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	# ctest's summary: "NN% tests passed, F tests failed out of T"
	local summary
	summary=$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
	if [ -n "$summary" ]; then
		tests_failed=$((tests_failed + $(echo "$summary" | awk '{print $1}')))
		tests_total=$((tests_total + $(echo "$summary" | awk '{print $NF}')))
	fi
	if [ "$rc" -ne 0 ]; then
		steps_failed+=("$name")
		# A step that failed without a summary (ctest itself broke) still counts as a failure.
		[ -n "$summary" ] || tests_failed=$((tests_failed + 1))
	fi
}

build build || { echo "run-all: build failed" >&2; exit 1; }
build build-asan -DIXYD_SANITIZE=address || { echo "run-all: ASan build failed" >&2; exit 1; }
build build-tsan -DIXYD_SANITIZE=thread || { echo "run-all: TSan build failed" >&2; exit 1; }
CC=clang build build-fuzz -DIXYD_FUZZ=ON || { echo "run-all: fuzz build failed" >&2; exit 1; }

step "unit" build -L '^unit$'
step "unit (ASan+UBSan)" build-asan -L '^unit$'
step "unit (TSan)" build-tsan -L '^unit$'
step "ixgbe" build -L '^ixgbe$'
step "ixgbe (ASan+UBSan)" build-asan -L '^ixgbe$'
step "vm" build -L '^vm$'
step "netns" build -L '^netns$'
step "netns (ASan+UBSan)" build-asan -L '^netns$'
step "fuzz" build-fuzz -L '^fuzz$'
step "perf" build -L '^perf$'

if [ ${#steps_failed[@]} -gt 0 ]; then
	echo "run-all: failed steps: ${steps_failed[*]}"
fi
echo "run-all: $((tests_total - tests_failed)) passed, $tests_failed failed"
[ ${#steps_failed[@]} -eq 0 ]
