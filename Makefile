# vpio — build everything, run the tests, fuzz, benchmark.
#
#   make            host binaries (build/vpio) and the guest kernel (build/guest.elf)
#   make test       unit + integration tests, prints "N passed, N failed, N skipped"
#   make check      unit tests and the SAN_INTEGRATION scripts built with
#                   AddressSanitizer + UBSan (in build/san)
#   make fuzz       build the libFuzzer targets and run each for FUZZ_SECONDS
#                   (same as make fuzz-run)
#   make coverage-e1000  src/dev coverage of the fuzz_e1000 corpus (llvm-cov)
#   make tsan-stress     the e1000 VM-threads stress test under ThreadSanitizer
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
LDLIBS   += -lxdp -lbpf
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# SAN=thread: ThreadSanitizer (make tsan-stress).
ifeq ($(SAN),thread)
CFLAGS  += -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan # fences: not modelled by TSan
LDFLAGS += -fsanitize=thread
endif

LIB_SRCS  := $(sort $(wildcard src/vmm/*.c src/dev/*.c src/devif/*.c src/net/*.c src/switch/*.c src/uplink/*.c src/vhost/*.c))
CLI_SRCS  := $(sort $(wildcard src/cli/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

# Integration scripts (tests/integration/*.sh; shared libraries live in
# tests/integration/lib/ and are never run) are named by what they boot and
# through what: vpio_* (VMs under vpio's VMM), qemu_* (QEMU guests),
# switch_* (host only), vhost_user_*, uplink_* (vpio's port processes).
# The sanitizer pass runs those whose host side is vpio's own code: every
# script matching SAN_INTEGRATION_PATTERNS (qemu_switch*: QEMU guests
# through vpio's switch and qemu-port). A new script joins by its name.
INTEGRATION_SCRIPTS := $(sort $(basename $(notdir $(wildcard tests/integration/*.sh))))
SAN_INTEGRATION_PATTERNS := vpio_% switch_% qemu_switch% vhost_user_testpmd uplink_two_hosts uplink_link
SAN_INTEGRATION := $(filter $(SAN_INTEGRATION_PATTERNS),$(INTEGRATION_SCRIPTS))
SAN_BUILD := build/san

.PHONY: all test check fuzz fuzz-build fuzz-run bench clean unit guest format print-san-integration tsan-switch-stress coverage
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
	$(MAKE) BUILD=$(SAN_BUILD) SAN=1 OPT=-O1 all unit
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  INTEGRATION_ONLY="$(SAN_INTEGRATION)" BUILD=$(SAN_BUILD) tests/run.sh

# The switch's concurrent-peer stress test under ThreadSanitizer (not part
# of scripts/test.sh: see docs/switch.md, "Stress test").
tsan-switch-stress:
	$(MAKE) BUILD=build/tsan SAN=thread OPT=-O1 build/tsan/tests/test_switch_stress
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build/tsan/tests/test_switch_stress

# Line/function coverage of one fuzz target from a fresh run (clang
# source-based coverage; scripts/coverage.sh says how):
#   make coverage COVERAGE_TARGET=fuzz_guest_net COVERAGE_SECONDS=60
COVERAGE_TARGET ?= fuzz_guest_net
COVERAGE_SECONDS ?= 60
coverage:
	scripts/coverage.sh $(COVERAGE_TARGET) $(COVERAGE_SECONDS)

print-san-integration:
	@echo $(SAN_INTEGRATION)

# libFuzzer targets: clang, ASan + UBSan, linked with the library sources.
# Objects in $(BUILD)/fuzz/obj (shared by every target), with -MMD deps: a
# target rebuilds when a header (or a .c file it #includes) changes.
FUZZ_CC    ?= clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc -pthread \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ      := $(BUILD)/fuzz/obj
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(LIB_SRCS) $(filter-out src/cli/main.c,$(CLI_SRCS)))
FUZZ_MAIN_OBJS := $(FUZZ_SRCS:%.c=$(FUZZ_OBJ)/%.o)
$(FUZZ_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -MMD -MP -c $< -o $@
$(FUZZ_BINS): $(BUILD)/fuzz/%: $(FUZZ_OBJ)/tests/fuzz/%.o $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

# Runs every target for FUZZ_SECONDS on its corpus (+ seeds), prints
# "PASS fuzz/NAME (N runs)" or "FAIL fuzz/NAME" with the log's tail, and
# writes "passed failed 0" to $(BUILD)/fuzz/fuzz-summary (scripts/test.sh
# adds it to its total). Fails if any target failed.
fuzz-run: $(FUZZ_BINS)
	@p=0; f=0; for t in $(FUZZ_BINS); do \
	  n=$$(basename $$t); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  seeds=; [ -d tests/fuzz/seeds/$$n ] && seeds=tests/fuzz/seeds/$$n; \
	  if $$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1 \
	       $(BUILD)/fuzz/corpus-$$n $$seeds >$(BUILD)/fuzz/$$n.log 2>&1; then \
	    echo "PASS fuzz/$$n ($$(sed -n 's/^stat::number_of_executed_units: *//p' $(BUILD)/fuzz/$$n.log) runs)"; \
	    p=$$((p + 1)); \
	  else \
	    echo "FAIL fuzz/$$n (log: $(BUILD)/fuzz/$$n.log)"; tail -n 40 $(BUILD)/fuzz/$$n.log; \
	    f=$$((f + 1)); \
	  fi; \
	done; echo "$$p $$f 0" >$(BUILD)/fuzz/fuzz-summary; [ $$f -eq 0 ]

fuzz: fuzz-run

# src/dev coverage reached by the fuzz_e1000 corpus (docs/e1000-security.md).
.PHONY: coverage-e1000
coverage-e1000:
	scripts/coverage-e1000.sh

# The VM-threads stress test under ThreadSanitizer (tests/unit/test_e1000_stress.c).
TSAN_STRESS_SECONDS ?= 15
.PHONY: tsan-stress
tsan-stress:
	@mkdir -p $(BUILD)/tsan
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc -pthread -fsanitize=thread \
	  -o $(BUILD)/tsan/test_e1000_stress tests/unit/test_e1000_stress.c $(LIB_SRCS) \
	  -lcmocka $(LDLIBS)
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=tests/unit/tsan-stress.supp" \
	  E1000_STRESS_SECONDS=$(TSAN_STRESS_SECONDS) $(BUILD)/tsan/test_e1000_stress

bench: all
	$(BUILD)/vpio bench

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(UNIT_BINS:=.d) $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_MAIN_OBJS:.o=.d)
