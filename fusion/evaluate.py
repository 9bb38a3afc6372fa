"""Scores of trained fused models on labelled examples (``kgnlp eval classify`` and ``kgnlp eval qa --model``):
classifiers and yes/no/maybe readers by accuracy, macro-F1 and per-label precision/recall/F1 (multilabel: micro
and per-label scores at probability 0.5); extractive readers by SQuAD's exact match and token F1."""
from __future__ import annotations

import re
import string
from collections import Counter
from typing import Collection, Hashable, Iterable, Sequence

from fusion.data import SpanExample, TextExample
from nlp.evaluation import precision_recall_f1


def classification_scores(gold: Sequence[str], pred: Sequence[str]) -> dict:
    """Single-label scores. Macro-F1 averages the labels that occur in ``gold`` or ``pred`` (as scikit-learn
    does), so a gold label the model does not know counts, with F1 0."""
    per = label_rows(gold, pred)
    confusion: dict[str, Counter] = {}
    for g, p in zip(gold, pred):
        confusion.setdefault(g, Counter())[p] += 1
    n = len(gold)
    return {"n": n, "accuracy": sum(g == p for g, p in zip(gold, pred)) / n if n else 0.0,
            "macro_f1": _mean_f1(per), "labels": per,
            "confusion": {g: dict(sorted(c.items())) for g, c in sorted(confusion.items())}}


def macro_f1(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> float:
    """The mean F1 of the labels that occur in ``gold`` or ``pred`` (as scikit-learn and `kgnlp eval classify`
    average: a label neither has does not count as a 0)."""
    return _mean_f1(label_rows(gold, pred))


def label_rows(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> dict:
    """Each label of ``gold`` or ``pred`` (single-label, sorted) with its precision, recall, F1 and support."""
    return {lab: _prf(sum(g == p == lab for g, p in zip(gold, pred)), sum(p == lab != g for g, p in zip(gold, pred)),
                      sum(g == lab != p for g, p in zip(gold, pred)), sum(g == lab for g in gold))
            for lab in sorted(set(gold) | set(pred), key=str)}


def multilabel_scores(gold: Sequence[set[str]], pred: Sequence[set[str]]) -> dict:
    """Micro precision/recall/F1 over (example, label) pairs, per-label scores and exact-set accuracy."""
    labels = sorted(set().union(*gold, *pred)) if gold else []
    per = {lab: _prf(sum(lab in g and lab in p for g, p in zip(gold, pred)),
                     sum(lab in p and lab not in g for g, p in zip(gold, pred)),
                     sum(lab in g and lab not in p for g, p in zip(gold, pred)), sum(lab in g for g in gold))
           for lab in labels}
    tp, fp, fn = (sum(len(g & p) for g, p in zip(gold, pred)), sum(len(p - g) for g, p in zip(gold, pred)),
                  sum(len(g - p) for g, p in zip(gold, pred)))
    micro = _prf(tp, fp, fn, tp + fn)
    n = len(gold)
    return {"n": n, "micro_precision": micro["precision"], "micro_recall": micro["recall"], "micro_f1": micro["f1"],
            "exact_set_accuracy": sum(g == p for g, p in zip(gold, pred)) / n if n else 0.0, "labels": per}


def label_scores(multilabel: bool, gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """The scores `kgnlp eval classify` writes (before ``unknown_labels``) of each example's gold and predicted
    labels: :func:`classification_scores` of the first of each, or :func:`multilabel_scores` of the sets."""
    if multilabel:
        return multilabel_scores([set(g) for g in gold], [set(p) for p in pred])
    return classification_scores([g[0] for g in gold], [p[0] for p in pred])


def unknown_labels(examples: Iterable[TextExample], known: Collection[str]) -> dict[str, int]:
    """The gold labels of ``examples`` a model trained on the ``known`` labels lacks, with their counts (JSON
    ``unknown_labels``)."""
    known = set(known)
    return dict(sorted(Counter(lab for e in examples for lab in e.labels if lab not in known).items()))


def evaluate_classifier(classifier, examples: Sequence[TextExample]) -> dict:
    """Scores of a loaded :class:`fusion.predict.Classifier` (a classifier, or a yes/no/maybe reader whose
    examples carry their passage as ``pair``) on ``examples``; ``unknown_labels`` counts gold labels the model
    was not trained on (each such example is scored as a miss)."""
    texts = [e.text for e in examples]
    pairs = [e.pair or "" for e in examples] if any(e.pair for e in examples) else None
    preds = classifier.classify(texts, pairs) if examples else []
    multi = classifier.model.config.head == "multilabel"
    scores = label_scores(multi, [e.labels for e in examples], [pr.labels if multi else (pr.label,) for pr in preds])
    return {**scores, "unknown_labels": unknown_labels(examples, classifier.model.config.labels)}


def evaluate_spans(reader, examples: Sequence[SpanExample]) -> dict:
    """Exact match and token F1 (SQuAD's normalisation: lower case, no punctuation or articles) of a span
    :class:`fusion.reader.Reader` answering each question from its own context."""
    answers = reader.read_pairs([e.question for e in examples], [e.context for e in examples]) if examples else []
    return span_scores([a.text if a is not None else "" for a in answers], examples)


def span_scores(answers: Sequence[str], examples: Sequence[SpanExample]) -> dict:
    """What `kgnlp eval qa --model` writes for a span model: exact match and token F1 of each example's answer
    text ("" for none), and how many were answered."""
    n = len(examples)
    em = sum(float(exact_match(got, e.answer)) for got, e in zip(answers, examples))
    f1 = sum(token_f1(got, e.answer) for got, e in zip(answers, examples))
    return {"n": n, "exact_match": em / n if n else 0.0, "f1": f1 / n if n else 0.0,
            "answered": sum(bool(got) for got in answers)}


def exact_match(prediction: str, gold: str) -> bool:
    """SQuAD exact match: the same answer after normalisation (lower case, no punctuation or articles)."""
    return _normalise(prediction) == _normalise(gold)


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token F1 of two answer strings (both empty: 1)."""
    p, g = _normalise(prediction).split(), _normalise(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    return precision_recall_f1(common, len(p) - common, len(g) - common)[2]


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def _normalise(text: str) -> str:
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCT)).split())


def _prf(tp: int, fp: int, fn: int, support: int) -> dict:
    """One label's row: precision, recall and F1 of its counts (unrounded) and its support."""
    p, r, f = precision_recall_f1(tp, fp, fn)
    return {"precision": p, "recall": r, "f1": f, "support": support}


def _mean_f1(rows: dict) -> float:
    """The mean F1 of the label ``rows`` (0 without any)."""
    return sum(row["f1"] for row in rows.values()) / len(rows) if rows else 0.0
