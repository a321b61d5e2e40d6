/* statistics: every test against SciPy's values for the same inputs
 * (tests/data/stats/vectors.txt, made once by scripts/gen_stats_vectors.py),
 * plus the bad-input paths. */
#include "mec/analysis.h"
#include "test.h"

#define MAX_ARRAYS 8
#define MAX_EXPECT 64

typedef struct vcase {
    char kind[32], label[64];
    int n_arrays;
    char tag[MAX_ARRAYS];
    size_t len[MAX_ARRAYS];
    double *arr[MAX_ARRAYS];
    int n_expect;
    char key[MAX_EXPECT][32];
    double val[MAX_EXPECT];
} vcase;

static vcase cases[128];
static int n_cases;

static void load_vectors(void) {
    const char *path = getenv("MEC_STATS_VECTORS");
    if (!path) path = "tests/data/stats/vectors.txt";
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", path);
        test_failed_checks++;
        return;
    }
    char word[64];
    vcase *c = NULL;
    while (fscanf(f, "%63s", word) == 1) {
        if (word[0] == '#') {
            int ch;
            while ((ch = fgetc(f)) != '\n' && ch != EOF) {}
        } else if (!strcmp(word, "case")) {
            c = &cases[n_cases++];
            memset(c, 0, sizeof *c);
            if (fscanf(f, "%31s %63s", c->kind, c->label) != 2) break;
        } else if (!strcmp(word, "expect") && c) {
            if (fscanf(f, "%31s %lf", c->key[c->n_expect], &c->val[c->n_expect]) != 2) break;
            c->n_expect++;
        } else if (!strcmp(word, "end")) {
            c = NULL;
        } else if (c && strlen(word) == 1) {
            int a = c->n_arrays++;
            c->tag[a] = word[0];
            if (fscanf(f, "%zu", &c->len[a]) != 1) break;
            c->arr[a] = malloc((c->len[a] + 1) * sizeof(double));
            for (size_t i = 0; i < c->len[a]; i++)
                if (fscanf(f, "%lf", &c->arr[a][i]) != 1) break;
        }
    }
    fclose(f);
}

static double expect(const vcase *c, const char *key) {
    for (int i = 0; i < c->n_expect; i++)
        if (!strcmp(c->key[i], key)) return c->val[i];
    fprintf(stderr, "  case %s %s: no expected '%s'\n", c->kind, c->label, key);
    test_failed_checks++;
    return NAN;
}

static bool has(const vcase *c, const char *key) {
    for (int i = 0; i < c->n_expect; i++)
        if (!strcmp(c->key[i], key)) return true;
    return false;
}

static int count_kind(const char *kind) {
    int n = 0;
    for (int i = 0; i < n_cases; i++) n += !strcmp(cases[i].kind, kind);
    return n;
}

#define REL 1e-9

static void test_vectors_loaded(void) {
    CHECK(n_cases >= 60);
    CHECK(count_kind("kruskal") >= 6);
    CHECK(count_kind("mannwhitney") >= 10);
    CHECK(count_kind("wilcoxon") >= 6);
    CHECK(count_kind("shapiro") >= 12);
}

static void test_summary(void) {
    for (int i = 0; i < n_cases; i++) {
        vcase *c = &cases[i];
        if (strcmp(c->kind, "summary")) continue;
        mec_stats_summary s;
        CHECK_OK(mec_stats_summarize(c->arr[0], c->len[0], &s));
        CHECK(s.n == c->len[0]);
        CHECK_REL(s.median, expect(c, "median"), REL);
        CHECK_REL(s.mean, expect(c, "mean"), REL);
        if (has(c, "sd")) CHECK_REL(s.sd, expect(c, "sd"), REL);
        else CHECK(isnan(s.sd));
        CHECK_REL(s.p90, expect(c, "p90"), REL);
        CHECK_REL(s.p95, expect(c, "p95"), REL);
        CHECK_REL(s.p99, expect(c, "p99"), REL);
        CHECK_REL(s.min, expect(c, "min"), 0);
        CHECK_REL(s.max, expect(c, "max"), 0);
    }
}

/* SciPy 1.10 runs Shapiro-Wilk (swilk.f) in single precision, so its W and
 * p carry float32 rounding: we compute in double and agree to what float32
 * can hold. W to 2e-6 relative; p to 1e-4 relative (p is steep in W near 1). */
static void test_shapiro(void) {
    for (int i = 0; i < n_cases; i++) {
        vcase *c = &cases[i];
        if (strcmp(c->kind, "shapiro")) continue;
        double w, p;
        CHECK_OK(mec_stats_shapiro(c->arr[0], c->len[0], &w, &p));
        double ew = expect(c, "W"), ep = expect(c, "p");
        if (!(fabs(w - ew) <= 2e-6 * ew)) fprintf(stderr, "  shapiro %s: W\n", c->label);
        CHECK_REL(w, ew, 2e-6);
        if (!(fabs(p - ep) <= 1e-4 * ep + 1e-7)) fprintf(stderr, "  shapiro %s: p\n", c->label);
        CHECK_NEAR(p, ep, 1e-4 * ep + 1e-7);
    }
}

static void test_kruskal_posthoc(void) {
    for (int i = 0; i < n_cases; i++) {
        vcase *c = &cases[i];
        if (strcmp(c->kind, "kruskal")) continue;
        int k = c->n_arrays;
        const double *g[MAX_ARRAYS];
        for (int a = 0; a < k; a++) g[a] = c->arr[a];
        double h, p, pc[MAX_ARRAYS * MAX_ARRAYS], pd[MAX_ARRAYS * MAX_ARRAYS];
        CHECK_OK(mec_stats_kruskal(g, c->len, k, &h, &p));
        CHECK_REL(h, expect(c, "H"), REL);
        CHECK_REL(p, expect(c, "p"), REL);
        CHECK_OK(mec_stats_conover(g, c->len, k, pc));
        CHECK_OK(mec_stats_dunn(g, c->len, k, pd));
        for (int a = 0; a < k; a++)
            for (int b = a + 1; b < k; b++) {
                char key[32];
                snprintf(key, sizeof key, "conover_%d_%d", a, b);
                double e = expect(c, key);
                if (!(fabs(pc[a * k + b] - e) <= REL * e)) fprintf(stderr, "  kruskal %s: %s\n", c->label, key);
                CHECK_REL(pc[a * k + b], e, REL);
                CHECK(pc[a * k + b] == pc[b * k + a]);
                snprintf(key, sizeof key, "dunn_%d_%d", a, b);
                CHECK_REL(pd[a * k + b], expect(c, key), REL);
            }
    }
}

static void test_mannwhitney_cliff(void) {
    int n_exact = 0, n_approx = 0;
    for (int i = 0; i < n_cases; i++) {
        vcase *c = &cases[i];
        if (strcmp(c->kind, "mannwhitney")) continue;
        double u, p, d;
        bool exact;
        CHECK_OK(mec_stats_mannwhitney(c->arr[0], c->len[0], c->arr[1], c->len[1], &u, &p, &exact));
        n_exact += exact, n_approx += !exact;
        if (!(fabs(p - expect(c, "p")) <= REL * expect(c, "p"))) fprintf(stderr, "  mwu %s: p\n", c->label);
        CHECK_REL(u, expect(c, "U"), REL);
        CHECK_REL(p, expect(c, "p"), REL);
        CHECK_OK(mec_stats_cliffs_delta(c->arr[0], c->len[0], c->arr[1], c->len[1], &d));
        CHECK_REL(d, expect(c, "cliff"), 1e-15);
    }
    CHECK(n_exact >= 3 && n_approx >= 4); /* both paths covered */
}

static void test_wilcoxon(void) {
    int n_exact = 0;
    for (int i = 0; i < n_cases; i++) {
        vcase *c = &cases[i];
        if (strcmp(c->kind, "wilcoxon")) continue;
        double t, p;
        bool exact;
        CHECK_OK(mec_stats_wilcoxon(c->arr[0], c->arr[1], c->len[0], &t, &p, &exact));
        n_exact += exact;
        if (!(fabs(p - expect(c, "p")) <= REL * expect(c, "p"))) fprintf(stderr, "  wilcoxon %s: p\n", c->label);
        CHECK_REL(t, expect(c, "T"), REL);
        CHECK_REL(p, expect(c, "p"), REL);
    }
    CHECK(n_exact >= 2);
}

static void test_distributions(void) {
    for (int i = 0; i < n_cases; i++) {
        vcase *c = &cases[i];
        double got;
        if (!strcmp(c->kind, "chi2sf")) got = mec_stats_chi2_sf(c->arr[0][0], c->arr[0][1]);
        else if (!strcmp(c->kind, "tsf")) got = mec_stats_t_sf(c->arr[0][0], c->arr[0][1]);
        else if (!strcmp(c->kind, "normsf")) got = mec_stats_norm_sf(c->arr[0][0]);
        else continue;
        if (!(fabs(got - expect(c, "p")) <= REL * expect(c, "p"))) fprintf(stderr, "  %s %s\n", c->kind, c->label);
        CHECK_REL(got, expect(c, "p"), REL);
    }
}

static void test_adjust(void) {
    for (int i = 0; i < n_cases; i++) {
        vcase *c = &cases[i];
        if (strcmp(c->kind, "adjust")) continue;
        size_t m = c->len[0];
        double holm[16], bonf[16], none[16];
        memcpy(holm, c->arr[0], m * sizeof(double));
        memcpy(bonf, c->arr[0], m * sizeof(double));
        memcpy(none, c->arr[0], m * sizeof(double));
        CHECK_OK(mec_stats_p_adjust(holm, m, MEC_P_ADJUST_HOLM));
        CHECK_OK(mec_stats_p_adjust(bonf, m, MEC_P_ADJUST_BONFERRONI));
        CHECK_OK(mec_stats_p_adjust(none, m, MEC_P_ADJUST_NONE));
        for (size_t j = 0; j < m; j++) {
            char key[32];
            snprintf(key, sizeof key, "holm_%zu", j);
            CHECK_REL(holm[j], expect(c, key), REL);
            snprintf(key, sizeof key, "bonferroni_%zu", j);
            CHECK_REL(bonf[j], expect(c, key), REL);
            CHECK(none[j] == c->arr[0][j]);
        }
    }
    mec_p_adjust a;
    CHECK_OK(mec_p_adjust_parse("holm", &a));
    CHECK(a == MEC_P_ADJUST_HOLM);
    CHECK(mec_p_adjust_parse("fdr", &a) == MEC_ERR_INVALID_ARG);
    CHECK(strstr(mec_last_error(), "'fdr'") != NULL);
}

static void test_cliff_magnitude(void) {
    CHECK(mec_stats_cliffs_magnitude(0.146) == MEC_EFFECT_NEGLIGIBLE);
    CHECK(mec_stats_cliffs_magnitude(0.147) == MEC_EFFECT_SMALL);
    CHECK(mec_stats_cliffs_magnitude(-0.329) == MEC_EFFECT_SMALL);
    CHECK(mec_stats_cliffs_magnitude(0.33) == MEC_EFFECT_MEDIUM);
    CHECK(mec_stats_cliffs_magnitude(0.474) == MEC_EFFECT_LARGE);
    CHECK(mec_stats_cliffs_magnitude(-1.0) == MEC_EFFECT_LARGE);
    CHECK_STR(mec_effect_size_name(MEC_EFFECT_MEDIUM), "medium");
}

static void test_bootstrap(void) {
    double x[101];
    for (int i = 0; i < 101; i++) x[i] = (double)((i * 37) % 101); /* 0..100, median 50 */
    double lo, hi, lo2, hi2, lo3, hi3;
    CHECK_OK(mec_stats_bootstrap_median_ci(x, 101, 2000, 0.95, 42, &lo, &hi));
    CHECK_OK(mec_stats_bootstrap_median_ci(x, 101, 2000, 0.95, 42, &lo2, &hi2));
    CHECK_OK(mec_stats_bootstrap_median_ci(x, 101, 2000, 0.95, 7, &lo3, &hi3));
    CHECK(lo == lo2 && hi == hi2); /* seeded: reproducible */
    CHECK(lo < 50 && hi > 50);
    /* the sd of the median of 101 uniform values on 0..100 is about 5: a
     * 95% interval is roughly +-10 wide */
    CHECK(lo > 30 && hi < 70 && hi - lo > 8);
    CHECK(fabs(lo3 - lo) < 6 && fabs(hi3 - hi) < 6);
    double one = 3.0;
    CHECK_OK(mec_stats_bootstrap_median_ci(&one, 1, 100, 0.95, 1, &lo, &hi));
    CHECK(lo == 3.0 && hi == 3.0);
}

static void test_bad_input(void) {
    double x[] = {1, 2, NAN, 4};
    mec_stats_summary s;
    CHECK(mec_stats_summarize(x, 4, &s) == MEC_ERR_RANGE);
    CHECK(strstr(mec_last_error(), "value 2") != NULL);
    CHECK(mec_stats_summarize(x, 0, &s) == MEC_ERR_INVALID_ARG);
    CHECK(strstr(mec_last_error(), "empty") != NULL);
    double w, p, h, u, t;
    CHECK(mec_stats_shapiro(x, 2, &w, &p) != MEC_OK);
    double same[] = {2, 2, 2, 2, 2};
    CHECK(mec_stats_shapiro(same, 5, &w, &p) == MEC_ERR_RANGE);
    const double *g[2] = {same, same};
    size_t sz[2] = {5, 5};
    CHECK(mec_stats_kruskal(g, sz, 2, &h, &p) == MEC_ERR_RANGE);
    CHECK(strstr(mec_last_error(), "identical") != NULL);
    size_t sz0[2] = {5, 0};
    CHECK(mec_stats_kruskal(g, sz0, 2, &h, &p) == MEC_ERR_INVALID_ARG);
    CHECK(strstr(mec_last_error(), "group 1 is empty") != NULL);
    CHECK(mec_stats_kruskal(g, sz, 1, &h, &p) == MEC_ERR_INVALID_ARG);
    const double *gn[2] = {same, x};
    size_t szn[2] = {5, 4};
    CHECK(mec_stats_kruskal(gn, szn, 2, &h, &p) == MEC_ERR_RANGE);
    CHECK(mec_stats_mannwhitney(x, 0, same, 5, &u, &p, NULL) == MEC_ERR_INVALID_ARG);
    CHECK(mec_stats_wilcoxon(same, same, 5, &t, &p, NULL) == MEC_ERR_RANGE); /* all differences zero */
    double w1[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                   21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
                   41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51};
    CHECK(mec_stats_wilcoxon(w1, w1, 51, &t, &p, NULL) == MEC_ERR_RANGE);
    double pv[] = {0.5, 1.5};
    CHECK(mec_stats_p_adjust(pv, 2, MEC_P_ADJUST_HOLM) == MEC_ERR_RANGE);
    /* a group of one is fine for Kruskal-Wallis */
    double a1[] = {1.0}, b3[] = {2.0, 3.0, 4.0};
    const double *g1[2] = {a1, b3};
    size_t s1[2] = {1, 3};
    CHECK_OK(mec_stats_kruskal(g1, s1, 2, &h, &p));
    CHECK_REL(h, 1.8, 1e-12); /* ranks 1 | 2,3,4: 12/20*(1 + 81/3) - 15 */
}

int main(void) {
    load_vectors();
    RUN(test_vectors_loaded);
    RUN(test_summary);
    RUN(test_shapiro);
    RUN(test_kruskal_posthoc);
    RUN(test_mannwhitney_cliff);
    RUN(test_wilcoxon);
    RUN(test_distributions);
    RUN(test_adjust);
    RUN(test_cliff_magnitude);
    RUN(test_bootstrap);
    RUN(test_bad_input);
    return TEST_SUMMARY();
}
