/* Whole-model layer cases: every architecture, gradient-checked over every parameter and the
   input features on a tiny graph (12 nodes, 3 layers, C = 2 and 3). */
#include <stddef.h>
#include <string.h>

#include "layer_case.h"

#define MC_NODES 12
#define MC_IN 3
#define MC_EDGE 2
#define MC_OUT 2
#define MC_STEP_SEED 77

typedef struct model_case {
    rg_model *model;
    rg_graph g;
    rg_tensor x, dx, out;
} model_case;

static rg_config mc_base(void) {
    rg_config c = rg_config_default();
    c.layers = 3;
    c.hidden = 6;
    c.in_dim = MC_IN;
    c.out_dim = MC_OUT;
    c.edge_dim = MC_EDGE;
    c.dropout = 0.2;
    c.seed = 5;
    c.deq_tol = 1e-11;
    c.deq_max_iter = 200;
    c.deq_memory = 12;
    return c;
}

static rg_status mc_setup(rg_ctx *ctx, model_case *c, const rg_config *cfg) {
    rg_status st;
    if ((st = lc_graph(ctx, &c->g, MC_NODES, cfg->edge_dim, 11)) != RG_OK) return st;
    if ((st = lc_random(ctx, &c->x, MC_NODES, MC_IN, -1, 1, 21)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(ctx, &c->dx, MC_NODES, MC_IN)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(ctx, &c->out, MC_NODES, MC_OUT)) != RG_OK) return st;
    return rg_model_create(ctx, cfg, &c->model);
}

static rg_status mc_forward(rg_ctx *ctx, void *s, rg_tensor *out) {
    model_case *c = (model_case *)s;
    (void)ctx;
    *out = c->out;
    return rg_model_forward(c->model, c->out, &c->g, c->x, RG_MODE_TRAIN, MC_STEP_SEED);
}

static rg_status mc_backward(rg_ctx *ctx, void *s, rg_tensor dout) {
    model_case *c = (model_case *)s;
    (void)ctx;
    return rg_model_backward(c->model, c->dx, dout);
}

/* the input, then every named parameter (not the BatchNorm buffers) */
static int mc_tensors(void *s, lc_tensor *l) {
    model_case *c = (model_case *)s;
    int64_t k, count, n = 0;
    const rg_param_name *names = rg_model_params(c->model, &count);
    rg_tensor values = rg_model_param_block(c->model), grads = rg_model_grad_block(c->model);
    l[n].name = "x"; l[n].value = c->x; l[n].grad = c->dx; l[n].accumulates = 0; n++;
    for (k = 0; k < count && n < LC_MAX_TENSORS; k++) {
        if (names[k].is_buffer) continue;
        l[n].name = names[k].name;
        l[n].value = rg_tensor_view(values.data + names[k].offset, names[k].rows, names[k].cols);
        l[n].grad = rg_tensor_view(grads.data + names[k].offset, names[k].rows, names[k].cols);
        l[n].accumulates = 1;
        n++;
    }
    return (int)n;
}

static void mc_teardown(rg_ctx *ctx, void *s) {
    model_case *c = (model_case *)s;
    rg_model_destroy(c->model);
    rg_graph_free(ctx, &c->g);
    rg_tensor_free(ctx, &c->x);
    rg_tensor_free(ctx, &c->dx);
    rg_tensor_free(ctx, &c->out);
}

/* one setup function per configuration */
#define MODEL_CASE(name, body)                                          \
    static rg_status setup_##name(rg_ctx *ctx, void *s) {               \
        rg_config cfg = mc_base();                                      \
        body;                                                           \
        return mc_setup(ctx, (model_case *)s, &cfg);                    \
    }

MODEL_CASE(res, cfg.arch = RG_ARCH_RES; cfg.groups = 1)
MODEL_CASE(res_ckpt, cfg.arch = RG_ARCH_RES_CKPT; cfg.groups = 1; cfg.layers = 5)
MODEL_CASE(res_ckpt_shared, cfg.arch = RG_ARCH_RES_CKPT; cfg.groups = 1; cfg.layers = 5; cfg.res_shared_dropout = 1)
MODEL_CASE(rev2, cfg.arch = RG_ARCH_REV; cfg.groups = 2; cfg.input_dropout = 0.3)
MODEL_CASE(rev3, cfg.arch = RG_ARCH_REV; cfg.groups = 3)
MODEL_CASE(wt_res, cfg.arch = RG_ARCH_WT_RES; cfg.groups = 1)
MODEL_CASE(wt_rev2, cfg.arch = RG_ARCH_WT_REV; cfg.groups = 2)
MODEL_CASE(wt_rev3, cfg.arch = RG_ARCH_WT_REV; cfg.groups = 3)
MODEL_CASE(deq, cfg.arch = RG_ARCH_DEQ; cfg.groups = 1; cfg.dropout = 0)
MODEL_CASE(rev2_max_batchnorm, cfg.arch = RG_ARCH_REV; cfg.aggr = RG_AGGR_MAX; cfg.norm = RG_NORM_BATCH; cfg.msg_norm = 1)
MODEL_CASE(rev2_gcn, cfg.arch = RG_ARCH_REV; cfg.conv = RG_CONV_GCN; cfg.edge_dim = 0)
MODEL_CASE(rev3_sage, cfg.arch = RG_ARCH_REV; cfg.groups = 3; cfg.conv = RG_CONV_SAGE; cfg.edge_dim = 0)
MODEL_CASE(mlp, cfg.arch = RG_ARCH_RES; cfg.groups = 1; cfg.layers = 0)
MODEL_CASE(res_gat, cfg.arch = RG_ARCH_RES; cfg.groups = 1; cfg.conv = RG_CONV_GAT; cfg.heads = 2; cfg.edge_dim = 0)

#define MC_ENTRY(name) {"model_" #name, sizeof(model_case), setup_##name, mc_forward, mc_backward, mc_tensors, mc_teardown}

const layer_case lc_cases_models[] = {
    MC_ENTRY(res),
    MC_ENTRY(res_ckpt),
    MC_ENTRY(res_ckpt_shared),
    MC_ENTRY(rev2),
    MC_ENTRY(rev3),
    MC_ENTRY(wt_res),
    MC_ENTRY(wt_rev2),
    MC_ENTRY(wt_rev3),
    MC_ENTRY(deq),
    MC_ENTRY(rev2_max_batchnorm),
    MC_ENTRY(rev2_gcn),
    MC_ENTRY(rev3_sage),
    MC_ENTRY(res_gat),
    MC_ENTRY(mlp),
    {NULL, 0, NULL, NULL, NULL, NULL, NULL},
};
