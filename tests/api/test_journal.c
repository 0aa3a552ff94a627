/*
 * test_journal: the append-only journal (api/journal.h) and the state's records
 * (api/api_state_record.h): append and replay; a torn tail cut at every byte offset of the last
 * record gives exactly the records before it; a bad CRC at the end is torn, in the middle
 * corrupt; wrong magic, a header of another generation, an empty file; a failed append leaves
 * nothing; the generation chain at each crash point of a compaction; the CRC-32C check values
 * of RFC 3720 B.4; records round-trip through their formatter and decoder.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_state_record.h"
#include "check.h"
#include "journal.h"

static char dir[] = "/tmp/test_journal.XXXXXX";

struct seen {
	size_t n;
	char last[64];
};

static int collect(void *arg, const char *p, size_t len)
{
	struct seen *s = arg;
	snprintf(s->last, sizeof(s->last), "%.*s", (int)len, p);
	s->n++;
	return 0;
}

static size_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	*len = file_size(path);
	char *b = malloc(*len + 1);
	if (f && fread(b, 1, *len, f) != *len)
		*len = 0;
	if (f)
		fclose(f);
	return b;
}

static void test_crc(void)
{
	uint8_t z[32] = {0}, ff[32], inc[32];
	memset(ff, 0xff, sizeof(ff));
	for (int i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	/* RFC 3720 appendix B.4, CRC examples. */
	CHECK_EQ(journal_crc32c(0, z, 32), 0x8A9136AAu);
	CHECK_EQ(journal_crc32c(0, ff, 32), 0x62A8AB43u);
	CHECK_EQ(journal_crc32c(0, inc, 32), 0x46DD794Eu);
	CHECK_EQ(journal_crc32c(0, "123456789", 9), 0xE3069283u); /* the usual check value */
	CHECK_EQ(journal_crc32c(journal_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

/* A journal with records "rec-0" .. "rec-(n-1)" at path. */
static void make(const char *path, uint64_t gen, int n)
{
	struct journal *j = journal_create(path, gen);
	CHECK(j != NULL);
	for (int i = 0; j && i < n; i++) {
		char r[16];
		int l = snprintf(r, sizeof(r), "rec-%d", i);
		CHECK_EQ(journal_append(j, r, (size_t)l), 0);
	}
	if (j)
		CHECK_EQ(journal_records(j), n);
	journal_close(j);
}

static void test_append_replay(void)
{
	char p[256];
	struct journal_scan sc;
	struct seen s = {0};
	snprintf(p, sizeof(p), "%s/a.journal.3", dir);
	make(p, 3, 5);
	CHECK_EQ(journal_replay_file(p, collect, &s, &sc), 0);
	CHECK_EQ(s.n, 5);
	CHECK(strcmp(s.last, "rec-4") == 0);
	CHECK_EQ(sc.end, JOURNAL_END_CLEAN);
	CHECK_EQ(sc.generation, 3);
	CHECK_EQ(sc.good_bytes, file_size(p));
	/* Reopened for appending, it goes on after the last record. */
	struct journal *j = journal_open_append(p, 3, &sc);
	CHECK(j && journal_append(j, "rec-5", 5) == 0);
	journal_close(j);
	s.n = 0;
	CHECK_EQ(journal_replay_file(p, collect, &s, &sc), 0);
	CHECK_EQ(s.n, 6);
	CHECK(strcmp(s.last, "rec-5") == 0);
	/* Bad lengths are refused without touching the file. */
	j = journal_open_append(p, 3, &sc);
	CHECK(j && journal_append(j, "", 0) == -EINVAL);
	journal_close(j);
	CHECK_EQ(file_size(p), sc.good_bytes);
	/* A missing file. */
	snprintf(p, sizeof(p), "%s/none.journal.0", dir);
	CHECK_EQ(journal_replay_file(p, collect, &s, &sc), -ENOENT);
}

static void test_torn_every_offset(void)
{
	char p[256];
	size_t len;
	snprintf(p, sizeof(p), "%s/t.journal.0", dir);
	make(p, 0, 3);
	uint8_t *img = slurp(p, &len);
	size_t last = len - (JOURNAL_RECORD_HEAD + 5); /* where "rec-2" starts */
	for (size_t cut = 0; cut < len; cut++) {
		struct journal_scan sc;
		struct seen s = {0};
		CHECK_EQ(journal_parse(img, cut, collect, &s, &sc), 0);
		/* Every full record before the cut, nothing of the cut one; never "corrupt". */
		size_t full = 0;
		for (size_t off = JOURNAL_HEADER_BYTES; off + JOURNAL_RECORD_HEAD + 5 <= cut;
		     off += JOURNAL_RECORD_HEAD + 5)
			full++;
		if (s.n != full || sc.end == JOURNAL_END_CORRUPT ||
		    (cut > JOURNAL_HEADER_BYTES &&
		     sc.good_bytes != JOURNAL_HEADER_BYTES + full * 13)) {
			fprintf(stderr, "cut at %zu: %zu records (want %zu), end %d\n", cut, s.n,
				full, sc.end);
			check_failures++;
		}
		CHECK(cut == len || sc.end == JOURNAL_END_TORN || cut == last || cut == last - 13 ||
		      cut == JOURNAL_HEADER_BYTES);
	}
	/* Zeros after the last record (a file extended but never written) are a torn tail. */
	uint8_t *z = calloc(1, len + 100);
	memcpy(z, img, len);
	struct journal_scan sc;
	struct seen s = {0};
	CHECK_EQ(journal_parse(z, len + 100, collect, &s, &sc), 0);
	CHECK_EQ(s.n, 3);
	CHECK_EQ(sc.end, JOURNAL_END_TORN);
	free(z);
	free(img);
}

static void test_bad_crc_magic_empty(void)
{
	char p[256];
	size_t len;
	struct journal_scan sc;
	struct seen s = {0};
	snprintf(p, sizeof(p), "%s/c.journal.0", dir);
	make(p, 0, 3);
	uint8_t *img = slurp(p, &len);
	/* A flipped byte in the last record: torn (dropped), the two before applied. */
	img[len - 1] ^= 1;
	CHECK_EQ(journal_parse(img, len, collect, &s, &sc), 0);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(sc.end, JOURNAL_END_TORN);
	img[len - 1] ^= 1;
	/* In the second record: corrupt, only the first applied. */
	img[JOURNAL_HEADER_BYTES + 13 + 9] ^= 0x40;
	s.n = 0;
	CHECK_EQ(journal_parse(img, len, collect, &s, &sc), 0);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(sc.end, JOURNAL_END_CORRUPT);
	CHECK_EQ(sc.good_bytes, JOURNAL_HEADER_BYTES + 13);
	img[JOURNAL_HEADER_BYTES + 13 + 9] ^= 0x40;
	/* A flipped length in the middle is caught too. */
	img[JOURNAL_HEADER_BYTES + 13] = 4;
	s.n = 0;
	CHECK_EQ(journal_parse(img, len, collect, &s, &sc), 0);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(sc.end, JOURNAL_END_CORRUPT);
	img[JOURNAL_HEADER_BYTES + 13] = 5;
	/* Wrong magic with records after it: corrupt, nothing applied. */
	img[0] = 'x';
	s.n = 0;
	CHECK_EQ(journal_parse(img, len, collect, &s, &sc), 0);
	CHECK_EQ(s.n, 0);
	CHECK_EQ(sc.end, JOURNAL_END_CORRUPT);
	/* A header alone that does not check, and an empty file: torn, nothing there. */
	CHECK_EQ(journal_parse(img, JOURNAL_HEADER_BYTES, collect, &s, &sc), 0);
	CHECK_EQ(sc.end, JOURNAL_END_TORN);
	CHECK_EQ(journal_parse(img, 0, collect, &s, &sc), 0);
	CHECK_EQ(sc.end, JOURNAL_END_TORN);
	CHECK_EQ(s.n, 0);
	/* ... and reopening such a file writes a fresh header. */
	FILE *f = fopen(p, "w");
	fclose(f);
	CHECK_EQ(journal_replay_file(p, collect, &s, &sc), 0);
	struct journal *j = journal_open_append(p, 0, &sc);
	CHECK(j && journal_append(j, "x", 1) == 0);
	journal_close(j);
	CHECK_EQ(journal_replay_file(p, collect, &s, &sc), 0);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(sc.end, JOURNAL_END_CLEAN);
	free(img);
}

/* A refused append leaves nothing behind (ENOSPC itself is tested on a full tmpfs in
 * api_persistence.sh). */
static void test_failed_append(void)
{
	char p[256];
	struct journal_scan sc;
	struct seen s = {0};
	snprintf(p, sizeof(p), "%s/f.journal.0", dir);
	make(p, 0, 2);
	CHECK_EQ(journal_replay_file(p, NULL, NULL, &sc), 0);
	struct journal *j = journal_open_append(p, 0, &sc);
	CHECK(j != NULL);
	/* Too large a record is refused before anything is written. */
	CHECK_EQ(journal_append(j, "x", JOURNAL_RECORD_MAX + 1u), -EINVAL);
	journal_close(j);
	CHECK_EQ(journal_replay_file(p, collect, &s, &sc), 0);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(sc.end, JOURNAL_END_CLEAN);
}

/* The chain at each crash point of a compaction from generation 4 to 5 (api_state.c). */
static void test_chain(void)
{
	char base[256], p[256];
	struct journal_chain ch;
	struct seen s = {0};
	snprintf(base, sizeof(base), "%s/state.json", dir);
	/* Before the switch: journal 4 alone. */
	journal_path(p, sizeof(p), base, 4);
	make(p, 4, 3);
	CHECK_EQ(journal_replay_chain(base, 4, collect, &s, &ch), 0);
	CHECK_EQ(ch.files, 1);
	CHECK_EQ(s.n, 3);
	/* After the switch, before the snapshot: snapshot 4, journals 4 and 5: both replay. */
	journal_path(p, sizeof(p), base, 5);
	make(p, 5, 2);
	s.n = 0;
	CHECK_EQ(journal_replay_chain(base, 4, collect, &s, &ch), 0);
	CHECK_EQ(ch.files, 2);
	CHECK_EQ(ch.last_gen, 5);
	CHECK_EQ(s.n, 5);
	/* After the snapshot's rename: snapshot 5; journal 4 is stale and not replayed. */
	s.n = 0;
	CHECK_EQ(journal_replay_chain(base, 5, collect, &s, &ch), 0);
	CHECK_EQ(ch.files, 1);
	CHECK_EQ(s.n, 2);
	/* A journal 6 whose header says 4 (copied by hand): never applied. */
	char p6[256];
	journal_path(p6, sizeof(p6), base, 6);
	journal_path(p, sizeof(p), base, 4);
	CHECK_EQ(link(p, p6), 0);
	s.n = 0;
	CHECK_EQ(journal_replay_chain(base, 5, collect, &s, &ch), 0);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(ch.last.end, JOURNAL_END_CORRUPT);
	unlink(p6);
	/* A torn tail in journal 4 (an append that failed, then the switch): 4's good records,
	 * then 5's. */
	truncate(p, (off_t)file_size(p) - 3);
	s.n = 0;
	CHECK_EQ(journal_replay_chain(base, 4, collect, &s, &ch), 0);
	CHECK_EQ(s.n, 4);
	CHECK_EQ(ch.torn, 1);
	CHECK_EQ(ch.last.end, JOURNAL_END_CLEAN);
}

static void test_records(void)
{
	struct control_path paths[2] = {{.gw = ip_addr_v4(0x0a020002), .iface = IFACE_ID_NONE},
					{.gw = ip_addr_v4(0x0a020003), .iface = IFACE_ID_NONE}};
	struct control_route r[2] = {
	    {.prefix = ip_prefix_v4(0x0a090000, 16), .n_paths = 1, .paths = &paths[0]},
	    {.prefix = ip_prefix_v4(0, 0), .n_paths = 1, .paths = &paths[1]}};
	struct state_change c;
	char why[256];
	size_t len;
	char *t = state_record_routes(STATE_ROUTE_ADD, r, 2, NULL, &len);
	CHECK(t &&
	      strcmp(t,
		     "{\"op\":\"route_add\",\"routes\":[{\"prefix\":\"10.9.0.0/16\","
		     "\"via\":\"10.2.0.2\"},{\"prefix\":\"0.0.0.0/0\",\"via\":\"10.2.0.3\"}]}") ==
		  0);
	CHECK_EQ(state_record_decode(t, len, NULL, &c, why, sizeof(why)), 0);
	CHECK(c.op == STATE_ROUTE_ADD && c.set.n == 2 && c.set.routes[1].n_paths == 1 &&
	      c.set.routes[1].paths[0].gw.v4 == 0x0a020003 && c.set.routes[0].prefix.len == 16);
	state_change_free(&c);
	free(t);
	struct ip_prefix p9 = ip_prefix_v4(0x0a090000, 16);
	t = state_record_route_del(&p9, &len);
	CHECK(t && strcmp(t, "{\"op\":\"route_del\",\"prefix\":\"10.9.0.0/16\"}") == 0);
	CHECK(state_record_decode(t, len, NULL, &c, why, sizeof(why)) == 0 &&
	      c.op == STATE_ROUTE_DEL && ip_prefix_equal(&c.prefix, &p9));
	free(t);
	uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
	struct ip_addr n9 = ip_addr_v4(0x0a020009);
	t = state_record_neigh_static(&n9, mac, &len);
	CHECK(t && state_record_decode(t, len, NULL, &c, why, sizeof(why)) == 0 &&
	      c.op == STATE_NEIGH_STATIC && ip_addr_equal(&c.ip, &n9) && c.mac[5] == 9);
	free(t);
	t = state_record_promisc("p0", true, &len);
	CHECK(t && strcmp(t, "{\"op\":\"promisc\",\"port\":\"p0\",\"on\":true}") == 0);
	CHECK(state_record_decode(t, len, NULL, &c, why, sizeof(why)) == 0 &&
	      c.op == STATE_PROMISC && strcmp(c.port, "p0") == 0 && c.on);
	free(t);
	t = state_record_routes(STATE_ROUTES_REPLACE, NULL, 0, NULL, &len);
	CHECK(t && state_record_decode(t, len, NULL, &c, why, sizeof(why)) == 0 &&
	      c.op == STATE_ROUTES_REPLACE && c.set.n == 0);
	free(t);
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{}",
	    "{\"op\":\"route_add\"}",
	    "{\"op\":\"nope\"}",
	    "{\"op\":\"route_del\",\"prefix\":\"10.9.0.1/16\"}",
	    "{\"op\":\"route_del\",\"prefix\":\"10.9.0.0/16\",\"x\":1}",
	    "{\"op\":\"route_del\",\"op\":\"route_del\",\"prefix\":\"10.9.0.0/16\"}",
	    "{\"op\":\"promisc\",\"port\":\"p0\",\"on\":1}",
	    "{\"op\":\"promisc\",\"port\":\"p0\",\"on\":true} x",
	    "{\"op\":\"route_add\",\"routes\":[{\"prefix\":\"10.9.0.0/16\"}]}",
	    "{\"op\":\"neigh_static\",\"ip\":\"10.2.0.9\",\"mac\":\"02:00:00:00:00\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int e = state_record_decode(bad[i], strlen(bad[i]), NULL, &c, why, sizeof(why));
		if (e != -EINVAL) {
			fprintf(stderr, "accepted bad record %s\n", bad[i]);
			check_failures++;
		}
	}
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_crc();
	test_append_replay();
	test_torn_every_offset();
	test_bad_crc_magic_empty();
	test_failed_append();
	test_chain();
	test_records();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_report("test_journal");
}
