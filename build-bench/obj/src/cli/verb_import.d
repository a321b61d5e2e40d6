build-bench/obj/src/cli/verb_import.o: src/cli/verb_import.c \
 src/cli/cli.h include/mec/runtime.h include/mec/ops.h \
 include/mec/graph.h include/mec/core.h include/mec/results.h
src/cli/cli.h:
include/mec/runtime.h:
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
include/mec/results.h:
