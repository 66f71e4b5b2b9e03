/* Losses, Adam and gradient clipping: gradient checks of the losses in double, values
   against hand computations, Adam against the textbook update, clipping to the norm, and
   loss values identical for any thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "revgnn.h"

#define TR_SEED 7171u
#define GRADCHECK_EPS 1e-6
#define GRADCHECK_TOL 1e-6
/* rg_real rounding of values near 1: exact arithmetic in double, float storage otherwise */
#define TR_TOL (sizeof(rg_real) == sizeof(double) ? 1e-12 : 1e-6)
#define TR_MAX 64

static char tr_msg[512];

/* ---- host <-> device helpers ---- */

static rg_status tr_set(rg_ctx *ctx, rg_tensor t, const double *v) {
    rg_real h[TR_MAX];
    int64_t i;
    for (i = 0; i < rg_tensor_numel(t); i++) h[i] = (rg_real)v[i];
    return rg_tensor_upload(ctx, t, h);
}

static rg_status tr_upload(rg_ctx *ctx, rg_tensor *t, int64_t rows, int64_t cols, const double *v) {
    rg_status st = rg_tensor_alloc(ctx, t, rows, cols);
    return st == RG_OK ? tr_set(ctx, *t, v) : st;
}

static void tr_download(rg_ctx *ctx, rg_tensor t, double *out) {
    rg_real h[TR_MAX];
    int64_t i;
    rg_tensor_download(ctx, t, h);
    for (i = 0; i < rg_tensor_numel(t); i++) out[i] = h[i];
}

static int32_t *tr_ints(rg_ctx *ctx, const int32_t *h, int64_t n) {
    int32_t *d = (int32_t *)rg_alloc(ctx, (size_t)n * sizeof(int32_t));
    if (d) ctx->ops->copy(ctx, d, h, (size_t)n * sizeof(int32_t), RG_HOST_TO_DEVICE);
    return d;
}

/* ||a - b|| / max(||a||, ||b||): a norm-wise relative error */
static double tr_rel_error(const double *a, const double *b, int64_t n) {
    double diff = 0, na = 0, nb = 0;
    int64_t i;
    for (i = 0; i < n; i++) {
        diff += (a[i] - b[i]) * (a[i] - b[i]);
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    return sqrt(diff) / fmax(fmax(sqrt(na), sqrt(nb)), 1e-300);
}

/* ---- binary cross-entropy ---- */

typedef struct bce_problem {
    int64_t N, T, mask_cols; /* mask_cols 0: no mask */
    double x[TR_MAX], y[TR_MAX], mask[TR_MAX];
} bce_problem;

/* loss and gradient at the problem's logits (grad may be NULL) */
static rg_status bce_eval(rg_ctx *ctx, const bce_problem *p, double *loss, double *grad) {
    rg_tensor x, y, m, d;
    rg_status st;
    memset(&m, 0, sizeof m);
    st = tr_upload(ctx, &x, p->N, p->T, p->x);
    if (st == RG_OK) st = tr_upload(ctx, &y, p->N, p->T, p->y);
    if (st == RG_OK && p->mask_cols) st = tr_upload(ctx, &m, p->N, p->mask_cols, p->mask);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &d, p->N, p->T);
    if (st == RG_OK) st = rg_bce_logits(ctx, loss, d, x, y, m);
    if (st == RG_OK && grad) tr_download(ctx, d, grad);
    rg_tensor_free(ctx, &x);
    rg_tensor_free(ctx, &y);
    rg_tensor_free(ctx, &m);
    rg_tensor_free(ctx, &d);
    return st;
}

static void bce_random(bce_problem *p, int64_t N, int64_t T, int64_t mask_cols, uint64_t stream) {
    int64_t i;
    p->N = N;
    p->T = T;
    p->mask_cols = mask_cols;
    for (i = 0; i < N * T; i++) {
        p->x[i] = rg_rng_uniform(TR_SEED, stream, (uint64_t)i) * 6 - 3;
        /* hard labels and a few soft ones */
        p->y[i] = i % 5 == 4 ? 0.3 : (double)(rg_rng_u64(TR_SEED, stream + 1, (uint64_t)i) & 1);
    }
    for (i = 0; i < N * mask_cols; i++) p->mask[i] = (double)(rg_rng_uniform(TR_SEED, stream + 2, (uint64_t)i) < 0.6);
    p->mask[0] = 1; /* at least one selected */
}

/* central differences of the returned loss against dlogits, every entry */
static enum greatest_test_res bce_gradcheck_case(int64_t mask_cols) {
    rg_ctx *ctx;
    bce_problem p;
    double loss, lp, lm, grad[TR_MAX], num[TR_MAX], rel;
    int64_t i;
    int zero_ok = 1;
    rg_status st;
    bce_random(&p, 6, 5, mask_cols, 10 + (uint64_t)mask_cols);
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 0, TR_SEED));
    st = bce_eval(ctx, &p, &loss, grad);
    for (i = 0; st == RG_OK && i < p.N * p.T; i++) {
        double v = p.x[i];
        p.x[i] = v + GRADCHECK_EPS;
        st = bce_eval(ctx, &p, &lp, NULL);
        p.x[i] = v - GRADCHECK_EPS;
        if (st == RG_OK) st = bce_eval(ctx, &p, &lm, NULL);
        p.x[i] = v;
        num[i] = (lp - lm) / (2 * GRADCHECK_EPS);
    }
    for (i = 0; mask_cols && i < p.N * p.T; i++)
        if (p.mask[mask_cols == 1 ? i / p.T : i] == 0 && grad[i] != 0) zero_ok = 0;
    ASSERT_EQ(0u, (unsigned)ctx->n_allocs);
    rg_ctx_destroy(ctx);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    rel = tr_rel_error(grad, num, p.N * p.T);
    snprintf(tr_msg, sizeof tr_msg, "BCE (mask cols %lld): gradient relative error %.3e", (long long)mask_cols, rel);
    ASSERTm(tr_msg, rel < GRADCHECK_TOL);
    ASSERTm("BCE: masked-out entries must get a zero gradient", zero_ok);
    PASS();
}

TEST bce_gradcheck(void) {
    CHECK_CALL(bce_gradcheck_case(0)); /* no mask */
    CHECK_CALL(bce_gradcheck_case(5)); /* per entry */
    CHECK_CALL(bce_gradcheck_case(1)); /* per row */
    PASS();
}

static double tr_sigmoid(double x) { return 1 / (1 + exp(-x)); }

/* Four entries, one masked out: -(y log s + (1 - y) log(1 - s)) by hand where it is finite,
   and the limits where the naive formula overflows (x = 40, y = 0 and x = -40, y = 1 cost 40). */
TEST bce_hand_values(void) {
    bce_problem p;
    rg_ctx *ctx;
    double loss, grad[5], want, s2 = tr_sigmoid(2), s0 = 0.5;
    rg_status st;
    memset(&p, 0, sizeof p);
    p.N = 1; p.T = 5; p.mask_cols = 5;
    p.x[0] = 2;  p.y[0] = 1;   p.mask[0] = 1;
    p.x[1] = 0;  p.y[1] = 0.5; p.mask[1] = 1;
    p.x[2] = 40; p.y[2] = 0;   p.mask[2] = 1;
    p.x[3] = -40; p.y[3] = 1;  p.mask[3] = 1;
    p.x[4] = 7;  p.y[4] = 0;   p.mask[4] = 0;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 0, TR_SEED));
    st = bce_eval(ctx, &p, &loss, grad);
    rg_ctx_destroy(ctx);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    want = (-log(s2) + -(0.5 * log(s0) + 0.5 * log(1 - s0)) + 40 + 40) / 4;
    ASSERT_IN_RANGE(want, loss, 1e-13);
    ASSERT_IN_RANGE((s2 - 1) / 4, grad[0], TR_TOL);
    ASSERT_IN_RANGE(0.0, grad[1], TR_TOL);
    ASSERT_IN_RANGE(1.0 / 4, grad[2], TR_TOL);
    ASSERT_IN_RANGE(-1.0 / 4, grad[3], TR_TOL);
    ASSERT_EQ(0.0, grad[4]);
    PASS();
}

/* ---- softmax cross-entropy ---- */

typedef struct xent_problem {
    int64_t N, C, n_rows; /* n_rows 0: every row */
    double x[TR_MAX];
    int32_t labels[TR_MAX], rows[TR_MAX];
} xent_problem;

static rg_status xent_eval(rg_ctx *ctx, const xent_problem *p, double *loss, double *grad) {
    rg_tensor x, d;
    int32_t *labels = NULL, *rows = NULL;
    rg_status st;
    memset(&d, 0, sizeof d);
    st = tr_upload(ctx, &x, p->N, p->C, p->x);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &d, p->N, p->C);
    if (st == RG_OK && !(labels = tr_ints(ctx, p->labels, p->N))) st = RG_ERR_OOM;
    if (st == RG_OK && p->n_rows && !(rows = tr_ints(ctx, p->rows, p->n_rows))) st = RG_ERR_OOM;
    if (st == RG_OK) st = rg_softmax_xent(ctx, loss, d, x, labels, rows, p->n_rows);
    if (st == RG_OK && grad) tr_download(ctx, d, grad);
    rg_free(ctx, labels, (size_t)p->N * sizeof(int32_t));
    rg_free(ctx, rows, (size_t)p->n_rows * sizeof(int32_t));
    rg_tensor_free(ctx, &x);
    rg_tensor_free(ctx, &d);
    return st;
}

static enum greatest_test_res xent_gradcheck_case(const int32_t *rows, int64_t n_rows) {
    rg_ctx *ctx;
    xent_problem p;
    double loss, lp, lm, grad[TR_MAX], num[TR_MAX], rel;
    int64_t i, k;
    int unlisted_zero = 1;
    rg_status st;
    p.N = 9;
    p.C = 4;
    p.n_rows = n_rows;
    for (i = 0; i < p.N * p.C; i++) p.x[i] = rg_rng_uniform(TR_SEED, 20, (uint64_t)i) * 6 - 3;
    for (i = 0; i < p.N; i++) p.labels[i] = (int32_t)(rg_rng_u64(TR_SEED, 21, (uint64_t)i) % (uint64_t)p.C);
    for (k = 0; k < n_rows; k++) p.rows[k] = rows[k];
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 0, TR_SEED));
    st = xent_eval(ctx, &p, &loss, grad);
    for (i = 0; st == RG_OK && i < p.N * p.C; i++) {
        double v = p.x[i];
        p.x[i] = v + GRADCHECK_EPS;
        st = xent_eval(ctx, &p, &lp, NULL);
        p.x[i] = v - GRADCHECK_EPS;
        if (st == RG_OK) st = xent_eval(ctx, &p, &lm, NULL);
        p.x[i] = v;
        num[i] = (lp - lm) / (2 * GRADCHECK_EPS);
    }
    ASSERT_EQ(0u, (unsigned)ctx->n_allocs);
    rg_ctx_destroy(ctx);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    for (i = 0; n_rows && i < p.N; i++) {
        int listed = 0;
        for (k = 0; k < n_rows; k++) listed |= rows[k] == i;
        for (k = 0; !listed && k < p.C; k++) unlisted_zero &= grad[i * p.C + k] == 0;
    }
    rel = tr_rel_error(grad, num, p.N * p.C);
    snprintf(tr_msg, sizeof tr_msg, "softmax cross-entropy (%lld rows): gradient relative error %.3e",
             (long long)n_rows, rel);
    ASSERTm(tr_msg, rel < GRADCHECK_TOL);
    ASSERTm("softmax cross-entropy: rows not listed must get a zero gradient", unlisted_zero);
    PASS();
}

TEST xent_gradcheck(void) {
    static const int32_t rows[] = {7, 0, 3, 5};
    CHECK_CALL(xent_gradcheck_case(NULL, 0)); /* every row */
    CHECK_CALL(xent_gradcheck_case(rows, 4));
    PASS();
}

/* Rows (1, 2, 3) label 2, (0, 0, 0) label 1, and (1000, 0, -1000) label 1, where the naive
   exp overflows: -log softmax is log(e + e^2 + e^3) - 3, log 3 and 1000. The second row is
   not listed. */
TEST xent_hand_values(void) {
    xent_problem p;
    rg_ctx *ctx;
    double loss, grad[9], z = exp(1.0) + exp(2.0) + exp(3.0), want;
    int c;
    rg_status st;
    static const double x[9] = {1, 2, 3, 0, 0, 0, 1000, 0, -1000};
    memset(&p, 0, sizeof p);
    p.N = 3; p.C = 3; p.n_rows = 2;
    memcpy(p.x, x, sizeof x);
    p.labels[0] = 2; p.labels[1] = 1; p.labels[2] = 1;
    p.rows[0] = 2; p.rows[1] = 0;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 0, TR_SEED));
    st = xent_eval(ctx, &p, &loss, grad);
    rg_ctx_destroy(ctx);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    want = (log(z) - 3 + 1000) / 2;
    ASSERT_IN_RANGE(want, loss, 1e-12);
    for (c = 0; c < 3; c++) ASSERT_IN_RANGE((exp(c + 1.0) / z - (c == 2)) / 2, grad[c], TR_TOL);
    for (c = 3; c < 6; c++) ASSERT_EQ(0.0, grad[c]);
    ASSERT_IN_RANGE(0.5, grad[6], TR_TOL);
    ASSERT_IN_RANGE(-0.5, grad[7], TR_TOL);
    ASSERT_IN_RANGE(0.0, grad[8], TR_TOL);
    /* every row: the middle one adds log 3 */
    p.n_rows = 0;
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 0, TR_SEED));
    st = xent_eval(ctx, &p, &loss, grad);
    rg_ctx_destroy(ctx);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    ASSERT_IN_RANGE((log(z) - 3 + log(3.0) + 1000) / 3, loss, 1e-12);
    ASSERT_IN_RANGE(1.0 / 9, grad[3], TR_TOL);
    ASSERT_IN_RANGE(1.0 / 9 - 1.0 / 3, grad[4], TR_TOL);
    PASS();
}

/* ---- thread-count independence ---- */

#define BIG_N 1000
#define BIG_T 7

typedef struct loss_results {
    double bce, xent;
    rg_real dbce[BIG_N * BIG_T], dxent[BIG_N * BIG_T];
} loss_results;

