/* arxiv: full-batch multi-class node classification on any dataset in the OGB raw layout
   (ogbn-arxiv, ogbn-products, or ../shared/data/cora), with presets after the paper's
   Table 3. Without --data it trains on the built-in synthetic graph as an 8-class task.

   Build and run:
       cc -std=c99 -O3 -march=native -fopenmp -I. examples/arxiv.c -o arxiv -lm
       nvcc -x cu -std=c++17 -O3 -arch=sm_90 -Xcompiler -fopenmp -I. examples/arxiv.c -o arxiv_cuda \
            -lcublas -lgomp                                   (CUDA build)
       ./arxiv --data ../shared/data/cora --preset revgcn --epochs 200
       data/fetch.sh arxiv && ./arxiv --data data/arxiv --preset revgat
   Presets: revgcn, revsage, revgen (28 layers x 128 channels, 2 groups), revgat (5 layers x
   768 channels) and the baselines resgcn, ressage, resgen, resgat; flags after a preset
   override it. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty */
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
#ifdef __CUDACC__
#include "revgnn_cuda.cuh"
#endif
#include "common.h"

static const char *const revgcn[] = {"--arch", "rev", "--conv", "gcn", "--layers", "28", "--hidden", "128", "--groups", "2", NULL};
static const char *const revsage[] = {"--arch", "rev", "--conv", "sage", "--layers", "28", "--hidden", "128", "--groups", "2", NULL};
static const char *const revgen[] = {"--arch", "rev", "--conv", "gen", "--layers", "28", "--hidden", "128", "--groups", "2", NULL};
static const char *const revgat[] = {"--arch", "rev", "--conv", "gat", "--layers", "5", "--hidden", "768", "--groups", "2",
                                     "--heads", "3", NULL};
static const char *const resgcn[] = {"--arch", "res", "--conv", "gcn", "--layers", "28", "--hidden", "128", "--groups", "1", NULL};
static const char *const ressage[] = {"--arch", "res", "--conv", "sage", "--layers", "28", "--hidden", "128", "--groups", "1", NULL};
static const char *const resgen[] = {"--arch", "res", "--conv", "gen", "--layers", "28", "--hidden", "128", "--groups", "1", NULL};
static const char *const resgat[] = {"--arch", "res", "--conv", "gat", "--layers", "5", "--hidden", "768", "--groups", "1",
                                     "--heads", "3", NULL};
static const ex_preset presets[] = {{"revgcn", revgcn},   {"revsage", revsage}, {"revgen", revgen}, {"revgat", revgat},
                                    {"resgcn", resgcn},   {"ressage", ressage}, {"resgen", resgen}, {"resgat", resgat},
                                    {NULL, NULL}};
/* full batch, the settings of the paper's arxiv runs */
static const char *const defaults[] = {"--arch", "rev", "--conv", "gcn", "--layers", "28", "--hidden", "128",
                                       "--groups", "2", "--dropout", "0.5", "--lr", "1e-3", "--norm", "batch",
                                       "--parts", "1", "--eval-parts", "1", "--epochs", "100", NULL};

int main(int argc, char **argv) {
    ex_spec spec;
    spec.name = "arxiv";
    spec.about = "Train a deep GNN, full batch, for multi-class node classification on an OGB-layout dataset.";
    spec.presets = presets;
    spec.defaults = defaults;
    spec.multiclass = 1;
    return ex_main(&spec, argc, argv);
}
