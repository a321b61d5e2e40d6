build-bench/obj/src/experiment/results_db.o: src/experiment/results_db.c \
 include/mec/results.h include/mec/core.h
include/mec/results.h:
include/mec/core.h:
