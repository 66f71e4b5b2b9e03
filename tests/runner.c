/* The test program: every suite, built once with REVGNN_REAL=double and once with float.
   The implementation of revgnn.h is compiled here. */
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
#include "harness.h"

SUITE_EXTERN(core);
SUITE_EXTERN(graph);
SUITE_EXTERN(errors);
SUITE_EXTERN(layers);
SUITE_EXTERN(train);

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    GREATEST_MAIN_BEGIN();
    printf("revgnn tests, REVGNN_REAL = %s\n", sizeof(rg_real) == sizeof(double) ? "double" : "float");
    RUN_SUITE(core);
    RUN_SUITE(graph);
    RUN_SUITE(errors);
    RUN_SUITE(layers);
    RUN_SUITE(train);
    GREATEST_MAIN_END();
}
