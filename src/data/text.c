/* fortunes: text classification on Debian's fortune-cookie collections
 * (package fortunes); the label is the collection (topic). Items are split
 * 80/10/10 per topic by a fixed draw; exact duplicates are kept once. The
 * tokenizer is the caller's, or a WordPiece one trained on the train split. */
#include "data_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORTUNES_DEFAULT_ROOT "/usr/share/games/fortunes"
#define FORTUNES_MAX_TOPICS 64
#define FORTUNES_MAX_FILE ((size_t)16 << 20)
#define FORTUNES_MIN_ITEMS 20 /* per topic, so every split gets some */

static const char *const default_topics[] = {"computers", "definitions", "men-women", "people",
                                             "politics",  "science",     "songs-poems", "work",
                                             NULL};

typedef struct fortunes {
    char **texts;    /* this split's items, in order */
    int64_t *labels;
    char **names;    /* topic names */
    int n_topics;
    mec_tok *own_tok;
    const mec_tok *tok;
} fortunes;

typedef struct item {
    char *text;
    int topic;
} item;

static void fortunes_close(mec_dataset *ds) {
    fortunes *f = ds->impl;
    if (!f) return;
    for (int64_t i = 0; i < ds->info.count; i++) mec_free(f->texts[i]);
    mec_free(f->texts);
    mec_free(f->labels);
    for (int i = 0; i < f->n_topics; i++) mec_free(f->names[i]);
    mec_free(f->names);
    mec_tok_destroy(f->own_tok);
    mec_free(f);
}

static mec_status fortunes_fill(mec_dataset *ds, int64_t i, void *input, int64_t *mask,
                                int64_t *label) {
    fortunes *f = ds->impl;
    *label = f->labels[i];
    return mec_tok_encode(f->tok, f->texts[i], (int)ds->info.input_shape[0], input, mask);
}

static const mec_dataset_vt fortunes_vt = {fortunes_fill, fortunes_close};

const char *mec_dataset_text(const mec_dataset *ds, int64_t i) {
    if (!ds || ds->info.kind != MEC_DATASET_FORTUNES || i < 0 || i >= ds->info.count) return NULL;
    return ((const fortunes *)ds->impl)->texts[i];
}

const mec_tok *mec_dataset_tokenizer(const mec_dataset *ds) {
    if (!ds || ds->info.kind != MEC_DATASET_FORTUNES) return NULL;
    return ((const fortunes *)ds->impl)->tok;
}

/* Cleans one cookie in place: overstrikes ("X\bY" -> "Y") resolved,
 * surrounding blank space trimmed. Returns its new length. */
static size_t clean_cookie(char *s, size_t n) {
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && s[i + 1] == '\b') {
            i++; /* drop X and the backspace */
            continue;
        }
        if (s[i] == '\b') continue;
        s[out++] = s[i];
    }
    size_t a = 0;
    while (a < out && (s[a] == ' ' || s[a] == '\t' || s[a] == '\n' || s[a] == '\r')) a++;
    while (out > a && (s[out - 1] == ' ' || s[out - 1] == '\t' || s[out - 1] == '\n' || s[out - 1] == '\r')) out--;
    memmove(s, s + a, out - a);
    return out - a;
}

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

typedef struct item_list {
    item *v;
    int64_t n, cap;
    /* exact-duplicate filter: hashes of texts seen (open addressing) */
    uint64_t *seen;
    int64_t seen_cap;
} item_list;

