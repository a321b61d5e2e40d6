/* Images: JPEG/PNG decode and encode (libjpeg-turbo, libpng) with error
 * managers that longjmp back to us instead of exiting, bilinear resize and
 * conversion into normalised model input tensors. */
#include "mec/data.h"

#include <stdio.h> /* before jpeglib.h, which uses FILE */

#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#define MEC_IMAGE_MAX_PIXELS ((size_t)1 << 28)
#define MEC_IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)

static bool is_jpeg(const uint8_t *p, size_t n) { return n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF; }
static bool is_png(const uint8_t *p, size_t n) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    return n >= 8 && memcmp(p, sig, 8) == 0;
}

void mec_image_release(mec_image *img) {
    if (!img) return;
    mec_free(img->pixels);
    memset(img, 0, sizeof *img);
}

static mec_status image_alloc(mec_image *img, int w, int h, int c, const char *label) {
    size_t px, bytes;
    if (w <= 0 || h <= 0 || c < 1 || c > 4)
        return mec_error(MEC_ERR_SHAPE, "%s: bad image size %dx%dx%d", label, w, h, c);
    if (!mec_size_mul((size_t)w, (size_t)h, &px) || px > MEC_IMAGE_MAX_PIXELS)
        return mec_error(MEC_ERR_RANGE, "%s: image is %dx%d, more than the 2^28 pixels allowed",
                         label, w, h);
    if (!mec_size_mul(px, (size_t)c, &bytes)) return mec_error(MEC_ERR_RANGE, "%s: too large", label);
    img->pixels = mec_malloc(bytes);
    if (!img->pixels) return mec_error_prefix(MEC_ERR_NOMEM, "%s: ", label);
    img->width = w;
    img->height = h;
    img->channels = c;
    return MEC_OK;
}

/* ------------------------------------------------------------------ JPEG */

typedef struct jpeg_err {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_err *e = (jpeg_err *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 1);
}

/* Warnings (a truncated or corrupt stream) are errors for us: libjpeg would
 * otherwise fill the missing rows with grey and call it a success. */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
    jpeg_err *e = (jpeg_err *)cinfo->err;
    if (level < 0) {
        (*cinfo->err->format_message)(cinfo, e->msg);
        longjmp(e->jump, 1);
    }
}

typedef struct jpeg_dec_ctx {
    struct jpeg_decompress_struct cinfo;
    jpeg_err err;
    mec_image img;
} jpeg_dec_ctx;

static mec_status decode_jpeg(const uint8_t *buf, size_t len, const char *label, mec_image *out) {
    jpeg_dec_ctx *ctx = mec_calloc(1, sizeof *ctx);
    if (!ctx) return mec_error_prefix(MEC_ERR_NOMEM, "%s: ", label);
    mec_status st = MEC_OK;
    ctx->cinfo.err = jpeg_std_error(&ctx->err.mgr);
    ctx->err.mgr.error_exit = jpeg_on_error;
    ctx->err.mgr.emit_message = jpeg_on_message;
    if (setjmp(ctx->err.jump)) {
        st = mec_error(MEC_ERR_PARSE, "%s: bad JPEG: %s", label, ctx->err.msg);
        goto done;
    }
    jpeg_create_decompress(&ctx->cinfo);
    if (len > (size_t)(unsigned long)-1) {
        st = mec_error(MEC_ERR_RANGE, "%s: JPEG of %zu bytes is too large", label, len);
        goto done;
    }
    jpeg_mem_src(&ctx->cinfo, buf, (unsigned long)len);
    jpeg_read_header(&ctx->cinfo, TRUE);
    ctx->cinfo.out_color_space = JCS_RGB;
    if (ctx->cinfo.jpeg_color_space == JCS_CMYK || ctx->cinfo.jpeg_color_space == JCS_YCCK) {
        st = mec_error(MEC_ERR_UNSUPPORTED, "%s: CMYK JPEG is not supported", label);
        goto done;
    }
    if ((size_t)ctx->cinfo.image_width * ctx->cinfo.image_height > MEC_IMAGE_MAX_PIXELS ||
        ctx->cinfo.image_width > 65535 || ctx->cinfo.image_height > 65535) {
        st = mec_error(MEC_ERR_RANGE, "%s: JPEG is %ux%u, more than the 2^28 pixels allowed", label,
                       ctx->cinfo.image_width, ctx->cinfo.image_height);
        goto done;
    }
    jpeg_start_decompress(&ctx->cinfo);
    if (ctx->cinfo.output_components != 3) {
        st = mec_error(MEC_ERR_UNSUPPORTED, "%s: JPEG decodes to %d components, expected 3", label,
                       ctx->cinfo.output_components);
        goto done;
    }
    st = image_alloc(&ctx->img, (int)ctx->cinfo.output_width, (int)ctx->cinfo.output_height, 3,
                     label);
    if (st != MEC_OK) goto done;
    size_t stride = (size_t)ctx->img.width * 3;
    while (ctx->cinfo.output_scanline < ctx->cinfo.output_height) {
        JSAMPROW row = ctx->img.pixels + (size_t)ctx->cinfo.output_scanline * stride;
        jpeg_read_scanlines(&ctx->cinfo, &row, 1);
    }
    jpeg_finish_decompress(&ctx->cinfo);
done:
    jpeg_destroy_decompress(&ctx->cinfo);
    if (st == MEC_OK)
        *out = ctx->img;
    else
        mec_image_release(&ctx->img);
    mec_free(ctx);
    return st;
}

typedef struct jpeg_enc_ctx {
    struct jpeg_compress_struct cinfo;
    jpeg_err err;
    unsigned char *mem;
    unsigned long mem_len;
} jpeg_enc_ctx;

mec_status mec_image_encode_jpeg(const mec_image *img, int quality, void **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    if (!img || !img->pixels || img->width <= 0 || img->height <= 0 ||
        (img->channels != 1 && img->channels != 3))
        return mec_error(MEC_ERR_INVALID_ARG, "encode_jpeg: need a 1- or 3-channel image, got %d",
                         img ? img->channels : 0);
    if (quality < 1 || quality > 100)
        return mec_error(MEC_ERR_RANGE, "encode_jpeg: quality %d outside 1..100", quality);
    jpeg_enc_ctx *ctx = mec_calloc(1, sizeof *ctx);
    if (!ctx) return MEC_ERR_NOMEM;
    mec_status st = MEC_OK;
    ctx->cinfo.err = jpeg_std_error(&ctx->err.mgr);
    ctx->err.mgr.error_exit = jpeg_on_error;
    if (setjmp(ctx->err.jump)) {
        st = mec_error(MEC_ERR_INTERNAL, "encode_jpeg: %s", ctx->err.msg);
        goto done;
    }
    jpeg_create_compress(&ctx->cinfo);
    jpeg_mem_dest(&ctx->cinfo, &ctx->mem, &ctx->mem_len);
    ctx->cinfo.image_width = (JDIMENSION)img->width;
    ctx->cinfo.image_height = (JDIMENSION)img->height;
    ctx->cinfo.input_components = img->channels;
    ctx->cinfo.in_color_space = img->channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&ctx->cinfo);
    jpeg_set_quality(&ctx->cinfo, quality, TRUE);
    jpeg_start_compress(&ctx->cinfo, TRUE);
    size_t stride = (size_t)img->width * (size_t)img->channels;
    while (ctx->cinfo.next_scanline < ctx->cinfo.image_height) {
        JSAMPROW row = img->pixels + (size_t)ctx->cinfo.next_scanline * stride;
        jpeg_write_scanlines(&ctx->cinfo, &row, 1);
    }
    jpeg_finish_compress(&ctx->cinfo);
    *buf = mec_malloc(ctx->mem_len);
    if (!*buf) {
        st = MEC_ERR_NOMEM;
        goto done;
    }
    memcpy(*buf, ctx->mem, ctx->mem_len);
    *len = ctx->mem_len;
done:
    jpeg_destroy_compress(&ctx->cinfo);
    free(ctx->mem); /* jpeg_mem_dest allocates with malloc */
    mec_free(ctx);
    return st;
}

/* ------------------------------------------------------------------- PNG */

typedef struct png_ctx {
    const uint8_t *src;
    size_t len, pos;
    uint8_t *dst; /* encoding: growing output */
    size_t cap;
    char msg[256];
    mec_image img;
    png_bytep *rows;
    bool nomem;
} png_ctx;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}
static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void png_read_mem(png_structp png, png_bytep out, png_size_t n) {
    png_ctx *c = png_get_io_ptr(png);
    if (n > c->len - c->pos) png_error(png, "file is truncated");
    memcpy(out, c->src + c->pos, n);
    c->pos += n;
}

