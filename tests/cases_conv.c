/* Layer cases for the graph convolutions. */
#include <stddef.h>

#include "layer_case.h"

const layer_case lc_cases_conv[] = {
    {NULL, 0, NULL, NULL, NULL, NULL, NULL},
};
