/* mecbench analyze: the studies' comparison families with omnibus, post-hoc
 * and effect sizes, the speed-ups (the studies' mean of ratios and the
 * geometric mean), the accuracy comparisons and the studies' headlines. */
#include "cli.h"
#include "mec/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: mecbench analyze [options] [DB | FILE.csv ... | DIR]\n\n"
            "Compares deployment strategies: for every family the studies used (all operators\n"
            "within one placement; one operator across placements; a partition across tier\n"
            "pairs) Kruskal-Wallis, then Conover-Iman and Dunn post-hoc p-values and Cliff's\n"
            "delta; speed-ups 'A is N x faster than B' as the studies computed them (mean over\n"
            "models of median ratios) and as a geometric mean; accuracy loss per operator\n"
            "(Wilcoxon signed-rank, Cliff's delta); the studies' headline speed-ups.\n\n"
            "The input is a results database (default mecbench.db) or CSVs / a directory of\n"
            "CSVs in the long format (e.g. ../shared/paper-data), read into memory.\n\n"
            "  -d, --db PATH         results database\n"
            "  --adjust METHOD       p-value adjustment within a family: none|bonferroni|holm\n"
            "                        (default holm; the studies used none)\n"
            "  --experiment NAME     only this experiment (study)\n"
            "  --model NAME          only this model\n"
            "  --bootstrap N         resamples for the median CIs (default 1000; 0 = off)\n"
            "  --seed N              bootstrap seed (default 1)\n"
            "  --brief               headlines, speed-ups and accuracy only (no family tables)\n"
            "  --json                every number as JSON on stdout\n");
}

/* ------------------------------------------------------------------ JSON */

static void jnum(FILE *f, double v) {
    if (isnan(v) || isinf(v)) fputs("null", f);
    else fprintf(f, "%.17g", v);
}

static void jstr(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", *s);
        else fputc(*s, f);
    }
    fputc('"', f);
}

static void json_summary(FILE *f, const mec_stats_summary *s, double lo, double hi) {
    fprintf(f, "{\"n\": %zu, \"median\": ", s->n);
    jnum(f, s->median);
    fputs(", \"median_ci\": [", f);
    jnum(f, lo);
    fputs(", ", f);
    jnum(f, hi);
    fputs("], \"mean\": ", f);
    jnum(f, s->mean);
    fputs(", \"sd\": ", f);
    jnum(f, s->sd);
    fputs(", \"p90\": ", f);
    jnum(f, s->p90);
    fputs(", \"p95\": ", f);
    jnum(f, s->p95);
    fputs(", \"p99\": ", f);
    jnum(f, s->p99);
    fputs(", \"min\": ", f);
    jnum(f, s->min);
    fputs(", \"max\": ", f);
    jnum(f, s->max);
    fputc('}', f);
}

static void print_json(FILE *f, const mec_analysis *an) {
    fprintf(f, "{\"adjust\": \"%s\", \"bootstrap_reps\": %d, \"seed\": %llu,\n \"families\": [\n",
            mec_p_adjust_name(an->options.adjust), an->options.bootstrap_reps, (unsigned long long)an->options.seed);
    for (int i = 0; i < an->n_families; i++) {
        const mec_analysis_family *fam = &an->families[i];
        fprintf(f, "  {\"kind\": \"%s\", \"experiment\": ", mec_family_kind_name(fam->kind));
        jstr(f, fam->experiment);
        fputs(", \"model\": ", f);
        jstr(f, fam->model);
        fputs(", \"fixed\": ", f);
        jstr(f, fam->fixed);
        fputs(", \"kruskal_h\": ", f);
        jnum(f, fam->h);
        fputs(", \"kruskal_p\": ", f);
        jnum(f, fam->p_kruskal);
        fputs(",\n   \"members\": [", f);
        for (int m = 0; m < fam->n_members; m++) {
            const mec_analysis_member *mb = &fam->members[m];
            fprintf(f, "%s\n    {\"operators\": ", m ? "," : "");
            jstr(f, mb->group->operators);
            fputs(", \"placement\": ", f);
            jstr(f, mb->group->placement);
            fputs(", \"summary\": ", f);
            json_summary(f, &mb->summary, mb->median_ci_lo, mb->median_ci_hi);
            fputc('}', f);
        }
        fputs("],\n   \"pairs\": [", f);
        for (int q = 0; q < fam->n_pairs; q++) {
            const mec_analysis_pair *p = &fam->pairs[q];
            fprintf(f, "%s\n    {\"a\": ", q ? "," : "");
            jstr(f, fam->members[p->a].label);
            fputs(", \"b\": ", f);
            jstr(f, fam->members[p->b].label);
            fputs(", \"p_conover\": ", f);
            jnum(f, p->p_conover);
            fputs(", \"p_dunn\": ", f);
            jnum(f, p->p_dunn);
            fputs(", \"cliffs_delta\": ", f);
            jnum(f, p->delta);
            fprintf(f, ", \"magnitude\": \"%s\", \"ratio_b_over_a\": ", mec_effect_size_name(p->magnitude));
            jnum(f, p->ratio);
            fputc('}', f);
        }
        fprintf(f, "]}%s\n", i + 1 < an->n_families ? "," : "");
    }
    fputs(" ],\n \"speedups\": [\n", f);
    for (int i = 0; i < an->n_speedups; i++) {
        const mec_analysis_speedup *s = &an->speedups[i];
        fputs("  {\"experiment\": ", f);
        jstr(f, s->experiment);
        fputs(", \"placement\": ", f);
        jstr(f, s->placement);
        fputs(", \"faster\": ", f);
        jstr(f, s->faster);
        fputs(", \"slower\": ", f);
        jstr(f, s->slower);
        fprintf(f, ", \"models\": %d, \"mean_ratio\": ", s->n_models);
        jnum(f, s->mean_ratio);
        fputs(", \"mean_ratio_truncated\": ", f);
        jnum(f, mec_analysis_truncate2(s->mean_ratio));
        fputs(", \"geometric_mean_ratio\": ", f);
        jnum(f, s->geo_ratio);
        fputs(", \"min_ratio\": ", f);
        jnum(f, s->min_ratio);
        fputs(", \"max_ratio\": ", f);
        jnum(f, s->max_ratio);
        fputs(", \"published\": ", f);
        jnum(f, s->published);
        fprintf(f, "}%s\n", i + 1 < an->n_speedups ? "," : "");
    }
    fputs(" ],\n \"accuracy\": [\n", f);
    for (int i = 0; i < an->n_accuracy; i++) {
        const mec_analysis_accuracy *a = &an->accuracy[i];
        fputs("  {\"experiment\": ", f);
        jstr(f, a->experiment);
        fputs(", \"operators\": ", f);
        jstr(f, a->operators);
        fprintf(f, ", \"pairs\": %d, \"mean_loss\": ", a->n_pairs);
        jnum(f, a->mean_loss);
        fputs(", \"max_loss\": ", f);
        jnum(f, a->max_loss);
        fputs(", \"wilcoxon_t\": ", f);
        jnum(f, a->wilcoxon_t);
        fputs(", \"wilcoxon_p\": ", f);
        jnum(f, a->p_wilcoxon);
        fputs(", \"cliffs_delta\": ", f);
        jnum(f, a->delta);
        fprintf(f, ", \"magnitude\": \"%s\"}%s\n", mec_effect_size_name(a->magnitude), i + 1 < an->n_accuracy ? "," : "");
    }
    fputs(" ],\n \"headlines\": [\n", f);
    int nh;
    const mec_analysis_headline *h = mec_analysis_headlines(&nh);
    int printed = 0;
    for (int i = 0; i < nh; i++) {
        const mec_analysis_speedup *s = mec_analysis_find_speedup(an, h[i].experiment, h[i].placement, h[i].faster, h[i].slower);
        if (!s) continue;
        fprintf(f, "%s  {\"experiment\": \"%s\", \"placement\": \"%s\", \"faster\": \"%s\", \"slower\": \"%s\", "
                   "\"published\": %.2f, \"computed\": %.2f, \"computed_exact\": %.17g, \"geometric_mean\": %.17g, \"reproduced\": %s}",
                printed++ ? ",\n" : "", h[i].experiment, h[i].placement, h[i].faster, h[i].slower, h[i].published,
                mec_analysis_truncate2(s->mean_ratio), s->mean_ratio, s->geo_ratio,
                fabs(mec_analysis_truncate2(s->mean_ratio) - h[i].published) < 1e-9 ? "true" : "false");
    }
    fputs("\n ]}\n", f);
}

/* ------------------------------------------------------------------ text */

static const char *stars(double p) {
    return isnan(p) ? "  " : p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : "";
}

static void print_text(FILE *f, const mec_analysis *an, bool brief) {
    if (!brief) {
        for (int i = 0; i < an->n_families; i++) {
            const mec_analysis_family *fam = &an->families[i];
            fprintf(f, "\n== %s / %s: %s %s %s   Kruskal-Wallis H = %.2f, p = %.3g\n", fam->experiment, fam->model,
                    fam->kind == MEC_FAMILY_OPERATORS ? "operators on" : fam->kind == MEC_FAMILY_PLACEMENTS
                                                                              ? "placements of" : "tier pairs of",
                    fam->fixed, fam->kind == MEC_FAMILY_OPERATORS ? "" : "", fam->h, fam->p_kruskal);
            fprintf(f, "  %-28s %5s %10s %23s %10s %10s %10s\n", fam->kind == MEC_FAMILY_OPERATORS ? "operators" : "placement",
                    "n", "median s", "95% CI of median", "mean s", "p95 s", "p99 s");
            for (int m = 0; m < fam->n_members; m++) {
                const mec_analysis_member *mb = &fam->members[m];
                fprintf(f, "  %-28s %5zu %10.4f   [%9.4f, %9.4f] %10.4f %10.4f %10.4f\n", mb->label, mb->summary.n,
                        mb->summary.median, mb->median_ci_lo, mb->median_ci_hi, mb->summary.mean, mb->summary.p95,
                        mb->summary.p99);
            }
            fprintf(f, "  %-44s %8s %11s %11s %8s %s\n", "pair (a vs b)", "b/a", "p Conover", "p Dunn", "delta",
                    "magnitude");
            for (int q = 0; q < fam->n_pairs; q++) {
                const mec_analysis_pair *p = &fam->pairs[q];
                char pair[128];
                snprintf(pair, sizeof pair, "%s vs %s", fam->members[p->a].label, fam->members[p->b].label);
                fprintf(f, "  %-44s %8.3f %8.2g%-3s %8.2g%-3s %8.3f %s\n", pair, p->ratio, p->p_conover,
                        stars(p->p_conover), p->p_dunn, stars(p->p_dunn), p->delta, mec_effect_size_name(p->magnitude));
            }
        }
        fprintf(f, "\n(p-values adjusted within each family: %s; * < 0.05, ** < 0.01, *** < 0.001)\n",
                mec_p_adjust_name(an->options.adjust));
    }
    /* speed-ups vs the unmodified model */
    fprintf(f, "\n== Speed-up over the unmodified model (median(identity) / median(operator), over models)\n");
    fprintf(f, "  %-8s %-13s %-28s %6s %9s %9s %9s %9s\n", "study", "placement", "operators", "models", "mean",
            "geomean", "min", "max");
    for (int i = 0; i < an->n_speedups; i++) {
        const mec_analysis_speedup *s = &an->speedups[i];
        if (strcmp(s->slower, "identity")) continue;
        fprintf(f, "  %-8s %-13s %-28s %6d %8.2fx %8.2fx %8.2fx %8.2fx\n", s->experiment, s->placement, s->faster,
                s->n_models, s->mean_ratio, s->geo_ratio, s->min_ratio, s->max_ratio);
    }
    if (an->n_accuracy) {
        fprintf(f, "\n== Accuracy loss against the unmodified model (paired over model, tier and metric)\n");
        fprintf(f, "  %-8s %-24s %5s %10s %10s %12s %8s %s\n", "study", "operators", "pairs", "mean loss", "max loss",
                "Wilcoxon p", "delta", "magnitude");
        for (int i = 0; i < an->n_accuracy; i++) {
            const mec_analysis_accuracy *a = &an->accuracy[i];
            fprintf(f, "  %-8s %-24s %5d %10.3f %10.3f %12.3g %8.3f %s\n", a->experiment, a->operators, a->n_pairs,
                    a->mean_loss, a->max_loss, a->p_wilcoxon, a->delta, mec_effect_size_name(a->magnitude));
        }
    }
    int nh, shown = 0;
    const mec_analysis_headline *h = mec_analysis_headlines(&nh);
    for (int i = 0; i < nh; i++) {
        const mec_analysis_speedup *s = mec_analysis_find_speedup(an, h[i].experiment, h[i].placement, h[i].faster, h[i].slower);
        if (!s) continue;
        if (!shown++) {
            fprintf(f, "\n== The studies' headline speed-ups, recomputed from the raw data\n");
            fprintf(f, "  %-8s %-8s %-34s %9s %9s %9s  %s\n", "study", "tier", "A is N x faster than B", "published",
                    "computed", "geomean", "");
        }
        char what[128];
        snprintf(what, sizeof what, "%s vs %s", h[i].faster, h[i].slower);
        double t = mec_analysis_truncate2(s->mean_ratio);
        fprintf(f, "  %-8s %-8s %-34s %8.2fx %8.2fx %8.2fx  %s\n", h[i].experiment, h[i].placement, what, h[i].published,
                t, s->geo_ratio, fabs(t - h[i].published) < 1e-9 ? "reproduced" : "DIFFERS");
    }
}

int mec_cli_analyze(int argc, char **argv) {
    mec_analysis_options opt;
    mec_analysis_options_default(&opt);
    bool json = false, brief = false;
    const char **src = calloc((size_t)argc + 1, sizeof *src);
    int n_src = 0;
    if (!src) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(src);
            return 0;
        } else if ((!strcmp(a, "-d") || !strcmp(a, "--db")) && more) {
            src[n_src++] = argv[++i];
        } else if (!strcmp(a, "--adjust") && more) {
            if (mec_p_adjust_parse(argv[++i], &opt.adjust)) {
                fprintf(stderr, "mecbench analyze: %s\n", mec_last_error());
                free(src);
                return 2;
            }
        } else if (!strcmp(a, "--experiment") && more) {
            opt.experiment = argv[++i];
        } else if (!strcmp(a, "--model") && more) {
            opt.model = argv[++i];
        } else if ((!strcmp(a, "--bootstrap") || !strcmp(a, "--seed")) && more) {
            char *end;
            long long v = strtoll(argv[++i], &end, 10);
            bool boot = !strcmp(a, "--bootstrap");
            if (*end || v < 0 || (boot && v != 0 && (v < 10 || v > 1000000))) {
                fprintf(stderr, "mecbench analyze: %s '%s' is not %s\n", a, argv[i],
                        boot ? "0 or a count in 10..1000000" : "a non-negative integer");
                free(src);
                return 2;
            }
            if (boot) opt.bootstrap_reps = (int)v;
            else opt.seed = (uint64_t)v;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--brief")) {
            brief = true;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mecbench analyze: unknown or incomplete option '%s' (see mecbench analyze --help)\n", a);
            free(src);
            return 2;
        } else {
            src[n_src++] = a;
        }
    }
    if (n_src == 0) src[n_src++] = "mecbench.db";
    mec_results_db *db = NULL;
    mec_results_set *set = NULL;
    mec_analysis *an = NULL;
    int rc = 1;
    mec_results_filter filter = {.experiment = opt.experiment, .model = opt.model};
    if (mec_results_open_source(src, n_src, &db) || mec_results_load(db, &filter, &set) ||
        mec_analysis_run(set, &opt, &an)) {
        fprintf(stderr, "mecbench analyze: %s\n", mec_last_error());
        goto out;
    }
    if (json) print_json(stdout, an);
    else print_text(stdout, an, brief);
    rc = 0;
out:
    mec_analysis_destroy(an);
    mec_results_set_destroy(set);
    mec_results_close(db);
    free(src);
    return rc;
}
