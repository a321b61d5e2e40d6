/* The streaming loader (large initializers read straight into tensors) gives
 * the same graph as parsing the whole file, and bad files still fail cleanly. */
#include "mec/onnx.h"
#include "test.h"

#include <stdio.h>
#include <unistd.h>

/* x (1, N) → MatMul big (N, N) → Add small → y; big is ~1 MiB, above the
 * 64 KiB streaming threshold; the file is above the 1 MiB one. */
#define N 512

static mec_graph *build(void) {
    mec_graph *g = NULL;
    mec_graph_create("stream", &g);
    mec_graph_set_opset(g, "", 13);
    int64_t xs[] = {1, N}, ws[] = {N, N}, bs[] = {N};
    mec_graph_add_input(g, "x", MEC_F32, 2, xs, NULL, NULL);
    mec_tensor *w = NULL, *b = NULL, *w2 = NULL;
    mec_tensor_create(&w, MEC_F32, 2, ws);
    mec_tensor_create(&w2, MEC_F32, 2, ws);
    mec_tensor_create(&b, MEC_F32, 1, bs);
    for (int i = 0; i < N * N; i++) ((float *)w->data)[i] = (float)(((int64_t)i * 7919) % 1000) / 1000.0f;
    for (int i = 0; i < N * N; i++) ((float *)w2->data)[i] = (float)(((int64_t)i * 104729) % 997) / 997.0f;
    for (int i = 0; i < N; i++) ((float *)b->data)[i] = (float)i;
    mec_graph_add_initializer(g, "big", w, NULL);
    mec_graph_add_initializer(g, "small", b, NULL);
    mec_graph_add_initializer(g, "big2", w2, NULL);
    const char *i1[] = {"x", "big"}, *o1[] = {"h"}, *i2[] = {"h", "small"}, *o2[] = {"z"};
    const char *i3[] = {"z", "big2"}, *o3[] = {"y"};
    mec_graph_add_node(g, "MatMul", "", "mm", 2, i1, 1, o1, NULL);
    mec_graph_add_node(g, "Add", "", "add", 2, i2, 1, o2, NULL);
    mec_graph_add_node(g, "MatMul", "", "mm2", 2, i3, 1, o3, NULL);
    mec_graph_add_output(g, "y", NULL);
    return g;
}

static bool same_init(const mec_graph *a, const mec_graph *b, const char *name) {
    int va = mec_graph_find(a, name), vb = mec_graph_find(b, name);
    if (va < 0 || vb < 0) return false;
    const mec_tensor *ta = a->values[va].init, *tb = b->values[vb].init;
    return ta && tb && ta->dtype == tb->dtype && mec_tensor_same_shape(ta, tb) &&
           !memcmp(ta->data, tb->data, mec_tensor_bytes(ta)) &&
           ((uintptr_t)tb->data % MEC_ALIGN) == 0;
}

static void test_stream_equals_whole(void) {
    mec_graph *g = build();
    char path[] = "/tmp/mec_stream_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_OK(mec_onnx_save(g, path));
    mec_graph *streamed = NULL, *whole = NULL;
    CHECK_OK(mec_onnx_load(path, &streamed)); /* file path: streams big and big2 */
    void *buf;
    size_t len;
    CHECK_OK(mec_file_read(path, (size_t)1 << 30, &buf, &len));
    CHECK(len > ((size_t)1 << 20));
    CHECK_OK(mec_onnx_load_buffer(buf, len, "/tmp", path, &whole));
    if (streamed && whole) {
        CHECK(streamed->n_nodes == 3 && whole->n_nodes == 3);
        CHECK(same_init(g, streamed, "big") && same_init(g, streamed, "big2"));
        CHECK(same_init(g, streamed, "small"));
        CHECK(same_init(whole, streamed, "big"));
        CHECK(streamed->n_inputs == 1 && streamed->n_outputs == 1);
    }
    /* truncated in the middle of a large initializer: an error, no crash */
    for (size_t cut = len / 3; cut < len; cut += len / 3) {
        FILE *f = fopen(path, "wb");
        fwrite(buf, 1, cut, f);
        fclose(f);
        mec_graph *bad = NULL;
        CHECK(mec_onnx_load(path, &bad) != MEC_OK);
        CHECK(bad == NULL);
        CHECK(strstr(mec_last_error(), path) != NULL);
    }
    mec_free(buf);
    unlink(path);
    mec_graph_destroy(streamed);
    mec_graph_destroy(whole);
    mec_graph_destroy(g);
}

static void test_stream_alloc_failures(void) {
    mec_graph *g = build();
    char path[] = "/tmp/mec_stream_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    CHECK_OK(mec_onnx_save(g, path));
    int ok = 0;
    for (long k = 0; k < 300 && ok < 2; k++) {
        mec_graph *out = NULL;
        mec_alloc_fail_after(k);
        mec_status st = mec_onnx_load(path, &out);
        mec_alloc_fail_after(-1);
        CHECK(st == MEC_OK || st == MEC_ERR_NOMEM);
        if (!st) ok++;
        CHECK((st == MEC_OK) == (out != NULL));
        mec_graph_destroy(out);
    }
    CHECK(ok > 0);
    unlink(path);
    mec_graph_destroy(g);
}

int main(void) {
    RUN(test_stream_equals_whole);
    RUN(test_stream_alloc_failures);
    return TEST_SUMMARY();
}
