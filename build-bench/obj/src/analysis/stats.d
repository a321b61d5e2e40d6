build-bench/obj/src/analysis/stats.o: src/analysis/stats.c \
 include/mec/analysis.h include/mec/core.h include/mec/results.h
include/mec/analysis.h:
include/mec/core.h:
include/mec/results.h:
