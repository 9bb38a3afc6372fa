"""Training with PyKEEN: our facts in, ``KGEmbeddings`` out; early stopping on a validation split.

PyKEEN supplies the models, losses, negative sampling and the training loop. Validation is ours
(numpy, filtered MRR on saved-format vectors), so what we stop on is exactly what we save and load.
"""
from __future__ import annotations

import gc
import logging
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator

import numpy as np

from kg.embeddings import scoring
from kg.embeddings.data import FactSource, TripleData, build_triple_data, labelled_facts, split_facts
from kg.embeddings.evaluate import LinkMetrics, filtered_ranks, metrics_from_ranks
from kg.embeddings.vectors import EmbeddingMeta, KGEmbeddings
from kg.errors import KGError

_PYKEEN_MODELS = {"transe": "TransE", "distmult": "DistMult", "complex": "ComplEx", "rotate": "RotatE"}
# Adam learning rates from a sweep on a Hetionet subset (docs/embeddings.md): the product models need
# a larger step than the translational ones with PyKEEN's default losses and 8 negatives.
DEFAULT_LR = {"transe": 0.05, "distmult": 0.1, "complex": 0.1, "rotate": 0.05}


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters. ``dim`` is PyKEEN's ``embedding_dim`` (complex components for ComplEx/RotatE)."""

    model: str = "transe"
    dim: int = 64
    epochs: int = 100
    batch_size: int = 512
    learning_rate: float | None = None  # None: DEFAULT_LR of the model
    negatives: int = 8
    loss: str | None = None  # None: the model's PyKEEN default
    validation_fraction: float = 0.1
    eval_every: int = 5
    patience: int = 3
    max_valid: int = 1000
    seed: int = 0
    threads: int | None = None
    max_seconds: float | None = None  # stop at the next validation check after this much training time

    def checked(self) -> "TrainConfig":
        model = self.model.lower()
        if model not in _PYKEEN_MODELS:
            raise KGError(f"Unknown embedding model '{self.model}'. Choose one of: {', '.join(_PYKEEN_MODELS)}.")
        for name in ("dim", "epochs", "batch_size", "negatives", "eval_every"):
            if getattr(self, name) < 1:
                raise KGError(f"{name} must be at least 1, got {getattr(self, name)}.")
        return replace(self, model=model, learning_rate=self.learning_rate or DEFAULT_LR[model])


@dataclass(frozen=True)
class TrainEvent:
    """One finished epoch: what the progress callback receives."""

    epoch: int
    epochs: int
    loss: float
    valid_mrr: float | None = None


@dataclass(frozen=True, eq=False)
class TrainResult:
    embeddings: KGEmbeddings
    data: TripleData
    history: tuple[TrainEvent, ...]
    stopped_early: bool


Progress = Callable[[TrainEvent], None]
Facts = Iterable[tuple[str, str, str]]


def train_embeddings(
    source: FactSource,
    config: TrainConfig = TrainConfig(),
    *,
    validation: Facts | None = None,
    test: Facts = (),
    progress: Progress | None = None,
) -> TrainResult:
    """Train ``config.model`` on the facts of a store (or an iterable of facts).

    Without ``validation``, ``config.validation_fraction`` of the facts is held out for early
    stopping; the vectors kept are those of the best validation MRR. ``test`` facts are left out of
    training and only used to filter rankings in later evaluation.
    """
    config = config.checked()
    facts = labelled_facts(source)
    test = list(test)
    held = set(map(tuple, test))
    facts = [f for f in facts if f not in held]
    if validation is None:
        train, valid = split_facts(facts, config.validation_fraction, config.seed)
    else:
        valid = list(validation)
        drop = set(map(tuple, valid))
        train = [f for f in facts if f not in drop]
    data = build_triple_data(train, valid, test)
    return _fit(data, config, progress, len(facts))


def _fit(data: TripleData, config: TrainConfig, progress: Progress | None, n_facts: int) -> TrainResult:
    import torch
    from pykeen import models
    from pykeen.training import SLCWATrainingLoop
    from pykeen.training.callbacks import TrainingCallback
    from pykeen.triples import TriplesFactory

    warnings.filterwarnings("ignore", message=".*pin_memory.*")  # PyKEEN asks for it; we train on CPU
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    factory = TriplesFactory(
        mapped_triples=torch.as_tensor(data.train),
        entity_to_id={e: i for i, e in enumerate(data.entity_ids)},
        relation_to_id={r: i for i, r in enumerate(data.relation_ids)},
    )
    kwargs: dict[str, object] = {"triples_factory": factory, "embedding_dim": config.dim, "random_seed": config.seed}
    if config.model == "transe":
        kwargs["scoring_fct_norm"] = 2  # L2 lets ranking be one matrix product (see scoring.py)
    if config.loss:
        kwargs["loss"] = config.loss
    model = getattr(models, _PYKEEN_MODELS[config.model])(**kwargs)
    loop = SLCWATrainingLoop(
        model=model, triples_factory=factory, optimizer="adam", optimizer_kwargs={"lr": config.learning_rate},
        negative_sampler="basic", negative_sampler_kwargs={"num_negs_per_pos": config.negatives},
    )
    losses: dict[int, float] = {}

    class _Record(TrainingCallback):
        def post_epoch(self, epoch: int, epoch_loss: float, **kw: object) -> None:
            losses[epoch] = float(epoch_loss)
            if progress and epoch % config.eval_every and epoch != config.epochs:
                progress(TrainEvent(epoch, config.epochs, float(epoch_loss)))

    def run_until(epoch: int, first: bool) -> tuple[float, np.ndarray, np.ndarray]:
        try:
            with _pykeen_quiet():
                loop.train(triples_factory=factory, num_epochs=epoch,
                           batch_size=min(config.batch_size, len(data.train)), use_tqdm=False,
                           continue_training=not first, callbacks=[_Record()])
        except RuntimeError as exc:  # PyKEEN's NonFiniteLossError is one, as is torch's overflow of a huge step
            if not _diverged(exc):
                raise
            failed = max(losses, default=0) + 1
            raise KGError(f"Training {config.model} diverged in epoch {failed} (the loss overflowed: "
                          f"{' '.join(str(exc).split())[:80]}). Lower the learning rate (--lr; this run used "
                          f"{config.learning_rate:g}, the default for {config.model} is {DEFAULT_LR[config.model]:g})."
                          ) from exc
        return (losses.get(epoch, float("nan")), *_vectors(model, config.model))

    # PyKEEN runs a full gc.collect() after every epoch; over torch's large heap that took ~0.5 s per
    # epoch here (measured), more than a whole epoch on a small graph. Freezing the objects that exist
    # now makes each collection walk only the new ones.
    gc.freeze()
    try:
        return _early_stopping(run_until, data, config, progress, n_facts)
    finally:
        gc.unfreeze()


def _early_stopping(
    run_until: Callable[[int, bool], tuple[float, np.ndarray, np.ndarray]],
    data: TripleData, config: TrainConfig, progress: Progress | None, n_facts: int,
) -> TrainResult:
    """Train ``eval_every`` epochs at a time; keep the vectors of the best validation MRR; stop after
    ``patience`` checks without a gain."""
    valid = _sample(data.valid, config.max_valid, config.seed)
    known = data.all_known()
    history: list[TrainEvent] = []
    best: tuple[float, int, tuple[np.ndarray, np.ndarray] | None] = (-1.0, 0, None)
    started, stale, done, stopped = time.perf_counter(), 0, 0, False
    while done < config.epochs:
        target = min(done + config.eval_every, config.epochs)
        loss, ents, rels = run_until(target, done == 0)
        done = target
        mrr = None
        if len(valid):
            mrr = metrics_from_ranks(filtered_ranks(config.model, ents, rels, valid, known)).mrr
        event = TrainEvent(done, config.epochs, loss, mrr)
        history.append(event)
        if progress:
            progress(event)
        score = mrr if mrr is not None else float(done)  # no validation: keep the last epoch
        if score > best[0]:
            best, stale = (score, done, (ents, rels)), 0
        else:
            stale += 1
            if stale >= config.patience:
                stopped = True
                break
        if config.max_seconds is not None and time.perf_counter() - started > config.max_seconds:
            stopped = True
            break
    ents, rels = best[2]  # type: ignore[misc]
    meta = EmbeddingMeta(
        model=config.model, dim=int(ents.shape[1]), epochs_run=done, best_epoch=best[1], seed=config.seed,
        seconds=round(time.perf_counter() - started, 3), valid_mrr=best[0] if len(valid) else None,
        trained_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), facts=n_facts,
    )
    emb = KGEmbeddings(meta, data.entity_ids, data.relation_ids, ents, rels)
    return TrainResult(emb, data, tuple(history), stopped)


def _diverged(exc: RuntimeError) -> bool:
    """A training step that blew up (a non-finite loss, a value too large for float32), not another failure."""
    text = str(exc).lower()
    return type(exc).__name__ == "NonFiniteLossError" or "non-finite" in text or "overflow" in text


@contextmanager
def _pykeen_quiet() -> Iterator[None]:
    """PyKEEN logs a failed epoch as a warning before raising; the error we raise says it in one line."""
    log = logging.getLogger("pykeen.training.training_loop")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _vectors(model: object, name: str) -> tuple[np.ndarray, np.ndarray]:
    import torch

    with torch.no_grad():
        ents = model.entity_representations[0](indices=None).detach().cpu().numpy()  # type: ignore[attr-defined]
        rels = model.relation_representations[0](indices=None).detach().cpu().numpy()  # type: ignore[attr-defined]
    if name in scoring.COMPLEX_MODELS:
        return scoring.as_real(ents), scoring.as_real(rels)
    return ents.astype(np.float32), rels.astype(np.float32)


def _sample(rows: np.ndarray, limit: int, seed: int) -> np.ndarray:
    if len(rows) <= limit:
        return rows
    pick = np.random.default_rng(seed).choice(len(rows), size=limit, replace=False)
    return rows[np.sort(pick)]


def train_and_evaluate(
    source: FactSource,
    config: TrainConfig = TrainConfig(),
    *,
    test_fraction: float = 0.1,
    progress: Progress | None = None,
) -> tuple[TrainResult, LinkMetrics]:
    """Hold out ``test_fraction`` of the facts, train on the rest (with its own validation split),
    and report filtered link-prediction metrics on the held-out facts."""
    from kg.embeddings.evaluate import evaluate_link_prediction

    config = config.checked()
    facts = labelled_facts(source)
    rest, test = split_facts(facts, test_fraction, config.seed + 1)
    if not test:
        raise KGError(f"Too few facts ({len(facts)}) to hold out a test split; add facts or drop --eval.")
    result = train_embeddings(rest, config, test=test, progress=progress)
    return result, evaluate_link_prediction(result.embeddings, test, facts)
