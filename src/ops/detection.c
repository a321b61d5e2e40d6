/* Detection and assorted ops: reference NonMaxSuppression, RoiAlign,
 * GridSample, MaxUnpool, Unique, ReverseSequence, Det and Einsum. Written for
 * correctness first; ops whose output size depends on input values
 * (NonMaxSuppression, Unique) run their selection once in infer to size the
 * output and again in exec into planned scratch. */
#include "op_util.h"
#include "sgemm.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

static bool is_float(mec_dtype t) { return t == MEC_F32 || t == MEC_F64 || t == MEC_F16 || t == MEC_BF16; }

static const mec_dtype float_types[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, 0};

static bool present(const mec_op_ctx *ctx, int i) { return i < ctx->n_in && ctx->in[i]; }

static int64_t numel_of(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

static mec_status scratch_for(const mec_op_ctx *ctx, int64_t count, size_t elem, size_t *bytes) {
    if (count < 0 || !mec_size_mul((size_t)count, elem, bytes))
        return MEC_OP_ERR(ctx, MEC_ERR_NOMEM, "scratch size overflows");
    return MEC_OK;
}

static mec_status need_scratch(const mec_op_ctx *ctx, size_t bytes) {
    if (ctx->scratch_bytes < bytes || (bytes && !ctx->scratch))
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "scratch is %zu bytes, needs %zu", ctx->scratch_bytes, bytes);
    return MEC_OK;
}

/* ------------------------------------------------------------- NonMaxSuppression */

typedef struct nms_geo {
    int64_t B, C, n, max_out;
    double iou, score_thr;
    bool has_score_thr, center;
} nms_geo;

typedef struct nms_cand {
    double score;
    int64_t index;
} nms_cand;

static mec_status nms_geometry(const mec_op_ctx *ctx, nms_geo *g) {
    mec_status st = mec_op_check_arity(ctx, 2, 5);
    if (st) return st;
    if ((st = mec_op_check_dtype(ctx, 0, float_types)) || (st = mec_op_check_dtype(ctx, 1, float_types))) return st;
    const mec_tensor *b = ctx->in[0], *s = ctx->in[1];
    if (b->ndim != 3 || b->shape[2] != 4)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "boxes must be (batch, boxes, 4), has rank %d", b->ndim);
    if (s->ndim != 3 || s->shape[0] != b->shape[0] || s->shape[2] != b->shape[1])
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "scores must be (%" PRId64 ", classes, %" PRId64 ")",
                          b->shape[0], b->shape[1]);
    g->B = b->shape[0];
    g->C = s->shape[1];
    g->n = b->shape[1];
    int64_t cpb = mec_node_int(ctx->node, "center_point_box", 0);
    if (cpb != 0 && cpb != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "center_point_box = %" PRId64 ", expected 0 or 1", cpb);
    g->center = cpb == 1;
    g->max_out = 0;
    g->iou = 0.0;
    g->has_score_thr = present(ctx, 4);
    g->score_thr = 0.0;
    for (int i = 2; i < 5; i++) {
        if (!present(ctx, i)) continue;
        const mec_tensor *t = ctx->in[i];
        if (mec_tensor_numel(t) != 1)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d must be a scalar", i);
        if (i == 2 && t->dtype != MEC_I64 && t->dtype != MEC_I32)
            return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "max_output_boxes_per_class must be int64");
        if (i > 2 && !is_float(t->dtype))
            return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input %d must be float", i);
        if (!t->data) return MEC_ERR_DEFER;
        if (i == 2) g->max_out = mec_tensor_get_i64(t, 0);
        else if (i == 3) g->iou = mec_tensor_get_f64(t, 0);
        else g->score_thr = mec_tensor_get_f64(t, 0);
    }
    if (g->max_out < 0) g->max_out = 0;
    if (g->iou < 0.0 || g->iou > 1.0)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "iou_threshold = %g is outside [0, 1]", g->iou);
    if (!b->data || !s->data) return MEC_ERR_DEFER;
    return MEC_OK;
}

/* Corners (y1, x1, y2, x2) ordered min/max of box i. */
static void nms_box(const mec_tensor *boxes, int64_t base, bool center, double *c) {
    double a = mec_op_load_f64(boxes->data, boxes->dtype, base),
           b = mec_op_load_f64(boxes->data, boxes->dtype, base + 1);
    double p = mec_op_load_f64(boxes->data, boxes->dtype, base + 2),
           q = mec_op_load_f64(boxes->data, boxes->dtype, base + 3);
    if (center) { /* (x_center, y_center, width, height) */
        c[0] = b - q / 2, c[2] = b + q / 2, c[1] = a - p / 2, c[3] = a + p / 2;
    } else {
        c[0] = fmin(a, p), c[2] = fmax(a, p), c[1] = fmin(b, q), c[3] = fmax(b, q);
    }
}

static bool nms_suppress(const double *a, const double *b, double thr) {
    double ih = fmin(a[2], b[2]) - fmax(a[0], b[0]), iw = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    if (ih <= 0 || iw <= 0) return false;
    double inter = ih * iw;
    double aa = (a[2] - a[0]) * (a[3] - a[1]), ab = (b[2] - b[0]) * (b[3] - b[1]);
    double uni = aa + ab - inter;
    if (aa <= 0 || ab <= 0 || uni <= 0) return false;
    return inter / uni > thr;
}

/* Higher score first, then lower index (a heap-sort order, deterministic). */
static bool cand_before(const nms_cand *a, const nms_cand *b) {
    return a->score > b->score || (a->score == b->score && a->index < b->index);
}

static void sift_down(nms_cand *h, int64_t i, int64_t n) {
    for (;;) {
        int64_t l = 2 * i + 1, m = i;
        if (l < n && cand_before(&h[m], &h[l])) m = l;
        if (l + 1 < n && cand_before(&h[m], &h[l + 1])) m = l + 1;
        if (m == i) return;
        nms_cand t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Heap sort (max-heap of the candidate that goes last) leaving the
 * candidate that goes first at index 0. */
static void cand_sort(nms_cand *c, int64_t n) {
    for (int64_t i = n / 2 - 1; i >= 0; i--) sift_down(c, i, n);
    for (int64_t e = n - 1; e > 0; e--) {
        nms_cand t = c[0];
        c[0] = c[e];
        c[e] = t;
        sift_down(c, 0, e);
    }
}

/* Runs NMS; writes (batch, class, box) triples to out when not NULL. work
 * holds n candidates and n selected indices. Returns the selected count. */
static int64_t nms_run(const mec_op_ctx *ctx, const nms_geo *g, void *work, int64_t *out) {
    const mec_tensor *boxes = ctx->in[0], *scores = ctx->in[1];
    nms_cand *cand = work;
    int64_t *sel = (int64_t *)(cand + g->n);
    int64_t total = 0;
    if (g->max_out == 0) return 0;
    for (int64_t b = 0; b < g->B; b++)
        for (int64_t c = 0; c < g->C; c++) {
            int64_t nc = 0, ns = 0;
            for (int64_t i = 0; i < g->n; i++) {
                double s = mec_op_load_f64(scores->data, scores->dtype, (b * g->C + c) * g->n + i);
                if (!g->has_score_thr || s > g->score_thr) cand[nc++] = (nms_cand){s, i};
            }
            cand_sort(cand, nc);
            for (int64_t k = 0; k < nc && ns < g->max_out; k++) {
                double bk[4], bs[4];
                nms_box(boxes, (b * g->n + cand[k].index) * 4, g->center, bk);
                bool keep = true;
                for (int64_t j = 0; j < ns && keep; j++) {
                    nms_box(boxes, (b * g->n + sel[j]) * 4, g->center, bs);
                    if (nms_suppress(bk, bs, g->iou)) keep = false;
                }
                if (!keep) continue;
                sel[ns++] = cand[k].index;
                if (out) {
                    out[total * 3] = b;
                    out[total * 3 + 1] = c;
                    out[total * 3 + 2] = cand[k].index;
                }
                total++;
            }
        }
    return total;
}

static mec_status nms_infer(mec_op_ctx *ctx) {
    nms_geo g;
    mec_status st = nms_geometry(ctx, &g);
    if (st) return st;
    size_t bytes;
    if ((st = scratch_for(ctx, g.n, sizeof(nms_cand) + sizeof(int64_t), &bytes))) return st;
    void *work = mec_malloc(bytes);
    if (!work) return MEC_ERR_NOMEM;
    int64_t count = nms_run(ctx, &g, work, NULL);
    mec_free(work);
    int64_t shape[2] = {count, 3};
    return mec_op_set_output(ctx, 0, MEC_I64, 2, shape);
}

static mec_status nms_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    *state = NULL;
    const mec_tensor *b = ctx->in[0];
    int64_t n = b->ndim == 3 ? b->shape[1] : 0;
    return scratch_for(ctx, n, sizeof(nms_cand) + sizeof(int64_t), scratch_bytes);
}

// boxes: (B, n, 4), scores: (B, C, n) -> selected_indices: (k, 3) of (batch, class, box)
static mec_status nms_exec(mec_op_ctx *ctx) {
    nms_geo g;
    mec_status st = nms_geometry(ctx, &g);
    if (st) return st;
    if ((st = need_scratch(ctx, (size_t)g.n * (sizeof(nms_cand) + sizeof(int64_t))))) return st;
    mec_tensor *y = ctx->out[0];
    /* count first so a changed input cannot overrun the output */
    int64_t count = nms_run(ctx, &g, ctx->scratch, NULL);
    if (count != y->shape[0])
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "input changed after shape inference");
    nms_run(ctx, &g, ctx->scratch, y->data);
    return MEC_OK;
}

/* ------------------------------------------------------------- RoiAlign */

typedef struct roi_geo {
    int64_t N, C, H, W, R, oh, ow, sampling;
    double scale;
    bool half_pixel, max_mode;
} roi_geo;

static mec_status roi_geometry(const mec_op_ctx *ctx, roi_geo *g) {
    mec_status st = mec_op_check_arity(ctx, 3, 3);
    if (st) return st;
    if ((st = mec_op_check_dtype(ctx, 0, float_types))) return st;
    const mec_tensor *x = ctx->in[0], *rois = ctx->in[1], *bi = ctx->in[2];
    if (rois->dtype != x->dtype)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "rois have dtype %s, X has %s", mec_dtype_name(rois->dtype),
                          mec_dtype_name(x->dtype));
    if (bi->dtype != MEC_I64 && bi->dtype != MEC_I32)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "batch_indices must be int64");
    if (x->ndim != 4) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "X has %d dims, expected 4", x->ndim);
    if (rois->ndim != 2 || rois->shape[1] != 4)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "rois must be (num_rois, 4)");
    if (bi->ndim != 1 || bi->shape[0] != rois->shape[0])
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "batch_indices must be (%" PRId64 ")", rois->shape[0]);
    g->N = x->shape[0], g->C = x->shape[1], g->H = x->shape[2], g->W = x->shape[3];
    g->R = rois->shape[0];
    g->oh = mec_node_int(ctx->node, "output_height", 1);
    g->ow = mec_node_int(ctx->node, "output_width", 1);
    g->sampling = mec_node_int(ctx->node, "sampling_ratio", 0);
    g->scale = mec_node_float(ctx->node, "spatial_scale", 1.0f);
    if (g->oh <= 0 || g->ow <= 0 || g->sampling < 0)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "output_height %" PRId64 ", output_width %" PRId64
                          " must be positive and sampling_ratio %" PRId64 " non-negative", g->oh, g->ow, g->sampling);
    const char *mode = mec_node_string(ctx->node, "mode", "avg");
    if (strcmp(mode, "avg") && strcmp(mode, "max"))
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "mode '%s' is not avg or max", mode);
    g->max_mode = !strcmp(mode, "max");
    const char *ctm = mec_node_string(ctx->node, "coordinate_transformation_mode",
                                      ctx->opset >= 16 ? "half_pixel" : "output_half_pixel");
    if (strcmp(ctm, "half_pixel") && strcmp(ctm, "output_half_pixel"))
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "coordinate_transformation_mode '%s' is not "
                          "half_pixel or output_half_pixel", ctm);
    g->half_pixel = !strcmp(ctm, "half_pixel");
    return MEC_OK;
}

static mec_status roi_infer(mec_op_ctx *ctx) {
    roi_geo g;
    mec_status st = roi_geometry(ctx, &g);
    if (st) return st;
    int64_t shape[4] = {g.R, g.C, g.oh, g.ow};
    return mec_op_set_output(ctx, 0, ctx->in[0]->dtype, 4, shape);
}

/* Bilinear sample of plane p at (y, x) as ONNX Runtime's RoiAlign takes it:
 * the four weighted taps (for max mode, which keeps the largest tap). */
static void roi_taps(const mec_tensor *x, int64_t plane, const roi_geo *g, double y, double xx,
                     double tap[4]) {
    tap[0] = tap[1] = tap[2] = tap[3] = 0.0;
    if (y < -1.0 || y > (double)g->H || xx < -1.0 || xx > (double)g->W) return;
    if (y <= 0) y = 0;
    if (xx <= 0) xx = 0;
    int64_t y0 = (int64_t)y, x0 = (int64_t)xx, y1, x1;
    if (y0 >= g->H - 1) y1 = y0 = g->H - 1, y = (double)y0;
    else y1 = y0 + 1;
    if (x0 >= g->W - 1) x1 = x0 = g->W - 1, xx = (double)x0;
    else x1 = x0 + 1;
    double ly = y - (double)y0, lx = xx - (double)x0, hy = 1.0 - ly, hx = 1.0 - lx;
    int64_t base = plane * g->H * g->W;
    tap[0] = hy * hx * mec_op_load_f64(x->data, x->dtype, base + y0 * g->W + x0);
    tap[1] = hy * lx * mec_op_load_f64(x->data, x->dtype, base + y0 * g->W + x1);
    tap[2] = ly * hx * mec_op_load_f64(x->data, x->dtype, base + y1 * g->W + x0);
    tap[3] = ly * lx * mec_op_load_f64(x->data, x->dtype, base + y1 * g->W + x1);
}

// X: (N, C, H, W), rois: (R, 4) as (x1, y1, x2, y2), batch_indices: (R) -> Y: (R, C, oh, ow)
static mec_status roi_exec(mec_op_ctx *ctx) {
    roi_geo g;
    mec_status st = roi_geometry(ctx, &g);
    if (st) return st;
    const mec_tensor *x = ctx->in[0], *rois = ctx->in[1], *bi = ctx->in[2];
    mec_tensor *y = ctx->out[0];
    double off = g.half_pixel ? 0.5 : 0.0;
    for (int64_t r = 0; r < g.R; r++) {
        int64_t b = mec_tensor_get_i64(bi, r);
        if (b < 0 || b >= g.N)
            return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "batch_indices[%" PRId64 "] = %" PRId64 " is outside [0, %" PRId64 ")",
                              r, b, g.N);
        double sw = mec_op_load_f64(rois->data, rois->dtype, r * 4) * g.scale - off;
        double sh = mec_op_load_f64(rois->data, rois->dtype, r * 4 + 1) * g.scale - off;
        double ew = mec_op_load_f64(rois->data, rois->dtype, r * 4 + 2) * g.scale - off;
        double eh = mec_op_load_f64(rois->data, rois->dtype, r * 4 + 3) * g.scale - off;
        double rw = ew - sw, rh = eh - sh;
        if (!g.half_pixel) {
            rw = fmax(rw, 1.0);
            rh = fmax(rh, 1.0);
        }
        double bh = rh / (double)g.oh, bw = rw / (double)g.ow;
        int64_t gh = g.sampling > 0 ? g.sampling : (int64_t)ceil(rh / (double)g.oh);
        int64_t gw = g.sampling > 0 ? g.sampling : (int64_t)ceil(rw / (double)g.ow);
        if (gh < 0) gh = 0;
        if (gw < 0) gw = 0;
        double count = (double)(gh * gw > 1 ? gh * gw : 1);
        for (int64_t c = 0; c < g.C; c++)
            for (int64_t ph = 0; ph < g.oh; ph++)
                for (int64_t pw = 0; pw < g.ow; pw++) {
                    double acc = 0.0;
                    bool first = true;
                    for (int64_t iy = 0; iy < gh; iy++) {
                        double yy = sh + (double)ph * bh + ((double)iy + 0.5) * bh / (double)gh;
                        for (int64_t ix = 0; ix < gw; ix++) {
                            double xx = sw + (double)pw * bw + ((double)ix + 0.5) * bw / (double)gw;
                            double t[4];
                            roi_taps(x, b * g.C + c, &g, yy, xx, t);
                            if (g.max_mode) {
                                double v = fmax(fmax(t[0], t[1]), fmax(t[2], t[3]));
                                acc = first ? v : fmax(acc, v);
                                first = false;
                            } else {
                                acc += t[0] + t[1] + t[2] + t[3];
                            }
                        }
                    }
                    mec_op_store_f64(y->data, y->dtype, ((r * g.C + c) * g.oh + ph) * g.ow + pw,
                                     g.max_mode ? acc : acc / count);
                }
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- GridSample */

enum gs_mode { GS_BILINEAR, GS_NEAREST, GS_BICUBIC };
enum gs_pad { GS_ZEROS, GS_BORDER, GS_REFLECTION };

typedef struct gs_geo {
    int64_t N, C, H, W, oh, ow;
    enum gs_mode mode;
    enum gs_pad pad;
    bool align;
} gs_geo;

static mec_status gs_geometry(const mec_op_ctx *ctx, gs_geo *g) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    if ((st = mec_op_check_dtype(ctx, 0, float_types)) || (st = mec_op_check_dtype(ctx, 1, float_types))) return st;
    const mec_tensor *x = ctx->in[0], *grid = ctx->in[1];
    if (x->ndim != 4) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "X has %d dims, expected 4 (N, C, H, W)", x->ndim);
    if (grid->ndim != 4 || grid->shape[0] != x->shape[0] || grid->shape[3] != 2)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "grid must be (%" PRId64 ", H_out, W_out, 2)", x->shape[0]);
    g->N = x->shape[0], g->C = x->shape[1], g->H = x->shape[2], g->W = x->shape[3];
    g->oh = grid->shape[1], g->ow = grid->shape[2];
    const char *mode = mec_node_string(ctx->node, "mode", "bilinear");
    if (!strcmp(mode, "bilinear")) g->mode = GS_BILINEAR;
    else if (!strcmp(mode, "nearest")) g->mode = GS_NEAREST;
    else if (!strcmp(mode, "bicubic")) g->mode = GS_BICUBIC;
    else return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "mode '%s' is not bilinear, nearest or bicubic", mode);
    const char *pad = mec_node_string(ctx->node, "padding_mode", "zeros");
    if (!strcmp(pad, "zeros")) g->pad = GS_ZEROS;
    else if (!strcmp(pad, "border")) g->pad = GS_BORDER;
    else if (!strcmp(pad, "reflection")) g->pad = GS_REFLECTION;
    else return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "padding_mode '%s' is not zeros, border or reflection", pad);
    g->align = mec_node_int(ctx->node, "align_corners", 0) != 0;
    return MEC_OK;
}

static mec_status gs_infer(mec_op_ctx *ctx) {
    gs_geo g;
    mec_status st = gs_geometry(ctx, &g);
    if (st) return st;
    int64_t shape[4] = {g.N, g.C, g.oh, g.ow};
    return mec_op_set_output(ctx, 0, ctx->in[0]->dtype, 4, shape);
}

