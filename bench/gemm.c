/* GFLOP/s of revgnn's built-in CPU GEMM against OpenBLAS's cblas_sgemm, side by side in one
   run: a 1024^3 square product and the model's tall-skinny products, each as the forward
   y = x W (NN) and the two backward products dW += x^T dy (TN) and dx = dy W^T (NT), with 1
   and 2 threads. The median of RUNS timed calls of each library, taking turns in warmed-up
   blocks (see time_pair); one printed row per config and the same rows as CSV.

     make bench-gemm
     cc -std=c99 -O2 -fopenmp -I. bench/gemm.c -o build/bench_gemm \
        $(pkg-config --cflags --libs openblas) -lm && ./build/bench_gemm gemm.csv

   REVGNN_CPU_ISA=portable|avx2|avx512 picks the built-in micro-kernel (default: the best
   one this CPU runs). */
#define _POSIX_C_SOURCE 200809L
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errno.h>
#include "common.h"

#define RUNS 15 /* a multiple of BLOCK */
#define BLOCK 3
#define PAUSE_S 0.5
#define MAX_THREADS 2

typedef struct shape {
    const char *name;
    int64_t rows, in, out;  /* x (rows, in), W (in, out), y (rows, out) */
} shape;

typedef struct form {
    const char *name;       /* which product of a linear layer */
    int ta, tb;
} form;

/* lets the other library's spinning worker threads go to sleep before timing */
static void pause_s(double s) {
    struct timespec t;
    t.tv_sec = (time_t)s;
    t.tv_nsec = (long)((s - (double)t.tv_sec) * 1e9);
    nanosleep(&t, NULL);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct problem {
    int ta, tb;
    int64_t M, N, K, lda, ldb, ldc;
    float alpha, beta;
    const float *A, *B;
    float *C;
} problem;

static void run_builtin(rg_ctx *ctx, const problem *p) {
    ctx->ops->gemm(ctx, p->ta, p->tb, p->M, p->N, p->K, p->alpha, p->A, p->lda, p->B, p->ldb, p->beta, p->C, p->ldc);
}

static void run_openblas(const problem *p) {
    cblas_sgemm(CblasRowMajor, p->ta ? CblasTrans : CblasNoTrans, p->tb ? CblasTrans : CblasNoTrans, (int)p->M,
                (int)p->N, (int)p->K, p->alpha, p->A, (int)p->lda, p->B, (int)p->ldb, p->beta, p->C, (int)p->ldc);
}

/* One timed call; C is reset first so accumulating products (beta = 1) see the same input. */
static double time_one(rg_ctx *ctx, const problem *p, const float *c0, size_t c_bytes) {
    double t0;
    memcpy(p->C, c0, c_bytes);
    t0 = bench_now_s();
    if (ctx) run_builtin(ctx, p); else run_openblas(p);
    return bench_now_s() - t0;
}

/* RUNS timed calls of each library, in blocks of BLOCK back-to-back calls after an untimed
   one (warm caches and clocks), the libraries taking turns and going first in turn. A pause
   follows each block: OpenBLAS's idle workers spin for about 0.1 s after a call and would
   steal a core from the next block, and a shared machine's slow spells hit both alike.
   Sorted times come back in ours[] and theirs[]. */
static void time_pair(rg_ctx *ctx, problem *p, float *c_ours, float *c_theirs, const float *c0, size_t c_bytes,
                      double *ours, double *theirs) {
    int round, side, r;
    for (round = 0; round < RUNS / BLOCK; round++) {
        for (side = 0; side < 2; side++) {
            int builtin = (side + round) % 2 == 0;
            rg_ctx *who = builtin ? ctx : NULL;
            double *times = builtin ? ours : theirs;
            p->C = builtin ? c_ours : c_theirs;
            time_one(who, p, c0, c_bytes);
            for (r = 0; r < BLOCK; r++) times[round * BLOCK + r] = time_one(who, p, c0, c_bytes);
            pause_s(PAUSE_S);
        }
    }
    qsort(ours, RUNS, sizeof ours[0], cmp_double);
    qsort(theirs, RUNS, sizeof theirs[0], cmp_double);
}

static float *random_floats(size_t n, uint64_t stream) {
    float *x = (float *)malloc(n * sizeof(float) + 1);
    size_t i;
    if (!x) return NULL;
    for (i = 0; i < n; i++) x[i] = (float)(2.0 * rg_rng_uniform(7, stream, i) - 1.0);
    return x;
}

/* "model name" from /proc/cpuinfo (what lscpu prints) and the number of processors */
static void machine(char *model, size_t size, int *cpus) {
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(model, size, "unknown");
    *cpus = 0;
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        if (strncmp(line, "processor", 9) == 0) (*cpus)++;
        if (strncmp(line, "model name", 10) == 0 && *cpus == 1) {
            snprintf(model, size, "%s", colon + 2);
            model[strcspn(model, "\n")] = '\0';
        }
    }
    fclose(f);
}

