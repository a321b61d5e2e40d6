build-bench/obj/src/ops/quant.o: src/ops/quant.c src/ops/op_util.h \
 include/mec/ops.h include/mec/graph.h include/mec/core.h \
 src/ops/quant_util.h
src/ops/op_util.h:
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
src/ops/quant_util.h:
