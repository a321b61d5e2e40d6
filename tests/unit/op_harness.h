/* Runs one op kernel directly (no session): builds a one-node graph with the
 * builder API, calls infer, allocates outputs, calls prepare/exec. For unit
 * tests of kernels.
 *
 *   mec_graph *g; int node;
 *   oh_node(&g, &node, "Add", 13, 2, 1);          // inputs "x0","x1", outputs "y0"
 *   mec_node_set_int(g, node, "axis", 1);         // attributes as needed
 *   mec_tensor *in[2] = {a, b}, out[1];
 *   CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
 *   ... check out[0] ...;  oh_free(g, 1, out);
 */
#ifndef MEC_OP_HARNESS_H
#define MEC_OP_HARNESS_H

#include "mec/ops.h"
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Array literals for shapes and values: SHAPE(2, 3), F32S(1, 2), ... */
#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})
#define F32S(...) ((const float[]){__VA_ARGS__})
#define I64S(...) ((const int64_t[]){__VA_ARGS__})
#define F64S(...) ((const double[]){__VA_ARGS__})
#define VALS(...) ((const double[]){__VA_ARGS__})

/* A graph with one node of op_type with n_in inputs "x0".."x{n-1}" and n_out
 * outputs "y0".. (at most OH_MAX_IO each); opset set for the default domain. */
#define OH_MAX_IO 16
static inline mec_status oh_node(mec_graph **g, int *node, const char *op_type, int64_t opset, int n_in,
                          int n_out) {
    char names[2 * OH_MAX_IO][8];
    const char *in[OH_MAX_IO], *out[OH_MAX_IO];
    *g = NULL;
    if (n_in < 0 || n_in > OH_MAX_IO || n_out < 0 || n_out > OH_MAX_IO)
        return mec_error(MEC_ERR_INVALID_ARG, "oh_node: %d inputs / %d outputs (max %d)", n_in, n_out,
                         OH_MAX_IO);
    mec_status st = mec_graph_create("test", g);
    if (st) return st;
    for (int i = 0; i < n_in; i++) {
        snprintf(names[i], sizeof names[i], "x%d", i);
        in[i] = names[i];
        mec_graph_add_input(*g, in[i], MEC_F32, -1, NULL, NULL, NULL);
    }
    for (int i = 0; i < n_out; i++) {
        snprintf(names[OH_MAX_IO + i], sizeof names[OH_MAX_IO + i], "y%d", i);
        out[i] = names[OH_MAX_IO + i];
    }
    mec_graph_set_opset(*g, "", opset);
    return mec_graph_add_node(*g, op_type, "", "node0", n_in, in, n_out, out, node);
}

/* Infers, allocates out[0..n_out-1] (caller's array of tensors, zeroed by
 * this call) and executes the kernel `impl` ("ref", "auto", ...). in[i] may
 * be NULL for an omitted optional input. */
static inline mec_status oh_run(mec_graph *g, int node, int64_t opset, const char *impl, int n_in,
                         mec_tensor *const *in, int n_out, mec_tensor *out) {
    const mec_node *nd = &g->nodes[node];
    const mec_kernel *k = mec_op_find(nd->domain, nd->op_type, opset, impl);
    if (!k) return mec_error(MEC_ERR_UNSUPPORTED, "no %s kernel for %s opset %lld", impl,
                             nd->op_type, (long long)opset);
    mec_tensor *outp[OH_MAX_IO];
    if (n_out < 0 || n_out > OH_MAX_IO)
        return mec_error(MEC_ERR_INVALID_ARG, "oh_run: %d outputs (max %d)", n_out, OH_MAX_IO);
    for (int i = 0; i < n_out; i++) {
        memset(&out[i], 0, sizeof out[i]);
        outp[i] = &out[i];
    }
    mec_op_ctx ctx = {g, node, nd, opset, n_in, (const mec_tensor *const *)in, n_out, outp,
                      NULL, NULL, 0, 0, 0, 0};
    mec_status st = k->infer(&ctx);
    if (st) return st;
    for (int i = 0; i < n_out; i++) {
        st = mec_tensor_alloc(&out[i]);
        if (st) return st;
    }
    void *state = NULL;
    size_t scratch = 0;
    if (k->prepare) {
        st = k->prepare(&ctx, &state, &scratch);
        if (st) return st;
        ctx.state = state;
    }
    void *mem = scratch ? mec_malloc(scratch) : NULL;
    if (scratch && !mem) return MEC_ERR_NOMEM;
    ctx.scratch = mem;
    ctx.scratch_bytes = scratch;
    st = k->exec(&ctx);
    mec_free(mem);
    if (k->release && state) k->release(state);
    return st;
}

static inline void oh_free(mec_graph *g, int n_out, mec_tensor *out) {
    for (int i = 0; i < n_out; i++) mec_tensor_release(&out[i]);
    mec_graph_destroy(g);
}

/* A new f32 tensor with the given values (copied). */
static inline mec_tensor *oh_f32(int ndim, const int64_t *shape, const float *values) {
    mec_tensor *t = NULL;
    if (mec_tensor_create(&t, MEC_F32, ndim, shape)) return NULL;
    if (values) memcpy(t->data, values, mec_tensor_bytes(t));
    return t;
}

static inline mec_tensor *oh_i64(int ndim, const int64_t *shape, const int64_t *values) {
    mec_tensor *t = NULL;
    if (mec_tensor_create(&t, MEC_I64, ndim, shape)) return NULL;
    if (values) memcpy(t->data, values, mec_tensor_bytes(t));
    return t;
}

/* A new tensor of dtype dt with its bytes copied from values (NULL: zeros). */
static inline mec_tensor *oh_tensor(mec_dtype dt, int ndim, const int64_t *shape,
                                    const void *values) {
    mec_tensor *t = NULL;
    if (mec_tensor_create(&t, dt, ndim, shape)) return NULL;
    if (values) memcpy(t->data, values, mec_tensor_bytes(t));
    return t;
}

/* A new tensor of dtype dt with values given as doubles (NULL: zeros). */
static inline mec_tensor *oh_tensor_f64(mec_dtype dt, int ndim, const int64_t *shape,
                                        const double *v) {
    mec_tensor *t = NULL;
    if (mec_tensor_create(&t, dt, ndim, shape)) return NULL;
    if (v)
        for (int64_t i = 0; i < mec_tensor_numel(t); i++) mec_tensor_set_f64(t, i, v[i]);
    return t;
}

/* Destroys n tensors made by the helpers above. */
static inline void oh_destroy_all(mec_tensor **ts, int n) {
    for (int i = 0; i < n; i++) mec_tensor_destroy(ts[i]);
}

/* Deterministic inputs shared with the generator scripts: ((i*a) % m - m/2) * s. */
static inline float oh_pat(int64_t i, int a, int m, double s) {
    return (float)((double)((i * a) % m - m / 2) * s);
}

/* An f32 tensor of the given shape filled with oh_pat(i, a, m, s). */
static inline mec_tensor *oh_pat_t(int nd, const int64_t *shape, int a, int m, double s) {
    mec_tensor *t = oh_f32(nd, shape, NULL);
    if (!t) return NULL;
    float *f = t->data;
    for (int64_t i = 0; i < mec_tensor_numel(t); i++) f[i] = oh_pat(i, a, m, s);
    return t;
}

/* t has the given rank and dims. */
static inline void oh_check_shape(const mec_tensor *t, int ndim, const int64_t *shape) {
    CHECK(t->ndim == ndim);
    for (int d = 0; d < ndim && d < t->ndim; d++) CHECK(t->shape[d] == shape[d]);
}

/* f32 tensor t has n values, each within tol + tol * |want| of want
 * (the first five misses are printed). */
static inline void oh_check_close(const mec_tensor *t, const float *want, int64_t n, double tol) {
    CHECK(mec_tensor_numel(t) == n);
    if (mec_tensor_numel(t) != n) return;
    const float *f = t->data;
    int bad = 0;
    for (int64_t i = 0; i < n && bad < 5; i++)
        if (!(fabs((double)f[i] - want[i]) <= tol + tol * fabs(want[i]))) {
            fprintf(stderr, "  [%lld] = %.7g, expected %.7g\n", (long long)i, f[i], want[i]);
            bad++;
        }
    CHECK(bad == 0);
}

/* Runs the "ref" kernel of a one-node graph of op with n_in inputs and n_out
 * outputs; setup (may be NULL) sets the node's attributes. The caller
 * releases out with oh_release. */
static inline mec_status oh_run_op(const char *op, int64_t opset, int n_in, mec_tensor **in,
                                   int n_out, mec_tensor *out, void (*setup)(mec_graph *, int)) {
    mec_graph *g;
    int node;
    mec_status st = oh_node(&g, &node, op, opset, n_in, n_out);
    if (st) return st;
    if (setup) setup(g, node);
    st = oh_run(g, node, opset, "ref", n_in, in, n_out, out);
    mec_graph_destroy(g);
    return st;
}

static inline void oh_release(int n, mec_tensor *out) {
    for (int i = 0; i < n; i++) mec_tensor_release(&out[i]);
}

#endif
