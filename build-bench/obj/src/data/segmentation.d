build-bench/obj/src/data/segmentation.o: src/data/segmentation.c \
 src/data/data_internal.h include/mec/data.h include/mec/core.h
src/data/data_internal.h:
include/mec/data.h:
include/mec/core.h:
