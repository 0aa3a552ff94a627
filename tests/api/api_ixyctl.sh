#!/usr/bin/env bash
# ixyctl against a running ixyd: every command works in table and --json form, and the exit
# status tells scripts what happened: 0 done, 1 the API refused (message on stderr), 2 bad
# usage, 3 cannot reach the API. The route it adds carries traffic; the one it deletes stops.
. "$(dirname "$0")/api_lib.sh"
netns_init api_ixyctl
: "${IXYCTL:?IXYCTL must point at the ixyctl binary}"
api_setup
nsx h2 ip addr add 10.9.0.5/32 dev lo
ixyd_start r "$TMPD/api.json"
ixyd_wait_api
ctl() { nsx r "$IXYCTL" "$@"; }

expect_rc() { # RC CMD...: run ixyctl, check its exit status
	local want=$1 rc=0
	shift
	ctl "$@" >"$TMPD/ctl.out" 2>"$TMPD/ctl.err" || rc=$?
	[ "$rc" = "$want" ] || fail "ixyctl $*: exit $rc, expected $want; stdout: $(head -c 300 "$TMPD/ctl.out"); stderr: $(cat "$TMPD/ctl.err")"
}

expect_rc 0 ports
grep -Eq '^p0 +[0-9a-f:]{17} +(up|down) .* 10\.1\.0\.1/24$' "$TMPD/ctl.out" || fail "ports table: $(cat "$TMPD/ctl.out")"
expect_rc 0 --json ports
$PY -c 'import json,sys; assert [p["name"] for p in json.load(open(sys.argv[1]))["ports"]] == ["p0", "p1"]' "$TMPD/ctl.out" ||
	fail "ports --json: $(cat "$TMPD/ctl.out")"

expect_rc 0 routes add 10.9.0.0/16 via 10.2.0.2
nsx h1 ping -c 2 -i 0.2 -W 2 10.9.0.5 >/dev/null || fail "the route ixyctl added carries no traffic"
expect_rc 0 routes list
grep -Eq '^10\.9\.0\.0/16 +10\.2\.0\.2 +p1 +unicast +api$' "$TMPD/ctl.out" || fail "routes list: $(cat "$TMPD/ctl.out")"
expect_rc 0 --json routes list
$PY -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["total"] == 3 and j["routes"][2]["prefix"] == "10.9.0.0/16"' "$TMPD/ctl.out" ||
	fail "routes list --json: $(cat "$TMPD/ctl.out")"
expect_rc 1 routes add 10.9.0.0/16 via 10.2.0.3
grep -q "409 conflict" "$TMPD/ctl.err" || fail "no API message on stderr: $(cat "$TMPD/ctl.err")"
expect_rc 1 routes add 10.0.0.0/33 via 10.2.0.2
grep -q "400 bad request" "$TMPD/ctl.err" || fail "no API message for /33: $(cat "$TMPD/ctl.err")"
expect_rc 0 routes del 10.9.0.0/16
out=$(nsx h1 ping -c 1 -W 2 10.9.0.5 2>&1)
echo "$out" | grep -q "Destination Net Unreachable" || fail "the route ixyctl deleted still carries traffic: $out"
expect_rc 1 routes del 10.9.0.0/16

expect_rc 0 stats p0
grep -Eq '^rx_packets +[1-9][0-9]*$' "$TMPD/ctl.out" || fail "stats: $(cat "$TMPD/ctl.out")"
grep -Eq '^drop_no_route +[1-9]' "$TMPD/ctl.out" || fail "stats show no no_route drop: $(cat "$TMPD/ctl.out")"
expect_rc 1 stats p9
expect_rc 0 promisc p0 on
grep -Eq '^p0 .* on ' "$TMPD/ctl.out" || fail "promisc on: $(cat "$TMPD/ctl.out")"
expect_rc 0 --json promisc p0 off
[ "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["promisc"])' "$TMPD/ctl.out")" = False ] || fail "promisc off"
expect_rc 0 neighbors
grep -Eq '^10\.2\.0\.2 +[0-9a-f:]{17} +p1 +(reachable|stale)' "$TMPD/ctl.out" || fail "neighbors: $(cat "$TMPD/ctl.out")"
expect_rc 0 mac-table
expect_rc 0 --json mac-table

expect_rc 2 promisc p0 maybe
expect_rc 2 routes add 10.9.0.0/16 10.2.0.2
expect_rc 2 frobnicate
expect_rc 2 --api localhost:8080 ports
expect_rc 3 --api http://127.0.0.1:9 ports
ixyd_stop
pass "ixyctl commands work, in tables and JSON, with the documented exit codes"
