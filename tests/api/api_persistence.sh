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
#     The saved state is read by state_dump.py, a reader of the snapshot and journal formats
#     written apart from api/; the journal is compacted every few kB here
#     (IXYD_STATE_COMPACT_BYTES), so kills also land in compactions, and one must have happened;
#  3. a full disk: the state on a small tmpfs, filled up; changes are made until they are
#     refused (500 "not saved"), a few more must be refused too, and the restarted ixyd (on the
#     still full disk) serves exactly the acknowledged routes;
#  4. a truncated journal: the last record cut by a few bytes while ixyd is stopped; the
#     restarted ixyd serves every route before it, not that one, and logs the drop once;
#  5. a corrupt record in the middle (one payload byte flipped): replay stops there, the routes
#     before it are served, the ones from it on are not, the journal is kept as .corrupt.
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

routes_file() { # the route set in the saved state, one "prefix via" per line, sorted
	$PY "$(dirname "$0")/state_dump.py" "$STATE"
}
routes_api() { # the same from GET /routes (the API's own)
	expect_status 200 GET "/api/v1/routes?limit=10000"
	jq_body '"\n".join(sorted("%s %s" % (r["prefix"], r["via"]) for r in j["routes"] if r["owner"] == "api"))'
}

seed=${TEST_SEED:-$RANDOM}
say "2. kill -9 during a stream of updates (seed $seed; TEST_SEED=$seed replays)"
RANDOM=$seed
export IXYD_STATE_COMPACT_BYTES=4096
ixyd_restart
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
gen=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1])).get("generation", 0))' "$STATE")
[ "$gen" -gt 0 ] || fail "no compaction happened during the rounds (snapshot generation $gen)"
say "snapshot generation $gen after the rounds"
ixyd_stop
unset IXYD_STATE_COMPACT_BYTES

post_route() { acurl POST /api/v1/routes --json "{\"prefix\": \"$1\", \"via\": \"10.2.0.2\"}"; }
live_journal() { ls "$1".journal.* 2>/dev/null | grep -E '\.journal\.[0-9]+$' | sort -t. -k3 -n | tail -n 1; }

say "3. a full disk"
SMALL="$TMPD/small"
mkdir "$SMALL"
mount -t tmpfs -o size=256k tmpfs "$SMALL" || skip "cannot mount a tmpfs"
trap 'rc=$?; umount "$SMALL" 2>/dev/null; (exit $rc); cleanup' EXIT
sed "s|\"state_file\": \"$STATE\"|\"state_file\": \"$SMALL/state.json\"|" "$TMPD/api.json" >"$TMPD/small.json"
ixyd_start r "$TMPD/small.json"
ixyd_wait_api
expect_status 201 POST /api/v1/routes --json '{"prefix": "10.77.0.0/16", "via": "10.2.0.2"}'
# Fill the disk, then change until refused: records still fit in the journal's last page.
dd if=/dev/zero of="$SMALL/fill" bs=4k 2>/dev/null
: >"$TMPD/acked"
refused=0
for i in $(seq 1 2000); do
	code=$(post_route "10.78.$((i / 256)).$((i % 256))/32")
	if [ "$code" = 201 ]; then
		[ "$refused" = 0 ] || fail "a change was acknowledged after one was refused on a full disk"
		echo "10.78.$((i / 256)).$((i % 256))/32 10.2.0.2" >>"$TMPD/acked"
	else
		[ "$code" = 500 ] || fail "change on a full disk: status $code, expected 500: $(cat "$TMPD/body")"
		grep -q "not saved" "$TMPD/body" || fail "500 on a full disk does not say \"not saved\": $(cat "$TMPD/body")"
		refused=$((refused + 1))
		[ "$refused" -ge 5 ] && break
	fi
done
[ "$refused" -ge 5 ] || fail "changes were still acknowledged on a full disk"
expect_status 500 DELETE /api/v1/routes/10.77.0.0_16
expect_status 500 POST /api/v1/neighbors --json '{"ip": "10.2.0.7", "mac": "02:00:00:00:00:07"}'
say "full disk: $(wc -l <"$TMPD/acked") changes acknowledged, then $refused + 2 refused"
kill -KILL "$IXYD_PID"
wait "$IXYD_PID" 2>/dev/null
IXYD_PID=""
want=$( (echo "10.77.0.0/16 10.2.0.2"; cat "$TMPD/acked") | sort)
[ "$($PY "$(dirname "$0")/state_dump.py" "$SMALL/state.json")" = "$want" ] ||
	fail "the state on the full disk is not the acknowledged one"
ixyd_start r "$TMPD/small.json" # the disk is still full
ixyd_wait_api
[ "$(routes_api)" = "$want" ] || fail "after a restart on the full disk ixyd serves other routes than were acknowledged"
expect_status 200 GET /api/v1/neighbors
[ "$(jq_body '[n for n in j["neighbors"] if n["ip"] == "10.2.0.7"]')" = "[]" ] || fail "an unsaved neighbour came back"
rm -f "$SMALL/fill"
expect_status 201 POST /api/v1/routes --json '{"prefix": "10.79.0.0/16", "via": "10.2.0.2"}'
ixyd_stop
ixyd_start r "$TMPD/small.json"
ixyd_wait_api
[ "$(routes_api)" = "$( (echo "$want"; echo "10.79.0.0/16 10.2.0.2") | sort)" ] || fail "changes after space came back were not kept"
ixyd_stop

say "4. a truncated journal"
ixyd_start r "$TMPD/api.json"
ixyd_wait_api
base=$(routes_api)
for p in 10.81.0.0/16 10.82.0.0/16 10.83.0.0/16; do
	[ "$(post_route "$p")" = 201 ] || fail "POST $p: $(cat "$TMPD/body")"
done
ixyd_stop
J=$(live_journal "$STATE")
[ -n "$J" ] || fail "no journal next to $STATE"
truncate -s -5 "$J"
ixyd_start r "$TMPD/api.json"
ixyd_wait_api
[ "$(routes_api)" = "$( (echo "$base"; echo "10.81.0.0/16 10.2.0.2"; echo "10.82.0.0/16 10.2.0.2") | sed '/^$/d' | sort)" ] ||
	fail "after cutting the last record: not exactly the routes before it"
[ "$(grep -c 'dropped a torn last record' "$IXYD_OUT.err")" = 1 ] || fail "the drop of the torn record was not logged once"
# Appends go on after the cut, not after the torn bytes.
[ "$(post_route 10.84.0.0/16)" = 201 ] || fail "POST after the cut"
ixyd_restart
[ "$(routes_api)" = "$( (echo "$base"; echo "10.81.0.0/16 10.2.0.2"; echo "10.82.0.0/16 10.2.0.2"; echo "10.84.0.0/16 10.2.0.2") | sed '/^$/d' | sort)" ] ||
	fail "a change after the cut was lost"
ixyd_stop

say "5. a corrupt record in the middle"
ixyd_start r "$TMPD/api.json"
ixyd_wait_api
base=$(routes_api)
for p in 10.91.0.0/16 10.92.0.0/16 10.93.0.0/16; do
	[ "$(post_route "$p")" = 201 ] || fail "POST $p: $(cat "$TMPD/body")"
done
ixyd_stop
J=$(live_journal "$STATE")
# Flip one byte inside the payload of the record of 10.92.0.0/16.
off=$(grep -abo '10\.92\.0\.0' "$J" | head -n 1 | cut -d: -f1)
[ -n "$off" ] || fail "no record of 10.92.0.0/16 in $J"
printf 'X' | dd of="$J" bs=1 seek="$off" conv=notrunc 2>/dev/null
ixyd_start r "$TMPD/api.json"
ixyd_wait_api
[ "$(routes_api)" = "$( (echo "$base"; echo "10.91.0.0/16 10.2.0.2") | sed '/^$/d' | sort)" ] ||
	fail "after a corrupt middle record: not exactly the routes before it"
grep -q 'corrupt (record CRC mismatch).*replay stopped there' "$IXYD_OUT.err" || fail "the corruption was not logged"
[ -e "$J.corrupt" ] || fail "the corrupt journal was not kept aside"
ixyd_stop
pass "API changes survive SIGTERM, kill -9, a full disk, a torn and a corrupt journal record"
