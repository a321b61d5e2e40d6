/* mec/core.h — layer 1: status codes and error messages, allocator hooks,
 * tensors, threads, time and logging. Every other layer builds on this. */
#ifndef MEC_CORE_H
#define MEC_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MEC_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define MEC_PRINTF(fmt_idx, arg_idx)
#endif

/* ---------------------------------------------------------------- status */

typedef enum mec_status {
    MEC_OK = 0,
    MEC_ERR_INVALID_ARG, /* a caller passed something unusable */
    MEC_ERR_IO,          /* a file could not be opened, read or written */
    MEC_ERR_PARSE,       /* malformed input: ONNX, npy, CSV, YAML, request */
    MEC_ERR_UNSUPPORTED, /* well-formed, but an op/opset/dtype/feature we do not run */
    MEC_ERR_SHAPE,       /* invalid or mismatched dimensions */
    MEC_ERR_DTYPE,       /* wrong element type */
    MEC_ERR_NOMEM,       /* allocation failed */
    MEC_ERR_RANGE,       /* an index or value out of its allowed range */
    MEC_ERR_GRAPH,       /* cycle, missing input, dangling value */
    MEC_ERR_NOT_FOUND,   /* a named thing does not exist */
    MEC_ERR_INTERNAL,    /* a bug in mecbench: please report */
    MEC_ERR_DEFER,       /* shape inference: needs run-time values (not an error) */
    MEC_STATUS_COUNT
} mec_status;

const char *mec_status_name(mec_status s);

/* Records a formatted message for the calling thread and returns s, so that
 *   return mec_error(MEC_ERR_SHAPE, "node '%s': input 1 has %d dims, expected 4", ...);
 * is the idiom. The message should name file/node/field/value. */
mec_status mec_error(mec_status s, const char *fmt, ...) MEC_PRINTF(2, 3);
/* Prepends context ("model.onnx: ") to the current message; returns s. */
mec_status mec_error_prefix(mec_status s, const char *fmt, ...) MEC_PRINTF(2, 3);
/* The last message recorded on this thread ("" if none). */
const char *mec_last_error(void);
void mec_error_clear(void);

/* ------------------------------------------------------------- allocator */

/* Allocator hooks: alloc must return memory aligned to `align` (a power of 2)
 * or NULL. Install before any other call; NULL restores the default. */
typedef struct mec_allocator {
    void *(*alloc)(void *user, size_t bytes, size_t align);
    void (*free)(void *user, void *ptr);
    void *user;
} mec_allocator;

void mec_set_allocator(const mec_allocator *a);

#define MEC_ALIGN 64
/* 64-byte aligned; NULL (with a MEC_ERR_NOMEM message) on failure. 0 bytes
 * returns a valid unique pointer. */
void *mec_malloc(size_t bytes);
void *mec_calloc(size_t count, size_t size); /* overflow-checked, zeroed */
void *mec_realloc(void *ptr, size_t old_bytes, size_t new_bytes);
void mec_free(void *ptr);
char *mec_strdup(const char *s);
char *mec_strndup(const char *s, size_t n);

/* Failure injection for tests: the n-th allocation from now fails (0 = the
 * next one); n < 0 disables. mec_alloc_count counts allocations made. */
void mec_alloc_fail_after(long n);
long mec_alloc_count(void);

/* Overflow-checked size arithmetic: return false on overflow. */
bool mec_size_mul(size_t a, size_t b, size_t *out);
bool mec_size_add(size_t a, size_t b, size_t *out);

/* ---------------------------------------------------------------- dtypes */

/* Numbered as ONNX's TensorProto.DataType so files map 1:1. */
typedef enum mec_dtype {
    MEC_UNDEFINED = 0,
    MEC_F32 = 1,
    MEC_U8 = 2,
    MEC_I8 = 3,
    MEC_U16 = 4,
    MEC_I16 = 5,
    MEC_I32 = 6,
    MEC_I64 = 7,
    MEC_STRING = 8,
    MEC_BOOL = 9,
    MEC_F16 = 10,
    MEC_F64 = 11,
    MEC_U32 = 12,
    MEC_U64 = 13,
    MEC_COMPLEX64 = 14,
    MEC_COMPLEX128 = 15,
    MEC_BF16 = 16,
    MEC_DTYPE_MAX = 17
} mec_dtype;

/* Bytes per element; 0 for types a tensor cannot hold (string, complex). */
size_t mec_dtype_size(mec_dtype t);
/* "float32", "int64", ... ; "dtype(N)" style names for unknown values. */
const char *mec_dtype_name(mec_dtype t);
/* Parses "f32"/"float32"/"float"/"int8"/"i8"/... ; MEC_UNDEFINED if unknown. */
mec_dtype mec_dtype_parse(const char *s);

float mec_f16_to_f32(uint16_t h);
uint16_t mec_f32_to_f16(float f);
float mec_bf16_to_f32(uint16_t h);
uint16_t mec_f32_to_bf16(float f);

