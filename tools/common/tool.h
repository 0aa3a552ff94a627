/*
 * tool.h: what the packet tools (ixy-fwd, ixy-pktgen) share: number and MAC parsing, opening a
 * device with a clear message, the main loop's stop conditions (SIGINT/SIGTERM, a "stop" line on
 * standard input, --seconds) and the per-second rate lines and exit counters of docs/tools.md.
 *
 * Threads: everything here is for a program's main thread. tool_run_init() installs signal
 * handlers for the whole process.
 */
#ifndef IXYD_TOOL_H
#define IXYD_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"

/* Parse a decimal number in [min, max] (the whole string). Returns 0, or -EINVAL. */
int tool_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parse "aa:bb:cc:dd:ee:ff" (hex, case-insensitive). Returns 0, or -EINVAL. */
int tool_parse_mac(const char *s, uint8_t mac[ETHER_ADDR_LEN]);

/* Monotonic clock in nanoseconds. */
uint64_t tool_now_ns(void);

/*
 * Open a device by name (see ixy_device_open()); on failure print "PROG: cannot open NAME: why"
 * with a hint for the usual causes (no huge pages, not a NIC, in use by the kernel) to stderr
 * and return NULL.
 */
struct ixy_device *tool_open_device(const char *prog, const char *name, bool force);

/* Check every device of names[0..n) before any is opened (ixy_device_check()), so a refusal of
 * one does not leave another already unbound; on the first refusal print why and return false. */
bool tool_check_devices(const char *prog, const char *const *names, int n, bool force);

/* One port as the rate printer sees it. tx_dropped is the program's own count of frames it
 * freed because the port's tx ring was full; the driver does not know about them. */
struct tool_port {
	struct ixy_device *dev;
	struct ixy_stats last; /* counters at the previous rate line */
	uint64_t tx_dropped;
};

/*
 * The main loop's bookkeeping: call tool_loop_continue() once per iteration. It returns false
 * once the program should stop (a signal, a "stop" line on stdin, the time limit), and prints
 * one rate line per port each second:
 *   [PCI] RX: 0.12 Mpps, 81.3 Mbit/s | TX: 0.12 Mpps, 81.2 Mbit/s
 * Mbit/s counts frame bytes without the FCS, as the driver's byte counters do.
 * The clock is read only every few iterations, so an idle loop stays cheap.
 */
struct tool_loop {
	struct tool_port *ports;
	unsigned num_ports;
	uint64_t deadline_ns;	/* 0: no time limit */
	uint64_t last_print_ns; /* time of the previous rate line */
	uint64_t next_input_ns; /* next time to look at stdin */
	uint32_t calls;		/* iterations since the clock was last read */
	bool stdin_open;	/* false after EOF or an error on stdin */
	bool stop;		/* set by tool_loop_stop() */
	char line[64];		/* partial line read from stdin */
	uint32_t line_len;
};

/* Set up the loop for ports (which must stay valid while it runs), with a time limit of seconds
 * (0: none). Installs SIGINT/SIGTERM handlers and makes stdout line-buffered. */
void tool_loop_init(struct tool_loop *loop, struct tool_port *ports, unsigned num_ports,
		    uint64_t seconds);
/* True while the program should keep going. */
bool tool_loop_continue(struct tool_loop *loop);
/* Make the next tool_loop_continue() return false (e.g. a --count reached). */
void tool_loop_stop(struct tool_loop *loop);

/*
 * Reclaim frames still queued for sending on the ports' tx queue 0, for about wait_ms, by
 * calling tx_batch with no frames (the drivers reclaim finished buffers then). Call before closing
 * devices that forward into each other: their tx rings hold buffers of each other's pools.
 */
void tool_drain_tx(struct tool_port *ports, unsigned num_ports, uint32_t wait_ms);

/* Print the exit line of docs/tools.md for a port:
 *   stats PCI rx_packets=N rx_bytes=N tx_packets=N tx_bytes=N rx_dropped=N tx_dropped=N */
void tool_print_final_stats(const struct tool_port *port);

#endif
