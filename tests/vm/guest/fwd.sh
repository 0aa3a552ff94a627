#!/bin/sh
# Guest part of the forwarder tests (vm_fwd_*, main-job.sh): one ixy-fwd run between the two
# virtio-net devices, promiscuous mode at its default (on), until the host writes "stop". The
# time limit is only a safety net; the host stops it long before.
ixyvm_step fwd ixy-fwd --seconds 100 0000:00:04.0 0000:00:05.0
