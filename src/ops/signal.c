/* Signal ops (opset 17): reference window functions (Hann, Hamming,
 * Blackman), DFT, STFT and MelWeightMatrix. Transforms are direct O(n^2)
 * sums in double with a rotating twiddle re-seeded exactly every 64 steps,
 * so they need no scratch and any length works (not only powers of 2). */
#include "op_util.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#define PI_D 3.14159265358979323846

static const mec_dtype float_types[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, 0};

static bool present(const mec_op_ctx *ctx, int i) { return i < ctx->n_in && ctx->in[i]; }

/* A scalar (or one-element) integer input; MEC_ERR_DEFER while its data is unknown. */
static mec_status scalar_int(const mec_op_ctx *ctx, int i, const char *what, int64_t *v) {
    const mec_tensor *t = ctx->in[i];
    if (t->dtype != MEC_I32 && t->dtype != MEC_I64)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "%s (input %d) must be int32 or int64, not %s", what, i,
                          mec_dtype_name(t->dtype));
    if (mec_tensor_numel(t) != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "%s (input %d) must be a scalar", what, i);
    if (!t->data) return MEC_ERR_DEFER;
    *v = mec_tensor_get_i64(t, 0);
    return MEC_OK;
}

static mec_status scalar_float(const mec_op_ctx *ctx, int i, const char *what, double *v) {
    const mec_tensor *t = ctx->in[i];
    if (mec_dtype_size(t->dtype) == 0 || t->dtype == MEC_BOOL)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "%s (input %d) has dtype %s", what, i, mec_dtype_name(t->dtype));
    if (mec_tensor_numel(t) != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "%s (input %d) must be a scalar", what, i);
    if (!t->data) return MEC_ERR_DEFER;
    *v = mec_tensor_get_f64(t, 0);
    return MEC_OK;
}

/* output_datatype: a numeric ONNX type id (default float). */
static mec_status output_datatype(const mec_op_ctx *ctx, mec_dtype *out) {
    int64_t dt = mec_node_int(ctx->node, "output_datatype", MEC_F32);
    if (dt <= 0 || dt >= MEC_DTYPE_MAX || dt == MEC_STRING || dt == MEC_BOOL ||
        mec_dtype_size((mec_dtype)dt) == 0)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "output_datatype = %" PRId64 " is not a numeric type", dt);
    *out = (mec_dtype)dt;
    return MEC_OK;
}

/* ------------------------------------------------------------- windows */

enum window_kind { WIN_HANN, WIN_HAMMING, WIN_BLACKMAN };

static enum window_kind window_of(const mec_op_ctx *ctx) {
    const char *op = ctx->node->op_type;
    return !strcmp(op, "HannWindow") ? WIN_HANN : !strcmp(op, "HammingWindow") ? WIN_HAMMING : WIN_BLACKMAN;
}

static mec_status window_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    mec_dtype dt;
    if ((st = output_datatype(ctx, &dt))) return st;
    int64_t size;
    if ((st = scalar_int(ctx, 0, "size", &size))) return st;
    if (size < 0)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "size = %" PRId64 " is negative", size);
    return mec_op_set_output(ctx, 0, dt, 1, &size);
}

// size: () -> y: (size); periodic windows have period size, symmetric size - 1
static mec_status window_exec(mec_op_ctx *ctx) {
    mec_tensor *y = ctx->out[0];
    int64_t size = y->shape[0];
    bool periodic = mec_node_int(ctx->node, "periodic", 1) != 0;
    double N = (double)(periodic ? size : size - 1);
    enum window_kind kind = window_of(ctx);
    for (int64_t n = 0; n < size; n++) {
        double a = N > 0 ? 2.0 * PI_D * (double)n / N : 0.0, v;
        if (kind == WIN_HANN) v = 0.5 - 0.5 * cos(a);
        else if (kind == WIN_HAMMING) v = 25.0 / 46.0 - (1.0 - 25.0 / 46.0) * cos(a);
        else v = 0.42 - 0.5 * cos(a) + 0.08 * cos(2.0 * a);
        mec_tensor_set_f64(y, n, v);
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- transforms */

/* out[k] = scale * sum_{j < m} in[j] * exp(sign * 2πi jk/n) for k < nk, with
 * in/out complex sequences read through element strides (imaginary part at
 * +1 when `cplx`; real input otherwise). Window w (length >= m) or NULL. */
static void dft_line(const void *in, mec_dtype it, int64_t in_off, int64_t in_stride, bool cplx,
                     int64_t m, const mec_tensor *w, void *out, mec_dtype ot, int64_t out_off,
                     int64_t out_stride, int64_t n, int64_t nk, double sign, double scale) {
    for (int64_t k = 0; k < nk; k++) {
        double sr = 0.0, si = 0.0, wr = 1.0, wi = 0.0;
        double step = sign * 2.0 * PI_D * (double)k / (double)n;
        double cr = cos(step), ci = sin(step);
        for (int64_t j = 0; j < m; j++) {
            if ((j & 63) == 0) { /* exact twiddle: no drift from the recurrence */
                double a = sign * 2.0 * PI_D * (double)((j * k) % n) / (double)n;
                wr = cos(a);
                wi = sin(a);
            }
            double xr = mec_op_load_f64(in, it, in_off + j * in_stride);
            double xi = cplx ? mec_op_load_f64(in, it, in_off + j * in_stride + 1) : 0.0;
            if (w) {
                double wv = mec_op_load_f64(w->data, w->dtype, j);
                xr *= wv;
                xi *= wv;
            }
            sr += xr * wr - xi * wi;
            si += xr * wi + xi * wr;
            double nr = wr * cr - wi * ci;
            wi = wr * ci + wi * cr;
            wr = nr;
        }
        mec_op_store_f64(out, ot, out_off + k * out_stride, sr * scale);
        mec_op_store_f64(out, ot, out_off + k * out_stride + 1, si * scale);
    }
}

typedef struct dft_geo {
    int axis;
    int64_t n, nk;           /* transform length, output bins along axis */
    int64_t outer, inner, L; /* dims before axis, between axis and last, input length */
    bool cplx, inverse;
} dft_geo;

static mec_status dft_geometry(const mec_op_ctx *ctx, dft_geo *g) {
    mec_status st = mec_op_check_arity(ctx, 1, 2);
    if (st) return st;
    if ((st = mec_op_check_dtype(ctx, 0, float_types))) return st;
    const mec_tensor *x = ctx->in[0];
    int r = x->ndim;
    if (r < 2) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input has %d dims, expected at least 2", r);
    int64_t last = x->shape[r - 1];
    if (last != 1 && last != 2)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "last dim is %" PRId64 ", expected 1 (real) or 2 (complex)", last);
    g->cplx = last == 2;
    int64_t axis = mec_node_int(ctx->node, "axis", 1);
    if (axis < -r || axis >= r - 1 || (axis < 0 && axis + r >= r - 1))
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "axis %" PRId64 " is out of range for rank %d "
                          "(the last dim holds real/imaginary parts)", axis, r);
    g->axis = (int)(axis < 0 ? axis + r : axis);
    g->L = x->shape[g->axis];
    g->n = g->L;
    if (present(ctx, 1) && (st = scalar_int(ctx, 1, "dft_length", &g->n))) return st;
    if (g->n <= 0)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "dft_length = %" PRId64 ", expected a positive value", g->n);
    g->inverse = mec_node_int(ctx->node, "inverse", 0) != 0;
    bool onesided = mec_node_int(ctx->node, "onesided", 0) != 0;
    g->nk = onesided ? g->n / 2 + 1 : g->n;
    g->outer = g->inner = 1;
    for (int d = 0; d < g->axis; d++) g->outer *= x->shape[d];
    for (int d = g->axis + 1; d < r - 1; d++) g->inner *= x->shape[d];
    return MEC_OK;
}

static mec_status dft_infer(mec_op_ctx *ctx) {
    dft_geo g;
    mec_status st = dft_geometry(ctx, &g);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    int64_t shape[MEC_MAX_DIMS];
    memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
    shape[g.axis] = g.nk;
    shape[x->ndim - 1] = 2;
    return mec_op_set_output(ctx, 0, x->dtype, x->ndim, shape);
}

// x: (..., L, ..., 1|2) -> y: (..., n or n/2+1, ..., 2) along `axis`
static mec_status dft_exec(mec_op_ctx *ctx) {
    dft_geo g;
    mec_status st = dft_geometry(ctx, &g);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int64_t cin = g.cplx ? 2 : 1, m = g.L < g.n ? g.L : g.n;
    double sign = g.inverse ? 1.0 : -1.0, scale = g.inverse ? 1.0 / (double)g.n : 1.0;
    for (int64_t o = 0; o < g.outer; o++)
        for (int64_t i = 0; i < g.inner; i++)
            dft_line(x->data, x->dtype, (o * g.L * g.inner + i) * cin, g.inner * cin, g.cplx, m, NULL,
                     y->data, y->dtype, (o * g.nk * g.inner + i) * 2, g.inner * 2, g.n, g.nk, sign, scale);
    return MEC_OK;
}

static int64_t dft_flops(const mec_op_ctx *ctx) {
    dft_geo g;
    if (dft_geometry(ctx, &g)) return 0;
    return 8 * g.outer * g.inner * g.nk * (g.L < g.n ? g.L : g.n);
}

typedef struct stft_geo {
    int64_t B, L, step, flen, frames, nk;
    bool cplx;
    const mec_tensor *window;
} stft_geo;

static mec_status stft_geometry(const mec_op_ctx *ctx, stft_geo *g) {
    mec_status st = mec_op_check_arity(ctx, 2, 4);
    if (st) return st;
    if ((st = mec_op_check_dtype(ctx, 0, float_types))) return st;
    const mec_tensor *x = ctx->in[0];
    if (x->ndim != 3 || (x->shape[2] != 1 && x->shape[2] != 2))
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "signal must be (batch, length, 1 or 2), has rank %d", x->ndim);
    g->B = x->shape[0];
    g->L = x->shape[1];
    g->cplx = x->shape[2] == 2;
    g->window = present(ctx, 2) ? ctx->in[2] : NULL;
    if (g->window) {
        if (g->window->ndim != 1)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "window has %d dims, expected 1", g->window->ndim);
        if ((st = mec_op_check_dtype(ctx, 2, float_types))) return st;
    }
    g->flen = g->window ? g->window->shape[0] : -1;
    if (present(ctx, 3)) {
        int64_t fl;
        if ((st = scalar_int(ctx, 3, "frame_length", &fl))) return st;
        if (g->window && fl != g->flen)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "frame_length %" PRId64 " differs from the window length %" PRId64,
                              fl, g->flen);
        g->flen = fl;
    }
    if (g->flen < 0)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "needs a window or a frame_length");
    if ((st = scalar_int(ctx, 1, "frame_step", &g->step))) return st;
    if (g->step <= 0)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "frame_step = %" PRId64 ", expected a positive value", g->step);
    if (g->flen <= 0 || g->flen > g->L)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "frame_length %" PRId64 " is outside [1, %" PRId64 "]",
                          g->flen, g->L);
    g->frames = (g->L - g->flen) / g->step + 1;
    g->nk = mec_node_int(ctx->node, "onesided", 1) ? g->flen / 2 + 1 : g->flen;
    return MEC_OK;
}

static mec_status stft_infer(mec_op_ctx *ctx) {
    stft_geo g;
    mec_status st = stft_geometry(ctx, &g);
    if (st) return st;
    int64_t shape[4] = {g.B, g.frames, g.nk, 2};
    return mec_op_set_output(ctx, 0, ctx->in[0]->dtype, 4, shape);
}

// signal: (B, L, 1|2), window: (flen) -> y: (B, frames, bins, 2)
static mec_status stft_exec(mec_op_ctx *ctx) {
    stft_geo g;
    mec_status st = stft_geometry(ctx, &g);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int64_t cin = g.cplx ? 2 : 1;
    for (int64_t b = 0; b < g.B; b++)
        for (int64_t f = 0; f < g.frames; f++)
            dft_line(x->data, x->dtype, (b * g.L + f * g.step) * cin, cin, g.cplx, g.flen, g.window,
                     y->data, y->dtype, ((b * g.frames + f) * g.nk) * 2, 2, g.flen, g.nk, -1.0, 1.0);
    return MEC_OK;
}

/* ------------------------------------------------------------- MelWeightMatrix */

typedef struct mel_geo {
    int64_t bins, dft_length, sample_rate, spec_bins;
    double lower_hz, upper_hz;
    mec_dtype dt;
} mel_geo;

static mec_status mel_geometry(const mec_op_ctx *ctx, mel_geo *g) {
    mec_status st = mec_op_check_arity(ctx, 5, 5);
    if (st) return st;
    if ((st = output_datatype(ctx, &g->dt))) return st;
    if ((st = scalar_int(ctx, 0, "num_mel_bins", &g->bins)) ||
        (st = scalar_int(ctx, 1, "dft_length", &g->dft_length)) ||
        (st = scalar_int(ctx, 2, "sample_rate", &g->sample_rate)) ||
        (st = scalar_float(ctx, 3, "lower_edge_hertz", &g->lower_hz)) ||
        (st = scalar_float(ctx, 4, "upper_edge_hertz", &g->upper_hz)))
        return st;
    if (g->bins <= 0 || g->dft_length <= 0 || g->sample_rate <= 0)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "num_mel_bins %" PRId64 ", dft_length %" PRId64
                          " and sample_rate %" PRId64 " must be positive", g->bins, g->dft_length, g->sample_rate);
    if (!(g->lower_hz >= 0 && g->upper_hz >= g->lower_hz))
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "edges %g..%g Hz are invalid", g->lower_hz, g->upper_hz);
    g->spec_bins = g->dft_length / 2 + 1;
    return MEC_OK;
}

static mec_status mel_infer(mec_op_ctx *ctx) {
    mel_geo g;
    mec_status st = mel_geometry(ctx, &g);
    if (st) return st;
    int64_t shape[2] = {g.spec_bins, g.bins};
    return mec_op_set_output(ctx, 0, g.dt, 2, shape);
}

static double hz_to_mel(double hz) { return 2595.0 * log10(1.0 + hz / 700.0); }

/* Triangular filters between num_mel_bins + 2 points spread evenly on the
 * mel scale, as the ONNX reference builds them (including its step of
 * (high - low) / (num_mel_bins + 2) and the floor to spectrogram bins). */
static mec_status mel_exec(mec_op_ctx *ctx) {
    mel_geo g;
    mec_status st = mel_geometry(ctx, &g);
    if (st) return st;
    mec_tensor *y = ctx->out[0];
    double lo = hz_to_mel(g.lower_hz), hi = hz_to_mel(g.upper_hz);
    double step = (hi - lo) / (double)(g.bins + 2);
    int64_t nb = mec_tensor_numel(y);
    for (int64_t i = 0; i < nb; i++) mec_tensor_set_f64(y, i, 0.0);
    int64_t prev2 = 0, prev1 = 0;
    for (int64_t p = 0; p < g.bins + 2; p++) {
        double hz = 700.0 * (pow(10.0, (p * step + lo) / 2595.0) - 1.0);
        int64_t fb = (int64_t)floor((double)(g.dft_length + 1) * hz / (double)g.sample_rate);
        if (fb < 0 || fb >= g.spec_bins)
            return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "mel point %" PRId64 " falls in bin %" PRId64
                              ", outside [0, %" PRId64 ")", p, fb, g.spec_bins);
        if (p >= 2) {
            int64_t i = p - 2, l = prev2, c = prev1, r = fb;
            if (c == l) mec_tensor_set_f64(y, c * g.bins + i, 1.0);
            else
                for (int64_t j = l; j <= c; j++)
                    mec_tensor_set_f64(y, j * g.bins + i, (double)(j - l) / (double)(c - l));
            if (r > c)
                for (int64_t j = c; j < r; j++)
                    mec_tensor_set_f64(y, j * g.bins + i, (double)(r - j) / (double)(r - c));
        }
        prev2 = prev1;
        prev1 = fb;
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- table */

#define K(op, vin, inf, ex, fl) {op, "", 17, 17, "ref", 0, vin, inf, ex, NULL, NULL, fl}

const mec_kernel mec_kernels_signal[] = {
    K("HannWindow", 1u, window_infer, window_exec, NULL),
    K("HammingWindow", 1u, window_infer, window_exec, NULL),
    K("BlackmanWindow", 1u, window_infer, window_exec, NULL),
    K("DFT", 1u << 1, dft_infer, dft_exec, dft_flops),
    K("STFT", (1u << 1) | (1u << 3), stft_infer, stft_exec, NULL),
    K("MelWeightMatrix", 0x1fu, mel_infer, mel_exec, NULL),
    {0},
};
