/* Elementwise ops: numpy-broadcasting binary arithmetic, comparisons, logic,
 * Where, variadic Min/Max/Sum/Mean and unary math. Reference kernels that are
 * also the fast runtime's fallback, so the common cases (same shapes, one
 * side a scalar, a trailing-dims bias) run as tight contiguous loops. */
#include "op_util.h"
#include "op_stamp.h"

#include <inttypes.h>
#include <omp.h>
#include <string.h>
#include <tgmath.h>

/* ----------------------------------------------------------- broadcasting */

/* Inputs broadcast to the output shape, with adjacent dims merged where
 * every input is laid out the same way across them, and size-1 output dims
 * dropped. After this the last dim's stride is 0 (broadcast) or 1 for each
 * input, so rows are contiguous loops. */
typedef struct bcast_plan {
    int nd;
    int n_in;
    int64_t shape[MEC_MAX_DIMS];
    int64_t strides[3][MEC_MAX_DIMS];
} bcast_plan;

static void bcast_plan_make(bcast_plan *p, const mec_tensor *out, int n_in,
                            const mec_tensor *const *in) {
    int64_t st[3][MEC_MAX_DIMS];
    for (int k = 0; k < n_in; k++) mec_op_broadcast_strides(in[k], out->ndim, out->shape, st[k]);
    p->n_in = n_in;
    p->nd = 0;
    for (int d = 0; d < out->ndim; d++) {
        if (out->shape[d] == 1) continue;
        bool merge = p->nd > 0;
        for (int k = 0; k < n_in && merge; k++)
            merge = p->strides[k][p->nd - 1] == st[k][d] * out->shape[d];
        if (merge) {
            p->shape[p->nd - 1] *= out->shape[d];
            for (int k = 0; k < n_in; k++) p->strides[k][p->nd - 1] = st[k][d];
        } else {
            p->shape[p->nd] = out->shape[d];
            for (int k = 0; k < n_in; k++) p->strides[k][p->nd] = st[k][d];
            p->nd++;
        }
    }
    if (p->nd == 0) { /* a single element */
        p->nd = 1;
        p->shape[0] = 1;
        for (int k = 0; k < n_in; k++) p->strides[k][0] = 1;
    }
}

/* A row kernel: n outputs from inputs in[k] read with stride s[k] (0 or 1). */
typedef void (*row_fn)(const void *const *in, const int *s, void *out, int64_t n,
                       const void *aux);

/* Runs fn over the plan, splitting the elements evenly across threads; each
 * thread walks its rows with an odometer instead of dividing per row. */
static void bcast_run(const bcast_plan *p, const mec_tensor *const *in, mec_tensor *out,
                      row_fn fn, const void *aux) {
    int nd = p->nd, n_in = p->n_in;
    int64_t inner = p->shape[nd - 1];
    int64_t total = mec_tensor_numel(out);
    if (total == 0) return;
    size_t osize = mec_dtype_size(out->dtype), isize[3];
    int s[3];
    for (int k = 0; k < n_in; k++) {
        isize[k] = mec_dtype_size(in[k]->dtype);
        s[k] = p->strides[k][nd - 1] != 0;
    }
#pragma omp parallel if (total >= PAR_MIN_ELEMS)
    {
        int nt = omp_get_num_threads(), t = omp_get_thread_num();
        int64_t begin = total / nt * t + (t < total % nt ? t : total % nt);
        int64_t end = begin + total / nt + (t < total % nt ? 1 : 0);
        if (begin < end) {
            int64_t row = begin / inner, col = begin % inner;
            int64_t idx[MEC_MAX_DIMS] = {0}, off[3] = {0, 0, 0};
            for (int d = nd - 2; d >= 0; d--) {
                idx[d] = row % p->shape[d];
                row /= p->shape[d];
                for (int k = 0; k < n_in; k++) off[k] += idx[d] * p->strides[k][d];
            }
            const void *ptr[3];
            for (int64_t pos = begin; pos < end;) {
                int64_t n = inner - col < end - pos ? inner - col : end - pos;
                for (int k = 0; k < n_in; k++)
                    ptr[k] = (const char *)in[k]->data + (size_t)(off[k] + col * s[k]) * isize[k];
                fn(ptr, s, (char *)out->data + (size_t)pos * osize, n, aux);
                pos += n;
                col = 0;
                for (int d = nd - 2; d >= 0; d--) { /* next row */
                    idx[d]++;
                    for (int k = 0; k < n_in; k++) off[k] += p->strides[k][d];
                    if (idx[d] < p->shape[d]) break;
                    for (int k = 0; k < n_in; k++) off[k] -= idx[d] * p->strides[k][d];
                    idx[d] = 0;
                }
            }
        }
    }
}

/* Output shape of the broadcast of inputs first..first+count-1. */
static mec_status bcast_infer(mec_op_ctx *ctx, int first, int count, int *nd, int64_t *shape) {
    *nd = ctx->in[first]->ndim;
    memcpy(shape, ctx->in[first]->shape, sizeof(int64_t) * (size_t)*nd);
    for (int k = first + 1; k < first + count; k++) {
        int64_t tmp[MEC_MAX_DIMS];
        int nt;
        mec_status st = mec_op_broadcast(ctx, *nd, shape, ctx->in[k]->ndim, ctx->in[k]->shape,
                                         &nt, tmp);
        if (st) return st;
        *nd = nt;
        memcpy(shape, tmp, sizeof(int64_t) * (size_t)nt);
    }
    return MEC_OK;
}

/* ------------------------------------------------------------ binary ops */

typedef struct binop {
    const char *name;
    row_fn fn[MEC_DTYPE_MAX];
} binop;

/* The four stride cases of a binary row, so that each loop is a plain
 * vectorisable pass (no per-element stride multiply). */
#define BIN_ROW_BODY(T, C, LD, TO, STO, EXPR)                                                    \
    LOCAL_TYPES(T, C)                                                                            \
    const T *pa = in[0], *pb = in[1];                                                            \
    TO *po = out;                                                                                \
    (void)aux;                                                                                   \
    if (s[0] && s[1]) {                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                        \
            C x = LD(pa[i]), y = LD(pb[i]);                                                      \
            po[i] = STO(EXPR);                                                                   \
        }                                                                                        \
    } else if (s[0]) {                                                                           \
        C y = LD(pb[0]);                                                                         \
        for (int64_t i = 0; i < n; i++) {                                                        \
            C x = LD(pa[i]);                                                                     \
            po[i] = STO(EXPR);                                                                   \
        }                                                                                        \
    } else if (s[1]) {                                                                           \
        C x = LD(pa[0]);                                                                         \
        for (int64_t i = 0; i < n; i++) {                                                        \
            C y = LD(pb[i]);                                                                     \
            po[i] = STO(EXPR);                                                                   \
        }                                                                                        \
    } else {                                                                                     \
        C x = LD(pa[0]), y = LD(pb[0]);                                                          \
        TO r = STO(EXPR);                                                                        \
        for (int64_t i = 0; i < n; i++) po[i] = r;                                               \
    }

/* Same-type arithmetic: out has the inputs' dtype. */
#define DEF_BIN(sfx, T, C, LD, ST, name, EXPR)                                                   \
    static void name##_##sfx(const void *const *in, const int *s, void *out, int64_t n,          \
                             const void *aux) {                                                  \
        BIN_ROW_BODY(T, C, LD, T, ST, EXPR)                                                      \
    }
/* Comparisons and logic: out is bool. */
#define TO_BOOL(v) ((uint8_t)((v) ? 1 : 0))
#define DEF_CMP(sfx, T, C, LD, ST, name, EXPR)                                                   \
    static void name##_##sfx(const void *const *in, const int *s, void *out, int64_t n,          \
                             const void *aux) {                                                  \
        BIN_ROW_BODY(T, C, LD, uint8_t, TO_BOOL, EXPR)                                           \
    }

/* Integer arithmetic wraps (through uint64_t, so signed overflow is not
 * undefined behaviour); division by zero gives 0 instead of trapping. */
#define WRAP(C, e) ((C)(e))
FLOAT_TYPES(DEF_BIN, add, x + y)
INT_TYPES(DEF_BIN, add, WRAP(ctype_, (uint64_t)x + (uint64_t)y))
FLOAT_TYPES(DEF_BIN, sub, x - y)
INT_TYPES(DEF_BIN, sub, WRAP(ctype_, (uint64_t)x - (uint64_t)y))
FLOAT_TYPES(DEF_BIN, mul, x * y)
INT_TYPES(DEF_BIN, mul, WRAP(ctype_, (uint64_t)x * (uint64_t)y))
FLOAT_TYPES(DEF_BIN, div, x / y)
/* C truncation, as ONNX Runtime; x / -1 negates through unsigned to dodge
 * the INT_MIN / -1 trap. */
SINT_TYPES(DEF_BIN, div, y == 0 ? 0 : y == -1 ? WRAP(ctype_, 0u - (uint64_t)x) : (ctype_)(x / y))
UINT_TYPES(DEF_BIN, div, y == 0 ? 0 : (ctype_)(x / y))
/* Mod with fmod=0: the sign of the divisor (Python); fmod=1: of the dividend. */
SINT_TYPES(DEF_BIN, mod, y == 0 || y == -1 ? 0 : (ctype_)((x % y != 0 && ((x % y < 0) != (y < 0))) ? x % y + y : x % y))
UINT_TYPES(DEF_BIN, mod, y == 0 ? 0 : (ctype_)(x % y))
FLOAT_TYPES(DEF_BIN, fmod, fmod(x, y))
SINT_TYPES(DEF_BIN, fmod, y == 0 || y == -1 ? 0 : (ctype_)(x % y))
UINT_TYPES(DEF_BIN, fmod, y == 0 ? 0 : (ctype_)(x % y))
/* Shifts by the type's width or more give 0 (C leaves them undefined). */
UINT_TYPES(DEF_BIN, shl, y >= sizeof(stype_) * 8 ? 0 : (ctype_)((uint64_t)x << y))
UINT_TYPES(DEF_BIN, shr, y >= sizeof(stype_) * 8 ? 0 : (ctype_)(x >> y))
/* Float Max/Min propagate NaN like numpy. */
FLOAT_TYPES(DEF_BIN, max, (x != x || x > y) ? x : y)
FLOAT_TYPES(DEF_BIN, min, (x != x || x < y) ? x : y)
INT_TYPES(DEF_BIN, max, x > y ? x : y)
INT_TYPES(DEF_BIN, min, x < y ? x : y)

NUM_TYPES(DEF_CMP, eq, x == y)
NUM_TYPES(DEF_CMP, lt, x < y)
NUM_TYPES(DEF_CMP, gt, x > y)
NUM_TYPES(DEF_CMP, le, x <= y)
NUM_TYPES(DEF_CMP, ge, x >= y)
BOOL_TYPE(DEF_CMP, eq, (x != 0) == (y != 0))
BOOL_TYPE(DEF_CMP, and, x && y)
BOOL_TYPE(DEF_CMP, or, x || y)
BOOL_TYPE(DEF_CMP, xor, (x != 0) != (y != 0))

static const binop op_add = {"Add", {NUM_TYPES(TABLE_ENTRY, add)}};
static const binop op_sub = {"Sub", {NUM_TYPES(TABLE_ENTRY, sub)}};
static const binop op_mul = {"Mul", {NUM_TYPES(TABLE_ENTRY, mul)}};
static const binop op_div = {"Div", {NUM_TYPES(TABLE_ENTRY, div)}};
static const binop op_mod = {"Mod", {INT_TYPES(TABLE_ENTRY, mod)}};
static const binop op_fmod = {"Mod", {NUM_TYPES(TABLE_ENTRY, fmod)}};
static const binop op_shl = {"BitShift", {UINT_TYPES(TABLE_ENTRY, shl)}};
static const binop op_shr = {"BitShift", {UINT_TYPES(TABLE_ENTRY, shr)}};
static const binop op_max = {"Max", {NUM_TYPES(TABLE_ENTRY, max)}};
static const binop op_min = {"Min", {NUM_TYPES(TABLE_ENTRY, min)}};
static const binop op_eq = {"Equal", {NUM_TYPES(TABLE_ENTRY, eq) BOOL_TYPE(TABLE_ENTRY, eq)}};
static const binop op_lt = {"Less", {NUM_TYPES(TABLE_ENTRY, lt)}};
static const binop op_gt = {"Greater", {NUM_TYPES(TABLE_ENTRY, gt)}};
static const binop op_le = {"LessOrEqual", {NUM_TYPES(TABLE_ENTRY, le)}};
static const binop op_ge = {"GreaterOrEqual", {NUM_TYPES(TABLE_ENTRY, ge)}};
static const binop op_and = {"And", {BOOL_TYPE(TABLE_ENTRY, and)}};
static const binop op_or = {"Or", {BOOL_TYPE(TABLE_ENTRY, or)}};
static const binop op_xor = {"Xor", {BOOL_TYPE(TABLE_ENTRY, xor)}};

static mec_status check_fn(const mec_op_ctx *ctx, const void *fn, int i) {
    if (fn) return MEC_OK;
    return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "input %d has dtype %s, which this op does not support",
                      i, mec_dtype_name(ctx->in[i]->dtype));
}

static mec_status same_dtype(const mec_op_ctx *ctx, int i, int j) {
    if (ctx->in[i]->dtype == ctx->in[j]->dtype) return MEC_OK;
    return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input %d has dtype %s but input %d has %s", j,
                      mec_dtype_name(ctx->in[j]->dtype), i, mec_dtype_name(ctx->in[i]->dtype));
}

/* Before opset 7, B broadcasts to A only when attribute broadcast=1, its
 * dims aligned with A's starting at attribute axis (default: trailing).
 * *view gets B reshaped to A's rank so the numpy machinery applies. */
static mec_status legacy_view(const mec_op_ctx *ctx, mec_tensor *view) {
    const mec_tensor *a = ctx->in[0], *b = ctx->in[1];
    char sa[160], sb[160];
    *view = *b;
    view->owned = NULL;
    if (!mec_node_int(ctx->node, "broadcast", 0)) {
        if (mec_tensor_same_shape(a, b)) return MEC_OK;
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "shapes %s and %s differ and attribute broadcast is 0",
                          mec_shape_str(a->ndim, a->shape, sa, sizeof sa),
                          mec_shape_str(b->ndim, b->shape, sb, sizeof sb));
    }
    int64_t axis = mec_node_attr(ctx->node, "axis") ? mec_node_int(ctx->node, "axis", 0)
                                                     : a->ndim - b->ndim;
    if (axis < 0) axis += a->ndim;
    if (axis < 0 || axis + b->ndim > a->ndim)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "axis %" PRId64 " does not place shape %s inside %s", axis,
                          mec_shape_str(b->ndim, b->shape, sb, sizeof sb),
                          mec_shape_str(a->ndim, a->shape, sa, sizeof sa));
    view->ndim = a->ndim;
    for (int d = 0; d < a->ndim; d++) {
        int64_t n = d >= axis && d < axis + b->ndim ? b->shape[d - axis] : 1;
        if (n != 1 && n != a->shape[d])
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "shape %s does not broadcast to %s at axis %" PRId64,
                              mec_shape_str(b->ndim, b->shape, sb, sizeof sb),
                              mec_shape_str(a->ndim, a->shape, sa, sizeof sa), axis);
        view->shape[d] = n;
    }
    mec_tensor_contiguous_strides(view);
    return MEC_OK;
}

/* Output shape of a binary op: numpy broadcasting, or the legacy rule. */
static mec_status bin_shape(mec_op_ctx *ctx, int *nd, int64_t *shape) {
    if (ctx->opset >= 7) return bcast_infer(ctx, 0, 2, nd, shape);
    mec_tensor view;
    mec_status st = legacy_view(ctx, &view);
    if (st) return st;
    *nd = ctx->in[0]->ndim;
    memcpy(shape, ctx->in[0]->shape, sizeof(int64_t) * (size_t)*nd);
    return MEC_OK;
}

/* Runs a binary row kernel, through the legacy view of B before opset 7. */
static mec_status bin_run(mec_op_ctx *ctx, row_fn fn, const void *aux) {
    mec_tensor view;
    const mec_tensor *pair[2] = {ctx->in[0], ctx->in[1]};
    if (ctx->opset < 7) {
        mec_status st = legacy_view(ctx, &view);
        if (st) return st;
        pair[1] = &view;
    }
    bcast_plan p;
    bcast_plan_make(&p, ctx->out[0], 2, pair);
    bcast_run(&p, pair, ctx->out[0], fn, aux);
    return MEC_OK;
}

static mec_status bin_infer(mec_op_ctx *ctx, const binop *op, bool out_bool) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (!st) st = same_dtype(ctx, 0, 1);
    if (!st) st = check_fn(ctx, (const void *)op->fn[ctx->in[0]->dtype], 0);
    int nd;
    int64_t shape[MEC_MAX_DIMS];
    if (!st) st = bin_shape(ctx, &nd, shape);
    if (st) return st;
    return mec_op_set_output(ctx, 0, out_bool ? MEC_BOOL : ctx->in[0]->dtype, nd, shape);
}

static mec_status bin_exec(mec_op_ctx *ctx, const binop *op) {
    row_fn fn = op->fn[ctx->in[0]->dtype];
    if (!fn) return check_fn(ctx, NULL, 0);
    return bin_run(ctx, fn, NULL);
}

#define BIN_KERNEL(pfx, table, out_bool)                                                         \
    static mec_status pfx##_infer(mec_op_ctx *ctx) { return bin_infer(ctx, &table, out_bool); } \
    static mec_status pfx##_exec(mec_op_ctx *ctx) { return bin_exec(ctx, &table); }
BIN_KERNEL(add, op_add, false)
BIN_KERNEL(sub, op_sub, false)
BIN_KERNEL(mul, op_mul, false)
BIN_KERNEL(div, op_div, false)
BIN_KERNEL(eq, op_eq, true)
BIN_KERNEL(lt, op_lt, true)
BIN_KERNEL(gt, op_gt, true)
BIN_KERNEL(le, op_le, true)
BIN_KERNEL(ge, op_ge, true)
BIN_KERNEL(and, op_and, true)
BIN_KERNEL(or, op_or, true)
BIN_KERNEL(xor, op_xor, true)

/* Mod: fmod=1 is required for floats (the Python-style modulus is integer only). */
static mec_status mod_table(mec_op_ctx *ctx, const binop **op) {
    int64_t f = mec_node_int(ctx->node, "fmod", 0);
    if (f != 0 && f != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute fmod is %" PRId64 ", expected 0 or 1", f);
    mec_dtype t = ctx->in[0]->dtype;
    if (!f && (t == MEC_F32 || t == MEC_F64 || t == MEC_F16 || t == MEC_BF16))
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "fmod must be 1 for %s inputs", mec_dtype_name(t));
    *op = f ? &op_fmod : &op_mod;
    return MEC_OK;
}
static mec_status mod_infer(mec_op_ctx *ctx) {
    const binop *op;
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (!st) st = mod_table(ctx, &op);
    return st ? st : bin_infer(ctx, op, false);
}
static mec_status mod_exec(mec_op_ctx *ctx) {
    const binop *op;
    mec_status st = mod_table(ctx, &op);
    return st ? st : bin_exec(ctx, op);
}

static mec_status shift_table(mec_op_ctx *ctx, const binop **op) {
    const char *dir = mec_node_string(ctx->node, "direction", NULL);
    if (!dir) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute direction is missing");
    if (!strcmp(dir, "LEFT")) *op = &op_shl;
    else if (!strcmp(dir, "RIGHT")) *op = &op_shr;
    else
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute direction is '%s', expected LEFT or RIGHT", dir);
    return MEC_OK;
}
static mec_status shift_infer(mec_op_ctx *ctx) {
    const binop *op;
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (!st) st = shift_table(ctx, &op);
    return st ? st : bin_infer(ctx, op, false);
}
static mec_status shift_exec(mec_op_ctx *ctx) {
    const binop *op;
    mec_status st = shift_table(ctx, &op);
    return st ? st : bin_exec(ctx, op);
}

/* ------------------------------------------------------------------- Pow */

/* Pow(X, Y): the output has X's type; from opset 12 Y may be any numeric
 * type. Float^float of the same type has its own loops (with x^2 and x^0.5
 * shortcuts for LayerNorm-style graphs); mixed types read Y per element. */
static inline double ld_f64(const void *p, mec_dtype t, int64_t i) {
    switch (t) {
    case MEC_F32: return ((const float *)p)[i];
    case MEC_F64: return ((const double *)p)[i];
    case MEC_F16: return mec_f16_to_f32(((const uint16_t *)p)[i]);
    case MEC_BF16: return mec_bf16_to_f32(((const uint16_t *)p)[i]);
    case MEC_I8: return ((const int8_t *)p)[i];
    case MEC_I16: return ((const int16_t *)p)[i];
    case MEC_I32: return ((const int32_t *)p)[i];
    case MEC_I64: return (double)((const int64_t *)p)[i];
    case MEC_U8: return ((const uint8_t *)p)[i];
    case MEC_U16: return ((const uint16_t *)p)[i];
    case MEC_U32: return ((const uint32_t *)p)[i];
    case MEC_U64: return (double)((const uint64_t *)p)[i];
    default: return 0;
    }
}

static inline bool is_int_dtype(mec_dtype t) {
    return t == MEC_I8 || t == MEC_I16 || t == MEC_I32 || t == MEC_I64 || t == MEC_U8 ||
           t == MEC_U16 || t == MEC_U32 || t == MEC_U64;
}
static inline bool is_float_dtype(mec_dtype t) {
    return t == MEC_F32 || t == MEC_F64 || t == MEC_F16 || t == MEC_BF16;
}

/* Exact integer power with wrap-around; negative exponents truncate 1/x^n. */
static int64_t ipow(int64_t b, int64_t e) {
    if (e < 0) return b == 1 ? 1 : b == -1 ? ((e & 1) ? -1 : 1) : 0;
    uint64_t r = 1, x = (uint64_t)b;
    while (e) {
        if (e & 1) r *= x;
        x *= x;
        e >>= 1;
    }
    return (int64_t)r;
}

#define POW_SAME(sfx, T)                                                                         \
    static void pow_same_##sfx(const void *const *in, const int *s, void *out, int64_t n,        \
                               const void *aux) {                                                \
        const T *pa = in[0], *pb = in[1];                                                        \
        T *po = out;                                                                             \
        (void)aux;                                                                               \
        if (s[0] && !s[1] && pb[0] == 2) {                                                       \
            for (int64_t i = 0; i < n; i++) po[i] = pa[i] * pa[i];                               \
        } else if (s[0] && !s[1] && pb[0] == 0.5) {                                              \
            for (int64_t i = 0; i < n; i++) po[i] = sqrt(pa[i]);                                 \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++) po[i] = pow(pa[i * s[0]], pb[i * s[1]]);             \
        }                                                                                        \
    }
POW_SAME(f32, float)
POW_SAME(f64, double)

/* Integer exponent read without a trip through double (exact for int64). */
static inline int64_t ld_i64_exact(const void *p, mec_dtype t, int64_t i) {
    switch (t) {
    case MEC_I8: return ((const int8_t *)p)[i];
    case MEC_I16: return ((const int16_t *)p)[i];
    case MEC_I32: return ((const int32_t *)p)[i];
    case MEC_I64: return ((const int64_t *)p)[i];
    case MEC_U8: return ((const uint8_t *)p)[i];
    case MEC_U16: return ((const uint16_t *)p)[i];
    case MEC_U32: return ((const uint32_t *)p)[i];
    case MEC_U64: return (int64_t)((const uint64_t *)p)[i];
    default: return 0;
    }
}

/* aux points at Y's dtype. Float bases compute in double. */
#define DEF_POW_MIXED(sfx, T, C, LD, ST, unused)                                                 \
    static void pow_mixed_##sfx(const void *const *in, const int *s, void *out, int64_t n,       \
                                const void *aux) {                                               \
        const T *pa = in[0];                                                                     \
        T *po = out;                                                                             \
        mec_dtype ty = *(const mec_dtype *)aux;                                                  \
        for (int64_t i = 0; i < n; i++)                                                          \
            po[i] = ST((C)pow((double)LD(pa[i * s[0]]), ld_f64(in[1], ty, i * s[1])));           \
    }
FLOAT_TYPES(DEF_POW_MIXED, 0)

/* Integer bases: exact power for integer exponents, else pow in double. */
#define DEF_POW_INT(sfx, T)                                                                      \
    static void pow_mixed_##sfx(const void *const *in, const int *s, void *out, int64_t n,       \
                                const void *aux) {                                               \
        const T *pa = in[0];                                                                     \
        T *po = out;                                                                             \
        mec_dtype ty = *(const mec_dtype *)aux;                                                  \
        bool int_exp = is_int_dtype(ty);                                                         \
        for (int64_t i = 0; i < n; i++) {                                                        \
            int64_t x = pa[i * s[0]];                                                            \
            po[i] = (T)(int_exp ? ipow(x, ld_i64_exact(in[1], ty, i * s[1]))                     \
                                : f64_to_i64(pow((double)x, ld_f64(in[1], ty, i * s[1]))));      \
        }                                                                                        \
    }
DEF_POW_INT(i32, int32_t)
DEF_POW_INT(i64, int64_t)

static const row_fn pow_mixed[MEC_DTYPE_MAX] = {
    [MEC_F32] = pow_mixed_f32, [MEC_F64] = pow_mixed_f64, [MEC_F16] = pow_mixed_f16,
    [MEC_BF16] = pow_mixed_bf16, [MEC_I32] = pow_mixed_i32, [MEC_I64] = pow_mixed_i64,
};

static mec_status pow_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    mec_dtype ty = ctx->in[1]->dtype;
    if (!pow_mixed[ctx->in[0]->dtype]) return check_fn(ctx, NULL, 0);
    if (!is_int_dtype(ty) && !is_float_dtype(ty)) return check_fn(ctx, NULL, 1);
    int nd;
    int64_t shape[MEC_MAX_DIMS];
    st = bin_shape(ctx, &nd, shape);
    return st ? st : mec_op_set_output(ctx, 0, ctx->in[0]->dtype, nd, shape);
}

static mec_status pow_exec(mec_op_ctx *ctx) {
    mec_dtype tx = ctx->in[0]->dtype, ty = ctx->in[1]->dtype;
    row_fn fn = pow_mixed[tx];
    if (tx == ty && tx == MEC_F32) fn = pow_same_f32;
    else if (tx == ty && tx == MEC_F64) fn = pow_same_f64;
    if (!fn) return check_fn(ctx, NULL, 0);
    return bin_run(ctx, fn, &ty);
}

/* ----------------------------------------------------------------- Where */

/* Where(cond, X, Y): element size is all that matters for the copy. */
#define DEF_WHERE(bits)                                                                          \
    static void where_##bits(const void *const *in, const int *s, void *out, int64_t n,          \
                             const void *aux) {                                                  \
        const uint8_t *c = in[0];                                                                \
        const uint##bits##_t *x = in[1], *y = in[2];                                             \
        uint##bits##_t *o = out;                                                                 \
        (void)aux;                                                                               \
        if (s[0] && s[1] && s[2]) {                                                              \
            for (int64_t i = 0; i < n; i++) o[i] = c[i] ? x[i] : y[i];                           \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++) o[i] = c[i * s[0]] ? x[i * s[1]] : y[i * s[2]];      \
        }                                                                                        \
    }
DEF_WHERE(8)
DEF_WHERE(16)
DEF_WHERE(32)
DEF_WHERE(64)

static mec_status where_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 3, 3);
    if (st) return st;
    if (ctx->in[0]->dtype != MEC_BOOL)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input 0 (condition) has dtype %s, expected bool",
                          mec_dtype_name(ctx->in[0]->dtype));
    if ((st = same_dtype(ctx, 1, 2))) return st;
    size_t es = mec_dtype_size(ctx->in[1]->dtype);
    if (es != 1 && es != 2 && es != 4 && es != 8) return check_fn(ctx, NULL, 1);
    int nd;
    int64_t shape[MEC_MAX_DIMS];
    st = bcast_infer(ctx, 0, 3, &nd, shape);
    return st ? st : mec_op_set_output(ctx, 0, ctx->in[1]->dtype, nd, shape);
}

static mec_status where_exec(mec_op_ctx *ctx) {
    row_fn fn;
    switch (mec_dtype_size(ctx->in[1]->dtype)) {
    case 1: fn = where_8; break;
    case 2: fn = where_16; break;
    case 4: fn = where_32; break;
    case 8: fn = where_64; break;
    default: return check_fn(ctx, NULL, 1);
    }
    bcast_plan p;
    bcast_plan_make(&p, ctx->out[0], 3, ctx->in);
    bcast_run(&p, ctx->in, ctx->out[0], fn, NULL);
    return MEC_OK;
}

/* ------------------------------------------------ variadic Min/Max/Sum/Mean */

/* Folds the inputs pairwise into the output: out = in0 (op) in1, then
 * out = out (op) ink. Mean divides the sum at the end. */
#define DEF_SCALE(sfx, T, C, LD, ST, unused)                                                     \
    static void scale_##sfx(void *p, int64_t n, double f) {                                      \
        T *v = p;                                                                                \
        _Pragma("omp parallel for if (n >= PAR_MIN_ELEMS)") for (int64_t i = 0; i < n; i++)      \
            v[i] = ST((C)(LD(v[i]) * (C)f));                                                      \
    }
FLOAT_TYPES(DEF_SCALE, 0)

static const binop *variadic_op(const mec_op_ctx *ctx) {
    const char *t = ctx->node->op_type;
    if (!strcmp(t, "Max")) return &op_max;
    if (!strcmp(t, "Min")) return &op_min;
    return &op_add; /* Sum, Mean */
}

static mec_status variadic_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 64);
    if (st) return st;
    const binop *op = variadic_op(ctx);
    bool want_float = strcmp(ctx->node->op_type, "Max") && strcmp(ctx->node->op_type, "Min");
    for (int k = 0; k < ctx->n_in; k++) {
        if (!ctx->in[k])
            return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "input %d is missing", k);
        if ((st = same_dtype(ctx, 0, k))) return st;
    }
    if (!op->fn[ctx->in[0]->dtype] || (want_float && !is_float_dtype(ctx->in[0]->dtype)))
        return check_fn(ctx, NULL, 0);
    int nd;
    int64_t shape[MEC_MAX_DIMS];
    st = bcast_infer(ctx, 0, ctx->n_in, &nd, shape);
    return st ? st : mec_op_set_output(ctx, 0, ctx->in[0]->dtype, nd, shape);
}

/* A single input is copied (unless the runtime ran it in place). */
static mec_status variadic_exec(mec_op_ctx *ctx) {
    const binop *op = variadic_op(ctx);
    mec_tensor *out = ctx->out[0];
    row_fn fn = op->fn[out->dtype];
    if (!fn) return check_fn(ctx, NULL, 0);
    if (ctx->n_in == 1) {
        if (out->data != ctx->in[0]->data) memcpy(out->data, ctx->in[0]->data, mec_tensor_bytes(out));
    } else {
        for (int k = 1; k < ctx->n_in; k++) {
            const mec_tensor *pair[2] = {k == 1 ? ctx->in[0] : out, ctx->in[k]};
            bcast_plan p;
            bcast_plan_make(&p, out, 2, pair);
            bcast_run(&p, pair, out, fn, NULL);
        }
    }
    if (!strcmp(ctx->node->op_type, "Mean") && ctx->n_in > 1) {
        double f = 1.0 / ctx->n_in;
        int64_t n = mec_tensor_numel(out);
        switch (out->dtype) {
        case MEC_F32: scale_f32(out->data, n, f); break;
        case MEC_F64: scale_f64(out->data, n, f); break;
        case MEC_F16: scale_f16(out->data, n, f); break;
        case MEC_BF16: scale_bf16(out->data, n, f); break;
        default: return check_fn(ctx, NULL, 0);
        }
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- unary ops */

typedef void (*unary_fn)(const void *in, void *out, int64_t n, const void *aux);

typedef struct unop {
    const char *name;
    unary_fn fn[MEC_DTYPE_MAX];
} unop;

#define DEF_UN(sfx, T, C, LD, ST, name, EXPR) DEF_UN_ATTR(, sfx, T, C, LD, ST, name, EXPR)
#define DEF_UN_VS(sfx, T, C, LD, ST, name, EXPR) DEF_UN_ATTR(VEC_SELECTS, sfx, T, C, LD, ST, name, EXPR)
#define DEF_UN_ATTR(ATTR, sfx, T, C, LD, ST, name, EXPR)                                         \
    ATTR static void name##_##sfx(const void *in, void *out, int64_t n, const void *aux) {       \
        LOCAL_TYPES(T, C)                                                                        \
        const T *px = in;                                                                        \
        T *po = out;                                                                             \
        (void)aux;                                                                               \
        SIMD_LOOP for (int64_t i = 0; i < n; i++) {                                    \
            C x = LD(px[i]);                                                                     \
            po[i] = ST(EXPR);                                                                    \
        }                                                                                        \
    }
#define DEF_UN_BOOL(sfx, T, C, LD, ST, name, EXPR)                                               \
    static void name##_##sfx(const void *in, void *out, int64_t n, const void *aux) {            \
        LOCAL_TYPES(T, C)                                                                        \
        const T *px = in;                                                                        \
        uint8_t *po = out;                                                                       \
        const int *flags = aux;                                                                  \
        (void)flags;                                                                             \
        for (int64_t i = 0; i < n; i++) {                                                        \
            C x = LD(px[i]);                                                                     \
            po[i] = TO_BOOL(EXPR);                                                               \
        }                                                                                        \
    }

/* GCC keeps float selects (the clamps of fast_erff) out of vectorised loops
 * unless FP compares may be assumed not to trap; clang needs no help. */
#if defined(__GNUC__) && !defined(__clang__)
#define VEC_SELECTS __attribute__((optimize("no-trapping-math")))
#define SIMD_LOOP _Pragma("omp simd") /* -O2's cheap cost model skips these loops otherwise */
#else
#define VEC_SELECTS
#define SIMD_LOOP /* clang vectorises these on its own and warns on a failed hint */
#endif

/* erf in float: Eigen's rational approximation on [-4, 4] (erf(+-4) is
 * +-1 in float), within 5e-7 relative of the exact value. Unlike libm's erff
 * it vectorises, and BERT's GELU runs it on every FFN activation. Doubles
 * keep libm's erf. */
VEC_SELECTS static inline float fast_erff(float x) {
    x = x < -4.0f ? -4.0f : x; /* two plain selects so that the loop vectorises */
    x = x > 4.0f ? 4.0f : x;
    float x2 = x * x;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 - 2.10102402082508e-06f;
    p = p * x2 - 5.69250639462346e-05f;
    p = p * x2 - 7.34990630326855e-04f;
    p = p * x2 - 2.95459980854025e-03f;
    p = p * x2 - 1.60960333262415e-02f;
    float q = -1.45660718464996e-05f;
    q = q * x2 - 2.13374055278905e-04f;
    q = q * x2 - 1.68282697438203e-03f;
    q = q * x2 - 7.37332916720468e-03f;
    q = q * x2 - 1.42647390514189e-02f;
    return x * p / q;
}
#define ERF(x) _Generic((x), float: fast_erff, default: erf)(x)

/* <tgmath.h> picks sqrtf/sqrt by the compute type, so one expression serves
 * float, double and the 16-bit floats (computed in float). */
FLOAT_TYPES(DEF_UN, abs, fabs(x))
SINT_TYPES(DEF_UN, abs, x < 0 ? WRAP(ctype_, 0u - (uint64_t)x) : x)
UINT_TYPES(DEF_UN, abs, x)
FLOAT_TYPES(DEF_UN, neg, -x)
SINT_TYPES(DEF_UN, neg, WRAP(ctype_, 0u - (uint64_t)x))
FLOAT_TYPES(DEF_UN, sqrt, sqrt(x))
FLOAT_TYPES(DEF_UN, exp, exp(x))
FLOAT_TYPES(DEF_UN, log, log(x))
FLOAT_TYPES(DEF_UN, recip, (ctype_)1 / x)
FLOAT_TYPES(DEF_UN, floor, floor(x))
FLOAT_TYPES(DEF_UN, ceil, ceil(x))
FLOAT_TYPES(DEF_UN, round, rint(x)) /* default rounding mode: half to even */
FLOAT_TYPES(DEF_UN, sign, (ctype_)((x > 0) - (x < 0)))
SINT_TYPES(DEF_UN, sign, (ctype_)((x > 0) - (x < 0)))
UINT_TYPES(DEF_UN, sign, (ctype_)(x > 0))
FLOAT_TYPES(DEF_UN_VS, erf, ERF(x))
FLOAT_TYPES(DEF_UN, sin, sin(x))
FLOAT_TYPES(DEF_UN, cos, cos(x))
FLOAT_TYPES(DEF_UN, tan, tan(x))
FLOAT_TYPES(DEF_UN, asin, asin(x))
FLOAT_TYPES(DEF_UN, acos, acos(x))
FLOAT_TYPES(DEF_UN, atan, atan(x))
FLOAT_TYPES(DEF_UN, sinh, sinh(x))
FLOAT_TYPES(DEF_UN, cosh, cosh(x))
FLOAT_TYPES(DEF_UN, asinh, asinh(x))
FLOAT_TYPES(DEF_UN, acosh, acosh(x))
FLOAT_TYPES(DEF_UN, atanh, atanh(x))
BOOL_TYPE(DEF_UN, not, !x)
FLOAT_TYPES(DEF_UN_BOOL, isnan, isnan(x))
/* flags[0] detect_negative, flags[1] detect_positive */
FLOAT_TYPES(DEF_UN_BOOL, isinf, isinf(x) && ((x < 0 && flags[0]) || (x > 0 && flags[1])))

#define UNOP(var, name, TYPES1, TYPES2, sym)                                                     \
    static const unop var = {name, {TYPES1(TABLE_ENTRY, sym) TYPES2(TABLE_ENTRY, sym)}};
UNOP(op_abs, "Abs", FLOAT_TYPES, INT_TYPES, abs)
UNOP(op_neg, "Neg", FLOAT_TYPES, SINT_TYPES, neg)
UNOP(op_sqrt, "Sqrt", FLOAT_TYPES, NONE, sqrt)
UNOP(op_exp, "Exp", FLOAT_TYPES, NONE, exp)
UNOP(op_log, "Log", FLOAT_TYPES, NONE, log)
UNOP(op_recip, "Reciprocal", FLOAT_TYPES, NONE, recip)
UNOP(op_floor, "Floor", FLOAT_TYPES, NONE, floor)
UNOP(op_ceil, "Ceil", FLOAT_TYPES, NONE, ceil)
UNOP(op_round, "Round", FLOAT_TYPES, NONE, round)
UNOP(op_sign, "Sign", FLOAT_TYPES, INT_TYPES, sign)
UNOP(op_erf, "Erf", FLOAT_TYPES, NONE, erf)
UNOP(op_sin, "Sin", FLOAT_TYPES, NONE, sin)
UNOP(op_cos, "Cos", FLOAT_TYPES, NONE, cos)
UNOP(op_tan, "Tan", FLOAT_TYPES, NONE, tan)
UNOP(op_asin, "Asin", FLOAT_TYPES, NONE, asin)
UNOP(op_acos, "Acos", FLOAT_TYPES, NONE, acos)
UNOP(op_atan, "Atan", FLOAT_TYPES, NONE, atan)
UNOP(op_sinh, "Sinh", FLOAT_TYPES, NONE, sinh)
UNOP(op_cosh, "Cosh", FLOAT_TYPES, NONE, cosh)
UNOP(op_asinh, "Asinh", FLOAT_TYPES, NONE, asinh)
UNOP(op_acosh, "Acosh", FLOAT_TYPES, NONE, acosh)
UNOP(op_atanh, "Atanh", FLOAT_TYPES, NONE, atanh)
UNOP(op_not, "Not", BOOL_TYPE, NONE, not)
UNOP(op_isnan, "IsNaN", FLOAT_TYPES, NONE, isnan)
UNOP(op_isinf, "IsInf", FLOAT_TYPES, NONE, isinf)

static mec_status un_infer(mec_op_ctx *ctx, const unop *op, bool out_bool) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (!st) st = check_fn(ctx, (const void *)op->fn[ctx->in[0]->dtype], 0);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    return mec_op_set_output(ctx, 0, out_bool ? MEC_BOOL : x->dtype, x->ndim, x->shape);
}

/* Splits the flat range evenly across threads (in-place safe: each element
 * is read before it is written). */
static mec_status un_exec_aux(mec_op_ctx *ctx, const unop *op, const void *aux) {
    unary_fn fn = op->fn[ctx->in[0]->dtype];
    if (!fn) return check_fn(ctx, NULL, 0);
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int64_t total = mec_tensor_numel(x);
    size_t isz = mec_dtype_size(x->dtype), osz = mec_dtype_size(y->dtype);
#pragma omp parallel if (total >= PAR_MIN_ELEMS)
    {
        int nt = omp_get_num_threads(), t = omp_get_thread_num();
        int64_t begin = total * t / nt, end = total * (t + 1) / nt;
        if (begin < end)
            fn((const char *)x->data + (size_t)begin * isz, (char *)y->data + (size_t)begin * osz,
               end - begin, aux);
    }
    return MEC_OK;
}
static mec_status un_exec(mec_op_ctx *ctx, const unop *op) { return un_exec_aux(ctx, op, NULL); }

#define UN_KERNEL(pfx, table, out_bool)                                                          \
    static mec_status pfx##_infer(mec_op_ctx *ctx) { return un_infer(ctx, &table, out_bool); }  \
    static mec_status pfx##_exec(mec_op_ctx *ctx) { return un_exec(ctx, &table); }
UN_KERNEL(abs, op_abs, false)
UN_KERNEL(neg, op_neg, false)
UN_KERNEL(sqrt, op_sqrt, false)
UN_KERNEL(exp, op_exp, false)
UN_KERNEL(log, op_log, false)
UN_KERNEL(recip, op_recip, false)
UN_KERNEL(floor, op_floor, false)
UN_KERNEL(ceil, op_ceil, false)
UN_KERNEL(round, op_round, false)
UN_KERNEL(sign, op_sign, false)
UN_KERNEL(erf, op_erf, false)
UN_KERNEL(sin, op_sin, false)
UN_KERNEL(cos, op_cos, false)
UN_KERNEL(tan, op_tan, false)
UN_KERNEL(asin, op_asin, false)
UN_KERNEL(acos, op_acos, false)
UN_KERNEL(atan, op_atan, false)
UN_KERNEL(sinh, op_sinh, false)
UN_KERNEL(cosh, op_cosh, false)
UN_KERNEL(asinh, op_asinh, false)
UN_KERNEL(acosh, op_acosh, false)
UN_KERNEL(atanh, op_atanh, false)
UN_KERNEL(not, op_not, false)
UN_KERNEL(isnan, op_isnan, true)

static mec_status isinf_infer(mec_op_ctx *ctx) { return un_infer(ctx, &op_isinf, true); }
static mec_status isinf_exec(mec_op_ctx *ctx) {
    int flags[2] = {mec_node_int(ctx->node, "detect_negative", 1) != 0,
                    mec_node_int(ctx->node, "detect_positive", 1) != 0};
    return un_exec_aux(ctx, &op_isinf, flags);
}

/* One operation per output element. */
static int64_t elementwise_flops(const mec_op_ctx *ctx) {
    return ctx->out[0] ? mec_tensor_numel(ctx->out[0]) : 0;
}

/* ------------------------------------------------------------------ table */

#define K(op, since, until, flags, pfx)                                                          \
    {op, "", since, until, "ref", flags, 0, pfx##_infer, pfx##_exec, NULL, NULL, elementwise_flops}
#define IP MEC_KF_INPLACE

const mec_kernel mec_kernels_elementwise[] = {
    K("Add", 1, 17, IP, add),
    K("Sub", 1, 17, IP, sub),
    K("Mul", 1, 17, IP, mul),
    K("Div", 1, 17, IP, div),
    K("Pow", 1, 17, IP, pow),
    K("Mod", 10, 17, IP, mod),
    K("BitShift", 11, 17, IP, shift),
    K("Equal", 1, 17, 0, eq),
    K("Less", 1, 17, 0, lt),
    K("Greater", 1, 17, 0, gt),
    K("LessOrEqual", 12, 17, 0, le),
    K("GreaterOrEqual", 12, 17, 0, ge),
    K("And", 1, 17, IP, and),
    K("Or", 1, 17, IP, or),
    K("Xor", 1, 17, IP, xor),
    K("Not", 1, 17, IP, not),
    K("Where", 9, 17, 0, where),
    K("Max", 1, 17, IP, variadic),
    K("Min", 1, 17, IP, variadic),
    K("Sum", 1, 17, IP, variadic),
    K("Mean", 1, 17, IP, variadic),
    K("Abs", 1, 17, IP, abs),
    K("Neg", 1, 17, IP, neg),
    K("Sqrt", 1, 17, IP, sqrt),
    K("Exp", 1, 17, IP, exp),
    K("Log", 1, 17, IP, log),
    K("Reciprocal", 1, 17, IP, recip),
    K("Floor", 1, 17, IP, floor),
    K("Ceil", 1, 17, IP, ceil),
    K("Round", 11, 17, IP, round),
    K("Sign", 9, 17, IP, sign),
    K("Erf", 9, 17, IP, erf),
    K("Sin", 7, 17, IP, sin),
    K("Cos", 7, 17, IP, cos),
    K("Tan", 7, 17, IP, tan),
    K("Asin", 7, 17, IP, asin),
    K("Acos", 7, 17, IP, acos),
    K("Atan", 7, 17, IP, atan),
    K("Sinh", 9, 17, IP, sinh),
    K("Cosh", 9, 17, IP, cosh),
    K("Asinh", 9, 17, IP, asinh),
    K("Acosh", 9, 17, IP, acosh),
    K("Atanh", 9, 17, IP, atanh),
    K("IsNaN", 9, 17, 0, isnan),
    K("IsInf", 10, 17, 0, isinf),
    {0},
};
