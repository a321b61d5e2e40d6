/* mecbench: the command-line front end. One file per verb; this one only
 * dispatches. */
#include "cli.h"

#include "mec/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const mec_cli_verb verbs[] = {
    {"ops", "census of a model: ops, opsets, parameters, FLOPs, unsupported ops", mec_cli_ops, false},
    {"infer", "run a model on input files and print or save its outputs", mec_cli_infer, false},
    {"bench", "time a model: warm-up, N runs, percentiles, load time, peak RSS", mec_cli_bench, false},
    {"import", "load measurements (the studies' CSVs or ours) into a results database", mec_cli_import, false},
    {"analyze", "statistics, effect sizes and speed-ups over a results database or CSV", mec_cli_analyze, false},
    {"recommend", "the best strategy under latency/accuracy constraints, and the Pareto frontier", mec_cli_recommend, false},
    {"report", "one HTML page with plots, plus Markdown, CSV and LaTeX tables", mec_cli_report, false},
    {"zoo", "list the model zoo, or build a preset (ResNet ... RoBERTa) as ONNX", mec_cli_zoo, false},
    {"train", "train a zoo preset or ONNX model on fashion-mnist, fashion-seg or fortunes", mec_cli_train, true},
    {"eval", "accuracy of a model on a dataset split (top-1/top-5/F1, mIoU)", mec_cli_eval, false},
    {"version", "print the version", mec_cli_version, false},
};

static void usage(FILE *f) {
    fprintf(f, "usage: mecbench <verb> [options]   (mecbench <verb> --help for details)\n\n"
               "mecbench measures how deployment operators and placements across mobile, edge\n"
               "and cloud tiers trade latency for accuracy.\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
}

/* Under a CPU quota (a tier's cgroup), OpenMP threads that spin while they
 * wait burn the quota and slow everything down; so do they on a shared
 * machine during long runs (training). libgomp reads its wait policy only at
 * start-up, so set it and start again. An explicit OMP_WAIT_POLICY is left
 * alone. */
static void wait_passively(char **argv, bool always) {
    if (getenv("OMP_WAIT_POLICY") || !(always || mec_cpu_quota_cores())) return;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);
    /* if exec fails we simply go on with the default policy */
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("mecbench %s\n", MEC_CLI_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[1], verbs[i].name)) {
            wait_passively(argv, verbs[i].passive);
            return verbs[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "mecbench: unknown verb '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
