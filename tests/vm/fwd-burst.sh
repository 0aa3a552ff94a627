#!/bin/bash
# vm_fwd_burst: both host namespaces send unpaced bursts of random-size frames at the same time,
# so both ports' rings fill and wrap many times over. Frames may be lost where the path is full,
# but every frame that arrives must be intact, in order and not repeated; every frame the host
# delivered to a port must be counted in its rx_packets; and what a port received must have left
# the other port or be counted in its tx_dropped. Frames arriving on each side equal the driver's
# tx_packets on that side (nothing else is sent: IPv6 is off and there is no IP traffic).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
vm_init "$@"
vm_require_bins ixy-fwd

n=3000
vm_boot "$VM_SRC_DIR/guest/fwd.sh"
mac1=$(vm_mac "$VM_NS_H1" $VM_TAP1)
mac2=$(vm_mac "$VM_NS_H2" $VM_TAP2)
read -r -a base1 <<<"$(vm_counters "$VM_NS_H1" $VM_TAP1)"
read -r -a base2 <<<"$(vm_counters "$VM_NS_H2" $VM_TAP2)"
vm_fwd_start fwd

vm_log "bursts: $n frames h1 -> h2 and $n frames h2 -> h1 at once, sizes 60..1514, no pacing"
vm_helper_start "$VM_TMP/b12.log" python3 "$VM_SRC_DIR/hostnet.py" send --gap-ms 0 --wait 3 \
	--src "$VM_NS_H1:$VM_TAP1" --dst "$VM_NS_H2:$VM_TAP2" --frames "b12,$mac2,$n,random" \
	--json "$VM_TMP/b12.json"
p12=${VM_HELPER_PIDS[-1]}
vm_helper_start "$VM_TMP/b21.log" python3 "$VM_SRC_DIR/hostnet.py" send --gap-ms 0 --wait 3 \
	--src "$VM_NS_H2:$VM_TAP2" --dst "$VM_NS_H1:$VM_TAP1" --frames "b21,$mac1,$n,random" \
	--json "$VM_TMP/b21.json"
p21=${VM_HELPER_PIDS[-1]}
ok=1
wait "$p12" || ok=0
wait "$p21" || ok=0
cat "$VM_TMP/b12.log" "$VM_TMP/b21.log"
[[ $ok == 1 ]] || vm_fail "frames corrupted, reordered or repeated across ixy-fwd (see above)"
got12=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["b12"])' "$VM_TMP/b12.json")
got21=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["b21"])' "$VM_TMP/b21.json")
read -r -a snap1 <<<"$(vm_counters "$VM_NS_H1" $VM_TAP1)"
read -r -a snap2 <<<"$(vm_counters "$VM_NS_H2" $VM_TAP2)"
vm_prog_stop fwd
vm_section fwd | grep -E '^stats '

# counters: rx_packets rx_bytes tx_packets tx_bytes tx_dropped (indexes 0..4)
vm_log "h1 -> h2: $got12 of $n arrived; h2 -> h1: $got21 of $n arrived;" \
	"host tap queues dropped $((snap1[4] - base1[4])) and $((snap2[4] - base2[4]))"
((got12 > 0 && got21 > 0)) || vm_fail "nothing crossed the forwarder"
vm_check_eq "$VM_PCI_A rx_packets vs $VM_TAP1 tx_packets" "$(vm_stat fwd $VM_PCI_A rx_packets)" \
	"$((snap1[2] - base1[2]))"
vm_check_eq "$VM_PCI_B rx_packets vs $VM_TAP2 tx_packets" "$(vm_stat fwd $VM_PCI_B rx_packets)" \
	"$((snap2[2] - base2[2]))"
vm_check_eq "frames arriving in h2 vs $VM_PCI_B tx_packets" "$got12" "$(vm_stat fwd $VM_PCI_B tx_packets)"
vm_check_eq "frames arriving in h1 vs $VM_PCI_A tx_packets" "$got21" "$(vm_stat fwd $VM_PCI_A tx_packets)"
vm_check_eq "$VM_TAP2 rx_packets vs $VM_PCI_B tx_packets" "$((snap2[0] - base2[0]))" "$got12"
vm_check_eq "$VM_TAP1 rx_packets vs $VM_PCI_A tx_packets" "$((snap1[0] - base1[0]))" "$got21"
for pair in "$VM_PCI_A $VM_PCI_B" "$VM_PCI_B $VM_PCI_A"; do
	read -r from to <<<"$pair"
	vm_check_eq "$from rx_packets = $to tx_packets + tx_dropped" "$(vm_stat fwd "$from" rx_packets)" \
		"$(($(vm_stat fwd "$to" tx_packets) + $(vm_stat fwd "$to" tx_dropped)))"
done
vm_finish
echo PASS
