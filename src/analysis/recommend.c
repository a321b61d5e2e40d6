/* analysis: the Pareto frontier of latency (a chosen percentile) vs accuracy
 * loss, the best strategy under constraints, and findings in plain words with
 * their statistical support, in the spirit of the studies' conclusions. */
#include "mec/analysis.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mec_recommend_options_default(mec_recommend_options *o) {
    memset(o, 0, sizeof *o);
    o->percentile = 95;
    o->max_loss = -1;
}

void mec_recommendation_destroy(mec_recommendation *r) {
    if (!r) return;
    for (int i = 0; i < r->n_models; i++) {
        mec_free(r->models[i].experiment), mec_free(r->models[i].model), mec_free(r->models[i].points);
    }
    for (int i = 0; i < r->n_findings; i++) mec_free(r->findings[i]);
    mec_free(r->models), mec_free(r->findings);
    mec_free(r);
}

/* placement in a comma-separated list (NULL list = all) */
static bool placement_allowed(const char *list, const char *p) {
    if (!list) return true;
    size_t n = strlen(p);
    for (const char *s = list; *s;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == n && !strncmp(s, p, n)) return true;
        if (!e) break;
        s = e + 1;
    }
    return false;
}

static mec_status add_finding(mec_recommendation *r, int *cap, const char *fmt, ...) MEC_PRINTF(3, 4);
static mec_status add_finding(mec_recommendation *r, int *cap, const char *fmt, ...) {
    if (r->n_findings == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        char **f = mec_realloc(r->findings, (size_t)*cap * sizeof *f, (size_t)nc * sizeof *f);
        if (!f) return MEC_ERR_NOMEM;
        r->findings = f, *cap = nc;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->findings[r->n_findings] = mec_strdup(buf);
    if (!r->findings[r->n_findings]) return MEC_ERR_NOMEM;
    r->n_findings++;
    return MEC_OK;
}

static const mec_analysis_accuracy *find_accuracy(const mec_analysis *an, const char *experiment, const char *ops) {
    char variant[256];
    snprintf(variant, sizeof variant, "%s", ops);
    char *p = strstr(variant, "+partition");
    if (p) *p = '\0';
    for (int i = 0; an && i < an->n_accuracy; i++)
        if (!strcmp(an->accuracy[i].experiment, experiment) && !strcmp(an->accuracy[i].operators, variant))
            return &an->accuracy[i];
    return NULL;
}

static const char *tier_phrase(const char *placement) {
    if (!strcmp(placement, "mobile")) return "on mobile";
    if (!strcmp(placement, "edge")) return "on the edge";
    if (!strcmp(placement, "cloud")) return "in the cloud";
    return placement;
}

/* Support for "a is faster than b on placement": over the models, how many
 * have a significant Conover p (adjusted) and a large/medium Cliff's delta. */
static void pair_support(const mec_analysis *an, const char *experiment, const char *placement, const char *a,
                         const char *b, int *n_models, int *n_sig, int *n_large, double *max_p) {
    *n_models = *n_sig = *n_large = 0;
    *max_p = 0;
    for (int f = 0; f < an->n_families; f++) {
        const mec_analysis_family *fam = &an->families[f];
        if (fam->kind != MEC_FAMILY_OPERATORS || strcmp(fam->experiment, experiment) || strcmp(fam->fixed, placement))
            continue;
        for (int q = 0; q < fam->n_pairs; q++) {
            const mec_analysis_pair *pr = &fam->pairs[q];
            const char *la = fam->members[pr->a].label, *lb = fam->members[pr->b].label;
            if (!((!strcmp(la, a) && !strcmp(lb, b)) || (!strcmp(la, b) && !strcmp(lb, a)))) continue;
            (*n_models)++;
            if (pr->p_conover < 0.05) (*n_sig)++;
            if (pr->magnitude == MEC_EFFECT_LARGE) (*n_large)++;
            if (pr->p_conover > *max_p) *max_p = pr->p_conover;
        }
    }
}

mec_status mec_recommend(const mec_results_set *set, const mec_analysis *an, const mec_recommend_options *opt,
                         mec_recommendation **out) {
    *out = NULL;
    mec_recommend_options defaults;
    mec_recommend_options_default(&defaults);
    if (!opt) opt = &defaults;
    if (!(opt->percentile >= 50 && opt->percentile <= 100))
        return mec_error(MEC_ERR_RANGE, "recommend: percentile %g not in 50..100", opt->percentile);
    if (opt->placements) {
        char list[512];
        snprintf(list, sizeof list, "%s", opt->placements);
        for (char *s = strtok(list, ","); s; s = strtok(NULL, ","))
            if (!mec_results_placement_valid(s))
                return mec_error(MEC_ERR_INVALID_ARG,
                                 "recommend: placement '%s' is not one of mobile, edge, cloud, mobile-edge, edge-cloud, mobile-cloud", s);
    }
    mec_recommendation *r = mec_calloc(1, sizeof *r);
    if (!r) return MEC_ERR_NOMEM;
    r->options = *opt;
    int cap_models = 0, cap_findings = 0;
    mec_status st = MEC_OK;
    size_t G = set->n_groups;
    for (size_t i = 0; i < G; i++) {
        const mec_results_group *g = &set->groups[i];
        if (strcmp(g->input_set, "main") || g->n == 0) continue;
        if ((opt->experiment && strcmp(g->experiment, opt->experiment)) || (opt->model && strcmp(g->model, opt->model)))
            continue;
        bool seen = false;
        for (int m = 0; m < r->n_models && !seen; m++)
            seen = !strcmp(r->models[m].experiment, g->experiment) && !strcmp(r->models[m].model, g->model);
        if (seen) continue;
        if (r->n_models == cap_models) {
            int nc = cap_models ? cap_models * 2 : 8;
            mec_recommend_model *m = mec_realloc(r->models, (size_t)cap_models * sizeof *m, (size_t)nc * sizeof *m);
            if (!m) { st = MEC_ERR_NOMEM; goto fail; }
            r->models = m, cap_models = nc;
        }
        mec_recommend_model *m = &r->models[r->n_models++];
        memset(m, 0, sizeof *m);
        m->best = m->baseline = -1;
        m->experiment = mec_strdup(g->experiment);
        m->model = mec_strdup(g->model);
        m->points = mec_calloc(G, sizeof *m->points);
        if (!m->experiment || !m->model || !m->points) { st = MEC_ERR_NOMEM; goto fail; }
        for (size_t j = i; j < G; j++) {
            const mec_results_group *h = &set->groups[j];
            if (strcmp(h->input_set, "main") || h->n == 0 || strcmp(h->experiment, g->experiment) ||
                strcmp(h->model, g->model))
                continue;
            mec_strategy_point *pt = &m->points[m->n_points++];
            pt->group = h;
            double *s;
            if ((st = mec_stats_sorted_copy(h->latency_s, h->n, &s))) goto fail;
            pt->latency_s = mec_stats_percentile_sorted(s, h->n, opt->percentile);
            mec_free(s);
            mec_analysis_accuracy_loss(set, h->experiment, h->model, h->operators, h->placement, &pt->loss);
        }
        /* frontier per placement: no other point there at least as good on both with one strictly better */
        for (int p = 0; p < m->n_points; p++) {
            mec_strategy_point *a = &m->points[p];
            if (isnan(a->loss)) continue;
            bool dominated = false;
            for (int q = 0; q < m->n_points && !dominated; q++) {
                const mec_strategy_point *b = &m->points[q];
                if (q == p || isnan(b->loss) || strcmp(b->group->placement, a->group->placement)) continue;
                dominated = b->latency_s <= a->latency_s && b->loss <= a->loss &&
                            (b->latency_s < a->latency_s || b->loss < a->loss);
            }
            a->on_frontier = !dominated;
        }
        for (int p = 0; p < m->n_points; p++) {
            const mec_strategy_point *a = &m->points[p];
            if (!placement_allowed(opt->placements, a->group->placement)) continue;
            if (opt->max_loss >= 0 && !(a->loss <= opt->max_loss + 1e-12)) continue;
            if (m->best < 0 || a->latency_s < m->points[m->best].latency_s) m->best = p;
        }
        if (m->best >= 0)
            for (int p = 0; p < m->n_points; p++)
                if (!strcmp(m->points[p].group->operators, "identity") &&
                    !strcmp(m->points[p].group->placement, m->points[m->best].group->placement))
                    m->baseline = p;
    }
    if (r->n_models == 0) {
        st = mec_error(MEC_ERR_NOT_FOUND, "recommend: no measured strategies%s%s", opt->model ? " for model " : "",
                       opt->model ? opt->model : "");
        goto fail;
    }
    /* findings, per experiment and single-tier placement */
    for (int mi = 0; mi < r->n_models; mi++) {
        const char *exp = r->models[mi].experiment;
        bool first = true;
        for (int q = 0; q < mi && first; q++) first = strcmp(r->models[q].experiment, exp) != 0;
        if (!first) continue;
        static const char *tiers[] = {"mobile", "edge", "cloud"};
        for (int t = 0; t < 3; t++) {
            const char *pl = tiers[t];
            if (!placement_allowed(opt->placements, pl)) continue;
            /* fastest: highest mean speed-up over identity among operators on this tier */
            const mec_analysis_speedup *best = NULL, *second = NULL;
            for (int s = 0; an && s < an->n_speedups; s++) {
                const mec_analysis_speedup *sp = &an->speedups[s];
                if (strcmp(sp->experiment, exp) || strcmp(sp->placement, pl) || strcmp(sp->slower, "identity")) continue;
                if (!best || sp->mean_ratio > best->mean_ratio) second = best, best = sp;
                else if (!second || sp->mean_ratio > second->mean_ratio) second = sp;
            }
            if (!best) continue;
            char speed[400] = "";
            if (best->mean_ratio < 1.02) {
                snprintf(speed, sizeof speed, "no operator is meaningfully faster than the unmodified model (best: %s, %.2fx)",
                         best->faster, best->mean_ratio);
            } else {
                int nm, nsig, nlarge;
                double maxp;
                pair_support(an, exp, pl, best->faster, "identity", &nm, &nsig, &nlarge, &maxp);
                snprintf(speed, sizeof speed,
                         "%s is fastest, %.2fx faster than the unmodified model (mean over %d models; geometric mean %.2fx; "
                         "Conover p < 0.05 in %d/%d models, Cliff's delta large in %d/%d)",
                         best->faster, best->mean_ratio, best->n_models, best->geo_ratio, nsig, nm, nlarge, nm);
                if (second && second->mean_ratio > 1.0) {
                    const mec_analysis_speedup *vs = mec_analysis_find_speedup(an, exp, pl, best->faster, second->faster);
                    pair_support(an, exp, pl, best->faster, second->faster, &nm, &nsig, &nlarge, &maxp);
                    if (vs)
                        snprintf(speed + strlen(speed), sizeof speed - strlen(speed),
                                 " and %.2fx faster than the runner-up %s (significant in %d/%d models)", vs->mean_ratio,
                                 second->faster, nsig, nm);
                }
            }
            const mec_analysis_accuracy *acc = best->mean_ratio >= 1.02 ? find_accuracy(an, exp, best->faster) : NULL;
            char loss[300] = "";
            if (acc)
                snprintf(loss, sizeof loss, ", at a %s accuracy loss (mean %.2f points over %d values, Cliff's delta %.2f, "
                         "Wilcoxon p = %.2g)", mec_effect_size_name(acc->magnitude), acc->mean_loss, acc->n_pairs,
                         acc->delta, acc->p_wilcoxon);
            else if (best->mean_ratio >= 1.02 && strstr(best->faster, "partition") && !strstr(best->faster, "+"))
                snprintf(loss, sizeof loss, ", losslessly (partitioning keeps the model)");
            /* least loss among the operators measured on this tier (not identity) */
            const mec_analysis_accuracy *least = NULL;
            for (int a = 0; an && a < an->n_accuracy; a++) {
                const mec_analysis_accuracy *ac = &an->accuracy[a];
                if (strcmp(ac->experiment, exp)) continue;
                bool ran = false;
                for (int s = 0; s < an->n_speedups && !ran; s++)
                    ran = !strcmp(an->speedups[s].experiment, exp) && !strcmp(an->speedups[s].placement, pl) &&
                          !strcmp(an->speedups[s].faster, ac->operators);
                if (ran && (!least || ac->mean_loss < least->mean_loss)) least = ac;
            }
            char least_s[300] = "";
            if (least && (!acc || least != acc))
                snprintf(least_s, sizeof least_s, "; %s loses least (mean %.2f points, %s, Cliff's delta %.2f)",
                         least->operators, least->mean_loss, mec_effect_size_name(least->magnitude), least->delta);
            if ((st = add_finding(r, &cap_findings, "%s study, %s: %s%s%s.", exp, tier_phrase(pl), speed, loss, least_s)))
                goto fail;
        }
    }
    for (int mi = 0; mi < r->n_models; mi++) {
        const mec_recommend_model *m = &r->models[mi];
        if (m->best < 0) {
            if ((st = add_finding(r, &cap_findings, "%s/%s: no strategy meets the constraints.", m->experiment, m->model)))
                goto fail;
            continue;
        }
        const mec_strategy_point *b = &m->points[m->best];
        char base[160] = "";
        if (m->baseline >= 0 && m->baseline != m->best)
            snprintf(base, sizeof base, ", %.2fx faster than the unmodified model there",
                     m->points[m->baseline].latency_s / b->latency_s);
        char lossbuf[64];
        if (isnan(b->loss)) snprintf(lossbuf, sizeof lossbuf, "accuracy loss unknown");
        else snprintf(lossbuf, sizeof lossbuf, "accuracy loss %.2f points", b->loss);
        if ((st = add_finding(r, &cap_findings, "%s/%s: best under the constraints is %s on %s: p%g latency %.3f s, %s%s.",
                              m->experiment, m->model, b->group->operators, b->group->placement, opt->percentile,
                              b->latency_s, lossbuf, base)))
            goto fail;
    }
    *out = r;
    return MEC_OK;
fail:
    mec_recommendation_destroy(r);
    return st;
}
