/* CSR graph construction: duplicates, self-loops, reverse edges, source order within a row,
   the transpose, degree arrays, random partitions, induced subgraphs, and the device copy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "revgnn.h"

#define GR_TOL (sizeof(rg_real) == sizeof(double) ? 1e-15 : 1e-7)

static rg_graph_options gr_options(int add_reverse, int add_self_loops, int drop_duplicates) {
    rg_graph_options o = rg_graph_options_default();
    o.add_reverse = add_reverse;
    o.add_self_loops = add_self_loops;
    o.drop_duplicates = drop_duplicates;
    return o;
}

/* edges s -> d in g */
static int64_t gr_count(const rg_graph *g, int32_t s, int32_t d) {
    int64_t e, n = 0;
    for (e = g->rowptr[d]; e < g->rowptr[d + 1]; e++) n += g->src[e] == s;
    return n;
}

/* the feature (column c) of the k-th edge s -> d in row order, NAN when there is none */
static double gr_feat(const rg_graph *g, int32_t s, int32_t d, int64_t k, int64_t c) {
    int64_t e;
    for (e = g->rowptr[d]; e < g->rowptr[d + 1]; e++)
        if (g->src[e] == s && k-- == 0) return g->edge_feat[e * g->edge_dim + c];
    return NAN;
}

/* Rows sorted by source with dst matching the row; every edge exactly once in its source's
   transpose list; rg_graph_validate agrees. */
static enum greatest_test_res gr_check_structure(const rg_graph *g) {
    int64_t i, e, f;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_validate(g));
    for (i = 0; i < g->n_nodes; i++)
        for (e = g->rowptr[i]; e < g->rowptr[i + 1]; e++) {
            ASSERT_EQ(i, (int64_t)g->dst[e]);
            if (e > g->rowptr[i]) ASSERTm("a row is not sorted by source", g->src[e - 1] <= g->src[e]);
        }
    for (e = 0; e < g->n_edges; e++) {
        int64_t seen = 0, s = g->src[e];
        for (f = g->t_rowptr[s]; f < g->t_rowptr[s + 1]; f++) seen += g->t_edge[f] == e;
        ASSERT_EQm("an edge is not exactly once in its source's transpose list", 1, (int)seen);
    }
    ASSERT_EQ(g->n_edges, g->t_rowptr[g->n_nodes]);
    PASS();
}

TEST graph_duplicates(void) {
    static const int32_t src[] = {0, 2, 0, 0, 1}, dst[] = {1, 1, 1, 1, 2};
    static const rg_real feat[] = {1, 2, 3, 4, 5};
    rg_graph_options keep = gr_options(0, 0, 0), drop = gr_options(0, 0, 1);
    rg_graph g;
    /* kept: row 1 holds 0, 0, 0 (input order) then 2 */
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&g, 3, 5, src, dst, feat, 1, &keep));
    ASSERT_EQ(5, (int)g.n_edges);
    ASSERT_EQ(3, (int)gr_count(&g, 0, 1));
    ASSERT_EQ(1.0, gr_feat(&g, 0, 1, 0, 0));
    ASSERT_EQ(3.0, gr_feat(&g, 0, 1, 1, 0));
    ASSERT_EQ(4.0, gr_feat(&g, 0, 1, 2, 0));
    ASSERT_EQ(2.0, gr_feat(&g, 2, 1, 0, 0));
    CHECK_CALL(gr_check_structure(&g));
    rg_graph_free(NULL, &g);
    /* dropped: the first of the three stays */
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&g, 3, 5, src, dst, feat, 1, &drop));
    ASSERT_EQ(3, (int)g.n_edges);
    ASSERT_EQ(1, (int)gr_count(&g, 0, 1));
    ASSERT_EQ(1.0, gr_feat(&g, 0, 1, 0, 0));
    ASSERT_EQ(1, (int)gr_count(&g, 2, 1));
    ASSERT_EQ(1, (int)gr_count(&g, 1, 2));
    CHECK_CALL(gr_check_structure(&g));
    rg_graph_free(NULL, &g);
    PASS();
}

