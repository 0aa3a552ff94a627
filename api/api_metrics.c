/*
 * api_metrics.c: GET /metrics in the Prometheus text exposition format (version 0.0.4): per-port
 * counters with the port as a label, drops with port and reason, port state gauges, table
 * sizes, the API's own request counters and a build-info series. Checked by `promtool check
 * metrics` in tests/api/metrics_promtool.sh.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

#ifndef IXYD_VERSION
#define IXYD_VERSION "0.1.0"
#endif

struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
	for (;;) {
		if (t->failed)
			return;
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap * 2 + (size_t)(n > 0 ? n : 0);
		char *b = realloc(t->buf, cap);
		if (!b) {
			t->failed = true;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One series per port of a counter field. Port names are ours (config.c: printable names), but
 * escape the two characters a label value must not carry raw anyway. */
static void port_label(char *out, size_t len, const char *name)
{
	size_t o = 0;
	for (const char *c = name; *c && o + 3 < len; c++) {
		if (*c == '"' || *c == '\\')
			out[o++] = '\\';
		out[o++] = *c == '\n' ? ' ' : *c;
	}
	out[o] = '\0';
}

void api_handle_metrics(struct api *api, struct api_request *rq, struct api_response *rs)
{
	const struct dataplane *dp = control_dataplane(api->ctl);
	struct text t = {.cap = 16384};
	struct dp_counters k[DP_MAX_PORTS];
	char names[DP_MAX_PORTS][72];
	(void)rq;
	t.buf = malloc(t.cap);
	if (!t.buf) {
		api_reply_error(rs, 500, "out of memory", "metrics");
		return;
	}
	const uint16_t n_ports = dp_port_count(dp);
	for (port_id_t p = 0; p < n_ports; p++) {
		struct dp_port_info info;
		dp_read_port_counters(dp, p, &k[p]);
		dp_port_info(dp, p, &info);
		port_label(names[p], sizeof(names[p]), info.name);
	}
	static const struct {
		const char *name, *help;
		size_t offset;
	} fields[] = {
	    {"ixyd_port_rx_packets_total", "Frames received on the port.",
	     offsetof(struct dp_counters, rx_packets)},
	    {"ixyd_port_rx_bytes_total", "Bytes received on the port (without FCS).",
	     offsetof(struct dp_counters, rx_bytes)},
	    {"ixyd_port_tx_packets_total", "Frames the port's tx queues accepted.",
	     offsetof(struct dp_counters, tx_packets)},
	    {"ixyd_port_tx_bytes_total", "Bytes the port's tx queues accepted.",
	     offsetof(struct dp_counters, tx_bytes)},
	};
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		family(&t, fields[f].name, "counter", fields[f].help);
		for (port_id_t p = 0; p < n_ports; p++) {
			uint64_t v;
			memcpy(&v, (const char *)&k[p] + fields[f].offset, sizeof(v));
			put(&t, "%s{port=\"%s\"} %llu\n", fields[f].name, names[p],
			    (unsigned long long)v);
		}
	}
	family(
	    &t, "ixyd_port_drops_total", "counter",
	    "Frames dropped, by port (ingress; egress for tx_full) and reason (docs/config.md).");
	for (port_id_t p = 0; p < n_ports; p++)
		for (int r = 0; r < DP_DROP_MAX; r++)
			put(&t, "ixyd_port_drops_total{port=\"%s\",reason=\"%s\"} %llu\n", names[p],
			    dp_drop_reason_names[r], (unsigned long long)k[p].drops[r]);

	family(&t, "ixyd_port_up", "gauge", "1 if the port's link is up.");
	struct control_port_info pi[DP_MAX_PORTS];
	for (port_id_t p = 0; p < n_ports; p++) {
		control_port_info(api->ctl, p, &pi[p]);
		put(&t, "ixyd_port_up{port=\"%s\"} %d\n", names[p], pi[p].link_up);
	}
	family(&t, "ixyd_port_promiscuous", "gauge", "1 if the port receives in promiscuous mode.");
	for (port_id_t p = 0; p < n_ports; p++)
		put(&t, "ixyd_port_promiscuous{port=\"%s\"} %d\n", names[p], pi[p].promisc);

	struct control_table_sizes ts;
	control_table_sizes(api->ctl, &ts);
	family(&t, "ixyd_routes", "gauge",
	       "Prefixes with a route (each forwards by its selected route), connected ones "
	       "included.");
	put(&t, "ixyd_routes %zu\n", ts.routes);
	family(&t, "ixyd_routes_by_owner", "gauge",
	       "Routes each owner (config, api, kernel, fpm, connected) holds, selected or not.");
	for (uint8_t o = 0; o < CONTROL_ROUTE_OWNERS; o++)
		put(&t, "ixyd_routes_by_owner{owner=\"%s\"} %zu\n", control_owner_name(o),
		    ts.routes_by_owner[o]);
	family(&t, "ixyd_nexthops", "gauge",
	       "Next-hop entries in use (multipath groups included).");
	put(&t, "ixyd_nexthops %zu\n", ts.nexthops);
	family(&t, "ixyd_neighbors", "gauge", "Entries in the neighbor (ARP) table.");
	put(&t, "ixyd_neighbors %zu\n", ts.neighbours);
	family(&t, "ixyd_mac_table_entries", "gauge", "Stations in the MAC learning table.");
	put(&t, "ixyd_mac_table_entries %zu\n", ts.mac_entries);

	family(&t, "ixyd_api_requests_total", "counter", "Requests the REST API received.");
	put(&t, "ixyd_api_requests_total %llu\n",
	    (unsigned long long)__atomic_load_n(&api->requests_total, __ATOMIC_RELAXED));
	family(&t, "ixyd_api_errors_total", "counter",
	       "Requests the REST API answered with 4xx/5xx.");
	put(&t, "ixyd_api_errors_total %llu\n",
	    (unsigned long long)__atomic_load_n(&api->errors_total, __ATOMIC_RELAXED));

	family(&t, "ixyd_build_info", "gauge", "Always 1; the labels describe the build.");
	put(&t, "ixyd_build_info{version=\"%s\",compiler=\"gcc %d.%d\",workers=\"%u\"} 1\n",
	    IXYD_VERSION, __GNUC__, __GNUC_MINOR__, dp_worker_count(dp));

	if (t.failed) {
		free(t.buf);
		api_reply_error(rs, 500, "out of memory", "metrics");
		return;
	}
	rs->status = 200;
	rs->body = t.buf;
	rs->len = t.len;
	rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
