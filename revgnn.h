/* revgnn.h - v0.1 - graph neural networks a thousand layers deep, in constant memory.

   A header-only C library after "Training Graph Neural Networks with 1000 Layers"
   (Li, Mueller, Ghanem, Koltun, ICML 2021): grouped reversible GNNs, weight tying and
   deep-equilibrium GNNs, with hand-written forward and backward passes (no autograd).

   Do this:
      #define REVGNN_IMPLEMENTATION
   before you include this file in *one* C, C++ or CUDA file to create the implementation.
   Every other file includes it without the define and sees only the declarations.

   EXAMPLE (a GCN layer forward on a 3-node path graph):

      #define REVGNN_IMPLEMENTATION
      #include "revgnn.h"
      int main(void) {
          rg_ctx *ctx; rg_graph host, dev; int32_t src[] = {0, 1}, dst[] = {1, 2};
          rg_graph_options opt = rg_graph_options_default();
          opt.add_reverse = 1;
          if (rg_ctx_create_cpu(&ctx, 0, 42) != RG_OK) return 1;
          if (rg_graph_from_coo(&host, 3, 2, src, dst, NULL, 0, &opt) != RG_OK ||
              rg_graph_to_device(ctx, &host, &dev) != RG_OK) {
              fprintf(stderr, "%s\n", rg_last_error()); return 1;
          }
          ... rg_tensor_alloc, rg_gcn_forward, rg_tensor_download ...
          rg_graph_free(ctx, &dev); rg_graph_free(NULL, &host); rg_ctx_destroy(ctx);
      }

   COMPILE-TIME OPTIONS
   Global (must be the same in every file that includes this header):
      REVGNN_REAL        element type of tensors: float (default) or double (CPU only).
      REVGNN_STATIC      make every function static (private to one translation unit).
   Implementation only (where REVGNN_IMPLEMENTATION is defined):
      REVGNN_MALLOC(ctx, size) / REVGNN_FREE(ctx, ptr)
                         the allocator; define both or neither. ctx is the rg_ctx* or NULL.
      REVGNN_ASSERT(x)   internal invariant check (default: assert). Never used on user input.
      REVGNN_CBLAS       route dense products through cblas_sgemm/cblas_dgemm (link a CBLAS).
                         The BLAS then picks its own threads, and whether results are bitwise
                         the same for any thread count is up to it (the built-in GEMM's are).
      REVGNN_NO_OPENMP   build single-threaded even when compiled with -fopenmp.
      REVGNN_NO_STDIO    leave out everything that touches files (loaders, checkpoints).

   ENVIRONMENT
      REVGNN_CPU_ISA     portable, avx2 or avx512: the micro-kernel of the built-in CPU GEMM,
                         read when a CPU context is created (default: the fastest this CPU
                         runs). For tests and benchmarks; kernels with and without fused
                         multiply-add may differ in the last bits.
      OMP_WAIT_POLICY    OpenMP's own; passive helps where virtual CPUs share physical cores
                         (idle threads that spin take the time of working ones).

   CONTENTS (each section opens with a banner comment)
      configuration - status and errors - context, allocator, memory accounting - tensors -
      counter-based RNG - CSR graph - backend ops table - CPU backend - layers

   ERRORS
      Every function that can fail returns rg_status and leaves a message naming the value,
      dimension, file or line at fault in rg_last_error() (thread-local). The library never
      exits, aborts or prints on user input. A failed call leaves its outputs freed.

   LICENSE: MIT, see the end of this file.
*/
#ifndef REVGNN_H
#define REVGNN_H

#include <stddef.h>
#include <stdint.h>

/* ============================== configuration ============================== */

#ifndef REVGNN_REAL
#define REVGNN_REAL float
#endif
typedef REVGNN_REAL rg_real;

#ifdef REVGNN_STATIC
#define RGDEF static
#else
#define RGDEF extern
#endif

#define RG_VERSION "0.1.0"
#define RG_PI 3.14159265358979323846

#ifdef __cplusplus
extern "C" {
#endif

/* ============================== status and errors ============================== */

typedef enum rg_status {
    RG_OK = 0,
    RG_ERR_ARG,     /* bad argument: NULL, size, shape, id out of range, bad config */
    RG_ERR_OOM,     /* an allocation failed */
    RG_ERR_IO,      /* a file could not be opened, read or written */
    RG_ERR_FORMAT,  /* a file's content is malformed */
    RG_ERR_DEVICE,  /* the device (CUDA, cuBLAS) reported an error */
    RG_ERR_NUMERIC  /* NaN/Inf, or a solver that did not converge */
} rg_status;

/* The message of the last failure on this thread ("" if none). */
RGDEF const char *rg_last_error(void);
/* "RG_ERR_ARG" etc. */
RGDEF const char *rg_status_name(rg_status status);
/* Records a printf-style message for rg_last_error() and returns status. For backends and
   programs built on the library; the library itself uses it through RG__FAIL. */
RGDEF rg_status rg_error_set(rg_status status, const char *fmt, ...);
RGDEF void rg_error_clear(void);

/* ============================== context, allocator, memory accounting ============================== */

typedef struct rg_backend rg_backend;

/* A device, its ops table and its memory statistics. Fields are read through the
   functions below; backends fill them in. */
typedef struct rg_ctx {
    const rg_backend *ops;  /* the backend's op table */
    void *backend;          /* backend-private state (CUDA stream, cuBLAS handle, ...) */
    int n_threads;          /* CPU threads used by the ops */
    uint64_t seed;          /* base seed for initialisation and dropout */
    size_t mem_current;     /* bytes held now through rg_alloc */
    size_t mem_peak;        /* the most bytes held at once since creation or reset */
    size_t n_allocs;        /* live allocations (a leak check for tests) */
    rg_status status;       /* first error an op reported since the last rg_ctx_take_status */
} rg_ctx;

/* CPU context. n_threads <= 0 means every available thread (OpenMP), else that many.
   RG_ERR_ARG when the environment's REVGNN_CPU_ISA names a GEMM kernel this CPU lacks. */
RGDEF rg_status rg_ctx_create_cpu(rg_ctx **out, int n_threads, uint64_t seed);
RGDEF void rg_ctx_destroy(rg_ctx *ctx);
RGDEF size_t rg_mem_current(const rg_ctx *ctx);
RGDEF size_t rg_mem_peak(const rg_ctx *ctx);
RGDEF void rg_mem_reset_peak(rg_ctx *ctx);
/* Device memory through the context's backend, counted in the statistics. NULL (with an
   RG_ERR_OOM message) on failure. rg_free needs the size that was allocated. */
RGDEF void *rg_alloc(rg_ctx *ctx, size_t bytes);
RGDEF void rg_free(rg_ctx *ctx, void *ptr, size_t bytes);
/* Returns and clears the first error an op reported (ops return void, like kernel
   launches, and record failures in the context). */
RGDEF rg_status rg_ctx_take_status(rg_ctx *ctx);
RGDEF rg_status rg_ctx_synchronize(rg_ctx *ctx);

/* ============================== tensors ============================== */

/* A row-major 2-D view of device memory. Tensors do not own their memory: rg_tensor_alloc
   makes one that rg_tensor_free releases; views into it (rg_tensor_view) are free. */
typedef struct rg_tensor {
    rg_real *data;  /* (rows, cols), device memory */
    int64_t rows;
    int64_t cols;
} rg_tensor;

RGDEF rg_status rg_tensor_alloc(rg_ctx *ctx, rg_tensor *t, int64_t rows, int64_t cols);
RGDEF rg_status rg_tensor_zeros(rg_ctx *ctx, rg_tensor *t, int64_t rows, int64_t cols);
RGDEF void rg_tensor_free(rg_ctx *ctx, rg_tensor *t);
RGDEF rg_tensor rg_tensor_view(rg_real *data, int64_t rows, int64_t cols);
RGDEF int64_t rg_tensor_numel(rg_tensor t);
/* Copies between host memory and a tensor (rows*cols elements). */
RGDEF rg_status rg_tensor_upload(rg_ctx *ctx, rg_tensor t, const rg_real *host);
RGDEF rg_status rg_tensor_download(rg_ctx *ctx, rg_tensor t, rg_real *host);
RGDEF rg_status rg_tensor_copy(rg_ctx *ctx, rg_tensor dst, rg_tensor src);
RGDEF rg_status rg_tensor_fill(rg_ctx *ctx, rg_tensor t, rg_real value);

/* ============================== counter-based RNG ============================== */

/* Pure functions of (seed, stream, index): no state, identical on every backend and in
   every recomputation, so dropout masks cost no memory. */
RGDEF uint64_t rg_rng_u64(uint64_t seed, uint64_t stream, uint64_t index);
RGDEF double rg_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index); /* [0, 1) */
RGDEF double rg_rng_normal(uint64_t seed, uint64_t stream, uint64_t index);  /* N(0, 1) */
/* Keep decision of dropout with drop probability p: compares 32 hash bits with an integer
   threshold so every backend decides identically. */
RGDEF uint32_t rg_dropout_threshold(double p);
RGDEF int rg_dropout_keep(uint64_t seed, uint64_t stream, uint64_t index, uint32_t threshold);
/* Fills host or device tensors. */
RGDEF rg_status rg_tensor_init_uniform(rg_ctx *ctx, rg_tensor t, double lo, double hi, uint64_t stream);
RGDEF rg_status rg_tensor_init_normal(rg_ctx *ctx, rg_tensor t, double mean, double std, uint64_t stream);

/* ============================== CSR graph ============================== */

/* A directed graph stored by destination: the incoming edges of node i are
   rowptr[i] .. rowptr[i+1]-1, with sources src[e] and features edge_feat[e*edge_dim ..].
   The transpose (by source) is kept as a permutation: the outgoing edges of node j are the
   edge ids t_edge[t_rowptr[j] .. t_rowptr[j+1]-1], so every backward scatter is a gather.
   A graph lives either on the host (rg_graph_from_coo, partition, subgraph) or on a
   context's device (rg_graph_to_device); ctx is NULL for host graphs. */
typedef struct rg_graph {
    rg_ctx *ctx;          /* owning device context, NULL on the host */
    int64_t n_nodes;
    int64_t n_edges;
    int64_t edge_dim;     /* width of edge_feat, 0 if none */
    int64_t *rowptr;      /* (n_nodes+1) incoming-edge offsets */
    int32_t *src;         /* (n_edges) source of each edge, dst-sorted */
    int32_t *dst;         /* (n_edges) destination of each edge */
    int64_t *t_rowptr;    /* (n_nodes+1) outgoing-edge offsets */
    int64_t *t_edge;      /* (n_edges) edge ids grouped by source, ascending within a source */
    rg_real *edge_feat;   /* (n_edges, edge_dim) or NULL */
    rg_real *gcn_dinv;    /* (n_nodes) 1/sqrt(1 + in-degree without self-loops), for GCN */
    rg_real *inv_deg;     /* (n_nodes) 1/in-degree, 0 for isolated nodes, for mean */
} rg_graph;

typedef struct rg_graph_options {
    int add_reverse;      /* also add (dst, src) for every edge (OGB stores undirected edges once) */
    int add_self_loops;   /* add (i, i) for every node that has none; their features are zero */
    int drop_duplicates;  /* keep the first of equal (src, dst) pairs */
} rg_graph_options;

RGDEF rg_graph_options rg_graph_options_default(void);
/* Builds a host graph from n_edges pairs (src[k] -> dst[k]) with optional edge features
   (n_edges, edge_dim). Validates ids and sizes. */
RGDEF rg_status rg_graph_from_coo(rg_graph *out, int64_t n_nodes, int64_t n_edges,
                                  const int32_t *src, const int32_t *dst,
                                  const rg_real *edge_feat, int64_t edge_dim,
                                  const rg_graph_options *options);
/* Checks every invariant of a host graph (offsets, ids, transpose); for tests and loaders. */
RGDEF rg_status rg_graph_validate(const rg_graph *g);
RGDEF rg_status rg_graph_to_device(rg_ctx *ctx, const rg_graph *host, rg_graph *out);
/* Frees a graph; ctx must be the graph's own (NULL for host graphs). */
RGDEF void rg_graph_free(rg_ctx *ctx, rg_graph *g);
/* Assigns each of n_nodes nodes to one of n_parts parts of equal size (+-1), uniformly at
   random by seed: part_of[i] in [0, n_parts). */
RGDEF rg_status rg_graph_partition(int64_t n_nodes, int64_t n_parts, uint64_t seed, int32_t *part_of);
/* The subgraph induced by nodes[0..n-1] (distinct ids of g): node k of out is nodes[k];
   edges between kept nodes are kept with their features. */
RGDEF rg_status rg_graph_subgraph(const rg_graph *g, const int32_t *nodes, int64_t n, rg_graph *out);

/* ============================== backend ops table ============================== */

typedef enum rg_copy_kind { RG_HOST_TO_DEVICE, RG_DEVICE_TO_HOST, RG_DEVICE_TO_DEVICE } rg_copy_kind;

/* Aggregators of the graph kernels. */
typedef enum rg_aggr {
    RG_AGGR_SUM = 0,
    RG_AGGR_MEAN,
    RG_AGGR_MAX,
    RG_AGGR_SOFTMAX,  /* softmax over neighbours with learnable temperature t (DeeperGCN) */
    RG_AGGR_POWER,    /* power mean with learnable p (DeeperGCN) */
    RG_AGGR_GCN       /* symmetric GCN weights with an implicit self-loop */
} rg_aggr;

/* The device's operations. Every model code path calls only these, so one path runs on the
   CPU and on CUDA. Pointers are device memory. Ops return nothing (like kernel launches)
   and record failures in ctx->status. Parameter-gradient outputs ACCUMULATE (+=); every
   other output is WRITTEN (=). Results must not depend on the thread count. */
struct rg_backend {
    const char *name;
    /* memory */
    void *(*alloc)(rg_ctx *ctx, size_t bytes);
    void (*free)(rg_ctx *ctx, void *ptr, size_t bytes);
    void (*copy)(rg_ctx *ctx, void *dst, const void *src, size_t bytes, rg_copy_kind kind);
    void (*synchronize)(rg_ctx *ctx);
    void (*destroy)(rg_ctx *ctx);
    /* dense: C = alpha * op(A) op(B) + beta * C, row-major, op = transpose when t* != 0;
       op(A) is (M, K), op(B) is (K, N). beta == 0 never reads C. */
    void (*gemm)(rg_ctx *ctx, int ta, int tb, int64_t M, int64_t N, int64_t K, rg_real alpha,
                 const rg_real *A, int64_t lda, const rg_real *B, int64_t ldb, rg_real beta,
                 rg_real *C, int64_t ldc);
    /* element-wise */
    void (*fill)(rg_ctx *ctx, rg_real *x, int64_t n, rg_real value);
    void (*axpby)(rg_ctx *ctx, int64_t n, rg_real a, const rg_real *x, rg_real b, rg_real *y); /* y = a x + b y (b == 0 never reads y) */
    void (*add_bias)(rg_ctx *ctx, rg_real *y, const rg_real *bias, int64_t rows, int64_t cols); /* y[r,:] += bias */
    void (*col_sum)(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t rows, int64_t cols); /* out += sum over rows */
    void (*relu_forward)(rg_ctx *ctx, rg_real *y, const rg_real *x, int64_t n);
    void (*relu_backward)(rg_ctx *ctx, rg_real *dx, const rg_real *dy, const rg_real *x, int64_t n); /* dx = dy * (x > 0); dx may alias dy */
    /* y = x * keep / (1 - p); keep from rg_dropout_keep(seed, stream, row * cols + col) */
    void (*dropout)(rg_ctx *ctx, rg_real *y, const rg_real *x, int64_t rows, int64_t cols,
                    double p, uint64_t seed, uint64_t stream);
    /* layer norm over each row: y = (x - mean) * rstd * gamma + beta; mean, rstd (rows) written */
    void (*layernorm_forward)(rg_ctx *ctx, rg_real *y, rg_real *mean, rg_real *rstd, const rg_real *x,
                              const rg_real *gamma, const rg_real *beta, int64_t rows, int64_t cols, double eps);
    void (*layernorm_backward)(rg_ctx *ctx, rg_real *dx, rg_real *dgamma, rg_real *dbeta, const rg_real *dy,
                               const rg_real *x, const rg_real *mean, const rg_real *rstd,
                               const rg_real *gamma, int64_t rows, int64_t cols);
    /* sum of squares of x, returned to the host (global-norm clipping, tests) */
    double (*sum_squares)(rg_ctx *ctx, const rg_real *x, int64_t n);
};

/* ============================== layers ============================== */

/* How a forward pass runs. RECOMPUTE is a training forward repeated for backward (the
   reversible block, checkpointing): it must give the same result and must not update
   running statistics. */
typedef enum rg_mode { RG_MODE_TRAIN = 0, RG_MODE_EVAL, RG_MODE_RECOMPUTE } rg_mode;

/* Parameter binding. Every layer lays its parameters out with one function that hands out
   consecutive views of a flat buffer, so the same function sizes the parameters (base
   NULL: views get data NULL), binds them, and binds their gradients and Adam moments.
   Buffers (BatchNorm running statistics) come from a second, non-trainable buffer. When
   names is set, each view is recorded as prefix + name (for checkpoints). */
typedef struct rg_param_name {
    char name[96];
    int64_t offset;   /* into the parameter or buffer block */
    int64_t rows, cols;
    int is_buffer;
} rg_param_name;

typedef struct rg_binder {
    rg_real *params;      /* parameter block, or NULL for a sizing pass */
    int64_t n_params;     /* reals handed out so far */
    rg_real *buffers;     /* buffer block, or NULL */
    int64_t n_buffers;
    rg_param_name *names; /* optional record of every view, capacity cap_names */
    int64_t n_names, cap_names;
    char prefix[64];      /* prepended to recorded names, e.g. "blocks.3." */
} rg_binder;

RGDEF rg_binder rg_binder_make(rg_real *params, rg_real *buffers);
RGDEF rg_tensor rg_bind_param(rg_binder *b, int64_t rows, int64_t cols, const char *name);
RGDEF rg_tensor rg_bind_buffer(rg_binder *b, int64_t rows, int64_t cols, const char *name);

/* Linear: y (N, out) = x (N, in) W (in, out) + b (out). */
typedef struct rg_linear {
    rg_tensor W;  /* (in, out) */
    rg_tensor b;  /* (1, out), data NULL for no bias */
} rg_linear;

RGDEF void rg_linear_bind(rg_linear *p, rg_binder *b, int64_t in, int64_t out, int bias, const char *name);
/* PyTorch's default: W and b uniform in +-1/sqrt(in); uses streams stream, stream + 1 */
RGDEF rg_status rg_linear_init(rg_ctx *ctx, const rg_linear *p, uint64_t stream);
/* y = x W + b */
RGDEF rg_status rg_linear_forward(rg_ctx *ctx, rg_tensor y, rg_tensor x, const rg_linear *p);
/* dx = dy W^T (skipped when dx.data is NULL); grad->W += x^T dy; grad->b += sum_rows dy */
RGDEF rg_status rg_linear_backward(rg_ctx *ctx, rg_tensor dx, const rg_linear *grad, rg_tensor dy,
                                   rg_tensor x, const rg_linear *p);

/* ReLU: y = max(x, 0); backward dx = dy * (x > 0). In place is allowed (y == x, dx == dy). */
RGDEF rg_status rg_relu_forward(rg_ctx *ctx, rg_tensor y, rg_tensor x);
RGDEF rg_status rg_relu_backward(rg_ctx *ctx, rg_tensor dx, rg_tensor dy, rg_tensor x);

/* Shared dropout: the mask is a pure function of (seed, stream, row, col), so every layer
   that passes the same (seed, stream) drops the same entries and backward needs no mask.
   y = x * keep / (1 - p); backward is the same map applied to dy. p in [0, 1). */
RGDEF rg_status rg_dropout_forward(rg_ctx *ctx, rg_tensor y, rg_tensor x, double p, uint64_t seed, uint64_t stream);
RGDEF rg_status rg_dropout_backward(rg_ctx *ctx, rg_tensor dx, rg_tensor dy, double p, uint64_t seed, uint64_t stream);

/* LayerNorm over channels: y = (x - mean) / sqrt(var + eps) * gamma + beta. */
typedef struct rg_layernorm {
    rg_tensor gamma;  /* (1, D) */
    rg_tensor beta;   /* (1, D) */
} rg_layernorm;
typedef struct rg_layernorm_cache {
    rg_tensor mean;   /* (N, 1) */
    rg_tensor rstd;   /* (N, 1) */
} rg_layernorm_cache;
#define RG_NORM_EPS 1e-5

/* y = LN(x); cache written */
RGDEF rg_status rg_layernorm_forward(rg_ctx *ctx, rg_tensor y, const rg_layernorm_cache *cache, rg_tensor x,
                                     const rg_layernorm *p);
/* dx = dL/dx; grad->gamma, grad->beta += */
RGDEF rg_status rg_layernorm_backward(rg_ctx *ctx, rg_tensor dx, const rg_layernorm *grad, rg_tensor dy, rg_tensor x,
                                      const rg_layernorm_cache *cache, const rg_layernorm *p);

/* A normalisation chosen at run time: layer norm, batch norm or none (identity).
   BatchNorm uses batch statistics in TRAIN and RECOMPUTE (RECOMPUTE leaves the running
   statistics alone) and running statistics in EVAL; momentum 0.1 and the unbiased batch
   variance for the running estimate, as PyTorch. */
typedef enum rg_norm_kind { RG_NORM_NONE = 0, RG_NORM_LAYER, RG_NORM_BATCH } rg_norm_kind;
typedef struct rg_norm {
    rg_norm_kind kind;
    rg_tensor gamma, beta;                /* (1, D) parameters (LAYER, BATCH) */
    rg_tensor running_mean, running_var;  /* (1, D) buffers (BATCH) */
} rg_norm;
typedef struct rg_norm_cache {
    rg_tensor mean, rstd;  /* LAYER: (N, 1) per row; BATCH: (1, D) per column; NONE: empty */
} rg_norm_cache;
#define RG_BN_MOMENTUM 0.1

RGDEF void rg_norm_bind(rg_norm *p, rg_binder *b, rg_norm_kind kind, int64_t dim, const char *name);
RGDEF rg_status rg_norm_init(rg_ctx *ctx, const rg_norm *p); /* gamma 1, beta 0, running 0 / 1 */
RGDEF rg_status rg_norm_cache_alloc(rg_ctx *ctx, rg_norm_cache *cache, rg_norm_kind kind, int64_t n, int64_t dim);
RGDEF void rg_norm_cache_free(rg_ctx *ctx, rg_norm_cache *cache);
/* y = norm(x) (y may equal x for NONE only); cache written; BATCH in TRAIN updates the running statistics */
RGDEF rg_status rg_norm_forward(rg_ctx *ctx, rg_tensor y, rg_norm_cache *cache, rg_tensor x, const rg_norm *p,
                                rg_mode mode);
/* dx = ; grad->gamma, grad->beta += */
RGDEF rg_status rg_norm_backward(rg_ctx *ctx, rg_tensor dx, const rg_norm *grad, rg_tensor dy, rg_tensor x,
                                 const rg_norm_cache *cache, const rg_norm *p, rg_mode mode);

/* ---- graph convolutions ----
   Each conv maps x (N, in) on a device graph to y (N, out). Common conventions:
   - rg_<conv>_bind lays out the parameters (see rg_binder), rg_<conv>_init fills them
     (consuming streams stream .. stream + 15);
   - a cache, allocated once for a graph size, holds what backward needs and the scratch
     space of both passes: no allocation inside forward or backward;
   - backward runs after a forward with the same inputs and cache; it WRITES dx (skipped when
     dx.data is NULL) and ACCUMULATES parameter gradients and, for GEN, the gradient of the
     edge input (one edge embedding is shared by every layer of a model). */

/* GENConv (DeeperGCN): m_ij = ReLU(x_j + e_ij) + eps, h_i = aggr_j m_ij,
   [MsgNorm: h_i = s * ||x_i|| * h_i / ||h_i||], y = MLP(h + x) with
   MLP = Linear(D, 2D) -> norm -> ReLU -> Linear(2D, D). Aggregators: SUM, MEAN, MAX,
   SOFTMAX (per channel, softmax_j(t m_ij) weights, learnable t), POWER
   ((mean_j m_ij^p)^(1/p), learnable p). Nodes with no incoming edge aggregate to 0. */
typedef struct rg_gen_config {
    int64_t dim;           /* channels in and out */
    int64_t edge_dim;      /* width of the edge input: 0 = none; dim, or anything with encode_edges */
    int encode_edges;      /* own edge encoder Linear(edge_dim, dim) */
    rg_aggr aggr;
    double t;              /* softmax temperature (initial value when learned) */
    int learn_t;
    double p;              /* power (initial value when learned) */
    int learn_p;
    int msg_norm;          /* MsgNorm */
    int learn_msg_scale;   /* learnable MsgNorm scale s (else s = 1) */
    rg_norm_kind mlp_norm; /* the norm inside the MLP */
    double eps;            /* message epsilon */
} rg_gen_config;
typedef struct rg_gen {
    rg_linear edge_enc;    /* (edge_dim, dim) + bias, when encode_edges */
    rg_tensor t, p, scale; /* (1, 1) each, data NULL unless learned */
    rg_linear lin1;        /* (dim, 2 dim) */
    rg_norm norm;          /* over 2 dim */
    rg_linear lin2;        /* (2 dim, dim) */
} rg_gen;
typedef struct rg_gen_cache {
    rg_tensor e;           /* (E, dim) encoded edges (encode_edges) */
    rg_tensor h;           /* (N, dim) aggregated messages (+ x): the MLP input */
    rg_tensor agg;         /* (N, dim) raw aggregation (SOFTMAX, POWER, MsgNorm need it) */
    rg_tensor aux;         /* (N, dim) SOFTMAX: log-sum-exp per channel */
    int32_t *argmax;       /* (N * dim) MAX: winning edge id, -1 for none */
    rg_tensor z1, a1;      /* (N, 2 dim) Linear 1 output, after norm + ReLU */
    rg_norm_cache norm;
    rg_tensor scratch;     /* (N, 2 dim) backward scratch */
    rg_tensor escratch;    /* (E, dim) edge-gradient scratch (encode_edges) */
    rg_tensor stats;       /* small per-node scratch for MsgNorm and the scalar gradients */
    int64_t n_nodes, n_edges;
} rg_gen_cache;
RGDEF rg_gen_config rg_gen_config_default(int64_t dim); /* softmax, t = 1 learned, no MsgNorm, layer norm, eps 1e-7 */
RGDEF void rg_gen_bind(rg_gen *p, rg_binder *b, const rg_gen_config *cfg, const char *name);
RGDEF rg_status rg_gen_init(rg_ctx *ctx, const rg_gen *p, const rg_gen_config *cfg, uint64_t stream);
RGDEF rg_status rg_gen_cache_alloc(rg_ctx *ctx, rg_gen_cache *cache, const rg_gen_config *cfg, int64_t n_nodes,
                                   int64_t n_edges);
RGDEF void rg_gen_cache_free(rg_ctx *ctx, rg_gen_cache *cache);
/* y (N, dim) = GEN(x (N, dim), edge (E, edge_dim) or data NULL); cache written */
RGDEF rg_status rg_gen_forward(rg_ctx *ctx, rg_tensor y, rg_gen_cache *cache, rg_tensor x, const rg_graph *g,
                               rg_tensor edge, const rg_gen *p, const rg_gen_config *cfg, rg_mode mode);
/* dx = ; dedge += (when dedge.data); grad += */
RGDEF rg_status rg_gen_backward(rg_ctx *ctx, rg_tensor dx, rg_tensor dedge, const rg_gen *grad, rg_tensor dy,
                                rg_tensor x, const rg_graph *g, rg_tensor edge, rg_gen_cache *cache,
                                const rg_gen *p, const rg_gen_config *cfg, rg_mode mode);

/* GCNConv: y = D^-1/2 (A + I) D^-1/2 x W + b, with the self-loop implicit (explicit
   self-loops in the graph are skipped, so none is counted twice). */
typedef struct rg_gcn { rg_linear lin; /* (in, out) + bias */ } rg_gcn;
typedef struct rg_gcn_cache {
    rg_tensor xw;          /* (N, out) x W, then scratch for the gradient */
    int64_t n_nodes;
} rg_gcn_cache;
RGDEF void rg_gcn_bind(rg_gcn *p, rg_binder *b, int64_t in, int64_t out, const char *name);
RGDEF rg_status rg_gcn_init(rg_ctx *ctx, const rg_gcn *p, uint64_t stream);
RGDEF rg_status rg_gcn_cache_alloc(rg_ctx *ctx, rg_gcn_cache *cache, int64_t out, int64_t n_nodes);
RGDEF void rg_gcn_cache_free(rg_ctx *ctx, rg_gcn_cache *cache);
RGDEF rg_status rg_gcn_forward(rg_ctx *ctx, rg_tensor y, rg_gcn_cache *cache, rg_tensor x, const rg_graph *g,
                               const rg_gcn *p);
RGDEF rg_status rg_gcn_backward(rg_ctx *ctx, rg_tensor dx, const rg_gcn *grad, rg_tensor dy, rg_tensor x,
                                const rg_graph *g, rg_gcn_cache *cache, const rg_gcn *p);

/* SAGEConv: y = mean_j x_j W_l + b + x W_r (mean over incoming edges, 0 for none). */
typedef struct rg_sage {
    rg_linear lin_l;       /* (in, out) + bias: the neighbour mean */
    rg_linear lin_r;       /* (in, out), no bias: the root */
} rg_sage;
typedef struct rg_sage_cache {
    rg_tensor mean;        /* (N, in) neighbour mean; reused as its gradient */
    int64_t n_nodes;
} rg_sage_cache;
RGDEF void rg_sage_bind(rg_sage *p, rg_binder *b, int64_t in, int64_t out, const char *name);
RGDEF rg_status rg_sage_init(rg_ctx *ctx, const rg_sage *p, uint64_t stream);
RGDEF rg_status rg_sage_cache_alloc(rg_ctx *ctx, rg_sage_cache *cache, int64_t in, int64_t n_nodes);
RGDEF void rg_sage_cache_free(rg_ctx *ctx, rg_sage_cache *cache);
RGDEF rg_status rg_sage_forward(rg_ctx *ctx, rg_tensor y, rg_sage_cache *cache, rg_tensor x, const rg_graph *g,
                                const rg_sage *p);
RGDEF rg_status rg_sage_backward(rg_ctx *ctx, rg_tensor dx, const rg_sage *grad, rg_tensor dy, rg_tensor x,
                                 const rg_graph *g, rg_sage_cache *cache, const rg_sage *p);

/* GATConv: h = x W split into H heads of F channels; score e_ij = LeakyReLU(a_src . h_j +
   a_dst . h_i, 0.2) over the incoming edges of i plus an implicit self-loop (explicit ones
   skipped, like PyG's add_self_loops); alpha = softmax_j e_ij per head; y_i = sum_j alpha_ij h_j,
   heads concatenated (out = H F) or averaged (out = F), + bias. */
typedef struct rg_gat_config {
    int64_t in, heads, head_dim;
    int concat;            /* 1: concatenate heads, 0: average them */
} rg_gat_config;
typedef struct rg_gat {
    rg_tensor W;           /* (in, H F) */
    rg_tensor att_src;     /* (H, F) */
    rg_tensor att_dst;     /* (H, F) */
    rg_tensor bias;        /* (1, out) */
} rg_gat;
typedef struct rg_gat_cache {
    rg_tensor h;           /* (N, H F) */
    rg_tensor s_src, s_dst;/* (N, H) attention halves */
    rg_tensor lse;         /* (N, H) log-sum-exp of the scores */
    rg_tensor agg;         /* (N, H F) per-head outputs before the mean */
    rg_tensor dh;          /* (N, H F) backward scratch */
    rg_tensor ds_src, ds_dst, dd; /* (N, H) backward scratch */
    int64_t n_nodes;
} rg_gat_cache;
RGDEF int64_t rg_gat_out_dim(const rg_gat_config *cfg);
RGDEF void rg_gat_bind(rg_gat *p, rg_binder *b, const rg_gat_config *cfg, const char *name);
RGDEF rg_status rg_gat_init(rg_ctx *ctx, const rg_gat *p, const rg_gat_config *cfg, uint64_t stream);
RGDEF rg_status rg_gat_cache_alloc(rg_ctx *ctx, rg_gat_cache *cache, const rg_gat_config *cfg, int64_t n_nodes);
RGDEF void rg_gat_cache_free(rg_ctx *ctx, rg_gat_cache *cache);
RGDEF rg_status rg_gat_forward(rg_ctx *ctx, rg_tensor y, rg_gat_cache *cache, rg_tensor x, const rg_graph *g,
                               const rg_gat *p, const rg_gat_config *cfg);
RGDEF rg_status rg_gat_backward(rg_ctx *ctx, rg_tensor dx, const rg_gat *grad, rg_tensor dy, rg_tensor x,
                                const rg_graph *g, rg_gat_cache *cache, const rg_gat *p, const rg_gat_config *cfg);

/* ============================== losses and metrics ============================== */

/* Binary cross-entropy with logits, averaged over the entries where mask is 1 (mask.data
   NULL: every entry). Writes the loss and dlogits = dL/dlogits. */
RGDEF rg_status rg_bce_logits(rg_ctx *ctx, double *loss, rg_tensor dlogits, rg_tensor logits, rg_tensor targets,
                              rg_tensor mask);
/* Softmax cross-entropy averaged over rows[0..n_rows-1] (device int32 ids; NULL: every row)
   with labels (device int32, one per row of logits). Writes the loss and dlogits (zero on
   rows not listed). */
RGDEF rg_status rg_softmax_xent(rg_ctx *ctx, double *loss, rg_tensor dlogits, rg_tensor logits,
                                const int32_t *labels, const int32_t *rows, int64_t n_rows);

/* ============================== Adam ============================== */

typedef struct rg_adam {
    double lr, beta1, beta2, eps;
    double weight_decay;   /* L2 added to the gradient (Adam) or decoupled (AdamW) */
    int decoupled;         /* 1: AdamW */
    int64_t step;          /* steps taken; bias correction uses step after increment */
} rg_adam;
RGDEF rg_adam rg_adam_default(double lr); /* betas 0.9, 0.999, eps 1e-8, no decay */
/* One step over flat blocks of equal size: params, grads, first and second moments. */
RGDEF rg_status rg_adam_step(rg_ctx *ctx, rg_adam *opt, rg_tensor params, rg_tensor grads, rg_tensor m, rg_tensor v);
/* Scales grads so their global L2 norm is at most max_norm; *norm gets the norm before. */
RGDEF rg_status rg_clip_grad_norm(rg_ctx *ctx, rg_tensor grads, double max_norm, double *norm);

#ifdef __cplusplus
}
#endif
#endif /* REVGNN_H */

/* ################################ implementation ################################ */

#if defined(REVGNN_IMPLEMENTATION) && !defined(REVGNN_IMPLEMENTATION_DONE)
#define REVGNN_IMPLEMENTATION_DONE

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <limits.h>

#if defined(REVGNN_MALLOC) && defined(REVGNN_FREE)
#elif !defined(REVGNN_MALLOC) && !defined(REVGNN_FREE)
#define REVGNN_MALLOC(ctx, size) ((void)(ctx), malloc(size))
#define REVGNN_FREE(ctx, ptr) ((void)(ctx), free(ptr))
#else
#error "revgnn: define both REVGNN_MALLOC and REVGNN_FREE, or neither"
#endif

#ifndef REVGNN_ASSERT
#include <assert.h>
#define REVGNN_ASSERT(x) assert(x)
#endif

#if defined(_OPENMP) && !defined(REVGNN_NO_OPENMP)
#include <omp.h>
#define RG__OMP 1
#define RG__PRAGMA(x) _Pragma(#x)
/* static schedule: equal work per index; dynamic: graph rows of skewed degree; units: a
   few large work units handed out one at a time, so a thread that another process slows
   down leaves its share to the others (RG__THREAD_ID picks its private buffers) */
#define RG__PARALLEL_FOR(nt) RG__PRAGMA(omp parallel for num_threads(nt) schedule(static))
#define RG__PARALLEL_FOR_DYNAMIC(nt) RG__PRAGMA(omp parallel for num_threads(nt) schedule(dynamic, 64))
#define RG__PARALLEL_FOR_UNITS(nt) RG__PRAGMA(omp parallel for num_threads(nt) schedule(dynamic, 1))
#define RG__THREAD_ID() omp_get_thread_num()
#else
#define RG__OMP 0
/* still evaluates nt, so ctx counts as used in single-threaded builds */
#define RG__PARALLEL_FOR(nt) (void)(nt);
#define RG__PARALLEL_FOR_DYNAMIC(nt) (void)(nt);
#define RG__PARALLEL_FOR_UNITS(nt) (void)(nt);
#define RG__THREAD_ID() 0
#endif

#if defined(__cplusplus) && __cplusplus >= 201103L
#define RG__THREAD_LOCAL thread_local
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define RG__THREAD_LOCAL _Thread_local
#elif defined(__GNUC__)
#define RG__THREAD_LOCAL __thread
#elif defined(_MSC_VER)
#define RG__THREAD_LOCAL __declspec(thread)
#else
#define RG__THREAD_LOCAL
#endif

#if defined(__GNUC__) || defined(__clang__)
#define RG_RESTRICT __restrict__
#else
#define RG_RESTRICT
#endif

/* Vectorisation hints that expand to nothing where they are not understood. RG__SIMD asks
   for the next loop to be vectorised (OpenMP's simd; plain -O2 vectorises the same loops
   when the trip count is a constant); RG__FORCE_INLINE lets one kernel body be compiled
   with constant tile sizes inside each ISA-specific wrapper. */
#if RG__OMP
#define RG__SIMD RG__PRAGMA(omp simd)
#else
#define RG__SIMD
#endif
#if defined(__GNUC__) || defined(__clang__)
#define RG__FORCE_INLINE __attribute__((always_inline)) inline
#elif defined(_MSC_VER)
#define RG__FORCE_INLINE __forceinline
#else
#define RG__FORCE_INLINE inline
#endif

/* x86 with GCC or clang: GEMM micro-kernels for AVX2 and AVX-512 are compiled beside the
   portable one (target attributes) and picked at run time from the CPU's features. */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__)) && \
    !defined(__CUDACC__) && !defined(REVGNN_CBLAS)
#define RG__GEMM_X86 1
#else
#define RG__GEMM_X86 0
#endif

#ifdef REVGNN_CBLAS
#include <cblas.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ============================== status and errors ============================== */

static RG__THREAD_LOCAL char rg__error_message[512];

RGDEF const char *rg_last_error(void) { return rg__error_message; }

RGDEF const char *rg_status_name(rg_status status) {
    switch (status) {
    case RG_OK: return "RG_OK";
    case RG_ERR_ARG: return "RG_ERR_ARG";
    case RG_ERR_OOM: return "RG_ERR_OOM";
    case RG_ERR_IO: return "RG_ERR_IO";
    case RG_ERR_FORMAT: return "RG_ERR_FORMAT";
    case RG_ERR_DEVICE: return "RG_ERR_DEVICE";
    case RG_ERR_NUMERIC: return "RG_ERR_NUMERIC";
    }
    return "RG_ERR_UNKNOWN";
}

static rg_status rg__verror(rg_status status, const char *file, int line, const char *fmt, va_list ap) {
    int n = vsnprintf(rg__error_message, sizeof rg__error_message, fmt, ap);
    if (file && n >= 0 && (size_t)n < sizeof rg__error_message)
        snprintf(rg__error_message + n, sizeof rg__error_message - (size_t)n, " [%s:%d]", file, line);
    return status;
}

RGDEF rg_status rg_error_set(rg_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rg__verror(status, NULL, 0, fmt, ap);
    va_end(ap);
    return status;
}

RGDEF void rg_error_clear(void) { rg__error_message[0] = '\0'; }

static rg_status rg__fail_at(const char *file, int line, rg_status status, const char *fmt, ...) {
    const char *base = strrchr(file, '/');
    va_list ap;
    va_start(ap, fmt);
    rg__verror(status, base ? base + 1 : file, line, fmt, ap);
    va_end(ap);
    return status;
}

/* return RG__FAIL(RG_ERR_ARG, "fmt", ...): records the message with where it was raised */
#define RG__FAIL(status, ...) rg__fail_at(__FILE__, __LINE__, (status), __VA_ARGS__)
#define RG__TRY(expr) do { rg_status rg__st = (expr); if (rg__st != RG_OK) return rg__st; } while (0)
#define RG__CHECK_ARG(cond, ...) do { if (!(cond)) return RG__FAIL(RG_ERR_ARG, __VA_ARGS__); } while (0)

/* ============================== context, allocator, memory accounting ============================== */

RGDEF size_t rg_mem_current(const rg_ctx *ctx) { return ctx->mem_current; }
RGDEF size_t rg_mem_peak(const rg_ctx *ctx) { return ctx->mem_peak; }
RGDEF void rg_mem_reset_peak(rg_ctx *ctx) { ctx->mem_peak = ctx->mem_current; }

RGDEF void *rg_alloc(rg_ctx *ctx, size_t bytes) {
    void *p;
    if (bytes == 0) bytes = 1; /* a real, freeable pointer for empty tensors */
    p = ctx->ops->alloc(ctx, bytes);
    if (!p) {
        rg__fail_at(__FILE__, __LINE__, RG_ERR_OOM, "out of %s memory allocating %zu bytes (%zu held)",
                    ctx->ops->name, bytes, ctx->mem_current);
        return NULL;
    }
    ctx->mem_current += bytes;
    ctx->n_allocs++;
    if (ctx->mem_current > ctx->mem_peak) ctx->mem_peak = ctx->mem_current;
    return p;
}

RGDEF void rg_free(rg_ctx *ctx, void *ptr, size_t bytes) {
    if (!ptr) return;
    if (bytes == 0) bytes = 1;
    REVGNN_ASSERT(ctx->mem_current >= bytes && ctx->n_allocs > 0);
    ctx->ops->free(ctx, ptr, bytes);
    ctx->mem_current -= bytes;
    ctx->n_allocs--;
}

RGDEF rg_status rg_ctx_take_status(rg_ctx *ctx) {
    rg_status s = ctx->status;
    ctx->status = RG_OK;
    return s;
}

RGDEF rg_status rg_ctx_synchronize(rg_ctx *ctx) {
    ctx->ops->synchronize(ctx);
    return rg_ctx_take_status(ctx);
}

RGDEF void rg_ctx_destroy(rg_ctx *ctx) {
    if (!ctx) return;
    if (ctx->ops && ctx->ops->destroy) ctx->ops->destroy(ctx);
    REVGNN_FREE(ctx, ctx);
}

/* ============================== tensors ============================== */

static size_t rg__tensor_bytes(int64_t rows, int64_t cols) { return (size_t)rows * (size_t)cols * sizeof(rg_real); }

RGDEF rg_tensor rg_tensor_view(rg_real *data, int64_t rows, int64_t cols) {
    rg_tensor t;
    t.data = data;
    t.rows = rows;
    t.cols = cols;
    return t;
}

RGDEF int64_t rg_tensor_numel(rg_tensor t) { return t.rows * t.cols; }

RGDEF rg_status rg_tensor_alloc(rg_ctx *ctx, rg_tensor *t, int64_t rows, int64_t cols) {
    RG__CHECK_ARG(ctx && t, "rg_tensor_alloc: NULL %s", ctx ? "tensor" : "context");
    t->data = NULL;
    t->rows = t->cols = 0;
    RG__CHECK_ARG(rows >= 0 && cols >= 0, "rg_tensor_alloc: negative shape (%lld, %lld)",
                  (long long)rows, (long long)cols);
    t->data = (rg_real *)rg_alloc(ctx, rg__tensor_bytes(rows, cols));
    if (!t->data) return RG_ERR_OOM;
    t->rows = rows;
    t->cols = cols;
    return RG_OK;
}

RGDEF rg_status rg_tensor_zeros(rg_ctx *ctx, rg_tensor *t, int64_t rows, int64_t cols) {
    RG__TRY(rg_tensor_alloc(ctx, t, rows, cols));
    return rg_tensor_fill(ctx, *t, (rg_real)0);
}

RGDEF void rg_tensor_free(rg_ctx *ctx, rg_tensor *t) {
    if (!t || !t->data) return;
    rg_free(ctx, t->data, rg__tensor_bytes(t->rows, t->cols));
    t->data = NULL;
    t->rows = t->cols = 0;
}

RGDEF rg_status rg_tensor_upload(rg_ctx *ctx, rg_tensor t, const rg_real *host) {
    ctx->ops->copy(ctx, t.data, host, rg__tensor_bytes(t.rows, t.cols), RG_HOST_TO_DEVICE);
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_tensor_download(rg_ctx *ctx, rg_tensor t, rg_real *host) {
    ctx->ops->copy(ctx, host, t.data, rg__tensor_bytes(t.rows, t.cols), RG_DEVICE_TO_HOST);
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_tensor_copy(rg_ctx *ctx, rg_tensor dst, rg_tensor src) {
    RG__CHECK_ARG(dst.rows * dst.cols == src.rows * src.cols, "rg_tensor_copy: %lldx%lld into %lldx%lld",
                  (long long)src.rows, (long long)src.cols, (long long)dst.rows, (long long)dst.cols);
    ctx->ops->copy(ctx, dst.data, src.data, rg__tensor_bytes(src.rows, src.cols), RG_DEVICE_TO_DEVICE);
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_tensor_fill(rg_ctx *ctx, rg_tensor t, rg_real value) {
    ctx->ops->fill(ctx, t.data, t.rows * t.cols, value);
    return rg_ctx_take_status(ctx);
}

/* ============================== counter-based RNG ============================== */

/* splitmix64's finaliser: a bijection with full avalanche */
static uint64_t rg__mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

RGDEF uint64_t rg_rng_u64(uint64_t seed, uint64_t stream, uint64_t index) {
    uint64_t key = rg__mix64(seed ^ rg__mix64(stream + 0x632be59bd9b4e019ULL));
    return rg__mix64(key + index * 0x9e3779b97f4a7c15ULL);
}

RGDEF double rg_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index) {
    return (double)(rg_rng_u64(seed, stream, index) >> 11) * (1.0 / 9007199254740992.0);
}

RGDEF double rg_rng_normal(uint64_t seed, uint64_t stream, uint64_t index) {
    /* Box-Muller on two independent counters; 1 - u keeps the log finite */
    double u1 = 1.0 - rg_rng_uniform(seed, stream, 2 * index);
    double u2 = rg_rng_uniform(seed, stream, 2 * index + 1);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * RG_PI * u2);
}

RGDEF uint32_t rg_dropout_threshold(double p) {
    double t = p * 4294967296.0;
    if (t <= 0) return 0;
    if (t >= 4294967295.0) return 0xffffffffu;
    return (uint32_t)t;
}

RGDEF int rg_dropout_keep(uint64_t seed, uint64_t stream, uint64_t index, uint32_t threshold) {
    return (uint32_t)(rg_rng_u64(seed, stream, index) >> 32) >= threshold;
}

/* Initialisation draws on the host and uploads: it runs once, and the same seed gives the
   same parameters on every backend. */
static rg_status rg__tensor_init(rg_ctx *ctx, rg_tensor t, double a, double b, uint64_t stream, int normal) {
    int64_t i, n = t.rows * t.cols;
    rg_status st;
    rg_real *h = (rg_real *)REVGNN_MALLOC(ctx, rg__tensor_bytes(t.rows, t.cols) + 1);
    if (!h) return RG__FAIL(RG_ERR_OOM, "rg_tensor_init: out of host memory for %lld values", (long long)n);
    for (i = 0; i < n; i++)
        h[i] = (rg_real)(normal ? a + b * rg_rng_normal(ctx->seed, stream, (uint64_t)i)
                                : a + (b - a) * rg_rng_uniform(ctx->seed, stream, (uint64_t)i));
    st = rg_tensor_upload(ctx, t, h);
    REVGNN_FREE(ctx, h);
    return st;
}

RGDEF rg_status rg_tensor_init_uniform(rg_ctx *ctx, rg_tensor t, double lo, double hi, uint64_t stream) {
    return rg__tensor_init(ctx, t, lo, hi, stream, 0);
}

RGDEF rg_status rg_tensor_init_normal(rg_ctx *ctx, rg_tensor t, double mean, double std, uint64_t stream) {
    return rg__tensor_init(ctx, t, mean, std, stream, 1);
}

/* ============================== CSR graph ============================== */

RGDEF rg_graph_options rg_graph_options_default(void) {
    rg_graph_options o;
    o.add_reverse = 0;
    o.add_self_loops = 0;
    o.drop_duplicates = 0;
    return o;
}

static void rg__graph_zero(rg_graph *g) { memset(g, 0, sizeof *g); }

RGDEF void rg_graph_free(rg_ctx *ctx, rg_graph *g) {
    size_t n1, e;
    if (!g) return;
    n1 = (size_t)(g->n_nodes + 1);
    e = (size_t)g->n_edges;
    if (g->ctx) {
        REVGNN_ASSERT(ctx == g->ctx);
        rg_free(ctx, g->rowptr, n1 * sizeof(int64_t));
        rg_free(ctx, g->src, e * sizeof(int32_t));
        rg_free(ctx, g->dst, e * sizeof(int32_t));
        rg_free(ctx, g->t_rowptr, n1 * sizeof(int64_t));
        rg_free(ctx, g->t_edge, e * sizeof(int64_t));
        rg_free(ctx, g->edge_feat, e * (size_t)g->edge_dim * sizeof(rg_real));
        rg_free(ctx, g->gcn_dinv, (n1 - 1) * sizeof(rg_real));
        rg_free(ctx, g->inv_deg, (n1 - 1) * sizeof(rg_real));
    } else {
        REVGNN_FREE(ctx, g->rowptr);
        REVGNN_FREE(ctx, g->src);
        REVGNN_FREE(ctx, g->dst);
        REVGNN_FREE(ctx, g->t_rowptr);
        REVGNN_FREE(ctx, g->t_edge);
        REVGNN_FREE(ctx, g->edge_feat);
        REVGNN_FREE(ctx, g->gcn_dinv);
        REVGNN_FREE(ctx, g->inv_deg);
    }
    rg__graph_zero(g);
}

/* Allocates every array of a host graph of the given size; on failure frees what it got. */
static rg_status rg__graph_alloc_host(rg_graph *g, int64_t n_nodes, int64_t n_edges, int64_t edge_dim) {
    size_t n1 = (size_t)n_nodes + 1, e = (size_t)n_edges;
    rg__graph_zero(g);
    g->n_nodes = n_nodes;
    g->n_edges = n_edges;
    g->edge_dim = edge_dim;
    /* +1: malloc(0) may return NULL, which would read as failure */
    g->rowptr = (int64_t *)REVGNN_MALLOC(NULL, n1 * sizeof(int64_t));
    g->t_rowptr = (int64_t *)REVGNN_MALLOC(NULL, n1 * sizeof(int64_t));
    g->src = (int32_t *)REVGNN_MALLOC(NULL, e * sizeof(int32_t) + 1);
    g->dst = (int32_t *)REVGNN_MALLOC(NULL, e * sizeof(int32_t) + 1);
    g->t_edge = (int64_t *)REVGNN_MALLOC(NULL, e * sizeof(int64_t) + 1);
    g->gcn_dinv = (rg_real *)REVGNN_MALLOC(NULL, (n1 - 1) * sizeof(rg_real) + 1);
    g->inv_deg = (rg_real *)REVGNN_MALLOC(NULL, (n1 - 1) * sizeof(rg_real) + 1);
    if (edge_dim > 0) g->edge_feat = (rg_real *)REVGNN_MALLOC(NULL, e * (size_t)edge_dim * sizeof(rg_real) + 1);
    if (!g->rowptr || !g->t_rowptr || !g->src || !g->dst || !g->t_edge || !g->gcn_dinv || !g->inv_deg ||
        (edge_dim > 0 && !g->edge_feat)) {
        rg_graph_free(NULL, g);
        return RG__FAIL(RG_ERR_OOM, "out of host memory for a graph of %lld nodes and %lld edges",
                        (long long)n_nodes, (long long)n_edges);
    }
    return RG_OK;
}

/* Fills t_rowptr/t_edge (counting sort by source, stable so ids ascend within a source) and
   the degree-derived arrays, from rowptr/src/dst. */
static void rg__graph_finish(rg_graph *g) {
    int64_t i, e, n = g->n_nodes;
    memset(g->t_rowptr, 0, (size_t)(n + 1) * sizeof(int64_t));
    for (e = 0; e < g->n_edges; e++) g->t_rowptr[g->src[e] + 1]++;
    for (i = 0; i < n; i++) g->t_rowptr[i + 1] += g->t_rowptr[i];
    {
        /* rowptr of the transpose doubles as the fill cursor, then is restored */
        for (e = 0; e < g->n_edges; e++) g->t_edge[g->t_rowptr[g->src[e]]++] = e;
        for (i = n; i > 0; i--) g->t_rowptr[i] = g->t_rowptr[i - 1];
        g->t_rowptr[0] = 0;
    }
    for (i = 0; i < n; i++) {
        int64_t deg = g->rowptr[i + 1] - g->rowptr[i], no_loops = 0;
        for (e = g->rowptr[i]; e < g->rowptr[i + 1]; e++) no_loops += g->src[e] != (int32_t)i;
        g->inv_deg[i] = deg > 0 ? (rg_real)(1.0 / (double)deg) : (rg_real)0;
        g->gcn_dinv[i] = (rg_real)(1.0 / sqrt(1.0 + (double)no_loops));
    }
}

RGDEF rg_status rg_graph_from_coo(rg_graph *out, int64_t n_nodes, int64_t n_edges,
                                  const int32_t *src, const int32_t *dst,
                                  const rg_real *edge_feat, int64_t edge_dim,
                                  const rg_graph_options *options) {
    rg_graph_options opt = options ? *options : rg_graph_options_default();
    int64_t k, i, m, total, kept, *order = NULL, *cursor = NULL, *scratch = NULL;
    int32_t *has_loop = NULL;
    rg_graph g;
    RG__CHECK_ARG(out != NULL, "rg_graph_from_coo: NULL output graph");
    rg__graph_zero(out);
    RG__CHECK_ARG(n_nodes > 0 && n_nodes <= INT32_MAX, "rg_graph_from_coo: node count %lld is not in [1, %d]",
                  (long long)n_nodes, INT32_MAX);
    RG__CHECK_ARG(n_edges >= 0, "rg_graph_from_coo: negative edge count %lld", (long long)n_edges);
    RG__CHECK_ARG(n_edges == 0 || (src && dst), "rg_graph_from_coo: NULL %s array", src ? "dst" : "src");
    RG__CHECK_ARG(edge_dim >= 0, "rg_graph_from_coo: negative edge feature width %lld", (long long)edge_dim);
    RG__CHECK_ARG(edge_dim == 0 || edge_feat || n_edges == 0, "rg_graph_from_coo: edge width %lld but NULL features",
                  (long long)edge_dim);
    for (k = 0; k < n_edges; k++) {
        if (src[k] < 0 || src[k] >= n_nodes)
            return RG__FAIL(RG_ERR_ARG, "rg_graph_from_coo: edge %lld has source %d, out of range [0, %lld)",
                            (long long)k, (int)src[k], (long long)n_nodes);
        if (dst[k] < 0 || dst[k] >= n_nodes)
            return RG__FAIL(RG_ERR_ARG, "rg_graph_from_coo: edge %lld has destination %d, out of range [0, %lld)",
                            (long long)k, (int)dst[k], (long long)n_nodes);
    }
    /* candidate edge m < 2E is input edge m % E, reversed when m >= E; self-loops come after */
    total = n_edges * (opt.add_reverse ? 2 : 1);
    has_loop = (int32_t *)REVGNN_MALLOC(NULL, (size_t)n_nodes * sizeof(int32_t));
    cursor = (int64_t *)REVGNN_MALLOC(NULL, ((size_t)n_nodes + 1) * sizeof(int64_t));
    scratch = (int64_t *)REVGNN_MALLOC(NULL, (size_t)(total + n_nodes) * sizeof(int64_t) + 1);
    order = (int64_t *)REVGNN_MALLOC(NULL, (size_t)(total + n_nodes) * sizeof(int64_t) + 1);
    if (!has_loop || !cursor || !scratch || !order) {
        REVGNN_FREE(NULL, has_loop); REVGNN_FREE(NULL, cursor); REVGNN_FREE(NULL, scratch); REVGNN_FREE(NULL, order);
        return RG__FAIL(RG_ERR_OOM, "rg_graph_from_coo: out of host memory for %lld edges", (long long)total);
    }
#define RG__CAND_SRC(m) ((m) < n_edges ? src[m] : dst[(m) - n_edges])
#define RG__CAND_DST(m) ((m) < n_edges ? dst[m] : src[(m) - n_edges])
    /* two stable counting sorts, by source (into scratch) then by destination (into order):
       each node's incoming edges end up ordered by source, then input order, so duplicates
       are neighbours */
    memset(has_loop, 0, (size_t)n_nodes * sizeof(int32_t));
    memset(cursor, 0, ((size_t)n_nodes + 1) * sizeof(int64_t));
    for (m = 0; m < total; m++) cursor[RG__CAND_SRC(m) + 1]++;
    for (i = 0; i < n_nodes; i++) cursor[i + 1] += cursor[i];
    for (m = 0; m < total; m++) scratch[cursor[RG__CAND_SRC(m)]++] = m;
    memset(cursor, 0, ((size_t)n_nodes + 1) * sizeof(int64_t));
    for (m = 0; m < total; m++) {
        cursor[RG__CAND_DST(m) + 1]++;
        if (RG__CAND_SRC(m) == RG__CAND_DST(m)) has_loop[RG__CAND_DST(m)] = 1;
    }
    for (i = 0; i < n_nodes; i++) cursor[i + 1] += cursor[i];
    for (k = 0; k < total; k++) order[cursor[RG__CAND_DST(scratch[k])]++] = scratch[k];
    /* cursor[i] is now the end of node i's run in order; copy the runs into scratch, dropping
       repeats and appending a missing self-loop (coded -1 - i); cursor[i] becomes the new end */
    kept = 0;
    {
        int64_t start = 0;
        for (i = 0; i < n_nodes; i++) {
            int64_t r, run_first = kept;
            for (r = start; r < cursor[i]; r++) {
                int64_t mm = order[r];
                if (opt.drop_duplicates && kept > run_first && RG__CAND_SRC(scratch[kept - 1]) == RG__CAND_SRC(mm))
                    continue;
                scratch[kept++] = mm;
            }
            if (opt.add_self_loops && !has_loop[i]) scratch[kept++] = -1 - i;
            start = cursor[i];
            cursor[i] = kept;
        }
    }
    {
        rg_status st = rg__graph_alloc_host(&g, n_nodes, kept, edge_dim);
        if (st != RG_OK) {
            REVGNN_FREE(NULL, has_loop); REVGNN_FREE(NULL, cursor); REVGNN_FREE(NULL, scratch); REVGNN_FREE(NULL, order);
            return st;
        }
    }
    g.rowptr[0] = 0;
    for (i = 0; i < n_nodes; i++) g.rowptr[i + 1] = cursor[i];
    for (i = 0; i < n_nodes; i++) {
        int64_t e;
        for (e = g.rowptr[i]; e < g.rowptr[i + 1]; e++) {
            int64_t mm = scratch[e];
            g.dst[e] = (int32_t)i;
            if (mm < 0) {
                g.src[e] = (int32_t)i;
                if (edge_dim) memset(g.edge_feat + e * edge_dim, 0, (size_t)edge_dim * sizeof(rg_real));
            } else {
                g.src[e] = RG__CAND_SRC(mm);
                if (edge_dim)
                    memcpy(g.edge_feat + e * edge_dim, edge_feat + (mm % n_edges) * edge_dim,
                           (size_t)edge_dim * sizeof(rg_real));
            }
        }
    }
#undef RG__CAND_SRC
#undef RG__CAND_DST
    REVGNN_FREE(NULL, has_loop);
    REVGNN_FREE(NULL, cursor);
    REVGNN_FREE(NULL, scratch);
    REVGNN_FREE(NULL, order);
    rg__graph_finish(&g);
    *out = g;
    return RG_OK;
}

RGDEF rg_status rg_graph_validate(const rg_graph *g) {
    int64_t i, e;
    RG__CHECK_ARG(g != NULL, "rg_graph_validate: NULL graph");
    RG__CHECK_ARG(g->ctx == NULL, "rg_graph_validate: needs a host graph");
    RG__CHECK_ARG(g->n_nodes > 0 && g->n_edges >= 0, "rg_graph_validate: %lld nodes, %lld edges",
                  (long long)g->n_nodes, (long long)g->n_edges);
    if (g->rowptr[0] != 0 || g->rowptr[g->n_nodes] != g->n_edges)
        return RG__FAIL(RG_ERR_FORMAT, "graph: rowptr spans [%lld, %lld], expected [0, %lld]",
                        (long long)g->rowptr[0], (long long)g->rowptr[g->n_nodes], (long long)g->n_edges);
    for (i = 0; i < g->n_nodes; i++) {
        if (g->rowptr[i + 1] < g->rowptr[i])
            return RG__FAIL(RG_ERR_FORMAT, "graph: rowptr decreases at node %lld", (long long)i);
        for (e = g->rowptr[i]; e < g->rowptr[i + 1]; e++)
            if (g->src[e] < 0 || g->src[e] >= g->n_nodes || g->dst[e] != i)
                return RG__FAIL(RG_ERR_FORMAT, "graph: edge %lld is (%d -> %d), expected destination %lld",
                                (long long)e, (int)g->src[e], (int)g->dst[e], (long long)i);
    }
    for (i = 0; i < g->n_nodes; i++)
        for (e = g->t_rowptr[i]; e < g->t_rowptr[i + 1]; e++) {
            int64_t id = g->t_edge[e];
            if (id < 0 || id >= g->n_edges || g->src[id] != i ||
                (e > g->t_rowptr[i] && g->t_edge[e - 1] >= id))
                return RG__FAIL(RG_ERR_FORMAT, "graph: transpose entry %lld (edge %lld) is wrong for source %lld",
                                (long long)e, (long long)id, (long long)i);
        }
    if (g->t_rowptr[g->n_nodes] != g->n_edges)
        return RG__FAIL(RG_ERR_FORMAT, "graph: transpose holds %lld edges, expected %lld",
                        (long long)g->t_rowptr[g->n_nodes], (long long)g->n_edges);
    return RG_OK;
}

RGDEF rg_status rg_graph_to_device(rg_ctx *ctx, const rg_graph *h, rg_graph *out) {
    size_t n = (size_t)h->n_nodes, e = (size_t)h->n_edges;
    rg_graph g;
    RG__CHECK_ARG(ctx && h && out, "rg_graph_to_device: NULL argument");
    RG__CHECK_ARG(h->ctx == NULL, "rg_graph_to_device: the source graph is not a host graph");
    rg__graph_zero(out);
    rg__graph_zero(&g);
    g.ctx = ctx;
    g.n_nodes = h->n_nodes;
    g.n_edges = h->n_edges;
    g.edge_dim = h->edge_dim;
#define RG__UPLOAD(field, count, type)                                                   \
    do {                                                                                 \
        g.field = (type *)rg_alloc(ctx, (count) * sizeof(type));                         \
        if (!g.field) { rg_graph_free(ctx, &g); return RG_ERR_OOM; }                     \
        ctx->ops->copy(ctx, g.field, h->field, (count) * sizeof(type), RG_HOST_TO_DEVICE); \
    } while (0)
    RG__UPLOAD(rowptr, n + 1, int64_t);
    RG__UPLOAD(src, e, int32_t);
    RG__UPLOAD(dst, e, int32_t);
    RG__UPLOAD(t_rowptr, n + 1, int64_t);
    RG__UPLOAD(t_edge, e, int64_t);
    RG__UPLOAD(gcn_dinv, n, rg_real);
    RG__UPLOAD(inv_deg, n, rg_real);
    if (h->edge_dim > 0) RG__UPLOAD(edge_feat, e * (size_t)h->edge_dim, rg_real);
#undef RG__UPLOAD
    {
        rg_status st = rg_ctx_take_status(ctx);
        if (st != RG_OK) { rg_graph_free(ctx, &g); return st; }
    }
    *out = g;
    return RG_OK;
}

RGDEF rg_status rg_graph_partition(int64_t n_nodes, int64_t n_parts, uint64_t seed, int32_t *part_of) {
    int64_t i;
    int32_t *perm;
    RG__CHECK_ARG(part_of != NULL, "rg_graph_partition: NULL output");
    RG__CHECK_ARG(n_nodes > 0 && n_nodes <= INT32_MAX, "rg_graph_partition: node count %lld", (long long)n_nodes);
    RG__CHECK_ARG(n_parts >= 1 && n_parts <= n_nodes, "rg_graph_partition: %lld parts for %lld nodes",
                  (long long)n_parts, (long long)n_nodes);
    perm = (int32_t *)REVGNN_MALLOC(NULL, (size_t)n_nodes * sizeof(int32_t));
    if (!perm) return RG__FAIL(RG_ERR_OOM, "rg_graph_partition: out of host memory");
    /* Fisher-Yates with counter-based draws, then the k-th block of the permutation is part k */
    for (i = 0; i < n_nodes; i++) perm[i] = (int32_t)i;
    for (i = n_nodes - 1; i > 0; i--) {
        int64_t j = (int64_t)(rg_rng_u64(seed, 0x9a27, (uint64_t)i) % (uint64_t)(i + 1));
        int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (i = 0; i < n_nodes; i++) part_of[perm[i]] = (int32_t)(i * n_parts / n_nodes);
    REVGNN_FREE(NULL, perm);
    return RG_OK;
}

RGDEF rg_status rg_graph_subgraph(const rg_graph *g, const int32_t *nodes, int64_t n, rg_graph *out) {
    int32_t *local;
    int64_t k, e, m = 0;
    rg_graph s;
    rg_status st;
    RG__CHECK_ARG(g && nodes && out, "rg_graph_subgraph: NULL argument");
    rg__graph_zero(out);
    RG__CHECK_ARG(g->ctx == NULL, "rg_graph_subgraph: needs a host graph");
    RG__CHECK_ARG(n > 0 && n <= g->n_nodes, "rg_graph_subgraph: %lld nodes of a %lld-node graph",
                  (long long)n, (long long)g->n_nodes);
    local = (int32_t *)REVGNN_MALLOC(NULL, (size_t)g->n_nodes * sizeof(int32_t));
    if (!local) return RG__FAIL(RG_ERR_OOM, "rg_graph_subgraph: out of host memory");
    for (k = 0; k < g->n_nodes; k++) local[k] = -1;
    for (k = 0; k < n; k++) {
        if (nodes[k] < 0 || nodes[k] >= g->n_nodes || local[nodes[k]] >= 0) {
            int bad = nodes[k];
            REVGNN_FREE(NULL, local);
            return RG__FAIL(RG_ERR_ARG, "rg_graph_subgraph: node list entry %lld is %d: %s", (long long)k, bad,
                            bad < 0 || bad >= g->n_nodes ? "out of range" : "a repeat");
        }
        local[nodes[k]] = (int32_t)k;
    }
    for (k = 0; k < n; k++)
        for (e = g->rowptr[nodes[k]]; e < g->rowptr[nodes[k] + 1]; e++) m += local[g->src[e]] >= 0;
    st = rg__graph_alloc_host(&s, n, m, g->edge_dim);
    if (st != RG_OK) { REVGNN_FREE(NULL, local); return st; }
    m = 0;
    s.rowptr[0] = 0;
    for (k = 0; k < n; k++) {
        for (e = g->rowptr[nodes[k]]; e < g->rowptr[nodes[k] + 1]; e++) {
            if (local[g->src[e]] < 0) continue;
            s.src[m] = local[g->src[e]];
            s.dst[m] = (int32_t)k;
            if (g->edge_dim)
                memcpy(s.edge_feat + m * g->edge_dim, g->edge_feat + e * g->edge_dim,
                       (size_t)g->edge_dim * sizeof(rg_real));
            m++;
        }
        s.rowptr[k + 1] = m;
    }
    REVGNN_FREE(NULL, local);
    rg__graph_finish(&s);
    *out = s;
    return RG_OK;
}

/* ============================== CPU backend ============================== */

static void *rg__cpu_alloc(rg_ctx *ctx, size_t bytes) { return REVGNN_MALLOC(ctx, bytes); }
static void rg__cpu_free(rg_ctx *ctx, void *p, size_t bytes) { (void)bytes; REVGNN_FREE(ctx, p); }
static void rg__cpu_copy(rg_ctx *ctx, void *dst, const void *src, size_t bytes, rg_copy_kind kind) {
    (void)ctx; (void)kind;
    if (bytes) memmove(dst, src, bytes);
}
static void rg__cpu_synchronize(rg_ctx *ctx) { (void)ctx; }

/* Reference GEMM: the plain definition, kept beside the blocked one below as its oracle, and
   the path for K = 0. Each C entry is one sequential sum over k, so its value never depends
   on the thread count. */
static void rg__gemm_naive(rg_ctx *ctx, int ta, int tb, int64_t M, int64_t N, int64_t K, rg_real alpha,
                           const rg_real *A, int64_t lda, const rg_real *B, int64_t ldb, rg_real beta,
                           rg_real *C, int64_t ldc) {
    int64_t i;
    RG__PARALLEL_FOR(ctx->n_threads)
    for (i = 0; i < M; i++) {
        int64_t j, k;
        for (j = 0; j < N; j++) {
            rg_real acc = 0;
            for (k = 0; k < K; k++)
                acc += (ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
            C[i * ldc + j] = beta == 0 ? alpha * acc : alpha * acc + beta * C[i * ldc + j];
        }
    }
}

/* ---- built-in GEMM ----
   BLIS-style blocking: column blocks of C (RG__GEMM_NC) > K blocks (RG__GEMM_KC), op(B)'s
   block packed once into nr-wide panels (kc, nr) > micro-panels of mr rows of op(A) >
   micro-panels of nr columns > a micro-kernel that keeps an (mr, nr) tile of C in registers
   and writes it back. The kernel broadcasts one value of op(A) per row and k, so op(A) needs
   no new layout and is read in place, except at the ragged bottom edge (packed into (kc, mr)
   with zero rows) and when A is transposed and its panel serves more than
   RG__GEMM_TA_INPLACE column tiles: then k steps of lda elements would cost more, in cache
   misses and set conflicts, than a packed copy. The whole loop nest is compiled once per
   instruction set with its tile size as constants, and the context picks one for its CPU.

   Determinism: every entry of C gets the same arithmetic whatever the tiling or the thread
   count. For each K block in order (fixed boundaries 0, KC, 2 KC ...) the kernel forms one
   sequential sum over k (zero-padded lanes never mix into real entries), then C = alpha acc
   + beta C for the first block and C += alpha acc after it. Threads own disjoint ranges of
   whole micro-tiles; long reductions into a small C first cut K into chunks fixed by the
   shape (rg__gemm_ksplit). Only the kernel's use of fused multiply-adds can change the last
   bits: between CPUs, never between thread counts. */
#ifndef REVGNN_CBLAS
#define RG__GEMM_KC 256
#define RG__GEMM_NC 1024
#define RG__GEMM_TA_INPLACE 8
#define RG__GEMM_UNITS 4                   /* work units per thread (rg__gemm_tiles) */
#define RG__GEMM_KSPLIT (16 * RG__GEMM_KC) /* K chunk of a split reduction (rg__gemm_ksplit) */
#define RG__GEMM_KSPLIT_MN 65536           /* ... into a C of at most this many entries */
#define RG__GEMM_MR_MAX 8
#define RG__GEMM_NR_MAX (128 / (int)sizeof(rg_real)) /* two 512-bit vectors */

/* What one call shares with its threads. */
typedef struct rg__gemm_args {
    int ta, tb;
    int64_t K;
    rg_real alpha, beta;
    const rg_real *A, *B;
    rg_real *C;
    int64_t lda, ldb, ldc;
} rg__gemm_args;

/* C[i0:i1, j0:j1] by one thread, with its buffers bp and ap (see rg__gemm_slot). */
typedef void (*rg__gemm_region_fn)(const rg__gemm_args *g, rg_real *bp, rg_real *ap, int64_t i0, int64_t i1,
                                   int64_t j0, int64_t j1);
typedef struct rg__gemm_kernel {
    const char *isa;       /* its name for REVGNN_CPU_ISA */
    int mr, nr;            /* tile: mr rows of op(A) by nr columns of op(B) */
    rg__gemm_region_fn region;
} rg__gemm_kernel;

static RG__FORCE_INLINE rg_real rg__fma(rg_real x, rg_real y, rg_real z) {
    return sizeof(rg_real) == sizeof(float) ? (rg_real)fmaf((float)x, (float)y, (float)z) : (rg_real)fma(x, y, z);
}

/* bp (kc, nr) panels, panel p holding columns j0 + p nr ...: op(B)(k0 + k, j), zero past j0 + nc */
static RG__FORCE_INLINE void rg__gemm_pack_b(rg_real *RG_RESTRICT bp, const rg__gemm_args *g, int64_t k0,
                                             int64_t kc, int64_t j0, int64_t nc, const int nr) {
    int64_t p, k, j;
    for (p = 0; p < nc; p += nr) {
        rg_real *RG_RESTRICT panel = bp + p * kc;
        int64_t w = nc - p;
        if (g->tb) {
            for (j = 0; j < nr; j++) {
                if (j < w) {
                    const rg_real *col = g->B + (j0 + p + j) * g->ldb + k0;
                    for (k = 0; k < kc; k++) panel[k * nr + j] = col[k];
                } else {
                    for (k = 0; k < kc; k++) panel[k * nr + j] = 0;
                }
            }
        } else if (w >= nr) {
            for (k = 0; k < kc; k++) {
                const rg_real *row = g->B + (k0 + k) * g->ldb + j0 + p;
                for (j = 0; j < nr; j++) panel[k * nr + j] = row[j];
            }
        } else {
            for (k = 0; k < kc; k++) {
                const rg_real *row = g->B + (k0 + k) * g->ldb + j0 + p;
                for (j = 0; j < nr; j++) panel[k * nr + j] = 0;
                for (j = 0; j < w; j++) panel[k * nr + j] = row[j];
            }
        }
    }
}

/* ap (kc, mr): op(A)(i0 + r, k0 + k) for r < m, zero below */
static RG__FORCE_INLINE void rg__gemm_pack_a(rg_real *RG_RESTRICT ap, const rg__gemm_args *g, int64_t i0, int64_t m,
                                             int64_t k0, int64_t kc, const int mr) {
    int64_t r, k;
    if (g->ta && m == mr) {
        for (k = 0; k < kc; k++) {
            const rg_real *row = g->A + (k0 + k) * g->lda + i0;
            for (r = 0; r < mr; r++) ap[k * mr + r] = row[r];
        }
        return;
    }
    for (k = 0; k < kc; k++)
        for (r = 0; r < mr; r++)
            ap[k * mr + r] = r >= m ? (rg_real)0 : g->ta ? g->A[(k0 + k) * g->lda + i0 + r] : g->A[(i0 + r) * g->lda + k0 + k];
}

/* One row of the write-back: the first K block sets C = alpha acc + beta C (beta == 0 never
   reads C), later blocks add alpha acc. */
static RG__FORCE_INLINE void rg__gemm_store_row(rg_real *RG_RESTRICT c, const rg_real *RG_RESTRICT acc, int64_t n,
                                                rg_real alpha, rg_real beta, int first) {
    int64_t j;
    if (!first)
        for (j = 0; j < n; j++) c[j] += alpha * acc[j];
    else if (beta == 0)
        for (j = 0; j < n; j++) c[j] = alpha * acc[j];
    else
        for (j = 0; j < n; j++) c[j] = alpha * acc[j] + beta * c[j];
}

/* The micro-kernel: the (m, n) corner of an (mr, nw) tile of C at c, from a(r, k) = a[r a_rs
   + k a_ks] (a packed panel or rows in place) and the first nw columns of the packed panel b
   (kc, nr). Each row of accumulators is its own array, indexed by constants only, so the
   compiler keeps them in registers; fused: one rounding per multiply-add (FMA hardware)
   instead of two. */
#define RG__GEMM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define RG__GEMM_DECL(r) rg_real c##r[RG__GEMM_NR_MAX]; const rg_real *a##r = (r) < mr ? a + (r) * a_rs : a;
#define RG__GEMM_ZERO(r) if ((r) < mr) { for (j = 0; j < nw; j++) c##r[j] = 0; }
#define RG__GEMM_STEP(r)                                                                                   \
    if ((r) < mr) {                                                                                        \
        RG__SIMD for (j = 0; j < nw; j++) c##r[j] = fused ? rg__fma(a##r[ka], bk[j], c##r[j]) : c##r[j] + a##r[ka] * bk[j]; \
    }
#define RG__GEMM_FULL(r) if ((r) < mr) rg__gemm_store_row(c + (r) * ldc, c##r, nw, alpha, beta, first);
#define RG__GEMM_SPILL(r) if ((r) < mr) { for (j = 0; j < nw; j++) tile[(r) * nw + j] = c##r[j]; }
static RG__FORCE_INLINE void rg__gemm_micro(int64_t kc, const rg_real *RG_RESTRICT a, int64_t a_rs, int64_t a_ks,
                                            const rg_real *RG_RESTRICT b, rg_real *RG_RESTRICT c, int64_t ldc,
                                            int64_t m, int64_t n, rg_real alpha, rg_real beta, int first,
                                            const int mr, const int nw, const int nr, const int fused) {
    int64_t k, ka;
    int j;
    RG__GEMM_ROWS(RG__GEMM_DECL)
    RG__GEMM_ROWS(RG__GEMM_ZERO)
    for (k = 0, ka = 0; k < kc; k++, ka += a_ks) {
        const rg_real *bk = b + k * nr;
        RG__GEMM_ROWS(RG__GEMM_STEP)
    }
    if (m == mr && n == nw) {
        RG__GEMM_ROWS(RG__GEMM_FULL)
    } else { /* the ragged edge: through memory, the same arithmetic */
        rg_real tile[RG__GEMM_MR_MAX * RG__GEMM_NR_MAX];
        int64_t r;
        RG__GEMM_ROWS(RG__GEMM_SPILL)
        for (r = 0; r < m; r++) rg__gemm_store_row(c + r * ldc, tile + r * nw, n, alpha, beta, first);
    }
}
#undef RG__GEMM_ROWS
#undef RG__GEMM_DECL
#undef RG__GEMM_ZERO
#undef RG__GEMM_STEP
#undef RG__GEMM_FULL
#undef RG__GEMM_SPILL

static RG__FORCE_INLINE void rg__gemm_region(const rg__gemm_args *g, rg_real *bp, rg_real *ap, int64_t i0,
                                             int64_t i1, int64_t j0, int64_t j1, const int mr, const int nr,
                                             const int fused) {
    int64_t jc, pc, ic, jr;
    for (jc = j0; jc < j1; jc += RG__GEMM_NC) {
        int64_t nc = j1 - jc < RG__GEMM_NC ? j1 - jc : RG__GEMM_NC;
        for (pc = 0; pc < g->K; pc += RG__GEMM_KC) {
            int64_t kc = g->K - pc < RG__GEMM_KC ? g->K - pc : RG__GEMM_KC;
            rg__gemm_pack_b(bp, g, pc, kc, jc, nc, nr);
            for (ic = i0; ic < i1; ic += mr) {
                int64_t m = i1 - ic < mr ? i1 - ic : mr;
                const rg_real *a = ap;
                int64_t a_rs = 1, a_ks = mr;
                if (m < mr || (g->ta && nc > RG__GEMM_TA_INPLACE * nr)) {
                    rg__gemm_pack_a(ap, g, ic, m, pc, kc, mr);
                } else {
                    a = g->ta ? g->A + pc * g->lda + ic : g->A + ic * g->lda + pc;
                    a_rs = g->ta ? 1 : g->lda;
                    a_ks = g->ta ? g->lda : 1;
                }
                for (jr = 0; jr < nc; jr += nr) {
                    int64_t n = nc - jr < nr ? nc - jr : nr;
                    rg_real *c = g->C + ic * g->ldc + jc + jr;
                    if (n > nr / 2) /* a last panel of at most half width runs a half-width tile */
                        rg__gemm_micro(kc, a, a_rs, a_ks, bp + jr * kc, c, g->ldc, m, n, g->alpha, g->beta, pc == 0,
                                       mr, nr, nr, fused);
                    else
                        rg__gemm_micro(kc, a, a_rs, a_ks, bp + jr * kc, c, g->ldc, m, n, g->alpha, g->beta, pc == 0,
                                       mr, nr / 2, nr, fused);
                }
            }
        }
    }
}

/* One instance per instruction set: the same loops, compiled with its tile size. The
   portable one assumes 16-byte vectors (SSE2, NEON) and 16 registers; nr is two vectors. */
#define RG__GEMM_NR(vector_bytes) (2 * (vector_bytes) / (int)sizeof(rg_real))
#define RG__GEMM_INSTANCE(name, mr, nr, fused)                                                                  \
    static void name(const rg__gemm_args *g, rg_real *bp, rg_real *ap, int64_t i0, int64_t i1, int64_t j0,       \
                     int64_t j1) {                                                                              \
        rg__gemm_region(g, bp, ap, i0, i1, j0, j1, mr, nr, fused);                                              \
    }
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
#define RG__GEMM_PORTABLE_FUSED 1
#else
#define RG__GEMM_PORTABLE_FUSED 0
#endif
#define RG__GEMM_PORTABLE_MR 6
#define RG__GEMM_AVX2_MR 6
#define RG__GEMM_AVX512_MR 8
RG__GEMM_INSTANCE(rg__gemm_region_portable, RG__GEMM_PORTABLE_MR, RG__GEMM_NR(16), RG__GEMM_PORTABLE_FUSED)
#if RG__GEMM_X86
#if defined(__clang__)
#define RG__TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#else
#define RG__TARGET_AVX512 __attribute__((target("avx512f,avx2,fma,prefer-vector-width=512")))
#endif
__attribute__((target("avx2,fma"))) RG__GEMM_INSTANCE(rg__gemm_region_avx2, RG__GEMM_AVX2_MR, RG__GEMM_NR(32), 1)
RG__TARGET_AVX512 RG__GEMM_INSTANCE(rg__gemm_region_avx512, RG__GEMM_AVX512_MR, RG__GEMM_NR(64), 1)
#endif
#undef RG__GEMM_INSTANCE

/* ascending speed: the last one the CPU runs is the default */
static const rg__gemm_kernel rg__gemm_kernels[] = {
    {"portable", RG__GEMM_PORTABLE_MR, RG__GEMM_NR(16), rg__gemm_region_portable},
#if RG__GEMM_X86
    {"avx2", RG__GEMM_AVX2_MR, RG__GEMM_NR(32), rg__gemm_region_avx2},
    {"avx512", RG__GEMM_AVX512_MR, RG__GEMM_NR(64), rg__gemm_region_avx512},
#endif
};
#endif /* !REVGNN_CBLAS */

/* The CPU backend's private state (ctx->backend). A context serves one host thread at a
   time; inside an op, OpenMP threads use disjoint slots of the scratch. */
typedef struct rg__cpu_state {
#ifndef REVGNN_CBLAS
    const rg__gemm_kernel *gemm;  /* micro-kernel picked for this CPU */
#endif
    void *scratch_raw;            /* GEMM packing buffers: grown on demand, freed with the context */
    rg_real *scratch;             /* scratch_raw aligned to 64 bytes */
    size_t scratch_reals;         /* reals usable at scratch */
} rg__cpu_state;

#ifndef REVGNN_CBLAS
/* The context's scratch, at least reals long; NULL with RG_ERR_OOM recorded on failure. */
static rg_real *rg__cpu_scratch(rg_ctx *ctx, size_t reals) {
    rg__cpu_state *s = (rg__cpu_state *)ctx->backend;
    if (reals > s->scratch_reals) {
        if (s->scratch_raw) REVGNN_FREE(ctx, s->scratch_raw);
        s->scratch = NULL;
        s->scratch_reals = 0;
        s->scratch_raw = REVGNN_MALLOC(ctx, reals * sizeof(rg_real) + 64);
        if (!s->scratch_raw) {
            rg_status st = RG__FAIL(RG_ERR_OOM, "cpu gemm: out of host memory for %zu bytes of packing buffers",
                                    reals * sizeof(rg_real));
            if (ctx->status == RG_OK) ctx->status = st;
            return NULL;
        }
        s->scratch = (rg_real *)(((uintptr_t)s->scratch_raw + 63) & ~(uintptr_t)63);
        s->scratch_reals = reals;
    }
    return s->scratch;
}

static int rg__gemm_cpu_has(const rg__gemm_kernel *k) {
#if RG__GEMM_X86
    __builtin_cpu_init();
    if (k->region == rg__gemm_region_avx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (k->region == rg__gemm_region_avx512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return k->region == rg__gemm_region_portable;
}

/* The fastest kernel this CPU runs (the table is in ascending order), or the one that the
   environment variable REVGNN_CPU_ISA names, so tests and benchmarks can compare them. */
static rg_status rg__gemm_pick(const rg__gemm_kernel **out) {
    const char *want = getenv("REVGNN_CPU_ISA");
    int i, n = (int)(sizeof rg__gemm_kernels / sizeof rg__gemm_kernels[0]);
    *out = &rg__gemm_kernels[0];
    for (i = 0; i < n; i++) {
        const rg__gemm_kernel *k = &rg__gemm_kernels[i];
        if (!want || !*want) {
            if (rg__gemm_cpu_has(k)) *out = k;
        } else if (strcmp(want, k->isa) == 0) {
            RG__CHECK_ARG(rg__gemm_cpu_has(k), "REVGNN_CPU_ISA=%s: this CPU lacks that instruction set", want);
            *out = k;
            return RG_OK;
        }
    }
    RG__CHECK_ARG(!want || !*want, "REVGNN_CPU_ISA=%s is not a GEMM kernel of this build (portable%s)", want,
                  RG__GEMM_X86 ? ", avx2, avx512" : "");
    return RG_OK;
}
/* Reals of one thread's packing buffers for a K range and a region width: ap (kc, mr) at
   the start, bp (kc, width rounded up to nr, at most NC) from *a_len on; both whole 64-byte
   lines (for floats) so every slot stays aligned. */
static int64_t rg__gemm_slot(const rg__gemm_kernel *kern, int64_t K, int64_t width, int64_t *a_len) {
    int64_t kc = K < RG__GEMM_KC ? K : RG__GEMM_KC, nr = kern->nr;
    int64_t nc = ((width < RG__GEMM_NC ? width : RG__GEMM_NC) + nr - 1) / nr * nr;
    *a_len = (kc * kern->mr + 15) / 16 * 16;
    return *a_len + (kc * nc + 15) / 16 * 16;
}

/* Threads for units of work totalling work multiply-adds: one per unit at most, and at
   least 2^20 multiply-adds each. */
static int64_t rg__gemm_parts(const rg_ctx *ctx, int64_t units, double work) {
    int64_t n = ctx->n_threads < units ? ctx->n_threads : units;
    while (n > 1 && work / (double)n < 1048576.0) n--;
    return n;
}

/* The side of C with more tiles is cut into units of whole tiles, RG__GEMM_UNITS per thread,
   that the threads take in turn. */
static void rg__gemm_tiles(rg_ctx *ctx, const rg__gemm_kernel *kern, const rg__gemm_args *g, int64_t M, int64_t N) {
    int64_t mr = kern->mr, nr = kern->nr, m_tiles = (M + mr - 1) / mr, n_tiles = (N + nr - 1) / nr;
    int split_m = m_tiles >= n_tiles;
    int64_t tiles = split_m ? m_tiles : n_tiles;
    int64_t n_parts = rg__gemm_parts(ctx, tiles, (double)M * (double)N * (double)g->K), a_len, slot, unit;
    int64_t n_units = n_parts == 1 ? 1 : tiles < RG__GEMM_UNITS * n_parts ? tiles : RG__GEMM_UNITS * n_parts;
    rg_real *scratch;
    slot = rg__gemm_slot(kern, g->K, split_m ? N : (tiles + n_units - 1) / n_units * nr, &a_len);
    scratch = rg__cpu_scratch(ctx, (size_t)(slot * n_parts));
    if (!scratch) return;
    RG__PARALLEL_FOR_UNITS((int)n_parts)
    for (unit = 0; unit < n_units; unit++) {
        int64_t t0 = unit * tiles / n_units, t1 = (unit + 1) * tiles / n_units;
        rg_real *buf = scratch + RG__THREAD_ID() * slot;
        if (split_m)
            kern->region(g, buf + a_len, buf, t0 * mr, t1 * mr < M ? t1 * mr : M, 0, N);
        else
            kern->region(g, buf + a_len, buf, 0, M, t0 * nr, t1 * nr < N ? t1 * nr : N);
    }
}

/* Long reductions into a small C, as the weight gradient dW = x^T dy over every node: K is
   cut into fixed chunks of RG__GEMM_KSPLIT whose products P_c (M, N) the threads take in
   turn, each reading only its chunks of A and B; then C = alpha sum_c P_c + beta C sums them
   in chunk order, in double. The chunks depend on the shape alone. */
static void rg__gemm_ksplit(rg_ctx *ctx, const rg__gemm_kernel *kern, const rg__gemm_args *g, int64_t M,
                            int64_t N) {
    int64_t n_chunks = (g->K + RG__GEMM_KSPLIT - 1) / RG__GEMM_KSPLIT, a_len, slot, c, i;
    int64_t n_parts = rg__gemm_parts(ctx, n_chunks, (double)M * (double)N * (double)g->K);
    rg_real *scratch, *partial;
    slot = rg__gemm_slot(kern, RG__GEMM_KSPLIT, N, &a_len);
    scratch = rg__cpu_scratch(ctx, (size_t)(slot * n_parts + n_chunks * M * N));
    if (!scratch) return;
    partial = scratch + slot * n_parts;
    RG__PARALLEL_FOR_UNITS((int)n_parts)
    for (c = 0; c < n_chunks; c++) {
        rg_real *buf = scratch + RG__THREAD_ID() * slot;
        int64_t k0 = c * RG__GEMM_KSPLIT;
        rg__gemm_args h = *g;
        h.K = g->K - k0 < RG__GEMM_KSPLIT ? g->K - k0 : RG__GEMM_KSPLIT;
        h.A = g->ta ? g->A + k0 * g->lda : g->A + k0;
        h.B = g->tb ? g->B + k0 : g->B + k0 * g->ldb;
        h.C = partial + c * M * N;
        h.ldc = N;
        h.alpha = 1;
        h.beta = 0;
        kern->region(&h, buf + a_len, buf, 0, M, 0, N);
    }
    RG__PARALLEL_FOR(ctx->n_threads)
    for (i = 0; i < M; i++) {
        int64_t j, c;
        for (j = 0; j < N; j++) {
            rg_real *cij = g->C + i * g->ldc + j;
            double acc = 0;
            for (c = 0; c < n_chunks; c++) acc += partial[c * M * N + i * N + j];
            *cij = (rg_real)(g->beta == 0 ? g->alpha * acc : g->alpha * acc + g->beta * *cij);
        }
    }
}

#endif /* !REVGNN_CBLAS */

static void rg__cpu_gemm(rg_ctx *ctx, int ta, int tb, int64_t M, int64_t N, int64_t K, rg_real alpha,
                         const rg_real *A, int64_t lda, const rg_real *B, int64_t ldb, rg_real beta,
                         rg_real *C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* C = beta C: nothing to block */
        rg__gemm_naive(ctx, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#ifdef REVGNN_CBLAS
    /* The BLAS threads on its own: ctx->n_threads does not apply, and whether results are
       identical for any thread count is up to the BLAS. */
    if (M > INT_MAX || N > INT_MAX || K > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX) {
        rg_status st = RG__FAIL(RG_ERR_ARG, "cpu gemm: %lldx%lldx%lld exceeds the int sizes of CBLAS",
                                (long long)M, (long long)N, (long long)K);
        if (ctx->status == RG_OK) ctx->status = st;
        return;
    }
    if (sizeof(rg_real) == sizeof(float))
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                    (int)K, (float)alpha, (const float *)A, (int)lda, (const float *)B, (int)ldb, (float)beta,
                    (float *)C, (int)ldc);
    else
        cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                    (int)K, (double)alpha, (const double *)A, (int)lda, (const double *)B, (int)ldb, (double)beta,
                    (double *)C, (int)ldc);
#else
    {
        const rg__gemm_kernel *kern = ((rg__cpu_state *)ctx->backend)->gemm;
        rg__gemm_args g;
        g.ta = ta; g.tb = tb; g.K = K; g.alpha = alpha; g.beta = beta;
        g.A = A; g.B = B; g.C = C; g.lda = lda; g.ldb = ldb; g.ldc = ldc;
        if (K >= 4 * RG__GEMM_KSPLIT && M * N <= RG__GEMM_KSPLIT_MN)
            rg__gemm_ksplit(ctx, kern, &g, M, N);
        else
            rg__gemm_tiles(ctx, kern, &g, M, N);
    }
#endif
}

static void rg__cpu_fill(rg_ctx *ctx, rg_real *x, int64_t n, rg_real v) {
    int64_t i;
    RG__PARALLEL_FOR(ctx->n_threads)
    for (i = 0; i < n; i++) x[i] = v;
}

static void rg__cpu_axpby(rg_ctx *ctx, int64_t n, rg_real a, const rg_real *x, rg_real b, rg_real *y) {
    int64_t i;
    if (b == 0) {
        RG__PARALLEL_FOR(ctx->n_threads)
        for (i = 0; i < n; i++) y[i] = a * x[i];
    } else {
        RG__PARALLEL_FOR(ctx->n_threads)
        for (i = 0; i < n; i++) y[i] = a * x[i] + b * y[i];
    }
}

static void rg__cpu_add_bias(rg_ctx *ctx, rg_real *y, const rg_real *bias, int64_t rows, int64_t cols) {
    int64_t r;
    RG__PARALLEL_FOR(ctx->n_threads)
    for (r = 0; r < rows; r++) {
        int64_t c;
        for (c = 0; c < cols; c++) y[r * cols + c] += bias[c];
    }
}

/* Column reductions split the columns, never the rows, among threads: each column is one
   sequential double sum, identical for any thread count. */
static void rg__cpu_col_sum(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t rows, int64_t cols) {
    int64_t c;
    RG__PARALLEL_FOR(ctx->n_threads)
    for (c = 0; c < cols; c++) {
        int64_t r;
        double acc = 0;
        for (r = 0; r < rows; r++) acc += x[r * cols + c];
        out[c] += (rg_real)acc;
    }
}

static void rg__cpu_relu_forward(rg_ctx *ctx, rg_real *y, const rg_real *x, int64_t n) {
    int64_t i;
    RG__PARALLEL_FOR(ctx->n_threads)
    for (i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : (rg_real)0;
}

static void rg__cpu_relu_backward(rg_ctx *ctx, rg_real *dx, const rg_real *dy, const rg_real *x, int64_t n) {
    int64_t i;
    RG__PARALLEL_FOR(ctx->n_threads)
    for (i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : (rg_real)0;
}

static void rg__cpu_dropout(rg_ctx *ctx, rg_real *y, const rg_real *x, int64_t rows, int64_t cols, double p,
                            uint64_t seed, uint64_t stream) {
    int64_t i, n = rows * cols;
    uint32_t threshold = rg_dropout_threshold(p);
    rg_real scale = (rg_real)(1.0 / (1.0 - p));
    RG__PARALLEL_FOR(ctx->n_threads)
    for (i = 0; i < n; i++) y[i] = rg_dropout_keep(seed, stream, (uint64_t)i, threshold) ? x[i] * scale : (rg_real)0;
}

static void rg__cpu_layernorm_forward(rg_ctx *ctx, rg_real *y, rg_real *mean, rg_real *rstd, const rg_real *x,
                                      const rg_real *gamma, const rg_real *beta, int64_t rows, int64_t cols,
                                      double eps) {
    int64_t r;
    RG__PARALLEL_FOR(ctx->n_threads)
    for (r = 0; r < rows; r++) {
        const rg_real *xr = x + r * cols;
        rg_real *yr = y + r * cols;
        double m = 0, v = 0;
        rg_real mu, rs;
        int64_t c;
        for (c = 0; c < cols; c++) m += xr[c];
        m /= (double)cols;
        for (c = 0; c < cols; c++) v += (xr[c] - m) * (xr[c] - m);
        v /= (double)cols;
        mu = (rg_real)m;
        rs = (rg_real)(1.0 / sqrt(v + eps));
        for (c = 0; c < cols; c++) yr[c] = (xr[c] - mu) * rs * gamma[c] + beta[c];
        mean[r] = mu;
        rstd[r] = rs;
    }
}

/* dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma: the three terms are
   the direct path, the path through the mean and the path through the variance. */
static void rg__cpu_layernorm_backward(rg_ctx *ctx, rg_real *dx, rg_real *dgamma, rg_real *dbeta,
                                       const rg_real *dy, const rg_real *x, const rg_real *mean,
                                       const rg_real *rstd, const rg_real *gamma, int64_t rows, int64_t cols) {
    int64_t r, c;
    RG__PARALLEL_FOR(ctx->n_threads)
    for (c = 0; c < cols; c++) {
        double dg = 0, db = 0;
        for (r = 0; r < rows; r++) {
            double xhat = (x[r * cols + c] - mean[r]) * rstd[r];
            dg += dy[r * cols + c] * xhat;
            db += dy[r * cols + c];
        }
        dgamma[c] += (rg_real)dg;
        dbeta[c] += (rg_real)db;
    }
    RG__PARALLEL_FOR(ctx->n_threads)
    for (r = 0; r < rows; r++) {
        const rg_real *xr = x + r * cols, *dyr = dy + r * cols;
        rg_real *dxr = dx + r * cols;
        double mg = 0, mgx = 0;
        int64_t k;
        for (k = 0; k < cols; k++) {
            double g = dyr[k] * gamma[k], xhat = (xr[k] - mean[r]) * rstd[r];
            mg += g;
            mgx += g * xhat;
        }
        mg /= (double)cols;
        mgx /= (double)cols;
        for (k = 0; k < cols; k++) {
            double g = dyr[k] * gamma[k], xhat = (xr[k] - mean[r]) * rstd[r];
            dxr[k] = (rg_real)(rstd[r] * (g - mg - xhat * mgx));
        }
    }
}

static double rg__cpu_sum_squares(rg_ctx *ctx, const rg_real *x, int64_t n) {
    double acc = 0;
    int64_t i;
    (void)ctx;
    for (i = 0; i < n; i++) acc += (double)x[i] * x[i];
    return acc;
}

static void rg__cpu_destroy(rg_ctx *ctx) {
    rg__cpu_state *s = (rg__cpu_state *)ctx->backend;
    if (!s) return;
    if (s->scratch_raw) REVGNN_FREE(ctx, s->scratch_raw);
    REVGNN_FREE(ctx, s);
    ctx->backend = NULL;
}

static const rg_backend rg__cpu_backend = {
    "cpu",
    rg__cpu_alloc,
    rg__cpu_free,
    rg__cpu_copy,
    rg__cpu_synchronize,
    rg__cpu_destroy,
    rg__cpu_gemm,
    rg__cpu_fill,
    rg__cpu_axpby,
    rg__cpu_add_bias,
    rg__cpu_col_sum,
    rg__cpu_relu_forward,
    rg__cpu_relu_backward,
    rg__cpu_dropout,
    rg__cpu_layernorm_forward,
    rg__cpu_layernorm_backward,
    rg__cpu_sum_squares,
};

RGDEF rg_status rg_ctx_create_cpu(rg_ctx **out, int n_threads, uint64_t seed) {
    rg_ctx *ctx;
    rg__cpu_state *s;
    RG__CHECK_ARG(out != NULL, "rg_ctx_create_cpu: NULL output");
    *out = NULL;
    ctx = (rg_ctx *)REVGNN_MALLOC(NULL, sizeof(rg_ctx));
    if (!ctx) return RG__FAIL(RG_ERR_OOM, "rg_ctx_create_cpu: out of host memory");
    memset(ctx, 0, sizeof *ctx);
    ctx->ops = &rg__cpu_backend;
#if RG__OMP
    ctx->n_threads = n_threads > 0 ? n_threads : omp_get_max_threads();
#else
    (void)n_threads;
    ctx->n_threads = 1;
#endif
    ctx->seed = seed;
    s = (rg__cpu_state *)REVGNN_MALLOC(ctx, sizeof(rg__cpu_state));
    if (!s) {
        REVGNN_FREE(ctx, ctx);
        return RG__FAIL(RG_ERR_OOM, "rg_ctx_create_cpu: out of host memory");
    }
    memset(s, 0, sizeof *s);
    ctx->backend = s;
#ifndef REVGNN_CBLAS
    {
        rg_status st = rg__gemm_pick(&s->gemm);
        if (st != RG_OK) { rg_ctx_destroy(ctx); return st; }
    }
#endif
    *out = ctx;
    return RG_OK;
}

/* ============================== layers ============================== */

static rg_status rg__shape_fail(const char *fn, const char *what, rg_tensor t, int64_t rows, int64_t cols) {
    return rg__fail_at(__FILE__, __LINE__, RG_ERR_ARG, "%s: %s is %lldx%lld, expected %lldx%lld", fn, what,
                       (long long)t.rows, (long long)t.cols, (long long)rows, (long long)cols);
}
#define RG__CHECK_SHAPE(fn, what, t, r, c) \
    do { if ((t).rows != (r) || (t).cols != (c) || !(t).data) return rg__shape_fail(fn, what, t, r, c); } while (0)

RGDEF rg_binder rg_binder_make(rg_real *params, rg_real *buffers) {
    rg_binder b;
    memset(&b, 0, sizeof b);
    b.params = params;
    b.buffers = buffers;
    return b;
}

/* a + b into dst, truncated to size - 1 characters */
static const char *rg__join(char *dst, size_t size, const char *a, const char *b) {
    size_t i = 0;
    while (*a && i + 1 < size) dst[i++] = *a++;
    while (*b && i + 1 < size) dst[i++] = *b++;
    dst[i] = '\0';
    return dst;
}

static rg_tensor rg__bind(rg_binder *b, int64_t rows, int64_t cols, const char *name, int is_buffer) {
    rg_real *base = is_buffer ? b->buffers : b->params;
    int64_t *used = is_buffer ? &b->n_buffers : &b->n_params;
    rg_tensor t = rg_tensor_view(base ? base + *used : NULL, rows, cols);
    if (b->names && b->n_names < b->cap_names) {
        rg_param_name *n = &b->names[b->n_names++];
        rg__join(n->name, sizeof n->name, b->prefix, name);
        n->offset = *used;
        n->rows = rows;
        n->cols = cols;
        n->is_buffer = is_buffer;
    }
    *used += rows * cols;
    return t;
}

RGDEF rg_tensor rg_bind_param(rg_binder *b, int64_t rows, int64_t cols, const char *name) {
    return rg__bind(b, rows, cols, name, 0);
}

RGDEF rg_tensor rg_bind_buffer(rg_binder *b, int64_t rows, int64_t cols, const char *name) {
    return rg__bind(b, rows, cols, name, 1);
}

/* "name" + "suffix" into a small buffer, for the names of sub-layers */
static const char *rg__name(char *buf, size_t size, const char *name, const char *suffix) {
    return rg__join(buf, size, name, suffix);
}

RGDEF void rg_linear_bind(rg_linear *p, rg_binder *b, int64_t in, int64_t out, int bias, const char *name) {
    char buf[96];
    p->W = rg_bind_param(b, in, out, rg__name(buf, sizeof buf, name, "weight"));
    p->b = bias ? rg_bind_param(b, 1, out, rg__name(buf, sizeof buf, name, "bias")) : rg_tensor_view(NULL, 0, 0);
}

RGDEF rg_status rg_linear_init(rg_ctx *ctx, const rg_linear *p, uint64_t stream) {
    double bound = 1.0 / sqrt((double)(p->W.rows > 0 ? p->W.rows : 1));
    RG__TRY(rg_tensor_init_uniform(ctx, p->W, -bound, bound, stream));
    if (p->b.data) RG__TRY(rg_tensor_init_uniform(ctx, p->b, -bound, bound, stream + 1));
    return RG_OK;
}

RGDEF rg_status rg_linear_forward(rg_ctx *ctx, rg_tensor y, rg_tensor x, const rg_linear *p) {
    int64_t N = x.rows, in = p->W.rows, out = p->W.cols;
    RG__CHECK_SHAPE("rg_linear_forward", "x", x, N, in);
    RG__CHECK_SHAPE("rg_linear_forward", "y", y, N, out);
    ctx->ops->gemm(ctx, 0, 0, N, out, in, 1, x.data, in, p->W.data, out, 0, y.data, out);
    if (p->b.data) ctx->ops->add_bias(ctx, y.data, p->b.data, N, out);
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_linear_backward(rg_ctx *ctx, rg_tensor dx, const rg_linear *grad, rg_tensor dy,
                                   rg_tensor x, const rg_linear *p) {
    int64_t N = x.rows, in = p->W.rows, out = p->W.cols;
    RG__CHECK_SHAPE("rg_linear_backward", "dy", dy, N, out);
    RG__CHECK_SHAPE("rg_linear_backward", "x", x, N, in);
    ctx->ops->gemm(ctx, 1, 0, in, out, N, 1, x.data, in, dy.data, out, 1, grad->W.data, out);
    if (p->b.data) ctx->ops->col_sum(ctx, grad->b.data, dy.data, N, out);
    if (dx.data) {
        RG__CHECK_SHAPE("rg_linear_backward", "dx", dx, N, in);
        ctx->ops->gemm(ctx, 0, 1, N, in, out, 1, dy.data, out, p->W.data, out, 0, dx.data, in);
    }
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_relu_forward(rg_ctx *ctx, rg_tensor y, rg_tensor x) {
    RG__CHECK_SHAPE("rg_relu_forward", "y", y, x.rows, x.cols);
    ctx->ops->relu_forward(ctx, y.data, x.data, x.rows * x.cols);
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_relu_backward(rg_ctx *ctx, rg_tensor dx, rg_tensor dy, rg_tensor x) {
    RG__CHECK_SHAPE("rg_relu_backward", "dy", dy, x.rows, x.cols);
    RG__CHECK_SHAPE("rg_relu_backward", "dx", dx, x.rows, x.cols);
    ctx->ops->relu_backward(ctx, dx.data, dy.data, x.data, x.rows * x.cols);
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_dropout_forward(rg_ctx *ctx, rg_tensor y, rg_tensor x, double p, uint64_t seed, uint64_t stream) {
    RG__CHECK_ARG(p >= 0 && p < 1, "rg_dropout_forward: drop probability %g is not in [0, 1)", p);
    RG__CHECK_SHAPE("rg_dropout_forward", "y", y, x.rows, x.cols);
    if (p == 0) {
        if (y.data != x.data) ctx->ops->copy(ctx, y.data, x.data, rg__tensor_bytes(x.rows, x.cols), RG_DEVICE_TO_DEVICE);
    } else {
        ctx->ops->dropout(ctx, y.data, x.data, x.rows, x.cols, p, seed, stream);
    }
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_dropout_backward(rg_ctx *ctx, rg_tensor dx, rg_tensor dy, double p, uint64_t seed, uint64_t stream) {
    /* the map is linear and diagonal: its transpose is itself */
    return rg_dropout_forward(ctx, dx, dy, p, seed, stream);
}

RGDEF rg_status rg_layernorm_forward(rg_ctx *ctx, rg_tensor y, const rg_layernorm_cache *cache, rg_tensor x,
                                     const rg_layernorm *p) {
    int64_t N = x.rows, D = x.cols;
    RG__CHECK_SHAPE("rg_layernorm_forward", "y", y, N, D);
    RG__CHECK_SHAPE("rg_layernorm_forward", "gamma", p->gamma, 1, D);
    RG__CHECK_SHAPE("rg_layernorm_forward", "beta", p->beta, 1, D);
    RG__CHECK_SHAPE("rg_layernorm_forward", "cache mean", cache->mean, N, 1);
    RG__CHECK_SHAPE("rg_layernorm_forward", "cache rstd", cache->rstd, N, 1);
    ctx->ops->layernorm_forward(ctx, y.data, cache->mean.data, cache->rstd.data, x.data, p->gamma.data,
                                p->beta.data, N, D, RG_NORM_EPS);
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_layernorm_backward(rg_ctx *ctx, rg_tensor dx, const rg_layernorm *grad, rg_tensor dy, rg_tensor x,
                                      const rg_layernorm_cache *cache, const rg_layernorm *p) {
    int64_t N = x.rows, D = x.cols;
    RG__CHECK_SHAPE("rg_layernorm_backward", "dy", dy, N, D);
    RG__CHECK_SHAPE("rg_layernorm_backward", "dx", dx, N, D);
    ctx->ops->layernorm_backward(ctx, dx.data, grad->gamma.data, grad->beta.data, dy.data, x.data,
                                 cache->mean.data, cache->rstd.data, p->gamma.data, N, D);
    return rg_ctx_take_status(ctx);
}

#ifdef __cplusplus
}
#endif
#endif /* REVGNN_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
MIT License
Copyright (c) 2026 the revgnn authors
Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:
The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.
------------------------------------------------------------------------------
*/
