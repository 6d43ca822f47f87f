//! `Batch`: token sequences packed into one forward pass without padding (text-embeddings-
//! inference's layout): the concatenated ids, each sequence's (start, len), and positions that
//! restart at 0 in every sequence. Every sequence attends only to itself, so its scores do not
//! depend on what it is packed with; `pack` groups sequences under a token budget, and an
//! out-of-memory pass is split in halves and retried (`forward_splitting`) with the same scores.

use std::ops::Range;

use anyhow::Result;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Batch {
    pub(crate) ids: Vec<u32>,
    /// (start, len) of each sequence in `ids`.
    pub(crate) seqs: Vec<(usize, usize)>,
    /// Position of each token within its own sequence.
    pub(crate) positions: Vec<u32>,
}

impl Batch {
    pub(crate) fn new(seqs: &[&[u32]]) -> Batch {
        let total = seqs.iter().map(|s| s.len()).sum();
        let mut b = Batch { ids: Vec::with_capacity(total), seqs: Vec::new(), positions: Vec::with_capacity(total) };
        for s in seqs {
            b.seqs.push((b.ids.len(), s.len()));
            b.ids.extend_from_slice(s);
            b.positions.extend(0..s.len() as u32);
        }
        b
    }

    /// Number of sequences.
    pub(crate) fn len(&self) -> usize {
        self.seqs.len()
    }

    pub(crate) fn tokens(&self) -> usize {
        self.ids.len()
    }

    /// The sequences `r`, as their own batch.
    pub(crate) fn slice(&self, r: Range<usize>) -> Batch {
        let seqs: Vec<&[u32]> = self.seqs[r].iter().map(|&(s, l)| &self.ids[s..s + l]).collect();
        Batch::new(&seqs)
    }
}

/// Groups consecutive sequences of lengths `lens` into passes of at most `budget` tokens (a
/// sequence longer than the budget gets a pass of its own). Returns index ranges into `lens`.
pub(crate) fn pack(lens: &[usize], budget: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut tokens) = (0, 0);
    for (i, &l) in lens.iter().enumerate() {
        if i > start && tokens + l > budget {
            out.push(start..i);
            start = i;
            tokens = 0;
        }
        tokens += l;
    }
    if start < lens.len() {
        out.push(start..lens.len());
    }
    out
}

/// Whether an error is the device running out of memory.
pub(crate) fn is_oom(e: &anyhow::Error) -> bool {
    let s = format!("{e:#}");
    s.contains("OUT_OF_MEMORY") || s.contains("out of memory")
}

/// A forward pass: a batch in, the head's logits per sequence out ((yes, no) by default).
pub(crate) type Forward<'a, T = [f32; 2]> = dyn FnMut(&Batch) -> Result<Vec<T>> + 'a;

/// Runs `forward` over `batch`; when the device runs out of memory, splits the batch in halves
/// and retries, down to one sequence.
pub(crate) fn forward_splitting<T>(batch: &Batch, forward: &mut Forward<T>) -> Result<Vec<T>> {
    match forward(batch) {
        Err(e) if is_oom(&e) && batch.len() > 1 => {
            let half = batch.len() / 2;
            let mut out = forward_splitting(&batch.slice(0..half), forward)?;
            out.extend(forward_splitting(&batch.slice(half..batch.len()), forward)?);
            Ok(out)
        }
        Err(e) if is_oom(&e) => Err(e.context(format!(
            "one sequence of {} tokens does not fit on the device; lower --max-tokens",
            batch.tokens()
        ))),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_layout_and_budget() {
        let b = Batch::new(&[&[5, 6, 7], &[8], &[9, 10]]);
        assert_eq!(b.ids, vec![5, 6, 7, 8, 9, 10]);
        assert_eq!(b.seqs, vec![(0, 3), (3, 1), (4, 2)]);
        assert_eq!(b.positions, vec![0, 1, 2, 0, 0, 1]);
        assert_eq!(b.slice(1..3), Batch::new(&[&[8], &[9, 10]]));
        assert_eq!(pack(&[3, 1, 2, 9, 1], 4), vec![0..2, 2..3, 3..4, 4..5]);
        assert_eq!(pack(&[3, 1, 2], 100), vec![0..3]);
        assert_eq!(pack(&[], 4), Vec::<Range<usize>>::new());
    }

    #[test]
    fn out_of_memory_splits_the_pass() {
        let seqs: Vec<Vec<u32>> = (1..=5).map(|n| vec![n; n as usize]).collect();
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        // A fake device that holds at most 6 tokens per pass.
        let mut forward = |b: &Batch| -> Result<Vec<[f32; 2]>> {
            if b.tokens() > 6 {
                anyhow::bail!("DriverError(CUDA_ERROR_OUT_OF_MEMORY, \"out of memory\")");
            }
            Ok(b.seqs.iter().map(|&(s, _)| [b.ids[s] as f32, 0.0]).collect())
        };
        let got = forward_splitting(&Batch::new(&refs), &mut forward).unwrap();
        assert_eq!(got.iter().map(|l| l[0]).collect::<Vec<_>>(), vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        let e = forward_splitting(&Batch::new(&[&[7u32; 7]]), &mut forward).unwrap_err();
        assert!(format!("{e:#}").contains("lower --max-tokens"), "{e:#}");
        let e = forward_splitting::<[f32; 2]>(&Batch::new(&[&[1u32]]), &mut |_| anyhow::bail!("shape mismatch"))
            .unwrap_err();
        assert_eq!(e.to_string(), "shape mismatch", "other errors pass through");
    }
}
