/*
 * journal.c: the append-only journal of journal.h: framing, CRC-32C, replay that stops at the
 * first bad record, and appends that are on disk when they return.
 */
#define _GNU_SOURCE
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- CRC-32C ----------------------------------------------------------------------------------
 * Bytewise table for the reflected Castagnoli polynomial (RFC 3720 section 12.1: CRC32C,
 * polynomial 0x1EDC6F41, reflected 0x82F63B78), initial value and final XOR 0xFFFFFFFF. Records
 * are small and appends are bound by fsync, so a table is fast enough and needs no SSE4.2. */
static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
		crc_table[i] = c;
	}
}

uint32_t journal_crc32c(uint32_t crc, const void *buf, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, crc_init);
	const uint8_t *p = buf;
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void make_header(uint8_t h[JOURNAL_HEADER_BYTES], uint64_t gen)
{
	memcpy(h, JOURNAL_MAGIC, 8);
	put32(h + 8, JOURNAL_VERSION);
	put64(h + 12, gen);
	put32(h + 20, journal_crc32c(0, h, 20));
}

/* The record's CRC covers its length field too, so a flipped length is caught by the CRC
 * whenever the record it now claims still lies within the file. */
static uint32_t record_crc(const uint8_t len_le[4], const void *payload, size_t len)
{
	return journal_crc32c(journal_crc32c(0, len_le, 4), payload, len);
}

/* ---- replay ---------------------------------------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void end_scan(struct journal_scan *out, enum journal_end end, const char *why)
{
	out->end = end;
	out->why = why;
}

int journal_parse(const void *buf, size_t len, journal_record_fn fn, void *arg,
		  struct journal_scan *out)
{
	const uint8_t *b = buf;
	memset(out, 0, sizeof(*out));
	out->file_bytes = len;
	/* 1. The header. It is fsynced before any record is appended, so a bad header with nothing
	 * after it is a creation cut short (torn); with records after it, the file is not ours. */
	if (len < JOURNAL_HEADER_BYTES) {
		end_scan(out, JOURNAL_END_TORN, "incomplete header");
		return 0;
	}
	if (memcmp(b, JOURNAL_MAGIC, 8) != 0 || get32(b + 20) != journal_crc32c(0, b, 20)) {
		end_scan(out, len == JOURNAL_HEADER_BYTES ? JOURNAL_END_TORN : JOURNAL_END_CORRUPT,
			 memcmp(b, JOURNAL_MAGIC, 8) ? "not a journal (bad magic)"
						     : "header CRC mismatch");
		return 0;
	}
	if (get32(b + 8) != JOURNAL_VERSION) {
		end_scan(out, JOURNAL_END_CORRUPT, "unknown journal version");
		return 0;
	}
	out->generation = get64(b + 12);
	size_t off = JOURNAL_HEADER_BYTES;
	out->good_bytes = off;
	/* 2. The records, up to the first that is not good. */
	while (off < len) {
		size_t left = len - off;
		if (left < JOURNAL_RECORD_HEAD) {
			end_scan(out, JOURNAL_END_TORN, "incomplete record header");
			return 0;
		}
		uint32_t rlen = get32(b + off);
		if (rlen == 0 || rlen > JOURNAL_RECORD_MAX) {
			/* A file extended by a crash but never written reads as zeros. */
			bool zeros = all_zero(b + off, left);
			end_scan(out, zeros ? JOURNAL_END_TORN : JOURNAL_END_CORRUPT,
				 zeros ? "zeros after the last record" : "bad record length");
			return 0;
		}
		if (rlen > left - JOURNAL_RECORD_HEAD) {
			end_scan(out, JOURNAL_END_TORN, "incomplete record");
			return 0;
		}
		const uint8_t *payload = b + off + JOURNAL_RECORD_HEAD;
		if (record_crc(b + off, payload, rlen) != get32(b + off + 4)) {
			bool last = rlen == left - JOURNAL_RECORD_HEAD;
			end_scan(out, last ? JOURNAL_END_TORN : JOURNAL_END_CORRUPT,
				 "record CRC mismatch");
			return 0;
		}
		if (fn) {
			int r = fn(arg, (const char *)payload, rlen);
			if (r)
				return r;
		}
		off += JOURNAL_RECORD_HEAD + rlen;
		out->records++;
		out->good_bytes = off;
	}
	end_scan(out, JOURNAL_END_CLEAN, NULL);
	return 0;
}

int journal_read_file(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL;
	int err = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		err = -errno;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto out;
		}
		if (r == 0)
			break; /* shorter than fstat said: scan what is there */
		got += (size_t)r;
	}
	buf[got] = '\0'; /* text files (the snapshot) can be handed to a string parser */
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

int journal_replay_file(const char *path, journal_record_fn fn, void *arg, struct journal_scan *out)
{
	uint8_t *buf;
	size_t len;
	int err = journal_read_file(path, &buf, &len);
	if (err)
		return err;
	err = journal_parse(buf, len, fn, arg, out);
	free(buf);
	return err;
}

int journal_path(char *buf, size_t len, const char *base, uint64_t gen)
{
	int n = snprintf(buf, len, "%s.journal.%llu", base, (unsigned long long)gen);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int journal_replay_chain(const char *base, uint64_t first_gen, journal_record_fn fn, void *arg,
			 struct journal_chain *out)
{
	memset(out, 0, sizeof(*out));
	for (uint64_t gen = first_gen;; gen++) {
		char path[PATH_MAX];
		struct journal_scan scan;
		uint8_t *buf;
		size_t len;
		int err = journal_path(path, sizeof(path), base, gen);
		if (!err)
			err = journal_read_file(path, &buf, &len);
		if (err == -ENOENT)
			return 0;
		if (err)
			return err;
		/* A header naming another generation holds records for another snapshot: none of
		 * them may be applied, so this is checked before any is handed out. */
		if (len >= JOURNAL_HEADER_BYTES && memcmp(buf, JOURNAL_MAGIC, 8) == 0 &&
		    get32(buf + 20) == journal_crc32c(0, buf, 20) && get64(buf + 12) != gen) {
			memset(&scan, 0, sizeof(scan));
			scan.generation = get64(buf + 12);
			scan.file_bytes = len;
			end_scan(&scan, JOURNAL_END_CORRUPT, "header names another generation");
		} else {
			err = journal_parse(buf, len, fn, arg, &scan);
		}
		free(buf);
		if (err)
			return err;
		out->files++;
		out->last_gen = gen;
		out->records += scan.records;
		out->torn += scan.end == JOURNAL_END_TORN;
		out->last = scan;
		if (scan.end == JOURNAL_END_CORRUPT)
			return 0;
	}
}

/* ---- appending ------------------------------------------------------------------------------- */

struct journal {
	int fd;
	uint64_t gen;
	uint64_t bytes;
	size_t records;
	bool broken; /* a failed append could not be cut back */
};

int journal_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int journal_fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = dfd < 0 || fsync(dfd) != 0 ? -errno : 0;
	if (dfd >= 0)
		close(dfd);
	return err;
}

/* Write a fresh header at offset 0 of an empty fd and fsync. */
static int start_file(int fd, uint64_t gen)
{
	uint8_t h[JOURNAL_HEADER_BYTES];
	make_header(h, gen);
	int err = journal_write_all(fd, h, sizeof(h));
	if (!err && fsync(fd) != 0)
		err = -errno;
	return err;
}

static struct journal *journal_new(int fd, uint64_t gen, uint64_t bytes, size_t records)
{
	struct journal *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->fd = fd;
	j->gen = gen;
	j->bytes = bytes;
	j->records = records;
	return j;
}

struct journal *journal_create(const char *path, uint64_t gen)
{
	struct journal *j = NULL;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	int err = fd < 0 ? -errno : 0;
	if (err)
		goto fail;
	/* The header is on disk, then the name: a journal never exists without its header
	 * (or with a torn one that replay takes as empty). */
	err = start_file(fd, gen);
	if (!err)
		err = journal_fsync_dir_of(path);
	if (!err && !(j = journal_new(fd, gen, JOURNAL_HEADER_BYTES, 0)))
		err = -ENOMEM;
	if (!err)
		return j;
	close(fd);
	unlink(path);
fail:
	errno = -err;
	return NULL;
}

struct journal *journal_open_append(const char *path, uint64_t gen, const struct journal_scan *scan)
{
	struct journal *j;
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	int err = fd < 0 ? -errno : 0;
	if (err)
		goto fail;
	bool header_ok = scan->good_bytes >= JOURNAL_HEADER_BYTES;
	if (ftruncate(fd, header_ok ? (off_t)scan->good_bytes : 0) != 0)
		err = -errno;
	else if (!header_ok)
		err = start_file(fd, gen);
	else if (scan->good_bytes != scan->file_bytes && fsync(fd) != 0)
		err = -errno;
	if (err)
		goto fail_fd;
	j = journal_new(fd, gen, header_ok ? scan->good_bytes : JOURNAL_HEADER_BYTES,
			header_ok ? scan->records : 0);
	if (j)
		return j;
	err = -ENOMEM;
fail_fd:
	close(fd);
fail:
	errno = -err;
	return NULL;
}

int journal_append(struct journal *j, const void *payload, size_t len)
{
	if (len == 0 || len > JOURNAL_RECORD_MAX)
		return -EINVAL;
	if (j->broken)
		return -EIO;
	uint8_t head[JOURNAL_RECORD_HEAD];
	put32(head, (uint32_t)len);
	put32(head + 4, record_crc(head, payload, len));
	/* One write for head and payload where they fit together, so a small record is one
	 * write(2); a large one (a full route table) is two. */
	uint8_t small[4096];
	int err;
	if (len <= sizeof(small) - sizeof(head)) {
		memcpy(small, head, sizeof(head));
		memcpy(small + sizeof(head), payload, len);
		err = journal_write_all(j->fd, small, sizeof(head) + len);
	} else {
		err = journal_write_all(j->fd, head, sizeof(head));
		if (!err)
			err = journal_write_all(j->fd, payload, len);
	}
	if (!err && fsync(j->fd) != 0)
		err = -errno;
	if (!err) {
		j->bytes += sizeof(head) + len;
		j->records++;
		return 0;
	}
	/* Cut back what may have been written, so a later append does not land after garbage
	 * and replay never sees part of this record followed by a good one. After a failed
	 * fsync the page cache cannot be trusted either way: the cut is fsynced too. */
	if (ftruncate(j->fd, (off_t)j->bytes) != 0 || fsync(j->fd) != 0)
		j->broken = true;
	return err;
}

uint64_t journal_bytes(const struct journal *j)
{
	return j->bytes;
}

size_t journal_records(const struct journal *j)
{
	return j->records;
}

uint64_t journal_generation(const struct journal *j)
{
	return j->gen;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	close(j->fd);
	free(j);
}
