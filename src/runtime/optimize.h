/* Graph optimisation passes run by sessions (internal to the runtime). */
#ifndef MEC_RUNTIME_OPTIMIZE_H
#define MEC_RUNTIME_OPTIMIZE_H

#include "mec/graph.h"

typedef struct mec_optimize_report {
    int bn_folded;    /* BatchNormalization folded into Conv weights */
    int conv_fused;   /* Conv(+Add)(+Relu) into mec.FusedConv */
    int matmul_fused; /* MatMul+Add(+Gelu|Relu) into mec.FusedMatMul */
} mec_optimize_report;

/* Rewrites g in place (g must be topologically sorted). */
mec_status mec_optimize_graph(mec_graph *g, mec_optimize_report *rep);

#endif
