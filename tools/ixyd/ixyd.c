/*
 * ixyd: the switch/router daemon.
 *
 *   ixyd --config FILE [--check] [--syslog] [--log-level error|warn|info|debug]
 *
 * Start-up, in order (nothing touches a device before the whole config checked out):
 *   1. parse and check the config (config.c); --check stops here
 *   2. block SIGINT/SIGTERM/SIGUSR1 in every thread; the main thread waits for them
 *   3. open the devices (huge pages only if some port is a PCI device)
 *   4. build the dataplane: ports, bridges, addresses
 *   5. the control thread's tables: connected routes, then the configured routes, then the
 *      state file (what was changed through the API before: it replaces the configured routes)
 *   6. start the workers and the control thread
 *   7. start the REST API (api/): a listen address that cannot be bound stops start-up
 * SIGUSR1 prints the counters (docs/config.md, "Counters"); SIGINT/SIGTERM stop everything in
 * reverse order, print the counters once more and exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api.h"
#include "config.h"
#include "control.h"
#include "dataplane.h"
#include "device.h"
#include "log.h"
#include "memory.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

static void usage(FILE *f)
{
	fprintf(f, "usage: ixyd --config FILE [--check] [--syslog] "
		   "[--log-level error|warn|info|debug]\n");
}

static void print_counters_line(const char *what, const struct dp_counters *k)
{
	printf("counters %s rx_packets=%llu rx_bytes=%llu tx_packets=%llu tx_bytes=%llu", what,
	       (unsigned long long)k->rx_packets, (unsigned long long)k->rx_bytes,
	       (unsigned long long)k->tx_packets, (unsigned long long)k->tx_bytes);
	for (int r = 0; r < DP_DROP_MAX; r++)
		printf(" drop_%s=%llu", dp_drop_reason_names[r], (unsigned long long)k->drops[r]);
	printf("\n");
}

/* The counter block of docs/config.md: one line per port, per worker, for the control thread,
 * then "counters end". */
static void print_counters(const struct dataplane *dp)
{
	char what[64];
	struct dp_counters k;
	for (port_id_t p = 0; p < dp_port_count(dp); p++) {
		struct dp_port_info info;
		dp_read_port_counters(dp, p, &k);
		dp_port_info(dp, p, &info);
		snprintf(what, sizeof(what), "port=%s", info.name);
		print_counters_line(what, &k);
	}
	for (uint16_t w = 0; w < dp_worker_count(dp); w++) {
		dp_read_ctx_counters(dp, w, &k);
		snprintf(what, sizeof(what), "worker=%u", w);
		print_counters_line(what, &k);
	}
	dp_read_ctx_counters(dp, dp_worker_count(dp), &k);
	print_counters_line("control=0", &k);
	printf("counters end\n");
	fflush(stdout);
}

struct daemon {
	struct ixyd_config cfg;
	struct ixy_device *devs[DP_MAX_PORTS];
	struct dataplane *dp;
	struct control *ctl;
	struct api_state *state;
	struct api *api;
};

static int open_devices(struct daemon *d)
{
	/* Check every device before opening any: a refusal of the last one must not leave the
	 * first ones already taken from their kernel drivers (ixy_device_check()). */
	for (uint16_t i = 0; i < d->cfg.n_ports; i++) {
		const struct cfg_port *p = &d->cfg.ports[i];
		int err = ixy_device_check(p->device, NULL);
		if (err) {
			LOG_ERR("ixyd", "port %s: cannot open %s: %s", p->name, p->device,
				strerror(-err));
			return -1;
		}
	}
	for (uint16_t i = 0; i < d->cfg.n_ports; i++) {
		const struct cfg_port *p = &d->cfg.ports[i];
		/* One tx queue per worker plus one for the control thread (dataplane.h). */
		struct ixy_device_config dc = {.rx_queues = p->rx_queues,
					       .tx_queues = (uint16_t)(d->cfg.n_workers + 1)};
		d->devs[i] = ixy_device_open(p->device, &dc);
		if (!d->devs[i]) {
			LOG_ERR("ixyd", "port %s: cannot open %s: %s", p->name, p->device,
				strerror(errno));
			return -1;
		}
		LOG_INFO("ixyd", "port %s: %s (%s), %u rx / %u tx queues", p->name, p->device,
			 d->devs[i]->ops->driver_name, d->devs[i]->rx_queues,
			 d->devs[i]->tx_queues);
	}
	return 0;
}

/* The configuration was checked (config.c), so a refusal here is a bug of ours or a limit. */
static int add_addr(struct dataplane *dp, iface_id_t ifc, const char *name,
		    const struct ip_prefix *a)
{
	int err = dp_iface_add_addr(dp, ifc, a);
	if (err) {
		char s[IP_PREFIX_STRLEN];
		ip_prefix_format(a, s);
		LOG_ERR("ixyd", "%s: address %s: %s", name, s, strerror(-err));
	}
	return err;
}

static int build_dataplane(struct daemon *d)
{
	const struct ixyd_config *cfg = &d->cfg;
	d->dp = dataplane_create(cfg->n_workers);
	if (!d->dp) {
		LOG_ERR("ixyd", "cannot create the dataplane: %s", strerror(errno));
		return -1;
	}
	dp_set_params(d->dp, &(struct dp_params){.idle_sleep_us = cfg->idle_sleep_us,
						 .icmp_rate_per_s = cfg->icmp_rate_per_s,
						 .icmp_burst = cfg->icmp_burst});
	for (uint16_t i = 0; i < cfg->n_ports; i++) {
		int err = dp_add_port(d->dp, cfg->ports[i].name, d->devs[i]);
		if (err < 0) {
			LOG_ERR("ixyd", "port %s: %s", cfg->ports[i].name, strerror(-err));
			return -1;
		}
		iface_id_t ifc = dp_port_iface(d->dp, (port_id_t)err);
		for (uint16_t a = 0; a < cfg->ports[i].n_addrs; a++)
			if (add_addr(d->dp, ifc, cfg->ports[i].name, &cfg->ports[i].addrs[a].pfx))
				return -1;
	}
	for (uint16_t b = 0; b < cfg->n_bridges; b++) {
		const struct cfg_bridge *br = &cfg->bridges[b];
		int id = dp_add_bridge(d->dp, br->name, br->ports, br->n_ports);
		if (id < 0) {
			LOG_ERR("ixyd", "bridge %s: %s", br->name, strerror(-id));
			return -1;
		}
		for (uint16_t a = 0; a < br->n_addrs; a++)
			if (add_addr(d->dp, (iface_id_t)id, br->name, &br->addrs[a].pfx))
				return -1;
	}
	return 0;
}

static int build_control(struct daemon *d)
{
	d->ctl = control_create(d->dp, NULL);
	if (!d->ctl) {
		LOG_ERR("ixyd", "cannot create the tables: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < d->cfg.n_routes; i++) {
		const struct cfg_route *r = &d->cfg.routes[i];
		struct control_path path = {.gw = r->via, .iface = IFACE_ID_NONE};
		struct control_route cr = {.prefix = r->prefix, .n_paths = 1, .paths = &path};
		int err = control_route_set(d->ctl, CONTROL_OWNER_CONFIG, &cr);
		if (err) {
			char p[IP_PREFIX_STRLEN], v[IP_ADDR_STRLEN];
			ip_prefix_format(&r->prefix, p);
			ip_addr_format(&r->via, v);
			LOG_ERR("ixyd", "route %s via %s: %s", p, v, strerror(-err));
			return -1;
		}
	}
	if (d->cfg.state_file[0]) {
		char err[512];
		/* A test knob: compact the journal sooner than at 1 MiB. */
		const char *min = getenv("IXYD_STATE_COMPACT_BYTES");
		d->state = api_state_open(d->ctl, d->cfg.state_file,
					  min ? strtoull(min, NULL, 10) : 0, err, sizeof(err));
		if (!d->state) {
			LOG_ERR("ixyd", "%s (fix or remove the file)", err);
			return -1;
		}
	}
	return 0;
}

/* Give the drivers a moment to hand back buffers still in their tx rings (they may belong to
 * another port's pool or to a ctx pool), then close every device. */
static void close_devices(struct daemon *d)
{
	struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};
	for (int round = 0; round < 10; round++) {
		for (uint16_t i = 0; i < d->cfg.n_ports; i++)
			if (d->devs[i])
				for (uint16_t q = 0; q < d->devs[i]->tx_queues; q++)
					ixy_tx_batch(d->devs[i], q, NULL, 0);
		nanosleep(&pause, NULL);
	}
	for (uint16_t i = 0; i < d->cfg.n_ports; i++) {
		ixy_device_close(d->devs[i]);
		d->devs[i] = NULL;
	}
}

static int parse_level(const char *s, enum log_level *level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	return -EINVAL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
	    {"syslog", no_argument, NULL, 's'},	      {"log-level", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	bool check_only = false;
	bool use_syslog = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'k':
			check_only = true;
			break;
		case 's':
			log_use_syslog("ixyd");
			use_syslog = true;
			break;
		case 'l': {
			enum log_level level;
			if (parse_level(optarg, &level)) {
				fprintf(stderr, "ixyd: unknown log level \"%s\"\n", optarg);
				return EXIT_USAGE;
			}
			log_set_level(level);
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!config_path || optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}

	/* 1. The whole config, before anything else. */
	struct daemon d = {0};
	char err[512];
	if (config_load(config_path, &d.cfg, err, sizeof(err)) != 0) {
		if (use_syslog)
			LOG_ERR("ixyd", "%s", err); /* stderr and syslog */
		else
			fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	if (check_only) {
		printf("ixyd: %s: configuration is valid (%u ports, %u bridges, %zu routes, %u "
		       "workers)\n",
		       config_path, d.cfg.n_ports, d.cfg.n_bridges, d.cfg.n_routes,
		       d.cfg.n_workers);
		config_free(&d.cfg);
		return 0;
	}

	/* 2. Signals go to the main thread's sigwait(); the threads started below inherit the
	 * mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	int rc = EXIT_RUNTIME;
	/* 3. Devices. Software and memory ports need no huge pages (device.h). */
	if (!d.cfg.has_pci && memory_configure(MEMORY_IOVA_VA, false) != 0)
		LOG_WARN("ixyd", "could not switch to memory without huge pages");
	if (open_devices(&d))
		goto out_devices;
	/* 4.-6. */
	if (build_dataplane(&d) || build_control(&d))
		goto out_control;
	int e = dp_start(d.dp, d.cfg.cores[0] >= 0 ? d.cfg.cores : NULL);
	if (e) {
		LOG_ERR("ixyd", "cannot start the workers: %s", strerror(-e));
		goto out_control;
	}
	e = control_start(d.ctl);
	if (e) {
		LOG_ERR("ixyd", "cannot start the control thread: %s", strerror(-e));
		goto out_workers;
	}
	/* 7. */
	struct api_config acfg = {.listen = d.cfg.api_listen, .state = d.state};
	d.api = api_create(d.ctl, &acfg);
	e = d.api ? api_start(d.api) : -errno;
	if (e) {
		LOG_ERR("ixyd", "cannot start the REST API on %s: %s",
			d.cfg.api_listen[0] ? d.cfg.api_listen : API_DEFAULT_LISTEN, strerror(-e));
		goto out_api;
	}
	printf("ixyd: running: %u ports, %u bridges, %zu routes, %u workers\n", d.cfg.n_ports,
	       d.cfg.n_bridges, d.cfg.n_routes, d.cfg.n_workers);
	fflush(stdout);
	LOG_INFO("ixyd", "running");

	for (;;) {
		int sig;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			print_counters(d.dp);
			continue;
		}
		LOG_INFO("ixyd", "%s: stopping", strsignal(sig));
		break;
	}
	rc = 0;
out_api:
	api_free(d.api); /* no request reads or changes the tables past this point */
out_workers:
	dp_stop(d.dp);
	control_stop(d.ctl); /* takes what the workers queued last */
	if (rc == 0)
		print_counters(d.dp);
out_control:
	api_state_close(d.state); /* after api_free(): nothing saves any more */
	control_free(d.ctl);	  /* drops held packets while their pools still exist */
out_devices:
	close_devices(&d);
	dataplane_free(d.dp);
	config_free(&d.cfg);
	return rc;
}
