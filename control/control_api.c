/*
 * control_api.c: the control plane's queries and changes for the REST API (control.h, second
 * half). Each call holds the lock of what it reads or writes (route_lock for routes, neigh_lock
 * for neighbours, the MAC table and ports), so it is serialised with the control thread and with
 * every other writer; workers are never waited for except through RCU grace periods.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "control_internal.h"
#include "dataplane.h"
#include "log.h"
#include "lpm4.h"
#include "mac_table.h"
#include "neigh.h"
#include "nexthop.h"
#include "rib.h"

/* ---- routes ---------------------------------------------------------------------------------- */

static void path_of(const struct nexthop *h, struct control_path *path)
{
	path->iface = h->iface;
	path->gw = (struct ip_addr){0};
	if (h->kind == NEXTHOP_GATEWAY)
		path->gw = h->family == AF_INET ? ip_addr_v4(h->gw.v4) : ip_addr_v6(h->gw.v6);
}

void control_route_info_fill(const struct control *ctl, const struct ip_prefix *p, uint8_t owner,
			     uint8_t precedence, uint32_t nh, bool selected,
			     struct control_route_info *info)
{
	const struct nexthop *h = nexthop_get(ctl->nht, nh);
	memset(info, 0, sizeof(*info));
	info->prefix = *p;
	info->owner = owner;
	info->precedence = precedence;
	info->selected = selected;
	switch (h->kind) {
	case NEXTHOP_GATEWAY:
	case NEXTHOP_CONNECTED:
		info->kind = CONTROL_ROUTE_UNICAST;
		info->n_paths = 1;
		path_of(h, &info->paths[0]);
		break;
	case NEXTHOP_GROUP:
		info->kind = CONTROL_ROUTE_UNICAST;
		info->n_paths = (uint8_t)h->n_members;
		for (unsigned i = 0; i < h->n_members; i++)
			path_of(nexthop_get(ctl->nht, ctl->nht->members[h->group][i]),
				&info->paths[i]);
		break;
	case NEXTHOP_BLACKHOLE:
		info->kind = CONTROL_ROUTE_BLACKHOLE;
		break;
	case NEXTHOP_UNREACHABLE:
		info->kind = CONTROL_ROUTE_UNREACHABLE;
		break;
	case NEXTHOP_LOCAL:
		info->kind = CONTROL_ROUTE_LOCAL;
		break;
	default:
		info->kind = CONTROL_ROUTE_PUNT;
		break;
	}
}

struct list_ctx {
	struct control *ctl;
	int owner; /* -1: the selected route of every prefix */
	size_t skip;
	struct control_route_info *out;
	size_t max, n;
};

static int list_one(void *arg, uint32_t prefix, uint8_t len, uint32_t nh)
{
	struct list_ctx *c = arg;
	(void)nh;
	if (c->n == c->max)
		return 1;
	struct ip_prefix p = ip_prefix_v4(prefix, len);
	struct rib_candidate cands[RIB_OWNERS];
	uint8_t sel;
	if (rib_get_all(c->ctl->rib, &p, cands, &sel) != 0)
		return 0; /* not reached: every installed route is some owner's */
	int owner = c->owner < 0 ? sel : c->owner;
	if (cands[owner].nh == RIB_NH_NONE)
		return 0;
	if (c->skip) {
		c->skip--;
		return 0;
	}
	control_route_info_fill(c->ctl, &p, (uint8_t)owner, cands[owner].precedence,
				cands[owner].nh, owner == sel, &c->out[c->n++]);
	return 0;
}

size_t control_list_routes(struct control *ctl, int owner, size_t offset,
			   struct control_route_info *out, size_t max, size_t *total)
{
	struct list_ctx c = {.ctl = ctl, .owner = owner, .out = out, .max = max};
	pthread_mutex_lock(&ctl->route_lock);
	if (owner < 0) {
		/* The installed routes are exactly the selected ones: skip by position. */
		*total = rib_count(ctl->rib, AF_INET);
		if (max)
			lpm4_walk(ctl->lpm, offset, list_one, &c);
	} else {
		*total = owner < CONTROL_ROUTE_OWNERS
			     ? rib_count_owner(ctl->rib, (uint8_t)owner, AF_INET)
			     : 0;
		c.skip = offset;
		if (max && owner < CONTROL_ROUTE_OWNERS)
			lpm4_walk(ctl->lpm, 0, list_one, &c);
	}
	pthread_mutex_unlock(&ctl->route_lock);
	return c.n;
}

int control_get_route(struct control *ctl, int owner, const struct ip_prefix *p,
		      struct control_route_info *out)
{
	struct rib_candidate cands[RIB_OWNERS];
	uint8_t sel;
	int err = -ENOENT;
	pthread_mutex_lock(&ctl->route_lock);
	if (owner < CONTROL_ROUTE_OWNERS && rib_get_all(ctl->rib, p, cands, &sel) == 0) {
		uint8_t o = owner < 0 ? sel : (uint8_t)owner;
		if (cands[o].nh != RIB_NH_NONE) {
			control_route_info_fill(ctl, p, o, cands[o].precedence, cands[o].nh,
						o == sel, out);
			err = 0;
		}
	}
	pthread_mutex_unlock(&ctl->route_lock);
	return err;
}

size_t control_route_alternatives(struct control *ctl, const struct ip_prefix *p,
				  struct control_route_info *out, size_t max)
{
	struct rib_candidate cands[RIB_OWNERS];
	uint8_t sel;
	size_t n = 0;
	pthread_mutex_lock(&ctl->route_lock);
	if (rib_get_all(ctl->rib, p, cands, &sel) == 0)
		for (uint8_t o = 0; o < RIB_OWNERS && n < max; o++)
			if (o != sel && cands[o].nh != RIB_NH_NONE)
				control_route_info_fill(ctl, p, o, cands[o].precedence, cands[o].nh,
							false, &out[n++]);
	pthread_mutex_unlock(&ctl->route_lock);
	return n;
}

struct export_ctx {
	struct control *ctl;
	uint8_t owner;
	struct control_route *routes;
	struct control_path *paths;
	size_t n, n_paths;
};

static int export_one(void *arg, const struct ip_prefix *p,
		      const struct rib_candidate cands[RIB_OWNERS], uint8_t selected)
{
	struct export_ctx *c = arg;
	(void)selected;
	const struct rib_candidate *cd = &cands[c->owner];
	if (cd->nh == RIB_NH_NONE)
		return 0;
	struct control_route_info info;
	control_route_info_fill(c->ctl, p, c->owner, cd->precedence, cd->nh, false, &info);
	struct control_route *r = &c->routes[c->n++];
	*r = (struct control_route){
	    .prefix = *p,
	    .kind = info.kind,
	    .precedence = cd->precedence == control_owner_precedence[c->owner] ? 0 : cd->precedence,
	    .n_paths = info.n_paths};
	/* paths are patched to pointers once the array stops moving (its index for now). */
	r->paths = (const struct control_path *)(uintptr_t)c->n_paths;
	memcpy(&c->paths[c->n_paths], info.paths, info.n_paths * sizeof(info.paths[0]));
	c->n_paths += info.n_paths;
	return 0;
}

static int route_cmp(const void *a, const void *b)
{
	return ip_prefix_cmp(&((const struct control_route *)a)->prefix,
			     &((const struct control_route *)b)->prefix);
}

int control_export_routes(struct control *ctl, uint8_t owner, struct control_route **routes,
			  size_t *n, struct control_path **paths)
{
	int err = 0;
	*routes = NULL;
	*paths = NULL;
	*n = 0;
	if (owner >= CONTROL_ROUTE_OWNERS)
		return -EINVAL;
	pthread_mutex_lock(&ctl->route_lock);
	size_t count = rib_count_owner(ctl->rib, owner, 0);
	struct export_ctx c = {.ctl = ctl, .owner = owner};
	c.routes = malloc((count + 1) * sizeof(*c.routes));
	c.paths = malloc((count * CONTROL_ROUTE_PATHS_MAX + 1) * sizeof(*c.paths));
	if (!c.routes || !c.paths) {
		free(c.routes);
		free(c.paths);
		err = -ENOMEM;
		goto out;
	}
	rib_walk(ctl->rib, 0, export_one, &c);
	for (size_t i = 0; i < c.n; i++)
		c.routes[i].paths = c.paths + (uintptr_t)c.routes[i].paths;
	qsort(c.routes, c.n, sizeof(*c.routes), route_cmp);
	if (c.n) {
		*routes = c.routes;
		*paths = c.paths;
		*n = c.n;
	} else {
		free(c.routes);
		free(c.paths);
	}
out:
	pthread_mutex_unlock(&ctl->route_lock);
	return err;
}

int control_fib_lookup(struct control *ctl, const struct ip_addr *dst, uint32_t flow_hash,
		       struct control_fib *out)
{
	int err = -ENOENT;
	memset(out, 0, sizeof(*out));
	if (dst->family != AF_INET)
		return -EAFNOSUPPORT;
	pthread_mutex_lock(&ctl->route_lock);
	/* 1. What a worker gets: the published table. The route lock keeps writers out, so
	 * the exact-match search of step 2 sees the same route set. */
	uint32_t nh = lpm4_lookup(ctl->lpm, dst->v4);
	if (nh == LPM4_NH_NONE)
		goto out;
	/* 2. Name the route: the longest prefix of dst with an exact entry. */
	struct ip_prefix p = {0};
	for (int len = 32; len >= 0; len--) {
		p = (struct ip_prefix){.addr = ip_addr_masked(dst, (unsigned)len),
				       .len = (uint8_t)len};
		uint32_t got;
		if (lpm4_get(ctl->lpm, p.addr.v4, p.len, &got) == 0) {
			if (got != nh)
				LOG_ERR_RL("control", "fib: lookup and route set disagree");
			break;
		}
	}
	uint8_t owner = 0;
	struct rib_candidate c;
	if (rib_selected(ctl->rib, &p, &nh, &owner) != 0 || rib_get(ctl->rib, &p, owner, &c) != 0)
		goto out;
	control_route_info_fill(ctl, &p, owner, c.precedence, nh, true, &out->route);
	/* 3. The path this flow takes, and its neighbour entry. */
	const struct nexthop *h = nexthop_get(ctl->nht, nh);
	if (h->kind == NEXTHOP_GROUP)
		h = nexthop_get(ctl->nht, nexthop_group_pick(ctl->nht, h, flow_hash));
	out->nexthop_iface = h->iface;
	if (h->kind == NEXTHOP_GATEWAY)
		out->nexthop_ip =
		    h->family == AF_INET ? ip_addr_v4(h->gw.v4) : ip_addr_v6(h->gw.v6);
	else if (h->kind == NEXTHOP_CONNECTED)
		out->nexthop_ip = *dst;
	err = 0;
	if (h->kind == NEXTHOP_GATEWAY || h->kind == NEXTHOP_CONNECTED) {
		struct neigh_res res;
		unsigned queued;
		pthread_mutex_lock(&ctl->neigh_lock); /* after route_lock (control.h) */
		if (neigh_get(ctl->neigh, h->iface, &out->nexthop_ip, &res, &queued) == 0) {
			out->neigh_state = res.state;
			if (res.state != NEIGH_INCOMPLETE)
				memcpy(out->mac, res.mac, 6);
		}
		pthread_mutex_unlock(&ctl->neigh_lock);
	}
out:
	pthread_mutex_unlock(&ctl->route_lock);
	return err;
}

/* ---- neighbours ------------------------------------------------------------------------------ */

struct neigh_list_ctx {
	struct control_neigh_info *out;
	size_t max, n;
};

static int neigh_list_one(void *arg, const struct neigh_key *key, const struct neigh_res *res,
			  unsigned queued)
{
	struct neigh_list_ctx *c = arg;
	if (c->n < c->max) {
		struct control_neigh_info *e = &c->out[c->n];
		*e = (struct control_neigh_info){.ip = key->ip,
						 .iface = key->iface,
						 .state = res->state,
						 .queued = (uint16_t)queued};
		memcpy(e->mac, res->mac, 6);
	}
	c->n++;
	return 0;
}

size_t control_list_neighbours(struct control *ctl, struct control_neigh_info *out, size_t max)
{
	struct neigh_list_ctx c = {.out = out, .max = max};
	pthread_mutex_lock(&ctl->neigh_lock);
	neigh_walk(ctl->neigh, neigh_list_one, &c);
	pthread_mutex_unlock(&ctl->neigh_lock);
	return c.n;
}

#define STATIC_RELEASE_MAX 64 /* >= the neighbour table's queue_len */

int control_set_static_neighbour(struct control *ctl, const struct ip_addr *ip,
				 const uint8_t mac[6])
{
	iface_id_t iface;
	if ((mac[0] & 1) || iface_table_is_local(ctl->ifaces, ip, NULL))
		return -EINVAL;
	int err = iface_table_find_connected(ctl->ifaces, ip, &iface);
	if (err)
		return err;
	void *released[STATIC_RELEASE_MAX];
	unsigned n = 0;
	pthread_mutex_lock(&ctl->neigh_lock);
	err = neigh_set_static(ctl->neigh, iface, ip, mac, released, STATIC_RELEASE_MAX, &n);
	for (unsigned i = 0; i < n; i++) {
		struct pkt_buf *b = released[i];
		dp_send_resolved(dp_control_ctx(ctl->dp), iface, mac, &b, 1);
	}
	dp_ctx_flush(dp_control_ctx(ctl->dp)); /* under the lock, as in control_poll() */
	pthread_mutex_unlock(&ctl->neigh_lock);
	return err;
}

/* ---- MAC table ------------------------------------------------------------------------------- */

struct mac_list_ctx {
	struct mac_table_entry *out;
	size_t max, n;
};

static int mac_list_one(void *arg, const struct mac_table_entry *e)
{
	struct mac_list_ctx *c = arg;
	if (c->n < c->max)
		c->out[c->n] = *e;
	c->n++;
	return 0;
}

size_t control_list_mac(struct control *ctl, struct mac_table_entry *out, size_t max)
{
	struct mac_list_ctx c = {.out = out, .max = max};
	/* The walk is safe beside learning workers and the ager without the lock (mac_table.h);
	 * taking it anyway keeps flushes by other API callers from interleaving with the copy. */
	pthread_mutex_lock(&ctl->neigh_lock);
	mac_table_walk(ctl->mac, mac_list_one, &c);
	pthread_mutex_unlock(&ctl->neigh_lock);
	return c.n;
}

unsigned control_flush_mac(struct control *ctl, int port)
{
	pthread_mutex_lock(&ctl->neigh_lock);
	unsigned n =
	    port < 0 ? mac_table_flush(ctl->mac) : mac_table_flush_port(ctl->mac, (uint16_t)port);
	pthread_mutex_unlock(&ctl->neigh_lock);
	return n;
}

/* ---- ports ----------------------------------------------------------------------------------- */

int control_port_info(struct control *ctl, port_id_t port, struct control_port_info *info)
{
	memset(info, 0, sizeof(*info));
	int err = dp_port_info(ctl->dp, port, &info->dp);
	if (err)
		return err;
	struct dp_device_stats st;
	if (dp_port_device_stats(ctl->dp, port, &st) == 0) {
		info->link_up = st.link_up;
		info->speed_mbps = st.speed_mbps;
	}
	/* The lock orders this read after control_set_promisc()'s driver call, its only writer
	 * once the dataplane runs. */
	pthread_mutex_lock(&ctl->neigh_lock);
	info->promisc = dp_port_promisc(ctl->dp, port);
	pthread_mutex_unlock(&ctl->neigh_lock);
	return 0;
}

int control_set_promisc(struct control *ctl, port_id_t port, bool on)
{
	/* set_promisc is a control-path call (device.h): the lock makes its callers one at a
	 * time. */
	pthread_mutex_lock(&ctl->neigh_lock);
	int err = dp_port_set_promisc(ctl->dp, port, on);
	pthread_mutex_unlock(&ctl->neigh_lock);
	return err;
}

/* ---- sizes ----------------------------------------------------------------------------------- */

void control_table_sizes(struct control *ctl, struct control_table_sizes *out)
{
	struct neigh_stats ns;
	struct mac_table_stats ms;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ctl->route_lock);
	out->routes = rib_count(ctl->rib, 0);
	for (uint8_t o = 0; o < CONTROL_ROUTE_OWNERS; o++)
		out->routes_by_owner[o] = rib_count_owner(ctl->rib, o, 0);
	out->nexthops = nexthop_table_used(ctl->nht);
	pthread_mutex_unlock(&ctl->route_lock);
	pthread_mutex_lock(&ctl->neigh_lock);
	neigh_get_stats(ctl->neigh, &ns);
	mac_table_get_stats(ctl->mac, &ms);
	pthread_mutex_unlock(&ctl->neigh_lock);
	out->neighbours = ns.entries;
	out->mac_entries = ms.entries;
	out->nexthops_capacity = ctl->cfg.max_routes_nexthops;
}

struct dataplane *control_dataplane(const struct control *ctl)
{
	return ctl->dp;
}
