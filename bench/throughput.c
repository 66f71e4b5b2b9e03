/* throughput: time per full-batch training step against depth, with FLOPs, bytes moved and
   the machine's roofline, the numbers behind "how far is a step from what this CPU can do".

   One step = rg_model_forward (TRAIN) + rg_softmax_xent on every node + rg_model_backward +
   rg_model_adam_step, on a stochastic-block-model graph shaped like PyG's rev_gnn benchmark
   (20,000 nodes, 10 blocks = classes, mean degree 20: 200,000 undirected pairs stored both
   ways = 400,000 directed edges, self-loops added; 128 Gaussian features around a per-class
   centre), or on any OGB-layout dataset (--data DIR, multi-class).

   Cost model. The bench wraps the context's op table: every op the step calls is counted
   from its own arguments, FLOPs and bytes, before it runs (so the count follows the
   library's real call sequence, recomputations included). FLOPs: 2 per multiply-add, 1 per
   other arithmetic (exp and sqrt count 1; hashing and compares count 0). Bytes: the
   compulsory traffic of the op, each input read once and each output written once
   (a gather's neighbour rows are read once: the N x D operand is cache resident on any
   machine with a few MB of cache), indices included. The floor is max(FLOPs / peak,
   bytes / bandwidth), with peak = our GEMM on 1024^3 (ctx->ops->gemm) and bandwidth = a
   multi-threaded memcpy of 2 x 512 MB (read + write counted), both measured in the same run.

   Memory: "alloc" is the context allocator's peak (parameters, gradients, Adam moments, the
   device graph, features, outputs and every activation: what torch.cuda.max_memory_allocated
   would count), "train" that peak less the graph, features, labels and parameter values (the
   issue's training memory: PyG's peak RSS less its RSS after building graph and model; our
   gradients, Adam moments and outputs count as training's), "act" its activation part
   (rg_model_memory_plan), "RSS" the process's peak
   resident set (getrusage; each configuration runs in a child process, so it is its own).
   Output: a table on stdout and throughput.csv (--csv PATH; `make bench-throughput` writes
   $(RESULTS)/throughput.csv) with the machine, date and command line. --profile prints time per op for each configuration.

       make bench-throughput
       ./build/throughput --layers 3,14 --archs rev --profile
*/
#define _POSIX_C_SOURCE 200809L /* clock_gettime, fork, wait4 via sys/wait.h */
#ifndef _DEFAULT_SOURCE         /* C++ compilers (nvcc's host side) define it already */
#define _DEFAULT_SOURCE         /* wait4 */
#endif
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define MAX_LIST 16
#define MAX_OPS 64

typedef struct options {
    int64_t nodes, degree, in_dim, classes, hidden, groups;
    int steps, warmup, threads, profile;
    int64_t layers[MAX_LIST];
    int n_layers;
    rg_arch archs[MAX_LIST];
    int n_archs;
    rg_conv_kind convs[MAX_LIST];
    int n_convs;
    const char *data, *csv;
} options;

typedef struct graph_info {
    int64_t nodes, edges, features, classes;
} graph_info;

typedef struct row {
    int ok;
    rg_arch arch;
    rg_conv_kind conv;
    int64_t layers, params;
    double ms, ms_min, ms_max, flops, bytes, peak_alloc, act_alloc, train_alloc, loss;
    long rss_kb;
} row;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- the counting op table ---- */

typedef struct op_stat {
    const char *name;
    double flops, bytes, seconds;
    int64_t calls;
} op_stat;

static const rg_backend *base_ops; /* the real table the wrappers call */
static op_stat stats[MAX_OPS];
static int n_stats, timing;

static op_stat *stat_of(const char *name) {
    int i;
    for (i = 0; i < n_stats; i++)
        if (stats[i].name == name) return &stats[i];
    stats[n_stats].name = name;
    return &stats[n_stats++];
}

/* counts an op before it runs; closes the previous op's timer (ops are synchronous on CPU) */
static op_stat *pending;
static double pending_t0;
static void count(const char *name, double flops, double bytes) {
    op_stat *s = stat_of(name);
    double t = timing ? bench_now_s() : 0;
    if (pending) pending->seconds += t - pending_t0;
    s->flops += flops;
    s->bytes += bytes;
    s->calls++;
    pending = timing ? s : NULL;
    pending_t0 = t;
}
static void count_end(void) {
    if (pending) pending->seconds += bench_now_s() - pending_t0;
    pending = NULL;
}

#define RB ((double)sizeof(rg_real))

static void w_copy(rg_ctx *ctx, void *d, const void *s, size_t bytes, rg_copy_kind kind) {
    count("copy", 0, 2.0 * (double)bytes);
    base_ops->copy(ctx, d, s, bytes, kind);
}
static void w_gemm(rg_ctx *ctx, int ta, int tb, int64_t M, int64_t N, int64_t K, rg_real alpha, const rg_real *A,
                   int64_t lda, const rg_real *B, int64_t ldb, rg_real beta, rg_real *C, int64_t ldc) {
    double m = (double)M, n = (double)N, k = (double)K;
    count("gemm", 2 * m * n * k + (beta != 0 ? m * n : 0), RB * (m * k + k * n + m * n * (beta != 0 ? 2 : 1)));
    base_ops->gemm(ctx, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
static void w_fill(rg_ctx *ctx, rg_real *x, int64_t n, rg_real v) {
    count("fill", 0, RB * (double)n);
    base_ops->fill(ctx, x, n, v);
}
static void w_axpby(rg_ctx *ctx, int64_t n, rg_real a, const rg_real *x, rg_real b, rg_real *y) {
    count("axpby", (b != 0 ? 3.0 : 1.0) * (double)n, RB * (double)n * (b != 0 ? 3 : 2));
    base_ops->axpby(ctx, n, a, x, b, y);
}
static void w_add_bias(rg_ctx *ctx, rg_real *y, const rg_real *bias, int64_t rows, int64_t cols) {
    count("add_bias", (double)rows * (double)cols, RB * (2.0 * (double)rows * (double)cols + (double)cols));
    base_ops->add_bias(ctx, y, bias, rows, cols);
}
static void w_col_sum(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t rows, int64_t cols) {
    count("col_sum", (double)rows * (double)cols, RB * (double)rows * (double)cols);
    base_ops->col_sum(ctx, out, x, rows, cols);
}
static void w_relu_forward(rg_ctx *ctx, rg_real *y, const rg_real *x, int64_t n) {
    count("relu_forward", (double)n, 2 * RB * (double)n);
    base_ops->relu_forward(ctx, y, x, n);
}
static void w_relu_backward(rg_ctx *ctx, rg_real *dx, const rg_real *dy, const rg_real *x, int64_t n) {
    count("relu_backward", (double)n, 3 * RB * (double)n);
    base_ops->relu_backward(ctx, dx, dy, x, n);
}
static void w_dropout(rg_ctx *ctx, rg_real *y, const rg_real *x, int64_t rows, int64_t cols, double p, uint64_t seed,
                      uint64_t stream) {
    count("dropout", (double)rows * (double)cols, 2 * RB * (double)rows * (double)cols);
    base_ops->dropout(ctx, y, x, rows, cols, p, seed, stream);
}
/* mean, variance, normalise + affine: 3 + 3 + 4 per element */
static void w_ln_forward(rg_ctx *ctx, rg_real *y, rg_real *mean, rg_real *rstd, const rg_real *x, const rg_real *gamma,
                         const rg_real *beta, int64_t rows, int64_t cols, double eps) {
    double rc = (double)rows * (double)cols;
    count("layernorm_forward", 10 * rc, RB * (2 * rc + 2.0 * (double)rows + 2.0 * (double)cols));
    base_ops->layernorm_forward(ctx, y, mean, rstd, x, gamma, beta, rows, cols, eps);
}
/* xhat 2, dgamma/dbeta 3, g 1, two row sums 3, dx 4 per element */
static void w_ln_backward(rg_ctx *ctx, rg_real *dx, rg_real *dgamma, rg_real *dbeta, const rg_real *dy,
                          const rg_real *x, const rg_real *mean, const rg_real *rstd, const rg_real *gamma,
                          int64_t rows, int64_t cols) {
    double rc = (double)rows * (double)cols;
    count("layernorm_backward", 13 * rc, RB * (3 * rc + 2.0 * (double)rows + 5.0 * (double)cols));
    base_ops->layernorm_backward(ctx, dx, dgamma, dbeta, dy, x, mean, rstd, gamma, rows, cols);
}
static double w_sum_squares(rg_ctx *ctx, const rg_real *x, int64_t n) {
    count("sum_squares", 2.0 * (double)n, RB * (double)n);
    return base_ops->sum_squares(ctx, x, n);
}
/* x read once, out written once, edge indices and offsets, the per-node scale */
static void w_spmm(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t n, int64_t dim, rg_aggr aggr,
                   const int64_t *rowptr, const int32_t *src, const rg_real *inv_deg, const rg_real *gcn_dinv) {
    double e = (double)rowptr[n], nd = (double)n * (double)dim;
    count("spmm", 2 * e * (double)dim + nd, RB * (2 * nd + (double)n) + 4 * e + 8.0 * (double)(n + 1));
    base_ops->spmm(ctx, out, x, n, dim, aggr, rowptr, src, inv_deg, gcn_dinv);
}
static void w_spmm_t(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t n, int64_t dim, rg_aggr aggr,
                     const int64_t *t_rowptr, const int64_t *t_edge, const int32_t *dst, const rg_real *inv_deg,
                     const rg_real *gcn_dinv) {
    double e = (double)t_rowptr[n], nd = (double)n * (double)dim;
    count("spmm_t", 3 * e * (double)dim, RB * (2 * nd + (double)n) + 12 * e + 8.0 * (double)(n + 1));
    base_ops->spmm_t(ctx, out, x, n, dim, aggr, t_rowptr, t_edge, dst, inv_deg, gcn_dinv);
}
/* max, exp, sum, log, gradient: about 5 per logit */
static double w_softmax_xent(rg_ctx *ctx, rg_real *dlogits, const rg_real *logits, const int32_t *labels,
                             const int32_t *rows, int64_t n, int64_t n_logit_rows, int64_t cols, double scale) {
    double used = rows ? (double)n : (double)n_logit_rows, all = (double)n_logit_rows * (double)cols;
    count("softmax_xent", 5 * used * (double)cols, RB * (used * (double)cols + all) + 4 * used * (rows ? 2 : 1));
    return base_ops->softmax_xent(ctx, dlogits, logits, labels, rows, n, n_logit_rows, cols, scale);
}
/* moments, bias corrections, sqrt, division, update: about 12 per value; p, g, m, v read, p, m, v written */
static void w_adam(rg_ctx *ctx, rg_real *params, const rg_real *grads, rg_real *m, rg_real *v, int64_t n, double lr,
                   double beta1, double beta2, double eps, double weight_decay, int decoupled, int64_t step) {
    count("adam", 12 * (double)n, 7 * RB * (double)n);
    base_ops->adam(ctx, params, grads, m, v, n, lr, beta1, beta2, eps, weight_decay, decoupled, step);
}
static double w_dot(rg_ctx *ctx, const rg_real *x, const rg_real *y, int64_t n) {
    count("dot", 2.0 * (double)n, 2 * RB * (double)n);
    return base_ops->dot(ctx, x, y, n);
}
static void w_regroup(rg_ctx *ctx, rg_real *dst, const rg_real *src, int64_t groups, int64_t n, int64_t width,
                      int to_group_major) {
    count("regroup", 0, 2 * RB * (double)groups * (double)n * (double)width);
    base_ops->regroup(ctx, dst, src, groups, n, width, to_group_major);
}

/* The wrapped table: the ops above counted, every other entry (GEN, GAT, batch norm:
   convolutions this bench does not model) passed through uncounted. */
static rg_backend counted_table(const rg_backend *base) {
    rg_backend t = *base;
    base_ops = base;
    t.copy = w_copy;
    t.gemm = w_gemm;
    t.fill = w_fill;
    t.axpby = w_axpby;
    t.add_bias = w_add_bias;
    t.col_sum = w_col_sum;
    t.relu_forward = w_relu_forward;
    t.relu_backward = w_relu_backward;
    t.dropout = w_dropout;
    t.layernorm_forward = w_ln_forward;
    t.layernorm_backward = w_ln_backward;
    t.sum_squares = w_sum_squares;
    t.spmm = w_spmm;
    t.spmm_t = w_spmm_t;
    t.softmax_xent = w_softmax_xent;
    t.adam = w_adam;
    t.dot = w_dot;
    t.regroup = w_regroup;
    return t;
}

/* ---- the graph ---- */

/* SBM: node i in block i mod K (K = classes); edge k starts at u = k mod N and ends, with
   probability 0.9, at another node of u's block, else at any other node; each pair is
   stored both ways, then self-loops. x = class centre (N(0,1) per class and column) + N(0, 2^2). */
static rg_status make_sbm(const options *o, rg_dataset *ds) {
    int64_t N = o->nodes, K = o->classes, pairs = N * o->degree / 2, k, i;
    int32_t *src = (int32_t *)malloc((size_t)pairs * sizeof(int32_t)), *dst = (int32_t *)malloc((size_t)pairs * sizeof(int32_t));
    rg_graph_options go = rg_graph_options_default();
    rg_status st = RG_ERR_OOM;
    memset(ds, 0, sizeof *ds);
    ds->n_nodes = N;
    ds->x_dim = o->in_dim;
    ds->task = RG_TASK_MULTICLASS;
    ds->n_tasks = K;
    ds->x = (rg_real *)malloc((size_t)(N * o->in_dim) * sizeof(rg_real));
    ds->labels = (int32_t *)malloc((size_t)N * sizeof(int32_t));
    ds->split[0] = (int32_t *)malloc((size_t)N * sizeof(int32_t));
    ds->split_size[0] = N;
    if (src && dst && ds->x && ds->labels && ds->split[0]) {
        int64_t per = N / K; /* nodes per block (the last blocks take the remainder's share of u) */
        for (k = 0; k < pairs; k++) {
            int64_t u = k % N, v;
            if (rg_rng_uniform(11, 1, (uint64_t)k) < 0.9 && per > 1) {
                v = (u % K) + K * (int64_t)(rg_rng_u64(11, 2, (uint64_t)k) % (uint64_t)per);
                if (v >= N || v == u) v = (u + K) % N;
            } else {
                v = (u + 1 + (int64_t)(rg_rng_u64(11, 3, (uint64_t)k) % (uint64_t)(N - 1))) % N;
            }
            src[k] = (int32_t)u;
            dst[k] = (int32_t)v;
        }
        for (i = 0; i < N; i++) {
            int64_t c, f = o->in_dim;
            ds->labels[i] = (int32_t)(i % K);
            ds->split[0][i] = (int32_t)i;
            for (c = 0; c < f; c++)
                ds->x[i * f + c] = (rg_real)(rg_rng_normal(11, 4, (uint64_t)((i % K) * f + c)) +
                                             2 * rg_rng_normal(11, 5, (uint64_t)(i * f + c)));
        }
        go.add_reverse = 1;
        go.add_self_loops = 1;
        st = rg_graph_from_coo(&ds->graph, N, pairs, src, dst, NULL, 0, &go);
    }
    free(src);
    free(dst);
    if (st != RG_OK) rg_dataset_free(NULL, ds);
    return st;
}

/* ---- one configuration ---- */

static rg_config make_config(const options *o, const rg_dataset *ds, rg_arch arch, rg_conv_kind conv, int64_t layers) {
    rg_config c = rg_config_default();
    c.arch = arch;
    c.conv = conv;
    c.layers = layers;
    c.hidden = o->hidden;
    c.groups = (arch == RG_ARCH_REV || arch == RG_ARCH_WT_REV) ? o->groups : 1;
    c.in_dim = ds->x_dim;
    c.edge_dim = 0;
    c.out_dim = ds->n_tasks;
    c.dropout = 0.5;
    c.norm = RG_NORM_LAYER;
    c.aggr = RG_AGGR_MEAN;
    return c;
}

static rg_status train_step(rg_model *m, rg_ctx *ctx, rg_batch *b, rg_adam *adam, uint64_t seed, double *loss) {
    RG__TRY(rg_model_forward(m, b->out, &b->graph, b->x, RG_MODE_TRAIN, seed));
    RG__TRY(rg_softmax_xent(ctx, loss, b->dout, b->out, b->labels, NULL, 0));
    RG__TRY(rg_model_zero_grad(m));
    RG__TRY(rg_model_backward(m, rg_tensor_view(NULL, 0, 0), b->dout));
    RG__TRY(rg_model_adam_step(m, adam));
    return rg_ctx_synchronize(ctx);
}

static void measure(const options *o, const rg_dataset *ds, rg_arch arch, rg_conv_kind conv, int64_t layers, row *r) {
    rg_config c = make_config(o, ds, arch, conv, layers);
    rg_ctx *ctx = NULL;
    rg_model *m = NULL;
    rg_batch b;
    rg_adam adam = rg_adam_default(1e-3);
    rg_backend table;
    rg_memory_plan plan;
    const rg_backend *real;
    double t[64];
    int s, n = o->steps < 64 ? o->steps : 64;
    size_t data_bytes = 0;
    rg_status st;
    memset(r, 0, sizeof *r);
    memset(&b, 0, sizeof b);
    r->arch = arch;
    r->conv = conv;
    r->layers = layers;
    st = rg_ctx_create_cpu(&ctx, o->threads, 1);
    if (st == RG_OK) st = rg_batch_make(ctx, ds, NULL, 0, &b);
    /* what training adds to the graph, the features and the labels (PyG's measure: peak RSS
       minus RSS after building graph and model); outputs count as training's */
    if (st == RG_OK) data_bytes = rg_mem_current(ctx) - 2 * (size_t)rg_tensor_numel(b.out) * sizeof(rg_real);
    if (st == RG_OK) st = rg_model_create(ctx, &c, &m);
    if (st == RG_OK) st = rg_model_reserve(m, b.n, b.graph.n_edges);
    for (s = 0; st == RG_OK && s < o->warmup; s++) st = train_step(m, ctx, &b, &adam, (uint64_t)s, &r->loss);
    for (s = 0; st == RG_OK && s < n; s++) {
        double t0 = bench_now_s();
        st = train_step(m, ctx, &b, &adam, (uint64_t)(o->warmup + s), &r->loss);
        t[s] = bench_now_s() - t0;
    }
    /* one more step through the counting table: the cost model (and, with --profile, time per op) */
    real = ctx ? ctx->ops : NULL;
    if (st == RG_OK) {
        table = counted_table(real);
        ctx->ops = &table;
        n_stats = 0;
        memset(stats, 0, sizeof stats);
        timing = o->profile;
        st = train_step(m, ctx, &b, &adam, 1000, &r->loss);
        count_end();
        ctx->ops = real;
    }
    if (st == RG_OK) {
        int i;
        qsort(t, (size_t)n, sizeof t[0], cmp_double);
        r->ms = 1e3 * (n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]));
        r->ms_min = 1e3 * t[0];
        r->ms_max = 1e3 * t[n - 1];
        for (i = 0; i < n_stats; i++) {
            r->flops += stats[i].flops;
            r->bytes += stats[i].bytes;
        }
        r->peak_alloc = (double)rg_mem_peak(ctx);
        /* the parameter values are the model's; gradients and Adam moments are training's */
        r->train_alloc = r->peak_alloc - (double)data_bytes - (double)rg_model_num_params(m) * sizeof(rg_real);
        if (rg_model_memory_plan(&c, b.n, b.graph.n_edges, &plan) == RG_OK) r->act_alloc = (double)plan.activations;
        r->params = rg_model_num_params(m);
        r->ok = 1;
        if (o->profile) {
            double total = 0;
            for (i = 0; i < n_stats; i++) total += stats[i].seconds;
            printf("  profile %s-%s L=%lld (one counted step, %.1f ms in ops):\n", rg_arch_name(arch),
                   rg_conv_name(conv), (long long)layers, 1e3 * total);
            for (i = 0; i < n_stats; i++)
                printf("    %-20s %7lld calls %9.2f ms %5.1f%% %8.2f GFLOP/s %8.2f GB/s\n", stats[i].name,
                       (long long)stats[i].calls, 1e3 * stats[i].seconds, 100 * stats[i].seconds / total,
                       stats[i].seconds > 0 ? stats[i].flops / stats[i].seconds / 1e9 : 0,
                       stats[i].seconds > 0 ? stats[i].bytes / stats[i].seconds / 1e9 : 0);
        }
    } else {
        fprintf(stderr, "throughput: %s-%s L=%lld: %s\n", rg_arch_name(arch), rg_conv_name(conv), (long long)layers,
                rg_last_error());
    }
    rg_model_destroy(m);
    if (ctx) rg_batch_free(ctx, &b);
    rg_ctx_destroy(ctx);
}

/* peak GFLOP/s of ctx->ops->gemm on 1024^3 and GB/s of a 2 x 512 MB threaded copy, best of a few */
static void measure_machine(const options *o, double *gflops, double *gbs) {
    rg_ctx *ctx = NULL;
    int64_t n = 1024, k;
    size_t bytes = (size_t)512 << 20;
    rg_real *a = (rg_real *)malloc((size_t)(n * n) * sizeof(rg_real) * 3);
    char *s = (char *)malloc(bytes), *d = (char *)malloc(bytes);
    int rep;
    *gflops = *gbs = 0;
    if (!a || !s || !d || rg_ctx_create_cpu(&ctx, o->threads, 1) != RG_OK) {
        fprintf(stderr, "throughput: cannot set up the machine measurement\n");
        free(a); free(s); free(d);
        return;
    }
    for (k = 0; k < 2 * n * n; k++) a[k] = (rg_real)((k % 17) * 0.01);
    memset(s, 1, bytes);
    memset(d, 2, bytes);
    for (rep = 0; rep < 4; rep++) {
        double t0 = bench_now_s(), dt;
        ctx->ops->gemm(ctx, 0, 0, n, n, n, 1, a, n, a + n * n, n, 0, a + 2 * n * n, n);
        dt = bench_now_s() - t0;
        if (2.0 * n * n * n / dt / 1e9 > *gflops) *gflops = 2.0 * n * n * n / dt / 1e9;
    }
    for (rep = 0; rep < 4; rep++) {
        double t0 = bench_now_s(), dt;
        /* y = 1 x: a copy on the library's threads */
        ctx->ops->axpby(ctx, (int64_t)(bytes / sizeof(rg_real)), 1, (const rg_real *)s, 0, (rg_real *)d);
        dt = bench_now_s() - t0;
        if (2.0 * (double)bytes / dt / 1e9 > *gbs) *gbs = 2.0 * (double)bytes / dt / 1e9;
    }
    rg_ctx_destroy(ctx);
    free(a);
    free(s);
    free(d);
}

