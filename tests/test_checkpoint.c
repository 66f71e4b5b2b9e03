/* Checkpoints: round trip, bitwise resume, and every kind of bad file refused with the
   model untouched and nothing half-written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "layer_case.h"

#define CK_NODES 40

/* files go to $RG_TEST_DIR (default build, where make test runs; CMake passes its build folder) */
static const char *ck_path(const char *name) {
    static char buf[4][512];
    static int next;
    const char *dir = getenv("RG_TEST_DIR");
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir ? dir : "build", name);
    return p;
}
#define CK_PATH ck_path("ck_test.safetensors")

typedef struct ck_run {
    rg_ctx *ctx;
    rg_model *model;
    rg_graph g;
    rg_tensor x, out, dout, y;
    rg_adam adam;
} ck_run;

static rg_config ck_config(void) {
    rg_config c = rg_config_default();
    c.arch = RG_ARCH_REV;
    c.layers = 3;
    c.hidden = 8;
    c.groups = 2;
    c.in_dim = 5;
    c.out_dim = 3;
    c.edge_dim = 2;
    c.dropout = 0.2;
    c.norm = RG_NORM_BATCH; /* running statistics are buffers: they must round-trip too */
    c.seed = 4;
    return c;
}

static rg_status ck_open(ck_run *r, const rg_config *c) {
    rg_status st;
    memset(r, 0, sizeof *r);
    if ((st = rg_ctx_create_cpu(&r->ctx, 0, 1)) != RG_OK) return st;
    if ((st = lc_graph(r->ctx, &r->g, CK_NODES, c->edge_dim, 3)) != RG_OK) return st;
    if ((st = lc_random(r->ctx, &r->x, CK_NODES, c->in_dim, -1, 1, 7)) != RG_OK) return st;
    if ((st = lc_random(r->ctx, &r->y, CK_NODES, c->out_dim, 0, 1, 8)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(r->ctx, &r->out, CK_NODES, c->out_dim)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(r->ctx, &r->dout, CK_NODES, c->out_dim)) != RG_OK) return st;
    r->adam = rg_adam_default(1e-2);
    return rg_model_create(r->ctx, c, &r->model);
}

static void ck_close(ck_run *r) {
    rg_model_destroy(r->model);
    rg_graph_free(r->ctx, &r->g);
    rg_tensor_free(r->ctx, &r->x);
    rg_tensor_free(r->ctx, &r->y);
    rg_tensor_free(r->ctx, &r->out);
    rg_tensor_free(r->ctx, &r->dout);
    rg_ctx_destroy(r->ctx);
}

/* one training step with a BCE loss on fixed 0/1-ish targets; returns the loss */
static rg_status ck_step(ck_run *r, int64_t step, double *loss) {
    rg_status st = rg_model_forward(r->model, r->out, &r->g, r->x, RG_MODE_TRAIN, (uint64_t)step);
    if (st == RG_OK) st = rg_bce_logits(r->ctx, loss, r->dout, r->out, r->y, rg_tensor_view(NULL, 0, 0));
    if (st == RG_OK) st = rg_model_zero_grad(r->model);
    if (st == RG_OK) st = rg_model_backward(r->model, rg_tensor_view(NULL, 0, 0), r->dout);
    if (st == RG_OK) st = rg_model_adam_step(r->model, &r->adam);
    return st;
}

/* Resuming from a checkpoint reproduces the uninterrupted run's later losses bit for bit. */
TEST resume_is_bitwise(void) {
    rg_config c = ck_config();
    ck_run a, b;
    double full[6], resumed[6];
    int64_t s, epoch = -1;
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&a, &c));
    for (s = 0; s < 6; s++) ASSERT_EQm(rg_last_error(), RG_OK, ck_step(&a, s, &full[s]));
    ck_close(&a);
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&a, &c));
    for (s = 0; s < 3; s++) ASSERT_EQm(rg_last_error(), RG_OK, ck_step(&a, s, &resumed[s]));
    ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(a.model, &a.adam, 3, CK_PATH));
    ck_close(&a);
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&b, &c));
    b.adam = rg_adam_default(99); /* overwritten by the checkpoint */
    ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_load(b.model, &b.adam, &epoch, CK_PATH));
    ASSERT_EQ(3, epoch);
    ASSERT_EQ(3, b.adam.step);
    for (s = 3; s < 6; s++) ASSERT_EQm(rg_last_error(), RG_OK, ck_step(&b, s, &resumed[s]));
    ck_close(&b);
    remove(CK_PATH);
    ASSERT_MEM_EQm("losses after resuming differ from the uninterrupted run", full, resumed, sizeof full);
    PASS();
}

static double *ck_params(ck_run *r) {
    rg_tensor p = rg_model_param_block(r->model);
    rg_real *h = (rg_real *)malloc((size_t)rg_tensor_numel(p) * sizeof(rg_real));
    double *d = (double *)malloc((size_t)rg_tensor_numel(p) * sizeof(double));
    int64_t i;
    rg_tensor_download(r->ctx, p, h);
    for (i = 0; i < rg_tensor_numel(p); i++) d[i] = h[i];
    free(h);
    return d;
}

static long ck_file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    long n;
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fclose(f);
    return n;
}

/* write bytes [0, n) of src to dst, with byte `flip` (if >= 0) changed */
static int ck_copy(const char *src, const char *dst, long n, long flip) {
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    long i;
    int c, ok = in && out;
    for (i = 0; ok && i < n && (c = fgetc(in)) != EOF; i++) fputc(i == flip ? (c == '"' ? 'x' : '"') : c, out);
    if (in) fclose(in);
    if (out) fclose(out);
    return ok;
}

/* a bad file: the right status, a message naming the file, the model untouched */
static enum greatest_test_res ck_refused(ck_run *r, const char *path, rg_status want, const char *needle) {
    double *before = ck_params(r), *after;
    int64_t n = rg_tensor_numel(rg_model_param_block(r->model));
    rg_status st = rg_checkpoint_load(r->model, &r->adam, NULL, path);
    int same;
    after = ck_params(r);
    same = memcmp(before, after, (size_t)n * sizeof(double)) == 0;
    free(before);
    free(after);
    ASSERT_EQ_FMT((int)want, (int)st, "%d");
    ASSERTm(rg_last_error(), strstr(rg_last_error(), path) != NULL);
    ASSERTm(rg_last_error(), strstr(rg_last_error(), needle) != NULL);
    ASSERTm("a refused checkpoint changed the model", same);
    PASS();
}

TEST bad_checkpoints_refused(void) {
    rg_config c = ck_config(), other = ck_config();
    ck_run a, b;
    double loss;
    long size;
    size_t allocs;
    char bad[512], missing[512], unwritable[512], leftover[520];
    snprintf(bad, sizeof bad, "%s", ck_path("ck_bad.safetensors"));
    snprintf(missing, sizeof missing, "%s", ck_path("no_such_checkpoint.safetensors"));
    snprintf(unwritable, sizeof unwritable, "%s", ck_path("no_such_dir/x.safetensors"));
    snprintf(leftover, sizeof leftover, "%s.tmp", unwritable);
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&a, &c));
    ASSERT_EQm(rg_last_error(), RG_OK, ck_step(&a, 0, &loss));
    ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(a.model, &a.adam, 1, CK_PATH));
    size = ck_file_size(CK_PATH);
    ASSERT(size > 100);
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&b, &c));
    allocs = b.ctx->n_allocs;
    ASSERT(ck_copy(CK_PATH, bad, 5, -1));
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "truncated"));
    ASSERT(ck_copy(CK_PATH, bad, 300, -1));
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "header length"));
    ASSERT(ck_copy(CK_PATH, bad, size - 9, -1));
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "truncated"));
    ASSERT(ck_copy(CK_PATH, bad, size, 40)); /* a quote in the JSON header flipped */
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "checkpoint"));
    CHECK_CALL(ck_refused(&b, missing, RG_ERR_IO, "cannot open"));
    ASSERT_EQ(allocs, b.ctx->n_allocs);
    ck_close(&b);
    /* another configuration */
    other.hidden = 12;
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&b, &other));
    CHECK_CALL(ck_refused(&b, CK_PATH, RG_ERR_FORMAT, "another configuration"));
    ck_close(&b);
    other = ck_config();
    other.seed = 5;
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&b, &other));
    CHECK_CALL(ck_refused(&b, CK_PATH, RG_ERR_FORMAT, "seed=4"));
    ck_close(&b);
    /* an unwritable place: an error, and no temporary file left behind */
    ASSERT_EQ(RG_ERR_IO, rg_checkpoint_save(a.model, &a.adam, 1, unwritable));
    ASSERT(strstr(rg_last_error(), unwritable) != NULL);
    ASSERT_EQ(-1, ck_file_size(leftover));
    ck_close(&a);
    remove(CK_PATH);
    remove(bad);
    PASS();
}

SUITE(checkpoint) {
    RUN_TEST(resume_is_bitwise);
    RUN_TEST(bad_checkpoints_refused);
}
