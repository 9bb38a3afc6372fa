"""Facts as people read them: entity names instead of ids, sources attached."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

from kg.names import normalise
from kg.records import Entity, Provenance, Triple
from kg.store import GraphStore


@dataclass(frozen=True)
class NamedFact:
    head: str
    relation: str
    tail: str
    head_id: str
    tail_id: str
    confidence: float
    sources: tuple[Provenance, ...]

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["sources"] = [
            {"doc": p.doc_id, "start": p.start, "end": p.end, "sentence": p.sentence, "extractor": p.extractor}
            for p in self.sources
        ]
        return data


class NameCache:
    """Entity id -> name lookups, each id read once."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self._names: dict[str, str] = {}

    def __call__(self, entity_id: str) -> str:
        if entity_id not in self._names:
            ent = self._store.entity(entity_id)
            self._names[entity_id] = ent.name if ent else entity_id
        return self._names[entity_id]


def name_facts(store: GraphStore, triples: Iterable[Triple], names: NameCache | None = None) -> list[NamedFact]:
    names = names or NameCache(store)
    return [
        NamedFact(names(t.head_id), t.relation, names(t.tail_id), t.head_id, t.tail_id, t.confidence, t.provenance)
        for t in triples
    ]


def is_named(entity: Entity, name: str) -> bool:
    """True when ``name`` is the entity's name or one of its aliases (as ``kg.names.normalise`` compares them)."""
    key = normalise(name)
    return key in {normalise(n) for n in (entity.name, *entity.aliases)}


def entities_named(store: GraphStore, name: str, limit: int = 5) -> list[Entity]:
    """The entities ``name`` names exactly (name or alias), among the store's best ``limit`` matches."""
    return [e for e in store.find_entities(name, limit=limit) if is_named(e, name)]
