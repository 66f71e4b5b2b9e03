/* memory_scaling: peak memory and time of a training step against depth and group count,
   the measurement behind the paper's constant-memory plots (Table 2, Figure 1).

   For each architecture it trains a few steps at each depth of the sweep (default 3, 7, 14,
   28, 56, 112, 224, 448, 1001; an architecture stops at the first depth whose planned peak
   exceeds --mem-limit and records OOM there), then sweeps the group count of rev at a fixed
   depth. It writes memory_scaling.csv and draws memory_scaling.svg itself.

   Build and run (CPU):
       make bench
       ./build/memory_scaling --quick            # small sweep, under a minute on 2 cores
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
            "  --nodes N        synthetic graph size (default 1000; --quick 400)\n"
            "  --degree K       average in-degree (default 10)\n"
            "  --in-dim F  --edge-dim F'  --out-dim T   feature widths of the synthetic graph (8, 8, 16)\n"
            "  --data DIR       a dataset in the OGB raw layout instead of the synthetic graph\n"
            "  --hidden D       channels (default 32; --quick 16)\n"
            "  --groups C       groups of rev and wt-rev in the depth sweep (default 2)\n"
            "  --conv NAME      gen | gcn | sage | gat (default gen)\n"
            "  --depths LIST    comma-separated depths (default 3,7,14,28,56,112,224,448,1001)\n"
            "  --group-depth L  depth of the group sweep (default 112; --quick 28)\n"
            "  --steps S        timed steps per configuration after one warm-up (default 1)\n"
            "  --mem-limit GB   skip (OOM) configurations planned above this (default 80%% of RAM)\n"
            "  --threads T      CPU threads (default: all)\n"
            "  --device cpu|cuda\n"
            "  --out DIR        where memory_scaling.csv and .svg go (default .)\n"
            "  --quick          a reduced sweep for scripts (under a minute on 2 cores)\n",
            prog);
}

static int parse_args(int argc, char **argv, options *o) {
    int i, depths_given = 0;
    int64_t v;
    memset(o, 0, sizeof *o);
    o->nodes = 1000; o->degree = 10; o->in_dim = 8; o->edge_dim = 8; o->out_dim = 16; o->hidden = 32;
    o->groups = 2; o->group_depth = 112; o->conv = RG_CONV_GEN; o->steps = 1; o->out_dir = ".";
    o->mem_limit = 0.8 * machine_memory();
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
        o->nodes = 400; o->hidden = 16; o->group_depth = 28;
    }
    if (!depths_given) {
        static const int64_t d[] = {3, 7, 14, 28, 56, 112, 224, 448, 1001};
        memcpy(o->depths, d, sizeof d);
        o->n_depths = 9;
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

/* Two panels: peak memory against depth (log depth axis, one line per architecture, OOM
   marked), and rev's activation peak against the group count. */
static int write_svg(const options *o, const row *rows, int n, const char *path) {
    FILE *f = fopen(path, "w");
    const double W = 900, H = 420, L = 70, R = 20, T = 40, B = 60, PW = 520, GAP = 80;
    double ymax = 0, ymin = 1e300, dmin = 1e18, dmax = 0, gmin = 1e18, gmax = 0, gy = 0, tick;
    int i, a, legend = 0;
    if (!f) { fprintf(stderr, "memory_scaling: cannot write %s: %s\n", path, strerror(errno)); return 0; }
    for (i = 0; i < n; i++) {
        const row *r = &rows[i];
        double bytes = r->oom ? (double)r->planned : (double)r->peak;
        if (r->group_sweep) {
            gmin = r->groups < gmin ? r->groups : gmin;
            gmax = r->groups > gmax ? r->groups : gmax;
            continue;
        }
        if (!r->oom && bytes > ymax) ymax = bytes;
        if (!r->oom && bytes < ymin) ymin = bytes;
        if (r->layers < dmin) dmin = (double)r->layers;
        if (r->layers > dmax) dmax = (double)r->layers;
    }
    for (i = 0; i < n; i++)
        if (rows[i].group_sweep && !rows[i].oom && (double)(rows[i].peak - rows[i].state) > gy)
            gy = (double)(rows[i].peak - rows[i].state);
    /* log memory axis: flat and linear lines both stay readable over three decades */
    ymax = ymax > 0 ? ymax * 1.5 : 2;
    ymin = ymin < ymax ? ymin / 1.5 : ymax / 10;
    gy = gy > 0 ? gy * 1.2 : 1;
    if (dmax <= dmin) dmax = dmin * 10;
    if (gmax <= gmin) gmax = gmin + 1;
#define XD(d) (L + PW * (log((double)(d)) - log(dmin)) / (log(dmax) - log(dmin)))
#define YD(b) (T + (H - T - B) * (1 - (log(b) - log(ymin)) / (log(ymax) - log(ymin))))
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%.0f\" y=\"20\" font-size=\"14\">Peak memory (log) of a training step vs depth (%s, %lld nodes, "
               "%lld edges, hidden %lld)</text>\n", L, rg_conv_name(o->conv), (long long)o->nodes,
            (long long)host_graph.n_edges, (long long)o->hidden);
    /* axes and ticks */
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L, H - B, L + PW, H - B);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L, T, L, H - B);
    for (i = 0; i < o->n_depths; i++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%lld</text>\n", XD(o->depths[i]), H - B + 16,
                (long long)o->depths[i]);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">layers (log scale)</text>\n", L + PW / 2, H - B + 36);
    for (tick = pow(10, floor(log10(ymin))); tick <= ymax; tick *= 10)
        if (tick >= ymin)
            fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g MB</text>\n"
                       "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                    L - 4, YD(tick) + 4, tick / 1e6, L, YD(tick), L + PW, YD(tick));
    /* one polyline per architecture; OOM as a cross at the top */
    for (a = 0; a < 6; a++) {
        int started = 0, ly = 0;
        for (i = 0; i < n; i++) {
            const row *r = &rows[i];
            if (r->group_sweep || (int)r->arch != a) continue;
            if (r->oom) {
                double x = XD(r->layers), y = T + 4;
                fprintf(f, "<path d=\"M%.1f %.1f l8 8 m0 -8 l-8 8\" stroke=\"%s\" stroke-width=\"2\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">OOM</text>\n",
                        x - 4, y, arch_color(r->arch), x + 6, y + 8, arch_color(r->arch));
                continue;
            }
            if (!started) { fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", arch_color(r->arch)); started = 1; }
            fprintf(f, "%.1f,%.1f ", XD(r->layers), YD((double)r->peak));
        }
        if (started) fprintf(f, "\"/>\n");
        for (i = 0; i < n; i++)
            if (!rows[i].group_sweep && (int)rows[i].arch == a) { ly = 1; break; }
        if (ly) {
            fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"3\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                    L + 10, T + 10 + 16.0 * legend, arch_color((rg_arch)a), L + 26, T + 15 + 16.0 * legend,
                    rg_arch_name((rg_arch)a));
            legend++;
        }
    }
    /* group panel */
    {
        double x0 = L + PW + GAP, pw = W - x0 - R;
#define XG(g) (x0 + pw * ((g) - gmin) / (gmax - gmin))
#define YG(b) (T + (H - T - B) * (1 - (b) / gy))
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">rev activations vs groups (L=%lld)</text>\n", x0 - 40, T - 8,
                (long long)o->group_depth);
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", x0, H - B, x0 + pw, H - B);
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", x0, T, x0, H - B);
        for (i = 0; i <= 4; i++)
            fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\">%.1f</text>\n", x0 - 3,
                    YG(gy * i / 4) + 4, gy * i / 4 / 1e6);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">groups C (activations, MB)</text>\n", x0 + pw / 2, H - B + 36);
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", arch_color(RG_ARCH_REV));
        for (i = 0; i < n; i++)
            if (rows[i].group_sweep && !rows[i].oom)
                fprintf(f, "%.1f,%.1f ", XG((double)rows[i].groups), YG((double)(rows[i].peak - rows[i].state)));
        fprintf(f, "\"/>\n");
        for (i = 0; i < n; i++)
            if (rows[i].group_sweep)
                fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%lld</text>\n", XG((double)rows[i].groups),
                        H - B + 16, (long long)rows[i].groups);
#undef XG
#undef YG
    }
#undef XD
#undef YD
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
