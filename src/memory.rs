//! How long the allocator (mimalloc, the binary's global allocator) keeps freed memory committed
//! before giving it back to the kernel. Memory given back and asked for again is page faults and
//! kernel page zeroing: measured with `perf`, ~20% of an RL-scale rerank and 21-31% of a CPU
//! prefill at mimalloc's default of 10 ms.
//!
//! Two settings, measured side by side (2 cores; MIMALLOC_PURGE_DELAY in the environment wins
//! over both):
//! - 100 ms for everything (`main`): RL-scale rerank (2,438 x 64, `scripts/bench_rerank.py`)
//!   1.78 s / 258 MB at 10 ms, 1.15 s / 268 MB at 100 ms, 1.04 s / 350 MB never purging;
//! - never, once a model runs on the CPU ([`keep_freed_memory`]): a forward pass frees and
//!   allocates the same multi-megabyte buffers layer after layer, and a layer can take longer
//!   than 100 ms (4 x 1.25k-token prompts on Qwen3-0.6B's shape: 32.8 s at 100 ms, 24.5 s never).
//!   The peak stays what the pass needs: the freed buffers are what the next layer reuses.
//!
//! Transparent huge pages (mimalloc asks the kernel for them with `madvise`) are off until a
//! model runs on the CPU. A 2 MiB page is zeroed whole at its first touch and counted whole in
//! the RSS, however little of it a reader's many small allocations use: `swerm eval` of a pairwise
//! store at RL scale (`scripts/bench_pairwise_eval.py`) spent 17-23% of its time in the kernel's
//! `clear_page_erms` under huge-page faults, and peaked at 525 MB with them, 448 MB without. A
//! forward pass is the other way round (multi-megabyte tensors, read again and again):
//! Qwen3-0.6B's shape at f32, 4 x 1.25k tokens, 200-210 tok/s with them, 180-189 without (bf16
//! 153-158 vs 149). MIMALLOC_ALLOW_THP in the environment wins over both.

/// mimalloc's `purge_delay` option (its index in the bundled mimalloc v3's `mi_option_t`, the
/// same as v2's).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The defaults, set once at the start of `main`: the purge delay, and no huge pages.
pub fn set_defaults() {
    // SAFETY: sets an option's default value; mimalloc reads options atomically.
    unsafe { libmimalloc_sys::mi_option_set_default(PURGE_DELAY, 100) };
    huge_pages(false);
}

/// Never gives freed memory back and uses huge pages (a model is about to run on the CPU),
/// unless the environment says otherwise.
pub(crate) fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: as above.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
    }
    huge_pages(true);
}

/// Transparent huge pages on or off for the whole process (`prctl(PR_SET_THP_DISABLE)`, which
/// the kernel checks at every page fault, so it also covers memory mapped before), unless
/// MIMALLOC_ALLOW_THP is set. A no-op where the kernel has no such switch.
fn huge_pages(on: bool) {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes a flag and no pointers; an error (an old kernel) leaves
    // the setting as it was.
    unsafe {
        libc::prctl(
            libc::PR_SET_THP_DISABLE,
            (!on) as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        );
    }
    #[cfg(not(target_os = "linux"))]
    let _ = on;
}