/* ---------------------------------------------------------------- tensor */

#define MEC_MAX_DIMS 8
/* Any tensor we create holds at most this many elements (2^40): bounds every
 * size read from a file before it reaches an allocation. */
#define MEC_MAX_NUMEL ((int64_t)1 << 40)

/* A tensor: element type, shape, strides (in elements) and data. A tensor made
 * by mec_tensor_alloc owns `owned`; views and wrappers of outside memory do
 * not. Kernels receive contiguous tensors unless they say otherwise. */
typedef struct mec_tensor {
    mec_dtype dtype;
    int ndim;
    int64_t shape[MEC_MAX_DIMS];
    int64_t strides[MEC_MAX_DIMS];
    void *data;      /* first element; NULL when only the type/shape is known */
    void *owned;     /* buffer this tensor frees, or NULL */
    size_t capacity; /* bytes in `owned` */
} mec_tensor;

/* Sets dtype/shape with contiguous strides; data = NULL, nothing owned.
 * Checks dims (>= 0, numel <= MEC_MAX_NUMEL, ndim <= MEC_MAX_DIMS). */
mec_status mec_tensor_init(mec_tensor *t, mec_dtype dtype, int ndim, const int64_t *shape);
/* Wraps outside memory (not owned). */
mec_status mec_tensor_wrap(mec_tensor *t, mec_dtype dtype, int ndim, const int64_t *shape,
                           void *data);
/* Gives t (already shaped) an owned, zeroed, contiguous buffer. Reuses the
 * current owned buffer if it is large enough. */
mec_status mec_tensor_alloc(mec_tensor *t);
/* Changes shape (contiguous strides) keeping the buffer; reallocates if the
 * owned buffer is too small and the tensor owns its data. */
mec_status mec_tensor_reshape(mec_tensor *t, int ndim, const int64_t *shape);
/* Frees what the tensor owns and clears it. */
void mec_tensor_release(mec_tensor *t);

/* Heap-allocated tensors (for graphs, sessions and callers). */
mec_status mec_tensor_create(mec_tensor **out, mec_dtype dtype, int ndim, const int64_t *shape);
void mec_tensor_destroy(mec_tensor *t);
/* Deep copy into a new contiguous owned tensor. */
mec_status mec_tensor_clone(const mec_tensor *src, mec_tensor **out);
/* Copies src (any strides) into dst (contiguous, same dtype and numel). */
mec_status mec_tensor_copy(mec_tensor *dst, const mec_tensor *src);

int64_t mec_tensor_numel(const mec_tensor *t);
size_t mec_tensor_bytes(const mec_tensor *t);
bool mec_tensor_is_contiguous(const mec_tensor *t);
bool mec_tensor_same_shape(const mec_tensor *a, const mec_tensor *b);
void mec_tensor_contiguous_strides(mec_tensor *t);

/* Element i (row-major index over the shape, honouring strides) read as a
 * double / int64, for any numeric dtype. For small tensors and tests. */
double mec_tensor_get_f64(const mec_tensor *t, int64_t i);
int64_t mec_tensor_get_i64(const mec_tensor *t, int64_t i);
/* Element i of a contiguous tensor written from a double (saturating casts
 * are the caller's business). */
void mec_tensor_set_f64(mec_tensor *t, int64_t i, double v);

/* "(1, 3, 224, 224)" into buf; returns buf. */
char *mec_shape_str(int ndim, const int64_t *shape, char *buf, size_t n);

/* --------------------------------------------------------------- threads */

/* Cores this process may really use: CPU affinity, bounded by a cgroup
 * (v1 or v2) CPU quota when one is set. At least 1. */
int mec_threads_available(void);
/* The cgroup (v1 or v2) CPU quota in cores, rounded up; 0 when none is set. */
int mec_cpu_quota_cores(void);
/* Threads for our parallel loops and the kernel library (OpenMP). n <= 0
 * means mec_threads_available(). */
void mec_threads_set(int n);
int mec_threads_get(void);

/* ------------------------------------------------------------ time, logs */

uint64_t mec_now_ns(void); /* monotonic */
double mec_now_ms(void);

typedef enum mec_log_level { MEC_LOG_ERROR, MEC_LOG_WARN, MEC_LOG_INFO, MEC_LOG_DEBUG } mec_log_level;
/* Level from $MEC_LOG (error|warn|info|debug), default warn. To stderr. */
void mec_log(mec_log_level lvl, const char *fmt, ...) MEC_PRINTF(2, 3);
void mec_log_set_level(mec_log_level lvl);

/* ---------------------------------------------------------------- files */

/* Reads a whole file into a new buffer (mec_free it). Bounded by max_bytes. */
mec_status mec_file_read(const char *path, size_t max_bytes, void **data, size_t *len);
/* Writes atomically: temp file in the same directory, fsync, rename. */
mec_status mec_file_write_atomic(const char *path, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
