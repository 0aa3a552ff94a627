#!/usr/bin/env bash
# Counters rise with traffic, through both views the API gives: GET /ports/{name}/stats and the
# Prometheus exposition at /metrics; the exposition passes `promtool check metrics` (Prometheus'
# own validator, Debian package prometheus) with labelled per-port and per-reason series, table
# sizes and a build-info series; no_route drops show up under their reason label.
. "$(dirname "$0")/api_lib.sh"
netns_init api_counters_metrics
command -v promtool >/dev/null || skip "promtool missing (apt-get install prometheus)"
api_setup
ixyd_start r "$TMPD/api.json"
ixyd_wait_api

metric() { # NAME{LABELS} from a fresh /metrics
	expect_status 200 GET /metrics
	grep -F "$1 " "$TMPD/body" | awk '{print $2}'
}

expect_status 200 GET /api/v1/ports/p0/stats
rx0=$(jq_body 'j["rx_packets"]')
m0=$(metric 'ixyd_port_rx_packets_total{port="p0"}')
t0=$(metric 'ixyd_port_tx_packets_total{port="p1"}')
nr0=$(metric 'ixyd_port_drops_total{port="p0",reason="no_route"}')
nsx h1 ping -c 20 -i 0.02 -W 2 10.2.0.2 >/dev/null || fail "h1 cannot ping h2 through ixyd"
nsx h1 ping -c 5 -i 0.02 -W 1 10.77.0.1 >/dev/null 2>&1 # no route: counted as no_route
sleep 0.3
expect_status 200 GET /api/v1/ports/p0/stats
rx1=$(jq_body 'j["rx_packets"]')
m1=$(metric 'ixyd_port_rx_packets_total{port="p0"}')
t1=$(metric 'ixyd_port_tx_packets_total{port="p1"}')
nr1=$(metric 'ixyd_port_drops_total{port="p0",reason="no_route"}')
say "p0 rx: stats $rx0 -> $rx1, metrics $m0 -> $m1; p1 tx $t0 -> $t1; no_route $nr0 -> $nr1"
[ $((rx1 - rx0)) -ge 25 ] || fail "stats: p0 rx_packets rose by $((rx1 - rx0)), expected >= 25"
[ $((m1 - m0)) -ge 25 ] || fail "metrics: p0 rx_packets_total rose by $((m1 - m0)), expected >= 25"
[ $((t1 - t0)) -ge 20 ] || fail "metrics: p1 tx_packets_total rose by $((t1 - t0)), expected >= 20"
[ $((nr1 - nr0)) -ge 5 ] || fail "metrics: p0 no_route drops rose by $((nr1 - nr0)), expected >= 5"

grep -q '^ixyd_build_info{version="[^"]*",' "$TMPD/body" || fail "no build-info series"
grep -q '^ixyd_routes 2$' "$TMPD/body" || fail "table size ixyd_routes is not 2 (two connected)"
grep -q '^ixyd_neighbors [0-9]' "$TMPD/body" || fail "no neighbor table size"
grep -q '^ixyd_mac_table_entries [0-9]' "$TMPD/body" || fail "no MAC table size"
for r in bad_header ttl_expired no_route arp_unresolved no_buffer tx_full not_for_us; do
	grep -q "^ixyd_port_drops_total{port=\"p1\",reason=\"$r\"} [0-9]" "$TMPD/body" ||
		fail "no drop series for p1 reason $r"
done
out=$(promtool check metrics <"$TMPD/body" 2>&1) || fail "promtool check metrics: $out"
[ -z "$out" ] || fail "promtool check metrics has remarks: $out"
ixyd_stop
pass "counters rise with traffic in /stats and /metrics; promtool accepts the exposition"
