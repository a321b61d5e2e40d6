/* report: one self-contained HTML page with SVG plots drawn here (box plots,
 * Pareto scatter, speed-up bars, network heat maps, latency breakdown) and
 * the tables as HTML, Markdown, CSV and LaTeX. */
#include "mec/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- string buffer */

typedef struct sbuf {
    char *s;
    size_t len, cap;
    bool failed;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) MEC_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if (b->s && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t nc = (b->cap ? b->cap * 2 : 65536) + (size_t)n;
        char *p = mec_realloc(b->s, b->cap, nc);
        if (!p) {
            b->failed = true;
            return;
        }
        b->s = p, b->cap = nc;
    }
}

/* HTML/XML escape */
static void sb_esc(sbuf *b, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<': sb_printf(b, "&lt;"); break;
        case '>': sb_printf(b, "&gt;"); break;
        case '&': sb_printf(b, "&amp;"); break;
        case '"': sb_printf(b, "&quot;"); break;
        default: sb_printf(b, "%c", *s);
        }
    }
}

static mec_status sb_write(sbuf *b, const char *path) {
    if (b->failed) {
        mec_free(b->s);
        return mec_error(MEC_ERR_NOMEM, "%s: out of memory while writing the report", path);
    }
    mec_status st = mec_file_write_atomic(path, b->s ? b->s : "", b->len);
    mec_free(b->s);
    b->s = NULL;
    return st;
}

static int last_plot_count;
int mec_report_last_plot_count(void) { return last_plot_count; }

/* ------------------------------------------------------------- plot kit */

static const char *placement_color(const char *p) {
    static const char *names[] = {"mobile", "edge", "cloud", "mobile-edge", "edge-cloud", "mobile-cloud"};
    static const char *colors[] = {"#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#d62728", "#8c564b"};
    for (int i = 0; i < 6; i++)
        if (!strcmp(p, names[i])) return colors[i];
    return "#7f7f7f";
}

static const char *series_color(int i) {
    static const char *c[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"};
    return c[((i % 8) + 8) % 8];
}

typedef struct axis {
    double lo, hi; /* data range (log10 values when log) */
    bool log;
    double px0, px1; /* pixel range */
} axis;

static double ax_map(const axis *a, double v) {
    double t = a->log ? log10(fmax(v, 1e-12)) : v;
    double f = a->hi > a->lo ? (t - a->lo) / (a->hi - a->lo) : 0.5;
    return a->px0 + f * (a->px1 - a->px0);
}

static void ax_init(axis *a, double mn, double mx, bool log_scale, double px0, double px1) {
    a->log = log_scale;
    if (log_scale) {
        mn = log10(fmax(mn, 1e-9)), mx = log10(fmax(mx, 1e-9));
        double pad = (mx - mn) * 0.05 + 0.02;
        a->lo = mn - pad, a->hi = mx + pad;
    } else {
        double pad = (mx - mn) * 0.08;
        if (pad == 0) pad = fabs(mx) * 0.1 + 0.5;
        a->lo = mn - pad, a->hi = mx + pad;
    }
    a->px0 = px0, a->px1 = px1;
}

/* tick marks and labels along a vertical (y) or horizontal (x) axis */
static void draw_ticks(sbuf *b, const axis *a, bool vertical, double other0, double other1, const char *unit) {
    double ticks[64];
    int n = 0;
    if (a->log) {
        for (int e = (int)floor(a->lo) - 1; e <= (int)ceil(a->hi) && n < 60; e++)
            for (int m = 0; m < 3; m++) {
                static const double mult[] = {1, 2, 5};
                double v = mult[m] * pow(10, e);
                double lv = log10(v);
                if (lv >= a->lo && lv <= a->hi) ticks[n++] = v;
            }
    } else {
        double span = a->hi - a->lo, step = pow(10, floor(log10(span / 5)));
        if (span / step > 10) step *= 2;
        if (span / step > 10) step *= 2.5;
        for (double v = ceil(a->lo / step) * step; v <= a->hi && n < 60; v += step) ticks[n++] = fabs(v) < 1e-12 ? 0 : v;
    }
    for (int i = 0; i < n; i++) {
        double p = ax_map(a, ticks[i]);
        if (vertical) {
            sb_printf(b, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e4e4e4'/>", other0, p, other1, p);
            sb_printf(b, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='end'>%g%s</text>", other0 - 4, p + 3,
                      ticks[i], unit);
        } else {
            sb_printf(b, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e4e4e4'/>", p, other0, p, other1);
            sb_printf(b, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='middle'>%g%s</text>", p, other1 + 13,
                      ticks[i], unit);
        }
    }
}

static void plot_open(sbuf *b, const char *id, const char *title, int w, int h) {
    last_plot_count++;
    sb_printf(b, "<figure class='plotbox'><svg class='plot' id='%s' xmlns='http://www.w3.org/2000/svg' width='%d' "
                 "height='%d' viewBox='0 0 %d %d' font-family='sans-serif'>"
                 "<rect width='%d' height='%d' fill='#ffffff'/>",
              id, w, h, w, h, w, h);
    sb_printf(b, "<text x='%d' y='16' font-size='13' font-weight='bold' text-anchor='middle'>", w / 2);
    sb_esc(b, title);
    sb_printf(b, "</text>");
}

static void plot_close(sbuf *b) { sb_printf(b, "</svg></figure>\n"); }

/* ------------------------------------------------------------ box plots */

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void box_plot(sbuf *b, const mec_results_set *set, const char *exp, const char *model, int id) {
    const mec_results_group *gs[64];
    int k = 0;
    double mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < set->n_groups && k < 64; i++) {
        const mec_results_group *g = &set->groups[i];
        if (strcmp(g->input_set, "main") || g->n == 0 || strcmp(g->experiment, exp) || strcmp(g->model, model)) continue;
        gs[k++] = g;
        for (size_t j = 0; j < g->n; j++) mn = fmin(mn, g->latency_s[j]), mx = fmax(mx, g->latency_s[j]);
    }
    if (!k) return;
    bool logy = mn > 0 && mx / mn > 8;
    int W = 660, H = 380, L = 60, R = 10, T = 28, B = 120;
    char idb[64], title[160];
    snprintf(idb, sizeof idb, "box-%d", id);
    snprintf(title, sizeof title, "%s / %s: latency per strategy (s%s)", exp, model, logy ? ", log scale" : "");
    plot_open(b, idb, title, W, H);
    axis ay;
    ax_init(&ay, mn, mx, logy, H - B, T);
    draw_ticks(b, &ay, true, L, W - R, "");
    double slot = (double)(W - L - R) / k;
    for (int i = 0; i < k; i++) {
        const mec_results_group *g = gs[i];
        double *s = mec_malloc(g->n * sizeof *s);
        if (!s) continue;
        memcpy(s, g->latency_s, g->n * sizeof *s);
        qsort(s, g->n, sizeof *s, cmp_d);
        double q1 = mec_stats_percentile_sorted(s, g->n, 25), q2 = mec_stats_percentile_sorted(s, g->n, 50),
               q3 = mec_stats_percentile_sorted(s, g->n, 75), iqr = q3 - q1;
        double wlo = s[0], whi = s[g->n - 1];
        for (size_t j = 0; j < g->n; j++)
            if (s[j] >= q1 - 1.5 * iqr) { wlo = s[j]; break; }
        for (size_t j = g->n; j-- > 0;)
            if (s[j] <= q3 + 1.5 * iqr) { whi = s[j]; break; }
        double cx = L + slot * (i + 0.5), bw = fmin(slot * 0.6, 28);
        const char *col = placement_color(g->placement);
        sb_printf(b, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s'/>", cx, ax_map(&ay, wlo), cx,
                  ax_map(&ay, whi), col);
        sb_printf(b, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s' fill-opacity='0.35' stroke='%s'/>",
                  cx - bw / 2, ax_map(&ay, q3), bw, fmax(1, ax_map(&ay, q1) - ax_map(&ay, q3)), col, col);
        sb_printf(b, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#000' stroke-width='2'/>", cx - bw / 2,
                  ax_map(&ay, q2), cx + bw / 2, ax_map(&ay, q2));
        for (size_t j = 0; j < g->n; j++) /* outliers */
            if (s[j] < wlo || s[j] > whi)
                sb_printf(b, "<circle cx='%.1f' cy='%.1f' r='1.5' fill='%s'/>", cx, ax_map(&ay, s[j]), col);
        sb_printf(b, "<text transform='translate(%.1f,%d) rotate(-50)' font-size='10' text-anchor='end'>", cx + 3,
                  H - B + 10);
        sb_esc(b, g->operators);
        sb_printf(b, " @ ");
        sb_esc(b, g->placement);
        sb_printf(b, "</text>");
        mec_free(s);
    }
    sb_printf(b, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#333'/>", L, H - B, W - R, H - B);
    plot_close(b);
}

/* ------------------------------------------------------- Pareto scatter */

static void pareto_plot(sbuf *b, const mec_recommend_model *m, double pct, int id) {
    double xmn = INFINITY, xmx = -INFINITY, ymn = INFINITY, ymx = -INFINITY;
    int n = 0;
    for (int i = 0; i < m->n_points; i++) {
        const mec_strategy_point *p = &m->points[i];
        if (isnan(p->loss)) continue;
        xmn = fmin(xmn, p->latency_s), xmx = fmax(xmx, p->latency_s);
        ymn = fmin(ymn, p->loss), ymx = fmax(ymx, p->loss);
        n++;
    }
    if (!n) return;
    int W = 660, H = 380, L = 60, R = 150, T = 28, B = 40;
    char idb[64], title[160];
    snprintf(idb, sizeof idb, "pareto-%d", id);
    snprintf(title, sizeof title, "%s / %s: p%g latency vs accuracy loss", m->experiment, m->model, pct);
    plot_open(b, idb, title, W, H);
    axis ax, ay;
    ax_init(&ax, xmn, xmx, xmn > 0 && xmx / xmn > 5, L, W - R);
    ax_init(&ay, fmin(ymn, 0), fmax(ymx, 0.1), false, H - B, T);
    draw_ticks(b, &ax, false, T, H - B, "s");
    draw_ticks(b, &ay, true, L, W - R, "");
    sb_printf(b, "<text x='14' y='%d' font-size='10' transform='rotate(-90 14 %d)' text-anchor='middle'>accuracy loss "
                 "(points)</text>", (T + H - B) / 2, (T + H - B) / 2);
    /* frontier lines per placement */
    static const char *pls[] = {"mobile", "edge", "cloud", "mobile-edge", "edge-cloud", "mobile-cloud"};
    int legend = 0;
    for (int pl = 0; pl < 6; pl++) {
        double xs[64], ys[64];
        int k = 0;
        bool any = false;
        for (int i = 0; i < m->n_points; i++) {
            const mec_strategy_point *p = &m->points[i];
            if (strcmp(p->group->placement, pls[pl]) || isnan(p->loss)) continue;
            any = true;
            if (p->on_frontier && k < 64) xs[k] = p->latency_s, ys[k] = p->loss, k++;
        }
        if (!any) continue;
        for (int i = 1; i < k; i++) /* sort by latency */
            for (int j = i; j > 0 && xs[j] < xs[j - 1]; j--) {
                double t = xs[j]; xs[j] = xs[j - 1]; xs[j - 1] = t;
                t = ys[j]; ys[j] = ys[j - 1]; ys[j - 1] = t;
            }
        if (k > 1) {
            sb_printf(b, "<polyline fill='none' stroke='%s' stroke-dasharray='4 3' points='", placement_color(pls[pl]));
            for (int i = 0; i < k; i++) sb_printf(b, "%.1f,%.1f ", ax_map(&ax, xs[i]), ax_map(&ay, ys[i]));
            sb_printf(b, "'/>");
        }
        sb_printf(b, "<circle cx='%d' cy='%d' r='5' fill='%s'/><text x='%d' y='%d' font-size='11'>%s</text>", W - R + 14,
                  T + 12 + legend * 16, placement_color(pls[pl]), W - R + 24, T + 16 + legend * 16, pls[pl]);
        legend++;
    }
    for (int i = 0; i < m->n_points; i++) {
        const mec_strategy_point *p = &m->points[i];
        if (isnan(p->loss)) continue;
        double x = ax_map(&ax, p->latency_s), y = ax_map(&ay, p->loss);
        const char *col = placement_color(p->group->placement);
        sb_printf(b, "<circle cx='%.1f' cy='%.1f' r='%d' fill='%s' stroke='%s' stroke-width='%d'><title>", x, y,
                  p->on_frontier ? 6 : 4, col, p->on_frontier ? "#000" : col, p->on_frontier ? 2 : 1);
        sb_esc(b, p->group->operators);
        sb_printf(b, " @ %s: %.3f s, loss %.2f</title></circle>", p->group->placement, p->latency_s, p->loss);
        if (p->on_frontier) {
            sb_printf(b, "<text x='%.1f' y='%.1f' font-size='9'>", x + 7, y - 5);
            sb_esc(b, p->group->operators);
            sb_printf(b, "</text>");
        }
    }
    sb_printf(b, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#333'/>", L, H - B, W - R, H - B);
    plot_close(b);
}

/* ---------------------------------------------------- speed-up bars */

static void speedup_plot(sbuf *b, const mec_results_set *set, const char *exp, const char *placement, int id) {
    /* operators (other than identity) and models on this placement */
    const char *ops[32], *models[16];
    int nops = 0, nmod = 0;
    for (size_t i = 0; i < set->n_groups; i++) {
        const mec_results_group *g = &set->groups[i];
        if (strcmp(g->input_set, "main") || g->n == 0 || strcmp(g->experiment, exp) || strcmp(g->placement, placement))
            continue;
        bool seen = false;
        for (int j = 0; j < nmod; j++) seen |= !strcmp(models[j], g->model);
        if (!seen && nmod < 16) models[nmod++] = g->model;
        seen = !strcmp(g->operators, "identity");
        for (int j = 0; j < nops; j++) seen |= !strcmp(ops[j], g->operators);
        if (!seen && nops < 32) ops[nops++] = g->operators;
    }
    if (!nops || !nmod) return;
    double ratio[32][16];
    double mx = 1.0;
    int have = 0;
    for (int o = 0; o < nops; o++)
        for (int m = 0; m < nmod; m++) {
            ratio[o][m] = NAN;
            double base = NAN, v = NAN;
            for (size_t i = 0; i < set->n_groups; i++) {
                const mec_results_group *g = &set->groups[i];
                if (strcmp(g->input_set, "main") || g->n == 0 || strcmp(g->experiment, exp) ||
                    strcmp(g->placement, placement) || strcmp(g->model, models[m]))
                    continue;
                mec_stats_summary s;
                if (!strcmp(g->operators, "identity") && !mec_stats_summarize(g->latency_s, g->n, &s)) base = s.median;
                if (!strcmp(g->operators, ops[o]) && !mec_stats_summarize(g->latency_s, g->n, &s)) v = s.median;
            }
            ratio[o][m] = base / v;
            if (isfinite(ratio[o][m])) mx = fmax(mx, ratio[o][m]), have++;
        }
    if (!have) return;
    int W = 660, H = 340, L = 50, R = 110, T = 28, B = 70;
    char idb[64], title[160];
    snprintf(idb, sizeof idb, "speedup-%d", id);
    snprintf(title, sizeof title, "%s, %s: speed-up over the unmodified model, per model", exp, placement);
    plot_open(b, idb, title, W, H);
    axis ay;
    ay.log = false, ay.lo = 0, ay.hi = mx * 1.1, ay.px0 = H - B, ay.px1 = T;
    draw_ticks(b, &ay, true, L, W - R, "x");
    double slot = (double)(W - L - R) / nops, bw = slot * 0.8 / nmod;
    for (int o = 0; o < nops; o++) {
        for (int m = 0; m < nmod; m++) {
            double r = ratio[o][m];
            if (!isfinite(r)) continue;
            double x = L + slot * o + slot * 0.1 + bw * m;
            sb_printf(b, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'><title>%s: %.2fx</title></rect>", x,
                      ax_map(&ay, r), fmax(bw - 1, 1), fmax(ax_map(&ay, 0) - ax_map(&ay, r), 1), series_color(m),
                      models[m], r);
        }
        sb_printf(b, "<text transform='translate(%.1f,%d) rotate(-30)' font-size='10' text-anchor='end'>", L + slot * (o + 0.5),
                  H - B + 14);
        sb_esc(b, ops[o]);
        sb_printf(b, "</text>");
    }
    sb_printf(b, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#000' stroke-dasharray='5 3'/>", L, ax_map(&ay, 1),
              W - R, ax_map(&ay, 1));
    for (int m = 0; m < nmod; m++)
        sb_printf(b, "<rect x='%d' y='%d' width='10' height='10' fill='%s'/><text x='%d' y='%d' font-size='11'>%s</text>",
                  W - R + 12, T + 6 + m * 16, series_color(m), W - R + 26, T + 15 + m * 16, models[m]);
    sb_printf(b, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#333'/>", L, H - B, W - R, H - B);
    plot_close(b);
}

/* ------------------------------------------------------------ heat maps */

static void heat_color(double t, char *out, size_t cap) { /* t in [0,1]: light yellow to dark red */
    t = fmin(1, fmax(0, t));
    int r = (int)(255 - 90 * t), g = (int)(245 - 215 * t), bl = (int)(200 - 170 * t);
    snprintf(out, cap, "#%02x%02x%02x", r, g, bl);
}

static int heat_maps(sbuf *b, const mec_results_set *set, int id0) {
    int id = id0;
    for (size_t i = 0; i < set->n_groups; i++) {
        const mec_results_group *g = &set->groups[i];
        if (strcmp(g->input_set, "network") || isnan(g->bw_mobile_edge_mbps) || isnan(g->bw_edge_cloud_mbps)) continue;
        /* one map per (experiment, model, placement, operators) with a 2-D grid; first occurrence only */
        bool first = true;
        for (size_t j = 0; j < i && first; j++) {
            const mec_results_group *h = &set->groups[j];
            first = !(!strcmp(h->input_set, "network") && !strcmp(h->experiment, g->experiment) &&
                      !strcmp(h->model, g->model) && !strcmp(h->placement, g->placement) &&
                      !strcmp(h->operators, g->operators));
        }
        if (!first) continue;
        double xs[16], ys[16];
        int nx = 0, ny = 0;
        for (size_t j = i; j < set->n_groups; j++) {
            const mec_results_group *h = &set->groups[j];
            if (strcmp(h->input_set, "network") || strcmp(h->experiment, g->experiment) || strcmp(h->model, g->model) ||
                strcmp(h->placement, g->placement) || strcmp(h->operators, g->operators))
                continue;
            bool sx = false, sy = false;
            for (int k = 0; k < nx; k++) sx |= xs[k] == h->bw_mobile_edge_mbps;
            for (int k = 0; k < ny; k++) sy |= ys[k] == h->bw_edge_cloud_mbps;
            if (!sx && nx < 16) xs[nx++] = h->bw_mobile_edge_mbps;
            if (!sy && ny < 16) ys[ny++] = h->bw_edge_cloud_mbps;
        }
        if (nx < 2 || ny < 2) continue; /* one rate for every link: a line, not a map */
        qsort(xs, (size_t)nx, sizeof *xs, cmp_d);
        qsort(ys, (size_t)ny, sizeof *ys, cmp_d);
        double med[16][16], mn = INFINITY, mx = -INFINITY;
        for (int a = 0; a < nx; a++)
            for (int c = 0; c < ny; c++) med[a][c] = NAN;
        for (size_t j = i; j < set->n_groups; j++) {
            const mec_results_group *h = &set->groups[j];
            if (strcmp(h->input_set, "network") || strcmp(h->experiment, g->experiment) || strcmp(h->model, g->model) ||
                strcmp(h->placement, g->placement) || strcmp(h->operators, g->operators) || h->n == 0)
                continue;
            int a = 0, c = 0;
            while (a < nx && xs[a] != h->bw_mobile_edge_mbps) a++;
            while (c < ny && ys[c] != h->bw_edge_cloud_mbps) c++;
            mec_stats_summary s;
            if (a < nx && c < ny && !mec_stats_summarize(h->latency_s, h->n, &s)) {
                med[a][c] = s.median;
                mn = fmin(mn, s.median), mx = fmax(mx, s.median);
            }
        }
        if (!isfinite(mn)) continue;
        int W = 340, H = 270, L = 62, T = 30, cw = (W - L - 12) / nx, ch = (H - T - 46) / ny;
        char idb[64], title[200];
        snprintf(idb, sizeof idb, "heat-%d", id++);
        snprintf(title, sizeof title, "%s/%s %s @ %s: median s", g->experiment, g->model, g->operators, g->placement);
        plot_open(b, idb, title, W, H);
        bool logc = mn > 0 && mx / mn > 10;
        for (int a = 0; a < nx; a++)
            for (int c = 0; c < ny; c++) {
                double v = med[a][c];
                char col[16] = "#dddddd";
                if (!isnan(v)) {
                    double t = logc ? (log(v) - log(mn)) / (log(mx) - log(mn) + 1e-300) : (v - mn) / (mx - mn + 1e-300);
                    heat_color(t, col, sizeof col);
                }
                int x = L + a * cw, y = T + (ny - 1 - c) * ch;
                sb_printf(b, "<rect x='%d' y='%d' width='%d' height='%d' fill='%s' stroke='#fff'/>", x, y, cw, ch, col);
                if (!isnan(v))
                    sb_printf(b, "<text x='%d' y='%d' font-size='9' text-anchor='middle'>%.3g</text>", x + cw / 2,
                              y + ch / 2 + 3, v);
                else
                    sb_printf(b, "<text x='%d' y='%d' font-size='9' text-anchor='middle'>n/a</text>", x + cw / 2, y + ch / 2 + 3);
            }
        for (int a = 0; a < nx; a++)
            sb_printf(b, "<text x='%d' y='%d' font-size='10' text-anchor='middle'>%g</text>", L + a * cw + cw / 2,
                      T + ny * ch + 13, xs[a]);
        for (int c = 0; c < ny; c++)
            sb_printf(b, "<text x='%d' y='%d' font-size='10' text-anchor='end'>%g</text>", L - 4, T + (ny - 1 - c) * ch + ch / 2 + 3,
                      ys[c]);
        sb_printf(b, "<text x='%d' y='%d' font-size='10' text-anchor='middle'>mobile-edge Mbit/s</text>", L + nx * cw / 2,
                  T + ny * ch + 28);
        sb_printf(b, "<text x='14' y='%d' font-size='10' transform='rotate(-90 14 %d)' text-anchor='middle'>edge-cloud "
                     "Mbit/s</text>", T + ny * ch / 2, T + ny * ch / 2);
        plot_close(b);
    }
    return id - id0;
}

/* ------------------------------------------------------ breakdown bars */

static void breakdown_plot(sbuf *b, const mec_results_set *set, const char *exp, int id) {
    const mec_results_group *gs[64];
    int k = 0;
    double mx = 0;
    for (size_t i = 0; i < set->n_groups && k < 64; i++) {
        const mec_results_group *g = &set->groups[i];
        if (strcmp(g->experiment, exp) || !strcmp(g->input_set, "network")) continue;
        double tot = 0;
        bool any = false;
        for (int p = 0; p < MEC_BREAKDOWN_COUNT; p++)
            if (!isnan(g->breakdown_s[p])) tot += g->breakdown_s[p], any = true;
        if (!any) continue;
        gs[k++] = g;
        mx = fmax(mx, tot);
    }
    if (!k) return;
    int W = 660, H = 360, L = 60, R = 130, T = 28, B = 110;
    char idb[64], title[160];
    snprintf(idb, sizeof idb, "breakdown-%d", id);
    snprintf(title, sizeof title, "%s: mean latency breakdown per configuration (s)", exp);
    plot_open(b, idb, title, W, H);
    axis ay = {.log = false, .lo = 0, .hi = mx * 1.1, .px0 = H - B, .px1 = T};
    draw_ticks(b, &ay, true, L, W - R, "");
    double slot = (double)(W - L - R) / k;
    for (int i = 0; i < k; i++) {
        double acc = 0, x = L + slot * i + slot * 0.15, w = slot * 0.7;
        for (int p = 0; p < MEC_BREAKDOWN_COUNT; p++) {
            double v = gs[i]->breakdown_s[p];
            if (isnan(v) || v <= 0) continue;
            double y0 = ax_map(&ay, acc), y1 = ax_map(&ay, acc + v);
            sb_printf(b, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'/>", x, y1, w, fmax(y0 - y1, 0.5),
                      series_color(p));
            acc += v;
        }
        sb_printf(b, "<text transform='translate(%.1f,%d) rotate(-50)' font-size='10' text-anchor='end'>", x + w / 2, H - B + 10);
        sb_esc(b, gs[i]->model);
        sb_printf(b, " ");
        sb_esc(b, gs[i]->operators);
        sb_printf(b, " @ %s</text>", gs[i]->placement);
    }
    for (int p = 0; p < MEC_BREAKDOWN_COUNT; p++)
        sb_printf(b, "<rect x='%d' y='%d' width='10' height='10' fill='%s'/><text x='%d' y='%d' font-size='11'>%s</text>",
                  W - R + 10, T + 6 + p * 16, series_color(p), W - R + 24, T + 15 + p * 16, mec_results_breakdown_column(p));
    plot_close(b);
}

/* ---------------------------------------------------------------- tables */

/* A table as rows of cells; rendered as HTML, Markdown, CSV or LaTeX. */
typedef struct table {
    const char *title;
    int ncol, nrow, cap;
    char **cells; /* nrow * ncol; row 0 is the header */
    char *marks;  /* effect size mark per row: 'N', 'S', 'M', 'L' or 0 */
} table;

static bool table_row(table *t, int mark, ...) {
    if (t->nrow == t->cap) {
        int nc = t->cap ? t->cap * 2 : 32;
        char **c = mec_realloc(t->cells, (size_t)t->cap * t->ncol * sizeof *c, (size_t)nc * t->ncol * sizeof *c);
        if (!c) return false;
        t->cells = c;
        char *m = mec_realloc(t->marks, (size_t)t->cap, (size_t)nc);
        if (!m) return false;
        t->marks = m, t->cap = nc;
    }
    va_list ap;
    va_start(ap, mark);
    for (int i = 0; i < t->ncol; i++) t->cells[t->nrow * t->ncol + i] = mec_strdup(va_arg(ap, const char *));
    va_end(ap);
    t->marks[t->nrow++] = (char)mark;
    return true;
}

static void table_free(table *t) {
    for (int i = 0; i < t->nrow * t->ncol; i++) mec_free(t->cells[i]);
    mec_free(t->cells), mec_free(t->marks);
    memset(t, 0, sizeof *t);
}

static char effect_mark(mec_effect_size e) { return "NSML"[e]; }

static const char *fmt(char *buf, size_t cap, const char *f, double v) {
    if (isnan(v)) snprintf(buf, cap, "n/a");
    else snprintf(buf, cap, f, v);
    return buf;
}

/* The report's tables, built from the analysis. */
static int build_tables(const mec_analysis *an, table *ts, int max) {
    int n = 0;
    char a[64], b[64], c[64], d[64], e[64];
    /* 1. headlines */
    table *t = &ts[n++];
    t->title = "The studies' headline speed-ups, recomputed (mean over models of median ratios, truncated)";
    t->ncol = 7;
    table_row(t, 0, "study", "placement", "faster", "slower", "published", "computed", "geometric mean");
    int nh;
    const mec_analysis_headline *h = mec_analysis_headlines(&nh);
    for (int i = 0; i < nh; i++) {
        const mec_analysis_speedup *s = mec_analysis_find_speedup(an, h[i].experiment, h[i].placement, h[i].faster, h[i].slower);
        if (!s) continue;
        table_row(t, 0, h[i].experiment, h[i].placement, h[i].faster, h[i].slower, fmt(a, 64, "%.2f", h[i].published),
                  fmt(b, 64, "%.2f", mec_analysis_truncate2(s->mean_ratio)), fmt(c, 64, "%.2f", s->geo_ratio));
    }
    /* 2. speed-ups vs identity */
    t = &ts[n++];
    t->title = "Speed-up over the unmodified model (median(identity) / median(operator)), over models";
    t->ncol = 7;
    table_row(t, 0, "study", "placement", "operators", "models", "mean", "geometric mean", "min-max");
    for (int i = 0; i < an->n_speedups; i++) {
        const mec_analysis_speedup *s = &an->speedups[i];
        if (strcmp(s->slower, "identity")) continue;
        char mm[64];
        snprintf(mm, sizeof mm, "%.2f-%.2f", s->min_ratio, s->max_ratio);
        snprintf(d, sizeof d, "%d", s->n_models);
        table_row(t, 0, s->experiment, s->placement, s->faster, d, fmt(a, 64, "%.2f", s->mean_ratio),
                  fmt(b, 64, "%.2f", s->geo_ratio), mm);
    }
    /* 3. accuracy */
    t = &ts[n++];
    t->title = "Accuracy loss against the unmodified model (paired by model, tier, metric)";
    t->ncol = 7;
    table_row(t, 0, "study", "operators", "pairs", "mean loss", "Wilcoxon p", "Cliff's delta", "magnitude");
    for (int i = 0; i < an->n_accuracy; i++) {
        const mec_analysis_accuracy *ac = &an->accuracy[i];
        snprintf(d, sizeof d, "%d", ac->n_pairs);
        table_row(t, effect_mark(ac->magnitude), ac->experiment, ac->operators, d, fmt(a, 64, "%.3f", ac->mean_loss),
                  fmt(b, 64, "%.3g", ac->p_wilcoxon), fmt(c, 64, "%.3f", ac->delta), mec_effect_size_name(ac->magnitude));
    }
    /* 4. pairwise */
    if (n < max) {
        t = &ts[n++];
        t->title = "Pairwise comparisons within each family (Conover p adjusted within the family; Cliff's delta)";
        t->ncol = 9;
        table_row(t, 0, "study", "model", "family", "a", "b", "b/a", "p Conover", "Cliff's delta", "magnitude");
        for (int f = 0; f < an->n_families; f++) {
            const mec_analysis_family *fam = &an->families[f];
            char famname[128];
            snprintf(famname, sizeof famname, "%s %s", mec_family_kind_name(fam->kind), fam->fixed);
            for (int q = 0; q < fam->n_pairs; q++) {
                const mec_analysis_pair *p = &fam->pairs[q];
                table_row(t, effect_mark(p->magnitude), fam->experiment, fam->model, famname, fam->members[p->a].label,
                          fam->members[p->b].label, fmt(a, 64, "%.3f", p->ratio), fmt(e, 64, "%.3g", p->p_conover),
                          fmt(c, 64, "%.3f", p->delta), mec_effect_size_name(p->magnitude));
            }
        }
    }
    return n;
}

static void tex_esc(sbuf *b, const char *s) {
    for (; *s; s++) {
        if (strchr("&%$#_{}", *s)) sb_printf(b, "\\%c", *s);
        else if (*s == '~' || *s == '^' || *s == '\\') sb_printf(b, "\\textasciitilde{}");
        else sb_printf(b, "%c", *s);
    }
}

static void csv_cell(sbuf *b, const char *s) {
    if (strpbrk(s, ",\"\n")) {
        sb_printf(b, "\"");
        for (; *s; s++) sb_printf(b, *s == '"' ? "\"\"" : "%c", *s);
        sb_printf(b, "\"");
    } else {
        sb_printf(b, "%s", s);
    }
}

static void render_table(sbuf *b, const table *t, mec_report_format f, int index) {
    if (f == MEC_REPORT_MARKDOWN) {
        sb_printf(b, "\n### %s\n\n", t->title);
        for (int r = 0; r < t->nrow; r++) {
            sb_printf(b, "|");
            for (int c = 0; c < t->ncol; c++) sb_printf(b, " %s |", t->cells[r * t->ncol + c]);
            sb_printf(b, "\n");
            if (r == 0) {
                sb_printf(b, "|");
                for (int c = 0; c < t->ncol; c++) sb_printf(b, "---|");
                sb_printf(b, "\n");
            }
        }
    } else if (f == MEC_REPORT_CSV) {
        for (int r = 0; r < t->nrow; r++) {
            csv_cell(b, r == 0 ? "table" : t->title);
            for (int c = 0; c < t->ncol; c++) {
                sb_printf(b, ",");
                csv_cell(b, t->cells[r * t->ncol + c]);
            }
            sb_printf(b, "\n");
            if (r == 0 && index > 0) { /* one header for the whole file would not fit: repeat per table */ }
        }
    } else {
        sb_printf(b, "\n%% %s\n\\begin{table}[ht]\n\\centering\\small\n\\caption{", t->title);
        tex_esc(b, t->title);
        sb_printf(b, "}\n\\begin{tabular}{");
        for (int c = 0; c < t->ncol; c++) sb_printf(b, "l");
        sb_printf(b, "}\n\\hline\n");
        for (int r = 0; r < t->nrow; r++) {
            for (int c = 0; c < t->ncol; c++) {
                if (c) sb_printf(b, " & ");
                const char *cell = t->cells[r * t->ncol + c];
                if (r > 0 && t->marks[r] == 'L' && !strcmp(cell, "large")) sb_printf(b, "\\textbf{large}");
                else tex_esc(b, cell);
            }
            sb_printf(b, " \\\\\n");
            if (r == 0) sb_printf(b, "\\hline\n");
        }
        sb_printf(b, "\\hline\n\\end{tabular}\n\\end{table}\n");
    }
}

mec_status mec_report_tables(const mec_analysis *an, mec_report_format f, const char *path) {
    if (!an || !path) return mec_error(MEC_ERR_INVALID_ARG, "report tables: nothing to write");
    table ts[8];
    memset(ts, 0, sizeof ts);
    int n = build_tables(an, ts, 8);
    sbuf b = {0};
    if (f == MEC_REPORT_MARKDOWN) sb_printf(&b, "# mecbench tables\n\nEffect sizes: Cliff's delta, negligible < 0.147 <= small < 0.33 <= medium < 0.474 <= large.\n");
    if (f == MEC_REPORT_LATEX) sb_printf(&b, "%% mecbench tables (needs no package beyond standard LaTeX)\n");
    for (int i = 0; i < n; i++) render_table(&b, &ts[i], f, i);
    for (int i = 0; i < n; i++) table_free(&ts[i]);
    return sb_write(&b, path);
}

static void html_table(sbuf *b, const table *t, bool collapsed) {
    if (collapsed) sb_printf(b, "<details><summary>%s (%d rows)</summary>", t->title, t->nrow - 1);
    else sb_printf(b, "<h3>%s</h3>", t->title);
    sb_printf(b, "<table><thead><tr>");
    for (int c = 0; c < t->ncol; c++) {
        sb_printf(b, "<th>");
        sb_esc(b, t->cells[c]);
        sb_printf(b, "</th>");
    }
    sb_printf(b, "</tr></thead><tbody>\n");
    for (int r = 1; r < t->nrow; r++) {
        sb_printf(b, "<tr>");
        for (int c = 0; c < t->ncol; c++) {
            const char *cell = t->cells[r * t->ncol + c];
            bool is_mark = t->marks[r] && (!strcmp(cell, "large") || !strcmp(cell, "medium") || !strcmp(cell, "small") ||
                                           !strcmp(cell, "negligible"));
            if (is_mark) sb_printf(b, "<td class='eff eff-%c'>", t->marks[r]);
            else sb_printf(b, "<td>");
            sb_esc(b, cell);
            sb_printf(b, "</td>");
        }
        sb_printf(b, "</tr>\n");
    }
    sb_printf(b, "</tbody></table>%s\n", collapsed ? "</details>" : "");
}

/* ------------------------------------------------------------------ page */

static const char *css =
    "body{font-family:sans-serif;margin:20px;color:#222;max-width:1400px}"
    "h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;margin-top:28px}h3{font-size:14px}"
    ".grid{display:flex;flex-wrap:wrap;gap:10px}figure.plotbox{margin:0;border:1px solid #ddd}"
    "table{border-collapse:collapse;font-size:12px;margin:6px 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
    "th{background:#f0f0f0}.eff-L{background:#f4a6a6;font-weight:bold}.eff-M{background:#f9d29b}.eff-S{background:#fbf0b0}"
    ".eff-N{color:#888}ul.findings li{margin:4px 0}.note{color:#555;font-size:12px}";

/* Reports the position of every plot for the rendering test (run by
 * headless browsers; harmless elsewhere). */
static const char *layout_js =
    "<script>addEventListener('load',function(){var o=[];document.querySelectorAll('svg.plot').forEach(function(s){"
    "var r=s.getBoundingClientRect();o.push(s.id+' '+Math.round(r.left+scrollX)+' '+Math.round(r.top+scrollY)+' '+"
    "Math.round(r.width)+' '+Math.round(r.height));});var p=document.createElement('pre');p.id='mec-layout';"
    "p.style.display='none';p.textContent='MEC-LAYOUT-BEGIN\\nheight '+document.documentElement.scrollHeight+"
    "'\\n'+o.join('\\n')+'\\nMEC-LAYOUT-END';document.body.appendChild(p);});</script>";

mec_status mec_report_html(const mec_results_set *set, const mec_analysis *an, const mec_recommendation *rec,
                           const mec_report_options *opt, const char *path) {
    if (!set || !an || !path) return mec_error(MEC_ERR_INVALID_ARG, "report: nothing to write");
    mec_report_options defaults = {0};
    if (!opt) opt = &defaults;
    double pct = opt->percentile > 0 ? opt->percentile : 95;
    const char *title = opt->title ? opt->title : "mecbench report";
    last_plot_count = 0;
    sbuf b = {0};
    sb_printf(&b, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>");
    sb_esc(&b, title);
    sb_printf(&b, "</title><style>%s</style></head><body>\n<h1>", css);
    sb_esc(&b, title);
    sb_printf(&b, "</h1>\n<p class='note'>Data: ");
    sb_esc(&b, opt->source ? opt->source : "results database");
    sb_printf(&b, ". p-values adjusted within each family: %s. Cliff's delta: negligible &lt; 0.147 &le; small &lt; 0.33 "
                  "&le; medium &lt; 0.474 &le; large (marked <span class='eff-S'>S</span> <span class='eff-M'>M</span> "
                  "<span class='eff-L'>L</span>). Generated by mecbench.</p>\n",
              mec_p_adjust_name(an->options.adjust));
    if (rec && rec->n_findings) {
        sb_printf(&b, "<h2>Findings</h2><ul class='findings'>");
        for (int i = 0; i < rec->n_findings; i++) {
            sb_printf(&b, "<li>");
            sb_esc(&b, rec->findings[i]);
            sb_printf(&b, "</li>");
        }
        sb_printf(&b, "</ul>\n");
    }
    table ts[8];
    memset(ts, 0, sizeof ts);
    int nt = build_tables(an, ts, 8);
    if (nt > 0 && ts[0].nrow > 1) html_table(&b, &ts[0], false);

    /* experiments and models, in set order */
    const char *exps[16];
    int ne = 0;
    for (size_t i = 0; i < set->n_groups; i++) {
        bool seen = false;
        for (int e = 0; e < ne; e++) seen |= !strcmp(exps[e], set->groups[i].experiment);
        if (!seen && ne < 16) exps[ne++] = set->groups[i].experiment;
    }
    int id = 0;
    sb_printf(&b, "<h2>Speed-up over the unmodified model, per model</h2><div class='grid'>");
    static const char *tiers[] = {"mobile", "edge", "cloud", "mobile-edge", "edge-cloud", "mobile-cloud"};
    for (int e = 0; e < ne; e++)
        for (int t = 0; t < 6; t++) speedup_plot(&b, set, exps[e], tiers[t], id++);
    sb_printf(&b, "</div>\n<h2>Latency vs accuracy loss (Pareto frontier per placement, outlined)</h2><div class='grid'>");
    for (int m = 0; rec && m < rec->n_models; m++) pareto_plot(&b, &rec->models[m], pct, id++);
    sb_printf(&b, "</div>\n<h2>Latency distributions per strategy</h2><div class='grid'>");
    for (size_t i = 0; i < set->n_groups; i++) {
        const mec_results_group *g = &set->groups[i];
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = strcmp(set->groups[j].experiment, g->experiment) || strcmp(set->groups[j].model, g->model);
        if (first) box_plot(&b, set, g->experiment, g->model, id++);
    }
    sb_printf(&b, "</div>\n");
    sbuf heat = {0};
    int nheat = heat_maps(&heat, set, id);
    if (nheat) {
        sb_printf(&b, "<h2>Network variation: median latency by link bandwidth</h2><div class='grid'>%s</div>\n",
                  heat.s ? heat.s : "");
        id += nheat;
    }
    mec_free(heat.s);
    int before = last_plot_count;
    sbuf bd = {0};
    for (int e = 0; e < ne; e++) breakdown_plot(&bd, set, exps[e], id++);
    if (last_plot_count > before)
        sb_printf(&b, "<h2>Latency breakdown</h2><div class='grid'>%s</div>\n", bd.s ? bd.s : "");
    mec_free(bd.s);
    sb_printf(&b, "<h2>Tables</h2>");
    for (int i = 1; i < nt; i++) html_table(&b, &ts[i], i == nt - 1);
    for (int i = 0; i < nt; i++) table_free(&ts[i]);
    sb_printf(&b, "%s</body></html>\n", layout_js);
    return sb_write(&b, path);
}
