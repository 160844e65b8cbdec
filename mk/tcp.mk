# TCP test harness: the script runner and the integrity tests include tests/tcp/*.c.
$(BUILD)/tests/sim/test_tcp_scripts: tests/tcp/harness.c tests/tcp/harness.h
$(BUILD)/tests/sim/test_tcp_integrity: tests/tcp/sha256.c tests/tcp/sha256.h
