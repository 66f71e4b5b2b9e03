/* memory_scaling: peak memory and time of a training step against depth and group count,
   the measurement behind the paper's constant-memory plots (Table 2, Figure 1).

   For each architecture it trains a warm-up step and a timed one at each depth of the sweep
   (default 3, 14, 56, 224, 1001; an architecture stops at the first depth whose planned peak
   exceeds --mem-limit and records OOM there), then sweeps the group count of rev at a fixed
   depth. The default graph (10,000 nodes, hidden 16) is large enough that activations, not
   parameters, dominate rev's memory at 1001 layers, as on ogbn-proteins. It writes
   memory_scaling.csv and draws memory_scaling.svg (activation, parameter and total memory
   against depth; rev's activations against groups) itself.

   Build and run (CPU):
       make memory-scaling                       # the default sweep into build/bench-results
       ./build/memory_scaling --quick --out /tmp # small sweep
       ./build/memory_scaling --out bench/results
   CUDA (when built with nvcc, see `make cuda`):
       ./build/cuda/memory_scaling --device cuda --mem-limit 60 --out bench/results
*/
#define _POSIX_C_SOURCE 200809L /* clock_gettime, sysconf */
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
#ifdef __CUDACC__
#include "revgnn_cuda.cuh"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define MAX_DEPTHS 32
#define MAX_ROWS 256

typedef struct options {
    int64_t nodes, degree, in_dim, edge_dim, out_dim, hidden, groups, group_depth;
    rg_conv_kind conv;
    const char *data; /* an OGB-layout dataset instead of the synthetic graph */
    int steps, threads, quick, cuda;
    double mem_limit; /* bytes */
    const char *out_dir;
    int64_t depths[MAX_DEPTHS];
    int n_depths;
} options;

typedef struct row {
    rg_arch arch;
    int64_t layers, groups, params;
    size_t state, planned, peak;
    double ms;
    int oom;
    int group_sweep;
} row;

static double machine_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 8e9;
}

static void usage(FILE *f, const char *prog) {
    fprintf(f,
            "usage: %s [options]\n"
            "  --nodes N        synthetic graph size (default 10000; --quick 2000)\n"
            "  --degree K       average in-degree (default 5)\n"
            "  --in-dim F  --edge-dim F'  --out-dim T   feature widths of the synthetic graph (8, 8, 16)\n"
            "  --data DIR       a dataset in the OGB raw layout instead of the synthetic graph\n"
            "  --hidden D       channels (default 16; --quick 8)\n"
            "  --groups C       groups of rev and wt-rev in the depth sweep (default 2)\n"
            "  --conv NAME      gen | gcn | sage | gat (default gen)\n"
            "  --depths LIST    comma-separated depths (default 3,14,56,224,1001; --quick 3,14,56)\n"
            "  --group-depth L  depth of the group sweep (default 112; --quick 14)\n"
            "  --steps S        timed steps per configuration after one warm-up (default 1)\n"
            "  --mem-limit GB   skip (OOM) configurations planned above this (default 2, at most 80%% of RAM)\n"
            "  --threads T      CPU threads (default: all)\n"
            "  --device cpu|cuda\n"
            "  --out DIR        where memory_scaling.csv and .svg go (default .)\n"
            "  --quick          a reduced sweep for scripts (about 20 s on a quiet 2-core machine)\n",
            prog);
}

static int parse_args(int argc, char **argv, options *o) {
    int i, depths_given = 0;
    int64_t v;
    memset(o, 0, sizeof *o);
    o->nodes = 10000; o->degree = 5; o->in_dim = 8; o->edge_dim = 8; o->out_dim = 16; o->hidden = 16;
    o->groups = 2; o->group_depth = 112; o->conv = RG_CONV_GEN; o->steps = 1; o->out_dir = ".";
    o->mem_limit = 0.8 * machine_memory() < 2e9 ? 0.8 * machine_memory() : 2e9;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout, argv[0]); exit(0); }
        else if (!strcmp(a, "--quick")) o->quick = 1;
        else if (!strcmp(a, "--nodes")) { if (!bench_parse_int("memory_scaling", a, val, 2, &o->nodes)) return 0; i++; }
        else if (!strcmp(a, "--degree")) { if (!bench_parse_int("memory_scaling", a, val, 1, &o->degree)) return 0; i++; }
        else if (!strcmp(a, "--in-dim")) { if (!bench_parse_int("memory_scaling", a, val, 1, &o->in_dim)) return 0; i++; }
        else if (!strcmp(a, "--edge-dim")) { if (!bench_parse_int("memory_scaling", a, val, 0, &o->edge_dim)) return 0; i++; }
        else if (!strcmp(a, "--out-dim")) { if (!bench_parse_int("memory_scaling", a, val, 1, &o->out_dim)) return 0; i++; }
        else if (!strcmp(a, "--data")) { if (!val) { fprintf(stderr, "memory_scaling: --data needs a folder\n"); return 0; } o->data = val; i++; }
        else if (!strcmp(a, "--hidden")) { if (!bench_parse_int("memory_scaling", a, val, 1, &o->hidden)) return 0; i++; }
        else if (!strcmp(a, "--groups")) { if (!bench_parse_int("memory_scaling", a, val, 2, &o->groups)) return 0; i++; }
        else if (!strcmp(a, "--group-depth")) { if (!bench_parse_int("memory_scaling", a, val, 1, &o->group_depth)) return 0; i++; }
        else if (!strcmp(a, "--steps")) { if (!bench_parse_int("memory_scaling", a, val, 1, &v)) return 0; o->steps = (int)v; i++; }
        else if (!strcmp(a, "--threads")) { if (!bench_parse_int("memory_scaling", a, val, 1, &v)) return 0; o->threads = (int)v; i++; }
        else if (!strcmp(a, "--out")) { if (!val) { fprintf(stderr, "memory_scaling: --out needs a folder\n"); return 0; } o->out_dir = val; i++; }
        else if (!strcmp(a, "--conv")) {
            if (rg_conv_parse(val, &o->conv) != RG_OK) { fprintf(stderr, "memory_scaling: %s\n", rg_last_error()); return 0; }
            i++;
        } else if (!strcmp(a, "--mem-limit")) {
            char *end;
            double gb = val ? strtod(val, &end) : 0;
            if (!val || *end || gb <= 0) { fprintf(stderr, "memory_scaling: --mem-limit needs a size in GB, got '%s'\n", val ? val : ""); return 0; }
            o->mem_limit = gb * 1e9;
            i++;
        } else if (!strcmp(a, "--device")) {
            if (!val || (strcmp(val, "cpu") && strcmp(val, "cuda"))) { fprintf(stderr, "memory_scaling: --device is cpu or cuda\n"); return 0; }
            o->cuda = !strcmp(val, "cuda");
#ifndef __CUDACC__
            if (o->cuda) { fprintf(stderr, "memory_scaling: built without CUDA; build with `make cuda` for --device cuda\n"); return 0; }
#endif
            i++;
        } else if (!strcmp(a, "--depths")) {
            const char *p = val;
            o->n_depths = 0;
            while (p && *p && o->n_depths < MAX_DEPTHS) {
                char *end;
                long long d = strtoll(p, &end, 10);
                if (end == p || d < 1 || (*end && *end != ',')) { fprintf(stderr, "memory_scaling: bad --depths '%s'\n", val); return 0; }
                o->depths[o->n_depths++] = d;
                p = *end ? end + 1 : end;
            }
            if (!o->n_depths) { fprintf(stderr, "memory_scaling: --depths needs a list\n"); return 0; }
            depths_given = 1;
            i++;
        } else {
            fprintf(stderr, "memory_scaling: unknown option '%s'\n", a);
            usage(stderr, argv[0]);
            return 0;
        }
    }
    if (o->quick) {
        o->nodes = 2000; o->hidden = 8; o->group_depth = 14;
    }
    if (!depths_given) {
        static const int64_t d[] = {3, 14, 56, 224, 1001};
        memcpy(o->depths, d, sizeof d);
        o->n_depths = o->quick ? 3 : 5;
    }
    return 1;
}

static rg_status make_ctx(const options *o, rg_ctx **ctx) {
#ifdef __CUDACC__
    if (o->cuda) return rg_cuda_create(ctx, 0, 1);
#endif
    return rg_ctx_create_cpu(ctx, o->threads, 1);
}

/* The host graph and features every configuration uses: the synthetic graph (every node
   gets `degree` random sources, uniform edge features) or a dataset from --data. */
static rg_graph host_graph;
static rg_real *host_x;

static rg_status make_host_data(options *o) {
    int64_t m = o->nodes * o->degree, k;
    int32_t *src, *dst;
    rg_real *feat;
    rg_status st = RG_ERR_OOM;
    if (o->data) {
        static rg_dataset ds;
        st = rg_dataset_load_ogb(NULL, o->data, NULL, &ds);
        if (st != RG_OK) return st;
        /* the graph and features stay for the whole run; the dataset's other arrays with them */
        host_graph = ds.graph;
        host_x = ds.x;
        o->nodes = ds.n_nodes;
        o->degree = ds.graph.n_edges / ds.n_nodes > 0 ? ds.graph.n_edges / ds.n_nodes : 1;
        o->in_dim = ds.x_dim;
        o->edge_dim = ds.graph.edge_dim;
        o->out_dim = ds.n_tasks;
        return RG_OK;
    }
    src = (int32_t *)malloc((size_t)m * sizeof(int32_t));
    dst = (int32_t *)malloc((size_t)m * sizeof(int32_t));
    feat = (rg_real *)malloc((size_t)(m * o->edge_dim + 1) * sizeof(rg_real));
    host_x = (rg_real *)malloc((size_t)(o->nodes * o->in_dim) * sizeof(rg_real));
    if (src && dst && feat && host_x) {
        for (k = 0; k < m; k++) {
            src[k] = (int32_t)(rg_rng_u64(7, 1, (uint64_t)k) % (uint64_t)o->nodes);
            dst[k] = (int32_t)(k / o->degree);
        }
        for (k = 0; k < m * o->edge_dim; k++) feat[k] = (rg_real)rg_rng_uniform(7, 2, (uint64_t)k);
        for (k = 0; k < o->nodes * o->in_dim; k++) host_x[k] = (rg_real)(2 * rg_rng_uniform(7, 3, (uint64_t)k) - 1);
        st = rg_graph_from_coo(&host_graph, o->nodes, m, src, dst, feat, o->edge_dim, NULL);
    }
    free(src);
    free(dst);
    free(feat);
    return st;
}

static rg_status make_graph(rg_ctx *ctx, const options *o, rg_graph *dev, rg_tensor *x) {
    rg_status st = rg_graph_to_device(ctx, &host_graph, dev);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, x, o->nodes, o->in_dim);
    if (st == RG_OK) st = rg_tensor_upload(ctx, *x, host_x);
    return st;
}

static rg_config make_config(const options *o, rg_arch arch, int64_t layers, int64_t groups) {
    rg_config c = rg_config_default();
    c.arch = arch;
    c.conv = o->conv;
    c.layers = layers;
    c.hidden = o->hidden;
    c.groups = (arch == RG_ARCH_REV || arch == RG_ARCH_WT_REV) ? groups : 1;
    c.in_dim = o->in_dim;
    c.edge_dim = o->conv == RG_CONV_GEN ? host_graph.edge_dim : 0;
    c.out_dim = o->out_dim;
    c.dropout = 0.1;
    c.aggr = RG_AGGR_SOFTMAX;
    c.deq_tol = 1e-3; /* DEQ: layers caps the Broyden iterations */
    c.deq_memory = 5;
    return c;
}

/* one configuration: plan, then (unless over the limit) warm-up + timed steps on a fresh context */
static int measure(const options *o, rg_arch arch, int64_t layers, int64_t groups, row *r) {
    rg_config c = make_config(o, arch, layers, groups);
    rg_memory_plan plan;
    rg_ctx *ctx = NULL;
    rg_model *m = NULL;
    rg_graph g;
    rg_tensor x, out, dout;
    rg_adam adam = rg_adam_default(1e-3);
    rg_status st;
    int s;
    double t0 = 0;
    memset(r, 0, sizeof *r);
    memset(&g, 0, sizeof g);
    x.data = out.data = dout.data = NULL;
    r->arch = arch;
    r->layers = layers;
    r->groups = c.groups;
    st = rg_model_memory_plan(&c, o->nodes, host_graph.n_edges, &plan);
    if (st != RG_OK) { fprintf(stderr, "memory_scaling: %s\n", rg_last_error()); return 0; }
    r->planned = plan.total;
    r->state = plan.state;
    if ((double)plan.total > o->mem_limit) { r->oom = 1; return 1; }
    st = make_ctx(o, &ctx);
    if (st == RG_OK) st = make_graph(ctx, o, &g, &x);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &out, o->nodes, c.out_dim);
    if (st == RG_OK) st = rg_tensor_alloc(ctx, &dout, o->nodes, c.out_dim);
    if (st == RG_OK) st = rg_tensor_init_uniform(ctx, dout, -1e-3, 1e-3, 4);
    if (st == RG_OK) st = rg_model_create(ctx, &c, &m);
    for (s = 0; st == RG_OK && s <= o->steps; s++) {
        if (s == 1) { rg_ctx_synchronize(ctx); t0 = (1e3 * bench_now_s()); }
        st = rg_model_forward(m, out, &g, x, RG_MODE_TRAIN, (uint64_t)s);
        if (st == RG_OK) st = rg_model_backward(m, rg_tensor_view(NULL, 0, 0), dout);
        if (st == RG_OK) st = rg_model_adam_step(m, &adam);
        if (st == RG_OK) st = rg_model_zero_grad(m);
    }
    if (st == RG_OK) st = rg_ctx_synchronize(ctx);
    if (st == RG_OK) {
        r->ms = ((1e3 * bench_now_s()) - t0) / o->steps;
        r->peak = rg_mem_peak(ctx);
        r->params = rg_model_num_params(m);
    } else {
        fprintf(stderr, "memory_scaling: %s L=%lld: %s\n", rg_arch_name(arch), (long long)layers, rg_last_error());
    }
    rg_model_destroy(m);
    rg_tensor_free(ctx, &x);
    rg_tensor_free(ctx, &out);
    rg_tensor_free(ctx, &dout);
    if (g.ctx) rg_graph_free(ctx, &g);
    rg_ctx_destroy(ctx);
    return st == RG_OK;
}

static void print_row(const options *o, const row *r) {
    if (r->oom)
        printf("%-9s L=%-5lld C=%lld | planned %9.1f MB > limit: OOM\n", rg_arch_name(r->arch), (long long)r->layers,
               (long long)r->groups, r->planned / 1e6);
    else
        printf("%-9s L=%-5lld C=%lld | peak %9.1f MB (activations %8.1f MB, planned %9.1f MB) | %9.1f ms/step\n",
               rg_arch_name(r->arch), (long long)r->layers, (long long)r->groups, r->peak / 1e6,
               (r->peak - r->state) / 1e6, r->planned / 1e6, r->ms);
    (void)o;
    fflush(stdout);
}

/* ---- output ---- */

static int write_csv(const options *o, const row *rows, int n, const char *path) {
    FILE *f = fopen(path, "w");
    int i;
    if (!f) { fprintf(stderr, "memory_scaling: cannot write %s: %s\n", path, strerror(errno)); return 0; }
    fprintf(f, "arch,conv,layers,hidden,groups,nodes,edges,params,state_bytes,planned_peak_bytes,peak_bytes,"
               "activation_peak_bytes,ms_per_step\n");
    for (i = 0; i < n; i++) {
        const row *r = &rows[i];
        if (r->oom)
            fprintf(f, "%s,%s,%lld,%lld,%lld,%lld,%lld,,%zu,%zu,OOM,OOM,OOM\n", rg_arch_name(r->arch),
                    rg_conv_name(o->conv), (long long)r->layers, (long long)o->hidden, (long long)r->groups,
                    (long long)o->nodes, (long long)host_graph.n_edges, r->state, r->planned);
        else
            fprintf(f, "%s,%s,%lld,%lld,%lld,%lld,%lld,%lld,%zu,%zu,%zu,%zu,%.2f\n", rg_arch_name(r->arch),
                    rg_conv_name(o->conv), (long long)r->layers, (long long)o->hidden, (long long)r->groups,
                    (long long)o->nodes, (long long)host_graph.n_edges, (long long)r->params, r->state,
                    r->planned, r->peak, r->peak - r->state, r->ms);
    }
    return fclose(f) == 0;
}

static const char *arch_color(rg_arch a) {
    static const char *const colors[] = {"#d62728", "#ff7f0e", "#1f77b4", "#9467bd", "#2ca02c", "#17becf"};
    return colors[a];
}

/* res-ckpt and wt-rev can lie on res and rev: dashed with hollow markers, both stay visible */
static int arch_dashed(rg_arch a) { return a == RG_ARCH_RES_CKPT || a == RG_ARCH_WT_REV; }

static void marker(FILE *f, double x, double y, rg_arch a) {
    if (arch_dashed(a))
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"white\" stroke=\"%s\" stroke-width=\"1.5\"/>\n", x, y,
                arch_color(a));
    else
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", x, y, arch_color(a));
}

static void line_start(FILE *f, rg_arch a) {
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", arch_color(a),
            arch_dashed(a) ? " stroke-dasharray=\"6 3\"" : "");
}

/* the 1-2-5 value at or below (down) or at or above (up) v > 0 */
static double nice125(double v, int up) {
    static const double m[] = {1, 2, 5, 10};
    double e = pow(10, floor(log10(v)));
    int k;
    if (up) {
        for (k = 0; k < 4; k++)
            if (m[k] * e >= v * (1 - 1e-9)) return m[k] * e;
        return 10 * e;
    }
    for (k = 3; k >= 0; k--)
        if (m[k] * e <= v * (1 + 1e-9)) return m[k] * e;
    return e;
}

/* A panel: its box in the picture and its axes' ranges (log or linear). */
typedef struct panel {
    double x, y, w, h, x0, x1, y0, y1;
    int logx, logy;
} panel;

static double pan_x(const panel *p, double v) {
    return p->x + p->w * (p->logx ? (log(v) - log(p->x0)) / (log(p->x1) - log(p->x0)) : (v - p->x0) / (p->x1 - p->x0));
}
static double pan_y(const panel *p, double v) {
    return p->y + p->h * (1 - (p->logy ? (log(v) - log(p->y0)) / (log(p->y1) - log(p->y0)) : (v - p->y0) / (p->y1 - p->y0)));
}

/* one axis's ticks: 1-2-5 on a log axis, multiples of a 1-2-5 step on a linear one */
static int pan_ticks(double lo, double hi, int logscale, double *t, int max) {
    int n = 0;
    if (logscale) {
        double e;
        int k;
        static const double m[] = {1, 2, 5};
        for (e = pow(10, floor(log10(lo))); e <= hi * 1.0001 && n < max; e *= 10)
            for (k = 0; k < 3 && n < max; k++)
                if (m[k] * e >= lo * 0.9999 && m[k] * e <= hi * 1.0001) t[n++] = m[k] * e;
    } else {
        double step = nice125((hi - lo) / 5, 1), v;
        for (v = lo; v <= hi * 1.0001 && n < max; v += step) t[n++] = v;
    }
    return n;
}

/* frame, gridlines at every tick (up to the top of the range), tick labels, axis titles */
static void pan_axes(FILE *f, const panel *p, const char *title, const char *xtitle, const char *ytitle) {
    double t[64];
    int n, i;
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">%s</text>\n",
            p->x + p->w / 2, p->y - 10, title);
    n = pan_ticks(p->y0, p->y1, p->logy, t, 64);
    for (i = 0; i < n; i++)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%g</text>\n",
                p->x, pan_y(p, t[i]), p->x + p->w, pan_y(p, t[i]), p->x - 5, pan_y(p, t[i]) + 4, t[i]);
    n = pan_ticks(p->x0, p->x1, p->logx, t, 64);
    for (i = 0; i < n; i++)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%g</text>\n",
                pan_x(p, t[i]), p->y, pan_x(p, t[i]), p->y + p->h, pan_x(p, t[i]), p->y + p->h + 15, t[i]);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n", p->x, p->y,
            p->w, p->h);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", p->x + p->w / 2, p->y + p->h + 34, xtitle);
    fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", p->x - 48,
            p->y + p->h / 2, ytitle);
}

/* what a depth-sweep panel plots from a row, in bytes */
typedef enum { Q_ACT, Q_STATE, Q_PEAK } quantity;

static double row_value(const row *r, quantity q) {
    return q == Q_ACT ? (double)(r->peak - r->state) : q == Q_STATE ? (double)r->state : (double)r->peak;
}

/* one line with point markers per architecture; OOM as a cross at the panel's top, labelled */
static void pan_series(FILE *f, const panel *p, const row *rows, int n, quantity q) {
    int a, i;
    for (a = 0; a < 6; a++) {
        int started = 0;
        for (i = 0; i < n; i++) {
            const row *r = &rows[i];
            if (r->group_sweep || r->oom || (int)r->arch != a) continue;
            if (!started) line_start(f, r->arch);
            started = 1;
            fprintf(f, "%.1f,%.1f ", pan_x(p, (double)r->layers), pan_y(p, row_value(r, q) / 1e6));
        }
        if (started) fprintf(f, "\"/>\n");
        for (i = 0; i < n; i++) {
            const row *r = &rows[i];
            double x = pan_x(p, (double)r->layers);
            if (r->group_sweep || (int)r->arch != a) continue;
            if (r->oom)
                fprintf(f, "<path d=\"M%.1f %.1f l8 8 m0 -8 l-8 8\" stroke=\"%s\" stroke-width=\"2\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"%s\">OOM</text>\n",
                        x - 4, p->y + 4, arch_color(r->arch), x - 10, p->y + 24, arch_color(r->arch));
            else
                marker(f, x, pan_y(p, row_value(r, q) / 1e6), r->arch);
        }
    }
}

/* Four panels: activation memory, parameter memory (with gradients and Adam's moments) and
   the total peak against depth (log-log, one line per architecture, OOM marked), and rev's
   activation memory against the group count; one legend for all. */
static int write_svg(const options *o, const row *rows, int n, const char *path) {
    FILE *f = fopen(path, "w");
    const double W = 980, H = 712, PW = 340, PH = 230, C1 = 90, C2 = 560, R1 = 85, R2 = 405;
    double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {0, 0, 0}, dmin = 1e18, dmax = 0, gmin = 1e18, gmax = 0, gy = 0;
    static const char *const titles[] = {"Activation memory", "Parameters, gradients, Adam state", "Total peak"};
    const double px[] = {C1, C2, C1}, py[] = {R1, R1, R2};
    panel p;
    int i, a, q, legend = 0;
    if (!f) { fprintf(stderr, "memory_scaling: cannot write %s: %s\n", path, strerror(errno)); return 0; }
    for (i = 0; i < n; i++) {
        const row *r = &rows[i];
        if (r->group_sweep) {
            gmin = r->groups < gmin ? r->groups : gmin;
            gmax = r->groups > gmax ? r->groups : gmax;
            if (!r->oom && (double)(r->peak - r->state) > gy) gy = (double)(r->peak - r->state);
            continue;
        }
        if (r->layers < dmin) dmin = (double)r->layers;
        if (r->layers > dmax) dmax = (double)r->layers;
        for (q = 0; q < 3 && !r->oom; q++) {
            double v = row_value(r, (quantity)q) / 1e6;
            if (v > 0 && v < lo[q]) lo[q] = v;
            if (v > hi[q]) hi[q] = v;
        }
    }
    if (dmax <= dmin) dmax = dmin * 10;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%.0f\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">Memory of one training step against "
               "depth: %s, %lld nodes, %lld edges, hidden %lld, %s</text>\n",
            W / 2, rg_conv_name(o->conv), (long long)o->nodes, (long long)host_graph.n_edges, (long long)o->hidden,
            o->cuda ? "CUDA" : "CPU");
    for (q = 0; q < 3; q++) {
        if (hi[q] <= 0) continue;
        p.x = px[q]; p.y = py[q]; p.w = PW; p.h = PH;
        p.x0 = nice125(dmin, 0); p.x1 = nice125(dmax, 1);
        p.y0 = nice125(lo[q] / 1.25, 0); p.y1 = nice125(hi[q] * 1.05, 1); /* no point on the frame */
        if (p.y1 <= p.y0) p.y1 = nice125(p.y0 * 1.01, 1);
        p.logx = p.logy = 1;
        pan_axes(f, &p, titles[q], "layers (log scale)", "MB (log scale)");
        pan_series(f, &p, rows, n, (quantity)q);
    }
    /* rev's activations against groups */
    if (gy > 0) {
        p.x = C2; p.y = R2; p.w = PW; p.h = PH;
        p.x0 = 0; p.x1 = gmax; p.y0 = 0;
        p.y1 = nice125(gy / 1e6 / 4, 1) * ceil(gy / 1e6 / nice125(gy / 1e6 / 4, 1)); /* a tick at or above the top */
        p.logx = p.logy = 0;
        pan_axes(f, &p, "rev: activation memory against groups", "groups C", "MB");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">L = %lld</text>\n", p.x + p.w - 8,
                p.y + 16, (long long)o->group_depth);
        line_start(f, RG_ARCH_REV);
        for (i = 0; i < n; i++)
            if (rows[i].group_sweep && !rows[i].oom)
                fprintf(f, "%.1f,%.1f ", pan_x(&p, (double)rows[i].groups), pan_y(&p, (rows[i].peak - rows[i].state) / 1e6));
        fprintf(f, "\"/>\n");
        for (i = 0; i < n; i++)
            if (rows[i].group_sweep && !rows[i].oom)
                marker(f, pan_x(&p, (double)rows[i].groups), pan_y(&p, (rows[i].peak - rows[i].state) / 1e6), RG_ARCH_REV);
    }
    /* legend: a row under the title */
    for (a = 0; a < 6; a++) {
        for (i = 0; i < n && (rows[i].group_sweep || (int)rows[i].arch != a); i++) {}
        if (i == n) continue;
        line_start(f, (rg_arch)a);
        fprintf(f, "%.0f,44 %.0f,44\"/>", 250 + 100.0 * legend, 274 + 100.0 * legend);
        marker(f, 262 + 100.0 * legend, 44, (rg_arch)a);
        fprintf(f, "<text x=\"%.0f\" y=\"48\">%s</text>\n", 280 + 100.0 * legend, rg_arch_name((rg_arch)a));
        legend++;
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\">MB = 10^6 bytes; "
               "activations = peak - (parameters + gradients + Adam moments); x: out of memory (over --mem-limit)</text>\n",
            W / 2, H - 12);
    fprintf(f, "</svg>\n");
    return fclose(f) == 0;
}

int main(int argc, char **argv) {
    static const rg_arch archs[] = {RG_ARCH_RES, RG_ARCH_RES_CKPT, RG_ARCH_REV, RG_ARCH_WT_REV, RG_ARCH_DEQ};
    static const int64_t group_sweep[] = {2, 3, 4, 8};
    static row rows[MAX_ROWS];
    options o;
    char csv[1024], svg[1024];
    int n = 0, a, d, ok = 1;
    if (!parse_args(argc, argv, &o)) return 2;
    if (make_host_data(&o) != RG_OK) {
        fprintf(stderr, "memory_scaling: %s\n", rg_last_error());
        return 2;
    }
    printf("memory_scaling: %lld nodes, %lld edges, hidden %lld, conv %s, mem-limit %.1f GB, device %s\n",
           (long long)o.nodes, (long long)host_graph.n_edges, (long long)o.hidden, rg_conv_name(o.conv),
           o.mem_limit / 1e9, o.cuda ? "cuda" : "cpu");
    for (a = 0; a < 5 && ok; a++)
        for (d = 0; d < o.n_depths && ok; d++) {
            row *r = &rows[n++];
            ok = measure(&o, archs[a], o.depths[d], o.groups, r);
            if (ok) print_row(&o, r);
            if (ok && r->oom) break; /* deeper is larger still */
        }
    for (d = 0; d < 4 && ok; d++) {
        row *r = &rows[n++];
        if (o.hidden % group_sweep[d]) { n--; continue; }
        ok = measure(&o, RG_ARCH_REV, o.group_depth, group_sweep[d], r);
        r->group_sweep = 1;
        if (ok) print_row(&o, r);
    }
    if (!ok) return 1;
    snprintf(csv, sizeof csv, "%s/memory_scaling.csv", o.out_dir);
    snprintf(svg, sizeof svg, "%s/memory_scaling.svg", o.out_dir);
    if (!write_csv(&o, rows, n, csv) || !write_svg(&o, rows, n, svg)) return 1;
    printf("wrote %s and %s\n", csv, svg);
    return 0;
}
