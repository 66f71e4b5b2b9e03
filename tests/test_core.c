/* The core: allocator accounting, tensors, the counter-based RNG, error reporting, the
   context's threads. */
#define _POSIX_C_SOURCE 200809L /* setenv, nanosleep, fork, kill */
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#if defined(__unix__)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "harness.h"
#include "revgnn.h"

static char co_msg[160];

/* ---- allocator ---- */

#define CO_CHECK_MEM(ctx, current, peak, allocs)                 \
    do {                                                         \
        ASSERT_EQ((size_t)(current), rg_mem_current(ctx));       \
        ASSERT_EQ((size_t)(peak), rg_mem_peak(ctx));             \
        ASSERT_EQ((size_t)(allocs), (ctx)->n_allocs);            \
    } while (0)

/* A known sequence of allocations and frees against a hand count of current and peak
   bytes; an empty tensor or a 0-byte rg_alloc holds 1 byte. */
TEST allocator_peak(void) {
    const size_t S = sizeof(rg_real);
    rg_ctx *ctx;
    rg_tensor a, b, c, d, e;
    void *raw;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    CO_CHECK_MEM(ctx, 0, 0, 0);
    ASSERT_EQ(RG_OK, rg_tensor_alloc(ctx, &a, 3, 4));
    CO_CHECK_MEM(ctx, 12 * S, 12 * S, 1);
    ASSERT_EQ(RG_OK, rg_tensor_alloc(ctx, &b, 0, 5));
    CO_CHECK_MEM(ctx, 12 * S + 1, 12 * S + 1, 2);
    ASSERT_EQ(RG_OK, rg_tensor_alloc(ctx, &c, 2, 2));
    CO_CHECK_MEM(ctx, 16 * S + 1, 16 * S + 1, 3);
    rg_tensor_free(ctx, &a);
    ASSERT(a.data == NULL);
    CO_CHECK_MEM(ctx, 4 * S + 1, 16 * S + 1, 2);
    rg_tensor_free(ctx, &a); /* a second free is a no-op */
    CO_CHECK_MEM(ctx, 4 * S + 1, 16 * S + 1, 2);
    ASSERT_EQ(RG_OK, rg_tensor_alloc(ctx, &d, 5, 1));
    CO_CHECK_MEM(ctx, 9 * S + 1, 16 * S + 1, 3);
    rg_mem_reset_peak(ctx);
    CO_CHECK_MEM(ctx, 9 * S + 1, 9 * S + 1, 3);
    ASSERT_EQ(RG_OK, rg_tensor_alloc(ctx, &e, 2, 4));
    CO_CHECK_MEM(ctx, 17 * S + 1, 17 * S + 1, 4);
    raw = rg_alloc(ctx, 0);
    ASSERT(raw != NULL);
    CO_CHECK_MEM(ctx, 17 * S + 2, 17 * S + 2, 5);
    rg_free(ctx, raw, 0);
    rg_tensor_free(ctx, &b);
    rg_tensor_free(ctx, &c);
    rg_tensor_free(ctx, &d);
    rg_tensor_free(ctx, &e);
    CO_CHECK_MEM(ctx, 0, 17 * S + 2, 0);
    rg_ctx_destroy(ctx);
    PASS();
}

TEST tensor_roundtrip(void) {
    rg_ctx *ctx;
    rg_tensor a, b;
    rg_real in[6] = {1, -2, 3.5f, 4, 0.25f, -6}, out[6], filled[6];
    int i;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    ASSERT_EQ(RG_OK, rg_tensor_alloc(ctx, &a, 2, 3));
    ASSERT_EQ(RG_OK, rg_tensor_zeros(ctx, &b, 3, 2));
    ASSERT_EQ(6, (int)rg_tensor_numel(a));
    ASSERT_EQ(RG_OK, rg_tensor_upload(ctx, a, in));
    ASSERT_EQ(RG_OK, rg_tensor_copy(ctx, b, a)); /* same size, another shape */
    ASSERT_EQ(RG_OK, rg_tensor_download(ctx, b, out));
    ASSERT_EQ(RG_OK, rg_tensor_fill(ctx, rg_tensor_view(a.data + 2, 1, 3), 7));
    ASSERT_EQ(RG_OK, rg_tensor_download(ctx, a, filled));
    rg_tensor_free(ctx, &a);
    rg_tensor_free(ctx, &b);
    ASSERT_EQ(0u, (unsigned)ctx->n_allocs);
    ASSERT_EQ(0u, (unsigned)rg_mem_current(ctx));
    rg_ctx_destroy(ctx);
    ASSERT_MEM_EQ(in, out, sizeof in);
    for (i = 0; i < 6; i++) ASSERT_EQ(i >= 2 && i < 5 ? (rg_real)7 : in[i], filled[i]);
    PASS();
}

/* ---- RNG: sample moments within 5 standard errors ---- */

#define CO_DRAWS 100000

TEST rng_uniform(void) {
    double sum = 0, sq = 0, mean, var, se = sqrt(1.0 / 12 / CO_DRAWS);
    int64_t i, out_of_range = 0;
    for (i = 0; i < CO_DRAWS; i++) {
        double u = rg_rng_uniform(42, 3, (uint64_t)i);
        out_of_range += u < 0 || u >= 1;
        sum += u;
        sq += u * u;
    }
    mean = sum / CO_DRAWS;
    var = sq / CO_DRAWS - mean * mean;
    ASSERT_EQ(0, (int)out_of_range);
    ASSERT_IN_RANGE(0.5, mean, 5 * se);
    /* the sample variance has standard error sqrt((mu4 - sigma^4) / n), mu4 = 1/80 */
    ASSERT_IN_RANGE(1.0 / 12, var, 5 * sqrt((1.0 / 80 - 1.0 / 144) / CO_DRAWS));
    PASS();
}

TEST rng_normal(void) {
    double sum = 0, sq = 0, mean, var;
    int64_t i, infinite = 0;
    for (i = 0; i < CO_DRAWS; i++) {
        double z = rg_rng_normal(42, 4, (uint64_t)i);
        infinite += !isfinite(z);
        sum += z;
        sq += z * z;
    }
    mean = sum / CO_DRAWS;
    var = sq / CO_DRAWS - mean * mean;
    ASSERT_EQ(0, (int)infinite);
    ASSERT_IN_RANGE(0.0, mean, 5 / sqrt((double)CO_DRAWS));
    ASSERT_IN_RANGE(1.0, var, 5 * sqrt(2.0 / CO_DRAWS)); /* var of s^2 is 2 sigma^4 / n */
    PASS();
}

TEST rng_dropout_keep_fraction(void) {
    static const double ps[] = {0.1, 0.3, 0.5, 0.9};
    int k;
    int64_t i, kept;
    for (k = 0; k < 4; k++) {
        uint32_t t = rg_dropout_threshold(ps[k]);
        double frac, se = sqrt(ps[k] * (1 - ps[k]) / CO_DRAWS);
        for (kept = 0, i = 0; i < CO_DRAWS; i++) kept += rg_dropout_keep(9, 5, (uint64_t)i, t);
        frac = (double)kept / CO_DRAWS;
        ASSERT_IN_RANGE(1 - ps[k], frac, 5 * se);
    }
    /* p = 0 keeps everything */
    for (kept = 0, i = 0; i < 1000; i++) kept += rg_dropout_keep(9, 5, (uint64_t)i, rg_dropout_threshold(0));
    ASSERT_EQ(1000, (int)kept);
    PASS();
}

TEST rng_counter_based(void) {
    int64_t i, same_stream_differs = 0, other_stream_same = 0, other_seed_same = 0;
    for (i = 0; i < 1000; i++) {
        uint64_t a = rg_rng_u64(1234, 7, (uint64_t)i);
        same_stream_differs += a != rg_rng_u64(1234, 7, (uint64_t)i);
        other_stream_same += a == rg_rng_u64(1234, 8, (uint64_t)i);
        other_seed_same += a == rg_rng_u64(1235, 7, (uint64_t)i);
    }
    ASSERT_EQ(0, (int)same_stream_differs);
    ASSERT_EQ(0, (int)other_stream_same);
    ASSERT_EQ(0, (int)other_seed_same);
    ASSERT_EQ(rg_rng_uniform(1, 2, 3), rg_rng_uniform(1, 2, 3));
    ASSERT_EQ(rg_rng_normal(1, 2, 3), rg_rng_normal(1, 2, 3));
    ASSERT(rg_rng_uniform(1, 2, 3) != rg_rng_uniform(1, 3, 3));
    PASS();
}

