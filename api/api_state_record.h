/*
 * api_state_record.h: the JSON of the state's journal records and of the routes in its
 * snapshot (docs/api.md, "Persistence"). Each record describes one change, as one small JSON
 * object with an "op":
 *
 *   {"op":"route_add","routes":[ROUTE,...]}       POST /routes (one route or a list: one change)
 *   {"op":"routes_replace","routes":[ROUTE,...]}  PUT /routes (the whole set)
 *   {"op":"route_del","prefix":"10.9.0.0/16"}     DELETE /routes/{prefix}
 *   {"op":"neigh_static","ip":"10.2.0.9","mac":"02:00:00:00:00:09"}
 *   {"op":"promisc","port":"p0","on":true}
 *
 * ROUTE is a route object of the API's body form ({"prefix":"10.9.0.0/16","via":"10.2.0.2"},
 * or with "iface", "nexthops", "type", "precedence"), written by api_format_route() alone, for
 * the journal and the snapshot alike, and read back by api_parse_routes(): a field added to
 * routes is added in those two places. One formatting function per record type. Interface names
 * in routes are resolved through the interface table given to the calls.
 *
 * Threads: every function is reentrant.
 */
#ifndef IXYD_API_STATE_RECORD_H
#define IXYD_API_STATE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api_parse.h"
#include "control.h"
#include "iface.h"
#include "ipaddr.h"

enum state_op {
	STATE_ROUTE_ADD,
	STATE_ROUTES_REPLACE,
	STATE_ROUTE_DEL,
	STATE_NEIGH_STATIC,
	STATE_PROMISC,
};

#define STATE_PORT_NAME_MAX 32 /* as dataplane.h's port names, NUL included */

/* One decoded record. */
struct state_change {
	enum state_op op;
	struct api_route_set set; /* route_add, routes_replace */
	struct ip_prefix prefix;  /* route_del */
	struct ip_addr ip;	  /* neigh_static */
	uint8_t mac[6];
	char port[STATE_PORT_NAME_MAX]; /* promisc */
	bool on;
};

/* Room for one route's text in the common form ({"prefix":P,"via":A}, both IPv6 at most). */
#define STATE_ROUTE_TEXT_COMMON 128
/* Room route r's text needs (api_format_route() never writes more, NUL included): the common
 * form, gateway only, or the most any route takes. */
static inline size_t state_route_room(const struct control_route *r)
{
	bool common = r->n_paths == 1 && !r->precedence && r->paths[0].iface == IFACE_ID_NONE;
	return common ? STATE_ROUTE_TEXT_COMMON : API_ROUTE_TEXT_MAX;
}

/* The records, malloc'd (not NUL-terminated in the count: *len excludes the NUL that follows),
 * or NULL on ENOMEM. op is STATE_ROUTE_ADD or STATE_ROUTES_REPLACE for state_record_routes(). */
char *state_record_routes(enum state_op op, const struct control_route *r, size_t n,
			  const struct iface_table *ift, size_t *len);
char *state_record_route_del(const struct ip_prefix *p, size_t *len);
char *state_record_neigh_static(const struct ip_addr *ip, const uint8_t mac[6], size_t *len);
char *state_record_promisc(const char *port, bool on, size_t *len);

/*
 * Decode the record p[0..len) (not NUL-terminated). 0 and *c (free it with state_change_free),
 * or -EINVAL with why (whylen bytes) saying what is wrong, or -ENOMEM. Unknown ops and unknown
 * or missing keys are errors.
 */
int state_record_decode(const char *p, size_t len, const struct iface_table *ift,
			struct state_change *c, char *why, size_t whylen);
void state_change_free(struct state_change *c);

/* One top-level member of the JSON object in buf[0..len) at *pos: its key (at most keylen - 1
 * bytes, no escapes) and the slice [*vstart, *vend) of its value; *pos moves past the value.
 * 0 or -EINVAL. Shared with the snapshot reader. */
int state_json_member(const char *buf, size_t len, size_t *pos, char *key, size_t keylen,
		      size_t *vstart, size_t *vend);
/* After a member: 1 if a ',' followed (another member), 0 if the closing '}', -EINVAL else. */
int state_json_next(const char *buf, size_t len, size_t *pos);

#endif
