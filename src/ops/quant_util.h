/* Quantization arithmetic shared by the quant kernels (and by fast int8
 * kernels that must agree with them bit for bit): round half to even,
 * saturation to the int8/uint8 range, requantization with a float
 * multiplier — computed as ONNX Runtime's MLAS reference does. */
#ifndef MEC_QUANT_UTIL_H
#define MEC_QUANT_UTIL_H

#include "mec/core.h"

#include <math.h>

/* Range of a quantized type as floats ([0, 255] for uint8, [-128, 127] for
 * int8, the int32 range otherwise). */
static inline float mec_q_min(mec_dtype t) {
    return t == MEC_U8 ? 0.0f : t == MEC_I8 ? -128.0f : -2147483648.0f;
}
static inline float mec_q_max(mec_dtype t) {
    return t == MEC_U8 ? 255.0f : t == MEC_I8 ? 127.0f : 2147483520.0f; /* largest float < 2^31 */
}

/* Round half to even (the default FE_TONEAREST mode; rintf, unlike
 * nearbyintf, does not save and restore the FP environment). */
static inline float mec_q_round(float v) { return rintf(v); }

/* Clamps an already rounded value into [lo, hi] and converts it; NaN goes to
 * lo, as MLAS's SSE max/min do. */
static inline int32_t mec_q_clamp(float v, float lo, float hi) {
    if (!(v >= lo)) v = lo;
    if (v > hi) v = hi;
    return (int32_t)v;
}

/* QuantizeLinear of one value: saturate(round(x / scale) + zero_point). */
static inline int32_t mec_q_quantize(float x, float scale, int32_t zero_point, float lo, float hi) {
    return mec_q_clamp(mec_q_round(x / scale) + (float)zero_point, lo, hi);
}

/* Requantizes an int32 accumulator with a float multiplier
 * (x_scale * w_scale / y_scale): saturate(round(acc * multiplier) + zero_point). */
static inline int32_t mec_q_requantize(int32_t acc, float multiplier, int32_t zero_point, float lo,
                                       float hi) {
    return mec_q_clamp(mec_q_round((float)acc * multiplier) + (float)zero_point, lo, hi);
}

#endif
