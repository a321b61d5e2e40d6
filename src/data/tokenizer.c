/* WordPiece tokenizer: trained in C on a corpus (BPE-style merges of the most
 * frequent adjacent pair, as the Hugging Face WordPiece trainer does),
 * greedy longest-match encoding, versioned text files written atomically. */
#include "data_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOK_FORMAT "mecbench-wordpiece"
#define TOK_VERSION 1
#define TOK_MAX_WORD 100       /* longer words become [UNK] */
#define TOK_MAX_PIECE 256      /* bytes per vocabulary piece */
#define TOK_MAX_VOCAB 1000000
#define TOK_MAX_FILE ((size_t)64 << 20)

static const char *const tok_specials[MEC_TOK_SPECIALS] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]",
                                                           "[MASK]"};

struct mec_tok {
    int n, cap;
    char **pieces;
    int32_t *slots; /* open addressing: piece id + 1, 0 = empty */
    uint32_t slot_mask;
};

/* ------------------------------------------------------------ vocabulary */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
    return h;
}

static int tok_find(const mec_tok *t, const char *s, size_t n) {
    if (!t->slots) return -1;
    for (uint32_t h = (uint32_t)hash_bytes(s, n) & t->slot_mask;; h = (h + 1) & t->slot_mask) {
        int32_t v = t->slots[h];
        if (!v) return -1;
        const char *p = t->pieces[v - 1];
        if (strncmp(p, s, n) == 0 && p[n] == '\0') return v - 1;
    }
}

static mec_status tok_rehash(mec_tok *t, uint32_t size) {
    int32_t *slots = mec_calloc(size, sizeof *slots);
    if (!slots) return MEC_ERR_NOMEM;
    mec_free(t->slots);
    t->slots = slots;
    t->slot_mask = size - 1;
    for (int i = 0; i < t->n; i++) {
        uint32_t h = (uint32_t)hash_bytes(t->pieces[i], strlen(t->pieces[i])) & t->slot_mask;
        while (slots[h]) h = (h + 1) & t->slot_mask;
        slots[h] = i + 1;
    }
    return MEC_OK;
}

/* Adds piece s[0..n) (which must not be present); returns its id in *id. */
static mec_status tok_add(mec_tok *t, const char *s, size_t n, int *id) {
    if (t->n >= TOK_MAX_VOCAB) return mec_error(MEC_ERR_RANGE, "tokenizer: more than %d pieces", TOK_MAX_VOCAB);
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 256;
        char **p = mec_realloc(t->pieces, (size_t)t->cap * sizeof *p, (size_t)cap * sizeof *p);
        if (!p) return MEC_ERR_NOMEM;
        t->pieces = p;
        t->cap = cap;
    }
    char *copy = mec_strndup(s, n);
    if (!copy) return MEC_ERR_NOMEM;
    t->pieces[t->n++] = copy;
    if ((uint32_t)t->n * 2 > t->slot_mask) {
        uint32_t size = t->slot_mask ? (t->slot_mask + 1) * 2 : 1024;
        mec_status st = tok_rehash(t, size);
        if (st != MEC_OK) {
            t->n--;
            mec_free(copy);
            return st;
        }
    } else {
        uint32_t h = (uint32_t)hash_bytes(copy, n) & t->slot_mask;
        while (t->slots[h]) h = (h + 1) & t->slot_mask;
        t->slots[h] = t->n;
    }
    *id = t->n - 1;
    return MEC_OK;
}

void mec_tok_destroy(mec_tok *t) {
    if (!t) return;
    for (int i = 0; i < t->n; i++) mec_free(t->pieces[i]);
    mec_free(t->pieces);
    mec_free(t->slots);
    mec_free(t);
}

int mec_tok_vocab_size(const mec_tok *t) { return t ? t->n : 0; }
const char *mec_tok_piece(const mec_tok *t, int id) {
    return t && id >= 0 && id < t->n ? t->pieces[id] : NULL;
}
int mec_tok_lookup(const mec_tok *t, const char *piece) {
    return t && piece ? tok_find(t, piece, strlen(piece)) : -1;
}

static mec_status tok_new_with_specials(mec_tok **out) {
    mec_tok *t = mec_calloc(1, sizeof *t);
    if (!t) return MEC_ERR_NOMEM;
    for (int i = 0; i < MEC_TOK_SPECIALS; i++) {
        int id;
        mec_status st = tok_add(t, tok_specials[i], strlen(tok_specials[i]), &id);
        if (st != MEC_OK) {
            mec_tok_destroy(t);
            return st;
        }
    }
    *out = t;
    return MEC_OK;
}

/* --------------------------------------------------------- pre-tokenizer */

/* Splits text into lowercased words on whitespace/control bytes, with each
 * ASCII punctuation mark a word of its own; "X\bY" overstrikes (as in the
 * fortune files) read as Y. Calls emit for each word; stops on an error. */
typedef mec_status (*word_fn)(void *ctx, const char *w, size_t n);

static mec_status pretokenize(const char *text, word_fn emit, void *ctx) {
    char word[TOK_MAX_WORD + 2];
    size_t n = 0;
    bool too_long = false;
    mec_status st = MEC_OK;
    for (const unsigned char *p = (const unsigned char *)text; *p && st == MEC_OK; p++) {
        if (p[1] == '\b' && p[2]) {
            p++; /* skip X and the backspace; Y is read next */
            continue;
        }
        unsigned c = *p;
        bool space = c <= 0x20 || c == 0x7f;
        bool punct = c < 0x80 && !space && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                                             (c >= 'A' && c <= 'Z'));
        if (space || punct) {
            if (n || too_long) st = emit(ctx, word, too_long ? TOK_MAX_WORD + 1 : n);
            n = 0;
            too_long = false;
            if (punct && st == MEC_OK) {
                char pc = (char)c;
                st = emit(ctx, &pc, 1);
            }
            continue;
        }
        if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
        if (n < TOK_MAX_WORD)
            word[n++] = (char)c;
        else
            too_long = true;
    }
    if (st == MEC_OK && (n || too_long)) st = emit(ctx, word, too_long ? TOK_MAX_WORD + 1 : n);
    return st;
}

/* -------------------------------------------------------------- encoding */

typedef struct encode_ctx {
    const mec_tok *t;
    int64_t *ids;
    int64_t cap, n;
} encode_ctx;

static void put_id(encode_ctx *e, int64_t id) {
    if (e->n < e->cap) e->ids[e->n] = id;
    e->n++;
}

/* Greedy longest-match-first WordPiece; a word with no cover is [UNK]. */
static mec_status encode_word(void *ctx, const char *w, size_t n) {
    encode_ctx *e = ctx;
    if (n > TOK_MAX_WORD) {
        put_id(e, MEC_TOK_UNK);
        return MEC_OK;
    }
    char buf[TOK_MAX_WORD + 3];
    int64_t start_n = e->n;
    size_t start = 0;
    while (start < n) {
        int found = -1;
        size_t end = n;
        for (; end > start; end--) {
            size_t len = 0;
            if (start > 0) {
                buf[0] = buf[1] = '#';
                len = 2;
            }
            memcpy(buf + len, w + start, end - start);
            len += end - start;
            found = tok_find(e->t, buf, len);
            if (found >= 0) break;
        }
        if (found < 0) {
            e->n = start_n;
            put_id(e, MEC_TOK_UNK);
            return MEC_OK;
        }
        put_id(e, found);
        start = end;
    }
    return MEC_OK;
}

mec_status mec_tok_tokenize(const mec_tok *t, const char *text, int64_t *ids, int64_t cap,
                            int64_t *n) {
    if (!t || !text || !n || cap < 0 || (cap > 0 && !ids))
        return mec_error(MEC_ERR_INVALID_ARG, "tok_tokenize: null argument");
    encode_ctx e = {t, ids, cap, 0};
    mec_status st = pretokenize(text, encode_word, &e);
    *n = e.n;
    return st;
}

mec_status mec_tok_encode(const mec_tok *t, const char *text, int max_len, int64_t *ids,
                          int64_t *mask) {
    if (!t || !text || !ids) return mec_error(MEC_ERR_INVALID_ARG, "tok_encode: null argument");
    if (max_len < 2) return mec_error(MEC_ERR_RANGE, "tok_encode: max_len %d < 2", max_len);
    ids[0] = MEC_TOK_CLS;
    int64_t n = 0;
    mec_status st = mec_tok_tokenize(t, text, ids + 1, max_len - 2, &n);
    if (st != MEC_OK) return st;
    if (n > max_len - 2) n = max_len - 2;
    ids[n + 1] = MEC_TOK_SEP;
    for (int64_t i = n + 2; i < max_len; i++) ids[i] = MEC_TOK_PAD;
    if (mask)
        for (int64_t i = 0; i < max_len; i++) mask[i] = i < n + 2;
    return MEC_OK;
}

/* -------------------------------------------------------------- training */

/* Unique words and their counts (a growable open-addressing table). */
typedef struct word_table {
    char **words;
    int64_t *counts;
    size_t n, cap; /* cap: power of 2 */
} word_table;

static mec_status count_word(void *ctx, const char *w, size_t n) {
    word_table *wt = ctx;
    if (n > TOK_MAX_WORD) return MEC_OK;
    if ((wt->n + 1) * 2 > wt->cap) {
        size_t cap = wt->cap ? wt->cap * 2 : 4096;
        char **words = mec_calloc(cap, sizeof *words);
        int64_t *counts = mec_calloc(cap, sizeof *counts);
        if (!words || !counts) {
            mec_free(words);
            mec_free(counts);
            return MEC_ERR_NOMEM;
        }
        for (size_t i = 0; i < wt->cap; i++) {
            if (!wt->words[i]) continue;
            size_t h = hash_bytes(wt->words[i], strlen(wt->words[i])) & (cap - 1);
            while (words[h]) h = (h + 1) & (cap - 1);
            words[h] = wt->words[i];
            counts[h] = wt->counts[i];
        }
        mec_free(wt->words);
        mec_free(wt->counts);
        wt->words = words;
        wt->counts = counts;
        wt->cap = cap;
    }
    size_t h = hash_bytes(w, n) & (wt->cap - 1);
    for (; wt->words[h]; h = (h + 1) & (wt->cap - 1))
        if (strncmp(wt->words[h], w, n) == 0 && wt->words[h][n] == '\0') {
            wt->counts[h]++;
            return MEC_OK;
        }
    wt->words[h] = mec_strndup(w, n);
    if (!wt->words[h]) return MEC_ERR_NOMEM;
    wt->counts[h] = 1;
    wt->n++;
    return MEC_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Pair counts keyed by (a << 32 | b). */
typedef struct pair_table {
    uint64_t *keys; /* UINT64_MAX = empty */
    int64_t *counts;
    size_t n, cap;
} pair_table;

/* Max-heap of (count, key) candidates, ties to the smaller key. Entries go
 * stale when a count drops; the merge loop re-checks the top against the
 * table, so finding the best pair costs O(log n) instead of a table scan. */
typedef struct pair_heap {
    int64_t *counts;
    uint64_t *keys;
    size_t n, cap;
} pair_heap;

static bool heap_above(const pair_heap *h, size_t i, size_t j) {
    return h->counts[i] > h->counts[j] || (h->counts[i] == h->counts[j] && h->keys[i] < h->keys[j]);
}

static void heap_swap(pair_heap *h, size_t i, size_t j) {
    int64_t c = h->counts[i];
    uint64_t k = h->keys[i];
    h->counts[i] = h->counts[j];
    h->keys[i] = h->keys[j];
    h->counts[j] = c;
    h->keys[j] = k;
}

static mec_status heap_push(pair_heap *h, int64_t count, uint64_t key) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 65536;
        int64_t *c = mec_realloc(h->counts, h->cap * sizeof *c, cap * sizeof *c);
        if (!c) return MEC_ERR_NOMEM;
        h->counts = c;
        uint64_t *k = mec_realloc(h->keys, h->cap * sizeof *k, cap * sizeof *k);
        if (!k) return MEC_ERR_NOMEM;
        h->keys = k;
        h->cap = cap;
    }
    size_t i = h->n++;
    h->counts[i] = count;
    h->keys[i] = key;
    while (i > 0 && heap_above(h, i, (i - 1) / 2)) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return MEC_OK;
}

static void heap_pop(pair_heap *h) {
    h->n--;
    if (h->n == 0) return;
    heap_swap(h, 0, h->n);
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, top = i;
        if (l < h->n && heap_above(h, l, top)) top = l;
        if (r < h->n && heap_above(h, r, top)) top = r;
        if (top == i) break;
        heap_swap(h, i, top);
        i = top;
    }
}

static int64_t *pair_slot(pair_table *pt, uint64_t key) {
    size_t h = (size_t)(key * 0x9E3779B97F4A7C15ULL >> 20) & (pt->cap - 1);
    for (; pt->keys[h] != UINT64_MAX; h = (h + 1) & (pt->cap - 1))
        if (pt->keys[h] == key) return &pt->counts[h];
    return NULL;
}

static mec_status pair_add(pair_table *pt, uint64_t key, int64_t delta) {
    if ((pt->n + 1) * 2 > pt->cap) {
        size_t cap = pt->cap ? pt->cap * 2 : 65536;
        uint64_t *keys = mec_malloc(cap * sizeof *keys);
        int64_t *counts = mec_calloc(cap, sizeof *counts);
        if (!keys || !counts) {
            mec_free(keys);
            mec_free(counts);
            return MEC_ERR_NOMEM;
        }
        memset(keys, 0xff, cap * sizeof *keys);
        for (size_t i = 0; i < pt->cap; i++) {
            if (pt->keys[i] == UINT64_MAX) continue;
            size_t h = (size_t)(pt->keys[i] * 0x9E3779B97F4A7C15ULL >> 20) & (cap - 1);
            while (keys[h] != UINT64_MAX) h = (h + 1) & (cap - 1);
            keys[h] = pt->keys[i];
            counts[h] = pt->counts[i];
        }
        mec_free(pt->keys);
        mec_free(pt->counts);
        pt->keys = keys;
        pt->counts = counts;
        pt->cap = cap;
    }
    size_t h = (size_t)(key * 0x9E3779B97F4A7C15ULL >> 20) & (pt->cap - 1);
    for (; pt->keys[h] != UINT64_MAX; h = (h + 1) & (pt->cap - 1))
        if (pt->keys[h] == key) {
            pt->counts[h] += delta;
            return MEC_OK;
        }
    pt->keys[h] = key;
    pt->counts[h] = delta;
    pt->n++;
    return MEC_OK;
}

void mec_tok_train_options_default(mec_tok_train_options *o) {
    o->vocab_size = 4000;
    o->min_frequency = 2;
    o->max_alphabet = 1000;
}

typedef struct train_state {
    word_table wt;
    char **uniq;      /* sorted unique words */
    int64_t *freq;
    int32_t *syms;    /* symbols of every word, back to back */
    size_t *start;
    int32_t *len;
    size_t n_words;
    pair_table pairs;
    pair_heap heap;
} train_state;

static void train_state_free(train_state *s) {
    for (size_t i = 0; i < s->wt.cap; i++) mec_free(s->wt.words[i]);
    mec_free(s->wt.words);
    mec_free(s->wt.counts);
    mec_free(s->uniq);
    mec_free(s->freq);
    mec_free(s->syms);
    mec_free(s->start);
    mec_free(s->len);
    mec_free(s->pairs.keys);
    mec_free(s->pairs.counts);
    mec_free(s->heap.counts);
    mec_free(s->heap.keys);
}

/* Adds (sign = 1) or removes (-1) the adjacent pairs of word w; with push,
 * the pairs' new counts become heap candidates. */
static mec_status word_pairs(train_state *s, size_t w, int64_t sign, bool push) {
    const int32_t *sy = s->syms + s->start[w];
    for (int32_t j = 0; j + 1 < s->len[w]; j++) {
        uint64_t key = (uint64_t)sy[j] << 32 | (uint32_t)sy[j + 1];
        mec_status st = pair_add(&s->pairs, key, sign * s->freq[w]);
        if (st == MEC_OK && push) st = heap_push(&s->heap, *pair_slot(&s->pairs, key), key);
        if (st != MEC_OK) return st;
    }
    return MEC_OK;
}

static mec_status train_run(train_state *s, const char *const *texts, int64_t n,
                            const mec_tok_train_options *o, mec_tok *t) {
    mec_status st;
    for (int64_t i = 0; i < n; i++) {
        if (!texts[i]) return mec_error(MEC_ERR_INVALID_ARG, "tok_train: text %lld is NULL", (long long)i);
        if ((st = pretokenize(texts[i], count_word, &s->wt)) != MEC_OK) return st;
    }
    if (s->wt.n == 0) return mec_error(MEC_ERR_INVALID_ARG, "tok_train: the corpus has no words");
    /* sorted unique words: the result does not depend on hash order */
    s->uniq = mec_malloc(s->wt.n * sizeof *s->uniq);
    s->freq = mec_malloc(s->wt.n * sizeof *s->freq);
    if (!s->uniq || !s->freq) return MEC_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < s->wt.cap; i++)
        if (s->wt.words[i]) s->uniq[k++] = s->wt.words[i];
    qsort(s->uniq, k, sizeof *s->uniq, cmp_str);
    /* alphabet: the max_alphabet most frequent bytes */
    int64_t byte_freq[256] = {0};
    for (size_t i = 0; i < s->wt.cap; i++)
        if (s->wt.words[i])
            for (const unsigned char *p = (const unsigned char *)s->wt.words[i]; *p; p++)
                byte_freq[*p] += s->wt.counts[i];
    bool keep[256] = {false};
    for (int a = 0; a < o->max_alphabet && a < 256; a++) {
        int best = -1;
        for (int c = 1; c < 256; c++)
            if (!keep[c] && byte_freq[c] > 0 && (best < 0 || byte_freq[c] > byte_freq[best])) best = c;
        if (best < 0) break;
        keep[best] = true;
    }
    int initial[256], inner[256];
    for (int c = 0; c < 256; c++) initial[c] = inner[c] = -1;
    for (int c = 1; c < 256; c++) {
        if (!keep[c]) continue;
        char piece[4] = {(char)c, 0};
        if ((st = tok_add(t, piece, 1, &initial[c])) != MEC_OK) return st;
    }
    for (int c = 1; c < 256; c++) {
        if (!keep[c]) continue;
        char piece[4] = {'#', '#', (char)c, 0};
        if ((st = tok_add(t, piece, 3, &inner[c])) != MEC_OK) return st;
    }
    /* words as symbol sequences; words with a byte outside the alphabet are left out */
    size_t total = 0;
    for (size_t i = 0; i < k; i++) total += strlen(s->uniq[i]);
    s->syms = mec_malloc((total + 1) * sizeof *s->syms);
    s->start = mec_malloc(k * sizeof *s->start);
    s->len = mec_malloc(k * sizeof *s->len);
    if (!s->syms || !s->start || !s->len) return MEC_ERR_NOMEM;
    size_t at = 0;
    for (size_t i = 0; i < k; i++) {
        const unsigned char *w = (const unsigned char *)s->uniq[i];
        size_t wl = strlen(s->uniq[i]);
        bool ok = true;
        for (size_t j = 0; j < wl; j++) ok = ok && keep[w[j]];
        if (!ok) continue;
        s->start[s->n_words] = at;
        s->len[s->n_words] = (int32_t)wl;
        for (size_t j = 0; j < wl; j++) s->syms[at++] = j == 0 ? initial[w[j]] : inner[w[j]];
        /* the count lives in the hash table; find it once */
        word_table *wt = &s->wt;
        size_t h = hash_bytes(s->uniq[i], wl) & (wt->cap - 1);
        while (strcmp(wt->words[h], s->uniq[i]) != 0) h = (h + 1) & (wt->cap - 1);
        s->freq[s->n_words] = wt->counts[h];
        s->n_words++;
    }
    for (size_t w = 0; w < s->n_words; w++)
        if ((st = word_pairs(s, w, 1, false)) != MEC_OK) return st;
    for (size_t i = 0; i < s->pairs.cap; i++)
        if (s->pairs.keys[i] != UINT64_MAX &&
            (st = heap_push(&s->heap, s->pairs.counts[i], s->pairs.keys[i])) != MEC_OK)
            return st;
    /* merges */
    char piece[TOK_MAX_PIECE + 1];
    while (t->n < o->vocab_size) {
        /* the top candidate whose count is still current */
        uint64_t key = 0;
        bool found = false;
        while (s->heap.n > 0) {
            int64_t count = s->heap.counts[0];
            key = s->heap.keys[0];
            int64_t *now = pair_slot(&s->pairs, key);
            heap_pop(&s->heap);
            if (now && *now == count) {
                found = count >= o->min_frequency;
                break;
            }
            if (now && *now > 0 && (st = heap_push(&s->heap, *now, key)) != MEC_OK) return st;
        }
        if (!found) break; /* nothing frequent enough is left */
        int64_t *best_count = pair_slot(&s->pairs, key);
        int32_t a = (int32_t)(key >> 32), b = (int32_t)(key & 0xffffffffu);
        const char *pa = t->pieces[a], *pb = t->pieces[b];
        size_t la = strlen(pa), lb = strlen(pb) - 2; /* b always carries "##" */
        int merged;
        if (la + lb > TOK_MAX_PIECE) {
            *best_count = 0; /* never merge into an over-long piece */
            continue;
        }
        memcpy(piece, pa, la);
        memcpy(piece + la, pb + 2, lb);
        piece[la + lb] = '\0';
        merged = tok_find(t, piece, la + lb);
        if (merged < 0 && (st = tok_add(t, piece, la + lb, &merged)) != MEC_OK) return st;
        for (size_t w = 0; w < s->n_words; w++) {
            int32_t *sy = s->syms + s->start[w];
            int32_t len = s->len[w];
            bool has = false;
            for (int32_t j = 0; j + 1 < len && !has; j++) has = sy[j] == a && sy[j + 1] == b;
            if (!has) continue;
            if ((st = word_pairs(s, w, -1, false)) != MEC_OK) return st;
            int32_t out = 0;
            for (int32_t j = 0; j < len; j++) {
                if (j + 1 < len && sy[j] == a && sy[j + 1] == b) {
                    sy[out++] = merged;
                    j++;
                } else {
                    sy[out++] = sy[j];
                }
            }
            s->len[w] = out;
            if ((st = word_pairs(s, w, 1, true)) != MEC_OK) return st;
        }
        *pair_slot(&s->pairs, key) = 0;
    }
    return MEC_OK;
}

mec_status mec_tok_train(const char *const *texts, int64_t n, const mec_tok_train_options *o,
                         mec_tok **out) {
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "tok_train: no output");
    *out = NULL;
    mec_tok_train_options defaults;
    if (!o) {
        mec_tok_train_options_default(&defaults);
        o = &defaults;
    }
    if (!texts || n < 1) return mec_error(MEC_ERR_INVALID_ARG, "tok_train: %lld texts", (long long)n);
    if (o->vocab_size < 64 || o->vocab_size > TOK_MAX_VOCAB)
        return mec_error(MEC_ERR_RANGE, "tok_train: vocab_size %d outside 64..%d", o->vocab_size,
                         TOK_MAX_VOCAB);
    if (o->min_frequency < 1 || o->max_alphabet < 1)
        return mec_error(MEC_ERR_RANGE, "tok_train: min_frequency %d and max_alphabet %d must be >= 1",
                         o->min_frequency, o->max_alphabet);
    mec_tok *t;
    mec_status st = tok_new_with_specials(&t);
    if (st != MEC_OK) return st;
    train_state s;
    memset(&s, 0, sizeof s);
    st = train_run(&s, texts, n, o, t);
    train_state_free(&s);
    if (st != MEC_OK) {
        mec_tok_destroy(t);
        return st;
    }
    *out = t;
    return MEC_OK;
}

/* ----------------------------------------------------------- save, load */

mec_status mec_tok_save(const mec_tok *t, const char *path) {
    if (!t || !path) return mec_error(MEC_ERR_INVALID_ARG, "tok_save: null argument");
    size_t bytes = 64;
    for (int i = 0; i < t->n; i++) bytes += strlen(t->pieces[i]) + 1;
    char *buf = mec_malloc(bytes);
    if (!buf) return MEC_ERR_NOMEM;
    size_t at = (size_t)snprintf(buf, bytes, "%s %d\nsize %d\n", TOK_FORMAT, TOK_VERSION, t->n);
    for (int i = 0; i < t->n; i++) {
        size_t l = strlen(t->pieces[i]);
        memcpy(buf + at, t->pieces[i], l);
        at += l;
        buf[at++] = '\n';
    }
    mec_status st = mec_file_write_atomic(path, buf, at);
    mec_free(buf);
    return st;
}

mec_status mec_tok_load(const char *path, mec_tok **out) {
    if (!path || !out) return mec_error(MEC_ERR_INVALID_ARG, "tok_load: null argument");
    *out = NULL;
    void *data;
    size_t len;
    mec_status st = mec_file_read(path, TOK_MAX_FILE, &data, &len);
    if (st != MEC_OK) return st;
    char *text = data, *line = text, *end = text + len;
    mec_tok *t = mec_calloc(1, sizeof *t);
    if (!t) {
        mec_free(data);
        return MEC_ERR_NOMEM;
    }
    long version = -1, size = -1;
    int lineno = 0;
    char fmt[32];
    while (line < end && st == MEC_OK) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) {
            st = mec_error(MEC_ERR_PARSE, "%s: line %d has no newline (truncated file?)", path, lineno + 1);
            break;
        }
        *nl = '\0';
        lineno++;
        size_t l = (size_t)(nl - line);
        if (lineno == 1) {
            char extra;
            if (sscanf(line, "%31s %ld%c", fmt, &version, &extra) != 2 || strcmp(fmt, TOK_FORMAT) != 0)
                st = mec_error(MEC_ERR_PARSE, "%s: not a %s file (first line '%.40s')", path, TOK_FORMAT, line);
            else if (version != TOK_VERSION)
                st = mec_error(MEC_ERR_UNSUPPORTED, "%s: version %ld, this build reads %d", path, version, TOK_VERSION);
        } else if (lineno == 2) {
            char extra;
            if (sscanf(line, "size %ld%c", &size, &extra) != 1 || size < MEC_TOK_SPECIALS || size > TOK_MAX_VOCAB)
                st = mec_error(MEC_ERR_PARSE, "%s: line 2: bad size '%.40s' (expected %d..%d)", path,
                               line, MEC_TOK_SPECIALS, TOK_MAX_VOCAB);
        } else {
            int id;
            if (l == 0 || l > TOK_MAX_PIECE)
                st = mec_error(MEC_ERR_PARSE, "%s: line %d: piece of %zu bytes (1..%d allowed)", path, lineno, l, TOK_MAX_PIECE);
            else if (t->n >= size)
                st = mec_error(MEC_ERR_PARSE, "%s: more pieces than the %ld declared", path, size);
            else if (tok_find(t, line, l) >= 0)
                st = mec_error(MEC_ERR_PARSE, "%s: line %d: piece '%s' appears twice", path, lineno, line);
            else if (t->n < MEC_TOK_SPECIALS && strcmp(line, tok_specials[t->n]) != 0)
                st = mec_error(MEC_ERR_PARSE, "%s: line %d: piece %d is '%s', expected '%s'", path,
                               lineno, t->n, line, tok_specials[t->n]);
            else
                st = tok_add(t, line, l, &id);
        }
        line = nl + 1;
    }
    if (st == MEC_OK && (lineno < 2 || t->n != size))
        st = mec_error(MEC_ERR_PARSE, "%s: %d pieces, header says %ld", path, t->n, size);
    mec_free(data);
    if (st != MEC_OK) {
        mec_tok_destroy(t);
        return st;
    }
    *out = t;
    return MEC_OK;
}
