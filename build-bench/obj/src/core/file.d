build-bench/obj/src/core/file.o: src/core/file.c include/mec/core.h
include/mec/core.h:
