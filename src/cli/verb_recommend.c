/* mecbench recommend: the Pareto frontier of latency vs accuracy loss per
 * model, the best strategy under constraints, and findings in plain words. */
#include "cli.h"
#include "mec/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: mecbench recommend [options] [DB | FILE.csv ... | DIR]\n\n"
            "For each model: every strategy (operators + placement) with its latency at the\n"
            "chosen percentile and its accuracy loss, the Pareto frontier of the two, the best\n"
            "strategy under the constraints; then findings with their statistical support.\n\n"
            "  -d, --db PATH          results database (default mecbench.db)\n"
            "  --max-loss X           accept at most X points of accuracy loss (\"1\" or \"1%%\":\n"
            "                         metric points, the metrics being percentages)\n"
            "  --placements LIST      allowed placements, e.g. mobile,edge (default all)\n"
            "  --percentile P         latency percentile, 50..100 (default 95)\n"
            "  --experiment NAME      only this experiment (study)\n"
            "  --model NAME           only this model\n"
            "  --adjust METHOD        p-value adjustment for the support: none|bonferroni|holm\n"
            "  --json                 machine-readable output\n");
}

static void jstr(const char *s) {
    putchar('"');
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s >= 0x20) putchar(*s);
    }
    putchar('"');
}

static void jnum(double v) {
    if (isnan(v) || isinf(v)) printf("null");
    else printf("%.17g", v);
}

int mec_cli_recommend(int argc, char **argv) {
    mec_recommend_options opt;
    mec_recommend_options_default(&opt);
    mec_analysis_options aopt;
    mec_analysis_options_default(&aopt);
    aopt.bootstrap_reps = 0;
    bool json = false;
    const char **src = calloc((size_t)argc + 1, sizeof *src);
    int n_src = 0;
    if (!src) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        char *end;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(src);
            return 0;
        } else if ((!strcmp(a, "-d") || !strcmp(a, "--db")) && more) {
            src[n_src++] = argv[++i];
        } else if (!strcmp(a, "--max-loss") && more) {
            opt.max_loss = strtod(argv[++i], &end);
            if (end == argv[i] || (*end && strcmp(end, "%")) || !(opt.max_loss >= 0) || !isfinite(opt.max_loss)) {
                fprintf(stderr, "mecbench recommend: --max-loss '%s' is not a non-negative number (e.g. 1 or 1%%)\n", argv[i]);
                free(src);
                return 2;
            }
        } else if (!strcmp(a, "--percentile") && more) {
            opt.percentile = strtod(argv[++i], &end);
            if (*end || !(opt.percentile >= 50 && opt.percentile <= 100)) {
                fprintf(stderr, "mecbench recommend: --percentile '%s' is not a number in 50..100\n", argv[i]);
                free(src);
                return 2;
            }
        } else if (!strcmp(a, "--placements") && more) {
            opt.placements = argv[++i];
        } else if (!strcmp(a, "--experiment") && more) {
            opt.experiment = aopt.experiment = argv[++i];
        } else if (!strcmp(a, "--model") && more) {
            opt.model = aopt.model = argv[++i];
        } else if (!strcmp(a, "--adjust") && more) {
            if (mec_p_adjust_parse(argv[++i], &aopt.adjust)) {
                fprintf(stderr, "mecbench recommend: %s\n", mec_last_error());
                free(src);
                return 2;
            }
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mecbench recommend: unknown or incomplete option '%s' (see mecbench recommend --help)\n", a);
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
    mec_recommendation *r = NULL;
    int rc = 1;
    mec_results_filter filter = {.experiment = opt.experiment, .model = opt.model};
    if (mec_results_open_source(src, n_src, &db) || mec_results_load(db, &filter, &set) ||
        mec_analysis_run(set, &aopt, &an) || mec_recommend(set, an, &opt, &r)) {
        fprintf(stderr, "mecbench recommend: %s\n", mec_last_error());
        goto out;
    }
    if (json) {
        printf("{\"percentile\": %g, \"max_loss\": ", opt.percentile);
        jnum(opt.max_loss < 0 ? NAN : opt.max_loss);
        printf(", \"placements\": ");
        if (opt.placements) jstr(opt.placements);
        else printf("null");
        printf(",\n \"models\": [\n");
        for (int m = 0; m < r->n_models; m++) {
            const mec_recommend_model *md = &r->models[m];
            printf("  {\"experiment\": ");
            jstr(md->experiment);
            printf(", \"model\": ");
            jstr(md->model);
            printf(", \"best\": ");
            if (md->best >= 0) {
                printf("{\"operators\": ");
                jstr(md->points[md->best].group->operators);
                printf(", \"placement\": ");
                jstr(md->points[md->best].group->placement);
                printf("}");
            } else {
                printf("null");
            }
            printf(", \"strategies\": [");
            for (int p = 0; p < md->n_points; p++) {
                const mec_strategy_point *pt = &md->points[p];
                printf("%s\n    {\"operators\": ", p ? "," : "");
                jstr(pt->group->operators);
                printf(", \"placement\": ");
                jstr(pt->group->placement);
                printf(", \"latency_s\": ");
                jnum(pt->latency_s);
                printf(", \"accuracy_loss\": ");
                jnum(pt->loss);
                printf(", \"pareto\": %s}", pt->on_frontier ? "true" : "false");
            }
            printf("]}%s\n", m + 1 < r->n_models ? "," : "");
        }
        printf(" ],\n \"findings\": [");
        for (int i = 0; i < r->n_findings; i++) {
            printf("%s\n  ", i ? "," : "");
            jstr(r->findings[i]);
        }
        printf("\n ]}\n");
    } else {
        for (int m = 0; m < r->n_models; m++) {
            const mec_recommend_model *md = &r->models[m];
            printf("\n== %s / %s   (latency = p%g; accuracy loss in metric points; P = on the Pareto frontier)\n",
                   md->experiment, md->model, opt.percentile);
            printf("  %-2s %-28s %-13s %11s %10s\n", "", "operators", "placement", "latency s", "loss");
            for (int p = 0; p < md->n_points; p++) {
                const mec_strategy_point *pt = &md->points[p];
                char loss[32];
                if (isnan(pt->loss)) snprintf(loss, sizeof loss, "?");
                else snprintf(loss, sizeof loss, "%.2f", pt->loss);
                printf("  %-2s %-28s %-13s %11.3f %10s%s\n", pt->on_frontier ? "P" : "", pt->group->operators,
                       pt->group->placement, pt->latency_s, loss, p == md->best ? "   <- best" : "");
            }
        }
        printf("\n== Findings\n");
        for (int i = 0; i < r->n_findings; i++) printf("  - %s\n", r->findings[i]);
    }
    rc = 0;
out:
    mec_recommendation_destroy(r);
    mec_analysis_destroy(an);
    mec_results_set_destroy(set);
    mec_results_close(db);
    free(src);
    return rc;
}
