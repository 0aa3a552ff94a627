/*
 * ixgbe_test.h: what the ixgbe tests share: opening the driver on a model, building and
 * checking frames. Header-only; each test is one program.
 */
#ifndef IXYD_IXGBE_TEST_H
#define IXYD_IXGBE_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "device.h"
#include "ixgbe_model.h"
#include "memory.h"

static const uint8_t test_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x82, 0x59};

/* Memory for models: IOVA = virtual, small pages, no root (see memory.h). */
static inline void test_memory_setup(void)
{
	int err = memory_configure(MEMORY_IOVA_VA, false);
	if (err) {
		fprintf(stderr, "memory_configure: %s\n", strerror(-err));
		exit(2);
	}
}

static inline struct ixgbe_model *test_model(uint16_t device_id, const uint8_t mac[6])
{
	struct ixgbe_model_config cfg = {.device_id = device_id};
	memcpy(cfg.mac, mac ? mac : test_mac, 6);
	struct ixgbe_model *m = ixgbe_model_create(&cfg);
	if (!m) {
		fprintf(stderr, "ixgbe_model_create failed\n");
		exit(2);
	}
	return m;
}

/* Open the driver on model m through the normal probe (device.c). */
static inline struct ixy_device *test_open(struct ixgbe_model *m, const char *addr,
					   const struct ixy_device_config *cfg)
{
	struct pci_device pci;
	ixgbe_model_pci_device(m, addr, &pci);
	return ixy_device_open_pci(&pci, cfg);
}

/* The model recorded no misuse; prints it otherwise. */
#define CHECK_MODEL_OK(m)                                                                          \
	do {                                                                                       \
		const char *err_ = ixgbe_model_error(m);                                           \
		if (err_) {                                                                        \
			fprintf(stderr, "%s:%d: model misuse: %s\n", __FILE__, __LINE__, err_);    \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

/* A UDP/IPv4 frame of len bytes (>= 60) to dst: 10.0.0.1 -> 10.0.0.2, ports 1000 -> 2000,
 * 32-bit sequence number at the start of the payload, the rest a pattern derived from seq.
 * Frames longer than 1514 bytes carry an 802.1Q tag (the largest untagged frame is 1514
 * bytes without FCS, a tagged one 1518). */
static inline void test_frame(uint8_t *f, uint32_t len, const uint8_t dst[6], uint32_t seq)
{
	memset(f, 0, len);
	memcpy(f, dst, 6);
	memcpy(f + 6, test_mac, 6);
	uint32_t l3 = 14;
	if (len > 1514) {
		f[12] = 0x81, f[13] = 0x00, f[14] = 0x00, f[15] = 0x07; /* VLAN 7 */
		l3 = 18;
	}
	f[l3 - 2] = 0x08, f[l3 - 1] = 0x00;
	uint8_t *ip = f + l3;
	uint16_t ip_len = (uint16_t)(len - l3);
	ip[0] = 0x45, ip[2] = (uint8_t)(ip_len >> 8), ip[3] = (uint8_t)ip_len, ip[8] = 64,
	ip[9] = 17;
	ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
	uint8_t *udp = ip + 20;
	udp[0] = 1000 >> 8, udp[1] = 1000 & 0xff, udp[2] = 2000 >> 8, udp[3] = 2000 & 0xff;
	uint16_t udp_len = (uint16_t)(ip_len - 20);
	udp[4] = (uint8_t)(udp_len >> 8), udp[5] = (uint8_t)udp_len;
	uint8_t *payload = udp + 8;
	memcpy(payload, &seq, 4);
	for (uint32_t i = (uint32_t)(payload - f) + 4; i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i);
}

#endif
