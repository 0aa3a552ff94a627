/*
 * memory.c: DMA memory from huge pages, virtual-to-physical translation, and the record of
 * allocated regions that device models check DMA addresses against. See memory.h.
 */
#include "memory.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"
#include "log.h"

#define SMALL_PAGE_SIZE 4096u
/* Where we mount hugetlbfs when nothing is mounted yet. */
#define HUGETLBFS_PRIVATE_MOUNT "/run/ixyd-hugepages"

/* One allocated region. page_iova[] holds the bus address of each page of page_size bytes
 * (huge pages in PA mode are only contiguous page by page). */
struct region_record {
	void *virt;
	size_t size_bytes;
	size_t page_size;
	uint64_t *page_iova;
	size_t num_pages;
	bool huge;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static enum memory_iova_mode iova_mode = MEMORY_IOVA_PA;
static bool huge_pages = true;
static struct region_record *regions;
static size_t num_regions;
static size_t cap_regions;
static char hugetlbfs_dir[256];

int memory_configure(enum memory_iova_mode mode, bool use_huge_pages)
{
	if (mode == MEMORY_IOVA_PA && !use_huge_pages)
		return -EINVAL; /* small pages may move or be swapped under a device's DMA */
	pthread_mutex_lock(&lock);
	int err = 0;
	if (num_regions > 0) {
		err = -EBUSY;
	} else {
		iova_mode = mode;
		huge_pages = use_huge_pages;
	}
	pthread_mutex_unlock(&lock);
	return err;
}

enum memory_iova_mode memory_iova_mode(void)
{
	pthread_mutex_lock(&lock);
	enum memory_iova_mode mode = iova_mode;
	pthread_mutex_unlock(&lock);
	return mode;
}

/* Find a mounted hugetlbfs with 2 MiB pages, or mount one. Called with lock held. */
static int find_or_mount_hugetlbfs(void)
{
	if (hugetlbfs_dir[0])
		return 0;
	FILE *f = fopen("/proc/mounts", "r");
	if (!f)
		return -errno;
	char dev[256], dir[256], type[64], opts[512];
	while (fscanf(f, "%255s %255s %63s %511s %*d %*d", dev, dir, type, opts) == 4) {
		if (strcmp(type, "hugetlbfs") != 0)
			continue;
		/* A mount without pagesize= uses the default huge page size, 2 MiB on x86-64. */
		if (strstr(opts, "pagesize=") && !strstr(opts, "pagesize=2M") &&
		    !strstr(opts, "pagesize=2048k"))
			continue;
		snprintf(hugetlbfs_dir, sizeof(hugetlbfs_dir), "%s", dir);
		break;
	}
	fclose(f);
	if (hugetlbfs_dir[0])
		return 0;
	if (mkdir(HUGETLBFS_PRIVATE_MOUNT, 0700) && errno != EEXIST) {
		int err = -errno;
		LOG_ERR("memory", "cannot create %s: %s", HUGETLBFS_PRIVATE_MOUNT, strerror(errno));
		return err;
	}
	if (mount("nodev", HUGETLBFS_PRIVATE_MOUNT, "hugetlbfs", 0, "pagesize=2M")) {
		int err = -errno;
		LOG_ERR("memory", "no hugetlbfs mounted and mounting one at %s failed: %s",
			HUGETLBFS_PRIVATE_MOUNT, strerror(errno));
		return err;
	}
	LOG_INFO("memory", "mounted hugetlbfs at %s", HUGETLBFS_PRIVATE_MOUNT);
	snprintf(hugetlbfs_dir, sizeof(hugetlbfs_dir), "%s", HUGETLBFS_PRIVATE_MOUNT);
	return 0;
}

static long read_meminfo_value(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	char line[256];
	long value = -1;
	size_t key_len = strlen(key);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, key_len) == 0 && line[key_len] == ':') {
			value = strtol(line + key_len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return value;
}

/* Map size_bytes (a multiple of 2 MiB) of huge pages. Called with lock held. */
static void *map_huge(size_t size_bytes, int *err)
{
	*err = find_or_mount_hugetlbfs();
	if (*err)
		return NULL;
	char path[300];
	snprintf(path, sizeof(path), "%s/ixyd-XXXXXX", hugetlbfs_dir);
	int fd = mkstemp(path);
	if (fd < 0) {
		*err = -errno;
		LOG_ERR("memory", "cannot create a file on hugetlbfs %s: %s", hugetlbfs_dir,
			strerror(errno));
		return NULL;
	}
	/* The file only names the pages; unlinking it now means nothing is left behind if we
	 * crash, and the pages go back to the kernel when the mapping goes. */
	unlink(path);
	void *virt = MAP_FAILED;
	if (ftruncate(fd, (off_t)size_bytes) == 0)
		/* MAP_SHARED on hugetlbfs reserves the pages at mmap time, so a shortage fails
		 * here with ENOMEM rather than as SIGBUS on first touch. */
		virt = mmap(NULL, size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			    0);
	int map_errno = errno;
	close(fd);
	if (virt == MAP_FAILED) {
		*err = -map_errno;
		if (map_errno == ENOMEM || map_errno == EINVAL) {
			*err = -ENOMEM;
			LOG_ERR("memory",
				"no huge pages for %zu MiB of DMA memory (HugePages_Free: %ld of 2 "
				"MiB). "
				"Reserve some as root: echo 512 > /proc/sys/vm/nr_hugepages",
				size_bytes >> 20, read_meminfo_value("HugePages_Free"));
		} else {
			LOG_ERR("memory", "mmap of huge pages failed: %s", strerror(map_errno));
		}
		return NULL;
	}
	return virt;
}

/* Physical address of virt via /proc/self/pagemap (Documentation/admin-guide/mm/pagemap.rst:
 * one 64-bit entry per 4 KiB page, bits 0-54 the page frame number, bit 63 "present"). */
static uint64_t pagemap_phys(const void *virt, int *err)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0) {
		*err = -errno;
		return 0;
	}
	uintptr_t addr = (uintptr_t)virt;
	uint64_t entry = 0;
	ssize_t n =
	    pread(fd, &entry, sizeof(entry), (off_t)(addr / SMALL_PAGE_SIZE * sizeof(entry)));
	close(fd);
	if (n != (ssize_t)sizeof(entry)) {
		*err = n < 0 ? -errno : -EIO;
		return 0;
	}
	uint64_t pfn = entry & ((1ull << 55) - 1);
	if (!(entry >> 63) || pfn == 0) {
		/* Without CAP_SYS_ADMIN the kernel reports PFN 0 for every page. */
		*err = -EACCES;
		return 0;
	}
	*err = 0;
	return pfn * SMALL_PAGE_SIZE + addr % SMALL_PAGE_SIZE;
}

/* Called with lock held. */
static int record_region(void *virt, size_t size_bytes, bool huge)
{
	size_t page_size = huge ? HUGE_PAGE_SIZE : SMALL_PAGE_SIZE;
	size_t num_pages = size_bytes / page_size;
	uint64_t *page_iova = calloc(num_pages, sizeof(*page_iova));
	if (!page_iova)
		return -ENOMEM;
	for (size_t i = 0; i < num_pages; i++) {
		char *page = (char *)virt + i * page_size;
		if (iova_mode == MEMORY_IOVA_VA) {
			page_iova[i] = (uintptr_t)page;
		} else {
			int err;
			page_iova[i] = pagemap_phys(page, &err);
			if (err) {
				LOG_ERR("memory",
					"cannot read physical addresses from "
					"/proc/self/pagemap (%s): run as root",
					strerror(-err));
				free(page_iova);
				return err;
			}
		}
	}
	if (num_regions == cap_regions) {
		size_t cap = cap_regions ? cap_regions * 2 : 16;
		struct region_record *grown = realloc(regions, cap * sizeof(*grown));
		if (!grown) {
			free(page_iova);
			return -ENOMEM;
		}
		regions = grown;
		cap_regions = cap;
	}
	regions[num_regions++] = (struct region_record){
	    .virt = virt,
	    .size_bytes = size_bytes,
	    .page_size = page_size,
	    .page_iova = page_iova,
	    .num_pages = num_pages,
	    .huge = huge,
	};
	return 0;
}

int dma_alloc(size_t size_bytes, bool require_contiguous, struct dma_region *out)
{
	memset(out, 0, sizeof(*out));
	if (size_bytes == 0)
		return -EINVAL;
	pthread_mutex_lock(&lock);
	int err = 0;
	void *virt = NULL;
	size_t mapped = 0;
	if (huge_pages) {
		if (require_contiguous && iova_mode == MEMORY_IOVA_PA &&
		    size_bytes > HUGE_PAGE_SIZE) {
			LOG_ERR("memory", "%zu bytes cannot be physically contiguous (max 2 MiB)",
				size_bytes);
			err = -EINVAL;
			goto out_unlock;
		}
		mapped = ALIGN_UP(size_bytes, (size_t)HUGE_PAGE_SIZE);
		virt = map_huge(mapped, &err);
	} else {
		mapped = ALIGN_UP(size_bytes, (size_t)SMALL_PAGE_SIZE);
		virt =
		    mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (virt == MAP_FAILED) {
			virt = NULL;
			err = -errno;
		}
	}
	if (!virt)
		goto out_unlock;
	memset(virt, 0, mapped);
	err = record_region(virt, mapped, huge_pages);
	if (err)
		goto out_unmap;
	out->virt = virt;
	out->iova = regions[num_regions - 1].page_iova[0];
	out->size_bytes = mapped;
	pthread_mutex_unlock(&lock);
	return 0;

out_unmap:
	munmap(virt, mapped);
out_unlock:
	pthread_mutex_unlock(&lock);
	return err;
}

void dma_free(struct dma_region *region)
{
	if (!region || !region->virt)
		return;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < num_regions; i++) {
		if (regions[i].virt != region->virt)
			continue;
		free(regions[i].page_iova);
		munmap(regions[i].virt, regions[i].size_bytes);
		regions[i] = regions[--num_regions];
		break;
	}
	pthread_mutex_unlock(&lock);
	memset(region, 0, sizeof(*region));
}

uint64_t memory_virt_to_iova(const void *virt)
{
	uintptr_t addr = (uintptr_t)virt;
	uint64_t iova = 0;
	pthread_mutex_lock(&lock);
	errno = EFAULT;
	for (size_t i = 0; i < num_regions; i++) {
		uintptr_t start = (uintptr_t)regions[i].virt;
		if (addr < start || addr >= start + regions[i].size_bytes)
			continue;
		size_t page = (addr - start) / regions[i].page_size;
		iova = regions[i].page_iova[page] + (addr - start) % regions[i].page_size;
		errno = 0;
		break;
	}
	pthread_mutex_unlock(&lock);
	return iova;
}

void *memory_iova_to_virt(uint64_t iova, size_t len)
{
	void *virt = NULL;
	if (len == 0)
		len = 1;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < num_regions && !virt; i++) {
		const struct region_record *r = &regions[i];
		for (size_t p = 0; p < r->num_pages; p++) {
			uint64_t base = r->page_iova[p];
			if (iova < base || iova - base >= r->page_size)
				continue;
			/* The range must not run past the end of this page unless the next page
			 * continues it on the bus too. */
			uint64_t end = iova + len;
			size_t q = p;
			while (end > r->page_iova[q] + r->page_size) {
				if (q + 1 >= r->num_pages ||
				    r->page_iova[q + 1] != r->page_iova[q] + r->page_size)
					goto next_region;
				q++;
			}
			virt = (char *)r->virt + p * r->page_size + (iova - base);
			break;
		}
	next_region:;
	}
	pthread_mutex_unlock(&lock);
	return virt;
}
