# TCP test harness: the script runner and the integrity tests include tests/tcp/harness.c and tools/sha256.c.
$(BUILD)/tests/sim/test_tcp_scripts: tests/tcp/harness.c tests/tcp/harness.h
$(BUILD)/tests/sim/test_tcp_integrity: tools/sha256.c tools/sha256.h
# The interop client (tests/interop/ips_tcp.c) digests with tools/sha256.c, the demo's.
$(BUILD)/interop/ips_tcp: tools/sha256.c tools/sha256.h
$(BUILD)/interop/ips_tcp: EXTRA_CFLAGS += -Itests
