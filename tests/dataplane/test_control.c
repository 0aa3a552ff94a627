/*
 * test_control.c: the control thread's work, driven by hand (control_poll) over a dataplane with
 * fake devices: connected routes, route add/delete and their errors, next-hop resolution with
 * held packets (ARP request out, reply in, held packets sent in order), the pending limit, and
 * giving up after unanswered probes.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "control.h"
#include "dataplane.h"
#include "fake_dev.h"
#include "memory.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static struct mempool *pool;
static const uint8_t host_a_mac[6] = {0x0a, 0, 0, 0, 0, 0xa};
static const uint8_t gw_mac[6] = {0x0a, 0, 0, 0, 0, 0x99};

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A UDP-ish datagram from 10.1.0.2 to dst; byte 40 carries a tag to check order. */
static struct pkt_buf *datagram(const uint8_t *router_mac, uint32_t dst, uint8_t tag)
{
	struct pkt_buf *b = pkt_buf_alloc(pool);
	pkt_reset(b, 54);
	uint8_t *f = pkt_data(b);
	memset(f, 0, 64);
	memcpy(f, router_mac, 6);
	memcpy(f + 6, host_a_mac, 6);
	f[12] = 8;
	uint8_t *ip = f + 14;
	ip[0] = 0x45, ip[3] = 40, ip[8] = 64, ip[9] = 17;
	uint32_t s = htonl(IP(10, 1, 0, 2)), d = htonl(dst);
	memcpy(ip + 12, &s, 4), memcpy(ip + 16, &d, 4);
	uint16_t c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	f[40] = tag;
	return b;
}

static struct pkt_buf *arp_reply(const uint8_t *router_mac, uint32_t spa, uint32_t tpa)
{
	struct pkt_buf *b = pkt_buf_alloc(pool);
	pkt_reset(b, 60);
	uint8_t *f = pkt_data(b);
	memset(f, 0, 60);
	memcpy(f, router_mac, 6);
	memcpy(f + 6, gw_mac, 6);
	f[12] = 8, f[13] = 6, f[15] = 1, f[16] = 8, f[18] = 6, f[19] = 4, f[21] = 2;
	memcpy(f + 22, gw_mac, 6);
	uint32_t s = htonl(spa), t = htonl(tpa);
	memcpy(f + 28, &s, 4);
	memcpy(f + 32, router_mac, 6);
	memcpy(f + 38, &t, 4);
	return b;
}

