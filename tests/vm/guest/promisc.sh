#!/bin/sh
# Guest part of vm_fwd_promisc: the forwarder with promiscuous mode off, then on.
ixyvm_step off ixy-fwd --seconds 100 --promisc off 0000:00:04.0 0000:00:05.0
ixyvm_step on ixy-fwd --seconds 100 --promisc on 0000:00:04.0 0000:00:05.0
