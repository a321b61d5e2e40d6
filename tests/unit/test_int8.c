/* int8: the fast kernels (QLinearConv, mec.QConv with and without a
 * residual sum, mec.QAdd, int8 MaxPool, QuantizeLinear/DequantizeLinear,
 * QLinearMatMul, mec.QMatMul) against their reference kernels on random
 * shapes, and the QDQ pass on small generated QDQ graphs: same outputs as
 * the unoptimised graph (±1 step of requantization per fused op), no
 * DequantizeLinear/QuantizeLinear left around the matched ops, no mec.QAdd
 * left where a residual can go into its convolution. */
#include "mec/runtime.h"
#include "op_harness.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t urand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}
static int irand(int lo, int hi) { return lo + (int)(urand() % (uint32_t)(hi - lo + 1)); }
static float frand(float lo, float hi) { return lo + (hi - lo) * (float)(urand() / 4294967296.0); }

static mec_tensor *tensor(mec_dtype t, int nd, const int64_t *shape) {
    mec_tensor *x = NULL;
    mec_tensor_create(&x, t, nd, shape);
    return x;
}
static mec_tensor *scalar_f(float v) {
    mec_tensor *t = tensor(MEC_F32, 0, NULL);
    *(float *)t->data = v;
    return t;
}
static mec_tensor *scalar_q(mec_dtype dt, int v) {
    mec_tensor *t = tensor(dt, 0, NULL);
    mec_tensor_set_f64(t, 0, v);
    return t;
}
static mec_tensor *rand_q(mec_dtype dt, int nd, const int64_t *shape, int lo, int hi) {
    mec_tensor *t = tensor(dt, nd, shape);
    for (int64_t i = 0; i < mec_tensor_numel(t); i++) mec_tensor_set_f64(t, i, irand(lo, hi));
    return t;
}
static int qlo(mec_dtype t) { return t == MEC_U8 ? 0 : -128; }
static int qhi(mec_dtype t) { return t == MEC_U8 ? 255 : 127; }
/* values zp ± spread, within the type's range (centred like real data) */
static mec_tensor *rand_around(mec_dtype dt, int nd, const int64_t *shape, int zp, int spread) {
    int lo = zp - spread < qlo(dt) ? qlo(dt) : zp - spread,
        hi = zp + spread > qhi(dt) ? qhi(dt) : zp + spread;
    return rand_q(dt, nd, shape, lo, hi);
}

/* offset in t's memory of its element i in logical (row-major) order */
static int64_t elem_off(const mec_tensor *t, int64_t i) {
    int64_t off = 0;
    for (int d = t->ndim - 1; d >= 0; d--) {
        off += (i % t->shape[d]) * t->strides[d];
        i /= t->shape[d];
    }
    return off;
}

/* Copies src's values into dst (same shape and element size), any strides. */
static void copy_values(mec_tensor *dst, const mec_tensor *src) {
    size_t es = mec_dtype_size(src->dtype);
    for (int64_t i = 0; i < mec_tensor_numel(src); i++)
        memcpy((char *)dst->data + elem_off(dst, i) * (int64_t)es,
               (const char *)src->data + elem_off(src, i) * (int64_t)es, es);
}

/* oh_run with a const_inputs mask (the fast kernels bake constant
 * scales and zero points in at prepare). With sum_inplace, the last input
 * (a residual of out's dtype and shape) is first copied into out, and the
 * kernel gets out's buffer as that input, as the session does for
 * MEC_KF_SUM_INPLACE. */
static mec_status run_kernel_ex(mec_graph *g, int node, int64_t opset, const char *impl, int n_in,
                                mec_tensor *const *in_given, mec_tensor *out, uint32_t const_mask,
                                bool sum_inplace) {
    const mec_node *nd = &g->nodes[node];
    const mec_tensor *in[16];
    for (int i = 0; i < n_in && i < 16; i++)
        in[i] = in_given[i];
    const mec_kernel *k = mec_op_find(nd->domain, nd->op_type, opset, impl);
    if (!k) return mec_error(MEC_ERR_UNSUPPORTED, "no %s kernel for %s", impl, nd->op_type);
    memset(out, 0, sizeof *out);
    mec_tensor *outp[1] = {out};
    mec_op_ctx ctx = {.graph = g,
                      .node_id = node,
                      .node = nd,
                      .opset = opset,
                      .n_in = n_in,
                      .in = in,
                      .n_out = 1,
                      .out = outp,
                      .const_inputs = const_mask};
    mec_status st = k->infer(&ctx);
    if (st) return st;
    /* the kernel may have asked for channels-last strides: allocate densely for them */
    mec_tensor want = *out;
    if ((st = mec_tensor_alloc(out))) return st;
    memcpy(out->strides, want.strides, sizeof want.strides);
    mec_tensor shared;
    if (sum_inplace) {
        const mec_tensor *sum = in[n_in - 1];
        if (sum->dtype != out->dtype || !mec_tensor_same_shape(sum, out))
            return mec_error(MEC_ERR_INVALID_ARG, "the sum cannot share the output's buffer");
        copy_values(out, sum);
        shared = *out;
        shared.owned = NULL;
        in[n_in - 1] = &shared;
    }
    void *state = NULL;
    size_t scratch = 0;
    if (k->prepare && (st = k->prepare(&ctx, &state, &scratch))) return st;
    ctx.state = state;
    void *mem = scratch ? mec_malloc(scratch) : NULL;
    ctx.scratch = mem;
    ctx.scratch_bytes = scratch;
    st = k->exec(&ctx);
    mec_free(mem);
    if (k->release && state) k->release(state);
    return st;
}

static mec_status run_kernel(mec_graph *g, int node, int64_t opset, const char *impl, int n_in,
                             mec_tensor *const *in, mec_tensor *out, uint32_t const_mask) {
    return run_kernel_ex(g, node, opset, impl, n_in, in, out, const_mask, false);
}

/* channels-last strides of an (N, C, H, W) shape */
static void nhwc_strides(const int64_t *shape, int64_t *st) {
    st[1] = 1;
    st[3] = shape[1];
    st[2] = shape[3] * shape[1];
    st[0] = shape[2] * shape[3] * shape[1];
}

/* element i (logical NCHW order) of a possibly channels-last tensor */
static int64_t get_q(const mec_tensor *t, int64_t i) { return mec_tensor_get_i64(t, i); }

static mec_graph *one_node(const char *op, const char *domain, int64_t opset, int n_in) {
    mec_graph *g = NULL;
    char names[16][8];
    const char *in[16], *out[1] = {"y"};
    mec_graph_create("k", &g);
    mec_graph_set_opset(g, "", opset);
    mec_graph_set_opset(g, "mec", 1);
    for (int i = 0; i < n_in; i++) {
        snprintf(names[i], sizeof names[i], "x%d", i);
        in[i] = names[i];
        mec_graph_add_input(g, in[i], MEC_F32, -1, NULL, NULL, NULL);
    }
    mec_graph_add_node(g, op, domain, "node0", n_in, in, 1, out, NULL);
    return g;
}

/* --------------------------------------------------- kernels: ref vs fast */

/* A random int8 conv, ref vs fast. stem: ResNet's first conv instead (3
 * input channels, 7x7 stride 2, pads 3: x's zero point goes into the bias
 * and a border of it, QCONV_ZP_PAD); consts: which inputs are constant
 * (without the bias' bit the zero point stays a oneDNN attribute). */
static void check_conv_case(bool relu, int it, bool stem, uint32_t consts) {
    int64_t N = irand(1, 2), group = irand(0, 3) == 0 ? 2 : 1, Cg = irand(1, 3) * 4, Mg = irand(1, 4) * 4;
    int64_t H = irand(5, 10), W = irand(5, 10);
    int64_t k = irand(0, 1) ? 3 : 1, stride = irand(1, 2), pad = k == 3 ? irand(0, 1) : 0;
    int64_t dil = k == 3 && irand(0, 3) == 0 ? 2 : 1;
    if (stem) {
        group = 1;
        Cg = 3;
        k = 7;
        stride = 2;
        pad = 3;
        dil = 1;
        H = irand(12, 20);
        W = irand(12, 20);
    }
    int64_t C = Cg * group, M = Mg * group;
    if ((k - 1) * dil + 1 > H + 2 * pad || (k - 1) * dil + 1 > W + 2 * pad) dil = 1;
    mec_dtype xt = irand(0, 1) ? MEC_U8 : MEC_I8, yt = irand(0, 1) ? MEC_U8 : MEC_I8;
    bool per_channel = irand(0, 1), bias = irand(0, 2) != 0;
    int64_t xs[] = {N, C, H, W}, ws[] = {M, Cg, k, k}, ms[] = {M};
    mec_tensor *in[9] = {0};
    in[0] = rand_q(xt, 4, xs, qlo(xt), qhi(xt));
    float x_scale = frand(0.01f, 0.05f);
    in[1] = scalar_f(x_scale);
    in[2] = scalar_q(xt, irand(qlo(xt) + 20, qhi(xt) - 20));
    in[3] = rand_q(MEC_I8, 4, ws, -127, 127);
    in[4] = per_channel ? tensor(MEC_F32, 1, ms) : scalar_f(0);
    for (int64_t m = 0; m < mec_tensor_numel(in[4]); m++) ((float *)in[4]->data)[m] = frand(0.002f, 0.01f);
    in[5] = per_channel ? tensor(MEC_I8, 1, ms) : scalar_q(MEC_I8, 0);
    /* y's range about that of the accumulator: some saturation, mostly not */
    float y_scale = x_scale * 0.006f * 100.0f * sqrtf((float)(Cg * k * k));
    in[6] = scalar_f(y_scale);
    in[7] = scalar_q(yt, irand(qlo(yt) + 40, qhi(yt) - 40));
    if (bias) in[8] = rand_q(MEC_I32, 1, ms, -20000, 20000);
    mec_graph *g = one_node(relu ? "QConv" : "QLinearConv", relu ? "mec" : "", 13, bias ? 9 : 8);
    mec_node_set_int(g, 0, "group", group);
    mec_node_set_ints(g, 0, "strides", 2, (int64_t[]){stride, stride});
    mec_node_set_ints(g, 0, "dilations", 2, (int64_t[]){dil, dil});
    mec_node_set_ints(g, 0, "pads", 4, (int64_t[]){pad, pad, pad, pad});
    if (relu) mec_node_set_string(g, 0, "activation", "Relu");
    int64_t opset = relu ? 1 : 13;
    mec_tensor a, b;
    CHECK_OK(run_kernel(g, 0, opset, "ref", bias ? 9 : 8, in, &a, consts));
    CHECK_OK(run_kernel(g, 0, opset, "auto", bias ? 9 : 8, in, &b, consts));
    if (a.data && b.data) {
        CHECK(mec_tensor_same_shape(&a, &b));
        int64_t n = mec_tensor_numel(&a), off = 0, sat = 0, worst = 0;
        int zp = (int)get_q(in[7], 0);
        for (int64_t i = 0; i < n; i++) {
            int64_t d = llabs(get_q(&a, i) - get_q(&b, i));
            worst = d > worst ? d : worst;
            off += d != 0;
            sat += get_q(&a, i) == qlo(yt) || get_q(&a, i) == qhi(yt) || (relu && get_q(&a, i) == zp);
        }
        if (worst > 1)
            printf("  case %d: N%lld C%lld M%lld %lldx%lld k%lld s%lld p%lld d%lld g%lld: worst %lld\n", it,
                   (long long)N, (long long)C, (long long)M, (long long)H, (long long)W, (long long)k,
                   (long long)stride, (long long)pad, (long long)dil, (long long)group, (long long)worst);
        CHECK(worst <= 1);
        CHECK(off * 100 <= n); /* ties of the float requantization only */
        CHECK(sat < n);        /* the test sees real values */
    }
    mec_tensor_release(&a);
    mec_tensor_release(&b);
    for (int i = 0; i < 9; i++) mec_tensor_destroy(in[i]);
    mec_graph_destroy(g);
}

static void test_qconv_fast_vs_ref(void) {
    for (int it = 0; it < 40; it++) check_conv_case(it & 1, it, false, 0x1fe);
    /* the stem cases draw from a stream of their own: the tests after this
     * one keep the data they were written with */
    uint64_t saved = rng;
    rng = 0x5DEECE66Dull;
    for (int it = 0; it < 8; it++) check_conv_case(it & 1, it, true, it & 2 ? 0x0fe : 0x1fe);
    rng = saved;
}

static void test_qadd_fast_vs_ref(void) {
    for (int it = 0; it < 8; it++) {
        mec_dtype at = it & 1 ? MEC_U8 : MEC_I8, bt = it & 2 ? MEC_U8 : MEC_I8, yt = it & 4 ? MEC_U8 : MEC_I8;
        int64_t shape[] = {1, irand(1, 40), irand(1, 9), irand(1, 9)};
        mec_tensor *in[8] = {rand_q(at, 4, shape, qlo(at), qhi(at)), scalar_f(frand(0.01f, 0.1f)),
                             scalar_q(at, irand(qlo(at), qhi(at))), rand_q(bt, 4, shape, qlo(bt), qhi(bt)),
                             scalar_f(frand(0.01f, 0.1f)), scalar_q(bt, irand(qlo(bt), qhi(bt))),
                             scalar_f(frand(0.02f, 0.1f)), scalar_q(yt, irand(qlo(yt), qhi(yt)))};
        mec_graph *g = one_node("QAdd", "mec", 13, 8);
        mec_node_set_string(g, 0, "activation", it & 1 ? "Relu" : "");
        mec_tensor a, b;
        CHECK_OK(run_kernel(g, 0, 1, "ref", 8, in, &a, 0xfe));
        CHECK_OK(run_kernel(g, 0, 1, "auto", 8, in, &b, 0xfe));
        if (a.data && b.data)
            for (int64_t i = 0; i < mec_tensor_numel(&a); i++) CHECK(get_q(&a, i) == get_q(&b, i));
        /* one element by hand */
        if (a.data) {
            float v = (float)(get_q(in[0], 0) - get_q(in[2], 0)) * *(float *)in[1]->data +
                      (float)(get_q(in[3], 0) - get_q(in[5], 0)) * *(float *)in[4]->data;
            if ((it & 1) && !(v > 0)) v = 0;
            float q = rintf(v / *(float *)in[6]->data) + (float)get_q(in[7], 0);
            q = q < qlo(yt) ? qlo(yt) : q > qhi(yt) ? qhi(yt) : q;
            CHECK(get_q(&a, 0) == (int64_t)q);
        }
        mec_tensor_release(&a);
        mec_tensor_release(&b);
        for (int i = 0; i < 8; i++) mec_tensor_destroy(in[i]);
        mec_graph_destroy(g);
    }
}

static void test_maxpool_int8_fast_vs_ref(void) {
    for (int it = 0; it < 6; it++) {
        mec_dtype t = it & 1 ? MEC_U8 : MEC_I8;
        int64_t shape[] = {irand(1, 2), irand(1, 20), irand(4, 12), irand(4, 12)};
        mec_tensor *in[1] = {rand_q(t, 4, shape, qlo(t), qhi(t))};
        mec_graph *g = one_node("MaxPool", "", 13, 1);
        int64_t k = irand(2, 3), s = irand(1, 2), p = k == 3 ? irand(0, 1) : 0;
        mec_node_set_ints(g, 0, "kernel_shape", 2, (int64_t[]){k, k});
        mec_node_set_ints(g, 0, "strides", 2, (int64_t[]){s, s});
        mec_node_set_ints(g, 0, "pads", 4, (int64_t[]){p, p, p, p});
        mec_tensor a, b;
        CHECK_OK(run_kernel(g, 0, 13, "ref", 1, in, &a, 0));
        CHECK_OK(run_kernel(g, 0, 13, "auto", 1, in, &b, 0));
        if (a.data && b.data) {
            CHECK(mec_tensor_same_shape(&a, &b));
            for (int64_t i = 0; i < mec_tensor_numel(&a); i++) CHECK(get_q(&a, i) == get_q(&b, i));
        }
        mec_tensor_release(&a);
        mec_tensor_release(&b);
        mec_tensor_destroy(in[0]);
        mec_graph_destroy(g);
    }
    /* channels-last, as the QConv before it leaves x (the AVX-512 path:
     * channels in steps of 64 with a tail); a random stream of its own, so
     * that the tests after this one keep their data */
    uint64_t saved = rng;
    rng = 0x2545F4914F6CDD1Dull;
    for (int it = 0; it < 8; it++) {
        mec_dtype t = it & 1 ? MEC_U8 : MEC_I8;
        int64_t shape[] = {irand(1, 2), irand(1, 150), irand(4, 12), irand(4, 12)};
        mec_tensor *x = rand_q(t, 4, shape, qlo(t), qhi(t));
        mec_tensor *in[1] = {tensor(t, 4, shape)};
        nhwc_strides(shape, in[0]->strides);
        copy_values(in[0], x);
        mec_graph *g = one_node("MaxPool", "", 13, 1);
        int64_t k = irand(2, 3), s = irand(1, 2), p = k == 3 ? irand(0, 1) : 0;
        mec_node_set_ints(g, 0, "kernel_shape", 2, (int64_t[]){k, k});
        mec_node_set_ints(g, 0, "strides", 2, (int64_t[]){s, s});
        mec_node_set_ints(g, 0, "pads", 4, (int64_t[]){p, p, p, p});
        mec_tensor a, b;
        CHECK_OK(run_kernel(g, 0, 13, "ref", 1, (mec_tensor *[]){x}, &a, 0));
        CHECK_OK(run_kernel(g, 0, 13, "auto", 1, in, &b, 0));
        if (a.data && b.data) {
            CHECK(mec_tensor_same_shape(&a, &b) && (b.strides[1] == 1 || shape[1] == 1));
            for (int64_t i = 0; i < mec_tensor_numel(&a); i++) CHECK(get_q(&a, i) == get_q(&b, i));
        }
        mec_tensor_release(&a);
        mec_tensor_release(&b);
        mec_tensor_destroy(in[0]);
        mec_tensor_destroy(x);
        mec_graph_destroy(g);
    }
    rng = saved;
}

static void log_capture_begin(void);
static int log_capture_end(const char *needle);

/* Per-tensor QuantizeLinear / DequantizeLinear, fast vs reference: equal,
 * with ties (a power-of-two scale makes k + 0.5 exact), NaN, infinities and
 * values far outside the range; channels-last input; per-axis falls back. */
static void test_quantize_linear_fast_vs_ref(void) {
    for (int it = 0; it < 12; it++) {
        mec_dtype qt = it & 1 ? MEC_U8 : MEC_I8;
        bool per_axis = it % 6 == 5, nhwc = it % 4 == 2, no_zp = it % 6 == 3;
        int64_t shape[] = {irand(1, 2), irand(1, 40), irand(1, 30), irand(1, 30)},
                cs[] = {shape[1]};
        float scale = it % 3 == 0 ? 0.125f : frand(0.01f, 0.1f);
        mec_tensor *x = tensor(MEC_F32, 4, shape);
        for (int64_t i = 0; i < mec_tensor_numel(x); i++) {
            float v = it % 3 == 0 ? ((float)irand(-300, 300) + 0.5f) * scale : frand(-20.0f, 20.0f);
            int r = irand(0, 99);
            ((float *)x->data)[i] = r == 0   ? NAN
                                    : r == 1 ? INFINITY
                                    : r == 2 ? -INFINITY
                                    : r == 3 ? 1e30f
                                             : v;
        }
        mec_tensor *sc = per_axis ? tensor(MEC_F32, 1, cs) : scalar_f(scale);
        for (int64_t c = 0; per_axis && c < cs[0]; c++)
            ((float *)sc->data)[c] = frand(0.01f, 0.1f);
        mec_tensor *zp = per_axis ? tensor(qt, 1, cs)
                                  : scalar_q(qt, no_zp ? 0 : irand(qlo(qt) + 1, qhi(qt) - 1));
        if (no_zp && qt == MEC_U8) { /* an omitted zero point: uint8 0 */
            mec_tensor_destroy(zp);
            zp = NULL;
        }
        /* the fast kernel may see the same values stored channels-last (the
         * reference kernel always gets contiguous inputs) */
        mec_tensor *xf = x;
        if (nhwc) {
            xf = tensor(MEC_F32, 4, shape);
            nhwc_strides(shape, xf->strides);
            const int64_t *st = xf->strides, C = shape[1], H = shape[2], W = shape[3];
            /* logical index i = ((n * C + c) * H + h) * W + w */
            for (int64_t i = 0; i < mec_tensor_numel(x); i++)
                ((float *)xf->data)[i / (C * H * W) * st[0] + i / (H * W) % C * st[1] +
                                    i / W % H * st[2] + i % W * st[3]] = ((float *)x->data)[i];
        }
        mec_tensor *qin[3] = {x, sc, zp}, *qin_fast[3] = {xf, sc, zp};
        mec_graph *g = one_node("QuantizeLinear", "", 13, zp ? 3 : 2);
        if (per_axis) mec_node_set_int(g, 0, "axis", 1);
        mec_tensor qa, qb;
        CHECK_OK(run_kernel(g, 0, 13, "ref", zp ? 3 : 2, qin, &qa, 0));
        log_capture_begin();
        mec_status st = run_kernel(g, 0, 13, "auto", zp ? 3 : 2, qin_fast, &qb, 0);
        CHECK(log_capture_end("using the reference kernel") == (per_axis ? 1 : 0));
        CHECK_OK(st);
        CHECK(!nhwc || per_axis ||
              (qb.strides[1] == 1 && qb.strides[0] == mec_tensor_numel(&qb) / shape[0]));
        int64_t n = mec_tensor_numel(x), differ = 0;
        for (int64_t i = 0; qa.data && qb.data && i < n; i++)
            differ += get_q(&qa, i) != get_q(&qb, i);
        CHECK(qa.data && qb.data && differ == 0);
        mec_graph_destroy(g);
        /* back: DequantizeLinear of what the reference quantized */
        mec_tensor *din[3] = {&qa, sc, zp}, *din_fast[3] = {&qb, sc, zp};
        g = one_node("DequantizeLinear", "", 13, zp ? 3 : 2);
        if (per_axis) mec_node_set_int(g, 0, "axis", 1);
        mec_tensor da, db;
        CHECK_OK(run_kernel(g, 0, 13, "ref", zp ? 3 : 2, din, &da, 0));
        log_capture_begin();
        st = run_kernel(g, 0, 13, "auto", zp ? 3 : 2, din_fast, &db, 0);
        CHECK(log_capture_end("using the reference kernel") == (per_axis ? 1 : 0));
        CHECK_OK(st);
        differ = 0;
        for (int64_t i = 0; da.data && db.data && i < n; i++)
            differ += mec_tensor_get_f64(&da, i) != mec_tensor_get_f64(&db, i);
        CHECK(da.data && db.data && differ == 0);
        mec_graph_destroy(g);
        mec_tensor_release(&qa);
        mec_tensor_release(&qb);
        mec_tensor_release(&da);
        mec_tensor_release(&db);
        if (xf != x) mec_tensor_destroy(xf);
        mec_tensor_destroy(x);
        mec_tensor_destroy(sc);
        mec_tensor_destroy(zp);
    }
}

/* The debug log of the fast kernels, captured from stderr, tells whether
 * oneDNN ran a node or handed it to the reference kernel. */
static FILE *log_file;
static int saved_stderr = -1;

static void log_capture_begin(void) {
    fflush(stderr);
    log_file = tmpfile();
    if (!log_file) return;
    saved_stderr = dup(2);
    dup2(fileno(log_file), 2);
    mec_log_set_level(MEC_LOG_DEBUG);
}

/* lines of the captured log containing `needle` but not "cannot" */
static int log_capture_end(const char *needle) {
    if (!log_file) return -1;
    fflush(stderr);
    mec_log_set_level(MEC_LOG_WARN);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    rewind(log_file);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, log_file))
        n += strstr(line, needle) && !strstr(line, "cannot");
    fclose(log_file);
    log_file = NULL;
    return n;
}

/* One random QLinearMatMul / mec.QMatMul: shape kind 0 (M, K) x (K, N);
 * 1 (B, M, K) x (K, N) constant weights; 2 (B, M, K) x (B, K, N) both
 * activations; 3 (2, 1, M, K) x (3, K, N) broadcast; 4 (K) x (K, N).
 * Returns whether oneDNN ran it. */
static bool check_qmm_case(int it, int kind, bool fused) {
    int64_t M = irand(1, 40), K = irand(1, 3) == 1 ? irand(1, 9) : irand(10, 300), N = irand(1, 70);
    int64_t Bt = irand(2, 4);
    if (it % 7 == 0) {
        M = 128;
        K = 768;
        N = 64;
    }
    mec_dtype at = irand(0, 1) ? MEC_U8 : MEC_I8, bt = irand(0, 1) ? MEC_U8 : MEC_I8,
              yt = irand(0, 1) ? MEC_U8 : MEC_I8;
    int an = 2, bn = 2;
    int64_t as[4] = {M, K}, bs[3] = {K, N};
    if (kind == 1 || kind == 2) {
        an = 3;
        as[0] = Bt;
        as[1] = M;
        as[2] = K;
    }
    if (kind == 2) {
        bn = 3;
        bs[0] = Bt;
        bs[1] = K;
        bs[2] = N;
    }
    if (kind == 3) {
        an = 4;
        as[0] = 2;
        as[1] = 1;
        as[2] = M;
        as[3] = K;
        bn = 3;
        bs[0] = 3;
        bs[1] = K;
        bs[2] = N;
    }
    if (kind == 4) {
        an = 1;
        as[0] = K;
    }
    bool b_const = kind <= 1 || kind == 4, per_col = bn == 2 && irand(0, 1),
         bias = fused && irand(0, 3) != 0;
    bool relu = fused && irand(0, 1);
    int64_t ns[] = {N};
    mec_tensor *in[9] = {0};
    /* zero points not 0 (often), values centred on them like real data */
    int a_zp = irand(qlo(at) + 100, qhi(at) - 100);
    /* one B zero point (per column: N equal ones) */
    int b_zp = irand(0, 2) == 0 ? (bt == MEC_U8 ? 128 : 0) : irand(qlo(bt) + 100, qhi(bt) - 100);
    in[0] = rand_around(at, an, as, a_zp, 100);
    float a_scale = frand(0.01f, 0.05f), b_scale = frand(0.002f, 0.01f);
    in[1] = scalar_f(a_scale);
    in[2] = scalar_q(at, a_zp);
    in[3] = rand_around(bt, bn, bs, b_zp, 100);
    in[4] = per_col ? tensor(MEC_F32, 1, ns) : scalar_f(b_scale);
    for (int64_t n = 0; per_col && n < N; n++)
        ((float *)in[4]->data)[n] = frand(0.002f, 0.01f);
    in[5] = per_col ? tensor(bt, 1, ns) : scalar_q(bt, b_zp);
    for (int64_t n = 0; per_col && n < N; n++)
        mec_tensor_set_f64(in[5], n, b_zp);
    /* y's range about that of the accumulator: some saturation, mostly not */
    float y_scale = a_scale * b_scale * 55.0f * 55.0f * sqrtf((float)K) / 50.0f;
    in[6] = scalar_f(y_scale);
    in[7] = scalar_q(yt, irand(qlo(yt) + 40, qhi(yt) - 40));
    int bias_range = (int)(55.0f * 55.0f * sqrtf((float)K)); /* about the accumulator's spread */
    if (bias) in[8] = rand_q(MEC_I32, 1, ns, -bias_range, bias_range);
    int n_in = bias ? 9 : 8;
    mec_graph *g = one_node(fused ? "QMatMul" : "QLinearMatMul", fused ? "mec" : "", 13, n_in);
    if (fused) mec_node_set_string(g, 0, "activation", relu ? "Relu" : "");
    int64_t opset = fused ? 1 : 13;
    uint32_t consts = 0xf6u | (b_const ? 1u << 3 : 0) | (bias ? 1u << 8 : 0);
    mec_tensor a, b;
    CHECK_OK(run_kernel(g, 0, opset, "ref", n_in, in, &a, consts));
    log_capture_begin();
    mec_status st = run_kernel(g, 0, opset, "auto", n_in, in, &b, consts);
    int fast = log_capture_end("): oneDNN ");
    CHECK_OK(st);
    if (a.data && b.data) {
        CHECK(mec_tensor_same_shape(&a, &b));
        int64_t n = mec_tensor_numel(&a), off = 0, sat = 0, worst = 0;
        int zp = (int)get_q(in[7], 0);
        for (int64_t i = 0; i < n; i++) {
            int64_t d = llabs(get_q(&a, i) - get_q(&b, i));
            worst = d > worst ? d : worst;
            off += d != 0;
            sat +=
                get_q(&a, i) == qlo(yt) || get_q(&a, i) == qhi(yt) || (relu && get_q(&a, i) == zp);
        }
        if (worst > 1 || off || sat == n)
            printf("  case %d (kind %d%s): A %s %dD, B %s %dD%s, M%lld K%lld N%lld: %lld of %lld "
                   "off, worst %lld\n",
                   it, kind, fused ? " QMatMul" : "", mec_dtype_name(at), an, mec_dtype_name(bt),
                   bn, per_col ? " per column" : "", (long long)M, (long long)K, (long long)N,
                   (long long)off, (long long)n, (long long)worst);
        if (sat == n)
            printf("    all %lld saturated (bias %d, relu %d)\n", (long long)n, bias, relu);
        CHECK(worst <= 1);
        CHECK(off * 100 <= n + 100); /* ties of the float requantization only */
        CHECK(sat < n || n < 4);     /* the test sees real values */
    }
    mec_tensor_release(&a);
    mec_tensor_release(&b);
    for (int i = 0; i < 9; i++)
        mec_tensor_destroy(in[i]);
    mec_graph_destroy(g);
    return fast > 0;
}

static void test_qmatmul_fast_vs_ref(void) {
    int fast = 0, cases = 0;
    for (int it = 0; it < 60; it++) {
        fast += check_qmm_case(it, it % 5, (it / 5) & 1);
        cases++;
    }
    printf("  %d of %d cases ran on oneDNN\n", fast, cases);
    /* every case here is a form the oneDNN kernel takes */
    CHECK(fast == cases);
}

/* Forms the oneDNN kernel hands to the reference kernel: still the same
 * values (per-row A scale, per-column B zero points that differ, scales
 * that are not constants). */
static void test_qmatmul_fallback(void) {
    int64_t as[] = {6, 20}, bs[] = {20, 5}, rs[] = {6}, ns[] = {5};
    for (int form = 0; form < 3; form++) {
        mec_tensor *in[8] = {0};
        in[0] = rand_q(MEC_U8, 2, as, 0, 255);
        in[1] = form == 0 ? tensor(MEC_F32, 1, rs) : scalar_f(0.02f);
        in[2] = form == 0 ? tensor(MEC_U8, 1, rs) : scalar_q(MEC_U8, 120);
        for (int64_t i = 0; form == 0 && i < 6; i++) {
            ((float *)in[1]->data)[i] = frand(0.01f, 0.03f);
            mec_tensor_set_f64(in[2], i, irand(100, 140));
        }
        in[3] = rand_q(MEC_I8, 2, bs, -127, 127);
        in[4] = scalar_f(0.005f);
        in[5] = form == 1 ? tensor(MEC_I8, 1, ns) : scalar_q(MEC_I8, 0);
        for (int64_t n = 0; form == 1 && n < 5; n++)
            mec_tensor_set_f64(in[5], n, irand(-5, 5));
        if (form == 1) {
            mec_tensor_destroy(in[4]);
            in[4] = tensor(MEC_F32, 1, ns);
            for (int64_t n = 0; n < 5; n++)
                ((float *)in[4]->data)[n] = frand(0.003f, 0.006f);
        }
        in[6] = scalar_f(0.05f);
        in[7] = scalar_q(MEC_U8, 128);
        uint32_t consts = form == 2 ? 0x08u : 0xfeu;
        mec_graph *g = one_node("QLinearMatMul", "", 13, 8);
        mec_tensor a, b;
        CHECK_OK(run_kernel(g, 0, 13, "ref", 8, in, &a, consts));
        log_capture_begin();
        mec_status st = run_kernel(g, 0, 13, "auto", 8, in, &b, consts);
        int fast = log_capture_end("): oneDNN ");
        CHECK_OK(st);
        CHECK(fast == 0);
        if (a.data && b.data)
            for (int64_t i = 0; i < mec_tensor_numel(&a); i++)
                CHECK(get_q(&a, i) == get_q(&b, i));
        mec_tensor_release(&a);
        mec_tensor_release(&b);
        for (int i = 0; i < 8; i++)
            mec_tensor_destroy(in[i]);
        mec_graph_destroy(g);
    }
}

/* mec.QMatMul's reference kernel against a hand computation of a few values. */
static void test_qmatmul_ref_by_hand(void) {
    int64_t as[] = {2, 3}, bs[] = {3, 2}, ns[] = {2};
    mec_tensor *in[9] = {rand_q(MEC_U8, 2, as, 0, 255),
                         scalar_f(0.02f),
                         scalar_q(MEC_U8, 130),
                         rand_q(MEC_I8, 2, bs, -127, 127),
                         tensor(MEC_F32, 1, ns),
                         tensor(MEC_I8, 1, ns),
                         scalar_f(0.04f),
                         scalar_q(MEC_I8, -3),
                         rand_q(MEC_I32, 1, ns, -2000, 2000)};
    ((float *)in[4]->data)[0] = 0.004f;
    ((float *)in[4]->data)[1] = 0.007f;
    for (int relu = 0; relu < 2; relu++) {
        mec_graph *g = one_node("QMatMul", "mec", 13, 9);
        mec_node_set_string(g, 0, "activation", relu ? "Relu" : "");
        mec_tensor y;
        CHECK_OK(run_kernel(g, 0, 1, "ref", 9, in, &y, 0x1f6));
        for (int m = 0; y.data && m < 2; m++)
            for (int n = 0; n < 2; n++) {
                int32_t acc = (int32_t)get_q(in[8], n);
                for (int k = 0; k < 3; k++)
                    acc +=
                        (int32_t)(get_q(in[0], m * 3 + k) - 130) * (int32_t)get_q(in[3], k * 2 + n);
                float mult = 0.02f * ((float *)in[4]->data)[n] / 0.04f;
                float q = rintf((float)acc * mult) - 3.0f;
                q = q < -128 ? -128 : q > 127 ? 127 : q;
                if (relu && q < -3) q = -3;
                CHECK(get_q(&y, m * 2 + n) == (int64_t)q);
            }
        mec_tensor_release(&y);
        mec_graph_destroy(g);
    }
    for (int i = 0; i < 9; i++)
        mec_tensor_destroy(in[i]);
}

/* ------------------------------------------ mec.QConv with a residual sum */

/* a copy of 4-D t stored channels-last */
static mec_tensor *nhwc_copy(const mec_tensor *t) {
    mec_tensor *c = tensor(t->dtype, 4, t->shape);
    nhwc_strides(t->shape, c->strides);
    copy_values(c, t);
    return c;
}

/* mec.QConv's 12 inputs for a random conv: x (N, C, H, W), s8 weights with
 * zero points 0 (or w_zp when non-zero: asymmetric), optional bias (in[8]
 * NULL without), and a residual sum of y's shape (dtype st, its own scale
 * and zero point, centred on it). The node is made in *g. */
typedef struct sum_case {
    int64_t N, C, M, H, W, k, stride, pad, group;
    mec_dtype xt, yt, st;
    bool per_channel, bias, relu;
    int w_zp;
} sum_case;

static void sum_case_inputs(const sum_case *sc, mec_tensor **in, mec_graph **g, int nsp) {
    int64_t xs[] = {sc->N, sc->C, sc->H, sc->W}, ws[] = {sc->M, sc->C / sc->group, sc->k, sc->k},
            ms[] = {sc->M};
    int64_t OH = (sc->H + 2 * sc->pad - sc->k) / sc->stride + 1,
            OW = (sc->W + 2 * sc->pad - sc->k) / sc->stride + 1;
    int64_t ys[] = {sc->N, sc->M, OH, OW};
    if (nsp == 1) { /* (N, C, W) with a (k) kernel: y (N, M, OW) */
        xs[2] = sc->W;
        ws[2] = sc->k;
        ys[2] = OW;
    }
    int nd = 2 + nsp;
    for (int i = 0; i < 12; i++)
        in[i] = NULL;
    in[0] = rand_q(sc->xt, nd, xs, qlo(sc->xt), qhi(sc->xt));
    float x_scale = frand(0.01f, 0.05f);
    in[1] = scalar_f(x_scale);
    in[2] = scalar_q(sc->xt, irand(qlo(sc->xt) + 20, qhi(sc->xt) - 20));
    in[3] = rand_q(MEC_I8, nd, ws, -127, 127);
    in[4] = sc->per_channel ? tensor(MEC_F32, 1, ms) : scalar_f(0);
    for (int64_t m = 0; m < mec_tensor_numel(in[4]); m++)
        ((float *)in[4]->data)[m] = frand(0.002f, 0.01f);
    in[5] = sc->per_channel ? tensor(MEC_I8, 1, ms) : scalar_q(MEC_I8, sc->w_zp);
    for (int64_t m = 0; sc->per_channel && m < sc->M; m++)
        mec_tensor_set_f64(in[5], m, sc->w_zp);
    int64_t K = (sc->C / sc->group) * sc->k * (nsp == 2 ? sc->k : 1);
    /* y's range about that of the accumulator plus the sum: some saturation, mostly not */
    float y_scale = x_scale * 0.006f * 150.0f * sqrtf((float)K);
    in[6] = scalar_f(y_scale);
    in[7] = scalar_q(sc->yt, irand(qlo(sc->yt) + 40, qhi(sc->yt) - 40));
    if (sc->bias) in[8] = rand_q(MEC_I32, 1, ms, -20000, 20000);
    in[9] = scalar_f(y_scale * frand(0.3f, 1.0f));
    int szp = irand(qlo(sc->st) + 60, qhi(sc->st) - 60);
    in[10] = scalar_q(sc->st, szp);
    in[11] = rand_around(sc->st, nd, ys, szp, 60);
    *g = one_node("QConv", "mec", 13, 12);
    mec_node_set_int(*g, 0, "group", sc->group);
    if (nsp == 2) {
        mec_node_set_ints(*g, 0, "strides", 2, (int64_t[]){sc->stride, sc->stride});
        mec_node_set_ints(*g, 0, "pads", 4, (int64_t[]){sc->pad, sc->pad, sc->pad, sc->pad});
    } else {
        mec_node_set_ints(*g, 0, "strides", 1, (int64_t[]){sc->stride});
        mec_node_set_ints(*g, 0, "pads", 2, (int64_t[]){sc->pad, sc->pad});
    }
    mec_node_set_string(*g, 0, "activation", sc->relu ? "Relu" : "");
}

static void random_sum_case(sum_case *sc) {
    sc->N = irand(1, 2);
    sc->group = irand(0, 3) == 0 ? 2 : 1;
    sc->C = irand(1, 3) * 4 * sc->group;
    sc->M = irand(1, 4) * 4 * sc->group;
    sc->H = irand(5, 10);
    sc->W = irand(5, 10);
    sc->k = irand(0, 1) ? 3 : 1;
    sc->stride = irand(1, 2);
    sc->pad = sc->k == 3 ? irand(0, 1) : 0;
    sc->xt = irand(0, 1) ? MEC_U8 : MEC_I8;
    sc->yt = irand(0, 1) ? MEC_U8 : MEC_I8;
    sc->st = irand(0, 1) ? MEC_U8 : MEC_I8;
    sc->per_channel = irand(0, 1);
    sc->bias = irand(0, 1);
    sc->relu = irand(0, 1);
    sc->w_zp = 0;
}

/* y against the reference's r: at most one step apart, at most 1 % of them
 * off, and not all saturated */
static void check_close(const mec_tensor *r, const mec_tensor *y, mec_dtype yt, bool relu, int zp,
                        const char *what, int it) {
    CHECK(mec_tensor_same_shape(r, y));
    int64_t n = mec_tensor_numel(r), off = 0, sat = 0, worst = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t d = llabs(get_q(r, i) - get_q(y, i));
        worst = d > worst ? d : worst;
        off += d != 0;
        sat += get_q(r, i) == qlo(yt) || get_q(r, i) == qhi(yt) || (relu && get_q(r, i) == zp);
    }
    if (worst > 1 || off * 100 > n + 100 || sat == n)
        printf("  case %d (%s): %lld of %lld off, worst %lld, %lld saturated\n", it, what,
               (long long)off, (long long)n, (long long)worst, (long long)sat);
    CHECK(worst <= 1);
    CHECK(off * 100 <= n + 100); /* ties of the float requantization only */
    CHECK(sat < n);              /* the test sees real values */
}

/* mec.QConv with a sum, oneDNN against the reference on random shapes (u8/s8
 * sums with their own zero points, bias or not, Relu or not, groups, stride
 * 2, the sum contiguous or channels-last); every third case in place (y is
 * the sum's buffer), where the reference in place must also equal itself
 * out of place. Every case must run on oneDNN. */
static void test_qconv_sum_fast_vs_ref(void) {
    int fast = 0, cases = 0;
    for (int it = 0; it < 40; it++) {
        sum_case sc;
        random_sum_case(&sc);
        bool inplace = it % 3 == 0, sum_nhwc = it % 2 == 1;
        if (inplace) sc.st = sc.yt; /* the session shares a buffer of one dtype only */
        mec_tensor *in[12];
        mec_graph *g = NULL;
        sum_case_inputs(&sc, in, &g, 2);
        int zp = (int)get_q(in[7], 0);
        uint32_t consts = 0x7feu & ~(sc.bias ? 0u : 1u << 8);
        mec_tensor a, b, c;
        memset(&c, 0, sizeof c);
        CHECK_OK(run_kernel(g, 0, 1, "ref", 12, in, &a, consts));
        mec_tensor *sum_c = in[11];
        if (sum_nhwc) in[11] = nhwc_copy(sum_c);
        log_capture_begin();
        mec_status st = run_kernel_ex(g, 0, 1, "auto", 12, in, &b, consts, inplace);
        fast += log_capture_end("): oneDNN ") > 0;
        cases++;
        CHECK_OK(st);
        if (in[11] != sum_c) {
            mec_tensor_destroy(in[11]);
            in[11] = sum_c;
        }
        if (a.data && b.data) check_close(&a, &b, sc.yt, sc.relu, zp, "oneDNN", it);
        if (inplace) {
            CHECK_OK(run_kernel_ex(g, 0, 1, "ref", 12, in, &c, consts, true));
            for (int64_t i = 0; a.data && c.data && i < mec_tensor_numel(&a); i++)
                CHECK(get_q(&a, i) == get_q(&c, i));
        }
        mec_tensor_release(&a);
        mec_tensor_release(&b);
        mec_tensor_release(&c);
        for (int i = 0; i < 12; i++)
            mec_tensor_destroy(in[i]);
        mec_graph_destroy(g);
    }
    printf("  %d of %d cases ran on oneDNN\n", fast, cases);
    CHECK(fast == cases);
}

/* Forms the oneDNN kernel hands to the reference kernel (asymmetric
 * weights, with channels-last y; a 1-D convolution, y contiguous; a sum
 * scale that is not a constant): equal to the reference, also when y is the
 * sum's buffer (the fallback's channels-last copy of the sum, or the
 * reference reading sum[i] before writing y[i]). */
static void test_qconv_sum_fallback(void) {
    for (int form = 0; form < 6; form++) {
        sum_case sc;
        random_sum_case(&sc);
        sc.st = sc.yt;
        int kind = form % 3, nsp = kind == 1 ? 1 : 2;
        bool inplace = form >= 3;
        if (kind == 0) sc.w_zp = irand(1, 5);
        mec_tensor *in[12];
        mec_graph *g = NULL;
        sum_case_inputs(&sc, in, &g, nsp);
        uint32_t consts = (0x7feu & ~(sc.bias ? 0u : 1u << 8)) & ~(kind == 2 ? 1u << 9 : 0u);
        mec_tensor a, b;
        CHECK_OK(run_kernel(g, 0, 1, "ref", 12, in, &a, consts));
        log_capture_begin();
        mec_status st = run_kernel_ex(g, 0, 1, "auto", 12, in, &b, consts, inplace);
        int fast = log_capture_end("): oneDNN ");
        CHECK_OK(st);
        CHECK(fast == 0);
        /* y channels-last where the fast kernel runs 2-D convolutions */
        CHECK(!b.data || (nsp == 2) == (b.strides[1] == 1 && b.shape[1] > 1));
        int64_t differ = 0;
        for (int64_t i = 0; a.data && b.data && i < mec_tensor_numel(&a); i++)
            differ += get_q(&a, i) != get_q(&b, i);
        CHECK(a.data && b.data && differ == 0);
        mec_tensor_release(&a);
        mec_tensor_release(&b);
        for (int i = 0; i < 12; i++)
            mec_tensor_destroy(in[i]);
        mec_graph_destroy(g);
    }
}

/* mec.QConv's reference with a sum against a hand computation: y =
 * saturate(round(act(mult[m] * (acc + B[m]) + sum_mult * (sum - sum_zp))) + y_zp),
 * no intermediate rounding of the conv's output. */
static void test_qconv_sum_ref_by_hand(void) {
    int64_t xs[] = {1, 2, 3, 3}, ws[] = {2, 2, 2, 2}, ms[] = {2}, ys[] = {1, 2, 2, 2};
    mec_tensor *in[12] = {rand_q(MEC_U8, 4, xs, 0, 255),
                          scalar_f(0.02f),
                          scalar_q(MEC_U8, 130),
                          rand_q(MEC_I8, 4, ws, -127, 127),
                          tensor(MEC_F32, 1, ms),
                          tensor(MEC_I8, 1, ms),
                          scalar_f(0.03f),
                          scalar_q(MEC_U8, 100),
                          rand_q(MEC_I32, 1, ms, -2000, 2000),
                          scalar_f(0.05f),
                          scalar_q(MEC_I8, -7),
                          rand_q(MEC_I8, 4, ys, -128, 127)};
    ((float *)in[4]->data)[0] = 0.004f;
    ((float *)in[4]->data)[1] = 0.007f;
    mec_tensor_set_f64(in[5], 1, 3); /* an asymmetric channel: the reference takes it */
    for (int relu = 0; relu < 2; relu++) {
        mec_graph *g = one_node("QConv", "mec", 13, 12);
        mec_node_set_string(g, 0, "activation", relu ? "Relu" : "");
        mec_tensor y;
        CHECK_OK(run_kernel(g, 0, 1, "ref", 12, in, &y, 0x7fe));
        int exact = 0;
        for (int m = 0; y.data && m < 2; m++)
            for (int oh = 0; oh < 2; oh++)
                for (int ow = 0; ow < 2; ow++) {
                    int32_t acc = (int32_t)get_q(in[8], m);
                    for (int c = 0; c < 2; c++)
                        for (int kh = 0; kh < 2; kh++)
                            for (int kw = 0; kw < 2; kw++)
                                acc +=
                                    (int32_t)(get_q(in[0], (c * 3 + oh + kh) * 3 + ow + kw) - 130) *
                                    (int32_t)(get_q(in[3], ((m * 2 + c) * 2 + kh) * 2 + kw) -
                                              get_q(in[5], m));
                    int i = (m * 2 + oh) * 2 + ow;
                    float mult = 0.02f * ((float *)in[4]->data)[m] / 0.03f, smult = 0.05f / 0.03f;
                    float v = (float)acc * mult + (float)(get_q(in[11], i) + 7) * smult;
                    if (relu && !(v > 0)) v = 0;
                    float q = rintf(v) + 100.0f;
                    q = q < 0 ? 0 : q > 255 ? 255 : q;
                    exact += get_q(&y, i) == (int64_t)q;
                }
        CHECK(exact == 8);
        mec_tensor_release(&y);
        mec_graph_destroy(g);
    }
    for (int i = 0; i < 12; i++)
        mec_tensor_destroy(in[i]);
}

/* Malformed sums are refused at infer: a wrong shape, a zero point of
 * another dtype, 10 or 11 inputs. */
static void test_qconv_sum_bad_inputs(void) {
    sum_case sc;
    random_sum_case(&sc);
    sc.bias = true;
    mec_tensor *in[12];
    mec_graph *g = NULL;
    sum_case_inputs(&sc, in, &g, 2);
    mec_tensor y;
    CHECK_OK(run_kernel(g, 0, 1, "ref", 12, in, &y, 0x7fe));
    mec_tensor_release(&y);
    for (int n_in = 10; n_in <= 11; n_in++)
        CHECK(run_kernel(g, 0, 1, "auto", n_in, in, &y, 0x7fe) == MEC_ERR_GRAPH);
    mec_tensor *sum = in[11];
    int64_t bad[] = {sum->shape[0], sum->shape[1], sum->shape[2], sum->shape[3] + 1};
    in[11] = tensor(sum->dtype, 4, bad);
    CHECK(run_kernel(g, 0, 1, "auto", 12, in, &y, 0x7fe) == MEC_ERR_SHAPE);
    mec_tensor_destroy(in[11]);
    in[11] = sum;
    mec_tensor *zp = in[10];
    in[10] = scalar_q(sum->dtype == MEC_U8 ? MEC_I8 : MEC_U8, 0);
    CHECK(run_kernel(g, 0, 1, "ref", 12, in, &y, 0x7fe) == MEC_ERR_DTYPE);
    mec_tensor_destroy(in[10]);
    in[10] = zp;
    for (int i = 0; i < 12; i++)
        mec_tensor_destroy(in[i]);
    mec_graph_destroy(g);
}

/* ------------------------------------------------------------ the pass */

static mec_graph *qg;
static int n_qp;

static void init(const char *name, mec_tensor *t) { mec_graph_add_initializer(qg, name, t, NULL); }
static void add(const char *op, int n_in, const char **in, const char *out) {
    const char *o[] = {out};
    mec_graph_add_node(qg, op, "", out, n_in, in, 1, o, NULL);
}
/* t → QuantizeLinear → DequantizeLinear with fresh params of dtype dt; returns "t_dq". */
static void qdq_t(const char *t, mec_dtype dt, float scale, int zp, char *dq_name) {
    char s[64], z[64], q[64];
    snprintf(s, sizeof s, "%s_s", t);
    snprintf(z, sizeof z, "%s_z", t);
    snprintf(q, sizeof q, "%s_q", t);
    sprintf(dq_name, "%s_dq", t);
    init(s, scalar_f(scale));
    init(z, scalar_q(dt, zp));
    const char *qi[] = {t, s, z}, *di[] = {q, s, z};
    add("QuantizeLinear", 3, qi, q);
    add("DequantizeLinear", 3, di, dq_name);
    n_qp++;
}
static void qdq(const char *t, float scale, int zp, char *dq_name) {
    qdq_t(t, MEC_U8, scale, zp, dq_name);
}
/* constant int8 weights (M, ...) behind a per-channel (axis 0) DQ */
static void qweight(const char *name, int nd, const int64_t *shape, bool per_channel) {
    char q[64], s[64], z[64];
    snprintf(q, sizeof q, "%s_q", name);
    snprintf(s, sizeof s, "%s_s", name);
    snprintf(z, sizeof z, "%s_z", name);
    init(q, rand_q(MEC_I8, nd, shape, -127, 127));
    int64_t ms[] = {shape[0]};
    mec_tensor *sc = per_channel ? tensor(MEC_F32, 1, ms) : scalar_f(0);
    for (int64_t m = 0; m < mec_tensor_numel(sc); m++) ((float *)sc->data)[m] = frand(0.002f, 0.006f);
    init(s, sc);
    init(z, per_channel ? tensor(MEC_I8, 1, ms) : scalar_q(MEC_I8, 0));
    const char *di[] = {q, s, z};
    int id;
    mec_graph_add_node(qg, "DequantizeLinear", "", name, 3, di, 1, (const char *[]){name}, &id);
    if (per_channel) mec_node_set_int(qg, id, "axis", 0);
}

/* x → Q → DQ → MaxPool → Q → DQ (same params) → Conv3x3+b(DQ int32)+Relu → Q → DQ
 *   → Conv1x1 + b(float) → Q → DQ ; Add(that, the MaxPool's DQ) → Relu → Q → DQ
 *   → Flatten → MatMul(DQ w) → Q → DQ → y */
static mec_graph *build_qdq(void) {
    mec_graph_create("qdq", &qg);
    mec_graph_set_opset(qg, "", 13);
    int64_t xs[] = {1, 8, 6, 6};
    mec_graph_add_input(qg, "x", MEC_F32, 4, xs, NULL, NULL);
    char x_dq[64], mp_dq[64], c1_dq[64], c2_dq[64], r_dq[64], mm_dq[64];
    qdq("x", 0.02f, 128, x_dq);
    const char *mp[] = {x_dq};
    add("MaxPool", 1, mp, "mp");
    mec_node_set_ints(qg, qg->n_nodes - 1, "kernel_shape", 2, (int64_t[]){3, 3});
    mec_node_set_ints(qg, qg->n_nodes - 1, "pads", 4, (int64_t[]){1, 1, 1, 1});
    /* the same scale and zero point as x: the Q → DQ after MaxPool goes */
    mec_graph_add_initializer(qg, "mp_s", scalar_f(0.02f), NULL);
    mec_graph_add_initializer(qg, "mp_z", scalar_q(MEC_U8, 128), NULL);
    add("QuantizeLinear", 3, (const char *[]){"mp", "mp_s", "mp_z"}, "mp_q");
    add("DequantizeLinear", 3, (const char *[]){"mp_q", "mp_s", "mp_z"}, "mp_dq");
    snprintf(mp_dq, sizeof mp_dq, "mp_dq");
    int64_t w1[] = {8, 8, 3, 3}, w2[] = {8, 8, 1, 1}, wm[] = {288, 10}, c8[] = {8};
    qweight("w1", 4, w1, true);
    init("b1_q", rand_q(MEC_I32, 1, c8, -3000, 3000));
    /* bias scale = x_scale * w_scale exactly as the quantizer writes it */
    mec_tensor *bs = tensor(MEC_F32, 1, c8);
    const float *w1s = qg->values[mec_graph_find(qg, "w1_s")].init->data;
    for (int m = 0; m < 8; m++) ((float *)bs->data)[m] = 0.02f * w1s[m];
    init("b1_s", bs);
    init("b1_z", tensor(MEC_I32, 1, c8));
    int id;
    mec_graph_add_node(qg, "DequantizeLinear", "", "b1", 3, (const char *[]){"b1_q", "b1_s", "b1_z"}, 1,
                       (const char *[]){"b1"}, &id);
    mec_node_set_int(qg, id, "axis", 0);
    add("Conv", 3, (const char *[]){mp_dq, "w1", "b1"}, "c1");
    mec_node_set_ints(qg, qg->n_nodes - 1, "pads", 4, (int64_t[]){1, 1, 1, 1});
    add("Relu", 1, (const char *[]){"c1"}, "r1");
    qdq("r1", 0.03f, 0, c1_dq);
    qweight("w2", 4, w2, true);
    mec_tensor *b2 = tensor(MEC_F32, 1, c8);
    for (int m = 0; m < 8; m++) ((float *)b2->data)[m] = frand(-0.5f, 0.5f);
    init("b2", b2);
    add("Conv", 3, (const char *[]){c1_dq, "w2", "b2"}, "c2");
    qdq("c2", 0.05f, 120, c2_dq); /* wide enough not to saturate: the fused conv would not */
    add("Add", 2, (const char *[]){c2_dq, mp_dq}, "sum");
    add("Relu", 1, (const char *[]){"sum"}, "r2");
    qdq("r2", 0.025f, 0, r_dq);
    add("Flatten", 1, (const char *[]){r_dq}, "flat");
    qdq("flat", 0.025f, 0, r_dq); /* the same params again: Flatten runs on uint8 */
    qweight("wm", 2, wm, false);
    add("MatMul", 2, (const char *[]){r_dq, "wm"}, "mm");
    qdq("mm", 0.1f, 128, mm_dq);
    add("Identity", 1, (const char *[]){mm_dq}, "y");
    mec_graph_add_output(qg, "y", NULL);
    return qg;
}

static mec_tensor *run_sess(mec_graph *g, bool optimize, const char *impl, const mec_tensor *x, mec_graph **kept) {
    mec_sess_options o;
    mec_sess_options_default(&o);
    o.optimize = optimize;
    o.impl = impl;
    mec_sess *s = NULL;
    mec_tensor *y = NULL;
    CHECK_OK(mec_sess_create(g, &o, &s));
    if (!s) return NULL;
    if (kept) mec_graph_clone(mec_sess_graph(s), kept);
    const char *in[] = {"x"};
    CHECK_OK(mec_sess_run(s, 1, in, &x, 1, NULL, &y));
    mec_sess_destroy(s);
    return y;
}

static int count_op(const mec_graph *g, const char *op) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += !strcmp(g->nodes[i].op_type, op);
    return n;
}

static void test_qdq_pass(void) {
    mec_graph *g = build_qdq();
    int64_t xs[] = {1, 8, 6, 6};
    mec_tensor *x = tensor(MEC_F32, 4, xs);
    for (int64_t i = 0; i < mec_tensor_numel(x); i++) ((float *)x->data)[i] = frand(-2.5f, 2.5f);
    mec_graph *opt = NULL;
    mec_tensor *a = run_sess(g, false, "ref", x, NULL);
    mec_tensor *b = run_sess(g, true, "ref", x, &opt);
    mec_tensor *c = run_sess(g, true, "auto", x, NULL);
    CHECK(a && b && c && opt);
    if (opt) {
        /* only the input's Q and the output's DQ are left */
        CHECK(count_op(opt, "QuantizeLinear") == 1);
        CHECK(count_op(opt, "DequantizeLinear") == 1);
        /* Conv+Relu, and Conv2 with the residual Add+Relu folded in */
        CHECK(count_op(opt, "QConv") == 2);
        CHECK(count_op(opt, "QLinearConv") == 0);
        CHECK(count_op(opt, "QAdd") == 0);
        CHECK(count_op(opt, "QLinearMatMul") == 1);
        CHECK(count_op(opt, "Conv") == 0 && count_op(opt, "Relu") == 0 && count_op(opt, "Add") == 0);
        CHECK(count_op(opt, "MaxPool") == 1 && count_op(opt, "Flatten") == 1);
        mec_graph_destroy(opt);
    }
    if (a && b && c) {
        CHECK(mec_tensor_same_shape(a, b) && mec_tensor_same_shape(a, c));
        int64_t n = mec_tensor_numel(a), off = 0, distinct = 0;
        float step = 0.1f, worst = 0;
        for (int64_t i = 0; i < n; i++) {
            float va = ((float *)a->data)[i], vb = ((float *)b->data)[i], vc = ((float *)c->data)[i];
            float d = fabsf(va - vb) > fabsf(va - vc) ? fabsf(va - vb) : fabsf(va - vc);
            worst = d > worst ? d : worst;
            off += d > 0.5f * step;
            distinct += i > 0 && va != ((float *)a->data)[i - 1];
        }
        printf("  qdq graph: worst %.3g (step %.3g), %lld of %lld differ\n", worst, step, (long long)off,
               (long long)n);
        CHECK(worst <= 1.01f * step);
        CHECK(distinct > n / 2);
    }
    mec_tensor_destroy(a);
    mec_tensor_destroy(b);
    mec_tensor_destroy(c);
    mec_tensor_destroy(x);
    mec_graph_destroy(g);
}

/* Residual blocks as ResNet's QDQ export has them:
 *   x → Q → DQ → Conv3x3 → Relu → Q → DQ → Conv3x3 → Q → DQ (c2)
 *   x's DQ → Conv1x1 (the downsample, after c2 in node order) → Q(int8) → DQ (d)
 *   s = Add(c2, d) → Relu → Q → DQ         ⇒ c2 takes the add, d dies there (in place)
 *   t = Add(s, Conv1x1(s) → Q → DQ) → Q → DQ → y_t ⇒ that conv takes it (operand b,
 *                                            no Relu); s is still read after it (not in place)
 *   f = Add(Conv1x1(c1) → Q → DQ, s) → Relu → Q → DQ → y ⇒ that conv takes it; s dies
 *                                            there (in place: u8 like f)
 * Scales wide enough that the conv outputs do not saturate (the fused op
 * skips that saturation). */
static mec_graph *build_qdq_residual(void) {
    mec_graph_create("qdq_res", &qg);
    mec_graph_set_opset(qg, "", 13);
    int64_t xs[] = {1, 16, 8, 8}, w3[] = {16, 16, 3, 3}, w1[] = {16, 16, 1, 1};
    mec_graph_add_input(qg, "x", MEC_F32, 4, xs, NULL, NULL);
    char x_dq[64], c1_dq[64], c2_dq[64], d_dq[64], s_dq[64], c3_dq[64], t_dq[64], c4_dq[64],
        f_dq[64];
    qdq("x", 0.02f, 128, x_dq);
    qweight("w1", 4, w3, true);
    add("Conv", 2, (const char *[]){x_dq, "w1"}, "c1");
    mec_node_set_ints(qg, qg->n_nodes - 1, "pads", 4, (int64_t[]){1, 1, 1, 1});
    add("Relu", 1, (const char *[]){"c1"}, "r1");
    qdq("r1", 0.1f, 0, c1_dq);
    qweight("w2", 4, w3, true);
    add("Conv", 2, (const char *[]){c1_dq, "w2"}, "c2");
    mec_node_set_ints(qg, qg->n_nodes - 1, "pads", 4, (int64_t[]){1, 1, 1, 1});
    qdq("c2", 0.5f, 128, c2_dq);
    qweight("wd", 4, w1, false);
    add("Conv", 2, (const char *[]){x_dq, "wd"}, "d");
    qdq_t("d", MEC_I8, 0.07f, -5, d_dq);
    add("Add", 2, (const char *[]){c2_dq, d_dq}, "s");
    add("Relu", 1, (const char *[]){"s"}, "sr");
    qdq("sr", 0.5f, 0, s_dq);
    qweight("w3", 4, w1, true);
    add("Conv", 2, (const char *[]){s_dq, "w3"}, "c3");
    qdq("c3", 0.6f, 128, c3_dq);
    add("Add", 2, (const char *[]){s_dq, c3_dq}, "t");
    qdq("t", 0.8f, 128, t_dq);
    add("Identity", 1, (const char *[]){t_dq}, "y_t");
    mec_graph_add_output(qg, "y_t", NULL);
    qweight("w4", 4, w1, true);
    add("Conv", 2, (const char *[]){c1_dq, "w4"}, "c4");
    qdq("c4", 0.3f, 128, c4_dq);
    add("Add", 2, (const char *[]){c4_dq, s_dq}, "f");
    add("Relu", 1, (const char *[]){"f"}, "fr");
    qdq("fr", 0.5f, 0, f_dq);
    add("Identity", 1, (const char *[]){f_dq}, "y");
    mec_graph_add_output(qg, "y", NULL);
    return qg;
}

static mec_tensor *residual_input(void) {
    int64_t xs[] = {1, 16, 8, 8};
    mec_tensor *x = tensor(MEC_F32, 4, xs);
    for (int64_t i = 0; i < mec_tensor_numel(x); i++)
        ((float *)x->data)[i] = frand(-2.5f, 2.5f);
    return x;
}

/* Runs g on x (optimised or not, kernels `impl`) for the outputs `names`. */
static void run_sess_outs(mec_graph *g, bool optimize, const char *impl, const mec_tensor *x, int n,
                          const char *const *names, mec_tensor **out, mec_graph **kept) {
    mec_sess_options o;
    mec_sess_options_default(&o);
    o.optimize = optimize;
    o.impl = impl;
    mec_sess *s = NULL;
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    CHECK_OK(mec_sess_create(g, &o, &s));
    if (!s) return;
    if (kept) mec_graph_clone(mec_sess_graph(s), kept);
    const char *in[] = {"x"};
    CHECK_OK(mec_sess_run(s, 1, in, &x, n, names, out));
    mec_sess_destroy(s);
}

/* Steps (of `step`) between the values of a and b: the largest, and how
 * many differ by more than `within`. Uint8/int8 or float. */
static int64_t steps_apart(const mec_tensor *a, const mec_tensor *b, float step, int64_t within,
                           int64_t *beyond) {
    int64_t worst = 0;
    *beyond = 0;
    for (int64_t i = 0; i < mec_tensor_numel(a); i++) {
        double va = a->dtype == MEC_F32 ? ((const float *)a->data)[i] : (double)get_q(a, i),
               vb = b->dtype == MEC_F32 ? ((const float *)b->data)[i] : (double)get_q(b, i);
        int64_t d = llround(fabs(va - vb) / step);
        worst = d > worst ? d : worst;
        *beyond += d > within;
    }
    return worst;
}

/* The residual Adds become the convolutions' sums: no mec.QAdd left, each
 * residual computed before the conv that reads it. The first fused block's
 * output (its inputs are the same in both graphs) is within one step of the
 * unoptimised QDQ graph's, the graph outputs (two fused ops deep) within
 * two, with the reference and the oneDNN kernels; the sessions run with y
 * sharing the residual's buffer where it dies. */
static void test_qdq_residual_pass(void) {
    mec_graph *g = build_qdq_residual();
    mec_tensor *x = residual_input();
    mec_graph *opt = NULL;
    const char *outs[] = {"y", "y_t"}, *mid[] = {"sr_q"};
    const float steps[] = {0.5f, 0.8f};
    mec_tensor *a[2], *b[2], *c[2], *ma, *mb, *mc;
    run_sess_outs(g, false, "ref", x, 2, outs, a, NULL);
    run_sess_outs(g, true, "ref", x, 2, outs, b, &opt);
    run_sess_outs(g, true, "auto", x, 2, outs, c, NULL);
    run_sess_outs(g, false, "ref", x, 1, mid, &ma, NULL);
    run_sess_outs(g, true, "ref", x, 1, mid, &mb, NULL);
    run_sess_outs(g, true, "auto", x, 1, mid, &mc, NULL);
    CHECK(opt != NULL);
    if (opt) {
        CHECK(count_op(opt, "QAdd") == 0);
        CHECK(count_op(opt, "QConv") == 4);
        CHECK(count_op(opt, "QLinearConv") == 1); /* the downsample */
        CHECK(count_op(opt, "QuantizeLinear") == 1 && count_op(opt, "DequantizeLinear") == 2);
        int with_sum = 0;
        for (int i = 0; i < opt->n_nodes; i++) {
            const mec_node *n = &opt->nodes[i];
            if (strcmp(n->op_type, "QConv") || n->n_in != 12) continue;
            with_sum++;
            int p = opt->values[n->in[11]].producer;
            CHECK(p >= 0 && p < i);
        }
        CHECK(with_sum == 3);
        mec_graph_destroy(opt);
    }
    int64_t beyond, worst;
    if (ma && mb && mc) {
        int64_t n = mec_tensor_numel(ma), zeros = 0;
        for (int64_t i = 0; i < n; i++)
            zeros += get_q(ma, i) == 0;
        CHECK(steps_apart(ma, mb, 1, 1, &beyond) <= 1);
        worst = steps_apart(ma, mc, 1, 1, &beyond);
        CHECK(worst <= 1);
        steps_apart(ma, mc, 1, 0, &beyond);
        printf("  first block: worst %lld step, %lld of %lld differ\n", (long long)worst,
               (long long)beyond, (long long)n);
        CHECK(beyond * 2 <= n && zeros * 4 <= n * 3);
    }
    for (int k = 0; k < 2; k++) {
        if (!a[k] || !b[k] || !c[k]) {
            CHECK(!"missing output");
            continue;
        }
        CHECK(mec_tensor_same_shape(a[k], b[k]) && mec_tensor_same_shape(a[k], c[k]));
        int64_t n = mec_tensor_numel(a[k]), distinct = 0, off_b, off_c, far_b, far_c;
        for (int64_t i = 1; i < n; i++)
            distinct += ((float *)a[k]->data)[i] != ((float *)a[k]->data)[i - 1];
        int64_t wb = steps_apart(a[k], b[k], steps[k], 0, &off_b);
        int64_t wc = steps_apart(a[k], c[k], steps[k], 0, &off_c);
        steps_apart(a[k], b[k], steps[k], 1, &far_b);
        steps_apart(a[k], c[k], steps[k], 1, &far_c);
        printf("  output %s: worst %lld / %lld steps (ref / oneDNN), %lld / %lld of %lld differ, "
               "%lld / %lld by 2\n",
               outs[k], (long long)wb, (long long)wc, (long long)off_b, (long long)off_c,
               (long long)n, (long long)far_b, (long long)far_c);
        CHECK(wb <= 2 && wc <= 2);
        CHECK(far_b * 20 <= n && far_c * 20 <= n);
        CHECK(distinct > n / 4);
    }
    for (int k = 0; k < 2; k++) {
        mec_tensor_destroy(a[k]);
        mec_tensor_destroy(b[k]);
        mec_tensor_destroy(c[k]);
    }
    mec_tensor_destroy(ma);
    mec_tensor_destroy(mb);
    mec_tensor_destroy(mc);
    mec_tensor_destroy(x);
    mec_graph_destroy(g);
}

/* Every allocation of creating a session on the graph build() makes and
 * running it on x (asking for outputs outs[0..n_out), y = outs[0]) fails in
 * turn: each time a clean MEC_ERR_NOMEM and no output, until the runs go
 * through (three clean ones end the sweep). */
static void alloc_failure_sweep(mec_graph *(*build)(void), const mec_tensor *x, int n_out,
                                const char *const *outs) {
    int clean = 0, failed = 0;
    for (long k = 0; k < 5000; k++) {
        mec_graph *g = build();
        mec_sess *s = NULL;
        const char *in[] = {"x"};
        mec_tensor *y[4] = {NULL, NULL, NULL, NULL};
        mec_alloc_fail_after(k);
        mec_status st = mec_sess_create(g, NULL, &s);
        if (!st) st = mec_sess_run(s, 1, in, &x, n_out, outs, y);
        mec_alloc_fail_after(-1);
        CHECK(st == MEC_OK || st == MEC_ERR_NOMEM);
        if (st == MEC_OK)
            clean++;
        else
            failed++;
        CHECK((st == MEC_OK) == (y[0] != NULL));
        for (int i = 0; i < n_out; i++) mec_tensor_destroy(y[i]);
        mec_sess_destroy(s);
        mec_graph_destroy(g);
        if (st == MEC_OK && clean > 2) break; /* past the last allocation */
    }
    printf("  %d allocations failed in turn, then clean runs\n", failed);
    CHECK(clean == 3 && failed > 100);
}

/* Every allocation of creating and running a session on the residual graph
 * (the pass with its shape inference, the fused kernels' prepare) fails in
 * turn: a clean error. */
static void test_qdq_residual_alloc_failures(void) {
    mec_tensor *x = residual_input();
    const char *outs[] = {"y", "y_t"};
    alloc_failure_sweep(build_qdq_residual, x, 2, outs);
    mec_tensor_destroy(x);
}

/* constant weights of dtype dt behind a DQ with a scale per entry of `axis`
 * (-1: one scale) and zero point zp */
static void qweight_axis(const char *name, mec_dtype dt, int nd, const int64_t *shape, int axis,
                         int zp) {
    char q[64], s[64], z[64];
    snprintf(q, sizeof q, "%s_q", name);
    snprintf(s, sizeof s, "%s_s", name);
    snprintf(z, sizeof z, "%s_z", name);
    init(q, rand_around(dt, nd, shape, zp, 100));
    int64_t ms[] = {axis >= 0 ? shape[axis] : 1};
    mec_tensor *sc = axis >= 0 ? tensor(MEC_F32, 1, ms) : scalar_f(0);
    for (int64_t m = 0; m < mec_tensor_numel(sc); m++)
        ((float *)sc->data)[m] = frand(0.01f, 0.03f);
    init(s, sc);
    mec_tensor *zt = axis >= 0 ? tensor(dt, 1, ms) : scalar_q(dt, zp);
    for (int64_t m = 0; m < mec_tensor_numel(zt); m++)
        mec_tensor_set_f64(zt, m, zp);
    init(z, zt);
    int id;
    mec_graph_add_node(qg, "DequantizeLinear", "", name, 3, (const char *[]){q, s, z}, 1,
                       (const char *[]){name}, &id);
    if (axis >= 0) mec_node_set_int(qg, id, "axis", axis);
}

/* x (2, 5, 16) → Q → DQ → MatMul(w1 per column) → Add(float bias) → Q → DQ
 *   → MatMul(w2) → Add(DQ int32 bias, first operand) → Relu → Q → DQ
 *   → Reshape (10, 24) → Q → DQ (same params)
 *   → Gemm(w3 (8, 24) per row, transB, float C) → Q → DQ
 *   → MatMul(w4 uint8, zero point 128) → Q → DQ → y */
static mec_graph *build_qdq_matmul(void) {
    mec_graph_create("qdq_mm", &qg);
    mec_graph_set_opset(qg, "", 13);
    int64_t xs[] = {2, 5, 16}, w1[] = {16, 24}, w2[] = {24, 24}, w3[] = {8, 24}, w4[] = {8, 6};
    int64_t n24[] = {24}, n8[] = {8}, rs[] = {2};
    mec_graph_add_input(qg, "x", MEC_F32, 3, xs, NULL, NULL);
    char x_dq[64], a1_dq[64], r2_dq[64], rs_dq[64], g3_dq[64], m4_dq[64];
    qdq("x", 0.02f, 128, x_dq);
    qweight_axis("w1", MEC_I8, 2, w1, 1, 0);
    add("MatMul", 2, (const char *[]){x_dq, "w1"}, "m1");
    mec_tensor *b1 = tensor(MEC_F32, 1, n24);
    for (int n = 0; n < 24; n++)
        ((float *)b1->data)[n] = frand(-0.5f, 0.5f);
    init("b1", b1);
    add("Add", 2, (const char *[]){"m1", "b1"}, "a1");
    qdq("a1", 0.04f, 128, a1_dq);
    qweight_axis("w2", MEC_I8, 2, w2, -1, 3);
    add("MatMul", 2, (const char *[]){a1_dq, "w2"}, "m2");
    init("b2_q", rand_q(MEC_I32, 1, n24, -2000, 2000));
    /* bias scale = a_scale * w_scale exactly, as the quantizer writes it */
    mec_tensor *b2s = tensor(MEC_F32, 1, n24);
    const float w2s = *(const float *)qg->values[mec_graph_find(qg, "w2_s")].init->data;
    for (int n = 0; n < 24; n++)
        ((float *)b2s->data)[n] = 0.04f * w2s;
    init("b2_s", b2s);
    init("b2_z", tensor(MEC_I32, 1, n24));
    int id;
    mec_graph_add_node(qg, "DequantizeLinear", "", "b2", 3,
                       (const char *[]){"b2_q", "b2_s", "b2_z"}, 1, (const char *[]){"b2"}, &id);
    mec_node_set_int(qg, id, "axis", 0);
    add("Add", 2, (const char *[]){"b2", "m2"}, "a2");
    add("Relu", 1, (const char *[]){"a2"}, "r2");
    qdq("r2", 0.03f, 0, r2_dq);
    mec_tensor *shape = tensor(MEC_I64, 1, rs);
    ((int64_t *)shape->data)[0] = 10;
    ((int64_t *)shape->data)[1] = 24;
    init("rs_shape", shape);
    add("Reshape", 2, (const char *[]){r2_dq, "rs_shape"}, "rs");
    qdq("rs", 0.03f, 0, rs_dq);
    qweight_axis("w3", MEC_I8, 2, w3, 0, 0);
    mec_tensor *c3 = tensor(MEC_F32, 1, n8);
    for (int n = 0; n < 8; n++)
        ((float *)c3->data)[n] = frand(-0.5f, 0.5f);
    init("c3", c3);
    add("Gemm", 3, (const char *[]){rs_dq, "w3", "c3"}, "g3");
    mec_node_set_int(qg, qg->n_nodes - 1, "transB", 1);
    qdq("g3", 0.05f, 128, g3_dq);
    qweight_axis("w4", MEC_U8, 2, w4, -1, 128);
    add("MatMul", 2, (const char *[]){g3_dq, "w4"}, "m4");
    qdq("m4", 0.05f, 128, m4_dq);
    add("Identity", 1, (const char *[]){m4_dq}, "y");
    mec_graph_add_output(qg, "y", NULL);
    return qg;
}

static void test_qdq_matmul_pass(void) {
    mec_graph *g = build_qdq_matmul();
    int64_t xs[] = {2, 5, 16};
    mec_tensor *x = tensor(MEC_F32, 3, xs);
    for (int64_t i = 0; i < mec_tensor_numel(x); i++)
        ((float *)x->data)[i] = frand(-2.5f, 2.5f);
    mec_graph *opt = NULL;
    mec_tensor *a = run_sess(g, false, "ref", x, NULL);
    mec_tensor *b = run_sess(g, true, "ref", x, &opt);
    mec_tensor *c = run_sess(g, true, "auto", x, NULL);
    CHECK(a && b && c && opt);
    if (opt) {
        /* only the input's Q and the output's DQ are left */
        CHECK(count_op(opt, "QuantizeLinear") == 1);
        CHECK(count_op(opt, "DequantizeLinear") == 1);
        CHECK(count_op(opt, "QMatMul") == 3);
        CHECK(count_op(opt, "QLinearMatMul") == 1);
        CHECK(count_op(opt, "MatMul") + count_op(opt, "Gemm") + count_op(opt, "Add") +
                  count_op(opt, "Relu") ==
              0);
        mec_graph_destroy(opt);
    }
    if (a && b && c) {
        CHECK(mec_tensor_same_shape(a, b) && mec_tensor_same_shape(a, c));
        int64_t n = mec_tensor_numel(a), off = 0, distinct = 0, fast_ref_off = 0;
        float step = 0.05f, worst = 0;
        for (int64_t i = 0; i < n; i++) {
            float va = ((float *)a->data)[i], vb = ((float *)b->data)[i],
                  vc = ((float *)c->data)[i];
            float d = fabsf(va - vb) > fabsf(va - vc) ? fabsf(va - vb) : fabsf(va - vc);
            worst = d > worst ? d : worst;
            off += d > 0.5f * step;
            fast_ref_off += vb != vc;
            distinct += i > 0 && va != ((float *)a->data)[i - 1];
        }
        printf("  qdq matmul graph: worst %.3g (step %.3g), %lld of %lld differ; fast vs ref "
               "kernels: %lld differ\n",
               worst, step, (long long)off, (long long)n, (long long)fast_ref_off);
        CHECK(worst <= 2.01f * step); /* ±1 per int8 op, compounding through four of them */
        CHECK(off * 5 <= n);
        CHECK(fast_ref_off * 20 <= n);
        CHECK(distinct > n / 2);
    }
    mec_tensor_destroy(a);
    mec_tensor_destroy(b);
    mec_tensor_destroy(c);
    mec_tensor_destroy(x);
    mec_graph_destroy(g);
}

/* Every allocation of creating and running a session on the QDQ MatMul
 * graph (the pass, the int8 kernels' prepare) fails in turn: a clean error. */
static void test_qdq_matmul_alloc_failures(void) {
    int64_t xs[] = {2, 5, 16};
    mec_tensor *x = tensor(MEC_F32, 3, xs);
    for (int64_t i = 0; i < mec_tensor_numel(x); i++)
        ((float *)x->data)[i] = frand(-2.5f, 2.5f);
    alloc_failure_sweep(build_qdq_matmul, x, 1, NULL);
    mec_tensor_destroy(x);
}

/* A DQ → Q pair with different scales is a requantization: it stays, and a
 * Conv whose weights are float (not a DQ) is not touched. */
static void test_qdq_left_alone(void) {
    mec_graph_create("alone", &qg);
    mec_graph_set_opset(qg, "", 13);
    int64_t xs[] = {1, 4, 5, 5}, ws[] = {4, 4, 1, 1};
    mec_graph_add_input(qg, "x", MEC_F32, 4, xs, NULL, NULL);
    char x_dq[64], c_dq[64];
    qdq("x", 0.02f, 128, x_dq);
    mec_tensor *w = tensor(MEC_F32, 4, ws);
    for (int i = 0; i < 16; i++) ((float *)w->data)[i] = frand(-0.5f, 0.5f);
    init("w", w);
    add("Conv", 2, (const char *[]){x_dq, "w"}, "c");
    qdq("c", 0.05f, 128, c_dq);
    init("s2", scalar_f(0.04f));
    init("z2", scalar_q(MEC_U8, 128));
    add("QuantizeLinear", 3, (const char *[]){c_dq, "s2", "z2"}, "y");
    mec_graph_add_output(qg, "y", NULL);
    mec_tensor *x = tensor(MEC_F32, 4, xs);
    for (int64_t i = 0; i < mec_tensor_numel(x); i++) ((float *)x->data)[i] = frand(-2, 2);
    mec_graph *opt = NULL;
    mec_tensor *a = run_sess(qg, false, "ref", x, NULL), *b = run_sess(qg, true, "auto", x, &opt);
    if (opt) {
        CHECK(count_op(opt, "Conv") + count_op(opt, "FusedConv") == 1);
        CHECK(count_op(opt, "QuantizeLinear") == 3);
        mec_graph_destroy(opt);
    }
    if (a && b)
        for (int64_t i = 0; i < mec_tensor_numel(a); i++) CHECK(get_q(a, i) == get_q(b, i));
    mec_tensor_destroy(a);
    mec_tensor_destroy(b);
    mec_tensor_destroy(x);
    mec_graph_destroy(qg);
}

/* The float mec.QAdd (no y_scale, y_zp): the kernels, ref vs fast, equal
 * (also channels-last) and by hand; 7 inputs refused. Then the pass: x's
 * two quantizations added (Add(DQ(a), DQ(b))) and read as float, with a
 * Relu that is the sum's only reader folded in, or not when the sum is
 * read again; the optimised session equals the unoptimised one. */
static void test_qadd_float(void) {
    for (int it = 0; it < 6; it++) {
        mec_dtype at = it & 1 ? MEC_U8 : MEC_I8, bt = it & 2 ? MEC_U8 : MEC_I8;
        int64_t shape[] = {1, irand(1, 40), irand(1, 9), irand(1, 9)};
        mec_tensor *in[7] = {rand_q(at, 4, shape, qlo(at), qhi(at)), scalar_f(frand(0.01f, 0.1f)),
                             scalar_q(at, irand(qlo(at), qhi(at))), rand_q(bt, 4, shape, qlo(bt), qhi(bt)),
                             scalar_f(frand(0.01f, 0.1f)), scalar_q(bt, irand(qlo(bt), qhi(bt))),
                             scalar_f(0.1f)};
        mec_graph *g = one_node("QAdd", "mec", 13, 6);
        mec_node_set_string(g, 0, "activation", it & 4 ? "Relu" : "");
        mec_tensor a, b;
        CHECK_OK(run_kernel(g, 0, 1, "ref", 6, in, &a, 0x36));
        CHECK_OK(run_kernel(g, 0, 1, "auto", 6, in, &b, 0x36));
        CHECK(a.dtype == MEC_F32 && b.dtype == MEC_F32);
        if (a.data && b.data)
            for (int64_t i = 0; i < mec_tensor_numel(&a); i++) CHECK(mec_tensor_get_f64(&a, i) == mec_tensor_get_f64(&b, i));
        if (a.data) {
            float v = (float)(get_q(in[0], 0) - get_q(in[2], 0)) * *(float *)in[1]->data +
                      (float)(get_q(in[3], 0) - get_q(in[5], 0)) * *(float *)in[4]->data;
            if (it & 4 && !(v > 0)) v = 0;
            CHECK(((float *)a.data)[0] == v);
        }
        /* channels-last operands (as the QConvs leave them): the fast loop over raw memory */
        mec_tensor *nh[2];
        for (int k = 0; k < 2; k++) {
            nh[k] = tensor(in[3 * k]->dtype, 4, shape);
            nhwc_strides(shape, nh[k]->strides);
            copy_values(nh[k], in[3 * k]);
        }
        mec_tensor *in_nhwc[6] = {nh[0], in[1], in[2], nh[1], in[4], in[5]}, c;
        CHECK_OK(run_kernel(g, 0, 1, "auto", 6, in_nhwc, &c, 0x36));
        if (a.data && c.data)
            for (int64_t i = 0; i < mec_tensor_numel(&a); i++) CHECK(mec_tensor_get_f64(&a, i) == mec_tensor_get_f64(&c, i));
        mec_tensor_release(&a);
        mec_tensor_release(&b);
        mec_tensor_release(&c);
        mec_graph_destroy(g);
        g = one_node("QAdd", "mec", 13, 7);
        CHECK(run_kernel(g, 0, 1, "ref", 7, in, &a, 0x76) == MEC_ERR_INVALID_ARG);
        CHECK(strstr(mec_last_error(), "y_scale without y_zero_point") != NULL);
        mec_graph_destroy(g);
        for (int k = 0; k < 2; k++) mec_tensor_destroy(nh[k]);
        for (int k = 0; k < 7; k++) mec_tensor_destroy(in[k]);
    }
    for (int variant = 0; variant < 3; variant++) {
        /* 0: Add → Relu → y; 1: Add → y; 2: Add → Relu, and the sum read again:
         * y = Relu(sum) + sum (a float Add) */
        mec_graph_create("qadd_float", &qg);
        mec_graph_set_opset(qg, "", 13);
        int64_t xs[] = {1, 16, 5, 5};
        mec_graph_add_input(qg, "x", MEC_F32, 4, xs, NULL, NULL);
        char a_dq[64], b_dq[64];
        qdq("x", 0.05f, 128, a_dq);
        add("Identity", 1, (const char *[]){"x"}, "x2");
        qdq_t("x2", MEC_I8, 0.03f, -3, b_dq);
        add("Add", 2, (const char *[]){a_dq, b_dq}, variant == 1 ? "y" : "sum");
        if (variant != 1) add("Relu", 1, (const char *[]){"sum"}, variant == 2 ? "r" : "y");
        if (variant == 2) add("Add", 2, (const char *[]){"r", "sum"}, "y");
        mec_graph_add_output(qg, "y", NULL);
        mec_tensor *x = tensor(MEC_F32, 4, xs);
        for (int64_t i = 0; i < mec_tensor_numel(x); i++) ((float *)x->data)[i] = frand(-3.0f, 3.0f);
        mec_graph *opt = NULL;
        mec_tensor *ref = run_sess(qg, false, "ref", x, NULL), *fast = run_sess(qg, true, "auto", x, &opt);
        if (opt) {
            CHECK(count_op(opt, "QAdd") == 1 && count_op(opt, "Add") == (variant == 2 ? 1 : 0));
            CHECK(count_op(opt, "Relu") == (variant == 2 ? 1 : 0));
            for (int k = 0; k < opt->n_nodes; k++)
                if (!strcmp(opt->nodes[k].op_type, "QAdd")) CHECK(opt->nodes[k].n_in == 6);
            mec_graph_destroy(opt);
        }
        CHECK(ref && fast && mec_tensor_same_shape(ref, fast));
        if (ref && fast)
            for (int64_t i = 0; i < mec_tensor_numel(ref); i++) CHECK(((float *)ref->data)[i] == ((float *)fast->data)[i]);
        mec_tensor_destroy(ref);
        mec_tensor_destroy(fast);
        mec_tensor_destroy(x);
        mec_graph_destroy(qg);
        qg = NULL;
    }
}

int main(void) {
    RUN(test_qconv_fast_vs_ref);
    RUN(test_qadd_fast_vs_ref);
    RUN(test_maxpool_int8_fast_vs_ref);
    RUN(test_quantize_linear_fast_vs_ref);
    RUN(test_qmatmul_ref_by_hand);
    RUN(test_qmatmul_fast_vs_ref);
    RUN(test_qmatmul_fallback);
    RUN(test_qdq_pass);
    RUN(test_qdq_matmul_pass);
    RUN(test_qdq_matmul_alloc_failures);
    RUN(test_qdq_left_alone);
    /* after the tests above, whose random inputs stay what they were */
    RUN(test_qconv_sum_ref_by_hand);
    RUN(test_qconv_sum_fast_vs_ref);
    RUN(test_qconv_sum_fallback);
    RUN(test_qconv_sum_bad_inputs);
    RUN(test_qdq_residual_pass);
    RUN(test_qdq_residual_alloc_failures);
    RUN(test_qadd_float);
    return TEST_SUMMARY();
}
