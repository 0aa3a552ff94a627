#!/usr/bin/env bash
# Routed ping: h1 and h2 on two subnets ping each other through ixyd (the kernel's ping replies
# prove the forwarded frames are well formed), each pings the router's address on its own side
# and on the far side, and ixyd's counters show the packets went through it. Then ixyd stops on
# SIGTERM with status 0 and final counters.
. "$(dirname "$0")/lib.sh"
netns_init routed_ping
routed_setup
ixyd_start r "$TMPD/routed.json"

say "h1 -> h2 across the router"
nsx h1 ping -c 3 -i 0.2 -W 2 10.2.0.2 || fail "h1 cannot ping h2 (10.2.0.2) through ixyd"
say "h2 -> h1 across the router"
nsx h2 ping -c 3 -i 0.2 -W 2 10.1.0.2 || fail "h2 cannot ping h1 (10.1.0.2) through ixyd"
say "h1 -> 10.9.0.5 via the configured route (gateway 10.2.0.2, which holds 10.9.0.5)"
nsx h2 ip addr add 10.9.0.5/32 dev lo
nsx h1 ping -c 3 -i 0.2 -W 2 10.9.0.5 || fail "h1 cannot ping 10.9.0.5 routed via 10.2.0.2"
say "the router's own addresses"
nsx h1 ping -c 2 -i 0.2 -W 2 10.1.0.1 || fail "h1 cannot ping the router at 10.1.0.1"
nsx h1 ping -c 2 -i 0.2 -W 2 10.2.0.1 || fail "h1 cannot ping the router's far address 10.2.0.1"
nsx h2 ping -c 2 -i 0.2 -W 2 10.2.0.1 || fail "h2 cannot ping the router at 10.2.0.1"
nsx h2 ping -c 2 -i 0.2 -W 2 10.1.0.1 || fail "h2 cannot ping the router's far address 10.1.0.1"
# The replies came from ixyd, not from a kernel: the router namespace has no addresses at all.
[ -z "$(nsx r ip -4 -o addr show scope global)" ] || fail "the router namespace has IPv4 addresses"

rx0=$(ixyd_counter p0 rx_packets) || fail "cannot read ixyd's counters"
tx1=$(ixyd_counter p1 tx_packets) || fail "cannot read ixyd's counters"
say "counters: p0 rx_packets=$rx0, p1 tx_packets=$tx1"
[ "$rx0" -ge 12 ] || fail "p0 received only $rx0 packets (expected >= 12)"
[ "$tx1" -ge 9 ] || fail "p1 sent only $tx1 packets (expected >= 9: 6 requests, 3 replies)"
ixyd_stop
pass "pings across and to the router work"
