// swerm's MoE routing kernels (src/model/moe_ops.rs launches them; its CPU implementations
// compute the same things and are the reference in the tests). Compiled to PTX by build.rs
// under the `cuda` feature.
#include <stdint.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#define FULL 0xffffffffu

// ids[t, r] for r < k: the k experts of token t by descending probability, ties to the lower
// expert index. One warp per token; lane l looks at experts l, l + 32, ...; the experts taken so
// far are a 32-bit mask per lane (so E <= 1024). A NaN never beats a number it is compared with.
extern "C" __global__ void moe_topk(const float* __restrict__ probs, uint32_t* __restrict__ ids, int T, int E, int k) {
  const int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (warp >= T) return;  // whole warps exit together: T is a per-warp condition
  const float* p = probs + (size_t)warp * E;
  uint32_t taken = 0;
  for (int r = 0; r < k; ++r) {
    float best = 0.f;
    int be = -1;
    for (int i = 0, e = lane; e < E; ++i, e += 32) {
      if (taken & (1u << i)) continue;
      const float v = p[e];
      if (be < 0 || v > best) { best = v; be = e; }
    }
    for (int off = 16; off > 0; off >>= 1) {
      const float ov = __shfl_xor_sync(FULL, best, off);
      const int oe = __shfl_xor_sync(FULL, be, off);
      // Prefer a lane that has a candidate; then the larger value; then the lower index. A NaN
      // compares false both ways, so the lower index wins, as in the CPU's in-order scan
      // (where the first of them is kept).
      const bool take = oe >= 0 && (be < 0 || ov > best || (!(best > ov) && oe < be));
      if (take) { best = ov; be = oe; }
    }
    if (lane == (be & 31)) taken |= 1u << (be >> 5);
    if (lane == 0) ids[(size_t)warp * k + r] = (uint32_t)be;
  }
}

__device__ __forceinline__ uint32_t warp_sum(uint32_t v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(FULL, v, off);
  return v;
}

// counts[e] = number of pairs routed to expert e (block e; blockDim a multiple of 32).
extern "C" __global__ void moe_count(const uint32_t* __restrict__ ids, uint32_t* __restrict__ counts, int n) {
  __shared__ uint32_t part[32];
  const uint32_t e = blockIdx.x;
  uint32_t c = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) c += ids[i] == e;
  c = warp_sum(c);
  if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = c;
  __syncthreads();
  if (threadIdx.x < 32) {
    c = threadIdx.x < (blockDim.x >> 5) ? part[threadIdx.x] : 0;
    c = warp_sum(c);
    if (threadIdx.x == 0) counts[e] = c;
  }
}

// out + 3n: offsets[0] = 0, offsets[e + 1] = offsets[e] + counts[e]. E is small (128): one thread.
extern "C" __global__ void moe_offsets(const uint32_t* __restrict__ counts, uint32_t* __restrict__ out, int n, int E) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  uint32_t* offsets = out + 3 * (size_t)n;
  uint32_t a = 0;
  offsets[0] = 0;
  for (int e = 0; e < E; ++e) {
    a += counts[e];
    offsets[e + 1] = a;
  }
}

// A stable counting sort of pairs by expert. Block e walks all pairs in tiles of blockDim (a
// multiple of 32) and gives its own pairs consecutive rows from offsets[e], in pair order (a
// ballot and popcounts per warp, a prefix over the warps of the tile): deterministic.
// out = [row_of_pair n | pair_of_row n | token_of_row n | offsets E + 1].
extern "C" __global__ void moe_permute(const uint32_t* __restrict__ ids, uint32_t* __restrict__ out, int n, int E, int k) {
  __shared__ uint32_t warp_hits[32];
  const uint32_t e = blockIdx.x;
  uint32_t* row_of_pair = out;
  uint32_t* pair_of_row = out + (size_t)n;
  uint32_t* token_of_row = out + 2 * (size_t)n;
  uint32_t base = out[3 * (size_t)n + e];
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int start = 0; start < n; start += blockDim.x) {
    const int i = start + threadIdx.x;
    const bool hit = i < n && ids[i] == e;
    const uint32_t mask = __ballot_sync(FULL, hit);
    if (lane == 0) warp_hits[w] = __popc(mask);
    __syncthreads();
    uint32_t before = 0, total = 0;
    for (int j = 0; j < warps; ++j) {
      before += j < w ? warp_hits[j] : 0;
      total += warp_hits[j];
    }
    if (hit) {
      const uint32_t r = base + before + __popc(mask & ((1u << lane) - 1));
      row_of_pair[i] = r;
      pair_of_row[r] = (uint32_t)i;
      token_of_row[r] = (uint32_t)(i / k);
    }
    base += total;
    __syncthreads();  // warp_hits is rewritten by the next tile
  }
}

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_f(__half v) { return __half2float(v); }
template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half from_f<__half>(float v) { return __float2half_rn(v); }

// out[t, c] = x[t, c] + sum_j T(w[t, j] * y[pos[t, j], c]): the routing weights folded in; each
// weighted row rounded to the model dtype T (as transformers forms it), the sum in f32 in slot
// order, one final rounding. __fmul_rn/__fadd_rn keep nvcc from fusing them into FMAs, so the
// result is bit-identical to the CPU's (swerm selftest checks it).
// grid (T, ceil(H / blockDim)).
template <typename T>
__device__ void combine(const T* __restrict__ x, const T* __restrict__ y, const uint32_t* __restrict__ pos,
                        const float* __restrict__ w, T* __restrict__ out, int H, int k) {
  const size_t t = blockIdx.x;
  const int c = blockIdx.y * blockDim.x + threadIdx.x;
  if (c >= H) return;
  float acc = 0.f;
  for (int j = 0; j < k; ++j) {
    // The weighted row in the model dtype (as transformers forms it), then the f32 sum.
    const float wy = to_f(from_f<T>(__fmul_rn(w[t * k + j], to_f(y[(size_t)pos[t * k + j] * H + c]))));
    acc = __fadd_rn(acc, wy);
  }
  out[t * H + c] = from_f<T>(__fadd_rn(to_f(x[t * H + c]), acc));
}

// silu(gu[r, i]) * gu[r, I + i] in f32, one rounding. grid (R, ceil(I / blockDim)).
template <typename T>
__device__ void silu_mul(const T* __restrict__ gu, T* __restrict__ out, int I) {
  const size_t r = blockIdx.x;
  const int i = blockIdx.y * blockDim.x + threadIdx.x;
  if (i >= I) return;
  const float g = to_f(gu[r * 2 * I + i]);
  const float u = to_f(gu[r * 2 * I + I + i]);
  out[r * I + i] = from_f<T>(g / (1.f + expf(-g)) * u);
}

#define INSTANTIATE(NAME, T)                                                                              \
  extern "C" __global__ void moe_combine_##NAME(const T* x, const T* y, const uint32_t* pos, const float* w,  \
                                                T* out, int Tn, int H, int k) {                            \
    combine<T>(x, y, pos, w, out, H, k);                                                                   \
  }                                                                                                        \
  extern "C" __global__ void silu_mul_##NAME(const T* gu, T* out, int R, int I) { silu_mul<T>(gu, out, I); }

INSTANTIATE(f32, float)
INSTANTIATE(bf16, __nv_bfloat16)
INSTANTIATE(f16, __half)
