build-bench/obj/src/analysis/recommend.o: src/analysis/recommend.c \
 include/mec/analysis.h include/mec/core.h include/mec/results.h
include/mec/analysis.h:
include/mec/core.h:
include/mec/results.h:
