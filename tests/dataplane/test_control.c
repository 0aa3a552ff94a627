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
#include "neigh.h"
#include "pkt.h"

#define IP(a, b, c, d)	    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define A4(a, b, c, d)	    ip_addr_v4(IP(a, b, c, d))
#define P4(a, b, c, d, len) ip_prefix_v4(IP(a, b, c, d), len)

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

/* A unicast route of owner via one gateway (iface IFACE_ID_NONE: from the gateway). */
static int route_via(struct control *ctl, uint8_t owner, struct ip_prefix p, struct ip_addr gw,
		     iface_id_t iface)
{
	struct control_path path = {.gw = gw, .iface = iface};
	struct control_route r = {.prefix = p, .n_paths = 1, .paths = &path};
	return control_route_set(ctl, owner, &r);
}

/* The selected route for p is a single path via gw (family 0: on-link) out of iface. */
static bool route_is(struct control *ctl, int owner, struct ip_prefix p, uint8_t want_owner,
		     struct ip_addr gw, iface_id_t iface)
{
	struct control_route_info info;
	if (control_get_route(ctl, owner, &p, &info) != 0)
		return false;
	return info.owner == want_owner && info.kind == CONTROL_ROUTE_UNICAST &&
	       info.n_paths == 1 && ip_addr_equal(&info.paths[0].gw, &gw) &&
	       info.paths[0].iface == iface && ip_prefix_equal(&info.prefix, &p);
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

/* Resolution, connected routes, single-owner route changes (the test's original part). */
static void test_resolution_and_routes(void)
{
	struct dataplane *dp = dataplane_create(1);
	struct fake_dev *d0 = fake_dev_create(1, 2), *d1 = fake_dev_create(2, 2);
	CHECK(pool && dp && d0 && d1);
	CHECK_EQ(dp_add_port(dp, "p0", &d0->base), 0);
	CHECK_EQ(dp_add_port(dp, "p1", &d1->base), 1);
	struct ip_prefix a0 = P4(10, 1, 0, 1, 24), a1 = P4(10, 2, 0, 1, 24);
	CHECK_EQ(dp_iface_add_addr(dp, 0, &a0), 0);
	CHECK_EQ(dp_iface_add_addr(dp, 1, &a1), 0);
	struct control *ctl = control_create(dp, NULL);
	CHECK(ctl != NULL);
	CHECK_EQ(dp_assign_queues(dp), 0);
	struct dp_ctx *w = dp_worker_ctx(dp, 0);
	const struct ip_addr none = {0};

	/* Connected routes exist (owner connected, on-link on their interface) and cannot be
	 * removed or overridden. */
	CHECK(route_is(ctl, -1, P4(10, 2, 0, 0, 24), CONTROL_OWNER_CONNECTED, none, 1));
	CHECK(route_is(ctl, CONTROL_OWNER_CONNECTED, P4(10, 1, 0, 0, 24), CONTROL_OWNER_CONNECTED,
		       none, 0));
	struct ip_prefix conn_p = P4(10, 2, 0, 0, 24);
	CHECK_EQ(control_route_delete(ctl, CONTROL_OWNER_CONNECTED, &conn_p), -EPERM);
	CHECK_EQ(control_route_delete(ctl, CONTROL_OWNER_API, &conn_p), -ENOENT);
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_API, conn_p, A4(10, 1, 0, 9), IFACE_ID_NONE), -EPERM);
	CHECK(route_is(ctl, -1, conn_p, CONTROL_OWNER_CONNECTED, none, 1));
	/* Route errors: host bits, unreachable gateway, missing route. */
	CHECK_EQ(
	    route_via(ctl, CONTROL_OWNER_API, P4(10, 9, 0, 1, 16), A4(10, 2, 0, 2), IFACE_ID_NONE),
	    -EINVAL);
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_API, P4(10, 9, 0, 0, 16), A4(172, 16, 0, 1),
			   IFACE_ID_NONE),
		 -ENETUNREACH);
	struct ip_prefix p8 = P4(10, 8, 0, 0, 16), p9 = P4(10, 9, 0, 0, 16);
	CHECK_EQ(control_route_delete(ctl, CONTROL_OWNER_API, &p8), -ENOENT);
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_API, p9, A4(10, 2, 0, 2), IFACE_ID_NONE), 0);
	CHECK(route_is(ctl, -1, p9, CONTROL_OWNER_API, A4(10, 2, 0, 2), 1));

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
	CHECK_EQ(control_route_delete(ctl, CONTROL_OWNER_API, &p9), 0);
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
	struct control_path bulk_paths[3] = {
	    {.gw = A4(10, 2, 0, 2), .iface = IFACE_ID_NONE},
	    {.gw = A4(10, 1, 0, 9), .iface = IFACE_ID_NONE},
	    {.gw = A4(10, 2, 0, 2), .iface = IFACE_ID_NONE},
	};
	struct control_route bulk[3] = {
	    {.prefix = P4(10, 20, 0, 0, 16), .n_paths = 1, .paths = &bulk_paths[0]},
	    {.prefix = P4(10, 21, 0, 0, 16), .n_paths = 1, .paths = &bulk_paths[1]},
	    {.prefix = P4(10, 22, 0, 1, 16), .n_paths = 1, .paths = &bulk_paths[2]}, /* host bits */
	};
	struct control_route_info info;
	size_t bad = 99;
	CHECK_EQ(control_routes_replace(ctl, CONTROL_OWNER_API, bulk, 3, &bad), -EINVAL);
	CHECK_EQ(bad, 2);
	CHECK_EQ(control_get_route(ctl, -1, &bulk[0].prefix, &info), -ENOENT);
	CHECK_EQ(control_routes_replace(ctl, CONTROL_OWNER_API, bulk, 2, &bad), 0);
	CHECK(route_is(ctl, -1, bulk[1].prefix, CONTROL_OWNER_API, A4(10, 1, 0, 9), 0));
	CHECK(route_is(ctl, -1, P4(10, 1, 0, 0, 24), CONTROL_OWNER_CONNECTED, none, 0));
	struct control_path conn_path = {.gw = A4(10, 2, 0, 2), .iface = IFACE_ID_NONE};
	struct control_route conn = {
	    .prefix = P4(10, 1, 0, 0, 24), .n_paths = 1, .paths = &conn_path};
	CHECK_EQ(control_routes_replace(ctl, CONTROL_OWNER_API, &conn, 1, &bad), -EPERM);
	CHECK_EQ(bad, 0);
	/* A neighbour set by hand is used at once. */
	uint8_t nb_mac[6] = {0x0a, 0, 0, 0, 0, 0x42};
	struct ip_addr nb = A4(10, 2, 0, 2), far = A4(172, 16, 0, 2);
	CHECK_EQ(control_set_neighbour(ctl, &nb, nb_mac), 0);
	CHECK_EQ(control_set_neighbour(ctl, &far, nb_mac), -ENETUNREACH);
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
}

/* ---- routes of several owners, kinds, ECMP, listing (the RIB behind control.h) ------------- */

/* Three ports: p0 10.1.0.1/24, p1 10.2.0.1/24, p2 10.3.0.1/24; one worker; a control. */
struct cbed {
	struct dataplane *dp;
	struct fake_dev *d[3];
	struct control *ctl;
	struct dp_ctx *w;
};

static void cbed_init(struct cbed *t)
{
	memset(t, 0, sizeof(*t));
	t->dp = dataplane_create(1);
	CHECK(t->dp != NULL);
	for (uint8_t i = 0; i < 3; i++) {
		char name[8];
		snprintf(name, sizeof(name), "p%u", i);
		t->d[i] = fake_dev_create((uint8_t)(i + 1), 2);
		CHECK_EQ(dp_add_port(t->dp, name, &t->d[i]->base), i);
		struct ip_prefix a = P4(10, i + 1, 0, 1, 24);
		CHECK_EQ(dp_iface_add_addr(t->dp, dp_port_iface(t->dp, i), &a), 0);
	}
	t->ctl = control_create(t->dp, NULL);
	CHECK(t->ctl != NULL);
	CHECK_EQ(dp_assign_queues(t->dp), 0);
	t->w = dp_worker_ctx(t->dp, 0);
}

static void cbed_free(struct cbed *t)
{
	control_free(t->ctl);
	for (int i = 0; i < 3; i++)
		fake_close(&t->d[i]->base);
	dataplane_free(t->dp);
	CHECK_EQ(mempool_free_count(pool), mempool_size(pool));
}

static int route_kind(struct control *ctl, uint8_t owner, struct ip_prefix p, uint8_t kind,
		      uint8_t precedence)
{
	struct control_route r = {.prefix = p, .kind = kind, .precedence = precedence};
	return control_route_set(ctl, owner, &r);
}

static int route_prec(struct control *ctl, uint8_t owner, struct ip_prefix p, struct ip_addr gw,
		      uint8_t precedence)
{
	struct control_path path = {.gw = gw, .iface = IFACE_ID_NONE};
	struct control_route r = {
	    .prefix = p, .precedence = precedence, .n_paths = 1, .paths = &path};
	return control_route_set(ctl, owner, &r);
}

/* What forwarding does for dst (flow hash h): leaves via nexthop_ip on iface, by owner's route. */
static bool fib_is(struct control *ctl, struct ip_addr dst, uint32_t h, uint8_t owner,
		   struct ip_addr nh, iface_id_t iface)
{
	struct control_fib f;
	if (control_fib_lookup(ctl, &dst, h, &f) != 0)
		return false;
	return f.route.owner == owner && f.route.selected && ip_addr_equal(&f.nexthop_ip, &nh) &&
	       f.nexthop_iface == iface;
}

static size_t n_nexthops(struct control *ctl)
{
	struct control_table_sizes sz;
	control_table_sizes(ctl, &sz);
	return sz.nexthops;
}

/*
 * Several owners on one prefix: the lowest precedence is selected, ties go to the lower owner
 * number; deleting the selected route falls back to the next; one owner's replace or flush
 * leaves the others' routes alone.
 */
static void test_owners(void)
{
	struct cbed t;
	cbed_init(&t);
	struct control *ctl = t.ctl;
	struct ip_prefix p = P4(10, 30, 0, 0, 16);
	struct ip_addr dst = A4(10, 30, 5, 5);
	struct control_route_info info, alt[CONTROL_ROUTE_OWNERS];
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_KERNEL, p, A4(10, 2, 0, 3), IFACE_ID_NONE), 0);
	CHECK(fib_is(ctl, dst, 0, CONTROL_OWNER_KERNEL, A4(10, 2, 0, 3), 1));
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_FPM, p, A4(10, 1, 0, 8), IFACE_ID_NONE), 0);
	CHECK(fib_is(ctl, dst, 0, CONTROL_OWNER_FPM, A4(10, 1, 0, 8), 0)); /* 20 < 30 */
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_API, p, A4(10, 1, 0, 9), IFACE_ID_NONE), 0);
	CHECK(fib_is(ctl, dst, 0, CONTROL_OWNER_API, A4(10, 1, 0, 9), 0)); /* 1 < 20 */
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_CONFIG, p, A4(10, 2, 0, 2), IFACE_ID_NONE), 0);
	/* config and API both have 1: the lower owner number (config) wins. */
	CHECK(fib_is(ctl, dst, 0, CONTROL_OWNER_CONFIG, A4(10, 2, 0, 2), 1));
	CHECK(route_is(ctl, -1, p, CONTROL_OWNER_CONFIG, A4(10, 2, 0, 2), 1));
	CHECK_EQ(control_get_route(ctl, -1, &p, &info), 0);
	CHECK(info.selected && info.precedence == 1);
	CHECK_EQ(control_get_route(ctl, CONTROL_OWNER_API, &p, &info), 0);
	CHECK(!info.selected && info.precedence == 1 && info.owner == CONTROL_OWNER_API);
	CHECK_EQ(control_get_route(ctl, CONTROL_OWNER_KERNEL, &p, &info), 0);
	CHECK(!info.selected && info.precedence == 30);
	CHECK_EQ(control_route_alternatives(ctl, &p, alt, CONTROL_ROUTE_OWNERS), 3);
	CHECK(alt[0].owner == CONTROL_OWNER_API && alt[1].owner == CONTROL_OWNER_KERNEL &&
	      alt[2].owner == CONTROL_OWNER_FPM);
	/* Deleting the selected route: the next one (API) takes over, in the FIB too. */
	CHECK_EQ(control_route_delete(ctl, CONTROL_OWNER_CONFIG, &p), 0);
	CHECK(fib_is(ctl, dst, 0, CONTROL_OWNER_API, A4(10, 1, 0, 9), 0));
	/* API's route moved behind FPM's by its own precedence. */
	CHECK_EQ(route_prec(ctl, CONTROL_OWNER_API, p, A4(10, 1, 0, 9), 50), 0);
	CHECK(fib_is(ctl, dst, 0, CONTROL_OWNER_FPM, A4(10, 1, 0, 8), 0));
	CHECK_EQ(control_get_route(ctl, CONTROL_OWNER_API, &p, &info), 0);
	CHECK(!info.selected && info.precedence == 50);
	/* Kernel at 20 ties with FPM's default 20: kernel (3) is below FPM (4). */
	CHECK_EQ(route_prec(ctl, CONTROL_OWNER_KERNEL, p, A4(10, 2, 0, 3), 20), 0);
	CHECK(fib_is(ctl, dst, 0, CONTROL_OWNER_KERNEL, A4(10, 2, 0, 3), 1));
	/* Flushing the kernel's routes leaves FPM's and API's. */
	CHECK_EQ(control_routes_flush(ctl, CONTROL_OWNER_KERNEL), 1);
	CHECK(fib_is(ctl, dst, 0, CONTROL_OWNER_FPM, A4(10, 1, 0, 8), 0));
	CHECK_EQ(control_get_route(ctl, CONTROL_OWNER_API, &p, &info), 0);
	CHECK_EQ(control_get_route(ctl, CONTROL_OWNER_KERNEL, &p, &info), -ENOENT);
	/* Replacing API's routes: its 10.30/16 goes, FPM's stays selected, config's other route
	 * stays. */
	struct ip_prefix q = P4(10, 31, 0, 0, 16), r = P4(10, 32, 0, 0, 16);
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_CONFIG, q, A4(10, 3, 0, 3), IFACE_ID_NONE), 0);
	struct control_path rp = {.gw = A4(10, 2, 0, 9), .iface = IFACE_ID_NONE};
	struct control_route rr = {.prefix = r, .n_paths = 1, .paths = &rp};
	CHECK_EQ(control_routes_replace(ctl, CONTROL_OWNER_API, &rr, 1, NULL), 0);
	CHECK_EQ(control_get_route(ctl, CONTROL_OWNER_API, &p, &info), -ENOENT);
	CHECK(fib_is(ctl, dst, 0, CONTROL_OWNER_FPM, A4(10, 1, 0, 8), 0));
	CHECK(fib_is(ctl, A4(10, 31, 0, 1), 0, CONTROL_OWNER_CONFIG, A4(10, 3, 0, 3), 2));
	CHECK(fib_is(ctl, A4(10, 32, 0, 1), 0, CONTROL_OWNER_API, A4(10, 2, 0, 9), 1));
	struct control_table_sizes sz;
	control_table_sizes(ctl, &sz);
	CHECK_EQ(sz.routes, 3 + 3); /* three connected, 10.30, 10.31, 10.32 */
	CHECK_EQ(sz.routes_by_owner[CONTROL_OWNER_CONNECTED], 3);
	CHECK_EQ(sz.routes_by_owner[CONTROL_OWNER_CONFIG], 1);
	CHECK_EQ(sz.routes_by_owner[CONTROL_OWNER_API], 1);
	CHECK_EQ(sz.routes_by_owner[CONTROL_OWNER_KERNEL], 0);
	CHECK_EQ(sz.routes_by_owner[CONTROL_OWNER_FPM], 1);
	/* Flushing API's: 10.32 has no route left, in the FIB either; the rest stays. */
	CHECK_EQ(control_routes_flush(ctl, CONTROL_OWNER_API), 1);
	struct ip_addr d32 = A4(10, 32, 0, 1);
	struct control_fib f;
	CHECK_EQ(control_fib_lookup(ctl, &d32, 0, &f), -ENOENT);
	CHECK(fib_is(ctl, dst, 0, CONTROL_OWNER_FPM, A4(10, 1, 0, 8), 0));
	CHECK(fib_is(ctl, A4(10, 31, 0, 1), 0, CONTROL_OWNER_CONFIG, A4(10, 3, 0, 3), 2));
	/* The last route of a prefix deleted: no route. */
	CHECK_EQ(control_route_delete(ctl, CONTROL_OWNER_FPM, &p), 0);
	CHECK_EQ(control_fib_lookup(ctl, &dst, 0, &f), -ENOENT);
	CHECK_EQ(control_get_route(ctl, -1, &p, &info), -ENOENT);
	cbed_free(&t);
}

/* Routes without next hops: blackhole, unreachable, local, punt; a punted packet reaches the
 * control thread, which counts it as no_host. */
static void test_kinds(void)
{
	struct cbed t;
	cbed_init(&t);
	struct control *ctl = t.ctl;
	static const uint8_t kinds[] = {CONTROL_ROUTE_BLACKHOLE, CONTROL_ROUTE_UNREACHABLE,
					CONTROL_ROUTE_LOCAL, CONTROL_ROUTE_PUNT};
	for (unsigned k = 0; k < 4; k++) {
		struct ip_prefix p = P4(10, 40 + k, 0, 0, 16);
		CHECK_EQ(route_kind(ctl, CONTROL_OWNER_CONFIG, p, kinds[k], 0), 0);
		struct control_route_info info;
		CHECK_EQ(control_get_route(ctl, -1, &p, &info), 0);
		CHECK(info.kind == kinds[k] && info.n_paths == 0 &&
		      info.owner == CONTROL_OWNER_CONFIG);
		struct control_fib f;
		struct ip_addr dst = A4(10, 40 + k, 1, 1);
		CHECK_EQ(control_fib_lookup(ctl, &dst, 0, &f), 0);
		CHECK(f.route.kind == kinds[k] && f.nexthop_ip.family == 0);
		CHECK(strcmp(control_route_kind_name(kinds[k]),
			     (const char *[]){"blackhole", "unreachable", "local", "punt"}[k]) ==
		      0);
	}
	/* A kind with a next hop, unicast without one, an unknown kind. */
	struct control_path path = {.gw = A4(10, 2, 0, 2), .iface = IFACE_ID_NONE};
	struct control_route r = {.prefix = P4(10, 49, 0, 0, 16),
				  .kind = CONTROL_ROUTE_BLACKHOLE,
				  .n_paths = 1,
				  .paths = &path};
	CHECK_EQ(control_route_set(ctl, CONTROL_OWNER_API, &r), -EINVAL);
	r.kind = CONTROL_ROUTE_UNICAST, r.n_paths = 0;
	CHECK_EQ(control_route_set(ctl, CONTROL_OWNER_API, &r), -EINVAL);
	r.kind = 6, r.n_paths = 0;
	CHECK_EQ(control_route_set(ctl, CONTROL_OWNER_API, &r), -EINVAL);
	/* A blackhole of config beats the API's unicast route for the same prefix. */
	struct ip_prefix p0 = P4(10, 40, 0, 0, 16);
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_API, p0, A4(10, 2, 0, 2), IFACE_ID_NONE), 0);
	struct control_route_info info;
	CHECK_EQ(control_get_route(ctl, -1, &p0, &info), 0);
	CHECK(info.kind == CONTROL_ROUTE_BLACKHOLE && info.owner == CONTROL_OWNER_CONFIG);

	/* Punt: the worker hands the packet over, the control thread counts no_host. */
	struct pkt_buf *b = datagram(t.d[0]->mac, IP(10, 43, 0, 1), 1);
	dp_process_rx(t.w, 0, &b, 1);
	dp_ctx_flush(t.w);
	struct dp_counters k;
	dp_read_port_counters(t.dp, 0, &k);
	CHECK_EQ(k.drops[DP_DROP_NO_HOST], 0); /* not yet: it waits in the ring */
	control_poll(ctl);
	dp_read_port_counters(t.dp, 0, &k);
	CHECK_EQ(k.drops[DP_DROP_NO_HOST], 1);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(t.d[i]->n_tx, 0);
	/* Blackhole: counted, nothing sent, nothing for the control thread. */
	b = datagram(t.d[0]->mac, IP(10, 40, 0, 1), 2);
	dp_process_rx(t.w, 0, &b, 1);
	dp_ctx_flush(t.w);
	struct dp_ctl_msg m;
	CHECK(!dp_ctl_pop(t.dp, 0, &m));
	dp_read_port_counters(t.dp, 0, &k);
	CHECK_EQ(k.drops[DP_DROP_BLACKHOLE], 1);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(t.d[i]->n_tx, 0);
	cbed_free(&t);
}

/* The i-th of 16 gateways: 10.2.0.10.. on p1 and 10.3.0.10.. on p2. */
static struct ip_addr ecmp_gw(unsigned i)
{
	return A4(10, 2 + i % 2, 0, 10 + i / 2);
}

