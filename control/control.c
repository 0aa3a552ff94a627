/*
 * control.c: see control.h.
 *
 * Neighbour resolution uses tables/neigh.h, which keeps the states (incomplete, reachable,
 * stale), the timers and a few held packets per unresolved address (RFC 1122 2.3.2.2: at least
 * the latest is kept). This file feeds it: RESOLVE requests from the workers go to
 * neigh_resolve() (and an ARP request out when it says so), LEARN requests to neigh_update()
 * (whose released packets are sent at once), and neigh_tick() names the addresses to ask again.
 * Packets the table drops come back through neigh_drop_pkt() and are counted as
 * DP_DROP_ARP_UNRESOLVED on their ingress port, in the control ctx's counters.
 */
#define _GNU_SOURCE
#include "control.h"
#include "control_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "lpm4.h"
#include "mac_table.h"
#include "neigh.h"
#include "nexthop.h"

#define NEIGH_RELEASE_MAX     64 /* >= the table's queue_len (at most 64) */
#define NEIGH_PROBES_PER_TICK 64
#define CONTROL_LOOP_SLEEP_US 1000
#define CONTROL_TIMER_MS      100

uint64_t control_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int control_find_connected_iface(const struct dataplane *dp, uint32_t ip, uint16_t *iface)
{
	for (uint16_t i = 0; i < dp->n_ifaces; i++) {
		if (dp->ifaces[i].n_ports && dp_iface_on_link(dp, i, ip, NULL)) {
			*iface = i;
			return 0;
		}
	}
	return -ENETUNREACH;
}

/* Route prefix/len to {gw, iface}. Caller holds ctl->lock. */
int control_route_set(struct control *ctl, uint32_t prefix, uint8_t len, uint32_t gw,
		      uint16_t iface)
{
	uint32_t nh;
	int err = nexthop_add(ctl->nht, gw, iface, &nh);
	if (err)
		return err;
	err = lpm4_add(ctl->lpm, prefix, len, nh);
	/* The route took its own reference (or failed): drop ours either way. */
	nexthop_put(ctl->nht, nh);
	return err;
}

/* The neighbour table drops a held packet (queue full, resolution failed, entry deleted): count
 * it on its ingress port and free it. Runs on the control thread (or at control_free()). */
static void neigh_drop_pkt(void *arg, void *pkt)
{
	struct control *ctl = arg;
	struct pkt_buf *b = pkt;
	dp_drop(dp_control_ctx(ctl->dp), b->rx_port, DP_DROP_ARP_UNRESOLVED, &b, 1);
}

struct control *control_create(struct dataplane *dp, const struct control_config *cfg)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		errno = ENOMEM;
		return NULL;
	}
	int err = ENOMEM;
	ctl->dp = dp;
	if (cfg)
		ctl->cfg = *cfg;
	if (!ctl->cfg.max_routes_nexthops)
		ctl->cfg.max_routes_nexthops = 4096;
	if (!ctl->cfg.neigh_capacity)
		ctl->cfg.neigh_capacity = 4096;
	if (!ctl->cfg.mac_capacity)
		ctl->cfg.mac_capacity = 16384;
	if (!ctl->cfg.mac_max_age_s)
		ctl->cfg.mac_max_age_s = 300;
	pthread_mutex_init(&ctl->lock, NULL);
	ctl->nht = nexthop_table_create(ctl->cfg.max_routes_nexthops);
	if (!ctl->nht)
		goto err;
	ctl->lpm = lpm4_create(ctl->nht);
	struct neigh_config ncfg = {
	    .capacity = ctl->cfg.neigh_capacity, .free_pkt = neigh_drop_pkt, .free_ctx = ctl};
	ctl->neigh = neigh_table_create(&ncfg);
	struct mac_table_config mcfg = {.capacity = ctl->cfg.mac_capacity,
					.ageing_s = ctl->cfg.mac_max_age_s};
	ctl->mac = mac_table_create(&mcfg);
	if (!ctl->lpm || !ctl->neigh || !ctl->mac) {
		err = errno ? errno : ENOMEM;
		goto err;
	}
	/* Connected subnets are routes of their own: gateway 0 resolves the destination itself. */
	for (uint16_t i = 0; i < dp->n_ifaces; i++) {
		const struct dp_iface *ifc = &dp->ifaces[i];
		for (uint16_t a = 0; a < ifc->n_addrs; a++) {
			uint32_t prefix = ifc->addrs[a].ip & ifc->addrs[a].mask;
			uint32_t existing;
			if (lpm4_get(ctl->lpm, prefix, ifc->addrs[a].len, &existing) == 0) {
				LOG_ERR("control",
					"%s: subnet of address %u of %s is already connected",
					ifc->name, a, ifc->name);
				err = EEXIST;
				goto err;
			}
			int e = control_route_set(ctl, prefix, ifc->addrs[a].len, 0, i);
			if (e) {
				err = -e;
				goto err;
			}
		}
	}
	struct dp_tables tables = {
	    .lpm = ctl->lpm, .nht = ctl->nht, .neigh = ctl->neigh, .mac = ctl->mac};
	dp_set_tables(dp, &tables);
	ctl->last_mac_age_s = dp_now_s();
	return ctl;
err:
	control_free(ctl);
	errno = err;
	return NULL;
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	control_stop(ctl);
	neigh_table_free(ctl->neigh); /* drops what it still holds through neigh_drop_pkt() */
	if (ctl->dp->ctx[0])
		dp_ctx_flush(dp_control_ctx(ctl->dp));
	mac_table_free(ctl->mac);
	lpm4_free(ctl->lpm);
	nexthop_table_free(ctl->nht);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}

static void ip_str(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* Ask for ip on the iface whose connected subnet holds it. */
static void arp_ask(struct control *ctl, uint32_t ip)
{
	uint16_t iface;
	int err = control_find_connected_iface(ctl->dp, ip, &iface);
	if (!err)
		err = dp_send_arp_request(dp_control_ctx(ctl->dp), iface, ip);
	if (err) {
		char s[16];
		ip_str(ip, s, sizeof(s));
		LOG_WARN_RL("arp", "cannot ask for %s: %s", s, strerror(-err));
	}
}

static void handle_resolve(struct control *ctl, const struct dp_ctl_msg *m, uint64_t now)
{
	struct dp_ctx *cc = dp_control_ctx(ctl->dp);
	struct pkt_buf *b = m->buf;
	bool ask = false;
	int r = neigh_resolve(ctl->neigh, m->ip, b, now, &ask);
	if (r == -EAGAIN) { /* held by the table now */
		if (ask)
			arp_ask(ctl, m->ip);
		return;
	}
	if (r == 0) { /* resolved since the worker looked: send it now */
		uint8_t mac[ETH_ALEN];
		uint16_t iface;
		if (neigh_lookup(ctl->neigh, m->ip, mac, &iface) == 0) {
			dp_send_resolved(cc, iface, mac, &b, 1);
			return;
		}
	}
	dp_drop(cc, b->rx_port, DP_DROP_ARP_UNRESOLVED, &b, 1); /* table full or no memory */
}

void control_handle_learn(struct control *ctl, const struct dp_ctl_msg *m, uint64_t now)
{
	/* RFC 826 "Packet Reception": update an entry we have; create one only when the ARP was
	 * addressed to us. */
	struct neigh_res res;
	unsigned queued;
	if (!(m->flags & DP_CTL_F_TARGET_US) && neigh_get(ctl->neigh, m->ip, &res, &queued) != 0)
		return;
	void *released[NEIGH_RELEASE_MAX];
	unsigned n = 0;
	int err =
	    neigh_update(ctl->neigh, m->ip, m->mac, m->iface, now, released, NEIGH_RELEASE_MAX, &n);
	if (err)
		LOG_WARN_RL("arp", "cannot record a neighbour: %s", strerror(-err));
	for (unsigned i = 0; i < n; i++) {
		struct pkt_buf *b = released[i];
		dp_send_resolved(dp_control_ctx(ctl->dp), m->iface, m->mac, &b, 1);
	}
}

static void run_timers(struct control *ctl, uint64_t now)
{
	uint32_t ask[NEIGH_PROBES_PER_TICK];
	unsigned n = neigh_tick(ctl->neigh, now, ask, NEIGH_PROBES_PER_TICK);
	for (unsigned i = 0; i < n; i++)
		arp_ask(ctl, ask[i]);
	uint32_t now_s = dp_now_s();
	if (now_s != ctl->last_mac_age_s) {
		ctl->last_mac_age_s = now_s;
		mac_table_age(ctl->mac, now_s); /* about once a second, as mac_table.h asks */
	}
}

void control_poll(struct control *ctl)
{
	struct dataplane *dp = ctl->dp;
	uint64_t now = control_now_ms();
	struct dp_ctl_msg m;
	pthread_mutex_lock(&ctl->lock);
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		/* Bounded work per round per worker so one busy worker cannot starve the rest. */
		for (int k = 0; k < DP_CTL_RING_SIZE && dp_ctl_pop(dp, w, &m); k++) {
			if (m.type == DP_CTL_RESOLVE)
				handle_resolve(ctl, &m, now);
			else if (m.type == DP_CTL_LEARN)
				control_handle_learn(ctl, &m, now);
		}
	}
	if (now >= ctl->next_timer_ms) {
		run_timers(ctl, now);
		ctl->next_timer_ms = now + CONTROL_TIMER_MS;
	}
	/* Under the lock: the control ctx (its tx batches and queues) is only ever used by the
	 * holder of ctl->lock, whichever thread that is. */
	dp_ctx_flush(dp_control_ctx(dp));
	pthread_mutex_unlock(&ctl->lock);
}

static void *control_main(void *arg)
{
	struct control *ctl = arg;
	struct timespec pause = {.tv_nsec = CONTROL_LOOP_SLEEP_US * 1000};
	/* Relaxed: stop carries no data; pthread_join orders the rest. */
	while (!__atomic_load_n(&ctl->stop, __ATOMIC_RELAXED)) {
		control_poll(ctl);
		nanosleep(&pause, NULL);
	}
	control_poll(ctl); /* take what the workers queued before they stopped */
	return NULL;
}

int control_start(struct control *ctl)
{
	if (ctl->running)
		return -EBUSY;
	__atomic_store_n(&ctl->stop, false, __ATOMIC_RELAXED);
	int err = pthread_create(&ctl->thread, NULL, control_main, ctl);
	if (err)
		return -err;
	pthread_setname_np(ctl->thread, "ixyd-control");
	ctl->running = true;
	return 0;
}

void control_stop(struct control *ctl)
{
	if (!ctl->running)
		return;
	__atomic_store_n(&ctl->stop, true, __ATOMIC_RELAXED);
	pthread_join(ctl->thread, NULL);
	ctl->running = false;
}

int control_add_route(struct control *ctl, uint32_t prefix, uint8_t len, uint32_t gw)
{
	uint16_t iface;
	if (len > 32)
		return -EINVAL;
	int err = control_find_connected_iface(ctl->dp, gw, &iface);
	if (err)
		return err;
	pthread_mutex_lock(&ctl->lock);
	uint32_t old;
	if (lpm4_get(ctl->lpm, prefix, len, &old) == 0 && nexthop_get(ctl->nht, old)->gw_ip == 0)
		err = -EPERM; /* a connected route stays as the addresses say */
	else
		err = control_route_set(ctl, prefix, len, gw, iface);
	pthread_mutex_unlock(&ctl->lock);
	return err;
}

int control_del_route(struct control *ctl, uint32_t prefix, uint8_t len)
{
	uint32_t nh;
	pthread_mutex_lock(&ctl->lock);
	int err = lpm4_get(ctl->lpm, prefix, len, &nh);
	if (!err && nexthop_get(ctl->nht, nh)->gw_ip == 0)
		err = -EPERM;
	if (!err)
		err = lpm4_delete(ctl->lpm, prefix, len);
	if (!err)
		nexthop_table_reclaim(ctl->nht); /* waits for a grace period if an index retired */
	pthread_mutex_unlock(&ctl->lock);
	return err;
}

int control_get_route(struct control *ctl, uint32_t prefix, uint8_t len, uint32_t *gw,
		      uint16_t *iface)
{
	uint32_t nh;
	pthread_mutex_lock(&ctl->lock);
	int err = lpm4_get(ctl->lpm, prefix, len, &nh);
	if (!err) {
		const struct nexthop *h = nexthop_get(ctl->nht, nh);
		*gw = h->gw_ip;
		*iface = h->port_id;
	}
	pthread_mutex_unlock(&ctl->lock);
	return err;
}

/* Release n references taken with nexthop_add(). Caller holds ctl->lock. */
static void put_nexthops(struct control *ctl, const struct lpm4_route *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nexthop_put(ctl->nht, r[i].nh);
}

int control_replace_routes(struct control *ctl, const struct control_route *routes, size_t n)
{
	return control_replace_routes_at(ctl, routes, n, NULL);
}

int control_replace_routes_at(struct control *ctl, const struct control_route *routes, size_t n,
			      size_t *bad)
{
	const struct dataplane *dp = ctl->dp;
	size_t n_conn = 0;
	for (uint16_t i = 0; i < dp->n_ifaces; i++)
		n_conn += dp->ifaces[i].n_addrs;
	struct lpm4_route *r = malloc((n + n_conn + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	size_t held = 0;
	int err = 0;
	pthread_mutex_lock(&ctl->lock);
	/* 1. Connected routes, as control_create() made them. */
	for (uint16_t i = 0; i < dp->n_ifaces && !err; i++)
		for (uint16_t a = 0; a < dp->ifaces[i].n_addrs && !err; a++) {
			const struct dp_addr *ad = &dp->ifaces[i].addrs[a];
			r[held] = (struct lpm4_route){.prefix = ad->ip & ad->mask, .len = ad->len};
			err = nexthop_add(ctl->nht, 0, i, &r[held].nh);
			if (!err)
				held++;
		}
	/* 2. The new routes, checked one by one; each holds a next-hop reference until the
	 * table has taken its own. */
	for (size_t k = 0; k < n && !err; k++) {
		const struct control_route *cr = &routes[k];
		uint16_t iface;
		if (cr->len > 32 || (cr->len < 32 && (cr->prefix & (UINT32_MAX >> cr->len)))) {
			err = -EINVAL;
			break;
		}
		for (size_t c = 0; c < n_conn; c++)
			if (r[c].prefix == cr->prefix && r[c].len == cr->len)
				err = -EPERM;
		if (!err && control_is_local_ip(dp, cr->gw))
			err = -EINVAL; /* our own address cannot be a gateway */
		if (!err)
			err = control_find_connected_iface(dp, cr->gw, &iface);
		if (err)
			break;
		r[held] = (struct lpm4_route){.prefix = cr->prefix, .len = cr->len};
		err = nexthop_add(ctl->nht, cr->gw, iface, &r[held].nh);
		if (!err)
			held++;
	}
	/* 3. One publication; the table holds its own references from now on. */
	if (!err)
		err = lpm4_replace_all(ctl->lpm, r, held);
	put_nexthops(ctl, r, held);
	if (!err)
		nexthop_table_reclaim(
		    ctl->nht); /* next hops of replaced routes, after a grace period */
	pthread_mutex_unlock(&ctl->lock);
	free(r);
	if (err && bad)
		*bad = held >= n_conn ? held - n_conn : 0; /* the route being checked or added */
	return err;
}

int control_set_neighbour(struct control *ctl, uint32_t ip, const uint8_t mac[ETH_ALEN])
{
	uint16_t iface;
	int err = control_find_connected_iface(ctl->dp, ip, &iface);
	if (err)
		return err;
	struct dp_ctl_msg m = {
	    .type = DP_CTL_LEARN, .flags = DP_CTL_F_TARGET_US, .iface = iface, .ip = ip};
	memcpy(m.mac, mac, ETH_ALEN);
	pthread_mutex_lock(&ctl->lock);
	struct neigh_res res;
	unsigned queued;
	control_handle_learn(ctl, &m, control_now_ms());
	err = neigh_get(ctl->neigh, ip, &res, &queued) == 0 ? 0 : -ENOMEM;
	dp_ctx_flush(dp_control_ctx(ctl->dp)); /* under the lock, as in control_poll() */
	pthread_mutex_unlock(&ctl->lock);
	return err;
}
