/* Training-step throughput of mecbench's engine on the zoo's resnet-small
 * and bert-small, the same work bench/train_bench.py times in PyTorch: a
 * fixed random batch, then per step zero grads, forward, cross-entropy,
 * backward, (clip,) optimiser update. One JSON object per model on stdout:
 *   {"engine": "mecbench", "model", "batch", "threads", "steps", "samples_per_s", "ms_per_step"}
 * usage: train_bench [--models resnet,bert] [--threads N] [--batch-resnet N]
 *                    [--batch-bert N] [--seq N] [--steps N] [--warmup N] */
#include "mec/mec.h"
#include "mec/train.h"
#include "mec/zoo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int fail(const char *what) {
    fprintf(stderr, "train_bench: %s: %s\n", what, mec_last_error());
    return 1;
}

static int bench(const char *preset, int batch, int seq, int threads, int steps, int warmup) {
    bool text = !strcmp(preset, "bert-small");
    mec_graph *g = NULL;
    mec_zoo_overrides ov = {0};
    if (text) ov.height = seq;
    if (mec_zoo_build(preset, &ov, &g)) return fail(preset);
    mec_train_config cfg;
    mec_train_config_default(&cfg);
    cfg.threads = threads;
    if (text) {
        cfg.optim = MEC_OPTIM_ADAMW;
        cfg.lr = 5e-4f;
        cfg.weight_decay = 0.01f;
        cfg.clip_norm = 1.0f;
    } else {
        cfg.lr = 0.01f;
        cfg.nesterov = true;
        cfg.weight_decay = 5e-4f;
    }
    mec_trainer *tr = NULL;
    if (mec_train_create(g, &cfg, &tr)) return fail("train_create");
    mec_tensor *in[2] = {NULL, NULL}, *labels = NULL;
    const char *names[2];
    int n_in;
    int64_t ldims[1] = {batch};
    if (mec_tensor_create(&labels, MEC_I64, 1, ldims)) return fail("labels");
    if (text) {
        int64_t dims[2] = {batch, seq};
        if (mec_tensor_create(&in[0], MEC_I64, 2, dims) || mec_tensor_create(&in[1], MEC_I64, 2, dims))
            return fail("inputs");
        for (int64_t i = 0; i < (int64_t)batch * seq; i++) {
            ((int64_t *)in[0]->data)[i] = 5 + (int64_t)(next_u64() % 3995);
            ((int64_t *)in[1]->data)[i] = 1;
        }
        names[0] = "input_ids";
        names[1] = "attention_mask";
        n_in = 2;
        for (int i = 0; i < batch; i++) ((int64_t *)labels->data)[i] = (int64_t)(next_u64() % 8);
    } else {
        int64_t dims[4] = {batch, 1, 28, 28};
        if (mec_tensor_create(&in[0], MEC_F32, 4, dims)) return fail("inputs");
        for (int64_t i = 0; i < (int64_t)batch * 784; i++)
            ((float *)in[0]->data)[i] = (float)((double)(next_u64() >> 11) / 9007199254740992.0 * 2 - 1);
        names[0] = "input";
        n_in = 1;
        for (int i = 0; i < batch; i++) ((int64_t *)labels->data)[i] = (int64_t)(next_u64() % 10);
    }
    mec_train_batch b = {n_in, names, (const mec_tensor *const *)in, labels, NULL};
    float loss;
    for (int s = 0; s < warmup; s++)
        if (mec_train_step(tr, &b, &loss)) return fail("step");
    double t0 = mec_now_ms();
    for (int s = 0; s < steps; s++)
        if (mec_train_step(tr, &b, &loss)) return fail("step");
    double ms = mec_now_ms() - t0;
    printf("{\"engine\": \"mecbench\", \"model\": \"%s\", \"batch\": %d, \"threads\": %d, \"steps\": %d, "
           "\"samples_per_s\": %.3f, \"ms_per_step\": %.3f, \"final_loss\": %.5f}\n",
           preset, batch, mec_threads_get(), steps, (double)batch * steps / (ms / 1000.0), ms / steps,
           (double)loss);
    fflush(stdout);
    mec_tensor_destroy(in[0]);
    mec_tensor_destroy(in[1]);
    mec_tensor_destroy(labels);
    mec_train_destroy(tr);
    mec_graph_destroy(g);
    return 0;
}

int main(int argc, char **argv) {
    const char *models = "resnet,bert";
    int threads = 1, batch_resnet = 128, batch_bert = 32, seq = 64, steps = 20, warmup = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        int n = atoi(v);
        if (!strcmp(a, "--models")) models = v;
        else if (!strcmp(a, "--threads") && n > 0) threads = n;
        else if (!strcmp(a, "--batch-resnet") && n > 0) batch_resnet = n;
        else if (!strcmp(a, "--batch-bert") && n > 0) batch_bert = n;
        else if (!strcmp(a, "--seq") && n >= 8) seq = n;
        else if (!strcmp(a, "--steps") && n > 0) steps = n;
        else if (!strcmp(a, "--warmup") && n >= 0) warmup = n;
        else {
            fprintf(stderr, "train_bench: bad option '%s %s'\n", a, v);
            return 2;
        }
    }
    int rc = 0;
    if (strstr(models, "resnet")) rc |= bench("resnet-small", batch_resnet, seq, threads, steps, warmup);
    if (strstr(models, "bert")) rc |= bench("bert-small", batch_bert, seq, threads, steps, warmup);
    return rc;
}
