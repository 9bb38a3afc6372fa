"""Compound questions: the parts of "Who makes metformin and where are they based?" and of "What do aspirin and
warfarin treat?", and the words a later part refers back with ("they", "its").

Only the text is read here; which entity a pronoun stands for is decided where questions are answered
(``nlp.qa``). An "and" inside a name ("Johnson and Johnson", a span the graph names) never splits, nor does one
between two things a question relates ("Is there a link between obesity and hypertension?", "Do aspirin and
warfarin interact?").
"""
from __future__ import annotations

import re
from typing import Sequence

from nlp.question_cues import has_cue
from nlp.question_relations import all_cues

Span = tuple[int, int, str, str]  # (start, end, entity type, entity id) of an entity the question names

YES_NO = re.compile(r"^(is|are|does|do|did|can|could|should|was|were|has|have|had|will|may|might)\b")
_SEP = re.compile(r"\?\s+|;\s*|,\s*(?:and\s+(?:also\s+)?)?|\s+and\s+(?:also\s+)?", re.IGNORECASE)
_WH = re.compile(r"(?:what|which|who|whom|whose|where|when|how|why)\b", re.IGNORECASE)
_AUX = re.compile(r"(?:is|are|was|were|does|do|did|can|could|has|have|had)\s+", re.IGNORECASE)
PRONOUN = re.compile(r"\b(they|them|their|it|its|he|him|his|she|her)\b", re.IGNORECASE)
PLURAL = frozenset({"they", "them", "their"})
ELSE = re.compile(r"\belse\b", re.IGNORECASE)  # "What else treats it?": other than what was named or answered
_POSSESSIVE = frozenset({"its", "their", "his"})
_LIST_GAP = re.compile(r"\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+", re.IGNORECASE)  # between list items
_RELATING = re.compile(r"\b(?:between|both|either|neither)\s+$", re.IGNORECASE)  # "between X and Y": one thing
BOTH = re.compile(r"\b(?:both|all(?:\s+of)?)\s+$", re.IGNORECASE)  # "interact with both X and Y": with each
_AGREE = {"do": "does", "are": "is", "have": "has", "were": "was"}  # "What do X and Y treat?" -> "What does X treat?"


def split_question(question: str, spans: Sequence[Span]) -> list[str]:
    """The questions a compound question asks, in order; a question that asks one thing is its only part."""
    shared = _shared_object(question, spans)
    if shared is not None:
        return shared
    parts = []
    for start, end in _clauses(question, spans):
        clause = _as_question(question[start:end])
        inside = [(a - start, b - start, kind, eid) for a, b, kind, eid in spans if start <= a and b <= end]
        run = first_list(clause, inside)
        parts += _list_parts(clause, inside, run) if run else _cue_parts(clause, inside)
    return parts


def _shared_object(question: str, spans: Sequence[Span]) -> list[str] | None:
    """"Who makes and who leads Northwind?": a first question that names nothing but a relation, the one thing the
    second names standing for its object too ("Who makes Northwind?"), then the second's parts; else None."""
    m = _SEP.search(question)
    if m is None or not _WH.match(question) or not _WH.match(question, m.end()):
        return None
    left = question[:m.start()]
    named = [s for s in spans if s[0] >= m.end()]
    if (_names_something(question, 0, m.start(), spans, True) or len(named) != 1
            or not has_cue(left)):
        return None
    a, b = named[0][:2]
    rest = [(x - m.end(), y - m.end(), kind, eid) for x, y, kind, eid in named]
    return [_as_question(f"{left} {question[a:b]}"), *split_question(question[m.end():], rest)]


def _cue_parts(clause: str, spans: Sequence[Span]) -> list[str]:
    """One question per relation word of two joined ones ("What does warfarin treat and cause?", "Who are
    Marlowe's partners and investors?"), else the clause."""
    found = [(c.start, c.end) for c in all_cues(clause, [(a, b) for a, b, *_ in spans])]  # each a whole word
    for (a1, b1), (a2, b2) in zip(found, found[1:]):
        if _LIST_GAP.fullmatch(clause[b1:a2]):
            return [clause[:b1] + clause[b2:], clause[:a1] + clause[a2:]]
    return [clause]


def _inside(at: int, spans: Sequence[Span]) -> bool:
    return any(a <= at < b for a, b, _, _ in spans)


def _clauses(question: str, spans: Sequence[Span]) -> list[tuple[int, int]]:
    """(start, end) of each clause that asks its own question: a break before a question word ("and where are
    they based?"), or an auxiliary before a pronoun or a name ("and does it cause bleeding?"), where both sides
    name something (an entity, or a pronoun after the first)."""
    bounds, start = [], 0
    for m in _SEP.finditer(question):
        rest = question[m.end():]
        aux = _AUX.match(rest)
        starts = bool(_WH.match(rest)) or bool(aux and (PRONOUN.match(rest, aux.end()) or
                                                        any(a == m.end() + aux.end() for a, *_ in spans)))
        if (not starts or _inside(m.start(), spans)
                or not _names_something(question, start, m.start(), spans, start > 0)
                or not _names_something(question, m.end(), len(question), spans, True)):
            continue
        bounds.append((start, m.start()))
        start = m.end()
    return bounds + [(start, len(question))]


def _names_something(question: str, start: int, end: int, spans: Sequence[Span], pronoun_ok: bool) -> bool:
    """Does question[start:end] name an entity (or, when ``pronoun_ok``, refer back with a pronoun)?"""
    return (any(start <= a and b <= end for a, b, *_ in spans)
            or bool(pronoun_ok and PRONOUN.search(question, start, end)))


def _as_question(clause: str) -> str:
    """A clause as a question of its own: capitalised, ending in "?"."""
    clause = clause.strip(" ,;")
    clause = clause[:1].upper() + clause[1:]
    return clause if clause.endswith(("?", ".", "!")) else clause + "?"


def _list_parts(clause: str, spans: Sequence[Span], run: Sequence[Span]) -> list[str]:
    """One question per entity of ``run``, the clause's first list of entities of one type ("aspirin and
    warfarin"), else the clause. A yes/no question whose list is all it names asks about them together ("Do aspirin
    and warfarin interact?")."""
    if YES_NO.match(clause.lower()) and len(run) == len(spans):
        return [clause]
    before, after = clause[: run[0][0]], clause[run[-1][1]:]
    if len({s[3] for s in run}) > 1 and not _RELATING.search(before):
        return [_as_question(_agree_before(before) + clause[a:b] + after) for a, b, _, _ in run]
    return [clause]


def _agree_before(before: str) -> str:
    """``before`` with the auxiliary it ends in made to agree with one name after it ("What do " -> "What does ")."""
    return re.sub(r"\b(do|are|have|were)(\s+)$", lambda m: _agreeing(m.group(1)) + m.group(2), before,
                  flags=re.IGNORECASE)


def _agreeing(aux: str) -> str:
    word = _AGREE[aux.lower()]
    return word.capitalize() if aux[0].isupper() else word


def first_list(clause: str, spans: Sequence[Span]) -> list[Span] | None:
    """The first run of two or more entities of one type that only commas, "and" and "or" separate."""
    ordered = sorted(spans)
    run: list[Span] = []
    for span in ordered:
        if run and span[2] == run[-1][2] and _LIST_GAP.fullmatch(clause[run[-1][1]:span[0]]):
            run.append(span)
            continue
        if len(run) > 1:
            return run
        run = [span]
    return run if len(run) > 1 else None


def substitute(part: str, pronoun: re.Match[str], name: str) -> str:
    """``part`` with ``pronoun`` replaced by ``name`` ("its" -> "warfarin's"), the verb next to a plural pronoun
    made to agree with the one name ("where are they based" -> "where is Northwind Therapeutics based")."""
    word = pronoun.group(1).lower()
    owner = word in _POSSESSIVE or (word == "her" and bool(re.match(r"\s+\w", part[pronoun.end():])))
    said = (f"{name}'" if name.endswith("s") else f"{name}'s") if owner else name
    before, after = part[: pronoun.start()], part[pronoun.end():]
    if word == "they":
        before = _agree_before(before)
        after = re.sub(r"^(\s+)(are|have|were)\b", lambda m: m.group(1) + _agreeing(m.group(2)), after)
    return before + said + after
