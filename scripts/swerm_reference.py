"""An independent, deliberately naive reference for swerm's numbers (standard library only).

Nothing here shares code or formulas with the Rust implementation: pass@k and best@k are
averaged over every k-subset explicitly (no closed forms), AUC counts pairs, ECE bins by
floor(p * B). Used by make_demo.py (fixture expectations) and check_report.py (checks any
swerm output directory), and timed as a peer by bench_rerank.py.
"""

import math
from itertools import combinations

NEG_INF = float("-inf")


def normalize_patch(p):
    """swerm's consensus normalization, written from its documentation."""
    if not p:
        return ""
    p = p.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for line in p.split("\n"):
        line = line.rstrip()
        if line.startswith("index "):
            h = line[6:].split(" ")[0]
            if ".." in h:
                a, b = h.split("..", 1)
                hexd = set("0123456789abcdefABCDEF")
                if a and b and set(a) <= hexd and set(b) <= hexd:
                    continue
        out.append(line)
    while out and out[0] == "":
        out.pop(0)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def consensus_scores(patches):
    """Share of the non-empty candidates with the same normalized patch; empty -> 0."""
    norm = [normalize_patch(p) for p in patches]
    nonempty = [x for x in norm if x]
    return [0.0 if not x else nonempty.count(x) / len(nonempty) for x in norm]


def pass_at_k(labels, k):
    subs = list(combinations(range(len(labels)), k))
    return sum(any(labels[i] for i in s) for s in subs) / len(subs)


def best_at_k(scores, labels, k):
    subs = list(combinations(range(len(labels)), k))
    total = 0.0
    for s in subs:
        top = max(scores[i] for i in s)
        tied = [i for i in s if scores[i] == top]
        total += sum(labels[i] for i in tied) / len(tied)
    return total / len(subs)


def auc(scores, labels):
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return None
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


def ece(p, y, bins=15):
    groups = {}
    for pi, yi in zip(p, y):
        b = min(int(pi * bins), bins - 1)
        groups.setdefault(b, []).append((pi, yi))
    n = len(p)
    return sum(len(g) / n * abs(sum(a for a, _ in g) / len(g) - sum(b for _, b in g) / len(g)) for g in groups.values())


def brier(p, y):
    return sum((a - b) ** 2 for a, b in zip(p, y)) / len(p)


def seeded_hash(text):
    """FNV-1a (64 bits) of the UTF-8 bytes, xor the seed 0x7377_6572_6d2d_7469, through
    SplitMix64's finalizer (swerm's documentation of its patch keys)."""
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & SplitMix64.M
    z = h ^ 0x73776572_6D2D7469
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & SplitMix64.M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & SplitMix64.M
    return z ^ (z >> 31)


def content_key(patch):
    """The content key: the seeded hash of the normalized patch; None for an empty patch."""
    n = normalize_patch(patch)
    return seeded_hash(n) if n else None


def bytes_key(patch):
    """The seeded hash of the exact patch text; None for an empty patch."""
    return seeded_hash(patch) if normalize_patch(patch) else None


def select(scores, empty, keys=None, byte_keys=None, missing=None):
    """Highest score; a non-empty patch beats an empty one (and among empty ones a record beats
    a hole); among equal scores the smallest content key wins (a key beats no key), then the
    smallest key of the exact bytes; otherwise the earliest run."""
    keys = keys or [None] * len(scores)
    byte_keys = byte_keys or [None] * len(scores)
    missing = missing or [False] * len(scores)

    def rank(r):
        # larger is better
        return (not empty[r], not (empty[r] and missing[r]), scores[r], keys[r] is not None, -(keys[r] or 0),
                byte_keys[r] is not None, -(byte_keys[r] or 0))

    best = 0
    for r in range(1, len(scores)):
        if rank(r) > rank(best):
            best = r
    return best


