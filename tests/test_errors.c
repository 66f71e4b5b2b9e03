/* Bad input: each case checks the status, that rg_last_error() names the value or dimension
   at fault, and that nothing leaks (the context's live allocations return to zero; host
   leaks are LeakSanitizer's, under make test-asan). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "revgnn.h"

static char er_msg[640];

/* status == want and every needle in the message */
static enum greatest_test_res er_expect(rg_status want, rg_status got, const char *n1, const char *n2) {
    snprintf(er_msg, sizeof er_msg, "expected %s, got %s: \"%s\"", rg_status_name(want), rg_status_name(got),
             rg_last_error());
    ASSERT_EQm(er_msg, want, got);
    snprintf(er_msg, sizeof er_msg, "\"%s\" does not name \"%s\"", rg_last_error(), n1);
    ASSERTm(er_msg, strstr(rg_last_error(), n1) != NULL);
    if (n2) {
        snprintf(er_msg, sizeof er_msg, "\"%s\" does not name \"%s\"", rg_last_error(), n2);
        ASSERTm(er_msg, strstr(rg_last_error(), n2) != NULL);
    }
    PASS();
}

static enum greatest_test_res er_no_leak(rg_ctx *ctx) {
    ASSERT_EQm("live allocations remain", 0u, (unsigned)ctx->n_allocs);
    ASSERT_EQm("bytes remain allocated", 0u, (unsigned)rg_mem_current(ctx));
    PASS();
}

/* ---- graphs ---- */

TEST coo_ids_out_of_range(void) {
    static const int32_t src[] = {0, 5, 1}, dst[] = {1, 2, 3}, src2[] = {0, 1, 2}, dst2[] = {1, 2, -1};
    rg_graph g;
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_from_coo(&g, 4, 3, src, dst, NULL, 0, NULL), "edge 1", "source 5"));
    ASSERT(g.rowptr == NULL && g.n_edges == 0);
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_from_coo(&g, 4, 3, src2, dst2, NULL, 0, NULL), "edge 2",
                         "destination -1"));
    /* the last valid id is 3: 4 is one past */
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_from_coo(&g, 3, 3, src2, dst, NULL, 0, NULL), "edge 2",
                         "destination 3"));
    PASS();
}

TEST coo_bad_sizes(void) {
    static const int32_t src[] = {0, 1}, dst[] = {1, 0};
    rg_graph g;
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_from_coo(&g, 0, 2, src, dst, NULL, 0, NULL), "node count 0", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_from_coo(&g, -3, 2, src, dst, NULL, 0, NULL), "node count -3", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_from_coo(&g, 2, -2, src, dst, NULL, 0, NULL), "edge count -2", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_from_coo(&g, 2, 2, NULL, dst, NULL, 0, NULL), "NULL src", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_from_coo(&g, 2, 2, src, NULL, NULL, 0, NULL), "NULL dst", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_from_coo(&g, 2, 2, src, dst, NULL, 3, NULL), "edge width 3", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_from_coo(&g, 2, 2, src, dst, NULL, -1, NULL), "width -1", NULL));
    /* no edges is a graph */
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&g, 2, 0, NULL, NULL, NULL, 0, NULL));
    rg_graph_free(NULL, &g);
    PASS();
}

TEST subgraph_bad_nodes(void) {
    static const int32_t src[] = {0, 1, 2, 3, 4}, dst[] = {1, 2, 3, 4, 0};
    static const int32_t repeat[] = {1, 3, 1}, beyond[] = {0, 9}, negative[] = {2, -1};
    rg_graph g, s;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&g, 5, 5, src, dst, NULL, 0, NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_subgraph(&g, repeat, 3, &s), "entry 2 is 1", "repeat"));
    ASSERT(s.rowptr == NULL);
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_subgraph(&g, beyond, 2, &s), "entry 1 is 9", "out of range"));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_subgraph(&g, negative, 2, &s), "entry 1 is -1", "out of range"));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_subgraph(&g, repeat, 0, &s), "0 nodes", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_subgraph(&g, repeat, 6, &s), "6 nodes of a 5-node graph", NULL));
    rg_graph_free(NULL, &g);
    PASS();
}

TEST partition_bad_parts(void) {
    int32_t part[5];
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_partition(5, 0, 1, part), "0 parts for 5 nodes", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_partition(5, 6, 1, part), "6 parts for 5 nodes", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_partition(-4, 1, 1, part), "node count -4", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_graph_partition(5, 2, 1, NULL), "NULL", NULL));
    PASS();
}

/* ---- allocation failures: an ops table whose allocator gives out after a budget ---- */

static int er_budget;
static void *(*er_real_alloc)(rg_ctx *ctx, size_t bytes);
static void *er_alloc(rg_ctx *ctx, size_t bytes) { return er_budget-- > 0 ? er_real_alloc(ctx, bytes) : NULL; }

TEST oom_frees_everything(void) {
    static const int32_t src[] = {0, 2, 1}, dst[] = {1, 1, 2};
    static const rg_real feat[] = {1, 2, 3, 4, 5, 6};
    rg_backend failing;
    const rg_backend *cpu;
    rg_ctx *ctx;
    rg_graph h, d;
    rg_tensor t;
    rg_status st;
    int budget, failed = 0;
    char bytes[64];
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    cpu = ctx->ops;
    failing = *cpu;
    er_real_alloc = cpu->alloc;
    failing.alloc = er_alloc;
    ctx->ops = &failing;
    ASSERT_EQ(RG_OK, rg_graph_from_coo(&h, 3, 3, src, dst, feat, 2, NULL));
    er_budget = 0;
    st = rg_tensor_alloc(ctx, &t, 3, 4);
    snprintf(bytes, sizeof bytes, "allocating %u bytes", (unsigned)(12 * sizeof(rg_real)));
    CHECK_CALL(er_expect(RG_ERR_OOM, st, bytes, "out of cpu memory"));
    ASSERT(t.data == NULL);
    /* a device graph is eight arrays: fail at each one in turn */
    for (budget = 0; budget < 8; budget++) {
        er_budget = budget;
        st = rg_graph_to_device(ctx, &h, &d);
        failed += st == RG_ERR_OOM && d.rowptr == NULL && ctx->n_allocs == 0 && rg_mem_current(ctx) == 0;
    }
    er_budget = 8;
    st = rg_graph_to_device(ctx, &h, &d);
    if (st == RG_OK) rg_graph_free(ctx, &d);
    rg_graph_free(NULL, &h);
    ctx->ops = cpu;
    CHECK_CALL(er_no_leak(ctx));
    rg_ctx_destroy(ctx);
    ASSERT_EQm("a graph_to_device that ran out of memory left something allocated", 8, failed);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    PASS();
}

TEST tensor_negative_shape(void) {
    rg_ctx *ctx;
    rg_tensor t;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_tensor_alloc(ctx, &t, -2, 3), "(-2, 3)", NULL));
    ASSERT(t.data == NULL && t.rows == 0);
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_tensor_zeros(ctx, &t, 4, -7), "(4, -7)", NULL));
    CHECK_CALL(er_no_leak(ctx));
    rg_ctx_destroy(ctx);
    PASS();
}

/* ---- layers ---- */

typedef struct er_tensors {
    rg_tensor t[8];
    int n;
} er_tensors;

static rg_tensor er_new(rg_ctx *ctx, er_tensors *l, int64_t rows, int64_t cols) {
    rg_tensor *t = &l->t[l->n++];
    if (rg_tensor_zeros(ctx, t, rows, cols) != RG_OK) memset(t, 0, sizeof *t);
    return *t;
}

static void er_free_all(rg_ctx *ctx, er_tensors *l) {
    while (l->n > 0) rg_tensor_free(ctx, &l->t[--l->n]);
}

TEST linear_bad_shapes(void) {
    rg_ctx *ctx;
    er_tensors l;
    rg_linear p;
    rg_tensor x, y, wide_x;
    l.n = 0;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    p.W = er_new(ctx, &l, 5, 2);
    p.b = er_new(ctx, &l, 1, 2);
    x = er_new(ctx, &l, 4, 3);
    y = er_new(ctx, &l, 4, 3);
    wide_x = er_new(ctx, &l, 4, 5);
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_linear_forward(ctx, y, x, &p), "x is 4x3, expected 4x5", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_linear_forward(ctx, y, wide_x, &p), "y is 4x3, expected 4x2", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_linear_backward(ctx, x, &p, y, wide_x, &p), "dy is 4x3, expected 4x2", NULL));
    er_free_all(ctx, &l);
    CHECK_CALL(er_no_leak(ctx));
    rg_ctx_destroy(ctx);
    PASS();
}

TEST layernorm_bad_shapes(void) {
    rg_ctx *ctx;
    er_tensors l;
    rg_layernorm p;
    rg_layernorm_cache c;
    rg_tensor x, y;
    l.n = 0;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    p.gamma = er_new(ctx, &l, 1, 4);
    p.beta = er_new(ctx, &l, 1, 5);
    c.mean = er_new(ctx, &l, 2, 1);
    c.rstd = er_new(ctx, &l, 3, 1);
    x = er_new(ctx, &l, 3, 5);
    y = er_new(ctx, &l, 3, 5);
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_layernorm_forward(ctx, y, &c, x, &p), "gamma is 1x4, expected 1x5", NULL));
    p.gamma = p.beta;
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_layernorm_forward(ctx, y, &c, x, &p), "cache mean is 2x1, expected 3x1", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_layernorm_backward(ctx, y, &p, c.rstd, x, &c, &p), "dy is 3x1, expected 3x5",
                         NULL));
    er_free_all(ctx, &l);
    CHECK_CALL(er_no_leak(ctx));
    rg_ctx_destroy(ctx);
    PASS();
}

TEST dropout_bad_p(void) {
    rg_ctx *ctx;
    rg_tensor x;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    ASSERT_EQ(RG_OK, rg_tensor_zeros(ctx, &x, 2, 3));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_dropout_forward(ctx, x, x, 1.0, 1, 1), "probability 1 ", "[0, 1)"));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_dropout_forward(ctx, x, x, -0.25, 1, 1), "probability -0.25", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_dropout_backward(ctx, x, x, 1.5, 1, 1), "probability 1.5", NULL));
    ASSERT_EQm(rg_last_error(), RG_OK, rg_dropout_forward(ctx, x, x, 0.0, 1, 1));
    rg_tensor_free(ctx, &x);
    CHECK_CALL(er_no_leak(ctx));
    rg_ctx_destroy(ctx);
    PASS();
}

/* ---- losses and optimiser ---- */

TEST xent_bad_ids(void) {
    static const int32_t labels[] = {0, 2, 1, 7}, rows_ok[] = {3, 1}, rows_far[] = {1, 4}, rows_twice[] = {2, 0, 2};
    rg_ctx *ctx;
    rg_tensor x, d;
    rg_real host[12];
    double loss;
    int32_t *dl, *dr;
    int i, untouched = 1, zero = 1;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 2, 1));
    ASSERT_EQ(RG_OK, rg_tensor_zeros(ctx, &x, 4, 3));
    ASSERT_EQ(RG_OK, rg_tensor_alloc(ctx, &d, 4, 3));
    ASSERT_EQ(RG_OK, rg_tensor_fill(ctx, d, 9));
    dl = (int32_t *)rg_alloc(ctx, sizeof labels);
    dr = (int32_t *)rg_alloc(ctx, 3 * sizeof(int32_t));
    ASSERT(dl && dr);
    ctx->ops->copy(ctx, dl, labels, sizeof labels, RG_HOST_TO_DEVICE);
    /* row 3's label 7 is outside [0, 3) */
    ctx->ops->copy(ctx, dr, rows_ok, sizeof rows_ok, RG_HOST_TO_DEVICE);
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_softmax_xent(ctx, &loss, d, x, dl, dr, 2), "row 3 has label 7", "[0, 3)"));
    rg_tensor_download(ctx, d, host);
    for (i = 0; i < 12; i++) untouched &= host[i] == 9;
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_softmax_xent(ctx, &loss, d, x, dl, NULL, 0), "row 3 has label 7", NULL));
    ctx->ops->copy(ctx, dr, rows_far, sizeof rows_far, RG_HOST_TO_DEVICE);
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_softmax_xent(ctx, &loss, d, x, dl, dr, 2), "entry 1 is 4", "[0, 4)"));
    ctx->ops->copy(ctx, dr, rows_twice, sizeof rows_twice, RG_HOST_TO_DEVICE);
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_softmax_xent(ctx, &loss, d, x, dl, dr, 3), "entry 2 repeats row 2", NULL));
    rg_tensor_download(ctx, d, host);
    for (i = 0; i < 12; i++) zero &= host[i] == 0;
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_softmax_xent(ctx, &loss, d, x, dl, dr, 0), "0 rows", NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_softmax_xent(ctx, &loss, x, x, dl, dr, 1), "must not be the logits", NULL));
    /* the context holds no stale error: a good call succeeds */
    ASSERT_EQm(rg_last_error(), RG_OK, rg_softmax_xent(ctx, &loss, d, x, dl, dr, 2));
    rg_free(ctx, dl, sizeof labels);
    rg_free(ctx, dr, 3 * sizeof(int32_t));
    rg_tensor_free(ctx, &x);
    rg_tensor_free(ctx, &d);
    CHECK_CALL(er_no_leak(ctx));
    rg_ctx_destroy(ctx);
    ASSERTm("a range error wrote dlogits", untouched);
    ASSERTm("a repeated row left dlogits other than zero", zero);
    PASS();
}

