//! Command-line definitions (clap) only; `config` turns them into validated settings.

use clap::{Parser, Subcommand};

mod args;
mod choices;
pub(crate) use args::*;

#[derive(Parser, Debug)]
#[command(
    name = "swerm",
    version,
    about = "Best-of-N reranking of SWE-bench agent runs, with exact test-time-scaling metrics",
    long_about = "swerm reads N candidate runs per SWE-bench instance, scores every candidate \
(patch consensus, a score already in the records, or an LM verifier), writes the top-1 patch \
per instance as a SWE-bench predictions file, and reports pass@k, best@k, random@k, AUC and \
calibration.\n\nExit status: 0 on success, 1 when a --fail-under gate fails (every output written), 2 on \
any error (bad input, unreadable file, ...)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Worker threads for parsing, prompt building and CPU math [default: all cores]. Outputs
    /// are byte-identical whatever the count.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bars (also off when stderr is not a terminal), notes or informational
    /// lines; each kind of warning is said once, with how many there were (warnings, errors and
    /// the resume count still print).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Turn input and label warnings (an input with no records, runs covering different
    /// instance sets, records or labels for other instances (without --instances), labels for
    /// candidates without a patch, score sets whose unscored candidates differ) into errors
    /// (exit status 2).
    #[arg(long, global = true)]
    pub strict: bool,
}

/// `--instances` where no metric is computed (score, render): only a subset is read.
const INSTANCES_SUBSET: &str =
    "Only these instances (one id per line): records of other instances are skipped, with a warning";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Score every candidate, select the top-1 per instance, and report the metrics.
    #[command(after_help = "\
Examples:
  # 8 runs, one SWE-bench harness report per run, in the same order:
  swerm rerank preds/*.jsonl --labels reports/*.json -o out/

  # Pair reports by run name; a whole benchmark split as the denominator:
  swerm rerank runs/ --labels run-1=r1.json --labels run-2=r2.json --instances lite.txt -o out/

  # Rank by a score already in the records, with 95% bootstrap intervals:
  swerm rerank scored.jsonl --scorer field:verifier.p_yes --bootstrap 1000 --seed 1 -o out/

  # An LM verifier (resumable: scores.jsonl in out/ is the cache):
  swerm rerank runs/*.jsonl --labels reports/*.json --model SWE-Gym/OpenHands-32B-Verifier -o out/

  # Plain predictions judged with their issue (from the dataset's parquet, hub cache first):
  swerm rerank preds/*.jsonl --labels reports/*.json --model M --dataset princeton-nlp/SWE-bench_Lite -o out/

  # Leaderboard submissions (SWE-bench/experiments) carry their own labels:
  swerm rerank experiments/evaluation/lite/2024* -o out/

  # AutoCodeRover result folders, labelled by the harness's logs:
  swerm rerank acr-run-1 --labels logs/run_evaluation/acr-1/gpt-4 -o out/

  # Lower is better for a field (a cost): field:-PATH
  swerm rerank runs/ --scorer field:-info.model_stats.instance_cost -o out/

Writes into out/: predictions.jsonl, scores.jsonl and scores.settings.json (the score store),
report.json, report.md, report.html (one self-contained page: the report, the instances table,
every candidate's patch), instances.csv and, with labels, report.csv, report.tex, tts.svg and
tts.png, and (for probabilities) reliability.svg and reliability.png; with --calibration also
scores.evaluated.jsonl. A directory holding another scorer's scores is refused (--overwrite).")]
    Rerank(Box<RerankArgs>),
    /// Report and plot from an existing scores.jsonl (no scoring).
    #[command(after_help = "\
Examples:
  # Labels already in scores.jsonl (`resolved`):
  swerm eval --scores out/scores.jsonl -o eval/

  # Labels from harness reports, paired with the runs of scores.jsonl by name:
  swerm eval --scores out/scores.jsonl --labels acr-run-1=acr-run-1.report.json -o eval/")]
    Eval(EvalArgs),
    /// Write predictions.jsonl from an existing scores.jsonl and the inputs (for the patches).
    #[command(after_help = "\
Example:
  swerm select preds/*.jsonl --scores out/scores.jsonl -o picked/

Writes picked/predictions.jsonl (one SWE-bench prediction per instance).")]
    Select(SelectArgs),
    /// Score every candidate with an LM verifier into DIR/scores.jsonl (resumable).
    #[command(mut_arg("instances", |a| a.help(INSTANCES_SUBSET)))]
    #[command(after_help = "\
Examples:
  # The tiny fixture checkpoint (random weights: the scores mean nothing, the path is real):
  swerm score fixtures/demo/runs/run-e.jsonl --model fixtures/tiny/qwen3-moe -o scored/

  # A real verifier from the hub, on a GPU:
  swerm score runs/*.jsonl --model SWE-Gym/OpenHands-32B-Verifier --device cuda:0 -o scored/

Run again on the same DIR with the same settings to resume: candidates already in
scores.jsonl are not scored again. Different settings are refused.")]
    Score(Box<ScoreArgs>),
    /// Print, per candidate, the exact prompt the verifier will read (JSONL on stdout).
    #[command(mut_arg("instances", |a| a.help(INSTANCES_SUBSET)))]
    #[command(after_help = "\
Example:
  swerm render fixtures/demo/runs/run-e.jsonl --model fixtures/tiny/qwen3 --preset r2egym | head -1

Each line: {\"instance_id\", \"run\", \"prompt\", \"n_tokens\", \"truncated\"}. Needs only the
checkpoint's tokenizer.json and tokenizer_config.json.")]
    Render(Box<RenderArgs>),
    /// Fit a calibration map (temperature or Platt scaling) on labelled scores, with
    /// cross-validated ECE and Brier before and after; apply it with --calibration.
    #[command(after_help = "\
Examples:
  # Fit on a verifier's labelled scores (method by cross-validated log loss):
  swerm calibrate --scores scored/ --labels run-1=r1.json --labels run-2=r2.json -o cal.json

  # Apply it to new runs' scores:
  swerm eval --scores new-scored/ --calibration cal.json -o eval/
  swerm rerank runs/*.jsonl --model M --calibration cal.json -o out/

Writes cal.json: the map (method and parameters), `cv` (ece_before, ece_after, brier_before,
brier_after, log_loss_before, log_loss_after under k-fold cross-validation by instance), and
every method tried.")]
    Calibrate(CalibrateArgs),
    /// Compare score sets on the same candidates: best@k curves, selected rate, AUC and
    /// calibration per scorer, and paired bootstrap intervals of each difference to a baseline.
    #[command(after_help = "\
Examples:
  # Consensus against a verifier, labels from the stores' `resolved` columns:
  swerm compare consensus=out-consensus/ verifier=out-verifier/ -o cmp/

  # Three score sets, harness reports by run name, the verifier as the baseline:
  swerm compare c=a/scores.jsonl v=b/scores.jsonl cal=c/scores.jsonl \\
      --labels run-1=r1.json --labels run-2=r2.json --baseline v --bootstrap 2000 --seed 1 -o cmp/

Writes cmp/compare.json (scorers.NAME: the report.json numbers; differences.NAME: paired
differences against the baseline with their intervals), compare.md, compare.html (compare.md as
a page, the figure inline), compare.svg (and .png) and compare.candidates.jsonl (every
candidate's label and scores).")]
    Compare(CompareArgs),
    /// Measure verifier scoring throughput (random weights of a real shape, or a checkpoint).
    #[command(after_help = "\
Examples:
  # The SWE-RM shape (Qwen3-30B-A3B) with random weights built on the GPU (no download):
  swerm bench --synthetic qwen3-30b-a3b --context 8192,32768,131072 --device cuda:0

  # A quick CPU run of a small MoE, or of 2 layers of the real shape:
  swerm bench --synthetic tiny-moe --context 512,2048 --device cpu
  swerm bench --synthetic qwen3-30b-a3b --layers 2 --context 1024 --device cpu

  # A real checkpoint:
  swerm bench --model /models/my-verifier --context 8192 --device cuda:0")]
    Bench(BenchArgs),
    /// What a checkpoint is and expects, before any preset is trusted with it: architecture and
    /// size, context and rope, dtype, the answer tokens each preset would read (with their ids),
    /// whether the chat template inserts a think block, a head's labels, and which presets and
    /// judges fit. Read offline (a directory, or the hub cache); no weight is read.
    #[command(after_help = "\
Examples:
  swerm inspect SWE-Lego/SWE-Lego-Verifier-30B-A3B
  swerm inspect /models/my-swe-rm --json")]
    Inspect(InspectArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell) on stdout.
    #[command(after_help = "\
Examples:
  swerm completions bash > ~/.local/share/bash-completion/completions/swerm
  swerm completions zsh > ~/.zfunc/_swerm      # with fpath+=(~/.zfunc) in .zshrc
  swerm completions fish > ~/.config/fish/completions/swerm.fish")]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on stdout: `swerm man > swerm.1; man ./swerm.1`.
    Man(ManArgs),
    /// Check this build's CUDA kernels (MoE routing, combine, SiLU·up, attention) against their
    /// CPU implementations on random inputs; exits non-zero on a mismatch (scripts/gpu-check.sh).
    Selftest(SelftestArgs),
}
