/*
 * api_state.c: the state file (docs/api.md, "Persistence"): what was changed through the API
 * (the route set, static neighbours, promiscuous settings) as JSON, written atomically after
 * every change and applied at start-up after the configuration.
 *
 *   {"version": 1,
 *    "ports": [{"name": "p0", "promisc": true}, ...],
 *    "neighbors": [{"ip": "10.2.0.2", "mac": "02:00:00:00:00:02"}, ...],
 *    "routes": [{"prefix": "10.9.0.0/16", "via": "10.2.0.2"}, ...]}
 * The routes are the API's own (owner api), in the API's route body form (api_format_route()),
 * so every kind of route (ECMP, on-link, blackhole, ...) survives a restart.
 *
 * Atomic replacement (POSIX rename(2) replaces the name in one step):
 *   1. write the whole new content to PATH.tmp in the same directory (same file system);
 *   2. fsync(PATH.tmp): its data is on disk before its name can be;
 *   3. rename(PATH.tmp, PATH): readers see the old file or the new one, never a mix;
 *   4. fsync(directory): the rename itself is on disk before we acknowledge the change.
 * A crash before 3 leaves the old PATH (and a PATH.tmp that start-up removes); after 3, the new.
 *
 * A full table is 900k routes: the routes are formatted by hand into one buffer (about 41 MB)
 * and read back with the API's fast route parser.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "api_parse.h"
#include "log.h"
#include "neigh.h"

#define STATE_VERSION 1

/* ---- saving ---------------------------------------------------------------------------------- */

static char *dump_small_parts(struct control *ctl)
{
	const struct dataplane *dp = control_dataplane(ctl);
	json_t *ports = json_array(), *neigh = json_array();
	for (port_id_t p = 0; p < dp_port_count(dp); p++) {
		struct control_port_info pi;
		if (control_port_info(ctl, p, &pi) == 0 && !pi.dp.bridged)
			json_array_append_new(ports, json_pack("{s:s, s:b}", "name", pi.dp.name,
							       "promisc", pi.promisc));
	}
	struct control_neigh_info e[256];
	size_t n = control_list_neighbours(ctl, e, 256), cap = 256;
	struct control_neigh_info *big = NULL;
	const struct control_neigh_info *list = e;
	if (n > cap) { /* rare: more than 256 entries of any kind */
		big = malloc((n + 64) * sizeof(*big));
		size_t got = big ? control_list_neighbours(ctl, big, n + 64) : 0;
		n = got < n + 64 ? got : n + 64;
		list = big;
	}
	for (size_t i = 0; i < n && list; i++) {
		if (list[i].state != NEIGH_STATIC)
			continue;
		char ip[IP_ADDR_STRLEN], mac[18];
		const uint8_t *m = list[i].mac;
		ip_addr_format(&list[i].ip, ip);
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		json_array_append_new(neigh, json_pack("{s:s, s:s}", "ip", ip, "mac", mac));
	}
	free(big);
	json_t *o = json_pack("{s:i, s:o, s:o}", "version", STATE_VERSION, "ports", ports,
			      "neighbors", neigh);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}

/* The whole file's text: the small parts' object with "routes" (the API's own routes, in the
 * API's route body form) appended before its brace. */
static char *format_state(struct control *ctl, size_t *len_out)
{
	struct control_route *r = NULL;
	struct control_path *paths = NULL;
	size_t n = 0;
	const struct iface_table *ift = dp_ifaces(control_dataplane(ctl));
	char *head = dump_small_parts(ctl);
	if (!head || control_export_routes(ctl, CONTROL_OWNER_API, &r, &n, &paths) != 0) {
		free(head);
		return NULL;
	}
	size_t head_len = strlen(head) - 1; /* without the closing brace */
	size_t cap = head_len + 32, len = head_len;
	for (size_t i = 0; i < n; i++) /* the common form is under 48 bytes; others grow it */
		cap += r[i].n_paths == 1 && !r[i].precedence ? 112 : API_ROUTE_TEXT_MAX;
	char *buf = malloc(cap);
	if (!buf)
		goto out;
	memcpy(buf, head, head_len);
	len += (size_t)sprintf(buf + len, ",\"routes\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf[len++] = ',';
		buf[len++] = '\n';
		size_t w = api_format_route(buf + len, cap - len, &r[i], ift);
		if (!w) { /* cannot happen: cap counted each route's room */
			free(buf);
			buf = NULL;
			goto out;
		}
		len += w;
	}
	len += (size_t)sprintf(buf + len, "]}\n");
	*len_out = len;
out:
	free(r);
	free(paths);
	free(head);
	return buf;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int api_state_save(struct control *ctl, const char *path)
{
	char tmp[4096], dir[4096];
	size_t len = 0;
	int err = 0, fd = -1;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	char *text = format_state(ctl, &len);
	if (!text)
		return -ENOMEM;
	/* 1. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, text, len);
	/* 2. */
	if (!err && fsync(fd) != 0)
		err = -errno;
	if (close(fd) != 0 && !err)
		err = -errno;
	if (err) {
		unlink(tmp);
		goto out;
	}
	/* 3. */
	if (rename(tmp, path) != 0) {
		err = -errno;
		unlink(tmp);
		goto out;
	}
	/* 4. */
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0)
		err = -errno;
	if (dfd >= 0)
		close(dfd);
out:
	free(text);
	return err;
}

/* ---- loading --------------------------------------------------------------------------------- */

struct load {
	const char *path;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail(struct load *l, const char *field,
						      const char *fmt, ...)
{
	char why[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(l->err, l->errlen, "state: %s: %s: %s", l->path, field, why);
	return -EINVAL;
}

static int read_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int err = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		err = -errno;
		goto out;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			free(buf);
			goto out;
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
out:
	close(fd);
	return err;
}

static int apply_ports(struct load *l, struct control *ctl, json_t *ports)
{
	const struct dataplane *dp = control_dataplane(ctl);
	size_t i;
	json_t *p;
	if (!json_is_array(ports))
		return fail(l, "ports", "must be an array");
	json_array_foreach(ports, i, p)
	{
		const char *name;
		int promisc;
		if (json_unpack(p, "{s:s, s:b}", "name", &name, "promisc", &promisc) != 0)
			return fail(l, "ports", "entry %zu: expected {\"name\", \"promisc\"}", i);
		int port = dp_find_port(dp, name);
		if (port < 0) {
			LOG_WARN("state", "%s: port %s is not configured any more: ignored",
				 l->path, name);
			continue;
		}
		int err = control_set_promisc(ctl, (port_id_t)port, promisc);
		if (err && err != -EBUSY)
			return fail(l, "ports", "%s: promiscuous mode: %s", name, strerror(-err));
	}
	return 0;
}

static int apply_neighbours(struct load *l, struct control *ctl, json_t *neigh)
{
	size_t i;
	json_t *e;
	if (!json_is_array(neigh))
		return fail(l, "neighbors", "must be an array");
	json_array_foreach(neigh, i, e)
	{
		const char *ip_s, *mac_s;
		struct ip_addr ip;
		uint8_t mac[6];
		if (json_unpack(e, "{s:s, s:s}", "ip", &ip_s, "mac", &mac_s) != 0 ||
		    ip_addr_parse(ip_s, strlen(ip_s), &ip) != 0 || api_parse_mac(mac_s, mac) != 0)
			return fail(l, "neighbors", "entry %zu: expected {\"ip\", \"mac\"}", i);
		int err = control_set_static_neighbour(ctl, &ip, mac);
		if (err)
			return fail(l, "neighbors", "%s: %s", ip_s, strerror(-err));
	}
	return 0;
}

static int apply_routes(struct load *l, struct control *ctl, const char *text, size_t len)
{
	struct api_route_set set = {0};
	size_t bad = SIZE_MAX;
	bool single;
	struct api_parse_error perr;
	int err =
	    api_parse_routes(text, len, 0, dp_ifaces(control_dataplane(ctl)), &set, &single, &perr);
	if (err)
		return fail(l, "routes", "%s", perr.message);
	err = control_routes_replace(ctl, CONTROL_OWNER_API, set.routes, set.n, &bad);
	if (err) {
		char p[IP_PREFIX_STRLEN] = "";
		if (bad < set.n) {
			ip_prefix_format(&set.routes[bad].prefix, p);
			fail(l, "routes", "%s: %s", p, strerror(-err));
		} else {
			fail(l, "routes", "%s", strerror(-err));
		}
		err = -EINVAL;
	}
	api_route_set_free(&set);
	return err;
}

/* One top-level member "key": value; *key_out / value slice. -EINVAL on anything else. */
static int next_member(const char *buf, size_t len, size_t *pos, char *key, size_t keylen,
		       size_t *vstart, size_t *vend)
{
	size_t p = *pos;
	while (p < len && strchr(" \t\r\n", buf[p]))
		p++;
	if (p >= len || buf[p] != '"')
		return -EINVAL;
	const char *end = memchr(buf + p + 1, '"', len - p - 1);
	if (!end || (size_t)(end - buf - p - 1) >= keylen)
		return -EINVAL;
	memcpy(key, buf + p + 1, (size_t)(end - buf - p - 1));
	key[end - buf - p - 1] = '\0';
	p = (size_t)(end - buf) + 1;
	while (p < len && strchr(" \t\r\n", buf[p]))
		p++;
	if (p >= len || buf[p] != ':')
		return -EINVAL;
	*vstart = p + 1;
	*vend = api_json_skip_value(buf, len, p + 1);
	if (*vend == SIZE_MAX)
		return -EINVAL;
	*pos = *vend;
	return 0;
}

int api_state_load(struct control *ctl, const char *path, char *errbuf, size_t errlen)
{
	struct load l = {.path = path, .err = errbuf, .errlen = errlen};
	char tmp[4096];
	char *buf = NULL;
	size_t len = 0, pos = 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) < (int)sizeof(tmp) && unlink(tmp) == 0)
		LOG_INFO("state", "removed %s, left by an interrupted save", tmp);
	int err = read_file(path, &buf, &len);
	if (err == -ENOENT)
		return 0;
	if (err) {
		snprintf(errbuf, errlen, "state: %s: %s", path, strerror(-err));
		return err;
	}
	/* The members, in any order; each value is a slice handed to a real parser. */
	while (pos < len && strchr(" \t\r\n", buf[pos]))
		pos++;
	if (pos >= len || buf[pos++] != '{') {
		err = fail(&l, "(top level)", "not a JSON object");
		goto out;
	}
	bool have_version = false;
	for (;;) {
		char key[32];
		size_t vs, ve;
		if (next_member(buf, len, &pos, key, sizeof(key), &vs, &ve) != 0) {
			err = fail(&l, "(top level)", "malformed near byte %zu", pos);
			goto out;
		}
		if (strcmp(key, "routes") == 0) {
			err = apply_routes(&l, ctl, buf + vs, ve - vs);
		} else if (strcmp(key, "version") == 0 || strcmp(key, "ports") == 0 ||
			   strcmp(key, "neighbors") == 0) {
			json_error_t jerr;
			json_t *v = json_loadb(buf + vs, ve - vs, JSON_DECODE_ANY, &jerr);
			if (!v)
				err = fail(&l, key, "%s", jerr.text);
			else if (key[0] == 'v') {
				have_version = true;
				if (!json_is_integer(v) || json_integer_value(v) != STATE_VERSION)
					err = fail(&l, key, "this ixyd reads version %d",
						   STATE_VERSION);
			} else if (key[0] == 'p')
				err = apply_ports(&l, ctl, v);
			else
				err = apply_neighbours(&l, ctl, v);
			json_decref(v);
		} else {
			err = fail(&l, key, "unknown key");
		}
		if (err)
			goto out;
		while (pos < len && strchr(" \t\r\n", buf[pos]))
			pos++;
		if (pos < len && buf[pos] == ',') {
			pos++;
			continue;
		}
		if (pos < len && buf[pos] == '}')
			break;
		err = fail(&l, "(top level)", "',' or '}' expected near byte %zu", pos);
		goto out;
	}
	if (!have_version)
		err = fail(&l, "version", "missing");
out:
	free(buf);
	return err;
}
