/* mecbench bench (placeholder while the verb is being written this session). */
#include "cli.h"

#include <stdio.h>

int mec_cli_bench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mecbench: 'bench' is not available in this build\n");
    return 2;
}
