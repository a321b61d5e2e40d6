build-bench/obj/src/ops/op_util.o: src/ops/op_util.c src/ops/op_util.h \
 include/mec/ops.h include/mec/graph.h include/mec/core.h
src/ops/op_util.h:
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
