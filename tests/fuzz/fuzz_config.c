/*
 * fuzz_config: the daemon's configuration loader (tools/ixyd/config.c) on arbitrary files.
 * config_load() only reads the file it is given, so each input is written to one memfd and
 * loaded through /proc/self/fd. Properties: it returns 0 or -1; on -1 the message is a
 * NUL-terminated "config: ..." line; on 0 the counts stay within the configuration's arrays;
 * config_free() releases everything (LeakSanitizer checks).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static int fd = -1;
static char path[64];
static struct ixyd_config cfg; /* large: not on the stack */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		fd = memfd_create("fuzz_config", 0);
		REQUIRE(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	REQUIRE(ftruncate(fd, 0) == 0);
	REQUIRE(pwrite(fd, data, size, 0) == (ssize_t)size);

	char err[512];
	memset(err, 'x', sizeof(err));
	int rc = config_load(path, &cfg, err, sizeof(err));
	REQUIRE(rc == 0 || rc == -1);
	if (rc) {
		REQUIRE(memchr(err, '\0', sizeof(err)) != NULL);
		REQUIRE(strncmp(err, "config: ", 8) == 0);
		return 0;
	}
	REQUIRE(cfg.n_ports <= DP_MAX_PORTS && cfg.n_bridges <= DP_MAX_BRIDGES);
	REQUIRE(cfg.n_workers >= 1 && cfg.n_workers <= DP_MAX_WORKERS);
	REQUIRE(cfg.n_routes == 0 || cfg.routes != NULL);
	for (unsigned i = 0; i < cfg.n_ports; i++)
		REQUIRE(cfg.ports[i].n_addrs <= IFACE_MAX_ADDRS &&
			memchr(cfg.ports[i].name, '\0', CFG_NAME_MAX) != NULL);
	config_free(&cfg);
	return 0;
}
