#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
int main(void) { return 0; }
