//! Builds the two FlashAttention-2 files swerm needs (`flash_api.cu` and the bf16 / head-dim-128
//! / causal forward kernel) with the nvcc on PATH (or $NVCC) for $CUDA_COMPUTE_CAP (default 90)
//! into a static library, with no network access: the CUTLASS 3.5.0 headers (the version
//! FlashAttention 2 pins) come from the `candle-flash-attn` 0.9.1 crate, which ships them, found
//! in the cargo registry or given as $SWERM_CUTLASS_DIR (a directory holding `include/cute`).
//! `scripts/build-cuda.sh --flash-attn` fetches that crate.
//!
//! Dropout, ALiBi, soft-capping, local windows and uneven head dims are compiled out
//! (FLASHATTENTION_DISABLE_*), which cuts the template instantiations 16-fold. The objects are
//! cached in $SWERM_FLASH_ATTN_BUILD_DIR when set (keyed by a hash of sources and flags), since a
//! fresh `OUT_DIR` would otherwise rebuild them (several minutes on 2 cores).
use std::path::{Path, PathBuf};
use std::process::Command;

const SOURCES: [&str; 2] = ["kernels/flash_api.cu", "kernels/flash_fwd_hdim128_bf16_causal_sm80.cu"];

fn cutlass_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SWERM_CUTLASS_DIR") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cargo"));
    let registry = home.join("registry/src");
    for index in std::fs::read_dir(&registry).into_iter().flatten().flatten() {
        let d = index.path().join("candle-flash-attn-0.9.1/cutlass");
        if d.join("include/cute").is_dir() {
            return d;
        }
    }
    panic!(
        "CUTLASS 3.5.0 headers not found: fetch the candle-flash-attn 0.9.1 crate (scripts/build-cuda.sh \
         --flash-attn does) or set SWERM_CUTLASS_DIR to a directory holding include/cute ({} searched)",
        registry.display()
    );
}

fn fnv(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= u64::from(b);
        *hash = hash.wrapping_mul(1_099_511_628_211);
    }
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=kernels");
    for v in ["CUDA_COMPUTE_CAP", "NVCC", "SWERM_CUTLASS_DIR", "SWERM_FLASH_ATTN_BUILD_DIR"] {
        println!("cargo::rerun-if-env-changed={v}");
    }
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "90".into());
    let nvcc = std::env::var("NVCC").unwrap_or_else(|_| "nvcc".into());
    let cutlass = cutlass_dir();
    let mut flags: Vec<String> = [
        "-std=c++17",
        "-O3",
        "-U__CUDA_NO_HALF_OPERATORS__",
        "-U__CUDA_NO_HALF_CONVERSIONS__",
        "-U__CUDA_NO_HALF2_OPERATORS__",
        "-U__CUDA_NO_BFLOAT16_CONVERSIONS__",
        "--expt-relaxed-constexpr",
        "--expt-extended-lambda",
        "--use_fast_math",
        "-DFLASHATTENTION_DISABLE_DROPOUT",
        "-DFLASHATTENTION_DISABLE_ALIBI",
        "-DFLASHATTENTION_DISABLE_SOFTCAP",
        "-DFLASHATTENTION_DISABLE_LOCAL",
        "-DFLASHATTENTION_DISABLE_UNEVEN_K",
        "-Xcompiler",
        "-fPIC",
    ]
    .map(String::from)
    .to_vec();
    flags.push(format!("-gencode=arch=compute_{cap},code=sm_{cap}"));
    flags.push(format!("-I{}", cutlass.join("include").display()));

    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    fnv(&mut hash, flags.join(" ").as_bytes());
    let mut files: Vec<PathBuf> = std::fs::read_dir("kernels").expect("kernels/").flatten().map(|e| e.path()).collect();
    files.sort();
    for f in &files {
        fnv(&mut hash, f.to_string_lossy().as_bytes());
        fnv(&mut hash, &std::fs::read(f).expect("kernel source"));
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let dir = match std::env::var_os("SWERM_FLASH_ATTN_BUILD_DIR") {
        Some(d) => PathBuf::from(d).join(format!("{hash:016x}")),
        None => out.clone(),
    };
    std::fs::create_dir_all(&dir).expect("build dir");
    let lib = dir.join("libswermflashattn.a");
    if !lib.exists() {
        let objs: Vec<PathBuf> = std::thread::scope(|s| {
            let jobs: Vec<_> = SOURCES
                .iter()
                .map(|src| {
                    let obj = dir.join(Path::new(src).with_extension("o").file_name().unwrap());
                    let (nvcc, flags) = (&nvcc, &flags);
                    s.spawn(move || {
                        let st = Command::new(nvcc)
                            .args(flags)
                            .args(["-c", src, "-o"])
                            .arg(&obj)
                            .status()
                            .unwrap_or_else(|e| panic!("running {nvcc}: {e}"));
                        assert!(st.success(), "{nvcc} failed on {src}");
                        obj
                    })
                })
                .collect();
            jobs.into_iter().map(|j| j.join().expect("nvcc job")).collect()
        });
        let tmp = dir.join("libswermflashattn.a.tmp");
        let _ = std::fs::remove_file(&tmp);
        let st = Command::new("ar").arg("crs").arg(&tmp).args(&objs).status().expect("running ar");
        assert!(st.success(), "ar failed");
        std::fs::rename(&tmp, &lib).expect("placing the library");
    }
    println!("cargo::rustc-link-search=native={}", dir.display());
    println!("cargo::rustc-link-lib=static=swermflashattn");
    println!("cargo::rustc-link-lib=dylib=cudart");
    println!("cargo::rustc-link-lib=dylib=stdc++");
}
