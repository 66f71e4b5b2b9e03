/* revgnn_cuda.cuh - the CUDA backend of revgnn.h.

   Every op of struct rg_backend on one NVIDIA GPU: cuBLAS for the dense products, our own
   kernels for the rest. Include it after revgnn.h in the one file that defines
   REVGNN_IMPLEMENTATION, and compile that file with nvcc (a .cu file, or a .c file with
   nvcc -x cu); link cuBLAS:

      #define REVGNN_IMPLEMENTATION
      #include "revgnn.h"
      #include "revgnn_cuda.cuh"
      ...
      rg_ctx *ctx;
      if (rg_cuda_create(&ctx, 0, 42) != RG_OK) { fprintf(stderr, "%s\n", rg_last_error()); return 1; }
      ... the same model code as on the CPU ...
      rg_ctx_destroy(ctx);

      nvcc -x cu -O3 -gencode arch=compute_90,code=sm_90 -I. prog.c -o prog -lcublas

   Other files may include it without REVGNN_IMPLEMENTATION for the declarations only (they
   need no nvcc). REVGNN_REAL must be float.

   Conventions, the same as the CPU table's:
   - Each op is one or a few kernels on the context's stream, asynchronous like a kernel
     launch; ops that return a value (sum_squares, dot, the losses) and copies to or from
     the host synchronise. Every CUDA and cuBLAS call is checked: a failure becomes
     RG_ERR_DEVICE in ctx->status with the call and CUDA's message, and a launch is checked
     with cudaGetLastError().
   - Determinism: each output element is computed by one thread in a fixed order, graph
     backward passes gather over the transpose, reductions use a fixed number of blocks
     (or fixed row chunks for column sums) whose partials are added in a fixed order, and no
     floating-point atomics are used; so two runs give the same bits on the same GPU model.
     cuBLAS is bitwise reproducible on one GPU model with its default (atomics-free) mode
     and a single stream. Dropout masks come from the same counter hash as on the CPU, so
     they match bit for bit.
   - Dense products are plain FP32 by default; rg_cuda_set_tf32 lets cuBLAS use TF32 tensor
     cores (faster, about 10 bits of mantissa in the products).
   - Memory: a caching pool over cudaMalloc (sizes rounded up to 512 bytes, best fit within
     1/8, everything cached is released and retried once when cudaMalloc runs out). The
     context counts the bytes asked for, so rg_mem_peak is the analogue of
     torch.cuda.max_memory_allocated; what the pool keeps cached is not counted.
   - The context's device is made current when it is created; a program that drives several
     devices from one host thread must make the right one current before using a context.

   LICENSE: MIT, as revgnn.h.
*/
#ifndef REVGNN_CUDA_CUH
#define REVGNN_CUDA_CUH

#ifndef REVGNN_H
#error "revgnn_cuda.cuh: include revgnn.h first"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A context on CUDA device `device` (0-based). RG_ERR_ARG for a device that does not
   exist, RG_ERR_DEVICE when CUDA, the driver or cuBLAS fail (the message says which call). */
RGDEF rg_status rg_cuda_create(rg_ctx **out, int device, uint64_t seed);
/* CUDA devices visible to this process; 0 when there is none or no driver. */
RGDEF int rg_cuda_device_count(void);
/* Lets cuBLAS use TF32 tensor cores for the dense products (enable != 0), or not (the
   default). RG_ERR_ARG for a context that is not a CUDA one. */
RGDEF rg_status rg_cuda_set_tf32(rg_ctx *ctx, int enable);

#ifdef __cplusplus
}
#endif
#endif /* REVGNN_CUDA_CUH */

/* ################################ implementation ################################ */

#if defined(REVGNN_IMPLEMENTATION) && !defined(REVGNN_CUDA_IMPLEMENTATION_DONE)
#define REVGNN_CUDA_IMPLEMENTATION_DONE

#ifndef __CUDACC__
#error "revgnn_cuda.cuh: the implementation is CUDA code: compile this file with nvcc (-x cu for a .c file)"
#endif
#ifndef REVGNN_IMPLEMENTATION_DONE
#error "revgnn_cuda.cuh: include revgnn.h with REVGNN_IMPLEMENTATION defined first, in the same file"
#endif
/* REVGNN_REAL must be the token float: RG__CUDA_IS_float is 1, any other type pastes to an
   undefined name, which #if reads as 0 */
#define RG__CUDA_IS_float 1
#define RG__CUDA_CAT2(a, b) a##b
#define RG__CUDA_CAT(a, b) RG__CUDA_CAT2(a, b)
#if !RG__CUDA_CAT(RG__CUDA_IS_, REVGNN_REAL)
#error "revgnn_cuda.cuh: the CUDA backend needs REVGNN_REAL float"
#endif

#include <cuda_runtime.h>
#include <cublas_v2.h>
#if CUDART_VERSION < 12000
#error "revgnn_cuda.cuh: needs CUDA 12 or newer (cuBLAS 64-bit API)"
#endif

#include <map>
#include <new>
#include <unordered_map>
#include <utility>

/* the positional initializer below must name every op: a new op breaks the build here */
static_assert(sizeof(rg_backend) == 35 * sizeof(void *), "revgnn_cuda.cuh: struct rg_backend changed: implement "
                                                         "every op in rg__cuda_backend, in order");

#define RG__CUDA_THREADS 256            /* threads per block of every kernel */
#define RG__CUDA_WARPS (RG__CUDA_THREADS / 32)
#define RG__CUDA_MAX_GRID (1 << 20)     /* blocks of a grid-stride launch */
#define RG__CUDA_REDUCE_BLOCKS 256      /* fixed partial sums of every full reduction */
#define RG__CUDA_CHUNK_ROWS 256         /* at least this many rows per partial of a column sum */
#define RG__CUDA_MAX_CHUNKS 1024        /* at most this many partials per column */
#define RG__CUDA_ALIGN 512              /* pool allocation granularity, bytes */
#define RG__CEIL_DIV(a, b) (((a) + (b) - 1) / (b))

/* ---- state, errors, memory ---- */

/* The backend's private state (ctx->backend). */
typedef struct rg__cuda_state {
    cudaStream_t stream;                        /* every op runs on it, in order */
    cublasHandle_t cublas;
    std::multimap<size_t, void *> idle;         /* the pool: cached blocks by size */
    std::unordered_map<void *, size_t> live;    /* block size of every pointer handed out */
    void *scratch;                              /* per-op temporaries (column partials, loss rows) */
    size_t scratch_bytes;
    double *partials;                           /* device (RG__CUDA_REDUCE_BLOCKS) + 2 int flags */
    double *host;                               /* pinned host copy of partials and flags */
} rg__cuda_state;

static rg__cuda_state *rg__cuda(rg_ctx *ctx) { return (rg__cuda_state *)ctx->backend; }
static int *rg__cuda_flags(double *partials) { return (int *)(partials + RG__CUDA_REDUCE_BLOCKS); }

/* Records a failed CUDA call in ctx->status (the first failure wins) and clears CUDA's
   last error, so the next launch check does not blame itself for it. 1 when err is success. */
static int rg__cuda_ok(rg_ctx *ctx, cudaError_t err, const char *call, const char *file, int line) {
    if (err == cudaSuccess) return 1;
    (void)cudaGetLastError();
    if (ctx->status == RG_OK)
        ctx->status = rg__fail_at(file, line, RG_ERR_DEVICE, "cuda: %s: %s (%s)", call, cudaGetErrorString(err),
                                  cudaGetErrorName(err));
    return 0;
}

static int rg__cublas_ok(rg_ctx *ctx, cublasStatus_t st, const char *call, const char *file, int line) {
    if (st == CUBLAS_STATUS_SUCCESS) return 1;
    if (ctx->status == RG_OK)
        ctx->status = rg__fail_at(file, line, RG_ERR_DEVICE, "cublas: %s: %s (%s)", call, cublasGetStatusString(st),
                                  cublasGetStatusName(st));
    return 0;
}

#define RG__CUDA_TRY(ctx, call) rg__cuda_ok((ctx), (call), #call, __FILE__, __LINE__)
#define RG__CUBLAS_TRY(ctx, call) rg__cublas_ok((ctx), (call), #call, __FILE__, __LINE__)

/* Hands every cached block back to CUDA (cudaFree waits for the device). */
static void rg__cuda_pool_release(rg__cuda_state *s) {
    std::multimap<size_t, void *>::iterator it;
    for (it = s->idle.begin(); it != s->idle.end(); ++it) (void)cudaFree(it->second);
    s->idle.clear();
}

/* cudaMalloc that, when the device is full, releases the pool's cached blocks and tries
   once more. An out-of-memory error is cleared (it is reported by the caller). */
static cudaError_t rg__cuda_malloc(rg__cuda_state *s, void **p, size_t bytes) {
    cudaError_t err = cudaMalloc(p, bytes);
    if (err == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        rg__cuda_pool_release(s);
        err = cudaMalloc(p, bytes);
        if (err == cudaErrorMemoryAllocation) (void)cudaGetLastError();
    }
    if (err != cudaSuccess) *p = NULL;
    return err;
}

/* Device memory from the pool: a cached block at most 1/8 larger than asked, else a new
   one. NULL when the device is out of memory (rg_alloc reports RG_ERR_OOM). */
static void *rg__cuda_alloc(rg_ctx *ctx, size_t bytes) {
    rg__cuda_state *s = rg__cuda(ctx);
    size_t want = RG__CEIL_DIV(bytes, (size_t)RG__CUDA_ALIGN) * RG__CUDA_ALIGN;
    void *p = NULL;
    try {
        std::multimap<size_t, void *>::iterator it = s->idle.lower_bound(want);
        size_t size = want;
        if (it != s->idle.end() && it->first - want <= want / 8) {
            p = it->second;
            size = it->first;
            s->idle.erase(it);
        } else {
            cudaError_t err = rg__cuda_malloc(s, &p, want);
            if (err != cudaErrorMemoryAllocation) RG__CUDA_TRY(ctx, err);
            if (!p) return NULL;
        }
        s->live[p] = size;
        return p;
    } catch (...) { /* the maps could not grow: give the block back to CUDA */
        if (p) (void)cudaFree(p);
        return NULL;
    }
}

static void rg__cuda_free(rg_ctx *ctx, void *p, size_t bytes) {
    rg__cuda_state *s = rg__cuda(ctx);
    std::unordered_map<void *, size_t>::iterator it = s->live.find(p);
    size_t size;
    (void)bytes; /* the pool knows the block's real size */
    if (it == s->live.end()) {
        RG__OP_FAIL(ctx, RG_ERR_ARG, "cuda free: %p was not allocated by this context", p);
        return;
    }
    size = it->second;
    s->live.erase(it);
    try {
        s->idle.insert(std::make_pair(size, p));
    } catch (...) {
        (void)cudaFree(p);
    }
}

/* The op scratch, at least bytes long (grown on demand, kept until the context goes).
   Reallocating it is safe while kernels still use the old one: cudaFree waits for them. */
static void *rg__cuda_scratch(rg_ctx *ctx, size_t bytes) {
    rg__cuda_state *s = rg__cuda(ctx);
    if (bytes > s->scratch_bytes) {
        cudaError_t err;
        if (s->scratch) RG__CUDA_TRY(ctx, cudaFree(s->scratch));
        s->scratch = NULL;
        s->scratch_bytes = 0;
        err = rg__cuda_malloc(s, &s->scratch, bytes);
        if (err == cudaErrorMemoryAllocation) {
            RG__OP_FAIL(ctx, RG_ERR_OOM, "cuda: out of device memory for %zu bytes of op scratch", bytes);
            return NULL;
        }
        if (!RG__CUDA_TRY(ctx, err)) return NULL;
        s->scratch_bytes = bytes;
    }
    return s->scratch;
}

static void rg__cuda_copy(rg_ctx *ctx, void *dst, const void *src, size_t bytes, rg_copy_kind kind) {
    rg__cuda_state *s = rg__cuda(ctx);
    cudaMemcpyKind k = kind == RG_HOST_TO_DEVICE   ? cudaMemcpyHostToDevice
                       : kind == RG_DEVICE_TO_HOST ? cudaMemcpyDeviceToHost
                                                   : cudaMemcpyDeviceToDevice;
    if (bytes == 0 || dst == src) return;
    if (!RG__CUDA_TRY(ctx, cudaMemcpyAsync(dst, src, bytes, k, s->stream))) return;
    /* the host buffer is the caller's again when copy returns */
    if (kind != RG_DEVICE_TO_DEVICE) RG__CUDA_TRY(ctx, cudaStreamSynchronize(s->stream));
}

static void rg__cuda_synchronize(rg_ctx *ctx) { RG__CUDA_TRY(ctx, cudaStreamSynchronize(rg__cuda(ctx)->stream)); }

/* Releases everything, also blocks the program still holds; errors here are ignored. */
static void rg__cuda_destroy(rg_ctx *ctx) {
    rg__cuda_state *s = rg__cuda(ctx);
    std::unordered_map<void *, size_t>::iterator it;
    if (!s) return;
    if (s->stream) (void)cudaStreamSynchronize(s->stream);
    rg__cuda_pool_release(s);
    for (it = s->live.begin(); it != s->live.end(); ++it) (void)cudaFree(it->first);
    if (s->scratch) (void)cudaFree(s->scratch);
    if (s->partials) (void)cudaFree(s->partials);
    if (s->host) (void)cudaFreeHost(s->host);
    if (s->cublas) (void)cublasDestroy(s->cublas);
    if (s->stream) (void)cudaStreamDestroy(s->stream);
    (void)cudaGetLastError();
    delete s;
    ctx->backend = NULL;
}

/* ---- launch patterns ----
   Three shapes cover every kernel: element-wise (one thread per index), rows (one warp per
   row, lanes over its columns, warp reductions in a fixed butterfly), and reductions with
   fixed partials. Each takes a functor whose operator() is the per-index work. */

static unsigned rg__cuda_grid(int64_t units, int64_t per_block) {
    int64_t b = RG__CEIL_DIV(units, per_block);
    return (unsigned)(b < RG__CUDA_MAX_GRID ? b : RG__CUDA_MAX_GRID);
}

template <class F> __global__ void __launch_bounds__(RG__CUDA_THREADS) rg__each_kernel(F f, int64_t n) {
    int64_t i;
    for (i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) f(i);
}

/* f(i) for i in [0, n). Every launcher checks its launch at once (a bad configuration); a
   fault inside a kernel surfaces at the next synchronising call, also as RG_ERR_DEVICE. */
template <class F> static void rg__cuda_each(rg_ctx *ctx, int64_t n, F f, const char *what) {
    if (n <= 0) return;
    rg__each_kernel<<<rg__cuda_grid(n, RG__CUDA_THREADS), RG__CUDA_THREADS, 0, rg__cuda(ctx)->stream>>>(f, n);
    rg__cuda_ok(ctx, cudaGetLastError(), what, __FILE__, __LINE__);
}

/* The row index is the same for the 32 lanes of a warp, so a warp enters and leaves f
   together and every lane reaches f's shuffles. */
template <class F> __global__ void __launch_bounds__(RG__CUDA_THREADS) rg__rows_kernel(F f, int64_t rows) {
    int lane = (int)(threadIdx.x & 31);
    int64_t r;
    const int64_t stride = (int64_t)gridDim.x * RG__CUDA_WARPS;
    for (r = (int64_t)blockIdx.x * RG__CUDA_WARPS + (threadIdx.x >> 5); r < rows; r += stride) f(r, lane);
}

/* f(r, lane) for each row r in [0, rows), one warp per row */
template <class F> static void rg__cuda_rows(rg_ctx *ctx, int64_t rows, F f, const char *what) {
    if (rows <= 0) return;
    rg__rows_kernel<<<rg__cuda_grid(rows, RG__CUDA_WARPS), RG__CUDA_THREADS, 0, rg__cuda(ctx)->stream>>>(f, rows);
    rg__cuda_ok(ctx, cudaGetLastError(), what, __FILE__, __LINE__);
}

/* Sums over a warp by a butterfly: every lane ends with the same bits (addition is
   commutative, so partners add the same two values). */
__device__ __forceinline__ double rg__warp_sum(double v) {
    int o;
    for (o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ double rg__warp_max(double v) {
    int o;
    for (o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
/* sum_c a[c] b[c] in double over a warp, lanes striding the channels */
__device__ __forceinline__ double rg__warp_dot(const rg_real *a, const rg_real *b, int64_t n, int lane) {
    double acc = 0;
    int64_t c;
    for (c = lane; c < n; c += 32) acc += (double)a[c] * b[c];
    return rg__warp_sum(acc);
}

/* Full reduction: a fixed grid of RG__CUDA_REDUCE_BLOCKS blocks, each thread a fixed
   stride of indices, a fixed tree in shared memory, and the block partials added on the
   host in block order: the same bits for any GPU of one model and any n. */
template <class F>
__global__ void __launch_bounds__(RG__CUDA_THREADS) rg__reduce_kernel(F f, int64_t n, double *partial) {
    __shared__ double sh[RG__CUDA_THREADS];
    double acc = 0;
    int64_t i;
    int s;
    for (i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) acc += f(i);
    sh[threadIdx.x] = acc;
    __syncthreads();
    for (s = RG__CUDA_THREADS / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = sh[0];
}

/* sum of f(i) over [0, n), returned to the host (synchronises) */
template <class F> static double rg__cuda_reduce(rg_ctx *ctx, int64_t n, F f, const char *what) {
    rg__cuda_state *s = rg__cuda(ctx);
    double acc = 0;
    int b;
    rg__reduce_kernel<<<RG__CUDA_REDUCE_BLOCKS, RG__CUDA_THREADS, 0, s->stream>>>(f, n, s->partials);
    if (!rg__cuda_ok(ctx, cudaGetLastError(), what, __FILE__, __LINE__)) return 0;
    if (!RG__CUDA_TRY(ctx, cudaMemcpyAsync(s->host, s->partials, RG__CUDA_REDUCE_BLOCKS * sizeof(double),
                                           cudaMemcpyDeviceToHost, s->stream)) ||
        !RG__CUDA_TRY(ctx, cudaStreamSynchronize(s->stream)))
        return 0;
    for (b = 0; b < RG__CUDA_REDUCE_BLOCKS; b++) acc += s->host[b];
    return acc;
}

/* Column sums: rows are cut into fixed chunks (a function of rows only), a (32, 8) block
   sums 32 columns of one chunk (8 row lanes, then the lanes in order) into one partial per
   chunk and column, and a thread per column adds the partials in chunk order, then hands
   the NV sums to the finisher g(c, sums). f(r, c, v) gives the NV values of entry (r, c). */
static int64_t rg__cuda_chunk_rows(int64_t rows) {
    int64_t c = RG__CEIL_DIV(rows, (int64_t)RG__CUDA_MAX_CHUNKS);
    return c > RG__CUDA_CHUNK_ROWS ? c : RG__CUDA_CHUNK_ROWS;
}
static size_t rg__cuda_colreduce_bytes(int64_t rows, int64_t cols, int nv) {
    int64_t chunks = RG__CEIL_DIV(rows, rg__cuda_chunk_rows(rows));
    return (size_t)(chunks > 0 ? chunks : 1) * (size_t)cols * (size_t)nv * sizeof(double);
}

template <int NV, class F>
__global__ void __launch_bounds__(RG__CUDA_THREADS)
    rg__colreduce_kernel(F f, int64_t rows, int64_t cols, int64_t chunk, double *partial) {
    __shared__ double sh[NV][8][32];
    int64_t c = (int64_t)blockIdx.x * 32 + threadIdx.x, r0 = (int64_t)blockIdx.y * chunk, r1 = r0 + chunk, r;
    double acc[NV], v[NV];
    int k, y;
    for (k = 0; k < NV; k++) acc[k] = 0;
    if (r1 > rows) r1 = rows;
    if (c < cols)
        for (r = r0 + threadIdx.y; r < r1; r += 8) {
            f(r, c, v);
            for (k = 0; k < NV; k++) acc[k] += v[k];
        }
    for (k = 0; k < NV; k++) sh[k][threadIdx.y][threadIdx.x] = acc[k];
    __syncthreads();
    if (threadIdx.y == 0 && c < cols)
        for (k = 0; k < NV; k++) {
            double s = 0;
            for (y = 0; y < 8; y++) s += sh[k][y][threadIdx.x];
            partial[((int64_t)blockIdx.y * cols + c) * NV + k] = s;
        }
}

template <int NV, class G> struct rg__colfinal_fn {
    G g;
    const double *partial;
    int64_t chunks, cols;
    __device__ void operator()(int64_t c) const {
        double s[NV];
        int64_t ch;
        int k;
        for (k = 0; k < NV; k++) s[k] = 0;
        for (ch = 0; ch < chunks; ch++)
            for (k = 0; k < NV; k++) s[k] += partial[(ch * cols + c) * NV + k];
        g(c, s);
    }
};

template <int NV, class F, class G>
static void rg__cuda_colreduce(rg_ctx *ctx, int64_t rows, int64_t cols, F f, G g, const char *what) {
    int64_t chunk = rg__cuda_chunk_rows(rows), chunks = RG__CEIL_DIV(rows, chunk);
    double *partial;
    rg__colfinal_fn<NV, G> fin;
    if (cols <= 0) return;
    partial = (double *)rg__cuda_scratch(ctx, rg__cuda_colreduce_bytes(rows, cols, NV));
    if (!partial) return;
    if (chunks > 0) {
        dim3 grid((unsigned)RG__CEIL_DIV(cols, (int64_t)32), (unsigned)chunks), block(32, 8);
        rg__colreduce_kernel<NV><<<grid, block, 0, rg__cuda(ctx)->stream>>>(f, rows, cols, chunk, partial);
        if (!rg__cuda_ok(ctx, cudaGetLastError(), what, __FILE__, __LINE__)) return;
    }
    fin.g = g;
    fin.partial = partial;
    fin.chunks = chunks;
    fin.cols = cols;
    rg__cuda_each(ctx, cols, fin, what);
}

/* ---- dense ---- */

/* C (M, N) with row stride ldc = beta C: the product of a K = 0 GEMM */
struct rg__scale_rows_fn {
    rg_real *C;
    int64_t N, ldc;
    rg_real beta;
    __device__ void operator()(int64_t i) const {
        rg_real *c = C + (i / N) * ldc + i % N;
        *c = beta == 0 ? (rg_real)0 : beta * *c;
    }
};

/* Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS gets B first, with
   the row-major leading dimensions as they are. */
static void rg__cuda_gemm(rg_ctx *ctx, int ta, int tb, int64_t M, int64_t N, int64_t K, rg_real alpha,
                          const rg_real *A, int64_t lda, const rg_real *B, int64_t ldb, rg_real beta, rg_real *C,
                          int64_t ldc) {
    const cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    float a = alpha, b = beta;
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        rg__scale_rows_fn f = {C, N, ldc, beta};
        rg__cuda_each(ctx, M * N, f, "gemm (K = 0)");
        return;
    }
    RG__CUBLAS_TRY(ctx, cublasSgemm_64(rg__cuda(ctx)->cublas, opb, opa, N, M, K, &a, B, ldb, A, lda, &b, C, ldc));
}

/* ---- element-wise ---- */

struct rg__fill_fn {
    rg_real *x;
    rg_real v;
    __device__ void operator()(int64_t i) const { x[i] = v; }
};
static void rg__cuda_fill(rg_ctx *ctx, rg_real *x, int64_t n, rg_real v) {
    rg__fill_fn f = {x, v};
    rg__cuda_each(ctx, n, f, "fill");
}

struct rg__axpby_fn {
    rg_real a, b;
    const rg_real *x;
    rg_real *y;
    __device__ void operator()(int64_t i) const { y[i] = b == 0 ? a * x[i] : a * x[i] + b * y[i]; }
};
static void rg__cuda_axpby(rg_ctx *ctx, int64_t n, rg_real a, const rg_real *x, rg_real b, rg_real *y) {
    rg__axpby_fn f = {a, b, x, y};
    rg__cuda_each(ctx, n, f, "axpby");
}

struct rg__add_bias_fn {
    rg_real *y;
    const rg_real *bias;
    int64_t cols;
    __device__ void operator()(int64_t i) const { y[i] += bias[i % cols]; }
};
static void rg__cuda_add_bias(rg_ctx *ctx, rg_real *y, const rg_real *bias, int64_t rows, int64_t cols) {
    rg__add_bias_fn f = {y, bias, cols};
    rg__cuda_each(ctx, rows * cols, f, "add_bias");
}

struct rg__entry_fn {
    const rg_real *x;
    int64_t cols;
    __device__ void operator()(int64_t r, int64_t c, double *v) const { v[0] = x[r * cols + c]; }
};
struct rg__add_sum_fn {
    rg_real *out;
    __device__ void operator()(int64_t c, const double *s) const { out[c] += (rg_real)s[0]; }
};
static void rg__cuda_col_sum(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t rows, int64_t cols) {
    rg__entry_fn f = {x, cols};
    rg__add_sum_fn g = {out};
    rg__cuda_colreduce<1>(ctx, rows, cols, f, g, "col_sum");
}

struct rg__relu_fn {
    rg_real *y;
    const rg_real *x;
    __device__ void operator()(int64_t i) const { y[i] = x[i] > 0 ? x[i] : (rg_real)0; }
};
static void rg__cuda_relu_forward(rg_ctx *ctx, rg_real *y, const rg_real *x, int64_t n) {
    rg__relu_fn f = {y, x};
    rg__cuda_each(ctx, n, f, "relu_forward");
}

struct rg__relu_backward_fn {
    rg_real *dx;
    const rg_real *dy, *x;
    __device__ void operator()(int64_t i) const { dx[i] = x[i] > 0 ? dy[i] : (rg_real)0; }
};
static void rg__cuda_relu_backward(rg_ctx *ctx, rg_real *dx, const rg_real *dy, const rg_real *x, int64_t n) {
    rg__relu_backward_fn f = {dx, dy, x};
    rg__cuda_each(ctx, n, f, "relu_backward");
}

/* splitmix64's finaliser, as rg__mix64 in revgnn.h */
__device__ __forceinline__ uint64_t rg__cuda_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* rg_dropout_keep with the key of (seed, stream) hashed once on the host: the last step
   of rg_rng_u64, the same integer arithmetic, so masks match the CPU's bit for bit */
struct rg__dropout_fn {
    rg_real *y;
    const rg_real *x;
    uint64_t key;
    uint32_t threshold;
    rg_real scale;
    __device__ void operator()(int64_t i) const {
        uint64_t h = rg__cuda_mix64(key + (uint64_t)i * 0x9e3779b97f4a7c15ULL);
        y[i] = (uint32_t)(h >> 32) >= threshold ? x[i] * scale : (rg_real)0;
    }
};
static void rg__cuda_dropout(rg_ctx *ctx, rg_real *y, const rg_real *x, int64_t rows, int64_t cols, double p,
                             uint64_t seed, uint64_t stream) {
    rg__dropout_fn f;
    f.y = y;
    f.x = x;
    f.key = rg__mix64(seed ^ rg__mix64(stream + 0x632be59bd9b4e019ULL)); /* as rg_rng_u64 */
    f.threshold = rg_dropout_threshold(p);
    f.scale = (rg_real)(1.0 / (1.0 - p));
    rg__cuda_each(ctx, rows * cols, f, "dropout");
}

/* ---- layer norm ---- */

struct rg__layernorm_forward_fn {
    rg_real *y, *mean, *rstd;
    const rg_real *x, *gamma, *beta;
    int64_t cols;
    double eps;
    __device__ void operator()(int64_t r, int lane) const {
        const rg_real *xr = x + r * cols;
        rg_real *yr = y + r * cols;
        double m = 0, v = 0;
        rg_real mu, rs;
        int64_t c;
        for (c = lane; c < cols; c += 32) m += xr[c];
        m = rg__warp_sum(m) / (double)cols;
        for (c = lane; c < cols; c += 32) v += (xr[c] - m) * (xr[c] - m);
        v = rg__warp_sum(v) / (double)cols;
        mu = (rg_real)m;
        rs = (rg_real)(1.0 / sqrt(v + eps));
        for (c = lane; c < cols; c += 32) yr[c] = (xr[c] - mu) * rs * gamma[c] + beta[c];
        if (lane == 0) {
            mean[r] = mu;
            rstd[r] = rs;
        }
    }
};
static void rg__cuda_layernorm_forward(rg_ctx *ctx, rg_real *y, rg_real *mean, rg_real *rstd, const rg_real *x,
                                       const rg_real *gamma, const rg_real *beta, int64_t rows, int64_t cols,
                                       double eps) {
    rg__layernorm_forward_fn f = {y, mean, rstd, x, gamma, beta, cols, eps};
    rg__cuda_rows(ctx, rows, f, "layernorm_forward");
}

/* (dy xhat, dy) of one entry, xhat from the row statistics */
struct rg__layernorm_param_fn {
    const rg_real *dy, *x, *mean, *rstd;
    int64_t cols;
    __device__ void operator()(int64_t r, int64_t c, double *v) const {
        double xhat = (x[r * cols + c] - mean[r]) * rstd[r];
        v[0] = dy[r * cols + c] * xhat;
        v[1] = dy[r * cols + c];
    }
};
struct rg__add_sums2_fn {
    rg_real *a, *b;
    __device__ void operator()(int64_t c, const double *s) const {
        a[c] += (rg_real)s[0];
        b[c] += (rg_real)s[1];
    }
};
/* dx = rstd (g - mean(g) - xhat mean(g xhat)), g = dy gamma; each lane rereads only its own
   columns before writing them, so dx may alias dy */
struct rg__layernorm_dx_fn {
    rg_real *dx;
    const rg_real *dy, *x, *mean, *rstd, *gamma;
    int64_t cols;
    __device__ void operator()(int64_t r, int lane) const {
        const rg_real *xr = x + r * cols, *dyr = dy + r * cols;
        rg_real *dxr = dx + r * cols;
        double mg = 0, mgx = 0;
        int64_t c;
        for (c = lane; c < cols; c += 32) {
            double g = dyr[c] * gamma[c], xhat = (xr[c] - mean[r]) * rstd[r];
            mg += g;
            mgx += g * xhat;
        }
        mg = rg__warp_sum(mg) / (double)cols;
        mgx = rg__warp_sum(mgx) / (double)cols;
        for (c = lane; c < cols; c += 32) {
            double g = dyr[c] * gamma[c], xhat = (xr[c] - mean[r]) * rstd[r];
            dxr[c] = (rg_real)(rstd[r] * (g - mg - xhat * mgx));
        }
    }
};
static void rg__cuda_layernorm_backward(rg_ctx *ctx, rg_real *dx, rg_real *dgamma, rg_real *dbeta, const rg_real *dy,
                                        const rg_real *x, const rg_real *mean, const rg_real *rstd,
                                        const rg_real *gamma, int64_t rows, int64_t cols) {
    rg__layernorm_param_fn f = {dy, x, mean, rstd, cols};
    rg__add_sums2_fn g = {dgamma, dbeta};
    rg__layernorm_dx_fn d = {dx, dy, x, mean, rstd, gamma, cols};
    rg__cuda_colreduce<2>(ctx, rows, cols, f, g, "layernorm_backward (parameters)"); /* reads dy before dx is written */
    rg__cuda_rows(ctx, rows, d, "layernorm_backward");
}

struct rg__square_fn {
    const rg_real *x;
    __device__ double operator()(int64_t i) const { return (double)x[i] * x[i]; }
};
static double rg__cuda_sum_squares(rg_ctx *ctx, const rg_real *x, int64_t n) {
    rg__square_fn f = {x};
    return rg__cuda_reduce(ctx, n, f, "sum_squares");
}

/* ---- batch norm ---- */

/* sums shifted by row 0, as the CPU's, against cancellation when |mean| >> std */
struct rg__bn_stats_fn {
    const rg_real *x;
    int64_t cols;
    __device__ void operator()(int64_t r, int64_t c, double *v) const {
        double d = (double)x[r * cols + c] - x[c];
        v[0] = d;
        v[1] = d * d;
    }
};
struct rg__bn_batch_fn {
    rg_real *mean, *rstd, *running_mean, *running_var;
    const rg_real *x;
    int64_t rows;
    double eps, momentum;
    __device__ void operator()(int64_t c, const double *s) const {
        double m1 = s[0] / (double)rows, var = s[1] / (double)rows - m1 * m1, mu = x[c] + m1;
        if (var < 0) var = 0;
        mean[c] = (rg_real)mu;
        rstd[c] = (rg_real)(1.0 / sqrt(var + eps));
        if (momentum > 0) {
            running_mean[c] = (rg_real)((1 - momentum) * running_mean[c] + momentum * mu);
            running_var[c] =
                (rg_real)((1 - momentum) * running_var[c] + momentum * var * (double)rows / (double)(rows - 1));
        }
    }
};
struct rg__bn_running_fn {
    rg_real *mean, *rstd;
    const rg_real *running_mean, *running_var;
    double eps;
    __device__ void operator()(int64_t c) const {
        mean[c] = running_mean[c];
        rstd[c] = (rg_real)(1.0 / sqrt((double)running_var[c] + eps));
    }
};
struct rg__bn_apply_fn {
    rg_real *y;
    const rg_real *x, *mean, *rstd, *gamma, *beta;
    int64_t cols;
    __device__ void operator()(int64_t i) const {
        int64_t c = i % cols;
        rg_real a = rstd[c] * gamma[c];
        y[i] = (x[i] - mean[c]) * a + beta[c];
    }
};
static void rg__cuda_batchnorm_forward(rg_ctx *ctx, rg_real *y, rg_real *mean, rg_real *rstd, rg_real *running_mean,
                                       rg_real *running_var, const rg_real *x, const rg_real *gamma,
                                       const rg_real *beta, int64_t rows, int64_t cols, double eps, double momentum,
                                       int use_batch) {
    rg__bn_apply_fn a = {y, x, mean, rstd, gamma, beta, cols};
    if (use_batch) {
        rg__bn_stats_fn f = {x, cols};
        rg__bn_batch_fn g = {mean, rstd, running_mean, running_var, x, rows, eps, momentum};
        rg__cuda_colreduce<2>(ctx, rows, cols, f, g, "batchnorm_forward (statistics)");
    } else {
        rg__bn_running_fn g = {mean, rstd, running_mean, running_var, eps};
        rg__cuda_each(ctx, cols, g, "batchnorm_forward (running statistics)");
    }
    rg__cuda_each(ctx, rows * cols, a, "batchnorm_forward");
}

/* (dy xhat, dy) of one entry, xhat from the column statistics, in rg_real as the CPU's */
struct rg__bn_param_fn {
    const rg_real *dy, *x, *mean, *rstd;
    int64_t cols;
    __device__ void operator()(int64_t r, int64_t c, double *v) const {
        rg_real xhat = (x[r * cols + c] - mean[c]) * rstd[c];
        v[0] = dy[r * cols + c] * xhat;
        v[1] = dy[r * cols + c];
    }
};
/* the parameter gradients, and per column k = gamma rstd, mg = mean(dy), mgx = mean(dy xhat) */
struct rg__bn_coef_fn {
    rg_real *dgamma, *dbeta, *k, *mg, *mgx;
    const rg_real *gamma, *rstd;
    int64_t rows;
    int use_batch;
    __device__ void operator()(int64_t c, const double *s) const {
        dgamma[c] += (rg_real)s[0];
        dbeta[c] += (rg_real)s[1];
        k[c] = gamma[c] * rstd[c];
        mg[c] = use_batch ? (rg_real)(s[1] / (double)rows) : (rg_real)0;
        mgx[c] = use_batch ? (rg_real)(s[0] / (double)rows) : (rg_real)0;
    }
};
struct rg__bn_dx_fn {
    rg_real *dx;
    const rg_real *dy, *x, *mean, *rstd, *k, *mg, *mgx;
    int64_t cols;
    __device__ void operator()(int64_t i) const {
        int64_t c = i % cols;
        rg_real xhat = (x[i] - mean[c]) * rstd[c];
        dx[i] = k[c] * (dy[i] - mg[c] - xhat * mgx[c]);
    }
};
static void rg__cuda_batchnorm_backward(rg_ctx *ctx, rg_real *dx, rg_real *dgamma, rg_real *dbeta, const rg_real *dy,
                                        const rg_real *x, const rg_real *mean, const rg_real *rstd,
                                        const rg_real *gamma, int64_t rows, int64_t cols, int use_batch) {
    /* the column partials, then k, mg, mgx (cols each) behind them in the scratch */
    size_t partial = rg__cuda_colreduce_bytes(rows, cols, 2);
    char *scratch;
    rg_real *coef;
    if (cols <= 0) return;
    scratch = (char *)rg__cuda_scratch(ctx, partial + 3 * (size_t)cols * sizeof(rg_real));
    if (!scratch) return;
    coef = (rg_real *)(scratch + partial);
    {
        rg__bn_param_fn f = {dy, x, mean, rstd, cols};
        rg__bn_coef_fn g = {dgamma, dbeta, coef, coef + cols, coef + 2 * cols, gamma, rstd, rows, use_batch};
        rg__bn_dx_fn d = {dx, dy, x, mean, rstd, coef, coef + cols, coef + 2 * cols, cols};
        rg__cuda_colreduce<2>(ctx, rows, cols, f, g, "batchnorm_backward (parameters)");
        rg__cuda_each(ctx, rows * cols, d, "batchnorm_backward");
    }
}

/* ---- GENConv ---- */

/* ReLU(x[j, c] + e[k, c]), the message of edge k from node j before + eps (e NULL: no edge
   term), recomputed wherever it is needed as on the CPU */
__device__ __forceinline__ rg_real rg__cuda_msg(const rg_real *x, const rg_real *e, int64_t j, int64_t k, int64_t dim,
                                                int64_t c) {
    rg_real a = e ? x[j * dim + c] + e[k * dim + c] : x[j * dim + c];
    return a > 0 ? a : (rg_real)0;
}

/* One warp per destination node, lanes over channels, each (node, channel) summed by one
   lane over the edges in CSR order: the CPU's arithmetic, element for element. */
struct rg__gen_forward_fn {
    rg_real *out, *aux;
    int32_t *argmax;
    const rg_real *x, *e;
    const int64_t *rowptr;
    const int32_t *src;
    int64_t dim;
    rg_aggr aggr;
    rg_real ep, param_value;
    const rg_real *param;
    __device__ void operator()(int64_t i, int lane) const {
        const rg_real th = param ? *param : param_value;
        const int64_t beg = rowptr[i], end = rowptr[i + 1];
        const double inv_deg = end > beg ? 1.0 / (double)(end - beg) : 0;
        int64_t c, k;
        for (c = lane; c < dim; c += 32) {
            const int64_t o = i * dim + c;
            if (beg == end) {
                out[o] = 0;
                if (aggr == RG_AGGR_SOFTMAX) aux[o] = 0;
                if (aggr == RG_AGGR_MAX) argmax[o] = -1;
                continue;
            }
            if (aggr == RG_AGGR_MAX) {
                /* strict > keeps the first edge in CSR order on ties */
                rg_real best = rg__cuda_msg(x, e, src[beg], beg, dim, c) + ep;
                int32_t am = (int32_t)beg;
                for (k = beg + 1; k < end; k++) {
                    rg_real v = rg__cuda_msg(x, e, src[k], k, dim, c) + ep;
                    if (v > best) {
                        best = v;
                        am = (int32_t)k;
                    }
                }
                out[o] = best;
                argmax[o] = am;
            } else if (aggr == RG_AGGR_SOFTMAX) {
                /* max first so no exp overflows; aux ends as max + log(sum exp) */
                rg_real mx = th * (rg__cuda_msg(x, e, src[beg], beg, dim, c) + ep);
                double s = 0, u = 0;
                for (k = beg + 1; k < end; k++) {
                    rg_real t = th * (rg__cuda_msg(x, e, src[k], k, dim, c) + ep);
                    mx = t > mx ? t : mx;
                }
                for (k = beg; k < end; k++) {
                    rg_real m = rg__cuda_msg(x, e, src[k], k, dim, c) + ep, w = expf(th * m - mx);
                    s += w;
                    u += w * m;
                }
                out[o] = (rg_real)(u / s);
                aux[o] = mx + (rg_real)log(s);
            } else if (aggr == RG_AGGR_POWER) {
                double s = 0;
                for (k = beg; k < end; k++) s += powf(rg__cuda_msg(x, e, src[k], k, dim, c) + ep, th);
                out[o] = (rg_real)pow(s * inv_deg, 1.0 / (double)th);
            } else {
                double s = 0;
                for (k = beg; k < end; k++) s += rg__cuda_msg(x, e, src[k], k, dim, c) + ep;
                if (aggr == RG_AGGR_MEAN) s *= inv_deg;
                out[o] = (rg_real)s;
            }
        }
    }
};
static void rg__cuda_gen_aggregate_forward(rg_ctx *ctx, rg_real *out, rg_real *aux, int32_t *argmax, const rg_real *x,
                                           const rg_real *e, const int64_t *rowptr, const int32_t *src,
                                           int64_t n_nodes, int64_t dim, rg_aggr aggr, double eps,
                                           const rg_real *param, double param_value) {
    rg__gen_forward_fn f;
    if (!rg__gen_aggr_ok(aggr)) { rg__gen_aggr_fail(ctx, "gen_aggregate_forward", aggr); return; }
    f.out = out; f.aux = aux; f.argmax = argmax; f.x = x; f.e = e; f.rowptr = rowptr; f.src = src;
    f.dim = dim; f.aggr = aggr; f.ep = (rg_real)eps; f.param_value = (rg_real)param_value; f.param = param;
    rg__cuda_rows(ctx, n_nodes, f, "gen_aggregate_forward");
}

/* One warp per SOURCE node j, gathering over its outgoing edges k (to i = dst[k]): every dx
   row and de row has one writer. The per-edge gradient as the CPU's (see
   rg__cpu_gen_aggregate_backward); node j's share of dL/dparam is summed per lane, then
   over the warp. */
struct rg__gen_backward_fn {
    rg_real *dx, *de, *dparam_part;
    const rg_real *dout, *out, *aux;
    const int32_t *argmax;
    const rg_real *x, *e;
    const int64_t *rowptr;
    const int32_t *dst;
    const int64_t *t_rowptr, *t_edge;
    int64_t dim;
    rg_aggr aggr;
    rg_real ep, param_value;
    const rg_real *param;
    __device__ void operator()(int64_t j, int lane) const {
        const rg_real th = param ? *param : param_value;
        double part = 0;
        int64_t c, q;
        for (c = lane; c < dim; c += 32) {
            double acc = 0;
            for (q = t_rowptr[j]; q < t_rowptr[j + 1]; q++) {
                const int64_t k = t_edge[q], i = dst[k], o = i * dim + c;
                const rg_real g = dout[o], r = rg__cuda_msg(x, e, j, k, dim, c);
                const rg_real inv_deg = (rg_real)(1.0 / (double)(rowptr[i + 1] - rowptr[i]));
                rg_real gm;
                switch (aggr) {
                case RG_AGGR_MEAN:
                    gm = g * inv_deg;
                    break;
                case RG_AGGR_MAX:
                    gm = argmax[o] == k ? g : (rg_real)0;
                    break;
                case RG_AGGR_SOFTMAX: {
                    rg_real m = r + ep, w = expf(th * m - aux[o]);
                    gm = g * w * (1 + th * (m - out[o]));
                    if (dparam_part) part += g * w * (r + ep) * (r + ep - out[o]);
                    break;
                }
                case RG_AGGR_POWER: {
                    rg_real w = powf((r + ep) / out[o], th - 1);
                    gm = g * w * inv_deg;
                    if (dparam_part)
                        part += g * out[o] * inv_deg / th * (w * (r + ep) / out[o] * logf(r + ep) - logf(out[o]));
                    break;
                }
                default: /* SUM */
                    gm = g;
                }
                gm = r > 0 ? gm : (rg_real)0;
                if (de) de[k * dim + c] = gm;
                acc += gm;
            }
            if (dx) dx[j * dim + c] = (rg_real)acc;
        }
        if (dparam_part) {
            part = rg__warp_sum(part);
            if (lane == 0) dparam_part[j] = (rg_real)part;
        }
    }
};
static void rg__cuda_gen_aggregate_backward(rg_ctx *ctx, rg_real *dx, rg_real *de, rg_real *dparam_part,
                                            const rg_real *dout, const rg_real *out, const rg_real *aux,
                                            const int32_t *argmax, const rg_real *x, const rg_real *e,
                                            const int64_t *rowptr, const int32_t *dst, const int64_t *t_rowptr,
                                            const int64_t *t_edge, int64_t n_nodes, int64_t dim, rg_aggr aggr,
                                            double eps, const rg_real *param, double param_value) {
    rg__gen_backward_fn f;
    if (!rg__gen_aggr_ok(aggr)) { rg__gen_aggr_fail(ctx, "gen_aggregate_backward", aggr); return; }
    f.dx = dx; f.de = de; f.dparam_part = dparam_part; f.dout = dout; f.out = out; f.aux = aux; f.argmax = argmax;
    f.x = x; f.e = e; f.rowptr = rowptr; f.dst = dst; f.t_rowptr = t_rowptr; f.t_edge = t_edge; f.dim = dim;
    f.aggr = aggr; f.ep = (rg_real)eps; f.param_value = (rg_real)param_value; f.param = param;
    rg__cuda_rows(ctx, n_nodes, f, "gen_aggregate_backward");
}

/* ---- MsgNorm ---- */

struct rg__msgnorm_forward_fn {
    rg_real *h;
    const rg_real *agg, *x, *scale;
    int64_t cols;
    __device__ void operator()(int64_t i, int lane) const {
        const rg_real *a = agg + i * cols, *xi = x + i * cols;
        const double s = scale ? (double)*scale : 1.0;
        double nx = 0, na = 0;
        rg_real f;
        int64_t c;
        for (c = lane; c < cols; c += 32) {
            nx += (double)xi[c] * xi[c];
            na += (double)a[c] * a[c];
        }
        nx = rg__warp_sum(nx);
        na = rg__warp_sum(na);
        f = (rg_real)(s * sqrt(nx) / fmax(sqrt(na), RG_MSGNORM_FLOOR));
        for (c = lane; c < cols; c += 32) h[i * cols + c] = f * a[c];
    }
};
static void rg__cuda_msgnorm_forward(rg_ctx *ctx, rg_real *h, const rg_real *agg, const rg_real *x,
                                     const rg_real *scale, int64_t rows, int64_t cols) {
    rg__msgnorm_forward_fn f = {h, agg, x, scale, cols};
    rg__cuda_rows(ctx, rows, f, "msgnorm_forward");
}

/* as rg__cpu_msgnorm_backward: ds = |x| (dh . u), dx = s (dh . u) x / |x|,
   da = s |x| / |a| (dh - u (dh . u)) with u = a / |a|, the projection gone below the floor */
struct rg__msgnorm_backward_fn {
    rg_real *dagg, *dx, *dscale_part;
    const rg_real *dh, *agg, *x, *scale;
    int64_t cols;
    __device__ void operator()(int64_t i, int lane) const {
        const rg_real *a = agg + i * cols, *xi = x + i * cols, *g = dh + i * cols;
        const double s = scale ? (double)*scale : 1.0;
        double nx = 0, na = 0, dot = 0, den, gu, proj;
        rg_real kx, ka, kp;
        int64_t c;
        for (c = lane; c < cols; c += 32) {
            nx += (double)xi[c] * xi[c];
            na += (double)a[c] * a[c];
            dot += (double)g[c] * a[c];
        }
        nx = sqrt(rg__warp_sum(nx));
        na = sqrt(rg__warp_sum(na));
        dot = rg__warp_sum(dot);
        den = fmax(na, RG_MSGNORM_FLOOR);
        gu = dot / den;
        proj = na > RG_MSGNORM_FLOOR ? gu / na : 0;
        if (dscale_part && lane == 0) dscale_part[i] = (rg_real)(nx * gu);
        kx = (rg_real)(nx > 0 ? s * gu / nx : 0);
        ka = (rg_real)(s * nx / den);
        kp = (rg_real)proj;
        for (c = lane; c < cols; c += 32) {
            dx[i * cols + c] = kx * xi[c];
            dagg[i * cols + c] = ka * (g[c] - a[c] * kp);
        }
    }
};
static void rg__cuda_msgnorm_backward(rg_ctx *ctx, rg_real *dagg, rg_real *dx, rg_real *dscale_part, const rg_real *dh,
                                      const rg_real *agg, const rg_real *x, const rg_real *scale, int64_t rows,
                                      int64_t cols) {
    rg__msgnorm_backward_fn f = {dagg, dx, dscale_part, dh, agg, x, scale, cols};
    rg__cuda_rows(ctx, rows, f, "msgnorm_backward");
}

/* ---- losses and optimiser ---- */

/* one entry's loss term, and its gradient written in place of the logit it read */
struct rg__bce_fn {
    rg_real *dlogits;
    const rg_real *logits, *targets, *mask;
    int64_t cols, mask_cols;
    double scale;
    __device__ double operator()(int64_t i) const {
        int64_t r = i / cols, c = i % cols;
        double w = mask ? (double)mask[r * mask_cols + (mask_cols == 1 ? 0 : c)] : 1.0, x, y, e, loss;
        if (w == 0) {
            dlogits[i] = 0;
            return 0;
        }
        x = logits[i];
        y = targets[i];
        e = exp(-fabs(x));
        loss = w * (fmax(x, 0.0) - x * y + log1p(e));
        dlogits[i] = (rg_real)(scale * w * ((x >= 0 ? 1.0 : e) / (1.0 + e) - y));
        return loss;
    }
};
static double rg__cuda_bce_logits(rg_ctx *ctx, rg_real *dlogits, const rg_real *logits, const rg_real *targets,
                                  const rg_real *mask, int64_t rows, int64_t cols, int64_t mask_cols, double scale) {
    rg__bce_fn f = {dlogits, logits, targets, mask, cols, mask_cols, scale};
    return rg__cuda_reduce(ctx, rows * cols, f, "bce_logits");
}

/* flags[0] = 1 when a listed row id or its label is out of range */
struct rg__xent_range_fn {
    int *flags;
    const int32_t *labels, *rows;
    int64_t n_logit_rows, cols;
    __device__ void operator()(int64_t k) const {
        int64_t r = rows ? (int64_t)rows[k] : k;
        if (r < 0 || r >= n_logit_rows || labels[r] < 0 || labels[r] >= cols) flags[0] = 1;
    }
};
/* a repeated row: every entry k writes k + 1 into its row's first slot (the rows were
   zeroed), then any entry that does not find its own mark shares its row (flags[1]) */
struct rg__xent_mark_fn {
    int32_t *slot;
    const int32_t *rows;
    int64_t cols;
    __device__ void operator()(int64_t k) const { slot[(int64_t)rows[k] * cols] = (int32_t)(k + 1); }
};
struct rg__xent_repeat_fn {
    int *flags;
    const int32_t *slot, *rows;
    int64_t cols;
    __device__ void operator()(int64_t k) const {
        if (slot[(int64_t)rows[k] * cols] != (int32_t)(k + 1)) flags[1] = 1;
    }
};
/* one warp per listed row: dlogits of the row and its loss lse - x[label] */
struct rg__xent_fn {
    rg_real *dlogits;
    double *loss;
    const rg_real *logits;
    const int32_t *labels, *rows;
    int64_t cols;
    double scale;
    __device__ void operator()(int64_t k, int lane) const {
        const int64_t r = rows ? (int64_t)rows[k] : k;
        const rg_real *x = logits + r * cols;
        rg_real *d = dlogits + r * cols;
        const int32_t label = labels[r];
        double mx = x[0], sum = 0, lse;
        int64_t c;
        for (c = lane; c < cols; c += 32) mx = fmax(mx, (double)x[c]);
        mx = rg__warp_max(mx);
        for (c = lane; c < cols; c += 32) sum += exp(x[c] - mx);
        lse = mx + log(rg__warp_sum(sum));
        for (c = lane; c < cols; c += 32) d[c] = (rg_real)(scale * (exp(x[c] - lse) - (c == label ? 1.0 : 0.0)));
        if (lane == 0) loss[k] = lse - x[label];
    }
};
struct rg__read_fn {
    const double *v;
    __device__ double operator()(int64_t i) const { return v[i]; }
};

/* The device flags, read back after the kernels before them: 1 with both copied to host */
static int rg__cuda_read_flags(rg_ctx *ctx, int flags[2]) {
    rg__cuda_state *s = rg__cuda(ctx);
    if (!RG__CUDA_TRY(ctx, cudaMemcpyAsync(rg__cuda_flags(s->host), rg__cuda_flags(s->partials), 2 * sizeof(int),
                                           cudaMemcpyDeviceToHost, s->stream)) ||
        !RG__CUDA_TRY(ctx, cudaStreamSynchronize(s->stream)))
        return 0;
    flags[0] = rg__cuda_flags(s->host)[0];
    flags[1] = rg__cuda_flags(s->host)[1];
    return 1;
}

/* A bad id or label found on the device: download the lists and let the CPU's checks name
   the first offender, with the same message as the CPU backend. */
static void rg__cuda_xent_explain(rg_ctx *ctx, const int32_t *labels, const int32_t *rows, int64_t n,
                                  int64_t n_logit_rows, int64_t cols) {
    int32_t *hl = (int32_t *)REVGNN_MALLOC(ctx, (size_t)n_logit_rows * sizeof(int32_t) + 1);
    int32_t *hr = rows ? (int32_t *)REVGNN_MALLOC(ctx, (size_t)n * sizeof(int32_t) + 1) : NULL;
    if (!hl || (rows && !hr)) {
        RG__OP_FAIL(ctx, RG_ERR_OOM, "softmax cross-entropy: out of host memory explaining a bad row list");
    } else {
        rg__cuda_copy(ctx, hl, labels, (size_t)n_logit_rows * sizeof(int32_t), RG_DEVICE_TO_HOST);
        if (rows) rg__cuda_copy(ctx, hr, rows, (size_t)n * sizeof(int32_t), RG_DEVICE_TO_HOST);
        if (ctx->status == RG_OK) rg__xent_ids_ok(ctx, hl, hr, n, n_logit_rows, cols);
    }
    REVGNN_FREE(ctx, hl);
    REVGNN_FREE(ctx, hr);
}

/* ... and the first repeated entry of a row list */
static void rg__cuda_xent_explain_repeat(rg_ctx *ctx, const int32_t *rows, int64_t n, int64_t n_logit_rows) {
    int32_t *hr = (int32_t *)REVGNN_MALLOC(ctx, (size_t)n * sizeof(int32_t) + 1);
    unsigned char *seen = (unsigned char *)REVGNN_MALLOC(ctx, (size_t)n_logit_rows + 1);
    int64_t k;
    if (!hr || !seen) {
        RG__OP_FAIL(ctx, RG_ERR_OOM, "softmax cross-entropy: out of host memory explaining a bad row list");
    } else {
        memset(seen, 0, (size_t)n_logit_rows);
        rg__cuda_copy(ctx, hr, rows, (size_t)n * sizeof(int32_t), RG_DEVICE_TO_HOST);
        for (k = 0; ctx->status == RG_OK && k < n; k++) {
            if (seen[hr[k]]) rg__xent_repeat_fail(ctx, k, hr[k]);
            seen[hr[k]] = 1;
        }
    }
    REVGNN_FREE(ctx, hr);
    REVGNN_FREE(ctx, seen);
}

/* The CPU's contract: ids and labels are checked before anything is written (dlogits
   untouched on a bad one), rows not listed get zero, a repeated id zeroes dlogits. */
static double rg__cuda_softmax_xent(rg_ctx *ctx, rg_real *dlogits, const rg_real *logits, const int32_t *labels,
                                    const int32_t *rows, int64_t n, int64_t n_logit_rows, int64_t cols, double scale) {
    rg__cuda_state *s = rg__cuda(ctx);
    int *flags = rg__cuda_flags(s->partials), seen[2] = {0, 0};
    double *loss;
    if (!RG__CUDA_TRY(ctx, cudaMemsetAsync(flags, 0, 2 * sizeof(int), s->stream))) return 0;
    {
        rg__xent_range_fn f = {flags, labels, rows, n_logit_rows, cols};
        rg__cuda_each(ctx, n, f, "softmax_xent (ids)");
    }
    if (!rg__cuda_read_flags(ctx, seen)) return 0;
    if (seen[0]) {
        rg__cuda_xent_explain(ctx, labels, rows, n, n_logit_rows, cols);
        return 0;
    }
    if (rows) {
        rg__xent_mark_fn m = {(int32_t *)dlogits, rows, cols};
        rg__xent_repeat_fn r = {flags, (const int32_t *)dlogits, rows, cols};
        rg__cuda_fill(ctx, dlogits, n_logit_rows * cols, 0);
        rg__cuda_each(ctx, n, m, "softmax_xent (marks)");
        rg__cuda_each(ctx, n, r, "softmax_xent (repeats)");
        if (!rg__cuda_read_flags(ctx, seen)) return 0;
        if (seen[1]) {
            rg__cuda_fill(ctx, dlogits, n_logit_rows * cols, 0);
            rg__cuda_xent_explain_repeat(ctx, rows, n, n_logit_rows);
            return 0;
        }
    }
    if (n <= 0) return 0;
    loss = (double *)rg__cuda_scratch(ctx, (size_t)n * sizeof(double));
    if (!loss) return 0;
    {
        rg__xent_fn f = {dlogits, loss, logits, labels, rows, cols, scale};
        rg__read_fn sum = {loss};
        rg__cuda_rows(ctx, n, f, "softmax_xent");
        return rg__cuda_reduce(ctx, n, sum, "softmax_xent (sum)");
    }
}

/* PyTorch's arithmetic, as rg__cpu_adam */
struct rg__adam_fn {
    rg_real *params, *m, *v;
    const rg_real *grads;
    double lr, beta1, beta2, eps, weight_decay, step_size, bc2_sqrt;
    int decoupled;
    __device__ void operator()(int64_t i) const {
        double p = params[i], g = grads[i], mi, vi;
        if (decoupled) p *= 1.0 - lr * weight_decay;
        else g += weight_decay * p;
        mi = beta1 * m[i] + (1.0 - beta1) * g;
        vi = beta2 * v[i] + (1.0 - beta2) * g * g;
        m[i] = (rg_real)mi;
        v[i] = (rg_real)vi;
        params[i] = (rg_real)(p - step_size * mi / (sqrt(vi) / bc2_sqrt + eps));
    }
};
static void rg__cuda_adam(rg_ctx *ctx, rg_real *params, const rg_real *grads, rg_real *m, rg_real *v, int64_t n,
                          double lr, double beta1, double beta2, double eps, double weight_decay, int decoupled,
                          int64_t step) {
    rg__adam_fn f;
    f.params = params; f.m = m; f.v = v; f.grads = grads;
    f.lr = lr; f.beta1 = beta1; f.beta2 = beta2; f.eps = eps; f.weight_decay = weight_decay; f.decoupled = decoupled;
    f.step_size = lr / (1.0 - pow(beta1, (double)step));
    f.bc2_sqrt = sqrt(1.0 - pow(beta2, (double)step));
    rg__cuda_each(ctx, n, f, "adam");
}

/* ---- graph convolutions: GCN, SAGE, GAT ---- */

/* out_r = rs[r] (sum_k ns[n_k] x_{n_k} [+ ns[r] x_r for GCN]) over the list of row r, as
   rg__cpu_gather: neighbour nbr[k], or nbr[edge[k]] over the transpose; NULL scales are 1;
   GCN skips self-loops and adds the implicit one */
struct rg__gather_fn {
    rg_real *out;
    const rg_real *x;
    int64_t dim;
    int gcn;
    const int64_t *ptr, *edge;
    const int32_t *nbr;
    const rg_real *rs, *ns;
    __device__ void operator()(int64_t r, int lane) const {
        int64_t c, k;
        for (c = lane; c < dim; c += 32) {
            double acc = gcn ? (double)ns[r] * x[r * dim + c] : 0.0;
            for (k = ptr[r]; k < ptr[r + 1]; k++) {
                int64_t j = nbr[edge ? edge[k] : k];
                if (gcn && j == r) continue;
                acc += (ns ? (double)ns[j] : 1.0) * x[j * dim + c];
            }
            out[r * dim + c] = (rg_real)(rs ? rs[r] * acc : acc);
        }
    }
};
static void rg__cuda_gather(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t n, int64_t dim, int gcn,
                            const int64_t *ptr, const int64_t *edge, const int32_t *nbr, const rg_real *rs,
                            const rg_real *ns) {
    rg__gather_fn f = {out, x, dim, gcn, ptr, edge, nbr, rs, ns};
    rg__cuda_rows(ctx, n, f, "spmm");
}

static void rg__cuda_spmm(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t n, int64_t dim, rg_aggr aggr,
                          const int64_t *rowptr, const int32_t *src, const rg_real *inv_deg, const rg_real *gcn_dinv) {
    rg__spmm_by_gather(rg__cuda_gather, 0, ctx, out, x, n, dim, aggr, rowptr, NULL, src, inv_deg, gcn_dinv);
}
static void rg__cuda_spmm_t(rg_ctx *ctx, rg_real *out, const rg_real *x, int64_t n, int64_t dim, rg_aggr aggr,
                            const int64_t *t_rowptr, const int64_t *t_edge, const int32_t *dst, const rg_real *inv_deg,
                            const rg_real *gcn_dinv) {
    rg__spmm_by_gather(rg__cuda_gather, 1, ctx, out, x, n, dim, aggr, t_rowptr, t_edge, dst, inv_deg, gcn_dinv);
}

__device__ __forceinline__ double rg__cuda_leaky(double z) { return z > 0 ? z : RG_GAT_NEG_SLOPE * z; }

/* alpha_ij of head hd from the score halves and the (stored, rg_real) lse of i */
__device__ __forceinline__ double rg__cuda_gat_alpha(const rg_real *s_src, const rg_real *s_dst, double lse_i,
                                                     int64_t i, int64_t j, int64_t hd, int64_t heads) {
    return exp(rg__cuda_leaky((double)s_src[j * heads + hd] + s_dst[i * heads + hd]) - lse_i);
}

/* dL/dz_ij = alpha_ij (gh - dd_i) LeakyReLU'(z_ij), as rg__gat_dz */
__device__ __forceinline__ double rg__cuda_gat_dz(const rg_real *s_src, const rg_real *s_dst, const rg_real *lse,
                                                  double dd_i, int64_t i, int64_t j, int64_t hd, int64_t heads,
                                                  double gh) {
    double z = (double)s_src[j * heads + hd] + s_dst[i * heads + hd];
    return exp(rg__cuda_leaky(z) - lse[i * heads + hd]) * (gh - dd_i) * (z > 0 ? 1.0 : RG_GAT_NEG_SLOPE);
}

/* g_i of head hd: dy's head slice (concat) or dy_i, to be scaled by 1/H (mean) */
__device__ __forceinline__ const rg_real *rg__cuda_gat_g(const rg_real *dy, int64_t i, int64_t hd, int64_t heads,
                                                         int64_t f, int concat) {
    return concat ? dy + (i * heads + hd) * f : dy + i * f;
}

/* one warp per (node, head): the two dot products with the attention vectors */
struct rg__gat_scores_fn {
    rg_real *s_src, *s_dst;
    const rg_real *h, *att_src, *att_dst;
    int64_t heads, f;
    __device__ void operator()(int64_t ih, int lane) const {
        const rg_real *hi = h + ih * f;
        int64_t hd = ih % heads;
        double a = rg__warp_dot(hi, att_src + hd * f, f, lane), b = rg__warp_dot(hi, att_dst + hd * f, f, lane);
        if (lane == 0) {
            s_src[ih] = (rg_real)a;
            s_dst[ih] = (rg_real)b;
        }
    }
};
static void rg__cuda_gat_scores(rg_ctx *ctx, rg_real *s_src, rg_real *s_dst, const rg_real *h, const rg_real *att_src,
                                const rg_real *att_dst, int64_t n, int64_t heads, int64_t f) {
    rg__gat_scores_fn fn = {s_src, s_dst, h, att_src, att_dst, heads, f};
    rg__cuda_rows(ctx, n * heads, fn, "gat_scores");
}

/* One warp per destination i. Per head: the max score and the sum of exponentials with
   lanes over the edges (self-loops skipped, i itself once), then the alpha-weighted sum of
   h with lanes over the channels and the edges in CSR order. A lane handles the same
   channels in every head, so the mean over heads reads only what that lane wrote. */
struct rg__gat_aggregate_fn {
    rg_real *y, *agg, *lse;
    const rg_real *h, *s_src, *s_dst;
    const int64_t *rowptr;
    const int32_t *src;
    int64_t heads, f;
    int concat;
    __device__ void operator()(int64_t i, int lane) const {
        const int64_t hf = heads * f, beg = rowptr[i], end = rowptr[i + 1];
        int64_t hd, k, c;
        for (hd = 0; hd < heads; hd++) {
            const double sd = s_dst[i * heads + hd], self = rg__cuda_leaky((double)s_src[i * heads + hd] + sd);
            double m = self, sum = 0, l;
            rg_real lf;
            for (k = beg + lane; k < end; k += 32)
                if (src[k] != i) m = fmax(m, rg__cuda_leaky((double)s_src[(int64_t)src[k] * heads + hd] + sd));
            m = rg__warp_max(m);
            if (lane == 0) sum = exp(self - m);
            for (k = beg + lane; k < end; k += 32)
                if (src[k] != i) sum += exp(rg__cuda_leaky((double)s_src[(int64_t)src[k] * heads + hd] + sd) - m);
            lf = (rg_real)(m + log(rg__warp_sum(sum)));
            l = lf;
            if (lane == 0) lse[i * heads + hd] = lf;
            for (c = lane; c < f; c += 32) {
                double acc = rg__cuda_gat_alpha(s_src, s_dst, l, i, i, hd, heads) * h[i * hf + hd * f + c];
                for (k = beg; k < end; k++) {
                    int64_t j = src[k];
                    if (j == i) continue;
                    acc += rg__cuda_gat_alpha(s_src, s_dst, l, i, j, hd, heads) * h[j * hf + hd * f + c];
                }
                agg[i * hf + hd * f + c] = (rg_real)acc;
                if (concat) y[i * hf + hd * f + c] = (rg_real)acc;
            }
        }
        if (!concat)
            for (c = lane; c < f; c += 32) {
                double s = 0;
                for (hd = 0; hd < heads; hd++) s += agg[i * hf + hd * f + c];
                y[i * f + c] = (rg_real)(s / (double)heads);
            }
    }
};
static void rg__cuda_gat_aggregate(rg_ctx *ctx, rg_real *y, rg_real *agg, rg_real *lse, const rg_real *h,
                                   const rg_real *s_src, const rg_real *s_dst, const int64_t *rowptr,
                                   const int32_t *src, int64_t n, int64_t heads, int64_t f, int concat) {
    rg__gat_aggregate_fn fn = {y, agg, lse, h, s_src, s_dst, rowptr, src, heads, f, concat};
    rg__cuda_rows(ctx, n, fn, "gat_aggregate");
}

/* One warp per destination i and head: dd_i = g_i . agg_i, then ds_dst_i = sum_j dz_ij, each
   g_i . h_j a warp dot, the edges in CSR order (i itself first). */
struct rg__gat_backward_dst_fn {
    rg_real *ds_dst, *dd;
    const rg_real *dy, *h, *agg, *s_src, *s_dst, *lse;
    const int64_t *rowptr;
    const int32_t *src;
    int64_t heads, f;
    int concat;
    __device__ void operator()(int64_t i, int lane) const {
        const int64_t hf = heads * f;
        const double gs = concat ? 1.0 : 1.0 / (double)heads;
        int64_t hd, k;
        for (hd = 0; hd < heads; hd++) {
            const rg_real *g = rg__cuda_gat_g(dy, i, hd, heads, f, concat);
            const rg_real ddf = (rg_real)(gs * rg__warp_dot(g, agg + i * hf + hd * f, f, lane));
            double acc = rg__cuda_gat_dz(s_src, s_dst, lse, ddf, i, i, hd, heads,
                                         gs * rg__warp_dot(g, h + i * hf + hd * f, f, lane));
            for (k = rowptr[i]; k < rowptr[i + 1]; k++) {
                int64_t j = src[k];
                if (j == i) continue;
                acc += rg__cuda_gat_dz(s_src, s_dst, lse, ddf, i, j, hd, heads,
                                       gs * rg__warp_dot(g, h + j * hf + hd * f, f, lane));
            }
            if (lane == 0) {
                dd[i * heads + hd] = ddf;
                ds_dst[i * heads + hd] = (rg_real)acc;
            }
        }
    }
};
static void rg__cuda_gat_backward_dst(rg_ctx *ctx, rg_real *ds_dst, rg_real *dd, const rg_real *dy, const rg_real *h,
                                      const rg_real *agg, const rg_real *s_src, const rg_real *s_dst,
                                      const rg_real *lse, const int64_t *rowptr, const int32_t *src, int64_t n,
                                      int64_t heads, int64_t f, int concat) {
    rg__gat_backward_dst_fn fn = {ds_dst, dd, dy, h, agg, s_src, s_dst, lse, rowptr, src, heads, f, concat};
    rg__cuda_rows(ctx, n, fn, "gat_backward_dst");
}

/* One warp per source j and head: ds_src_j from the out-neighbours (j first, warp dots),
   then dh_j with lanes over the channels. */
struct rg__gat_backward_src_fn {
    rg_real *dh, *ds_src;
    const rg_real *dy, *h, *s_src, *s_dst, *lse, *dd, *ds_dst, *att_src, *att_dst;
    const int64_t *t_rowptr, *t_edge;
    const int32_t *dst;
    int64_t heads, f;
    int concat;
    __device__ void operator()(int64_t j, int lane) const {
        const int64_t hf = heads * f, beg = t_rowptr[j], end = t_rowptr[j + 1];
        const double gs = concat ? 1.0 : 1.0 / (double)heads;
        int64_t hd, k, c;
        for (hd = 0; hd < heads; hd++) {
            const rg_real *hj = h + j * hf + hd * f;
            const double dsd = ds_dst[j * heads + hd];
            double ds = rg__cuda_gat_dz(s_src, s_dst, lse, dd[j * heads + hd], j, j, hd, heads,
                                        gs * rg__warp_dot(rg__cuda_gat_g(dy, j, hd, heads, f, concat), hj, f, lane));
            for (k = beg; k < end; k++) {
                int64_t i = dst[t_edge[k]];
                if (i == j) continue;
                ds += rg__cuda_gat_dz(s_src, s_dst, lse, dd[i * heads + hd], i, j, hd, heads,
                                      gs * rg__warp_dot(rg__cuda_gat_g(dy, i, hd, heads, f, concat), hj, f, lane));
            }
            if (lane == 0) ds_src[j * heads + hd] = (rg_real)ds;
            for (c = lane; c < f; c += 32) {
                double acc = gs * rg__cuda_gat_alpha(s_src, s_dst, lse[j * heads + hd], j, j, hd, heads) *
                             rg__cuda_gat_g(dy, j, hd, heads, f, concat)[c];
                for (k = beg; k < end; k++) {
                    int64_t i = dst[t_edge[k]];
                    if (i == j) continue;
                    acc += gs * rg__cuda_gat_alpha(s_src, s_dst, lse[i * heads + hd], i, j, hd, heads) *
                           rg__cuda_gat_g(dy, i, hd, heads, f, concat)[c];
                }
                dh[j * hf + hd * f + c] = (rg_real)(acc + ds * att_src[hd * f + c] + dsd * att_dst[hd * f + c]);
            }
        }
    }
};
static void rg__cuda_gat_backward_src(rg_ctx *ctx, rg_real *dh, rg_real *ds_src, const rg_real *dy, const rg_real *h,
                                      const rg_real *s_src, const rg_real *s_dst, const rg_real *lse,
                                      const rg_real *dd, const rg_real *ds_dst, const rg_real *att_src,
                                      const rg_real *att_dst, const int64_t *t_rowptr, const int64_t *t_edge,
                                      const int32_t *dst, int64_t n, int64_t heads, int64_t f, int concat) {
    rg__gat_backward_src_fn fn = {dh,      ds_src,  dy,       h,      s_src, s_dst, lse,  dd,    ds_dst,
                                  att_src, att_dst, t_rowptr, t_edge, dst,   heads, f,    concat};
    rg__cuda_rows(ctx, n, fn, "gat_backward_src");
}

/* column (hd, c) of both attention gradients: sums over nodes of ds[j, hd] h[j, col] */
struct rg__gat_att_fn {
    const rg_real *ds_src, *ds_dst, *h;
    int64_t heads, f;
    __device__ void operator()(int64_t j, int64_t col, double *v) const {
        int64_t hd = col / f;
        double hv = h[j * heads * f + col];
        v[0] = (double)ds_src[j * heads + hd] * hv;
        v[1] = (double)ds_dst[j * heads + hd] * hv;
    }
};
static void rg__cuda_gat_att_grad(rg_ctx *ctx, rg_real *datt_src, rg_real *datt_dst, const rg_real *ds_src,
                                  const rg_real *ds_dst, const rg_real *h, int64_t n, int64_t heads, int64_t f) {
    rg__gat_att_fn fn = {ds_src, ds_dst, h, heads, f};
    rg__add_sums2_fn g = {datt_src, datt_dst};
    rg__cuda_colreduce<2>(ctx, n, heads * f, fn, g, "gat_att_grad");
}

/* ---- models ---- */

struct rg__dot_fn {
    const rg_real *x, *y;
    __device__ double operator()(int64_t i) const { return (double)x[i] * y[i]; }
};
static double rg__cuda_dot(rg_ctx *ctx, const rg_real *x, const rg_real *y, int64_t n) {
    rg__dot_fn f = {x, y};
    return rg__cuda_reduce(ctx, n, f, "dot");
}

/* index i runs over the node-major layout (N, C, W); gm is the same value's group-major place */
struct rg__regroup_fn {
    rg_real *dst;
    const rg_real *src;
    int64_t groups, n, width;
    int to_group_major;
    __device__ void operator()(int64_t i) const {
        int64_t w = i % width, g = (i / width) % groups, r = i / (width * groups), gm = (g * n + r) * width + w;
        if (to_group_major) dst[gm] = src[i];
        else dst[i] = src[gm];
    }
};
static void rg__cuda_regroup(rg_ctx *ctx, rg_real *dst, const rg_real *src, int64_t groups, int64_t n, int64_t width,
                             int to_group_major) {
    rg__regroup_fn f = {dst, src, groups, n, width, to_group_major};
    rg__cuda_each(ctx, groups * n * width, f, "regroup");
}

static const rg_backend rg__cuda_backend = {
    "cuda",
    rg__cuda_alloc,
    rg__cuda_free,
    rg__cuda_copy,
    rg__cuda_synchronize,
    rg__cuda_destroy,
    rg__cuda_gemm,
    rg__cuda_fill,
    rg__cuda_axpby,
    rg__cuda_add_bias,
    rg__cuda_col_sum,
    rg__cuda_relu_forward,
    rg__cuda_relu_backward,
    rg__cuda_dropout,
    rg__cuda_layernorm_forward,
    rg__cuda_layernorm_backward,
    rg__cuda_sum_squares,
    rg__cuda_batchnorm_forward,
    rg__cuda_batchnorm_backward,
    rg__cuda_gen_aggregate_forward,
    rg__cuda_gen_aggregate_backward,
    rg__cuda_msgnorm_forward,
    rg__cuda_msgnorm_backward,
    rg__cuda_bce_logits,
    rg__cuda_softmax_xent,
    rg__cuda_adam,
    /* graph convolutions */
    rg__cuda_spmm,
    rg__cuda_spmm_t,
    rg__cuda_gat_scores,
    rg__cuda_gat_aggregate,
    rg__cuda_gat_backward_dst,
    rg__cuda_gat_backward_src,
    rg__cuda_gat_att_grad,
    /* models */
    rg__cuda_dot,
    rg__cuda_regroup,
};

/* ---- public ---- */

RGDEF int rg_cuda_device_count(void) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return count;
}

RGDEF rg_status rg_cuda_set_tf32(rg_ctx *ctx, int enable) {
    rg__cuda_state *s;
    RG__CHECK_ARG(ctx && ctx->ops == &rg__cuda_backend, "rg_cuda_set_tf32: not a CUDA context (%s)",
                  ctx ? ctx->ops->name : "NULL");
    s = rg__cuda(ctx);
    RG__CUBLAS_TRY(ctx, cublasSetMathMode(s->cublas, enable ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    return rg_ctx_take_status(ctx);
}

RGDEF rg_status rg_cuda_create(rg_ctx **out, int device, uint64_t seed) {
    rg_ctx *ctx;
    rg__cuda_state *s;
    cudaError_t err;
    int count = 0;
    RG__CHECK_ARG(out != NULL, "rg_cuda_create: NULL output");
    *out = NULL;
    err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        return RG__FAIL(RG_ERR_DEVICE, "rg_cuda_create: cudaGetDeviceCount: %s (%s)", cudaGetErrorString(err),
                        cudaGetErrorName(err));
    }
    RG__CHECK_ARG(device >= 0 && device < count, "rg_cuda_create: device %d does not exist (%d CUDA device%s)", device,
                  count, count == 1 ? "" : "s");
    ctx = (rg_ctx *)REVGNN_MALLOC(NULL, sizeof(rg_ctx));
    if (!ctx) return RG__FAIL(RG_ERR_OOM, "rg_cuda_create: out of host memory");
    memset(ctx, 0, sizeof *ctx);
    ctx->ops = &rg__cuda_backend;
    ctx->n_threads = 1;
    ctx->seed = seed;
    s = new (std::nothrow) rg__cuda_state();
    if (!s) {
        REVGNN_FREE(NULL, ctx);
        return RG__FAIL(RG_ERR_OOM, "rg_cuda_create: out of host memory");
    }
    ctx->backend = s;
    /* CUBLAS_DEFAULT_MATH: plain FP32 products, no TF32 unless rg_cuda_set_tf32 */
    if (!RG__CUDA_TRY(ctx, cudaSetDevice(device)) ||
        !RG__CUDA_TRY(ctx, cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking)) ||
        !RG__CUBLAS_TRY(ctx, cublasCreate(&s->cublas)) || !RG__CUBLAS_TRY(ctx, cublasSetStream(s->cublas, s->stream)) ||
        !RG__CUBLAS_TRY(ctx, cublasSetMathMode(s->cublas, CUBLAS_DEFAULT_MATH)) ||
        !RG__CUBLAS_TRY(ctx, cublasSetAtomicsMode(s->cublas, CUBLAS_ATOMICS_NOT_ALLOWED)) ||
        !RG__CUDA_TRY(ctx, cudaMalloc((void **)&s->partials, (RG__CUDA_REDUCE_BLOCKS + 1) * sizeof(double))) ||
        !RG__CUDA_TRY(ctx, cudaMallocHost((void **)&s->host, (RG__CUDA_REDUCE_BLOCKS + 1) * sizeof(double)))) {
        rg_status st = rg_ctx_take_status(ctx);
        rg_ctx_destroy(ctx);
        return st;
    }
    *out = ctx;
    return RG_OK;
}

#endif /* REVGNN_IMPLEMENTATION && !REVGNN_CUDA_IMPLEMENTATION_DONE */
