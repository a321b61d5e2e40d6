build-bench/obj/src/ops/conv.o: src/ops/conv.c src/ops/op_util.h \
 include/mec/ops.h include/mec/graph.h include/mec/core.h src/ops/sgemm.h
src/ops/op_util.h:
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
src/ops/sgemm.h:
