build-bench/obj/src/ops/fused.o: src/ops/fused.c src/ops/fused.h \
 include/mec/ops.h include/mec/graph.h include/mec/core.h \
 src/ops/op_util.h
src/ops/fused.h:
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
src/ops/op_util.h:
