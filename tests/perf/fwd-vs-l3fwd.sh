#!/bin/bash
# fwd-vs-l3fwd.sh: ixyd's forwarding rate on one core against DPDK's l3fwd, same routes, same
# traffic, same run (issue 5 part 9).
#
# usage: fwd-vs-l3fwd.sh BENCH_FORWARD TABLE[.xz] [ROUNDS] [WINDOW_S]
#
#   BENCH_FORWARD  the bench_forward binary (tests/dataplane/bench_forward.c)
#   TABLE          the full Internet table, "a.b.c.d/len" lines (../shared/data/routes/...)
#   ROUNDS         measurement windows per program (default 3); medians are reported
#   WINDOW_S       seconds per window (default 3), after 1 s of warm-up
# Environment: FWD_LOOKUPS (l3fwd modes, default "lpm fib"), FWD_FRAMES (8192), FWD_SEED (the
# time), FWD_CORE (the core every forwarder polls on, default 1), FWD_HUGEPAGES (2 MiB pages to
# reserve for DPDK, default 1024), FWD_LOAD_TIMEOUT_S (how long a table load may take, 900),
# FWD_WORKDIR (where the traffic, the l3fwd build and the hugetlbfs mount go for the run, removed
# at exit; default: the current directory, the build tree under ctest).
#
# What runs, all on memory-backed ports with every route of TABLE out of the "null" port:
#   ixyd   bench_forward --serve: pcap:traffic.pcap -> null:, one worker on FWD_CORE
#   l3fwd  DPDK's example (Debian dpdk-doc), built here from /usr/share/dpdk/examples/l3fwd with
#          pkg-config libdpdk: --no-pci --vdev net_pcap0,rx_pcap=traffic.pcap,infinite_rx=1
#          --vdev net_null0, one lcore (FWD_CORE) polling both ports, --lookup lpm (rte_lpm) and
#          --lookup fib (rte_fib DIR-24-8). Before building, sed raises the example's table sizes
#          in the build copy (1024 IPv4 rules and 256 tbl8 groups for LPM, 65536 routes for
#          FIB: far too few for 900k routes), raises its mbuf pool's floor from 8192 to 32768
#          (net_pcap's infinite_rx holds the whole capture in mbufs of that pool) and drops its
#          request for rx checksum offload, which net_pcap does not offer. net_null runs with
#          no-rx=1 (otherwise its rx invents packets). No DPDK code is kept in our tree.
# The traffic (tests/perf/fwd-traffic.py, seed printed): FWD_FRAMES 64-byte IPv4/UDP frames with
# valid checksums, TTL 64, to random hosts of random prefixes of the table, addressed to
# bench_forward's p0 MAC (l3fwd does not check destination MACs).
#
# Every program loads its table once. Then the script alternates: it resumes one program
# (SIGCONT), lets it warm up, measures its tx packets on the null port over WINDOW_S, and pauses
# it again (SIGSTOP), so the forwarders never compete for the core while measured. ixyd's
# counters come from bench_forward's samples (SIGUSR1), l3fwd's from DPDK telemetry
# (/ethdev/stats on the v2 socket, tests/perf/dpdk-telemetry.py).
#
# rte_lpm adds a route by scanning every rule of the same length, so l3fwd in LPM mode needs
# minutes to load the 537k /24s; that load dominates the run time.
#
# Needs root (huge pages). Exit 77 (skipped) without root, the table, python3, pkg-config libdpdk
# or the l3fwd sources, or when l3fwd has not loaded its table in FWD_LOAD_TIMEOUT_S; 1 when
# something breaks (a program dies, ixyd does not load, a window forwards nothing); 0 otherwise,
# whatever the figures.
set -euo pipefail

BENCH=${1:?usage: fwd-vs-l3fwd.sh BENCH_FORWARD TABLE[.xz] [ROUNDS] [WINDOW_S]}
TABLE=${2:?table}
ROUNDS=${3:-3}
WINDOW_S=${4:-3}
WARMUP_S=1
read -ra LOOKUPS <<<"${FWD_LOOKUPS:-lpm fib}"
FRAMES=${FWD_FRAMES:-8192}
SEED=${FWD_SEED:-$(date +%s)}
CORE=${FWD_CORE:-1}
HUGEPAGES=${FWD_HUGEPAGES:-1024}
LOAD_TIMEOUT_S=${FWD_LOAD_TIMEOUT_S:-900}
L3FWD_SRC=/usr/share/dpdk/examples
HERE=$(cd "$(dirname "$0")" && pwd)

say() { echo "fwd-vs-l3fwd: $*"; }
skip() { say "SKIP: $*"; exit 77; }
fail() { say "FAIL: $*"; exit 1; }
[ -r "$TABLE" ] || skip "$TABLE not found"
[ -x "$BENCH" ] || skip "$BENCH not built"
[ "$(id -u)" = 0 ] || skip "needs root for huge pages"
command -v python3 >/dev/null || skip "python3 not installed"
pkg-config --exists libdpdk || skip "libdpdk not found by pkg-config (apt-get install libdpdk-dev)"
[ -r "$L3FWD_SRC/l3fwd/l3fwd_lpm.c" ] || skip "no l3fwd sources in $L3FWD_SRC (apt-get install dpdk-doc)"

# shellcheck source=hugepages.sh
. "$HERE/hugepages.sh"

work=$(mktemp -d "${FWD_WORKDIR:-$PWD}/fwd-vs-l3fwd.XXXXXX")
declare -A pid=()
prefixes=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local p
	for p in "${pid[@]}"; do
		kill -CONT "$p" 2>/dev/null || true
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${pid[@]}"; do
		timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
	done
	# Reap them: until a killed l3fwd is gone its huge page mappings keep the mount busy (an
	# l3fwd still adding routes ignores SIGTERM until its main loop).
	for p in "${pid[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	for p in "${prefixes[@]}"; do
		rm -rf "/var/run/dpdk/$p"
	done
	hugepages_release
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Routes and traffic.
python3 "$HERE/fwd-traffic.py" "$TABLE" "$work" --frames "$FRAMES" --seed "$SEED"

# 2. A private l3fwd, built from the system's example sources with raised table sizes.
mkdir -p "$work/src"
cp -r "$L3FWD_SRC/l3fwd" "$L3FWD_SRC/common" "$work/src/"
(
	cd "$work/src/l3fwd"
	sed -i -e 's/^#define IPV4_L3FWD_LPM_MAX_RULES .*/#define IPV4_L3FWD_LPM_MAX_RULES (1 << 20)/' \
		-e 's/^#define IPV4_L3FWD_LPM_NUMBER_TBL8S .*/#define IPV4_L3FWD_LPM_NUMBER_TBL8S (1 << 12)/' \
		l3fwd_lpm.c
	sed -i 's/config_ipv4\.max_routes = (1 << 16);/config_ipv4.max_routes = (1 << 20);/' l3fwd_fib.c
	sed -i -e 's/\.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,/.offloads = 0,/' \
		-e 's/(unsigned)8192)/(unsigned)32768)/' main.c
	grep -q 'IPV4_L3FWD_LPM_MAX_RULES (1 << 20)' l3fwd_lpm.c &&
		grep -q 'IPV4_L3FWD_LPM_NUMBER_TBL8S (1 << 12)' l3fwd_lpm.c &&
		grep -q 'config_ipv4.max_routes = (1 << 20)' l3fwd_fib.c &&
		grep -q '\.offloads = 0,' main.c && grep -q '(unsigned)32768)' main.c ||
		{ echo "fwd-vs-l3fwd: the l3fwd sources changed: a sed did not apply" >&2; exit 1; }
	make -s -j2 >"$work/l3fwd-make.log" 2>&1 || { cat "$work/l3fwd-make.log" >&2; exit 1; }
) || fail "cannot build l3fwd"
L3FWD=$work/src/l3fwd/build/l3fwd
say "l3fwd built from $L3FWD_SRC/l3fwd (DPDK $(pkg-config --modversion libdpdk))"

hugepages_reserve "$HUGEPAGES" "$work/huge" || fail "no huge pages"

