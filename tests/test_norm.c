/* rg_norm's modes and running statistics against hand computations; GENConv's aggregation
   against a host reference, and its input checks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "layer_case.h"

/* double: both sides compute the same sums; float: a few float roundings */
#define TOL (sizeof(rg_real) == sizeof(double) ? 1e-12 : 1e-5)
#define NEAR(want, got) ASSERT_IN_RANGE((want), (got), TOL * (1 + fabs(want)))

static void to_host(rg_ctx *ctx, rg_tensor t, double *out) {
    int64_t i, n = rg_tensor_numel(t);
    rg_real *h = (rg_real *)malloc((size_t)n * sizeof(rg_real) + 1);
    rg_tensor_download(ctx, t, h);
    for (i = 0; i < n; i++) out[i] = h[i];
    free(h);
}

static rg_status from_host(rg_ctx *ctx, rg_tensor t, const double *in) {
    int64_t i, n = rg_tensor_numel(t);
    rg_real h[64];
    if (n > 64) return rg_error_set(RG_ERR_ARG, "from_host: %lld values", (long long)n);
    for (i = 0; i < n; i++) h[i] = (rg_real)in[i];
    return rg_tensor_upload(ctx, t, h);
}

/* ---- batch norm ---- */
#define BN_ROWS 5
#define BN_COLS 3
static const double bn_x[BN_ROWS * BN_COLS] = {
    1.0, -2.0, 10.0,
    2.5, 0.5, 10.5,
    -0.5, 1.5, 9.0,
    3.0, -1.0, 11.0,
    0.0, 2.0, 10.25,
};
static const double bn_gamma[BN_COLS] = {1.5, -0.5, 2.0};
static const double bn_beta[BN_COLS] = {0.1, 0.2, -0.3};

typedef struct bn_fixture {
    rg_ctx *ctx;
    rg_norm p;
    rg_norm_cache cache;
    rg_tensor params, buffers, x, y;
} bn_fixture;

static void bn_close(bn_fixture *f) {
    if (!f->ctx) return;
    rg_norm_cache_free(f->ctx, &f->cache);
    rg_tensor_free(f->ctx, &f->params);
    rg_tensor_free(f->ctx, &f->buffers);
    rg_tensor_free(f->ctx, &f->x);
    rg_tensor_free(f->ctx, &f->y);
    rg_ctx_destroy(f->ctx);
    f->ctx = NULL;
}

static rg_status bn_open(bn_fixture *f) {
    rg_binder b = rg_binder_make(NULL, NULL);
    rg_status st;
    memset(f, 0, sizeof *f);
    if ((st = rg_ctx_create_cpu(&f->ctx, 0, 1)) != RG_OK) return st;
    rg_norm_bind(&f->p, &b, RG_NORM_BATCH, BN_COLS, "bn.");
    if ((st = rg_tensor_alloc(f->ctx, &f->params, 1, b.n_params)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(f->ctx, &f->buffers, 1, b.n_buffers)) != RG_OK) return st;
    b = rg_binder_make(f->params.data, f->buffers.data);
    rg_norm_bind(&f->p, &b, RG_NORM_BATCH, BN_COLS, "bn.");
    if ((st = rg_norm_init(f->ctx, &f->p)) != RG_OK) return st;
    if ((st = from_host(f->ctx, f->p.gamma, bn_gamma)) != RG_OK) return st;
    if ((st = from_host(f->ctx, f->p.beta, bn_beta)) != RG_OK) return st;
    if ((st = rg_norm_cache_alloc(f->ctx, &f->cache, RG_NORM_BATCH, BN_ROWS, BN_COLS)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(f->ctx, &f->x, BN_ROWS, BN_COLS)) != RG_OK) return st;
    if ((st = from_host(f->ctx, f->x, bn_x)) != RG_OK) return st;
    return rg_tensor_alloc(f->ctx, &f->y, BN_ROWS, BN_COLS);
}

/* column mean, biased and unbiased variance of bn_x */
static void bn_stats(int c, double *mean, double *var_b, double *var_u) {
    double s = 0, v = 0;
    int r;
    for (r = 0; r < BN_ROWS; r++) s += bn_x[r * BN_COLS + c];
    *mean = s / BN_ROWS;
    for (r = 0; r < BN_ROWS; r++) v += (bn_x[r * BN_COLS + c] - *mean) * (bn_x[r * BN_COLS + c] - *mean);
    *var_b = v / BN_ROWS;
    *var_u = v / (BN_ROWS - 1);
}

static enum greatest_test_res bn_check_y(bn_fixture *f, const double *mean, const double *var) {
    double y[BN_ROWS * BN_COLS];
    int r, c;
    to_host(f->ctx, f->y, y);
    for (r = 0; r < BN_ROWS; r++)
        for (c = 0; c < BN_COLS; c++)
            NEAR((bn_x[r * BN_COLS + c] - mean[c]) / sqrt(var[c] + RG_NORM_EPS) * bn_gamma[c] + bn_beta[c],
                 y[r * BN_COLS + c]);
    PASS();
}

TEST bn_train_updates_running_stats(void) {
    bn_fixture f;
    double mean[BN_COLS], var_b[BN_COLS], var_u[BN_COLS], rm[BN_COLS], rv[BN_COLS];
    enum greatest_test_res res;
    int c;
    rg_status st = bn_open(&f);
    /* two steps from (0, 1): r1 = 0.1 b, r2 = 0.9 r1 + 0.1 b */
    if (st == RG_OK) st = rg_norm_forward(f.ctx, f.y, &f.cache, f.x, &f.p, RG_MODE_TRAIN);
    if (st == RG_OK) st = rg_norm_forward(f.ctx, f.y, &f.cache, f.x, &f.p, RG_MODE_TRAIN);
    if (st != RG_OK) { bn_close(&f); FAILm(rg_last_error()); }
    for (c = 0; c < BN_COLS; c++) bn_stats(c, &mean[c], &var_b[c], &var_u[c]);
    to_host(f.ctx, f.p.running_mean, rm);
    to_host(f.ctx, f.p.running_var, rv);
    res = bn_check_y(&f, mean, var_b);
    bn_close(&f);
    if (res != GREATEST_TEST_RES_PASS) return res;
    for (c = 0; c < BN_COLS; c++) {
        NEAR(0.19 * mean[c], rm[c]);
        NEAR(0.9 * (0.9 * 1 + 0.1 * var_u[c]) + 0.1 * var_u[c], rv[c]);
    }
    PASS();
}

TEST bn_recompute_matches_train_and_keeps_running_stats(void) {
    bn_fixture f;
    rg_real y1[BN_ROWS * BN_COLS], y2[BN_ROWS * BN_COLS], run1[2 * BN_COLS], run2[2 * BN_COLS];
    rg_status st = bn_open(&f);
    if (st == RG_OK) st = rg_norm_forward(f.ctx, f.y, &f.cache, f.x, &f.p, RG_MODE_TRAIN);
    if (st == RG_OK) st = rg_tensor_download(f.ctx, f.y, y1);
    if (st == RG_OK) st = rg_tensor_download(f.ctx, f.buffers, run1);
    if (st == RG_OK) st = rg_tensor_fill(f.ctx, f.y, 0);
    if (st == RG_OK) st = rg_norm_forward(f.ctx, f.y, &f.cache, f.x, &f.p, RG_MODE_RECOMPUTE);
    if (st == RG_OK) st = rg_tensor_download(f.ctx, f.y, y2);
    if (st == RG_OK) st = rg_tensor_download(f.ctx, f.buffers, run2);
    bn_close(&f);
    if (st != RG_OK) FAILm(rg_last_error());
    ASSERT_MEM_EQm("RECOMPUTE gives the TRAIN output", y1, y2, sizeof y1);
    ASSERT_MEM_EQm("RECOMPUTE leaves the running statistics", run1, run2, sizeof run1);
    PASS();
}

TEST bn_eval_uses_running_stats(void) {
    static const double rm[BN_COLS] = {0.5, -1.0, 2.0}, rv[BN_COLS] = {4.0, 0.25, 1.0};
    bn_fixture f;
    double after_m[BN_COLS], after_v[BN_COLS];
    enum greatest_test_res res;
    int c;
    rg_status st = bn_open(&f);
    if (st == RG_OK) st = from_host(f.ctx, f.p.running_mean, rm);
    if (st == RG_OK) st = from_host(f.ctx, f.p.running_var, rv);
    if (st == RG_OK) st = rg_norm_forward(f.ctx, f.y, &f.cache, f.x, &f.p, RG_MODE_EVAL);
    if (st != RG_OK) { bn_close(&f); FAILm(rg_last_error()); }
    to_host(f.ctx, f.p.running_mean, after_m);
    to_host(f.ctx, f.p.running_var, after_v);
    res = bn_check_y(&f, rm, rv);
    bn_close(&f);
    if (res != GREATEST_TEST_RES_PASS) return res;
    for (c = 0; c < BN_COLS; c++) {
        NEAR(rm[c], after_m[c]);
        NEAR(rv[c], after_v[c]);
    }
    PASS();
}

TEST bn_train_needs_two_rows(void) {
    bn_fixture f;
    rg_status train, eval;
    rg_status st = bn_open(&f);
    if (st != RG_OK) { bn_close(&f); FAILm(rg_last_error()); }
    train = rg_norm_forward(f.ctx, rg_tensor_view(f.y.data, 1, BN_COLS), &f.cache,
                            rg_tensor_view(f.x.data, 1, BN_COLS), &f.p, RG_MODE_TRAIN);
    ASSERT_EQ(RG_ERR_ARG, train);
    ASSERT(strstr(rg_last_error(), "1 row(s)") != NULL);
    eval = rg_norm_forward(f.ctx, rg_tensor_view(f.y.data, 1, BN_COLS), &f.cache,
                           rg_tensor_view(f.x.data, 1, BN_COLS), &f.p, RG_MODE_EVAL);
    bn_close(&f);
    ASSERT_EQ(RG_OK, eval);
    PASS();
}

SUITE(norm) {
    RUN_TEST(bn_train_updates_running_stats);
    RUN_TEST(bn_recompute_matches_train_and_keeps_running_stats);
    RUN_TEST(bn_eval_uses_running_stats);
    RUN_TEST(bn_train_needs_two_rows);
}

/* ---- GENConv ---- */
#define GEN_N 12
#define GEN_D 4
/* learned scalars are set apart from the config's initial values, so a test sees which is used */
#define GEN_T 0.7
#define GEN_P 1.4
#define GEN_S 0.6

typedef struct gen_fixture {
    rg_ctx *ctx;
    rg_gen_config cfg;
    rg_graph g;
    rg_gen p;
    rg_gen_cache cache;
    rg_tensor params, buffers, x, y, edge;
} gen_fixture;

static void gen_close(gen_fixture *f) {
    if (!f->ctx) return;
    rg_gen_cache_free(f->ctx, &f->cache);
    rg_tensor_free(f->ctx, &f->params);
    rg_tensor_free(f->ctx, &f->buffers);
    rg_tensor_free(f->ctx, &f->x);
    rg_tensor_free(f->ctx, &f->y);
    if (f->g.ctx) rg_graph_free(f->ctx, &f->g);
    rg_ctx_destroy(f->ctx);
    f->ctx = NULL;
}

/* a GEN layer for cfg on a graph whose edge features (width graph_edge_dim) are the edge input */
static rg_status gen_open(gen_fixture *f, const rg_gen_config *cfg, int64_t graph_edge_dim) {
    rg_binder b = rg_binder_make(NULL, NULL);
    rg_status st;
    memset(f, 0, sizeof *f);
    f->cfg = *cfg;
    if ((st = rg_ctx_create_cpu(&f->ctx, 0, 3)) != RG_OK) return st;
    rg_gen_bind(&f->p, &b, cfg, "gen.");
    if ((st = rg_tensor_alloc(f->ctx, &f->params, 1, b.n_params)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(f->ctx, &f->buffers, 1, b.n_buffers)) != RG_OK) return st;
    b = rg_binder_make(f->params.data, f->buffers.data);
    rg_gen_bind(&f->p, &b, cfg, "gen.");
    if ((st = rg_gen_init(f->ctx, &f->p, cfg, 40)) != RG_OK) return st;
    if (f->p.t.data && (st = rg_tensor_fill(f->ctx, f->p.t, (rg_real)GEN_T)) != RG_OK) return st;
    if (f->p.p.data && (st = rg_tensor_fill(f->ctx, f->p.p, (rg_real)GEN_P)) != RG_OK) return st;
    if (f->p.scale.data && (st = rg_tensor_fill(f->ctx, f->p.scale, (rg_real)GEN_S)) != RG_OK) return st;
    if ((st = lc_graph(f->ctx, &f->g, GEN_N, graph_edge_dim, 5)) != RG_OK) return st;
    if (graph_edge_dim) f->edge = rg_tensor_view(f->g.edge_feat, f->g.n_edges, graph_edge_dim);
    if ((st = rg_gen_cache_alloc(f->ctx, &f->cache, cfg, f->g.n_nodes, f->g.n_edges)) != RG_OK) return st;
    if ((st = lc_random(f->ctx, &f->x, GEN_N, GEN_D, -1, 1, 41)) != RG_OK) return st;
    return rg_tensor_alloc(f->ctx, &f->y, GEN_N, GEN_D);
}

/* h - x = aggregation (+ MsgNorm) per node, in double from host copies; messages are formed in
   rg_real like the kernel so MAX sees the same ties. argmax (N * D) gets the first winner. */
static void gen_reference(const gen_fixture *f, const int64_t *rowptr, const int32_t *src, const double *x,
                          const double *e, double *agg, int64_t *argmax) {
    const rg_gen_config *cfg = &f->cfg;
    double t = cfg->learn_t ? GEN_T : cfg->t, p = cfg->learn_p ? GEN_P : cfg->p;
    int64_t i, k, c;
    for (i = 0; i < GEN_N; i++) {
        int64_t deg = rowptr[i + 1] - rowptr[i];
        double nx = 0, na = 0;
        for (c = 0; c < GEN_D; c++) {
            double best = -1, mx = -1e300, s = 0, u = 0;
            agg[i * GEN_D + c] = 0;
            argmax[i * GEN_D + c] = -1;
            for (k = rowptr[i]; k < rowptr[i + 1]; k++) {
                rg_real a = (rg_real)x[src[k] * GEN_D + c] + (e ? (rg_real)e[k * GEN_D + c] : (rg_real)0);
                double m = (double)((a > 0 ? a : (rg_real)0) + (rg_real)cfg->eps);
                if (m > best) { best = m; argmax[i * GEN_D + c] = k; }
                if (t * m > mx) mx = t * m;
            }
            for (k = rowptr[i]; k < rowptr[i + 1]; k++) {
                rg_real a = (rg_real)x[src[k] * GEN_D + c] + (e ? (rg_real)e[k * GEN_D + c] : (rg_real)0);
                double m = (double)((a > 0 ? a : (rg_real)0) + (rg_real)cfg->eps);
                switch (cfg->aggr) {
                case RG_AGGR_SOFTMAX: s += exp(t * m - mx); u += exp(t * m - mx) * m; break;
                case RG_AGGR_POWER: s += pow(m, p); break;
                default: s += m;
                }
            }
            if (deg == 0) continue;
            switch (cfg->aggr) {
            case RG_AGGR_SUM: agg[i * GEN_D + c] = s; break;
            case RG_AGGR_MEAN: agg[i * GEN_D + c] = s / (double)deg; break;
            case RG_AGGR_MAX: agg[i * GEN_D + c] = best; break;
            case RG_AGGR_SOFTMAX: agg[i * GEN_D + c] = u / s; break;
            default: agg[i * GEN_D + c] = pow(s / (double)deg, 1 / p);
            }
        }
        if (!cfg->msg_norm) continue;
        for (c = 0; c < GEN_D; c++) {
            nx += x[i * GEN_D + c] * x[i * GEN_D + c];
            na += agg[i * GEN_D + c] * agg[i * GEN_D + c];
        }
        for (c = 0; c < GEN_D; c++)
            agg[i * GEN_D + c] *= (cfg->learn_msg_scale ? GEN_S : 1) * sqrt(nx) / fmax(sqrt(na), RG_MSGNORM_FLOOR);
    }
}

TEST gen_forward_matches_reference(const rg_gen_config *cfg) {
    gen_fixture f;
    int64_t rowptr[GEN_N + 1], argmax[GEN_N * GEN_D], i, E, ew = cfg->edge_dim;
    int32_t *src = NULL, *got_arg = NULL;
    double x[GEN_N * GEN_D], h[GEN_N * GEN_D], agg[GEN_N * GEN_D], *edge = NULL, *e = NULL, *W = NULL, *b = NULL;
    int bad = -1, bad_arg = -1;
    rg_status st = gen_open(&f, cfg, ew);
    if (st == RG_OK) st = rg_gen_forward(f.ctx, f.y, &f.cache, f.x, &f.g, f.edge, &f.p, cfg, RG_MODE_TRAIN);
    if (st != RG_OK) { gen_close(&f); FAILm(rg_last_error()); }
    E = f.g.n_edges;
    src = (int32_t *)malloc((size_t)E * sizeof(int32_t) + 1);
    got_arg = (int32_t *)malloc(sizeof(int32_t) * GEN_N * GEN_D);
    f.ctx->ops->copy(f.ctx, rowptr, f.g.rowptr, sizeof rowptr, RG_DEVICE_TO_HOST);
    f.ctx->ops->copy(f.ctx, src, f.g.src, (size_t)E * sizeof(int32_t), RG_DEVICE_TO_HOST);
    if (cfg->aggr == RG_AGGR_MAX)
        f.ctx->ops->copy(f.ctx, got_arg, f.cache.argmax, sizeof(int32_t) * GEN_N * GEN_D, RG_DEVICE_TO_HOST);
    to_host(f.ctx, f.x, x);
    to_host(f.ctx, rg_tensor_view(f.cache.h.data, GEN_N, GEN_D), h);
    if (ew) {
        edge = (double *)malloc((size_t)(E * ew) * sizeof(double));
        to_host(f.ctx, f.edge, edge);
        e = edge;
    }
    if (cfg->encode_edges) {
        /* e = edge W + b on the host */
        int64_t k, c, q;
        W = (double *)malloc((size_t)(ew * GEN_D) * sizeof(double));
        b = (double *)malloc(GEN_D * sizeof(double));
        e = (double *)malloc((size_t)(E * GEN_D) * sizeof(double));
        to_host(f.ctx, f.p.edge_enc.W, W);
        to_host(f.ctx, f.p.edge_enc.b, b);
        for (k = 0; k < E; k++)
            for (c = 0; c < GEN_D; c++) {
                double acc = b[c];
                for (q = 0; q < ew; q++) acc += edge[k * ew + q] * W[q * GEN_D + c];
                e[k * GEN_D + c] = acc;
            }
    }
    gen_reference(&f, rowptr, src, x, e, agg, argmax);
    for (i = 0; i < GEN_N * GEN_D && bad < 0; i++)
        if (!(fabs(agg[i] + x[i] - h[i]) <= TOL * (1 + fabs(agg[i] + x[i])))) bad = (int)i;
    for (i = 0; cfg->aggr == RG_AGGR_MAX && i < GEN_N * GEN_D && bad_arg < 0; i++)
        if (argmax[i] != got_arg[i]) bad_arg = (int)i;
    if (e != edge) free(e);
    free(edge); free(W); free(b); free(src); free(got_arg);
    gen_close(&f);
    if (bad >= 0) {
        static char msg[160];
        snprintf(msg, sizeof msg, "h[%d] - x is %.17g, expected %.17g", bad, h[bad] - x[bad], agg[bad]);
        FAILm(msg);
    }
    ASSERTm("MAX records the first winning edge of each channel", bad_arg < 0);
    PASS();
}

