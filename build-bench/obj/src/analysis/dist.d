build-bench/obj/src/analysis/dist.o: src/analysis/dist.c \
 include/mec/analysis.h include/mec/core.h include/mec/results.h
include/mec/analysis.h:
include/mec/core.h:
include/mec/results.h:
