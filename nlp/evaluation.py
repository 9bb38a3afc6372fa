"""Scores on labelled files: entity P/R/F1, fact P/R/F1 per document, QA exact match and hits@k."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Collection, Iterable, Protocol, Sequence, Union

from kg.errors import not_a_file
from kg.files import jsonl_lines
from kg.names import normalise, relation_name
from kg.store import GraphStore
from kg.views import NameCache
from nlp.errors import NLPError

if TYPE_CHECKING:
    from nlp.formats.records import LabelledDoc


class _Span(Protocol):
    start: int
    end: int
    label: str


Spanned = Union[_Span, tuple[int, int, str]]  # a mention as scored: a record (gold or predicted) or its key


def precision_recall_f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 of true positive, false positive and false negative counts, unrounded (0 where a
    ratio has nothing to divide by): the one formula the project's scorers use (benchmarks/vote_select.py keeps a
    numpy F1 over its bootstrap arrays)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class PRF:
    """Counts and their precision, recall and F1, rounded to 4 places (as the JSON of `kgnlp eval` writes them)."""

    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int

    @classmethod
    def of(cls, tp: int, fp: int, fn: int) -> "PRF":
        p, r, f = precision_recall_f1(tp, fp, fn)
        return cls(round(p, 4), round(r, 4), round(f, 4), tp, fp, fn)


def read_jsonl(path: Path) -> list[dict]:
    """The JSON objects of a JSONL file, one per line; anything else is a one-line error naming the line."""
    from nlp.formats.records import read_text

    rows = []
    for n, line in enumerate(jsonl_lines(read_text(path, "JSONL file")), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise NLPError(f"{path}:{n}: malformed JSON ({exc.msg}).") from None
            if not isinstance(rows[-1], dict):
                raise NLPError(f"{path}:{n}: expected a JSON object ({{...}}), got {json.dumps(rows[-1])[:40]}.")
    if not rows:
        raise NLPError(f"'{path}' has no records.")
    return rows


def score_spans(gold: Iterable[set[tuple]], pred: Iterable[set[tuple]]) -> PRF:
    """Micro P/R/F1 over per-item sets of (start, end, label) (exact span and type)."""
    tp = fp = fn = 0
    for g, p in zip(gold, pred):
        tp += len(g & p)
        fp += len(p - g)
        fn += len(g - p)
    return PRF.of(tp, fp, fn)


@dataclass(frozen=True)
class PipelineNERScores:
    """What :func:`evaluate_ner` measured: P/R/F1 over all labels and per label (each gold or predicted label, so
    its rows add up to ``overall``), and the gold labels none of the trained layers was trained on, each with its
    count of gold mentions (all misses for a model scored alone)."""

    overall: PRF
    by_label: dict[str, PRF]
    not_trained: dict[str, int]

    def as_dict(self) -> dict[str, object]:
        """The JSON `kgnlp eval ner` writes, and `kgnlp train ner` under its "eval" or "dev": the overall scores,
        each label's row under "labels" and the untrained gold labels under "unknown_labels" (the shape of `eval
        classify` and `eval qa`)."""
        return {**asdict(self.overall), "labels": {k: asdict(v) for k, v in self.by_label.items()},
                "unknown_labels": self.not_trained}


def evaluate_ner(store: GraphStore, path: Path, extra_ner=(), vote: float = 0, fmt: str = "jsonl",
                 model_only: bool = False) -> PipelineNERScores:
    """Entity-level micro P/R/F1 (exact span and type), overall and per label (each gold or predicted label, so
    the rows add up to the overall counts), of the extraction pipeline (the graph's names, spaCy, and the
    ``extra_ner`` layers) on a labelled file in ``fmt`` (see ``nlp.formats``); with ``model_only``, of the one
    ``extra_ner`` layer alone. Gold labels no ``extra_ner`` layer was trained on are counted (none without such
    layers, or with one that does not say its ``entity_types``)."""
    from nlp.formats import load_labelled

    if model_only and len(extra_ner) != 1:
        raise NLPError(f"model_only scores one NER layer alone, not {len(extra_ner)}.")
    if not Path(path).is_file():
        raise NLPError(not_a_file(path))
    docs = load_labelled(path, fmt)
    if not docs:
        raise NLPError(f"'{path}' has no labelled documents.")
    texts = [d.doc.text for d in docs]
    if model_only:
        mentions = extra_ner[0].predict(texts)
    else:
        from nlp.extractor import Extractor

        mentions = [a.mentions for a in Extractor.for_store(store, extra_ner=extra_ner, vote=vote).analyse(texts)]
    return score_ner([d.mentions for d in docs], mentions, _trained_types(extra_ner))


def score_ner(gold: Sequence[Iterable[Spanned]], predicted: Sequence[Iterable[Spanned]],
              trained: Collection[str] | None = None) -> PipelineNERScores:
    """Entity-level micro P/R/F1 (exact span and type) of ``predicted`` against ``gold`` mentions, document by
    document (records with ``start``, ``end``, ``label``, or ``(start, end, label)`` tuples), overall and per label
    (each gold or predicted label, so the rows add up to the overall counts); gold labels not in ``trained`` (the
    entity types of the model scored; None: unknown, nothing counted) are counted by mention."""
    if len(gold) != len(predicted):
        raise NLPError(f"Mentions of {len(predicted)} predicted and {len(gold)} gold documents: each document's "
                       "predictions are scored against its own gold mentions, so both lists need one entry a document.")
    gold_sets, pred_sets = [_spans(d) for d in gold], [_spans(d) for d in predicted]
    labels = sorted({m[2] for s in (*gold_sets, *pred_sets) for m in s})
    by_label = {label: score_spans([{g for g in s if g[2] == label} for s in gold_sets],
                                   [{p for p in s if p[2] == label} for s in pred_sets]) for label in labels}
    known = None if trained is None else set(trained)
    not_trained = {} if known is None else dict(sorted(
        Counter(m[2] for s in gold_sets for m in s if m[2] not in known).items()))
    return PipelineNERScores(score_spans(gold_sets, pred_sets), by_label, not_trained)


def score_layer(layer, docs: Sequence[LabelledDoc]) -> PipelineNERScores:
    """:func:`score_ner` of one trained NER layer alone on labelled documents (what `kgnlp train ner` reports, and
    the dev score its early stopping follows)."""
    from nlp.ner.evaluate import predict_docs

    return score_ner([d.mentions for d in docs], predict_docs(layer, docs), _trained_types([layer]))


def _spans(mentions: Iterable[Spanned]) -> set[tuple[int, int, str]]:
    """One document's mentions as a set of (start, end, label)."""
    return {m if isinstance(m, tuple) else (m.start, m.end, m.label) for m in mentions}


def _trained_types(layers) -> set[str] | None:
    """The entity types the trained ``layers`` were trained on, together; None without layers or when one does
    not say what it was trained on (its ``entity_types``)."""
    types = [getattr(layer, "entity_types", None) for layer in layers]
    if not types or any(t is None for t in types):
        return None
    return {label for t in types for label in t}


def evaluate_relations(store: GraphStore, path: Path) -> PRF:
    """Facts stored per document vs ``{"doc", "triples": [[head, REL, tail]]}`` by normalised names.
    A stored fact matches when its relation agrees and each end's name or alias equals the gold name."""
    golds: dict[str, set[tuple[str, str, str]]] = {}  # a document on several lines: its facts scored once
    for n, row in enumerate(read_jsonl(path), 1):
        golds.setdefault(row.get("doc"), set()).update(_gold_triples(path, n, row))
    by_doc: dict[str, set[tuple[str, str, str]]] = {}
    names = NameCache(store)
    surface: dict[str, set[str]] = {}

    def forms(entity_id: str) -> set[str]:
        if entity_id not in surface:
            ent = store.entity(entity_id)
            surface[entity_id] = {normalise(n) for n in ((ent.name, *ent.aliases) if ent else (names(entity_id),))}
        return surface[entity_id]

    for t in store.triples():
        for p in t.provenance:
            by_doc.setdefault(p.doc_id, set()).add((t.head_id, t.relation, t.tail_id))
    # a document the graph never read would count all its gold facts as misses: a wrong workspace or file, said
    missing = [doc for doc in golds if doc not in by_doc and not store.has_document(doc)]
    if missing:
        shown = ", ".join(repr(d) for d in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise NLPError(f"{path}: {len(missing)} of its documents {'is' if len(missing) == 1 else 'are'} not in the "
                       f"graph ({shown}). Ingest them first, pass the workspace that holds them (-w), or leave their "
                       "lines out.")
    tp = fp = fn = 0
    for doc, gold in golds.items():
        pred = by_doc.get(doc, set())
        hit_gold: set[tuple[str, str, str]] = set()
        for h, r, t in pred:
            match = next((g for g in gold if g[1] == r and g[0] in forms(h) and g[2] in forms(t)), None)
            if match is None and r in ("PARTNERED_WITH", "INTERACTS_WITH"):
                match = next((g for g in gold if g[1] == r and g[0] in forms(t) and g[2] in forms(h)), None)
            if match:
                hit_gold.add(match)
            else:
                fp += 1
        tp += len(hit_gold)
        fn += len(gold - hit_gold)
    return PRF.of(tp, fp, fn)


def _gold_triples(path: Path, n: int, row: dict) -> set[tuple[str, str, str]]:
    """Line ``n``'s gold facts as (name, RELATION, name), normalised; a malformed line is a one-line error. Relations
    are read as the graph names them ("treats", "headquartered in" -> TREATS, HEADQUARTERED_IN)."""
    triples = row.get("triples")
    if not (isinstance(row.get("doc"), str) and row["doc"].strip() and isinstance(triples, list)
            and all(isinstance(t, list) and len(t) == 3 and all(isinstance(x, str) and x.strip() for x in t)
                    for t in triples)):
        raise NLPError(f"{path}:{n}: expected {{\"doc\": \"...\", \"triples\": [[\"head\", \"RELATION\", \"tail\"], "
                       f"...]}}, got {json.dumps(row, ensure_ascii=False)[:80]}.")
    return {(normalise(h), relation_name(r), normalise(t)) for h, r, t in triples}


@dataclass(frozen=True)
class QAScore:
    questions: int
    exact_match: float
    hits_at: dict[int, float]
    answered: int


def evaluate_qa(store: GraphStore, path: Path, schema=None, ks: tuple[int, ...] = (1, 3, 10)) -> QAScore:
    """Exact match (top answer equals a gold answer, normalised) and hits@k."""
    from nlp.formats.pubmedqa import read_pubmedqa_json
    from nlp.qa import answer

    if Path(path).suffix.lower() == ".json" and Path(path).is_file():
        try:  # PubMedQA questions come with their abstracts, which a trained model reads, not the graph
            read_pubmedqa_json(path)
        except NLPError:
            pass
        else:
            raise NLPError(f"{path} is PubMedQA JSON: a model from `kgnlp train qa` answers it (eval qa --model "
                           "MODEL); the graph is scored on JSONL lines {\"question\": \"...\", \"answers\": [...]}.")
    rows = read_jsonl(path)
    for n, row in enumerate(rows, 1):
        answers = row.get("answers")
        if isinstance(answers, str):  # one answer
            row["answers"] = answers = [answers]
        if not (isinstance(row.get("question"), str) and row["question"].strip() and isinstance(answers, list)
                and answers and all(isinstance(a, str) for a in answers)):
            raise NLPError(f"{path}:{n}: expected {{\"question\": \"...\", \"answers\": [\"...\", ...]}}, got "
                           f"{json.dumps(row)[:80]}.")
    hits = {k: 0 for k in ks}
    em = answered = 0
    for row in rows:
        gold = {normalise(a) for a in row["answers"]}
        try:
            result = answer(store, row["question"], schema, limit=max(ks))
        except NLPError:
            continue
        got = [normalise(a.text) for a in result.answers]
        answered += bool(got)
        em += bool(got) and got[0] in gold
        for k in ks:
            hits[k] += any(g in gold for g in got[:k])
    n = len(rows)
    return QAScore(n, round(em / n, 4), {k: round(v / n, 4) for k, v in hits.items()}, answered)
