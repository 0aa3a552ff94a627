# shellcheck shell=bash
# hugepages.sh: reserve 2 MiB huge pages for a benchmark and give them back on exit.
# Sourced by the scripts of tests/perf (bash); defines two functions and no traps: the caller
# calls hugepages_release from its own cleanup trap.
#
#   hugepages_reserve PAGES DIR   add PAGES to /proc/sys/vm/nr_hugepages and mount a private
#                                 hugetlbfs (pagesize=2M) on DIR (created if missing). Returns 1
#                                 with a message if the mount fails; warns if the kernel gave
#                                 fewer pages than asked (memory too fragmented).
#   hugepages_release             unmount what hugepages_reserve mounted and take back the pages
#                                 it added. Safe to call twice, or without a reservation.
#
# Taking back "what we added" (current - added) rather than writing back the value read at the
# start keeps another program's reservation made in the meantime; when nothing else changed the
# count, the two are the same. Needs root.

HUGEPAGES_SYSCTL=/proc/sys/vm/nr_hugepages
hugepages_added=0
hugepages_mount=""

hugepages_reserve() {
	local pages=$1 dir=$2 before after
	before=$(cat "$HUGEPAGES_SYSCTL")
	echo $((before + pages)) >"$HUGEPAGES_SYSCTL"
	after=$(cat "$HUGEPAGES_SYSCTL")
	hugepages_added=$((after - before))
	if [ "$hugepages_added" -lt "$pages" ]; then
		echo "hugepages: warning: asked for $pages more huge pages, got $hugepages_added" >&2
	fi
	mkdir -p "$dir"
	if ! mount -t hugetlbfs -o pagesize=2M nodev "$dir"; then
		echo "hugepages: cannot mount hugetlbfs on $dir" >&2
		return 1
	fi
	hugepages_mount=$dir
}

hugepages_release() {
	if [ -n "$hugepages_mount" ]; then
		umount "$hugepages_mount" || echo "hugepages: cannot unmount $hugepages_mount" >&2
		hugepages_mount=""
	fi
	if [ "$hugepages_added" -gt 0 ]; then
		local now
		now=$(cat "$HUGEPAGES_SYSCTL")
		echo $((now > hugepages_added ? now - hugepages_added : 0)) >"$HUGEPAGES_SYSCTL"
		hugepages_added=0
	fi
}
