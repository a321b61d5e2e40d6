/* tensor files: TensorProto .pb, .npy and raw round trips for every dtype,
 * files from the ONNX test data and from numpy, and malformed files. */
#define _POSIX_C_SOURCE 200809L
#include "mec/onnx.h"
#include "onnx.pb-c.h"
#include "test.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#define TESTDATA "/usr/share/libonnx-testdata/data"

static char tmpdir[256];

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static bool have_numpy(void) {
    return access("/usr/bin/python3", X_OK) == 0 &&
           system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

static void write_bytes(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

/* A tensor of shape (2, 3) holding i * 1.5 - 3 (cast to the dtype). */
static mec_tensor *sample(mec_dtype dt) {
    int64_t shape[2] = {2, 3};
    mec_tensor *t = NULL;
    if (mec_tensor_create(&t, dt, 2, shape)) return NULL;
    for (int i = 0; i < 6; i++) {
        double v = i * 1.5 - 3;
        if (dt == MEC_U8 || dt == MEC_U16 || dt == MEC_U32 || dt == MEC_U64) v = i * 7;
        if (dt == MEC_BOOL) v = i % 2;
        mec_tensor_set_f64(t, i, v);
    }
    return t;
}

static bool same_tensor(const mec_tensor *a, const mec_tensor *b) {
    return a && b && a->dtype == b->dtype && mec_tensor_same_shape(a, b) &&
           !memcmp(a->data, b->data, mec_tensor_bytes(a));
}

static const mec_dtype all_numeric[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, MEC_I8,
                                        MEC_U8,  MEC_I16, MEC_U16, MEC_I32,  MEC_U32,
                                        MEC_I64, MEC_U64, MEC_BOOL};

static void test_pb_roundtrip_all_dtypes(void) {
    for (size_t i = 0; i < sizeof all_numeric / sizeof all_numeric[0]; i++) {
        mec_tensor *t = sample(all_numeric[i]), *back = NULL;
        char *name = NULL;
        CHECK(t != NULL);
        if (!t) continue;
        CHECK_OK(mec_tensor_save_pb(tmp_path("t.pb"), t, "input_0"));
        CHECK_OK(mec_tensor_load_pb(tmp_path("t.pb"), &back, &name));
        if (!same_tensor(t, back)) {
            fprintf(stderr, "  dtype %s differs after .pb round trip\n",
                    mec_dtype_name(all_numeric[i]));
            test_failed_checks++;
        }
        CHECK_STR(name, "input_0");
        mec_free(name);
        mec_tensor_destroy(back);
        mec_tensor_destroy(t);
    }
    /* a scalar and an empty tensor */
    mec_tensor *s = NULL, *e = NULL, *back = NULL;
    CHECK_OK(mec_tensor_create(&s, MEC_F64, 0, NULL));
    if (s) *(double *)s->data = -0.25;
    int64_t zero[2] = {0, 5};
    CHECK_OK(mec_tensor_create(&e, MEC_I64, 2, zero));
    CHECK_OK(mec_tensor_save_pb(tmp_path("s.pb"), s, NULL));
    CHECK_OK(mec_tensor_load_pb(tmp_path("s.pb"), &back, NULL));
    CHECK(back && back->ndim == 0 && *(double *)back->data == -0.25);
    mec_tensor_destroy(back);
    back = NULL;
    CHECK_OK(mec_tensor_save_pb(tmp_path("e.pb"), e, "empty"));
    CHECK_OK(mec_tensor_load_pb(tmp_path("e.pb"), &back, NULL));
    CHECK(back && back->ndim == 2 && back->shape[0] == 0 && back->shape[1] == 5);
    mec_tensor_destroy(back);
    mec_tensor_destroy(s);
    mec_tensor_destroy(e);
}

static void test_pb_testdata(void) {
    mec_tensor *t = NULL;
    char *name = NULL;
    CHECK_OK(mec_tensor_load_pb(TESTDATA "/node/test_add/test_data_set_0/input_0.pb", &t, &name));
    CHECK(t && t->dtype == MEC_F32 && t->ndim == 3 && t->shape[0] == 3 && t->shape[1] == 4 &&
          t->shape[2] == 5);
    CHECK_STR(name, "x");
    mec_free(name);
    mec_tensor_destroy(t);
    /* Every input/output .pb of the node tests loads, or is a refused string
     * (or non-tensor) file with a message. */
    DIR *d = opendir(TESTDATA "/node");
    int loaded = 0, refused = 0;
    struct dirent *e;
    char path[1024];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        for (int k = 0; k < 3; k++) {
            const char *kinds[3] = {"input_0", "input_1", "output_0"};
            snprintf(path, sizeof path, TESTDATA "/node/%s/test_data_set_0/%s.pb", e->d_name,
                     kinds[k]);
            if (access(path, R_OK)) continue;
            mec_status st = mec_tensor_load_pb(path, &t, NULL);
            if (st) {
                refused++;
                CHECK(strstr(mec_last_error(), path) != NULL);
            } else {
                loaded++;
                mec_tensor_destroy(t);
            }
        }
    }
    if (d) closedir(d);
    printf("     %d node test tensors loaded, %d refused\n", loaded, refused);
    CHECK(loaded > 1500);
    /* f16 and bool test data */
    CHECK_OK(mec_tensor_load_pb(TESTDATA "/node/test_cast_FLOAT_to_FLOAT16/test_data_set_0/output_0.pb",
                                &t, NULL));
    CHECK(t && t->dtype == MEC_F16);
    mec_tensor_destroy(t);
    CHECK_OK(mec_tensor_load_pb(TESTDATA "/node/test_and2d/test_data_set_0/input_0.pb", &t, NULL));
    CHECK(t && t->dtype == MEC_BOOL && t->ndim == 2);
    mec_tensor_destroy(t);
}

static void test_pb_errors(void) {
    mec_tensor *t = (mec_tensor *)1;
    /* string tensor */
    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    int64_t d1[1] = {1};
    ProtobufCBinaryData str = {3, (uint8_t *)"abc"};
    tp.dims = d1, tp.n_dims = 1, tp.has_data_type = 1, tp.data_type = MEC_STRING;
    tp.string_data = &str, tp.n_string_data = 1;
    uint8_t buf[256];
    size_t len = onnx__tensor_proto__pack(&tp, buf);
    CHECK(mec_tensor_load_pb_buffer(buf, len, "s.pb", &t, NULL) == MEC_ERR_UNSUPPORTED);
    CHECK(t == NULL && strstr(mec_last_error(), "s.pb: ") && strstr(mec_last_error(), "string"));
    /* raw_data of the wrong length */
    tp = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
    int64_t d2[2] = {2, 2};
    uint8_t raw[12] = {0};
    tp.dims = d2, tp.n_dims = 2, tp.has_data_type = 1, tp.data_type = MEC_F32;
    tp.has_raw_data = 1, tp.raw_data.data = raw, tp.raw_data.len = 12;
    len = onnx__tensor_proto__pack(&tp, buf);
    CHECK(mec_tensor_load_pb_buffer(buf, len, "r.pb", &t, NULL) == MEC_ERR_PARSE);
    CHECK(strstr(mec_last_error(), "raw_data has 12 bytes, expected 16") != NULL);
    /* truncated at every length */
    tp.raw_data.len = 16;
    uint8_t raw16[16] = {0};
    tp.raw_data.data = raw16;
    len = onnx__tensor_proto__pack(&tp, buf);
    int errors = 0;
    for (size_t cut = 0; cut < len; cut++) {
        mec_status st = mec_tensor_load_pb_buffer(buf, cut, "cut.pb", &t, NULL);
        if (st) errors++;
        else mec_tensor_destroy(t);
    }
    CHECK(errors >= (int)len - 2);
    CHECK(mec_tensor_load_pb(tmp_path("does-not-exist.pb"), &t, NULL) == MEC_ERR_IO);
}

static void test_npy_roundtrip(void) {
    const mec_dtype npy_dtypes[] = {MEC_F32, MEC_F64, MEC_F16, MEC_I8,  MEC_U8,  MEC_I16,
                                    MEC_U16, MEC_I32, MEC_U32, MEC_I64, MEC_U64, MEC_BOOL};
    for (size_t i = 0; i < sizeof npy_dtypes / sizeof npy_dtypes[0]; i++) {
        mec_tensor *t = sample(npy_dtypes[i]), *back = NULL;
        CHECK_OK(mec_tensor_save_npy(tmp_path("t.npy"), t));
        CHECK_OK(mec_tensor_load_npy(tmp_path("t.npy"), &back));
        if (!same_tensor(t, back)) {
            fprintf(stderr, "  dtype %s differs after .npy round trip\n",
                    mec_dtype_name(npy_dtypes[i]));
            test_failed_checks++;
        }
        mec_tensor_destroy(back);
        mec_tensor_destroy(t);
    }
    /* header is padded to 64 bytes; 1-D shapes keep their trailing comma */
    int64_t n5[1] = {5};
    mec_tensor *v = NULL, *back = NULL;
    CHECK_OK(mec_tensor_create(&v, MEC_I32, 1, n5));
    CHECK_OK(mec_tensor_save_npy(tmp_path("v.npy"), v));
    void *data;
    size_t len;
    CHECK_OK(mec_file_read(tmp_path("v.npy"), 1 << 20, &data, &len));
    CHECK(len == 128 + 20); /* 72 header bytes pad to 128 */
    CHECK(data && strstr((char *)data + 10, "'shape': (5,)") && ((char *)data)[127] == '\n');
    mec_free(data);
    /* bf16 has no .npy type */
    mec_tensor *b = sample(MEC_BF16);
    CHECK(mec_tensor_save_npy(tmp_path("b.npy"), b) == MEC_ERR_UNSUPPORTED);
    mec_tensor_destroy(b);
    /* a strided (transposed) view is written in logical order */
    mec_tensor *m = sample(MEC_F32);
    mec_tensor tv = *m;
    tv.owned = NULL;
    tv.shape[0] = 3, tv.shape[1] = 2, tv.strides[0] = 1, tv.strides[1] = 3;
    CHECK_OK(mec_tensor_save_npy(tmp_path("tv.npy"), &tv));
    CHECK_OK(mec_tensor_load_npy(tmp_path("tv.npy"), &back));
    CHECK(back && back->shape[0] == 3 && mec_tensor_get_f64(back, 1) == mec_tensor_get_f64(m, 3));
    mec_tensor_destroy(back);
    mec_tensor_destroy(m);
    mec_tensor_destroy(v);
}

static void test_npy_numpy_interop(void) {
    if (!have_numpy()) {
        printf("     (numpy not found: skipped)\n");
        return;
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as np; d='%s';"
             "np.save(d+'/np_f4.npy', np.arange(24, dtype='<f4').reshape(2,3,4) / 4);"
             "np.save(d+'/np_i8.npy', np.array([-1, 2**40], dtype='<i8'));"
             "np.save(d+'/np_b1.npy', np.array([[True, False]]));"
             "np.save(d+'/np_f2.npy', np.array([1.5, -2], dtype='<f2'));"
             "np.save(d+'/np_scalar.npy', np.float64(3.25));"
             "np.save(d+'/np_fortran.npy', np.asfortranarray(np.ones((2,3), dtype='<f4')));"
             "np.save(d+'/np_big.npy', np.ones(3, dtype='>f4'));"
             "np.lib.format.write_array(open(d+'/np_v2.npy','wb'), np.ones(2, dtype='<u2'), "
             "version=(2,0))\"",
             tmpdir);
    CHECK(system(cmd) == 0);
    mec_tensor *t = NULL;
    CHECK_OK(mec_tensor_load_npy(tmp_path("np_f4.npy"), &t));
    CHECK(t && t->dtype == MEC_F32 && t->ndim == 3 && t->shape[2] == 4 &&
          mec_tensor_get_f64(t, 23) == 5.75);
    mec_tensor_destroy(t);
    CHECK_OK(mec_tensor_load_npy(tmp_path("np_i8.npy"), &t));
    CHECK(t && t->dtype == MEC_I64 && mec_tensor_get_i64(t, 1) == ((int64_t)1 << 40));
    mec_tensor_destroy(t);
    CHECK_OK(mec_tensor_load_npy(tmp_path("np_b1.npy"), &t));
    CHECK(t && t->dtype == MEC_BOOL && t->shape[1] == 2 && mec_tensor_get_i64(t, 0) == 1);
    mec_tensor_destroy(t);
    CHECK_OK(mec_tensor_load_npy(tmp_path("np_f2.npy"), &t));
    CHECK(t && t->dtype == MEC_F16 && mec_tensor_get_f64(t, 1) == -2.0);
    mec_tensor_destroy(t);
    CHECK_OK(mec_tensor_load_npy(tmp_path("np_scalar.npy"), &t));
    CHECK(t && t->ndim == 0 && mec_tensor_get_f64(t, 0) == 3.25);
    mec_tensor_destroy(t);
    CHECK_OK(mec_tensor_load_npy(tmp_path("np_v2.npy"), &t));
    CHECK(t && t->dtype == MEC_U16 && t->shape[0] == 2);
    mec_tensor_destroy(t);
    t = NULL;
    CHECK(mec_tensor_load_npy(tmp_path("np_fortran.npy"), &t) == MEC_ERR_UNSUPPORTED);
    CHECK(strstr(mec_last_error(), "Fortran order") != NULL && t == NULL);
    CHECK(mec_tensor_load_npy(tmp_path("np_big.npy"), &t) == MEC_ERR_UNSUPPORTED);
    CHECK(strstr(mec_last_error(), "big-endian") != NULL);
    /* numpy reads what we write */
    mec_tensor *s = sample(MEC_I16);
    CHECK_OK(mec_tensor_save_npy(tmp_path("ours.npy"), s));
    mec_tensor_destroy(s);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as np, sys; a=np.load('%s');"
             "sys.exit(0 if a.dtype=='<i2' and a.shape==(2,3) and list(a.ravel())==[-3,-1,0,1,3,4]"
             " else 1)\"",
             tmp_path("ours.npy"));
    CHECK(system(cmd) == 0);
}

static void expect_npy_error(const char *header, mec_status want, const char *needle) {
    /* magic, version 1.0, header length, header, 4 data bytes */
    unsigned char buf[512];
    size_t hlen = strlen(header);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)hlen;
    buf[9] = 0;
    memcpy(buf + 10, header, hlen);
    memset(buf + 10 + hlen, 0, 4);
    mec_tensor *t = (mec_tensor *)1;
    mec_status st = mec_tensor_load_npy_buffer(buf, 10 + hlen + 4, "h.npy", &t);
    if (st != want || t != NULL || !strstr(mec_last_error(), needle) ||
        strncmp(mec_last_error(), "h.npy: ", 7)) {
        fprintf(stderr, "  header %s: expected %d '%s', got %d: %s\n", header, (int)want, needle,
                (int)st, mec_last_error());
        test_failed_checks++;
    }
    if (st == MEC_OK) mec_tensor_destroy(t);
}

static void test_npy_errors(void) {
    mec_tensor *t = NULL;
    /* the good header, to show the harness accepts it */
    unsigned char ok[128] = "\x93NUMPY\x01\x00";
    const char *h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n";
    ok[8] = (unsigned char)strlen(h);
    memcpy(ok + 10, h, strlen(h));
    CHECK_OK(mec_tensor_load_npy_buffer(ok, 10 + strlen(h) + 4, "ok.npy", &t));
    mec_tensor_destroy(t);
    expect_npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", MEC_ERR_PARSE,
                     ".npy data is 4 bytes, expected 8");
    expect_npy_error("{'descr': '<f4', 'fortran_order': False}", MEC_ERR_PARSE, "must give");
    expect_npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
                     MEC_ERR_PARSE, "unknown key 'x'");
    expect_npy_error("{'descr': '<c8', 'fortran_order': False, 'shape': (), }",
                     MEC_ERR_UNSUPPORTED, "'<c8' is not supported");
    expect_npy_error("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", MEC_ERR_PARSE,
                     "True or False");
    expect_npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", MEC_ERR_PARSE,
                     "non-negative integer");
    expect_npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1), }", MEC_ERR_PARSE,
                     "trailing comma");
    expect_npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }",
                     MEC_ERR_UNSUPPORTED, "more than 8 dimensions");
    expect_npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk",
                     MEC_ERR_PARSE, "trailing characters");
    expect_npy_error("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
                     MEC_ERR_PARSE, "given twice");
    expect_npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': "
                     "(1099511627776, 1099511627776), }",
                     MEC_ERR_SHAPE, "more than 2^40 elements");
    /* bad magic, header length past the end, truncations of a good file */
    CHECK(mec_tensor_load_npy_buffer("NUMPY-ish", 9, "m.npy", &t) == MEC_ERR_PARSE);
    CHECK(strstr(mec_last_error(), "not a .npy file") != NULL);
    unsigned char longhdr[16] = "\x93NUMPY\x01\x00\xff\x00";
    CHECK(mec_tensor_load_npy_buffer(longhdr, 16, "l.npy", &t) == MEC_ERR_PARSE);
    CHECK(strstr(mec_last_error(), "runs past") != NULL);
    for (size_t cut = 0; cut < 10 + strlen(h) + 4; cut++) {
        CHECK(mec_tensor_load_npy_buffer(ok, cut, "cut.npy", &t) != MEC_OK);
        CHECK(t == NULL);
    }
}

static void test_raw(void) {
    float vals[6] = {1, 2, 3, 4, 5, 6};
    write_bytes(tmp_path("x.raw"), vals, sizeof vals);
    int64_t good[2] = {2, 3}, bad[2] = {2, 4};
    mec_tensor *t = NULL;
    CHECK_OK(mec_tensor_load_raw(tmp_path("x.raw"), MEC_F32, 2, good, &t));
    CHECK(t && t->shape[1] == 3 && ((float *)t->data)[5] == 6.0f);
    mec_tensor_destroy(t);
    t = NULL;
    CHECK(mec_tensor_load_raw(tmp_path("x.raw"), MEC_F32, 2, bad, &t) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "24 bytes") && strstr(mec_last_error(), "needs 32 bytes"));
    CHECK(t == NULL);
    /* the same bytes as int16 (2, 6) */
    int64_t s16[2] = {2, 6};
    CHECK_OK(mec_tensor_load_raw(tmp_path("x.raw"), MEC_I16, 2, s16, &t));
    CHECK(t && t->dtype == MEC_I16);
    mec_tensor_destroy(t);
    int64_t neg[1] = {-3};
    CHECK(mec_tensor_load_raw(tmp_path("x.raw"), MEC_F32, 1, neg, &t) == MEC_ERR_SHAPE);
    CHECK(mec_tensor_load_raw(tmp_path("nope.raw"), MEC_F32, 2, good, &t) == MEC_ERR_IO);
    CHECK(mec_tensor_load_raw(tmp_path("x.raw"), MEC_STRING, 2, good, &t) == MEC_ERR_UNSUPPORTED);
}

static void cleanup_tmp(void) {
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') unlink(tmp_path(e->d_name));
    closedir(d);
    rmdir(tmpdir);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mec_test_tio_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_pb_roundtrip_all_dtypes);
    RUN(test_pb_testdata);
    RUN(test_pb_errors);
    RUN(test_npy_roundtrip);
    RUN(test_npy_numpy_interop);
    RUN(test_npy_errors);
    RUN(test_raw);
    cleanup_tmp();
    return TEST_SUMMARY();
}
