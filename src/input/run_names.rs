//! Run names that clash: two inputs that would share a name (every OpenHands run is an
//! `output.jsonl`) take the name of their nearest parent directory that tells them apart; if
//! none does, the error lists them and asks for `NAME=PATH`.

use std::collections::{HashMap, HashSet};

use anyhow::{Result, bail};

use super::run_input::RunInput;

/// Gives runs that share a name the name of their nearest distinguishing parent directory.
pub(super) fn disambiguate(runs: &mut [RunInput]) -> Result<()> {
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in runs.iter().enumerate() {
        by_name.entry(r.name.clone()).or_default().push(i);
    }
    let mut clashes: Vec<Vec<usize>> = by_name.into_values().filter(|v| v.len() > 1).collect();
    clashes.sort();
    for group in clashes {
        if group.iter().any(|&i| runs[i].explicit) && group.iter().filter(|&&i| runs[i].explicit).count() > 1 {
            bail!("run name {:?} is given twice with NAME=PATH", runs[group[0]].name);
        }
        // One folder or file given twice (`runs/a` and `runs/a/`, or a glob that repeats it) is
        // not a clash of names: say so, naming it once.
        let canonical =
            |i: usize| runs[i].origin.canonicalize().unwrap_or_else(|_| runs[i].origin.clone()).display().to_string();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for &i in &group {
            if let Some(&j) = seen.get(&canonical(i)) {
                let (a, b) = (runs[j].origin.display().to_string(), runs[i].origin.display().to_string());
                match a == b {
                    true => bail!("{a} is given twice: give each run once"),
                    false => bail!("{a} is given twice (also as {b}): give each run once"),
                }
            }
            seen.insert(canonical(i), i);
        }
        let renamable: Vec<usize> = group.iter().copied().filter(|&i| !runs[i].explicit).collect();
        let taken: HashSet<String> = runs.iter().map(|r| r.name.clone()).collect();
        match distinguishing_names(runs, &renamable, &taken) {
            Some(names) => {
                for (i, n) in renamable.iter().zip(names) {
                    runs[*i].name = n;
                }
            }
            None => {
                let paths: Vec<String> = group.iter().map(|&i| runs[i].origin.display().to_string()).collect();
                bail!(
                    "several inputs would be run {:?} and no parent directory tells them apart ({}); name them with NAME=PATH",
                    runs[group[0]].name,
                    paths.join(", ")
                );
            }
        }
    }
    Ok(())
}

/// For the runs `group`, the names of their ancestors at the smallest depth at which all
/// differ from each other and from every name already `taken`.
fn distinguishing_names(runs: &[RunInput], group: &[usize], taken: &HashSet<String>) -> Option<Vec<String>> {
    let chains: Vec<Vec<String>> = group
        .iter()
        .map(|&i| {
            let o = runs[i].origin.canonicalize().unwrap_or_else(|_| runs[i].origin.clone());
            o.ancestors()
                .skip(1)
                .map(|a| a.file_name().and_then(|s| s.to_str()).unwrap_or("").to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .collect();
    let depth = chains.iter().map(Vec::len).max().unwrap_or(0);
    (0..depth).find_map(|d| {
        let names: Vec<String> = chains.iter().map(|c| c.get(d).cloned().unwrap_or_default()).collect();
        let unique: HashSet<&String> = names.iter().collect();
        let ok = unique.len() == names.len() && names.iter().all(|n| !n.is_empty() && !taken.contains(n));
        ok.then_some(names)
    })
}
