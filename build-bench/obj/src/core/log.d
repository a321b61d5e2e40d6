build-bench/obj/src/core/log.o: src/core/log.c include/mec/core.h
include/mec/core.h:
