/*
 * control_internal.h: the control object and the helpers control.c shares with control_api.c.
 * Not part of control's interface.
 */
#ifndef IXYD_CONTROL_INTERNAL_H
#define IXYD_CONTROL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "control.h"

struct control {
	struct dataplane *dp;
	const struct iface_table *ifaces; /* the dataplane's; immutable once it runs */
	struct control_config cfg;
	/* The two locks (control.h). route_lock: rib, lpm, nht, which have one writer at a time
	 * and hold it across grace periods. neigh_lock: neigh, the control ctx of the dataplane,
	 * promiscuous changes and MAC table ageing/flushes. Order: route_lock before neigh_lock. */
	pthread_mutex_t route_lock;
	pthread_mutex_t neigh_lock;
	struct nexthop_table *nht;
	struct lpm4 *lpm;
	struct rib *rib;
	struct neigh_table *neigh;
	struct mac_table *mac;
	uint64_t next_timer_ms;
	uint32_t last_mac_age_s;
	pthread_t thread;
	bool running;
	bool stop;
};

/* Monotonic milliseconds, the clock the neighbour table runs on. */
uint64_t control_now_ms(void);
/* What an ARP seen by a worker (m) tells the neighbour table; sends what it released on the
 * control ctx (flushed by the caller). Caller holds ctl->neigh_lock. */
void control_handle_learn(struct control *ctl, const struct dp_ctl_msg *m, uint64_t now);

/* The precedence a route of owner gets (r->precedence, or the owner's default). */
uint8_t control_effective_precedence(uint8_t owner, const struct control_route *r);
/* Check r as control_route_set() does, without changing anything. 0 or -errno. */
int control_check_route(struct control *ctl, uint8_t owner, const struct control_route *r);
/* The next hop r needs, with one reference for the caller. Caller holds route_lock; r checked. */
int control_route_nexthop(struct control *ctl, const struct control_route *r, uint32_t *nh);
/* Install the selected next hop of p in the FIB (RIB_NH_NONE: remove). Caller holds route_lock. */
int control_fib_install(struct control *ctl, const struct ip_prefix *p, uint32_t nh);
/* Fill info for p's candidate of owner with next hop nh. */
void control_route_info_fill(const struct control *ctl, const struct ip_prefix *p, uint8_t owner,
			     uint8_t precedence, uint32_t nh, bool selected,
			     struct control_route_info *info);

#endif
