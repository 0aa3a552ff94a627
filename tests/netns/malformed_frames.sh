#!/usr/bin/env bash
# Malformed frames: h1 sends runts, truncated headers, a bad header length, a bad version, bad
# checksums, a total length beyond the frame, giant frames and TTL 0 to the router's MAC while a
# ping runs across. Each kind is counted as the drop it is (bad_header, or ttl_expired for TTL 0)
# on p0, and the ping loses nothing.
. "$(dirname "$0")/lib.sh"
netns_init malformed_frames
# Debian's python3-scapy lives with the system interpreter (a user's pyenv may shadow it).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import scapy' 2>/dev/null || skip "python3-scapy missing"
routed_setup
# Room for a giant frame on the wire: the veth pair carries it, ixyd must refuse it.
nsx h1 ip link set hv0 mtu 2000
nsx r ip link set p0 mtu 2000
ixyd_start r "$TMPD/routed.json"
nsx h1 ping -c 1 -W 2 10.2.0.2 >/dev/null || fail "no forwarding to begin with"
router_mac=$(nsx r cat /sys/class/net/p0/address)
REPEAT=5

cat >"$TMPD/junk.py" <<'EOF2'
import struct, sys
from scapy.all import Ether, IP, UDP, Raw, sendp, conf
conf.verb = 0
router_mac, repeat = sys.argv[1], int(sys.argv[2])
eth = Ether(dst=router_mac, type=0x0800)
good = IP(src="10.1.0.2", dst="10.2.0.2", ttl=64) / UDP(sport=1, dport=9) / Raw(b"x" * 18)
raw = bytes(good)

def with_csum(b):
    b = bytearray(b)
    b[10:12] = b"\0\0"
    s = sum(struct.unpack("!10H", bytes(b[:20])))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    b[10:12] = struct.pack("!H", ~s & 0xffff)
    return bytes(b)

ihl4 = bytearray(raw); ihl4[0] = 0x44
ver5 = bytearray(raw); ver5[0] = 0x55
badsum = bytearray(raw); badsum[10] ^= 0x5a
toolong = bytearray(raw); toolong[2:4] = struct.pack("!H", 1000)
bad = {
    "runt": bytes(eth),                          # an Ethernet header and nothing else
    "truncated": bytes(eth) + raw[:10],          # half an IPv4 header
    "ihl4": bytes(eth) + with_csum(ihl4),        # header length 16 bytes (RFC 1812 5.2.2)
    "version5": bytes(eth) + with_csum(ver5),
    "badsum": bytes(eth) + bytes(badsum),
    "toolong": bytes(eth) + with_csum(toolong),  # total length beyond the frame
    "giant": bytes(eth) + raw + b"\0" * 1600,    # a frame longer than 1518 bytes
}
for name, frame in bad.items():
    for _ in range(repeat):
        sendp(frame, iface="hv0")
ttl0 = IP(src="10.1.0.2", dst="10.2.0.2", ttl=0) / UDP(sport=1, dport=9) / Raw(b"y" * 18)
for _ in range(repeat):
    sendp(eth / ttl0, iface="hv0")
print(len(bad) * repeat)
EOF2

say "ping across while h1 sends malformed frames"
nsx h1 ping -c 40 -i 0.05 -W 2 -q 10.2.0.2 >"$TMPD/ping.out" 2>&1 &
ping_pid=$!
n_bad=$(nsx h1 "$PY" "$TMPD/junk.py" "$router_mac" "$REPEAT") || fail "sending junk failed"
wait "$ping_pid"
ping_rc=$?
cat "$TMPD/ping.out"
[ "$ping_rc" -eq 0 ] && grep -q " 0% packet loss" "$TMPD/ping.out" ||
	fail "forwarding did not go on while malformed frames arrived"

bad=$(ixyd_counter p0 drop_bad_header) || fail "cannot read ixyd's counters"
ttl=$(ixyd_counter p0 drop_ttl_expired) || fail "cannot read ixyd's counters"
say "sent $n_bad malformed and $REPEAT TTL 0 frames; counters: drop_bad_header=$bad drop_ttl_expired=$ttl"
[ "$bad" -eq "$n_bad" ] || fail "drop_bad_header is $bad, expected $n_bad"
[ "$ttl" -eq "$REPEAT" ] || fail "drop_ttl_expired is $ttl, expected $REPEAT"
nsx h1 ping -c 2 -i 0.2 -W 2 10.2.0.2 >/dev/null || fail "no forwarding after the malformed frames"
ixyd_stop
pass "malformed frames are counted drops and forwarding goes on"
