/*
 * pci.c: PCI devices through sysfs. See pci.h.
 *
 * Files used under /sys/bus/pci/devices/ADDR/ (Documentation/PCI/sysfs-pci.rst):
 *   config      config space; read for IDs, written for the Command register
 *   resource    one line per BAR: start, end, flags
 *   resourceN   BAR N: mmap-able for memory BARs, pread/pwrite for I/O-port BARs
 *   driver      link to the bound kernel driver; driver/unbind detaches it
 *   net/, virtioN/net/  the kernel's network interfaces of the device, when bound
 *   numa_node   the device's NUMA node
 */
#include "pci.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define SYSFS_PCI "/sys/bus/pci/devices"

/* Config space offsets, PCI Local Bus spec 3.0, 6.1 (type 0 header). */
#define PCI_CFG_VENDOR_ID      0x00
#define PCI_CFG_DEVICE_ID      0x02
#define PCI_CFG_COMMAND	       0x04
#define PCI_CFG_CLASS_REVISION 0x08 /* revision 0x08, prog-if 0x09, subclass 0x0a, class 0x0b */
#define PCI_COMMAND_BUS_MASTER (1u << 2) /* 6.2.2 */
#define PCI_CLASS_NETWORK      0x02	 /* appendix D: base class 02h, network controller */

/* Linux resource flags as printed in the sysfs resource file (include/linux/ioport.h). */
#define IORESOURCE_IO  0x00000100
#define IORESOURCE_MEM 0x00000200

/* "DDDD:BB:DD.F" in hex; anything else is refused before it reaches a path. */
static bool valid_pci_addr(const char *addr)
{
	static const char pattern[] = "xxxx:xx:xx.x";
	if (strlen(addr) != PCI_ADDR_LEN)
		return false;
	for (size_t i = 0; i < PCI_ADDR_LEN; i++) {
		if (pattern[i] == 'x' ? !isxdigit((unsigned char)addr[i]) : addr[i] != pattern[i])
			return false;
	}
	return true;
}

static int read_config(const char *addr, void *buf, size_t len, off_t offset)
{
	char path[128];
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/config", addr);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = pread(fd, buf, len, offset);
	int err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	close(fd);
	return err;
}

static int read_sysfs_long(const char *path, long *value)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int ok = fscanf(f, "%li", value);
	fclose(f);
	return ok == 1 ? 0 : -EIO;
}

static bool iface_has_ipv4_route(const char *ifname)
{
	/* /proc/net/route: "Iface Destination Gateway ..." one route per line. */
	FILE *f = fopen("/proc/net/route", "r");
	if (!f)
		return false;
	char line[512], name[IF_NAMESIZE + 1];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%16s", name) == 1 && strcmp(name, ifname) == 0)
			found = true;
	}
	fclose(f);
	return found;
}

static bool iface_has_ipv6_route(const char *ifname)
{
	/* /proc/net/ipv6_route: dest(32 hex) dest_len src src_len next_hop metric refcnt use
	 * flags iface. Link-local (fe80::/10) and multicast (ff00::/8) routes come with every
	 * up interface and carry nothing of the machine's own traffic, so they don't count. */
	FILE *f = fopen("/proc/net/ipv6_route", "r");
	if (!f)
		return false;
	char line[512], dest[33], name[IF_NAMESIZE + 1];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%32s %*s %*s %*s %*s %*s %*s %*s %*s %16s", dest, name) != 2)
			continue;
		if (strcmp(name, ifname) != 0)
			continue;
		if (strncmp(dest, "fe8", 3) == 0 || strncmp(dest, "fe9", 3) == 0 ||
		    strncmp(dest, "fea", 3) == 0 || strncmp(dest, "feb", 3) == 0 ||
		    strncmp(dest, "ff", 2) == 0)
			continue;
		found = true;
	}
	fclose(f);
	return found;
}

/* An interface is in use when it is up and has an IPv4 address, a non-link-local IPv6
 * address, or a route through it. */
static bool iface_in_use(const char *ifname, char *why, size_t why_len)
{
	char path[300];
	long flags = 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/flags", ifname);
	if (read_sysfs_long(path, &flags) || !(flags & IFF_UP))
		return false;
	struct ifaddrs *list = NULL;
	bool has_addr = false;
	if (getifaddrs(&list) == 0) {
		for (struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
			if (!ifa->ifa_addr || strcmp(ifa->ifa_name, ifname) != 0)
				continue;
			if (ifa->ifa_addr->sa_family == AF_INET)
				has_addr = true;
			if (ifa->ifa_addr->sa_family == AF_INET6) {
				const struct sockaddr_in6 *a = (const void *)ifa->ifa_addr;
				if (!IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr))
					has_addr = true;
			}
		}
		freeifaddrs(list);
	}
	bool has_route = iface_has_ipv4_route(ifname) || iface_has_ipv6_route(ifname);
	if (!has_addr && !has_route)
		return false;
	snprintf(why, why_len, "interface %s is up with %s", ifname,
		 has_addr && has_route ? "addresses and routes"
		 : has_addr	       ? "addresses"
				       : "routes");
	return true;
}

/* Check every kernel network interface of the device: ADDR/net/IF, or ADDR/virtioN/net/IF for
 * VirtIO devices, whose interface hangs off the virtio bus device. */
static int check_kernel_ifaces(const char *addr, bool force)
{
	char dir_path[256];
	snprintf(dir_path, sizeof(dir_path), SYSFS_PCI "/%s", addr);
	DIR *dev_dir = opendir(dir_path);
	if (!dev_dir)
		return -errno;
	int err = 0;
	struct dirent *sub;
	while (!err && (sub = readdir(dev_dir))) {
		char net_path[600];
		if (strcmp(sub->d_name, "net") == 0)
			snprintf(net_path, sizeof(net_path), "%s/net", dir_path);
		else if (strncmp(sub->d_name, "virtio", 6) == 0)
			snprintf(net_path, sizeof(net_path), "%s/%s/net", dir_path, sub->d_name);
		else
			continue;
		DIR *net_dir = opendir(net_path);
		if (!net_dir)
			continue;
		struct dirent *ifent;
		while (!err && (ifent = readdir(net_dir))) {
			char why[320];
			if (ifent->d_name[0] == '.' ||
			    !iface_in_use(ifent->d_name, why, sizeof(why)))
				continue;
			if (force) {
				LOG_WARN("pci", "%s: %s; taking it anyway (forced)", addr, why);
			} else {
				LOG_ERR("pci",
					"%s: %s: it carries this machine's traffic. Take it down "
					"first (ip link set %s down) or force it",
					addr, why, ifent->d_name);
				err = -EBUSY;
			}
		}
		closedir(net_dir);
	}
	closedir(dev_dir);
	return err;
}

static int unbind_kernel_driver(const char *addr)
{
	char path[128], target[256];
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver", addr);
	ssize_t len = readlink(path, target, sizeof(target) - 1);
	if (len < 0)
		return errno == ENOENT ? 0 : -errno; /* no driver bound */
	target[len] = '\0';
	const char *driver = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver/unbind", addr);
	int fd = open(path, O_WRONLY);
	if (fd < 0) {
		int err = -errno;
		LOG_ERR("pci", "%s: cannot unbind kernel driver %s: %s", addr, driver,
			strerror(errno));
		return err;
	}
	ssize_t n = write(fd, addr, strlen(addr));
	int err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		LOG_ERR("pci", "%s: unbinding kernel driver %s failed: %s", addr, driver,
			strerror(-err));
	else
		LOG_INFO("pci", "%s: unbound kernel driver %s", addr, driver);
	return err;
}

/* Read identity and class into *dev and refuse what is not a network controller. */
static int pci_identify(const char *addr, struct pci_device *dev)
{
	memset(dev, 0, sizeof(*dev));
	dev->claim_fd = -1;
	if (!valid_pci_addr(addr)) {
		LOG_ERR("pci", "'%s' is not a PCI address (expected DDDD:BB:DD.F)", addr);
		return -EINVAL;
	}
	char path[128];
	snprintf(path, sizeof(path), SYSFS_PCI "/%s", addr);
	struct stat st;
	if (stat(path, &st) != 0) {
		LOG_ERR("pci", "no PCI device at %s", addr);
		return -ENODEV;
	}
	uint8_t cfg[12];
	int err = read_config(addr, cfg, sizeof(cfg), 0);
	if (err) {
		LOG_ERR("pci", "%s: cannot read config space: %s", addr, strerror(-err));
		return err;
	}
	snprintf(dev->addr, sizeof(dev->addr), "%s", addr);
	dev->vendor_id = (uint16_t)(cfg[PCI_CFG_VENDOR_ID] | cfg[PCI_CFG_VENDOR_ID + 1] << 8);
	dev->device_id = (uint16_t)(cfg[PCI_CFG_DEVICE_ID] | cfg[PCI_CFG_DEVICE_ID + 1] << 8);
	dev->class_code = (uint32_t)cfg[PCI_CFG_CLASS_REVISION + 3] << 16 |
			  (uint32_t)cfg[PCI_CFG_CLASS_REVISION + 2] << 8 |
			  cfg[PCI_CFG_CLASS_REVISION + 1];
	long node = -1;
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/numa_node", addr);
	dev->numa_node = read_sysfs_long(path, &node) == 0 ? (int)node : -1;

	if (dev->class_code >> 16 != PCI_CLASS_NETWORK) {
		LOG_ERR("pci", "%s (%04x:%04x) is not a network controller: class %06x", addr,
			dev->vendor_id, dev->device_id, dev->class_code);
		return -ENOTSUP;
	}
	return 0;
}

/* Take the exclusive claim on addr: returns the locked fd, or -EBUSY / -errno. flock(2) locks
 * belong to the open file description, so a second open in this same process conflicts too. */
static int pci_claim(const char *addr)
{
	char path[128];
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/config", addr);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	int err = errno == EWOULDBLOCK ? -EBUSY : -errno;
	close(fd);
	if (err == -EBUSY)
		LOG_ERR("pci",
			"%s is already driven by another ixyd program (it holds the claim on "
			"%s)",
			addr, path);
	return err;
}

int pci_device_check(const char *addr, bool force)
{
	struct pci_device dev;
	int err = pci_identify(addr, &dev);
	if (err)
		return err;
	int fd = pci_claim(addr);
	if (fd < 0)
		return fd;
	close(fd); /* only a test: the real claim is taken by pci_device_open() */
	return check_kernel_ifaces(addr, force);
}

int pci_device_open(const char *addr, bool force, struct pci_device *dev)
{
	int err = pci_identify(addr, dev);
	if (err)
		return err;
	dev->claim_fd = pci_claim(addr);
	if (dev->claim_fd < 0) {
		err = dev->claim_fd;
		dev->claim_fd = -1;
		return err;
	}
	err = check_kernel_ifaces(addr, force);
	if (!err)
		err = unbind_kernel_driver(addr);
	if (err)
		pci_device_release(dev);
	return err;
}

void pci_device_release(struct pci_device *dev)
{
	if (dev->claim_fd > 0)
		close(dev->claim_fd);
	dev->claim_fd = -1;
}

int pci_enable_bus_master(const struct pci_device *dev)
{
	if (dev->hook)
		return 0;
	char path[128];
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/config", dev->addr);
	int fd = open(path, O_RDWR);
	if (fd < 0)
		return -errno;
	uint16_t command;
	int err = 0;
	if (pread(fd, &command, sizeof(command), PCI_CFG_COMMAND) != sizeof(command)) {
		err = -EIO;
	} else {
		command |= PCI_COMMAND_BUS_MASTER;
		if (pwrite(fd, &command, sizeof(command), PCI_CFG_COMMAND) != sizeof(command))
			err = -EIO;
	}
	close(fd);
	if (err)
		LOG_ERR("pci", "%s: cannot enable bus mastering", dev->addr);
	return err;
}

int pci_map_bar(const struct pci_device *dev, int index, struct pci_bar *bar)
{
	memset(bar, 0, sizeof(*bar));
	bar->io_fd = -1;
	bar->index = index;
	if (index < 0 || index > 5)
		return -EINVAL;
	if (dev->hook) {
		bar->hook = dev->hook;
		bar->hook_ctx = dev->hook_ctx;
		return 0;
	}
	char path[128], line[160];
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/resource", dev->addr);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	unsigned long long start = 0, end = 0, flags = 0;
	int found = 0;
	for (int i = 0; i <= index && fgets(line, sizeof(line), f); i++)
		found = i == index && sscanf(line, "%llx %llx %llx", &start, &end, &flags) == 3;
	fclose(f);
	if (!found || end <= start) {
		LOG_ERR("pci", "%s: BAR%d is not implemented", dev->addr, index);
		return -ENODEV;
	}
	bar->size_bytes = end - start + 1;
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/resource%d", dev->addr, index);
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		int err = -errno;
		LOG_ERR("pci", "%s: cannot open %s: %s", dev->addr, path, strerror(errno));
		return err;
	}
	if (flags & IORESOURCE_IO) {
		bar->io_fd = fd;
		return 0;
	}
	void *mem = mmap(NULL, bar->size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int err = mem == MAP_FAILED ? -errno : 0;
	close(fd);
	if (err) {
		LOG_ERR("pci", "%s: cannot map BAR%d: %s", dev->addr, index, strerror(-err));
		return err;
	}
	bar->mmio = mem;
	return 0;
}

void pci_unmap_bar(struct pci_bar *bar)
{
	if (!bar)
		return;
	if (bar->mmio)
		munmap((void *)bar->mmio, bar->size_bytes);
	/* pci_map_bar() sets io_fd to -1 unless it opened one; a zeroed, never mapped bar has
	 * io_fd 0, which is not ours to close, so 0 is treated as "none" too. */
	if (bar->io_fd > 0)
		close(bar->io_fd);
	bar->mmio = NULL;
	bar->io_fd = -1;
	bar->hook = NULL;
}

uint32_t pci_bar_read_slow(const struct pci_bar *bar, uint32_t offset, unsigned width)
{
	if (bar->hook)
		return bar->hook->read(bar->hook_ctx, bar->index, offset, width);
	uint32_t value = 0;
	/* The kernel's I/O resource file takes aligned 1, 2 or 4 byte accesses (little endian,
	 * as the x86 in/out instructions). */
	if (pread(bar->io_fd, &value, width, offset) != (ssize_t)width) {
		LOG_ERR_RL("pci", "I/O BAR read of %u bytes at 0x%x failed", width, offset);
		return 0xffffffffu; /* what a failed PCI read returns */
	}
	return value;
}

void pci_bar_write_slow(const struct pci_bar *bar, uint32_t offset, uint32_t value, unsigned width)
{
	if (bar->hook) {
		bar->hook->write(bar->hook_ctx, bar->index, offset, value, width);
		return;
	}
	if (pwrite(bar->io_fd, &value, width, offset) != (ssize_t)width)
		LOG_ERR_RL("pci", "I/O BAR write of %u bytes at 0x%x failed", width, offset);
}
