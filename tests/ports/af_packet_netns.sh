#!/usr/bin/env bash
# af_packet_netns.sh TEST_AF_PACKET_BINARY
# Two network namespaces joined by a veth pair: "port" holds vp0, where test_af_packet runs
# (inside the namespace, via ip netns exec) and opens af_packet:vp0; "host" holds vh0 with
# 10.77.0.2/24 and plays the other end (kernel ping/arping, python3 raw sockets, peer.py).
# vp0 is left down: the port must bring it up. IPv6 is off in both namespaces so no router or
# neighbour solicitations disturb the exact counters. Both namespaces are removed on exit,
# whatever happens. Exit 77 (skip) without root or the tools.
set -euo pipefail

bin=${1:?usage: af_packet_netns.sh TEST_AF_PACKET_BINARY}
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root for network namespaces"
	exit 77
fi
for tool in ip python3 ping; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

ns_port="ixyd-afp-port-$$"
ns_host="ixyd-afp-host-$$"
cleanup() {
	ip netns del "$ns_port" 2>/dev/null || true
	ip netns del "$ns_host" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns_port"
ip netns add "$ns_host"
for ns in "$ns_port" "$ns_host"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip -n "$ns_port" link add vp0 type veth peer name vh0 netns "$ns_host"
ip -n "$ns_host" addr add 10.77.0.2/24 dev vh0
ip -n "$ns_host" link set vh0 up

ip netns exec "$ns_port" "$bin" --ifname vp0 --peer-ns "$ns_host" --peer-if vh0 \
	--peer-ip 10.77.0.2 --port-ip 10.77.0.1 --helper "$here/peer.py"
