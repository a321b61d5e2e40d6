build-bench/obj/src/data/photos.o: src/data/photos.c include/mec/data.h \
 include/mec/core.h
include/mec/data.h:
include/mec/core.h:
