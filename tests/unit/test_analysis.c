/* analysis: the studies' headline speed-ups from their raw data, the
 * families, speed-ups (mean of ratios and geometric mean), accuracy
 * comparison, Pareto frontier and recommendation, and the report files. */
#include "mec/analysis.h"
#include "mec/report.h"
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static const char *write_file(const char *name, const char *text) {
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

/* The headline test: every speed-up the studies printed, recomputed from
 * ../shared/paper-data (or $MEC_PAPER_DATA). The exact means were also
 * computed independently with the sqlite3 shell (4 decimals). */
static void test_study_headlines(void) {
    const char *data = getenv("MEC_PAPER_DATA");
    if (!data) data = "../shared/paper-data";
    char lat[512];
    snprintf(lat, sizeof lat, "%s/latency.csv", data);
    if (access(lat, R_OK) != 0) {
        printf("skip test_study_headlines: %s not found (set MEC_PAPER_DATA)\n", lat);
        return;
    }
    const char *paths[] = {data};
    mec_results_db *db = NULL;
    mec_results_set *set = NULL;
    mec_analysis *an = NULL;
    mec_analysis_options opt;
    mec_analysis_options_default(&opt);
    opt.bootstrap_reps = 0;
    mec_results_filter main_only = {.input_set = "main"};
    CHECK_OK(mec_results_open_source(paths, 1, &db));
    CHECK_OK(mec_results_load(db, &main_only, &set));
    CHECK_OK(mec_analysis_run(set, &opt, &an));
    if (!an) goto out;
    CHECK(set->n_groups == 152); /* 72 black + 80 white configurations */
    static const struct { const char *exp, *pl, *fast, *slow; double published, exact4; } h[] = {
        {"black", "edge", "sptq+early-exit", "sptq", 1.17, 1.1757},
        {"black", "edge", "sptq+early-exit", "early-exit", 1.45, 1.4557},
        {"white", "edge", "distill+sptq", "distill", 1.52, 1.5281},
        {"white", "edge", "distill+sptq", "sptq", 2.89, 2.8931},
        {"white", "edge", "distill+sptq", "qat", 3.93, 3.9334},
        {"white", "edge", "distill+sptq", "prune", 5.17, 5.1767},
        {"white", "mobile", "distill", "qat", 3.36, 3.3645},
        {"white", "mobile", "distill", "prune", 3.34, 3.3473},
        {"white", "edge", "distill", "qat", 2.66, 2.6638},
        {"white", "edge", "distill", "prune", 3.31, 3.3107},
    };
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        const mec_analysis_speedup *s = mec_analysis_find_speedup(an, h[i].exp, h[i].pl, h[i].fast, h[i].slow);
        CHECK(s != NULL);
        if (!s) continue;
        CHECK(s->n_models == 4);
        if (mec_analysis_truncate2(s->mean_ratio) != h[i].published)
            fprintf(stderr, "  %s %s: %s vs %s = %.4f\n", h[i].exp, h[i].pl, h[i].fast, h[i].slow, s->mean_ratio);
        CHECK_NEAR(mec_analysis_truncate2(s->mean_ratio), h[i].published, 1e-12);
        CHECK_NEAR(s->mean_ratio, h[i].exact4, 5e-5);
        CHECK(s->published == h[i].published);
        CHECK(s->geo_ratio <= s->mean_ratio + 1e-12); /* AM >= GM */
    }
    /* families the studies used */
    int kinds[3] = {0, 0, 0};
    for (int f = 0; f < an->n_families; f++) kinds[an->families[f].kind]++;
    CHECK(kinds[MEC_FAMILY_OPERATORS] == 40);  /* black 4 models x 6 placements, white 4 x 4 */
    CHECK(kinds[MEC_FAMILY_PLACEMENTS] == 40); /* black 4 x 4 operators, white 4 x 6 */
    CHECK(kinds[MEC_FAMILY_PARTITIONS] == 8);  /* black 4 x 2 partitioned operators */
    /* accuracy: 18 paired values per operator, as the studies */
    int n_acc = 0;
    for (int i = 0; i < an->n_accuracy; i++) {
        CHECK(an->accuracy[i].n_pairs == 18);
        n_acc++;
    }
    CHECK(n_acc == 8); /* black: sptq, early-exit, sptq+early-exit; white: sptq, qat, prune, distill, distill+sptq */
    /* recommendation findings in the studies' words */
    mec_recommend_options ro;
    mec_recommend_options_default(&ro);
    mec_recommendation *rec = NULL;
    CHECK_OK(mec_recommend(set, an, &ro, &rec));
    bool edge_black = false;
    for (int i = 0; rec && i < rec->n_findings; i++)
        if (strstr(rec->findings[i], "black study, on the edge: sptq+early-exit is fastest") &&
            strstr(rec->findings[i], "at a medium accuracy loss") && strstr(rec->findings[i], "sptq loses least"))
            edge_black = true;
    CHECK(edge_black);
    mec_recommendation_destroy(rec);
out:
    mec_analysis_destroy(an);
    mec_results_set_destroy(set);
    mec_results_close(db);
}

/* two models, ratios 2 and 3: mean 2.5, geometric mean sqrt(6) */
static const char *synthetic_csv =
    "study,model,operator,placement,latency_s\n"
    "x,m1,identity,edge,4\nx,m1,identity,edge,4\nx,m1,identity,edge,5\nx,m1,identity,edge,3\nx,m1,identity,edge,4\n"
    "x,m1,sptq,edge,2\nx,m1,sptq,edge,2\nx,m1,sptq,edge,1\nx,m1,sptq,edge,3\nx,m1,sptq,edge,2\n"
    "x,m2,identity,edge,9\nx,m2,identity,edge,8\nx,m2,identity,edge,10\n"
    "x,m2,sptq,edge,3\nx,m2,sptq,edge,3.5\nx,m2,sptq,edge,2.5\n"
    "x,m2,sptq,mobile,7\n"
    "x,m2,identity,mobile,7\n";
static const char *synthetic_acc =
    "study,model,operator,tier,metric,value\n"
    "x,m1,identity,edge,top1,80\nx,m1,sptq,edge,top1,79\n"
    "x,m2,identity,edge,top1,70\nx,m2,sptq,edge,top1,69.5\n"
    "x,m2,identity,mobile,top1,70\nx,m2,sptq,mobile,top1,69.5\n";

static void test_synthetic(void) {
    const char *paths[] = {write_file("syn.csv", synthetic_csv), write_file("syn_acc.csv", synthetic_acc)};
    mec_results_db *db = NULL;
    mec_results_set *set = NULL;
    mec_analysis *an = NULL;
    mec_recommendation *rec = NULL;
    CHECK_OK(mec_results_open_csv(paths, 2, &db));
    CHECK_OK(mec_results_load(db, NULL, &set));
    mec_analysis_options opt;
    mec_analysis_options_default(&opt);
    opt.bootstrap_reps = 200;
    CHECK_OK(mec_analysis_run(set, &opt, &an));
    if (!an) goto out;
    const mec_analysis_speedup *s = mec_analysis_find_speedup(an, "x", "edge", "sptq", "identity");
    CHECK(s && s->n_models == 2);
    if (s) {
        CHECK_NEAR(s->mean_ratio, 2.5, 1e-12);
        CHECK_NEAR(s->geo_ratio, sqrt(6.0), 1e-12);
        CHECK_NEAR(s->min_ratio, 2.0, 1e-12);
        CHECK_NEAR(s->max_ratio, 3.0, 1e-12);
        CHECK(isnan(s->published));
    }
    const mec_analysis_speedup *back = mec_analysis_find_speedup(an, "x", "edge", "identity", "sptq");
    CHECK(back && fabs(back->mean_ratio - (0.5 + 1.0 / 3.0) / 2) < 1e-12);
    /* the mobile family has two groups of one value each, identical: no p-value, no crash */
    bool saw_mobile = false;
    for (int f = 0; f < an->n_families; f++) {
        const mec_analysis_family *fam = &an->families[f];
        if (fam->kind == MEC_FAMILY_OPERATORS && !strcmp(fam->fixed, "mobile")) {
            saw_mobile = true;
            CHECK(isnan(fam->p_kruskal));
            CHECK(fam->n_pairs == 1 && fam->pairs[0].delta == 0);
        }
        if (fam->kind == MEC_FAMILY_OPERATORS && !strcmp(fam->fixed, "edge") && !strcmp(fam->model, "m1")) {
            CHECK(fam->n_members == 2);
            CHECK_NEAR(fam->pairs[0].delta, 24.0 / 25.0, 1e-15); /* 24 of 25 pairs identity > sptq, one tie (3, 3) */
            CHECK(fam->pairs[0].magnitude == MEC_EFFECT_LARGE);
            CHECK(fam->p_kruskal < 0.05);
            CHECK(fam->members[0].median_ci_lo <= 4 && fam->members[0].median_ci_hi >= 4);
        }
    }
    CHECK(saw_mobile);
    double loss;
    CHECK_OK(mec_analysis_accuracy_loss(set, "x", "m1", "sptq", "edge", &loss));
    CHECK_NEAR(loss, 1.0, 1e-12);
    CHECK_OK(mec_analysis_accuracy_loss(set, "x", "m1", "sptq+partition", "edge-cloud", &loss));
    CHECK_NEAR(loss, 1.0, 1e-12); /* partitioning is lossless: the first tier's value */
    CHECK_OK(mec_analysis_accuracy_loss(set, "x", "m1", "qat", "edge", &loss));
    CHECK(isnan(loss));
    /* recommendation: at most 0.6 points of loss on the edge */
    mec_recommend_options ro;
    mec_recommend_options_default(&ro);
    ro.max_loss = 0.6;
    ro.placements = "edge";
    CHECK_OK(mec_recommend(set, an, &ro, &rec));
    if (rec) {
        CHECK(rec->n_models == 2);
        for (int m = 0; m < rec->n_models; m++) {
            const mec_recommend_model *md = &rec->models[m];
            CHECK(md->best >= 0);
            if (md->best < 0) continue;
            /* m1's sptq loses 1 point: identity wins; m2's sptq loses 0.5: sptq wins */
            CHECK_STR(md->points[md->best].group->operators, !strcmp(md->model, "m1") ? "identity" : "sptq");
            CHECK_STR(md->points[md->best].group->placement, "edge");
            for (int p = 0; p < md->n_points; p++)
                if (!strcmp(md->points[p].group->placement, "edge")) CHECK(md->points[p].on_frontier); /* a trade-off */
        }
    }
    mec_recommendation_destroy(rec);
    rec = NULL;
    ro.placements = "edge,moon";
    CHECK(mec_recommend(set, an, &ro, &rec) == MEC_ERR_INVALID_ARG);
    CHECK(strstr(mec_last_error(), "'moon'") != NULL);
    ro.placements = NULL;
    ro.max_loss = -1;
    CHECK_OK(mec_recommend(set, an, &ro, &rec));
    /* report files */
    char html[512], md[512], csv[512], tex[512];
    snprintf(html, sizeof html, "%s/r.html", dir);
    snprintf(md, sizeof md, "%s/t.md", dir);
    snprintf(csv, sizeof csv, "%s/t.csv", dir);
    snprintf(tex, sizeof tex, "%s/t.tex", dir);
    CHECK_OK(mec_report_html(set, an, rec, NULL, html));
    CHECK(mec_report_last_plot_count() >= 4); /* speed-up bars, Pareto x2, box plots x2 */
    CHECK_OK(mec_report_tables(an, MEC_REPORT_MARKDOWN, md));
    CHECK_OK(mec_report_tables(an, MEC_REPORT_CSV, csv));
    CHECK_OK(mec_report_tables(an, MEC_REPORT_LATEX, tex));
    void *buf;
    size_t len;
    if (!mec_file_read(html, 1 << 26, &buf, &len)) {
        int n = 0;
        for (const char *p = buf; (p = strstr(p, "<svg class='plot'")); p++) n++;
        CHECK(n == mec_report_last_plot_count());
        CHECK(strstr(buf, "<script src") == NULL && strstr(buf, "http://") == strstr(buf, "http://www.w3.org"));
        mec_free(buf);
    }
    if (!mec_file_read(md, 1 << 26, &buf, &len)) {
        CHECK(strstr(buf, "| x | edge | sptq | 2 | 2.50 | 2.45 | 2.00-3.00 |") != NULL);
        mec_free(buf);
    }
    if (!mec_file_read(tex, 1 << 26, &buf, &len)) {
        CHECK(strstr(buf, "\\begin{tabular}") != NULL && strstr(buf, "\\textbf{large}") != NULL);
        mec_free(buf);
    }
out:
    mec_recommendation_destroy(rec);
    mec_analysis_destroy(an);
    mec_results_set_destroy(set);
    mec_results_close(db);
}

static void test_empty_and_bad(void) {
    mec_results_db *db = NULL;
    mec_results_set *set = NULL;
    mec_analysis *an = NULL;
    CHECK_OK(mec_results_open(":memory:", true, &db));
    CHECK_OK(mec_results_load(db, NULL, &set));
    CHECK(mec_analysis_run(set, NULL, &an) == MEC_ERR_NOT_FOUND);
    CHECK(strstr(mec_last_error(), "no measured requests") != NULL);
    CHECK(an == NULL);
    mec_results_set_destroy(set);
    mec_results_close(db);
    CHECK(mec_analysis_truncate2(1.1757) == 1.17);
    CHECK(mec_analysis_truncate2(1.17) == 1.17); /* 1.17 is 1.16999...: still 1.17 */
    CHECK(mec_analysis_truncate2(5.17999) == 5.17);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/mec_test_analysis_%d", (int)getpid());
    mkdir(dir, 0777);
    RUN(test_study_headlines);
    RUN(test_synthetic);
    RUN(test_empty_and_bad);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return TEST_SUMMARY();
}
