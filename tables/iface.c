/* iface.c: see iface.h. */
#include "iface.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define VLAN_IDS 4096 /* IEEE 802.1Q 9.6: a 12-bit VID */

/*
 * What frames arriving on one port (or on any port of one bridge) belong to: the untagged
 * interface and, once the first VLAN interface is added, a map from VLAN id to interface.
 */
struct iface_domain {
	iface_id_t untagged; /* IFACE_ID_NONE if none */
	iface_id_t *vlan;    /* VLAN_IDS entries, IFACE_ID_NONE where none; NULL: no VLANs */
};

struct iface_table {
	uint16_t count;
	struct iface_domain ports[IFACE_PORTS_MAX];
	struct iface_domain bridges[IFACE_BRIDGES_MAX];
	struct iface ifaces[IFACE_MAX];
};

struct iface_table *iface_table_create(void)
{
	struct iface_table *t = calloc(1, sizeof(*t));
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned i = 0; i < IFACE_PORTS_MAX; i++)
		t->ports[i].untagged = IFACE_ID_NONE;
	for (unsigned i = 0; i < IFACE_BRIDGES_MAX; i++)
		t->bridges[i].untagged = IFACE_ID_NONE;
	return t;
}

void iface_table_free(struct iface_table *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < IFACE_PORTS_MAX; i++)
		free(t->ports[i].vlan);
	for (unsigned i = 0; i < IFACE_BRIDGES_MAX; i++)
		free(t->bridges[i].vlan);
	free(t);
}

/* The domain frames of an interface of kind port/bridge (or a vlan's parent) arrive in. */
static struct iface_domain *domain_of(struct iface_table *t, const struct iface *f)
{
	return f->kind == IFACE_KIND_BRIDGE ? &t->bridges[f->bridge] : &t->ports[f->port];
}

bool iface_name_valid(const char *name)
{
	size_t len = strnlen(name, IFACE_NAME_MAX);
	if (len == 0 || len == IFACE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("._-@+", c)))
			return false;
	}
	return true;
}

/* Check desc and fill *f (the stored form). 0 or -EINVAL. */
static int describe(const struct iface_table *t, const struct iface *desc, struct iface *f)
{
	if (!iface_name_valid(desc->name))
		return -EINVAL;
	size_t len = strlen(desc->name);
	memset(f, 0, sizeof(*f));
	memcpy(f->name, desc->name, len);
	f->kind = desc->kind;
	memcpy(f->mac, desc->mac, 6);
	f->mtu = desc->mtu ? desc->mtu : IFACE_DEFAULT_MTU;
	f->parent = IFACE_ID_NONE;
	f->port = PORT_ID_NONE;
	f->bridge = UINT16_MAX;
	switch (desc->kind) {
	case IFACE_KIND_PORT:
		if (desc->port >= IFACE_PORTS_MAX)
			return -EINVAL;
		f->port = desc->port;
		return 0;
	case IFACE_KIND_BRIDGE:
		if (desc->bridge >= IFACE_BRIDGES_MAX)
			return -EINVAL;
		f->bridge = desc->bridge;
		return 0;
	case IFACE_KIND_VLAN: {
		if (desc->parent >= t->count)
			return -EINVAL;
		const struct iface *p = &t->ifaces[desc->parent];
		if (p->kind == IFACE_KIND_VLAN) /* no stacked tags (802.1ad) */
			return -EINVAL;
		if (desc->encap.vlan_id < IFACE_VLAN_MIN || desc->encap.vlan_id > IFACE_VLAN_MAX)
			return -EINVAL;
		f->parent = desc->parent;
		f->port = p->port;
		f->bridge = p->bridge;
		f->encap = (struct iface_encap){.tpid = IFACE_ETHERTYPE_VLAN,
						.vlan_id = desc->encap.vlan_id};
		return 0;
	}
	default:
		return -EINVAL;
	}
}

int iface_table_add(struct iface_table *t, const struct iface *desc)
{
	struct iface f;
	int err = describe(t, desc, &f);
	if (err < 0)
		return err;
	if (iface_table_find(t, f.name) >= 0)
		return -EEXIST;

	struct iface_domain *d;
	iface_id_t *slot;
	if (f.kind == IFACE_KIND_VLAN) {
		d = domain_of(t, &t->ifaces[f.parent]);
		if (d->vlan && d->vlan[f.encap.vlan_id] != IFACE_ID_NONE)
			return -EEXIST;
	} else {
		d = domain_of(t, &f);
		if (d->untagged != IFACE_ID_NONE)
			return -EINVAL;
	}
	if (t->count == IFACE_MAX)
		return -ENOSPC;
	if (f.kind == IFACE_KIND_VLAN) {
		if (!d->vlan) { /* the first VLAN of this port or bridge */
			d->vlan = malloc(VLAN_IDS * sizeof(*d->vlan));
			if (!d->vlan)
				return -ENOMEM;
			for (unsigned v = 0; v < VLAN_IDS; v++)
				d->vlan[v] = IFACE_ID_NONE;
		}
		slot = &d->vlan[f.encap.vlan_id];
	} else {
		slot = &d->untagged;
	}
	iface_id_t id = t->count++;
	t->ifaces[id] = f;
	*slot = id;
	return id;
}

static bool is_link_local6(const struct ip_addr *a)
{
	return a->family == AF_INET6 && a->v6[0] == 0xfe &&
	       (a->v6[1] & 0xc0) == 0x80; /* RFC 4291 2.5.6: fe80::/10 */
}

/* Addresses no interface may have: multicast and loopback. */
static bool is_reserved(const struct ip_addr *a)
{
	if (a->family == AF_INET)
		return (a->v4 >> 28) == 0xe || /* RFC 5771 2: 224.0.0.0/4 multicast */
		       (a->v4 >> 24) == 127;   /* RFC 1122 3.2.1.3 (g): 127.0.0.0/8 loopback */
	static const uint8_t loopback6[16] = {[15] = 1}; /* RFC 4291 2.5.3: ::1 */
	return a->v6[0] == 0xff ||			 /* RFC 4291 2.7: ff00::/8 multicast */
	       memcmp(a->v6, loopback6, 16) == 0;
}

/* Two subnets overlap if the shorter contains the longer (RFC 4632 3.1: prefixes nest). */
static bool overlaps(const struct ip_prefix *a, const struct ip_prefix *b)
{
	if (a->addr.family != b->addr.family)
		return false;
	return a->len <= b->len ? ip_prefix_contains(a, &b->addr) : ip_prefix_contains(b, &a->addr);
}

int iface_table_add_addr(struct iface_table *t, iface_id_t id, const struct ip_prefix *a)
{
	unsigned bits = ip_family_bits(a->addr.family);
	if (bits == 0 || a->len == 0 || a->len > bits || ip_addr_is_unspecified(&a->addr) ||
	    is_reserved(&a->addr))
		return -EINVAL;
	if (id >= t->count)
		return -ENOENT;
	bool scoped = is_link_local6(&a->addr);
	for (iface_id_t i = 0; i < t->count; i++) {
		if (scoped && i != id)
			continue; /* link-local: one link's business (see iface.h) */
		const struct iface *f = &t->ifaces[i];
		for (unsigned k = 0; k < f->n_addrs; k++) {
			const struct ip_prefix *o = &f->addrs[k].pfx;
			if (scoped != is_link_local6(&o->addr))
				continue; /* fe80::/10 may only overlap another link-local subnet */
			if (overlaps(o, a))
				return -EEXIST; /* an equal address overlaps too */
		}
	}
	struct iface *f = &t->ifaces[id];
	if (f->n_addrs == IFACE_MAX_ADDRS)
		return -ENOSPC;
	f->addrs[f->n_addrs++].pfx = *a;
	return 0;
}

uint16_t iface_table_count(const struct iface_table *t)
{
	return t->count;
}

const struct iface *iface_table_get(const struct iface_table *t, iface_id_t id)
{
	return id < t->count ? &t->ifaces[id] : NULL;
}

