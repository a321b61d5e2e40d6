/* Fast QLinearMatMul and mec.QMatMul (impl "dnnl") on oneDNN's int8 matmul:
 * u8/s8 A, B as s8 (a uint8 B is shifted by -128, its zero point with it),
 * a constant B packed once in prepare, per-tensor or per-column multipliers
 * as output scales, A/B/y zero points as primitive zero points, an int32
 * bias and ReLU (mec.QMatMul), batch dims broadcast as MatMul does. What it
 * does not run (per-row or per-matrix scales, per-column B zero points that
 * differ, scales or zero points that are not constants, empty shapes, a
 * shape oneDNN has only naive loops for) runs the reference kernel. */
#include "../fused.h"
#include "dnnl_common.h"

#include <string.h>

#define QMM_MAX_ND 12 /* oneDNN's DNNL_MAX_NDIMS */

typedef struct qmm_state {
    /* the reference kernel, when oneDNN does not run the node */
    const mec_kernel *ref;
    void *ref_state;
    mec_dnnl_call call;
    mec_dnnl_weights w;
    bool b_shift; /* B is uint8: handed to oneDNN as int8 B - 128 */
    bool has_bias;
    int8_t *b_s8;      /* owned: a constant uint8 B shifted, when oneDNN takes it unpacked */
    float *scales;     /* owned: a_scale * b_scale[n] / y_scale */
    size_t packed_off; /* scratch for B packed per run (not used: a non-constant B is taken as it
                          is) */
    size_t shift_off;  /* scratch for a non-constant uint8 B shifted */
} qmm_state;

/* A (..., M, K) x B (..., K, N) as oneDNN dims (mec_dnnl_mm_dims). */
typedef struct qmm_plan {
    int nd;
    int64_t a_dims[QMM_MAX_ND], b_dims[QMM_MAX_ND], y_dims[QMM_MAX_ND];
} qmm_plan;

static bool qmm_plan_dims(const mec_tensor *a, const mec_tensor *b, qmm_plan *p) {
    return mec_dnnl_mm_dims(a, b, QMM_MAX_ND, &p->nd, p->a_dims, p->b_dims, p->y_dims);
}

/* A dense memory descriptor of dims with data type dt. */
static dnnl_status_t qmm_md(dnnl_memory_desc_t *md, int nd, const int64_t *dims,
                            dnnl_data_type_t dt) {
    dnnl_dims_t d, s;
    int64_t acc = 1;
    for (int i = nd - 1; i >= 0; i--) {
        d[i] = dims[i];
        s[i] = acc;
        acc *= dims[i];
    }
    return dnnl_memory_desc_init_by_strides(md, nd, d, dt, s);
}

static bool is_q8(mec_dtype t) {
    return t == MEC_U8 || t == MEC_I8;
}

/* The scales and zero points (inputs 1, 2, 4, 5, 6, 7) are baked into the primitive. */
#define QMM_CONST_MASK ((1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7))

/* What oneDNN runs here: per-tensor A and y parameters, per-tensor or
 * per-column (N,) B scale, one B zero point (or N equal ones), all
 * constant, no empty tensor. *b_zp receives B's zero point. */
static bool qmm_handled(const mec_op_ctx *ctx, int32_t *b_zp) {
    const mec_tensor *a = ctx->in[0], *b = ctx->in[3], *bs = ctx->in[4], *bz = ctx->in[5],
                     *y = ctx->out[0];
    if (!y || (ctx->const_inputs & QMM_CONST_MASK) != QMM_CONST_MASK) return false;
    if (!is_q8(a->dtype) || !is_q8(b->dtype) || !is_q8(y->dtype)) return false;
    if (mec_tensor_numel(a) <= 0 || mec_tensor_numel(b) <= 0 || mec_tensor_numel(y) <= 0)
        return false;
    if (mec_tensor_numel(ctx->in[1]) != 1 || mec_tensor_numel(ctx->in[2]) != 1 ||
        mec_tensor_numel(ctx->in[6]) != 1 || mec_tensor_numel(ctx->in[7]) != 1)
        return false;
    int64_t N = b->ndim >= 2 ? b->shape[b->ndim - 1] : 1;
    if (mec_tensor_numel(bs) != 1 && !(bs->ndim == 1 && bs->shape[0] == N)) return false;
    int64_t nz = mec_tensor_numel(bz);
    if (nz < 1) return false;
    *b_zp = (int32_t)mec_tensor_get_i64(bz, 0);
    for (int64_t i = 1; i < nz; i++)
        if (mec_tensor_get_i64(bz, i) != *b_zp) return false;
    return true;
}

static void qmm_reset(qmm_state *qs) {
    mec_dnnl_call_release(&qs->call);
    mec_dnnl_weights_release(&qs->w);
    mec_free(qs->b_s8);
    mec_free(qs->scales);
    qs->b_s8 = NULL;
    qs->scales = NULL;
}

static void mec_dnnl_qmm_release(void *state) {
    qmm_state *qs = state;
    if (!qs) return;
    qmm_reset(qs);
    if (qs->ref && qs->ref->release && qs->ref_state) qs->ref->release(qs->ref_state);
    mec_free(qs);
}

/* dst[i] = src[i] - 128 as int8 (uint8 → int8 keeping differences) */
static void shift_u8(const uint8_t *src, int8_t *dst, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 18))
    for (int64_t i = 0; i < n; i++)
        dst[i] = (int8_t)(src[i] ^ 0x80);
}

static dnnl_status_t qmm_build(mec_op_ctx *ctx, qmm_state *qs, int32_t b_zp, size_t *scratch,
                               mec_status *st) {
    const mec_tensor *a = ctx->in[0], *b = ctx->in[3], *bs = ctx->in[4], *y = ctx->out[0];
    const mec_tensor *bias = ctx->n_in > 8 ? ctx->in[8] : NULL;
    dnnl_engine_t engine;
    *st = MEC_OK;
    qmm_plan p;
    if (!qmm_plan_dims(a, b, &p)) return dnnl_unimplemented;
    mec_fused_act act = MEC_ACT_NONE;
    if (!strcmp(ctx->node->op_type, "QMatMul")) {
        act = mec_fused_activation(ctx, st);
        if (*st) return dnnl_invalid_arguments;
        if (act == MEC_ACT_GELU) return dnnl_unimplemented;
    }
    if ((*st = mec_dnnl_env(ctx, &engine, NULL))) return dnnl_runtime_error;
    const int64_t N = p.y_dims[p.nd - 1];
    const bool per_col = mec_tensor_numel(bs) > 1;
    /* the multiplier as the reference forms it: a_scale * b_scale[n] / y_scale */
    const float a_scale = *(const float *)ctx->in[1]->data,
                y_scale = *(const float *)ctx->in[6]->data;
    qs->scales = mec_malloc((size_t)(per_col ? N : 1) * sizeof(float));
    if (!qs->scales) {
        *st = MEC_ERR_NOMEM;
        return dnnl_out_of_memory;
    }
    for (int64_t n = 0; n < (per_col ? N : 1); n++)
        qs->scales[n] = a_scale * ((const float *)bs->data)[n] / y_scale;
    int32_t a_zp = (int32_t)mec_tensor_get_i64(ctx->in[2], 0),
            y_zp = (int32_t)mec_tensor_get_i64(ctx->in[7], 0);
    qs->b_shift = b->dtype == MEC_U8;
    if (qs->b_shift) b_zp -= 128;

    dnnl_data_type_t adt = a->dtype == MEC_U8 ? dnnl_u8 : dnnl_s8,
                     ydt = y->dtype == MEC_U8 ? dnnl_u8 : dnnl_s8;
    dnnl_memory_desc_t a_md, b_md, bany_md, y_md, bias_md;
    int64_t bias_dims[QMM_MAX_ND];
    for (int d = 0; d < p.nd; d++)
        bias_dims[d] = d == p.nd - 1 ? N : 1;
    bool b_const = (ctx->const_inputs & (1u << 3)) != 0;
    dnnl_status_t s = qmm_md(&a_md, p.nd, p.a_dims, adt);
    if (s == dnnl_success) s = qmm_md(&b_md, p.nd, p.b_dims, dnnl_s8);
    if (s == dnnl_success) s = qmm_md(&y_md, p.nd, p.y_dims, ydt);
    if (s == dnnl_success && bias) s = qmm_md(&bias_md, p.nd, bias_dims, dnnl_s32);
    if (s == dnnl_success) {
        dnnl_dims_t bd;
        for (int d = 0; d < p.nd; d++)
            bd[d] = p.b_dims[d];
        /* a constant B goes into the layout oneDNN picks; another is used as it is */
        if (b_const)
            s = dnnl_memory_desc_init_by_tag(&bany_md, p.nd, bd, dnnl_s8, dnnl_format_tag_any);
        else
            bany_md = b_md;
    }
    if (s != dnnl_success) return s;
    dnnl_matmul_desc_t desc;
    if ((s = dnnl_matmul_desc_init(&desc, &a_md, &bany_md, bias ? &bias_md : NULL, &y_md)) !=
        dnnl_success)
        return s;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    s = mec_dnnl_attr(&attr);
    if (s == dnnl_success)
        s = dnnl_primitive_attr_set_output_scales(attr, per_col ? N : 1,
                                                  per_col ? 1 << (p.nd - 1) : 0, qs->scales);
    if (s == dnnl_success && a_zp)
        s = dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_SRC, 1, 0, &a_zp);
    if (s == dnnl_success && b_zp)
        s = dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_WEIGHTS, 1, 0, &b_zp);
    if (s == dnnl_success && y_zp)
        s = dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_DST, 1, 0, &y_zp);
    if (s == dnnl_success && act == MEC_ACT_RELU) {
        /* ReLU before the dst zero point is added: a clamp at y_zp */
        s = dnnl_post_ops_create(&po);
        if (s == dnnl_success)
            s = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, po);
    }
    /* oneDNN's naive loops are slower than our reference kernels */
    if ((s = mec_dnnl_pd_create(s, &desc, attr, po, engine, &pd)) != dnnl_success) return s;
    dnnl_memory_desc_t bpack_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    if ((s = mec_dnnl_call_init(&qs->call, pd)) != dnnl_success) return s;
    s = mec_dnnl_call_arg(&qs->call, DNNL_ARG_SRC, &a_md);
    if (s == dnnl_success) s = mec_dnnl_call_arg(&qs->call, DNNL_ARG_WEIGHTS, &bpack_md);
    if (s == dnnl_success && bias) s = mec_dnnl_call_arg(&qs->call, DNNL_ARG_BIAS, &bias_md);
    if (s == dnnl_success) s = mec_dnnl_call_arg(&qs->call, DNNL_ARG_DST, &y_md);
    if (s != dnnl_success) {
        *st = mec_dnnl_error(ctx, s, "creating the int8 matmul's arguments");
        return s;
    }
    /* a constant uint8 B is shifted once, into memory that lives as long as
     * it is needed: until packed, or for good when oneDNN takes it as it is */
    const int64_t b_numel = mec_tensor_numel(b);
    const void *b_data = b->data;
    if (b_const && qs->b_shift) {
        if (!(qs->b_s8 = mec_malloc((size_t)b_numel))) {
            *st = MEC_ERR_NOMEM;
            return dnnl_out_of_memory;
        }
        shift_u8(b->data, qs->b_s8, b_numel);
        b_data = qs->b_s8;
    }
    size_t packed = 0, reorder_sp = 0;
    if ((*st = mec_dnnl_weights_prepare(ctx, &qs->w, &b_md, &bpack_md, b_data, b_const, &packed,
                                        &reorder_sp)))
        return dnnl_runtime_error;
    if (qs->w.reorder && qs->w.constant) {
        mec_free(qs->b_s8);
        qs->b_s8 = NULL;
    }
    qs->has_bias = bias != NULL;
    /* scratch: [oneDNN scratchpad][B packed per run][B shifted per run] */
    size_t sp = qs->call.scratchpad_bytes > reorder_sp ? qs->call.scratchpad_bytes : reorder_sp;
    qs->packed_off = mec_dnnl_align(sp);
    qs->shift_off = mec_dnnl_align(qs->packed_off + packed);
    *scratch = !b_const && qs->b_shift ? qs->shift_off + (size_t)b_numel : qs->packed_off + packed;
    mec_log(MEC_LOG_DEBUG, "node '%s' (%s): oneDNN %s, B %s%s", ctx->node->name, ctx->node->op_type,
            qs->call.impl,
            qs->w.reorder ? (b_const ? "packed once" : "packed per run") : "as it is",
            qs->b_shift ? " (uint8 shifted to int8)" : "");
    return dnnl_success;
}

static mec_status mec_dnnl_qmm_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    qmm_state *qs = mec_calloc(1, sizeof *qs);
    if (!qs) return MEC_ERR_NOMEM;
    *state = qs;
    *scratch_bytes = 0;
    mec_status st = MEC_OK;
    int32_t b_zp = 0;
    bool handled = qmm_handled(ctx, &b_zp);
    dnnl_status_t s = handled ? qmm_build(ctx, qs, b_zp, scratch_bytes, &st) : dnnl_unimplemented;
    if (!st && s == dnnl_success) return MEC_OK;
    if (!st) {
        if (handled)
            mec_log(MEC_LOG_DEBUG,
                    "node '%s' (%s): oneDNN cannot run it (%s); using the reference kernel",
                    ctx->node->name, ctx->node->op_type, dnnl_status2str(s));
        qmm_reset(qs);
        *scratch_bytes = 0;
        /* inputs and output are contiguous (no MEC_KF_STRIDED): the
         * reference kernel runs on them as they are */
        qs->ref = mec_dnnl_ref(ctx);
        if (!qs->ref)
            st = MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "no reference kernel to fall back on");
        else if (qs->ref->prepare)
            st = qs->ref->prepare(ctx, &qs->ref_state, scratch_bytes);
    }
    if (st) {
        mec_dnnl_qmm_release(qs);
        *state = NULL;
    }
    return st;
}

// y: (..., M, N) u8/s8 = requantize((a - a_zp) @ (b - b_zp) [+ bias]) [relu at y_zp]
// a: (..., M, K) u8/s8, b: (..., K, N) u8/s8, bias: (N) int32
static mec_status mec_dnnl_qmm_exec(mec_op_ctx *ctx) {
    qmm_state *qs = ctx->state;
    if (!qs) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without prepare");
    if (qs->ref) {
        mec_op_ctx c = *ctx;
        c.state = qs->ref_state;
        return qs->ref->exec(&c);
    }
    char *scratch = ctx->scratch;
    const void *b_data = ctx->in[3]->data;
    if (qs->b_s8) {
        b_data = qs->b_s8;
    } else if (qs->b_shift && !qs->w.constant) {
        if (!scratch) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without its scratch memory");
        shift_u8(b_data, (int8_t *)(scratch + qs->shift_off), mec_tensor_numel(ctx->in[3]));
        b_data = scratch + qs->shift_off;
    }
    mec_status st;
    const void *b = mec_dnnl_weights_get(ctx, &qs->w, b_data,
                                         scratch ? scratch + qs->packed_off : NULL, scratch, &st);
    if (!b) return st;
    void *data[4];
    int n = 0;
    data[n++] = ctx->in[0]->data;
    data[n++] = (void *)b;
    if (qs->has_bias) data[n++] = ctx->in[8]->data;
    data[n++] = ctx->out[0]->data;
    dnnl_status_t s = mec_dnnl_call_run(&qs->call, data, scratch);
    if (s != dnnl_success) return mec_dnnl_error(ctx, s, "running the int8 matmul");
    return MEC_OK;
}

#define QMM(op, dom, lo, hi)                                                                       \
    {                                                                                              \
        op, dom, lo, hi, "dnnl", 0, 0, mec_dnnl_ref_infer, mec_dnnl_qmm_exec,                      \
            mec_dnnl_qmm_prepare, mec_dnnl_qmm_release, mec_dnnl_ref_flops                         \
    }

/* contiguous inputs (no MEC_KF_STRIDED): MatMul operands are rarely channels-last views */
const mec_kernel mec_kernels_dnnl_qmatmul[] = {
    QMM("QLinearMatMul", "", 10, 20),
    QMM("QMatMul", "mec", 1, 1),
    {0},
};
