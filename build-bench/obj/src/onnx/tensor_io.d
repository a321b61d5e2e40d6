build-bench/obj/src/onnx/tensor_io.o: src/onnx/tensor_io.c \
 src/onnx/onnx_internal.h include/mec/onnx.h include/mec/core.h \
 include/mec/graph.h build-bench/gen/onnx.pb-c.h
src/onnx/onnx_internal.h:
include/mec/onnx.h:
include/mec/core.h:
include/mec/graph.h:
build-bench/gen/onnx.pb-c.h:
