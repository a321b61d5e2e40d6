/* Reference vs fast: every oneDNN kernel (impl "dnnl") against the reference
 * kernel on seeded random shapes, through op_harness (per-run weight packing,
 * contiguous output) and through a runner that marks constants (weights
 * packed once) and keeps the kernel's channels-last output strides; channels-
 * last (NHWC-strided) inputs; fallbacks; and a small session, auto vs ref. */
#include "mec/runtime.h"
#include "op_harness.h"
#include "test.h"

#include <stdint.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float frand(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) & 0xffffff) / (float)0x800000 - 1.0f;
}

static mec_tensor *rand_f32(int ndim, const int64_t *shape) {
    mec_tensor *t = oh_f32(ndim, shape, NULL);
    if (!t) return NULL;
    float *v = t->data;
    for (int64_t i = 0; i < mec_tensor_numel(t); i++) v[i] = frand();
    return t;
}

/* The same values as the contiguous 4-D t, stored channels-last. */
static mec_tensor *to_nhwc(const mec_tensor *t) {
    mec_tensor *r = oh_f32(t->ndim, t->shape, NULL);
    if (!r) return NULL;
    const int64_t *s = t->shape;
    r->strides[1] = 1;
    r->strides[3] = s[1];
    r->strides[2] = s[3] * s[1];
    r->strides[0] = s[2] * s[3] * s[1];
    const float *src = t->data;
    float *dst = r->data;
    for (int64_t n = 0; n < s[0]; n++)
        for (int64_t c = 0; c < s[1]; c++)
            for (int64_t h = 0; h < s[2]; h++)
                for (int64_t w = 0; w < s[3]; w++)
                    dst[n * r->strides[0] + c + h * r->strides[2] + w * s[1]] =
                        src[((n * s[1] + c) * s[2] + h) * s[3] + w];
    return r;
}

/* A one-node graph; domain "mec" for the fused ops. */
static mec_graph *node_graph(const char *op, const char *domain, int64_t opset, int n_in, int n_out,
                             int *node) {
    mec_graph *g = NULL;
    if (oh_node(&g, node, op, opset, n_in, n_out)) return NULL;
    if (domain[0]) {
        mec_free(g->nodes[*node].domain);
        g->nodes[*node].domain = mec_strdup(domain);
        mec_graph_set_opset(g, domain, 1);
    }
    return g;
}

/* The mec_conv_algo run_kernel gives kernels (tests of Winograd set it). */
static int conv_algo = MEC_CONV_ALGO_AUTO;

/* Runs kernel `impl` with const_inputs = const_mask; with keep_layout the
 * output keeps the strides infer gave it (channels-last for the dnnl conv). */
static mec_status run_kernel(mec_graph *g, int node, int64_t opset, const char *impl, int n_in,
                             mec_tensor *const *in, int n_out, mec_tensor *out, uint32_t const_mask,
                             bool keep_layout, const mec_kernel **used) {
    const mec_node *nd = &g->nodes[node];
    const mec_kernel *k = mec_op_find(nd->domain, nd->op_type, opset, impl);
    if (used) *used = k;
    if (!k) return mec_error(MEC_ERR_UNSUPPORTED, "no %s kernel for %s", impl, nd->op_type);
    mec_tensor *outp[8];
    for (int i = 0; i < n_out; i++) {
        memset(&out[i], 0, sizeof out[i]);
        outp[i] = &out[i];
    }
    mec_op_ctx ctx = {g, node, nd, opset, n_in, (const mec_tensor *const *)in, n_out, outp,
                      NULL, NULL, 0, const_mask, 0, conv_algo};
    mec_status st = k->infer(&ctx);
    if (st) return st;
    for (int i = 0; i < n_out; i++) {
        if (keep_layout) {
            size_t bytes = mec_tensor_bytes(&out[i]);
            out[i].owned = out[i].data = mec_malloc(bytes);
            out[i].capacity = bytes;
            if (!out[i].data) return MEC_ERR_NOMEM;
        } else if ((st = mec_tensor_alloc(&out[i]))) {
            return st;
        }
    }
    void *state = NULL;
    size_t scratch = 0;
    if (k->prepare && (st = k->prepare(&ctx, &state, &scratch))) return st;
    void *mem = scratch ? mec_malloc(scratch) : NULL;
    if (scratch && !mem) return MEC_ERR_NOMEM;
    ctx.state = state;
    ctx.scratch = mem;
    ctx.scratch_bytes = scratch;
    st = k->exec(&ctx);
    mec_free(mem);
    if (k->release && state) k->release(state);
    return st;
}

/* |fast - ref| <= 1e-4 |ref| + 1e-5 max|ref| everywhere (any strides). */
static bool close_to(const mec_tensor *fast, const mec_tensor *ref, const char *what) {
    if (!mec_tensor_same_shape(fast, ref)) {
        fprintf(stderr, "  %s: shapes differ\n", what);
        return false;
    }
    int64_t n = mec_tensor_numel(ref);
    double mx = 0;
    for (int64_t i = 0; i < n; i++) {
        double r = fabs(mec_tensor_get_f64(ref, i));
        if (r > mx) mx = r;
    }
    for (int64_t i = 0; i < n; i++) {
        double a = mec_tensor_get_f64(fast, i), b = mec_tensor_get_f64(ref, i);
        if (!(fabs(a - b) <= 1e-4 * fabs(b) + 1e-5 * mx)) {
            fprintf(stderr, "  %s: element %lld is %.9g, reference %.9g (max|ref| %g)\n", what,
                    (long long)i, a, b, mx);
            return false;
        }
    }
    return true;
}

/* Runs the node with "ref" and with "dnnl" three ways: op_harness (weights
 * not constant, contiguous output), constants marked with the kernel's own
 * output layout, and (nhwc_in >= 0) with input nhwc_in stored channels-last. */
static void check_fast(mec_graph *g, int node, int64_t opset, int n_in, mec_tensor **in,
                       uint32_t const_mask, int nhwc_in, const char *what) {
    mec_tensor ref[2], fast[2];
    int n_out = 1;
    CHECK_OK(oh_run(g, node, opset, "ref", n_in, in, n_out, ref));
    const mec_kernel *k = NULL;
    CHECK_OK(oh_run(g, node, opset, "dnnl", n_in, in, n_out, fast));
    CHECK(close_to(&fast[0], &ref[0], what));
    mec_tensor_release(&fast[0]);
    CHECK_OK(run_kernel(g, node, opset, "dnnl", n_in, in, n_out, fast, const_mask, true, &k));
    CHECK(k && !strcmp(k->impl, "dnnl"));
    CHECK(close_to(&fast[0], &ref[0], what));
    mec_tensor_release(&fast[0]);
    if (nhwc_in >= 0) {
        mec_tensor *orig = in[nhwc_in], *t = to_nhwc(orig);
        in[nhwc_in] = t;
        CHECK_OK(run_kernel(g, node, opset, "dnnl", n_in, in, n_out, fast, const_mask, true, NULL));
        CHECK(close_to(&fast[0], &ref[0], what));
        mec_tensor_release(&fast[0]);
        CHECK_OK(run_kernel(g, node, opset, "dnnl", n_in, in, n_out, fast, 0, false, NULL));
        CHECK(close_to(&fast[0], &ref[0], what));
        mec_tensor_release(&fast[0]);
        in[nhwc_in] = orig;
        mec_tensor_destroy(t);
    }
    mec_tensor_release(&ref[0]);
}

/* ------------------------------------------------------------------ conv */

typedef struct conv_case {
    int64_t n, c, h, w, m, kh, kw, group, sh, sw, dh, dw;
    int64_t pads[4];
    const char *auto_pad;
    bool bias;
} conv_case;

static const conv_case conv_cases[] = {
    {1, 3, 17, 19, 8, 3, 3, 1, 1, 1, 1, 1, {1, 1, 1, 1}, NULL, true},
    {2, 16, 15, 15, 32, 1, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, NULL, false},          /* 1x1 */
    {1, 3, 32, 32, 16, 7, 7, 1, 2, 2, 1, 1, {3, 3, 3, 3}, NULL, true},            /* 7x7/2 stem */
    {1, 32, 14, 14, 32, 3, 3, 32, 1, 1, 1, 1, {1, 1, 1, 1}, NULL, true},          /* depthwise */
    {1, 64, 9, 9, 64, 3, 3, 32, 2, 2, 1, 1, {1, 1, 1, 1}, NULL, false},           /* ResNeXt 32 groups */
    {1, 8, 20, 20, 8, 3, 3, 1, 1, 1, 2, 2, {2, 2, 2, 2}, NULL, true},             /* dilation 2 */
    {1, 8, 24, 24, 4, 3, 3, 1, 1, 1, 4, 4, {4, 4, 4, 4}, NULL, true},             /* dilation 4 */
    {1, 5, 11, 13, 6, 3, 2, 1, 2, 1, 1, 1, {0, 1, 2, 0}, NULL, true},             /* asymmetric pads */
    {1, 4, 10, 11, 5, 3, 3, 1, 2, 2, 1, 1, {0, 0, 0, 0}, "SAME_UPPER", true},
    {1, 4, 9, 9, 5, 4, 4, 1, 1, 1, 1, 1, {0, 0, 0, 0}, "SAME_LOWER", false},
    {1, 4, 9, 10, 5, 3, 3, 1, 1, 1, 1, 1, {0, 0, 0, 0}, "VALID", true},
    {2, 6, 16, 16, 12, 5, 5, 1, 3, 3, 1, 1, {2, 1, 2, 1}, NULL, true},            /* 5x5 stride 3 */
    {1, 64, 8, 8, 128, 1, 1, 4, 2, 2, 1, 1, {0, 0, 0, 0}, NULL, true},            /* grouped 1x1/2 */
    {1, 256, 7, 7, 64, 1, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, NULL, true},            /* bottleneck 1x1 */
    /* Winograd (with constant weights): plain, dilated 2 and 4 (as sub-grid
     * batches), channels oneDNN pads to its blocks */
    {1, 32, 20, 20, 48, 3, 3, 1, 1, 1, 1, 1, {1, 1, 1, 1}, NULL, true},
    {1, 16, 24, 24, 32, 3, 3, 1, 1, 1, 2, 2, {2, 2, 2, 2}, NULL, true},
    {2, 16, 32, 32, 16, 3, 3, 1, 1, 1, 4, 4, {4, 4, 4, 4}, NULL, false},
    {1, 24, 9, 11, 40, 3, 3, 1, 1, 1, 1, 1, {1, 1, 1, 1}, NULL, true},
};

enum { WINO_FIRST = 14 }; /* conv_cases[14..]: the Winograd ones */

static mec_graph *conv_graph(const conv_case *cc, const char *op, const char *domain, int n_in,
                             int *node) {
    mec_graph *g = node_graph(op, domain, domain[0] ? 1 : 11, n_in, 1, node);
    if (!g) return NULL;
    int64_t ks[2] = {cc->kh, cc->kw}, st[2] = {cc->sh, cc->sw}, dl[2] = {cc->dh, cc->dw};
    mec_node_set_ints(g, *node, "kernel_shape", 2, ks);
    mec_node_set_ints(g, *node, "strides", 2, st);
    mec_node_set_ints(g, *node, "dilations", 2, dl);
    mec_node_set_int(g, *node, "group", cc->group);
    if (cc->auto_pad) mec_node_set_string(g, *node, "auto_pad", cc->auto_pad);
    else mec_node_set_ints(g, *node, "pads", 4, cc->pads);
    return g;
}

static void conv_inputs(const conv_case *cc, mec_tensor **in) {
    int64_t xs[4] = {cc->n, cc->c, cc->h, cc->w}, ws[4] = {cc->m, cc->c / cc->group, cc->kh, cc->kw};
    int64_t bs[1] = {cc->m};
    in[0] = rand_f32(4, xs);
    in[1] = rand_f32(4, ws);
    in[2] = cc->bias ? rand_f32(1, bs) : NULL;
}

