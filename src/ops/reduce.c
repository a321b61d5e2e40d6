/* Reduce ops (ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare)
 * and ArgMax/ArgMin. The input's dims are split into kept and reduced runs;
 * each output element folds its reduced run, contiguous when the reduced
 * axes are trailing (LayerNorm's ReduceMean over the last axis). */
#include "op_util.h"
#include "op_stamp.h"

#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <string.h>

enum reduce_kind { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_LOGSUM, R_LSE, R_SUMSQ };

/* Accumulator arithmetic by accumulator type: double for floats, wrapping
 * 64-bit for integers (signed overflow is undefined in C). */
static inline double add_d(double a, double b) { return a + b; }
static inline int64_t add_i(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static inline uint64_t add_u(uint64_t a, uint64_t b) { return a + b; }
static inline double mul_d(double a, double b) { return a * b; }
static inline int64_t mul_i(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }
static inline uint64_t mul_u(uint64_t a, uint64_t b) { return a * b; }
static inline double abs_d(double a) { return fabs(a); }
static inline int64_t abs_i(int64_t a) { return a < 0 ? (int64_t)(0u - (uint64_t)a) : a; }
static inline uint64_t abs_u(uint64_t a) { return a; }
#define ACC_OP(op, acc) _Generic((acc), double: op##_d, int64_t: op##_i, uint64_t: op##_u)

/* X(sfx, T, C, ACC, LD, ST, LO, HI, ISF): storage, compute and accumulator
 * types, conversions, the type's range (identities of Max/Min) and whether
 * it is a float type. */
#define REDUCE_TYPES(X)                                                                          \
    X(f32, float, float, double, LD_ID, ST_ID, -INFINITY, INFINITY, 1)                           \
    X(f64, double, double, double, LD_ID, ST_ID, -INFINITY, INFINITY, 1)                         \
    X(f16, uint16_t, float, double, LD_F16, ST_F16, -INFINITY, INFINITY, 1)                      \
    X(bf16, uint16_t, float, double, LD_BF16, ST_BF16, -INFINITY, INFINITY, 1)                   \
    X(i8, int8_t, int8_t, int64_t, LD_ID, ST_ID, INT8_MIN, INT8_MAX, 0)                          \
    X(i16, int16_t, int16_t, int64_t, LD_ID, ST_ID, INT16_MIN, INT16_MAX, 0)                     \
    X(i32, int32_t, int32_t, int64_t, LD_ID, ST_ID, INT32_MIN, INT32_MAX, 0)                     \
    X(i64, int64_t, int64_t, int64_t, LD_ID, ST_ID, INT64_MIN, INT64_MAX, 0)                     \
    X(u8, uint8_t, uint8_t, uint64_t, LD_ID, ST_ID, 0, UINT8_MAX, 0)                             \
    X(u16, uint16_t, uint16_t, uint64_t, LD_ID, ST_ID, 0, UINT16_MAX, 0)                         \
    X(u32, uint32_t, uint32_t, uint64_t, LD_ID, ST_ID, 0, UINT32_MAX, 0)                         \
    X(u64, uint64_t, uint64_t, uint64_t, LD_ID, ST_ID, 0, UINT64_MAX, 0)

/* ------------------------------------------------------------ the plan */

/* Kept dims (for the output index) and reduced dims (for the fold), each
 * with input strides, adjacent dims of one kind merged, size-1 dims dropped. */
typedef struct reduce_plan {
    int nk, nr;
    int64_t kshape[MEC_MAX_DIMS], kstride[MEC_MAX_DIMS];
    int64_t rshape[MEC_MAX_DIMS], rstride[MEC_MAX_DIMS];
    int64_t n_out, n_red; /* output elements; elements folded into each */
} reduce_plan;

static void reduce_plan_make(reduce_plan *p, const mec_tensor *x, const bool *reduced) {
    memset(p, 0, sizeof *p);
    p->n_out = 1;
    p->n_red = 1;
    int last = -1; /* kind of the previous kept dim: 0 kept, 1 reduced */
    for (int d = 0; d < x->ndim; d++) {
        int64_t n = x->shape[d], s = x->strides[d];
        int kind = reduced[d] ? 1 : 0;
        if (kind) p->n_red *= n;
        else p->n_out *= n;
        if (n == 1) continue;
        int64_t *shp = kind ? p->rshape : p->kshape, *str = kind ? p->rstride : p->kstride;
        int *cnt = kind ? &p->nr : &p->nk;
        if (last == kind && *cnt > 0 && str[*cnt - 1] == s * n) {
            shp[*cnt - 1] *= n;
            str[*cnt - 1] = s;
        } else {
            shp[*cnt] = n;
            str[*cnt] = s;
            (*cnt)++;
        }
        last = kind;
    }
}

/* Offset of output element o in the input. */
static inline int64_t kept_offset(const reduce_plan *p, int64_t o) {
    int64_t off = 0;
    for (int d = p->nk - 1; d >= 0; d--) {
        off += (o % p->kshape[d]) * p->kstride[d];
        o /= p->kshape[d];
    }
    return off;
}

/* Runs BODY (with the element as C x) over the reduced elements of one
 * output: an odometer over the outer reduced dims, a plain loop inside. */
#define FOLD(T, C, LD, base, BODY)                                                               \
    do {                                                                                         \
        int64_t idx_[MEC_MAX_DIMS] = {0};                                                        \
        const T *q_ = (base);                                                                    \
        int64_t in_n_ = p->nr ? p->rshape[p->nr - 1] : 1;                                        \
        int64_t in_s_ = p->nr ? p->rstride[p->nr - 1] : 1;                                       \
        int64_t groups_ = in_n_ ? p->n_red / in_n_ : 0;                                          \
        for (int64_t g_ = 0; g_ < groups_; g_++) {                                               \
            if (in_s_ == 1) {                                                                    \
                for (int64_t k_ = 0; k_ < in_n_; k_++) {                                         \
                    C x = LD(q_[k_]);                                                            \
                    BODY;                                                                        \
                }                                                                                \
            } else {                                                                             \
                for (int64_t k_ = 0; k_ < in_n_; k_++) {                                         \
                    C x = LD(q_[k_ * in_s_]);                                                    \
                    BODY;                                                                        \
                }                                                                                \
            }                                                                                    \
            for (int d_ = p->nr - 2; d_ >= 0; d_--) {                                            \
                idx_[d_]++;                                                                      \
                q_ += p->rstride[d_];                                                            \
                if (idx_[d_] < p->rshape[d_]) break;                                             \
                q_ -= idx_[d_] * p->rstride[d_];                                                 \
                idx_[d_] = 0;                                                                    \
            }                                                                                    \
        }                                                                                        \
    } while (0)

typedef void (*reduce_fn)(const reduce_plan *p, int kind, const void *in, void *out);

/* Folds into an accumulator (or, for the log/sqrt kinds, a double) and
 * stores it; integer outputs of the double kinds saturate. */
#define DEF_REDUCE(sfx, T, C, ACC, LD, ST, LO, HI, ISF)                                          \
    static void reduce_##sfx(const reduce_plan *p, int kind, const void *in, void *out) {        \
        const T *x0 = in;                                                                        \
        T *y = out;                                                                              \
        _Pragma("omp parallel for if (p->n_out * p->n_red >= PAR_MIN_ELEMS)")                    \
        for (int64_t o = 0; o < p->n_out; o++) {                                                 \
            const T *base = x0 + kept_offset(p, o);                                              \
            ACC acc = 0;                                                                         \
            double fv = 0;                                                                       \
            bool use_f = false;                                                                  \
            switch (kind) {                                                                      \
            case R_SUM:                                                                          \
            case R_MEAN:                                                                         \
            case R_LOGSUM: FOLD(T, C, LD, base, acc = ACC_OP(add, acc)(acc, (ACC)x)); break;     \
            case R_MAX:                                                                          \
                acc = (ACC)(LO);                                                                 \
                FOLD(T, C, LD, base, if ((ACC)x > acc) acc = (ACC)x);                            \
                break;                                                                           \
            case R_MIN:                                                                          \
                acc = (ACC)(HI);                                                                 \
                FOLD(T, C, LD, base, if ((ACC)x < acc) acc = (ACC)x);                            \
                break;                                                                           \
            case R_PROD:                                                                         \
                acc = 1;                                                                         \
                FOLD(T, C, LD, base, acc = ACC_OP(mul, acc)(acc, (ACC)x));                       \
                break;                                                                           \
            case R_L1:                                                                           \
                FOLD(T, C, LD, base, acc = ACC_OP(add, acc)(acc, ACC_OP(abs, acc)((ACC)x)));     \
                break;                                                                           \
            case R_L2:                                                                           \
            case R_SUMSQ:                                                                        \
                FOLD(T, C, LD, base,                                                             \
                     acc = ACC_OP(add, acc)(acc, ACC_OP(mul, acc)((ACC)x, (ACC)x)));             \
                break;                                                                           \
            case R_LSE: {                                                                        \
                double m = -INFINITY, s = 0;                                                     \
                FOLD(T, C, LD, base, if ((double)x > m) m = (double)x);                          \
                if (m == INFINITY || m == -INFINITY) {                                           \
                    fv = m;                                                                      \
                } else {                                                                         \
                    FOLD(T, C, LD, base, s += exp((double)x - m));                               \
                    fv = m + log(s);                                                             \
                }                                                                                \
                use_f = true;                                                                    \
                break;                                                                           \
            }                                                                                    \
            default: break;                                                                      \
            }                                                                                    \
            if (kind == R_MEAN) {                                                                \
                if (ISF) fv = (double)acc / (double)p->n_red, use_f = true;                      \
                else acc = p->n_red ? (ACC)(acc / (ACC)p->n_red) : 0;                            \
            } else if (kind == R_L2) {                                                           \
                fv = sqrt((double)acc), use_f = true;                                            \
            } else if (kind == R_LOGSUM) {                                                       \
                fv = log((double)acc), use_f = true;                                             \
            }                                                                                    \
            if (ISF) y[o] = ST((C)(use_f ? fv : (double)acc));                                   \
            else y[o] = (T)(use_f ? (ACC)f64_to_i64(fv) : acc);                                  \
        }                                                                                        \
    }
REDUCE_TYPES(DEF_REDUCE)

#define REDUCE_ENTRY(sfx, T, C, ACC, LD, ST, LO, HI, ISF) [DT_##sfx] = reduce_##sfx,
static const reduce_fn reduce_table[MEC_DTYPE_MAX] = {REDUCE_TYPES(REDUCE_ENTRY)};

/* ----------------------------------------------------------- infer/exec */

static int reduce_kind(const char *op) {
    static const char *const names[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
                                        "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
                                        "ReduceLogSumExp", "ReduceSumSquare"};
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (!strcmp(op, names[i])) return i;
    return -1;
}

/* Which axes are reduced. *noop: ReduceSum-13's empty axes with
 * noop_with_empty_axes=1 (the output is the input). */
static mec_status reduce_axes(mec_op_ctx *ctx, bool *reduced, bool *noop) {
    const mec_tensor *x = ctx->in[0];
    int64_t axes[MEC_MAX_DIMS + 1];
    int n = 0;
    bool from_input = !strcmp(ctx->node->op_type, "ReduceSum") && ctx->opset >= 13;
    *noop = false;
    if (from_input) {
        if (ctx->n_in > 1 && ctx->in[1]) {
            mec_status st = mec_op_read_ints(ctx, 1, axes, MEC_MAX_DIMS, &n);
            if (st == MEC_ERR_DEFER) return st;
            if (st) return st;
        }
        int64_t noop_attr = mec_node_int(ctx->node, "noop_with_empty_axes", 0);
        if (n == 0 && noop_attr) *noop = true;
    } else {
        const int64_t *v;
        int64_t cnt = mec_node_ints(ctx->node, "axes", &v);
        if (cnt > MEC_MAX_DIMS)
            return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "attribute axes has %" PRId64 " values, rank is %d",
                              cnt, x->ndim);
        for (int64_t i = 0; i < cnt; i++) axes[n++] = v[i];
    }
    for (int d = 0; d < x->ndim; d++) reduced[d] = n == 0 && !*noop;
    for (int i = 0; i < n; i++) {
        int a;
        mec_status st = mec_op_axis(ctx, axes[i], x->ndim, &a);
        if (st) return st;
        if (reduced[a])
            return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "axis %" PRId64 " is listed twice", axes[i]);
        reduced[a] = true;
    }
    return MEC_OK;
}

static mec_status reduce_infer(mec_op_ctx *ctx) {
    bool from_input = !strcmp(ctx->node->op_type, "ReduceSum") && ctx->opset >= 13;
    mec_status st = mec_op_check_arity(ctx, 1, from_input ? 2 : 1);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    if (!reduce_table[x->dtype] || reduce_kind(ctx->node->op_type) < 0)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "input 0 has dtype %s, which this op does not support",
                          mec_dtype_name(x->dtype));
    bool reduced[MEC_MAX_DIMS], noop;
    if ((st = reduce_axes(ctx, reduced, &noop))) return st;
    if (noop) return mec_op_output_like(ctx, 0, 0);
    int64_t keepdims = mec_node_int(ctx->node, "keepdims", 1);
    int64_t shape[MEC_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (!reduced[d]) shape[nd++] = x->shape[d];
        else if (keepdims) shape[nd++] = 1;
    }
    return mec_op_set_output(ctx, 0, x->dtype, nd, shape);
}

static mec_status reduce_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    reduce_fn fn = reduce_table[x->dtype];
    int kind = reduce_kind(ctx->node->op_type);
    if (!fn || kind < 0) return reduce_infer(ctx);
    bool reduced[MEC_MAX_DIMS], noop;
    mec_status st = reduce_axes(ctx, reduced, &noop);
    if (st) return st;
    if (noop) {
        if (y->data != x->data) memcpy(y->data, x->data, mec_tensor_bytes(x));
        return MEC_OK;
    }
    reduce_plan p;
    reduce_plan_make(&p, x, reduced);
    fn(&p, kind, x->data, y->data);
    return MEC_OK;
}

static int64_t reduce_flops(const mec_op_ctx *ctx) {
    return ctx->in[0] ? mec_tensor_numel(ctx->in[0]) : 0;
}

/* --------------------------------------------------------- ArgMax/ArgMin */

/* Input viewed as (outer, n, inner); output int64 (outer, inner). The first
 * extreme wins, or the last with select_last_index=1. */
typedef void (*arg_fn)(const void *in, int64_t *out, int64_t outer, int64_t n, int64_t inner,
                       bool is_max, bool last);

#define DEF_ARG(sfx, T, C, ACC, LD, ST, LO, HI, ISF)                                             \
    static void arg_##sfx(const void *in, int64_t *out, int64_t outer, int64_t n, int64_t inner, \
                          bool is_max, bool last) {                                              \
        const T *x = in;                                                                         \
        int64_t lines = outer * inner;                                                           \
        _Pragma("omp parallel for if (lines * n >= PAR_MIN_ELEMS)")                              \
        for (int64_t l = 0; l < lines; l++) {                                                    \
            const T *q = x + (l / inner) * n * inner + l % inner;                                \
            C best = LD(q[0]);                                                                   \
            int64_t arg = 0;                                                                     \
            for (int64_t k = 1; k < n; k++) {                                                    \
                C v = LD(q[k * inner]);                                                          \
                bool take = is_max ? (last ? v >= best : v > best) : (last ? v <= best : v < best); \
                if (take) best = v, arg = k;                                                     \
            }                                                                                    \
            out[l] = arg;                                                                        \
        }                                                                                        \
    }
REDUCE_TYPES(DEF_ARG)

#define ARG_ENTRY(sfx, T, C, ACC, LD, ST, LO, HI, ISF) [DT_##sfx] = arg_##sfx,
static const arg_fn arg_table[MEC_DTYPE_MAX] = {REDUCE_TYPES(ARG_ENTRY)};

static mec_status arg_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    if (!arg_table[x->dtype])
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "input 0 has dtype %s, which this op does not support",
                          mec_dtype_name(x->dtype));
    int axis;
    if ((st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", 0), x->ndim, &axis))) return st;
    if (x->shape[axis] == 0)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "axis %d has size 0: no element to select", axis);
    int64_t sel = mec_node_int(ctx->node, "select_last_index", 0);
    if (sel != 0 && sel != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute select_last_index is %" PRId64 ", expected 0 or 1", sel);
    bool keepdims = mec_node_int(ctx->node, "keepdims", 1) != 0;
    int64_t shape[MEC_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (d != axis) shape[nd++] = x->shape[d];
        else if (keepdims) shape[nd++] = 1;
    }
    return mec_op_set_output(ctx, 0, MEC_I64, nd, shape);
}

static mec_status arg_exec(mec_op_ctx *ctx) {
    mec_status st = arg_infer(ctx); /* re-validates; cheap, and exec must not trust attributes */
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    int axis;
    mec_op_axis(ctx, mec_node_int(ctx->node, "axis", 0), x->ndim, &axis);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) inner *= x->shape[d];
    arg_table[x->dtype](x->data, ctx->out[0]->data, outer, x->shape[axis], inner,
                        !strcmp(ctx->node->op_type, "ArgMax"),
                        mec_node_int(ctx->node, "select_last_index", 0) != 0);
    return MEC_OK;
}

/* ------------------------------------------------------------------ table */

#define K(op, since, until, vin, pfx)                                                            \
    {op, "", since, until, "ref", 0, vin, pfx##_infer, pfx##_exec, NULL, NULL, reduce_flops}

const mec_kernel mec_kernels_reduce[] = {
    /* axes: an attribute up to opset 12, an optional input from 13 */
    K("ReduceSum", 1, 12, 0, reduce),
    K("ReduceSum", 13, 17, 1u << 1, reduce),
    /* the others take axes as an attribute until opset 18 */
    K("ReduceMean", 1, 17, 0, reduce),
    K("ReduceMax", 1, 17, 0, reduce),
    K("ReduceMin", 1, 17, 0, reduce),
    K("ReduceProd", 1, 17, 0, reduce),
    K("ReduceL1", 1, 17, 0, reduce),
    K("ReduceL2", 1, 17, 0, reduce),
    K("ReduceLogSum", 1, 17, 0, reduce),
    K("ReduceLogSumExp", 1, 17, 0, reduce),
    K("ReduceSumSquare", 1, 17, 0, reduce),
    K("ArgMax", 1, 17, 0, arg),
    K("ArgMin", 1, 17, 0, arg),
    {0},
};
