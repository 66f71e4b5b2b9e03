/* GCNConv, SAGEConv and GATConv against values worked out by hand, the SpMM op against a
   dense matrix, self-loop invariance, and bad input. (Gradients: the layer cases in
   cases_convs.c.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "layer_case.h"

#define TOL (sizeof(rg_real) == sizeof(double) ? 1e-12 : 2e-6)

/* alloc + upload of n values given as doubles */
static rg_status tc_tensor(rg_ctx *ctx, rg_tensor *t, int64_t rows, int64_t cols, const double *v) {
    rg_real h[64];
    int64_t i;
    rg_status st = rg_tensor_alloc(ctx, t, rows, cols);
    if (st != RG_OK) return st;
    if (!v) return RG_OK;
    if (rows * cols > 64) return rg_error_set(RG_ERR_ARG, "tc_tensor: too large");
    for (i = 0; i < rows * cols; i++) h[i] = (rg_real)v[i];
    return rg_tensor_upload(ctx, *t, h);
}

static rg_status tc_read(rg_ctx *ctx, rg_tensor t, double *out) {
    rg_real h[64];
    int64_t i;
    rg_status st;
    if (rg_tensor_numel(t) > 64) return rg_error_set(RG_ERR_ARG, "tc_read: too large");
    if ((st = rg_tensor_download(ctx, t, h)) != RG_OK) return st;
    for (i = 0; i < rg_tensor_numel(t); i++) out[i] = h[i];
    return RG_OK;
}

static rg_status tc_graph(rg_ctx *ctx, rg_graph *dev, int64_t n, int64_t m, const int32_t *src, const int32_t *dst,
                          int add_reverse) {
    rg_graph host;
    rg_graph_options opt = rg_graph_options_default();
    rg_status st;
    opt.add_reverse = add_reverse;
    memset(dev, 0, sizeof *dev);
    if ((st = rg_graph_from_coo(&host, n, m, src, dst, NULL, 0, &opt)) != RG_OK) return st;
    st = rg_graph_to_device(ctx, &host, dev);
    rg_graph_free(NULL, &host);
    return st;
}

static enum greatest_test_res tc_close(const char *what, const double *got, const double *want, int64_t n) {
    static char msg[256];
    int64_t i;
    for (i = 0; i < n; i++) {
        snprintf(msg, sizeof msg, "%s[%lld] is %.10g, expected %.10g", what, (long long)i, got[i], want[i]);
        ASSERTm(msg, fabs(got[i] - want[i]) <= TOL * (1 + fabs(want[i])));
    }
    PASS();
}

/* Path 0 - 1 - 2 (both directions), in = out = 1, W = 2, b = 0.5, x = (1, 2, 3).
   Degrees without self-loops 1, 2, 1, so d^-1/2 of (A + I) is (1/sqrt2, 1/sqrt3, 1/sqrt2) and
       A_hat = [ 1/2      1/sqrt6  0       ]
               [ 1/sqrt6  1/3      1/sqrt6 ]   (1/sqrt6 = 1/(sqrt2 sqrt3) = 0.4082483)
               [ 0        1/sqrt6  1/2     ]
   x W = (2, 4, 6), y = A_hat x W + 0.5:
       y0 = 2/2 + 4/sqrt6 + 0.5         = 3.1329932
       y1 = 2/sqrt6 + 4/3 + 6/sqrt6 + 0.5 = 5.0993196
       y2 = 4/sqrt6 + 6/2 + 0.5          = 5.1329932
   Backward with dy = (1, 0, 0): G = A_hat^T dy = (1/2, 1/sqrt6, 0), dW = x . G = 0.5 + 2/sqrt6
   = 1.3164966, db = 1, dx = 2 G = (1, 2/sqrt6, 0). */
TEST gcn_path_by_hand(void) {
    const int32_t src[] = {0, 1}, dst[] = {1, 2};
    const double x[] = {1, 2, 3}, params[] = {2, 0.5}, dy[] = {1, 0, 0}, r6 = 1 / sqrt(6.0);
    const double want_y[] = {1 + 4 * r6 + 0.5, 2 * r6 + 4.0 / 3 + 6 * r6 + 0.5, 4 * r6 + 3 + 0.5};
    const double want_g[] = {0.5 + 2 * r6, 1}, want_dx[] = {1, 2 * r6, 0};
    double y[3], g[2], dx[3];
    rg_ctx *ctx;
    rg_graph gr;
    rg_tensor tx, ty, tp, tg, tdy, tdx;
    rg_gcn p, pg;
    rg_gcn_cache cache;
    rg_binder b;
    rg_status st;
    enum greatest_test_res res;
    memset(&cache, 0, sizeof cache);
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    st = tc_graph(ctx, &gr, 3, 2, src, dst, 1);
    if (st == RG_OK) st = tc_tensor(ctx, &tx, 3, 1, x);
    if (st == RG_OK) st = tc_tensor(ctx, &ty, 3, 1, NULL);
    if (st == RG_OK) st = tc_tensor(ctx, &tp, 1, 2, params);
    if (st == RG_OK) st = tc_tensor(ctx, &tg, 1, 2, NULL);
    if (st == RG_OK) st = tc_tensor(ctx, &tdy, 3, 1, dy);
    if (st == RG_OK) st = tc_tensor(ctx, &tdx, 3, 1, NULL);
    if (st == RG_OK) st = rg_tensor_fill(ctx, tg, 0);
    b = rg_binder_make(tp.data, NULL);
    rg_gcn_bind(&p, &b, 1, 1, "");
    b = rg_binder_make(tg.data, NULL);
    rg_gcn_bind(&pg, &b, 1, 1, "");
    if (st == RG_OK) st = rg_gcn_cache_alloc(ctx, &cache, 1, 3);
    if (st == RG_OK) st = rg_gcn_forward(ctx, ty, &cache, tx, &gr, &p);
    if (st == RG_OK) st = rg_gcn_backward(ctx, tdx, &pg, tdy, tx, &gr, &cache, &p);
    if (st == RG_OK) st = tc_read(ctx, ty, y);
    if (st == RG_OK) st = tc_read(ctx, tg, g);
    if (st == RG_OK) st = tc_read(ctx, tdx, dx);
    rg_gcn_cache_free(ctx, &cache);
    rg_tensor_free(ctx, &tx); rg_tensor_free(ctx, &ty); rg_tensor_free(ctx, &tp);
    rg_tensor_free(ctx, &tg); rg_tensor_free(ctx, &tdy); rg_tensor_free(ctx, &tdx);
    rg_graph_free(ctx, &gr);
    rg_ctx_destroy(ctx);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    if ((res = tc_close("gcn y", y, want_y, 3)) != GREATEST_TEST_RES_PASS) return res;
    if ((res = tc_close("gcn dW, db", g, want_g, 2)) != GREATEST_TEST_RES_PASS) return res;
    return tc_close("gcn dx", dx, want_dx, 3);
}

/* Directed 0 -> 1, 0 -> 2, 1 -> 2; in = 2, out = 1; W_l = (2, 1), b = 0.5, W_r = (-1, 0.5);
   x = (1, 0), (2, 1), (4, -2). Means over incoming edges: node 0 none -> (0, 0); node 1 x0 =
   (1, 0); node 2 (x0 + x1)/2 = (1.5, 0.5). y = mean W_l + 0.5 + x W_r:
       y0 = 0 + 0.5 - 1 = -0.5;  y1 = 2 + 0.5 - 1.5 = 1;  y2 = 3.5 + 0.5 - 5 = -1.
   Backward with dy = (0, 0, 1): dW_l = mean_2 = (1.5, 0.5), db = 1, dW_r = x2 = (4, -2);
   dy W_l^T is (2, 1) on node 2 only, and node 2 averages over 2 sources, so A_mean^T gives
   (1, 0.5) to nodes 0 and 1; dx = that + dy W_r^T = (1, 0.5), (1, 0.5), (-1, 0.5). */
TEST sage_by_hand(void) {
    const int32_t src[] = {0, 0, 1}, dst[] = {1, 2, 2};
    const double x[] = {1, 0, 2, 1, 4, -2}, params[] = {2, 1, 0.5, -1, 0.5}, dy[] = {0, 0, 1};
    const double want_y[] = {-0.5, 1, -1}, want_g[] = {1.5, 0.5, 1, 4, -2}, want_dx[] = {1, 0.5, 1, 0.5, -1, 0.5};
    double y[3], g[5], dx[6];
    rg_ctx *ctx;
    rg_graph gr;
    rg_tensor tx, ty, tp, tg, tdy, tdx;
    rg_sage p, pg;
    rg_sage_cache cache;
    rg_binder b;
    rg_status st;
    enum greatest_test_res res;
    memset(&cache, 0, sizeof cache);
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    st = tc_graph(ctx, &gr, 3, 3, src, dst, 0);
    if (st == RG_OK) st = tc_tensor(ctx, &tx, 3, 2, x);
    if (st == RG_OK) st = tc_tensor(ctx, &ty, 3, 1, NULL);
    if (st == RG_OK) st = tc_tensor(ctx, &tp, 1, 5, params);
    if (st == RG_OK) st = tc_tensor(ctx, &tg, 1, 5, NULL);
    if (st == RG_OK) st = tc_tensor(ctx, &tdy, 3, 1, dy);
    if (st == RG_OK) st = tc_tensor(ctx, &tdx, 3, 2, NULL);
    if (st == RG_OK) st = rg_tensor_fill(ctx, tg, 0);
    b = rg_binder_make(tp.data, NULL);
    rg_sage_bind(&p, &b, 2, 1, "");
    b = rg_binder_make(tg.data, NULL);
    rg_sage_bind(&pg, &b, 2, 1, "");
    if (st == RG_OK) st = rg_sage_cache_alloc(ctx, &cache, 2, 3);
    if (st == RG_OK) st = rg_sage_forward(ctx, ty, &cache, tx, &gr, &p);
    if (st == RG_OK) st = rg_sage_backward(ctx, tdx, &pg, tdy, tx, &gr, &cache, &p);
    if (st == RG_OK) st = tc_read(ctx, ty, y);
    if (st == RG_OK) st = tc_read(ctx, tg, g);
    if (st == RG_OK) st = tc_read(ctx, tdx, dx);
    rg_sage_cache_free(ctx, &cache);
    rg_tensor_free(ctx, &tx); rg_tensor_free(ctx, &ty); rg_tensor_free(ctx, &tp);
    rg_tensor_free(ctx, &tg); rg_tensor_free(ctx, &tdy); rg_tensor_free(ctx, &tdx);
    rg_graph_free(ctx, &gr);
    rg_ctx_destroy(ctx);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    if ((res = tc_close("sage y", y, want_y, 3)) != GREATEST_TEST_RES_PASS) return res;
    if ((res = tc_close("sage dW_l, db, dW_r", g, want_g, 5)) != GREATEST_TEST_RES_PASS) return res;
    return tc_close("sage dx", dx, want_dx, 6);
}

/* GAT forward on graph gr with the given parameters (bind order W, att_src, att_dst, bias); y
   read back into out. */
static rg_status tc_gat_forward(const rg_graph *gr, rg_ctx *ctx, const rg_gat_config *cfg, const double *params,
                                const double *x, double *out) {
    rg_tensor tx, ty, tp;
    rg_gat p;
    rg_gat_cache cache;
    rg_binder b = rg_binder_make(NULL, NULL);
    rg_status st;
    memset(&tx, 0, sizeof tx); memset(&ty, 0, sizeof ty); memset(&tp, 0, sizeof tp);
    memset(&cache, 0, sizeof cache);
    rg_gat_bind(&p, &b, cfg, "");
    st = tc_tensor(ctx, &tp, 1, b.n_params, params);
    b = rg_binder_make(tp.data, NULL);
    rg_gat_bind(&p, &b, cfg, "");
    if (st == RG_OK) st = tc_tensor(ctx, &tx, gr->n_nodes, cfg->in, x);
    if (st == RG_OK) st = tc_tensor(ctx, &ty, gr->n_nodes, rg_gat_out_dim(cfg), NULL);
    if (st == RG_OK) st = rg_gat_cache_alloc(ctx, &cache, cfg, gr->n_nodes);
    if (st == RG_OK) st = rg_gat_forward(ctx, ty, &cache, tx, gr, &p, cfg);
    if (st == RG_OK) st = tc_read(ctx, ty, out);
    rg_gat_cache_free(ctx, &cache);
    rg_tensor_free(ctx, &tx); rg_tensor_free(ctx, &ty); rg_tensor_free(ctx, &tp);
    return st;
}

/* Edges 0 -> 1 and an explicit self-loop 1 -> 1 (skipped: the self-loop is implicit); one
   head of one channel, W = 1, att_src = 1, att_dst = -1, bias 0, x = (1, 2), so h = x.
   Node 0 sees only itself: y0 = h0 = 1. Node 1: e_10 = LeakyReLU(a_src h0 + a_dst h1) =
   LeakyReLU(-1) = -0.2, e_11 = LeakyReLU(2 - 2) = 0, so alpha_10 = e^-0.2 / (e^-0.2 + 1) =
   0.4501660 and y1 = 0.4501660 * 1 + 0.5498340 * 2 = 1.5498340. (With the roles of a_src and
   a_dst swapped, e_10 would be 1 and y1 = 1.2689414.) */
TEST gat_two_nodes_by_hand(void) {
    const int32_t src[] = {0, 1}, dst[] = {1, 1};
    const double x[] = {1, 2}, params[] = {1, 1, -1, 0};
    const double a = exp(-0.2) / (exp(-0.2) + 1), want[] = {1, a * 1 + (1 - a) * 2};
    double y[2];
    rg_gat_config cfg;
    rg_ctx *ctx;
    rg_graph gr;
    rg_status st;
    cfg.in = 1; cfg.heads = 1; cfg.head_dim = 1; cfg.concat = 1;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    st = tc_graph(ctx, &gr, 2, 2, src, dst, 0);
    if (st == RG_OK) st = tc_gat_forward(&gr, ctx, &cfg, params, x, y);
    rg_graph_free(ctx, &gr);
    rg_ctx_destroy(ctx);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    return tc_close("gat y", y, want, 2);
}

/* Zero attention vectors make every score 0, so alpha is uniform over the neighbourhood
   (sources of incoming edges, with multiplicity, explicit self-loops skipped, plus the node
   itself): each head's output is a plain mean of h = x W. Checked for concatenated and for
   averaged heads against that mean computed here. */
TEST gat_equal_scores_is_mean(void) {
    /* node 0: no incoming edge; node 1: from 0, 2, itself; node 2: from 1, 3, 0, 3 (twice) */
    const int32_t src[] = {0, 2, 1, 1, 3, 0, 3}, dst[] = {1, 1, 1, 2, 2, 2, 2};
    const int64_t n = 4, in = 3, heads = 2, f = 2, hf = heads * f;
    double x[12], params[3 * 4 + 2 * 4 + 4], h[16], want_cat[16], want_mean[8], y_cat[16], y_mean[8];
    const double bias[] = {0.1, -0.2, 0.3, -0.4};
    rg_gat_config cfg;
    rg_ctx *ctx;
    rg_graph gr;
    rg_status st;
    int64_t i, j, c, k;
    enum greatest_test_res res;
    for (i = 0; i < n * in; i++) x[i] = sin(1.0 + (double)i);
    for (i = 0; i < in * hf; i++) params[i] = cos(2.0 * (double)i);
    for (i = 0; i < 2 * hf; i++) params[in * hf + i] = 0; /* att_src, att_dst */
    for (i = 0; i < n; i++)
        for (c = 0; c < hf; c++) {
            h[i * hf + c] = 0;
            for (k = 0; k < in; k++) h[i * hf + c] += x[i * in + k] * params[k * hf + c];
        }
    for (i = 0; i < n; i++) {
        int64_t cnt = 1;
        for (c = 0; c < hf; c++) want_cat[i * hf + c] = h[i * hf + c];
        for (k = 0; k < 7; k++) {
            if (dst[k] != i || src[k] == i) continue;
            j = src[k];
            cnt++;
            for (c = 0; c < hf; c++) want_cat[i * hf + c] += h[j * hf + c];
        }
        for (c = 0; c < hf; c++) want_cat[i * hf + c] /= (double)cnt;
        for (c = 0; c < f; c++) want_mean[i * f + c] = (want_cat[i * hf + c] + want_cat[i * hf + f + c]) / 2 + bias[c];
        for (c = 0; c < hf; c++) want_cat[i * hf + c] += bias[c];
    }
    cfg.in = in; cfg.heads = heads; cfg.head_dim = f; cfg.concat = 1;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 2, 1));
    st = tc_graph(ctx, &gr, n, 7, src, dst, 0);
    for (i = 0; i < hf; i++) params[in * hf + 2 * hf + i] = bias[i];
    if (st == RG_OK) st = tc_gat_forward(&gr, ctx, &cfg, params, x, y_cat);
    cfg.concat = 0;
    if (st == RG_OK) st = tc_gat_forward(&gr, ctx, &cfg, params, x, y_mean);
    rg_graph_free(ctx, &gr);
    rg_ctx_destroy(ctx);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    if ((res = tc_close("gat concat y", y_cat, want_cat, n * hf)) != GREATEST_TEST_RES_PASS) return res;
    return tc_close("gat mean y", y_mean, want_mean, n * f);
}

/* The spmm op and its transpose against the dense matrix built here from the edge list, for
   SUM, MEAN and GCN, on lc_graph with and without added self-loops. */
TEST spmm_matches_dense(void) {
    enum { N = 12, D = 3 };
    static double A[N][N], xin[N * D], want[N * D], got[N * D];
    static char msg[256];
    const rg_aggr aggrs[] = {RG_AGGR_SUM, RG_AGGR_MEAN, RG_AGGR_GCN};
    int loops, a, t;
    double worst = 0;
    rg_ctx *ctx;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 2, 5));
    for (loops = 0; loops < 2; loops++) {
        rg_graph gr;
        rg_graph_options opt = rg_graph_options_default();
        rg_tensor tx, ty;
        int64_t rowptr[N + 1], i, e, k;
        int32_t src[256];
        rg_status st;
        opt.add_self_loops = loops;
        memset(&tx, 0, sizeof tx); memset(&ty, 0, sizeof ty);
        st = lc_graph_opt(ctx, &gr, N, 0, 77, &opt);
        if (st == RG_OK && gr.n_edges > 256) st = rg_error_set(RG_ERR_ARG, "graph too large for the test");
        if (st == RG_OK) {
            ctx->ops->copy(ctx, rowptr, gr.rowptr, sizeof rowptr, RG_DEVICE_TO_HOST);
            ctx->ops->copy(ctx, src, gr.src, (size_t)gr.n_edges * sizeof(int32_t), RG_DEVICE_TO_HOST);
            st = lc_random(ctx, &tx, N, D, -1, 1, 3);
        }
        if (st == RG_OK) st = rg_tensor_alloc(ctx, &ty, N, D);
        if (st == RG_OK) {
            rg_real hx[N * D];
            st = rg_tensor_download(ctx, tx, hx);
            for (i = 0; i < N * D; i++) xin[i] = hx[i];
        }
        for (a = 0; a < 3 && st == RG_OK; a++) {
            double dinv[N];
            memset(A, 0, sizeof A);
            for (i = 0; i < N; i++) {
                int64_t deg = 0;
                for (e = rowptr[i]; e < rowptr[i + 1]; e++) deg += src[e] != i;
                dinv[i] = 1 / sqrt(1.0 + (double)deg);
            }
            for (i = 0; i < N; i++) {
                for (e = rowptr[i]; e < rowptr[i + 1]; e++) {
                    if (aggrs[a] == RG_AGGR_SUM) A[i][src[e]] += 1;
                    else if (aggrs[a] == RG_AGGR_MEAN) A[i][src[e]] += 1.0 / (double)(rowptr[i + 1] - rowptr[i]);
                    else if (src[e] != i) A[i][src[e]] += dinv[i] * dinv[src[e]];
                }
                if (aggrs[a] == RG_AGGR_GCN) A[i][i] += dinv[i] * dinv[i];
            }
            for (t = 0; t < 2 && st == RG_OK; t++) {
                rg_real hy[N * D];
                if (t == 0)
                    ctx->ops->spmm(ctx, ty.data, tx.data, N, D, aggrs[a], gr.rowptr, gr.src, gr.inv_deg, gr.gcn_dinv);
                else
                    ctx->ops->spmm_t(ctx, ty.data, tx.data, N, D, aggrs[a], gr.t_rowptr, gr.t_edge, gr.dst,
                                     gr.inv_deg, gr.gcn_dinv);
                st = rg_ctx_take_status(ctx);
                if (st == RG_OK) st = rg_tensor_download(ctx, ty, hy);
                for (i = 0; i < N; i++)
                    for (k = 0; k < D; k++) {
                        int64_t j;
                        want[i * D + k] = 0;
                        for (j = 0; j < N; j++) want[i * D + k] += (t ? A[j][i] : A[i][j]) * xin[j * D + k];
                        got[i * D + k] = hy[i * D + k];
                        if (fabs(got[i * D + k] - want[i * D + k]) > worst) {
                            worst = fabs(got[i * D + k] - want[i * D + k]);
                            snprintf(msg, sizeof msg, "spmm%s aggr %d, self-loops %d: [%lld, %lld] is %.10g, expected %.10g",
                                     t ? "_t" : "", (int)aggrs[a], loops, (long long)i, (long long)k, got[i * D + k],
                                     want[i * D + k]);
                        }
                    }
            }
        }
        rg_tensor_free(ctx, &tx);
        rg_tensor_free(ctx, &ty);
        rg_graph_free(ctx, &gr);
        if (st != RG_OK) {
            rg_ctx_destroy(ctx);
            FAILm(rg_last_error());
        }
    }
    rg_ctx_destroy(ctx);
    ASSERTm(msg, worst <= 10 * TOL);
    PASS();
}

static const layer_case *tc_find_case(const char *name) {
    int i;
    for (i = 0; lc_cases_convs[i].name; i++)
        if (strcmp(lc_cases_convs[i].name, name) == 0) return &lc_cases_convs[i];
    return NULL;
}

/* output, then every gradient after backward with dout = a fixed pattern, appended to out */
static rg_status tc_case_results(const layer_case *c, double *out, int64_t cap, int64_t *count) {
    rg_ctx *ctx;
    void *state = calloc(1, c->state_size);
    lc_tensor list[LC_MAX_TENSORS];
    rg_tensor y, dout;
    int n = 0, t;
    rg_status st = rg_ctx_create_cpu(&ctx, 2, 20261121u);
    *count = 0;
    memset(&dout, 0, sizeof dout);
    if (st != RG_OK) { free(state); return st; }
    st = c->setup(ctx, state);
    if (st == RG_OK) n = c->tensors(state, list);
    for (t = 0; t < n && st == RG_OK; t++) st = rg_tensor_fill(ctx, list[t].grad, 0);
    if (st == RG_OK) st = c->forward(ctx, state, &y);
    if (st == RG_OK) st = lc_random(ctx, &dout, y.rows, y.cols, -1, 1, 9);
    if (st == RG_OK) st = c->backward(ctx, state, dout);
    for (t = -1; t < n && st == RG_OK; t++) {
        rg_tensor v = t < 0 ? y : list[t].grad;
        int64_t i, m = rg_tensor_numel(v);
        rg_real *h = (rg_real *)malloc((size_t)m * sizeof(rg_real) + 1);
        if (*count + m > cap) st = rg_error_set(RG_ERR_ARG, "tc_case_results: too many values");
        else st = rg_tensor_download(ctx, v, h);
        for (i = 0; i < m && st == RG_OK; i++) out[(*count)++] = h[i];
        free(h);
    }
    rg_tensor_free(ctx, &dout);
    c->teardown(ctx, state);
    free(state);
    rg_ctx_destroy(ctx);
    return st;
}

/* GCN and GAT skip explicit self-loops and add their own: adding every self-loop to the
   graph must leave the output and every gradient bitwise unchanged. */
TEST self_loops_change_nothing(void) {
    static const char *pairs[][2] = {{"gcn", "gcn_self_loops"}, {"gat_concat", "gat_concat_self_loops"}};
    static double a[1024], b[1024];
    static char msg[128];
    int p;
    for (p = 0; p < 2; p++) {
        const layer_case *ca = tc_find_case(pairs[p][0]), *cb = tc_find_case(pairs[p][1]);
        int64_t na = 0, nb = 0;
        rg_status st;
        ASSERT(ca && cb);
        st = tc_case_results(ca, a, 1024, &na);
        ASSERT_EQm(rg_last_error(), RG_OK, st);
        st = tc_case_results(cb, b, 1024, &nb);
        ASSERT_EQm(rg_last_error(), RG_OK, st);
        snprintf(msg, sizeof msg, "%s differs from %s", pairs[p][1], pairs[p][0]);
        ASSERT_EQm(msg, na, nb);
        ASSERT_GT(na, 0);
        ASSERT_MEM_EQm(msg, a, b, (size_t)na * sizeof(double));
    }
    PASS();
}

/* Each bad call's status and message, asserted after everything is freed. */
typedef struct tc_bad {
    rg_status st;
    char msg[512];
    const char *want;
} tc_bad;

static void tc_record(tc_bad *b, rg_status st, const char *want) {
    b->st = st;
    snprintf(b->msg, sizeof b->msg, "%s", rg_last_error());
    b->want = want;
}

TEST bad_inputs(void) {
    const int32_t src[] = {0, 1}, dst[] = {1, 2};
    static tc_bad bad[9];
    static char msg[800];
    rg_ctx *ctx;
    rg_graph gr, host;
    rg_tensor x, xbad, y, ybad, params;
    rg_gcn p;
    rg_gcn_cache gcache;
    rg_gat_cache tcache;
    rg_gat gat;
    rg_gat_config cfg, badcfg;
    rg_binder b;
    rg_status st;
    size_t leaked;
    int n = 0, k;
    memset(&gcache, 0, sizeof gcache);
    cfg.in = 5; cfg.heads = 2; cfg.head_dim = 3; cfg.concat = 1;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    st = tc_graph(ctx, &gr, 3, 2, src, dst, 1);
    if (st == RG_OK) st = rg_graph_from_coo(&host, 3, 2, src, dst, NULL, 0, NULL);
    if (st == RG_OK) st = rg_tensor_zeros(ctx, &x, 3, 5);
    if (st == RG_OK) st = rg_tensor_zeros(ctx, &xbad, 3, 3);
    if (st == RG_OK) st = rg_tensor_zeros(ctx, &y, 3, 4);
    if (st == RG_OK) st = rg_tensor_zeros(ctx, &ybad, 3, 2);
    if (st == RG_OK) st = rg_tensor_zeros(ctx, &params, 1, 64);
    if (st == RG_OK) st = rg_gcn_cache_alloc(ctx, &gcache, 4, 3);
    if (st != RG_OK) { rg_ctx_destroy(ctx); FAILm(rg_last_error()); }
    b = rg_binder_make(params.data, NULL);
    rg_gcn_bind(&p, &b, 5, 4, "");
    tc_record(&bad[n++], rg_gcn_forward(ctx, y, &gcache, xbad, &gr, &p), "rg_gcn_forward: x is 3x3, expected 3x5");
    tc_record(&bad[n++], rg_gcn_forward(ctx, ybad, &gcache, x, &gr, &p), "y is 3x2, expected 3x4");
    tc_record(&bad[n++], rg_gcn_backward(ctx, xbad, &p, y, x, &gr, &gcache, &p), "dx is 3x3, expected 3x5");
    tc_record(&bad[n++], rg_gcn_forward(ctx, y, &gcache, x, &host, &p), "not on this context");
    badcfg = cfg;
    badcfg.heads = 0;
    tc_record(&bad[n++], rg_gat_cache_alloc(ctx, &tcache, &badcfg, 3), "heads = 0");
    b = rg_binder_make(params.data, NULL);
    rg_gat_bind(&gat, &b, &cfg, "");
    badcfg.heads = -1;
    tc_record(&bad[n++], rg_gat_forward(ctx, y, &tcache, x, &gr, &gat, &badcfg), "heads = -1");
    tc_record(&bad[n++], rg_gat_init(ctx, &gat, &badcfg, 0), "heads = -1");
    ctx->ops->spmm(ctx, y.data, x.data, 3, 4, RG_AGGR_MAX, gr.rowptr, gr.src, gr.inv_deg, gr.gcn_dinv);
    tc_record(&bad[n++], rg_ctx_take_status(ctx), "spmm: aggregator 2 is not linear");
    ctx->ops->spmm_t(ctx, y.data, x.data, 3, 4, RG_AGGR_SOFTMAX, gr.t_rowptr, gr.t_edge, gr.dst, gr.inv_deg,
                     gr.gcn_dinv);
    tc_record(&bad[n++], rg_ctx_take_status(ctx), "spmm_t: aggregator 3 is not linear");
    rg_gcn_cache_free(ctx, &gcache);
    rg_tensor_free(ctx, &x); rg_tensor_free(ctx, &xbad); rg_tensor_free(ctx, &y); rg_tensor_free(ctx, &ybad);
    rg_tensor_free(ctx, &params);
    rg_graph_free(ctx, &gr);
    rg_graph_free(NULL, &host);
    leaked = ctx->n_allocs;
    rg_ctx_destroy(ctx);
    for (k = 0; k < n; k++) {
        snprintf(msg, sizeof msg, "bad call %d: expected RG_ERR_ARG with \"%s\", got %s: \"%s\"", k, bad[k].want,
                 rg_status_name(bad[k].st), bad[k].msg);
        ASSERTm(msg, bad[k].st == RG_ERR_ARG && strstr(bad[k].msg, bad[k].want) != NULL);
    }
    ASSERT_EQ(0, rg_gat_out_dim(&badcfg));
    ASSERT_EQ(6, rg_gat_out_dim(&cfg));
    ASSERT_EQm("bad calls left allocations behind", (size_t)0, leaked);
    PASS();
}

SUITE(convs) {
    RUN_TEST(gcn_path_by_hand);
    RUN_TEST(sage_by_hand);
    RUN_TEST(gat_two_nodes_by_hand);
    RUN_TEST(gat_equal_scores_is_mean);
    RUN_TEST(spmm_matches_dense);
    RUN_TEST(self_loops_change_nothing);
    RUN_TEST(bad_inputs);
}
