"""The graph as the workspace's merge log resolves it: a read view over any store.

``kgnlp entities resolve`` records merges in ``<ws>/merges.db`` and never rewrites the stored graph, so a merge
can be undone. Reading commands see the graph through :class:`ResolvedStore`: a merged entity's facts belong to
the entity it was merged into (facts that become one are one, with both sources; a fact between the two is
dropped), its names are that entity's aliases, and looking it up by name or id finds that entity. Writes and
everything not about entities and facts go to the store underneath unchanged.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator

from kg.errors import KGError
from kg.merges import FILE_NAME, MergeLog
from kg.names import normalise
from kg.records import Entity, Triple
from kg.store import GraphStore, StoreStats, lookup_order, lookup_rows


def resolved(store: GraphStore, workspace_path: str | Path) -> GraphStore:
    """``store`` seen through the workspace's merges; the store itself when nothing is merged."""
    path = Path(workspace_path) / FILE_NAME
    if not path.exists() or isinstance(store, ResolvedStore):
        return store
    with MergeLog.open(path, read_only=True) as log:
        canonical = _held(store, log.canonical_map())
    return ResolvedStore(store, canonical) if canonical else store


def _held(store: GraphStore, canonical: dict[str, str]) -> dict[str, str]:
    """``canonical`` with each group whose canonical entity the store no longer holds (its only document removed)
    going by the first of its merged entities the store still holds, so these are not hidden behind an id that names
    no entity; the merge comes back as it was if the canonical entity does."""
    groups: dict[str, list[str]] = {}
    for merged, target in canonical.items():  # in the order the merges were recorded
        groups.setdefault(target, []).append(merged)
    if len(groups) > 200:  # one pass over the entities rather than a lookup (a server round trip) per group
        ids = {e.id for e in store.entities()}
        has = ids.__contains__
    else:
        has = lambda entity_id: store.entity(entity_id) is not None  # noqa: E731
    out: dict[str, str] = {}
    for target, members in groups.items():
        if not has(target):
            held = [m for m in members if has(m)]
            if held:
                target, members = held[0], [target, *(m for m in members if m != held[0])]
        out.update((m, target) for m in members if m != target)
    return out


class ResolvedStore:
    """A read view of ``store`` with ``canonical`` (merged id -> the id it goes by) applied."""

    def __init__(self, store: GraphStore, canonical: dict[str, str]) -> None:
        self._store = store
        self._to = dict(canonical)
        self._members: dict[str, list[str]] = {}
        for merged, target in sorted(self._to.items()):
            self._members.setdefault(target, []).append(merged)
        self.name = store.name

    def __getattr__(self, attr: str):  # writes, documents, queries in the backend's own language
        return getattr(self._store, attr)

    def unwrap(self) -> GraphStore:
        return self._store

    def _id(self, entity_id: str) -> str:
        return self._to.get(entity_id, entity_id)

    def _group(self, entity_id: str) -> list[str]:
        return [entity_id, *self._members.get(entity_id, ())]

    # --- entities ---------------------------------------------------------------------------------------------

    def entity(self, entity_id: str) -> Entity | None:
        target = self._id(entity_id)
        ent = self._store.entity(target)
        if ent is None or target not in self._members:
            return ent
        names, external = list(ent.aliases), dict(ent.external_ids)
        for merged in self._members[target]:
            other = self._store.entity(merged)
            if other is None:
                continue
            names += [other.name, *other.aliases]
            for key, value in other.external_ids:
                external.setdefault(key, value)
        aliases = tuple(dict.fromkeys(n for n in names if n != ent.name))
        return Entity(ent.id, ent.name, ent.type, aliases, tuple(sorted(external.items())))

    def find_entities(self, name: str, limit: int = 10) -> list[Entity]:
        """The store's contract (``GraphStore.find_entities``) over the merged entities: a merged entity is found by
        any of its names, ordered by its shortest matching key, then its own name and id; never fewer than
        ``limit`` while more match (the store is asked for more while merged names crowd its answer)."""
        key = normalise(name)
        if not key or limit < 1:
            return []
        wanted = 2 * limit + min(len(self._to), 20)  # merged names count once: room for them, most often enough
        if getattr(self._store, "stale_name_keys", False):
            return self._in_store_order(name, limit, wanted)
        while True:
            raw = self._store.find_entities(name, wanted)
            found = self._merged(raw)
            rows = lookup_rows(found.values(), key)
            order = lookup_order(rows, len(found))
            if len(raw) < wanted:  # every match: the order is complete
                return [found[i] for i in order[:limit]]
            # an entity not yet found matches by a key no shorter than the last one found (the store's order),
            # and may go by any name: only those matching by a shorter key are in their final places
            last = min((n for _, _, n in lookup_rows(raw[-1:], key)), default=0)
            shortest: dict[str, int] = {}
            for entity_id, _, n in rows:
                shortest[entity_id] = min(n, shortest.get(entity_id, n))
            placed = [i for i in order if shortest[i] < last]
            if len(placed) >= limit:
                return [found[i] for i in placed[:limit]]
            wanted *= 2

    def _in_store_order(self, name: str, limit: int, wanted: int) -> list[Entity]:
        """:meth:`find_entities` over a store that reads keys an older kgnlp made (``stale_name_keys``): today's
        keys of the names it finds need not hold the name looked up, so the store's order is kept (as
        ``kg.views.SearchedOnce`` keeps it), each merged entity once."""
        while True:
            raw = self._store.find_entities(name, wanted)
            found = self._merged(raw)
            if len(found) >= limit or len(raw) < wanted:
                return list(found.values())[:limit]
            wanted *= 2

    def _merged(self, raw: list[Entity]) -> dict[str, Entity]:
        """The entities ``raw`` (the store's) stand for, merges applied, by id, each once."""
        out: dict[str, Entity] = {}
        for ent in raw:
            target = self._id(ent.id)
            if target in out:
                continue
            found = ent if target == ent.id and target not in self._members else self.entity(target)
            if found is not None:
                out[target] = found
        return out

    def entities(self) -> Iterator[Entity]:
        for ent in self._store.entities():
            if ent.id in self._to:
                continue
            yield self.entity(ent.id) if ent.id in self._members else ent

    def names(self) -> Iterator[tuple[str, str, str]]:
        for ent in self.entities():
            for n in (ent.name, *ent.aliases):
                yield n, ent.id, ent.type

    # --- facts ------------------------------------------------------------------------------------------------

    def _resolve(self, triples: Iterable[Triple]) -> list[Triple]:
        """Facts with merged ends renamed; facts that become one are one (both sources, the higher confidence);
        a fact from an entity to itself (the two merged entities were related) is dropped."""
        out: dict[tuple[str, str, str], Triple] = {}
        for t in triples:
            head, tail = self._id(t.head_id), self._id(t.tail_id)
            if head == tail:
                continue
            key = (head, t.relation, tail)
            have = out.get(key)
            if have is None:
                out[key] = Triple(head, t.relation, tail, t.confidence, tuple(t.provenance))
            else:
                sources = tuple(dict.fromkeys((*have.provenance, *t.provenance)))
                out[key] = Triple(head, t.relation, tail, max(have.confidence, t.confidence), sources)
        return list(out.values())

    def _touches(self, t: Triple) -> bool:
        return t.head_id in self._to or t.tail_id in self._to or t.head_id in self._members \
            or t.tail_id in self._members

    def triples(self) -> Iterator[Triple]:
        touched: list[Triple] = []
        for t in self._store.triples():
            if self._touches(t):
                touched.append(t)
            else:
                yield t
        yield from self._resolve(touched)

    def _edges(self, entity_id: str, relation: str | None) -> list[Triple]:
        return [t for member in self._group(entity_id) for t in self._store.neighbours(member, 1, relation)]

    def neighbours(self, entity_id: str, hops: int = 1, relation: str | None = None) -> list[Triple]:
        if hops < 1:
            raise KGError(f"--hops must be at least 1, got {hops}.")
        start = self._id(entity_id)
        seen, frontier, found = {start}, {start}, []
        for _ in range(hops):
            facts = self._resolve(t for node in frontier for t in self._edges(node, relation))
            found += facts
            reached = {end for t in facts for end in (t.head_id, t.tail_id)}
            frontier = reached - seen
            seen |= reached
            if not frontier:
                break
        return self._resolve(found)

    def path(self, source_id: str, target_id: str, max_hops: int = 4) -> list[Triple]:
        source, target = self._id(source_id), self._id(target_id)
        if source == target:
            return []
        back: dict[str, tuple[str, Triple] | None] = {source: None}
        frontier = [source]
        for _ in range(max_hops):
            nxt = []
            for node in frontier:
                for t in self._resolve(self._edges(node, None)):
                    other = t.tail_id if t.head_id == node else t.head_id
                    if other not in back:
                        back[other] = (node, t)
                        nxt.append(other)
            if target in back:
                steps, node = [], target
                while back[node] is not None:
                    node, t = back[node]
                    steps.append(t)
                return steps[::-1]
            frontier = nxt
            if not frontier:
                break
        return []

    def seedings(self) -> Iterator[tuple[str, str, tuple[str, ...]]]:
        """What each seed lists, an entity merged into another counting as that one."""
        given: dict[tuple[str, str], set[str]] = {}
        for seed, entity_id, aliases in self._store.seedings():
            given.setdefault((seed, self._id(entity_id)), set()).update(aliases)
        for (seed, entity_id), aliases in sorted(given.items()):
            yield seed, entity_id, tuple(sorted(aliases))

    def pinned_ids(self, seeds: bool = True) -> set[str]:
        """A merged entity is pinned when any entity merged into it is."""
        return {self._id(i) for i in self._store.pinned_ids(seeds)}

    def stats(self) -> StoreStats:
        raw = self._store.stats()
        by_type, by_relation = Counter(dict(raw.by_type)), Counter(dict(raw.by_relation))
        entities = raw.entities
        for merged in self._to:
            ent = self._store.entity(merged)
            if ent is not None:
                entities -= 1
                by_type[ent.type] -= 1
        ids = set(self._to) | set(self._members)
        before = {t.key: t for i in ids for t in self._store.neighbours(i, 1)}
        after = self._resolve(before.values())
        by_relation.subtract(Counter(t.relation for t in before.values()))
        by_relation.update(Counter(t.relation for t in after))
        relations = raw.relations - len(before) + len(after)
        order = lambda counts: tuple(sorted(((k, v) for k, v in counts.items() if v > 0),  # noqa: E731
                                            key=lambda kv: (-kv[1], kv[0])))  # as every backend orders them
        return StoreStats(raw.documents, entities, relations, order(by_type), order(by_relation))
