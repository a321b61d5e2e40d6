build-bench/obj/src/core/threads.o: src/core/threads.c include/mec/core.h
include/mec/core.h:
