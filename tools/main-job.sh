#!/usr/bin/env bash
# Set up a fresh Debian 12 machine (as root) and run ixyd's main job, printing what it does:
# ixyd routes between two hosts and switches two more on a bridge, all of them network
# namespaces on veth pairs, with ixyd on AF_PACKET ports in a router namespace; the hosts ping
# across it and ixyd's counters are shown (tests/netns/main-job.sh).
# The driver-level demo, ixy-fwd in a QEMU guest on virtio-net ports, is tests/vm/main-job.sh.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "$(id -u)" -ne 0 ]; then
	echo "main-job: run as root (installs packages, uses network namespaces)" >&2
	exit 2
fi
echo "main-job: installing dependencies"
tools/install-deps.sh
echo "main-job: building into build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
exec tests/netns/main-job.sh build
