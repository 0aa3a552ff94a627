/*
 * control.c: see control.h.
 *
 * Neighbour state machine (per (iface, ip), private to this file; the dataplane sees only the
 * resolved MACs in the neighbour table):
 *
 *   (none) --RESOLVE--> INCOMPLETE --ARP learnt--> REACHABLE --no confirmation for
 *                        | ARP request every          ^   |     NEIGH_STALE_S--> refresh: ARP
 *                        | NEIGH_RETRY_MS, at most    |   |     request every NEIGH_RETRY_MS;
 *                        | NEIGH_MAX_PROBES           +---+     still nothing after
 *                        v                           (learn)    NEIGH_DEAD_S: invalidate, forget
 *                      forget, drop held packets
 *
 * Held packets: at most NEIGH_PENDING_MAX per INCOMPLETE neighbour; when full the oldest goes
 * (RFC 1122 2.3.2.2: keep at least the latest). All drops are counted as DP_DROP_ARP_UNRESOLVED on
 * the packet's ingress port, in the control ctx's counters.
 */
#define _GNU_SOURCE
#include "control.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dp_tables.h"
#include "log.h"
#include "lpm4.h"
#include "mac_table.h"
#include "nexthop.h"

#define NEIGH_PENDING_MAX 4
#define NEIGH_RETRY_MS 1000
#define NEIGH_MAX_PROBES 3
#define NEIGH_STALE_S 60
#define NEIGH_DEAD_S 90
#define NEIGH_MAX 4096
#define CONTROL_LOOP_SLEEP_US 1000
#define CONTROL_TIMER_MS 100

enum neigh_state_kind { NEIGH_INCOMPLETE = 1, NEIGH_REACHABLE };

struct neigh_state {
	uint16_t iface;
	uint8_t kind; /* enum neigh_state_kind */
	uint8_t probes;
	uint32_t ip;
	uint8_t mac[ETH_ALEN];
	uint64_t confirmed_ms; /* REACHABLE: last time ARP told us */
	uint64_t next_probe_ms;
	uint32_t n_pending;
	struct pkt_buf *pending[NEIGH_PENDING_MAX];
};

struct control {
	struct dataplane *dp;
	struct control_config cfg;
	pthread_mutex_t lock; /* serialises every table writer (lpm4.h, nexthop.h: one writer) */
	struct nexthop_table *nht;
	struct lpm4 *lpm;
	struct dp_neigh_table *neigh;
	struct mac_table *mac;
	struct neigh_state *nb; /* a small array: resolution is rare, a linear scan is enough */
	uint32_t n_nb;
	uint64_t next_timer_ms;
	uint32_t last_mac_age_s;
	pthread_t thread;
	bool running;
	bool stop;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int find_connected_iface(const struct dataplane *dp, uint32_t ip, uint16_t *iface)
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
static int route_set(struct control *ctl, uint32_t prefix, uint8_t len, uint32_t gw, uint16_t iface)
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
	ctl->neigh = dp_neigh_table_create(ctl->cfg.neigh_capacity);
	struct mac_table_config mcfg = {.capacity = ctl->cfg.mac_capacity,
					.ageing_s = ctl->cfg.mac_max_age_s};
	ctl->mac = mac_table_create(&mcfg);
	ctl->nb = calloc(NEIGH_MAX, sizeof(*ctl->nb));
	if (!ctl->lpm || !ctl->neigh || !ctl->mac || !ctl->nb) {
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
				LOG_ERR("control", "%s: subnet of address %u of %s is already connected",
					ifc->name, a, ifc->name);
				err = EEXIST;
				goto err;
			}
			int e = route_set(ctl, prefix, ifc->addrs[a].len, 0, i);
			if (e) {
				err = -e;
				goto err;
			}
		}
	}
	struct dp_tables tables = {.lpm = ctl->lpm, .nht = ctl->nht, .neigh = ctl->neigh,
				   .mac = ctl->mac};
	dp_set_tables(dp, &tables);
	ctl->last_mac_age_s = dp_now_s();
	return ctl;
err:
	control_free(ctl);
	errno = err;
	return NULL;
}

static void neigh_drop_pending(struct control *ctl, struct neigh_state *n)
{
	struct dp_ctx *cc = dp_control_ctx(ctl->dp);
	for (uint32_t i = 0; i < n->n_pending; i++)
		dp_drop(cc, n->pending[i]->rx_port, DP_DROP_ARP_UNRESOLVED, &n->pending[i], 1);
	n->n_pending = 0;
}

static void neigh_remove(struct control *ctl, struct neigh_state *n)
{
	neigh_drop_pending(ctl, n);
	*n = ctl->nb[--ctl->n_nb]; /* keep the array dense: the last entry moves here */
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	control_stop(ctl);
	if (ctl->nb) {
		while (ctl->n_nb)
			neigh_remove(ctl, &ctl->nb[0]);
		dp_ctx_flush(dp_control_ctx(ctl->dp));
	}
	free(ctl->nb);
	mac_table_free(ctl->mac);
	dp_neigh_table_free(ctl->neigh);
	lpm4_free(ctl->lpm);
	nexthop_table_free(ctl->nht);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}

static struct neigh_state *neigh_find(struct control *ctl, uint16_t iface, uint32_t ip)
{
	for (uint32_t i = 0; i < ctl->n_nb; i++)
		if (ctl->nb[i].ip == ip && ctl->nb[i].iface == iface)
			return &ctl->nb[i];
	return NULL;
}

static void neigh_probe(struct control *ctl, struct neigh_state *n, uint64_t now)
{
	int err = dp_send_arp_request(dp_control_ctx(ctl->dp), n->iface, n->ip);
	if (err)
		LOG_WARN_RL("arp", "cannot ask for %u.%u.%u.%u on %s: %s", n->ip >> 24,
			    (n->ip >> 16) & 255, (n->ip >> 8) & 255, n->ip & 255,
			    ctl->dp->ifaces[n->iface].name, strerror(-err));
	n->probes++;
	n->next_probe_ms = now + NEIGH_RETRY_MS;
}

static void handle_resolve(struct control *ctl, const struct dp_ctl_msg *m, uint64_t now)
{
	struct dp_ctx *cc = dp_control_ctx(ctl->dp);
	struct pkt_buf *b = m->buf;
	struct neigh_state *n = neigh_find(ctl, m->iface, m->ip);
	if (n && n->kind == NEIGH_REACHABLE) {
		/* Resolved since the worker looked: send it now. */
		dp_send_resolved(cc, n->iface, n->mac, &b, 1);
		return;
	}
	if (!n) {
		if (ctl->n_nb == NEIGH_MAX) {
			dp_drop(cc, b->rx_port, DP_DROP_ARP_UNRESOLVED, &b, 1);
			return;
		}
		n = &ctl->nb[ctl->n_nb++];
		*n = (struct neigh_state){.iface = m->iface, .ip = m->ip, .kind = NEIGH_INCOMPLETE};
		neigh_probe(ctl, n, now);
	}
	if (n->n_pending == NEIGH_PENDING_MAX) {
		/* RFC 1122 2.3.2.2: keep the latest; the oldest goes. */
		dp_drop(cc, n->pending[0]->rx_port, DP_DROP_ARP_UNRESOLVED, &n->pending[0], 1);
		memmove(n->pending, n->pending + 1, (NEIGH_PENDING_MAX - 1) * sizeof(n->pending[0]));
		n->n_pending--;
	}
	n->pending[n->n_pending++] = b;
}

static void handle_learn(struct control *ctl, const struct dp_ctl_msg *m, uint64_t now)
{
	struct neigh_state *n = neigh_find(ctl, m->iface, m->ip);
	/* RFC 826 "Packet Reception": update an entry we have; create one only when the ARP was
	 * addressed to us. */
	if (!n) {
		if (!(m->flags & DP_CTL_F_TARGET_US) || ctl->n_nb == NEIGH_MAX)
			return;
		n = &ctl->nb[ctl->n_nb++];
		*n = (struct neigh_state){.iface = m->iface, .ip = m->ip};
	}
	if (dp_neigh_set(ctl->neigh, n->iface, n->ip, m->mac) != 0) {
		LOG_WARN_RL("arp", "neighbour table full");
		return;
	}
	memcpy(n->mac, m->mac, ETH_ALEN);
	n->kind = NEIGH_REACHABLE;
	n->confirmed_ms = now;
	n->probes = 0;
	if (n->n_pending) {
		dp_send_resolved(dp_control_ctx(ctl->dp), n->iface, n->mac, n->pending, n->n_pending);
		n->n_pending = 0;
	}
}

static void run_timers(struct control *ctl, uint64_t now)
{
	for (uint32_t i = 0; i < ctl->n_nb;) {
		struct neigh_state *n = &ctl->nb[i];
		if (n->kind == NEIGH_INCOMPLETE) {
			if (now >= n->next_probe_ms) {
				if (n->probes >= NEIGH_MAX_PROBES) {
					neigh_remove(ctl, n);
					continue; /* slot i now holds another entry */
				}
				neigh_probe(ctl, n, now);
			}
		} else if (now - n->confirmed_ms > NEIGH_DEAD_S * 1000ull) {
			dp_neigh_invalidate(ctl->neigh, n->iface, n->ip);
			neigh_remove(ctl, n);
			continue;
		} else if (now - n->confirmed_ms > NEIGH_STALE_S * 1000ull && now >= n->next_probe_ms) {
			neigh_probe(ctl, n, now); /* refresh while still using the old MAC */
		}
		i++;
	}
	uint32_t now_s = dp_now_s();
	if (now_s != ctl->last_mac_age_s) {
		ctl->last_mac_age_s = now_s;
		mac_table_age(ctl->mac, now_s); /* about once a second, as mac_table.h asks */
	}
}

void control_poll(struct control *ctl)
{
	struct dataplane *dp = ctl->dp;
	uint64_t now = now_ms();
	struct dp_ctl_msg m;
	pthread_mutex_lock(&ctl->lock);
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		/* Bounded work per round per worker so one busy worker cannot starve the rest. */
		for (int k = 0; k < DP_CTL_RING_SIZE && dp_ctl_pop(dp, w, &m); k++) {
			if (m.type == DP_CTL_RESOLVE)
				handle_resolve(ctl, &m, now);
			else if (m.type == DP_CTL_LEARN)
				handle_learn(ctl, &m, now);
		}
	}
	if (now >= ctl->next_timer_ms) {
		run_timers(ctl, now);
		ctl->next_timer_ms = now + CONTROL_TIMER_MS;
	}
	pthread_mutex_unlock(&ctl->lock);
	dp_ctx_flush(dp_control_ctx(dp));
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
	int err = find_connected_iface(ctl->dp, gw, &iface);
	if (err)
		return err;
	pthread_mutex_lock(&ctl->lock);
	uint32_t old;
	if (lpm4_get(ctl->lpm, prefix, len, &old) == 0 && nexthop_get(ctl->nht, old)->gw_ip == 0)
		err = -EPERM; /* a connected route stays as the addresses say */
	else
		err = route_set(ctl, prefix, len, gw, iface);
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