int main(void)
{
	if (memory_configure(MEMORY_IOVA_VA, false) != 0)
		return 1;
	pool = mempool_create(1024, 0);
	struct dataplane *dp = dataplane_create(1);
	struct fake_dev *d0 = fake_dev_create(1, 2), *d1 = fake_dev_create(2, 2);
	CHECK(pool && dp && d0 && d1);
	CHECK_EQ(dp_add_port(dp, "p0", &d0->base), 0);
	CHECK_EQ(dp_add_port(dp, "p1", &d1->base), 1);
	CHECK_EQ(dp_iface_add_addr(dp, 0, IP(10, 1, 0, 1), 24), 0);
	CHECK_EQ(dp_iface_add_addr(dp, 1, IP(10, 2, 0, 1), 24), 0);
	struct control *ctl = control_create(dp, NULL);
	CHECK(ctl != NULL);
	CHECK_EQ(dp_assign_queues(dp), 0);
	struct dp_ctx *w = dp->ctx[0];

	/* Connected routes exist and cannot be removed or overridden. */
	uint32_t gw = 1;
	uint16_t iface = 9;
	CHECK_EQ(control_get_route(ctl, IP(10, 2, 0, 0), 24, &gw, &iface), 0);
	CHECK_EQ(gw, 0);
	CHECK_EQ(iface, 1);
	CHECK_EQ(control_del_route(ctl, IP(10, 2, 0, 0), 24), -EPERM);
	/* Route errors: host bits, unreachable gateway, missing route. */
	CHECK_EQ(control_add_route(ctl, IP(10, 9, 0, 1), 16, IP(10, 2, 0, 2)), -EINVAL);
	CHECK_EQ(control_add_route(ctl, IP(10, 9, 0, 0), 16, IP(172, 16, 0, 1)), -ENETUNREACH);
	CHECK_EQ(control_del_route(ctl, IP(10, 8, 0, 0), 16), -ENOENT);
	CHECK_EQ(control_add_route(ctl, IP(10, 9, 0, 0), 16, IP(10, 2, 0, 2)), 0);
	CHECK_EQ(control_get_route(ctl, IP(10, 9, 0, 0), 16, &gw, &iface), 0);
	CHECK_EQ(gw, IP(10, 2, 0, 2));
	CHECK_EQ(iface, 1);

	/* Six packets to an unresolved gateway: the worker hands them over, the control thread
	 * sends one ARP request and holds the latest NEIGH_PENDING_MAX (4). */
	for (uint8_t i = 0; i < 6; i++) {
		struct pkt_buf *b = datagram(d0->mac, IP(10, 9, 3, 3), i);
		dp_process_rx(w, 0, &b, 1);
	}
	dp_ctx_flush(w);
	CHECK_EQ(d1->n_tx, 0);
	control_poll(ctl);
	CHECK_EQ(d1->n_tx, 1);
	if (d1->n_tx == 1) {
		uint8_t *f = pkt_data(d1->tx[0]);
		CHECK_EQ(f[12], 8);
		CHECK_EQ(f[13], 6);
		CHECK_EQ(f[21], 1);
		uint32_t tpa;
		memcpy(&tpa, f + 38, 4);
		CHECK_EQ(ntohl(tpa), IP(10, 2, 0, 2));
	}
	struct dp_counters k;
	dp_read_port_counters(dp, 0, &k);
	CHECK_EQ(k.drops[DP_DROP_ARP_UNRESOLVED], 2);
	/* The reply arrives on p1: learnt, held packets go out in order, oldest kept first. */
	struct pkt_buf *r = arp_reply(d1->mac, IP(10, 2, 0, 2), IP(10, 2, 0, 1));
	dp_process_rx(w, 1, &r, 1);
	dp_ctx_flush(w);
	control_poll(ctl);
	CHECK_EQ(d1->n_tx, 5);
	for (uint32_t i = 1; i < d1->n_tx; i++) {
		uint8_t *f = pkt_data(d1->tx[i]);
		CHECK(memcmp(f, gw_mac, 6) == 0);
		CHECK_EQ(f[40], i + 1); /* tags 2, 3, 4, 5 */
		CHECK_EQ(f[22], 63);
	}
	/* From now on the worker sends directly. */
	struct pkt_buf *b = datagram(d0->mac, IP(10, 9, 3, 4), 77);
	dp_process_rx(w, 0, &b, 1);
	dp_ctx_flush(w);
	CHECK_EQ(d1->n_tx, 6);

	/* Deleting the route: no route any more (Destination Unreachable back to the sender). */
	CHECK_EQ(control_del_route(ctl, IP(10, 9, 0, 0), 16), 0);
	b = datagram(d0->mac, IP(10, 9, 3, 4), 78);
	dp_process_rx(w, 0, &b, 1);
	dp_ctx_flush(w);
	CHECK_EQ(d1->n_tx, 6);
	dp_read_port_counters(dp, 0, &k);
	CHECK_EQ(k.drops[DP_DROP_NO_ROUTE], 1);

	/* A connected destination nobody answers for: probes, then the held packet is dropped. */
	b = datagram(d0->mac, IP(10, 2, 0, 77), 1);
	dp_process_rx(w, 0, &b, 1);
	dp_ctx_flush(w);
	uint32_t arp_before = d1->n_tx;
	for (int i = 0; i < 45; i++) { /* 4.5 s of 100 ms timer rounds */
		control_poll(ctl);
		struct timespec ts = {.tv_nsec = 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	control_poll(ctl);
	printf("unanswered: %u ARP requests\n", d1->n_tx - arp_before);
	CHECK_EQ(d1->n_tx - arp_before, 3);
	/* 2 from the pending limit, this one, and the Destination Unreachable above, which was
	 * held for 10.1.0.2 (never resolved here) and timed out the same way. */
	dp_read_port_counters(dp, 0, &k);
	CHECK_EQ(k.drops[DP_DROP_ARP_UNRESOLVED], 4);

	/* Bulk replacement: checked first, all or nothing; connected routes stay. */
	struct control_route bulk[3] = {
	    {.prefix = IP(10, 20, 0, 0), .len = 16, .gw = IP(10, 2, 0, 2)},
	    {.prefix = IP(10, 21, 0, 0), .len = 16, .gw = IP(10, 1, 0, 9)},
	    {.prefix = IP(10, 22, 0, 1), .len = 16, .gw = IP(10, 2, 0, 2)}, /* host bits */
	};
	CHECK_EQ(control_replace_routes(ctl, bulk, 3), -EINVAL);
	CHECK_EQ(control_get_route(ctl, IP(10, 20, 0, 0), 16, &gw, &iface), -ENOENT);
	CHECK_EQ(control_replace_routes(ctl, bulk, 2), 0);
	CHECK_EQ(control_get_route(ctl, IP(10, 21, 0, 0), 16, &gw, &iface), 0);
	CHECK_EQ(gw, IP(10, 1, 0, 9));
	CHECK_EQ(iface, 0);
	CHECK_EQ(control_get_route(ctl, IP(10, 1, 0, 0), 24, &gw, &iface), 0);
	struct control_route conn = {.prefix = IP(10, 1, 0, 0), .len = 24, .gw = IP(10, 2, 0, 2)};
	CHECK_EQ(control_replace_routes(ctl, &conn, 1), -EPERM);
	/* A neighbour set by hand is used at once. */
	uint8_t nb_mac[6] = {0x0a, 0, 0, 0, 0, 0x42};
	CHECK_EQ(control_set_neighbour(ctl, IP(10, 2, 0, 2), nb_mac), 0);
	CHECK_EQ(control_set_neighbour(ctl, IP(172, 16, 0, 2), nb_mac), -ENETUNREACH);
	uint32_t before = d1->n_tx;
	b = datagram(d0->mac, IP(10, 20, 1, 1), 5);
	dp_process_rx(w, 0, &b, 1);
	dp_ctx_flush(w);
	CHECK_EQ(d1->n_tx, before + 1);
	if (d1->n_tx == before + 1)
		CHECK(memcmp(pkt_data(d1->tx[before]), nb_mac, 6) == 0);

	control_free(ctl);
	fake_close(&d0->base);
	fake_close(&d1->base);
	dataplane_free(dp);
	CHECK_EQ(mempool_free_count(pool), mempool_size(pool));
	mempool_free(pool);
	return check_report("test_control");
}
