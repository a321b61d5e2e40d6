/* Checked file helpers: bounded whole-file reads, atomic writes. */
#define _POSIX_C_SOURCE 200809L
#include "mec/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

mec_status mec_file_read(const char *path, size_t max_bytes, void **data, size_t *len) {
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return mec_error(MEC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return mec_error(MEC_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > max_bytes) {
        close(fd);
        return mec_error(MEC_ERR_IO, "%s: file is %lld bytes, more than the %zu allowed", path,
                         (long long)sb.st_size, max_bytes);
    }
    size_t size = (size_t)sb.st_size;
    char *buf = mec_malloc(size + 1);
    if (!buf) {
        close(fd);
        return mec_error_prefix(MEC_ERR_NOMEM, "%s: ", path);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            mec_free(buf);
            close(fd);
            return mec_error(MEC_ERR_IO, "%s: read failed after %zu of %zu bytes", path, got, size);
        }
        got += (size_t)r;
    }
    close(fd);
    buf[size] = '\0';
    *data = buf;
    *len = size;
    return MEC_OK;
}

mec_status mec_file_write_atomic(const char *path, const void *data, size_t len) {
    size_t plen = strlen(path);
    char *tmp = mec_malloc(plen + 16);
    if (!tmp) return MEC_ERR_NOMEM;
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        mec_status st = mec_error(MEC_ERR_IO, "%s: cannot create temporary file: %s", path,
                                  strerror(errno));
        mec_free(tmp);
        return st;
    }
    const char *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    int ok = done == len && fsync(fd) == 0;
    ok = (close(fd) == 0) && ok;
    if (ok) chmod(tmp, 0644);
    if (!ok || rename(tmp, path) != 0) {
        mec_status st = mec_error(MEC_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        unlink(tmp);
        mec_free(tmp);
        return st;
    }
    mec_free(tmp);
    return MEC_OK;
}
