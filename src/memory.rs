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

/// mimalloc's `purge_delay` option (its index in the bundled v2's `mi_option_t`).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The default purge delay, set once at the start of `main`.
pub fn set_default_purge_delay() {
    // SAFETY: sets an option's default value; mimalloc reads options atomically.
    unsafe { libmimalloc_sys::mi_option_set_default(PURGE_DELAY, 100) };
}

/// Never gives freed memory back (a model is about to run on the CPU), unless the environment
/// says otherwise.
pub(crate) fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: as above.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
    }
}
