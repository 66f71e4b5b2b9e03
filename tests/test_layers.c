/* Generic suites over every registered layer case (see layer_case.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "layer_case.h"

#define LC_SEED 20261121u
#define LC_R_STREAM 0x5eedu
/* the step that balances truncation (eps^2) against rounding (delta / eps) in double:
   eps ~ delta^(1/3) ~ 5e-6 */
#define GRADCHECK_EPS 5e-6
#define GRADCHECK_TOL 1e-6
#define GRADCHECK_ZERO 1e-8 /* numeric gradients below this are rounding noise */
#define GRADCHECK_MAX_ENTRIES 48 /* per tensor: every entry of small tensors, a spread of large ones */
#define FLOAT_TOL 1e-4

static char lc_msg[512];

rg_status lc_random(rg_ctx *ctx, rg_tensor *t, int64_t rows, int64_t cols, double lo, double hi, uint64_t stream) {
    rg_status st = rg_tensor_alloc(ctx, t, rows, cols);
    if (st != RG_OK) return st;
    return rg_tensor_init_uniform(ctx, *t, lo, hi, stream);
}

rg_status lc_graph_opt(rg_ctx *ctx, rg_graph *dev, int64_t n_nodes, int64_t edge_dim, uint64_t seed,
                       const rg_graph_options *options) {
    int32_t src[256], dst[256];
    rg_real feat[256 * 8];
    int64_t i, k, m = 0;
    rg_graph host;
    rg_status st;
    if (n_nodes > 40 || edge_dim > 8) return rg_error_set(RG_ERR_ARG, "lc_graph: too large");
    for (i = 2; i < n_nodes; i++) { src[m] = (int32_t)i; dst[m] = 1; m++; } /* node 1: many in */
    for (i = 2; i < n_nodes; i++)
        for (k = 0; k < 3; k++) {
            int32_t s = (int32_t)(rg_rng_u64(seed, 1, (uint64_t)(i * 3 + k)) % (uint64_t)n_nodes);
            src[m] = s; dst[m] = (int32_t)i; m++; /* node 0 never a destination */
        }
    src[m] = 0; dst[m] = 2; m++; /* node 0 still sends */
    for (k = 0; k < m * edge_dim; k++) feat[k] = (rg_real)(rg_rng_uniform(seed, 2, (uint64_t)k) * 2 - 1);
    st = rg_graph_from_coo(&host, n_nodes, m, src, dst, edge_dim ? feat : NULL, edge_dim, options);
    if (st != RG_OK) return st;
    st = rg_graph_to_device(ctx, &host, dev);
    rg_graph_free(NULL, &host);
    return st;
}

rg_status lc_graph(rg_ctx *ctx, rg_graph *dev, int64_t n_nodes, int64_t edge_dim, uint64_t seed) {
    return lc_graph_opt(ctx, dev, n_nodes, edge_dim, seed, NULL);
}

/* One instantiated case: its context, state, output weights R and tensor list. */
typedef struct lc_run {
    rg_ctx *ctx;
    void *state;
    rg_tensor R;
    lc_tensor list[LC_MAX_TENSORS];
    int n;
} lc_run;

static void lc_close(const layer_case *c, lc_run *r) {
    if (r->state) {
        c->teardown(r->ctx, r->state);
        free(r->state);
    }
    if (r->ctx) {
        rg_tensor_free(r->ctx, &r->R);
        rg_ctx_destroy(r->ctx);
    }
    memset(r, 0, sizeof *r);
}

static double lc_dot_host(rg_ctx *ctx, rg_tensor a, rg_tensor b) {
    int64_t i, n = rg_tensor_numel(a);
    rg_real *ha = (rg_real *)malloc((size_t)n * sizeof(rg_real) + 1), *hb = (rg_real *)malloc((size_t)n * sizeof(rg_real) + 1);
    double acc = 0;
    rg_tensor_download(ctx, a, ha);
    rg_tensor_download(ctx, b, hb);
    for (i = 0; i < n; i++) acc += (double)ha[i] * hb[i];
    free(ha);
    free(hb);
    return acc;
}

static rg_status lc_open(const layer_case *c, lc_ctx_maker make, int arg, lc_run *r) {
    rg_tensor out;
    rg_status st;
    memset(r, 0, sizeof *r);
    if ((st = make(&r->ctx, arg, LC_SEED)) != RG_OK) return st;
    r->state = calloc(1, c->state_size);
    if ((st = c->setup(r->ctx, r->state)) != RG_OK) return st;
    if ((st = c->forward(r->ctx, r->state, &out)) != RG_OK) return st;
    if ((st = lc_random(r->ctx, &r->R, out.rows, out.cols, -1, 1, LC_R_STREAM)) != RG_OK) return st;
    r->n = c->tensors(r->state, r->list);
    return RG_OK;
}

static rg_status lc_forward_loss(const layer_case *c, lc_run *r, double *loss) {
    rg_tensor out;
    rg_status st = c->forward(r->ctx, r->state, &out);
    if (st != RG_OK) return st;
    *loss = lc_dot_host(r->ctx, out, r->R);
    return RG_OK;
}

/* forward + backward with zeroed gradients */
static rg_status lc_gradients(const layer_case *c, lc_run *r, double *loss) {
    int i;
    rg_status st;
    for (i = 0; i < r->n; i++)
        if ((st = rg_tensor_fill(r->ctx, r->list[i].grad, 0)) != RG_OK) return st;
    if ((st = lc_forward_loss(c, r, loss)) != RG_OK) return st;
    return c->backward(r->ctx, r->state, r->R);
}

double *lc_download(rg_ctx *ctx, rg_tensor t) {
    int64_t i, n = rg_tensor_numel(t);
    rg_real *h = (rg_real *)malloc((size_t)n * sizeof(rg_real) + 1);
    double *d = (double *)malloc((size_t)n * sizeof(double) + 1);
    rg_tensor_download(ctx, t, h);
    for (i = 0; i < n; i++) d[i] = h[i];
    free(h);
    return d;
}

static void lc_set(rg_ctx *ctx, rg_tensor t, int64_t i, rg_real v) {
    ctx->ops->copy(ctx, t.data + i, &v, sizeof v, RG_HOST_TO_DEVICE);
}

static rg_real lc_get(rg_ctx *ctx, rg_tensor t, int64_t i) {
    rg_real v;
    ctx->ops->copy(ctx, &v, t.data + i, sizeof v, RG_DEVICE_TO_HOST);
    return v;
}

/* relative error ||analytic - numeric|| / max(||analytic||, ||numeric||) over the checked
   entries of one tensor: a norm-wise measure, so a single tiny entry cannot dominate */
static enum greatest_test_res lc_check_tensor(const layer_case *c, lc_run *r, int t, const double *analytic) {
    lc_tensor *lt = &r->list[t];
    int64_t n = rg_tensor_numel(lt->value), step = n > GRADCHECK_MAX_ENTRIES ? n / GRADCHECK_MAX_ENTRIES : 1, i;
    double diff = 0, na = 0, nn = 0, rel;
    for (i = 0; i < n; i += step) {
        rg_real v = lc_get(r->ctx, lt->value, i);
        double lp, lm, num;
        lc_set(r->ctx, lt->value, i, (rg_real)(v + GRADCHECK_EPS));
        ASSERT_EQ(RG_OK, lc_forward_loss(c, r, &lp));
        lc_set(r->ctx, lt->value, i, (rg_real)(v - GRADCHECK_EPS));
        ASSERT_EQ(RG_OK, lc_forward_loss(c, r, &lm));
        lc_set(r->ctx, lt->value, i, v);
        num = (lp - lm) / (2 * GRADCHECK_EPS);
        diff += (num - analytic[i]) * (num - analytic[i]);
        na += analytic[i] * analytic[i];
        nn += num * num;
    }
    /* both vanish (a bias before a BatchNorm): nothing to compare; a backward that wrongly
       writes zeros still fails below, its relative error being 1 */
    if (sqrt(na) < GRADCHECK_ZERO && sqrt(nn) < GRADCHECK_ZERO) PASS();
    rel = sqrt(diff) / fmax(fmax(sqrt(na), sqrt(nn)), 1e-12);
    if (GREATEST_IS_VERBOSE()) printf("  %s.%s: |g| %.3e rel err %.2e\n", c->name, lt->name, sqrt(na), rel);
    snprintf(lc_msg, sizeof lc_msg, "%s: gradient of %s: relative error %.3e (|g| = %.3e)", c->name, lt->name, rel,
             sqrt(na));
    ASSERTm(lc_msg, rel < GRADCHECK_TOL);
    PASS();
}

TEST gradcheck(const layer_case *c) {
    lc_run r;
    double loss, *analytic[LC_MAX_TENSORS];
    int t;
    enum greatest_test_res res = GREATEST_TEST_RES_PASS;
    rg_status st = lc_open(c, rg_ctx_create_cpu, 0, &r);
    if (st == RG_OK) st = lc_gradients(c, &r, &loss);
    if (st != RG_OK) {
        snprintf(lc_msg, sizeof lc_msg, "%s: %s", c->name, rg_last_error());
        lc_close(c, &r);
        FAILm(lc_msg);
    }
    for (t = 0; t < r.n; t++) analytic[t] = lc_download(r.ctx, r.list[t].grad);
    for (t = 0; t < r.n && res == GREATEST_TEST_RES_PASS; t++) res = lc_check_tensor(c, &r, t, analytic[t]);
    for (t = 0; t < r.n; t++) free(analytic[t]);
    lc_close(c, &r);
    return res;
}

/* How a case takes a second backward: layers run it straight after the first (DEQ's
   solver takes many vector-Jacobian products from one forward); models consume their forward
   (reversible blocks rebuild inputs in place) and run forward again first. */
typedef struct lc_contract {
    const layer_case *c;
    int forward_again;
} lc_contract;

/* backward twice: parameter gradients double, input gradients stay */
TEST backward_contract(const lc_contract *k) {
    const layer_case *c = k->c;
    lc_run r;
    double loss, *g1[LC_MAX_TENSORS];
    int t, ok = 1;
    rg_status st = lc_open(c, rg_ctx_create_cpu, 0, &r);
    rg_tensor out;
    if (st == RG_OK) st = lc_gradients(c, &r, &loss);
    for (t = 0; st == RG_OK && t < r.n; t++) g1[t] = lc_download(r.ctx, r.list[t].grad);
    if (st == RG_OK && k->forward_again) st = c->forward(r.ctx, r.state, &out);
    if (st == RG_OK) st = c->backward(r.ctx, r.state, r.R);
    if (st != RG_OK) {
        snprintf(lc_msg, sizeof lc_msg, "%s: %s", c->name, rg_last_error());
        lc_close(c, &r);
        FAILm(lc_msg);
    }
    for (t = 0; t < r.n; t++) {
        double *g2 = lc_download(r.ctx, r.list[t].grad), want = r.list[t].accumulates ? 2 : 1;
        int64_t i, n = rg_tensor_numel(r.list[t].grad);
        for (i = 0; i < n && ok; i++)
            if (fabs(g2[i] - want * g1[t][i]) > 1e-5 * (fabs(g2[i]) + 1e-3)) {
                snprintf(lc_msg, sizeof lc_msg, "%s: %s[%lld] after two backward calls is %g, expected %g (%s)",
                         c->name, r.list[t].name, (long long)i, g2[i], want * g1[t][i],
                         r.list[t].accumulates ? "parameters accumulate" : "inputs are written");
                ok = 0;
            }
        free(g2);
        free(g1[t]);
    }
    lc_close(c, &r);
    ASSERTm(lc_msg, ok);
    PASS();
}

rg_status lc_case_results(const layer_case *c, lc_ctx_maker make, int arg, double **out, int64_t *count) {
    lc_run r;
    double loss;
    int64_t total = 1;
    int t;
    rg_status st = lc_open(c, make, arg, &r);
    if (st == RG_OK) st = lc_gradients(c, &r, &loss);
    if (st != RG_OK) { lc_close(c, &r); return st; }
    for (t = 0; t < r.n; t++) total += rg_tensor_numel(r.list[t].grad);
    *out = (double *)malloc((size_t)total * sizeof(double));
    (*out)[0] = loss;
    *count = 1;
    for (t = 0; t < r.n; t++) {
        int64_t n = rg_tensor_numel(r.list[t].grad);
        double *g = lc_download(r.ctx, r.list[t].grad);
        memcpy(*out + *count, g, (size_t)n * sizeof(double));
        *count += n;
        free(g);
    }
    lc_close(c, &r);
    return RG_OK;
}

TEST threads_bitwise(const layer_case *c) {
    double *a = NULL, *b = NULL;
    int64_t na = 0, nb = 0;
    int same;
    rg_status st = lc_case_results(c, rg_ctx_create_cpu, 1, &a, &na);
    if (st == RG_OK) st = lc_case_results(c, rg_ctx_create_cpu, 2, &b, &nb);
    snprintf(lc_msg, sizeof lc_msg, "%s: %s", c->name, rg_last_error());
    if (st != RG_OK) { free(a); free(b); FAILm(lc_msg); }
    same = na == nb && memcmp(a, b, (size_t)na * sizeof(double)) == 0;
    free(a);
    free(b);
    snprintf(lc_msg, sizeof lc_msg, "%s: results differ between 1 and 2 threads", c->name);
    ASSERTm(lc_msg, same);
    PASS();
}

static const char *lc_reference_path(void) {
    const char *p = getenv("RG_TEST_REFERENCE");
    return p ? p : "build/layer_reference.bin";
}

/* Double build: append this case's results to the reference file. Float build: compare. */
TEST float_vs_double(const layer_case *c) {
    double *got = NULL;
    int64_t n = 0;
    rg_status st = lc_case_results(c, rg_ctx_create_cpu, 0, &got, &n);
    snprintf(lc_msg, sizeof lc_msg, "%s: %s", c->name, rg_last_error());
    if (st != RG_OK) FAILm(lc_msg);
    if (sizeof(rg_real) == sizeof(double)) {
        FILE *f = fopen(lc_reference_path(), "ab");
        char name[64] = {0};
        int ok;
        strncpy(name, c->name, sizeof name - 1);
        ok = f && fwrite(name, sizeof name, 1, f) == 1 && fwrite(&n, sizeof n, 1, f) == 1 &&
             fwrite(got, sizeof(double), (size_t)n, f) == (size_t)n;
        if (f) ok = fclose(f) == 0 && ok;
        free(got);
        snprintf(lc_msg, sizeof lc_msg, "cannot write the reference %s", lc_reference_path());
        ASSERTm(lc_msg, ok);
    } else {
        FILE *f = fopen(lc_reference_path(), "rb");
        char name[64];
        int64_t rn, i;
        int found = 0;
        double diff = 0, norm = 0;
        while (f && !found && fread(name, sizeof name, 1, f) == 1 && fread(&rn, sizeof rn, 1, f) == 1) {
            double *ref = (double *)malloc((size_t)rn * sizeof(double) + 1);
            if (fread(ref, sizeof(double), (size_t)rn, f) != (size_t)rn) { free(ref); break; }
            if (strcmp(name, c->name) == 0 && rn == n) {
                for (i = 0; i < n; i++) { diff += (got[i] - ref[i]) * (got[i] - ref[i]); norm += ref[i] * ref[i]; }
                found = 1;
            }
            free(ref);
        }
        if (f) fclose(f);
        free(got);
        snprintf(lc_msg, sizeof lc_msg, "%s: no double reference in %s (run the double tests first)", c->name,
                 lc_reference_path());
        ASSERTm(lc_msg, found);
        snprintf(lc_msg, sizeof lc_msg, "%s: float vs double relative error %.3e", c->name, sqrt(diff / norm));
        ASSERTm(lc_msg, sqrt(diff) <= FLOAT_TOL * sqrt(norm));
    }
    PASS();
}

static void run_cases(const layer_case *cases, int forward_again) {
    static lc_contract contracts[512];
    static int n_contracts;
    int i;
    for (i = 0; cases[i].name; i++) {
        if (sizeof(rg_real) == sizeof(double) && n_contracts < 512) {
            lc_contract *k = &contracts[n_contracts++];
            k->c = &cases[i];
            k->forward_again = forward_again;
            RUN_TEST1(gradcheck, &cases[i]);
            RUN_TEST1(backward_contract, k);
        }
        RUN_TEST1(threads_bitwise, &cases[i]);
        RUN_TEST1(float_vs_double, &cases[i]);
    }
}

SUITE(layers) {
    /* a fresh reference per double run */
    if (sizeof(rg_real) == sizeof(double)) remove(lc_reference_path());
    run_cases(lc_cases_basic, 0);
    run_cases(lc_cases_convs, 0);
    run_cases(lc_cases_gen, 0);
    run_cases(lc_cases_models, 1);
}
