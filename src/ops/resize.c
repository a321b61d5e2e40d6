/* resize ops: reference Resize (opsets 10, 11-12, 13+) and Upsample (7-9).
 * Every axis is resampled separably: each output coordinate maps back to an
 * input coordinate (coordinate_transformation_mode) and gets 1 (nearest), 2
 * (linear) or 4 (cubic) taps; an output element is the weighted sum over the
 * product of its axes' taps. Follows the ONNX reference implementation
 * (onnx/backend/test/case/node/resize.py). */
#include "op_util.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

enum { MODE_NEAREST, MODE_LINEAR, MODE_CUBIC };
enum { CT_HALF_PIXEL, CT_ASYMMETRIC, CT_PYTORCH_HALF_PIXEL, CT_TF_HALF_PIXEL_FOR_NN,
       CT_ALIGN_CORNERS, CT_TF_CROP_AND_RESIZE };
/* NEAREST_SIMPLE: Upsample and Resize-10 (floor, or ceil when downsampling). */
enum { NEAREST_ROUND_PREFER_FLOOR, NEAREST_ROUND_PREFER_CEIL, NEAREST_FLOOR, NEAREST_CEIL,
       NEAREST_SIMPLE };

typedef struct rs_params {
    int rank;
    int64_t in[MEC_MAX_DIMS], out[MEC_MAX_DIMS];
    double scale[MEC_MAX_DIMS];     /* output/input scale used by the coordinate transform */
    double out_len[MEC_MAX_DIMS];   /* scale * input length (not rounded), as the reference */
    double roi_start[MEC_MAX_DIMS], roi_end[MEC_MAX_DIMS];
    int mode, ctm, nearest;
    double cubic_a, extrapolation;
    bool exclude_outside;
} rs_params;

/* Taps of one output coordinate along one axis. */
typedef struct rs_taps {
    int n;
    bool outside; /* tf_crop_and_resize: the point is outside the input: extrapolate */
    int64_t idx[4];
    double w[4];
} rs_taps;

/* Element access for the float dtypes plus the integer ones Resize takes;
 * integer stores round to nearest and saturate. */
static double load_v(const void *p, mec_dtype t, int64_t i) {
    switch (t) {
    case MEC_U8: return ((const uint8_t *)p)[i];
    case MEC_I8: return ((const int8_t *)p)[i];
    case MEC_I32: return ((const int32_t *)p)[i];
    case MEC_I64: return (double)((const int64_t *)p)[i];
    default: return mec_op_load_f64(p, t, i);
    }
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static void store_v(void *p, mec_dtype t, int64_t i, double v) {
    switch (t) {
    case MEC_U8: ((uint8_t *)p)[i] = (uint8_t)clampd(nearbyint(v), 0, 255); break;
    case MEC_I8: ((int8_t *)p)[i] = (int8_t)clampd(nearbyint(v), -128, 127); break;
    case MEC_I32: ((int32_t *)p)[i] = (int32_t)clampd(nearbyint(v), -2147483648.0, 2147483647.0); break;
    case MEC_I64: ((int64_t *)p)[i] = (int64_t)clampd(nearbyint(v), -9.2e18, 9.2e18); break;
    default: mec_op_store_f64(p, t, i, v); break;
    }
}

static const mec_dtype data_types[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, MEC_U8,
                                       MEC_I8,  MEC_I32, MEC_I64, 0};

static mec_status pick(const mec_op_ctx *ctx, const char *attr, const char *dflt,
                       const char *const *names, int count, int *out) {
    const char *s = mec_node_string(ctx->node, attr, dflt);
    for (int i = 0; i < count; i++)
        if (!strcmp(s, names[i])) {
            *out = i;
            return MEC_OK;
        }
    return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "attribute %s has the unsupported value '%s'", attr, s);
}

static mec_status read_attrs(const mec_op_ctx *ctx, bool legacy, rs_params *p) {
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    static const char *const ctms[] = {"half_pixel", "asymmetric", "pytorch_half_pixel",
                                       "tf_half_pixel_for_nn", "align_corners",
                                       "tf_crop_and_resize"};
    static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    mec_status st = pick(ctx, "mode", "nearest", modes, legacy ? 2 : 3, &p->mode);
    if (st) return st;
    if (legacy) {
        p->ctm = CT_ASYMMETRIC;
        p->nearest = NEAREST_SIMPLE;
        p->cubic_a = -0.75;
        p->exclude_outside = false;
        p->extrapolation = 0.0;
        return MEC_OK;
    }
    if ((st = pick(ctx, "coordinate_transformation_mode", "half_pixel", ctms, 6, &p->ctm))) return st;
    if ((st = pick(ctx, "nearest_mode", "round_prefer_floor", nms, 4, &p->nearest))) return st;
    p->cubic_a = mec_node_float(ctx->node, "cubic_coeff_a", -0.75f);
    p->exclude_outside = mec_node_int(ctx->node, "exclude_outside", 0) != 0;
    p->extrapolation = mec_node_float(ctx->node, "extrapolation_value", 0.0f);
    return MEC_OK;
}

/* A present, non-empty optional input. */
static const mec_tensor *given(const mec_op_ctx *ctx, int i) {
    if (i >= ctx->n_in || !ctx->in[i] || mec_tensor_numel(ctx->in[i]) == 0) return NULL;
    return ctx->in[i];
}

/* Reads a 1-D float tensor (float32/16/64) of exactly n values. */
static mec_status read_floats(const mec_op_ctx *ctx, int i, int n, double *v) {
    const mec_tensor *t = ctx->in[i];
    if (t->dtype != MEC_F32 && t->dtype != MEC_F16 && t->dtype != MEC_F64 && t->dtype != MEC_BF16)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input %d must be a float tensor, not %s", i, mec_dtype_name(t->dtype));
    if (t->ndim != 1 || t->shape[0] != n)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d must be 1-D with %d values, has %" PRId64 " values in %d dims",
                          i, n, mec_tensor_numel(t), t->ndim);
    if (!t->data) return MEC_ERR_DEFER;
    for (int k = 0; k < n; k++) v[k] = load_v(t->data, t->dtype, k);
    return MEC_OK;
}

/* Output shape and per-axis scales from scales (given as values or input
 * scales_in) or sizes (input sizes_in; -1 when none). */
static mec_status set_geometry(const mec_op_ctx *ctx, rs_params *p, const double *scales,
                               int sizes_in) {
    const mec_tensor *x = ctx->in[0];
    p->rank = x->ndim;
    int64_t sizes[MEC_MAX_DIMS];
    if (sizes_in >= 0) {
        int n = 0;
        mec_status st = mec_op_read_ints(ctx, sizes_in, sizes, MEC_MAX_DIMS, &n);
        if (st) return st;
        if (n != x->ndim)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d (sizes) has %d values, expected %d (the rank of X)",
                              sizes_in, n, x->ndim);
    }
    for (int d = 0; d < p->rank; d++) {
        p->in[d] = x->shape[d];
        if (sizes_in >= 0) {
            if (sizes[d] < 0)
                return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "sizes[%d] is %" PRId64 ", expected >= 0", d, sizes[d]);
            p->out[d] = sizes[d];
            p->scale[d] = p->in[d] ? (double)sizes[d] / (double)p->in[d] : 1.0;
        } else {
            if (!(scales[d] > 0.0) || !isfinite(scales[d]))
                return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "scales[%d] is %g, expected a positive number", d, scales[d]);
            double o = floor(scales[d] * (double)p->in[d]);
            if (o > (double)MEC_MAX_NUMEL)
                return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "scales[%d] = %g makes dim %d too large", d, scales[d], d);
            p->out[d] = (int64_t)o;
            p->scale[d] = scales[d];
        }
        p->out_len[d] = p->scale[d] * (double)p->in[d];
        p->roi_start[d] = 0.0;
        p->roi_end[d] = 1.0;
    }
    return MEC_OK;
}

/* Everything infer and exec need, for Resize (any opset) and Upsample. */
static mec_status resize_params(const mec_op_ctx *ctx, bool upsample, rs_params *p) {
    bool legacy = upsample || ctx->opset < 11;
    int max_in = legacy ? (upsample && ctx->opset < 9 ? 1 : 2) : 4;
    int min_in = legacy ? max_in : (ctx->opset < 13 ? 2 : 1);
    mec_status st = mec_op_check_arity(ctx, min_in, max_in);
    if (!st) st = mec_op_check_dtype(ctx, 0, data_types);
    if (!st) st = read_attrs(ctx, legacy, p);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    if (x->ndim < 1) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input 0 is a scalar, expected at least 1 dim");
    double scales[MEC_MAX_DIMS];
    if (upsample && ctx->opset < 9) {
        const float *sv = NULL;
        int64_t n = mec_node_floats(ctx->node, "scales", &sv);
        if (n != x->ndim)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "attribute scales has %" PRId64 " values, expected %d", n, x->ndim);
        for (int d = 0; d < x->ndim; d++) scales[d] = sv[d];
        return set_geometry(ctx, p, scales, -1);
    }
    if (legacy) {
        if ((st = read_floats(ctx, 1, x->ndim, scales))) return st;
        return set_geometry(ctx, p, scales, -1);
    }
    const mec_tensor *sc = given(ctx, 2), *sz = given(ctx, 3);
    if (sc && sz)
        return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "both scales and sizes are given; exactly one is allowed");
    if (!sc && !sz) return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "neither scales nor sizes is given");
    if (sc) {
        if ((st = read_floats(ctx, 2, x->ndim, scales))) return st;
        st = set_geometry(ctx, p, scales, -1);
    } else {
        st = set_geometry(ctx, p, NULL, 3);
    }
    if (st) return st;
    const mec_tensor *roi = given(ctx, 1);
    if (roi && p->ctm == CT_TF_CROP_AND_RESIZE) {
        double r[2 * MEC_MAX_DIMS];
        if ((st = read_floats(ctx, 1, 2 * x->ndim, r))) return st;
        for (int d = 0; d < x->ndim; d++) {
            p->roi_start[d] = r[d];
            p->roi_end[d] = r[x->ndim + d];
        }
    }
    return MEC_OK;
}

static void cubic_coeffs(double r, double A, double *c) {
    double s = 1.0 - r;
    c[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
    c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
    c[2] = ((A + 2) * s - (A + 3)) * s * s + 1;
    c[3] = ((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A;
}

/* Input coordinate of output coordinate x along axis d. */
static double original_coord(const rs_params *p, int d, int64_t x, bool *outside) {
    double s = p->scale[d], len = p->out_len[d], in = (double)p->in[d], xr = (double)x;
    *outside = false;
    switch (p->ctm) {
    case CT_ASYMMETRIC: return xr / s;
    case CT_PYTORCH_HALF_PIXEL: return len > 1 ? (xr + 0.5) / s - 0.5 : 0.0;
    case CT_TF_HALF_PIXEL_FOR_NN: return (xr + 0.5) / s;
    case CT_ALIGN_CORNERS: return len == 1 ? 0.0 : xr * (in - 1) / (len - 1);
    case CT_TF_CROP_AND_RESIZE: {
        double a = p->roi_start[d], b = p->roi_end[d], xo;
        if (len == 1) xo = (b - a) * (in - 1) / 2;
        else xo = xr * (b - a) * (in - 1) / (len - 1);
        xo += a * (in - 1);
        if (xo < 0 || xo > in - 1) *outside = true;
        return xo;
    }
    default: return (xr + 0.5) / s - 0.5;
    }
}

static void axis_taps(const rs_params *p, int d, int64_t x, rs_taps *t) {
    int64_t in = p->in[d];
    /* an unscaled axis maps every coordinate onto itself */
    if (p->out[d] == in && p->scale[d] == 1.0 && p->ctm != CT_TF_CROP_AND_RESIZE &&
        p->ctm != CT_TF_HALF_PIXEL_FOR_NN) {
        t->n = 1;
        t->outside = false;
        t->idx[0] = x;
        t->w[0] = 1.0;
        return;
    }
    double xo = original_coord(p, d, x, &t->outside);
    double fl = floor(xo);
    int64_t i = (int64_t)fl;
    double r = xo - fl;
    if (p->mode == MODE_NEAREST) {
        int64_t k;
        if (p->nearest == NEAREST_SIMPLE) k = p->scale[d] < 1.0 ? (int64_t)ceil(xo) : i;
        else if (r == 0.0) k = i;
        else if (p->nearest == NEAREST_ROUND_PREFER_FLOOR) k = r <= 0.5 ? i : i + 1;
        else if (p->nearest == NEAREST_ROUND_PREFER_CEIL) k = r < 0.5 ? i : i + 1;
        else if (p->nearest == NEAREST_FLOOR) k = i;
        else k = i + 1;
        t->n = 1;
        t->idx[0] = k < 0 ? 0 : k >= in ? in - 1 : k;
        t->w[0] = 1.0;
        return;
    }
    int64_t first;
    double w[4];
    int n;
    if (p->mode == MODE_LINEAR) {
        n = 2;
        first = i;
        w[0] = 1.0 - r;
        w[1] = r;
    } else {
        n = 4;
        if (r == 0.0) { /* the reference takes the pixel on the left: ratio 1 */
            i -= 1;
            r = 1.0;
        }
        first = i - 1;
        cubic_coeffs(r, p->cubic_a, w);
    }
    double sum = 0.0;
    if (p->exclude_outside) {
        for (int k = 0; k < n; k++) {
            if (first + k < 0 || first + k >= in) w[k] = 0.0;
            sum += w[k];
        }
    }
    t->n = 0;
    for (int k = 0; k < n; k++) {
        if (w[k] == 0.0) continue;
        int64_t idx = first + k;
        t->idx[t->n] = idx < 0 ? 0 : idx >= in ? in - 1 : idx;
        t->w[t->n++] = p->exclude_outside && sum != 0.0 ? w[k] / sum : w[k];
    }
}

static mec_status resize_infer_common(mec_op_ctx *ctx, bool upsample) {
    rs_params p;
    mec_status st = resize_params(ctx, upsample, &p);
    if (st) return st;
    return mec_op_set_output(ctx, 0, ctx->in[0]->dtype, p.rank, p.out);
}

// y: (O1..On) = sum over the product of per-axis taps of w * x (I1..In)
/* Scratch for the per-axis tap tables: computed once per exec instead of
 * once per output element. */
static size_t taps_bytes(const rs_params *p) {
    size_t n = 0;
    for (int d = 0; d < p->rank; d++) n += (size_t)p->out[d];
    return n * sizeof(rs_taps);
}

static mec_status resize_prepare_common(mec_op_ctx *ctx, bool upsample, size_t *scratch_bytes) {
    rs_params p;
    mec_status st = resize_params(ctx, upsample, &p);
    if (st) return st;
    *scratch_bytes = taps_bytes(&p);
    return MEC_OK;
}

/* Bilinear-style fast path: float32, rank >= 2, every axis but the last two
 * unscaled (one tap); the common upsampling of segmentation heads. */
static void resize_f32_2d(const rs_params *p, rs_taps *const *tab, const float *x, float *y) {
    int n = p->rank;
    int64_t ih = p->in[n - 2], iw = p->in[n - 1], oh = p->out[n - 2], ow = p->out[n - 1];
    int64_t planes = 1;
    for (int d = 0; d < n - 2; d++) planes *= p->out[d];
    int nth = planes * oh * ow >= 16384 ? mec_threads_get() : 1;
#pragma omp parallel for collapse(2) schedule(static) num_threads(nth) if (nth > 1)
    for (int64_t pl = 0; pl < planes; pl++) {
        for (int64_t oy = 0; oy < oh; oy++) {
            /* the plane's input offset from the (single) taps of the outer axes */
            int64_t rem = pl, in_plane = 0, stride = ih * iw;
            for (int d = n - 3; d >= 0; d--) {
                in_plane += tab[d][rem % p->out[d]].idx[0] * stride;
                stride *= p->in[d];
                rem /= p->out[d];
            }
            const rs_taps *ty = &tab[n - 2][oy];
            float *row = y + (pl * oh + oy) * ow;
            for (int64_t ox = 0; ox < ow; ox++) {
                const rs_taps *tx = &tab[n - 1][ox];
                if (ty->outside || tx->outside) {
                    row[ox] = (float)p->extrapolation;
                    continue;
                }
                double sum = 0.0;
                for (int a = 0; a < ty->n; a++) {
                    const float *src = x + in_plane + ty->idx[a] * iw;
                    double acc = 0.0;
                    for (int b = 0; b < tx->n; b++) acc += tx->w[b] * src[tx->idx[b]];
                    sum += ty->w[a] * acc;
                }
                row[ox] = (float)sum;
            }
        }
    }
}

static mec_status resize_exec_common(mec_op_ctx *ctx, bool upsample) {
    rs_params p;
    mec_status st = resize_params(ctx, upsample, &p);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int n = p.rank, last = n - 1;
    int64_t istr[MEC_MAX_DIMS], acc = 1;
    for (int d = n - 1; d >= 0; d--) {
        istr[d] = acc;
        acc *= p.in[d];
    }
    int64_t out_last = p.out[last], rows = 1;
    for (int d = 0; d < last; d++) rows *= p.out[d];
    if (out_last == 0 || rows == 0) return MEC_OK;
    if (mec_tensor_numel(x) == 0)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input 0 is empty but the output is not");
    /* tap tables (when prepare gave the scratch; a caller without prepare
     * gets the same result, computed per element) */
    rs_taps *tab[MEC_MAX_DIMS] = {0};
    bool tables = ctx->scratch && ctx->scratch_bytes >= taps_bytes(&p);
    if (tables) {
        rs_taps *t = ctx->scratch;
        for (int d = 0; d < n; d++) {
            tab[d] = t;
            for (int64_t i = 0; i < p.out[d]; i++) axis_taps(&p, d, i, &tab[d][i]);
            t += p.out[d];
        }
        bool outer_single = n >= 2 && x->dtype == MEC_F32;
        for (int d = 0; d < n - 2 && outer_single; d++)
            for (int64_t i = 0; i < p.out[d] && outer_single; i++)
                outer_single = tab[d][i].n == 1 && !tab[d][i].outside;
        if (outer_single) {
            resize_f32_2d(&p, tab, x->data, y->data);
            return MEC_OK;
        }
    }
    int nth = rows * out_last >= 16384 ? mec_threads_get() : 1;
#pragma omp parallel for schedule(static) num_threads(nth) if (nth > 1)
    for (int64_t row = 0; row < rows; row++) {
        rs_taps taps[MEC_MAX_DIMS];
        bool outside = false;
        int64_t rem = row;
        for (int d = last - 1; d >= 0; d--) {
            int64_t i = rem % p.out[d];
            if (tables) taps[d] = tab[d][i];
            else axis_taps(&p, d, i, &taps[d]);
            rem /= p.out[d];
            outside = outside || taps[d].outside;
        }
        for (int64_t xl = 0; xl < out_last; xl++) {
            int64_t o = row * out_last + xl;
            if (tables) taps[last] = tab[last][xl];
            else axis_taps(&p, last, xl, &taps[last]);
            if (outside || taps[last].outside) {
                store_v(y->data, y->dtype, o, p.extrapolation);
                continue;
            }
            /* odometer over the taps of every axis */
            int k[MEC_MAX_DIMS] = {0};
            double sum = 0.0;
            for (;;) {
                double w = 1.0;
                int64_t off = 0;
                for (int d = 0; d < n; d++) {
                    w *= taps[d].w[k[d]];
                    off += taps[d].idx[k[d]] * istr[d];
                }
                sum += w * load_v(x->data, x->dtype, off);
                int d = n - 1;
                while (d >= 0 && ++k[d] == taps[d].n) k[d--] = 0;
                if (d < 0) break;
            }
            store_v(y->data, y->dtype, o, sum);
        }
    }
    return MEC_OK;
}

static mec_status resize_infer(mec_op_ctx *ctx) { return resize_infer_common(ctx, false); }
static mec_status resize_exec(mec_op_ctx *ctx) { return resize_exec_common(ctx, false); }
static mec_status upsample_infer(mec_op_ctx *ctx) { return resize_infer_common(ctx, true); }
static mec_status upsample_exec(mec_op_ctx *ctx) { return resize_exec_common(ctx, true); }
static mec_status resize_prepare(mec_op_ctx *ctx, void **state, size_t *scratch) {
    (void)state;
    return resize_prepare_common(ctx, false, scratch);
}
static mec_status upsample_prepare(mec_op_ctx *ctx, void **state, size_t *scratch) {
    (void)state;
    return resize_prepare_common(ctx, true, scratch);
}

const mec_kernel mec_kernels_resize[] = {
    /* Resize-10: (X, scales), asymmetric coordinates. 11-12: (X, roi,
     * scales[, sizes]) with the coordinate modes and cubic. 13: roi and
     * scales optional. Infer reads the values of scales/sizes. */
    {"Resize", "", 10, 10, "ref", 0, 1u << 1, resize_infer, resize_exec, resize_prepare, NULL, NULL},
    {"Resize", "", 11, 12, "ref", 0, (1u << 2) | (1u << 3), resize_infer, resize_exec, resize_prepare, NULL, NULL},
    {"Resize", "", 13, 17, "ref", 0, (1u << 2) | (1u << 3), resize_infer, resize_exec, resize_prepare, NULL, NULL},
    /* Upsample-7: scales attribute; Upsample-9: scales input (deprecated in 10). */
    {"Upsample", "", 7, 8, "ref", 0, 0, upsample_infer, upsample_exec, upsample_prepare, NULL, NULL},
    {"Upsample", "", 9, 9, "ref", 0, 1u << 1, upsample_infer, upsample_exec, upsample_prepare, NULL, NULL},
    {0},
};
