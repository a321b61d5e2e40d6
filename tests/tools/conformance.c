/* ONNX backend conformance: runs the node/simple/pytorch test cases that
 * Debian's libonnx-testdata ships through a mecbench session and compares
 * every output (rtol 1e-3, atol 1e-5; integers and bools exact). Each case
 * runs in a child process with a time limit, so a crash or a hang is a
 * failure of that case, not of the runner. A case that does not pass must be
 * listed in the skip file with its reason; a listed case that passes is
 * reported so that the list stays honest.
 *
 *   conformance [--filter SUBSTR]... [--impl ref|auto] [--skip-file F] [-v] [DIR...]
 */
#define _POSIX_C_SOURCE 200809L
#include "mec/onnx.h"
#include "mec/runtime.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DATA_ROOT "/usr/share/libonnx-testdata/data"
#define RTOL 1e-3
#define ATOL 1e-5
#define CASE_TIMEOUT_S 60

typedef struct skip_entry {
    char *pattern; /* exact name, or prefix ending in '*' */
    char *reason;
} skip_entry;

static skip_entry *skips;
static int n_skips;
static const char *impl = "auto";
static int verbose;

static void load_skips(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "conformance: cannot read skip file %s: %s\n", path, strerror(errno));
        return;
    }
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '#' || *p == '\n' || !*p) continue;
        char *end = p;
        while (*end && *end != ' ' && *end != '\t' && *end != '\n') end++;
        char *reason = end;
        while (*reason == ' ' || *reason == '\t') reason++;
        *end = '\0';
        reason[strcspn(reason, "\n")] = '\0';
        skips = realloc(skips, sizeof *skips * (size_t)(n_skips + 1));
        skips[n_skips].pattern = strdup(p);
        skips[n_skips].reason = strdup(*reason ? reason : "(no reason given)");
        n_skips++;
    }
    fclose(f);
}

static const char *skip_reason(const char *name) {
    for (int i = 0; i < n_skips; i++) {
        const char *pat = skips[i].pattern;
        size_t n = strlen(pat);
        if (n && pat[n - 1] == '*') {
            if (!strncmp(name, pat, n - 1)) return skips[i].reason;
        } else if (!strcmp(name, pat)) {
            return skips[i].reason;
        }
    }
    return NULL;
}

static bool is_float(mec_dtype t) {
    return t == MEC_F32 || t == MEC_F64 || t == MEC_F16 || t == MEC_BF16;
}

/* Compares got with want; writes a reason into msg on mismatch. */
static bool compare(const mec_tensor *got, const mec_tensor *want, char *msg, size_t n) {
    char a[160], b[160];
    if (got->dtype != want->dtype) {
        snprintf(msg, n, "dtype %s, expected %s", mec_dtype_name(got->dtype),
                 mec_dtype_name(want->dtype));
        return false;
    }
    if (!mec_tensor_same_shape(got, want)) {
        snprintf(msg, n, "shape %s, expected %s", mec_shape_str(got->ndim, got->shape, a, sizeof a),
                 mec_shape_str(want->ndim, want->shape, b, sizeof b));
        return false;
    }
    int64_t cnt = mec_tensor_numel(want);
    for (int64_t i = 0; i < cnt; i++) {
        if (is_float(want->dtype)) {
            double x = mec_tensor_get_f64(got, i), y = mec_tensor_get_f64(want, i);
            if (isnan(x) && isnan(y)) continue;
            if (isinf(y) && x == y) continue;
            if (!(fabs(x - y) <= ATOL + RTOL * fabs(y))) {
                snprintf(msg, n, "element %lld = %.9g, expected %.9g", (long long)i, x, y);
                return false;
            }
        } else {
            int64_t x = mec_tensor_get_i64(got, i), y = mec_tensor_get_i64(want, i);
            if (x != y) {
                snprintf(msg, n, "element %lld = %lld, expected %lld", (long long)i, (long long)x,
                         (long long)y);
                return false;
            }
        }
    }
    return true;
}

/* Runs one case (in the child). Returns 0 pass, 1 fail, 2 unsupported;
 * writes a one-line reason into msg. */
