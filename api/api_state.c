/*
 * api_state.c: what was changed through the API (the route set, static neighbours, promiscuous
 * settings) kept on disk as a snapshot and a journal (docs/api.md, "Persistence").
 *
 *   PATH               the snapshot: the whole state as JSON, of generation G
 *     {"version": 1, "generation": G,
 *      "ports": [{"name": "p0", "promisc": true}, ...],
 *      "neighbors": [{"ip": "10.2.0.2", "mac": "02:00:00:00:00:02"}, ...],
 *      "routes": [{"prefix": "10.9.0.0/16", "via": "10.2.0.2"}, ...]}
 *   PATH.journal.G     the changes since (journal.h framing, api_state_record.h records);
 *   PATH.journal.G+1.. after a compaction that has not finished, the changes after its switch.
 *
 * A change is one record appended and fsynced before the API answers: O(size of the change).
 * Start-up applies the snapshot, then the chain of journals from its generation on (an older
 * one is left from a compaction that crashed before deleting it: removed, never applied).
 *
 * Compaction (a thread, when the live journal outgrows the snapshot, or at least
 * compact_min_bytes), ordered so that a crash at any point loses nothing acknowledged:
 *   1. under the API's change lock (no change in between, so the copy and the switch agree):
 *      create PATH.journal.G+1 (header fsynced, directory fsynced), copy the state from the
 *      control plane, and switch appends to the new journal; release the lock;
 *   2. write the snapshot of that copy with generation G+1 atomically: PATH.tmp, fsync, rename
 *      over PATH, fsync of the directory;
 *   3. delete PATH.journal.G (and any older).
 * Crash before 2's rename: snapshot G + journals G, G+1 replay to the same state. After it:
 * snapshot G+1 + journal G+1 (G is stale: generation below the snapshot's, removed). A failed 2
 * leaves the chain G, G+1 to be replayed; the next compaction goes on from there.
 *
 * A failed append (a full disk) answers 500 and is cut back off the journal, but the change is
 * in the tables (as before: "change applied but not saved"), so the journal no longer describes
 * them: every later change is then saved as a whole snapshot (steps 1-3 under the change lock)
 * until one succeeds, after which records resume.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "api_parse.h"
#include "api_state.h"
#include "api_state_record.h"
#include "journal.h"
#include "log.h"
#include "neigh.h"

#define STATE_VERSION	  1
#define COMPACT_MIN_BYTES (1u << 20) /* default: no compaction below 1 MiB of journal */
#define COMPACT_RETRY_S	  5	     /* after a failed compaction */

struct api_state {
	struct control *ctl;
	char *path;
	uint64_t compact_min_bytes;
	/* The live journal and need_snapshot: under *change_lock once started (the opening thread
	 * alone before). */
	struct journal *live;
	bool need_snapshot; /* the tables hold a change the disk does not */
	/* snapshot_gen (the snapshot on disk: journals from it on matter): under compact_mu,
	 * which serialises compactions. Lock order: change_lock, then compact_mu. */
	pthread_mutex_t compact_mu;
	uint64_t snapshot_gen;
	_Atomic uint64_t snapshot_bytes; /* relaxed atomic: the compaction threshold reads it */
	/* The compaction thread. */
	pthread_mutex_t *change_lock;
	pthread_mutex_t wake_mu;
	pthread_cond_t wake;
	bool wake_flag, stop, running;
	pthread_t thread;
};

/* ---- the snapshot ---------------------------------------------------------------------------- */

/* The snapshot's members before "routes", as a JSON object text (malloc'd) or NULL. */
static char *dump_small_parts(struct control *ctl, uint64_t gen)
{
	const struct dataplane *dp = control_dataplane(ctl);
	json_t *ports = json_array(), *neigh = json_array();
	for (port_id_t p = 0; p < dp_port_count(dp); p++) {
		struct control_port_info pi;
		if (control_port_info(ctl, p, &pi) == 0 && !pi.dp.bridged)
			json_array_append_new(ports, json_pack("{s:s, s:b}", "name", pi.dp.name,
							       "promisc", pi.promisc));
	}
	struct control_neigh_info *list = NULL;
	size_t n = 256, got;
	for (;;) {
		free(list);
		list = malloc(n * sizeof(*list));
		got = list ? control_list_neighbours(ctl, list, n) : 0;
		if (!list || got <= n)
			break;
		n = got + 64; /* it grew between two calls */
	}
	for (size_t i = 0; i < got && list; i++) {
		if (list[i].state != NEIGH_STATIC)
			continue;
		char ip[IP_ADDR_STRLEN], mac[18];
		const uint8_t *m = list[i].mac;
		ip_addr_format(&list[i].ip, ip);
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		json_array_append_new(neigh, json_pack("{s:s, s:s}", "ip", ip, "mac", mac));
	}
	free(list);
	json_t *o = json_pack("{s:i, s:I, s:o, s:o}", "version", STATE_VERSION, "generation",
			      (json_int_t)gen, "ports", ports, "neighbors", neigh);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}

/* The whole snapshot text: the small parts' object with "routes" appended before its brace. */
static char *format_snapshot(const char *head, const struct control_route *r, size_t n,
			     const struct iface_table *ift, size_t *len_out)
{
	size_t head_len = strlen(head) - 1; /* without the closing brace */
	size_t cap = head_len + 32;
	for (size_t i = 0; i < n; i++)
		cap += state_route_room(&r[i]) + 2;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	memcpy(buf, head, head_len);
	size_t len = head_len;
	len += (size_t)sprintf(buf + len, ",\"routes\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf[len++] = ',';
		buf[len++] = '\n';
		size_t w = api_format_route(buf + len, cap - len, &r[i], ift);
		if (!w) { /* cannot happen: cap counted each route's room */
			free(buf);
			return NULL;
		}
		len += w;
	}
	len += (size_t)sprintf(buf + len, "]}\n");
	*len_out = len;
	return buf;
}

/* Replace path by text atomically (POSIX rename(2) replaces the name in one step):
 *   a. write the whole text to PATH.tmp in the same directory (same file system);
 *   b. fsync(PATH.tmp): its data is on disk before its name can be;
 *   c. rename(PATH.tmp, PATH): readers see the old file or the new one, never a mix;
 *   d. fsync(directory): the rename itself is on disk before anything relies on it. */
static int write_atomically(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	int err = 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); /* a. */
	if (fd < 0)
		return -errno;
	err = journal_write_all(fd, text, len);
	if (!err && fsync(fd) != 0) /* b. */
		err = -errno;
	if (close(fd) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) != 0) /* c. */
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	return journal_fsync_dir_of(path); /* d. */
}

/* Remove the journals of generations [from, to). */
static void remove_journals(const char *base, uint64_t from, uint64_t to)
{
	for (uint64_t g = from; g < to; g++) {
		char p[PATH_MAX];
		if (journal_path(p, sizeof(p), base, g) == 0 && unlink(p) != 0 && errno != ENOENT)
			LOG_WARN("state", "cannot remove %s: %s", p, strerror(errno));
	}
}

/*
 * Compaction, steps 1-3 of the file comment. locked: the caller holds the change lock (a change
 * that must be saved as a snapshot, or start-up before any thread); otherwise it is taken for
 * step 1 only. 0 or -errno; on error the journals on disk still replay to what was acknowledged.
 */
static int compact(struct api_state *st, bool locked)
{
	struct control_route *r = NULL;
	struct control_path *paths = NULL;
	struct journal *j = NULL;
	char *head = NULL, *text = NULL, jpath[PATH_MAX];
	size_t n = 0, len = 0;
	if (!locked)
		pthread_mutex_lock(st->change_lock);
	pthread_mutex_lock(&st->compact_mu);
	/* 1. */
	uint64_t gen = journal_generation(st->live) + 1;
	int err = journal_path(jpath, sizeof(jpath), st->path, gen);
	if (!err && !(j = journal_create(jpath, gen)))
		err = -errno;
	if (!err && !(head = dump_small_parts(st->ctl, gen)))
		err = -ENOMEM;
	if (!err)
		err = control_export_routes(st->ctl, CONTROL_OWNER_API, &r, &n, &paths);
	if (err) {
		if (j) {
			journal_close(j);
			unlink(jpath);
		}
		if (!locked)
			pthread_mutex_unlock(st->change_lock);
		goto out;
	}
	struct journal *old = st->live;
	st->live = j;
	if (!locked)
		pthread_mutex_unlock(st->change_lock);
	journal_close(old); /* nothing appends to it any more; it stays on disk until 3. */
	/* 2. */
	text = format_snapshot(head, r, n, dp_ifaces(control_dataplane(st->ctl)), &len);
	err = text ? write_atomically(st->path, text, len) : -ENOMEM;
	if (err)
		goto out;
	/* 3. */
	remove_journals(st->path, st->snapshot_gen, gen);
	st->snapshot_gen = gen;
	atomic_store_explicit(&st->snapshot_bytes, len, memory_order_relaxed);
	LOG_INFO("state", "%s: snapshot of generation %llu written (%zu routes, %zu bytes)",
		 st->path, (unsigned long long)gen, n, len);
out:
	pthread_mutex_unlock(&st->compact_mu);
	if (err)
		LOG_WARN("state", "%s: compaction failed: %s", st->path, strerror(-err));
	free(text);
	free(r);
	free(paths);
	free(head);
	return err;
}

/* ---- the compaction thread ------------------------------------------------------------------- */

static void *compactor(void *arg)
{
	struct api_state *st = arg;
	pthread_mutex_lock(&st->wake_mu);
	while (!st->stop) {
		if (!st->wake_flag) {
			pthread_cond_wait(&st->wake, &st->wake_mu);
			continue;
		}
		st->wake_flag = false;
		pthread_mutex_unlock(&st->wake_mu);
		int err = compact(st, false);
		pthread_mutex_lock(&st->wake_mu);
		if (err) { /* do not spin on a full disk: wait, then try again if still asked */
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += COMPACT_RETRY_S;
			while (!st->stop &&
			       pthread_cond_timedwait(&st->wake, &st->wake_mu, &until) != ETIMEDOUT)
				;
		}
	}
	pthread_mutex_unlock(&st->wake_mu);
	return NULL;
}

int api_state_start(struct api_state *st, pthread_mutex_t *change_lock)
{
	if (!st)
		return 0;
	st->change_lock = change_lock;
	int err = -pthread_create(&st->thread, NULL, compactor, st);
	st->running = err == 0;
	return err;
}

void api_state_stop(struct api_state *st)
{
	if (!st || !st->running)
		return;
	pthread_mutex_lock(&st->wake_mu);
	st->stop = true;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->wake_mu);
	pthread_join(st->thread, NULL);
	st->running = false;
}

/* ---- changes --------------------------------------------------------------------------------- */

/* Save one change (caller holds the change lock): rec (malloc'd, freed here; NULL: out of
 * memory) appended, or the whole state as a snapshot while the journal is behind the tables. */
static int commit(struct api_state *st, char *rec, size_t len)
{
	int err;
	if (!rec)
		err = -ENOMEM;
	else if (st->need_snapshot)
		err = compact(st, true);
	else
		err = journal_append(st->live, rec, len);
	free(rec);
	if (err) {
		st->need_snapshot = true;
		return err;
	}
	st->need_snapshot = false;
	uint64_t limit = atomic_load_explicit(&st->snapshot_bytes, memory_order_relaxed);
	if (limit < st->compact_min_bytes)
		limit = st->compact_min_bytes;
	if (st->running && journal_bytes(st->live) > limit) {
		pthread_mutex_lock(&st->wake_mu);
		st->wake_flag = true;
		pthread_cond_signal(&st->wake);
		pthread_mutex_unlock(&st->wake_mu);
	}
	return 0;
}

int api_state_route_add(struct api_state *st, const struct control_route *r, size_t n)
{
	size_t len = 0;
	if (!st)
		return 0;
	char *rec =
	    state_record_routes(STATE_ROUTE_ADD, r, n, dp_ifaces(control_dataplane(st->ctl)), &len);
	return commit(st, rec, len);
}

int api_state_routes_replace(struct api_state *st, const struct control_route *r, size_t n)
{
	size_t len = 0;
	if (!st)
		return 0;
	char *rec = state_record_routes(STATE_ROUTES_REPLACE, r, n,
					dp_ifaces(control_dataplane(st->ctl)), &len);
	return commit(st, rec, len);
}

int api_state_route_del(struct api_state *st, const struct ip_prefix *p)
{
	size_t len = 0;
	if (!st)
		return 0;
	char *rec = state_record_route_del(p, &len);
	return commit(st, rec, len);
}

int api_state_neigh_static(struct api_state *st, const struct ip_addr *ip, const uint8_t mac[6])
{
	size_t len = 0;
	if (!st)
		return 0;
	char *rec = state_record_neigh_static(ip, mac, &len);
	return commit(st, rec, len);
}

int api_state_promisc(struct api_state *st, const char *port, bool on)
{
	size_t len = 0;
	if (!st)
		return 0;
	char *rec = state_record_promisc(port, on, &len);
	return commit(st, rec, len);
}

const char *api_state_path(const struct api_state *st)
{
	return st ? st->path : "";
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
		int err = control_set_promisc(ctl, (uint16_t)port, promisc);
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

/* The snapshot at l->path: applied to ctl, *gen gets its generation (0 for a file written
 * before there were journals, or for no file at all), *bytes its size. */
static int load_snapshot(struct load *l, struct control *ctl, uint64_t *gen, uint64_t *bytes)
{
	uint8_t *raw = NULL;
	size_t len = 0, pos = 0;
	*gen = 0;
	*bytes = 0;
	int err = journal_read_file(l->path, &raw, &len);
	char *buf = (char *)raw; /* NUL-terminated text */
	if (err == -ENOENT)
		return 0;
	if (err) {
		snprintf(l->err, l->errlen, "state: %s: %s", l->path, strerror(-err));
		return err;
	}
	*bytes = len;
	/* The members, in any order; each value is a slice handed to a real parser. */
	while (pos < len && strchr(" \t\r\n", buf[pos]) && buf[pos])
		pos++;
	if (pos >= len || buf[pos++] != '{') {
		err = fail(l, "(top level)", "not a JSON object");
		goto out;
	}
	bool have_version = false;
	for (;;) {
		char key[32];
		size_t vs, ve;
		if (state_json_member(buf, len, &pos, key, sizeof(key), &vs, &ve) != 0) {
			err = fail(l, "(top level)", "malformed near byte %zu", pos);
			goto out;
		}
		if (strcmp(key, "routes") == 0) {
			err = apply_routes(l, ctl, buf + vs, ve - vs);
		} else if (strcmp(key, "version") == 0 || strcmp(key, "generation") == 0 ||
			   strcmp(key, "ports") == 0 || strcmp(key, "neighbors") == 0) {
			json_error_t jerr;
			json_t *v = json_loadb(buf + vs, ve - vs, JSON_DECODE_ANY, &jerr);
			if (!v)
				err = fail(l, key, "%s", jerr.text);
			else if (key[0] == 'v') {
				have_version = true;
				if (!json_is_integer(v) || json_integer_value(v) != STATE_VERSION)
					err = fail(l, key, "this ixyd reads version %d",
						   STATE_VERSION);
			} else if (key[0] == 'g') {
				if (!json_is_integer(v) || json_integer_value(v) < 0)
					err = fail(l, key, "not a generation number");
				else
					*gen = (uint64_t)json_integer_value(v);
			} else if (key[0] == 'p')
				err = apply_ports(l, ctl, v);
			else
				err = apply_neighbours(l, ctl, v);
			json_decref(v);
		} else {
			err = fail(l, key, "unknown key");
		}
		if (err)
			goto out;
		int more = state_json_next(buf, len, &pos);
		if (more < 0) {
			err = fail(l, "(top level)", "',' or '}' expected near byte %zu", pos);
			goto out;
		}
		if (!more)
			break;
	}
	if (!have_version)
		err = fail(l, "version", "missing");
out:
	free(buf);
	return err;
}

/* ---- replaying the journal ------------------------------------------------------------------- */

struct replay {
	struct load *l;
	struct control *ctl;
	size_t index; /* records so far, all journals together */
};

/* One journal record applied to the tables, as the API applied it when it was made. */
static int apply_record(void *arg, const char *payload, size_t len)
{
	struct replay *rp = arg;
	struct state_change c;
	char why[256], field[48];
	size_t bad = SIZE_MAX;
	int err;
	snprintf(field, sizeof(field), "journal record %zu", rp->index++);
	err = state_record_decode(payload, len, dp_ifaces(control_dataplane(rp->ctl)), &c, why,
				  sizeof(why));
	if (err)
		return err == -EINVAL ? fail(rp->l, field, "%s", why) : err;
	switch (c.op) {
	case STATE_ROUTE_ADD:
		err = control_routes_add(rp->ctl, CONTROL_OWNER_API, c.set.routes, c.set.n, &bad);
		break;
	case STATE_ROUTES_REPLACE:
		err =
		    control_routes_replace(rp->ctl, CONTROL_OWNER_API, c.set.routes, c.set.n, &bad);
		break;
	case STATE_ROUTE_DEL:
		err = control_route_delete(rp->ctl, CONTROL_OWNER_API, &c.prefix);
		break;
	case STATE_NEIGH_STATIC:
		err = control_set_static_neighbour(rp->ctl, &c.ip, c.mac);
		break;
	case STATE_PROMISC: {
		int port = dp_find_port(control_dataplane(rp->ctl), c.port);
		if (port < 0) {
			LOG_WARN("state", "%s: port %s is not configured any more: ignored",
				 rp->l->path, c.port);
			break;
		}
		err = control_set_promisc(rp->ctl, (port_id_t)port, c.on);
		if (err == -EBUSY)
			err = 0;
		break;
	}
	}
	if (err) {
		char p[IP_PREFIX_STRLEN] = "";
		if (bad < c.set.n) {
			ip_prefix_format(&c.set.routes[bad].prefix, p);
			fail(rp->l, field, "%s: %s", p, strerror(-err));
		} else {
			fail(rp->l, field, "%.*s: %s", (int)(len < 120 ? len : 120), payload,
			     strerror(-err));
		}
		err = -EINVAL;
	}
	state_change_free(&c);
	return err;
}

/* Keep a corrupt journal for whoever investigates, as a second name (PATH.corrupt) that the
 * compaction's removal of PATH leaves in place. */
static void keep_aside(const char *jpath)
{
	char aside[PATH_MAX];
	if (snprintf(aside, sizeof(aside), "%s.corrupt", jpath) < (int)sizeof(aside) &&
	    (unlink(aside), link(jpath, aside) == 0))
		LOG_ERR("state", "%s kept as %s", jpath, aside);
	else
		LOG_ERR("state", "cannot keep %s aside: %s", jpath, strerror(errno));
}

struct api_state *api_state_open(struct control *ctl, const char *path, uint64_t compact_min_bytes,
				 char *errbuf, size_t errlen)
{
	struct load l = {.path = path, .err = errbuf, .errlen = errlen};
	struct replay rp = {.l = &l, .ctl = ctl};
	struct journal_chain ch;
	char tmp[PATH_MAX], jpath[PATH_MAX];
	uint64_t gen = 0, bytes = 0;
	int err = -ENOMEM;
	struct api_state *st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		snprintf(errbuf, errlen, "state: %s: out of memory", path);
		goto fail;
	}
	st->ctl = ctl;
	st->compact_min_bytes = compact_min_bytes ? compact_min_bytes : COMPACT_MIN_BYTES;
	pthread_mutex_init(&st->compact_mu, NULL);
	pthread_mutex_init(&st->wake_mu, NULL);
	pthread_cond_init(&st->wake, NULL);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) < (int)sizeof(tmp) && unlink(tmp) == 0)
		LOG_INFO("state", "removed %s, left by an interrupted save", tmp);
	/* 1. The snapshot. */
	err = load_snapshot(&l, ctl, &gen, &bytes);
	if (err)
		goto fail;
	st->snapshot_gen = gen;
	atomic_store_explicit(&st->snapshot_bytes, bytes, memory_order_relaxed);
	/* 2. Journals older than the snapshot are already in it: left by a compaction that
	 * crashed before step 3. Removed newest first, so a crash here leaves no gap. */
	for (uint64_t g = gen; g-- > 0;) {
		if (journal_path(jpath, sizeof(jpath), path, g) != 0 || unlink(jpath) != 0)
			break;
		LOG_INFO("state", "removed %s: older than the snapshot", jpath);
	}
	/* 3. The chain of journals from the snapshot's generation on. */
	err = journal_replay_chain(path, gen, apply_record, &rp, &ch);
	if (err) {
		if (err != -EINVAL)
			snprintf(errbuf, errlen, "state: %s journals: %s", path, strerror(-err));
		goto fail;
	}
	if (ch.files)
		journal_path(jpath, sizeof(jpath), path, ch.last_gen);
	if (ch.files && ch.last.end == JOURNAL_END_TORN)
		LOG_WARN("state",
			 "%s: dropped a torn last record (%s) at byte %llu, %llu bytes: never "
			 "acknowledged",
			 jpath, ch.last.why, (unsigned long long)ch.last.good_bytes,
			 (unsigned long long)(ch.last.file_bytes - ch.last.good_bytes));
	if (ch.torn > (ch.files && ch.last.end == JOURNAL_END_TORN))
		LOG_INFO("state", "%s: an earlier journal ended in an append that had failed: cut",
			 path);
	/* 4. The live journal: the last one, its torn tail cut off; or, after a corrupt one, a new
	 * snapshot of what was applied, so nothing is ever appended after the corruption. */
	if (ch.files && ch.last.end == JOURNAL_END_CORRUPT) {
		LOG_ERR("state",
			"%s: corrupt (%s) at byte %llu of %llu: replay stopped there; the %zu "
			"records before it are applied, nothing from there on",
			jpath, ch.last.why, (unsigned long long)ch.last.good_bytes,
			(unsigned long long)ch.last.file_bytes, ch.records);
		keep_aside(jpath);
		/* A new journal after the corrupt one (a crash from here on finds the same chain
		 * and stops at the same place), then a snapshot of what was applied, which
		 * retires the chain. */
		err = journal_path(jpath, sizeof(jpath), path, ch.last_gen + 1);
		st->live = err ? NULL : journal_create(jpath, ch.last_gen + 1);
		err = st->live ? compact(st, true) : -errno;
		if (err) {
			snprintf(errbuf, errlen,
				 "state: %s: cannot write a snapshot after a corrupt journal: %s",
				 path, strerror(-err));
			goto fail;
		}
	} else if (ch.files) {
		st->live = journal_open_append(jpath, ch.last_gen, &ch.last);
	} else {
		journal_path(jpath, sizeof(jpath), path, gen);
		st->live = journal_create(jpath, gen);
	}
	if (!st->live) {
		err = -errno;
		snprintf(errbuf, errlen, "state: %s: %s", jpath, strerror(errno));
		goto fail;
	}
	LOG_INFO("state", "%s: snapshot of generation %llu, then %zu records from %zu journals",
		 path, (unsigned long long)gen, ch.records, ch.files);
	return st;
fail:
	api_state_close(st);
	errno = err < 0 ? -err : EINVAL;
	return NULL;
}

void api_state_close(struct api_state *st)
{
	if (!st)
		return;
	api_state_stop(st);
	journal_close(st->live);
	if (st->path) {
		pthread_mutex_destroy(&st->compact_mu);
		pthread_mutex_destroy(&st->wake_mu);
		pthread_cond_destroy(&st->wake);
	}
	free(st->path);
	free(st);
}
