build-bench/obj/src/graph/graph.o: src/graph/graph.c include/mec/graph.h \
 include/mec/core.h
include/mec/graph.h:
include/mec/core.h:
