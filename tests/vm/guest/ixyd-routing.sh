#!/bin/sh
# Guest part of vm_ixyd_routing: ixyd routes between the two virtio-net devices, one subnet per
# port (the host namespaces sit in them, with ixyd as their default gateway). The host asks for
# counter blocks ("signal USR1") and stops it ("signal TERM") through ttyS1. One unpinned
# worker: the guest has one CPU. The REST API, where the daemon starts one, listens on
# 127.0.0.1 inside the guest; nothing here uses it, but it needs the loopback up to bind.
ip link set lo up
cat >/tmp/ixyd.json <<'JSON'
{"ports": [{"name": "p0", "device": "0000:00:04.0", "ipv4": ["10.99.1.1/24"]},
           {"name": "p1", "device": "0000:00:05.0", "ipv4": ["10.99.2.1/24"]}]}
JSON
ixyvm_wait ixyd || exit 1
ixyvm_bg ixyd ixyd --config /tmp/ixyd.json
ixyvm_bg_serve ixyd
ixyvm_bg_end ixyd
