# shellcheck shell=sh
# Guest-side helpers, installed as /lib/ixyvm.sh and sourced by /init (so /test.sh has them).
# Protocol with the host (tests/vm/lib.sh), one marker per console line:
#   @@IXYVM wait TAG          the guest waits for a line "go" on ttyS1
#   @@IXYVM start TAG         the program starts; its stdout follows on the console
#   @@IXYVM stderr TAG: ...   what it wrote to stderr, after it exited
#   @@IXYVM end TAG rc=N      its exit status (128+signal if it was killed)
#   @@IXYVM note TEXT         anything else the host may want to read

# Keep ttyS1 open for the whole run as fd 3: opening a serial port resets its receive FIFO, so a
# line the host sent between two opens would be lost. No echo, so nothing flows back.
ixyvm_open_ctl() {
	exec 3</dev/ttyS1
	stty -echo icanon <&3
}

ixyvm_note() {
	echo "@@IXYVM note $*"
}

# ixyvm_wait TAG: block until the host says "go".
ixyvm_wait() {
	echo "@@IXYVM wait $1"
	while read -r line <&3; do
		[ "$line" = go ] && return 0
	done
	ixyvm_note "ttyS1 closed while waiting at $1"
	return 1
}

# ixyvm_run TAG CMD...: run a program with ttyS1 as its stdin ("stop" ends our programs).
ixyvm_run() {
	tag=$1
	shift
	echo "@@IXYVM start $tag"
	"$@" <&3 2>"/tmp/stderr.$tag"
	rc=$?
	sed "s/^/@@IXYVM stderr $tag: /" "/tmp/stderr.$tag"
	echo "@@IXYVM end $tag rc=$rc"
	return 0
}

# ixyvm_step TAG CMD...: wait for "go", then run.
ixyvm_step() {
	ixyvm_wait "$1" || return 1
	ixyvm_run "$@"
}

# ixyvm_run_term TAG SECONDS CMD...: like ixyvm_run, but the program gets SIGTERM after SECONDS.
ixyvm_run_term() {
	tag=$1
	delay=$2
	shift 2
	echo "@@IXYVM start $tag"
	"$@" <&3 2>"/tmp/stderr.$tag" &
	pid=$!
	sleep "$delay"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	sed "s/^/@@IXYVM stderr $tag: /" "/tmp/stderr.$tag"
	echo "@@IXYVM end $tag rc=$rc"
	return 0
}

# A program that runs while the script goes on (a daemon, or a forwarder other programs compete
# with): stdin /dev/null (ttyS1 stays with the script), stdout on the console as it comes,
# stderr kept until it exits.
#   ixyvm_bg TAG CMD...     "@@IXYVM start TAG", then CMD in the background
#   ixyvm_bg_serve TAG      until the program exits, carry out the host's ttyS1 lines
#                           "signal SIG": kill -SIG, then "@@IXYVM signalled TAG SIG"
#   ixyvm_bg_end TAG        wait for it: its stderr lines and "@@IXYVM end TAG rc=N"
ixyvm_bg() {
	tag=$1
	shift
	echo "@@IXYVM start $tag"
	"$@" </dev/null 2>"/tmp/stderr.$tag" &
	echo $! >"/tmp/pid.$tag"
}

# ixyvm_alive PID: the process exists and is not a zombie (the shell reaps it only in wait).
ixyvm_alive() {
	[ -r "/proc/$1/stat" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat")" != Z ]
}

ixyvm_bg_serve() {
	pid=$(cat "/tmp/pid.$1")
	while ixyvm_alive "$pid"; do
		# A tty in canonical mode hands over whole lines, so a timeout never splits one.
		# shellcheck disable=SC3045 # busybox ash has read -t
		read -r -t 1 line <&3 || continue
		case $line in
		"signal "*)
			kill -"${line#signal }" "$pid" && echo "@@IXYVM signalled $1 ${line#signal }"
			;;
		esac
	done
}

ixyvm_bg_end() {
	wait "$(cat "/tmp/pid.$1")"
	rc=$?
	sed "s/^/@@IXYVM stderr $1: /" "/tmp/stderr.$1"
	echo "@@IXYVM end $1 rc=$rc"
}
