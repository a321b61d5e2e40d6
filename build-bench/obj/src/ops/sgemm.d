build-bench/obj/src/ops/sgemm.o: src/ops/sgemm.c src/ops/sgemm.h \
 include/mec/core.h
src/ops/sgemm.h:
include/mec/core.h:
