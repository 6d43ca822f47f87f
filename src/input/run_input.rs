//! One run's files, as the layout of its inputs gave them: its record files and the side files
//! a run's layout adds (trajectories, labels, patches), and where its name came from.

use std::path::{Path, PathBuf};

/// One run's files.
#[derive(Clone, Debug)]
pub struct RunInput {
    /// The run name (records' own `run` fields override it unless `explicit`).
    pub(crate) name: String,
    /// Named on the command line (`NAME=PATH`).
    pub(crate) explicit: bool,
    pub(crate) files: Vec<PathBuf>,
    /// Index of the command-line input this came from.
    pub(crate) arg: usize,
    /// The path the name was taken from (a file or a directory), for telling clashes apart.
    pub(crate) origin: PathBuf,
    /// Trajectory files (`<iid>.traj`, `<iid>.traj.json`) for records of `files` that carry
    /// none: a leaderboard submission's `trajs/`.
    pub(crate) trajs: Vec<PathBuf>,
    /// The run's own labels: a submission's `results/results.json` or `logs/` folder.
    pub(crate) labels: Option<PathBuf>,
    /// Patches for records that lack one (a mini-swe-agent run's `preds.json`, beside
    /// trajectories written before `info.submission` existed).
    pub(crate) patches: Option<PathBuf>,
    /// A note about how the input was read (printed once).
    pub(crate) note: Option<String>,
}

impl RunInput {
    /// A run of plain record files, with no side files (trajectories, labels, patches): what
    /// library users and the fuzz targets build, so a new side file does not break them.
    pub fn new(name: String, files: Vec<PathBuf>, arg: usize, origin: &Path) -> RunInput {
        RunInput {
            name,
            explicit: false,
            files,
            arg,
            origin: origin.to_path_buf(),
            trajs: Vec::new(),
            labels: None,
            patches: None,
            note: None,
        }
    }
}
