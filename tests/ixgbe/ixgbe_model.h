/*
 * ixgbe_model.h: a behavioural model of the Intel 82599 10 GbE controller, for testing
 * drivers/ixgbe.c without hardware (no emulator of the 82599 exists).
 *
 * The model owns a BAR0 register file and plays the device behind the pci_bar_hook interface
 * of pci.h: the driver under test is the unmodified driver, reached through the normal probe.
 * It runs synchronously in the caller's thread: a register write is handled inside the write
 * (a TDT write sends the frames at once), and a test hands received frames in with
 * ixgbe_model_receive(). DMA goes through memory_iova_to_virt(), so the memory layer must be in
 * MEMORY_IOVA_VA mode, and every address the driver gives the device is checked to lie in
 * memory the driver allocated.
 *
 * Misuse of the device (the datasheet's rules broken) is recorded: the first message is kept,
 * printed to stderr at once, and ixgbe_model_error() returns it; tests check it is NULL.
 * What is modelled and what is not: docs/ixgbe.md.
 *
 * Not thread-safe: one thread drives a model.
 */
#ifndef IXYD_IXGBE_MODEL_H
#define IXYD_IXGBE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci.h"

struct ixgbe_model;

struct ixgbe_model_config {
	uint16_t device_id;   /* 0: 0x10fb (82599 SFP+) */
	uint8_t mac[6];	      /* station address "in the EEPROM", loaded into RAL/RAH[0] at reset */
	bool no_link;	      /* no cable: the link never comes up */
	bool secrx_stuck;     /* SECRXSTAT.SECRX_RDY never sets */
	bool tx_enable_stuck; /* TXDCTL.ENABLE never reads back 1 (a queue that fails) */
};

/* Frames the device sends: called from inside the driver's TDT write. */
typedef void (*ixgbe_model_tx_fn)(void *ctx, uint16_t queue, const uint8_t *frame, uint32_t len);

struct ixgbe_model *ixgbe_model_create(const struct ixgbe_model_config *cfg);
void ixgbe_model_free(struct ixgbe_model *model);

/* Fill *pci so that ixy_device_open_pci(pci, ...) probes the driver onto this model. */
void ixgbe_model_pci_device(struct ixgbe_model *model, const char *addr, struct pci_device *pci);

void ixgbe_model_set_tx_handler(struct ixgbe_model *model, ixgbe_model_tx_fn fn, void *ctx);
/* While held, TDT writes are latched but no descriptor is processed (a stalled link);
 * releasing processes everything posted. */
void ixgbe_model_hold_tx(struct ixgbe_model *model, bool hold);

/* Frame flags for ixgbe_model_receive(). */
#define IXGBE_MODEL_RX_BAD_FCS 1u

/* Outcomes of ixgbe_model_receive() other than a queue number (>= 0). */
enum {
	IXGBE_MODEL_RX_OFF = -1,       /* receiver disabled or link down: lost, not counted */
	IXGBE_MODEL_RX_FILTERED = -2,  /* no L2 filter matched */
	IXGBE_MODEL_RX_ERROR = -3,     /* bad FCS or bad length: counted, dropped */
	IXGBE_MODEL_RX_MISSED = -4,    /* no free descriptor: counted (QPRDC or MPC) */
	IXGBE_MODEL_RX_QUEUE_OFF = -5, /* redirected to a disabled queue: dropped (4.6.7) */
};

/* A frame arrives from the wire: len bytes from the destination MAC to the end of the
 * payload, FCS not included (the model strips it; IXGBE_MODEL_RX_BAD_FCS makes it bad).
 * Returns the rx queue it was written to, or one of the outcomes above. */
int ixgbe_model_receive(struct ixgbe_model *model, const uint8_t *frame, uint32_t len,
			unsigned flags);

/* The first misuse recorded, or NULL. */
const char *ixgbe_model_error(const struct ixgbe_model *model);
/* Forget a recorded misuse (for tests that provoke one on purpose). */
void ixgbe_model_clear_error(struct ixgbe_model *model);

/* A register's value without the side effects of a driver read (no clear-on-read). */
uint32_t ixgbe_model_peek(const struct ixgbe_model *model, uint32_t offset);

/* Register accesses seen since creation, in order, for tests of the init sequence. */
struct ixgbe_model_access {
	uint32_t offset;
	uint32_t value; /* value written, or value returned by a read */
	bool write;
};
const struct ixgbe_model_access *ixgbe_model_trace(const struct ixgbe_model *model, size_t *count);

/* The Toeplitz hash of 7.1.2.8 over input with a 40-byte key (exported for its own test). */
uint32_t ixgbe_model_toeplitz(const uint8_t key[40], const uint8_t *input, size_t len);

#endif
