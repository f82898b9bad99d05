# vpio — build everything, run the tests, fuzz, benchmark.
#
#   make            host binaries (build/vpio) and the guest kernel (build/guest.elf)
#   make test       unit + integration tests, prints "N passed, N failed, N skipped"
#   make check      the same tests built with AddressSanitizer + UBSan
#   make fuzz       build the libFuzzer targets and run each for FUZZ_SECONDS
#   make bench      the benchmark table (vpio bench)
#   make clean
#
# Source lists are wildcards: a new file in src/<dir>/ or tests/unit/ needs no
# Makefile edit.

BUILD   ?= build
CC      ?= gcc
SAN     ?=
OPT     ?= -O2
FUZZ_SECONDS ?= 20

WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS   := -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) -Iinclude -Isrc -pthread -MMD -MP
LDLIBS   := -lpthread -lpcap
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRCS  := $(sort $(wildcard src/vmm/*.c src/dev/*.c src/net/*.c src/switch/*.c src/vhost/*.c))
CLI_SRCS  := $(sort $(wildcard src/cli/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all test check fuzz fuzz-build bench clean unit guest format
all: $(BUILD)/vpio guest

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libvpio.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/vpio: $(CLI_OBJS) $(BUILD)/libvpio.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libvpio.a $(LDLIBS)

# Unit tests may also use the command-line parsers in src/cli (all but main.c).
CLI_LIB_OBJS := $(filter-out $(BUILD)/src/cli/main.o,$(CLI_OBJS))
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libvpio.a $(CLI_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CLI_LIB_OBJS) $(BUILD)/libvpio.a -lcmocka $(LDLIBS)

unit: $(UNIT_BINS)

# The guest kernel: its own rules, freestanding flags.
-include guest/guest.mk

test: all unit
	@BUILD=$(BUILD) tests/run.sh

check:
	$(MAKE) BUILD=build/san SAN=1 OPT=-O1 test

# libFuzzer targets: clang, ASan + UBSan, linked with the library sources.
FUZZ_CC    ?= clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc -pthread \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(filter-out src/cli/main.c,$(CLI_SRCS))
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
	  n=$$(basename $$f); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  seeds=; [ -d tests/fuzz/seeds/$$n ] && seeds=tests/fuzz/seeds/$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz/corpus-$$n $$seeds 2>&1 | tail -n 4; \
	done

bench: all
	$(BUILD)/vpio bench

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(UNIT_BINS:=.d)
