build-bench/obj/src/data/text.o: src/data/text.c src/data/data_internal.h \
 include/mec/data.h include/mec/core.h
src/data/data_internal.h:
include/mec/data.h:
include/mec/core.h:
