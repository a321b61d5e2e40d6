/* core: status messages, allocator failure injection, tensors, f16. */
#include "mec/core.h"
#include "test.h"

#include <string.h>

static void test_error_message(void) {
    mec_status st = mec_error(MEC_ERR_SHAPE, "node '%s': input %d has %d dims", "Conv_1", 1, 3);
    CHECK(st == MEC_ERR_SHAPE);
    CHECK_STR(mec_last_error(), "node 'Conv_1': input 1 has 3 dims");
    mec_error_prefix(st, "model.onnx: ");
    CHECK_STR(mec_last_error(), "model.onnx: node 'Conv_1': input 1 has 3 dims");
    CHECK_STR(mec_status_name(MEC_ERR_NOMEM), "out of memory");
}

static void test_tensor_basic(void) {
    mec_tensor *t = NULL;
    int64_t shape[] = {2, 3, 4};
    CHECK_OK(mec_tensor_create(&t, MEC_F32, 3, shape));
    CHECK(mec_tensor_numel(t) == 24);
    CHECK(mec_tensor_bytes(t) == 96);
    CHECK(t->strides[0] == 12 && t->strides[1] == 4 && t->strides[2] == 1);
    CHECK(mec_tensor_is_contiguous(t));
    float *f = t->data;
    for (int i = 0; i < 24; i++) f[i] = (float)i;
    /* transposed view of dims 1,2 */
    mec_tensor v = *t;
    v.owned = NULL;
    v.shape[1] = 4; v.shape[2] = 3; v.strides[1] = 1; v.strides[2] = 4;
    CHECK(!mec_tensor_is_contiguous(&v));
    CHECK_NEAR(mec_tensor_get_f64(&v, 1), 4.0, 0);
    mec_tensor *c = NULL;
    CHECK_OK(mec_tensor_clone(&v, &c));
    CHECK(c && mec_tensor_is_contiguous(c));
    if (c) CHECK_NEAR(((float *)c->data)[3], 1.0, 0);
    mec_tensor_destroy(c);
    mec_tensor_destroy(t);
}

/* Strided copies against element-by-element reads: random shapes, random
 * dim orders of a dense buffer (NHWC-like permutations), sliced views with
 * gaps, size-1 and zero-size dims, every element size. */
static void test_tensor_copy_strided(void) {
    uint64_t rng = 0x2545F4914F6CDD1Dull;
#define NEXT() (rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17, rng)
    const mec_dtype types[] = {MEC_U8, MEC_F16, MEC_F32, MEC_F64};
    int bad = 0;
    for (int trial = 0; trial < 400; trial++) {
        mec_dtype dt = types[trial % 4];
        int nd = 1 + (int)(NEXT() % 5);
        int64_t shape[MEC_MAX_DIMS], step[MEC_MAX_DIMS], full[MEC_MAX_DIMS];
        for (int d = 0; d < nd; d++) {
            shape[d] = (int64_t)(NEXT() % 40);
            if (NEXT() % 4 == 0) shape[d] = 1;
            if (trial % 50 == 7 && d == 0) shape[d] = 0;
            step[d] = NEXT() % 5 == 0 ? 2 : 1; /* a slice with gaps */
            full[d] = shape[d] * step[d] + 1;
        }
        /* a dense buffer laid out in a random dim order */
        int order[MEC_MAX_DIMS];
        for (int d = 0; d < nd; d++) order[d] = d;
        for (int d = nd - 1; d > 0; d--) {
            int j = (int)(NEXT() % (uint64_t)(d + 1)), t = order[d];
            order[d] = order[j];
            order[j] = t;
        }
        int64_t bstride[MEC_MAX_DIMS], total = 1;
        for (int k = nd - 1; k >= 0; k--) {
            bstride[order[k]] = total;
            total *= full[order[k]];
        }
        if (total > (1 << 22)) continue;
        mec_tensor *buf = NULL;
        CHECK_OK(mec_tensor_create(&buf, dt, 1, &total));
        if (!buf) return;
        uint8_t *bytes = buf->data;
        for (int64_t i = 0; i < (int64_t)mec_tensor_bytes(buf); i++) bytes[i] = (uint8_t)NEXT();
        mec_tensor view = *buf;
        view.owned = NULL;
        view.ndim = nd;
        for (int d = 0; d < nd; d++) {
            view.shape[d] = shape[d];
            view.strides[d] = bstride[d] * step[d];
        }
        mec_tensor *out = NULL;
        CHECK_OK(mec_tensor_create(&out, dt, nd, shape));
        if (!out) {
            mec_tensor_destroy(buf);
            return;
        }
        CHECK_OK(mec_tensor_copy(out, &view));
        size_t es = mec_dtype_size(dt);
        int64_t n = mec_tensor_numel(out), idx[MEC_MAX_DIMS] = {0};
        for (int64_t k = 0; k < n && !bad; k++) {
            int64_t off = 0;
            for (int d = 0; d < nd; d++) off += idx[d] * view.strides[d];
            if (memcmp((char *)out->data + (size_t)k * es, (char *)buf->data + (size_t)off * es, es)) bad++;
            for (int d = nd - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        mec_tensor_destroy(out);
        mec_tensor_destroy(buf);
    }
#undef NEXT
    CHECK(bad == 0);
}

static void test_tensor_bad_dims(void) {
    mec_tensor t;
    int64_t neg[] = {2, -1};
    CHECK(mec_tensor_init(&t, MEC_F32, 2, neg) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "negative") != NULL);
    int64_t huge[] = {1 << 30, 1 << 30, 1 << 30};
    CHECK(mec_tensor_init(&t, MEC_F32, 3, huge) == MEC_ERR_SHAPE);
    int64_t ok[] = {3};
    CHECK(mec_tensor_init(&t, MEC_F32, 9, ok) == MEC_ERR_SHAPE);
}

static void test_alloc_injection(void) {
    mec_alloc_fail_after(0);
    mec_tensor *t = NULL;
    int64_t shape[] = {4};
    CHECK(mec_tensor_create(&t, MEC_F32, 1, shape) == MEC_ERR_NOMEM);
    CHECK(t == NULL);
    CHECK_OK(mec_tensor_create(&t, MEC_F32, 1, shape));
    mec_tensor_destroy(t);
    size_t out;
    CHECK(!mec_size_mul(SIZE_MAX / 2, 3, &out));
    CHECK(mec_calloc(SIZE_MAX / 2, 3) == NULL);
}

static void test_f16(void) {
    float vals[] = {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333333f};
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        float back = mec_f16_to_f32(mec_f32_to_f16(vals[i]));
        CHECK_REL(back, vals[i], 1e-3);
    }
    CHECK(mec_f32_to_f16(1.0f) == 0x3c00);
    CHECK(mec_f32_to_f16(1e6f) == 0x7c00);
    CHECK_NEAR(mec_bf16_to_f32(mec_f32_to_bf16(3.0f)), 3.0, 0);
}

static void test_threads(void) {
    int n = mec_threads_available();
    CHECK(n >= 1);
    mec_threads_set(1);
    CHECK(mec_threads_get() == 1);
    mec_threads_set(0);
    CHECK(mec_threads_get() == n);
}

int main(void) {
    RUN(test_error_message);
    RUN(test_tensor_basic);
    RUN(test_tensor_copy_strided);
    RUN(test_tensor_bad_dims);
    RUN(test_alloc_injection);
    RUN(test_f16);
    RUN(test_threads);
    return TEST_SUMMARY();
}
