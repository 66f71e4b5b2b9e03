/* Layer cases for the dense layers: linear, relu, dropout, layer norm. */
#include <stddef.h>

#include "layer_case.h"

#define N_ROWS 13

/* ---- linear ---- */
typedef struct linear_case {
    rg_tensor x, dx, y;
    rg_linear p, g;
} linear_case;

static rg_status linear_setup(rg_ctx *ctx, void *s) {
    linear_case *c = (linear_case *)s;
    rg_status st;
    if ((st = lc_random(ctx, &c->x, N_ROWS, 6, -1, 1, 1)) != RG_OK) return st;
    if ((st = lc_random(ctx, &c->p.W, 6, 5, -1, 1, 2)) != RG_OK) return st;
    if ((st = lc_random(ctx, &c->p.b, 1, 5, -1, 1, 3)) != RG_OK) return st;
    if ((st = rg_tensor_zeros(ctx, &c->g.W, 6, 5)) != RG_OK) return st;
    if ((st = rg_tensor_zeros(ctx, &c->g.b, 1, 5)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(ctx, &c->dx, N_ROWS, 6)) != RG_OK) return st;
    return rg_tensor_alloc(ctx, &c->y, N_ROWS, 5);
}
static rg_status linear_forward(rg_ctx *ctx, void *s, rg_tensor *out) {
    linear_case *c = (linear_case *)s;
    *out = c->y;
    return rg_linear_forward(ctx, c->y, c->x, &c->p);
}
static rg_status linear_backward(rg_ctx *ctx, void *s, rg_tensor dout) {
    linear_case *c = (linear_case *)s;
    return rg_linear_backward(ctx, c->dx, &c->g, dout, c->x, &c->p);
}
static int linear_tensors(void *s, lc_tensor *l) {
    linear_case *c = (linear_case *)s;
    l[0].name = "x"; l[0].value = c->x; l[0].grad = c->dx; l[0].accumulates = 0;
    l[1].name = "W"; l[1].value = c->p.W; l[1].grad = c->g.W; l[1].accumulates = 1;
    l[2].name = "b"; l[2].value = c->p.b; l[2].grad = c->g.b; l[2].accumulates = 1;
    return 3;
}
static void linear_teardown(rg_ctx *ctx, void *s) {
    linear_case *c = (linear_case *)s;
    rg_tensor_free(ctx, &c->x); rg_tensor_free(ctx, &c->dx); rg_tensor_free(ctx, &c->y);
    rg_tensor_free(ctx, &c->p.W); rg_tensor_free(ctx, &c->p.b);
    rg_tensor_free(ctx, &c->g.W); rg_tensor_free(ctx, &c->g.b);
}

/* ---- relu and dropout: y = dropout(relu(x)), the two element-wise maps together ---- */
typedef struct act_case {
    rg_tensor x, dx, h, y;
} act_case;

#define DROP_P 0.3
#define DROP_STREAM 7

static rg_status act_setup(rg_ctx *ctx, void *s) {
    act_case *c = (act_case *)s;
    rg_status st;
    /* values kept away from the kink at 0 by the gradient check's step */
    if ((st = lc_random(ctx, &c->x, N_ROWS, 7, -1, 1, 4)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(ctx, &c->dx, N_ROWS, 7)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(ctx, &c->h, N_ROWS, 7)) != RG_OK) return st;
    return rg_tensor_alloc(ctx, &c->y, N_ROWS, 7);
}
static rg_status act_forward(rg_ctx *ctx, void *s, rg_tensor *out) {
    act_case *c = (act_case *)s;
    rg_status st = rg_relu_forward(ctx, c->h, c->x);
    *out = c->y;
    if (st != RG_OK) return st;
    return rg_dropout_forward(ctx, c->y, c->h, DROP_P, ctx->seed, DROP_STREAM);
}
static rg_status act_backward(rg_ctx *ctx, void *s, rg_tensor dout) {
    act_case *c = (act_case *)s;
    rg_status st = rg_dropout_backward(ctx, c->dx, dout, DROP_P, ctx->seed, DROP_STREAM);
    if (st != RG_OK) return st;
    return rg_relu_backward(ctx, c->dx, c->dx, c->x);
}
static int act_tensors(void *s, lc_tensor *l) {
    act_case *c = (act_case *)s;
    l[0].name = "x"; l[0].value = c->x; l[0].grad = c->dx; l[0].accumulates = 0;
    return 1;
}
static void act_teardown(rg_ctx *ctx, void *s) {
    act_case *c = (act_case *)s;
    rg_tensor_free(ctx, &c->x); rg_tensor_free(ctx, &c->dx); rg_tensor_free(ctx, &c->h); rg_tensor_free(ctx, &c->y);
}

/* ---- layer norm ---- */
typedef struct ln_case {
    rg_tensor x, dx, y;
    rg_layernorm p, g;
    rg_layernorm_cache cache;
} ln_case;

static rg_status ln_setup(rg_ctx *ctx, void *s) {
    ln_case *c = (ln_case *)s;
    rg_status st;
    if ((st = lc_random(ctx, &c->x, N_ROWS, 9, -2, 2, 5)) != RG_OK) return st;
    if ((st = lc_random(ctx, &c->p.gamma, 1, 9, 0.5, 1.5, 6)) != RG_OK) return st;
    if ((st = lc_random(ctx, &c->p.beta, 1, 9, -1, 1, 7)) != RG_OK) return st;
    if ((st = rg_tensor_zeros(ctx, &c->g.gamma, 1, 9)) != RG_OK) return st;
    if ((st = rg_tensor_zeros(ctx, &c->g.beta, 1, 9)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(ctx, &c->cache.mean, N_ROWS, 1)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(ctx, &c->cache.rstd, N_ROWS, 1)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(ctx, &c->dx, N_ROWS, 9)) != RG_OK) return st;
    return rg_tensor_alloc(ctx, &c->y, N_ROWS, 9);
}
static rg_status ln_forward(rg_ctx *ctx, void *s, rg_tensor *out) {
    ln_case *c = (ln_case *)s;
    *out = c->y;
    return rg_layernorm_forward(ctx, c->y, &c->cache, c->x, &c->p);
}
static rg_status ln_backward(rg_ctx *ctx, void *s, rg_tensor dout) {
    ln_case *c = (ln_case *)s;
    return rg_layernorm_backward(ctx, c->dx, &c->g, dout, c->x, &c->cache, &c->p);
}
static int ln_tensors(void *s, lc_tensor *l) {
    ln_case *c = (ln_case *)s;
    l[0].name = "x"; l[0].value = c->x; l[0].grad = c->dx; l[0].accumulates = 0;
    l[1].name = "gamma"; l[1].value = c->p.gamma; l[1].grad = c->g.gamma; l[1].accumulates = 1;
    l[2].name = "beta"; l[2].value = c->p.beta; l[2].grad = c->g.beta; l[2].accumulates = 1;
    return 3;
}
static void ln_teardown(rg_ctx *ctx, void *s) {
    ln_case *c = (ln_case *)s;
    rg_tensor_free(ctx, &c->x); rg_tensor_free(ctx, &c->dx); rg_tensor_free(ctx, &c->y);
    rg_tensor_free(ctx, &c->p.gamma); rg_tensor_free(ctx, &c->p.beta);
    rg_tensor_free(ctx, &c->g.gamma); rg_tensor_free(ctx, &c->g.beta);
    rg_tensor_free(ctx, &c->cache.mean); rg_tensor_free(ctx, &c->cache.rstd);
}

const layer_case lc_cases_basic[] = {
    {"linear", sizeof(linear_case), linear_setup, linear_forward, linear_backward, linear_tensors, linear_teardown},
    {"relu_dropout", sizeof(act_case), act_setup, act_forward, act_backward, act_tensors, act_teardown},
    {"layernorm", sizeof(ln_case), ln_setup, ln_forward, ln_backward, ln_tensors, ln_teardown},
    {NULL, 0, NULL, NULL, NULL, NULL, NULL},
};