/* Reflects x into [lo, hi] (repeatedly, as a mirror). */
static double gs_reflect(double x, double lo, double hi) {
    double rng = hi - lo;
    if (rng <= 0) return lo;
    if (x < lo) {
        double dx = lo - x;
        int64_t n = (int64_t)(dx / rng);
        double r = dx - (double)n * rng;
        return n % 2 == 0 ? lo + r : hi - r;
    }
    if (x > hi) {
        double dx = x - hi;
        int64_t n = (int64_t)(dx / rng);
        double r = dx - (double)n * rng;
        return n % 2 == 0 ? hi - r : lo + r;
    }
    return x;
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Pixel (r, c) of a plane with the padding rule for taps outside. */
static double gs_pixel(const mec_tensor *x, int64_t base, const gs_geo *g, int64_t r, int64_t c) {
    if (g->pad == GS_ZEROS) {
        if (r < 0 || r >= g->H || c < 0 || c >= g->W) return 0.0;
    } else if (g->pad == GS_BORDER) {
        r = r < 0 ? 0 : r >= g->H ? g->H - 1 : r;
        c = c < 0 ? 0 : c >= g->W ? g->W - 1 : c;
    } else {
        double lo_x = g->align ? 0 : -0.5, hi_x = g->align ? (double)g->W - 1 : (double)g->W - 0.5;
        double lo_y = g->align ? 0 : -0.5, hi_y = g->align ? (double)g->H - 1 : (double)g->H - 0.5;
        c = (int64_t)gs_reflect((double)c, lo_x, hi_x);
        r = (int64_t)gs_reflect((double)r, lo_y, hi_y);
        r = r < 0 ? 0 : r >= g->H ? g->H - 1 : r;
        c = c < 0 ? 0 : c >= g->W ? g->W - 1 : c;
    }
    return mec_op_load_f64(x->data, x->dtype, base + r * g->W + c);
}

static void cubic_coeffs(double t, double w[4]) {
    const double A = -0.75;
    double t1 = t + 1, t2 = 1 - t;
    w[0] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
    w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    w[2] = ((A + 2) * t2 - (A + 3)) * t2 * t2 + 1;
    w[3] = 1 - w[0] - w[1] - w[2];
}

// X: (N, C, H, W), grid: (N, Ho, Wo, 2) of normalised (x, y) in [-1, 1] -> Y: (N, C, Ho, Wo)
static mec_status gs_exec(mec_op_ctx *ctx) {
    gs_geo g;
    mec_status st = gs_geometry(ctx, &g);
    if (st) return st;
    const mec_tensor *x = ctx->in[0], *grid = ctx->in[1];
    mec_tensor *y = ctx->out[0];
    double lo_x = g.align ? 0 : -0.5, hi_x = g.align ? (double)g.W - 1 : (double)g.W - 0.5;
    double lo_y = g.align ? 0 : -0.5, hi_y = g.align ? (double)g.H - 1 : (double)g.H - 0.5;
    for (int64_t n = 0; n < g.N; n++)
        for (int64_t oy = 0; oy < g.oh; oy++)
            for (int64_t ox = 0; ox < g.ow; ox++) {
                int64_t gi = ((n * g.oh + oy) * g.ow + ox) * 2;
                double nx = mec_op_load_f64(grid->data, grid->dtype, gi),
                       ny = mec_op_load_f64(grid->data, grid->dtype, gi + 1);
                double px = g.align ? (nx + 1) / 2 * (double)(g.W - 1) : ((nx + 1) * (double)g.W - 1) / 2;
                double py = g.align ? (ny + 1) / 2 * (double)(g.H - 1) : ((ny + 1) * (double)g.H - 1) / 2;
                if (g.mode == GS_NEAREST) {
                    px = nearbyint(px);
                    py = nearbyint(py);
                }
                if (g.pad == GS_BORDER) {
                    px = clampd(px, 0, (double)g.W - 1);
                    py = clampd(py, 0, (double)g.H - 1);
                } else if (g.pad == GS_REFLECTION) {
                    px = gs_reflect(px, lo_x, hi_x);
                    py = gs_reflect(py, lo_y, hi_y);
                }
                for (int64_t c = 0; c < g.C; c++) {
                    int64_t base = (n * g.C + c) * g.H * g.W;
                    double v;
                    if (g.mode == GS_NEAREST) {
                        v = gs_pixel(x, base, &g, (int64_t)nearbyint(py), (int64_t)nearbyint(px));
                    } else if (g.mode == GS_BILINEAR) {
                        double fx = floor(px), fy = floor(py), lx = px - fx, ly = py - fy;
                        int64_t x0 = (int64_t)fx, y0 = (int64_t)fy;
                        v = (1 - ly) * ((1 - lx) * gs_pixel(x, base, &g, y0, x0) + lx * gs_pixel(x, base, &g, y0, x0 + 1)) +
                            ly * ((1 - lx) * gs_pixel(x, base, &g, y0 + 1, x0) + lx * gs_pixel(x, base, &g, y0 + 1, x0 + 1));
                    } else {
                        double fx = floor(px), fy = floor(py), wx[4], wy[4];
                        cubic_coeffs(px - fx, wx);
                        cubic_coeffs(py - fy, wy);
                        int64_t x0 = (int64_t)fx - 1, y0 = (int64_t)fy - 1;
                        v = 0.0;
                        for (int i = 0; i < 4; i++) {
                            double row = 0.0;
                            for (int j = 0; j < 4; j++) row += wx[j] * gs_pixel(x, base, &g, y0 + i, x0 + j);
                            v += wy[i] * row;
                        }
                    }
                    mec_op_store_f64(y->data, y->dtype, ((n * g.C + c) * g.oh + oy) * g.ow + ox, v);
                }
            }
    return MEC_OK;
}

/* ------------------------------------------------------------- MaxUnpool */

/* shape: the output's; dflt: the shape pooling inverts, in which the indices
 * are flat positions (an output_shape larger than it pads at the ends). */
static mec_status unpool_shape(const mec_op_ctx *ctx, int64_t *shape, int64_t *dflt) {
    mec_status st = mec_op_check_arity(ctx, 2, 3);
    if (st) return st;
    if ((st = mec_op_check_dtype(ctx, 0, float_types))) return st;
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1];
    if (idx->dtype != MEC_I64)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "indices must be int64, not %s", mec_dtype_name(idx->dtype));
    if (!mec_tensor_same_shape(x, idx))
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "indices must have X's shape");
    if (x->ndim < 3) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "X has %d dims, expected at least 3", x->ndim);
    int nsp = x->ndim - 2;
    const int64_t *ks = NULL, *pads = NULL, *strides = NULL;
    int64_t nk = mec_node_ints(ctx->node, "kernel_shape", &ks);
    int64_t np = mec_node_ints(ctx->node, "pads", &pads);
    int64_t ns = mec_node_ints(ctx->node, "strides", &strides);
    if (nk != nsp)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "kernel_shape has %" PRId64 " values, expected %d", nk, nsp);
    if (np >= 0 && np != 2 * nsp)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "pads has %" PRId64 " values, expected %d", np, 2 * nsp);
    if (ns >= 0 && ns != nsp)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "strides has %" PRId64 " values, expected %d", ns, nsp);
    shape[0] = x->shape[0];
    shape[1] = x->shape[1];
    for (int d = 0; d < nsp; d++) {
        int64_t s = ns >= 0 ? strides[d] : 1, pb = np >= 0 ? pads[d] : 0, pe = np >= 0 ? pads[nsp + d] : 0;
        if (ks[d] <= 0 || s <= 0 || pb < 0 || pe < 0)
            return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "kernel %" PRId64 ", stride %" PRId64 " or pads (%" PRId64
                              ", %" PRId64 ") of spatial dim %d are invalid", ks[d], s, pb, pe, d);
        shape[2 + d] = (x->shape[2 + d] - 1) * s - pb - pe + ks[d];
        if (shape[2 + d] < 0)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "output spatial dim %d would be negative", d);
    }
    memcpy(dflt, shape, sizeof(int64_t) * (size_t)x->ndim);
    if (present(ctx, 2)) {
        int64_t os[MEC_MAX_DIMS];
        int n;
        if ((st = mec_op_read_ints(ctx, 2, os, MEC_MAX_DIMS, &n))) return st;
        if (n != x->ndim)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "output_shape has %d values, expected %d", n, x->ndim);
        for (int d = 0; d < n; d++) {
            if (d < 2 ? os[d] != shape[d] : os[d] < shape[d])
                return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "output_shape[%d] = %" PRId64 " is invalid (default %" PRId64 ")",
                                  d, os[d], shape[d]);
            shape[d] = os[d];
        }
    }
    return MEC_OK;
}

static mec_status unpool_infer(mec_op_ctx *ctx) {
    int64_t shape[MEC_MAX_DIMS], dflt[MEC_MAX_DIMS];
    mec_status st = unpool_shape(ctx, shape, dflt);
    if (st) return st;
    return mec_op_set_output(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->ndim, shape);
}

// X, I: (N, C, d...) -> Y: (N, C, D...) zero but Y.flat[I[i]] = X[i]
static mec_status unpool_exec(mec_op_ctx *ctx) {
    int64_t shape[MEC_MAX_DIMS], dflt[MEC_MAX_DIMS];
    mec_status st = unpool_shape(ctx, shape, dflt);
    if (st) return st;
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1];
    mec_tensor *y = ctx->out[0];
    int r = x->ndim;
    int64_t n = mec_tensor_numel(x), total = numel_of(r, dflt);
    const int64_t *ip = idx->data;
    memset(y->data, 0, mec_tensor_bytes(y));
    for (int64_t i = 0; i < n; i++) {
        if (ip[i] < 0 || ip[i] >= total)
            return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "index %" PRId64 " at %" PRId64 " is outside [0, %" PRId64 ")",
                              ip[i], i, total);
        /* position in the default shape, re-flattened in the output's */
        int64_t rem = ip[i], pos = 0, stride = 1;
        for (int d = r - 1; d >= 0; d--) {
            pos += (rem % dflt[d]) * stride;
            rem /= dflt[d];
            stride *= shape[d];
        }
        mec_op_store_f64(y->data, y->dtype, pos, mec_op_load_f64(x->data, x->dtype, i));
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- Unique */

/* Items are X's elements (no axis) or slices along axis; item k's element e
 * (e over outer × inner) sits at (o * n + k) * inner + i. */
typedef struct uniq_geo {
    bool has_axis, sorted;
    int axis;
    int64_t n, outer, inner;
} uniq_geo;

static mec_status uniq_geometry(const mec_op_ctx *ctx, uniq_geo *g) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    if (mec_dtype_size(x->dtype) == 0 || x->dtype == MEC_STRING)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "input has dtype %s", mec_dtype_name(x->dtype));
    if (ctx->n_out > 4) return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "has %d outputs, expected at most 4", ctx->n_out);
    g->sorted = mec_node_int(ctx->node, "sorted", 1) != 0;
    g->has_axis = mec_node_attr(ctx->node, "axis") != NULL;
    g->outer = g->inner = 1;
    if (g->has_axis) {
        if ((st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", 0), x->ndim, &g->axis))) return st;
        g->n = x->shape[g->axis];
        g->outer = numel_of(g->axis, x->shape);
        g->inner = numel_of(x->ndim - g->axis - 1, x->shape + g->axis + 1);
    } else {
        g->n = mec_tensor_numel(x);
    }
    return MEC_OK;
}

static int cmp_elem(const mec_tensor *x, int64_t i, int64_t j) {
    switch (x->dtype) {
    case MEC_F32: case MEC_F64: case MEC_F16: case MEC_BF16: {
        double a = mec_op_load_f64(x->data, x->dtype, i), b = mec_op_load_f64(x->data, x->dtype, j);
        return a < b ? -1 : a > b ? 1 : 0;
    }
    case MEC_U64: {
        uint64_t a = ((const uint64_t *)x->data)[i], b = ((const uint64_t *)x->data)[j];
        return a < b ? -1 : a > b ? 1 : 0;
    }
    default: {
        int64_t a = mec_tensor_get_i64(x, i), b = mec_tensor_get_i64(x, j);
        return a < b ? -1 : a > b ? 1 : 0;
    }
    }
}

static int cmp_item(const mec_tensor *x, const uniq_geo *g, int64_t a, int64_t b) {
    for (int64_t o = 0; o < g->outer; o++)
        for (int64_t i = 0; i < g->inner; i++) {
            int c = cmp_elem(x, (o * g->n + a) * g->inner + i, (o * g->n + b) * g->inner + i);
            if (c) return c;
        }
    return 0;
}

/* Stable merge sort of idx[0..n) by key; tmp holds n. by_value: compare
 * items of x; else compare key[] values. */
static void merge_sort(int64_t *idx, int64_t *tmp, int64_t n, const mec_tensor *x, const uniq_geo *g,
                       const int64_t *key) {
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                int c = key ? (key[idx[j]] < key[idx[i]] ? -1 : 0) : cmp_item(x, g, idx[j], idx[i]);
                tmp[k++] = c < 0 ? idx[j++] : idx[i++];
            }
            while (i < mid) tmp[k++] = idx[i++];
            while (j < hi) tmp[k++] = idx[j++];
        }
        memcpy(idx, tmp, sizeof(int64_t) * (size_t)n);
    }
}

/* Groups equal items. work holds 5n int64: order, tmp, group_of (per item,
 * the group's output slot), first (per output slot, the first item), spare.
 * Returns the number of unique items. */
static int64_t uniq_run(const mec_tensor *x, const uniq_geo *g, int64_t *work) {
    int64_t n = g->n, *order = work, *tmp = work + n, *group_of = work + 2 * n, *first = work + 3 * n;
    for (int64_t i = 0; i < n; i++) order[i] = i;
    merge_sort(order, tmp, n, x, g, NULL);
    int64_t u = 0;
    for (int64_t k = 0; k < n; k++) {
        if (k == 0 || cmp_item(x, g, order[k - 1], order[k])) first[u++] = order[k];
        group_of[order[k]] = u - 1;
    }
    if (!g->sorted) {
        /* slots in order of first occurrence: sort slots by their first item */
        int64_t *slots = order, *rank = tmp;
        for (int64_t s = 0; s < u; s++) slots[s] = s;
        merge_sort(slots, work + 4 * n, u, x, g, first);
        for (int64_t s = 0; s < u; s++) rank[slots[s]] = s;
        for (int64_t i = 0; i < n; i++) group_of[i] = rank[group_of[i]];
        for (int64_t s = 0; s < u; s++) slots[s] = first[slots[s]];
        memcpy(first, slots, sizeof(int64_t) * (size_t)u);
    }
    return u;
}

static mec_status uniq_infer(mec_op_ctx *ctx) {
    uniq_geo g;
    mec_status st = uniq_geometry(ctx, &g);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    if (!x->data) return MEC_ERR_DEFER;
    size_t bytes;
    if ((st = scratch_for(ctx, 5 * g.n, sizeof(int64_t), &bytes))) return st;
    int64_t *work = mec_malloc(bytes);
    if (!work) return MEC_ERR_NOMEM;
    int64_t u = uniq_run(x, &g, work);
    mec_free(work);
    int64_t shape[MEC_MAX_DIMS];
    if (g.has_axis) {
        memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
        shape[g.axis] = u;
        st = mec_op_set_output(ctx, 0, x->dtype, x->ndim, shape);
    } else {
        st = mec_op_set_output(ctx, 0, x->dtype, 1, &u);
    }
    if (st || (st = mec_op_set_output(ctx, 1, MEC_I64, 1, &u)) ||
        (st = mec_op_set_output(ctx, 2, MEC_I64, 1, &g.n)))
        return st;
    return mec_op_set_output(ctx, 3, MEC_I64, 1, &u);
}

static mec_status uniq_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    uniq_geo g;
    *state = NULL;
    mec_status st = uniq_geometry(ctx, &g);
    return st ? st : scratch_for(ctx, 5 * g.n, sizeof(int64_t), scratch_bytes);
}

// x -> y: unique items, indices: first occurrence, inverse_indices: (n), counts
static mec_status uniq_exec(mec_op_ctx *ctx) {
    uniq_geo g;
    mec_status st = uniq_geometry(ctx, &g);
    if (st) return st;
    if ((st = need_scratch(ctx, (size_t)(5 * g.n) * sizeof(int64_t)))) return st;
    const mec_tensor *x = ctx->in[0];
    int64_t *work = ctx->scratch, *group_of = work + 2 * g.n, *first = work + 3 * g.n;
    int64_t u = uniq_run(x, &g, work);
    mec_tensor *y = ctx->out[0];
    if (y && (g.has_axis ? y->shape[g.axis] : y->shape[0]) != u)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "input changed after shape inference");
    size_t es = mec_dtype_size(x->dtype);
    if (y)
        for (int64_t o = 0; o < g.outer; o++)
            for (int64_t s = 0; s < u; s++)
                memcpy((char *)y->data + (size_t)((o * u + s) * g.inner) * es,
                       (const char *)x->data + (size_t)((o * g.n + first[s]) * g.inner) * es,
                       (size_t)g.inner * es);
    mec_tensor *yi = ctx->n_out > 1 ? ctx->out[1] : NULL, *yinv = ctx->n_out > 2 ? ctx->out[2] : NULL;
    mec_tensor *yc = ctx->n_out > 3 ? ctx->out[3] : NULL;
    if (yi) memcpy(yi->data, first, sizeof(int64_t) * (size_t)u);
    if (yinv) memcpy(yinv->data, group_of, sizeof(int64_t) * (size_t)g.n);
    if (yc) {
        int64_t *cnt = yc->data;
        memset(cnt, 0, sizeof(int64_t) * (size_t)u);
        for (int64_t i = 0; i < g.n; i++) cnt[group_of[i]]++;
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- ReverseSequence */

static mec_status revseq_geometry(const mec_op_ctx *ctx, int *time_axis, int *batch_axis) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    const mec_tensor *x = ctx->in[0], *sl = ctx->in[1];
    if (mec_dtype_size(x->dtype) == 0)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "input has dtype %s", mec_dtype_name(x->dtype));
    if (x->ndim < 2) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input has %d dims, expected at least 2", x->ndim);
    int64_t ta = mec_node_int(ctx->node, "time_axis", 0), ba = mec_node_int(ctx->node, "batch_axis", 1);
    if (!((ta == 0 && ba == 1) || (ta == 1 && ba == 0)))
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "time_axis %" PRId64 " and batch_axis %" PRId64
                          " must be 0 and 1 in some order", ta, ba);
    if (sl->dtype != MEC_I64 && sl->dtype != MEC_I32)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "sequence_lens must be int64");
    if (sl->ndim != 1 || sl->shape[0] != x->shape[ba])
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "sequence_lens must be (%" PRId64 ")", x->shape[ba]);
    *time_axis = (int)ta;
    *batch_axis = (int)ba;
    return MEC_OK;
}

static mec_status revseq_infer(mec_op_ctx *ctx) {
    int ta, ba;
    mec_status st = revseq_geometry(ctx, &ta, &ba);
    return st ? st : mec_op_output_like(ctx, 0, 0);
}

// x: (T, B, ...) or (B, T, ...), sequence_lens: (B) -> y: each x[:len_b] reversed along time
static mec_status revseq_exec(mec_op_ctx *ctx) {
    int ta, ba;
    mec_status st = revseq_geometry(ctx, &ta, &ba);
    if (st) return st;
    const mec_tensor *x = ctx->in[0], *sl = ctx->in[1];
    mec_tensor *y = ctx->out[0];
    int64_t T = x->shape[ta], B = x->shape[ba], inner = numel_of(x->ndim - 2, x->shape + 2);
    size_t es = mec_dtype_size(x->dtype), row = (size_t)inner * es;
    for (int64_t b = 0; b < B; b++) {
        int64_t len = mec_tensor_get_i64(sl, b);
        if (len < 0 || len > T)
            return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "sequence_lens[%" PRId64 "] = %" PRId64 " is outside [0, %" PRId64 "]",
                              b, len, T);
        for (int64_t t = 0; t < T; t++) {
            int64_t src = t < len ? len - 1 - t : t;
            int64_t di = ta == 0 ? t * B + b : b * T + t, si = ta == 0 ? src * B + b : b * T + src;
            memcpy((char *)y->data + (size_t)di * row, (const char *)x->data + (size_t)si * row, row);
        }
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- Det */

static mec_status det_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    if ((st = mec_op_check_dtype(ctx, 0, float_types))) return st;
    const mec_tensor *x = ctx->in[0];
    if (x->ndim < 2 || x->shape[x->ndim - 1] != x->shape[x->ndim - 2])
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input must be (..., M, M)");
    return mec_op_set_output(ctx, 0, x->dtype, x->ndim - 2, x->shape);
}

static mec_status det_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    *state = NULL;
    const mec_tensor *x = ctx->in[0];
    int64_t m = x->ndim >= 2 ? x->shape[x->ndim - 1] : 0;
    return scratch_for(ctx, m * m, sizeof(double), scratch_bytes);
}

// x: (..., M, M) -> y: (...) by LU with partial pivoting in double
static mec_status det_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int64_t m = x->shape[x->ndim - 1], mats = numel_of(x->ndim - 2, x->shape);
    mec_status st = need_scratch(ctx, (size_t)(m * m) * sizeof(double));
    if (st) return st;
    double *a = ctx->scratch;
    for (int64_t k = 0; k < mats; k++) {
        for (int64_t i = 0; i < m * m; i++)
            a[i] = mec_op_load_f64(x->data, x->dtype, k * m * m + i);
        double det = 1.0;
        for (int64_t c = 0; c < m && det != 0.0; c++) {
            int64_t p = c;
            for (int64_t r = c + 1; r < m; r++)
                if (fabs(a[r * m + c]) > fabs(a[p * m + c])) p = r;
            if (a[p * m + c] == 0.0) {
                det = 0.0;
                break;
            }
            if (p != c) {
                for (int64_t j = 0; j < m; j++) {
                    double t = a[c * m + j];
                    a[c * m + j] = a[p * m + j];
                    a[p * m + j] = t;
                }
                det = -det;
            }
            det *= a[c * m + c];
            for (int64_t r = c + 1; r < m; r++) {
                double f = a[r * m + c] / a[c * m + c];
                for (int64_t j = c; j < m; j++) a[r * m + j] -= f * a[c * m + j];
            }
        }
        mec_op_store_f64(y->data, y->dtype, k, det);
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- Einsum */

/* Labels: 'a'..'z' are 0..25, 'A'..'Z' 26..51, ellipsis dims 52.. */
#define EIN_LABELS (52 + MEC_MAX_DIMS)
#define EIN_MAX_OPS 16

typedef struct ein_plan {
    int n_ops;
    int op_nl[EIN_MAX_OPS];               /* labels per operand (= its rank) */
    int op_lab[EIN_MAX_OPS][MEC_MAX_DIMS];
    int n_out;
    int out_lab[MEC_MAX_DIMS];
    int n_sum;                            /* labels summed over */
    int sum_lab[EIN_LABELS];
    int64_t size[EIN_LABELS];             /* -1 = unused */
} ein_plan;

static int ein_label(char c) {
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
    return -1;
}

/* Parses one term (operand or output) of the equation into labels; the
 * ellipsis becomes `ell` labels 52 + (E - ell) .. 52 + E - 1 (right-aligned). */
static mec_status ein_term(const mec_op_ctx *ctx, const char *s, size_t len, int rank, int E, bool is_out,
                           int *lab, int *n, int *ell_dims) {
    int explicit_n = 0;
    bool ell = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ') continue;
        if (s[i] == '.') {
            if (ell || i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.')
                return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "equation has a malformed ellipsis");
            ell = true;
            i += 2;
            continue;
        }
        if (ein_label(s[i]) < 0)
            return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "equation has an invalid character '%c'", s[i]);
        explicit_n++;
    }
    int ed = ell ? (is_out ? E : rank - explicit_n) : 0;
    if (!is_out && (ell ? ed < 0 : explicit_n != rank))
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "equation term '%.*s' does not match an input of rank %d",
                          (int)len, s, rank);
    if (explicit_n + ed > MEC_MAX_DIMS)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "equation term has more than %d dims", MEC_MAX_DIMS);
    int k = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ') continue;
        if (s[i] == '.') {
            for (int e = 0; e < ed; e++) lab[k++] = 52 + (E - ed) + e;
            i += 2;
            continue;
        }
        lab[k++] = ein_label(s[i]);
    }
    *n = k;
    if (ell_dims) *ell_dims = ed;
    return MEC_OK;
}

static mec_status ein_parse(const mec_op_ctx *ctx, ein_plan *p) {
    const char *eq = mec_node_string(ctx->node, "equation", NULL);
    if (!eq) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute 'equation' is missing");
    const char *arrow = strstr(eq, "->");
    size_t lhs_len = arrow ? (size_t)(arrow - eq) : strlen(eq);
    if (ctx->n_in < 1 || ctx->n_in > EIN_MAX_OPS)
        return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "has %d inputs, expected 1..%d", ctx->n_in, EIN_MAX_OPS);
    /* split the left side by commas */
    const char *starts[EIN_MAX_OPS];
    size_t lens[EIN_MAX_OPS];
    int terms = 0;
    const char *t = eq;
    for (size_t i = 0; i <= lhs_len; i++) {
        if (i == lhs_len || eq[i] == ',') {
            if (terms >= EIN_MAX_OPS) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "equation has too many terms");
            starts[terms] = t;
            lens[terms++] = (size_t)(eq + i - t);
            t = eq + i + 1;
        }
    }
    if (terms != ctx->n_in)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "equation '%s' has %d terms for %d inputs", eq, terms, ctx->n_in);
    p->n_ops = terms;
    /* the ellipsis spans the most dims any operand gives it */
    int E = 0;
    for (int i = 0; i < terms; i++) {
        if (!ctx->in[i]) return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "input %d is missing", i);
        int ed, lab[MEC_MAX_DIMS], n;
        mec_status st = ein_term(ctx, starts[i], lens[i], ctx->in[i]->ndim, 0, false, lab, &n, &ed);
        if (st) return st;
        if (ed > E) E = ed;
    }
    for (int l = 0; l < EIN_LABELS; l++) p->size[l] = -1;
    int count[EIN_LABELS] = {0};
    for (int i = 0; i < terms; i++) {
        const mec_tensor *x = ctx->in[i];
        mec_status st = ein_term(ctx, starts[i], lens[i], x->ndim, E, false, p->op_lab[i], &p->op_nl[i], NULL);
        if (st) return st;
        for (int d = 0; d < p->op_nl[i]; d++) {
            int l = p->op_lab[i][d];
            int64_t s = x->shape[d];
            count[l]++;
            /* letters must agree exactly; ellipsis dims broadcast from 1 */
            if (p->size[l] < 0 || (l >= 52 && p->size[l] == 1)) p->size[l] = s;
            else if (s != p->size[l] && !(l >= 52 && s == 1))
                return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d dim %d has size %" PRId64 ", its label has size %" PRId64,
                                  i, d, s, p->size[l]);
        }
    }
    for (int l = 52; l < 52 + E; l++)
        if (p->size[l] < 0) p->size[l] = 1;
    bool in_out[EIN_LABELS] = {false};
    if (arrow) {
        const char *o = arrow + 2;
        mec_status st = ein_term(ctx, o, strlen(o), 0, E, true, p->out_lab, &p->n_out, NULL);
        if (st) return st;
        for (int k = 0; k < p->n_out; k++) {
            int l = p->out_lab[k];
            if (p->size[l] < 0)
                return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "output label %d of '%s' is not in any input", k, o);
            if (in_out[l]) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "output repeats a label");
            in_out[l] = true;
        }
    } else {
        /* implicit: ellipsis dims, then letters seen once, alphabetically */
        p->n_out = 0;
        for (int l = 52; l < 52 + E; l++) p->out_lab[p->n_out++] = l;
        static const int order[52] = {26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
                                      45, 46, 47, 48, 49, 50, 51, 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                      12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25};
        for (int k = 0; k < 52; k++) {
            int l = order[k];
            if (count[l] == 1) {
                if (p->n_out >= MEC_MAX_DIMS)
                    return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "output would have more than %d dims", MEC_MAX_DIMS);
                p->out_lab[p->n_out++] = l;
            }
        }
        for (int k = 0; k < p->n_out; k++) in_out[p->out_lab[k]] = true;
    }
    p->n_sum = 0;
    for (int l = 0; l < EIN_LABELS; l++)
        if (p->size[l] >= 0 && !in_out[l]) p->sum_lab[p->n_sum++] = l;
    return MEC_OK;
}

static const mec_dtype ein_types[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, MEC_I32, MEC_I64, MEC_U32, MEC_U64, 0};

static mec_status ein_infer(mec_op_ctx *ctx) {
    ein_plan p;
    mec_status st = ein_parse(ctx, &p);
    if (st) return st;
    for (int i = 0; i < ctx->n_in; i++) {
        if ((st = mec_op_check_dtype(ctx, i, ein_types))) return st;
        if (ctx->in[i]->dtype != ctx->in[0]->dtype)
            return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input %d has dtype %s, input 0 has %s", i,
                              mec_dtype_name(ctx->in[i]->dtype), mec_dtype_name(ctx->in[0]->dtype));
    }
    int64_t shape[MEC_MAX_DIMS];
    for (int k = 0; k < p.n_out; k++) shape[k] = p.size[p.out_lab[k]];
    return mec_op_set_output(ctx, 0, ctx->in[0]->dtype, p.n_out, shape);
}

/* Per operand, its element stride for each label (0 where broadcast or
 * absent; a label repeated in one operand sums its strides: the diagonal). */
static void ein_strides(const mec_op_ctx *ctx, const ein_plan *p, int64_t (*lstride)[EIN_LABELS]) {
    for (int i = 0; i < p->n_ops; i++) {
        const mec_tensor *x = ctx->in[i];
        memset(lstride[i], 0, sizeof lstride[i]);
        int64_t s = 1;
        for (int d = x->ndim - 1; d >= 0; d--) {
            int l = p->op_lab[i][d];
            if (l < 52 || x->shape[d] != 1) lstride[i][l] += s;
            s *= x->shape[d];
        }
    }
}

/* Two float32 operands run as a batched GEMM: every output label in both
 * operands is a batch label, in A only an M label, in B only an N label;
 * every other label is contracted (K; stride 0 in an operand without it,
 * which sums that operand's label out). A and B are packed to (batch, M, K)
 * and (batch, K, N) in scratch, the product lands in scratch and is
 * scattered to the output's label order. */
typedef struct ein_mm {
    int nl[4];             /* labels per class: batch, M, N, K */
    int lab[4][EIN_LABELS];
    int64_t n[4];          /* class sizes: batch, M, N, K */
} ein_mm;

static bool ein_mm_plan(const mec_op_ctx *ctx, const ein_plan *p, ein_mm *mm) {
    if (p->n_ops != 2 || ctx->in[0]->dtype != MEC_F32) return false;
    bool in_a[EIN_LABELS] = {false}, in_b[EIN_LABELS] = {false}, in_o[EIN_LABELS] = {false};
    for (int d = 0; d < p->op_nl[0]; d++) in_a[p->op_lab[0][d]] = true;
    for (int d = 0; d < p->op_nl[1]; d++) in_b[p->op_lab[1][d]] = true;
    for (int k = 0; k < p->n_out; k++) in_o[p->out_lab[k]] = true;
    for (int c = 0; c < 4; c++) mm->nl[c] = 0, mm->n[c] = 1;
    for (int l = 0; l < EIN_LABELS; l++) {
        if (p->size[l] < 0) continue;
        int c = !in_o[l] ? 3 : in_a[l] && !in_b[l] ? 1 : in_b[l] && !in_a[l] ? 2 : 0;
        mm->lab[c][mm->nl[c]++] = l;
        mm->n[c] *= p->size[l];
    }
    return true;
}

static size_t ein_mm_floats(const ein_mm *mm) {
    int64_t B = mm->n[0], M = mm->n[1], N = mm->n[2], K = mm->n[3];
    return (size_t)(B * M * K + B * K * N + B * M * N);
}

/* Offset of linear index `idx` over the labels of classes c0, c1, c2 (row
 * major, c0 outermost) under the strides st. */
static int64_t ein_offset(const ein_mm *mm, const ein_plan *p, const int *cls, int ncls, int64_t idx,
                          const int64_t *st) {
    int64_t off = 0;
    for (int ci = ncls - 1; ci >= 0; ci--) {
        int c = cls[ci];
        for (int k = mm->nl[c] - 1; k >= 0; k--) {
            int l = mm->lab[c][k];
            off += (idx % p->size[l]) * st[l];
            idx /= p->size[l];
        }
    }
    return off;
}

static void ein_mm_run(const mec_op_ctx *ctx, const ein_plan *p, const ein_mm *mm, int64_t (*lstride)[EIN_LABELS],
                       float *scratch) {
    int64_t B = mm->n[0], M = mm->n[1], N = mm->n[2], K = mm->n[3];
    float *a = scratch, *b = a + B * M * K, *c = b + B * K * N;
    const float *xa = ctx->in[0]->data, *xb = ctx->in[1]->data;
    float *y = ctx->out[0]->data;
    static const int a_cls[3] = {0, 1, 3}, b_cls[3] = {0, 3, 2}, c_cls[3] = {0, 1, 2};
    for (int64_t i = 0; i < B * M * K; i++) a[i] = xa[ein_offset(mm, p, a_cls, 3, i, lstride[0])];
    for (int64_t i = 0; i < B * K * N; i++) b[i] = xb[ein_offset(mm, p, b_cls, 3, i, lstride[1])];
    for (int64_t bi = 0; bi < B; bi++)
        mec_sgemm(false, false, M, N, K, 1.0f, a + bi * M * K, K, b + bi * K * N, N, 0.0f, c + bi * M * N, N);
    int64_t ostride[EIN_LABELS] = {0}, s = 1;
    for (int k = p->n_out - 1; k >= 0; k--) {
        ostride[p->out_lab[k]] = s;
        s *= p->size[p->out_lab[k]];
    }
    for (int64_t i = 0; i < B * M * N; i++) y[ein_offset(mm, p, c_cls, 3, i, ostride)] = c[i];
}

static mec_status ein_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    ein_plan p;
    ein_mm mm;
    *state = NULL;
    mec_status st = ein_parse(ctx, &p);
    if (st) return st;
    if (!ein_mm_plan(ctx, &p, &mm)) return MEC_OK;
    return scratch_for(ctx, (int64_t)ein_mm_floats(&mm), sizeof(float), scratch_bytes);
}

// y[out labels] = sum over the other labels of prod_i x_i[labels of i]
static mec_status ein_exec(mec_op_ctx *ctx) {
    ein_plan p;
    mec_status st = ein_parse(ctx, &p);
    if (st) return st;
    mec_tensor *y = ctx->out[0];
    mec_dtype dt = y->dtype;
    bool fl = is_float(dt);
    int64_t lstride[EIN_MAX_OPS][EIN_LABELS];
    ein_strides(ctx, &p, lstride);
    ein_mm mm;
    if (ein_mm_plan(ctx, &p, &mm) && ctx->scratch && ctx->scratch_bytes >= ein_mm_floats(&mm) * sizeof(float)) {
        ein_mm_run(ctx, &p, &mm, lstride, ctx->scratch);
        return MEC_OK;
    }
    int64_t n_out = mec_tensor_numel(y), n_sum = 1;
    for (int k = 0; k < p.n_sum; k++) n_sum *= p.size[p.sum_lab[k]];
    for (int64_t o = 0; o < n_out; o++) {
        int64_t base[EIN_MAX_OPS] = {0}, rem = o;
        for (int k = p.n_out - 1; k >= 0; k--) {
            int l = p.out_lab[k];
            int64_t v = rem % p.size[l];
            rem /= p.size[l];
            for (int i = 0; i < p.n_ops; i++) base[i] += v * lstride[i][l];
        }
        double acc = 0.0;
        int64_t iacc = 0;
        for (int64_t s = 0; s < n_sum; s++) {
            int64_t off[EIN_MAX_OPS], r2 = s;
            memcpy(off, base, sizeof off);
            for (int k = p.n_sum - 1; k >= 0; k--) {
                int l = p.sum_lab[k];
                int64_t v = r2 % p.size[l];
                r2 /= p.size[l];
                for (int i = 0; i < p.n_ops; i++) off[i] += v * lstride[i][l];
            }
            if (fl) {
                double prod = 1.0;
                for (int i = 0; i < p.n_ops; i++)
                    prod *= mec_op_load_f64(ctx->in[i]->data, dt, off[i]);
                acc += prod;
            } else {
                uint64_t prod = 1;
                for (int i = 0; i < p.n_ops; i++) prod *= (uint64_t)mec_tensor_get_i64(ctx->in[i], off[i]);
                iacc = (int64_t)((uint64_t)iacc + prod);
            }
        }
        if (fl) {
            mec_op_store_f64(y->data, dt, o, acc);
        } else {
            switch (dt) {
            case MEC_I32: ((int32_t *)y->data)[o] = (int32_t)iacc; break;
            case MEC_U32: ((uint32_t *)y->data)[o] = (uint32_t)iacc; break;
            case MEC_U64: ((uint64_t *)y->data)[o] = (uint64_t)iacc; break;
            default: ((int64_t *)y->data)[o] = iacc; break;
            }
        }
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- table */

#define K(op, lo, hi, vin, inf, ex, prep) {op, "", lo, hi, "ref", 0, vin, inf, ex, prep, NULL, NULL}

const mec_kernel mec_kernels_detection[] = {
    K("NonMaxSuppression", 10, 17, 0x1fu, nms_infer, nms_exec, nms_prepare),
    K("RoiAlign", 10, 15, 0, roi_infer, roi_exec, NULL),
    K("RoiAlign", 16, 17, 0, roi_infer, roi_exec, NULL),
    K("GridSample", 16, 17, 0, gs_infer, gs_exec, NULL),
    K("MaxUnpool", 9, 10, 0, unpool_infer, unpool_exec, NULL),
    K("MaxUnpool", 11, 17, 1u << 2, unpool_infer, unpool_exec, NULL),
    K("Unique", 11, 17, 1u << 0, uniq_infer, uniq_exec, uniq_prepare),
    K("ReverseSequence", 10, 17, 0, revseq_infer, revseq_exec, NULL),
    K("Det", 11, 17, 0, det_infer, det_exec, det_prepare),
    K("Einsum", 12, 17, 0, ein_infer, ein_exec, ein_prepare),
    {0},
};
