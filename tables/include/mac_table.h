/*
 * mac_table.h: the Ethernet bridging table, (MAC, bridge) -> port. Workers learn source
 * addresses and look up destinations concurrently, without a global lock; the control thread
 * ages entries out and flushes them.
 *
 * Design (docs/tables.md has the long form):
 *  - A fixed array of buckets, each two cache lines: a sequence word and 7 keys in the first,
 *    the 7 matching values in the second. Key = MAC << 16 | bridge (0 = empty slot); value =
 *    port | last_seen << 32. Every key lives in one of two buckets (two hash choices), which
 *    keeps the table usable above 80% of the slots.
 *  - Per-bucket seqlock. Readers never write: they read the sequence word, the keys and the
 *    value, and retry if the word was odd or changed. Writers (learn, age, flush) take the
 *    bucket by moving the word from even to odd with a CAS, write, and release it with the next
 *    even value. Two workers contend only when they write the same bucket.
 *  - The hot path rarely writes: learning a known station on the same port with the same
 *    coarse time (seconds) is a lookup only. A station is written when it is new, moves, or once
 *    per second of coarse time, so a busy station does not bounce its cache line between cores.
 *  - Capacity is a configured number of entries, counted with one atomic counter that only new
 *    stations touch; a full table refuses and counts the refusal.
 *  - Time is a caller-supplied coarse clock in seconds (`now_s`), so tests drive it.
 *
 * Why it is safe: every field is read and written with atomic operations, so there are no data
 * races in the C11 sense; the seqlock only decides whether a reader's snapshot of key + value is
 * consistent. A writer makes the word odd, then stores slots with release order, then makes it
 * even again (release). A reader loads the word (acquire), the slots (acquire), and the word
 * again: if it read any slot a writer stored, release/acquire makes that writer's odd word
 * visible to the second load, so the reader retries; if both loads return the same even value,
 * no writer stored anything it read, and its key and value belong together. Inserting
 * locks both candidate buckets (lower index first, so no deadlock), so a key cannot be inserted
 * twice by racing learners.
 *
 * Threads: learn and lookups from any worker; age and flush from any thread (normally the
 * control thread); create/free from the owner with no concurrent users.
 */
#ifndef IXYD_MAC_TABLE_H
#define IXYD_MAC_TABLE_H

#include <stdint.h>

#define MAC_TABLE_DEFAULT_AGEING_S 300
#define MAC_PORT_NONE		   0xffffu /* lookup result for an unknown station */

struct mac_table;

struct mac_table_config {
	uint32_t capacity; /* entries, 1 .. 2^24 */
	uint32_t ageing_s; /* 0 = MAC_TABLE_DEFAULT_AGEING_S */
};

struct mac_table_stats {
	uint64_t entries;      /* current */
	uint64_t learned;      /* new stations */
	uint64_t moves;	       /* stations seen on a new port */
	uint64_t refused_full; /* new stations refused: capacity reached (or both buckets full) */
	uint64_t aged;	       /* removed by mac_table_age() */
	uint64_t flushed;      /* removed by mac_table_flush*() */
};

/* Create a table. NULL with errno EINVAL (bad capacity) or ENOMEM. */
struct mac_table *mac_table_create(const struct mac_table_config *cfg);
/* Free the table; NULL is a no-op. No other thread may use it any more. */
void mac_table_free(struct mac_table *t);

/* mac_table_learn() results (>= 0) */
enum mac_learn {
	MAC_LEARN_KNOWN = 0, /* already there on this port (time refreshed if it changed) */
	MAC_LEARN_NEW = 1,
	MAC_LEARN_MOVED = 2, /* was on another port: now on this one */
};

/*
 * Learn that mac (6 bytes) on bridge was seen on port at now_s. Returns an enum mac_learn value,
 * or -EINVAL (multicast/broadcast or all-zero source: never learned) or -ENOSPC (new station,
 * table full: counted in refused_full). Any worker, concurrently.
 */
int mac_table_learn(struct mac_table *t, const uint8_t mac[6], uint16_t bridge, uint16_t port,
		    uint32_t now_s);

/* Port of mac on bridge: 0 and *port, or -ENOENT. Any thread; never writes. */
int mac_table_lookup(const struct mac_table *t, const uint8_t mac[6], uint16_t bridge,
		     uint16_t *port);

/*
 * Look up n destinations: ports[i] = port of macs[i] on bridges[i], or MAC_PORT_NONE. Returns
 * how many were found. Any thread.
 */
unsigned mac_table_lookup_batch(const struct mac_table *t, const uint8_t *const macs[],
				const uint16_t bridges[], uint16_t ports[], unsigned n);

/*
 * Remove stations not seen for more than the ageing time at now_s. Returns how many. Walks the
 * whole table: call it about once a second from the control thread.
 */
unsigned mac_table_age(struct mac_table *t, uint32_t now_s);

/* Remove every station (returns how many). */
unsigned mac_table_flush(struct mac_table *t);
/* Remove every station learned on port, e.g. when the link goes down (returns how many). */
unsigned mac_table_flush_port(struct mac_table *t, uint16_t port);

/* Change the ageing time (0 = default); applies from the next mac_table_age(). */
void mac_table_set_ageing(struct mac_table *t, uint32_t ageing_s);

/* One station, as mac_table_walk() reports it. */
struct mac_table_entry {
	uint8_t mac[6];
	uint16_t bridge;
	uint16_t port;
	uint32_t last_seen_s; /* on the caller's now_s clock */
};

/*
 * Call fn for every station, bucket by bucket; a non-zero return stops the walk. Each bucket is
 * read as one consistent snapshot (the seqlock's read side), the table as a whole is not: a
 * station learnt, moved or aged during the walk may be reported in either state, or missed if it
 * moved to a bucket already passed. Never writes. Returns how many stations were reported. Any
 * thread; fn must not write to the table.
 */
unsigned mac_table_walk(const struct mac_table *t,
			int (*fn)(void *arg, const struct mac_table_entry *e), void *arg);

/* Counters; a consistent snapshot of each counter, not of all together. Any thread. */
void mac_table_get_stats(const struct mac_table *t, struct mac_table_stats *st);

#endif
