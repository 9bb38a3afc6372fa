"""Entity-level micro precision / recall / F1: a prediction counts only with exact span and type."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from kg.records import Mention
from nlp.formats.records import GoldMention, LabelledDoc


@dataclass(frozen=True)
class PRF:
    """Counts and the scores they give."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass(frozen=True)
class NERScores:
    """Micro scores over all labels, and per label."""

    micro: PRF
    by_label: tuple[tuple[str, PRF], ...]

    def as_dict(self) -> dict[str, object]:
        return {"micro": self.micro.as_dict(), "by_label": {k: v.as_dict() for k, v in self.by_label}}


def score_spans(gold: Iterable[Sequence[GoldMention | Mention]],
                predicted: Iterable[Sequence[GoldMention | Mention]]) -> NERScores:
    """Compare gold and predicted spans document by document (exact start, end and label)."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g_doc, p_doc in zip(gold, predicted, strict=True):
        g = Counter((m.start, m.end, m.label) for m in g_doc)
        p = Counter((m.start, m.end, m.label) for m in p_doc)
        for key in g | p:
            hit = min(g[key], p[key])
            tp[key[2]] += hit
            fp[key[2]] += p[key] - hit
            fn[key[2]] += g[key] - hit
    labels = sorted(set(tp) | set(fp) | set(fn))
    by_label = tuple((lab, PRF(tp[lab], fp[lab], fn[lab])) for lab in labels)
    micro = PRF(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return NERScores(micro, by_label)


def evaluate_ner(layer, docs: Sequence[LabelledDoc], batch_size: int = 32) -> NERScores:
    """Score an NERLayer against labelled documents."""
    return score_spans([d.mentions for d in docs], predict_docs(layer, docs, batch_size))


def predict_docs(layer, docs: Sequence[LabelledDoc], batch_size: int = 32) -> list[list[Mention]]:
    """An NERLayer's mentions in each labelled document's text, ``batch_size`` texts at a time."""
    predicted: list[list[Mention]] = []
    for i in range(0, len(docs), batch_size):
        predicted.extend(layer.predict([d.doc.text for d in docs[i:i + batch_size]]))
    return predicted
