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
      REVGNN_SPIN_POLLS  polls (about 30 ns each on recent x86) an idle thread of the library
                         spins before it sleeps while the machine has a core for each runnable
                         thread (default 131072, ~4 ms); REVGNN_SPIN_POLLS_CROWDED when it has
                         not (default 4096, ~0.1 ms; Linux tells by /proc/loadavg). OMP_WAIT_POLICY
                         overrides both.
      REVGNN_NO_STDIO    leave out everything that touches files (loaders, checkpoints).

   ENVIRONMENT
      REVGNN_CPU_ISA     portable, avx2 or avx512: the micro-kernel of the built-in CPU GEMM,
                         read when a CPU context is created (default: the fastest this CPU
                         runs). For tests and benchmarks; kernels with and without fused
                         multiply-add may differ in the last bits.
      OMP_NUM_THREADS    threads of a context created with n_threads <= 0 (with -fopenmp).
      OMP_WAIT_POLICY    how the library's idle threads wait, read when a context is created:
                         unset, spin (REVGNN_SPIN_POLLS, or REVGNN_SPIN_POLLS_CROWDED when
                         more threads are runnable than cores, so a process that shares the
                         machine keeps its CPU) then sleep; ACTIVE, spin; PASSIVE, sleep at
                         once. The loops run on the library's own POSIX threads, not libgomp's,
                         whose default spin made a busy machine several times slower.

   CONTENTS (each section opens with a banner comment; declarations, then implementation)
      configuration - status and errors - context, allocator, memory accounting - tensors -
      counter-based RNG - CSR graph - backend ops table - CPU backend - layers (linear, norms,
      relu, shared dropout, GEN/GCN/SAGE/GAT) - blocks and models (res, res-ckpt, rev,
      wt-res, wt-rev, DEQ; memory plan) - losses and metrics - Adam - data (OGB loader,
      synthetic generator) - checkpoints (safetensors) - training helpers - losses and
      metrics - Adam - data (OGB loader, synthetic generator)

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

/* CPU context. n_threads <= 0 means every available thread (OpenMP's count), else that many;
   the context starts n_threads - 1 threads of its own, ended by rg_ctx_destroy.
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
   (n_edges, edge_dim). Validates ids and sizes. Each node's incoming edges are sorted by
   source; equal sources keep input order, given edges before reversed copies. */
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
                               const rg_real *gamma, int64_t rows, int64_t cols); /* dx may alias dy */
    /* sum of squares of x, returned to the host (global-norm clipping, tests) */
    double (*sum_squares)(rg_ctx *ctx, const rg_real *x, int64_t n);

    /* ---- batch norm and GENConv ---- */
    /* batch norm over each column (the rows are the batch): y = (x - mean) * rstd * gamma + beta,
       mean and rstd (cols) written. use_batch != 0: statistics of the batch (biased variance),
       and when momentum > 0 running_mean/running_var (cols) move toward them, r = (1 - momentum)
       r + momentum * batch, with the unbiased variance (needs rows > 1). use_batch == 0: the
       running statistics (running_* only read). */
    void (*batchnorm_forward)(rg_ctx *ctx, rg_real *y, rg_real *mean, rg_real *rstd, rg_real *running_mean,
                              rg_real *running_var, const rg_real *x, const rg_real *gamma, const rg_real *beta,
                              int64_t rows, int64_t cols, double eps, double momentum, int use_batch);
    /* dgamma += sum_rows dy * xhat, dbeta += sum_rows dy; dx = gamma * rstd * (dy - mean(dy) -
       xhat * mean(dy * xhat)) when use_batch (the statistics depend on x), else gamma * rstd * dy.
       dx may alias dy. */
    void (*batchnorm_backward)(rg_ctx *ctx, rg_real *dx, rg_real *dgamma, rg_real *dbeta, const rg_real *dy,
                               const rg_real *x, const rg_real *mean, const rg_real *rstd, const rg_real *gamma,
                               int64_t rows, int64_t cols, int use_batch);
    /* GEN aggregation: out (N, D) row i = aggr over the incoming edges k of node i
       (rowptr/src) of the message m_kc = ReLU(x[src[k], c] + e[k, c]) + eps (e (E, D) or NULL
       for no edge term); 0 for a node without incoming edges. SOFTMAX also writes aux (N, D) =
       log sum_k exp(t m_kc); MAX writes argmax (N * D) = the winning edge id (the first in CSR
       order on ties, -1 for none). param is the device scalar t (SOFTMAX) or p (POWER), or NULL
       to use param_value. */
    void (*gen_aggregate_forward)(rg_ctx *ctx, rg_real *out, rg_real *aux, int32_t *argmax, const rg_real *x,
                                  const rg_real *e, const int64_t *rowptr, const int32_t *src, int64_t n_nodes,
                                  int64_t dim, rg_aggr aggr, double eps, const rg_real *param, double param_value);
    /* Its backward given dout (N, D), with out/aux/argmax from the forward: for each source node
       j, gathers over its outgoing edges (t_rowptr/t_edge, destinations dst) and writes
       dx (N, D) = dL/dx, de (E, D) = dL/de and dparam_part (N) = node j's share of dL/dparam;
       each is skipped when NULL. The caller sums dparam_part in a fixed order. */
    void (*gen_aggregate_backward)(rg_ctx *ctx, rg_real *dx, rg_real *de, rg_real *dparam_part, const rg_real *dout,
                                   const rg_real *out, const rg_real *aux, const int32_t *argmax, const rg_real *x,
                                   const rg_real *e, const int64_t *rowptr, const int32_t *dst,
                                   const int64_t *t_rowptr, const int64_t *t_edge, int64_t n_nodes, int64_t dim,
                                   rg_aggr aggr, double eps, const rg_real *param, double param_value);
    /* MsgNorm: h (rows, cols) row i = s * ||x_i|| * agg_i / max(||agg_i||, RG_MSGNORM_FLOOR),
       s = *scale, or 1 when scale is NULL */
    void (*msgnorm_forward)(rg_ctx *ctx, rg_real *h, const rg_real *agg, const rg_real *x, const rg_real *scale,
                            int64_t rows, int64_t cols);
    /* its backward given dh: dagg and dx (the path through ||x_i||) written, dscale_part (rows)
       = row i's share of dL/ds (skipped when NULL) */
    void (*msgnorm_backward)(rg_ctx *ctx, rg_real *dagg, rg_real *dx, rg_real *dscale_part, const rg_real *dh,
                             const rg_real *agg, const rg_real *x, const rg_real *scale, int64_t rows, int64_t cols);
    /* ---- losses and optimiser ---- */
    /* Binary cross-entropy with logits on x (rows, cols) against targets y:
       dlogits = scale * mask * (sigmoid(x) - y); returns sum of mask * (max(x, 0) - x y +
       log1p(exp(-|x|))) in double. mask is (rows, mask_cols) with mask_cols == cols (per
       entry) or 1 (per row), or NULL for all ones. dlogits may alias logits. */
    double (*bce_logits)(rg_ctx *ctx, rg_real *dlogits, const rg_real *logits, const rg_real *targets,
                         const rg_real *mask, int64_t rows, int64_t cols, int64_t mask_cols, double scale);
    /* Softmax cross-entropy of the listed rows r = rows[k], k < n (rows NULL: r = k, n = all
       rows) of logits (n_logit_rows, cols) with labels[r] in [0, cols): dlogits[r] = scale *
       (softmax(x_r) - onehot(labels[r])), zero on rows not listed; returns sum of -log
       softmax(x_r)[labels[r]]. An id or label out of range, or a repeated id, is recorded
       in ctx->status (dlogits then untouched or zero). */
    double (*softmax_xent)(rg_ctx *ctx, rg_real *dlogits, const rg_real *logits, const int32_t *labels,
                           const int32_t *rows, int64_t n, int64_t n_logit_rows, int64_t cols, double scale);
    /* One Adam step on n values (PyTorch's Adam, or AdamW when decoupled): step counts this
       one (bias correction 1 - beta^step); params, m, v updated in place. */
    void (*adam)(rg_ctx *ctx, rg_real *params, const rg_real *grads, rg_real *m, rg_real *v, int64_t n,
                 double lr, double beta1, double beta2, double eps, double weight_decay, int decoupled,
                 int64_t step);

    /* ---- graph convolutions: GCN, SAGE, GAT ---- */
    /* SpMM by destination: out (N, dim) = A x (out must not alias x), the incoming edges of i
       being rowptr[i] .. rowptr[i+1]-1 with sources src[e]. A_ij per aggr: SUM 1; MEAN
       inv_deg[i]; GCN gcn_dinv[i] gcn_dinv[j] with explicit self-loops skipped and the
       implicit self-loop gcn_dinv[i]^2 added. Other aggregators are an RG_ERR_ARG. */
    void (*spmm)(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t n_nodes, int64_t dim, rg_aggr aggr,
                 const int64_t *rowptr, const int32_t *src, const rg_real *inv_deg, const rg_real *gcn_dinv);
    /* Its transpose, out (N, dim) = A^T x, as a gather over the outgoing edges of each j:
       edge ids t_edge[t_rowptr[j] .. t_rowptr[j+1]-1], destination dst[e]. */
    void (*spmm_t)(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t n_nodes, int64_t dim, rg_aggr aggr,
                   const int64_t *t_rowptr, const int64_t *t_edge, const int32_t *dst, const rg_real *inv_deg,
                   const rg_real *gcn_dinv);
    /* GAT, H heads of F channels, h (N, H F). Neighbourhood N(i): the sources of i's incoming
       edges (self-loops skipped) plus i itself; z_ij = s_src[j] + s_dst[i] per head,
       alpha_ij = exp(LeakyReLU(z_ij) - lse_i). g_i = dy_i's head slice (concat) or dy_i / H
       (mean), the gradient of the head output.
       gat_scores: s_src (N, H) = a_src . h per head, s_dst (N, H) likewise with a_dst. */
    void (*gat_scores)(rg_ctx *ctx, rg_real *s_src, rg_real *s_dst, const rg_real *h, const rg_real *att_src,
                       const rg_real *att_dst, int64_t n_nodes, int64_t heads, int64_t head_dim);
    /* lse (N, H) = log sum_{j in N(i)} exp(LeakyReLU(z_ij)); agg (N, H F) = sum_j alpha_ij h_j per
       head; y (N, H F or F) = agg (concat) or its mean over heads (no bias) */
    void (*gat_aggregate)(rg_ctx *ctx, rg_real *y, rg_real *agg, rg_real *lse, const rg_real *h,
                          const rg_real *s_src, const rg_real *s_dst, const int64_t *rowptr, const int32_t *src,
                          int64_t n_nodes, int64_t heads, int64_t head_dim, int concat);
    /* gather at destinations: dd (N, H) = g_i . agg_i; ds_dst (N, H) = sum_{j in N(i)} dz_ij with
       dz_ij = alpha_ij (g_i . h_j - dd_i) LeakyReLU'(z_ij) */
    void (*gat_backward_dst)(rg_ctx *ctx, rg_real *ds_dst, rg_real *dd, const rg_real *dy, const rg_real *h,
                             const rg_real *agg, const rg_real *s_src, const rg_real *s_dst, const rg_real *lse,
                             const int64_t *rowptr, const int32_t *src, int64_t n_nodes, int64_t heads,
                             int64_t head_dim, int concat);
    /* gather at sources over the transpose (j -> i, self-loops skipped, plus i = j):
       ds_src (N, H) = sum_i dz_ij; dh (N, H F) = sum_i alpha_ij g_i + ds_src_j a_src + ds_dst_j a_dst */
    void (*gat_backward_src)(rg_ctx *ctx, rg_real *dh, rg_real *ds_src, const rg_real *dy, const rg_real *h,
                             const rg_real *s_src, const rg_real *s_dst, const rg_real *lse, const rg_real *dd,
                             const rg_real *ds_dst, const rg_real *att_src, const rg_real *att_dst,
                             const int64_t *t_rowptr, const int64_t *t_edge, const int32_t *dst, int64_t n_nodes,
                             int64_t heads, int64_t head_dim, int concat);
    /* datt_src (H, F) += sum_j ds_src[j, hd] h_j[hd, :], datt_dst likewise with ds_dst */
    void (*gat_att_grad)(rg_ctx *ctx, rg_real *datt_src, rg_real *datt_dst, const rg_real *ds_src,
                         const rg_real *ds_dst, const rg_real *h, int64_t n_nodes, int64_t heads, int64_t head_dim);
    /* ---- models ---- */
    /* sum_i x_i y_i in double, returned to the host (Broyden) */
    double (*dot)(rg_ctx *ctx, const rg_real *x, const rg_real *y, int64_t n);
    /* between node-major (N, C * W) and group-major (C, N, W) layouts */
    void (*regroup)(rg_ctx *ctx, rg_real *dst, const rg_real *src, int64_t groups, int64_t n, int64_t width,
                    int to_group_major);
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
    int64_t n_names;      /* views handed out (recorded or not) */
    int64_t cap_names;
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
   variance for the running estimate, as PyTorch (so batch statistics need N > 1).
   Parameters are named name + "weight"/"bias", buffers name + "running_mean"/"running_var".
   A cache allocated for n rows serves any N <= n. */
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
/* dx = (dx may alias dy); grad->gamma, grad->beta += . EVAL differentiates the affine map
   with the running statistics. */
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
   ((mean_j m_ij^p)^(1/p), learnable p; no clamping, so POWER needs eps > 0 and p != 0).
   Nodes with no incoming edge aggregate to 0. MsgNorm floors ||h_i|| at RG_MSGNORM_FLOOR
   (as torch's normalize), so a zero aggregation stays 0 instead of dividing by zero.
   The edge input (E, edge_dim) is in the graph's CSR edge order, like g->edge_feat.
   A cache allocated for n_nodes and n_edges serves any graph at most that large. */
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
#define RG_MSGNORM_FLOOR 1e-12
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
    rg_tensor scratch;     /* (N, 3 dim) backward scratch */
    rg_tensor escratch;    /* (E, dim) edge-gradient scratch (edge_dim > 0) */
    rg_tensor stats;       /* (2, N) per-node shares of dL/d(t or p) and dL/ds, when learned */
    int64_t n_nodes, n_edges;
} rg_gen_cache;
RGDEF rg_gen_config rg_gen_config_default(int64_t dim); /* softmax, t = 1 learned, no MsgNorm, layer norm, eps 1e-7 */
/* names: name + "edge_encoder.weight"/".bias", "t", "p", "msg_norm.scale", then the MLP as
   "mlp.0." (Linear 1), "mlp.1." (norm), "mlp.3." (Linear 2), PyTorch Sequential style */
RGDEF void rg_gen_bind(rg_gen *p, rg_binder *b, const rg_gen_config *cfg, const char *name);
#include <limits.h>
/* Linear layers as rg_linear_init (streams stream .. stream + 5), norm as rg_norm_init, t and p
   from the config, s = 1 */
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
/* names: name + "weight", name + "bias" */
RGDEF void rg_gcn_bind(rg_gcn *p, rg_binder *b, int64_t in, int64_t out, const char *name);
/* as PyG: W Glorot uniform (+-sqrt(6 / (in + out))), bias 0 */
RGDEF rg_status rg_gcn_init(rg_ctx *ctx, const rg_gcn *p, uint64_t stream);
RGDEF rg_status rg_gcn_cache_alloc(rg_ctx *ctx, rg_gcn_cache *cache, int64_t out, int64_t n_nodes);
RGDEF void rg_gcn_cache_free(rg_ctx *ctx, rg_gcn_cache *cache);
/* y (N, out) = GCN(x (N, in)); cache written */
RGDEF rg_status rg_gcn_forward(rg_ctx *ctx, rg_tensor y, rg_gcn_cache *cache, rg_tensor x, const rg_graph *g,
                               const rg_gcn *p);
/* dx = (A^T dy) W^T; grad->lin.W += x^T (A^T dy); grad->lin.b += sum_rows dy */
RGDEF rg_status rg_gcn_backward(rg_ctx *ctx, rg_tensor dx, const rg_gcn *grad, rg_tensor dy, rg_tensor x,
                                const rg_graph *g, rg_gcn_cache *cache, const rg_gcn *p);

/* SAGEConv: y = mean_j x_j W_l + b + x W_r (mean over incoming edges, 0 for none). */
typedef struct rg_sage {
    rg_linear lin_l;       /* (in, out) + bias: the neighbour mean */
    rg_linear lin_r;       /* (in, out), no bias: the root */
} rg_sage;
typedef struct rg_sage_cache {
    rg_tensor mean;        /* (N, in) neighbour mean, for dW_l */
    rg_tensor dmean;       /* (N, in) backward scratch: the mean's gradient */
    int64_t n_nodes;
} rg_sage_cache;
/* names: name + "lin_l.weight", "lin_l.bias", "lin_r.weight" */
RGDEF void rg_sage_bind(rg_sage *p, rg_binder *b, int64_t in, int64_t out, const char *name);
/* as PyG: rg_linear_init for lin_l (streams stream, stream + 1) and lin_r (stream + 2) */
RGDEF rg_status rg_sage_init(rg_ctx *ctx, const rg_sage *p, uint64_t stream);
RGDEF rg_status rg_sage_cache_alloc(rg_ctx *ctx, rg_sage_cache *cache, int64_t in, int64_t n_nodes);
RGDEF void rg_sage_cache_free(rg_ctx *ctx, rg_sage_cache *cache);
/* y (N, out) = SAGE(x (N, in)); cache written */
RGDEF rg_status rg_sage_forward(rg_ctx *ctx, rg_tensor y, rg_sage_cache *cache, rg_tensor x, const rg_graph *g,
                                const rg_sage *p);
/* dx = A_mean^T (dy W_l^T) + dy W_r^T; grad->lin_l.W += mean^T dy, grad->lin_l.b += sum_rows dy,
   grad->lin_r.W += x^T dy. */
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
#define RG_GAT_NEG_SLOPE 0.2 /* LeakyReLU slope of the scores */
/* H F (concat) or F (mean); 0 for an invalid config (a size < 1) */
RGDEF int64_t rg_gat_out_dim(const rg_gat_config *cfg);
/* names: name + "weight", "att_src", "att_dst", "bias"; an invalid config binds empty views */
RGDEF void rg_gat_bind(rg_gat *p, rg_binder *b, const rg_gat_config *cfg, const char *name);
/* as PyG: W, att_src, att_dst Glorot uniform (+-sqrt(6 / (rows + cols))), streams stream ..
   stream + 2; bias 0 */
RGDEF rg_status rg_gat_init(rg_ctx *ctx, const rg_gat *p, const rg_gat_config *cfg, uint64_t stream);
RGDEF rg_status rg_gat_cache_alloc(rg_ctx *ctx, rg_gat_cache *cache, const rg_gat_config *cfg, int64_t n_nodes);
RGDEF void rg_gat_cache_free(rg_ctx *ctx, rg_gat_cache *cache);
/* y (N, out) = GAT(x (N, in)); cache written */
RGDEF rg_status rg_gat_forward(rg_ctx *ctx, rg_tensor y, rg_gat_cache *cache, rg_tensor x, const rg_graph *g,
                               const rg_gat *p, const rg_gat_config *cfg);
/* dx = ; grad->W, att_src, att_dst, bias += */
RGDEF rg_status rg_gat_backward(rg_ctx *ctx, rg_tensor dx, const rg_gat *grad, rg_tensor dy, rg_tensor x,
                                const rg_graph *g, rg_gat_cache *cache, const rg_gat *p, const rg_gat_config *cfg);

/* ============================== models ============================== */

/* A model is: node encoder Linear(in, D) [+ edge encoder Linear(edge_dim, W) when the graph
   has edge features and the conv is GEN] -> L blocks -> head Norm -> ReLU -> Dropout ->
   Linear(D, out). W is the width one conv sees: D / groups for rev and wt-rev, else D.
   Architectures:
   - RES: pre-activation residual blocks x + Conv(Dropout(ReLU(Norm(x)))), every layer's
     activations stored for backward (memory grows with L: the paper's baseline);
   - RES_CKPT: the same network, storing only every ceil(sqrt(L))-th state and recomputing
     each segment in backward;
   - REV: grouped reversible blocks (C >= 2 groups), in place, one recomputation of each
     group's function in backward, only one group's intermediates alive;
   - WT_RES, WT_REV: one parameter set (per group) shared by every layer;
   - DEQ: Z* = f(Z*, X) solved by limited-memory Broyden; implicit backward.
   Dropout: reversible blocks share one mask per (step seed, group) across layers, as their
   reconstruction needs (the paper's shared dropout), and DEQ one mask across iterations; the
   residual family draws a fresh mask per layer, as DeeperGCN's res+ baseline does, unless
   res_shared_dropout asks for the shared one. */
typedef enum rg_arch { RG_ARCH_RES = 0, RG_ARCH_RES_CKPT, RG_ARCH_REV, RG_ARCH_WT_RES, RG_ARCH_WT_REV, RG_ARCH_DEQ } rg_arch;
typedef enum rg_conv_kind { RG_CONV_GEN = 0, RG_CONV_GCN, RG_CONV_SAGE, RG_CONV_GAT } rg_conv_kind;

typedef struct rg_config {
    rg_arch arch;
    rg_conv_kind conv;
    rg_aggr aggr;           /* GEN aggregator (SUM, MEAN, MAX, SOFTMAX, POWER) */
    rg_norm_kind norm;      /* the norm of every block, of GEN's MLP and of the head */
    int64_t layers;         /* L >= 1 (DEQ: default forward iteration cap); RES also takes 0: an MLP */
    int64_t hidden;         /* D */
    int64_t groups;         /* C: >= 2 for rev and wt-rev, must divide D; 1 otherwise */
    int64_t heads;          /* GAT heads (must divide the conv width) */
    double dropout;         /* in [0, 1) */
    double input_dropout;   /* dropout on the node features before the encoder, in [0, 1) */
    int64_t in_dim;         /* node feature width */
    int64_t edge_dim;       /* edge feature width, 0 for none (used by GEN only) */
    int64_t out_dim;        /* outputs per node (tasks or classes) */
    int msg_norm;           /* GEN MsgNorm with a learnable scale */
    int deq_max_iter;       /* Broyden iteration cap, forward and backward (0: use layers) */
    double deq_tol;         /* relative residual ||f(z) - z|| / ||f(z)|| to stop at */
    int deq_memory;         /* Broyden rank-one updates kept (m) */
    uint64_t seed;          /* parameter initialisation */
    int store_activations;  /* REV only, a test oracle: keep every block's input instead of
                               reconstructing it (memory grows with L) */
    int res_shared_dropout; /* RES, RES_CKPT, WT_RES only: one dropout mask for every layer, as
                               reversible blocks use, instead of a fresh mask per layer */
} rg_config;

RGDEF rg_config rg_config_default(void);
/* RG_OK, or RG_ERR_ARG naming the field that cannot work. */
RGDEF rg_status rg_config_check(const rg_config *cfg);
RGDEF const char *rg_arch_name(rg_arch a);
RGDEF const char *rg_conv_name(rg_conv_kind c);
RGDEF const char *rg_aggr_name(rg_aggr a);
RGDEF const char *rg_norm_name(rg_norm_kind n);
/* Names as printed by the *_name functions ("rev", "wt-rev", "gen", "softmax", "layer"...). */
RGDEF rg_status rg_arch_parse(const char *s, rg_arch *out);
RGDEF rg_status rg_conv_parse(const char *s, rg_conv_kind *out);
RGDEF rg_status rg_aggr_parse(const char *s, rg_aggr *out);
RGDEF rg_status rg_norm_parse(const char *s, rg_norm_kind *out);

typedef struct rg_model rg_model;

/* What the last DEQ solves did (zeros for other architectures). */
typedef struct rg_deq_stats {
    int forward_iters;
    double forward_residual;   /* relative, at the returned fixed point */
    int backward_iters;
    double backward_residual;
    int converged;             /* both solves reached deq_tol */
} rg_deq_stats;

/* Allocates parameters, gradients and Adam moments, and initialises the parameters from
   cfg->seed. Activation buffers come later, when the model first meets a graph size. */
RGDEF rg_status rg_model_create(rg_ctx *ctx, const rg_config *cfg, rg_model **out);
RGDEF void rg_model_destroy(rg_model *m);
RGDEF const rg_config *rg_model_config(const rg_model *m);
RGDEF int64_t rg_model_num_params(const rg_model *m);
/* Every parameter and buffer as a named view: offsets into the blocks below. */
RGDEF const rg_param_name *rg_model_params(const rg_model *m, int64_t *count);
RGDEF rg_tensor rg_model_param_block(const rg_model *m);   /* (1, n_params) */
RGDEF rg_tensor rg_model_grad_block(const rg_model *m);    /* (1, n_params) */
RGDEF rg_tensor rg_model_adam_m_block(const rg_model *m);  /* (1, n_params) */
RGDEF rg_tensor rg_model_adam_v_block(const rg_model *m);  /* (1, n_params) */
RGDEF rg_tensor rg_model_buffer_block(const rg_model *m);  /* (1, n_buffers) BatchNorm running statistics */
/* Sizes the activation buffers for graphs of up to n_nodes nodes and n_edges edges (grow
   only). Forward calls it itself; calling it first keeps allocation out of the first step. */
RGDEF rg_status rg_model_reserve(rg_model *m, int64_t n_nodes, int64_t n_edges);
/* out (N, out_dim) = model(x (N, in_dim)) on device graph g. TRAIN keeps what backward
   needs; g and x must stay alive and unchanged until rg_model_backward. seed picks the
   dropout masks of this step. */
RGDEF rg_status rg_model_forward(rg_model *m, rg_tensor out, const rg_graph *g, rg_tensor x, rg_mode mode,
                                 uint64_t seed);
/* After a TRAIN forward: gradients += dL/dparams for dL/dout = dout; dx = dL/dx when dx.data
   is not NULL. Once per forward: reversible blocks rebuild their inputs in place, so a second
   call before the next forward is refused. */
RGDEF rg_status rg_model_backward(rg_model *m, rg_tensor dx, rg_tensor dout);
RGDEF rg_status rg_model_zero_grad(rg_model *m);
RGDEF rg_deq_stats rg_model_deq_stats(const rg_model *m);
/* The hidden state: after forward, the last block's output; after backward, the first
   block's input as reconstructed (group-major (C, N, D/C)). For tests and diagnostics. */
RGDEF rg_tensor rg_model_state(const rg_model *m);

/* Peak device bytes of one training step (forward, backward, Adam) on a graph of n_nodes
   nodes and n_edges edges with edge_dim-wide features, counting parameters, gradients,
   Adam moments, buffers, the graph, the features, the output and its gradient, and every
   activation and scratch buffer. Computed by running the model's own allocation path
   against a counting backend that allocates nothing. */
typedef struct rg_memory_plan {
    size_t state;       /* parameters + gradients + Adam moments + buffers */
    size_t data;        /* the device graph, features, output and its gradient */
    size_t activations; /* everything else at the peak */
    size_t total;
} rg_memory_plan;
RGDEF rg_status rg_model_memory_plan(const rg_config *cfg, int64_t n_nodes, int64_t n_edges, rg_memory_plan *plan);

/* ============================== losses and metrics ============================== */

/* Binary cross-entropy with logits (N, T) against targets (N, T), averaged over the entries
   where mask is 1: mask is (N, T) per entry, (N, 1) per row, or data NULL for every entry;
   its values are 0 or 1. Writes the loss and dlogits (N, T) = dL/dlogits (zero where
   masked out; may be logits itself). No selected entry is RG_ERR_ARG. */
RGDEF rg_status rg_bce_logits(rg_ctx *ctx, double *loss, rg_tensor dlogits, rg_tensor logits, rg_tensor targets,
                              rg_tensor mask);
/* Softmax cross-entropy of logits (N, C) averaged over rows[0..n_rows-1] (distinct device
   int32 ids; rows NULL: every row, n_rows ignored) with labels (device int32, one per row of
   logits, in [0, C) on the rows used). Writes the loss and dlogits (N, C) (zero on rows not
   listed). An id or label out of range, or a repeated id, is RG_ERR_ARG. */
RGDEF rg_status rg_softmax_xent(rg_ctx *ctx, double *loss, rg_tensor dlogits, rg_tensor logits,
                                const int32_t *labels, const int32_t *rows, int64_t n_rows);
/* Metrics, as the OGB Evaluator computes them, on host arrays. scores and targets are
   (n_rows, n_tasks) row-major; rows[0..n_sel-1] selects the rows scored (ids in [0, n_rows);
   rows NULL: every row, n_sel ignored).
   rg_rocauc: ROC-AUC of each task over the selected rows whose target is 0 or 1 (NaN means
   unlabelled), by the Mann-Whitney U statistic with midranks for tied scores; *out = the
   mean over the tasks that have both classes there, *n_valid_tasks (may be NULL) = their
   count. No such task is RG_ERR_ARG; a target other than 0, 1, NaN is RG_ERR_ARG; a
   non-finite score RG_ERR_NUMERIC. */
RGDEF rg_status rg_rocauc(const rg_real *scores, const rg_real *targets, int64_t n_rows, int64_t n_tasks,
                          const int32_t *rows, int64_t n_sel, double *out, int64_t *n_valid_tasks);
/* rg_accuracy: the fraction of selected rows whose argmax over the n_classes scores (the first
   one on ties) equals labels[row] (labels (n_rows) in [0, n_classes), else RG_ERR_ARG). */
RGDEF rg_status rg_accuracy(const rg_real *scores, const int32_t *labels, int64_t n_rows, int64_t n_classes,
                            const int32_t *rows, int64_t n_sel, double *out);

/* ============================== Adam ============================== */

typedef struct rg_adam {
    double lr, beta1, beta2, eps;
    double weight_decay;   /* L2 added to the gradient (Adam) or decoupled (AdamW) */
    int decoupled;         /* 1: AdamW */
    int64_t step;          /* steps taken; bias correction uses step after increment */
} rg_adam;
RGDEF rg_adam rg_adam_default(double lr); /* betas 0.9, 0.999, eps 1e-8, no decay */
/* One step over flat blocks of equal size: params, grads, first and second moments (m, v
   zeroed before the first step), as PyTorch's Adam / AdamW:
   g = grad (+ wd p unless decoupled); p -= lr wd p (decoupled); m = b1 m + (1 - b1) g;
   v = b2 v + (1 - b2) g^2; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
RGDEF rg_status rg_adam_step(rg_ctx *ctx, rg_adam *opt, rg_tensor params, rg_tensor grads, rg_tensor m, rg_tensor v);
/* Scales grads by max_norm / (norm + 1e-6) when that is below 1, so their global L2 norm is
   at most max_norm (PyTorch's clip_grad_norm_); *norm gets the norm before. A non-finite
   norm is RG_ERR_NUMERIC and leaves grads alone. */
RGDEF rg_status rg_clip_grad_norm(rg_ctx *ctx, rg_tensor grads, double max_norm, double *norm);
/* One Adam step on the parameters with the model's gradients and moments. */
RGDEF rg_status rg_model_adam_step(rg_model *m, rg_adam *opt);

/* ============================== data ============================== */

/* A node-property dataset on the host: a graph, node features, targets and a split.
   Load one in the OGB raw layout (rg_dataset_load_ogb) or generate a proteins-like one
   (rg_dataset_synthetic); free it with rg_dataset_free. */
typedef enum rg_task {
    RG_TASK_MULTILABEL = 0, /* n_tasks binary tasks per node (ogbn-proteins): y */
    RG_TASK_MULTICLASS      /* one class per node (ogbn-arxiv, products, cora): labels */
} rg_task;
typedef struct rg_dataset {
    rg_graph graph;        /* host graph (ctx NULL) with the reverse of every stored edge added;
                              edge features (E, edge_dim) carried onto both directions */
    int64_t n_nodes;       /* N */
    rg_real *x;            /* (N, x_dim) node features, NULL when x_dim is 0 */
    int64_t x_dim;
    rg_task task;
    rg_real *y;            /* MULTILABEL: (N, n_tasks) 0/1 targets; else NULL */
    int32_t *labels;       /* MULTICLASS: (N) class ids in [0, n_tasks); else NULL */
    int64_t n_tasks;       /* MULTILABEL: tasks; MULTICLASS: classes (largest id + 1) */
    int32_t *species;      /* (N) species index in [0, n_species), or NULL */
    int64_t n_species;
    int32_t *split[3];     /* (split_size[k]) train, valid, test node ids, in file order */
    int64_t split_size[3];
} rg_dataset;
/* The longest CSV line the loader reads, in bytes: a cap on its line buffer, so that a file
   with no line ends is refused by name (RG_ERR_FORMAT) instead of doubling a buffer until
   memory runs out. 64 MiB is 40 000 times the longest line of any OGB node-property dataset
   (ogbn-papers100M's 128 features, about 1.6 KB). */
#define RG_CSV_MAX_LINE ((size_t)1 << 26)
typedef struct rg_dataset_options {
    const char *split;     /* folder under split/ ("species", "time"), NULL = the only one there */
    int species_onehot;    /* append a one-hot species encoding (N, n_species) to x */
    size_t max_line;       /* longest line accepted in any file, bytes (0: RG_CSV_MAX_LINE) */
} rg_dataset_options;
RGDEF rg_dataset_options rg_dataset_options_default(void); /* the only split, no one-hot, RG_CSV_MAX_LINE */
/* Loads a dataset in the OGB raw node-property layout from dir (decompressed .csv files, no
   header; data/fetch.sh makes them):
      raw/edge.csv          E rows "u,v", 0-based; each edge stored once: (v,u) is added
      raw/node-label.csv    N rows: one integer (MULTICLASS) or n_tasks 0/1 integers (MULTILABEL)
      split/<name>/{train,valid,test}.csv   one node id per row
   and, when present:
      raw/num-node-list.csv, raw/num-edge-list.csv   one row: N, E (checked against the files)
      raw/node-feat.csv     N rows of F reals: x
      raw/edge-feat.csv     E rows of F' reals: the edge features
      raw/node_species.csv  N rows, one integer taxon id; the distinct ids, ascending, become
                            species 0 .. n_species-1
   Without node features, x is the sum of each node's incident edge features (over its
   incoming edges once the reverse edges are added, as for ogbn-proteins); with
   species_onehot, the one-hot species follows in the last n_species columns.
   Every line is validated: a malformed number, a value beyond rg_real's range (read, or
   summed into x), a wrong column count, a line longer than max_line, a node id out of range
   or repeated in a split, an empty split, a class id not below N, a count larger than its
   file can hold, or row counts that disagree between files is RG_ERR_FORMAT; a missing
   folder or required file RG_ERR_IO; each with a message "path:line: ..." that names the
   value (invisible bytes shown as \xNN). As OGB's own reader, a UTF-8 BOM at the start of a
   file, one empty last line, and an empty edge-feat.csv when there are no edges are fine. ctx (may be NULL) only goes to REVGNN_MALLOC for the dataset's arrays; on failure
   *out is zeroed and nothing is held. */
RGDEF rg_status rg_dataset_load_ogb(rg_ctx *ctx, const char *dir, const rg_dataset_options *options,
                                    rg_dataset *out); /* not under REVGNN_NO_STDIO */
/* Frees every array of ds (ctx as given to the loader; NULL for synthetic datasets) and zeroes it. */
RGDEF void rg_dataset_free(rg_ctx *ctx, rg_dataset *ds);

/* A proteins-like synthetic dataset (MULTILABEL, edge features, species), deterministic in
   the seed (counter RNG), whose labels depend on the neighbourhood: with the defaults,
   logistic regression on x reaches a test ROC-AUC of 0.78, on [x, mean of the neighbours'
   x] 0.89, adding the 2-hop mean 0.90 (the cluster term rewards aggregating further).
   Generating process, N = nodes, K = max(n_species, N / 100) clusters (at most N):
   - node i joins cluster c_i uniform in [0, K); its species is c_i mod n_species;
   - N * avg_degree / 2 (rounded down) undirected edges; edge k starts at u = k mod N and ends, with
     probability 0.8, at another node of u's cluster, else at any other node (uniform);
     the reverse edges are added, so the mean in-degree is avg_degree;
   - edge features: e_kf = 0.2 mu_{c_u, f} + 0.8 U_kf in [0, 1), with cluster centres mu and
     noise U uniform in [0, 1): one node's own features say little about its cluster;
   - x: the sum of each node's incident edge features (+ one-hot species), exactly as the
     loader builds ogbn-proteins' node features;
   - task t: w_t ~ N(0, I) over the edge_dim feature columns, h_it = mean over the
     neighbours j of i of x_j . w_t, v_it = h_it + sigma_t b_{c_i, t} with b ~ N(0, 1) and
     sigma_t the standard deviation of h_.t over nodes; y_it = 1 when v_it exceeds the
     q_t-quantile of v_.t, q_t uniform in [0.5, 0.9): positive rates in (10%, 50%];
   - split: a random permutation cut 60/20/20 (rg_graph_partition into 5 parts: parts 0-2
     train, 3 valid, 4 test), ids ascending. */
typedef struct rg_synthetic_options {
    int64_t nodes;         /* N >= 5 */
    int64_t avg_degree;    /* mean in-degree after reverse edges, >= 2 */
    int64_t n_tasks;       /* binary tasks, >= 1 */
    int64_t n_species;     /* >= 1 */
    int64_t edge_dim;      /* edge feature width, >= 1 */
    uint64_t seed;
    int species_onehot;    /* append the one-hot species to x, as the loader option */
} rg_synthetic_options;
/* 4000 nodes, degree 30, 112 tasks, 8 species, edge_dim 8, seed 1, no one-hot */
RGDEF rg_synthetic_options rg_synthetic_options_default(void);
/* out is zeroed on failure; free with rg_dataset_free(NULL, out). */
RGDEF rg_status rg_dataset_synthetic(const rg_synthetic_options *options, rg_dataset *out);

/* ============================== checkpoints ============================== */

/* safetensors files (8-byte little-endian header length, a JSON header, raw tensors), so
   Python can open them with the `safetensors` package. They hold every parameter and buffer
   under its model name, the Adam moments as "adam_m.<name>" and "adam_v.<name>", and in
   __metadata__ the configuration, the epoch and the optimiser's state.
   Saving writes "<path>.<pid>-<n>.tmp" beside the target (created exclusively, locked, synced
   to disk) and renames it into place; a failed save removes it. So a crash (kill, power cut)
   leaves the target as the old file or the whole new one, never half of one, and at most
   that one temporary file beside it, which the next save or rg_checkpoint_writable for the
   same path removes once its process is gone (on a file system without POSIX locks it stays).
   Without POSIX (no unistd.h) the temporary file is "<path>.tmp", replaced by the next save.
   epoch and opt->step must lie in [0, INT64_MAX - 1] (so the next one fits), opt's values
   in the ranges rg_adam_step accepts, finite. */
RGDEF rg_status rg_checkpoint_save(const rg_model *m, const rg_adam *opt, int64_t epoch, const char *path);
/* Loading checks names, shapes, dtype, the configuration (naming each field that differs),
   the layout (no overlapping tensors), that every value is finite and every metadata value
   in range, and reads nothing into the model, opt or epoch unless all of it is good. opt and
   epoch may be NULL (weights only). */
RGDEF rg_status rg_checkpoint_load(rg_model *m, rg_adam *opt, int64_t *epoch, const char *path);
/* RG_OK when a checkpoint can be saved at path (a program checks before it trains): creates
   and removes a temporary file beside it. RG_ERR_IO naming the path when path is a directory
   or its folder is missing or not writable. */
RGDEF rg_status rg_checkpoint_writable(const char *path);
/* The configuration as "key=value" pairs separated by spaces (what checkpoints store). */
RGDEF void rg_config_format(const rg_config *cfg, char *buf, size_t size);

/* ============================== training helpers ============================== */

/* A batch: a graph on the device with its nodes' rows of a dataset, and the outputs. */
typedef struct rg_batch {
    rg_graph graph;        /* device graph (an induced subgraph, or the whole graph) */
    int64_t n;             /* nodes */
    int32_t *nodes;        /* (n) host: the dataset id of each batch node */
    rg_tensor x;           /* (n, x_dim) features */
    rg_tensor y;           /* MULTILABEL: (n, n_tasks) targets */
    rg_tensor mask;        /* MULTILABEL: (n, 1) 1 on training nodes, else 0 */
    int32_t *labels;       /* MULTICLASS: (n) device class ids */
    int32_t *train_rows;   /* MULTICLASS: (n_train) device batch rows of training nodes */
    int64_t n_train;       /* training nodes in the batch */
    rg_tensor out, dout;   /* (n, n_tasks) model outputs and their gradient */
} rg_batch;

/* The subgraph of ds induced by nodes[0..n-1] (nodes NULL: the whole graph, n ignored), on
   ctx's device, with its rows of x and the targets. */
RGDEF rg_status rg_batch_make(rg_ctx *ctx, const rg_dataset *ds, const int32_t *nodes, int64_t n, rg_batch *b);
RGDEF void rg_batch_free(rg_ctx *ctx, rg_batch *b);

/* Called after each step of an epoch or each part of a prediction (examples draw a progress
   bar with it); may be NULL. */
typedef void (*rg_progress_fn)(void *user, int64_t done, int64_t total);

/* One epoch of the paper's mini-batch training: a fresh random partition of the nodes into
   n_parts (drawn from seed and epoch, so a resumed run repeats it), one induced subgraph per
   step, the loss (BCE for MULTILABEL, cross-entropy for MULTICLASS) on that part's training
   nodes, backward and an Adam step. n_parts = 1 is full-batch training. *mean_loss = the
   mean of the steps' losses. Parts without training nodes are skipped. */
RGDEF rg_status rg_train_epoch(rg_model *m, rg_adam *opt, const rg_dataset *ds, int64_t n_parts, uint64_t seed,
                               int64_t epoch, double *mean_loss, rg_progress_fn progress, void *user);
/* Outputs for every node into scores (host, (N, n_tasks)): EVAL forwards on the induced
   subgraphs of a random partition into n_parts, averaged over n_views independent
   partitions (multi-view inference, the paper's Table 3). n_parts = 1: the whole graph. */
RGDEF rg_status rg_predict(rg_model *m, const rg_dataset *ds, int64_t n_parts, int64_t n_views, uint64_t seed,
                           rg_real *scores, rg_progress_fn progress, void *user);
/* The task's metric on each split (train, valid, test): mean ROC-AUC over tasks for
   MULTILABEL, accuracy for MULTICLASS. */
RGDEF rg_status rg_evaluate(const rg_dataset *ds, const rg_real *scores, double metric[3]);

#ifdef __cplusplus
}
#endif
#endif /* REVGNN_H */

/* ################################ implementation ################################ */

#if defined(REVGNN_IMPLEMENTATION) && !defined(REVGNN_IMPLEMENTATION_DONE)
#define REVGNN_IMPLEMENTATION_DONE

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#ifndef REVGNN_NO_STDIO
#include <errno.h>
#if defined(__unix__) || defined(__APPLE__)
#include <dirent.h> /* finding the only split folder of a dataset */
#include <sys/stat.h> /* telling a folder from a data file */
#define RG__HAVE_DIRENT 1
#endif
#if defined(__unix__) || defined(__APPLE__)
/* checkpoints: temporary files created exclusively, locked while written, synced */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define RG__HAVE_POSIX_IO 1
#endif
#endif

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
#else
#define RG__OMP 0
#endif
/* Threads: OpenMP switches them on and counts them (OMP_NUM_THREADS); the parallel loops run
   on the library's own pool (below), whose idle threads spin only briefly when other
   processes want the cores, where libgomp's keep spinning and take the CPU from them.
   Without POSIX threads and GNU atomics the ops run on the calling thread. */
#if RG__OMP && (defined(__unix__) || defined(__APPLE__)) && (defined(__GNUC__) || defined(__clang__))
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h> /* getpid: a forked child has none of its parent's threads */
#define RG__THREADS 1
#else
#define RG__THREADS 0
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

/* Messages name paths, and paths have no length limit, so no buffer holds every message. This
   one holds any path Linux accepts (PATH_MAX 4096) twice over with room for the text around it;
   a longer message is cut after a whole word and ends with "..." (see rg__verror). A heap
   buffer would have to be freed at thread exit and could fail while reporting an OOM. */
#define RG__ERROR_CAP 10240
static RG__THREAD_LOCAL char rg__error_message[RG__ERROR_CAP];

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

/* The message, then " [file:line]" when file is given. One that does not fit is cut at the last
   space of its final 64 bytes (in a longer word: before a UTF-8 character, never inside one) and
   ends with "..." before the location, so no word or character shows cut in half. */
static rg_status rg__verror(rg_status status, const char *file, int line, const char *fmt, va_list ap) {
    char where[96] = "";
    size_t nw, cut, k;
    int n;
    if (file) snprintf(where, sizeof where, " [%.64s:%d]", file, line);
    nw = strlen(where);
    n = vsnprintf(rg__error_message, sizeof rg__error_message, fmt, ap);
    cut = n < 0 ? 0 : (size_t)n; /* n < 0: an encoding error, nothing formatted */
    if (cut + nw >= sizeof rg__error_message) {
        cut = sizeof rg__error_message - nw - 4; /* room for "..." and the terminator */
        for (k = cut; k > cut - 64 && rg__error_message[k] != ' '; k--) {}
        if (rg__error_message[k] == ' ') cut = k;
        else
            while (cut > 0 && ((unsigned char)rg__error_message[cut] & 0xC0) == 0x80) cut--;
        memcpy(rg__error_message + cut, "...", 3);
        cut += 3;
    }
    memcpy(rg__error_message + cut, where, nw + 1);
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
/* Ops return void and record their first failure in the context. Only from the thread that
   called the op, never inside a parallel loop: the message buffer is thread-local. */
#define RG__OP_FAIL(ctx, st, ...) \
    do { if ((ctx)->status == RG_OK) (ctx)->status = RG__FAIL((st), __VA_ARGS__); } while (0)

#ifndef REVGNN_NO_STDIO /* only file names need it */
/* a + b + c in a new REVGNN_MALLOC'd string (NULL with an OOM error recorded): names built at their
   true length, never cut to a fixed buffer */
static char *rg__str_join(const char *a, const char *b, const char *c) {
    size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
    char *s = (char *)REVGNN_MALLOC(NULL, na + nb + nc + 1);
    if (!s) {
        rg__fail_at(__FILE__, __LINE__, RG_ERR_OOM, "out of host memory for a %zu-byte name", na + nb + nc + 1);
        return NULL;
    }
    memcpy(s, a, na);
    memcpy(s + na, b, nb);
    memcpy(s + na + nb, c, nc + 1);
    return s;
}
#endif

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

/* ---- threads: the pool the CPU ops and graph building run their loops on ---- */

/* One parallel loop's work: indices [begin, end) of its range. thread is below the job's
   thread count, for private buffers. Every loop writes results that do not depend on which
   thread runs which indices, so any thread count gives the same bits. */
typedef void (*rg__range_fn)(void *arg, int64_t begin, int64_t end, int thread);

/* Chunk sizes: RG__GRAIN_SPLIT cuts the range into about four chunks per thread, so a thread
   that another process slows down leaves part of its share to the others; RG__GRAIN_ROWS
   suits graph rows of skewed degree; 1 hands out a few large units one at a time. */
#define RG__GRAIN_SPLIT 0
#define RG__GRAIN_ROWS 64

/* Polls (about 30 ns each on recent x86) a waiting thread makes before it sleeps. While the
   machine has a core for every runnable thread, the long spin bridges the host work between
   ops: a thread that sleeps there hands its core back to the hypervisor of a virtual
   machine, which can take long to return it (measured: 15-40 % slower runs, all of it steal
   time). When more threads are runnable than there are cores, the short spin leaves the
   cores to the processes that share them. */
#ifndef REVGNN_SPIN_POLLS
#define REVGNN_SPIN_POLLS 131072
#endif
#ifndef REVGNN_SPIN_POLLS_CROWDED
#define REVGNN_SPIN_POLLS_CROWDED 4096
#endif
/* a worker re-reads how crowded the machine is after this many waits, and after each sleep */
#define RG__CROWD_CHECK_WAITS 256

typedef struct rg__pool rg__pool;

#if RG__THREADS
typedef struct rg__pool_worker {
    rg__pool *pool;
    int id; /* 1.. (the caller is 0) */
    pthread_t thread;
} rg__pool_worker;

/* A job's chunks are dealt in contiguous runs, one per thread, as a static schedule: thread
   t takes the chunks of run t, in order, so on a quiet machine each thread meets the same
   rows in every op (and in its cache); then it takes what is left of the other runs, so a
   thread that another process holds up leaves its run to the others. Each run is claimed
   chunk by chunk from one word, (job number << 32) | chunks left: a worker that comes after
   a job's chunks are all taken takes nothing, and the caller waits only for chunks, never
   for a thread that had not started. A claim that succeeds pins the job's fields (the
   caller writes the next job's only after every chunk of this one is done). Fields marked
   atomic go through __atomic builtins, sequentially consistent: the sleep handshakes are a
   store then a load on each side. */
typedef struct rg__pool_run_word {
    uint64_t claim; /* atomic: (job << 32) | chunks of this run not yet taken */
    char pad[64 - sizeof(uint64_t)]; /* a cache line each: threads claim side by side */
} rg__pool_run_word;

struct rg__pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;  /* idle workers sleep here */
    pthread_cond_t done;  /* the caller sleeps here until its job's chunks are done */
    rg__pool_worker *workers;
    int n_workers;        /* threads besides the caller */
    long spin;            /* polls before sleeping: OMP_WAIT_POLICY's, or -1 for by crowding */
    int crowded;          /* atomic: more runnable threads than cores, last time worker 1 looked */
    int cores;
    /* the job, written before its claim word */
    rg__range_fn body;
    void *arg;
    int64_t n, grain, n_chunks;
    int threads;          /* atomic: ids below it take chunks; as many runs */
    rg__pool_run_word *runs; /* (n_workers + 1) */
    int64_t chunks_done;  /* atomic */
    uint32_t job;         /* atomic: jobs started (and the pool's end) */
    int sleepers;         /* atomic: workers asleep or about to be */
    int caller_sleeps;    /* atomic */
    int stop;             /* atomic */
    pid_t owner;          /* the process whose threads these are */
};

#define RG__LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define RG__STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

static void rg__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Takes and runs the chunks of job number job left in run r; the last chunk done wakes a
   caller that sleeps. */
static void rg__pool_take_run(rg__pool *p, uint32_t job, int threads, int r, int id) {
    uint64_t word = RG__LOAD(p->runs[r].claim);
    for (;;) {
        int64_t chunk, lo;
        if ((uint32_t)(word >> 32) != job || (uint32_t)word == 0) return;
        if (!__atomic_compare_exchange_n(&p->runs[r].claim, &word, word - 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            continue;
        chunk = (r + 1) * p->n_chunks / threads - (int64_t)(uint32_t)word; /* the run's end, less what was left */
        lo = chunk * p->grain;
        p->body(p->arg, lo, p->n - lo > p->grain ? lo + p->grain : p->n, id);
        if (__atomic_add_fetch(&p->chunks_done, 1, __ATOMIC_SEQ_CST) == p->n_chunks && RG__LOAD(p->caller_sleeps)) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
        word = RG__LOAD(p->runs[r].claim);
    }
}

/* Thread id's own run, then the others' leftovers. */
static void rg__pool_take_chunks(rg__pool *p, uint32_t job, int id) {
    int r, threads = __atomic_load_n(&p->threads, __ATOMIC_SEQ_CST);
    if (id >= threads) return;
    for (r = 0; r < threads; r++) rg__pool_take_run(p, job, threads, (id + r) % threads, id);
}

/* Whether more threads are runnable than there are cores: the fourth field of Linux's
   /proc/loadavg, "running/total", counts the runnable ones now (the reader among them).
   Elsewhere, never. */
static int rg__machine_crowded(int cores) {
    char text[128];
    ssize_t got;
    long running = 0;
    int fd = open("/proc/loadavg", O_RDONLY), field = 0, i;
    if (fd < 0) return 0;
    got = read(fd, text, sizeof text - 1);
    close(fd);
    if (got <= 0) return 0;
    text[got] = '\0';
    for (i = 0; text[i] && field < 3; i++)
        if (text[i] == ' ') field++;
    for (; text[i] >= '0' && text[i] <= '9'; i++) running = running * 10 + (text[i] - '0');
    return running > cores;
}

static long rg__pool_spin_now(const rg__pool *p) {
    if (p->spin >= 0) return p->spin;
    return RG__LOAD(p->crowded) ? REVGNN_SPIN_POLLS_CROWDED : REVGNN_SPIN_POLLS;
}

static void *rg__pool_main(void *arg) {
    rg__pool_worker *w = (rg__pool_worker *)arg;
    rg__pool *p = w->pool;
    uint32_t seen = 0, job;
    long waits = 0;
    int slept = 0;
    for (;;) {
        long k, spin;
        if (w->id == 1 && p->spin < 0 && (slept || ++waits % RG__CROWD_CHECK_WAITS == 0))
            RG__STORE(p->crowded, rg__machine_crowded(p->cores));
        spin = rg__pool_spin_now(p);
        for (k = 0; k < spin && RG__LOAD(p->job) == seen; k++) rg__cpu_relax();
        slept = RG__LOAD(p->job) == seen;
        if (slept) {
            pthread_mutex_lock(&p->lock);
            __atomic_add_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
            while (RG__LOAD(p->job) == seen) pthread_cond_wait(&p->wake, &p->lock);
            __atomic_sub_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&p->lock);
        }
        if (RG__LOAD(p->stop)) return NULL;
        job = seen = RG__LOAD(p->job); /* a worker that slept through jobs joins the newest */
        rg__pool_take_chunks(p, job, w->id);
    }
}

/* Moves the job number on and wakes the workers that sleep. */
static void rg__pool_start_job(rg__pool *p) {
    __atomic_add_fetch(&p->job, 1, __ATOMIC_SEQ_CST);
    if (RG__LOAD(p->sleepers)) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
}

static void rg__pool_destroy(rg_ctx *ctx, rg__pool *p) {
    int i;
    if (!p) return;
    if (p->owner != getpid()) { /* a forked child: the threads and their waits are the parent's */
        REVGNN_FREE(ctx, p->runs);
        REVGNN_FREE(ctx, p->workers);
        REVGNN_FREE(ctx, p);
        return;
    }
    RG__STORE(p->stop, 1);
    rg__pool_start_job(p);
    for (i = 0; i < p->n_workers; i++) pthread_join(p->workers[i].thread, NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    REVGNN_FREE(ctx, p->runs);
    REVGNN_FREE(ctx, p->workers);
    REVGNN_FREE(ctx, p);
}

/* OMP_WAIT_POLICY, as libgomp reads it: ACTIVE spins (for minutes), PASSIVE sleeps at once;
   unset (or anything else), -1: the spin follows how crowded the machine is. */
static long rg__pool_spin(void) {
    const char *v = getenv("OMP_WAIT_POLICY");
    char word[8];
    size_t i;
    if (!v) return -1;
    for (i = 0; i + 1 < sizeof word && v[i]; i++) word[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] - 'A' + 'a' : v[i]);
    word[i] = '\0';
    if (!v[i] && !strcmp(word, "active")) return LONG_MAX;
    if (!v[i] && !strcmp(word, "passive")) return 0;
    return -1;
}

/* A pool for threads threads (the caller and threads - 1 workers); NULL, and the work runs
   on the calling thread, where threads <= 1 or memory or threads could not be had. Threads
   that fail to start leave their share to those that did: results are the same. */
static rg__pool *rg__pool_create(rg_ctx *ctx, int threads) {
    rg__pool *p;
    int i;
    if (threads <= 1) return NULL;
    p = (rg__pool *)REVGNN_MALLOC(ctx, sizeof *p);
    if (!p) return NULL;
    memset(p, 0, sizeof *p);
    p->workers = (rg__pool_worker *)REVGNN_MALLOC(ctx, (size_t)(threads - 1) * sizeof *p->workers);
    p->runs = (rg__pool_run_word *)REVGNN_MALLOC(ctx, (size_t)threads * sizeof *p->runs);
    if (!p->workers || !p->runs) goto no_lock;
    memset(p->runs, 0, (size_t)threads * sizeof *p->runs);
    if (pthread_mutex_init(&p->lock, NULL) != 0) goto no_lock;
    if (pthread_cond_init(&p->wake, NULL) != 0) goto no_wake;
    if (pthread_cond_init(&p->done, NULL) != 0) goto no_done;
    p->spin = rg__pool_spin();
    p->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (p->cores < 1) p->cores = 1;
    p->owner = getpid();
    for (i = 0; i < threads - 1; i++) {
        p->workers[i].pool = p;
        p->workers[i].id = i + 1;
        if (pthread_create(&p->workers[i].thread, NULL, rg__pool_main, &p->workers[i]) != 0) break;
        p->n_workers++;
    }
    if (p->n_workers > 0) return p;
    pthread_cond_destroy(&p->done);
no_done:
    pthread_cond_destroy(&p->wake);
no_wake:
    pthread_mutex_destroy(&p->lock);
no_lock:
    if (p->runs) REVGNN_FREE(ctx, p->runs);
    if (p->workers) REVGNN_FREE(ctx, p->workers);
    REVGNN_FREE(ctx, p);
    return NULL;
}
#else
static rg__pool *rg__pool_create(rg_ctx *ctx, int threads) { (void)ctx; (void)threads; return NULL; }
static void rg__pool_destroy(rg_ctx *ctx, rg__pool *p) { (void)ctx; (void)p; }
#endif

/* body over [0, n) in chunks of grain indices (RG__GRAIN_SPLIT: about four per thread) on
   at most threads threads of the pool; the caller takes chunks too and returns when all are
   done, whether or not every worker came (a body never starts another job). Serial where
   there is no pool, one thread or one chunk, or in a forked child of the pool's process. */
static void rg__pool_run(rg__pool *p, int threads, int64_t n, int64_t grain, rg__range_fn body, void *arg) {
    if (n <= 0) return;
#if RG__THREADS
    if (p && threads > 1 && p->owner == getpid()) {
        long k, spin;
        if (threads > p->n_workers + 1) threads = p->n_workers + 1;
        if (grain <= 0) grain = (n + 4 * (int64_t)threads - 1) / (4 * (int64_t)threads);
        if (grain < n) {
            uint32_t job = RG__LOAD(p->job) + 1;
            if ((n + grain - 1) / grain > (int64_t)UINT32_MAX) grain = (n + UINT32_MAX - 1) / UINT32_MAX;
            p->body = body;
            p->arg = arg;
            p->n = n;
            p->grain = grain;
            p->n_chunks = (n + grain - 1) / grain;
            RG__STORE(p->threads, threads);
            RG__STORE(p->chunks_done, (int64_t)0);
            for (k = 0; k < threads; k++)
                RG__STORE(p->runs[k].claim, (uint64_t)job << 32 |
                                                (uint64_t)((k + 1) * p->n_chunks / threads - k * p->n_chunks / threads));
            rg__pool_start_job(p);
            rg__pool_take_chunks(p, job, 0);
            spin = rg__pool_spin_now(p);
            for (k = 0; k < spin && RG__LOAD(p->chunks_done) != p->n_chunks; k++) rg__cpu_relax();
            if (RG__LOAD(p->chunks_done) != p->n_chunks) {
                pthread_mutex_lock(&p->lock);
                RG__STORE(p->caller_sleeps, 1);
                while (RG__LOAD(p->chunks_done) != p->n_chunks) pthread_cond_wait(&p->done, &p->lock);
                RG__STORE(p->caller_sleeps, 0);
                pthread_mutex_unlock(&p->lock);
            }
            return;
        }
    }
#else
    (void)p; (void)threads; (void)grain;
#endif
    body(arg, 0, n, 0);
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

/* Threads for host-side graph building, which has no context: OpenMP's default. */
static int rg__host_threads(void) {
#if RG__OMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static void rg__graph_degrees(void *arg, int64_t lo, int64_t hi, int thread) {
    rg_graph *g = (rg_graph *)arg;
    int64_t i;
    (void)thread;
    for (i = lo; i < hi; i++) {
        int64_t deg = g->rowptr[i + 1] - g->rowptr[i], no_loops = 0, e;
        for (e = g->rowptr[i]; e < g->rowptr[i + 1]; e++) no_loops += g->src[e] != (int32_t)i;
        g->inv_deg[i] = deg > 0 ? (rg_real)(1.0 / (double)deg) : (rg_real)0;
        g->gcn_dinv[i] = (rg_real)(1.0 / sqrt(1.0 + (double)no_loops));
    }
}

/* Fills t_rowptr/t_edge (counting sort by source, stable so ids ascend within a source) and
   the degree-derived arrays, from rowptr/src/dst, on pool's threads (NULL: this one). */
static void rg__graph_finish(rg_graph *g, rg__pool *pool) {
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
    rg__pool_run(pool, rg__host_threads(), n, RG__GRAIN_ROWS, rg__graph_degrees, g);
}

/* Stable LSD radix sort of (key, val) pairs by the low key_bits of key, in passes of at most
   12 bits (4096 buckets: every write stream stays in cache, where one counting sort over
   n_nodes buckets would miss on each write). Each thread takes a contiguous chunk and the
   buckets are laid out bucket-major, thread-minor, so the result is the same for any
   thread count. The sorted pairs end in (*key, *val): the pointers are swapped with the
   scratch arrays' (*key_tmp, *val_tmp) after each pass. */
typedef struct rg__radix_pass {
    const uint64_t *key;
    const int64_t *val;
    uint64_t *key_tmp, mask;
    int64_t *val_tmp, *counts, n, chunk, buckets;
    int shift;
} rg__radix_pass;

static void rg__radix_count(void *arg, int64_t t0, int64_t t1, int thread) {
    const rg__radix_pass *a = (const rg__radix_pass *)arg;
    int64_t t;
    (void)thread;
    for (t = t0; t < t1; t++) {
        int64_t k, lo = t * a->chunk, hi = lo + a->chunk < a->n ? lo + a->chunk : a->n, *c = a->counts + t * a->buckets;
        for (k = lo; k < hi; k++) c[(a->key[k] >> a->shift) & a->mask]++;
    }
}

static void rg__radix_scatter(void *arg, int64_t t0, int64_t t1, int thread) {
    const rg__radix_pass *a = (const rg__radix_pass *)arg;
    int64_t t;
    (void)thread;
    for (t = t0; t < t1; t++) {
        int64_t k, lo = t * a->chunk, hi = lo + a->chunk < a->n ? lo + a->chunk : a->n, *c = a->counts + t * a->buckets;
        for (k = lo; k < hi; k++) {
            int64_t at = c[(a->key[k] >> a->shift) & a->mask]++;
            a->key_tmp[at] = a->key[k];
            a->val_tmp[at] = a->val[k];
        }
    }
}

static void rg__radix_sort_pairs(uint64_t **key_io, int64_t **val_io, uint64_t **key_tmp_io, int64_t **val_tmp_io,
                                 int64_t n, int key_bits, int nt, int64_t *counts /* (nt * 4096) */,
                                 rg__pool *pool) {
    uint64_t *key = *key_io, *key_tmp = *key_tmp_io;
    int64_t *val = *val_io, *val_tmp = *val_tmp_io;
    int passes = key_bits > 0 ? (key_bits + 11) / 12 : 0, pass;
    int digit = passes > 0 ? (key_bits + passes - 1) / passes : 0;
    int64_t buckets = (int64_t)1 << digit, chunk = (n + nt - 1) / (nt > 0 ? nt : 1);
    for (pass = 0; pass < passes; pass++) {
        int t;
        int64_t b, sum = 0;
        rg__radix_pass a;
        a.key = key, a.val = val, a.key_tmp = key_tmp, a.val_tmp = val_tmp, a.counts = counts;
        a.n = n, a.chunk = chunk, a.buckets = buckets, a.mask = (uint64_t)buckets - 1, a.shift = pass * digit;
        memset(counts, 0, (size_t)nt * (size_t)buckets * sizeof(int64_t));
        rg__pool_run(pool, nt, nt, 1, rg__radix_count, &a);
        for (b = 0; b < buckets; b++)
            for (t = 0; t < nt; t++) {
                int64_t c = counts[t * buckets + b];
                counts[t * buckets + b] = sum;
                sum += c;
            }
        rg__pool_run(pool, nt, nt, 1, rg__radix_scatter, &a);
        {
            uint64_t *kt = key;
            int64_t *vt = val;
            key = key_tmp, key_tmp = kt;
            val = val_tmp, val_tmp = vt;
        }
    }
    *key_io = key, *key_tmp_io = key_tmp;
    *val_io = val, *val_tmp_io = val_tmp;
}

/* The graph's edges of rows [lo, hi) from the sorted candidates (source, candidate id; -1 is
   an inserted self-loop, whose features are zero). */
typedef struct rg__coo_edges {
    rg_graph *g;
    const uint64_t *source;
    const int64_t *candidate;
    const rg_real *edge_feat;
    int64_t n_edges;
} rg__coo_edges;

static void rg__coo_fill_edges(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__coo_edges *a = (const rg__coo_edges *)arg;
    rg_graph *g = a->g;
    int64_t i, e, c, dim = g->edge_dim;
    (void)thread;
    for (i = lo; i < hi; i++)
        for (e = g->rowptr[i]; e < g->rowptr[i + 1]; e++) {
            int64_t mm = a->candidate[e];
            g->dst[e] = (int32_t)i;
            g->src[e] = (int32_t)a->source[e];
            if (dim > 0) { /* edge_feat is NULL otherwise: no arithmetic on it */
                rg_real *to = g->edge_feat + e * dim;
                const rg_real *from = mm < 0 ? NULL : a->edge_feat + (mm % a->n_edges) * dim;
                /* a loop, not memcpy: rows are a few values wide */
                for (c = 0; c < dim; c++) to[c] = from ? from[c] : 0;
            }
        }
}

static int rg__bits_for(int64_t n) { /* bits to hold 0..n-1 */
    int b = 0;
    while (b < 62 && ((int64_t)1 << b) < n) b++;
    return b;
}

RGDEF rg_status rg_graph_from_coo(rg_graph *out, int64_t n_nodes, int64_t n_edges,
                                  const int32_t *src, const int32_t *dst,
                                  const rg_real *edge_feat, int64_t edge_dim,
                                  const rg_graph_options *options) {
    rg_graph_options opt = options ? *options : rg_graph_options_default();
    int64_t k, i, m, total, kept, *val = NULL, *val_tmp = NULL, *counts = NULL, *ends = NULL;
    uint64_t *key = NULL, *key_tmp = NULL;
    int32_t *has_loop = NULL;
    int nt = rg__host_threads(), b = rg__bits_for(n_nodes);
    rg__pool *pool = NULL;
    uint64_t src_mask = ((uint64_t)1 << b) - 1;
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
    ends = (int64_t *)REVGNN_MALLOC(NULL, (size_t)n_nodes * sizeof(int64_t));
    counts = (int64_t *)REVGNN_MALLOC(NULL, (size_t)nt * 4096 * sizeof(int64_t));
    key = (uint64_t *)REVGNN_MALLOC(NULL, (size_t)(total + n_nodes) * sizeof(uint64_t) + 1);
    key_tmp = (uint64_t *)REVGNN_MALLOC(NULL, (size_t)(total + n_nodes) * sizeof(uint64_t) + 1);
    val = (int64_t *)REVGNN_MALLOC(NULL, (size_t)(total + n_nodes) * sizeof(int64_t) + 1);
    val_tmp = (int64_t *)REVGNN_MALLOC(NULL, (size_t)(total + n_nodes) * sizeof(int64_t) + 1);
#define RG__FROM_COO_FREE()                                                                            \
    do {                                                                                               \
        REVGNN_FREE(NULL, has_loop); REVGNN_FREE(NULL, ends); REVGNN_FREE(NULL, counts);               \
        REVGNN_FREE(NULL, key); REVGNN_FREE(NULL, key_tmp); REVGNN_FREE(NULL, val);                    \
        REVGNN_FREE(NULL, val_tmp); rg__pool_destroy(NULL, pool);                                      \
    } while (0)
    if (!has_loop || !ends || !counts || !key || !key_tmp || !val || !val_tmp) {
        RG__FROM_COO_FREE();
        return RG__FAIL(RG_ERR_OOM, "rg_graph_from_coo: out of host memory for %lld edges", (long long)total);
    }
    /* sort candidates by (destination, source); stable, so equal pairs keep input order and
       duplicates are neighbours */
    memset(has_loop, 0, (size_t)n_nodes * sizeof(int32_t));
    for (m = 0; m < total; m++) {
        uint64_t s_m = (uint64_t)(m < n_edges ? src[m] : dst[m - n_edges]);
        uint64_t d_m = (uint64_t)(m < n_edges ? dst[m] : src[m - n_edges]);
        key[m] = d_m << b | s_m;
        val[m] = m;
        if (s_m == d_m) has_loop[d_m] = 1;
    }
    pool = rg__pool_create(NULL, nt);
    rg__radix_sort_pairs(&key, &val, &key_tmp, &val_tmp, total, 2 * b, nt, counts, pool);
    /* copy each node's run into (key_tmp: source, val_tmp: candidate), dropping repeats and
       inserting a missing self-loop (candidate -1) where its source i sorts */
    kept = 0;
    {
        int64_t r = 0;
        for (i = 0; i < n_nodes; i++) {
            int64_t run_first = kept;
            int need_loop = opt.add_self_loops && !has_loop[i];
            for (; r < total && (int64_t)(key[r] >> b) == i; r++) {
                int64_t s_r = (int64_t)(key[r] & src_mask);
                if (need_loop && s_r > i) {
                    key_tmp[kept] = (uint64_t)i;
                    val_tmp[kept++] = -1;
                    need_loop = 0;
                }
                /* the loop's source i is below s_r, so a loop is never a duplicate */
                if (opt.drop_duplicates && kept > run_first && key_tmp[kept - 1] == (uint64_t)s_r) continue;
                key_tmp[kept] = (uint64_t)s_r;
                val_tmp[kept++] = val[r];
            }
            if (need_loop) {
                key_tmp[kept] = (uint64_t)i;
                val_tmp[kept++] = -1;
            }
            ends[i] = kept;
        }
    }
    /* the sorted candidates are dead: give their memory back before the graph takes its own */
    REVGNN_FREE(NULL, key);
    REVGNN_FREE(NULL, val);
    key = NULL, val = NULL;
    {
        rg_status st = rg__graph_alloc_host(&g, n_nodes, kept, edge_dim);
        if (st != RG_OK) {
            RG__FROM_COO_FREE();
            return st;
        }
    }
    g.rowptr[0] = 0;
    for (i = 0; i < n_nodes; i++) g.rowptr[i + 1] = ends[i];
    {
        rg__coo_edges a;
        a.g = &g, a.source = key_tmp, a.candidate = val_tmp, a.edge_feat = edge_feat, a.n_edges = n_edges;
        rg__pool_run(pool, nt, n_nodes, RG__GRAIN_ROWS, rg__coo_fill_edges, &a);
    }
    rg__graph_finish(&g, pool);
    RG__FROM_COO_FREE();
#undef RG__FROM_COO_FREE
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

/* Allocates the device arrays of an n_nodes x n_edges graph (the contents are the caller's). */
static rg_status rg__graph_alloc_device(rg_ctx *ctx, rg_graph *g, int64_t n_nodes, int64_t n_edges, int64_t edge_dim) {
    size_t n = (size_t)n_nodes, e = (size_t)n_edges;
    rg__graph_zero(g);
    g->ctx = ctx;
    g->n_nodes = n_nodes;
    g->n_edges = n_edges;
    g->edge_dim = edge_dim;
    g->rowptr = (int64_t *)rg_alloc(ctx, (n + 1) * sizeof(int64_t));
    g->src = (int32_t *)rg_alloc(ctx, e * sizeof(int32_t));
    g->dst = (int32_t *)rg_alloc(ctx, e * sizeof(int32_t));
    g->t_rowptr = (int64_t *)rg_alloc(ctx, (n + 1) * sizeof(int64_t));
    g->t_edge = (int64_t *)rg_alloc(ctx, e * sizeof(int64_t));
    g->gcn_dinv = (rg_real *)rg_alloc(ctx, n * sizeof(rg_real));
    g->inv_deg = (rg_real *)rg_alloc(ctx, n * sizeof(rg_real));
    if (edge_dim > 0) g->edge_feat = (rg_real *)rg_alloc(ctx, e * (size_t)edge_dim * sizeof(rg_real));
    if (!g->rowptr || !g->src || !g->dst || !g->t_rowptr || !g->t_edge || !g->gcn_dinv || !g->inv_deg ||
        (edge_dim > 0 && !g->edge_feat)) {
        rg_graph_free(ctx, g);
        return RG_ERR_OOM;
    }
    return RG_OK;
}

RGDEF rg_status rg_graph_to_device(rg_ctx *ctx, const rg_graph *h, rg_graph *out) {
    size_t n, e;
    rg_graph g;
    rg_status st;
    RG__CHECK_ARG(ctx && h && out, "rg_graph_to_device: NULL argument");
    RG__CHECK_ARG(h->ctx == NULL, "rg_graph_to_device: the source graph is not a host graph");
    rg__graph_zero(out);
    n = (size_t)h->n_nodes;
    e = (size_t)h->n_edges;
    RG__TRY(rg__graph_alloc_device(ctx, &g, h->n_nodes, h->n_edges, h->edge_dim));
    ctx->ops->copy(ctx, g.rowptr, h->rowptr, (n + 1) * sizeof(int64_t), RG_HOST_TO_DEVICE);
    ctx->ops->copy(ctx, g.src, h->src, e * sizeof(int32_t), RG_HOST_TO_DEVICE);
    ctx->ops->copy(ctx, g.dst, h->dst, e * sizeof(int32_t), RG_HOST_TO_DEVICE);
    ctx->ops->copy(ctx, g.t_rowptr, h->t_rowptr, (n + 1) * sizeof(int64_t), RG_HOST_TO_DEVICE);
    ctx->ops->copy(ctx, g.t_edge, h->t_edge, e * sizeof(int64_t), RG_HOST_TO_DEVICE);
    ctx->ops->copy(ctx, g.gcn_dinv, h->gcn_dinv, n * sizeof(rg_real), RG_HOST_TO_DEVICE);
    ctx->ops->copy(ctx, g.inv_deg, h->inv_deg, n * sizeof(rg_real), RG_HOST_TO_DEVICE);
    if (h->edge_dim > 0)
        ctx->ops->copy(ctx, g.edge_feat, h->edge_feat, e * (size_t)h->edge_dim * sizeof(rg_real), RG_HOST_TO_DEVICE);
    st = rg_ctx_take_status(ctx);
    if (st != RG_OK) { rg_graph_free(ctx, &g); return st; }
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
    rg__graph_finish(&s, NULL); /* its parallel part is a pass over the degrees */
    *out = s;
    return RG_OK;
}

/* ============================== CPU backend ============================== */

/* The CPU backend's private state (ctx->backend). A context serves one host thread at a
   time; inside an op, the pool's threads use disjoint slots of the scratch. */
typedef struct rg__cpu_state {
#ifndef REVGNN_CBLAS
    const struct rg__gemm_kernel *gemm; /* micro-kernel picked for this CPU */
#endif
    rg__pool *pool;                     /* ctx->n_threads threads, or NULL for one */
    void *scratch_raw;                  /* GEMM packing buffers: grown on demand, freed with the context */
    rg_real *scratch;                   /* scratch_raw aligned to 64 bytes */
    size_t scratch_reals;               /* reals usable at scratch */
} rg__cpu_state;

/* body over [0, n) on the context's threads, grain indices at a time (rg__pool_run) */
static void rg__cpu_for(rg_ctx *ctx, int64_t n, int64_t grain, rg__range_fn body, void *arg) {
    rg__pool_run(((rg__cpu_state *)ctx->backend)->pool, ctx->n_threads, n, grain, body, arg);
}

static void *rg__cpu_alloc(rg_ctx *ctx, size_t bytes) { return REVGNN_MALLOC(ctx, bytes); }
static void rg__cpu_free(rg_ctx *ctx, void *p, size_t bytes) { (void)bytes; REVGNN_FREE(ctx, p); }
static void rg__cpu_copy(rg_ctx *ctx, void *dst, const void *src, size_t bytes, rg_copy_kind kind) {
    (void)ctx; (void)kind;
    if (bytes) memmove(dst, src, bytes);
}
static void rg__cpu_synchronize(rg_ctx *ctx) { (void)ctx; }

/* What one call shares with its threads. */
typedef struct rg__gemm_args {
    int ta, tb;
    int64_t K;
    rg_real alpha, beta;
    const rg_real *A, *B;
    rg_real *C;
    int64_t lda, ldb, ldc;
} rg__gemm_args;

/* C's rows [i0, i1) of width n by the plain definition (rg__gemm_naive). */
typedef struct rg__gemm_rows {
    rg__gemm_args g;
    int64_t n;
} rg__gemm_rows;

static void rg__gemm_naive_rows(void *arg, int64_t i0, int64_t i1, int thread) {
    const rg__gemm_rows *a = (const rg__gemm_rows *)arg;
    const rg__gemm_args *g = &a->g;
    int64_t i, j, k;
    (void)thread;
    for (i = i0; i < i1; i++)
        for (j = 0; j < a->n; j++) {
            rg_real acc = 0;
            for (k = 0; k < g->K; k++)
                acc += (g->ta ? g->A[k * g->lda + i] : g->A[i * g->lda + k]) *
                       (g->tb ? g->B[j * g->ldb + k] : g->B[k * g->ldb + j]);
            g->C[i * g->ldc + j] = g->beta == 0 ? g->alpha * acc : g->alpha * acc + g->beta * g->C[i * g->ldc + j];
        }
}

/* Reference GEMM: the plain definition, kept beside the blocked one below as its oracle, and
   the path for K = 0. Each C entry is one sequential sum over k, so its value never depends
   on the thread count. */
static void rg__gemm_naive(rg_ctx *ctx, int ta, int tb, int64_t M, int64_t N, int64_t K, rg_real alpha,
                           const rg_real *A, int64_t lda, const rg_real *B, int64_t ldb, rg_real beta,
                           rg_real *C, int64_t ldc) {
    rg__gemm_rows a;
    a.g.ta = ta, a.g.tb = tb, a.g.K = K, a.g.alpha = alpha, a.g.beta = beta;
    a.g.A = A, a.g.B = B, a.g.C = C, a.g.lda = lda, a.g.ldb = ldb, a.g.ldc = ldc;
    a.n = N;
    rg__cpu_for(ctx, M, RG__GRAIN_SPLIT, rg__gemm_naive_rows, &a);
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

/* What a GEMM shares with the threads that take its units (tiles or K chunks); a thread's
   buffers are its slot of the scratch. */
typedef struct rg__gemm_units {
    const rg__gemm_kernel *kern;
    const rg__gemm_args *g;
    rg_real *scratch, *partial;
    int64_t M, N, tiles, n_units, slot, a_len, n_chunks;
    int split_m;
} rg__gemm_units;

static void rg__gemm_tile_units(void *arg, int64_t u0, int64_t u1, int thread) {
    const rg__gemm_units *a = (const rg__gemm_units *)arg;
    int64_t unit, mr = a->kern->mr, nr = a->kern->nr;
    rg_real *buf = a->scratch + thread * a->slot;
    for (unit = u0; unit < u1; unit++) {
        int64_t t0 = unit * a->tiles / a->n_units, t1 = (unit + 1) * a->tiles / a->n_units;
        if (a->split_m)
            a->kern->region(a->g, buf + a->a_len, buf, t0 * mr, t1 * mr < a->M ? t1 * mr : a->M, 0, a->N);
        else
            a->kern->region(a->g, buf + a->a_len, buf, 0, a->M, t0 * nr, t1 * nr < a->N ? t1 * nr : a->N);
    }
}

/* The side of C with more tiles is cut into units of whole tiles, RG__GEMM_UNITS per thread,
   that the threads take in turn. */
static void rg__gemm_tiles(rg_ctx *ctx, const rg__gemm_kernel *kern, const rg__gemm_args *g, int64_t M, int64_t N) {
    int64_t mr = kern->mr, nr = kern->nr, m_tiles = (M + mr - 1) / mr, n_tiles = (N + nr - 1) / nr;
    int split_m = m_tiles >= n_tiles;
    int64_t tiles = split_m ? m_tiles : n_tiles;
    int64_t n_parts = rg__gemm_parts(ctx, tiles, (double)M * (double)N * (double)g->K), a_len, slot;
    int64_t n_units = n_parts == 1 ? 1 : tiles < RG__GEMM_UNITS * n_parts ? tiles : RG__GEMM_UNITS * n_parts;
    rg__gemm_units a;
    slot = rg__gemm_slot(kern, g->K, split_m ? N : (tiles + n_units - 1) / n_units * nr, &a_len);
    a.scratch = rg__cpu_scratch(ctx, (size_t)(slot * n_parts));
    if (!a.scratch) return;
    a.kern = kern, a.g = g, a.M = M, a.N = N, a.split_m = split_m, a.tiles = tiles, a.n_units = n_units;
    a.slot = slot, a.a_len = a_len;
    rg__pool_run(((rg__cpu_state *)ctx->backend)->pool, (int)n_parts, n_units, 1, rg__gemm_tile_units, &a);
}

static void rg__gemm_k_chunks(void *arg, int64_t c0, int64_t c1, int thread) {
    const rg__gemm_units *a = (const rg__gemm_units *)arg;
    const rg__gemm_args *g = a->g;
    rg_real *buf = a->scratch + thread * a->slot;
    int64_t c;
    for (c = c0; c < c1; c++) {
        int64_t k0 = c * RG__GEMM_KSPLIT;
        rg__gemm_args h = *g;
        h.K = g->K - k0 < RG__GEMM_KSPLIT ? g->K - k0 : RG__GEMM_KSPLIT;
        h.A = g->ta ? g->A + k0 * g->lda : g->A + k0;
        h.B = g->tb ? g->B + k0 : g->B + k0 * g->ldb;
        h.C = a->partial + c * a->M * a->N;
        h.ldc = a->N;
        h.alpha = 1;
        h.beta = 0;
        a->kern->region(&h, buf + a->a_len, buf, 0, a->M, 0, a->N);
    }
}

/* rows [i0, i1) of C = alpha sum_c P_c + beta C, chunks in order */
static void rg__gemm_sum_chunks(void *arg, int64_t i0, int64_t i1, int thread) {
    const rg__gemm_units *a = (const rg__gemm_units *)arg;
    const rg__gemm_args *g = a->g;
    int64_t i, j, c, M = a->M, N = a->N;
    (void)thread;
    for (i = i0; i < i1; i++)
        for (j = 0; j < N; j++) {
            rg_real *cij = g->C + i * g->ldc + j;
            double acc = 0;
            for (c = 0; c < a->n_chunks; c++) acc += a->partial[c * M * N + i * N + j];
            *cij = (rg_real)(g->beta == 0 ? g->alpha * acc : g->alpha * acc + g->beta * *cij);
        }
}

/* Long reductions into a small C, as the weight gradient dW = x^T dy over every node: K is
   cut into fixed chunks of RG__GEMM_KSPLIT whose products P_c (M, N) the threads take in
   turn, each reading only its chunks of A and B; then C = alpha sum_c P_c + beta C sums them
   in chunk order, in double. The chunks depend on the shape alone. */
static void rg__gemm_ksplit(rg_ctx *ctx, const rg__gemm_kernel *kern, const rg__gemm_args *g, int64_t M,
                            int64_t N) {
    int64_t n_chunks = (g->K + RG__GEMM_KSPLIT - 1) / RG__GEMM_KSPLIT, a_len, slot;
    int64_t n_parts = rg__gemm_parts(ctx, n_chunks, (double)M * (double)N * (double)g->K);
    rg__gemm_units a;
    slot = rg__gemm_slot(kern, RG__GEMM_KSPLIT, N, &a_len);
    a.scratch = rg__cpu_scratch(ctx, (size_t)(slot * n_parts + n_chunks * M * N));
    if (!a.scratch) return;
    a.partial = a.scratch + slot * n_parts;
    a.kern = kern, a.g = g, a.M = M, a.N = N, a.n_chunks = n_chunks, a.slot = slot, a.a_len = a_len;
    rg__pool_run(((rg__cpu_state *)ctx->backend)->pool, (int)n_parts, n_chunks, 1, rg__gemm_k_chunks, &a);
    rg__cpu_for(ctx, M, RG__GRAIN_SPLIT, rg__gemm_sum_chunks, &a);
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

/* The operands of the element-wise and column ops below, for their loop bodies. */
typedef struct rg__vec_args {
    rg_real *y;
    const rg_real *x, *z;
    rg_real a, b;
    int64_t rows, cols;
    uint64_t seed, stream;
    uint32_t threshold;
} rg__vec_args;

static void rg__fill_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__vec_args *v = (const rg__vec_args *)arg;
    int64_t i;
    (void)thread;
    for (i = lo; i < hi; i++) v->y[i] = v->a;
}

static void rg__cpu_fill(rg_ctx *ctx, rg_real *x, int64_t n, rg_real v) {
    rg__vec_args a;
    a.y = x, a.a = v;
    rg__cpu_for(ctx, n, RG__GRAIN_SPLIT, rg__fill_range, &a);
}

static void rg__axpby_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__vec_args *v = (const rg__vec_args *)arg;
    rg_real *y = v->y, a = v->a, b = v->b;
    const rg_real *x = v->x;
    int64_t i;
    (void)thread;
    if (b == 0) /* y may be uninitialised */
        for (i = lo; i < hi; i++) y[i] = a * x[i];
    else
        for (i = lo; i < hi; i++) y[i] = a * x[i] + b * y[i];
}

static void rg__cpu_axpby(rg_ctx *ctx, int64_t n, rg_real a, const rg_real *x, rg_real b, rg_real *y) {
    rg__vec_args v;
    v.y = y, v.x = x, v.a = a, v.b = b;
    rg__cpu_for(ctx, n, RG__GRAIN_SPLIT, rg__axpby_range, &v);
}

static void rg__add_bias_rows(void *arg, int64_t r0, int64_t r1, int thread) {
    const rg__vec_args *v = (const rg__vec_args *)arg;
    int64_t r, c, cols = v->cols;
    (void)thread;
    for (r = r0; r < r1; r++)
        for (c = 0; c < cols; c++) v->y[r * cols + c] += v->x[c];
}

static void rg__cpu_add_bias(rg_ctx *ctx, rg_real *y, const rg_real *bias, int64_t rows, int64_t cols) {
    rg__vec_args v;
    v.y = y, v.x = bias, v.cols = cols;
    rg__cpu_for(ctx, rows, RG__GRAIN_SPLIT, rg__add_bias_rows, &v);
}

/* Column reductions split the columns, never the rows, among threads: each column is one
   sequential double sum, identical for any thread count. A thread owns a block of
   RG__COLBLOCK columns and walks the rows in order, so its reads stay contiguous. */
#define RG__COLBLOCK 16
/* Channel block of row-wise kernels (norms, graph gathers): a row is processed a block of
   channels at a time, so double accumulators live on the stack and inner loops stay
   contiguous. */
#define RG__CBLOCK 64

static void rg__col_sum_blocks(void *arg, int64_t b0, int64_t b1, int thread) {
    const rg__vec_args *v = (const rg__vec_args *)arg;
    int64_t b, cols = v->cols;
    (void)thread;
    for (b = b0; b < b1; b++) {
        int64_t c0 = b * RG__COLBLOCK, nc = cols - c0 < RG__COLBLOCK ? cols - c0 : RG__COLBLOCK, r, c;
        double acc[RG__COLBLOCK] = {0};
        for (r = 0; r < v->rows; r++)
            for (c = 0; c < nc; c++) acc[c] += v->x[r * cols + c0 + c];
        for (c = 0; c < nc; c++) v->y[c0 + c] += (rg_real)acc[c];
    }
}

static void rg__cpu_col_sum(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t rows, int64_t cols) {
    rg__vec_args v;
    v.y = out, v.x = x, v.rows = rows, v.cols = cols;
    rg__cpu_for(ctx, (cols + RG__COLBLOCK - 1) / RG__COLBLOCK, 1, rg__col_sum_blocks, &v);
}

static void rg__relu_forward_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__vec_args *v = (const rg__vec_args *)arg;
    int64_t i;
    (void)thread;
    for (i = lo; i < hi; i++) v->y[i] = v->x[i] > 0 ? v->x[i] : (rg_real)0;
}

static void rg__cpu_relu_forward(rg_ctx *ctx, rg_real *y, const rg_real *x, int64_t n) {
    rg__vec_args v;
    v.y = y, v.x = x;
    rg__cpu_for(ctx, n, RG__GRAIN_SPLIT, rg__relu_forward_range, &v);
}

static void rg__relu_backward_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__vec_args *v = (const rg__vec_args *)arg; /* y = dx, x, z = dy */
    int64_t i;
    (void)thread;
    for (i = lo; i < hi; i++) v->y[i] = v->x[i] > 0 ? v->z[i] : (rg_real)0;
}

static void rg__cpu_relu_backward(rg_ctx *ctx, rg_real *dx, const rg_real *dy, const rg_real *x, int64_t n) {
    rg__vec_args v;
    v.y = dx, v.x = x, v.z = dy;
    rg__cpu_for(ctx, n, RG__GRAIN_SPLIT, rg__relu_backward_range, &v);
}

static void rg__dropout_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__vec_args *v = (const rg__vec_args *)arg; /* a: the kept values' scale */
    int64_t i;
    (void)thread;
    for (i = lo; i < hi; i++)
        v->y[i] = rg_dropout_keep(v->seed, v->stream, (uint64_t)i, v->threshold) ? v->x[i] * v->a : (rg_real)0;
}

static void rg__cpu_dropout(rg_ctx *ctx, rg_real *y, const rg_real *x, int64_t rows, int64_t cols, double p,
                            uint64_t seed, uint64_t stream) {
    rg__vec_args v;
    v.y = y, v.x = x, v.a = (rg_real)(1.0 / (1.0 - p));
    v.seed = seed, v.stream = stream, v.threshold = rg_dropout_threshold(p);
    rg__cpu_for(ctx, rows * cols, RG__GRAIN_SPLIT, rg__dropout_range, &v);
}

/* sum of x[0..n-1] in double over RG__LANES interleaved partial sums added in a fixed order:
   vectorisable (no reassociation needed) and the same on every thread */
#define RG__LANES 8
static double rg__lane_sum(const double *x, int64_t n) {
    double lane[RG__LANES] = {0}, acc = 0;
    int64_t c, k, n8 = n - n % RG__LANES;
    for (c = 0; c < n8; c += RG__LANES)
        for (k = 0; k < RG__LANES; k++) lane[k] += x[c + k];
    for (c = n8; c < n; c++) lane[c - n8] += x[c];
    for (k = 0; k < RG__LANES; k++) acc += lane[k];
    return acc;
}
/* sum over x[0..n-1] of (x - shift)^power, power 1 or 2, in double: element-wise into a
   block of doubles (vectorised), then lane sums */
static double rg__row_moment(const rg_real *x, int64_t n, double shift, int power) {
    double t[RG__CBLOCK], acc = 0;
    int64_t c0, k;
    for (c0 = 0; c0 < n; c0 += RG__CBLOCK) {
        int64_t nc = n - c0 < RG__CBLOCK ? n - c0 : RG__CBLOCK;
        for (k = 0; k < nc; k++) t[k] = (double)x[c0 + k] - shift;
        if (power == 2)
            for (k = 0; k < nc; k++) t[k] *= t[k];
        acc += rg__lane_sum(t, nc);
    }
    return acc;
}

/* The operands of layer norm's forward or backward, for loop bodies. */
typedef struct rg__norm_args {
    rg_real *y, *mean, *rstd, *dgamma, *dbeta;
    const rg_real *x, *dy, *gamma, *beta, *cmean, *crstd;
    int64_t rows, cols;
    double eps;
} rg__norm_args;

static void rg__layernorm_forward_rows(void *arg, int64_t r0, int64_t r1, int thread) {
    const rg__norm_args *a = (const rg__norm_args *)arg;
    int64_t r, c, cols = a->cols;
    (void)thread;
    for (r = r0; r < r1; r++) {
        const rg_real *xr = a->x + r * cols;
        rg_real *yr = a->y + r * cols;
        double m = rg__row_moment(xr, cols, 0, 1) / (double)cols, v = rg__row_moment(xr, cols, m, 2) / (double)cols;
        rg_real mu = (rg_real)m, rs = (rg_real)(1.0 / sqrt(v + a->eps));
        for (c = 0; c < cols; c++) yr[c] = (xr[c] - mu) * rs * a->gamma[c] + a->beta[c];
        a->mean[r] = mu;
        a->rstd[r] = rs;
    }
}

static void rg__cpu_layernorm_forward(rg_ctx *ctx, rg_real *y, rg_real *mean, rg_real *rstd, const rg_real *x,
                                      const rg_real *gamma, const rg_real *beta, int64_t rows, int64_t cols,
                                      double eps) {
    rg__norm_args a;
    a.y = y, a.mean = mean, a.rstd = rstd, a.x = x, a.gamma = gamma, a.beta = beta, a.cols = cols, a.eps = eps;
    rg__cpu_for(ctx, rows, RG__GRAIN_SPLIT, rg__layernorm_forward_rows, &a);
}

/* dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma: the three terms are
   the direct path, the path through the mean and the path through the variance. */
/* column blocks, rows in order (see rg__cpu_col_sum) */
static void rg__layernorm_param_grad_blocks(void *arg, int64_t b0, int64_t b1, int thread) {
    const rg__norm_args *a = (const rg__norm_args *)arg;
    int64_t b, cols = a->cols;
    (void)thread;
    for (b = b0; b < b1; b++) {
        int64_t c0 = b * RG__COLBLOCK, nc = cols - c0 < RG__COLBLOCK ? cols - c0 : RG__COLBLOCK, i, c;
        double dg[RG__COLBLOCK] = {0}, db[RG__COLBLOCK] = {0};
        for (i = 0; i < a->rows; i++) {
            const rg_real *xi = a->x + i * cols + c0, *dyi = a->dy + i * cols + c0;
            double mu = a->cmean[i], rs = a->crstd[i];
            for (c = 0; c < nc; c++) {
                dg[c] += dyi[c] * ((xi[c] - mu) * rs);
                db[c] += dyi[c];
            }
        }
        for (c = 0; c < nc; c++) {
            a->dgamma[c0 + c] += (rg_real)dg[c];
            a->dbeta[c0 + c] += (rg_real)db[c];
        }
    }
}

static void rg__layernorm_input_grad_rows(void *arg, int64_t r0, int64_t r1, int thread) {
    const rg__norm_args *a = (const rg__norm_args *)arg; /* y = dx */
    int64_t r, cols = a->cols;
    (void)thread;
    for (r = r0; r < r1; r++) {
        const rg_real *xr = a->x + r * cols, *dyr = a->dy + r * cols, *gamma = a->gamma;
        rg_real *dxr = a->y + r * cols;
        double mu = a->cmean[r], rs = a->crstd[r], g[RG__CBLOCK], gx[RG__CBLOCK], mg = 0, mgx = 0;
        int64_t k, c0;
        for (c0 = 0; c0 < cols; c0 += RG__CBLOCK) { /* element-wise into doubles (vectorised), then lane sums */
            int64_t nc = cols - c0 < RG__CBLOCK ? cols - c0 : RG__CBLOCK;
            for (k = 0; k < nc; k++) {
                g[k] = (double)dyr[c0 + k] * gamma[c0 + k];
                gx[k] = g[k] * ((xr[c0 + k] - mu) * rs);
            }
            mg += rg__lane_sum(g, nc);
            mgx += rg__lane_sum(gx, nc);
        }
        mg /= (double)cols;
        mgx /= (double)cols;
        for (k = 0; k < cols; k++) {
            double g = (double)dyr[k] * gamma[k], xhat = (xr[k] - mu) * rs;
            dxr[k] = (rg_real)(rs * (g - mg - xhat * mgx));
        }
    }
}

static void rg__cpu_layernorm_backward(rg_ctx *ctx, rg_real *dx, rg_real *dgamma, rg_real *dbeta,
                                       const rg_real *dy, const rg_real *x, const rg_real *mean,
                                       const rg_real *rstd, const rg_real *gamma, int64_t rows, int64_t cols) {
    rg__norm_args a;
    a.y = dx, a.dgamma = dgamma, a.dbeta = dbeta, a.dy = dy, a.x = x, a.cmean = mean, a.crstd = rstd;
    a.gamma = gamma, a.rows = rows, a.cols = cols;
    rg__cpu_for(ctx, (cols + RG__COLBLOCK - 1) / RG__COLBLOCK, 1, rg__layernorm_param_grad_blocks, &a);
    rg__cpu_for(ctx, rows, RG__GRAIN_SPLIT, rg__layernorm_input_grad_rows, &a);
}

static double rg__cpu_sum_squares(rg_ctx *ctx, const rg_real *x, int64_t n) {
    double acc = 0;
    int64_t i;
    (void)ctx;
    for (i = 0; i < n; i++) acc += (double)x[i] * x[i];
    return acc;
}

/* ---- graph convolutions: GCN, SAGE, GAT ---- */

#define RG__AHEAD 8
#if defined(__GNUC__)
#define RG__PREFETCH(p) __builtin_prefetch(p)
#else
#define RG__PREFETCH(p) ((void)(p))
#endif

/* The gather each backend reduces spmm and spmm_t to (the CPU's: rg__cpu_gather). */
typedef void (*rg__gather_kernel)(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t n, int64_t dim, int gcn,
                                  const int64_t *ptr, const int64_t *edge, const int32_t *nbr, const rg_real *rs,
                                  const rg_real *ns);

/* spmm and spmm_t through a backend's gather, shared by the backends. spmm: A_ij = rs[i] ns[j],
   MEAN scales by the destination, GCN by both ends. spmm_t (transpose, edge = the transpose's
   edge ids): (A^T)_ji = A_ij, so the destination's scale moves to the neighbour side. */
static void rg__spmm_by_gather(rg__gather_kernel gather, int transpose, rg_ctx *ctx, rg_real *out, const rg_real *x,
                               int64_t n, int64_t dim, rg_aggr aggr, const int64_t *ptr, const int64_t *edge,
                               const int32_t *nbr, const rg_real *inv_deg, const rg_real *gcn_dinv) {
    if (aggr == RG_AGGR_SUM) gather(ctx, out, x, n, dim, 0, ptr, edge, nbr, NULL, NULL);
    else if (aggr == RG_AGGR_MEAN)
        gather(ctx, out, x, n, dim, 0, ptr, edge, nbr, transpose ? NULL : inv_deg, transpose ? inv_deg : NULL);
    else if (aggr == RG_AGGR_GCN) gather(ctx, out, x, n, dim, 1, ptr, edge, nbr, gcn_dinv, gcn_dinv);
    else if (ctx->status == RG_OK)
        ctx->status = RG__FAIL(RG_ERR_ARG, "%s: aggregator %d is not linear (SUM, MEAN or GCN)",
                               transpose ? "spmm_t" : "spmm", (int)aggr);
}

/* out_r = rs[r] * (sum_k ns[n_k] x_{n_k} [+ ns[r] x_r for GCN]) over list entries k of row r,
   whose neighbour n_k is nbr[k], or nbr[edge[k]] when edge is given (the transpose); NULL
   scales are 1. GCN skips self-loops and adds the implicit one. */
typedef struct rg__gather_args {
    rg_real *out;
    const rg_real *x;
    int64_t n, dim;
    int gcn;
    const int64_t *ptr, *edge;
    const int32_t *nbr;
    const rg_real *rs, *ns;
} rg__gather_args;

static void rg__gather_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__gather_args *a = (const rg__gather_args *)arg;
    rg_real *out = a->out;
    const rg_real *x = a->x;
    int64_t n = a->n, dim = a->dim;
    int gcn = a->gcn;
    const int64_t *ptr = a->ptr, *edge = a->edge;
    const int32_t *nbr = a->nbr;
    const rg_real *rs = a->rs, *ns = a->ns;
    int64_t r;
    (void)thread;
    for (r = lo; r < hi; r++) {
        double acc[RG__CBLOCK];
        int64_t c0, c, k;
        for (c0 = 0; c0 < dim; c0 += RG__CBLOCK) {
            int64_t nc = dim - c0 < RG__CBLOCK ? dim - c0 : RG__CBLOCK;
            const rg_real *xr = x + r * dim + c0;
            rg_real *outr = out + r * dim + c0;
            for (c = 0; c < nc; c++) acc[c] = gcn ? (double)ns[r] * xr[c] : 0.0;
            for (k = ptr[r]; k < ptr[r + 1]; k++) {
                int64_t j = nbr[edge ? edge[k] : k];
                const rg_real *xj = x + j * dim + c0;
                if (k + RG__AHEAD < ptr[n]) /* the row RG__AHEAD entries on (maybe the next node's): random rows miss the cache */
                    RG__PREFETCH(x + (int64_t)nbr[edge ? edge[k + RG__AHEAD] : k + RG__AHEAD] * dim + c0);
                if (gcn && j == r) continue;
                if (ns) {
                    double w = ns[j];
                    for (c = 0; c < nc; c++) acc[c] += w * xj[c];
                } else {
                    for (c = 0; c < nc; c++) acc[c] += xj[c];
                }
            }
            for (c = 0; c < nc; c++) outr[c] = (rg_real)(rs ? rs[r] * acc[c] : acc[c]);
        }
    }
}

static void rg__cpu_gather(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t n, int64_t dim, int gcn,
                           const int64_t *ptr, const int64_t *edge, const int32_t *nbr, const rg_real *rs,
                           const rg_real *ns) {
    rg__gather_args a;
    a.out = out, a.x = x, a.n = n, a.dim = dim, a.gcn = gcn, a.ptr = ptr, a.edge = edge, a.nbr = nbr,
    a.rs = rs, a.ns = ns;
    rg__cpu_for(ctx, n, RG__GRAIN_ROWS, rg__gather_range, &a);
}

static void rg__cpu_spmm(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t n, int64_t dim, rg_aggr aggr,
                         const int64_t *rowptr, const int32_t *src, const rg_real *inv_deg, const rg_real *gcn_dinv) {
    rg__spmm_by_gather(rg__cpu_gather, 0, ctx, out, x, n, dim, aggr, rowptr, NULL, src, inv_deg, gcn_dinv);
}
static void rg__cpu_spmm_t(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t n, int64_t dim, rg_aggr aggr,
                           const int64_t *t_rowptr, const int64_t *t_edge, const int32_t *dst, const rg_real *inv_deg,
                           const rg_real *gcn_dinv) {
    rg__spmm_by_gather(rg__cpu_gather, 1, ctx, out, x, n, dim, aggr, t_rowptr, t_edge, dst, inv_deg, gcn_dinv);
}

static double rg__leaky(double z) { return z > 0 ? z : RG_GAT_NEG_SLOPE * z; }

/* alpha_ij of head hd, recomputed from the score halves and the log-sum-exp of i */
static double rg__gat_alpha(const rg_real *s_src, const rg_real *s_dst, const rg_real *lse, int64_t i, int64_t j,
                            int64_t hd, int64_t heads) {
    return exp(rg__leaky((double)s_src[j * heads + hd] + s_dst[i * heads + hd]) - lse[i * heads + hd]);
}

/* dL/dz_ij = alpha_ij (g_i . h_j - dd_i) LeakyReLU'(z_ij), the softmax's Jacobian applied to
   dalpha_ij = g_i . h_j; gh is g_i . h_j, already scaled like g */
static double rg__gat_dz(const rg_real *s_src, const rg_real *s_dst, const rg_real *lse, const rg_real *dd,
                         int64_t i, int64_t j, int64_t hd, int64_t heads, double gh) {
    double z = (double)s_src[j * heads + hd] + s_dst[i * heads + hd];
    double alpha = exp(rg__leaky(z) - lse[i * heads + hd]);
    return alpha * (gh - dd[i * heads + hd]) * (z > 0 ? 1.0 : RG_GAT_NEG_SLOPE);
}

/* g_i of head hd: dy's head slice (concat) or dy_i, to be scaled by 1/H (mean) */
static const rg_real *rg__gat_g(const rg_real *dy, int64_t i, int64_t hd, int64_t heads, int64_t f, int concat) {
    return concat ? dy + (i * heads + hd) * f : dy + i * f;
}

static double rg__dot(const rg_real *a, const rg_real *b, int64_t n) {
    double acc = 0;
    int64_t k;
    for (k = 0; k < n; k++) acc += (double)a[k] * b[k];
    return acc;
}

typedef struct rg__gat_scores_args {
    rg_real *s_src, *s_dst;
    const rg_real *h, *att_src, *att_dst;
    int64_t n, heads, f;
} rg__gat_scores_args;

static void rg__gat_scores_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__gat_scores_args *a = (const rg__gat_scores_args *)arg;
    rg_real *s_src = a->s_src, *s_dst = a->s_dst;
    const rg_real *h = a->h, *att_src = a->att_src, *att_dst = a->att_dst;
    int64_t heads = a->heads, f = a->f;
    int64_t i;
    (void)thread;
    for (i = lo; i < hi; i++) {
        int64_t hd;
        for (hd = 0; hd < heads; hd++) {
            const rg_real *hi = h + (i * heads + hd) * f;
            s_src[i * heads + hd] = (rg_real)rg__dot(hi, att_src + hd * f, f);
            s_dst[i * heads + hd] = (rg_real)rg__dot(hi, att_dst + hd * f, f);
        }
    }
}

static void rg__cpu_gat_scores(rg_ctx *ctx, rg_real *s_src, rg_real *s_dst, const rg_real *h, const rg_real *att_src,
                               const rg_real *att_dst, int64_t n, int64_t heads, int64_t f) {
    rg__gat_scores_args a;
    a.s_src = s_src, a.s_dst = s_dst, a.h = h, a.att_src = att_src, a.att_dst = att_dst, a.n = n,
    a.heads = heads, a.f = f;
    rg__cpu_for(ctx, n, RG__GRAIN_SPLIT, rg__gat_scores_range, &a);
}

/* Per destination and head: the max score, then the log-sum-exp, then the alpha-weighted
   sum of h one channel block at a time (i itself first, then its incoming edges). */
typedef struct rg__gat_aggregate_args {
    rg_real *y, *agg, *lse;
    const rg_real *h, *s_src, *s_dst;
    const int64_t *rowptr;
    const int32_t *src;
    int64_t n, heads, f;
    int concat;
} rg__gat_aggregate_args;

static void rg__gat_aggregate_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__gat_aggregate_args *a = (const rg__gat_aggregate_args *)arg;
    rg_real *y = a->y, *agg = a->agg, *lse = a->lse;
    const rg_real *h = a->h, *s_src = a->s_src, *s_dst = a->s_dst;
    const int64_t *rowptr = a->rowptr;
    const int32_t *src = a->src;
    int64_t heads = a->heads, f = a->f;
    int concat = a->concat;
    int64_t i, hf = heads * f;
    (void)thread;
    for (i = lo; i < hi; i++) {
        double acc[RG__CBLOCK];
        int64_t hd, k, c0, c;
        for (hd = 0; hd < heads; hd++) {
            double sd = s_dst[i * heads + hd], m = rg__leaky(s_src[i * heads + hd] + sd), sum;
            for (k = rowptr[i]; k < rowptr[i + 1]; k++)
                if (src[k] != i) {
                    double e = rg__leaky(s_src[(int64_t)src[k] * heads + hd] + sd);
                    if (e > m) m = e;
                }
            sum = exp(rg__leaky(s_src[i * heads + hd] + sd) - m);
            for (k = rowptr[i]; k < rowptr[i + 1]; k++)
                if (src[k] != i) sum += exp(rg__leaky(s_src[(int64_t)src[k] * heads + hd] + sd) - m);
            lse[i * heads + hd] = (rg_real)(m + log(sum));
            for (c0 = 0; c0 < f; c0 += RG__CBLOCK) {
                int64_t nc = f - c0 < RG__CBLOCK ? f - c0 : RG__CBLOCK;
                double w = rg__gat_alpha(s_src, s_dst, lse, i, i, hd, heads);
                const rg_real *hj = h + i * hf + hd * f + c0;
                for (c = 0; c < nc; c++) acc[c] = w * hj[c];
                for (k = rowptr[i]; k < rowptr[i + 1]; k++) {
                    int64_t j = src[k];
                    if (j == i) continue;
                    w = rg__gat_alpha(s_src, s_dst, lse, i, j, hd, heads);
                    hj = h + j * hf + hd * f + c0;
                    for (c = 0; c < nc; c++) acc[c] += w * hj[c];
                }
                for (c = 0; c < nc; c++) agg[i * hf + hd * f + c0 + c] = (rg_real)acc[c];
            }
        }
        if (concat) {
            for (c = 0; c < hf; c++) y[i * hf + c] = agg[i * hf + c];
        } else {
            for (c = 0; c < f; c++) {
                double s = 0;
                for (hd = 0; hd < heads; hd++) s += agg[i * hf + hd * f + c];
                y[i * f + c] = (rg_real)(s / (double)heads);
            }
        }
    }
}

static void rg__cpu_gat_aggregate(rg_ctx *ctx, rg_real *y, rg_real *agg, rg_real *lse, const rg_real *h,
                                  const rg_real *s_src, const rg_real *s_dst, const int64_t *rowptr,
                                  const int32_t *src, int64_t n, int64_t heads, int64_t f, int concat) {
    rg__gat_aggregate_args a;
    a.y = y, a.agg = agg, a.lse = lse, a.h = h, a.s_src = s_src, a.s_dst = s_dst, a.rowptr = rowptr,
    a.src = src, a.n = n, a.heads = heads, a.f = f, a.concat = concat;
    rg__cpu_for(ctx, n, RG__GRAIN_ROWS, rg__gat_aggregate_range, &a);
}

typedef struct rg__gat_backward_dst_args {
    rg_real *ds_dst, *dd;
    const rg_real *dy, *h, *agg, *s_src, *s_dst, *lse;
    const int64_t *rowptr;
    const int32_t *src;
    int64_t n, heads, f;
    int concat;
} rg__gat_backward_dst_args;

static void rg__gat_backward_dst_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__gat_backward_dst_args *a = (const rg__gat_backward_dst_args *)arg;
    rg_real *ds_dst = a->ds_dst, *dd = a->dd;
    const rg_real *dy = a->dy, *h = a->h, *agg = a->agg, *s_src = a->s_src, *s_dst = a->s_dst, *lse = a->lse;
    const int64_t *rowptr = a->rowptr;
    const int32_t *src = a->src;
    int64_t heads = a->heads, f = a->f;
    int concat = a->concat;
    int64_t i, hf = heads * f;
    double gs = concat ? 1.0 : 1.0 / (double)heads;
    (void)thread;
    for (i = lo; i < hi; i++) {
        int64_t hd, k;
        for (hd = 0; hd < heads; hd++) {
            const rg_real *g = rg__gat_g(dy, i, hd, heads, f, concat);
            double acc;
            dd[i * heads + hd] = (rg_real)(gs * rg__dot(g, agg + i * hf + hd * f, f));
            acc = rg__gat_dz(s_src, s_dst, lse, dd, i, i, hd, heads, gs * rg__dot(g, h + i * hf + hd * f, f));
            for (k = rowptr[i]; k < rowptr[i + 1]; k++) {
                int64_t j = src[k];
                if (j == i) continue;
                acc += rg__gat_dz(s_src, s_dst, lse, dd, i, j, hd, heads, gs * rg__dot(g, h + j * hf + hd * f, f));
            }
            ds_dst[i * heads + hd] = (rg_real)acc;
        }
    }
}

static void rg__cpu_gat_backward_dst(rg_ctx *ctx, rg_real *ds_dst, rg_real *dd, const rg_real *dy, const rg_real *h,
                                     const rg_real *agg, const rg_real *s_src, const rg_real *s_dst,
                                     const rg_real *lse, const int64_t *rowptr, const int32_t *src, int64_t n,
                                     int64_t heads, int64_t f, int concat) {
    rg__gat_backward_dst_args a;
    a.ds_dst = ds_dst, a.dd = dd, a.dy = dy, a.h = h, a.agg = agg, a.s_src = s_src, a.s_dst = s_dst,
    a.lse = lse, a.rowptr = rowptr, a.src = src, a.n = n, a.heads = heads, a.f = f, a.concat = concat;
    rg__cpu_for(ctx, n, RG__GRAIN_ROWS, rg__gat_backward_dst_range, &a);
}

/* Per source j and head: ds_src from the scalar pass over its out-neighbours (j first), then
   dh one channel block at a time. */
typedef struct rg__gat_backward_src_args {
    rg_real *dh, *ds_src;
    const rg_real *dy, *h, *s_src, *s_dst, *lse, *dd, *ds_dst, *att_src, *att_dst;
    const int64_t *t_rowptr, *t_edge;
    const int32_t *dst;
    int64_t n, heads, f;
    int concat;
} rg__gat_backward_src_args;

static void rg__gat_backward_src_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__gat_backward_src_args *a = (const rg__gat_backward_src_args *)arg;
    rg_real *dh = a->dh, *ds_src = a->ds_src;
    const rg_real *dy = a->dy, *h = a->h, *s_src = a->s_src, *s_dst = a->s_dst, *lse = a->lse, *dd = a->dd, *ds_dst = a->ds_dst, *att_src = a->att_src, *att_dst = a->att_dst;
    const int64_t *t_rowptr = a->t_rowptr, *t_edge = a->t_edge;
    const int32_t *dst = a->dst;
    int64_t heads = a->heads, f = a->f;
    int concat = a->concat;
    int64_t j, hf = heads * f;
    double gs = concat ? 1.0 : 1.0 / (double)heads;
    (void)thread;
    for (j = lo; j < hi; j++) {
        double acc[RG__CBLOCK];
        int64_t hd, k, c0, c;
        for (hd = 0; hd < heads; hd++) {
            const rg_real *hj = h + j * hf + hd * f;
            double ds = rg__gat_dz(s_src, s_dst, lse, dd, j, j, hd, heads,
                                   gs * rg__dot(rg__gat_g(dy, j, hd, heads, f, concat), hj, f));
            double dsd = ds_dst[j * heads + hd];
            for (k = t_rowptr[j]; k < t_rowptr[j + 1]; k++) {
                int64_t i = dst[t_edge[k]];
                if (i == j) continue;
                ds += rg__gat_dz(s_src, s_dst, lse, dd, i, j, hd, heads,
                                 gs * rg__dot(rg__gat_g(dy, i, hd, heads, f, concat), hj, f));
            }
            ds_src[j * heads + hd] = (rg_real)ds;
            for (c0 = 0; c0 < f; c0 += RG__CBLOCK) {
                int64_t nc = f - c0 < RG__CBLOCK ? f - c0 : RG__CBLOCK;
                double w = gs * rg__gat_alpha(s_src, s_dst, lse, j, j, hd, heads);
                const rg_real *g = rg__gat_g(dy, j, hd, heads, f, concat) + c0;
                for (c = 0; c < nc; c++) acc[c] = w * g[c];
                for (k = t_rowptr[j]; k < t_rowptr[j + 1]; k++) {
                    int64_t i = dst[t_edge[k]];
                    if (i == j) continue;
                    w = gs * rg__gat_alpha(s_src, s_dst, lse, i, j, hd, heads);
                    g = rg__gat_g(dy, i, hd, heads, f, concat) + c0;
                    for (c = 0; c < nc; c++) acc[c] += w * g[c];
                }
                for (c = 0; c < nc; c++)
                    dh[j * hf + hd * f + c0 + c] =
                        (rg_real)(acc[c] + ds * att_src[hd * f + c0 + c] + dsd * att_dst[hd * f + c0 + c]);
            }
        }
    }
}

static void rg__cpu_gat_backward_src(rg_ctx *ctx, rg_real *dh, rg_real *ds_src, const rg_real *dy, const rg_real *h,
                                     const rg_real *s_src, const rg_real *s_dst, const rg_real *lse,
                                     const rg_real *dd, const rg_real *ds_dst, const rg_real *att_src,
                                     const rg_real *att_dst, const int64_t *t_rowptr, const int64_t *t_edge,
                                     const int32_t *dst, int64_t n, int64_t heads, int64_t f, int concat) {
    rg__gat_backward_src_args a;
    a.dh = dh, a.ds_src = ds_src, a.dy = dy, a.h = h, a.s_src = s_src, a.s_dst = s_dst, a.lse = lse, a.dd = dd,
    a.ds_dst = ds_dst, a.att_src = att_src, a.att_dst = att_dst, a.t_rowptr = t_rowptr, a.t_edge = t_edge,
    a.dst = dst, a.n = n, a.heads = heads, a.f = f, a.concat = concat;
    rg__cpu_for(ctx, n, RG__GRAIN_ROWS, rg__gat_backward_src_range, &a);
}

/* one column (hd, c) of both attention vectors per index: sequential double sums over nodes */
typedef struct rg__gat_att_grad_args {
    rg_real *datt_src, *datt_dst;
    const rg_real *ds_src, *ds_dst, *h;
    int64_t n, heads, f;
} rg__gat_att_grad_args;

static void rg__gat_att_grad_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__gat_att_grad_args *a = (const rg__gat_att_grad_args *)arg;
    rg_real *datt_src = a->datt_src, *datt_dst = a->datt_dst;
    const rg_real *ds_src = a->ds_src, *ds_dst = a->ds_dst, *h = a->h;
    int64_t n = a->n, heads = a->heads, f = a->f;
    int64_t col, hf = heads * f;
    (void)thread;
    for (col = lo; col < hi; col++) {
        int64_t hd = col / f, j;
        double a = 0, b = 0;
        for (j = 0; j < n; j++) {
            a += (double)ds_src[j * heads + hd] * h[j * hf + col];
            b += (double)ds_dst[j * heads + hd] * h[j * hf + col];
        }
        datt_src[col] += (rg_real)a;
        datt_dst[col] += (rg_real)b;
    }
}

static void rg__cpu_gat_att_grad(rg_ctx *ctx, rg_real *datt_src, rg_real *datt_dst, const rg_real *ds_src,
                                 const rg_real *ds_dst, const rg_real *h, int64_t n, int64_t heads, int64_t f) {
    rg__gat_att_grad_args a;
    a.datt_src = datt_src, a.datt_dst = datt_dst, a.ds_src = ds_src, a.ds_dst = ds_dst, a.h = h, a.n = n,
    a.heads = heads, a.f = f;
    rg__cpu_for(ctx, heads * f, RG__GRAIN_SPLIT, rg__gat_att_grad_range, &a);
}

/* ---- losses and optimiser ---- */

/* Ops that return a sum split their range into RG__REDUCE_BLOCKS fixed blocks, one double
   partial each, added in block order: the same sum for any thread count. */
#define RG__REDUCE_BLOCKS 64

static double rg__sum_partials(const double *partial) {
    double acc = 0;
    int b;
    for (b = 0; b < RG__REDUCE_BLOCKS; b++) acc += partial[b];
    return acc;
}

/* log(1 + exp(-|x|)) never overflows, and sigmoid is evaluated on the side where exp is
   at most 1 */
/* The operands of a loss, for its blocks. */
typedef struct rg__loss_args {
    rg_real *dlogits;
    const rg_real *logits, *targets, *mask;
    const int32_t *labels, *rows;
    int64_t n, cols, mask_cols;
    double scale;
    double *partial; /* (RG__REDUCE_BLOCKS) */
} rg__loss_args;

static void rg__bce_logits_blocks(void *arg, int64_t b0, int64_t b1, int thread) {
    const rg__loss_args *a = (const rg__loss_args *)arg;
    rg_real *dlogits = a->dlogits;
    const rg_real *logits = a->logits, *targets = a->targets, *mask = a->mask;
    int64_t b, rows = a->n, cols = a->cols, mask_cols = a->mask_cols;
    double scale = a->scale;
    (void)thread;
    for (b = b0; b < b1; b++) {
        int64_t r, c, r1 = rows * (b + 1) / RG__REDUCE_BLOCKS;
        double acc = 0;
        for (r = rows * b / RG__REDUCE_BLOCKS; r < r1; r++)
            for (c = 0; c < cols; c++) {
                int64_t i = r * cols + c;
                double w = mask ? (double)mask[r * mask_cols + (mask_cols == 1 ? 0 : c)] : 1.0, x, y, e;
                if (w == 0) { dlogits[i] = 0; continue; }
                x = logits[i];
                y = targets[i];
                e = exp(-fabs(x));
                acc += w * (fmax(x, 0.0) - x * y + log1p(e));
                dlogits[i] = (rg_real)(scale * w * ((x >= 0 ? 1.0 : e) / (1.0 + e) - y));
            }
        a->partial[b] = acc;
    }
}

static double rg__cpu_bce_logits(rg_ctx *ctx, rg_real *dlogits, const rg_real *logits, const rg_real *targets,
                                 const rg_real *mask, int64_t rows, int64_t cols, int64_t mask_cols, double scale) {
    double partial[RG__REDUCE_BLOCKS];
    rg__loss_args a;
    a.dlogits = dlogits, a.logits = logits, a.targets = targets, a.mask = mask, a.n = rows, a.cols = cols;
    a.mask_cols = mask_cols, a.scale = scale, a.partial = partial;
    rg__cpu_for(ctx, RG__REDUCE_BLOCKS, 1, rg__bce_logits_blocks, &a);
    return rg__sum_partials(partial);
}

/* The checks of a softmax cross-entropy's row list and labels, on host arrays (a device
   backend runs them on copies, to name the offender the same way): 0 with the first bad
   id or label recorded in ctx->status. */
static int rg__xent_ids_ok(rg_ctx *ctx, const int32_t *labels, const int32_t *rows, int64_t n, int64_t n_logit_rows,
                           int64_t cols) {
    int64_t k;
    for (k = 0; k < n; k++) {
        int64_t r = rows ? (int64_t)rows[k] : k;
        if (r < 0 || r >= n_logit_rows) {
            RG__OP_FAIL(ctx, RG_ERR_ARG, "softmax cross-entropy: row list entry %lld is %lld, out of range [0, %lld)",
                        (long long)k, (long long)r, (long long)n_logit_rows);
            return 0;
        }
        if (labels[r] < 0 || labels[r] >= cols) {
            RG__OP_FAIL(ctx, RG_ERR_ARG, "softmax cross-entropy: row %lld has label %d, out of range [0, %lld)",
                        (long long)r, (int)labels[r], (long long)cols);
            return 0;
        }
    }
    return 1;
}

static void rg__xent_repeat_fail(rg_ctx *ctx, int64_t k, int32_t row) {
    RG__OP_FAIL(ctx, RG_ERR_ARG, "softmax cross-entropy: row list entry %lld repeats row %d", (long long)k, (int)row);
}

/* loss_r = lse(x_r) - x_r[label]; dloss_r/dx_r = softmax(x_r) - onehot(label) */
static void rg__softmax_xent_blocks(void *arg, int64_t b0, int64_t b1, int thread) {
    const rg__loss_args *a = (const rg__loss_args *)arg;
    const int32_t *rows = a->rows;
    int64_t b, n = a->n, cols = a->cols;
    (void)thread;
    for (b = b0; b < b1; b++) {
        int64_t kk, c, k1 = n * (b + 1) / RG__REDUCE_BLOCKS;
        double acc = 0;
        for (kk = n * b / RG__REDUCE_BLOCKS; kk < k1; kk++) {
            int64_t r = rows ? (int64_t)rows[kk] : kk;
            const rg_real *x = a->logits + r * cols;
            rg_real *d = a->dlogits + r * cols;
            int32_t label = a->labels[r];
            double mx = x[0], sum = 0, lse;
            for (c = 1; c < cols; c++) mx = x[c] > mx ? x[c] : mx;
            for (c = 0; c < cols; c++) sum += exp(x[c] - mx);
            lse = mx + log(sum);
            acc += lse - x[label];
            for (c = 0; c < cols; c++) d[c] = (rg_real)(a->scale * (exp(x[c] - lse) - (c == label ? 1.0 : 0.0)));
        }
        a->partial[b] = acc;
    }
}

static double rg__cpu_softmax_xent(rg_ctx *ctx, rg_real *dlogits, const rg_real *logits, const int32_t *labels,
                                   const int32_t *rows, int64_t n, int64_t n_logit_rows, int64_t cols,
                                   double scale) {
    double partial[RG__REDUCE_BLOCKS];
    rg__loss_args a;
    int64_t k;
    /* every id and label is checked before anything is written */
    if (!rg__xent_ids_ok(ctx, labels, rows, n, n_logit_rows, cols)) return 0;
    if (rows) {
        /* rows not listed get zero; meanwhile a nonzero first entry marks a row seen twice,
           which would be written by two threads and weigh twice in the loss only */
        rg__cpu_fill(ctx, dlogits, n_logit_rows * cols, 0);
        for (k = 0; k < n; k++) {
            rg_real *mark = dlogits + (int64_t)rows[k] * cols;
            if (*mark != 0) {
                rg__cpu_fill(ctx, dlogits, n_logit_rows * cols, 0);
                rg__xent_repeat_fail(ctx, k, rows[k]);
                return 0;
            }
            *mark = 1;
        }
    }
    a.dlogits = dlogits, a.logits = logits, a.labels = labels, a.rows = rows, a.n = n, a.cols = cols;
    a.scale = scale, a.partial = partial;
    rg__cpu_for(ctx, RG__REDUCE_BLOCKS, 1, rg__softmax_xent_blocks, &a);
    return rg__sum_partials(partial);
}

/* PyTorch's arithmetic: the first bias correction folds into the step size, the second
   divides sqrt(v) before eps is added; AdamW shrinks p before the moment update */
typedef struct rg__adam_args {
    rg_real *params;
    const rg_real *grads;
    rg_real *m, *v;
    int64_t n;
    double lr, beta1, beta2, eps, weight_decay;
    int decoupled;
    int64_t step;
} rg__adam_args;

static void rg__adam_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__adam_args *a = (const rg__adam_args *)arg;
    rg_real *params = a->params;
    const rg_real *grads = a->grads;
    rg_real *m = a->m, *v = a->v;
    double lr = a->lr, beta1 = a->beta1, beta2 = a->beta2, eps = a->eps, weight_decay = a->weight_decay;
    int decoupled = a->decoupled;
    int64_t step = a->step;
    double step_size = lr / (1.0 - pow(beta1, (double)step)), bc2_sqrt = sqrt(1.0 - pow(beta2, (double)step));
    int64_t i;
    (void)thread;
    for (i = lo; i < hi; i++) {
        double p = params[i], g = grads[i], mi, vi;
        if (decoupled) p *= 1.0 - lr * weight_decay;
        else g += weight_decay * p;
        mi = beta1 * m[i] + (1.0 - beta1) * g;
        vi = beta2 * v[i] + (1.0 - beta2) * g * g;
        m[i] = (rg_real)mi;
        v[i] = (rg_real)vi;
        params[i] = (rg_real)(p - step_size * mi / (sqrt(vi) / bc2_sqrt + eps));
    }
}

static void rg__cpu_adam(rg_ctx *ctx, rg_real *params, const rg_real *grads, rg_real *m, rg_real *v, int64_t n,
                         double lr, double beta1, double beta2, double eps, double weight_decay, int decoupled,
                         int64_t step) {
    rg__adam_args a;
    a.params = params, a.grads = grads, a.m = m, a.v = v, a.n = n, a.lr = lr, a.beta1 = beta1, a.beta2 = beta2,
    a.eps = eps, a.weight_decay = weight_decay, a.decoupled = decoupled, a.step = step;
    rg__cpu_for(ctx, n, RG__GRAIN_SPLIT, rg__adam_range, &a);
}

/* ---- batch norm and GENConv ---- */

/* columns per task of the batch-norm reductions: a block of floats fills one 64-byte line,
   and there are enough blocks to keep threads busy at a few hundred channels */
#define RG__COL_BLOCK 16
/* channels per pass of the graph kernels: bounds their on-stack accumulators */
#define RG__CHUNK 64

/* libm in the precision of rg_real (the sizeof test folds at compile time) */
static rg_real rg__exp(rg_real x) {
    return sizeof(rg_real) == sizeof(float) ? (rg_real)expf((float)x) : (rg_real)exp((double)x);
}
static rg_real rg__log(rg_real x) {
    return sizeof(rg_real) == sizeof(float) ? (rg_real)logf((float)x) : (rg_real)log((double)x);
}
static rg_real rg__pow(rg_real x, rg_real y) {
    return sizeof(rg_real) == sizeof(float) ? (rg_real)powf((float)x, (float)y) : (rg_real)pow((double)x, (double)y);
}

/* Each task owns a block of columns: it reduces them over every row in row order, then
   writes them, so results never depend on the thread count. */
typedef struct rg__batchnorm_forward_args {
    rg_real *y, *mean, *rstd, *running_mean, *running_var;
    const rg_real *x, *gamma, *beta;
    int64_t rows, cols;
    double eps, momentum;
    int use_batch;
} rg__batchnorm_forward_args;

static void rg__batchnorm_forward_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__batchnorm_forward_args *a = (const rg__batchnorm_forward_args *)arg;
    rg_real *y = a->y, *mean = a->mean, *rstd = a->rstd, *running_mean = a->running_mean, *running_var = a->running_var;
    const rg_real *x = a->x, *gamma = a->gamma, *beta = a->beta;
    int64_t rows = a->rows, cols = a->cols;
    double eps = a->eps, momentum = a->momentum;
    int use_batch = a->use_batch;
    int64_t blk;
    (void)thread;
    for (blk = lo; blk < hi; blk++) {
        int64_t r, c, c0 = blk * RG__COL_BLOCK, n = cols - c0 < RG__COL_BLOCK ? cols - c0 : RG__COL_BLOCK;
        rg_real a[RG__COL_BLOCK];
        if (use_batch) {
            /* one pass of sums shifted by row 0, which keeps the sum of squares free of
               cancellation when |mean| >> std */
            double s1[RG__COL_BLOCK], s2[RG__COL_BLOCK];
            for (c = 0; c < n; c++) s1[c] = s2[c] = 0;
            for (r = 0; r < rows; r++) {
                const rg_real *xr = x + r * cols + c0;
                for (c = 0; c < n; c++) {
                    double d = (double)xr[c] - x[c0 + c];
                    s1[c] += d;
                    s2[c] += d * d;
                }
            }
            for (c = 0; c < n; c++) {
                double m1 = s1[c] / (double)rows, var = s2[c] / (double)rows - m1 * m1, mu = x[c0 + c] + m1;
                if (var < 0) var = 0;
                mean[c0 + c] = (rg_real)mu;
                rstd[c0 + c] = (rg_real)(1.0 / sqrt(var + eps));
                if (momentum > 0) {
                    running_mean[c0 + c] = (rg_real)((1 - momentum) * running_mean[c0 + c] + momentum * mu);
                    running_var[c0 + c] = (rg_real)((1 - momentum) * running_var[c0 + c] +
                                                    momentum * var * (double)rows / (double)(rows - 1));
                }
            }
        } else {
            for (c = 0; c < n; c++) {
                mean[c0 + c] = running_mean[c0 + c];
                rstd[c0 + c] = (rg_real)(1.0 / sqrt((double)running_var[c0 + c] + eps));
            }
        }
        for (c = 0; c < n; c++) a[c] = rstd[c0 + c] * gamma[c0 + c];
        for (r = 0; r < rows; r++) {
            const rg_real *xr = x + r * cols + c0;
            rg_real *yr = y + r * cols + c0;
            for (c = 0; c < n; c++) yr[c] = (xr[c] - mean[c0 + c]) * a[c] + beta[c0 + c];
        }
    }
}

static void rg__cpu_batchnorm_forward(rg_ctx *ctx, rg_real *y, rg_real *mean, rg_real *rstd, rg_real *running_mean,
                                      rg_real *running_var, const rg_real *x, const rg_real *gamma,
                                      const rg_real *beta, int64_t rows, int64_t cols, double eps, double momentum,
                                      int use_batch) {
    rg__batchnorm_forward_args a;
    a.y = y, a.mean = mean, a.rstd = rstd, a.running_mean = running_mean, a.running_var = running_var, a.x = x,
    a.gamma = gamma, a.beta = beta, a.rows = rows, a.cols = cols, a.eps = eps, a.momentum = momentum,
    a.use_batch = use_batch;
    rg__cpu_for(ctx, (cols + RG__COL_BLOCK - 1) / RG__COL_BLOCK, 1, rg__batchnorm_forward_range, &a);
}

/* With batch statistics dx = gamma * rstd * (dy - mean(dy) - xhat * mean(dy * xhat)): the
   direct path, the path through the mean and the path through the variance. Each block
   finishes its sums before it writes dx, so dx may alias dy. */
typedef struct rg__batchnorm_backward_args {
    rg_real *dx, *dgamma, *dbeta;
    const rg_real *dy, *x, *mean, *rstd, *gamma;
    int64_t rows, cols;
    int use_batch;
} rg__batchnorm_backward_args;

static void rg__batchnorm_backward_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__batchnorm_backward_args *a = (const rg__batchnorm_backward_args *)arg;
    rg_real *dx = a->dx, *dgamma = a->dgamma, *dbeta = a->dbeta;
    const rg_real *dy = a->dy, *x = a->x, *mean = a->mean, *rstd = a->rstd, *gamma = a->gamma;
    int64_t rows = a->rows, cols = a->cols;
    int use_batch = a->use_batch;
    int64_t blk;
    (void)thread;
    for (blk = lo; blk < hi; blk++) {
        int64_t r, c, c0 = blk * RG__COL_BLOCK, n = cols - c0 < RG__COL_BLOCK ? cols - c0 : RG__COL_BLOCK;
        double sg[RG__COL_BLOCK], sb[RG__COL_BLOCK];
        rg_real k[RG__COL_BLOCK], mg[RG__COL_BLOCK], mgx[RG__COL_BLOCK];
        for (c = 0; c < n; c++) sg[c] = sb[c] = 0;
        for (r = 0; r < rows; r++) {
            const rg_real *xr = x + r * cols + c0, *dyr = dy + r * cols + c0;
            for (c = 0; c < n; c++) {
                rg_real xhat = (xr[c] - mean[c0 + c]) * rstd[c0 + c];
                sg[c] += dyr[c] * xhat;
                sb[c] += dyr[c];
            }
        }
        for (c = 0; c < n; c++) {
            dgamma[c0 + c] += (rg_real)sg[c];
            dbeta[c0 + c] += (rg_real)sb[c];
            k[c] = gamma[c0 + c] * rstd[c0 + c];
            mg[c] = use_batch ? (rg_real)(sb[c] / (double)rows) : (rg_real)0;
            mgx[c] = use_batch ? (rg_real)(sg[c] / (double)rows) : (rg_real)0;
        }
        for (r = 0; r < rows; r++) {
            const rg_real *xr = x + r * cols + c0, *dyr = dy + r * cols + c0;
            rg_real *dxr = dx + r * cols + c0;
            for (c = 0; c < n; c++) {
                rg_real xhat = (xr[c] - mean[c0 + c]) * rstd[c0 + c];
                dxr[c] = k[c] * (dyr[c] - mg[c] - xhat * mgx[c]);
            }
        }
    }
}

static void rg__cpu_batchnorm_backward(rg_ctx *ctx, rg_real *dx, rg_real *dgamma, rg_real *dbeta, const rg_real *dy,
                                       const rg_real *x, const rg_real *mean, const rg_real *rstd,
                                       const rg_real *gamma, int64_t rows, int64_t cols, int use_batch) {
    rg__batchnorm_backward_args a;
    a.dx = dx, a.dgamma = dgamma, a.dbeta = dbeta, a.dy = dy, a.x = x, a.mean = mean, a.rstd = rstd,
    a.gamma = gamma, a.rows = rows, a.cols = cols, a.use_batch = use_batch;
    rg__cpu_for(ctx, (cols + RG__COL_BLOCK - 1) / RG__COL_BLOCK, 1, rg__batchnorm_backward_range, &a);
}

/* r (n) = ReLU(x[j, c0..] + e[k, c0..]): the message of edge k from node j, before + eps,
   over one chunk of channels (e NULL: no edge term). Recomputed wherever it is needed, so
   no (E, D) message tensor is ever stored. */
static void rg__gen_relu_msg(rg_real *r, const rg_real *x, const rg_real *e, int64_t j, int64_t k, int64_t dim,
                             int64_t c0, int64_t n) {
    const rg_real *xj = x + j * dim + c0;
    int64_t c;
    if (e) {
        const rg_real *ek = e + k * dim + c0;
        for (c = 0; c < n; c++) {
            rg_real a = xj[c] + ek[c];
            r[c] = a > 0 ? a : (rg_real)0;
        }
    } else {
        for (c = 0; c < n; c++) r[c] = xj[c] > 0 ? xj[c] : (rg_real)0;
    }
}

static int rg__gen_aggr_ok(rg_aggr aggr) {
    switch (aggr) {
    case RG_AGGR_SUM: case RG_AGGR_MEAN: case RG_AGGR_MAX: case RG_AGGR_SOFTMAX: case RG_AGGR_POWER: return 1;
    default: return 0;
    }
}

static void rg__gen_aggr_fail(rg_ctx *ctx, const char *op, rg_aggr aggr) {
    rg_status st = RG__FAIL(RG_ERR_ARG, "%s: aggregator %d is not SUM, MEAN, MAX, SOFTMAX or POWER", op, (int)aggr);
    if (ctx->status == RG_OK) ctx->status = st;
}

/* One task per destination node (dynamic schedule: degrees are skewed), channels in chunks. */
typedef struct rg__gen_aggregate_forward_args {
    rg_real *out, *aux;
    int32_t *argmax;
    const rg_real *x, *e;
    const int64_t *rowptr;
    const int32_t *src;
    int64_t n_nodes, dim;
    rg_aggr aggr;
    double eps;
    const rg_real *param;
    double param_value;
} rg__gen_aggregate_forward_args;

static void rg__gen_aggregate_forward_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__gen_aggregate_forward_args *a = (const rg__gen_aggregate_forward_args *)arg;
    rg_real *out = a->out, *aux = a->aux;
    int32_t *argmax = a->argmax;
    const rg_real *x = a->x, *e = a->e;
    const int64_t *rowptr = a->rowptr;
    const int32_t *src = a->src;
    int64_t dim = a->dim;
    rg_aggr aggr = a->aggr;
    double eps = a->eps;
    const rg_real *param = a->param;
    double param_value = a->param_value;
    const rg_real ep = (rg_real)eps, th = param ? *param : (rg_real)param_value;
    int64_t i;
    (void)thread;
    for (i = lo; i < hi; i++) {
        int64_t k, c, c0, beg = rowptr[i], end = rowptr[i + 1];
        double inv_deg = end > beg ? 1.0 / (double)(end - beg) : 0;
        for (c0 = 0; c0 < dim; c0 += RG__CHUNK) {
            int64_t n = dim - c0 < RG__CHUNK ? dim - c0 : RG__CHUNK;
            rg_real r[RG__CHUNK], *o = out + i * dim + c0;
            double s[RG__CHUNK], u[RG__CHUNK];
            if (beg == end) {
                for (c = 0; c < n; c++) o[c] = 0;
                if (aggr == RG_AGGR_SOFTMAX) for (c = 0; c < n; c++) aux[i * dim + c0 + c] = 0;
                if (aggr == RG_AGGR_MAX) for (c = 0; c < n; c++) argmax[i * dim + c0 + c] = -1;
                continue;
            }
            if (aggr == RG_AGGR_MAX) {
                /* strict > keeps the first edge in CSR order on ties */
                int32_t *am = argmax + i * dim + c0;
                rg__gen_relu_msg(r, x, e, src[beg], beg, dim, c0, n);
                for (c = 0; c < n; c++) { o[c] = r[c] + ep; am[c] = (int32_t)beg; }
                for (k = beg + 1; k < end; k++) {
                    rg__gen_relu_msg(r, x, e, src[k], k, dim, c0, n);
                    for (c = 0; c < n; c++)
                        if (r[c] + ep > o[c]) { o[c] = r[c] + ep; am[c] = (int32_t)k; }
                }
            } else if (aggr == RG_AGGR_SOFTMAX) {
                /* max first so no exp overflows; aux ends as max + log(sum exp) */
                rg_real *mx = aux + i * dim + c0;
                rg__gen_relu_msg(r, x, e, src[beg], beg, dim, c0, n);
                for (c = 0; c < n; c++) mx[c] = th * (r[c] + ep);
                for (k = beg + 1; k < end; k++) {
                    rg__gen_relu_msg(r, x, e, src[k], k, dim, c0, n);
                    for (c = 0; c < n; c++) mx[c] = th * (r[c] + ep) > mx[c] ? th * (r[c] + ep) : mx[c];
                }
                for (c = 0; c < n; c++) s[c] = u[c] = 0;
                for (k = beg; k < end; k++) {
                    rg__gen_relu_msg(r, x, e, src[k], k, dim, c0, n);
                    for (c = 0; c < n; c++) {
                        rg_real m = r[c] + ep, w = rg__exp(th * m - mx[c]);
                        s[c] += w;
                        u[c] += w * m;
                    }
                }
                for (c = 0; c < n; c++) {
                    o[c] = (rg_real)(u[c] / s[c]);
                    mx[c] += (rg_real)log(s[c]);
                }
            } else if (aggr == RG_AGGR_POWER) {
                for (c = 0; c < n; c++) s[c] = 0;
                for (k = beg; k < end; k++) {
                    rg__gen_relu_msg(r, x, e, src[k], k, dim, c0, n);
                    for (c = 0; c < n; c++) s[c] += rg__pow(r[c] + ep, th);
                }
                for (c = 0; c < n; c++) o[c] = (rg_real)pow(s[c] * inv_deg, 1.0 / (double)th);
            } else {
                for (c = 0; c < n; c++) s[c] = 0;
                for (k = beg; k < end; k++) {
                    rg__gen_relu_msg(r, x, e, src[k], k, dim, c0, n);
                    for (c = 0; c < n; c++) s[c] += r[c] + ep;
                }
                if (aggr == RG_AGGR_MEAN)
                    for (c = 0; c < n; c++) s[c] *= inv_deg;
                for (c = 0; c < n; c++) o[c] = (rg_real)s[c];
            }
        }
    }
}

static void rg__cpu_gen_aggregate_forward(rg_ctx *ctx, rg_real *out, rg_real *aux, int32_t *argmax, const rg_real *x,
                                          const rg_real *e, const int64_t *rowptr, const int32_t *src,
                                          int64_t n_nodes, int64_t dim, rg_aggr aggr, double eps,
                                          const rg_real *param, double param_value) {
    rg__gen_aggregate_forward_args a;
    if (!rg__gen_aggr_ok(aggr)) { rg__gen_aggr_fail(ctx, "gen_aggregate_forward", aggr); return; }
    a.out = out, a.aux = aux, a.argmax = argmax, a.x = x, a.e = e, a.rowptr = rowptr, a.src = src,
    a.n_nodes = n_nodes, a.dim = dim, a.aggr = aggr, a.eps = eps, a.param = param, a.param_value = param_value;
    rg__cpu_for(ctx, n_nodes, RG__GRAIN_ROWS, rg__gen_aggregate_forward_range, &a);
}

/* One task per SOURCE node j, gathering over its outgoing edges k (to i = dst[k]), so every
   dx row and every de row has exactly one writer. With g = dL/dout_i and m the message:
   SUM dm = g; MEAN g / deg_i; MAX g on the recorded winner only; SOFTMAX, w = exp(t m - lse):
   dm = g w (1 + t (m - out)), dt = g w m (m - out); POWER, q = (m / out)^(p - 1):
   dm = g q / deg_i, dp = g out / (p deg_i) (q (m / out) log m - log out). Then the ReLU mask. */
typedef struct rg__gen_aggregate_backward_args {
    rg_real *dx, *de, *dparam_part;
    const rg_real *dout, *out, *aux;
    const int32_t *argmax;
    const rg_real *x, *e;
    const int64_t *rowptr;
    const int32_t *dst;
    const int64_t *t_rowptr, *t_edge;
    int64_t n_nodes, dim;
    rg_aggr aggr;
    double eps;
    const rg_real *param;
    double param_value;
} rg__gen_aggregate_backward_args;

static void rg__gen_aggregate_backward_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__gen_aggregate_backward_args *a = (const rg__gen_aggregate_backward_args *)arg;
    rg_real *dx = a->dx, *de = a->de, *dparam_part = a->dparam_part;
    const rg_real *dout = a->dout, *out = a->out, *aux = a->aux;
    const int32_t *argmax = a->argmax;
    const rg_real *x = a->x, *e = a->e;
    const int64_t *rowptr = a->rowptr;
    const int32_t *dst = a->dst;
    const int64_t *t_rowptr = a->t_rowptr, *t_edge = a->t_edge;
    int64_t dim = a->dim;
    rg_aggr aggr = a->aggr;
    double eps = a->eps;
    const rg_real *param = a->param;
    double param_value = a->param_value;
    const rg_real ep = (rg_real)eps, th = param ? *param : (rg_real)param_value;
    int64_t j;
    (void)thread;
    for (j = lo; j < hi; j++) {
        int64_t q, c, c0;
        double part = 0;
        for (c0 = 0; c0 < dim; c0 += RG__CHUNK) {
            int64_t n = dim - c0 < RG__CHUNK ? dim - c0 : RG__CHUNK;
            rg_real r[RG__CHUNK], gm[RG__CHUNK], w[RG__CHUNK];
            double acc[RG__CHUNK];
            for (c = 0; c < n; c++) acc[c] = 0;
            for (q = t_rowptr[j]; q < t_rowptr[j + 1]; q++) {
                int64_t k = t_edge[q], i = dst[k];
                const rg_real *g = dout + i * dim + c0, *o = out ? out + i * dim + c0 : NULL;
                rg_real inv_deg = (rg_real)(1.0 / (double)(rowptr[i + 1] - rowptr[i]));
                rg__gen_relu_msg(r, x, e, j, k, dim, c0, n);
                switch (aggr) {
                case RG_AGGR_MEAN:
                    for (c = 0; c < n; c++) gm[c] = g[c] * inv_deg;
                    break;
                case RG_AGGR_MAX: {
                    const int32_t *am = argmax + i * dim + c0;
                    for (c = 0; c < n; c++) gm[c] = am[c] == k ? g[c] : (rg_real)0;
                    break;
                }
                case RG_AGGR_SOFTMAX: {
                    const rg_real *lse = aux + i * dim + c0;
                    for (c = 0; c < n; c++) {
                        rg_real m = r[c] + ep;
                        w[c] = rg__exp(th * m - lse[c]);
                        gm[c] = g[c] * w[c] * (1 + th * (m - o[c]));
                    }
                    if (dparam_part)
                        for (c = 0; c < n; c++) part += g[c] * w[c] * (r[c] + ep) * (r[c] + ep - o[c]);
                    break;
                }
                case RG_AGGR_POWER:
                    for (c = 0; c < n; c++) {
                        w[c] = rg__pow((r[c] + ep) / o[c], th - 1);
                        gm[c] = g[c] * w[c] * inv_deg;
                    }
                    if (dparam_part)
                        for (c = 0; c < n; c++)
                            part += g[c] * o[c] * inv_deg / th *
                                    (w[c] * (r[c] + ep) / o[c] * rg__log(r[c] + ep) - rg__log(o[c]));
                    break;
                default: /* SUM */
                    for (c = 0; c < n; c++) gm[c] = g[c];
                }
                for (c = 0; c < n; c++) gm[c] = r[c] > 0 ? gm[c] : (rg_real)0;
                if (de)
                    for (c = 0; c < n; c++) de[k * dim + c0 + c] = gm[c];
                for (c = 0; c < n; c++) acc[c] += gm[c];
            }
            if (dx)
                for (c = 0; c < n; c++) dx[j * dim + c0 + c] = (rg_real)acc[c];
        }
        if (dparam_part) dparam_part[j] = (rg_real)part;
    }
}

static void rg__cpu_gen_aggregate_backward(rg_ctx *ctx, rg_real *dx, rg_real *de, rg_real *dparam_part,
                                           const rg_real *dout, const rg_real *out, const rg_real *aux,
                                           const int32_t *argmax, const rg_real *x, const rg_real *e,
                                           const int64_t *rowptr, const int32_t *dst, const int64_t *t_rowptr,
                                           const int64_t *t_edge, int64_t n_nodes, int64_t dim, rg_aggr aggr,
                                           double eps, const rg_real *param, double param_value) {
    rg__gen_aggregate_backward_args a;
    if (!rg__gen_aggr_ok(aggr)) { rg__gen_aggr_fail(ctx, "gen_aggregate_backward", aggr); return; }
    a.dx = dx, a.de = de, a.dparam_part = dparam_part, a.dout = dout, a.out = out, a.aux = aux,
    a.argmax = argmax, a.x = x, a.e = e, a.rowptr = rowptr, a.dst = dst, a.t_rowptr = t_rowptr,
    a.t_edge = t_edge, a.n_nodes = n_nodes, a.dim = dim, a.aggr = aggr, a.eps = eps, a.param = param,
    a.param_value = param_value;
    rg__cpu_for(ctx, n_nodes, RG__GRAIN_ROWS, rg__gen_aggregate_backward_range, &a);
}

typedef struct rg__msgnorm_forward_args {
    rg_real *h;
    const rg_real *agg, *x, *scale;
    int64_t rows, cols;
} rg__msgnorm_forward_args;

static void rg__msgnorm_forward_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__msgnorm_forward_args *a = (const rg__msgnorm_forward_args *)arg;
    rg_real *h = a->h;
    const rg_real *agg = a->agg, *x = a->x, *scale = a->scale;
    int64_t cols = a->cols;
    const double s = scale ? (double)*scale : 1.0;
    int64_t i;
    (void)thread;
    for (i = lo; i < hi; i++) {
        const rg_real *a = agg + i * cols, *xi = x + i * cols;
        double nx = 0, na = 0;
        rg_real f;
        int64_t c;
        for (c = 0; c < cols; c++) {
            nx += (double)xi[c] * xi[c];
            na += (double)a[c] * a[c];
        }
        f = (rg_real)(s * sqrt(nx) / fmax(sqrt(na), RG_MSGNORM_FLOOR));
        for (c = 0; c < cols; c++) h[i * cols + c] = f * a[c];
    }
}

static void rg__cpu_msgnorm_forward(rg_ctx *ctx, rg_real *h, const rg_real *agg, const rg_real *x,
                                    const rg_real *scale, int64_t rows, int64_t cols) {
    rg__msgnorm_forward_args a;
    a.h = h, a.agg = agg, a.x = x, a.scale = scale, a.rows = rows, a.cols = cols;
    rg__cpu_for(ctx, rows, RG__GRAIN_SPLIT, rg__msgnorm_forward_range, &a);
}

/* h = s |x| a / |a| (above the floor): dh . u with u = a / |a| gives ds = |x| (dh . u),
   dx = s (dh . u) x / |x| and da = s |x| / |a| (dh - u (dh . u)); below the floor |a| is
   the constant floor, and the projection term vanishes. */
typedef struct rg__msgnorm_backward_args {
    rg_real *dagg, *dx, *dscale_part;
    const rg_real *dh, *agg, *x, *scale;
    int64_t rows, cols;
} rg__msgnorm_backward_args;

static void rg__msgnorm_backward_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__msgnorm_backward_args *a = (const rg__msgnorm_backward_args *)arg;
    rg_real *dagg = a->dagg, *dx = a->dx, *dscale_part = a->dscale_part;
    const rg_real *dh = a->dh, *agg = a->agg, *x = a->x, *scale = a->scale;
    int64_t cols = a->cols;
    const double s = scale ? (double)*scale : 1.0;
    int64_t i;
    (void)thread;
    for (i = lo; i < hi; i++) {
        const rg_real *a = agg + i * cols, *xi = x + i * cols, *g = dh + i * cols;
        double nx = 0, na = 0, dot = 0, den, gu, proj;
        rg_real kx, ka, kp;
        int64_t c;
        for (c = 0; c < cols; c++) {
            nx += (double)xi[c] * xi[c];
            na += (double)a[c] * a[c];
            dot += (double)g[c] * a[c];
        }
        nx = sqrt(nx);
        na = sqrt(na);
        den = fmax(na, RG_MSGNORM_FLOOR);
        gu = dot / den;
        proj = na > RG_MSGNORM_FLOOR ? gu / na : 0;
        if (dscale_part) dscale_part[i] = (rg_real)(nx * gu);
        kx = (rg_real)(nx > 0 ? s * gu / nx : 0);
        ka = (rg_real)(s * nx / den);
        kp = (rg_real)proj;
        for (c = 0; c < cols; c++) {
            dx[i * cols + c] = kx * xi[c];
            dagg[i * cols + c] = ka * (g[c] - a[c] * kp);
        }
    }
}

static void rg__cpu_msgnorm_backward(rg_ctx *ctx, rg_real *dagg, rg_real *dx, rg_real *dscale_part,
                                     const rg_real *dh, const rg_real *agg, const rg_real *x, const rg_real *scale,
                                     int64_t rows, int64_t cols) {
    rg__msgnorm_backward_args a;
    a.dagg = dagg, a.dx = dx, a.dscale_part = dscale_part, a.dh = dh, a.agg = agg, a.x = x, a.scale = scale,
    a.rows = rows, a.cols = cols;
    rg__cpu_for(ctx, rows, RG__GRAIN_SPLIT, rg__msgnorm_backward_range, &a);
}

static double rg__cpu_dot(rg_ctx *ctx, const rg_real *x, const rg_real *y, int64_t n) {
    double acc = 0;
    int64_t i;
    (void)ctx;
    for (i = 0; i < n; i++) acc += (double)x[i] * y[i];
    return acc;
}

typedef struct rg__regroup_args {
    rg_real *dst;
    const rg_real *src;
    int64_t groups, n, width;
    int to_group_major;
} rg__regroup_args;

static void rg__regroup_range(void *arg, int64_t lo, int64_t hi, int thread) {
    const rg__regroup_args *a = (const rg__regroup_args *)arg;
    rg_real *dst = a->dst;
    const rg_real *src = a->src;
    int64_t groups = a->groups, n = a->n, width = a->width;
    int to_group_major = a->to_group_major;
    int64_t r;
    (void)thread;
    for (r = lo; r < hi; r++) {
        int64_t g;
        for (g = 0; g < groups; g++) {
            size_t bytes = (size_t)width * sizeof(rg_real);
            int64_t nm = r * groups * width + g * width, gm = (g * n + r) * width;
            if (to_group_major) memcpy(dst + gm, src + nm, bytes);
            else memcpy(dst + nm, src + gm, bytes);
        }
    }
}

static void rg__cpu_regroup(rg_ctx *ctx, rg_real *dst, const rg_real *src, int64_t groups, int64_t n, int64_t width,
                            int to_group_major) {
    rg__regroup_args a;
    a.dst = dst, a.src = src, a.groups = groups, a.n = n, a.width = width, a.to_group_major = to_group_major;
    rg__cpu_for(ctx, n, RG__GRAIN_SPLIT, rg__regroup_range, &a);
}

static void rg__cpu_destroy(rg_ctx *ctx) {
    rg__cpu_state *s = (rg__cpu_state *)ctx->backend;
    if (!s) return;
    rg__pool_destroy(ctx, s->pool);
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
    rg__cpu_batchnorm_forward,
    rg__cpu_batchnorm_backward,
    rg__cpu_gen_aggregate_forward,
    rg__cpu_gen_aggregate_backward,
    rg__cpu_msgnorm_forward,
    rg__cpu_msgnorm_backward,
    rg__cpu_bce_logits,
    rg__cpu_softmax_xent,
    rg__cpu_adam,
    /* graph convolutions */
    rg__cpu_spmm,
    rg__cpu_spmm_t,
    rg__cpu_gat_scores,
    rg__cpu_gat_aggregate,
    rg__cpu_gat_backward_dst,
    rg__cpu_gat_backward_src,
    rg__cpu_gat_att_grad,
    /* models */
    rg__cpu_dot,
    rg__cpu_regroup,
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
    s->pool = rg__pool_create(ctx, ctx->n_threads);
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
    /* n_names counts every view, so a sizing pass learns how many names to make room for */
    if (b->names && b->n_names < b->cap_names) {
        rg_param_name *n = &b->names[b->n_names];
        rg__join(n->name, sizeof n->name, b->prefix, name);
        n->offset = *used;
        n->rows = rows;
        n->cols = cols;
        n->is_buffer = is_buffer;
    }
    b->n_names++;
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

/* ---- graph convolutions: GCN, SAGE, GAT ---- */

/* W (rows, cols) Glorot uniform: +-sqrt(6 / (fan_in + fan_out)) */
static rg_status rg__init_glorot(rg_ctx *ctx, rg_tensor t, uint64_t stream) {
    double bound = sqrt(6.0 / (double)(t.rows + t.cols > 0 ? t.rows + t.cols : 1));
    return rg_tensor_init_uniform(ctx, t, -bound, bound, stream);
}

/* The checks every conv pass shares: a graph on this context, a cache sized for it, the node
   input (N, in) and the node output or its gradient (N, out). */
static rg_status rg__conv_check(const char *fn, rg_ctx *ctx, const rg_graph *g, int64_t cache_nodes, rg_tensor x,
                                int64_t in, const char *ywhat, rg_tensor y, int64_t out) {
    int64_t n;
    RG__CHECK_ARG(ctx && g, "%s: NULL %s", fn, ctx ? "graph" : "context");
    RG__CHECK_ARG(g->ctx == ctx, "%s: the graph is not on this context (rg_graph_to_device)", fn);
    n = g->n_nodes;
    RG__CHECK_ARG(cache_nodes == n, "%s: the cache is for %lld nodes, the graph has %lld", fn,
                  (long long)cache_nodes, (long long)n);
    RG__CHECK_SHAPE(fn, "x", x, n, in);
    RG__CHECK_SHAPE(fn, ywhat, y, n, out);
    return RG_OK;
}

RGDEF void rg_gcn_bind(rg_gcn *p, rg_binder *b, int64_t in, int64_t out, const char *name) {
    rg_linear_bind(&p->lin, b, in, out, 1, name);
}

RGDEF rg_status rg_gcn_init(rg_ctx *ctx, const rg_gcn *p, uint64_t stream) {
    RG__TRY(rg__init_glorot(ctx, p->lin.W, stream));
    return rg_tensor_fill(ctx, p->lin.b, 0);
}

RGDEF rg_status rg_gcn_cache_alloc(rg_ctx *ctx, rg_gcn_cache *cache, int64_t out, int64_t n_nodes) {
    RG__CHECK_ARG(cache != NULL, "rg_gcn_cache_alloc: NULL cache");
    memset(cache, 0, sizeof *cache);
    RG__CHECK_ARG(out >= 1 && n_nodes >= 1, "rg_gcn_cache_alloc: %s = %lld, must be >= 1", out < 1 ? "out" : "n_nodes",
                  (long long)(out < 1 ? out : n_nodes));
    RG__TRY(rg_tensor_alloc(ctx, &cache->xw, n_nodes, out));
    cache->n_nodes = n_nodes;
    return RG_OK;
}

RGDEF void rg_gcn_cache_free(rg_ctx *ctx, rg_gcn_cache *cache) {
    if (!cache) return;
    rg_tensor_free(ctx, &cache->xw);
    cache->n_nodes = 0;
}

/* y = A_hat (x W) + b: the product first, so the graph gather runs over out channels */
RGDEF rg_status rg_gcn_forward(rg_ctx *ctx, rg_tensor y, rg_gcn_cache *cache, rg_tensor x, const rg_graph *g,
                               const rg_gcn *p) {
    int64_t in = p->lin.W.rows, out = p->lin.W.cols, n;
    RG__TRY(rg__conv_check("rg_gcn_forward", ctx, g, cache->n_nodes, x, in, "y", y, out));
    RG__CHECK_SHAPE("rg_gcn_forward", "bias", p->lin.b, 1, out);
    n = g->n_nodes;
    RG__CHECK_SHAPE("rg_gcn_forward", "cache xw", cache->xw, n, out);
    ctx->ops->gemm(ctx, 0, 0, n, out, in, 1, x.data, in, p->lin.W.data, out, 0, cache->xw.data, out);
    ctx->ops->spmm(ctx, y.data, cache->xw.data, n, out, RG_AGGR_GCN, g->rowptr, g->src, g->inv_deg, g->gcn_dinv);
    ctx->ops->add_bias(ctx, y.data, p->lin.b.data, n, out);
    return rg_ctx_take_status(ctx);
}

/* with G = A_hat^T dy (into the cache): dW += x^T G, db += sum_rows dy, dx = G W^T */
RGDEF rg_status rg_gcn_backward(rg_ctx *ctx, rg_tensor dx, const rg_gcn *grad, rg_tensor dy, rg_tensor x,
                                const rg_graph *g, rg_gcn_cache *cache, const rg_gcn *p) {
    int64_t in = p->lin.W.rows, out = p->lin.W.cols, n;
    RG__TRY(rg__conv_check("rg_gcn_backward", ctx, g, cache->n_nodes, x, in, "dy", dy, out));
    n = g->n_nodes;
    RG__CHECK_SHAPE("rg_gcn_backward", "cache xw", cache->xw, n, out);
    if (dx.data) RG__CHECK_SHAPE("rg_gcn_backward", "dx", dx, n, in);
    ctx->ops->spmm_t(ctx, cache->xw.data, dy.data, n, out, RG_AGGR_GCN, g->t_rowptr, g->t_edge, g->dst, g->inv_deg,
                     g->gcn_dinv);
    ctx->ops->gemm(ctx, 1, 0, in, out, n, 1, x.data, in, cache->xw.data, out, 1, grad->lin.W.data, out);
    ctx->ops->col_sum(ctx, grad->lin.b.data, dy.data, n, out);
    if (dx.data) ctx->ops->gemm(ctx, 0, 1, n, in, out, 1, cache->xw.data, out, p->lin.W.data, out, 0, dx.data, in);
    return rg_ctx_take_status(ctx);
}

RGDEF void rg_sage_bind(rg_sage *p, rg_binder *b, int64_t in, int64_t out, const char *name) {
    char buf[96];
    rg_linear_bind(&p->lin_l, b, in, out, 1, rg__name(buf, sizeof buf, name, "lin_l."));
    rg_linear_bind(&p->lin_r, b, in, out, 0, rg__name(buf, sizeof buf, name, "lin_r."));
}

RGDEF rg_status rg_sage_init(rg_ctx *ctx, const rg_sage *p, uint64_t stream) {
    RG__TRY(rg_linear_init(ctx, &p->lin_l, stream));
    return rg_linear_init(ctx, &p->lin_r, stream + 2);
}

RGDEF rg_status rg_sage_cache_alloc(rg_ctx *ctx, rg_sage_cache *cache, int64_t in, int64_t n_nodes) {
    RG__CHECK_ARG(cache != NULL, "rg_sage_cache_alloc: NULL cache");
    memset(cache, 0, sizeof *cache);
    RG__CHECK_ARG(in >= 1 && n_nodes >= 1, "rg_sage_cache_alloc: %s = %lld, must be >= 1", in < 1 ? "in" : "n_nodes",
                  (long long)(in < 1 ? in : n_nodes));
    RG__TRY(rg_tensor_alloc(ctx, &cache->mean, n_nodes, in));
    if (rg_tensor_alloc(ctx, &cache->dmean, n_nodes, in) != RG_OK) {
        rg_tensor_free(ctx, &cache->mean);
        return RG_ERR_OOM;
    }
    cache->n_nodes = n_nodes;
    return RG_OK;
}

RGDEF void rg_sage_cache_free(rg_ctx *ctx, rg_sage_cache *cache) {
    if (!cache) return;
    rg_tensor_free(ctx, &cache->mean);
    rg_tensor_free(ctx, &cache->dmean);
    cache->n_nodes = 0;
}

static rg_status rg__sage_check(const char *fn, rg_ctx *ctx, const rg_graph *g, const rg_sage_cache *cache,
                                rg_tensor x, const char *ywhat, rg_tensor y, const rg_sage *p) {
    int64_t in = p->lin_l.W.rows, out = p->lin_l.W.cols;
    RG__TRY(rg__conv_check(fn, ctx, g, cache->n_nodes, x, in, ywhat, y, out));
    RG__CHECK_SHAPE(fn, "lin_l bias", p->lin_l.b, 1, out);
    RG__CHECK_SHAPE(fn, "lin_r weight", p->lin_r.W, in, out);
    RG__CHECK_SHAPE(fn, "cache mean", cache->mean, g->n_nodes, in);
    return RG_OK;
}

/* y = mean W_l + b + x W_r, the mean kept for dW_l */
RGDEF rg_status rg_sage_forward(rg_ctx *ctx, rg_tensor y, rg_sage_cache *cache, rg_tensor x, const rg_graph *g,
                                const rg_sage *p) {
    int64_t in = p->lin_l.W.rows, out = p->lin_l.W.cols, n;
    RG__TRY(rg__sage_check("rg_sage_forward", ctx, g, cache, x, "y", y, p));
    n = g->n_nodes;
    ctx->ops->spmm(ctx, cache->mean.data, x.data, n, in, RG_AGGR_MEAN, g->rowptr, g->src, g->inv_deg, g->gcn_dinv);
    ctx->ops->gemm(ctx, 0, 0, n, out, in, 1, cache->mean.data, in, p->lin_l.W.data, out, 0, y.data, out);
    ctx->ops->gemm(ctx, 0, 0, n, out, in, 1, x.data, in, p->lin_r.W.data, out, 1, y.data, out);
    ctx->ops->add_bias(ctx, y.data, p->lin_l.b.data, n, out);
    return rg_ctx_take_status(ctx);
}

/* dW_l += mean^T dy, dW_r += x^T dy; dx = A_mean^T (dy W_l^T) + dy W_r^T. The cache is
   only read, so backward may run again (DEQ's vector-Jacobian products do). */
RGDEF rg_status rg_sage_backward(rg_ctx *ctx, rg_tensor dx, const rg_sage *grad, rg_tensor dy, rg_tensor x,
                                 const rg_graph *g, rg_sage_cache *cache, const rg_sage *p) {
    int64_t in = p->lin_l.W.rows, out = p->lin_l.W.cols, n;
    RG__TRY(rg__sage_check("rg_sage_backward", ctx, g, cache, x, "dy", dy, p));
    n = g->n_nodes;
    if (dx.data) RG__CHECK_SHAPE("rg_sage_backward", "dx", dx, n, in);
    ctx->ops->gemm(ctx, 1, 0, in, out, n, 1, cache->mean.data, in, dy.data, out, 1, grad->lin_l.W.data, out);
    ctx->ops->gemm(ctx, 1, 0, in, out, n, 1, x.data, in, dy.data, out, 1, grad->lin_r.W.data, out);
    ctx->ops->col_sum(ctx, grad->lin_l.b.data, dy.data, n, out);
    if (dx.data) {
        ctx->ops->gemm(ctx, 0, 1, n, in, out, 1, dy.data, out, p->lin_l.W.data, out, 0, cache->dmean.data, in);
        ctx->ops->spmm_t(ctx, dx.data, cache->dmean.data, n, in, RG_AGGR_MEAN, g->t_rowptr, g->t_edge, g->dst,
                         g->inv_deg, g->gcn_dinv);
        ctx->ops->gemm(ctx, 0, 1, n, in, out, 1, dy.data, out, p->lin_r.W.data, out, 1, dx.data, in);
    }
    return rg_ctx_take_status(ctx);
}

static int rg__gat_valid(const rg_gat_config *cfg) {
    return cfg && cfg->in >= 1 && cfg->heads >= 1 && cfg->head_dim >= 1;
}

static rg_status rg__gat_check_config(const char *fn, const rg_gat_config *cfg) {
    RG__CHECK_ARG(cfg != NULL, "%s: NULL config", fn);
    RG__CHECK_ARG(cfg->in >= 1, "%s: in = %lld, must be >= 1", fn, (long long)cfg->in);
    RG__CHECK_ARG(cfg->heads >= 1, "%s: heads = %lld, must be >= 1", fn, (long long)cfg->heads);
    RG__CHECK_ARG(cfg->head_dim >= 1, "%s: head_dim = %lld, must be >= 1", fn, (long long)cfg->head_dim);
    return RG_OK;
}

RGDEF int64_t rg_gat_out_dim(const rg_gat_config *cfg) {
    if (!rg__gat_valid(cfg)) return 0;
    return cfg->concat ? cfg->heads * cfg->head_dim : cfg->head_dim;
}

RGDEF void rg_gat_bind(rg_gat *p, rg_binder *b, const rg_gat_config *cfg, const char *name) {
    char buf[96];
    int ok = rg__gat_valid(cfg);
    int64_t in = ok ? cfg->in : 0, heads = ok ? cfg->heads : 0, f = ok ? cfg->head_dim : 0;
    p->W = rg_bind_param(b, in, heads * f, rg__name(buf, sizeof buf, name, "weight"));
    p->att_src = rg_bind_param(b, heads, f, rg__name(buf, sizeof buf, name, "att_src"));
    p->att_dst = rg_bind_param(b, heads, f, rg__name(buf, sizeof buf, name, "att_dst"));
    p->bias = rg_bind_param(b, 1, rg_gat_out_dim(cfg), rg__name(buf, sizeof buf, name, "bias"));
}

static rg_status rg__gat_check_params(const char *fn, const rg_gat *p, const rg_gat_config *cfg) {
    RG__CHECK_SHAPE(fn, "W", p->W, cfg->in, cfg->heads * cfg->head_dim);
    RG__CHECK_SHAPE(fn, "att_src", p->att_src, cfg->heads, cfg->head_dim);
    RG__CHECK_SHAPE(fn, "att_dst", p->att_dst, cfg->heads, cfg->head_dim);
    RG__CHECK_SHAPE(fn, "bias", p->bias, 1, rg_gat_out_dim(cfg));
    return RG_OK;
}

RGDEF rg_status rg_gat_init(rg_ctx *ctx, const rg_gat *p, const rg_gat_config *cfg, uint64_t stream) {
    RG__TRY(rg__gat_check_config("rg_gat_init", cfg));
    RG__TRY(rg__gat_check_params("rg_gat_init", p, cfg));
    RG__TRY(rg__init_glorot(ctx, p->W, stream));
    RG__TRY(rg__init_glorot(ctx, p->att_src, stream + 1));
    RG__TRY(rg__init_glorot(ctx, p->att_dst, stream + 2));
    return rg_tensor_fill(ctx, p->bias, 0);
}

RGDEF void rg_gat_cache_free(rg_ctx *ctx, rg_gat_cache *cache) {
    if (!cache) return;
    rg_tensor_free(ctx, &cache->h);
    rg_tensor_free(ctx, &cache->s_src);
    rg_tensor_free(ctx, &cache->s_dst);
    rg_tensor_free(ctx, &cache->lse);
    rg_tensor_free(ctx, &cache->agg);
    rg_tensor_free(ctx, &cache->dh);
    rg_tensor_free(ctx, &cache->ds_src);
    rg_tensor_free(ctx, &cache->ds_dst);
    rg_tensor_free(ctx, &cache->dd);
    cache->n_nodes = 0;
}

RGDEF rg_status rg_gat_cache_alloc(rg_ctx *ctx, rg_gat_cache *cache, const rg_gat_config *cfg, int64_t n_nodes) {
    int64_t hf;
    rg_status st;
    RG__CHECK_ARG(cache != NULL, "rg_gat_cache_alloc: NULL cache");
    memset(cache, 0, sizeof *cache);
    RG__TRY(rg__gat_check_config("rg_gat_cache_alloc", cfg));
    RG__CHECK_ARG(n_nodes >= 1, "rg_gat_cache_alloc: n_nodes = %lld, must be >= 1", (long long)n_nodes);
    hf = cfg->heads * cfg->head_dim;
    if ((st = rg_tensor_alloc(ctx, &cache->h, n_nodes, hf)) != RG_OK ||
        (st = rg_tensor_alloc(ctx, &cache->agg, n_nodes, hf)) != RG_OK ||
        (st = rg_tensor_alloc(ctx, &cache->dh, n_nodes, hf)) != RG_OK ||
        (st = rg_tensor_alloc(ctx, &cache->s_src, n_nodes, cfg->heads)) != RG_OK ||
        (st = rg_tensor_alloc(ctx, &cache->s_dst, n_nodes, cfg->heads)) != RG_OK ||
        (st = rg_tensor_alloc(ctx, &cache->lse, n_nodes, cfg->heads)) != RG_OK ||
        (st = rg_tensor_alloc(ctx, &cache->ds_src, n_nodes, cfg->heads)) != RG_OK ||
        (st = rg_tensor_alloc(ctx, &cache->ds_dst, n_nodes, cfg->heads)) != RG_OK ||
        (st = rg_tensor_alloc(ctx, &cache->dd, n_nodes, cfg->heads)) != RG_OK) {
        rg_gat_cache_free(ctx, cache);
        return st;
    }
    cache->n_nodes = n_nodes;
    return RG_OK;
}

static rg_status rg__gat_check(const char *fn, rg_ctx *ctx, const rg_graph *g, const rg_gat_cache *cache,
                               rg_tensor x, const char *ywhat, rg_tensor y, const rg_gat *p, const rg_gat_config *cfg) {
    RG__TRY(rg__gat_check_config(fn, cfg));
    RG__TRY(rg__conv_check(fn, ctx, g, cache->n_nodes, x, cfg->in, ywhat, y, rg_gat_out_dim(cfg)));
    RG__TRY(rg__gat_check_params(fn, p, cfg));
    RG__CHECK_SHAPE(fn, "cache h", cache->h, g->n_nodes, cfg->heads * cfg->head_dim);
    RG__CHECK_SHAPE(fn, "cache lse", cache->lse, g->n_nodes, cfg->heads);
    return RG_OK;
}

/* h = x W; per head s_src, s_dst; softmax-weighted sums of h over N(i) (edges + self); y = heads
   concatenated or averaged, + bias */
RGDEF rg_status rg_gat_forward(rg_ctx *ctx, rg_tensor y, rg_gat_cache *cache, rg_tensor x, const rg_graph *g,
                               const rg_gat *p, const rg_gat_config *cfg) {
    int64_t n, heads, f;
    RG__TRY(rg__gat_check("rg_gat_forward", ctx, g, cache, x, "y", y, p, cfg));
    n = g->n_nodes;
    heads = cfg->heads;
    f = cfg->head_dim;
    ctx->ops->gemm(ctx, 0, 0, n, heads * f, cfg->in, 1, x.data, cfg->in, p->W.data, heads * f, 0, cache->h.data,
                   heads * f);
    ctx->ops->gat_scores(ctx, cache->s_src.data, cache->s_dst.data, cache->h.data, p->att_src.data, p->att_dst.data,
                         n, heads, f);
    ctx->ops->gat_aggregate(ctx, y.data, cache->agg.data, cache->lse.data, cache->h.data, cache->s_src.data,
                            cache->s_dst.data, g->rowptr, g->src, n, heads, f, cfg->concat);
    ctx->ops->add_bias(ctx, y.data, p->bias.data, n, rg_gat_out_dim(cfg));
    return rg_ctx_take_status(ctx);
}

/* ds_dst and dd gathered at destinations, then dh and ds_src at sources over the transpose;
   the attention gradients from ds_src, ds_dst; W and x through h = x W */
RGDEF rg_status rg_gat_backward(rg_ctx *ctx, rg_tensor dx, const rg_gat *grad, rg_tensor dy, rg_tensor x,
                                const rg_graph *g, rg_gat_cache *cache, const rg_gat *p, const rg_gat_config *cfg) {
    int64_t n, heads, f;
    RG__TRY(rg__gat_check("rg_gat_backward", ctx, g, cache, x, "dy", dy, p, cfg));
    n = g->n_nodes;
    heads = cfg->heads;
    f = cfg->head_dim;
    if (dx.data) RG__CHECK_SHAPE("rg_gat_backward", "dx", dx, n, cfg->in);
    ctx->ops->col_sum(ctx, grad->bias.data, dy.data, n, rg_gat_out_dim(cfg));
    ctx->ops->gat_backward_dst(ctx, cache->ds_dst.data, cache->dd.data, dy.data, cache->h.data, cache->agg.data,
                               cache->s_src.data, cache->s_dst.data, cache->lse.data, g->rowptr, g->src, n, heads, f,
                               cfg->concat);
    ctx->ops->gat_backward_src(ctx, cache->dh.data, cache->ds_src.data, dy.data, cache->h.data, cache->s_src.data,
                               cache->s_dst.data, cache->lse.data, cache->dd.data, cache->ds_dst.data,
                               p->att_src.data, p->att_dst.data, g->t_rowptr, g->t_edge, g->dst, n, heads, f,
                               cfg->concat);
    ctx->ops->gat_att_grad(ctx, grad->att_src.data, grad->att_dst.data, cache->ds_src.data, cache->ds_dst.data,
                           cache->h.data, n, heads, f);
    ctx->ops->gemm(ctx, 1, 0, cfg->in, heads * f, n, 1, x.data, cfg->in, cache->dh.data, heads * f, 1, grad->W.data,
                   heads * f);
    if (dx.data)
        ctx->ops->gemm(ctx, 0, 1, n, cfg->in, heads * f, 1, cache->dh.data, heads * f, p->W.data, heads * f, 0,
                       dx.data, cfg->in);
    return rg_ctx_take_status(ctx);
}

/* ============================== blocks ============================== */

/* Dropout streams: group g of every reversible block uses stream g (the mask is shared by all
   layers); residual layer l uses RG__STREAM_LAYER + l (stream 0 when shared); the head and the
   input their own. */
#define RG__STREAM_HEAD 0x4ead
#define RG__STREAM_INPUT 0x1a90
#define RG__STREAM_LAYER ((uint64_t)1 << 32)
#define RG__DEQ_INIT_SCALE 0.1 /* DEQ's conv1 starts at this fraction of the usual init */

/* The conv of a model: one kind, chosen at run time. */
typedef struct rg__conv_spec {
    rg_conv_kind kind;
    int64_t width;
    rg_gen_config gen;
    rg_gat_config gat;
} rg__conv_spec;
typedef struct rg__conv {
    rg_gen gen;
    rg_gcn gcn;
    rg_sage sage;
    rg_gat gat;
} rg__conv;
typedef struct rg__conv_cache {
    rg_gen_cache gen;
    rg_gcn_cache gcn;
    rg_sage_cache sage;
    rg_gat_cache gat;
} rg__conv_cache;

static void rg__conv_bind(rg__conv *p, rg_binder *b, const rg__conv_spec *s, const char *name) {
    switch (s->kind) {
    case RG_CONV_GEN: rg_gen_bind(&p->gen, b, &s->gen, name); break;
    case RG_CONV_GCN: rg_gcn_bind(&p->gcn, b, s->width, s->width, name); break;
    case RG_CONV_SAGE: rg_sage_bind(&p->sage, b, s->width, s->width, name); break;
    case RG_CONV_GAT: rg_gat_bind(&p->gat, b, &s->gat, name); break;
    }
}

static rg_status rg__conv_init(rg_ctx *ctx, const rg__conv *p, const rg__conv_spec *s, uint64_t stream) {
    switch (s->kind) {
    case RG_CONV_GEN: return rg_gen_init(ctx, &p->gen, &s->gen, stream);
    case RG_CONV_GCN: return rg_gcn_init(ctx, &p->gcn, stream);
    case RG_CONV_SAGE: return rg_sage_init(ctx, &p->sage, stream);
    case RG_CONV_GAT: return rg_gat_init(ctx, &p->gat, &s->gat, stream);
    }
    return RG_OK;
}

static rg_status rg__conv_cache_alloc(rg_ctx *ctx, rg__conv_cache *c, const rg__conv_spec *s, int64_t n, int64_t e) {
    memset(c, 0, sizeof *c);
    switch (s->kind) {
    case RG_CONV_GEN: return rg_gen_cache_alloc(ctx, &c->gen, &s->gen, n, e);
    case RG_CONV_GCN: return rg_gcn_cache_alloc(ctx, &c->gcn, s->width, n);
    case RG_CONV_SAGE: return rg_sage_cache_alloc(ctx, &c->sage, s->width, n);
    case RG_CONV_GAT: return rg_gat_cache_alloc(ctx, &c->gat, &s->gat, n);
    }
    return RG_OK;
}

static void rg__conv_cache_free(rg_ctx *ctx, rg__conv_cache *c, const rg__conv_spec *s) {
    switch (s->kind) {
    case RG_CONV_GEN: rg_gen_cache_free(ctx, &c->gen); break;
    case RG_CONV_GCN: rg_gcn_cache_free(ctx, &c->gcn); break;
    case RG_CONV_SAGE: rg_sage_cache_free(ctx, &c->sage); break;
    case RG_CONV_GAT: rg_gat_cache_free(ctx, &c->gat); break;
    }
}

static rg_status rg__conv_forward(rg_ctx *ctx, rg_tensor y, rg__conv_cache *c, rg_tensor x, const rg_graph *g,
                                  rg_tensor edge, const rg__conv *p, const rg__conv_spec *s, rg_mode mode) {
    switch (s->kind) {
    case RG_CONV_GEN: return rg_gen_forward(ctx, y, &c->gen, x, g, edge, &p->gen, &s->gen, mode);
    case RG_CONV_GCN: return rg_gcn_forward(ctx, y, &c->gcn, x, g, &p->gcn);
    case RG_CONV_SAGE: return rg_sage_forward(ctx, y, &c->sage, x, g, &p->sage);
    case RG_CONV_GAT: return rg_gat_forward(ctx, y, &c->gat, x, g, &p->gat, &s->gat);
    }
    return RG_OK;
}

static rg_status rg__conv_backward(rg_ctx *ctx, rg_tensor dx, rg_tensor dedge, const rg__conv *grad, rg_tensor dy,
                                   rg_tensor x, const rg_graph *g, rg_tensor edge, rg__conv_cache *c,
                                   const rg__conv *p, const rg__conv_spec *s) {
    switch (s->kind) {
    case RG_CONV_GEN:
        return rg_gen_backward(ctx, dx, dedge, &grad->gen, dy, x, g, edge, &c->gen, &p->gen, &s->gen, RG_MODE_TRAIN);
    case RG_CONV_GCN: return rg_gcn_backward(ctx, dx, &grad->gcn, dy, x, g, &c->gcn, &p->gcn);
    case RG_CONV_SAGE: return rg_sage_backward(ctx, dx, &grad->sage, dy, x, g, &c->sage, &p->sage);
    case RG_CONV_GAT: return rg_gat_backward(ctx, dx, &grad->gat, dy, x, g, &c->gat, &p->gat, &s->gat);
    }
    return RG_OK;
}

/* The function of a pre-activation block, f(z) = Conv(Dropout(ReLU(Norm(z)))) ("res+"). */
typedef struct rg__unit {
    rg_norm norm;
    rg__conv conv;
} rg__unit;
typedef struct rg__unit_cache {
    rg_norm_cache norm;
    rg_tensor act;     /* (N, W) Dropout(ReLU(Norm(z))), in place: the conv's input; its sign is
                          ReLU's derivative wherever dropout kept the value */
    rg__conv_cache conv;
} rg__unit_cache;

/* DEQ's f (the paper's eqs. 12-15): Z1 = Conv1(Z); Z2 = Norm1(Z1 + X);
   Z3 = Conv2(Dropout(ReLU(Z2))); f = Norm2(ReLU(Z3 + Z1)). */
typedef struct rg__deq {
    rg__conv conv1, conv2;
    rg_norm norm1, norm2;
} rg__deq;
typedef struct rg__deq_cache {
    rg__conv_cache c1, c2;
    rg_norm_cache n1, n2;
    rg_tensor zp, s1, zpp, act, t, r; /* (N, D): Z1, Z1 + X, Z2, Dropout(ReLU(Z2)), Z3 + Z1, ReLU(t) */
    rg_tensor dx;                     /* (N, D) dL/dX, the injection's gradient */
} rg__deq_cache;

/* Parameters of a model, bound once to the values and once to the gradients. */
typedef struct rg__parts {
    rg_linear enc, edge_enc, head;
    rg_norm head_norm;
    rg__unit *units;   /* n_units of them */
    rg__deq deq;
} rg__parts;

/* Broyden's buffers, each (N, D), and its low-rank inverse Jacobian (m, N * D) twice. */
typedef struct rg__broyden_ws {
    rg_tensor fx, gx, dx, dg, vt, u, best, us, vts;
} rg__broyden_ws;

struct rg_model {
    rg_ctx *ctx;
    rg_config cfg;
    rg__conv_spec spec;
    int64_t width;             /* W, the width of one conv */
    int64_t groups;            /* C of the state's layout (1 unless rev / wt-rev) */
    int64_t n_units;
    int64_t n_params, n_buffers;
    rg_tensor params, grads, adam_m, adam_v, buffers;
    rg_tensor junk_grads;      /* DEQ: parameter gradients of the solver's vector-Jacobian products, discarded */
    rg_param_name *names;
    int64_t n_names;
    rg__parts p, g, junk;
    int has_edges;
    int64_t deq_conv1_begin, deq_conv1_end; /* DEQ: conv1's range in the parameter block */
    /* workspace, sized for exactly ws_nodes x ws_edges */
    int64_t ws_nodes, ws_edges;
    int ws_ready;
    rg_tensor state, dstate;   /* (N, D) group-major hidden state and its gradient */
    rg_tensor nm;              /* (N, D) node-major: encoder output, head input, their gradients */
    rg_tensor dnm;             /* (N, D) DEQ: the head input's gradient (nm holds f(z*)) and scratch */
    rg_tensor tmp;             /* (N, D) DEQ scratch */
    rg_tensor xin;             /* (N, in_dim) the features after input dropout (when it is on) */
    rg_norm_cache head_cache;
    rg_tensor edge_emb, dedge; /* (E, W) */
    rg_tensor z, dact;         /* (N, W) */
    rg_tensor f;               /* (N, W) a unit's output f(z); in backward, after its last read, dz */
    rg__unit_cache *caches;
    int64_t n_caches;
    rg_tensor stored;          /* (S, N * D) stored states */
    int64_t n_stored;
    rg_tensor seg;             /* RES_CKPT: (s, N * D) inputs of one segment's layers */
    int64_t seg_len;
    rg__deq_cache dc;
    rg__broyden_ws bw;
    rg_tensor ubuf;            /* DEQ backward unknown (N, D) */
    /* the last forward */
    const rg_graph *graph;
    rg_tensor x;
    uint64_t seed;
    rg_mode mode;
    int backward_done;         /* backward consumed this forward (reversible blocks rebuild inputs in place) */
    rg_deq_stats deq_stats;
};

/* ---- config ---- */

RGDEF rg_config rg_config_default(void) {
    rg_config c;
    memset(&c, 0, sizeof c);
    c.arch = RG_ARCH_REV;
    c.conv = RG_CONV_GEN;
    c.aggr = RG_AGGR_SOFTMAX;
    c.norm = RG_NORM_LAYER;
    c.layers = 3;
    c.hidden = 64;
    c.groups = 2;
    c.heads = 1;
    c.deq_tol = 1e-4;
    c.deq_memory = 5;
    c.deq_max_iter = 0;
    return c;
}

static const char *const rg__arch_names[] = {"res", "res-ckpt", "rev", "wt-res", "wt-rev", "deq"};
static const char *const rg__conv_names[] = {"gen", "gcn", "sage", "gat"};
static const char *const rg__aggr_names[] = {"sum", "mean", "max", "softmax", "power", "gcn"};
static const char *const rg__norm_names[] = {"none", "layer", "batch"};

static rg_status rg__parse(const char *s, const char *const *names, int n, int *out, const char *what) {
    int i;
    RG__CHECK_ARG(s != NULL, "%s: NULL name", what);
    for (i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) { *out = i; return RG_OK; }
    return RG__FAIL(RG_ERR_ARG, "unknown %s '%s'", what, s);
}

RGDEF const char *rg_arch_name(rg_arch a) { return (unsigned)a < 6 ? rg__arch_names[a] : "?"; }
RGDEF const char *rg_conv_name(rg_conv_kind c) { return (unsigned)c < 4 ? rg__conv_names[c] : "?"; }
RGDEF const char *rg_aggr_name(rg_aggr a) { return (unsigned)a < 6 ? rg__aggr_names[a] : "?"; }
RGDEF const char *rg_norm_name(rg_norm_kind n) { return (unsigned)n < 3 ? rg__norm_names[n] : "?"; }
RGDEF rg_status rg_arch_parse(const char *s, rg_arch *out) {
    int v = 0;
    RG__TRY(rg__parse(s, rg__arch_names, 6, &v, "architecture"));
    *out = (rg_arch)v;
    return RG_OK;
}
RGDEF rg_status rg_conv_parse(const char *s, rg_conv_kind *out) {
    int v = 0;
    RG__TRY(rg__parse(s, rg__conv_names, 4, &v, "convolution"));
    *out = (rg_conv_kind)v;
    return RG_OK;
}
RGDEF rg_status rg_aggr_parse(const char *s, rg_aggr *out) {
    int v = 0;
    RG__TRY(rg__parse(s, rg__aggr_names, 5, &v, "aggregator")); /* "gcn" is internal */
    *out = (rg_aggr)v;
    return RG_OK;
}
RGDEF rg_status rg_norm_parse(const char *s, rg_norm_kind *out) {
    int v = 0;
    RG__TRY(rg__parse(s, rg__norm_names, 3, &v, "norm"));
    *out = (rg_norm_kind)v;
    return RG_OK;
}

static int rg__is_rev(rg_arch a) { return a == RG_ARCH_REV || a == RG_ARCH_WT_REV; }
static int rg__is_res(rg_arch a) { return a == RG_ARCH_RES || a == RG_ARCH_RES_CKPT || a == RG_ARCH_WT_RES; }

RGDEF rg_status rg_config_check(const rg_config *c) {
    int64_t width;
    RG__CHECK_ARG(c != NULL, "config: NULL");
    RG__CHECK_ARG((unsigned)c->arch < 6, "config: unknown architecture %d", (int)c->arch);
    RG__CHECK_ARG((unsigned)c->conv < 4, "config: unknown convolution %d", (int)c->conv);
    RG__CHECK_ARG((unsigned)c->norm < 3, "config: unknown norm %d", (int)c->norm);
    /* a residual network of no blocks is the MLP baseline (encoder -> head); the others need a block */
    RG__CHECK_ARG(c->layers >= 1 || (c->layers == 0 && c->arch == RG_ARCH_RES),
                  "config: layers = %lld, need at least 1 (0 only for res: the MLP baseline)", (long long)c->layers);
    RG__CHECK_ARG(c->hidden >= 1, "config: hidden = %lld, need at least 1", (long long)c->hidden);
    RG__CHECK_ARG(c->in_dim >= 1, "config: in_dim = %lld, need at least 1", (long long)c->in_dim);
    RG__CHECK_ARG(c->out_dim >= 1, "config: out_dim = %lld, need at least 1", (long long)c->out_dim);
    RG__CHECK_ARG(c->edge_dim >= 0, "config: edge_dim = %lld is negative", (long long)c->edge_dim);
    RG__CHECK_ARG(c->dropout >= 0 && c->dropout < 1, "config: dropout = %g is not in [0, 1)", c->dropout);
    RG__CHECK_ARG(c->input_dropout >= 0 && c->input_dropout < 1, "config: input_dropout = %g is not in [0, 1)",
                  c->input_dropout);
    if (rg__is_rev(c->arch)) {
        RG__CHECK_ARG(c->groups >= 2, "config: %s needs groups >= 2, got %lld", rg_arch_name(c->arch),
                      (long long)c->groups);
        RG__CHECK_ARG(c->hidden % c->groups == 0, "config: groups = %lld does not divide hidden = %lld",
                      (long long)c->groups, (long long)c->hidden);
    } else {
        RG__CHECK_ARG(c->groups <= 1, "config: groups = %lld, but %s has no groups (use rev or wt-rev)",
                      (long long)c->groups, rg_arch_name(c->arch));
    }
    width = rg__is_rev(c->arch) ? c->hidden / c->groups : c->hidden;
    if (c->conv == RG_CONV_GEN)
        RG__CHECK_ARG(c->aggr <= RG_AGGR_POWER, "config: aggregator %s is not a GEN aggregator", rg_aggr_name(c->aggr));
    if (c->conv == RG_CONV_GAT)
        RG__CHECK_ARG(c->heads >= 1 && width % c->heads == 0, "config: heads = %lld does not divide the conv width %lld",
                      (long long)c->heads, (long long)width);
    if (c->arch == RG_ARCH_DEQ) {
        RG__CHECK_ARG(c->deq_memory >= 1, "config: deq_memory = %d, need at least 1", c->deq_memory);
        RG__CHECK_ARG(c->deq_tol > 0, "config: deq_tol = %g, need > 0", c->deq_tol);
        RG__CHECK_ARG(c->deq_max_iter >= 0, "config: deq_max_iter = %d is negative", c->deq_max_iter);
    }
    RG__CHECK_ARG(!c->store_activations || c->arch == RG_ARCH_REV, "config: store_activations is for rev only");
    RG__CHECK_ARG(!c->res_shared_dropout || rg__is_res(c->arch),
                  "config: res_shared_dropout is for res, res-ckpt and wt-res (%s always shares its masks)",
                  rg_arch_name(c->arch));
    return RG_OK;
}

/* ---- parameters ---- */

static int64_t rg__n_units(const rg_config *c) {
    switch (c->arch) {
    case RG_ARCH_RES: case RG_ARCH_RES_CKPT: return c->layers;
    case RG_ARCH_REV: return c->layers * c->groups;
    case RG_ARCH_WT_RES: return 1;
    case RG_ARCH_WT_REV: return c->groups;
    case RG_ARCH_DEQ: return 0;
    }
    return 0;
}

/* the parameter set of block `layer`, group `group` */
static int64_t rg__unit_index(const rg_model *m, int64_t layer, int64_t group) {
    switch (m->cfg.arch) {
    case RG_ARCH_RES: case RG_ARCH_RES_CKPT: return layer;
    case RG_ARCH_REV: return layer * m->groups + group;
    case RG_ARCH_WT_REV: return group;
    default: return 0;
    }
}

static void rg__model_bind(rg_model *m, rg__parts *p, rg_binder *b) {
    const rg_config *c = &m->cfg;
    int64_t k;
    rg_linear_bind(&p->enc, b, c->in_dim, c->hidden, 1, "encoder.");
    if (m->has_edges) rg_linear_bind(&p->edge_enc, b, c->edge_dim, m->width, 1, "edge_encoder.");
    for (k = 0; k < m->n_units; k++) {
        snprintf(b->prefix, sizeof b->prefix, "blocks.%lld.", (long long)k);
        rg_norm_bind(&p->units[k].norm, b, c->norm, m->width, "norm.");
        rg__conv_bind(&p->units[k].conv, b, &m->spec, "conv.");
    }
    b->prefix[0] = '\0';
    if (c->arch == RG_ARCH_DEQ) {
        m->deq_conv1_begin = b->n_params;
        rg__conv_bind(&p->deq.conv1, b, &m->spec, "deq.conv1.");
        m->deq_conv1_end = b->n_params;
        rg_norm_bind(&p->deq.norm1, b, c->norm, m->width, "deq.norm1.");
        rg__conv_bind(&p->deq.conv2, b, &m->spec, "deq.conv2.");
        rg_norm_bind(&p->deq.norm2, b, c->norm, m->width, "deq.norm2.");
    }
    rg_norm_bind(&p->head_norm, b, c->norm, c->hidden, "head_norm.");
    rg_linear_bind(&p->head, b, c->hidden, c->out_dim, 1, "head.");
}

static rg_status rg__model_init_params(rg_model *m) {
    rg_ctx *ctx = m->ctx;
    uint64_t seed = ctx->seed;
    int64_t k;
    rg_status st = RG_OK;
    ctx->seed = m->cfg.seed; /* initialisation draws from the config's seed */
    st = rg_linear_init(ctx, &m->p.enc, 1);
    if (st == RG_OK && m->has_edges) st = rg_linear_init(ctx, &m->p.edge_enc, 3);
    for (k = 0; st == RG_OK && k < m->n_units; k++) {
        st = rg_norm_init(ctx, &m->p.units[k].norm);
        if (st == RG_OK) st = rg__conv_init(ctx, &m->p.units[k].conv, &m->spec, 1000 + 32 * (uint64_t)k);
    }
    if (st == RG_OK && m->cfg.arch == RG_ARCH_DEQ) {
        st = rg__conv_init(ctx, &m->p.deq.conv1, &m->spec, 100);
        /* a small z-path makes f a contraction at initialisation, so Broyden starts in its
           basin (DEQ practice); training is free to grow it */
        if (st == RG_OK) {
            rg_real *w = m->params.data + m->deq_conv1_begin;
            int64_t count = m->deq_conv1_end - m->deq_conv1_begin;
            ctx->ops->axpby(ctx, count, (rg_real)RG__DEQ_INIT_SCALE, w, 0, w);
            st = rg_ctx_take_status(ctx);
        }
        if (st == RG_OK) st = rg__conv_init(ctx, &m->p.deq.conv2, &m->spec, 132);
        if (st == RG_OK) st = rg_norm_init(ctx, &m->p.deq.norm1);
        if (st == RG_OK) st = rg_norm_init(ctx, &m->p.deq.norm2);
    }
    if (st == RG_OK) st = rg_norm_init(ctx, &m->p.head_norm);
    if (st == RG_OK) st = rg_linear_init(ctx, &m->p.head, 5);
    ctx->seed = seed;
    return st;
}

/* ---- workspace ---- */

static rg_status rg__unit_cache_alloc(rg_model *m, rg__unit_cache *c, int64_t n, int64_t e) {
    rg_ctx *ctx = m->ctx;
    memset(c, 0, sizeof *c);
    RG__TRY(rg_norm_cache_alloc(ctx, &c->norm, m->cfg.norm, n, m->width));
    RG__TRY(rg_tensor_alloc(ctx, &c->act, n, m->width));
    return rg__conv_cache_alloc(ctx, &c->conv, &m->spec, n, e);
}

static void rg__unit_cache_free(rg_model *m, rg__unit_cache *c) {
    rg_norm_cache_free(m->ctx, &c->norm);
    rg_tensor_free(m->ctx, &c->act);
    rg__conv_cache_free(m->ctx, &c->conv, &m->spec);
}

static void rg__workspace_free(rg_model *m) {
    rg_ctx *ctx = m->ctx;
    int64_t k;
    rg_tensor *dense[] = {&m->state, &m->dstate, &m->nm, &m->dnm, &m->tmp, &m->xin,
                          &m->edge_emb, &m->dedge, &m->z, &m->f, &m->dact, &m->stored, &m->seg,
                          &m->dc.zp, &m->dc.s1, &m->dc.zpp, &m->dc.act, &m->dc.t, &m->dc.r, &m->dc.dx,
                          &m->bw.fx, &m->bw.gx, &m->bw.dx, &m->bw.dg, &m->bw.vt, &m->bw.u, &m->bw.best, &m->bw.us, &m->bw.vts,
                          &m->ubuf};
    for (k = 0; k < (int64_t)(sizeof dense / sizeof dense[0]); k++) rg_tensor_free(ctx, dense[k]);
    rg_norm_cache_free(ctx, &m->head_cache);
    if (m->caches) {
        for (k = 0; k < m->n_caches; k++) rg__unit_cache_free(m, &m->caches[k]);
        REVGNN_FREE(ctx, m->caches);
        m->caches = NULL;
    }
    if (m->cfg.arch == RG_ARCH_DEQ && m->ws_ready) {
        rg__conv_cache_free(ctx, &m->dc.c1, &m->spec);
        rg__conv_cache_free(ctx, &m->dc.c2, &m->spec);
        rg_norm_cache_free(ctx, &m->dc.n1);
        rg_norm_cache_free(ctx, &m->dc.n2);
    }
    m->n_caches = 0;
    m->ws_ready = 0;
    m->ws_nodes = m->ws_edges = 0;
}

static rg_status rg__workspace_alloc(rg_model *m, int64_t n, int64_t e) {
    rg_ctx *ctx = m->ctx;
    const rg_config *c = &m->cfg;
    int64_t D = c->hidden, W = m->width, k;
    m->ws_ready = 1; /* from here on, a failure frees what was made */
    m->ws_nodes = n;
    m->ws_edges = e;
    RG__TRY(rg_tensor_alloc(ctx, &m->state, n, D));
    RG__TRY(rg_tensor_alloc(ctx, &m->dstate, n, D));
    RG__TRY(rg_tensor_alloc(ctx, &m->nm, n, D));
    if (c->input_dropout > 0) RG__TRY(rg_tensor_alloc(ctx, &m->xin, n, c->in_dim));
    RG__TRY(rg_norm_cache_alloc(ctx, &m->head_cache, c->norm, n, D));
    if (m->has_edges) {
        RG__TRY(rg_tensor_alloc(ctx, &m->edge_emb, e, W));
        RG__TRY(rg_tensor_alloc(ctx, &m->dedge, e, W));
    }
    if (c->arch == RG_ARCH_DEQ) {
        int64_t mem = c->deq_memory;
        rg_tensor *nd[] = {&m->dc.zp, &m->dc.s1, &m->dc.zpp, &m->dc.act, &m->dc.t, &m->dc.r, &m->dc.dx, &m->bw.fx,
                           &m->bw.gx, &m->bw.dx, &m->bw.dg, &m->bw.vt, &m->bw.u, &m->bw.best, &m->ubuf};
        for (k = 0; k < (int64_t)(sizeof nd / sizeof nd[0]); k++) RG__TRY(rg_tensor_alloc(ctx, nd[k], n, D));
        RG__TRY(rg_tensor_alloc(ctx, &m->tmp, n, D));
        RG__TRY(rg_tensor_alloc(ctx, &m->dnm, n, D));
        RG__TRY(rg_tensor_alloc(ctx, &m->bw.us, mem, n * D));
        RG__TRY(rg_tensor_alloc(ctx, &m->bw.vts, mem, n * D));
        RG__TRY(rg__conv_cache_alloc(ctx, &m->dc.c1, &m->spec, n, e));
        RG__TRY(rg__conv_cache_alloc(ctx, &m->dc.c2, &m->spec, n, e));
        RG__TRY(rg_norm_cache_alloc(ctx, &m->dc.n1, c->norm, n, D));
        RG__TRY(rg_norm_cache_alloc(ctx, &m->dc.n2, c->norm, n, D));
        return RG_OK;
    }
    if (rg__is_rev(c->arch) && m->groups > 2) RG__TRY(rg_tensor_alloc(ctx, &m->z, n, W));
    RG__TRY(rg_tensor_alloc(ctx, &m->f, n, W));
    RG__TRY(rg_tensor_alloc(ctx, &m->dact, n, W));
    /* stored states and unit caches: what makes memory grow with depth, or not */
    switch (c->arch) {
    case RG_ARCH_RES: case RG_ARCH_WT_RES:
        m->n_stored = c->layers;
        m->n_caches = c->layers;
        break;
    case RG_ARCH_RES_CKPT:
        m->seg_len = (int64_t)ceil(sqrt((double)c->layers));
        m->n_stored = (c->layers + m->seg_len - 1) / m->seg_len;
        m->n_caches = m->seg_len;
        RG__TRY(rg_tensor_alloc(ctx, &m->seg, m->seg_len, n * D));
        break;
    default:
        m->n_stored = c->store_activations ? c->layers : 0;
        m->n_caches = 1;
        break;
    }
    if (m->n_stored) RG__TRY(rg_tensor_alloc(ctx, &m->stored, m->n_stored, n * D));
    m->caches = (rg__unit_cache *)REVGNN_MALLOC(ctx, (size_t)m->n_caches * sizeof(rg__unit_cache) + 1);
    if (!m->caches) return RG__FAIL(RG_ERR_OOM, "model: out of host memory for %lld caches", (long long)m->n_caches);
    memset(m->caches, 0, (size_t)m->n_caches * sizeof(rg__unit_cache));
    for (k = 0; k < m->n_caches; k++) RG__TRY(rg__unit_cache_alloc(m, &m->caches[k], n, e));
    return RG_OK;
}

RGDEF rg_status rg_model_reserve(rg_model *m, int64_t n_nodes, int64_t n_edges) {
    rg_status st;
    RG__CHECK_ARG(m != NULL, "rg_model_reserve: NULL model");
    RG__CHECK_ARG(n_nodes > 0 && n_edges >= 0, "rg_model_reserve: %lld nodes, %lld edges", (long long)n_nodes,
                  (long long)n_edges);
    if (m->ws_ready && m->ws_nodes == n_nodes && m->ws_edges == n_edges) return RG_OK;
    rg__workspace_free(m);
    st = rg__workspace_alloc(m, n_nodes, n_edges);
    if (st != RG_OK) rg__workspace_free(m);
    return st;
}

/* ---- create / destroy ---- */

static void rg__model_free(rg_model *m) {
    rg_ctx *ctx = m->ctx;
    rg__workspace_free(m);
    rg_tensor_free(ctx, &m->params);
    rg_tensor_free(ctx, &m->grads);
    rg_tensor_free(ctx, &m->adam_m);
    rg_tensor_free(ctx, &m->adam_v);
    rg_tensor_free(ctx, &m->buffers);
    rg_tensor_free(ctx, &m->junk_grads);
    REVGNN_FREE(ctx, m->p.units);
    REVGNN_FREE(ctx, m->g.units);
    REVGNN_FREE(ctx, m->junk.units);
    REVGNN_FREE(ctx, m->names);
    REVGNN_FREE(ctx, m);
}

/* Everything but the parameter values: the allocation path the memory plan replays. */
static rg_status rg__model_make(rg_ctx *ctx, const rg_config *cfg, rg_model **out) {
    rg_model *m;
    rg_binder b;
    size_t units_bytes;
    rg_status st;
    *out = NULL;
    RG__TRY(rg_config_check(cfg));
    m = (rg_model *)REVGNN_MALLOC(ctx, sizeof(rg_model));
    if (!m) return RG__FAIL(RG_ERR_OOM, "model: out of host memory");
    memset(m, 0, sizeof *m);
    m->ctx = ctx;
    m->cfg = *cfg;
    if (!rg__is_rev(cfg->arch)) m->cfg.groups = 1;
    m->groups = m->cfg.groups;
    m->width = cfg->hidden / m->groups;
    m->has_edges = cfg->conv == RG_CONV_GEN && cfg->edge_dim > 0;
    m->n_units = rg__n_units(cfg);
    m->spec.kind = cfg->conv;
    m->spec.width = m->width;
    m->spec.gen = rg_gen_config_default(m->width);
    m->spec.gen.aggr = cfg->aggr;
    m->spec.gen.learn_t = cfg->aggr == RG_AGGR_SOFTMAX;
    m->spec.gen.learn_p = cfg->aggr == RG_AGGR_POWER;
    m->spec.gen.msg_norm = cfg->msg_norm;
    m->spec.gen.learn_msg_scale = cfg->msg_norm;
    m->spec.gen.mlp_norm = cfg->norm;
    m->spec.gen.edge_dim = m->has_edges ? m->width : 0;
    m->spec.gat.in = m->width;
    m->spec.gat.heads = cfg->heads;
    m->spec.gat.head_dim = m->width / (cfg->heads > 0 ? cfg->heads : 1);
    m->spec.gat.concat = 1;
    units_bytes = (size_t)(m->n_units > 0 ? m->n_units : 1) * sizeof(rg__unit);
    m->p.units = (rg__unit *)REVGNN_MALLOC(ctx, units_bytes);
    m->g.units = (rg__unit *)REVGNN_MALLOC(ctx, units_bytes);
    m->junk.units = (rg__unit *)REVGNN_MALLOC(ctx, units_bytes);
    if (!m->p.units || !m->g.units || !m->junk.units) {
        /* the message first: freeing m takes n_units with it */
        st = RG__FAIL(RG_ERR_OOM, "model: out of host memory for %lld layers", (long long)m->n_units);
        rg__model_free(m);
        return st;
    }
    /* sizing pass, then the named binding of values and buffers, then the gradients */
    b = rg_binder_make(NULL, NULL);
    rg__model_bind(m, &m->p, &b);
    m->n_params = b.n_params;
    m->n_buffers = b.n_buffers;
    m->n_names = b.n_names;
    m->names = (rg_param_name *)REVGNN_MALLOC(ctx, (size_t)m->n_names * sizeof(rg_param_name) + 1);
    if (!m->names) { rg__model_free(m); return RG__FAIL(RG_ERR_OOM, "model: out of host memory for names"); }
    st = rg_tensor_alloc(ctx, &m->params, 1, m->n_params);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &m->grads, 1, m->n_params);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &m->adam_m, 1, m->n_params);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &m->adam_v, 1, m->n_params);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &m->buffers, 1, m->n_buffers);
    if (st == RG_OK && cfg->arch == RG_ARCH_DEQ) st = rg_tensor_alloc(ctx, &m->junk_grads, 1, m->n_params);
    if (st != RG_OK) { rg__model_free(m); return st; }
    b = rg_binder_make(m->params.data, m->buffers.data);
    b.names = m->names;
    b.cap_names = m->n_names;
    rg__model_bind(m, &m->p, &b);
    b = rg_binder_make(m->grads.data, NULL);
    rg__model_bind(m, &m->g, &b);
    b = rg_binder_make(m->junk_grads.data, NULL);
    rg__model_bind(m, &m->junk, &b);
    *out = m;
    return RG_OK;
}

RGDEF rg_status rg_model_create(rg_ctx *ctx, const rg_config *cfg, rg_model **out) {
    rg_model *m;
    rg_status st;
    RG__CHECK_ARG(ctx && cfg && out, "rg_model_create: NULL argument");
    RG__TRY(rg__model_make(ctx, cfg, &m));
    st = rg__model_init_params(m);
    if (st == RG_OK) st = rg_tensor_fill(ctx, m->grads, 0);
    if (st == RG_OK) st = rg_tensor_fill(ctx, m->adam_m, 0);
    if (st == RG_OK) st = rg_tensor_fill(ctx, m->adam_v, 0);
    if (st != RG_OK) { rg__model_free(m); return st; }
    *out = m;
    return RG_OK;
}

RGDEF void rg_model_destroy(rg_model *m) {
    if (m) rg__model_free(m);
}

RGDEF const rg_config *rg_model_config(const rg_model *m) { return &m->cfg; }
RGDEF int64_t rg_model_num_params(const rg_model *m) { return m->n_params; }
RGDEF const rg_param_name *rg_model_params(const rg_model *m, int64_t *count) {
    *count = m->n_names;
    return m->names;
}
RGDEF rg_tensor rg_model_param_block(const rg_model *m) { return m->params; }
RGDEF rg_tensor rg_model_grad_block(const rg_model *m) { return m->grads; }
RGDEF rg_tensor rg_model_adam_m_block(const rg_model *m) { return m->adam_m; }
RGDEF rg_tensor rg_model_adam_v_block(const rg_model *m) { return m->adam_v; }
RGDEF rg_tensor rg_model_buffer_block(const rg_model *m) { return m->buffers; }
RGDEF rg_deq_stats rg_model_deq_stats(const rg_model *m) { return m->deq_stats; }
RGDEF rg_tensor rg_model_state(const rg_model *m) { return m->state; }
RGDEF rg_status rg_model_zero_grad(rg_model *m) { return rg_tensor_fill(m->ctx, m->grads, 0); }
RGDEF rg_status rg_model_adam_step(rg_model *m, rg_adam *opt) {
    return rg_adam_step(m->ctx, opt, m->params, m->grads, m->adam_m, m->adam_v);
}

/* ---- the pre-activation unit ---- */

static rg_status rg__unit_forward(rg_model *m, rg_tensor y, rg__unit_cache *c, rg_tensor z, const rg__unit *u,
                                  rg_mode mode, uint64_t stream) {
    rg_ctx *ctx = m->ctx;
    RG__TRY(rg_norm_forward(ctx, c->act, &c->norm, z, &u->norm, mode));
    RG__TRY(rg_relu_forward(ctx, c->act, c->act));
    if (mode != RG_MODE_EVAL) RG__TRY(rg_dropout_forward(ctx, c->act, c->act, m->cfg.dropout, m->seed, stream));
    return rg__conv_forward(ctx, y, &c->conv, c->act, m->graph, m->edge_emb, &u->conv, &m->spec, mode);
}

/* dz = J_f(z)^T dy; the unit's parameter gradients +=; dedge += */
static rg_status rg__unit_backward(rg_model *m, rg_tensor dz, rg_tensor dy, rg_tensor z, rg__unit_cache *c,
                                   const rg__unit *u, const rg__unit *gu, uint64_t stream) {
    rg_ctx *ctx = m->ctx;
    RG__TRY(rg__conv_backward(ctx, m->dact, m->dedge, &gu->conv, dy, c->act, m->graph, m->edge_emb, &c->conv,
                              &u->conv, &m->spec));
    RG__TRY(rg_dropout_backward(ctx, m->dact, m->dact, m->cfg.dropout, m->seed, stream));
    /* dact is 0 where dropout dropped, so act > 0 <=> normed > 0 wherever it matters */
    RG__TRY(rg_relu_backward(ctx, m->dact, m->dact, c->act));
    return rg_norm_backward(ctx, dz, &gu->norm, m->dact, z, &c->norm, &u->norm, RG_MODE_TRAIN);
}

/* ---- residual blocks ---- */

static rg_tensor rg__slice(rg_tensor block, int64_t i, int64_t rows, int64_t cols) {
    return rg_tensor_view(block.data + i * rows * cols, rows, cols);
}

static rg_status rg__axpy(rg_ctx *ctx, rg_tensor y, rg_real a, rg_tensor x) {
    ctx->ops->axpby(ctx, rg_tensor_numel(x), a, x.data, 1, y.data);
    return rg_ctx_take_status(ctx);
}

/* the dropout stream of residual layer l */
static uint64_t rg__res_stream(const rg_model *m, int64_t l) {
    return m->cfg.res_shared_dropout ? 0 : RG__STREAM_LAYER + (uint64_t)l;
}

static rg_status rg__res_forward(rg_model *m, int64_t N, rg_mode mode) {
    const rg_config *c = &m->cfg;
    int64_t l, D = c->hidden;
    int store = mode == RG_MODE_TRAIN && c->arch != RG_ARCH_RES_CKPT;
    for (l = 0; l < c->layers; l++) {
        rg_tensor x = rg_tensor_view(m->state.data, N, D), f = rg_tensor_view(m->f.data, N, D);
        rg__unit_cache *cache = &m->caches[store ? l : 0];
        if (store) {
            /* this layer's input, for its backward */
            x = rg__slice(m->stored, l, N, D);
            RG__TRY(rg_tensor_copy(m->ctx, x, rg_tensor_view(m->state.data, N, D)));
        } else if (mode == RG_MODE_TRAIN && l % m->seg_len == 0) {
            RG__TRY(rg_tensor_copy(m->ctx, rg__slice(m->stored, l / m->seg_len, N, D), x));
        }
        RG__TRY(rg__unit_forward(m, f, cache, x, &m->p.units[rg__unit_index(m, l, 0)], mode, rg__res_stream(m, l)));
        RG__TRY(rg__axpy(m->ctx, rg_tensor_view(m->state.data, N, D), 1, f));
    }
    return RG_OK;
}

/* dstate: dL/d(output) in, dL/d(input) out */
static rg_status rg__res_backward_layers(rg_model *m, int64_t N, int64_t l0, int64_t l1, rg_tensor inputs, int64_t first) {
    int64_t l, D = m->cfg.hidden;
    rg_tensor ds = rg_tensor_view(m->dstate.data, N, D), dz = rg_tensor_view(m->f.data, N, D);
    for (l = l1 - 1; l >= l0; l--) {
        int64_t k = rg__unit_index(m, l, 0);
        RG__TRY(rg__unit_backward(m, dz, ds, rg__slice(inputs, l - first, N, D), &m->caches[l - first], &m->p.units[k],
                                  &m->g.units[k], rg__res_stream(m, l)));
        RG__TRY(rg__axpy(m->ctx, ds, 1, dz)); /* the skip connection's identity */
    }
    return RG_OK;
}

static rg_status rg__res_backward(rg_model *m, int64_t N) {
    const rg_config *c = &m->cfg;
    int64_t seg, D = c->hidden;
    if (c->arch != RG_ARCH_RES_CKPT) return rg__res_backward_layers(m, N, 0, c->layers, m->stored, 0);
    /* recompute each segment from its checkpoint with full caches, then backpropagate it */
    for (seg = m->n_stored - 1; seg >= 0; seg--) {
        int64_t l0 = seg * m->seg_len, l1 = l0 + m->seg_len < c->layers ? l0 + m->seg_len : c->layers, l;
        RG__TRY(rg_tensor_copy(m->ctx, rg__slice(m->seg, 0, N, D), rg__slice(m->stored, seg, N, D)));
        for (l = l0; l < l1; l++) {
            rg_tensor x = rg__slice(m->seg, l - l0, N, D), f = rg_tensor_view(m->f.data, N, D);
            RG__TRY(rg__unit_forward(m, f, &m->caches[l - l0], x, &m->p.units[rg__unit_index(m, l, 0)],
                                     RG_MODE_RECOMPUTE, rg__res_stream(m, l)));
            if (l + 1 < l1) {
                rg_tensor next = rg__slice(m->seg, l + 1 - l0, N, D);
                RG__TRY(rg_tensor_copy(m->ctx, next, x));
                RG__TRY(rg__axpy(m->ctx, next, 1, f));
            }
        }
        RG__TRY(rg__res_backward_layers(m, N, l0, l1, m->seg, l0));
    }
    return RG_OK;
}

/* ---- grouped reversible blocks (DESIGN.md section 6) ---- */

static rg_tensor rg__group(rg_tensor block, int64_t g, int64_t N, int64_t W) {
    return rg_tensor_view(block.data + g * N * W, N, W);
}

/* *z = X_2 + ... + X_C (0-based: groups 1..C-1): X_2 itself for two groups (no copy, no
   buffer), else summed into m->z */
static rg_status rg__rev_sum_rest(rg_model *m, rg_tensor *z, rg_tensor state, int64_t N) {
    int64_t j, W = m->width;
    *z = rg__group(state, 1, N, W);
    if (m->groups == 2) return RG_OK;
    *z = rg_tensor_view(m->z.data, N, W);
    RG__TRY(rg_tensor_copy(m->ctx, *z, rg__group(state, 1, N, W)));
    for (j = 2; j < m->groups; j++) RG__TRY(rg__axpy(m->ctx, *z, 1, rg__group(state, j, N, W)));
    return RG_OK;
}

static rg_status rg__rev_forward(rg_model *m, int64_t N, rg_mode mode) {
    int64_t l, i, C = m->groups, W = m->width, D = m->cfg.hidden;
    rg_tensor z, f = rg_tensor_view(m->f.data, N, W);
    rg_tensor state = rg_tensor_view(m->state.data, N, D);
    for (l = 0; l < m->cfg.layers; l++) {
        if (m->n_stored && mode == RG_MODE_TRAIN)
            RG__TRY(rg_tensor_copy(m->ctx, rg__slice(m->stored, l, N, D), state));
        RG__TRY(rg__rev_sum_rest(m, &z, state, N));
        for (i = 0; i < C; i++) {
            /* Y_i = X_i + f_i(z); z = Y_i, in place */
            rg_tensor zi = i == 0 ? z : rg__group(state, i - 1, N, W), xi = rg__group(state, i, N, W);
            RG__TRY(rg__unit_forward(m, f, &m->caches[0], zi, &m->p.units[rg__unit_index(m, l, i)], mode, (uint64_t)i));
            RG__TRY(rg__axpy(m->ctx, xi, 1, f));
        }
    }
    return RG_OK;
}

/* For i = C..1: recompute f_i(z_i) once with its cache, reconstruct X_i = Y_i - f_i(z_i) in
   place, backpropagate: dX_i = dY_i, and J^T dY_i goes to dY_{i-1} (or, for i = 1, to every
   dX_j, j >= 2). */
static rg_status rg__rev_backward(rg_model *m, int64_t N) {
    int64_t l, i, j, C = m->groups, W = m->width, D = m->cfg.hidden;
    rg_tensor f = rg_tensor_view(m->f.data, N, W);
    rg_tensor dz = f; /* f is dead once X_i is rebuilt, before the unit's backward writes dz */
    rg_tensor state = rg_tensor_view(m->state.data, N, D), dstate = rg_tensor_view(m->dstate.data, N, D);
    for (l = m->cfg.layers - 1; l >= 0; l--) {
        for (i = C - 1; i >= 0; i--) {
            int64_t k = rg__unit_index(m, l, i);
            rg_tensor zi, xi = rg__group(state, i, N, W);
            if (i > 0) zi = rg__group(state, i - 1, N, W);
            else RG__TRY(rg__rev_sum_rest(m, &zi, state, N));
            RG__TRY(rg__unit_forward(m, f, &m->caches[0], zi, &m->p.units[k], RG_MODE_RECOMPUTE, (uint64_t)i));
            if (m->n_stored) /* the oracle: the true input instead of the reconstruction */
                RG__TRY(rg_tensor_copy(m->ctx, xi, rg__group(rg__slice(m->stored, l, N, D), i, N, W)));
            else
                RG__TRY(rg__axpy(m->ctx, xi, -1, f));
            RG__TRY(rg__unit_backward(m, dz, rg__group(dstate, i, N, W), zi, &m->caches[0], &m->p.units[k],
                                      &m->g.units[k], (uint64_t)i));
            if (i > 0) RG__TRY(rg__axpy(m->ctx, rg__group(dstate, i - 1, N, W), 1, dz));
            else
                for (j = 1; j < C; j++) RG__TRY(rg__axpy(m->ctx, rg__group(dstate, j, N, W), 1, dz));
        }
    }
    return RG_OK;
}

/* ---- DEQ ---- */

/* out = f(z, X) with X = m->nm; cache in m->dc */
static rg_status rg__deq_f(rg_model *m, rg_tensor out, rg_tensor z, int64_t N, rg_mode mode) {
    rg_ctx *ctx = m->ctx;
    rg__deq_cache *c = &m->dc;
    const rg__deq *p = &m->p.deq;
    int64_t D = m->cfg.hidden;
    rg_tensor zp = rg_tensor_view(c->zp.data, N, D), s1 = rg_tensor_view(c->s1.data, N, D);
    rg_tensor zpp = rg_tensor_view(c->zpp.data, N, D), act = rg_tensor_view(c->act.data, N, D);
    rg_tensor t = rg_tensor_view(c->t.data, N, D), r = rg_tensor_view(c->r.data, N, D);
    rg_tensor X = rg_tensor_view(m->nm.data, N, D);
    RG__TRY(rg__conv_forward(ctx, zp, &c->c1, z, m->graph, m->edge_emb, &p->conv1, &m->spec, mode));
    RG__TRY(rg_tensor_copy(ctx, s1, zp));
    RG__TRY(rg__axpy(ctx, s1, 1, X));
    RG__TRY(rg_norm_forward(ctx, zpp, &c->n1, s1, &p->norm1, mode));
    RG__TRY(rg_relu_forward(ctx, act, zpp));
    if (mode != RG_MODE_EVAL) RG__TRY(rg_dropout_forward(ctx, act, act, m->cfg.dropout, m->seed, 0));
    RG__TRY(rg__conv_forward(ctx, t, &c->c2, act, m->graph, m->edge_emb, &p->conv2, &m->spec, mode));
    RG__TRY(rg__axpy(ctx, t, 1, zp));
    RG__TRY(rg_relu_forward(ctx, r, t));
    return rg_norm_forward(ctx, out, &c->n2, r, &p->norm2, mode);
}

/* After rg__deq_f at z: dz = J_z^T du, dX = J_X^T du; parameter gradients += into grad,
   edge gradients += into dedge (data NULL: not wanted). Scratch: m->tmp, m->dnm. */
static rg_status rg__deq_f_backward(rg_model *m, rg_tensor dz, rg_tensor dX, rg_tensor dedge, rg_tensor du,
                                    rg_tensor z, const rg__deq *grad, int64_t N) {
    rg_ctx *ctx = m->ctx;
    rg__deq_cache *c = &m->dc;
    const rg__deq *p = &m->p.deq;
    int64_t D = m->cfg.hidden;
    rg_tensor t1 = rg_tensor_view(m->tmp.data, N, D), t2 = rg_tensor_view(m->dnm.data, N, D);
    rg_tensor zpp = rg_tensor_view(c->zpp.data, N, D), act = rg_tensor_view(c->act.data, N, D);
    rg_tensor t = rg_tensor_view(c->t.data, N, D), r = rg_tensor_view(c->r.data, N, D);
    rg_tensor s1 = rg_tensor_view(c->s1.data, N, D);
    RG__TRY(rg_norm_backward(ctx, t1, &grad->norm2, du, r, &c->n2, &p->norm2, RG_MODE_TRAIN));
    RG__TRY(rg_relu_backward(ctx, t1, t1, t)); /* t1 = d(Z3 + Z1) */
    RG__TRY(rg__conv_backward(ctx, t2, dedge, &grad->conv2, t1, act, m->graph, m->edge_emb, &c->c2, &p->conv2,
                              &m->spec));
    RG__TRY(rg_dropout_backward(ctx, t2, t2, m->cfg.dropout, m->seed, 0));
    RG__TRY(rg_relu_backward(ctx, t2, t2, zpp));
    RG__TRY(rg_norm_backward(ctx, dX, &grad->norm1, t2, s1, &c->n1, &p->norm1, RG_MODE_TRAIN));
    RG__TRY(rg__axpy(ctx, t1, 1, dX)); /* dZ1 = d(Z3 + Z1) + d(Z1 + X) */
    return rg__conv_backward(ctx, dz, dedge, &grad->conv1, t1, z, m->graph, m->edge_emb, &c->c1, &p->conv1, &m->spec);
}

typedef rg_status (*rg__fixed_map)(rg_model *m, rg_tensor out, rg_tensor in, int64_t N);

static rg_status rg__deq_forward_map(rg_model *m, rg_tensor out, rg_tensor in, int64_t N) {
    return rg__deq_f(m, out, in, N, m->mode == RG_MODE_EVAL ? RG_MODE_EVAL : RG_MODE_RECOMPUTE);
}

/* out = J_z^T in + dL/dh (dL/dh in dstate): the implicit backward's fixed-point map. Its
   parameter and edge gradients are not wanted: they go to the junk block. */
static rg_status rg__deq_backward_map(rg_model *m, rg_tensor out, rg_tensor in, int64_t N) {
    int64_t D = m->cfg.hidden;
    RG__TRY(rg__deq_f_backward(m, out, rg_tensor_view(m->dc.dx.data, N, D), rg_tensor_view(NULL, 0, 0), in,
                               rg_tensor_view(m->state.data, N, D), &m->junk.deq, N));
    return rg__axpy(m->ctx, out, 1, rg_tensor_view(m->dstate.data, N, D));
}

static double rg__norm2(rg_ctx *ctx, rg_tensor x) { return sqrt(ctx->ops->dot(ctx, x.data, x.data, rg_tensor_numel(x))); }

/* Limited-memory Broyden for x = F(x): the inverse Jacobian of g(x) = F(x) - x is kept as
   -I + sum_k u_k v_k^T over the last m updates (a ring), so memory is O(m N D) whatever the
   iteration count. Relative residual ||g|| / ||F(x)||. Returns the iterate of lowest residual
   (below the tolerance, past the iteration cap, or when rounding stalls the solve). */
static rg_status rg__broyden(rg_model *m, rg__fixed_map F, rg_tensor x, int64_t N, int max_iter, double tol,
                             int *iters, double *residual) {
    rg_ctx *ctx = m->ctx;
    rg__broyden_ws *w = &m->bw;
    int64_t n = rg_tensor_numel(x), D = m->cfg.hidden;
    int mem = m->cfg.deq_memory, k, j, used = 0;
    rg_tensor fx = rg_tensor_view(w->fx.data, N, D), gx = rg_tensor_view(w->gx.data, N, D);
    rg_tensor dx = rg_tensor_view(w->dx.data, N, D), dg = rg_tensor_view(w->dg.data, N, D);
    rg_tensor vt = rg_tensor_view(w->vt.data, N, D), u = rg_tensor_view(w->u.data, N, D);
    rg_tensor best = rg_tensor_view(w->best.data, N, D);
    double res, best_res;
#define RG__U(k) rg_tensor_view(w->us.data + (int64_t)(k) * n, N, D)
#define RG__V(k) rg_tensor_view(w->vts.data + (int64_t)(k) * n, N, D)
    RG__TRY(F(m, fx, x, N));
    RG__TRY(rg_tensor_copy(ctx, gx, fx));
    RG__TRY(rg__axpy(ctx, gx, -1, x));
    best_res = res = rg__norm2(ctx, gx) / (rg__norm2(ctx, fx) + 1e-30);
    RG__TRY(rg_tensor_copy(ctx, best, x));
    RG__TRY(rg_tensor_copy(ctx, dx, gx)); /* first step: -B0 g = g */
    for (k = 0; k < max_iter && res >= tol; k++) {
        double denom;
        RG__TRY(rg__axpy(ctx, x, 1, dx));
        RG__TRY(F(m, fx, x, N));
        RG__TRY(rg_tensor_copy(ctx, dg, gx));      /* g_old */
        RG__TRY(rg_tensor_copy(ctx, gx, fx));
        RG__TRY(rg__axpy(ctx, gx, -1, x));         /* g_new */
        ctx->ops->axpby(ctx, n, 1, gx.data, -1, dg.data); /* dg = g_new - g_old */
        res = rg__norm2(ctx, gx) / (rg__norm2(ctx, fx) + 1e-30);
        if (!isfinite(res)) { k++; break; }
        if (res < best_res) {
            best_res = res;
            RG__TRY(rg_tensor_copy(ctx, best, x));
        }
        if (res < tol) { k++; break; }
        /* vt = B^T dx = -dx + sum V_j (U_j . dx); u = (dx - B dg) / (vt . dg), B dg = -dg + sum U_j (V_j . dg) */
        ctx->ops->axpby(ctx, n, -1, dx.data, 0, vt.data);
        ctx->ops->axpby(ctx, n, 1, dx.data, 0, u.data);
        RG__TRY(rg__axpy(ctx, u, 1, dg));          /* u = dx + dg (- sum U_j (V_j . dg) below) */
        for (j = 0; j < used; j++) {
            double a = ctx->ops->dot(ctx, RG__U(j).data, dx.data, n), b = ctx->ops->dot(ctx, RG__V(j).data, dg.data, n);
            RG__TRY(rg__axpy(ctx, vt, (rg_real)a, RG__V(j)));
            RG__TRY(rg__axpy(ctx, u, (rg_real)-b, RG__U(j)));
        }
        denom = ctx->ops->dot(ctx, vt.data, dg.data, n);
        if (denom != 0 && isfinite(denom)) {
            int slot = (int)(used < mem ? used : k % mem);
            ctx->ops->axpby(ctx, n, (rg_real)(1.0 / denom), u.data, 0, RG__U(slot).data);
            RG__TRY(rg_tensor_copy(ctx, RG__V(slot), vt));
            if (used < mem) used++;
        }
        /* next step: -B g = g - sum U_j (V_j . g) */
        RG__TRY(rg_tensor_copy(ctx, dx, gx));
        for (j = 0; j < used; j++) {
            double a = ctx->ops->dot(ctx, RG__V(j).data, gx.data, n);
            RG__TRY(rg__axpy(ctx, dx, (rg_real)-a, RG__U(j)));
        }
    }
#undef RG__U
#undef RG__V
    *iters = k;
    *residual = best_res;
    return rg_tensor_copy(ctx, x, best);
}

static int rg__deq_max_iter(const rg_model *m) {
    return m->cfg.deq_max_iter > 0 ? m->cfg.deq_max_iter : (int)m->cfg.layers;
}

static rg_status rg__deq_forward(rg_model *m, int64_t N, rg_mode mode) {
    int64_t D = m->cfg.hidden;
    rg_tensor z = rg_tensor_view(m->state.data, N, D);
    int iters = 0;
    double res = 0;
    RG__TRY(rg_tensor_fill(m->ctx, z, 0));
    RG__TRY(rg__broyden(m, rg__deq_forward_map, z, N, rg__deq_max_iter(m), m->cfg.deq_tol, &iters, &res));
    m->deq_stats.forward_iters = iters;
    m->deq_stats.forward_residual = res;
    m->deq_stats.converged = res < m->cfg.deq_tol;
    /* one more application at z* fills the caches backward needs (and in TRAIN updates running
       statistics once per step); it reads X from nm before it writes its output, the head's
       input, there */
    return rg__deq_f(m, rg_tensor_view(m->nm.data, N, D), z, N, mode);
}

/* dstate holds dL/dh; leaves dL/dX in dc.dx */
static rg_status rg__deq_backward(rg_model *m, int64_t N) {
    int64_t D = m->cfg.hidden;
    rg_tensor u = rg_tensor_view(m->ubuf.data, N, D);
    int iters = 0;
    double res = 0;
    RG__TRY(rg_tensor_copy(m->ctx, u, rg_tensor_view(m->dstate.data, N, D)));
    RG__TRY(rg__broyden(m, rg__deq_backward_map, u, N, rg__deq_max_iter(m), m->cfg.deq_tol, &iters, &res));
    m->deq_stats.backward_iters = iters;
    m->deq_stats.backward_residual = res;
    m->deq_stats.converged = m->deq_stats.converged && res < m->cfg.deq_tol;
    return rg__deq_f_backward(m, rg_tensor_view(m->bw.fx.data, N, D), rg_tensor_view(m->dc.dx.data, N, D), m->dedge,
                              u, rg_tensor_view(m->state.data, N, D), &m->g.deq, N);
}

/* ---- the model ---- */

static rg_status rg__check_inputs(const rg_model *m, const rg_graph *g, rg_tensor x) {
    const rg_config *c = &m->cfg;
    RG__CHECK_ARG(g != NULL && g->ctx == m->ctx, "rg_model_forward: the graph is not on the model's device");
    RG__CHECK_SHAPE("rg_model_forward", "x", x, g->n_nodes, c->in_dim);
    if (m->has_edges)
        RG__CHECK_ARG(g->edge_dim == c->edge_dim && g->edge_feat,
                      "rg_model_forward: the graph has %lld-wide edge features, the model expects %lld",
                      (long long)g->edge_dim, (long long)c->edge_dim);
    return RG_OK;
}

/* (N, D) the head's Dropout(ReLU(Norm(h))): it lives in dstate, which nothing reads from the
   end of the blocks' forward until the head's backward is done with it */
static rg_tensor rg__head_act(const rg_model *m, int64_t N) {
    return rg_tensor_view(m->dstate.data, N, m->cfg.hidden);
}

RGDEF rg_status rg_model_forward(rg_model *m, rg_tensor out, const rg_graph *g, rg_tensor x, rg_mode mode,
                                 uint64_t seed) {
    rg_ctx *ctx;
    int64_t N, E, D;
    RG__CHECK_ARG(m != NULL, "rg_model_forward: NULL model");
    RG__CHECK_ARG(mode == RG_MODE_TRAIN || mode == RG_MODE_EVAL, "rg_model_forward: mode must be TRAIN or EVAL");
    RG__TRY(rg__check_inputs(m, g, x));
    ctx = m->ctx;
    N = g->n_nodes;
    E = g->n_edges;
    D = m->cfg.hidden;
    RG__CHECK_SHAPE("rg_model_forward", "out", out, N, m->cfg.out_dim);
    RG__TRY(rg_model_reserve(m, N, E));
    m->graph = g;
    m->x = x;
    m->seed = seed;
    m->mode = mode;
    m->backward_done = 0;
    memset(&m->deq_stats, 0, sizeof m->deq_stats);
    if (m->has_edges)
        RG__TRY(rg_linear_forward(ctx, m->edge_emb, rg_tensor_view(g->edge_feat, E, g->edge_dim), &m->p.edge_enc));
    if (m->xin.data && mode == RG_MODE_TRAIN) {
        rg_tensor xin = rg_tensor_view(m->xin.data, N, m->cfg.in_dim);
        RG__TRY(rg_dropout_forward(ctx, xin, x, m->cfg.input_dropout, seed, RG__STREAM_INPUT));
        x = xin;
    }
    RG__TRY(rg_linear_forward(ctx, rg_tensor_view(m->nm.data, N, D), x, &m->p.enc));
    if (m->cfg.arch == RG_ARCH_DEQ) {
        RG__TRY(rg__deq_forward(m, N, mode));
    } else {
        ctx->ops->regroup(ctx, m->state.data, m->nm.data, m->groups, N, m->width, 1);
        if (rg__is_rev(m->cfg.arch)) RG__TRY(rg__rev_forward(m, N, mode));
        else RG__TRY(rg__res_forward(m, N, mode));
        ctx->ops->regroup(ctx, m->nm.data, m->state.data, m->groups, N, m->width, 0);
    }
    /* head: Norm -> ReLU -> Dropout -> Linear */
    {
        rg_tensor h = rg_tensor_view(m->nm.data, N, D), ha = rg__head_act(m, N);
        RG__TRY(rg_norm_forward(ctx, ha, &m->head_cache, h, &m->p.head_norm, mode));
        RG__TRY(rg_relu_forward(ctx, ha, ha)); /* in place, as in the blocks' units */
        if (mode == RG_MODE_TRAIN) RG__TRY(rg_dropout_forward(ctx, ha, ha, m->cfg.dropout, seed, RG__STREAM_HEAD));
        RG__TRY(rg_linear_forward(ctx, out, ha, &m->p.head));
    }
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_model_backward(rg_model *m, rg_tensor dx, rg_tensor dout) {
    rg_ctx *ctx;
    int64_t N, E, D;
    rg_tensor h, ha, dh, dn, dinput;
    RG__CHECK_ARG(m != NULL && m->graph != NULL, "rg_model_backward: no forward pass to differentiate");
    RG__CHECK_ARG(m->mode == RG_MODE_TRAIN, "rg_model_backward: the last forward ran in EVAL mode");
    RG__CHECK_ARG(!m->backward_done, "rg_model_backward: already ran for the last forward (the reversible blocks "
                                     "rebuilt their inputs in place); run rg_model_forward again");
    ctx = m->ctx;
    N = m->graph->n_nodes;
    E = m->graph->n_edges;
    D = m->cfg.hidden;
    RG__CHECK_SHAPE("rg_model_backward", "dout", dout, N, m->cfg.out_dim);
    ha = rg__head_act(m, N);
    if (m->cfg.arch == RG_ARCH_DEQ) {
        h = rg_tensor_view(m->nm.data, N, D);
        dh = rg_tensor_view(m->dnm.data, N, D);
    } else {
        /* h is the blocks' output, which the state still holds: dh takes nm, and h is rebuilt
           node-major in dstate once the head's activation there is dead */
        h = rg_tensor_view(m->dstate.data, N, D);
        dh = rg_tensor_view(m->nm.data, N, D);
    }
    dn = dh; /* the norm's backward runs in place */
    if (m->has_edges) RG__TRY(rg_tensor_fill(ctx, m->dedge, 0));
    RG__TRY(rg_linear_backward(ctx, dh, &m->g.head, dout, ha, &m->p.head));
    RG__TRY(rg_dropout_backward(ctx, dh, dh, m->cfg.dropout, m->seed, RG__STREAM_HEAD));
    RG__TRY(rg_relu_backward(ctx, dh, dh, ha)); /* ha's sign, as in rg__unit_backward */
    if (m->cfg.arch != RG_ARCH_DEQ) ctx->ops->regroup(ctx, h.data, m->state.data, m->groups, N, m->width, 0);
    RG__TRY(rg_norm_backward(ctx, dn, &m->g.head_norm, dh, h, &m->head_cache, &m->p.head_norm, RG_MODE_TRAIN));
    if (m->cfg.arch == RG_ARCH_DEQ) {
        RG__TRY(rg_tensor_copy(ctx, rg_tensor_view(m->dstate.data, N, D), dn));
        RG__TRY(rg__deq_backward(m, N));
        dinput = rg_tensor_view(m->dc.dx.data, N, D);
    } else {
        ctx->ops->regroup(ctx, m->dstate.data, dn.data, m->groups, N, m->width, 1);
        if (rg__is_rev(m->cfg.arch)) RG__TRY(rg__rev_backward(m, N));
        else RG__TRY(rg__res_backward(m, N));
        ctx->ops->regroup(ctx, dh.data, m->dstate.data, m->groups, N, m->width, 0);
        dinput = dh;
    }
    if (m->xin.data) {
        /* the encoder saw the dropped-out features; dx goes back through the same mask */
        RG__TRY(rg_linear_backward(ctx, dx, &m->g.enc, dinput, rg_tensor_view(m->xin.data, N, m->cfg.in_dim), &m->p.enc));
        if (dx.data) RG__TRY(rg_dropout_backward(ctx, dx, dx, m->cfg.input_dropout, m->seed, RG__STREAM_INPUT));
    } else {
        RG__TRY(rg_linear_backward(ctx, dx, &m->g.enc, dinput, m->x, &m->p.enc));
    }
    if (m->has_edges)
        RG__TRY(rg_linear_backward(ctx, rg_tensor_view(NULL, 0, 0), &m->g.edge_enc, m->dedge,
                                   rg_tensor_view(m->graph->edge_feat, E, m->graph->edge_dim), &m->p.edge_enc));
    m->backward_done = 1;
    return rg_ctx_take_status(ctx);
}

/* ---- memory plan: the allocation path on a backend that counts and allocates nothing ---- */

static void *rg__plan_alloc(rg_ctx *ctx, size_t bytes) {
    static char never_dereferenced;
    (void)ctx;
    (void)bytes;
    return &never_dereferenced;
}
static void rg__plan_free(rg_ctx *ctx, void *p, size_t bytes) { (void)ctx; (void)p; (void)bytes; }
static void rg__plan_copy(rg_ctx *ctx, void *d, const void *s, size_t bytes, rg_copy_kind kind) {
    (void)ctx; (void)d; (void)s; (void)bytes; (void)kind;
}
static void rg__plan_sync(rg_ctx *ctx) { (void)ctx; }

RGDEF rg_status rg_model_memory_plan(const rg_config *cfg, int64_t n_nodes, int64_t n_edges, rg_memory_plan *plan) {
    rg_backend counting;
    rg_ctx ctx;
    rg_model *m = NULL;
    rg_graph g;
    rg_tensor x, out, dout;
    size_t after_state;
    rg_status st;
    RG__CHECK_ARG(cfg && plan, "rg_model_memory_plan: NULL argument");
    RG__CHECK_ARG(n_nodes > 0 && n_edges >= 0, "rg_model_memory_plan: %lld nodes, %lld edges", (long long)n_nodes,
                  (long long)n_edges);
    memset(plan, 0, sizeof *plan);
    /* only memory entries: the allocation path calls no kernel */
    memset(&counting, 0, sizeof counting);
    counting.name = "plan";
    counting.alloc = rg__plan_alloc;
    counting.free = rg__plan_free;
    counting.copy = rg__plan_copy;
    counting.synchronize = rg__plan_sync;
    memset(&ctx, 0, sizeof ctx);
    ctx.ops = &counting;
    ctx.n_threads = 1;
    RG__TRY(rg__model_make(&ctx, cfg, &m));
    after_state = ctx.mem_current;
    st = rg__graph_alloc_device(&ctx, &g, n_nodes, n_edges, cfg->edge_dim);
    if (st == RG_OK) st = rg_tensor_alloc(&ctx, &x, n_nodes, cfg->in_dim);
    if (st == RG_OK) st = rg_tensor_alloc(&ctx, &out, n_nodes, cfg->out_dim);
    if (st == RG_OK) st = rg_tensor_alloc(&ctx, &dout, n_nodes, cfg->out_dim);
    if (st == RG_OK) {
        plan->state = after_state;
        plan->data = ctx.mem_current - after_state;
        st = rg_model_reserve(m, n_nodes, n_edges);
    }
    plan->total = ctx.mem_peak;
    plan->activations = plan->total - plan->state - plan->data;
    rg__model_free(m);
    return st;
}

/* ============================== losses and metrics ============================== */

RGDEF rg_status rg_bce_logits(rg_ctx *ctx, double *loss, rg_tensor dlogits, rg_tensor logits, rg_tensor targets,
                              rg_tensor mask) {
    int64_t N = logits.rows, T = logits.cols;
    double count, sum;
    RG__CHECK_ARG(ctx && loss, "rg_bce_logits: NULL %s", ctx ? "loss" : "context");
    RG__CHECK_SHAPE("rg_bce_logits", "logits", logits, N, T);
    RG__CHECK_SHAPE("rg_bce_logits", "targets", targets, N, T);
    RG__CHECK_SHAPE("rg_bce_logits", "dlogits", dlogits, N, T);
    if (mask.data) {
        RG__CHECK_ARG(mask.rows == N && (mask.cols == T || mask.cols == 1),
                      "rg_bce_logits: mask is %lldx%lld, expected %lldx%lld or %lldx1", (long long)mask.rows,
                      (long long)mask.cols, (long long)N, (long long)T, (long long)N);
        /* mask values are 0 or 1, so their sum of squares counts the selected entries */
        count = ctx->ops->sum_squares(ctx, mask.data, rg_tensor_numel(mask)) * (double)(mask.cols == 1 ? T : 1);
    } else {
        count = (double)N * (double)T;
    }
    RG__TRY(rg_ctx_take_status(ctx));
    RG__CHECK_ARG(count > 0, "rg_bce_logits: the mask selects no entry of the %lldx%lld logits", (long long)N,
                  (long long)T);
    sum = ctx->ops->bce_logits(ctx, dlogits.data, logits.data, targets.data, mask.data, N, T, mask.cols,
                               1.0 / count);
    RG__TRY(rg_ctx_take_status(ctx));
    *loss = sum / count;
    return RG_OK;
}

RGDEF rg_status rg_softmax_xent(rg_ctx *ctx, double *loss, rg_tensor dlogits, rg_tensor logits,
                                const int32_t *labels, const int32_t *rows, int64_t n_rows) {
    int64_t N = logits.rows, C = logits.cols, n = rows ? n_rows : N;
    double sum;
    RG__CHECK_ARG(ctx && loss && labels, "rg_softmax_xent: NULL %s", !ctx ? "context" : !loss ? "loss" : "labels");
    RG__CHECK_ARG(C > 0, "rg_softmax_xent: logits have %lld classes", (long long)C);
    RG__CHECK_SHAPE("rg_softmax_xent", "logits", logits, N, C);
    RG__CHECK_SHAPE("rg_softmax_xent", "dlogits", dlogits, N, C);
    RG__CHECK_ARG(dlogits.data != logits.data, "rg_softmax_xent: dlogits must not be the logits");
    RG__CHECK_ARG(n > 0, "rg_softmax_xent: %lld rows to average over", (long long)n);
    sum = ctx->ops->softmax_xent(ctx, dlogits.data, logits.data, labels, rows, n, N, C, 1.0 / (double)n);
    RG__TRY(rg_ctx_take_status(ctx));
    *loss = sum / (double)n;
    return RG_OK;
}

/* Metrics run on the host, once per evaluation: plain loops, no backend ops. */

/* checks the selected row ids; *n gets how many rows are scored */
static rg_status rg__metric_rows(const char *fn, int64_t n_rows, const int32_t *rows, int64_t n_sel, int64_t *n) {
    int64_t k;
    RG__CHECK_ARG(n_rows > 0, "%s: %lld rows", fn, (long long)n_rows);
    *n = rows ? n_sel : n_rows;
    RG__CHECK_ARG(*n > 0, "%s: %lld rows selected", fn, (long long)*n);
    if (rows)
        for (k = 0; k < n_sel; k++)
            RG__CHECK_ARG(rows[k] >= 0 && rows[k] < n_rows, "%s: selected row %lld is %d, out of range [0, %lld)", fn,
                          (long long)k, (int)rows[k], (long long)n_rows);
    return RG_OK;
}

static int rg__cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct rg__scored {
    double score; /* first, so that rg__cmp_double orders by it */
    int positive;
} rg__scored;

RGDEF rg_status rg_rocauc(const rg_real *scores, const rg_real *targets, int64_t n_rows, int64_t n_tasks,
                          const int32_t *rows, int64_t n_sel, double *out, int64_t *n_valid_tasks) {
    int64_t n, k, t, valid = 0;
    double total = 0;
    rg__scored *buf;
    RG__CHECK_ARG(scores && targets && out, "rg_rocauc: NULL %s", !scores ? "scores" : !targets ? "targets" : "out");
    RG__CHECK_ARG(n_tasks > 0, "rg_rocauc: %lld tasks", (long long)n_tasks);
    RG__TRY(rg__metric_rows("rg_rocauc", n_rows, rows, n_sel, &n));
    if (n_valid_tasks) *n_valid_tasks = 0;
    buf = (rg__scored *)REVGNN_MALLOC(NULL, (size_t)n * sizeof *buf);
    if (!buf) return RG__FAIL(RG_ERR_OOM, "rg_rocauc: out of host memory for %lld rows", (long long)n);
    for (t = 0; t < n_tasks; t++) {
        int64_t m = 0, pos = 0, i, j;
        double rank_sum = 0;
        for (k = 0; k < n; k++) {
            int64_t r = rows ? rows[k] : k;
            double s = scores[r * n_tasks + t], y = targets[r * n_tasks + t];
            if (isnan(y)) continue; /* unlabelled, as OGB's is_labeled mask */
            if (y != 0 && y != 1) {
                REVGNN_FREE(NULL, buf);
                return RG__FAIL(RG_ERR_ARG, "rg_rocauc: target %g at row %lld, task %lld is not 0, 1 or NaN", y,
                                (long long)r, (long long)t);
            }
            if (!isfinite(s)) {
                REVGNN_FREE(NULL, buf);
                return RG__FAIL(RG_ERR_NUMERIC, "rg_rocauc: score %g at row %lld, task %lld", s, (long long)r,
                                (long long)t);
            }
            buf[m].score = s;
            buf[m].positive = y == 1;
            pos += y == 1;
            m++;
        }
        if (pos == 0 || pos == m) continue; /* AUC undefined with one class: skipped, as OGB */
        /* Mann-Whitney: AUC = (sum of the positives' ranks - P (P + 1) / 2) / (P Q), tied
           scores sharing the mean of their ranks, so each tied (positive, negative) pair counts 1/2 */
        qsort(buf, (size_t)m, sizeof *buf, rg__cmp_double);
        for (i = 0; i < m; i = j) {
            int64_t tied_pos = 0;
            for (j = i; j < m && buf[j].score == buf[i].score; j++) tied_pos += buf[j].positive;
            rank_sum += (double)tied_pos * 0.5 * (double)(i + 1 + j); /* ranks i+1 .. j */
        }
        total += (rank_sum - 0.5 * (double)pos * (double)(pos + 1)) / ((double)pos * (double)(m - pos));
        valid++;
    }
    REVGNN_FREE(NULL, buf);
    if (n_valid_tasks) *n_valid_tasks = valid;
    if (valid == 0)
        return RG__FAIL(RG_ERR_ARG, "rg_rocauc: none of the %lld tasks has both classes among the %lld rows",
                        (long long)n_tasks, (long long)n);
    *out = total / (double)valid;
    return RG_OK;
}

RGDEF rg_status rg_accuracy(const rg_real *scores, const int32_t *labels, int64_t n_rows, int64_t n_classes,
                            const int32_t *rows, int64_t n_sel, double *out) {
    int64_t n, k, c, correct = 0;
    RG__CHECK_ARG(scores && labels && out, "rg_accuracy: NULL %s", !scores ? "scores" : !labels ? "labels" : "out");
    RG__CHECK_ARG(n_classes > 0, "rg_accuracy: %lld classes", (long long)n_classes);
    RG__TRY(rg__metric_rows("rg_accuracy", n_rows, rows, n_sel, &n));
    for (k = 0; k < n; k++) {
        int64_t r = rows ? rows[k] : k, best = 0;
        const rg_real *s = scores + r * n_classes;
        RG__CHECK_ARG(labels[r] >= 0 && labels[r] < n_classes,
                      "rg_accuracy: label %d of row %lld is out of range [0, %lld)", (int)labels[r], (long long)r,
                      (long long)n_classes);
        for (c = 0; c < n_classes; c++) {
            if (!isfinite(s[c]))
                return RG__FAIL(RG_ERR_NUMERIC, "rg_accuracy: score %g at row %lld, class %lld", (double)s[c],
                                (long long)r, (long long)c);
            if (s[c] > s[best]) best = c;
        }
        correct += best == labels[r];
    }
    *out = (double)correct / (double)n;
    return RG_OK;
}

/* ============================== Adam ============================== */

RGDEF rg_adam rg_adam_default(double lr) {
    rg_adam a;
    a.lr = lr;
    a.beta1 = 0.9;
    a.beta2 = 0.999;
    a.eps = 1e-8;
    a.weight_decay = 0;
    a.decoupled = 0;
    a.step = 0;
    return a;
}

#define RG__COUNT_MAX (INT64_MAX - 1) /* epochs and Adam steps: the next one must fit too */

/* the optimiser's fields as checkpoints name them, and what each must be: one check for
   rg_adam_step, checkpoint save and checkpoint load */
static const char *const rg__adam_keys[7] = {"lr", "beta1", "beta2", "eps", "weight_decay", "decoupled", "step"};
static const char *const rg__adam_ranges[7] = {
    "a finite number >= 0", "a number in [0, 1)", "a number in [0, 1)", "a finite number >= 0",
    "a finite number >= 0", "0 or 1", "an integer in [0, 9223372036854775806]"};

/* the index of the first field of a that is out of range, or -1 */
static int rg__adam_invalid(const rg_adam *a) {
    double v[5];
    int k;
    v[0] = a->lr, v[1] = a->beta1, v[2] = a->beta2, v[3] = a->eps, v[4] = a->weight_decay;
    for (k = 0; k < 5; k++)
        if (!(isfinite(v[k]) && v[k] >= 0 && (v[k] < 1 || (k != 1 && k != 2)))) return k;
    if (a->decoupled != 0 && a->decoupled != 1) return 5;
    return a->step >= 0 && a->step <= RG__COUNT_MAX ? -1 : 6;
}

RGDEF rg_status rg_adam_step(rg_ctx *ctx, rg_adam *opt, rg_tensor params, rg_tensor grads, rg_tensor m, rg_tensor v) {
    int64_t n = rg_tensor_numel(params);
    int bad;
    RG__CHECK_ARG(ctx && opt, "rg_adam_step: NULL %s", ctx ? "optimiser" : "context");
    bad = rg__adam_invalid(opt);
    RG__CHECK_ARG(bad < 0, "rg_adam_step: %s is not %s (lr %g, betas (%g, %g), eps %g, weight decay %g, step %lld)",
                  bad < 0 ? "" : rg__adam_keys[bad], bad < 0 ? "" : rg__adam_ranges[bad], opt->lr, opt->beta1,
                  opt->beta2, opt->eps, opt->weight_decay, (long long)opt->step);
    RG__CHECK_ARG(params.data && grads.data && m.data && v.data, "rg_adam_step: NULL %s",
                  !params.data ? "params" : !grads.data ? "grads" : !m.data ? "m" : "v");
    RG__CHECK_ARG(rg_tensor_numel(grads) == n && rg_tensor_numel(m) == n && rg_tensor_numel(v) == n,
                  "rg_adam_step: %lld params but %lld grads, %lld m, %lld v", (long long)n,
                  (long long)rg_tensor_numel(grads), (long long)rg_tensor_numel(m), (long long)rg_tensor_numel(v));
    opt->step++;
    ctx->ops->adam(ctx, params.data, grads.data, m.data, v.data, n, opt->lr, opt->beta1, opt->beta2, opt->eps,
                   opt->weight_decay, opt->decoupled, opt->step);
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_clip_grad_norm(rg_ctx *ctx, rg_tensor grads, double max_norm, double *norm) {
    int64_t n = rg_tensor_numel(grads);
    double total, coef;
    RG__CHECK_ARG(ctx && norm && grads.data, "rg_clip_grad_norm: NULL %s",
                  !ctx ? "context" : !norm ? "norm" : "grads");
    RG__CHECK_ARG(max_norm > 0, "rg_clip_grad_norm: max_norm %g must be positive", max_norm);
    total = sqrt(ctx->ops->sum_squares(ctx, grads.data, n));
    RG__TRY(rg_ctx_take_status(ctx));
    *norm = total;
    if (!isfinite(total)) return RG__FAIL(RG_ERR_NUMERIC, "rg_clip_grad_norm: gradient norm is %g", total);
    coef = max_norm / (total + 1e-6);
    if (coef < 1) ctx->ops->axpby(ctx, n, (rg_real)coef, grads.data, 0, grads.data);
    return rg_ctx_take_status(ctx);
}

static int rg__norm_kind_ok(rg_norm_kind kind) {
    return kind == RG_NORM_NONE || kind == RG_NORM_LAYER || kind == RG_NORM_BATCH;
}

static int rg__mode_ok(rg_mode mode) {
    return mode == RG_MODE_TRAIN || mode == RG_MODE_EVAL || mode == RG_MODE_RECOMPUTE;
}

RGDEF void rg_norm_bind(rg_norm *p, rg_binder *b, rg_norm_kind kind, int64_t dim, const char *name) {
    char buf[96];
    memset(p, 0, sizeof *p);
    p->kind = kind;
    if (kind != RG_NORM_LAYER && kind != RG_NORM_BATCH) return;
    p->gamma = rg_bind_param(b, 1, dim, rg__name(buf, sizeof buf, name, "weight"));
    p->beta = rg_bind_param(b, 1, dim, rg__name(buf, sizeof buf, name, "bias"));
    if (kind == RG_NORM_BATCH) {
        p->running_mean = rg_bind_buffer(b, 1, dim, rg__name(buf, sizeof buf, name, "running_mean"));
        p->running_var = rg_bind_buffer(b, 1, dim, rg__name(buf, sizeof buf, name, "running_var"));
    }
}

RGDEF rg_status rg_norm_init(rg_ctx *ctx, const rg_norm *p) {
    RG__CHECK_ARG(ctx && p, "rg_norm_init: NULL %s", ctx ? "norm" : "context");
    RG__CHECK_ARG(rg__norm_kind_ok(p->kind), "rg_norm_init: unknown norm kind %d", (int)p->kind);
    if (p->kind == RG_NORM_NONE) return RG_OK;
    RG__CHECK_ARG(p->gamma.data && p->beta.data, "rg_norm_init: the parameters are not bound");
    RG__TRY(rg_tensor_fill(ctx, p->gamma, 1));
    RG__TRY(rg_tensor_fill(ctx, p->beta, 0));
    if (p->kind == RG_NORM_BATCH) {
        RG__CHECK_ARG(p->running_mean.data && p->running_var.data, "rg_norm_init: the running statistics are not bound");
        RG__TRY(rg_tensor_fill(ctx, p->running_mean, 0));
        RG__TRY(rg_tensor_fill(ctx, p->running_var, 1));
    }
    return RG_OK;
}

RGDEF void rg_norm_cache_free(rg_ctx *ctx, rg_norm_cache *cache) {
    if (!cache) return;
    rg_tensor_free(ctx, &cache->mean);
    rg_tensor_free(ctx, &cache->rstd);
}

RGDEF rg_status rg_norm_cache_alloc(rg_ctx *ctx, rg_norm_cache *cache, rg_norm_kind kind, int64_t n, int64_t dim) {
    int layer = kind == RG_NORM_LAYER;
    rg_status st;
    RG__CHECK_ARG(ctx && cache, "rg_norm_cache_alloc: NULL %s", ctx ? "cache" : "context");
    memset(cache, 0, sizeof *cache);
    RG__CHECK_ARG(rg__norm_kind_ok(kind), "rg_norm_cache_alloc: unknown norm kind %d", (int)kind);
    RG__CHECK_ARG(n >= 0 && dim > 0, "rg_norm_cache_alloc: %lld rows of width %lld", (long long)n, (long long)dim);
    if (kind == RG_NORM_NONE) return RG_OK;
    st = rg_tensor_alloc(ctx, &cache->mean, layer ? n : 1, layer ? 1 : dim);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &cache->rstd, layer ? n : 1, layer ? 1 : dim);
    if (st != RG_OK) rg_norm_cache_free(ctx, cache);
    return st;
}

/* Checks a norm against its input x (N, D); for LAYER fills *lp and *lc with views of the
   first N rows of the cache. */
static rg_status rg__norm_check(const char *fn, const rg_norm *p, const rg_norm_cache *cache, rg_tensor x,
                                rg_mode mode, rg_layernorm *lp, rg_layernorm_cache *lc) {
    int64_t N = x.rows, D = x.cols;
    RG__CHECK_ARG(p && cache, "%s: NULL %s", fn, p ? "cache" : "norm");
    RG__CHECK_ARG(rg__norm_kind_ok(p->kind), "%s: unknown norm kind %d", fn, (int)p->kind);
    RG__CHECK_ARG(rg__mode_ok(mode), "%s: unknown mode %d", fn, (int)mode);
    if (p->kind == RG_NORM_NONE) return RG_OK;
    RG__CHECK_SHAPE(fn, "gamma", p->gamma, 1, D);
    RG__CHECK_SHAPE(fn, "beta", p->beta, 1, D);
    if (p->kind == RG_NORM_LAYER) {
        RG__CHECK_ARG(cache->mean.data && cache->rstd.data && cache->mean.rows >= N && cache->mean.cols == 1,
                      "%s: the cache holds %lldx%lld statistics, a layer norm of %lld rows needs %lldx1", fn,
                      (long long)cache->mean.rows, (long long)cache->mean.cols, (long long)N, (long long)N);
        lp->gamma = p->gamma;
        lp->beta = p->beta;
        lc->mean = rg_tensor_view(cache->mean.data, N, 1);
        lc->rstd = rg_tensor_view(cache->rstd.data, N, 1);
        return RG_OK;
    }
    RG__CHECK_SHAPE(fn, "cache mean", cache->mean, 1, D);
    RG__CHECK_SHAPE(fn, "cache rstd", cache->rstd, 1, D);
    RG__CHECK_ARG(mode == RG_MODE_EVAL || N > 1, "%s: batch statistics of %lld row(s): training needs at least 2",
                  fn, (long long)N);
    if (mode != RG_MODE_RECOMPUTE) {
        RG__CHECK_SHAPE(fn, "running_mean", p->running_mean, 1, D);
        RG__CHECK_SHAPE(fn, "running_var", p->running_var, 1, D);
    }
    return RG_OK;
}

RGDEF rg_status rg_norm_forward(rg_ctx *ctx, rg_tensor y, rg_norm_cache *cache, rg_tensor x, const rg_norm *p,
                                rg_mode mode) {
    int64_t N = x.rows, D = x.cols;
    rg_layernorm lp;
    rg_layernorm_cache lc;
    RG__TRY(rg__norm_check("rg_norm_forward", p, cache, x, mode, &lp, &lc));
    RG__CHECK_SHAPE("rg_norm_forward", "y", y, N, D);
    if (p->kind == RG_NORM_LAYER) return rg_layernorm_forward(ctx, y, &lc, x, &lp);
    if (p->kind == RG_NORM_NONE) return y.data == x.data ? RG_OK : rg_tensor_copy(ctx, y, x);
    /* RECOMPUTE: batch statistics again, running statistics untouched (momentum 0) */
    ctx->ops->batchnorm_forward(ctx, y.data, cache->mean.data, cache->rstd.data, p->running_mean.data,
                                p->running_var.data, x.data, p->gamma.data, p->beta.data, N, D, RG_NORM_EPS,
                                mode == RG_MODE_TRAIN ? RG_BN_MOMENTUM : 0.0, mode != RG_MODE_EVAL);
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_norm_backward(rg_ctx *ctx, rg_tensor dx, const rg_norm *grad, rg_tensor dy, rg_tensor x,
                                 const rg_norm_cache *cache, const rg_norm *p, rg_mode mode) {
    int64_t N = x.rows, D = x.cols;
    rg_layernorm lp, lg;
    rg_layernorm_cache lc;
    RG__TRY(rg__norm_check("rg_norm_backward", p, cache, x, mode, &lp, &lc));
    RG__CHECK_SHAPE("rg_norm_backward", "dy", dy, N, D);
    RG__CHECK_SHAPE("rg_norm_backward", "dx", dx, N, D);
    if (p->kind == RG_NORM_NONE) return dx.data == dy.data ? RG_OK : rg_tensor_copy(ctx, dx, dy);
    RG__CHECK_ARG(grad != NULL, "rg_norm_backward: NULL gradient");
    RG__CHECK_SHAPE("rg_norm_backward", "grad gamma", grad->gamma, 1, D);
    RG__CHECK_SHAPE("rg_norm_backward", "grad beta", grad->beta, 1, D);
    if (p->kind == RG_NORM_LAYER) {
        lg.gamma = grad->gamma;
        lg.beta = grad->beta;
        return rg_layernorm_backward(ctx, dx, &lg, dy, x, &lc, &lp);
    }
    ctx->ops->batchnorm_backward(ctx, dx.data, grad->gamma.data, grad->beta.data, dy.data, x.data, cache->mean.data,
                                 cache->rstd.data, p->gamma.data, N, D, mode != RG_MODE_EVAL);
    return rg_ctx_take_status(ctx);
}

/* ---- GENConv ---- */

RGDEF rg_gen_config rg_gen_config_default(int64_t dim) {
    rg_gen_config c;
    memset(&c, 0, sizeof c);
    c.dim = dim;
    c.aggr = RG_AGGR_SOFTMAX;
    c.t = 1;
    c.learn_t = 1;
    c.p = 1;
    c.mlp_norm = RG_NORM_LAYER;
    c.eps = 1e-7;
    return c;
}

static int rg__gen_learns_param(const rg_gen_config *cfg) {
    return (cfg->aggr == RG_AGGR_SOFTMAX && cfg->learn_t) || (cfg->aggr == RG_AGGR_POWER && cfg->learn_p);
}
static int rg__gen_learns_scale(const rg_gen_config *cfg) { return cfg->msg_norm && cfg->learn_msg_scale; }
/* the raw aggregation is kept for backward apart from h (SOFTMAX, POWER, MsgNorm) */
static int rg__gen_keeps_agg(const rg_gen_config *cfg) {
    return cfg->aggr == RG_AGGR_SOFTMAX || cfg->aggr == RG_AGGR_POWER || cfg->msg_norm;
}
/* the learned aggregator scalar (t or p) of a parameter or gradient set, or an empty view */
static rg_tensor rg__gen_param(const rg_gen *p, const rg_gen_config *cfg) {
    if (!rg__gen_learns_param(cfg)) return rg_tensor_view(NULL, 0, 0);
    return cfg->aggr == RG_AGGR_SOFTMAX ? p->t : p->p;
}
static double rg__gen_param_value(const rg_gen_config *cfg) { return cfg->aggr == RG_AGGR_SOFTMAX ? cfg->t : cfg->p; }

static rg_status rg__gen_check_config(const char *fn, const rg_gen_config *cfg) {
    RG__CHECK_ARG(cfg != NULL, "%s: NULL config", fn);
    RG__CHECK_ARG(cfg->dim > 0, "%s: dim %lld is not positive", fn, (long long)cfg->dim);
    RG__CHECK_ARG(cfg->edge_dim >= 0, "%s: negative edge_dim %lld", fn, (long long)cfg->edge_dim);
    RG__CHECK_ARG(!cfg->encode_edges || cfg->edge_dim > 0, "%s: encode_edges needs edge_dim > 0", fn);
    RG__CHECK_ARG(cfg->encode_edges || cfg->edge_dim == 0 || cfg->edge_dim == cfg->dim,
                  "%s: edge_dim %lld differs from dim %lld: set encode_edges to project the edge input", fn,
                  (long long)cfg->edge_dim, (long long)cfg->dim);
    RG__CHECK_ARG(rg__gen_aggr_ok(cfg->aggr), "%s: aggregator %d is not SUM, MEAN, MAX, SOFTMAX or POWER", fn,
                  (int)cfg->aggr);
    RG__CHECK_ARG(cfg->eps >= 0, "%s: negative message eps %g", fn, cfg->eps);
    RG__CHECK_ARG(cfg->aggr != RG_AGGR_POWER || (cfg->eps > 0 && cfg->p != 0),
                  "%s: POWER needs eps > 0 and p != 0 (eps %g, p %g)", fn, cfg->eps, cfg->p);
    RG__CHECK_ARG(rg__norm_kind_ok(cfg->mlp_norm), "%s: unknown mlp_norm %d", fn, (int)cfg->mlp_norm);
    return RG_OK;
}

RGDEF void rg_gen_bind(rg_gen *p, rg_binder *b, const rg_gen_config *cfg, const char *name) {
    char buf[96];
    int64_t D = cfg->dim;
    memset(p, 0, sizeof *p);
    if (cfg->encode_edges)
        rg_linear_bind(&p->edge_enc, b, cfg->edge_dim, D, 1, rg__name(buf, sizeof buf, name, "edge_encoder."));
    if (rg__gen_learns_param(cfg)) {
        rg_tensor *t = cfg->aggr == RG_AGGR_SOFTMAX ? &p->t : &p->p;
        *t = rg_bind_param(b, 1, 1, rg__name(buf, sizeof buf, name, cfg->aggr == RG_AGGR_SOFTMAX ? "t" : "p"));
    }
    if (rg__gen_learns_scale(cfg)) p->scale = rg_bind_param(b, 1, 1, rg__name(buf, sizeof buf, name, "msg_norm.scale"));
    rg_linear_bind(&p->lin1, b, D, 2 * D, 1, rg__name(buf, sizeof buf, name, "mlp.0."));
    rg_norm_bind(&p->norm, b, cfg->mlp_norm, 2 * D, rg__name(buf, sizeof buf, name, "mlp.1."));
    rg_linear_bind(&p->lin2, b, 2 * D, D, 1, rg__name(buf, sizeof buf, name, "mlp.3."));
}

RGDEF rg_status rg_gen_init(rg_ctx *ctx, const rg_gen *p, const rg_gen_config *cfg, uint64_t stream) {
    RG__CHECK_ARG(ctx && p, "rg_gen_init: NULL %s", ctx ? "parameters" : "context");
    RG__TRY(rg__gen_check_config("rg_gen_init", cfg));
    if (cfg->encode_edges) RG__TRY(rg_linear_init(ctx, &p->edge_enc, stream));
    RG__TRY(rg_linear_init(ctx, &p->lin1, stream + 2));
    RG__TRY(rg_linear_init(ctx, &p->lin2, stream + 4));
    RG__TRY(rg_norm_init(ctx, &p->norm));
    if (rg__gen_learns_param(cfg)) RG__TRY(rg_tensor_fill(ctx, rg__gen_param(p, cfg), (rg_real)rg__gen_param_value(cfg)));
    if (rg__gen_learns_scale(cfg)) RG__TRY(rg_tensor_fill(ctx, p->scale, 1));
    return RG_OK;
}

RGDEF void rg_gen_cache_free(rg_ctx *ctx, rg_gen_cache *cache) {
    if (!cache) return;
    /* argmax is (N, dim) like h, which is allocated before it */
    if (cache->argmax) rg_free(ctx, cache->argmax, (size_t)(cache->h.rows * cache->h.cols) * sizeof(int32_t));
    rg_tensor_free(ctx, &cache->e);
    rg_tensor_free(ctx, &cache->h);
    rg_tensor_free(ctx, &cache->agg);
    rg_tensor_free(ctx, &cache->aux);
    rg_tensor_free(ctx, &cache->z1);
    rg_tensor_free(ctx, &cache->a1);
    rg_norm_cache_free(ctx, &cache->norm);
    rg_tensor_free(ctx, &cache->scratch);
    rg_tensor_free(ctx, &cache->escratch);
    rg_tensor_free(ctx, &cache->stats);
    memset(cache, 0, sizeof *cache);
}

RGDEF rg_status rg_gen_cache_alloc(rg_ctx *ctx, rg_gen_cache *cache, const rg_gen_config *cfg, int64_t n_nodes,
                                   int64_t n_edges) {
    int64_t N = n_nodes, E = n_edges, D;
    rg_status st;
    RG__CHECK_ARG(ctx && cache, "rg_gen_cache_alloc: NULL %s", ctx ? "cache" : "context");
    memset(cache, 0, sizeof *cache);
    RG__TRY(rg__gen_check_config("rg_gen_cache_alloc", cfg));
    D = cfg->dim;
    RG__CHECK_ARG(N > 0 && E >= 0, "rg_gen_cache_alloc: %lld nodes, %lld edges", (long long)N, (long long)E);
    RG__CHECK_ARG(cfg->aggr != RG_AGGR_MAX || E <= INT32_MAX,
                  "rg_gen_cache_alloc: MAX records edge ids in int32, but there are %lld edges", (long long)E);
    cache->n_nodes = N;
    cache->n_edges = E;
    st = rg_tensor_alloc(ctx, &cache->h, N, D);
    if (st == RG_OK && cfg->aggr == RG_AGGR_MAX) {
        cache->argmax = (int32_t *)rg_alloc(ctx, (size_t)(N * D) * sizeof(int32_t));
        if (!cache->argmax) st = RG_ERR_OOM;
    }
    if (st == RG_OK && cfg->encode_edges) st = rg_tensor_alloc(ctx, &cache->e, E, D);
    if (st == RG_OK && rg__gen_keeps_agg(cfg)) st = rg_tensor_alloc(ctx, &cache->agg, N, D);
    if (st == RG_OK && cfg->aggr == RG_AGGR_SOFTMAX) st = rg_tensor_alloc(ctx, &cache->aux, N, D);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &cache->z1, N, 2 * D);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &cache->a1, N, 2 * D);
    if (st == RG_OK) st = rg_norm_cache_alloc(ctx, &cache->norm, cfg->mlp_norm, N, 2 * D);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &cache->scratch, N, 3 * D);
    if (st == RG_OK && cfg->edge_dim > 0) st = rg_tensor_alloc(ctx, &cache->escratch, E, D);
    if (st == RG_OK && (rg__gen_learns_param(cfg) || rg__gen_learns_scale(cfg)))
        st = rg_tensor_alloc(ctx, &cache->stats, 2, N);
    if (st != RG_OK) rg_gen_cache_free(ctx, cache);
    return st;
}

/* Checks shared by forward and backward. */
static rg_status rg__gen_check(const char *fn, rg_ctx *ctx, const rg_gen_cache *cache, rg_tensor x, const rg_graph *g,
                               rg_tensor edge, const rg_gen *p, const rg_gen_config *cfg, rg_mode mode) {
    RG__TRY(rg__gen_check_config(fn, cfg));
    RG__CHECK_ARG(ctx && cache && g && p, "%s: NULL argument", fn);
    RG__CHECK_ARG(rg__mode_ok(mode), "%s: unknown mode %d", fn, (int)mode);
    RG__CHECK_ARG(g->ctx == ctx, "%s: the graph is not on this context", fn);
    RG__CHECK_SHAPE(fn, "x", x, g->n_nodes, cfg->dim);
    if (cfg->edge_dim > 0) RG__CHECK_SHAPE(fn, "edge", edge, g->n_edges, cfg->edge_dim);
    else RG__CHECK_ARG(edge.data == NULL, "%s: an edge input of width %lld, but edge_dim is 0", fn, (long long)edge.cols);
    RG__CHECK_ARG(g->n_nodes <= cache->n_nodes && g->n_edges <= cache->n_edges,
                  "%s: a graph of %lld nodes and %lld edges exceeds the cache (%lld nodes, %lld edges)", fn,
                  (long long)g->n_nodes, (long long)g->n_edges, (long long)cache->n_nodes, (long long)cache->n_edges);
    RG__CHECK_ARG(cache->h.cols == cfg->dim && (cache->agg.data || !rg__gen_keeps_agg(cfg)) &&
                      (cache->aux.data || cfg->aggr != RG_AGGR_SOFTMAX) && (cache->argmax || cfg->aggr != RG_AGGR_MAX) &&
                      (cache->e.data || !cfg->encode_edges) && (cache->escratch.data || cfg->edge_dim == 0) &&
                      (cache->stats.data || !(rg__gen_learns_param(cfg) || rg__gen_learns_scale(cfg))),
                  "%s: the cache was allocated for another configuration", fn);
    if (rg__gen_learns_param(cfg)) RG__CHECK_SHAPE(fn, cfg->aggr == RG_AGGR_SOFTMAX ? "t" : "p", rg__gen_param(p, cfg), 1, 1);
    if (rg__gen_learns_scale(cfg)) RG__CHECK_SHAPE(fn, "scale", p->scale, 1, 1);
    return RG_OK;
}

/* the edge term of the messages: encoded edges, the raw edge input (width dim), or none */
static const rg_real *rg__gen_edges(const rg_gen_cache *cache, rg_tensor edge, const rg_gen_config *cfg) {
    if (cfg->encode_edges) return cache->e.data;
    return cfg->edge_dim > 0 ? edge.data : NULL;
}

RGDEF rg_status rg_gen_forward(rg_ctx *ctx, rg_tensor y, rg_gen_cache *cache, rg_tensor x, const rg_graph *g,
                               rg_tensor edge, const rg_gen *p, const rg_gen_config *cfg, rg_mode mode) {
    int64_t N, E, D;
    rg_tensor h, agg, z1, a1;
    RG__TRY(rg__gen_check("rg_gen_forward", ctx, cache, x, g, edge, p, cfg, mode));
    N = g->n_nodes;
    E = g->n_edges;
    D = cfg->dim;
    RG__CHECK_SHAPE("rg_gen_forward", "y", y, N, D);
    h = rg_tensor_view(cache->h.data, N, D);
    agg = rg__gen_keeps_agg(cfg) ? rg_tensor_view(cache->agg.data, N, D) : h;
    z1 = rg_tensor_view(cache->z1.data, N, 2 * D);
    a1 = rg_tensor_view(cache->a1.data, N, 2 * D);
    if (cfg->encode_edges) RG__TRY(rg_linear_forward(ctx, rg_tensor_view(cache->e.data, E, D), edge, &p->edge_enc));
    ctx->ops->gen_aggregate_forward(ctx, agg.data, cache->aux.data, cache->argmax, x.data, rg__gen_edges(cache, edge, cfg),
                                    g->rowptr, g->src, N, D, cfg->aggr, cfg->eps, rg__gen_param(p, cfg).data,
                                    rg__gen_param_value(cfg));
    /* h = MsgNorm(agg) + x, or agg + x */
    if (cfg->msg_norm)
        ctx->ops->msgnorm_forward(ctx, h.data, agg.data, x.data, p->scale.data, N, D);
    else if (agg.data != h.data)
        ctx->ops->copy(ctx, h.data, agg.data, rg__tensor_bytes(N, D), RG_DEVICE_TO_DEVICE);
    ctx->ops->axpby(ctx, N * D, 1, x.data, 1, h.data);
    RG__TRY(rg_ctx_take_status(ctx));
    RG__TRY(rg_linear_forward(ctx, z1, h, &p->lin1));
    RG__TRY(rg_norm_forward(ctx, a1, &cache->norm, z1, &p->norm, mode));
    RG__TRY(rg_relu_forward(ctx, a1, a1));
    return rg_linear_forward(ctx, y, a1, &p->lin2);
}

/* Scratch (N, 3D): dz (N, 2D) through the MLP, then dh in the last third while the first two
   thirds take MsgNorm's dagg and its path through ||x||. */
RGDEF rg_status rg_gen_backward(rg_ctx *ctx, rg_tensor dx, rg_tensor dedge, const rg_gen *grad, rg_tensor dy,
                                rg_tensor x, const rg_graph *g, rg_tensor edge, rg_gen_cache *cache,
                                const rg_gen *p, const rg_gen_config *cfg, rg_mode mode) {
    int64_t N, E, D;
    rg_tensor h, agg, z1, a1, dz, dh, de;
    rg_real *S, *dout, *dparam;
    int need_de;
    RG__TRY(rg__gen_check("rg_gen_backward", ctx, cache, x, g, edge, p, cfg, mode));
    RG__CHECK_ARG(grad != NULL, "rg_gen_backward: NULL gradient");
    N = g->n_nodes;
    E = g->n_edges;
    D = cfg->dim;
    RG__CHECK_SHAPE("rg_gen_backward", "dy", dy, N, D);
    if (dx.data) RG__CHECK_SHAPE("rg_gen_backward", "dx", dx, N, D);
    if (dedge.data) RG__CHECK_SHAPE("rg_gen_backward", "dedge", dedge, E, cfg->edge_dim);
    if (rg__gen_learns_param(cfg)) RG__CHECK_SHAPE("rg_gen_backward", "grad t or p", rg__gen_param(grad, cfg), 1, 1);
    if (rg__gen_learns_scale(cfg)) RG__CHECK_SHAPE("rg_gen_backward", "grad scale", grad->scale, 1, 1);
    h = rg_tensor_view(cache->h.data, N, D);
    agg = rg_tensor_view(rg__gen_keeps_agg(cfg) ? cache->agg.data : NULL, N, D);
    z1 = rg_tensor_view(cache->z1.data, N, 2 * D);
    a1 = rg_tensor_view(cache->a1.data, N, 2 * D);
    S = cache->scratch.data;
    dz = rg_tensor_view(S, N, 2 * D);
    dh = rg_tensor_view(S + 2 * N * D, N, D);
    de = rg_tensor_view(cache->escratch.data, E, D);
    /* MLP: y = lin2(ReLU(norm(lin1(h)))); the norm works in place */
    RG__TRY(rg_linear_backward(ctx, dz, &grad->lin2, dy, a1, &p->lin2));
    RG__TRY(rg_relu_backward(ctx, dz, dz, a1));
    RG__TRY(rg_norm_backward(ctx, dz, &grad->norm, dz, z1, &cache->norm, &p->norm, mode));
    RG__TRY(rg_linear_backward(ctx, dh, &grad->lin1, dz, h, &p->lin1));
    /* h = MsgNorm(agg) + x: dh reaches x directly, and through ||x|| with MsgNorm */
    dout = dh.data;
    if (cfg->msg_norm) {
        rg_real *dscale = rg__gen_learns_scale(cfg) ? cache->stats.data + N : NULL;
        dout = S;
        ctx->ops->msgnorm_backward(ctx, dout, S + N * D, dscale, dh.data, agg.data, x.data, p->scale.data, N, D);
        if (dscale) ctx->ops->col_sum(ctx, grad->scale.data, dscale, N, 1);
        if (dx.data) ctx->ops->axpby(ctx, N * D, 1, S + N * D, 1, dh.data);
    }
    /* the aggregation: dx written, then the direct paths added */
    need_de = cfg->encode_edges || (cfg->edge_dim > 0 && dedge.data != NULL);
    dparam = rg__gen_learns_param(cfg) ? cache->stats.data : NULL;
    if (dx.data || need_de || dparam)
        ctx->ops->gen_aggregate_backward(ctx, dx.data, need_de ? de.data : NULL, dparam, dout, agg.data,
                                         cache->aux.data, cache->argmax, x.data, rg__gen_edges(cache, edge, cfg),
                                         g->rowptr, g->dst, g->t_rowptr, g->t_edge, N, D, cfg->aggr, cfg->eps,
                                         rg__gen_param(p, cfg).data, rg__gen_param_value(cfg));
    if (dparam) ctx->ops->col_sum(ctx, rg__gen_param(grad, cfg).data, dparam, N, 1);
    if (dx.data) ctx->ops->axpby(ctx, N * D, 1, dh.data, 1, dx.data);
    RG__TRY(rg_ctx_take_status(ctx));
    /* the edge term: through the encoder (dedge += de W^T), or straight into dedge */
    if (cfg->encode_edges) {
        RG__TRY(rg_linear_backward(ctx, rg_tensor_view(NULL, 0, 0), &grad->edge_enc, de, edge, &p->edge_enc));
        if (dedge.data)
            ctx->ops->gemm(ctx, 0, 1, E, cfg->edge_dim, D, 1, de.data, D, p->edge_enc.W.data, D, 1, dedge.data,
                           cfg->edge_dim);
    } else if (need_de) {
        ctx->ops->axpby(ctx, E * D, 1, de.data, 1, dedge.data);
    }
    return rg_ctx_take_status(ctx);
}

/* ============================== data ============================== */

RGDEF rg_dataset_options rg_dataset_options_default(void) {
    rg_dataset_options o;
    o.split = NULL;
    o.species_onehot = 0;
    o.max_line = RG_CSV_MAX_LINE;
    return o;
}

RGDEF void rg_dataset_free(rg_ctx *ctx, rg_dataset *ds) {
    int k;
    if (!ds) return;
    rg_graph_free(NULL, &ds->graph);
    REVGNN_FREE(ctx, ds->x);
    REVGNN_FREE(ctx, ds->y);
    REVGNN_FREE(ctx, ds->labels);
    REVGNN_FREE(ctx, ds->species);
    for (k = 0; k < 3; k++) REVGNN_FREE(ctx, ds->split[k]);
    memset(ds, 0, sizeof *ds);
}

/* count elements of elem bytes, or NULL with an RG_ERR_OOM message; one spare byte so that
   an empty array is still a real pointer */
static void *rg__host_array(rg_ctx *ctx, int64_t count, size_t elem, const char *what) {
    void *p = NULL;
    if (count >= 0 && (uint64_t)count <= (SIZE_MAX - 1) / elem) p = REVGNN_MALLOC(ctx, (size_t)count * elem + 1);
    if (!p)
        rg__fail_at(__FILE__, __LINE__, RG_ERR_OOM, "out of host memory for %s (%lld x %zu bytes)", what,
                    (long long)count, elem);
    return p;
}

#define RG__REAL_NAME (sizeof(rg_real) == sizeof(float) ? "float" : "double") /* for messages */

/* x[i, 0 : edge_dim] (rows of stride ld) = the sum, in double and CSR order, of the features
   of node i's incoming edges: with the reverse edges added, every edge touching i once (a
   self-loop twice). The node features of ogbn-proteins, which ships none. A sum beyond
   rg_real's range is RG_ERR_FORMAT naming source, the file the features came from. */
static rg_status rg__x_from_edges(const rg_graph *g, rg_real *x, int64_t ld, const char *source) {
    int64_t i, e, f, d = g->edge_dim;
    for (i = 0; i < g->n_nodes; i++)
        for (f = 0; f < d; f++) {
            double acc = 0;
            for (e = g->rowptr[i]; e < g->rowptr[i + 1]; e++) acc += g->edge_feat[e * d + f];
            x[i * ld + f] = (rg_real)acc;
            if (!isfinite(x[i * ld + f]))
                return RG__FAIL(RG_ERR_FORMAT,
                                "%s: node %lld, column %lld: the sum of its %lld edges' features, %g, is beyond the "
                                "range of %s", source, (long long)i, (long long)(f + 1),
                                (long long)(g->rowptr[i + 1] - g->rowptr[i]), acc, RG__REAL_NAME);
        }
    return RG_OK;
}

/* x[i, off : off + n_species] (rows of stride ld) = the one-hot encoding of species[i] */
static void rg__x_onehot(rg_real *x, int64_t ld, int64_t off, const int32_t *species, int64_t n, int64_t n_species) {
    int64_t i, s;
    for (i = 0; i < n; i++)
        for (s = 0; s < n_species; s++) x[i * ld + off + s] = (rg_real)(s == species[i]);
}

#ifndef REVGNN_NO_STDIO

/* ---- CSV reading ----
   Files are read in 16 MiB blocks and parsed by hand, one thread. Measured on files of
   ogbn-proteins' size (39.56 M edges "u,v", 8 features "0.ddd" each; a 2-core Xeon VM,
   2026-11-21, -O2): edge.csv (0.49 GB) 1.3-2.1 s, edge-feat.csv (1.9 GB) 4.3-7.0 s; the whole
   rg_dataset_load_ogb 28-39 s, of which rg_graph_from_coo on the 79 M directed edges 12-16 s. */

#ifndef RG__CSV_BLOCK /* the fuzz targets set a few bytes: fast, and lines cross blocks */
#define RG__CSV_BLOCK ((size_t)1 << 24)
#endif

typedef struct rg__csv {
    rg_ctx *ctx;
    FILE *f;               /* NULL: an optional file that is absent */
    char *path;            /* dir/name, REVGNN_MALLOC'd */
    char *buf;             /* (cap) bytes; [pos, len) not yet returned */
    size_t cap, len, pos;
    size_t max_line;       /* longest line accepted (rg_dataset_options.max_line) */
    int64_t size;          /* bytes in the file, -1 when unknown */
    int eof, bom_seen;     /* bom_seen: line 1 was returned, without its UTF-8 BOM */
    int64_t line;          /* 1-based number of the line last returned */
} rg__csv;

static rg_status rg__csv_fail(const char *file, int line, const rg__csv *r, rg_status st, const char *fmt, ...) {
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rg__fail_at(file, line, st, "%s:%lld: %s", r->path, (long long)r->line, msg);
}
/* RG__FAIL with "path:line: " in front */
#define RG__CSV_FAIL(r, st, ...) rg__csv_fail(__FILE__, __LINE__, (r), (st), __VA_ARGS__)

/* [p, p + n) in out (cap >= 5 bytes), bytes outside printable ASCII written \xNN (a NUL, a BOM,
   a control character would not show), cut where out is full */
static const char *rg__escape(char *out, size_t cap, const char *p, size_t n) {
    size_t i, k = 0;
    for (i = 0; i < n && k + 5 <= cap; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f) out[k++] = (char)c;
        else k += (size_t)snprintf(out + k, cap - k, "\\x%02x", c);
    }
    out[k] = '\0';
    return out;
}

static int rg__cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int rg__file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* Opens dir/name. An absent optional file leaves r->f NULL; an absent required one is
   RG_ERR_IO. A file present only compressed is RG_ERR_IO either way: skipping it would
   silently drop data. */
static void rg__csv_close(rg__csv *r) {
    if (r->f) fclose(r->f);
    REVGNN_FREE(r->ctx, r->buf);
    REVGNN_FREE(NULL, r->path);
    r->f = NULL;
    r->buf = NULL;
    r->path = NULL;
}

static rg_status rg__csv_open(rg__csv *r, rg_ctx *ctx, const char *dir, const char *name, int required,
                              size_t max_line) {
    rg_status st = RG_OK;
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->max_line = max_line;
    r->size = -1;
    if (!(r->path = rg__str_join(dir, "/", name))) return RG_ERR_OOM;
    r->f = fopen(r->path, "rb");
    if (!r->f) {
        int err = errno;
        char *gz = rg__str_join(r->path, ".gz", "");
        if (!gz) st = RG_ERR_OOM;
        else if (rg__file_exists(gz))
            st = RG__FAIL(RG_ERR_IO, "%s is missing but %s is there: run data/fetch.sh, or gunzip it", r->path, gz);
        else if (required)
            st = RG__FAIL(RG_ERR_IO, "cannot open %s: %s", r->path, strerror(err));
        REVGNN_FREE(NULL, gz);
        rg__csv_close(r);
        return st;
    }
#ifdef RG__HAVE_DIRENT
    {
        struct stat sb;
        if (stat(r->path, &sb) == 0 && S_ISDIR(sb.st_mode))
            st = RG__FAIL(RG_ERR_IO, "%s is a folder, not a file", r->path);
    }
#endif
    if (st == RG_OK) { /* the size bounds the rows a count file may claim */
        long size = fseek(r->f, 0, SEEK_END) == 0 ? ftell(r->f) : -1;
        r->size = size;
        if (fseek(r->f, 0, SEEK_SET) != 0) st = RG__FAIL(RG_ERR_IO, "cannot rewind %s", r->path);
    }
    r->cap = RG__CSV_BLOCK;
    if (st == RG_OK && !(r->buf = (char *)REVGNN_MALLOC(ctx, r->cap)))
        st = RG__FAIL(RG_ERR_OOM, "out of host memory for a read buffer of %zu bytes", r->cap);
    if (st != RG_OK) rg__csv_close(r);
    return st;
}

/* reads more of the file after [0, len) */
static rg_status rg__csv_fill(rg__csv *r) {
    size_t got = fread(r->buf + r->len, 1, r->cap - r->len, r->f);
    if (got == 0) {
        if (ferror(r->f)) return RG__CSV_FAIL(r, RG_ERR_IO, "read error after this line: %s", strerror(errno));
        r->eof = 1;
    }
    r->len += got;
    return RG_OK;
}

/* The next line as [*s, *e) without its "\n" or "\r\n"; *s NULL at the end of the file. The
   pointers stay valid until the next call. As OGB's reader (pandas), a UTF-8 BOM before line
   1 and one empty last line are skipped; a line over max_line bytes is RG_ERR_FORMAT. */
static rg_status rg__csv_line(rg__csv *r, const char **s, const char **e) {
    char *nl;
    for (;;) {
        nl = r->pos < r->len ? (char *)memchr(r->buf + r->pos, '\n', r->len - r->pos) : NULL;
        if (nl || r->eof) break;
        /* no whole line left: keep the partial one at the front and read after it */
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
        if (r->len > r->max_line) break; /* refused below, before the buffer grows */
        if (r->len == r->cap) { /* a line longer than the buffer */
            char *bigger = (char *)REVGNN_MALLOC(r->ctx, 2 * r->cap);
            if (!bigger) return RG__CSV_FAIL(r, RG_ERR_OOM, "out of host memory for a line of over %zu bytes", r->cap);
            memcpy(bigger, r->buf, r->len);
            REVGNN_FREE(r->ctx, r->buf);
            r->buf = bigger;
            r->cap *= 2;
        }
        RG__TRY(rg__csv_fill(r));
    }
    if (!nl) {
        if (r->pos >= r->len) { /* end of file */
            *s = *e = NULL;
            return RG_OK;
        }
        nl = r->buf + r->len; /* a last line without "\n" (or one too long to hold) */
    }
    *s = r->buf + r->pos;
    *e = nl;
    if (*e > *s && (*e)[-1] == '\r') (*e)--;
    r->pos = (size_t)(nl - r->buf) + 1;
    r->line++;
    if ((size_t)(*e - *s) > r->max_line)
        return RG__CSV_FAIL(r, RG_ERR_FORMAT, "the line is longer than %zu bytes (rg_dataset_options.max_line)",
                            r->max_line);
    if (!r->bom_seen && *e - *s >= 3 && !memcmp(*s, "\xEF\xBB\xBF", 3)) *s += 3;
    r->bom_seen = 1;
    if (*s == *e && r->pos >= r->len) { /* an empty line with nothing buffered after it: the last? */
        if (!r->eof) {
            r->len = r->pos = 0;
            RG__TRY(rg__csv_fill(r));
        }
        if (r->pos >= r->len) {
            r->line--;
            *s = *e = NULL;
            return RG_OK;
        }
        *s = *e = r->buf; /* no: a blank line, refused by the caller */
    }
    return RG_OK;
}

static rg_status rg__csv_rewind(rg__csv *r) {
    if (fseek(r->f, 0, SEEK_SET) != 0) return RG__FAIL(RG_ERR_IO, "cannot rewind %s", r->path);
    r->len = r->pos = 0;
    r->eof = r->bom_seen = 0;
    r->line = 0;
    return RG_OK;
}

/* counts the rows of r from the start, then rewinds */
static rg_status rg__csv_count(rg__csv *r, int64_t *rows) {
    const char *s, *e;
    for (;;) {
        RG__TRY(rg__csv_line(r, &s, &e));
        if (!s) break;
    }
    *rows = r->line;
    return rg__csv_rewind(r);
}

static rg_status rg__csv_short(rg__csv *r, int64_t rows, const char *rows_from) {
    r->line = rows;
    return RG__CSV_FAIL(r, RG_ERR_FORMAT, "the file ends after %lld rows, short of %s", (long long)rows, rows_from);
}

/* Before the arrays for rows rows of cols values are allocated, with r at its start: a file
   too small to hold them ("v," per value, the last "\n" optional) is counted and refused,
   so that a count file claiming 2^31 nodes is bad input, not an out-of-memory. */
static rg_status rg__csv_fits(rg__csv *r, int64_t rows, int64_t cols, const char *rows_from) {
    int64_t have = 0;
    if (r->size < 0 || rows <= 0 || cols <= 0 || (uint64_t)r->size >= (uint64_t)rows * 2 * (uint64_t)cols - 1)
        return RG_OK;
    RG__TRY(rg__csv_count(r, &have));
    return have < rows ? rg__csv_short(r, have, rows_from) : RG_OK; /* else a bad row, found by the reader */
}

static int64_t rg__csv_cols(const char *s, const char *e) {
    int64_t n = 1;
    const char *p;
    for (p = s; p < e && (*p == ' ' || *p == '\t'); p++) {}
    if (p == e) return 0;
    for (p = s; p < e; p++) n += *p == ',';
    return n;
}

/* *cols = the column count of the first row, which stays unread. An empty file or a blank
   first line is RG_ERR_FORMAT. */
static rg_status rg__csv_peek_cols(rg__csv *r, int64_t *cols) {
    const char *s, *e;
    RG__TRY(rg__csv_line(r, &s, &e));
    if (!s) return RG__CSV_FAIL(r, RG_ERR_FORMAT, "the file is empty");
    *cols = rg__csv_cols(s, e);
    if (*cols == 0) return RG__CSV_FAIL(r, RG_ERR_FORMAT, "blank line");
    r->pos = (size_t)(s - r->buf);
    r->line--;
    return RG_OK;
}

/* Decimal parsers for the forms OGB writes ("3", "-3", "0.001", "1e-05", "2.5E+3"): the digits
   accumulate in a uint64 mantissa and one multiplication or division by an exact power of
   ten gives the correctly rounded double when the mantissa has at most 15 digits and the
   exponent is within +-22 (Clinger's fast path); longer forms go through strtod. Each returns
   the end of the number, or NULL when [p, e) does not start with one. */
static const double rg__pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const char *rg__parse_int(const char *p, const char *e, int64_t *out) {
    int neg = 0, digits = 0;
    int64_t v = 0;
    if (p < e && (*p == '-' || *p == '+')) neg = *p++ == '-';
    for (; p < e && (unsigned)(*p - '0') < 10; p++, digits++) {
        if (digits == 18) return NULL; /* beyond any id or count */
        v = v * 10 + (*p - '0');
    }
    if (digits == 0) return NULL;
    *out = neg ? -v : v;
    return p;
}

static const char *rg__parse_real(const char *p, const char *e, double *out) {
    const char *start = p;
    uint64_t m = 0;
    int neg = 0, digits = 0, frac = 0, ex = 0;
    if (p < e && (*p == '-' || *p == '+')) neg = *p++ == '-';
    for (; p < e && (unsigned)(*p - '0') < 10; p++, digits++) m = m * 10 + (uint64_t)(*p - '0');
    if (p < e && *p == '.')
        for (p++; p < e && (unsigned)(*p - '0') < 10; p++, digits++, frac++) m = m * 10 + (uint64_t)(*p - '0');
    if (digits == 0) return NULL;
    if (p < e && (*p == 'e' || *p == 'E')) {
        int eneg = 0, edigits = 0;
        p++;
        if (p < e && (*p == '-' || *p == '+')) eneg = *p++ == '-';
        for (; p < e && (unsigned)(*p - '0') < 10; p++, edigits++)
            if (ex < 100000) ex = ex * 10 + (*p - '0');
        if (edigits == 0) return NULL;
        if (eneg) ex = -ex;
    }
    ex -= frac;
    if (digits <= 15 && ex >= -22 && ex <= 22) {
        double v = ex < 0 ? (double)m / rg__pow10[-ex] : (double)m * rg__pow10[ex];
        *out = neg ? -v : v;
    } else { /* rare: let the C library round it */
        char tmp[128];
        char *end;
        size_t n = (size_t)(p - start);
        if (n >= sizeof tmp) return NULL;
        memcpy(tmp, start, n);
        tmp[n] = '\0';
        *out = strtod(tmp, &end); /* +-HUGE_VAL beyond double: the caller names it */
        if (end != tmp + n) return NULL;
    }
    return p;
}

/* The message for a bad row: its column count when that is wrong, else the value at p. */
static rg_status rg__csv_row_fail(const rg__csv *r, const char *s, const char *e, const char *p, int64_t cols,
                                  int ints) {
    int64_t n = rg__csv_cols(s, e);
    const char *t = p;
    char shown[161];
    if (n != cols) return RG__CSV_FAIL(r, RG_ERR_FORMAT, "%lld columns, expected %lld", (long long)n, (long long)cols);
    while (t < e && *t != ',') t++;
    return RG__CSV_FAIL(r, RG_ERR_FORMAT, "\"%s\" is not %s",
                        rg__escape(shown, sizeof shown, p, (size_t)(t - p > 40 ? 40 : t - p)),
                        ints ? "an integer" : "a number");
}

/* Reads the rest of r: exactly n_rows rows (rows_from, e.g. "the 2708 nodes in
   raw/num-node-list.csv", says why) of cols values each, spaces around values allowed.
   Reals go to rv + k * ld; integers, which must lie in [lo, hi), go column-major to
   iv + c * n_rows + k (what names them in messages). */
static rg_status rg__csv_table(rg__csv *r, int64_t n_rows, const char *rows_from, int64_t cols, rg_real *rv,
                               int64_t ld, int32_t *iv, int64_t lo, int64_t hi, const char *what) {
    const char *s, *e, *p, *q;
    int64_t k, c;
    for (k = 0;; k++) {
        RG__TRY(rg__csv_line(r, &s, &e));
        if (!s) break;
        if (k == n_rows) return RG__CSV_FAIL(r, RG_ERR_FORMAT, "one row more than %s", rows_from);
        for (c = 0, p = s; c < cols; c++) {
            while (p < e && (*p == ' ' || *p == '\t')) p++;
            if (iv) {
                int64_t v;
                q = rg__parse_int(p, e, &v);
                if (q && (v < lo || v >= hi))
                    return RG__CSV_FAIL(r, RG_ERR_FORMAT, "%s %lld is out of range [%lld, %lld)", what, (long long)v,
                                        (long long)lo, (long long)hi);
                if (q) iv[c * n_rows + k] = (int32_t)v;
            } else {
                double v;
                q = rg__parse_real(p, e, &v);
                if (q) rv[k * ld + c] = (rg_real)v;
                if (q && !isfinite(rv[k * ld + c])) {
                    char shown[161];
                    return RG__CSV_FAIL(r, RG_ERR_FORMAT, "column %lld: %s is beyond the range of %s",
                                        (long long)(c + 1), rg__escape(shown, sizeof shown, p, (size_t)(q - p)),
                                        RG__REAL_NAME);
                }
            }
            if (q) while (q < e && (*q == ' ' || *q == '\t')) q++;
            /* a value ends at "," before the last column and at the end of the line after it */
            if (!q || (c + 1 < cols ? q == e || *q != ',' : q != e))
                return rg__csv_row_fail(r, s, e, p, cols, iv != NULL);
            p = q + 1; /* past the "," (unused after the last column) */
        }
    }
    if (k != n_rows) return rg__csv_short(r, k, rows_from);
    return RG_OK;
}

/* ---- the OGB loader ---- */

typedef struct rg__ogb {
    rg_ctx *ctx;
    const char *dir;
    int onehot;            /* the species_onehot option */
    size_t max_line;       /* the max_line option */
    rg_dataset ds;         /* what is built so far: freed whole on failure */
    char n_from[128];      /* what fixed N, for messages */
    int64_t n_edges;       /* E, edges as stored (once) */
    int32_t *edges;        /* (2, E) sources, then destinations */
    int64_t edge_dim;
    rg_real *edge_feat;    /* (E, edge_dim) or NULL */
    int has_node_feat;
} rg__ogb;

/* *value = the single integer of a count file in [lo, INT32_MAX), -1 when the file is absent */
static rg_status rg__ogb_count(rg__ogb *L, const char *name, int64_t lo, int64_t *value) {
    rg__csv r;
    int32_t v = -1;
    rg_status st;
    RG__TRY(rg__csv_open(&r, L->ctx, L->dir, name, 0, L->max_line));
    *value = -1;
    if (!r.f) return RG_OK;
    st = rg__csv_table(&r, 1, "the one count it holds", 1, NULL, 0, &v, lo, INT32_MAX, "count");
    rg__csv_close(&r);
    *value = v;
    return st;
}

/* node-label.csv: N (counted when num-node-list.csv is absent), the task and the targets */
static rg_status rg__ogb_labels(rg__ogb *L, int64_t n) {
    rg__csv r;
    rg_dataset *ds = &L->ds;
    int64_t cols = 0, k, c;
    int32_t *ints = NULL;
    rg_status st;
    RG__TRY(rg__csv_open(&r, L->ctx, L->dir, "raw/node-label.csv", 1, L->max_line));
    if (n >= 0) {
        snprintf(L->n_from, sizeof L->n_from, "the %lld nodes in raw/num-node-list.csv", (long long)n);
        st = RG_OK;
    } else {
        st = rg__csv_count(&r, &n);
        snprintf(L->n_from, sizeof L->n_from, "the %lld rows of raw/node-label.csv", (long long)n);
        if (st == RG_OK && n >= INT32_MAX) st = RG__CSV_FAIL(&r, RG_ERR_FORMAT, "more than %d nodes", INT32_MAX - 1);
    }
    if (st == RG_OK) st = rg__csv_peek_cols(&r, &cols);
    if (st == RG_OK) st = rg__csv_fits(&r, n, cols, L->n_from);
    if (st == RG_OK && !(ints = (int32_t *)rg__host_array(L->ctx, n * cols, sizeof(int32_t), "node labels")))
        st = RG_ERR_OOM;
    /* one column: class ids (multi-class), below N (the classes size the model's output: a
       stray id must not ask for gigabytes); several: 0/1 per task (multi-label) */
    if (st == RG_OK)
        st = rg__csv_table(&r, n, L->n_from, cols, NULL, 0, ints, 0, cols == 1 ? n : 2,
                           cols == 1 ? "class id" : "label");
    rg__csv_close(&r);
    if (st == RG_OK) {
        ds->n_nodes = n;
        ds->n_tasks = cols;
        if (cols == 1) {
            ds->task = RG_TASK_MULTICLASS;
            ds->labels = ints;
            ints = NULL;
            ds->n_tasks = 0;
            for (k = 0; k < n; k++)
                if (ds->labels[k] >= ds->n_tasks) ds->n_tasks = ds->labels[k] + 1;
        } else if ((ds->y = (rg_real *)rg__host_array(L->ctx, n * cols, sizeof(rg_real), "node targets")) != NULL) {
            ds->task = RG_TASK_MULTILABEL;
            for (k = 0; k < n; k++)
                for (c = 0; c < cols; c++) ds->y[k * cols + c] = (rg_real)ints[c * n + k];
        } else {
            st = RG_ERR_OOM;
        }
    }
    REVGNN_FREE(L->ctx, ints);
    return st;
}

/* The splits of dir: the folders under dir/split holding a train.csv (or train.csv.gz).
   *count of them; *first (REVGNN_MALLOC'd, NULL when none) one of them; *names all of them,
   ", "-separated, for messages (REVGNN_MALLOC'd, NULL when none). */
static rg_status rg__ogb_splits(const char *dir, char **first, char **names, int *count) {
    char *folder = rg__str_join(dir, "/split/", "");
    rg_status st = RG_OK;
    *first = *names = NULL;
    *count = 0;
    if (!folder) return RG_ERR_OOM;
#ifdef RG__HAVE_DIRENT
    {
        struct dirent *ent;
        DIR *d = opendir(folder);
        if (!d) st = RG__FAIL(RG_ERR_IO, "cannot open the split folder %s: %s", folder, strerror(errno));
        while (st == RG_OK && (ent = readdir(d)) != NULL) {
            char *probe, *gz = NULL;
            if (ent->d_name[0] == '.') continue;
            probe = rg__str_join(folder, ent->d_name, "/train.csv");
            if (probe) gz = rg__str_join(probe, ".gz", "");
            if (!gz) st = RG_ERR_OOM;
            else if (rg__file_exists(probe) || rg__file_exists(gz)) {
                char *more = rg__str_join(*names ? *names : "", *names ? ", " : "", ent->d_name);
                if (!more) st = RG_ERR_OOM;
                REVGNN_FREE(NULL, *names);
                *names = more;
                if (st == RG_OK && !*first && !(*first = rg__str_join(ent->d_name, "", ""))) st = RG_ERR_OOM;
                (*count)++;
            }
            REVGNN_FREE(NULL, probe);
            REVGNN_FREE(NULL, gz);
        }
        if (d) closedir(d);
    }
#else
    st = RG__FAIL(RG_ERR_ARG, "this platform cannot list %s: choose a split with rg_dataset_options.split", folder);
#endif
    REVGNN_FREE(NULL, folder);
    if (st != RG_OK) {
        REVGNN_FREE(NULL, *first);
        REVGNN_FREE(NULL, *names);
        *first = *names = NULL;
        *count = 0;
    }
    return st;
}

/* RG_OK when dir is a folder that holds a dataset's raw files (or one of them, compressed);
   else RG_ERR_IO saying which: a mistyped --data names the folder, an empty one the layout */
static rg_status rg__ogb_check_folder(const char *dir) {
    static const char *const raw[4] = {"/raw/edge.csv", "/raw/edge.csv.gz", "/raw/node-label.csv",
                                       "/raw/node-label.csv.gz"};
    int k, found = 0;
#ifdef RG__HAVE_DIRENT
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (errno == ENOENT) return RG__FAIL(RG_ERR_IO, "the dataset folder %s does not exist", dir);
        return RG__FAIL(RG_ERR_IO, "cannot open the dataset folder %s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode)) return RG__FAIL(RG_ERR_IO, "%s is a file, not a dataset folder", dir);
#endif
    for (k = 0; k < 4 && !found; k++) {
        char *path = rg__str_join(dir, raw[k], "");
        if (!path) return RG_ERR_OOM;
        found = rg__file_exists(path);
        REVGNN_FREE(NULL, path);
    }
    if (!found)
        return RG__FAIL(RG_ERR_IO, "%s holds no dataset in the OGB layout: expected raw/edge.csv, raw/node-label.csv "
                        "and split/<name>/{train,valid,test}.csv (optional: raw/node-feat.csv, raw/edge-feat.csv, "
                        "raw/node_species.csv, raw/num-node-list.csv, raw/num-edge-list.csv)", dir);
    return RG_OK;
}

/* *name = the split to read: the one asked for, which must be there (else the message lists
   those that are), or the only one under dir/split. *owned is what to free afterwards. */
static rg_status rg__ogb_pick_split(const char *dir, const char *asked, const char **name, char **owned) {
    char *first = NULL, *names = NULL, *train = NULL, *gz = NULL;
    int count = 0;
    rg_status st = RG_OK;
    *name = asked;
    *owned = NULL;
    if (asked) {
        train = rg__str_join(dir, "/split/", asked);
        if (train) {
            char *t = rg__str_join(train, "/train.csv", "");
            REVGNN_FREE(NULL, train);
            train = t;
        }
        if (train) gz = rg__str_join(train, ".gz", "");
        if (!gz) st = RG_ERR_OOM;
        else if (!rg__file_exists(train) && !rg__file_exists(gz)) {
            rg_status listed = rg__ogb_splits(dir, &first, &names, &count);
            st = RG__FAIL(RG_ERR_IO, "cannot open %s: no split %s; the splits there: %s", train, asked,
                          listed != RG_OK ? "(cannot list them)" : count ? names : "none");
        }
    } else {
        st = rg__ogb_splits(dir, &first, &names, &count);
        if (st == RG_OK && count == 0)
            st = RG__FAIL(RG_ERR_IO, "no split under %s/split: no %s/split/<name>/train.csv", dir, dir);
        else if (st == RG_OK && count > 1)
            st = RG__FAIL(RG_ERR_ARG, "%d splits under %s/split (%s): choose one with rg_dataset_options.split",
                          count, dir, names);
        if (st == RG_OK) {
            *name = *owned = first;
            first = NULL;
        }
    }
    REVGNN_FREE(NULL, first);
    REVGNN_FREE(NULL, names);
    REVGNN_FREE(NULL, train);
    REVGNN_FREE(NULL, gz);
    return st;
}

/* split/<name>/{train,valid,test}.csv: node ids in [0, N), none repeated within a file */
static rg_status rg__ogb_split(rg__ogb *L, const char *name) {
    static const char *const parts[3] = {"train", "valid", "test"};
    rg_dataset *ds = &L->ds;
    char *folder = rg__str_join("split/", name, "/");
    int64_t *line_of; /* (N) the 1-based line where a node id was seen in the current file, 0 if not */
    int64_t k, j;
    rg_status st = RG_OK;
    line_of = folder ? (int64_t *)rg__host_array(L->ctx, ds->n_nodes, sizeof(int64_t), "split checks") : NULL;
    if (!line_of) {
        REVGNN_FREE(NULL, folder);
        return RG_ERR_OOM;
    }
    memset(line_of, 0, (size_t)ds->n_nodes * sizeof(int64_t));
    for (k = 0; k < 3 && st == RG_OK; k++) {
        rg__csv r;
        int64_t m = 0;
        char *rel = rg__str_join(folder, parts[k], ".csv");
        st = rel ? rg__csv_open(&r, L->ctx, L->dir, rel, 1, L->max_line) : RG_ERR_OOM;
        REVGNN_FREE(NULL, rel);
        if (st != RG_OK) break;
        st = rg__csv_count(&r, &m);
        /* an empty split would only show up after training, as a metric over no rows */
        if (st == RG_OK && m == 0) st = RG__CSV_FAIL(&r, RG_ERR_FORMAT, "no node ids: a split needs at least one");
        if (st == RG_OK && !(ds->split[k] = (int32_t *)rg__host_array(L->ctx, m, sizeof(int32_t), "a split")))
            st = RG_ERR_OOM;
        if (st == RG_OK)
            st = rg__csv_table(&r, m, "its counted rows", 1, NULL, 0, ds->split[k], 0, ds->n_nodes, "node id");
        if (st == RG_OK) ds->split_size[k] = m;
        for (j = 0; j < m && st == RG_OK; j++) {
            int32_t id = ds->split[k][j];
            if (line_of[id]) {
                r.line = j + 1;
                st = RG__CSV_FAIL(&r, RG_ERR_FORMAT, "node id %d repeats line %lld", (int)id, (long long)line_of[id]);
            }
            line_of[id] = j + 1;
        }
        for (j = 0; j < ds->split_size[k]; j++) line_of[ds->split[k][j]] = 0;
        rg__csv_close(&r);
    }
    REVGNN_FREE(L->ctx, line_of);
    REVGNN_FREE(NULL, folder);
    return st;
}

/* node_species.csv: taxon ids, renumbered 0 .. S-1 in ascending order */
static rg_status rg__ogb_species(rg__ogb *L) {
    rg__csv r;
    rg_dataset *ds = &L->ds;
    int32_t *sorted = NULL;
    int64_t i, n = ds->n_nodes, s = 0;
    rg_status st;
    RG__TRY(rg__csv_open(&r, L->ctx, L->dir, "raw/node_species.csv", L->onehot, L->max_line));
    if (!r.f) return RG_OK;
    st = rg__csv_fits(&r, n, 1, L->n_from);
    if (st == RG_OK && !(ds->species = (int32_t *)rg__host_array(L->ctx, n, sizeof(int32_t), "species")))
        st = RG_ERR_OOM;
    if (st == RG_OK) st = rg__csv_table(&r, n, L->n_from, 1, NULL, 0, ds->species, 0, INT32_MAX, "taxon id");
    rg__csv_close(&r);
    if (st == RG_OK && !(sorted = (int32_t *)rg__host_array(L->ctx, n, sizeof(int32_t), "species"))) st = RG_ERR_OOM;
    if (st != RG_OK) return st;
    memcpy(sorted, ds->species, (size_t)n * sizeof(int32_t));
    qsort(sorted, (size_t)n, sizeof(int32_t), rg__cmp_i32);
    for (i = 0; i < n; i++)
        if (i == 0 || sorted[i] != sorted[s - 1]) sorted[s++] = sorted[i];
    for (i = 0; i < n; i++) { /* binary search of the taxon among the s distinct ones */
        int64_t lo = 0, hi = s - 1;
        while (lo < hi) {
            int64_t mid = (lo + hi) / 2;
            if (sorted[mid] < ds->species[i]) lo = mid + 1;
            else hi = mid;
        }
        ds->species[i] = (int32_t)lo;
    }
    ds->n_species = s;
    REVGNN_FREE(L->ctx, sorted);
    return RG_OK;
}

/* node-feat.csv: x (N, F [+ S]) */
static rg_status rg__ogb_node_feat(rg__ogb *L) {
    rg__csv r;
    rg_dataset *ds = &L->ds;
    int64_t cols = 0;
    rg_status st;
    RG__TRY(rg__csv_open(&r, L->ctx, L->dir, "raw/node-feat.csv", 0, L->max_line));
    if (!r.f) return RG_OK;
    st = rg__csv_peek_cols(&r, &cols);
    if (st == RG_OK) st = rg__csv_fits(&r, ds->n_nodes, cols, L->n_from);
    if (st == RG_OK) {
        ds->x_dim = cols + (L->onehot ? ds->n_species : 0);
        if (!(ds->x = (rg_real *)rg__host_array(L->ctx, ds->n_nodes * ds->x_dim, sizeof(rg_real), "node features")))
            st = RG_ERR_OOM;
    }
    if (st == RG_OK) st = rg__csv_table(&r, ds->n_nodes, L->n_from, cols, ds->x, ds->x_dim, NULL, 0, 0, NULL);
    rg__csv_close(&r);
    L->has_node_feat = 1;
    return st;
}

/* edge.csv (E counted when num-edge-list.csv is absent) and edge-feat.csv */
static rg_status rg__ogb_edges(rg__ogb *L) {
    rg__csv r;
    char from[128];
    int64_t E;
    rg_status st;
    RG__TRY(rg__ogb_count(L, "raw/num-edge-list.csv", 0, &E));
    RG__TRY(rg__csv_open(&r, L->ctx, L->dir, "raw/edge.csv", 1, L->max_line));
    if (E >= 0) {
        snprintf(from, sizeof from, "the %lld edges in raw/num-edge-list.csv", (long long)E);
        st = RG_OK;
    } else {
        st = rg__csv_count(&r, &E);
        snprintf(from, sizeof from, "its %lld counted rows", (long long)E);
    }
    if (st == RG_OK) st = rg__csv_fits(&r, E, 2, from);
    if (st == RG_OK && !(L->edges = (int32_t *)rg__host_array(L->ctx, 2 * E, sizeof(int32_t), "edges")))
        st = RG_ERR_OOM;
    if (st == RG_OK) st = rg__csv_table(&r, E, from, 2, NULL, 0, L->edges, 0, L->ds.n_nodes, "node id");
    rg__csv_close(&r);
    if (st != RG_OK) return st;
    L->n_edges = E;
    RG__TRY(rg__csv_open(&r, L->ctx, L->dir, "raw/edge-feat.csv", 0, L->max_line));
    if (!r.f) return RG_OK;
    snprintf(from, sizeof from, "the %lld edges in raw/edge.csv", (long long)E);
    if (E == 0) { /* no edges: an empty edge-feat.csv is what OGB's writer leaves */
        const char *s, *e;
        st = rg__csv_line(&r, &s, &e);
        if (st == RG_OK && !s) {
            rg__csv_close(&r);
            return RG_OK;
        }
        if (st == RG_OK) st = rg__csv_rewind(&r);
    }
    if (st == RG_OK) st = rg__csv_peek_cols(&r, &L->edge_dim);
    if (st == RG_OK) st = rg__csv_fits(&r, E, L->edge_dim, from);
    if (st == RG_OK &&
        !(L->edge_feat = (rg_real *)rg__host_array(L->ctx, E * L->edge_dim, sizeof(rg_real), "edge features")))
        st = RG_ERR_OOM;
    if (st == RG_OK) st = rg__csv_table(&r, E, from, L->edge_dim, L->edge_feat, L->edge_dim, NULL, 0, 0, NULL);
    rg__csv_close(&r);
    return st;
}

RGDEF rg_status rg_dataset_load_ogb(rg_ctx *ctx, const char *dir, const rg_dataset_options *options,
                                    rg_dataset *out) {
    rg_dataset_options opt = options ? *options : rg_dataset_options_default();
    rg_graph_options gopt = rg_graph_options_default();
    rg_dataset *ds;
    rg__ogb L;
    const char *split = NULL;
    char *split_owned = NULL;
    int64_t n = -1;
    rg_status st;
    RG__CHECK_ARG(out != NULL, "rg_dataset_load_ogb: NULL output");
    memset(out, 0, sizeof *out);
    RG__CHECK_ARG(dir != NULL, "rg_dataset_load_ogb: NULL folder");
    memset(&L, 0, sizeof L);
    L.ctx = ctx;
    L.dir = dir;
    L.onehot = opt.species_onehot;
    L.max_line = opt.max_line ? opt.max_line : RG_CSV_MAX_LINE;
    ds = &L.ds;
    st = rg__ogb_check_folder(dir);
    if (st == RG_OK) st = rg__ogb_pick_split(dir, opt.split, &split, &split_owned);
    /* the small files first, so that a bad split or label fails before the edges are parsed */
    if (st == RG_OK) st = rg__ogb_count(&L, "raw/num-node-list.csv", 1, &n);
    if (st == RG_OK) st = rg__ogb_labels(&L, n);
    if (st == RG_OK) st = rg__ogb_split(&L, split);
    REVGNN_FREE(NULL, split_owned);
    if (st == RG_OK) st = rg__ogb_species(&L);
    if (st == RG_OK) st = rg__ogb_node_feat(&L);
    if (st == RG_OK) st = rg__ogb_edges(&L);
    gopt.add_reverse = 1;
    if (st == RG_OK)
        st = rg_graph_from_coo(&ds->graph, ds->n_nodes, L.n_edges, L.edges, L.edges + L.n_edges, L.edge_feat,
                               L.edge_dim, &gopt);
    REVGNN_FREE(ctx, L.edges);
    REVGNN_FREE(ctx, L.edge_feat);
    if (st == RG_OK && !L.has_node_feat) { /* ogbn-proteins: x from the edge features */
        ds->x_dim = L.edge_dim + (L.onehot ? ds->n_species : 0);
        if (ds->x_dim > 0 &&
            !(ds->x = (rg_real *)rg__host_array(ctx, ds->n_nodes * ds->x_dim, sizeof(rg_real), "node features")))
            st = RG_ERR_OOM;
        else if (ds->x)
            st = rg__x_from_edges(&ds->graph, ds->x, ds->x_dim, "raw/edge-feat.csv");
    }
    if (st == RG_OK && L.onehot)
        rg__x_onehot(ds->x, ds->x_dim, ds->x_dim - ds->n_species, ds->species, ds->n_nodes, ds->n_species);
    if (st != RG_OK) {
        rg_dataset_free(ctx, ds);
        return st;
    }
    *out = *ds;
    return RG_OK;
}

#endif /* REVGNN_NO_STDIO */

/* ---- the synthetic proteins-like generator ---- */

#define RG__SYN_STREAM 0x5e7a000ULL /* its RNG streams are RG__SYN_STREAM + 0 .. 8 */

RGDEF rg_synthetic_options rg_synthetic_options_default(void) {
    rg_synthetic_options o;
    o.nodes = 4000;
    o.avg_degree = 30;
    o.n_tasks = 112;
    o.n_species = 8;
    o.edge_dim = 8;
    o.seed = 1;
    o.species_onehot = 0;
    return o;
}

/* The targets: y (N, T) = v_it > the q_t-quantile of v_.t, as the header comment describes.
   scratch is (3N + edge_dim) doubles. */
static void rg__synthetic_targets(rg_dataset *ds, const int32_t *cluster, const rg_synthetic_options *o,
                                  double *scratch) {
    const rg_graph *g = &ds->graph;
    int64_t N = ds->n_nodes, T = ds->n_tasks, D = g->edge_dim, i, e, f, t;
    double *z = scratch, *v = scratch + N, *sorted = scratch + 2 * N, *w = scratch + 3 * N;
    for (t = 0; t < T; t++) {
        double mean = 0, var = 0, sigma, theta;
        for (f = 0; f < D; f++) w[f] = rg_rng_normal(o->seed, RG__SYN_STREAM + 5, (uint64_t)(t * D + f));
        for (i = 0; i < N; i++) { /* z_i = x_i . w_t over the edge columns */
            double acc = 0;
            for (f = 0; f < D; f++) acc += ds->x[i * ds->x_dim + f] * w[f];
            z[i] = acc;
        }
        for (i = 0; i < N; i++) { /* h_i = mean of z over i's neighbours */
            double acc = 0;
            for (e = g->rowptr[i]; e < g->rowptr[i + 1]; e++) acc += z[g->src[e]];
            v[i] = g->rowptr[i + 1] > g->rowptr[i] ? acc / (double)(g->rowptr[i + 1] - g->rowptr[i]) : 0;
            mean += v[i];
        }
        mean /= (double)N;
        for (i = 0; i < N; i++) var += (v[i] - mean) * (v[i] - mean);
        sigma = sqrt(var / (double)N);
        for (i = 0; i < N; i++) {
            v[i] += sigma * rg_rng_normal(o->seed, RG__SYN_STREAM + 6, (uint64_t)(cluster[i] * T + t));
            sorted[i] = v[i];
        }
        qsort(sorted, (size_t)N, sizeof(double), rg__cmp_double);
        theta = sorted[(int64_t)((0.5 + 0.4 * rg_rng_uniform(o->seed, RG__SYN_STREAM + 7, (uint64_t)t)) * (double)N)];
        for (i = 0; i < N; i++) ds->y[i * T + t] = (rg_real)(v[i] > theta);
    }
}

RGDEF rg_status rg_dataset_synthetic(const rg_synthetic_options *options, rg_dataset *out) {
    rg_synthetic_options o = options ? *options : rg_synthetic_options_default();
    rg_graph_options gopt = rg_graph_options_default();
    rg_dataset ds;
    int64_t N = o.nodes, D = o.edge_dim, S = o.n_species, K, E, i, k, f;
    int64_t *start = NULL;    /* (K + 1) offsets of each cluster's nodes in members */
    int32_t *cluster = NULL;  /* (N) */
    int32_t *members = NULL;  /* (N) node ids grouped by cluster, then the split parts */
    int32_t *edges = NULL;    /* (2, E) */
    rg_real *feat = NULL;     /* (E, D) */
    double *scratch = NULL;   /* (3N + D) */
    rg_status st = RG_OK;
    RG__CHECK_ARG(out != NULL, "rg_dataset_synthetic: NULL output");
    memset(out, 0, sizeof *out);
    RG__CHECK_ARG(N >= 5 && N < INT32_MAX, "rg_dataset_synthetic: %lld nodes, expected at least 5", (long long)N);
    RG__CHECK_ARG(o.avg_degree >= 2 && o.avg_degree <= 1000000,
                  "rg_dataset_synthetic: average degree %lld is not in [2, 1e6]", (long long)o.avg_degree);
    RG__CHECK_ARG(o.n_tasks >= 1 && S >= 1 && D >= 1,
                  "rg_dataset_synthetic: %lld tasks, %lld species, edge_dim %lld: each must be >= 1",
                  (long long)o.n_tasks, (long long)S, (long long)D);
    memset(&ds, 0, sizeof ds);
    K = S > N / 100 ? S : N / 100;
    if (K > N) K = N;
    E = N * o.avg_degree / 2;
    ds.n_nodes = N;
    ds.task = RG_TASK_MULTILABEL;
    ds.n_tasks = o.n_tasks;
    ds.n_species = S;
    ds.x_dim = D + (o.species_onehot ? S : 0);
#define RG__SYN_ALLOC(p, type, count) \
    if (st == RG_OK && !((p) = (type *)rg__host_array(NULL, (count), sizeof(type), "a synthetic dataset"))) st = RG_ERR_OOM
    RG__SYN_ALLOC(start, int64_t, K + 1);
    RG__SYN_ALLOC(cluster, int32_t, N);
    RG__SYN_ALLOC(members, int32_t, N);
    RG__SYN_ALLOC(edges, int32_t, 2 * E);
    RG__SYN_ALLOC(feat, rg_real, E * D);
    RG__SYN_ALLOC(scratch, double, 3 * N + D);
    RG__SYN_ALLOC(ds.species, int32_t, N);
    RG__SYN_ALLOC(ds.x, rg_real, N * ds.x_dim);
    RG__SYN_ALLOC(ds.y, rg_real, N * o.n_tasks);
#undef RG__SYN_ALLOC
    if (st == RG_OK) {
        /* clusters, their members (a counting sort) and species */
        memset(start, 0, (size_t)(K + 1) * sizeof(int64_t));
        for (i = 0; i < N; i++) {
            cluster[i] = (int32_t)(rg_rng_u64(o.seed, RG__SYN_STREAM + 0, (uint64_t)i) % (uint64_t)K);
            ds.species[i] = (int32_t)(cluster[i] % S);
            start[cluster[i] + 1]++;
        }
        for (k = 0; k < K; k++) start[k + 1] += start[k];
        for (i = 0; i < N; i++) members[start[cluster[i]]++] = (int32_t)i;
        for (k = K; k > 0; k--) start[k] = start[k - 1];
        start[0] = 0;
        /* edge k: u -> v, within u's cluster with probability 0.8 (v != u when it has others) */
        for (k = 0; k < E; k++) {
            int32_t u = (int32_t)(k % N), c = cluster[u], v;
            uint64_t r = rg_rng_u64(o.seed, RG__SYN_STREAM + 2, (uint64_t)k);
            int64_t size = start[c + 1] - start[c];
            if (rg_rng_uniform(o.seed, RG__SYN_STREAM + 1, (uint64_t)k) < 0.8 && size > 1) {
                int64_t j = (int64_t)(r % (uint64_t)size);
                v = members[start[c] + j];
                if (v == u) v = members[start[c] + (j + 1) % size];
            } else {
                v = (int32_t)((u + 1 + (int64_t)(r % (uint64_t)(N - 1))) % N);
            }
            edges[k] = u;
            edges[E + k] = v;
            for (f = 0; f < D; f++)
                feat[k * D + f] = (rg_real)(0.2 * rg_rng_uniform(o.seed, RG__SYN_STREAM + 3, (uint64_t)(c * D + f)) +
                                            0.8 * rg_rng_uniform(o.seed, RG__SYN_STREAM + 4, (uint64_t)(k * D + f)));
        }
        gopt.add_reverse = 1;
        st = rg_graph_from_coo(&ds.graph, N, E, edges, edges + E, feat, D, &gopt);
    }
    if (st == RG_OK) st = rg__x_from_edges(&ds.graph, ds.x, ds.x_dim, "the synthetic edge features");
    if (st == RG_OK) {
        if (o.species_onehot) rg__x_onehot(ds.x, ds.x_dim, D, ds.species, N, S);
        rg__synthetic_targets(&ds, cluster, &o, scratch);
        /* split: 5 random parts of equal size, parts 0-2 train, 3 valid, 4 test */
        st = rg_graph_partition(N, 5, rg_rng_u64(o.seed, RG__SYN_STREAM + 8, 0), members);
    }
    for (k = 0; k < 3 && st == RG_OK; k++) {
        int64_t lo = k == 0 ? 0 : k + 2, hi = k == 0 ? 3 : k + 3, m = 0;
        for (i = 0; i < N; i++) m += members[i] >= lo && members[i] < hi;
        if (!(ds.split[k] = (int32_t *)rg__host_array(NULL, m, sizeof(int32_t), "a split"))) st = RG_ERR_OOM;
        for (i = 0, m = 0; i < N && st == RG_OK; i++)
            if (members[i] >= lo && members[i] < hi) ds.split[k][m++] = (int32_t)i;
        ds.split_size[k] = m;
    }
    REVGNN_FREE(NULL, start);
    REVGNN_FREE(NULL, cluster);
    REVGNN_FREE(NULL, members);
    REVGNN_FREE(NULL, edges);
    REVGNN_FREE(NULL, feat);
    REVGNN_FREE(NULL, scratch);
    if (st != RG_OK) {
        rg_dataset_free(NULL, &ds);
        return st;
    }
    *out = ds;
    return RG_OK;
}

/* ============================== checkpoints ============================== */

RGDEF void rg_config_format(const rg_config *c, char *buf, size_t size) {
    snprintf(buf, size,
             "arch=%s conv=%s aggr=%s norm=%s layers=%lld hidden=%lld groups=%lld heads=%lld dropout=%.17g "
             "input_dropout=%.17g in_dim=%lld edge_dim=%lld out_dim=%lld msg_norm=%d deq_max_iter=%d deq_tol=%.17g "
             "deq_memory=%d seed=%llu res_shared_dropout=%d",
             rg_arch_name(c->arch), rg_conv_name(c->conv), rg_aggr_name(c->aggr), rg_norm_name(c->norm),
             (long long)c->layers, (long long)c->hidden, (long long)c->groups, (long long)c->heads, c->dropout,
             c->input_dropout,
             (long long)c->in_dim, (long long)c->edge_dim, (long long)c->out_dim, c->msg_norm, c->deq_max_iter,
             c->deq_tol, c->deq_memory, (unsigned long long)c->seed, c->res_shared_dropout);
}

#ifndef REVGNN_NO_STDIO

#define RG__ST_DTYPE (sizeof(rg_real) == sizeof(double) ? "F64" : "F32")

/* One tensor of a checkpoint: a named view of the model's blocks. */
typedef struct rg__ck_entry {
    char name[112];
    rg_real *data;      /* device pointer into a model block */
    int64_t rows, cols;
    int64_t begin, end; /* byte offsets in the data section */
} rg__ck_entry;

/* Every tensor a checkpoint of m holds, in file order; returns the count (entries may be NULL
   to count only). The grouping by block keeps each block's tensors contiguous. */
static int64_t rg__ck_entries(const rg_model *m, rg__ck_entry *e) {
    static const char *const prefix[3] = {"", "adam_m.", "adam_v."};
    int64_t k, n = 0, bytes = 0;
    int block;
    for (block = 0; block < 3; block++)
        for (k = 0; k < m->n_names; k++) {
            const rg_param_name *p = &m->names[k];
            rg_real *base;
            if (p->is_buffer && block > 0) continue; /* buffers have no moments */
            base = p->is_buffer ? m->buffers.data : block == 0 ? m->params.data : block == 1 ? m->adam_m.data : m->adam_v.data;
            if (e) {
                rg__join(e[n].name, sizeof e[n].name, prefix[block], p->name);
                e[n].data = base + p->offset;
                e[n].rows = p->rows;
                e[n].cols = p->cols;
                e[n].begin = bytes;
                e[n].end = bytes + p->rows * p->cols * (int64_t)sizeof(rg_real);
            }
            bytes += p->rows * p->cols * (int64_t)sizeof(rg_real);
            n++;
        }
    return n;
}

/* growable text buffer for the JSON header */
typedef struct rg__text {
    char *s;
    size_t len, cap;
    int oom;
} rg__text;

static void rg__text_add(rg__text *t, const char *fmt, ...) {
    va_list ap;
    int n;
    if (t->oom) return;
    for (;;) {
        size_t room = t->cap - t->len;
        va_start(ap, fmt);
        n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { t->oom = 1; return; }
        if (t->s && (size_t)n < room) { t->len += (size_t)n; return; }
        {
            size_t cap = (t->cap + (size_t)n + 1) * 2;
            char *s = (char *)REVGNN_MALLOC(NULL, cap);
            if (!s) { t->oom = 1; return; }
            if (t->s) { memcpy(s, t->s, t->len); REVGNN_FREE(NULL, t->s); }
            t->s = s;
            t->cap = cap;
        }
    }
}

/* ---- writing: a temporary file beside the target, renamed into place ---- */

/* The temporary file of a save, "<path>.<pid>-<n>.tmp" in the target's folder (a rename stays on
   one file system): created exclusively and write-locked while it is written. The lock dies with
   its process, which is how a later save tells a crashed save's leftover (removed) from a save in
   progress elsewhere (left alone). Without POSIX: "<path>.tmp", overwritten by the next save. */
typedef struct rg__tmpfile {
    char *name;
#ifdef RG__HAVE_POSIX_IO
    int fd;
#else
    FILE *f;
#endif
} rg__tmpfile;

static rg_status rg__ck_write_fail(const char *path) {
    return RG__FAIL(RG_ERR_IO, "cannot write checkpoint %s: %s", path, strerror(errno));
}


/* s[0, n) as a count in [0, RG__COUNT_MAX]: decimal digits only */
static int rg__parse_count(const char *s, size_t n, int64_t *v) {
    int64_t x = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || x > (RG__COUNT_MAX - (s[i] - '0')) / 10) return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return n > 0;
}

#ifdef RG__HAVE_POSIX_IO
static RG__THREAD_LOCAL unsigned rg__tmp_counter;

static int rg__tmp_lock(int fd) {
    struct flock l;
    memset(&l, 0, sizeof l);
    l.l_type = F_WRLCK;
    l.l_whence = SEEK_SET;
    return fcntl(fd, F_SETLK, &l);
}

static const char *rg__digits_end(const char *p) {
    while (*p >= '0' && *p <= '9') p++;
    return p;
}

/* Whether name is base + ".<pid>-<n>.tmp", with the pid in *pid */
static int rg__tmp_of(const char *name, const char *base, int64_t *pid) {
    size_t n = strlen(base);
    const char *p, *q;
    if (strncmp(name, base, n) != 0 || name[n] != '.') return 0;
    p = name + n + 1;
    q = rg__digits_end(p);
    if (!rg__parse_count(p, (size_t)(q - p), pid) || *q != '-') return 0;
    p = rg__digits_end(q + 1);
    return p > q + 1 && strcmp(p, ".tmp") == 0;
}

/* Removes the temporaries that saves to path left when their process died (their lock is
   free). Best effort: only running out of memory is an error. */
static rg_status rg__tmp_remove_stale(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = rg__str_join(path, "", "");
    DIR *d;
    struct dirent *ent;
    rg_status st = RG_OK;
    if (!dir) return RG_ERR_OOM;
    dir[slash ? (size_t)(slash - path) + 1 : 0] = '\0'; /* the folder with its slash, or "" */
    d = opendir(dir[0] ? dir : ".");
    while (d && st == RG_OK && (ent = readdir(d)) != NULL) {
        int64_t pid;
        char *name;
        int fd;
        if (!rg__tmp_of(ent->d_name, slash ? slash + 1 : path, &pid) || pid == (int64_t)getpid()) continue;
        name = rg__str_join(dir, ent->d_name, "");
        if (!name) st = RG_ERR_OOM;
        else if ((fd = open(name, O_WRONLY | O_NONBLOCK)) >= 0) {
            if (rg__tmp_lock(fd) == 0) unlink(name);
            close(fd);
        }
        REVGNN_FREE(NULL, name);
    }
    if (d) closedir(d);
    REVGNN_FREE(NULL, dir);
    return st;
}

static rg_status rg__tmp_open(rg__tmpfile *t, const char *path) {
    struct stat s;
    int tries;
    if (stat(path, &s) == 0 && S_ISDIR(s.st_mode))
        return RG__FAIL(RG_ERR_IO, "cannot write checkpoint %s: it is a directory", path);
    RG__TRY(rg__tmp_remove_stale(path));
    for (tries = 0; tries < 100; tries++) {
        char suffix[48];
        struct stat mine, named;
        snprintf(suffix, sizeof suffix, ".%lld-%u.tmp", (long long)getpid(), rg__tmp_counter++);
        if (!(t->name = rg__str_join(path, suffix, ""))) return RG_ERR_OOM;
        t->fd = open(t->name, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (t->fd < 0 && errno != EEXIST) {
            rg_status st = rg__ck_write_fail(path);
            REVGNN_FREE(NULL, t->name);
            return st;
        }
        if (t->fd >= 0) {
            /* locked (or on a file system without locks) and still under its name: another
               process's sweep may have removed it between the open and the lock */
            if ((rg__tmp_lock(t->fd) == 0 || (errno != EAGAIN && errno != EACCES)) && fstat(t->fd, &mine) == 0 &&
                stat(t->name, &named) == 0 && mine.st_ino == named.st_ino && mine.st_dev == named.st_dev)
                return RG_OK;
            close(t->fd);
            unlink(t->name);
        }
        REVGNN_FREE(NULL, t->name);
    }
    return RG__FAIL(RG_ERR_IO, "cannot write checkpoint %s: no free temporary name beside it", path);
}

static int rg__tmp_write(rg__tmpfile *t, const void *p, size_t n) {
    const char *c = (const char *)p;
    while (n > 0) {
        ssize_t w = write(t->fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        c += w;
        n -= (size_t)w;
    }
    return 1;
}

static void rg__tmp_discard(rg__tmpfile *t) {
    close(t->fd);
    unlink(t->name);
    REVGNN_FREE(NULL, t->name);
}

/* Synced to disk before the rename, so after a power cut the target is the old file or the
   whole new one; renamed before it is closed, since a sweep would take an unlocked temporary
   file for a crashed save's. */
static int rg__tmp_commit(rg__tmpfile *t, const char *path) {
    int ok = fsync(t->fd) == 0 && rename(t->name, path) == 0, err = errno;
    if (close(t->fd) != 0 && ok) return 0;
    errno = err; /* the message names what failed first */
    return ok;
}
#else
static rg_status rg__tmp_open(rg__tmpfile *t, const char *path) {
    if (!(t->name = rg__str_join(path, ".tmp", ""))) return RG_ERR_OOM;
    if ((t->f = fopen(t->name, "wb")) != NULL) return RG_OK;
    REVGNN_FREE(NULL, t->name);
    return rg__ck_write_fail(path);
}

static int rg__tmp_write(rg__tmpfile *t, const void *p, size_t n) { return fwrite(p, 1, n, t->f) == n; }

static void rg__tmp_discard(rg__tmpfile *t) {
    fclose(t->f);
    remove(t->name);
    REVGNN_FREE(NULL, t->name);
}

static int rg__tmp_commit(rg__tmpfile *t, const char *path) { return fclose(t->f) == 0 && rename(t->name, path) == 0; }
#endif

/* st == RG_OK: renames the file onto path and closes it; otherwise (or if that fails) removes it */
static rg_status rg__tmp_finish(rg__tmpfile *t, const char *path, rg_status st) {
    if (st != RG_OK) {
        rg__tmp_discard(t);
        return st;
    }
    if (!rg__tmp_commit(t, path)) {
        st = rg__ck_write_fail(path);
        remove(t->name);
    }
    REVGNN_FREE(NULL, t->name);
    return st;
}

RGDEF rg_status rg_checkpoint_writable(const char *path) {
    rg__tmpfile t;
    RG__CHECK_ARG(path && path[0], "rg_checkpoint_writable: %s path", path ? "empty" : "NULL");
    RG__TRY(rg__tmp_open(&t, path));
    rg__tmp_discard(&t);
    return RG_OK;
}

/* ---- metadata: "key=value" pairs, checked before anything is used ---- */

/* The next "key=value" of a text of pairs separated by spaces, as spans (a word without '='
   is a key with an empty value); returns the position after it, NULL at the end. */
static const char *rg__kv_next(const char *p, const char **key, size_t *nk, const char **val, size_t *nv) {
    const char *eq;
    while (*p == ' ') p++;
    if (!*p) return NULL;
    *key = p;
    while (*p && *p != ' ') p++;
    eq = (const char *)memchr(*key, '=', (size_t)(p - *key));
    *nk = (size_t)((eq ? eq : p) - *key);
    *val = eq ? eq + 1 : p;
    *nv = (size_t)(p - *val);
    return p;
}

/* the value of key[0, nkey) in a text of pairs, NULL if it has none */
static const char *rg__kv_find(const char *text, const char *key, size_t nkey, size_t *nv) {
    const char *k, *v;
    size_t nk;
    while ((text = rg__kv_next(text, &k, &nk, &v, nv)) != NULL)
        if (nk == nkey && memcmp(k, key, nk) == 0) return v;
    return NULL;
}

/* RG_OK when a checkpoint's configuration is the model's, else a message naming each field
   that differs ("layers: checkpoint 16, model 64") */
static rg_status rg__ck_config_diff(const char *path, const char *saved, const char *want) {
    rg__text t;
    int side;
    rg_status st;
    memset(&t, 0, sizeof t);
    for (side = 0; side < 2; side++) { /* the model's fields, then any only the checkpoint has */
        const char *p = side ? saved : want, *k, *v, *o;
        size_t nk, nv, no;
        while ((p = rg__kv_next(p, &k, &nk, &v, &nv)) != NULL) {
            o = rg__kv_find(side ? want : saved, k, nk, &no);
            if (side == 0 && (!o || no != nv || memcmp(o, v, nv) != 0))
                rg__text_add(&t, "%s%.*s: checkpoint %.*s, model %.*s", t.len ? "; " : "", (int)nk, k, o ? (int)no : 4,
                             o ? o : "none", (int)nv, v);
            else if (side == 1 && !o)
                rg__text_add(&t, "%s%.*s: checkpoint %.*s, model none", t.len ? "; " : "", (int)nk, k, (int)nv, v);
        }
    }
    st = t.oom ? RG__FAIL(RG_ERR_OOM, "rg_checkpoint_load: out of host memory")
         : t.len ? RG__FAIL(RG_ERR_FORMAT, "checkpoint %s was saved by another configuration (%s)", path, t.s)
                 : RG_OK;
    REVGNN_FREE(NULL, t.s);
    return st;
}

static rg_status rg__ck_adam_bad(const char *path, int key, const char *v, size_t nv) {
    return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: adam %s=%.*s is not %s", path, rg__adam_keys[key], (int)nv, v,
                    rg__adam_ranges[key]);
}

/* A checkpoint's optimiser state into *out: every field present, a number and in range. */
static rg_status rg__ck_adam_parse(const char *path, const char *text, rg_adam *out) {
    const char *p = text, *k, *v;
    size_t nk, nv;
    int seen[7] = {0, 0, 0, 0, 0, 0, 0}, i;
    rg_adam a = *out;
    while ((p = rg__kv_next(p, &k, &nk, &v, &nv)) != NULL) {
        char num[64], *end;
        double d = 0;
        int64_t c = 0;
        int ok;
        for (i = 0; i < 7 && !(strlen(rg__adam_keys[i]) == nk && memcmp(rg__adam_keys[i], k, nk) == 0); i++) {}
        if (i == 7) return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: unknown key '%.*s' in the adam state", path, (int)nk, k);
        if (i < 5) {
            ok = nv > 0 && nv < sizeof num;
            if (ok) {
                memcpy(num, v, nv);
                num[nv] = '\0';
                d = strtod(num, &end);
                ok = end == num + nv;
            }
        } else {
            ok = rg__parse_count(v, nv, &c);
        }
        if (!ok) return rg__ck_adam_bad(path, i, v, nv);
        switch (i) {
        case 0: a.lr = d; break;
        case 1: a.beta1 = d; break;
        case 2: a.beta2 = d; break;
        case 3: a.eps = d; break;
        case 4: a.weight_decay = d; break;
        case 5: a.decoupled = c <= 1 ? (int)c : -1; break;
        default: a.step = c; break;
        }
        seen[i] = 1;
    }
    for (i = 0; i < 7; i++)
        if (!seen[i]) return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: the adam state has no %s ('%s')", path, rg__adam_keys[i], text);
    if ((i = rg__adam_invalid(&a)) >= 0) {
        v = rg__kv_find(text, rg__adam_keys[i], strlen(rg__adam_keys[i]), &nv); /* seen, so found */
        return rg__ck_adam_bad(path, i, v ? v : "", v ? nv : 0);
    }
    *out = a;
    return RG_OK;
}

RGDEF rg_status rg_checkpoint_save(const rg_model *m, const rg_adam *opt, int64_t epoch, const char *path) {
    rg_ctx *ctx;
    rg__ck_entry *e;
    int64_t n, k, max_elems = 1;
    rg__text h;
    char cfgtext[512];
    unsigned char len8[8];
    uint64_t hlen;
    rg_real *host;
    rg__tmpfile f;
    rg_status st;
    int bad;
    RG__CHECK_ARG(m && path, "rg_checkpoint_save: NULL %s", m ? "path" : "model");
    RG__CHECK_ARG(path[0], "rg_checkpoint_save: empty path");
    /* nothing is written that rg_checkpoint_load would refuse */
    RG__CHECK_ARG(epoch >= 0 && epoch <= RG__COUNT_MAX, "rg_checkpoint_save: epoch %lld is not in [0, %lld]",
                  (long long)epoch, (long long)RG__COUNT_MAX);
    bad = opt ? rg__adam_invalid(opt) : -1;
    RG__CHECK_ARG(bad < 0, "rg_checkpoint_save: the optimiser's %s is not %s", bad < 0 ? "" : rg__adam_keys[bad],
                  bad < 0 ? "" : rg__adam_ranges[bad]);
    ctx = m->ctx;
    n = rg__ck_entries(m, NULL);
    e = (rg__ck_entry *)REVGNN_MALLOC(ctx, (size_t)n * sizeof(rg__ck_entry) + 1);
    if (!e) return RG__FAIL(RG_ERR_OOM, "rg_checkpoint_save: out of host memory");
    rg__ck_entries(m, e);
    memset(&h, 0, sizeof h);
    rg_config_format(&m->cfg, cfgtext, sizeof cfgtext);
    rg__text_add(&h, "{\"__metadata__\":{\"format\":\"revgnn\",\"version\":\"%s\",\"config\":\"%s\",\"epoch\":\"%lld\"",
                 RG_VERSION, cfgtext, (long long)epoch);
    if (opt)
        rg__text_add(&h, ",\"adam\":\"lr=%.17g beta1=%.17g beta2=%.17g eps=%.17g weight_decay=%.17g decoupled=%d step=%lld\"",
                     opt->lr, opt->beta1, opt->beta2, opt->eps, opt->weight_decay, opt->decoupled, (long long)opt->step);
    rg__text_add(&h, "}");
    for (k = 0; k < n; k++) {
        rg__text_add(&h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%lld,%lld],\"data_offsets\":[%lld,%lld]}", e[k].name,
                     RG__ST_DTYPE, (long long)e[k].rows, (long long)e[k].cols, (long long)e[k].begin, (long long)e[k].end);
        if (e[k].rows * e[k].cols > max_elems) max_elems = e[k].rows * e[k].cols;
    }
    rg__text_add(&h, "}");
    /* the data section starts 8-byte aligned, as the format recommends */
    while (!h.oom && (h.len + 8) % 8) rg__text_add(&h, " ");
    host = (rg_real *)REVGNN_MALLOC(ctx, (size_t)max_elems * sizeof(rg_real));
    if (h.oom || !host) {
        REVGNN_FREE(ctx, h.s);
        REVGNN_FREE(ctx, host);
        REVGNN_FREE(ctx, e);
        return RG__FAIL(RG_ERR_OOM, "rg_checkpoint_save: out of host memory");
    }
    hlen = (uint64_t)h.len;
    for (k = 0; k < 8; k++) len8[k] = (unsigned char)(hlen >> (8 * k));
    st = rg__tmp_open(&f, path);
    if (st == RG_OK) {
        if (!rg__tmp_write(&f, len8, 8) || !rg__tmp_write(&f, h.s, h.len)) st = rg__ck_write_fail(path);
        for (k = 0; st == RG_OK && k < n; k++) {
            rg_tensor t = rg_tensor_view(e[k].data, e[k].rows, e[k].cols);
            st = rg_tensor_download(ctx, t, host);
            if (st == RG_OK && !rg__tmp_write(&f, host, (size_t)(e[k].rows * e[k].cols) * sizeof(rg_real)))
                st = rg__ck_write_fail(path);
        }
        st = rg__tmp_finish(&f, path, st);
    }
    REVGNN_FREE(ctx, h.s);
    REVGNN_FREE(ctx, host);
    REVGNN_FREE(ctx, e);
    return st;
}

/* ---- reading: a small parser for the one JSON shape safetensors headers have ---- */

typedef struct rg__json {
    const char *p, *end;
    const char *start; /* the header's first byte, byte 8 of the file */
} rg__json;

/* where the parser stands, as a byte offset from the start of the file */
static long long rg__json_at(const rg__json *j) { return 8 + (long long)(j->p - j->start); }

static void rg__json_ws(rg__json *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')) j->p++;
}

static int rg__json_char(rg__json *j, char c) {
    rg__json_ws(j);
    if (j->p < j->end && *j->p == c) { j->p++; return 1; }
    return 0;
}

/* a string into buf (escapes of \" and \\ only, as names and metadata need) */
static int rg__json_string(rg__json *j, char *buf, size_t size) {
    size_t n = 0;
    if (!rg__json_char(j, '"')) return 0;
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if (c == '\\') {
            if (j->p >= j->end) return 0;
            c = *j->p++;
        }
        if (n + 1 >= size) return 0;
        buf[n++] = c;
    }
    if (j->p >= j->end) return 0;
    j->p++;
    buf[n] = '\0';
    return 1;
}

static int rg__json_int(rg__json *j, int64_t *v) {
    int64_t x = 0;
    int digits = 0;
    rg__json_ws(j);
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9' && digits < 18) { x = x * 10 + (*j->p++ - '0'); digits++; }
    *v = x;
    return digits > 0;
}

/* [a, b] */
static int rg__json_pair(rg__json *j, int64_t *a, int64_t *b) {
    return rg__json_char(j, '[') && rg__json_int(j, a) && rg__json_char(j, ',') && rg__json_int(j, b) && rg__json_char(j, ']');
}

typedef struct rg__ck_header {
    rg__ck_entry *e;   /* the model's entries, matched by name */
    int64_t n;
    int *seen;
    char config[512], adam[512], epoch[512];
    int has_epoch;
    char want[512];    /* the model's configuration */
} rg__ck_header;

static rg_status rg__ck_malformed(const rg__json *j, const char *path, const char *what, const char *name) {
    return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: malformed %s%s%s%s at byte %lld", path, what, name ? " '" : "",
                    name ? name : "", name ? "'" : "", rg__json_at(j));
}

static rg_status rg__ck_parse(rg__json *j, rg__ck_header *h, const char *path) {
    char key[128], val[512];
    if (!rg__json_char(j, '{')) return rg__ck_malformed(j, path, "header (not a JSON object)", NULL);
    do {
        if (!rg__json_string(j, key, sizeof key) || !rg__json_char(j, ':')) return rg__ck_malformed(j, path, "header", NULL);
        if (strcmp(key, "__metadata__") == 0) {
            if (!rg__json_char(j, '{')) return rg__ck_malformed(j, path, "__metadata__", NULL);
            if (!rg__json_char(j, '}'))
                do {
                    char mk[64];
                    if (!rg__json_string(j, mk, sizeof mk) || !rg__json_char(j, ':') || !rg__json_string(j, val, sizeof val))
                        return rg__ck_malformed(j, path, "__metadata__", NULL);
                    if (!strcmp(mk, "config")) memcpy(h->config, val, sizeof val);
                    if (!strcmp(mk, "adam")) memcpy(h->adam, val, sizeof val);
                    if (!strcmp(mk, "epoch")) memcpy(h->epoch, val, sizeof val), h->has_epoch = 1;
                } while (rg__json_char(j, ','));
            if (!rg__json_char(j, '}')) return rg__ck_malformed(j, path, "__metadata__", NULL);
            if (!h->config[0]) return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: no revgnn configuration in __metadata__", path);
            /* before any tensor: a model of another configuration is the clearest message */
            RG__TRY(rg__ck_config_diff(path, h->config, h->want));
        } else {
            char field[32], dtype[16] = "";
            int64_t r = -1, c = -1, b = -1, e = -1, k;
            if (!rg__json_char(j, '{')) return rg__ck_malformed(j, path, "entry", key);
            do {
                if (!rg__json_string(j, field, sizeof field) || !rg__json_char(j, ':'))
                    return rg__ck_malformed(j, path, "entry", key);
                if (!strcmp(field, "dtype")) { if (!rg__json_string(j, dtype, sizeof dtype)) return rg__ck_malformed(j, path, "dtype of", key); }
                else if (!strcmp(field, "shape")) { if (!rg__json_pair(j, &r, &c)) return rg__ck_malformed(j, path, "2-D shape of", key); }
                else if (!strcmp(field, "data_offsets")) { if (!rg__json_pair(j, &b, &e)) return rg__ck_malformed(j, path, "data_offsets of", key); }
                else return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: unknown field '%s' in '%s' at byte %lld", path, field, key, rg__json_at(j));
            } while (rg__json_char(j, ','));
            if (!rg__json_char(j, '}')) return rg__ck_malformed(j, path, "entry", key);
            for (k = 0; k < h->n && strcmp(h->e[k].name, key); k++) {}
            if (k == h->n) return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: tensor '%s' is not in this model", path, key);
            if (strcmp(dtype, RG__ST_DTYPE))
                return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: '%s' is %s, this build reads %s", path, key, dtype, RG__ST_DTYPE);
            if (r != h->e[k].rows || c != h->e[k].cols)
                return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: '%s' is %lldx%lld, the model's is %lldx%lld", path, key,
                                (long long)r, (long long)c, (long long)h->e[k].rows, (long long)h->e[k].cols);
            if (e - b != r * c * (int64_t)sizeof(rg_real) || b < 0)
                return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: offsets of '%s' do not match its shape", path, key);
            h->e[k].begin = b;
            h->e[k].end = e;
            h->seen[k] = 1;
        }
    } while (rg__json_char(j, ','));
    if (!rg__json_char(j, '}')) return rg__ck_malformed(j, path, "header end", NULL);
    return RG_OK;
}

/* tensors' byte ranges, sorted to find two that overlap */
typedef struct rg__ck_span {
    int64_t begin, end, k;
} rg__ck_span;

static int rg__ck_span_cmp(const void *a, const void *b) {
    const rg__ck_span *x = (const rg__ck_span *)a, *y = (const rg__ck_span *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* Every tensor present, inside the data section, and no two sharing a byte. */
static rg_status rg__ck_check_layout(const rg__ck_header *h, int64_t data_bytes, const char *path) {
    rg__ck_span *s;
    int64_t k;
    rg_status st = RG_OK;
    for (k = 0; k < h->n; k++) {
        if (!h->seen[k]) return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: tensor '%s' is missing", path, h->e[k].name);
        if (h->e[k].end > data_bytes)
            return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: truncated: '%s' ends at byte %lld of a %lld-byte data section",
                            path, h->e[k].name, (long long)h->e[k].end, (long long)data_bytes);
    }
    s = (rg__ck_span *)REVGNN_MALLOC(NULL, (size_t)h->n * sizeof *s + 1);
    if (!s) return RG__FAIL(RG_ERR_OOM, "rg_checkpoint_load: out of host memory");
    for (k = 0; k < h->n; k++) s[k].begin = h->e[k].begin, s[k].end = h->e[k].end, s[k].k = k;
    qsort(s, (size_t)h->n, sizeof *s, rg__ck_span_cmp);
    for (k = 1; k < h->n && st == RG_OK; k++)
        if (s[k].begin < s[k - 1].end)
            st = RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: '%s' (data bytes %lld-%lld) overlaps '%s' (%lld-%lld)", path,
                          h->e[s[k].k].name, (long long)s[k].begin, (long long)s[k].end, h->e[s[k - 1].k].name,
                          (long long)s[k - 1].begin, (long long)s[k - 1].end);
    REVGNN_FREE(NULL, s);
    return st;
}

RGDEF rg_status rg_checkpoint_load(rg_model *m, rg_adam *opt, int64_t *epoch, const char *path) {
    rg_ctx *ctx;
    FILE *f;
    unsigned char head[9];
    uint64_t hlen = 0;
    long size;
    char *text = NULL;
    rg__ck_header h;
    rg__json j;
    rg_real *host = NULL;
    int64_t k, saved_epoch = 0, max_elems = 1;
    rg_adam adam;
    rg_status st = RG_OK;
    int pass;
    RG__CHECK_ARG(m && path, "rg_checkpoint_load: NULL %s", m ? "path" : "model");
    ctx = m->ctx;
    memset(&h, 0, sizeof h);
    f = fopen(path, "rb");
    if (!f) return RG__FAIL(RG_ERR_IO, "cannot open checkpoint %s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return RG__FAIL(RG_ERR_IO, "cannot read checkpoint %s", path);
    }
    if (size < 8 || fread(head, 1, 9, f) < 8) {
        fclose(f);
        return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: truncated (%ld bytes, no header length)", path, size);
    }
    /* the format's header is a JSON object, so its first byte is '{' */
    if (size < 9 || head[8] != '{') {
        fclose(f);
        return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: not a safetensors file (no JSON header after the 8-byte length)", path);
    }
    for (k = 0; k < 8; k++) hlen |= (uint64_t)head[k] << (8 * k);
    if (hlen < 2 || hlen > (uint64_t)size - 8 || hlen > 100000000 || fseek(f, 8, SEEK_SET) != 0) {
        fclose(f);
        return RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: header length %llu does not fit a %ld-byte file", path,
                        (unsigned long long)hlen, size);
    }
    h.n = rg__ck_entries(m, NULL);
    h.e = (rg__ck_entry *)REVGNN_MALLOC(ctx, (size_t)h.n * sizeof(rg__ck_entry) + 1);
    h.seen = (int *)REVGNN_MALLOC(ctx, (size_t)h.n * sizeof(int) + 1);
    text = (char *)REVGNN_MALLOC(ctx, (size_t)hlen + 1);
    if (!h.e || !h.seen || !text) st = RG__FAIL(RG_ERR_OOM, "rg_checkpoint_load: out of host memory");
    else if (fread(text, 1, (size_t)hlen, f) != (size_t)hlen) st = RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: truncated header", path);
    if (st == RG_OK) {
        rg__ck_entries(m, h.e);
        memset(h.seen, 0, (size_t)h.n * sizeof(int));
        rg_config_format(&m->cfg, h.want, sizeof h.want);
        j.p = j.start = text;
        j.end = text + hlen;
        st = rg__ck_parse(&j, &h, path);
        if (st == RG_OK && !h.config[0])
            st = RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: no revgnn configuration in __metadata__", path);
    }
    if (st == RG_OK) st = rg__ck_check_layout(&h, (int64_t)size - 8 - (int64_t)hlen, path);
    if (st == RG_OK && !h.has_epoch) st = RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: no epoch in __metadata__", path);
    if (st == RG_OK && !rg__parse_count(h.epoch, strlen(h.epoch), &saved_epoch))
        st = RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: epoch=%s is not an integer in [0, %lld]", path, h.epoch,
                      (long long)RG__COUNT_MAX);
    if (st == RG_OK && opt) {
        adam = *opt;
        st = h.adam[0] ? rg__ck_adam_parse(path, h.adam, &adam)
                       : RG__FAIL(RG_ERR_FORMAT, "checkpoint %s holds no optimiser state", path);
    }
    if (st == RG_OK) {
        for (k = 0; k < h.n; k++)
            if (h.e[k].rows * h.e[k].cols > max_elems) max_elems = h.e[k].rows * h.e[k].cols;
        host = (rg_real *)REVGNN_MALLOC(ctx, (size_t)max_elems * sizeof(rg_real));
        if (!host) st = RG__FAIL(RG_ERR_OOM, "rg_checkpoint_load: out of host memory");
    }
    /* pass 0 checks every value, pass 1 reads them into the model: nothing changes unless all
       of the file is good */
    for (pass = 0; pass < 2; pass++)
        for (k = 0; st == RG_OK && k < h.n; k++) {
            size_t count = (size_t)(h.e[k].rows * h.e[k].cols), i;
            if (fseek(f, (long)(8 + hlen + (uint64_t)h.e[k].begin), SEEK_SET) != 0 || fread(host, sizeof(rg_real), count, f) != count)
                st = RG__FAIL(RG_ERR_IO, "checkpoint %s: cannot read '%s'", path, h.e[k].name);
            else if (pass == 1)
                st = rg_tensor_upload(ctx, rg_tensor_view(h.e[k].data, h.e[k].rows, h.e[k].cols), host);
            for (i = 0; st == RG_OK && pass == 0 && i < count; i++)
                if (!isfinite(host[i]))
                    st = RG__FAIL(RG_ERR_FORMAT, "checkpoint %s: '%s' holds a value that is not finite (%g at element %lld)",
                                  path, h.e[k].name, (double)host[i], (long long)i);
        }
    if (st == RG_OK && opt) *opt = adam;
    if (st == RG_OK && epoch) *epoch = saved_epoch;
    fclose(f);
    REVGNN_FREE(ctx, host);
    REVGNN_FREE(ctx, text);
    REVGNN_FREE(ctx, h.e);
    REVGNN_FREE(ctx, h.seen);
    return st;
}

#endif /* REVGNN_NO_STDIO */

/* ============================== training helpers ============================== */

RGDEF void rg_batch_free(rg_ctx *ctx, rg_batch *b) {
    if (!b) return;
    if (b->graph.ctx) rg_graph_free(ctx, &b->graph);
    rg_tensor_free(ctx, &b->x);
    rg_tensor_free(ctx, &b->y);
    rg_tensor_free(ctx, &b->mask);
    rg_tensor_free(ctx, &b->out);
    rg_tensor_free(ctx, &b->dout);
    rg_free(ctx, b->labels, (size_t)b->n * sizeof(int32_t));
    rg_free(ctx, b->train_rows, (size_t)b->n_train * sizeof(int32_t));
    REVGNN_FREE(ctx, b->nodes);
    memset(b, 0, sizeof *b);
}

/* rows of a host matrix gathered into a host buffer and uploaded */
static rg_status rg__upload_rows(rg_ctx *ctx, rg_tensor t, const rg_real *src, int64_t cols, const int32_t *rows,
                                 int64_t n, rg_real *host) {
    int64_t i;
    /* cols 0: src may be NULL (a dataset without features), where even + 0 is undefined */
    for (i = 0; cols > 0 && i < n; i++)
        memcpy(host + i * cols, src + (int64_t)rows[i] * cols, (size_t)cols * sizeof(rg_real));
    return rg_tensor_upload(ctx, t, host);
}

RGDEF rg_status rg_batch_make(rg_ctx *ctx, const rg_dataset *ds, const int32_t *nodes, int64_t n, rg_batch *b) {
    rg_graph sub;
    int8_t *is_train = NULL;
    int32_t *train_rows = NULL;
    rg_real *host = NULL;
    int64_t i, T = ds->n_tasks, width;
    rg_status st;
    RG__CHECK_ARG(ctx && ds && b, "rg_batch_make: NULL argument");
    memset(b, 0, sizeof *b);
    if (!nodes) n = ds->n_nodes;
    RG__CHECK_ARG(n >= 1 && n <= ds->n_nodes, "rg_batch_make: %lld nodes of %lld", (long long)n, (long long)ds->n_nodes);
    b->n = n;
    b->nodes = (int32_t *)REVGNN_MALLOC(ctx, (size_t)n * sizeof(int32_t));
    is_train = (int8_t *)REVGNN_MALLOC(ctx, (size_t)ds->n_nodes);
    train_rows = (int32_t *)REVGNN_MALLOC(ctx, (size_t)n * sizeof(int32_t));
    width = ds->x_dim > T ? ds->x_dim : T;
    host = (rg_real *)REVGNN_MALLOC(ctx, (size_t)(n * width) * sizeof(rg_real));
    if (!b->nodes || !is_train || !train_rows || !host) {
        st = RG__FAIL(RG_ERR_OOM, "rg_batch_make: out of host memory for %lld nodes", (long long)n);
        goto done;
    }
    for (i = 0; i < n; i++) b->nodes[i] = nodes ? nodes[i] : (int32_t)i;
    memset(is_train, 0, (size_t)ds->n_nodes);
    for (i = 0; i < ds->split_size[0]; i++) is_train[ds->split[0][i]] = 1;
    for (i = 0; i < n; i++)
        if (is_train[b->nodes[i]]) train_rows[b->n_train++] = (int32_t)i;
    st = rg_graph_subgraph(&ds->graph, b->nodes, n, &sub);
    if (st == RG_OK) {
        st = rg_graph_to_device(ctx, &sub, &b->graph);
        rg_graph_free(NULL, &sub);
    }
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &b->x, n, ds->x_dim);
    if (st == RG_OK) st = rg__upload_rows(ctx, b->x, ds->x, ds->x_dim, b->nodes, n, host);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &b->out, n, T);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &b->dout, n, T);
    if (st == RG_OK && ds->task == RG_TASK_MULTILABEL) {
        st = rg_tensor_alloc(ctx, &b->y, n, T);
        if (st == RG_OK) st = rg__upload_rows(ctx, b->y, ds->y, T, b->nodes, n, host);
        if (st == RG_OK) st = rg_tensor_alloc(ctx, &b->mask, n, 1);
        for (i = 0; st == RG_OK && i < n; i++) host[i] = (rg_real)is_train[b->nodes[i]];
        if (st == RG_OK) st = rg_tensor_upload(ctx, b->mask, host);
    } else if (st == RG_OK) {
        int32_t *labels = (int32_t *)host; /* host holds at least n int32s */
        b->labels = (int32_t *)rg_alloc(ctx, (size_t)n * sizeof(int32_t));
        b->train_rows = (int32_t *)rg_alloc(ctx, (size_t)b->n_train * sizeof(int32_t));
        if (!b->labels || !b->train_rows) st = RG_ERR_OOM;
        for (i = 0; st == RG_OK && i < n; i++) labels[i] = ds->labels[b->nodes[i]];
        if (st == RG_OK) {
            ctx->ops->copy(ctx, b->labels, labels, (size_t)n * sizeof(int32_t), RG_HOST_TO_DEVICE);
            ctx->ops->copy(ctx, b->train_rows, train_rows, (size_t)b->n_train * sizeof(int32_t), RG_HOST_TO_DEVICE);
            st = rg_ctx_take_status(ctx);
        }
    }
done:
    REVGNN_FREE(ctx, is_train);
    REVGNN_FREE(ctx, train_rows);
    REVGNN_FREE(ctx, host);
    if (st != RG_OK) rg_batch_free(ctx, b);
    return st;
}

/* the node lists of a random partition: order[] grouped by part, part k = order[start[k]..start[k+1]) */
static rg_status rg__partition_lists(int64_t n_nodes, int64_t n_parts, uint64_t seed, int32_t *order, int64_t *start) {
    int64_t i, k;
    int32_t *part = (int32_t *)REVGNN_MALLOC(NULL, (size_t)n_nodes * sizeof(int32_t));
    rg_status st;
    if (!part) return RG__FAIL(RG_ERR_OOM, "out of host memory for a partition of %lld nodes", (long long)n_nodes);
    st = rg_graph_partition(n_nodes, n_parts, seed, part);
    if (st == RG_OK) {
        for (k = 0; k <= n_parts; k++) start[k] = 0;
        for (i = 0; i < n_nodes; i++) start[part[i] + 1]++;
        for (k = 0; k < n_parts; k++) start[k + 1] += start[k];
        for (i = 0; i < n_nodes; i++) order[start[part[i]]++] = (int32_t)i; /* ascending within a part */
        for (k = n_parts; k > 0; k--) start[k] = start[k - 1];
        start[0] = 0;
    }
    REVGNN_FREE(NULL, part);
    return st;
}

/* the partition of an epoch or a view: the same on every backend and on a resumed run */
static uint64_t rg__partition_seed(uint64_t seed, uint64_t purpose, int64_t index) {
    return rg_rng_u64(seed, purpose, (uint64_t)index);
}

static rg_status rg__train_step(rg_model *m, rg_adam *opt, const rg_dataset *ds, rg_batch *b, uint64_t step_seed,
                                double *loss) {
    rg_ctx *ctx = m->ctx;
    RG__TRY(rg_model_forward(m, b->out, &b->graph, b->x, RG_MODE_TRAIN, step_seed));
    if (ds->task == RG_TASK_MULTILABEL) RG__TRY(rg_bce_logits(ctx, loss, b->dout, b->out, b->y, b->mask));
    else RG__TRY(rg_softmax_xent(ctx, loss, b->dout, b->out, b->labels, b->train_rows, b->n_train));
    RG__TRY(rg_model_zero_grad(m));
    RG__TRY(rg_model_backward(m, rg_tensor_view(NULL, 0, 0), b->dout));
    return rg_model_adam_step(m, opt);
}

RGDEF rg_status rg_train_epoch(rg_model *m, rg_adam *opt, const rg_dataset *ds, int64_t n_parts, uint64_t seed,
                               int64_t epoch, double *mean_loss, rg_progress_fn progress, void *user) {
    int32_t *order;
    int64_t *start, k, steps = 0;
    double total = 0;
    rg_status st;
    RG__CHECK_ARG(m && opt && ds && mean_loss, "rg_train_epoch: NULL argument");
    RG__CHECK_ARG(n_parts >= 1 && n_parts <= ds->n_nodes, "rg_train_epoch: %lld parts for %lld nodes",
                  (long long)n_parts, (long long)ds->n_nodes);
    order = (int32_t *)REVGNN_MALLOC(m->ctx, (size_t)ds->n_nodes * sizeof(int32_t));
    start = (int64_t *)REVGNN_MALLOC(m->ctx, (size_t)(n_parts + 1) * sizeof(int64_t));
    if (!order || !start) {
        REVGNN_FREE(m->ctx, order);
        REVGNN_FREE(m->ctx, start);
        return RG__FAIL(RG_ERR_OOM, "rg_train_epoch: out of host memory");
    }
    st = rg__partition_lists(ds->n_nodes, n_parts, rg__partition_seed(seed, 1, epoch), order, start);
    for (k = 0; st == RG_OK && k < n_parts; k++) {
        rg_batch b;
        double loss = 0;
        st = rg_batch_make(m->ctx, ds, order + start[k], start[k + 1] - start[k], &b);
        if (st == RG_OK && b.n_train > 0) {
            st = rg__train_step(m, opt, ds, &b, rg_rng_u64(seed, 2, (uint64_t)(epoch * n_parts + k)), &loss);
            total += loss;
            steps++;
        }
        rg_batch_free(m->ctx, &b);
        if (progress) progress(user, k + 1, n_parts);
    }
    REVGNN_FREE(m->ctx, order);
    REVGNN_FREE(m->ctx, start);
    if (st == RG_OK) *mean_loss = steps ? total / (double)steps : 0;
    return st;
}

RGDEF rg_status rg_predict(rg_model *m, const rg_dataset *ds, int64_t n_parts, int64_t n_views, uint64_t seed,
                           rg_real *scores, rg_progress_fn progress, void *user) {
    int32_t *order;
    int64_t *start, k, v, i, T;
    rg_real *part_out = NULL, *sum; /* sum: scores are written only once every part succeeded */
    rg_status st = RG_OK;
    RG__CHECK_ARG(m && ds && scores, "rg_predict: NULL argument");
    RG__CHECK_ARG(n_parts >= 1 && n_parts <= ds->n_nodes && n_views >= 1, "rg_predict: %lld parts, %lld views",
                  (long long)n_parts, (long long)n_views);
    T = ds->n_tasks;
    order = (int32_t *)REVGNN_MALLOC(m->ctx, (size_t)ds->n_nodes * sizeof(int32_t));
    start = (int64_t *)REVGNN_MALLOC(m->ctx, (size_t)(n_parts + 1) * sizeof(int64_t));
    part_out = (rg_real *)REVGNN_MALLOC(m->ctx, (size_t)(ds->n_nodes * T) * sizeof(rg_real));
    sum = (rg_real *)REVGNN_MALLOC(m->ctx, (size_t)(ds->n_nodes * T) * sizeof(rg_real));
    if (!order || !start || !part_out || !sum) st = RG__FAIL(RG_ERR_OOM, "rg_predict: out of host memory");
    if (st == RG_OK) memset(sum, 0, (size_t)(ds->n_nodes * T) * sizeof(rg_real));
    for (v = 0; st == RG_OK && v < n_views; v++) {
        st = rg__partition_lists(ds->n_nodes, n_parts, rg__partition_seed(seed, 3, v), order, start);
        for (k = 0; st == RG_OK && k < n_parts; k++) {
            rg_batch b;
            int64_t n = start[k + 1] - start[k];
            st = rg_batch_make(m->ctx, ds, order + start[k], n, &b);
            if (st == RG_OK) st = rg_model_forward(m, b.out, &b.graph, b.x, RG_MODE_EVAL, 0);
            if (st == RG_OK) st = rg_tensor_download(m->ctx, b.out, part_out);
            for (i = 0; st == RG_OK && i < n * T; i++)
                sum[(int64_t)b.nodes[i / T] * T + i % T] += part_out[i] / (rg_real)n_views;
            rg_batch_free(m->ctx, &b);
            if (progress) progress(user, v * n_parts + k + 1, n_views * n_parts);
        }
    }
    REVGNN_FREE(m->ctx, order);
    REVGNN_FREE(m->ctx, start);
    if (st == RG_OK) memcpy(scores, sum, (size_t)(ds->n_nodes * T) * sizeof(rg_real));
    REVGNN_FREE(m->ctx, part_out);
    REVGNN_FREE(m->ctx, sum);
    return st;
}

RGDEF rg_status rg_evaluate(const rg_dataset *ds, const rg_real *scores, double metric[3]) {
    int k;
    RG__CHECK_ARG(ds && scores && metric, "rg_evaluate: NULL argument");
    for (k = 0; k < 3; k++) {
        if (ds->task == RG_TASK_MULTILABEL)
            RG__TRY(rg_rocauc(scores, ds->y, ds->n_nodes, ds->n_tasks, ds->split[k], ds->split_size[k], &metric[k], NULL));
        else
            RG__TRY(rg_accuracy(scores, ds->labels, ds->n_nodes, ds->n_tasks, ds->split[k], ds->split_size[k], &metric[k]));
    }
    return RG_OK;
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
