/* npy_compare: checks that an output .npy agrees with a reference .npy, for
 * the interop tests (no Python needed). Passes when the shapes and dtypes are
 * equal and max|out - ref| <= rtol * max|ref| + atol.
 *
 *   npy_compare [--rtol R] [--atol A] REF.npy OUT.npy
 *
 * Prints one line "max_abs_err=... max_ref=... rel=... tol=... shape=(...)
 * dtype=..." and exits 0 when within tolerance, 1 when not, 2 when a file
 * cannot be read or the two do not have the same shape or dtype. Self-contained:
 * its own reader for .npy versions 1.0, 2.0 and 3.0 (C order only). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_DIMS 16
#define NPY_MAX_HEADER_BYTES (1u << 20)

typedef enum { KIND_FLOAT, KIND_INT, KIND_UINT, KIND_BOOL } npy_kind;

typedef struct {
    char path[4096];
    char descr[16]; /* as written, e.g. "<f4" */
    npy_kind kind;
    int item_bytes;
    int big_endian;
    int ndim;
    uint64_t shape[NPY_MAX_DIMS];
    uint64_t count;      /* elements */
    unsigned char *data; /* count * item_bytes bytes */
} npy_array;

static char npy_error[4200];

static int fail(const char *path, const char *what) {
    snprintf(npy_error, sizeof npy_error, "%s: %s", path, what);
    return -1;
}

/* Returns a pointer past "'key'" followed by optional spaces and ':' in the
 * header dict, or NULL. */
static const char *find_key(const char *header, const char *key) {
    char quoted[40];
    const char *p;
    snprintf(quoted, sizeof quoted, "'%s'", key);
    p = strstr(header, quoted);
    if (!p) {
        snprintf(quoted, sizeof quoted, "\"%s\"", key);
        p = strstr(header, quoted);
    }
    if (!p) return NULL;
    p += strlen(quoted);
    while (*p == ' ')
        p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

static int parse_descr(npy_array *a, const char *p) {
    char q = *p;
    size_t n = 0;
    int bytes;
    if (q != '\'' && q != '"') return fail(a->path, "header: 'descr' is not a string");
    p++;
    while (p[n] && p[n] != q && n + 1 < sizeof a->descr)
        n++;
    if (p[n] != q || n < 3) return fail(a->path, "header: bad 'descr'");
    memcpy(a->descr, p, n);
    a->descr[n] = 0;
    if (a->descr[0] != '<' && a->descr[0] != '>' && a->descr[0] != '|' && a->descr[0] != '=')
        return fail(a->path,
                    "header: 'descr' has no byte-order mark (structured dtypes are not supported)");
    a->big_endian = a->descr[0] == '>';
    bytes = atoi(a->descr + 2);
    switch (a->descr[1]) {
    case 'f':
        a->kind = KIND_FLOAT;
        if (bytes != 2 && bytes != 4 && bytes != 8) bytes = 0;
        break;
    case 'i':
        a->kind = KIND_INT;
        break;
    case 'u':
        a->kind = KIND_UINT;
        break;
    case 'b':
        a->kind = KIND_BOOL;
        if (bytes != 1) bytes = 0;
        break;
    default:
        bytes = 0;
    }
    if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8) {
        snprintf(npy_error, sizeof npy_error, "%s: unsupported dtype '%s'", a->path, a->descr);
        return -1;
    }
    a->item_bytes = bytes;
    return 0;
}

static int parse_shape(npy_array *a, const char *p) {
    a->ndim = 0;
    a->count = 1;
    if (*p != '(') return fail(a->path, "header: 'shape' is not a tuple");
    p++;
    for (;;) {
        char *end;
        unsigned long long d;
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == ')') break;
        if (*p < '0' || *p > '9') return fail(a->path, "header: bad dimension in 'shape'");
        if (a->ndim == NPY_MAX_DIMS) return fail(a->path, "header: more than 16 dimensions");
        errno = 0;
        d = strtoull(p, &end, 10);
        if (errno || end == p) return fail(a->path, "header: bad dimension in 'shape'");
        p = end;
        if (*p == 'L') p++; /* written by Python 2 */
        if (d != 0 && a->count > UINT64_MAX / d)
            return fail(a->path, "header: element count overflows");
        a->shape[a->ndim++] = d;
        a->count *= d;
    }
    return 0;
}

/* Reads a whole .npy file into *a; on failure returns -1 with npy_error set. */
static int npy_read(const char *path, npy_array *a) {
    FILE *f;
    unsigned char pre[12];
    uint64_t header_len, data_bytes;
    size_t pre_len;
    long file_size, data_off;
    char *header;
    const char *p;
    int st = -1;

    memset(a, 0, sizeof *a);
    snprintf(a->path, sizeof a->path, "%s", path);
    f = fopen(path, "rb");
    if (!f) {
        snprintf(npy_error, sizeof npy_error, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (file_size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return fail(path, "cannot determine the file size");
    }
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        fclose(f);
        return fail(path, "not a .npy file (bad magic)");
    }
    if (pre[6] == 1) {
        header_len = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
        pre_len = 10;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            fclose(f);
            return fail(path, "truncated header");
        }
        header_len = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 |
                     (uint64_t)pre[11] << 24;
        pre_len = 12;
    } else {
        fclose(f);
        snprintf(npy_error, sizeof npy_error, "%s: unsupported .npy version %d.%d", path, pre[6],
                 pre[7]);
        return -1;
    }
    if (header_len == 0 || header_len > NPY_MAX_HEADER_BYTES ||
        pre_len + header_len > (uint64_t)file_size) {
        fclose(f);
        return fail(path, "header length out of range");
    }
    header = malloc(header_len + 1);
    if (!header) {
        fclose(f);
        return fail(path, "out of memory");
    }
    if (fread(header, 1, header_len, f) != header_len) {
        fail(path, "truncated header");
        goto done;
    }
    header[header_len] = 0;
    if (strlen(header) != header_len) {
        fail(path, "header contains a NUL byte");
        goto done;
    }
    if (!(p = find_key(header, "descr"))) {
        fail(path, "header: no 'descr'");
        goto done;
    }
    if (parse_descr(a, p) != 0) goto done;
    if (!(p = find_key(header, "fortran_order"))) {
        fail(path, "header: no 'fortran_order'");
        goto done;
    }
    if (strncmp(p, "False", 5) != 0) {
        fail(path, "Fortran-order arrays are not supported");
        goto done;
    }
    if (!(p = find_key(header, "shape"))) {
        fail(path, "header: no 'shape'");
        goto done;
    }
    if (parse_shape(a, p) != 0) goto done;
    if (a->count > UINT64_MAX / (uint64_t)a->item_bytes) {
        fail(path, "data size overflows");
        goto done;
    }
    data_bytes = a->count * (uint64_t)a->item_bytes;
    data_off = (long)(pre_len + header_len);
    if ((uint64_t)(file_size - data_off) != data_bytes) {
        snprintf(npy_error, sizeof npy_error,
                 "%s: %llu data bytes for %llu elements of %s, file has %llu", path,
                 (unsigned long long)data_bytes, (unsigned long long)a->count, a->descr,
                 (unsigned long long)(file_size - data_off));
        goto done;
    }
    if (data_bytes > SIZE_MAX || !(a->data = malloc(data_bytes ? (size_t)data_bytes : 1))) {
        fail(path, "out of memory");
        goto done;
    }
    if (fread(a->data, 1, (size_t)data_bytes, f) != data_bytes) {
        fail(path, "truncated data");
        goto done;
    }
    st = 0;
done:
    free(header);
    fclose(f);
    return st;
}

static double half_to_double(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v;
    if (e == 0)
        v = ldexp((double)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexp((double)(m | 0x400), e - 25);
    return (h & 0x8000) ? -v : v;
}

/* Element i as a double (int64 beyond 2^53 loses precision; fine here). */
static double npy_get(const npy_array *a, uint64_t i) {
    unsigned char b[8];
    const unsigned char *src = a->data + i * (uint64_t)a->item_bytes;
    int n = a->item_bytes, k;
    uint64_t u = 0;
    for (k = 0; k < n; k++)
        b[k] = src[a->big_endian ? n - 1 - k : k];
    for (k = n - 1; k >= 0; k--)
        u = u << 8 | b[k]; /* little-endian value */
    switch (a->kind) {
    case KIND_BOOL:
        return u != 0;
    case KIND_UINT:
        return (double)u;
    case KIND_INT:
        if (n < 8 && (u >> (8 * n - 1)) & 1) u |= ~(uint64_t)0 << (8 * n); /* sign-extend */
        return (double)(int64_t)u;
    case KIND_FLOAT:
        if (n == 2) return half_to_double((uint16_t)u);
        if (n == 4) {
            uint32_t w = (uint32_t)u;
            float f;
            memcpy(&f, &w, 4);
            return f;
        } else {
            double d;
            memcpy(&d, &u, 8);
            return d;
        }
    }
    return NAN;
}

static void format_shape(const npy_array *a, char *buf, size_t size) {
    size_t used = 0;
    int d;
    used += (size_t)snprintf(buf + used, size - used, "(");
    for (d = 0; d < a->ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%llu", d ? "," : "",
                                 (unsigned long long)a->shape[d]);
    if (used < size) snprintf(buf + used, size - used, ")");
}

static int parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return errno || end == s || *end || !(*out >= 0) ? -1 : 0;
}

static void usage(void) {
    fprintf(stderr, "usage: npy_compare [--rtol R] [--atol A] REF.npy OUT.npy\n"
                    "  passes when shapes and dtypes match and\n"
                    "  max|OUT - REF| <= R * max|REF| + A   (defaults R=1e-4, A=0)\n"
                    "  exit 0 pass, 1 beyond tolerance, 2 unreadable or shape/dtype mismatch\n");
}

int main(int argc, char **argv) {
    double rtol = 1e-4, atol = 0.0, max_err = 0.0, max_ref = 0.0, tol, rel;
    const char *paths[2] = {NULL, NULL};
    int n_paths = 0, i, d, rc;
    uint64_t k, n_bad = 0, worst = 0;
    npy_array ref, out;
    char shape_ref[256], shape_out[256];

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rtol") && i + 1 < argc) {
            if (parse_double(argv[++i], &rtol)) {
                fprintf(stderr, "npy_compare: bad --rtol '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--atol") && i + 1 < argc) {
            if (parse_double(argv[++i], &atol)) {
                fprintf(stderr, "npy_compare: bad --atol '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage();
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "npy_compare: unknown option '%s'\n", argv[i]);
            usage();
            return 2;
        } else if (n_paths < 2) {
            paths[n_paths++] = argv[i];
        } else {
            usage();
            return 2;
        }
    }
    if (n_paths != 2) {
        usage();
        return 2;
    }
    if (npy_read(paths[0], &ref) != 0) {
        fprintf(stderr, "npy_compare: %s\n", npy_error);
        return 2;
    }
    if (npy_read(paths[1], &out) != 0) {
        fprintf(stderr, "npy_compare: %s\n", npy_error);
        free(ref.data);
        return 2;
    }
    format_shape(&ref, shape_ref, sizeof shape_ref);
    format_shape(&out, shape_out, sizeof shape_out);
    rc = 2;
    if (ref.ndim != out.ndim ||
        memcmp(ref.shape, out.shape, sizeof ref.shape[0] * (size_t)ref.ndim)) {
        printf("shape mismatch: %s is %s, %s is %s\n", paths[0], shape_ref, paths[1], shape_out);
        goto done;
    }
    if (ref.kind != out.kind || ref.item_bytes != out.item_bytes) {
        printf("dtype mismatch: %s is %s, %s is %s\n", paths[0], ref.descr, paths[1], out.descr);
        goto done;
    }
    for (k = 0; k < ref.count; k++) {
        double r = npy_get(&ref, k), o = npy_get(&out, k), e;
        if (isnan(r) && isnan(o)) continue;
        e = (isnan(r) || isnan(o)) ? INFINITY : (r == o ? 0.0 : fabs(o - r));
        if (isnan(e)) e = INFINITY; /* inf - inf of the same sign is caught by r == o */
        if (isfinite(r) && fabs(r) > max_ref) max_ref = fabs(r);
        if (e > max_err) {
            max_err = e;
            worst = k;
        }
    }
    tol = rtol * max_ref + atol;
    for (k = 0; k < ref.count; k++) {
        double r = npy_get(&ref, k), o = npy_get(&out, k);
        if (isnan(r) && isnan(o)) continue;
        if (!(fabs(o - r) <= tol) && r != o) n_bad++;
    }
    rel = max_ref > 0 ? max_err / max_ref : (max_err > 0 ? INFINITY : 0.0);
    rc = max_err <= tol ? 0 : 1;
    printf("max_abs_err=%.3g max_ref=%.4g rel=%.3g tol=%.3g shape=%s dtype=%s", max_err, max_ref,
           rel, tol, shape_ref, ref.descr);
    if (rc) {
        printf(" beyond_tol=%llu/%llu worst_at=[", (unsigned long long)n_bad,
               (unsigned long long)ref.count);
        /* Multi-index of the worst element, C order. */
        {
            uint64_t idx[NPY_MAX_DIMS], rest = worst;
            for (d = ref.ndim - 1; d >= 0; d--) {
                idx[d] = ref.shape[d] ? rest % ref.shape[d] : 0;
                rest = ref.shape[d] ? rest / ref.shape[d] : 0;
            }
            for (d = 0; d < ref.ndim; d++)
                printf("%s%llu", d ? "," : "", (unsigned long long)idx[d]);
        }
        printf("] ref=%.6g out=%.6g", npy_get(&ref, worst), npy_get(&out, worst));
    }
    printf("\n");
done:
    free(ref.data);
    free(out.data);
    return rc;
}
