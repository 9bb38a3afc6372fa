"""Facts as people read them: entity names instead of ids, sources attached."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

from kg.names import name_keys, normalise
from kg.records import Entity, Provenance, Triple
from kg.store import GraphStore, lookup_order, lookup_rows


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
    return normalise(name) in name_keys((entity.name, *entity.aliases))


def entities_named(store: GraphStore, name: str, limit: int = 5) -> list[Entity]:
    """The entities ``name`` names exactly (name or alias), among the store's best ``limit`` matches."""
    return [e for e in store.find_entities(name, limit=limit) if is_named(e, name)]


class SearchedOnce:
    """``store`` with its name lookups (``find_entities``) remembered, for a short read during which the store does
    not change (answering one question): each key is searched once. A search that returned fewer than its limit
    holds every match (the store's contract), so it answers any limit; and a key that holds such a key ("type 2
    diabetes" holds "diabetes") has its matches among that one's, found there in the store's order without asking
    the store. Everything else goes to the store."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self._found: dict[str, tuple[list[Entity], bool]] = {}  # key -> its matches, and whether that is all of them

    def __getattr__(self, attr: str):
        return getattr(self._store, attr)

    def find_entities(self, name: str, limit: int = 10) -> list[Entity]:
        key = normalise(name)
        if not key:
            return []
        found = self._found.get(key)
        if found is None or not (found[1] or len(found[0]) >= limit):  # never searched, or cut short below limit
            found = self._within(key)
            if found is None:
                hits = self._store.find_entities(name, limit)
                found = (hits, len(hits) < limit)
            self._found[key] = found
        return found[0][:limit]

    def _within(self, key: str) -> tuple[list[Entity], bool] | None:
        """All the matches of ``key``, in the store's order, from all those of a key it holds; None when no such
        key has been searched, or when the store reads keys an older kgnlp made (``stale_name_keys``): its matches
        are not the ones today's keys of the found names give."""
        if getattr(self._store, "stale_name_keys", False):
            return None
        for part, (found, complete) in self._found.items():
            if complete and part in key:
                by_id = {e.id: e for e in found}
                return [by_id[i] for i in lookup_order(lookup_rows(found, key), len(found))], True
        return None


def searched_once(store: GraphStore) -> GraphStore:
    """``store`` with its name lookups remembered (:class:`SearchedOnce`), unless they already are."""
    return store if isinstance(store, SearchedOnce) else SearchedOnce(store)
