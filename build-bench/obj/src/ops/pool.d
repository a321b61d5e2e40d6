build-bench/obj/src/ops/pool.o: src/ops/pool.c src/ops/op_util.h \
 include/mec/ops.h include/mec/graph.h include/mec/core.h
src/ops/op_util.h:
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
