/* rnn ops: reference kernels. */
#include "op_util.h"

const mec_kernel mec_kernels_rnn[] = {
    {0},
};
