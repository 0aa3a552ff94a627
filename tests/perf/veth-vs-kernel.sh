#!/bin/bash
# veth-vs-kernel.sh: ixyd on AF_PACKET ports against the Linux kernel forwarding the same traffic
# between the same namespaces (issue 5 part 9, second half).
#
# usage: veth-vs-kernel.sh IXYD IXY_PKTGEN [ROUNDS] [SECONDS]
#
#   ns s (sender)             ns r (router)                      ns d (counter)
#   v0 10.1.0.2/24 ---veth--- p0 10.1.0.1/24   10.2.0.1/24 p1 ---veth--- v0 10.2.0.2/24
#
# ixy-pktgen in s sends 64-byte UDP frames 10.0.0.1 -> 10.0.0.2 (its fixed addresses) to p0's MAC
# as fast as its AF_PACKET tx ring takes them, for SECONDS (bounded). The router forwards them by
# the route 10.0.0.0/24 via 10.2.0.2 out of p1; the counter is d's v0 rx_packets (d has no
# 10.0.0.2, so its kernel drops the frames after counting them). Two routers, alternated ROUNDS
# times, medians reported:
#   kernel  r's kernel: the addresses on p0/p1, ip_forward=1, the route, rp_filter off, and RPS
#           on p0 steering the forwarding softirq to FWD_CORE (else it would run on the sender's
#           core, since veth delivers in the sender's context)
#   ixyd    r's kernel has no address and ip_forward=0; ixyd owns p0/p1 (af_packet:) with the same
#           addresses and route, one worker on FWD_CORE (default 1) that never sleeps
# The sender is pinned to the other core. Offloads are off on every veth end (tx, tso, gso, gro),
# so both routers see the same 64-byte frames. Rates are taken over the middle of each run (from
# 1 s after the start to 1 s before the end) from the interface counters.
#
# Reserves FWD_HUGEPAGES (default 64) 2 MiB huge pages for ixy-pktgen and gives them back on exit.
# Needs root; exit 77 (skipped) without it, ethtool or the binaries; 1 when something breaks
# (ixyd dies, nothing is delivered); 0 otherwise, whatever the figures. Namespaces removed on exit.
set -euo pipefail

IXYD=${1:?usage: veth-vs-kernel.sh IXYD IXY_PKTGEN [ROUNDS] [SECONDS]}
PKTGEN=${2:?ixy-pktgen binary}
ROUNDS=${3:-3}
SECONDS_RUN=${4:-5}
CORE=${FWD_CORE:-1}
SENDER_CORE=$((CORE == 0 ? 1 : 0))

say() { echo "veth-vs-kernel: $*"; }
skip() { say "SKIP: $*"; exit 77; }
fail() { say "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
[ -x "$IXYD" ] || skip "$IXYD not built"
[ -x "$PKTGEN" ] || skip "$PKTGEN not built"
command -v ethtool >/dev/null || skip "ethtool not installed"
[ "$SECONDS_RUN" -ge 3 ] || fail "SECONDS must be at least 3"

# shellcheck source=hugepages.sh
. "$(dirname "$0")/hugepages.sh"
ns_s="ixyd-vvk-s-$$"
ns_r="ixyd-vvk-r-$$"
ns_d="ixyd-vvk-d-$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/veth-vs-kernel.XXXXXX")
ixyd_pid=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "$ixyd_pid" ]; then
		kill -TERM "$ixyd_pid" 2>/dev/null || true
		timeout 10 tail --pid="$ixyd_pid" -f /dev/null 2>/dev/null || kill -KILL "$ixyd_pid" 2>/dev/null || true
	fi
	local ns p
	for ns in "$ns_s" "$ns_r" "$ns_d"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	hugepages_release
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ixy-pktgen's buffer pool and ixyd's AF_PACKET rx pools live in DMA memory: huge pages.
hugepages_reserve "${FWD_HUGEPAGES:-64}" "$work/huge" || fail "no huge pages"

# 1. The namespaces and veth pairs, offloads off.
for ns in "$ns_s" "$ns_r" "$ns_d"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add v0 netns "$ns_s" type veth peer name p0 netns "$ns_r"
ip link add p1 netns "$ns_r" type veth peer name v0 netns "$ns_d"
for nsif in "$ns_s v0" "$ns_r p0" "$ns_r p1" "$ns_d v0"; do
	read -r ns ifname <<<"$nsif"
	ip -n "$ns" link set "$ifname" up
	ip netns exec "$ns" ethtool -K "$ifname" tx off tso off gso off gro off >/dev/null 2>&1 ||
		fail "cannot turn offloads off on $ifname in $ns"
done
ip -n "$ns_s" addr add 10.1.0.2/24 dev v0
ip -n "$ns_d" addr add 10.2.0.2/24 dev v0
ip -n "$ns_d" route add 10.1.0.0/24 via 10.2.0.1 # for the ping that primes ixyd's ARP
p0_mac=$(ip netns exec "$ns_r" cat /sys/class/net/p0/address)
say "sender in $ns_s on core $SENDER_CORE, router in $ns_r, counter in $ns_d; p0 is $p0_mac"

kernel_on() {
	ip -n "$ns_r" addr add 10.1.0.1/24 dev p0
	ip -n "$ns_r" addr add 10.2.0.1/24 dev p1
	ip -n "$ns_r" route add 10.0.0.0/24 via 10.2.0.2
	ip netns exec "$ns_r" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.p0.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	# RPS: the kernel forwards in the softirq of the core that receives; without this that is
	# the sender's core (veth delivers in the sender's context). Send it to the router's core.
	# Not for ixyd: there p0's receive processing is the copy into ixyd's AF_PACKET ring, and
	# steering it onto the core ixyd's worker spins on starves the worker (measured: 0.03 Mpps
	# delivered of 0.45 offered, the rest lost in the full ring; docs/benchmarks.md).
	ip netns exec "$ns_r" sh -c "echo $(printf %x $((1 << CORE))) >/sys/class/net/p0/queues/rx-0/rps_cpus"
}
kernel_off() {
	ip netns exec "$ns_r" sh -c "echo 0 >/sys/class/net/p0/queues/rx-0/rps_cpus"
	ip netns exec "$ns_r" sysctl -qw net.ipv4.ip_forward=0
	ip -n "$ns_r" addr flush dev p0
	ip -n "$ns_r" addr flush dev p1
	ip -n "$ns_r" neigh flush all
}
cat >"$work/ixyd.json" <<EOF
{"ports": [{"name": "p0", "device": "af_packet:p0", "ipv4": ["10.1.0.1/24"]},
           {"name": "p1", "device": "af_packet:p1", "ipv4": ["10.2.0.1/24"]}],
 "routes": [{"prefix": "10.0.0.0/24", "via": "10.2.0.2"}],
 "workers": {"cores": [$CORE], "idle_sleep_us": 0}}
EOF
ixyd_on() {
	ip netns exec "$ns_r" "$IXYD" --config "$work/ixyd.json" >"$work/ixyd.out" 2>"$work/ixyd.err" &
	ixyd_pid=$!
	for _ in $(seq 100); do
		grep -q '^ixyd: running' "$work/ixyd.out" 2>/dev/null && break
		kill -0 "$ixyd_pid" 2>/dev/null || { cat "$work/ixyd.err"; fail "ixyd exited during start-up"; }
		sleep 0.1
	done
	grep -q '^ixyd: running' "$work/ixyd.out" || fail "ixyd did not start in 10 s"
	# Resolve 10.2.0.2 before the blast, as the kernel will have by its first packet.
	ip netns exec "$ns_d" ping -c 1 -W 2 10.1.0.1 >/dev/null || fail "d cannot ping ixyd at 10.1.0.1"
}
ixyd_off() {
	kill -TERM "$ixyd_pid"
	local rc=0
	wait "$ixyd_pid" || rc=$?
	ixyd_pid=""
	[ "$rc" = 0 ] || { tail "$work/ixyd.err"; fail "ixyd exited with status $rc"; }
	grep -E '^counters port=p[01] ' "$work/ixyd.out" | tail -2 | sed 's/^/veth-vs-kernel:   ixyd /' >&2
}

rx_d() { ip netns exec "$ns_d" cat /sys/class/net/v0/statistics/rx_packets; }
# blast: run the sender for SECONDS_RUN, print the delivered rate (Mpps) over the middle part.
blast() {
	local r0
	r0=$(rx_d)
	ip netns exec "$ns_s" taskset -c "$SENDER_CORE" "$PKTGEN" --seconds "$SECONDS_RUN" \
		--size 60 --dst-mac "$p0_mac" af_packet:v0 >"$work/pktgen.out" 2>&1 &
	local gen=$! a b ta tb
	sleep 1
	a=$(rx_d)
	ta=$(date +%s%N)
	sleep $((SECONDS_RUN - 2))
	b=$(rx_d)
	tb=$(date +%s%N)
	wait "$gen" || { cat "$work/pktgen.out" >&2; fail "ixy-pktgen failed"; }
	sleep 0.5 # let the router drain what is still in flight
	local sent delivered
	sent=$(sed -n 's/^stats .* tx_packets=\([0-9]*\).*/\1/p' "$work/pktgen.out")
	delivered=$(($(rx_d) - r0))
	# Lost close to 0 means the router kept up with the sender: the rate is the sender's. d's
	# counter also sees the odd ARP frame, so delivered may exceed sent by one or two.
	say "  sender: $(awk -v n="$sent" -v s="$SECONDS_RUN" 'BEGIN { printf "%.3f", n / s / 1e6 }') Mpps offered ($sent frames in $SECONDS_RUN s), $delivered delivered, $(awk -v s="$sent" -v d="$delivered" 'BEGIN { l = s - d; if (l < 0) l = 0; printf "%.1f", s ? 100 * l / s : 0 }')% lost" >&2
	awk -v a="$a" -v b="$b" -v ta="$ta" -v tb="$tb" 'BEGIN { printf "%.3f\n", (b - a) * 1e3 / (tb - ta) }'
}

declare -A rates=()
for r in $(seq "$ROUNDS"); do
	kernel_on
	k=$(blast)
	kernel_off
	ixyd_on
	i=$(blast)
	ixyd_off
	for v in "$k" "$i"; do
		awk -v m="$v" 'BEGIN { exit !(m > 0) }' || fail "round $r delivered nothing (kernel $k, ixyd $i)"
	done
	rates[kernel]="${rates[kernel]:-} $k"
	rates[ixyd]="${rates[ixyd]:-} $i"
	say "round $r: kernel $k Mpps, ixyd $i Mpps delivered"
done

median() { echo "$1" | tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { echo "$1" | tr ' ' '\n' | grep . | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
k=$(median "${rates[kernel]}")
i=$(median "${rates[ixyd]}")
say "$ROUNDS rounds of $SECONDS_RUN s, 64-byte frames, median (min-max):"
say "kernel $k Mpps ($(spread "${rates[kernel]}")), ixyd $i Mpps ($(spread "${rates[ixyd]}")), ixyd/kernel $(awk -v a="$i" -v b="$k" 'BEGIN { printf "%.2f", a / b }')"
exit 0
