/* A tiny test harness: each test file is a program; each TEST prints one
 * "ok"/"FAIL" line; the program exits non-zero if any check failed and ends
 * with "N passed, N failed" so tests/run.sh can add them up. */
#ifndef MEC_TEST_H
#define MEC_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_checks;
static int test_passed, test_failed;
static const char *test_current;

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);           \
            test_failed_checks++;                                                                \
        }                                                                                        \
    } while (0)

/* Checks a mec_status is MEC_OK, printing the library's message if not. */
#define CHECK_OK(expr)                                                                           \
    do {                                                                                         \
        int st_ = (int)(expr);                                                                   \
        if (st_ != 0) {                                                                          \
            fprintf(stderr, "  %s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #expr, st_,     \
                    mec_last_error());                                                           \
            test_failed_checks++;                                                                \
        }                                                                                        \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                    \
    do {                                                                                         \
        double a_ = (double)(a), b_ = (double)(b);                                               \
        if (!(fabs(a_ - b_) <= (tol))) {                                                         \
            fprintf(stderr, "  %s:%d: %s = %.17g, expected %.17g (tol %g)\n", __FILE__, __LINE__, \
                    #a, a_, b_, (double)(tol));                                                  \
            test_failed_checks++;                                                                \
        }                                                                                        \
    } while (0)

/* Relative closeness: |a-b| <= rel * max(|a|,|b|) (or both exactly equal). */
#define CHECK_REL(a, b, rel)                                                                     \
    do {                                                                                         \
        double a_ = (double)(a), b_ = (double)(b);                                               \
        double m_ = fabs(a_) > fabs(b_) ? fabs(a_) : fabs(b_);                                   \
        if (!(a_ == b_ || fabs(a_ - b_) <= (rel) * m_)) {                                        \
            fprintf(stderr, "  %s:%d: %s = %.17g, expected %.17g (rel %g)\n", __FILE__, __LINE__, \
                    #a, a_, b_, (double)(rel));                                                  \
            test_failed_checks++;                                                                \
        }                                                                                        \
    } while (0)

#define CHECK_STR(a, b)                                                                          \
    do {                                                                                         \
        const char *a_ = (a), *b_ = (b);                                                         \
        if (!a_ || !b_ || strcmp(a_, b_)) {                                                      \
            fprintf(stderr, "  %s:%d: %s = \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,   \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                     \
            test_failed_checks++;                                                                \
        }                                                                                        \
    } while (0)

#define RUN(fn)                                                                                  \
    do {                                                                                         \
        int before_ = test_failed_checks;                                                        \
        test_current = #fn;                                                                      \
        fn();                                                                                    \
        if (test_failed_checks == before_) {                                                     \
            test_passed++;                                                                       \
            printf("ok   %s\n", #fn);                                                            \
        } else {                                                                                 \
            test_failed++;                                                                       \
            printf("FAIL %s\n", #fn);                                                            \
        }                                                                                        \
        fflush(stdout);                                                                          \
    } while (0)

#define TEST_SUMMARY()                                                                           \
    (printf("%d passed, %d failed\n", test_passed, test_failed), test_failed ? 1 : 0)

#endif
