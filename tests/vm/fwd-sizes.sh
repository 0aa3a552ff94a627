#!/bin/bash
# vm_fwd_sizes: frames of every size from 60 to 1514 bytes (without FCS) cross ixy-fwd intact,
# in both directions. Each frame carries random bytes (the seed is printed) and is sent only
# after the previous one arrived, so a missing or changed frame is named by its size.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
vm_init "$@"
vm_require_bins ixy-fwd

vm_boot "$VM_SRC_DIR/guest/fwd.sh"
vm_fwd_start fwd
vm_log "size sweep 60..1514, $VM_NS_H1 -> $VM_NS_H2 and back"
if ! vm_hostnet sweep --a "$VM_NS_H1:$VM_TAP1" --b "$VM_NS_H2:$VM_TAP2" --min 60 --max 1514; then
	vm_fail "frames lost or changed across ixy-fwd (see the sweep lines above)"
fi
vm_prog_stop fwd
vm_section fwd | grep -E '^stats '
vm_finish
echo PASS
