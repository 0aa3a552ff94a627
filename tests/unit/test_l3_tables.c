/*
 * test_l3_tables: the tables' half of forwarding with both families and VLANs, built only
 * through the new types. Interfaces (a routed port, a VLAN on it, a bridge, a VLAN on the
 * bridge) with IPv4 and IPv6 subnets; next hops of every forwarding kind, including an IPv4
 * route via an IPv6 gateway (RFC 8950) and a multipath group mixing both families; neighbours of
 * both families on those interfaces; lpm4 routes to the next hops. A small resolver walks
 * lpm4 -> nexthop (-> group pick) -> neighbour as the dataplane will and checks, for each
 * destination, the interface, its 802.1Q tag and the MAC a packet would leave with.
 */
#include <errno.h>
#include <string.h>

#include "iface.h"
#include "lpm4.h"
#include "neigh.h"
#include "nexthop.h"
#include "test_util.h"

static struct ip_addr addr(const char *s)
{
	struct ip_addr a = {0};
	if (ip_addr_parse(s, strlen(s), &a) < 0)
		test_failures++;
	return a;
}

static int add_addr(struct iface_table *t, iface_id_t id, const char *s)
{
	struct ip_prefix p;
	if (ip_prefix_parse(s, strlen(s), IP_PREFIX_KEEP_HOST_BITS, &p, NULL) < 0)
		return -EINVAL;
	return iface_table_add_addr(t, id, &p);
}

static uint32_t v4(const char *s)
{
	return addr(s).v4;
}

static void no_free(void *ctx, void *pkt)
{
	(void)ctx;
	(void)pkt;
}

struct tables {
	struct iface_table *ifaces;
	struct nexthop_table *nht;
	struct lpm4 *lpm;
	struct neigh_table *neigh;
};

/* Where a packet to dst goes: what the dataplane's IPv4 path will compute. */
struct verdict {
	uint8_t kind;	  /* the final next hop's kind */
	iface_id_t iface; /* out of */
	uint16_t vlan_id; /* 0: untagged */
	uint8_t mac[6];	  /* the neighbour's MAC (gateway, connected) */
	int neigh_rc;	  /* the neighbour lookup's result */
};

static struct verdict forward4(const struct tables *t, uint32_t dst, uint32_t flow_hash)
{
	struct verdict v = {.iface = IFACE_ID_NONE, .neigh_rc = -ENOENT};
	uint32_t idx = lpm4_lookup(t->lpm, dst);
	if (idx == LPM4_NH_NONE)
		return v;
	const struct nexthop *nh = nexthop_get(t->nht, idx);
	if (nh->kind == NEXTHOP_GROUP)
		nh = nexthop_get(t->nht, nexthop_group_pick(t->nht, nh, flow_hash));
	v.kind = nh->kind;
	v.iface = nh->iface;
	if (nh->kind != NEXTHOP_GATEWAY && nh->kind != NEXTHOP_CONNECTED)
		return v;
	v.vlan_id = iface_table_get(t->ifaces, nh->iface)->encap.vlan_id;
	if (nh->kind == NEXTHOP_CONNECTED) {
		v.neigh_rc = neigh_lookup4(t->neigh, nh->iface, dst, v.mac);
	} else if (nh->family == AF_INET) {
		v.neigh_rc = neigh_lookup4(t->neigh, nh->iface, nh->gw.v4, v.mac);
	} else {
		struct ip_addr gw = ip_addr_v6(nh->gw.v6); /* RFC 8950: IPv4 via IPv6 */
		v.neigh_rc = neigh_lookup(t->neigh, nh->iface, &gw, v.mac);
	}
	return v;
}

static uint32_t add_nh(struct nexthop_table *nht, struct nexthop_key k)
{
	uint32_t i = LPM4_NH_NONE;
	CHECK_EQ(nexthop_add(nht, &k, &i), 0);
	return i;
}

int main(void)
{
	struct tables t = {.ifaces = iface_table_create(), .nht = nexthop_table_create(64, 4)};
	t.lpm = t.nht ? lpm4_create(t.nht) : NULL;
	t.neigh = neigh_table_create(&(struct neigh_config){.capacity = 64, .free_pkt = no_free});
	if (!t.ifaces || !t.nht || !t.lpm || !t.neigh) {
		fprintf(stderr, "cannot create the tables\n");
		return 1;
	}

	/* 1. Interfaces: p0 routed with VLAN 100, br0 (bridge 0) with VLAN 200. */
	struct iface d = {
	    .name = "p0", .kind = IFACE_KIND_PORT, .port = 0, .mac = {2, 0, 0, 0, 0, 1}};
	const iface_id_t P0 = 0, P0V = 1, BR = 2, BRV = 3;
	CHECK_EQ(iface_table_add(t.ifaces, &d), P0);
	d = (struct iface){.name = "p0.100", .kind = IFACE_KIND_VLAN, .parent = P0};
	d.encap.vlan_id = 100;
	CHECK_EQ(iface_table_add(t.ifaces, &d), P0V);
	d = (struct iface){.name = "br0", .kind = IFACE_KIND_BRIDGE, .bridge = 0};
	CHECK_EQ(iface_table_add(t.ifaces, &d), BR);
	d = (struct iface){.name = "br0.200", .kind = IFACE_KIND_VLAN, .parent = BR};
	d.encap.vlan_id = 200;
	CHECK_EQ(iface_table_add(t.ifaces, &d), BRV);
	CHECK_EQ(add_addr(t.ifaces, P0, "192.0.2.1/24"), 0);
	CHECK_EQ(add_addr(t.ifaces, P0, "2001:db8:0::1/64"), 0);
	CHECK_EQ(add_addr(t.ifaces, P0V, "198.51.100.1/24"), 0);
	CHECK_EQ(add_addr(t.ifaces, P0V, "2001:db8:100::1/64"), 0);
	CHECK_EQ(add_addr(t.ifaces, P0V, "fe80::1/64"), 0);
	CHECK_EQ(add_addr(t.ifaces, BR, "203.0.113.1/24"), 0);
	CHECK_EQ(add_addr(t.ifaces, BRV, "2001:db8:200::1/64"), 0);
	CHECK_EQ(add_addr(t.ifaces, BRV, "fe80::1/64"), 0);
	CHECK_EQ(iface_table_rx_iface(t.ifaces, 0, UINT16_MAX, 100), P0V);
	CHECK_EQ(iface_table_rx_iface(t.ifaces, 5, 0, 200), BRV);

	/* 2. Next hops: gateways of both families, on-link subnets, local, blackhole, a group. */
	struct ip_addr gw4a = addr("192.0.2.254"), gw4b = addr("198.51.100.254");
	struct ip_addr gw6 = addr("2001:db8:200::fe"), gw6ll = addr("fe80::fe");
	iface_id_t on;
	CHECK(iface_table_find_connected(t.ifaces, &gw4a, &on) == 0 && on == P0);
	CHECK(iface_table_find_connected(t.ifaces, &gw6, &on) == 0 && on == BRV);
	CHECK(iface_table_on_link(t.ifaces, P0V, &gw6ll, NULL));
	uint32_t nh_a = add_nh(t.nht, (struct nexthop_key){NEXTHOP_GATEWAY, 0, P0, gw4a});
	uint32_t nh_b = add_nh(t.nht, (struct nexthop_key){NEXTHOP_GATEWAY, 0, P0V, gw4b});
	uint32_t nh_6 = add_nh(t.nht, (struct nexthop_key){NEXTHOP_GATEWAY, 0, BRV, gw6});
	uint32_t nh_ll = add_nh(t.nht, (struct nexthop_key){NEXTHOP_GATEWAY, 0, P0V, gw6ll});
	uint32_t nh_c = add_nh(
	    t.nht, (struct nexthop_key){.kind = NEXTHOP_CONNECTED, .family = AF_INET, .iface = BR});
	uint32_t nh_l = add_nh(
	    t.nht, (struct nexthop_key){.kind = NEXTHOP_LOCAL, .family = AF_INET, .iface = P0});
	uint32_t nh_bh = add_nh(t.nht, (struct nexthop_key){.kind = NEXTHOP_BLACKHOLE,
							    .family = AF_INET,
							    .iface = IFACE_ID_NONE});
	uint32_t members[] = {nh_6, nh_a}, nh_g = LPM4_NH_NONE;
	CHECK_EQ(nexthop_add_group(t.nht, members, 2, &nh_g), 0);
	CHECK_EQ(nexthop_get(t.nht, nh_g)->family, 0); /* an IPv6 and an IPv4 gateway */

	/* 3. Routes (lpm4 takes its own references). */
	CHECK_EQ(lpm4_add(t.lpm, 0, 0, nh_a), 0);		   /* default via p0 */
	CHECK_EQ(lpm4_add(t.lpm, v4("10.1.0.0"), 16, nh_b), 0);	   /* via the VLAN */
	CHECK_EQ(lpm4_add(t.lpm, v4("10.6.0.0"), 16, nh_6), 0);	   /* via IPv6 gw */
	CHECK_EQ(lpm4_add(t.lpm, v4("10.7.0.0"), 16, nh_ll), 0);   /* link-local gw */
	CHECK_EQ(lpm4_add(t.lpm, v4("203.0.113.0"), 24, nh_c), 0); /* connected */
	CHECK_EQ(lpm4_add(t.lpm, v4("192.0.2.1"), 32, nh_l), 0);   /* ours */
	CHECK_EQ(lpm4_add(t.lpm, v4("10.66.0.0"), 16, nh_bh), 0);  /* dropped */
	CHECK_EQ(lpm4_add(t.lpm, v4("10.99.0.0"), 16, nh_g), 0);   /* multipath */
	CHECK_EQ(nexthop_refcount(t.nht, nh_6), 3); /* ours, the route's, the group's */

	/* 4. Neighbours of both families; the same link-local address on two interfaces. */
	const uint8_t mac_a[6] = {2, 0xa, 0, 0, 0, 1}, mac_b[6] = {2, 0xb, 0, 0, 0, 1},
		      mac_6[6] = {2, 6, 0, 0, 0, 1}, mac_ll[6] = {2, 0xe, 0, 0, 0, 1},
		      mac_ll2[6] = {2, 0xe, 0, 0, 0, 2}, mac_h[6] = {2, 0xc, 0, 0, 0, 7};
	void *rel[1];
	unsigned n_rel;
	struct ip_addr host = addr("203.0.113.7");
	CHECK_EQ(neigh_update(t.neigh, P0, &gw4a, mac_a, 0, rel, 1, &n_rel), 0);
	CHECK_EQ(neigh_update(t.neigh, P0V, &gw4b, mac_b, 0, rel, 1, &n_rel), 0);
	CHECK_EQ(neigh_update(t.neigh, BRV, &gw6, mac_6, 0, rel, 1, &n_rel), 0);
	CHECK_EQ(neigh_update(t.neigh, P0V, &gw6ll, mac_ll, 0, rel, 1, &n_rel), 0);
	CHECK_EQ(neigh_update(t.neigh, BRV, &gw6ll, mac_ll2, 0, rel, 1, &n_rel), 0);
	CHECK_EQ(neigh_update(t.neigh, BR, &host, mac_h, 0, rel, 1, &n_rel), 0);

	/* 5. Forward. */
	struct verdict v = forward4(&t, v4("8.8.8.8"), 0);
	CHECK(v.kind == NEXTHOP_GATEWAY && v.iface == P0 && v.vlan_id == 0 && v.neigh_rc == 0);
	CHECK(memcmp(v.mac, mac_a, 6) == 0);
	v = forward4(&t, v4("10.1.2.3"), 0);
	CHECK(v.kind == NEXTHOP_GATEWAY && v.iface == P0V && v.vlan_id == 100 && v.neigh_rc == 0);
	CHECK(memcmp(v.mac, mac_b, 6) == 0);
	v = forward4(&t, v4("10.6.2.3"), 0);
	CHECK(v.kind == NEXTHOP_GATEWAY && v.iface == BRV && v.vlan_id == 200 && v.neigh_rc == 0);
	CHECK(memcmp(v.mac, mac_6, 6) == 0);
	v = forward4(&t, v4("10.7.2.3"), 0); /* fe80::fe on p0.100, not the one on br0.200 */
	CHECK(v.iface == P0V && v.neigh_rc == 0 && memcmp(v.mac, mac_ll, 6) == 0);
	v = forward4(&t, v4("203.0.113.7"), 0);
	CHECK(v.kind == NEXTHOP_CONNECTED && v.iface == BR && v.vlan_id == 0 && v.neigh_rc == 0);
	CHECK(memcmp(v.mac, mac_h, 6) == 0);
	v = forward4(&t, v4("203.0.113.8"), 0); /* on link, not resolved yet */
	CHECK(v.kind == NEXTHOP_CONNECTED && v.neigh_rc == -ENOENT);
	v = forward4(&t, v4("192.0.2.1"), 0);
	CHECK(v.kind == NEXTHOP_LOCAL && v.iface == P0);
	v = forward4(&t, v4("10.66.1.1"), 0);
	CHECK(v.kind == NEXTHOP_BLACKHOLE && v.iface == IFACE_ID_NONE);
	/* The group: hash 0 takes its lower index, the top hash its higher; both resolve. */
	uint32_t lo = nh_6 < nh_a ? nh_6 : nh_a;
	struct verdict v0 = forward4(&t, v4("10.99.0.1"), 0);
	struct verdict v1 = forward4(&t, v4("10.99.0.1"), UINT32_MAX);
	CHECK(v0.neigh_rc == 0 && v1.neigh_rc == 0 && v0.iface != v1.iface);
	CHECK(v0.iface == (lo == nh_6 ? BRV : P0));
	CHECK(memcmp(v0.mac, lo == nh_6 ? mac_6 : mac_a, 6) == 0);

	/* 6. Link down on the VLAN: its neighbours go, the other link-local one stays. */
	CHECK_EQ(neigh_flush_iface(t.neigh, P0V), 2);
	v = forward4(&t, v4("10.1.2.3"), 0);
	CHECK(v.iface == P0V && v.neigh_rc == -ENOENT);
	uint8_t mac[6];
	CHECK(neigh_lookup(t.neigh, BRV, &gw6ll, mac) == 0 && memcmp(mac, mac_ll2, 6) == 0);

	/* 7. Tear down: the routes' and group's references go, everything is reclaimable. */
	lpm4_free(t.lpm);
	CHECK_EQ(nexthop_put(t.nht, nh_g), 0);
	nexthop_table_reclaim(t.nht); /* the group goes, dropping its members' references */
	uint32_t all[] = {nh_a, nh_b, nh_6, nh_ll, nh_c, nh_l, nh_bh};
	for (unsigned i = 0; i < 7; i++) {
		CHECK_EQ(nexthop_refcount(t.nht, all[i]), 1);
		CHECK_EQ(nexthop_put(t.nht, all[i]), 0);
	}
	nexthop_table_reclaim(t.nht);
	CHECK_EQ(nexthop_table_used(t.nht), 0);
	neigh_table_free(t.neigh);
	nexthop_table_free(t.nht);
	iface_table_free(t.ifaces);
	return test_result("test_l3_tables");
}
