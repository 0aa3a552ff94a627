#!/bin/sh
# Guest part of vm_fwd_reopen: ixy-fwd runs several times in one boot, each run opening the
# devices the previous one closed (reset), until the host writes "stop".
A=0000:00:04.0
B=0000:00:05.0
for run in 1 2 3 4 5 6; do
	ixyvm_step "reopen$run" ixy-fwd --seconds 100 $A $B || exit 1
done