/* Both losses on a graph-sized problem (many reduction blocks) with n_threads threads. */
static rg_status big_losses(int n_threads, loss_results *r) {
    rg_ctx *ctx;
    rg_tensor x, y, m, d;
    int32_t labels[BIG_N], rows[BIG_N / 2], *dlabels = NULL, *drows = NULL;
    int64_t i;
    rg_status st = rg_ctx_create_cpu(&ctx, n_threads, TR_SEED);
    if (st != RG_OK) return st;
    memset(&x, 0, sizeof x); y = m = d = x;
    for (i = 0; i < BIG_N; i++) labels[i] = (int32_t)(rg_rng_u64(TR_SEED, 30, (uint64_t)i) % BIG_T);
    for (i = 0; i < BIG_N / 2; i++) rows[i] = (int32_t)(BIG_N - 1 - 2 * i);
    st = rg_tensor_alloc(ctx, &x, BIG_N, BIG_T);
    if (st == RG_OK) st = rg_tensor_init_uniform(ctx, x, -4, 4, 31);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &y, BIG_N, BIG_T);
    if (st == RG_OK) st = rg_tensor_init_uniform(ctx, y, 0, 1, 32);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &m, BIG_N, 1);
    if (st == RG_OK) st = rg_tensor_fill(ctx, m, 1);
    if (st == RG_OK) st = rg_tensor_fill(ctx, rg_tensor_view(m.data, BIG_N / 3, 1), 0);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &d, BIG_N, BIG_T);
    if (st == RG_OK) st = rg_bce_logits(ctx, &r->bce, d, x, y, m);
    if (st == RG_OK) st = rg_tensor_download(ctx, d, r->dbce);
    if (st == RG_OK && !((dlabels = tr_ints(ctx, labels, BIG_N)) && (drows = tr_ints(ctx, rows, BIG_N / 2))))
        st = RG_ERR_OOM;
    if (st == RG_OK) st = rg_softmax_xent(ctx, &r->xent, d, x, dlabels, drows, BIG_N / 2);
    if (st == RG_OK) st = rg_tensor_download(ctx, d, r->dxent);
    rg_free(ctx, dlabels, BIG_N * sizeof(int32_t));
    rg_free(ctx, drows, BIG_N / 2 * sizeof(int32_t));
    rg_tensor_free(ctx, &x);
    rg_tensor_free(ctx, &y);
    rg_tensor_free(ctx, &m);
    rg_tensor_free(ctx, &d);
    rg_ctx_destroy(ctx);
    return st;
}

TEST losses_threads_bitwise(void) {
    static loss_results a, b, c;
    ASSERT_EQm(rg_last_error(), RG_OK, big_losses(1, &a));
    ASSERT_EQm(rg_last_error(), RG_OK, big_losses(2, &b));
    ASSERT_EQm(rg_last_error(), RG_OK, big_losses(3, &c));
    ASSERT_MEM_EQm("BCE loss differs between 1 and 2 threads", &a.bce, &b.bce, sizeof a.bce);
    ASSERT_MEM_EQm("cross-entropy loss differs between 1 and 2 threads", &a.xent, &b.xent, sizeof a.xent);
    ASSERT_MEM_EQm("BCE loss differs between 1 and 3 threads", &a.bce, &c.bce, sizeof a.bce);
    ASSERT_MEM_EQm("cross-entropy loss differs between 1 and 3 threads", &a.xent, &c.xent, sizeof a.xent);
    ASSERT_MEM_EQm("BCE gradient differs between 1 and 2 threads", a.dbce, b.dbce, sizeof a.dbce);
    ASSERT_MEM_EQm("cross-entropy gradient differs between 1 and 2 threads", a.dxent, b.dxent, sizeof a.dxent);
    /* the losses are sums of positive terms, not zero by accident */
    ASSERT(a.bce > 0.1 && a.xent > 0.1);
    PASS();
}

/* ---- Adam ---- */

#define ADAM_N 4

/* Two steps of the textbook update (Kingma & Ba, with PyTorch's weight-decay variants),
   written independently of the library's folded form: mhat = m / (1 - b1^t),
   vhat = v / (1 - b2^t), p -= lr mhat / (sqrt(vhat) + eps). */
static void adam_textbook(const rg_adam *o, double *p, double *m, double *v, const double *g, int t) {
    int i;
    for (i = 0; i < ADAM_N; i++) {
        double gi = g[i] + (o->decoupled ? 0 : o->weight_decay * p[i]), mhat, vhat;
        if (o->decoupled) p[i] -= o->lr * o->weight_decay * p[i];
        m[i] = o->beta1 * m[i] + (1 - o->beta1) * gi;
        v[i] = o->beta2 * v[i] + (1 - o->beta2) * gi * gi;
        mhat = m[i] / (1 - pow(o->beta1, t));
        vhat = v[i] / (1 - pow(o->beta2, t));
        p[i] -= o->lr * mhat / (sqrt(vhat) + o->eps);
    }
}

static enum greatest_test_res adam_case(double weight_decay, int decoupled) {
    static const double p0[ADAM_N] = {0.5, -1, 2, 0.25};
    static const double g1[ADAM_N] = {0.125, -0.25, 0.375, 0};
    static const double g2[ADAM_N] = {-0.0625, 0.5, 0, 1};
    double p[ADAM_N], m[ADAM_N] = {0}, v[ADAM_N] = {0}, got_p[ADAM_N], got_m[ADAM_N], got_v[ADAM_N], after1[ADAM_N];
    rg_ctx *ctx;
    rg_tensor tp, tg, tm, tv;
    rg_adam opt = rg_adam_default(0.01);
    rg_status st;
    int i;
    opt.weight_decay = weight_decay;
    opt.decoupled = decoupled;
    memcpy(p, p0, sizeof p);
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&ctx, 0, TR_SEED));
    st = tr_upload(ctx, &tp, 1, ADAM_N, p0);
    if (st == RG_OK) st = tr_upload(ctx, &tg, 1, ADAM_N, g1);
    if (st == RG_OK) st = rg_tensor_zeros(ctx, &tm, 1, ADAM_N);
    if (st == RG_OK) st = rg_tensor_zeros(ctx, &tv, 1, ADAM_N);
    if (st == RG_OK) st = rg_adam_step(ctx, &opt, tp, tg, tm, tv);
    if (st == RG_OK) tr_download(ctx, tp, after1);
    if (st == RG_OK) st = tr_set(ctx, tg, g2);
    if (st == RG_OK) st = rg_adam_step(ctx, &opt, tp, tg, tm, tv);
    if (st == RG_OK) { tr_download(ctx, tp, got_p); tr_download(ctx, tm, got_m); tr_download(ctx, tv, got_v); }
    rg_tensor_free(ctx, &tp); rg_tensor_free(ctx, &tg); rg_tensor_free(ctx, &tm); rg_tensor_free(ctx, &tv);
    rg_ctx_destroy(ctx);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    ASSERT_EQ(2, (int)opt.step);
    /* the first step moves every parameter by lr * g / (|g| + eps) of its effective gradient */
    for (i = 0; i < ADAM_N; i++) {
        double g = g1[i] + (decoupled ? 0 : weight_decay * p0[i]);
        double want = p0[i] * (decoupled ? 1 - 0.01 * weight_decay : 1) - 0.01 * g / (fabs(g) + 1e-8);
        ASSERT_IN_RANGE(want, after1[i], TR_TOL);
    }
    adam_textbook(&opt, p, m, v, g1, 1);
    adam_textbook(&opt, p, m, v, g2, 2);
    for (i = 0; i < ADAM_N; i++) {
        ASSERT_IN_RANGE(p[i], got_p[i], TR_TOL);
        ASSERT_IN_RANGE(m[i], got_m[i], TR_TOL);
        ASSERT_IN_RANGE(v[i], got_v[i], TR_TOL);
    }
    PASS();
}

TEST adam_two_steps(void) {
    rg_adam d = rg_adam_default(0.5);
    ASSERT(d.lr == 0.5 && d.beta1 == 0.9 && d.beta2 == 0.999 && d.eps == 1e-8);
    ASSERT(d.weight_decay == 0 && d.decoupled == 0 && d.step == 0);
    CHECK_CALL(adam_case(0, 0));   /* Adam */
    CHECK_CALL(adam_case(0.1, 0)); /* Adam with L2 in the gradient */
    CHECK_CALL(adam_case(0.1, 1)); /* AdamW */
    PASS();
}

/* ---- gradient clipping ---- */

static rg_status clip(const double *g, int64_t n, double max_norm, double *norm, double *out) {
    rg_ctx *ctx;
    rg_tensor t;
    rg_status st = rg_ctx_create_cpu(&ctx, 0, TR_SEED);
    if (st != RG_OK) return st;
    st = tr_upload(ctx, &t, 1, n, g);
    if (st == RG_OK) st = rg_clip_grad_norm(ctx, t, max_norm, norm);
    tr_download(ctx, t, out);
    rg_tensor_free(ctx, &t);
    rg_ctx_destroy(ctx);
    return st;
}

TEST clip_grad_norm(void) {
    static const double big[4] = {3, 0, -4, 0}, small[2] = {0.3, 0.4};
    double out[TR_MAX], norm, after, coef, g[40];
    int i;
    /* norm 5 clipped to 1 by max_norm / (norm + 1e-6), as PyTorch */
    ASSERT_EQm(rg_last_error(), RG_OK, clip(big, 4, 1, &norm, out));
    ASSERT_EQ(5.0, norm);
    coef = 1 / (5 + 1e-6);
    for (i = 0; i < 4; i++) ASSERT_IN_RANGE(big[i] * coef, out[i], TR_TOL);
    /* norm 5 to 4: a mild scaling, 0.8 */
    ASSERT_EQm(rg_last_error(), RG_OK, clip(big, 4, 4, &norm, out));
    for (i = 0; i < 4; i++) ASSERT_IN_RANGE(big[i] * 4 / (5 + 1e-6), out[i], TR_TOL);
    /* at the limit PyTorch's 1e-6 margin still scales, by 5 / (5 + 1e-6) */
    ASSERT_EQm(rg_last_error(), RG_OK, clip(big, 4, 5, &norm, out));
    ASSERT_IN_RANGE(-4 * 5 / (5 + 1e-6), out[2], TR_TOL);
    ASSERT(out[2] > -4);
    /* below the limit: untouched, bit for bit */
    ASSERT_EQm(rg_last_error(), RG_OK, clip(small, 2, 1, &norm, out));
    ASSERT_IN_RANGE(0.5, norm, TR_TOL);
    ASSERT_EQ((double)(rg_real)0.3, out[0]);
    ASSERT_EQ((double)(rg_real)0.4, out[1]);
    /* forty random values: afterwards the norm is max_norm (less PyTorch's 1e-6 margin) */
    for (i = 0; i < 40; i++) g[i] = rg_rng_normal(TR_SEED, 40, (uint64_t)i);
    ASSERT_EQm(rg_last_error(), RG_OK, clip(g, 40, 0.75, &norm, out));
    ASSERT(norm > 3);
    for (after = 0, i = 0; i < 40; i++) after += out[i] * out[i];
    ASSERT_IN_RANGE(0.75 * norm / (norm + 1e-6), sqrt(after), TR_TOL);
    PASS();
}

TEST clip_grad_norm_nonfinite(void) {
    double g[2], out[2], norm = 0;
    g[0] = 1;
    g[1] = NAN;
    ASSERT_EQ(RG_ERR_NUMERIC, clip(g, 2, 1, &norm, out));
    ASSERT(strstr(rg_last_error(), "nan") != NULL);
    ASSERT_EQ(1.0, out[0]); /* left alone */
    g[1] = INFINITY;
    ASSERT_EQ(RG_ERR_NUMERIC, clip(g, 2, 1, &norm, out));
    ASSERT(strstr(rg_last_error(), "inf") != NULL);
    ASSERT_EQ(1.0, out[0]);
    PASS();
}

SUITE(train) {
    if (sizeof(rg_real) == sizeof(double)) {
        RUN_TEST(bce_gradcheck);
        RUN_TEST(xent_gradcheck);
    }
    RUN_TEST(bce_hand_values);
    RUN_TEST(xent_hand_values);
    RUN_TEST(losses_threads_bitwise);
    RUN_TEST(adam_two_steps);
    RUN_TEST(clip_grad_norm);
    RUN_TEST(clip_grad_norm_nonfinite);
}
