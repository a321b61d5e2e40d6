build-bench/obj/src/core/dtype.o: src/core/dtype.c include/mec/core.h
include/mec/core.h:
