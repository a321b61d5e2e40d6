build-bench/obj/src/cli/main.o: src/cli/main.c src/cli/cli.h \
 include/mec/runtime.h include/mec/ops.h include/mec/graph.h \
 include/mec/core.h
src/cli/cli.h:
include/mec/runtime.h:
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
