//! The arguments of each subcommand (clap derive), and the groups they share (inputs, the
//! verifier and engine settings, metrics, machine-readable output).

use super::choices::choices;
use crate::calibrate::Method;
use crate::input::{Format, InputSpec};
use crate::metrics::gate::Gate;
use crate::model::device::{DTypeSpec, DeviceSpec};
use crate::prompt::Preset;
use crate::score::ModelFree;
use crate::score::remote::ApiChoice;
use crate::score::settings::Scale;
use crate::score::shard::Shard;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write swerm.1 and a page per subcommand (swerm-rerank.1, ...) into DIR instead.
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// A checkpoint directory, or a hub id (read from the HF_HOME cache when it is there).
    #[arg(value_name = "MODEL")]
    pub(crate) model: String,
    /// Hub revision (branch, tag or commit) when MODEL is a hub id.
    #[arg(long)]
    pub(crate) revision: Option<String>,
    /// One JSON object on stdout instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args, Debug)]
pub struct SelftestArgs {
    /// The CUDA device to check.
    #[arg(long, default_value = "cuda:0")]
    pub(crate) device: DeviceSpec,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// A named shape with random weights: qwen3-30b-a3b, tiny-moe, qwen3-0.6b (dense) or
    /// qwen3-moe-1024 (hidden 1024, 32 experts, top-4; the CPU prefill benchmark's shapes).
    #[arg(long, value_name = "NAME", conflicts_with = "model", required_unless_present = "model")]
    pub(crate) synthetic: Option<String>,
    /// A checkpoint directory or hub id instead.
    #[arg(long, value_name = "DIR|ID")]
    pub(crate) model: Option<String>,
    /// Context lengths (tokens per trajectory), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "8192,32768,131072")]
    pub(crate) context: Vec<usize>,
    /// Tokens per forward pass (trajectories are packed up to it; at least one per pass).
    #[arg(long, default_value_t = 32768)]
    pub(crate) batch_tokens: usize,
    /// Timed passes per context (after one warm-up pass); 0: time the one cold pass alone (a
    /// fit check of a long context).
    #[arg(long, default_value_t = 3)]
    pub(crate) passes: usize,
    /// auto, cpu or cuda:N.
    #[arg(long, default_value = "auto")]
    pub(crate) device: DeviceSpec,
    /// auto (f32 on CPU, bf16 on CUDA), f32, bf16 or f16.
    #[arg(long, default_value = "auto", hide_possible_values = true,
          value_parser = choices::<DTypeSpec>(&["auto", "f32", "bf16", "f16"]))]
    pub(crate) dtype: DTypeSpec,
    /// Keep only the first N decoder layers (quick runs of a big shape).
    #[arg(long)]
    pub(crate) layers: Option<usize>,
    /// The FLOP ceiling the fraction is taken of, in TFLOP/s [default: 790 on CUDA, the
    /// measured dense bf16 figure of an H100/H200; none on the CPU, whose figure depends on the
    /// machine: give yours to see a fraction].
    #[arg(long, value_name = "TFLOPS")]
    pub(crate) peak_tflops: Option<f64>,
    /// Also time attention, the feed-forward blocks and the rest separately (one extra pass per
    /// context, with a device synchronization after each part) and print their shares.
    #[arg(long)]
    pub(crate) profile: bool,
}

#[derive(Args, Debug, Clone)]
pub struct PromptArgs {
    /// Verifier prompt preset: swegym (SWE-Gym, SWE-RM), r2egym, swelego (SWE-Lego's
    /// verifiers), chat (the conversation and its tools through the chat template, no
    /// question: for classification heads such as OpenHands' critic), or cot (swerm's prompt
    /// for a judge that reasons first: with --generate). `swerm inspect MODEL` says which fit a
    /// checkpoint.
    #[arg(long, default_value = "swegym", hide_possible_values = true,
          value_parser = choices::<Preset>(&["swegym", "r2egym", "swelego", "chat", "cot"]))]
    pub(crate) preset: Preset,
    /// A Jinja template of your own as the user turn, rendered under the checkpoint's chat
    /// template (with its generation prompt) over issue, trajectory, messages, patch,
    /// instance_id, run and dataset (the instance's --dataset row, every field). Its digest is
    /// part of the scores' identity; `swerm render` shows what it gives.
    #[arg(long, value_name = "FILE", conflicts_with = "preset")]
    pub(crate) template: Option<PathBuf>,
    /// Judge prompts that hold what the SWE-bench harness grades with (the gold patch, the test
    /// patch, FAIL_TO_PASS/PASS_TO_PASS: a template reading them, or their text found in a
    /// prompt). Refused without this; with it, the numbers are marked "privileged".
    #[arg(long)]
    pub(crate) allow_privileged: bool,
    /// The rope scaling of the forward: config (config.json's), none (plain RoPE) or
    /// yarn:FACTOR [default: config; for swelego yarn:4 when config.json has none, as SWE-Lego's
    /// inference runs it]. Part of the scores' identity.
    #[arg(long, value_name = "config|none|yarn:F")]
    pub(crate) rope_scaling: Option<crate::checkpoint::RopeChoice>,
    /// Truncate prompts longer than this many tokens with the preset's policy.
    #[arg(long, value_name = "N")]
    pub(crate) max_tokens: Option<usize>,
    /// Hub revision (branch, tag or commit) when --model is a hub id.
    #[arg(long)]
    pub(crate) revision: Option<String>,
    /// SWE-bench-style rows giving each instance its issue (`problem_statement`), shown to the
    /// verifier for candidates without a trajectory (plain predictions, preds.json): a hub
    /// dataset id (princeton-nlp/SWE-bench_Verified; the HF_HOME cache first) or a parquet
    /// file, a folder of parquet shards, or a JSONL/JSON file. The gold patch and tests are
    /// read only to refuse prompts that hold them (see --allow-privileged) and for a --template
    /// that asks for them.
    #[arg(long, value_name = "NAME|PATH")]
    pub(crate) dataset: Option<String>,
    /// The split of --dataset.
    #[arg(long, default_value = "test", value_name = "SPLIT")]
    pub(crate) split: String,
    /// Judge candidates in pairs: one prompt holds the issue and two attempts (A and B), the
    /// answers are the tokens A and B, both orders of every pair are judged, and each
    /// candidate's score is its soft wins. A full round robin up to 8 non-empty candidates per
    /// instance, a tournament (a ring pass plus --pivots pivots) above. Comparisons are kept in
    /// DIR/pairs.jsonl.
    #[arg(long)]
    pub(crate) pairwise: bool,
    /// With --pairwise: the pivots of a tournament, each compared with every other candidate.
    #[arg(long, default_value_t = 3, value_name = "K", requires = "pairwise")]
    pub(crate) pivots: usize,
}

#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    #[command(flatten)]
    pub(crate) prompt: PromptArgs,
    /// The answer strings, YES,NO [default: "<YES>","<NO>" when the tokenizer adds them, else " YES"," NO"
    /// for swegym, "YES","NO" for r2egym].
    #[arg(long, value_name = "YES,NO")]
    pub(crate) answer_tokens: Option<String>,
    /// For a classification head (*ForSequenceClassification): the label to score, from its
    /// id2label [default: success when it has one, else the first label].
    #[arg(long, value_name = "NAME")]
    pub(crate) label: Option<String>,
    /// Token budget of one forward pass (sequences are packed up to it).
    #[arg(long, default_value_t = 16384, value_name = "N")]
    pub(crate) batch_tokens: usize,
    /// auto, cpu or cuda:N.
    #[arg(long, default_value = "auto")]
    pub(crate) device: DeviceSpec,
    /// auto (f32 on CPU, bf16 on CUDA), f32, bf16 or f16.
    #[arg(long, default_value = "auto", hide_possible_values = true,
          value_parser = choices::<DTypeSpec>(&["auto", "f32", "bf16", "f16"]))]
    pub(crate) dtype: DTypeSpec,
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
    #[command(flatten)]
    pub(crate) generate: GenerateArgs,
}

/// Judges that reason before they answer: decoding, samples, how the verdict is read.
#[derive(Args, Debug, Clone)]
pub struct GenerateArgs {
    /// Let the judge write up to N new tokens before its verdict (turns decoding on).
    #[arg(long, value_name = "N")]
    pub(crate) generate: Option<usize>,
    /// Sampling temperature; 0 is greedy. Samples draw from --seed and each candidate's prompt,
    /// so a resumed or sharded run draws the same.
    #[arg(long, default_value_t = 0.0, value_name = "T", requires = "generate")]
    pub(crate) temperature: f64,
    /// Nucleus sampling: the most probable tokens whose probabilities reach P.
    #[arg(long, default_value_t = 1.0, value_name = "P", requires = "generate")]
    pub(crate) top_p: f64,
    /// Stop a sample when it writes STRING (repeatable); it also stops at the end-of-sequence
    /// token.
    #[arg(long, value_name = "STRING", requires = "generate")]
    pub(crate) stop: Vec<String>,
    /// How the verdict is read: logprob (P(YES) over the answer tokens right after the answer
    /// marker, as a prefill verifier reads it) or parse (a JSON `reward`/`score`, else a YES/NO
    /// word, in the text after the reasoning).
    #[arg(long, default_value = "logprob", value_name = "HOW", requires = "generate", hide_possible_values = true,
          value_parser = choices::<crate::score::Verdict>(&["logprob", "parse"]))]
    pub(crate) verdict: crate::score::Verdict,
    /// The text after which the logprob verdict reads the answer.
    #[arg(long, default_value = "<judgement>", value_name = "TEXT", requires = "generate")]
    pub(crate) answer_marker: String,
    /// Samples per candidate; the score is the mean of the valid verdicts.
    #[arg(long, default_value_t = 1, value_name = "K", requires = "generate")]
    pub(crate) samples: usize,
}

/// Scoring on inference engines users already run (vLLM, SGLang) instead of here.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// An inference engine serving the verifier, such as http://10.0.0.5:8000 (vLLM or
    /// SGLang); repeat for replicas and machines. --model then gives only the tokenizer and
    /// chat template (no weights are read here).
    #[arg(long = "endpoint", value_name = "URL", conflicts_with_all = ["device", "dtype", "batch_tokens"])]
    pub(crate) endpoints: Vec<String>,
    /// The model name the endpoints serve [default: the one their /v1/models lists].
    #[arg(long, value_name = "NAME", requires = "endpoints")]
    pub(crate) served_model: Option<String>,
    /// How to get the answer tokens' exact log-probabilities: auto, vllm (logprob_token_ids),
    /// prompt-logprobs (two prompts, one per answer), sglang (native /generate) or sglang-score
    /// (/v1/score, renormalised over the two answers); or classify (vLLM's /classify, for a
    /// classification head: auto picks it when --model is one). Each answer's count of the
    /// prompt tokens the engine read must equal swerm's, else that candidate fails.
    #[arg(long, default_value = "auto", value_name = "API", hide_possible_values = true,
          value_parser = choices::<ApiChoice>(&["auto", "vllm", "prompt-logprobs", "sglang", "sglang-score", "classify", "chat"]))]
    pub(crate) endpoint_api: ApiChoice,
    /// Requests in flight per endpoint.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub(crate) concurrency: usize,
    /// Retries of a failed request (connection, timeout, 5xx) before its endpoint counts as
    /// dead and its work goes to the others; waits double from 0.25 s.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub(crate) retries: u32,
    /// Seconds one request may take.
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub(crate) request_timeout: u64,
    /// The environment variable holding the endpoints' API key (vLLM's --api-key), sent as
    /// `Authorization: Bearer` and never written or printed [default: SWERM_API_KEY, then
    /// OPENAI_API_KEY, when set].
    #[arg(long, value_name = "VAR", requires = "endpoints")]
    pub(crate) api_key_env: Option<String>,
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Verifier checkpoint: a directory or a hub id (org/name).
    #[arg(long, value_name = "DIR|ID")]
    pub(crate) model: String,
    #[command(flatten)]
    pub(crate) model_args: ModelArgs,
    /// Output directory (scores.jsonl, scores.settings.json).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Discard scores of another scorer stored in DIR instead of refusing to run.
    #[arg(long)]
    pub(crate) overwrite: bool,
    /// Score part I of N (instances split by a hash of their id; I counts from 1), for N
    /// machines; `eval`, `select`, `calibrate` and `compare` merge the N stores.
    #[arg(long, value_name = "I/N")]
    pub(crate) shard: Option<Shard>,
    /// A cal.json from `swerm calibrate`: also write DIR/scores.calibrated.jsonl, the same
    /// lines with calibrated P(YES) (scores.jsonl keeps the scorer's own).
    #[arg(long, value_name = "FILE")]
    pub(crate) calibration: Option<PathBuf>,
    /// Seed of the sampling (--generate with --temperature above 0).
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Checkpoint whose tokenizer and chat template to use: a directory or a hub id.
    #[arg(long, value_name = "DIR|ID")]
    pub(crate) model: String,
    #[command(flatten)]
    pub(crate) prompt: PromptArgs,
    /// Add each prompt's token ids (`ids`) and the position the answer is read at
    /// (`answer_at`: the last token, after which the next-token logits are taken).
    #[arg(long)]
    pub(crate) ids: bool,
}

#[derive(Args, Debug)]
pub struct InputArgs {
    /// Agent runs, each PATH or NAME=PATH (NAME is then the run's name everywhere): SWE-bench
    /// predictions (.jsonl, JSON array, preds.json; Multi-SWE-bench's too), OpenHands
    /// output.jsonl or its run directory, SWE-agent .traj runs (0.x flat or 1.x
    /// <iid>/<iid>.traj), mini-swe-agent runs (<iid>/<iid>.traj.json), AutoCodeRover result
    /// folders, SWE-bench/experiments submission folders (labels included), chat-message
    /// JSONL, or a directory of such runs.
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) inputs: Vec<InputSpec>,
    /// Force the input format instead of detecting it per file: predictions, openhands,
    /// sweagent, mini, chat or acr.
    #[arg(long, hide_possible_values = true,
          value_parser = choices::<Format>(&["predictions", "openhands", "sweagent", "mini", "chat", "acr"]))]
    pub(crate) format: Option<Format>,
    /// The instance set (one id per line), e.g. a whole benchmark split: instances nobody
    /// attempted count as unresolved; records and labels for other instances are ignored (both
    /// counted on one line, which --strict does not refuse).
    #[arg(long, value_name = "FILE")]
    pub(crate) instances: Option<PathBuf>,
}

/// Machine-readable results and CI gates (rerank, eval).
#[derive(Args, Debug, Default)]
pub struct OutputArgs {
    /// Print the report.json numbers as one JSON object on stdout, and nothing else there.
    #[arg(long)]
    pub(crate) json: bool,
    /// Exit with status 1 (after writing every output) when METRIC is below VALUE: selected,
    /// best@K (any K from 1 to N), pass@K, auc or auc_per_instance, VALUE a fraction in [0, 1]
    /// (repeatable), e.g. selected=0.30. A metric that cannot be computed (no labels) exits 2.
    #[arg(long, value_name = "METRIC=VALUE")]
    pub(crate) fail_under: Vec<Gate>,
}

#[derive(Args, Debug)]
pub struct MetricArgs {
    /// k values for the curves, comma-separated [default: 1,2,4,... up to N, and N].
    #[arg(short = 'k', long = "k", value_delimiter = ',', value_name = "K")]
    pub(crate) k: Vec<usize>,
    /// Equal-width bins for the expected calibration error.
    #[arg(long, default_value_t = 15)]
    pub(crate) ece_bins: usize,
    /// Instance-bootstrap resamples for confidence intervals (0 = none).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub(crate) bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
}

#[derive(Args, Debug)]
pub struct RerankArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Harness reports, or harness logs folders (logs/run_evaluation/<run_id>[/<model>]):
    /// RUN=FILE pairs by run name; plain files pair with the inputs in the order given (one
    /// report per input). The pairing is printed once.
    #[arg(long, num_args = 1.., value_name = "FILE|RUN=FILE")]
    pub(crate) labels: Vec<String>,
    /// consensus (default) or field:NAME (a score in each record; dotted paths allowed;
    /// field:-NAME when lower is better, such as a cost).
    #[arg(long, default_value = "consensus", conflicts_with = "model")]
    pub(crate) scorer: ModelFree,
    /// Score with an LM verifier: a checkpoint directory or a hub id (org/name).
    #[arg(long, value_name = "DIR|ID")]
    pub(crate) model: Option<String>,
    #[command(flatten)]
    pub(crate) model_args: ModelArgs,
    /// Combine score sources into one (two or more): NAME=consensus, NAME=field:PATH (a score
    /// in each record, such as tests passed; field:-PATH when lower is better; one such
    /// source) or NAME=SCORES (a scores.jsonl or its directory; a name given twice merges its
    /// stores).
    #[arg(long, value_name = "NAME=SOURCE", conflicts_with_all = ["model", "scorer"])]
    pub(crate) combine: Vec<String>,
    /// NAME=W: the weight of a --combine source [default: 1 each].
    #[arg(long, value_name = "NAME=W", requires = "combine")]
    pub(crate) weight: Vec<String>,
    /// The scale --combine sources are summed on: z (z-scores within each instance) or logit
    /// (probabilities only; a verifier's answer-logit difference when recorded).
    #[arg(long, default_value = "z", value_name = "z|logit", hide_possible_values = true,
          value_parser = choices::<Scale>(&["z", "logit"]))]
    pub(crate) scale: Scale,
    /// Order candidates tied on the top score by these sources, in turn. With --combine: its
    /// source names, then `run` (the run given earlier on the command line first, as the inputs
    /// were listed, not by name), such as v,c,run. With any other scorer:
    /// consensus, field:PATH or a scores.jsonl (or its directory), such as --model M
    /// --tie-break consensus. Ties left after the chain go to the patch content (never a run name).
    #[arg(long, value_name = "A,B")]
    pub(crate) tie_break: Option<String>,
    /// Output directory.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Discard scores of another scorer stored in DIR instead of refusing to run.
    #[arg(long)]
    pub(crate) overwrite: bool,
    /// `model_name_or_path` of the written predictions.
    #[arg(long, default_value = "swerm")]
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) metrics: MetricArgs,
    /// A cal.json from `swerm calibrate`: selection and metrics use the calibrated scores
    /// (scores.jsonl keeps the scorer's own).
    #[arg(long, value_name = "FILE")]
    pub(crate) calibration: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// What the commands that read stores back (eval, calibrate, compare) share: labels paired by
/// run name, and the instances to keep.
#[derive(Args, Debug)]
pub struct ReadBackArgs {
    /// Harness reports as RUN=FILE (a store keeps no input order, so reports pair by run
    /// name; a plain FILE only when the stores hold one run).
    #[arg(long, num_args = 1.., value_name = "FILE|RUN=FILE")]
    pub(crate) labels: Vec<String>,
    /// Only these instances (one id per line): the store's other instances are left out of
    /// every number (a pilot's instances, to compare with a larger store on the same ones).
    #[arg(long, value_name = "FILE")]
    pub(crate) instances: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A scores.jsonl written by `swerm rerank` or `swerm score` (or the directory holding
    /// it, or any file of its shape); repeat to merge shards.
    #[arg(long, required = true, value_name = "FILE|DIR")]
    pub(crate) scores: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) read_back: ReadBackArgs,
    /// Output directory (report.json, report.md, report.html, tts.svg, reliability.svg, each
    /// with a PNG).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) metrics: MetricArgs,
    /// A cal.json from `swerm calibrate`, applied to the scores before selection and metrics.
    #[arg(long, value_name = "FILE")]
    pub(crate) calibration: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Scores with P(YES) in [0, 1]: a scores.jsonl or the directory holding it; repeat to
    /// merge shards.
    #[arg(long, required = true, value_name = "FILE|DIR")]
    pub(crate) scores: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) read_back: ReadBackArgs,
    /// temperature or platt [default: the lower cross-validated log loss].
    #[arg(long, hide_possible_values = true, value_parser = choices::<Method>(&["temperature", "platt"]))]
    pub(crate) method: Option<Method>,
    /// Folds of the cross-validation by instance.
    #[arg(long, default_value_t = 5)]
    pub(crate) folds: usize,
    /// Seed of the fold assignment.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Equal-width bins for the expected calibration error.
    #[arg(long, default_value_t = 15)]
    pub(crate) ece_bins: usize,
    /// The calibration file to write (cal.json).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub(crate) out: PathBuf,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Score sets as NAME=SCORES (a scores.jsonl or the directory holding it); two or more.
    /// A name given several times merges its stores (shards).
    #[arg(required = true, num_args = 2.., value_name = "NAME=SCORES")]
    pub(crate) sets: Vec<InputSpec>,
    #[command(flatten)]
    pub(crate) read_back: ReadBackArgs,
    /// The score set the others are compared with [default: the first].
    #[arg(long, value_name = "NAME")]
    pub(crate) baseline: Option<String>,
    /// NAME=cal.json: compare score set NAME calibrated by a `swerm calibrate` map (one store
    /// may appear under two names, raw and calibrated); repeatable.
    #[arg(long, value_name = "NAME=FILE")]
    pub(crate) calibration: Vec<String>,
    /// Output directory (compare.json, compare.md, compare.html, compare.svg and .png,
    /// compare.candidates.jsonl).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Print compare.json's numbers as one JSON object on stdout, and nothing else there.
    #[arg(long)]
    pub(crate) json: bool,
    /// k values for the curves, comma-separated [default: 1,2,4,... up to N, and N].
    #[arg(short = 'k', long = "k", value_delimiter = ',', value_name = "K")]
    pub(crate) k: Vec<usize>,
    /// Equal-width bins for the expected calibration error.
    #[arg(long, default_value_t = 15)]
    pub(crate) ece_bins: usize,
    /// Paired instance-bootstrap resamples.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub(crate) bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
}

#[derive(Args, Debug)]
pub struct SelectArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// The scores.jsonl to select by (or the directory holding it); repeat to merge shards.
    #[arg(long, required = true, value_name = "FILE|DIR")]
    pub(crate) scores: Vec<PathBuf>,
    /// Output directory (predictions.jsonl).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// `model_name_or_path` of the written predictions.
    #[arg(long, default_value = "swerm")]
    pub(crate) name: String,
}
