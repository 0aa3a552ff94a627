/* ports_test.h: helpers shared by the port tests: closing without device.c, frame patterns,
 * writing pcap files. Header only. */
#ifndef IXYD_TEST_PORTS_H
#define IXYD_TEST_PORTS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "device.h"

/* The tests open ports through their constructors and close them through the ops table, so
 * they do not depend on device.c (whose PCI probe pulls in every PCI driver);
 * test_ports_dispatch covers ixy_device_open()/ixy_device_close() by name. */
static inline void port_close(struct ixy_device *dev)
{
	if (dev)
		dev->ops->close(dev);
}

/* Frame i of a test pattern, len bytes: dst, src, ethertype 0x88b5 (IEEE 802 local
 * experimental), then a payload of (i * 7 + k) & 0xff. Needs len >= 14. */
static inline void pattern_frame(uint8_t *frame, uint32_t len, uint32_t i, const uint8_t dst[6],
				 const uint8_t src[6])
{
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	for (uint32_t k = 14; k < len; k++)
		frame[k] = (uint8_t)(i * 7 + k);
}

struct pcap_writer_opts {
	uint32_t magic;	    /* 0xa1b2c3d4 or 0xa1b23c4d, as written by this host */
	int swapped;	    /* write every field byte-swapped (the other byte order) */
	uint32_t linktype;  /* full LinkType field, with FCS bits if any */
	uint32_t fcs_bytes; /* bytes of FCS appended to each record (0xee) */
};

static inline void pcap_put32(FILE *f, uint32_t v, int swapped)
{
	if (swapped)
		v = __builtin_bswap32(v);
	fwrite(&v, 4, 1, f);
}

static inline void pcap_put16(FILE *f, uint16_t v, int swapped)
{
	if (swapped)
		v = __builtin_bswap16(v);
	fwrite(&v, 2, 1, f);
}

/* Write a pcap file holding frames[i] (lens[i] bytes). Returns 0 or -1. */
static inline int pcap_write(const char *path, const struct pcap_writer_opts *o,
			     uint8_t *const *frames, const uint32_t *lens, uint32_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	pcap_put32(f, o->magic, o->swapped);
	pcap_put16(f, 2, o->swapped);
	pcap_put16(f, 4, o->swapped);
	pcap_put32(f, 0, o->swapped);
	pcap_put32(f, 0, o->swapped);
	pcap_put32(f, 65535, o->swapped);
	pcap_put32(f, o->linktype, o->swapped);
	static const uint8_t fcs[4] = {0xee, 0xee, 0xee, 0xee};
	for (uint32_t i = 0; i < n; i++) {
		pcap_put32(f, 1000 + i, o->swapped);
		pcap_put32(f, i, o->swapped);
		pcap_put32(f, lens[i] + o->fcs_bytes, o->swapped);
		pcap_put32(f, lens[i] + o->fcs_bytes, o->swapped);
		fwrite(frames[i], 1, lens[i], f);
		fwrite(fcs, 1, o->fcs_bytes, f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

#endif
