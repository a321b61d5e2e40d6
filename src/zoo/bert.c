/* BERT and RoBERTa: a post-LN Transformer encoder with Hugging Face's
 * layout and names, written in the ops PyTorch's exporter emits (Gather
 * embeddings, LayerNormalization, MatMul+Add linears, exact erf GELU,
 * Reshape/Transpose attention with an additive mask) and a
 * sequence-classification head on the first token. */
#include "zoo_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void mec_zoo_bert_config_default(mec_zoo_bert_config *c, bool roberta) {
    memset(c, 0, sizeof *c);
    c->vocab_size = roberta ? 50265 : 30522;
    c->hidden = 768;
    c->layers = 12;
    c->heads = 12;
    c->intermediate = 3072;
    c->max_positions = roberta ? 514 : 512;
    c->type_vocab_size = roberta ? 1 : 2;
    c->num_labels = 2;
    c->roberta = roberta;
    c->layer_norm_eps = roberta ? 1e-5f : 1e-12f;
    c->seq_len = 128;
}

#define RB_PADDING_IDX 1

static mec_status check_config(const mec_zoo_bert_config *c) {
#define BAD(...) return mec_error(MEC_ERR_INVALID_ARG, "zoo bert config: " __VA_ARGS__)
    if (c->vocab_size < 8 || c->vocab_size > 10000000) BAD("vocab_size = %d, expected 8..10000000", c->vocab_size);
    if (c->hidden < 1 || c->hidden > 65536) BAD("hidden = %d, expected 1..65536", c->hidden);
    if (c->layers < 1 || c->layers > 1000) BAD("layers = %d, expected 1..1000", c->layers);
    if (c->heads < 1 || c->hidden % c->heads) BAD("heads = %d does not divide hidden = %d", c->heads, c->hidden);
    if (c->intermediate < 1 || c->intermediate > 1048576)
        BAD("intermediate = %d, expected 1..1048576", c->intermediate);
    if (c->max_positions < 1 || c->max_positions > 1048576)
        BAD("max_positions = %d, expected 1..1048576", c->max_positions);
    if (c->type_vocab_size < 1 || c->type_vocab_size > 1024)
        BAD("type_vocab_size = %d, expected 1..1024", c->type_vocab_size);
    if (c->num_labels < 1 || c->num_labels > 1000000) BAD("num_labels = %d, expected 1..1000000", c->num_labels);
    if (!(c->layer_norm_eps > 0 && c->layer_norm_eps < 1))
        BAD("layer_norm_eps = %g, expected (0, 1)", (double)c->layer_norm_eps);
    int pos_needed = c->seq_len + (c->roberta ? RB_PADDING_IDX + 1 : 0);
    if (c->seq_len < 1 || pos_needed > c->max_positions)
        BAD("seq_len = %d needs %d positions, max_positions is %d", c->seq_len, pos_needed,
            c->max_positions);
#undef BAD
    return MEC_OK;
}

/* x (.., in) → MatMul W (in, out) → Add bias: value "<name>". */
static const char *linear(zb *b, const char *x, const char *name, int64_t in, int64_t out,
                          int64_t rows, const char *out_value) {
    char pre[ZB_NAME_MAX];
    snprintf(pre, sizeof pre, "%s", name);
    const char *w = zb_name(b, "%s.weight", pre), *bias = zb_name(b, "%s.bias", pre);
    int64_t ws[2] = {in, out};
    zb_param(b, w, 2, ws, ZB_NORMAL, 0.02f, true);
    zb_param(b, bias, 1, &out, ZB_ZEROS, 0, true);
    const char *mm[2] = {x, w};
    const char *y = zb_node(b, "MatMul", NULL, zb_name(b, "%s.matmul", pre), 2, mm);
    const char *add[2] = {y, bias};
    b->macs += rows * in * out;
    return zb_node(b, "Add", zb_name(b, "%s.add", pre), out_value ? out_value : pre, 2, add);
}

static const char *layer_norm(zb *b, const char *x, const char *name, int64_t hidden, float eps) {
    char pre[ZB_NAME_MAX];
    snprintf(pre, sizeof pre, "%s", name);
    const char *w = zb_name(b, "%s.weight", pre), *bias = zb_name(b, "%s.bias", pre);
    zb_param(b, w, 1, &hidden, ZB_ONES, 0, true);
    zb_param(b, bias, 1, &hidden, ZB_ZEROS, 0, true);
    const char *in[3] = {x, w, bias};
    const char *y = zb_node(b, "LayerNormalization", NULL, pre, 3, in);
    zb_int(b, "axis", -1);
    zb_float(b, "epsilon", eps);
    return y;
}

/* Exact GELU as PyTorch exports it: x·0.5·(1 + erf(x/√2)), written
 * Div(√2) → Erf → Add(1) → Mul(x) → Mul(0.5) so the optimiser fuses it. */
static const char *gelu(zb *b, const char *x, const char *pre) {
    const char *d[2] = {x, "const.sqrt2"};
    const char *v = zb_node(b, "Div", NULL, zb_name(b, "%s.gelu.div", pre), 2, d);
    const char *e[1] = {v};
    v = zb_node(b, "Erf", NULL, zb_name(b, "%s.gelu.erf", pre), 1, e);
    const char *a[2] = {v, "const.one"};
    v = zb_node(b, "Add", NULL, zb_name(b, "%s.gelu.add", pre), 2, a);
    const char *m[2] = {x, v};
    v = zb_node(b, "Mul", NULL, zb_name(b, "%s.gelu.mul", pre), 2, m);
    const char *h[2] = {v, "const.half"};
    return zb_node(b, "Mul", NULL, zb_name(b, "%s.gelu", pre), 2, h);
}

static const char *transpose(zb *b, const char *x, const char *out, const int64_t perm[4]) {
    const char *in[1] = {x};
    const char *y = zb_node(b, "Transpose", NULL, out, 1, in);
    zb_ints(b, "perm", 4, perm);
    return y;
}

/* One encoder layer "encoder.layer.<l>" on x (N, S, H). */
static const char *encoder_layer(zb *b, const mec_zoo_bert_config *c, const char *x, int l,
                                 const char *mask_add) {
    char pre[64];
    snprintf(pre, sizeof pre, "encoder.layer.%d", l);
    int64_t H = c->hidden, S = c->seq_len, dh = c->hidden / c->heads;
    static const int64_t to_heads[4] = {0, 2, 1, 3}, to_keys[4] = {0, 2, 3, 1};
    const char *q = linear(b, x, zb_name(b, "%s.attention.self.query", pre), H, H, S, NULL);
    const char *k = linear(b, x, zb_name(b, "%s.attention.self.key", pre), H, H, S, NULL);
    const char *v = linear(b, x, zb_name(b, "%s.attention.self.value", pre), H, H, S, NULL);
    /* (N, S, H) → (N, S, heads, dh) → (N, heads, S, dh); keys (N, heads, dh, S) */
    const char *rq[2] = {q, "const.shape.heads"}, *rk[2] = {k, "const.shape.heads"},
               *rv[2] = {v, "const.shape.heads"};
    q = zb_node(b, "Reshape", NULL, zb_name(b, "%s.attention.self.query.split", pre), 2, rq);
    q = transpose(b, q, zb_name(b, "%s.attention.self.query.heads", pre), to_heads);
    k = zb_node(b, "Reshape", NULL, zb_name(b, "%s.attention.self.key.split", pre), 2, rk);
    k = transpose(b, k, zb_name(b, "%s.attention.self.key.heads", pre), to_keys);
    v = zb_node(b, "Reshape", NULL, zb_name(b, "%s.attention.self.value.split", pre), 2, rv);
    v = transpose(b, v, zb_name(b, "%s.attention.self.value.heads", pre), to_heads);
    const char *qk[2] = {q, k};
    const char *s = zb_node(b, "MatMul", NULL, zb_name(b, "%s.attention.self.scores", pre), 2, qk);
    const char *sd[2] = {s, "const.attention_scale"};
    s = zb_node(b, "Div", NULL, zb_name(b, "%s.attention.self.scaled", pre), 2, sd);
    const char *sm[2] = {s, mask_add};
    s = zb_node(b, "Add", NULL, zb_name(b, "%s.attention.self.masked", pre), 2, sm);
    const char *sp[1] = {s};
    s = zb_node(b, "Softmax", NULL, zb_name(b, "%s.attention.self.probs", pre), 1, sp);
    zb_int(b, "axis", -1);
    const char *pv[2] = {s, v};
    const char *ctx = zb_node(b, "MatMul", NULL, zb_name(b, "%s.attention.self.context", pre), 2, pv);
    ctx = transpose(b, ctx, zb_name(b, "%s.attention.self.context.merge", pre), to_heads);
    const char *rc[2] = {ctx, "const.shape.hidden"};
    ctx = zb_node(b, "Reshape", NULL, zb_name(b, "%s.attention.self.output", pre), 2, rc);
    b->macs += 2 * S * S * dh * c->heads;
    const char *ao = linear(b, ctx, zb_name(b, "%s.attention.output.dense", pre), H, H, S, NULL);
    const char *r1[2] = {ao, x};
    ao = zb_node(b, "Add", NULL, zb_name(b, "%s.attention.output.residual", pre), 2, r1);
    ao = layer_norm(b, ao, zb_name(b, "%s.attention.output.LayerNorm", pre), H, c->layer_norm_eps);
    const char *it = linear(b, ao, zb_name(b, "%s.intermediate.dense", pre), H, c->intermediate, S, NULL);
    it = gelu(b, it, zb_name(b, "%s.intermediate", pre));
    const char *o = linear(b, it, zb_name(b, "%s.output.dense", pre), c->intermediate, H, S, NULL);
    const char *r2[2] = {o, ao};
    o = zb_node(b, "Add", NULL, zb_name(b, "%s.output.residual", pre), 2, r2);
    /* the LayerNorm's output is the layer's output value "encoder.layer.<l>" */
    int64_t hidden = H;
    const char *w = zb_name(b, "%s.output.LayerNorm.weight", pre),
               *bias = zb_name(b, "%s.output.LayerNorm.bias", pre);
    zb_param(b, w, 1, &hidden, ZB_ONES, 0, true);
    zb_param(b, bias, 1, &hidden, ZB_ZEROS, 0, true);
    const char *ln[3] = {o, w, bias};
    o = zb_node(b, "LayerNormalization", zb_name(b, "%s.output.LayerNorm", pre), pre, 3, ln);
    zb_int(b, "axis", -1);
    zb_float(b, "epsilon", c->layer_norm_eps);
    zb_mark_block(b, o);
    zb_mark_stage(b, o);
    return o;
}

static void build_bert(zb *b, const mec_zoo_bert_config *c) {
    int64_t H = c->hidden, dh = c->hidden / c->heads;
    zb_meta(b, "zoo.family", c->roberta ? "roberta" : "bert");
    zb_meta(b, "zoo.task", "classify");
    int64_t dims[2] = {-1, -1};
    const char *dim_names[2] = {"batch", "sequence"};
    if (b->g && !b->st) b->st = mec_graph_add_input(b->g, "input_ids", MEC_I64, 2, dims, dim_names, NULL);
    if (b->g && !b->st)
        b->st = mec_graph_add_input(b->g, "attention_mask", MEC_I64, 2, dims, dim_names, NULL);
    if (c->token_type_input && b->g && !b->st)
        b->st = mec_graph_add_input(b->g, "token_type_ids", MEC_I64, 2, dims, dim_names, NULL);

    /* constants shared by every layer */
    zb_const_f32(b, "const.sqrt2", 1.41421356237f);
    zb_const_f32(b, "const.one", 1.0f);
    zb_const_f32(b, "const.half", 0.5f);
    zb_const_f32(b, "const.attention_scale", sqrtf((float)dh));
    zb_const_f32(b, "const.mask_value", -10000.0f);
    int64_t heads_shape[4] = {0, 0, c->heads, dh}, hidden_shape[3] = {0, 0, H};
    zb_const_i64(b, "const.shape.heads", 4, heads_shape);
    zb_const_i64(b, "const.shape.hidden", 3, hidden_shape);
    int64_t zero = 0, one = 1, two = 2, mask_axes[2] = {1, 2};
    zb_const_i64(b, "const.i64.0", 1, &zero);
    zb_const_i64(b, "const.i64.1", 1, &one);
    zb_const_i64(b, "const.i64.2", 1, &two);
    zb_const_i64(b, "const.scalar.0", -1, &zero);
    zb_const_i64(b, "const.mask_axes", 2, mask_axes);

    /* embeddings */
    int64_t we[2] = {c->vocab_size, H}, pe[2] = {c->max_positions, H}, te[2] = {c->type_vocab_size, H};
    zb_param(b, "embeddings.word_embeddings.weight", 2, we, ZB_NORMAL, 0.02f, true);
    zb_param(b, "embeddings.position_embeddings.weight", 2, pe, ZB_NORMAL, 0.02f, true);
    zb_param(b, "embeddings.token_type_embeddings.weight", 2, te, ZB_NORMAL, 0.02f, true);
    const char *gw[2] = {"embeddings.word_embeddings.weight", "input_ids"};
    const char *words = zb_node(b, "Gather", NULL, "embeddings.words", 2, gw);
    const char *pos;
    if (c->roberta) {
        /* positions = cumsum(mask)·mask + padding_idx: padding keeps padding_idx */
        zb_const_i64(b, "const.padding_idx", -1, (const int64_t[]){RB_PADDING_IDX});
        zb_const_i64(b, "const.scalar.1", -1, &one);
        const char *cs[2] = {"attention_mask", "const.scalar.1"};
        const char *v = zb_node(b, "CumSum", NULL, "embeddings.position_cumsum", 2, cs);
        const char *mm[2] = {v, "attention_mask"};
        v = zb_node(b, "Mul", NULL, "embeddings.position_masked", 2, mm);
        const char *ad[2] = {v, "const.padding_idx"};
        v = zb_node(b, "Add", NULL, "embeddings.position_ids", 2, ad);
        const char *gp[2] = {"embeddings.position_embeddings.weight", v};
        pos = zb_node(b, "Gather", NULL, "embeddings.positions", 2, gp);
    } else {
        /* the first S rows of the table, S read from input_ids at run time */
        const char *sh[1] = {"input_ids"};
        zb_node(b, "Shape", NULL, "embeddings.input_shape", 1, sh);
        const char *sl[4] = {"embeddings.input_shape", "const.i64.1", "const.i64.2", "const.i64.0"};
        const char *seq = zb_node(b, "Slice", NULL, "embeddings.sequence_length", 4, sl);
        const char *sp[4] = {"embeddings.position_embeddings.weight", "const.i64.0", seq, "const.i64.0"};
        pos = zb_node(b, "Slice", NULL, "embeddings.positions", 4, sp);
    }
    const char *types;
    if (c->token_type_input) {
        const char *gt[2] = {"embeddings.token_type_embeddings.weight", "token_type_ids"};
        types = zb_node(b, "Gather", NULL, "embeddings.token_types", 2, gt);
    } else {
        /* every token has type 0: one row, broadcast */
        const char *gt[2] = {"embeddings.token_type_embeddings.weight", "const.scalar.0"};
        types = zb_node(b, "Gather", NULL, "embeddings.token_types", 2, gt);
    }
    const char *a1[2] = {words, pos};
    const char *e = zb_node(b, "Add", NULL, "embeddings.sum_positions", 2, a1);
    const char *a2[2] = {e, types};
    e = zb_node(b, "Add", NULL, "embeddings.sum", 2, a2);
    e = layer_norm(b, e, "embeddings.LayerNorm", H, c->layer_norm_eps);
    zb_mark_stage(b, e);

    /* additive mask (N, 1, 1, S): 0 for tokens, -10000 for padding */
    const char *cm[1] = {"attention_mask"};
    const char *m = zb_node(b, "Cast", NULL, "attention_mask.float", 1, cm);
    zb_int(b, "to", MEC_F32);
    const char *sb[2] = {"const.one", m};
    m = zb_node(b, "Sub", NULL, "attention_mask.inverted", 2, sb);
    const char *mu[2] = {m, "const.mask_value"};
    m = zb_node(b, "Mul", NULL, "attention_mask.additive", 2, mu);
    const char *us[2] = {m, "const.mask_axes"};
    const char *mask_add = zb_node(b, "Unsqueeze", NULL, "attention_mask.broadcast", 2, us);

    const char *x = e;
    for (int l = 0; l < c->layers; l++) x = encoder_layer(b, c, x, l, mask_add);

    /* head on the first token ([CLS] / <s>) */
    const char *g0[2] = {x, "const.scalar.0"};
    const char *first = zb_node(b, "Gather", NULL, "first_token", 2, g0);
    zb_int(b, "axis", 1);
    const char *dense = c->roberta ? "classifier.dense" : "pooler.dense";
    const char *p = linear(b, first, dense, H, H, 1, NULL);
    const char *tin[1] = {p};
    p = zb_node(b, "Tanh", NULL, c->roberta ? "classifier.tanh" : "pooler", 1, tin);
    const char *out_name = c->roberta ? "classifier.out_proj" : "classifier";
    linear(b, p, out_name, H, c->num_labels, 1, "logits");
    int64_t out_dims[2] = {-1, c->num_labels};
    const char *out_names[2] = {"batch", NULL};
    zb_output(b, "logits", 2, out_dims, out_names);
}

mec_status mec_zoo_bert_build(const mec_zoo_bert_config *c, uint64_t seed, mec_graph **out) {
    if (!c || !out) return mec_error(MEC_ERR_INVALID_ARG, "zoo: NULL config or output");
    *out = NULL;
    mec_status st = check_config(c);
    if (st) return st;
    zb b;
    if ((st = zb_begin(&b, c->roberta ? "roberta" : "bert", seed))) return zb_end(&b, NULL);
    build_bert(&b, c);
    return zb_end(&b, out);
}

mec_status mec_zoo_bert_stats(const mec_zoo_bert_config *c, mec_zoo_stats *out) {
    if (!c || !out) return mec_error(MEC_ERR_INVALID_ARG, "zoo: NULL config or output");
    memset(out, 0, sizeof *out);
    mec_status st = check_config(c);
    if (st) return st;
    zb b;
    zb_begin(&b, NULL, 0);
    build_bert(&b, c);
    out->params = b.params;
    out->macs = b.macs;
    return zb_end(&b, NULL);
}
