/* mecbench version: the version, the libraries it runs on, and what this
 * process may use (cores, CPU quota, OpenMP wait policy). */
#include "cli.h"

#include "mec/ops.h"

#include <protobuf-c/protobuf-c.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mec_cli_version(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: mecbench version\n\nPrints the version, the libraries mecbench runs on, "
                   "and the cores, CPU quota and\nOpenMP wait policy this process has.\n");
            return 0;
        }
        fprintf(stderr, "mecbench version: unexpected argument '%s'\n", argv[i]);
        return 2;
    }
    const char *policy = getenv("OMP_WAIT_POLICY");
    int quota = mec_cpu_quota_cores();
    printf("mecbench %s\n", MEC_CLI_VERSION);
    printf("kernels    reference C + %s\n", mec_op_fast_library());
    printf("protobuf-c %s\n", protobuf_c_version());
    printf("SQLite     %s\n", sqlite3_libversion());
    printf("cores      %d available to this process\n", mec_threads_available());
    if (quota) printf("CPU quota  %d core%s (cgroup)\n", quota, quota == 1 ? "" : "s");
    else printf("CPU quota  none\n");
    printf("OpenMP     wait policy %s\n", policy ? policy : "default (spin, then sleep)");
    return 0;
}
