/* test_dpsteps.c - the Data Process step kinds that live in their own files
 * (shapes/dataprocess_steps.c): the table itself (every kind complete, numbers and names unique,
 * kinds without a number named as Boomi's Data Process page names its step types), and the
 * Character Encode / Decode step's compile (docs/decisions/025-data-process-steps.md). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "dataprocess_step.h"

/* The processing step types on Boomi's "Data Process step" page. */
static const char *const boomi_steps[] = {
    "Base64 Decode",
    "Base64 Encode",
    "Character Decode",
    "Character Encode",
    "Combine Documents",
    "Custom Scripting",
    "Search/Replace",
    "Split Documents",
    "Map JSON to Multipart Form Data MIME",
    "Map Multipart Form Data MIME to JSON",
    "PGP Encrypt",
    "PGP Decrypt",
    "XSLT Transformation",
    "Zip",
    "Unzip",
    NULL,
};

static int boomi_step(const char *name)
{
    for (size_t i = 0; boomi_steps[i]; i++)
        if (strcasecmp(boomi_steps[i], name) == 0) return 1;
    return 0;
}

static void test_table(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; ma_dp_step_kinds[i]; i++, n++) {
        const ma_dp_step_kind *k = ma_dp_step_kinds[i];
        assert_non_null(k->name);
        assert_non_null(k->compile);
        assert_non_null(k->run);
        assert_non_null(k->destroy);
        if (!boomi_step(k->name)) fail_msg("step kind '%s' is not one of Boomi's step types", k->name);
        assert_true(k->processtype == -1 || (k->processtype >= 1 && k->processtype <= 12));
        assert_true((k->settings_prefix == NULL) == (k->config_map == NULL));
        for (size_t j = 0; j < i; j++) {
            const ma_dp_step_kind *o = ma_dp_step_kinds[j];
            if (strcasecmp(o->name, k->name) == 0) fail_msg("two kinds named '%s'", k->name);
            if (k->processtype >= 0 && o->processtype == k->processtype)
                fail_msg("two kinds with processtype %d", k->processtype);
        }
    }
    assert_true(n >= 10);
}

static const ma_dp_step_kind *kind(const char *name)
{
    for (size_t i = 0; ma_dp_step_kinds[i]; i++)
        if (strcmp(ma_dp_step_kinds[i]->name, name) == 0) return ma_dp_step_kinds[i];
    fail_msg("no step kind '%s'", name);
    return NULL;
}

/* Compiles the <step> in xml with the kind named name: 0 and the state destroyed, or -1 with err. */
static int compile(const char *name, const char *xml, ma_error *err)
{
    xmlDoc *d = xmlReadMemory(xml, (int)strlen(xml), "step.xml", NULL, XML_PARSE_NONET);
    assert_non_null(d);
    const ma_dp_step_kind *k = kind(name);
    void *st = NULL;
    ma_error_clear(err);
    int rc = k->compile(NULL, xmlDocGetRootElement(d), "step 1", &st, err);
    if (rc == 0) k->destroy(st);
    xmlFreeDoc(d);
    return rc;
}

static void test_charset_compile(void **state)
{
    (void)state;
    ma_error err;
    assert_int_equal(compile("Character Decode", "<step name='Character Decode'><x charset='UTF-16'/></step>", &err),
                     0);
    assert_int_equal(
        compile("Character Encode", "<step name='Character Encode'><x characterSet='windows-1252'/></step>", &err), 0);
    assert_int_equal(compile("Character Encode", "<step name='Character Encode' encoding='iso-8859-1'/>", &err), 0);
    assert_int_equal(compile("Character Decode", "<step name='Character Decode'><x charset='LATIN-42'/></step>", &err),
                     -1);
    assert_int_equal(err.code, MA_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "unknown character set 'LATIN-42'"));
    assert_non_null(strstr(err.msg, "US-ASCII, ISO-8859-1, UTF-8, UTF-16BE, UTF-16LE, UTF-16"));
    assert_int_equal(compile("Character Decode", "<step name='Character Decode'><x/></step>", &err), -1);
    assert_non_null(strstr(err.msg, "no character set"));
}

static void test_mime_refused(void **state)
{
    (void)state;
    ma_error err;
    assert_int_equal(compile("Map JSON to Multipart Form Data MIME", "<step><m/></step>", &err), -1);
    assert_int_equal(err.code, MA_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "step 1 (<m>): not supported"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_charset_compile),
        cmocka_unit_test(test_mime_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xmlCleanupParser();
    return rc;
}
