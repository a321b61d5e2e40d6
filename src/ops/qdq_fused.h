/* The int8 ops of the QDQ pass (mec.QConv, mec.QAdd, mec.QMatMul): what their reference
 * kernels (qdq_fused.c) share with the fast ones (dnnl/dnnl_int8.c). Internal. */
#ifndef MEC_OPS_QDQ_FUSED_H
#define MEC_OPS_QDQ_FUSED_H

#include "mec/ops.h"

#include <stdbool.h>

/* mec.QConv: infer through the reference QLinearConv (which checks all),
 * and the trailing (sum_scale, sum_zero_point, sum) when there. */
mec_status mec_qconv_ref_infer(mec_op_ctx *ctx);
/* The mec.QConv node has the trailing sum inputs (inputs 9, 10, 11). */
bool mec_qconv_has_sum(const mec_op_ctx *ctx);
/* 2 * numel(y) * (numel(w) / M) for QLinearConv and mec.QConv. */
int64_t mec_qconv_flops(const mec_op_ctx *ctx);
/* y[i] = max(y[i], zp) over a uint8/int8 tensor y (ReLU at the zero point). */
void mec_q_clamp_below(mec_tensor *y, const mec_tensor *zp);

typedef struct mec_qadd_params {
    float a_scale, b_scale, y_scale, lo, hi;
    int32_t a_zp, b_zp, y_zp;
    bool relu;
    bool float_out; /* 6 inputs, no y_scale/y_zp: y is the float sum */
} mec_qadd_params;

/* Checks a mec.QAdd node's inputs; fills p (may be NULL) when their data is there. */
mec_status mec_qadd_check(const mec_op_ctx *ctx, mec_qadd_params *p);

/* Relu?(DequantizeLinear(a) + DequantizeLinear(b)) in float, with the
 * operations of the reference DequantizeLinear, Add and Relu kernels. */
static inline float mec_qadd_one(const mec_qadd_params *p, int32_t a, int32_t b) {
    float v = (float)(a - p->a_zp) * p->a_scale + (float)(b - p->b_zp) * p->b_scale;
    return p->relu && !(v > 0) ? 0.0f : v;
}

#endif
