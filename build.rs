//! Under the `cuda` feature: compiles `kernels/moe.cu` (swerm's MoE routing kernels) to PTX with
//! the nvcc on PATH (or $NVCC), for compute capability $CUDA_COMPUTE_CAP (default 90, the
//! H100/H200), into $OUT_DIR/moe.ptx, which `src/model/moe_ops.rs` embeds. The CPU build does
//! nothing here. `scripts/build-cuda.sh` sets up nvcc from PyPI wheels.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=kernels/moe.cu");
    println!("cargo::rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo::rerun-if-env-changed=NVCC");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("moe.ptx");
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "90".into());
    let nvcc = std::env::var("NVCC").unwrap_or_else(|_| "nvcc".into());
    let status = Command::new(&nvcc)
        .args(["--ptx", "-O3", "-std=c++17"])
        .arg(format!("-arch=compute_{cap}"))
        .arg("kernels/moe.cu")
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("running {nvcc} (set NVCC or put nvcc on PATH): {e}"));
    assert!(status.success(), "{nvcc} failed on kernels/moe.cu");
}
