build-bench/obj/src/data/tokenizer.o: src/data/tokenizer.c \
 src/data/data_internal.h include/mec/data.h include/mec/core.h
src/data/data_internal.h:
include/mec/data.h:
include/mec/core.h:
