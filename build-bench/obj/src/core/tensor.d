build-bench/obj/src/core/tensor.o: src/core/tensor.c include/mec/core.h
include/mec/core.h:
