/*
 * check.h — the tiny test harness every tests/test_*.c uses.
 *
 * A test file defines TEST(name) functions and lists them in main() with
 * RUN(name). CHECK(cond, fmt, ...) records a failure (with file:line and a
 * message) and the test goes on; REQUIRE(...) also returns from the test.
 * SKIP_TEST(fmt, ...) ends a test that cannot run here (a data set or device
 * that is absent) and says why; SKIP_ALL(fmt, ...) does so for every test
 * RUN after it (none of them is called), SKIP_ONE(name, fmt, ...) prints the
 * line for one case a test leaves out.
 * Each test prints one line "PASS name", "FAIL name" or "SKIP name: why";
 * tests/run.sh counts those lines over all binaries and prints the closing
 * "N passed, N failed, N skipped". A binary exits 1 if any of its tests
 * failed; a skipped test is never counted as passed.
 */
#ifndef LMD_CHECK_H
#define LMD_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failed_;   /* failures in the current test */
static int check_nfail_;    /* failed tests in this binary */
static char check_skip_[256]; /* why the current test was skipped ("" = it ran) */
static char check_skip_all_[256]; /* why every test from here on is skipped ("" = none) */

#define TEST(name) static void test_##name(void)

#define CHECK(cond, ...) do { if (!(cond)) { \
	fprintf(stderr, "  %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); check_failed_++; } } while (0)

#define REQUIRE(cond, ...) do { if (!(cond)) { CHECK(cond, __VA_ARGS__); return; } } while (0)

#define SKIP_TEST(...) do { snprintf(check_skip_, sizeof check_skip_, __VA_ARGS__); return; } while (0)

#define SKIP_ALL(...) snprintf(check_skip_all_, sizeof check_skip_all_, __VA_ARGS__)

#define SKIP_ONE(name, ...) do { printf("SKIP %s: ", name); printf(__VA_ARGS__); putchar('\n'); fflush(stdout); } while (0)

#define RUN(name) do { check_failed_ = 0; snprintf(check_skip_, sizeof check_skip_, "%s", check_skip_all_); \
	if (!check_skip_[0]) test_##name(); \
	if (check_failed_) printf("FAIL %s\n", #name); \
	else if (check_skip_[0]) printf("SKIP %s: %s\n", #name, check_skip_); \
	else printf("PASS %s\n", #name); \
	fflush(stdout); if (check_failed_) check_nfail_++; } while (0)

#define CHECK_EXIT() return check_nfail_ ? 1 : 0
#endif