/* tensor initialisation: in range, a function of (context seed, stream) */
TEST rng_tensor_init(void) {
    rg_ctx *c1, *c2;
    rg_tensor a, b;
    rg_real ha[200], hb[200];
    int i, in_range = 1, differs = 0;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&c1, 1, 77));
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&c2, 2, 77));
    ASSERT_EQ(RG_OK, rg_tensor_alloc(c1, &a, 10, 20));
    ASSERT_EQ(RG_OK, rg_tensor_alloc(c2, &b, 10, 20));
    ASSERT_EQ(RG_OK, rg_tensor_init_uniform(c1, a, -0.5, 0.25, 3));
    ASSERT_EQ(RG_OK, rg_tensor_init_uniform(c2, b, -0.5, 0.25, 3));
    rg_tensor_download(c1, a, ha);
    rg_tensor_download(c2, b, hb);
    for (i = 0; i < 200; i++) in_range &= ha[i] >= (rg_real)-0.5 && ha[i] <= (rg_real)0.25;
    ASSERT_EQ(RG_OK, rg_tensor_init_uniform(c2, b, -0.5, 0.25, 4));
    ASSERT_MEM_EQm("same seed and stream, different values", ha, hb, sizeof ha);
    rg_tensor_download(c2, b, hb);
    for (i = 0; i < 200; i++) differs += ha[i] != hb[i];
    rg_tensor_free(c1, &a);
    rg_tensor_free(c2, &b);
    rg_ctx_destroy(c1);
    rg_ctx_destroy(c2);
    ASSERT(in_range);
    ASSERT(differs > 190);
    PASS();
}

/* ---- errors ---- */

TEST error_reporting(void) {
    rg_ctx *ctx;
    rg_tensor t;
    ASSERT_STR_EQ("RG_OK", rg_status_name(RG_OK));
    ASSERT_STR_EQ("RG_ERR_ARG", rg_status_name(RG_ERR_ARG));
    ASSERT_STR_EQ("RG_ERR_OOM", rg_status_name(RG_ERR_OOM));
    ASSERT_STR_EQ("RG_ERR_IO", rg_status_name(RG_ERR_IO));
    ASSERT_STR_EQ("RG_ERR_FORMAT", rg_status_name(RG_ERR_FORMAT));
    ASSERT_STR_EQ("RG_ERR_DEVICE", rg_status_name(RG_ERR_DEVICE));
    ASSERT_STR_EQ("RG_ERR_NUMERIC", rg_status_name(RG_ERR_NUMERIC));
    ASSERT_STR_EQ("RG_ERR_UNKNOWN", rg_status_name((rg_status)99));
    ASSERT_EQ(RG_ERR_IO, rg_error_set(RG_ERR_IO, "cannot open %s at line %d", "edges.csv", 12));
    ASSERT_STR_EQ("cannot open edges.csv at line 12", rg_last_error());
    rg_error_clear();
    ASSERT_STR_EQ("", rg_last_error());
    /* the library's own failures say where they were raised */
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    ASSERT_EQ(RG_ERR_ARG, rg_tensor_alloc(ctx, &t, -1, 1));
    rg_ctx_destroy(ctx);
    ASSERT(strstr(rg_last_error(), "rg_tensor_alloc") != NULL);
    ASSERT(strstr(rg_last_error(), " [revgnn.h:") != NULL);
    /* a message too long for the buffer (10 KB) is cut, not overrun */
    {
        static char big[20000];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        rg_error_set(RG_ERR_ARG, "%s", big);
        ASSERT(strlen(rg_last_error()) > 100 && strlen(rg_last_error()) < sizeof big - 1);
    }
    PASS();
}

/* ---- the context's threads ---- */

/* y = 2 x + y on threads threads over n values: each index exactly once (an index done twice
   or never leaves a wrong value), for sizes around and below the chunk counts. */
TEST threads_cover_each_index_once(void) {
    static const int threads[] = {2, 3, 8};
    static const int64_t sizes[] = {1, 2, 7, 31, 32, 33, 1000, 100003};
    size_t t, k;
    for (t = 0; t < sizeof threads / sizeof *threads; t++) {
        rg_ctx *ctx;
        ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, threads[t], 1));
        for (k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            int64_t i, n = sizes[k], bad = -1;
            rg_real *x = (rg_real *)malloc((size_t)n * sizeof(rg_real)), *y = (rg_real *)malloc((size_t)n * sizeof(rg_real));
            ASSERT(x && y);
            for (i = 0; i < n; i++) x[i] = (rg_real)(i % 1000), y[i] = 1;
            ctx->ops->axpby(ctx, n, 2, x, 1, y);
            for (i = 0; i < n && bad < 0; i++)
                if (y[i] != 2 * (rg_real)(i % 1000) + 1) bad = i;
            free(x);
            free(y);
            ASSERT_EQm("an index was skipped or done twice", (int64_t)-1, bad);
        }
        rg_ctx_destroy(ctx);
    }
    PASS();
}

#if defined(_OPENMP) && !defined(REVGNN_NO_OPENMP) && defined(__unix__)
/* Process CPU seconds (all threads) spent while the caller sleeps 50 ms after each of 10 ops
   of a 2-thread context made under OMP_WAIT_POLICY = policy (NULL: unset). */
static double co_idle_cpu_seconds(const char *policy, int *ok) {
    rg_ctx *ctx;
    rg_real v[4096];
    struct timespec nap = {0, 50000000};
    clock_t c0, c1;
    int k;
    if (policy) setenv("OMP_WAIT_POLICY", policy, 1);
    else unsetenv("OMP_WAIT_POLICY");
    *ok = rg_ctx_create_cpu(&ctx, 2, 1) == RG_OK;
    unsetenv("OMP_WAIT_POLICY");
    if (!*ok) return 0;
    ctx->ops->fill(ctx, v, 4096, 1);
    c0 = clock();
    for (k = 0; k < 10; k++) {
        nanosleep(&nap, NULL);
        ctx->ops->fill(ctx, v, 4096, 1);
    }
    c1 = clock();
    ctx->ops->fill(ctx, v, 4096, 2);
    *ok = v[0] == 2 && v[4095] == 2;
    rg_ctx_destroy(ctx);
    return (double)(c1 - c0) / CLOCKS_PER_SEC;
}
#endif

/* Idle threads give the CPU back: by default after a spin of a few ms (a small part of each
   50 ms gap), at once when OMP_WAIT_POLICY is passive (any case); under ACTIVE they spin
   through the gaps (0.5 s). */
TEST threads_idle_wait_policy(void) {
#if defined(_OPENMP) && !defined(REVGNN_NO_OPENMP) && defined(__unix__)
    int ok;
    double unset = co_idle_cpu_seconds(NULL, &ok), active;
    ASSERT(ok);
    active = co_idle_cpu_seconds("active", &ok);
    ASSERT(ok);
    if (GREATEST_IS_VERBOSE()) printf("  idle CPU over 0.5 s of gaps: default %.3f s, active %.3f s\n", unset, active);
    ASSERT_GTm("active: idle threads do not spin", active, 0.25);
    ASSERT_LTm("default: idle threads spin too long", unset, 0.2);
    ASSERT_LTm("passive: idle threads spin", co_idle_cpu_seconds("PASSIVE", &ok), 0.03);
    ASSERT(ok);
    PASS();
#else
    SKIPm("single-threaded build");
#endif
}

/* On a machine with more runnable threads than cores (here: a spinning process per core,
   and one more), the default spin is the short one, so the gaps cost almost no CPU (about
   0.04 s with the long spin on a 2-core Xeon). Linux only: elsewhere nothing tells the pool. */
TEST threads_short_spin_when_crowded(void) {
#if defined(_OPENMP) && !defined(REVGNN_NO_OPENMP) && defined(__linux__)
    long cores = sysconf(_SC_NPROCESSORS_ONLN), k, made = 0;
    pid_t hogs[65], parent = getpid();
    double cpu;
    int ok;
    if (cores < 1 || cores > 64) SKIPm("core count out of this test's range");
    for (k = 0; k < cores + 1; k++) {
        pid_t pid = fork();
        if (pid == 0) { /* spins until killed, or until this test's process is gone */
            while (getppid() == parent) {
            }
            _exit(0);
        }
        if (pid < 0) break;
        hogs[made++] = pid;
    }
    cpu = made == cores + 1 ? co_idle_cpu_seconds(NULL, &ok) : -1;
    for (k = 0; k < made; k++) {
        kill(hogs[k], SIGKILL);
        waitpid(hogs[k], NULL, 0);
    }
    ASSERTm("could not start the spinning processes", cpu >= 0);
    if (GREATEST_IS_VERBOSE()) printf("  idle CPU over 0.5 s of gaps, %ld spinning processes: %.3f s\n", made, cpu);
    ASSERT(ok);
    snprintf(co_msg, sizeof co_msg, "crowded: idle threads spent %.3f s of CPU in 0.5 s of gaps", cpu);
    ASSERT_LTm(co_msg, cpu, 0.01);
    PASS();
#else
    SKIPm("needs Linux's /proc/loadavg and threads");
#endif
}

SUITE(core) {
    RUN_TEST(allocator_peak);
    RUN_TEST(tensor_roundtrip);
    RUN_TEST(rng_uniform);
    RUN_TEST(rng_normal);
    RUN_TEST(rng_dropout_keep_fraction);
    RUN_TEST(rng_counter_based);
    RUN_TEST(rng_tensor_init);
    RUN_TEST(error_reporting);
    RUN_TEST(threads_cover_each_index_once);
    RUN_TEST(threads_idle_wait_policy);
    RUN_TEST(threads_short_spin_when_crowded);
}
