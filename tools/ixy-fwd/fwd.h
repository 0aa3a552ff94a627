/*
 * fwd.h: the forwarding step of ixy-fwd, reusable by tests: receive one batch on one device,
 * touch every frame, send it out of another.
 *
 * Threads: the caller must own rx_queue of rx_dev and tx_queue of tx_dev (device.h: one thread
 * per device queue at a time).
 */
#ifndef IXYD_FWD_H
#define IXYD_FWD_H

#include <stdint.h>

#include "device.h"

/*
 * Receive up to batch frames from (rx_dev, rx_queue) into bufs (room for batch pointers), read
 * and write back the first byte of each frame (the destination MAC: brings the frame's first
 * cache line in and dirties it, as a real rewrite would, without changing the content), and
 * send them on (tx_dev, tx_queue).
 * Frames the tx ring did not take are freed here and added to *tx_dropped.
 * Returns the number of frames sent. Nothing stays in bufs afterwards.
 */
uint32_t fwd_forward_batch(struct ixy_device *rx_dev, uint16_t rx_queue, struct ixy_device *tx_dev,
			   uint16_t tx_queue, struct pkt_buf **bufs, uint32_t batch,
			   uint64_t *tx_dropped);

#endif
