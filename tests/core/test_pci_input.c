/*
 * test_pci_input: pci_device_open() refuses bad input without touching any device:
 * malformed addresses (including path tricks) and addresses with no device behind them.
 * Safe on any machine: nothing here opens a device that exists.
 */
#include <errno.h>

#include "check.h"
#include "device.h"
#include "pci.h"

int main(void)
{
	struct pci_device dev;
	CHECK_EQ(pci_device_open("", false, &dev), -EINVAL);
	CHECK_EQ(pci_device_open("../../../etc", false, &dev), -EINVAL);
	CHECK_EQ(pci_device_open("0000:00:04.0/../..", false, &dev), -EINVAL);
	CHECK_EQ(pci_device_open("0000:00:04", false, &dev), -EINVAL);
	CHECK_EQ(pci_device_open("00:04.0", false, &dev), -EINVAL);
	CHECK_EQ(pci_device_open("zzzz:00:04.0", false, &dev), -EINVAL);
	/* Domain ffff does not exist on any machine we run on. */
	CHECK_EQ(pci_device_open("ffff:ff:1f.7", false, &dev), -ENODEV);

	errno = 0;
	CHECK(ixy_device_open("ffff:ff:1f.7", NULL) == NULL && errno == ENODEV);
	errno = 0;
	CHECK(ixy_device_open("not-a-device", NULL) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(ixy_device_open(NULL, NULL) == NULL && errno == EINVAL);
	return check_report("test_pci_input");
}
