/* mecbench report: one self-contained HTML page with SVG plots, plus the
 * tables as Markdown, CSV and LaTeX. */
#include "cli.h"
#include "mec/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: mecbench report [options] [DB | FILE.csv ... | DIR]\n\n"
            "Writes OUT/report.html (self-contained: inline SVG plots of latency distributions,\n"
            "the Pareto frontier, per-model speed-ups, network-variation heat maps and latency\n"
            "breakdowns, tables with effect-size marks) and OUT/tables.md, OUT/tables.csv,\n"
            "OUT/tables.tex.\n\n"
            "  -d, --db PATH        results database (default mecbench.db)\n"
            "  -o, --out DIR        output directory (default report; created if missing)\n"
            "  --title TEXT         page title\n"
            "  --percentile P       latency percentile of the Pareto plots (default 95)\n"
            "  --adjust METHOD      none|bonferroni|holm (default holm)\n"
            "  --experiment NAME    only this experiment;  --model NAME  only this model\n");
}

int mec_cli_report(int argc, char **argv) {
    const char *out_dir = "report", *title = NULL;
    mec_analysis_options aopt;
    mec_analysis_options_default(&aopt);
    aopt.bootstrap_reps = 200;
    mec_recommend_options ropt;
    mec_recommend_options_default(&ropt);
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
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--out")) && more) {
            out_dir = argv[++i];
        } else if (!strcmp(a, "--title") && more) {
            title = argv[++i];
        } else if (!strcmp(a, "--percentile") && more) {
            char *end;
            ropt.percentile = strtod(argv[++i], &end);
            if (*end || !(ropt.percentile >= 50 && ropt.percentile <= 100)) {
                fprintf(stderr, "mecbench report: --percentile '%s' is not a number in 50..100\n", argv[i]);
                free(src);
                return 2;
            }
        } else if (!strcmp(a, "--adjust") && more) {
            if (mec_p_adjust_parse(argv[++i], &aopt.adjust)) {
                fprintf(stderr, "mecbench report: %s\n", mec_last_error());
                free(src);
                return 2;
            }
        } else if (!strcmp(a, "--experiment") && more) {
            aopt.experiment = ropt.experiment = argv[++i];
        } else if (!strcmp(a, "--model") && more) {
            aopt.model = ropt.model = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mecbench report: unknown or incomplete option '%s' (see mecbench report --help)\n", a);
            free(src);
            return 2;
        } else {
            src[n_src++] = a;
        }
    }
    if (n_src == 0) src[n_src++] = "mecbench.db";
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "mecbench report: cannot create directory %s: %s\n", out_dir, strerror(errno));
        free(src);
        return 1;
    }
    mec_results_db *db = NULL;
    mec_results_set *set = NULL;
    mec_analysis *an = NULL;
    mec_recommendation *rec = NULL;
    int rc = 1;
    char source[1024] = "";
    for (int i = 0; i < n_src; i++)
        snprintf(source + strlen(source), sizeof source - strlen(source), "%s%s", i ? ", " : "", src[i]);
    mec_results_filter filter = {.experiment = aopt.experiment, .model = aopt.model};
    mec_report_options opt = {.title = title, .source = source, .percentile = ropt.percentile};
    char path[4096];
    if (mec_results_open_source(src, n_src, &db) || mec_results_load(db, &filter, &set) ||
        mec_analysis_run(set, &aopt, &an) || mec_recommend(set, an, &ropt, &rec))
        goto fail;
    snprintf(path, sizeof path, "%s/report.html", out_dir);
    if (mec_report_html(set, an, rec, &opt, path)) goto fail;
    int plots = mec_report_last_plot_count();
    snprintf(path, sizeof path, "%s/tables.md", out_dir);
    if (mec_report_tables(an, MEC_REPORT_MARKDOWN, path)) goto fail;
    snprintf(path, sizeof path, "%s/tables.csv", out_dir);
    if (mec_report_tables(an, MEC_REPORT_CSV, path)) goto fail;
    snprintf(path, sizeof path, "%s/tables.tex", out_dir);
    if (mec_report_tables(an, MEC_REPORT_LATEX, path)) goto fail;
    printf("wrote %s/report.html (%d plots), %s/tables.md, %s/tables.csv, %s/tables.tex\n", out_dir, plots, out_dir,
           out_dir, out_dir);
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "mecbench report: %s\n", mec_last_error());
out:
    mec_recommendation_destroy(rec);
    mec_analysis_destroy(an);
    mec_results_set_destroy(set);
    mec_results_close(db);
    free(src);
    return rc;
}
