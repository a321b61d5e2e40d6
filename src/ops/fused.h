/* Epilogues shared by the fused kernels (reference and fast). Internal. */
#ifndef MEC_OPS_FUSED_H
#define MEC_OPS_FUSED_H

#include "mec/ops.h"

typedef enum mec_fused_act { MEC_ACT_NONE, MEC_ACT_RELU, MEC_ACT_GELU } mec_fused_act;

/* The node's "activation" attribute; *st is set on an unknown name. */
mec_fused_act mec_fused_activation(const mec_op_ctx *ctx, mec_status *st);
/* Applies the activation in place on n floats. */
void mec_fused_apply(float *y, int64_t n, mec_fused_act act);

#endif
