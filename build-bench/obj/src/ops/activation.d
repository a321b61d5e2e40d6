build-bench/obj/src/ops/activation.o: src/ops/activation.c \
 src/ops/op_util.h include/mec/ops.h include/mec/graph.h \
 include/mec/core.h
src/ops/op_util.h:
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
