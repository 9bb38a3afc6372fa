"""Pattern relation extraction: lexical cues between two linked mentions of one sentence,
checked against the schema's head and tail types. User relation types bring their own cues."""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from typing import Sequence

from kg.records import Mention, Provenance, Triple
from kg.schema import Schema
from nlp.coreference import is_reference, is_round_reference
from nlp.interfaces import Sentence
from nlp.relation_patterns import CUES, END, EXTRA_CUES, NEGATED_CUES, NEGATION, RIGHT_CUES, ROUND_CUES

MAX_GAP = 120  # characters between the two mentions


@dataclass(frozen=True)
class _Cue:
    relation: str
    direction: str
    regex: re.Pattern[str]
    right: re.Pattern[str] | None = None


class PatternRelations:
    """A ``RelationLayer``: one triple per (pair, relation) cue found, with the sentence as provenance."""

    name = "patterns"

    def __init__(self, schema: Schema) -> None:
        self._schema = schema
        cues = [_Cue(r, d, re.compile(rx, re.IGNORECASE)) for r, d, rx in (*CUES, *EXTRA_CUES)]
        cues += [_Cue(r, d, re.compile(rx, re.IGNORECASE), re.compile(right, re.IGNORECASE))
                 for r, d, rx, right in RIGHT_CUES]
        for rel in schema.relations:  # user cues: text between head and tail, head first
            cues += [_Cue(rel.name, "fwd", re.compile(p + END, re.IGNORECASE)) for p in rel.patterns]
        self._cues = [c for c in cues if c.relation in schema.names()]
        self._round_cues = [_Cue(r, d, re.compile(rx, re.IGNORECASE)) for r, d, rx in ROUND_CUES
                            if r in schema.names()]
        self._negation = re.compile(NEGATION, re.IGNORECASE)
        self._negated_cues = re.compile(NEGATED_CUES, re.IGNORECASE)

    def extract(self, doc_id: str, text: str, sentences: Sequence[Sentence],
                mentions: Sequence[Mention], types: dict[str, str]) -> list[Triple]:
        found: dict[tuple[str, str, str], Triple] = {}
        order = sorted(range(len(mentions)), key=lambda k: mentions[k].start)  # to find a sentence's by bisection
        starts = [mentions[k].start for k in order]
        for sent in sentences:
            near = sorted(order[bisect.bisect_left(starts, sent.start):bisect.bisect_right(starts, sent.end)])
            inside = [m for m in map(mentions.__getitem__, near) if m.entity_id and m.end <= sent.end]
            appositions = [_apposition_end(text, m, sent.end) for m in inside]
            classes = _predicate_classes(text, inside)
            for i, first in enumerate(inside):
                if i in classes:  # "X is an anthracycline used to treat Y": the fact is X's, read with X
                    continue
                for j in range(i + 1, len(inside)):
                    second = inside[j]
                    if second.start - first.end > MAX_GAP or first.entity_id == second.entity_id:
                        continue
                    if second.start < first.end or _in_apposition(inside, appositions, i, second):
                        continue
                    # "A, the Lyon-based maker, was bought by B": read the words after the apposition
                    after = appositions[i] if appositions[i] is not None and appositions[i] <= second.start else first.end
                    # a reference to another entity stands for it ("Sunda's data would support its partnership
                    # with Hoshida": its = Marlowe, whose partnership it is); one back to the first does not
                    between_ms = [m for k, m in enumerate(inside[i + 1 : j], i + 1)
                                  if m.start >= after and k not in classes
                                  and not (is_reference(m) and m.entity_id in (first.entity_id, second.entity_id))]
                    if not is_round_reference(first) and _shadowed(text, first, second, between_ms):
                        continue
                    middle = _middle(text, replace(first, end=after), second, inside[i + 1 : j])
                    if self._negation.search(self._negated_cues.sub(" ", middle)):
                        continue
                    right = text[second.end : min(sent.end, second.end + 60)]
                    for triple in self._match(doc_id, sent, first, second, middle, right, types, j - i - 1):
                        if triple.key not in found or found[triple.key].confidence < triple.confidence:
                            found[triple.key] = triple
        return list(found.values())

    def _match(self, doc_id, sent, first, second, middle, right, types, between):
        round_pair = is_round_reference(first) or is_round_reference(second)
        for cue in self._round_cues if round_pair else self._cues:
            if not cue.regex.search(middle) or (cue.right is not None and not cue.right.search(right)):
                continue
            head, tail = (first, second) if cue.direction == "fwd" else (second, first)
            rel = self._schema.get(cue.relation)
            h_type, t_type = types.get(head.entity_id, head.label), types.get(tail.entity_id, tail.label)
            if not rel.accepts(h_type, t_type):
                if rel.symmetric and rel.accepts(t_type, h_type):
                    head, tail = tail, head
                else:
                    continue
            confidence = round(max(0.5, 0.9 - 0.05 * between - 0.002 * len(middle)), 3)
            prov = Provenance(doc_id, sent.start, sent.end, sent.text, self.name)
            yield Triple(head.entity_id, cue.relation, tail.entity_id, confidence, (prov,))


# ", the Lyon-based contract manufacturer," / ", a subsidiary of X," / ", part of X," right after a mention
_APPOSITION = re.compile(r"\s*,\s*(?:the|a|an|part of|now part of|formerly)\s[^,;.()]{0,80}?,")


def _apposition_end(text: str, m: Mention, limit: int) -> int | None:
    """Where an apposition right after ``m`` ends (after its closing comma), if there is one."""
    hit = _APPOSITION.match(text, m.end, limit)
    return hit.end() if hit else None


def _in_apposition(inside: Sequence[Mention], appositions: Sequence[int | None], i: int, second: Mention) -> bool:
    """Mention ``i`` sits in an earlier mention's apposition that closes before ``second``: that earlier
    mention, not this one, is the subject of what follows ("A, a unit of B, partnered with C": A, not B)."""
    first = inside[i]
    return any(end is not None and inside[k].end < first.start and first.end <= end <= second.start
               for k, end in enumerate(appositions[:i]))


# "X is an <class>", "X, a <class>,": the copula or apposition that makes the next mention X's class
_CLASS_OF = re.compile(r"^\s*(?:,\s*)?(?:is|are|was|were|remains|,)\s+(?:a|an|the)\s+"
                       r"(?:(?!(?:of|in|for|to|with|by|at|on|from|and|or|that|which)\s)[a-z][\w-]*\s+){0,2}$")


def _predicate_classes(text: str, inside: Sequence[Mention]) -> set[int]:
    """The mentions that name the class of the mention right before them, of the same type ("Doxorubicin is an
    anthracycline used to treat breast cancer"): what follows is said of the subject, so the class is no head of
    it and does not stand between the subject and the cue's other end."""
    return {i for i in range(1, len(inside)) if inside[i - 1].label == inside[i].label
            and _CLASS_OF.match(text[inside[i - 1].end : inside[i].start])}


_COORD = re.compile(r"^\s*(?:,|and|or|,\s*and|as well as|&)?\s*$")


def _shadowed(text: str, first: Mention, second: Mention, between: Sequence[Mention]) -> bool:
    """A closer mention of the same type stands between the pair ("A, led by P, ... while B, which makes X":
    B, not A, makes X), unless it is in a list with either end ("A and B acquired X", "acquired B and X")."""
    listed: set[int] = set()
    anchor = first
    for i, m in enumerate(between):  # mentions chained to the head by "," / "and"
        if not _COORD.match(text[anchor.end : m.start]):
            break
        listed.add(i)
        anchor = m
    anchor = second
    for i in range(len(between) - 1, -1, -1):  # ... and to the tail
        m = between[i]
        if not _COORD.match(text[m.end : anchor.start]):
            break
        listed.add(i)
        anchor = m
    return any(i not in listed and m.label in (first.label, second.label) for i, m in enumerate(between))


def _middle(text: str, first: Mention, second: Mention, others: Sequence[Mention]) -> str:
    """Text between two mentions, other mentions replaced by ``<E>``."""
    parts, pos = [], first.end
    for m in others:
        if m.start < pos or is_reference(m):  # "licensed its patents to" keeps its words
            continue
        parts += [text[pos : m.start], "<E>"]
        pos = m.end
    parts.append(text[pos : second.start])
    return " ".join("".join(parts).split()) if "\n" in "".join(parts) else "".join(parts)
