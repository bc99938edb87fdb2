"""The root schema of a run; component nodes are typed by their own registered schemas."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from framework.checks import CHECK_KEY, COUNT, NON_NEGATIVE, POSITIVE, Check
from framework.search.winners import COMPARE_BEST

PRECISIONS = (
    "auto",
    "32-true",
    "32",
    "64-true",
    "bf16-mixed",
    "bf16-true",
    "16-mixed",
    "16-true",
)
"""Lightning precisions a run may ask for (16-bit float ones need a GPU), or ``auto``."""
PRECISION = Check(choices=PRECISIONS)

SCHEMA_NAME = "plait_schema"
"""Name of the root schema in Hydra's ConfigStore (first entry of ``conf/train.yaml``)."""


@dataclass
class TextAugmentConfig:
    """How the ``data/text_augment`` operations are applied to the training split."""

    mode: str = field(default="online", metadata={CHECK_KEY: Check(choices=("online", "offline"))})
    """``online``: a fresh variant (or the original) each time a text is read, in the
    DataLoader workers; ``offline``: ``n_aug`` variants stored in the training split once
    (cached, counted in the data report)."""
    n_aug: int = field(default=4, metadata={CHECK_KEY: COUNT})
    """Variants per training text; each is made by one operation picked at random."""
    stop_words: str | None = "en"
    """Language of the stop-word list whose words are never replaced (null: none)."""
    extra_stop_words: list[str] = field(default_factory=list)
    """More words never replaced (names, negations such as ``not``)."""


ENGINES = ("local", "ray")
"""Where the data stage runs: ``local`` (this process and its pool) or ``ray`` (Ray Data,
on a local Ray instance or a cluster)."""


@dataclass
class EngineConfig:
    """Where the data stage runs (``data/engine=local`` or ``data/engine=ray``). Both keep the
    same records, train the same tokenizer and write the same token ids."""

    name: str = field(default="local", metadata={CHECK_KEY: Check(choices=ENGINES)})
    """``local`` or ``ray``."""
    address: str | None = None
    """Ray only. null: start a Ray instance on this machine for the run; ``auto``: join the
    cluster ``ray start`` runs on this machine; ``ray://host:10001``: a remote cluster."""
    num_cpus: int | None = field(default=None, metadata={CHECK_KEY: COUNT})
    """Ray only, with ``address: null``: CPUs of the local instance (null: every core)."""
    object_store_mb: int | None = field(default=None, metadata={CHECK_KEY: COUNT})
    """Ray only, with ``address: null``: object-store memory of the local instance in MiB
    (null: Ray's default, 30% of memory); larger blocks spill to disk."""
    cpus_per_task: float = field(default=1.0, metadata={CHECK_KEY: POSITIVE})
    """Ray only: CPUs each map, dedupe and tokenize task reserves."""
    block_rows: int = field(default=20_000, metadata={CHECK_KEY: COUNT})
    """Ray only: records per block (the unit of every map task)."""
    shard_rows: int = field(default=50_000, metadata={CHECK_KEY: COUNT})
    """Records per token shard: on Ray the unit of tokenization, of the completion markers
    and of resuming a killed stage; on both engines the unit ``data.train_stream`` deals to
    the ranks and workers."""


@dataclass
class DataConfig:
    """Where data comes from and how it becomes batches."""

    source: Any = MISSING
    """Selected ``source`` component (``data/source=python_stdlib``)."""
    curate: Any = field(default_factory=dict)
    """Curation steps, in order (``data/curate=[...]``)."""
    clean: Any = field(default_factory=dict)
    """Cleaning steps, in order."""
    tokenizer: Any = None
    """Selected tokenizer, trained on the training split (null for image data)."""
    split: Any = MISSING
    """Selected split strategy."""
    balance: Any = None
    """Balancing of the training split."""
    text_augment: Any = field(default_factory=dict)
    """Text augmentation operations (training split only), ``data/text_augment=[...]``."""
    synonyms: Any = None
    """Synonym source of synonym replacement and random insertion (``data/synonyms=NAME``)."""
    augment: TextAugmentConfig = field(default_factory=lambda: TextAugmentConfig())
    """How the text operations are applied."""
    image_augment: Any = field(default_factory=dict)
    """Image transforms (training split only)."""
    max_length: int = field(default=128, metadata={CHECK_KEY: COUNT})
    """Tokens per example: the block size for causal LM, the truncation length otherwise."""
    num_proc: int = field(default=1, metadata={CHECK_KEY: COUNT})
    """Processes for the batched ``datasets`` map/filter calls of curation and cleaning."""
    cache: bool = True
    """Reuse the data stage's output when the data config and source files are unchanged
    (``$PLAIT_CACHE`` or ``~/.cache/plait``)."""
    lineage: bool = True
    """Write ``lineage.parquet``: every record each step removed or changed, why, and the
    split each kept record went to (``plait data --why``); streamed, so it costs no memory."""
    streaming: bool = False
    """Read, clean, tokenize and pack the training text on the fly with bounded memory, for
    corpora larger than memory (causal LM; per-record steps only)."""
    stream_tokenizer_chars: int = field(default=20_000_000, metadata={CHECK_KEY: COUNT})
    """Streaming: characters of training text the tokenizer is trained on."""
    stream_val_blocks: int = field(default=2000, metadata={CHECK_KEY: COUNT})
    """Streaming: blocks of validation (and test) text held in memory."""
    tokenizer_max_chars: int | None = field(default=None, metadata={CHECK_KEY: COUNT})
    """Characters of training text the tokenizer is trained on: the training split's first
    records, in split order, up to this many (null: the whole training split). The same
    sample on every engine."""
    engine: EngineConfig = field(default_factory=EngineConfig)
    """Where the data stage runs (``data/engine=ray``)."""
    train_stream: bool | None = None
    """Causal LM: read the training split as a stream of its token shards
    (``data.engine.shard_rows`` records each), every DDP rank and DataLoader worker its own,
    memory-mapped, blocks shuffled in a bounded buffer; true on any engine, null: with
    ``data/engine=ray`` (a corpus on shared storage never has to fit one machine), false:
    blocks drawn from the whole split."""


@dataclass
class TrainerConfig:
    """The training loop: length, batch, precision, logging and checkpoint cadence."""

    max_steps: int = field(default=1000, metadata={CHECK_KEY: COUNT})
    """Optimizer steps to train for."""
    batch_size: int = field(default=16, metadata={CHECK_KEY: COUNT})
    """Examples per micro-batch (per device)."""
    accumulate: int = field(default=1, metadata={CHECK_KEY: COUNT})
    """Micro-batches per optimizer step."""
    grad_clip: float | None = field(default=1.0, metadata={CHECK_KEY: POSITIVE})
    """Clip the global gradient norm to this value (null: no clipping)."""
    precision: str | None = field(default=None, metadata={CHECK_KEY: PRECISION})
    """Lightning precision: 32-true, bf16-mixed, 16-mixed (GPU), bf16-true; ``auto``:
    bf16-mixed where the hardware runs bfloat16 natively (a GPU that supports it, a CPU with
    AVX512-BF16 or AMX), else 16-mixed on a GPU and 32-true on a CPU (emulated bfloat16 is
    many times slower); null: the hardware preset's own (32-true on a CPU, auto on GPUs)."""
    val_every: int = field(default=100, metadata={CHECK_KEY: COUNT})
    """Validate every this many optimizer steps."""
    val_at_start: bool = True
    """Validate once before the first step, so curves start from the untrained model."""
    val_batches: int = 20
    """Validation batches per validation (0 or less: the whole split)."""
    log_every: int = field(default=10, metadata={CHECK_KEY: COUNT})
    """Log training metrics every this many optimizer steps."""
    ckpt_every: int = field(default=100, metadata={CHECK_KEY: COUNT})
    """Save ``last.ckpt`` every this many optimizer steps."""
    keep_best: int = field(default=1, metadata={CHECK_KEY: COUNT})
    """Checkpoints kept by the monitored metric: 1 keeps ``best.ckpt``; k > 1 keeps the k
    best as ``best-step<N>.ckpt`` (the test split is scored with the best of them)."""
    num_workers: int = field(default=0, metadata={CHECK_KEY: NON_NEGATIVE})
    """DataLoader worker processes."""
    deterministic: bool = False
    """Ask torch for deterministic algorithms."""
    compile: bool = False
    """Compile the model with ``torch.compile``."""
    bucket_by_length: bool = True
    """Batch texts of similar length together (training: sorted within windows of 50
    batches, then the batches shuffled; evaluation: sorted), so that dynamic padding pads
    less. Only for tasks whose examples have a length (text classification, regression)."""
    cache_frozen: bool = True
    """When the embeddings and the first blocks are frozen (``freeze=[first_n]``, ...) and
    nothing changes the tokens between epochs, compute their output once (eval mode: no
    dropout in them; a run shorter than an epoch: for the training records it reads) and
    train the blocks above from it; the outputs are kept in ``$PLAIT_CACHE/prefix``, where
    a rerun or a sweep's next trial reads them. False: run the frozen blocks every step
    (with dropout)."""
    quantize_frozen: bool = False
    """Where the frozen blocks run every step (their outputs not cached), run their linear
    layers as int8 dynamically quantized products while training (CPU only); validation,
    test, evaluation and export use the float32 weights."""
    keep_freed_memory: bool = True
    """Keep the memory a training step frees in the process for the next step (glibc's
    malloc: its mmap threshold at the 32 MiB ceiling, trimming above 1 GiB), instead of
    returning it to the system and faulting it in again every step (a tiny GPT's step here:
    15,000 page faults, 36 ms against 23 ms with them gone). Memory freed during training
    then stays with the process until it ends. Linux with glibc only; elsewhere nothing
    changes."""


@dataclass
class SamplesConfig:
    """Text sampled from a causal LM at the end of training (``samples.txt``)."""

    prompts: list[str] = field(default_factory=lambda: [""])
    """Prompts to continue; an empty prompt starts from end-of-text."""
    max_new_tokens: int = field(default=200, metadata={CHECK_KEY: NON_NEGATIVE})
    """Tokens to generate per prompt."""
    temperature: float = field(default=0.8, metadata={CHECK_KEY: NON_NEGATIVE})
    """Softmax temperature (0: greedy)."""
    top_k: int | None = field(default=50, metadata={CHECK_KEY: COUNT})
    """Sample among the k most likely tokens (null: all)."""


SAMPLERS = ("none", "grid", "random", "tpe")
"""How a search picks trials: ``none`` (no search; ``plait train -m`` is a plain grid of the
command line's sweeps), ``grid`` (every combination), ``random``, ``tpe`` (Optuna's
Tree-structured Parzen Estimator)."""
PRUNERS = ("none", "median", "halving")
"""Optuna pruners: ``median`` (stop a trial whose best so far is worse than the median of
earlier trials at the same step), ``halving`` (successive halving)."""


@dataclass
class SearchConfig:
    """A hyperparameter search (``search=random``): Optuna picks each trial's values, Hydra's
    launcher runs the trials, every trial is recorded in a study that a rerun continues."""

    sampler: str = field(default="none", metadata={CHECK_KEY: Check(choices=SAMPLERS)})
    """``none``, ``grid``, ``random`` or ``tpe``; anything but ``none`` makes ``plait train``
    a sweep (as ``-m`` does)."""
    trials: int = field(default=10, metadata={CHECK_KEY: COUNT})
    """Trials of a random or TPE search (a grid runs every combination); a rerun runs only
    the ones still to go."""
    space: dict[str, Any] | None = None
    """Searched values by config path (``optimizer.lr``, or nested ``optimizer: {lr: ...}``):
    ``{interval: [lo, hi]}``, ``{log_interval: [lo, hi]}``, ``{int: [lo, hi]}``,
    ``{log_int: [lo, hi]}`` or ``{choice: [a, b]}``; sweeps on the command line
    (``optimizer.lr=1e-3,3e-4``, ``interval(0,0.5)``) join them."""
    direction: str | None = field(
        default=None, metadata={CHECK_KEY: Check(choices=("minimize", "maximize"))}
    )
    """null: the monitored metric's own direction (``val/loss`` down, F1 up)."""
    prune: str = field(default="none", metadata={CHECK_KEY: Check(choices=PRUNERS)})
    """Stop hopeless trials early from their validation curve: ``none``, ``median`` or
    ``halving``; a stopped trial is recorded as pruned."""
    prune_after: int = field(default=1, metadata={CHECK_KEY: NON_NEGATIVE})
    """Validations a trial runs before it may be pruned."""
    prune_startup: int = field(default=2, metadata={CHECK_KEY: NON_NEGATIVE})
    """Trials that finish before any is pruned (the median needs a few to compare with)."""
    storage: str | None = None
    """Optuna storage URL; null: ``study.db`` (SQLite) in the sweep folder. A database URL
    (``postgresql://...``) shares one study between machines."""
    study: str | None = None
    """Study name; null: the run name."""
    heartbeat: int = field(default=30, metadata={CHECK_KEY: COUNT})
    """Shared studies (a database server in ``storage``): seconds between a sweep's signs of
    life for the trials it runs; a trial silent for twice this is taken as lost (its sweep
    died) and runs again."""
    seed: int | None = field(default=None, metadata={CHECK_KEY: NON_NEGATIVE})
    """Seed of the sampler; null: the run's ``seed``."""
    compare_best: int = field(default=COMPARE_BEST, metadata={CHECK_KEY: NON_NEGATIVE})
    """The report evaluates this many best trials on the validation split and marks those a
    paired bootstrap cannot tell from the best (0 or 1: no comparison)."""
    trial: int | None = None
    """Set by the sweep for each trial (its number in the study); leave null."""


@dataclass
class PlaitConfig:
    """A whole run."""

    name: str = "plait"
    """Run name; runs go to ``runs/<name>/<timestamp>``."""
    seed: int = field(default=1234, metadata={CHECK_KEY: NON_NEGATIVE})
    """Seed for Python, NumPy and torch, the split and the batch order."""
    eda: bool = False
    """Analyse the data stage at the start of training (``plait eda``), into ``<run>/eda/``."""
    eval: bool = True
    """Evaluate the best checkpoint on the test split at the end of training (``plait
    eval``), into ``<run>/eval/``: metrics with intervals, error analysis, report.html."""
    resume: str | None = None
    """``auto`` (newest ``last.ckpt`` of this run name) or a checkpoint path."""
    allow_targets: bool = False
    """Let this recipe name any Python callable with ``_target_`` (a local experiment). It
    trusts the recipe with running code; false refuses every ``_target_`` before anything is
    built."""
    strict_plugins: bool = False
    """Stop when an installed plugin failed to import or register (by default it is left
    out with a one-line warning and the rest of Plait works); also ``PLAIT_STRICT_PLUGINS=1``."""
    optimized_metric: str | None = None
    """Metric a sweep (``plait train -m``) optimizes, as the final results name it
    (``val/loss``, ``val/f1_macro``, ``test/accuracy``); null: the task's monitored metric,
    the one that picks the best checkpoint."""
    data: DataConfig = field(default_factory=DataConfig)
    """The data stage."""
    task: Any = MISSING
    """Selected task."""
    model: Any = MISSING
    """Selected model (or preset)."""
    loss: Any = None
    """Selected loss; null: the task's default."""
    metric: Any = field(default_factory=dict)
    """Selected metrics; empty: the task's defaults."""
    regularizer: Any = field(default_factory=dict)
    """Selected regularizers."""
    freeze: Any = field(default_factory=dict)
    """Selected freeze policies (several compose); empty: every parameter trains."""
    optimizer: Any = MISSING
    """Selected optimizer."""
    scheduler: Any = MISSING
    """Selected learning-rate schedule."""
    callback: Any = field(default_factory=dict)
    """Extra Lightning callbacks."""
    logger: Any = field(default_factory=dict)
    """Loggers (csv by default)."""
    hardware: Any = MISSING
    """Selected hardware preset."""
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    """The training loop."""
    samples: SamplesConfig = field(default_factory=SamplesConfig)
    """Samples written at the end of causal-LM training."""
    search: SearchConfig = field(default_factory=SearchConfig)
    """Hyperparameter search (``search=random``, ``search=tpe``, ``search=grid``)."""
