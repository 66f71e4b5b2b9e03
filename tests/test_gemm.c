/* The CPU GEMM op (ctx->ops->gemm) against an independent oracle, a plain triple loop in
   double, on odd shapes, every transpose, padded leading dimensions and alpha/beta values;
   and bitwise equality of its results across thread counts. Each test runs once per
   micro-kernel the CPU has (REVGNN_CPU_ISA), where the platform can set the environment.
   A CPU context's device memory is host memory, so buffers come from malloc. */
#define _POSIX_C_SOURCE 200112L /* setenv */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "revgnn.h"

#if defined(__unix__) || defined(__APPLE__)
#define GM_SETENV 1
#else
#define GM_SETENV 0
#endif

#define GM_SENTINEL ((rg_real)12345)

static char gm_msg[512];

typedef struct gm_case {
    int ta, tb;
    int64_t M, N, K;
    int64_t lda, ldb, ldc;
    rg_real alpha, beta;
} gm_case;

/* op(A) (M, K), op(B) (K, N) and C (M, N) stored with their leading dimensions; entries
   outside the logical matrices are NaN in A and B (a read of them would poison a result)
   and a sentinel in C (a write would show). With beta == 0, C starts as NaN. */
typedef struct gm_data {
    rg_real *A, *B, *C, *C0;
    int64_t rows_a, rows_b;
} gm_data;

static void gm_free(gm_data *d) {
    free(d->A); free(d->B); free(d->C); free(d->C0);
    memset(d, 0, sizeof *d);
}

static rg_real gm_uniform(uint64_t stream, int64_t i) {
    return (rg_real)(2.0 * rg_rng_uniform(2026, stream, (uint64_t)i) - 1.0);
}

/* stored (rows, ld) with the first cols columns random, the rest pad */
static rg_real *gm_matrix(int64_t rows, int64_t cols, int64_t ld, uint64_t stream, rg_real pad) {
    rg_real *x = (rg_real *)malloc((size_t)(rows * ld) * sizeof(rg_real) + 1);
    int64_t r, c;
    if (!x) return NULL;
    for (r = 0; r < rows; r++)
        for (c = 0; c < ld; c++) x[r * ld + c] = c < cols ? gm_uniform(stream, r * ld + c) : pad;
    return x;
}

static int gm_alloc(const gm_case *t, gm_data *d, uint64_t seed) {
    int64_t r, c;
    memset(d, 0, sizeof *d);
    d->rows_a = t->ta ? t->K : t->M;
    d->rows_b = t->tb ? t->N : t->K;
    d->A = gm_matrix(d->rows_a, t->ta ? t->M : t->K, t->lda, seed, (rg_real)NAN);
    d->B = gm_matrix(d->rows_b, t->tb ? t->K : t->N, t->ldb, seed + 1, (rg_real)NAN);
    d->C0 = gm_matrix(t->M, t->N, t->ldc, seed + 2, GM_SENTINEL);
    d->C = (rg_real *)malloc((size_t)(t->M * t->ldc) * sizeof(rg_real) + 1);
    if (!d->A || !d->B || !d->C0 || !d->C) { gm_free(d); return 0; }
    if (t->beta == 0)
        for (r = 0; r < t->M; r++)
            for (c = 0; c < t->N; c++) d->C0[r * t->ldc + c] = (rg_real)NAN;
    memcpy(d->C, d->C0, (size_t)(t->M * t->ldc) * sizeof(rg_real));
    return 1;
}

static void gm_run(rg_ctx *ctx, const gm_case *t, gm_data *d) {
    ctx->ops->gemm(ctx, t->ta, t->tb, t->M, t->N, t->K, t->alpha, d->A, t->lda, d->B, t->ldb, t->beta, d->C, t->ldc);
}

/* NULL if d->C holds alpha op(A) op(B) + beta C0 within the bound below, else a message.
   Bound: a sum of K products computed in any order in precision u errs by at most
   gamma_K sum_k |a_ik b_kj| <= K u (1 + O(Ku)) sum_k |a_ik b_kj| (Higham, Accuracy and
   Stability, 3.1); the scaling by alpha, the add of beta C and one add per K block after the
   first (at most 2 here) cost a rounding each, hence (K + 4) u (|alpha| sum |a b| + |beta
   C0|), with 1% slack for the O(K u) term. The oracle sums in double and errs by up to
   K u_double sum |a b| itself, which matters only in the double build: added. */
static const char *gm_check(const gm_case *t, const gm_data *d) {
    double u = sizeof(rg_real) == sizeof(float) ? FLT_EPSILON / 2 : DBL_EPSILON / 2;
    int64_t i, j, k;
    for (i = 0; i < t->M; i++) {
        for (j = 0; j < t->ldc; j++) {
            double s = 0, mag = 0, ref, bound, got = d->C[i * t->ldc + j], c0 = d->C0[i * t->ldc + j];
            if (j >= t->N) {
                if (got != GM_SENTINEL) {
                    snprintf(gm_msg, sizeof gm_msg, "C[%lld][%lld] beyond N = %lld was written", (long long)i,
                             (long long)j, (long long)t->N);
                    return gm_msg;
                }
                continue;
            }
            for (k = 0; k < t->K; k++) {
                double a = t->ta ? d->A[k * t->lda + i] : d->A[i * t->lda + k];
                double b = t->tb ? d->B[j * t->ldb + k] : d->B[k * t->ldb + j];
                s += a * b;
                mag += fabs(a * b);
            }
            ref = t->alpha * s + (t->beta != 0 ? t->beta * c0 : 0.0);
            bound = 1.01 * (double)(t->K + 4) * u * (fabs(t->alpha) * mag + (t->beta != 0 ? fabs(t->beta * c0) : 0.0)) +
                    (double)t->K * (DBL_EPSILON / 2) * fabs(t->alpha) * mag;
            if (!(fabs(got - ref) <= bound)) {
                snprintf(gm_msg, sizeof gm_msg,
                         "ta=%d tb=%d M=%lld N=%lld K=%lld alpha=%g beta=%g: C[%lld][%lld] = %.9g, expected %.9g +- %.3g",
                         t->ta, t->tb, (long long)t->M, (long long)t->N, (long long)t->K, (double)t->alpha,
                         (double)t->beta, (long long)i, (long long)j, got, ref, bound);
                return gm_msg;
            }
        }
    }
    return NULL;
}

/* A CPU context with n_threads whose GEMM runs the kernel isa ("" for the default). */
static rg_status gm_ctx(rg_ctx **ctx, const char *isa, int n_threads) {
    rg_status st;
#if GM_SETENV
    if (*isa) setenv("REVGNN_CPU_ISA", isa, 1);
    st = rg_ctx_create_cpu(ctx, n_threads, 1);
    unsetenv("REVGNN_CPU_ISA");
#else
    st = *isa ? rg_error_set(RG_ERR_ARG, "cannot set REVGNN_CPU_ISA here") : rg_ctx_create_cpu(ctx, n_threads, 1);
#endif
    return st;
}

static const char *const gm_isas[] = {"portable", "avx2", "avx512"};

/* Every combination of odd sizes, transposes, padded leading dimensions and alpha/beta
   (beta = 0 with a NaN C), plus shapes that cross the blocking: N over the column block,
   K over several K blocks, tall-skinny products and a long-K one that splits K. */
