/* neigh.c: see neigh.h. */
#include "neigh.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "rcu.h"

/* One neighbour. Readers use key, next and res; everything after is the control thread's. */
struct neigh_entry {
	struct neigh_key key;	     /* an IPv4 key's bytes past v4 are zero */
	struct neigh_entry *next;    /* RCU-published chain */
	const struct neigh_res *res; /* RCU-published, immutable */
	uint64_t confirmed_ms;	     /* last neigh_update() */
	uint64_t probe_ms;	     /* last request (incomplete) */
	uint32_t probes;
	uint32_t q_head, q_count; /* ring of queued packets */
	void *queue[];
};

struct neigh_table {
	struct neigh_entry **bucket; /* RCU-published heads */
	uint32_t mask;
	struct neigh_config cfg;
	struct neigh_stats st;
	struct rcu_retire_list retire;
};

/*
 * The bucket hash: multiplicative (Knuth's golden ratio constant), the interface mixed in by a
 * second odd constant so that one address on several interfaces spreads. IPv6 addresses are
 * folded to 32 bits first; both families share the chains, told apart by the key's family.
 */
static uint32_t hash4(iface_id_t iface, uint32_t ip)
{
	return ((ip ^ (iface * 0x85ebca77u)) * 0x9e3779b1u) >> 8;
}

static uint32_t hash6(iface_id_t iface, const uint8_t v6[16])
{
	uint32_t w[4];
	memcpy(w, v6, 16);
	return hash4(iface, w[0] * 0xc2b2ae3du ^ w[1] * 0x27d4eb2fu ^ w[2] * 0x165667b1u ^ w[3]);
}

static uint32_t key_hash(iface_id_t iface, const struct ip_addr *ip)
{
	return ip->family == AF_INET ? hash4(iface, ip->v4) : hash6(iface, ip->v6);
}

struct neigh_table *neigh_table_create(const struct neigh_config *cfg)
{
	if (cfg->capacity == 0 || cfg->capacity > (1u << 22) || cfg->queue_len > 64 ||
	    !cfg->free_pkt) {
		errno = EINVAL;
		return NULL;
	}
	struct neigh_table *t = calloc(1, sizeof(*t));
	if (!t)
		goto err;
	t->cfg = *cfg;
	t->cfg.reachable_ms = cfg->reachable_ms ? cfg->reachable_ms : 30000;
	t->cfg.stale_ms = cfg->stale_ms ? cfg->stale_ms : 60000;
	t->cfg.retrans_ms = cfg->retrans_ms ? cfg->retrans_ms : 1000;
	t->cfg.max_probes = cfg->max_probes ? cfg->max_probes : 3;
	t->cfg.queue_len = cfg->queue_len ? cfg->queue_len : 4;
	uint32_t n = 16;
	while (n < cfg->capacity)
		n *= 2;
	t->bucket = calloc(n, sizeof(*t->bucket));
	if (!t->bucket)
		goto err_t;
	t->mask = n - 1;
	t->retire = (struct rcu_retire_list)RCU_RETIRE_LIST_INIT;
	return t;

err_t:
	free(t);
err:
	errno = ENOMEM;
	return NULL;
}

static void drop_queue(struct neigh_table *t, struct neigh_entry *e)
{
	for (; e->q_count > 0; e->q_count--) {
		t->cfg.free_pkt(t->cfg.free_ctx, e->queue[e->q_head]);
		e->q_head = (e->q_head + 1) % t->cfg.queue_len;
		t->st.queue_drops++;
	}
}

void neigh_table_free(struct neigh_table *t)
{
	if (!t)
		return;
	for (uint32_t b = 0; b <= t->mask; b++) {
		for (struct neigh_entry *e = t->bucket[b], *next; e; e = next) {
			next = e->next;
			drop_queue(t, e);
			free((void *)e->res);
			free(e);
		}
	}
	rcu_retire_destroy(&t->retire);
	free(t->bucket);
	free(t);
}

/*
 * The entry for (iface, ip), IPv4 form. Acquire loads pair with the release stores in
 * create()/unlink_entry(): a reader that reaches an entry sees it fully initialised (key
 * included). The control thread reads the same way.
 */
static struct neigh_entry *find4(const struct neigh_table *t, iface_id_t iface, uint32_t ip)
{
	struct neigh_entry *e =
	    __atomic_load_n(&t->bucket[hash4(iface, ip) & t->mask], __ATOMIC_ACQUIRE);
	while (e && !(e->key.ip.v4 == ip && e->key.iface == iface && e->key.ip.family == AF_INET))
		e = __atomic_load_n(&e->next, __ATOMIC_ACQUIRE);
	return e;
}

/* The same for IPv6 (same orders). */
static struct neigh_entry *find6(const struct neigh_table *t, iface_id_t iface,
				 const uint8_t v6[16])
{
	struct neigh_entry *e =
	    __atomic_load_n(&t->bucket[hash6(iface, v6) & t->mask], __ATOMIC_ACQUIRE);
	while (e && !(e->key.iface == iface && e->key.ip.family == AF_INET6 &&
		      memcmp(e->key.ip.v6, v6, 16) == 0))
		e = __atomic_load_n(&e->next, __ATOMIC_ACQUIRE);
	return e;
}

/* Either family; NULL for an address of neither. */
static struct neigh_entry *find(const struct neigh_table *t, iface_id_t iface,
				const struct ip_addr *ip)
{
	if (ip->family == AF_INET)
		return find4(t, iface, ip->v4);
	if (ip->family == AF_INET6)
		return find6(t, iface, ip->v6);
	return NULL;
}

static int lookup_entry(const struct neigh_entry *e, uint8_t mac[6])
{
	if (!e)
		return -ENOENT;
	/* Pairs with the release store in set_res(): the resolution is complete. */
	const struct neigh_res *r = __atomic_load_n(&e->res, __ATOMIC_ACQUIRE);
	if (r->state == NEIGH_INCOMPLETE)
		return -EAGAIN;
	memcpy(mac, r->mac, 6);
	return 0;
}

int neigh_lookup4(const struct neigh_table *t, iface_id_t iface, uint32_t ip, uint8_t mac[6])
{
	return lookup_entry(find4(t, iface, ip), mac);
}

int neigh_lookup(const struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip,
		 uint8_t mac[6])
{
	return lookup_entry(find(t, iface, ip), mac);
}

/* Publish a new resolution for e and retire the old one. 0 or -ENOMEM (e unchanged). */
static int set_res(struct neigh_table *t, struct neigh_entry *e, const uint8_t mac[6],
		   enum neigh_state state)
{
	struct neigh_res *r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct neigh_res){.state = (uint8_t)state};
	if (mac)
		memcpy(r->mac, mac, 6);
	const struct neigh_res *old = e->res;
	/* Release pairs with the acquire load in neigh_lookup(): *r is written before it is seen.
	 */
	__atomic_store_n(&e->res, r, __ATOMIC_RELEASE);
	rcu_retire(&t->retire, (void *)old, sizeof(*old), NULL, NULL);
	return 0;
}

/* A new incomplete entry at the head of its chain. NULL on EINVAL/ENOSPC/ENOMEM. */
static struct neigh_entry *create(struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip,
				  int *err)
{
	if (ip->family != AF_INET && ip->family != AF_INET6) {
		*err = -EINVAL;
		return NULL;
	}
	if (t->st.entries >= t->cfg.capacity) {
		t->st.refused_full++;
		*err = -ENOSPC;
		return NULL;
	}
	struct neigh_entry *e = calloc(1, sizeof(*e) + t->cfg.queue_len * sizeof(e->queue[0]));
	struct neigh_res *r = calloc(1, sizeof(*r));
	if (!e || !r) {
		free(e);
		free(r);
		*err = -ENOMEM;
		return NULL;
	}
	r->state = NEIGH_INCOMPLETE;
	e->key.iface = iface;
	e->key.ip = ip->family == AF_INET ? ip_addr_v4(ip->v4) : ip_addr_v6(ip->v6);
	e->res = r;
	struct neigh_entry **head = &t->bucket[key_hash(iface, ip) & t->mask];
	e->next = *head;
	/* Release pairs with the acquire loads in find(): e is complete before it is reachable. */
	__atomic_store_n(head, e, __ATOMIC_RELEASE);
	t->st.entries++;
	return e;
}

