/* Helpers shared by the verbs: option parsing, shapes, loading inputs. */
#include "cli.h"

#include "mec/data.h"
#include "mec/onnx.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool mec_cli_parse_int(const char *s, long lo, long hi, long *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

int mec_cli_parse_shape(const char *s, int64_t *dims) {
    int n = 0;
    const char *p = s;
    if (!*p) return -1;
    while (*p) {
        if (n == MEC_MAX_DIMS || !isdigit((unsigned char)*p)) return -1;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || v < 0 || v > (1LL << 32)) return -1;
        dims[n++] = v;
        p = end;
        if (*p == 'x' || *p == 'X' || *p == ',') {
            p++;
            if (!*p) return -1;
        } else if (*p) {
            return -1;
        }
    }
    return n;
}

const char *mec_cli_ext(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    return dot && (!slash || dot > slash) ? dot + 1 : "";
}

mec_status mec_cli_load_tensor(const char *path, const mec_cli_raw_spec *raw, const char *input_name,
                               const mec_sess *sess, mec_tensor **out) {
    const char *ext = mec_cli_ext(path);
    if (!strcasecmp(ext, "npy")) return mec_tensor_load_npy(path, out);
    if (!strcasecmp(ext, "pb")) return mec_tensor_load_pb(path, out, NULL);
    if (mec_image_sniff(path)) {
        /* an image: resize to the model input's H x W (NCHW f32), ImageNet normalisation */
        mec_image img;
        mec_status st = mec_image_load(path, &img);
        if (st) return st;
        mec_image_prep prep;
        mec_image_prep_imagenet(&prep);
        mec_dtype dt;
        int nd;
        int64_t dims[MEC_MAX_DIMS];
        if (sess && !mec_sess_value_info(sess, input_name, &dt, &nd, dims) && nd == 4) {
            /* NCHW with 1 or 3 channels, else NHWC; H and W from the model when fixed */
            bool nchw = dims[1] == 1 || dims[1] == 3 || !(dims[3] == 1 || dims[3] == 3);
            int64_t c = nchw ? dims[1] : dims[3], hh = nchw ? dims[2] : dims[1],
                    ww = nchw ? dims[3] : dims[2];
            prep.nhwc = !nchw;
            prep.channels = c == 1 ? 1 : 3;
            if (c == 1) { /* grey models: the Fashion-MNIST statistics (docs/data.md) */
                prep.mean[0] = 0.2860f;
                prep.std[0] = 0.3530f;
            }
            prep.height = hh > 0 ? (int)hh : img.height;
            prep.width = ww > 0 ? (int)ww : img.width;
        } else {
            prep.width = img.width;
            prep.height = img.height;
        }
        st = mec_image_to_tensor(&img, &prep, out);
        mec_image_release(&img);
        return st;
    }
    if (raw && raw->ndim >= 0) {
        return mec_tensor_load_raw(path, raw->dtype ? raw->dtype : MEC_F32, raw->ndim, raw->dims,
                                   out);
    }
    return mec_error(MEC_ERR_INVALID_ARG,
                     "%s: unknown input format (use .npy, .pb, a JPEG/PNG image, or a raw file "
                     "with --shape NAME=DIMS [--dtype NAME=TYPE])",
                     path);
}

/* Fills a tensor with reproducible pseudo-random values (xorshift). Floats in
 * [-1, 1); integers in [0, 2) so that ids, masks and token types stay valid. */
void mec_cli_fill_random(mec_tensor *t, uint64_t seed) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    int64_t n = mec_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0;
        bool is_float = t->dtype == MEC_F32 || t->dtype == MEC_F64 || t->dtype == MEC_F16;
        mec_tensor_set_f64(t, i, is_float ? 2.0 * u - 1.0 : (double)(u < 0.5 ? 0 : 1));
    }
}

mec_status mec_cli_input_shape(const mec_graph *g, int input_idx, const mec_cli_shape_override *ov,
                               int n_ov, int *ndim, int64_t *dims) {
    const mec_value *v = &g->values[g->inputs[input_idx]];
    for (int i = 0; i < n_ov; i++)
        if (!strcmp(ov[i].name, v->name)) {
            *ndim = ov[i].ndim;
            memcpy(dims, ov[i].dims, sizeof(int64_t) * (size_t)ov[i].ndim);
            return MEC_OK;
        }
    if (v->ndim < 0)
        return mec_error(MEC_ERR_SHAPE, "input '%s' has no declared shape: give --shape %s=DIMS",
                         v->name, v->name);
    *ndim = v->ndim;
    for (int d = 0; d < v->ndim; d++) dims[d] = v->dims[d] >= 0 ? v->dims[d] : 1;
    return MEC_OK;
}

mec_status mec_cli_parse_named(const char *arg, char *name, size_t name_cap, const char **value) {
    const char *eq = strchr(arg, '=');
    if (!eq) {
        name[0] = '\0';
        *value = arg;
        return MEC_OK;
    }
    size_t n = (size_t)(eq - arg);
    if (n == 0 || n >= name_cap)
        return mec_error(MEC_ERR_INVALID_ARG, "'%s': expected NAME=VALUE", arg);
    memcpy(name, arg, n);
    name[n] = '\0';
    *value = eq + 1;
    return MEC_OK;
}

void mec_cli_fail(const char *verb) {
    fprintf(stderr, "mecbench %s: %s\n", verb, mec_last_error());
}

int mec_cli_sess_option(const char *verb, int argc, char **argv, int *i, mec_sess_options *opt) {
    const char *a = argv[*i];
    bool has_val = *i + 1 < argc;
    if (!strcmp(a, "--no-optimize")) {
        opt->optimize = false;
        return 1;
    }
    if (!strcmp(a, "--threads") && has_val) {
        long v;
        if (!mec_cli_parse_int(argv[++*i], 1, 1024, &v)) {
            fprintf(stderr, "mecbench %s: --threads '%s': expected a number from 1 to 1024\n", verb,
                    argv[*i]);
            return -1;
        }
        opt->threads = (int)v;
        return 1;
    }
    if (!strcmp(a, "--conv-algo") && has_val) {
        opt->conv_algo = argv[++*i];
        if (strcmp(opt->conv_algo, "auto") && strcmp(opt->conv_algo, "direct") &&
            strcmp(opt->conv_algo, "winograd")) {
            fprintf(stderr, "mecbench %s: --conv-algo '%s': expected auto, direct or winograd\n",
                    verb, opt->conv_algo);
            return -1;
        }
        return 1;
    }
    if (!strcmp(a, "--impl") && has_val) {
        opt->impl = argv[++*i];
        if (strcmp(opt->impl, "auto") && strcmp(opt->impl, "ref")) {
            fprintf(stderr, "mecbench %s: --impl '%s': expected auto or ref\n", verb, opt->impl);
            return -1;
        }
        return 1;
    }
    return 0;
}
