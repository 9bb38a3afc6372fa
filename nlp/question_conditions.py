"""The conditions of a question with more than two relations: which relation each entity named in it is a
condition of ("Which subsidiary of Acme that is based in Bergen is run by Bo Lind?": Acme of "subsidiary", Bergen of
"based", Bo Lind of "run"), the two a chain reads, the further ones its answers must also meet, and a relation no
name is a condition of that leads from what the conditions meet to what the question asks for ("Who is the CEO of the
company based in Bergen that Acme acquired?": the CEO of that company). A relation named twice, each time with a
name of its own, is two conditions ("Which drug that treats T2D also treats obesity?"), and named again for a name
after it, a hop ("Which drugs are made by the company that makes metformin?")."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from nlp.question_links import LinkedEntity
from nlp.question_relations import Cue, first_of_each, owns_noun

_OBJECT_GAP = re.compile(r"\s+(?:(?:of|by|in|from|with|for|to|against)\s+)?(?:the\s+)?", re.IGNORECASE)
_SUBJECT_GAP = re.compile(r"\s+")  # "that Acme acquired", "which Bo Lind runs"
# a relative clause: its word ("the unit that Bo Lind runs"), and its start right before a cue ("the company that
# makes warfarin", "the firm which is based in Oslo")
_RELATIVE = re.compile(r"\b(?:that|which|who|whom)\b", re.IGNORECASE)
_RELATIVE_BEFORE = re.compile(r"\b(?:that|which|who)\s+(?:(?:is|are|was|were)\s+)?$", re.IGNORECASE)


def follows(question: str, cue: Cue, anchor: LinkedEntity) -> bool:
    """Does the anchor stand right after the cue, or after it and a preposition ("subsidiary of Corvane", "based in
    Basel", "acquired Bramble")?"""
    return cue.end <= anchor.start and bool(_OBJECT_GAP.fullmatch(question, cue.end, anchor.start))


def object_of(question: str, cue: Cue, anchor: LinkedEntity, cues: list[Cue]) -> bool:
    """Is the anchor the cue's object (it ``follows`` the cue) and no other cue's subject or modifier ("side effects
    of T2D drugs", "made by Corvane cause")?"""
    return follows(question, cue, anchor) and not any(
        re.fullmatch(r"\s*", question[anchor.end:c.start]) for c in cues if c.start >= anchor.end)


@dataclass(frozen=True)
class Conditions:
    """A question's relations as conditions: ``cues`` and ``linked``, the two a chain reads and their names;
    ``further``, each other relation with the name that answers must also stand in it to; ``outer``, the relation
    from what they all meet to the answer, where the question asks for something else than that (else None);
    ``asked``, in a yes/no question, the name that what they meet must be (None: anything that meets them)."""
    cues: list[Cue]
    linked: list[LinkedEntity]
    further: tuple[tuple[Cue, LinkedEntity], ...]
    outer: Cue | None
    asked: LinkedEntity | None = None


def read_conditions(question: str, linked: list[LinkedEntity], cues: list[Cue]) -> Conditions | None:
    """The conditions of a question with more than two relations, or None where one cannot be read: a name that is
    the condition of no relation, or of one another name is; more than one relation with no name, or one that does
    not come before all of them ("Who is the CEO of ..."); fewer than two relations with a name."""
    paired: dict[Cue, LinkedEntity] = {}
    for le in linked:
        cue = _cue_of(question, le, cues)
        if cue is None or cue in paired:
            return None
        paired[cue] = le
    unpaired = [c for c in cues if c not in paired]
    if len(paired) < 2 or len(unpaired) > 1:
        return None
    if unpaired and unpaired[0].end > min([le.start for le in linked] + [c.start for c in paired]):
        return None
    (c1, le1), (c2, le2), *further = sorted(paired.items(), key=lambda kv: kv[0].start)
    return Conditions([c1, c2], [le1, le2], tuple(further), unpaired[0] if unpaired else None)


def read_yes_no(question: str, linked: list[LinkedEntity], cues: list[Cue]) -> Conditions | None:
    """The conditions of a yes/no question with more than two relations, or None where they cannot be read: where
    every name is a condition and no relation leads beyond them, those ("Is the Acme unit based in Bergen run by Bo
    Lind?": is there one that meets them all?); else those of the other names, with the one name that is the
    condition of no relation as what they must meet ("Is Bo Lind the CEO of the Acme unit based in Bergen?")."""
    conditions = read_conditions(question, linked, cues)
    if conditions is not None:
        return conditions if conditions.outer is None else None
    loose = [le for le in linked if _cue_of(question, le, cues) is None]
    if len(loose) != 1:
        return None
    rest = read_conditions(question, [le for le in linked if le is not loose[0]], cues)
    return None if rest is None else replace(rest, asked=loose[0])


def named_twice(question: str, linked: list[LinkedEntity], every: list[Cue]) -> list[Cue]:
    """The first of ``every`` cue of each relation, and a later one of it that is the condition of a name of its own,
    where the first is too ("Which drug that treats T2D also treats obesity?": two conditions) or that name does not
    stand between them ("Which drugs are made by the company that makes metformin?": two hops; "Where is Acme
    headquartered?": one relation named twice) or stands in a relative clause after the first ("Who is the CEO of
    the Acme unit that Bo Lind runs?": a condition on the unit); and one with no name after a relative clause that
    holds the first and its name (``_after_clause``), in order."""
    firsts = first_of_each(every)
    if len(firsts) == len(every):
        return every
    named = {cue: le for le in linked if (cue := _cue_of(question, le, every)) is not None}
    first = {c.relation: c for c in firsts}

    def kept(cue: Cue) -> bool:
        le, before = named.get(cue), first[cue.relation]
        if cue == before:
            return True
        if le is None:
            return _after_clause(question, before, named.get(before), cue)
        return (before in named or not before.end <= le.start < cue.start
                or bool(_RELATIVE.search(question, before.end, le.start)))

    return [c for c in every if kept(c)]


def _after_clause(question: str, first: Cue, le: LinkedEntity | None, cue: Cue) -> bool:
    """Does ``cue`` come after a relative clause that holds the first cue of its relation and that cue's name
    ("What else does the company that makes warfarin make?"): what the clause describes stands in the relation
    again, a second hop?"""
    return (le is not None and first.end <= le.start and le.end <= cue.start
            and bool(_RELATIVE_BEFORE.search(question, 0, first.start)))


def _cue_of(question: str, le: LinkedEntity, cues: list[Cue]) -> Cue | None:
    """The relation a name is a condition of: the noun it owns ("the Acme unit", "Acme's units"), else the cue it
    follows ("based in Bergen", "run by Bo Lind"), else the verb right after it ("that Acme acquired")."""
    return (next((c for c in cues if owns_noun(question, c, le.end)), None)
            or next((c for c in cues if follows(question, c, le)), None)
            or next((c for c in cues if _SUBJECT_GAP.fullmatch(question, le.end, c.start)), None))
