#!/usr/bin/env bash
# Install everything ixyd needs to build, test and benchmark on Debian 12, as root.
# Safe to run repeatedly: apt-get skips what is already there.
set -euo pipefail

packages=(
	# build
	build-essential cmake pkg-config
	# fuzzing (tests/fuzz, -DIXYD_FUZZ=ON): clang and its libFuzzer runtime
	clang libclang-rt-14-dev
	# libraries
	liburcu-dev libnuma-dev libjansson-dev libmicrohttpd-dev libpcap-dev
	# QEMU test bed: emulator, guest userland, initramfs tools
	qemu-system-x86 busybox-static cpio xz-utils kmod
	# test hosts and traffic
	iproute2 iputils-ping arping python3 python3-scapy tcpreplay tcpdump ethtool procps curl
	# REST API tests: promtool (checks the /metrics exposition)
	prometheus
	# performance peers
	dpdk dpdk-dev libdpdk-dev dpdk-doc
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
