/* data/tokenizer: WordPiece training on a corpus worked by hand, greedy
 * longest-match encoding, [CLS]/[SEP]/padding, save/load round trip and
 * malformed vocabulary files. */
#define _POSIX_C_SOURCE 200809L
#include "mec/data.h"
#include "test.h"

#include <unistd.h>

static char tmpdir[64];

static mec_tok *train(const char *const *texts, int n, int vocab, int min_freq) {
    mec_tok_train_options o;
    mec_tok_train_options_default(&o);
    o.vocab_size = vocab;
    o.min_frequency = min_freq;
    mec_tok *t = NULL;
    CHECK_OK(mec_tok_train(texts, n, &o, &t));
    return t;
}

static void test_train_by_hand(void) {
    /* words: "ab" x3, "cd" x1. Alphabet a b c d (ids 5-8) and ##a ##b ##c ##d
     * (9-12). Pair (a, ##b) seen 3 times is merged into "ab" (13); (c, ##d)
     * is seen once, below min_frequency 2, so training stops at 14. */
    const char *texts[] = {"ab ab", "AB cd"};
    mec_tok *t = train(texts, 2, 64, 2);
    if (!t) return;
    CHECK(mec_tok_vocab_size(t) == 14);
    CHECK_STR(mec_tok_piece(t, MEC_TOK_PAD), "[PAD]");
    CHECK_STR(mec_tok_piece(t, MEC_TOK_UNK), "[UNK]");
    CHECK_STR(mec_tok_piece(t, MEC_TOK_CLS), "[CLS]");
    CHECK_STR(mec_tok_piece(t, MEC_TOK_SEP), "[SEP]");
    CHECK_STR(mec_tok_piece(t, MEC_TOK_MASK), "[MASK]");
    CHECK_STR(mec_tok_piece(t, 5), "a");
    CHECK_STR(mec_tok_piece(t, 10), "##b");
    CHECK_STR(mec_tok_piece(t, 13), "ab");
    CHECK(mec_tok_piece(t, 14) == NULL);
    CHECK(mec_tok_lookup(t, "##d") == 12);
    CHECK(mec_tok_lookup(t, "cd") == -1);
    int64_t ids[16], n = 0;
    CHECK_OK(mec_tok_tokenize(t, "ab cd abab x", ids, 16, &n));
    int64_t want[] = {13, 7, 12, 13, 9, 10, MEC_TOK_UNK};
    CHECK(n == 7);
    for (int i = 0; i < 7 && i < n; i++) CHECK(ids[i] == want[i]);
    /* only cap ids are written, n counts them all */
    CHECK_OK(mec_tok_tokenize(t, "ab cd abab x", ids, 2, &n));
    CHECK(n == 7 && ids[0] == 13 && ids[1] == 7);
    mec_tok_destroy(t);
}

static void test_pretokenize(void) {
    const char *texts[] = {"hello hello hello world world world, hello!",
                           "Hello, World! hello world."};
    mec_tok *t = train(texts, 2, 200, 2);
    if (!t) return;
    int hello = mec_tok_lookup(t, "hello"), world = mec_tok_lookup(t, "world");
    CHECK(hello >= 0 && world >= 0);
    int64_t ids[16], n;
    /* case folded, punctuation split off, overstrike "_\bH" reads as H */
    CHECK_OK(mec_tok_tokenize(t, "  HELLO,\tw\bworld!\n_\bhello", ids, 16, &n));
    CHECK(n == 5);
    if (n == 5) {
        CHECK(ids[0] == hello && ids[2] == world && ids[4] == hello);
        CHECK(ids[1] == mec_tok_lookup(t, ",") && ids[3] == mec_tok_lookup(t, "!"));
    }
    /* a word longer than 100 bytes, or with an unknown byte, is one [UNK] */
    char long_word[160];
    memset(long_word, 'h', 150);
    long_word[150] = '\0';
    CHECK_OK(mec_tok_tokenize(t, long_word, ids, 16, &n));
    CHECK(n == 1 && ids[0] == MEC_TOK_UNK);
    CHECK_OK(mec_tok_tokenize(t, "hello caf\xc3\xa9 world", ids, 16, &n));
    CHECK(n == 3 && ids[1] == MEC_TOK_UNK && ids[2] == world);
    CHECK_OK(mec_tok_tokenize(t, "", ids, 16, &n));
    CHECK(n == 0);
    mec_tok_destroy(t);
}

static void test_encode(void) {
    const char *texts[] = {"one two three four five six seven eight nine ten"};
    mec_tok *t = train(texts, 1, 64, 1);
    if (!t) return;
    int64_t ids[8], mask[8];
    CHECK_OK(mec_tok_encode(t, "one two", 8, ids, mask));
    CHECK(ids[0] == MEC_TOK_CLS && ids[1] == mec_tok_lookup(t, "one") &&
          ids[2] == mec_tok_lookup(t, "two") && ids[3] == MEC_TOK_SEP);
    for (int i = 4; i < 8; i++) CHECK(ids[i] == MEC_TOK_PAD && mask[i] == 0);
    for (int i = 0; i < 4; i++) CHECK(mask[i] == 1);
    /* truncation keeps [SEP] last */
    int64_t small[4];
    CHECK_OK(mec_tok_encode(t, "one two three four", 4, small, NULL));
    CHECK(small[0] == MEC_TOK_CLS && small[1] == mec_tok_lookup(t, "one") &&
          small[2] == mec_tok_lookup(t, "two") && small[3] == MEC_TOK_SEP);
    CHECK(mec_tok_encode(t, "x", 1, small, NULL) == MEC_ERR_RANGE);
    mec_tok_destroy(t);
}

static void test_deterministic_and_bounded(void) {
    const char *texts[] = {"the quick brown fox jumps over the lazy dog",
                           "the lazy dog sleeps; the quick fox runs",
                           "foxes and dogs: quick, lazy, brown"};
    mec_tok *a = train(texts, 3, 90, 1), *b = train(texts, 3, 90, 1);
    if (!a || !b) goto out;
    CHECK(mec_tok_vocab_size(a) == mec_tok_vocab_size(b));
    CHECK(mec_tok_vocab_size(a) <= 90);
    int diff = 0;
    for (int i = 0; i < mec_tok_vocab_size(a); i++) diff += strcmp(mec_tok_piece(a, i), mec_tok_piece(b, i)) != 0;
    CHECK(diff == 0);
    /* frequent words become single pieces */
    CHECK(mec_tok_lookup(a, "the") >= 0 && mec_tok_lookup(a, "quick") >= 0);
out:
    mec_tok_destroy(a);
    mec_tok_destroy(b);
    mec_tok *t = NULL;
    mec_tok_train_options o;
    mec_tok_train_options_default(&o);
    o.vocab_size = 10;
    CHECK(mec_tok_train(texts, 3, &o, &t) == MEC_ERR_RANGE);
    o.vocab_size = 100;
    const char *empty[] = {"   \n\t "};
    CHECK(mec_tok_train(empty, 1, &o, &t) == MEC_ERR_INVALID_ARG);
    const char *with_null[] = {"a", NULL};
    CHECK(mec_tok_train(with_null, 2, &o, &t) == MEC_ERR_INVALID_ARG);
    CHECK(t == NULL);
}

static void test_fortunes_corpus(void) {
    /* trained on the real fortunes train split, nearly nothing is unknown */
    mec_dataset_options o;
    mec_dataset_options_default(&o);
    static const char *const topics[] = {"science", "work", NULL};
    o.topics = topics;
    o.vocab_size = 800;
    mec_dataset *ds = NULL;
    CHECK_OK(mec_dataset_open(MEC_DATASET_FORTUNES, &o, &ds));
    if (!ds) return;
    const mec_tok *t = mec_dataset_tokenizer(ds);
    CHECK(mec_tok_vocab_size(t) == 800);
    long tokens = 0, unk = 0, words_single = 0;
    int64_t ids[2048], n;
    for (int64_t i = 0; i < mec_dataset_count(ds); i++) {
        CHECK_OK(mec_tok_tokenize(t, mec_dataset_text(ds, i), ids, 2048, &n));
        for (int64_t k = 0; k < n && k < 2048; k++) unk += ids[k] == MEC_TOK_UNK;
        tokens += n;
    }
    CHECK(tokens > 10000);
    CHECK((double)unk / (double)tokens < 0.01);
    const char *common[] = {"the", "of", "and", "to"};
    for (int k = 0; k < 4; k++) words_single += mec_tok_lookup(t, common[k]) >= 0;
    CHECK(words_single == 4);
    mec_dataset_close(ds);
}

static void write_file(const char *path, const char *text) {
    CHECK_OK(mec_file_write_atomic(path, text, strlen(text)));
}

static void test_save_load(void) {
    const char *texts[] = {"to be or not to be, that is the question", "to do is to be"};
    mec_tok *t = train(texts, 2, 80, 1);
    if (!t) return;
    char path[128];
    snprintf(path, sizeof path, "%s/vocab.txt", tmpdir);
    CHECK_OK(mec_tok_save(t, path));
    mec_tok *u = NULL;
    CHECK_OK(mec_tok_load(path, &u));
    if (u) {
        CHECK(mec_tok_vocab_size(u) == mec_tok_vocab_size(t));
        int64_t a[32], b[32], ma[32], mb[32];
        CHECK_OK(mec_tok_encode(t, "To be, or not to do?", 32, a, ma));
        CHECK_OK(mec_tok_encode(u, "To be, or not to do?", 32, b, mb));
        CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(ma, mb, sizeof ma) == 0);
    }
    mec_tok_destroy(u);
    mec_tok_destroy(t);
    /* malformed files */
    u = NULL;
    write_file(path, "not-a-vocab 1\nsize 5\n");
    CHECK(mec_tok_load(path, &u) == MEC_ERR_PARSE);
    write_file(path, "mecbench-wordpiece 2\nsize 5\n");
    CHECK(mec_tok_load(path, &u) == MEC_ERR_UNSUPPORTED);
    write_file(path, "mecbench-wordpiece 1\nsize 7\n[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\n");
    CHECK(mec_tok_load(path, &u) == MEC_ERR_PARSE); /* 6 of 7 pieces */
    write_file(path, "mecbench-wordpiece 1\nsize 7\n[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\na\n");
    CHECK(mec_tok_load(path, &u) == MEC_ERR_PARSE);
    CHECK(strstr(mec_last_error(), "twice") != NULL);
    write_file(path, "mecbench-wordpiece 1\nsize 6\n[PAD]\n[CLS]\n[UNK]\n[SEP]\n[MASK]\na\n");
    CHECK(mec_tok_load(path, &u) == MEC_ERR_PARSE);
    write_file(path, "mecbench-wordpiece 1\nsize 99999999\n");
    CHECK(mec_tok_load(path, &u) == MEC_ERR_PARSE);
    write_file(path, "mecbench-wordpiece 1\nsize 6\n[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na");
    CHECK(mec_tok_load(path, &u) == MEC_ERR_PARSE); /* truncated: no final newline */
    write_file(path, "mecbench-wordpiece 1\nsize 6\n[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nab\n");
    CHECK_OK(mec_tok_load(path, &u));
    CHECK(u && mec_tok_lookup(u, "ab") == 5);
    mec_tok_destroy(u);
    u = NULL;
    snprintf(path, sizeof path, "%s/none.txt", tmpdir);
    CHECK(mec_tok_load(path, &u) == MEC_ERR_IO);
    CHECK(u == NULL);
}

static void test_alloc_failures(void) {
    /* every allocation of a small training run may fail: clean error, no leak or crash */
    const char *texts[] = {"alpha beta gamma alpha beta alpha", "gamma delta"};
    mec_tok_train_options o;
    mec_tok_train_options_default(&o);
    o.vocab_size = 70;
    o.min_frequency = 1;
    long clean = 0;
    for (long k = 0; k < 400; k++) {
        mec_tok *t = NULL;
        mec_alloc_fail_after(k);
        mec_status st = mec_tok_train(texts, 2, &o, &t);
        mec_alloc_fail_after(-1);
        if (st == MEC_OK) {
            mec_tok_destroy(t);
            clean = k;
            break;
        }
        CHECK(st == MEC_ERR_NOMEM && t == NULL);
    }
    CHECK(clean > 10); /* it needed some allocations, and then succeeded */
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mec_test_tok_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_train_by_hand);
    RUN(test_pretokenize);
    RUN(test_encode);
    RUN(test_deterministic_and_bounded);
    RUN(test_fortunes_corpus);
    RUN(test_save_load);
    RUN(test_alloc_failures);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_SUMMARY();
}
