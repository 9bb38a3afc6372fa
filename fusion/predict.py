"""Inference and scores for fused models: batched logits, sequence metrics, span answers, a classifier."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from fusion.inputs import FusedInput

if TYPE_CHECKING:
    from fusion.config import SavedConfig


def outputs(model, items: Sequence[FusedInput], batch_size: int = 32, device: str | None = None) -> list:
    """Per item: its logits as a numpy array (sequence heads: ``(C,)``; token/span heads: ``(L, C)``).
    Runs where the model's parameters are unless ``device`` says otherwise."""
    import torch

    device = device or str(next(model.parameters()).device)
    model.to(device)
    from fusion.train import to_batch

    model.eval()
    order = sorted(range(len(items)), key=lambda i: len(items[i]))
    result: list = [None] * len(items)
    with torch.no_grad():
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            batch = to_batch(model, [items[i] for i in idx], device)
            for k in ("labels", "start_positions", "end_positions"):
                batch.pop(k, None)
            logits = model(batch)["logits"].float().cpu().numpy()
            for r, i in enumerate(idx):
                result[i] = logits[r] if logits.ndim == 2 else logits[r, :len(items[i])]
    return result


MULTILABEL_THRESHOLD = 0.5  # a multilabel model predicts each label whose probability is above this (logit > 0)


def sequence_scores(model, items: Sequence[FusedInput], batch_size: int = 32, device: str | None = None) -> dict:
    """The scores `kgnlp eval classify` writes (``fusion.evaluate.label_scores``, before ``unknown_labels``) of
    ``items`` whose ``extra["label"]`` holds their gold label's index (multilabel: indices): accuracy, macro-F1,
    per-label rows and a confusion table, or micro scores at probability 0.5 (multilabel). A gold index the model
    has no label for (-1) is a label of its own: a miss."""
    from fusion.evaluate import label_scores

    labels = model.config.labels
    logits = outputs(model, items, batch_size, device)
    if model.config.head == "multilabel":
        gold = [[_label_name(labels, i) for i in it.extra["label"]] for it in items]
        pred = [[labels[i] for i, v in enumerate(lg) if v > 0] for lg in logits]  # logit > 0: probability > 0.5
    else:
        gold = [[_label_name(labels, int(it.extra["label"]))] for it in items]
        pred = [[labels[int(lg.argmax())]] for lg in logits]
    return label_scores(model.config.head == "multilabel", gold, pred)


def _label_name(labels: Sequence[str], index: int) -> str:
    """The model's label at ``index``; one of its own for an index it has no label at (a gold label it lacks)."""
    return labels[index] if 0 <= index < len(labels) else f"(label {index})"


def best_span(start, end, allowed: Sequence[int], max_len: int = 30) -> tuple[int, int, float]:
    """Highest ``start[i] + end[j]`` with ``i <= j < i + max_len`` over allowed token positions."""
    best = (0, 0, float("-inf"))
    allowed = list(allowed)
    for a, i in enumerate(allowed):
        for j in allowed[a:a + max_len]:
            s = float(start[i] + end[j])
            if s > best[2]:
                best = (i, j, s)
    return best


def span_answers(model, items: Sequence[FusedInput], contexts: Sequence[str], batch_size: int = 16) -> list[str]:
    """The answer text for each item (character span of its context)."""
    answers = []
    for it, lg, ctx in zip(items, outputs(model, items, batch_size), contexts):
        i, j, _ = best_span(lg[:, 0], lg[:, 1], it.body[1])
        offs = it.extra["context_offsets"]
        pos = {p: k for k, p in enumerate(it.body[1])}
        answers.append(ctx[offs[pos[i]][0]:offs[pos[j]][1]] if i in pos and j in pos else "")
    return answers


@dataclass(frozen=True)
class Prediction:
    text: str
    label: str
    score: float
    scores: dict[str, float]
    entities: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # every label predicted: the one label, or (multilabel) each above 0.5


class Classifier:
    """A saved sequence-classification model with its knowledge; ``classify(texts)``."""

    def __init__(self, model, tokenizer, knowledge=None) -> None:
        from fusion.examples import InputBuilder

        self.model, self.tokenizer, self.knowledge = model, tokenizer, knowledge
        self.builder = InputBuilder(tokenizer, model.config, knowledge, model.entity_row)

    @classmethod
    def load(cls, folder: "str | Path | SavedConfig", store=None, retriever=None, linker=None) -> "Classifier":
        """Load ``folder`` (or its config.json already read); with a ``store`` the graph supplies links and facts,
        else only the model itself (``retriever``: where a model that reads retrieved facts gets them; ``linker``:
        the store's names when already read, ``fusion.examples.model_knowledge``)."""
        from fusion.config import check_head, saved_config
        from fusion.examples import model_knowledge
        from fusion.model import FusedModel, load_tokenizer

        saved = saved_config(folder)
        check_head(saved.head, saved.folder, ("sequence", "multilabel"), "`kgnlp classify`", "`kgnlp train classify`")
        model = FusedModel.load(saved)
        tokenizer = load_tokenizer(saved.folder)
        knowledge = model_knowledge(model, store, retriever, linker)
        return cls(model, tokenizer, knowledge)

    def classify(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> list[Prediction]:
        """Label each text (with its ``pairs`` item as the second segment, e.g. question + abstract)."""
        import numpy as np

        self.builder.prefetch(texts, pairs)
        items = [self.builder.sequence(t, pair=pairs[i] if pairs else None) for i, t in enumerate(texts)]
        labels = self.model.config.labels
        out = []
        for i, (t, lg) in enumerate(zip(texts, outputs(self.model, items))):
            if self.model.config.head == "multilabel":
                probs = 1 / (1 + np.exp(-lg))
            else:
                probs = np.exp(lg - lg.max())
                probs = probs / probs.sum()
            k = int(probs.argmax())
            chosen = (tuple(lab for lab, p in zip(labels, probs) if p > MULTILABEL_THRESHOLD)
                      if self.model.config.head == "multilabel" else (labels[k],))
            ctxs = self.builder.input_knowledge(t, pairs[i] if pairs else None, facts=True) if self.knowledge else []
            out.append(Prediction(t, labels[k], float(probs[k]), {lab: float(p) for lab, p in zip(labels, probs)},
                                  tuple(dict.fromkeys(e for c in ctxs for e in c.entity_ids)),
                                  tuple(dict.fromkeys(f.text for c in ctxs for f in c.facts)), chosen))
        return out
