/* Shared declarations of the CLI verbs (one file per verb). */
#ifndef MEC_CLI_H
#define MEC_CLI_H

#include <stdbool.h>

#define MEC_CLI_VERSION "0.1.0"

typedef struct mec_cli_verb {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the verb; returns the exit code */
    bool passive; /* long runs on shared machines: OpenMP waits passively even without a quota */
} mec_cli_verb;

int mec_cli_ops(int argc, char **argv);
int mec_cli_infer(int argc, char **argv);
int mec_cli_bench(int argc, char **argv);
int mec_cli_import(int argc, char **argv);
int mec_cli_analyze(int argc, char **argv);
int mec_cli_recommend(int argc, char **argv);
int mec_cli_report(int argc, char **argv);
int mec_cli_version(int argc, char **argv);
int mec_cli_zoo(int argc, char **argv);
int mec_cli_train(int argc, char **argv);
int mec_cli_eval(int argc, char **argv);

#include "mec/runtime.h"

#include <stdbool.h>
#include <stdint.h>

/* A --shape NAME=DIMS override for inputs with dynamic or unknown dims. */
typedef struct mec_cli_shape_override {
    char name[256];
    int ndim;
    int64_t dims[MEC_MAX_DIMS];
} mec_cli_shape_override;

/* How to read a raw input file (ndim -1: not given). */
typedef struct mec_cli_raw_spec {
    mec_dtype dtype;
    int ndim;
    int64_t dims[MEC_MAX_DIMS];
} mec_cli_raw_spec;

bool mec_cli_parse_int(const char *s, long lo, long hi, long *out);
/* "1x3x224x224" (or commas) into dims; returns ndim or -1. */
int mec_cli_parse_shape(const char *s, int64_t *dims);
const char *mec_cli_ext(const char *path);
/* Splits "NAME=VALUE" (name "" when there is no '='). */
mec_status mec_cli_parse_named(const char *arg, char *name, size_t name_cap, const char **value);
/* Loads an input by format: .npy, .pb, JPEG/PNG image (resized to the model
 * input), or raw with a spec. sess may be NULL. */
mec_status mec_cli_load_tensor(const char *path, const mec_cli_raw_spec *raw, const char *input_name,
                               const mec_sess *sess, mec_tensor **out);
void mec_cli_fill_random(mec_tensor *t, uint64_t seed);
/* Shape for graph input #input_idx: an override, else declared dims with 1
 * for dynamic ones. */
mec_status mec_cli_input_shape(const mec_graph *g, int input_idx, const mec_cli_shape_override *ov,
                               int n_ov, int *ndim, int64_t *dims);
/* Session options every running verb takes: --threads N, --impl auto|ref,
 * --no-optimize. Returns 1 if argv[*i] was one (and *i moved past its
 * value), 0 if not, -1 after printing an error. */
int mec_cli_sess_option(const char *verb, int argc, char **argv, int *i, mec_sess_options *opt);
/* Prints "mecbench VERB: <last error>" to stderr. */
void mec_cli_fail(const char *verb);

#endif