/* the first three fields of /proc/loadavg: other jobs on the machine show here */
static void load_average(char *out, size_t size) {
    FILE *f = fopen("/proc/loadavg", "r");
    double a = 0, b = 0, c = 0;
    if (f && fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
        snprintf(out, size, "%.2f %.2f %.2f", a, b, c);
    else
        snprintf(out, size, "unknown");
    if (f) fclose(f);
}

int main(int argc, char **argv) {
    static const shape shapes[] = {
        {"square1024", 1024, 1024, 1024},
        {"ts100k_64x64", 100000, 64, 64},
        {"ts100k_80x40", 100000, 80, 40},
    };
    static const form forms[] = {
        {"NN y=xW", 0, 0},
        {"TN dW+=x^Tdy", 1, 0},
        {"NT dx=dyW^T", 0, 1},
    };
    const char *csv_path = argc > 1 ? argv[1] : NULL, *coretype = getenv("OPENBLAS_CORETYPE");
    const char *wait = getenv("OMP_WAIT_POLICY");
    FILE *csv = NULL;
    char model[256], date[64], load[64];
    int cpus, s, f, t, a;
    time_t tt = time(NULL);
    machine(model, sizeof model, &cpus);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime(&tt));
    if (csv_path) {
        csv = fopen(csv_path, "w");
        if (!csv) {
            fprintf(stderr, "bench_gemm: cannot write %s\n", csv_path);
            return 1;
        }
        fprintf(csv, "# revgnn built-in GEMM vs OpenBLAS cblas_sgemm, float; %d timed calls of each, in turns of %d "
                     "after a warm-up call; times in ms (median, min), GFLOP/s and ratio (OpenBLAS time / ours) "
                     "from the medians\n", RUNS, BLOCK);
        load_average(load, sizeof load);
        fprintf(csv, "# machine: %s, %d cores; load average at start %s\n# date: %s\n", model, cpus, load, date);
        fprintf(csv, "# openblas: %s, core %s (OPENBLAS_CORETYPE=%s); OMP_WAIT_POLICY=%s\n# command:",
                openblas_get_config(), openblas_get_corename(), coretype ? coretype : "", wait ? wait : "");
        for (a = 0; a < argc; a++) fprintf(csv, " %s", argv[a]);
        fprintf(csv, "\nshape,form,ta,tb,M,N,K,threads,kernel,builtin_ms,builtin_min_ms,builtin_gflops,openblas_ms,"
                     "openblas_min_ms,openblas_gflops,ratio,max_rel_diff\n");
    }
    printf("machine: %s, %d cores; %s; OpenBLAS core %s\n", model, cpus, date, openblas_get_corename());
    printf("%-13s %-12s %6s %5s %6s %2s %7s %8s %8s %8s %8s %6s %8s\n", "shape", "form", "M", "N", "K", "th", "kernel",
           "ours ms", "GFLOP/s", "oblas ms", "GFLOP/s", "ratio", "rel diff");
    for (s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++) {
        const shape *sh = &shapes[s];
        size_t c_max = (size_t)(sh->rows * (sh->in > sh->out ? sh->in : sh->out)); /* the largest C */
        float *x = random_floats((size_t)(sh->rows * sh->in), 1), *w = random_floats((size_t)(sh->in * sh->out), 2);
        float *dy = random_floats((size_t)(sh->rows * sh->out), 3), *c0 = random_floats(c_max, 4);
        float *c = (float *)malloc(c_max * sizeof(float) + 1), *ref = (float *)malloc(c_max * sizeof(float) + 1);
        if (!x || !w || !dy || !c0 || !c || !ref) {
            fprintf(stderr, "bench_gemm: out of memory\n");
            return 1;
        }
        for (f = 0; f < (int)(sizeof forms / sizeof forms[0]); f++) {
            problem p;
            size_t c_bytes;
            p.ta = forms[f].ta;
            p.tb = forms[f].tb;
            p.alpha = 1;
            if (!p.ta && !p.tb) { /* y (rows, out) = x (rows, in) W (in, out) */
                p.M = sh->rows; p.N = sh->out; p.K = sh->in;
                p.A = x; p.lda = sh->in; p.B = w; p.ldb = sh->out; p.beta = 0;
            } else if (p.ta) {    /* dW (in, out) += x^T dy (rows, out) */
                p.M = sh->in; p.N = sh->out; p.K = sh->rows;
                p.A = x; p.lda = sh->in; p.B = dy; p.ldb = sh->out; p.beta = 1;
            } else {              /* dx (rows, in) = dy (rows, out) W^T */
                p.M = sh->rows; p.N = sh->in; p.K = sh->out;
                p.A = dy; p.lda = sh->out; p.B = w; p.ldb = sh->out; p.beta = 0;
            }
            p.ldc = p.N;
            c_bytes = (size_t)(p.M * p.N) * sizeof(float);
            for (t = 1; t <= MAX_THREADS; t++) {
                rg_ctx *ctx;
                double ours[RUNS], theirs[RUNS], gflop = 2.0 * (double)p.M * (double)p.N * (double)p.K * 1e-9;
                double diff = 0, scale = 0, mo, mt;
                const char *isa;
                int64_t i;
                if (rg_ctx_create_cpu(&ctx, t, 1) != RG_OK) {
                    fprintf(stderr, "bench_gemm: %s\n", rg_last_error());
                    return 1;
                }
                isa = ((rg__cpu_state *)ctx->backend)->gemm->isa; /* this file holds the implementation */
                openblas_set_num_threads(t);
                time_pair(ctx, &p, c, ref, c0, c_bytes, ours, theirs);
                if (rg_ctx_take_status(ctx) != RG_OK) {
                    fprintf(stderr, "bench_gemm: %s\n", rg_last_error());
                    return 1;
                }
                rg_ctx_destroy(ctx);
                for (i = 0; i < p.M * p.N; i++) {
                    double d = fabs((double)c[i] - ref[i]);
                    if (d > diff) diff = d;
                    if (fabs(ref[i]) > scale) scale = fabs(ref[i]);
                }
                diff /= scale > 0 ? scale : 1;
                mo = ours[RUNS / 2];
                mt = theirs[RUNS / 2];
                printf("%-13s %-12s %6lld %5lld %6lld %2d %7s %8.3f %8.1f %8.3f %8.1f %6.2f %8.1e\n", sh->name,
                       forms[f].name, (long long)p.M, (long long)p.N, (long long)p.K, t, isa, mo * 1e3, gflop / mo,
                       mt * 1e3, gflop / mt, mt / mo, diff);
                fflush(stdout);
                if (csv)
                    fprintf(csv, "%s,%s,%d,%d,%lld,%lld,%lld,%d,%s,%.4f,%.4f,%.2f,%.4f,%.4f,%.2f,%.3f,%.2e\n", sh->name,
                            forms[f].name, p.ta, p.tb, (long long)p.M, (long long)p.N, (long long)p.K, t, isa,
                            mo * 1e3, ours[0] * 1e3, gflop / mo, mt * 1e3, theirs[0] * 1e3, gflop / mt, mt / mo, diff);
            }
        }
        free(x); free(w); free(dy); free(c0); free(c); free(ref);
    }
    if (csv) {
        load_average(load, sizeof load);
        fprintf(csv, "# load average at end %s\n", load);
        fclose(csv);
    }
    return 0;
}
