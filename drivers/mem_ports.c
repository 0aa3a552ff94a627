/*
 * mem_ports.c: memory-backed ports for benchmarks and tests, in the spirit of DPDK's net_pcap
 * and net_null. They move no frames through any hardware or kernel, so a forwarding benchmark
 * on them measures the dataplane alone.
 *
 *   "pcap:PATH"  rx replays the Ethernet frames of a classic libpcap file in a loop, forever:
 *                the file is read into memory at open and each rx_batch() copies the next frames
 *                into fresh buffers. Each rx queue replays the whole file from its own cursor.
 *   "null:NAME"  rx never returns a frame.
 *   Both:        tx takes every frame, counts it and frees it at once (it is "sent").
 *
 * The pcap reader is ours (no libpcap in drivers). File format: pcap-savefile(5) and the IETF
 * draft "PCAP Capture File Format" (draft-ietf-opsawg-pcap), section 4 (file header) and
 * section 5 (packet record).
 *
 * Threads: as device.h says; each queue keeps its own cursor and counters.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "log.h"

/* Buffers in the rx pool per rx queue: enough for a full burst in flight on every tx ring a
 * frame may be parked in downstream. */
#define MEM_PORT_POOL_BUFS_PER_QUEUE 4096u
/* Frames up to this many bytes are copied as one fixed-size block (the minimum Ethernet frame
 * without FCS is 60 bytes, IEEE 802.3 clause 3.2.8): a copy of constant size compiles to a few
 * vector moves instead of a call into the library's variable-length memcpy. frame_data ends with
 * this much slack so the block never reads past the allocation; the bytes copied beyond the
 * frame's length land in the buffer's unused tail (every pool buffer holds far more). */
#define PCAP_SMALL_COPY_BYTES 64u
/* Refuse records longer than this: no Ethernet frame we forward comes near, and it bounds what a
 * corrupt length field can make us allocate. */
#define PCAP_MAX_RECORD_BYTES 65535u

/* draft-ietf-opsawg-pcap, section 4: the magic number in the writer's byte order; read on a host
 * of the other byte order it appears byte-swapped. 0xa1b23c4d: timestamps in nanoseconds. */
#define PCAP_MAGIC_USEC		 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC		 0xa1b23c4du
#define PCAP_FILE_HEADER_BYTES	 24u
#define PCAP_RECORD_HEADER_BYTES 16u /* section 5: ts sec, ts usec/nsec, captured, original */
#define PCAP_VERSION_MAJOR	 2u
#define PCAP_VERSION_MINOR	 4u
/* Section 4, "LinkType and additional information", drawn MSB first:
 *   |FCS len (4)|R|P|Reserved3 (10)|LinkType (16)|
 * the link type is the low 16 bits; when P is set, FCS len is the number of 16-bit words of
 * FCS that end every record. */
#define PCAP_LINKTYPE_MASK	    0xffffu
#define PCAP_LINKTYPE_FCS_PRESENT   (1u << 26)
#define PCAP_LINKTYPE_FCS_LEN_SHIFT 28
#define PCAP_LINKTYPE_ETHERNET	    1u /* LINKTYPE_ETHERNET, draft-ietf-opsawg-pcaplinktype */

/* Counters of one queue: written only by the thread that polls the queue, read by read_stats()
 * from any thread. The writer's relaxed atomic store pairs with the reader's relaxed load: each
 * counter is a statistic on its own, so no order between them is needed, only untorn values. */
struct mem_counters {
	uint64_t packets;
	uint64_t bytes;
} __cache_aligned;

static inline void mem_counters_add(struct mem_counters *c, uint64_t packets, uint64_t bytes)
{
	__atomic_store_n(&c->packets, c->packets + packets, __ATOMIC_RELAXED);
	__atomic_store_n(&c->bytes, c->bytes + bytes, __ATOMIC_RELAXED);
}

/* One frame of the replayed file: data[offset, offset + len) in mem_port.frame_data. */
struct pcap_frame {
	size_t offset;
	uint32_t len;
};

struct mem_rx_queue {
	uint32_t next_frame; /* index into frames[] the next rx_batch() replays */
	struct mem_counters counters;
} __cache_aligned;

struct mem_port {
	struct ixy_device ixy; /* first, as device.h requires */
	struct mempool *pool;  /* rx buffers (pcap ports only) */
	uint8_t *frame_data;   /* every frame of the file, back to back */
	struct pcap_frame *frames;
	uint32_t num_frames;
	struct mem_rx_queue rx[IXY_MAX_QUEUES];
	struct mem_counters tx[IXY_MAX_QUEUES];
	pthread_mutex_t mac_lock; /* get_mac may race set_mac */
	uint8_t mac[ETHER_ADDR_LEN];
};

static const struct ixy_device_ops pcap_port_ops;
static const struct ixy_device_ops null_port_ops;

static inline struct mem_port *to_mem_port(struct ixy_device *dev)
{
	return container_of(dev, struct mem_port, ixy);
}

/* ------------------------------------------------------------------------------------------ */
/* Hot path                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static uint32_t pcap_port_rx_batch(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
				   uint32_t n)
{
	struct mem_port *port = to_mem_port(dev);
	assert(queue < dev->rx_queues);
	struct mem_rx_queue *q = &port->rx[queue];

	/* 1. Buffers: as many as asked for; fewer when the pool runs low (frames are not lost,
	 * the replay just resumes where it stopped). */
	uint32_t got = pkt_buf_alloc_batch(port->pool, bufs, n);
	/* 2. Copy the next frames, wrapping around at the end of the file. */
	uint64_t bytes = 0;
	uint32_t next = q->next_frame;
	for (uint32_t i = 0; i < got; i++) {
		const struct pcap_frame *f = &port->frames[next];
		const uint8_t *src = port->frame_data + f->offset;
		pkt_reset(bufs[i], f->len);
		if (likely(f->len <= PCAP_SMALL_COPY_BYTES))
			memcpy(pkt_data(bufs[i]), src, PCAP_SMALL_COPY_BYTES);
		else
			memcpy(pkt_data(bufs[i]), src, f->len);
		bufs[i]->rss_hash = 0;
		bytes += f->len;
		if (++next == port->num_frames)
			next = 0;
	}
	q->next_frame = next;
	mem_counters_add(&q->counters, got, bytes);
	return got;
}

static uint32_t null_port_rx_batch(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
				   uint32_t n)
{
	(void)dev;
	(void)queue;
	(void)bufs;
	(void)n;
	return 0;
}

/* tx: every frame is accepted, counted and freed; "sent" is immediate. */
static uint32_t mem_port_tx_batch(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
				  uint32_t n)
{
	struct mem_port *port = to_mem_port(dev);
	assert(queue < dev->tx_queues);
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < n; i++)
		bytes += bufs[i]->len;
	pkt_buf_free_batch(bufs, n);
	mem_counters_add(&port->tx[queue], n, bytes);
	return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Control path                                                                               */
/* ------------------------------------------------------------------------------------------ */

static void mem_port_read_stats(struct ixy_device *dev, struct ixy_stats *stats)
{
	struct mem_port *port = to_mem_port(dev);
	memset(stats, 0, sizeof(*stats));
	for (uint16_t i = 0; i < dev->rx_queues; i++) {
		stats->rx_packets +=
		    __atomic_load_n(&port->rx[i].counters.packets, __ATOMIC_RELAXED);
		stats->rx_bytes += __atomic_load_n(&port->rx[i].counters.bytes, __ATOMIC_RELAXED);
	}
	for (uint16_t i = 0; i < dev->tx_queues; i++) {
		stats->tx_packets += __atomic_load_n(&port->tx[i].packets, __ATOMIC_RELAXED);
		stats->tx_bytes += __atomic_load_n(&port->tx[i].bytes, __ATOMIC_RELAXED);
	}
}

/* There is no filter to open: every replayed frame arrives either way; the flag is recorded. */
static int mem_port_set_promisc(struct ixy_device *dev, bool on)
{
	dev->promisc = on;
	return 0;
}

/* Always up; the speed is unknown (0), there is no wire. */
static int mem_port_get_link(struct ixy_device *dev, struct ixy_link *link)
{
	(void)dev;
	link->up = true;
	link->speed_mbps = 0;
	return 0;
}

static int mem_port_get_mac(struct ixy_device *dev, uint8_t mac[ETHER_ADDR_LEN])
{
	struct mem_port *port = to_mem_port(dev);
	pthread_mutex_lock(&port->mac_lock);
	memcpy(mac, port->mac, ETHER_ADDR_LEN);
	pthread_mutex_unlock(&port->mac_lock);
	return 0;
}

static int mem_port_set_mac(struct ixy_device *dev, const uint8_t mac[ETHER_ADDR_LEN])
{
	struct mem_port *port = to_mem_port(dev);
	pthread_mutex_lock(&port->mac_lock);
	memcpy(port->mac, mac, ETHER_ADDR_LEN);
	pthread_mutex_unlock(&port->mac_lock);
	return 0;
}

static void mem_port_close(struct ixy_device *dev)
{
	struct mem_port *port = to_mem_port(dev);
	mempool_free(port->pool);
	free(port->frames);
	free(port->frame_data);
	pthread_mutex_destroy(&port->mac_lock);
	free(port);
}

static const struct ixy_device_ops pcap_port_ops = {
    .driver_name = "pcap",
    .rx_batch = pcap_port_rx_batch,
    .tx_batch = mem_port_tx_batch,
    .read_stats = mem_port_read_stats,
    .set_promisc = mem_port_set_promisc,
    .get_link = mem_port_get_link,
    .get_mac = mem_port_get_mac,
    .set_mac = mem_port_set_mac,
    .close = mem_port_close,
};

static const struct ixy_device_ops null_port_ops = {
    .driver_name = "null",
    .rx_batch = null_port_rx_batch,
    .tx_batch = mem_port_tx_batch,
    .read_stats = mem_port_read_stats,
    .set_promisc = mem_port_set_promisc,
    .get_link = mem_port_get_link,
    .get_mac = mem_port_get_mac,
    .set_mac = mem_port_set_mac,
    .close = mem_port_close,
};

/* ------------------------------------------------------------------------------------------ */
/* Opening                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* A locally administered unicast MAC (IEEE 802-2014, 8.2.2: bit 1 of the first octet set, bit 0
 * clear) derived from the port's name, so two ports of one run differ and a rerun is stable. */
static void mem_port_default_mac(const char *name, uint8_t mac[ETHER_ADDR_LEN])
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	mac[0] = 0x02;
	mac[1] = 0x00;
	memcpy(&mac[2], &h, 4);
}

/*
 * The checks both memory ports make before anything else: a non-empty name (usage names the
 * form, e.g. "null:NAME") and a queue count we can hold. Replaces a NULL *cfg by the defaults.
 * Returns 0 or -EINVAL (logged).
 */
static int mem_port_check_config(const char *what, const char *usage, const char *name,
				 const struct ixy_device_config **cfg)
{
	static const struct ixy_device_config defaults = {0};
	if (!*cfg)
		*cfg = &defaults;
	if (!name || !*name) {
		LOG_ERR(what, "a %s port needs %s", what, usage);
		return -EINVAL;
	}
	if ((*cfg)->rx_queues > IXY_MAX_QUEUES || (*cfg)->tx_queues > IXY_MAX_QUEUES) {
		LOG_ERR(what, "%s: %u rx / %u tx queues asked for, at most %u", name,
			(*cfg)->rx_queues, (*cfg)->tx_queues, IXY_MAX_QUEUES);
		return -EINVAL;
	}
	return 0;
}

static struct mem_port *mem_port_alloc(const char *name, const struct ixy_device_config *cfg,
				       const struct ixy_device_ops *ops)
{
	struct mem_port *port = calloc(1, sizeof(*port));
	if (!port)
		return NULL;
	int err = pthread_mutex_init(&port->mac_lock, NULL);
	if (err) {
		free(port);
		errno = err;
		return NULL;
	}
	port->ixy.ops = ops;
	snprintf(port->ixy.name, sizeof(port->ixy.name), "%s", name);
	port->ixy.rx_queues = cfg->rx_queues ? cfg->rx_queues : 1;
	port->ixy.tx_queues = cfg->tx_queues ? cfg->tx_queues : 1;
	port->ixy.numa_node = -1;
	mem_port_default_mac(name, port->mac);
	return port;
}

struct ixy_device *null_port_open(const char *name, const struct ixy_device_config *cfg)
{
	int err = mem_port_check_config("null", "a name (null:NAME)", name, &cfg);
	if (err) {
		errno = -err;
		return NULL;
	}
	struct mem_port *port = mem_port_alloc(name, cfg, &null_port_ops);
	return port ? &port->ixy : NULL;
}

/* ---- pcap file reading ------------------------------------------------------------------- */

struct pcap_reader {
	const char *path;
	const uint8_t *data; /* the whole file */
	size_t size_bytes;
	bool swapped;	    /* written on a host of the other byte order */
	uint32_t fcs_bytes; /* FCS bytes at the end of each record, stripped */
};

static uint32_t pcap_u32(const struct pcap_reader *r, size_t offset)
{
	uint32_t v;
	memcpy(&v, r->data + offset, 4);
	return r->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t pcap_u16(const struct pcap_reader *r, size_t offset)
{
	uint16_t v;
	memcpy(&v, r->data + offset, 2);
	return r->swapped ? __builtin_bswap16(v) : v;
}

/* Check the 24-byte file header (draft-ietf-opsawg-pcap, section 4). Returns 0, -EINVAL for a
 * file that is not pcap, -ENOTSUP for a link type other than Ethernet. */
static int pcap_parse_header(struct pcap_reader *r)
{
	if (r->size_bytes < PCAP_FILE_HEADER_BYTES) {
		LOG_ERR("pcap", "%s: %zu bytes, too short for a pcap file header (24 bytes)",
			r->path, r->size_bytes);
		return -EINVAL;
	}
	uint32_t magic;
	memcpy(&magic, r->data, 4);
	if (magic == PCAP_MAGIC_USEC || magic == PCAP_MAGIC_NSEC) {
		r->swapped = false;
	} else if (magic == __builtin_bswap32(PCAP_MAGIC_USEC) ||
		   magic == __builtin_bswap32(PCAP_MAGIC_NSEC)) {
		r->swapped = true;
	} else {
		LOG_ERR("pcap",
			"%s: bad magic 0x%08x: not a classic pcap file (pcapng is not read)",
			r->path, magic);
		return -EINVAL;
	}
	uint16_t major = pcap_u16(r, 4), minor = pcap_u16(r, 6);
	if (major != PCAP_VERSION_MAJOR) {
		LOG_ERR("pcap", "%s: file format version %u.%u, only 2.x is read", r->path, major,
			minor);
		return -EINVAL;
	}
	uint32_t linktype = pcap_u32(r, 20);
	if ((linktype & PCAP_LINKTYPE_MASK) != PCAP_LINKTYPE_ETHERNET) {
		LOG_ERR("pcap", "%s: link type %u, only Ethernet (1) frames can be replayed",
			r->path, linktype & PCAP_LINKTYPE_MASK);
		return -ENOTSUP;
	}
	/* A port never hands out the FCS (device.h: frames without FCS), so strip it. */
	if (linktype & PCAP_LINKTYPE_FCS_PRESENT)
		r->fcs_bytes = (linktype >> PCAP_LINKTYPE_FCS_LEN_SHIFT) * 2;
	return 0;
}

/* Walk the packet records (draft-ietf-opsawg-pcap, section 5: a 16-byte header of timestamp
 * seconds, timestamp fraction, captured length, original length, then the captured bytes).
 * With copy false, only validate and count; with copy true, fill port->frames/frame_data, which
 * the counting pass sized. Records longer than capacity or empty after the FCS is stripped are
 * skipped (and counted in *skipped). Returns 0, or -EINVAL for a corrupt or truncated file. */
static int pcap_walk_records(const struct pcap_reader *r, uint32_t capacity, bool copy,
			     struct mem_port *port, uint32_t *num_frames, size_t *total_bytes,
			     uint32_t *skipped)
{
	size_t offset = PCAP_FILE_HEADER_BYTES;
	uint32_t record = 0;
	*num_frames = 0;
	*total_bytes = 0;
	*skipped = 0;
	while (offset < r->size_bytes) {
		if (r->size_bytes - offset < PCAP_RECORD_HEADER_BYTES) {
			LOG_ERR("pcap",
				"%s: record %u at offset %zu: header cut off (%zu of 16 bytes)",
				r->path, record, offset, r->size_bytes - offset);
			return -EINVAL;
		}
		uint32_t captured = pcap_u32(r, offset + 8);
		uint32_t original = pcap_u32(r, offset + 12);
		if (captured > PCAP_MAX_RECORD_BYTES) {
			LOG_ERR("pcap",
				"%s: record %u at offset %zu: captured length %u is corrupt "
				"(more than %u)",
				r->path, record, offset, captured, PCAP_MAX_RECORD_BYTES);
			return -EINVAL;
		}
		offset += PCAP_RECORD_HEADER_BYTES;
		if (r->size_bytes - offset < captured) {
			LOG_ERR("pcap",
				"%s: record %u at offset %zu: %u bytes captured but only %zu "
				"left: truncated file",
				r->path, record, offset - 16, captured, r->size_bytes - offset);
			return -EINVAL;
		}
		/* The FCS is only there when the whole frame was captured. */
		uint32_t len = captured;
		if (r->fcs_bytes && captured >= original && captured >= r->fcs_bytes)
			len -= r->fcs_bytes;
		if (len == 0 || len > capacity) {
			(*skipped)++;
		} else {
			if (copy) {
				port->frames[*num_frames].offset = *total_bytes;
				port->frames[*num_frames].len = len;
				memcpy(port->frame_data + *total_bytes, r->data + offset, len);
			}
			(*num_frames)++;
			*total_bytes += len;
		}
		offset += captured;
		record++;
	}
	return 0;
}

/* Read the whole file at path into *data (malloc'd). Returns 0 or -errno, logged. */
static int pcap_read_file(const char *path, uint8_t **data, size_t *size_bytes)
{
	/* The replay keeps every frame in memory; refuse files that could not sensibly fit. */
	const long max_bytes = 1L << 30;
	FILE *f = fopen(path, "rb");
	if (!f) {
		int err = -errno;
		LOG_ERR("pcap", "%s: cannot open: %s", path, strerror(-err));
		return err;
	}
	int err = 0;
	long size = -1;
	if (fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (size < 0) {
		err = -errno;
		LOG_ERR("pcap", "%s: cannot find its size: %s", path, strerror(-err));
		goto out_close;
	}
	if (size > max_bytes) {
		LOG_ERR("pcap", "%s: %ld bytes, more than the %ld a replay preloads", path, size,
			max_bytes);
		err = -EFBIG;
		goto out_close;
	}
	rewind(f);
	*data = malloc(size ? (size_t)size : 1);
	if (!*data) {
		err = -ENOMEM;
		goto out_close;
	}
	if (fread(*data, 1, (size_t)size, f) != (size_t)size) {
		err = -EIO;
		LOG_ERR("pcap", "%s: read failed", path);
		free(*data);
		*data = NULL;
		goto out_close;
	}
	*size_bytes = (size_t)size;
out_close:
	fclose(f);
	return err;
}

struct ixy_device *pcap_port_open(const char *path, const struct ixy_device_config *cfg)
{
	int err = mem_port_check_config("pcap", "a file (pcap:PATH)", path, &cfg);
	if (err) {
		errno = -err;
		return NULL;
	}

	/* 1. The file, checked: header, then every record. */
	struct pcap_reader r = {.path = path};
	uint8_t *file_data = NULL;
	err = pcap_read_file(path, &file_data, &r.size_bytes);
	if (err)
		goto err_out;
	r.data = file_data;
	err = pcap_parse_header(&r);
	if (err)
		goto err_file;

	/* 2. The port and its rx pool; the pool's capacity bounds the frames we can replay. The
	 * name shown is the file's last component, which fits the device name. */
	const char *base = strrchr(path, '/');
	err = -ENOMEM;
	struct mem_port *port = mem_port_alloc(base ? base + 1 : path, cfg, &pcap_port_ops);
	if (!port)
		goto err_file;
	port->pool = mempool_create(port->ixy.rx_queues * MEM_PORT_POOL_BUFS_PER_QUEUE, 0);
	if (!port->pool) {
		err = -errno;
		goto err_port;
	}
	uint32_t capacity = mempool_data_capacity(port->pool);
	assert(capacity >= PCAP_SMALL_COPY_BYTES); /* buffers are at least 256 bytes (mempool.h) */

	/* 3. Count, then copy the frames into one block. */
	uint32_t num_frames, skipped;
	size_t total_bytes;
	err = pcap_walk_records(&r, capacity, false, port, &num_frames, &total_bytes, &skipped);
	if (err)
		goto err_port;
	if (num_frames == 0) {
		LOG_ERR("pcap",
			"%s: no frame to replay (%u records skipped as empty or longer than "
			"%u bytes)",
			path, skipped, capacity);
		err = -EINVAL;
		goto err_port;
	}
	port->frames = calloc(num_frames, sizeof(*port->frames));
	port->frame_data = calloc(1, total_bytes + PCAP_SMALL_COPY_BYTES); /* slack: see above */
	err = -ENOMEM;
	if (!port->frames || !port->frame_data)
		goto err_port;
	err = pcap_walk_records(&r, capacity, true, port, &num_frames, &total_bytes, &skipped);
	assert(err == 0); /* the same bytes passed the first walk */
	port->num_frames = num_frames;
	if (skipped)
		LOG_WARN("pcap", "%s: %u records skipped (empty, or longer than %u bytes)", path,
			 skipped, capacity);
	LOG_INFO("pcap", "%s: replaying %u frames (%zu bytes) on %u rx queue(s)", path, num_frames,
		 total_bytes, port->ixy.rx_queues);
	free(file_data);
	return &port->ixy;

err_port:
	mem_port_close(&port->ixy); /* frees what was set up; the rest is NULL */
err_file:
	free(file_data);
err_out:
	errno = -err;
	return NULL;
}
