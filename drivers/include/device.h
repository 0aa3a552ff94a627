/*
 * device.h: the one device interface every driver implements.
 *
 * A driver defines one `const struct ixy_device_ops` shared by all its devices and embeds
 * `struct ixy_device` as the FIRST member of its own device struct; it gets back to its struct
 * with container_of(). Callers use only the static inline wrappers below.
 *
 * Devices are opened by name: a PCI address ("0000:00:04.0"), whose vendor/device ID picks the
 * driver in device.c (the one place that probes by ID), "af_packet:IFNAME" for a software port
 * on a kernel interface, or a memory-backed port for benchmarks and tests: "pcap:PATH" (replays
 * a pcap file in a loop) and "null:NAME" (receives nothing). See docs/ports.md.
 *
 * Threads: each (device, queue) pair is used by one thread at a time; different queues of a
 * device may be polled by different threads concurrently. read_stats, get_link and get_mac may
 * be called from any thread at any time; set_promisc and set_mac are control-path calls.
 */
#ifndef IXYD_DEVICE_H
#define IXYD_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "mempool.h"
#include "pci.h"

#define IXY_MAX_QUEUES 16
#define ETHER_ADDR_LEN 6

struct ixy_device;

/* Counters accumulated since the device was opened. Drivers whose hardware counters clear on
 * read add them up here. Bytes count frames without the FCS. */
struct ixy_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t rx_dropped;	   /* frames lost for lack of a receive buffer (missed) */
	uint64_t rx_crc_errors;	   /* frames dropped for a bad FCS */
	uint64_t rx_length_errors; /* frames dropped as too short or too long */
};

struct ixy_link {
	bool up;
	uint32_t speed_mbps; /* 0 when down or unknown */
};

struct ixy_device_config {
	uint16_t rx_queues;    /* 0 means 1 */
	uint16_t tx_queues;    /* 0 means 1 */
	uint16_t rx_ring_size; /* descriptors per rx queue; 0: driver default */
	uint16_t tx_ring_size; /* descriptors per tx queue; 0: driver default */
	bool force; /* take a device whose kernel interface is up with addresses/routes */
};

struct ixy_device_ops {
	const char *driver_name;
	/* Receive up to n frames from queue into bufs; returns the number received. The caller
	 * owns the buffers it gets. */
	uint32_t (*rx_batch)(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
			     uint32_t n);
	/* Queue up to n frames for sending on queue; returns the number accepted, a prefix of
	 * bufs. Accepted buffers belong to the driver, which frees them to their pool once sent;
	 * the rest stay with the caller. Every call, including one with n == 0 (bufs may then be
	 * NULL), first returns the buffers of frames already sent to their pools, so a caller
	 * whose port went idle can still get its buffers back. */
	uint32_t (*tx_batch)(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
			     uint32_t n);
	void (*read_stats)(struct ixy_device *dev, struct ixy_stats *stats);
	int (*set_promisc)(struct ixy_device *dev, bool on);
	int (*get_link)(struct ixy_device *dev, struct ixy_link *link);
	int (*get_mac)(struct ixy_device *dev, uint8_t mac[ETHER_ADDR_LEN]);
	int (*set_mac)(struct ixy_device *dev, const uint8_t mac[ETHER_ADDR_LEN]);
	/* Stop the device, free its rings and pools; buffers the caller still holds stay valid
	 * only until then, so return them first. */
	void (*close)(struct ixy_device *dev);
};

struct ixy_device {
	const struct ixy_device_ops *ops;
	char name[64];	    /* PCI address or interface name */
	uint16_t rx_queues; /* queues actually set up */
	uint16_t tx_queues;
	int numa_node;	  /* -1 when unknown */
	bool promisc;	  /* current promiscuous setting */
	int pci_claim_fd; /* set by device.c: the PCI claim held until close, or -1 */
};

/*
 * Open a device by name (PCI address, "af_packet:IFNAME", "pcap:PATH" or "null:NAME") with cfg
 * (NULL: defaults). Returns the device, or NULL with errno: ENODEV (no such device or interface,
 * or no driver for its ID), ENOTSUP (not a network controller), EBUSY (in use by the kernel, see
 * pci_device_open()), ENOMEM (no huge pages), EINVAL (bad name or config), EIO (device did not
 * come up); the software ports' own errors are listed with af_packet_open() and the others below.
 */
struct ixy_device *ixy_device_open(const char *name, const struct ixy_device_config *cfg);
/* Open an already opened PCI device (tests use it with a device model). Same errors. */
struct ixy_device *ixy_device_open_pci(const struct pci_device *pci,
				       const struct ixy_device_config *cfg);
/* Close a device and release its claim; NULL is ignored. */
void ixy_device_close(struct ixy_device *dev);

/*
 * Check, without touching anything, that ixy_device_open(name, cfg) would not be refused for
 * the device itself (PCI: address, class, claimed by another program, kernel interface in use;
 * see pci_device_check()). Programs opening several devices check them all first, so a refusal
 * of the last one does not leave the first ones unbound. Software and memory ports: 0.
 * Returns 0 or -errno.
 */
int ixy_device_check(const char *name, const struct ixy_device_config *cfg);

static inline uint32_t ixy_rx_batch(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
				    uint32_t n)
{
	return dev->ops->rx_batch(dev, queue, bufs, n);
}

static inline uint32_t ixy_tx_batch(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
				    uint32_t n)
{
	return dev->ops->tx_batch(dev, queue, bufs, n);
}

static inline void ixy_read_stats(struct ixy_device *dev, struct ixy_stats *stats)
{
	dev->ops->read_stats(dev, stats);
}

static inline int ixy_set_promisc(struct ixy_device *dev, bool on)
{
	return dev->ops->set_promisc(dev, on);
}

static inline int ixy_get_link(struct ixy_device *dev, struct ixy_link *link)
{
	return dev->ops->get_link(dev, link);
}

static inline int ixy_get_mac(struct ixy_device *dev, uint8_t mac[ETHER_ADDR_LEN])
{
	return dev->ops->get_mac(dev, mac);
}

static inline int ixy_set_mac(struct ixy_device *dev, const uint8_t mac[ETHER_ADDR_LEN])
{
	return dev->ops->set_mac(dev, mac);
}

/* Driver entry points, called only by the probe in device.c. Each returns the device or NULL
 * with errno. */
struct ixy_device *virtio_net_init(const struct pci_device *pci,
				   const struct ixy_device_config *cfg);
struct ixy_device *ixgbe_init(const struct pci_device *pci, const struct ixy_device_config *cfg);

/* Software and memory-backed ports, called by ixy_device_open() for their name prefixes (the
 * argument is the part after the prefix) and by tests directly. Each returns the port or NULL
 * with errno; the port owns its rx buffer pool, in DMA memory like any driver's (a program with
 * only these ports may call memory_configure(MEMORY_IOVA_VA, false) first to do without huge
 * pages). Details in af_packet.c and mem_ports.c.
 *   af_packet_open  ENODEV (no such interface), EPERM (needs CAP_NET_RAW), EINVAL (bad config),
 *                   ENOMEM, other errno of the socket calls.
 *   pcap_port_open  errno of open/read (ENOENT, ...), EINVAL (not a pcap file, corrupt or
 *                   truncated, no usable frame), ENOTSUP (link type not Ethernet), ENOMEM.
 *   null_port_open  EINVAL (empty name or bad config), ENOMEM. */
struct ixy_device *af_packet_open(const char *ifname, const struct ixy_device_config *cfg);
struct ixy_device *pcap_port_open(const char *path, const struct ixy_device_config *cfg);
struct ixy_device *null_port_open(const char *name, const struct ixy_device_config *cfg);

#endif
