build-bench/obj/src/cli/cli_util.o: src/cli/cli_util.c src/cli/cli.h \
 include/mec/runtime.h include/mec/ops.h include/mec/graph.h \
 include/mec/core.h include/mec/onnx.h
src/cli/cli.h:
include/mec/runtime.h:
include/mec/ops.h:
include/mec/graph.h:
include/mec/core.h:
include/mec/onnx.h:
