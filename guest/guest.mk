# The guest kernel (build/guest.elf): freestanding x86-64, PVH entry.
# Included by the top Makefile; uses $(BUILD). Sources are wildcards.
#
# Flags: no red zone (interrupts at CPL 0 share the stack only in the wait
# call, but keep it safe), general registers only (no FPU/SSE state to
# save), no stack protector, no PIC, small code model (everything is
# identity mapped below 2 GiB).
GUEST_CC      ?= gcc
GUEST_CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
                 -ffreestanding -fno-builtin -fno-pic -fno-pie -mno-red-zone \
                 -mgeneral-regs-only -fno-stack-protector -fcf-protection=none \
                 -fno-asynchronous-unwind-tables -fno-unwind-tables \
                 -mcmodel=small -m64 -Iguest/include -Iguest -Iinclude -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
                 -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
                 -T guest/guest.ld

GUEST_C_SRCS  := $(sort $(wildcard guest/*/*.c guest/*/*/*.c))
GUEST_S_SRCS  := $(sort $(wildcard guest/*/*.S guest/*/*/*.S))
GUEST_OBJS    := $(GUEST_S_SRCS:%.S=$(BUILD)/%.o) $(GUEST_C_SRCS:%.c=$(BUILD)/%.o)

.PHONY: guest
guest: $(BUILD)/guest.elf

$(BUILD)/guest/%.o: guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/%.o: guest/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

# Link, then refuse any int3 (0xCC as an instruction): the nested KVM this
# project targets cannot emulate it, so a stray int3 kills the guest.
$(BUILD)/guest.elf: $(GUEST_OBJS) guest/guest.ld
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@.tmp $(GUEST_OBJS)
	@if objdump -d $@.tmp | grep -qw int3; then \
	    echo "guest: int3 instruction found in $@:" >&2; \
	    objdump -d $@.tmp | grep -w int3 >&2; rm -f $@.tmp; exit 1; fi
	@mv $@.tmp $@

-include $(GUEST_OBJS:.o=.d)

# Host unit tests of pure guest code (tests/unit/test_guest_*.c include the
# guest source directly) need the guest headers.
$(BUILD)/tests/test_guest_%: CFLAGS += -Iguest/include
