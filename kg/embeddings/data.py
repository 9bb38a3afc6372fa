"""Facts as integer arrays for training: id maps, and splits that keep every entity trainable."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Union

import numpy as np

from kg.errors import KGError
from kg.records import Triple
from kg.store import GraphStore

FactSource = Union[GraphStore, Iterable[Union[Triple, tuple[str, str, str]]]]


@dataclass(frozen=True, eq=False)
class TripleData:
    """Facts mapped to row numbers: ``train``/``valid``/``test`` are ``(n, 3)`` int64 arrays."""

    entity_ids: tuple[str, ...]
    relation_ids: tuple[str, ...]
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    def all_known(self) -> np.ndarray:
        return np.concatenate([self.train, self.valid, self.test])


def labelled_facts(source: FactSource) -> list[tuple[str, str, str]]:
    """``(head, RELATION, tail)`` for every distinct fact: a store's sorted (each backend lists its facts in its own
    order, and the training split must not depend on the backend), an iterable's in first-seen order."""
    if hasattr(source, "triples"):
        return sorted(labelled_facts(list(source.triples())))
    items = source
    seen: dict[tuple[str, str, str], None] = {}
    for item in items:
        key = item.key if isinstance(item, Triple) else tuple(item)
        if len(key) != 3:
            raise KGError(f"Expected facts as (head, RELATION, tail), got {item!r}.")
        seen[key] = None  # type: ignore[index]
    return list(seen)  # type: ignore[arg-type]


def build_triple_data(
    train: Iterable[tuple[str, str, str]],
    valid: Iterable[tuple[str, str, str]] = (),
    test: Iterable[tuple[str, str, str]] = (),
) -> TripleData:
    """Map labelled splits to arrays; ids are sorted so the same facts always give the same maps."""
    train, valid, test = list(train), list(valid), list(test)
    if not train:
        raise KGError("No facts to train on. Ingest documents or load a graph first (`kgnlp ingest PATH`).")
    ents = sorted({e for h, _, t in (*train, *valid, *test) for e in (h, t)})
    rels = sorted({r for _, r, _ in (*train, *valid, *test)})
    e_ix = {e: i for i, e in enumerate(ents)}
    r_ix = {r: i for i, r in enumerate(rels)}

    def arr(rows: list[tuple[str, str, str]]) -> np.ndarray:
        out = np.array([(e_ix[h], r_ix[r], e_ix[t]) for h, r, t in rows], dtype=np.int64)
        return out.reshape(-1, 3)

    return TripleData(tuple(ents), tuple(rels), arr(train), arr(valid), arr(test))


def split_facts(
    facts: list[tuple[str, str, str]], fraction: float, seed: int
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Hold out about ``fraction`` of the facts, never one whose head, tail or relation would then be
    missing from training (its vector would be untrained and the score meaningless)."""
    if not 0.0 <= fraction < 1.0:
        raise KGError(f"Validation fraction must be in [0, 1), got {fraction}.")
    order = np.random.default_rng(seed).permutation(len(facts))
    want = int(round(len(facts) * fraction))
    counts: Counter[str] = Counter()
    for h, r, t in facts:
        counts.update((h, t, "\x00" + r))
    held, kept = [], []
    for i in order:
        h, r, t = facts[i]
        parts = (h, t, "\x00" + r) if h != t else (h, "\x00" + r)
        if len(held) < want and all(counts[p] > 1 for p in parts):
            counts.subtract(parts)
            held.append(facts[i])
        else:
            kept.append(facts[i])
    return kept, held
