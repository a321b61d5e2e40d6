build-bench/obj/src/cli/verb_ops.o: src/cli/verb_ops.c src/cli/cli.h \
 include/mec/runtime.h include/mec/ops.h include/mec/graph.h \
 include/mec/core.h include/mec/onnx.h
src/cli/cli.h:
include/mec/runtime.h:
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
include/mec/onnx.h:
