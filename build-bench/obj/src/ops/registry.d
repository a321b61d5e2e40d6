build-bench/obj/src/ops/registry.o: src/ops/registry.c include/mec/ops.h \
 include/mec/graph.h include/mec/core.h
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
