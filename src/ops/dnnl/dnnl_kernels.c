/* The oneDNN kernel family (impl "dnnl"): listed before the reference
 * kernels in the registry so that "auto" picks them. */
#include "dnnl_common.h"

#define STRIDED MEC_KF_STRIDED

const mec_kernel mec_kernels_dnnl[] = {
    {"Conv", "", 1, 17, "dnnl", STRIDED, 0, mec_dnnl_conv_infer, mec_dnnl_conv_exec, mec_dnnl_conv_prepare, mec_dnnl_conv_release, mec_dnnl_ref_flops},
    {"FusedConv", "mec", 1, 1, "dnnl", STRIDED, 0, mec_dnnl_conv_infer, mec_dnnl_conv_exec, mec_dnnl_conv_prepare, mec_dnnl_conv_release, mec_dnnl_ref_flops},
    {0},
};
