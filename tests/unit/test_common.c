/* common/: name rules, image specs, sizes, times and growing arrays. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rowcat/clock.h"
#include "rowcat/names.h"
#include "rowcat/sys/grow.h"
#include "rowcat/units.h"

static void assert_bad_name(const char *name, const char *says)
{
	struct rc_error err = {0};

	assert_int_equal(rc_name_check("volume name", name, &err), -EINVAL);
	assert_true(err.usage);
	assert_non_null(strstr(err.message, says));
}

static void test_names_that_are_refused_say_why(void **state)
{
	char long_name[300];
	(void)state;

	assert_bad_name("", "is empty");
	assert_bad_name("-vol", "starts with '-'");
	assert_bad_name("a/b", "contains '/'");
	assert_bad_name("a@b", "contains '@'");
	assert_bad_name("a\tb", "control character");
	assert_bad_name("a\x7f", "control character");
	assert_bad_name("a\xc2\x85", "control character"); /* U+0085 NEL */
	memset(long_name, 'x', 256);
	long_name[256] = '\0';
	assert_bad_name(long_name, "256 bytes long");
}

static void test_names_up_to_255_bytes_of_ordinary_text_pass(void **state)
{
	struct rc_error err = {0};
	char name[256];
	(void)state;

	memset(name, 'x', 255);
	name[255] = '\0';
	assert_int_equal(rc_name_check("volume name", name, &err), 0);
	assert_int_equal(rc_name_check("volume name", "vm-01.disk_0", &err), 0);
	assert_int_equal(rc_name_check("volume name", "caf\xc3\xa9", &err), 0);
}

static void test_names_that_are_not_utf8_are_refused_with_the_byte(void **state)
{
	static const struct {
		const char *name, *says;
	} bad[] = {
		{ "caf\xe9", "not valid UTF-8 (byte 0xe9 at offset 3)" }, /* Latin-1 */
		{ "\xff", "byte 0xff at offset 0" },
		{ "a\x80", "byte 0x80 at offset 1" },          /* lone continuation */
		{ "a\xc3", "byte 0xc3 at offset 1" },          /* cut short */
		{ "a\xc3(", "byte 0xc3 at offset 1" },
		{ "\xc0\xaf", "byte 0xc0 at offset 0" },       /* overlong '/' */
		{ "\xe0\x80\xaf", "byte 0xe0 at offset 0" },   /* overlong '/' */
		{ "\xf0\x80\x80\xaf", "byte 0xf0 at offset 0" },
		{ "\xed\xa0\x80", "byte 0xed at offset 0" },   /* U+D800 */
		{ "\xf4\x90\x80\x80", "byte 0xf4 at offset 0" },/* U+110000 */
		{ "\xf5\x80\x80\x80", "byte 0xf5 at offset 0" },
		{ "ok\xe2\x82", "byte 0xe2 at offset 2" },      /* cut short */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_bad_name(bad[i].name, bad[i].says);
}

static void test_every_kind_of_utf8_sequence_is_measured(void **state)
{
	struct rc_error err = {0};
	(void)state;

	assert_int_equal(rc_utf8_sequence_length("a"), 1);
	assert_int_equal(rc_utf8_sequence_length(""), 0);
	assert_int_equal(rc_utf8_sequence_length("\xc3\xa9"), 2);          /* é */
	assert_int_equal(rc_utf8_sequence_length("\xe2\x82\xac"), 3);      /* € */
	assert_int_equal(rc_utf8_sequence_length("\xed\x9f\xbf"), 3);      /* U+D7FF */
	assert_int_equal(rc_utf8_sequence_length("\xf0\x9f\x92\xbe"), 4);  /* 💾 */
	assert_int_equal(rc_utf8_sequence_length("\xf4\x8f\xbf\xbf"), 4);  /* U+10FFFF */
	assert_int_equal(rc_utf8_sequence_length("\xe9t\xe9"), 0);
	assert_int_equal(rc_name_check("snapshot name",
		"\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x92\xbe", &err), 0);
}

static void test_volume_names_leave_room_for_their_clone_names(void **state)
{
	struct rc_error err = {0};
	char name[RC_NAME_MAX];
	char clone[RC_NAME_MAX + 64];
	(void)state;

	assert_int_equal(RC_VOLUME_NAME_MAX, 229);
	memset(name, 'x', RC_VOLUME_NAME_MAX);
	name[RC_VOLUME_NAME_MAX] = '\0';
	assert_int_equal(rc_volume_name_check(name, &err), 0);
	/* the longest clone name such a volume can get is still a name */
	snprintf(clone, sizeof(clone), "%s.rc%lld-%d", name, (long long)INT64_MAX,
		 RC_CLONE_NAME_TRIES);
	assert_int_equal(strlen(clone), RC_NAME_MAX - 1);
	assert_int_equal(rc_name_check("image name", clone, &err), 0);

	name[RC_VOLUME_NAME_MAX] = 'x';
	name[RC_VOLUME_NAME_MAX + 1] = '\0';
	assert_int_equal(rc_volume_name_check(name, &err), -EINVAL);
	assert_true(err.usage);
	assert_non_null(strstr(err.message, "volume name is 230 bytes long; "
			       "the limit is 229"));
	/* the general rules come first */
	assert_int_equal(rc_volume_name_check("a\xe9", &err), -EINVAL);
	assert_non_null(strstr(err.message, "not valid UTF-8"));
	/* looking a volume up is not creating one */
	assert_int_equal(rc_name_check("volume name", name, &err), 0);
}

static void test_spec_with_and_without_namespace(void **state)
{
	struct rc_image_spec spec;
	struct rc_error err = {0};
	char text[RC_SPEC_MAX];
	(void)state;

	assert_int_equal(rc_image_spec_parse(&spec, "rbd/vol1", "volume name",
					     &err), 0);
	assert_string_equal(spec.pool, "rbd");
	assert_string_equal(spec.ns, "");
	assert_string_equal(spec.name, "vol1");
	rc_image_spec_format(&spec, text, sizeof(text));
	assert_string_equal(text, "rbd/vol1");

	assert_int_equal(rc_image_spec_parse(&spec, "rbd/ns1/vol1", "volume name",
					     &err), 0);
	assert_string_equal(spec.ns, "ns1");
	rc_image_spec_format(&spec, text, sizeof(text));
	assert_string_equal(text, "rbd/ns1/vol1");
}

static void assert_bad_spec(const char *text, const char *says)
{
	struct rc_image_spec spec;
	struct rc_error err = {0};

	assert_int_equal(rc_image_spec_parse(&spec, text, "volume name", &err),
			 -EINVAL);
	assert_true(err.usage);
	assert_non_null(strstr(err.message, says));
}

static void test_bad_specs_name_the_bad_part(void **state)
{
	(void)state;
	assert_bad_spec("vol1", "is not POOL/NAME");
	assert_bad_spec("rbd/", "volume name is empty");
	assert_bad_spec("/vol1", "pool name is empty");
	assert_bad_spec("rbd//vol1", "namespace name is empty");
	assert_bad_spec("rbd/a/b/c", "volume name 'b/c' contains '/'");
	assert_bad_spec("rbd/-v", "starts with '-'");
	assert_bad_spec("rbd/v@s", "contains '@'");
}

static void assert_size(const char *text, uint64_t expected)
{
	struct rc_error err = {0};
	uint64_t size = 0;

	assert_int_equal(rc_size_parse(text, &size, &err), 0);
	assert_int_equal(size, expected);
}

static void assert_bad_size(const char *text, const char *says)
{
	struct rc_error err = {0};
	uint64_t size;

	assert_int_equal(rc_size_parse(text, &size, &err), -EINVAL);
	assert_true(err.usage);
	assert_non_null(strstr(err.message, says));
}

static void test_sizes_are_read_as_rbd_writes_them(void **state)
{
	(void)state;
	/* each as rbd 16.2.15's `create --size` read it (rbd info's size) */
	assert_size("10", 10ULL << 20);
	assert_size("1048576", 1048576ULL << 20);
	assert_size("512B", 512);
	assert_size("1B", 1);
	assert_size("4K", 4096);
	assert_size("10KB", 10ULL << 10);
	assert_size("64M", 64ULL << 20);
	assert_size("10MB", 10ULL << 20);
	assert_size("10Mi", 10ULL << 20);
	assert_size("10G", 10ULL << 30);
	assert_size("1T", 1ULL << 40);
	assert_size("2P", 2ULL << 50);
	assert_size("8796093022207M", 8796093022207ULL << 20);
}

static void test_bad_sizes_are_refused(void **state)
{
	(void)state;
	assert_bad_size("0", "is zero");
	assert_bad_size("0M", "is zero");
	assert_bad_size("-1", "is not a size");
	assert_bad_size("+10", "is not a size");
	assert_bad_size("", "is not a size");
	assert_bad_size("M", "is not a size");
	assert_bad_size("12Q", "is not a size");
	assert_bad_size("1.5G", "is not a size");
	assert_bad_size("64M ", "is not a size");
	assert_bad_size(" 64M", "is not a size");
	/* rbd reads only the first character of a unit; rowcat the whole */
	assert_bad_size("10Mx", "is not a size (examples");
	assert_bad_size("10BB", "is not a size (examples");
	assert_bad_size("10Bi", "is not a size (examples");
	/* rbd refuses these; the message says what it takes */
	assert_bad_size("10MiB", "'10MiB' is not a size as rbd reads one: write 10M");
	assert_bad_size("10g", "write 10G");
	assert_bad_size("4k", "write 4K");
	assert_bad_size("10mb", "write 10M");
	assert_bad_size("99999999999999999999", "too large");
	assert_bad_size("8E", "too large");
	assert_bad_size("8796093022208M", "too large");
}

static void test_sizes_are_written_in_the_largest_exact_unit(void **state)
{
	char text[RC_SIZE_TEXT_MAX];
	(void)state;

	rc_size_format(64ULL << 20, text);
	assert_string_equal(text, "64 MiB");
	rc_size_format(1536ULL << 20, text);
	assert_string_equal(text, "1536 MiB");
	rc_size_format(1000, text);
	assert_string_equal(text, "1000 B");
}

static void test_amounts_are_written_as_rbd_du_writes_them(void **state)
{
	char text[RC_SIZE_TEXT_MAX];
	(void)state;

	rc_size_format_human(0, text);
	assert_string_equal(text, "0 B");
	rc_size_format_human(1000, text);
	assert_string_equal(text, "1000 B");
	rc_size_format_human(12ULL << 20, text);
	assert_string_equal(text, "12 MiB");
	rc_size_format_human(1536ULL << 20, text);
	assert_string_equal(text, "1.5 GiB");
	rc_size_format_human((37ULL << 20) + 220201, text);
	assert_string_equal(text, "37.21 MiB");
	/* 1.999 rounds to 2, written without decimals */
	rc_size_format_human(2047, text);
	assert_string_equal(text, "2 KiB");
}

static void test_iso_times_round_trip(void **state)
{
	struct rc_error err = {0};
	char text[RC_ISO_TIME_MAX];
	int64_t t;
	(void)state;

	assert_int_equal(rc_time_parse_iso("2024-02-29T23:59:59Z", &t, &err), 0);
	assert_int_equal(t, 1709251199);
	rc_time_format_iso(t, text);
	assert_string_equal(text, "2024-02-29T23:59:59Z");
	assert_int_equal(rc_time_parse_iso("2024-03-01T01:00:00+02:00", &t, &err), 0);
	rc_time_format_iso(t, text);
	assert_string_equal(text, "2024-02-29T23:00:00Z");
	assert_int_equal(rc_time_parse_iso("2023-02-29T00:00:00Z", &t, &err), -EINVAL);
	assert_int_equal(rc_time_parse_iso("2024-01-01 00:00:00", &t, &err), -EINVAL);
}

/* --now moves the policy clock only: the real one, which records and
 * judges destructive steps, never follows it, forward or back. */
static void test_the_policy_clock_can_be_fixed_but_never_the_real_one(void **state)
{
	int64_t real = rc_clock_now(), ahead = real + 3 * 86400;

	(void)state;
	assert_int_equal(rc_clock_policy_given(), 0);
	assert_true(rc_clock_policy_now() >= real);
	rc_clock_policy_set(ahead);
	assert_int_equal(rc_clock_policy_now(), ahead);
	assert_int_equal(rc_clock_policy_given(), ahead);
	assert_true(rc_clock_now() >= real && rc_clock_now() < ahead);
	rc_clock_policy_set(1700000000);
	assert_int_equal(rc_clock_policy_now(), 1700000000);
	assert_true(rc_clock_now() >= real);
	rc_clock_policy_set(0);
	assert_int_equal(rc_clock_policy_given(), 0);
	assert_true(rc_clock_policy_now() >= real &&
		    rc_clock_policy_now() < ahead);
}

/* Every list grows by doubling from its first capacity, keeps what it held,
 * and is left alone when it already has room. */
static void test_arrays_grow_by_doubling_and_keep_their_elements(void **state)
{
	int *numbers = NULL;
	size_t capacity = 0;
	(void)state;

	assert_int_equal(rc_grow((void **)&numbers, &capacity, 1,
				 sizeof(*numbers), 4), 0);
	assert_non_null(numbers);
	assert_int_equal(capacity, 4);
	for (int i = 0; i < 4; i++)
		numbers[i] = i;
	assert_int_equal(rc_grow((void **)&numbers, &capacity, 4,
				 sizeof(*numbers), 4), 0);
	assert_int_equal(capacity, 4);
	assert_int_equal(rc_grow((void **)&numbers, &capacity, 5,
				 sizeof(*numbers), 4), 0);
	assert_int_equal(capacity, 8);
	assert_int_equal(rc_grow((void **)&numbers, &capacity, 33,
				 sizeof(*numbers), 4), 0);
	assert_int_equal(capacity, 64);
	for (int i = 0; i < 4; i++)
		assert_int_equal(numbers[i], i);
	free(numbers);
}

/* A first capacity of 0 starts at exactly what is needed. */
static void test_arrays_without_a_first_capacity_start_at_the_need(void **state)
{
	char *text = NULL;
	size_t capacity = 0;
	(void)state;

	assert_int_equal(rc_grow((void **)&text, &capacity, 10, 1, 0), 0);
	assert_int_equal(capacity, 10);
	assert_int_equal(rc_grow((void **)&text, &capacity, 11, 1, 0), 0);
	assert_int_equal(capacity, 20);
	free(text);
}

/* A need whose byte count does not fit in a size_t is refused before any
 * allocation, and the caller's array stays as it was. */
static void test_arrays_that_would_overflow_are_refused_untouched(void **state)
{
	int64_t *numbers = NULL;
	size_t capacity = 0, cap;
	(void)state;

	assert_int_equal(rc_grow((void **)&numbers, &capacity, 2,
				 sizeof(*numbers), 2), 0);
	numbers[0] = 42;
	assert_int_equal(rc_grow((void **)&numbers, &capacity,
				 SIZE_MAX / sizeof(*numbers) + 1,
				 sizeof(*numbers), 2), -EOVERFLOW);
	assert_int_equal(capacity, 2);
	assert_int_equal(numbers[0], 42);
	assert_int_equal(rc_grow((void **)&numbers, &capacity, 2,
				 SIZE_MAX / 2 + 1, 2), -EOVERFLOW);
	assert_int_equal(rc_grow((void **)&numbers, &capacity, 3, 0, 2),
			 -EOVERFLOW);
	assert_int_equal(capacity, 2);
	free(numbers);

	assert_int_equal(rc_grow_capacity(0, SIZE_MAX, 2, 16, &cap), -EOVERFLOW);
	assert_int_equal(rc_grow_capacity(0, SIZE_MAX / 2 + 1, 2, 16, &cap),
			 -EOVERFLOW);
}

/* Where doubling would pass the largest array a size_t can measure, the
 * capacity stops at that largest array instead of wrapping round. */
static void test_doubling_stops_at_the_largest_array_instead_of_wrapping(void **state)
{
	size_t most = SIZE_MAX / 8, cap = 0;
	(void)state;

	assert_int_equal(rc_grow_capacity(most / 2 + 1, most / 2 + 2, 8, 16,
					  &cap), 0);
	assert_int_equal(cap, most);
	assert_int_equal(rc_grow_capacity(most - 1, most, 8, 16, &cap), 0);
	assert_int_equal(cap, most);
	assert_int_equal(rc_grow_capacity(SIZE_MAX / 2 + 1, SIZE_MAX, 1, 16,
					  &cap), 0);
	assert_int_equal(cap, SIZE_MAX);
	assert_int_equal(rc_grow_capacity(0, 3, 8, most + 1, &cap), 0);
	assert_int_equal(cap, most);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_that_are_refused_say_why),
		cmocka_unit_test(test_names_up_to_255_bytes_of_ordinary_text_pass),
		cmocka_unit_test(test_names_that_are_not_utf8_are_refused_with_the_byte),
		cmocka_unit_test(test_every_kind_of_utf8_sequence_is_measured),
		cmocka_unit_test(test_volume_names_leave_room_for_their_clone_names),
		cmocka_unit_test(test_spec_with_and_without_namespace),
		cmocka_unit_test(test_bad_specs_name_the_bad_part),
		cmocka_unit_test(test_sizes_are_read_as_rbd_writes_them),
		cmocka_unit_test(test_bad_sizes_are_refused),
		cmocka_unit_test(test_sizes_are_written_in_the_largest_exact_unit),
		cmocka_unit_test(test_amounts_are_written_as_rbd_du_writes_them),
		cmocka_unit_test(test_iso_times_round_trip),
		cmocka_unit_test(test_the_policy_clock_can_be_fixed_but_never_the_real_one),
		cmocka_unit_test(test_arrays_grow_by_doubling_and_keep_their_elements),
		cmocka_unit_test(test_arrays_without_a_first_capacity_start_at_the_need),
		cmocka_unit_test(test_arrays_that_would_overflow_are_refused_untouched),
		cmocka_unit_test(test_doubling_stops_at_the_largest_array_instead_of_wrapping),
	};
	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
