/* A small test framework: TEST(name) { ... } registers a case; CHECK* macros record a
 * failure and carry on, ASSERT* return from the case. main() (from TEST_MAIN) runs every
 * case, or those whose name contains argv[1], and prints "N passed, N failed". */
#ifndef IPS_TEST_H
#define IPS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
	struct test_case *next;
};

extern struct test_case *test_list;
extern int test_failed_now;

#define TEST(name)                                                            \
	static void test_##name(void);                                        \
	static struct test_case test_case_##name = { #name, test_##name, 0 }; \
	__attribute__((constructor)) static void test_reg_##name(void)        \
	{                                                                     \
		test_case_##name.next = test_list;                            \
		test_list = &test_case_##name;                                \
	}                                                                     \
	static void test_##name(void)

#define TEST_FAIL_AT(fmt, ...)                                                          \
	do {                                                                            \
		fprintf(stderr, "  %s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__); \
		test_failed_now = 1;                                                    \
	} while (0)

#define CHECK(cond)                                       \
	do {                                              \
		if (!(cond))                              \
			TEST_FAIL_AT("check failed: %s", #cond); \
	} while (0)

#define CHECK_EQ(a, b)                                                                     \
	do {                                                                               \
		long long _a = (long long)(a), _b = (long long)(b);                        \
		if (_a != _b)                                                              \
			TEST_FAIL_AT("%s == %s: %lld != %lld", #a, #b, _a, _b);            \
	} while (0)

#define CHECK_MEM(a, b, n)                                               \
	do {                                                             \
		if (memcmp((a), (b), (n)) != 0)                          \
			TEST_FAIL_AT("memory differs: %s vs %s", #a, #b); \
	} while (0)

#define CHECK_STR(a, b)                                                              \
	do {                                                                         \
		const char *_a = (a), *_b = (b);                                     \
		if (!_a || !_b || strcmp(_a, _b) != 0)                               \
			TEST_FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)", \
				     _b ? _b : "(null)");                            \
	} while (0)

#define ASSERT(cond)                                              \
	do {                                                      \
		if (!(cond)) {                                    \
			TEST_FAIL_AT("assertion failed: %s", #cond); \
			return;                                   \
		}                                                 \
	} while (0)

#define ASSERT_EQ(a, b)                                                            \
	do {                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                \
		if (_a != _b) {                                                    \
			TEST_FAIL_AT("%s == %s: %lld != %lld", #a, #b, _a, _b);    \
			return;                                                    \
		}                                                                  \
	} while (0)

#define TEST_MAIN                                                                   \
	struct test_case *test_list;                                                \
	int test_failed_now;                                                        \
	int main(int argc, char **argv)                                             \
	{                                                                           \
		struct test_case *rev = 0, *t, *n;                                  \
		int passed = 0, failed = 0;                                         \
		for (t = test_list; t; t = n) { /* run in file order */             \
			n = t->next;                                                \
			t->next = rev;                                              \
			rev = t;                                                    \
		}                                                                   \
		for (t = rev; t; t = t->next) {                                     \
			if (argc > 1 && !strstr(t->name, argv[1]))                  \
				continue;                                           \
			test_failed_now = 0;                                        \
			t->fn();                                                    \
			if (test_failed_now) {                                      \
				failed++;                                           \
				fprintf(stderr, "FAIL %s\n", t->name);              \
			} else {                                                    \
				passed++;                                           \
				if (getenv("TEST_VERBOSE"))                         \
					fprintf(stderr, "ok   %s\n", t->name);      \
			}                                                           \
		}                                                                   \
		printf("%s: %d passed, %d failed\n", argv[0], passed, failed);      \
		return failed ? 1 : 0;                                              \
	}

#endif