TEST graph_self_loops(void) {
    static const int32_t src[] = {2, 0, 3}, dst[] = {2, 1, 1};
    static const rg_real feat[] = {7, -7, 1, -1, 2, -2};
    rg_graph_options loops = gr_options(0, 1, 0);
    rg_graph g;
    int32_t i;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&g, 4, 3, src, dst, feat, 2, NULL));
    ASSERT_EQ(3, (int)g.n_edges); /* none added unless asked */
    ASSERT_EQ(0, (int)gr_count(&g, 0, 0));
    rg_graph_free(NULL, &g);
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&g, 4, 3, src, dst, feat, 2, &loops));
    ASSERT_EQ(6, (int)g.n_edges); /* nodes 0, 1, 3 get one; node 2 has its own */
    for (i = 0; i < 4; i++) ASSERT_EQ(1, (int)gr_count(&g, i, i));
    ASSERT_EQ(7.0, gr_feat(&g, 2, 2, 0, 0));
    ASSERT_EQ(-7.0, gr_feat(&g, 2, 2, 0, 1));
    for (i = 0; i < 4; i++)
        if (i != 2) ASSERT(gr_feat(&g, i, i, 0, 0) == 0 && gr_feat(&g, i, i, 0, 1) == 0);
    ASSERT_EQ(1.0, gr_feat(&g, 0, 1, 0, 0));
    ASSERT_EQ(-2.0, gr_feat(&g, 3, 1, 0, 1));
    CHECK_CALL(gr_check_structure(&g));
    rg_graph_free(NULL, &g);
    PASS();
}

TEST graph_reverse(void) {
    static const int32_t src[] = {0, 1}, dst[] = {1, 2}, src2[] = {0, 1}, dst2[] = {1, 0};
    static const rg_real feat[] = {1, 10, 2, 20};
    rg_graph_options rev = gr_options(1, 0, 0), rev_drop = gr_options(1, 0, 1);
    rg_graph g;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&g, 3, 2, src, dst, feat, 2, &rev));
    ASSERT_EQ(4, (int)g.n_edges);
    ASSERT_EQ(1, (int)gr_count(&g, 1, 0));
    ASSERT_EQ(1, (int)gr_count(&g, 2, 1));
    ASSERT_EQ(1.0, gr_feat(&g, 1, 0, 0, 0));
    ASSERT_EQ(10.0, gr_feat(&g, 1, 0, 0, 1));
    ASSERT_EQ(2.0, gr_feat(&g, 2, 1, 0, 0));
    ASSERT_EQ(20.0, gr_feat(&g, 2, 1, 0, 1));
    ASSERT_EQ(10.0, gr_feat(&g, 0, 1, 0, 1));
    CHECK_CALL(gr_check_structure(&g));
    rg_graph_free(NULL, &g);
    /* an edge stored both ways: the reversed copies are duplicates, the given ones stay */
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&g, 2, 2, src2, dst2, feat, 2, &rev_drop));
    ASSERT_EQ(2, (int)g.n_edges);
    ASSERT_EQ(1.0, gr_feat(&g, 0, 1, 0, 0));
    ASSERT_EQ(2.0, gr_feat(&g, 1, 0, 0, 0));
    rg_graph_free(NULL, &g);
    PASS();
}

/* A random multigraph through every option: the structure holds and every input edge is
   there as often as it was given (plus its reverse). */
TEST graph_random_structure(void) {
    enum { N = 30, E = 120 };
    int32_t src[E], dst[E];
    int opt;
    int64_t k;
    for (k = 0; k < E; k++) {
        src[k] = (int32_t)(rg_rng_u64(5, 1, (uint64_t)k) % N);
        dst[k] = k % 7 == 0 ? src[k] : (int32_t)(rg_rng_u64(5, 2, (uint64_t)k) % N);
    }
    for (opt = 0; opt < 8; opt++) {
        rg_graph_options o = gr_options(opt & 1, (opt >> 1) & 1, (opt >> 2) & 1);
        rg_graph g;
        int32_t s, d;
        ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&g, N, E, src, dst, NULL, 0, &o));
        CHECK_CALL(gr_check_structure(&g));
        for (s = 0; s < N; s++)
            for (d = 0; d < N; d++) {
                int64_t want = 0;
                for (k = 0; k < E; k++) want += (src[k] == s && dst[k] == d) + (o.add_reverse && src[k] == d && dst[k] == s);
                if (o.drop_duplicates && want > 1) want = 1;
                if (o.add_self_loops && s == d && want == 0) want = 1;
                ASSERT_EQ(want, gr_count(&g, s, d));
            }
        rg_graph_free(NULL, &g);
    }
    PASS();
}

/* candidate edges of the reference: (destination, source, input position m) */
typedef struct gr_cand {
    int32_t d, s;
    int64_t m;
} gr_cand;

static int gr_cand_cmp(const void *a, const void *b) {
    const gr_cand *x = (const gr_cand *)a, *y = (const gr_cand *)b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return x->m < y->m ? -1 : x->m > y->m;
}

/* Enough nodes that the radix sort takes three passes (2 x 17 key bits), many duplicates and
   loops: edge by edge, source and features equal a qsort by (destination, source, input
   position) with the duplicate and self-loop rules applied after it. */
TEST graph_matches_sorted_reference(void) {
    enum { N = 70000, E = 150000, F = 3 };
    int32_t *src = (int32_t *)malloc(E * sizeof(int32_t)), *dst = (int32_t *)malloc(E * sizeof(int32_t));
    rg_real *feat = (rg_real *)malloc(E * F * sizeof(rg_real));
    gr_cand *c = (gr_cand *)malloc((2 * E + N) * sizeof(gr_cand));
    int opt;
    int64_t k;
    ASSERT(src && dst && feat && c);
    for (k = 0; k < E; k++) {
        /* a few hubs, so rows are long and repeats common */
        uint64_t r = rg_rng_u64(9, 1, (uint64_t)k);
        src[k] = (int32_t)(r % 4 == 0 ? r % 50 : r % N);
        dst[k] = k % 11 == 0 ? src[k] : (int32_t)(rg_rng_u64(9, 2, (uint64_t)k) % (k % 3 ? N : 60));
        for (opt = 0; opt < F; opt++) feat[k * F + opt] = (rg_real)(k * F + opt);
    }
    for (opt = 0; opt < 8; opt++) {
        rg_graph_options o = gr_options(opt & 1, (opt >> 1) & 1, (opt >> 2) & 1);
        int64_t n = 0, e = 0, i;
        rg_graph g;
        char *loop = (char *)calloc(N, 1);
        ASSERT(loop != NULL);
        for (k = 0; k < E; k++) {
            c[n].d = dst[k], c[n].s = src[k], c[n++].m = k;
            if (o.add_reverse) c[n].d = src[k], c[n].s = dst[k], c[n++].m = E + k;
            if (src[k] == dst[k]) loop[src[k]] = 1;
        }
        if (o.add_self_loops)
            for (i = 0; i < N; i++)
                if (!loop[i]) c[n].d = (int32_t)i, c[n].s = (int32_t)i, c[n++].m = -1;
        free(loop);
        qsort(c, (size_t)n, sizeof *c, gr_cand_cmp);
        ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&g, N, E, src, dst, feat, F, &o));
        for (k = 0; k < n; k++) {
            int64_t f;
            if (o.drop_duplicates && k > 0 && c[k].d == c[k - 1].d && c[k].s == c[k - 1].s) continue;
            ASSERT(e < g.n_edges);
            ASSERT_EQ(c[k].d, g.dst[e]);
            ASSERT_EQ(c[k].s, g.src[e]);
            for (f = 0; f < F; f++)
                ASSERT_EQ(c[k].m < 0 ? 0.0 : (double)feat[(c[k].m % E) * F + f], (double)g.edge_feat[e * F + f]);
            e++;
        }
        ASSERT_EQ(e, g.n_edges);
        CHECK_CALL(gr_check_structure(&g));
        rg_graph_free(NULL, &g);
    }
    free(src), free(dst), free(feat), free(c);
    PASS();
}

/* 0 -> 1, 2 -> 1, 1 -> 1, 3 -> 2: in-degrees 0, 3, 1, 0; without the self-loop 0, 2, 1, 0. */
TEST graph_degrees(void) {
    static const int32_t src[] = {0, 2, 1, 3}, dst[] = {1, 1, 1, 2};
    static const int64_t rowptr[] = {0, 0, 3, 4, 4}, t_rowptr[] = {0, 1, 2, 3, 4};
    static const double inv_deg[] = {0, 1.0 / 3, 1, 0};
    double gcn_dinv[4];
    rg_graph g;
    int i;
    gcn_dinv[0] = 1;
    gcn_dinv[1] = 1 / sqrt(3.0);
    gcn_dinv[2] = 1 / sqrt(2.0);
    gcn_dinv[3] = 1;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&g, 4, 4, src, dst, NULL, 0, NULL));
    ASSERT_MEM_EQ(rowptr, g.rowptr, sizeof rowptr);
    ASSERT_MEM_EQ(t_rowptr, g.t_rowptr, sizeof t_rowptr);
    for (i = 0; i < 4; i++) {
        ASSERT_IN_RANGE(inv_deg[i], g.inv_deg[i], GR_TOL);
        ASSERT_IN_RANGE(gcn_dinv[i], g.gcn_dinv[i], GR_TOL);
    }
    CHECK_CALL(gr_check_structure(&g));
    rg_graph_free(NULL, &g);
    PASS();
}

TEST graph_partition(void) {
    enum { N = 103, P = 10 };
    int32_t a[N], b[N], c[N];
    int64_t size[P] = {0}, i, lo = N, hi = 0, differ = 0;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_partition(N, P, 11, a));
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_partition(N, P, 11, b));
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_partition(N, P, 12, c));
    for (i = 0; i < N; i++) {
        ASSERT(a[i] >= 0 && a[i] < P);
        size[a[i]]++;
        differ += a[i] != c[i];
    }
    for (i = 0; i < P; i++) {
        lo = size[i] < lo ? size[i] : lo;
        hi = size[i] > hi ? size[i] : hi;
    }
    ASSERTm("part sizes differ by more than 1", hi - lo <= 1 && lo == N / P);
    ASSERT_MEM_EQm("the same seed gave another partition", a, b, sizeof a);
    ASSERTm("another seed gave the same partition", differ > 0);
    /* the extremes: one part, and one node per part */
    ASSERT_EQ(RG_OK, rg_graph_partition(N, 1, 3, a));
    for (i = 0; i < N; i++) ASSERT_EQ(0, a[i]);
    ASSERT_EQ(RG_OK, rg_graph_partition(N, N, 3, a));
    memset(c, 0, sizeof c);
    for (i = 0; i < N; i++) c[a[i]]++;
    for (i = 0; i < N; i++) ASSERT_EQ(1, c[i]);
    PASS();
}

/* Edge k of the input carries features (k, -k), so each subgraph edge names its origin. */
TEST graph_subgraph(void) {
    enum { N = 12, E = 60, K = 5 };
    static const int32_t nodes[K] = {5, 2, 9, 0, 11};
    int32_t src[E], dst[E], local[N];
    rg_real feat[2 * E];
    int used[E] = {0};
    int64_t k, e, kept = 0;
    rg_graph g, s;
    for (k = 0; k < E; k++) {
        src[k] = (int32_t)(rg_rng_u64(8, 1, (uint64_t)k) % N);
        dst[k] = (int32_t)(rg_rng_u64(8, 2, (uint64_t)k) % N);
        feat[2 * k] = (rg_real)k;
        feat[2 * k + 1] = (rg_real)-k;
    }
    for (k = 0; k < N; k++) local[k] = -1;
    for (k = 0; k < K; k++) local[nodes[k]] = (int32_t)k;
    for (k = 0; k < E; k++) kept += local[src[k]] >= 0 && local[dst[k]] >= 0;
    ASSERT(kept > 3 && kept < E);
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&g, N, E, src, dst, feat, 2, NULL));
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_subgraph(&g, nodes, K, &s));
    rg_graph_free(NULL, &g);
    ASSERT_EQ(K, (int)s.n_nodes);
    ASSERT_EQ(2, (int)s.edge_dim);
    ASSERT_EQ(kept, s.n_edges);
    for (e = 0; e < s.n_edges; e++) {
        int64_t origin = (int64_t)s.edge_feat[2 * e];
        ASSERT(origin >= 0 && origin < E && !used[origin]);
        used[origin] = 1;
        ASSERT_EQ(-(double)origin, (double)s.edge_feat[2 * e + 1]);
        ASSERT_EQ(src[origin], nodes[s.src[e]]);
        ASSERT_EQ(dst[origin], nodes[s.dst[e]]);
    }
    CHECK_CALL(gr_check_structure(&s));
    rg_graph_free(NULL, &s);
    PASS();
}

static int gr_same_on_device(rg_ctx *ctx, const void *dev, const void *host, size_t bytes) {
    void *back = malloc(bytes + 1);
    int same;
    ctx->ops->copy(ctx, back, dev, bytes, RG_DEVICE_TO_HOST);
    same = memcmp(back, host, bytes) == 0;
    free(back);
    return same;
}

TEST graph_to_device(void) {
    static const int32_t src[] = {0, 2, 1, 3, 3}, dst[] = {1, 1, 1, 2, 0};
    static const rg_real feat[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    rg_graph h, d;
    rg_ctx *ctx;
    int64_t dim, same;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 0, 1));
    for (dim = 0; dim <= 2; dim += 2) {
        size_t n = 4, e = 5;
        ASSERT_EQm(rg_last_error(), RG_OK,
                   rg_graph_from_coo(&h, 4, 5, src, dst, dim ? feat : NULL, dim, NULL));
        ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_to_device(ctx, &h, &d));
        same = d.ctx == ctx && d.n_nodes == h.n_nodes && d.n_edges == h.n_edges && d.edge_dim == h.edge_dim &&
               gr_same_on_device(ctx, d.rowptr, h.rowptr, (n + 1) * sizeof(int64_t)) &&
               gr_same_on_device(ctx, d.t_rowptr, h.t_rowptr, (n + 1) * sizeof(int64_t)) &&
               gr_same_on_device(ctx, d.src, h.src, e * sizeof(int32_t)) &&
               gr_same_on_device(ctx, d.dst, h.dst, e * sizeof(int32_t)) &&
               gr_same_on_device(ctx, d.t_edge, h.t_edge, e * sizeof(int64_t)) &&
               gr_same_on_device(ctx, d.gcn_dinv, h.gcn_dinv, n * sizeof(rg_real)) &&
               gr_same_on_device(ctx, d.inv_deg, h.inv_deg, n * sizeof(rg_real)) &&
               (dim ? gr_same_on_device(ctx, d.edge_feat, h.edge_feat, e * (size_t)dim * sizeof(rg_real))
                    : d.edge_feat == NULL);
        rg_graph_free(ctx, &d);
        rg_graph_free(NULL, &h);
        ASSERTm("the device graph differs from the host graph", same);
        ASSERT_EQ(0u, (unsigned)ctx->n_allocs);
        ASSERT_EQ(0u, (unsigned)rg_mem_current(ctx));
        ASSERT(d.rowptr == NULL && d.n_nodes == 0); /* freed graphs are zeroed */
    }
    rg_ctx_destroy(ctx);
    PASS();
}

SUITE(graph) {
    RUN_TEST(graph_duplicates);
    RUN_TEST(graph_self_loops);
    RUN_TEST(graph_reverse);
    RUN_TEST(graph_random_structure);
    RUN_TEST(graph_matches_sorted_reference);
    RUN_TEST(graph_degrees);
    RUN_TEST(graph_partition);
    RUN_TEST(graph_subgraph);
    RUN_TEST(graph_to_device);
}
