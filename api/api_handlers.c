/*
 * api_handlers.c: the endpoints of docs/api.md. Each handler reads through control.h's queries
 * and changes through its calls; changes run under api->change_lock and are followed by their
 * journal record (api_state.h), so a 2xx answer to a change means it is applied and (with a
 * state file) on disk.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_internal.h"
#include "log.h"
#include "neigh.h"

const struct api_endpoint api_endpoints[] = {
    {"/api/v1/health", API_GET, EP_HEALTH},
    {"/api/v1/ports", API_GET, EP_PORTS},
    {"/api/v1/ports/{}", API_GET | API_PATCH, EP_PORT},
    {"/api/v1/ports/{}/stats", API_GET, EP_PORT_STATS},
    {"/api/v1/routes", API_GET | API_POST | API_PUT, EP_ROUTES},
    {"/api/v1/routes/{*}", API_GET | API_DELETE, EP_ROUTE},
    {"/api/v1/fib", API_GET, EP_FIB},
    {"/api/v1/mac-table", API_GET | API_DELETE, EP_MAC_TABLE},
    {"/api/v1/neighbors", API_GET | API_POST, EP_NEIGHBORS},
    {"/metrics", API_GET, EP_METRICS},
};
const size_t api_n_endpoints = sizeof(api_endpoints) / sizeof(api_endpoints[0]);

size_t api_body_limit(int endpoint_id, unsigned method)
{
	if (endpoint_id == EP_ROUTES && (method & (API_POST | API_PUT)))
		return API_ROUTES_BODY_MAX;
	return API_BODY_MAX;
}

void api_reply_json(struct api_response *rs, unsigned status, json_t *o)
{
	rs->status = status;
	rs->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!rs->body) {
		rs->status = 500;
		rs->body = strdup("{\"error\":\"out of memory\",\"detail\":null}");
	}
	rs->len = rs->body ? strlen(rs->body) : 0;
	rs->content_type = "application/json";
}

void api_reply_error(struct api_response *rs, unsigned status, const char *error,
		     const char *detail_fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, detail_fmt);
	vsnprintf(detail, sizeof(detail), detail_fmt, ap);
	va_end(ap);
	rs->status = status;
	rs->body = api_error_body(error, detail);
	rs->len = rs->body ? strlen(rs->body) : 0;
	rs->content_type = "application/json";
	if (status >= 500)
		LOG_WARN_RL("api", "%u %s: %s", status, error, detail);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *addr_json(const struct ip_addr *a)
{
	char s[IP_ADDR_STRLEN];
	ip_addr_format(a, s);
	return json_string(s);
}

static json_t *prefix_json(const struct ip_prefix *p)
{
	char s[IP_PREFIX_STRLEN];
	ip_prefix_format(p, s);
	return json_string(s);
}

static json_t *mac_json(const uint8_t m[6])
{
	char s[18];
	snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return json_string(s);
}

static const char *iface_name(const struct api *api, iface_id_t id)
{
	const struct iface *ifc = iface_table_get(dp_ifaces(control_dataplane(api->ctl)), id);
	return ifc ? ifc->name : "?";
}

static const char *port_name(const struct api *api, port_id_t port, struct dp_port_info *buf)
{
	return dp_port_info(control_dataplane(api->ctl), port, buf) == 0 ? buf->name : "?";
}

/* err: what saving a change returned (api_state.h; caller holds change_lock). false: the reply
 * is a 500. */
static bool saved(struct api *api, struct api_response *rs, int err)
{
	if (err) {
		api_reply_error(rs, 500, "change applied but not saved", "%s: %s",
				api_state_path(api->state), strerror(-err));
		return false;
	}
	return true;
}

/* ---- ports ----------------------------------------------------------------------------------- */

static json_t *port_json(struct api *api, port_id_t p)
{
	struct control_port_info pi;
	if (control_port_info(api->ctl, p, &pi) != 0)
		return NULL;
	const struct iface *ifc =
	    iface_table_get(dp_ifaces(control_dataplane(api->ctl)), pi.dp.iface);
	json_t *addrs = json_array();
	for (uint16_t a = 0; ifc && a < ifc->n_addrs && !pi.dp.bridged; a++)
		json_array_append_new(addrs, prefix_json(&ifc->addrs[a].pfx));
	return json_pack("{s:s, s:s, s:s, s:o, s:{s:b, s:I}, s:b, s:o, s:o, s:i, s:i}", "name",
			 pi.dp.name, "device", pi.dp.device, "driver", pi.dp.driver, "mac",
			 mac_json(pi.dp.mac), "link", "up", pi.link_up, "speed_mbps",
			 (json_int_t)pi.speed_mbps, "promisc", pi.promisc, "bridge",
			 pi.dp.bridged && ifc ? json_string(ifc->name) : json_null(), "addresses",
			 addrs, "rx_queues", pi.dp.rx_queues, "tx_queues", pi.dp.tx_queues);
}

static void get_ports(struct api *api, struct api_response *rs)
{
	json_t *arr = json_array();
	for (port_id_t p = 0; p < dp_port_count(control_dataplane(api->ctl)); p++)
		json_array_append_new(arr, port_json(api, p));
	api_reply_json(rs, 200, json_pack("{s:o}", "ports", arr));
}

static void patch_port(struct api *api, port_id_t p, struct api_request *rq,
		       struct api_response *rs)
{
	json_error_t jerr;
	json_t *o = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		api_reply_error(rs, 400, "malformed JSON", "line %d, column %d: %s", jerr.line,
				jerr.column, jerr.text);
		return;
	}
	const char *key;
	json_t *v, *promisc = NULL;
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "promisc") != 0) {
			api_reply_error(rs, 400, "bad request", "unknown key \"%.40s\"", key);
			goto out;
		}
		promisc = v;
	}
	if (!json_is_object(o) || !json_is_boolean(promisc)) {
		api_reply_error(rs, 400, "bad request", "expected {\"promisc\": true|false}");
		goto out;
	}
	struct dp_port_info pi;
	pthread_mutex_lock(&api->change_lock);
	int err = control_set_promisc(api->ctl, p, json_is_true(promisc));
	if (err == -EBUSY)
		api_reply_error(rs, 409, "conflict", "a bridge port stays promiscuous");
	else if (err)
		api_reply_error(rs, 500, "driver error", "%s", strerror(-err));
	else if (saved(
		     api, rs,
		     api_state_promisc(api->state, port_name(api, p, &pi), json_is_true(promisc))))
		api_reply_json(rs, 200, port_json(api, p));
	pthread_mutex_unlock(&api->change_lock);
out:
	json_decref(o);
}

static void get_port_stats(struct api *api, port_id_t p, struct api_response *rs)
{
	const struct dataplane *dp = control_dataplane(api->ctl);
	struct dp_counters k;
	struct dp_device_stats ds = {0};
	struct dp_port_info pi;
	dp_read_port_counters(dp, p, &k);
	dp_port_device_stats(dp, p, &ds);
	json_t *drops = json_object();
	for (int r = 0; r < DP_DROP_MAX; r++)
		json_object_set_new(drops, dp_drop_reason_names[r],
				    json_integer((json_int_t)k.drops[r]));
	api_reply_json(
	    rs, 200,
	    json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
		      "port", port_name(api, p, &pi), "rx_packets", (json_int_t)k.rx_packets,
		      "rx_bytes", (json_int_t)k.rx_bytes, "tx_packets", (json_int_t)k.tx_packets,
		      "tx_bytes", (json_int_t)k.tx_bytes, "drops", drops, "device", "rx_packets",
		      (json_int_t)ds.rx_packets, "rx_bytes", (json_int_t)ds.rx_bytes, "tx_packets",
		      (json_int_t)ds.tx_packets, "tx_bytes", (json_int_t)ds.tx_bytes, "rx_dropped",
		      (json_int_t)ds.rx_dropped, "rx_crc_errors", (json_int_t)ds.rx_crc_errors,
		      "rx_length_errors", (json_int_t)ds.rx_length_errors));
}

static void handle_port(struct api *api, int id, struct api_request *rq, struct api_response *rs)
{
	int p = dp_find_port(control_dataplane(api->ctl), rq->param);
	if (p < 0) {
		api_reply_error(rs, 404, "no such port", "%s", rq->param);
		return;
	}
	if (id == EP_PORT_STATS)
		get_port_stats(api, (port_id_t)p, rs);
	else if (rq->method == API_PATCH)
		patch_port(api, (port_id_t)p, rq, rs);
	else
		api_reply_json(rs, 200, port_json(api, (port_id_t)p));
}

/* ---- routes ---------------------------------------------------------------------------------- */

static json_t *path_json(const struct api *api, const struct control_path *path)
{
	return json_pack("{s:o, s:s}", "via", path->gw.family ? addr_json(&path->gw) : json_null(),
			 "iface", iface_name(api, path->iface));
}

/* A route: prefix, owner, type, precedence, selected; a unicast route also "via" and "iface" of
 * its (first) next hop, and with more than one, "nexthops" listing them all. */
static json_t *route_json(const struct api *api, const struct control_route_info *r)
{
	json_t *o =
	    json_pack("{s:o, s:s, s:s, s:i, s:b}", "prefix", prefix_json(&r->prefix), "owner",
		      control_owner_name(r->owner), "type", control_route_kind_name(r->kind),
		      "precedence", (int)r->precedence, "selected", r->selected);
	if (!o)
		return NULL;
	if (r->n_paths) {
		json_object_set_new(
		    o, "via", r->paths[0].gw.family ? addr_json(&r->paths[0].gw) : json_null());
		json_object_set_new(o, "iface", json_string(iface_name(api, r->paths[0].iface)));
	}
	if (r->n_paths > 1) {
		json_t *arr = json_array();
		for (unsigned i = 0; i < r->n_paths; i++)
			json_array_append_new(arr, path_json(api, &r->paths[i]));
		json_object_set_new(o, "nexthops", arr);
	}
	return o;
}

/* ?owner=NAME: 0 and *owner (-1 when absent), or a 400 in rs. */
static int owner_param(struct api_request *rq, struct api_response *rs, int *owner)
{
	const char *s = rq->query(rq->query_arg, "owner");
	*owner = -1;
	if (!s)
		return 0;
	*owner = control_owner_parse(s);
	if (*owner < 0) {
		api_reply_error(rs, 400, "bad request",
				"owner must be connected, config, api, kernel or fpm");
		return -EINVAL;
	}
	return 0;
}

static void get_routes(struct api *api, struct api_request *rq, struct api_response *rs)
{
	size_t off, lim, total;
	const char *why;
	int owner;
	if (api_parse_paging(rq->query(rq->query_arg, "offset"), rq->query(rq->query_arg, "limit"),
			     &off, &lim, &why) != 0) {
		api_reply_error(rs, 400, "bad request", "%s", why);
		return;
	}
	if (owner_param(rq, rs, &owner))
		return;
	struct control_route_info *r = malloc(lim * sizeof(*r));
	if (!r) {
		api_reply_error(rs, 500, "out of memory", "listing routes");
		return;
	}
	size_t n = control_list_routes(api->ctl, owner, off, r, lim, &total);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, route_json(api, &r[i]));
	free(r);
	api_reply_json(rs, 200,
		       json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)total, "offset",
				 (json_int_t)off, "limit", (json_int_t)lim, "routes", arr));
}

/* The reply for a control_* route error about routes[bad] (bad >= n: none in particular). */
static void route_error(struct api_response *rs, int err, const struct control_route *routes,
			size_t n, size_t bad)
{
	char where[96] = "";
	if (bad < n) {
		char p[IP_PREFIX_STRLEN];
		ip_prefix_format(&routes[bad].prefix, p);
		snprintf(where, sizeof(where), "routes[%zu] (%s): ", bad, p);
	}
	switch (err) {
	case -EINVAL:
		api_reply_error(rs, 400, "bad route",
				"%sbad prefix, or the gateway is one of our addresses or of "
				"another family than the prefix",
				where);
		break;
	case -ENETUNREACH:
		api_reply_error(rs, 400, "bad route",
				"%sthe gateway is on no connected subnet (of its interface)",
				where);
		break;
	case -ENODEV:
		api_reply_error(rs, 400, "bad route", "%sno such interface", where);
		break;
	case -EAFNOSUPPORT:
		api_reply_error(rs, 501, "not implemented", "%sIPv6 routes are not forwarded yet",
				where);
		break;
	case -EEXIST:
		api_reply_error(rs, 409, "conflict",
				"%sthe prefix already has a route (DELETE it "
				"first, or PUT the whole set)",
				where);
		break;
	case -EPERM:
		api_reply_error(rs, 409, "conflict",
				"%sa connected subnet: its route comes from an "
				"address",
				where);
		break;
	case -ENOSPC:
		api_reply_error(rs, 507, "table full", "%sno room for another next hop", where);
		break;
	default:
		api_reply_error(rs, 500, "cannot change routes", "%s%s", where, strerror(-err));
	}
}

static void change_routes(struct api *api, struct api_request *rq, struct api_response *rs)
{
	struct api_route_set set = {0};
	size_t bad = SIZE_MAX;
	bool single = false;
	struct api_parse_error perr;
	double t0 = now_s(), t_parse, t_apply, t_save = 0;
	bool put = rq->method == API_PUT;
	int err = api_parse_routes(rq->body, rq->body_len, put ? 0 : API_ROUTES_ALLOW_SINGLE,
				   dp_ifaces(control_dataplane(api->ctl)), &set, &single, &perr);
	if (err) {
		api_reply_error(rs, err == -ENOMEM ? 500 : 400,
				err == -ENOMEM ? "out of memory" : "bad request", "%s",
				perr.message);
		return;
	}
	t_parse = now_s();
	pthread_mutex_lock(&api->change_lock);
	/* The API's routes are owner api: a PUT replaces those alone, never another owner's. */
	err = put ? control_routes_replace(api->ctl, CONTROL_OWNER_API, set.routes, set.n, &bad)
		  : control_routes_add(api->ctl, CONTROL_OWNER_API, set.routes, set.n, &bad);
	t_apply = now_s();
	if (err) {
		route_error(rs, err, set.routes, set.n, bad);
		goto out;
	}
	err = put ? api_state_routes_replace(api->state, set.routes, set.n)
		  : api_state_route_add(api->state, set.routes, set.n);
	t_save = now_s() - t_apply;
	if (saved(api, rs, err))
		api_reply_json(rs, put ? 200 : 201,
			       json_pack("{s:I, s:{s:f, s:f, s:f}}", put ? "replaced" : "added",
					 (json_int_t)set.n, "seconds", "parse", t_parse - t0,
					 "apply", t_apply - t_parse, "save", t_save));
out:
	pthread_mutex_unlock(&api->change_lock);
	api_route_set_free(&set);
}

static void handle_route(struct api *api, struct api_request *rq, struct api_response *rs)
{
	struct ip_prefix p;
	const char *why;
	if (ip_prefix_parse(rq->param, strlen(rq->param), IP_PREFIX_PATH_FORM, &p, &why) != 0) {
		api_reply_error(rs, 400, "bad prefix",
				"%s: \"%s\" (write 10.0.0.0_8 or "
				"10.0.0.0%%2F8)",
				why, rq->param);
		return;
	}
	int owner;
	if (owner_param(rq, rs, &owner))
		return;
	if (rq->method == API_GET) {
		struct control_route_info r, alt[CONTROL_ROUTE_OWNERS];
		if (control_get_route(api->ctl, owner, &p, &r) != 0) {
			api_reply_error(rs, 404, "no such route", "%s", rq->param);
			return;
		}
		json_t *o = route_json(api, &r);
		/* The other owners' routes for the prefix, with the selected one. */
		size_t n = owner < 0
			       ? control_route_alternatives(api->ctl, &p, alt, CONTROL_ROUTE_OWNERS)
			       : 0;
		if (o && n) {
			json_t *arr = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(arr, route_json(api, &alt[i]));
			json_object_set_new(o, "alternatives", arr);
		}
		api_reply_json(rs, 200, o);
		return;
	}
	/* DELETE removes the API's own route; other owners' stay. */
	if (owner >= 0 && owner != CONTROL_OWNER_API) {
		api_reply_error(rs, 409, "conflict", "the API deletes only its own routes");
		return;
	}
	pthread_mutex_lock(&api->change_lock);
	int err = control_route_delete(api->ctl, CONTROL_OWNER_API, &p);
	struct control_route_info conn;
	if (err == -ENOENT && control_get_route(api->ctl, CONTROL_OWNER_CONNECTED, &p, &conn) == 0)
		api_reply_error(rs, 409, "conflict",
				"a connected subnet: remove the address instead");
	else if (err == -ENOENT)
		api_reply_error(rs, 404, "no such route", "%s (of owner api)", rq->param);
	else if (err)
		api_reply_error(rs, 500, "cannot delete", "%s", strerror(-err));
	else if (saved(api, rs, api_state_route_del(api->state, &p)))
		api_reply_json(rs, 200, json_pack("{s:o}", "deleted", prefix_json(&p)));
	pthread_mutex_unlock(&api->change_lock);
}

static const char *state_name(uint8_t state)
{
	switch (state) {
	case NEIGH_INCOMPLETE:
		return "incomplete";
	case NEIGH_REACHABLE:
		return "reachable";
	case NEIGH_STALE:
		return "stale";
	case NEIGH_STATIC:
		return "static";
	default:
		return "none";
	}
}

static void get_fib(struct api *api, struct api_request *rq, struct api_response *rs)
{
	const char *dst = rq->query(rq->query_arg, "dst");
	struct ip_addr ip;
	struct control_fib f;
	if (!dst || ip_addr_parse(dst, strlen(dst), &ip) != 0) {
		api_reply_error(rs, 400, "bad request", "dst must be an IP address");
		return;
	}
	/* ?hash=N: the flow hash a packet would carry, to see which ECMP next hop it takes. */
	const char *hs = rq->query(rq->query_arg, "hash");
	uint32_t hash = 0;
	if (hs) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(hs, &end, 10);
		if (!*hs || *end || errno || v > UINT32_MAX || *hs == '-' || *hs == '+') {
			api_reply_error(rs, 400, "bad request", "hash must be 0..4294967295");
			return;
		}
		hash = (uint32_t)v;
	}
	int err = control_fib_lookup(api->ctl, &ip, hash, &f);
	if (err == -EAFNOSUPPORT) {
		api_reply_error(rs, 501, "not implemented", "IPv6 is not forwarded yet");
		return;
	}
	if (err) {
		api_reply_error(rs, 404, "no route", "no route to %s", dst);
		return;
	}
	bool has_mac = f.neigh_state && f.neigh_state != NEIGH_INCOMPLETE;
	bool unicast = f.route.kind == CONTROL_ROUTE_UNICAST;
	api_reply_json(
	    rs, 200,
	    json_pack("{s:o, s:o, s:o}", "dst", addr_json(&ip), "route", route_json(api, &f.route),
		      "nexthop",
		      unicast ? json_pack("{s:o, s:s, s:s, s:o}", "ip", addr_json(&f.nexthop_ip),
					  "iface", iface_name(api, f.nexthop_iface), "state",
					  state_name(f.neigh_state), "mac",
					  has_mac ? mac_json(f.mac) : json_null())
			      : json_null()));
}

/* ---- MAC table and neighbours ---------------------------------------------------------------- */

static void handle_mac_table(struct api *api, struct api_request *rq, struct api_response *rs)
{
	const struct dataplane *dp = control_dataplane(api->ctl);
	if (rq->method == API_DELETE) {
		const char *port = rq->query(rq->query_arg, "port");
		int p = -1;
		if (port && (p = dp_find_port(dp, port)) < 0) {
			api_reply_error(rs, 404, "no such port", "%s", port);
			return;
		}
		unsigned n = control_flush_mac(api->ctl, p);
		api_reply_json(rs, 200, json_pack("{s:i}", "flushed", (int)n));
		return;
	}
	size_t cap = 1024, n;
	struct mac_table_entry *e = NULL;
	for (;;) {
		free(e);
		e = malloc(cap * sizeof(*e));
		if (!e) {
			api_reply_error(rs, 500, "out of memory", "listing the MAC table");
			return;
		}
		n = control_list_mac(api->ctl, e, cap);
		if (n <= cap)
			break;
		cap = n + n / 4; /* it grew between two calls: retry with room to spare */
	}
	uint32_t now = dp_now_s(); /* the clock the table ages by */
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		struct dp_port_info pi;
		json_array_append_new(
		    arr, json_pack("{s:o, s:s, s:s, s:I}", "mac", mac_json(e[i].mac), "bridge",
				   iface_name(api, dp_bridge_iface(dp, e[i].bridge)), "port",
				   port_name(api, e[i].port, &pi), "age_s",
				   (json_int_t)(now - e[i].last_seen_s)));
	}
	free(e);
	api_reply_json(rs, 200, json_pack("{s:I, s:o}", "total", (json_int_t)n, "entries", arr));
}

static void get_neighbours(struct api *api, struct api_response *rs)
{
	size_t cap = 256, n;
	struct control_neigh_info *e = NULL;
	for (;;) {
		free(e);
		e = malloc(cap * sizeof(*e));
		if (!e) {
			api_reply_error(rs, 500, "out of memory", "listing neighbours");
			return;
		}
		n = control_list_neighbours(api->ctl, e, cap);
		if (n <= cap)
			break;
		cap = n + n / 4;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		bool known = e[i].state != NEIGH_INCOMPLETE;
		json_array_append_new(
		    arr, json_pack("{s:o, s:o, s:s, s:s, s:i}", "ip", addr_json(&e[i].ip), "mac",
				   known ? mac_json(e[i].mac) : json_null(), "iface",
				   iface_name(api, e[i].iface), "state", state_name(e[i].state),
				   "queued", (int)e[i].queued));
	}
	free(e);
	api_reply_json(rs, 200, json_pack("{s:I, s:o}", "total", (json_int_t)n, "neighbors", arr));
}

static void post_neighbour(struct api *api, struct api_request *rq, struct api_response *rs)
{
	json_error_t jerr;
	json_t *o = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
	const char *ip_s = NULL, *mac_s = NULL;
	struct ip_addr ip;
	uint8_t mac[6];
	if (!o) {
		api_reply_error(rs, 400, "malformed JSON", "line %d, column %d: %s", jerr.line,
				jerr.column, jerr.text);
		return;
	}
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "ip") != 0 && strcmp(key, "mac") != 0) {
			api_reply_error(rs, 400, "bad request", "unknown key \"%.40s\"", key);
			goto out;
		}
	}
	if (json_unpack(o, "{s:s, s:s}", "ip", &ip_s, "mac", &mac_s) != 0) {
		api_reply_error(rs, 400, "bad request",
				"expected {\"ip\": \"ADDRESS\", \"mac\": "
				"\"aa:bb:cc:dd:ee:ff\"}");
		goto out;
	}
	if (ip_addr_parse(ip_s, strlen(ip_s), &ip) != 0 || api_parse_mac(mac_s, mac) != 0) {
		api_reply_error(rs, 400, "bad request",
				"ip must be an IP address, mac aa:bb:cc:dd:ee:ff");
		goto out;
	}
	pthread_mutex_lock(&api->change_lock);
	int err = control_set_static_neighbour(api->ctl, &ip, mac);
	if (err == -ENETUNREACH)
		api_reply_error(rs, 400, "bad neighbor", "%s is on no connected subnet", ip_s);
	else if (err == -EINVAL)
		api_reply_error(rs, 400, "bad neighbor",
				"%s is one of our addresses, or %s is a group address", ip_s,
				mac_s);
	else if (err == -ENOSPC)
		api_reply_error(rs, 507, "table full", "the neighbor table is full");
	else if (err)
		api_reply_error(rs, 500, "cannot add", "%s", strerror(-err));
	else if (saved(api, rs, api_state_neigh_static(api->state, &ip, mac)))
		api_reply_json(
		    rs, 201,
		    json_pack("{s:s, s:s, s:s}", "ip", ip_s, "mac", mac_s, "state", "static"));
	pthread_mutex_unlock(&api->change_lock);
out:
	json_decref(o);
}

void api_handle(struct api *api, int endpoint_id, struct api_request *rq, struct api_response *rs)
{
	switch (endpoint_id) {
	case EP_HEALTH: {
		const struct dataplane *dp = control_dataplane(api->ctl);
		api_reply_json(rs, 200,
			       json_pack("{s:s, s:i, s:i}", "status", "ok", "ports",
					 dp_port_count(dp), "workers", dp_worker_count(dp)));
		break;
	}
	case EP_PORTS:
		get_ports(api, rs);
		break;
	case EP_PORT:
	case EP_PORT_STATS:
		handle_port(api, endpoint_id, rq, rs);
		break;
	case EP_ROUTES:
		if (rq->method == API_GET)
			get_routes(api, rq, rs);
		else
			change_routes(api, rq, rs);
		break;
	case EP_ROUTE:
		handle_route(api, rq, rs);
		break;
	case EP_FIB:
		get_fib(api, rq, rs);
		break;
	case EP_MAC_TABLE:
		handle_mac_table(api, rq, rs);
		break;
	case EP_NEIGHBORS:
		if (rq->method == API_GET)
			get_neighbours(api, rs);
		else
			post_neighbour(api, rq, rs);
		break;
	case EP_METRICS:
		api_handle_metrics(api, rq, rs);
		break;
	default:
		api_reply_error(rs, 500, "internal error", "endpoint %d has no handler",
				endpoint_id);
	}
}
