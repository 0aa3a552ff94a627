#!/bin/sh
# Guest part of vm_refuse_kernel_link: the guest kernel's own virtio-net driver takes both
# devices; ixy-fwd must refuse a device whose interface is up with an address or a route, leave
# that interface and the other device alone, take devices whose interfaces are down, and take
# anything with --force.
A=0000:00:04.0
B=0000:00:05.0

# No IPv6, so "up" does not mean "has a link-local address".
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
while read -r m; do
	insmod "/lib/modules/$m.ko" || ixyvm_note "insmod $m failed"
done </lib/modules/load-order

iface() { ls "/sys/bus/pci/devices/$1/"virtio*/net/ 2>/dev/null; }
driver() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null || echo none)"; }
state() {
	ixyvm_note "state $1 driver=$(driver "$2") iface=$(iface "$2" | tr -d '\n') addr=$(ip -4 -o addr show 2>/dev/null | grep -c " $(iface "$2") ") route=$(ip route show 2>/dev/null | grep -c "dev $(iface "$2") ")"
}
IA=$(iface $A)
IB=$(iface $B)
ixyvm_note "iface $A $IA"
ixyvm_note "iface $B $IB"

# 1. A up with an address: refused.
ip link set "$IA" up
ip addr add 10.99.9.1/24 dev "$IA"
state before-addr $A
ixyvm_run refuse-addr ixy-fwd --seconds 3 $A $B
state after-addr $A

# 2. A down again; B up with a route and no address: refused.
ip addr flush dev "$IA"
ip link set "$IA" down
ip link set "$IB" up
ip route add 10.99.8.0/24 dev "$IB"
state before-route $B
ixyvm_run refuse-route ixy-fwd --seconds 3 $A $B
state after-route $B
state after-route-a $A

# 2b. B up with an address as well; A down and bound, free to take: refused because of B, and
# A must still be bound afterwards (every device is checked before any is touched).
ip addr add 10.99.7.1/24 dev "$IB"
state before-addr-b $B
state before-addr-b-a $A
ixyvm_run refuse-addr-b ixy-fwd --seconds 3 $A $B
state after-addr-b $B
state after-addr-b-a $A

# 3. Both down, no addresses, still bound to virtio-pci: taken, the kernel driver unbound.
ip addr flush dev "$IB"
ip route del 10.99.8.0/24 dev "$IB"
ip link set "$IB" down
ixyvm_run take-down ixy-fwd --seconds 2 $A $B
state after-down-a $A
state after-down-b $B

# 4. Back to the kernel driver, A up with an address again, and --force: taken.
for d in $A $B; do
	[ "$(driver "$d")" = none ] && echo "$d" >/sys/bus/pci/drivers/virtio-pci/bind
done
IA=$(iface $A)
ixyvm_note "rebound $A $IA"
ip link set "$IA" up
ip addr add 10.99.9.1/24 dev "$IA"
state before-force $A
ixyvm_run force ixy-fwd --force --seconds 2 $A $B
state after-force $A
