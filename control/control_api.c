/*
 * control_api.c: the control plane's queries and changes for the REST API (control.h, second
 * half). Each call holds the control lock while it reads or writes the tables, so it is
 * serialised with the control thread and with every other writer; workers are never waited for
 * except through RCU grace periods (route deletes and replacements).
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

static uint32_t mask_of(uint8_t len)
{
	return len ? UINT32_MAX << (32 - len) : 0; /* a shift by 32 would be undefined */
}

bool control_is_local_ip(const struct dataplane *dp, uint32_t ip)
{
	for (uint16_t i = 0; i < dp->n_ifaces; i++)
		for (uint16_t a = 0; a < dp->ifaces[i].n_addrs; a++)
			if (dp->ifaces[i].addrs[a].ip == ip)
				return true;
	return false;
}

static bool is_connected_subnet(const struct dataplane *dp, uint32_t prefix, uint8_t len)
{
	for (uint16_t i = 0; i < dp->n_ifaces; i++)
		for (uint16_t a = 0; a < dp->ifaces[i].n_addrs; a++) {
			const struct dp_addr *ad = &dp->ifaces[i].addrs[a];
			if (ad->len == len && (ad->ip & ad->mask) == prefix)
				return true;
		}
	return false;
}

/* Checks of one route that need no table: 0 and *iface, or -errno as control_add_routes(). */
static int check_route(const struct dataplane *dp, const struct control_route *r, uint16_t *iface)
{
	if (r->len > 32 || (r->prefix & ~mask_of(r->len)))
		return -EINVAL;
	if (is_connected_subnet(dp, r->prefix, r->len))
		return -EPERM;
	if (control_is_local_ip(dp, r->gw))
		return -EINVAL;
	return control_find_connected_iface(dp, r->gw, iface);
}

/* ---- routes ---------------------------------------------------------------------------------- */

struct list_ctx {
	const struct nexthop_table *nht;
	struct control_route_info *out;
	size_t max, n;
};

static int list_one(void *arg, uint32_t prefix, uint8_t len, uint32_t nh)
{
	struct list_ctx *c = arg;
	if (c->n == c->max)
		return 1;
	const struct nexthop *h = nexthop_get(c->nht, nh);
	c->out[c->n++] = (struct control_route_info){.prefix = prefix,
						     .len = len,
						     .connected = h->gw_ip == 0,
						     .gw = h->gw_ip,
						     .iface = h->port_id};
	return 0;
}

size_t control_list_routes(struct control *ctl, size_t offset, struct control_route_info *out,
			   size_t max, size_t *total)
{
	struct lpm4_stats st;
	struct list_ctx c = {.nht = ctl->nht, .out = out, .max = max};
	pthread_mutex_lock(&ctl->lock);
	lpm4_get_stats(ctl->lpm, &st);
	if (max)
		lpm4_walk(ctl->lpm, offset, list_one, &c);
	pthread_mutex_unlock(&ctl->lock);
	*total = st.routes;
	return c.n;
}

struct export_ctx {
	const struct nexthop_table *nht;
	struct control_route *out;
	size_t n;
};

static int export_one(void *arg, uint32_t prefix, uint8_t len, uint32_t nh)
{
	struct export_ctx *c = arg;
	const struct nexthop *h = nexthop_get(c->nht, nh);
	if (h->gw_ip != 0)
		c->out[c->n++] =
		    (struct control_route){.prefix = prefix, .len = len, .gw = h->gw_ip};
	return 0;
}

int control_export_routes(struct control *ctl, struct control_route **out, size_t *n)
{
	struct lpm4_stats st;
	int err = 0;
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&ctl->lock);
	lpm4_get_stats(ctl->lpm, &st);
	struct export_ctx c = {.nht = ctl->nht, .out = malloc((st.routes + 1) * sizeof(*c.out))};
	if (!c.out) {
		err = -ENOMEM;
		goto out;
	}
	lpm4_walk(ctl->lpm, 0, export_one, &c);
	if (c.n) {
		*out = c.out;
		*n = c.n;
	} else {
		free(c.out);
	}
out:
	pthread_mutex_unlock(&ctl->lock);
	return err;
}

int control_add_routes(struct control *ctl, const struct control_route *routes, size_t n,
		       size_t *bad)
{
	size_t k = 0, added = 0;
	uint16_t iface;
	uint32_t nh;
	int err = 0;
	pthread_mutex_lock(&ctl->lock);
	/* 1. Check everything that can be checked without changing the table. */
	for (k = 0; k < n && !err; k++) {
		err = check_route(ctl->dp, &routes[k], &iface);
		if (!err && lpm4_get(ctl->lpm, routes[k].prefix, routes[k].len, &nh) == 0)
			err = -EEXIST;
	}
	if (err) {
		k--;
		goto out;
	}
	/* 2. Add; a duplicate within routes shows up as an existing route here. On any error undo
	 * what this call added (those prefixes had no route before, so deleting restores). */
	for (k = 0; k < n; k++) {
		const struct control_route *r = &routes[k];
		if (lpm4_get(ctl->lpm, r->prefix, r->len, &nh) == 0) {
			err = -EEXIST;
			break;
		}
		(void)control_find_connected_iface(ctl->dp, r->gw, &iface); /* checked in 1. */
		err = control_route_set(ctl, r->prefix, r->len, r->gw, iface);
		if (err)
			break;
		added++;
	}
	if (err) {
		for (size_t i = 0; i < added; i++)
			if (lpm4_delete(ctl->lpm, routes[i].prefix, routes[i].len) != 0)
				LOG_ERR("control", "undoing a route add failed: out of memory");
		nexthop_table_reclaim(ctl->nht);
	}
out:
	pthread_mutex_unlock(&ctl->lock);
	if (err && bad)
		*bad = k;
	return err;
}

int control_fib_lookup(struct control *ctl, uint32_t dst, struct control_fib *out)
{
	int err = -ENOENT;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ctl->lock);
	/* 1. What a worker gets: the published table. The control lock keeps writers out, so
	 * the exact-match search of step 2 sees the same route set. */
	uint32_t nh = lpm4_lookup(ctl->lpm, dst);
	if (nh == LPM4_NH_NONE)
		goto out;
	/* 2. Name the route: the longest prefix of dst with an exact entry. */
	for (int len = 32; len >= 0; len--) {
		uint32_t p = dst & mask_of((uint8_t)len), got;
		if (lpm4_get(ctl->lpm, p, (uint8_t)len, &got) == 0) {
			if (got != nh)
				LOG_ERR_RL("control", "fib: lookup and route set disagree");
			out->route.prefix = p;
			out->route.len = (uint8_t)len;
			break;
		}
	}
	const struct nexthop *h = nexthop_get(ctl->nht, nh);
	out->route.gw = h->gw_ip;
	out->route.iface = h->port_id;
	out->route.connected = h->gw_ip == 0;
	out->nexthop_ip = h->gw_ip ? h->gw_ip : dst;
	/* 3. The next hop's neighbour entry, if any. */
	struct neigh_res res;
	unsigned queued;
	if (neigh_get(ctl->neigh, out->nexthop_ip, &res, &queued) == 0) {
		out->neigh_state = res.state;
		if (res.state != NEIGH_INCOMPLETE)
			memcpy(out->mac, res.mac, ETH_ALEN);
	}
	err = 0;
out:
	pthread_mutex_unlock(&ctl->lock);
	return err;
}

/* ---- neighbours -------------------------------------------------------------------------------
 */

struct neigh_list_ctx {
	struct control_neigh_info *out;
	size_t max, n;
};

static int neigh_list_one(void *arg, uint32_t ip, const struct neigh_res *res, unsigned queued)
{
	struct neigh_list_ctx *c = arg;
	if (c->n < c->max) {
		struct control_neigh_info *e = &c->out[c->n];
		*e = (struct control_neigh_info){.ip = ip,
						 .iface = res->port_id,
						 .state = res->state,
						 .queued = (uint16_t)queued};
		memcpy(e->mac, res->mac, ETH_ALEN);
	}
	c->n++;
	return 0;
}

size_t control_list_neighbours(struct control *ctl, struct control_neigh_info *out, size_t max)
{
	struct neigh_list_ctx c = {.out = out, .max = max};
	pthread_mutex_lock(&ctl->lock);
	neigh_walk(ctl->neigh, neigh_list_one, &c);
	pthread_mutex_unlock(&ctl->lock);
	return c.n;
}

#define STATIC_RELEASE_MAX 64 /* >= the neighbour table's queue_len */

int control_set_static_neighbour(struct control *ctl, uint32_t ip, const uint8_t mac[ETH_ALEN])
{
	uint16_t iface;
	if ((mac[0] & 1) || control_is_local_ip(ctl->dp, ip))
		return -EINVAL;
	int err = control_find_connected_iface(ctl->dp, ip, &iface);
	if (err)
		return err;
	void *released[STATIC_RELEASE_MAX];
	unsigned n = 0;
	pthread_mutex_lock(&ctl->lock);
	err = neigh_set_static(ctl->neigh, ip, mac, iface, released, STATIC_RELEASE_MAX, &n);
	for (unsigned i = 0; i < n; i++) {
		struct pkt_buf *b = released[i];
		dp_send_resolved(dp_control_ctx(ctl->dp), iface, mac, &b, 1);
	}
	dp_ctx_flush(dp_control_ctx(ctl->dp)); /* under the lock, as in control_poll() */
	pthread_mutex_unlock(&ctl->lock);
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
	pthread_mutex_lock(&ctl->lock);
	mac_table_walk(ctl->mac, mac_list_one, &c);
	pthread_mutex_unlock(&ctl->lock);
	return c.n;
}

unsigned control_flush_mac(struct control *ctl, int port)
{
	pthread_mutex_lock(&ctl->lock);
	unsigned n =
	    port < 0 ? mac_table_flush(ctl->mac) : mac_table_flush_port(ctl->mac, (uint16_t)port);
	pthread_mutex_unlock(&ctl->lock);
	return n;
}

/* ---- ports ----------------------------------------------------------------------------------- */

int control_port_info(struct control *ctl, uint16_t port, struct control_port_info *info)
{
	const struct dataplane *dp = ctl->dp;
	if (port >= dp->n_ports)
		return -ENOENT;
	const struct dp_port *p = &dp->ports[port];
	struct ixy_link link = {0};
	memset(info, 0, sizeof(*info));
	memcpy(info->mac, p->mac, ETH_ALEN);
	if (ixy_get_link(p->dev, &link) == 0) { /* any thread (device.h) */
		info->link_up = link.up;
		info->speed_mbps = link.speed_mbps;
	}
	info->bridged = p->bridged;
	info->iface = p->iface;
	info->rx_queues = p->n_rxq;
	info->tx_queues = p->n_txq;
	info->driver = p->dev->ops->driver_name;
	info->device = p->dev->name;
	/* The lock orders this read after control_set_promisc()'s driver call, its only writer
	 * once the dataplane runs. */
	pthread_mutex_lock(&ctl->lock);
	info->promisc = p->dev->promisc;
	pthread_mutex_unlock(&ctl->lock);
	return 0;
}

int control_set_promisc(struct control *ctl, uint16_t port, bool on)
{
	struct dataplane *dp = ctl->dp;
	if (port >= dp->n_ports)
		return -ENOENT;
	if (dp->ports[port].bridged && !on)
		return -EBUSY; /* a bridge must see every frame to switch (dataplane.h) */
	/* set_promisc is a control-path call (device.h): the lock makes its callers one at a
	 * time. Workers keep polling the port meanwhile; drivers allow that. */
	pthread_mutex_lock(&ctl->lock);
	int err = ixy_set_promisc(dp->ports[port].dev, on);
	pthread_mutex_unlock(&ctl->lock);
	return err;
}

/* ---- sizes ----------------------------------------------------------------------------------- */

void control_table_sizes(struct control *ctl, struct control_table_sizes *out)
{
	struct lpm4_stats ls;
	struct neigh_stats ns;
	struct mac_table_stats ms;
	pthread_mutex_lock(&ctl->lock);
	lpm4_get_stats(ctl->lpm, &ls);
	neigh_get_stats(ctl->neigh, &ns);
	mac_table_get_stats(ctl->mac, &ms);
	pthread_mutex_unlock(&ctl->lock);
	*out =
	    (struct control_table_sizes){.routes = ls.routes,
					 .neighbours = ns.entries,
					 .mac_entries = ms.entries,
					 .routes_capacity_nexthops = ctl->cfg.max_routes_nexthops};
}

const struct dataplane *control_dataplane(const struct control *ctl)
{
	return ctl->dp;
}
