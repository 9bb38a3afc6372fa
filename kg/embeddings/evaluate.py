"""Filtered link-prediction metrics (MRR, Hits@1/3/10), computed with numpy on saved vectors."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Iterable

import numpy as np

from kg.embeddings import scoring

if TYPE_CHECKING:
    from kg.embeddings.vectors import KGEmbeddings


@dataclass(frozen=True)
class LinkMetrics:
    """Rank-based metrics over both sides (head and tail prediction) unless ``side`` says otherwise."""

    mrr: float
    hits_at_1: float
    hits_at_3: float
    hits_at_10: float
    mean_rank: float
    count: int
    side: str = "both"

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def filtered_ranks(
    model: str,
    entities: np.ndarray,
    relations: np.ndarray,
    targets: np.ndarray,
    known: np.ndarray,
    side: str = "both",
    batch: int = 256,
) -> np.ndarray:
    """Rank of each true entity among all entities, other known true facts filtered out.

    Ties count half ("realistic" rank), so a model that scores everything equal gets the mean rank,
    not rank 1.
    """
    tails_of: dict[tuple[int, int], list[int]] = defaultdict(list)
    heads_of: dict[tuple[int, int], list[int]] = defaultdict(list)
    for h, r, t in known.tolist():
        tails_of[(h, r)].append(t)
        heads_of[(r, t)].append(h)
    ranks: list[np.ndarray] = []
    sides = ("tail", "head") if side == "both" else (side,)
    for which in sides:
        for start in range(0, len(targets), batch):
            part = targets[start : start + batch]
            h, r, t = part[:, 0], part[:, 1], part[:, 2]
            if which == "tail":
                q = scoring.tail_query(model, entities[h], relations[r])
                true, filt = t, [tails_of[(a, b)] for a, b in zip(h.tolist(), r.tolist())]
            else:
                q = scoring.head_query(model, relations[r], entities[t])
                true, filt = h, [heads_of[(b, c)] for b, c in zip(r.tolist(), t.tolist())]
            scores = scoring.match(model, q, entities)
            own = scores[np.arange(len(part)), true].copy()
            for row, others in enumerate(filt):
                scores[row, others] = -np.inf
            greater = (scores > own[:, None]).sum(1)
            equal = (scores == own[:, None]).sum(1)  # the true entity was filtered to -inf itself
            ranks.append(1.0 + greater + 0.5 * equal)
    return np.concatenate(ranks) if ranks else np.zeros(0)


def metrics_from_ranks(ranks: np.ndarray, side: str = "both") -> LinkMetrics:
    if len(ranks) == 0:
        return LinkMetrics(0.0, 0.0, 0.0, 0.0, 0.0, 0, side)
    return LinkMetrics(
        mrr=float(np.mean(1.0 / ranks)),
        hits_at_1=float(np.mean(ranks <= 1)),
        hits_at_3=float(np.mean(ranks <= 3)),
        hits_at_10=float(np.mean(ranks <= 10)),
        mean_rank=float(np.mean(ranks)),
        count=int(len(ranks)),
        side=side,
    )


def evaluate_link_prediction(
    embeddings: "KGEmbeddings",
    facts: list[tuple[str, str, str]],
    known: Iterable[tuple[str, str, str]] = (),
    side: str = "both",
) -> LinkMetrics:
    """Filtered MRR and Hits@k of ``facts`` (usually held out from training).

    ``known`` are all true facts (train, validation and test) used for filtering; the facts
    themselves are always included. Facts with a part that has no vector are skipped.
    """
    if side not in ("both", "head", "tail"):
        raise ValueError(f"side must be both, head or tail, got {side!r}")
    rows = {e: i for i, e in enumerate(embeddings.entity_ids)}
    rels = {r: i for i, r in enumerate(embeddings.relation_ids)}

    def encode(items: list[tuple[str, str, str]]) -> np.ndarray:
        out = [(rows[h], rels[r], rows[t]) for h, r, t in items if h in rows and r in rels and t in rows]
        return np.array(out, dtype=np.int64).reshape(-1, 3)

    targets = encode(list(facts))
    all_known = np.concatenate([encode(list(known)), targets])
    ranks = filtered_ranks(embeddings.model, embeddings.entity_vectors, embeddings.relation_vectors,
                           targets, all_known, side=side)
    return metrics_from_ranks(ranks, side)
