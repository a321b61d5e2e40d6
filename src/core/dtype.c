/* Element types: sizes, names, half-precision conversions. */
#include "mec/core.h"

#include <string.h>
#include <strings.h>

size_t mec_dtype_size(mec_dtype t) {
    switch (t) {
    case MEC_F32: case MEC_I32: case MEC_U32: return 4;
    case MEC_U8: case MEC_I8: case MEC_BOOL: return 1;
    case MEC_U16: case MEC_I16: case MEC_F16: case MEC_BF16: return 2;
    case MEC_I64: case MEC_F64: case MEC_U64: return 8;
    default: return 0;
    }
}

const char *mec_dtype_name(mec_dtype t) {
    switch (t) {
    case MEC_UNDEFINED: return "undefined";
    case MEC_F32: return "float32";
    case MEC_U8: return "uint8";
    case MEC_I8: return "int8";
    case MEC_U16: return "uint16";
    case MEC_I16: return "int16";
    case MEC_I32: return "int32";
    case MEC_I64: return "int64";
    case MEC_STRING: return "string";
    case MEC_BOOL: return "bool";
    case MEC_F16: return "float16";
    case MEC_F64: return "float64";
    case MEC_U32: return "uint32";
    case MEC_U64: return "uint64";
    case MEC_BF16: return "bfloat16";
    case MEC_COMPLEX64: return "complex64";
    case MEC_COMPLEX128: return "complex128";
    default: return "unknown dtype";
    }
}

mec_dtype mec_dtype_parse(const char *s) {
    static const struct { const char *name; mec_dtype t; } names[] = {
        {"float32", MEC_F32}, {"f32", MEC_F32},   {"float", MEC_F32},   {"uint8", MEC_U8},
        {"u8", MEC_U8},       {"int8", MEC_I8},   {"i8", MEC_I8},       {"uint16", MEC_U16},
        {"int16", MEC_I16},   {"int32", MEC_I32}, {"i32", MEC_I32},     {"int64", MEC_I64},
        {"i64", MEC_I64},     {"bool", MEC_BOOL}, {"float16", MEC_F16}, {"f16", MEC_F16},
        {"half", MEC_F16},    {"float64", MEC_F64}, {"f64", MEC_F64},   {"double", MEC_F64},
        {"uint32", MEC_U32},  {"uint64", MEC_U64}, {"bfloat16", MEC_BF16},
    };
    if (!s) return MEC_UNDEFINED;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0) return names[i].t;
    return MEC_UNDEFINED;
}

float mec_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) {
                mant <<= 1;
                exp--;
            }
            mant &= 0x3ff;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t mec_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t exp = (x >> 23) & 0xff;
    uint32_t mant = x & 0x7fffff;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 | (mant >> 13) : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000;
        int shift = 14 - e;
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++; /* may carry into exp: correct */
    return (uint16_t)half;
}

float mec_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t mec_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40);
    uint32_t rounding = 0x7fff + ((x >> 16) & 1);
    return (uint16_t)((x + rounding) >> 16);
}
