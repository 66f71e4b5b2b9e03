/*
 * Self-test for tests/harness.h.
 *
 * A plain run exercises every assertion in its passing form and must exit 0.
 * The suite "failing" runs only when the arguments hold "-s failing"; every
 * test in it fails on purpose, once with the default message and once with
 * a custom one, so the failure reports can be checked by eye or by script.
 */
#include "harness.h"

enum color { RED, GREEN, BLUE };

static const char *color_name(int color)
{
    switch (color) {
    case RED: return "RED";
    case GREEN: return "GREEN";
    case BLUE: return "BLUE";
    default: return "?";
    }
}

/* A user type for ASSERT_EQUAL_T: a point compared within udata's tolerance. */
struct point {
    int x;
    int y;
};

static int point_equal(const void *expd, const void *got, void *udata)
{
    const struct point *a = (const struct point *)expd;
    const struct point *b = (const struct point *)got;
    int tol = udata != NULL ? *(const int *)udata : 0;
    return abs(a->x - b->x) <= tol && abs(a->y - b->y) <= tol;
}

static int point_print(const void *t, void *udata)
{
    const struct point *p = (const struct point *)t;
    (void)udata;
    return fprintf(GREATEST_STDOUT, "(%d, %d)", p->x, p->y);
}

static greatest_type_info point_type = { point_equal, point_print };

/* ---- passing ---- */

TEST truth(void)
{
    ASSERT(1 + 1 == 2);
    ASSERTm("one is true", 1);
    ASSERT_FALSE(1 + 1 == 3);
    ASSERT_FALSEm("zero is false", 0);
    PASS();
}

TEST comparisons(void)
{
    int three = 3;
    ASSERT_EQ(3, three);
    ASSERT_EQm("three", 3, three);
    ASSERT_NEQ(4, three);
    ASSERT_NEQm("not four", 4, three);
    ASSERT_GT(4, three);
    ASSERT_GTm("four > three", 4, three);
    ASSERT_GTE(3, three);
    ASSERT_GTEm("three >= three", 3, three);
    ASSERT_LT(2, three);
    ASSERT_LTm("two < three", 2, three);
    ASSERT_LTE(3, three);
    ASSERT_LTEm("three <= three", 3, three);
    PASS();
}

TEST formatted_and_ranges(void)
{
    ASSERT_EQ_FMT(6, 2 * 3, "%d");
    ASSERT_EQ_FMTm("size", 6u, (unsigned)sizeof(char[6]), "%u");
    ASSERT_IN_RANGE(1.0, 1.05, 0.1);
    ASSERT_IN_RANGEm("within tolerance", 1.0f, 0.95f, 0.1);
    ASSERT_IN_RANGE(2, 2, 0); /* exact values, zero tolerance */
    PASS();
}

TEST strings_and_memory(void)
{
    const char greeting[] = "hello";
    const unsigned char bytes[4] = { 1, 2, 3, 4 };
    unsigned char copy[4];
    memcpy(copy, bytes, sizeof copy);
    ASSERT_STR_EQ("hello", greeting);
    ASSERT_STR_EQm("greeting", "hello", greeting);
    ASSERT_STRN_EQ("help", greeting, 3);
    ASSERT_STRN_EQm("prefix", "help", greeting, 3);
    ASSERT_MEM_EQ(bytes, copy, sizeof copy);
    ASSERT_MEM_EQm("copy", bytes, copy, sizeof copy);
    ASSERT_MEM_EQ(NULL, NULL, 0);
    PASS();
}

TEST enums_and_types(void)
{
    struct point a = { 1, 2 };
    struct point b = { 2, 1 };
    int tol = 1;
    ASSERT_ENUM_EQ(GREEN, GREEN, color_name);
    ASSERT_ENUM_EQm("colour", BLUE, BLUE, color_name);
    ASSERT_EQUAL_T(&a, &a, &point_type, NULL);
    ASSERT_EQUAL_Tm("within one", &a, &b, &point_type, &tol);
    PASS();
}

TEST pass_with_message(void)
{
    PASSm("all good");
}

TEST skipped(void)
{
    SKIPm("no GPU");
}

TEST skipped_quietly(void)
{
    SKIP();
}

