/* mecbench infer: run a model once on input files; print a summary of each
 * output and optionally write each output as DIR/<name>.npy. */
#include "cli.h"

#include "mec/onnx.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_IO 64

static void usage(FILE *f) {
    fprintf(f,
            "usage: mecbench infer MODEL --input [NAME=]FILE ... [options]\n\n"
            "Runs MODEL (ONNX) once and prints a summary of each output.\n\n"
            "inputs (one --input per model input; NAME may be left out for a single-input model):\n"
            "  FILE.npy               NumPy array\n"
            "  FILE.pb                ONNX TensorProto\n"
            "  FILE.jpg / FILE.png    image, resized to the input's HxW, ImageNet-normalised, NCHW\n"
            "  FILE (raw)             little-endian elements; needs --shape NAME=DIMS\n\n"
            "options:\n"
            "  --output-dir DIR       write each output as DIR/<output name>.npy\n"
            "  --output NAME          compute only this value (repeatable; any value of the graph)\n"
            "  --shape NAME=DIMS      shape of a raw input, e.g. 1x3x224x224\n"
            "  --dtype NAME=TYPE      dtype of a raw input (float32, int64, uint8, ...; default float32)\n"
            "  --threads N            threads (default: cores available)\n"
            "  --impl auto|ref        kernels: fastest (default) or the reference ones\n"
            "  --conv-algo auto|direct  3x3 convolutions: Winograd where faster (default) or\n"
            "                         direct summation only (bit-closer to other runtimes)\n"
            "  --no-optimize          run the graph as written (no BatchNorm folding, no fusion)\n"
            "  --top K                for (N, C) outputs, print the top-K classes (default 5)\n"
            "  -h, --help             this help\n");
}

static void summarize(const char *name, const mec_tensor *t, int top_k) {
    char shape[200];
    mec_shape_str(t->ndim, t->shape, shape, sizeof shape);
    int64_t n = mec_tensor_numel(t);
    printf("%s: %s %s", name, mec_dtype_name(t->dtype), shape);
    if (n == 0) {
        printf(" (empty)\n");
        return;
    }
    double mn = DBL_MAX, mx = -DBL_MAX, sum = 0;
    int64_t nan = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = mec_tensor_get_f64(t, i);
        if (isnan(v)) {
            nan++;
            continue;
        }
        if (v < mn) mn = v;
        if (v > mx) mx = v;
        sum += v;
    }
    printf("  min %.6g  max %.6g  mean %.6g", mn, mx, n > nan ? sum / (double)(n - nan) : NAN);
    if (nan) printf("  NaN x%lld", (long long)nan);
    printf("\n  first values:");
    for (int64_t i = 0; i < n && i < 8; i++) printf(" %.6g", mec_tensor_get_f64(t, i));
    printf(n > 8 ? " ...\n" : "\n");
    /* classification-style output: top-k of the first row */
    if (t->ndim == 2 && t->shape[1] > 1 && top_k > 0) {
        int64_t c = t->shape[1];
        int k = top_k < c ? top_k : (int)c;
        int64_t best[64];
        if (k > 64) k = 64;
        for (int j = 0; j < k; j++) {
            int64_t arg = -1;
            for (int64_t i = 0; i < c; i++) {
                bool used = false;
                for (int q = 0; q < j; q++) used |= best[q] == i;
                if (!used && (arg < 0 || mec_tensor_get_f64(t, i) > mec_tensor_get_f64(t, arg)))
                    arg = i;
            }
            best[j] = arg;
        }
        printf("  top-%d of row 0:", k);
        for (int j = 0; j < k; j++)
            printf(" %lld (%.4g)", (long long)best[j], mec_tensor_get_f64(t, best[j]));
        printf("\n");
    }
}

/* A name safe as a file name: '/' and other odd characters become '_'. */
static void file_safe(const char *name, char *out, size_t n) {
    size_t i = 0;
    for (; name[i] && i + 1 < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        out[i] = ok ? c : '_';
    }
    out[i] = '\0';
    if (!strcmp(out, ".") || !strcmp(out, "..")) snprintf(out, n, "_");
}

int mec_cli_infer(int argc, char **argv) {
    const char *model = NULL, *out_dir = NULL;
    const char *in_args[MAX_IO];
    int n_in_args = 0;
    const char *out_names[MAX_IO];
    int n_out_names = 0;
    mec_cli_shape_override shapes[MAX_IO];
    int n_shapes = 0;
    struct {
        char name[256];
        mec_dtype dtype;
    } dtypes[MAX_IO];
    int n_dtypes = 0;
    mec_sess_options opt;
    mec_sess_options_default(&opt);
    long top_k = 5;
    for (int i = 1, took; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--input") && has_val) {
            if (n_in_args == MAX_IO) goto too_many;
            in_args[n_in_args++] = argv[++i];
        } else if (!strcmp(a, "--output") && has_val) {
            if (n_out_names == MAX_IO) goto too_many;
            out_names[n_out_names++] = argv[++i];
        } else if (!strcmp(a, "--output-dir") && has_val) {
            out_dir = argv[++i];
        } else if (!strcmp(a, "--shape") && has_val) {
            const char *val;
            if (n_shapes == MAX_IO) goto too_many;
            if (mec_cli_parse_named(argv[++i], shapes[n_shapes].name, sizeof shapes[n_shapes].name, &val) ||
                (shapes[n_shapes].ndim = mec_cli_parse_shape(val, shapes[n_shapes].dims)) < 0) {
                fprintf(stderr, "mecbench infer: --shape '%s': expected NAME=DIMS like x=1x3x224x224\n", argv[i]);
                return 2;
            }
            n_shapes++;
        } else if (!strcmp(a, "--dtype") && has_val) {
            const char *val;
            if (n_dtypes == MAX_IO) goto too_many;
            if (mec_cli_parse_named(argv[++i], dtypes[n_dtypes].name, sizeof dtypes[n_dtypes].name, &val) ||
                !(dtypes[n_dtypes].dtype = mec_dtype_parse(val))) {
                fprintf(stderr, "mecbench infer: --dtype '%s': expected NAME=TYPE like ids=int64\n", argv[i]);
                return 2;
            }
            n_dtypes++;
        } else if ((took = mec_cli_sess_option("infer", argc, argv, &i, &opt)) != 0) {
            if (took < 0) return 2;
        } else if (!strcmp(a, "--top") && has_val) {
            if (!mec_cli_parse_int(argv[++i], 0, 64, &top_k)) {
                fprintf(stderr, "mecbench infer: --top '%s': expected 0..64\n", argv[i]);
                return 2;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "mecbench infer: unknown or incomplete option '%s' (see --help)\n", a);
            return 2;
        } else if (!model) {
            model = a;
        } else {
            fprintf(stderr, "mecbench infer: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!model) {
        usage(stderr);
        return 2;
    }
    mec_sess *sess = NULL;
    if (mec_sess_load(model, &opt, &sess)) {
        mec_cli_fail("infer");
        return 1;
    }
    const mec_graph *g = mec_sess_graph(sess);
    int rc = 1;
    mec_tensor *inputs[MAX_IO] = {0};
    char in_names_buf[MAX_IO][256];
    const char *in_names[MAX_IO];
    mec_tensor *outs[MAX_IO] = {0};
    int n_out = n_out_names ? n_out_names : g->n_outputs;
    if (n_out > MAX_IO) {
        fprintf(stderr, "mecbench infer: the model has %d outputs, at most %d supported\n", n_out, MAX_IO);
        goto done;
    }
    for (int i = 0; i < n_in_args; i++) {
        const char *file;
        if (mec_cli_parse_named(in_args[i], in_names_buf[i], sizeof in_names_buf[i], &file)) {
            mec_cli_fail("infer");
            goto done;
        }
        if (!in_names_buf[i][0]) {
            if (g->n_inputs != 1 || n_in_args != 1) {
                fprintf(stderr, "mecbench infer: --input '%s': the model has %d inputs, write NAME=FILE\n",
                        in_args[i], g->n_inputs);
                goto done;
            }
            snprintf(in_names_buf[i], sizeof in_names_buf[i], "%s", g->values[g->inputs[0]].name);
        }
        in_names[i] = in_names_buf[i];
        if (mec_graph_find(g, in_names[i]) < 0) {
            fprintf(stderr, "mecbench infer: the model has no input named '%s' (inputs:", in_names[i]);
            for (int k = 0; k < g->n_inputs; k++) fprintf(stderr, " %s", g->values[g->inputs[k]].name);
            fprintf(stderr, ")\n");
            goto done;
        }
        mec_cli_raw_spec raw = {MEC_UNDEFINED, -1, {0}};
        for (int k = 0; k < n_shapes; k++)
            if (!strcmp(shapes[k].name, in_names[i])) {
                raw.ndim = shapes[k].ndim;
                memcpy(raw.dims, shapes[k].dims, sizeof raw.dims);
            }
        for (int k = 0; k < n_dtypes; k++)
            if (!strcmp(dtypes[k].name, in_names[i])) raw.dtype = dtypes[k].dtype;
        if (raw.ndim >= 0 && !raw.dtype) {
            int v = mec_graph_find(g, in_names[i]);
            raw.dtype = g->values[v].dtype ? g->values[v].dtype : MEC_F32;
        }
        if (mec_cli_load_tensor(file, &raw, in_names[i], sess, &inputs[i])) {
            fprintf(stderr, "mecbench infer: input '%s': %s\n", in_names[i], mec_last_error());
            goto done;
        }
    }
    double t0 = mec_now_ms();
    if (mec_sess_run(sess, n_in_args, in_names, (const mec_tensor *const *)inputs, n_out,
                     n_out_names ? out_names : NULL, outs)) {
        mec_cli_fail("infer");
        goto done;
    }
    double ms = mec_now_ms() - t0;
    printf("model %s: load %.1f ms, run %.2f ms (%d threads)\n", model, mec_sess_load_ms(sess), ms,
           mec_threads_get());
    if (out_dir && mkdir(out_dir, 0755) != 0) {
        struct stat sb;
        if (stat(out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "mecbench infer: cannot create output directory '%s'\n", out_dir);
            goto done;
        }
    }
    for (int i = 0; i < n_out; i++) {
        const char *name = n_out_names ? out_names[i] : g->values[g->outputs[i]].name;
        summarize(name, outs[i], (int)top_k);
        if (out_dir) {
            char safe[256], path[4096];
            file_safe(name, safe, sizeof safe);
            snprintf(path, sizeof path, "%s/%s.npy", out_dir, safe);
            if (mec_tensor_save_npy(path, outs[i])) {
                mec_cli_fail("infer");
                goto done;
            }
            printf("  written to %s\n", path);
        }
    }
    rc = 0;
done:
    for (int i = 0; i < MAX_IO; i++) {
        mec_tensor_destroy(inputs[i]);
        mec_tensor_destroy(outs[i]);
    }
    mec_sess_destroy(sess);
    return rc;
too_many:
    fprintf(stderr, "mecbench infer: too many --input/--output/--shape options (max %d)\n", MAX_IO);
    return 2;
}
