build-bench/obj/src/analysis/analysis.o: src/analysis/analysis.c \
 include/mec/analysis.h include/mec/core.h include/mec/results.h
include/mec/analysis.h:
include/mec/core.h:
include/mec/results.h:
