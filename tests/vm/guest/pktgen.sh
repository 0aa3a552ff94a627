#!/bin/sh
# Guest part of vm_pktgen_sequence: four generator runs, each started by the host once its
# receiver listens: a fixed count of minimum-size broadcast frames on port A, a fixed count of
# maximum-size unicast frames on port B, an open-ended run on A that the host stops with "stop",
# and one on B that the guest ends with SIGTERM.
ixyvm_step small ixy-pktgen --seconds 100 --count 5000 0000:00:04.0
ixyvm_step big ixy-pktgen --seconds 100 --count 1000 --size 1514 --dst-mac 02:00:00:00:00:42 0000:00:05.0
ixyvm_step stopped ixy-pktgen --seconds 100 0000:00:04.0
ixyvm_wait term && ixyvm_run_term term 3 ixy-pktgen --seconds 100 0000:00:05.0
