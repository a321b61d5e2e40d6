/* data/image: JPEG/PNG decode against PIL's values, encode round trips,
 * bilinear resize against PyTorch's, model-input tensors, and corrupt or
 * truncated files (every truncation length, random byte flips) that must
 * give an error and never a crash. */
#include "mec/data.h"
#include "test.h"

#include <stdint.h>

#define IMG_DIR "tests/data/images/"

static void test_png_decode(void) {
    mec_image img;
    CHECK_OK(mec_image_load(IMG_DIR "rgb_16x12.png", &img));
    CHECK(img.width == 16 && img.height == 12 && img.channels == 3);
    if (!img.pixels) return;
    int bad = 0;
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 16; x++) {
            const uint8_t *p = img.pixels + (y * 16 + x) * 3;
            bad += p[0] != x * 16 || p[1] != y * 20 || p[2] != (x + y) * 8;
        }
    CHECK(bad == 0);
    mec_image_release(&img);
    CHECK(img.pixels == NULL);
}

static void test_png_grey_alpha(void) {
    mec_image img;
    CHECK_OK(mec_image_load(IMG_DIR "grey_alpha_8x8.png", &img));
    CHECK(img.width == 8 && img.height == 8 && img.channels == 3);
    if (!img.pixels) return;
    const uint8_t *p = img.pixels + (5 * 8 + 3) * 3; /* grey x*30+y = 95, alpha dropped */
    CHECK(p[0] == 95 && p[1] == 95 && p[2] == 95);
    mec_image_release(&img);
}

static void test_jpeg_decode(void) {
    /* reference: PIL (libjpeg-turbo) decode of the same file */
    mec_image img;
    CHECK_OK(mec_image_load(IMG_DIR "photo_40x30.jpg", &img));
    CHECK(img.width == 40 && img.height == 30 && img.channels == 3);
    if (!img.pixels) return;
    double mean[3] = {0};
    for (int i = 0; i < 40 * 30; i++)
        for (int c = 0; c < 3; c++) mean[c] += img.pixels[i * 3 + c] / 1200.0;
    CHECK_NEAR(mean[0], 105.35916667, 0.5);
    CHECK_NEAR(mean[1], 134.38666667, 0.5);
    CHECK_NEAR(mean[2], 49.61166667, 0.5);
    const uint8_t *p = img.pixels + (15 * 40 + 20) * 3;
    CHECK_NEAR(p[0], 111, 1);
    CHECK_NEAR(p[1], 155, 1);
    CHECK_NEAR(p[2], 32, 1);
    p = img.pixels;
    CHECK_NEAR(p[0], 116, 1);
    CHECK_NEAR(p[1], 152, 1);
    CHECK_NEAR(p[2], 30, 1);
    mec_image_release(&img);
}

static void test_probe_and_sniff(void) {
    CHECK(mec_image_sniff(IMG_DIR "photo_40x30.jpg"));
    CHECK(mec_image_sniff(IMG_DIR "rgb_16x12.png"));
    CHECK(!mec_image_sniff("tests/unit/test.h"));
    CHECK(!mec_image_sniff(IMG_DIR "does-not-exist.png"));
    void *data;
    size_t len;
    int w, h;
    CHECK_OK(mec_file_read(IMG_DIR "photo_40x30.jpg", 1 << 20, &data, &len));
    CHECK_OK(mec_image_probe(data, len, "photo", &w, &h));
    CHECK(w == 40 && h == 30);
    mec_free(data);
    CHECK_OK(mec_file_read(IMG_DIR "rgb_16x12.png", 1 << 20, &data, &len));
    CHECK_OK(mec_image_probe(data, len, "png", &w, &h));
    CHECK(w == 16 && h == 12);
    mec_free(data);
}

static void test_roundtrips(void) {
    mec_image img, back;
    CHECK_OK(mec_image_load(IMG_DIR "photo_40x30.jpg", &img));
    void *buf;
    size_t len;
    CHECK_OK(mec_image_encode_png(&img, &buf, &len));
    CHECK_OK(mec_image_decode(buf, len, "png roundtrip", &back));
    CHECK(back.width == 40 && back.height == 30);
    if (back.pixels) CHECK(memcmp(back.pixels, img.pixels, 40 * 30 * 3) == 0);
    mec_image_release(&back);
    mec_free(buf);

    CHECK_OK(mec_image_encode_jpeg(&img, 95, &buf, &len));
    CHECK_OK(mec_image_decode(buf, len, "jpeg roundtrip", &back));
    CHECK(back.width == 40 && back.height == 30);
    double err = 0;
    if (back.pixels)
        for (int i = 0; i < 40 * 30 * 3; i++) err += fabs((double)back.pixels[i] - img.pixels[i]);
    CHECK(err / (40 * 30 * 3) < 3.0);
    mec_image_release(&back);
    size_t len95 = len;
    mec_free(buf);
    CHECK_OK(mec_image_encode_jpeg(&img, 20, &buf, &len));
    CHECK(len < len95); /* quality drives size */
    mec_free(buf);
    CHECK(mec_image_encode_jpeg(&img, 0, &buf, &len) == MEC_ERR_RANGE);
    CHECK(mec_image_encode_jpeg(&img, 101, &buf, &len) == MEC_ERR_RANGE);
    mec_image_release(&img);
}

static void test_resize_vs_torch(void) {
    /* reference: torch.nn.functional.interpolate(bilinear, align_corners=False,
     * antialias=False), rounded half up */
    mec_image img, out;
    CHECK_OK(mec_image_load(IMG_DIR "rgb_16x12.png", &img));
    struct {
        int w, h;
        long sum;
        int px[3][3]; /* at (h/2, w/3), (h-1, w-1), (0, 0) */
    } ref[2] = {{7, 5, 11690, {{83, 110, 86}, {230, 206, 197}, {10, 14, 11}}},
                {37, 29, 358382, {{78, 110, 83}, {240, 220, 208}, {0, 0, 0}}}};
    for (int r = 0; r < 2; r++) {
        int w = ref[r].w, h = ref[r].h;
        CHECK_OK(mec_image_resize(&img, w, h, &out));
        if (!out.pixels) continue;
        long sum = 0;
        for (int i = 0; i < w * h * 3; i++) sum += out.pixels[i];
        CHECK_NEAR(sum, ref[r].sum, w * h * 3 / 10.0);
        int at[3][2] = {{h / 2, w / 3}, {h - 1, w - 1}, {0, 0}};
        for (int k = 0; k < 3; k++)
            for (int c = 0; c < 3; c++)
                CHECK_NEAR(out.pixels[(at[k][0] * w + at[k][1]) * 3 + c], ref[r].px[k][c], 1);
        mec_image_release(&out);
    }
    /* same size is the identity */
    CHECK_OK(mec_image_resize(&img, 16, 12, &out));
    if (out.pixels) CHECK(memcmp(out.pixels, img.pixels, 16 * 12 * 3) == 0);
    mec_image_release(&out);
    CHECK(mec_image_resize(&img, 0, 5, &out) == MEC_ERR_RANGE);
    mec_image_release(&img);
}

static void test_to_tensor(void) {
    uint8_t px[2 * 2 * 3] = {0, 128, 255, 10, 20, 30, 40, 50, 60, 255, 255, 255};
    mec_image img = {2, 2, 3, px};
    mec_image_prep p;
    mec_image_prep_imagenet(&p);
    CHECK(p.width == 224 && p.height == 224);
    p.width = p.height = 0; /* keep 2x2 */
    mec_tensor *t = NULL;
    CHECK_OK(mec_image_to_tensor(&img, &p, &t));
    CHECK(t && t->ndim == 4 && t->shape[0] == 1 && t->shape[1] == 3 && t->shape[2] == 2 &&
          t->shape[3] == 2);
    if (t) {
        const float *f = t->data;
        CHECK_NEAR(f[0], (0 / 255.0 - 0.485) / 0.229, 1e-5);         /* R of (0,0) */
        CHECK_NEAR(f[4 + 0], (128 / 255.0 - 0.456) / 0.224, 1e-5);   /* G of (0,0) */
        CHECK_NEAR(f[8 + 3], (255 / 255.0 - 0.406) / 0.225, 1e-5);   /* B of (1,1) */
        CHECK_NEAR(f[1], (10 / 255.0 - 0.485) / 0.229, 1e-5);        /* R of (0,1) */
    }
    mec_tensor_destroy(t);
    p.nhwc = true;
    p.width = 4;
    p.height = 6;
    CHECK_OK(mec_image_to_tensor(&img, &p, &t));
    CHECK(t && t->shape[1] == 6 && t->shape[2] == 4 && t->shape[3] == 3);
    mec_tensor_destroy(t);
    p.std[1] = 0;
    CHECK(mec_image_to_tensor(&img, &p, &t) == MEC_ERR_INVALID_ARG);
    CHECK(t == NULL);
    mec_image_prep_imagenet(&p);
    mec_image two = {2, 3, 2, px}; /* 2 channels: not an image we make */
    CHECK(mec_image_to_tensor(&two, &p, &t) == MEC_ERR_INVALID_ARG);
    CHECK(t == NULL);
}

