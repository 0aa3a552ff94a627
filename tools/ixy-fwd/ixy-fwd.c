/*
 * ixy-fwd: forward every frame between two ports, both ways (docs/tools.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "fwd.h"
#include "tool.h"

#define FWD_DEFAULT_BATCH 32
#define FWD_MAX_BATCH	  512

static void usage(FILE *out)
{
	fprintf(out, "usage: ixy-fwd [--seconds N] [--promisc on|off] [--force] [--batch N] "
		     "PCI_A PCI_B\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"seconds", required_argument, NULL, 's'}, {"promisc", required_argument, NULL, 'p'},
	    {"force", no_argument, NULL, 'f'},	       {"batch", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	uint64_t seconds = 0, batch = FWD_DEFAULT_BATCH;
	bool promisc = true, force = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (tool_parse_u64(optarg, 1, UINT32_MAX, &seconds)) {
				fprintf(stderr, "ixy-fwd: --seconds wants a positive number\n");
				return 2;
			}
			break;
		case 'p':
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
				fprintf(stderr, "ixy-fwd: --promisc wants on or off\n");
				return 2;
			}
			promisc = strcmp(optarg, "on") == 0;
			break;
		case 'f':
			force = true;
			break;
		case 'b':
			if (tool_parse_u64(optarg, 1, FWD_MAX_BATCH, &batch)) {
				fprintf(stderr, "ixy-fwd: --batch wants 1..%d\n", FWD_MAX_BATCH);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	const char *name_a = argv[optind], *name_b = argv[optind + 1];
	if (strcmp(name_a, name_b) == 0) {
		fprintf(stderr, "ixy-fwd: PCI_A and PCI_B must be different devices\n");
		return 2;
	}

	int rc = 1;
	struct tool_port ports[2] = {{0}};
	const char *const names[2] = {name_a, name_b};
	if (!tool_check_devices("ixy-fwd", names, 2, force))
		return 1;
	ports[0].dev = tool_open_device("ixy-fwd", name_a, force);
	if (!ports[0].dev)
		goto out;
	ports[1].dev = tool_open_device("ixy-fwd", name_b, force);
	if (!ports[1].dev)
		goto out;
	for (int i = 0; i < 2; i++) {
		int err = ixy_set_promisc(ports[i].dev, promisc);
		if (err) {
			fprintf(stderr, "ixy-fwd: cannot turn promiscuous mode %s on %s: %s\n",
				promisc ? "on" : "off", ports[i].dev->name, strerror(-err));
			goto out;
		}
	}

	struct tool_loop loop;
	tool_loop_init(&loop, ports, 2, seconds);
	printf("ixy-fwd: forwarding %s <-> %s\n", name_a, name_b);
	struct pkt_buf *bufs[FWD_MAX_BATCH];
	while (tool_loop_continue(&loop)) {
		fwd_forward_batch(ports[0].dev, 0, ports[1].dev, 0, bufs, (uint32_t)batch,
				  &ports[1].tx_dropped);
		fwd_forward_batch(ports[1].dev, 0, ports[0].dev, 0, bufs, (uint32_t)batch,
				  &ports[0].tx_dropped);
	}
	/* Each tx ring holds buffers of the other port's pool: let them go before closing. */
	tool_drain_tx(ports, 2, 20);
	tool_print_final_stats(&ports[0]);
	tool_print_final_stats(&ports[1]);
	rc = 0;
out:
	ixy_device_close(ports[1].dev);
	ixy_device_close(ports[0].dev);
	return rc;
}
