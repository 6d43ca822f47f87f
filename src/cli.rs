//! Command-line definitions (clap) only; `config` turns them into validated settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::input::{Format, InputSpec};
use crate::metrics::calibrate::Method;
use crate::metrics::gate::Gate;
use crate::model::device::{DTypeSpec, DeviceSpec};
use crate::prompt::Preset;
use crate::score::ModelFree;
use crate::score::combine::Scale;
use crate::score::remote::ApiChoice;
use crate::score::shard::Shard;

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
    /// No progress bars and no resume notes (progress bars are also off when stderr is not a
    /// terminal).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Turn input and label warnings (records outside --instances, runs covering different
    /// instance sets, labels for other instances or for candidates without a patch, score sets
    /// whose unscored candidates differ) into errors (exit status 2).
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

Writes into out/: predictions.jsonl, scores.jsonl and scores.settings.json (the score store),
report.json, report.md, instances.csv and, with labels, report.csv, report.tex, tts.svg and
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
    Score(ScoreArgs),
    /// Print, per candidate, the exact prompt the verifier will read (JSONL on stdout).
    #[command(mut_arg("instances", |a| a.help(INSTANCES_SUBSET)))]
    #[command(after_help = "\
Example:
  swerm render fixtures/demo/runs/run-e.jsonl --model fixtures/tiny/qwen3 --preset r2egym | head -1

Each line: {\"instance_id\", \"run\", \"prompt\", \"n_tokens\", \"truncated\"}. Needs only the
checkpoint's tokenizer.json and tokenizer_config.json.")]
    Render(RenderArgs),
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
differences against the baseline with their intervals), compare.md, compare.svg (and .png) and
compare.candidates.jsonl (every candidate's label and scores).")]
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

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write swerm.1 and a page per subcommand (swerm-rerank.1, ...) into DIR instead.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SelftestArgs {
    /// The CUDA device to check.
    #[arg(long, default_value = "cuda:0")]
    pub device: DeviceSpec,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// A named shape with random weights: qwen3-30b-a3b or tiny-moe.
    #[arg(long, value_name = "NAME", conflicts_with = "model", required_unless_present = "model")]
    pub synthetic: Option<String>,
    /// A checkpoint directory or hub id instead.
    #[arg(long, value_name = "DIR|ID")]
    pub model: Option<String>,
    /// Context lengths (tokens per trajectory), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "8192,32768,131072")]
    pub context: Vec<usize>,
    /// Tokens per forward pass (trajectories are packed up to it; at least one per pass).
    #[arg(long, default_value_t = 32768)]
    pub batch_tokens: usize,
    /// Timed passes per context (after one warm-up pass); 0: time the one cold pass alone (a
    /// fit check of a long context).
    #[arg(long, default_value_t = 3)]
    pub passes: usize,
    /// auto, cpu or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: DeviceSpec,
    /// auto (f32 on CPU, bf16 on CUDA), f32, bf16 or f16.
    #[arg(long, default_value = "auto")]
    pub dtype: DTypeSpec,
    /// Keep only the first N decoder layers (quick runs of a big shape).
    #[arg(long)]
    pub layers: Option<usize>,
    /// The FLOP ceiling the fraction is taken of, in TFLOP/s [default: 790 on CUDA, the
    /// measured dense bf16 figure of an H100/H200; none on the CPU, whose figure depends on the
    /// machine: give yours to see a fraction].
    #[arg(long, value_name = "TFLOPS")]
    pub peak_tflops: Option<f64>,
    /// Also time attention, the feed-forward blocks and the rest separately (one extra pass per
    /// context, with a device synchronization after each part) and print their shares.
    #[arg(long)]
    pub profile: bool,
}

#[derive(Args, Debug, Clone)]
pub struct PromptArgs {
    /// Verifier prompt preset: swegym (SWE-Gym, SWE-RM) or r2egym.
    #[arg(long, default_value = "swegym")]
    pub preset: Preset,
    /// Truncate prompts longer than this many tokens with the preset's policy.
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<usize>,
    /// Hub revision (branch, tag or commit) when --model is a hub id.
    #[arg(long)]
    pub revision: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    #[command(flatten)]
    pub prompt: PromptArgs,
    /// The answer strings, YES,NO [default: " YES"," NO" for swegym, "YES","NO" for r2egym].
    #[arg(long, value_name = "YES,NO")]
    pub answer_tokens: Option<String>,
    /// Token budget of one forward pass (sequences are packed up to it).
    #[arg(long, default_value_t = 16384, value_name = "N")]
    pub batch_tokens: usize,
    /// auto, cpu or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: DeviceSpec,
    /// auto (f32 on CPU, bf16 on CUDA), f32, bf16 or f16.
    #[arg(long, default_value = "auto")]
    pub dtype: DTypeSpec,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Scoring on inference engines users already run (vLLM, SGLang) instead of here.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// An inference engine serving the verifier, such as http://10.0.0.5:8000 (vLLM or
    /// SGLang); repeat for replicas and machines. --model then gives only the tokenizer and
    /// chat template (no weights are read here).
    #[arg(long = "endpoint", value_name = "URL", conflicts_with_all = ["device", "dtype", "batch_tokens"])]
    pub endpoints: Vec<String>,
    /// The model name the endpoints serve [default: the one their /v1/models lists].
    #[arg(long, value_name = "NAME", requires = "endpoints")]
    pub served_model: Option<String>,
    /// How to get the answer tokens' exact log-probabilities: auto, vllm (logprob_token_ids),
    /// prompt-logprobs (two prompts, one per answer) or sglang (native /generate).
    #[arg(long, default_value = "auto", value_name = "API")]
    pub endpoint_api: ApiChoice,
    /// Requests in flight per endpoint.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,
    /// Retries of a failed request (connection, timeout, 5xx) before its endpoint counts as
    /// dead and its work goes to the others; waits double from 0.25 s.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub retries: u32,
    /// Seconds one request may take.
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub request_timeout: u64,
    /// The environment variable holding the endpoints' API key (vLLM's --api-key), sent as
    /// `Authorization: Bearer` and never written or printed [default: SWERM_API_KEY, then
    /// OPENAI_API_KEY, when set].
    #[arg(long, value_name = "VAR", requires = "endpoints")]
    pub api_key_env: Option<String>,
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Verifier checkpoint: a directory or a hub id (org/name).
    #[arg(long, value_name = "DIR|ID")]
    pub model: String,
    #[command(flatten)]
    pub model_args: ModelArgs,
    /// Output directory (scores.jsonl, scores.settings.json).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Discard scores of another scorer stored in DIR instead of refusing to run.
    #[arg(long)]
    pub overwrite: bool,
    /// Score part I of N (instances split by a hash of their id; I counts from 1), for N
    /// machines; `eval`, `select`, `calibrate` and `compare` merge the N stores.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// A cal.json from `swerm calibrate`: also write DIR/scores.calibrated.jsonl, the same
    /// lines with calibrated P(YES) (scores.jsonl keeps the scorer's own).
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Checkpoint whose tokenizer and chat template to use: a directory or a hub id.
    #[arg(long, value_name = "DIR|ID")]
    pub model: String,
    #[command(flatten)]
    pub prompt: PromptArgs,
}

#[derive(Args, Debug)]
pub struct InputArgs {
    /// Agent runs, each PATH or NAME=PATH (NAME is then the run's name everywhere): SWE-bench
    /// predictions (.jsonl, JSON array, preds.json), OpenHands output.jsonl or its run
    /// directory, SWE-agent .traj runs (0.x flat or 1.x <iid>/<iid>.traj), mini-swe-agent runs
    /// (<iid>/<iid>.traj.json), chat-message JSONL, or a directory of such runs.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<InputSpec>,
    /// Force the input format instead of detecting it per file: predictions, openhands,
    /// sweagent, mini or chat.
    #[arg(long)]
    pub format: Option<Format>,
    /// The instance set (one id per line), e.g. a whole benchmark split: instances nobody
    /// attempted count as unresolved; records for other instances are ignored with a warning.
    #[arg(long, value_name = "FILE")]
    pub instances: Option<PathBuf>,
}

/// Machine-readable results and CI gates (rerank, eval).
#[derive(Args, Debug, Default)]
pub struct OutputArgs {
    /// Print the report.json numbers as one JSON object on stdout, and nothing else there.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 1 (after writing every output) when METRIC is below VALUE: selected,
    /// best@K, pass@K, auc or auc_per_instance, as fractions (repeatable), e.g. selected=0.30.
    #[arg(long, value_name = "METRIC=VALUE")]
    pub fail_under: Vec<Gate>,
}

#[derive(Args, Debug)]
pub struct MetricArgs {
    /// k values for the curves, comma-separated [default: 1,2,4,... up to N, and N].
    #[arg(short = 'k', long = "k", value_delimiter = ',', value_name = "K")]
    pub k: Vec<usize>,
    /// Equal-width bins for the expected calibration error.
    #[arg(long, default_value_t = 15)]
    pub ece_bins: usize,
    /// Instance-bootstrap resamples for confidence intervals (0 = none).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct RerankArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Harness reports: RUN=FILE pairs by run name; plain files pair with the inputs in the
    /// order given (one report per input). The pairing is printed once.
    #[arg(long, num_args = 1.., value_name = "FILE|RUN=FILE")]
    pub labels: Vec<String>,
    /// consensus (default) or field:NAME (a score in each record; dotted paths allowed).
    #[arg(long, default_value = "consensus", conflicts_with = "model")]
    pub scorer: ModelFree,
    /// Score with an LM verifier: a checkpoint directory or a hub id (org/name).
    #[arg(long, value_name = "DIR|ID")]
    pub model: Option<String>,
    #[command(flatten)]
    pub model_args: ModelArgs,
    /// Combine score sources into one (two or more): NAME=consensus, NAME=field:PATH (a score
    /// in each record, such as tests passed; one such source) or NAME=SCORES (a scores.jsonl
    /// or its directory; a name given twice merges its stores).
    #[arg(long, value_name = "NAME=SOURCE", conflicts_with_all = ["model", "scorer"])]
    pub combine: Vec<String>,
    /// NAME=W: the weight of a --combine source [default: 1 each].
    #[arg(long, value_name = "NAME=W", requires = "combine")]
    pub weight: Vec<String>,
    /// The scale --combine sources are summed on: z (z-scores within each instance) or logit
    /// (probabilities only; a verifier's answer-logit difference when recorded).
    #[arg(long, default_value = "z", value_name = "z|logit")]
    pub scale: Scale,
    /// Order candidates tied on the top score by these sources, in turn. With --combine: its
    /// source names, then `run` (earlier run first), such as v,c,run. With any other scorer:
    /// consensus, field:PATH or a scores.jsonl (or its directory), such as --model M
    /// --tie-break consensus. Ties left after the chain go to the patch content (never a run name).
    #[arg(long, value_name = "A,B")]
    pub tie_break: Option<String>,
    /// Output directory.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Discard scores of another scorer stored in DIR instead of refusing to run.
    #[arg(long)]
    pub overwrite: bool,
    /// `model_name_or_path` of the written predictions.
    #[arg(long, default_value = "swerm")]
    pub name: String,
    #[command(flatten)]
    pub metrics: MetricArgs,
    /// A cal.json from `swerm calibrate`: selection and metrics use the calibrated scores
    /// (scores.jsonl keeps the scorer's own).
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A scores.jsonl written by `swerm rerank` or `swerm score` (or the directory holding
    /// it, or any file of its shape); repeat to merge shards.
    #[arg(long, required = true, value_name = "FILE|DIR")]
    pub scores: Vec<PathBuf>,
    /// Harness reports as RUN=FILE (a store keeps no input order, so reports pair by run
    /// name; a plain FILE only when the store holds one run).
    #[arg(long, num_args = 1.., value_name = "FILE|RUN=FILE")]
    pub labels: Vec<String>,
    /// Output directory (report.json, report.md, tts.svg, reliability.svg, each with a PNG).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub metrics: MetricArgs,
    /// A cal.json from `swerm calibrate`, applied to the scores before selection and metrics.
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Scores with P(YES) in [0, 1]: a scores.jsonl or the directory holding it; repeat to
    /// merge shards.
    #[arg(long, required = true, value_name = "FILE|DIR")]
    pub scores: Vec<PathBuf>,
    /// Harness reports as RUN=FILE (a store keeps no input order, so reports pair by run
    /// name; a plain FILE only when the stores hold one run).
    #[arg(long, num_args = 1.., value_name = "FILE|RUN=FILE")]
    pub labels: Vec<String>,
    /// temperature or platt [default: the lower cross-validated log loss].
    #[arg(long)]
    pub method: Option<Method>,
    /// Folds of the cross-validation by instance.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Seed of the fold assignment.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Equal-width bins for the expected calibration error.
    #[arg(long, default_value_t = 15)]
    pub ece_bins: usize,
    /// The calibration file to write (cal.json).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Score sets as NAME=SCORES (a scores.jsonl or the directory holding it); two or more.
    /// A name given several times merges its stores (shards).
    #[arg(required = true, num_args = 2.., value_name = "NAME=SCORES")]
    pub sets: Vec<InputSpec>,
    /// Harness reports as RUN=FILE (a store keeps no input order, so reports pair by run
    /// name; a plain FILE only when the stores hold one run).
    #[arg(long, num_args = 1.., value_name = "FILE|RUN=FILE")]
    pub labels: Vec<String>,
    /// The score set the others are compared with [default: the first].
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// NAME=cal.json: compare score set NAME calibrated by a `swerm calibrate` map (one store
    /// may appear under two names, raw and calibrated); repeatable.
    #[arg(long, value_name = "NAME=FILE")]
    pub calibration: Vec<String>,
    /// Output directory (compare.json, compare.md, compare.svg and .png, compare.candidates.jsonl).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Print compare.json's numbers as one JSON object on stdout, and nothing else there.
    #[arg(long)]
    pub json: bool,
    /// k values for the curves, comma-separated [default: 1,2,4,... up to N, and N].
    #[arg(short = 'k', long = "k", value_delimiter = ',', value_name = "K")]
    pub k: Vec<usize>,
    /// Equal-width bins for the expected calibration error.
    #[arg(long, default_value_t = 15)]
    pub ece_bins: usize,
    /// Paired instance-bootstrap resamples.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct SelectArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The scores.jsonl to select by (or the directory holding it); repeat to merge shards.
    #[arg(long, required = true, value_name = "FILE|DIR")]
    pub scores: Vec<PathBuf>,
    /// Output directory (predictions.jsonl).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// `model_name_or_path` of the written predictions.
    #[arg(long, default_value = "swerm")]
    pub name: String,
}
