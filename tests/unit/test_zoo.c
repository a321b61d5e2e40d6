/* zoo: the presets' parameter counts equal the reference implementations',
 * every small preset builds, runs through a session (batch 1 and 3, finite
 * outputs of the right shape, the optimised graph equals the plain one),
 * round-trips through ONNX, is deterministic in its seed, honours its
 * overrides and records its stage/block outputs; attention masks padding;
 * and, where /usr/bin/python3 has torch, resnet-small and bert-small agree
 * with PyTorch modules loaded with the same weights. */
#include "mec/onnx.h"
#include "mec/runtime.h"
#include "mec/zoo.h"
#include "test.h"

#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *small_presets[] = {"resnet-small", "resnext-small", "fcn-small",
                                      "duc-small",    "bert-small",    "roberta-small"};
#define N_SMALL ((int)(sizeof small_presets / sizeof small_presets[0]))

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static float rnd_unit(void) { return (float)(rnd() >> 40) / 16777216.0f * 2.0f - 1.0f; }

static const char *meta(const mec_graph *g, const char *key) {
    for (int i = 0; i < g->n_meta; i++)
        if (!strcmp(g->meta_keys[i], key)) return g->meta_values[i];
    return NULL;
}

/* Inputs for a zoo graph: images (n, C, h, w) or ids/mask (n, seq) with
 * the last `pad` tokens of each row masked out. */
typedef struct inputs {
    int n;
    const char *names[3];
    mec_tensor *t[3];
} inputs;

static void inputs_free(inputs *in) {
    for (int i = 0; i < in->n; i++) mec_tensor_destroy(in->t[i]);
    memset(in, 0, sizeof *in);
}

static void make_inputs(const mec_graph *g, int64_t batch, int64_t h, int64_t w, int64_t pad,
                        inputs *in) {
    memset(in, 0, sizeof *in);
    const mec_value *x = &g->values[g->inputs[0]];
    if (x->dtype == MEC_F32) {
        int64_t shape[4] = {batch, x->dims[1], h, w};
        mec_tensor_create(&in->t[0], MEC_F32, 4, shape);
        float *v = in->t[0]->data;
        for (int64_t i = 0; i < mec_tensor_numel(in->t[0]); i++) v[i] = rnd_unit();
        in->names[0] = "input";
        in->n = 1;
        return;
    }
    int64_t shape[2] = {batch, h};
    const mec_tensor *emb = g->values[mec_graph_find(g, "embeddings.word_embeddings.weight")].init;
    int64_t vocab = emb->shape[0];
    mec_tensor_create(&in->t[0], MEC_I64, 2, shape);
    mec_tensor_create(&in->t[1], MEC_I64, 2, shape);
    int64_t *ids = in->t[0]->data, *mask = in->t[1]->data;
    for (int64_t r = 0; r < batch; r++)
        for (int64_t j = 0; j < h; j++) {
            bool real = j < h - pad;
            ids[r * h + j] = real ? 5 + (int64_t)(rnd() % (uint64_t)(vocab - 5)) : 0;
            mask[r * h + j] = real;
        }
    in->names[0] = "input_ids";
    in->names[1] = "attention_mask";
    in->n = 2;
}

static mec_tensor *run1(mec_sess *s, const inputs *in) {
    mec_tensor *y = NULL;
    mec_status st = mec_sess_run(s, in->n, in->names, (const mec_tensor *const *)in->t, 1, NULL, &y);
    if (st) fprintf(stderr, "  run: %s\n", mec_last_error());
    return y;
}

static bool all_finite(const mec_tensor *t) {
    const float *v = t->data;
    for (int64_t i = 0; i < mec_tensor_numel(t); i++)
        if (!isfinite(v[i])) return false;
    return true;
}

static double max_abs_diff(const mec_tensor *a, const mec_tensor *b) {
    if (!a || !b || mec_tensor_numel(a) != mec_tensor_numel(b)) return INFINITY;
    double m = 0;
    for (int64_t i = 0; i < mec_tensor_numel(a); i++) {
        double d = fabs((double)((const float *)a->data)[i] - ((const float *)b->data)[i]);
        if (!(d <= m)) m = d;
    }
    return m;
}

static double max_abs(const mec_tensor *a) {
    double m = 0;
    for (int64_t i = 0; a && i < mec_tensor_numel(a); i++)
        m = fmax(m, fabs((double)((const float *)a->data)[i]));
    return m;
}

/* ----------------------------------------------------------------- tests */

static void test_list(void) {
    const mec_zoo_preset *p;
    int n;
    mec_zoo_list(&p, &n);
    CHECK(n == 12);
    const char *families[] = {"resnet", "resnext", "fcn", "duc", "bert", "roberta"};
    for (int f = 0; f < 6; f++) {
        char name[64];
        snprintf(name, sizeof name, "%s-paper", families[f]);
        const mec_zoo_preset *q = mec_zoo_find(name);
        CHECK(q && !strcmp(q->family, families[f]) && !strcmp(q->size, "paper"));
        snprintf(name, sizeof name, "%s-small", families[f]);
        q = mec_zoo_find(name);
        CHECK(q && !strcmp(q->family, families[f]) && !strcmp(q->size, "small"));
    }
    CHECK(mec_zoo_find("resnet-huge") == NULL);
    mec_graph *g = NULL;
    CHECK(mec_zoo_build("resnet-huge", NULL, &g) == MEC_ERR_NOT_FOUND);
    CHECK(strstr(mec_last_error(), "'resnet-huge'") && strstr(mec_last_error(), "bert-small"));
    CHECK(g == NULL);
}

/* Published counts (sum of numel over torch parameters()):
 *   torchvision wide_resnet101_2 126,886,696; resnext101_64x4d 83,455,272;
 *   fcn_resnet101 without the aux classifier 51,949,141 (54,314,346 with it);
 *   transformers BertForSequenceClassification(bert-base-uncased, 2 labels)
 *   109,483,778; RobertaForSequenceClassification(roberta-base, 2 labels)
 *   124,647,170. Counted without building weights. */
static void test_paper_counts(void) {
    struct {
        const char *name;
        int64_t params;
        double gmacs; /* torchvision's published GFLOPS (multiply-adds), or ours */
    } want[] = {
        {"resnet-paper", 126886696, 22.75},  {"resnext-paper", 83455272, 15.46},
        {"fcn-paper", 51949141, 222.75},     {"duc-paper", 64914688, 656.87},
        {"bert-paper", 109483778, 11.17},    {"roberta-paper", 124647170, 11.17},
    };
    for (int i = 0; i < 6; i++) {
        mec_zoo_stats s;
        CHECK_OK(mec_zoo_stats_of(want[i].name, NULL, &s));
        if (s.params != want[i].params)
            fprintf(stderr, "  %s: %lld parameters, expected %lld\n", want[i].name,
                    (long long)s.params, (long long)want[i].params);
        CHECK(s.params == want[i].params);
        CHECK_REL(s.macs / 1e9, want[i].gmacs, 0.002);
        const mec_zoo_preset *p = mec_zoo_find(want[i].name);
        CHECK(p && (p->published_params == 0 || p->published_params == s.params));
    }
    /* the DUC head alone: 3×3 conv 2048 → 19·8² with bias */
    mec_zoo_stats fcn, duc;
    CHECK_OK(mec_zoo_stats_of("fcn-paper", NULL, &fcn));
    CHECK_OK(mec_zoo_stats_of("duc-paper", NULL, &duc));
    int64_t trunk = 51949141 - (2048 * 512 * 9 + 2 * 512 + 512 * 21 + 21);
    CHECK(duc.params == trunk + 2048 * 1216 * 9 + 1216);
    CHECK(trunk == 42500160); /* torchvision resnet101 without fc: 44,549,160 - 2,049,000 */
    /* FLOPs scale with the input (FCN/DUC) and the sequence (BERT) */
    mec_zoo_overrides ov = {0};
    ov.height = ov.width = 260;
    mec_zoo_stats small_fcn;
    CHECK_OK(mec_zoo_stats_of("fcn-paper", &ov, &small_fcn));
    CHECK(small_fcn.params == fcn.params);
    CHECK_REL((double)small_fcn.macs * 4, (double)fcn.macs, 0.05); /* 260/8 rounds up */
}

