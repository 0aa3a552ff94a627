/*
 * fake_dev.h: an in-memory device for dataplane unit tests. rx is never polled (tests call
 * dp_process_rx() directly); tx records every frame it accepts, up to tx_limit per call.
 */
#ifndef IXYD_TEST_FAKE_DEV_H
#define IXYD_TEST_FAKE_DEV_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"

#define FAKE_TX_MAX 4096

struct fake_dev {
	struct ixy_device base;
	uint8_t mac[ETHER_ADDR_LEN];
	uint32_t tx_limit; /* frames accepted per tx_batch call */
	uint32_t n_tx;
	struct pkt_buf *tx[FAKE_TX_MAX];
};

static uint32_t fake_rx_batch(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
			      uint32_t n)
{
	(void)dev, (void)queue, (void)bufs, (void)n;
	return 0;
}

static uint32_t fake_tx_batch(struct ixy_device *dev, uint16_t queue, struct pkt_buf **bufs,
			      uint32_t n)
{
	struct fake_dev *f = container_of(dev, struct fake_dev, base);
	(void)queue;
	uint32_t take = n < f->tx_limit ? n : f->tx_limit;
	for (uint32_t i = 0; i < take && f->n_tx < FAKE_TX_MAX; i++)
		f->tx[f->n_tx++] = bufs[i];
	return take;
}

static void fake_read_stats(struct ixy_device *dev, struct ixy_stats *st)
{
	(void)dev;
	memset(st, 0, sizeof(*st));
}

static int fake_set_promisc(struct ixy_device *dev, bool on)
{
	dev->promisc = on;
	return 0;
}

static int fake_get_link(struct ixy_device *dev, struct ixy_link *link)
{
	(void)dev;
	link->up = true;
	link->speed_mbps = 10000;
	return 0;
}

static int fake_get_mac(struct ixy_device *dev, uint8_t mac[ETHER_ADDR_LEN])
{
	memcpy(mac, container_of(dev, struct fake_dev, base)->mac, ETHER_ADDR_LEN);
	return 0;
}

static int fake_set_mac(struct ixy_device *dev, const uint8_t mac[ETHER_ADDR_LEN])
{
	memcpy(container_of(dev, struct fake_dev, base)->mac, mac, ETHER_ADDR_LEN);
	return 0;
}

static void fake_close(struct ixy_device *dev)
{
	struct fake_dev *f = container_of(dev, struct fake_dev, base);
	pkt_buf_free_batch(f->tx, f->n_tx);
	free(f);
}

static const struct ixy_device_ops fake_ops = {
    .driver_name = "fake",
    .rx_batch = fake_rx_batch,
    .tx_batch = fake_tx_batch,
    .read_stats = fake_read_stats,
    .set_promisc = fake_set_promisc,
    .get_link = fake_get_link,
    .get_mac = fake_get_mac,
    .set_mac = fake_set_mac,
    .close = fake_close,
};

/* A device with MAC 02:00:00:00:00:id, tx_queues queues, accepting everything. */
static inline struct fake_dev *fake_dev_create(uint8_t id, uint16_t tx_queues)
{
	struct fake_dev *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->base.ops = &fake_ops;
	snprintf(f->base.name, sizeof(f->base.name), "fake%u", id);
	f->base.rx_queues = 1;
	f->base.tx_queues = tx_queues;
	f->base.numa_node = -1;
	uint8_t mac[ETHER_ADDR_LEN] = {0x02, 0, 0, 0, 0, id};
	memcpy(f->mac, mac, sizeof(mac));
	f->tx_limit = UINT32_MAX;
	return f;
}

/* Free what was sent so far and forget it. */
static inline void fake_dev_clear(struct fake_dev *f)
{
	pkt_buf_free_batch(f->tx, f->n_tx);
	f->n_tx = 0;
}

#endif
