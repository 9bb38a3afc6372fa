"""A trained document-level relation classifier (a RelationLayer), e.g. BC5CDR chemical-induced disease.

For every (head entity, tail entity) pair of the allowed types in a document (any sentences apart),
features describe the pair: co-occurrence and sentence distance, mention counts, title presence,
and the words between / around the closest pair of mentions (hashed). A logistic regression
(torch, saved as safetensors + config.json) scores the pair; pairs above ``threshold`` become triples
with provenance at the closest pair of mentions.
"""
from __future__ import annotations

import json
import math
import random
import re
import zlib
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from kg.records import Mention, Provenance, Triple
from nlp.errors import NLPError
from nlp.interfaces import Sentence

MARKER = "kgnlp_relations.json"
HASH_DIM = 1 << 15
_WORD = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class PairExample:
    """One candidate pair of a document and its features (hashed indices with values)."""

    doc_id: str
    head_id: str
    tail_id: str
    features: tuple[tuple[int, float], ...]
    provenance: Provenance


@lru_cache(maxsize=1 << 17)
def _h(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) % HASH_DIM


def _sentence_of(sentences: Sequence[Sentence], pos: int, starts: list[int] | None = None) -> int:
    """Index of the sentence holding ``pos`` (the last one when none does)."""
    if starts is None:
        starts = [s.start for s in sentences]
    i = bisect_right(starts, pos) - 1
    if 0 <= i < len(sentences) and sentences[i].start <= pos < sentences[i].end:
        return i
    for j, s in enumerate(sentences):  # overlapping or unsorted sentences: the first that holds it
        if s.start <= pos < s.end:
            return j
    return max(0, len(sentences) - 1)


def pair_examples(doc_id: str, text: str, sentences: Sequence[Sentence], mentions: Sequence[Mention],
                  types: dict[str, str], head_type: str, tail_type: str, extractor: str) -> list[PairExample]:
    """Every (head, tail) candidate pair of a document with its features."""
    by_entity: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        if m.entity_id:
            by_entity[m.entity_id].append(m)
    heads = [e for e in by_entity if types.get(e) == head_type]
    tails = [e for e in by_entity if types.get(e) == tail_type]
    if not heads or not tails:
        return []
    starts = [s.start for s in sentences]
    sent_of = {id(m): _sentence_of(sentences, m.start, starts) for ms in by_entity.values() for m in ms}
    counts = {e: len(ms) for e, ms in by_entity.items()}
    top_head = max(heads, key=lambda e: counts[e])
    top_tail = max(tails, key=lambda e: counts[e])
    out = []
    for h in heads:
        for t in tails:
            if h == t:
                continue
            feats: dict[int, float] = {}

            def add(name: str, value: float = 1.0) -> None:
                k = _h(name)
                feats[k] = feats.get(k, 0.0) + value

            hs, ts = by_entity[h], by_entity[t]
            best_key, a, b = None, hs[0], ts[0]  # the closest pair: fewest sentences apart, then characters
            for x in hs:
                sx = sent_of[id(x)]
                for y in ts:
                    key = (abs(sx - sent_of[id(y)]), abs(x.start - y.start))
                    if best_key is None or key < best_key:
                        best_key, a, b = key, x, y
            dist = abs(sent_of[id(a)] - sent_of[id(b)])
            same = len({sent_of[id(x)] for x in hs} & {sent_of[id(y)] for y in ts})
            add("bias")
            add(f"sent_dist={min(dist, 4)}")
            add("same_sent_count", math.log1p(same))
            add("head_count", math.log1p(counts[h]))
            add("tail_count", math.log1p(counts[t]))
            add(f"head_in_title={any(sent_of[id(x)] == 0 for x in hs)}")
            add(f"tail_in_title={any(sent_of[id(y)] == 0 for y in ts)}")
            add(f"top_head={h == top_head}")
            add(f"top_tail={t == top_tail}")
            add(f"top_both={h == top_head and t == top_tail}")
            add("n_heads", math.log1p(len(heads)))
            add("n_tails", math.log1p(len(tails)))
            if dist == 0:
                lo, hi = (a, b) if a.start < b.start else (b, a)
                order = "HT" if lo is a else "TH"
                between = [w.lower() for w in _WORD.findall(text[lo.end:hi.start])]
                add(f"order={order}")
                add(f"gap={min(len(between), 12) // 3}")
                if len(between) <= 12:
                    for w in between:
                        add(f"btw:{order}:{w}")
                    for x, y in zip(between, between[1:]):
                        add(f"btw2:{order}:{x}_{y}")
                left = [w.lower() for w in _WORD.findall(text[max(0, lo.start - 40):lo.start])][-3:]
                right = [w.lower() for w in _WORD.findall(text[hi.end:hi.end + 40])][:3]
                for w in left:
                    add(f"left:{w}")
                for w in right:
                    add(f"right:{w}")
            for m in ts:  # words glued to the disease: "drug-induced", "toxicity"
                for w in _WORD.findall(text[max(0, m.start - 25):m.start].lower())[-2:]:
                    add(f"tail_left:{w}")
            s = sentences[sent_of[id(a)]] if sentences else Sentence(0, len(text), text)
            prov = Provenance(doc_id, min(a.start, b.start), max(a.end, b.end), s.text, extractor)
            out.append(PairExample(doc_id, h, t, tuple(sorted(feats.items())), prov))
    return out


class RelationClassifier:
    """A trained pair classifier as a RelationLayer; load with :meth:`load`."""

    def __init__(self, weights, relation: str = "CAUSES", head_type: str = "Chemical",
                 tail_type: str = "Disease", threshold: float = 0.5, name: str = "relation-classifier") -> None:
        self.weights = weights  # torch tensor (HASH_DIM,)
        self.relation = relation
        self.head_type = head_type
        self.tail_type = tail_type
        self.threshold = threshold
        self.name = name

    def score(self, examples: Sequence[PairExample]) -> list[float]:
        w = self._list()
        out = []
        for ex in examples:
            z = sum(w[k] * v for k, v in ex.features)
            out.append(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))))
        return out

    def _list(self) -> list[float]:
        """The weights as a Python list (indexing a tensor per feature is ~50x slower)."""
        cached = getattr(self, "_wlist", None)
        if cached is None or cached[0] is not self.weights:
            cached = (self.weights, [float(x) for x in self.weights.tolist()])
            self._wlist = cached
        return cached[1]

    def extract(self, doc_id: str, text: str, sentences: Sequence[Sentence],
                mentions: Sequence[Mention], types: dict[str, str]) -> list[Triple]:
        examples = pair_examples(doc_id, text, sentences, mentions, types, self.head_type, self.tail_type, self.name)
        return [Triple(ex.head_id, self.relation, ex.tail_id, round(p, 4), (ex.provenance,))
                for ex, p in zip(examples, self.score(examples)) if p >= self.threshold]

    def save(self, out_dir: str | Path) -> None:
        from safetensors.torch import save_file

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        save_file({"weights": self.weights.contiguous()}, str(out / "model.safetensors"))
        (out / MARKER).write_text(json.dumps({
            "format": 1, "kind": "pair-logreg", "relation": self.relation, "head_type": self.head_type,
            "tail_type": self.tail_type, "threshold": self.threshold, "hash_dim": HASH_DIM}, indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "RelationClassifier":
        from safetensors.torch import load_file

        path = Path(path)
        if not (path / MARKER).exists():
            raise NLPError(f"'{path}' is not a relation classifier folder (no {MARKER}). "
                           "Train one with nlp.relation_classifier.train_relation_classifier().")
        cfg = json.loads((path / MARKER).read_text())
        weights = load_file(str(path / "model.safetensors"))["weights"]
        return cls(weights, cfg["relation"], cfg["head_type"], cfg["tail_type"], cfg["threshold"])


def train_relation_classifier(examples: Sequence[PairExample], gold: set[tuple[str, str, str]],
                              relation: str = "CAUSES", head_type: str = "Chemical", tail_type: str = "Disease",
                              epochs: int = 8, lr: float = 0.05, l2: float = 1e-5, seed: int = 13,
                              dev: tuple[Sequence[PairExample], set[tuple[str, str, str]]] | None = None,
                              ) -> RelationClassifier:
    """Logistic regression over hashed pair features; ``gold`` holds ``(doc_id, head_id, tail_id)``.
    With ``dev``, the decision threshold is the one with the best dev F1."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    if not examples:
        raise NLPError("No candidate pairs to train on: the documents need linked head and tail mentions.")
    labels = [1.0 if (e.doc_id, e.head_id, e.tail_id) in gold else 0.0 for e in examples]
    pos = sum(labels)
    pos_weight = torch.tensor((len(labels) - pos) / max(pos, 1.0)) ** 0.5
    weights = torch.zeros(HASH_DIM, requires_grad=True)
    opt = torch.optim.Adam([weights], lr=lr)
    order = list(range(len(examples)))
    for _ in range(epochs):
        rng.shuffle(order)
        for i in range(0, len(order), 64):
            idx = order[i:i + 64]
            rows, cols, vals = [], [], []
            for r, j in enumerate(idx):
                for k, v in examples[j].features:
                    rows.append(r)
                    cols.append(k)
                    vals.append(v)
            x = torch.zeros((len(idx), HASH_DIM))
            x.index_put_((torch.tensor(rows), torch.tensor(cols)), torch.tensor(vals), accumulate=True)
            y = torch.tensor([labels[j] for j in idx])
            logits = x @ weights
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight)
            loss = loss + l2 * (weights ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    clf = RelationClassifier(weights.detach().clone(), relation, head_type, tail_type, 0.5)
    if dev is not None:
        clf.threshold = best_threshold(clf, *dev)
    return clf


def best_threshold(clf: RelationClassifier, examples: Sequence[PairExample],
                   gold: set[tuple[str, str, str]]) -> float:
    """The threshold in 0.05..0.95 with the best F1 on these examples (gold pairs outside them count as missed)."""
    from nlp.evaluation import precision_recall_f1

    scores = clf.score(examples)
    keys = [(e.doc_id, e.head_id, e.tail_id) for e in examples]
    best, best_t = -1.0, 0.5
    for step in range(1, 20):
        t = step / 20
        pred = {k for k, s in zip(keys, scores) if s >= t}
        tp = len(pred & gold)
        f = precision_recall_f1(tp, len(pred) - tp, len(gold) - tp)[2]
        if f > best:
            best, best_t = f, t
    return best_t
