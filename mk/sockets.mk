# The differential socket test: one source, two programs (kernel sockets, ipstack).
DIFF_SOCK_SRC := tests/diff/diff_sockets.c
DIFF_SOCK_BINS := $(BUILD)/tests/diff/diff_sockets_kernel $(BUILD)/tests/diff/diff_sockets_ipstack

$(BUILD)/tests/diff/diff_sockets_kernel: $(DIFF_SOCK_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDFLAGS_ALL)

$(BUILD)/tests/diff/diff_sockets_ipstack: $(DIFF_SOCK_SRC) tests/diff/ips_map.h $(BUILD)/libipstack.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DUSE_IPSTACK -Itests/diff -o $@ $< $(BUILD)/libipstack.a $(LDFLAGS_ALL)

.PHONY: diff-sockets
diff-sockets: $(DIFF_SOCK_BINS)
	@bash tests/interop/test_diff_sockets.sh

tests: $(DIFF_SOCK_BINS)