static void test_ecmp(unsigned seed)
{
	struct cbed t;
	cbed_init(&t);
	struct control *ctl = t.ctl;
	struct control_path paths[CONTROL_ROUTE_PATHS_MAX + 1];
	for (unsigned i = 0; i <= CONTROL_ROUTE_PATHS_MAX; i++)
		paths[i] = (struct control_path){.gw = ecmp_gw(i), .iface = IFACE_ID_NONE};
	size_t nh0 = n_nexthops(ctl);
	struct ip_prefix p = P4(10, 50, 0, 0, 16);
	struct control_route r = {.prefix = p, .n_paths = 16, .paths = paths};
	CHECK_EQ(control_route_set(ctl, CONTROL_OWNER_API, &r), 0);
	CHECK_EQ(n_nexthops(ctl), nh0 + 16 + 1); /* sixteen gateways and their group */
	struct control_route_info info;
	CHECK_EQ(control_get_route(ctl, -1, &p, &info), 0);
	CHECK_EQ(info.n_paths, 16);
	unsigned seen = 0;
	for (unsigned i = 0; i < info.n_paths; i++)
		for (unsigned j = 0; j < 16; j++)
			if (ip_addr_equal(&info.paths[i].gw, &paths[j].gw) &&
			    info.paths[i].iface == (j % 2 ? 2 : 1))
				seen |= 1u << j;
	CHECK_EQ(seen, 0xffff);
	/* The same set in another order: the same group, no new next hop. */
	struct control_path rev[16];
	for (unsigned i = 0; i < 16; i++)
		rev[i] = paths[15 - i];
	struct control_route r2 = {.prefix = P4(10, 51, 0, 0, 16), .n_paths = 16, .paths = rev};
	CHECK_EQ(control_route_set(ctl, CONTROL_OWNER_API, &r2), 0);
	CHECK_EQ(n_nexthops(ctl), nh0 + 17);
	/* Flows over the group: every member carries some, in roughly even shares (a uniform
	 * hash gives each of 16 members 1/16; allow half of that), one hash always one member. */
	srand(seed);
	unsigned count[16] = {0}, n_flows = 16 * 512;
	struct ip_addr dst = A4(10, 50, 1, 1);
	for (unsigned f = 0; f < n_flows; f++) {
		uint32_t h = (uint32_t)rand() << 16 ^ (uint32_t)rand();
		struct control_fib a, b;
		CHECK_EQ(control_fib_lookup(ctl, &dst, h, &a), 0);
		CHECK_EQ(control_fib_lookup(ctl, &dst, h, &b), 0);
		CHECK(ip_addr_equal(&a.nexthop_ip, &b.nexthop_ip));
		for (unsigned j = 0; j < 16; j++)
			if (ip_addr_equal(&a.nexthop_ip, &paths[j].gw)) {
				count[j]++;
				CHECK_EQ(a.nexthop_iface, j % 2 ? 2 : 1);
			}
	}
	unsigned total = 0;
	for (unsigned j = 0; j < 16; j++) {
		total += count[j];
		if (count[j] < n_flows / 32)
			fprintf(stderr, "ecmp: member %u took %u of %u flows\n", j, count[j],
				n_flows);
		CHECK(count[j] >= n_flows / 32);
	}
	CHECK_EQ(total, n_flows);
	/* Two paths: the lowest and highest hashes take different members. */
	struct control_path two[2] = {{.gw = A4(10, 1, 0, 20), .iface = IFACE_ID_NONE},
				      {.gw = A4(10, 2, 0, 20), .iface = IFACE_ID_NONE}};
	struct control_route r3 = {.prefix = P4(10, 52, 0, 0, 16), .n_paths = 2, .paths = two};
	CHECK_EQ(control_route_set(ctl, CONTROL_OWNER_API, &r3), 0);
	struct control_fib lo, hi;
	struct ip_addr d52 = A4(10, 52, 0, 1);
	CHECK_EQ(control_fib_lookup(ctl, &d52, 0, &lo), 0);
	CHECK_EQ(control_fib_lookup(ctl, &d52, UINT32_MAX, &hi), 0);
	CHECK(!ip_addr_equal(&lo.nexthop_ip, &hi.nexthop_ip));
	CHECK(lo.nexthop_iface != hi.nexthop_iface);
	/* Too many paths; the same path twice is one path. */
	struct control_route r4 = {.prefix = P4(10, 53, 0, 0, 16), .n_paths = 17, .paths = paths};
	CHECK_EQ(control_route_set(ctl, CONTROL_OWNER_API, &r4), -EINVAL);
	struct control_path dup[2] = {two[0], two[0]};
	r4.n_paths = 2, r4.paths = dup;
	CHECK_EQ(control_route_set(ctl, CONTROL_OWNER_API, &r4), 0);
	CHECK_EQ(control_get_route(ctl, -1, &r4.prefix, &info), 0);
	CHECK_EQ(info.n_paths, 1);
	/* Deleting every route gives back every next hop (after the grace period). */
	struct ip_prefix del[] = {p, r2.prefix, r3.prefix, r4.prefix};
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(control_route_delete(ctl, CONTROL_OWNER_API, &del[i]), 0);
	CHECK_EQ(n_nexthops(ctl), nh0);
	cbed_free(&t);
}

/* A route with an interface and no gateway: the prefix is on-link there. */
static void test_iface_routes(void)
{
	struct cbed t;
	cbed_init(&t);
	struct control *ctl = t.ctl;
	struct ip_prefix p = P4(10, 60, 0, 0, 16);
	struct ip_addr none = {0};
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_API, p, none, 1), 0);
	CHECK(route_is(ctl, -1, p, CONTROL_OWNER_API, none, 1));
	CHECK(fib_is(ctl, A4(10, 60, 3, 4), 0, CONTROL_OWNER_API, A4(10, 60, 3, 4), 1));
	/* A gateway on a named interface: on its subnet, or refused. */
	struct ip_prefix q = P4(10, 61, 0, 0, 16);
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_API, q, A4(10, 2, 0, 2), 1), 0);
	CHECK(route_is(ctl, -1, q, CONTROL_OWNER_API, A4(10, 2, 0, 2), 1));
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_API, q, A4(10, 2, 0, 2), 0), -ENETUNREACH);
	CHECK(route_is(ctl, -1, q, CONTROL_OWNER_API, A4(10, 2, 0, 2), 1)); /* unchanged */
	/* Neither gateway nor interface. */
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_API, q, none, IFACE_ID_NONE), -EINVAL);
	/* A packet to the on-link prefix: the control thread asks for the destination itself on
	 * p1, from p1's address (10.2.0.1: no address of ours is in 10.60/16), and the answer,
	 * from outside our subnets, resolves it: the held packet leaves to the answering MAC. */
	struct pkt_buf *b = datagram(t.d[0]->mac, IP(10, 60, 3, 4), 1);
	dp_process_rx(t.w, 0, &b, 1);
	dp_ctx_flush(t.w);
	uint32_t sent = t.d[1]->n_tx;
	control_poll(ctl);
	CHECK_EQ(t.d[1]->n_tx, sent + 1);
	if (t.d[1]->n_tx == sent + 1) {
		const uint8_t *f = pkt_data(t.d[1]->tx[sent]);
		uint32_t spa, tpa;
		memcpy(&spa, f + 28, 4);
		memcpy(&tpa, f + 38, 4);
		CHECK(f[12] == 8 && f[13] == 6 && f[21] == 1); /* an ARP request */
		CHECK_EQ(ntohl(spa), IP(10, 2, 0, 1));
		CHECK_EQ(ntohl(tpa), IP(10, 60, 3, 4));
	}
	struct pkt_buf *r = arp_reply(t.d[1]->mac, IP(10, 60, 3, 4), IP(10, 2, 0, 1));
	dp_process_rx(t.w, 1, &r, 1);
	dp_ctx_flush(t.w);
	control_poll(ctl);
	CHECK_EQ(t.d[1]->n_tx, sent + 2);
	if (t.d[1]->n_tx == sent + 2)
		CHECK(memcmp(pkt_data(t.d[1]->tx[sent + 1]), gw_mac, 6) == 0);
	/* An unsolicited ARP from outside our subnets creates no entry. */
	r = arp_reply(t.d[1]->mac, IP(10, 62, 0, 9), IP(10, 2, 0, 1));
	dp_process_rx(t.w, 1, &r, 1);
	dp_ctx_flush(t.w);
	control_poll(ctl);
	struct control_neigh_info nb[16];
	size_t n_nb = control_list_neighbours(ctl, nb, 16);
	bool off_subnet_learnt = false, onlink_learnt = false;
	for (size_t i = 0; i < n_nb && i < 16; i++) {
		off_subnet_learnt |= nb[i].ip.v4 == IP(10, 62, 0, 9);
		onlink_learnt |= nb[i].ip.v4 == IP(10, 60, 3, 4) && nb[i].iface == 1 &&
				 nb[i].state == NEIGH_REACHABLE;
	}
	CHECK(onlink_learnt);
	CHECK(!off_subnet_learnt);
	cbed_free(&t);
}

static void test_route_errors(void)
{
	struct cbed t;
	cbed_init(&t);
	struct control *ctl = t.ctl;
	struct ip_prefix p = P4(10, 9, 0, 0, 16);
	const uint8_t api = CONTROL_OWNER_API;
	struct ip_addr v6gw;
	CHECK_EQ(ip_addr_parse("2001:db8::1", 11, &v6gw), 0);
	CHECK_EQ(route_via(ctl, api, P4(10, 9, 0, 1, 16), A4(10, 2, 0, 2), IFACE_ID_NONE), -EINVAL);
	CHECK_EQ(route_via(ctl, api, p, A4(10, 2, 0, 1), IFACE_ID_NONE), -EINVAL); /* ours */
	CHECK_EQ(route_via(ctl, api, p, A4(10, 3, 0, 1), 1), -EINVAL);		   /* ours */
	CHECK_EQ(route_via(ctl, api, p, A4(0, 0, 0, 0), IFACE_ID_NONE), -EINVAL);
	CHECK_EQ(route_via(ctl, api, p, v6gw, IFACE_ID_NONE), -EINVAL);
	CHECK_EQ(route_via(ctl, api, p, A4(172, 16, 0, 1), IFACE_ID_NONE), -ENETUNREACH);
	CHECK_EQ(route_via(ctl, api, p, A4(10, 2, 0, 2), 77), -ENODEV);
	CHECK_EQ(route_via(ctl, api, p, (struct ip_addr){0}, 77), -ENODEV);
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_CONNECTED, p, A4(10, 2, 0, 2), IFACE_ID_NONE),
		 -EPERM);
	CHECK_EQ(route_via(ctl, CONTROL_ROUTE_OWNERS, p, A4(10, 2, 0, 2), IFACE_ID_NONE), -EINVAL);
	CHECK_EQ(route_via(ctl, api, P4(10, 1, 0, 0, 24), A4(10, 2, 0, 2), IFACE_ID_NONE), -EPERM);
	CHECK_EQ(route_kind(ctl, api, P4(10, 3, 0, 0, 24), CONTROL_ROUTE_BLACKHOLE, 0), -EPERM);
	/* A more specific prefix inside a connected subnet is not the subnet. */
	CHECK_EQ(route_via(ctl, api, P4(10, 1, 0, 128, 25), A4(10, 2, 0, 2), IFACE_ID_NONE), 0);
	struct ip_prefix v6p;
	CHECK_EQ(ip_prefix_parse("2001:db8:1::/48", 15, 0, &v6p, NULL), 0);
	CHECK_EQ(route_via(ctl, api, v6p, v6gw, IFACE_ID_NONE), -EAFNOSUPPORT);
	CHECK_EQ(route_kind(ctl, api, v6p, CONTROL_ROUTE_BLACKHOLE, 0), -EAFNOSUPPORT);
	struct control_fib f;
	CHECK_EQ(control_fib_lookup(ctl, &v6gw, 0, &f), -EAFNOSUPPORT);
	CHECK_EQ(control_routes_flush(ctl, CONTROL_OWNER_CONNECTED), -EPERM);
	struct ip_prefix conn = P4(10, 1, 0, 0, 24);
	CHECK_EQ(control_route_delete(ctl, CONTROL_OWNER_CONNECTED, &conn), -EPERM);

	/* control_routes_add: all or nothing, -EEXIST for a prefix owner has or one given twice. */
	struct control_path gw = {.gw = A4(10, 2, 0, 2), .iface = IFACE_ID_NONE};
	struct control_route rs[2] = {{.prefix = P4(10, 70, 0, 0, 16), .n_paths = 1, .paths = &gw},
				      {.prefix = P4(10, 71, 0, 0, 16), .n_paths = 1, .paths = &gw}};
	size_t bad = 99;
	CHECK_EQ(control_routes_add(ctl, api, rs, 2, &bad), 0);
	struct control_table_sizes before, after;
	control_table_sizes(ctl, &before);
	struct control_route again[2] = {
	    {.prefix = P4(10, 72, 0, 0, 16), .n_paths = 1, .paths = &gw}, rs[1]};
	CHECK_EQ(control_routes_add(ctl, api, again, 2, &bad), -EEXIST);
	CHECK_EQ(bad, 1);
	struct control_route twice[2] = {again[0], again[0]};
	bad = 99;
	CHECK_EQ(control_routes_add(ctl, api, twice, 2, &bad), -EEXIST);
	CHECK_EQ(bad, 1);
	struct control_route hostbits[2] = {
	    again[0], {.prefix = P4(10, 73, 0, 1, 16), .n_paths = 1, .paths = &gw}};
	CHECK_EQ(control_routes_add(ctl, api, hostbits, 2, &bad), -EINVAL);
	CHECK_EQ(bad, 1);
	control_table_sizes(ctl, &after);
	CHECK_EQ(after.routes, before.routes);
	CHECK_EQ(after.nexthops, before.nexthops);
	struct control_route_info info;
	CHECK_EQ(control_get_route(ctl, -1, &again[0].prefix, &info), -ENOENT);
	/* Another owner may add the same prefix. */
	CHECK_EQ(control_routes_add(ctl, CONTROL_OWNER_CONFIG, &rs[1], 1, &bad), 0);
	cbed_free(&t);
}

