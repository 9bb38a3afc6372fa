"""What an edited seed takes back: the decision every backend's ``replace_source`` shares, apart from its reads and
writes.

A seed records, per entity it lists, the aliases it alone gave. When the seed is replaced, what it gave before and
no longer lists goes: such an alias, unless another seed gave it too (or it is the entity's stored name, which stays
on as an alias), and an entity it no longer lists, unless another seed lists it (the backend then checks the rest:
an import or ``add`` pinned it, a document mentions it, a fact relates it). An alias that goes takes with it the
lookup keys no other name of the entity gives (:func:`lost_keys`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from kg.names import name_keys
from kg.records import Entity, one_per_id


@dataclass(frozen=True)
class Stored:
    """An entity as the store holds it before the seed's change: its name and aliases."""

    name: str
    aliases: frozenset[str]


@dataclass(frozen=True)
class Claim:
    """The seed's new records and what it takes back.

    ``records``: (entity id, the aliases only this seed gives it) for each entity it lists, to record;
    ``unlisted``: entities it listed before and no longer does, whose records go;
    ``dropped``: entity id -> the aliases to take off it (only those it holds);
    ``free``: the unlisted entities no other seed lists, which go when nothing else holds them;
    ``taken``: the ``(entity id, alias)`` pairs taken back, as reported (see :meth:`taken_back`).
    """

    records: tuple[tuple[str, tuple[str, ...]], ...]
    unlisted: tuple[str, ...]
    dropped: Mapping[str, frozenset[str]]
    free: tuple[str, ...]
    taken: tuple[tuple[str, str], ...]

    def taken_back(self, removed: Sequence[str]) -> tuple[tuple[str, str], ...]:
        """The ``(entity id, alias)`` pairs taken back from the entities that stay (``removed`` went whole)."""
        gone = set(removed)
        return tuple(p for p in self.taken if p[0] not in gone)


def claim(listed: Sequence[Entity], before: Mapping[str, frozenset[str] | set[str]],
          others: Mapping[str, frozenset[str] | set[str]], stored: Mapping[str, Stored]) -> Claim:
    """Decide what a seed records and takes back.

    ``listed``: the entities the seed now lists; ``before``: entity id -> the aliases it alone gave, for every entity it
    listed before; ``others``: entity id -> the aliases other seeds gave, with a key for every entity another seed
    lists (among those of ``listed`` and ``before``); ``stored``: the stored entities among those of ``listed`` and
    ``before`` (a new one is absent).

    A listed entity records the aliases the store does not hold yet and those it or another seed gave before (an
    alias a document or import gave first stays theirs). An alias it gave before and no longer lists goes, unless
    another seed gave it or it is the stored name; every alias of an unlisted entity it alone gave goes. A name the
    seed now gives is not reported as taken back.
    """
    ids = {e.id: e for e in one_per_id(listed, override=True)}  # an id listed twice gives what both lines give
    records, dropped = [], {}
    for e in ids.values():
        have = stored[e.id] if e.id in stored else Stored("", frozenset())
        mine, other = set(before.get(e.id, ())), set(others.get(e.id, ()))
        records.append((e.id, tuple(a for a in dict.fromkeys(e.aliases)
                                    if a not in have.aliases or a in mine | other)))
        dropped[e.id] = frozenset((mine - set(e.aliases) - other - {have.name}) & have.aliases)
    unlisted = tuple(sorted(set(before) - set(ids)))
    for eid in unlisted:
        held = stored[eid].aliases if eid in stored else frozenset()
        dropped[eid] = frozenset((set(before[eid]) - set(others.get(eid, ()))) & held)
    taken = sorted((eid, a) for eid, gone in dropped.items() for a in gone if eid not in ids or a != ids[eid].name)
    return Claim(tuple(records), unlisted, {k: v for k, v in dropped.items() if v},
                 tuple(e for e in unlisted if e not in others), tuple(taken))


def lost_keys(stored: Stored, dropped: Iterable[str]) -> set[str]:
    """The lookup keys (``kg.names.name_keys``) an entity, as ``stored``, loses when the aliases ``dropped`` come off
    it: the keys of the dropped aliases that neither its name nor an alias it keeps gives too ("Asa" dropped beside
    "ASA" loses none)."""
    dropped = set(dropped)
    return name_keys(dropped) - name_keys((stored.name, *(stored.aliases - dropped)))
