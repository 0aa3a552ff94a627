#!/usr/bin/env bash
# ixyd --check on good and bad configurations: a good one passes (exit 0), each bad one exits
# non-zero with "config: FIELD: REASON" naming the right field, and no device is opened (the
# devices named here do not exist, so an attempt would fail differently).
# Usage: config_check.sh IXYD
set -uo pipefail
IXYD=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0

good='{"ports":   [{"name": "p0", "device": "af_packet:nonexistent-a", "ipv4": ["10.1.0.1/24"]},
             {"name": "p1", "device": "0000:00:04.0", "ipv4": ["10.2.0.1/24"], "rx_queues": 2},
             {"name": "p2", "device": "af_packet:nonexistent-c"}, {"name": "p3", "device": "null:x"}],
 "bridges": [{"name": "br0", "ports": ["p2", "p3"], "ipv4": ["10.3.0.1/24"]}],
 "routes":  [{"prefix": "10.9.0.0/16", "via": "10.2.0.2"}],
 "workers": {"cores": [0]},
 "api":     {"listen": "127.0.0.1:8080"}}'

# expect NAME SED-EXPRESSION EXPECTED-MESSAGE: apply the edit to the good config, check the error.
expect() {
	local name=$1 edit=$2 want=$3
	echo "$good" | sed "$edit" >"$dir/$name.json"
	local out rc=0
	out=$("$IXYD" --config "$dir/$name.json" --check 2>&1) || rc=$?
	if [ "$rc" -eq 0 ] || ! echo "$out" | grep -qF -- "$want"; then
		echo "FAIL $name: exit $rc, output: $out (wanted: $want)"
		failures=$((failures + 1))
	else
		echo "ok   $name: $out"
	fi
}

echo "$good" >"$dir/good.json"
if out=$("$IXYD" --config "$dir/good.json" --check 2>&1); then
	echo "ok   good: $out"
else
	echo "FAIL good config rejected: $out"
	failures=$((failures + 1))
fi
# A host route has no host bits: /32 must pass (mask_of(32) once shifted by 32, undefined).
echo "$good" | sed 's|10.9.0.0/16|10.9.0.5/32|' >"$dir/host_route.json"
if out=$("$IXYD" --config "$dir/host_route.json" --check 2>&1); then
	echo "ok   host_route: $out"
else
	echo "FAIL a /32 route rejected: $out"
	failures=$((failures + 1))
fi
expect host_bits 's|10.9.0.0/16|10.9.0.1/16|' 'config: routes[0].prefix: host bits set in 10.9.0.1/16'
expect via_off_link 's|"via": "10.2.0.2"|"via": "10.5.0.2"|' 'config: routes[0].via: 10.5.0.2 is on no connected subnet'
expect unknown_bridge_port 's|"p3"\]|"p9"]|' 'config: bridges[0].ports[1]: no port named "p9"'
expect overlap 's|10.3.0.1/24|10.1.0.7/16|' 'config: bridges[0].ipv4[0]: 10.1.0.7/16 overlaps'
expect no_such_core 's|"cores": \[0\]|"cores": [4096]|' 'config: workers.cores[0]: core 4096 does not exist'
expect typo_key 's|"rx_queues": 2|"rx_queue": 2|' 'config: ports[1]: unknown key "rx_queue"'
expect bad_device 's|0000:00:04.0|eth9|' 'config: ports[1].device: "eth9" is neither'
expect bad_queues 's|"rx_queues": 2|"rx_queues": 99|' 'config: ports[1].rx_queues: must be an integer from 1 to'
expect dup_name 's|"name": "p1"|"name": "p0"|' 'config: ports[1].name: "p0" is also the name of ports[0]'
expect bridged_addr 's|{"name": "p2", "device": "af_packet:nonexistent-c"}|{"name": "p2", "device": "af_packet:x", "ipv4": ["10.4.0.1/24"]}|' 'config: bridges[0].ports[0]: port "p2" has ipv4 addresses'
expect bad_addr 's|10.1.0.1/24|10.1.0.0/24|' 'config: ports[0].ipv4[0]: 10.1.0.0/24 is the network or broadcast address'
expect bad_listen 's|127.0.0.1:8080|localhost|' 'config: api.listen: must be "HOST:PORT"'
expect syntax 's|8080"}}|8080"}|' 'config: '
expect connected_route 's|10.9.0.0/16|10.1.0.0/24|' 'config: routes[0].prefix: 10.1.0.0/24 is the connected subnet of ports[0].ipv4[0]'

if "$IXYD" --config "$dir/missing.json" --check >/dev/null 2>&1; then
	echo "FAIL a missing file passes"
	failures=$((failures + 1))
fi
echo "config_check: $failures failure(s)"
[ "$failures" -eq 0 ]
