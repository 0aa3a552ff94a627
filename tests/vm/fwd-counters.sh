#!/bin/bash
# vm_fwd_counters: ixy-fwd's final counters agree with the host's. Each tap counts what the host
# gave the guest (tap tx = guest rx on that port) and what it got back (tap rx = guest tx); the
# driver's rx_packets/rx_bytes/tx_packets/tx_bytes per port must equal those deltas exactly, and
# what one port received must have left the other (tx_packets + tx_dropped). A capture on both
# taps accounts for every frame the host sent: our own test frames, the pings, and whatever the
# host kernel added (ARP); IPv6 is off in the namespaces so nothing else is expected.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
vm_init "$@"
vm_require_bins ixy-fwd

vm_boot "$VM_SRC_DIR/guest/fwd.sh"
mac1=$(vm_mac "$VM_NS_H1" $VM_TAP1)
mac2=$(vm_mac "$VM_NS_H2" $VM_TAP2)
read -r -a base1 <<<"$(vm_counters "$VM_NS_H1" $VM_TAP1)"
read -r -a base2 <<<"$(vm_counters "$VM_NS_H2" $VM_TAP2)"
vm_helper_start "$VM_TMP/monitor.log" python3 "$VM_SRC_DIR/hostnet.py" monitor "$VM_NS_H1:$VM_TAP1" "$VM_NS_H2:$VM_TAP2" \
	--out "$VM_TMP/monitor.json" --ready "$VM_TMP/monitor.ready"
monitor_pid=${VM_HELPER_PIDS[-1]}
for _ in $(seq 50); do [[ -e "$VM_TMP/monitor.ready" ]] && break; sleep 0.1; done
[[ -e "$VM_TMP/monitor.ready" ]] || vm_fail "host capture did not start: $(cat "$VM_TMP/monitor.log")"
vm_fwd_start fwd

n_ping=10 n_12=300 n_21=200 n_bc=50
vm_log "traffic: $n_ping pings each way, $n_12 + $n_bc frames h1->h2, $n_21 frames h2->h1"
ip netns exec "$VM_NS_H1" ping -n -q -c $n_ping -i 0.05 -W 3 $VM_IP2 >/dev/null || vm_fail "ping h1 -> h2 failed"
ip netns exec "$VM_NS_H2" ping -n -q -c $n_ping -i 0.05 -W 3 $VM_IP1 >/dev/null || vm_fail "ping h2 -> h1 failed"
# Pin both neighbour entries now that ARP has resolved them: a learnt entry goes stale after
# the kernel's reachable time and is then re-probed by unicast ARP at a moment of its choosing,
# which could fall between the snapshot below and the forwarder's exit (seen once in CI).
ip netns exec "$VM_NS_H1" ip neigh replace $VM_IP2 lladdr "$mac2" dev $VM_TAP1 nud permanent
ip netns exec "$VM_NS_H2" ip neigh replace $VM_IP1 lladdr "$mac1" dev $VM_TAP2 nud permanent
vm_hostnet send --src "$VM_NS_H1:$VM_TAP1" --dst "$VM_NS_H2:$VM_TAP2" --wait 1 \
	--frames "uni12,$mac2,$n_12,random" --frames "bc12,ff:ff:ff:ff:ff:ff,$n_bc,random" ||
	vm_fail "host frames h1 -> h2 corrupted"
vm_hostnet send --src "$VM_NS_H2:$VM_TAP2" --dst "$VM_NS_H1:$VM_TAP1" --wait 1 \
	--frames "uni21,$mac1,$n_21,random" || vm_fail "host frames h2 -> h1 corrupted"
sleep 1
read -r -a snap1 <<<"$(vm_counters "$VM_NS_H1" $VM_TAP1)"
read -r -a snap2 <<<"$(vm_counters "$VM_NS_H2" $VM_TAP2)"
kill -TERM "$monitor_pid"
wait "$monitor_pid" || vm_fail "host capture failed: $(cat "$VM_TMP/monitor.log")"

