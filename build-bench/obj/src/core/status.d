build-bench/obj/src/core/status.o: src/core/status.c include/mec/core.h
include/mec/core.h:
