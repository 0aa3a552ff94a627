/*
 * device.c: opening devices by name; the one place where a PCI vendor/device ID picks a driver.
 */
#include "device.h"

#include <errno.h>
#include <string.h>

#include "log.h"

typedef struct ixy_device *(*driver_init_fn)(const struct pci_device *pci,
					     const struct ixy_device_config *cfg);

struct pci_id_entry {
	uint16_t vendor_id;
	uint16_t device_id;
	driver_init_fn init;
};

#define PCI_VENDOR_REDHAT_QUMRANET 0x1af4 /* VirtIO 1.1 spec, 4.1.2 */
#define PCI_VENDOR_INTEL	   0x8086

static const struct pci_id_entry pci_ids[] = {
    /* VirtIO network device, transitional ID: speaks the legacy interface (VirtIO 1.1 spec,
     * 4.1.2.1 and 4.1.2.3: 0x1000 + subsystem ID 1 = network card). The modern-only ID 0x1041
     * has no legacy interface, which is all this driver speaks. */
    {PCI_VENDOR_REDHAT_QUMRANET, 0x1000, virtio_net_init},
    /* Intel 82599 family (82599 datasheet rev. 3.3, table 9-1 and the X540/X550 datasheets'
     * device ID tables). ixgbe.c's mac_from_device_id() gives each its MAC type and must list
     * the same IDs (docs/ixgbe.md lists them with their MAC). */
    {PCI_VENDOR_INTEL, 0x10f7, ixgbe_init}, /* 82599 KX4 */
    {PCI_VENDOR_INTEL, 0x10f8, ixgbe_init}, /* 82599 combined backplane */
    {PCI_VENDOR_INTEL, 0x10f9, ixgbe_init}, /* 82599 CX4 */
    {PCI_VENDOR_INTEL, 0x10fb, ixgbe_init}, /* 82599 SFP+ (X520) */
    {PCI_VENDOR_INTEL, 0x10fc, ixgbe_init}, /* 82599 XAUI LOM */
    {PCI_VENDOR_INTEL, 0x1507, ixgbe_init}, /* 82599 SFP+ (EM) */
    {PCI_VENDOR_INTEL, 0x1514, ixgbe_init}, /* 82599 KX4 mezzanine */
    {PCI_VENDOR_INTEL, 0x151c, ixgbe_init}, /* 82599 10GBASE-T (T3 LOM) */
    {PCI_VENDOR_INTEL, 0x1529, ixgbe_init}, /* 82599 SFP+ FCoE */
    {PCI_VENDOR_INTEL, 0x152a, ixgbe_init}, /* 82599 backplane FCoE */
    {PCI_VENDOR_INTEL, 0x154d, ixgbe_init}, /* 82599 SFP+ SF2 */
    {PCI_VENDOR_INTEL, 0x1557, ixgbe_init}, /* 82599EN SFP+ */
    {PCI_VENDOR_INTEL, 0x1528, ixgbe_init}, /* X540-T */
    {PCI_VENDOR_INTEL, 0x1560, ixgbe_init}, /* X540-T1 */
    {PCI_VENDOR_INTEL, 0x1563, ixgbe_init}, /* X550-T */
    {PCI_VENDOR_INTEL, 0x15d1, ixgbe_init}, /* X550-T1 */
};

/* Software and memory-backed ports, named by prefix; any other name is a PCI address. */
struct soft_port_kind {
	const char *prefix;
	struct ixy_device *(*open)(const char *arg, const struct ixy_device_config *cfg);
};

static const struct soft_port_kind soft_ports[] = {
    {"af_packet:", af_packet_open},
    {"pcap:", pcap_port_open},
    {"null:", null_port_open},
};

static const struct soft_port_kind *soft_port_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(soft_ports); i++)
		if (strncmp(name, soft_ports[i].prefix, strlen(soft_ports[i].prefix)) == 0)
			return &soft_ports[i];
	return NULL;
}

struct ixy_device *ixy_device_open_pci(const struct pci_device *pci,
				       const struct ixy_device_config *cfg)
{
	static const struct ixy_device_config defaults = {0};
	if (!cfg)
		cfg = &defaults;
	for (size_t i = 0; i < ARRAY_SIZE(pci_ids); i++) {
		if (pci_ids[i].vendor_id != pci->vendor_id ||
		    pci_ids[i].device_id != pci->device_id)
			continue;
		struct ixy_device *dev = pci_ids[i].init(pci, cfg);
		if (dev)
			dev->pci_claim_fd = -1; /* ixy_device_open() hands over its claim, if any */
		return dev;
	}
	LOG_ERR("pci", "%s: no driver for device %04x:%04x", pci->addr, pci->vendor_id,
		pci->device_id);
	errno = ENODEV;
	return NULL;
}

struct ixy_device *ixy_device_open(const char *name, const struct ixy_device_config *cfg)
{
	static const struct ixy_device_config defaults = {0};
	if (!cfg)
		cfg = &defaults;
	if (!name || !*name) {
		errno = EINVAL;
		return NULL;
	}
	const struct soft_port_kind *kind = soft_port_find(name);
	if (kind) {
		struct ixy_device *dev = kind->open(name + strlen(kind->prefix), cfg);
		if (dev)
			dev->pci_claim_fd = -1;
		return dev;
	}
	struct pci_device pci;
	int err = pci_device_open(name, cfg->force, &pci);
	if (err) {
		errno = -err;
		return NULL;
	}
	struct ixy_device *dev = ixy_device_open_pci(&pci, cfg);
	if (!dev) {
		int saved = errno;
		pci_device_release(&pci);
		errno = saved;
		return NULL;
	}
	dev->pci_claim_fd = pci.claim_fd; /* held until ixy_device_close() */
	return dev;
}

int ixy_device_check(const char *name, const struct ixy_device_config *cfg)
{
	if (!name || !*name)
		return -EINVAL;
	if (soft_port_find(name))
		return 0; /* nothing to check before opening: the open itself changes nothing */
	return pci_device_check(name, cfg ? cfg->force : false);
}

void ixy_device_close(struct ixy_device *dev)
{
	if (!dev)
		return;
	/* The driver's close resets the device first; only then may another program claim it. */
	struct pci_device claim = {.claim_fd = dev->pci_claim_fd};
	dev->ops->close(dev);
	pci_device_release(&claim);
}
