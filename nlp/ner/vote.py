"""Majority vote over NER layers: a span counts when at least ``min_votes`` layers found it (same start,
end and type). With three layers (graph names, spaCy CNN, transformer) and two votes this is the
``accurate`` profile's merge: each layer's own errors are rarely shared by the other two.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from kg.records import Mention


def vote_mentions(predictions: Sequence[Sequence[Mention]], min_votes: int = 2) -> list[Mention]:
    """Non-overlapping mentions found by ``min_votes`` or more of the layers' ``predictions`` (one list
    per layer, same text). Overlaps between accepted spans go to more votes, then the longer span.
    The entity id comes from a voter that has one (graph names); the score is the voters' mean."""
    voters: dict[tuple[int, int, str], list[Mention]] = defaultdict(list)
    for layer in predictions:
        for key in {(m.start, m.end, m.label): m for m in layer}.items():  # one vote per layer
            voters[key[0]].append(key[1])
    accepted = [(len(ms), k, ms) for k, ms in voters.items() if len(ms) >= min_votes]
    accepted.sort(key=lambda x: (-x[0], -(x[1][1] - x[1][0]), x[1][0]))
    taken: list[Mention] = []
    for _, (start, end, label), ms in accepted:
        if any(start < t.end and t.start < end for t in taken):
            continue
        entity_id = next((m.entity_id for m in ms if m.entity_id), None)
        score = round(sum(m.score for m in ms) / len(ms), 4)
        taken.append(Mention(start, end, ms[0].text, label, entity_id, score))
    return sorted(taken, key=lambda m: m.start)
