/*
 * virtio_regs.h: register offsets, bits and DMA structures of a legacy VirtIO network device,
 * private to virtio.c.
 *
 * Written from the VirtIO 1.1 specification (OASIS, cs01); every definition names the section it
 * comes from. Only the legacy interface is described: BAR0 is an I/O-port BAR with the fixed
 * register block of 4.1.4.8, queues use the legacy split virtqueue layout of 2.6.2, and all
 * multi-byte fields are in the guest's native byte order (2.4.3, 2.6.3), little-endian on x86.
 */
#ifndef IXYD_VIRTIO_REGS_H
#define IXYD_VIRTIO_REGS_H

#include <stdint.h>

#include "compiler.h"

/* --- Legacy PCI register block in BAR0 (4.1.4.8 "Legacy Interfaces: A Note on PCI Device
 * Layout"). Offsets in bytes; width in the comment. --- */
#define VIRTIO_PCI_DEVICE_FEATURES 0x00 /* 32, RO: feature bits 0..31 the device offers */
#define VIRTIO_PCI_DRIVER_FEATURES 0x04 /* 32, RW: feature bits the driver accepts */
#define VIRTIO_PCI_QUEUE_ADDRESS   0x08 /* 32, RW: page frame number (addr >> 12) of the queue */
#define VIRTIO_PCI_QUEUE_SIZE	   0x0c /* 16, RO: entries of the selected queue, 0 = none */
#define VIRTIO_PCI_QUEUE_SELECT	   0x0e /* 16, RW: queue index the two fields above refer to */
#define VIRTIO_PCI_QUEUE_NOTIFY	   0x10 /* 16, RW: write a queue index to notify the device */
#define VIRTIO_PCI_DEVICE_STATUS   0x12 /* 8, RW: 2.1 status bits; writing 0 resets */
#define VIRTIO_PCI_ISR_STATUS	   0x13 /* 8, RO: interrupt status, cleared on read */
/* Device-specific configuration follows at 0x14, or at 0x18 when MSI-X is enabled (two more
 * 16-bit vector registers come first). We never enable MSI-X, so it is at 0x14 (4.1.4.8). */
#define VIRTIO_PCI_DEVICE_CONFIG 0x14
/* QUEUE_ADDRESS counts 4096-byte pages (4.1.4.8, 4.1.5.1.3.1). */
#define VIRTIO_PCI_QUEUE_ADDR_SHIFT 12

/* --- Device status bits (2.1). --- */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01 /* the guest has noticed the device */
#define VIRTIO_STATUS_DRIVER	  0x02 /* the guest knows how to drive it */
#define VIRTIO_STATUS_DRIVER_OK	  0x04 /* the driver is set up and ready */
#define VIRTIO_STATUS_FEATURES_OK 0x08 /* not used by legacy devices (3.1.2) */
#define VIRTIO_STATUS_NEEDS_RESET 0x40 /* the device hit an error it cannot recover from */
#define VIRTIO_STATUS_FAILED	  0x80 /* the driver gave up on the device */

/* --- Feature bits: network device (5.1.3, legacy 5.1.3.2) and device-independent bits
 * (6 "Reserved Feature Bits", legacy ones in 6.3). Bit numbers; only bits 0..31 exist in the
 * legacy interface (2.2.3). --- */
#define VIRTIO_NET_F_CSUM	    0  /* device handles partial checksums on tx */
#define VIRTIO_NET_F_GUEST_CSUM	    1  /* driver handles partial checksums on rx */
#define VIRTIO_NET_F_MAC	    5  /* config space has a valid mac */
#define VIRTIO_NET_F_GSO	    6  /* legacy: any GSO type (5.1.3.2) */
#define VIRTIO_NET_F_MRG_RXBUF	    15 /* rx buffers may be merged; adds num_buffers */
#define VIRTIO_NET_F_STATUS	    16 /* config space has a link status field */
#define VIRTIO_NET_F_CTRL_VQ	    17 /* control virtqueue exists */
#define VIRTIO_NET_F_CTRL_RX	    18 /* control queue takes rx mode commands (promisc) */
#define VIRTIO_NET_F_CTRL_VLAN	    19 /* control queue takes VLAN filter commands */
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21 /* driver can send gratuitous packets */
#define VIRTIO_NET_F_MQ		    22 /* multiple queue pairs */
#define VIRTIO_NET_F_CTRL_MAC_ADDR  23 /* MAC set through the control queue only */
#define VIRTIO_F_NOTIFY_ON_EMPTY    24 /* legacy: notify even when suppressed if ring empty */
#define VIRTIO_F_ANY_LAYOUT	    27 /* legacy: framing independent of descriptors (2.6.4.3) */
#define VIRTIO_F_INDIRECT_DESC	    28 /* indirect descriptors (2.6.5.3) */
#define VIRTIO_F_EVENT_IDX	    29 /* used_event/avail_event suppression (2.6.7, 2.6.10) */

#define VIRTIO_FEATURE(bit) (UINT32_C(1) << (bit))

/* --- Network device configuration (5.1.4, legacy layout 5.1.4.3), relative to
 * VIRTIO_PCI_DEVICE_CONFIG. Native endian in the legacy interface. --- */
#define VIRTIO_NET_CONFIG_MAC	 0   /* u8[6], valid with VIRTIO_NET_F_MAC */
#define VIRTIO_NET_CONFIG_STATUS 6   /* u16, valid with VIRTIO_NET_F_STATUS */
#define VIRTIO_NET_S_LINK_UP	 0x1 /* status bit: link is up (5.1.4) */

/* --- Virtqueue indexes of a network device with one queue pair (5.1.2): receiveq1 = 0,
 * transmitq1 = 1, and the control queue right after the last pair (index 2 without MQ). --- */
#define VIRTIO_NET_QUEUE_RX   0
#define VIRTIO_NET_QUEUE_TX   1
#define VIRTIO_NET_QUEUE_CTRL 2

/* --- Split virtqueue structures (2.6.5, 2.6.6, 2.6.8). --- */

/* Descriptor table entry (2.6.5). */
struct vring_desc {
	uint64_t addr;	/* bus address of the buffer */
	uint32_t len;	/* length in bytes */
	uint16_t flags; /* VRING_DESC_F_* */
	uint16_t next;	/* index of the next descriptor when flags has NEXT */
};
static_assert(sizeof(struct vring_desc) == 16, "2.6.5: a descriptor is 16 bytes");
static_assert(offsetof(struct vring_desc, len) == 8, "2.6.5: len at byte 8");
static_assert(offsetof(struct vring_desc, flags) == 12, "2.6.5: flags at byte 12");
static_assert(offsetof(struct vring_desc, next) == 14, "2.6.5: next at byte 14");

#define VRING_DESC_F_NEXT     0x1 /* buffer continues in the descriptor at next (2.6.5) */
#define VRING_DESC_F_WRITE    0x2 /* device writes (rx), otherwise reads (tx) (2.6.5) */
#define VRING_DESC_F_INDIRECT 0x4 /* not used here (2.6.5.3) */

/* Available ring (2.6.6): the driver's side. ring[] has queue-size entries, followed by
 * used_event (u16), which only matters with VIRTIO_F_EVENT_IDX (not negotiated here). */
struct vring_avail {
	uint16_t flags; /* VRING_AVAIL_F_* */
	uint16_t idx;	/* where the driver puts the next entry, modulo 2^16 (free running) */
	uint16_t ring[];
};
static_assert(sizeof(struct vring_avail) == 4, "2.6.6: flags and idx, then the ring");

/* Tells the device not to interrupt when it consumes a buffer (2.6.7): we poll. */
#define VRING_AVAIL_F_NO_INTERRUPT 0x1

/* Used ring element (2.6.8). */
struct vring_used_elem {
	uint32_t id;  /* head descriptor index of the used chain (u32 for padding reasons) */
	uint32_t len; /* bytes written into the chain by the device (0 for tx) */
};
static_assert(sizeof(struct vring_used_elem) == 8, "2.6.8: a used element is 8 bytes");

/* Used ring (2.6.8): the device's side, followed by avail_event (u16, EVENT_IDX only). */
struct vring_used {
	uint16_t flags; /* VRING_USED_F_* */
	uint16_t idx;	/* where the device puts the next element, modulo 2^16 */
	struct vring_used_elem ring[];
};
static_assert(sizeof(struct vring_used) == 4, "2.6.8: flags and idx, then the ring");
static_assert(offsetof(struct vring_used, ring) == 4, "2.6.8: ring right after idx");

/* Set by the device when it does not need a notification for new available buffers
 * (2.6.10); a hint, so the driver must re-check it after publishing avail->idx. */
#define VRING_USED_F_NO_NOTIFY 0x1

/* Legacy alignment of the used ring: the queue is one physically contiguous area, the used
 * ring starting on the next 4096-byte boundary after the available ring (2.6.2). */
#define VRING_LEGACY_ALIGN 4096u
/* Largest queue size the split ring allows (2.6: Queue Size up to 32768). */
#define VRING_MAX_SIZE 32768u

/* Bytes of a legacy split virtqueue of queue_size entries (2.6.2):
 *   descriptor table        16 * queue_size
 *   available ring          2 * (3 + queue_size)     flags, idx, ring[], used_event
 *   -- padding to VRING_LEGACY_ALIGN --
 *   used ring               2 * 3 + 8 * queue_size   flags, idx, ring[], avail_event */
static inline uint32_t vring_legacy_used_offset(uint32_t queue_size)
{
	return ALIGN_UP(16u * queue_size + 2u * (3u + queue_size), VRING_LEGACY_ALIGN);
}

static inline uint32_t vring_legacy_size_bytes(uint32_t queue_size)
{
	return vring_legacy_used_offset(queue_size) +
	       ALIGN_UP(2u * 3u + 8u * queue_size, VRING_LEGACY_ALIGN);
}

/* --- Network packet header (5.1.6). Legacy without VIRTIO_NET_F_MRG_RXBUF: 10 bytes, no
 * num_buffers field (5.1.6.1 "Legacy Interface: Device Operation"). Precedes every frame on
 * both rx and tx. --- */
struct virtio_net_hdr {
	uint8_t flags;	      /* VIRTIO_NET_HDR_F_*: 0, we ask for no checksum offload */
	uint8_t gso_type;     /* VIRTIO_NET_HDR_GSO_NONE: we negotiate no GSO */
	uint16_t hdr_len;     /* ignored without GSO */
	uint16_t gso_size;    /* ignored without GSO */
	uint16_t csum_start;  /* ignored without NEEDS_CSUM */
	uint16_t csum_offset; /* ignored without NEEDS_CSUM */
} __packed;
static_assert(sizeof(struct virtio_net_hdr) == 10, "5.1.6.1: legacy header is 10 bytes");

#define VIRTIO_NET_HDR_GSO_NONE 0

/* --- Control virtqueue (5.1.6.5). A command is: class (u8), command (u8) in a device-readable
 * buffer, command-specific data in a device-readable buffer, then one device-writable ack byte.
 * We always use three descriptors, which satisfies the legacy framing rule that header, data
 * and ack each sit in their own descriptor without VIRTIO_F_ANY_LAYOUT (5.1.6.6). --- */
struct virtio_net_ctrl_hdr {
	uint8_t class_;
	uint8_t command;
} __packed;
static_assert(sizeof(struct virtio_net_ctrl_hdr) == 2, "5.1.6.5: class and command bytes");

#define VIRTIO_NET_OK  0 /* ack value: command done (5.1.6.5) */
#define VIRTIO_NET_ERR 1 /* ack value: command failed */

/* Receive filtering class (5.1.6.5.1), needs VIRTIO_NET_F_CTRL_RX; data is one u8, 0 = off. */
#define VIRTIO_NET_CTRL_RX	    0
#define VIRTIO_NET_CTRL_RX_PROMISC  0
#define VIRTIO_NET_CTRL_RX_ALLMULTI 1

/* MAC class (5.1.6.5.2); ADDR_SET needs VIRTIO_NET_F_CTRL_MAC_ADDR, data is u8[6]. */
#define VIRTIO_NET_CTRL_MAC	     1
#define VIRTIO_NET_CTRL_MAC_ADDR_SET 1

#endif
