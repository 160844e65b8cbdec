# `make bench`: ipstack against the kernel, side by side (bench/, docs/performance.md).
#   make bench                         optimised build into build/bench/, every case, table
#                                      + build/bench.json
#   make bench BENCH_ARGS="--runs 3 --time 1 --cases udp_pps_64,tcp_rr_64"
#   make bench-bin                     just build build/bench/ipsbench
# The library is compiled again here, -O2 with link-time optimisation over library and
# benchmark together (measured: docs/performance.md), apart from the normal build.
BENCH_DIR    := build/bench
BENCH_OPT    ?= -O2 -flto=auto
BENCH_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter $(BENCH_OPT) -g \
		-fno-omit-frame-pointer -fvisibility=hidden -Iinclude -Isrc -pthread -D_GNU_SOURCE
BENCH_SRCS   := bench/main.c bench/common.c bench/ips.c bench/kern.c
BENCH_LIBOBJS := $(LIB_SRCS:%.c=$(BENCH_DIR)/obj/%.o)
BENCH_OBJS   := $(BENCH_SRCS:%.c=$(BENCH_DIR)/obj/%.o) $(BENCH_LIBOBJS)
BENCH_ARGS   ?=

.PHONY: bench bench-bin

bench-bin: $(BENCH_DIR)/ipsbench $(BENCH_DIR)/tcp_probe

$(BENCH_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -MMD -MP -c $< -o $@

$(BENCH_DIR)/ipsbench: $(BENCH_OBJS)
	$(CC) $(BENCH_CFLAGS) -o $@ $^ -pthread

# A development tool: TCP bulk through src/transport/tcp.h, for profiling TCP alone.
$(BENCH_DIR)/tcp_probe: $(BENCH_DIR)/obj/bench/tcp_probe.o $(BENCH_DIR)/obj/bench/common.o $(BENCH_LIBOBJS)
	$(CC) $(BENCH_CFLAGS) -o $@ $^ -pthread

bench: $(BENCH_DIR)/ipsbench
	python3 bench/run.py --bin $(BENCH_DIR)/ipsbench --out build/bench.json $(BENCH_ARGS)

# Both compilers check the benchmark sources with the tests (-Werror), linked with the
# normal library.
tests: $(BUILD)/bench/ipsbench-check

$(BUILD)/bench/ipsbench-check: $(BENCH_SRCS) bench/bench.h $(BUILD)/libipstack.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $(BENCH_SRCS) $(BUILD)/libipstack.a $(LDFLAGS_ALL)

-include $(BENCH_OBJS:.o=.d) $(BENCH_DIR)/obj/bench/tcp_probe.d
