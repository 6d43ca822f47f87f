#pragma once

#include <cuda_runtime.h>

// swerm: errors are recorded, not ignored (upstream's PyTorch-free build dropped them): the first
// failing CUDA call of a launch is kept here and returned by run_mha (flash_api.cu), which the
// Rust side turns into an error.
inline cudaError_t swerm_fa_status = cudaSuccess;

#define C10_CUDA_CHECK(EXPR)                                        \
  do {                                                              \
    const cudaError_t __err = EXPR;                                 \
    if (__err != cudaSuccess && swerm_fa_status == cudaSuccess) {   \
      swerm_fa_status = __err;                                      \
    }                                                               \
  } while (0)

#define C10_CUDA_KERNEL_LAUNCH_CHECK() C10_CUDA_CHECK(cudaGetLastError())
