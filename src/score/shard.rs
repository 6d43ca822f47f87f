//! `--shard I/N`: one of N deterministic parts of the candidates, for scoring on N machines.
//!
//! Decision: a shard is a set of whole instances, by a hash of the instance id (FNV-1a, 64
//! bits). So it does not depend on the order or number of inputs, on run names or on the
//! machine; every candidate of an instance is scored by one shard (its store reports whole
//! instances); and shards are balanced in expectation. `I` counts from 1.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::hash::fnv1a;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Shard {
    /// 1..=count.
    pub(crate) index: u32,
    pub(crate) count: u32,
}

impl Shard {
    /// Whether instance `id` belongs to this shard.
    pub(crate) fn holds(&self, id: &str) -> bool {
        (fnv1a(id.as_bytes()) % self.count as u64) as u32 == self.index - 1
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?}: expected I/N with 1 <= I <= N, such as 1/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (i.trim().parse::<u32>().map_err(|_| bad())?, n.trim().parse::<u32>().map_err(|_| bad())?);
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl TryFrom<String> for Shard {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Shard> for String {
    fn from(s: Shard) -> String {
        s.to_string()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_instances() {
        let shards: Vec<Shard> = (1..=3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        let ids: Vec<String> = (0..300).map(|i| format!("django__django-{i}")).collect();
        let mut sizes = [0; 3];
        for id in &ids {
            let owners: Vec<usize> = (0..3).filter(|&k| shards[k].holds(id)).collect();
            assert_eq!(owners.len(), 1, "{id}");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&n| n > 60), "{sizes:?}");
        assert!("0/3".parse::<Shard>().is_err() && "4/3".parse::<Shard>().is_err() && "x".parse::<Shard>().is_err());
        assert_eq!(serde_json::to_string(&shards[1]).unwrap(), "\"2/3\"");
    }
}
