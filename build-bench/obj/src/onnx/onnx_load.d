build-bench/obj/src/onnx/onnx_load.o: src/onnx/onnx_load.c \
 src/onnx/onnx_internal.h include/mec/onnx.h include/mec/core.h \
 include/mec/graph.h build-bench/gen/onnx.pb-c.h
src/onnx/onnx_internal.h:
include/mec/onnx.h:
include/mec/core.h:
include/mec/graph.h:
build-bench/gen/onnx.pb-c.h:
