/* mecbench infer (placeholder while the verb is being written this session). */
#include "cli.h"

#include <stdio.h>

int mec_cli_infer(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mecbench: 'infer' is not available in this build\n");
    return 2;
}
