build-bench/obj/src/data/dataset.o: src/data/dataset.c \
 src/data/data_internal.h include/mec/data.h include/mec/core.h
src/data/data_internal.h:
include/mec/data.h:
include/mec/core.h:
