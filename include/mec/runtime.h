/* mec/runtime.h — layer 4: sessions. A session validates a model at load
 * (every unsupported op/opset/dtype listed at once), folds constants, infers
 * shapes for the input shapes it is given (dynamic batch/sequence/H×W),
 * reuses activation memory by liveness, runs, and profiles per node. It can
 * run only what a requested output needs, and can be fed any intermediate
 * value: early exits and partitions are built on that. */
#ifndef MEC_RUNTIME_H
#define MEC_RUNTIME_H

#include "mec/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mec_sess_options {
    int threads;      /* 0 = the cores available to this process */
    const char *impl; /* kernel choice: "auto" (fastest, default) or "ref" */
    bool profile;     /* record per-node time, bytes and FLOPs */
    bool optimize;    /* fold BatchNorm, fuse Conv/MatMul epilogues (default true) */
    /* float convolutions: "auto" (default: Winograd for 3x3 stride-1 convs
     * where oneDNN has it) or "direct" (direct summation only; see
     * mec_conv_algo in mec/ops.h) */
    const char *conv_algo;
} mec_sess_options;

void mec_sess_options_default(mec_sess_options *o);

typedef struct mec_sess mec_sess;

/* Creates a session over g. The session borrows g: keep it alive and
 * unchanged until mec_sess_destroy (with optimize on, the session works on
 * its own optimised copy and g may go). On failure the message lists every
 * problem found (unsupported ops, opsets, dtypes; graph errors). */
mec_status mec_sess_create(const mec_graph *g, const mec_sess_options *opt, mec_sess **out);
/* Loads an ONNX file and creates a session that owns the graph. */
mec_status mec_sess_load(const char *path, const mec_sess_options *opt, mec_sess **out);
void mec_sess_destroy(mec_sess *s);
/* Like mec_sess_create, but the session takes ownership of g (also on
 * failure) and optimises it in place: no copy. */
mec_status mec_sess_create_owned(mec_graph *g, const mec_sess_options *opt, mec_sess **out);

/* The graph the session runs: its own (optimised or loaded) or the borrowed
 * one. In a graph of its own, a run frees the data of each constant that
 * every node reading it keeps a packed copy of (fast MatMul/Gemm weights):
 * init->data is then NULL. A borrowed graph is never changed. */
const mec_graph *mec_sess_graph(const mec_sess *s);
/* Milliseconds spent in mec_sess_load/create (parse + validate + fold). */
double mec_sess_load_ms(const mec_sess *s);

/* Runs the model. inputs are matched by name (graph inputs, or any value to
 * start the graph from there). out_names NULL means every graph output, in
 * order (then n_out must equal the graph's output count). Only the nodes the
 * requested outputs need are run. Each out[i] is a new tensor the caller
 * destroys. On error nothing is returned and the message names the node. */
mec_status mec_sess_run(mec_sess *s, int n_in, const char *const *in_names,
                        const mec_tensor *const *inputs, int n_out, const char *const *out_names,
                        mec_tensor **out);

/* Activation memory the session holds for reuse across runs: buffers in
 * the pool and their total bytes (the peak of the liveness plan so far). */
void mec_sess_memory(const mec_sess *s, int *n_buffers, size_t *bytes);

/* Per-node profile, accumulated over runs since the last reset. */
typedef struct mec_node_profile {
    int node_id;
    const char *name;
    const char *op_type;
    const char *impl;  /* kernel that ran: "ref", "dnnl", "alias", "const" */
    int64_t runs;
    uint64_t total_ns;
    int64_t bytes_in;  /* per run (last run) */
    int64_t bytes_out;
    int64_t flops;     /* per run (last run); 0 if the kernel does not say */
} mec_node_profile;

/* Array of g->n_nodes entries (valid until the next run or destroy). */
const mec_node_profile *mec_sess_profile(const mec_sess *s, int *count);
void mec_sess_profile_reset(mec_sess *s);

/* Static view of a value after load-time inference: dtype and shape where
 * known (dims -1 where they depend on run-time input shapes). */
mec_status mec_sess_value_info(const mec_sess *s, const char *name, mec_dtype *dtype, int *ndim,
                               int64_t *dims);

/* Infers every value's dtype/shape for the given input shapes without
 * running the heavy nodes (shape sub-graphs are evaluated). Fills info[v]
 * for each value v of the graph (ndim -1 when unknown). For the census
 * (FLOPs) and the partition cost model. */
mec_status mec_sess_infer_shapes(mec_sess *s, int n_in, const char *const *in_names,
                                 const mec_tensor *const *in_meta, mec_tensor *info);

#ifdef __cplusplus
}
#endif
#endif