/* Each listed stage/block output is a value produced in the graph. */
static void check_cut_points(const mec_graph *g, const char *key, int min_count) {
    const char *list = meta(g, key);
    CHECK(list != NULL);
    if (!list) return;
    int count = 0;
    char buf[256];
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        snprintf(buf, sizeof buf, "%.*s", (int)len, p);
        int v = mec_graph_find(g, buf);
        if (v < 0 || g->values[v].producer < 0) fprintf(stderr, "  %s: '%s' is not produced\n", key, buf);
        CHECK(v >= 0 && g->values[v].producer >= 0);
        count++;
        p += len;
        if (*p == ',') p++;
    }
    CHECK(count >= min_count);
}

static void test_small_presets_run(void) {
    for (int i = 0; i < N_SMALL; i++) {
        const char *name = small_presets[i];
        mec_graph *g = NULL;
        CHECK_OK(mec_zoo_build(name, NULL, &g));
        if (!g) continue;
        const mec_zoo_preset *p = mec_zoo_find(name);
        CHECK_STR(meta(g, "zoo.family"), p->family);
        CHECK_STR(meta(g, "zoo.preset"), name);
        mec_zoo_stats st;
        CHECK_OK(mec_zoo_stats_of(name, NULL, &st));
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)st.params);
        CHECK_STR(meta(g, "zoo.params"), num);
        check_cut_points(g, "stage_outputs", 3);
        check_cut_points(g, "block_outputs", 2);
        bool text = g->values[g->inputs[0]].dtype == MEC_I64;
        bool seg = !strcmp(p->family, "fcn") || !strcmp(p->family, "duc");
        int64_t h = text ? 64 : seg ? 64 : 28, w = text ? 0 : h;
        int64_t classes = text ? 8 : seg ? 11 : 10;
        mec_sess *fast = NULL, *plain = NULL;
        mec_sess_options opt;
        mec_sess_options_default(&opt);
        CHECK_OK(mec_sess_create(g, &opt, &fast));
        opt.optimize = false;
        opt.impl = "ref";
        CHECK_OK(mec_sess_create(g, &opt, &plain));
        if (fast) {
            /* the optimiser fused what the conventions promise */
            const mec_graph *og = mec_sess_graph(fast);
            int bn = 0, erf = 0, fused = 0;
            for (int k = 0; k < og->n_nodes; k++) {
                bn += !strcmp(og->nodes[k].op_type, "BatchNormalization");
                erf += !strcmp(og->nodes[k].op_type, "Erf");
                fused += !strncmp(og->nodes[k].op_type, "Fused", 5);
            }
            CHECK(bn == 0 && erf == 0 && fused > 0);
        }
        for (int64_t batch = 1; fast && plain && batch <= 3; batch += 2) {
            inputs in;
            make_inputs(g, batch, h, w, text ? 9 : 0, &in);
            mec_tensor *y = run1(fast, &in), *y_ref = run1(plain, &in);
            CHECK(y && y_ref);
            if (y && y_ref) {
                CHECK(y->shape[0] == batch && y->shape[1] == classes);
                CHECK(y->ndim == (seg ? 4 : 2));
                if (seg) CHECK(y->shape[2] == h && y->shape[3] == w);
                CHECK(all_finite(y));
                CHECK(max_abs(y) > 1e-6 && max_abs(y) < 1e4);
                double d = max_abs_diff(y, y_ref);
                if (!(d <= 1e-4 * (1 + max_abs(y_ref))))
                    fprintf(stderr, "  %s batch %lld: optimised vs plain differ by %g\n", name,
                            (long long)batch, d);
                CHECK(d <= 1e-4 * (1 + max_abs(y_ref)));
            }
            mec_tensor_destroy(y);
            mec_tensor_destroy(y_ref);
            inputs_free(&in);
        }
        mec_sess_destroy(fast);
        mec_sess_destroy(plain);
        mec_graph_destroy(g);
    }
}

static void test_roundtrip(void) {
    for (int i = 0; i < N_SMALL; i++) {
        mec_graph *g = NULL, *back = NULL;
        CHECK_OK(mec_zoo_build(small_presets[i], NULL, &g));
        if (!g) continue;
        void *buf = NULL;
        size_t len = 0;
        CHECK_OK(mec_onnx_save_buffer(g, &buf, &len));
        CHECK_OK(mec_onnx_load_buffer(buf, len, NULL, small_presets[i], &back));
        mec_free(buf);
        if (back) {
            CHECK(back->n_nodes == g->n_nodes && back->n_inputs == g->n_inputs);
            CHECK(mec_graph_opset(back, "") == 17);
            CHECK_STR(meta(back, "stage_outputs"), meta(g, "stage_outputs"));
            CHECK_STR(meta(back, "zoo.preset"), small_presets[i]);
            for (int v = 0; v < g->n_values; v++) {
                const mec_tensor *a = g->values[v].init;
                if (!a) continue;
                int u = mec_graph_find(back, g->values[v].name);
                const mec_tensor *b = u >= 0 ? back->values[u].init : NULL;
                CHECK(b && mec_tensor_same_shape(a, b) && b->dtype == a->dtype &&
                      !memcmp(a->data, b->data, mec_tensor_bytes(a)));
            }
            /* dynamic dims survive */
            const mec_value *x = &back->values[back->inputs[0]];
            CHECK(x->dims[0] < 0 && x->dim_names[0] && !strcmp(x->dim_names[0], "batch"));
        }
        mec_graph_destroy(back);
        mec_graph_destroy(g);
    }
}

static const mec_tensor *init_of(const mec_graph *g, const char *name) {
    int v = mec_graph_find(g, name);
    return v >= 0 ? g->values[v].init : NULL;
}

static void test_weights(void) {
    mec_zoo_overrides ov = {0};
    mec_graph *a = NULL, *b = NULL, *c = NULL, *x = NULL;
    CHECK_OK(mec_zoo_build("resnet-small", &ov, &a));
    CHECK_OK(mec_zoo_build("resnet-small", &ov, &b));
    ov.seed = 7;
    CHECK_OK(mec_zoo_build("resnet-small", &ov, &c));
    ov.seed = 0;
    CHECK_OK(mec_zoo_build("resnext-small", &ov, &x));
    if (!a || !b || !c || !x) goto done;
    const mec_tensor *wa = init_of(a, "layer2.0.conv1.weight"), *wb = init_of(b, "layer2.0.conv1.weight"),
                     *wc = init_of(c, "layer2.0.conv1.weight");
    CHECK(wa && wb && wc);
    if (!wa || !wb || !wc) goto done;
    CHECK(!memcmp(wa->data, wb->data, mec_tensor_bytes(wa)));
    CHECK(memcmp(wa->data, wc->data, mec_tensor_bytes(wa)) != 0);
    /* a tensor's values depend on (seed, name) only: the stem is shared */
    const mec_tensor *sa = init_of(a, "conv1.weight"), *sx = init_of(x, "conv1.weight");
    CHECK(sa && sx && mec_tensor_same_shape(sa, sx) && !memcmp(sa->data, sx->data, mec_tensor_bytes(sa)));
    /* Kaiming normal, fan_out: layer2.0.conv1 is (32, 16, 3, 3): std √(2/288) */
    double sum = 0, sq = 0;
    int64_t n = mec_tensor_numel(wa);
    for (int64_t i = 0; i < n; i++) {
        double v = ((float *)wa->data)[i];
        sum += v;
        sq += v * v;
    }
    double mean = sum / (double)n, sd = sqrt(sq / (double)n - mean * mean);
    CHECK(n == 32 * 16 * 9);
    CHECK_NEAR(mean, 0, 4 * sqrt(2.0 / 288) / sqrt((double)n));
    CHECK_REL(sd, sqrt(2.0 / 288), 0.05);
    /* BN: gamma 1 except the last of each residual branch (1/√blocks), beta 0, var 1 */
    const mec_tensor *g1 = init_of(a, "layer2.0.bn1.weight"), *g2 = init_of(a, "layer2.0.bn2.weight"),
                     *var = init_of(a, "layer2.0.bn1.running_var"), *beta = init_of(a, "layer2.0.bn1.bias");
    CHECK(g1 && ((float *)g1->data)[3] == 1.0f);
    CHECK(g2 && fabs(((float *)g2->data)[3] - 0.5f) < 1e-7); /* 4 blocks */
    CHECK(var && ((float *)var->data)[0] == 1.0f && beta && ((float *)beta->data)[0] == 0.0f);
done:
    mec_graph_destroy(a);
    mec_graph_destroy(b);
    mec_graph_destroy(c);
    mec_graph_destroy(x);
}

static void test_overrides(void) {
    mec_zoo_overrides ov = {0};
    ov.num_classes = 5;
    ov.height = ov.width = 32;
    ov.in_channels = 3;
    mec_graph *g = NULL;
    CHECK_OK(mec_zoo_build("resnet-small", &ov, &g));
    if (g) {
        const mec_value *x = &g->values[g->inputs[0]];
        CHECK(x->dims[1] == 3 && x->dims[2] == 32 && x->dims[3] == 32);
        const mec_tensor *fc = init_of(g, "fc.weight");
        CHECK(fc && fc->shape[0] == 5);
    }
    mec_graph_destroy(g);
    g = NULL;
    /* a longer sequence than the small model's table: the table grows */
    mec_zoo_overrides tv = {0};
    tv.height = 200;
    tv.vocab_size = 1234;
    tv.num_classes = 4;
    CHECK_OK(mec_zoo_build("roberta-small", &tv, &g));
    if (g) {
        const mec_tensor *pos = init_of(g, "embeddings.position_embeddings.weight");
        const mec_tensor *we = init_of(g, "embeddings.word_embeddings.weight");
        CHECK(pos && pos->shape[0] == 202 && we && we->shape[0] == 1234);
        CHECK(init_of(g, "classifier.out_proj.weight")->shape[1] == 4);
    }
    mec_graph_destroy(g);
    g = NULL;
    mec_zoo_overrides bad = {0};
    bad.vocab_size = 100;
    CHECK(mec_zoo_build("resnet-small", &bad, &g) == MEC_ERR_INVALID_ARG);
    bad.vocab_size = 0;
    bad.height = 20000;
    CHECK(mec_zoo_build("resnet-small", &bad, &g) == MEC_ERR_INVALID_ARG);
    CHECK(strstr(mec_last_error(), "20000") != NULL);
    CHECK(g == NULL);
    mec_zoo_resnet_config rc;
    mec_zoo_resnet_config_default(&rc);
    rc.block = MEC_ZOO_BASIC;
    rc.groups = 4;
    CHECK(mec_zoo_resnet_build(&rc, 0, &g) == MEC_ERR_INVALID_ARG);
    mec_zoo_bert_config bc;
    mec_zoo_bert_config_default(&bc, false);
    bc.heads = 5;
    CHECK(mec_zoo_bert_build(&bc, 0, &g) == MEC_ERR_INVALID_ARG);
    CHECK(strstr(mec_last_error(), "heads = 5") != NULL);
    CHECK(g == NULL);
}

/* FCN and DUC take any H×W (DUC: multiples of the output stride). */
static void test_dynamic_size(void) {
    const char *names[] = {"fcn-small", "duc-small"};
    for (int i = 0; i < 2; i++) {
        mec_graph *g = NULL;
        CHECK_OK(mec_zoo_build(names[i], NULL, &g));
        mec_sess *s = NULL;
        if (g) CHECK_OK(mec_sess_create(g, NULL, &s));
        if (s) {
            inputs in;
            make_inputs(g, 2, 48, 80, 0, &in);
            mec_tensor *y = run1(s, &in);
            CHECK(y && y->ndim == 4 && y->shape[0] == 2 && y->shape[1] == 11 && y->shape[2] == 48 &&
                  y->shape[3] == 80 && all_finite(y));
            mec_tensor_destroy(y);
            inputs_free(&in);
        }
        mec_sess_destroy(s);
        mec_graph_destroy(g);
    }
}

/* Padding is invisible: a row padded with masked tokens gives the logits of
 * the same row unpadded (BERT: positions 0..S-1; RoBERTa: from the mask). */
static void test_attention_mask(void) {
    const char *names[] = {"bert-small", "roberta-small"};
    for (int i = 0; i < 2; i++) {
        mec_graph *g = NULL;
        CHECK_OK(mec_zoo_build(names[i], NULL, &g));
        mec_sess *s = NULL;
        if (g) CHECK_OK(mec_sess_create(g, NULL, &s));
        if (!s) {
            mec_graph_destroy(g);
            continue;
        }
        inputs padded, bare;
        make_inputs(g, 1, 40, 0, 15, &padded);
        make_inputs(g, 1, 25, 0, 0, &bare);
        memcpy(bare.t[0]->data, padded.t[0]->data, 25 * sizeof(int64_t));
        mec_tensor *yp = run1(s, &padded), *yb = run1(s, &bare);
        CHECK(yp && yb);
        if (yp && yb) CHECK(max_abs_diff(yp, yb) < 1e-5);
        /* and the tokens matter */
        ((int64_t *)bare.t[0]->data)[3] ^= 1;
        mec_tensor *yc = run1(s, &bare);
        CHECK(yc && max_abs_diff(yc, yb) > 1e-7);
        mec_tensor_destroy(yp);
        mec_tensor_destroy(yb);
        mec_tensor_destroy(yc);
        inputs_free(&padded);
        inputs_free(&bare);
        mec_sess_destroy(s);
        mec_graph_destroy(g);
    }
}

/* Every allocation failure gives a clean error (and no graph), never a crash. */
static void test_alloc_failure(void) {
    mec_zoo_resnet_config rc;
    mec_zoo_resnet_config_default(&rc);
    rc.layers[1] = rc.layers[2] = rc.layers[3] = 0;
    rc.layers[0] = 1;
    rc.base_width = 4;
    rc.height = rc.width = 16;
    rc.num_classes = 3;
    mec_zoo_bert_config bc;
    mec_zoo_bert_config_default(&bc, true);
    bc.vocab_size = 16;
    bc.hidden = 8;
    bc.heads = 2;
    bc.layers = 1;
    bc.intermediate = 16;
    bc.max_positions = 20;
    bc.seq_len = 8;
    for (int which = 0; which < 2; which++) {
        int failures = 0;
        for (long n = 0; n < 100000; n++) {
            mec_graph *g = NULL;
            mec_alloc_fail_after(n);
            mec_status st = which ? mec_zoo_bert_build(&bc, 1, &g) : mec_zoo_resnet_build(&rc, 1, &g);
            mec_alloc_fail_after(-1);
            if (st == MEC_OK) {
                CHECK(g != NULL);
                mec_graph_destroy(g);
                break;
            }
            CHECK(g == NULL);
            failures++;
        }
        CHECK(failures > 50);
    }
}

/* ------------------------------------------------ PyTorch cross-check */

/* An independent forward pass in PyTorch (functional ops, the weights read
 * from .npy by name) of resnet-small and bert-small; exit 3 when torch is
 * missing. */
static const char *torch_script =
    "import math, os, sys\n"
    "import numpy as np\n"
    "try:\n"
    "    import torch\n"
    "    import torch.nn.functional as F\n"
    "except ImportError:\n"
    "    sys.exit(3)\n"
    "d = sys.argv[1]\n"
    "def load(m):\n"
    "    p = os.path.join(d, m)\n"
    "    return {f[:-4]: torch.from_numpy(np.load(os.path.join(p, f))) for f in os.listdir(p)}\n"
    "def npy(name):\n"
    "    return torch.from_numpy(np.load(os.path.join(d, name)))\n"
    "def check(name, y, ref):\n"
    "    err = (y - ref).abs().max().item()\n"
    "    tol = 1e-4 * (1 + ref.abs().max().item())\n"
    "    print('%s: max |torch - mecbench| = %.3g (tol %.3g)' % (name, err, tol))\n"
    "    return err <= tol\n"
    "W = load('resnet')\n"
    "def bn(x, p):\n"
    "    return F.batch_norm(x, W[p + '.running_mean'], W[p + '.running_var'], W[p + '.weight'],\n"
    "                        W[p + '.bias'], False, 0.0, 1e-5)\n"
    "def conv(x, p, stride=1, pad=0):\n"
    "    return F.conv2d(x, W[p + '.weight'], W.get(p + '.bias'), stride, pad)\n"
    "h = F.relu(bn(conv(npy('resnet_input.npy'), 'conv1', 1, 1), 'bn1'))\n"
    "h = F.max_pool2d(h, 3, 2, 1)\n"
    "for s in range(4):\n"
    "    p = 'layer%d.0' % (s + 1)\n"
    "    stride = 2 if s else 1\n"
    "    o = F.relu(bn(conv(h, p + '.conv1', stride, 1), p + '.bn1'))\n"
    "    o = bn(conv(o, p + '.conv2', 1, 1), p + '.bn2')\n"
    "    if p + '.downsample.0.weight' in W:\n"
    "        h = bn(conv(h, p + '.downsample.0', stride), p + '.downsample.1')\n"
    "    h = F.relu(o + h)\n"
    "y = F.linear(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1), W['fc.weight'], W['fc.bias'])\n"
    "ok = check('resnet-small', y, npy('resnet_output.npy'))\n"
    "B = load('bert')\n"
    "ids, mask = npy('bert_ids.npy'), npy('bert_mask.npy')\n"
    "N, S = ids.shape\n"
    "def ln(x, p):\n"
    "    return F.layer_norm(x, (x.shape[-1],), B[p + '.weight'], B[p + '.bias'], 1e-12)\n"
    "def lin(x, p):\n"
    "    return x @ B[p + '.weight'] + B[p + '.bias']\n"
    "e = (B['embeddings.word_embeddings.weight'][ids] + B['embeddings.position_embeddings.weight'][:S]\n"
    "     + B['embeddings.token_type_embeddings.weight'][0])\n"
    "h = ln(e, 'embeddings.LayerNorm')\n"
    "madd = (1.0 - mask[:, None, None, :].float()) * -10000.0\n"
    "for l in range(2):\n"
    "    p = 'encoder.layer.%d' % l\n"
    "    q, k, v = [lin(h, p + '.attention.self.' + n).view(N, S, 4, -1).transpose(1, 2)\n"
    "               for n in ('query', 'key', 'value')]\n"
    "    a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + madd, -1) @ v\n"
    "    a = a.transpose(1, 2).reshape(N, S, -1)\n"
    "    h = ln(lin(a, p + '.attention.output.dense') + h, p + '.attention.output.LayerNorm')\n"
    "    f = F.gelu(lin(h, p + '.intermediate.dense'))\n"
    "    h = ln(lin(f, p + '.output.dense') + h, p + '.output.LayerNorm')\n"
    "y = lin(torch.tanh(lin(h[:, 0], 'pooler.dense')), 'classifier')\n"
    "ok = check('bert-small', y, npy('bert_output.npy')) and ok\n"
    "sys.exit(0 if ok else 1)\n";

/* Writes every initializer of g as DIR/<sub>/<name>.npy. */
static bool save_weights(const mec_graph *g, const char *dir, const char *sub) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    if (mkdir(path, 0700)) return false;
    for (int v = 0; v < g->n_values; v++) {
        const mec_tensor *t = g->values[v].init;
        if (!t || t->dtype != MEC_F32) continue;
        snprintf(path, sizeof path, "%s/%s/%s.npy", dir, sub, g->values[v].name);
        if (mec_tensor_save_npy(path, t)) return false;
    }
    return true;
}

static bool save_npy(const char *dir, const char *name, const mec_tensor *t) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return t && mec_tensor_save_npy(path, t) == MEC_OK;
}

static void test_torch_agrees(void) {
    if (access("/usr/bin/python3", X_OK)) {
        printf("  (skipped: no /usr/bin/python3)\n");
        return;
    }
    char dir[] = "/tmp/mec-zoo-torch-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    mec_graph *rg = NULL, *bg = NULL;
    mec_sess *rs = NULL, *bs = NULL;
    inputs ri, bi;
    memset(&ri, 0, sizeof ri);
    memset(&bi, 0, sizeof bi);
    mec_tensor *ry = NULL, *by = NULL;
    CHECK_OK(mec_zoo_build("resnet-small", NULL, &rg));
    CHECK_OK(mec_zoo_build("bert-small", NULL, &bg));
    if (rg) CHECK_OK(mec_sess_create(rg, NULL, &rs));
    if (bg) CHECK_OK(mec_sess_create(bg, NULL, &bs));
    if (!rs || !bs) goto done;
    make_inputs(rg, 3, 28, 28, 0, &ri);
    make_inputs(bg, 2, 24, 0, 7, &bi);
    ry = run1(rs, &ri);
    by = run1(bs, &bi);
    CHECK(ry && by);
    CHECK(save_weights(rg, dir, "resnet") && save_weights(bg, dir, "bert"));
    CHECK(save_npy(dir, "resnet_input.npy", ri.t[0]) && save_npy(dir, "resnet_output.npy", ry));
    CHECK(save_npy(dir, "bert_ids.npy", bi.t[0]) && save_npy(dir, "bert_mask.npy", bi.t[1]) &&
          save_npy(dir, "bert_output.npy", by));
    char path[1024], cmd[2300];
    snprintf(path, sizeof path, "%s/check.py", dir);
    CHECK_OK(mec_file_write_atomic(path, torch_script, strlen(torch_script)));
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s", path, dir);
    int rc = system(cmd);
    rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    if (rc == 3) printf("  (skipped: /usr/bin/python3 has no torch)\n");
    else CHECK(rc == 0);
done:
    mec_tensor_destroy(ry);
    mec_tensor_destroy(by);
    inputs_free(&ri);
    inputs_free(&bi);
    mec_sess_destroy(rs);
    mec_sess_destroy(bs);
    mec_graph_destroy(rg);
    mec_graph_destroy(bg);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", dir);
}

int main(void) {
    RUN(test_list);
    RUN(test_paper_counts);
    RUN(test_small_presets_run);
    RUN(test_roundtrip);
    RUN(test_weights);
    RUN(test_overrides);
    RUN(test_dynamic_size);
    RUN(test_attention_mask);
    RUN(test_alloc_failure);
    RUN(test_torch_agrees);
    return TEST_SUMMARY();
}
