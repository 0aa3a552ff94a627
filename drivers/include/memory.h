/*
 * memory.h: DMA memory for drivers.
 *
 * Devices read and write descriptor rings and packet buffers by bus address (IOVA). Two modes:
 *   MEMORY_IOVA_PA  the device sees physical addresses (no IOMMU; real NICs and QEMU's devices):
 *                   memory comes from 2 MiB huge pages on hugetlbfs, which the kernel never moves
 *                   or swaps, and /proc/self/pagemap gives the physical address of each page.
 *   MEMORY_IOVA_VA  the device sees our virtual addresses (what an IOMMU set up through VFIO
 *                   gives, and what the ixgbe model uses); huge pages are optional here.
 * Every region handed out is recorded, so a device model can check that a DMA address lies in
 * memory the driver allocated (memory_iova_to_virt()).
 *
 * Thread safety: all functions may be called from any thread; allocation is a control-path
 * operation (a mutex protects the region list).
 */
#ifndef IXYD_MEMORY_H
#define IXYD_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HUGE_PAGE_BITS 21
#define HUGE_PAGE_SIZE (1u << HUGE_PAGE_BITS) /* 2 MiB, the x86-64 PMD page size */

enum memory_iova_mode { MEMORY_IOVA_PA = 0, MEMORY_IOVA_VA };

struct dma_region {
	void *virt;
	uint64_t iova; /* bus address of virt[0] as the device sees it */
	size_t size_bytes;
};

/* Choose the IOVA mode and whether huge pages are required, before the first allocation.
 * Defaults: MEMORY_IOVA_PA with huge pages (the only combination real devices work with).
 * Returns 0, or -EBUSY if memory was already allocated, -EINVAL for PA without huge pages. */
int memory_configure(enum memory_iova_mode mode, bool use_huge_pages);
enum memory_iova_mode memory_iova_mode(void);

/*
 * Allocate zeroed DMA memory of size_bytes (rounded up to whole huge pages when huge pages
 * are used). With require_contiguous the region is IOVA-contiguous: in PA mode that limits it
 * to one huge page (2 MiB), since nothing guarantees two huge pages are physically adjacent.
 * Returns 0 and fills *out, or -ENOMEM when no huge page can be had (the message logged says
 * how to reserve them), -EINVAL for a contiguous request over 2 MiB in PA mode, -EACCES when
 * physical addresses cannot be read (not root), other -errno from mount/mmap.
 */
int dma_alloc(size_t size_bytes, bool require_contiguous, struct dma_region *out);
/* Release a region from dma_alloc(); a region with virt == NULL is ignored. */
void dma_free(struct dma_region *region);

/* Bus address of a virtual address inside a region from dma_alloc() (reads pagemap in PA
 * mode; a control-path call, not for the hot path). Returns 0 on failure with errno set. */
uint64_t memory_virt_to_iova(const void *virt);

/* For device models: the virtual address of [iova, iova+len) if the whole range lies inside
 * one region this process allocated with dma_alloc(), else NULL. */
void *memory_iova_to_virt(uint64_t iova, size_t len);

#endif