TEST with_params(int a, int b, const char *sum)
{
    char text[16];
    snprintf(text, sizeof text, "%d", a + b);
    ASSERT_STR_EQ(sum, text);
    PASS();
}

TEST with_env(void *env)
{
    ASSERT_EQ(7, *(int *)env);
    PASS();
}

static enum greatest_test_res helper_positive(int x)
{
    ASSERT_GT(x, 0);
    PASS();
}

static enum greatest_test_res helper_skip(void)
{
    SKIPm("propagated skip");
}

TEST checked_calls(void)
{
    CHECK_CALL(helper_positive(1));
    CHECK_CALL(helper_positive(2));
    PASS();
}

TEST checked_skip(void)
{
    CHECK_CALL(helper_skip());
    FAILm("CHECK_CALL did not return the skip");
}

TEST verbosity_is_readable(void)
{
    ASSERT(GREATEST_IS_VERBOSE() == 0 || GREATEST_IS_VERBOSE() == 1);
    PASS();
}

SUITE_EXTERN(passing);

SUITE(passing)
{
    int seven = 7;
    RUN_TEST(truth);
    RUN_TEST(comparisons);
    RUN_TEST(formatted_and_ranges);
    RUN_TEST(strings_and_memory);
    RUN_TEST(enums_and_types);
    RUN_TEST(pass_with_message);
    RUN_TEST(skipped);
    RUN_TEST(skipped_quietly);
    RUN_TESTp(with_params, 2, 3, "5");
    RUN_TEST1(with_env, &seven);
    RUN_TEST(checked_calls);
    RUN_TEST(checked_skip);
    RUN_TEST(verbosity_is_readable);
}

/* ---- fixtures: setup and teardown wrap each test, then are reset ---- */

struct fixture {
    int value;
    int setups;
    int teardowns;
};

static struct fixture fix;

static void fixture_setup(void *udata)
{
    struct fixture *f = (struct fixture *)udata;
    f->value = 42;
    f->setups++;
}

static void fixture_teardown(void *udata)
{
    struct fixture *f = (struct fixture *)udata;
    f->value = 0;
    f->teardowns++;
}

TEST fixture_is_set_up(void)
{
    ASSERT_EQ(42, fix.value);
    ASSERT_EQ(fix.setups, fix.teardowns + 1);
    fix.value = 13; /* teardown must undo this */
    PASS();
}

TEST fixture_torn_down_between_tests(void)
{
    ASSERT_EQ(42, fix.value);
    PASS();
}

SUITE(fixtures)
{
    SET_SETUP(fixture_setup, &fix);
    SET_TEARDOWN(fixture_teardown, &fix);
    RUN_TEST(fixture_is_set_up);
    RUN_TEST(fixture_torn_down_between_tests);
}

TEST fixtures_reset_after_suite(void)
{
    ASSERT_EQ(0, fix.value);
    ASSERT_EQ(fix.setups, fix.teardowns);
    PASS();
}

SUITE(after_fixtures)
{
    RUN_TEST(fixtures_reset_after_suite);
}

/* ---- failing: each test fails at its assertion ---- */

TEST fail_assert(int custom)
{
    if (custom) ASSERTm("custom assert", 0); else ASSERT(1 > 2);
    FAILm("not reached");
}

TEST fail_assert_false(int custom)
{
    if (custom) ASSERT_FALSEm("custom false", 1); else ASSERT_FALSE(2 > 1);
    FAILm("not reached");
}

TEST fail_eq(int custom)
{
    if (custom) ASSERT_EQm("custom eq", 1, 2); else ASSERT_EQ(1, 2);
    FAILm("not reached");
}

TEST fail_neq(int custom)
{
    if (custom) ASSERT_NEQm("custom neq", 1, 1); else ASSERT_NEQ(1, 1);
    FAILm("not reached");
}

TEST fail_gt(int custom)
{
    if (custom) ASSERT_GTm("custom gt", 1, 1); else ASSERT_GT(1, 1);
    FAILm("not reached");
}

TEST fail_gte(int custom)
{
    if (custom) ASSERT_GTEm("custom gte", 1, 2); else ASSERT_GTE(1, 2);
    FAILm("not reached");
}

TEST fail_lt(int custom)
{
    if (custom) ASSERT_LTm("custom lt", 1, 1); else ASSERT_LT(1, 1);
    FAILm("not reached");
}

TEST fail_lte(int custom)
{
    if (custom) ASSERT_LTEm("custom lte", 2, 1); else ASSERT_LTE(2, 1);
    FAILm("not reached");
}

TEST fail_eq_fmt(int custom)
{
    if (custom) ASSERT_EQ_FMTm("custom fmt", 7, 8, "%d");
    else ASSERT_EQ_FMT(0x10, 0x20, "0x%x");
    FAILm("not reached");
}

TEST fail_in_range(int custom)
{
    if (custom) ASSERT_IN_RANGEm("grad mismatch", 1, 1.5, 0.1);
    else ASSERT_IN_RANGE(1, 1.5, 0.1);
    FAILm("not reached");
}

TEST fail_str_eq(int custom)
{
    if (custom) ASSERT_STR_EQm("custom str", "abc", "abd");
    else ASSERT_STR_EQ("abc", "abd");
    FAILm("not reached");
}

TEST fail_strn_eq(int custom)
{
    if (custom) ASSERT_STRN_EQm("custom strn", "abcx", "abdx", 3);
    else ASSERT_STRN_EQ("abcx", "abdx", 3);
    FAILm("not reached");
}

TEST fail_mem_eq(int custom)
{
    unsigned char a[20];
    unsigned char b[20];
    size_t i;
    for (i = 0; i < sizeof a; i++) {
        a[i] = b[i] = (unsigned char)i;
    }
    b[18] = 0xff;
    if (custom) ASSERT_MEM_EQm("custom mem", a, b, sizeof a);
    else ASSERT_MEM_EQ(a, b, sizeof a);
    FAILm("not reached");
}

TEST fail_enum_eq(int custom)
{
    if (custom) ASSERT_ENUM_EQm("custom enum", RED, BLUE, color_name);
    else ASSERT_ENUM_EQ(RED, BLUE, color_name);
    FAILm("not reached");
}

TEST fail_equal_t(int custom)
{
    struct point a = { 1, 2 };
    struct point b = { 5, 2 };
    if (custom) ASSERT_EQUAL_Tm("custom equal_t", &a, &b, &point_type, NULL);
    else ASSERT_EQUAL_T(&a, &b, &point_type, NULL);
    FAILm("not reached");
}

TEST fail_equal_t_without_type(void)
{
    int a = 1;
    ASSERT_EQUAL_T(&a, &a, NULL, NULL);
    FAILm("not reached");
}

TEST fail_plain(int custom)
{
    if (custom) FAILm("custom fail");
    FAIL();
}

TEST fail_through_check_call(void)
{
    CHECK_CALL(helper_positive(-1));
    FAILm("not reached");
}

SUITE(failing)
{
    int custom;
    for (custom = 0; custom <= 1; custom++) {
        RUN_TESTp(fail_assert, custom);
        RUN_TESTp(fail_assert_false, custom);
        RUN_TESTp(fail_eq, custom);
        RUN_TESTp(fail_neq, custom);
        RUN_TESTp(fail_gt, custom);
        RUN_TESTp(fail_gte, custom);
        RUN_TESTp(fail_lt, custom);
        RUN_TESTp(fail_lte, custom);
        RUN_TESTp(fail_eq_fmt, custom);
        RUN_TESTp(fail_in_range, custom);
        RUN_TESTp(fail_str_eq, custom);
        RUN_TESTp(fail_strn_eq, custom);
        RUN_TESTp(fail_mem_eq, custom);
        RUN_TESTp(fail_enum_eq, custom);
        RUN_TESTp(fail_equal_t, custom);
        RUN_TESTp(fail_plain, custom);
    }
    RUN_TEST(fail_equal_t_without_type);
    RUN_TEST(fail_through_check_call);
    RUN_TEST(truth); /* a pass among the failures */
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv)
{
    int i;
    int want_failing = 0;
    for (i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "-s") == 0 && strcmp(argv[i + 1], "failing") == 0) {
            want_failing = 1;
        }
    }

    GREATEST_MAIN_BEGIN();
    RUN_SUITE(passing);
    RUN_SUITE(fixtures);
    RUN_SUITE(after_fixtures);
    if (want_failing) {
        RUN_SUITE(failing);
    }
    GREATEST_MAIN_END();
}
