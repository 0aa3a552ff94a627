#!/usr/bin/env bash
# Changes made through the API survive a restart and a kill -9:
#  1. a route, a static neighbour and promiscuous mode set through the API are back after
#     SIGTERM and a fresh start on the same configuration (and the neighbour is listed in state
#     static again, not as a learnt one; that static entries never age and ARP does not change
#     them is checked on the table itself, in test_api_tables);
#  2. three rounds of: a stream of POST /routes (each acknowledged one recorded), kill -9 of ixyd
#     at a random moment after the first acknowledgement (waited for, so every round kills a
#     stream that has committed something), then the state file must parse and hold exactly the
#     routes of an acknowledged state (all acknowledged ones, plus at most the one in flight),
#     and the restarted ixyd must serve exactly that set. The seed of the kill moments is printed.
. "$(dirname "$0")/api_lib.sh"
netns_init api_persistence
api_setup
ixyd_start r "$TMPD/api.json"
ixyd_wait_api

say "1. restart"
expect_status 201 POST /api/v1/routes --json '{"prefix": "10.9.0.0/16", "via": "10.2.0.2"}'
expect_status 201 POST /api/v1/neighbors --json '{"ip": "10.2.0.9", "mac": "02:00:00:00:00:09"}'
expect_status 200 PATCH /api/v1/ports/p0 --json '{"promisc": true}'
ixyd_restart
expect_status 200 GET /api/v1/routes/10.9.0.0_16
[ "$(jq_body 'j["via"]')" = 10.2.0.2 ] || fail "route after restart: $(cat "$TMPD/body")"
expect_status 200 GET /api/v1/neighbors
[ "$(jq_body '[(n["ip"], n["mac"], n["state"]) for n in j["neighbors"] if n["ip"] == "10.2.0.9"]')" = \
	"[('10.2.0.9', '02:00:00:00:00:09', 'static')]" ] || fail "static neighbor after restart: $(cat "$TMPD/body")"
expect_status 200 GET /api/v1/ports/p0
[ "$(jq_body 'j["promisc"]')" = True ] || fail "promisc after restart: $(cat "$TMPD/body")"

routes_file() { # the route set in the state file, one "prefix via" per line, sorted
	$PY - "$STATE" <<-'PYEOF'
	import json, sys
	s = json.load(open(sys.argv[1]))
	assert s["version"] == 1
	for r in sorted("%s %s" % (r["prefix"], r["via"]) for r in s["routes"]):
	    print(r)
	PYEOF
}
routes_api() { # the same from GET /routes (static ones)
	expect_status 200 GET "/api/v1/routes?limit=10000"
	jq_body '"\n".join(sorted("%s %s" % (r["prefix"], r["via"]) for r in j["routes"] if r["type"] == "static"))'
}

seed=${TEST_SEED:-$RANDOM}
say "2. kill -9 during a stream of updates (seed $seed; TEST_SEED=$seed replays)"
RANDOM=$seed
for round in 1 2 3; do
	base=$(routes_file) || fail "state file does not parse before round $round"
	: >"$TMPD/acked"
	(
		for i in $(seq 1 60000); do # until the kill: far more than can be sent in time
			code=$(acurl POST /api/v1/routes --json "{\"prefix\": \"10.$((200 + round)).$((i / 256)).$((i % 256))/32\", \"via\": \"10.2.0.2\"}")
			[ "$code" = 201 ] || exit 0
			echo "$i" >>"$TMPD/acked"
		done
	) &
	writer=$!
	# Synchronisation, not a time limit: the kill moment counts from the first acknowledgement.
	for _ in $(seq 600); do
		[ -s "$TMPD/acked" ] && break
		kill -0 "$writer" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$TMPD/acked" ] || fail "round $round: no POST /routes was acknowledged (writer ended or 60 s hang guard)"
	sleep "0.$((3 + RANDOM % 7))$((RANDOM % 10))"
	kill -0 "$writer" 2>/dev/null || fail "round $round: the writer stopped before the kill ($(tail -n 1 "$TMPD/acked") acknowledged)"
	kill -KILL "$IXYD_PID"
	wait "$IXYD_PID" 2>/dev/null
	IXYD_PID=""
	wait "$writer"
	acked=$(tail -n 1 "$TMPD/acked")
	[[ "$acked" =~ ^[0-9]+$ ]] && [ "$acked" -gt 0 ] || fail "round $round: no acknowledged update to check (\"$acked\")"
	got=$(routes_file) || fail "round $round: the state file does not parse after kill -9"
	ok=0
	for k in "$acked" $((acked + 1)); do
		want=$( (echo "$base"; for i in $(seq 1 "$k"); do echo "10.$((200 + round)).$((i / 256)).$((i % 256))/32 10.2.0.2"; done) | sed '/^$/d' | sort)
		[ "$got" = "$want" ] && ok=1 && break
	done
	[ "$ok" = 1 ] || fail "round $round: state file after kill -9 is no acknowledged state ($acked acknowledged; file has $(echo "$got" | wc -l) routes)"
	say "round $round: killed after $acked acknowledged updates; the file holds $(echo "$got" | grep -c "^10\.$((200 + round))\.") of them"
	ixyd_start r "$TMPD/api.json"
	ixyd_wait_api
	[ "$(routes_api)" = "$got" ] || fail "round $round: the restarted ixyd serves other routes than the file holds"
done
[ ! -e "$STATE.tmp" ] || fail "a temporary state file was left behind after start-up"
ixyd_stop
pass "API changes survive SIGTERM and kill -9; the state file is always an acknowledged state"
