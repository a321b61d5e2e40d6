/* mecbench analyze (placeholder while the verb is being written this session). */
#include "cli.h"

#include <stdio.h>

int mec_cli_analyze(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mecbench: 'analyze' is not available in this build\n");
    return 2;
}
