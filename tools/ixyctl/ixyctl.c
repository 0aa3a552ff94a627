/*
 * ixyctl: the command line for a running ixyd, over its REST API (docs/api.md).
 *
 *   ixyctl [--api URL] [--json] COMMAND
 *     routes list                     every route (paged through the API 10000 at a time)
 *     routes add PREFIX via GATEWAY   POST /routes
 *     routes del PREFIX               DELETE /routes/{prefix}
 *     ports                           the ports: MAC, link, promiscuous, addresses
 *     stats PORT                      a port's counters and drops
 *     promisc PORT on|off             PATCH /ports/{name}
 *     mac-table                       learnt stations
 *     neighbors                       the neighbor (ARP) table
 *
 * Tables for people; --json prints the API's JSON (routes list: one document with every route).
 * --api (or $IXYCTL_API) names the API, default http://127.0.0.1:8080.
 * Exit status: 0 done; 1 the API answered with an error (its message on stderr); 2 bad usage;
 * 3 cannot reach the API (or it answered something that is not HTTP/JSON).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"

#define EXIT_API     1
#define EXIT_USAGE   2
#define EXIT_CONNECT 3
#define TIMEOUT_MS   60000 /* a full-table load takes a couple of seconds; be generous */

static const char *api = "http://127.0.0.1:8080";
static bool json_out;

static void usage(FILE *f)
{
	fprintf(f, "usage: ixyctl [--api URL] [--json] COMMAND\n"
		   "  routes list | routes add PREFIX via GATEWAY | routes del PREFIX\n"
		   "  ports | stats PORT | promisc PORT on|off | mac-table | neighbors\n"
		   "exit status: 0 ok, 1 API error, 2 usage, 3 cannot reach the API\n");
}

/* Make the request; on success *out is the parsed body. Returns an exit status. */
static int call(const char *method, const char *path, const char *body, json_t **out)
{
	struct http_response r = {0};
	int err = http_request(api, method, path, body, TIMEOUT_MS, &r);
	if (err) {
		fprintf(stderr, "ixyctl: cannot reach the API at %s: %s\n", api, strerror(-err));
		return EXIT_CONNECT;
	}
	json_error_t jerr;
	json_t *o = json_loadb(r.body, r.len, 0, &jerr);
	free(r.body);
	if (!o) {
		fprintf(stderr, "ixyctl: %s %s: HTTP %d with a body that is not JSON\n", method,
			path, r.status);
		return EXIT_CONNECT;
	}
	if (r.status >= 400) {
		const char *e = json_string_value(json_object_get(o, "error"));
		const char *d = json_string_value(json_object_get(o, "detail"));
		fprintf(stderr, "ixyctl: %d %s%s%s\n", r.status, e ? e : "error", d ? ": " : "",
			d ? d : "");
		json_decref(o);
		return EXIT_API;
	}
	*out = o;
	return 0;
}

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s)
		printf("%s\n", s);
	free(s);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

/* Escape a path segment: a prefix's slash becomes %2F (the API also takes 10.0.0.0_8). */
static void path_segment(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (; *in && o + 4 < len; in++) {
		if (*in == '/')
			o += (size_t)snprintf(out + o, len - o, "%%2F");
		else
			out[o++] = *in;
	}
	out[o] = '\0';
}

static int routes_list(void)
{
	json_t *all = json_array();
	size_t offset = 0, total = 0;
	do {
		char path[96];
		json_t *page;
		snprintf(path, sizeof(path), "/api/v1/routes?offset=%zu&limit=10000", offset);
		int rc = call("GET", path, NULL, &page);
		if (rc) {
			json_decref(all);
			return rc;
		}
		total = (size_t)json_integer_value(json_object_get(page, "total"));
		json_t *routes = json_object_get(page, "routes");
		offset += json_array_size(routes);
		json_array_extend(all, routes);
		size_t got = json_array_size(routes);
		json_decref(page);
		if (got == 0)
			break;
	} while (offset < total);
	if (json_out) {
		json_t *doc = json_pack("{s:I, s:o}", "total", (json_int_t)json_array_size(all),
					"routes", all);
		print_json(doc);
		json_decref(doc);
		return 0;
	}
	printf("%-20s %-16s %-10s %-11s %s\n", "PREFIX", "VIA", "IFACE", "TYPE", "OWNER");
	size_t i;
	json_t *r;
	json_array_foreach(all, i, r)
	{
		/* ECMP routes list every next hop, one per line after the first. */
		json_t *nhs = json_object_get(r, "nexthops");
		printf("%-20s %-16s %-10s %-11s %s\n", str(r, "prefix"), str(r, "via"),
		       str(r, "iface"), str(r, "type"), str(r, "owner"));
		size_t k;
		json_t *nh;
		json_array_foreach(nhs, k, nh)
		{
			if (k > 0)
				printf("%-20s %-16s %s\n", "", str(nh, "via"), str(nh, "iface"));
		}
	}
	json_decref(all);
	return 0;
}

static int routes_change(int argc, char **argv)
{
	json_t *o = NULL;
	int rc;
	if (argc == 4 && strcmp(argv[0], "add") == 0 && strcmp(argv[2], "via") == 0) {
		json_t *b = json_pack("{s:s, s:s}", "prefix", argv[1], "via", argv[3]);
		char *body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
		rc = call("POST", "/api/v1/routes", body, &o);
		free(body);
	} else if (argc == 2 && strcmp(argv[0], "del") == 0) {
		char seg[96], path[128];
		path_segment(argv[1], seg, sizeof(seg));
		snprintf(path, sizeof(path), "/api/v1/routes/%s", seg);
		rc = call("DELETE", path, NULL, &o);
	} else {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (rc)
		return rc;
	if (json_out)
		print_json(o);
	else
		printf("ok\n");
	json_decref(o);
	return 0;
}

static void print_port_row(json_t *p)
{
	json_t *link = json_object_get(p, "link");
	char addrs[256] = "";
	size_t i, n = 0;
	json_t *a;
	json_array_foreach(json_object_get(p, "addresses"), i, a)
	{
		n += (size_t)snprintf(addrs + n, sizeof(addrs) - n, "%s%s", i ? "," : "",
				      json_string_value(a));
		if (n >= sizeof(addrs))
			break;
	}
	printf("%-8s %-17s %-5s %6lld %-7s %-8s %s\n", str(p, "name"), str(p, "mac"),
	       json_is_true(json_object_get(link, "up")) ? "up" : "down",
	       (long long)json_integer_value(json_object_get(link, "speed_mbps")),
	       json_is_true(json_object_get(p, "promisc")) ? "on" : "off",
	       json_is_string(json_object_get(p, "bridge")) ? str(p, "bridge") : "-",
	       addrs[0] ? addrs : "-");
}

static int ports(void)
{
	json_t *o;
	int rc = call("GET", "/api/v1/ports", NULL, &o);
	if (rc)
		return rc;
	if (json_out) {
		print_json(o);
	} else {
		printf("%-8s %-17s %-5s %6s %-7s %-8s %s\n", "PORT", "MAC", "LINK", "MBIT/S",
		       "PROMISC", "BRIDGE", "ADDRESSES");
		size_t i;
		json_t *p;
		json_array_foreach(json_object_get(o, "ports"), i, p) print_port_row(p);
	}
	json_decref(o);
	return 0;
}

static int stats(const char *port)
{
	char path[160];
	json_t *o;
	snprintf(path, sizeof(path), "/api/v1/ports/%.64s/stats", port);
	int rc = call("GET", path, NULL, &o);
	if (rc)
		return rc;
	if (json_out) {
		print_json(o);
	} else {
		static const char *const keys[] = {"rx_packets", "rx_bytes", "tx_packets",
						   "tx_bytes"};
		for (size_t i = 0; i < 4; i++)
			printf("%-22s %lld\n", keys[i],
			       (long long)json_integer_value(json_object_get(o, keys[i])));
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(o, "drops"), k, v)
		{
			printf("drop_%-17s %lld\n", k, (long long)json_integer_value(v));
		}
	}
	json_decref(o);
	return 0;
}

static int promisc(const char *port, const char *onoff)
{
	if (strcmp(onoff, "on") != 0 && strcmp(onoff, "off") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	char path[160];
	json_t *o;
	snprintf(path, sizeof(path), "/api/v1/ports/%.64s", port);
	int rc =
	    call("PATCH", path,
		 strcmp(onoff, "on") == 0 ? "{\"promisc\": true}" : "{\"promisc\": false}", &o);
	if (rc)
		return rc;
	if (json_out) {
		print_json(o);
	} else {
		printf("%-8s %-17s %-5s %6s %-7s %-8s %s\n", "PORT", "MAC", "LINK", "MBIT/S",
		       "PROMISC", "BRIDGE", "ADDRESSES");
		print_port_row(o);
	}
	json_decref(o);
	return 0;
}

static int mac_table(void)
{
	json_t *o;
	int rc = call("GET", "/api/v1/mac-table", NULL, &o);
	if (rc)
		return rc;
	if (json_out) {
		print_json(o);
	} else {
		printf("%-17s %-8s %-8s %s\n", "MAC", "BRIDGE", "PORT", "AGE_S");
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(o, "entries"), i, e)
		{
			printf("%-17s %-8s %-8s %lld\n", str(e, "mac"), str(e, "bridge"),
			       str(e, "port"),
			       (long long)json_integer_value(json_object_get(e, "age_s")));
		}
	}
	json_decref(o);
	return 0;
}

static int neighbors(void)
{
	json_t *o;
	int rc = call("GET", "/api/v1/neighbors", NULL, &o);
	if (rc)
		return rc;
	if (json_out) {
		print_json(o);
	} else {
		printf("%-16s %-17s %-8s %-10s %s\n", "IP", "MAC", "IFACE", "STATE", "QUEUED");
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(o, "neighbors"), i, e)
		{
			printf("%-16s %-17s %-8s %-10s %lld\n", str(e, "ip"), str(e, "mac"),
			       str(e, "iface"), str(e, "state"),
			       (long long)json_integer_value(json_object_get(e, "queued")));
		}
	}
	json_decref(o);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"api", required_argument, NULL, 'a'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	if (getenv("IXYCTL_API"))
		api = getenv("IXYCTL_API");
	int opt;
	while ((opt = getopt_long(argc, argv, "+a:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			api = optarg;
			break;
		case 'j':
			json_out = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	char host[64];
	unsigned port;
	if (http_parse_base(api, host, sizeof(host), &port) != 0) {
		fprintf(stderr,
			"ixyctl: --api must be http://HOST:PORT with a numeric host, got %s\n",
			api);
		return EXIT_USAGE;
	}
	int n = argc - optind;
	char **a = argv + optind;
	if (n == 2 && strcmp(a[0], "routes") == 0 && strcmp(a[1], "list") == 0)
		return routes_list();
	if (n >= 2 && strcmp(a[0], "routes") == 0)
		return routes_change(n - 1, a + 1);
	if (n == 1 && strcmp(a[0], "ports") == 0)
		return ports();
	if (n == 2 && strcmp(a[0], "stats") == 0)
		return stats(a[1]);
	if (n == 3 && strcmp(a[0], "promisc") == 0)
		return promisc(a[1], a[2]);
	if (n == 1 && strcmp(a[0], "mac-table") == 0)
		return mac_table();
	if (n == 1 && strcmp(a[0], "neighbors") == 0)
		return neighbors();
	usage(stderr);
	return EXIT_USAGE;
}