int iface_table_find(const struct iface_table *t, const char *name)
{
	for (iface_id_t i = 0; i < t->count; i++)
		if (strncmp(t->ifaces[i].name, name, IFACE_NAME_MAX) == 0)
			return i;
	return -ENOENT;
}

iface_id_t iface_table_rx_iface(const struct iface_table *t, port_id_t port, uint16_t bridge,
				uint16_t vlan_id)
{
	const struct iface_domain *d;
	if (bridge < IFACE_BRIDGES_MAX)
		d = &t->bridges[bridge];
	else if (port < IFACE_PORTS_MAX)
		d = &t->ports[port];
	else
		return IFACE_ID_NONE;
	if (vlan_id == 0) /* IEEE 802.1Q 9.6: VID 0 is a priority tag, the frame is untagged */
		return d->untagged;
	if (vlan_id > IFACE_VLAN_MAX || !d->vlan)
		return IFACE_ID_NONE;
	return d->vlan[vlan_id];
}

bool iface_table_on_link(const struct iface_table *t, iface_id_t id, const struct ip_addr *a,
			 struct ip_addr *src)
{
	if (id >= t->count)
		return false;
	const struct iface *f = &t->ifaces[id];
	for (unsigned k = 0; k < f->n_addrs; k++) {
		if (ip_prefix_contains(&f->addrs[k].pfx, a)) {
			if (src)
				*src = f->addrs[k].pfx.addr;
			return true;
		}
	}
	return false;
}

int iface_table_find_connected(const struct iface_table *t, const struct ip_addr *a, iface_id_t *id)
{
	if (is_link_local6(a))
		return -ENETUNREACH; /* its subnet is on every IPv6 link: ambiguous */
	for (iface_id_t i = 0; i < t->count; i++) {
		if (iface_table_on_link(t, i, a, NULL)) {
			*id = i; /* the only one: connected subnets do not overlap */
			return 0;
		}
	}
	return -ENETUNREACH;
}

bool iface_table_is_local(const struct iface_table *t, const struct ip_addr *a, iface_id_t *id)
{
	for (iface_id_t i = 0; i < t->count; i++) {
		const struct iface *f = &t->ifaces[i];
		for (unsigned k = 0; k < f->n_addrs; k++) {
			if (ip_addr_equal(&f->addrs[k].pfx.addr, a)) {
				if (id)
					*id = i;
				return true;
			}
		}
	}
	return false;
}

bool iface_table_is_connected_subnet(const struct iface_table *t, const struct ip_prefix *p)
{
	for (iface_id_t i = 0; i < t->count; i++) {
		const struct iface *f = &t->ifaces[i];
		for (unsigned k = 0; k < f->n_addrs; k++)
			if (ip_prefix_equal(&f->addrs[k].pfx, p))
				return true;
	}
	return false;
}

bool iface_table_is_subnet_broadcast4(const struct iface_table *t, uint32_t v4)
{
	for (iface_id_t i = 0; i < t->count; i++) {
		const struct iface *f = &t->ifaces[i];
		for (unsigned k = 0; k < f->n_addrs; k++) {
			const struct ip_prefix *p = &f->addrs[k].pfx;
			/* RFC 3021 2.1: a /31 has no broadcast address; a /32 has no subnet. */
			if (p->addr.family != AF_INET || p->len >= 31)
				continue;
			uint32_t host_mask = UINT32_MAX >> p->len; /* len 1..30: no shift by 32 */
			/* RFC 1812 5.3.5.2: the directed broadcast is the subnet with all host bits
			 * set. */
			if (v4 == (p->addr.v4 | host_mask))
				return true;
		}
	}
	return false;
}

const char *iface_kind_name(uint8_t kind)
{
	switch (kind) {
	case IFACE_KIND_PORT:
		return "port";
	case IFACE_KIND_BRIDGE:
		return "bridge";
	case IFACE_KIND_VLAN:
		return "vlan";
	default:
		return "?";
	}
}
