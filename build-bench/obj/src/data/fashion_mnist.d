build-bench/obj/src/data/fashion_mnist.o: src/data/fashion_mnist.c \
 src/data/data_internal.h include/mec/data.h include/mec/core.h
src/data/data_internal.h:
include/mec/data.h:
include/mec/core.h:
