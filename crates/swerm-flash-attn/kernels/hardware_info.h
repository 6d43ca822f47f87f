/******************************************************************************
 * Copyright (c) 2024, Tri Dao.
 ******************************************************************************/

#pragma once

#include <tuple>
#include <cstdio>

#if !defined(__CUDACC_RTC__)
#include "cuda_runtime.h"
#endif

// swerm: a failed query is recorded (error.h) and returned by run_mha as an error, instead of
// ending the whole process with exit(1); the queried value is then 0.
#include "error.h"
#define CHECK_CUDA(call) C10_CUDA_CHECK(call)


inline int get_current_device() {
    int device = 0;
    CHECK_CUDA(cudaGetDevice(&device));
    return device;
}

inline std::tuple<int, int> get_compute_capability(int device) {
    int capability_major = 0, capability_minor = 0;
    CHECK_CUDA(cudaDeviceGetAttribute(&capability_major, cudaDevAttrComputeCapabilityMajor, device));
    CHECK_CUDA(cudaDeviceGetAttribute(&capability_minor, cudaDevAttrComputeCapabilityMinor, device));
    return {capability_major, capability_minor};
}

inline int get_num_sm(int device) {
    int multiprocessor_count = 0;
    CHECK_CUDA(cudaDeviceGetAttribute(&multiprocessor_count, cudaDevAttrMultiProcessorCount, device));
    return multiprocessor_count;
}
