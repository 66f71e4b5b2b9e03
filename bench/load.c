/* load: how long rg_dataset_load_ogb takes on a dataset shaped like ogbn-proteins, without
   the download. Writes (once; kept for the next run) an OGB-layout directory of the given
   size with the real dataset's shape: 132,534 nodes, 39,561,252 edges stored once (79 M once
   the reverse edges are added), 8 edge features printed with three decimals, 8 species
   (taxon ids), 112 binary tasks, a species split; then times the load (with the one-hot
   species, as the paper's presets use) and, on the same arrays in memory, rg_graph_from_coo
   alone. Prints wall seconds and the process's peak RSS.

       make bench-load                              (writes /tmp/revgnn_load_bench, ~3.6 GB)
       ./build/load --dir DIR --nodes N --edges E   (smaller or elsewhere)
*/
#define _POSIX_C_SOURCE 200809L /* clock_gettime, mkdir */
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "common.h"

enum { LOAD_EDGE_DIM = 8, LOAD_SPECIES = 8, LOAD_TASKS = 112 };

static FILE *open_out(const char *dir, const char *name) {
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f) fprintf(stderr, "load: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *name) {
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "load: writing %s failed\n", name);
        return 0;
    }
    return 1;
}

/* the files, from the counter RNG: the same for the same sizes */
static int write_dataset(const char *dir, int64_t n, int64_t e) {
    static const int taxa[LOAD_SPECIES] = {3702, 4932, 6239, 7227, 7955, 9606, 10090, 511145};
    char path[4096];
    const char *splits[3] = {"split/species/train.csv", "split/species/valid.csv", "split/species/test.csv"};
    FILE *f;
    int64_t k, i;
    int s, c;
    const char *subdirs[3] = {"raw", "split", "split/species"};
    for (s = 0; s < 3; s++) {
        snprintf(path, sizeof path, "%s/%s", dir, subdirs[s]);
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "load: cannot create %s: %s\n", path, strerror(errno));
            return 0;
        }
    }
    if (!(f = open_out(dir, "raw/edge.csv"))) return 0;
    for (k = 0; k < e; k++) {
        int64_t u = (int64_t)(rg_rng_u64(1, 1, (uint64_t)k) % (uint64_t)n);
        int64_t v = (int64_t)(rg_rng_u64(1, 2, (uint64_t)k) % (uint64_t)n);
        fprintf(f, "%lld,%lld\n", (long long)u, (long long)(v == u ? (v + 1) % n : v));
    }
    if (!close_out(f, "raw/edge.csv") || !(f = open_out(dir, "raw/edge-feat.csv"))) return 0;
    for (k = 0; k < e; k++)
        for (c = 0; c < LOAD_EDGE_DIM; c++)
            fprintf(f, "%.3f%c", (double)(rg_rng_u64(2, (uint64_t)c, (uint64_t)k) % 1000) / 1000.0,
                    c + 1 < LOAD_EDGE_DIM ? ',' : '\n');
    if (!close_out(f, "raw/edge-feat.csv") || !(f = open_out(dir, "raw/node_species.csv"))) return 0;
    for (i = 0; i < n; i++) fprintf(f, "%d\n", taxa[i % LOAD_SPECIES]);
    if (!close_out(f, "raw/node_species.csv") || !(f = open_out(dir, "raw/node-label.csv"))) return 0;
    for (i = 0; i < n; i++)
        for (c = 0; c < LOAD_TASKS; c++)
            fprintf(f, "%d%c", (int)(rg_rng_u64(3, (uint64_t)c, (uint64_t)i) % 2), c + 1 < LOAD_TASKS ? ',' : '\n');
    if (!close_out(f, "raw/node-label.csv") || !(f = open_out(dir, "raw/num-node-list.csv"))) return 0;
    fprintf(f, "%lld\n", (long long)n);
    if (!close_out(f, "raw/num-node-list.csv") || !(f = open_out(dir, "raw/num-edge-list.csv"))) return 0;
    fprintf(f, "%lld\n", (long long)e);
    if (!close_out(f, "raw/num-edge-list.csv")) return 0;
    for (s = 0; s < 3; s++) { /* species 0-5 train, 6 valid, 7 test, like OGB's species split */
        if (!(f = open_out(dir, splits[s]))) return 0;
        for (i = 0; i < n; i++) {
            int sp = (int)(i % LOAD_SPECIES);
            if ((s == 0 && sp < 6) || (s == 1 && sp == 6) || (s == 2 && sp == 7)) fprintf(f, "%lld\n", (long long)i);
        }
        if (!close_out(f, splits[s])) return 0;
    }
    return 1;
}

/* the first line of dir/raw/num-edge-list.csv and num-node-list.csv equal n, e */
static int dataset_present(const char *dir, int64_t n, int64_t e) {
    char path[4096];
    long long got[2] = {-1, -1};
    const char *names[2] = {"raw/num-node-list.csv", "split/species/test.csv"};
    FILE *f;
    snprintf(path, sizeof path, "%s/raw/num-edge-list.csv", dir);
    if (!(f = fopen(path, "r"))) return 0;
    if (fscanf(f, "%lld", &got[1]) != 1) got[1] = -1;
    fclose(f);
    snprintf(path, sizeof path, "%s/%s", dir, names[0]);
    if (!(f = fopen(path, "r"))) return 0;
    if (fscanf(f, "%lld", &got[0]) != 1) got[0] = -1;
    fclose(f);
    snprintf(path, sizeof path, "%s/%s", dir, names[1]); /* written last */
    if (!(f = fopen(path, "r"))) return 0;
    fclose(f);
    return got[0] == n && got[1] == e;
}

int main(int argc, char **argv) {
    const char *dir = "/tmp/revgnn_load_bench";
    int64_t n = 132534, e = 39561252;
    rg_dataset ds;
    rg_dataset_options opt = rg_dataset_options_default();
    rg_graph g;
    rg_graph_options gopt = rg_graph_options_default();
    struct rusage ru;
    double t0, t_load, t_graph;
    int i;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--nodes") && i + 1 < argc) { if (!bench_parse_int("load", "--nodes", argv[++i], 2, &n)) return 2; }
        else if (!strcmp(argv[i], "--edges") && i + 1 < argc) { if (!bench_parse_int("load", "--edges", argv[++i], 1, &e)) return 2; }
        else {
            fprintf(stderr, "usage: load [--dir DIR] [--nodes N] [--edges E]\n");
            return 2;
        }
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "load: cannot create %s: %s\n", dir, strerror(errno));
        return 2;
    }
    if (!dataset_present(dir, n, e)) {
        printf("writing %lld nodes, %lld edges to %s ...\n", (long long)n, (long long)e, dir);
        fflush(stdout);
        t0 = bench_now_s();
        if (!write_dataset(dir, n, e)) return 1;
        printf("written in %.1f s\n", bench_now_s() - t0);
    }
    opt.species_onehot = 1;
    t0 = bench_now_s();
    if (rg_dataset_load_ogb(NULL, dir, &opt, &ds) != RG_OK) {
        fprintf(stderr, "load: %s\n", rg_last_error());
        return 2;
    }
    t_load = bench_now_s() - t0;
    /* the graph build alone, from the loaded graph's given edges (one direction of each) */
    {
        int64_t k, m = 0;
        int32_t *src = (int32_t *)malloc((size_t)ds.graph.n_edges * sizeof(int32_t) + 1);
        int32_t *dst = (int32_t *)malloc((size_t)ds.graph.n_edges * sizeof(int32_t) + 1);
        rg_real *feat = (rg_real *)malloc((size_t)ds.graph.n_edges * LOAD_EDGE_DIM * sizeof(rg_real) + 1);
        if (!src || !dst || !feat) {
            fprintf(stderr, "load: out of memory\n");
            return 1;
        }
        for (k = 0; k < ds.graph.n_edges; k++)
            if (ds.graph.src[k] < ds.graph.dst[k]) {
                src[m] = ds.graph.src[k];
                dst[m] = ds.graph.dst[k];
                memcpy(feat + m * LOAD_EDGE_DIM, ds.graph.edge_feat + k * ds.graph.edge_dim, LOAD_EDGE_DIM * sizeof(rg_real));
                m++;
            }
        gopt.add_reverse = 1;
        t0 = bench_now_s();
        if (rg_graph_from_coo(&g, ds.n_nodes, m, src, dst, feat, LOAD_EDGE_DIM, &gopt) != RG_OK) {
            fprintf(stderr, "load: %s\n", rg_last_error());
            return 1;
        }
        t_graph = bench_now_s() - t0;
        printf("rg_graph_from_coo: %lld edges -> %lld (reverse edges added) in %.2f s\n", (long long)m,
               (long long)g.n_edges, t_graph);
        rg_graph_free(NULL, &g);
        free(src), free(dst), free(feat);
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("rg_dataset_load_ogb: %lld nodes, %lld edges (reverse edges added), %lld features, %lld tasks in %.2f s; "
           "peak RSS %.2f GB\n",
           (long long)ds.n_nodes, (long long)ds.graph.n_edges, (long long)ds.x_dim, (long long)ds.n_tasks, t_load,
           (double)ru.ru_maxrss / 1e6);
    rg_dataset_free(NULL, &ds);
    return 0;
}
