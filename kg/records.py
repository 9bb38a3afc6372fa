"""Small frozen records that flow from ``nlp`` into ``kg`` and out to the CLI."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


@dataclass(frozen=True)
class Entity:
    """A node of the graph: an id, a canonical name, a type and its other names."""

    id: str
    name: str
    type: str
    aliases: tuple[str, ...] = ()
    external_ids: tuple[tuple[str, str], ...] = ()

    def external(self) -> dict[str, str]:
        return dict(self.external_ids)

    def merged(self, other: "Entity", override: bool = False) -> "Entity":
        """This entity upserted with ``other`` (the same id), as every store upserts: the name and type stay (with
        ``override``, a seed's write, ``other``'s win), the aliases are merged (each once, in order) and ``other``'s
        external ids win."""
        ext = {**dict(self.external_ids), **dict(other.external_ids)}
        named = other if override else self
        return Entity(self.id, named.name, named.type, tuple(dict.fromkeys((*self.aliases, *other.aliases))),
                      tuple(sorted(ext.items())))


def one_per_id(entities: Iterable[Entity], override: bool = False) -> list[Entity]:
    """The entities of one write with each id once: a repeated id is merged (:meth:`Entity.merged`), so the write
    is the same whichever store takes it."""
    merged: dict[str, Entity] = {}
    for e in entities:
        merged[e.id] = merged[e.id].merged(e, override) if e.id in merged else e
    return list(merged.values())


@dataclass(frozen=True)
class Provenance:
    """Where a fact was read: the document, the character span, the sentence and the extractor, and how sure
    that source is (None: the fact's confidence). The confidence is not part of a source's identity: two
    provenances that differ only there are equal."""

    doc_id: str
    start: int
    end: int
    sentence: str
    extractor: str
    confidence: float | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Mention:
    """A span of a document (character offsets, end exclusive), linked to an entity when known."""

    start: int
    end: int
    text: str
    label: str
    entity_id: str | None = None
    score: float = 1.0


@dataclass(frozen=True)
class Triple:
    """A fact ``head -RELATION-> tail`` with its confidence and every source that supports it."""

    head_id: str
    relation: str
    tail_id: str
    confidence: float = 1.0
    provenance: tuple[Provenance, ...] = ()

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.head_id, self.relation, self.tail_id)


@dataclass(frozen=True)
class Document:
    """A unit of text to ingest; ``id`` is stable across runs (file stem or the JSONL id)."""

    id: str
    text: str
    source: str = ""


@dataclass(frozen=True)
class Extraction:
    """What ``nlp`` hands to ``kg`` for one document."""

    document: Document
    mentions: tuple[Mention, ...] = ()
    triples: tuple[Triple, ...] = ()
    entities: tuple[Entity, ...] = field(default=())
