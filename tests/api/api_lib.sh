# api_lib.sh: helpers for the REST API's namespace tests (source it after nothing else; bash).
# Builds on tests/netns/lib.sh (namespaces, veth pairs, ixyd start/stop, cleanup on exit):
#
#   api_setup [EXTRA_JSON]      the routed topology of lib.sh (h1 - r - h2) with the API on
#                               127.0.0.1:8080 inside r and a state file in $TMPD; config in
#                               $TMPD/api.json (EXTRA_JSON: more top-level members, ", ..." form)
#   acurl METHOD PATH [ARGS]    curl the API from inside r; body in $TMPD/body, prints the status
#   expect_status CODE METHOD PATH [ARGS]   acurl and fail unless the status is CODE; also checks
#                               that every 4xx/5xx body is JSON with an "error" string
#   jq_body EXPR                evaluate a Python expression on the last body (as `j`)
#   ixyd_restart                SIGTERM ixyd and start it again on the same config
#
# Python is /usr/bin/python3 (Debian's), whatever python3 is first on PATH.

. "$(dirname "${BASH_SOURCE[0]}")/../netns/lib.sh"

API_URL="http://127.0.0.1:8080"
PY=/usr/bin/python3

api_setup() {
	routed_setup
	STATE="$TMPD/state.json"
	cat >"$TMPD/api.json" <<-EOF2
	{"ports": [{"name": "p0", "device": "af_packet:p0", "ipv4": ["10.1.0.1/24"]},
	           {"name": "p1", "device": "af_packet:p1", "ipv4": ["10.2.0.1/24"]}],
	 "workers": {"cores": [0]},
	 "api": {"listen": "127.0.0.1:8080"},
	 "state_file": "$STATE"${1:-}}
	EOF2
	command -v curl >/dev/null || skip "curl missing"
}

acurl() {
	local method=$1 path=$2
	shift 2
	nsx r curl -s -g -m 30 -o "$TMPD/body" -w '%{http_code}' -X "$method" "$@" "$API_URL$path"
}

expect_status() {
	local want=$1 method=$2 path=$3 got
	shift 3
	got=$(acurl "$method" "$path" "$@")
	[ "$got" = "$want" ] || fail "$method $path: status $got, expected $want; body: $(head -c 300 "$TMPD/body")"
	if [ "$want" -ge 400 ]; then
		$PY -c 'import json,sys; j=json.load(open(sys.argv[1])); assert isinstance(j["error"], str) and "detail" in j' \
			"$TMPD/body" 2>/dev/null || fail "$method $path: error body is not {\"error\", \"detail\"}: $(head -c 300 "$TMPD/body")"
	fi
}

jq_body() {
	$PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$TMPD/body" "$1"
}

ixyd_wait_api() {
	for _ in $(seq 100); do
		[ "$(acurl GET /api/v1/health)" = 200 ] && return 0
		sleep 0.1
	done
	fail "the API did not answer within 10 s"
}

ixyd_restart() {
	ixyd_stop
	ixyd_start r "$TMPD/api.json"
	ixyd_wait_api
}
