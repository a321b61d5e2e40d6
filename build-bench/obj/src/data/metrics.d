build-bench/obj/src/data/metrics.o: src/data/metrics.c include/mec/data.h \
 include/mec/core.h
include/mec/data.h:
include/mec/core.h:
