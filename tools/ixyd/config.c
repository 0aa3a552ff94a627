/*
 * config.c: see config.h. Strict: unknown keys are errors (a typo must not silently leave a
 * default in place), and every cross-reference (bridge ports, gateways, overlapping subnets) is
 * checked here, so a config that passes --check only fails later for reasons of the machine
 * (a missing interface, no huge pages).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_parse.h"
#include "compiler.h"
#include "device.h"
#include "iface.h"
#include "ipaddr.h"

struct ctx {
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, const char *field,
						      const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "config: %s: %s", field, reason);
	return -1;
}

/* Reject keys of obj not in allowed (NULL-terminated). */
static int check_keys(struct ctx *c, const char *field, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *val;
	json_object_foreach(obj, key, val)
	{
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			ok |= strcmp(*a, key) == 0;
		if (!ok)
			return fail(c, field, "unknown key \"%s\"", key);
	}
	return 0;
}

static int get_string(struct ctx *c, const char *field, json_t *v, char *out, size_t outlen)
{
	if (!json_is_string(v))
		return fail(c, field, "must be a string");
	const char *s = json_string_value(v);
	if (!*s)
		return fail(c, field, "must not be empty");
	if (strlen(s) >= outlen)
		return fail(c, field, "longer than %zu characters", outlen - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* "a.b.c.d/len" as an interface address: len 1..32, not the subnet's network or broadcast
 * address (RFC 1812 4.2.3.1 / 5.3.5: those are not host addresses) for len <= 30. */
static int parse_addrs(struct ctx *c, const char *field, json_t *arr, struct cfg_addr *out,
		       uint16_t *n_out)
{
	char f[96];
	if (!json_is_array(arr))
		return fail(c, field, "must be an array of \"a.b.c.d/len\" strings");
	if (json_array_size(arr) > IFACE_MAX_ADDRS)
		return fail(c, field, "at most %d addresses", IFACE_MAX_ADDRS);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		if (!json_is_string(v))
			return fail(c, f, "must be a string \"a.b.c.d/len\"");
		const char *s = json_string_value(v);
		struct ip_prefix p;
		if (ip_prefix_parse(s, strlen(s), IP_PREFIX_KEEP_HOST_BITS, &p, NULL) != 0 ||
		    p.addr.family != AF_INET)
			return fail(c, f, "not an address with prefix length: \"%s\"", s);
		if (p.len == 0)
			return fail(c, f, "prefix length 0 in \"%s\"", s);
		uint32_t host_mask = p.len == 32 ? 0 : UINT32_MAX >> p.len;
		if (p.len <= 30 &&
		    ((p.addr.v4 & host_mask) == 0 || (p.addr.v4 & host_mask) == host_mask))
			return fail(c, f, "%s is the network or broadcast address of its subnet",
				    s);
		out[i] = (struct cfg_addr){.pfx = p};
	}
	*n_out = (uint16_t)json_array_size(arr);
	return 0;
}

static bool device_name_ok(const char *d)
{
	static const char *const prefixes[] = {"af_packet:", "pcap:", "null:"};
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strncmp(d, prefixes[i], strlen(prefixes[i])) == 0)
			return d[strlen(prefixes[i])] != '\0';
	/* A PCI address, domain:bus:device.function, e.g. 0000:00:04.0. */
	unsigned dom, bus, dev, fn;
	char tail;
	return sscanf(d, "%4x:%2x:%2x.%1x%c", &dom, &bus, &dev, &fn, &tail) == 4 && strlen(d) == 12;
}

static int parse_ports(struct ctx *c, json_t *arr, struct ixyd_config *cfg)
{
	static const char *const keys[] = {"name", "device", "ipv4", "rx_queues", NULL};
	char f[64];
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return fail(c, "ports", "must be a non-empty array");
	if (json_array_size(arr) > DP_MAX_PORTS)
		return fail(c, "ports", "at most %d ports", DP_MAX_PORTS);
	size_t i;
	json_t *p;
	json_array_foreach(arr, i, p)
	{
		struct cfg_port *port = &cfg->ports[i];
		port->bridge = -1;
		port->rx_queues = 1;
		snprintf(f, sizeof(f), "ports[%zu]", i);
		if (!json_is_object(p))
			return fail(c, f, "must be an object");
		if (check_keys(c, f, p, keys))
			return -1;
		snprintf(f, sizeof(f), "ports[%zu].name", i);
		if (get_string(c, f, json_object_get(p, "name"), port->name, sizeof(port->name)))
			return -1;
		if (!iface_name_valid(port->name))
			return fail(c, f, "\"%s\": use letters, digits and ._-@+ only", port->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(cfg->ports[j].name, port->name) == 0)
				return fail(c, f, "\"%s\" is also the name of ports[%zu]",
					    port->name, j);
		snprintf(f, sizeof(f), "ports[%zu].device", i);
		if (get_string(c, f, json_object_get(p, "device"), port->device,
			       sizeof(port->device)))
			return -1;
		if (!device_name_ok(port->device))
			return fail(
			    c, f,
			    "\"%s\" is neither a PCI address (0000:00:04.0) nor af_packet:IFNAME, "
			    "pcap:PATH or null:NAME",
			    port->device);
		if (isxdigit((unsigned char)port->device[0]) && port->device[4] == ':')
			cfg->has_pci = true;
		json_t *q = json_object_get(p, "rx_queues");
		if (q) {
			snprintf(f, sizeof(f), "ports[%zu].rx_queues", i);
			if (!json_is_integer(q) || json_integer_value(q) < 1 ||
			    json_integer_value(q) > IXY_MAX_QUEUES)
				return fail(c, f, "must be an integer from 1 to %d",
					    IXY_MAX_QUEUES);
			port->rx_queues = (uint16_t)json_integer_value(q);
		}
		json_t *a = json_object_get(p, "ipv4");
		if (a) {
			snprintf(f, sizeof(f), "ports[%zu].ipv4", i);
			if (parse_addrs(c, f, a, port->addrs, &port->n_addrs))
				return -1;
		}
	}
	cfg->n_ports = (uint16_t)json_array_size(arr);
	return 0;
}

static int parse_bridges(struct ctx *c, json_t *arr, struct ixyd_config *cfg)
{
	static const char *const keys[] = {"name", "ports", "ipv4", NULL};
	char f[64];
	if (!json_is_array(arr))
		return fail(c, "bridges", "must be an array");
	if (json_array_size(arr) > DP_MAX_BRIDGES)
		return fail(c, "bridges", "at most %d bridges", DP_MAX_BRIDGES);
	size_t i;
	json_t *b;
	json_array_foreach(arr, i, b)
	{
		struct cfg_bridge *br = &cfg->bridges[i];
		snprintf(f, sizeof(f), "bridges[%zu]", i);
		if (!json_is_object(b))
			return fail(c, f, "must be an object");
		if (check_keys(c, f, b, keys))
			return -1;
		snprintf(f, sizeof(f), "bridges[%zu].name", i);
		if (get_string(c, f, json_object_get(b, "name"), br->name, sizeof(br->name)))
			return -1;
		if (!iface_name_valid(br->name))
			return fail(c, f, "\"%s\": use letters, digits and ._-@+ only", br->name);
		for (size_t j = 0; j < cfg->n_ports; j++)
			if (strcmp(cfg->ports[j].name, br->name) == 0)
				return fail(c, f, "\"%s\" is also the name of ports[%zu]", br->name,
					    j);
		for (size_t j = 0; j < i; j++)
			if (strcmp(cfg->bridges[j].name, br->name) == 0)
				return fail(c, f, "\"%s\" is also the name of bridges[%zu]",
					    br->name, j);
		json_t *ports = json_object_get(b, "ports");
		snprintf(f, sizeof(f), "bridges[%zu].ports", i);
		if (!json_is_array(ports) || json_array_size(ports) == 0)
			return fail(c, f, "must be a non-empty array of port names");
		size_t k;
		json_t *pn;
		json_array_foreach(ports, k, pn)
		{
			snprintf(f, sizeof(f), "bridges[%zu].ports[%zu]", i, k);
			if (!json_is_string(pn))
				return fail(c, f, "must be a port name");
			const char *name = json_string_value(pn);
			int found = -1;
			for (uint16_t j = 0; j < cfg->n_ports; j++)
				if (strcmp(cfg->ports[j].name, name) == 0)
					found = j;
			if (found < 0)
				return fail(c, f, "no port named \"%s\"", name);
			struct cfg_port *port = &cfg->ports[found];
			if (port->bridge >= 0)
				return fail(c, f, "port \"%s\" is already in bridge \"%s\"", name,
					    cfg->bridges[port->bridge].name);
			if (port->n_addrs)
				return fail(
				    c, f, "port \"%s\" has ipv4 addresses; put them on the bridge",
				    name);
			port->bridge = (int)i;
			br->ports[br->n_ports++] = (uint16_t)found;
		}
		json_t *a = json_object_get(b, "ipv4");
		if (a) {
			snprintf(f, sizeof(f), "bridges[%zu].ipv4", i);
			if (parse_addrs(c, f, a, br->addrs, &br->n_addrs))
				return -1;
		}
	}
	cfg->n_bridges = (uint16_t)json_array_size(arr);
	return 0;
}

/* Every address with where it sits, for the overlap and gateway checks. */
struct addr_ref {
	const struct cfg_addr *a;
	char field[64];
};

static size_t collect_addrs(const struct ixyd_config *cfg, struct addr_ref *refs)
{
	size_t n = 0;
	for (uint16_t i = 0; i < cfg->n_ports; i++)
		for (uint16_t k = 0; k < cfg->ports[i].n_addrs; k++) {
			refs[n].a = &cfg->ports[i].addrs[k];
			snprintf(refs[n++].field, sizeof(refs[0].field), "ports[%u].ipv4[%u]", i,
				 k);
		}
	for (uint16_t i = 0; i < cfg->n_bridges; i++)
		for (uint16_t k = 0; k < cfg->bridges[i].n_addrs; k++) {
			refs[n].a = &cfg->bridges[i].addrs[k];
			snprintf(refs[n++].field, sizeof(refs[0].field), "bridges[%u].ipv4[%u]", i,
				 k);
		}
	return n;
}

static int check_subnets(struct ctx *c, const struct ixyd_config *cfg, struct addr_ref *refs,
			 size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++) {
			const struct ip_prefix *a = &refs[i].a->pfx, *b = &refs[j].a->pfx;
			struct ip_prefix shorter = a->len < b->len ? *a : *b;
			const struct ip_addr *other = a->len < b->len ? &b->addr : &a->addr;
			if (ip_prefix_contains(&shorter, other)) {
				char sa[IP_PREFIX_STRLEN], sb[IP_PREFIX_STRLEN];
				ip_prefix_format(a, sa);
				ip_prefix_format(b, sb);
				return fail(c, refs[i].field, "%s overlaps %s of %s", sa, sb,
					    refs[j].field);
			}
		}
	(void)cfg;
	return 0;
}

static int parse_routes(struct ctx *c, json_t *arr, struct ixyd_config *cfg, struct addr_ref *refs,
			size_t n_refs)
{
	static const char *const keys[] = {"prefix", "via", NULL};
	char f[64];
	if (!json_is_array(arr))
		return fail(c, "routes", "must be an array");
	cfg->routes = calloc(json_array_size(arr) + 1, sizeof(*cfg->routes));
	if (!cfg->routes)
		return fail(c, "routes", "out of memory");
	size_t i;
	json_t *r;
	json_array_foreach(arr, i, r)
	{
		struct cfg_route *rt = &cfg->routes[i];
		snprintf(f, sizeof(f), "routes[%zu]", i);
		if (!json_is_object(r))
			return fail(c, f, "must be an object");
		if (check_keys(c, f, r, keys))
			return -1;
		snprintf(f, sizeof(f), "routes[%zu].prefix", i);
		json_t *p = json_object_get(r, "prefix");
		if (!json_is_string(p))
			return fail(c, f, "must be a string \"a.b.c.d/len\"");
		const char *ps = json_string_value(p), *why;
		if (ip_prefix_parse(ps, strlen(ps), IP_PREFIX_KEEP_HOST_BITS, &rt->prefix, &why) ||
		    rt->prefix.addr.family != AF_INET)
			return fail(c, f, "not a prefix: \"%s\"", ps);
		if (ip_prefix_has_host_bits(&rt->prefix))
			return fail(c, f, "host bits set in %s", ps);
		for (size_t j = 0; j < i; j++)
			if (ip_prefix_equal(&cfg->routes[j].prefix, &rt->prefix))
				return fail(c, f, "%s is also the prefix of routes[%zu]", ps, j);
		for (size_t j = 0; j < n_refs; j++) {
			const struct ip_prefix *a = &refs[j].a->pfx;
			if (a->len == rt->prefix.len && ip_prefix_contains(&rt->prefix, &a->addr))
				return fail(c, f, "%s is the connected subnet of %s", ps,
					    refs[j].field);
		}
		snprintf(f, sizeof(f), "routes[%zu].via", i);
		json_t *v = json_object_get(r, "via");
		const char *vs = json_is_string(v) ? json_string_value(v) : NULL;
		if (!vs || ip_addr_parse_family(vs, strlen(vs), AF_INET, &rt->via) != 0)
			return fail(c, f, "must be an IPv4 address string");
		bool on_link = false;
		for (size_t j = 0; j < n_refs; j++)
			on_link |= ip_prefix_contains(&refs[j].a->pfx, &rt->via);
		if (!on_link)
			return fail(c, f, "%s is on no connected subnet", vs);
		for (size_t j = 0; j < n_refs; j++)
			if (ip_addr_equal(&refs[j].a->pfx.addr, &rt->via))
				return fail(c, f, "%s is our own address (%s)", vs, refs[j].field);
	}
	cfg->n_routes = json_array_size(arr);
	return 0;
}

static int parse_workers(struct ctx *c, json_t *w, struct ixyd_config *cfg)
{
	static const char *const keys[] = {"cores", "idle_sleep_us", NULL};
	char f[64];
	if (!json_is_object(w))
		return fail(c, "workers", "must be an object");
	if (check_keys(c, "workers", w, keys))
		return -1;
	json_t *cores = json_object_get(w, "cores");
	if (cores) {
		if (!json_is_array(cores) || json_array_size(cores) == 0)
			return fail(c, "workers.cores",
				    "must be a non-empty array of core numbers");
		if (json_array_size(cores) > DP_MAX_WORKERS)
			return fail(c, "workers.cores", "at most %d workers", DP_MAX_WORKERS);
		long n_cpus = sysconf(_SC_NPROCESSORS_CONF);
		size_t i;
		json_t *v;
		json_array_foreach(cores, i, v)
		{
			snprintf(f, sizeof(f), "workers.cores[%zu]", i);
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				return fail(c, f, "must be a core number");
			if (json_integer_value(v) >= n_cpus)
				return fail(c, f, "core %lld does not exist (this machine has %ld)",
					    (long long)json_integer_value(v), n_cpus);
			cfg->cores[i] = (int)json_integer_value(v);
			for (size_t j = 0; j < i; j++)
				if (cfg->cores[j] == cfg->cores[i])
					return fail(c, f, "core %d is already workers.cores[%zu]",
						    cfg->cores[i], j);
		}
		cfg->n_workers = (uint16_t)json_array_size(cores);
	}
	json_t *s = json_object_get(w, "idle_sleep_us");
	if (s) {
		if (!json_is_integer(s) || json_integer_value(s) < 0 ||
		    json_integer_value(s) > 1000000)
			return fail(c, "workers.idle_sleep_us",
				    "must be an integer from 0 to 1000000");
		cfg->idle_sleep_us = (uint32_t)json_integer_value(s);
	}
	return 0;
}

static int parse_icmp(struct ctx *c, json_t *o, struct ixyd_config *cfg)
{
	static const char *const keys[] = {"rate_per_s", "burst", NULL};
	if (!json_is_object(o))
		return fail(c, "icmp", "must be an object");
	if (check_keys(c, "icmp", o, keys))
		return -1;
	json_t *r = json_object_get(o, "rate_per_s"), *b = json_object_get(o, "burst");
	if (r) {
		if (!json_is_integer(r) || json_integer_value(r) < 0 ||
		    json_integer_value(r) > 1000000)
			return fail(c, "icmp.rate_per_s", "must be an integer from 0 to 1000000");
		cfg->icmp_rate_per_s = (uint32_t)json_integer_value(r);
	}
	if (b) {
		if (!json_is_integer(b) || json_integer_value(b) < 1 ||
		    json_integer_value(b) > 100000)
			return fail(c, "icmp.burst", "must be an integer from 1 to 100000");
		cfg->icmp_burst = (uint32_t)json_integer_value(b);
	}
	return 0;
}

static int parse_api(struct ctx *c, json_t *o, struct ixyd_config *cfg)
{
	static const char *const keys[] = {"listen", NULL};
	if (!json_is_object(o))
		return fail(c, "api", "must be an object");
	if (check_keys(c, "api", o, keys))
		return -1;
	json_t *l = json_object_get(o, "listen");
	if (!l)
		return 0;
	if (get_string(c, "api.listen", l, cfg->api_listen, sizeof(cfg->api_listen)))
		return -1;
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (api_parse_listen(cfg->api_listen, &ss, &sslen) != 0)
		return fail(
		    c, "api.listen",
		    "must be \"HOST:PORT\" with a numeric IPv4 host or [IPv6] host, got \"%s\"",
		    cfg->api_listen);
	return 0;
}

int config_load(const char *path, struct ixyd_config *cfg, char *err, size_t errlen)
{
	static const char *const keys[] = {"ports", "bridges", "routes",     "workers",
					   "icmp",  "api",     "state_file", NULL};
	struct ctx c = {.err = err, .errlen = errlen};
	memset(cfg, 0, sizeof(*cfg));
	cfg->n_workers = 1;
	cfg->cores[0] = -1;
	cfg->idle_sleep_us = 50;
	cfg->icmp_rate_per_s = 100;
	cfg->icmp_burst = 20;

	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line > 0)
			snprintf(err, errlen, "config: %s:%d:%d: %s", path, jerr.line, jerr.column,
				 jerr.text);
		else
			snprintf(err, errlen, "config: %s: %s", path, jerr.text);
		return -1;
	}
	int rc = -1;
	struct addr_ref *refs =
	    calloc((DP_MAX_PORTS + DP_MAX_BRIDGES) * IFACE_MAX_ADDRS, sizeof(*refs));
	if (!refs) {
		fail(&c, path, "out of memory");
		goto out;
	}
	if (!json_is_object(root)) {
		fail(&c, path, "the top level must be an object");
		goto out;
	}
	if (check_keys(&c, "(top level)", root, keys) ||
	    parse_ports(&c, json_object_get(root, "ports"), cfg))
		goto out;
	json_t *v = json_object_get(root, "bridges");
	if (v && parse_bridges(&c, v, cfg))
		goto out;
	size_t n_refs = collect_addrs(cfg, refs);
	if (check_subnets(&c, cfg, refs, n_refs))
		goto out;
	v = json_object_get(root, "routes");
	if (v && parse_routes(&c, v, cfg, refs, n_refs))
		goto out;
	v = json_object_get(root, "workers");
	if (v && parse_workers(&c, v, cfg))
		goto out;
	v = json_object_get(root, "icmp");
	if (v && parse_icmp(&c, v, cfg))
		goto out;
	v = json_object_get(root, "api");
	if (v && parse_api(&c, v, cfg))
		goto out;
	v = json_object_get(root, "state_file");
	if (v && get_string(&c, "state_file", v, cfg->state_file, sizeof(cfg->state_file)))
		goto out;
	rc = 0;
out:
	free(refs);
	json_decref(root);
	if (rc)
		config_free(cfg);
	return rc;
}

void config_free(struct ixyd_config *cfg)
{
	free(cfg->routes);
	cfg->routes = NULL;
	cfg->n_routes = 0;
}
