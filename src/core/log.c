/* Monotonic time and leveled logging to stderr. */
#include "mec/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t mec_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double mec_now_ms(void) { return (double)mec_now_ns() / 1e6; }

static int log_level = -1;

void mec_log_set_level(mec_log_level lvl) { log_level = (int)lvl; }

static int current_level(void) {
    if (log_level < 0) {
        const char *env = getenv("MEC_LOG");
        log_level = MEC_LOG_WARN;
        if (env) {
            if (!strcmp(env, "error")) log_level = MEC_LOG_ERROR;
            else if (!strcmp(env, "info")) log_level = MEC_LOG_INFO;
            else if (!strcmp(env, "debug")) log_level = MEC_LOG_DEBUG;
        }
    }
    return log_level;
}

void mec_log(mec_log_level lvl, const char *fmt, ...) {
    static const char *const tags[] = {"error", "warning", "info", "debug"};
    if ((int)lvl > current_level()) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mecbench: %s: ", tags[lvl]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
