/* analysis: the studies' comparison families (operators within a placement,
 * an operator across placements, a partition across tier pairs), each with
 * Kruskal-Wallis, Conover/Dunn post-hoc and Cliff's delta; the speed-ups
 * "A is N x faster than B" (mean of per-model median ratios, and geometric
 * mean); the paired accuracy comparisons. */
#include "mec/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mec_family_kind_name(mec_family_kind k) {
    return k == MEC_FAMILY_OPERATORS ? "operators" : k == MEC_FAMILY_PLACEMENTS ? "placements" : "partitions";
}

void mec_analysis_options_default(mec_analysis_options *o) {
    memset(o, 0, sizeof *o);
    o->adjust = MEC_P_ADJUST_HOLM;
    o->bootstrap_reps = 1000;
    o->seed = 1;
    o->conf = 0.95;
}

double mec_analysis_truncate2(double x) {
    /* 1.17 stored as 1.16999... must stay 1.17: nudge by a few ulps first */
    return floor(x * 100.0 * (1 + 1e-12)) / 100.0;
}

static const mec_analysis_headline headlines[] = {
    {"black", "edge", "sptq+early-exit", "sptq", 1.17},
    {"black", "edge", "sptq+early-exit", "early-exit", 1.45},
    {"white", "edge", "distill+sptq", "distill", 1.52},
    {"white", "edge", "distill+sptq", "sptq", 2.89},
    {"white", "edge", "distill+sptq", "qat", 3.93},
    {"white", "edge", "distill+sptq", "prune", 5.17},
    {"white", "mobile", "distill", "qat", 3.36},
    {"white", "mobile", "distill", "prune", 3.34},
    {"white", "edge", "distill", "qat", 2.66},
    {"white", "edge", "distill", "prune", 3.31},
};

const mec_analysis_headline *mec_analysis_headlines(int *count) {
    *count = (int)(sizeof headlines / sizeof headlines[0]);
    return headlines;
}

static bool has_partition(const char *ops) { return strstr(ops, "partition") != NULL; }

/* The accuracy variant of an operator chain: partitioning is lossless. */
static void accuracy_variant(const char *ops, char *out, size_t cap) {
    snprintf(out, cap, "%s", ops);
    char *p = strstr(out, "+partition");
    if (p) memmove(p, p + 10, strlen(p + 10) + 1);
    if (!strcmp(out, "partition") || !*out) snprintf(out, cap, "identity");
}

mec_status mec_analysis_accuracy_loss(const mec_results_set *set, const char *experiment, const char *model,
                                      const char *operators, const char *placement, double *loss) {
    *loss = NAN;
    char variant[256], tier[32];
    accuracy_variant(operators, variant, sizeof variant);
    snprintf(tier, sizeof tier, "%s", placement);
    char *dash = strchr(tier, '-');
    if (dash) *dash = '\0'; /* a partition's accuracy is that of the model on its first tier's CPU */
    double sum = 0;
    int n = 0;
    for (size_t i = 0; i < set->n_accuracy; i++) {
        const mec_results_accuracy *a = &set->accuracy[i];
        if (strcmp(a->experiment, experiment) || strcmp(a->model, model) || strcmp(a->variant, variant) ||
            strcmp(a->placement, tier))
            continue;
        for (size_t j = 0; j < set->n_accuracy; j++) {
            const mec_results_accuracy *b = &set->accuracy[j];
            if (!strcmp(b->experiment, experiment) && !strcmp(b->model, model) && !strcmp(b->variant, "identity") &&
                !strcmp(b->placement, tier) && !strcmp(b->metric, a->metric)) {
                sum += b->value - a->value;
                n++;
                break;
            }
        }
    }
    if (n) *loss = sum / n;
    return MEC_OK;
}

/* ------------------------------------------------------------- families */

typedef struct builder {
    mec_analysis *an;
    int cap_families, cap_speedups, cap_accuracy;
} builder;

static void family_free(mec_analysis_family *f) {
    mec_free(f->experiment), mec_free(f->model), mec_free(f->fixed);
    mec_free(f->members), mec_free(f->pairs);
}

void mec_analysis_destroy(mec_analysis *a) {
    if (!a) return;
    for (int i = 0; i < a->n_families; i++) family_free(&a->families[i]);
    for (int i = 0; i < a->n_speedups; i++) {
        mec_analysis_speedup *s = &a->speedups[i];
        mec_free(s->experiment), mec_free(s->placement), mec_free(s->faster), mec_free(s->slower);
    }
    for (int i = 0; i < a->n_accuracy; i++) mec_free(a->accuracy[i].experiment), mec_free(a->accuracy[i].operators);
    mec_free(a->families), mec_free(a->speedups), mec_free(a->accuracy);
    mec_free(a);
}

static bool grow(void **arr, int *cap, int n, size_t elem) {
    if (n < *cap) return true;
    int nc = *cap ? *cap * 2 : 32;
    void *p = mec_realloc(*arr, (size_t)*cap * elem, (size_t)nc * elem);
    if (!p) return false;
    *arr = p, *cap = nc;
    return true;
}

static bool in_scope(const mec_results_group *g, const mec_analysis_options *o) {
    return !strcmp(g->input_set, "main") && g->n > 0 && (!o->experiment || !strcmp(g->experiment, o->experiment)) &&
           (!o->model || !strcmp(g->model, o->model));
}

/* Runs one family over members idx[0..k). */
static mec_status run_family(builder *b, const mec_results_set *set, const mec_stats_summary *sums,
                             const double (*ci)[2], mec_family_kind kind, const int *idx, int k, const char *fixed) {
    mec_analysis *an = b->an;
    if (!grow((void **)&an->families, &b->cap_families, an->n_families, sizeof *an->families)) return MEC_ERR_NOMEM;
    mec_analysis_family *f = &an->families[an->n_families];
    memset(f, 0, sizeof *f);
    const mec_results_group *g0 = &set->groups[idx[0]];
    f->kind = kind;
    f->experiment = mec_strdup(g0->experiment);
    f->model = mec_strdup(g0->model);
    f->fixed = mec_strdup(fixed);
    f->n_members = k;
    f->members = mec_calloc((size_t)k, sizeof *f->members);
    int np = k * (k - 1) / 2;
    f->pairs = mec_calloc((size_t)(np ? np : 1), sizeof *f->pairs);
    const double **data = mec_calloc((size_t)k, sizeof *data);
    size_t *sizes = mec_calloc((size_t)k, sizeof *sizes);
    double *pc = mec_calloc((size_t)(k * k), sizeof *pc), *pd = mec_calloc((size_t)(k * k), sizeof *pd);
    double *adj = mec_calloc((size_t)(np ? np : 1), sizeof *adj);
    mec_status st = MEC_OK;
    if (!f->experiment || !f->model || !f->fixed || !f->members || !f->pairs || !data || !sizes || !pc || !pd || !adj) {
        st = MEC_ERR_NOMEM;
        family_free(f);
        goto out;
    }
    an->n_families++;
    for (int i = 0; i < k; i++) {
        const mec_results_group *g = &set->groups[idx[i]];
        f->members[i].group = g;
        f->members[i].label = kind == MEC_FAMILY_OPERATORS ? g->operators : g->placement;
        f->members[i].summary = sums[idx[i]];
        f->members[i].median_ci_lo = ci[idx[i]][0];
        f->members[i].median_ci_hi = ci[idx[i]][1];
        data[i] = g->latency_s;
        sizes[i] = g->n;
    }
    f->h = f->p_kruskal = NAN;
    bool ok = !mec_stats_kruskal(data, sizes, k, &f->h, &f->p_kruskal);
    if (ok) ok = !mec_stats_conover(data, sizes, k, pc) && !mec_stats_dunn(data, sizes, k, pd);
    if (!ok) mec_error_clear(); /* e.g. all values identical: p-values stay NaN, reported as such */
    int p = 0;
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < k; j++, p++) {
            mec_analysis_pair *pr = &f->pairs[p];
            pr->a = i, pr->b = j;
            pr->p_conover = ok ? pc[i * k + j] : NAN;
            pr->p_dunn = ok ? pd[i * k + j] : NAN;
            mec_stats_cliffs_delta(data[i], sizes[i], data[j], sizes[j], &pr->delta);
            pr->magnitude = mec_stats_cliffs_magnitude(pr->delta);
            pr->ratio = f->members[j].summary.median / f->members[i].summary.median;
        }
    f->n_pairs = np;
    if (ok && np) {
        for (int q = 0; q < np; q++) adj[q] = f->pairs[q].p_conover;
        mec_stats_p_adjust(adj, (size_t)np, an->options.adjust);
        for (int q = 0; q < np; q++) f->pairs[q].p_conover = adj[q];
        for (int q = 0; q < np; q++) adj[q] = f->pairs[q].p_dunn;
        mec_stats_p_adjust(adj, (size_t)np, an->options.adjust);
        for (int q = 0; q < np; q++) f->pairs[q].p_dunn = adj[q];
    }
out:
    mec_free(data), mec_free(sizes), mec_free(pc), mec_free(pd), mec_free(adj);
    return st;
}

/* ------------------------------------------------------------- speed-ups */

static mec_status add_speedups(builder *b, const mec_results_set *set, const mec_stats_summary *sums, const bool *use) {
    mec_analysis *an = b->an;
    /* distinct (experiment, placement, operator) */
    for (size_t i = 0; i < set->n_groups; i++) {
        if (!use[i]) continue;
        const mec_results_group *ga = &set->groups[i];
        /* first occurrence of (experiment, placement, operator)? */
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            if (use[j] && !strcmp(set->groups[j].experiment, ga->experiment) &&
                !strcmp(set->groups[j].placement, ga->placement) && !strcmp(set->groups[j].operators, ga->operators))
                first = false;
        if (!first) continue;
        /* every other operator on the same placement */
        for (size_t j = 0; j < set->n_groups; j++) {
            const mec_results_group *gb = &set->groups[j];
            if (!use[j] || strcmp(gb->experiment, ga->experiment) || strcmp(gb->placement, ga->placement) ||
                !strcmp(gb->operators, ga->operators))
                continue;
            bool first_b = true;
            for (size_t q = 0; q < j && first_b; q++)
                if (use[q] && !strcmp(set->groups[q].experiment, gb->experiment) &&
                    !strcmp(set->groups[q].placement, gb->placement) && !strcmp(set->groups[q].operators, gb->operators))
                    first_b = false;
            if (!first_b) continue;
            /* per model ratio median(slower = b) / median(faster = a) */
            double sum = 0, lsum = 0, mn = INFINITY, mx = -INFINITY;
            int n = 0;
            for (size_t x = 0; x < set->n_groups; x++) {
                const mec_results_group *gx = &set->groups[x];
                if (!use[x] || strcmp(gx->experiment, ga->experiment) || strcmp(gx->placement, ga->placement) ||
                    strcmp(gx->operators, ga->operators))
                    continue;
                for (size_t y = 0; y < set->n_groups; y++) {
                    const mec_results_group *gy = &set->groups[y];
                    if (!use[y] || strcmp(gy->experiment, gb->experiment) || strcmp(gy->placement, gb->placement) ||
                        strcmp(gy->operators, gb->operators) || strcmp(gy->model, gx->model))
                        continue;
                    double r = sums[y].median / sums[x].median;
                    if (!(r > 0) || !isfinite(r)) continue;
                    sum += r, lsum += log(r), n++;
                    mn = fmin(mn, r), mx = fmax(mx, r);
                }
            }
            if (!n) continue;
            if (!grow((void **)&an->speedups, &b->cap_speedups, an->n_speedups, sizeof *an->speedups))
                return MEC_ERR_NOMEM;
            mec_analysis_speedup *s = &an->speedups[an->n_speedups++];
            s->experiment = mec_strdup(ga->experiment);
            s->placement = mec_strdup(ga->placement);
            s->faster = mec_strdup(ga->operators);
            s->slower = mec_strdup(gb->operators);
            s->n_models = n;
            s->mean_ratio = sum / n;
            s->geo_ratio = exp(lsum / n);
            s->min_ratio = mn, s->max_ratio = mx;
            s->published = NAN;
            for (size_t h = 0; h < sizeof headlines / sizeof headlines[0]; h++)
                if (!strcmp(headlines[h].experiment, s->experiment) && !strcmp(headlines[h].placement, s->placement) &&
                    !strcmp(headlines[h].faster, s->faster) && !strcmp(headlines[h].slower, s->slower))
                    s->published = headlines[h].published;
            if (!s->experiment || !s->placement || !s->faster || !s->slower) return MEC_ERR_NOMEM;
        }
    }
    return MEC_OK;
}

const mec_analysis_speedup *mec_analysis_find_speedup(const mec_analysis *a, const char *experiment,
                                                      const char *placement, const char *faster, const char *slower) {
    for (int i = 0; a && i < a->n_speedups; i++) {
        const mec_analysis_speedup *s = &a->speedups[i];
        if (!strcmp(s->experiment, experiment) && !strcmp(s->placement, placement) && !strcmp(s->faster, faster) &&
            !strcmp(s->slower, slower))
            return s;
    }
    return NULL;
}

/* -------------------------------------------------------------- accuracy */

static mec_status add_accuracy(builder *b, const mec_results_set *set) {
    mec_analysis *an = b->an;
    size_t n = set->n_accuracy;
    double *x = mec_malloc((n + 1) * sizeof *x), *y = mec_malloc((n + 1) * sizeof *y);
    if (!x || !y) {
        mec_free(x), mec_free(y);
        return MEC_ERR_NOMEM;
    }
    mec_status st = MEC_OK;
    for (size_t i = 0; i < n; i++) {
        const mec_results_accuracy *v = &set->accuracy[i];
        if (!strcmp(v->variant, "identity")) continue;
        if (an->options.experiment && strcmp(v->experiment, an->options.experiment)) continue;
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            if (!strcmp(set->accuracy[j].experiment, v->experiment) && !strcmp(set->accuracy[j].variant, v->variant))
                first = false;
        if (!first) continue;
        /* pairs (model, tier, metric) of identity and this variant */
        int m = 0;
        double sum = 0, mx = -INFINITY;
        for (size_t j = 0; j < n; j++) {
            const mec_results_accuracy *a = &set->accuracy[j];
            if (strcmp(a->experiment, v->experiment) || strcmp(a->variant, v->variant)) continue;
            if (an->options.model && strcmp(a->model, an->options.model)) continue;
            for (size_t q = 0; q < n; q++) {
                const mec_results_accuracy *r = &set->accuracy[q];
                if (!strcmp(r->experiment, a->experiment) && !strcmp(r->variant, "identity") &&
                    !strcmp(r->model, a->model) && !strcmp(r->placement, a->placement) && !strcmp(r->metric, a->metric)) {
                    x[m] = r->value, y[m] = a->value;
                    sum += r->value - a->value;
                    mx = fmax(mx, r->value - a->value);
                    m++;
                    break;
                }
            }
        }
        if (m == 0) continue;
        if (!grow((void **)&an->accuracy, &b->cap_accuracy, an->n_accuracy, sizeof *an->accuracy)) {
            st = MEC_ERR_NOMEM;
            break;
        }
        mec_analysis_accuracy *ac = &an->accuracy[an->n_accuracy++];
        memset(ac, 0, sizeof *ac);
        ac->experiment = mec_strdup(v->experiment);
        ac->operators = mec_strdup(v->variant);
        ac->n_pairs = m;
        ac->mean_loss = sum / m;
        ac->max_loss = mx;
        ac->wilcoxon_t = ac->p_wilcoxon = NAN;
        if (mec_stats_wilcoxon(x, y, (size_t)m, &ac->wilcoxon_t, &ac->p_wilcoxon, NULL)) mec_error_clear();
        mec_stats_cliffs_delta(x, (size_t)m, y, (size_t)m, &ac->delta);
        ac->magnitude = mec_stats_cliffs_magnitude(ac->delta);
        if (!ac->experiment || !ac->operators) {
            st = MEC_ERR_NOMEM;
            break;
        }
    }
    mec_free(x), mec_free(y);
    return st;
}

/* ------------------------------------------------------------------- run */

mec_status mec_analysis_run(const mec_results_set *set, const mec_analysis_options *opt, mec_analysis **out) {
    *out = NULL;
    if (!set) return mec_error(MEC_ERR_INVALID_ARG, "analysis: no results");
    mec_analysis *an = mec_calloc(1, sizeof *an);
    if (!an) return MEC_ERR_NOMEM;
    if (opt) an->options = *opt;
    else mec_analysis_options_default(&an->options);
    builder b = {.an = an};
    size_t G = set->n_groups;
    mec_stats_summary *sums = mec_calloc(G + 1, sizeof *sums);
    double (*ci)[2] = mec_calloc(G + 1, sizeof *ci);
    bool *use = mec_calloc(G + 1, sizeof *use);
    int *idx = mec_calloc(G + 1, sizeof *idx);
    bool *done = mec_calloc(G + 1, sizeof *done);
    mec_status st = MEC_OK;
    if (!sums || !ci || !use || !idx || !done) {
        st = MEC_ERR_NOMEM;
        goto out;
    }
    size_t n_use = 0;
    for (size_t i = 0; i < G; i++) {
        const mec_results_group *g = &set->groups[i];
        ci[i][0] = ci[i][1] = NAN;
        if (!in_scope(g, &an->options)) continue;
        if ((st = mec_stats_summarize(g->latency_s, g->n, &sums[i]))) {
            mec_error_prefix(st, "%s/%s/%s/%s: ", g->experiment, g->model, g->operators, g->placement);
            goto out;
        }
        if (an->options.bootstrap_reps > 0 &&
            (st = mec_stats_bootstrap_median_ci(g->latency_s, g->n, an->options.bootstrap_reps, an->options.conf,
                                                an->options.seed + (uint64_t)g->config_id, &ci[i][0], &ci[i][1])))
            goto out;
        use[i] = true;
        n_use++;
    }
    if (n_use == 0) {
        st = mec_error(MEC_ERR_NOT_FOUND, "analysis: no measured requests%s%s%s%s",
                       an->options.experiment ? " for experiment " : "", an->options.experiment ? an->options.experiment : "",
                       an->options.model ? " and model " : "", an->options.model ? an->options.model : "");
        goto out;
    }
    /* 1. all operators within one placement */
    for (size_t i = 0; i < G; i++) {
        if (!use[i] || done[i]) continue;
        const mec_results_group *g = &set->groups[i];
        int k = 0;
        for (size_t j = i; j < G; j++) {
            const mec_results_group *h = &set->groups[j];
            if (use[j] && !done[j] && !strcmp(h->experiment, g->experiment) && !strcmp(h->model, g->model) &&
                !strcmp(h->placement, g->placement)) {
                idx[k++] = (int)j;
                done[j] = true;
            }
        }
        if (k >= 2 && (st = run_family(&b, set, sums, (const double(*)[2])ci, MEC_FAMILY_OPERATORS, idx, k, g->placement)))
            goto out;
    }
    /* 2. one operator across single-tier placements; 3. a partition across tier pairs */
    memset(done, 0, G * sizeof *done);
    for (size_t i = 0; i < G; i++) {
        if (!use[i] || done[i]) continue;
        const mec_results_group *g = &set->groups[i];
        bool part = has_partition(g->operators);
        if (part != (mec_results_placement_tiers(g->placement) == 2)) continue;
        int k = 0;
        for (size_t j = i; j < G; j++) {
            const mec_results_group *h = &set->groups[j];
            if (use[j] && !done[j] && !strcmp(h->experiment, g->experiment) && !strcmp(h->model, g->model) &&
                !strcmp(h->operators, g->operators) && (mec_results_placement_tiers(h->placement) == 2) == part) {
                idx[k++] = (int)j;
                done[j] = true;
            }
        }
        if (k >= 2 &&
            (st = run_family(&b, set, sums, (const double(*)[2])ci, part ? MEC_FAMILY_PARTITIONS : MEC_FAMILY_PLACEMENTS,
                             idx, k, g->operators)))
            goto out;
    }
    if ((st = add_speedups(&b, set, sums, use))) goto out;
    st = add_accuracy(&b, set);
out:
    mec_free(sums), mec_free(ci), mec_free(use), mec_free(idx), mec_free(done);
    if (st) {
        mec_analysis_destroy(an);
        return st;
    }
    *out = an;
    return MEC_OK;
}
