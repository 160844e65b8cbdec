# Kernel interop tests (tests/interop/): small C helpers linked with the static library,
# built under $(BUILD)/interop/, and `make check-interop` to run every test_*.sh.
INTEROP_SRCS := $(sort $(wildcard tests/interop/*.c))
INTEROP_BINS := $(INTEROP_SRCS:tests/interop/%.c=$(BUILD)/interop/%)

.PHONY: interop

interop: $(INTEROP_BINS)

# Built with the tests so that both compilers check them (-Werror) on every `make check`.
tests: $(INTEROP_BINS)

# The helpers use internal headers (src/ip/icmp.h) as the unit tests do.
$(BUILD)/interop/%: tests/interop/%.c $(BUILD)/libipstack.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libipstack.a $(LDFLAGS_ALL)

# Needs root and network namespaces; each test prints "NAME: N passed, N failed".
check-interop: all interop
	@pass=0; fail=0; for t in tests/interop/test_*.sh; do \
		bash $$t; rc=$$?; [ $$rc -eq 0 ] || fail=$$((fail + 1)); \
		[ $$rc -eq 0 ] && pass=$$((pass + 1)); \
	done; echo "interop: $$pass tests passed, $$fail failed"; [ $$fail -eq 0 ]
