/* Real photographs re-encoded as JPEG at several sizes and qualities: the
 * request inputs of a wide range of byte sizes (the studies sent 0.3-3.4 MB
 * images). Sources default to Debian's mate-backgrounds nature photos. */
#define _POSIX_C_SOURCE 200809L
#include "mec/data.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define PHOTOS_DEFAULT_DIR "/usr/share/backgrounds/mate/nature"
#define PHOTOS_MAX_FILES 100000
#define PHOTOS_MAX_LONG_SIDE 8192

static const int default_long_sides[] = {1280, 2048, 3200, 4096, 5120};
static const int default_qualities[] = {90, 98};

void mec_photo_spec_default(mec_photo_spec *s) {
    memset(s, 0, sizeof *s);
    s->long_sides = default_long_sides;
    s->n_long_sides = (int)(sizeof default_long_sides / sizeof default_long_sides[0]);
    s->qualities = default_qualities;
    s->n_qualities = (int)(sizeof default_qualities / sizeof default_qualities[0]);
    s->min_bytes = 300000;
    s->max_bytes = 3400000;
}

static bool has_ext(const char *name, const char *const *exts) {
    size_t n = strlen(name);
    for (; *exts; exts++) {
        size_t e = strlen(*exts);
        if (n > e && strcasecmp(name + n - e, *exts) == 0) return true;
    }
    return false;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the regular files in dir with one of exts. */
static mec_status list_names(const char *dir, const char *const *exts, char ***names, int64_t *n) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return mec_error(MEC_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    char **v = NULL;
    int64_t cap = 0, count = 0;
    mec_status st = MEC_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_ext(e->d_name, exts)) continue;
        if (count >= PHOTOS_MAX_FILES) {
            st = mec_error(MEC_ERR_RANGE, "%s: more than %d image files", dir, PHOTOS_MAX_FILES);
            break;
        }
        if (count == cap) {
            int64_t nc = cap ? cap * 2 : 64;
            char **nv = mec_realloc(v, (size_t)cap * sizeof *v, (size_t)nc * sizeof *v);
            if (!nv) {
                st = MEC_ERR_NOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        if (!(v[count] = mec_strdup(e->d_name))) {
            st = MEC_ERR_NOMEM;
            break;
        }
        count++;
    }
    closedir(d);
    if (st != MEC_OK) {
        for (int64_t i = 0; i < count; i++) mec_free(v[i]);
        mec_free(v);
        return st;
    }
    if (count) qsort(v, (size_t)count, sizeof *v, cmp_name);
    *names = v;
    *n = count;
    return MEC_OK;
}

static void free_names(char **v, int64_t n) {
    for (int64_t i = 0; i < n; i++) mec_free(v[i]);
    mec_free(v);
}

static mec_status make_dirs(const char *path) {
    char buf[1024];
    if (strlen(path) >= sizeof buf) return mec_error(MEC_ERR_RANGE, "%s: path too long", path);
    strcpy(buf, path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return mec_error(MEC_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
            *p = c;
            if (!c) break;
        }
    }
    return MEC_OK;
}

static int cmp_photo(const void *a, const void *b) {
    return strcmp(((const mec_photo_file *)a)->path, ((const mec_photo_file *)b)->path);
}

mec_status mec_dataset_photos_build(const mec_photo_spec *s, const char *out_dir,
                                    mec_photo_file **files, int64_t *n) {
    if (!files || !n) return mec_error(MEC_ERR_INVALID_ARG, "photos_build: no output");
    *files = NULL;
    *n = 0;
    if (!s || !out_dir) return mec_error(MEC_ERR_INVALID_ARG, "photos_build: null spec or folder");
    if (s->n_long_sides < 1 || !s->long_sides || s->n_qualities < 1 || !s->qualities)
        return mec_error(MEC_ERR_INVALID_ARG, "photos_build: need at least one size and one quality");
    for (int k = 0; k < s->n_long_sides; k++)
        if (s->long_sides[k] < 16 || s->long_sides[k] > PHOTOS_MAX_LONG_SIDE)
            return mec_error(MEC_ERR_RANGE, "photos_build: long side %d outside 16..%d",
                             s->long_sides[k], PHOTOS_MAX_LONG_SIDE);
    for (int k = 0; k < s->n_qualities; k++)
        if (s->qualities[k] < 1 || s->qualities[k] > 100)
            return mec_error(MEC_ERR_RANGE, "photos_build: quality %d outside 1..100", s->qualities[k]);
    const char *src_dir = s->src_dir ? s->src_dir : PHOTOS_DEFAULT_DIR;
    static const char *const exts[] = {".jpg", ".jpeg", ".png", NULL};
    char **names = NULL;
    int64_t n_names = 0;
    mec_status st;
    if (s->sources) {
        while (s->sources[n_names]) n_names++;
        names = mec_calloc((size_t)n_names + 1, sizeof *names);
        if (!names) return MEC_ERR_NOMEM;
        for (int64_t i = 0; i < n_names; i++)
            if (!(names[i] = mec_strdup(s->sources[i]))) {
                free_names(names, i);
                return MEC_ERR_NOMEM;
            }
    } else if ((st = list_names(src_dir, exts, &names, &n_names)) != MEC_OK) {
        return mec_error_prefix(st, "photos (is mate-backgrounds installed?): ");
    }
    if (s->max_sources > 0 && n_names > s->max_sources) {
        for (int64_t i = s->max_sources; i < n_names; i++) mec_free(names[i]);
        n_names = s->max_sources;
    }
    if (n_names == 0) {
        free_names(names, n_names);
        return mec_error(MEC_ERR_NOT_FOUND, "%s: no .jpg or .png photos", src_dir);
    }
    st = make_dirs(out_dir);
    int64_t total = n_names * s->n_long_sides * s->n_qualities, done = 0;
    mec_photo_file *out = st == MEC_OK ? mec_calloc((size_t)total, sizeof *out) : NULL;
    if (st == MEC_OK && !out) st = MEC_ERR_NOMEM;
    for (int64_t i = 0; i < n_names && st == MEC_OK; i++) {
        char src[1024];
        snprintf(src, sizeof src, "%s/%s", src_dir, names[i]);
        mec_image img;
        if ((st = mec_image_load(src, &img)) != MEC_OK) break;
        char stem[200];
        snprintf(stem, sizeof stem, "%s", names[i]);
        char *dot = strrchr(stem, '.');
        if (dot) *dot = '\0';
        for (int k = 0; k < s->n_long_sides && st == MEC_OK; k++) {
            int L = s->long_sides[k], w, h;
            if (img.width >= img.height) {
                w = L;
                h = (int)((double)img.height * L / img.width + 0.5);
            } else {
                h = L;
                w = (int)((double)img.width * L / img.height + 0.5);
            }
            if (w < 1) w = 1;
            if (h < 1) h = 1;
            mec_image sized;
            if ((st = mec_image_resize(&img, w, h, &sized)) != MEC_OK) break;
            for (int q = 0; q < s->n_qualities && st == MEC_OK; q++) {
                void *buf;
                size_t len;
                if ((st = mec_image_encode_jpeg(&sized, s->qualities[q], &buf, &len)) != MEC_OK) break;
                if ((s->min_bytes > 0 && (int64_t)len < s->min_bytes) ||
                    (s->max_bytes > 0 && (int64_t)len > s->max_bytes)) {
                    mec_free(buf); /* outside the wanted range of sizes */
                    continue;
                }
                mec_photo_file *f = &out[done];
                int plen = snprintf(f->path, sizeof f->path, "%s/%s_%d_q%d.jpg", out_dir, stem, L,
                                    s->qualities[q]);
                if (plen < 0 || (size_t)plen >= sizeof f->path) {
                    mec_free(buf);
                    st = mec_error(MEC_ERR_RANGE, "photos_build: output path under '%.100s' longer than %zu bytes",
                                   out_dir, sizeof f->path - 1);
                    break;
                }
                snprintf(f->source, sizeof f->source, "%s", names[i]);
                f->width = w;
                f->height = h;
                f->quality = s->qualities[q];
                f->bytes = (int64_t)len;
                st = mec_file_write_atomic(f->path, buf, len);
                mec_free(buf);
                if (st == MEC_OK) done++;
            }
            mec_image_release(&sized);
        }
        mec_image_release(&img);
    }
    free_names(names, n_names);
    if (st != MEC_OK) {
        mec_free(out);
        return st;
    }
    qsort(out, (size_t)done, sizeof *out, cmp_photo);
    *files = out;
    *n = done;
    return MEC_OK;
}

mec_status mec_dataset_photos_list(const char *dir, mec_photo_file **files, int64_t *n) {
    if (!files || !n) return mec_error(MEC_ERR_INVALID_ARG, "photos_list: no output");
    *files = NULL;
    *n = 0;
    if (!dir) return mec_error(MEC_ERR_INVALID_ARG, "photos_list: no folder");
    static const char *const exts[] = {".jpg", ".jpeg", NULL};
    char **names;
    int64_t count;
    mec_status st = list_names(dir, exts, &names, &count);
    if (st != MEC_OK) return st;
    mec_photo_file *out = mec_calloc((size_t)(count ? count : 1), sizeof *out);
    if (!out) {
        free_names(names, count);
        return MEC_ERR_NOMEM;
    }
    for (int64_t i = 0; i < count && st == MEC_OK; i++) {
        mec_photo_file *f = &out[i];
        int plen = snprintf(f->path, sizeof f->path, "%s/%s", dir, names[i]);
        if (plen < 0 || (size_t)plen >= sizeof f->path) {
            st = mec_error(MEC_ERR_RANGE, "photos_list: path of '%.100s' longer than %zu bytes",
                           names[i], sizeof f->path - 1);
            break;
        }
        snprintf(f->source, sizeof f->source, "%s", names[i]);
        void *data;
        size_t len;
        /* the header is in the first few KB; read whole files, they are bounded */
        if ((st = mec_file_read(f->path, (size_t)256 << 20, &data, &len)) != MEC_OK) break;
        f->bytes = (int64_t)len;
        st = mec_image_probe(data, len, f->path, &f->width, &f->height);
        mec_free(data);
    }
    free_names(names, count);
    if (st != MEC_OK) {
        mec_free(out);
        return st;
    }
    *files = out;
    *n = count;
    return MEC_OK;
}
