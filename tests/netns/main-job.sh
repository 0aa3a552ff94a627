#!/usr/bin/env bash
# The main job for a human to watch: ixyd routes between two hosts (network namespaces on veth
# pairs) and switches three more on a bridge; we ping across and show its counters.
#
#   sudo tests/netns/main-job.sh [BUILD_DIR]     (default: build/ at the top of the checkout)
#
# Everything it creates (namespaces, veth pairs, the ixyd process) is removed at exit.
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
IXYD=${IXYD:-$build/bin/ixyd}
. "$(dirname "$0")/lib.sh"
netns_init main-job

step=0
step() {
	step=$((step + 1))
	printf '\n==> %d. %s\n' "$step" "$*"
}

step "Build the network: host h1 (10.1.0.2) and host h2 (10.2.0.2) each on a veth pair whose
    other end (p0, p1) sits in the router namespace; hosts b1, b2 (10.3.0.11, .12) on q1, q2.
    The router namespace has no IP addresses: ixyd owns its interfaces."
routed_setup
for i in 1 2; do
	netns_add b$i
	netns_link b$i hv0 r q$i
	netns_host b$i hv0 10.3.0.1$i/24 10.3.0.1
done
cat >"$TMPD/main.json" <<-EOF2
{"ports": [{"name": "p0", "device": "af_packet:p0", "ipv4": ["10.1.0.1/24"]},
           {"name": "p1", "device": "af_packet:p1", "ipv4": ["10.2.0.1/24"]},
           {"name": "q1", "device": "af_packet:q1"}, {"name": "q2", "device": "af_packet:q2"}],
 "bridges": [{"name": "br0", "ports": ["q1", "q2"], "ipv4": ["10.3.0.1/24"]}],
 "workers": {"cores": [0]}}
EOF2
sed 's/^/    /' "$TMPD/main.json"

step "Check the configuration, then start ixyd in the router namespace on af_packet ports."
"$IXYD" --config "$TMPD/main.json" --check || fail "configuration rejected"
ixyd_start r "$TMPD/main.json"
sed 's/^/    /' "$IXYD_OUT"

step "h1 pings h2 across the router (ixyd answers ARP, resolves h2, forwards, TTL 64 -> 63)."
nsx h1 ping -n -c 5 -i 0.2 -W 2 10.2.0.2 || fail "ping across the router failed"

step "h1 pings the router's own address 10.1.0.1 (answered by ixyd, TTL 64)."
nsx h1 ping -n -c 3 -i 0.2 -W 2 10.1.0.1 || fail "ping to the router failed"

step "b1 pings b2 over the bridge, and h1 reaches b2 through the router into the bridge."
nsx b1 ping -n -c 3 -i 0.2 -W 2 10.3.0.12 || fail "ping across the bridge failed"
nsx h1 ping -n -c 3 -i 0.2 -W 2 10.3.0.12 || fail "ping into the bridge failed"

step "Errors come from the router: TTL 1 gives Time Exceeded, an unrouted address Net Unreachable."
nsx h1 ping -n -c 1 -t 1 -W 2 10.2.0.2 | grep -E "From|transmitted"
nsx h1 ping -n -c 1 -W 2 10.77.0.1 | grep -E "From|transmitted"

step "h1's neighbour table: the router's MAC is p0's, learnt by ARP from ixyd."
nsx h1 ip neigh show
echo "    p0's MAC: $(nsx r cat /sys/class/net/p0/address)"

step "Manage routes with curl through the REST API (127.0.0.1:8080 in the router namespace).
    h2 also answers for 10.9.0.1; until a route exists, the router says Net Unreachable."
nsx h2 ip addr add 10.9.0.1/32 dev lo
nsx h1 ping -n -c 1 -W 2 10.9.0.1 | grep -E "From|transmitted"
api=http://127.0.0.1:8080/api/v1
echo "    \$ curl -X POST $api/routes -d '{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\"}'"
nsx r curl -sS -X POST -H 'Content-Type: application/json' \
	-d '{"prefix": "10.9.0.0/16", "via": "10.2.0.2"}' "$api/routes" | sed 's/^/    /'
echo
echo "    \$ curl '$api/fib?dst=10.9.0.1'"
nsx r curl -sS "$api/fib?dst=10.9.0.1" | sed 's/^/    /'
echo
nsx h1 ping -n -c 3 -i 0.2 -W 2 10.9.0.1 || fail "ping over the route added by curl failed"

step "Read p0's counters with curl, and all ports with ixyctl."
echo "    \$ curl $api/ports/p0/stats"
nsx r curl -sS "$api/ports/p0/stats" | sed 's/^/    /'
echo
echo "    \$ ixyctl ports"
nsx r "$build/bin/ixyctl" ports | sed 's/^/    /'

step "ixyd's counters (SIGUSR1): per port, per worker, for the control thread."
kill -USR1 "$IXYD_PID"
sleep 0.5
grep '^counters' "$IXYD_OUT" | sed 's/^/    /'

step "Stop ixyd with SIGTERM: it stops its threads, releases the ports and exits 0."
ixyd_stop
echo "    exit status 0"
echo
echo "main-job: done"
