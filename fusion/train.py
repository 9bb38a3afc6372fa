"""Training loop for fused models: length-sorted batches with dynamic padding, gradient accumulation, early
stopping on a dev score, seeds, a progress callback, and resumption from the checkpoint of the last epoch."""
from __future__ import annotations

import json
import shutil
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from fusion.config import MAX_KNOWLEDGE_DROPOUT, check_out
from fusion.errors import FusionError
from fusion.inputs import FusedInput, hide_knowledge


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 3
    batch_size: int = 16
    accumulate: int = 1  # optimizer step every N batches
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3  # fusion layers and head start from scratch
    weight_decay: float = 0.01
    warmup: float = 0.1
    seed: int = 13
    patience: int = 2
    max_steps: int = 0  # 0 = no limit
    threads: int = 0
    device: str = "cpu"
    class_weight: str = "none"  # one of CLASS_WEIGHTS; "balanced" weighs each class by n / (k * count)
    precision: str = ""  # "" ($KGNLP_PRECISION, else auto), auto, fp32 or bf16: see nlp.models.matmul_precision
    knowledge_dropout: float = 0.0  # share of linked mentions whose knowledge each training step hides
    train_layers: int = -1  # encoder layers fine-tuned, from the top; -1 = all (and the embeddings), 0 = none


CLASS_WEIGHTS = ("none", "balanced")  # single-label classification losses (fusion.tasks.train_classifier)


@dataclass(frozen=True)
class Progress:
    phase: str  # "train" or "eval"
    epoch: int
    step: int
    total_steps: int
    loss: float
    dev_score: float | None = None


@dataclass(frozen=True)
class TrainResult:
    out_dir: str
    epochs_run: int
    best_epoch: int
    best_dev: float | None
    seconds: float
    steps: int
    history: tuple[dict, ...] = field(default=())
    resumed_after: int = 0  # the checkpoint's epoch this call went on from (0: a fresh run)
    stopped_early: bool = False  # the dev score had not improved for ``patience`` epochs
    # the learning-rate schedules the steps before this call's schedule followed, where a resume changed the run's
    # length (--epochs, --max-steps): (the step it was followed until, the optimizer steps it was made for), in order;
    # empty when every step followed this call's schedule (or this call trained nothing)
    rescheduled_from: tuple[tuple[int, int], ...] = ()

    def summary(self) -> str:
        """e.g. "4 epochs (best 2), 12.3 s, resumed after epoch 3, stopped early", for a report line (resumed with
        another length: "resumed after epoch 1 (trained until then on a learning-rate schedule made for 2 steps until
        step 2)"; twice: "... made for 2 steps until step 2, then on one made for 4 steps until step 4)")."""
        best = f" (best {self.best_epoch})" if self.best_dev is not None and self.best_epoch != self.epochs_run else ""
        parts = [f"{self.epochs_run} epoch{'s' if self.epochs_run != 1 else ''}{best}", f"{self.seconds:.1f} s"]
        if self.resumed_after:
            parts.append(f"resumed after epoch {self.resumed_after}" + (
                f" (trained until then on {_schedules(self.rescheduled_from)})" if self.rescheduled_from else ""))
        if self.stopped_early:
            parts.append("stopped early: no dev gain")
        return ", ".join(parts)

    def as_dict(self) -> dict:
        return asdict(self)


def length_batches(items: Sequence[FusedInput], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Indices grouped by similar length (little padding); batch order shuffled, content kept sorted."""
    order = sorted(range(len(items)), key=lambda i: (len(items[i]), rng.random()))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def to_batch(model, items: Sequence[FusedInput], device: str = "cpu") -> dict:
    from fusion.batch import collate
    from fusion.examples import label_tensors

    batch = collate(items, pad_id=0)
    batch.update(label_tensors(items, model.config.head, batch["input_ids"].shape[1], len(model.config.labels)))
    return {k: v.to(device) for k, v in batch.items()}


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_fused(
    model,
    train: Sequence[FusedInput],
    out_dir: str | Path,
    settings: TrainSettings = TrainSettings(),
    *,
    score: Callable[[object], float] | None = None,
    tokenizer=None,
    progress: Callable[[Progress], None] | None = None,
    extra: dict | None = None,
    resume: bool = True,
    dev_digest: str = "",
) -> TrainResult:
    """Fine-tune ``model`` on ``train``; ``score(model)`` (higher is better, e.g. dev macro-F1) picks the best
    epoch, which is what ``out_dir`` holds at the end. ``out_dir/checkpoint`` holds the last epoch's model and
    optimizer state; a later call with the same ``out_dir`` resumes after that epoch, if it trains the same run
    (:func:`run_identity`; ``dev_digest`` names the data ``score`` reads, e.g. :func:`items_digest`)."""
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import get_linear_schedule_with_warmup

    from nlp.models import matmul_autocast, matmul_precision

    device_type = settings.device.split(":")[0]
    precision = matmul_precision(settings.precision, device_type)  # a bad value fails before any work
    if not train:
        raise FusionError("No training examples. Check the --data file (one JSON object per line).")
    check_out(out_dir, model.config.head)
    if not 0.0 <= settings.knowledge_dropout <= MAX_KNOWLEDGE_DROPOUT:
        raise FusionError(f"knowledge_dropout must be between 0 and {MAX_KNOWLEDGE_DROPOUT}, "
                          f"got {settings.knowledge_dropout}.")
    if settings.knowledge_dropout and model.config.fusion == "none":
        raise FusionError("knowledge_dropout hides graph knowledge, which a fusion 'none' model does not read: "
                          "use fusion facts, embeddings or both, or leave it at 0.")
    frozen = frozen_encoder_params(model, settings.train_layers)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    seed_everything(settings.seed)
    progress = progress or (lambda p: None)
    out, ckpt = Path(out_dir), Path(out_dir) / "checkpoint"
    model.to(settings.device)
    for name, p in model.named_parameters():
        p.requires_grad_(name not in frozen)
    enc_params = [p for n, p in model.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    new_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    optimizer = torch.optim.AdamW([{"params": enc_params, "lr": settings.learning_rate},
                                   {"params": new_params, "lr": settings.head_learning_rate}],
                                  weight_decay=settings.weight_decay)
    per_epoch = -(-len(train) // settings.batch_size)
    total = -(-per_epoch // settings.accumulate) * settings.epochs
    if settings.max_steps:
        total = min(total, settings.max_steps)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total * settings.warmup), max(total, 1))
    run = run_identity(model.config, settings, train, dev_digest, getattr(model, "encoder_source", ""),
                       getattr(model, "graph_origin", None))
    state = {"epoch": 0, "step": 0, "best": None, "best_epoch": 0, "bad": 0, "history": [], "run": run}
    old = ckpt.with_name(ckpt.name + ".old")
    if not ckpt.exists() and old.exists():  # interrupted between putting the old one aside and the new in place
        old.rename(ckpt)
    if resume and (ckpt / "trainer.json").exists():
        try:
            state = json.loads((ckpt / "trainer.json").read_text())
            _check_same_run(state.setdefault("run", run), run, ckpt)
            model.load_state_dict(load_file(str(ckpt / "model.safetensors")))
            _load_optimizer(optimizer, load_file(str(ckpt / "optimizer.safetensors")))
            _resume_schedule(optimizer, scheduler, state.pop("scheduler"))
            _load_rng(ckpt, load_file, settings.device)
        except FusionError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged file, whatever the library's error
            why = (str(exc).splitlines() or [""])[0]
            raise FusionError(f"The checkpoint in {ckpt} cannot be read ({type(exc).__name__}: {why}); rerun with "
                              "--fresh to start over.") from None
    started = time.perf_counter()
    step, epoch = state["step"], state["epoch"]
    resumed_after = epoch
    _reschedule(state, total)
    while epoch < settings.epochs and not (settings.max_steps and step >= total) and state["bad"] < settings.patience:
        epoch += 1
        rng = random.Random(settings.seed * 1000 + epoch)
        hide_rng = random.Random(settings.seed * 7919 + epoch)  # its own stream: the batches stay the same
        model.train()
        running, n = 0.0, 0
        for b, idx in enumerate(length_batches(train, settings.batch_size, rng)):
            items = [train[i] for i in idx]
            if settings.knowledge_dropout:
                items = [hide_knowledge(it, settings.knowledge_dropout, hide_rng) for it in items]
            batch = to_batch(model, items, settings.device)
            with matmul_autocast(precision, device_type):
                loss = model(batch)["loss"]
            if not torch.isfinite(loss):
                raise FusionError(f"The training loss became {loss.item()} in epoch {epoch} (the learning rate is too "
                                  "high, or the data holds something the model cannot read): nothing of this epoch "
                                  "was saved. Lower --lr, or check the data.")
            (loss / settings.accumulate).backward()
            running = loss.item() if n == 0 else 0.9 * running + 0.1 * loss.item()
            n += 1
            if (b + 1) % settings.accumulate == 0 or b + 1 == per_epoch:
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                step += 1
                progress(Progress("train", epoch, step, total, running))
                if settings.max_steps and step >= total:
                    break
        model.eval()
        record = {"epoch": epoch, "loss": round(running, 5)}
        dev = None
        if score is not None:
            with torch.no_grad():
                dev = float(score(model))
            record["dev"] = round(dev, 5)
            progress(Progress("eval", epoch, step, total, running, dev))
        if score is None or state["best"] is None or dev > state["best"]:
            state.update(best=dev, best_epoch=epoch, bad=0)
            model.save(out, tokenizer, {**(extra or {}), "best_epoch": epoch, "dev_score": dev})
        else:
            state["bad"] += 1
        state["history"].append(record)
        state.update(epoch=epoch, step=step)
        _checkpoint(model, optimizer, scheduler, state, ckpt, save_file, settings.device)
    seconds = time.perf_counter() - started
    return TrainResult(str(out), epoch, state["best_epoch"], state["best"], round(seconds, 2), step,
                       tuple(state["history"]), resumed_after, state["bad"] >= settings.patience,
                       tuple(map(tuple, state["schedules"])) if epoch > resumed_after else ())


def _reschedule(state: dict, total: int) -> None:
    """Record in the checkpoint ``state`` that its steps from here follow a schedule made for ``total`` steps: where
    that is not the schedule its last steps followed (``schedule_steps``), that one joins ``schedules`` (``[the step
    it was followed until, the steps it was made for]``, in order; a checkpoint from before kept only the last)."""
    planned = state.setdefault("schedule_steps", total)
    schedules = state.setdefault("schedules", [])
    if planned != total and state["step"]:
        schedules.append([state["step"], planned])
    state["schedule_steps"] = total


def _schedules(earlier: tuple[tuple[int, int], ...]) -> str:
    """The earlier schedules of a resumed run in words: "a learning-rate schedule made for 2 steps until step 2,
    then on one made for 4 steps until step 4" (each with its last step: the last one was not always followed until
    this call resumed, as after a rescheduled run was interrupted)."""
    return "a learning-rate schedule " + ", then on one ".join(f"made for {total} steps until step {until}"
                                                                for until, total in earlier)


def _resume_schedule(optimizer, scheduler, saved: dict) -> None:
    """The learning-rate ``scheduler`` of this run (built for its --epochs and --max-steps) at the step of the
    checkpoint's (``saved``), and the optimizer's rates set from it: each step after the checkpoint takes the rate a
    run started with these settings takes at that step, also where the checkpoint's run was made for another length
    (its own last rate, e.g. 0 at the end of a finished run, would have been the first step's)."""
    scheduler.load_state_dict(saved)  # its step; the rate functions stay this run's (``LambdaLR`` keeps them)
    for group, base, rate in zip(optimizer.param_groups, scheduler.base_lrs, scheduler.lr_lambdas):
        group["lr"] = base * rate(scheduler.last_epoch)


# How long a run goes on and where it runs: these may change when a run resumes (e.g. more epochs).
_RESUMABLE = frozenset({"epochs", "patience", "max_steps", "threads", "device", "precision"})


def digest(rows) -> str:
    """sha256 of JSON-able rows (sets sorted, anything else as its string): what a checkpoint's run is trained on."""
    import hashlib

    def plain(o):
        return sorted(o) if isinstance(o, (set, frozenset)) else str(o)

    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps(row, sort_keys=True, default=plain).encode())
    return h.hexdigest()


def items_digest(items: Sequence[FusedInput]) -> str:
    """:func:`digest` of model inputs and their targets (``extra``)."""
    return digest([it.input_ids, it.position_ids, it.token_type_ids, it.fact_of, it.anchors, it.entity_rows,
                   it.body, it.kbert, it.kg_rows, it.extra] for it in items)


def run_identity(config, settings: TrainSettings, train: Sequence[FusedInput], dev: str = "",
                 encoder: str = "", graph=None) -> dict:
    """What a checkpoint must share with a run that resumes it: the model's config, the training settings
    (except :data:`_RESUMABLE`), a digest of the training inputs and their targets, ``dev`` (a digest of
    the dev data the run's score reads, from the caller; "" without one) and ``encoder``, the folder the
    pretrained encoder came from ("" for a model that was not built from one: not compared). ``graph``: the
    ``fusion.origin.GraphOrigin`` the inputs were linked with, kept to say why they differ (not compared itself:
    a graph change that leaves every input as it was does not stop a resume)."""
    kept = {k: v for k, v in asdict(settings).items() if k not in _RESUMABLE}
    return {"config": json.loads(json.dumps(config.as_dict(), default=str)), "settings": kept,
            "data": items_digest(train), "examples": len(train), "dev": dev, "encoder": encoder,
            "graph": graph.as_dict() if graph is not None else None}


def _check_same_run(saved: dict, run: dict, ckpt: Path) -> None:
    """Resume only the run the checkpoint is from; name what differs otherwise. The inputs are built from the data
    with the encoder's tokenizer and the graph's links and facts: where the encoder or the graph changed, that is
    named, not the data (it may be the same file)."""
    from fusion.origin import GraphOrigin

    changed = []
    if saved.get("encoder") and run["encoder"] and saved["encoder"] != run["encoder"]:  # the checkpoint's weights
        changed.append(f"the encoder ({saved['encoder']} -> {run['encoder']})")  # would silently replace the new one
    data_differs = saved.get("data") != run["data"]
    dev_differs = saved.get("dev", run["dev"]) != run["dev"]  # checkpoints before the dev digest: not compared
    graphs = GraphOrigin.from_dict(saved.get("graph")), GraphOrigin.from_dict(run.get("graph"))
    if (data_differs or dev_differs) and None not in graphs and not graphs[0].same_graph(graphs[1]):
        counts = graphs[0].counts(), graphs[1].counts()
        changed.append(f"the graph ({counts[0]} -> {counts[1]})" if counts[0] != counts[1]
                       else f"the graph (other names, {counts[0]})")
    explained = bool(changed)  # the inputs differ because the encoder or the graph does: the data may be the same
    counts = saved.get("examples"), run["examples"]
    if data_differs and counts[0] != counts[1]:
        changed.append(f"the training data ({counts[0]} -> {counts[1]} examples)")
    elif data_differs and not explained:
        changed.append("the training data (same count, other content)")
    if dev_differs and not explained:
        changed.append("the dev data")
    for part in ("settings", "config"):
        old, new = saved.get(part, {}), run[part]
        changed += [f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new))
                    if old.get(k) != new.get(k)]
    if changed:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        raise FusionError(f"{ckpt} is the checkpoint of another run ({'; '.join(changed[:3])}{more}): use the "
                          "same data and settings to resume it, or --fresh to start over (it is replaced).")


def frozen_encoder_params(model, train_layers: int) -> frozenset[str]:
    """Names of the encoder parameters that ``train_layers`` keeps fixed: with N >= 0 the embeddings and all but
    the top N layers (N = 0: the whole encoder; only the fusion layers and the head learn); -1 = none fixed."""
    n_layers = len(model.encoder.encoder.layer)
    if train_layers == -1:
        return frozenset()
    _check_layers(train_layers, n_layers)
    keep = tuple(f"encoder.encoder.layer.{i}." for i in range(n_layers - train_layers, n_layers))
    return frozenset(n for n, _ in model.named_parameters() if n.startswith("encoder.") and not n.startswith(keep))


def check_train_layers(train_layers: int, encoder: str | Path | None = None) -> None:
    """Before any data is read or the encoder loaded: ``train_layers`` within the layers that the encoder folder's
    ``config.json`` declares (``num_hidden_layers``; the default encoder when None)."""
    if train_layers == -1:
        return
    from nlp.models import encoder_path

    try:
        n_layers = json.loads((encoder_path(encoder) / "config.json").read_text(encoding="utf-8"))["num_hidden_layers"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # not an HF BERT-like config: the loaded model's layers decide (frozen_encoder_params)
    _check_layers(train_layers, n_layers)


def _check_layers(train_layers: int, n_layers: int) -> None:
    if not 0 <= train_layers <= n_layers:
        raise FusionError(f"train_layers must be -1 (all) or 0..{n_layers} (this encoder's layers), "
                          f"got {train_layers}.")


def _checkpoint(model, optimizer, scheduler, state: dict, ckpt: Path, save_file, device: str = "cpu") -> None:
    """Written whole or not at all: into a new folder that then takes the old one's place, so an interrupt
    leaves the last epoch's checkpoint or this one, never a mix. The random number generators' state goes with
    it: dropout in the next epoch draws what it would have drawn had the run not stopped."""
    import torch

    final, ckpt, old = ckpt, ckpt.with_name(ckpt.name + ".tmp"), ckpt.with_name(ckpt.name + ".old")
    shutil.rmtree(ckpt, ignore_errors=True)
    ckpt.mkdir(parents=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
              str(ckpt / "model.safetensors"))
    flat = {}
    for i, st in optimizer.state_dict()["state"].items():
        for key, value in st.items():
            flat[f"{i}.{key}"] = value.detach().cpu().contiguous().reshape(-1) if key == "step" else value.cpu().contiguous()
    save_file(flat, str(ckpt / "optimizer.safetensors"))
    rng = {"torch": torch.get_rng_state()}
    if device.startswith("cuda"):
        rng["cuda"] = torch.cuda.get_rng_state(device)
    save_file(rng, str(ckpt / "rng.safetensors"))
    (ckpt / "trainer.json").write_text(json.dumps({**state, "scheduler": scheduler.state_dict()}))
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    ckpt.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _load_rng(ckpt: Path, load_file, device: str) -> None:
    """The generators' state when the checkpoint was written (a checkpoint from before it was kept: as seeded)."""
    import torch

    if not (ckpt / "rng.safetensors").exists():
        return
    rng = load_file(str(ckpt / "rng.safetensors"))
    torch.set_rng_state(rng["torch"])
    if device.startswith("cuda") and "cuda" in rng:
        torch.cuda.set_rng_state(rng["cuda"], device)


def _load_optimizer(optimizer, flat: dict) -> None:
    sd = optimizer.state_dict()
    state: dict = {}
    for name, value in flat.items():
        i, key = name.split(".", 1)
        state.setdefault(int(i), {})[key] = value.reshape(()) if key == "step" else value
    sd["state"] = state
    optimizer.load_state_dict(sd)
