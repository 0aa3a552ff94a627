/*
 * iface.h: the interface table. An L3 interface is what addresses, routes and neighbours
 * belong to:
 *   port    a port outside any bridge (frames untagged)
 *   bridge  a bridge of ports (frames untagged; the egress port comes from the MAC table)
 *   vlan    (port or bridge, VLAN id): frames carry an IEEE 802.1Q tag (802.1Q 9.6) with that
 *           VLAN id on the parent's ports
 * Each has its own index (iface_id_t), MAC, MTU, addresses of both families and the L2
 * encapsulation it transmits with. Ports are the dataplane's (opened devices); this table names
 * them by index only (port_id_t), so it needs nothing from drivers. Port and interface indices
 * are different types and names everywhere: a port is a device, an interface an L3 endpoint;
 * a port inside a bridge has no interface of its own.
 *
 * Ownership and threads: the table is filled at set-up (single-threaded, before the dataplane
 * starts) and read-only afterwards, so readers on any thread need no synchronisation; a later
 * change at run time will publish a new version with RCU like the other tables, which is why
 * readers get entries through iface_table_get() and never keep pointers across a quiescent
 * state.
 */
#ifndef IXYD_IFACE_H
#define IXYD_IFACE_H

#include <stdbool.h>
#include <stdint.h>

#include "ipaddr.h"

typedef uint16_t port_id_t;  /* index of a port (an opened device) in the dataplane */
typedef uint16_t iface_id_t; /* index of an L3 interface in the interface table */
#define PORT_ID_NONE  UINT16_MAX
#define IFACE_ID_NONE UINT16_MAX

#define IFACE_MAX	     256  /* interfaces: ports, bridges and VLAN interfaces together */
#define IFACE_MAX_ADDRS	     16	  /* addresses per interface, both families together */
#define IFACE_NAME_MAX	     32	  /* including the NUL */
#define IFACE_PORTS_MAX	     32	  /* ports the table can name (the dataplane's DP_MAX_PORTS) */
#define IFACE_BRIDGES_MAX    16	  /* bridges the table can name (the dataplane's DP_MAX_BRIDGES) */
#define IFACE_DEFAULT_MTU    1500 /* RFC 894: the Ethernet payload */
#define IFACE_VLAN_MIN	     1	  /* IEEE 802.1Q 9.6: VID 0 means priority-tagged only */
#define IFACE_VLAN_MAX	     4094 /* IEEE 802.1Q 9.6: VID 4095 is reserved */
#define IFACE_ETHERTYPE_VLAN 0x8100 /* IEEE 802.1Q 9.5: the C-VLAN tag protocol identifier */

enum iface_kind {
	IFACE_KIND_PORT = 1,
	IFACE_KIND_BRIDGE = 2,
	IFACE_KIND_VLAN = 3,
};

/* How frames of the interface are framed on the wire beyond the Ethernet header. */
struct iface_encap {
	uint16_t tpid;	  /* 0: untagged; IFACE_ETHERTYPE_VLAN: one 802.1Q tag */
	uint16_t vlan_id; /* with a tag: 1..4094 */
};

/* One address of an interface: the address with the length of its connected subnet (host bits
 * kept: 10.0.0.1/24). */
struct iface_addr {
	struct ip_prefix pfx;
};

struct iface {
	char name[IFACE_NAME_MAX];
	uint8_t kind; /* enum iface_kind */
	uint8_t mac[6];
	uint16_t mtu;	   /* L3 MTU in bytes (the largest IP packet it sends) */
	iface_id_t parent; /* vlan: the port or bridge interface it tags on; else IFACE_ID_NONE */
	port_id_t port;	   /* port, and vlan on a port: the port it sends on; else PORT_ID_NONE */
	uint16_t bridge;   /* bridge, and vlan of a bridge: the bridge's index (its MAC table
			      domain, the dataplane's bridge number); else UINT16_MAX */
	struct iface_encap encap;
	uint16_t n_addrs;
	struct iface_addr addrs[IFACE_MAX_ADDRS];
};

struct iface_table;

/* A name is 1..31 characters of letters, digits and "._-@+" (no blank, quote, slash or control
 * character: names appear in URLs, JSON and log lines as they are). Any thread. */
bool iface_name_valid(const char *name);

/* An empty table. NULL with errno ENOMEM. Set-up. */
struct iface_table *iface_table_create(void);
/* NULL is a no-op. No reader may use the table any more. */
void iface_table_free(struct iface_table *t);

/*
 * Add an interface described by desc (name, kind, mac, mtu (0: IFACE_DEFAULT_MTU), parent,
 * port, bridge, vlan id in encap.vlan_id for a vlan interface; addresses are added with
 * iface_table_add_addr(), desc's are ignored). The table fills encap from the kind, takes a
 * vlan interface's port and bridge from its parent, and sets the fields a kind does not use
 * to their NONE values (so a desc may leave them zero): a port uses port, a bridge bridge, a
 * vlan parent and encap.vlan_id. Returns the new index (>= 0) or -EINVAL (empty or over-long
 * name, unknown kind, a vlan interface without a valid parent (a port or bridge interface) or
 * with a VLAN id outside 1..4094, a port index >= IFACE_PORTS_MAX, a bridge index >=
 * IFACE_BRIDGES_MAX, a port or bridge that already has its untagged interface), -EEXIST (the
 * name is taken, or the parent already has that VLAN), -ENOSPC (IFACE_MAX), -ENOMEM (the
 * first VLAN of a port or bridge allocates its VLAN map). Set-up only.
 */
int iface_table_add(struct iface_table *t, const struct iface *desc);

/*
 * Add address a (host bits kept; length 1..32 or 1..128) to interface id. Returns 0 or
 * -EINVAL (no family, length 0 or over the family's, an unspecified, multicast or loopback
 * address), -ENOENT (no such interface), -EEXIST (the address is already one of ours, or its
 * subnet overlaps a connected subnet of any interface: connected subnets never overlap, which
 * is what lets a neighbour's address name its interface), -ENOSPC (IFACE_MAX_ADDRS). Set-up.
 *
 * IPv6 link-local addresses (fe80::/10) are the exception: their scope is one link (RFC 4291
 * 2.5.6, RFC 4007 6), every IPv6 interface has one (RFC 4291 2.8) and interfaces sharing a MAC
 * (VLANs of one port) derive the same one, so they are checked against the same interface only.
 * An address in a link-local subnet therefore names no interface: find_connected() skips
 * those subnets, and callers use on_link() with the interface the packet came from.
 */
int iface_table_add_addr(struct iface_table *t, iface_id_t id, const struct ip_prefix *a);

/* Number of interfaces; they are numbered 0 .. count-1. Any thread. */
uint16_t iface_table_count(const struct iface_table *t);
/* The interface id, or NULL. Any thread. */
const struct iface *iface_table_get(const struct iface_table *t, iface_id_t id);
/* The index of the interface named name, or -ENOENT. Any thread. */
int iface_table_find(const struct iface_table *t, const char *name);

/*
 * The interface frames of vlan_id received on port belong to: for vlan_id 0 the port's untagged
 * interface (a routed port, or through its bridge the bridge), otherwise the VLAN interface on
 * that port or on its bridge. IFACE_ID_NONE if there is none. bridge is the port's bridge
 * index, or UINT16_MAX (the dataplane knows which ports it bridges). Any thread; O(1).
 */
iface_id_t iface_table_rx_iface(const struct iface_table *t, port_id_t port, uint16_t bridge,
				uint16_t vlan_id);

/*
 * True if a lies in a connected subnet of interface id; *src (may be NULL) gets our address in
 * that subnet. Any thread.
 */
bool iface_table_on_link(const struct iface_table *t, iface_id_t id, const struct ip_addr *a,
			 struct ip_addr *src);
/* The interface whose connected subnet holds a: 0 and *id, or -ENETUNREACH (also for an
 * IPv6 link-local a, which needs its interface from elsewhere). Any thread; O(addresses). */
int iface_table_find_connected(const struct iface_table *t, const struct ip_addr *a,
			       iface_id_t *id);
/* True if a is one of our addresses (any interface); *id (may be NULL) gets its interface (for
 * a link-local address held by several, the lowest-numbered). Any thread; O(addresses). */
bool iface_table_is_local(const struct iface_table *t, const struct ip_addr *a, iface_id_t *id);
/* True if p is exactly the connected subnet of one of our addresses (host bits of p are
 * ignored). Any thread; O(addresses). */
bool iface_table_is_connected_subnet(const struct iface_table *t, const struct ip_prefix *p);
/* True if v4 (host order) is the directed broadcast address of a connected IPv4 subnet of ours
 * shorter than /31 (RFC 1812 5.3.5.2; /31 has none, RFC 3021 2.1). Any thread; O(addresses). */
bool iface_table_is_subnet_broadcast4(const struct iface_table *t, uint32_t v4);

/* The kind's name ("port", "bridge", "vlan"), or "?". */
const char *iface_kind_name(uint8_t kind);

#endif
