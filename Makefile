# ipstack build. `make` builds the libraries and the CLI; `make check` runs every test,
# then again under AddressSanitizer + UndefinedBehaviorSanitizer.
ifeq ($(origin CC),default)
CC      = gcc
endif
BUILD   ?= build
PREFIX  ?= /usr/local
OPT     ?= -O2
SAN     ?=
CFLAGS_ALL = -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter $(OPT) -g -fPIC \
	     -fvisibility=hidden -Iinclude -Isrc -pthread -D_GNU_SOURCE $(SAN) $(EXTRA_CFLAGS)
LDFLAGS_ALL = -pthread $(SAN) $(EXTRA_LDFLAGS)

LIB_SRCS  := $(sort $(shell find src -name '*.c'))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_SRCS  := $(sort $(wildcard tools/*.c))
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS := $(sort $(shell find tests/unit tests/sim -name 'test_*.c' 2>/dev/null))
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))
TEST_SUPPORT_OBJS := $(TEST_SUPPORT:%.c=$(BUILD)/obj/%.o)

.PHONY: all lib cli tests check check-unit check-san check-interop install demo bench fuzz clean deps

all: lib cli

lib: $(BUILD)/libipstack.a $(BUILD)/libipstack.so
cli: $(BUILD)/ipstack

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libipstack.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libipstack.so: $(LIB_OBJS)
	$(CC) -shared -o $@ $^ $(LDFLAGS_ALL)

$(BUILD)/ipstack: $(CLI_OBJS) $(BUILD)/libipstack.a
	$(CC) -o $@ $(CLI_OBJS) $(BUILD)/libipstack.a $(LDFLAGS_ALL)

$(BUILD)/tests/%: tests/%.c $(TEST_SUPPORT_OBJS) $(BUILD)/libipstack.a tests/test.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -MMD -MP -MF $@.d -o $@ $< $(TEST_SUPPORT_OBJS) $(BUILD)/libipstack.a $(LDFLAGS_ALL)

tests: $(TEST_BINS)

# The whole suite: unit + simulated tests, the symbol check, the interop tests (root,
# network namespaces), then unit + simulated again under ASan+UBSan.
check: deps
	@bash tests/run_all.sh

check-unit: all tests
	@bash tests/run_unit.sh $(BUILD)

deps:
	@bash tests/deps.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/ipstack \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(BUILD)/libipstack.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libipstack.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/ipstack/*.h $(DESTDIR)$(PREFIX)/include/ipstack/
	install -m 755 $(BUILD)/ipstack $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' ipstack.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ipstack.pc

demo: all
	$(BUILD)/ipstack demo

clean:
	rm -rf build

# Header dependencies (gcc -MMD) of everything, test programs and their support code too.
-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(TEST_SUPPORT_OBJS:.o=.d) $(TEST_BINS:=.d)

# Fragments that add targets (fuzzers, interop tests, bench) live in mk/.
-include $(sort $(wildcard mk/*.mk))
