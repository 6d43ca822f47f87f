//! One instance's comparisons as numbers: which ordered pairs to judge (the schedule), and the
//! soft wins W of every candidate from what was judged (`Contest`).
//!
//! p(i beats j) is the mean of P(A) with i first and 1 - P(A) with j first (position bias
//! cancels); an order without an answer (its prompt did not fit) is left out of the mean.
//! Empty candidates are never shown to a model: a non-empty candidate beats an empty one
//! (p = 1) and two empty ones tie (p = 1/2).
//!
//! Decision (W when not every pair is judged): W_i = (n - 1) x the mean of p(i beats j) over
//! the j it was compared with, which is the plain sum over j for a full round robin and puts a
//! tournament's pivots (compared with everyone) and the rest (compared with a few) on one
//! scale. A non-empty candidate with no comparison at all in a set (a tournament's pair left
//! unjudged inside a k-subset) gets the neutral (n - 1) / 2; one every comparison of which
//! failed (its prompts cannot fit) is unscored: no W, ranked last, as the pointwise scorer's
//! unscored candidates.

pub(crate) use crate::prompt::pairwise::ROUND_ROBIN_MAX;

/// One instance's judged comparisons, on its candidates `0..n` (grid order within the
/// instance).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Contest {
    pub(crate) n: usize,
    /// (i, j, p(i beats j)) with i < j, one per compared pair (the empty ones' included).
    pub(crate) beats: Vec<(usize, usize, f64)>,
    pub(crate) empty: Vec<bool>,
    /// Non-empty candidates whose every comparison failed.
    pub(crate) unscored: Vec<bool>,
}

impl Contest {
    /// The contest of `n` candidates (`empty[i]`: no patch) from ordered judgements
    /// (a, b, P(A) with a first; `None`: no answer).
    pub(crate) fn new(empty: &[bool], orders: impl IntoIterator<Item = (usize, usize, Option<f64>)>) -> Contest {
        let n = empty.len();
        let mut sums: std::collections::BTreeMap<(usize, usize), (f64, usize)> = Default::default();
        let mut tried = vec![false; n];
        for (a, b, p) in orders {
            tried[a] = true;
            tried[b] = true;
            let Some(p) = p else { continue };
            let (key, p) = if a < b { ((a, b), p) } else { ((b, a), 1.0 - p) };
            let e = sums.entry(key).or_default();
            e.0 += p;
            e.1 += 1;
        }
        let mut answered = vec![false; n];
        let mut beats: Vec<(usize, usize, f64)> = sums
            .into_iter()
            .map(|((i, j), (s, c))| {
                answered[i] = true;
                answered[j] = true;
                (i, j, s / c as f64)
            })
            .collect();
        for i in 0..n {
            for j in i + 1..n {
                match (empty[i], empty[j]) {
                    (false, false) => {}
                    (true, true) => beats.push((i, j, 0.5)),
                    (false, true) => beats.push((i, j, 1.0)),
                    (true, false) => beats.push((i, j, 0.0)),
                }
            }
        }
        beats.sort_by_key(|&(i, j, _)| (i, j));
        let unscored = (0..n).map(|i| !empty[i] && tried[i] && !answered[i]).collect();
        Contest { n, beats, empty: empty.to_vec(), unscored }
    }

    /// Each candidate's opponents and p(it beats them), opponents ascending: what every
    /// computation of W walks (a tournament's candidates met a few others, not n - 1).
    pub(crate) fn opponents(&self) -> Opponents {
        let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.n];
        for &(i, j, p) in &self.beats {
            adj[i].push((j, p));
            adj[j].push((i, 1.0 - p));
        }
        for a in &mut adj {
            a.sort_by_key(|&(j, _)| j);
        }
        let dense = (self.n <= 64).then(|| Dense::new(self, &adj)).flatten();
        Opponents { adj, inside: vec![false; self.n], dense }
    }

    /// The opponents without bit masks: the path of contests of more than 64 candidates.
    #[cfg(test)]
    pub(crate) fn lists_only(&self) -> Opponents {
        Opponents { dense: None, ..self.opponents() }
    }

    /// Prepares `o` (this contest's opponents) for sets of `size` members (`None`: any size):
    /// `ranked` visits fewer members with the size known.
    pub(crate) fn sets_of(&self, o: &mut Opponents, size: Option<usize>) {
        if let Some(d) = &mut o.dense {
            d.rank(self, size);
        }
    }

    /// Soft wins of the candidates in `members` (`None` outside it, and for unscored ones).
    pub(crate) fn wins(&self, members: &[bool]) -> Vec<Option<f64>> {
        let list: Vec<usize> = (0..self.n).filter(|&i| members[i]).collect();
        let mut w = Vec::new();
        self.wins_of(&mut self.opponents(), &list, &mut w);
        let mut out = vec![None; self.n];
        for (&i, x) in list.iter().zip(w) {
            out[i] = x;
        }
        out
    }

    /// The soft wins of the candidates `list` into `out` (by position in `list`): the one
    /// computation of W, so that the scores and best@k agree to the bit.
    pub(crate) fn wins_of(&self, o: &mut Opponents, list: &[usize], out: &mut Vec<Option<f64>>) {
        let size = list.len();
        out.clear();
        if let Some(d) = &o.dense {
            // The same sums in the same order (opponents by ascending index), from bit masks.
            let set = list.iter().fold(0u64, |m, &i| m | 1 << i);
            out.extend(list.iter().map(|&i| (!self.unscored[i]).then(|| d.win(i, set, size))));
            return;
        }
        list.iter().for_each(|&i| o.inside[i] = true);
        for &i in list {
            if self.unscored[i] {
                out.push(None);
                continue;
            }
            let (mut sum, mut count) = (0.0f64, 0usize);
            for &(j, p) in &o.adj[i] {
                if o.inside[j] {
                    sum += p;
                    count += 1;
                }
            }
            out.push(Some(soft_wins(sum, count, size)));
        }
        list.iter().for_each(|&i| o.inside[i] = false);
    }

    /// Calls `f` with each candidate of `list` that has the greatest key (non-empty before
    /// empty, then W; an unscored candidate's W is -inf): the top of the set, ties all passed,
    /// each once, in list order. `w` is a reused buffer. The definition, for contests `ranked`
    /// does not take (more than 64 candidates).
    pub(crate) fn tops(&self, o: &mut Opponents, list: &[usize], w: &mut Vec<Option<f64>>, mut f: impl FnMut(usize)) {
        let key = |i: usize, w: Option<f64>| (!self.empty[i], w.unwrap_or(f64::NEG_INFINITY));
        self.wins_of(o, list, w);
        let mut top = None;
        for (t, &i) in list.iter().enumerate() {
            if better(key(i, w[t]), top) {
                top = Some(key(i, w[t]));
            }
        }
        list.iter().zip(w.iter()).filter(|&(&i, &x)| Some(key(i, x)) == top).for_each(|(&i, _)| f(i));
    }

    /// The contest in rank space for sets of the size `sets_of` last prepared, with each
    /// candidate's label (`resolved`): what best@k's draws run on. `None` where `o` has no
    /// bit masks (more than 64 candidates, or a judged pair with an empty one).
    pub(crate) fn ranked<'a>(&self, o: &'a Opponents, resolved: &[bool]) -> Option<Ranked<'a>> {
        let d = o.dense.as_ref()?;
        let mask = |f: &dyn Fn(usize) -> bool| {
            d.by_rank.iter().enumerate().filter(|&(_, &i)| f(i as usize)).fold(0u64, |m, (r, _)| m | 1 << r)
        };
        let rows = d
            .by_rank
            .iter()
            .map(|&i| {
                let i = i as usize;
                let (degree, list) = d.few[i];
                let (mut ranks, mut p) = ([0u8; 8], [0f64; 8]);
                if degree != u8::MAX {
                    for t in 0..degree as usize {
                        ranks[t] = d.rank[list[t] as usize];
                        p[t] = d.p[i * 64 + list[t] as usize];
                    }
                }
                Row { degree, ranks, p }
            })
            .collect();
        Some(Ranked {
            d,
            resolved: mask(&|i| resolved[i]),
            empty: mask(&|i| self.empty[i]),
            unscored: mask(&|i| self.unscored[i]),
            rows,
        })
    }
}

/// Whether key `k` (non-empty, W) replaces the top so far (the first key always does).
#[inline]
fn better(k: (bool, f64), top: Option<(bool, f64)>) -> bool {
    match top {
        None => true,
        Some(t) => (k.0 && !t.0) || (k.0 == t.0 && k.1 > t.1),
    }
}

/// A dense contest with candidates named by rank (their place in the order members are
/// visited, `Dense::rank`), so that a set is one `u64` of ranks and a member's class and
/// label are bits: best@k's millions of draws, each a set of ranks (`Ranked::share`).
pub(crate) struct Ranked<'a> {
    d: &'a Dense,
    resolved: u64,
    empty: u64,
    unscored: u64,
    /// By rank: the opponents of a candidate with at most 8, as ranks, with p, in the order
    /// `Dense::win` adds them.
    rows: Vec<Row>,
}

struct Row {
    /// `u8::MAX`: more than 8 opponents (then W is summed by `Dense::win`).
    degree: u8,
    ranks: [u8; 8],
    p: [f64; 8],
}

impl Ranked<'_> {
    /// Each candidate's rank.
    pub(crate) fn rank(&self) -> &[u8] {
        &self.d.rank
    }

    /// The expected label of the pick among the members `set` (ranks): the share of resolved
    /// members among those at the greatest key (non-empty before empty, then W recomputed in
    /// the set; unscored last), as `tops` and a mean of their labels give, to the bit.
    ///
    /// Only the winning label matters, so the label with fewer members is searched for its
    /// top (members visited by an upper bound of their W, `Dense::bound`, up to the first
    /// whose bound is below the top so far), and the other only until one of its members
    /// beats that top (then the pick has its label) or none can reach it (then the ties
    /// decide). Every W compared is `Dense::win`'s, from the same additions in the same order.
    pub(crate) fn share(&self, set: u64) -> f64 {
        let (res, un) = (set & self.resolved, set & !self.resolved);
        if res == 0 || un == 0 {
            return (res != 0) as u8 as f64;
        }
        let mut s = Scan { r: self, set, size: set.count_ones() as usize, in_candidates: 0 };
        let resolved_first = res.count_ones() <= un.count_ones();
        let (first, second) = if resolved_first { (res, un) } else { (un, res) };
        let (top, a) = s.best(first);
        match s.ties(second, top) {
            None => (!resolved_first) as u8 as f64,
            Some(b) => {
                let sum = if resolved_first { a } else { b };
                sum as f64 / (a + b) as f64
            }
        }
    }
}

/// One set's visit (`Ranked::share`).
struct Scan<'a, 'b> {
    r: &'b Ranked<'a>,
    set: u64,
    size: usize,
    /// The set as candidate indices, made when a member of more than 8 opponents needs it.
    in_candidates: u64,
}

impl Scan<'_, '_> {
    /// Member `r`'s key.
    #[inline]
    fn key(&mut self, r: usize) -> (bool, f64) {
        let non_empty = self.r.empty >> r & 1 == 0;
        if self.r.unscored >> r & 1 == 1 {
            return (non_empty, f64::NEG_INFINITY);
        }
        let row = &self.r.rows[r];
        if row.degree != u8::MAX {
            // Dense::win's sum: the opponents in its order.
            let terms = (0..row.degree as usize).map(|t| (row.p[t], self.set >> row.ranks[t] & 1));
            let (sum, count) = masked_sum(terms);
            return (non_empty, soft_wins(sum, count, self.size));
        }
        if self.in_candidates == 0 {
            let mut bits = self.set;
            while bits != 0 {
                self.in_candidates |= 1 << self.r.d.by_rank[bits.trailing_zeros() as usize];
                bits &= bits - 1;
            }
        }
        (non_empty, self.r.d.win(self.r.d.by_rank[r] as usize, self.in_candidates, self.size))
    }

    /// Whether no member of rank `r` or after can reach key `top`: those after are in a lower
    /// class, or in its class with a lower bound.
    #[inline]
    fn out_of_reach(&self, r: usize, top: (bool, f64)) -> bool {
        let non_empty = self.r.empty >> r & 1 == 0;
        let scale = self.size.saturating_sub(1) as f64;
        (top.0 && !non_empty) || (non_empty == top.0 && scale * self.r.d.bound[r] < top.1)
    }

    /// The greatest key among `members` (ranks, not empty) and how many have it.
    fn best(&mut self, mut members: u64) -> ((bool, f64), usize) {
        let (mut top, mut tied) = (None, 0);
        while members != 0 {
            let r = members.trailing_zeros() as usize;
            members &= members - 1;
            if top.is_some_and(|t| self.out_of_reach(r, t)) {
                break;
            }
            let k = self.key(r);
            if better(k, top) {
                (top, tied) = (Some(k), 0);
            }
            if Some(k) == top {
                tied += 1;
            }
        }
        (top.expect("a member"), tied)
    }

    /// How many of `members` have key `top`; `None` as soon as one has a greater key.
    fn ties(&mut self, mut members: u64, top: (bool, f64)) -> Option<usize> {
        let mut tied = 0;
        while members != 0 {
            let r = members.trailing_zeros() as usize;
            members &= members - 1;
            if self.out_of_reach(r, top) {
                break;
            }
            let k = self.key(r);
            if better(k, Some(top)) {
                return None;
            }
            tied += (k == top) as usize;
        }
        Some(tied)
    }
}

/// The sum of the p of `terms` (p, 1 if that opponent is in the set else 0), in their order,
/// and how many were in: every p or +0.0 added, without branches (the sum never is -0.0, so
/// adding +0.0 changes no bit).
#[inline]
fn masked_sum(terms: impl Iterator<Item = (f64, u64)>) -> (f64, usize) {
    let (mut sum, mut count) = (0.0f64, 0usize);
    for (p, inside) in terms {
        sum += f64::from_bits(p.to_bits() & 0u64.wrapping_sub(inside));
        count += inside as usize;
    }
    (sum, count)
}

/// W from the sum of p over the `count` compared members of a set of `size`: the plain sum when
/// every other member was compared, else (size - 1) x their mean, the neutral (size - 1) / 2
/// when none was.
#[inline]
fn soft_wins(sum: f64, count: usize, size: usize) -> f64 {
    let scale = size.saturating_sub(1) as f64;
    match count {
        0 => scale * 0.5,
        c if c == size - 1 => sum,
        c => scale * sum / c as f64,
    }
}

/// A contest's comparisons by candidate, and a scratch membership mask (`Contest::opponents`).
pub(crate) struct Opponents {
    adj: Vec<Vec<(usize, f64)>>,
    inside: Vec<bool>,
    dense: Option<Dense>,
}

/// A contest of at most 64 candidates as bit masks: what best@k's draws run on.
struct Dense {
    /// Each candidate's opponents.
    masks: Vec<u64>,
    /// p(i beats j) at `i * 64 + j`.
    p: Vec<f64>,
    /// Candidates in the order `Ranked::share` visits them: non-empty scored ones by `bound`,
    /// highest first, then unscored ones, then empty ones by `bound`.
    by_rank: Vec<u8>,
    /// Each candidate's place in `by_rank`.
    rank: Vec<u8>,
    /// By rank: a bound of W / (size - 1) (-inf for the unscored, whose W is none).
    bound: Vec<f64>,
    /// Each candidate's number of opponents and the opponents, when it has at most 8
    /// (`u8::MAX`: more).
    few: Vec<(u8, [u8; 8])>,
    /// Whether every p is within [0, 1] (the bounds hold).
    in_range: bool,
    /// Each candidate's sums of its m largest p, m = 0..=degree.
    largest: Vec<Vec<f64>>,
}

