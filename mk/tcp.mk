# TCP test harness: the script runner and the integrity tests include tests/tcp/*.c.
$(BUILD)/tests/sim/test_tcp_scripts: tests/tcp/harness.c tests/tcp/harness.h
$(BUILD)/tests/sim/test_tcp_integrity: tests/tcp/sha256.c tests/tcp/sha256.h
# The interop client (tests/interop/ips_tcp.c) digests with tests/tcp/sha256.c.
$(BUILD)/interop/ips_tcp: tests/tcp/sha256.c tests/tcp/sha256.h
$(BUILD)/interop/ips_tcp: EXTRA_CFLAGS += -Itests
