/* Graph optimisation passes run by sessions (internal to the runtime). */
#ifndef MEC_RUNTIME_OPTIMIZE_H
#define MEC_RUNTIME_OPTIMIZE_H

#include "mec/graph.h"

typedef struct mec_optimize_report {
    int bn_folded;    /* BatchNormalization folded into Conv weights */
    int conv_fused;   /* Conv(+Add)(+Relu) into mec.FusedConv */
    int matmul_fused; /* MatMul+Add(+Gelu|Relu) into mec.FusedMatMul */
    int qdq_fused;    /* DequantizeLinear → Conv/MatMul/Gemm → QuantizeLinear into int8 ops */
    int constants_inlined; /* Constant nodes turned into initializers */
    int layernorm_fused;   /* decomposed LayerNorm into mec.LayerNormalization */
    int skip_layernorm_fused; /* Add → LayerNorm into mec.LayerNormalization's Skip */
    int attention_fused;   /* MatMul-scale-[mask]-Softmax-MatMul into mec.Attention */
} mec_optimize_report;

/* The QDQ pass (optimize_qdq.c): int8 patterns into real int8 ops. Marks
 * replaced nodes in removed[] (sized n_nodes + 1 by the caller). */
mec_status mec_optimize_qdq(mec_graph *g, char *removed, int *count);

/* The transformer passes (optimize_transformer.c): Constant nodes into
 * initializers, decomposed LayerNorm and attention into fused "mec" ops.
 * Adds to rep's counters. */
mec_status mec_optimize_transformer(mec_graph *g, mec_optimize_report *rep);

/* Consumers of each value: count (graph outputs add MEC_OPT_OUTPUT_USE, so
 * they never look single-use) and the last consumer seen. */
#define MEC_OPT_OUTPUT_USE 1000000
typedef struct mec_opt_uses {
    int *count;
    int *consumer;
} mec_opt_uses;

/* Counts consumers among the nodes not marked in removed (NULL: all).
 * Zero-initialise u before the first call; later calls recompute. */
mec_status mec_opt_uses_compute(const mec_graph *g, const char *removed, mec_opt_uses *u);
void mec_opt_uses_free(mec_opt_uses *u);
/* The only consumer of v (v not a graph output, consumer not removed), or -1. */
int mec_opt_sole_consumer(const mec_opt_uses *u, const char *removed, int v);
/* n is an ai.onnx node of this op type. */
bool mec_opt_is_op(const mec_node *n, const char *op);
/* v's constant data when it is a contiguous float32 initializer, else NULL. */
const mec_tensor *mec_opt_const_f32(const mec_graph *g, int v);

/* Static dtypes and shapes of the values (*info, n_values entries, freed
 * with mec_free; ndim -1 where unknown) through the reference kernels'
 * infer, in dependency order over the nodes not marked in removed (NULL:
 * all), from the initializers and the declared input shapes. An unknown
 * input dim gets a stand-in (97, 101, ...: one per dim name, a new one per
 * unnamed dim), so equal shapes here are equal for those inputs' real
 * dims too, barring coincidences of arithmetic. Infer failures leave values
 * unknown; only MEC_ERR_NOMEM is an error. */
mec_status mec_opt_infer_shapes(const mec_graph *g, const char *removed, mec_tensor **info);

/* Rewrites g in place (g must be topologically sorted). */
mec_status mec_optimize_graph(mec_graph *g, mec_optimize_report *rep);

#endif
