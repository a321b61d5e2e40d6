/* analysis: tails of the normal, chi-squared and Student t distributions,
 * and the inverse normal — what the rank tests need for their p-values.
 * The incomplete gamma and beta functions follow Cephes (the code SciPy's
 * chdtrc and stdtr are built on), so the values agree to ~1e-13. */
#include "mec/analysis.h"

#include <float.h>
#include <math.h>

#define MACHEP 1.11022302462515654042e-16
#define MAXLOG 7.09782712893383996843e2
#define BIG 4.503599627370496e15
#define BIGINV 2.22044604925031308085e-16

double mec_stats_norm_sf(double z) { return 0.5 * erfc(z / sqrt(2.0)); }

/* ------------------------------------------------- incomplete gamma (chi^2) */

static double igamc(double a, double x);

/* Lower regularized incomplete gamma P(a, x) by its power series. */
static double igam(double a, double x) {
    if (x <= 0) return 0.0;
    if (x > 1.0 && x > a) return 1.0 - igamc(a, x);
    double ax = a * log(x) - x - lgamma(a);
    if (ax < -MAXLOG) return 0.0;
    ax = exp(ax);
    double r = a, c = 1.0, ans = 1.0;
    do {
        r += 1.0;
        c *= x / r;
        ans += c;
    } while (c / ans > MACHEP);
    return ans * ax / a;
}

/* Upper regularized incomplete gamma Q(a, x) by its continued fraction. */
static double igamc(double a, double x) {
    if (x <= 0) return 1.0;
    if (isinf(x)) return 0.0;
    if (x < 1.0 || x < a) return 1.0 - igam(a, x);
    double ax = a * log(x) - x - lgamma(a);
    if (ax < -MAXLOG) return 0.0;
    ax = exp(ax);
    double y = 1.0 - a, z = x + y + 1.0, c = 0.0;
    double pkm2 = 1.0, qkm2 = x, pkm1 = x + 1.0, qkm1 = z * x;
    double ans = pkm1 / qkm1, t;
    int iter = 0;
    do {
        c += 1.0;
        y += 1.0;
        z += 2.0;
        double yc = y * c;
        double pk = pkm1 * z - pkm2 * yc;
        double qk = qkm1 * z - qkm2 * yc;
        if (qk != 0) {
            double r = pk / qk;
            t = fabs((ans - r) / r);
            ans = r;
        } else {
            t = 1.0;
        }
        pkm2 = pkm1;
        pkm1 = pk;
        qkm2 = qkm1;
        qkm1 = qk;
        if (fabs(pk) > BIG) {
            pkm2 *= BIGINV;
            pkm1 *= BIGINV;
            qkm2 *= BIGINV;
            qkm1 *= BIGINV;
        }
    } while (t > MACHEP && ++iter < 10000);
    return ans * ax;
}

double mec_stats_chi2_sf(double x, double df) {
    if (isnan(x) || !(df > 0)) return NAN;
    if (x <= 0) return 1.0;
    return igamc(df / 2.0, x / 2.0);
}

/* -------------------------------------------------- incomplete beta (t) */

static double lbeta(double a, double b) { return lgamma(a) + lgamma(b) - lgamma(a + b); }

static double incbcf(double a, double b, double x) {
    double k1 = a, k2 = a + b, k3 = a, k4 = a + 1.0, k5 = 1.0, k6 = b - 1.0, k7 = k4, k8 = a + 2.0;
    double pkm2 = 0.0, qkm2 = 1.0, pkm1 = 1.0, qkm1 = 1.0, ans = 1.0, r = 1.0;
    const double thresh = 3.0 * MACHEP;
    for (int n = 0; n < 300; n++) {
        double xk = -(x * k1 * k2) / (k3 * k4);
        double pk = pkm1 + pkm2 * xk, qk = qkm1 + qkm2 * xk;
        pkm2 = pkm1, pkm1 = pk, qkm2 = qkm1, qkm1 = qk;
        xk = (x * k5 * k6) / (k7 * k8);
        pk = pkm1 + pkm2 * xk, qk = qkm1 + qkm2 * xk;
        pkm2 = pkm1, pkm1 = pk, qkm2 = qkm1, qkm1 = qk;
        if (qk != 0) r = pk / qk;
        double t;
        if (r != 0) {
            t = fabs((ans - r) / r);
            ans = r;
        } else {
            t = 1.0;
        }
        if (t < thresh) break;
        k1 += 1.0, k2 += 1.0, k3 += 2.0, k4 += 2.0, k5 += 1.0, k6 -= 1.0, k7 += 2.0, k8 += 2.0;
        if (fabs(qk) + fabs(pk) > BIG) pkm2 *= BIGINV, pkm1 *= BIGINV, qkm2 *= BIGINV, qkm1 *= BIGINV;
        if (fabs(qk) < BIGINV || fabs(pk) < BIGINV) pkm2 *= BIG, pkm1 *= BIG, qkm2 *= BIG, qkm1 *= BIG;
    }
    return ans;
}

static double incbd(double a, double b, double x) {
    double k1 = a, k2 = b - 1.0, k3 = a, k4 = a + 1.0, k5 = 1.0, k6 = a + b, k7 = a + 1.0, k8 = a + 2.0;
    double pkm2 = 0.0, qkm2 = 1.0, pkm1 = 1.0, qkm1 = 1.0, z = x / (1.0 - x), ans = 1.0, r = 1.0;
    const double thresh = 3.0 * MACHEP;
    for (int n = 0; n < 300; n++) {
        double xk = -(z * k1 * k2) / (k3 * k4);
        double pk = pkm1 + pkm2 * xk, qk = qkm1 + qkm2 * xk;
        pkm2 = pkm1, pkm1 = pk, qkm2 = qkm1, qkm1 = qk;
        xk = (z * k5 * k6) / (k7 * k8);
        pk = pkm1 + pkm2 * xk, qk = qkm1 + qkm2 * xk;
        pkm2 = pkm1, pkm1 = pk, qkm2 = qkm1, qkm1 = qk;
        if (qk != 0) r = pk / qk;
        double t;
        if (r != 0) {
            t = fabs((ans - r) / r);
            ans = r;
        } else {
            t = 1.0;
        }
        if (t < thresh) break;
        k1 += 1.0, k2 -= 1.0, k3 += 2.0, k4 += 2.0, k5 += 1.0, k6 += 1.0, k7 += 2.0, k8 += 2.0;
        if (fabs(qk) + fabs(pk) > BIG) pkm2 *= BIGINV, pkm1 *= BIGINV, qkm2 *= BIGINV, qkm1 *= BIGINV;
        if (fabs(qk) < BIGINV || fabs(pk) < BIGINV) pkm2 *= BIG, pkm1 *= BIG, qkm2 *= BIG, qkm1 *= BIG;
    }
    return ans;
}

/* Power series for small b*x. */
static double pseries(double a, double b, double x) {
    double ai = 1.0 / a, u = (1.0 - b) * x, v = u / (a + 1.0), t1 = v, t = u, n = 2.0, s = 0.0;
    double z = MACHEP * ai;
    while (fabs(v) > z) {
        u = (n - b) * x / n;
        t *= u;
        v = t / (a + n);
        s += v;
        n += 1.0;
    }
    s += t1;
    s += ai;
    double lt = -lbeta(a, b) + a * log(x) + log(s);
    return exp(lt); /* underflows gracefully through subnormals to 0 */
}

/* Regularized incomplete beta I_x(a, b). */
static double incbet(double aa, double bb, double xx) {
    if (xx <= 0.0) return 0.0;
    if (xx >= 1.0) return 1.0;
    if (bb * xx <= 1.0 && xx <= 0.95) return pseries(aa, bb, xx);
    double a, b, x, xc, w = 1.0 - xx, t;
    int flag = 0;
    if (xx > aa / (aa + bb)) {
        flag = 1, a = bb, b = aa, xc = xx, x = w;
    } else {
        a = aa, b = bb, xc = w, x = xx;
    }
    if (flag && b * x <= 1.0 && x <= 0.95) {
        t = pseries(a, b, x);
    } else {
        double y = x * (a + b - 2.0) - (a - 1.0);
        w = y < 0.0 ? incbcf(a, b, x) : incbd(a, b, x) / xc;
        double lt = a * log(x) + b * log(xc) - lbeta(a, b) + log(w / a);
        t = exp(lt);
    }
    if (flag) t = t <= MACHEP ? 1.0 - MACHEP : 1.0 - t;
    return t;
}

double mec_stats_t_sf(double t, double df) {
    if (isnan(t) || !(df > 0)) return NAN;
    if (t == 0) return 0.5;
    if (isinf(t)) return t > 0 ? 0.0 : 1.0;
    double z = df / (df + t * t);
    double tail = 0.5 * incbet(0.5 * df, 0.5, z); /* P(T > |t|) */
    return t > 0 ? tail : 1.0 - tail;
}

/* ----------------------------------------------- inverse normal (AS 241) */

double mec_stats_norm_ppf(double p);
double mec_stats_norm_ppf(double p) {
    double q = p - 0.5, r, val;
    if (fabs(q) <= 0.425) {
        r = 0.180625 - q * q;
        val = q *
              (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r +
                   45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r +
                133.14166789178437745) * r + 3.387132872796366608) /
              (((((((5226.495278852545925 * r + 28729.085735721942674) * r + 39307.89580009271061) * r +
                   21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r +
                42.313330701600911252) * r + 1.0);
        return val;
    }
    r = q < 0 ? p : 1.0 - p;
    if (r <= 0) return q < 0 ? -INFINITY : INFINITY;
    r = sqrt(-log(r));
    if (r <= 5.0) {
        r -= 1.6;
        val = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
                   1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r +
                4.6303378461565452959) * r + 1.42343711074968357734) /
              (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r +
                   0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r +
                2.05319162663775882187) * r + 1.0);
    } else {
        r -= 5.0;
        val = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
                   0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r +
                5.4637849111641143699) * r + 6.6579046435011037772) /
              (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r +
                   7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r +
                0.59983220655588793769) * r + 1.0);
    }
    return q < 0 ? -val : val;
}
