/*
 * test_ports_dispatch: ixy_device_open() picks the port by name prefix (af_packet:, pcap:,
 * null:) and passes the rest on; errors come back as errno; ixy_device_close() closes them.
 * No root needed: a missing interface is refused before any socket is made.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "memory.h"
#include "ports_test.h"

int main(void)
{
	CHECK_EQ(memory_configure(MEMORY_IOVA_VA, false), 0);
	struct ixy_device *dev = ixy_device_open("null:bench", NULL);
	CHECK(dev != NULL);
	if (dev) {
		CHECK(strcmp(dev->ops->driver_name, "null") == 0);
		CHECK(strcmp(dev->name, "bench") == 0);
	}
	ixy_device_close(dev);
	ixy_device_close(NULL);

	errno = 0;
	CHECK(ixy_device_open("pcap:/nonexistent/file.pcap", NULL) == NULL && errno == ENOENT);
	errno = 0;
	CHECK(ixy_device_open("af_packet:ixyd-nosuch0", NULL) == NULL && errno == ENODEV);
	errno = 0;
	CHECK(ixy_device_open("null:", NULL) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(ixy_device_open("af_packet:", NULL) == NULL && errno == EINVAL);
	return check_report("test_ports_dispatch");
}
