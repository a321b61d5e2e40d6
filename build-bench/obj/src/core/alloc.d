build-bench/obj/src/core/alloc.o: src/core/alloc.c include/mec/core.h
include/mec/core.h:
