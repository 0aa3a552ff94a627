#!/bin/bash
# lpm-vs-dpdk.sh: run lpm-bench and DPDK's dpdk-test-fib (rte_fib DIR-24-8 and rte_lpm) on the
# same route file in the same run, and print our figures as ratios to DPDK's.
#
# usage: lpm-vs-dpdk.sh LPM_BENCH ROUTE_FILE [LOOKUPS] [RANDOM_PCT]
#
# Needs root (huge pages) and dpdk-test-fib (Debian dpdk-dev). Reserves 2 MiB huge pages through
# /proc/sys/vm/nr_hugepages on top of what is already reserved, mounts a private hugetlbfs, and
# gives both back on exit (tests/perf/hugepages.sh). Never fails because of timing: exit 0 unless
# a tool could not run (77 = skipped: no root or no dpdk-test-fib), or lpm-bench --verify found a
# mismatch (1).
set -u

BENCH=${1:?usage: lpm-vs-dpdk.sh LPM_BENCH ROUTE_FILE [LOOKUPS] [RANDOM_PCT]}
ROUTES=${2:?route file}
LOOKUPS=${3:-10000000}
RANDOM_PCT=${4:-50}
HUGEPAGES=${LPM_HUGEPAGES:-600}        # 1.2 GiB: rte_fib's 64 MiB tbl24 plus its RIB of 900k routes
TBL8=${LPM_TBL8:-4096}                 # tbl8 groups: the full table needs under 1,000
LPM_TIMEOUT_S=${LPM_TIMEOUT_S:-1200}   # rte_lpm's adds are quadratic in routes per length

skip() { echo "lpm-vs-dpdk: SKIP: $*"; exit 77; }
[ -r "$ROUTES" ] || skip "$ROUTES not found"
command -v dpdk-test-fib >/dev/null || skip "dpdk-test-fib not installed (apt-get install dpdk-dev)"
[ "$(id -u)" = 0 ] || skip "needs root for huge pages"

# shellcheck source=hugepages.sh
. "$(dirname "$0")/hugepages.sh"
work=$(mktemp -d /tmp/lpm-vs-dpdk.XXXXXX)
cleanup() {
	hugepages_release
	rm -rf "$work" "/var/run/dpdk/lpmcmp$$" # DPDK's runtime directory for --file-prefix
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The same file for everyone: "prefix nexthop" lines (synthetic next hops if the file has none).
case "$ROUTES" in
*.xz) xz -dc "$ROUTES" ;;
*) cat "$ROUTES" ;;
esac | awk 'NF == 1 { print $1, NR % 251 + 1; next } NF >= 2 { print $1, $2 }' > "$work/routes.txt"

hugepages_reserve "$HUGEPAGES" "$work/huge" || skip "cannot mount hugetlbfs"

# DPDK counts lookups and we count lookups the same way; both time with the TSC.
eal=(-l 1 --no-pci --huge-dir "$work/huge" --file-prefix "lpmcmp$$" --log-level=lib.eal:error)
echo "== lpm-bench"
"$BENCH" --routes "$work/routes.txt" --lookups "$LOOKUPS" --random-pct "$RANDOM_PCT" --verify \
	| tee "$work/ours.txt"
bench_rc=${PIPESTATUS[0]}
echo "== dpdk-test-fib rte_fib DIR-24-8 (-b dir)"
# dpdk-test-fib adds the routes in ten chunks and prints one average per chunk; we average those.
timeout 600 dpdk-test-fib "${eal[@]}" -- -f "$work/routes.txt" -l "$LOOKUPS" -r "$RANDOM_PCT" \
	-b dir -e 4 -g "$TBL8" > "$work/fib.txt" 2>&1
grep -v '^depth' "$work/fib.txt"
echo "== dpdk-test-fib rte_lpm (-c); its adds take minutes on a full table"
timeout "$LPM_TIMEOUT_S" dpdk-test-fib "${eal[@]}" -- -f "$work/routes.txt" -l "$LOOKUPS" \
	-r "$RANDOM_PCT" -c -g "$TBL8" > "$work/lpm.txt" 2>&1
grep -v '^depth' "$work/lpm.txt"

avg() { awk -v k="$2" '$0 ~ k { s += $NF; n++ } END { if (n) printf "%.1f", s / n; else print "nan" }' "$1"; }
ours=$(grep '^lpm-bench:' "$work/ours.txt")
o_lookup=$(echo "$ours" | awk '{ sub("/lookup", "", $2); print $2 }')
# lpm-bench: C/lookup M Mlookups/s MiB MiB build MS ms add C/route del C/route
o_mib=$(echo "$ours" | awk '{ print $5 }')
o_build=$(echo "$ours" | awk '{ print $8 }')
o_add=$(echo "$ours" | awk '{ sub("/route", "", $11); print $11 }')
o_del=$(echo "$ours" | awk '{ sub("/route", "", $13); print $13 }')
f_lookup=$(avg "$work/fib.txt" "AVG FIB lookup")
f_lookup2=$(avg "$work/lpm.txt" "AVG FIB lookup") # -c runs rte_fib's lookups again, too
f_add=$(avg "$work/fib.txt" "AVG FIB add")
f_del=$(avg "$work/fib.txt" "AVG FIB delete")
l_lookup=$(avg "$work/lpm.txt" "AVG LPM lookup")
l_add=$(avg "$work/lpm.txt" "AVG LPM add")
l_del=$(avg "$work/lpm.txt" "AVG LPM delete")
# DPDK's lookup memory from its configuration: tbl24 (2^24 entries) plus TBL8 groups of 256, 4 B
f_mib=$(awk -v g="$TBL8" 'BEGIN { printf "%.1f", (16777216 + g * 256) * 4 / 1048576 }')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "nan") printf "%.2f", a / b; else print "n/a" }'; }

echo "== summary (cycles from the TSC; ratio = ours / DPDK)"
printf '%-16s %12s %12s %12s %10s %10s\n' "" "ixyd lpm4" "rte_fib" "rte_lpm" "/rte_fib" "/rte_lpm"
printf '%-16s %12s %12s %12s %10s %10s\n' "lookup cycles" "$o_lookup" "$f_lookup" "$l_lookup" \
	"$(ratio "$o_lookup" "$f_lookup")" "$(ratio "$o_lookup" "$l_lookup")"
printf '%-16s %12s %12s %12s %10s %10s\n' "add cycles" "$o_add" "$f_add" "$l_add" \
	"$(ratio "$o_add" "$f_add")" "$(ratio "$o_add" "$l_add")"
printf '%-16s %12s %12s %12s %10s %10s\n' "delete cycles" "$o_del" "$f_del" "$l_del" \
	"$(ratio "$o_del" "$f_del")" "$(ratio "$o_del" "$l_del")"
printf '%-16s %12s %12s %12s %10s %10s\n' "memory MiB" "$o_mib" ">=$f_mib" "-" \
	"$(ratio "$o_mib" "$f_mib")" "-"
printf '%-16s %12s\n' "build ms" "$o_build"
echo "(rte_fib lookup cycles in the rte_lpm run: $f_lookup2; the spread shows the machine's noise)"
[ "$bench_rc" = 0 ] || { echo "lpm-vs-dpdk: lpm-bench --verify failed"; exit 1; }
exit 0
