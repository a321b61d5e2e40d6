/* Status codes and the per-thread error message. */
#include "mec/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
    "ok",          "invalid argument", "I/O error", "parse error",    "unsupported",
    "shape error", "dtype error",      "out of memory", "out of range", "graph error",
    "not found",   "internal error",   "deferred",
};
_Static_assert(sizeof(status_names) / sizeof(status_names[0]) == MEC_STATUS_COUNT,
               "status_names must list every mec_status");

#define MSG_CAP 4096
static _Thread_local char last_msg[MSG_CAP];

const char *mec_status_name(mec_status s) {
    if ((unsigned)s >= MEC_STATUS_COUNT) return "unknown status";
    return status_names[s];
}

mec_status mec_error(mec_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, MSG_CAP, fmt, ap);
    va_end(ap);
    return s;
}

mec_status mec_error_prefix(mec_status s, const char *fmt, ...) {
    char prefix[1024];
    char old[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_msg, MSG_CAP);
    snprintf(last_msg, MSG_CAP, "%s%s", prefix, old);
    return s;
}

const char *mec_last_error(void) { return last_msg; }

void mec_error_clear(void) { last_msg[0] = '\0'; }
