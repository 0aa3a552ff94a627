/*
 * test_iface: the interface table. Every refusal of iface_table_add() and _add_addr(); subnets
 * overlapping across interfaces but not across families; IPv6 link-local addresses scoped to
 * their interface; VLAN interfaces on a port and on a bridge and the interface rx_iface() gives
 * tagged and untagged frames; on_link / find_connected / is_local / is_connected_subnet for
 * both families; the directed broadcast rules for /30, /31 and /32.
 */
#include <errno.h>
#include <string.h>

#include "iface.h"
#include "test_util.h"

static struct ip_prefix pfx(const char *s)
{
	struct ip_prefix p = {0};
	if (ip_prefix_parse(s, strlen(s), IP_PREFIX_KEEP_HOST_BITS, &p, NULL) < 0) {
		fprintf(stderr, "bad prefix in test: %s\n", s);
		test_failures++;
	}
	return p;
}

static struct ip_addr addr(const char *s)
{
	struct ip_addr a = {0};
	if (ip_addr_parse(s, strlen(s), &a) < 0) {
		fprintf(stderr, "bad address in test: %s\n", s);
		test_failures++;
	}
	return a;
}

static struct iface port_desc(const char *name, port_id_t port)
{
	struct iface d = {.kind = IFACE_KIND_PORT, .port = port, .mac = {2, 0, 0, 0, 0, 1}};
	strcpy(d.name, name);
	return d;
}

static struct iface bridge_desc(const char *name, uint16_t bridge)
{
	struct iface d = {.kind = IFACE_KIND_BRIDGE, .bridge = bridge};
	strcpy(d.name, name);
	return d;
}

static struct iface vlan_desc(const char *name, iface_id_t parent, uint16_t vid)
{
	struct iface d = {.kind = IFACE_KIND_VLAN, .parent = parent, .encap.vlan_id = vid};
	strcpy(d.name, name);
	return d;
}

static int add_addr(struct iface_table *t, iface_id_t id, const char *s)
{
	struct ip_prefix p = pfx(s);
	return iface_table_add_addr(t, id, &p);
}

static void test_add_refusals(void)
{
	struct iface_table *t = iface_table_create();
	CHECK(t != NULL);
	struct iface d = port_desc("p0", 0);

	CHECK_EQ(iface_table_add(t, &d), 0);
	const struct iface *f = iface_table_get(t, 0);
	CHECK(f && f->kind == IFACE_KIND_PORT && f->port == 0 && f->mtu == IFACE_DEFAULT_MTU);
	CHECK(f && f->parent == IFACE_ID_NONE && f->bridge == UINT16_MAX && f->encap.tpid == 0);
	CHECK(f && f->n_addrs == 0 && f->mac[5] == 1);
	CHECK(iface_table_get(t, 1) == NULL);
	CHECK_EQ(iface_table_find(t, "p0"), 0);
	CHECK_EQ(iface_table_find(t, "p1"), -ENOENT);

	/* Names: empty, 31 characters (fits), 32 (no room for the NUL), taken. */
	struct iface e = port_desc("", 1);
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);
	e = port_desc("p0", 1);
	CHECK_EQ(iface_table_add(t, &e), -EEXIST);
	memset(e.name, 'x', IFACE_NAME_MAX);
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);
	e.name[IFACE_NAME_MAX - 1] = 0;
	CHECK_EQ(iface_table_add(t, &e), 1);
	CHECK_EQ(strlen(iface_table_get(t, 1)->name), IFACE_NAME_MAX - 1);

	/* Kinds and indices. */
	e = port_desc("k", 2);
	e.kind = 0;
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);
	e.kind = 4;
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);
	e = port_desc("p32", IFACE_PORTS_MAX);
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);
	e = port_desc("p0again", 0); /* port 0 already has its untagged interface */
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);
	e = bridge_desc("br16", IFACE_BRIDGES_MAX);
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);
	e = bridge_desc("br0", 0);
	CHECK_EQ(iface_table_add(t, &e), 2);
	CHECK_EQ(iface_table_get(t, 2)->port, PORT_ID_NONE);
	e = bridge_desc("br0again", 0);
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);

	/* VLANs: parent must exist and not be a VLAN; VID 1..4094; one per parent and VID. */
	e = vlan_desc("v", 3, 10); /* no interface 3 yet */
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);
	e = vlan_desc("v", IFACE_ID_NONE, 10);
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);
	e = vlan_desc("v", 0, 0);
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);
	e = vlan_desc("v", 0, 4095);
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);
	e = vlan_desc("p0.1", 0, 1);
	CHECK_EQ(iface_table_add(t, &e), 3);
	e = vlan_desc("p0.4094", 0, 4094);
	CHECK_EQ(iface_table_add(t, &e), 4);
	e = vlan_desc("p0.4094b", 0, 4094);
	CHECK_EQ(iface_table_add(t, &e), -EEXIST);
	e = vlan_desc("p0.1.5", 3, 5); /* a VLAN of a VLAN */
	CHECK_EQ(iface_table_add(t, &e), -EINVAL);
	e = vlan_desc("br0.1", 2, 1); /* the same VID on another parent is fine */
	CHECK_EQ(iface_table_add(t, &e), 5);
	f = iface_table_get(t, 5);
	CHECK(f && f->parent == 2 && f->bridge == 0 && f->port == PORT_ID_NONE);
	CHECK(f && f->encap.tpid == IFACE_ETHERTYPE_VLAN && f->encap.vlan_id == 1);
	f = iface_table_get(t, 3);
	CHECK(f && f->parent == 0 && f->port == 0 && f->bridge == UINT16_MAX);
	CHECK_EQ(iface_table_count(t), 6);

	/* Capacity. */
	int n = iface_table_count(t);
	for (; n < IFACE_MAX; n++) {
		e = vlan_desc("", 2, (uint16_t)(100 + n));
		snprintf(e.name, sizeof(e.name), "br0.%d", 100 + n);
		if (iface_table_add(t, &e) != n)
			break;
	}
	CHECK_EQ(n, IFACE_MAX);
	e = vlan_desc("full", 2, 4000);
	CHECK_EQ(iface_table_add(t, &e), -ENOSPC);
	CHECK_EQ(iface_table_count(t), IFACE_MAX);
	iface_table_free(t);
	iface_table_free(NULL);
}

static void test_addr_refusals(void)
{
	struct iface_table *t = iface_table_create();
	struct iface d = port_desc("p0", 0);
	CHECK_EQ(iface_table_add(t, &d), 0);
	d = port_desc("p1", 1);
	CHECK_EQ(iface_table_add(t, &d), 1);

	struct ip_prefix p = {0};
	CHECK_EQ(iface_table_add_addr(t, 0, &p), -EINVAL); /* no family */
	p = ip_prefix_v4(0x0a000001, 0);
	CHECK_EQ(iface_table_add_addr(t, 0, &p), -EINVAL);
	p = ip_prefix_v4(0x0a000001, 33);
	CHECK_EQ(iface_table_add_addr(t, 0, &p), -EINVAL);
	p = pfx("2001:db8::1/64");
	p.len = 129;
	CHECK_EQ(iface_table_add_addr(t, 0, &p), -EINVAL);
	CHECK_EQ(add_addr(t, 0, "0.0.0.0/8"), -EINVAL);
	CHECK_EQ(add_addr(t, 0, "224.0.0.1/24"), -EINVAL);
	CHECK_EQ(add_addr(t, 0, "239.1.2.3/32"), -EINVAL);
	CHECK_EQ(add_addr(t, 0, "127.0.0.1/8"), -EINVAL);
	CHECK_EQ(add_addr(t, 0, "::/64"), -EINVAL);
	CHECK_EQ(add_addr(t, 0, "::1/128"), -EINVAL);
	CHECK_EQ(add_addr(t, 0, "ff02::1/64"), -EINVAL);
	CHECK_EQ(add_addr(t, 2, "10.0.0.1/24"), -ENOENT);
	CHECK_EQ(add_addr(t, IFACE_ID_NONE, "10.0.0.1/24"), -ENOENT);
	CHECK_EQ(iface_table_get(t, 0)->n_addrs, 0);

	/* Overlaps, across interfaces and within one; the families never overlap each other. */
	CHECK_EQ(add_addr(t, 0, "10.0.0.1/24"), 0);
	CHECK_EQ(add_addr(t, 0, "10.0.0.1/24"), -EEXIST);   /* the same again */
	CHECK_EQ(add_addr(t, 0, "10.0.0.2/24"), -EEXIST);   /* same subnet, same interface */
	CHECK_EQ(add_addr(t, 1, "10.0.0.2/24"), -EEXIST);   /* same subnet, other interface */
	CHECK_EQ(add_addr(t, 1, "10.0.0.130/25"), -EEXIST); /* inside it */
	CHECK_EQ(add_addr(t, 1, "10.0.0.9/32"), -EEXIST);
	CHECK_EQ(add_addr(t, 1, "10.0.0.1/32"), -EEXIST); /* our own address as a host */
	CHECK_EQ(add_addr(t, 1, "10.0.1.1/16"), -EEXIST); /* containing it */
	CHECK_EQ(add_addr(t, 1, "10.0.1.1/24"), 0);	  /* the next /24 is free */
	CHECK_EQ(add_addr(t, 1, "10.0.2.1/31"), 0);
	CHECK_EQ(add_addr(t, 0, "10.0.2.0/31"), -EEXIST);
	CHECK_EQ(add_addr(t, 0, "2001:db8::1/64"), 0);
	CHECK_EQ(add_addr(t, 1, "2001:db8::2/64"), -EEXIST);
	CHECK_EQ(add_addr(t, 1, "2001:db8::/48"), -EEXIST);
	CHECK_EQ(add_addr(t, 1, "2001:db8:0:0:8000::1/65"), -EEXIST);
	CHECK_EQ(add_addr(t, 1, "2001:db8:0:1::1/64"), 0);
	/* An IPv4-mapped IPv6 address holds the same bits as 10.0.0.1 but is another family. */
	CHECK_EQ(add_addr(t, 1, "::ffff:10.0.0.1/128"), 0);
	CHECK_EQ(add_addr(t, 1, "::a00:1/128"), 0);

	/* Link-local: the same subnet (and address) on two interfaces, never twice on one. */
	CHECK_EQ(add_addr(t, 0, "fe80::1/64"), 0);
	CHECK_EQ(add_addr(t, 1, "fe80::1/64"), 0);
	CHECK_EQ(add_addr(t, 1, "fe80::2/64"), -EEXIST);
	CHECK_EQ(add_addr(t, 1, "fe80::1:2/128"), -EEXIST);

	/* Room for IFACE_MAX_ADDRS on one interface, of both families together. */
	d = port_desc("p2", 2);
	CHECK_EQ(iface_table_add(t, &d), 2);
	unsigned k;
	for (k = 0; k < IFACE_MAX_ADDRS; k++) {
		char s[IP_PREFIX_STRLEN]; /* 192.168.K.1/24 and 2001:db8:aK::1/64, alternating */
		if (k % 2)
			snprintf(s, sizeof(s), "192.168.%u.1/24", k);
		else
			snprintf(s, sizeof(s), "2001:db8:a%x::1/64", k);
		if (add_addr(t, 2, s) < 0)
			break;
	}
	CHECK_EQ(k, IFACE_MAX_ADDRS);
	CHECK_EQ(add_addr(t, 2, "172.16.0.1/12"), -ENOSPC);
	CHECK_EQ(iface_table_get(t, 2)->n_addrs, IFACE_MAX_ADDRS);
	iface_table_free(t);
}

static void test_vlans_rx(void)
{
	struct iface_table *t = iface_table_create();
	struct iface d = port_desc("p0", 0); /* a routed port with VLANs */
	CHECK_EQ(iface_table_add(t, &d), 0);
	d = vlan_desc("p0.10", 0, 10);
	CHECK_EQ(iface_table_add(t, &d), 1);
	d = bridge_desc("br3", 3); /* a bridge (of ports 4 and 5, say) with VLANs */
	CHECK_EQ(iface_table_add(t, &d), 2);
	d = vlan_desc("br3.10", 2, 10);
	CHECK_EQ(iface_table_add(t, &d), 3);
	d = vlan_desc("br3.4094", 2, 4094);
	CHECK_EQ(iface_table_add(t, &d), 4);
	d = port_desc("p1", 1); /* untagged only */
	CHECK_EQ(iface_table_add(t, &d), 5);
	d = vlan_desc("p7.20", 6, 20); /* no interface 6 */
	CHECK_EQ(iface_table_add(t, &d), -EINVAL);

	const uint16_t NB = UINT16_MAX; /* not bridged */
	CHECK_EQ(iface_table_rx_iface(t, 0, NB, 0), 0);
	CHECK_EQ(iface_table_rx_iface(t, 0, NB, 10), 1);
	CHECK_EQ(iface_table_rx_iface(t, 0, NB, 11), IFACE_ID_NONE);
	CHECK_EQ(iface_table_rx_iface(t, 0, NB, 4094), IFACE_ID_NONE);
	CHECK_EQ(iface_table_rx_iface(t, 0, NB, 4095), IFACE_ID_NONE);
	CHECK_EQ(iface_table_rx_iface(t, 0, NB, 0xffff), IFACE_ID_NONE);
	CHECK_EQ(iface_table_rx_iface(t, 1, NB, 0), 5);
	CHECK_EQ(iface_table_rx_iface(t, 1, NB, 10), IFACE_ID_NONE); /* no VLAN map */
	CHECK_EQ(iface_table_rx_iface(t, 2, NB, 0), IFACE_ID_NONE);
	CHECK_EQ(iface_table_rx_iface(t, IFACE_PORTS_MAX, NB, 0), IFACE_ID_NONE);
	CHECK_EQ(iface_table_rx_iface(t, PORT_ID_NONE, NB, 0), IFACE_ID_NONE);
	/* Bridged ports: the bridge decides, whatever the port. */
	CHECK_EQ(iface_table_rx_iface(t, 4, 3, 0), 2);
	CHECK_EQ(iface_table_rx_iface(t, 5, 3, 10), 3);
	CHECK_EQ(iface_table_rx_iface(t, 5, 3, 4094), 4);
	CHECK_EQ(iface_table_rx_iface(t, 5, 3, 20), IFACE_ID_NONE);
	CHECK_EQ(iface_table_rx_iface(t, 0, 3, 10), 3);		   /* port 0 bridged: not p0.10 */
	CHECK_EQ(iface_table_rx_iface(t, 4, 2, 0), IFACE_ID_NONE); /* bridge 2 has no interface */

	const struct iface *v = iface_table_get(t, 1);
	CHECK(v && v->kind == IFACE_KIND_VLAN && v->port == 0 && v->encap.vlan_id == 10);
	CHECK(v && v->encap.tpid == IFACE_ETHERTYPE_VLAN);
	v = iface_table_get(t, 4);
	CHECK(v && v->bridge == 3 && v->port == PORT_ID_NONE && v->encap.vlan_id == 4094);

	/* VLAN interfaces carry their own subnets, checked against everyone's. */
	CHECK_EQ(add_addr(t, 0, "192.0.2.1/28"), 0);
	CHECK_EQ(add_addr(t, 1, "192.0.2.17/28"), 0);
	CHECK_EQ(add_addr(t, 3, "192.0.2.20/28"), -EEXIST);
	CHECK_EQ(add_addr(t, 3, "192.0.2.33/28"), 0);
	iface_table_free(t);
}

static void test_lookups(void)
{
	struct iface_table *t = iface_table_create();
	struct iface d = port_desc("p0", 0);
	CHECK_EQ(iface_table_add(t, &d), 0);
	d = vlan_desc("p0.5", 0, 5);
	CHECK_EQ(iface_table_add(t, &d), 1);
	d = bridge_desc("br0", 0);
	CHECK_EQ(iface_table_add(t, &d), 2);
	CHECK_EQ(add_addr(t, 0, "10.0.0.1/24"), 0);
	CHECK_EQ(add_addr(t, 0, "2001:db8:1::1/64"), 0);
	CHECK_EQ(add_addr(t, 0, "fe80::1/64"), 0);
	CHECK_EQ(add_addr(t, 1, "10.0.1.1/30"), 0);
	CHECK_EQ(add_addr(t, 1, "10.0.2.0/31"), 0);
	CHECK_EQ(add_addr(t, 1, "fe80::1/64"), 0);
	CHECK_EQ(add_addr(t, 2, "10.0.3.7/32"), 0);
	CHECK_EQ(add_addr(t, 2, "2001:db8:2::1/128"), 0);

	struct ip_addr a, src;
	iface_id_t id;
	/* on_link: per interface, with our source address. */
	a = addr("10.0.0.200");
	CHECK(iface_table_on_link(t, 0, &a, &src));
	CHECK(ip_addr_equal(&src, &(struct ip_addr){.family = AF_INET, .v4 = 0x0a000001}));
	CHECK(!iface_table_on_link(t, 1, &a, NULL));
	CHECK(!iface_table_on_link(t, 3, &a, NULL)); /* no such interface */
	a = addr("10.0.1.3");
	CHECK(iface_table_on_link(t, 1, &a, &src) && src.v4 == 0x0a000101);
	a = addr("10.0.1.4");
	CHECK(!iface_table_on_link(t, 1, &a, NULL));
	a = addr("2001:db8:1::ffff");
	CHECK(iface_table_on_link(t, 0, &a, &src));
	struct ip_addr want = addr("2001:db8:1::1");
	CHECK(ip_addr_equal(&src, &want));
	a = addr("fe80::99");
	CHECK(iface_table_on_link(t, 0, &a, &src) && iface_table_on_link(t, 1, &a, NULL));
	CHECK(!iface_table_on_link(t, 2, &a, NULL));
	a = addr("::ffff:10.0.0.2"); /* IPv6, not 10.0.0.2 */
	CHECK(!iface_table_on_link(t, 0, &a, NULL));

	/* find_connected: the one interface, none, and link-local (ambiguous by design). */
	id = 99;
	a = addr("10.0.0.9");
	CHECK_EQ(iface_table_find_connected(t, &a, &id), 0);
	CHECK_EQ(id, 0);
	a = addr("10.0.2.1");
	CHECK_EQ(iface_table_find_connected(t, &a, &id), 0);
	CHECK_EQ(id, 1);
	a = addr("10.0.3.7");
	CHECK_EQ(iface_table_find_connected(t, &a, &id), 0);
	CHECK_EQ(id, 2);
	a = addr("10.0.3.8");
	CHECK_EQ(iface_table_find_connected(t, &a, &id), -ENETUNREACH);
	a = addr("2001:db8:1::5");
	CHECK_EQ(iface_table_find_connected(t, &a, &id), 0);
	CHECK_EQ(id, 0);
	a = addr("2001:db8:2::1");
	CHECK_EQ(iface_table_find_connected(t, &a, &id), 0);
	CHECK_EQ(id, 2);
	a = addr("2001:db8:3::1");
	CHECK_EQ(iface_table_find_connected(t, &a, &id), -ENETUNREACH);
	a = addr("fe80::2");
	CHECK_EQ(iface_table_find_connected(t, &a, &id), -ENETUNREACH);

	/* is_local: exactly our addresses. */
	a = addr("10.0.1.1");
	CHECK(iface_table_is_local(t, &a, &id) && id == 1);
	a = addr("10.0.1.2");
	CHECK(!iface_table_is_local(t, &a, &id));
	a = addr("2001:db8:2::1");
	CHECK(iface_table_is_local(t, &a, &id) && id == 2);
	a = addr("2001:db8:1::2");
	CHECK(!iface_table_is_local(t, &a, NULL));
	a = addr("fe80::1");
	CHECK(iface_table_is_local(t, &a, &id) && id == 0);
	a = addr("::ffff:10.0.1.1");
	CHECK(!iface_table_is_local(t, &a, NULL));
	a = (struct ip_addr){0};
	CHECK(!iface_table_is_local(t, &a, NULL));

	/* is_connected_subnet: the exact subnets, host bits or not. */
	struct ip_prefix p = pfx("10.0.0.0/24");
	CHECK(iface_table_is_connected_subnet(t, &p));
	p = pfx("10.0.0.77/24");
	CHECK(iface_table_is_connected_subnet(t, &p));
	p = pfx("10.0.0.0/25");
	CHECK(!iface_table_is_connected_subnet(t, &p));
	p = pfx("10.0.0.0/23");
	CHECK(!iface_table_is_connected_subnet(t, &p));
	p = pfx("10.0.3.7/32");
	CHECK(iface_table_is_connected_subnet(t, &p));
	p = pfx("2001:db8:1::/64");
	CHECK(iface_table_is_connected_subnet(t, &p));
	p = pfx("2001:db8:1::/63");
	CHECK(!iface_table_is_connected_subnet(t, &p));

	/* Directed broadcasts: /24 and /30 have one; /31 and /32 none (RFC 3021). */
	CHECK(iface_table_is_subnet_broadcast4(t, 0x0a0000ff));
	CHECK(!iface_table_is_subnet_broadcast4(t, 0x0a0000fe));
	CHECK(!iface_table_is_subnet_broadcast4(t, 0x0a000000)); /* the network, not broadcast */
	CHECK(iface_table_is_subnet_broadcast4(t, 0x0a000103));
	CHECK(!iface_table_is_subnet_broadcast4(t, 0x0a000102));
	CHECK(!iface_table_is_subnet_broadcast4(t, 0x0a000201)); /* /31: a host */
	CHECK(!iface_table_is_subnet_broadcast4(t, 0x0a000307)); /* /32 */
	CHECK(!iface_table_is_subnet_broadcast4(t, 0xffffffff)); /* limited, not directed */
	iface_table_free(t);
}

static void test_names(void)
{
	CHECK(strcmp(iface_kind_name(IFACE_KIND_PORT), "port") == 0);
	CHECK(strcmp(iface_kind_name(IFACE_KIND_BRIDGE), "bridge") == 0);
	CHECK(strcmp(iface_kind_name(IFACE_KIND_VLAN), "vlan") == 0);
	CHECK(strcmp(iface_kind_name(0), "?") == 0);
	CHECK(strcmp(iface_kind_name(9), "?") == 0);
}

int main(void)
{
	test_add_refusals();
	test_addr_refusals();
	test_vlans_rx();
	test_lookups();
	test_names();
	return test_result("test_iface");
}
