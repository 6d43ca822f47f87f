//! The instance x run grid every stage shares: the dataset's candidates, the score table's
//! columns, the store lines placed on them (`score::store::place`), the labels and the paired
//! statistics all index cells the same way, instance-major: cell `i * runs + r` is run `r`'s
//! candidate for instance `i`. Instances are sorted by id and runs by name (that order never
//! decides a pick: selection breaks ties by patch content).

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Grid {
    pub(crate) instances: Vec<String>,
    pub(crate) runs: Vec<String>,
}

impl Grid {
    pub(crate) fn new(instances: Vec<String>, runs: Vec<String>) -> Grid {
        Grid { instances, runs }
    }

    pub(crate) fn n_runs(&self) -> usize {
        self.runs.len()
    }

    /// The number of cells (candidates, holes included).
    pub(crate) fn cells(&self) -> usize {
        self.instances.len() * self.runs.len()
    }

    /// The cell of run `run`'s candidate for instance `instance`.
    pub(crate) fn idx(&self, instance: usize, run: usize) -> usize {
        instance * self.runs.len() + run
    }

    /// (instance index, run index) of a cell.
    pub(crate) fn coords(&self, idx: usize) -> (usize, usize) {
        (idx / self.runs.len(), idx % self.runs.len())
    }

    /// The cells of instance `i`.
    pub(crate) fn range(&self, i: usize) -> std::ops::Range<usize> {
        let r = self.runs.len();
        i * r..(i + 1) * r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_instance_major() {
        let g = Grid::new(vec!["a".into(), "b".into(), "c".into()], vec!["r1".into(), "r2".into()]);
        assert_eq!((g.cells(), g.n_runs()), (6, 2));
        for idx in 0..g.cells() {
            let (i, r) = g.coords(idx);
            assert_eq!(g.idx(i, r), idx);
            assert!(g.range(i).contains(&idx));
        }
        assert_eq!(g.range(2), 4..6);
    }
}
