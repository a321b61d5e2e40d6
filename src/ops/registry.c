/* The kernel registry: every op family contributes a table terminated by an
 * entry with op_type NULL; lookups pick by domain, op and opset range. */
#include "mec/ops.h"

#include <string.h>

/* Fast-kernel families go first in this list so that "auto" finds them
 * before the reference kernel of the same op. */
#define FAMILIES(X)                                                                              \
    X(dnnl_transformer) X(dnnl_int8) X(dnnl_qmatmul) X(dnnl) X(elementwise) X(activation) X(reduce) X(shape) X(index) X(conv) X(pool) X(gemm) X(norm)    \
        X(resize) X(quant) X(fused) X(loss) X(rnn) X(signal) X(detection) X(qdq_fused) X(transformer)

#define DECLARE(fam) extern const mec_kernel mec_kernels_##fam[];
FAMILIES(DECLARE)
#undef DECLARE

#define LIST(fam) mec_kernels_##fam,
static const mec_kernel *const families[] = {FAMILIES(LIST) NULL};
#undef LIST

#define MAX_KERNELS 1024
static const mec_kernel *all[MAX_KERNELS];
static int n_all = -1;

static void add_table(const mec_kernel *t) {
    for (; t && t->op_type; t++)
        if (n_all < MAX_KERNELS) all[n_all++] = t;
}

static void build(void) {
    if (n_all >= 0) return;
    n_all = 0;
    for (int i = 0; families[i]; i++) add_table(families[i]);
}

static bool same_domain(const char *a, const char *b) {
    if (!a || !strcmp(a, "ai.onnx")) a = "";
    if (!b || !strcmp(b, "ai.onnx")) b = "";
    return strcmp(a, b) == 0;
}

const mec_kernel *mec_op_find(const char *domain, const char *op_type, int64_t opset,
                              const char *impl) {
    build();
    bool want_ref = impl && !strcmp(impl, "ref");
    bool any = !impl || !strcmp(impl, "auto");
    for (int i = 0; i < n_all; i++) {
        const mec_kernel *k = all[i];
        if (strcmp(k->op_type, op_type) || !same_domain(k->domain, domain)) continue;
        if (opset < k->since_version || opset > k->until_version) continue;
        if (any || (want_ref && !strcmp(k->impl, "ref")) || (impl && !strcmp(k->impl, impl)))
            return k;
    }
    return NULL;
}

bool mec_op_known(const char *domain, const char *op_type) {
    build();
    for (int i = 0; i < n_all; i++)
        if (!strcmp(all[i]->op_type, op_type) && same_domain(all[i]->domain, domain)) return true;
    return false;
}

const mec_kernel *const *mec_op_all(int *count) {
    build();
    *count = n_all;
    return all;
}
