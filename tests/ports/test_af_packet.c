/*
 * test_af_packet: the AF_PACKET port on a veth pair. af_packet_netns.sh runs it inside a network
 * namespace it made; the far end (--peer-if in --peer-ns) is a second namespace whose kernel
 * (ping, arping, ARP) and python3 raw sockets (peer.py) send and receive. Checks:
 *  - a missing interface gives NULL and ENODEV;
 *  - the port brings the link up; link, speed (veth: 10000) and MAC as the kernel reports them;
 *  - rx: frames of every length from the peer arrive byte for byte, in order, with exact
 *    counters; 2000 frames in a burst arrive in batches, none dropped; a VLAN tag the kernel
 *    lifted out of the frame is put back;
 *  - tx: frames arrive at the peer's raw socket byte for byte; the kernel answers our ARP
 *    request; we answer the kernel's ping and arping, so it checks our replies;
 *  - promiscuous off/on/off decides whether frames for a foreign MAC arrive;
 *  - a full tx ring takes fewer frames, the rest stay with the caller, none leak, all arrive;
 *  - an rx ring too small for a burst counts what it lost in rx_dropped, exactly;
 *  - two rx queues share the traffic by flow hash (PACKET_FANOUT).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "memory.h"
#include "ports_test.h"

#define MAX_FRAME    2048
#define TX_POOL_BUFS 1024

static const char *ifname, *peer_ns, *peer_if, *peer_ip_str, *port_ip_str, *helper;
static uint8_t port_mac[6], peer_mac[6];
static uint32_t peer_ip, port_ip; /* network byte order */
static struct mempool *tx_pool;
static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t foreign_mac[6] = {0x02, 0, 0, 0, 0, 0x99};

struct frame {
	uint32_t len;
	uint16_t queue;
	uint32_t rss_hash;
	uint8_t data[MAX_FRAME];
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static void mac_str(char *s, const uint8_t mac[6])
{
	sprintf(s, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* Start `sh -c CMD` (printf-style); returns its pid. */
static pid_t spawn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static pid_t spawn(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Exit status of pid, or -1 if it is still running (with nohang). */
static int reap(pid_t pid, bool nohang)
{
	int status;
	pid_t r = waitpid(pid, &status, nohang ? WNOHANG : 0);
	if (r == 0)
		return -1;
	if (r < 0)
		return -2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* peer.py send ... in the peer namespace, in the background. */
static pid_t peer_send(const uint8_t dst[6], uint32_t count, const char *opts)
{
	char d[18], s[18];
	mac_str(d, dst);
	mac_str(s, peer_mac);
	return spawn("ip netns exec %s python3 %s send %s %s %s %u %s", peer_ns, helper, peer_if, d,
		     s, count, opts);
}

static uint32_t varied_len(uint32_t i)
{
	return 60 + (i * 37) % 1455; /* as peer.py --len-mode varied */
}

/*
 * Poll the port's rx queues until `want` frames arrived or timeout_ms passed, then settle_ms
 * longer to catch any extra frame. Frames are copied to out[] (up to max; out may be NULL).
 * Returns the number received; *max_batch (optional) gets the largest batch.
 */
static uint32_t collect(struct ixy_device *dev, struct frame *out, uint32_t max, uint32_t want,
			uint32_t timeout_ms, uint32_t settle_ms, uint32_t *max_batch)
{
	struct pkt_buf *bufs[32];
	uint32_t n = 0, biggest = 0;
	uint64_t deadline = now_ms() + timeout_ms;
	bool settling = want == 0;
	if (settling)
		deadline = now_ms() + settle_ms;
	while (now_ms() < deadline) {
		uint32_t got_any = 0;
		for (uint16_t q = 0; q < dev->rx_queues; q++) {
			uint32_t got = ixy_rx_batch(dev, q, bufs, 32);
			got_any += got;
			biggest = MAX(biggest, got);
			for (uint32_t i = 0; i < got; i++, n++) {
				if (out && n < max) {
					out[n].len = bufs[i]->len;
					out[n].queue = q;
					out[n].rss_hash = bufs[i]->rss_hash;
					memcpy(out[n].data, pkt_data(bufs[i]),
					       MIN(bufs[i]->len, MAX_FRAME));
				}
			}
			pkt_buf_free_batch(bufs, got);
		}
		if (!settling && n >= want) {
			settling = true;
			deadline = now_ms() + settle_ms;
		}
		if (!got_any)
			sleep_ms(1);
	}
	if (max_batch)
		*max_batch = biggest;
	return n;
}

static uint32_t drain(struct ixy_device *dev)
{
	return collect(dev, NULL, 0, 0, 0, 60, NULL);
}

/* Send frames[0..n) on queue, retrying while the ring is full; returns how many went. */
static uint32_t send_all(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs, uint32_t n)
{
	uint32_t sent = 0;
	uint64_t deadline = now_ms() + 5000;
	while (sent < n && now_ms() < deadline) {
		uint32_t got = ixy_tx_batch(dev, queue, bufs + sent, n - sent);
		sent += got;
		if (!got)
			sleep_ms(1);
	}
	return sent;
}

static struct pkt_buf *pattern_buf(uint32_t i, uint32_t len, const uint8_t dst[6])
{
	struct pkt_buf *buf = pkt_buf_alloc(tx_pool);
	if (!buf)
		return NULL;
	pkt_reset(buf, len);
	pattern_frame(pkt_data(buf), len, i, dst, port_mac);
	return buf;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_missing_interface(void)
{
	errno = 0;
	struct ixy_device *dev = af_packet_open("ixyd-nosuch0", NULL);
	CHECK(dev == NULL);
	CHECK_EQ(errno, ENODEV);
	port_close(dev);
}

static void test_link_and_mac(struct ixy_device *dev)
{
	CHECK(strcmp(dev->ops->driver_name, "af_packet") == 0);
	struct ixy_link link = {0};
	uint64_t deadline = now_ms() + 3000;
	while (ixy_get_link(dev, &link) == 0 && !link.up && now_ms() < deadline)
		sleep_ms(10);
	CHECK(link.up);
	CHECK_EQ(link.speed_mbps, 10000); /* veth's ethtool speed */
	printf("link up, %u Mbit/s\n", link.speed_mbps);

	char path[128], line[64];
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	FILE *f = fopen(path, "r");
	uint8_t sys_mac[6] = {0};
	CHECK(f && fgets(line, sizeof(line), f) && parse_mac(line, sys_mac) == 0);
	if (f)
		fclose(f);
	CHECK_EQ(ixy_get_mac(dev, port_mac), 0);
	CHECK(memcmp(port_mac, sys_mac, 6) == 0);

	static const uint8_t new_mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	uint8_t mac[6];
	int err = ixy_set_mac(dev, new_mac);
	printf("set_mac on a running veth: %d\n", err);
	CHECK(err == 0 || err == -EBUSY);
	if (err == 0) {
		CHECK_EQ(ixy_get_mac(dev, mac), 0);
		CHECK(memcmp(mac, new_mac, 6) == 0);
		CHECK_EQ(ixy_set_mac(dev, port_mac),
			 0); /* back, the peer's neighbour entry uses it */
		CHECK_EQ(ixy_get_mac(dev, mac), 0);
		CHECK(memcmp(mac, port_mac, 6) == 0);
	}
}

static void test_rx_content(struct ixy_device *dev)
{
	const uint32_t count = 100;
	drain(dev);
	struct ixy_stats st0, st1;
	ixy_read_stats(dev, &st0);
	pid_t pid = peer_send(port_mac, count, "--len-mode varied");
	struct frame *fr = calloc(count + 16, sizeof(*fr));
	uint32_t n = collect(dev, fr, count + 16, count, 5000, 50, NULL);
	CHECK_EQ(reap(pid, false), 0);
	CHECK_EQ(n, count);
	uint64_t bytes = 0;
	uint8_t expect[MAX_FRAME];
	uint32_t bad = 0;
	for (uint32_t i = 0; i < MIN(n, count); i++) {
		uint32_t len = varied_len(i);
		pattern_frame(expect, len, i, port_mac, peer_mac);
		if (fr[i].len != len || memcmp(fr[i].data, expect, len) != 0)
			bad++;
		bytes += fr[i].len;
	}
	CHECK_EQ(bad, 0);
	ixy_read_stats(dev, &st1);
	CHECK_EQ(st1.rx_packets - st0.rx_packets, count);
	CHECK_EQ(st1.rx_bytes - st0.rx_bytes, bytes);
	CHECK_EQ(st1.rx_dropped - st0.rx_dropped, 0);
	printf("rx: %u frames of 60..1514 bytes identical, %llu bytes counted\n", n,
	       (unsigned long long)(st1.rx_bytes - st0.rx_bytes));
	free(fr);
}

static void test_rx_batch(struct ixy_device *dev)
{
	const uint32_t count = 2000;
	drain(dev);
	struct ixy_stats st0, st1;
	ixy_read_stats(dev, &st0);
	struct frame *fr = calloc(count + 16, sizeof(*fr));
	uint64_t t0 = now_ms();
	pid_t pid = peer_send(port_mac, count, "--len-mode fixed60");
	uint32_t max_batch = 0;
	uint32_t n = collect(dev, fr, count + 16, count, 10000, 50, &max_batch);
	uint64_t t1 = now_ms();
	CHECK_EQ(reap(pid, false), 0);
	CHECK_EQ(n, count);
	CHECK(max_batch > 1);
	uint32_t bad = 0;
	uint8_t expect[64];
	for (uint32_t i = 0; i < MIN(n, count); i++) {
		pattern_frame(expect, 60, i, port_mac, peer_mac);
		if (fr[i].len != 60 || memcmp(fr[i].data, expect, 60) != 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
	ixy_read_stats(dev, &st1);
	CHECK_EQ(st1.rx_packets - st0.rx_packets, count);
	CHECK_EQ(st1.rx_bytes - st0.rx_bytes, 60ull * count);
	CHECK_EQ(st1.rx_dropped - st0.rx_dropped, 0);
	printf("rx burst: %u frames in order, largest batch %u, %llu ms\n", n, max_batch,
	       (unsigned long long)(t1 - t0));
	free(fr);
}

static void test_rx_vlan(struct ixy_device *dev)
{
	drain(dev);
	pid_t pid = peer_send(port_mac, 1, "--len-mode fixed60 --vlan 0x602a"); /* PCP 3, VID 42 */
	struct frame fr[4];
	uint32_t n = collect(dev, fr, 4, 1, 3000, 30, NULL);
	CHECK_EQ(reap(pid, false), 0);
	CHECK_EQ(n, 1);
	uint8_t plain[60], expect[64];
	pattern_frame(plain, 60, 0, port_mac, peer_mac);
	memcpy(expect, plain, 12);
	memcpy(expect + 12, "\x81\x00\x60\x2a", 4);
	memcpy(expect + 16, plain + 12, 48);
	CHECK_EQ(fr[0].len, 64);
	CHECK(n == 1 && fr[0].len == 64 && memcmp(fr[0].data, expect, 64) == 0);
}

/* Start peer.py sniff and wait for it to be listening. */
static FILE *peer_sniff(uint32_t count)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ip netns exec %s python3 %s sniff %s %u 2", peer_ns, helper,
		 peer_if, count);
	fflush(NULL);
	FILE *p = popen(cmd, "r");
	char line[64];
	if (!p || !fgets(line, sizeof(line), p) || strncmp(line, "ready", 5) != 0) {
		fprintf(stderr, "peer sniffer did not start\n");
		if (p)
			pclose(p);
		return NULL;
	}
	return p;
}

/* Read the sniffer's lines; frame i must be pattern i of length len_of(i) from us to peer. */
static uint32_t sniffed_check(FILE *p, uint32_t count, uint32_t (*len_of)(uint32_t))
{
	char *line = malloc(8192);
	uint32_t n = 0, bad = 0;
	uint8_t expect[MAX_FRAME];
	char hex[2 * MAX_FRAME + 2];
	while (fgets(line, 8192, p)) {
		if (strncmp(line, "done", 4) == 0)
			break;
		if (n < count) {
			uint32_t len = len_of(n);
			pattern_frame(expect, len, n, peer_mac, port_mac);
			for (uint32_t k = 0; k < len; k++)
				sprintf(hex + 2 * k, "%02x", expect[k]);
			if (strncmp(line, hex, 2 * len) != 0 || line[2 * len] != '\n')
				bad++;
		}
		n++;
	}
	pclose(p);
	free(line);
	CHECK_EQ(bad, 0);
	return n;
}

static uint32_t fixed_len60(uint32_t i)
{
	(void)i;
	return 60;
}

static void test_tx_content(struct ixy_device *dev)
{
	const uint32_t count = 50;
	struct ixy_stats st0, st1;
	ixy_read_stats(dev, &st0);
	FILE *p = peer_sniff(count);
	CHECK(p != NULL);
	if (!p)
		return;
	uint32_t free0 = mempool_free_count(tx_pool);
	struct pkt_buf *bufs[count];
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < count; i++) {
		bufs[i] = pattern_buf(i, varied_len(i), peer_mac);
		bytes += varied_len(i);
	}
	CHECK_EQ(send_all(dev, 0, bufs, count), count);
	CHECK_EQ(sniffed_check(p, count, varied_len), count);
	CHECK_EQ(mempool_free_count(tx_pool), free0);
	ixy_read_stats(dev, &st1);
	CHECK_EQ(st1.tx_packets - st0.tx_packets, count);
	CHECK_EQ(st1.tx_bytes - st0.tx_bytes, bytes);
	printf("tx: %u frames of 60..1514 bytes arrived identical\n", count);
}

/* ---- talking to the peer's kernel ----------------------------------------------------- */

static uint16_t csum16(const uint8_t *data, uint32_t len)
{
	uint32_t sum = 0;
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)data[i] << 8 | data[i + 1];
	if (len & 1)
		sum += (uint32_t)data[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ARP for IPv4 over Ethernet (RFC 826): 28 bytes after the Ethernet header. */
static void build_arp(uint8_t *f, uint16_t op, const uint8_t eth_dst[6], const uint8_t sha[6],
		      uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
	memset(f, 0, 60);
	memcpy(f, eth_dst, 6);
	memcpy(f + 6, port_mac, 6);
	memcpy(f + 12, "\x08\x06\x00\x01\x08\x00\x06\x04", 8);
	f[20] = 0;
	f[21] = (uint8_t)op;
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, &spa, 4);
	memcpy(f + 32, tha, 6);
	memcpy(f + 38, &tpa, 4);
}

/* If f is an ARP request for our address or an ICMP echo request to it, turn it into the reply
 * in buf and return true. */
static bool answer(const uint8_t *f, uint32_t len, struct pkt_buf *buf, uint32_t *arps,
		   uint32_t *pings)
{
	uint32_t tpa, dst;
	pkt_reset(buf, 0); /* a fresh buffer: its length is set below */
	if (len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1) {
		memcpy(&tpa, f + 38, 4);
		if (tpa != port_ip)
			return false;
		uint32_t spa;
		memcpy(&spa, f + 28, 4);
		build_arp(pkt_data(buf), 2, f + 6, port_mac, port_ip, f + 22, spa);
		buf->len = 60;
		(*arps)++;
		return true;
	}
	if (len >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 1) {
		uint32_t ihl = (f[14] & 0xf) * 4u;
		memcpy(&dst, f + 30, 4);
		if (dst != port_ip || len < 14 + ihl + 8 || f[14 + ihl] != 8)
			return false;
		uint32_t ip_len = (uint32_t)f[16] << 8 | f[17];
		memcpy(pkt_data(buf), f, len);
		memcpy(pkt_data(buf), f + 6, 6);
		memcpy(pkt_data(buf) + 6, port_mac, 6);
		memcpy(pkt_data(buf) + 26, f + 30,
		       4); /* swapping addresses keeps the IP checksum */
		memcpy(pkt_data(buf) + 30, f + 26, 4);
		uint8_t *icmp = pkt_data(buf) + 14 + ihl;
		icmp[0] = 0; /* echo reply, RFC 792 */
		icmp[2] = icmp[3] = 0;
		uint16_t c = csum16(icmp, ip_len - ihl);
		icmp[2] = (uint8_t)(c >> 8);
		icmp[3] = (uint8_t)c;
		buf->len = len;
		(*pings)++;
		return true;
	}
	return false;
}

/* Answer ARP and ping until process pid exits; returns its exit status. */
static int responder(struct ixy_device *dev, pid_t pid, uint32_t *arps, uint32_t *pings)
{
	struct pkt_buf *bufs[32];
	uint64_t deadline = now_ms() + 15000;
	int status = -1;
	while ((status = reap(pid, true)) == -1 && now_ms() < deadline) {
		uint32_t got = ixy_rx_batch(dev, 0, bufs, 32);
		for (uint32_t i = 0; i < got; i++) {
			struct pkt_buf *reply = pkt_buf_alloc(tx_pool);
			if (reply && answer(pkt_data(bufs[i]), bufs[i]->len, reply, arps, pings))
				CHECK_EQ(send_all(dev, 0, &reply, 1), 1);
			else if (reply)
				pkt_buf_free(reply);
		}
		pkt_buf_free_batch(bufs, got);
		if (!got)
			sleep_ms(1);
	}
	if (status == -1) {
		kill(pid, SIGKILL);
		reap(pid, false);
	}
	return status;
}

static void test_kernel_arp_and_ping(struct ixy_device *dev)
{
	/* 1. We ask, the peer's kernel answers. */
	drain(dev);
	struct pkt_buf *req = pkt_buf_alloc(tx_pool);
	static const uint8_t zero[6];
	pkt_reset(req, 60);
	build_arp(pkt_data(req), 1, broadcast, port_mac, port_ip, zero, peer_ip);
	CHECK_EQ(send_all(dev, 0, &req, 1), 1);
	struct frame fr[8];
	uint32_t n = collect(dev, fr, 8, 1, 3000, 30, NULL);
	bool replied = false;
	for (uint32_t i = 0; i < MIN(n, 8u); i++) {
		const uint8_t *f = fr[i].data;
		uint32_t spa;
		memcpy(&spa, f + 28, 4);
		if (fr[i].len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 &&
		    spa == peer_ip && memcmp(f + 22, peer_mac, 6) == 0 &&
		    memcmp(f + 32, port_mac, 6) == 0 && memcmp(f, port_mac, 6) == 0)
			replied = true;
	}
	CHECK(replied);
	printf("ARP: the peer's kernel answered our request: %s\n", replied ? "yes" : "no");

	/* 2. The kernel asks and pings, we answer; its tools judge our replies. */
	uint32_t arps = 0, pings = 0;
	pid_t pid = spawn("ip netns exec %s ping -c 3 -i 0.2 -W 2 %s | grep -q ' 3 received'",
			  peer_ns, port_ip_str);
	CHECK_EQ(responder(dev, pid, &arps, &pings), 0);
	CHECK_EQ(pings, 3);
	printf("ping: 3 echo requests answered, the peer's ping got all 3 replies\n");
	if (run("command -v arping >/dev/null") == 0) {
		pid = spawn("ip netns exec %s arping -q -c 2 -C 2 -w 5 -W 0.2 -i %s %s", peer_ns,
			    peer_if, port_ip_str);
		CHECK_EQ(responder(dev, pid, &arps, &pings), 0);
		CHECK(arps >= 2);
		printf("arping: answered %u requests, arping got its replies\n", arps);
	}
}

/* Foreign frames then one marker to us; returns how many foreign frames arrived. */
static uint32_t foreign_frames_seen(struct ixy_device *dev, uint32_t foreign)
{
	drain(dev);
	pid_t pid = peer_send(foreign_mac, foreign, "--len-mode fixed60");
	CHECK_EQ(reap(pid, false), 0);
	pid = peer_send(port_mac, 1, "--len-mode fixed60");
	CHECK_EQ(reap(pid, false), 0);
	struct frame *fr = calloc(foreign + 8, sizeof(*fr));
	uint32_t n = collect(dev, fr, foreign + 8, 0, 0, 200, NULL);
	uint32_t seen = 0, marker = 0;
	for (uint32_t i = 0; i < MIN(n, foreign + 8); i++) {
		if (memcmp(fr[i].data, foreign_mac, 6) == 0)
			seen++;
		else if (memcmp(fr[i].data, port_mac, 6) == 0)
			marker++;
	}
	CHECK_EQ(marker, 1);
	free(fr);
	return seen;
}

static unsigned iface_flags(void)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/net/%s/flags", ifname);
	FILE *f = fopen(path, "r");
	unsigned flags = 0;
	if (f) {
		if (fscanf(f, "%x", &flags) != 1)
			flags = 0;
		fclose(f);
	}
	return flags;
}

static void test_promisc(struct ixy_device *dev)
{
	const unsigned iff_promisc = 0x100; /* netdevice(7) */
	CHECK(!dev->promisc);
	CHECK_EQ(foreign_frames_seen(dev, 20), 0);
	CHECK_EQ(ixy_set_promisc(dev, true), 0);
	CHECK(dev->promisc);
	CHECK(iface_flags() & iff_promisc);
	CHECK_EQ(foreign_frames_seen(dev, 20), 20);
	CHECK_EQ(ixy_set_promisc(dev, true), 0); /* again: no second membership */
	CHECK_EQ(ixy_set_promisc(dev, false), 0);
	CHECK(!(iface_flags() & iff_promisc));
	CHECK_EQ(foreign_frames_seen(dev, 20), 0);
	printf("promiscuous: foreign frames 0 off, 20 on, 0 off again\n");
}

static void test_tx_ring_full(struct ixy_device *dev, uint16_t queue, uint32_t ring_frames)
{
	const uint32_t count = 200;
	struct ixy_stats st0, st1;
	ixy_read_stats(dev, &st0);
	FILE *p = peer_sniff(count);
	CHECK(p != NULL);
	if (!p)
		return;
	uint32_t free0 = mempool_free_count(tx_pool);
	struct pkt_buf *bufs[count];
	for (uint32_t i = 0; i < count; i++)
		bufs[i] = pattern_buf(i, 60, peer_mac);
	/* An untouched ring of ring_frames takes exactly that many; the rest stay ours. */
	uint32_t first = ixy_tx_batch(dev, queue, bufs, count);
	CHECK_EQ(first, ring_frames);
	CHECK_EQ(mempool_free_count(tx_pool), free0 - (count - first));
	uint32_t rest = send_all(dev, queue, bufs + first, count - first);
	CHECK_EQ(first + rest, count);
	CHECK_EQ(mempool_free_count(tx_pool), free0);
	CHECK_EQ(sniffed_check(p, count, fixed_len60), count);
	ixy_read_stats(dev, &st1);
	CHECK_EQ(st1.tx_packets - st0.tx_packets, count);
	printf("tx ring full: first call took %u of %u, all %u arrived in order, pool whole\n",
	       first, count, count);
}

static void test_rx_drops(void)
{
	/* A 4-block ring (the minimum) holds about 1800 60-byte frames; send more without
	 * polling, then read what fitted. Everything is either received or counted dropped. */
	const uint32_t count = 6000;
	struct ixy_device_config cfg = {.rx_ring_size = 16};
	struct ixy_device *dev = af_packet_open(ifname, &cfg);
	CHECK(dev != NULL);
	if (!dev)
		return;
	drain(dev);
	struct ixy_stats st0, st1;
	ixy_read_stats(dev, &st0);
	pid_t pid = peer_send(port_mac, count, "--len-mode fixed60");
	CHECK_EQ(reap(pid, false), 0);
	uint32_t n = collect(dev, NULL, 0, 0, 0, 200, NULL);
	ixy_read_stats(dev, &st1);
	uint64_t dropped = st1.rx_dropped - st0.rx_dropped;
	CHECK(dropped > 0);
	CHECK_EQ(n + dropped, count);
	CHECK_EQ(st1.rx_packets - st0.rx_packets, n);
	printf("small rx ring: %u received + %llu counted dropped = %u sent\n", n,
	       (unsigned long long)dropped, count);
	port_close(dev);
}

static void test_fanout(void)
{
	const uint32_t count = 256;
	struct ixy_device_config cfg = {.rx_queues = 2};
	struct ixy_device *dev = af_packet_open(ifname, &cfg);
	CHECK(dev != NULL);
	if (!dev)
		return;
	CHECK_EQ(dev->rx_queues, 2);
	drain(dev);
	struct frame *fr = calloc(count + 16, sizeof(*fr));
	pid_t pid = peer_send(port_mac, count, "--udp 64");
	uint32_t n = collect(dev, fr, count + 16, count, 5000, 50, NULL);
	CHECK_EQ(reap(pid, false), 0);
	CHECK_EQ(n, count);
	uint32_t per_queue[2] = {0, 0}, inconsistent = 0;
	for (uint32_t i = 0; i < MIN(n, count); i++) {
		per_queue[fr[i].queue]++;
		/* Frames of one flow (source port) share one hash and one queue. */
		for (uint32_t j = 0; j < i; j++)
			if (memcmp(fr[j].data + 34, fr[i].data + 34, 2) == 0 &&
			    (fr[j].queue != fr[i].queue || fr[j].rss_hash != fr[i].rss_hash))
				inconsistent++;
	}
	CHECK(per_queue[0] > 0 && per_queue[1] > 0);
	CHECK_EQ(inconsistent, 0);
	printf("fanout: 64 flows, %u frames on queue 0, %u on queue 1\n", per_queue[0],
	       per_queue[1]);
	free(fr);
	port_close(dev);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"ifname", required_argument, NULL, 'i'},
					     {"peer-ns", required_argument, NULL, 'n'},
					     {"peer-if", required_argument, NULL, 'p'},
					     {"peer-ip", required_argument, NULL, 'a'},
					     {"port-ip", required_argument, NULL, 'b'},
					     {"helper", required_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'n':
			peer_ns = optarg;
			break;
		case 'p':
			peer_if = optarg;
			break;
		case 'a':
			peer_ip_str = optarg;
			break;
		case 'b':
			port_ip_str = optarg;
			break;
		case 'h':
			helper = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!ifname || !peer_ns || !peer_if || !peer_ip_str || !port_ip_str || !helper ||
	    inet_pton(AF_INET, peer_ip_str, &peer_ip) != 1 ||
	    inet_pton(AF_INET, port_ip_str, &port_ip) != 1) {
		fprintf(stderr,
			"usage: %s --ifname IF --peer-ns NS --peer-if IF --peer-ip A "
			"--port-ip A --helper peer.py (run by af_packet_netns.sh)\n",
			argv[0]);
		return 2;
	}
	CHECK_EQ(memory_configure(MEMORY_IOVA_VA, false), 0);
	tx_pool = mempool_create(TX_POOL_BUFS, 0);
	if (!tx_pool)
		return 1;
	char cmd[256], line[64];
	snprintf(cmd, sizeof(cmd), "ip netns exec %s cat /sys/class/net/%s/address", peer_ns,
		 peer_if);
	FILE *p = popen(cmd, "r");
	if (!p || !fgets(line, sizeof(line), p) || parse_mac(line, peer_mac) != 0) {
		fprintf(stderr, "cannot read the peer's MAC\n");
		return 1;
	}
	pclose(p);

	test_missing_interface();

	const uint32_t tx_ring = 64;
	struct ixy_device_config cfg = {.tx_queues = 2, .tx_ring_size = tx_ring};
	struct ixy_device *dev = af_packet_open(ifname, &cfg);
	CHECK(dev != NULL);
	if (!dev)
		return check_report("test_af_packet");
	test_link_and_mac(dev);
	/* The peer knows our address for good: no ARP probes of its own mid-test. */
	char mac[18];
	mac_str(mac, port_mac);
	CHECK_EQ(run("ip -n %s neigh replace %s lladdr %s nud permanent dev %s", peer_ns,
		     port_ip_str, mac, peer_if),
		 0);

	test_rx_content(dev);
	test_rx_batch(dev);
	test_rx_vlan(dev);
	test_tx_content(dev);
	test_kernel_arp_and_ping(dev);
	test_promisc(dev);
	test_tx_ring_full(dev, 1, tx_ring); /* queue 1 untouched so far */
	port_close(dev);

	test_rx_drops();
	test_fanout();
	CHECK_EQ(mempool_free_count(tx_pool), TX_POOL_BUFS);
	mempool_free(tx_pool);
	return check_report("test_af_packet");
}
