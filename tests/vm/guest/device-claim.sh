#!/bin/sh
# Guest part of vm_device_claim: a first ixy-fwd drives both devices in the background; while it
# forwards, other programs try to open them and must be refused; the host stops the first one
# ("signal TERM" on ttyS1) and a new ixy-fwd must then be able to take the devices.
A=0000:00:04.0
B=0000:00:05.0
cat >/tmp/ixyd.json <<'JSON'
{"ports": [{"name": "p0", "device": "0000:00:04.0", "ipv4": ["10.99.1.254/24"]},
           {"name": "p1", "device": "0000:00:05.0", "ipv4": ["10.99.2.254/24"]}]}
JSON
ixyvm_wait first || exit 1
ixyvm_bg first ixy-fwd --seconds 100 $A $B
ixyvm_wait busy || exit 1
ixyvm_run pktgen-busy ixy-pktgen --seconds 2 --count 10 $A
ixyvm_run fwd-busy ixy-fwd --seconds 2 $A $B
ixyvm_run fwd-busy-b ixy-fwd --seconds 2 $B $A
ixyvm_run ixyd-busy ixyd --config /tmp/ixyd.json
ixyvm_bg_serve first
ixyvm_bg_end first
ixyvm_step again ixy-fwd --seconds 100 $A $B
