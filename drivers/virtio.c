/*
 * virtio.c: driver for VirtIO network devices through the legacy interface (VirtIO 1.1 spec,
 * 4.1.4.8), as spoken by legacy and transitional devices such as QEMU's virtio-net-pci.
 *
 * One queue pair (receiveq1, transmitq1) plus the control queue when the device has one. All
 * three are legacy split virtqueues (2.6, layout 2.6.2) carved out of one physically contiguous
 * DMA region; rx buffers come from a pool this device owns. Every frame is preceded by the
 * 10-byte legacy virtio-net header (5.1.6.1), which lives in the packet buffer right before
 * the frame (mempool.h keeps PKT_BUF_DRIVER_ROOM bytes free there), so header and frame are
 * contiguous in memory:
 *
 *   pkt_buf:  | metadata | ... [virtio_net_hdr] | frame ... |
 *                              ^ iova - 10       ^ iova: pkt_rx_iova() for rx (the default
 *                                                  offset), pkt_data_iova() for tx (the frame's
 *                                                  current start, which pkt_push() may have moved)
 *
 * With VIRTIO_F_ANY_LAYOUT one descriptor covers header and frame; without it the legacy
 * framing rule (5.1.6.6) wants the header in a descriptor of its own, so each buffer takes a
 * chain of two descriptors. Either way a buffer occupies a fixed "slot" of the descriptor table:
 * slot s uses descriptors s * descs_per_buf onwards, and the chain links never change, so the
 * hot path only rewrites addresses and lengths.
 *
 * Threads: each queue is polled by one thread at a time (device.h); read_stats/get_link/get_mac
 * may run concurrently with them; control commands (promisc, MAC) are serialised by ctrl_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "compiler.h"
#include "device.h"
#include "log.h"
#include "memory.h"
#include "mempool.h"
#include "pci.h"
#include "virtio_regs.h"

#define VIRTIO_HDR_SIZE ((uint32_t)sizeof(struct virtio_net_hdr))
static_assert(sizeof(struct virtio_net_hdr) <= PKT_BUF_DRIVER_ROOM,
	      "the virtio-net header must fit in the room the packet buffer keeps for drivers");

/* Features we accept when offered (3.1.1 step 4). Deliberately not: MRG_RXBUF (would add
 * num_buffers and frames spread over several buffers), checksum and GSO offloads (frames stay
 * exactly as on the wire), EVENT_IDX (flags-based suppression is enough for a poll-mode
 * driver), INDIRECT_DESC, MQ (one queue pair). */
#define VIRTIO_WANTED_FEATURES                                                                     \
	(VIRTIO_FEATURE(VIRTIO_NET_F_MAC) | VIRTIO_FEATURE(VIRTIO_NET_F_STATUS) |                  \
	 VIRTIO_FEATURE(VIRTIO_NET_F_CTRL_VQ) | VIRTIO_FEATURE(VIRTIO_NET_F_CTRL_RX) |             \
	 VIRTIO_FEATURE(VIRTIO_NET_F_CTRL_MAC_ADDR) | VIRTIO_FEATURE(VIRTIO_F_ANY_LAYOUT))

/* Packet buffers per rx pool: the rx ring's buffers, plus as many again in the caller's hands
 * and in other devices' tx rings, rounded up to fill whole 2 MiB huge pages. */
#define VIRTIO_POOL_MIN_BUFS 1024u
/* rx frames handled per rx_batch() call at most (bounds a stack array). */
#define VIRTIO_RX_BURST_MAX 64u
/* tx: reclaim sent buffers once this many are done, or when slots run short. */
#define VIRTIO_TX_CLEAN_BATCH 32u
/* How long a control command may take before we give up on the device. */
#define VIRTIO_CTRL_TIMEOUT_MS 1000u

/* Memory-ordering helpers for the rings shared with the device (2.6.13, 2.6.14). On x86-64 the
 * release store and the acquire load compile to plain moves (TSO already orders store-store and
 * load-load); the full fence is an mfence, needed to order a store before a later load. */
#define vring_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define vring_load_acquire(p)	  __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define vring_full_fence()	  __atomic_thread_fence(__ATOMIC_SEQ_CST)

/* Software counters: written by the one thread polling the queue, read from any thread, so
 * relaxed atomics are enough (no ordering with other data is implied, only untorn values). */
#define stat_add(p, v) __atomic_store_n((p), *(p) + (v), __ATOMIC_RELAXED)
#define stat_read(p)   __atomic_load_n((p), __ATOMIC_RELAXED)

/* One split virtqueue in legacy layout. */
struct virtio_queue {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used; /* written by the device: read with vring_load_acquire */
	uint16_t index;		 /* virtqueue index, written to QUEUE_NOTIFY */
	uint16_t size;		 /* entries, a power of two (2.6) */
	uint16_t descs_per_buf;	 /* 1 with ANY_LAYOUT, 2 without (5.1.6.6) */
	uint16_t num_slots;	 /* size / descs_per_buf */
	/* Free-running copies of the ring indexes (2.6.6, 2.6.8), compared modulo 2^16.
	 * Invariant: avail_idx - last_used_idx == slots handed to the device. */
	uint16_t avail_idx;	/* next avail->idx we publish */
	uint16_t last_used_idx; /* next used element we consume */
	uint16_t free_count;	/* entries in free_slots[] */
	uint16_t *free_slots;	/* stack of slots not owned by the device (tx only) */
	struct pkt_buf **bufs;	/* buffer in each slot, NULL when the slot is free */
	uint32_t ring_offset;	/* offset of this queue in the device's DMA region */
};

struct virtio_queue_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t dropped;
	uint64_t length_errors;
};

/* Control command buffers, device-readable header and data, device-writable ack (5.1.6.5). */
struct virtio_ctrl_buf {
	struct virtio_net_ctrl_hdr hdr;
	uint8_t data[ETHER_ADDR_LEN];
	uint8_t ack;
};

struct virtio_net_device {
	struct ixy_device ixy; /* first: container_of() gets back here */
	struct pci_bar bar;
	uint32_t features;	  /* negotiated */
	struct dma_region region; /* all rings plus the control buffer */
	struct mempool *rx_pool;
	uint32_t rx_buf_len; /* bytes a rx chain offers: header + data capacity */
	struct virtio_queue rx;
	struct virtio_queue tx;
	struct virtio_queue ctrl; /* size 0 without VIRTIO_NET_F_CTRL_VQ */
	struct virtio_ctrl_buf *ctrl_buf;
	uint64_t ctrl_buf_iova;
	pthread_mutex_t ctrl_lock;
	uint8_t mac[ETHER_ADDR_LEN];
	struct virtio_queue_stats rx_stats __cache_aligned; /* rx thread only */
	struct virtio_queue_stats tx_stats __cache_aligned; /* tx thread only */
};

static const struct ixy_device_ops virtio_ops;

static inline struct virtio_net_device *to_virtio(struct ixy_device *dev)
{
	return container_of(dev, struct virtio_net_device, ixy);
}

static inline bool has_feature(const struct virtio_net_device *vdev, unsigned bit)
{
	return (vdev->features & VIRTIO_FEATURE(bit)) != 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Registers                                                                                 */

static void virtio_set_status(struct virtio_net_device *vdev, uint8_t bits)
{
	/* Status bits accumulate during initialization (3.1.1): read, or in, write back. */
	uint8_t status = pci_bar_read8(&vdev->bar, VIRTIO_PCI_DEVICE_STATUS);
	pci_bar_write8(&vdev->bar, VIRTIO_PCI_DEVICE_STATUS, status | bits);
}

/* Reset (3.1.1 step 1; legacy 4.1.4.8: writing 0 to device status resets the device). After
 * this the device no longer touches the rings or buffers we gave it, so they may be freed. */
static void virtio_reset(struct virtio_net_device *vdev)
{
	pci_bar_write8(&vdev->bar, VIRTIO_PCI_DEVICE_STATUS, 0);
	/* The reset is complete when status reads back as 0 (4.1.4.3.2 for the modern interface;
	 * legacy devices reset synchronously, the read-back also flushes the posted write). */
	for (int i = 0; i < 1000 && pci_bar_read8(&vdev->bar, VIRTIO_PCI_DEVICE_STATUS) != 0; i++)
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
}

static inline void virtio_notify(struct virtio_net_device *vdev, const struct virtio_queue *q)
{
	/* Available buffer notification: write the queue index to Queue Notify (4.1.4.8,
	 * 4.1.5.2). An I/O-port write, i.e. a system call and a VM exit: once per batch. */
	pci_bar_write16(&vdev->bar, VIRTIO_PCI_QUEUE_NOTIFY, q->index);
}

/*
 * Publish avail_idx to the device and notify it if it asks for notifications (2.6.13.3,
 * 2.6.13.4, 2.6.10).
 */
static inline void virtio_queue_kick(struct virtio_net_device *vdev, struct virtio_queue *q)
{
	/* The device reads avail->idx, then the ring entries and descriptors it covers (2.6.13.3:
	 * "the driver MUST perform a suitable memory barrier before the idx update"). The release
	 * store orders all our descriptor and ring writes before the new idx. */
	vring_store_release(&q->avail->idx, q->avail_idx);
	/* Store avail->idx, then load used->flags: a store-load order that only a full fence
	 * gives. It pairs with the device clearing VRING_USED_F_NO_NOTIFY and then re-reading
	 * avail->idx: either the device sees our new idx or we see the flag clear (2.6.13.4). */
	vring_full_fence();
	if (!(vring_load_acquire(&q->used->flags) & VRING_USED_F_NO_NOTIFY))
		virtio_notify(vdev, q);
}

/* ---------------------------------------------------------------------------------------- */
/* Hot path                                                                                  */

/* Point the descriptors of a slot at buf and hand the slot to the device via the available
 * ring (2.6.13.1, 2.6.13.2). data_iova: where the frame is (tx) or goes (rx), with the header
 * right before it; data_len: the frame length for tx, the room for one for rx. */
static inline void virtio_queue_post(struct virtio_queue *q, uint16_t slot, struct pkt_buf *buf,
				     uint64_t data_iova, uint32_t data_len)
{
	uint16_t head = (uint16_t)(slot * q->descs_per_buf);
	struct vring_desc *d = &q->desc[head];
	uint64_t hdr_iova = data_iova - VIRTIO_HDR_SIZE;
	/* flags and next were fixed at setup: WRITE for rx, NEXT on the first of two. */
	if (q->descs_per_buf == 1) {
		d->addr = hdr_iova;
		d->len = VIRTIO_HDR_SIZE + data_len;
	} else {
		d[0].addr = hdr_iova;
		d[0].len = VIRTIO_HDR_SIZE;
		d[1].addr = data_iova;
		d[1].len = data_len;
	}
	q->bufs[slot] = buf;
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	q->avail_idx++;
}

/* Validate a used element's id (the head of the chain, 2.6.8) and turn it into a slot;
 * returns -1 for an id the device should never have returned. */
static inline int virtio_used_slot(const struct virtio_queue *q, uint32_t id)
{
	if (unlikely(id >= q->size || id % q->descs_per_buf != 0))
		return -1;
	uint16_t slot = (uint16_t)(id / q->descs_per_buf);
	if (unlikely(q->bufs[slot] == NULL))
		return -1;
	return slot;
}

/*
 * rx: take up to n received frames. Every used buffer is reposted at once, so the ring always
 * stays full: with a fresh buffer from the pool when one can be had (the received one goes to
 * the caller), else with the received buffer itself and the frame counted as rx_dropped.
 */
static uint32_t virtio_rx_batch(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
				uint32_t n)
{
	struct virtio_net_device *vdev = to_virtio(dev);
	struct virtio_queue *q = &vdev->rx;
	(void)queue; /* only queue 0 exists; the device.h wrappers never pass another */

	/* 1. How many frames are waiting (2.6.14). The acquire load pairs with the device's write
	 * barrier between filling a used element and bumping used->idx (2.6.8): the elements
	 * up to idx are complete once we see it. */
	uint16_t used_idx = vring_load_acquire(&q->used->idx);
	uint32_t ready = (uint16_t)(used_idx - q->last_used_idx);
	n = MIN(n, MIN(ready, VIRTIO_RX_BURST_MAX));
	if (n == 0)
		return 0;

	/* 2. Replacement buffers, one pool lock for the whole batch. */
	struct pkt_buf *fresh[VIRTIO_RX_BURST_MAX];
	uint32_t fresh_count = pkt_buf_alloc_batch(vdev->rx_pool, fresh, n);
	uint32_t fresh_used = 0, received = 0, dropped = 0, bad_len = 0;
	uint32_t room = vdev->rx_buf_len - VIRTIO_HDR_SIZE;
	uint64_t bytes = 0;

	/* 3. Consume used elements, repost each slot. */
	for (uint32_t i = 0; i < n; i++) {
		struct vring_used_elem *e = &q->used->ring[q->last_used_idx & (q->size - 1)];
		q->last_used_idx++;
		int slot = virtio_used_slot(q, e->id);
		if (unlikely(slot < 0)) {
			/* The device broke the protocol (2.6.8: id is the head of a chain we
			 * made available). Nothing to repost: the slot is lost; count a drop. */
			LOG_ERR_RL("virtio", "%s: rx used id %u is not an outstanding buffer",
				   dev->name, e->id);
			dropped++;
			continue;
		}
		struct pkt_buf *buf = q->bufs[slot];
		/* used len counts every byte written: header plus frame (2.6.8). */
		uint32_t len = e->len;
		if (unlikely(len < VIRTIO_HDR_SIZE + 14 || len > vdev->rx_buf_len)) {
			LOG_WARN_RL("virtio", "%s: rx used length %u out of range", dev->name, len);
			bad_len++;
			virtio_queue_post(q, (uint16_t)slot, buf, pkt_rx_iova(buf), room);
			continue;
		}
		if (unlikely(fresh_used == fresh_count)) {
			/* Pool empty: keep the buffer in the ring and lose the frame. */
			dropped++;
			virtio_queue_post(q, (uint16_t)slot, buf, pkt_rx_iova(buf), room);
			continue;
		}
		/* The device wrote at the default offset; the buffer may carry another one from
		 * its last use. */
		pkt_reset(buf, len - VIRTIO_HDR_SIZE);
		bytes += buf->len;
		bufs[received++] = buf;
		struct pkt_buf *f = fresh[fresh_used++];
		virtio_queue_post(q, (uint16_t)slot, f, pkt_rx_iova(f), room);
	}
	if (fresh_used < fresh_count) /* some frames were bad: their buffers went back in */
		pkt_buf_free_batch(fresh + fresh_used, fresh_count - fresh_used);

	/* 4. One publication and at most one notification for the batch. */
	virtio_queue_kick(vdev, q);

	struct virtio_queue_stats *st = &vdev->rx_stats;
	stat_add(&st->packets, received);
	stat_add(&st->bytes, bytes);
	if (unlikely(dropped))
		stat_add(&st->dropped, dropped);
	if (unlikely(bad_len))
		stat_add(&st->length_errors, bad_len);
	return received;
}

/* tx step 1: return the buffers of finished transmissions to their pools (2.6.14). */
static void virtio_tx_clean(struct virtio_net_device *vdev, struct virtio_queue *q)
{
	/* Acquire pairs with the device's barrier before it bumps used->idx (2.6.8). */
	uint16_t used_idx = vring_load_acquire(&q->used->idx);
	struct pkt_buf *done[VIRTIO_TX_CLEAN_BATCH * 2];
	uint32_t count = 0;
	while (q->last_used_idx != used_idx) {
		struct vring_used_elem *e = &q->used->ring[q->last_used_idx & (q->size - 1)];
		q->last_used_idx++;
		int slot = virtio_used_slot(q, e->id);
		if (unlikely(slot < 0)) {
			LOG_ERR_RL("virtio", "%s: tx used id %u is not an outstanding buffer",
				   vdev->ixy.name, e->id);
			continue;
		}
		done[count++] = q->bufs[slot];
		q->bufs[slot] = NULL;
		q->free_slots[q->free_count++] = (uint16_t)slot;
		if (count == ARRAY_SIZE(done)) {
			pkt_buf_free_batch(done, count);
			count = 0;
		}
	}
	if (count)
		pkt_buf_free_batch(done, count);
}

/*
 * tx: queue up to n frames; returns how many were taken (a prefix of bufs). n == 0 only
 * reclaims finished buffers, which callers use to drain the ring before closing devices.
 */
static uint32_t virtio_tx_batch(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
				uint32_t n)
{
	struct virtio_net_device *vdev = to_virtio(dev);
	struct virtio_queue *q = &vdev->tx;
	(void)queue;

	/* 1. Reclaim in batches: when enough are done to be worth a pool lock, or when we are
	 * short of slots. The invariant free_count + in flight == num_slots holds throughout. */
	uint16_t done = (uint16_t)(vring_load_acquire(&q->used->idx) - q->last_used_idx);
	if (done && (done >= VIRTIO_TX_CLEAN_BATCH || q->free_count < n || n == 0))
		virtio_tx_clean(vdev, q);

	/* 2. Fill slots: header right before the frame's current start (5.1.6.2: no offload,
	 * so flags 0 and GSO_NONE), descriptors, available ring entries. pkt_push() always
	 * leaves the room; a buffer whose offset was set by hand without it stops the batch
	 * there (it and the rest stay with the caller) rather than overwrite its metadata. */
	uint32_t sent = 0;
	uint64_t bytes = 0;
	while (sent < n && q->free_count > 0) {
		struct pkt_buf *buf = bufs[sent];
		if (unlikely(buf->data_off < PKT_BUF_META_SIZE + VIRTIO_HDR_SIZE)) {
			LOG_ERR_RL("virtio",
				   "%s: tx frame at offset %u leaves no room for the header",
				   dev->name, buf->data_off);
			break;
		}
		struct virtio_net_hdr *hdr =
		    (struct virtio_net_hdr *)(pkt_data(buf) - VIRTIO_HDR_SIZE);
		memset(hdr, 0, sizeof(*hdr));
		hdr->gso_type = VIRTIO_NET_HDR_GSO_NONE;
		uint16_t slot = q->free_slots[--q->free_count];
		virtio_queue_post(q, slot, buf, pkt_data_iova(buf), buf->len);
		bytes += buf->len;
		sent++;
	}
	if (sent == 0)
		return 0;

	/* 3. One publication and at most one notification for the whole batch. */
	virtio_queue_kick(vdev, q);

	stat_add(&vdev->tx_stats.packets, sent);
	stat_add(&vdev->tx_stats.bytes, bytes);
	return sent;
}

/* ---------------------------------------------------------------------------------------- */
/* Control queue (5.1.6.5)                                                                   */

/*
 * Run one control command synchronously: class/command, len bytes of data, and wait for the
 * device's ack. Returns 0, -ENOTSUP without a control queue, -EIO if the device says
 * VIRTIO_NET_ERR, -ETIMEDOUT if it does not answer.
 */
static int virtio_ctrl_cmd(struct virtio_net_device *vdev, uint8_t class_, uint8_t command,
			   const void *data, uint16_t len)
{
	struct virtio_queue *q = &vdev->ctrl;
	if (q->size == 0)
		return -ENOTSUP;
	assert(len <= sizeof(vdev->ctrl_buf->data));

	pthread_mutex_lock(&vdev->ctrl_lock);
	struct virtio_ctrl_buf *cb = vdev->ctrl_buf;
	cb->hdr.class_ = class_;
	cb->hdr.command = command;
	memcpy(cb->data, data, len);
	cb->ack = 0xff; /* neither OK nor ERR: tells us whether the device wrote it */

	/* Three descriptors 0 -> 1 -> 2: header and data readable, ack writable (5.1.6.5;
	 * separate descriptors also satisfy the legacy framing rule, 5.1.6.6). Only one command
	 * is ever outstanding, so the chain always starts at descriptor 0. */
	uint64_t base = vdev->ctrl_buf_iova;
	q->desc[0] = (struct vring_desc){base + offsetof(struct virtio_ctrl_buf, hdr),
					 sizeof(cb->hdr), VRING_DESC_F_NEXT, 1};
	q->desc[1] = (struct vring_desc){base + offsetof(struct virtio_ctrl_buf, data), len,
					 VRING_DESC_F_NEXT, 2};
	q->desc[2] = (struct vring_desc){base + offsetof(struct virtio_ctrl_buf, ack), 1,
					 VRING_DESC_F_WRITE, 0};
	q->avail->ring[q->avail_idx & (q->size - 1)] = 0;
	q->avail_idx++;
	virtio_queue_kick(vdev, q);

	/* Wait for the used element. The device may complete it while handling our notify (QEMU
	 * does), or later from another thread. */
	int err = -ETIMEDOUT;
	for (uint32_t waited_us = 0; waited_us < VIRTIO_CTRL_TIMEOUT_MS * 1000; waited_us += 100) {
		/* Acquire pairs with the device's barrier before used->idx (2.6.8), so the ack
		 * byte it wrote before is visible to the read below. */
		if (vring_load_acquire(&q->used->idx) != q->last_used_idx) {
			q->last_used_idx++;
			uint8_t ack = __atomic_load_n(&cb->ack, __ATOMIC_RELAXED);
			err = ack == VIRTIO_NET_OK ? 0 : -EIO;
			break;
		}
		nanosleep(&(struct timespec){.tv_nsec = 100000}, NULL);
	}
	pthread_mutex_unlock(&vdev->ctrl_lock);
	if (err == -ETIMEDOUT)
		LOG_ERR("virtio", "%s: control command %u/%u got no answer in %u ms",
			vdev->ixy.name, class_, command, VIRTIO_CTRL_TIMEOUT_MS);
	else if (err)
		LOG_ERR("virtio", "%s: device refused control command %u/%u", vdev->ixy.name,
			class_, command);
	return err;
}

/* ---------------------------------------------------------------------------------------- */
/* Control path ops                                                                          */

static void virtio_read_stats(struct ixy_device *dev, struct ixy_stats *stats)
{
	struct virtio_net_device *vdev = to_virtio(dev);
	/* Software counters only: a legacy virtio-net device keeps none (5.1). */
	*stats = (struct ixy_stats){
	    .rx_packets = stat_read(&vdev->rx_stats.packets),
	    .rx_bytes = stat_read(&vdev->rx_stats.bytes),
	    .tx_packets = stat_read(&vdev->tx_stats.packets),
	    .tx_bytes = stat_read(&vdev->tx_stats.bytes),
	    .rx_dropped = stat_read(&vdev->rx_stats.dropped),
	    .rx_crc_errors = 0, /* the device never passes on frames with a bad FCS */
	    .rx_length_errors = stat_read(&vdev->rx_stats.length_errors),
	};
}

static int virtio_set_promisc(struct ixy_device *dev, bool on)
{
	struct virtio_net_device *vdev = to_virtio(dev);
	if (!has_feature(vdev, VIRTIO_NET_F_CTRL_RX)) {
		/* Without VIRTIO_NET_F_CTRL_RX the device does no filtering we could turn on or
		 * off (5.1.6.5.1): it delivers everything, i.e. stays promiscuous. */
		if (on)
			return 0;
		LOG_ERR("virtio", "%s: device cannot filter (no VIRTIO_NET_F_CTRL_RX)", dev->name);
		return -ENOTSUP;
	}
	uint8_t value = on ? 1 : 0; /* 5.1.6.5.1: one byte, 0 = off, 1 = on */
	int err = virtio_ctrl_cmd(vdev, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &value, 1);
	if (err == 0)
		dev->promisc = on;
	return err;
}

static int virtio_get_link(struct ixy_device *dev, struct ixy_link *link)
{
	struct virtio_net_device *vdev = to_virtio(dev);
	/* Without VIRTIO_NET_F_STATUS the link is assumed up (5.1.4). The legacy interface has no
	 * speed field (speed/duplex need feature bit 63, unreachable through the 32 legacy
	 * feature bits), so the speed is reported as 0, unknown. */
	link->up = true;
	if (has_feature(vdev, VIRTIO_NET_F_STATUS)) {
		uint16_t status =
		    pci_bar_read16(&vdev->bar, VIRTIO_PCI_DEVICE_CONFIG + VIRTIO_NET_CONFIG_STATUS);
		link->up = (status & VIRTIO_NET_S_LINK_UP) != 0;
	}
	link->speed_mbps = 0;
	return 0;
}

static int virtio_get_mac(struct ixy_device *dev, uint8_t mac[ETHER_ADDR_LEN])
{
	struct virtio_net_device *vdev = to_virtio(dev);
	pthread_mutex_lock(&vdev->ctrl_lock);
	memcpy(mac, vdev->mac, ETHER_ADDR_LEN);
	pthread_mutex_unlock(&vdev->ctrl_lock);
	return 0;
}

static void virtio_read_config_mac(struct virtio_net_device *vdev, uint8_t mac[ETHER_ADDR_LEN])
{
	/* Legacy devices have no config generation counter: read until two reads agree
	 * (2.4.4). Byte accesses, as the field is a byte array (5.1.4). */
	uint8_t again[ETHER_ADDR_LEN];
	for (int tries = 0; tries < 10; tries++) {
		for (int i = 0; i < ETHER_ADDR_LEN; i++)
			mac[i] = pci_bar_read8(&vdev->bar, VIRTIO_PCI_DEVICE_CONFIG +
							       VIRTIO_NET_CONFIG_MAC + i);
		for (int i = 0; i < ETHER_ADDR_LEN; i++)
			again[i] = pci_bar_read8(&vdev->bar, VIRTIO_PCI_DEVICE_CONFIG +
								 VIRTIO_NET_CONFIG_MAC + i);
		if (memcmp(mac, again, ETHER_ADDR_LEN) == 0)
			return;
	}
}

static void virtio_write_config_mac(struct virtio_net_device *vdev,
				    const uint8_t mac[ETHER_ADDR_LEN])
{
	/* Legacy only: mac is driver-writable in the legacy interface, the way to change the
	 * address without VIRTIO_NET_F_CTRL_MAC_ADDR (5.1.4.3). */
	for (int i = 0; i < ETHER_ADDR_LEN; i++)
		pci_bar_write8(&vdev->bar, VIRTIO_PCI_DEVICE_CONFIG + VIRTIO_NET_CONFIG_MAC + i,
			       mac[i]);
}

static int virtio_set_mac(struct ixy_device *dev, const uint8_t mac[ETHER_ADDR_LEN])
{
	struct virtio_net_device *vdev = to_virtio(dev);
	if (mac[0] & 0x01) /* a group address cannot be a station's address (IEEE 802 7.1.3) */
		return -EINVAL;
	int err = 0;
	if (has_feature(vdev, VIRTIO_NET_F_CTRL_MAC_ADDR)) {
		/* With CTRL_MAC_ADDR the config field is read-only for us; use the control
		 * queue (5.1.6.5.2, VIRTIO_NET_CTRL_MAC_ADDR_SET). */
		err = virtio_ctrl_cmd(vdev, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac,
				      ETHER_ADDR_LEN);
	} else {
		virtio_write_config_mac(vdev, mac);
		uint8_t check[ETHER_ADDR_LEN];
		virtio_read_config_mac(vdev, check);
		if (memcmp(check, mac, ETHER_ADDR_LEN) != 0) {
			LOG_ERR("virtio", "%s: device did not take the new MAC address", dev->name);
			err = -EIO;
		}
	}
	if (err == 0) {
		pthread_mutex_lock(&vdev->ctrl_lock);
		memcpy(vdev->mac, mac, ETHER_ADDR_LEN);
		pthread_mutex_unlock(&vdev->ctrl_lock);
	}
	return err;
}

/* ---------------------------------------------------------------------------------------- */
/* Setup and teardown                                                                        */

/* Return every buffer a queue still holds to its pool. Only after a reset. */
static void virtio_queue_release_bufs(struct virtio_queue *q)
{
	if (!q->bufs)
		return;
	for (uint32_t s = 0; s < q->num_slots; s++) {
		if (q->bufs[s]) {
			pkt_buf_free(q->bufs[s]);
			q->bufs[s] = NULL;
		}
	}
}

static void virtio_queue_free(struct virtio_queue *q)
{
	free(q->bufs);
	free(q->free_slots);
	q->bufs = NULL;
	q->free_slots = NULL;
}

static void virtio_free(struct virtio_net_device *vdev)
{
	/* Reset first, so the device lets go of rings and buffers; then the buffers, the pool
	 * and the rings. (A legacy device has no other way to stop using its queues.) */
	if (vdev->bar.hook || vdev->bar.mmio || vdev->bar.io_fd >= 0)
		virtio_reset(vdev);
	virtio_queue_release_bufs(&vdev->rx);
	virtio_queue_release_bufs(&vdev->tx);
	virtio_queue_free(&vdev->rx);
	virtio_queue_free(&vdev->tx);
	virtio_queue_free(&vdev->ctrl);
	/* Buffers of this pool may still be held elsewhere (the caller, or another device's tx
	 * ring); mempool_free() then keeps the memory until the last of them comes back. */
	mempool_free(vdev->rx_pool);
	dma_free(&vdev->region);
	pci_unmap_bar(&vdev->bar);
	pthread_mutex_destroy(&vdev->ctrl_lock);
	free(vdev);
}

static void virtio_close(struct ixy_device *dev)
{
	struct virtio_net_device *vdev = to_virtio(dev);
	/* Give frames already queued for sending a moment to leave (bounded, never blocks long):
	 * their buffers belong to pools that may be freed right after. */
	for (int i = 0; i < 100 && vdev->tx.free_count < vdev->tx.num_slots; i++) {
		virtio_tx_clean(vdev, &vdev->tx);
		if (vdev->tx.free_count < vdev->tx.num_slots)
			nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	virtio_free(vdev);
}

/*
 * Discover queue `index` (4.1.5.1.3, legacy 4.1.4.8): select it, read its size (fixed by the
 * device in the legacy interface), reserve space for it at *offset in the DMA region.
 * Returns 0, or -ENODEV if the device has no such queue, -EINVAL for an unusable size.
 */
static int virtio_queue_discover(struct virtio_net_device *vdev, struct virtio_queue *q,
				 uint16_t index, uint16_t descs_per_buf, uint32_t *offset)
{
	pci_bar_write16(&vdev->bar, VIRTIO_PCI_QUEUE_SELECT, index);
	uint16_t size = pci_bar_read16(&vdev->bar, VIRTIO_PCI_QUEUE_SIZE);
	if (size == 0)
		return -ENODEV; /* 4.1.4.8: a size of 0 means the queue does not exist */
	/* 2.6: the split queue size is a power of 2, at most 32768. */
	if ((size & (size - 1)) != 0 || size < descs_per_buf * 2u) {
		LOG_ERR("virtio", "%s: queue %u has unusable size %u", vdev->ixy.name, index, size);
		return -EINVAL;
	}
	/* The legacy interface fixes the size, but a device must not have used the queue
	 * yet: a non-zero address means someone else set it up (we reset, so it would be a
	 * device bug). */
	if (pci_bar_read32(&vdev->bar, VIRTIO_PCI_QUEUE_ADDRESS) != 0) {
		LOG_ERR("virtio", "%s: queue %u already in use after reset", vdev->ixy.name, index);
		return -EBUSY;
	}
	q->index = index;
	q->size = size;
	q->descs_per_buf = descs_per_buf;
	q->num_slots = (uint16_t)(size / descs_per_buf);
	q->ring_offset = *offset;
	*offset += vring_legacy_size_bytes(size);
	return 0;
}

/* Point the queue's structures into the region, link descriptor chains, allocate the slot
 * bookkeeping, and tell the device where the queue lives (QUEUE_ADDRESS, 4.1.4.8). */
static int virtio_queue_setup(struct virtio_net_device *vdev, struct virtio_queue *q,
			      uint16_t desc_flags)
{
	uint8_t *base = (uint8_t *)vdev->region.virt + q->ring_offset;
	/* Legacy layout (2.6.2): descriptors, available ring, then the used ring on the next
	 * 4096-byte boundary. */
	q->desc = (struct vring_desc *)base;
	q->avail = (struct vring_avail *)(base + 16u * q->size);
	q->used = (struct vring_used *)(base + vring_legacy_used_offset(q->size));
	q->avail_idx = 0;
	q->last_used_idx = 0;

	q->bufs = calloc(q->num_slots, sizeof(*q->bufs));
	q->free_slots = calloc(q->num_slots, sizeof(*q->free_slots));
	if (!q->bufs || !q->free_slots)
		return -ENOMEM;
	for (uint16_t s = 0; s < q->num_slots; s++) {
		uint16_t head = (uint16_t)(s * q->descs_per_buf);
		for (uint16_t k = 0; k < q->descs_per_buf; k++) {
			bool last = k + 1 == q->descs_per_buf;
			q->desc[head + k].flags =
			    (uint16_t)(desc_flags | (last ? 0 : VRING_DESC_F_NEXT));
			q->desc[head + k].next = (uint16_t)(last ? 0 : head + k + 1);
		}
		/* Stack order: slot 0 on top, so the first frames use the first slots. */
		q->free_slots[s] = (uint16_t)(q->num_slots - 1 - s);
	}
	q->free_count = q->num_slots;
	/* We poll: ask the device not to interrupt us (2.6.7). */
	q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;

	uint64_t iova = vdev->region.iova + q->ring_offset;
	pci_bar_write16(&vdev->bar, VIRTIO_PCI_QUEUE_SELECT, q->index);
	pci_bar_write32(&vdev->bar, VIRTIO_PCI_QUEUE_ADDRESS,
			(uint32_t)(iova >> VIRTIO_PCI_QUEUE_ADDR_SHIFT));
	return 0;
}

/* Fill the whole rx ring (5.1.5: "fill the receive queues with buffers"). */
static int virtio_rx_fill(struct virtio_net_device *vdev)
{
	struct virtio_queue *q = &vdev->rx;
	while (q->free_count > 0) {
		struct pkt_buf *buf = pkt_buf_alloc(vdev->rx_pool);
		if (!buf)
			return -ENOMEM;
		virtio_queue_post(q, q->free_slots[--q->free_count], buf, pkt_rx_iova(buf),
				  vdev->rx_buf_len - VIRTIO_HDR_SIZE);
	}
	/* Published here; the device is notified after DRIVER_OK (3.1.1 step 8). */
	vring_store_release(&q->avail->idx, q->avail_idx);
	return 0;
}

static void virtio_random_mac(uint8_t mac[ETHER_ADDR_LEN])
{
	if (getrandom(mac, ETHER_ADDR_LEN, 0) != ETHER_ADDR_LEN) {
		uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)mac;
		memcpy(mac, &t, ETHER_ADDR_LEN);
	}
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
}

struct ixy_device *virtio_net_init(const struct pci_device *pci,
				   const struct ixy_device_config *cfg)
{
	int err;
	struct virtio_net_device *vdev = calloc(1, sizeof(*vdev));
	if (!vdev) {
		errno = ENOMEM;
		return NULL;
	}
	vdev->ixy.ops = &virtio_ops;
	snprintf(vdev->ixy.name, sizeof(vdev->ixy.name), "%s", pci->addr);
	vdev->ixy.numa_node = pci->numa_node;
	vdev->bar.io_fd = -1;
	pthread_mutex_init(&vdev->ctrl_lock, NULL);

	if (cfg->rx_queues > 1 || cfg->tx_queues > 1)
		LOG_WARN("virtio", "%s: one queue pair only (no VIRTIO_NET_F_MQ support)",
			 pci->addr);

	err = pci_enable_bus_master(pci);
	if (err) {
		LOG_ERR("virtio", "%s: cannot enable bus mastering: %s", pci->addr, strerror(-err));
		goto fail;
	}
	err = pci_map_bar(pci, 0, &vdev->bar); /* BAR0: the legacy I/O-port block (4.1.4.8) */
	if (err) {
		LOG_ERR("virtio", "%s: cannot map BAR0: %s", pci->addr, strerror(-err));
		memset(&vdev->bar, 0, sizeof(vdev->bar));
		vdev->bar.io_fd = -1;
		goto fail;
	}

	/* Device initialization, 3.1.1 with the legacy differences of 3.1.2. */
	/* 1. Reset the device. */
	virtio_reset(vdev);
	/* 2. ACKNOWLEDGE: we noticed the device. 3. DRIVER: we know how to drive it. */
	virtio_set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_set_status(vdev, VIRTIO_STATUS_DRIVER);
	/* 4. Read the offered feature bits, write the subset we understand. */
	uint32_t offered = pci_bar_read32(&vdev->bar, VIRTIO_PCI_DEVICE_FEATURES);
	vdev->features = offered & VIRTIO_WANTED_FEATURES;
	if (!has_feature(vdev, VIRTIO_NET_F_CTRL_VQ))
		vdev->features &= ~(VIRTIO_FEATURE(VIRTIO_NET_F_CTRL_RX) |
				    VIRTIO_FEATURE(VIRTIO_NET_F_CTRL_MAC_ADDR)); /* 5.1.3.1 */
	pci_bar_write32(&vdev->bar, VIRTIO_PCI_DRIVER_FEATURES, vdev->features);
	/* 5./6. FEATURES_OK and its read-back: skipped, legacy devices do not have them
	 * (3.1.2). */
	LOG_INFO("virtio", "%s: features offered 0x%08x, accepted 0x%08x", pci->addr, offered,
		 vdev->features);

	/* 7. Device-specific setup: queues (5.1.2), MAC (5.1.5), rx buffers (5.1.5). */
	uint16_t descs_per_buf = has_feature(vdev, VIRTIO_F_ANY_LAYOUT) ? 1 : 2; /* 5.1.6.6 */
	uint32_t offset = 0;
	err = virtio_queue_discover(vdev, &vdev->rx, VIRTIO_NET_QUEUE_RX, descs_per_buf, &offset);
	if (!err)
		err = virtio_queue_discover(vdev, &vdev->tx, VIRTIO_NET_QUEUE_TX, descs_per_buf,
					    &offset);
	if (!err && has_feature(vdev, VIRTIO_NET_F_CTRL_VQ)) /* one 3-descriptor command */
		err = virtio_queue_discover(vdev, &vdev->ctrl, VIRTIO_NET_QUEUE_CTRL, 3, &offset);
	if (err) {
		LOG_ERR("virtio", "%s: queue discovery failed: %s", pci->addr, strerror(-err));
		err = -EIO;
		goto fail_status;
	}
	uint32_t ctrl_buf_offset = offset;
	offset += (uint32_t)sizeof(struct virtio_ctrl_buf);
	if ((cfg->rx_ring_size && cfg->rx_ring_size != vdev->rx.size) ||
	    (cfg->tx_ring_size && cfg->tx_ring_size != vdev->tx.size))
		LOG_INFO("virtio", "%s: ring sizes are fixed by the legacy device: rx %u, tx %u",
			 pci->addr, vdev->rx.size, vdev->tx.size);

	/* The legacy queue must be physically contiguous and 4096-aligned (2.6.2, 4.1.4.8). */
	err = dma_alloc(offset, true, &vdev->region);
	if (err) {
		LOG_ERR("virtio", "%s: cannot allocate %u bytes of DMA memory for the rings: %s",
			pci->addr, offset, strerror(-err));
		goto fail_status;
	}
	if (vdev->region.iova % VRING_LEGACY_ALIGN != 0 ||
	    (vdev->region.iova + offset) >> (32 + VIRTIO_PCI_QUEUE_ADDR_SHIFT) != 0) {
		/* QUEUE_ADDRESS is a 32-bit page number: memory above 16 TiB is out of reach. */
		LOG_ERR("virtio", "%s: ring memory at 0x%llx unusable for a legacy queue",
			pci->addr, (unsigned long long)vdev->region.iova);
		err = -ENOMEM;
		goto fail_status;
	}
	vdev->ctrl_buf = (struct virtio_ctrl_buf *)((uint8_t *)vdev->region.virt + ctrl_buf_offset);
	vdev->ctrl_buf_iova = vdev->region.iova + ctrl_buf_offset;

	uint32_t pool_bufs = MAX(VIRTIO_POOL_MIN_BUFS, 4u * vdev->rx.num_slots);
	vdev->rx_pool = mempool_create(pool_bufs, 0);
	if (!vdev->rx_pool) {
		err = -errno;
		LOG_ERR("virtio", "%s: cannot create a pool of %u rx buffers: %s", pci->addr,
			pool_bufs, strerror(errno));
		goto fail_status;
	}
	vdev->rx_buf_len = VIRTIO_HDR_SIZE + mempool_data_capacity(vdev->rx_pool);

	err = virtio_queue_setup(vdev, &vdev->rx, VRING_DESC_F_WRITE);
	if (!err)
		err = virtio_queue_setup(vdev, &vdev->tx, 0);
	if (!err && vdev->ctrl.size)
		err = virtio_queue_setup(vdev, &vdev->ctrl, 0); /* flags set per command */
	if (!err)
		err = virtio_rx_fill(vdev);
	if (err) {
		LOG_ERR("virtio", "%s: queue setup failed: %s", pci->addr, strerror(-err));
		goto fail_status;
	}

	if (has_feature(vdev, VIRTIO_NET_F_MAC)) {
		virtio_read_config_mac(vdev, vdev->mac);
	} else {
		/* 5.1.5: without VIRTIO_NET_F_MAC the driver picks a random address; legacy
		 * lets us tell the device through the config field (5.1.4.3). */
		virtio_random_mac(vdev->mac);
		virtio_write_config_mac(vdev, vdev->mac);
	}

	/* 8. DRIVER_OK: the device is live; now it may be notified (3.1.1).
	 * Frames that reached the device before this point (while no program drove it, or
	 * during steps 1-7) are not all delivered, and nothing here can change that. QEMU's
	 * virtio-net cannot receive before DRIVER_OK (virtio_net_can_receive), so it queues the
	 * first such frame and stops reading the tap. Setting DRIVER_OK flushes that queue from
	 * virtio_net_set_status(), which virtio_set_status() (hw/virtio/virtio.c) calls before
	 * it stores the new status: the device still looks not ready, receive returns -1, and
	 * qemu_net_queue_flush() drops the frame. The frames behind it waited in the tap and
	 * arrive after this point. A NIC also drops what comes in before its receiver is
	 * enabled; tests send only once the program says it is up (tests/vm/lib.sh). */
	virtio_set_status(vdev, VIRTIO_STATUS_DRIVER_OK);
	if (pci_bar_read8(&vdev->bar, VIRTIO_PCI_DEVICE_STATUS) & VIRTIO_STATUS_NEEDS_RESET) {
		LOG_ERR("virtio", "%s: device needs a reset right after initialization", pci->addr);
		err = -EIO;
		goto fail_status;
	}
	virtio_notify(vdev, &vdev->rx);

	/* Known starting state: promiscuous. QEMU's device starts that way anyway; say so
	 * explicitly when we can (5.1.6.5.1). */
	vdev->ixy.promisc = true;
	if (has_feature(vdev, VIRTIO_NET_F_CTRL_RX)) {
		err = virtio_set_promisc(&vdev->ixy, true);
		if (err)
			goto fail_status;
	}
	vdev->ixy.rx_queues = 1;
	vdev->ixy.tx_queues = 1;
	LOG_INFO("virtio",
		 "%s: up, mac %02x:%02x:%02x:%02x:%02x:%02x, rx ring %u, tx ring %u, %u desc per "
		 "frame, control queue %s",
		 pci->addr, vdev->mac[0], vdev->mac[1], vdev->mac[2], vdev->mac[3], vdev->mac[4],
		 vdev->mac[5], vdev->rx.size, vdev->tx.size, descs_per_buf,
		 vdev->ctrl.size ? "yes" : "no");
	return &vdev->ixy;

fail_status:
	/* 3.1.1: a driver that gives up SHOULD set FAILED. virtio_free() resets the device
	 * (clearing it again) before freeing memory the device may still know about. */
	virtio_set_status(vdev, VIRTIO_STATUS_FAILED);
fail:
	virtio_free(vdev);
	errno = err < 0 ? -err : EIO;
	return NULL;
}

static const struct ixy_device_ops virtio_ops = {
    .driver_name = "virtio-net",
    .rx_batch = virtio_rx_batch,
    .tx_batch = virtio_tx_batch,
    .read_stats = virtio_read_stats,
    .set_promisc = virtio_set_promisc,
    .get_link = virtio_get_link,
    .get_mac = virtio_get_mac,
    .set_mac = virtio_set_mac,
    .close = virtio_close,
};
