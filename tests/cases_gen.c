/* Layer cases for rg_norm (batch, layer; TRAIN and EVAL) and GENConv (every aggregator, edge
   inputs with and without the encoder, MsgNorm, each MLP norm). */
#include <stddef.h>

#include "layer_case.h"

#define N_ROWS 13
#define NORM_DIM 6
#define GEN_NODES 12
#define GEN_DIM 4

/* Parameters, their gradients and buffers: three flat blocks laid out by a layer's bind. */
typedef struct gc_block {
    rg_tensor params, grads, buffers;
} gc_block;

/* Allocates the blocks for a sizing binder's counts; parameters and buffers uniform in
   [0.5, 1.5) (positive, so running variances are valid), gradients zero. */
static rg_status gc_block_alloc(rg_ctx *ctx, gc_block *b, const rg_binder *sizes, uint64_t stream) {
    rg_status st;
    if ((st = lc_random(ctx, &b->params, 1, sizes->n_params, 0.5, 1.5, stream)) != RG_OK) return st;
    if ((st = lc_random(ctx, &b->buffers, 1, sizes->n_buffers, 0.5, 1.5, stream + 1)) != RG_OK) return st;
    return rg_tensor_zeros(ctx, &b->grads, 1, sizes->n_params);
}

static void gc_block_free(rg_ctx *ctx, gc_block *b) {
    rg_tensor_free(ctx, &b->params);
    rg_tensor_free(ctx, &b->grads);
    rg_tensor_free(ctx, &b->buffers);
}

static int gc_add(lc_tensor *l, int n, const char *name, rg_tensor value, rg_tensor grad, int accumulates) {
    l[n].name = name;
    l[n].value = value;
    l[n].grad = grad;
    l[n].accumulates = accumulates;
    return n + 1;
}

/* ---- rg_norm ---- */
typedef struct norm_case {
    rg_tensor x, dx, y;
    rg_norm p, g;
    rg_norm_cache cache;
    gc_block blk;
    rg_mode mode;
} norm_case;

static rg_status norm_setup_kind(rg_ctx *ctx, norm_case *c, rg_norm_kind kind, rg_mode mode) {
    rg_binder sizes = rg_binder_make(NULL, NULL), b;
    rg_status st;
    c->mode = mode;
    rg_norm_bind(&c->p, &sizes, kind, NORM_DIM, "norm.");
    if ((st = gc_block_alloc(ctx, &c->blk, &sizes, 11)) != RG_OK) return st;
    b = rg_binder_make(c->blk.params.data, c->blk.buffers.data);
    rg_norm_bind(&c->p, &b, kind, NORM_DIM, "norm.");
    b = rg_binder_make(c->blk.grads.data, NULL);
    rg_norm_bind(&c->g, &b, kind, NORM_DIM, "norm.");
    if ((st = rg_norm_cache_alloc(ctx, &c->cache, kind, N_ROWS, NORM_DIM)) != RG_OK) return st;
    /* a shifted, scaled input, so the statistics are far from 0 and 1 */
    if ((st = lc_random(ctx, &c->x, N_ROWS, NORM_DIM, -1, 3, 12)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(ctx, &c->dx, N_ROWS, NORM_DIM)) != RG_OK) return st;
    return rg_tensor_alloc(ctx, &c->y, N_ROWS, NORM_DIM);
}
static rg_status bn_train_setup(rg_ctx *ctx, void *s) {
    return norm_setup_kind(ctx, (norm_case *)s, RG_NORM_BATCH, RG_MODE_TRAIN);
}
static rg_status bn_eval_setup(rg_ctx *ctx, void *s) {
    return norm_setup_kind(ctx, (norm_case *)s, RG_NORM_BATCH, RG_MODE_EVAL);
}
static rg_status ln_norm_setup(rg_ctx *ctx, void *s) {
    return norm_setup_kind(ctx, (norm_case *)s, RG_NORM_LAYER, RG_MODE_TRAIN);
}
static rg_status norm_forward(rg_ctx *ctx, void *s, rg_tensor *out) {
    norm_case *c = (norm_case *)s;
    *out = c->y;
    return rg_norm_forward(ctx, c->y, &c->cache, c->x, &c->p, c->mode);
}
static rg_status norm_backward(rg_ctx *ctx, void *s, rg_tensor dout) {
    norm_case *c = (norm_case *)s;
    return rg_norm_backward(ctx, c->dx, &c->g, dout, c->x, &c->cache, &c->p, c->mode);
}
static int norm_tensors(void *s, lc_tensor *l) {
    norm_case *c = (norm_case *)s;
    int n = gc_add(l, 0, "x", c->x, c->dx, 0);
    n = gc_add(l, n, "gamma", c->p.gamma, c->g.gamma, 1);
    return gc_add(l, n, "beta", c->p.beta, c->g.beta, 1);
}
static void norm_teardown(rg_ctx *ctx, void *s) {
    norm_case *c = (norm_case *)s;
    rg_tensor_free(ctx, &c->x); rg_tensor_free(ctx, &c->dx); rg_tensor_free(ctx, &c->y);
    rg_norm_cache_free(ctx, &c->cache);
    gc_block_free(ctx, &c->blk);
}

/* ---- GENConv ---- */
typedef struct gen_case {
    rg_gen_config cfg;
    rg_graph g;
    rg_tensor x, dx, y, edge, dedge;
    rg_gen p, gr;
    rg_gen_cache cache;
    gc_block blk;
} gen_case;

static rg_status gen_setup_cfg(rg_ctx *ctx, gen_case *c) {
    rg_binder sizes = rg_binder_make(NULL, NULL), b;
    rg_status st;
    rg_gen_bind(&c->p, &sizes, &c->cfg, "gen.");
    if ((st = gc_block_alloc(ctx, &c->blk, &sizes, 21)) != RG_OK) return st;
    b = rg_binder_make(c->blk.params.data, c->blk.buffers.data);
    rg_gen_bind(&c->p, &b, &c->cfg, "gen.");
    b = rg_binder_make(c->blk.grads.data, NULL);
    rg_gen_bind(&c->gr, &b, &c->cfg, "gen.");
    if ((st = rg_gen_init(ctx, &c->p, &c->cfg, 30)) != RG_OK) return st;
    if ((st = lc_graph(ctx, &c->g, GEN_NODES, c->cfg.edge_dim, 77)) != RG_OK) return st;
    if (c->cfg.edge_dim > 0) {
        /* the graph's own edge features are the edge input */
        c->edge = rg_tensor_view(c->g.edge_feat, c->g.n_edges, c->cfg.edge_dim);
        if ((st = rg_tensor_alloc(ctx, &c->dedge, c->g.n_edges, c->cfg.edge_dim)) != RG_OK) return st;
    }
    if ((st = rg_gen_cache_alloc(ctx, &c->cache, &c->cfg, c->g.n_nodes, c->g.n_edges)) != RG_OK) return st;
    if ((st = lc_random(ctx, &c->x, GEN_NODES, GEN_DIM, -1, 1, 22)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(ctx, &c->dx, GEN_NODES, GEN_DIM)) != RG_OK) return st;
    return rg_tensor_alloc(ctx, &c->y, GEN_NODES, GEN_DIM);
}

/* the default config (softmax with learned t = 1, layer norm) with one aggregator and norm */
static rg_status gen_setup_with(rg_ctx *ctx, void *s, rg_aggr aggr, rg_norm_kind norm) {
    gen_case *c = (gen_case *)s;
    c->cfg = rg_gen_config_default(GEN_DIM);
    c->cfg.aggr = aggr;
    c->cfg.mlp_norm = norm;
    c->cfg.t = 1.3;
    c->cfg.p = 1.7;
    c->cfg.learn_p = 1;
    return gen_setup_cfg(ctx, c);
}
static rg_status gen_sum_setup(rg_ctx *ctx, void *s) { return gen_setup_with(ctx, s, RG_AGGR_SUM, RG_NORM_LAYER); }
static rg_status gen_mean_setup(rg_ctx *ctx, void *s) { return gen_setup_with(ctx, s, RG_AGGR_MEAN, RG_NORM_LAYER); }
static rg_status gen_max_setup(rg_ctx *ctx, void *s) { return gen_setup_with(ctx, s, RG_AGGR_MAX, RG_NORM_LAYER); }
static rg_status gen_softmax_setup(rg_ctx *ctx, void *s) {
    return gen_setup_with(ctx, s, RG_AGGR_SOFTMAX, RG_NORM_LAYER);
}
static rg_status gen_power_setup(rg_ctx *ctx, void *s) { return gen_setup_with(ctx, s, RG_AGGR_POWER, RG_NORM_LAYER); }
static rg_status gen_batch_setup(rg_ctx *ctx, void *s) { return gen_setup_with(ctx, s, RG_AGGR_SUM, RG_NORM_BATCH); }
static rg_status gen_none_setup(rg_ctx *ctx, void *s) { return gen_setup_with(ctx, s, RG_AGGR_MAX, RG_NORM_NONE); }
static rg_status gen_layer_setup(rg_ctx *ctx, void *s) {
    gen_case *c = (gen_case *)s;
    c->cfg = rg_gen_config_default(GEN_DIM);
    c->cfg.aggr = RG_AGGR_MEAN;
    c->cfg.msg_norm = 1; /* with the fixed scale s = 1 */
    return gen_setup_cfg(ctx, c);
}
static rg_status gen_encoder_setup(rg_ctx *ctx, void *s) {
    gen_case *c = (gen_case *)s;
    c->cfg = rg_gen_config_default(GEN_DIM);
    c->cfg.edge_dim = 3;
    c->cfg.encode_edges = 1;
    return gen_setup_cfg(ctx, c);
}
static rg_status gen_edge_dim_setup(rg_ctx *ctx, void *s) {
    gen_case *c = (gen_case *)s;
    c->cfg = rg_gen_config_default(GEN_DIM);
    c->cfg.aggr = RG_AGGR_POWER;
    c->cfg.p = 2.2;
    c->cfg.edge_dim = GEN_DIM;
    return gen_setup_cfg(ctx, c);
}
static rg_status gen_msgnorm_setup(rg_ctx *ctx, void *s) {
    gen_case *c = (gen_case *)s;
    c->cfg = rg_gen_config_default(GEN_DIM);
    c->cfg.msg_norm = 1;
    c->cfg.learn_msg_scale = 1;
    c->cfg.mlp_norm = RG_NORM_BATCH;
    return gen_setup_cfg(ctx, c);
}

static rg_status gen_forward(rg_ctx *ctx, void *s, rg_tensor *out) {
    gen_case *c = (gen_case *)s;
    *out = c->y;
    return rg_gen_forward(ctx, c->y, &c->cache, c->x, &c->g, c->edge, &c->p, &c->cfg, RG_MODE_TRAIN);
}
static rg_status gen_backward(rg_ctx *ctx, void *s, rg_tensor dout) {
    gen_case *c = (gen_case *)s;
    return rg_gen_backward(ctx, c->dx, c->dedge, &c->gr, dout, c->x, &c->g, c->edge, &c->cache, &c->p, &c->cfg,
                           RG_MODE_TRAIN);
}
static int gen_tensors(void *s, lc_tensor *l) {
    gen_case *c = (gen_case *)s;
    int n = gc_add(l, 0, "x", c->x, c->dx, 0);
    if (c->edge.data) n = gc_add(l, n, "edge", c->edge, c->dedge, 1); /* dedge accumulates */
    if (c->p.edge_enc.W.data) {
        n = gc_add(l, n, "edge_encoder.W", c->p.edge_enc.W, c->gr.edge_enc.W, 1);
        n = gc_add(l, n, "edge_encoder.b", c->p.edge_enc.b, c->gr.edge_enc.b, 1);
    }
    if (c->p.t.data) n = gc_add(l, n, "t", c->p.t, c->gr.t, 1);
    if (c->p.p.data) n = gc_add(l, n, "p", c->p.p, c->gr.p, 1);
    if (c->p.scale.data) n = gc_add(l, n, "msg_norm.scale", c->p.scale, c->gr.scale, 1);
    n = gc_add(l, n, "lin1.W", c->p.lin1.W, c->gr.lin1.W, 1);
    /* a bias before a batch norm cancels in the batch mean: its gradient is exactly zero */
    if (c->cfg.mlp_norm != RG_NORM_BATCH) n = gc_add(l, n, "lin1.b", c->p.lin1.b, c->gr.lin1.b, 1);
    if (c->p.norm.gamma.data) {
        n = gc_add(l, n, "norm.gamma", c->p.norm.gamma, c->gr.norm.gamma, 1);
        n = gc_add(l, n, "norm.beta", c->p.norm.beta, c->gr.norm.beta, 1);
    }
    n = gc_add(l, n, "lin2.W", c->p.lin2.W, c->gr.lin2.W, 1);
    return gc_add(l, n, "lin2.b", c->p.lin2.b, c->gr.lin2.b, 1);
}
static void gen_teardown(rg_ctx *ctx, void *s) {
    gen_case *c = (gen_case *)s;
    rg_tensor_free(ctx, &c->x); rg_tensor_free(ctx, &c->dx); rg_tensor_free(ctx, &c->y);
    rg_tensor_free(ctx, &c->dedge);
    rg_gen_cache_free(ctx, &c->cache);
    gc_block_free(ctx, &c->blk);
    if (c->g.ctx) rg_graph_free(ctx, &c->g);
}

#define NORM_CASE(name, setup) {name, sizeof(norm_case), setup, norm_forward, norm_backward, norm_tensors, norm_teardown}
#define GEN_CASE(name, setup) {name, sizeof(gen_case), setup, gen_forward, gen_backward, gen_tensors, gen_teardown}

const layer_case lc_cases_gen[] = {
    NORM_CASE("norm_batch_train", bn_train_setup),
    NORM_CASE("norm_batch_eval", bn_eval_setup),
    NORM_CASE("norm_layer", ln_norm_setup),
    GEN_CASE("gen_sum", gen_sum_setup),
    GEN_CASE("gen_mean", gen_mean_setup),
    GEN_CASE("gen_max", gen_max_setup),
    GEN_CASE("gen_softmax_learn_t", gen_softmax_setup),
    GEN_CASE("gen_power_learn_p", gen_power_setup),
    GEN_CASE("gen_edge_encoder", gen_encoder_setup),
    GEN_CASE("gen_edge_dim_no_encoder", gen_edge_dim_setup),
    GEN_CASE("gen_msgnorm_learn_scale", gen_msgnorm_setup),
    GEN_CASE("gen_mlp_batch", gen_batch_setup),
    GEN_CASE("gen_mlp_layer_msgnorm", gen_layer_setup),
    GEN_CASE("gen_mlp_none", gen_none_setup),
    {NULL, 0, NULL, NULL, NULL, NULL, NULL},
};
