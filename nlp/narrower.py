"""Narrower entities: the kinds of a thing the graph may hold facts about when it holds few about the thing itself
("type 2 diabetes" and "gestational diabetes" for "diabetes", "lung cancer" for "cancer").

Two sources: names (an English disease name's head noun comes last, so "lung cancer" is a kind of cancer and
"diabetes mellitus type 2" a kind of "diabetes mellitus") and hierarchy edges a graph may carry (``IS_A`` and the
like that a user's schema adds, Hetionet's pharmacologic class ``INCLUDES`` a compound).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from kg.names import normalise
from kg.records import Entity
from kg.store import GraphStore

# Types whose names put the head noun last: "Corvane Pharmaceuticals" is no kind of "Pharmaceuticals", "New York"
# no kind of "York", but "breast cancer" is a cancer
NARROWABLE_TYPES = frozenset({"Disease"})
# relation -> the end of its facts that is the narrower entity
HIERARCHY_RELATIONS = {"IS_A": "head", "SUBCLASS_OF": "head", "SUBTYPE_OF": "head", "KIND_OF": "head",
                       "INCLUDES": "tail", "HAS_SUBTYPE": "tail"}
MAX_NARROWER = 10  # the closest ones (shortest names): "cancer" in a large graph has hundreds
_SEARCHED = 60  # names a store's substring search returns to pick those from
# a word before the head noun that makes it no kind of it ("non-cancer pain", "pre-diabetes", "anti-cancer")
_NOT_A_KIND = re.compile(r"(?:^|\s)(?:non|anti|pre|pseudo|post)[\s-]*$")
_QUALIFIER = r"(?:type|subtype|stage|grade|class)\s+\w+"


def _closest(entities: Iterable[Entity]) -> list[Entity]:
    """The closest of ``entities`` (shortest names) first, at most ``MAX_NARROWER``."""
    return sorted(entities, key=lambda e: (len(e.name), e.name))[:MAX_NARROWER]


def is_narrower_name(name: str, broad: str) -> bool:
    """True when ``name`` is a more specific form of ``broad`` by its words: ``broad`` ends it after other words
    ("type 2 diabetes", "lung cancer") or a qualifier follows it ("diabetes mellitus type 2")."""
    name, broad = normalise(name), normalise(broad)
    if not broad or name == broad:
        return False
    if name.endswith(" " + broad):
        return not _NOT_A_KIND.search(name[: -len(broad) - 1])
    return bool(re.fullmatch(re.escape(broad) + r",?\s+" + _QUALIFIER, name))


def narrower_by_name(store: GraphStore, names: tuple[str, ...], kind: str | None = None,
                     exclude: str | None = None) -> list[Entity]:
    """Entities of a narrowable type (``kind`` when given) whose name or an alias is a narrower form of one of
    ``names``, closest (shortest name) first, at most ``MAX_NARROWER``."""
    found: dict[str, Entity] = {}
    for broad in names:
        for e in store.find_entities(broad, limit=_SEARCHED):
            if (e.id != exclude and e.type in NARROWABLE_TYPES and (kind is None or e.type == kind)
                    and any(is_narrower_name(n, b) for n in (e.name, *e.aliases) for b in names)):
                found.setdefault(e.id, e)
    return _closest(found.values())


def narrower_by_edges(store: GraphStore, entity_id: str) -> list[Entity]:
    """Entities a hierarchy edge makes narrower than ``entity_id`` ("X IS_A entity", "entity INCLUDES X")."""
    found: dict[str, Entity] = {}
    for relation, end in HIERARCHY_RELATIONS.items():
        for t in store.neighbours(entity_id, hops=1, relation=relation):
            broad, narrow = (t.tail_id, t.head_id) if end == "head" else (t.head_id, t.tail_id)
            ent = store.entity(narrow) if broad == entity_id else None
            if ent is not None:
                found.setdefault(ent.id, ent)
    return _closest(found.values())


def narrower_entities(store: GraphStore, entity: Entity, in_graph: bool = True) -> list[Entity]:
    """The entities narrower than ``entity``: those its hierarchy edges give first, then those its names give
    (``in_graph=False``: a term the graph has no entity for, which has no edges)."""
    found = {e.id: e for e in (narrower_by_edges(store, entity.id) if in_graph else [])}
    if entity.type in NARROWABLE_TYPES:
        for e in narrower_by_name(store, (entity.name, *entity.aliases), entity.type, exclude=entity.id):
            found.setdefault(e.id, e)
    return list(found.values())[:MAX_NARROWER]
