build-bench/obj/src/data/image.o: src/data/image.c include/mec/data.h \
 include/mec/core.h
include/mec/data.h:
include/mec/core.h:
