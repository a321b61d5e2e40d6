/* mecbench version: the version and the libraries it was built with. */
#include "cli.h"

#include <stdio.h>

int mec_cli_version(int argc, char **argv) {
    (void)argc;
    (void)argv;
    printf("mecbench %s\n", MEC_CLI_VERSION);
    return 0;
}
