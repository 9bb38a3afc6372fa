"""One call per task: build the model and the inputs, train, and report (what the CLI and benchmarks use)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from fusion.config import FusionConfig
from fusion.data import SpanExample, TextExample
from fusion.errors import FusionError
from fusion.examples import InputBuilder, Knowledge
from fusion.train import (CLASS_WEIGHTS, Progress, TrainResult, TrainSettings, items_digest, seed_everything,
                          train_fused)


@dataclass(frozen=True)
class TaskReport:
    train: TrainResult
    dev: dict
    labels: tuple[str, ...]
    fusion: str
    unseen: tuple[str, ...] = ()  # dev labels no training example has: the model cannot predict them

    def as_dict(self) -> dict:
        return {"train": self.train.as_dict(), "dev": self.dev, "labels": list(self.labels), "fusion": self.fusion,
                "dev_labels_not_trained": list(self.unseen)}


def split_dev(examples: list, fraction: float, seed: int) -> tuple[list, list]:
    """A seeded split; ``fraction`` of the examples (at least one when there are 5+) go to dev."""
    if fraction <= 0 or len(examples) < 5:
        return examples, []
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    n = max(1, int(len(examples) * fraction))
    return [examples[i] for i in order[n:]], [examples[i] for i in order[:n]]


def prepare(encoder: str | Path | None, config: FusionConfig, knowledge: Knowledge | None, seed: int = 13):
    """``(model, tokenizer, builder)`` for a fresh fine-tuning run."""
    from fusion.model import FusedModel, load_tokenizer
    from nlp.models import encoder_path

    path = encoder_path(str(encoder) if encoder else None)
    embeddings = knowledge.embeddings if knowledge else None
    if config.fusion != "none" and (knowledge is None or knowledge.linker is None):
        raise FusionError(f"Fusion '{config.fusion}' needs a knowledge graph, but none was given. Build one with "
                          "`kgnlp ingest` (and `kgnlp embed` for embeddings) or use --fusion none.")
    if config.fusion != "none" and knowledge.store is not None and not knowledge.store.stats().entities:
        where = f"workspace '{knowledge.workspace}'" if knowledge.workspace else "the graph given"
        raise FusionError(f"Fusion '{config.fusion}' reads the knowledge graph, and {where} holds no entities: the "
                          "model would learn nothing from it. Ingest documents (or a --seed) first with `kgnlp "
                          "ingest`, or use --fusion none.")
    if knowledge is not None:
        config = config.with_schema(knowledge.schema)  # inference (and its explanations) say facts the same way
    seed_everything(seed)  # the new head and fusion layers start the same whatever ran before in this process
    model = FusedModel.from_encoder(path, config, embeddings)
    if config.fusion != "none" and knowledge.store is not None:  # which graph it learns with (fusion.origin)
        from fusion.origin import graph_origin

        model.graph_origin = graph_origin(knowledge.store, knowledge.workspace, knowledge.names)[0]
        knowledge.names = None  # read for this record only: not kept beside the linker's table for the whole run
    tokenizer = load_tokenizer(path)
    tokenizer.model_max_length = 1_000_000
    return model, tokenizer, InputBuilder(tokenizer, model.config, knowledge, model.entity_row)


def balanced_weights(label_ids: Sequence[int], n_labels: int):
    """n / (k * count) per class (sklearn's "balanced"); a class absent from training gets weight 1."""
    import torch

    counts = [0] * n_labels
    for i in label_ids:
        counts[i] += 1
    n = len(label_ids)
    return torch.tensor([n / (n_labels * c) if c else 1.0 for c in counts], dtype=torch.float32)


def train_classifier(
    examples: Sequence[TextExample],
    out_dir: str | Path,
    config: FusionConfig,
    *,
    encoder: str | Path | None = None,
    knowledge: Knowledge | None = None,
    settings: TrainSettings = TrainSettings(),
    dev: Sequence[TextExample] | None = None,
    dev_fraction: float = 0.1,
    progress: Callable[[Progress], None] | None = None,
    resume: bool = True,
) -> TaskReport:
    """Sequence classification (single-label, or multilabel when ``config.head == "multilabel"``);
    labels come from the data. Early stopping on dev macro-F1 (micro-F1 for multilabel)."""
    from fusion.evaluate import unknown_labels
    from fusion.predict import sequence_scores

    if settings.class_weight not in CLASS_WEIGHTS:
        raise FusionError(f"Unknown class weighting '{settings.class_weight}'. Choose {' or '.join(CLASS_WEIGHTS)}.")
    if settings.class_weight != "none" and config.head == "multilabel":  # before the encoder loads
        raise FusionError(f"Class weighting '{settings.class_weight}' weighs single-label classes; this data has label "
                          "lists (multilabel), whose loss it would not change. Leave it (--class-weight) at 'none'.")
    examples = list(examples)
    split = dev is None
    if split:
        examples, dev = split_dev(examples, dev_fraction, settings.seed)
    labels = tuple(sorted({lab for e in examples for lab in e.labels}))
    if config.head != "multilabel" and len(labels) < 2:  # before the encoder loads
        given = sorted({lab for e in (*examples, *dev) for lab in e.labels})
        why = (f" once {len(dev)} of {len(examples) + len(dev)} examples went to the dev split, which took every "
               f"example of {', '.join(repr(x) for x in given if x not in labels)} (add examples of each label, or "
               "train on all of them with no dev split: --no-dev)" if split and len(given) > len(labels) else "")
        raise FusionError(f"The training examples have {len(labels)} label{'' if len(labels) == 1 else 's'} "
                          f"({', '.join(map(repr, labels)) or 'none'}){why}: a classifier needs at least two.")
    config = config.with_(labels=labels)
    model, tokenizer, builder = prepare(encoder, config, knowledge, settings.seed)
    index = {lab: i for i, lab in enumerate(labels)}
    multi = config.head == "multilabel"

    def item(e: TextExample):
        label = [index[x] for x in e.labels if x in index] if multi else index.get(e.labels[0], 0)
        return builder.sequence(e.text, label, e.pair)

    builder.prefetch([e.text for e in (*examples, *dev)], [e.pair for e in (*examples, *dev)])
    train_items = [item(e) for e in examples]
    if settings.class_weight == "balanced" and not multi:
        model.loss_weights = balanced_weights([index.get(e.labels[0], 0) for e in examples], len(labels))
    dev_items = [item(e) for e in dev if multi or e.labels[0] in index]
    key = "micro_f1" if multi else "macro_f1"
    score = (lambda m: sequence_scores(m, dev_items, device=settings.device)[key]) if dev_items else None
    result = train_fused(model, train_items, out_dir, settings, score=score, tokenizer=tokenizer,
                         progress=progress, extra={"task": "classify", "train_examples": len(train_items),
                                                   "pairs": any(e.pair is not None for e in examples)},
                         resume=resume, dev_digest=items_digest(dev_items) if dev_items else "")
    best = _reload(out_dir).to(settings.device)
    # counted as `eval classify` counts them, but not scored as misses: the dev scores leave out their examples
    # (multilabel: those labels), as the dev score training stops on does
    unknown = unknown_labels(dev, labels)
    dev_scores = {**sequence_scores(best, dev_items), "unknown_labels": unknown} if dev_items else {}
    return TaskReport(result, dev_scores, labels, config.fusion, tuple(unknown))


def train_span_qa(
    examples: Sequence[SpanExample],
    out_dir: str | Path,
    config: FusionConfig,
    *,
    encoder: str | Path | None = None,
    knowledge: Knowledge | None = None,
    settings: TrainSettings = TrainSettings(),
    dev_fraction: float = 0.1,
    progress: Callable[[Progress], None] | None = None,
    resume: bool = True,
) -> TaskReport:
    """Extractive QA over question + context (+ facts); early stopping on dev exact match (SQuAD's, as
    `kgnlp eval qa --model` scores)."""
    from fusion.evaluate import span_scores
    from fusion.predict import span_answers

    if settings.class_weight != "none":  # before the encoder loads
        raise FusionError(f"Class weighting '{settings.class_weight}' weighs classes; extractive QA has none (its "
                          "answers are spans). Leave it (--class-weight) at 'none'.")
    train, dev = split_dev(list(examples), dev_fraction, settings.seed)
    config = config.with_(head="span", labels=())
    model, tokenizer, builder = prepare(encoder, config, knowledge, settings.seed)

    def item(e: SpanExample):
        answer = (e.answer_start, e.answer_start + len(e.answer)) if e.answer_start >= 0 else None
        it = builder.span(e.question, e.context, answer)
        if answer is None:
            it.extra["start"] = it.extra["end"] = 0
        return it

    builder.prefetch([e.question for e in (*train, *dev)], [e.context for e in (*train, *dev)])
    train_items = [item(e) for e in train]
    dev_items = [item(e) for e in dev]

    def scores(m) -> dict:  # as `eval qa --model` scores a span model
        return span_scores(span_answers(m, dev_items, [e.context for e in dev]), dev)

    result = train_fused(model, train_items, out_dir, settings,
                         score=(lambda m: scores(m)["exact_match"]) if dev_items else None,
                         tokenizer=tokenizer, progress=progress, extra={"task": "qa-span"}, resume=resume,
                         dev_digest=items_digest(dev_items) if dev_items else "")
    best = _reload(out_dir).to(settings.device)
    return TaskReport(result, scores(best) if dev_items else {}, (), config.fusion)


def _reload(out_dir: str | Path):
    from fusion.model import FusedModel

    return FusedModel.load(out_dir)
