/*
 * config/: rowcat.conf, the host's own settings (rowcat/config.h). What an
 * operator writes the way ceph.conf is written reads as meant; anything
 * else is refused with one line naming the file and line, as a
 * configuration error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "rowcat/config.h"
#include "testdir.h"

#define CONF_PATH "/etc/rowcat/rowcat.conf"

static int parse(struct config_file *out, const char *text,
		 struct rc_error *err)
{
	return config_file_parse(out, CONF_PATH, text, strlen(text), err);
}

/* The refusal of text: -EINVAL, a configuration error whose message is
 * exactly `message`, and nothing set. */
static void expect_refused(const char *text, const char *message)
{
	struct config_file conf;
	struct rc_error err = {0};

	assert_int_equal(parse(&conf, text, &err), -EINVAL);
	assert_true(err.config);
	assert_false(err.usage);
	assert_string_equal(err.message, message);
	assert_string_equal(conf.catalog, "");
}

static void test_the_catalog_reads_as_ceph_conf_is_written(void **state)
{
	struct config_file conf;
	struct rc_error err = {0};

	(void)state;
	assert_int_equal(parse(&conf,
		"# rowcat on every hypervisor of the cloud\n"
		"\n"
		"; ceph.conf's other comment\n"
		"   catalog   =   rados://rbd/rowcat   # shared by every host\n",
		&err), 0);
	assert_string_equal(conf.catalog, "rados://rbd/rowcat");
	assert_int_equal(parse(&conf, "catalog=/var/lib/rowcat/catalog.db", &err), 0);
	assert_string_equal(conf.catalog, "/var/lib/rowcat/catalog.db");
	/* CRLF line ends, tabs, a namespace */
	assert_int_equal(parse(&conf, "\tcatalog\t= rados://rbd/ns1/rowcat\r\n",
			       &err), 0);
	assert_string_equal(conf.catalog, "rados://rbd/ns1/rowcat");
	/* a '#' inside a value is the value's: only one after a blank
	 * starts a comment */
	assert_int_equal(parse(&conf, "catalog = /srv/a#b/catalog.db;x\n", &err), 0);
	assert_string_equal(conf.catalog, "/srv/a#b/catalog.db;x");
	assert_int_equal(err.code, 0);
}

static void test_a_file_without_the_key_sets_nothing(void **state)
{
	struct config_file conf;
	struct rc_error err = {0};

	(void)state;
	assert_int_equal(parse(&conf, "", &err), 0);
	assert_string_equal(conf.catalog, "");
	assert_int_equal(parse(&conf, "# catalog = /x\n\n   \n", &err), 0);
	assert_string_equal(conf.catalog, "");
}

static void test_every_wrong_line_is_named_with_its_number(void **state)
{
	(void)state;
	expect_refused("# rowcat\n\ncatlog = /x\n",
		       CONF_PATH ":3: unknown key 'catlog' (the only key is 'catalog')");
	expect_refused("[global]\ncatalog = /x\n",
		       CONF_PATH ":1: expected 'key = value', not '[global]'");
	expect_refused("catalog /x\n",
		       CONF_PATH ":1: expected 'key = value', not 'catalog /x'");
	expect_refused("= /x\n", CONF_PATH ":1: a value without a key");
	expect_refused("catalog =   # none yet\n", CONF_PATH ":1: catalog: no value");
	expect_refused("catalog = /a\ncatalog = /b\n",
		       CONF_PATH ":2: catalog is set twice (first on line 1)");
	expect_refused("catalog = var/lib/rowcat/catalog.db\n",
		       CONF_PATH ":1: catalog: 'var/lib/rowcat/catalog.db' is "
		       "neither an absolute path nor rados://POOL[/NAMESPACE]/NAME");
	/* keys are matched whole, and as written */
	expect_refused("catalogue = /x\n",
		       CONF_PATH ":1: unknown key 'catalogue' (the only key is 'catalog')");
	expect_refused("Catalog = /x\n",
		       CONF_PATH ":1: unknown key 'Catalog' (the only key is 'catalog')");
}

static void test_binary_and_overlong_input_is_refused(void **state)
{
	char text[CONFIG_VALUE_MAX + 32];
	struct config_file conf;
	struct rc_error err = {0};

	(void)state;
	assert_int_equal(config_file_parse(&conf, CONF_PATH, "catalog = /x\0y", 14,
					   &err), -EINVAL);
	assert_string_equal(err.message, CONF_PATH ": not a text file (it holds "
			    "a NUL byte)");
	snprintf(text, sizeof(text), "catalog = /");
	memset(text + strlen(text), 'a', CONFIG_VALUE_MAX);
	text[sizeof(text) - 1] = '\0';
	rc_error_clear(&err);
	assert_int_equal(parse(&conf, text, &err), -EINVAL);
	assert_true(err.config);
	assert_non_null(strstr(err.message, ":1: catalog: longer than 4095 bytes"));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_a_missing_file_is_none_unless_it_was_named(void **state)
{
	struct testdir dir;
	struct config_file conf;
	struct rc_error err = {0};
	char path[512], message[600];
	bool found = true;

	(void)state;
	testdir_make(&dir);
	testdir_file(&dir, "rowcat.conf", path, sizeof(path));
	assert_int_equal(config_file_load(&conf, path, false, &found, &err), 0);
	assert_false(found);
	assert_string_equal(conf.catalog, "");
	assert_int_equal(config_file_load(&conf, path, true, &found, &err), -ENOENT);
	assert_true(err.config);
	snprintf(message, sizeof(message), "cannot read %s: No such file or "
		 "directory", path);
	assert_string_equal(err.message, message);

	write_file(path, "catalog = /srv/rowcat/catalog.db\n");
	rc_error_clear(&err);
	assert_int_equal(config_file_load(&conf, path, false, &found, &err), 0);
	assert_true(found);
	assert_string_equal(conf.catalog, "/srv/rowcat/catalog.db");

	write_file(path, "catalog = /a\nhost = hv-1\n");
	assert_int_equal(config_file_load(&conf, path, false, &found, &err), -EINVAL);
	assert_false(found);
	snprintf(message, sizeof(message), "%s:2: unknown key 'host' (the only "
		 "key is 'catalog')", path);
	assert_string_equal(err.message, message);
	assert_string_equal(conf.catalog, "");

	/* a directory named by mistake */
	rc_error_clear(&err);
	assert_int_equal(config_file_load(&conf, dir.path, true, &found, &err),
			 -EINVAL);
	assert_true(err.config);
	testdir_remove(&dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_catalog_reads_as_ceph_conf_is_written),
		cmocka_unit_test(test_a_file_without_the_key_sets_nothing),
		cmocka_unit_test(test_every_wrong_line_is_named_with_its_number),
		cmocka_unit_test(test_binary_and_overlong_input_is_refused),
		cmocka_unit_test(test_a_missing_file_is_none_unless_it_was_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