TEST bce_bad_input(void) {
    rg_ctx *ctx;
    er_tensors l;
    rg_tensor x, y, m, short_y, bad_m;
    double loss;
    l.n = 0;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    x = er_new(ctx, &l, 4, 3);
    y = er_new(ctx, &l, 4, 3);
    m = er_new(ctx, &l, 4, 1); /* all zero */
    short_y = er_new(ctx, &l, 3, 3);
    bad_m = er_new(ctx, &l, 4, 2);
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_bce_logits(ctx, &loss, y, x, y, m), "selects no entry", "4x3"));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_bce_logits(ctx, &loss, y, x, short_y, m), "targets is 3x3, expected 4x3",
                         NULL));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_bce_logits(ctx, &loss, y, x, y, bad_m), "mask is 4x2", "4x1"));
    er_free_all(ctx, &l);
    CHECK_CALL(er_no_leak(ctx));
    rg_ctx_destroy(ctx);
    PASS();
}

TEST adam_and_clip_bad_input(void) {
    rg_ctx *ctx;
    er_tensors l;
    rg_tensor p, g, m, v;
    rg_adam opt = rg_adam_default(0.1);
    double norm;
    l.n = 0;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    p = er_new(ctx, &l, 2, 3);
    g = er_new(ctx, &l, 2, 3);
    m = er_new(ctx, &l, 3, 2); /* same size, another shape: fine */
    v = er_new(ctx, &l, 1, 5);
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_adam_step(ctx, &opt, p, g, m, v), "6 params", "5 v"));
    ASSERT_EQ(0, (int)opt.step);
    opt.beta2 = 1;
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_adam_step(ctx, &opt, p, g, m, m), "(0.9, 1)", NULL));
    opt = rg_adam_default(-0.5);
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_adam_step(ctx, &opt, p, g, m, m), "lr -0.5", NULL));
    /* the same check as checkpoints': an infinite rate would turn every parameter into NaN */
    opt = rg_adam_default(HUGE_VAL);
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_adam_step(ctx, &opt, p, g, m, m), "lr is not a finite number", "lr inf"));
    opt = rg_adam_default(0.1);
    ASSERT_EQm(rg_last_error(), RG_OK, rg_adam_step(ctx, &opt, p, g, m, m));
    CHECK_CALL(er_expect(RG_ERR_ARG, rg_clip_grad_norm(ctx, g, 0, &norm), "max_norm 0", NULL));
    er_free_all(ctx, &l);
    CHECK_CALL(er_no_leak(ctx));
    rg_ctx_destroy(ctx);
    PASS();
}

/* ---- undefined behaviour clang's -fsanitize=undefined sees (make test-asan, build/asan-clang) ---- */

/* a dataset without node features (x NULL, x_dim 0): its rows are no arithmetic on NULL */
TEST batch_without_features(void) {
    static const int32_t src[] = {0, 1, 2}, dst[] = {1, 2, 0}, labels[] = {0, 1, 0}, train[] = {0, 2};
    rg_ctx *ctx;
    rg_dataset ds;
    rg_batch b;
    memset(&ds, 0, sizeof ds);
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 1, 1));
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_from_coo(&ds.graph, 3, 3, src, dst, NULL, 0, NULL));
    ds.n_nodes = 3;
    ds.task = RG_TASK_MULTICLASS;
    ds.labels = (int32_t *)labels;
    ds.n_tasks = 2;
    ds.split[0] = (int32_t *)train;
    ds.split_size[0] = 2;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_batch_make(ctx, &ds, NULL, 0, &b));
    ASSERT_EQ(3, (int)b.x.rows);
    ASSERT_EQ(0, (int)b.x.cols);
    ASSERT_EQ(2, (int)b.n_train);
    rg_batch_free(ctx, &b);
    rg_graph_free(NULL, &ds.graph);
    CHECK_CALL(er_no_leak(ctx));
    rg_ctx_destroy(ctx);
    PASS();
}

SUITE(errors) {
    RUN_TEST(coo_ids_out_of_range);
    RUN_TEST(coo_bad_sizes);
    RUN_TEST(subgraph_bad_nodes);
    RUN_TEST(partition_bad_parts);
    RUN_TEST(oom_frees_everything);
    RUN_TEST(tensor_negative_shape);
    RUN_TEST(linear_bad_shapes);
    RUN_TEST(layernorm_bad_shapes);
    RUN_TEST(dropout_bad_p);
    RUN_TEST(xent_bad_ids);
    RUN_TEST(bce_bad_input);
    RUN_TEST(adam_and_clip_bad_input);
    RUN_TEST(batch_without_features);
}
