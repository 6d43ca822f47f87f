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
    pub fn resolve(self) -> Result<Device> {
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
    if !candle_core::utils::cuda_is_available() {
        bail!("--device cuda:{i}: this swerm was built without CUDA (build with --features cuda)");
    }
    // With dynamically loaded CUDA libraries a missing driver panics inside cudarc: contain it,
    // without the default hook printing the panic.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| Device::new_cuda(i));
    std::panic::set_hook(hook);
    match result {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(anyhow!("--device cuda:{i}: {e}")),
        Err(_) => bail!("--device cuda:{i}: the CUDA driver library could not be loaded"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DTypeSpec {
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
    pub fn resolve(self, device: &Device) -> DType {
        match self {
            DTypeSpec::Auto if device.is_cpu() => DType::F32,
            DTypeSpec::Auto => DType::BF16,
            DTypeSpec::F32 => DType::F32,
            DTypeSpec::BF16 => DType::BF16,
            DTypeSpec::F16 => DType::F16,
        }
    }
}

pub fn dtype_name(d: DType) -> &'static str {
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