vm_prog_stop fwd
# The host must have been quiet between the snapshot and the forwarder's exit, or the snapshot
# is not what the forwarder saw.
read -r -a end1 <<<"$(vm_counters "$VM_NS_H1" $VM_TAP1)"
read -r -a end2 <<<"$(vm_counters "$VM_NS_H2" $VM_TAP2)"
vm_check_eq "$VM_TAP1 counters unchanged until ixy-fwd exited" "${end1[*]}" "${snap1[*]}"
vm_check_eq "$VM_TAP2 counters unchanged until ixy-fwd exited" "${end2[*]}" "${snap2[*]}"
vm_section fwd | grep -E '^stats '
# The per-second figures (docs/tools.md): at least one well-formed line per port.
num='[0-9]+(\.[0-9]+)?'
for pci in $VM_PCI_A $VM_PCI_B; do
	n_rate=$(vm_section fwd | grep -cE "^\[$pci\] RX: $num Mpps, $num Mbit/s \| TX: $num Mpps, $num Mbit/s\$") || true
	((n_rate > 0)) || vm_fail "no well-formed per-second line for $pci"
	vm_log "ok: $n_rate per-second lines for $pci"
done

# counters: rx_packets rx_bytes tx_packets tx_bytes tx_dropped (indexes 0..4), as deltas.
d() { echo $(($1 - $2)); }
vm_check_eq "$VM_TAP1 tx_dropped (host frames the guest never took)" "$(d "${snap1[4]}" "${base1[4]}")" 0
vm_check_eq "$VM_TAP2 tx_dropped (host frames the guest never took)" "$(d "${snap2[4]}" "${base2[4]}")" 0
for port in A B; do
	if [[ $port == A ]]; then
		pci=$VM_PCI_A tap=$VM_TAP1 b=("${base1[@]}") s=("${snap1[@]}")
	else
		pci=$VM_PCI_B tap=$VM_TAP2 b=("${base2[@]}") s=("${snap2[@]}")
	fi
	vm_check_eq "$pci rx_packets vs $tap tx_packets" "$(vm_stat fwd $pci rx_packets)" "$(d "${s[2]}" "${b[2]}")"
	vm_check_eq "$pci rx_bytes vs $tap tx_bytes" "$(vm_stat fwd $pci rx_bytes)" "$(d "${s[3]}" "${b[3]}")"
	vm_check_eq "$pci tx_packets vs $tap rx_packets" "$(vm_stat fwd $pci tx_packets)" "$(d "${s[0]}" "${b[0]}")"
	vm_check_eq "$pci tx_bytes vs $tap rx_bytes" "$(vm_stat fwd $pci tx_bytes)" "$(d "${s[1]}" "${b[1]}")"
done
for pair in "$VM_PCI_A $VM_PCI_B" "$VM_PCI_B $VM_PCI_A"; do
	read -r from to <<<"$pair"
	vm_check_eq "$from rx_packets = $to tx_packets + tx_dropped" "$(vm_stat fwd "$from" rx_packets)" \
		"$(($(vm_stat fwd "$to" tx_packets) + $(vm_stat fwd "$to" tx_dropped)))"
done

# Account for every frame the host sent towards the guest, by kind.
python3 - "$VM_TMP/monitor.json" "$VM_NS_H1:$VM_TAP1" "$VM_NS_H2:$VM_TAP2" \
	"$(d "${snap1[2]}" "${base1[2]}")" "$(d "${snap2[2]}" "${base2[2]}")" \
	"$((n_12 + n_bc))" "$n_21" "$n_ping" <<'PY' || vm_fail "host frames not accounted for"
import json, sys
mon = json.load(open(sys.argv[1]))
ports = sys.argv[2:4]
tap_tx = [int(x) for x in sys.argv[4:6]]
ours = [int(x) for x in sys.argv[6:8]]
n_ping = int(sys.argv[8])
ok = True
for port, tx, test in zip(ports, tap_tx, ours):
    m = mon[port]
    kinds = {k: v[0] for k, v in m["kinds"]["to_guest"].items()}
    print(f"host -> guest on {port}: {kinds}, tap tx_packets {tx}, capture drops {m['socket_drops']}")
    checks = [
        ("captured frames = tap tx_packets", m["to_guest"][0], tx),
        ("our test frames", kinds.get("test", 0), test),
        ("ICMP (each side sends its echo requests and answers the other's)", kinds.get("icmp", 0), 2 * n_ping),
        ("frames other than test, ICMP and the kernel's ARP",
         sum(v for k, v in kinds.items() if k not in ("test", "icmp", "arp")), 0),
        ("capture drops", m["socket_drops"], 0),
    ]
    for what, got, want in checks:
        status = "ok" if got == want else "MISMATCH"
        print(f"  {status}: {what}: {got} (expected {want})")
        ok = ok and got == want
    print(f"  the host kernel's own frames: {kinds.get('arp', 0)} ARP")
sys.exit(0 if ok else 1)
PY
vm_finish
echo PASS
