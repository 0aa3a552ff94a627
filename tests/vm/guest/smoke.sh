#!/bin/sh
# Guest part of vm_boot_smoke: report what the host checks (PCI devices, huge pages, ttyS1).
for d in /sys/bus/pci/devices/*; do
	ixyvm_note "pci $(basename "$d") $(cat "$d/vendor") $(cat "$d/device") driver=$(basename "$(readlink "$d/driver" 2>/dev/null || echo none)")"
done
ixyvm_note "hugetlbfs $(grep -c ' /mnt/huge hugetlbfs ' /proc/mounts)"
ixyvm_note "meminfo $(grep HugePages_Free /proc/meminfo)"
ixyvm_wait line
read -r line <&3
ixyvm_note "got '$line'"
# shellcheck disable=SC2016 # expanded by the inner sh
ixyvm_run cat-stop sh -c 'while read -r l; do echo "read $l"; [ "$l" = stop ] && exit 7; done'