/* Unlink e (whose predecessor link is *link) and retire it. */
static void unlink_entry(struct neigh_table *t, struct neigh_entry **link, struct neigh_entry *e)
{
	/* Release for symmetry with create(); e->next was published before, readers already on e
	 * continue along it, and e stays valid until the grace period ends. */
	__atomic_store_n(link, e->next, __ATOMIC_RELEASE);
	drop_queue(t, e);
	rcu_retire(&t->retire, (void *)e->res, sizeof(*e->res), NULL, NULL);
	rcu_retire(&t->retire, e, sizeof(*e), NULL, NULL);
	t->st.entries--;
}

int neigh_resolve(struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip, void *pkt,
		  uint64_t now_ms, bool *send_request)
{
	struct neigh_entry *e = find(t, iface, ip);
	int err = 0;
	*send_request = false;
	if (e && e->res->state != NEIGH_INCOMPLETE)
		return 0;
	if (!e) {
		e = create(t, iface, ip, &err);
		if (!e)
			return err;
		e->probe_ms = now_ms;
		e->probes = 1;
		*send_request = true;
	}
	if (e->q_count == t->cfg.queue_len) { /* full: drop the oldest, keep the newest */
		t->cfg.free_pkt(t->cfg.free_ctx, e->queue[e->q_head]);
		e->q_head = (e->q_head + 1) % t->cfg.queue_len;
		e->q_count--;
		t->st.queue_drops++;
	}
	e->queue[(e->q_head + e->q_count++) % t->cfg.queue_len] = pkt;
	return -EAGAIN;
}

/* Hand up to max_released queued packets of e to the caller, drop the rest. */
static void release_queue(struct neigh_table *t, struct neigh_entry *e, void **released,
			  unsigned max_released, unsigned *n_released)
{
	while (e->q_count > 0) {
		void *pkt = e->queue[e->q_head];
		e->q_head = (e->q_head + 1) % t->cfg.queue_len;
		e->q_count--;
		if (*n_released < max_released) {
			released[(*n_released)++] = pkt;
		} else {
			t->cfg.free_pkt(t->cfg.free_ctx, pkt);
			t->st.queue_drops++;
		}
	}
}

int neigh_update(struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip,
		 const uint8_t mac[6], uint64_t now_ms, void **released, unsigned max_released,
		 unsigned *n_released)
{
	struct neigh_entry *e = find(t, iface, ip);
	int err = 0;
	bool created = false;
	*n_released = 0;
	if (!e) {
		e = create(t, iface, ip, &err);
		if (!e)
			return err;
		created = true;
	}
	if (e->res->state == NEIGH_STATIC)
		return 0; /* set by hand: ARP does not change it (and nothing waits for it) */
	bool was_incomplete = !created && e->res->state == NEIGH_INCOMPLETE;
	const struct neigh_res *cur = e->res;
	/* Republish only if something readers see changes. */
	if (cur->state != NEIGH_REACHABLE || memcmp(cur->mac, mac, 6)) {
		err = set_res(t, e, mac, NEIGH_REACHABLE);
		if (err < 0)
			return err;
	}
	e->confirmed_ms = now_ms;
	e->probes = 0;
	if (was_incomplete)
		t->st.resolved++;
	release_queue(t, e, released, max_released, n_released);
	return 0;
}

int neigh_set_static(struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip,
		     const uint8_t mac[6], void **released, unsigned max_released,
		     unsigned *n_released)
{
	struct neigh_entry *e = find(t, iface, ip);
	int err = 0;
	*n_released = 0;
	if (!e) {
		e = create(t, iface, ip, &err);
		if (!e)
			return err;
	} else if (e->res->state == NEIGH_INCOMPLETE) {
		t->st.resolved++;
	}
	const struct neigh_res *cur = e->res;
	if (cur->state != NEIGH_STATIC || memcmp(cur->mac, mac, 6)) {
		err = set_res(t, e, mac, NEIGH_STATIC);
		if (err < 0)
			return err;
	}
	e->probes = 0;
	release_queue(t, e, released, max_released, n_released);
	return 0;
}

unsigned neigh_tick(struct neigh_table *t, uint64_t now_ms, struct neigh_key *probes,
		    unsigned max_probes)
{
	unsigned n_probes = 0;
	for (uint32_t b = 0; b <= t->mask; b++) {
		struct neigh_entry **link = &t->bucket[b];
		for (struct neigh_entry *e = *link; e;) {
			struct neigh_entry *next = e->next;
			bool gone = false;
			switch (e->res->state) {
			case NEIGH_INCOMPLETE:
				if (now_ms - e->probe_ms < t->cfg.retrans_ms)
					break;
				if (e->probes >= t->cfg.max_probes) {
					t->st.failed++;
					gone = true;
				} else if (n_probes < max_probes) {
					probes[n_probes++] = e->key;
					e->probes++;
					e->probe_ms = now_ms;
				}
				break;
			case NEIGH_REACHABLE:
				if (now_ms - e->confirmed_ms >= t->cfg.reachable_ms)
					(void)set_res(t, e, e->res->mac,
						      NEIGH_STALE); /* on ENOMEM: next tick */
				break;
			case NEIGH_STALE:
				gone = now_ms - e->confirmed_ms >= t->cfg.stale_ms;
				break;
			case NEIGH_STATIC: /* never ages */
				break;
			}
			if (gone)
				unlink_entry(t, link, e);
			else
				link = &e->next;
			e = next;
		}
	}
	rcu_retire_flush(&t->retire);
	return n_probes;
}

/* Remove (iface, ip), or with ip NULL every entry on iface. Returns how many. */
static unsigned remove_if(struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip)
{
	unsigned removed = 0;
	uint32_t first = ip ? key_hash(iface, ip) & t->mask : 0; /* one chain for one address */
	uint32_t last = ip ? first : t->mask;
	for (uint32_t b = first; b <= last; b++) {
		struct neigh_entry **link = &t->bucket[b];
		for (struct neigh_entry *e = *link; e;) {
			struct neigh_entry *next = e->next;
			if (e->key.iface == iface && (!ip || ip_addr_equal(&e->key.ip, ip))) {
				unlink_entry(t, link, e);
				removed++;
			} else {
				link = &e->next;
			}
			e = next;
		}
	}
	rcu_retire_flush(&t->retire);
	return removed;
}

int neigh_delete(struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip)
{
	if (ip->family != AF_INET && ip->family != AF_INET6)
		return -ENOENT;
	return remove_if(t, iface, ip) ? 0 : -ENOENT;
}

unsigned neigh_flush_iface(struct neigh_table *t, iface_id_t iface)
{
	return remove_if(t, iface, NULL);
}

int neigh_get(const struct neigh_table *t, iface_id_t iface, const struct ip_addr *ip,
	      struct neigh_res *res, unsigned *queued)
{
	const struct neigh_entry *e = find(t, iface, ip);
	if (!e)
		return -ENOENT;
	*res = *e->res;
	*queued = e->q_count;
	return 0;
}

int neigh_walk(const struct neigh_table *t,
	       int (*fn)(void *arg, const struct neigh_key *key, const struct neigh_res *res,
			 unsigned queued),
	       void *arg)
{
	for (uint32_t b = 0; b <= t->mask; b++)
		for (const struct neigh_entry *e = t->bucket[b]; e; e = e->next) {
			int rc = fn(arg, &e->key, e->res, e->q_count);
			if (rc)
				return rc;
		}
	return 0;
}

void neigh_get_stats(const struct neigh_table *t, struct neigh_stats *st)
{
	*st = t->st;
}