impl Dense {
    /// `None` when a pair was judged although a candidate is empty: its p is then also set by
    /// the rule for empty ones, the lists hold both and the masks cannot.
    fn new(c: &Contest, adj: &[Vec<(usize, f64)>]) -> Option<Dense> {
        let mut masks = vec![0u64; c.n];
        let mut p = vec![0f64; c.n * 64];
        for (i, a) in adj.iter().enumerate() {
            for &(j, pij) in a {
                if masks[i] & 1 << j != 0 {
                    return None;
                }
                masks[i] |= 1 << j;
                p[i * 64 + j] = pij;
            }
        }
        let in_range = c.beats.iter().all(|&(_, _, x)| (0.0..=1.0).contains(&x));
        let largest = adj
            .iter()
            .map(|a| {
                let mut row: Vec<f64> = a.iter().map(|&(_, x)| x).collect();
                row.sort_by(|x, y| y.total_cmp(x));
                std::iter::once(0.0)
                    .chain(row.iter().scan(0.0, |s, &x| {
                        *s += x;
                        Some(*s)
                    }))
                    .collect()
            })
            .collect();
        // Candidates with at most 8 opponents: their opponents listed, summed without branches.
        let few = adj
            .iter()
            .map(|a| {
                let mut l = [0u8; 8];
                a.iter().take(8).enumerate().for_each(|(t, &(j, _))| l[t] = j as u8);
                (if a.len() <= 8 { a.len() as u8 } else { u8::MAX }, l)
            })
            .collect();
        let mut d =
            Dense { masks, p, few, in_range, largest, by_rank: Vec::new(), rank: vec![0; c.n], bound: Vec::new() };
        d.rank(c, None);
        Some(d)
    }

    /// The visiting order and bounds for sets of `size` members (`None`: any size).
    ///
    /// Decision (the bound): W is (size - 1) x the mean of p over the compared members (the
    /// plain sum when all size - 1 were compared), or (size - 1) / 2 when none was. In a set of
    /// `size` of the n candidates, at least m = degree - (n - size) of a candidate's opponents
    /// are in it, and a mean of at least m of its p is at most the mean of its m largest; with
    /// m = 0 possible, the bound is max(0.5, its largest p). Without a size, m = 0. Rounding of
    /// sums of at most 63 terms in [0, 1] moves them by less than 1e-13 relative; the bound is
    /// raised by 1e-9 relative. A p outside [0, 1] (never from a judge) turns the bound off
    /// (+inf: every member computed).
    fn rank(&mut self, c: &Contest, size: Option<usize>) {
        let bound_of = |i: usize| {
            if c.unscored[i] {
                return f64::NEG_INFINITY;
            }
            if !self.in_range {
                return f64::INFINITY;
            }
            let sums = &self.largest[i];
            let degree = sums.len() - 1;
            let least = size.map_or(0, |s| degree.saturating_sub(c.n - s.min(c.n)));
            let mean = match least {
                0 if degree == 0 => 0.5,
                0 => sums[1].max(0.5),
                m => sums[m] / m as f64,
            };
            mean * (1.0 + 1e-9)
        };
        let bounds: Vec<f64> = (0..c.n).map(bound_of).collect();
        let class = |i: usize| {
            if c.empty[i] {
                0
            } else if c.unscored[i] {
                1
            } else {
                2
            }
        };
        let mut by_rank: Vec<usize> = (0..c.n).collect();
        by_rank.sort_by(|&a, &b| class(b).cmp(&class(a)).then(bounds[b].total_cmp(&bounds[a])).then(a.cmp(&b)));
        for (r, &i) in by_rank.iter().enumerate() {
            self.rank[i] = r as u8;
        }
        self.bound = by_rank.iter().map(|&i| bounds[i]).collect();
        self.by_rank = by_rank.into_iter().map(|i| i as u8).collect();
    }

    /// W of candidate `i` in the set `set` of `size` members: p summed over the compared
    /// members in ascending order, as the lists do.
    #[inline]
    fn win(&self, i: usize, set: u64, size: usize) -> f64 {
        let row = &self.p[i * 64..i * 64 + 64];
        let (degree, list) = self.few[i];
        if degree != u8::MAX {
            // Every opponent in ascending order.
            let (sum, count) = masked_sum(list[..degree as usize].iter().map(|&j| (row[j as usize], set >> j & 1)));
            return soft_wins(sum, count, size);
        }
        let (mut sum, mut count) = (0.0f64, 0usize);
        let mut bits = self.masks[i] & set;
        while bits != 0 {
            sum += row[bits.trailing_zeros() as usize];
            count += 1;
            bits &= bits - 1;
        }
        soft_wins(sum, count, size)
    }
}

/// The comparisons of a tournament's first pass: a ring over the non-empty candidates `order`
/// (already in their seeded order), each neighbour pair in both orders (2 x m comparisons;
/// for m = 2 the one pair).
pub(crate) fn ring(order: &[usize]) -> Vec<(usize, usize)> {
    let m = order.len();
    let mut pairs = Vec::new();
    for t in 0..m {
        let (a, b) = (order[t], order[(t + 1) % m]);
        if a != b && !(m == 2 && t == 1) {
            pairs.push((a, b));
            pairs.push((b, a));
        }
    }
    pairs
}

/// Every ordered pair of `members` (a full round robin: m (m - 1) comparisons).
pub(crate) fn round_robin(members: &[usize]) -> Vec<(usize, usize)> {
    members.iter().flat_map(|&a| members.iter().filter(move |&&b| b != a).map(move |&b| (a, b))).collect()
}

/// The second pass: each pivot against every other non-empty candidate and the pivots against
/// each other, both orders, less the pairs `done` already holds. At most
/// 2 (k (m - k) + k (k - 1) / 2) comparisons.
pub(crate) fn pivots(
    pivots: &[usize],
    members: &[usize],
    done: &std::collections::HashSet<(usize, usize)>,
) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &p in pivots {
        for &o in members {
            let key = (p.min(o), p.max(o));
            if o == p || !seen.insert(key) {
                continue;
            }
            for (a, b) in [(p, o), (o, p)] {
                if !done.contains(&(a, b)) {
                    pairs.push((a, b));
                }
            }
        }
    }
    pairs
}

/// The most comparisons an instance of m non-empty candidates gets with `k` pivots.
#[cfg(test)]
pub(crate) fn bound(m: usize, k: usize) -> usize {
    if m <= ROUND_ROBIN_MAX {
        return m * m.saturating_sub(1);
    }
    let k = k.min(m);
    2 * (m + k * (m - k) + k * k.saturating_sub(1) / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_mask_wins_equal_the_adjacency_lists_bit_for_bit() {
        let mut r = crate::rng::SplitMix64(7);
        for (n, judged) in [(5, 10), (17, 40), (64, 300), (64, 2000)] {
            let empty: Vec<bool> = (0..n).map(|_| r.below(6) == 0).collect();
            let orders: Vec<(usize, usize, Option<f64>)> = (0..judged)
                .map(|_| {
                    let a = r.below(n);
                    let b = (a + 1 + r.below(n - 1)) % n;
                    // Some unanswered orders, so that some candidates are unscored.
                    (a, b, (r.below(9) != 0).then(|| r.below(1000) as f64 / 999.0))
                })
                .collect();
            // Judged pairs never include an empty candidate (they are not shown to a model).
            let orders: Vec<_> = orders.into_iter().filter(|&(a, b, _)| !empty[a] && !empty[b]).collect();
            let c = Contest::new(&empty, orders);
            let mut dense = c.opponents();
            assert!(dense.dense.is_some());
            let mut lists = Opponents { dense: None, ..c.opponents() };
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for _ in 0..200 {
                let k = 1 + r.below(n);
                let mut perm: Vec<usize> = (0..n).collect();
                for t in 0..k {
                    perm.swap(t, t + r.below(n - t));
                }
                c.wins_of(&mut dense, &perm[..k], &mut a);
                c.wins_of(&mut lists, &perm[..k], &mut b);
                let bits = |v: &[Option<f64>]| v.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
                assert_eq!(bits(&a), bits(&b), "n {n}, k {k}");
            }
        }
        assert!(Contest::new(&[false; 65], []).opponents().dense.is_none());
        // A judged pair with an empty candidate: p twice in the lists, so no masks.
        assert!(Contest::new(&[false, true], [(0, 1, Some(0.3))]).opponents().dense.is_none());
    }

    #[test]
    fn share_is_the_label_mean_of_the_tops_to_the_bit() {
        let mut r = crate::rng::SplitMix64(11);
        for case in 0..60 {
            let n = [5, 9, 16, 33, 64][case % 5];
            let empty: Vec<bool> = (0..n).map(|_| r.below(7) == 0).collect();
            let members: Vec<usize> = (0..n).filter(|&i| !empty[i]).collect();
            // A tournament's schedule (a ring and pivots) or a random one; p coarse on some
            // cases so that equal W (ties) happen, some orders unanswered (unscored members).
            let coarse = case % 2 == 0;
            let pairs = if case % 3 == 0 {
                let mut done = std::collections::HashSet::new();
                let mut pairs = ring(&members);
                done.extend(pairs.iter().copied());
                pairs.extend(pivots(&members[..members.len().min(3)], &members, &done));
                pairs
            } else {
                (0..4 * n)
                    .map(|_| (r.below(n), r.below(n)))
                    .filter(|&(a, b)| a != b && !empty[a] && !empty[b])
                    .collect()
            };
            let orders: Vec<(usize, usize, Option<f64>)> = pairs
                .into_iter()
                .map(|(a, b)| {
                    let p = if coarse { r.below(3) as f64 / 2.0 } else { r.unit() };
                    (a, b, (r.below(12) != 0).then_some(p))
                })
                .collect();
            let c = Contest::new(&empty, orders);
            // Labels resolved at a rate from none to all.
            let rate = [0, 1, 3, 6, 10][case % 5];
            let labels: Vec<bool> = (0..n).map(|_| r.below(10) < rate).collect();
            for _ in 0..300 {
                let k = 1 + r.below(n);
                let mut perm: Vec<usize> = (0..n).collect();
                for t in 0..k {
                    perm.swap(t, t + r.below(n - t));
                }
                let list = &perm[..k];
                // The definition: every member's W, the greatest (non-empty, W) key, the
                // mean label of all at it.
                let mut w = Vec::new();
                c.wins_of(&mut c.lists_only(), list, &mut w);
                let key = |t: usize| (!c.empty[list[t]], w[t].unwrap_or(f64::NEG_INFINITY));
                let best = (0..k).map(key).fold((false, f64::NEG_INFINITY), |a, b| {
                    if (b.0 && !a.0) || (b.0 == a.0 && b.1 > a.1) { b } else { a }
                });
                let top: Vec<usize> = (0..k).filter(|&t| key(t) == best).map(|t| list[t]).collect();
                let want = top.iter().filter(|&&i| labels[i]).count() as f64 / top.len() as f64;
                let mut o = c.opponents();
                for size in [Some(k), None] {
                    c.sets_of(&mut o, size);
                    let ranked = c.ranked(&o, &labels).expect("at most 64 candidates, none judged empty");
                    let set = list.iter().fold(0u64, |s, &i| s | 1 << ranked.rank()[i]);
                    let got = ranked.share(set);
                    assert_eq!(got.to_bits(), want.to_bits(), "case {case}, n {n}, k {k}, size {size:?}");
                }
                // The lists' path (more than 64 candidates) gives the same tops.
                let mut got = Vec::new();
                c.tops(&mut c.lists_only(), list, &mut Vec::new(), |i| got.push(i));
                assert_eq!(got, top, "case {case}, lists");
            }
        }
    }

    /// W by the definition, written out: p(i beats j) from the raw orders, summed.
    fn brute_sum(n: usize, empty: &[bool], orders: &[(usize, usize, f64)]) -> Vec<f64> {
        let mut w = vec![0.0; n];
        for i in 0..n {
            for j in 0..n {
                if i == j {
                    continue;
                }
                let p = match (empty[i], empty[j]) {
                    (true, true) => 0.5,
                    (false, true) => 1.0,
                    (true, false) => 0.0,
                    _ => {
                        let fwd: Vec<f64> = orders.iter().filter(|o| o.0 == i && o.1 == j).map(|o| o.2).collect();
                        let bwd: Vec<f64> = orders.iter().filter(|o| o.0 == j && o.1 == i).map(|o| 1.0 - o.2).collect();
                        (fwd.iter().sum::<f64>() + bwd.iter().sum::<f64>()) / (fwd.len() + bwd.len()) as f64
                    }
                };
                w[i] += p;
            }
        }
        w
    }

    #[test]
    fn round_robin_wins_are_sums_and_orders_cancel_position_bias() {
        let empty = [false, false, true, false];
        let mut r = crate::rng::SplitMix64(7);
        let mut orders = Vec::new();
        for (a, b) in round_robin(&[0, 1, 3]) {
            orders.push((a, b, (r.next_u64() % 1000) as f64 / 1000.0));
        }
        let c = Contest::new(&empty, orders.iter().map(|&(a, b, p)| (a, b, Some(p))));
        let w = c.wins(&[true; 4]);
        let want = brute_sum(4, &empty, &orders);
        for i in 0..4 {
            assert!((w[i].unwrap() - want[i]).abs() < 1e-12, "{i}: {w:?} vs {want:?}");
        }
        // Soft wins share out every pair: they sum to n (n - 1) / 2.
        assert!((w.iter().map(|x| x.unwrap()).sum::<f64>() - 6.0).abs() < 1e-12);
        // A judge that always answers A (pure position bias) gives everyone the same W.
        let biased = Contest::new(&[false; 3], round_robin(&[0, 1, 2]).into_iter().map(|(a, b)| (a, b, Some(1.0))));
        assert_eq!(biased.wins(&[true; 3]), vec![Some(1.0); 3]);
    }

    #[test]
    fn unanswered_and_unjudged_candidates() {
        // Candidate 2's every comparison failed: unscored; the others keep their W.
        let orders = vec![(0, 1, Some(0.8)), (1, 0, Some(0.4)), (0, 2, None), (2, 0, None), (1, 2, None), (2, 1, None)];
        let c = Contest::new(&[false; 3], orders);
        assert_eq!(c.unscored, vec![false, false, true]);
        let w = c.wins(&[true; 3]);
        assert_eq!(w[2], None);
        // 0 beats 1 with (0.8 + 0.6) / 2 = 0.7, over one of two opponents: W = 2 x 0.7.
        assert!((w[0].unwrap() - 1.4).abs() < 1e-12 && (w[1].unwrap() - 0.6).abs() < 1e-12);
        // Inside {0, 3} of a tournament where 0 and 3 were never compared: neutral.
        let t = Contest::new(&[false; 4], vec![(0, 1, Some(0.9)), (2, 3, Some(0.2))]);
        assert_eq!(t.wins(&[true, false, false, true]), vec![Some(0.5), None, None, Some(0.5)]);
    }

    #[test]
    fn tournament_stays_within_its_bound() {
        for m in 9..40 {
            for k in 0..5 {
                let members: Vec<usize> = (0..m).collect();
                let first = ring(&members);
                assert_eq!(first.len(), 2 * m);
                let done: std::collections::HashSet<(usize, usize)> = first.iter().copied().collect();
                let second = pivots(&members[..k.min(m)], &members, &done);
                let all: std::collections::HashSet<(usize, usize)> = first.iter().chain(&second).copied().collect();
                assert_eq!(all.len(), first.len() + second.len(), "no comparison twice");
                assert!(all.len() <= bound(m, k), "m {m} k {k}: {} > {}", all.len(), bound(m, k));
                // Every pivot met every other candidate, in both orders.
                for &p in &members[..k] {
                    for &o in &members {
                        assert!(o == p || (all.contains(&(p, o)) && all.contains(&(o, p))));
                    }
                }
            }
        }
        assert_eq!(round_robin(&[0, 1, 2, 3]).len(), 12);
        assert_eq!(bound(8, 3), 56);
    }
}
