build-bench/obj/src/cli/verb_recommend.o: src/cli/verb_recommend.c \
 src/cli/cli.h include/mec/runtime.h include/mec/ops.h \
 include/mec/graph.h include/mec/core.h include/mec/analysis.h \
 include/mec/results.h
src/cli/cli.h:
include/mec/runtime.h:
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
include/mec/analysis.h:
include/mec/results.h:
