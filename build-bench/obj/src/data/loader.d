build-bench/obj/src/data/loader.o: src/data/loader.c \
 src/data/data_internal.h include/mec/data.h include/mec/core.h
src/data/data_internal.h:
include/mec/data.h:
include/mec/core.h:
