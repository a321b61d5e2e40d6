/* Threads: how many cores we may really use, and the one OpenMP runtime that
 * our loops and oneDNN share (two pools would fight over the same cores). */
#define _GNU_SOURCE
#include "mec/core.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int configured_threads = 0;

/* This process's cgroup path for a v1 controller ("cpu") or, with
 * controller NULL, the v2 unified hierarchy, from /proc/self/cgroup. */
static bool cgroup_path(const char *controller, char *out, size_t n) {
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        /* "hierarchy-id:controller-list:path" */
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = '\0';
        const char *list = c1 + 1, *path = c2 + 1;
        if (controller) {
            /* the list may be "cpu,cpuacct" */
            for (const char *p = list; *p;) {
                size_t len = strcspn(p, ",");
                if (len == strlen(controller) && !strncmp(p, controller, len)) found = true;
                p += len + (p[len] == ',');
            }
        } else {
            found = list[0] == '\0' && line[0] == '0';
        }
        if (found) {
            snprintf(out, n, "%s", path);
            out[strcspn(out, "\n")] = '\0';
        }
    }
    fclose(f);
    return found;
}

static bool read_two(const char *path, char *a, size_t na, long *b) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char fmt[32];
    snprintf(fmt, sizeof fmt, "%%%zus %%ld", na - 1);
    bool ok = fscanf(f, fmt, a, b) == 2;
    fclose(f);
    return ok;
}

static long read_long(const char *path) {
    FILE *f = fopen(path, "r");
    long v = -1;
    if (!f) return -1;
    if (fscanf(f, "%ld", &v) != 1) v = -1;
    fclose(f);
    return v;
}

/* ceil(quota / period) of this process's cgroup (v2 "cpu.max" is "max 100000"
 * or "<quota> <period>"; v1 has cpu.cfs_quota_us / cpu.cfs_period_us), or 0. */
static int cgroup_cpu_limit(void) {
    char rel[768], path[1024], q[32];
    long quota = -1, period = 0;
    if (cgroup_path(NULL, rel, sizeof rel)) {
        snprintf(path, sizeof path, "/sys/fs/cgroup/%s/cpu.max", rel);
        if (read_two(path, q, sizeof q, &period) && strcmp(q, "max") != 0) quota = atol(q);
    }
    if (quota <= 0 && cgroup_path("cpu", rel, sizeof rel)) {
        snprintf(path, sizeof path, "/sys/fs/cgroup/cpu/%s/cpu.cfs_quota_us", rel);
        quota = read_long(path);
        snprintf(path, sizeof path, "/sys/fs/cgroup/cpu/%s/cpu.cfs_period_us", rel);
        period = read_long(path);
    }
    if (quota <= 0 || period <= 0) return 0;
    return (int)((quota + period - 1) / period);
}

int mec_cpu_quota_cores(void) { return cgroup_cpu_limit(); }

int mec_threads_available(void) {
    int n = 1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    int limit = cgroup_cpu_limit();
    if (limit > 0 && limit < n) n = limit;
    return n < 1 ? 1 : n;
}

void mec_threads_set(int n) {
    if (n <= 0) n = mec_threads_available();
    configured_threads = n;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

int mec_threads_get(void) {
    if (configured_threads <= 0) mec_threads_set(0);
    return configured_threads;
}
