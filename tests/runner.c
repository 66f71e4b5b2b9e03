/* The test program: every suite, built once with REVGNN_REAL=double and once with float.
   The implementation of revgnn.h is compiled here. */
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
#include "harness.h"

SUITE_EXTERN(core);
SUITE_EXTERN(graph);
SUITE_EXTERN(errors);
SUITE_EXTERN(layers);
SUITE_EXTERN(convs);
SUITE_EXTERN(train);
SUITE_EXTERN(norm);
SUITE_EXTERN(gen);
SUITE_EXTERN(models);
SUITE_EXTERN(checkpoint);
SUITE_EXTERN(data);
SUITE_EXTERN(gemm);

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    GREATEST_MAIN_BEGIN();
    printf("revgnn tests, REVGNN_REAL = %s\n", sizeof(rg_real) == sizeof(double) ? "double" : "float");
    RUN_SUITE(core);
    RUN_SUITE(graph);
    RUN_SUITE(errors);
    RUN_SUITE(layers);
    RUN_SUITE(convs);
    RUN_SUITE(train);
    RUN_SUITE(norm);
    RUN_SUITE(gen);
    RUN_SUITE(models);
    RUN_SUITE(checkpoint);
    RUN_SUITE(data);
    RUN_SUITE(gemm);
    HARNESS_MAIN_END();
}
