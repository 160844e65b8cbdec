# libFuzzer harnesses (fuzz/fuzz_<name>.c; fuzz/README.md, docs/fuzzing.md).
#   make fuzz                          build them into build/fuzz/ (clang)
#   make fuzz-smoke                    each over its corpus plus some new inputs (seconds)
#   make fuzz-long FUZZ_SECONDS=600    each for FUZZ_SECONDS, growing fuzz/corpus/<name>/
# Wire harnesses (eth arp ipv4 ...) compile the few sources they need directly. Stack
# harnesses (stack_eth stack_ip stack_arp) link the whole library, compiled again into
# build/fuzz/obj/ with -fsanitize=fuzzer-no-link,address,undefined (coverage feedback and
# sanitizers in every layer), archived as build/fuzz/libipstack_fuzz.a.
FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_WIRE_NAMES  := eth arp ipv4 icmp igmp udp tcp vnet
FUZZ_STACK_NAMES := stack_eth stack_ip stack_arp
FUZZ_NAMES   ?= $(FUZZ_WIRE_NAMES) $(FUZZ_STACK_NAMES)
FUZZ_BINS    := $(FUZZ_WIRE_NAMES:%=$(FUZZ_DIR)/fuzz_%) $(FUZZ_STACK_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_SRCS    := src/core/csum.c $(sort $(wildcard src/wire/*.c))
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -Iinclude \
		-Isrc -Ifuzz -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer

.PHONY: fuzz fuzz-smoke fuzz-long

# Extra libFuzzer options by harness (a shell word, expanded in the loops below): the
# stack harnesses' inputs are scripts of many frames; a few big seeds (a 65535-byte
# datagram in fragments) stay in the corpus (fuzz-smoke runs them whole) but new inputs
# stay under 16 KB.
fuzz_opts = $$(case $(1) in stack_*) echo -max_len=16384;; esac)

fuzz: $(FUZZ_BINS)

$(FUZZ_WIRE_NAMES:%=$(FUZZ_DIR)/fuzz_%): $(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h \
		$(FUZZ_SRCS) $(wildcard src/wire/*.h) src/core/csum.h
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS)

# The library for the stack harnesses: every source, instrumented but without libFuzzer's
# main (fuzzer-no-link), so only the harness brings one.
FUZZ_LIB_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -Iinclude \
		-Isrc -pthread -D_GNU_SOURCE -fvisibility=hidden \
		-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_LIB      := $(FUZZ_DIR)/libipstack_fuzz.a

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_STACK_NAMES:%=$(FUZZ_DIR)/fuzz_%): $(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h \
		fuzz/fuzz_stack.h $(FUZZ_LIB)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -fsanitize=fuzzer -Ifuzz -o $@ $< $(FUZZ_LIB) -pthread

-include $(FUZZ_LIB_OBJS:.o=.d)

# -runs counts every input, the corpus included: corpus size + 2000 new ones. New inputs
# go to a scratch directory (the committed corpus is left alone). The build runs in
# parallel first (make check calls this without -j).
fuzz-smoke:
	@$(MAKE) --no-print-directory -j$$(nproc) fuzz
	@set -e; for n in $(FUZZ_NAMES); do \
		c=fuzz/corpus/$$n; new=$(FUZZ_DIR)/smoke_new_$$n; mkdir -p $$c; \
		rm -rf $$new; mkdir -p $$new; \
		runs=$$(( $$(ls $$c | wc -l) + 2000 )); \
		echo "fuzz-smoke $$n: $$runs runs"; \
		$(FUZZ_DIR)/fuzz_$$n -runs=$$runs -seed=1 -artifact_prefix=$(FUZZ_DIR)/crash_$$n- \
			$$new $$c >$(FUZZ_DIR)/smoke_$$n.log 2>&1 || \
			{ tail -40 $(FUZZ_DIR)/smoke_$$n.log; exit 1; }; \
		rm -rf $$new; \
	done

# New inputs go to a scratch directory, then a merge keeps only those that add coverage.
fuzz-long: fuzz
	@set -e; for n in $(FUZZ_NAMES); do \
		c=fuzz/corpus/$$n; new=$(FUZZ_DIR)/new_$$n; mkdir -p $$c $$new; \
		echo "fuzz-long $$n: $(FUZZ_SECONDS) s"; \
		$(FUZZ_DIR)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(call fuzz_opts,$$n) \
			-artifact_prefix=$(FUZZ_DIR)/crash_$$n- $$new $$c 2>$(FUZZ_DIR)/long_$$n.log || \
			{ tail -40 $(FUZZ_DIR)/long_$$n.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units' $(FUZZ_DIR)/long_$$n.log || true; \
		$(FUZZ_DIR)/fuzz_$$n -merge=1 $$c $$new >/dev/null 2>&1; rm -rf $$new; \
	done