static int run_case(const char *dir, char *msg, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    mec_sess_options opt;
    mec_sess_options_default(&opt);
    opt.impl = impl;
    opt.threads = 1;
    mec_sess *s = NULL;
    mec_status st = mec_sess_load(path, &opt, &s);
    if (st) {
        snprintf(msg, n, "%s", mec_last_error());
        for (char *p = msg; *p; p++)
            if (*p == '\n') *p = ' ';
        return st == MEC_ERR_UNSUPPORTED ? 2 : 1;
    }
    const mec_graph *g = mec_sess_graph(s);
    int result = 0;
    for (int set = 0; result == 0; set++) {
        char sdir[4096];
        snprintf(sdir, sizeof sdir, "%s/test_data_set_%d", dir, set);
        struct stat sb;
        if (stat(sdir, &sb) != 0) {
            if (set == 0) {
                snprintf(msg, n, "no test_data_set_0");
                result = 1;
            }
            break;
        }
        mec_tensor *inputs[64] = {0};
        const char *names[64];
        int n_in = 0;
        for (; n_in < 64; n_in++) {
            snprintf(path, sizeof path, "%s/input_%d.pb", sdir, n_in);
            if (stat(path, &sb) != 0) break;
            char *name = NULL;
            st = mec_tensor_load_pb(path, &inputs[n_in], &name);
            if (st) {
                snprintf(msg, n, "input_%d.pb: %s", n_in, mec_last_error());
                result = st == MEC_ERR_UNSUPPORTED ? 2 : 1;
                free(name);
                break;
            }
            /* the .pb name is usually the graph input's; fall back to order */
            if (n_in < g->n_inputs && (!name || !*name || mec_graph_find(g, name) < 0))
                names[n_in] = g->values[g->inputs[n_in]].name;
            else
                names[n_in] = name ? name : "";
            /* ONNX test data stores bfloat16 tensors as uint16 bit patterns */
            int v = mec_graph_find(g, names[n_in]);
            if (v >= 0 && g->values[v].dtype == MEC_BF16 && inputs[n_in]->dtype == MEC_U16)
                inputs[n_in]->dtype = MEC_BF16;
        }
        if (result) break;
        mec_tensor *outs[64] = {0};
        int n_out = g->n_outputs;
        if (n_out > 64) n_out = 64;
        st = mec_sess_run(s, n_in, names, (const mec_tensor *const *)inputs, n_out, NULL, outs);
        if (st) {
            snprintf(msg, n, "run: %s", mec_last_error());
            result = st == MEC_ERR_UNSUPPORTED ? 2 : 1;
        }
        for (int o = 0; o < n_out && !result; o++) {
            snprintf(path, sizeof path, "%s/output_%d.pb", sdir, o);
            mec_tensor *want = NULL;
            st = mec_tensor_load_pb(path, &want, NULL);
            if (st) {
                snprintf(msg, n, "output_%d.pb: %s", o, mec_last_error());
                result = st == MEC_ERR_UNSUPPORTED ? 2 : 1;
                break;
            }
            if (want->dtype == MEC_U16 && outs[o]->dtype == MEC_BF16) want->dtype = MEC_BF16;
            char why[512];
            if (!compare(outs[o], want, why, sizeof why)) {
                snprintf(msg, n, "set %d output %d ('%s'): %s", set, o,
                         g->values[g->outputs[o]].name, why);
                result = 1;
            }
            mec_tensor_destroy(want);
        }
        for (int o = 0; o < n_out; o++) mec_tensor_destroy(outs[o]);
        for (int i = 0; i < n_in; i++) mec_tensor_destroy(inputs[i]);
    }
    mec_sess_destroy(s);
    return result;
}

typedef struct tally {
    int pass, fail, skip, stale;
} tally;

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void run_dir(const char *root, char **filters, int n_filters, tally *t) {
    DIR *d = opendir(root);
    if (!d) {
        fprintf(stderr, "conformance: cannot open %s: %s\n", root, strerror(errno));
        t->fail++;
        return;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "test_", 5)) continue;
        names = realloc(names, sizeof *names * (size_t)(n + 1));
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        const char *name = names[i];
        bool match = n_filters == 0;
        for (int f = 0; f < n_filters && !match; f++) match = strstr(name, filters[f]) != NULL;
        if (!match) continue;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", root, name);
        int pipefd[2];
        char msg[1024] = "";
        int result;
        if (pipe(pipefd) != 0) {
            perror("pipe");
            exit(2);
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(pipefd[0]);
            alarm(CASE_TIMEOUT_S);
            int r = run_case(dir, msg, sizeof msg);
            char buf[1100];
            int len = snprintf(buf, sizeof buf, "%d %s", r, msg);
            if (write(pipefd[1], buf, (size_t)len) < 0) _exit(3);
            _exit(0);
        }
        close(pipefd[1]);
        char buf[1100];
        ssize_t got = 0, r;
        while ((r = read(pipefd[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0) got += r;
        buf[got] = '\0';
        close(pipefd[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        if (got > 0) {
            result = atoi(buf);
            const char *sp = strchr(buf, ' ');
            snprintf(msg, sizeof msg, "%s", sp ? sp + 1 : "");
        } else if (WIFSIGNALED(status)) {
            result = 1;
            snprintf(msg, sizeof msg, "%s (signal %d)",
                     WTERMSIG(status) == SIGALRM ? "timed out" : "crashed", WTERMSIG(status));
        } else {
            result = 1;
            snprintf(msg, sizeof msg, "child exited with status %d", WEXITSTATUS(status));
        }
        const char *reason = skip_reason(name);
        const char *label;
        if (result == 0 && reason) {
            label = "STALE";
            t->stale++;
            snprintf(msg, sizeof msg, "passes but is in the skip list (%s): remove the entry", reason);
        } else if (result == 0) {
            label = "pass";
            t->pass++;
        } else if (reason) {
            label = "skip";
            t->skip++;
            snprintf(msg, sizeof msg, "%s", reason);
        } else {
            label = "FAIL";
            t->fail++;
        }
        if (verbose || (label[0] != 'p' && label[0] != 's'))
            printf("%-5s %-58s %s\n", label, name, msg);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv) {
    char *filters[64];
    int n_filters = 0;
    const char *dirs[16];
    int n_dirs = 0;
    const char *skip_file = "tests/conformance/skip.txt";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--filter") && i + 1 < argc && n_filters < 64) filters[n_filters++] = argv[++i];
        else if (!strcmp(argv[i], "--impl") && i + 1 < argc) impl = argv[++i];
        else if (!strcmp(argv[i], "--skip-file") && i + 1 < argc) skip_file = argv[++i];
        else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) verbose = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: conformance [--filter SUBSTR]... [--impl ref|auto] [--skip-file F] [-v] "
                   "[DIR...]\nDefault DIRs: %s/{node,simple,pytorch-converted,pytorch-operator}\n",
                   DATA_ROOT);
            return 0;
        } else if (argv[i][0] != '-' && n_dirs < 16) dirs[n_dirs++] = argv[i];
        else {
            fprintf(stderr, "conformance: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    load_skips(skip_file);
    static const char *const defaults[] = {DATA_ROOT "/node", DATA_ROOT "/simple",
                                           DATA_ROOT "/pytorch-converted",
                                           DATA_ROOT "/pytorch-operator"};
    if (!n_dirs)
        for (int i = 0; i < 4; i++) dirs[n_dirs++] = defaults[i];
    tally total = {0, 0, 0, 0};
    printf("%-18s %6s %6s %6s %6s\n", "suite", "pass", "fail", "skip", "stale");
    for (int i = 0; i < n_dirs; i++) {
        tally t = {0, 0, 0, 0};
        run_dir(dirs[i], filters, n_filters, &t);
        const char *base = strrchr(dirs[i], '/');
        printf("%-18s %6d %6d %6d %6d\n", base ? base + 1 : dirs[i], t.pass, t.fail, t.skip, t.stale);
        total.pass += t.pass;
        total.fail += t.fail;
        total.skip += t.skip;
        total.stale += t.stale;
    }
    printf("%d passed, %d failed, %d skipped\n", total.pass, total.fail + total.stale, total.skip);
    return total.fail + total.stale ? 1 : 0;
}
