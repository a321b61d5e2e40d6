build-bench/obj/src/cli/verb_version.o: src/cli/verb_version.c \
 src/cli/cli.h include/mec/runtime.h include/mec/ops.h \
 include/mec/graph.h include/mec/core.h
src/cli/cli.h:
include/mec/runtime.h:
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