static bool same_path_set(const struct control_path *a, const struct control_path *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		bool found = false;
		for (unsigned j = 0; j < n && !found; j++)
			found = ip_addr_equal(&a[i].gw, &b[j].gw) && a[i].iface == b[j].iface;
		if (!found)
			return false;
	}
	return true;
}

/* Listing (order, paging, owner filter) and exporting one owner's routes, and loading the export
 * back. */
static void test_list_and_export(void)
{
	struct cbed t;
	cbed_init(&t);
	struct control *ctl = t.ctl;
	const uint8_t api = CONTROL_OWNER_API, cfg = CONTROL_OWNER_CONFIG;
	struct control_path two[2] = {{.gw = A4(10, 1, 0, 5), .iface = IFACE_ID_NONE},
				      {.gw = A4(10, 2, 0, 5), .iface = IFACE_ID_NONE}};
	struct control_route ecmp = {.prefix = P4(10, 72, 0, 0, 16), .n_paths = 2, .paths = two};
	CHECK_EQ(control_route_set(ctl, api, &ecmp), 0);
	CHECK_EQ(route_kind(ctl, api, P4(10, 71, 0, 0, 24), CONTROL_ROUTE_BLACKHOLE, 5), 0);
	CHECK_EQ(route_via(ctl, api, P4(10, 70, 0, 0, 16), A4(10, 2, 0, 2), IFACE_ID_NONE), 0);
	CHECK_EQ(route_via(ctl, api, P4(10, 69, 0, 0, 16), (struct ip_addr){0}, 2), 0);
	CHECK_EQ(route_via(ctl, cfg, P4(10, 70, 0, 0, 16), A4(10, 1, 0, 7), IFACE_ID_NONE), 0);
	CHECK_EQ(route_via(ctl, cfg, P4(10, 80, 0, 0, 16), A4(10, 1, 0, 7), IFACE_ID_NONE), 0);
	/* Every prefix's selected route, ascending. */
	struct control_route_info all[16], page[16];
	size_t total = 0;
	CHECK_EQ(control_list_routes(ctl, -1, 0, all, 16, &total), 8);
	CHECK_EQ(total, 8); /* 3 connected, 10.69, 10.70, 10.71, 10.72, 10.80 */
	for (size_t i = 0; i < 8; i++) {
		CHECK(all[i].selected);
		if (i)
			CHECK(ip_prefix_cmp(&all[i - 1].prefix, &all[i].prefix) < 0);
	}
	struct ip_prefix p70 = P4(10, 70, 0, 0, 16);
	CHECK(ip_prefix_equal(&all[4].prefix, &p70));
	CHECK_EQ(all[4].owner, cfg);
	/* Pages are slices of the whole list. */
	CHECK_EQ(control_list_routes(ctl, -1, 2, page, 3, &total), 3);
	CHECK_EQ(total, 8);
	for (size_t i = 0; i < 3; i++)
		CHECK(ip_prefix_equal(&page[i].prefix, &all[2 + i].prefix) &&
		      page[i].owner == all[2 + i].owner);
	CHECK_EQ(control_list_routes(ctl, -1, 7, page, 5, &total), 1);
	CHECK(ip_prefix_equal(&page[0].prefix, &all[7].prefix));
	CHECK_EQ(control_list_routes(ctl, -1, 8, page, 5, &total), 0);
	/* One owner's routes, selected or not. */
	CHECK_EQ(control_list_routes(ctl, api, 0, page, 16, &total), 4);
	CHECK_EQ(total, 4);
	static const uint8_t want_second[] = {69, 70, 71, 72};
	for (size_t i = 0; i < 4; i++) {
		CHECK_EQ(page[i].owner, api);
		CHECK_EQ((page[i].prefix.addr.v4 >> 16) & 0xff, want_second[i]);
		CHECK_EQ(page[i].selected, i != 1); /* config's 10.70 wins */
	}
	CHECK_EQ(page[2].kind, CONTROL_ROUTE_BLACKHOLE);
	CHECK_EQ(page[2].precedence, 5);
	CHECK_EQ(page[3].n_paths, 2);
	CHECK_EQ(control_list_routes(ctl, api, 1, page, 2, &total), 2);
	CHECK_EQ((page[0].prefix.addr.v4 >> 16) & 0xff, 70);
	CHECK_EQ((page[1].prefix.addr.v4 >> 16) & 0xff, 71);
	CHECK_EQ(control_list_routes(ctl, CONTROL_OWNER_CONNECTED, 0, page, 16, &total), 3);
	CHECK_EQ(control_list_routes(ctl, CONTROL_OWNER_KERNEL, 0, page, 16, &total), 0);
	CHECK_EQ(total, 0);

	/* Export API's routes, flush them, load the export back: the same routes again. */
	struct control_route *ex = NULL, *ex2 = NULL;
	struct control_path *exp = NULL, *exp2 = NULL;
	size_t n = 0, n2 = 0;
	CHECK_EQ(control_export_routes(ctl, api, &ex, &n, &exp), 0);
	CHECK_EQ(n, 4);
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ((ex[i].prefix.addr.v4 >> 16) & 0xff, want_second[i]);
		uint8_t kind = ex[i].kind ? ex[i].kind : CONTROL_ROUTE_UNICAST;
		CHECK_EQ(kind, i == 2 ? CONTROL_ROUTE_BLACKHOLE : CONTROL_ROUTE_UNICAST);
		CHECK_EQ(ex[i].precedence, i == 2 ? 5 : 0);
		CHECK_EQ(ex[i].n_paths, i == 2 ? 0 : i == 3 ? 2 : 1);
	}
	if (n == 4) {
		CHECK(ex[0].paths[0].gw.family == 0 && ex[0].paths[0].iface == 2);
		struct ip_addr gw70 = A4(10, 2, 0, 2);
		CHECK(ip_addr_equal(&ex[1].paths[0].gw, &gw70) && ex[1].paths[0].iface == 1);
		CHECK(same_path_set(ex[3].paths,
				    (struct control_path[]){{two[0].gw, 0}, {two[1].gw, 1}}, 2));
	}
	CHECK_EQ(control_routes_flush(ctl, api), 4);
	CHECK_EQ(control_list_routes(ctl, api, 0, page, 16, &total), 0);
	CHECK_EQ(control_routes_replace(ctl, api, ex, n, NULL), 0);
	CHECK_EQ(control_export_routes(ctl, api, &ex2, &n2, &exp2), 0);
	CHECK_EQ(n2, n);
	for (size_t i = 0; i < n && i < n2; i++) {
		CHECK(ip_prefix_equal(&ex[i].prefix, &ex2[i].prefix));
		CHECK(ex[i].kind == ex2[i].kind && ex[i].precedence == ex2[i].precedence &&
		      ex[i].n_paths == ex2[i].n_paths);
		CHECK(same_path_set(ex[i].paths, ex2[i].paths, ex[i].n_paths));
	}
	CHECK_EQ(control_list_routes(ctl, -1, 0, page, 16, &total), 8);
	for (size_t i = 0; i < 8; i++)
		CHECK(ip_prefix_equal(&page[i].prefix, &all[i].prefix) &&
		      page[i].owner == all[i].owner);
	free(ex), free(exp), free(ex2), free(exp2);
	/* An owner without routes exports nothing. */
	CHECK_EQ(control_export_routes(ctl, CONTROL_OWNER_FPM, &ex, &n, &exp), 0);
	CHECK(n == 0 && ex == NULL && exp == NULL);
	cbed_free(&t);
}

