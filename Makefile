# mecbench — one build for libmec, the mecbench CLI, tests and benchmarks.
#   make            build build/libmec.a, build/libmec.so and build/mecbench
#   make test       unit tests, ONNX conformance, interop (the CI command)
#   make check      the tests under AddressSanitizer + UBSan
#   make bench      benchmarks against the peers (ONNX Runtime, PyTorch)
#   make fuzz       libFuzzer target for the ONNX loader (clang)
#   make demo       the main job: the studies' data analysed + a zoo model run

CC      ?= gcc
BUILD   ?= build
OPT     ?= -O2
SAN     ?=
CFLAGS  ?=
# message buffers truncate on purpose; clang spells the option differently
NOWARN  := $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),-Wno-unknown-warning-option -Wno-pass-failed,-Wno-format-truncation)
CFLAGS  += -std=c11 $(OPT) -g -Wall -Wextra -Werror $(NOWARN) -fopenmp -fPIC $(SAN) \
           -Iinclude -I$(BUILD)/gen -D_DEFAULT_SOURCE
LDLIBS  += -lprotobuf-c -lsqlite3 -lyaml -ljpeg -lpng -lz -lm -ldnnl
LDFLAGS += -fopenmp $(SAN)

ONNX_PROTO ?= /usr/include/onnx/onnx.proto
# quiet by default; `make V=1` shows the commands
V ?= 0
Q := $(if $(filter 1,$(V)),,@)
say = $(if $(filter 1,$(V)),,@printf '  %-6s %s\n' $(1) $(2);)

LIB_SRC  := $(sort $(wildcard src/*/*.c src/*/*/*.c))
LIB_SRC  := $(filter-out src/cli/%,$(LIB_SRC))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
GEN_SRC  := $(BUILD)/gen/onnx.pb-c.c
LIB_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/gen/onnx.pb-c.o
CLI_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRC))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRC))

.PHONY: all test check bench fuzz clean format demo
all: $(BUILD)/libmec.a $(BUILD)/libmec.so $(BUILD)/mecbench $(TEST_BIN) $(TOOL_BIN)

$(BUILD)/gen/onnx.pb-c.h: $(BUILD)/gen/onnx.pb-c.c
$(BUILD)/gen/onnx.pb-c.c: $(ONNX_PROTO)
	@mkdir -p $(BUILD)/gen
	$(call say,PROTO,$<)
	$(Q)cp $(ONNX_PROTO) $(BUILD)/gen/onnx.proto
	$(Q)cd $(BUILD)/gen && protoc-c --c_out=. onnx.proto

$(BUILD)/obj/gen/onnx.pb-c.o: $(BUILD)/gen/onnx.pb-c.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) -std=c11 $(OPT) -g -fPIC $(SAN) -I$(BUILD)/gen -c $< -o $@

$(BUILD)/obj/%.o: %.c $(BUILD)/gen/onnx.pb-c.h
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libmec.a: $(LIB_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libmec.so: $(LIB_OBJ)
	$(call say,LD,$@)
	$(Q)$(CC) -shared -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/mecbench: $(CLI_OBJ) $(BUILD)/libmec.a
	$(call say,LD,$@)
	$(Q)$(CC) -o $@ $(CLI_OBJ) $(BUILD)/libmec.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libmec.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) -Isrc -o $@ $< $(BUILD)/libmec.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: tests/tools/%.c $(BUILD)/libmec.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) -Isrc -o $@ $< $(BUILD)/libmec.a $(LDFLAGS) $(LDLIBS)

test: all
	BUILD=$(BUILD) bash tests/run.sh

demo: all
	BUILD=$(BUILD) bash scripts/demo.sh

check:
	$(MAKE) BUILD=build-san OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" test

bench: all
	BUILD=$(BUILD) bash bench/run.sh

fuzz:
	$(MAKE) -f tests/fuzz/Makefile LDLIBS="$(LDLIBS)"

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) include/mec/*.h tests/unit/*.c

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
