/* mecbench ops: census of a model — inputs/outputs, opsets, op histogram,
 * parameters, FLOPs for the given input shapes, and every op we cannot run. */
#include "cli.h"

#include "mec/onnx.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IO 64
#define MAX_KINDS 512

static void usage(FILE *f) {
    fprintf(f,
            "usage: mecbench ops MODEL [options]\n\n"
            "Census of an ONNX model: inputs and outputs, opsets, how many nodes of each op,\n"
            "parameters, FLOPs for the given input shapes, and every op (with its opset) that\n"
            "mecbench cannot run.\n\n"
            "options:\n"
            "  --shape NAME=DIMS   input shape for dynamic dims (default 1 for each)\n"
            "  --json              machine-readable census\n"
            "  --check             exit status 1 if any op is unsupported\n"
            "  -h, --help          this help\n");
}

typedef struct kind {
    const char *op, *domain;
    int64_t opset;
    int count;
    bool supported;
    int64_t flops;
} kind;

static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

static void dims_str(const mec_value *v, char *buf, size_t n) {
    size_t used = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < v->ndim && used < n; d++) {
        if (v->dims[d] >= 0)
            used += (size_t)snprintf(buf + used, n - used, d ? ", %" PRId64 : "%" PRId64, v->dims[d]);
        else
            used += (size_t)snprintf(buf + used, n - used, d ? ", %s" : "%s",
                                     v->dim_names[d] ? v->dim_names[d] : "?");
    }
    if (used < n) snprintf(buf + used, n - used, ")");
    if (v->ndim < 0) snprintf(buf, n, "(unknown rank)");
}

int mec_cli_ops(int argc, char **argv) {
    const char *model = NULL;
    bool json = false, check = false;
    mec_cli_shape_override shapes[MAX_IO];
    int n_shapes = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--check")) {
            check = true;
        } else if (!strcmp(a, "--shape") && i + 1 < argc) {
            const char *val;
            if (n_shapes == MAX_IO ||
                mec_cli_parse_named(argv[++i], shapes[n_shapes].name, sizeof shapes[n_shapes].name, &val) ||
                (shapes[n_shapes].ndim = mec_cli_parse_shape(val, shapes[n_shapes].dims)) < 0) {
                fprintf(stderr, "mecbench ops: --shape '%s': expected NAME=DIMS like x=1x3x224x224\n", argv[i]);
                return 2;
            }
            n_shapes++;
        } else if (a[0] == '-') {
            fprintf(stderr, "mecbench ops: unknown or incomplete option '%s' (see --help)\n", a);
            return 2;
        } else if (!model) {
            model = a;
        } else {
            fprintf(stderr, "mecbench ops: unexpected argument '%s'\n", a);
            return 2;
        }
    }
    if (!model) {
        usage(stderr);
        return 2;
    }
    mec_graph *g = NULL;
    if (mec_onnx_load(model, &g)) {
        mec_cli_fail("ops");
        return 1;
    }
    /* histogram of (op, domain) with support at the model's opset */
    kind *kinds = calloc(MAX_KINDS, sizeof *kinds);
    int n_kinds = 0, n_unsupported = 0;
    int64_t params = 0, param_bytes = 0;
    for (int i = 0; i < g->n_nodes && kinds; i++) {
        const mec_node *n = &g->nodes[i];
        int k = 0;
        while (k < n_kinds && (strcmp(kinds[k].op, n->op_type) || strcmp(kinds[k].domain, n->domain))) k++;
        if (k == n_kinds) {
            if (n_kinds == MAX_KINDS) continue;
            int64_t opset = mec_graph_opset(g, n->domain);
            kinds[k] = (kind){n->op_type, n->domain, opset, 0,
                              mec_op_find(n->domain, n->op_type, opset, "auto") != NULL, 0};
            if (!kinds[k].supported) n_unsupported++;
            n_kinds++;
        }
        kinds[k].count++;
    }
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].init) {
            params += mec_tensor_numel(g->values[v].init);
            param_bytes += (int64_t)mec_tensor_bytes(g->values[v].init);
        }
    /* FLOPs need shapes: a session, then static inference for the input shapes */
    int64_t total_flops = -1;
    const char *flops_note = NULL;
    mec_sess *sess = NULL;
    mec_sess_options opt;
    mec_sess_options_default(&opt);
    opt.optimize = false; /* the census is of the model as written (same value ids as g) */
    if (!n_unsupported && !mec_sess_create(g, &opt, &sess)) {
        mec_tensor *info = calloc((size_t)g->n_values + 1, sizeof *info);
        mec_tensor meta[MAX_IO];
        const mec_tensor *meta_p[MAX_IO];
        const char *names[MAX_IO];
        int n_in = 0;
        bool ok = info && g->n_inputs <= MAX_IO;
        for (int k = 0; ok && k < g->n_inputs; k++) {
            int nd;
            int64_t dims[MEC_MAX_DIMS];
            const mec_value *v = &g->values[g->inputs[k]];
            if (mec_cli_input_shape(g, k, shapes, n_shapes, &nd, dims) ||
                mec_tensor_init(&meta[n_in], v->dtype ? v->dtype : MEC_F32, nd, dims)) {
                ok = false;
                break;
            }
            meta_p[n_in] = &meta[n_in];
            names[n_in++] = v->name;
        }
        if (ok && !mec_sess_infer_shapes(sess, n_in, names, meta_p, info)) {
            total_flops = 0;
            for (int i = 0; i < g->n_nodes; i++) {
                const mec_node *n = &g->nodes[i];
                const mec_kernel *kern = mec_op_find(n->domain, n->op_type, mec_graph_opset(g, n->domain), "auto");
                if (!kern || !kern->flops || n->n_in > 64 || n->n_out > 64) continue;
                const mec_tensor *in_p[64];
                mec_tensor *out_p[64];
                bool known = true;
                for (int j = 0; j < n->n_in; j++) {
                    in_p[j] = n->in[j] >= 0 ? &info[n->in[j]] : NULL;
                    if (in_p[j] && in_p[j]->ndim < 0) known = false;
                }
                for (int j = 0; j < n->n_out; j++) {
                    out_p[j] = n->out[j] >= 0 ? &info[n->out[j]] : NULL;
                    if (out_p[j] && out_p[j]->ndim < 0) known = false;
                }
                if (!known) continue;
                mec_op_ctx ctx = {g, i, n, mec_graph_opset(g, n->domain), n->n_in, in_p, n->n_out, out_p, NULL, NULL, 0, 0, 0, 0};
                int64_t f = kern->flops(&ctx);
                total_flops += f;
                for (int k = 0; k < n_kinds; k++)
                    if (!strcmp(kinds[k].op, n->op_type) && !strcmp(kinds[k].domain, n->domain)) kinds[k].flops += f;
            }
        } else {
            flops_note = mec_last_error();
        }
        if (info)
            for (int v = 0; v < g->n_values; v++) mec_tensor_release(&info[v]);
        free(info);
    } else if (n_unsupported) {
        flops_note = "not computed: the model has unsupported ops";
    } else {
        flops_note = mec_last_error();
    }
    if (json) {
        printf("{\"model\": ");
        json_str(model);
        printf(", \"ir_version\": %" PRId64 ", \"producer\": ", g->ir_version);
        json_str(g->producer_name ? g->producer_name : "");
        printf(", \"opsets\": {");
        for (int i = 0; i < g->n_opsets; i++) {
            printf(i ? ", " : "");
            json_str(g->opsets[i].domain[0] ? g->opsets[i].domain : "ai.onnx");
            printf(": %" PRId64, g->opsets[i].version);
        }
        printf("}, \"nodes\": %d, \"parameters\": %" PRId64 ", \"parameter_bytes\": %" PRId64
               ", \"flops\": %" PRId64 ",\n \"ops\": [",
               g->n_nodes, params, param_bytes, total_flops);
        for (int k = 0; k < n_kinds; k++) {
            printf(k ? ",\n  {\"op\": " : "\n  {\"op\": ");
            json_str(kinds[k].op);
            printf(", \"domain\": ");
            json_str(kinds[k].domain[0] ? kinds[k].domain : "ai.onnx");
            printf(", \"opset\": %" PRId64 ", \"count\": %d, \"supported\": %s, \"flops\": %" PRId64 "}",
                   kinds[k].opset, kinds[k].count, kinds[k].supported ? "true" : "false", kinds[k].flops);
        }
        printf("],\n \"unsupported\": [");
        int u = 0;
        for (int k = 0; k < n_kinds; k++)
            if (!kinds[k].supported) {
                printf(u++ ? ", " : "");
                json_str(kinds[k].op);
            }
        printf("]}\n");
    } else {
        char buf[512];
        printf("model       %s\n", model);
        printf("producer    %s %s, IR version %" PRId64 "\n", g->producer_name ? g->producer_name : "?",
               g->producer_version ? g->producer_version : "", g->ir_version);
        printf("opsets     ");
        for (int i = 0; i < g->n_opsets; i++)
            printf(" %s %" PRId64, g->opsets[i].domain[0] ? g->opsets[i].domain : "ai.onnx", g->opsets[i].version);
        printf("\ninputs\n");
        for (int i = 0; i < g->n_inputs; i++) {
            const mec_value *v = &g->values[g->inputs[i]];
            dims_str(v, buf, sizeof buf);
            printf("  %-30s %-8s %s\n", v->name, mec_dtype_name(v->dtype), buf);
        }
        printf("outputs\n");
        for (int i = 0; i < g->n_outputs; i++) {
            const mec_value *v = &g->values[g->outputs[i]];
            dims_str(v, buf, sizeof buf);
            printf("  %-30s %-8s %s\n", v->name, mec_dtype_name(v->dtype), buf);
        }
        printf("parameters  %" PRId64 " (%.1f MB)\n", params, (double)param_bytes / 1e6);
        if (total_flops >= 0) {
            double f = (double)total_flops;
            const char *unit = f >= 1e9 ? "G" : f >= 1e6 ? "M" : f >= 1e3 ? "K" : "";
            double div = f >= 1e9 ? 1e9 : f >= 1e6 ? 1e6 : f >= 1e3 ? 1e3 : 1;
            printf("FLOPs       %.3f %s for the input shapes above (dynamic dims = 1 unless --shape)\n",
                   f / div, unit);
        }
        else printf("FLOPs       %s\n", flops_note ? flops_note : "unknown");
        printf("nodes       %d\n\n%-28s %-16s %6s %6s  %s\n", g->n_nodes, "op", "domain", "opset", "nodes", "support");
        for (int k = 0; k < n_kinds; k++)
            printf("%-28s %-16s %6" PRId64 " %6d  %s\n", kinds[k].op, kinds[k].domain[0] ? kinds[k].domain : "ai.onnx",
                   kinds[k].opset, kinds[k].count, kinds[k].supported ? "yes" : "NOT SUPPORTED");
        if (n_unsupported) {
            printf("\n%d op%s cannot run in mecbench:", n_unsupported, n_unsupported == 1 ? "" : "s");
            for (int k = 0; k < n_kinds; k++)
                if (!kinds[k].supported)
                    printf(" %s(%s opset %" PRId64 ")", kinds[k].op, kinds[k].domain[0] ? kinds[k].domain : "ai.onnx", kinds[k].opset);
            printf("\n");
        } else {
            printf("\nevery op is supported\n");
        }
    }
    mec_sess_destroy(sess);
    free(kinds);
    mec_graph_destroy(g);
    return check && n_unsupported ? 1 : 0;
}
