/* The test program: every suite, built once with REVGNN_REAL=double and once with float.
   The implementation of revgnn.h is compiled here. */
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
#include "harness.h"

SUITE_EXTERN(layers);
SUITE_EXTERN(gemm);

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    GREATEST_MAIN_BEGIN();
    printf("revgnn tests, REVGNN_REAL = %s\n", sizeof(rg_real) == sizeof(double) ? "double" : "float");
    RUN_SUITE(layers);
    RUN_SUITE(gemm);
    GREATEST_MAIN_END();
}
