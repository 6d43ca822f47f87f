//! Stable 64-bit hashes: the same value on every platform and in every version (Rust's
//! `DefaultHasher` promises neither), so that what depends on them (shards, tie-breaks) is
//! reproducible anywhere.

/// FNV-1a, 64 bits.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_more(FNV_OFFSET, bytes)
}

/// FNV-1a's starting state.
pub(crate) const FNV_OFFSET: u64 = 0xcbf29ce484222325;

/// FNV-1a continued from state `h` over `bytes`: `fnv1a(a ++ b) == fnv1a_more(fnv1a(a), b)`,
/// for hashing text that is never built as one string.
pub(crate) fn fnv1a_more(h: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(h, |h, &b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

/// SplitMix64's finalizer: every input bit moves every output bit, so the order of two keys
/// carries no trace of FNV's weak low bits.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_values() {
        // FNV-1a test vectors (Fowler, Noll, Vo): "" and "a".
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x85944171f73967e8);
        // SplitMix64's first output for seed 0 is mix(0x9E3779B97F4A7C15).
        assert_eq!(mix(0x9E37_79B9_7F4A_7C15), 0xE220_A839_7B1D_CDAF);
    }
}
