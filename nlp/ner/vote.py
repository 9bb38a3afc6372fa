"""Weighted vote over NER layers: a span counts when the layers that found it (same start, end and type)
hold at least ``min_votes`` votes. A layer holds ``vote_weight`` votes (1 unless it says otherwise; the
transformer and fused token classifiers hold 2). The ``accurate`` profile's merge needs half of all votes:
with graph names (1), spaCy CNN (1) and a transformer (2) that is "the transformer's spans, plus those the CNN
and the graph names agree on"; with equal weights it is a plain majority (2 of 3).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from kg.records import Mention
from nlp.interfaces import layer_kind


def vote_weight(layer) -> float:
    """The votes an NER layer holds: its ``vote_weight`` attribute if it has one, else 2 for a transformer
    (or fused) token classifier, which carries a span alone, and 1 for the others (CNN, graph names)."""
    default = 2.0 if layer_kind(layer) == "transformer" else 1.0
    return float(getattr(layer, "vote_weight", default))


def votes_needed(weights: Sequence[float]) -> float:
    """Half of all the votes: with equal weights a majority of an odd number of layers (2 of 3)."""
    return sum(weights) / 2


def vote_mentions(predictions: Sequence[Sequence[Mention]], min_votes: float = 2,
                  weights: Sequence[float] | None = None) -> list[Mention]:
    """Non-overlapping mentions whose finders hold ``min_votes`` or more votes (``predictions``: one list
    per layer, same text; ``weights``: each layer's votes, default 1 each). Overlaps between accepted spans go
    to more votes, then the longer span. The entity id comes from a voter that has one (graph names); the
    score is the voters' mean."""
    weights = [1.0] * len(predictions) if weights is None else list(weights)
    if len(weights) != len(predictions):
        raise ValueError(f"{len(weights)} weights for {len(predictions)} layers")
    voters: dict[tuple[int, int, str], list[Mention]] = defaultdict(list)
    votes: dict[tuple[int, int, str], float] = defaultdict(float)
    for layer, weight in zip(predictions, weights):
        for key, m in {(m.start, m.end, m.label): m for m in layer}.items():  # one vote per layer
            voters[key].append(m)
            votes[key] += weight
    accepted = [(votes[k], k, ms) for k, ms in voters.items() if votes[k] >= min_votes - 1e-9]
    accepted.sort(key=lambda x: (-x[0], -(x[1][1] - x[1][0]), x[1][0]))
    taken: list[Mention] = []
    for _, (start, end, label), ms in accepted:
        if any(start < t.end and t.start < end for t in taken):
            continue
        entity_id = next((m.entity_id for m in ms if m.entity_id), None)
        score = round(sum(m.score for m in ms) / len(ms), 4)
        taken.append(Mention(start, end, ms[0].text, label, entity_id, score))
    return sorted(taken, key=lambda m: m.start)
