/* config/: durations as policies and the gc options write them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rowcat/policy.h"

static int64_t parsed(const char *text)
{
	struct rc_error err = {0};
	int64_t seconds = -1;

	assert_int_equal(policy_duration_parse(text, &seconds, &err), 0);
	return seconds;
}

static void expect_refused(const char *text, const char *why)
{
	struct rc_error err = {0};
	int64_t seconds = 0;

	assert_int_equal(policy_duration_parse(text, &seconds, &err), -EINVAL);
	assert_true(err.usage);
	assert_non_null(strstr(err.message, why));
}

static void test_durations_read_as_operators_write_them(void **state)
{
	(void)state;
	assert_int_equal(parsed("30s"), 30);
	assert_int_equal(parsed("15m"), 900);
	assert_int_equal(parsed("1h"), 3600);
	assert_int_equal(parsed("1h30m"), 5400);
	assert_int_equal(parsed("24h"), 86400);
	assert_int_equal(parsed("7d"), 7 * 86400);
	assert_int_equal(parsed("2w"), 14 * 86400);
	assert_int_equal(parsed("1w2d3h4m5s"), 9 * 86400 + 3 * 3600 + 245);
	assert_int_equal(parsed("0s"), 0);
	/* zero needs no unit */
	assert_int_equal(parsed("0"), 0);
	assert_int_equal(parsed("00"), 0);
	assert_int_equal(parsed("90m"), 5400);
}

static void test_durations_that_could_be_misread_are_refused(void **state)
{
	(void)state;
	expect_refused("", "it is empty");
	expect_refused("30", "the last number has no unit");
	expect_refused("1h30", "the last number has no unit");
	expect_refused("-1h", "it is negative");
	expect_refused("h", "a number must come first");
	expect_refused("1y", "units are s, m, h, d and w");
	expect_refused("1.5h", "units are s, m, h, d and w");
	expect_refused("30m1h", "units go largest first, each once");
	expect_refused("1h1h", "units go largest first, each once");
	expect_refused("1 h", "units are s, m, h, d and w");
	expect_refused("99999999999999999999s", "over 100 years");
	expect_refused("5300w", "over 100 years");
}

/* Property: every duration written is read back as itself. */
static void test_every_formatted_duration_reads_back_the_same(void **state)
{
	char text[POLICY_DURATION_TEXT_MAX];
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int64_t seconds = (int64_t)(x % (10ULL * 366 * 86400));
		if (i % 4 == 0) /* round values are the common ones */
			seconds -= seconds % 3600;
		policy_duration_format(seconds, text);
		assert_int_equal(parsed(text), seconds);
	}
	policy_duration_format(5400, text);
	assert_string_equal(text, "1h30m");
	policy_duration_format(0, text);
	assert_string_equal(text, "0s");
	policy_duration_format(10 * 86400 + 5, text);
	assert_string_equal(text, "10d5s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations_read_as_operators_write_them),
		cmocka_unit_test(test_durations_that_could_be_misread_are_refused),
		cmocka_unit_test(test_every_formatted_duration_reads_back_the_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
