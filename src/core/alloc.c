/* Allocator hooks, overflow-checked sizes and failure injection for tests. */
#include "mec/core.h"

#include <stdatomic.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

/* Large blocks (weights, activations) go on transparent huge pages: a fault
 * per 2 MiB instead of per 4 KiB, which halves model load time in a VM, and
 * fewer TLB misses in the kernels. */
#define HUGE_BYTES ((size_t)2 << 20)

static void *default_alloc(void *user, size_t bytes, size_t align) {
    (void)user;
    if (bytes >= 2 * HUGE_BYTES) {
        size_t rounded = (bytes + HUGE_BYTES - 1) / HUGE_BYTES * HUGE_BYTES;
        void *p = aligned_alloc(HUGE_BYTES, rounded);
#ifdef MADV_HUGEPAGE
        /* only the whole pages of data: a huge page over the padding after
         * it would be faulted in whole (25 MiB of BERT-base's peak) */
        if (p) madvise(p, bytes / HUGE_BYTES * HUGE_BYTES, MADV_HUGEPAGE);
#endif
        return p;
    }
    size_t rounded = (bytes + align - 1) / align * align;
    if (rounded == 0) rounded = align;
    return aligned_alloc(align, rounded);
}

static void default_free(void *user, void *ptr) {
    (void)user;
    free(ptr);
}

static mec_allocator current = {default_alloc, default_free, NULL};
static atomic_long fail_countdown = -1;
static atomic_long alloc_counter = 0;

void mec_set_allocator(const mec_allocator *a) {
    if (a && a->alloc && a->free) current = *a;
    else current = (mec_allocator){default_alloc, default_free, NULL};
}

void mec_alloc_fail_after(long n) { atomic_store(&fail_countdown, n < 0 ? -1 : n); }

long mec_alloc_count(void) { return atomic_load(&alloc_counter); }

bool mec_size_mul(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return false;
    *out = a * b;
    return true;
}

bool mec_size_add(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return false;
    *out = a + b;
    return true;
}

void *mec_malloc(size_t bytes) {
    atomic_fetch_add(&alloc_counter, 1);
    long left = atomic_load(&fail_countdown);
    if (left >= 0) {
        if (left == 0) {
            atomic_store(&fail_countdown, -1);
            mec_error(MEC_ERR_NOMEM, "out of memory (injected failure, %zu bytes)", bytes);
            return NULL;
        }
        atomic_fetch_sub(&fail_countdown, 1);
    }
    if (bytes > ((size_t)1 << 46)) {
        mec_error(MEC_ERR_NOMEM, "out of memory: refusing to allocate %zu bytes", bytes);
        return NULL;
    }
    void *p = current.alloc(current.user, bytes, MEC_ALIGN);
    if (!p) mec_error(MEC_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    return p;
}

void *mec_calloc(size_t count, size_t size) {
    size_t bytes;
    if (!mec_size_mul(count, size, &bytes)) {
        mec_error(MEC_ERR_NOMEM, "allocation size overflow (%zu x %zu)", count, size);
        return NULL;
    }
    void *p = mec_malloc(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void *mec_realloc(void *ptr, size_t old_bytes, size_t new_bytes) {
    void *p = mec_malloc(new_bytes);
    if (!p) return NULL;
    if (ptr) {
        memcpy(p, ptr, old_bytes < new_bytes ? old_bytes : new_bytes);
        mec_free(ptr);
    }
    return p;
}

void mec_free(void *ptr) {
    if (ptr) current.free(current.user, ptr);
}

char *mec_strndup(const char *s, size_t n) {
    if (!s) return NULL;
    size_t len = strnlen(s, n);
    char *d = mec_malloc(len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *mec_strdup(const char *s) { return s ? mec_strndup(s, SIZE_MAX) : NULL; }