/* the benchmark's graph: --data, else the SBM; a message on failure */
static int load_dataset(const options *o, rg_dataset *ds) {
    rg_status st = o->data ? rg_dataset_load_ogb(NULL, o->data, NULL, ds) : make_sbm(o, ds);
    if (st != RG_OK) {
        fprintf(stderr, "throughput: %s\n", rg_last_error());
        return 0;
    }
    if (ds->task != RG_TASK_MULTICLASS) {
        fprintf(stderr, "throughput: --data needs a multi-class dataset\n");
        rg_dataset_free(NULL, ds);
        return 0;
    }
    return 1;
}

/* Runs one measurement in a child: its own peak RSS, and every thread is the child's (the
   parent never creates a context: threads do not survive fork). With machine, measures the
   machine and fills *info with the graph's size. */
static int in_child(const options *o, rg_arch arch, rg_conv_kind conv, int64_t layers, row *r, double machine[2],
                    graph_info *info) {
    int fd[2];
    pid_t pid;
    int status;
    struct rusage ru;
    ssize_t got;
    fflush(stdout);
    if (pipe(fd) != 0) return 0;
    pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        rg_dataset ds;
        close(fd[0]);
        got = 0;
        if (load_dataset(o, &ds)) {
            if (machine) {
                measure_machine(o, &machine[0], &machine[1]);
                info->nodes = ds.n_nodes;
                info->edges = ds.graph.n_edges;
                info->features = ds.x_dim;
                info->classes = ds.n_tasks;
                got = write(fd[1], machine, 2 * sizeof(double));
                if (got > 0) got = write(fd[1], info, sizeof *info);
            } else {
                measure(o, &ds, arch, conv, layers, r);
                got = write(fd[1], r, sizeof *r);
            }
            rg_dataset_free(NULL, &ds);
        }
        fflush(stdout);
        _exit(got > 0 ? 0 : 1);
    }
    close(fd[1]);
    if (machine) {
        got = read(fd[0], machine, 2 * sizeof(double));
        if (got > 0) got = read(fd[0], info, sizeof *info);
    } else {
        got = read(fd[0], r, sizeof *r);
    }
    close(fd[0]);
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 0;
    if (!machine) r->rss_kb = ru.ru_maxrss;
    return got > 0;
}

/* ---- command line ---- */

static void usage(FILE *f, const char *prog) {
    fprintf(f,
            "usage: %s [options]\n"
            "  --layers LIST   depths (default 3,14,56,112)\n"
            "  --archs LIST    res,res-ckpt,rev,wt-res,wt-rev (default rev,res)\n"
            "  --convs LIST    sage,gcn (default sage)\n"
            "  --nodes N --degree K --features F --classes K   the SBM graph (default 20000, 20, 128, 10)\n"
            "  --data DIR      an OGB-layout multi-class dataset instead\n"
            "  --hidden D (64) --groups C (2) --threads T (default all) --steps S (5) --warmup W (2)\n"
            "  --csv PATH      (default throughput.csv; '-' for none)\n"
            "  --profile       time per op for each configuration\n",
            prog);
}

/* a comma-separated list, each item through parse (0 on failure) */
static int parse_list(const char *flag, const char *v, int *n, void *out, int (*parse)(const char *, void *, int)) {
    char buf[256], *tok, *save = NULL;
    if (!v || strlen(v) >= sizeof buf) { fprintf(stderr, "throughput: %s needs a list\n", flag); return 0; }
    strcpy(buf, v);
    *n = 0;
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_LIST || !parse(tok, out, *n)) { fprintf(stderr, "throughput: bad %s item '%s'\n", flag, tok); return 0; }
        (*n)++;
    }
    return *n > 0;
}
static int item_layer(const char *s, void *out, int i) { return bench_parse_int("throughput", "--layers", s, 1, (int64_t *)out + i); }
static int item_arch(const char *s, void *out, int i) {
    return rg_arch_parse(s, (rg_arch *)out + i) == RG_OK && ((rg_arch *)out)[i] != RG_ARCH_DEQ;
}
static int item_conv(const char *s, void *out, int i) {
    rg_conv_kind *c = (rg_conv_kind *)out + i;
    return rg_conv_parse(s, c) == RG_OK && (*c == RG_CONV_SAGE || *c == RG_CONV_GCN);
}

static int parse_args(int argc, char **argv, options *o) {
    int i;
    int64_t v;
    memset(o, 0, sizeof *o);
    o->nodes = 20000; o->degree = 20; o->in_dim = 128; o->classes = 10; o->hidden = 64; o->groups = 2;
    o->steps = 5; o->warmup = 2; o->csv = "throughput.csv";
    o->layers[0] = 3; o->layers[1] = 14; o->layers[2] = 56; o->layers[3] = 112; o->n_layers = 4;
    o->archs[0] = RG_ARCH_REV; o->archs[1] = RG_ARCH_RES; o->n_archs = 2;
    o->convs[0] = RG_CONV_SAGE; o->n_convs = 1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout, argv[0]); exit(0); }
        else if (!strcmp(a, "--profile")) { o->profile = 1; continue; }
        else if (!strcmp(a, "--layers")) { if (!parse_list(a, val, &o->n_layers, o->layers, item_layer)) return 0; }
        else if (!strcmp(a, "--archs")) { if (!parse_list(a, val, &o->n_archs, o->archs, item_arch)) return 0; }
        else if (!strcmp(a, "--convs")) { if (!parse_list(a, val, &o->n_convs, o->convs, item_conv)) return 0; }
        else if (!strcmp(a, "--nodes")) { if (!bench_parse_int("throughput", a, val, 2, &o->nodes)) return 0; }
        else if (!strcmp(a, "--degree")) { if (!bench_parse_int("throughput", a, val, 2, &o->degree)) return 0; }
        else if (!strcmp(a, "--features")) { if (!bench_parse_int("throughput", a, val, 1, &o->in_dim)) return 0; }
        else if (!strcmp(a, "--classes")) { if (!bench_parse_int("throughput", a, val, 2, &o->classes)) return 0; }
        else if (!strcmp(a, "--hidden")) { if (!bench_parse_int("throughput", a, val, 1, &o->hidden)) return 0; }
        else if (!strcmp(a, "--groups")) { if (!bench_parse_int("throughput", a, val, 2, &o->groups)) return 0; }
        else if (!strcmp(a, "--threads")) { if (!bench_parse_int("throughput", a, val, 1, &v)) return 0; o->threads = (int)v; }
        else if (!strcmp(a, "--steps")) { if (!bench_parse_int("throughput", a, val, 1, &v) || v > 64) return 0; o->steps = (int)v; }
        else if (!strcmp(a, "--warmup")) { if (!bench_parse_int("throughput", a, val, 0, &v)) return 0; o->warmup = (int)v; }
        else if (!strcmp(a, "--data")) { if (!val) return 0; o->data = val; }
        else if (!strcmp(a, "--csv")) { if (!val) return 0; o->csv = val; }
        else {
            fprintf(stderr, "throughput: unknown option '%s'\n", a);
            usage(stderr, argv[0]);
            return 0;
        }
        i++;
    }
    return 1;
}

static void cpu_model(char *buf, size_t n) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(buf, n, "unknown CPU");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            char *p = strchr(line, ':') + 2;
            p[strcspn(p, "\n")] = '\0';
            snprintf(buf, n, "%s", p);
            break;
        }
    if (f) fclose(f);
}

int main(int argc, char **argv) {
    static row rows[MAX_LIST * MAX_LIST * MAX_LIST];
    options o;
    graph_info ds;
    double machine[2];
    char cpu[256], date[64], cmd[1024] = "";
    time_t now = time(NULL);
    int a, c, l, i, n = 0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    FILE *f = NULL;
    if (!parse_args(argc, argv, &o)) return 2;
    for (i = 0; i < argc; i++) {
        strncat(cmd, argv[i], sizeof cmd - strlen(cmd) - 2);
        if (i + 1 < argc) strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    }
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&now));
    cpu_model(cpu, sizeof cpu);
    if (!in_child(&o, RG_ARCH_REV, RG_CONV_SAGE, 0, NULL, machine, &ds)) {
        fprintf(stderr, "throughput: the graph or the machine measurement failed\n");
        return 2;
    }
    printf("throughput: %s, %ld CPUs, threads %d, %s\n", cpu, ncpu, o.threads ? o.threads : (int)ncpu, date);
    printf("graph %s: %lld nodes, %lld edges (self-loops included), %lld features, %lld classes; hidden %lld, "
           "groups %lld, median of %d steps after %d warm-ups\n",
           o.data ? o.data : "SBM", (long long)ds.nodes, (long long)ds.edges, (long long)ds.features,
           (long long)ds.classes, (long long)o.hidden, (long long)o.groups, o.steps, o.warmup);
    printf("machine: GEMM 1024^3 %.1f GFLOP/s, copy %.1f GB/s\n\n", machine[0], machine[1]);
    printf("%-9s %-5s %5s | %9s %9s | %8s %8s | %7s %6s | %8s %6s | %9s %9s %7s %9s\n", "arch", "conv", "L", "ms/step",
           "min-max%", "GFLOP", "GB", "GFLOP/s", "GB/s", "floor ms", "x floor", "alloc MB", "train MB", "act MB",
           "RSS MB");
    for (c = 0; c < o.n_convs; c++)
        for (l = 0; l < o.n_layers; l++)
            for (a = 0; a < o.n_archs; a++) {
                row *r = &rows[n];
                double floor_s;
                if (!in_child(&o, o.archs[a], o.convs[c], o.layers[l], r, NULL, NULL) || !r->ok) {
                    fprintf(stderr, "throughput: %s-%s L=%lld failed\n", rg_arch_name(o.archs[a]),
                            rg_conv_name(o.convs[c]), (long long)o.layers[l]);
                    return 1;
                }
                n++;
                floor_s = r->flops / (machine[0] * 1e9) > r->bytes / (machine[1] * 1e9) ? r->flops / (machine[0] * 1e9)
                                                                                         : r->bytes / (machine[1] * 1e9);
                printf("%-9s %-5s %5lld | %9.1f %9.1f | %8.2f %8.2f | %7.1f %6.1f | %8.1f %6.2f | %9.1f %9.1f %7.1f %9.1f\n",
                       rg_arch_name(r->arch), rg_conv_name(r->conv), (long long)r->layers, r->ms,
                       100 * (r->ms_max - r->ms_min) / r->ms, r->flops / 1e9, r->bytes / 1e9,
                       r->flops / r->ms / 1e6, r->bytes / r->ms / 1e6, 1e3 * floor_s, r->ms / (1e3 * floor_s),
                       r->peak_alloc / 1e6, r->train_alloc / 1e6, r->act_alloc / 1e6, r->rss_kb / 1e3);
                fflush(stdout);
            }
    if (strcmp(o.csv, "-")) f = fopen(o.csv, "w");
    if (strcmp(o.csv, "-") && !f) fprintf(stderr, "throughput: cannot write %s: %s\n", o.csv, strerror(errno));
    if (f) {
        fprintf(f, "# machine: %s, %ld CPUs; date: %s; command: %s\n", cpu, ncpu, date, cmd);
        fprintf(f, "# peak_gflops (GEMM 1024^3): %.2f, bandwidth_gbs (copy): %.2f\n", machine[0], machine[1]);
        fprintf(f, "arch,conv,layers,nodes,edges,hidden,groups,threads,params,ms_per_step,ms_min,ms_max,flops,bytes,"
                   "gflops_per_s,gb_per_s,floor_ms,ratio_to_floor,peak_alloc_bytes,train_alloc_bytes,activation_bytes,"
                   "peak_rss_kb\n");
        for (i = 0; i < n; i++) {
            const row *r = &rows[i];
            double fl = r->flops / (machine[0] * 1e9), by = r->bytes / (machine[1] * 1e9), fs = fl > by ? fl : by;
            fprintf(f, "%s,%s,%lld,%lld,%lld,%lld,%lld,%d,%lld,%.2f,%.2f,%.2f,%.0f,%.0f,%.2f,%.2f,%.2f,%.2f,%.0f,%.0f,%.0f,%ld\n",
                    rg_arch_name(r->arch), rg_conv_name(r->conv), (long long)r->layers, (long long)ds.nodes,
                    (long long)ds.edges, (long long)o.hidden,
                    (long long)(r->arch == RG_ARCH_REV || r->arch == RG_ARCH_WT_REV ? o.groups : 1),
                    o.threads ? o.threads : (int)ncpu, (long long)r->params, r->ms, r->ms_min, r->ms_max, r->flops,
                    r->bytes, r->flops / r->ms / 1e6, r->bytes / r->ms / 1e6, 1e3 * fs, r->ms / (1e3 * fs),
                    r->peak_alloc, r->train_alloc, r->act_alloc, r->rss_kb);
        }
        fclose(f);
        printf("\nwrote %s\n", o.csv);
    }
    return 0;
}