/* Every prefix of a valid file must fail cleanly (or, for a few bytes past
 * the last needed one, succeed) — never crash or hang. */
static void truncations(const char *path, size_t min_fail_len) {
    void *data;
    size_t len;
    CHECK_OK(mec_file_read(path, 1 << 20, &data, &len));
    int ok = 0, errors = 0, unexpected = 0;
    for (size_t n = 0; n < len; n++) {
        mec_image img;
        mec_status st = mec_image_decode(data, n, path, &img);
        if (st == MEC_OK) {
            ok++;
            mec_image_release(&img);
            if (n < min_fail_len) unexpected++;
        } else {
            errors++;
            CHECK(img.pixels == NULL);
            if (st != MEC_ERR_PARSE && st != MEC_ERR_UNSUPPORTED) unexpected++;
        }
    }
    CHECK(unexpected == 0);
    CHECK(errors >= (int)min_fail_len);
    mec_free(data);
}

static void test_truncated(void) {
    /* a PNG needs its IEND chunk (12 bytes) only for png_read_end; a JPEG
     * without its last 2 bytes (EOI) still decodes every row */
    truncations(IMG_DIR "rgb_16x12.png", 86 - 12);
    truncations(IMG_DIR "photo_40x30.jpg", 1072 - 2);
    mec_image img;
    CHECK(mec_image_decode("\xff\xd8\xff", 3, "tiny.jpg", &img) == MEC_ERR_PARSE);
    CHECK(strstr(mec_last_error(), "tiny.jpg") != NULL);
    CHECK(mec_image_decode("GIF89a", 6, "x.gif", &img) == MEC_ERR_UNSUPPORTED);
    CHECK(mec_image_load(IMG_DIR "nope.jpg", &img) == MEC_ERR_IO);
}

static void test_corrupt_bytes(void) {
    const char *files[2] = {IMG_DIR "photo_40x30.jpg", IMG_DIR "rgb_16x12.png"};
    uint64_t r = 12345;
    for (int f = 0; f < 2; f++) {
        void *data;
        size_t len;
        CHECK_OK(mec_file_read(files[f], 1 << 20, &data, &len));
        uint8_t *copy = mec_malloc(len);
        int failures = 0;
        for (int trial = 0; trial < 300; trial++) {
            memcpy(copy, data, len);
            for (int k = 0; k < 1 + trial % 4; k++) {
                r = r * 6364136223846793005ULL + 1442695040888963407ULL;
                copy[3 + (r >> 33) % (len - 3)] ^= (uint8_t)(1u << ((r >> 20) % 8));
            }
            mec_image img;
            mec_status st = mec_image_decode(copy, len, files[f], &img);
            if (st == MEC_OK) {
                CHECK(img.width > 0 && img.height > 0 && img.pixels != NULL);
                mec_image_release(&img);
            } else {
                failures++;
            }
        }
        CHECK(failures > 0); /* corruption is detected at least sometimes */
        mec_free(copy);
        mec_free(data);
    }
}

static void test_huge_dimensions(void) {
    /* PNG header claiming 60000 x 60000: more than 2^28 pixels */
    void *data;
    size_t len;
    CHECK_OK(mec_file_read(IMG_DIR "rgb_16x12.png", 1 << 20, &data, &len));
    uint8_t *p = data;
    uint32_t big = 60000;
    for (int k = 0; k < 2; k++) {
        p[16 + 4 * k] = (uint8_t)(big >> 24);
        p[17 + 4 * k] = (uint8_t)(big >> 16);
        p[18 + 4 * k] = (uint8_t)(big >> 8);
        p[19 + 4 * k] = (uint8_t)big;
    }
    mec_image img;
    mec_status st = mec_image_decode(data, len, "huge.png", &img);
    CHECK(st == MEC_ERR_RANGE || st == MEC_ERR_PARSE); /* CRC or size bound */
    CHECK(img.pixels == NULL);
    mec_free(data);
}

int main(void) {
    RUN(test_png_decode);
    RUN(test_png_grey_alpha);
    RUN(test_jpeg_decode);
    RUN(test_probe_and_sniff);
    RUN(test_roundtrips);
    RUN(test_resize_vs_torch);
    RUN(test_to_tensor);
    RUN(test_truncated);
    RUN(test_corrupt_bytes);
    RUN(test_huge_dimensions);
    return TEST_SUMMARY();
}
