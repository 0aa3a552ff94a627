#!/usr/bin/env bash
# Set up a fresh Debian 12 machine (as root) and run ixyd's main job, printing what it does.
# For now the main job is the forwarder: ixy-fwd runs in a QEMU guest on two virtio-net ports
# whose other ends sit in two host network namespaces; the hosts ping each other across it and
# the forwarder's figures are printed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "$(id -u)" -ne 0 ]; then
	echo "main-job: run as root (installs packages, uses namespaces and QEMU)" >&2
	exit 2
fi
echo "main-job: installing dependencies"
tools/install-deps.sh
echo "main-job: building into build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
exec tests/vm/main-job.sh build
