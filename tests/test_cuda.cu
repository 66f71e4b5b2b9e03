/* The CUDA backend against the CPU backend (float, TF32 off):
   - every op of the table on small shapes, edge cases included (beta = 0 on a C of NaN,
     aliasing, empty neighbourhoods, self-loops, bad aggregators, bad row lists): outputs
     within a relative error of 1e-4 (norm-wise per array), exact where the arithmetic is
     exact on both (dropout masks, argmax, errors and their messages);
   - every registered layer case (tests/cases_*.c: layers, convolutions, GENConv, whole
     models of every architecture): loss and gradients within 1e-4;
   - one training step (forward, BCE loss, backward, Adam) of res, res-ckpt, rev, wt-res,
     wt-rev and deq: loss, outputs, gradients and parameters within 1e-4, the same peak
     bytes as the CPU;
   - a second GPU run of everything gives the same bits;
   - the allocator (reuse, counting, out of memory) and device errors.
   Without a CUDA device every GPU test skips ("no CUDA device"). Not part of `make test`
   (CI has no GPU); `make cuda` builds it as build/cuda/test_cuda. */
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
#include "revgnn_cuda.cuh"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "layer_case.h"

#define TC_TOL 1e-4
#define TC_SEED 4242u

static char tc_msg[2048];

static int tc_have_gpu(void) {
    static int n = -1;
    if (n < 0) n = rg_cuda_device_count();
    return n > 0;
}
#define TC_NEED_GPU() do { if (!tc_have_gpu()) SKIPm("no CUDA device"); } while (0)

/* norm-wise relative error ||got - want|| / ||want||; entries NaN in both count as equal,
   NaN in one of them makes it infinite */
static double tc_rel(const double *got, const double *want, int64_t n) {
    double d = 0, s = 0;
    int64_t i;
    for (i = 0; i < n; i++) {
        if (isnan(got[i]) || isnan(want[i])) {
            if (!(isnan(got[i]) && isnan(want[i]))) return INFINITY;
            continue;
        }
        d += (got[i] - want[i]) * (got[i] - want[i]);
        s += want[i] * want[i];
    }
    return d == 0 ? 0 : sqrt(d) / sqrt(s);
}

/* ---- one op on one context ----
   An op function allocates its arrays through the helpers below (inputs drawn from a
   counter RNG by position, so every context gets the same values), then calls the op.
   Arrays marked for comparison are downloaded after it. */

#define OP_MAX 24
enum { OP_IN = 0, OP_TOL, OP_EXACT };

typedef struct op_arr {
    const char *name;
    void *dev;
    size_t bytes;
    int is_real;  /* rg_real values, else int32 */
    int compare;  /* OP_IN, OP_TOL or OP_EXACT */
    void *host;   /* its values after the op */
} op_arr;

typedef struct op_run {
    rg_ctx *ctx;
    op_arr arr[OP_MAX];
    int n;
    rg_graph g;
    double ret;         /* what the op returned (reductions) */
    int has_ret;
    rg_status st;       /* the op's status */
    char error[512];    /* and its message */
    int broken;         /* an allocation or upload of the setup failed */
} op_run;

typedef struct op_case {
    const char *name;
    void (*run)(op_run *r);
    rg_status expect;
} op_case;

static void *op_alloc(op_run *r, const char *name, size_t bytes, int is_real, int compare, const void *host) {
    op_arr *a;
    if (r->broken || r->n == OP_MAX) { r->broken = 1; return NULL; }
    a = &r->arr[r->n++];
    a->name = name;
    a->bytes = bytes;
    a->is_real = is_real;
    a->compare = compare;
    a->dev = rg_alloc(r->ctx, bytes);
    if (!a->dev) { r->broken = 1; return NULL; }
    if (host) {
        r->ctx->ops->copy(r->ctx, a->dev, host, bytes, RG_HOST_TO_DEVICE);
        if (rg_ctx_take_status(r->ctx) != RG_OK) r->broken = 1;
    }
    return a->dev;
}

static rg_real *op_from(op_run *r, const char *name, const rg_real *host, int64_t n, int compare) {
    return (rg_real *)op_alloc(r, name, (size_t)n * sizeof(rg_real), 1, compare, host);
}

/* uniform in [lo, hi) */
static rg_real *op_reals(op_run *r, const char *name, int64_t n, double lo, double hi, int compare) {
    rg_real *h = (rg_real *)malloc((size_t)n * sizeof(rg_real) + 1), *d;
    int64_t i;
    for (i = 0; i < n; i++) h[i] = (rg_real)(lo + (hi - lo) * rg_rng_uniform(TC_SEED, (uint64_t)r->n, (uint64_t)i));
    d = op_from(r, name, h, n, compare);
    free(h);
    return d;
}

static rg_real *op_const(op_run *r, const char *name, int64_t n, double v, int compare) {
    return op_reals(r, name, n, v, v, compare);
}

static int32_t *op_ints(op_run *r, const char *name, const int32_t *host, int64_t n, int compare) {
    return (int32_t *)op_alloc(r, name, (size_t)n * sizeof(int32_t), 0, compare ? OP_EXACT : OP_IN, host);
}

/* lc_graph's graph (node 0 receives nothing, node 1 receives from every other node), with
   self-loops added when asked */
static const rg_graph *op_graph(op_run *r, int64_t n, int64_t edge_dim, int self_loops) {
    rg_graph_options opt = rg_graph_options_default();
    opt.add_self_loops = self_loops;
    if (r->broken || r->g.ctx || lc_graph_opt(r->ctx, &r->g, n, edge_dim, 11, &opt) != RG_OK) r->broken = 1;
    return &r->g;
}

static void op_close(op_run *r) {
    int i;
    for (i = 0; i < r->n; i++) {
        free(r->arr[i].host);
        rg_free(r->ctx, r->arr[i].dev, r->arr[i].bytes);
    }
    if (r->g.ctx) rg_graph_free(r->ctx, &r->g);
    rg_ctx_destroy(r->ctx);
    memset(r, 0, sizeof *r);
}

enum { OP_CPU = 0, OP_CUDA, OP_CUDA_TF32 };

/* opens a context (CPU with one thread, or CUDA device 0, with TF32 or not), runs the op,
   keeps its status, message and compared arrays */
static rg_status op_exec(const op_case *c, int where, op_run *r) {
    int i;
    rg_status st;
    memset(r, 0, sizeof *r);
    st = where == OP_CPU ? rg_ctx_create_cpu(&r->ctx, 1, TC_SEED) : rg_cuda_create(&r->ctx, 0, TC_SEED);
    if (st == RG_OK && where == OP_CUDA_TF32) st = rg_cuda_set_tf32(r->ctx, 1);
    if (st != RG_OK) return st;
    c->run(r);
    if (r->broken) return rg_ctx_take_status(r->ctx) != RG_OK ? RG_ERR_DEVICE : RG_ERR_OOM;
    r->st = rg_ctx_synchronize(r->ctx);
    if (r->st != RG_OK) snprintf(r->error, sizeof r->error, "%.511s", rg_last_error()); /* the start names the fault */
    for (i = 0; i < r->n; i++) {
        op_arr *a = &r->arr[i];
        if (a->compare == OP_IN) continue;
        a->host = malloc(a->bytes + 1);
        r->ctx->ops->copy(r->ctx, a->host, a->dev, a->bytes, RG_DEVICE_TO_HOST);
    }
    return rg_ctx_take_status(r->ctx);
}

static double *op_doubles(const op_arr *a, int64_t *n) {
    int64_t i;
    double *d;
    *n = (int64_t)(a->bytes / (a->is_real ? sizeof(rg_real) : sizeof(int32_t)));
    d = (double *)malloc((size_t)*n * sizeof(double) + 1);
    for (i = 0; i < *n; i++) d[i] = a->is_real ? (double)((const rg_real *)a->host)[i] : (double)((const int32_t *)a->host)[i];
    return d;
}

/* 1 when the GPU runs g1, g2 agree bit for bit and g1 matches the CPU run; else a message */
static int op_compare(const op_case *c, const op_run *cpu, const op_run *g1, const op_run *g2) {
    int i;
    if (cpu->st != c->expect || g1->st != cpu->st || g2->st != cpu->st) {
        snprintf(tc_msg, sizeof tc_msg, "%s: status cpu %s, cuda %s / %s, expected %s (cpu: %.600s | cuda: %.600s)", c->name,
                 rg_status_name(cpu->st), rg_status_name(g1->st), rg_status_name(g2->st), rg_status_name(c->expect),
                 cpu->error, g1->error);
        return 0;
    }
    if (strcmp(cpu->error, g1->error) != 0) {
        snprintf(tc_msg, sizeof tc_msg, "%s: messages differ: cpu '%.600s', cuda '%.600s'", c->name, cpu->error, g1->error);
        return 0;
    }
    if (cpu->has_ret) {
        if (memcmp(&g1->ret, &g2->ret, sizeof(double)) != 0) {
            snprintf(tc_msg, sizeof tc_msg, "%s: two GPU runs returned %.17g and %.17g", c->name, g1->ret, g2->ret);
            return 0;
        }
        if (!(fabs(g1->ret - cpu->ret) <= TC_TOL * fabs(cpu->ret))) {
            snprintf(tc_msg, sizeof tc_msg, "%s: returned %.9g on cuda, %.9g on the cpu", c->name, g1->ret, cpu->ret);
            return 0;
        }
    }
    for (i = 0; i < cpu->n; i++) {
        const op_arr *a = &cpu->arr[i], *b = &g1->arr[i];
        int64_t n, m;
        double *want, *got, rel;
        if (a->compare == OP_IN) continue;
        if (memcmp(b->host, g2->arr[i].host, b->bytes) != 0) {
            snprintf(tc_msg, sizeof tc_msg, "%s: %s differs between two GPU runs", c->name, a->name);
            return 0;
        }
        if (a->compare == OP_EXACT) {
            if (memcmp(a->host, b->host, a->bytes) != 0) {
                snprintf(tc_msg, sizeof tc_msg, "%s: %s is not bitwise the CPU's", c->name, a->name);
                return 0;
            }
            continue;
        }
        want = op_doubles(a, &n);
        got = op_doubles(b, &m);
        rel = tc_rel(got, want, n);
        free(want);
        free(got);
        if (GREATEST_IS_VERBOSE()) printf("  %s.%s: relative error %.2e\n", c->name, a->name, rel);
        if (!(rel <= TC_TOL)) {
            snprintf(tc_msg, sizeof tc_msg, "%s: %s relative error %.3e against the CPU", c->name, a->name, rel);
            return 0;
        }
    }
    return 1;
}

TEST op_parity(const op_case *c) {
    op_run cpu, g1, g2;
    rg_status st;
    int ok;
    TC_NEED_GPU();
    memset(&g1, 0, sizeof g1);
    memset(&g2, 0, sizeof g2);
    st = op_exec(c, OP_CPU, &cpu);
    if (st == RG_OK) st = op_exec(c, OP_CUDA, &g1);
    if (st == RG_OK) st = op_exec(c, OP_CUDA, &g2);
    snprintf(tc_msg, sizeof tc_msg, "%s: setup failed: %s (%.1500s)", c->name, rg_status_name(st), rg_last_error());
    ok = st == RG_OK && op_compare(c, &cpu, &g1, &g2);
    op_close(&cpu);
    op_close(&g1);
    op_close(&g2);
    ASSERTm(tc_msg, ok);
    PASS();
}

/* ---- the ops ---- */

#define OPS(r) ((r)->ctx->ops)
#define OP_READY(r) do { if ((r)->broken) return; } while (0)

/* C (M, N) = 1.25 op(A) op(B) + beta C, every leading dimension padded by 3; with beta = 0
   C starts as NaN (it must not be read), and the padding must stay as it was */
static void op_gemm_shape(op_run *r, int ta, int tb, int64_t M, int64_t N, int64_t K, double beta) {
    const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 3, ldc = N + 3;
    rg_real *A = op_reals(r, "A", (ta ? K : M) * lda, -1, 1, OP_IN);
    rg_real *B = op_reals(r, "B", (tb ? N : K) * ldb, -1, 1, OP_IN);
    rg_real *C = beta == 0 ? op_const(r, "C", M * ldc, NAN, OP_TOL) : op_reals(r, "C", M * ldc, -1, 1, OP_TOL);
    OP_READY(r);
    OPS(r)->gemm(r->ctx, ta, tb, M, N, K, (rg_real)1.25, A, lda, B, ldb, (rg_real)beta, C, ldc);
}
static void op_gemm_nn(op_run *r) { op_gemm_shape(r, 0, 0, 37, 29, 45, 0); }
static void op_gemm_tn(op_run *r) { op_gemm_shape(r, 1, 0, 37, 29, 45, 0.5); }
static void op_gemm_nt(op_run *r) { op_gemm_shape(r, 0, 1, 37, 29, 45, 1); }
static void op_gemm_tt(op_run *r) { op_gemm_shape(r, 1, 1, 37, 29, 45, 0); }
static void op_gemm_large(op_run *r) { op_gemm_shape(r, 0, 1, 300, 257, 513, 0); }
static void op_gemm_k0(op_run *r) { op_gemm_shape(r, 0, 0, 5, 4, 0, 2); }
static void op_gemm_k0_beta0(op_run *r) { op_gemm_shape(r, 1, 0, 5, 4, 0, 0); }

static void op_fill(op_run *r) {
    rg_real *x = op_reals(r, "x", 1001, -1, 1, OP_EXACT);
    OP_READY(r);
    OPS(r)->fill(r->ctx, x, 1001, (rg_real)2.5);
}

/* b = 0 on a y of NaN: y must not be read */
static void op_axpby_b0(op_run *r) {
    rg_real *x = op_reals(r, "x", 1001, -1, 1, OP_IN), *y = op_const(r, "y", 1001, NAN, OP_TOL);
    OP_READY(r);
    OPS(r)->axpby(r->ctx, 1001, (rg_real)1.5, x, 0, y);
}
static void op_axpby(op_run *r) {
    rg_real *x = op_reals(r, "x", 1001, -1, 1, OP_IN), *y = op_reals(r, "y", 1001, -1, 1, OP_TOL);
    OP_READY(r);
    OPS(r)->axpby(r->ctx, 1001, (rg_real)1.5, x, (rg_real)-0.5, y);
}
static void op_axpby_alias(op_run *r) {
    rg_real *x = op_reals(r, "x", 1001, -1, 1, OP_TOL);
    OP_READY(r);
    OPS(r)->axpby(r->ctx, 1001, (rg_real)0.5, x, 0, x);
}

static void op_add_bias(op_run *r) {
    rg_real *y = op_reals(r, "y", 33 * 70, -1, 1, OP_TOL), *b = op_reals(r, "bias", 70, -1, 1, OP_IN);
    OP_READY(r);
    OPS(r)->add_bias(r->ctx, y, b, 33, 70);
}

/* several row chunks per column; out accumulates */
static void op_col_sum(op_run *r) {
    rg_real *out = op_reals(r, "out", 37, -1, 1, OP_TOL), *x = op_reals(r, "x", 3000 * 37, -1, 1, OP_IN);
    OP_READY(r);
    OPS(r)->col_sum(r->ctx, out, x, 3000, 37);
}
static void op_col_sum_one(op_run *r) {
    rg_real *out = op_reals(r, "out", 1, -1, 1, OP_TOL), *x = op_reals(r, "x", 5001, -1, 1, OP_IN);
    OP_READY(r);
    OPS(r)->col_sum(r->ctx, out, x, 5001, 1);
}

/* relu forward, then its backward in place (dx = dy) */
static void op_relu(op_run *r) {
    rg_real *x = op_reals(r, "x", 1001, -1, 1, OP_IN), *y = op_const(r, "y", 1001, NAN, OP_EXACT);
    rg_real *dy = op_reals(r, "dy", 1001, -1, 1, OP_EXACT);
    OP_READY(r);
    OPS(r)->relu_forward(r->ctx, y, x, 1001);
    OPS(r)->relu_backward(r->ctx, dy, dy, x, 1001);
}

/* the masks come from the same hash: bitwise the CPU's */
static void op_dropout(op_run *r) {
    rg_real *x = op_reals(r, "x", 300 * 77, -1, 1, OP_IN), *y = op_const(r, "y", 300 * 77, NAN, OP_EXACT);
    OP_READY(r);
    OPS(r)->dropout(r->ctx, y, x, 300, 77, 0.3, 99, 7);
}

static void op_layernorm(op_run *r) {
    const int64_t R = 50, C = 70;
    rg_real *x = op_reals(r, "x", R * C, -2, 3, OP_IN), *gamma = op_reals(r, "gamma", C, 0.5, 1.5, OP_IN);
    rg_real *beta = op_reals(r, "beta", C, -1, 1, OP_IN), *y = op_const(r, "y", R * C, NAN, OP_TOL);
    rg_real *mean = op_const(r, "mean", R, NAN, OP_TOL), *rstd = op_const(r, "rstd", R, NAN, OP_TOL);
    rg_real *dy = op_reals(r, "dy (= dx)", R * C, -1, 1, OP_TOL);
    rg_real *dgamma = op_reals(r, "dgamma", C, -1, 1, OP_TOL), *dbeta = op_reals(r, "dbeta", C, -1, 1, OP_TOL);
    OP_READY(r);
    OPS(r)->layernorm_forward(r->ctx, y, mean, rstd, x, gamma, beta, R, C, 1e-5);
    OPS(r)->layernorm_backward(r->ctx, dy, dgamma, dbeta, dy, x, mean, rstd, gamma, R, C);
}

static void op_sum_squares(op_run *r) {
    rg_real *x = op_reals(r, "x", 10007, -1, 1, OP_IN);
    OP_READY(r);
    r->ret = OPS(r)->sum_squares(r->ctx, x, 10007);
    r->has_ret = 1;
}

static void op_dot(op_run *r) {
    rg_real *x = op_reals(r, "x", 10007, -1, 1, OP_IN), *y = op_reals(r, "y", 10007, -1, 1, OP_IN);
    OP_READY(r);
    r->ret = OPS(r)->dot(r->ctx, x, y, 10007);
    r->has_ret = 1;
}

/* batch norm forward then backward (dx = dy), batch or running statistics; x far from 0
   exercises the shifted sums */
static void op_batchnorm_shape(op_run *r, int use_batch) {
    const int64_t R = 700, C = 37;
    rg_real *x = op_reals(r, "x", R * C, 5, 7, OP_IN), *gamma = op_reals(r, "gamma", C, 0.5, 1.5, OP_IN);
    rg_real *beta = op_reals(r, "beta", C, -1, 1, OP_IN), *y = op_const(r, "y", R * C, NAN, OP_TOL);
    rg_real *mean = op_const(r, "mean", C, NAN, OP_TOL), *rstd = op_const(r, "rstd", C, NAN, OP_TOL);
    rg_real *rm = op_reals(r, "running_mean", C, -1, 1, OP_TOL), *rv = op_reals(r, "running_var", C, 0.5, 2, OP_TOL);
    rg_real *dy = op_reals(r, "dy (= dx)", R * C, -1, 1, OP_TOL);
    rg_real *dgamma = op_reals(r, "dgamma", C, -1, 1, OP_TOL), *dbeta = op_reals(r, "dbeta", C, -1, 1, OP_TOL);
    OP_READY(r);
    OPS(r)->batchnorm_forward(r->ctx, y, mean, rstd, rm, rv, x, gamma, beta, R, C, 1e-5, 0.1, use_batch);
    OPS(r)->batchnorm_backward(r->ctx, dy, dgamma, dbeta, dy, x, mean, rstd, gamma, R, C, use_batch);
}
static void op_batchnorm_train(op_run *r) { op_batchnorm_shape(r, 1); }
static void op_batchnorm_eval(op_run *r) { op_batchnorm_shape(r, 0); }

/* GEN aggregation forward and backward on lc_graph's 40 nodes (node 0 aggregates nothing,
   node 1 has 38 incoming edges), 45 channels (two passes of a warp's lanes) */
static void op_gen_shape(op_run *r, rg_aggr aggr, int edges, int device_param) {
    const int64_t N = 40, D = 45;
    const rg_graph *g = op_graph(r, N, 0, 0);
    const int64_t E = r->broken ? 1 : g->n_edges;
    const double eps = aggr == RG_AGGR_POWER ? 1e-2 : 1e-7, value = aggr == RG_AGGR_POWER ? 1.7 : 1.3;
    rg_real *x = op_reals(r, "x", N * D, -1, 1, OP_IN), *e = edges ? op_reals(r, "e", E * D, -1, 1, OP_IN) : NULL;
    rg_real *param = device_param ? op_const(r, "param", 1, value, OP_IN) : NULL;
    rg_real *out = op_const(r, "out", N * D, NAN, OP_TOL), *aux = op_const(r, "aux", N * D, NAN, OP_TOL);
    int32_t *zeros = (int32_t *)calloc((size_t)(N * D), sizeof(int32_t));
    int32_t *argmax = op_ints(r, "argmax", zeros, N * D, aggr == RG_AGGR_MAX); /* written by MAX only */
    rg_real *dout = op_reals(r, "dout", N * D, -1, 1, OP_IN), *dx = op_const(r, "dx", N * D, NAN, OP_TOL);
    rg_real *de = op_const(r, "de", E * D, NAN, OP_TOL), *dpart = op_const(r, "dparam_part", N, NAN, OP_TOL);
    free(zeros);
    OP_READY(r);
    OPS(r)->gen_aggregate_forward(r->ctx, out, aux, argmax, x, e, g->rowptr, g->src, N, D, aggr, eps, param, value);
    OPS(r)->gen_aggregate_backward(r->ctx, dx, edges ? de : NULL,
                                   aggr == RG_AGGR_SOFTMAX || aggr == RG_AGGR_POWER ? dpart : NULL, dout, out, aux,
                                   argmax, x, e, g->rowptr, g->dst, g->t_rowptr, g->t_edge, N, D, aggr, eps, param,
                                   value);
}
static void op_gen_sum(op_run *r) { op_gen_shape(r, RG_AGGR_SUM, 1, 0); }
static void op_gen_mean(op_run *r) { op_gen_shape(r, RG_AGGR_MEAN, 1, 0); }
static void op_gen_max(op_run *r) { op_gen_shape(r, RG_AGGR_MAX, 1, 0); }
static void op_gen_max_noedge(op_run *r) { op_gen_shape(r, RG_AGGR_MAX, 0, 0); }
static void op_gen_softmax(op_run *r) { op_gen_shape(r, RG_AGGR_SOFTMAX, 1, 1); }
static void op_gen_softmax_value(op_run *r) { op_gen_shape(r, RG_AGGR_SOFTMAX, 0, 0); }
static void op_gen_power(op_run *r) { op_gen_shape(r, RG_AGGR_POWER, 1, 1); }
static void op_gen_power_value(op_run *r) { op_gen_shape(r, RG_AGGR_POWER, 0, 0); }
static void op_gen_bad(op_run *r) { op_gen_shape(r, RG_AGGR_GCN, 1, 0); }

/* MsgNorm forward and backward; row 0 of agg is zero (below the floor) */
static void op_msgnorm_shape(op_run *r, int scaled) {
    const int64_t R = 40, C = 45;
    rg_real *agg = op_reals(r, "agg", R * C, -1, 1, OP_IN), *x = op_reals(r, "x", R * C, -1, 1, OP_IN);
    rg_real *scale = scaled ? op_const(r, "scale", 1, 0.7, OP_IN) : NULL;
    rg_real *h = op_const(r, "h", R * C, NAN, OP_TOL), *dh = op_reals(r, "dh", R * C, -1, 1, OP_IN);
    rg_real *dagg = op_const(r, "dagg", R * C, NAN, OP_TOL), *dx = op_const(r, "dx", R * C, NAN, OP_TOL);
    rg_real *ds = op_const(r, "dscale_part", R, NAN, OP_TOL);
    OP_READY(r);
    OPS(r)->fill(r->ctx, agg, C, 0);
    OPS(r)->msgnorm_forward(r->ctx, h, agg, x, scale, R, C);
    OPS(r)->msgnorm_backward(r->ctx, dagg, dx, scaled ? ds : NULL, dh, agg, x, scale, R, C);
}
static void op_msgnorm(op_run *r) { op_msgnorm_shape(r, 1); }
static void op_msgnorm_unscaled(op_run *r) { op_msgnorm_shape(r, 0); }

/* BCE with a mask per entry (mask_cols = cols), per row (1) or none (0) */
static void op_bce_shape(op_run *r, int mask_cols, int alias) {
    const int64_t R = 300, C = 13;
    rg_real *mh = (rg_real *)malloc((size_t)(R * C) * sizeof(rg_real)), *th = (rg_real *)malloc((size_t)(R * C) * sizeof(rg_real));
    rg_real *x = op_reals(r, "logits", R * C, -6, 6, alias ? OP_TOL : OP_IN), *t, *m = NULL, *d;
    int64_t i;
    for (i = 0; i < R * C; i++) {
        mh[i] = (rg_real)(rg_rng_u64(TC_SEED, 50, (uint64_t)i) % 3 != 0);
        th[i] = (rg_real)(rg_rng_u64(TC_SEED, 51, (uint64_t)i) % 2);
    }
    t = op_from(r, "targets", th, R * C, OP_IN);
    if (mask_cols) m = op_from(r, "mask", mh, R * mask_cols, OP_IN);
    d = alias ? x : op_const(r, "dlogits", R * C, NAN, OP_TOL);
    free(mh);
    free(th);
    OP_READY(r);
    r->ret = OPS(r)->bce_logits(r->ctx, d, x, t, m, R, C, mask_cols ? mask_cols : C, 1.0 / 1000);
    r->has_ret = 1;
}
static void op_bce(op_run *r) { op_bce_shape(r, 0, 0); }
static void op_bce_entry_mask(op_run *r) { op_bce_shape(r, 13, 0); }
static void op_bce_row_mask_alias(op_run *r) { op_bce_shape(r, 1, 1); }

/* softmax cross-entropy over 70 rows of 9 classes: all rows, a row list, and bad lists
   (bad = 1: an id out of range, 2: a label out of range, 3: a repeated id) */
static void op_xent_shape(op_run *r, int listed, int bad) {
    const int64_t R = 70, C = 9;
    int32_t labels[70], rows[25];
    int64_t i, n = listed ? 25 : R;
    rg_real *x, *d;
    int32_t *dl, *dr = NULL;
    for (i = 0; i < R; i++) labels[i] = (int32_t)(rg_rng_u64(TC_SEED, 60, (uint64_t)i) % (uint64_t)C);
    for (i = 0; i < 25; i++) rows[i] = (int32_t)((i * 37 + 5) % R); /* distinct, unsorted */
    if (bad == 1) rows[17] = (int32_t)R;
    if (bad == 2) labels[rows[9]] = (int32_t)C;
    if (bad == 3) rows[20] = rows[3];
    x = op_reals(r, "logits", R * C, -4, 4, OP_IN);
    d = op_reals(r, "dlogits", R * C, -1, 1, OP_TOL); /* must stay untouched on a bad id or label */
    dl = op_ints(r, "labels", labels, R, 0);
    if (listed) dr = op_ints(r, "rows", rows, 25, 0);
    OP_READY(r);
    r->ret = OPS(r)->softmax_xent(r->ctx, d, x, dl, dr, n, R, C, 1.0 / (double)n);
    r->has_ret = 1;
}
static void op_xent(op_run *r) { op_xent_shape(r, 0, 0); }
static void op_xent_rows(op_run *r) { op_xent_shape(r, 1, 0); }
static void op_xent_bad_row(op_run *r) { op_xent_shape(r, 1, 1); }
static void op_xent_bad_label(op_run *r) { op_xent_shape(r, 1, 2); }
static void op_xent_repeat(op_run *r) { op_xent_shape(r, 1, 3); }
static void op_xent_bad_label_all(op_run *r) { op_xent_shape(r, 0, 2); }

static void op_adam_shape(op_run *r, int decoupled) {
    rg_real *p = op_reals(r, "params", 1001, -1, 1, OP_TOL), *g = op_reals(r, "grads", 1001, -1, 1, OP_IN);
    rg_real *m = op_reals(r, "m", 1001, -0.1, 0.1, OP_TOL), *v = op_reals(r, "v", 1001, 0, 0.01, OP_TOL);
    OP_READY(r);
    OPS(r)->adam(r->ctx, p, g, m, v, 1001, 1e-2, 0.9, 0.999, 1e-8, 0.01, decoupled, 3);
}
static void op_adam(op_run *r) { op_adam_shape(r, 0); }
static void op_adamw(op_run *r) { op_adam_shape(r, 1); }

/* A x and A^T x with self-loops in the graph (GCN skips them, adds its own) */
static void op_spmm_shape(op_run *r, rg_aggr aggr) {
    const int64_t N = 40, D = 45;
    const rg_graph *g = op_graph(r, N, 0, 1);
    rg_real *x = op_reals(r, "x", N * D, -1, 1, OP_IN), *y = op_const(r, "A x", N * D, NAN, OP_TOL);
    rg_real *yt = op_const(r, "A^T x", N * D, NAN, OP_TOL);
    OP_READY(r);
    OPS(r)->spmm(r->ctx, y, x, N, D, aggr, g->rowptr, g->src, g->inv_deg, g->gcn_dinv);
    OPS(r)->spmm_t(r->ctx, yt, x, N, D, aggr, g->t_rowptr, g->t_edge, g->dst, g->inv_deg, g->gcn_dinv);
}
static void op_spmm_sum(op_run *r) { op_spmm_shape(r, RG_AGGR_SUM); }
static void op_spmm_mean(op_run *r) { op_spmm_shape(r, RG_AGGR_MEAN); }
static void op_spmm_gcn(op_run *r) { op_spmm_shape(r, RG_AGGR_GCN); }
static void op_spmm_bad(op_run *r) { op_spmm_shape(r, RG_AGGR_MAX); }

/* every GAT op in the order the layer runs them: 3 heads of 37 channels */
static void op_gat_shape(op_run *r, int concat) {
    const int64_t N = 40, H = 3, F = 37, HF = H * F, out = concat ? HF : F;
    const rg_graph *g = op_graph(r, N, 0, 1);
    rg_real *h = op_reals(r, "h", N * HF, -1, 1, OP_IN), *as = op_reals(r, "att_src", HF, -0.3, 0.3, OP_IN);
    rg_real *ad = op_reals(r, "att_dst", HF, -0.3, 0.3, OP_IN);
    rg_real *ss = op_const(r, "s_src", N * H, NAN, OP_TOL), *sd = op_const(r, "s_dst", N * H, NAN, OP_TOL);
    rg_real *y = op_const(r, "y", N * out, NAN, OP_TOL), *agg = op_const(r, "agg", N * HF, NAN, OP_TOL);
    rg_real *lse = op_const(r, "lse", N * H, NAN, OP_TOL), *dy = op_reals(r, "dy", N * out, -1, 1, OP_IN);
    rg_real *dsd = op_const(r, "ds_dst", N * H, NAN, OP_TOL), *dd = op_const(r, "dd", N * H, NAN, OP_TOL);
    rg_real *dh = op_const(r, "dh", N * HF, NAN, OP_TOL), *dss = op_const(r, "ds_src", N * H, NAN, OP_TOL);
    rg_real *das = op_reals(r, "datt_src", HF, -1, 1, OP_TOL), *dad = op_reals(r, "datt_dst", HF, -1, 1, OP_TOL);
    OP_READY(r);
    OPS(r)->gat_scores(r->ctx, ss, sd, h, as, ad, N, H, F);
    OPS(r)->gat_aggregate(r->ctx, y, agg, lse, h, ss, sd, g->rowptr, g->src, N, H, F, concat);
    OPS(r)->gat_backward_dst(r->ctx, dsd, dd, dy, h, agg, ss, sd, lse, g->rowptr, g->src, N, H, F, concat);
    OPS(r)->gat_backward_src(r->ctx, dh, dss, dy, h, ss, sd, lse, dd, dsd, as, ad, g->t_rowptr, g->t_edge, g->dst, N,
                             H, F, concat);
    OPS(r)->gat_att_grad(r->ctx, das, dad, dss, dsd, h, N, H, F);
}
static void op_gat_concat(op_run *r) { op_gat_shape(r, 1); }
static void op_gat_mean(op_run *r) { op_gat_shape(r, 0); }

/* node-major to group-major and back */
static void op_regroup(op_run *r) {
    const int64_t G = 3, N = 50, W = 7;
    rg_real *nm = op_reals(r, "node-major", G * N * W, -1, 1, OP_IN);
    rg_real *gm = op_const(r, "group-major", G * N * W, NAN, OP_EXACT), *back = op_const(r, "back", G * N * W, NAN, OP_EXACT);
    OP_READY(r);
    OPS(r)->regroup(r->ctx, gm, nm, G, N, W, 1);
    OPS(r)->regroup(r->ctx, back, gm, G, N, W, 0);
}

static const op_case op_cases[] = {
    {"gemm_nn_beta0", op_gemm_nn, RG_OK},
    {"gemm_tn", op_gemm_tn, RG_OK},
    {"gemm_nt", op_gemm_nt, RG_OK},
    {"gemm_tt_beta0", op_gemm_tt, RG_OK},
    {"gemm_large", op_gemm_large, RG_OK},
    {"gemm_k0", op_gemm_k0, RG_OK},
    {"gemm_k0_beta0", op_gemm_k0_beta0, RG_OK},
    {"fill", op_fill, RG_OK},
    {"axpby_b0", op_axpby_b0, RG_OK},
    {"axpby", op_axpby, RG_OK},
    {"axpby_alias", op_axpby_alias, RG_OK},
    {"add_bias", op_add_bias, RG_OK},
    {"col_sum", op_col_sum, RG_OK},
    {"col_sum_one_column", op_col_sum_one, RG_OK},
    {"relu", op_relu, RG_OK},
    {"dropout", op_dropout, RG_OK},
    {"layernorm", op_layernorm, RG_OK},
    {"sum_squares", op_sum_squares, RG_OK},
    {"dot", op_dot, RG_OK},
    {"batchnorm_train", op_batchnorm_train, RG_OK},
    {"batchnorm_eval", op_batchnorm_eval, RG_OK},
    {"gen_sum", op_gen_sum, RG_OK},
    {"gen_mean", op_gen_mean, RG_OK},
    {"gen_max", op_gen_max, RG_OK},
    {"gen_max_no_edges", op_gen_max_noedge, RG_OK},
    {"gen_softmax", op_gen_softmax, RG_OK},
    {"gen_softmax_value", op_gen_softmax_value, RG_OK},
    {"gen_power", op_gen_power, RG_OK},
    {"gen_power_value", op_gen_power_value, RG_OK},
    {"gen_bad_aggregator", op_gen_bad, RG_ERR_ARG},
    {"msgnorm", op_msgnorm, RG_OK},
    {"msgnorm_unscaled", op_msgnorm_unscaled, RG_OK},
    {"bce", op_bce, RG_OK},
    {"bce_entry_mask", op_bce_entry_mask, RG_OK},
    {"bce_row_mask_in_place", op_bce_row_mask_alias, RG_OK},
    {"xent", op_xent, RG_OK},
    {"xent_rows", op_xent_rows, RG_OK},
    {"xent_bad_row", op_xent_bad_row, RG_ERR_ARG},
    {"xent_bad_label", op_xent_bad_label, RG_ERR_ARG},
    {"xent_bad_label_all_rows", op_xent_bad_label_all, RG_ERR_ARG},
    {"xent_repeated_row", op_xent_repeat, RG_ERR_ARG},
    {"adam", op_adam, RG_OK},
    {"adamw", op_adamw, RG_OK},
    {"spmm_sum", op_spmm_sum, RG_OK},
    {"spmm_mean", op_spmm_mean, RG_OK},
    {"spmm_gcn", op_spmm_gcn, RG_OK},
    {"spmm_bad_aggregator", op_spmm_bad, RG_ERR_ARG},
    {"gat_concat", op_gat_concat, RG_OK},
    {"gat_mean", op_gat_mean, RG_OK},
    {"regroup", op_regroup, RG_OK},
    {NULL, NULL, RG_OK},
};

SUITE(cuda_ops) {
    int i;
    for (i = 0; op_cases[i].name; i++) {
        if (GREATEST_IS_VERBOSE()) printf("op %s\n", op_cases[i].name);
        RUN_TEST1(op_parity, &op_cases[i]);
    }
}

/* ---- every layer case (layers, convolutions, GENConv, whole models) ---- */

TEST case_parity(const layer_case *c) {
    double *cpu = NULL, *g1 = NULL, *g2 = NULL, rel = 0;
    int64_t n0 = 0, n1 = 0, n2 = 0;
    int same = 0;
    rg_status st;
    TC_NEED_GPU();
    st = lc_case_results(c, rg_ctx_create_cpu, 1, &cpu, &n0);
    if (st == RG_OK) st = lc_case_results(c, rg_cuda_create, 0, &g1, &n1);
    if (st == RG_OK) st = lc_case_results(c, rg_cuda_create, 0, &g2, &n2);
    snprintf(tc_msg, sizeof tc_msg, "%s: %.1500s", c->name, rg_last_error());
    if (st == RG_OK && n0 == n1 && n1 == n2) {
        same = memcmp(g1, g2, (size_t)n1 * sizeof(double)) == 0;
        rel = tc_rel(g1, cpu, n0);
        if (!same) snprintf(tc_msg, sizeof tc_msg, "%s: two GPU runs differ", c->name);
        else snprintf(tc_msg, sizeof tc_msg, "%s: loss and gradients: relative error %.3e against the CPU", c->name, rel);
    }
    free(cpu);
    free(g1);
    free(g2);
    ASSERTm(tc_msg, st == RG_OK);
    ASSERT_EQm("value counts differ", n0, n1);
    ASSERTm(tc_msg, same);
    ASSERTm(tc_msg, rel <= TC_TOL);
    PASS();
}

static void tc_run_cases(const layer_case *cases) {
    int i;
    for (i = 0; cases[i].name; i++) RUN_TEST1(case_parity, &cases[i]);
}

SUITE(cuda_cases) {
    tc_run_cases(lc_cases_basic);
    tc_run_cases(lc_cases_convs);
    tc_run_cases(lc_cases_gen);
    tc_run_cases(lc_cases_models);
}

/* ---- one training step of each architecture ---- */

#define TS_NODES 60
#define TS_DEG 4

/* loss, outputs, gradients, parameters after Adam and buffers, as doubles, and the peak */
typedef struct ts_result {
    double *v;
    int64_t n;
    int64_t n_out, n_grad; /* where the parts start: loss at 0, out at 1, grads, params, buffers */
    size_t peak;
} ts_result;

static rg_status ts_append(rg_ctx *ctx, ts_result *res, rg_tensor t) {
    int64_t i, n = rg_tensor_numel(t);
    rg_real *h = (rg_real *)malloc((size_t)n * sizeof(rg_real) + 1);
    rg_status st;
    if (!h) return RG_ERR_OOM;
    st = rg_tensor_download(ctx, t, h);
    for (i = 0; st == RG_OK && i < n; i++) res->v[res->n++] = h[i];
    free(h);
    return st;
}

static rg_config ts_config(rg_arch arch) {
    rg_config c = rg_config_default();
    c.arch = arch;
    c.layers = 4;
    c.hidden = 16;
    c.groups = arch == RG_ARCH_REV || arch == RG_ARCH_WT_REV ? 2 : 1;
    c.in_dim = 8;
    c.out_dim = 5;
    c.edge_dim = 3;
    c.dropout = 0.1;
    c.seed = 17;
    c.deq_max_iter = 6;
    c.deq_tol = 1e-30; /* never reached: both backends run every iteration */
    return c;
}

/* a graph of TS_NODES nodes with TS_DEG random sources each and 3-wide edge features */
static rg_status ts_graph(rg_ctx *ctx, rg_graph *dev) {
    int32_t src[TS_NODES * TS_DEG], dst[TS_NODES * TS_DEG];
    rg_real feat[TS_NODES * TS_DEG * 3];
    rg_graph host;
    rg_status st;
    int64_t k;
    for (k = 0; k < TS_NODES * TS_DEG; k++) {
        src[k] = (int32_t)(rg_rng_u64(TC_SEED, 70, (uint64_t)k) % TS_NODES);
        dst[k] = (int32_t)(k / TS_DEG);
    }
    for (k = 0; k < TS_NODES * TS_DEG * 3; k++) feat[k] = (rg_real)(2 * rg_rng_uniform(TC_SEED, 71, (uint64_t)k) - 1);
    st = rg_graph_from_coo(&host, TS_NODES, TS_NODES * TS_DEG, src, dst, feat, 3, NULL);
    if (st != RG_OK) return st;
    st = rg_graph_to_device(ctx, &host, dev);
    rg_graph_free(NULL, &host);
    return st;
}

/* forward (TRAIN), BCE on the even rows, zero_grad, backward, one Adam step */
static rg_status ts_step(rg_arch arch, int cuda, ts_result *res) {
    rg_config cfg = ts_config(arch);
    rg_ctx *ctx = NULL;
    rg_model *m = NULL;
    rg_graph g;
    rg_tensor x, y, mask, out, dout;
    rg_real yh[TS_NODES * 5], mh[TS_NODES];
    rg_adam adam = rg_adam_default(1e-3);
    double loss = 0;
    int64_t i;
    rg_status st;
    memset(&g, 0, sizeof g);
    memset(res, 0, sizeof *res);
    x.data = y.data = mask.data = out.data = dout.data = NULL;
    x.rows = y.rows = mask.rows = out.rows = dout.rows = 0;
    x.cols = y.cols = mask.cols = out.cols = dout.cols = 0;
    for (i = 0; i < TS_NODES * 5; i++) yh[i] = (rg_real)(rg_rng_u64(TC_SEED, 72, (uint64_t)i) % 2);
    for (i = 0; i < TS_NODES; i++) mh[i] = (rg_real)(i % 2 == 0);
    st = cuda ? rg_cuda_create(&ctx, 0, TC_SEED) : rg_ctx_create_cpu(&ctx, 1, TC_SEED);
    if (st == RG_OK) st = ts_graph(ctx, &g);
    if (st == RG_OK) st = lc_random(ctx, &x, TS_NODES, cfg.in_dim, -1, 1, 73);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &y, TS_NODES, cfg.out_dim);
    if (st == RG_OK) st = rg_tensor_upload(ctx, y, yh);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &mask, TS_NODES, 1);
    if (st == RG_OK) st = rg_tensor_upload(ctx, mask, mh);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &out, TS_NODES, cfg.out_dim);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &dout, TS_NODES, cfg.out_dim);
    if (st == RG_OK) st = rg_model_create(ctx, &cfg, &m);
    if (st == RG_OK) st = rg_model_forward(m, out, &g, x, RG_MODE_TRAIN, 77);
    if (st == RG_OK) st = rg_bce_logits(ctx, &loss, dout, out, y, mask);
    if (st == RG_OK) st = rg_model_zero_grad(m);
    if (st == RG_OK) st = rg_model_backward(m, rg_tensor_view(NULL, 0, 0), dout);
    if (st == RG_OK) {
        /* gradients before the step; the step itself is part of the comparison */
        int64_t np = rg_model_num_params(m), nb = rg_tensor_numel(rg_model_buffer_block(m));
        res->v = (double *)malloc((size_t)(1 + TS_NODES * cfg.out_dim + 2 * np + nb) * sizeof(double));
        if (!res->v) st = RG_ERR_OOM;
        if (st == RG_OK) {
            res->v[res->n++] = loss;
            res->n_out = res->n;
            st = ts_append(ctx, res, out);
        }
        res->n_grad = res->n;
        if (st == RG_OK) st = ts_append(ctx, res, rg_model_grad_block(m));
        if (st == RG_OK) st = rg_model_adam_step(m, &adam);
        if (st == RG_OK) st = ts_append(ctx, res, rg_model_param_block(m));
        if (st == RG_OK && nb > 0) st = ts_append(ctx, res, rg_model_buffer_block(m));
        res->peak = rg_mem_peak(ctx);
    }
    if (st != RG_OK) snprintf(tc_msg, sizeof tc_msg, "%s on %s: %.1500s", rg_arch_name(arch), cuda ? "cuda" : "cpu",
                              rg_last_error());
    rg_model_destroy(m);
    rg_tensor_free(ctx, &x);
    rg_tensor_free(ctx, &y);
    rg_tensor_free(ctx, &mask);
    rg_tensor_free(ctx, &out);
    rg_tensor_free(ctx, &dout);
    if (g.ctx) rg_graph_free(ctx, &g);
    rg_ctx_destroy(ctx);
    return st;
}

TEST train_step_parity(const rg_arch *arch) {
    ts_result cpu, g1, g2;
    rg_status st;
    int ok = 0;
    TC_NEED_GPU();
    memset(&cpu, 0, sizeof cpu);
    memset(&g1, 0, sizeof g1);
    memset(&g2, 0, sizeof g2);
    st = ts_step(*arch, 0, &cpu);
    if (st == RG_OK) st = ts_step(*arch, 1, &g1);
    if (st == RG_OK) st = ts_step(*arch, 1, &g2);
    if (st == RG_OK) {
        double rel_loss = tc_rel(g1.v, cpu.v, 1), rel_out = tc_rel(g1.v + g1.n_out, cpu.v + cpu.n_out, g1.n_grad - 1);
        double rel_rest = tc_rel(g1.v + g1.n_grad, cpu.v + cpu.n_grad, g1.n - g1.n_grad);
        if (g1.n != cpu.n || g2.n != g1.n)
            snprintf(tc_msg, sizeof tc_msg, "%s: value counts differ", rg_arch_name(*arch));
        else if (memcmp(g1.v, g2.v, (size_t)g1.n * sizeof(double)) != 0)
            snprintf(tc_msg, sizeof tc_msg, "%s: two GPU training steps differ", rg_arch_name(*arch));
        else if (g1.peak != cpu.peak)
            snprintf(tc_msg, sizeof tc_msg, "%s: peak %zu bytes on cuda, %zu on the cpu", rg_arch_name(*arch), g1.peak,
                     cpu.peak);
        else if (!(rel_loss <= TC_TOL && rel_out <= TC_TOL && rel_rest <= TC_TOL))
            snprintf(tc_msg, sizeof tc_msg,
                     "%s: relative error against the CPU: loss %.3e, outputs %.3e, gradients + parameters %.3e",
                     rg_arch_name(*arch), rel_loss, rel_out, rel_rest);
        else
            ok = 1;
    }
    free(cpu.v);
    free(g1.v);
    free(g2.v);
    ASSERTm(tc_msg, st == RG_OK && ok);
    PASS();
}

SUITE(cuda_train) {
    static const rg_arch archs[] = {RG_ARCH_RES, RG_ARCH_RES_CKPT, RG_ARCH_REV, RG_ARCH_WT_RES, RG_ARCH_WT_REV, RG_ARCH_DEQ};
    int i;
    for (i = 0; i < 6; i++) RUN_TEST1(train_step_parity, &archs[i]);
}

/* ---- the context: allocator, copies, errors ---- */

/* a freed block serves the next request of about its size; the statistics count the bytes
   asked for, not the pool's */
TEST pool_reuses_and_counts(void) {
    rg_ctx *ctx;
    void *p, *q, *big;
    TC_NEED_GPU();
    ASSERT_EQm(rg_last_error(), RG_OK, rg_cuda_create(&ctx, 0, 1));
    p = rg_alloc(ctx, 1000);
    ASSERT(p != NULL);
    ASSERT_EQ((size_t)1000, rg_mem_current(ctx));
    rg_free(ctx, p, 1000);
    q = rg_alloc(ctx, 900);
    big = rg_alloc(ctx, 5000);
    ASSERT_EQ(p, q);
    ASSERT(big != NULL && big != p);
    ASSERT_EQ((size_t)5900, rg_mem_current(ctx));
    ASSERT_EQ((size_t)5900, rg_mem_peak(ctx));
    rg_free(ctx, q, 900);
    rg_free(ctx, big, 5000);
    ASSERT_EQ((size_t)0, rg_mem_current(ctx));
    ASSERT_EQ((size_t)0, ctx->n_allocs);
    rg_ctx_destroy(ctx);
    PASS();
}

/* upload, device-to-device copy, download */
TEST copies_round_trip(void) {
    rg_ctx *ctx;
    rg_tensor a, b;
    rg_real in[257], out[257];
    int i;
    TC_NEED_GPU();
    for (i = 0; i < 257; i++) in[i] = (rg_real)(i * 0.5 - 3);
    ASSERT_EQm(rg_last_error(), RG_OK, rg_cuda_create(&ctx, 0, 1));
    ASSERT_EQ(RG_OK, rg_tensor_alloc(ctx, &a, 1, 257));
    ASSERT_EQ(RG_OK, rg_tensor_alloc(ctx, &b, 257, 1));
    ASSERT_EQ(RG_OK, rg_tensor_upload(ctx, a, in));
    ASSERT_EQ(RG_OK, rg_tensor_copy(ctx, b, a));
    ASSERT_EQ(RG_OK, rg_tensor_download(ctx, b, out));
    ASSERT_MEM_EQ(in, out, sizeof in);
    rg_tensor_free(ctx, &a);
    rg_tensor_free(ctx, &b);
    rg_ctx_destroy(ctx);
    PASS();
}

/* an impossible allocation is RG_ERR_OOM and leaves the context usable */
TEST out_of_memory_is_reported(void) {
    rg_ctx *ctx;
    rg_tensor t;
    rg_real v[3];
    TC_NEED_GPU();
    ASSERT_EQm(rg_last_error(), RG_OK, rg_cuda_create(&ctx, 0, 1));
    ASSERT_EQ(RG_ERR_OOM, rg_tensor_alloc(ctx, &t, (int64_t)1 << 18, (int64_t)1 << 20)); /* 1 TB */
    ASSERT(strstr(rg_last_error(), "out of cuda memory") != NULL);
    ASSERT_EQ(RG_OK, rg_tensor_zeros(ctx, &t, 1, 3));
    ASSERT_EQ(RG_OK, rg_tensor_download(ctx, t, v));
    ASSERT_EQ((rg_real)0, v[2]);
    rg_tensor_free(ctx, &t);
    rg_ctx_destroy(ctx);
    PASS();
}

/* cuBLAS refusing a call (ldc < N) is RG_ERR_DEVICE naming the call and cuBLAS's status */
TEST device_errors_are_reported(void) {
    rg_ctx *ctx;
    rg_tensor a;
    TC_NEED_GPU();
    ASSERT_EQm(rg_last_error(), RG_OK, rg_cuda_create(&ctx, 0, 1));
    ASSERT_EQ(RG_OK, rg_tensor_zeros(ctx, &a, 8, 8));
    ctx->ops->gemm(ctx, 0, 0, 4, 8, 3, 1, a.data, 3, a.data, 8, 0, a.data, 2);
    ASSERT_EQ(RG_ERR_DEVICE, rg_ctx_take_status(ctx));
    ASSERTm(rg_last_error(), strstr(rg_last_error(), "cublasSgemm_64") != NULL);
    ASSERTm(rg_last_error(), strstr(rg_last_error(), "CUBLAS_STATUS_INVALID_VALUE") != NULL);
    ASSERT_EQ(RG_OK, rg_tensor_fill(ctx, a, 1)); /* still usable */
    rg_tensor_free(ctx, &a);
    rg_ctx_destroy(ctx);
    PASS();
}

/* with TF32 the products keep about 10 mantissa bits: close to the CPU, not within 1e-4 */
TEST tf32_switch(void) {
    static const op_case c = {"gemm_large (tf32)", op_gemm_large, RG_OK};
    op_run cpu, gpu;
    double *want = NULL, *got = NULL, rel = 1;
    int64_t n = 0, m = 0;
    rg_ctx *host;
    rg_status st;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&host, 1, 1));
    ASSERT_EQ(RG_ERR_ARG, rg_cuda_set_tf32(host, 1)); /* not a CUDA context: runs without a GPU too */
    rg_ctx_destroy(host);
    TC_NEED_GPU();
    memset(&gpu, 0, sizeof gpu);
    st = op_exec(&c, OP_CPU, &cpu);
    if (st == RG_OK) st = op_exec(&c, OP_CUDA_TF32, &gpu);
    if (st == RG_OK && gpu.st == RG_OK) {
        want = op_doubles(&cpu.arr[2], &n); /* C */
        got = op_doubles(&gpu.arr[2], &m);
        rel = tc_rel(got, want, n);
    }
    snprintf(tc_msg, sizeof tc_msg, "tf32: %s %s, relative error %.3e", rg_status_name(st), rg_status_name(gpu.st), rel);
    free(want);
    free(got);
    op_close(&cpu);
    op_close(&gpu);
    ASSERTm(tc_msg, st == RG_OK && gpu.st == RG_OK && rel < 1e-2);
    PASS();
}

/* a device id that does not exist; without any device, a failure with a message */
TEST create_fails_cleanly(void) {
    rg_ctx *ctx = (rg_ctx *)&ctx; /* any non-NULL value: must come back NULL */
    rg_status st = rg_cuda_create(&ctx, tc_have_gpu() ? rg_cuda_device_count() : 0, 1);
    ASSERT(ctx == NULL);
    if (tc_have_gpu()) ASSERT_EQ(RG_ERR_ARG, st);
    else ASSERTm(rg_status_name(st), st == RG_ERR_DEVICE || st == RG_ERR_ARG);
    ASSERT(rg_last_error()[0] != '\0');
    PASS();
}

SUITE(cuda_context) {
    RUN_TEST(create_fails_cleanly);
    RUN_TEST(pool_reuses_and_counts);
    RUN_TEST(copies_round_trip);
    RUN_TEST(out_of_memory_is_reported);
    RUN_TEST(device_errors_are_reported);
    RUN_TEST(tf32_switch);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    GREATEST_MAIN_BEGIN();
    if (tc_have_gpu()) {
        struct cudaDeviceProp prop;
        if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
            printf("revgnn CUDA tests on %s (sm_%d%d), against the CPU backend\n", prop.name, prop.major, prop.minor);
    } else {
        printf("revgnn CUDA tests: no CUDA device, the GPU tests skip\n");
    }
    RUN_SUITE(cuda_context);
    RUN_SUITE(cuda_ops);
    RUN_SUITE(cuda_cases);
    RUN_SUITE(cuda_train);
    HARNESS_MAIN_END();
}
