/*
 * pci.h: PCI devices through sysfs (/sys/bus/pci/devices/DDDD:BB:DD.F).
 *
 * pci_device_open() reads the identity from config space, refuses what is not a network
 * controller, refuses a device whose kernel interface carries the machine's own traffic (up with
 * addresses or routes) unless forced, and unbinds the kernel driver. BARs are accessed through
 * struct pci_bar: a mapped memory BAR (sysfs resourceN, mmap), a legacy I/O-port BAR (pread/pwrite
 * on resourceN, as legacy VirtIO needs), or, for tests, a device model's read/write hooks standing
 * in for the hardware behind the same register interface.
 *
 * Thread safety: open/map/unmap are control-path calls. BAR accessors may be used from any
 * thread; ordering between threads is the driver's business.
 */
#ifndef IXYD_PCI_H
#define IXYD_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"

#define PCI_ADDR_LEN 12 /* "DDDD:BB:DD.F" */

/* A device model's register file: called for every BAR access of a model-backed device.
 * width is 1, 2 or 4 bytes. */
struct pci_bar_hook {
	uint32_t (*read)(void *ctx, int bar, uint32_t offset, unsigned width);
	void (*write)(void *ctx, int bar, uint32_t offset, uint32_t value, unsigned width);
};

struct pci_device {
	char addr[PCI_ADDR_LEN + 1];
	uint16_t vendor_id;
	uint16_t device_id;
	uint32_t class_code; /* base class << 16 | subclass << 8 | prog-if */
	int numa_node;	     /* -1 when unknown */
	int claim_fd;	     /* the flock'ed config file while claimed, else -1 (or 0 if never) */
	/* Tests only: a model that plays the device. NULL for real hardware. */
	const struct pci_bar_hook *hook;
	void *hook_ctx;
};

struct pci_bar {
	volatile uint8_t *mmio; /* mapped memory BAR, NULL for I/O-port or model BARs */
	uint64_t size_bytes;
	int io_fd; /* sysfs resourceN of an I/O-port BAR, -1 otherwise */
	int index;
	const struct pci_bar_hook *hook;
	void *hook_ctx;
};

/*
 * Open the device at addr (e.g. "0000:00:04.0"): fill *dev from sysfs and config space and
 * claim it for this process: an exclusive flock(2) on its sysfs config file, held in
 * dev->claim_fd until pci_device_release(), so a second program cannot reset a device that
 * another one is driving. Refuses (returns an error and logs why):
 *   -EINVAL  addr is not of the form DDDD:BB:DD.F;
 *   -ENODEV  no such device;
 *   -ENOTSUP class is not 0x02 (network controller), PCI Local Bus spec 3.0, appendix D;
 *   -EBUSY   another process (or another open in this one) has claimed the device, or a kernel
 *            network interface of the device is up and has IPv4/IPv6 addresses or routes, unless
 *            force is set (the machine's own link must not be taken by mistake).
 * Then unbinds the kernel driver if one is bound. Returns 0 or -errno; on error nothing is held.
 */
int pci_device_open(const char *addr, bool force, struct pci_device *dev);

/* Release the claim taken by pci_device_open(): closes claim_fd (if > 0) and sets it to -1. */
void pci_device_release(struct pci_device *dev);

/*
 * Run every check of pci_device_open() (address, existence, class, claim, kernel interface in
 * use) without claiming or unbinding anything, so a program can refuse a set of devices before
 * touching any of them. Returns 0 or the error pci_device_open() would return.
 */
int pci_device_check(const char *addr, bool force);

/* Set Bus Master Enable (bit 2 of the Command register at config offset 0x04, PCI Local Bus
 * spec 3.0, 6.2.2) so the device may DMA. No-op for model devices. Returns 0 or -errno. */
int pci_enable_bus_master(const struct pci_device *dev);

/* Map BAR index (0..5): mmap a memory BAR, open an I/O-port BAR for pread/pwrite, or connect
 * the model's hooks. Returns 0 and fills *bar, or -errno. */
int pci_map_bar(const struct pci_device *dev, int index, struct pci_bar *bar);
/* Undo pci_map_bar(); a zeroed or already unmapped bar is ignored. */
void pci_unmap_bar(struct pci_bar *bar);

/* Slow path for I/O-port and model BARs; use the inline accessors below. */
uint32_t pci_bar_read_slow(const struct pci_bar *bar, uint32_t offset, unsigned width);
void pci_bar_write_slow(const struct pci_bar *bar, uint32_t offset, uint32_t value, unsigned width);

/* Register accessors. MMIO accesses are volatile and in program order on x86 (uncached
 * memory is strongly ordered); the caller adds barriers where DMA memory and registers
 * must be ordered against each other. */
static inline uint32_t pci_bar_read32(const struct pci_bar *bar, uint32_t offset)
{
	if (likely(bar->mmio != NULL))
		return *(volatile uint32_t *)(bar->mmio + offset);
	return pci_bar_read_slow(bar, offset, 4);
}

static inline void pci_bar_write32(const struct pci_bar *bar, uint32_t offset, uint32_t value)
{
	if (likely(bar->mmio != NULL))
		*(volatile uint32_t *)(bar->mmio + offset) = value;
	else
		pci_bar_write_slow(bar, offset, value, 4);
}

static inline uint16_t pci_bar_read16(const struct pci_bar *bar, uint32_t offset)
{
	if (likely(bar->mmio != NULL))
		return *(volatile uint16_t *)(bar->mmio + offset);
	return (uint16_t)pci_bar_read_slow(bar, offset, 2);
}

static inline void pci_bar_write16(const struct pci_bar *bar, uint32_t offset, uint16_t value)
{
	if (likely(bar->mmio != NULL))
		*(volatile uint16_t *)(bar->mmio + offset) = value;
	else
		pci_bar_write_slow(bar, offset, value, 2);
}

static inline uint8_t pci_bar_read8(const struct pci_bar *bar, uint32_t offset)
{
	if (likely(bar->mmio != NULL))
		return *(volatile uint8_t *)(bar->mmio + offset);
	return (uint8_t)pci_bar_read_slow(bar, offset, 1);
}

static inline void pci_bar_write8(const struct pci_bar *bar, uint32_t offset, uint8_t value)
{
	if (likely(bar->mmio != NULL))
		*(volatile uint8_t *)(bar->mmio + offset) = value;
	else
		pci_bar_write_slow(bar, offset, value, 1);
}

#endif
