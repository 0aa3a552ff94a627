# lib.sh: shared set-up for the netns tests (source it; bash).
#
# Every test builds its own little network out of network namespaces and veth pairs and runs
# ixyd inside a router namespace on the router-side veth ends (af_packet ports). Names carry the
# test's pid so parallel tests never collide. Everything created is recorded and removed by an
# EXIT trap, also when the test fails or is killed by ctest's timeout (SIGTERM).
#
#   netns_init NAME                  start a test: name used in messages, traps set
#   netns_add NS                     create namespace $NS (prefixed), loopback up, IPv6 off
#   netns_link NS_A IF_A NS_B IF_B   veth pair IF_A in NS_A <-> IF_B in NS_B, both up
#   netns_host NS IF ADDR/LEN GW     give a host its address and default route
#   ixyd_start NS CONFIG             run ixyd in NS (pid in IXYD_PID, stdout in IXYD_OUT)
#   ixyd_counter PORT FIELD          ask ixyd for its counters (SIGUSR1), print one value of
#                                    the new block; returns 1 if none came (callers: || fail)
#   ixyd_stop                        SIGTERM, wait; fails if ixyd exits non-zero
#   nsx NS CMD...                    run CMD in namespace NS
#   fail MSG / pass MSG              report and exit
#
# Exit code 77 means "skipped" to ctest (SKIP_RETURN_CODE): not root, or a tool missing.

set -uo pipefail

NETNS_PREFIX="ixt$$"
NETNS_LIST=()
IXYD_PID=""
IXYD_OUT=""
TEST_NAME="netns"
TMPD=""

: "${IXYD:?IXYD must point at the ixyd binary}"

say() { echo "[$TEST_NAME] $*"; }

fail() {
	say "FAIL: $*"
	if [ -n "$IXYD_OUT" ] && [ -f "$IXYD_OUT" ]; then
		say "ixyd stdout:"
		sed 's/^/    /' "$IXYD_OUT"
		say "ixyd stderr:"
		sed 's/^/    /' "$IXYD_OUT.err" | tail -n 30
	fi
	exit 1
}

pass() {
	say "PASS: $*"
	exit 0
}

skip() {
	say "SKIP: $*"
	exit 77
}

cleanup() {
	local rc=$?
	if [ -n "$IXYD_PID" ] && kill -0 "$IXYD_PID" 2>/dev/null; then
		kill -TERM "$IXYD_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$IXYD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$IXYD_PID" 2>/dev/null
	fi
	for ns in "${NETNS_LIST[@]}"; do
		# Kill only what runs inside our own namespaces (tcpdump, ping...), by pid.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		ip netns delete "$ns" 2>/dev/null
	done
	[ -n "$TMPD" ] && rm -rf "$TMPD"
	exit "$rc"
}

netns_init() {
	TEST_NAME=$1
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v ip >/dev/null || skip "iproute2 missing"
	[ -x "$IXYD" ] || fail "no ixyd binary at $IXYD"
	TMPD=$(mktemp -d /tmp/ixyd-netns.XXXXXX)
	trap cleanup EXIT
	trap 'exit 1' INT TERM
}

nsname() { echo "${NETNS_PREFIX}$1"; }

nsx() {
	local ns
	ns=$(nsname "$1")
	shift
	ip netns exec "$ns" "$@"
}

netns_add() {
	local ns
	ns=$(nsname "$1")
	ip netns add "$ns" || fail "cannot create namespace $ns"
	NETNS_LIST+=("$ns")
	ip -n "$ns" link set lo up
	# No IPv6 chatter (router solicitations, DAD): the tests count packets.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# Interface names are limited to 15 characters; the namespace keeps them apart, so they can be
# short and fixed.
netns_link() {
	local a b
	a=$(nsname "$1")
	b=$(nsname "$3")
	ip link add "$2" netns "$a" type veth peer name "$4" netns "$b" || fail "cannot create veth $2/$4"
	ip -n "$a" link set "$2" up
	ip -n "$b" link set "$4" up
	# Full checksums in the frames themselves (no offload left half done for the router).
	ip netns exec "$a" ethtool -K "$2" tx off >/dev/null 2>&1
	ip netns exec "$b" ethtool -K "$4" tx off >/dev/null 2>&1
}

netns_host() {
	local ns
	ns=$(nsname "$1")
	ip -n "$ns" addr add "$3" dev "$2" || fail "cannot address $2 in $ns"
	if [ -n "${4:-}" ]; then
		ip -n "$ns" route add default via "$4" || fail "cannot route via $4 in $ns"
	fi
}

ixyd_start() {
	local ns
	ns=$(nsname "$1")
	IXYD_OUT="$TMPD/ixyd.out"
	ip netns exec "$ns" "$IXYD" --config "$2" >"$IXYD_OUT" 2>"$IXYD_OUT.err" &
	IXYD_PID=$!
	for _ in $(seq 100); do
		grep -q '^ixyd: running' "$IXYD_OUT" 2>/dev/null && return 0
		kill -0 "$IXYD_PID" 2>/dev/null || fail "ixyd exited during start-up"
		sleep 0.1
	done
	fail "ixyd did not report running within 10 s"
}

# The value of FIELD on the "counters port=PORT ..." line of the counter block this call asked
# for. Prints nothing and returns 1 (message on stderr) when that block did not arrive or lacks
# the field, so callers never read an older block: use it as
#   x=$(ixyd_counter p0 rx_packets) || fail "..."
ixyd_counter() {
	local port=$1 field=$2 before value
	before=$(grep -c '^counters end$' "$IXYD_OUT")
	kill -USR1 "$IXYD_PID" 2>/dev/null || { say "ixyd is gone" >&2; return 1; }
	# Generous: the machine may be busy; the block comes in one flushed write.
	for _ in $(seq 300); do
		[ "$(grep -c '^counters end$' "$IXYD_OUT")" -gt "$before" ] && break
		sleep 0.1
	done
	[ "$(grep -c '^counters end$' "$IXYD_OUT")" -gt "$before" ] ||
		{ say "no new counter block within 30 s of SIGUSR1" >&2; return 1; }
	# The port's line in block number before+1, the first one after the call's SIGUSR1.
	value=$(awk -v n="$before" -v who="port=$port" -v f="$field=" '
		$1 == "counters" && $2 == "end" { if (++seen > n) exit; next }
		seen == n && $1 == "counters" && $2 == who {
			for (i = 3; i <= NF; i++)
				if (index($i, f) == 1) print substr($i, length(f) + 1)
		}' "$IXYD_OUT")
	[[ "$value" =~ ^[0-9]+$ ]] ||
		{ say "no $field for port $port in the new counter block" >&2; return 1; }
	echo "$value"
}

ixyd_stop() {
	kill -TERM "$IXYD_PID" || fail "ixyd is gone before stop"
	local rc=0
	wait "$IXYD_PID" || rc=$?
	IXYD_PID=""
	[ "$rc" -eq 0 ] || fail "ixyd exited with status $rc on SIGTERM"
	grep -q '^counters end' "$IXYD_OUT" || fail "ixyd printed no counters at exit"
}

# The routed topology most tests share:
#   h1 (10.1.0.2) --veth-- [p0 10.1.0.1  ixyd in "r"  10.2.0.1 p1] --veth-- h2 (10.2.0.2)
# Writes the config to $TMPD/routed.json.
routed_setup() {
	netns_add r
	netns_add h1
	netns_add h2
	netns_link h1 hv0 r p0
	netns_link h2 hv0 r p1
	netns_host h1 hv0 10.1.0.2/24 10.1.0.1
	netns_host h2 hv0 10.2.0.2/24 10.2.0.1
	cat >"$TMPD/routed.json" <<-EOF
	{"ports": [{"name": "p0", "device": "af_packet:p0", "ipv4": ["10.1.0.1/24"]},
	           {"name": "p1", "device": "af_packet:p1", "ipv4": ["10.2.0.1/24"]}],
	 "routes": [{"prefix": "10.9.0.0/16", "via": "10.2.0.2"}],
	 "workers": {"cores": [0]}}
	EOF
}
