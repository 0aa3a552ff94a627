#!/bin/sh
# Guest part of vm_bad_input: each run must end with a message and a non-zero exit status
# (never a signal); the last run is the control that the devices still work afterwards.
A=0000:00:04.0
B=0000:00:05.0
# 0000:00:00.0 is the i440FX host bridge, 0000:00:01.0 the PIIX3 ISA bridge: PCI devices, not NICs.
ixyvm_run fwd-not-a-nic ixy-fwd --seconds 2 0000:00:00.0 $B
ixyvm_run fwd-second-not-a-nic ixy-fwd --seconds 2 $A 0000:00:01.0
ixyvm_run pktgen-not-a-nic ixy-pktgen --seconds 2 --count 10 0000:00:01.0
# Nothing sits in slot 0x1f.
ixyvm_run fwd-missing ixy-fwd --seconds 2 0000:00:1f.0 $B
ixyvm_run pktgen-missing ixy-pktgen --seconds 2 --count 10 0000:00:1f.0
ixyvm_run fwd-malformed ixy-fwd --seconds 2 eth0 $B
ixyvm_run fwd-same-device ixy-fwd --seconds 2 $A $A
# Options out of their documented ranges (docs/tools.md).
ixyvm_run fwd-batch-0 ixy-fwd --seconds 2 --batch 0 $A $B
ixyvm_run fwd-promisc-bad ixy-fwd --seconds 2 --promisc maybe $A $B
ixyvm_run fwd-one-port ixy-fwd --seconds 2 $A
ixyvm_run fwd-unknown-option ixy-fwd --bogus $A $B
ixyvm_run pktgen-size-59 ixy-pktgen --seconds 2 --size 59 $A
ixyvm_run pktgen-size-1515 ixy-pktgen --seconds 2 --size 1515 $A
ixyvm_run pktgen-mac-bad ixy-pktgen --seconds 2 --dst-mac 52:54:zz:00:00:01 $A

echo 0 >/proc/sys/vm/nr_hugepages
ixyvm_note "hugepages $(awk '/^HugePages_Total:/ { print $2 }' /proc/meminfo)"
ixyvm_run fwd-no-hugepages ixy-fwd --seconds 2 $A $B
ixyvm_run pktgen-no-hugepages ixy-pktgen --seconds 2 --count 10 $A

echo 64 >/proc/sys/vm/nr_hugepages
ixyvm_note "hugepages $(awk '/^HugePages_Total:/ { print $2 }' /proc/meminfo)"
ixyvm_note "leftover hugetlbfs files: $(find /mnt/huge -type f | wc -l)"
ixyvm_run control ixy-fwd --seconds 2 $A $B
