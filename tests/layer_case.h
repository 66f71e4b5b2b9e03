/* A layer case: one layer (or block, or model) at fixed small shapes with deterministic
   inputs. The generic suites in test_layers.c run every registered case through:
   - a double-precision central-difference gradient check of every input and parameter;
   - the backward contract (parameter gradients accumulate, input gradients are written);
   - bitwise equality of 1 and 2 threads;
   - float against double: the double build writes each case's loss and gradients to a
     reference file, the float build compares its own against it.
   The loss is L = sum(out .* R) for a fixed random R, so dL/dout = R. */
#ifndef LAYER_CASE_H
#define LAYER_CASE_H

#include "revgnn.h"

typedef struct lc_tensor {
    const char *name;
    rg_tensor value;   /* checked by perturbation */
    rg_tensor grad;    /* its gradient as backward leaves it */
    int accumulates;   /* 1 for parameters (+=), 0 for inputs (=) */
} lc_tensor;

#define LC_MAX_TENSORS 256

typedef struct layer_case {
    const char *name;
    size_t state_size;
    /* allocates everything the case needs; values come from the context's seed */
    rg_status (*setup)(rg_ctx *ctx, void *state);
    /* runs the forward pass and returns the output to be weighted by R */
    rg_status (*forward)(rg_ctx *ctx, void *state, rg_tensor *out);
    /* runs backward for dL/dout = dout (after a forward) */
    rg_status (*backward)(rg_ctx *ctx, void *state, rg_tensor dout);
    /* lists the tensors to check; returns how many */
    int (*tensors)(void *state, lc_tensor *list);
    void (*teardown)(rg_ctx *ctx, void *state);
} layer_case;

/* Helpers for case writers (defined in test_layers.c). */

/* A tensor of uniform values in [lo, hi) drawn from the context's seed and stream. */
rg_status lc_random(rg_ctx *ctx, rg_tensor *t, int64_t rows, int64_t cols, double lo, double hi, uint64_t stream);
/* A small random graph on the device: node 0 has no incoming edge, node 1 receives an edge
   from every other node, the rest get a few random sources; edge features when edge_dim > 0. */
rg_status lc_graph(rg_ctx *ctx, rg_graph *dev, int64_t n_nodes, int64_t edge_dim, uint64_t seed);
/* The same graph built with options (e.g. add_self_loops); NULL options: lc_graph. */
rg_status lc_graph_opt(rg_ctx *ctx, rg_graph *dev, int64_t n_nodes, int64_t edge_dim, uint64_t seed,
                       const rg_graph_options *options);

/* A context maker: rg_ctx_create_cpu (arg = threads) or rg_cuda_create (arg = device). */
typedef rg_status (*lc_ctx_maker)(rg_ctx **out, int arg, uint64_t seed);
/* Runs a case once on a fresh context from make (setup, forward, backward with dL/dout = R):
   *out (malloc'd, *count values) holds the loss sum(out .* R), then every listed gradient
   in list order, as doubles. For comparing backends and thread counts. */
rg_status lc_case_results(const layer_case *c, lc_ctx_maker make, int arg, double **out, int64_t *count);

/* A tensor's values as a malloc'd array of doubles (the caller frees it). */
double *lc_download(rg_ctx *ctx, rg_tensor t);

/* The registry: every case file defines an array ending with a {NULL} entry. */
extern const layer_case lc_cases_basic[];
extern const layer_case lc_cases_convs[];
extern const layer_case lc_cases_gen[];
extern const layer_case lc_cases_models[];

#endif
