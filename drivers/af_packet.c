/*
 * af_packet.c: a port on any kernel network interface (veth, tap, a NIC the kernel drives)
 * through AF_PACKET sockets with memory-mapped rings. "packet_mmap" below is the kernel's
 * Documentation/networking/packet_mmap.rst; section names are quoted.
 *
 * Each rx queue is one socket with a TPACKET_V3 rx ring; each tx queue is one socket with a
 * TPACKET_V2 tx ring. Layout and ownership:
 *
 *   rx ring (V3): num_blocks blocks of AFP_RX_BLOCK_BYTES, each
 *     +---------------------+---------------+---------------+-----+
 *     | tpacket_block_desc  | tpacket3_hdr  | tpacket3_hdr  | ... |   frames packed, each
 *     | block_status        | sockaddr_ll   | ...           |     |   tp_next_offset after
 *     | num_pkts, 1st offset| frame at tp_mac                     |   the previous one
 *     +---------------------+-----------------------------------+
 *     The kernel fills a block and hands the whole block over (block_status |= TP_STATUS_USER)
 *     when it is full or AFP_RX_BLOCK_TIMEOUT_MS after its first frame. We check that status in
 *     memory, as a NIC driver checks a descriptor's DD bit (no poll()), copy the frames into
 *     buffers of the port's pool, and give the block back (TP_STATUS_KERNEL). Blocks go round in
 *     order; `block` is the next one we expect.
 *
 *   tx ring (V2): num_frames frames of AFP_TX_FRAME_BYTES, each a tpacket2_hdr then the frame
 *     at AFP_TX_DATA_OFFSET. A frame is ours while TP_STATUS_AVAILABLE; we copy, set tp_len and
 *     TP_STATUS_SEND_REQUEST, and after the batch one sendto(MSG_DONTWAIT) makes the kernel send
 *     every requested frame from its own head, which always equals our `next` once it caught up.
 *     A tx buffer is "sent" once copied into the ring: tx_batch frees it at once.
 *
 * Several rx queues join one PACKET_FANOUT group in hash mode, so the kernel spreads flows over
 * them like RSS. Promiscuous mode is a PACKET_MR_PROMISC membership; with it off, a socket
 * filter drops frames for other hosts, which a veth or tap delivers either way (a NIC would
 * filter them in hardware), so the port behaves like a NIC on every interface.
 *
 * Threads: as device.h says. Each queue's socket and ring belong to the thread polling it; the
 * control calls use a separate socket and a mutex.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device.h"
#include "log.h"

/* rx ring geometry. packet_mmap, "PACKET_MMAP setting constraints": a block is a multiple of the
 * page size and best a power of two; frames are packed into it, so the 2048-byte "frame size"
 * only sizes the ring from rx_ring_size. */
#define AFP_RX_BLOCK_BYTES	   (1u << 15)
#define AFP_RX_NOMINAL_FRAME_BYTES 2048u
/* 4096 nominal frames = 256 blocks (8 MiB). With the 1 ms block timeout below, a block holds
 * what arrived in one millisecond, so at a low packet rate the ring absorbs about one
 * millisecond per block of a worker being descheduled: 256 ms here. Half that lost packets
 * when a full-table load kept both cores of a small machine busy. */
#define AFP_RX_DEFAULT_FRAMES 4096u
#define AFP_RX_MIN_BLOCKS     4u
/* A partly filled block is handed over after this long (packet_mmap, "TPACKET_V2 -->
 * TPACKET_V3": block::timeout); it bounds the latency a quiet link adds. */
#define AFP_RX_BLOCK_TIMEOUT_MS 1u

/* tx ring geometry (packet_mmap, "PACKET_MMAP settings"): frames do not span blocks, and with
 * the frame size dividing the block size they lie every AFP_TX_FRAME_BYTES. */
#define AFP_TX_BLOCK_BYTES	(1u << 16)
#define AFP_TX_FRAME_BYTES	2048u
#define AFP_TX_FRAMES_PER_BLOCK (AFP_TX_BLOCK_BYTES / AFP_TX_FRAME_BYTES)
#define AFP_TX_DEFAULT_FRAMES	1024u
/* packet_mmap, "How to use mmap() directly to improve transmission process": the data starts at
 * frame base + TPACKET_HDRLEN - sizeof(struct sockaddr_ll), for V2 the aligned tpacket2_hdr. */
#define AFP_TX_DATA_OFFSET     (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
#define AFP_TX_MAX_FRAME_BYTES (AFP_TX_FRAME_BYTES - AFP_TX_DATA_OFFSET)
static_assert(AFP_TX_DATA_OFFSET == TPACKET_ALIGN(sizeof(struct tpacket2_hdr)),
	      "tx data follows the aligned V2 header");
static_assert(AFP_TX_BLOCK_BYTES % AFP_TX_FRAME_BYTES == 0, "tx frames evenly spaced");

/* rx buffers in the port's pool per rx queue: frames wait in the ring, so the pool only needs
 * what the dataplane holds in flight. */
#define AFP_POOL_BUFS_PER_RX_QUEUE 4096u

#define VLAN_TAG_BYTES	  4u
#define ETHER_ADDRS_BYTES 12u /* destination + source MAC, before the ethertype or a tag */
#define ETH_P_8021Q_TPID  0x8100u

/* Counters of one queue: written only by the thread polling it, read by read_stats() from any
 * thread. The relaxed atomic store pairs with the relaxed load there: each counter is a
 * statistic of its own; values must be untorn, not ordered against each other. */
struct afp_counters {
	uint64_t packets;
	uint64_t bytes;
	uint64_t errors; /* rx: frames too long for a buffer */
};

static inline void afp_counters_add(struct afp_counters *c, uint64_t packets, uint64_t bytes,
				    uint64_t errors)
{
	__atomic_store_n(&c->packets, c->packets + packets, __ATOMIC_RELAXED);
	__atomic_store_n(&c->bytes, c->bytes + bytes, __ATOMIC_RELAXED);
	if (errors)
		__atomic_store_n(&c->errors, c->errors + errors, __ATOMIC_RELAXED);
}

struct afp_rx_queue {
	int fd;
	uint8_t *ring; /* num_blocks * AFP_RX_BLOCK_BYTES, shared with the kernel */
	size_t ring_bytes;
	uint32_t num_blocks;
	uint32_t block;	      /* the block we read next, or are reading */
	uint32_t frames_left; /* frames of `block` not yet handed out; 0: block not (yet) ours */
	const uint8_t *frame; /* the next frame's tpacket3_hdr while frames_left > 0 */
	struct afp_counters counters;
} __cache_aligned;

struct afp_tx_queue {
	int fd;
	uint8_t *ring; /* num_frames * AFP_TX_FRAME_BYTES, shared with the kernel */
	size_t ring_bytes;
	uint32_t num_frames;
	uint32_t next; /* the frame we fill next; the kernel sends from its head up to here */
	struct afp_counters counters;
} __cache_aligned;

struct afp_port {
	struct ixy_device ixy; /* first, as device.h requires */
	int ifindex;
	char ifname[IFNAMSIZ]; /* the name ioctls take (ixy.name holds the same) */
	int ctl_fd;	       /* unbound packet socket for ioctls and the promiscuous membership */
	struct mempool *pool;
	pthread_mutex_t ctl_lock; /* promisc state, rx_dropped */
	uint64_t rx_dropped;	  /* tp_drops summed: PACKET_STATISTICS clears them on read */
	struct afp_rx_queue rx[IXY_MAX_QUEUES];
	struct afp_tx_queue tx[IXY_MAX_QUEUES];
};

static const struct ixy_device_ops afp_ops;

static inline struct afp_port *to_afp(struct ixy_device *dev)
{
	return container_of(dev, struct afp_port, ixy);
}

/* ------------------------------------------------------------------------------------------ */
/* rx                                                                                         */
/* ------------------------------------------------------------------------------------------ */

static inline struct tpacket_block_desc *afp_rx_block(const struct afp_rx_queue *q, uint32_t i)
{
	return (struct tpacket_block_desc *)(q->ring + (size_t)i * AFP_RX_BLOCK_BYTES);
}

/* Give the current block back to the kernel and move on to the next one. packet_mmap, "AF_PACKET
 * TPACKET_V3 example" (flush_block): writing TP_STATUS_KERNEL returns the block. The release
 * store pairs with the kernel's read of block_status before it refills the block: our reads of
 * the block's frames all happen before the kernel may overwrite them. */
static inline void afp_rx_release_block(struct afp_rx_queue *q)
{
	struct tpacket_block_desc *desc = afp_rx_block(q, q->block);
	__atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	q->frames_left = 0;
	if (++q->block == q->num_blocks)
		q->block = 0;
}

/* Take the next block if the kernel handed it over. Returns true with frames_left > 0. */
static inline bool afp_rx_take_block(struct afp_rx_queue *q)
{
	for (;;) {
		struct tpacket_block_desc *desc = afp_rx_block(q, q->block);
		/* packet_mmap, "AF_PACKET TPACKET_V3 example": the block is ours once
		 * TP_STATUS_USER is set. The acquire load pairs with the kernel's write barrier
		 * between filling the block (frames, num_pkts) and storing the status: all of it
		 * is visible once we see the status. */
		uint32_t status = __atomic_load_n(&desc->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
		if (!(status & TP_STATUS_USER))
			return false;
		q->frames_left = desc->hdr.bh1.num_pkts;
		q->frame = (const uint8_t *)desc + desc->hdr.bh1.offset_to_first_pkt;
		if (likely(q->frames_left > 0))
			return true;
		afp_rx_release_block(q); /* an empty block: nothing to read, hand it back */
	}
}

/*
 * Copy one frame into buf. The kernel takes an outer VLAN tag out of the frame into metadata
 * before packet sockets see it (the receive path untags, or the NIC did in hardware) and reports
 * it in the header (TP_STATUS_VLAN_VALID, tp_vlan_tci, tp_vlan_tpid: packet_mmap, "TPACKET_V1
 * --> TPACKET_V2"); we put the tag back, so the frame is as it was on the wire.
 * Returns the frame length, or 0 when it does not fit the buffer (or was cut short).
 */
static inline uint32_t afp_rx_copy(const struct tpacket3_hdr *hdr, struct pkt_buf *buf,
				   uint32_t capacity)
{
	const uint8_t *frame = (const uint8_t *)hdr + hdr->tp_mac;
	uint32_t len = hdr->tp_snaplen;
	bool vlan = (hdr->tp_status & TP_STATUS_VLAN_VALID) && len >= ETHER_ADDRS_BYTES;
	if (unlikely(len != hdr->tp_len || len + (vlan ? VLAN_TAG_BYTES : 0) > capacity))
		return 0;
	if (unlikely(hdr->tp_status & TP_STATUS_CSUMNOTREADY))
		LOG_WARN_RL("af_packet", "frame with its checksum left to offload: turn off tx "
					 "checksum offload on the sender (ethtool -K IF tx off)");
	buf->rss_hash = hdr->hv1.tp_rxhash;
	if (likely(!vlan)) {
		pkt_reset(buf, len);
		memcpy(pkt_data(buf), frame, len);
		return len;
	}
	uint16_t tpid =
	    (hdr->tp_status & TP_STATUS_VLAN_TPID_VALID) ? hdr->hv1.tp_vlan_tpid : ETH_P_8021Q_TPID;
	uint8_t tag[VLAN_TAG_BYTES] = {tpid >> 8, tpid & 0xff, hdr->hv1.tp_vlan_tci >> 8,
				       hdr->hv1.tp_vlan_tci & 0xff};
	pkt_reset(buf, len + VLAN_TAG_BYTES);
	uint8_t *data = pkt_data(buf);
	memcpy(data, frame, ETHER_ADDRS_BYTES);
	memcpy(data + ETHER_ADDRS_BYTES, tag, VLAN_TAG_BYTES);
	memcpy(data + ETHER_ADDRS_BYTES + VLAN_TAG_BYTES, frame + ETHER_ADDRS_BYTES,
	       len - ETHER_ADDRS_BYTES);
	return buf->len;
}

static uint32_t afp_rx_batch(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
			     uint32_t n)
{
	struct afp_port *port = to_afp(dev);
	assert(queue < dev->rx_queues);
	struct afp_rx_queue *q = &port->rx[queue];
	const uint32_t capacity = mempool_data_capacity(port->pool);
	uint32_t received = 0, too_long = 0;
	uint64_t bytes = 0;

	while (received < n) {
		/* 1. A block of ours to read from; nothing allocated while the link is idle. */
		if (q->frames_left == 0 && !afp_rx_take_block(q))
			break;
		/* 2. Buffers for the frames the caller still wants from this block. */
		uint32_t want = MIN(n - received, q->frames_left);
		uint32_t got = pkt_buf_alloc_batch(port->pool, bufs + received, want);
		/* 3. Copy. A frame that does not fit is dropped and its buffer reused, so the
		 * buffers filled stay a prefix; bufs[received + used .. received + got) are left
		 * over at the end. */
		uint32_t used = 0;
		for (uint32_t i = 0; i < got; i++) {
			const struct tpacket3_hdr *hdr = (const struct tpacket3_hdr *)q->frame;
			q->frame += hdr->tp_next_offset;
			q->frames_left--;
			uint32_t len = afp_rx_copy(hdr, bufs[received + used], capacity);
			if (unlikely(len == 0)) {
				too_long++;
				continue;
			}
			bytes += len;
			used++;
		}
		if (unlikely(used < got))
			pkt_buf_free_batch(bufs + received + used, got - used);
		received += used;
		/* 4. Block read to the end: back to the kernel. */
		if (q->frames_left == 0)
			afp_rx_release_block(q);
		if (got < want)
			break; /* pool empty: the frames wait in the ring */
	}
	if (received || too_long)
		afp_counters_add(&q->counters, received, bytes, too_long);
	if (unlikely(too_long))
		LOG_WARN_RL("af_packet", "%s: %u frame(s) too long for a %u-byte buffer dropped",
			    dev->name, too_long, capacity);
	return received;
}

/* ------------------------------------------------------------------------------------------ */
/* tx                                                                                         */
/* ------------------------------------------------------------------------------------------ */

static inline struct tpacket2_hdr *afp_tx_frame(const struct afp_tx_queue *q, uint32_t i)
{
	return (struct tpacket2_hdr *)(q->ring + (size_t)i * AFP_TX_FRAME_BYTES);
}

static uint32_t afp_tx_batch(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
			     uint32_t n)
{
	struct afp_port *port = to_afp(dev);
	assert(queue < dev->tx_queues);
	struct afp_tx_queue *q = &port->tx[queue];
	uint32_t accepted = 0, queued = 0, too_long = 0;
	uint64_t bytes = 0;
	bool ring_full = false;

	/* 1. Copy frames into free slots, in order, until the slot we need is still busy. */
	while (accepted < n) {
		struct tpacket2_hdr *hdr = afp_tx_frame(q, q->next);
		/* packet_mmap, "Transmission process": a frame is ours while TP_STATUS_AVAILABLE.
		 * The acquire load pairs with the kernel's store of TP_STATUS_AVAILABLE once it is
		 * done with the frame (skb destructor): our writes below come after its reads. */
		uint32_t status = __atomic_load_n(&hdr->tp_status, __ATOMIC_ACQUIRE);
		if (status != TP_STATUS_AVAILABLE) {
			ring_full = true;
			break;
		}
		struct pkt_buf *buf = bufs[accepted++];
		if (unlikely(buf->len > AFP_TX_MAX_FRAME_BYTES)) {
			too_long++; /* taken and freed, never fits a slot */
			continue;
		}
		memcpy((uint8_t *)hdr + AFP_TX_DATA_OFFSET, pkt_data(buf), buf->len);
		hdr->tp_len = buf->len;
		/* The release store publishes data and tp_len before the status; it pairs with
		 * the kernel's read of tp_status (followed by a read barrier) in the send path. */
		__atomic_store_n(&hdr->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		bytes += buf->len;
		queued++;
		if (++q->next == q->num_frames)
			q->next = 0;
	}

	/* 2. One kick for the batch (MSG_DONTWAIT: return before the frames are on the wire). A
	 * full ring is kicked too: a kick that failed earlier may have left frames requested. */
	if (queued || ring_full) {
		if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
		    errno != ENOBUFS && errno != EINTR)
			LOG_WARN_RL("af_packet", "%s: tx kick failed: %s", dev->name,
				    strerror(errno));
	}
	/* 3. Accepted buffers are copied, hence sent: back to their pools. */
	if (accepted)
		pkt_buf_free_batch(bufs, accepted);
	if (queued)
		afp_counters_add(&q->counters, queued, bytes, 0);
	if (unlikely(too_long))
		LOG_WARN_RL("af_packet", "%s: %u frame(s) longer than %zu bytes not sent",
			    dev->name, too_long, AFP_TX_MAX_FRAME_BYTES);
	return accepted;
}

/* ------------------------------------------------------------------------------------------ */
/* Control path                                                                               */
/* ------------------------------------------------------------------------------------------ */

static void afp_read_stats(struct ixy_device *dev, struct ixy_stats *stats)
{
	struct afp_port *port = to_afp(dev);
	memset(stats, 0, sizeof(*stats));
	for (uint16_t i = 0; i < dev->rx_queues; i++) {
		const struct afp_counters *c = &port->rx[i].counters;
		stats->rx_packets += __atomic_load_n(&c->packets, __ATOMIC_RELAXED);
		stats->rx_bytes += __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
		stats->rx_length_errors += __atomic_load_n(&c->errors, __ATOMIC_RELAXED);
	}
	for (uint16_t i = 0; i < dev->tx_queues; i++) {
		const struct afp_counters *c = &port->tx[i].counters;
		stats->tx_packets += __atomic_load_n(&c->packets, __ATOMIC_RELAXED);
		stats->tx_bytes += __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
	}
	/* Frames the kernel dropped because the ring was full. PACKET_STATISTICS returns the
	 * counts since the last call and clears them (packet_mmap, "TP_STATUS_LOSING"), so sum
	 * them here, under the lock, as read_stats may run on several threads. */
	pthread_mutex_lock(&port->ctl_lock);
	for (uint16_t i = 0; i < dev->rx_queues; i++) {
		struct tpacket_stats_v3 st;
		socklen_t len = sizeof(st);
		if (getsockopt(port->rx[i].fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
			port->rx_dropped += st.tp_drops;
	}
	stats->rx_dropped = port->rx_dropped;
	pthread_mutex_unlock(&port->ctl_lock);
}

static int afp_ifreq(struct afp_port *port, unsigned long request, struct ifreq *ifr)
{
	static_assert(sizeof(ifr->ifr_name) == sizeof(port->ifname), "IFNAMSIZ both");
	memcpy(ifr->ifr_name, port->ifname, sizeof(port->ifname));
	return ioctl(port->ctl_fd, request, ifr) < 0 ? -errno : 0;
}

/* Socket filter (classic BPF, Documentation/networking/filter.rst) for promiscuous mode off:
 * drop frames the kernel classified as for another host (packet type PACKET_OTHERHOST, set by
 * eth_type_trans() when the destination MAC is not ours and not group), accept the rest whole. */
static int afp_set_host_filter(int fd, bool on)
{
	static struct sock_filter insns[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_AD_OFF + SKF_AD_PKTTYPE),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OTHERHOST, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0),	    /* other host: drop */
	    BPF_STMT(BPF_RET | BPF_K, 0xffffffffu), /* accept all bytes */
	};
	static const struct sock_fprog prog = {.len = ARRAY_SIZE(insns), .filter = insns};
	int rc, unused = 0;
	if (on)
		rc = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
	else /* socket(7): the value is ignored, but setsockopt() wants an int's worth */
		rc = setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof(unused));
	if (rc < 0 && !(errno == ENOENT && !on)) /* detaching no filter is fine */
		return -errno;
	return 0;
}

static int afp_set_promisc(struct ixy_device *dev, bool on)
{
	struct afp_port *port = to_afp(dev);
	int err = 0;
	pthread_mutex_lock(&port->ctl_lock);
	if (dev->promisc == on)
		goto out;
	/* packet(7): a PACKET_MR_PROMISC membership holds the interface promiscuous while the
	 * socket lives; the kernel counts memberships, so we add at most one. */
	struct packet_mreq mreq = {.mr_ifindex = port->ifindex, .mr_type = PACKET_MR_PROMISC};
	if (setsockopt(port->ctl_fd, SOL_PACKET,
		       on ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP, &mreq,
		       sizeof(mreq)) < 0) {
		err = -errno;
		LOG_ERR("af_packet", "%s: promiscuous %s: %s", dev->name, on ? "on" : "off",
			strerror(errno));
		goto out;
	}
	for (uint16_t i = 0; i < dev->rx_queues; i++) {
		err = afp_set_host_filter(port->rx[i].fd, !on);
		if (err) {
			LOG_ERR("af_packet", "%s: socket filter: %s", dev->name, strerror(-err));
			goto err_filters;
		}
	}
	dev->promisc = on;
	goto out;

err_filters: /* back to the old state: filters as they were, membership undone */
	for (uint16_t i = 0; i < dev->rx_queues; i++)
		afp_set_host_filter(port->rx[i].fd, on);
	setsockopt(port->ctl_fd, SOL_PACKET, on ? PACKET_DROP_MEMBERSHIP : PACKET_ADD_MEMBERSHIP,
		   &mreq, sizeof(mreq));
out:
	pthread_mutex_unlock(&port->ctl_lock);
	return err;
}

/* Link speed from ethtool, Mbit/s; 0 when unknown. ETHTOOL_GLINKSETTINGS first (a handshake:
 * the kernel answers a request with 0 mask words with the negated number it wants, see
 * linux/ethtool.h), then the older ETHTOOL_GSET. */
static uint32_t afp_link_speed(struct afp_port *port)
{
	struct {
		struct ethtool_link_settings s;
		uint32_t masks[3 * 127]; /* three bitmaps of at most 127 words each */
	} req;
	struct ifreq ifr;
	memset(&req, 0, sizeof(req));
	req.s.cmd = ETHTOOL_GLINKSETTINGS;
	ifr.ifr_data = (char *)&req;
	if (afp_ifreq(port, SIOCETHTOOL, &ifr) == 0 && req.s.link_mode_masks_nwords < 0) {
		int8_t nwords = (int8_t)-req.s.link_mode_masks_nwords;
		memset(&req, 0, sizeof(req));
		req.s.cmd = ETHTOOL_GLINKSETTINGS;
		req.s.link_mode_masks_nwords = nwords;
		ifr.ifr_data = (char *)&req;
		if (afp_ifreq(port, SIOCETHTOOL, &ifr) == 0)
			return req.s.speed == (uint32_t)SPEED_UNKNOWN ? 0 : req.s.speed;
	}
	struct ethtool_cmd cmd = {.cmd = ETHTOOL_GSET};
	ifr.ifr_data = (char *)&cmd;
	if (afp_ifreq(port, SIOCETHTOOL, &ifr) == 0) {
		uint32_t speed = ethtool_cmd_speed(&cmd);
		return speed == (uint32_t)SPEED_UNKNOWN ? 0 : speed;
	}
	return 0;
}

static int afp_get_link(struct ixy_device *dev, struct ixy_link *link)
{
	struct afp_port *port = to_afp(dev);
	struct ifreq ifr;
	int err = afp_ifreq(port, SIOCGIFFLAGS, &ifr);
	if (err)
		return err;
	/* netdevice(7): IFF_RUNNING is the operational state (carrier), IFF_UP only the admin. */
	link->up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
	link->speed_mbps = link->up ? afp_link_speed(port) : 0;
	return 0;
}

static int afp_get_mac(struct ixy_device *dev, uint8_t mac[ETHER_ADDR_LEN])
{
	struct ifreq ifr;
	int err = afp_ifreq(to_afp(dev), SIOCGIFHWADDR, &ifr);
	if (!err)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, ETHER_ADDR_LEN);
	return err;
}

/* May fail where the interface refuses a new address while up (-EBUSY) or at all. */
static int afp_set_mac(struct ixy_device *dev, const uint8_t mac[ETHER_ADDR_LEN])
{
	struct afp_port *port = to_afp(dev);
	struct ifreq ifr;
	int err = afp_ifreq(port, SIOCGIFHWADDR, &ifr); /* keeps the hardware type */
	if (err)
		return err;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, ETHER_ADDR_LEN);
	err = afp_ifreq(port, SIOCSIFHWADDR, &ifr);
	if (err)
		LOG_WARN("af_packet", "%s: cannot set MAC address: %s", dev->name, strerror(-err));
	return err;
}

/* Tear down whatever open() set up; fds are -1 and rings NULL where not set up. */
static void afp_close(struct ixy_device *dev)
{
	struct afp_port *port = to_afp(dev);
	for (uint16_t i = 0; i < IXY_MAX_QUEUES; i++) {
		if (port->rx[i].ring)
			munmap(port->rx[i].ring, port->rx[i].ring_bytes);
		if (port->rx[i].fd >= 0)
			close(port->rx[i].fd);
		if (port->tx[i].ring)
			munmap(port->tx[i].ring, port->tx[i].ring_bytes);
		if (port->tx[i].fd >= 0)
			close(port->tx[i].fd);
	}
	if (port->ctl_fd >= 0)
		close(port->ctl_fd); /* drops the promiscuous membership */
	mempool_free(port->pool);
	pthread_mutex_destroy(&port->ctl_lock);
	free(port);
}

static const struct ixy_device_ops afp_ops = {
    .driver_name = "af_packet",
    .rx_batch = afp_rx_batch,
    .tx_batch = afp_tx_batch,
    .read_stats = afp_read_stats,
    .set_promisc = afp_set_promisc,
    .get_link = afp_get_link,
    .get_mac = afp_get_mac,
    .set_mac = afp_set_mac,
    .close = afp_close,
};

/* ------------------------------------------------------------------------------------------ */
/* Opening                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static int afp_setsockopt_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno : 0;
}

static int afp_bind(int fd, int ifindex, uint16_t protocol)
{
	struct sockaddr_ll ll = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(protocol),
	    .sll_ifindex = ifindex,
	};
	return bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0 ? -errno : 0;
}

/*
 * Set up rx queue `index`. Steps in the order packet_mmap gives ("How to use mmap() directly to
 * improve capture process"), with the socket created for protocol 0 so it receives nothing
 * until bind() names the interface, and the filter in place before the first frame.
 * *fanout_id is the group the first queue created (when rx_queues > 1). Returns 0 or -errno.
 */
static int afp_rx_queue_open(struct afp_port *port, uint16_t index, uint32_t ring_frames,
			     uint16_t *fanout_id)
{
	struct afp_rx_queue *q = &port->rx[index];
	const char *step = "socket";
	int err;
	q->fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (q->fd < 0) {
		err = -errno;
		goto fail;
	}
	/* 1. TPACKET_V3 (packet_mmap, "What TPACKET versions are available"). */
	step = "PACKET_VERSION";
	err = afp_setsockopt_int(q->fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3);
	if (err)
		goto fail;
	/* 2. Promiscuous mode starts off: only frames for us. */
	step = "SO_ATTACH_FILTER";
	err = afp_set_host_filter(q->fd, true);
	if (err)
		goto fail;
	/* 3. Not our own transmissions (packet(7), PACKET_IGNORE_OUTGOING, Linux 4.20): without
	 * it a tx socket not bypassing the qdisc would loop every frame back to us. */
	if (afp_setsockopt_int(q->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1))
		LOG_WARN("af_packet", "%s: PACKET_IGNORE_OUTGOING unsupported: rx sees our tx",
			 port->ixy.name);
	/* 4. The ring (packet_mmap, "PACKET_MMAP settings"; V3 fields: "AF_PACKET TPACKET_V3
	 * example"): tp_frame_nr must equal frames per block times blocks. */
	uint32_t blocks = (uint32_t)(((uint64_t)ring_frames * AFP_RX_NOMINAL_FRAME_BYTES +
				      AFP_RX_BLOCK_BYTES - 1) /
				     AFP_RX_BLOCK_BYTES);
	q->num_blocks = MAX(blocks, AFP_RX_MIN_BLOCKS);
	struct tpacket_req3 req = {
	    .tp_block_size = AFP_RX_BLOCK_BYTES,
	    .tp_block_nr = q->num_blocks,
	    .tp_frame_size = AFP_RX_NOMINAL_FRAME_BYTES,
	    .tp_frame_nr = q->num_blocks * (AFP_RX_BLOCK_BYTES / AFP_RX_NOMINAL_FRAME_BYTES),
	    .tp_retire_blk_tov = AFP_RX_BLOCK_TIMEOUT_MS,
	    .tp_feature_req_word = TP_FT_REQ_FILL_RXHASH, /* hv1.tp_rxhash -> rss_hash */
	};
	step = "PACKET_RX_RING";
	if (setsockopt(q->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		err = -errno;
		goto fail;
	}
	/* 5. One mapping for the whole ring ("Mapping and use of the circular buffer"). */
	step = "mmap";
	q->ring_bytes = (size_t)q->num_blocks * AFP_RX_BLOCK_BYTES;
	void *ring = mmap(NULL, q->ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, q->fd, 0);
	if (ring == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	q->ring = ring;
	/* 6. Every protocol, on this interface only. */
	step = "bind";
	err = afp_bind(q->fd, port->ifindex, ETH_P_ALL);
	if (err)
		goto fail;
	/* 7. Several queues: one fanout group spreading flows by hash ("AF_PACKET fanout mode").
	 * The first socket asks the kernel for an unused group id (PACKET_FANOUT_FLAG_UNIQUEID,
	 * packet(7)), which the others then join; joining needs a bound socket. */
	if (port->ixy.rx_queues > 1) {
		step = "PACKET_FANOUT";
		int arg = index == 0 ? (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_UNIQUEID) << 16
				     : *fanout_id | PACKET_FANOUT_HASH << 16;
		err = afp_setsockopt_int(q->fd, SOL_PACKET, PACKET_FANOUT, arg);
		if (err)
			goto fail;
		if (index == 0) {
			socklen_t len = sizeof(arg);
			if (getsockopt(q->fd, SOL_PACKET, PACKET_FANOUT, &arg, &len) < 0) {
				err = -errno;
				goto fail;
			}
			*fanout_id = (uint16_t)(arg & 0xffff);
		}
	}
	return 0;
fail:
	LOG_ERR("af_packet", "%s: rx queue %u: %s: %s", port->ixy.name, index, step,
		strerror(-err));
	return err; /* afp_close() releases fd and ring */
}

/*
 * Set up tx queue `index` (packet_mmap, "How to use mmap() directly to improve transmission
 * process"): protocol 0 so the socket never receives, a V2 ring, bind, mmap. Returns 0 or -errno.
 */
static int afp_tx_queue_open(struct afp_port *port, uint16_t index, uint32_t ring_frames)
{
	struct afp_tx_queue *q = &port->tx[index];
	const char *step = "socket";
	int err;
	q->fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (q->fd < 0) {
		err = -errno;
		goto fail;
	}
	step = "PACKET_VERSION";
	err = afp_setsockopt_int(q->fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2);
	if (err)
		goto fail;
	/* Straight to the driver, past the qdisc (packet_mmap, "PACKET_QDISC_BYPASS"): less work
	 * per frame; a full device queue then drops instead of queueing. Optional. */
	if (afp_setsockopt_int(q->fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1))
		LOG_INFO("af_packet", "%s: PACKET_QDISC_BYPASS unsupported, using the qdisc",
			 port->ixy.name);
	/* packet(7), PACKET_LOSS: a malformed frame (too short or long for the interface) is
	 * skipped and its slot freed instead of stopping the ring at TP_STATUS_WRONG_FORMAT. */
	step = "PACKET_LOSS";
	err = afp_setsockopt_int(q->fd, SOL_PACKET, PACKET_LOSS, 1);
	if (err)
		goto fail;
	uint32_t frames =
	    ALIGN_UP(MAX(ring_frames, AFP_TX_FRAMES_PER_BLOCK), AFP_TX_FRAMES_PER_BLOCK);
	struct tpacket_req req = {
	    .tp_block_size = AFP_TX_BLOCK_BYTES,
	    .tp_block_nr = frames / AFP_TX_FRAMES_PER_BLOCK,
	    .tp_frame_size = AFP_TX_FRAME_BYTES,
	    .tp_frame_nr = frames,
	};
	step = "PACKET_TX_RING";
	if (setsockopt(q->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0) {
		err = -errno;
		goto fail;
	}
	step = "bind";
	err = afp_bind(q->fd, port->ifindex, 0);
	if (err)
		goto fail;
	step = "mmap";
	q->num_frames = frames;
	q->ring_bytes = (size_t)frames * AFP_TX_FRAME_BYTES;
	void *ring = mmap(NULL, q->ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, q->fd, 0);
	if (ring == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	q->ring = ring;
	return 0;
fail:
	LOG_ERR("af_packet", "%s: tx queue %u: %s: %s", port->ixy.name, index, step,
		strerror(-err));
	return err;
}

/* Bring the interface up if it is down (a fresh veth is). */
static int afp_link_up(struct afp_port *port)
{
	struct ifreq ifr;
	int err = afp_ifreq(port, SIOCGIFFLAGS, &ifr);
	if (err || (ifr.ifr_flags & IFF_UP))
		return err;
	ifr.ifr_flags |= IFF_UP;
	err = afp_ifreq(port, SIOCSIFFLAGS, &ifr);
	if (!err)
		LOG_INFO("af_packet", "%s: link was down, brought it up", port->ixy.name);
	return err;
}

struct ixy_device *af_packet_open(const char *ifname, const struct ixy_device_config *cfg)
{
	static const struct ixy_device_config defaults = {0};
	if (!cfg)
		cfg = &defaults;
	uint16_t rx_queues = cfg->rx_queues ? cfg->rx_queues : 1;
	uint16_t tx_queues = cfg->tx_queues ? cfg->tx_queues : 1;
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ || rx_queues > IXY_MAX_QUEUES ||
	    tx_queues > IXY_MAX_QUEUES) {
		LOG_ERR("af_packet", "bad interface name or queue count (%u rx, %u tx, at most %u)",
			rx_queues, tx_queues, IXY_MAX_QUEUES);
		errno = EINVAL;
		return NULL;
	}
	/* 1. The interface must exist (in our network namespace). */
	int ifindex = (int)if_nametoindex(ifname);
	if (ifindex == 0) {
		LOG_ERR("af_packet", "%s: no such network interface", ifname);
		errno = ENODEV;
		return NULL;
	}
	struct afp_port *port = calloc(1, sizeof(*port));
	if (!port) {
		errno = ENOMEM;
		return NULL;
	}
	int err = -pthread_mutex_init(&port->ctl_lock, NULL);
	if (err) {
		free(port);
		errno = -err;
		return NULL;
	}
	port->ixy.ops = &afp_ops;
	snprintf(port->ixy.name, sizeof(port->ixy.name), "%s", ifname);
	port->ixy.rx_queues = rx_queues;
	port->ixy.tx_queues = tx_queues;
	port->ixy.numa_node = -1;
	port->ifindex = ifindex;
	memcpy(port->ifname, ifname, strlen(ifname) + 1); /* checked shorter than IFNAMSIZ */
	port->ctl_fd = -1;
	for (uint16_t i = 0; i < IXY_MAX_QUEUES; i++)
		port->rx[i].fd = port->tx[i].fd = -1;

	/* 2. Control socket; needs CAP_NET_RAW like every packet socket. */
	port->ctl_fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (port->ctl_fd < 0) {
		err = -errno;
		LOG_ERR("af_packet", "%s: packet socket: %s%s", ifname, strerror(errno),
			errno == EPERM ? " (needs CAP_NET_RAW)" : "");
		goto err_port;
	}
	/* 3. Link up, the rx pool, the queues. */
	err = afp_link_up(port);
	if (err) {
		LOG_ERR("af_packet", "%s: cannot bring the link up: %s", ifname, strerror(-err));
		goto err_port;
	}
	port->pool = mempool_create(rx_queues * AFP_POOL_BUFS_PER_RX_QUEUE, 0);
	if (!port->pool) {
		err = -errno;
		LOG_ERR("af_packet", "%s: rx buffer pool: %s", ifname, strerror(errno));
		goto err_port;
	}
	uint16_t fanout_id = 0;
	uint32_t rx_frames = cfg->rx_ring_size ? cfg->rx_ring_size : AFP_RX_DEFAULT_FRAMES;
	for (uint16_t i = 0; i < rx_queues; i++) {
		err = afp_rx_queue_open(port, i, rx_frames, &fanout_id);
		if (err)
			goto err_port;
	}
	uint32_t tx_frames = cfg->tx_ring_size ? cfg->tx_ring_size : AFP_TX_DEFAULT_FRAMES;
	for (uint16_t i = 0; i < tx_queues; i++) {
		err = afp_tx_queue_open(port, i, tx_frames);
		if (err)
			goto err_port;
	}
	LOG_INFO("af_packet",
		 "%s: %u rx queue(s) of %u x %u KiB blocks, %u tx queue(s) of %u "
		 "frames",
		 ifname, rx_queues, port->rx[0].num_blocks, AFP_RX_BLOCK_BYTES / 1024, tx_queues,
		 port->tx[0].num_frames);
	return &port->ixy;

err_port:
	afp_close(&port->ixy); /* releases whatever was set up */
	errno = -err;
	return NULL;
}
