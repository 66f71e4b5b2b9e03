/* What the fuzz targets and their seed generator share: a small dataset made by the library
   (rg_dataset_synthetic) written out in the OGB raw layout, the file each loader target
   replaces with its input, and the model the checkpoint target loads into (tests/test_oom.c
   removes its own small OGB folder with fuzz_remove_ogb). static inline:
   each program uses only some of them. */
#ifndef FUZZ_DATA_H
#define FUZZ_DATA_H
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* loader targets: kind -> the file of the folder its input replaces */
static const char *const fuzz_kinds[][2] = {
    {"edge", "raw/edge.csv"},         {"node-feat", "raw/node-feat.csv"},
    {"edge-feat", "raw/edge-feat.csv"}, {"node-label", "raw/node-label.csv"},
    {"node_species", "raw/node_species.csv"}, {"split", "split/s/train.csv"},
};
#define FUZZ_N_KINDS (sizeof fuzz_kinds / sizeof fuzz_kinds[0])

static inline const char *fuzz_kind_file(const char *kind) {
    size_t k;
    for (k = 0; k < FUZZ_N_KINDS; k++)
        if (strcmp(kind, fuzz_kinds[k][0]) == 0) return fuzz_kinds[k][1];
    return NULL;
}

static inline FILE *fuzz_open(const char *dir, const char *rel) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return fopen(path, "wb");
}

/* dir (existing) gets raw/ and split/s/ with every file the loader reads: 12 nodes,
   multilabel targets, node and edge features, species, counts */
static inline int fuzz_write_ogb(const char *dir) {
    static const char *const sub[] = {"raw", "split", "split/s"};
    rg_synthetic_options o = rg_synthetic_options_default();
    rg_dataset ds;
    const rg_graph *g;
    char path[1024];
    FILE *f[9];
    int64_t i, e, c, kept = 0;
    int ok = 1, k;
    o.nodes = 12;
    o.avg_degree = 4;
    o.n_tasks = 3;
    o.n_species = 2;
    o.edge_dim = 2;
    if (rg_dataset_synthetic(&o, &ds) != RG_OK) return 0;
    g = &ds.graph;
    for (k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, sub[k]);
        mkdir(path, 0700);
    }
    f[0] = fuzz_open(dir, "raw/edge.csv");
    f[1] = fuzz_open(dir, "raw/edge-feat.csv");
    f[2] = fuzz_open(dir, "raw/node-feat.csv");
    f[3] = fuzz_open(dir, "raw/node-label.csv");
    f[4] = fuzz_open(dir, "raw/node_species.csv");
    f[5] = fuzz_open(dir, "split/s/train.csv");
    f[6] = fuzz_open(dir, "split/s/valid.csv");
    f[7] = fuzz_open(dir, "split/s/test.csv");
    f[8] = fuzz_open(dir, "raw/num-node-list.csv");
    for (k = 0; k < 9; k++) ok &= f[k] != NULL;
    if (ok) {
        /* each edge once (the loader adds the reverse): the copy with src < dst */
        for (e = 0; e < g->n_edges; e++) {
            if (g->src[e] >= g->dst[e]) continue;
            fprintf(f[0], "%d,%d\n", (int)g->src[e], (int)g->dst[e]);
            for (c = 0; c < g->edge_dim; c++)
                fprintf(f[1], "%s%.9g", c ? "," : "", (double)g->edge_feat[e * g->edge_dim + c]);
            fputc('\n', f[1]);
            kept++;
        }
        for (i = 0; i < ds.n_nodes; i++) {
            for (c = 0; c < ds.x_dim; c++) fprintf(f[2], "%s%.9g", c ? "," : "", (double)ds.x[i * ds.x_dim + c]);
            fputc('\n', f[2]);
            for (c = 0; c < ds.n_tasks; c++) fprintf(f[3], "%s%d", c ? "," : "", (int)ds.y[i * ds.n_tasks + c]);
            fputc('\n', f[3]);
            fprintf(f[4], "%d\n", 3702 + 1000 * (int)ds.species[i]);
        }
        for (k = 0; k < 3; k++)
            for (i = 0; i < ds.split_size[k]; i++) fprintf(f[5 + k], "%d\n", (int)ds.split[k][i]);
        fprintf(f[8], "%d\n", (int)ds.n_nodes);
    }
    for (k = 0; k < 9; k++)
        if (f[k]) ok &= fclose(f[k]) == 0;
    if (ok && (f[0] = fuzz_open(dir, "raw/num-edge-list.csv")) != NULL) {
        fprintf(f[0], "%d\n", (int)kept);
        ok &= fclose(f[0]) == 0;
    } else {
        ok = 0;
    }
    rg_dataset_free(NULL, &ds);
    return ok;
}

/* removes what fuzz_write_ogb wrote, and dir */
static inline void fuzz_remove_ogb(const char *dir) {
    static const char *const files[] = {"raw/edge.csv", "raw/edge-feat.csv", "raw/node-feat.csv",
                                        "raw/node-label.csv", "raw/node_species.csv", "raw/num-node-list.csv",
                                        "raw/num-edge-list.csv", "split/s/train.csv", "split/s/valid.csv",
                                        "split/s/test.csv", "split/s", "split", "raw", ""};
    char path[1024];
    size_t k;
    for (k = 0; k < sizeof files / sizeof *files; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        remove(path);
    }
}

/* the checkpoint target's model: what the seed checkpoint was saved from */
static inline rg_config fuzz_model_config(void) {
    rg_config c = rg_config_default();
    c.arch = RG_ARCH_REV;
    c.layers = 2;
    c.hidden = 4;
    c.groups = 2;
    c.in_dim = 2;
    c.edge_dim = 2;
    c.out_dim = 2;
    c.norm = RG_NORM_BATCH;
    return c;
}
#endif
