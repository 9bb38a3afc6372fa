"""What an answer is made of: its text, score and evidence (the facts behind it, each with its sources), and how
those are composed from a chain of facts: the evidence lines, the ones to show, the mark of an answer that comes
from a narrower entity ("metformin (treats type 2 diabetes)"); a question's answers (``QAResult``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

from kg.records import Entity, Triple
from kg.schema import Schema
from kg.views import NameCache
from nlp.question_links import LinkedEntity

T = TypeVar("T")


@dataclass(frozen=True)
class Evidence:
    doc: str
    sentence: str
    triple: tuple[str, str, str] | None


@dataclass(frozen=True)
class Answer:
    text: str
    score: float
    entity_id: str | None
    evidence: tuple[Evidence, ...]
    via_all: tuple[tuple[str, str], ...] = ()  # (id, name) of every narrower entity it comes from, the first first

    @property
    def via(self) -> str | None:
        """The name of the (first) narrower entity the answer comes from ("type 2 diabetes" for "diabetes")."""
        return self.via_all[0][1] if self.via_all else None

    @property
    def via_id(self) -> str | None:
        """That entity's id."""
        return self.via_all[0][0] if self.via_all else None


@dataclass(frozen=True)
class QAResult:
    question: str
    answers: tuple[Answer, ...]
    entities: tuple[LinkedEntity, ...]
    relations: tuple[str, ...]
    parts: tuple["QAResult", ...] = ()  # a compound question's parts, each answered on its own


def evidence_of(facts: list[Triple], names: NameCache) -> tuple[Evidence, ...]:
    """Up to three sources of each fact of a chain, in chain order."""
    evidence = []
    for f in facts:
        triple = (names(f.head_id), f.relation, names(f.tail_id))
        for p in f.provenance[:3] or ():
            evidence.append(Evidence(p.doc_id, p.sentence.strip(), triple))
        if not f.provenance:
            evidence.append(Evidence("", "", triple))
    return tuple(evidence)


def other_end(fact: Triple, entity_id: str) -> str:
    """The end of ``fact`` that is not ``entity_id``."""
    return fact.tail_id if fact.head_id == entity_id else fact.head_id


def brief_evidence(evidence: Sequence[T], key: Callable[[T], object], limit: int = 3) -> list[T]:
    """The evidence lines to show: the first source of every fact of the chain (a 2-hop answer shows both
    facts), then more sources up to ``limit``."""
    seen: set[object] = set()
    first, more = [], []
    for e in evidence:
        (more if key(e) in seen else first).append(e)
        seen.add(key(e))
    return (first + more)[: max(limit, len(first))]


Via = tuple[Entity, list[Triple]]  # a narrower entity an answer came through, and the facts of that chain


def marked_via(text: str, vias: Sequence[Via], schema: Schema) -> str:
    """An answer from a narrower entity says which: "metformin (treats type 2 diabetes)", else "X (via Y)"; one from
    several ("both X and Y") names each: "metformin (treats type 2 diabetes and breast cancer)"."""
    said: dict[str, list[str]] = {}  # verb ("via" for a longer chain) -> the narrower entities' names
    for via, facts in vias:
        direct = len(facts) == 1 and facts[0].tail_id == via.id and text != "yes"
        names = said.setdefault(schema.verb(facts[0].relation) if direct else "via", [])
        if via.name not in names:
            names.append(via.name)
    if not said:
        return text
    return f"{text} ({'; '.join(verb + ' ' + ' and '.join(names) for verb, names in said.items())})"
