build-bench/obj/src/graph/graph_edit.o: src/graph/graph_edit.c \
 include/mec/graph.h include/mec/core.h
include/mec/graph.h:
include/mec/core.h:
