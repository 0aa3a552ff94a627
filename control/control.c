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
#include "rib.h"

#define NEIGH_RELEASE_MAX     64 /* >= the table's queue_len (at most 64) */
#define NEIGH_PROBES_PER_TICK 64
#define CONTROL_LOOP_SLEEP_US 1000
#define CONTROL_TIMER_MS      100

static_assert(RIB_OWNERS == CONTROL_ROUTE_OWNERS, "rib.h and control.h count the same owners");

const uint8_t control_owner_precedence[CONTROL_ROUTE_OWNERS] = {
    [CONTROL_OWNER_CONNECTED] = 0, [CONTROL_OWNER_CONFIG] = 1, [CONTROL_OWNER_API] = 1,
    [CONTROL_OWNER_KERNEL] = 30,   [CONTROL_OWNER_FPM] = 20,
};

static const char *const owner_names[CONTROL_ROUTE_OWNERS] = {
    [CONTROL_OWNER_CONNECTED] = "connected",
    [CONTROL_OWNER_CONFIG] = "config",
    [CONTROL_OWNER_API] = "api",
    [CONTROL_OWNER_KERNEL] = "kernel",
    [CONTROL_OWNER_FPM] = "fpm",
};

static const char *const kind_names[] = {
    [CONTROL_ROUTE_UNICAST] = "unicast",
    [CONTROL_ROUTE_BLACKHOLE] = "blackhole",
    [CONTROL_ROUTE_UNREACHABLE] = "unreachable",
    [CONTROL_ROUTE_LOCAL] = "local",
    [CONTROL_ROUTE_PUNT] = "punt",
};
#define N_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))

const char *control_owner_name(uint8_t owner)
{
	return owner < CONTROL_ROUTE_OWNERS ? owner_names[owner] : "?";
}

int control_owner_parse(const char *name)
{
	for (int i = 0; i < CONTROL_ROUTE_OWNERS; i++)
		if (strcmp(name, owner_names[i]) == 0)
			return i;
	return -EINVAL;
}

const char *control_route_kind_name(uint8_t kind)
{
	return kind && kind < N_KINDS ? kind_names[kind] : "?";
}

int control_route_kind_parse(const char *name)
{
	for (unsigned i = 1; i < N_KINDS; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

uint64_t control_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- routes: checks and next hops ---------------------------------------------------------- */

uint8_t control_effective_precedence(uint8_t owner, const struct control_route *r)
{
	return r->precedence ? r->precedence : control_owner_precedence[owner];
}

static uint8_t route_kind(const struct control_route *r)
{
	return r->kind ? r->kind : CONTROL_ROUTE_UNICAST;
}

/* One path of a unicast route to prefix p: 0 and the next hop's key, or -errno. */
static int path_key(const struct control *ctl, const struct ip_prefix *p,
		    const struct control_path *path, struct nexthop_key *key)
{
	const struct iface_table *ift = ctl->ifaces;
	if (path->iface != IFACE_ID_NONE && !iface_table_get(ift, path->iface))
		return -ENODEV;
	if (path->gw.family == 0) {
		/* An interface route: the prefix is on-link there (`ip route ... dev IFACE`). */
		if (path->iface == IFACE_ID_NONE)
			return -EINVAL;
		*key = (struct nexthop_key){
		    .kind = NEXTHOP_CONNECTED, .family = p->addr.family, .iface = path->iface};
		return 0;
	}
	if (path->gw.family != p->addr.family)
		return -EINVAL; /* RFC 8950 next hops: not forwarded yet (nexthop.h has the type) */
	if (iface_table_is_local(ift, &path->gw, NULL) || ip_addr_is_unspecified(&path->gw))
		return -EINVAL; /* our own address cannot be a gateway */
	iface_id_t oif = path->iface;
	if (oif == IFACE_ID_NONE) {
		int err = iface_table_find_connected(ift, &path->gw, &oif);
		if (err)
			return err;
	} else if (!iface_table_on_link(ift, oif, &path->gw, NULL)) {
		return -ENETUNREACH;
	}
	*key = (struct nexthop_key){
	    .kind = NEXTHOP_GATEWAY, .family = path->gw.family, .iface = oif, .gw = path->gw};
	return 0;
}

/*
 * Bulk loads (a full table) send most routes via the same few gateways, and consecutive routes
 * via the same one: checking that path and finding its next hop once per run of them, not once
 * per route, is what keeps a full-table replace at the speed of the RIB and the LPM build. The
 * memo holds the last single-path route's path, its family, and (after the first build) its next
 * hop; it holds no reference, so a hit takes one with nexthop_hold(), which fails if the index
 * went meanwhile (then the path is built again). Everything a check reads is immutable once the
 * dataplane runs (the interface table), so a checked path stays checked.
 */
struct route_memo {
	bool valid;
	uint8_t family;
	struct control_path path;
	uint32_t nh; /* RIB_NH_NONE: not built yet */
};

static bool memo_hit(const struct route_memo *m, const struct control_route *r)
{
	return m && m->valid && r->n_paths == 1 && route_kind(r) == CONTROL_ROUTE_UNICAST &&
	       r->prefix.addr.family == m->family && r->paths[0].iface == m->path.iface &&
	       ip_addr_equal(&r->paths[0].gw, &m->path.gw);
}

static void memo_set(struct route_memo *m, const struct control_route *r, uint32_t nh)
{
	if (!m || r->n_paths != 1 || route_kind(r) != CONTROL_ROUTE_UNICAST)
		return;
	*m = (struct route_memo){
	    .valid = true, .family = r->prefix.addr.family, .path = r->paths[0], .nh = nh};
}

/* control_check_route() through a memo of the last checked path (m may be NULL). */
static int check_route_memo(struct control *ctl, uint8_t owner, const struct control_route *r,
			    struct route_memo *m)
{
	unsigned bits = ip_family_bits(r->prefix.addr.family);
	if (memo_hit(m, r) && owner < CONTROL_ROUTE_OWNERS && owner != CONTROL_OWNER_CONNECTED &&
	    r->prefix.len <= bits && !ip_prefix_has_host_bits(&r->prefix))
		return iface_table_is_connected_subnet(ctl->ifaces, &r->prefix) ? -EPERM : 0;
	int err = control_check_route(ctl, owner, r);
	if (!err)
		memo_set(m, r, RIB_NH_NONE);
	return err;
}

/* control_route_nexthop() through the memo (m may be NULL). */
static int route_nexthop_memo(struct control *ctl, const struct control_route *r,
			      struct route_memo *m, uint32_t *nh)
{
	if (memo_hit(m, r) && m->nh != RIB_NH_NONE && nexthop_hold(ctl->nht, m->nh) == 0) {
		*nh = m->nh;
		return 0;
	}
	int err = control_route_nexthop(ctl, r, nh);
	if (!err)
		memo_set(m, r, *nh);
	return err;
}

int control_check_route(struct control *ctl, uint8_t owner, const struct control_route *r)
{
	if (owner >= CONTROL_ROUTE_OWNERS)
		return -EINVAL;
	if (owner == CONTROL_OWNER_CONNECTED)
		return -EPERM;
	unsigned bits = ip_family_bits(r->prefix.addr.family);
	if (!bits || r->prefix.len > bits || ip_prefix_has_host_bits(&r->prefix))
		return -EINVAL;
	if (r->prefix.addr.family != AF_INET)
		return -EAFNOSUPPORT; /* lpm6 comes with IPv6 routing */
	uint8_t kind = route_kind(r);
	if (kind >= N_KINDS)
		return -EINVAL;
	if (iface_table_is_connected_subnet(ctl->ifaces, &r->prefix))
		return -EPERM; /* a connected subnet stays as the addresses say */
	if (kind != CONTROL_ROUTE_UNICAST)
		return r->n_paths ? -EINVAL : 0;
	if (r->n_paths == 0 || r->n_paths > CONTROL_ROUTE_PATHS_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < r->n_paths; i++) {
		struct nexthop_key key;
		int err = path_key(ctl, &r->prefix, &r->paths[i], &key);
		if (err)
			return err;
	}
	return 0;
}

int control_route_nexthop(struct control *ctl, const struct control_route *r, uint32_t *nh)
{
	static const uint8_t nh_kind[N_KINDS] = {
	    [CONTROL_ROUTE_BLACKHOLE] = NEXTHOP_BLACKHOLE,
	    [CONTROL_ROUTE_UNREACHABLE] = NEXTHOP_UNREACHABLE,
	    [CONTROL_ROUTE_LOCAL] = NEXTHOP_LOCAL,
	    [CONTROL_ROUTE_PUNT] = NEXTHOP_PUNT,
	};
	uint8_t kind = route_kind(r);
	if (kind != CONTROL_ROUTE_UNICAST) {
		struct nexthop_key key = {
		    .kind = nh_kind[kind], .family = r->prefix.addr.family, .iface = IFACE_ID_NONE};
		return nexthop_add(ctl->nht, &key, nh);
	}
	uint32_t members[CONTROL_ROUTE_PATHS_MAX];
	unsigned n = 0;
	int err = 0;
	for (unsigned i = 0; i < r->n_paths && !err; i++) {
		struct nexthop_key key;
		err = path_key(ctl, &r->prefix, &r->paths[i], &key);
		if (!err)
			err = nexthop_add(ctl->nht, &key, &members[n]);
		if (!err)
			n++;
	}
	if (!err && n == 1) {
		*nh = members[0];
		return 0;
	}
	if (!err)
		err = nexthop_add_group(ctl->nht, members, n, nh);
	/* The group holds its own references on its members: drop ours. */
	for (unsigned i = 0; i < n; i++)
		nexthop_put(ctl->nht, members[i]);
	return err;
}

int control_fib_install(struct control *ctl, const struct ip_prefix *p, uint32_t nh)
{
	if (p->addr.family != AF_INET)
		return 0; /* nothing to install before lpm6 exists */
	if (nh == RIB_NH_NONE) {
		int err = lpm4_delete(ctl->lpm, p->addr.v4, p->len);
		return err == -ENOENT ? 0 : err;
	}
	return lpm4_add(ctl->lpm, p->addr.v4, p->len, nh); /* replaces; takes its own reference */
}

/* Set owner's candidate p -> nh (the caller's reference passes to the RIB) and update the FIB.
 * Caller holds route_lock. */
static int route_apply(struct control *ctl, const struct ip_prefix *p, uint8_t owner,
		       uint8_t precedence, uint32_t nh)
{
	uint32_t before, after;
	int err = rib_set(ctl->rib, p, owner, precedence, nh, &before, &after);
	if (err) {
		nexthop_put(ctl->nht, nh);
		return err;
	}
	if (before != after)
		err = control_fib_install(ctl, p, after);
	return err;
}

/* ---- neighbours (neigh_lock) ------------------------------------------------------------- */

/* The neighbour table drops a held packet (queue full, resolution failed, entry deleted): count
 * it on its ingress port and free it. Runs on the control thread (or at control_free()), under
 * neigh_lock. */
static void neigh_drop_pkt(void *arg, void *pkt)
{
	struct control *ctl = arg;
	struct pkt_buf *b = pkt;
	dp_drop(dp_control_ctx(ctl->dp), dp_buf_rx_port(b), DP_DROP_ARP_UNRESOLVED, &b, 1);
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
	ctl->ifaces = dp_ifaces(dp);
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
	pthread_mutex_init(&ctl->route_lock, NULL);
	pthread_mutex_init(&ctl->neigh_lock, NULL);
	ctl->nht =
	    nexthop_table_create(ctl->cfg.max_routes_nexthops, ctl->cfg.max_routes_nexthops / 4);
	if (!ctl->nht)
		goto err;
	ctl->lpm = lpm4_create(ctl->nht);
	ctl->rib = rib_create(ctl->nht);
	struct neigh_config ncfg = {
	    .capacity = ctl->cfg.neigh_capacity, .free_pkt = neigh_drop_pkt, .free_ctx = ctl};
	ctl->neigh = neigh_table_create(&ncfg);
	struct mac_table_config mcfg = {.capacity = ctl->cfg.mac_capacity,
					.ageing_s = ctl->cfg.mac_max_age_s};
	ctl->mac = mac_table_create(&mcfg);
	if (!ctl->lpm || !ctl->rib || !ctl->neigh || !ctl->mac) {
		err = errno ? errno : ENOMEM;
		goto err;
	}
	/* Connected subnets are routes of their own (owner connected): the destination is
	 * resolved on the interface. The interface table already refused overlapping subnets.
	 * IPv6 subnets wait for lpm6. */
	for (iface_id_t i = 0; i < iface_table_count(ctl->ifaces); i++) {
		const struct iface *ifc = iface_table_get(ctl->ifaces, i);
		for (uint16_t a = 0; a < ifc->n_addrs; a++) {
			const struct ip_prefix *ad = &ifc->addrs[a].pfx;
			if (ad->addr.family != AF_INET)
				continue;
			struct ip_prefix p = {.addr = ip_addr_masked(&ad->addr, ad->len),
					      .len = ad->len};
			struct nexthop_key key = {
			    .kind = NEXTHOP_CONNECTED, .family = AF_INET, .iface = i};
			uint32_t nh;
			int e = nexthop_add(ctl->nht, &key, &nh);
			if (!e)
				e = route_apply(ctl, &p, CONTROL_OWNER_CONNECTED, 0, nh);
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
	if (dp_worker_count(ctl->dp))
		dp_ctx_flush(dp_control_ctx(ctl->dp));
	mac_table_free(ctl->mac);
	rib_free(ctl->rib); /* drops the candidates' next-hop references */
	lpm4_free(ctl->lpm);
	nexthop_table_free(ctl->nht);
	pthread_mutex_destroy(&ctl->neigh_lock);
	pthread_mutex_destroy(&ctl->route_lock);
	free(ctl);
}

/* Ask for ip on iface. Caller holds neigh_lock. */
static void solicit(struct control *ctl, iface_id_t iface, const struct ip_addr *ip)
{
	int err = dp_send_solicit(dp_control_ctx(ctl->dp), iface, ip);
	if (err) {
		char s[IP_ADDR_STRLEN];
		ip_addr_format(ip, s);
		LOG_WARN_RL("arp", "cannot ask for %s: %s", s, strerror(-err));
	}
}

static void handle_resolve(struct control *ctl, const struct dp_ctl_msg *m, uint64_t now)
{
	struct dp_ctx *cc = dp_control_ctx(ctl->dp);
	struct pkt_buf *b = m->buf;
	bool ask = false;
	int r = neigh_resolve(ctl->neigh, m->iface, &m->ip, b, now, &ask);
	if (r == -EAGAIN) { /* held by the table now */
		if (ask)
			solicit(ctl, m->iface, &m->ip);
		return;
	}
	if (r == 0) { /* resolved since the worker looked: send it now */
		uint8_t mac[6];
		if (neigh_lookup(ctl->neigh, m->iface, &m->ip, mac) == 0) {
			dp_send_resolved(cc, m->iface, mac, &b, 1);
			return;
		}
	}
	dp_drop(cc, dp_buf_rx_port(b), DP_DROP_ARP_UNRESOLVED, &b, 1); /* table full, no memory */
}

void control_handle_learn(struct control *ctl, const struct dp_ctl_msg *m, uint64_t now)
{
	/* RFC 826 "Packet Reception": update an entry we have; create one only when the ARP was
	 * addressed to us, and (our rule) came from one of our subnets on the interface: other
	 * senders are neighbours only once we asked for them (an on-link route's destination). */
	struct neigh_res res;
	unsigned queued;
	bool create = (m->flags & DP_CTL_F_TARGET_US) && (m->flags & DP_CTL_F_ON_LINK);
	if (!create && neigh_get(ctl->neigh, m->iface, &m->ip, &res, &queued) != 0)
		return;
	void *released[NEIGH_RELEASE_MAX];
	unsigned n = 0;
	int err = neigh_update(ctl->neigh, m->iface, &m->ip, m->mac, now, released,
			       NEIGH_RELEASE_MAX, &n);
	if (err)
		LOG_WARN_RL("arp", "cannot record a neighbour: %s", strerror(-err));
	for (unsigned i = 0; i < n; i++) {
		struct pkt_buf *b = released[i];
		dp_send_resolved(dp_control_ctx(ctl->dp), m->iface, m->mac, &b, 1);
	}
}

/* A packet for the host. No host interface exists yet (they come with the routing-daemon
 * work): count it. Caller holds neigh_lock (the control ctx). */
static void handle_punt(struct control *ctl, const struct dp_ctl_msg *m)
{
	struct pkt_buf *b = m->buf;
	dp_drop(dp_control_ctx(ctl->dp), m->in_port, DP_DROP_NO_HOST, &b, 1);
}

static void run_timers(struct control *ctl, uint64_t now)
{
	struct neigh_key ask[NEIGH_PROBES_PER_TICK];
	unsigned n = neigh_tick(ctl->neigh, now, ask, NEIGH_PROBES_PER_TICK);
	for (unsigned i = 0; i < n; i++)
		solicit(ctl, ask[i].iface, &ask[i].ip);
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
	/* Only the neighbour lock: a route writer holding route_lock across a grace period never
	 * delays resolution (control.h). */
	pthread_mutex_lock(&ctl->neigh_lock);
	for (uint16_t w = 0; w < dp_worker_count(dp); w++) {
		/* Bounded work per round per worker so one busy worker cannot starve the rest. */
		for (int k = 0; k < DP_CTL_RING_SIZE && dp_ctl_pop(dp, w, &m); k++) {
			if (m.type == DP_CTL_RESOLVE)
				handle_resolve(ctl, &m, now);
			else if (m.type == DP_CTL_LEARN)
				control_handle_learn(ctl, &m, now);
			else if (m.type == DP_CTL_PUNT)
				handle_punt(ctl, &m);
		}
	}
	if (now >= ctl->next_timer_ms) {
		run_timers(ctl, now);
		ctl->next_timer_ms = now + CONTROL_TIMER_MS;
	}
	/* Under the lock: the control ctx (its tx batches and queues) is only ever used by the
	 * holder of neigh_lock, whichever thread that is. */
	dp_ctx_flush(dp_control_ctx(dp));
	pthread_mutex_unlock(&ctl->neigh_lock);
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

/* ---- route writers (route_lock) ------------------------------------------------------------ */

int control_route_set(struct control *ctl, uint8_t owner, const struct control_route *r)
{
	int err = control_check_route(ctl, owner, r);
	if (err)
		return err;
	uint32_t nh;
	pthread_mutex_lock(&ctl->route_lock);
	err = control_route_nexthop(ctl, r, &nh);
	if (!err)
		err =
		    route_apply(ctl, &r->prefix, owner, control_effective_precedence(owner, r), nh);
	nexthop_table_reclaim(ctl->nht); /* replaced next hops, after a grace period */
	pthread_mutex_unlock(&ctl->route_lock);
	return err;
}

int control_route_delete(struct control *ctl, uint8_t owner, const struct ip_prefix *p)
{
	if (owner >= CONTROL_ROUTE_OWNERS)
		return -EINVAL;
	if (owner == CONTROL_OWNER_CONNECTED)
		return -EPERM;
	uint32_t before, after;
	pthread_mutex_lock(&ctl->route_lock);
	int err = rib_delete(ctl->rib, p, owner, &before, &after);
	if (!err && before != after)
		err = control_fib_install(ctl, p, after);
	if (!err)
		nexthop_table_reclaim(ctl->nht); /* waits for a grace period if an index retired */
	pthread_mutex_unlock(&ctl->route_lock);
	return err;
}

/* True if routes[0..k) has a route for the same prefix as routes[k]: a sort would be faster,
 * but this only runs for the small batches POST sends (bulk loads use replace). */
static bool seen_before(const struct control_route *routes, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (ip_prefix_equal(&routes[i].prefix, &routes[k].prefix))
			return true;
	return false;
}

int control_routes_add(struct control *ctl, uint8_t owner, const struct control_route *routes,
		       size_t n, size_t *bad)
{
	size_t k = 0;
	int err = 0;
	struct rib_candidate c;
	struct route_memo checked = {0}, built = {0};
	for (k = 0; k < n && !err; k++)
		err = check_route_memo(ctl, owner, &routes[k], &checked);
	if (err)
		goto out_unlocked;
	pthread_mutex_lock(&ctl->route_lock);
	/* 1. Everything that needs the tables, before any change. */
	for (k = 0; k < n && !err; k++)
		if (rib_get(ctl->rib, &routes[k].prefix, owner, &c) == 0 || seen_before(routes, k))
			err = -EEXIST;
	if (err)
		goto out;
	/* 2. Apply; on a failure (no memory, no next hop left) undo what this call added: those
	 * prefixes had no route of owner before, so deleting restores them. */
	for (k = 0; k < n && !err; k++) {
		uint32_t nh;
		err = route_nexthop_memo(ctl, &routes[k], &built, &nh);
		if (!err)
			err = route_apply(ctl, &routes[k].prefix, owner,
					  control_effective_precedence(owner, &routes[k]), nh);
	}
	if (err) {
		for (size_t i = 0; i + 1 < k; i++) {
			uint32_t before, after;
			if (rib_delete(ctl->rib, &routes[i].prefix, owner, &before, &after) == 0 &&
			    before != after && control_fib_install(ctl, &routes[i].prefix, after))
				LOG_ERR("control", "undoing a route add failed: out of memory");
		}
	}
	nexthop_table_reclaim(ctl->nht);
out:
	pthread_mutex_unlock(&ctl->route_lock);
out_unlocked:
	if (err && bad)
		*bad = k - 1;
	return err;
}

struct fib_collect {
	struct lpm4_route *r;
	size_t n;
};

static int collect_selected(void *arg, const struct ip_prefix *p,
			    const struct rib_candidate cands[RIB_OWNERS], uint8_t selected)
{
	struct fib_collect *c = arg;
	c->r[c->n++] =
	    (struct lpm4_route){.prefix = p->addr.v4, .len = p->len, .nh = cands[selected].nh};
	return 0;
}

/* control_routes_replace() with the routes checked; *removed (may be NULL) gets how many of
 * owner's old routes went. */
static int routes_replace_checked(struct control *ctl, uint8_t owner,
				  const struct control_route *routes, size_t n, size_t *bad,
				  size_t *removed)
{
	int err = 0;
	size_t k;
	struct route_memo built = {0};
	pthread_mutex_lock(&ctl->route_lock);
	/* 1. Owner's new route set, in the RIB: mark, set, sweep what was not set again. */
	rib_mark_owner(ctl->rib, owner);
	for (k = 0; k < n && !err; k++) {
		uint32_t nh;
		err = route_nexthop_memo(ctl, &routes[k], &built, &nh);
		if (!err)
			err = rib_set(ctl->rib, &routes[k].prefix, owner,
				      control_effective_precedence(owner, &routes[k]), nh, NULL,
				      NULL);
		if (err && bad)
			*bad = k;
	}
	if (err)
		LOG_ERR("control",
			"replacing %s routes: %s after %zu of %zu; the FIB keeps the "
			"routes set so far",
			control_owner_name(owner), strerror(-err), k - 1, n);
	size_t swept = rib_sweep_owner(ctl->rib, owner, NULL, NULL);
	if (removed)
		*removed = swept;
	/* 2. The FIB from the RIB's selection, in one publication. */
	struct fib_collect c = {.r = malloc((rib_count(ctl->rib, AF_INET) + 1) * sizeof(*c.r))};
	if (!c.r) {
		err = err ? err : -ENOMEM;
	} else {
		rib_walk(ctl->rib, AF_INET, collect_selected, &c);
		int e = lpm4_replace_all(ctl->lpm, c.r, c.n);
		err = err ? err : e;
		free(c.r);
	}
	nexthop_table_reclaim(ctl->nht); /* next hops of replaced routes, after a grace period */
	pthread_mutex_unlock(&ctl->route_lock);
	return err;
}

int control_routes_replace(struct control *ctl, uint8_t owner, const struct control_route *routes,
			   size_t n, size_t *bad)
{
	int err = 0;
	size_t k;
	struct route_memo checked = {0};
	for (k = 0; k < n && !err; k++)
		err = check_route_memo(ctl, owner, &routes[k], &checked);
	if (err) {
		if (bad)
			*bad = k - 1;
		return err;
	}
	return routes_replace_checked(ctl, owner, routes, n, bad, NULL);
}

long control_routes_flush(struct control *ctl, uint8_t owner)
{
	if (owner >= CONTROL_ROUTE_OWNERS)
		return -EINVAL;
	if (owner == CONTROL_OWNER_CONNECTED)
		return -EPERM;
	size_t removed = 0;
	int err = routes_replace_checked(ctl, owner, NULL, 0, NULL, &removed);
	return err ? err : (long)removed;
}

int control_set_neighbour(struct control *ctl, const struct ip_addr *ip, const uint8_t mac[6])
{
	iface_id_t iface;
	int err = iface_table_find_connected(ctl->ifaces, ip, &iface);
	if (err)
		return err;
	struct dp_ctl_msg m = {.type = DP_CTL_LEARN,
			       .flags = DP_CTL_F_TARGET_US | DP_CTL_F_ON_LINK,
			       .iface = iface,
			       .ip = *ip};
	memcpy(m.mac, mac, 6);
	pthread_mutex_lock(&ctl->neigh_lock);
	struct neigh_res res;
	unsigned queued;
	control_handle_learn(ctl, &m, control_now_ms());
	err = neigh_get(ctl->neigh, iface, ip, &res, &queued) == 0 ? 0 : -ENOMEM;
	dp_ctx_flush(dp_control_ctx(ctl->dp)); /* under the lock, as in control_poll() */
	pthread_mutex_unlock(&ctl->neigh_lock);
	return err;
}
