# libFuzzer harnesses for the wire layer (fuzz/fuzz_<name>.c).
#   make fuzz                          build them into build/fuzz/ (clang)
#   make fuzz-smoke                    each over its corpus plus ~2000 new inputs (seconds)
#   make fuzz-long FUZZ_SECONDS=600    each for FUZZ_SECONDS, growing fuzz/corpus/<name>/
# The harnesses compile the few sources they need directly, with the fuzzer and ASan +
# UBSan instrumentation, so they do not depend on the library build.
FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := eth arp ipv4 icmp igmp udp tcp
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_SRCS    := src/core/csum.c $(sort $(wildcard src/wire/*.c))
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -Iinclude \
		-Isrc -Ifuzz -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer

.PHONY: fuzz fuzz-smoke fuzz-long

fuzz: $(FUZZ_BINS)

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(FUZZ_SRCS) $(wildcard src/wire/*.h) src/core/csum.h
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS)

# -runs counts every input, the corpus included: corpus size + 2000 new ones.
fuzz-smoke: fuzz
	@set -e; for n in $(FUZZ_NAMES); do \
		c=fuzz/corpus/$$n; mkdir -p $$c; \
		runs=$$(( $$(ls $$c | wc -l) + 2000 )); \
		echo "fuzz-smoke $$n: $$runs runs"; \
		$(FUZZ_DIR)/fuzz_$$n -runs=$$runs -seed=1 $$c >$(FUZZ_DIR)/smoke_$$n.log 2>&1 || \
			{ tail -40 $(FUZZ_DIR)/smoke_$$n.log; exit 1; }; \
	done

# New inputs go to a scratch directory, then a merge keeps only those that add coverage.
fuzz-long: fuzz
	@set -e; for n in $(FUZZ_NAMES); do \
		c=fuzz/corpus/$$n; new=$(FUZZ_DIR)/new_$$n; mkdir -p $$c $$new; \
		echo "fuzz-long $$n: $(FUZZ_SECONDS) s"; \
		$(FUZZ_DIR)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/crash_$$n- $$new $$c 2>$(FUZZ_DIR)/long_$$n.log || \
			{ tail -40 $(FUZZ_DIR)/long_$$n.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units' $(FUZZ_DIR)/long_$$n.log || true; \
		$(FUZZ_DIR)/fuzz_$$n -merge=1 $$c $$new >/dev/null 2>&1; rm -rf $$new; \
	done
