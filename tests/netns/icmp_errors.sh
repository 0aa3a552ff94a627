#!/usr/bin/env bash
# ICMP errors from the router: a ping with TTL 1 across the router gets Time Exceeded from the
# router's address on the sender's side (RFC 1812 5.3.1, 4.3.2.4), a ping to a destination with
# no route gets Destination Net Unreachable (RFC 1812 5.2.7.1); ixyd counts both drops; and
# forwarding still works afterwards.
. "$(dirname "$0")/lib.sh"
netns_init icmp_errors
routed_setup
ixyd_start r "$TMPD/routed.json"
nsx h1 ping -c 1 -W 2 10.2.0.2 >/dev/null || fail "h1 cannot ping h2 at all"

say "TTL 1 towards h2"
out=$(nsx h1 ping -c 1 -t 1 -W 2 10.2.0.2 2>&1)
echo "$out"
echo "$out" | grep -q "From 10.1.0.1 .*Time to live exceeded" ||
	fail "no Time Exceeded from 10.1.0.1 for a TTL 1 packet"

say "a destination with no route"
out=$(nsx h1 ping -c 1 -W 2 10.77.0.1 2>&1)
echo "$out"
echo "$out" | grep -q "From 10.1.0.1 .*Destination Net Unreachable" ||
	fail "no Destination Net Unreachable from 10.1.0.1 for 10.77.0.1"

ttl=$(ixyd_counter p0 drop_ttl_expired) || fail "cannot read ixyd's counters"
nr=$(ixyd_counter p0 drop_no_route) || fail "cannot read ixyd's counters"
say "counters: p0 drop_ttl_expired=$ttl drop_no_route=$nr"
[ "$ttl" -eq 1 ] || fail "drop_ttl_expired on p0 is $ttl, expected 1"
[ "$nr" -eq 1 ] || fail "drop_no_route on p0 is $nr, expected 1"

say "TTL 2 still gets across (the TTL is decremented once, not more)"
nsx h1 ping -c 1 -t 2 -W 2 10.2.0.2 || fail "a TTL 2 ping does not reach h2"
ixyd_stop
pass "Time Exceeded and Destination Unreachable come from the router"
