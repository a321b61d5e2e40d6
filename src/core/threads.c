/* Threads: how many cores we may really use, and the one OpenMP runtime that
 * our loops and oneDNN share (two pools would fight over the same cores). */
#define _GNU_SOURCE
#include "mec/core.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int configured_threads = 0;

/* cgroup v2 "cpu.max" is "max 100000" or "<quota> <period>"; v1 has
 * cpu.cfs_quota_us / cpu.cfs_period_us. Returns ceil(quota/period) or 0. */
static int cgroup_cpu_limit(void) {
    long quota = -1, period = 0;
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (f) {
        char q[32] = {0};
        if (fscanf(f, "%31s %ld", q, &period) == 2 && strcmp(q, "max") != 0)
            sscanf(q, "%ld", &quota);
        fclose(f);
    } else {
        f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r");
        if (f) {
            if (fscanf(f, "%ld", &quota) != 1) quota = -1;
            fclose(f);
        }
        f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r");
        if (f) {
            if (fscanf(f, "%ld", &period) != 1) period = 0;
            fclose(f);
        }
    }
    if (quota <= 0 || period <= 0) return 0;
    return (int)((quota + period - 1) / period);
}

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
