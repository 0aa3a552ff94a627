/*
 * config.h: ixyd's configuration file (JSON, schema in docs/config.md), parsed and checked as a
 * whole before any device is touched.
 *
 * Errors name the field and the reason, e.g.
 *   config: routes[0].prefix: host bits set in 10.9.0.1/16
 *
 * Threads: main thread only.
 */
#ifndef IXYD_CONFIG_H
#define IXYD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane.h"
#include "ipaddr.h"

#define CFG_NAME_MAX   32
#define CFG_DEVICE_MAX 256
#define CFG_PATH_MAX   1024

/* An interface address with its subnet's length (host bits kept). */
struct cfg_addr {
	struct ip_prefix pfx;
};

struct cfg_port {
	char name[CFG_NAME_MAX];
	char device[CFG_DEVICE_MAX];
	uint16_t rx_queues;
	uint16_t n_addrs;
	struct cfg_addr addrs[IFACE_MAX_ADDRS];
	int bridge; /* index into bridges, or -1 */
};

struct cfg_bridge {
	char name[CFG_NAME_MAX];
	uint16_t n_ports;
	uint16_t ports[DP_MAX_PORTS]; /* indices into ports */
	uint16_t n_addrs;
	struct cfg_addr addrs[IFACE_MAX_ADDRS];
};

/* A static route of the configuration (owner config). */
struct cfg_route {
	struct ip_prefix prefix;
	struct ip_addr via;
};

struct ixyd_config {
	uint16_t n_ports;
	struct cfg_port ports[DP_MAX_PORTS];
	uint16_t n_bridges;
	struct cfg_bridge bridges[DP_MAX_BRIDGES];
	size_t n_routes;
	struct cfg_route *routes; /* malloc'd */
	uint16_t n_workers;
	int cores[DP_MAX_WORKERS]; /* -1: not pinned */
	uint32_t idle_sleep_us;
	uint32_t icmp_rate_per_s;
	uint32_t icmp_burst;
	char api_listen[64];	       /* "" when absent: the API's default (api.h) */
	char state_file[CFG_PATH_MAX]; /* "" when absent: API changes are not saved */
	bool has_pci;		       /* some port is a PCI device (needs huge pages) */
};

/*
 * Load and check path into *cfg. Returns 0, or -1 after writing "config: ..." (field and reason)
 * into err (errlen bytes). On success free with config_free().
 */
int config_load(const char *path, struct ixyd_config *cfg, char *err, size_t errlen);
void config_free(struct ixyd_config *cfg);

#endif
