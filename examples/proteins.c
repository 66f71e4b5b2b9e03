/* proteins: the paper's main job. A RevGNN on ogbn-proteins (multi-label, 112 tasks, ROC-AUC),
   mini-batch training on a fresh random partition every epoch, multi-view inference.
   Without --data it trains on a built-in proteins-like synthetic graph (no download).

   Build and run:
       cc -std=c99 -O3 -march=native -fopenmp -I. examples/proteins.c -o proteins -lm
       nvcc -x cu -std=c++17 -O3 -arch=sm_90 -Xcompiler -fopenmp -I. examples/proteins.c -o proteins_cuda \
            -lcublas -lgomp                                   (CUDA build)
       ./proteins --epochs 5                                  # synthetic graph
       data/fetch.sh proteins && ./proteins --data data/proteins --preset revgnn-deep
   Presets (after the paper): revgnn-deep (1001 layers, 80 channels, 2 groups) and
   revgnn-wide (448 layers, 224 channels); flags after a preset override it. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty */
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
#ifdef __CUDACC__
#include "revgnn_cuda.cuh"
#endif
#include "common.h"

static const char *const deep[] = {"--arch", "rev", "--conv", "gen", "--aggr", "max", "--layers", "1001",
                                   "--hidden", "80", "--groups", "2", "--dropout", "0.1", "--lr", "1e-3",
                                   "--species-onehot", "1", "--norm", "batch", NULL};
static const char *const wide[] = {"--arch", "rev", "--conv", "gen", "--aggr", "max", "--layers", "448",
                                   "--hidden", "224", "--groups", "2", "--dropout", "0.2", "--lr", "1e-3",
                                   "--species-onehot", "1", "--norm", "batch", NULL};
static const ex_preset presets[] = {{"revgnn-deep", deep}, {"revgnn-wide", wide}, {NULL, NULL}};
/* the default run: small enough for a laptop, deep enough to be a RevGNN */
static const char *const defaults[] = {"--arch", "rev", "--conv", "gen", "--aggr", "softmax", "--layers", "28",
                                       "--hidden", "64", "--groups", "2", "--dropout", "0.1", "--lr", "5e-3",
                                       "--parts", "10", "--eval-parts", "5", "--species-onehot", "1",
                                       "--nodes", "10000", "--epochs", "30", "--eval-every", "5", NULL};

int main(int argc, char **argv) {
    ex_spec spec;
    spec.name = "proteins";
    spec.about = "Train a deep GNN on ogbn-proteins (or the built-in synthetic graph): multi-label ROC-AUC.";
    spec.presets = presets;
    spec.defaults = defaults;
    spec.multiclass = 0;
    return ex_main(&spec, argc, argv);
}
