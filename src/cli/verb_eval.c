/* mecbench eval: the accuracy of an ONNX model on a split of a dataset —
 * top-1/top-5/macro-F1 (classification) or mIoU/pixel accuracy
 * (segmentation) — with the same batches and metrics as `mecbench train`. */
#include "cli.h"
#include "train_common.h"

#include "mec/onnx.h"

#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: mecbench eval MODEL.onnx [--dataset NAME] [options]\n\n"
            "Evaluates MODEL on a split of a dataset: top-1, top-5, macro-F1 and the majority-class\n"
            "baseline for classification (fashion-mnist, fortunes), mIoU, pixel accuracy and the\n"
            "all-background baseline for segmentation (fashion-seg). A model written by\n"
            "`mecbench train` remembers its dataset, token length and batch size, so its test\n"
            "metric is reproduced exactly.\n\n"
            "options:\n"
            "  --dataset NAME         fashion-mnist | fashion-seg | fortunes (default: the one the\n"
            "                         model was trained on)\n"
            "  --split val|test       the split (default test)\n"
            "  --subset N             the first N items of the split\n"
            "  --batch N              batch size (default: the trainer's, else 200)\n"
            "  --tokenizer FILE       text: the WordPiece vocabulary (default: tokenizer.txt next to\n"
            "                         the model, else one trained on the train split)\n"
            "  --max-len N            text: tokens per item (default: the trainer's, else 128)\n"
            "  --threads N            threads (default: cores available)\n"
            "  --impl auto|ref        kernels (default auto)\n"
            "  --json                 machine-readable result on stdout\n"
        "  --conv-algo auto|direct  3x3 convolutions: Winograd where faster (default) or\n"
        "                         direct summation only\n"
            "  -h, --help             this help\n");
}

typedef struct eval_sess {
    mec_sess *sess;
    const char *out_name;
} eval_sess;

static mec_status eval_forward(void *ctx, const mec_cli_feed *feed, mec_tensor **logits) {
    eval_sess *s = ctx;
    return mec_sess_run(s->sess, feed->n, feed->names, feed->tensors, 1, &s->out_name, logits);
}

int mec_cli_eval(int argc, char **argv) {
    const char *model = NULL, *dataset = NULL, *tok_path = NULL, *split_name = "test";
    long subset = 0, batch = 0, max_len = 0;
    bool json = false;
    mec_sess_options so;
    mec_sess_options_default(&so);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc, ok = true;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) json = true;
        else if (a[0] == '-' && !has_val) {
            fprintf(stderr, "mecbench eval: option '%s' needs a value (or is unknown; see --help)\n", a);
            return 2;
        } else if (!strcmp(a, "--dataset")) dataset = argv[++i];
        else if (!strcmp(a, "--split")) split_name = argv[++i];
        else if (!strcmp(a, "--subset")) ok = mec_cli_parse_int(argv[++i], 1, 1L << 40, &subset);
        else if (!strcmp(a, "--batch")) ok = mec_cli_parse_int(argv[++i], 1, 65536, &batch);
        else if (!strcmp(a, "--max-len")) ok = mec_cli_parse_int(argv[++i], 8, 4096, &max_len);
        else if (!strcmp(a, "--tokenizer")) tok_path = argv[++i];
        else if (!strcmp(a, "--threads")) {
            long v;
            ok = mec_cli_parse_int(argv[++i], 1, 1024, &v);
            so.threads = (int)v;
        } else if (!strcmp(a, "--impl")) {
            so.impl = argv[++i];
            ok = !strcmp(so.impl, "auto") || !strcmp(so.impl, "ref");
        } else if (!strcmp(a, "--conv-algo")) {
            so.conv_algo = argv[++i];
            ok = !strcmp(so.conv_algo, "auto") || !strcmp(so.conv_algo, "direct") ||
                 !strcmp(so.conv_algo, "winograd");
        } else if (a[0] == '-') {
            fprintf(stderr, "mecbench eval: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (!model) model = a;
        else {
            fprintf(stderr, "mecbench eval: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "mecbench eval: bad value '%s' for %s (see --help)\n", argv[i], a);
            return 2;
        }
    }
    if (!model) {
        usage(stderr);
        return 2;
    }
    mec_split split;
    if (mec_split_parse(split_name, &split) || split == MEC_SPLIT_TRAIN) {
        fprintf(stderr, "mecbench eval: --split '%s': expected val or test\n", split_name);
        return 2;
    }
    if (so.threads > 0) mec_threads_set(so.threads);
    int rc = 1;
    mec_graph *g = NULL;
    mec_sess *sess = NULL;
    mec_tok *tok = NULL;
    mec_dataset *ds_train = NULL, *ds = NULL;
    mec_status st = mec_onnx_load(model, &g);
    if (st) goto fail;
    const char *trained_on = mec_cli_graph_meta(g, "mecbench.train.dataset");
    if (!dataset) dataset = trained_on;
    if (!dataset) {
        fprintf(stderr, "mecbench eval: %s does not say what it was trained on: give --dataset\n", model);
        rc = 2;
        goto done;
    }
    mec_dataset_kind kind;
    if (mec_dataset_kind_parse(dataset, &kind)) {
        fprintf(stderr, "mecbench eval: unknown dataset '%s' (fashion-mnist, fashion-seg, fortunes)\n", dataset);
        rc = 2;
        goto done;
    }
    const char *meta;
    if (!batch && (meta = mec_cli_graph_meta(g, "mecbench.train.eval_batch"))) batch = atol(meta);
    if (batch < 1) batch = 200;
    mec_cli_data_shape shape;
    if ((st = mec_cli_data_shape_of(g, kind, &shape))) goto fail;
    if (kind == MEC_DATASET_FORTUNES) {
        if (max_len) shape.max_len = (int)max_len;
        else if ((meta = mec_cli_graph_meta(g, "mecbench.train.max_len"))) shape.max_len = atoi(meta);
        if (shape.max_len < 8 || shape.max_len > 4096) shape.max_len = 128;
        char beside[4096];
        if (!tok_path) {
            char copy[4096];
            snprintf(copy, sizeof copy, "%s", model);
            snprintf(beside, sizeof beside, "%s/tokenizer.txt", dirname(copy));
            if (access(beside, R_OK) == 0) tok_path = beside;
        }
        if (tok_path) {
            if ((st = mec_tok_load(tok_path, &tok))) goto fail;
        } else {
            /* the train split's tokenizer, as `mecbench train` made it */
            if ((st = mec_cli_dataset_open(kind, MEC_SPLIT_TRAIN, 0, 1, &shape, NULL, &ds_train))) goto fail;
        }
    }
    const mec_tok *use_tok = tok ? tok : ds_train ? mec_dataset_tokenizer(ds_train) : NULL;
    if ((st = mec_cli_dataset_open(kind, split, 0, subset, &shape, use_tok, &ds))) goto fail;
    if ((st = mec_sess_create(g, &so, &sess))) goto fail;
    eval_sess es = {sess, g->values[g->outputs[0]].name};
    mec_cli_eval_result res;
    if ((st = mec_cli_evaluate(ds, g, batch, eval_forward, &es, !json && isatty(2), "evaluating", &res)))
        goto fail;
    if (json) {
        printf("{\n  \"model\": \"%s\",\n  \"dataset\": \"%s\",\n  \"split\": \"%s\",\n  \"task\": \"%s\",\n",
               model, mec_dataset_kind_name(kind), mec_split_name(split),
               res.task == MEC_TASK_SEGMENT ? "segment" : "classify");
        mec_cli_eval_json(stdout, &res, "  ");
        printf("\n}\n");
    } else {
        printf("%s on %s %s: ", model, mec_dataset_kind_name(kind), mec_split_name(split));
        mec_cli_eval_print(stdout, &res);
    }
    rc = 0;
    goto done;
fail:
    mec_cli_fail("eval");
done:
    mec_sess_destroy(sess);
    mec_graph_destroy(g);
    mec_dataset_close(ds);
    mec_dataset_close(ds_train);
    mec_tok_destroy(tok);
    return rc;
}
