/* mec/analysis.h — layer 10: statistics (descriptive, rank tests, effect
 * sizes, p-value adjustment), the comparison families and speed-ups of the
 * studies, the Pareto frontier of latency vs accuracy loss and a
 * recommendation. Every number here is computed from its definition in C;
 * tests/data/stats/vectors.txt holds SciPy's values for the same inputs. */
#ifndef MEC_ANALYSIS_H
#define MEC_ANALYSIS_H

#include "mec/core.h"
#include "mec/results.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================ statistics
 * All functions take plain arrays, never modify them, and fail with a message
 * (MEC_ERR_INVALID_ARG / MEC_ERR_RANGE) on empty input, NaN or infinities. */

typedef struct mec_stats_summary {
    size_t n;
    double median, mean, sd; /* sd with n-1 in the denominator; NaN when n < 2 */
    double p90, p95, p99;    /* linear interpolation between order statistics (numpy's default) */
    double min, max;
} mec_stats_summary;

mec_status mec_stats_summarize(const double *x, size_t n, mec_stats_summary *out);
/* q in [0, 100], over an ascending-sorted array. */
double mec_stats_percentile_sorted(const double *sorted, size_t n, double q);
/* Ascending copy of x (mec_free it). Rejects NaN/inf naming the index. */
mec_status mec_stats_sorted_copy(const double *x, size_t n, double **out);

/* Percentile-bootstrap confidence interval of the median: `reps` resamples
 * drawn with a xoshiro256** generator seeded by `seed`; conf in (0, 1). */
mec_status mec_stats_bootstrap_median_ci(const double *x, size_t n, int reps, double conf,
                                         uint64_t seed, double *lo, double *hi);

/* Shapiro-Wilk W and p (Royston 1995, AS R94), 3 <= n <= 5000. Computed in
 * double precision; SciPy's swilk runs in single precision. */
mec_status mec_stats_shapiro(const double *x, size_t n, double *w, double *p);

/* Average ranks (1-based, ties get the mean rank) of x into ranks. Returns
 * sum over tie groups of (t^3 - t). */
mec_status mec_stats_rank(const double *x, size_t n, double *ranks, double *tie_sum);

/* Kruskal-Wallis H over k groups with the tie correction; p from chi^2(k-1).
 * Groups of one are allowed; all values identical is an error. */
mec_status mec_stats_kruskal(const double *const *groups, const size_t *sizes, int k, double *h,
                             double *p);

/* Post-hoc pairwise p-values (k x k, row-major, diagonal 1), unadjusted:
 * Conover-Iman (t with N-k df, tie-corrected H, as scikit-posthocs) and Dunn
 * (normal, tie-corrected). */
mec_status mec_stats_conover(const double *const *groups, const size_t *sizes, int k, double *p);
mec_status mec_stats_dunn(const double *const *groups, const size_t *sizes, int k, double *p);

/* Mann-Whitney U (two-sided), as SciPy's mannwhitneyu(method='auto'): exact
 * distribution when min(n1, n2) <= 8 and there are no ties, otherwise the
 * normal approximation with tie and continuity correction. u = U of x. */
mec_status mec_stats_mannwhitney(const double *x, size_t nx, const double *y, size_t ny,
                                 double *u, double *p, bool *exact);

/* Wilcoxon signed-rank for paired x, y (two-sided, zero differences dropped
 * as zero_method='wilcox'), as SciPy 1.10's wilcoxon(x, y): exact
 * distribution for n <= 50 without zeros, else normal approximation with
 * tie correction and no continuity correction. t = min(R+, R-). */
mec_status mec_stats_wilcoxon(const double *x, const double *y, size_t n, double *t, double *p,
                              bool *exact);

/* Cliff's delta = (#(x > y) - #(x < y)) / (nx ny), in [-1, 1]. */
mec_status mec_stats_cliffs_delta(const double *x, size_t nx, const double *y, size_t ny,
                                  double *delta);

typedef enum mec_effect_size {
    MEC_EFFECT_NEGLIGIBLE, /* |d| < 0.147 */
    MEC_EFFECT_SMALL,      /* < 0.33 */
    MEC_EFFECT_MEDIUM,     /* < 0.474 */
    MEC_EFFECT_LARGE
} mec_effect_size;
mec_effect_size mec_stats_cliffs_magnitude(double delta);
const char *mec_effect_size_name(mec_effect_size e); /* "negligible", ... */

typedef enum mec_p_adjust { MEC_P_ADJUST_NONE, MEC_P_ADJUST_BONFERRONI, MEC_P_ADJUST_HOLM } mec_p_adjust;
/* "none" | "bonferroni" | "holm"; MEC_ERR_INVALID_ARG otherwise. */
mec_status mec_p_adjust_parse(const char *s, mec_p_adjust *out);
const char *mec_p_adjust_name(mec_p_adjust a);
/* Adjusts m p-values in place. */
mec_status mec_stats_p_adjust(double *p, size_t m, mec_p_adjust method);

/* Distribution tails used by the tests above. */
double mec_stats_norm_sf(double z);
double mec_stats_chi2_sf(double x, double df);
double mec_stats_t_sf(double t, double df);

/* ================================================================= analysis */

typedef enum mec_family_kind {
    MEC_FAMILY_OPERATORS,  /* all operators within one placement (study, model, placement) */
    MEC_FAMILY_PLACEMENTS, /* one operator across single-tier placements */
    MEC_FAMILY_PARTITIONS  /* one partitioned operator across tier pairs */
} mec_family_kind;
const char *mec_family_kind_name(mec_family_kind k);

typedef struct mec_analysis_pair {
    int a, b;              /* indices into the family's members */
    double p_conover;      /* adjusted by the chosen method within the family */
    double p_dunn;         /* adjusted likewise */
    double delta;          /* Cliff's delta of member a vs member b (positive: a slower) */
    mec_effect_size magnitude;
    double ratio;          /* median(b) / median(a): how many times faster a is than b */
} mec_analysis_pair;

typedef struct mec_analysis_member {
    const mec_results_group *group; /* borrowed from the results set */
    const char *label;              /* operator or placement: what varies */
    mec_stats_summary summary;
    double median_ci_lo, median_ci_hi;
} mec_analysis_member;

typedef struct mec_analysis_family {
    mec_family_kind kind;
    char *experiment, *model, *fixed; /* fixed = the placement or operator held constant */
    int n_members;
    mec_analysis_member *members;
    double h, p_kruskal;
    int n_pairs;
    mec_analysis_pair *pairs;
} mec_analysis_family;

/* "A is N x faster than B" over the models both ran on, for one placement. */
typedef struct mec_analysis_speedup {
    char *experiment, *placement, *faster, *slower;
    int n_models;
    double mean_ratio;      /* arithmetic mean over models of median(slower)/median(faster): the studies' */
    double geo_ratio;       /* geometric mean of the same ratios */
    double min_ratio, max_ratio;
    double published;       /* the study's printed value, or NaN when this is not a headline */
} mec_analysis_speedup;

/* Accuracy of one operator vs the unmodified model over all (model, tier,
 * metric) values of an experiment, paired: the studies' accuracy analysis. */
typedef struct mec_analysis_accuracy {
    char *experiment, *operators;
    int n_pairs;
    double mean_loss;       /* mean of (identity - variant), metric points */
    double max_loss;
    double wilcoxon_t, p_wilcoxon, delta;
    mec_effect_size magnitude;
} mec_analysis_accuracy;

typedef struct mec_analysis_options {
    mec_p_adjust adjust;    /* default holm */
    int bootstrap_reps;     /* 0 disables the median CIs; default 1000 */
    uint64_t seed;          /* default 1 */
    double conf;            /* default 0.95 */
    const char *experiment; /* restrict to one experiment (NULL: all) */
    const char *model;      /* restrict to one model (NULL: all) */
} mec_analysis_options;
void mec_analysis_options_default(mec_analysis_options *o);

typedef struct mec_analysis {
    mec_analysis_options options;
    int n_families;
    mec_analysis_family *families;
    int n_speedups;
    mec_analysis_speedup *speedups;
    int n_accuracy;
    mec_analysis_accuracy *accuracy;
} mec_analysis;

/* Runs every family (omnibus, post-hoc, effect sizes), all pairwise
 * speed-ups per placement and the accuracy comparisons. The analysis borrows
 * the groups of `set`, which must outlive it. */
mec_status mec_analysis_run(const mec_results_set *set, const mec_analysis_options *opt,
                            mec_analysis **out);
void mec_analysis_destroy(mec_analysis *a);

/* The speed-up "faster vs slower" on a placement, or NULL. */
const mec_analysis_speedup *mec_analysis_find_speedup(const mec_analysis *a, const char *experiment,
                                                      const char *placement, const char *faster,
                                                      const char *slower);
/* The studies' way of printing a ratio: truncated (not rounded) to 2 decimals. */
double mec_analysis_truncate2(double x);

/* The studies' published headline speed-ups (a static table). */
typedef struct mec_analysis_headline {
    const char *experiment, *placement, *faster, *slower;
    double published;
} mec_analysis_headline;
const mec_analysis_headline *mec_analysis_headlines(int *count);

/* Accuracy loss of `operators` for one model on one tier, in metric points
 * (mean over the model's metrics of identity - variant; partitioning is
 * lossless, so "x+partition" uses x). NaN, MEC_OK when unknown. */
mec_status mec_analysis_accuracy_loss(const mec_results_set *set, const char *experiment,
                                      const char *model, const char *operators,
                                      const char *placement, double *loss);

/* ============================================================ recommendation */

typedef struct mec_strategy_point {
    const mec_results_group *group;
    double latency_s;      /* the chosen percentile */
    double loss;           /* accuracy loss, metric points; NaN when unknown */
    bool on_frontier;      /* on the Pareto frontier of its placement */
} mec_strategy_point;

typedef struct mec_recommend_options {
    double percentile;      /* 50..100, default 95 */
    double max_loss;        /* metric points; < 0 = no limit */
    const char *placements; /* comma-separated allowed placements, NULL = all */
    const char *experiment, *model;
} mec_recommend_options;
void mec_recommend_options_default(mec_recommend_options *o);

typedef struct mec_recommend_model {
    char *experiment, *model;
    int n_points;
    mec_strategy_point *points; /* every strategy of the model, frontier flagged */
    int best;                   /* index into points of the best allowed strategy, -1 = none */
    int baseline;               /* index of identity on the same placement as best, -1 */
} mec_recommend_model;

typedef struct mec_recommendation {
    mec_recommend_options options;
    int n_models;
    mec_recommend_model *models;
    int n_findings;
    char **findings;            /* plain sentences with their statistical support */
} mec_recommendation;

/* Uses the analysis for the statistical support of the findings. */
mec_status mec_recommend(const mec_results_set *set, const mec_analysis *an,
                         const mec_recommend_options *opt, mec_recommendation **out);
void mec_recommendation_destroy(mec_recommendation *r);

#ifdef __cplusplus
}
#endif
#endif
