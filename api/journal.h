/*
 * journal.h: an append-only journal of opaque records, for the API's state (api_state.c) and
 * anything else that must make one small change durable without rewriting a whole file.
 *
 * A journal file is a header and records, all integers little-endian:
 *
 *   header (24 bytes): "IXYDJRNL" | u32 version (1) | u64 generation | u32 CRC-32C of the 20
 *                      bytes before it
 *   record:            u32 length (1 .. JOURNAL_RECORD_MAX) | u32 CRC-32C of the length's 4
 *                      bytes and the payload | payload (length bytes)
 *
 * The generation ties a journal to the snapshot it continues (api_state.c): a journal is only
 * ever replayed on top of the snapshot of the same generation, so one left over from before a
 * newer snapshot is never applied twice. Files of a chain are named BASE.journal.GEN.
 *
 * Appending is write(2) of the whole record then fsync(2): when journal_append() returns 0 the
 * record is on disk. A crash can tear at most the record being appended; replay tells a torn
 * tail (the last record is incomplete or fails its CRC, or the file ends in zeros) from a
 * corrupt record in the middle (a bad record with more bytes after it), and stops at either.
 *
 * Threads: a struct journal is used by one thread at a time (the caller serialises); the parse
 * and replay functions are reentrant.
 */
#ifndef IXYD_API_JOURNAL_H
#define IXYD_API_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_MAGIC	     "IXYDJRNL"
#define JOURNAL_VERSION	     1
#define JOURNAL_HEADER_BYTES 24
#define JOURNAL_RECORD_HEAD  8		  /* length and CRC */
#define JOURNAL_RECORD_MAX   (256u << 20) /* bytes of payload: a full table is about 41 MB */

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, RFC 3720 section 12.1 and appendix B.4)
 * of buf[0..len), continuing from crc (0 to start). */
uint32_t journal_crc32c(uint32_t crc, const void *buf, size_t len);

/* How a scan of one journal ended. */
enum journal_end {
	JOURNAL_END_CLEAN,   /* every byte was a good record */
	JOURNAL_END_TORN,    /* the last record (or the header) is incomplete: dropped */
	JOURNAL_END_CORRUPT, /* a bad header, or a bad record with bytes after it: stopped there */
};

struct journal_scan {
	uint64_t generation; /* from the header (0 if the header was not good) */
	size_t records;	     /* good records handed to the callback */
	uint64_t good_bytes; /* the header and the good records: where appending resumes */
	uint64_t file_bytes;
	enum journal_end end;
	const char *why; /* static string naming what was wrong (NULL when clean) */
};

/* Called for each good record in order; payload is not NUL-terminated. 0 to go on, anything
 * else stops the scan and is returned by journal_parse(). */
typedef int (*journal_record_fn)(void *arg, const char *payload, size_t len);

/*
 * Scan the journal image buf[0..len): check the header, hand each good record to fn (NULL: only
 * check). Returns 0 (what the scan found is in *out, torn or corrupt endings included) or the
 * callback's non-zero return. An image shorter than a header, or a header alone that does not
 * check, is a torn header (nothing was ever appended after a header that was not on disk).
 */
int journal_parse(const void *buf, size_t len, journal_record_fn fn, void *arg,
		  struct journal_scan *out);

/* Read path and journal_parse() it. 0 or the callback's return, or -errno of reading (-ENOENT:
 * no such file). */
int journal_replay_file(const char *path, journal_record_fn fn, void *arg,
			struct journal_scan *out);

/* path = BASE.journal.GEN into buf (len bytes). 0 or -ENAMETOOLONG. */
int journal_path(char *buf, size_t len, const char *base, uint64_t gen);

/* What journal_replay_chain() found. */
struct journal_chain {
	size_t files;		  /* journals replayed (0: none was there) */
	uint64_t last_gen;	  /* the last one replayed, when files > 0 */
	size_t records;		  /* records handed to the callback, all files together */
	size_t torn;		  /* files whose torn tail was dropped */
	struct journal_scan last; /* the scan of the last one replayed */
};

/*
 * Replay the chain BASE.journal.FIRST, BASE.journal.FIRST+1, ... up to the first generation
 * whose file is missing. A torn tail ends its file, and the next generation follows it (it was
 * cut at an append that failed, before the switch to the next). A corrupt file (or one whose
 * header names another generation) stops the chain: out->last is its scan, with end
 * JOURNAL_END_CORRUPT, and no later file is replayed. 0 or the callback's return, or -errno of
 * reading.
 */
int journal_replay_chain(const char *base, uint64_t first_gen, journal_record_fn fn, void *arg,
			 struct journal_chain *out);

/* ---- appending ------------------------------------------------------------------------------- */

struct journal;

/*
 * Create (or empty) path as a journal of generation gen: header written, file and directory
 * fsynced. NULL with errno (the file is removed again on failure).
 */
struct journal *journal_create(const char *path, uint64_t gen);

/*
 * Open an existing journal for appending after replaying it: truncated to scan->good_bytes (a
 * torn tail is cut off, fsynced), or rewritten with a fresh header if the header was torn. NULL
 * with errno.
 */
struct journal *journal_open_append(const char *path, uint64_t gen,
				    const struct journal_scan *scan);

/*
 * Append one record (1 .. JOURNAL_RECORD_MAX bytes) and fsync. 0: on disk. -errno (-ENOSPC,
 * -EIO, -EINVAL for a bad length): the file is cut back to the last good record so nothing of
 * this one can be replayed; if even that fails the journal refuses every later append (-EIO)
 * and the caller should move to a new one.
 */
int journal_append(struct journal *j, const void *payload, size_t len);

uint64_t journal_bytes(const struct journal *j); /* header and records */
size_t journal_records(const struct journal *j);
uint64_t journal_generation(const struct journal *j);

/* Close (the file stays). NULL is a no-op. */
void journal_close(struct journal *j);

/* ---- file helpers the state's snapshot shares ------------------------------------------------ */

/* Read the whole file at path into *out (malloc'd, NUL-terminated past *len bytes; a file
 * shorter than fstat said gives what is there). 0 or -errno (-ENOENT: no file). */
int journal_read_file(const char *path, uint8_t **out, size_t *len);
/* Write all of buf to fd (retrying short writes and EINTR). 0 or -errno. */
int journal_write_all(int fd, const void *buf, size_t len);
/* fsync the directory holding path, so a file created or renamed there is on disk. 0 or -errno. */
int journal_fsync_dir_of(const char *path);

#endif
