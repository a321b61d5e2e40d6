/* mecbench bench: time a model — load, cold first run, warm-up, N timed
 * runs (p50/p90/p99), peak RSS; per-op profile on request; JSON for tools. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_IO 64

static void usage(FILE *f) {
    fprintf(f,
            "usage: mecbench bench MODEL [options]\n\n"
            "Times MODEL (ONNX): load, the cold first run, then --warmup untimed runs and --runs\n"
            "timed runs, reporting p50/p90/p99 latency, load time and peak RSS.\n\n"
            "options:\n"
            "  --input NAME=FILE      an input (.npy, .pb, image, raw); inputs not given are\n"
            "                         filled with seeded random values of their declared shape\n"
            "  --shape NAME=DIMS      shape for an input with dynamic dims (default: 1 for each)\n"
            "  --runs N               timed runs (default 50)\n"
            "  --warmup N             untimed runs first (default 5)\n"
            "  --threads N            threads (default: cores available)\n"
            "  --impl auto|ref        kernels: fastest (default) or the reference ones\n"
            "  --conv-algo auto|direct  3x3 convolutions: Winograd where faster (default) or\n"
            "                         direct summation only (bit-closer to other runtimes)\n"
            "  --no-optimize          run the graph as written (no BatchNorm folding, no fusion)\n"
            "  --profile              per-op-type time table (adds timing overhead)\n"
            "  --json                 machine-readable result on stdout\n"
            "  --seed N               seed of the random inputs (default 1)\n"
            "  -h, --help             this help\n");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Percentile by linear interpolation between closest ranks (numpy default). */
static double percentile(const double *sorted, int n, double p) {
    if (n == 0) return NAN;
    double pos = p / 100.0 * (n - 1);
    int lo = (int)pos;
    int hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

typedef struct op_row {
    const char *op;
    uint64_t ns;
    int64_t flops;
    int count;
} op_row;

static int cmp_row(const void *a, const void *b) {
    const op_row *x = a, *y = b;
    return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

int mec_cli_bench(int argc, char **argv) {
    const char *model = NULL;
    const char *in_args[MAX_IO];
    int n_in_args = 0;
    mec_cli_shape_override shapes[MAX_IO];
    int n_shapes = 0;
    long runs = 50, warmup = 5, seed = 1;
    bool json = false;
    mec_sess_options opt;
    mec_sess_options_default(&opt);
    for (int i = 1, took; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--input") && has_val) {
            if (n_in_args == MAX_IO) goto bad;
            in_args[n_in_args++] = argv[++i];
        } else if (!strcmp(a, "--shape") && has_val) {
            const char *val;
            if (n_shapes == MAX_IO ||
                mec_cli_parse_named(argv[++i], shapes[n_shapes].name, sizeof shapes[n_shapes].name, &val) ||
                !shapes[n_shapes].name[0] ||
                (shapes[n_shapes].ndim = mec_cli_parse_shape(val, shapes[n_shapes].dims)) < 0) {
                fprintf(stderr, "mecbench bench: --shape '%s': expected NAME=DIMS like x=1x3x224x224\n", argv[i]);
                return 2;
            }
            n_shapes++;
        } else if (!strcmp(a, "--runs") && has_val) {
            if (!mec_cli_parse_int(argv[++i], 1, 1000000, &runs)) goto bad;
        } else if (!strcmp(a, "--warmup") && has_val) {
            if (!mec_cli_parse_int(argv[++i], 0, 1000000, &warmup)) goto bad;
        } else if (!strcmp(a, "--seed") && has_val) {
            if (!mec_cli_parse_int(argv[++i], 0, 1L << 30, &seed)) goto bad;
        } else if ((took = mec_cli_sess_option("bench", argc, argv, &i, &opt)) != 0) {
            if (took < 0) return 2;
        } else if (!strcmp(a, "--profile")) {
            opt.profile = true;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (a[0] == '-') {
            fprintf(stderr, "mecbench bench: unknown or incomplete option '%s' (see --help)\n", a);
            return 2;
        } else if (!model) {
            model = a;
        } else {
            fprintf(stderr, "mecbench bench: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!model) {
        usage(stderr);
        return 2;
    }
    mec_sess *sess = NULL;
    if (mec_sess_load(model, &opt, &sess)) {
        mec_cli_fail("bench");
        return 1;
    }
    const mec_graph *g = mec_sess_graph(sess);
    int rc = 1, n_in = 0;
    mec_tensor *inputs[MAX_IO] = {0};
    const char *in_names[MAX_IO];
    char named[MAX_IO][256];
    mec_tensor **outs = NULL;
    double *lat = NULL;
    if (g->n_inputs > MAX_IO) {
        fprintf(stderr, "mecbench bench: the model has %d inputs, at most %d supported\n", g->n_inputs, MAX_IO);
        goto done;
    }
    for (int i = 0; i < n_in_args; i++) {
        const char *file;
        if (mec_cli_parse_named(in_args[i], named[i], sizeof named[i], &file) || !named[i][0]) {
            fprintf(stderr, "mecbench bench: --input '%s': expected NAME=FILE\n", in_args[i]);
            goto done;
        }
    }
    for (int k = 0; k < g->n_inputs; k++) {
        const mec_value *v = &g->values[g->inputs[k]];
        in_names[n_in] = v->name;
        const char *file = NULL;
        for (int i = 0; i < n_in_args; i++)
            if (!strcmp(named[i], v->name)) file = strchr(in_args[i], '=') + 1;
        if (file) {
            if (mec_cli_load_tensor(file, NULL, v->name, sess, &inputs[n_in])) {
                fprintf(stderr, "mecbench bench: input '%s': %s\n", v->name, mec_last_error());
                goto done;
            }
        } else {
            int nd;
            int64_t dims[MEC_MAX_DIMS];
            if (mec_cli_input_shape(g, k, shapes, n_shapes, &nd, dims) ||
                mec_tensor_create(&inputs[n_in], v->dtype ? v->dtype : MEC_F32, nd, dims)) {
                mec_cli_fail("bench");
                goto done;
            }
            mec_cli_fill_random(inputs[n_in], (uint64_t)seed + (uint64_t)k);
        }
        n_in++;
    }
    outs = calloc((size_t)g->n_outputs + 1, sizeof *outs);
    lat = calloc((size_t)runs, sizeof *lat);
    if (!outs || !lat) goto done;
    double cold_ms = 0;
    for (long r = -1; r < warmup + runs; r++) {
        double t0 = mec_now_ms();
        if (r == warmup) mec_sess_profile_reset(sess);
        if (mec_sess_run(sess, n_in, in_names, (const mec_tensor *const *)inputs, g->n_outputs, NULL, outs)) {
            mec_cli_fail("bench");
            goto done;
        }
        double ms = mec_now_ms() - t0;
        for (int o = 0; o < g->n_outputs; o++) {
            mec_tensor_destroy(outs[o]);
            outs[o] = NULL;
        }
        if (r < 0) cold_ms = ms;
        else if (r >= warmup) lat[r - warmup] = ms;
        if (!json && isatty(2) && (r % 5 == 0 || r == warmup + runs - 1))
            fprintf(stderr, "\r%s %ld/%ld", r < warmup ? "warm-up" : "timed  ", r < warmup ? r + 1 : r - warmup + 1,
                    r < warmup ? warmup : runs);
    }
    if (!json && isatty(2)) fprintf(stderr, "\r%40s\r", "");
    qsort(lat, (size_t)runs, sizeof *lat, cmp_double);
    double sum = 0;
    for (long r = 0; r < runs; r++) sum += lat[r];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss_mb = (double)ru.ru_maxrss / 1024.0;
    double p50 = percentile(lat, (int)runs, 50), p90 = percentile(lat, (int)runs, 90),
           p99 = percentile(lat, (int)runs, 99);
    if (json) {
        printf("{\"model\": \"%s\", \"threads\": %d, \"impl\": \"%s\", \"runs\": %ld, \"warmup\": %ld,\n"
               " \"load_ms\": %.3f, \"first_run_ms\": %.3f, \"mean_ms\": %.4f, \"min_ms\": %.4f,"
               " \"p50_ms\": %.4f, \"p90_ms\": %.4f, \"p99_ms\": %.4f, \"max_ms\": %.4f,"
               " \"peak_rss_mb\": %.1f}\n",
               model, mec_threads_get(), opt.impl, runs, warmup, mec_sess_load_ms(sess), cold_ms,
               sum / runs, lat[0], p50, p90, p99, lat[runs - 1], rss_mb);
    } else {
        printf("model        %s\n", model);
        printf("threads      %d (kernels: %s)\n", mec_threads_get(), opt.impl);
        printf("load         %.1f ms\n", mec_sess_load_ms(sess));
        printf("first run    %.2f ms (cold)\n", cold_ms);
        printf("latency      p50 %.3f ms   p90 %.3f ms   p99 %.3f ms   (min %.3f, mean %.3f, max %.3f; %ld runs after %ld warm-up)\n",
               p50, p90, p99, lat[0], sum / runs, lat[runs - 1], runs, warmup);
        printf("peak RSS     %.1f MiB\n", rss_mb);
    }
    if (opt.profile && !json) {
        int n;
        const mec_node_profile *prof = mec_sess_profile(sess, &n);
        op_row rows[256];
        int n_rows = 0;
        uint64_t total = 0;
        for (int i = 0; i < n; i++) {
            if (!prof[i].runs) continue;
            total += prof[i].total_ns;
            int r = 0;
            while (r < n_rows && strcmp(rows[r].op, prof[i].op_type)) r++;
            if (r == n_rows) {
                if (n_rows == 256) continue;
                rows[n_rows++] = (op_row){prof[i].op_type, 0, 0, 0};
            }
            rows[r].ns += prof[i].total_ns;
            rows[r].flops += prof[i].flops;
            rows[r].count++;
        }
        qsort(rows, (size_t)n_rows, sizeof rows[0], cmp_row);
        printf("\n%-24s %6s %12s %7s %10s\n", "op", "nodes", "ms/run", "share", "GFLOP/s");
        for (int r = 0; r < n_rows; r++) {
            double ms = (double)rows[r].ns / 1e6 / (double)runs;
            printf("%-24s %6d %12.3f %6.1f%% %10.2f\n", rows[r].op, rows[r].count, ms,
                   total ? 100.0 * (double)rows[r].ns / (double)total : 0.0,
                   rows[r].flops && ms > 0 ? (double)rows[r].flops / (ms * 1e6) : 0.0);
        }
    }
    rc = 0;
done:
    for (int i = 0; i < MAX_IO; i++) mec_tensor_destroy(inputs[i]);
    if (outs)
        for (int o = 0; o < g->n_outputs; o++) mec_tensor_destroy(outs[o]);
    free(outs);
    free(lat);
    mec_sess_destroy(sess);
    return rc;
bad:
    fprintf(stderr, "mecbench bench: bad option value near '%s' (see --help)\n", argv[argc - 1]);
    return 2;
}