TEST gemm_matches_oracle(const char *isa) {
    static const int64_t sizes[] = {1, 7, 63, 65, 129};
    static const int64_t ks[] = {1, 7, 65, 300};
    static const int64_t pads[] = {0, 3, 16};
    static const double ab[][2] = {{1, 0}, {-0.5, 1}, {2, -0.75}, {1, 1}, {0.25, 0}};
    static const int64_t special[][3] = {{9, 1100, 17}, {3000, 70, 33}, {41, 23, 17000}, {129, 65, 600}};
    rg_ctx *ctx;
    rg_status st = gm_ctx(&ctx, isa, 2);
    int64_t n_cases = 5 * 5 * 4 * 4 + 4 * 4, c;
    if (st != RG_OK) {
        if (strcmp(isa, "portable") == 0) FAILm(rg_last_error());
        SKIPm(rg_last_error()); /* this CPU or build lacks the kernel */
    }
    for (c = 0; c < n_cases; c++) {
        gm_case t;
        gm_data d;
        const char *err;
        if (c < 5 * 5 * 4 * 4) {
            t.M = sizes[c % 5];
            t.N = sizes[c / 5 % 5];
            t.K = ks[c / 25 % 4];
            t.ta = (int)(c / 100 % 2);
            t.tb = (int)(c / 200 % 2);
        } else {
            t.M = special[(c - 400) % 4][0];
            t.N = special[(c - 400) % 4][1];
            t.K = special[(c - 400) % 4][2];
            t.ta = (int)((c - 400) / 4 % 2);
            t.tb = (int)((c - 400) / 8 % 2);
        }
        t.lda = (t.ta ? t.M : t.K) + pads[c % 3];
        t.ldb = (t.tb ? t.K : t.N) + pads[(c + 1) % 3];
        t.ldc = t.N + pads[(c + 2) % 3];
        t.alpha = (rg_real)ab[c % 5][0];
        t.beta = (rg_real)ab[c % 5][1];
        if (!gm_alloc(&t, &d, (uint64_t)c * 3)) {
            rg_ctx_destroy(ctx);
            FAILm("out of host memory");
        }
        gm_run(ctx, &t, &d);
        st = rg_ctx_take_status(ctx);
        err = st != RG_OK ? rg_last_error() : gm_check(&t, &d);
        gm_free(&d);
        if (err) {
            rg_ctx_destroy(ctx);
            FAILm(err);
        }
    }
    rg_ctx_destroy(ctx);
    PASS();
}

/* K = 0 leaves C = beta C (zero for beta = 0 even over NaN); M = 0 or N = 0 touches nothing. */
TEST gemm_empty_products(void) {
    rg_ctx *ctx;
    rg_real A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8}, C[4];
    int i;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 2, 1));
    for (i = 0; i < 4; i++) C[i] = (rg_real)(i + 1);
    ctx->ops->gemm(ctx, 0, 0, 2, 2, 0, 1, A, 1, B, 2, (rg_real)0.5, C, 2);
    for (i = 0; i < 4; i++) ASSERT_EQ((rg_real)(0.5 * (i + 1)), C[i]);
    for (i = 0; i < 4; i++) C[i] = (rg_real)NAN;
    ctx->ops->gemm(ctx, 1, 1, 2, 2, 0, 1, A, 2, B, 1, 0, C, 2);
    for (i = 0; i < 4; i++) ASSERT_EQ((rg_real)0, C[i]);
    ctx->ops->gemm(ctx, 0, 0, 0, 2, 2, 1, A, 2, B, 2, 0, NULL, 2);
    ctx->ops->gemm(ctx, 0, 0, 2, 0, 2, 1, A, 2, B, 2, 0, NULL, 2);
    ASSERT_EQ(RG_OK, rg_ctx_take_status(ctx));
    rg_ctx_destroy(ctx);
    PASS();
}

/* One thread, two and three give the same bits: a tall-skinny forward and dx product, a
   long-K weight-gradient reduction (accumulating into C), and an odd square-ish shape in all
   four transposes, and wide products whose columns are split. Each shape is large enough
   that the GEMM splits it among threads. */
TEST gemm_thread_count_invariant(const char *isa) {
    static const gm_case cases[] = {
        {0, 0, 5000, 64, 64, 64, 64, 64, 1, 0},       /* y = x W */
        {0, 1, 5000, 80, 40, 40, 40, 80, 1, 0},       /* dx = dy W^T */
        {1, 0, 64, 40, 20000, 64, 40, 40, 1, 1},      /* dW += x^T dy: K split in chunks */
        {1, 0, 80, 40, 20000, 80, 40, 40, 1, 1},
        {0, 1, 30, 20, 17000, 17000, 17000, 20, 2, 0.5},
        {0, 0, 130, 129, 300, 301, 129, 131, 0.5, -1},
        {1, 0, 130, 129, 300, 131, 129, 129, 0.5, -1},
        {0, 1, 130, 129, 300, 300, 300, 129, 0.5, -1},
        {1, 1, 130, 129, 300, 130, 302, 129, 0.5, -1},
        {0, 0, 20, 300, 2000, 2000, 300, 300, 1, 0},  /* wide: threads split the columns */
        {0, 1, 9, 1100, 400, 400, 400, 1100, 1, 0},   /* and more than one column block */
        {1, 0, 20, 600, 2000, 20, 600, 600, 1, 0},    /* A^T packed for 1 thread, in place for 3 */
    };
    rg_ctx *ctx[3] = {NULL, NULL, NULL};
    int i, n;
#ifdef REVGNN_CBLAS
    SKIPm("REVGNN_CBLAS: thread counts are the BLAS's business");
#endif
    for (n = 0; n < 3; n++) {
        rg_status st = gm_ctx(&ctx[n], isa, n + 1);
        if (st != RG_OK) {
            while (n > 0) rg_ctx_destroy(ctx[--n]);
            if (strcmp(isa, "portable") == 0) FAILm(rg_last_error());
            SKIPm(rg_last_error());
        }
    }
    for (i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        const gm_case *t = &cases[i];
        gm_data d[3];
        size_t bytes = (size_t)(t->M * t->ldc) * sizeof(rg_real);
        int same = 1, ok = 1;
        for (n = 0; n < 3; n++) ok &= gm_alloc(t, &d[n], 77);
        for (n = 0; n < 3 && ok; n++) gm_run(ctx[n], t, &d[n]);
        for (n = 1; n < 3 && ok; n++) same &= memcmp(d[0].C, d[n].C, bytes) == 0;
        for (n = 0; n < 3; n++) {
            ok &= rg_ctx_take_status(ctx[n]) == RG_OK;
            gm_free(&d[n]);
        }
        if (!ok || !same) {
            for (n = 0; n < 3; n++) rg_ctx_destroy(ctx[n]);
            snprintf(gm_msg, sizeof gm_msg, "case %d (ta=%d tb=%d %lldx%lldx%lld): %s", i, t->ta, t->tb,
                     (long long)t->M, (long long)t->N, (long long)t->K,
                     ok ? "results differ between 1, 2 and 3 threads" : "allocation or op failed");
            FAILm(gm_msg);
        }
    }
    for (n = 0; n < 3; n++) rg_ctx_destroy(ctx[n]);
    PASS();
}

/* An unknown REVGNN_CPU_ISA fails context creation with a message naming it. */
TEST gemm_bad_isa_name(void) {
#if GM_SETENV && !defined(REVGNN_CBLAS)
    rg_ctx dummy, *ctx = &dummy;
    ASSERT_EQ(RG_ERR_ARG, gm_ctx(&ctx, "sse9", 1));
    ASSERT(ctx == NULL);
    ASSERT(strstr(rg_last_error(), "sse9") != NULL);
    PASS();
#else
    SKIPm("no setenv on this platform, or REVGNN_CBLAS");
#endif
}

SUITE(gemm) {
    int i;
    for (i = 0; i < (int)(sizeof gm_isas / sizeof gm_isas[0]); i++) {
        RUN_TESTp(gemm_matches_oracle, gm_isas[i]);
        RUN_TESTp(gemm_thread_count_invariant, gm_isas[i]);
    }
    RUN_TEST(gemm_empty_products);
    RUN_TEST(gemm_bad_isa_name);
}
