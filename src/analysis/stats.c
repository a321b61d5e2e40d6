/* analysis: descriptive statistics, rank tests (Shapiro-Wilk, Kruskal-Wallis,
 * Conover-Iman, Dunn, Mann-Whitney U, Wilcoxon signed-rank), Cliff's delta
 * and p-value adjustment, implemented from their definitions. Each test
 * follows the conventions of SciPy 1.10 (see docs/analysis.md). */
#include "mec/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double mec_stats_norm_ppf(double p); /* dist.c */

static mec_status check_values(const char *what, const double *x, size_t n) {
    if (!x && n) return mec_error(MEC_ERR_INVALID_ARG, "%s: no data", what);
    if (n == 0) return mec_error(MEC_ERR_INVALID_ARG, "%s: empty sample", what);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return mec_error(MEC_ERR_RANGE, "%s: value %zu is %g (not a finite number)", what, i, x[i]);
    return MEC_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

mec_status mec_stats_sorted_copy(const double *x, size_t n, double **out) {
    *out = NULL;
    mec_status st = check_values("sample", x, n);
    if (st) return st;
    double *s = mec_malloc(n * sizeof *s);
    if (!s) return MEC_ERR_NOMEM;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    *out = s;
    return MEC_OK;
}

/* numpy's linear method, including its two-sided lerp. */
double mec_stats_percentile_sorted(const double *s, size_t n, double q) {
    if (n == 0 || isnan(q)) return NAN;
    if (n == 1) return s[0];
    double h = (double)(n - 1) * (q / 100.0);
    if (h <= 0) return s[0];
    if (h >= (double)(n - 1)) return s[n - 1];
    size_t lo = (size_t)floor(h);
    double t = h - (double)lo, a = s[lo], b = s[lo + 1], d = b - a;
    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

mec_status mec_stats_summarize(const double *x, size_t n, mec_stats_summary *out) {
    memset(out, 0, sizeof *out);
    double *s;
    mec_status st = mec_stats_sorted_copy(x, n, &s);
    if (st) return st;
    out->n = n;
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += s[i];
    out->mean = sum / (double)n;
    if (n >= 2) {
        double ss = 0;
        for (size_t i = 0; i < n; i++) ss += (s[i] - out->mean) * (s[i] - out->mean);
        out->sd = sqrt(ss / (double)(n - 1));
    } else {
        out->sd = NAN;
    }
    out->median = mec_stats_percentile_sorted(s, n, 50);
    out->p90 = mec_stats_percentile_sorted(s, n, 90);
    out->p95 = mec_stats_percentile_sorted(s, n, 95);
    out->p99 = mec_stats_percentile_sorted(s, n, 99);
    out->min = s[0];
    out->max = s[n - 1];
    mec_free(s);
    return MEC_OK;
}

/* ------------------------------------------------------------- bootstrap */

typedef struct rng256 { uint64_t s[4]; } rng256;
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t rng_next(rng256 *r) { /* xoshiro256** */
    uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl(s[3], 45);
    return result;
}
static size_t rng_below(rng256 *r, size_t n) { /* unbiased, by rejection */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, v;
    do v = rng_next(r);
    while (v >= limit);
    return (size_t)(v % n);
}

/* k-th smallest (0-based) of a, reordering a. */
static double select_kth(double *a, size_t n, size_t k) {
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = a[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                double t = a[i];
                a[i] = a[j], a[j] = t;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return a[k];
    }
    return a[k];
}

static double median_inplace(double *a, size_t n) {
    double hi = select_kth(a, n, n / 2);
    if (n % 2) return hi;
    double lo = a[0]; /* the largest of the lower half */
    for (size_t i = 1; i < n / 2; i++) if (a[i] > lo) lo = a[i];
    return (lo + hi) / 2;
}

mec_status mec_stats_bootstrap_median_ci(const double *x, size_t n, int reps, double conf,
                                         uint64_t seed, double *lo, double *hi) {
    mec_status st = check_values("bootstrap", x, n);
    if (st) return st;
    if (reps < 10 || reps > 1000000)
        return mec_error(MEC_ERR_RANGE, "bootstrap: %d resamples (expected 10..1000000)", reps);
    if (!(conf > 0 && conf < 1)) return mec_error(MEC_ERR_RANGE, "bootstrap: confidence %g not in (0, 1)", conf);
    double *buf = mec_malloc(n * sizeof *buf), *meds = mec_malloc((size_t)reps * sizeof *meds);
    if (!buf || !meds) {
        mec_free(buf), mec_free(meds);
        return MEC_ERR_NOMEM;
    }
    rng256 r;
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++) r.s[i] = splitmix64(&sm);
    for (int b = 0; b < reps; b++) {
        for (size_t i = 0; i < n; i++) buf[i] = x[rng_below(&r, n)];
        meds[b] = median_inplace(buf, n);
    }
    qsort(meds, (size_t)reps, sizeof *meds, cmp_double);
    *lo = mec_stats_percentile_sorted(meds, (size_t)reps, 100 * (1 - conf) / 2);
    *hi = mec_stats_percentile_sorted(meds, (size_t)reps, 100 * (1 + conf) / 2);
    mec_free(buf), mec_free(meds);
    return MEC_OK;
}

/* --------------------------------------------------------- Shapiro-Wilk */

static double poly(const double *cc, int nord, double x) {
    double ret = cc[0];
    if (nord > 1) {
        double p = x * cc[nord - 1];
        for (int j = nord - 2; j > 0; j--) p = (p + cc[j]) * x;
        ret += p;
    }
    return ret;
}

mec_status mec_stats_shapiro(const double *x, size_t n, double *w_out, double *p_out) {
    static const double c1[6] = {0.0, 0.221157, -0.147981, -2.07119, 4.434685, -2.706056};
    static const double c2[6] = {0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633};
    static const double c3[4] = {0.544, -0.39978, 0.025054, -6.714e-4};
    static const double c4[4] = {1.3822, -0.77857, 0.062767, -0.0020322};
    static const double c5[4] = {-1.5861, -0.31082, -0.083751, 0.0038915};
    static const double c6[3] = {-0.4803, -0.082676, 0.0030302};
    static const double g[2] = {-2.273, 0.459};
    mec_status st = check_values("shapiro", x, n);
    if (st) return st;
    if (n < 3 || n > 5000)
        return mec_error(MEC_ERR_RANGE, "shapiro: n = %zu (the test needs 3 <= n <= 5000)", n);
    double *s;
    if ((st = mec_stats_sorted_copy(x, n, &s))) return st;
    double range = s[n - 1] - s[0];
    if (range < 1e-19 * fmax(1.0, fabs(s[0]))) {
        mec_free(s);
        return mec_error(MEC_ERR_RANGE, "shapiro: all %zu values are equal (%g)", n, x[0]);
    }
    size_t nn2 = n / 2;
    double *a = mec_calloc(nn2 + 1, sizeof *a); /* 1-based, a[i] > 0 weights the i-th largest */
    if (!a) {
        mec_free(s);
        return MEC_ERR_NOMEM;
    }
    double an = (double)n;
    if (n == 3) {
        a[1] = sqrt(0.5);
    } else {
        double an25 = an + 0.25, summ2 = 0;
        for (size_t i = 1; i <= nn2; i++) {
            a[i] = mec_stats_norm_ppf(((double)i - 0.375) / an25);
            summ2 += a[i] * a[i];
        }
        summ2 *= 2;
        double ssumm2 = sqrt(summ2), rsn = 1.0 / sqrt(an);
        double a1 = poly(c1, 6, rsn) - a[1] / ssumm2, fac;
        size_t i1;
        if (n > 5) {
            i1 = 3;
            double a2 = -a[2] / ssumm2 + poly(c2, 6, rsn);
            fac = sqrt((summ2 - 2 * a[1] * a[1] - 2 * a[2] * a[2]) / (1 - 2 * a1 * a1 - 2 * a2 * a2));
            a[2] = a2;
        } else {
            i1 = 2;
            fac = sqrt((summ2 - 2 * a[1] * a[1]) / (1 - 2 * a1 * a1));
        }
        a[1] = a1;
        for (size_t i = i1; i <= nn2; i++) a[i] /= -fac;
    }
    /* W = squared correlation of the data with the weights (-a for the lower
     * half, +a for the upper, 0 for an odd middle). */
    double sa = 0, sx = 0;
    for (size_t k = 0; k < n; k++) sx += s[k] / range;
    sx /= an;
    double ssa = 0, ssx = 0, sax = 0;
    for (size_t k = 0; k < n; k++) {
        double wk = k < nn2 ? -a[k + 1] : (k >= n - nn2 ? a[n - k] : 0.0);
        double asa = wk - sa, xsx = s[k] / range - sx;
        ssa += asa * asa, ssx += xsx * xsx, sax += asa * xsx;
    }
    double ssassx = sqrt(ssa * ssx);
    double w1 = (ssassx - sax) * (ssassx + sax) / (ssa * ssx);
    double w = 1.0 - w1, pw;
    if (n == 3) {
        pw = 1.90985931710274 * (asin(sqrt(w)) - 1.04719755119660);
        if (pw < 0) pw = 0;
    } else {
        double y = log(w1), xx = log(an), m, sd;
        if (n <= 11) {
            double gamma = poly(g, 2, an);
            if (y >= gamma) {
                pw = 1e-99;
                goto done;
            }
            y = -log(gamma - y);
            m = poly(c3, 4, an);
            sd = exp(poly(c4, 4, an));
        } else {
            m = poly(c5, 4, xx);
            sd = exp(poly(c6, 3, xx));
        }
        pw = mec_stats_norm_sf((y - m) / sd);
    }
done:
    *w_out = w;
    *p_out = pw;
    mec_free(a);
    mec_free(s);
    return MEC_OK;
}

/* ------------------------------------------------------------------ ranks */

typedef struct idx_val { double v; size_t i; } idx_val;
static int cmp_idx_val(const void *a, const void *b) {
    const idx_val *x = a, *y = b;
    if (x->v != y->v) return (x->v > y->v) - (x->v < y->v);
    return (x->i > y->i) - (x->i < y->i);
}

mec_status mec_stats_rank(const double *x, size_t n, double *ranks, double *tie_sum) {
    mec_status st = check_values("rank", x, n);
    if (st) return st;
    idx_val *iv = mec_malloc(n * sizeof *iv);
    if (!iv) return MEC_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) iv[i].v = x[i], iv[i].i = i;
    qsort(iv, n, sizeof *iv, cmp_idx_val);
    double ts = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && iv[j + 1].v == iv[i].v) j++;
        double r = ((double)i + (double)j) / 2.0 + 1.0, t = (double)(j - i + 1);
        for (size_t k = i; k <= j; k++) ranks[iv[k].i] = r;
        ts += t * t * t - t;
        i = j + 1;
    }
    mec_free(iv);
    if (tie_sum) *tie_sum = ts;
    return MEC_OK;
}

/* Pools k groups and ranks them: rank sums, N and the tie sum. */
typedef struct pooled {
    size_t N;
    double *ranks, *rank_sum, tie_sum, rank_sq_sum;
} pooled;

static void pooled_free(pooled *pl) {
    mec_free(pl->ranks), mec_free(pl->rank_sum);
}

static mec_status pool_rank(const char *what, const double *const *groups, const size_t *sizes, int k,
                            pooled *pl) {
    memset(pl, 0, sizeof *pl);
    if (k < 2) return mec_error(MEC_ERR_INVALID_ARG, "%s: %d group(s); at least 2 are needed", what, k);
    size_t N = 0;
    for (int g = 0; g < k; g++) {
        if (sizes[g] == 0) return mec_error(MEC_ERR_INVALID_ARG, "%s: group %d is empty", what, g);
        mec_status st = check_values(what, groups[g], sizes[g]);
        if (st) return mec_error_prefix(st, "group %d: ", g);
        N += sizes[g];
    }
    double *all = mec_malloc(N * sizeof *all);
    pl->ranks = mec_malloc(N * sizeof *pl->ranks);
    pl->rank_sum = mec_calloc((size_t)k, sizeof *pl->rank_sum);
    if (!all || !pl->ranks || !pl->rank_sum) {
        mec_free(all);
        pooled_free(pl);
        return MEC_ERR_NOMEM;
    }
    size_t off = 0;
    for (int g = 0; g < k; g++) {
        memcpy(all + off, groups[g], sizes[g] * sizeof *all);
        off += sizes[g];
    }
    mec_stats_rank(all, N, pl->ranks, &pl->tie_sum);
    mec_free(all);
    off = 0;
    for (int g = 0; g < k; g++)
        for (size_t i = 0; i < sizes[g]; i++, off++) {
            pl->rank_sum[g] += pl->ranks[off];
            pl->rank_sq_sum += pl->ranks[off] * pl->ranks[off];
        }
    pl->N = N;
    double dN = (double)N;
    if (pl->tie_sum >= dN * dN * dN - dN) {
        pooled_free(pl);
        return mec_error(MEC_ERR_RANGE, "%s: all %zu values are identical (%g): nothing to compare", what, N,
                         groups[0][0]);
    }
    return MEC_OK;
}

static double kw_h(const pooled *pl, const size_t *sizes, int k, double *ties_out) {
    double n = (double)pl->N, s = 0;
    for (int g = 0; g < k; g++) s += pl->rank_sum[g] * pl->rank_sum[g] / (double)sizes[g];
    double h = 12.0 / (n * (n + 1.0)) * s - 3.0 * (n + 1.0);
    double ties = 1.0 - pl->tie_sum / (n * n * n - n);
    if (ties > 1.0) ties = 1.0;
    if (ties_out) *ties_out = ties;
    return h / ties;
}

mec_status mec_stats_kruskal(const double *const *groups, const size_t *sizes, int k, double *h,
                             double *p) {
    pooled pl;
    mec_status st = pool_rank("kruskal", groups, sizes, k, &pl);
    if (st) return st;
    *h = kw_h(&pl, sizes, k, NULL);
    *p = mec_stats_chi2_sf(*h, (double)(k - 1));
    pooled_free(&pl);
    return MEC_OK;
}

mec_status mec_stats_conover(const double *const *groups, const size_t *sizes, int k, double *p) {
    pooled pl;
    mec_status st = pool_rank("conover", groups, sizes, k, &pl);
    if (st) return st;
    double n = (double)pl.N, ties;
    if (pl.N <= (size_t)k) {
        pooled_free(&pl);
        return mec_error(MEC_ERR_RANGE, "conover: %zu values in %d groups: no degrees of freedom left", pl.N, k);
    }
    double h_cor = kw_h(&pl, sizes, k, &ties);
    double S2 = ties == 1.0 ? n * (n + 1.0) / 12.0
                            : (pl.rank_sq_sum - n * (n + 1.0) * (n + 1.0) / 4.0) / (n - 1.0);
    double D = (n - 1.0 - h_cor) / (n - (double)k);
    for (int i = 0; i < k; i++) {
        p[i * k + i] = 1.0;
        for (int j = i + 1; j < k; j++) {
            double diff = fabs(pl.rank_sum[i] / (double)sizes[i] - pl.rank_sum[j] / (double)sizes[j]);
            double B = 1.0 / (double)sizes[i] + 1.0 / (double)sizes[j];
            double t = diff / sqrt(S2 * B * D);
            double pv = D <= 0 ? (diff > 0 ? 0.0 : 1.0) : 2.0 * mec_stats_t_sf(fabs(t), n - (double)k);
            if (pv > 1) pv = 1;
            p[i * k + j] = p[j * k + i] = pv;
        }
    }
    pooled_free(&pl);
    return MEC_OK;
}

mec_status mec_stats_dunn(const double *const *groups, const size_t *sizes, int k, double *p) {
    pooled pl;
    mec_status st = pool_rank("dunn", groups, sizes, k, &pl);
    if (st) return st;
    double n = (double)pl.N;
    double A = n * (n + 1.0) / 12.0 - pl.tie_sum / (12.0 * (n - 1.0));
    for (int i = 0; i < k; i++) {
        p[i * k + i] = 1.0;
        for (int j = i + 1; j < k; j++) {
            double diff = fabs(pl.rank_sum[i] / (double)sizes[i] - pl.rank_sum[j] / (double)sizes[j]);
            double B = 1.0 / (double)sizes[i] + 1.0 / (double)sizes[j];
            double z = diff / sqrt(A * B);
            double pv = 2.0 * mec_stats_norm_sf(fabs(z));
            p[i * k + j] = p[j * k + i] = pv > 1 ? 1 : pv;
        }
    }
    pooled_free(&pl);
    return MEC_OK;
}

/* --------------------------------------------------------- Mann-Whitney U */

/* P(U >= u) under H0 for sizes m (small) and n, no ties: counts of
 * multisets of m ranks-among-y from {0..n} by their sum. */
static mec_status mwu_exact_sf(size_t m, size_t n, double u, double *p) {
    if (m > n) {
        size_t t = m;
        m = n, n = t;
    }
    size_t maxk = m * n;
    double *dp = mec_calloc((m + 1) * (maxk + 1), sizeof *dp);
    if (!dp) return MEC_ERR_NOMEM;
#define DP(j, s) dp[(j) * (maxk + 1) + (s)]
    DP(0, 0) = 1.0;
    for (size_t v = 0; v <= n; v++) /* each value may be used any number of times */
        for (size_t j = 1; j <= m; j++)
            for (size_t s = v; s <= maxk; s++) DP(j, s) += DP(j - 1, s - v);
    double total = 1.0; /* C(m+n, m) */
    for (size_t i = 1; i <= m; i++) total = total * (double)(n + i) / (double)i;
    /* sf(u) = cdf(mn - u) by symmetry, as SciPy computes it */
    double kmax = (double)maxk - u, cdf = 0;
    for (size_t s = 0; (double)s <= kmax && s <= maxk; s++) cdf += DP(m, s) / total;
#undef DP
    mec_free(dp);
    *p = cdf;
    return MEC_OK;
}

mec_status mec_stats_mannwhitney(const double *x, size_t nx, const double *y, size_t ny, double *u,
                                 double *p, bool *exact) {
    mec_status st;
    if (nx == 0 || ny == 0) return mec_error(MEC_ERR_INVALID_ARG, "mannwhitney: empty sample (%zu vs %zu)", nx, ny);
    if ((st = check_values("mannwhitney x", x, nx)) || (st = check_values("mannwhitney y", y, ny))) return st;
    size_t N = nx + ny;
    double *all = mec_malloc(N * sizeof *all), *r = mec_malloc(N * sizeof *r);
    if (!all || !r) {
        mec_free(all), mec_free(r);
        return MEC_ERR_NOMEM;
    }
    memcpy(all, x, nx * sizeof *all);
    memcpy(all + nx, y, ny * sizeof *all);
    double tie_sum;
    mec_stats_rank(all, N, r, &tie_sum);
    double R1 = 0;
    for (size_t i = 0; i < nx; i++) R1 += r[i];
    mec_free(all), mec_free(r);
    double n1 = (double)nx, n2 = (double)ny;
    double U1 = R1 - n1 * (n1 + 1) / 2, U2 = n1 * n2 - U1, U = fmax(U1, U2);
    bool use_exact = !(nx > 8 && ny > 8) && tie_sum == 0;
    double pv;
    if (use_exact) {
        if ((st = mwu_exact_sf(nx, ny, U, &pv))) return st;
    } else {
        double n = n1 + n2, mu = n1 * n2 / 2;
        double s = sqrt(n1 * n2 / 12 * ((n + 1) - tie_sum / (n * (n - 1))));
        double z = (U - mu - 0.5) / s; /* continuity correction */
        pv = s > 0 ? mec_stats_norm_sf(z) : 1.0;
    }
    pv *= 2;
    *u = U1;
    *p = pv > 1 ? 1 : (pv < 0 ? 0 : pv);
    if (exact) *exact = use_exact;
    return MEC_OK;
}

/* ----------------------------------------------------- Wilcoxon signed-rank */

mec_status mec_stats_wilcoxon(const double *x, const double *y, size_t n, double *t_out, double *p_out,
                              bool *exact) {
    mec_status st;
    if (n == 0) return mec_error(MEC_ERR_INVALID_ARG, "wilcoxon: no pairs");
    if ((st = check_values("wilcoxon x", x, n)) || (st = check_values("wilcoxon y", y, n))) return st;
    double *d = mec_malloc(n * sizeof *d), *r = mec_malloc(n * sizeof *r);
    if (!d || !r) {
        mec_free(d), mec_free(r);
        return MEC_ERR_NOMEM;
    }
    size_t nz = 0, m = 0;
    for (size_t i = 0; i < n; i++) nz += (x[i] - y[i] == 0);
    bool use_exact = n <= 50 && nz == 0;
    if (!use_exact && nz == n) {
        mec_free(d), mec_free(r);
        return mec_error(MEC_ERR_RANGE, "wilcoxon: all %zu differences are zero: nothing to test", n);
    }
    for (size_t i = 0; i < n; i++)
        if (x[i] - y[i] != 0) d[m++] = x[i] - y[i];
    double *ad = mec_malloc(m * sizeof *ad);
    if (!ad) {
        mec_free(d), mec_free(r);
        return MEC_ERR_NOMEM;
    }
    for (size_t i = 0; i < m; i++) ad[i] = fabs(d[i]);
    double tie_sum;
    mec_stats_rank(ad, m, r, &tie_sum);
    double rp = 0, rm = 0;
    for (size_t i = 0; i < m; i++) {
        if (d[i] > 0) rp += r[i];
        else rm += r[i];
    }
    double T = fmin(rp, rm), pv;
    if (use_exact) {
        /* counts of subsets of {1..m} by their sum; SciPy truncates R+ to an integer */
        size_t maxs = m * (m + 1) / 2;
        double *c = mec_calloc(maxs + 1, sizeof *c);
        if (!c) {
            mec_free(d), mec_free(r), mec_free(ad);
            return MEC_ERR_NOMEM;
        }
        c[0] = 1;
        for (size_t v = 1; v <= m; v++)
            for (size_t s = maxs; s >= v; s--) c[s] += c[s - v];
        double total = ldexp(1.0, (int)m);
        size_t rpi = (size_t)rp;
        if (rpi == maxs / 2) { /* the centre of the distribution: SciPy's p = 1 */
            pv = 1.0;
        } else {
            double lo = 0, hi = 0;
            for (size_t s = 0; s <= rpi; s++) lo += c[s] / total;
            for (size_t s = rpi; s <= maxs; s++) hi += c[s] / total;
            pv = 2 * fmin(lo, hi);
        }
        mec_free(c);
    } else {
        double cnt = (double)m;
        double mn = cnt * (cnt + 1) * 0.25;
        double se = cnt * (cnt + 1) * (2 * cnt + 1);
        se -= 0.5 * tie_sum; /* sum over tie groups of t (t^2 - 1) */
        se = sqrt(se / 24);
        double z = (T - mn) / se;
        pv = 2 * mec_stats_norm_sf(fabs(z));
    }
    mec_free(d), mec_free(r), mec_free(ad);
    *t_out = T;
    *p_out = pv > 1 ? 1 : (pv < 0 ? 0 : pv);
    if (exact) *exact = use_exact;
    return MEC_OK;
}

/* ----------------------------------------------------------- Cliff's delta */

mec_status mec_stats_cliffs_delta(const double *x, size_t nx, const double *y, size_t ny, double *delta) {
    mec_status st;
    if (nx == 0 || ny == 0) return mec_error(MEC_ERR_INVALID_ARG, "cliff's delta: empty sample (%zu vs %zu)", nx, ny);
    if ((st = check_values("cliff's delta x", x, nx))) return st;
    double *sy;
    if ((st = mec_stats_sorted_copy(y, ny, &sy))) return st;
    double gt = 0, lt = 0;
    for (size_t i = 0; i < nx; i++) {
        size_t lo = 0, hi = ny; /* first index with sy >= x */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (sy[mid] < x[i]) lo = mid + 1;
            else hi = mid;
        }
        size_t below = lo;
        hi = ny; /* first index with sy > x */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (sy[mid] <= x[i]) lo = mid + 1;
            else hi = mid;
        }
        gt += (double)below;
        lt += (double)(ny - lo);
    }
    mec_free(sy);
    *delta = (gt - lt) / ((double)nx * (double)ny);
    return MEC_OK;
}

mec_effect_size mec_stats_cliffs_magnitude(double d) {
    d = fabs(d);
    if (d < 0.147) return MEC_EFFECT_NEGLIGIBLE;
    if (d < 0.33) return MEC_EFFECT_SMALL;
    if (d < 0.474) return MEC_EFFECT_MEDIUM;
    return MEC_EFFECT_LARGE;
}

const char *mec_effect_size_name(mec_effect_size e) {
    static const char *names[] = {"negligible", "small", "medium", "large"};
    return (unsigned)e < 4 ? names[e] : "?";
}

/* ------------------------------------------------------ p-value adjustment */

mec_status mec_p_adjust_parse(const char *s, mec_p_adjust *out) {
    if (s && !strcmp(s, "none")) *out = MEC_P_ADJUST_NONE;
    else if (s && !strcmp(s, "bonferroni")) *out = MEC_P_ADJUST_BONFERRONI;
    else if (s && !strcmp(s, "holm")) *out = MEC_P_ADJUST_HOLM;
    else return mec_error(MEC_ERR_INVALID_ARG, "p-value adjustment '%s' is not one of none, bonferroni, holm",
                          s ? s : "(null)");
    return MEC_OK;
}

const char *mec_p_adjust_name(mec_p_adjust a) {
    return a == MEC_P_ADJUST_NONE ? "none" : a == MEC_P_ADJUST_BONFERRONI ? "bonferroni" : "holm";
}

mec_status mec_stats_p_adjust(double *p, size_t m, mec_p_adjust method) {
    for (size_t i = 0; i < m; i++)
        if (!(p[i] >= 0 && p[i] <= 1)) return mec_error(MEC_ERR_RANGE, "p-value %zu is %g (not in [0, 1])", i, p[i]);
    if (method == MEC_P_ADJUST_NONE || m == 0) return MEC_OK;
    if (method == MEC_P_ADJUST_BONFERRONI) {
        for (size_t i = 0; i < m; i++) p[i] = fmin(1.0, p[i] * (double)m);
        return MEC_OK;
    }
    idx_val *iv = mec_malloc(m * sizeof *iv);
    if (!iv) return MEC_ERR_NOMEM;
    for (size_t i = 0; i < m; i++) iv[i].v = p[i], iv[i].i = i;
    qsort(iv, m, sizeof *iv, cmp_idx_val);
    double run = 0;
    for (size_t r = 0; r < m; r++) { /* step-down, kept monotone */
        run = fmax(run, fmin(1.0, (double)(m - r) * iv[r].v));
        p[iv[r].i] = run;
    }
    mec_free(iv);
    return MEC_OK;
}
