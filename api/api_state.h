/*
 * api_state.h: what the handlers and the server see of the state's snapshot and journal
 * (api_state.c; the public open/close are in api.h). Each api_state_* change call saves one
 * change the tables already hold, before the API answers.
 *
 * Threads: the change calls with the API's change lock held (the lock given to
 * api_state_start()); start/stop from the thread that creates and frees the API.
 */
#ifndef IXYD_API_STATE_H
#define IXYD_API_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api.h"

/* Start the compaction thread, which takes change_lock for its switch. st NULL: nothing.
 * 0 or -errno. */
int api_state_start(struct api_state *st, pthread_mutex_t *change_lock);
/* Stop and join it (a compaction in progress finishes first). NULL is a no-op. */
void api_state_stop(struct api_state *st);

/* Save one change: 0 (on disk, or st is NULL: nothing is saved) or -errno (-ENOSPC, -EIO,
 * -ENOMEM): the change is in the tables but not on disk. */
int api_state_route_add(struct api_state *st, const struct control_route *r, size_t n);
int api_state_routes_replace(struct api_state *st, const struct control_route *r, size_t n);
int api_state_route_del(struct api_state *st, const struct ip_prefix *p);
int api_state_neigh_static(struct api_state *st, const struct ip_addr *ip, const uint8_t mac[6]);
int api_state_promisc(struct api_state *st, const char *port, bool on);

/* The snapshot's path ("" for NULL), for messages. */
const char *api_state_path(const struct api_state *st);

#endif
