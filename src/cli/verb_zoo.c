/* mecbench zoo: list the model zoo's presets, or build one as an ONNX file. */
#include "cli.h"

#include "mec/onnx.h"
#include "mec/zoo.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Above this many bytes of weights the model keeps them in an external data
 * file (protobuf's limit is 2 GB). */
#define ZOO_EXTERNAL_ABOVE_BYTES ((size_t)1536 << 20)

static void usage(FILE *f) {
    fprintf(f,
            "usage: mecbench zoo list\n"
            "       mecbench zoo build NAME -o FILE.onnx [options]\n\n"
            "The model zoo: ResNet/Wide-ResNet, ResNeXt, FCN, DUC, BERT and RoBERTa builders with\n"
            "deterministic random weights. \"*-paper\" presets are the study's models (for latency),\n"
            "\"*-small\" ones train here in minutes (for accuracy).\n\n"
            "build options:\n"
            "  -o, --output FILE      the ONNX file to write (atomically)\n"
            "  --seed N               seed of the random weights (default 0)\n"
            "  --classes N            classes / labels of the head\n"
            "  --size HxW             CNN input size (FCN/DUC: the default size; any H×W runs)\n"
            "  --seq N                BERT/RoBERTa sequence length the FLOP count assumes\n"
            "  --channels N           CNN input channels\n"
            "  --vocab N              BERT/RoBERTa vocabulary size\n"
            "  -h, --help             this help\n");
}

static void human(int64_t n, char *buf, size_t cap) {
    if (n >= 1000000) snprintf(buf, cap, "%.2fM", (double)n / 1e6);
    else if (n >= 1000) snprintf(buf, cap, "%.1fK", (double)n / 1e3);
    else snprintf(buf, cap, "%" PRId64, n);
}

static int list(void) {
    const mec_zoo_preset *p;
    int n;
    mec_zoo_list(&p, &n);
    printf("%-14s %-8s %10s %9s  %-44s %s\n", "name", "family", "params", "GFLOPs", "input", "model");
    for (int i = 0; i < n; i++) {
        mec_zoo_stats s;
        if (mec_zoo_stats_of(p[i].name, NULL, &s)) {
            mec_cli_fail("zoo");
            return 1;
        }
        char params[32];
        human(s.params, params, sizeof params);
        printf("%-14s %-8s %10s %9.3f  %-44s %s\n", p[i].name, p[i].family, params,
               2.0 * (double)s.macs / 1e9, p[i].data, p[i].description);
    }
    printf("\nparams: trainable, as PyTorch counts them; GFLOPs: 2 x multiply-adds of one input\n"
           "of the listed size (BERT/RoBERTa: 128 tokens; small ones: 64).\n");
    return 0;
}

static bool parse_count(const char *opt, const char *s, long hi, int *out) {
    long v;
    if (!mec_cli_parse_int(s, 1, hi, &v)) {
        fprintf(stderr, "mecbench zoo: %s '%s': expected a number from 1 to %ld\n", opt, s, hi);
        return false;
    }
    *out = (int)v;
    return true;
}

static int build(int argc, char **argv) {
    const char *name = NULL, *path = NULL;
    mec_zoo_overrides ov;
    memset(&ov, 0, sizeof ov);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && has_val) {
            path = argv[++i];
        } else if (!strcmp(a, "--seed") && has_val) {
            long v;
            if (!mec_cli_parse_int(argv[++i], 0, 2147483647L, &v)) {
                fprintf(stderr, "mecbench zoo: --seed '%s': expected 0..2147483647\n", argv[i]);
                return 2;
            }
            ov.seed = (uint64_t)v;
        } else if (!strcmp(a, "--classes") && has_val) {
            if (!parse_count(a, argv[++i], 1000000, &ov.num_classes)) return 2;
        } else if (!strcmp(a, "--channels") && has_val) {
            if (!parse_count(a, argv[++i], 1024, &ov.in_channels)) return 2;
        } else if (!strcmp(a, "--vocab") && has_val) {
            if (!parse_count(a, argv[++i], 10000000, &ov.vocab_size)) return 2;
        } else if (!strcmp(a, "--seq") && has_val) {
            if (!parse_count(a, argv[++i], 1048576, &ov.height)) return 2;
        } else if (!strcmp(a, "--size") && has_val) {
            int64_t dims[MEC_MAX_DIMS];
            int nd = mec_cli_parse_shape(argv[++i], dims);
            if ((nd != 1 && nd != 2) || dims[0] < 1 || dims[0] > 16384 || dims[nd - 1] < 1 ||
                dims[nd - 1] > 16384) {
                fprintf(stderr, "mecbench zoo: --size '%s': expected HxW like 224x224 (or one number)\n",
                        argv[i]);
                return 2;
            }
            ov.height = (int)dims[0];
            ov.width = (int)dims[nd - 1];
        } else if (a[0] == '-') {
            fprintf(stderr, "mecbench zoo: unknown or incomplete option '%s' (see --help)\n", a);
            return 2;
        } else if (!name) {
            name = a;
        } else {
            fprintf(stderr, "mecbench zoo: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!name || !path) {
        fprintf(stderr, "mecbench zoo build: needs a preset NAME and -o FILE.onnx (see mecbench zoo list)\n");
        return 2;
    }
    double t0 = mec_now_ms();
    mec_graph *g = NULL;
    if (mec_zoo_build(name, &ov, &g)) {
        mec_cli_fail("zoo");
        return 1;
    }
    double t_build = mec_now_ms() - t0;
    size_t bytes = 0;
    int64_t params = 0;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].init) bytes += mec_tensor_bytes(g->values[v].init);
    mec_zoo_stats st = {0, 0};
    if (!mec_zoo_stats_of(name, &ov, &st)) params = st.params;
    mec_onnx_save_options so = {0};
    if (bytes > ZOO_EXTERNAL_ABOVE_BYTES) so.external_threshold_bytes = 1 << 20;
    double t1 = mec_now_ms();
    mec_status rc = mec_onnx_save_ex(g, path, &so);
    double t_save = mec_now_ms() - t1;
    mec_graph_destroy(g);
    if (rc) {
        mec_cli_fail("zoo");
        return 1;
    }
    char hp[32];
    human(params, hp, sizeof hp);
    printf("%s: %s, %" PRId64 " parameters (%s), %.1f MB of weights, %.3f GFLOPs, seed %" PRIu64 "\n",
           path, name, params, hp, (double)bytes / 1e6, 2.0 * (double)st.macs / 1e9, ov.seed);
    printf("built in %.0f ms, written in %.0f ms%s\n", t_build, t_save,
           so.external_threshold_bytes ? " (weights in an external .data file)" : "");
    return 0;
}

int mec_cli_zoo(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "list")) return list();
    if (!strcmp(argv[1], "build")) return build(argc, argv);
    fprintf(stderr, "mecbench zoo: unknown command '%s' (list or build)\n", argv[1]);
    return 2;
}
