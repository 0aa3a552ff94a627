/*
 * test_ixgbe_lifecycle: what differs between the MACs, and bringing a port up and down safely.
 *  - X540 and X550 get a receive packet buffer of 384 KB, the 82599 512 KB (the model rejects
 *    more than the MAC it plays has);
 *  - a device ID of the family the driver does not know (X550EM-X KR, 0x15ab) is refused with
 *    ENODEV before any register is written (no AUTOC meant for an 82599);
 *  - every reset of a port whose DMA may be running is preceded by master disable: at close,
 *    and after an init that fails once queues are enabled (the model flags a reset without it);
 *  - CTRL_EXT.DRV_LOAD is set while the driver owns the port and clear after close;
 *  - a security block that never reports empty is logged, and the port still opens and
 *    receives;
 *  - the per-queue register formulas for queues 64..127 (the second register block).
 */
#include <errno.h>

#include "ixgbe_regs.h"
#include "ixgbe_test.h"

static void test_packet_buffer(uint16_t device_id, uint32_t want_kb)
{
	struct ixgbe_model *m = test_model(device_id, NULL);
	struct ixy_device *dev = test_open(m, "model:pb", NULL);
	CHECK(dev != NULL);
	CHECK_EQ(ixgbe_model_peek(m, IXGBE_RXPBSIZE(0)), want_kb << IXGBE_PBSIZE_SHIFT);
	for (unsigned i = 1; i < 8; i++)
		CHECK_EQ(ixgbe_model_peek(m, IXGBE_RXPBSIZE(i)), 0);
	CHECK_MODEL_OK(m);
	ixy_device_close(dev);
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);
}

static void test_unknown_id(void)
{
	struct ixgbe_model *m = test_model(0x15ab, NULL);
	struct pci_device pci;
	ixgbe_model_pci_device(m, "model:x550em", &pci);
	/* device.c's probe table does not list 0x15ab: call the driver directly, as a probe
	 * table entry added by mistake would. */
	struct ixy_device_config cfg = {0};
	errno = 0;
	CHECK(ixgbe_init(&pci, &cfg) == NULL);
	CHECK_EQ(errno, ENODEV);
	size_t n;
	const struct ixgbe_model_access *t = ixgbe_model_trace(m, &n);
	size_t writes = 0;
	for (size_t i = 0; i < n; i++)
		writes += t[i].write;
	CHECK_EQ(writes, 0);
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);
}

/* Index of the last write to CTRL with RST set, or SIZE_MAX. */
static size_t last_reset(const struct ixgbe_model_access *t, size_t n)
{
	size_t at = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		if (t[i].offset == IXGBE_CTRL && t[i].write && (t[i].value & IXGBE_CTRL_RST))
			at = i;
	}
	return at;
}

/* Before trace entry rst: CTRL.MASTER_DISABLE written, then STATUS read with
 * GIO_Master_Enable clear, with no CTRL.RST between. */
static bool master_disabled_before(const struct ixgbe_model_access *t, size_t rst)
{
	bool disabled = false, stopped = false;
	for (size_t i = 0; i < rst; i++) {
		if (t[i].offset == IXGBE_CTRL && t[i].write) {
			if (t[i].value & IXGBE_CTRL_RST)
				disabled = stopped = false;
			else if (t[i].value & IXGBE_CTRL_MASTER_DISABLE)
				disabled = true;
		}
		if (disabled && t[i].offset == IXGBE_STATUS && !t[i].write &&
		    !(t[i].value & IXGBE_STATUS_MASTER_ENABLE))
			stopped = true;
	}
	return stopped;
}

/* After a close or a failed init: the last reset came after master disable, DRV_LOAD is
 * cleared, the model saw nothing wrong. Frees m. */
static void check_torn_down(struct ixgbe_model *m)
{
	size_t n;
	const struct ixgbe_model_access *t = ixgbe_model_trace(m, &n);
	size_t rst = last_reset(t, n);
	CHECK(rst != SIZE_MAX);
	CHECK(master_disabled_before(t, rst));
	CHECK_EQ(ixgbe_model_peek(m, IXGBE_CTRL_EXT) & IXGBE_CTRL_EXT_DRV_LOAD, 0);
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);
}

static void test_open_close(void)
{
	struct ixgbe_model *m = test_model(0x10fb, NULL);
	struct ixy_device *dev = test_open(m, "model:close", NULL);
	CHECK(dev != NULL);
	CHECK(ixgbe_model_peek(m, IXGBE_CTRL_EXT) & IXGBE_CTRL_EXT_DRV_LOAD);
	ixy_device_close(dev);
	check_torn_down(m);
}

static void test_failed_init(void)
{
	/* rx queues are enabled (DMA may run) when a tx queue fails to enable. */
	struct ixgbe_model_config cfg = {.device_id = 0x10fb, .tx_enable_stuck = true};
	memcpy(cfg.mac, test_mac, 6);
	struct ixgbe_model *m = ixgbe_model_create(&cfg);
	errno = 0;
	CHECK(test_open(m, "model:failed", NULL) == NULL);
	CHECK_EQ(errno, EIO);
	check_torn_down(m);
}

static void test_secrx_stuck(void)
{
	struct ixgbe_model_config cfg = {.device_id = 0x10fb, .secrx_stuck = true};
	memcpy(cfg.mac, test_mac, 6);
	struct ixgbe_model *m = ixgbe_model_create(&cfg);
	struct ixy_device *dev = test_open(m, "model:secrx", NULL);
	CHECK(dev != NULL);
	if (dev) {
		uint8_t f[64];
		test_frame(f, sizeof(f), test_mac, 7);
		CHECK_EQ(ixgbe_model_receive(m, f, sizeof(f), 0), 0);
		struct pkt_buf *buf;
		CHECK_EQ(ixy_rx_batch(dev, 0, &buf, 1), 1);
		pkt_buf_free(buf);
		ixy_device_close(dev);
	}
	CHECK_MODEL_OK(m);
	ixgbe_model_free(m);
}

/* Against the addresses of the 82599's second queue block as Linux's and DPDK's ixgbe_type.h
 * give them (queue n >= 64 at 0x0D000 + 0x40 * (n - 64)). */
static void test_queue_formulas(void)
{
	CHECK_EQ(IXGBE_RDBAL(63), 0x01fc0);
	CHECK_EQ(IXGBE_RDBAL(64), 0x0d000);
	CHECK_EQ(IXGBE_RDBAH(64), 0x0d004);
	CHECK_EQ(IXGBE_RDLEN(65), 0x0d048);
	CHECK_EQ(IXGBE_RDH(127), 0x0d010 + 0x40 * 63);
	CHECK_EQ(IXGBE_RDT(127), 0x0d018 + 0x40 * 63);
	CHECK_EQ(IXGBE_RXDCTL(64), 0x0d028);
	CHECK_EQ(IXGBE_SRRCTL(16), 0x01414);
	CHECK_EQ(IXGBE_SRRCTL(64), 0x0d014);
	CHECK_EQ(IXGBE_DCA_RXCTRL(64), 0x0d00c);
	CHECK_EQ(IXGBE_DCA_RXCTRL(127), 0x0d00c + 0x40 * 63);
	/* Transmit queues are one block of 128 (8.2.3.9). */
	CHECK_EQ(IXGBE_TDBAL(127), 0x06000 + 0x40 * 127);
}

int main(void)
{
	test_memory_setup();
	test_packet_buffer(0x10fb, 512);
	test_packet_buffer(0x1528, 384);
	test_packet_buffer(0x1563, 384);
	test_unknown_id();
	test_open_close();
	test_failed_init();
	test_secrx_stuck();
	test_queue_formulas();
	return check_report("test_ixgbe_lifecycle");
}
