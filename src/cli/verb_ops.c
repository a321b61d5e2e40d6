/* mecbench ops (placeholder while the verb is being written this session). */
#include "cli.h"

#include <stdio.h>

int mec_cli_ops(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mecbench: 'ops' is not available in this build\n");
    return 2;
}
