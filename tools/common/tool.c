/*
 * tool.c: shared plumbing of the packet tools; see tool.h.
 */
#include "tool.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Read the clock every this many loop iterations; at TCG speeds that is still many times a
 * millisecond, far finer than the one-second lines and the stop checks need. */
#define TOOL_CLOCK_EVERY     64u
#define TOOL_INPUT_PERIOD_NS 100000000ull /* look at stdin ten times a second */
#define NS_PER_S	     1000000000ull

/* Set by the signal handler, read by the loop: a sig_atomic_t is all a handler may write. */
static volatile sig_atomic_t tool_signalled;

static void tool_on_signal(int sig)
{
	(void)sig;
	tool_signalled = 1;
}

int tool_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int tool_parse_mac(const char *s, uint8_t mac[ETHER_ADDR_LEN])
{
	unsigned int b[ETHER_ADDR_LEN];
	char trailing;
	if (!s ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &trailing) != ETHER_ADDR_LEN ||
	    strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < ETHER_ADDR_LEN; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

uint64_t tool_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Print "PROG: cannot open NAME: why (hint)" for an errno from opening or checking a device. */
static void print_device_error(const char *prog, const char *name, int err)
{
	const char *hint = "";
	switch (err) {
	case ENOMEM:
		hint = " (no huge pages? reserve some: echo 64 > /proc/sys/vm/nr_hugepages)";
		break;
	case ENODEV:
		hint = " (no such PCI device, or no driver for it)";
		break;
	case ENOTSUP:
		hint = " (not a network controller)";
		break;
	case EBUSY:
		hint =
		    " (another program drives it, or its kernel interface is up with addresses or "
		    "routes: --force takes the latter)";
		break;
	case EACCES:
	case EPERM:
		hint = " (needs root)";
		break;
	default:
		break;
	}
	fprintf(stderr, "%s: cannot open %s: %s%s\n", prog, name, strerror(err), hint);
}

bool tool_check_devices(const char *prog, const char *const *names, int n, bool force)
{
	struct ixy_device_config cfg = {.force = force};
	for (int i = 0; i < n; i++) {
		int err = ixy_device_check(names[i], &cfg);
		if (err) {
			print_device_error(prog, names[i], -err);
			return false;
		}
	}
	return true;
}

struct ixy_device *tool_open_device(const char *prog, const char *name, bool force)
{
	struct ixy_device_config cfg = {.force = force};
	struct ixy_device *dev = ixy_device_open(name, &cfg);
	if (!dev)
		print_device_error(prog, name, errno);
	return dev;
}

void tool_loop_init(struct tool_loop *loop, struct tool_port *ports, unsigned num_ports,
		    uint64_t seconds)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = {.sa_handler = tool_on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	uint64_t now = tool_now_ns();
	*loop = (struct tool_loop){
	    .ports = ports,
	    .num_ports = num_ports,
	    .deadline_ns = seconds ? now + seconds * NS_PER_S : 0,
	    .last_print_ns = now,
	    .next_input_ns = now,
	    .stdin_open = true,
	};
	for (unsigned i = 0; i < num_ports; i++)
		ixy_read_stats(ports[i].dev, &ports[i].last);
}

void tool_loop_stop(struct tool_loop *loop)
{
	loop->stop = true;
}

/* Look for a "stop" line on stdin without blocking. EOF is not a request to stop: a program
 * started with stdin closed or at /dev/null keeps running until a signal or its time limit. */
static bool tool_stdin_says_stop(struct tool_loop *loop)
{
	while (loop->stdin_open) {
		struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
		if (poll(&pfd, 1, 0) <= 0)
			return false;
		if (pfd.revents & POLLNVAL) {
			loop->stdin_open = false;
			return false;
		}
		char c;
		ssize_t r = read(STDIN_FILENO, &c, 1); /* byte-wise: never reads past a line */
		if (r <= 0) {
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				return false;
			loop->stdin_open = false;
			return false;
		}
		if (c == '\n' || c == '\r') {
			loop->line[loop->line_len] = '\0';
			bool stop = strcmp(loop->line, "stop") == 0;
			loop->line_len = 0;
			if (stop)
				return true;
		} else if (loop->line_len + 1 < sizeof(loop->line)) {
			loop->line[loop->line_len++] = c;
		}
	}
	return false;
}

static void tool_print_rates(struct tool_loop *loop, uint64_t now)
{
	double seconds = (double)(now - loop->last_print_ns) / 1e9;
	loop->last_print_ns = now;
	for (unsigned i = 0; i < loop->num_ports; i++) {
		struct tool_port *p = &loop->ports[i];
		struct ixy_stats s;
		ixy_read_stats(p->dev, &s);
		double rx_mpps = (double)(s.rx_packets - p->last.rx_packets) / seconds / 1e6;
		double tx_mpps = (double)(s.tx_packets - p->last.tx_packets) / seconds / 1e6;
		double rx_mbit = (double)(s.rx_bytes - p->last.rx_bytes) * 8 / seconds / 1e6;
		double tx_mbit = (double)(s.tx_bytes - p->last.tx_bytes) * 8 / seconds / 1e6;
		printf("[%s] RX: %.2f Mpps, %.1f Mbit/s | TX: %.2f Mpps, %.1f Mbit/s\n",
		       p->dev->name, rx_mpps, rx_mbit, tx_mpps, tx_mbit);
		p->last = s;
	}
}

bool tool_loop_continue(struct tool_loop *loop)
{
	if (unlikely(loop->stop || tool_signalled))
		return false;
	if (likely(++loop->calls < TOOL_CLOCK_EVERY))
		return true;
	loop->calls = 0;
	uint64_t now = tool_now_ns();
	if (loop->deadline_ns && now >= loop->deadline_ns)
		return false;
	if (now >= loop->next_input_ns) {
		loop->next_input_ns = now + TOOL_INPUT_PERIOD_NS;
		if (tool_stdin_says_stop(loop)) {
			loop->stop = true;
			return false;
		}
	}
	if (now - loop->last_print_ns >= NS_PER_S)
		tool_print_rates(loop, now);
	return true;
}

void tool_drain_tx(struct tool_port *ports, unsigned num_ports, uint32_t wait_ms)
{
	for (uint32_t ms = 0; ms < wait_ms; ms++) {
		for (unsigned i = 0; i < num_ports; i++)
			ixy_tx_batch(ports[i].dev, 0, NULL, 0);
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
}

void tool_print_final_stats(const struct tool_port *port)
{
	struct ixy_stats s;
	ixy_read_stats(port->dev, &s);
	printf("stats %s rx_packets=%" PRIu64 " rx_bytes=%" PRIu64 " tx_packets=%" PRIu64
	       " tx_bytes=%" PRIu64 " rx_dropped=%" PRIu64 " tx_dropped=%" PRIu64 "\n",
	       port->dev->name, s.rx_packets, s.rx_bytes, s.tx_packets, s.tx_bytes, s.rx_dropped,
	       port->tx_dropped);
}
