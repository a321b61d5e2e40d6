/* png_plots: checks a browser screenshot of a mecbench report. Reads the PNG
 * and the plot layout the page reports (lines "ID X Y W H" between
 * MEC-LAYOUT-BEGIN and MEC-LAYOUT-END, from chromium --dump-dom) and checks
 * every plot lies inside the screenshot and is not blank: enough non-white
 * pixels and several distinct colours. Prints one line per plot and
 * "N passed, N failed".
 *   png_plots SHOT.png LAYOUT.txt [EXPECTED_PLOTS]
 *   png_plots SHOT.png --crop X Y W H OUT.png   (a region, to look at) */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct image {
    int w, h;
    unsigned char *rgb; /* w * h * 3 */
} image;

static int read_png(const char *path, image *img) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "png_plots: cannot open %s\n", path);
        return -1;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "png_plots: %s is not a readable PNG\n", path);
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_gray_to_rgb(png);
    png_read_update_info(png, info);
    img->w = (int)png_get_image_width(png, info);
    img->h = (int)png_get_image_height(png, info);
    size_t row = png_get_rowbytes(png, info);
    img->rgb = malloc(row * (size_t)img->h);
    png_bytep *rows = malloc(sizeof *rows * (size_t)img->h);
    for (int y = 0; y < img->h; y++) rows[y] = img->rgb + row * (size_t)y;
    png_read_image(png, rows);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return 0;
}

static int write_crop(const image *img, int x0, int y0, int w, int h, const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = y0; y < y0 + h; y++) png_write_row(png, img->rgb + ((size_t)y * (size_t)img->w + (size_t)x0) * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: png_plots SHOT.png LAYOUT.txt [EXPECTED_PLOTS] | SHOT.png --crop X Y W H OUT.png\n");
        return 2;
    }
    image img;
    if (read_png(argv[1], &img)) return 1;
    if (!strcmp(argv[2], "--crop") && argc == 8) {
        int x = atoi(argv[3]), y = atoi(argv[4]), w = atoi(argv[5]), h = atoi(argv[6]);
        if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > img.w || y + h > img.h) return 2;
        return write_crop(&img, x, y, w, h, argv[7]) ? 1 : 0;
    }
    FILE *lf = fopen(argv[2], "r");
    if (!lf) {
        fprintf(stderr, "png_plots: cannot open %s\n", argv[2]);
        return 1;
    }
    int expected = argc > 3 ? atoi(argv[3]) : -1;
    char line[512];
    int in = 0, passed = 0, failed = 0, seen = 0;
    while (fgets(line, sizeof line, lf)) {
        if (strstr(line, "MEC-LAYOUT-BEGIN")) { in = 1; continue; }
        if (strstr(line, "MEC-LAYOUT-END")) break;
        if (!in || !strncmp(line, "height", 6)) continue;
        char id[128];
        int x, y, w, h;
        if (sscanf(line, "%127s %d %d %d %d", id, &x, &y, &w, &h) != 5) continue;
        seen++;
        if (w < 50 || h < 50 || x < 0 || y < 0 || x + w > img.w || y + h > img.h) {
            printf("FAIL %s: %dx%d at (%d,%d) is not inside the %dx%d screenshot\n", id, w, h, x, y, img.w, img.h);
            failed++;
            continue;
        }
        /* inside the plot's frame: count ink and distinct (quantised) colours */
        long ink = 0, total = 0;
        static unsigned char colours[4096];
        memset(colours, 0, sizeof colours);
        int n_colours = 0;
        for (int yy = y + 2; yy < y + h - 2; yy++)
            for (int xx = x + 2; xx < x + w - 2; xx++) {
                const unsigned char *p = img.rgb + ((size_t)yy * (size_t)img.w + (size_t)xx) * 3;
                total++;
                if (p[0] < 235 || p[1] < 235 || p[2] < 235) ink++;
                int q = (p[0] >> 4) << 8 | (p[1] >> 4) << 4 | (p[2] >> 4);
                if (!colours[q]) colours[q] = 1, n_colours++;
            }
        double frac = (double)ink / (double)total;
        if (frac < 0.01 || n_colours < 4) {
            printf("FAIL %s: blank (%.2f%% ink, %d colours)\n", id, 100 * frac, n_colours);
            failed++;
        } else {
            printf("ok   %s: %.1f%% ink, %d colours\n", id, 100 * frac, n_colours);
            passed++;
        }
    }
    fclose(lf);
    if (expected >= 0 && seen != expected) {
        printf("FAIL layout lists %d plots, the report drew %d\n", seen, expected);
        failed++;
    } else if (seen == 0) {
        printf("FAIL no plots in the layout\n");
        failed++;
    } else {
        passed++;
    }
    free(img.rgb);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
