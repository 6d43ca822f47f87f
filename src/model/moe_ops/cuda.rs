//! Launches of the kernels in `kernels/moe.cu` (the CUDA half of `moe_ops`).

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{CudaSlice, CudaView, DeviceRepr, LaunchConfig, PushKernelArg};
use candle_core::cuda_backend::{CudaDType, WrapErr};
use candle_core::{CudaDevice, CudaStorage, DType, Layout, Result, bail};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/moe.ptx"));
const MODULE: &str = "swerm_moe";

fn view<'a, T: CudaDType + DeviceRepr>(s: &'a CudaStorage, l: &Layout) -> Result<CudaView<'a, T>> {
    let Some((a, b)) = l.contiguous_offsets() else { bail!("swerm kernels: contiguous inputs only") };
    Ok(s.as_cuda_slice::<T>()?.slice(a..b))
}

fn wrap<T: CudaDType>(s: CudaSlice<T>, dev: &CudaDevice) -> CudaStorage {
    CudaStorage::wrap_cuda_slice(s, dev.clone())
}

fn blocks(n: usize, per: usize) -> u32 {
    n.div_ceil(per).max(1) as u32
}

pub(crate) fn topk(s: &CudaStorage, l: &Layout, t: usize, e: usize, k: usize) -> Result<CudaStorage> {
    let dev = s.device();
    let probs = view::<f32>(s, l)?;
    // SAFETY: every element is written by the kernel (one warp per token, k slots each).
    let ids = unsafe { dev.alloc::<u32>(t * k)? };
    let f = dev.get_or_load_custom_func("moe_topk", MODULE, PTX)?;
    let mut b = f.builder();
    b.arg(&probs);
    b.arg(&ids);
    candle_core::builder_arg!(b, t as i32, e as i32, k as i32);
    let cfg = LaunchConfig { grid_dim: (blocks(t, 8), 1, 1), block_dim: (256, 1, 1), shared_mem_bytes: 0 };
    // SAFETY: the argument list matches the kernel's signature.
    unsafe { b.launch(cfg) }.w()?;
    Ok(wrap(ids, dev))
}

pub(crate) fn permute(s: &CudaStorage, l: &Layout, n: usize, e: usize, k: usize) -> Result<CudaStorage> {
    let dev = s.device();
    let ids = view::<u32>(s, l)?;
    let counts = dev.alloc_zeros::<u32>(e)?;
    // SAFETY: moe_permute writes all 3n rows (every pair has one row) and moe_offsets the E + 1
    // offsets.
    let out = unsafe { dev.alloc::<u32>(3 * n + e + 1)? };
    let per_expert = LaunchConfig { grid_dim: (e as u32, 1, 1), block_dim: (256, 1, 1), shared_mem_bytes: 0 };
    let f = dev.get_or_load_custom_func("moe_count", MODULE, PTX)?;
    let mut b = f.builder();
    b.arg(&ids);
    b.arg(&counts);
    candle_core::builder_arg!(b, n as i32);
    // SAFETY: the argument lists match the kernels' signatures.
    unsafe { b.launch(per_expert) }.w()?;
    let f = dev.get_or_load_custom_func("moe_offsets", MODULE, PTX)?;
    let mut b = f.builder();
    b.arg(&counts);
    b.arg(&out);
    candle_core::builder_arg!(b, n as i32, e as i32);
    unsafe { b.launch(LaunchConfig { grid_dim: (1, 1, 1), block_dim: (32, 1, 1), shared_mem_bytes: 0 }) }.w()?;
    let f = dev.get_or_load_custom_func("moe_permute", MODULE, PTX)?;
    let mut b = f.builder();
    b.arg(&ids);
    b.arg(&out);
    candle_core::builder_arg!(b, n as i32, e as i32, k as i32);
    unsafe { b.launch(per_expert) }.w()?;
    Ok(wrap(out, dev))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn combine(
    xs: &CudaStorage,
    xl: &Layout,
    ys: &CudaStorage,
    yl: &Layout,
    ps: &CudaStorage,
    pl: &Layout,
    (ws, wl): (&CudaStorage, &Layout),
    t: usize,
    h: usize,
    k: usize,
) -> Result<CudaStorage> {
    #[allow(clippy::too_many_arguments)]
    fn run<T: CudaDType + DeviceRepr>(
        name: &str,
        xs: &CudaStorage,
        xl: &Layout,
        ys: &CudaStorage,
        yl: &Layout,
        pos: &CudaView<u32>,
        w: &CudaView<f32>,
        (t, h, k): (usize, usize, usize),
    ) -> Result<CudaStorage> {
        let dev = xs.device();
        let (x, y) = (view::<T>(xs, xl)?, view::<T>(ys, yl)?);
        // SAFETY: one thread per output element.
        let out = unsafe { dev.alloc::<T>(t * h)? };
        let f = dev.get_or_load_custom_func(name, MODULE, PTX)?;
        let mut b = f.builder();
        b.arg(&x);
        b.arg(&y);
        b.arg(pos);
        b.arg(w);
        b.arg(&out);
        candle_core::builder_arg!(b, t as i32, h as i32, k as i32);
        let cfg = LaunchConfig { grid_dim: (t as u32, blocks(h, 256), 1), block_dim: (256, 1, 1), shared_mem_bytes: 0 };
        // SAFETY: the argument list matches the kernel's signature.
        unsafe { b.launch(cfg) }.w()?;
        Ok(wrap(out, dev))
    }
    let pos = view::<u32>(ps, pl)?;
    let w = view::<f32>(ws, wl)?;
    let dims = (t, h, k);
    match xs.dtype() {
        DType::F32 => run::<f32>("moe_combine_f32", xs, xl, ys, yl, &pos, &w, dims),
        DType::BF16 => run::<half::bf16>("moe_combine_bf16", xs, xl, ys, yl, &pos, &w, dims),
        DType::F16 => run::<half::f16>("moe_combine_f16", xs, xl, ys, yl, &pos, &w, dims),
        d => bail!("moe-combine: {d:?} is not supported"),
    }
}

pub(crate) fn silu_mul(s: &CudaStorage, l: &Layout, r: usize, i: usize) -> Result<CudaStorage> {
    fn run<T: CudaDType + DeviceRepr>(
        name: &str,
        s: &CudaStorage,
        l: &Layout,
        r: usize,
        i: usize,
    ) -> Result<CudaStorage> {
        let dev = s.device();
        let gu = view::<T>(s, l)?;
        // SAFETY: one thread per output element.
        let out = unsafe { dev.alloc::<T>(r * i)? };
        let f = dev.get_or_load_custom_func(name, MODULE, PTX)?;
        let mut b = f.builder();
        b.arg(&gu);
        b.arg(&out);
        candle_core::builder_arg!(b, r as i32, i as i32);
        let cfg = LaunchConfig { grid_dim: (r as u32, blocks(i, 256), 1), block_dim: (256, 1, 1), shared_mem_bytes: 0 };
        // SAFETY: the argument list matches the kernel's signature.
        unsafe { b.launch(cfg) }.w()?;
        Ok(wrap(out, dev))
    }
    match s.dtype() {
        DType::F32 => run::<f32>("silu_mul_f32", s, l, r, i),
        DType::BF16 => run::<half::bf16>("silu_mul_bf16", s, l, r, i),
        DType::F16 => run::<half::f16>("silu_mul_f16", s, l, r, i),
        d => bail!("silu-mul: {d:?} is not supported"),
    }
}
