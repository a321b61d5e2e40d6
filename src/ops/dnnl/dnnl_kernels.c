/* The oneDNN kernel family (impl "dnnl"): listed before the reference
 * kernels in the registry so that "auto" picks them. Each kernel runs the
 * reference kernel for what oneDNN does not (see dnnl_common.h), so it is
 * never less general than the reference. */
#include "dnnl_common.h"

#define CONV(op, dom, lo, hi)                                                                    \
    {op, dom, lo, hi, "dnnl", MEC_KF_STRIDED, 0, mec_dnnl_conv_infer, mec_dnnl_conv_exec,       \
     mec_dnnl_conv_prepare, mec_dnnl_conv_release, mec_dnnl_ref_flops}
/* FusedConv sums its residual in dst: dst may take over the residual's buffer */
#define FCONV(op, dom, lo, hi)                                                                   \
    {op, dom, lo, hi, "dnnl", MEC_KF_STRIDED | MEC_KF_SUM_INPLACE, 0, mec_dnnl_conv_infer,       \
     mec_dnnl_conv_exec, mec_dnnl_conv_prepare, mec_dnnl_conv_release, mec_dnnl_ref_flops}
#define POOL(op, lo, hi)                                                                         \
    {op, "", lo, hi, "dnnl", MEC_KF_STRIDED, 0, mec_dnnl_pool_infer, mec_dnnl_pool_exec,        \
     mec_dnnl_pool_prepare, mec_dnnl_pool_release, mec_dnnl_ref_flops}
/* contiguous inputs: MatMul operands are rarely channels-last views */
#define MM(op, dom, lo, hi)                                                                      \
    {op, dom, lo, hi, "dnnl", 0, 0, mec_dnnl_mm_infer, mec_dnnl_mm_exec, mec_dnnl_mm_prepare,   \
     mec_dnnl_mm_release, mec_dnnl_ref_flops}

const mec_kernel mec_kernels_dnnl[] = {
    CONV("Conv", "", 1, 17),
    FCONV("FusedConv", "mec", 1, 1),
    /* the same opset ranges as the reference kernels */
    POOL("MaxPool", 1, 7),
    POOL("MaxPool", 8, 17),
    POOL("AveragePool", 1, 17),
    POOL("GlobalAveragePool", 1, 17),
    POOL("GlobalMaxPool", 1, 17),
    MM("MatMul", "", 1, 17),
    MM("FusedMatMul", "mec", 1, 1),
    MM("Gemm", "", 1, 10),
    MM("Gemm", "", 11, 17),
    {0},
};
