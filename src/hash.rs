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
    bytes.iter().fold(h, |h, &b| step(h, b))
}

/// One byte of FNV-1a.
#[inline(always)]
fn step(h: u64, b: u8) -> u64 {
    (h ^ b as u64).wrapping_mul(0x100000001b3)
}

/// FNV-1a of several byte streams at once, each given as the slices it is made of: the same
/// values as `fnv1a` of each stream's concatenation. One chain is bound by its multiply's
/// latency (~4 cycles a byte); chains of independent streams stepped in the same loop overlap
/// in the CPU, so four streams cost about what two do alone (measured: two chains 4.1 cycles a
/// byte, four 2.1).
pub(crate) fn fnv1a_streams<const N: usize>(streams: [&[&[u8]]; N]) -> [u64; N] {
    let mut s: [Stream; N] = streams.map(|pieces| Stream { h: FNV_OFFSET, cur: &[], rest: pieces });
    // s[..live] have bytes left; a stream that ends moves behind them (`pos`: where it was).
    let mut pos: [usize; N] = std::array::from_fn(|k| k);
    let mut live = N;
    loop {
        let mut k = 0;
        while k < live {
            if s[k].refill() {
                k += 1;
            } else {
                live -= 1;
                s.swap(k, live);
                pos.swap(k, live);
            }
        }
        // Up to four of them stepped together until one ends.
        let group = &mut s[..live.min(4)];
        match group.len() {
            0 => break,
            1 => together::<1>(group),
            2 => together::<2>(group),
            3 => together::<3>(group),
            _ => together::<4>(group),
        }
    }
    let mut out = [0; N];
    for (st, &k) in s.iter().zip(&pos) {
        out[k] = st.h;
    }
    out
}

/// One stream of [`fnv1a_streams`]: its state, the slice being read, the slices after it.
struct Stream<'a> {
    h: u64,
    cur: &'a [u8],
    rest: &'a [&'a [u8]],
}

impl Stream<'_> {
    /// Moves to the next non-empty slice if the current one is read; `false` once none is left.
    fn refill(&mut self) -> bool {
        while self.cur.is_empty() {
            let Some((first, rest)) = self.rest.split_first() else { return false };
            (self.cur, self.rest) = (first, rest);
        }
        true
    }
}

/// Steps `K` streams (each with bytes in `cur`) byte by byte in one loop until one of them has
/// no slice left.
fn together<const K: usize>(s: &mut [Stream]) {
    loop {
        if !s.iter_mut().all(Stream::refill) {
            return;
        }
        let n = s.iter().map(|st| st.cur.len()).min().unwrap_or(0);
        let mut h: [u64; K] = std::array::from_fn(|k| s[k].h);
        let c: [&[u8]; K] = std::array::from_fn(|k| &s[k].cur[..n]);
        // `i` indexes all K slices at once: the K chains step in the same iteration.
        #[allow(clippy::needless_range_loop)]
        for i in 0..n {
            for k in 0..K {
                h[k] = step(h[k], c[k][i]);
            }
        }
        for (k, st) in s.iter_mut().enumerate() {
            st.h = h[k];
            st.cur = &st.cur[n..];
        }
    }
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

    /// Streams of every shape (empty ones, empty slices, lengths that end in every order)
    /// hash as `fnv1a` of their concatenation.
    #[test]
    fn streams_hash_as_their_concatenation() {
        let mut rng = crate::rng::SplitMix64(11);
        let bytes: Vec<u8> = (0..4096).map(|_| rng.below(256) as u8).collect();
        for _ in 0..3000 {
            let mut pieces: Vec<Vec<&[u8]>> = Vec::new();
            for _ in 0..6 {
                let n = rng.below(5);
                pieces.push(
                    (0..n)
                        .map(|_| {
                            let a = rng.below(bytes.len());
                            &bytes[a..(a + rng.below(300)).min(bytes.len())]
                        })
                        .collect(),
                );
            }
            let want: Vec<u64> = pieces.iter().map(|p| fnv1a(&p.concat())).collect();
            let p: Vec<&[&[u8]]> = pieces.iter().map(Vec::as_slice).collect();
            assert_eq!(fnv1a_streams([p[0]]).to_vec(), want[..1]);
            assert_eq!(fnv1a_streams([p[0], p[1]]).to_vec(), want[..2]);
            assert_eq!(fnv1a_streams([p[0], p[1], p[2]]).to_vec(), want[..3]);
            assert_eq!(fnv1a_streams([p[0], p[1], p[2], p[3]]).to_vec(), want[..4]);
            assert_eq!(fnv1a_streams([p[0], p[1], p[2], p[3], p[4], p[5]]).to_vec(), want);
        }
    }

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