def pick(scores, cands):
    """select() over grid entries (score, label, empty, key, bytes key[, missing])."""
    return select(scores, [c[2] for c in cands], [c[3] for c in cands], [c[4] for c in cands],
                  [len(c) > 5 and bool(c[5]) for c in cands])


def copies_of(cands, p):
    """The runs holding candidate p's patch: non-empty candidates of its content key."""
    if cands[p][2] or cands[p][3] is None:
        return [p]
    return [r for r, c in enumerate(cands) if not c[2] and c[3] == cands[p][3]]


def ties(grid, order=None):
    """(instances whose top key is shared by two or more different patches, of those the ones
    with mixed labels), by enumeration."""
    rank = lambda s: NEG_INF if s is None else s  # noqa: E731
    tied = mixed = 0
    for i, cands in grid.items():
        keys = order[i] if order else [rank(c[0]) for c in cands]
        live = [r for r, c in enumerate(cands) if not c[2]]
        if not live:
            continue
        top = max(keys[r] for r in live)
        at_top = [r for r in live if keys[r] == top]
        patches = set()
        for r in at_top:
            patches.add(cands[r][3] if cands[r][3] is not None else ("no key", r))
        if len(patches) >= 2:
            tied += 1
            labels = {cands[r][1] for r in at_top}
            mixed += len(labels) == 2
    return tied, mixed


def default_ks(n):
    ks, k = [], 1
    while k < n:
        ks.append(k)
        k *= 2
    return ks + [n]


def metrics(grid, ece_bins=15, order=None):
    """grid: {instance_id: [(score or None, label, empty), ...] in run order}; order: the
    within-instance keys of a tie-break chain ({instance_id: [key, ...]}), else the scores."""
    insts = sorted(grid)
    n = len(grid[insts[0]])
    ks = default_ks(n)
    out = {"instances": len(insts), "runs": n, "k": ks}
    rank = lambda s: NEG_INF if s is None else s
    within = lambda i: order[i] if order else [rank(c[0]) for c in grid[i]]  # noqa: E731
    out["pass_at_k"] = {str(k): sum(pass_at_k([c[1] for c in grid[i]], k) for i in insts) / len(insts) for k in ks}
    out["best_at_k"] = {
        str(k): sum(best_at_k(within(i), [c[1] for c in grid[i]], k) for i in insts) / len(insts)
        for k in ks
    }
    mean_label = sum(c[1] for i in insts for c in grid[i]) / (n * len(insts))
    out["random_at_k"] = {str(k): mean_label for k in ks}
    picks = [pick(within(i), grid[i]) for i in insts]
    # The pick is a patch: credited with the mean label of every non-empty candidate holding
    # the same content key (itself alone when empty or keyless), and shared among their runs.
    holders = [copies_of(grid[i], p) for i, p in zip(insts, picks)]
    sel = [sum(grid[i][r][1] for r in h) / len(h) for i, h in zip(insts, holders)]
    out["selected"] = {"resolved": sum(sel), "rate": sum(sel) / len(insts),
                       "mixed_copies": sum(1 for i, h in zip(insts, holders) if len({grid[i][r][1] for r in h}) == 2),
                       "expected_under_random_ties": out["best_at_k"][str(n)] if n in ks else
                       sum(best_at_k(within(i), [c[1] for c in grid[i]], n) for i in insts) / len(insts)}
    # A pick that is a hole (no run has a record) is credited to none.
    out["picks"] = [0.0] * n
    for i, p, h in zip(insts, picks, holders):
        if len(grid[i][p]) > 5 and grid[i][p][5]:
            continue
        for r in h:
            out["picks"][r] += 1 / len(h)
    out["run_rates"] = [sum(grid[i][r][1] for i in insts) / len(insts) for r in range(n)]
    # AUC, ECE and Brier over the scored candidates only.
    allc = [c for i in insts for c in grid[i] if c[0] is not None]
    out["auc"] = auc([c[0] for c in allc], [c[1] for c in allc])
    ne = [c for c in allc if not c[2]]
    out["auc_non_empty"] = auc([c[0] for c in ne], [c[1] for c in ne])
    per = []
    for i in insts:
        scored = [r for r, c in enumerate(grid[i]) if c[0] is not None]
        per.append(auc([within(i)[r] for r in scored], [grid[i][r][1] for r in scored]))
    per = [a for a in per if a is not None]
    out["auc_per_instance"] = sum(per) / len(per) if per else None
    if allc and all(0 <= c[0] <= 1 for c in allc):
        out["ece"] = ece([c[0] for c in allc], [c[1] for c in allc], ece_bins)
        out["brier"] = brier([c[0] for c in allc], [c[1] for c in allc])
    out["ties"] = ties(grid, order)
    out["unscored"] = sum(1 for i in insts for c in grid[i] if c[0] is None and not c[2])
    return out


def read_order(path):
    """The `tie_rank` keys of a combined store ({instance_id: [rank, ...]} in run order), after
    checking they never contradict the scores (a higher score never ranks lower); None when the
    store has none."""
    import json

    rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    if not any("tie_rank" in r for r in rows):
        return None
    runs = sorted({r["run"] for r in rows})
    by = {}
    for r in rows:
        by.setdefault(r["instance_id"], {})[r["run"]] = r
    order = {}
    for i, g in by.items():
        cands = [g.get(run, {"score": None, "tie_rank": NEG_INF}) for run in runs]
        key = [c.get("tie_rank", NEG_INF) for c in cands]
        sc = [NEG_INF if c["score"] is None else c["score"] for c in cands]
        for a in range(len(runs)):
            for b in range(len(runs)):
                assert not (sc[a] > sc[b] and key[a] < key[b]), f"{i}: tie_rank contradicts the scores"
        order[i] = key
    return order


def read_scores(path):
    """scores.jsonl -> grid of (score, label, empty, content key, bytes key, missing), runs in
    name order (holes: absent pairs become (None, False, True, None, None, True))."""
    import json

    rows, runs = [], []
    for line in open(path, encoding="utf-8"):
        if line.strip():
            r = json.loads(line)
            rows.append(r)
            if r["run"] not in runs:
                runs.append(r["run"])
    runs.sort()
    grid = {}
    for r in rows:
        key = int(r["patch_hash"], 16) if r.get("patch_hash") is not None else None
        bkey = int(r["patch_bytes_hash"], 16) if r.get("patch_bytes_hash") is not None else None
        grid.setdefault(r["instance_id"], {})[r["run"]] = (r["score"], bool(r.get("resolved", False)),
                                                         r.get("empty", False) or r.get("missing", False), key, bkey,
                                                         r.get("missing", False))
    return {i: [g.get(run, (None, False, True, None, None, True)) for run in runs] for i, g in grid.items()}


# ---------------------------------------------------------------- pairwise judges
def pairwise_contest(lines, runs, empty):
    """One instance's p(i beats j) for every compared pair of run indices i < j, from its
    ordered comparisons [(a_run, b_run, p_a or None)]: the mean of P(A) with i first and
    1 - P(A) with j first over the orders that have an answer; a non-empty candidate beats an
    empty one, two empty ones tie. Also the non-empty candidates every comparison of which
    failed (unscored)."""
    at = {r: x for x, r in enumerate(runs)}
    got, tried, answered = {}, set(), set()
    for a, b, p in lines:
        i, j = at[a], at[b]
        tried |= {i, j}
        if p is None:
            continue
        answered |= {i, j}
        key, v = ((i, j), p) if i < j else ((j, i), 1 - p)
        got.setdefault(key, []).append(v)
    p = {k: sum(v) / len(v) for k, v in got.items()}
    n = len(runs)
    for i in range(n):
        for j in range(i + 1, n):
            if empty[i] or empty[j]:
                p[(i, j)] = 0.5 if empty[i] and empty[j] else (1.0 if empty[j] else 0.0)
    unscored = {i for i in tried if not empty[i] and i not in answered}
    return p, unscored


def pairwise_wins(p, unscored, members):
    """Soft wins within `members` (a set of run indices): (size - 1) x the mean p(i beats j)
    over the members j compared with i; the neutral (size - 1) / 2 when none was; None for an
    unscored candidate."""
    size = len(members)
    out = {}
    for i in members:
        if i in unscored:
            out[i] = None
            continue
        vals = [p[(i, j)] if (i, j) in p else 1 - p[(j, i)] for j in members if j != i and ((i, j) in p or (j, i) in p)]
        if len(vals) == size - 1:
            out[i] = sum(vals)
        elif vals:
            out[i] = (size - 1) * sum(vals) / len(vals)
        else:
            out[i] = (size - 1) * 0.5
    return out


def pairwise_best_at_k(p, unscored, labels, empty, k):
    """The mean over every k-subset of the label of its top candidate by (non-empty, W), ties
    averaged."""
    subs = list(combinations(range(len(labels)), k))
    total = 0.0
    for s in subs:
        w = pairwise_wins(p, unscored, set(s))
        key = {i: (not empty[i], NEG_INF if w[i] is None else w[i]) for i in s}
        top = max(key.values())
        tied = [i for i in s if key[i] == top]
        total += sum(labels[i] for i in tied) / len(tied)
    return total / len(subs)


# ---------------------------------------------------------------- paired differences (compare)
class SplitMix64:
    """Steele, Lea & Flood (2014), as published (Vigna's splitmix64.c)."""

    M = (1 << 64) - 1

    def __init__(self, seed):
        self.x = seed & self.M

    def next(self):
        self.x = (self.x + 0x9E3779B97F4A7C15) & self.M
        z = self.x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.M
        return z ^ (z >> 31)

    def below(self, n):
        return (self.next() * n) >> 64


def quantile(sorted_values, q):
    """numpy's default 'linear' method."""
    h = (len(sorted_values) - 1) * q
    lo, hi = int(h // 1), -int(-h // 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


def auc_fast(scores, labels):
    """The same statistic as auc() (pairs, ties 1/2), counted with bisection for big inputs."""
    from bisect import bisect_left, bisect_right

    neg = sorted(s for s, y in zip(scores, labels) if not y)
    pos = [s for s, y in zip(scores, labels) if y]
    if not pos or not neg:
        return None
    wins = sum(bisect_left(neg, s) + 0.5 * (bisect_right(neg, s) - bisect_left(neg, s)) for s in pos)
    return wins / (len(pos) * len(neg))


def paired_differences(grid_a, grid_b, ks, resamples, seed, level=0.95, order_a=None, order_b=None):
    """a minus b: best@k per k, selected, pooled AUC; percentile intervals over instance
    resamples drawn as swerm draws them (n draws of below(n) per resample). order_a/order_b:
    a set's within-instance keys of a tie-break chain, as in `metrics`."""
    insts = sorted(grid_a)
    rank = lambda s: NEG_INF if s is None else s

    def per_instance(grid, order, i):
        c = grid[i]
        s, y = order[i] if order else [rank(x[0]) for x in c], [x[1] for x in c]
        return [best_at_k(s, y, k) for k in ks] + [y[pick(s, c)]]

    rows = [[x - z for x, z in zip(per_instance(grid_a, order_a, i), per_instance(grid_b, order_b, i))] for i in insts]

    def pooled_auc(grid, idx):
        cs = [c for i in idx for c in grid[insts[i]]]
        return auc_fast([rank(c[0]) for c in cs], [c[1] for c in cs])

    def auc_diff(idx):
        a, b = pooled_auc(grid_a, idx), pooled_auc(grid_b, idx)
        return None if a is None or b is None else a - b

    n = len(insts)
    rng = SplitMix64(seed)
    draws = [[] for _ in range(len(ks) + 1)]
    auc_draws = []
    for _ in range(resamples):
        idx = [rng.below(n) for _ in range(n)]
        for j in range(len(ks) + 1):
            draws[j].append(sum(rows[i][j] for i in idx) / n)
        d = auc_diff(idx)
        if d is not None:
            auc_draws.append(d)
    tail = (1 - level) / 2

    def ci(point, d):
        d = sorted(d)
        return {"diff": point, "lo": quantile(d, tail), "hi": quantile(d, 1 - tail)}

    allidx = list(range(n))
    out = {
        "best_at_k": {str(k): ci(sum(r[j] for r in rows) / n, draws[j]) for j, k in enumerate(ks)},
        "selected": ci(sum(r[-1] for r in rows) / n, draws[-1]),
    }
    point = auc_diff(allidx)
    out["auc"] = None if point is None else ci(point, auc_draws)
    return out


# ---------------------------------------------------------------- calibration (cal.json)
def logit(p):
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def mean_log_loss(z, y, a, b):
    s = 0.0
    for zi, yi in zip(z, y):
        t = a * zi + b
        t = -t if yi else t  # -log sigmoid(-t) ... = log(1 + e^t)
        s += t + math.log1p(math.exp(-t)) if t > 0 else math.log1p(math.exp(t))
    return s / len(z)


def golden(f, lo, hi, iters=200):
    """Minimum of a unimodal f on [lo, hi] by golden-section search (no derivatives: an
    optimizer independent of swerm's Newton steps)."""
    g = (math.sqrt(5) - 1) / 2
    c, d = hi - g * (hi - lo), lo + g * (hi - lo)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - g * (hi - lo)
            fc = f(c)
        else:
            lo, c, fc = c, d, fd
            d = lo + g * (hi - lo)
            fd = f(d)
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2


def fit_map(method, z, y):
    """The maximum-likelihood map: ('temperature', T) with p = sigmoid(z / T), or
    ('platt', a, b) with p = sigmoid(a z + b). Log-loss is convex in (a, b): golden-section on
    a, with the best b for each a found by golden-section too."""
    if method == "temperature":
        a = golden(lambda a: mean_log_loss(z, y, a, 0.0), 1e-6, 50.0)
        return ("temperature", 1 / a)
    best_b = lambda a: golden(lambda b: mean_log_loss(z, y, a, b), -50.0, 50.0, 120)  # noqa: E731
    a = golden(lambda a: mean_log_loss(z, y, a, best_b(a)), -50.0, 50.0, 120)
    return ("platt", a, best_b(a))


def apply_map(m, z):
    return sigmoid(z / m[1]) if m[0] == "temperature" else sigmoid(m[1] * z + m[2])


def folds_of(n, folds, seed):
    order, rng = list(range(n)), SplitMix64(seed)
    for i in range(n - 1, 0, -1):
        j = rng.below(i + 1)
        order[i], order[j] = order[j], order[i]
    fold = [0] * n
    for pos, inst in enumerate(order):
        fold[inst] = pos % folds
    return fold


def cross_validate(data, method, folds, seed, bins):
    """data: per instance, a list of (z, y). Out-of-fold before/after numbers."""
    fold = folds_of(len(data), folds, seed)
    before, after, labels = [], [], []
    for f in range(folds):
        train = [c for i, inst in enumerate(data) if fold[i] != f for c in inst]
        held = [c for i, inst in enumerate(data) if fold[i] == f for c in inst]
        if not held:
            continue
        m = fit_map(method, [z for z, _ in train], [y for _, y in train])
        before += [sigmoid(z) for z, _ in held]
        after += [apply_map(m, z) for z, _ in held]
        labels += [y for _, y in held]
    ll = lambda p: mean_log_loss([logit(x) for x in p], labels, 1.0, 0.0)  # noqa: E731
    return {"candidates": len(labels), "ece_before": ece(before, labels, bins), "ece_after": ece(after, labels, bins),
            "brier_before": brier(before, labels), "brier_after": brier(after, labels),
            "log_loss_before": ll(before), "log_loss_after": ll(after)}
