/*
 * fwd.c: the forwarding step; see fwd.h.
 */
#include "fwd.h"

#include "compiler.h"

uint32_t fwd_forward_batch(struct ixy_device *rx_dev, uint16_t rx_queue, struct ixy_device *tx_dev,
			   uint16_t tx_queue, struct pkt_buf **bufs, uint32_t batch,
			   uint64_t *tx_dropped)
{
	uint32_t received = ixy_rx_batch(rx_dev, rx_queue, bufs, batch);
	if (received == 0)
		return 0;
	/* Touch every frame: a volatile read and write the compiler must keep. */
	for (uint32_t i = 0; i < received; i++) {
		volatile uint8_t *first = pkt_data(bufs[i]);
		*first = *first;
	}
	uint32_t sent = ixy_tx_batch(tx_dev, tx_queue, bufs, received);
	/* tx took a prefix; the rest is still ours (device.h): free it, count it. */
	if (unlikely(sent < received)) {
		pkt_buf_free_batch(bufs + sent, received - sent);
		*tx_dropped += received - sent;
	}
	return sent;
}