# 3. Start every program; each is paused as soon as its table is loaded.
alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; }
start_l3fwd() { # MODE
	local prefix="ixyd-fwd-$$-$1"
	prefixes+=("$prefix")
	"$L3FWD" -l "$CORE" --no-pci --huge-dir "$work/huge" --file-prefix "$prefix" \
		--vdev "net_pcap0,rx_pcap=$work/traffic.pcap,infinite_rx=1" --vdev net_null0,no-rx=1 -- \
		-p 0x3 --config "(0,0,$CORE),(1,0,$CORE)" --lookup "$1" --parse-ptype \
		--rule_ipv4="$work/l3fwd-v4.txt" --rule_ipv6="$work/l3fwd-v6.txt" \
		> >(grep --line-buffered -v 'Adding route' >"$work/l3fwd-$1.out") 2>"$work/l3fwd-$1.err" &
	pid[$1]=$!
}
# wait_ready NAME:PATTERN:FILE...: wait until each FILE has its PATTERN, pausing each program
# (SIGSTOP) as soon as it is ready, so a loaded forwarder never slows a table load still going on.
wait_ready() {
	local t0=$SECONDS pending=("$@") left item name pattern file
	while [ ${#pending[@]} -gt 0 ]; do
		left=()
		for item in "${pending[@]}"; do
			IFS=: read -r name pattern file <<<"$item"
			if grep -qs "$pattern" "$file"; then
				kill -STOP "${pid[$name]}"
				say "$name ready after $((SECONDS - t0)) s"
				continue
			fi
			alive "${pid[$name]}" || { tail -20 "$file"; fail "$name died while loading"; }
			left+=("$item")
		done
		pending=("${left[@]}")
		if [ $((SECONDS - t0)) -ge "$LOAD_TIMEOUT_S" ]; then
			# A hang guard, not a speed test: ixyd not loaded by now is a bug; a DPDK
			# table still loading only means this machine is too slow today to compare.
			[[ " ${pending[*]} " != *" ixyd:"* ]] || fail "ixyd not loaded in $LOAD_TIMEOUT_S s"
			skip "l3fwd still loading after $LOAD_TIMEOUT_S s (${pending[*]%%:*}): nothing to compare with"
		fi
		[ ${#pending[@]} -eq 0 ] || sleep 0.2
	done
}

"$BENCH" --serve --pcap "$work/traffic.pcap" "$work/routes.txt" >"$work/ixyd.out" 2>&1 &
pid[ixyd]=$!
waits=("ixyd:^bench_forward. ready:$work/ixyd.out") # NAME:PATTERN:FILE, no colon in PATTERN
for mode in "${LOOKUPS[@]}"; do
	start_l3fwd "$mode"
	waits+=("$mode:entering main loop:$work/l3fwd-$mode.err")
done
wait_ready "${waits[@]}"
say "$(grep 'routes loaded' "$work/ixyd.out")"

# 4. Alternate the windows.
sample_ixyd() { # prints "NS TX"
	local n
	n=$(grep -c '^bench_forward: sample' "$work/ixyd.out" || true)
	kill -USR1 "${pid[ixyd]}"
	for _ in $(seq 500); do
		[ "$(grep -c '^bench_forward: sample' "$work/ixyd.out")" -gt "$n" ] && break
		sleep 0.01
	done
	grep '^bench_forward: sample' "$work/ixyd.out" | tail -1 | awk '{ print $3, $4 }'
}
window() { # NAME: prints the Mpps of one window
	local name=$1 a b
	alive "${pid[$name]}" || fail "$name died"
	kill -CONT "${pid[$name]}"
	if [ "$name" = ixyd ]; then
		sample_ixyd >/dev/null # also confirms the gateway's neighbour entry
		sleep "$WARMUP_S"
		a=$(sample_ixyd)
		sleep "$WINDOW_S"
		b=$(sample_ixyd)
		echo "$a $b" | awk '{ printf "%.3f\n", ($4 - $2) * 1e3 / ($3 - $1) }'
	else
		sleep "$WARMUP_S"
		python3 "$HERE/dpdk-telemetry.py" "/var/run/dpdk/ixyd-fwd-$$-$name/dpdk_telemetry.v2" \
			rate 1 "$WINDOW_S" | awk '{ print $NF }'
	fi
	kill -STOP "${pid[$name]}"
}
names=(ixyd "${LOOKUPS[@]}")
declare -A rates=()
for r in $(seq "$ROUNDS"); do
	line="round $r:"
	for name in "${names[@]}"; do
		mpps=$(window "$name") || exit 1
		[ -n "$mpps" ] || fail "$name: no figure"
		awk -v m="$mpps" 'BEGIN { exit !(m > 0) }' || fail "$name forwarded nothing in a window"
		rates[$name]="${rates[$name]:-} $mpps"
		line="$line $name $mpps Mpps,"
	done
	say "${line%,}"
done

# 5. Stop everything and check the programs' own counters.
for name in "${names[@]}"; do
	kill -CONT "${pid[$name]}"
done
if [[ " ${LOOKUPS[*]} " == *" lpm "* ]]; then
	say "l3fwd lpm ports: $(python3 "$HERE/dpdk-telemetry.py" \
		"/var/run/dpdk/ixyd-fwd-$$-lpm/dpdk_telemetry.v2" stats 1 |
		python3 -c 'import json,sys; s=json.load(sys.stdin); print("null tx", s["opackets"], "oerrors", s["oerrors"])')"
fi
for name in "${names[@]}"; do
	kill -TERM "${pid[$name]}"
	rc=0
	wait "${pid[$name]}" || rc=$?
	unset "pid[$name]"
	[ "$rc" = 0 ] || fail "$name exited with status $rc"
done
grep -E '^bench_forward: 1 worker' "$work/ixyd.out" | sed 's/^/fwd-vs-l3fwd: ixyd: /'

median() { echo "$1" | tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { echo "$1" | tr ' ' '\n' | grep . | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
ixyd=$(median "${rates[ixyd]}")
summary="ixyd $ixyd Mpps ($(spread "${rates[ixyd]}"))"
for mode in "${LOOKUPS[@]}"; do
	m=$(median "${rates[$mode]}")
	summary="$summary, l3fwd-$mode $m Mpps ($(spread "${rates[$mode]}")), ixyd/l3fwd-$mode $(awk -v a="$ixyd" -v b="$m" 'BEGIN { printf "%.2f", a / b }')"
done
say "seed $SEED, $FRAMES frames, $ROUNDS x ${WINDOW_S} s windows on core $CORE, median (min-max):"
say "$summary"
exit 0