static void test_conv_configs(void) {
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
        const conv_case *cc = &conv_cases[i];
        int node;
        mec_graph *g = conv_graph(cc, "Conv", "", 3, &node);
        mec_tensor *in[3];
        conv_inputs(cc, in);
        char what[64];
        snprintf(what, sizeof what, "conv case %zu", i);
        check_fast(g, node, 11, 3, in, 0x2 | 0x4, 0, what);
        for (int j = 0; j < 3; j++) mec_tensor_destroy(in[j]);
        mec_graph_destroy(g);
    }
}

static void test_conv_output_is_nhwc(void) {
    const conv_case *cc = &conv_cases[0];
    int node;
    mec_graph *g = conv_graph(cc, "Conv", "", 3, &node);
    mec_tensor *in[3], out[1];
    conv_inputs(cc, in);
    CHECK_OK(run_kernel(g, node, 11, "dnnl", 3, in, 1, out, 0x6, true, NULL));
    /* (1, 8, 17, 19) channels-last */
    CHECK(out[0].strides[1] == 1 && out[0].strides[3] == 8 && out[0].strides[2] == 19 * 8 &&
          out[0].strides[0] == 17 * 19 * 8);
    mec_tensor_release(&out[0]);
    for (int j = 0; j < 3; j++) mec_tensor_destroy(in[j]);
    mec_graph_destroy(g);
}

static void test_fused_conv(void) {
    static const char *acts[] = {"Relu", "", "Relu"};
    for (int variant = 0; variant < 6; variant++) {
        const conv_case *cc = &conv_cases[variant % 2 ? 13 : 0];
        bool with_sum = variant != 1, broadcast_sum = variant == 4;
        int node;
        mec_graph *g = conv_graph(cc, "FusedConv", "mec", with_sum ? 4 : 3, &node);
        mec_node_set_string(g, node, "activation", acts[variant % 3]);
        mec_tensor *in[4];
        conv_inputs(cc, in);
        int64_t ys[4] = {cc->n, cc->m, 0, 0};
        ys[2] = (cc->h + cc->pads[0] + cc->pads[2] - cc->kh) / cc->sh + 1;
        ys[3] = (cc->w + cc->pads[1] + cc->pads[3] - cc->kw) / cc->sw + 1;
        if (broadcast_sum) ys[2] = ys[3] = 1;
        in[3] = with_sum ? rand_f32(4, ys) : NULL;
        char what[64];
        snprintf(what, sizeof what, "fused conv variant %d", variant);
        /* residual channels-last too (as a previous conv leaves it) */
        check_fast(g, node, 1, with_sum ? 4 : 3, in, 0x6, 0, what);
        if (with_sum && !broadcast_sum) check_fast(g, node, 1, 4, in, 0x6, 3, what);
        if (variant == 5) check_fast(g, node, 1, 4, in, 0x0, 3, what); /* nothing constant */
        for (int j = 0; j < 4; j++) mec_tensor_destroy(in[j]);
        mec_graph_destroy(g);
    }
}

/* Winograd cases under each mec_conv_algo: every one within tolerance of
 * the reference; auto and winograd compute the same, direct summation
 * differently (bits differ: proof that the transform ran); a dilated case
 * whose size is not a multiple of the dilation runs direct under every
 * algorithm (same bits). */
static void test_conv_winograd(void) {
    const int algos[3] = {MEC_CONV_ALGO_DIRECT, MEC_CONV_ALGO_AUTO, MEC_CONV_ALGO_WINOGRAD};
    size_t n_cases = sizeof conv_cases / sizeof conv_cases[0];
    for (size_t i = WINO_FIRST; i <= n_cases; i++) {
        conv_case cc = conv_cases[i < n_cases ? i : WINO_FIRST + 1];
        if (i == n_cases) cc.h = 23; /* not a multiple of the dilation 2 */
        int node;
        mec_graph *g = conv_graph(&cc, "Conv", "", 3, &node);
        mec_tensor *in[3], ref[1], out[3][1];
        conv_inputs(&cc, in);
        char what[64];
        snprintf(what, sizeof what, "winograd case %zu", i);
        CHECK_OK(oh_run(g, node, 11, "ref", 3, in, 1, ref));
        for (int a = 0; a < 3; a++) {
            conv_algo = algos[a];
            CHECK_OK(run_kernel(g, node, 11, "dnnl", 3, in, 1, out[a], 0x6, false, NULL));
            CHECK(close_to(&out[a][0], &ref[0], what));
        }
        conv_algo = MEC_CONV_ALGO_AUTO;
        size_t bytes = mec_tensor_bytes(&ref[0]);
        bool direct_same = !memcmp(out[0][0].data, out[1][0].data, bytes);
        CHECK(i == n_cases ? direct_same : !direct_same);
        CHECK(!memcmp(out[1][0].data, out[2][0].data, bytes));
        /* weights not constant: no Winograd (they would be transformed every run) */
        mec_tensor plain[1];
        CHECK_OK(run_kernel(g, node, 11, "dnnl", 3, in, 1, plain, 0x0, false, NULL));
        CHECK(!memcmp(plain[0].data, out[0][0].data, bytes));
        mec_tensor_release(&plain[0]);
        for (int a = 0; a < 3; a++)
            mec_tensor_release(&out[a][0]);
        mec_tensor_release(&ref[0]);
        for (int j = 0; j < 3; j++)
            mec_tensor_destroy(in[j]);
        mec_graph_destroy(g);
    }
}

/* Fused Winograd: bias, residual (channels-last or not), ReLU, dilated. */
static void test_fused_conv_winograd(void) {
    for (int variant = 0; variant < 4; variant++) {
        const conv_case *cc = &conv_cases[WINO_FIRST + variant % 2];
        int node;
        mec_graph *g = conv_graph(cc, "FusedConv", "mec", 4, &node);
        mec_node_set_string(g, node, "activation", variant < 2 ? "Relu" : "");
        mec_tensor *in[4];
        conv_inputs(cc, in);
        int64_t ys[4] = {cc->n, cc->m, cc->h, cc->w};
        in[3] = rand_f32(4, ys);
        char what[64];
        snprintf(what, sizeof what, "fused winograd variant %d", variant);
        check_fast(g, node, 1, 4, in, 0x6, 3, what);
        check_fast(g, node, 1, 4, in, 0x6, 0, what);
        for (int j = 0; j < 4; j++)
            mec_tensor_destroy(in[j]);
        mec_graph_destroy(g);
    }
}

/* 1-D and 3-D convs are not oneDNN's here: the reference runs behind "dnnl". */
static void test_conv_fallback_ranks(void) {
    for (int nsp = 1; nsp <= 3; nsp += 2) {
        int node;
        mec_graph *g = node_graph("Conv", "", 11, 3, 1, &node);
        int64_t pads[6] = {1, 1, 1, 1, 1, 1};
        mec_node_set_ints(g, node, "pads", 2 * nsp, pads);
        int64_t xs[5] = {2, 4, 7, 6, 5}, ws[5] = {3, 4, 3, 3, 3}, bs[1] = {3};
        mec_tensor *in[3] = {rand_f32(2 + nsp, xs), rand_f32(2 + nsp, ws), rand_f32(1, bs)};
        check_fast(g, node, 11, 3, in, 0x6, -1, nsp == 1 ? "conv 1-D" : "conv 3-D");
        for (int j = 0; j < 3; j++) mec_tensor_destroy(in[j]);
        mec_graph_destroy(g);
    }
}

/* ------------------------------------------------------------------ pool */

typedef struct pool_case {
    const char *op;
    int64_t n, c, h, w, kh, kw, sh, sw, dh, dw;
    int64_t pads[4];
    int64_t ceil_mode, count_include_pad;
    const char *auto_pad;
} pool_case;

static const pool_case pool_cases[] = {
    {"MaxPool", 1, 16, 32, 32, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 0, 0, NULL},        /* ResNet stem */
    {"MaxPool", 2, 8, 13, 14, 3, 3, 2, 2, 1, 1, {0, 0, 0, 0}, 1, 0, NULL},         /* ceil_mode */
    {"MaxPool", 1, 8, 15, 15, 3, 3, 1, 1, 2, 2, {2, 2, 2, 2}, 0, 0, NULL},         /* dilation */
    {"MaxPool", 1, 5, 10, 11, 2, 3, 2, 2, 1, 1, {0, 0, 0, 0}, 0, 0, "SAME_UPPER"},
    {"AveragePool", 1, 16, 14, 14, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 0, 0, NULL},    /* exclude pad */
    {"AveragePool", 1, 16, 14, 14, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 0, 1, NULL},    /* include pad */
    {"AveragePool", 2, 8, 13, 14, 3, 3, 2, 2, 1, 1, {1, 0, 1, 0}, 1, 0, NULL},     /* ceil, exclude */
    {"AveragePool", 2, 8, 12, 12, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1, 1, NULL},     /* ceil, include: fallback */
    {"AveragePool", 1, 6, 9, 9, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, 0, 0, "SAME_LOWER"},
    {"GlobalAveragePool", 2, 64, 7, 7, 0, 0, 0, 0, 0, 0, {0, 0, 0, 0}, 0, 0, NULL},
    {"GlobalMaxPool", 2, 24, 5, 6, 0, 0, 0, 0, 0, 0, {0, 0, 0, 0}, 0, 0, NULL},
    /* ResNet-50's head: big enough for the threaded plain-layout loop */
    {"GlobalAveragePool", 1, 2048, 7, 7, 0, 0, 0, 0, 0, 0, {0, 0, 0, 0}, 0, 0, NULL},
    {"GlobalMaxPool", 1, 1024, 9, 5, 0, 0, 0, 0, 0, 0, {0, 0, 0, 0}, 0, 0, NULL},
};

static void test_pools(void) {
    for (size_t i = 0; i < sizeof pool_cases / sizeof pool_cases[0]; i++) {
        const pool_case *pc = &pool_cases[i];
        int node;
        mec_graph *g = node_graph(pc->op, "", 12, 1, 1, &node);
        if (strncmp(pc->op, "Global", 6)) {
            int64_t ks[2] = {pc->kh, pc->kw}, st[2] = {pc->sh, pc->sw}, dl[2] = {pc->dh, pc->dw};
            mec_node_set_ints(g, node, "kernel_shape", 2, ks);
            mec_node_set_ints(g, node, "strides", 2, st);
            if (pc->dh != 1 || pc->dw != 1) mec_node_set_ints(g, node, "dilations", 2, dl);
            if (pc->auto_pad) mec_node_set_string(g, node, "auto_pad", pc->auto_pad);
            else mec_node_set_ints(g, node, "pads", 4, pc->pads);
            mec_node_set_int(g, node, "ceil_mode", pc->ceil_mode);
            if (!strcmp(pc->op, "AveragePool"))
                mec_node_set_int(g, node, "count_include_pad", pc->count_include_pad);
        }
        int64_t xs[4] = {pc->n, pc->c, pc->h, pc->w};
        mec_tensor *in[1] = {rand_f32(4, xs)};
        char what[64];
        snprintf(what, sizeof what, "pool case %zu (%s)", i, pc->op);
        check_fast(g, node, 12, 1, in, 0, 0, what);
        mec_tensor_destroy(in[0]);
        mec_graph_destroy(g);
    }
}

/* channels-last in gives channels-last out, so pools keep the layout. */
static void test_pool_keeps_nhwc(void) {
    const pool_case *pc = &pool_cases[0];
    int node;
    mec_graph *g = node_graph(pc->op, "", 12, 1, 1, &node);
    int64_t ks[2] = {3, 3}, st[2] = {2, 2};
    mec_node_set_ints(g, node, "kernel_shape", 2, ks);
    mec_node_set_ints(g, node, "strides", 2, st);
    mec_node_set_ints(g, node, "pads", 4, pc->pads);
    int64_t xs[4] = {pc->n, pc->c, pc->h, pc->w};
    mec_tensor *x = rand_f32(4, xs), *xn = to_nhwc(x), out[1];
    mec_tensor *in[1] = {xn};
    CHECK_OK(run_kernel(g, node, 12, "dnnl", 1, in, 1, out, 0, true, NULL));
    CHECK(out[0].strides[1] == 1 && out[0].strides[3] == 16);
    mec_tensor_release(&out[0]);
    in[0] = x;
    CHECK_OK(run_kernel(g, node, 12, "dnnl", 1, in, 1, out, 0, true, NULL));
    CHECK(mec_tensor_is_contiguous(&out[0]));
    mec_tensor_release(&out[0]);
    mec_tensor_destroy(x);
    mec_tensor_destroy(xn);
    mec_graph_destroy(g);
}

/* MaxPool with Indices runs the reference behind "dnnl", also from NHWC. */
static void test_maxpool_indices_fallback(void) {
    int node;
    mec_graph *g = node_graph("MaxPool", "", 12, 1, 2, &node);
    int64_t ks[2] = {2, 2}, st[2] = {2, 2};
    mec_node_set_ints(g, node, "kernel_shape", 2, ks);
    mec_node_set_ints(g, node, "strides", 2, st);
    int64_t xs[4] = {1, 3, 6, 8};
    mec_tensor *x = rand_f32(4, xs), *xn = to_nhwc(x);
    mec_tensor *in[1] = {x}, ref[2], fast[2];
    CHECK_OK(oh_run(g, node, 12, "ref", 1, in, 2, ref));
    in[0] = xn;
    CHECK_OK(run_kernel(g, node, 12, "dnnl", 1, in, 2, fast, 0, true, NULL));
    CHECK(close_to(&fast[0], &ref[0], "maxpool values"));
    for (int64_t i = 0; i < mec_tensor_numel(&ref[1]); i++)
        CHECK(mec_tensor_get_i64(&fast[1], i) == mec_tensor_get_i64(&ref[1], i));
    for (int j = 0; j < 2; j++) {
        mec_tensor_release(&ref[j]);
        mec_tensor_release(&fast[j]);
    }
    mec_tensor_destroy(x);
    mec_tensor_destroy(xn);
    mec_graph_destroy(g);
}

/* ---------------------------------------------------------------- matmul */

static void test_matmul(void) {
    static const struct {
        int an, bn;
        int64_t a[4], b[4];
    } cases[] = {
        {2, 2, {33, 47}, {47, 29}},
        {3, 2, {4, 10, 24}, {24, 17}},               /* batched A, shared B */
        {3, 3, {3, 9, 16}, {3, 16, 11}},             /* batched */
        {4, 4, {2, 4, 16, 8}, {2, 4, 8, 16}},        /* attention scores */
        {4, 4, {2, 1, 5, 6}, {1, 3, 6, 7}},          /* broadcast both ways */
        {2, 3, {5, 6}, {4, 6, 3}},                   /* 2-D A, batched B */
        {1, 2, {12}, {12, 5}},                       /* 1-D A */
        {3, 1, {2, 7, 12}, {12}},                    /* 1-D B */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int node;
        mec_graph *g = node_graph("MatMul", "", 13, 2, 1, &node);
        mec_tensor *in[2] = {rand_f32(cases[i].an, cases[i].a), rand_f32(cases[i].bn, cases[i].b)};
        char what[64];
        snprintf(what, sizeof what, "matmul case %zu", i);
        check_fast(g, node, 13, 2, in, 0x2, -1, what);
        check_fast(g, node, 13, 2, in, 0x0, -1, what);
        mec_tensor_destroy(in[0]);
        mec_tensor_destroy(in[1]);
        mec_graph_destroy(g);
    }
}

static void test_fused_matmul(void) {
    static const char *acts[] = {"", "Relu", "Gelu"};
    for (int a = 0; a < 3; a++) {
        int node;
        mec_graph *g = node_graph("FusedMatMul", "mec", 1, 3, 1, &node);
        mec_node_set_string(g, node, "activation", acts[a]);
        int64_t as[3] = {2, 13, 32}, bs[2] = {32, 48}, cs[1] = {48};
        mec_tensor *in[3] = {rand_f32(3, as), rand_f32(2, bs), rand_f32(1, cs)};
        char what[64];
        snprintf(what, sizeof what, "fused matmul '%s'", acts[a]);
        check_fast(g, node, 1, 3, in, 0x6, -1, what);
        for (int j = 0; j < 3; j++) mec_tensor_destroy(in[j]);
        mec_graph_destroy(g);
    }
}

static void test_gemm(void) {
    static const struct {
        int ta, tb;
        float alpha, beta;
        int cn;
        int64_t c[2];
    } cases[] = {
        {0, 0, 1.0f, 1.0f, 1, {19}},          /* bias row */
        {1, 0, 1.0f, 1.0f, 2, {1, 19}},
        {0, 1, 1.0f, 1.0f, 2, {11, 19}},      /* full C */
        {1, 1, 0.5f, 2.0f, 2, {11, 1}},       /* column C, alpha/beta */
        {0, 1, 1.0f, 1.0f, 0, {0}},           /* no C */
        {0, 0, 2.0f, 0.0f, 1, {19}},          /* beta 0 */
        {0, 1, 1.5f, 1.0f, 1, {1}},           /* scalar C */
        {1, 0, 1.0f, -1.0f, 2, {11, 19}},
        {0, 0, 1.0f, 0.5f, 2, {1, 19}},       /* beta only (ONNX test_gemm_beta) */
        {1, 1, 0.25f, 0.35f, 2, {1, 19}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int node, n_in = cases[i].cn ? 3 : 2;
        mec_graph *g = node_graph("Gemm", "", 13, n_in, 1, &node);
        mec_node_set_int(g, node, "transA", cases[i].ta);
        mec_node_set_int(g, node, "transB", cases[i].tb);
        mec_node_set_float(g, node, "alpha", cases[i].alpha);
        mec_node_set_float(g, node, "beta", cases[i].beta);
        int64_t M = 11, N = 19, K = 23;
        int64_t as[2] = {cases[i].ta ? K : M, cases[i].ta ? M : K};
        int64_t bs[2] = {cases[i].tb ? N : K, cases[i].tb ? K : N};
        mec_tensor *in[3] = {rand_f32(2, as), rand_f32(2, bs),
                             cases[i].cn ? rand_f32(cases[i].cn, cases[i].c) : NULL};
        char what[64];
        snprintf(what, sizeof what, "gemm case %zu", i);
        check_fast(g, node, 13, n_in, in, 0x6, -1, what);
        check_fast(g, node, 13, n_in, in, 0x0, -1, what);
        for (int j = 0; j < 3; j++) mec_tensor_destroy(in[j]);
        mec_graph_destroy(g);
    }
}

/* Integer MatMul is the reference's: "dnnl" must still run it exactly. */
static void test_matmul_int_fallback(void) {
    int node;
    mec_graph *g = node_graph("MatMul", "", 13, 2, 1, &node);
    int64_t as[2] = {3, 4}, bs[2] = {4, 2};
    int64_t av[12], bv[8];
    for (int i = 0; i < 12; i++) av[i] = i - 5;
    for (int i = 0; i < 8; i++) bv[i] = 2 * i - 7;
    mec_tensor *in[2] = {oh_i64(2, as, av), oh_i64(2, bs, bv)}, ref[1], fast[1];
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, ref));
    CHECK_OK(oh_run(g, node, 13, "dnnl", 2, in, 1, fast));
    for (int i = 0; i < 6; i++) CHECK(mec_tensor_get_i64(&fast[0], i) == mec_tensor_get_i64(&ref[0], i));
    mec_tensor_release(&ref[0]);
    mec_tensor_release(&fast[0]);
    mec_tensor_destroy(in[0]);
    mec_tensor_destroy(in[1]);
    mec_graph_destroy(g);
}

/* ---------------------------------------------------------------- session */

static void add_param(mec_graph *g, const char *name, int nd, const int64_t *shape) {
    mec_graph_add_initializer(g, name, rand_f32(nd, shape), NULL);
}

/* x → Conv3x3 → Relu → Conv1x1 → Add(residual) → Relu → MaxPool → Conv(g=2)
 *   → Sigmoid (not strided: gets a contiguous copy) → GlobalAveragePool
 *   → Flatten → Gemm: auto (dnnl, fused, channels-last) vs ref. */
static void test_session_auto_vs_ref(void) {
    mec_graph *g = NULL;
    CHECK_OK(mec_graph_create("net", &g));
    mec_graph_set_opset(g, "", 13);
    int64_t xs[4] = {2, 3, 20, 20};
    mec_graph_add_input(g, "x", MEC_F32, 4, xs, NULL, NULL);
    int64_t w1[4] = {8, 3, 3, 3}, b8[1] = {8}, w2[4] = {8, 8, 1, 1}, w3[4] = {6, 4, 3, 3}, b6[1] = {6};
    int64_t fw[2] = {4, 6}, fb[1] = {4};
    add_param(g, "w1", 4, w1);
    add_param(g, "b1", 1, b8);
    add_param(g, "w2", 4, w2);
    add_param(g, "w3", 4, w3);
    add_param(g, "b3", 1, b6);
    add_param(g, "fw", 2, fw);
    add_param(g, "fb", 1, fb);
    int n;
    int64_t p1[4] = {1, 1, 1, 1}, k3[2] = {3, 3}, s2[2] = {2, 2};
    const char *c1_in[] = {"x", "w1", "b1"}, *c1_out[] = {"c1"};
    mec_graph_add_node(g, "Conv", "", "conv1", 3, c1_in, 1, c1_out, &n);
    mec_node_set_ints(g, n, "pads", 4, p1);
    const char *r1_in[] = {"c1"}, *r1_out[] = {"r1"};
    mec_graph_add_node(g, "Relu", "", "relu1", 1, r1_in, 1, r1_out, &n);
    const char *c2_in[] = {"r1", "w2"}, *c2_out[] = {"c2"};
    mec_graph_add_node(g, "Conv", "", "conv2", 2, c2_in, 1, c2_out, &n);
    const char *a_in[] = {"c2", "r1"}, *a_out[] = {"a"};
    mec_graph_add_node(g, "Add", "", "add", 2, a_in, 1, a_out, &n);
    const char *r2_in[] = {"a"}, *r2_out[] = {"r2"};
    mec_graph_add_node(g, "Relu", "", "relu2", 1, r2_in, 1, r2_out, &n);
    const char *mp_in[] = {"r2"}, *mp_out[] = {"mp"};
    mec_graph_add_node(g, "MaxPool", "", "pool", 1, mp_in, 1, mp_out, &n);
    mec_node_set_ints(g, n, "kernel_shape", 2, k3);
    mec_node_set_ints(g, n, "strides", 2, s2);
    mec_node_set_ints(g, n, "pads", 4, p1);
    const char *c3_in[] = {"mp", "w3", "b3"}, *c3_out[] = {"c3"};
    mec_graph_add_node(g, "Conv", "", "conv3", 3, c3_in, 1, c3_out, &n);
    mec_node_set_int(g, n, "group", 2);
    const char *sg_in[] = {"c3"}, *sg_out[] = {"sg"};
    mec_graph_add_node(g, "Sigmoid", "", "sig", 1, sg_in, 1, sg_out, &n);
    const char *gp_in[] = {"sg"}, *gp_out[] = {"gp"};
    mec_graph_add_node(g, "GlobalAveragePool", "", "gap", 1, gp_in, 1, gp_out, &n);
    const char *fl_in[] = {"gp"}, *fl_out[] = {"fl"};
    mec_graph_add_node(g, "Flatten", "", "flat", 1, fl_in, 1, fl_out, &n);
    const char *fc_in[] = {"fl", "fw", "fb"}, *fc_out[] = {"y"};
    mec_graph_add_node(g, "Gemm", "", "fc", 3, fc_in, 1, fc_out, &n);
    mec_node_set_int(g, n, "transB", 1);
    mec_graph_add_output(g, "y", NULL);
    mec_graph_add_output(g, "c3", NULL);
    mec_tensor *x = rand_f32(4, xs);
    const char *in_names[] = {"x"};
    const mec_tensor *inputs[] = {x};
    mec_tensor *ref[2] = {0}, *fast[2] = {0};
    const char *impls[] = {"ref", "auto"};
    for (int i = 0; i < 2; i++) {
        mec_sess_options o;
        mec_sess_options_default(&o);
        o.impl = impls[i];
        o.profile = true;
        mec_sess *s = NULL;
        CHECK_OK(mec_sess_create(g, &o, &s));
        if (!s) continue;
        mec_tensor **out = i ? fast : ref;
        CHECK_OK(mec_sess_run(s, 1, in_names, inputs, 2, NULL, out));
        if (i) {
            /* a second run reuses the prepared primitives and packed weights */
            mec_tensor *again[2] = {0};
            CHECK_OK(mec_sess_run(s, 1, in_names, inputs, 2, NULL, again));
            for (int j = 0; j < 2; j++) {
                if (again[j] && fast[j]) CHECK(close_to(again[j], fast[j], "second run"));
                mec_tensor_destroy(again[j]);
            }
            int count = 0, dnnl_nodes = 0;
            const mec_node_profile *pr = mec_sess_profile(s, &count);
            for (int k = 0; k < count; k++) dnnl_nodes += pr[k].runs && pr[k].impl && !strcmp(pr[k].impl, "dnnl");
            CHECK(dnnl_nodes >= 5); /* 3 convs, max pool, global pool, gemm */
        }
        mec_sess_destroy(s);
    }
    for (int j = 0; j < 2; j++) {
        if (ref[j] && fast[j]) {
            CHECK(close_to(fast[j], ref[j], j ? "session c3" : "session y"));
            CHECK(mec_tensor_is_contiguous(fast[j])); /* graph outputs come back contiguous */
        }
        mec_tensor_destroy(ref[j]);
        mec_tensor_destroy(fast[j]);
    }
    mec_tensor_destroy(x);
    mec_graph_destroy(g);
}

/* A residual block whose skip value dies at the fused conv: the conv's
 * output takes over the skip's buffer (MEC_KF_SUM_INPLACE) and must still
 * equal the reference. `keep` makes the skip a graph output too and `reuse`
 * reads it again after the block (both forbid the hand-over); rank 1 runs
 * the reference fallback inside the oneDNN kernel, in place. */
static void residual_case(int rank, bool keep, bool reuse) {
    mec_graph *g = NULL;
    CHECK_OK(mec_graph_create("res", &g));
    mec_graph_set_opset(g, "", 13);
    int64_t xs[4] = {2, 8, 12, 10}, w[4] = {8, 8, 3, 3}, b[1] = {8};
    if (rank == 1) xs[2] = 30;
    mec_graph_add_input(g, "x", MEC_F32, 2 + rank, xs, NULL, NULL);
    add_param(g, "w1", 2 + rank, w);
    add_param(g, "w2", 2 + rank, w);
    add_param(g, "b2", 1, b);
    int n;
    int64_t pads[4] = {1, 1, 1, 1};
    const char *c1_in[] = {"x", "w1"}, *c1_out[] = {"c1"};
    mec_graph_add_node(g, "Conv", "", "conv1", 2, c1_in, 1, c1_out, &n);
    mec_node_set_ints(g, n, "pads", 2 * rank, pads);
    const char *r1_in[] = {"c1"}, *r1_out[] = {"skip"};
    mec_graph_add_node(g, "Relu", "", "relu1", 1, r1_in, 1, r1_out, &n);
    const char *e_in[] = {"skip"}, *e_out[] = {"e"};
    mec_graph_add_node(g, "Exp", "", "exp", 1, e_in, 1, e_out, &n);
    const char *c2_in[] = {"e", "w2", "b2"}, *c2_out[] = {"c2"};
    mec_graph_add_node(g, "Conv", "", "conv2", 3, c2_in, 1, c2_out, &n);
    mec_node_set_ints(g, n, "pads", 2 * rank, pads);
    const char *a_in[] = {"c2", "skip"}, *a_out[] = {"a"};
    mec_graph_add_node(g, "Add", "", "add", 2, a_in, 1, a_out, &n);
    const char *r2_in[] = {"a"}, *r2_out[] = {"y"};
    mec_graph_add_node(g, "Relu", "", "relu2", 1, r2_in, 1, r2_out, &n);
    mec_graph_add_output(g, "y", NULL);
    if (keep) mec_graph_add_output(g, "skip", NULL);
    if (reuse) {
        const char *m_in[] = {"y", "skip"}, *m_out[] = {"z"};
        mec_graph_add_node(g, "Mul", "", "mul", 2, m_in, 1, m_out, &n);
        mec_graph_add_output(g, "z", NULL);
    }
    int n_out = 1 + keep + reuse;
    mec_tensor *x = rand_f32(2 + rank, xs);
    const char *in_names[] = {"x"};
    const mec_tensor *inputs[] = {x};
    mec_tensor *ref[3] = {0}, *fast[3] = {0};
    const char *impls[] = {"ref", "auto"};
    for (int i = 0; i < 2; i++) {
        mec_sess_options o;
        mec_sess_options_default(&o);
        o.impl = impls[i];
        mec_sess *s = NULL;
        CHECK_OK(mec_sess_create(g, &o, &s));
        if (!s) continue;
        mec_tensor **out = i ? fast : ref;
        CHECK_OK(mec_sess_run(s, 1, in_names, inputs, n_out, NULL, out));
        if (i) { /* again: the buffers are reused from the pool */
            for (int j = 0; j < n_out; j++) mec_tensor_destroy(out[j]);
            CHECK_OK(mec_sess_run(s, 1, in_names, inputs, n_out, NULL, out));
            int fused = 0;
            const mec_graph *sg = mec_sess_graph(s);
            for (int k = 0; k < sg->n_nodes; k++) fused += !strcmp(sg->nodes[k].op_type, "FusedConv");
            CHECK(fused >= 1);
        }
        mec_sess_destroy(s);
    }
    for (int j = 0; j < n_out; j++) {
        if (ref[j] && fast[j]) CHECK(close_to(fast[j], ref[j], "residual block"));
        mec_tensor_destroy(ref[j]);
        mec_tensor_destroy(fast[j]);
    }
    mec_tensor_destroy(x);
    mec_graph_destroy(g);
}

static void test_residual_inplace(void) {
    for (int rank = 1; rank <= 2; rank++) {
        residual_case(rank, false, false);
        residual_case(rank, true, false);
        residual_case(rank, false, true);
    }
}

/* x (1, 16, H, W) → Conv1x1 w1 → Conv3x3 w2 → Conv3x3 dilated 2 w3 →
 * Conv3x3 stride 2 w4. Under auto the session frees the model's copy of w1
 * and w4 (the kernels keep packed copies) and keeps w2 and w3 (Winograd may
 * need them again); under direct it frees all four. New H x W prepare again
 * from the kept copies (9 x 9: the dilated conv runs direct) and always
 * agree with the reference, also when allocations fail during such a
 * prepare. An unknown conv_algo is refused. */
static const void *conv_init_data(const mec_sess *s, const char *name) {
    const mec_graph *g = mec_sess_graph(s);
    return g->values[mec_graph_find(g, name)].init->data;
}

static mec_status conv_chain_run(mec_sess *ref, mec_sess *fast, int64_t hw, long fail_after) {
    int64_t xs[4] = {1, 16, hw, hw};
    mec_tensor *x = rand_f32(4, xs), *want = NULL, *got = NULL;
    const char *in_names[] = {"x"};
    const mec_tensor *inputs[] = {x};
    mec_alloc_fail_after(fail_after);
    mec_status st = mec_sess_run(fast, 1, in_names, inputs, 1, NULL, &got);
    mec_alloc_fail_after(-1);
    if (!st && ref) {
        CHECK_OK(mec_sess_run(ref, 1, in_names, inputs, 1, NULL, &want));
        if (want && got) CHECK(close_to(got, want, "conv chain"));
    }
    mec_tensor_destroy(want);
    mec_tensor_destroy(got);
    mec_tensor_destroy(x);
    return st;
}

static void test_conv_weights_freed(void) {
    mec_graph *g = NULL;
    CHECK_OK(mec_graph_create("chain", &g));
    mec_graph_set_opset(g, "", 13);
    int64_t xs[4] = {1, 16, -1, -1}, w1[4] = {16, 16, 1, 1}, w3x3[4] = {16, 16, 3, 3};
    mec_graph_add_input(g, "x", MEC_F32, 4, xs, NULL, NULL);
    add_param(g, "w1", 4, w1);
    add_param(g, "w2", 4, w3x3);
    add_param(g, "w3", 4, w3x3);
    add_param(g, "w4", 4, w3x3);
    int n;
    int64_t p1[4] = {1, 1, 1, 1}, p2[4] = {2, 2, 2, 2}, d2[2] = {2, 2}, s2[2] = {2, 2};
    const char *names[4][3] = {
        {"x", "w1", "c1"}, {"c1", "w2", "c2"}, {"c2", "w3", "c3"}, {"c3", "w4", "y"}};
    for (int i = 0; i < 4; i++) {
        const char *in[2] = {names[i][0], names[i][1]}, *out[1] = {names[i][2]};
        mec_graph_add_node(g, "Conv", "", names[i][1], 2, in, 1, out, &n);
        if (i) mec_node_set_ints(g, n, "pads", 4, i == 2 ? p2 : p1);
        if (i == 2) mec_node_set_ints(g, n, "dilations", 2, d2);
        if (i == 3) mec_node_set_ints(g, n, "strides", 2, s2);
    }
    mec_graph_add_output(g, "y", NULL);
    mec_sess_options o;
    mec_sess_options_default(&o);
    o.impl = "ref";
    o.optimize = false;
    mec_sess *ref = NULL, *fast[2] = {NULL, NULL};
    CHECK_OK(mec_sess_create(g, &o, &ref));
    mec_sess_options_default(&o);
    CHECK_OK(mec_sess_create(g, &o, &fast[0]));
    o.conv_algo = "direct";
    CHECK_OK(mec_sess_create(g, &o, &fast[1]));
    for (int k = 0; k < 2 && ref && fast[k]; k++) {
        CHECK_OK(conv_chain_run(ref, fast[k], 16, -1));
        CHECK(conv_init_data(fast[k], "w1") == NULL);
        CHECK(conv_init_data(fast[k], "w4") == NULL);
        CHECK((conv_init_data(fast[k], "w2") == NULL) == (k == 1));
        CHECK((conv_init_data(fast[k], "w3") == NULL) == (k == 1));
        const int64_t sizes[] = {12, 9, 20, 16};
        for (int i = 0; i < 4; i++)
            CHECK_OK(conv_chain_run(ref, fast[k], sizes[i], -1));
        int clean = 0;
        for (long f = 0; f < 400 && clean < 4; f++) {
            CHECK_OK(conv_chain_run(NULL, fast[k], 16, -1));
            mec_status st = conv_chain_run(NULL, fast[k], f % 2 ? 9 : 12, f / 2);
            CHECK(st == MEC_OK || st == MEC_ERR_NOMEM);
            clean += st == MEC_OK;
            CHECK_OK(conv_chain_run(ref, fast[k], f % 2 ? 9 : 12, -1));
        }
        CHECK(clean == 4);
    }
    o.conv_algo = "fastest";
    mec_sess *bad = NULL;
    CHECK(mec_sess_create(g, &o, &bad) == MEC_ERR_INVALID_ARG && !bad);
    CHECK(strstr(mec_last_error(), "conv_algo 'fastest'") != NULL);
    mec_sess_destroy(ref);
    for (int k = 0; k < 2; k++)
        mec_sess_destroy(fast[k]);
    mec_graph_destroy(g);
}

int main(void) {
    RUN(test_conv_configs);
    RUN(test_conv_output_is_nhwc);
    RUN(test_fused_conv);
    RUN(test_conv_fallback_ranks);
    RUN(test_conv_winograd);
    RUN(test_fused_conv_winograd);
    RUN(test_pools);
    RUN(test_pool_keeps_nhwc);
    RUN(test_maxpool_indices_fallback);
    RUN(test_matmul);
    RUN(test_fused_matmul);
    RUN(test_gemm);
    RUN(test_matmul_int_fallback);
    RUN(test_session_auto_vs_ref);
    RUN(test_residual_inplace);
    RUN(test_conv_weights_freed);
    return TEST_SUMMARY();
}
