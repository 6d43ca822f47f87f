//! `--device auto|cpu|cuda:N` and `--dtype auto|f32|bf16|f16`, parsed once into `DeviceSpec`
//! and `DTypeSpec` (before any input is read) and resolved to candle's `Device` and `DType`
//! when the model is built.

use std::str::FromStr;

use anyhow::{Result, anyhow, bail};
use candle_core::{DType, Device};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The first GPU when this build has CUDA and the machine a driver and a GPU; else the CPU.
    Auto,
    Cpu,
    Cuda(usize),
}

impl FromStr for DeviceSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(DeviceSpec::Auto),
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceSpec::Cuda)
                .ok_or_else(|| format!("{s:?}: expected auto, cpu or cuda:N")),
        }
    }
}

impl DeviceSpec {
    /// Refuses `cuda:N` in a build without CUDA, before anything is read or loaded.
    pub(crate) fn check_build(self) -> Result<()> {
        match self {
            DeviceSpec::Cuda(i) if !candle_core::utils::cuda_is_available() => {
                bail!("--device cuda:{i}: this swerm was built without CUDA (build with --features cuda)")
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn resolve(self) -> Result<Device> {
        match self {
            DeviceSpec::Cpu => Ok(Device::Cpu),
            DeviceSpec::Auto => {
                Ok(if candle_core::utils::cuda_is_available() { cuda(0).unwrap_or(Device::Cpu) } else { Device::Cpu })
            }
            DeviceSpec::Cuda(i) => cuda(i),
        }
    }
}

fn cuda(i: usize) -> Result<Device> {
    DeviceSpec::Cuda(i).check_build()?;
    // With dynamically loaded CUDA libraries a missing driver panics inside cudarc: contain it,
    // without the default hook printing the panic.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| Device::new_cuda(i));
    std::panic::set_hook(hook);
    match result {
        Ok(Ok(d)) => {
            pool::keep_memory(&d);
            #[cfg(feature = "cuda")]
            if let Device::Cuda(c) = &d {
                // SAFETY: swerm runs every kernel, copy and free on candle's one stream per
                // device, so no buffer needs events to order its uses across streams; cudarc
                // would otherwise record an event on every allocation and use.
                unsafe { c.cuda_stream().context().disable_event_tracking() };
            }
            Ok(d)
        }
        Ok(Err(e)) => Err(anyhow!("--device cuda:{i}: {e}")),
        Err(_) => bail!("--device cuda:{i}: the CUDA driver library could not be loaded"),
    }
}

/// CUDA's stream-ordered memory pool, which candle allocates from (`cuMemAllocAsync`). By
/// default the pool hands freed memory back to the driver at every synchronization (once per
/// layer in the forward: the expert offsets are read on the host), so each layer would pay for
/// fresh driver allocations; `keep_memory` raises the release threshold so that the pool keeps
/// what it has. Its high-water mark of memory in use is the true peak (`nvidia-smi`-style
/// readings after a synchronization miss what was freed before it).
pub(crate) mod pool {
    use candle_core::Device;

    #[cfg(feature = "cuda")]
    fn default_pool(dev: &Device) -> Option<candle_core::cuda_backend::cudarc::driver::sys::CUmemoryPool> {
        use candle_core::cuda_backend::cudarc::driver::sys;
        let Device::Cuda(d) = dev else { return None };
        let ctx = d.cuda_stream().context().clone();
        ctx.bind_to_thread().ok()?;
        let mut pool = std::ptr::null_mut();
        // SAFETY: plain driver calls on a live context's device; `pool` is an out-pointer.
        let r = unsafe { sys::cuDeviceGetDefaultMemPool(&mut pool, ctx.cu_device()) };
        (r == sys::CUresult::CUDA_SUCCESS).then_some(pool)
    }

    #[cfg(feature = "cuda")]
    fn attribute(
        dev: &Device,
        attr: candle_core::cuda_backend::cudarc::driver::sys::CUmemPool_attribute,
        set: Option<u64>,
    ) -> Option<u64> {
        use candle_core::cuda_backend::cudarc::driver::sys;
        let pool = default_pool(dev)?;
        let mut v: u64 = set.unwrap_or(0);
        let p = &mut v as *mut u64 as *mut std::ffi::c_void;
        // SAFETY: these attributes are 64-bit values (cuuint64_t), as the driver API documents.
        let r = unsafe {
            if set.is_some() {
                sys::cuMemPoolSetAttribute(pool, attr, p)
            } else {
                sys::cuMemPoolGetAttribute(pool, attr, p)
            }
        };
        (r == sys::CUresult::CUDA_SUCCESS).then_some(v)
    }

    /// Keeps freed memory in the pool (release threshold: unlimited). A no-op on the CPU.
    pub(crate) fn keep_memory(dev: &Device) {
        #[cfg(feature = "cuda")]
        {
            use candle_core::cuda_backend::cudarc::driver::sys::CUmemPool_attribute as A;
            if attribute(dev, A::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, Some(u64::MAX)).is_none() {
                crate::console::caution(None, "could not raise the CUDA memory pool's release threshold");
            }
        }
        let _ = dev;
    }

    /// Bytes in use at the pool's high-water mark since the device opened (None on the CPU).
    pub(crate) fn peak_bytes(dev: &Device) -> Option<u64> {
        #[cfg(feature = "cuda")]
        {
            use candle_core::cuda_backend::cudarc::driver::sys::CUmemPool_attribute as A;
            return attribute(dev, A::CU_MEMPOOL_ATTR_USED_MEM_HIGH, None);
        }
        #[allow(unreachable_code)]
        {
            let _ = dev;
            None
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DTypeSpec {
    /// f32 on the CPU (exact comparisons, no fast bf16 matmul there) and bf16 on CUDA.
    Auto,
    F32,
    BF16,
    F16,
}

impl FromStr for DTypeSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "auto" => DTypeSpec::Auto,
            "f32" | "float32" => DTypeSpec::F32,
            "bf16" | "bfloat16" => DTypeSpec::BF16,
            "f16" | "float16" => DTypeSpec::F16,
            _ => return Err(format!("{s:?}: expected auto, f32, bf16 or f16")),
        })
    }
}

impl DTypeSpec {
    pub(crate) fn resolve(self, device: &Device) -> DType {
        match self {
            DTypeSpec::Auto if device.is_cpu() => DType::F32,
            DTypeSpec::Auto => DType::BF16,
            DTypeSpec::F32 => DType::F32,
            DTypeSpec::BF16 => DType::BF16,
            DTypeSpec::F16 => DType::F16,
        }
    }
}

pub(crate) fn dtype_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "f32",
        DType::BF16 => "bf16",
        DType::F16 => "f16",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!("cuda:3".parse(), Ok(DeviceSpec::Cuda(3)));
        assert_eq!("cuda".parse(), Ok(DeviceSpec::Cuda(0)));
        assert!("gpu".parse::<DeviceSpec>().is_err() && "cuda:x".parse::<DeviceSpec>().is_err());
        assert_eq!("bfloat16".parse(), Ok(DTypeSpec::BF16));
        assert_eq!(DTypeSpec::Auto.resolve(&Device::Cpu), DType::F32);
        assert!("f8".parse::<DTypeSpec>().is_err());
    }
}