static mec_status decode_png(const uint8_t *buf, size_t len, const char *label, mec_image *out) {
    png_ctx *c = mec_calloc(1, sizeof *c);
    if (!c) return mec_error_prefix(MEC_ERR_NOMEM, "%s: ", label);
    c->src = buf;
    c->len = len;
    mec_status st = MEC_OK;
    png_infop info = NULL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, png_on_error, png_on_warning);
    if (!png || !(info = png_create_info_struct(png))) {
        st = mec_error(MEC_ERR_NOMEM, "%s: cannot create a PNG reader", label);
        goto done;
    }
    if (setjmp(png_jmpbuf(png))) {
        st = c->nomem ? mec_error_prefix(MEC_ERR_NOMEM, "%s: ", label)
                      : mec_error(MEC_ERR_PARSE, "%s: bad PNG: %s", label, c->msg);
        goto done;
    }
    png_set_user_limits(png, 65535, 65535);
    png_set_chunk_malloc_max(png, (png_alloc_size_t)64 << 20);
    png_set_read_fn(png, c, png_read_mem);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int color = png_get_color_type(png, info);
    if ((size_t)w * h > MEC_IMAGE_MAX_PIXELS) {
        st = mec_error(MEC_ERR_RANGE, "%s: PNG is %ux%u, more than the 2^28 pixels allowed", label,
                       (unsigned)w, (unsigned)h);
        goto done;
    }
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8) {
        snprintf(c->msg, sizeof c->msg, "unexpected %d channels of %d bits after conversion",
                 png_get_channels(png, info), png_get_bit_depth(png, info));
        png_error(png, c->msg);
    }
    st = image_alloc(&c->img, (int)w, (int)h, 3, label);
    if (st != MEC_OK) goto done;
    c->rows = mec_calloc(h, sizeof *c->rows);
    if (!c->rows) {
        st = mec_error_prefix(MEC_ERR_NOMEM, "%s: ", label);
        goto done;
    }
    for (png_uint_32 y = 0; y < h; y++) c->rows[y] = c->img.pixels + (size_t)y * w * 3;
    png_read_image(png, c->rows);
    png_read_end(png, NULL);
done:
    png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
    mec_free(c->rows);
    if (st == MEC_OK)
        *out = c->img;
    else
        mec_image_release(&c->img);
    mec_free(c);
    return st;
}

static void png_write_mem(png_structp png, png_bytep data, png_size_t n) {
    png_ctx *c = png_get_io_ptr(png);
    if (n > c->cap - c->pos) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap - c->pos < n) {
            if (cap > SIZE_MAX / 2) png_error(png, "output too large");
            cap *= 2;
        }
        uint8_t *p = mec_realloc(c->dst, c->cap, cap);
        if (!p) {
            c->nomem = true;
            png_error(png, "out of memory");
        }
        c->dst = p;
        c->cap = cap;
    }
    memcpy(c->dst + c->pos, data, n);
    c->pos += n;
}
static void png_flush_mem(png_structp png) { (void)png; }

mec_status mec_image_encode_png(const mec_image *img, void **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    if (!img || !img->pixels || img->width <= 0 || img->height <= 0 || img->channels < 1 ||
        img->channels > 4)
        return mec_error(MEC_ERR_INVALID_ARG, "encode_png: bad image");
    png_ctx *c = mec_calloc(1, sizeof *c);
    if (!c) return MEC_ERR_NOMEM;
    mec_status st = MEC_OK;
    png_infop info = NULL;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, c, png_on_error, png_on_warning);
    if (!png || !(info = png_create_info_struct(png))) {
        st = mec_error(MEC_ERR_NOMEM, "encode_png: cannot create a PNG writer");
        goto done;
    }
    if (setjmp(png_jmpbuf(png))) {
        st = c->nomem ? MEC_ERR_NOMEM : mec_error(MEC_ERR_INTERNAL, "encode_png: %s", c->msg);
        goto done;
    }
    static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                 PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    png_set_write_fn(png, c, png_write_mem, png_flush_mem);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 types[img->channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)img->width * (size_t)img->channels;
    for (int y = 0; y < img->height; y++) png_write_row(png, img->pixels + (size_t)y * stride);
    png_write_end(png, NULL);
done:
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    if (st == MEC_OK) {
        *buf = c->dst;
        *len = c->pos;
    } else {
        mec_free(c->dst);
    }
    mec_free(c);
    return st;
}

/* ------------------------------------------------------------ decode API */

mec_status mec_image_decode(const void *buf, size_t len, const char *label, mec_image *out) {
    if (!label) label = "image";
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "%s: no output image", label);
    memset(out, 0, sizeof *out);
    if (!buf) return mec_error(MEC_ERR_INVALID_ARG, "%s: no data", label);
    const uint8_t *p = buf;
    if (is_jpeg(p, len)) return decode_jpeg(p, len, label, out);
    if (is_png(p, len)) return decode_png(p, len, label, out);
    return mec_error(MEC_ERR_UNSUPPORTED, "%s: not a JPEG or PNG (%zu bytes, starts %02x %02x)",
                     label, len, len > 0 ? p[0] : 0, len > 1 ? p[1] : 0);
}

static mec_status probe_jpeg(const uint8_t *buf, size_t len, const char *label, int *w, int *h) {
    jpeg_dec_ctx *ctx = mec_calloc(1, sizeof *ctx);
    if (!ctx) return MEC_ERR_NOMEM;
    mec_status st = MEC_OK;
    ctx->cinfo.err = jpeg_std_error(&ctx->err.mgr);
    ctx->err.mgr.error_exit = jpeg_on_error;
    ctx->err.mgr.emit_message = jpeg_on_message;
    if (setjmp(ctx->err.jump)) {
        st = mec_error(MEC_ERR_PARSE, "%s: bad JPEG header: %s", label, ctx->err.msg);
        goto done;
    }
    jpeg_create_decompress(&ctx->cinfo);
    jpeg_mem_src(&ctx->cinfo, buf, (unsigned long)len);
    jpeg_read_header(&ctx->cinfo, TRUE);
    *w = (int)ctx->cinfo.image_width;
    *h = (int)ctx->cinfo.image_height;
done:
    jpeg_destroy_decompress(&ctx->cinfo);
    mec_free(ctx);
    return st;
}

mec_status mec_image_probe(const void *buf, size_t len, const char *label, int *width, int *height) {
    if (!label) label = "image";
    if (!buf || !width || !height) return mec_error(MEC_ERR_INVALID_ARG, "%s: null argument", label);
    *width = *height = 0;
    const uint8_t *p = buf;
    if (is_jpeg(p, len)) return probe_jpeg(p, len, label, width, height);
    if (is_png(p, len)) {
        if (len < 24 || memcmp(p + 12, "IHDR", 4) != 0)
            return mec_error(MEC_ERR_PARSE, "%s: PNG without an IHDR chunk", label);
        uint32_t w = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
        uint32_t h = (uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23];
        if (w == 0 || h == 0 || w > 65535 || h > 65535)
            return mec_error(MEC_ERR_RANGE, "%s: PNG size %ux%u outside 1..65535", label, w, h);
        *width = (int)w;
        *height = (int)h;
        return MEC_OK;
    }
    return mec_error(MEC_ERR_UNSUPPORTED, "%s: not a JPEG or PNG", label);
}

mec_status mec_image_load(const char *path, mec_image *out) {
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "image_load: no output image");
    memset(out, 0, sizeof *out);
    if (!path) return mec_error(MEC_ERR_INVALID_ARG, "image_load: no path");
    void *data;
    size_t len;
    mec_status st = mec_file_read(path, MEC_IMAGE_MAX_FILE_BYTES, &data, &len);
    if (st != MEC_OK) return st;
    st = mec_image_decode(data, len, path, out);
    mec_free(data);
    return st;
}

bool mec_image_sniff(const char *path) {
    if (!path) return false;
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    uint8_t head[8];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return is_jpeg(head, n) || is_png(head, n);
}

/* ---------------------------------------------------------------- resize */

/* Source coordinate of output index i (half-pixel centres, clamped), as
 * PyTorch's bilinear with align_corners=False. */
static void resize_coord(int i, int in_size, int out_size, int *i0, int *i1, float *frac) {
    float scale = (float)in_size / (float)out_size;
    float src = ((float)i + 0.5f) * scale - 0.5f;
    if (src < 0) src = 0;
    int lo = (int)src;
    if (lo > in_size - 1) lo = in_size - 1;
    *i0 = lo;
    *i1 = lo + 1 < in_size ? lo + 1 : in_size - 1;
    *frac = src - (float)lo;
}

mec_status mec_image_resize(const mec_image *src, int width, int height, mec_image *out) {
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "image_resize: no output image");
    memset(out, 0, sizeof *out);
    if (!src || !src->pixels || src->width <= 0 || src->height <= 0 || src->channels < 1 ||
        src->channels > 4)
        return mec_error(MEC_ERR_INVALID_ARG, "image_resize: bad source image");
    if (width <= 0 || height <= 0 || width > 65535 || height > 65535)
        return mec_error(MEC_ERR_RANGE, "image_resize: target %dx%d outside 1..65535", width,
                         height);
    mec_status st = image_alloc(out, width, height, src->channels, "image_resize");
    if (st != MEC_OK) return st;
    int c = src->channels;
    size_t in_stride = (size_t)src->width * (size_t)c;
    int *x0 = mec_malloc((size_t)width * 2 * sizeof(int));
    float *xf = mec_malloc((size_t)width * sizeof(float));
    if (!x0 || !xf) {
        mec_free(x0);
        mec_free(xf);
        mec_image_release(out);
        return MEC_ERR_NOMEM;
    }
    int *x1 = x0 + width;
    for (int x = 0; x < width; x++) resize_coord(x, src->width, width, &x0[x], &x1[x], &xf[x]);
    for (int y = 0; y < height; y++) {
        int y0, y1;
        float yf;
        resize_coord(y, src->height, height, &y0, &y1, &yf);
        const uint8_t *r0 = src->pixels + (size_t)y0 * in_stride;
        const uint8_t *r1 = src->pixels + (size_t)y1 * in_stride;
        uint8_t *o = out->pixels + (size_t)y * width * c;
        for (int x = 0; x < width; x++) {
            const uint8_t *a = r0 + (size_t)x0[x] * c, *b = r0 + (size_t)x1[x] * c;
            const uint8_t *d = r1 + (size_t)x0[x] * c, *e = r1 + (size_t)x1[x] * c;
            float fx = xf[x];
            for (int k = 0; k < c; k++) {
                float top = (float)a[k] + ((float)b[k] - (float)a[k]) * fx;
                float bot = (float)d[k] + ((float)e[k] - (float)d[k]) * fx;
                float v = top + (bot - top) * yf + 0.5f;
                o[(size_t)x * c + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    mec_free(x0);
    mec_free(xf);
    return MEC_OK;
}

/* ----------------------------------------------------------- to tensor */

void mec_image_prep_imagenet(mec_image_prep *p) {
    memset(p, 0, sizeof *p);
    p->width = p->height = 224;
    p->mean[0] = 0.485f;
    p->mean[1] = 0.456f;
    p->mean[2] = 0.406f;
    p->std[0] = 0.229f;
    p->std[1] = 0.224f;
    p->std[2] = 0.225f;
    p->scale = 1.0f / 255.0f;
    p->nhwc = false;
}

mec_status mec_image_to_tensor(const mec_image *img, const mec_image_prep *p, mec_tensor **out) {
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "image_to_tensor: no output");
    *out = NULL;
    if (!img || !img->pixels || !p)
        return mec_error(MEC_ERR_INVALID_ARG, "image_to_tensor: null image or prep");
    if (img->channels != 1 && img->channels != 3 && img->channels != 4)
        return mec_error(MEC_ERR_INVALID_ARG, "image_to_tensor: image has %d channels, expected 1, 3 or 4",
                         img->channels);
    if (p->width < 0 || p->height < 0)
        return mec_error(MEC_ERR_RANGE, "image_to_tensor: target %dx%d is negative", p->width,
                         p->height);
    for (int k = 0; k < 3; k++)
        if (!(p->std[k] != 0.0f))
            return mec_error(MEC_ERR_INVALID_ARG, "image_to_tensor: std[%d] is %g", k,
                             (double)p->std[k]);
    int w = p->width ? p->width : img->width, h = p->height ? p->height : img->height;
    mec_image sized = {0};
    const mec_image *use = img;
    if (w != img->width || h != img->height) {
        mec_status st = mec_image_resize(img, w, h, &sized);
        if (st != MEC_OK) return st;
        use = &sized;
    }
    /* grey stays 1 channel, RGBA drops its alpha; p->channels may ask for
     * grey (ITU-R BT.601 luma) or RGB (grey replicated) */
    if (p->channels != 0 && p->channels != 1 && p->channels != 3)
        return mec_error(MEC_ERR_INVALID_ARG, "image_to_tensor: %d channels asked, expected 1 or 3",
                         p->channels);
    int c = p->channels ? p->channels : img->channels == 1 ? 1 : 3;
    int64_t shape[4] = {1, c, h, w};
    if (p->nhwc) {
        shape[1] = h;
        shape[2] = w;
        shape[3] = c;
    }
    mec_tensor *t = NULL;
    mec_status st = mec_tensor_create(&t, MEC_F32, 4, shape);
    if (st != MEC_OK) {
        mec_image_release(&sized);
        return st;
    }
    float *dst = t->data;
    size_t hw = (size_t)w * h;
    for (size_t i = 0; i < hw; i++) {
        const uint8_t *px = use->pixels + i * (size_t)use->channels;
        float luma = use->channels >= 3 ? 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2] : px[0];
        for (int k = 0; k < c; k++) {
            float raw = c == 1 ? luma : use->channels >= 3 ? (float)px[k] : (float)px[0];
            float v = (raw * p->scale - p->mean[k]) / p->std[k];
            if (p->nhwc)
                dst[i * c + k] = v;
            else
                dst[(size_t)k * hw + i] = v;
        }
    }
    mec_image_release(&sized);
    *out = t;
    return MEC_OK;
}
