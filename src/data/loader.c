/* The batch loader: walks a dataset in order or in a seeded shuffle (a keyed
 * bijection computed per position, so no index array), one batch in memory. */
#include "data_internal.h"

#include <string.h>

struct mec_loader {
    mec_dataset *ds;
    mec_loader_options opt;
    mec_dataset_perm perm;
    int64_t pos;    /* next epoch position */
    int64_t *idx;   /* batch_size scratch */
    mec_batch batch;
};

mec_status mec_loader_create(mec_dataset *ds, const mec_loader_options *o, mec_loader **out) {
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "loader_create: no output");
    *out = NULL;
    if (!ds || !o) return mec_error(MEC_ERR_INVALID_ARG, "loader_create: null dataset or options");
    if (o->batch_size < 1 || o->batch_size > ((int64_t)1 << 24))
        return mec_error(MEC_ERR_RANGE, "loader_create: batch_size %lld outside 1..2^24",
                         (long long)o->batch_size);
    mec_loader *l = mec_calloc(1, sizeof *l);
    if (!l) return MEC_ERR_NOMEM;
    l->idx = mec_malloc((size_t)o->batch_size * sizeof *l->idx);
    if (!l->idx) {
        mec_free(l);
        return MEC_ERR_NOMEM;
    }
    l->ds = ds;
    l->opt = *o;
    mec_loader_reset(l, 0);
    *out = l;
    return MEC_OK;
}

void mec_loader_destroy(mec_loader *l) {
    if (!l) return;
    mec_batch_release(&l->batch);
    mec_free(l->idx);
    mec_free(l);
}

void mec_loader_reset(mec_loader *l, uint64_t epoch) {
    l->pos = 0;
    mec_dataset_perm_init(&l->perm, (uint64_t)mec_dataset_count(l->ds),
                          l->opt.seed + epoch * 0x9E3779B97F4A7C15ULL);
}

int64_t mec_loader_index(const mec_loader *l, int64_t p) {
    int64_t n = mec_dataset_count(l->ds);
    if (p < 0 || p >= n) return -1;
    return l->opt.shuffle ? (int64_t)mec_dataset_perm_apply(&l->perm, (uint64_t)p) : p;
}

int64_t mec_loader_batches(const mec_loader *l) {
    int64_t n = mec_dataset_count(l->ds), b = l->opt.batch_size;
    return l->opt.drop_last ? n / b : (n + b - 1) / b;
}

mec_status mec_loader_next(mec_loader *l, const mec_batch **out) {
    if (!l || !out) return mec_error(MEC_ERR_INVALID_ARG, "loader_next: null argument");
    *out = NULL;
    int64_t n = mec_dataset_count(l->ds), left = n - l->pos;
    int64_t take = left < l->opt.batch_size ? left : l->opt.batch_size;
    if (take <= 0 || (l->opt.drop_last && take < l->opt.batch_size)) return MEC_OK;
    for (int64_t k = 0; k < take; k++) l->idx[k] = mec_loader_index(l, l->pos + k);
    mec_status st = mec_dataset_get_many(l->ds, l->idx, take, &l->batch);
    if (st != MEC_OK) return st;
    l->pos += take;
    *out = &l->batch;
    return MEC_OK;
}