static mec_status list_push(item_list *l, char *text, int topic) {
    uint64_t h = fnv(text) | 1;
    if ((l->n + 1) * 2 > l->seen_cap) {
        int64_t cap = l->seen_cap ? l->seen_cap * 2 : 8192;
        uint64_t *seen = mec_calloc((size_t)cap, sizeof *seen);
        if (!seen) return MEC_ERR_NOMEM;
        for (int64_t i = 0; i < l->seen_cap; i++) {
            if (!l->seen[i]) continue;
            int64_t at = (int64_t)(l->seen[i] & (uint64_t)(cap - 1));
            while (seen[at]) at = (at + 1) & (cap - 1);
            seen[at] = l->seen[i];
        }
        mec_free(l->seen);
        l->seen = seen;
        l->seen_cap = cap;
    }
    int64_t at = (int64_t)(h & (uint64_t)(l->seen_cap - 1));
    for (; l->seen[at]; at = (at + 1) & (l->seen_cap - 1))
        if (l->seen[at] == h) { /* 64-bit hash match: treat as the same text */
            mec_free(text);
            return MEC_OK;
        }
    l->seen[at] = h;
    if (l->n == l->cap) {
        int64_t cap = l->cap ? l->cap * 2 : 1024;
        item *v = mec_realloc(l->v, (size_t)l->cap * sizeof *v, (size_t)cap * sizeof *v);
        if (!v) {
            mec_free(text);
            return MEC_ERR_NOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].text = text;
    l->v[l->n].topic = topic;
    l->n++;
    return MEC_OK;
}

/* Reads the cookies of one collection: items separated by lines "%". */
static mec_status read_topic(const char *path, int topic, item_list *l, int64_t *added) {
    void *data;
    size_t len;
    mec_status st = mec_file_read(path, FORTUNES_MAX_FILE, &data, &len);
    if (st != MEC_OK) return mec_error_prefix(st, "fortunes (is the fortunes package installed?): ");
    char *s = data;
    size_t start = 0;
    int64_t before = l->n;
    for (size_t i = 0; i <= len && st == MEC_OK; i++) {
        bool at_sep = i == len || (s[i] == '%' && (i == 0 || s[i - 1] == '\n') &&
                                   (i + 1 == len || s[i + 1] == '\n'));
        if (!at_sep) continue;
        size_t n = clean_cookie(s + start, i - start);
        if (n > 0) {
            char *text = mec_strndup(s + start, n);
            st = text ? list_push(l, text, topic) : MEC_ERR_NOMEM;
        }
        start = i + 2;
        i++;
    }
    mec_free(data);
    *added = l->n - before;
    return st;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

mec_status mec_dataset_open_fortunes(mec_dataset *ds) {
    const mec_dataset_options *o = &ds->opt;
    const char *root = o->root ? o->root : FORTUNES_DEFAULT_ROOT;
    const char *const *topics = o->topics ? o->topics : default_topics;
    if (o->max_len < 8 || o->max_len > 4096)
        return mec_error(MEC_ERR_RANGE, "fortunes: max_len %d outside 8..4096", o->max_len);
    int n_topics = 0;
    while (topics[n_topics]) {
        if (++n_topics > FORTUNES_MAX_TOPICS)
            return mec_error(MEC_ERR_RANGE, "fortunes: more than %d topics", FORTUNES_MAX_TOPICS);
    }
    if (n_topics < 2) return mec_error(MEC_ERR_INVALID_ARG, "fortunes: %d topics, need 2 or more", n_topics);
    fortunes *f = mec_calloc(1, sizeof *f);
    if (!f) return MEC_ERR_NOMEM;
    ds->impl = f;
    ds->vt = &fortunes_vt;
    f->names = mec_calloc((size_t)n_topics, sizeof *f->names);
    ds->class_counts = mec_calloc((size_t)n_topics, sizeof(int64_t));
    if (!f->names || !ds->class_counts) return MEC_ERR_NOMEM;
    f->n_topics = n_topics;
    for (int t = 0; t < n_topics; t++) {
        if (!*topics[t] || strchr(topics[t], '/') || strlen(topics[t]) > 64)
            return mec_error(MEC_ERR_INVALID_ARG, "fortunes: bad topic name '%.80s'", topics[t]);
        if (!(f->names[t] = mec_strdup(topics[t]))) return MEC_ERR_NOMEM;
    }

    item_list all = {0};
    int64_t *split_idx = NULL, *train_idx = NULL;
    const char **train_texts = NULL;
    mec_status st = MEC_OK;
    int64_t topic_start[FORTUNES_MAX_TOPICS + 1];
    for (int t = 0; t < n_topics && st == MEC_OK; t++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", root, topics[t]);
        topic_start[t] = all.n;
        int64_t added = 0;
        st = read_topic(path, t, &all, &added);
        if (st == MEC_OK && added < FORTUNES_MIN_ITEMS)
            st = mec_error(MEC_ERR_RANGE, "%s: %lld distinct items, need at least %d", path,
                           (long long)added, FORTUNES_MIN_ITEMS);
    }
    topic_start[n_topics] = all.n;
    if (st != MEC_OK) goto done;

    /* fixed split per topic: 80% train, 10% val, 10% test */
    split_idx = mec_malloc((size_t)all.n * sizeof *split_idx);
    train_idx = mec_malloc((size_t)all.n * sizeof *train_idx);
    if (!split_idx || !train_idx) {
        st = MEC_ERR_NOMEM;
        goto done;
    }
    int64_t count = 0, n_train = 0;
    for (int t = 0; t < n_topics; t++) {
        int64_t a = topic_start[t], n = topic_start[t + 1] - a;
        int64_t n_val = n / 10, n_test = n / 10;
        mec_dataset_perm perm;
        mec_dataset_perm_init(&perm, (uint64_t)n, MEC_DATA_FIXED_KEY + (uint64_t)t);
        for (int64_t p = 0; p < n; p++) {
            int64_t i = a + (int64_t)mec_dataset_perm_apply(&perm, (uint64_t)p);
            mec_split s = p < n_val ? MEC_SPLIT_VAL : p < n_val + n_test ? MEC_SPLIT_TEST : MEC_SPLIT_TRAIN;
            if (s == o->split) split_idx[count++] = i;
            if (s == MEC_SPLIT_TRAIN) train_idx[n_train++] = i;
        }
    }
    /* the tokenizer: borrowed, or trained on the whole train split (sorted
     * by source position, so it does not depend on the seed) */
    if (o->tokenizer) {
        f->tok = o->tokenizer;
    } else {
        qsort(train_idx, (size_t)n_train, sizeof *train_idx, cmp_i64);
        train_texts = mec_malloc((size_t)n_train * sizeof *train_texts);
        if (!train_texts) {
            st = MEC_ERR_NOMEM;
            goto done;
        }
        for (int64_t k = 0; k < n_train; k++) train_texts[k] = all.v[train_idx[k]].text;
        mec_tok_train_options to;
        mec_tok_train_options_default(&to);
        to.vocab_size = o->vocab_size;
        st = mec_tok_train(train_texts, n_train, &to, &f->own_tok);
        if (st != MEC_OK) {
            mec_error_prefix(st, "fortunes: training the tokenizer: ");
            goto done;
        }
        f->tok = f->own_tok;
    }
    /* order and subset from the seed */
    qsort(split_idx, (size_t)count, sizeof *split_idx, cmp_i64);
    mec_rng rng = mec_rng_make(o->seed, 0x666f7274756eULL + (uint64_t)o->split);
    mec_dataset_shuffle(split_idx, count, &rng);
    if (o->subset > 0 && o->subset < count) count = o->subset;
    f->texts = mec_calloc((size_t)count, sizeof *f->texts);
    f->labels = mec_malloc((size_t)count * sizeof *f->labels);
    if (!f->texts || !f->labels) {
        st = MEC_ERR_NOMEM;
        goto done;
    }
    for (int64_t k = 0; k < count; k++) {
        item *it = &all.v[split_idx[k]];
        f->texts[k] = it->text; /* moved */
        it->text = NULL;
        f->labels[k] = it->topic;
        ds->class_counts[it->topic]++;
    }
    ds->info.task = MEC_TASK_CLASSIFY;
    ds->info.count = count;
    ds->info.num_classes = n_topics;
    ds->info.input_dtype = MEC_I64;
    ds->info.input_ndim = 1;
    ds->info.input_shape[0] = o->max_len;
    ds->info.has_mask = true;
    ds->label_numel = 1;
    ds->class_names = (const char *const *)f->names;
done:
    for (int64_t i = 0; i < all.n; i++) mec_free(all.v[i].text);
    mec_free(all.v);
    mec_free(all.seen);
    mec_free(split_idx);
    mec_free(train_idx);
    mec_free(train_texts);
    return st;
}
