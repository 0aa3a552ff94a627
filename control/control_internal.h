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
	struct control_config cfg;
	pthread_mutex_t lock; /* serialises every table writer (lpm4.h, nexthop.h: one writer) */
	struct nexthop_table *nht;
	struct lpm4 *lpm;
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
/* The iface whose connected subnet holds ip: 0 and *iface, or -ENETUNREACH. */
int control_find_connected_iface(const struct dataplane *dp, uint32_t ip, uint16_t *iface);
/* True if ip is an address of one of our ifaces. */
bool control_is_local_ip(const struct dataplane *dp, uint32_t ip);
/* Route prefix/len to {gw, iface}. Caller holds ctl->lock. 0 or -errno of nexthop_add/lpm4_add. */
int control_route_set(struct control *ctl, uint32_t prefix, uint8_t len, uint32_t gw,
		      uint16_t iface);
/* What an ARP seen by a worker (m) tells the neighbour table; sends what it released on the
 * control ctx (flushed by the caller). Caller holds ctl->lock. */
void control_handle_learn(struct control *ctl, const struct dp_ctl_msg *m, uint64_t now);

#endif
