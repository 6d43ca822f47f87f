//! FlashAttention-2's variable-length forward for swerm: bf16, head dim 128, causal, grouped-
//! query attention, every packed sequence attending only to itself, in one call per layer.
//!
//! Trimmed from `candle-flash-attn` 0.11.1 (MIT OR Apache-2.0; its kernels are FlashAttention 2
//! by Tri Dao et al., BSD-3-Clause, see LICENSE-flash-attention): only the kernel the Qwen3
//! family needs is built (see build.rs), so every other case is refused here before the C call.

mod ffi;

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::DevicePtr;
use candle_core::{bail, CpuStorage, CudaStorage, DType, Layout, Result, Shape, Tensor};

/// The one head dimension built.
pub const HEAD_DIM: usize = 128;

struct VarLen {
    scale: f32,
    max_seqlen: usize,
    cu_seqlens: Tensor,
}

fn round_multiple(x: usize, m: usize) -> usize {
    x.div_ceil(m) * m
}

impl candle_core::CustomOp3 for VarLen {
    fn name(&self) -> &'static str {
        "swerm-flash-attn-varlen"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        bail!("flash-attn runs on CUDA only")
    }

    fn cuda_fwd(
        &self,
        q: &CudaStorage,
        q_l: &Layout,
        k: &CudaStorage,
        k_l: &Layout,
        v: &CudaStorage,
        v_l: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        if q.dtype() != DType::BF16 || k.dtype() != DType::BF16 || v.dtype() != DType::BF16 {
            bail!("flash-attn: bf16 only (got {:?})", q.dtype());
        }
        let (total, heads, d) = q_l.shape().dims3()?;
        let (total_k, heads_k, dk) = k_l.shape().dims3()?;
        if v_l.shape().dims3()? != (total_k, heads_k, dk) || total_k != total || dk != d {
            bail!("flash-attn: q {:?}, k {:?} and v {:?} do not fit", q_l.shape(), k_l.shape(), v_l.shape());
        }
        if d != HEAD_DIM {
            bail!("flash-attn: head dim {d}; only {HEAD_DIM} is built");
        }
        if heads_k == 0 || heads % heads_k != 0 {
            bail!("flash-attn: {heads_k} key/value heads do not divide {heads} query heads");
        }
        for (name, l) in [("q", q_l), ("k", k_l), ("v", v_l)] {
            if l.stride()[2] != 1 {
                bail!("flash-attn: the last dim of {name} must be contiguous");
            }
        }
        let (cu, cu_l) = self.cu_seqlens.storage_and_layout();
        let candle_core::Storage::Cuda(cu) = &*cu else { bail!("flash-attn: cu_seqlens must be on the device") };
        let Some((c0, c1)) = cu_l.contiguous_offsets() else { bail!("flash-attn: cu_seqlens must be contiguous") };
        let batch = c1 - c0 - 1;
        let cu = cu.as_cuda_slice::<u32>()?.slice(c0..c1);

        let dev = q.device();
        let stream = dev.cuda_stream();
        let qs = q.as_cuda_slice::<half::bf16>()?.slice(q_l.start_offset()..);
        let ks = k.as_cuda_slice::<half::bf16>()?.slice(k_l.start_offset()..);
        let vs = v.as_cuda_slice::<half::bf16>()?.slice(v_l.start_offset()..);
        let out_shape = q_l.shape().clone();
        let out_l = Layout::contiguous(&out_shape);
        // Zeroed, not merely allocated: if a launch fails, nothing uninitialised is ever read
        // (the error below is returned instead, and the buffer dropped); the cost is one memset.
        let dst = dev.alloc_zeros::<half::bf16>(out_shape.elem_count())?;
        let lse = dev.alloc_zeros::<f32>(heads * total)?;
        let (qst, kst, vst, ost) = (q_l.stride(), k_l.stride(), v_l.stride(), out_l.stride());
        let max = self.max_seqlen;
        // SAFETY: every pointer is a live device allocation of this stream, held by its guard
        // (`_g1`..`_g6`) until the call returns: q, k, v start at their layouts' offsets and were
        // checked above to be bf16 `[total, heads(_k), 128]` with a contiguous last dim, whose
        // row and head strides are passed as they are; `dst` and `lse` were allocated here for
        // `total x heads x 128` and `heads x total` elements; `cu_seqlens` holds `batch + 1`
        // offsets ending at `total`, the only bounds the kernel reads q, k and v by; `max` is
        // the longest sequence, as the kernel's tiling needs. The kernel is enqueued on
        // `stream`, which every later candle op on these tensors also uses, so nothing reads
        // `dst` before it is written.
        let status = unsafe {
            let (q_ptr, _g1) = qs.device_ptr(&stream);
            let (k_ptr, _g2) = ks.device_ptr(&stream);
            let (v_ptr, _g3) = vs.device_ptr(&stream);
            let (o_ptr, _g4) = dst.device_ptr(&stream);
            let (lse_ptr, _g5) = lse.device_ptr(&stream);
            let (cu_ptr, _g6) = cu.device_ptr(&stream);
            ffi::run_mha(
                q_ptr as *const core::ffi::c_void,
                k_ptr as *const core::ffi::c_void,
                v_ptr as *const core::ffi::c_void,
                o_ptr as *const core::ffi::c_void,
                lse_ptr as *const core::ffi::c_void,
                std::ptr::null(),
                cu_ptr as *const i32,
                cu_ptr as *const i32,
                0,
                0,
                0,
                0,
                0,
                qst[0] as u32,
                kst[0] as u32,
                vst[0] as u32,
                ost[0] as u32,
                qst[1] as u32,
                kst[1] as u32,
                vst[1] as u32,
                ost[1] as u32,
                batch as u32,
                heads as u32,
                heads_k as u32,
                d as u32,
                round_multiple(d, 32) as u32,
                self.scale,
                max as u32,
                max as u32,
                round_multiple(max, 128) as u32,
                round_multiple(max, 128) as u32,
                total as u32,
                /* is_bf16 */ 1,
                /* is_causal */ 1,
                /* unpadded_lse */ 1,
                /* window_size_left */ -1,
                /* window_size_right */ 0,
                /* softcap */ 0.0,
                std::ptr::null(),
                0,
                0,
                std::ptr::null(),
                0,
                0,
                stream.cu_stream() as *mut core::ffi::c_void,
            )
        };
        if status != 0 {
            // SAFETY: cudaGetErrorString returns a static, NUL-terminated string for any code.
            let what = unsafe { std::ffi::CStr::from_ptr(ffi::swerm_fa_error_string(status)) };
            bail!("flash-attn: the kernel launch failed: CUDA error {status} ({})", what.to_string_lossy());
        }
        Ok((CudaStorage::wrap_cuda_slice(dst, dev.clone()), out_shape))
    }
}

/// Causal attention of packed sequences: q [T, heads, 128], k and v [T, heads_k, 128] (bf16, on
/// CUDA), `cu_seqlens` [batch + 1] (u32 on the device: 0, len_1, len_1 + len_2, ...), the
/// longest sequence `max_seqlen`, scores scaled by `scale`. Returns [T, heads, 128].
pub fn varlen_causal(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    cu_seqlens: &Tensor,
    max_seqlen: usize,
    scale: f32,
) -> Result<Tensor> {
    q.apply_op3_no_bwd(k, v, &VarLen { scale, max_seqlen, cu_seqlens: cu_seqlens.clone() })
}