/* Neighbours are recorded on the interface whose subnet holds them. */
static void test_neighbours(void)
{
	struct cbed t;
	cbed_init(&t);
	struct control *ctl = t.ctl;
	uint8_t mac[3][6] = {{2, 0, 0, 0, 9, 1}, {2, 0, 0, 0, 9, 2}, {2, 0, 0, 0, 9, 3}};
	for (uint8_t i = 0; i < 3; i++) {
		struct ip_addr a = A4(10, i + 1, 0, 50);
		CHECK_EQ(control_set_neighbour(ctl, &a, mac[i]), 0);
	}
	struct ip_addr st = A4(10, 3, 0, 60), ours = A4(10, 3, 0, 1);
	CHECK_EQ(control_set_static_neighbour(ctl, &st, mac[0]), 0);
	CHECK_EQ(control_set_static_neighbour(ctl, &ours, mac[0]), -EINVAL);
	struct control_neigh_info nb[8];
	size_t n = control_list_neighbours(ctl, nb, 8);
	CHECK_EQ(n, 4);
	unsigned seen = 0;
	for (size_t i = 0; i < n && i < 8; i++) {
		CHECK_EQ(nb[i].ip.family, AF_INET);
		unsigned sub = (nb[i].ip.v4 >> 16) & 0xff, host = nb[i].ip.v4 & 0xff;
		CHECK_EQ(nb[i].iface, sub - 1);
		if (host == 50) {
			CHECK_EQ(nb[i].state, NEIGH_REACHABLE);
			CHECK(memcmp(nb[i].mac, mac[sub - 1], 6) == 0);
		} else {
			CHECK_EQ(nb[i].state, NEIGH_STATIC);
		}
		seen |= 1u << (sub * 2 + (host == 60));
	}
	CHECK_EQ(seen, (1u << 2) | (1u << 4) | (1u << 6) | (1u << 7));
	/* The forwarding view names the neighbour of the route's next hop. */
	CHECK_EQ(route_via(ctl, CONTROL_OWNER_API, P4(10, 90, 0, 0, 16), A4(10, 2, 0, 50),
			   IFACE_ID_NONE),
		 0);
	struct control_fib f;
	struct ip_addr dst = A4(10, 90, 0, 1);
	CHECK_EQ(control_fib_lookup(ctl, &dst, 0, &f), 0);
	CHECK(f.nexthop_iface == 1 && f.neigh_state == NEIGH_REACHABLE &&
	      memcmp(f.mac, mac[1], 6) == 0);
	cbed_free(&t);
}

int main(void)
{
	unsigned seed = (unsigned)time(NULL);
	printf("test_control: seed %u\n", seed);
	if (memory_configure(MEMORY_IOVA_VA, false) != 0)
		return 1;
	pool = mempool_create(1024, 0);
	CHECK(pool != NULL);
	if (!pool)
		return check_report("test_control");
	test_resolution_and_routes();
	test_owners();
	test_kinds();
	test_ecmp(seed);
	test_iface_routes();
	test_route_errors();
	test_list_and_export();
	test_neighbours();
	mempool_free(pool);
	return check_report("test_control");
}
