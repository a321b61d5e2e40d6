/* Optimisers (SGD with momentum/Nesterov/L2, AdamW with decoupled decay),
 * learning-rate schedules with linear warm-up, and global-norm gradient
 * clipping. Update rules follow torch.optim.SGD and torch.optim.AdamW so a
 * step can be cross-checked against PyTorch. */
#include "train_internal.h"

#include <math.h>
#include <string.h>

float mec_train_lr(const mec_train_config *cfg, int64_t step) {
    double lr = cfg->lr;
    if (step < 0) step = 0;
    if (cfg->warmup_steps > 0 && step < cfg->warmup_steps)
        return (float)(lr * (double)(step + 1) / (double)cfg->warmup_steps);
    int64_t s = step - (cfg->warmup_steps > 0 ? cfg->warmup_steps : 0);
    int64_t span = cfg->total_steps - (cfg->warmup_steps > 0 ? cfg->warmup_steps : 0);
    double p = span > 0 ? (double)s / (double)span : 1.0;
    if (p > 1.0) p = 1.0;
    switch (cfg->schedule) {
    case MEC_LR_STEP:
        if (cfg->step_size > 0) lr *= pow(cfg->gamma, (double)(s / cfg->step_size));
        return (float)lr;
    case MEC_LR_COSINE:
        return (float)(cfg->min_lr + (lr - cfg->min_lr) * 0.5 * (1.0 + cos(M_PI * p)));
    case MEC_LR_LINEAR: return (float)(lr - (lr - cfg->min_lr) * p);
    default: return (float)lr;
    }
}

/* Lazily allocates the optimiser state of parameter p (zeroed). */
static mec_status state_ensure(mec_trainer *t, int p, int64_t n) {
    bool adam = t->cfg.optim == MEC_OPTIM_ADAMW;
    if (!t->opt_m[p] && !(t->opt_m[p] = mec_calloc((size_t)n, sizeof(float)))) return MEC_ERR_NOMEM;
    if (adam && !t->opt_v[p] && !(t->opt_v[p] = mec_calloc((size_t)n, sizeof(float))))
        return MEC_ERR_NOMEM;
    return MEC_OK;
}

mec_status mec_train_update(mec_trainer *t, float *grad_norm) {
    const mec_train_config *c = &t->cfg;
    /* global gradient norm, in double, parameter order fixed: deterministic */
    double sq = 0.0;
    for (int p = 0; p < t->n_params; p++) {
        const mec_tensor *gr = &t->grad[t->param_val[p]];
        const float *g = gr->data;
        int64_t n = mec_tensor_numel(gr);
        double s = 0.0;
        for (int64_t i = 0; i < n; i++) s += (double)g[i] * g[i];
        sq += s;
    }
    double norm = sqrt(sq);
    if (grad_norm) *grad_norm = (float)norm;
    if (!isfinite(norm))
        return mec_error(MEC_ERR_RANGE, "step %lld: the gradient norm is %g (diverged?)", (long long)t->step, norm);
    float clip = 1.0f;
    if (c->clip_norm > 0 && norm > c->clip_norm) clip = (float)(c->clip_norm / (norm + 1e-6));
    float lr = mec_train_lr(c, t->step);
    int64_t k = t->step + 1; /* AdamW bias correction counts from 1 */
    double bc1 = 1.0 - pow(c->beta1, (double)k), bc2 = 1.0 - pow(c->beta2, (double)k);
    for (int p = 0; p < t->n_params; p++) {
        int v = t->param_val[p];
        mec_tensor *w = t->g->values[v].init;
        float *x = w->data;
        float *g = t->grad[v].data;
        int64_t n = mec_tensor_numel(w);
        mec_status st = state_ensure(t, p, n);
        if (st) return st;
        float wd = (w->ndim > 1 || c->decay_1d) ? c->weight_decay : 0.0f;
        float *m = t->opt_m[p], *vv = t->opt_v[p];
        if (c->optim == MEC_OPTIM_ADAMW) {
            float b1 = c->beta1, b2 = c->beta2, eps = c->eps;
            float step_size = (float)(lr / bc1), sq_bc2 = (float)sqrt(bc2);
            float decay = 1.0f - lr * wd;
#pragma omp parallel for schedule(static) if (n >= 65536)
            for (int64_t i = 0; i < n; i++) {
                float gi = g[i] * clip;
                x[i] *= decay;
                m[i] = b1 * m[i] + (1.0f - b1) * gi;
                vv[i] = b2 * vv[i] + (1.0f - b2) * gi * gi;
                x[i] -= step_size * m[i] / (sqrtf(vv[i]) / sq_bc2 + eps);
            }
        } else {
            float mu = c->momentum;
#pragma omp parallel for schedule(static) if (n >= 65536)
            for (int64_t i = 0; i < n; i++) {
                float gi = g[i] * clip + wd * x[i];
                if (mu != 0.0f) {
                    m[i] = mu * m[i] + gi; /* m starts at 0: the first step sets m = g */
                    gi = c->nesterov ? gi + mu * m[i] : m[i];
                }
                x[i] -= lr * gi;
            }
        }
    }
    t->step++;
    return MEC_OK;
}
