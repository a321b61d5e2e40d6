/* Per-dtype "stamps" for the elementwise, activation and reduce kernels: one
 * macro body expanded once per dtype, plus the dtype lists and table helpers
 * that go with them. Internal to src/ops; include after op_util.h. */
#ifndef MEC_OP_STAMP_H
#define MEC_OP_STAMP_H

#include "op_util.h"

#include <stdint.h>

/* Below this many elements a loop runs on one thread. */
#define PAR_MIN_ELEMS ((int64_t)1 << 15)

/* Every stamp X(sfx, T, C, LD, ST, ...) names a dtype suffix, its storage
 * type T, the type C we compute in, and the load/store conversions between
 * them (identity except for the 16-bit floats, computed in float). */
#define LD_ID(v) (v)
#define ST_ID(v) (v)
#define LD_F16(v) mec_f16_to_f32(v)
#define ST_F16(v) mec_f32_to_f16((float)(v))
#define LD_BF16(v) mec_bf16_to_f32(v)
#define ST_BF16(v) mec_f32_to_bf16((float)(v))

#define FLOAT_TYPES(X, ...)                                                                      \
    X(f32, float, float, LD_ID, ST_ID, __VA_ARGS__)                                              \
    X(f64, double, double, LD_ID, ST_ID, __VA_ARGS__)                                            \
    X(f16, uint16_t, float, LD_F16, ST_F16, __VA_ARGS__)                                         \
    X(bf16, uint16_t, float, LD_BF16, ST_BF16, __VA_ARGS__)
#define SINT_TYPES(X, ...)                                                                       \
    X(i8, int8_t, int8_t, LD_ID, ST_ID, __VA_ARGS__)                                             \
    X(i16, int16_t, int16_t, LD_ID, ST_ID, __VA_ARGS__)                                          \
    X(i32, int32_t, int32_t, LD_ID, ST_ID, __VA_ARGS__)                                          \
    X(i64, int64_t, int64_t, LD_ID, ST_ID, __VA_ARGS__)
#define UINT_TYPES(X, ...)                                                                       \
    X(u8, uint8_t, uint8_t, LD_ID, ST_ID, __VA_ARGS__)                                           \
    X(u16, uint16_t, uint16_t, LD_ID, ST_ID, __VA_ARGS__)                                        \
    X(u32, uint32_t, uint32_t, LD_ID, ST_ID, __VA_ARGS__)                                        \
    X(u64, uint64_t, uint64_t, LD_ID, ST_ID, __VA_ARGS__)
#define INT_TYPES(X, ...) SINT_TYPES(X, __VA_ARGS__) UINT_TYPES(X, __VA_ARGS__)
#define NUM_TYPES(X, ...) FLOAT_TYPES(X, __VA_ARGS__) INT_TYPES(X, __VA_ARGS__)
/* bool is stored as a byte and computed as int. */
#define BOOL_TYPE(X, ...) X(b8, uint8_t, int, LD_ID, ST_ID, __VA_ARGS__)
/* The empty list, for a family with no second list of types. */
#define NONE(X, ...)

/* DT_<sfx>: the mec_dtype of a stamp suffix. */
#define DT_f32 MEC_F32
#define DT_f64 MEC_F64
#define DT_f16 MEC_F16
#define DT_bf16 MEC_BF16
#define DT_i8 MEC_I8
#define DT_i16 MEC_I16
#define DT_i32 MEC_I32
#define DT_i64 MEC_I64
#define DT_u8 MEC_U8
#define DT_u16 MEC_U16
#define DT_u32 MEC_U32
#define DT_u64 MEC_U64
#define DT_b8 MEC_BOOL

/* Expressions passed into the stamps name the types as stype_ (storage)
 * and ctype_ (compute). */
#define LOCAL_TYPES(T, C)                                                                        \
    typedef T stype_ __attribute__((unused));                                                    \
    typedef C ctype_ __attribute__((unused));

/* Table entry [dtype] = fn for a stamped function family. */
#define TABLE_ENTRY(sfx, T, C, LD, ST, name) [DT_##sfx] = name##_##sfx,

/* Saturating double -> int64 conversion (a plain cast of an out-of-range
 * double is undefined behaviour). NaN gives 0. */
static inline int64_t f64_to_i64(double v) {
    if (v != v) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}

#endif
