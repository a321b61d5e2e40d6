/* mec/data.h — layer 6: data. Images (decode, resize, normalise into model
 * input tensors); datasets, tokenizers and metrics come with the data issue. */
#ifndef MEC_DATA_H
#define MEC_DATA_H

#include "mec/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An 8-bit image, rows of width*channels bytes (channels 1, 3 or 4). */
typedef struct mec_image {
    int width, height, channels;
    uint8_t *pixels;
} mec_image;

/* Decodes a JPEG or PNG file (detected by its magic bytes, not its name)
 * into RGB (3 channels; grey and alpha are converted). Bounded: at most
 * 2^28 pixels. */
mec_status mec_image_load(const char *path, mec_image *out);
mec_status mec_image_decode(const void *buf, size_t len, const char *label, mec_image *out);
void mec_image_release(mec_image *img);
/* True if the file starts with a JPEG or PNG signature. */
bool mec_image_sniff(const char *path);

/* Bilinear resize (half-pixel centres, like PIL/torchvision without antialias). */
mec_status mec_image_resize(const mec_image *src, int width, int height, mec_image *out);

/* How to turn an image into a model input. */
typedef struct mec_image_prep {
    int width, height;   /* resize target; 0 = keep */
    float mean[3], std[3];
    float scale;         /* pixel * scale before (x - mean) / std; 1/255 usually */
    bool nhwc;           /* layout; default NCHW */
} mec_image_prep;

/* ImageNet defaults: 224x224, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225). */
void mec_image_prep_imagenet(mec_image_prep *p);
/* (1, 3, H, W) f32 tensor (or (1, H, W, 3) when nhwc). */
mec_status mec_image_to_tensor(const mec_image *img, const mec_image_prep *p, mec_tensor **out);

/* Encodes RGB pixels as JPEG (quality 1..100) or PNG into a new buffer. */
mec_status mec_image_encode_jpeg(const mec_image *img, int quality, void **buf, size_t *len);
mec_status mec_image_encode_png(const mec_image *img, void **buf, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