TEST gen_rejects_bad_x_shape(void) {
    gen_fixture f;
    rg_gen_config cfg = rg_gen_config_default(GEN_D);
    rg_tensor wide = {NULL, 0, 0};
    rg_status st = gen_open(&f, &cfg, 0), got;
    if (st == RG_OK) st = rg_tensor_zeros(f.ctx, &wide, GEN_N, GEN_D + 1);
    if (st != RG_OK) { rg_tensor_free(f.ctx, &wide); gen_close(&f); FAILm(rg_last_error()); }
    got = rg_gen_forward(f.ctx, f.y, &f.cache, wide, &f.g, f.edge, &f.p, &cfg, RG_MODE_TRAIN);
    rg_tensor_free(f.ctx, &wide);
    gen_close(&f);
    ASSERT_EQ(RG_ERR_ARG, got);
    ASSERT_STRN_EQ("rg_gen_forward: x is 12x5, expected 12x4", rg_last_error(), 40);
    PASS();
}

TEST gen_rejects_edge_width(void) {
    gen_fixture f;
    rg_gen_cache cache;
    rg_gen_config cfg = rg_gen_config_default(GEN_D);
    char want[96];
    rg_status st, got;
    /* a config whose edge width is neither dim nor encoded */
    cfg.edge_dim = 3;
    st = rg_ctx_create_cpu(&f.ctx, 1, 1);
    if (st != RG_OK) FAILm(rg_last_error());
    got = rg_gen_cache_alloc(f.ctx, &cache, &cfg, GEN_N, 40);
    ASSERT_EQ(0, (int)f.ctx->n_allocs);
    rg_ctx_destroy(f.ctx);
    ASSERT_EQ(RG_ERR_ARG, got);
    ASSERT(strstr(rg_last_error(), "edge_dim 3 differs from dim 4") != NULL);
    /* a valid config (edge_dim = dim, no encoder) given edges of width 3 */
    cfg.edge_dim = GEN_D;
    st = gen_open(&f, &cfg, 3);
    if (st != RG_OK) { gen_close(&f); FAILm(rg_last_error()); }
    got = rg_gen_forward(f.ctx, f.y, &f.cache, f.x, &f.g, f.edge, &f.p, &cfg, RG_MODE_TRAIN);
    snprintf(want, sizeof want, "rg_gen_forward: edge is %lldx3, expected %lldx4", (long long)f.g.n_edges,
             (long long)f.g.n_edges);
    gen_close(&f);
    ASSERT_EQ(RG_ERR_ARG, got);
    ASSERT_STRN_EQ(want, rg_last_error(), strlen(want));
    PASS();
}

/* a cache for a larger graph gives the same forward and backward, bit for bit */
TEST gen_cache_serves_smaller_graph(void) {
    gen_fixture f;
    rg_gen_config cfg = rg_gen_config_default(GEN_D);
    rg_gen_cache big;
    rg_tensor dx = {NULL, 0, 0}, dedge = {NULL, 0, 0}, grads = {NULL, 0, 0};
    rg_gen gr;
    rg_binder b = rg_binder_make(NULL, NULL);
    rg_real y1[GEN_N * GEN_D], y2[GEN_N * GEN_D], dx1[GEN_N * GEN_D], dx2[GEN_N * GEN_D];
    rg_status st;
    cfg.edge_dim = 3;
    cfg.encode_edges = 1;
    cfg.msg_norm = 1;
    cfg.learn_msg_scale = 1;
    memset(&big, 0, sizeof big);
    st = gen_open(&f, &cfg, 3);
    rg_gen_bind(&gr, &b, &cfg, "gen.");
    if (st == RG_OK) st = rg_tensor_zeros(f.ctx, &grads, 1, b.n_params);
    b = rg_binder_make(grads.data, NULL);
    rg_gen_bind(&gr, &b, &cfg, "gen.");
    if (st == RG_OK) st = rg_tensor_alloc(f.ctx, &dx, GEN_N, GEN_D);
    if (st == RG_OK) st = rg_tensor_zeros(f.ctx, &dedge, f.g.n_edges, 3);
    if (st == RG_OK) st = rg_gen_cache_alloc(f.ctx, &big, &cfg, GEN_N + 9, f.g.n_edges + 50);
    if (st == RG_OK) st = rg_gen_forward(f.ctx, f.y, &f.cache, f.x, &f.g, f.edge, &f.p, &cfg, RG_MODE_TRAIN);
    if (st == RG_OK) st = rg_tensor_download(f.ctx, f.y, y1);
    if (st == RG_OK)
        st = rg_gen_backward(f.ctx, dx, dedge, &gr, f.y, f.x, &f.g, f.edge, &f.cache, &f.p, &cfg, RG_MODE_TRAIN);
    if (st == RG_OK) st = rg_tensor_download(f.ctx, dx, dx1);
    if (st == RG_OK) st = rg_gen_forward(f.ctx, f.y, &big, f.x, &f.g, f.edge, &f.p, &cfg, RG_MODE_TRAIN);
    if (st == RG_OK) st = rg_tensor_download(f.ctx, f.y, y2);
    if (st == RG_OK) st = rg_gen_backward(f.ctx, dx, dedge, &gr, f.y, f.x, &f.g, f.edge, &big, &f.p, &cfg, RG_MODE_TRAIN);
    if (st == RG_OK) st = rg_tensor_download(f.ctx, dx, dx2);
    if (f.ctx) {
        rg_gen_cache_free(f.ctx, &big);
        rg_tensor_free(f.ctx, &dx);
        rg_tensor_free(f.ctx, &dedge);
        rg_tensor_free(f.ctx, &grads);
    }
    gen_close(&f);
    if (st != RG_OK) FAILm(rg_last_error());
    ASSERT_MEM_EQm("forward with the larger cache", y1, y2, sizeof y1);
    ASSERT_MEM_EQm("backward with the larger cache", dx1, dx2, sizeof dx1);
    PASS();
}

SUITE(gen) {
    static rg_gen_config cfgs[9];
    int i, n = 0;
    rg_aggr aggrs[5] = {RG_AGGR_SUM, RG_AGGR_MEAN, RG_AGGR_MAX, RG_AGGR_SOFTMAX, RG_AGGR_POWER};
    for (i = 0; i < 5; i++) {
        cfgs[n] = rg_gen_config_default(GEN_D);
        cfgs[n].aggr = aggrs[i];
        cfgs[n].learn_p = 1;
        cfgs[n].t = 1.3;
        cfgs[n].p = 1.7;
        n++;
    }
    cfgs[n] = rg_gen_config_default(GEN_D); /* fixed t */
    cfgs[n].learn_t = 0;
    cfgs[n].t = 2.5;
    n++;
    cfgs[n] = rg_gen_config_default(GEN_D); /* encoded edges */
    cfgs[n].edge_dim = 3;
    cfgs[n].encode_edges = 1;
    n++;
    cfgs[n] = rg_gen_config_default(GEN_D); /* raw edges of width dim, power with fixed p */
    cfgs[n].edge_dim = GEN_D;
    cfgs[n].aggr = RG_AGGR_POWER;
    cfgs[n].p = 2.2;
    n++;
    cfgs[n] = rg_gen_config_default(GEN_D); /* MsgNorm with a learned scale */
    cfgs[n].aggr = RG_AGGR_MAX;
    cfgs[n].msg_norm = 1;
    cfgs[n].learn_msg_scale = 1;
    n++;
    for (i = 0; i < n; i++) RUN_TEST1(gen_forward_matches_reference, &cfgs[i]);
    RUN_TEST(gen_rejects_bad_x_shape);
    RUN_TEST(gen_rejects_edge_width);
    RUN_TEST(gen_cache_serves_smaller_graph);
}
