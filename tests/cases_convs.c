/* Layer cases for GCNConv, SAGEConv and GATConv on lc_graph's 12-node graph. Each layer
   binds its parameters into one flat block (and its gradients into another), as models do. */
#include <stddef.h>

#include "layer_case.h"

#define N_NODES 12
#define IN 5
#define GRAPH_SEED 77

typedef enum conv_kind { CONV_GCN, CONV_SAGE, CONV_GAT } conv_kind;

typedef struct conv_case {
    conv_kind kind;
    rg_graph g;
    rg_tensor x, dx, y;
    rg_tensor params, grads;  /* (1, P) flat blocks the layer's views point into */
    rg_gcn gcn, gcn_grad;
    rg_gcn_cache gcn_cache;
    rg_sage sage, sage_grad;
    rg_sage_cache sage_cache;
    rg_gat_config gat_cfg;
    rg_gat gat, gat_grad;
    rg_gat_cache gat_cache;
} conv_case;

static void conv_bind(conv_case *c, rg_binder *b, int is_grad) {
    if (c->kind == CONV_GCN) rg_gcn_bind(is_grad ? &c->gcn_grad : &c->gcn, b, IN, 4, "");
    else if (c->kind == CONV_SAGE) rg_sage_bind(is_grad ? &c->sage_grad : &c->sage, b, IN, 4, "");
    else rg_gat_bind(is_grad ? &c->gat_grad : &c->gat, b, &c->gat_cfg, "");
}

/* the layer's own init, then a non-zero bias so the forward values test it too */
static rg_status conv_init(rg_ctx *ctx, conv_case *c) {
    rg_status st;
    if (c->kind == CONV_GCN) {
        if ((st = rg_gcn_init(ctx, &c->gcn, 20)) != RG_OK) return st;
        return rg_tensor_init_uniform(ctx, c->gcn.lin.b, -0.5, 0.5, 40);
    }
    if (c->kind == CONV_SAGE) return rg_sage_init(ctx, &c->sage, 20);
    if ((st = rg_gat_init(ctx, &c->gat, &c->gat_cfg, 20)) != RG_OK) return st;
    return rg_tensor_init_uniform(ctx, c->gat.bias, -0.5, 0.5, 40);
}

static rg_status conv_setup(rg_ctx *ctx, conv_case *c, conv_kind kind, int self_loops) {
    rg_graph_options opt = rg_graph_options_default();
    rg_binder b = rg_binder_make(NULL, NULL);
    int64_t out;
    rg_status st;
    c->kind = kind;
    opt.add_self_loops = self_loops;
    if ((st = lc_graph_opt(ctx, &c->g, N_NODES, 0, GRAPH_SEED, &opt)) != RG_OK) return st;
    if ((st = lc_random(ctx, &c->x, N_NODES, IN, -1, 1, 11)) != RG_OK) return st;
    conv_bind(c, &b, 0); /* sizing pass */
    if ((st = rg_tensor_alloc(ctx, &c->params, 1, b.n_params)) != RG_OK) return st;
    if ((st = rg_tensor_zeros(ctx, &c->grads, 1, b.n_params)) != RG_OK) return st;
    b = rg_binder_make(c->params.data, NULL);
    conv_bind(c, &b, 0);
    b = rg_binder_make(c->grads.data, NULL);
    conv_bind(c, &b, 1);
    if ((st = conv_init(ctx, c)) != RG_OK) return st;
    if (kind == CONV_GCN) {
        out = 4;
        st = rg_gcn_cache_alloc(ctx, &c->gcn_cache, out, N_NODES);
    } else if (kind == CONV_SAGE) {
        out = 4;
        st = rg_sage_cache_alloc(ctx, &c->sage_cache, IN, N_NODES);
    } else {
        out = rg_gat_out_dim(&c->gat_cfg);
        st = rg_gat_cache_alloc(ctx, &c->gat_cache, &c->gat_cfg, N_NODES);
    }
    if (st != RG_OK) return st;
    if ((st = rg_tensor_alloc(ctx, &c->dx, N_NODES, IN)) != RG_OK) return st;
    return rg_tensor_alloc(ctx, &c->y, N_NODES, out);
}

static void gat_config(conv_case *c, int64_t heads, int64_t head_dim, int concat) {
    c->gat_cfg.in = IN;
    c->gat_cfg.heads = heads;
    c->gat_cfg.head_dim = head_dim;
    c->gat_cfg.concat = concat;
}

static rg_status gcn_setup(rg_ctx *ctx, void *s) { return conv_setup(ctx, (conv_case *)s, CONV_GCN, 0); }
static rg_status gcn_loops_setup(rg_ctx *ctx, void *s) { return conv_setup(ctx, (conv_case *)s, CONV_GCN, 1); }
static rg_status sage_setup(rg_ctx *ctx, void *s) { return conv_setup(ctx, (conv_case *)s, CONV_SAGE, 0); }
static rg_status gat_concat_setup(rg_ctx *ctx, void *s) {
    gat_config((conv_case *)s, 2, 3, 1);
    return conv_setup(ctx, (conv_case *)s, CONV_GAT, 0);
}
static rg_status gat_concat_loops_setup(rg_ctx *ctx, void *s) {
    gat_config((conv_case *)s, 2, 3, 1);
    return conv_setup(ctx, (conv_case *)s, CONV_GAT, 1);
}
static rg_status gat_mean_setup(rg_ctx *ctx, void *s) {
    gat_config((conv_case *)s, 3, 2, 0);
    return conv_setup(ctx, (conv_case *)s, CONV_GAT, 0);
}

static rg_status conv_forward(rg_ctx *ctx, void *s, rg_tensor *out) {
    conv_case *c = (conv_case *)s;
    *out = c->y;
    if (c->kind == CONV_GCN) return rg_gcn_forward(ctx, c->y, &c->gcn_cache, c->x, &c->g, &c->gcn);
    if (c->kind == CONV_SAGE) return rg_sage_forward(ctx, c->y, &c->sage_cache, c->x, &c->g, &c->sage);
    return rg_gat_forward(ctx, c->y, &c->gat_cache, c->x, &c->g, &c->gat, &c->gat_cfg);
}

static rg_status conv_backward(rg_ctx *ctx, void *s, rg_tensor dout) {
    conv_case *c = (conv_case *)s;
    if (c->kind == CONV_GCN) return rg_gcn_backward(ctx, c->dx, &c->gcn_grad, dout, c->x, &c->g, &c->gcn_cache, &c->gcn);
    if (c->kind == CONV_SAGE)
        return rg_sage_backward(ctx, c->dx, &c->sage_grad, dout, c->x, &c->g, &c->sage_cache, &c->sage);
    return rg_gat_backward(ctx, c->dx, &c->gat_grad, dout, c->x, &c->g, &c->gat_cache, &c->gat, &c->gat_cfg);
}

static void lc_entry(lc_tensor *l, const char *name, rg_tensor value, rg_tensor grad, int accumulates) {
    l->name = name;
    l->value = value;
    l->grad = grad;
    l->accumulates = accumulates;
}

static int conv_tensors(void *s, lc_tensor *l) {
    conv_case *c = (conv_case *)s;
    lc_entry(&l[0], "x", c->x, c->dx, 0);
    if (c->kind == CONV_GCN) {
        lc_entry(&l[1], "W", c->gcn.lin.W, c->gcn_grad.lin.W, 1);
        lc_entry(&l[2], "bias", c->gcn.lin.b, c->gcn_grad.lin.b, 1);
        return 3;
    }
    if (c->kind == CONV_SAGE) {
        lc_entry(&l[1], "W_l", c->sage.lin_l.W, c->sage_grad.lin_l.W, 1);
        lc_entry(&l[2], "bias", c->sage.lin_l.b, c->sage_grad.lin_l.b, 1);
        lc_entry(&l[3], "W_r", c->sage.lin_r.W, c->sage_grad.lin_r.W, 1);
        return 4;
    }
    lc_entry(&l[1], "W", c->gat.W, c->gat_grad.W, 1);
    lc_entry(&l[2], "att_src", c->gat.att_src, c->gat_grad.att_src, 1);
    lc_entry(&l[3], "att_dst", c->gat.att_dst, c->gat_grad.att_dst, 1);
    lc_entry(&l[4], "bias", c->gat.bias, c->gat_grad.bias, 1);
    return 5;
}

static void conv_teardown(rg_ctx *ctx, void *s) {
    conv_case *c = (conv_case *)s;
    rg_gcn_cache_free(ctx, &c->gcn_cache);
    rg_sage_cache_free(ctx, &c->sage_cache);
    rg_gat_cache_free(ctx, &c->gat_cache);
    rg_tensor_free(ctx, &c->params);
    rg_tensor_free(ctx, &c->grads);
    rg_tensor_free(ctx, &c->x);
    rg_tensor_free(ctx, &c->dx);
    rg_tensor_free(ctx, &c->y);
    rg_graph_free(c->g.ctx, &c->g);
}

#define CONV_CASE(name, setup) {name, sizeof(conv_case), setup, conv_forward, conv_backward, conv_tensors, conv_teardown}

const layer_case lc_cases_convs[] = {
    CONV_CASE("gcn", gcn_setup),                          /* 5 -> 4 */
    CONV_CASE("gcn_self_loops", gcn_loops_setup),         /* the same on the graph with every self-loop */
    CONV_CASE("sage", sage_setup),                        /* 5 -> 4 */
    CONV_CASE("gat_concat", gat_concat_setup),            /* 5 -> 2 heads x 3, concatenated */
    CONV_CASE("gat_concat_self_loops", gat_concat_loops_setup),
    CONV_CASE("gat_mean", gat_mean_setup),                /* 5 -> 3 heads x 2, averaged */
    {NULL, 0, NULL, NULL, NULL, NULL, NULL},
};
