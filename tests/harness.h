/*
 * harness.h - revgnn's unit-test harness.
 *
 * An independent implementation of a subset of the API of "greatest"
 * (https://github.com/silentbicycle/greatest), written from its documented
 * interface so test files stay source-compatible with upstream greatest.h
 * and print the same report format.  No upstream code is included.
 *
 * Runner translation unit:
 *
 *     #include "harness.h"
 *     SUITE_EXTERN(other_suite);            (defined in another file)
 *     TEST ok(void) { ASSERT_EQ(2, 1 + 1); PASS(); }
 *     SUITE(mine) { RUN_TEST(ok); }
 *     GREATEST_MAIN_DEFS();
 *     int main(int argc, char **argv) {
 *         GREATEST_MAIN_BEGIN();
 *         RUN_SUITE(mine);
 *         RUN_SUITE(other_suite);
 *         GREATEST_MAIN_END();
 *     }
 *
 * Other test files only include this header; GREATEST_MAIN_DEFS() is the
 * one place the globals and the runner functions are defined, so including
 * the header costs nothing and triggers no unused-function warnings.
 *
 * Additions over upstream: GREATEST_MAIN_END() ends with a CI-friendly line
 * "N passed, N failed, N skipped", printed by HARNESS_PRINT_CLOSING_LINE().
 * Included after upstream greatest.h, this header defines nothing; a runner
 * that must build against both ends main with HARNESS_MAIN_END(), which
 * prints the same line after upstream's report too.
 *
 * Deliberate differences from upstream, each to catch or explain more:
 *  - ASSERT_IN_RANGE fails when any operand is NaN;
 *  - ASSERT_ENUM_EQ counts as an assertion like every other ASSERT;
 *  - ASSERT_STR(N)_EQ print at most SIZE characters and accept NULL;
 *  - ASSERT_MEM_EQ prints the 16-byte row holding the first difference;
 *  - flags may be grouped ("-fv"), and -a prints the failure before abort();
 *  - under C++ suites have C linkage, so C, C++ and CUDA files mix.
 *
 * Options:  GREATEST_USE_TIME (default 1) adds clock() timings to reports;
 * GREATEST_FLOAT / GREATEST_FLOAT_FMT (double, "%g") for ASSERT_IN_RANGE;
 * GREATEST_STDOUT (stdout) is where all output goes.
 */
#ifndef REVGNN_TESTS_HARNESS_H
#define REVGNN_TESTS_HARNESS_H

/* To check the tests against upstream greatest.h, name it: -DGREATEST_UPSTREAM_HEADER='"path"'
 * (make test GREATEST_H=path does). It is included here, where each test file includes this
 * header, so the files' own feature macros come first; then this header adds nothing. */
#ifdef GREATEST_UPSTREAM_HEADER
#include GREATEST_UPSTREAM_HEADER
#endif
#ifndef GREATEST_VERSION_MAJOR

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef GREATEST_USE_TIME
#define GREATEST_USE_TIME 1
#endif
#ifndef GREATEST_FLOAT
#define GREATEST_FLOAT double
#endif
#ifndef GREATEST_FLOAT_FMT
#define GREATEST_FLOAT_FMT "%g"
#endif
#ifndef GREATEST_STDOUT
#define GREATEST_STDOUT stdout
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum greatest_test_res {
    GREATEST_TEST_RES_PASS = 0,
    GREATEST_TEST_RES_FAIL = -1,
    GREATEST_TEST_RES_SKIP = 1
};

typedef void greatest_setup_cb(void *udata);
typedef void greatest_teardown_cb(void *udata);

/* Comparison and printing for ASSERT_EQUAL_T; print may be NULL. */
typedef struct greatest_type_info {
    int (*equal)(const void *expd, const void *got, void *udata);
    int (*print)(const void *t, void *udata);
} greatest_type_info;

struct harness_suite_info {
    unsigned int tests_run;
    unsigned int passed;
    unsigned int failed;
    unsigned int skipped;
    clock_t start;
};

typedef struct greatest_run_info {
    /* Totals over all suites; same names as upstream so runners can read
     * them with either implementation. */
    unsigned int tests_run;
    unsigned int passed;
    unsigned int failed;
    unsigned int skipped;
    unsigned int assertions;

    struct harness_suite_info suite; /* the suite running now */

    unsigned int flags;              /* HARNESS_FLAG_* from the command line */
    unsigned int verbosity;
    const char *suite_filter;
    const char *test_filter;
    const char *test_exclude;

    /* The test running now and, once it fails, where. */
    const char *test_name;
    const char *msg;
    const char *fail_file;
    int fail_line;
    clock_t test_start;

    unsigned int col; /* progress characters on the current line */

    greatest_setup_cb *setup;
    void *setup_udata;
    greatest_teardown_cb *teardown;
    void *teardown_udata;

    clock_t begin;
} greatest_run_info;

extern greatest_run_info greatest_info;

/* Defined by GREATEST_MAIN_DEFS(); called through the macros below. */
void harness_main_begin(int argc, char **argv);
void harness_run_suite(void (*suite_cb)(void), const char *name);
int harness_test_pre(const char *name);
void harness_test_post(enum greatest_test_res res);
enum greatest_test_res harness_fail_at(const char *file, int line,
                                       const char *msg);
int harness_strn_eq(const char *expd, const char *got, size_t n);
int harness_mem_eq(const void *expd, const void *got, size_t size);
int harness_equal_t(const void *expd, const void *got,
                    const greatest_type_info *type_info, void *udata);
void harness_print_report(void);
void harness_print_closing_line(void);

#ifdef __cplusplus
}
#endif

#define HARNESS_FLAG_LIST_ONLY 0x01u
#define HARNESS_FLAG_FIRST_FAIL 0x02u
#define HARNESS_FLAG_ABORT_ON_FAIL 0x04u
#define HARNESS_FLAG_EXACT_NAME 0x08u

/* Progress characters per line before wrapping, as upstream. */
#define HARNESS_WIDTH 72u

#define GREATEST_IS_VERBOSE() (greatest_info.verbosity > 0)

/* ---- Declaring and running tests and suites ---- */

#define GREATEST_TEST static enum greatest_test_res

/* Suites get C linkage so C, C++ and CUDA test files can share a runner. */
#ifdef __cplusplus
#define HARNESS_SUITE_LINKAGE extern "C"
#else
#define HARNESS_SUITE_LINKAGE extern
#endif
/* The prototype keeps -Wmissing-prototypes quiet for suite definitions. */
#define GREATEST_SUITE(NAME)                                                \
    HARNESS_SUITE_LINKAGE void NAME(void); void NAME(void)
#define GREATEST_SUITE_EXTERN(NAME) HARNESS_SUITE_LINKAGE void NAME(void)

#define GREATEST_RUN_SUITE(S) harness_run_suite(S, #S)

#define GREATEST_RUN_TEST(TEST)                                             \
    do {                                                                    \
        if (harness_test_pre(#TEST)) {                                      \
            harness_test_post(TEST());                                      \
        }                                                                   \
    } while (0)

#define GREATEST_RUN_TEST1(TEST, ENV)                                       \
    do {                                                                    \
        if (harness_test_pre(#TEST)) {                                      \
            harness_test_post(TEST(ENV));                                   \
        }                                                                   \
    } while (0)

#define GREATEST_RUN_TESTp(TEST, ...)                                       \
    do {                                                                    \
        if (harness_test_pre(#TEST)) {                                      \
            harness_test_post(TEST(__VA_ARGS__));                           \
        }                                                                   \
    } while (0)

/* Setup and teardown wrap every following test of the current suite. */
#define GREATEST_SET_SETUP_CB(CB, UDATA)                                    \
    do {                                                                    \
        greatest_info.setup = (CB);                                         \
        greatest_info.setup_udata = (UDATA);                                \
    } while (0)

#define GREATEST_SET_TEARDOWN_CB(CB, UDATA)                                 \
    do {                                                                    \
        greatest_info.teardown = (CB);                                      \
        greatest_info.teardown_udata = (UDATA);                             \
    } while (0)

/* For helpers returning enum greatest_test_res: propagate FAIL or SKIP. */
#define GREATEST_CHECK_CALL(RES)                                            \
    do {                                                                    \
        enum greatest_test_res harness_res = (RES);                         \
        if (harness_res != GREATEST_TEST_RES_PASS) {                        \
            return harness_res;                                             \
        }                                                                   \
    } while (0)

/* ---- Ending a test ---- */

#define GREATEST_PASSm(MSG)                                                 \
    return (greatest_info.msg = (MSG), GREATEST_TEST_RES_PASS)
#define GREATEST_SKIPm(MSG)                                                 \
    return (greatest_info.msg = (MSG), GREATEST_TEST_RES_SKIP)
#define GREATEST_FAILm(MSG) return harness_fail_at(__FILE__, __LINE__, (MSG))
#define GREATEST_PASS() GREATEST_PASSm(NULL)
#define GREATEST_SKIP() GREATEST_SKIPm(NULL)
#define GREATEST_FAIL() GREATEST_FAILm(NULL)

/* ---- Assertions: each counts once and fails the test at once ---- */

#define GREATEST_ASSERTm(MSG, COND)                                         \
    do {                                                                    \
        greatest_info.assertions++;                                         \
        if (!(COND)) {                                                      \
            GREATEST_FAILm(MSG);                                            \
        }                                                                   \
    } while (0)

#define GREATEST_ASSERT_FALSEm(MSG, COND) GREATEST_ASSERTm(MSG, !(COND))
#define GREATEST_ASSERT_EQm(MSG, EXP, GOT)                                  \
    GREATEST_ASSERTm(MSG, (EXP) == (GOT))
#define GREATEST_ASSERT_NEQm(MSG, EXP, GOT)                                 \
    GREATEST_ASSERTm(MSG, (EXP) != (GOT))
#define GREATEST_ASSERT_GTm(MSG, EXP, GOT)                                  \
    GREATEST_ASSERTm(MSG, (EXP) > (GOT))
#define GREATEST_ASSERT_GTEm(MSG, EXP, GOT)                                 \
    GREATEST_ASSERTm(MSG, (EXP) >= (GOT))
#define GREATEST_ASSERT_LTm(MSG, EXP, GOT)                                  \
    GREATEST_ASSERTm(MSG, (EXP) < (GOT))
#define GREATEST_ASSERT_LTEm(MSG, EXP, GOT)                                 \
    GREATEST_ASSERTm(MSG, (EXP) <= (GOT))

/* FMT goes straight to fprintf so a literal gets format checking; the
 * operands are evaluated again for printing, as upstream does. */
#define GREATEST_ASSERT_EQ_FMTm(MSG, EXP, GOT, FMT)                         \
    do {                                                                    \
        greatest_info.assertions++;                                         \
        if ((EXP) != (GOT)) {                                               \
            fputs("\nExpected: ", GREATEST_STDOUT);                         \
            fprintf(GREATEST_STDOUT, FMT, EXP);                             \
            fputs("\n     Got: ", GREATEST_STDOUT);                         \
            fprintf(GREATEST_STDOUT, FMT, GOT);                             \
            fputs("\n", GREATEST_STDOUT);                                   \
            GREATEST_FAILm(MSG);                                            \
        }                                                                   \
    } while (0)

/* Written as !(diff <= tol) so that a NaN anywhere fails the assertion
 * (upstream lets NaN through; a gradient check must not). */
#define GREATEST_ASSERT_IN_RANGEm(MSG, EXP, GOT, TOL)                       \
    do {                                                                    \
        GREATEST_FLOAT harness_exp = (EXP);                                 \
        GREATEST_FLOAT harness_got = (GOT);                                 \
        GREATEST_FLOAT harness_tol = (TOL);                                 \
        GREATEST_FLOAT harness_diff = harness_exp > harness_got             \
            ? harness_exp - harness_got : harness_got - harness_exp;        \
        greatest_info.assertions++;                                         \
        if (!(harness_diff <= harness_tol)) {                               \
            fprintf(GREATEST_STDOUT, "\nExpected: " GREATEST_FLOAT_FMT      \
                    " +/- " GREATEST_FLOAT_FMT "\n     Got: "               \
                    GREATEST_FLOAT_FMT "\n",                                \
                    harness_exp, harness_tol, harness_got);                 \
            GREATEST_FAILm(MSG);                                            \
        }                                                                   \
    } while (0)

#define GREATEST_ASSERT_STRN_EQm(MSG, EXP, GOT, SIZE)                       \
    do {                                                                    \
        greatest_info.assertions++;                                         \
        if (!harness_strn_eq((EXP), (GOT), (SIZE))) {                       \
            GREATEST_FAILm(MSG);                                            \
        }                                                                   \
    } while (0)

/* An unbounded comparison is a bounded one with the largest bound. */
#define GREATEST_ASSERT_STR_EQm(MSG, EXP, GOT)                              \
    GREATEST_ASSERT_STRN_EQm(MSG, EXP, GOT, (size_t)-1)

#define GREATEST_ASSERT_MEM_EQm(MSG, EXP, GOT, SIZE)                        \
    do {                                                                    \
        greatest_info.assertions++;                                         \
        if (!harness_mem_eq((EXP), (GOT), (SIZE))) {                        \
            GREATEST_FAILm(MSG);                                            \
        }                                                                   \
    } while (0)

/* ENUM_STR takes an int and returns the name, as upstream. */
#define GREATEST_ASSERT_ENUM_EQm(MSG, EXP, GOT, ENUM_STR)                   \
    do {                                                                    \
        int harness_exp = (int)(EXP);                                       \
        int harness_got = (int)(GOT);                                       \
        greatest_info.assertions++;                                         \
        if (harness_exp != harness_got) {                                   \
            fprintf(GREATEST_STDOUT, "\nExpected: %s\n     Got: %s\n",      \
                    ENUM_STR(harness_exp), ENUM_STR(harness_got));          \
            GREATEST_FAILm(MSG);                                            \
        }                                                                   \
    } while (0)

#define GREATEST_ASSERT_EQUAL_Tm(MSG, EXP, GOT, TYPE_INFO, UDATA)           \
    do {                                                                    \
        const greatest_type_info *harness_type_info = (TYPE_INFO);          \
        greatest_info.assertions++;                                         \
        if (harness_type_info == NULL                                       \
            || harness_type_info->equal == NULL) {                          \
            GREATEST_FAILm("type_info->equal callback missing!");           \
        }                                                                   \
        if (!harness_equal_t((EXP), (GOT), harness_type_info, (UDATA))) {   \
            GREATEST_FAILm(MSG);                                            \
        }                                                                   \
    } while (0)

/* Default messages quote the failed condition, as upstream. */
#define GREATEST_ASSERT(COND) GREATEST_ASSERTm(#COND, COND)
#define GREATEST_ASSERT_FALSE(COND) GREATEST_ASSERT_FALSEm(#COND, COND)
#define GREATEST_ASSERT_EQ(EXP, GOT)                                        \
    GREATEST_ASSERT_EQm(#EXP " != " #GOT, EXP, GOT)
#define GREATEST_ASSERT_NEQ(EXP, GOT)                                       \
    GREATEST_ASSERT_NEQm(#EXP " == " #GOT, EXP, GOT)
#define GREATEST_ASSERT_GT(EXP, GOT)                                        \
    GREATEST_ASSERT_GTm(#EXP " <= " #GOT, EXP, GOT)
#define GREATEST_ASSERT_GTE(EXP, GOT)                                       \
    GREATEST_ASSERT_GTEm(#EXP " < " #GOT, EXP, GOT)
#define GREATEST_ASSERT_LT(EXP, GOT)                                        \
    GREATEST_ASSERT_LTm(#EXP " >= " #GOT, EXP, GOT)
#define GREATEST_ASSERT_LTE(EXP, GOT)                                       \
    GREATEST_ASSERT_LTEm(#EXP " > " #GOT, EXP, GOT)
#define GREATEST_ASSERT_EQ_FMT(EXP, GOT, FMT)                               \
    GREATEST_ASSERT_EQ_FMTm(#EXP " != " #GOT, EXP, GOT, FMT)
#define GREATEST_ASSERT_IN_RANGE(EXP, GOT, TOL)                             \
    GREATEST_ASSERT_IN_RANGEm(#EXP " != " #GOT " +/- " #TOL, EXP, GOT, TOL)
#define GREATEST_ASSERT_STR_EQ(EXP, GOT)                                    \
    GREATEST_ASSERT_STR_EQm(#EXP " != " #GOT, EXP, GOT)
#define GREATEST_ASSERT_STRN_EQ(EXP, GOT, SIZE)                             \
    GREATEST_ASSERT_STRN_EQm(#EXP " != " #GOT, EXP, GOT, SIZE)
#define GREATEST_ASSERT_MEM_EQ(EXP, GOT, SIZE)                              \
    GREATEST_ASSERT_MEM_EQm(#EXP " != " #GOT, EXP, GOT, SIZE)
#define GREATEST_ASSERT_ENUM_EQ(EXP, GOT, ENUM_STR)                         \
    GREATEST_ASSERT_ENUM_EQm(#EXP " != " #GOT, EXP, GOT, ENUM_STR)
#define GREATEST_ASSERT_EQUAL_T(EXP, GOT, TYPE_INFO, UDATA)                 \
    GREATEST_ASSERT_EQUAL_Tm(#EXP " != " #GOT, EXP, GOT, TYPE_INFO, UDATA)

/* ---- Runner ---- */

#define GREATEST_MAIN_BEGIN() harness_main_begin(argc, argv)
#define GREATEST_PRINT_REPORT() harness_print_report()
#define HARNESS_PRINT_CLOSING_LINE() harness_print_closing_line()
#define greatest_all_passed() (greatest_info.failed == 0)

#define GREATEST_MAIN_END()                                                 \
    do {                                                                    \
        GREATEST_PRINT_REPORT();                                            \
        HARNESS_PRINT_CLOSING_LINE();                                       \
        return greatest_all_passed() ? EXIT_SUCCESS : EXIT_FAILURE;         \
    } while (0)

#if GREATEST_USE_TIME
#define HARNESS_PRINT_TICKS(TICKS)                                          \
    fprintf(GREATEST_STDOUT, " (%lu ticks, %.3f sec)",                      \
            (unsigned long)(TICKS), (double)(TICKS) / (double)CLOCKS_PER_SEC)
#else
#define HARNESS_PRINT_TICKS(TICKS) ((void)(TICKS))
#endif

/*
 * The runner's definitions.  A macro rather than plain functions so that
 * exactly one translation unit (the one invoking it) compiles them; the
 * last declaration takes the caller's semicolon.
 */
#define GREATEST_MAIN_DEFS()                                                \
    static void harness_print_elapsed(clock_t start)                        \
    {                                                                       \
        clock_t ticks = clock() - start;                                    \
        HARNESS_PRINT_TICKS(ticks);                                         \
    }                                                                       \
                                                                            \
    static int harness_name_matches(const char *name, const char *filter)   \
    {                                                                       \
        if (filter == NULL) {                                               \
            return 1;                                                       \
        }                                                                   \
        if (greatest_info.flags & HARNESS_FLAG_EXACT_NAME) {                \
            return strcmp(name, filter) == 0;                               \
        }                                                                   \
        return strstr(name, filter) != NULL;                                \
    }                                                                       \
                                                                            \
    /* Set by -f (and -a): once a test failed, nothing else runs. */        \
    static int harness_stopped(void)                                        \
    {                                                                       \
        return (greatest_info.flags & HARNESS_FLAG_FIRST_FAIL) != 0         \
            && greatest_info.failed > 0;                                    \
    }                                                                       \
                                                                            \
    static void harness_usage(FILE *out, const char *prog)                  \
    {                                                                       \
        fprintf(out,                                                        \
            "Usage: %s [-hlfavex] [-s SUITE] [-t TEST] [-x EXCLUDE]\n"      \
            "  -h, --help  print this help and exit\n"                      \
            "  -l          list suites and tests without running them\n"    \
            "  -f          stop after the first failing test\n"             \
            "  -a          abort() at the first failure (implies -f)\n"     \
            "  -v          verbose: one line per test\n"                    \
            "  -s SUITE    run only suites whose name contains SUITE\n"     \
            "  -t TEST     run only tests whose name contains TEST\n"       \
            "  -e          -s, -t and -x match whole names only\n"          \
            "  -x EXCLUDE  skip tests whose name contains EXCLUDE\n"        \
            "  --          ignore the remaining arguments\n", prog);        \
    }                                                                       \
                                                                            \
    static void harness_bad_usage(const char *prog, const char *why,        \
                                  const char *arg)                          \
    {                                                                       \
        fprintf(stderr, "%s: %s: %s\n", prog, why, arg);                    \
        harness_usage(stderr, prog);                                        \
        exit(EXIT_FAILURE);                                                 \
    }                                                                       \
                                                                            \
    static const char **harness_filter_for(char opt)                        \
    {                                                                       \
        switch (opt) {                                                      \
        case 's': return &greatest_info.suite_filter;                       \
        case 't': return &greatest_info.test_filter;                        \
        case 'x': return &greatest_info.test_exclude;                       \
        default: return NULL;                                               \
        }                                                                   \
    }                                                                       \
                                                                            \
    /* Flags may be grouped ("-fv"); a filter takes the rest of its         \
     * argument ("-sname") or the next one ("-s name"). */                  \
    void harness_main_begin(int argc, char **argv)                          \
    {                                                                       \
        const char *prog = argc > 0 ? argv[0] : "test";                     \
        int i;                                                              \
        greatest_info.begin = clock();                                      \
        for (i = 1; i < argc; i++) {                                        \
            const char *arg = argv[i];                                      \
            int j;                                                          \
            if (strcmp(arg, "--") == 0) {                                   \
                break;                                                      \
            }                                                               \
            if (strcmp(arg, "--help") == 0) {                               \
                harness_usage(stdout, prog);                                \
                exit(EXIT_SUCCESS);                                         \
            }                                                               \
            if (arg[0] != '-' || arg[1] == '\0') {                          \
                harness_bad_usage(prog, "unexpected argument", arg);        \
            }                                                               \
            for (j = 1; arg[j] != '\0'; j++) {                              \
                const char **filter = harness_filter_for(arg[j]);           \
                if (filter != NULL) {                                       \
                    if (arg[j + 1] != '\0') {                               \
                        *filter = arg + j + 1;                              \
                    } else if (i + 1 < argc) {                              \
                        *filter = argv[++i];                                \
                    } else {                                                \
                        harness_bad_usage(prog, "missing value for", arg);  \
                    }                                                       \
                    break;                                                  \
                }                                                           \
                switch (arg[j]) {                                           \
                case 'h':                                                   \
                    harness_usage(stdout, prog);                            \
                    exit(EXIT_SUCCESS);                                     \
                case 'l':                                                   \
                    greatest_info.flags |= HARNESS_FLAG_LIST_ONLY;          \
                    break;                                                  \
                case 'f':                                                   \
                    greatest_info.flags |= HARNESS_FLAG_FIRST_FAIL;         \
                    break;                                                  \
                case 'a':                                                   \
                    greatest_info.flags |= HARNESS_FLAG_ABORT_ON_FAIL       \
                                          | HARNESS_FLAG_FIRST_FAIL;        \
                    break;                                                  \
                case 'v':                                                   \
                    greatest_info.verbosity++;                              \
                    break;                                                  \
                case 'e':                                                   \
                    greatest_info.flags |= HARNESS_FLAG_EXACT_NAME;         \
                    break;                                                  \
                default:                                                    \
                    harness_bad_usage(prog, "unknown option", arg);         \
                }                                                           \
            }                                                               \
        }                                                                   \
    }                                                                       \
                                                                            \
    void harness_run_suite(void (*suite_cb)(void), const char *name)        \
    {                                                                       \
        greatest_run_info *g = &greatest_info;                              \
        if (harness_stopped()                                               \
            || !harness_name_matches(name, g->suite_filter)) {              \
            return;                                                         \
        }                                                                   \
        memset(&g->suite, 0, sizeof g->suite);                              \
        g->col = 0;                                                         \
        fprintf(GREATEST_STDOUT, "\n* Suite %s:\n", name);                  \
        g->suite.start = clock();                                           \
        suite_cb();                                                         \
        g->setup = NULL;                                                    \
        g->setup_udata = NULL;                                              \
        g->teardown = NULL;                                                 \
        g->teardown_udata = NULL;                                           \
        if (g->suite.tests_run > 0) {                                       \
            fprintf(GREATEST_STDOUT,                                        \
                    "\n%u test%s - %u passed, %u failed, %u skipped",       \
                    g->suite.tests_run, g->suite.tests_run == 1 ? "" : "s", \
                    g->suite.passed, g->suite.failed, g->suite.skipped);    \
            harness_print_elapsed(g->suite.start);                          \
            fputs("\n", GREATEST_STDOUT);                                   \
        }                                                                   \
        fflush(GREATEST_STDOUT);                                            \
    }                                                                       \
                                                                            \
    /* Decides whether a test runs; if so starts its clock and setup. */    \
    int harness_test_pre(const char *name)                                  \
    {                                                                       \
        greatest_run_info *g = &greatest_info;                              \
        if (harness_stopped()                                               \
            || !harness_name_matches(name, g->test_filter)                  \
            || (g->test_exclude != NULL                                     \
                && harness_name_matches(name, g->test_exclude))) {          \
            return 0;                                                       \
        }                                                                   \
        if (g->flags & HARNESS_FLAG_LIST_ONLY) {                            \
            fprintf(GREATEST_STDOUT, "  %s\n", name);                       \
            return 0;                                                       \
        }                                                                   \
        g->test_name = name;                                                \
        g->msg = NULL;                                                      \
        g->fail_file = NULL;                                                \
        g->fail_line = 0;                                                   \
        g->test_start = clock();                                            \
        if (g->setup != NULL) {                                             \
            g->setup(g->setup_udata);                                       \
        }                                                                   \
        return 1;                                                           \
    }                                                                       \
                                                                            \
    /* Without -v the 'F' progress mark ends the line of dots first. */    \
    static void harness_print_failure(void)                                 \
    {                                                                       \
        const greatest_run_info *g = &greatest_info;                        \
        if (!GREATEST_IS_VERBOSE()) {                                       \
            fputs("F\n", GREATEST_STDOUT);                                  \
        }                                                                   \
        fprintf(GREATEST_STDOUT, "FAIL %s: %s (%s:%d)", g->test_name,       \
                g->msg != NULL ? g->msg : "",                               \
                g->fail_file != NULL ? g->fail_file : "?", g->fail_line);   \
    }                                                                       \
                                                                            \
    void harness_test_post(enum greatest_test_res res)                      \
    {                                                                       \
        greatest_run_info *g = &greatest_info;                              \
        const char *msg = g->msg != NULL ? g->msg : "";                     \
        int verbose = GREATEST_IS_VERBOSE();                                \
        if (g->teardown != NULL) {                                          \
            g->teardown(g->teardown_udata);                                 \
        }                                                                   \
        g->suite.tests_run++;                                               \
        g->tests_run++;                                                     \
        if (res == GREATEST_TEST_RES_PASS) {                                \
            g->suite.passed++;                                              \
            g->passed++;                                                    \
            if (verbose) {                                                  \
                fprintf(GREATEST_STDOUT, "PASS %s: %s", g->test_name, msg); \
            } else {                                                        \
                fputs(".", GREATEST_STDOUT);                                \
            }                                                               \
        } else if (res == GREATEST_TEST_RES_SKIP) {                         \
            g->suite.skipped++;                                             \
            g->skipped++;                                                   \
            if (verbose) {                                                  \
                fprintf(GREATEST_STDOUT, "SKIP %s: %s", g->test_name, msg); \
            } else {                                                        \
                fputs("s", GREATEST_STDOUT);                                \
            }                                                               \
        } else {                                                            \
            g->suite.failed++;                                              \
            g->failed++;                                                    \
            harness_print_failure();                                        \
        }                                                                   \
        if (verbose) {                                                      \
            harness_print_elapsed(g->test_start);                           \
            fputs("\n", GREATEST_STDOUT);                                   \
        } else if (res != GREATEST_TEST_RES_PASS                            \
                   && res != GREATEST_TEST_RES_SKIP) {                      \
            fputs("\n", GREATEST_STDOUT);                                   \
            g->col = 0;                                                     \
        } else if (++g->col == HARNESS_WIDTH) {                             \
            fputs("\n", GREATEST_STDOUT);                                   \
            g->col = 0;                                                     \
        }                                                                   \
        fflush(GREATEST_STDOUT);                                            \
    }                                                                       \
                                                                            \
    enum greatest_test_res harness_fail_at(const char *file, int line,      \
                                           const char *msg)                 \
    {                                                                       \
        greatest_info.fail_file = file;                                     \
        greatest_info.fail_line = line;                                     \
        greatest_info.msg = msg;                                            \
        if (greatest_info.flags & HARNESS_FLAG_ABORT_ON_FAIL) {             \
            /* Report, then abort in the failing test's frame so a          \
             * debugger or core dump shows where it failed. */              \
            harness_print_failure();                                        \
            fputs("\n", GREATEST_STDOUT);                                   \
            fflush(GREATEST_STDOUT);                                        \
            abort();                                                        \
        }                                                                   \
        return GREATEST_TEST_RES_FAIL;                                      \
    }                                                                       \
                                                                            \
    static void harness_print_str(const char *s, int precision)             \
    {                                                                       \
        if (s == NULL) {                                                    \
            fputs("(null)", GREATEST_STDOUT);                               \
        } else {                                                            \
            fprintf(GREATEST_STDOUT, "%.*s", precision, s);                 \
        }                                                                   \
    }                                                                       \
                                                                            \
    /* NULL equals only NULL, rather than crashing the runner. */           \
    int harness_strn_eq(const char *expd, const char *got, size_t n)        \
    {                                                                       \
        int precision = n > (size_t)INT_MAX ? INT_MAX : (int)n;             \
        int equal = expd == NULL || got == NULL                             \
            ? expd == got : strncmp(expd, got, n) == 0;                     \
        if (!equal) {                                                       \
            fputs("\nExpected: ", GREATEST_STDOUT);                         \
            harness_print_str(expd, precision);                             \
            fputs("\n     Got: ", GREATEST_STDOUT);                         \
            harness_print_str(got, precision);                              \
            fputs("\n", GREATEST_STDOUT);                                   \
        }                                                                   \
        return equal;                                                       \
    }                                                                       \
                                                                            \
    static void harness_print_bytes(const unsigned char *bytes,             \
                                    size_t from, size_t to)                 \
    {                                                                       \
        size_t i;                                                           \
        fprintf(GREATEST_STDOUT, "%04lx:", (unsigned long)from);            \
        for (i = from; i < to; i++) {                                       \
            fprintf(GREATEST_STDOUT, " %02x", bytes[i]);                    \
        }                                                                   \
    }                                                                       \
                                                                            \
    /* On mismatch shows the 16-byte row holding the first difference. */   \
    int harness_mem_eq(const void *expd, const void *got, size_t size)      \
    {                                                                       \
        const unsigned char *e = (const unsigned char *)expd;               \
        const unsigned char *g = (const unsigned char *)got;                \
        size_t first = 0;                                                   \
        size_t row;                                                         \
        if (size == 0 || e == g) {                                          \
            return 1;                                                       \
        }                                                                   \
        if (e == NULL || g == NULL) {                                       \
            fprintf(GREATEST_STDOUT, "\nExpected: %s\n     Got: %s\n",      \
                    e == NULL ? "(null)" : "buffer",                        \
                    g == NULL ? "(null)" : "buffer");                       \
            return 0;                                                       \
        }                                                                   \
        while (first < size && e[first] == g[first]) {                      \
            first++;                                                        \
        }                                                                   \
        if (first == size) {                                                \
            return 1;                                                       \
        }                                                                   \
        row = first - first % 16;                                           \
        fputs("\nExpected: ", GREATEST_STDOUT);                             \
        harness_print_bytes(e, row, row + 16 < size ? row + 16 : size);     \
        fputs("\n     Got: ", GREATEST_STDOUT);                             \
        harness_print_bytes(g, row, row + 16 < size ? row + 16 : size);     \
        fprintf(GREATEST_STDOUT, "\nFirst difference at byte %lu of %lu\n", \
                (unsigned long)first, (unsigned long)size);                 \
        return 0;                                                           \
    }                                                                       \
                                                                            \
    int harness_equal_t(const void *expd, const void *got,                  \
                        const greatest_type_info *type_info, void *udata)   \
    {                                                                       \
        if (type_info->equal(expd, got, udata)) {                           \
            return 1;                                                       \
        }                                                                   \
        if (type_info->print != NULL) {                                     \
            fputs("\nExpected: ", GREATEST_STDOUT);                         \
            (void)type_info->print(expd, udata);                            \
            fputs("\n     Got: ", GREATEST_STDOUT);                         \
            (void)type_info->print(got, udata);                             \
            fputs("\n", GREATEST_STDOUT);                                   \
        }                                                                   \
        return 0;                                                           \
    }                                                                       \
                                                                            \
    /* Reports, like the runs they summarize, are skipped by -l. */         \
    void harness_print_report(void)                                         \
    {                                                                       \
        const greatest_run_info *g = &greatest_info;                        \
        if (g->flags & HARNESS_FLAG_LIST_ONLY) {                            \
            return;                                                         \
        }                                                                   \
        fprintf(GREATEST_STDOUT, "\nTotal: %u test%s", g->tests_run,        \
                g->tests_run == 1 ? "" : "s");                              \
        harness_print_elapsed(g->begin);                                    \
        fprintf(GREATEST_STDOUT, ", %u assertion%s\n", g->assertions,       \
                g->assertions == 1 ? "" : "s");                             \
        fprintf(GREATEST_STDOUT, "Pass: %u, fail: %u, skip: %u.\n",         \
                g->passed, g->failed, g->skipped);                          \
        fflush(GREATEST_STDOUT);                                            \
    }                                                                       \
                                                                            \
    void harness_print_closing_line(void)                                   \
    {                                                                       \
        const greatest_run_info *g = &greatest_info;                        \
        if (g->flags & HARNESS_FLAG_LIST_ONLY) {                            \
            return;                                                         \
        }                                                                   \
        fprintf(GREATEST_STDOUT, "%u passed, %u failed, %u skipped\n",      \
                g->passed, g->failed, g->skipped);                          \
        fflush(GREATEST_STDOUT);                                            \
    }                                                                       \
                                                                            \
    greatest_run_info greatest_info

/* Short names, as upstream. */
#define TEST GREATEST_TEST
#define SUITE GREATEST_SUITE
#define SUITE_EXTERN GREATEST_SUITE_EXTERN
#define RUN_SUITE GREATEST_RUN_SUITE
#define RUN_TEST GREATEST_RUN_TEST
#define RUN_TEST1 GREATEST_RUN_TEST1
#define RUN_TESTp GREATEST_RUN_TESTp
#define SET_SETUP GREATEST_SET_SETUP_CB
#define SET_TEARDOWN GREATEST_SET_TEARDOWN_CB
#define CHECK_CALL GREATEST_CHECK_CALL
#define PASS GREATEST_PASS
#define PASSm GREATEST_PASSm
#define SKIP GREATEST_SKIP
#define SKIPm GREATEST_SKIPm
#define FAIL GREATEST_FAIL
#define FAILm GREATEST_FAILm
#define ASSERT GREATEST_ASSERT
#define ASSERTm GREATEST_ASSERTm
#define ASSERT_FALSE GREATEST_ASSERT_FALSE
#define ASSERT_FALSEm GREATEST_ASSERT_FALSEm
#define ASSERT_EQ GREATEST_ASSERT_EQ
#define ASSERT_EQm GREATEST_ASSERT_EQm
#define ASSERT_NEQ GREATEST_ASSERT_NEQ
#define ASSERT_NEQm GREATEST_ASSERT_NEQm
#define ASSERT_GT GREATEST_ASSERT_GT
#define ASSERT_GTm GREATEST_ASSERT_GTm
#define ASSERT_GTE GREATEST_ASSERT_GTE
#define ASSERT_GTEm GREATEST_ASSERT_GTEm
#define ASSERT_LT GREATEST_ASSERT_LT
#define ASSERT_LTm GREATEST_ASSERT_LTm
#define ASSERT_LTE GREATEST_ASSERT_LTE
#define ASSERT_LTEm GREATEST_ASSERT_LTEm
#define ASSERT_EQ_FMT GREATEST_ASSERT_EQ_FMT
#define ASSERT_EQ_FMTm GREATEST_ASSERT_EQ_FMTm
#define ASSERT_IN_RANGE GREATEST_ASSERT_IN_RANGE
#define ASSERT_IN_RANGEm GREATEST_ASSERT_IN_RANGEm
#define ASSERT_STR_EQ GREATEST_ASSERT_STR_EQ
#define ASSERT_STR_EQm GREATEST_ASSERT_STR_EQm
#define ASSERT_STRN_EQ GREATEST_ASSERT_STRN_EQ
#define ASSERT_STRN_EQm GREATEST_ASSERT_STRN_EQm
#define ASSERT_MEM_EQ GREATEST_ASSERT_MEM_EQ
#define ASSERT_MEM_EQm GREATEST_ASSERT_MEM_EQm
#define ASSERT_ENUM_EQ GREATEST_ASSERT_ENUM_EQ
#define ASSERT_ENUM_EQm GREATEST_ASSERT_ENUM_EQm
#define ASSERT_EQUAL_T GREATEST_ASSERT_EQUAL_T
#define ASSERT_EQUAL_Tm GREATEST_ASSERT_EQUAL_Tm

#endif /* GREATEST_VERSION_MAJOR */

/* The end of a runner's main, with either header: the report, then the closing line CI reads
   (upstream greatest.h does not print it), then the exit status. */
#ifdef HARNESS_PRINT_CLOSING_LINE
#define HARNESS_MAIN_END() GREATEST_MAIN_END()
#else
#define HARNESS_MAIN_END()                                                  \
    do {                                                                    \
        GREATEST_PRINT_REPORT();                                            \
        printf("%u passed, %u failed, %u skipped\n", greatest_info.passed,   \
               greatest_info.failed, greatest_info.skipped);                \
        return greatest_all_passed() ? EXIT_SUCCESS : EXIT_FAILURE;         \
    } while (0)
#endif
#endif /* REVGNN_TESTS_HARNESS_H */
