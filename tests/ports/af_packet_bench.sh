#!/usr/bin/env bash
# af_packet_bench.sh BENCH_AF_PACKET_BINARY: a veth pair between two namespaces made here,
# bench_af_packet sending on one end and receiving on the other. Namespaces removed on exit.
# Exit 77 (skip) without root.
set -euo pipefail
bin=${1:?usage: af_packet_bench.sh BENCH_AF_PACKET_BINARY}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
ns_a="ixyd-afb-a-$$"
ns_b="ixyd-afb-b-$$"
cleanup() {
	ip netns del "$ns_a" 2>/dev/null || true
	ip netns del "$ns_b" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns_a"
ip netns add "$ns_b"
for ns in "$ns_a" "$ns_b"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$ns_a" link add va0 type veth peer name vb0 netns "$ns_b"
ip netns exec "$ns_a" "$bin" va0 "$ns_b" vb0 "${BENCH_SECONDS:-3}"
