/* The allocation-failure sweep: every allocation of an operation made to fail in turn.
   REVGNN_MALLOC/REVGNN_FREE are compile-time, so this is its own program (built by `make
   test` and `make test-asan` as test_oom in each build folder). Its allocator
   makes the k-th allocation of a call fail (only that one: later ones succeed, so cleanup
   paths that go on allocating are exercised too), for k = 0, 1, 2, ... until the call makes
   fewer than k + 1 allocations. The context, the CPU backend's memory and host arrays all
   come from REVGNN_MALLOC, so this covers every allocation. Each failed call must return
   RG_ERR_OOM with a message, hold no allocation afterwards (counted here; host leaks past
   these counts are LeakSanitizer's) and leave its outputs as they were. Built without
   OpenMP: the allocation order is then one sequence and the counter needs no lock. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long oom_next;           /* allocations so far in the armed call */
static long oom_fail_at = -1;   /* the one to fail; -1: none */
static int oom_fired;
static long oom_live;           /* allocations outstanding */
static size_t oom_live_bytes;

/* a header before each block records its size; 64 bytes keep malloc's alignment */
#define OOM_HEAD 64
static void *oom_malloc(size_t n) {
    unsigned char *p;
    if (oom_fail_at >= 0 && oom_next++ == oom_fail_at) {
        oom_fired = 1;
        return NULL;
    }
    p = (unsigned char *)malloc(n + OOM_HEAD);
    if (!p) return NULL;
    memcpy(p, &n, sizeof n);
    oom_live++;
    oom_live_bytes += n;
    return p + OOM_HEAD;
}
static void oom_free(void *q) {
    unsigned char *p = (unsigned char *)q;
    size_t n;
    if (!p) return;
    p -= OOM_HEAD;
    memcpy(&n, p, sizeof n);
    oom_live--;
    oom_live_bytes -= n;
    free(p);
}

#define REVGNN_MALLOC(ctx, size) ((void)(ctx), oom_malloc(size))
#define REVGNN_FREE(ctx, ptr) ((void)(ctx), oom_free(ptr))
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
#include "harness.h"
#include "fuzz/fuzz_data.h"

static long oom_total;          /* allocation points swept, over every operation */
static char oom_msg[900];

/* One operation under test: call() runs it, untouched() says its outputs are as before,
   release() frees what a successful call made. Operations on objects that hold memory
   between calls (a model keeps its workspace) give open() and close(): made afresh for
   each k, and nothing may remain once they are closed. */
typedef struct oom_op {
    const char *name;
    rg_status (*call)(void *state);
    int (*untouched)(void *state);
    void (*release)(void *state);
    void *state;
    rg_status (*open)(void *state);
    void (*close)(void *state);
} oom_op;

static enum greatest_test_res oom_sweep(const oom_op *op) {
    long k, base, live0, points = -1;
    size_t base_bytes, bytes0;
    for (k = 0; k < 1000000 && points < 0; k++) {
        rg_status st;
        base = oom_live;
        base_bytes = oom_live_bytes;
        if (op->open) ASSERT_EQm(rg_last_error(), RG_OK, op->open(op->state));
        live0 = oom_live;
        bytes0 = oom_live_bytes;
        rg_error_clear();
        oom_next = 0;
        oom_fired = 0;
        oom_fail_at = k;
        st = op->call(op->state);
        oom_fail_at = -1;
        if (!oom_fired) {
            snprintf(oom_msg, sizeof oom_msg, "%s: fails without a failed allocation: %.600s", op->name, rg_last_error());
            ASSERT_EQm(oom_msg, RG_OK, st);
            op->release(op->state);
            points = k;
        } else {
            snprintf(oom_msg, sizeof oom_msg, "%s, allocation %ld failing: expected RG_ERR_OOM, got %s: \"%.600s\"",
                     op->name, k, rg_status_name(st), rg_last_error());
            ASSERT_EQm(oom_msg, RG_ERR_OOM, st);
            snprintf(oom_msg, sizeof oom_msg, "%s, allocation %ld failing: the message \"%.600s\" does not say memory",
                     op->name, k, rg_last_error());
            ASSERTm(oom_msg, strstr(rg_last_error(), "memory") != NULL);
            snprintf(oom_msg, sizeof oom_msg, "%s, allocation %ld failing: outputs changed", op->name, k);
            ASSERTm(oom_msg, op->untouched(op->state));
        }
        if (op->close) {
            op->close(op->state);
            live0 = base;
            bytes0 = base_bytes;
        }
        snprintf(oom_msg, sizeof oom_msg, "%s, allocation %ld failing: %ld allocations (%ld bytes) more held after",
                 op->name, k, oom_live - live0, (long)(oom_live_bytes - bytes0));
        ASSERTm(oom_msg, oom_live == live0 && oom_live_bytes == bytes0);
    }
    ASSERTm("the sweep did not end", points >= 0);
    printf("  %-40s %4ld allocation points\n", op->name, points);
    oom_total += points;
    PASS();
}

static int oom_is_zero(const void *p, size_t n) {
    const unsigned char *c = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++)
        if (c[i]) return 0;
    return 1;
}

static void oom_nothing(void *state) { (void)state; }

/* ---- context ---- */

static rg_ctx *oom_made_ctx;
static rg_status oom_ctx_call(void *s) { (void)s; return rg_ctx_create_cpu(&oom_made_ctx, 1, 1); }
static int oom_ctx_untouched(void *s) { (void)s; return oom_made_ctx == NULL; }
static void oom_ctx_release(void *s) { (void)s; rg_ctx_destroy(oom_made_ctx); oom_made_ctx = NULL; }

TEST oom_context(void) {
    oom_op op = {"rg_ctx_create_cpu", oom_ctx_call, oom_ctx_untouched, oom_ctx_release, NULL, NULL, NULL};
    CHECK_CALL(oom_sweep(&op));
    PASS();
}

/* ---- graphs ---- */

#define OOM_NODES 40
#define OOM_EDGES 120
typedef struct oom_graph {
    int32_t src[OOM_EDGES], dst[OOM_EDGES];
    rg_real feat[OOM_EDGES * 2];
    int edge_dim;
    rg_graph_options opt;
    rg_graph out;
} oom_graph;

static void oom_graph_fill(oom_graph *s, int edge_dim) {
    int e;
    memset(s, 0, sizeof *s);
    for (e = 0; e < OOM_EDGES; e++) {
        s->src[e] = (int32_t)((e * 7) % OOM_NODES);
        s->dst[e] = (int32_t)((e * 13 + 5) % OOM_NODES);
        s->feat[2 * e] = (rg_real)e;
        s->feat[2 * e + 1] = (rg_real)-e;
    }
    s->edge_dim = edge_dim;
    s->opt = rg_graph_options_default();
    s->opt.add_reverse = 1;
    s->opt.add_self_loops = 1;
}
static rg_status oom_graph_call(void *p) {
    oom_graph *s = (oom_graph *)p;
    return rg_graph_from_coo(&s->out, OOM_NODES, OOM_EDGES, s->src, s->dst, s->edge_dim ? s->feat : NULL, s->edge_dim,
                             &s->opt);
}
static int oom_graph_untouched(void *p) { return oom_is_zero(&((oom_graph *)p)->out, sizeof(rg_graph)); }
static void oom_graph_release(void *p) { rg_graph_free(NULL, &((oom_graph *)p)->out); }

TEST oom_graph_build(void) {
    static oom_graph s;
    oom_op op = {"rg_graph_from_coo", oom_graph_call, oom_graph_untouched, oom_graph_release, &s, NULL, NULL};
    oom_graph_fill(&s, 0);
    CHECK_CALL(oom_sweep(&op));
    op.name = "rg_graph_from_coo, edge features";
    oom_graph_fill(&s, 2);
    CHECK_CALL(oom_sweep(&op));
    PASS();
}

/* ---- models ---- */

typedef struct oom_model {
    rg_ctx *ctx;
    rg_config cfg;
    rg_model *m;
} oom_model;

static rg_config oom_config(rg_arch arch, int64_t in_dim, int64_t edge_dim, int64_t out_dim) {
    rg_config c = rg_config_default();
    c.arch = arch;
    c.layers = 2;
    c.hidden = 8;
    c.groups = arch == RG_ARCH_REV || arch == RG_ARCH_WT_REV ? 2 : 1;
    c.in_dim = in_dim;
    c.edge_dim = edge_dim;
    c.out_dim = out_dim;
    c.dropout = 0.1;
    c.deq_max_iter = 4;
    c.seed = 3;
    return c;
}
static rg_status oom_model_call(void *p) {
    oom_model *s = (oom_model *)p;
    return rg_model_create(s->ctx, &s->cfg, &s->m);
}
static int oom_model_untouched(void *p) { return ((oom_model *)p)->m == NULL; }
static void oom_model_release(void *p) {
    oom_model *s = (oom_model *)p;
    rg_model_destroy(s->m);
    s->m = NULL;
}

static const rg_arch oom_archs[] = {RG_ARCH_RES, RG_ARCH_REV, RG_ARCH_DEQ};

TEST oom_model_create(void) {
    oom_model s;
    oom_op op = {NULL, oom_model_call, oom_model_untouched, oom_model_release, &s, NULL, NULL};
    char name[64];
    size_t a;
    memset(&s, 0, sizeof s);
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&s.ctx, 1, 1));
    for (a = 0; a < sizeof oom_archs / sizeof *oom_archs; a++) {
        snprintf(name, sizeof name, "rg_model_create, %s", rg_arch_name(oom_archs[a]));
        op.name = name;
        s.cfg = oom_config(oom_archs[a], 4, 2, 3);
        CHECK_CALL(oom_sweep(&op));
    }
    rg_ctx_destroy(s.ctx);
    PASS();
}

/* ---- datasets (a tiny OGB folder written here) and everything that uses one ---- */

static int oom_write(const char *dir, const char *rel, const char *text) {
    char path[600];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (!(f = fopen(path, "wb"))) return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

/* 6 nodes, 5 edges, every optional file: multilabel with node_species, or multiclass */
static int oom_ogb_folder(char *dir, size_t size, int multilabel) {
    static const char *const dirs[] = {"raw", "split", "split/s"};
    char path[600];
    size_t k;
    int ok = 1;
    snprintf(dir, size, "/tmp/revgnn_test_oom_XXXXXX");
    if (!mkdtemp(dir)) return 0;
    for (k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, dirs[k]);
        ok &= mkdir(path, 0700) == 0;
    }
    ok &= oom_write(dir, "raw/edge.csv", "0,1\n1,2\n2,3\n3,4\n4,5\n");
    ok &= oom_write(dir, "raw/num-node-list.csv", "6\n");
    ok &= oom_write(dir, "raw/num-edge-list.csv", "5\n");
    ok &= oom_write(dir, "raw/edge-feat.csv", "0.5,1\n0.25,2\n1,0\n-1,0.5\n2,2\n");
    ok &= oom_write(dir, "split/s/train.csv", "0\n1\n2\n");
    ok &= oom_write(dir, "split/s/valid.csv", "3\n4\n");
    ok &= oom_write(dir, "split/s/test.csv", "5\n");
    if (multilabel) {
        ok &= oom_write(dir, "raw/node-label.csv", "1,0\n0,1\n1,1\n0,0\n1,0\n0,1\n");
        ok &= oom_write(dir, "raw/node_species.csv", "3702\n9606\n3702\n10090\n9606\n3702\n");
    } else {
        ok &= oom_write(dir, "raw/node-label.csv", "0\n2\n1\n0\n2\n1\n");
        ok &= oom_write(dir, "raw/node-feat.csv", "1,0,0\n0,1,0\n0,0,1\n1,1,0\n0,1,1\n1,0,1\n");
    }
    return ok;
}

typedef struct oom_data {
    rg_ctx *ctx;
    const char *dir;
    rg_dataset_options opt;
    rg_dataset ds;
} oom_data;

static rg_status oom_data_call(void *p) {
    oom_data *s = (oom_data *)p;
    return rg_dataset_load_ogb(s->ctx, s->dir, &s->opt, &s->ds);
}
static int oom_data_untouched(void *p) { return oom_is_zero(&((oom_data *)p)->ds, sizeof(rg_dataset)); }
static void oom_data_release(void *p) {
    oom_data *s = (oom_data *)p;
    rg_dataset_free(s->ctx, &s->ds);
}

static rg_status oom_synthetic_call(void *p) {
    oom_data *s = (oom_data *)p;
    rg_synthetic_options o = rg_synthetic_options_default();
    o.nodes = 30;
    o.avg_degree = 4;
    o.n_tasks = 3;
    o.n_species = 2;
    o.edge_dim = 2;
    o.species_onehot = 1;
    return rg_dataset_synthetic(&o, &s->ds);
}

TEST oom_dataset_load(void) {
    char dir[64];
    oom_data s;
    oom_op op = {NULL, oom_data_call, oom_data_untouched, oom_data_release, &s, NULL, NULL};
    int multilabel;
    memset(&s, 0, sizeof s);
    ASSERT_EQ(RG_OK, rg_ctx_create_cpu(&s.ctx, 1, 1));
    s.dir = dir;
    for (multilabel = 0; multilabel < 2; multilabel++) {
        ASSERTm("could not write the OGB folder", oom_ogb_folder(dir, sizeof dir, multilabel));
        s.opt = rg_dataset_options_default();
        s.opt.species_onehot = multilabel;
        op.name = multilabel ? "rg_dataset_load_ogb, multilabel" : "rg_dataset_load_ogb, multiclass";
        CHECK_CALL(oom_sweep(&op));
        fuzz_remove_ogb(dir); /* the same layout as the fuzz targets' folder */
    }
    op.name = "rg_dataset_synthetic";
    op.call = oom_synthetic_call;
    rg_ctx_destroy(s.ctx);
    s.ctx = NULL; /* synthetic datasets are freed with a NULL context */
    CHECK_CALL(oom_sweep(&op));
    PASS();
}

/* a model, a dataset and the snapshots that say whether a failed call changed anything;
   the fields up to `file_size` are the test's settings, kept by oom_run_open */
typedef struct oom_run {
    rg_arch arch;
    int with_batch;         /* make the whole-graph batch and reserve the model for it */
    int perturb;            /* parameters other than a fresh model's */
    int64_t n_parts, n_views;
    char path[600];         /* checkpoint */
    unsigned char *file;    /* its bytes before */
    long file_size;
    /* made by oom_run_open */
    rg_ctx *ctx;
    rg_dataset ds;
    rg_model *m;
    rg_adam opt;
    rg_batch b;
    double loss;
    rg_real *scores;        /* (N, T), filled with 7 */
    rg_real *params, *now;  /* the parameter block before, and to compare */
    int64_t n_params;
    int64_t epoch;
} oom_run;

static rg_status oom_run_open(void *p) {
    oom_run *r = (oom_run *)p;
    rg_synthetic_options o = rg_synthetic_options_default();
    rg_config c;
    int64_t i;
    size_t keep = offsetof(oom_run, ctx);
    memset((char *)r + keep, 0, sizeof *r - keep);
    o.nodes = 30;
    o.avg_degree = 4;
    o.n_tasks = 3;
    o.n_species = 2;
    o.edge_dim = 2;
    RG__TRY(rg_ctx_create_cpu(&r->ctx, 1, 1));
    RG__TRY(rg_dataset_synthetic(&o, &r->ds));
    c = oom_config(r->arch, r->ds.x_dim, r->ds.graph.edge_dim, r->ds.n_tasks);
    RG__TRY(rg_model_create(r->ctx, &c, &r->m));
    if (r->perturb) RG__TRY(rg_tensor_fill(r->ctx, rg_model_param_block(r->m), (rg_real)0.5));
    if (r->with_batch) {
        RG__TRY(rg_batch_make(r->ctx, &r->ds, NULL, 0, &r->b));
        RG__TRY(rg_model_reserve(r->m, r->b.graph.n_nodes, r->b.graph.n_edges));
    }
    r->opt = rg_adam_default(0.01);
    r->n_params = rg_model_num_params(r->m);
    r->params = (rg_real *)malloc((size_t)r->n_params * sizeof(rg_real));
    r->now = (rg_real *)malloc((size_t)r->n_params * sizeof(rg_real));
    r->scores = (rg_real *)malloc((size_t)(r->ds.n_nodes * r->ds.n_tasks) * sizeof(rg_real));
    if (!r->params || !r->now || !r->scores) return RG_ERR_OOM;
    for (i = 0; i < r->ds.n_nodes * r->ds.n_tasks; i++) r->scores[i] = 7;
    r->loss = -1;
    r->epoch = -5;
    return rg_tensor_download(r->ctx, rg_model_param_block(r->m), r->params);
}

static void oom_run_close(void *p) {
    oom_run *r = (oom_run *)p;
    rg_batch_free(r->ctx, &r->b);
    rg_model_destroy(r->m);
    rg_dataset_free(NULL, &r->ds);
    rg_ctx_destroy(r->ctx);
    free(r->params);
    free(r->now);
    free(r->scores);
    r->ctx = NULL;
    r->m = NULL;
    r->params = r->now = r->scores = NULL;
}

/* the parameters, Adam's step, the loss, the epoch and the scores as they were */
static int oom_run_untouched(void *p) {
    oom_run *r = (oom_run *)p;
    int64_t i;
    if (rg_tensor_download(r->ctx, rg_model_param_block(r->m), r->now) != RG_OK) return 0;
    if (memcmp(r->now, r->params, (size_t)r->n_params * sizeof(rg_real)) != 0) return 0;
    for (i = 0; i < r->ds.n_nodes * r->ds.n_tasks; i++)
        if (r->scores[i] != 7) return 0;
    return r->opt.step == 0 && r->loss == -1 && r->epoch == -5;
}

static rg_status oom_reserve_call(void *p) {
    oom_run *r = (oom_run *)p;
    return rg_model_reserve(r->m, r->ds.graph.n_nodes, r->ds.graph.n_edges);
}
static rg_status oom_step_call(void *p) {
    oom_run *r = (oom_run *)p;
    double loss;
    RG__TRY(rg_model_forward(r->m, r->b.out, &r->b.graph, r->b.x, RG_MODE_TRAIN, 9));
    RG__TRY(rg_bce_logits(r->ctx, &loss, r->b.dout, r->b.out, r->b.y, r->b.mask));
    RG__TRY(rg_model_zero_grad(r->m));
    RG__TRY(rg_model_backward(r->m, rg_tensor_view(NULL, 0, 0), r->b.dout));
    RG__TRY(rg_model_adam_step(r->m, &r->opt));
    r->loss = loss;
    return RG_OK;
}
static rg_status oom_epoch_call(void *p) {
    oom_run *r = (oom_run *)p;
    return rg_train_epoch(r->m, &r->opt, &r->ds, r->n_parts, 5, 0, &r->loss, NULL, NULL);
}
static rg_status oom_predict_call(void *p) {
    oom_run *r = (oom_run *)p;
    return rg_predict(r->m, &r->ds, r->n_parts, r->n_views, 5, r->scores, NULL, NULL);
}
static rg_status oom_batch_call(void *p) {
    oom_run *r = (oom_run *)p;
    return rg_batch_make(r->ctx, &r->ds, NULL, 0, &r->b);
}
static int oom_batch_untouched(void *p) { return oom_is_zero(&((oom_run *)p)->b, sizeof(rg_batch)); }

TEST oom_training(void) {
    static oom_run r;
    oom_op op = {NULL, NULL, NULL, oom_nothing, &r, oom_run_open, oom_run_close};
    char name[80];
    size_t a;
    for (a = 0; a < sizeof oom_archs / sizeof *oom_archs; a++) {
        const char *arch = rg_arch_name(oom_archs[a]);
        memset(&r, 0, sizeof r);
        r.arch = oom_archs[a];
        op.name = name;
        snprintf(name, sizeof name, "rg_batch_make, %s", arch);
        op.call = oom_batch_call;
        op.untouched = oom_batch_untouched;
        CHECK_CALL(oom_sweep(&op));
        op.untouched = oom_run_untouched;
        snprintf(name, sizeof name, "rg_model_reserve, %s", arch);
        op.call = oom_reserve_call;
        CHECK_CALL(oom_sweep(&op));
        /* forward, loss, backward and Adam on the whole graph, the workspace reserved */
        r.with_batch = 1;
        snprintf(name, sizeof name, "one training step, %s", arch);
        op.call = oom_step_call;
        CHECK_CALL(oom_sweep(&op));
        r.with_batch = 0;
        /* on fresh models: their first meeting with a graph allocates the most */
        r.n_parts = 1;
        snprintf(name, sizeof name, "rg_train_epoch, 1 part, %s", arch);
        op.call = oom_epoch_call;
        CHECK_CALL(oom_sweep(&op));
        r.n_parts = 3;
        r.n_views = 2;
        snprintf(name, sizeof name, "rg_predict, 3 parts, 2 views, %s", arch);
        op.call = oom_predict_call;
        CHECK_CALL(oom_sweep(&op));
    }
    PASS();
}

/* ---- checkpoints ---- */

static long oom_read_file(const char *path, unsigned char **bytes) {
    FILE *f = fopen(path, "rb");
    long n = -1;
    *bytes = NULL;
    if (!f) return -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        *bytes = (unsigned char *)malloc((size_t)n + 1);
        if (!*bytes || fread(*bytes, 1, (size_t)n, f) != (size_t)n) n = -1;
    }
    fclose(f);
    return n;
}

/* entries of the checkpoint's folder: a failed save leaves no temporary file behind */
static int oom_dir_entries(const char *path) {
    char dir[600];
    DIR *d;
    int n = 0;
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    if (!(d = opendir(dir))) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static int oom_file_untouched(void *p) {
    oom_run *r = (oom_run *)p;
    unsigned char *now;
    long n = oom_read_file(r->path, &now);
    int same = n == r->file_size && memcmp(now, r->file, (size_t)n) == 0 && oom_dir_entries(r->path) == 3;
    free(now);
    return same;
}
static rg_status oom_save_call(void *p) {
    oom_run *r = (oom_run *)p;
    r->opt.step = 6;
    return rg_checkpoint_save(r->m, &r->opt, 2, r->path);
}
static rg_status oom_load_call(void *p) {
    oom_run *r = (oom_run *)p;
    return rg_checkpoint_load(r->m, &r->opt, &r->epoch, r->path);
}

TEST oom_checkpoint(void) {
    static oom_run r;
    oom_op op = {"rg_checkpoint_save", oom_save_call, oom_file_untouched, oom_nothing, &r, oom_run_open,
                 oom_run_close};
    char dir[64];
    memset(&r, 0, sizeof r);
    r.arch = RG_ARCH_REV;
    snprintf(dir, sizeof dir, "/tmp/revgnn_test_oom_XXXXXX");
    ASSERT(mkdtemp(dir) != NULL);
    snprintf(r.path, sizeof r.path, "%s/model.safetensors", dir);
    /* an older checkpoint (other parameters, epoch and step) that a failed save must keep */
    r.perturb = 1;
    ASSERT_EQm(rg_last_error(), RG_OK, oom_run_open(&r));
    r.opt.step = 4;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(r.m, &r.opt, 1, r.path));
    oom_run_close(&r);
    r.file_size = oom_read_file(r.path, &r.file);
    ASSERT(r.file_size > 0);
    r.perturb = 0;
    CHECK_CALL(oom_sweep(&op));
    /* loading the fresh model's checkpoint (epoch 2, step 6) into one of other parameters
       leaves them, Adam and the epoch as they were */
    r.perturb = 1;
    op.name = "rg_checkpoint_load";
    op.call = oom_load_call;
    op.untouched = oom_run_untouched;
    CHECK_CALL(oom_sweep(&op));
    free(r.file);
    remove(r.path);
    rmdir(dir);
    PASS();
}

SUITE(oom) {
    RUN_TEST(oom_context);
    RUN_TEST(oom_graph_build);
    RUN_TEST(oom_model_create);
    RUN_TEST(oom_dataset_load);
    RUN_TEST(oom_training);
    RUN_TEST(oom_checkpoint);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    GREATEST_MAIN_BEGIN();
    printf("revgnn allocation-failure sweep, REVGNN_REAL = %s\n",
           sizeof(rg_real) == sizeof(double) ? "double" : "float");
    RUN_SUITE(oom);
    printf("%ld allocation points swept\n", oom_total);
    HARNESS_MAIN_END();
}
