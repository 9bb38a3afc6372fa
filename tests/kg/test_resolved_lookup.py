"""Name lookups through entity merges (``kg.resolved.ResolvedStore.find_entities``) keep the store contract: what a
store holding the merged entities would find, in its order, and never fewer than the limit while more match."""
from __future__ import annotations

import pytest

from kg.names import STALE_RULE
from kg.records import Entity
from kg.resolved import ResolvedStore

BACKENDS = ("embedded", "rdf", "neo4j")
# "Zed" goes by "Apple" too (merged), "Banana" by an alias of its own: both match "apple" by the same key, so the
# name each goes by ("Banana" < "Zed") decides, not the merged one's ("Apple" < "Banana")
ENTITIES = [Entity("ent:zed", "Zed", "Food"), Entity("ent:apple", "Apple", "Food"),
            Entity("ent:banana", "Banana", "Food", ("apple",)), Entity("ent:pie", "Apple pie", "Food"),
            Entity("ent:crab", "Crab apple", "Plant"), Entity("ent:tree", "Apple tree", "Plant"),
            # one widget that 30 gadgets were merged into, and other gadgets with longer names
            Entity("ent:widget", "Widget", "Tool"),
            *(Entity(f"ent:g{i:02d}", f"Gadget {i:02d}", "Tool") for i in range(30)),
            *(Entity(f"ent:gh{i}", f"Gadget holder {i}", "Tool") for i in range(4))]
CANONICAL = {"ent:apple": "ent:zed", **{f"ent:g{i:02d}": "ent:widget" for i in range(30)}}
QUERIES = [("apple", 10), ("apple", 2), ("apple", 1), ("Zed", 5), ("gadget", 3), ("gadget", 5), ("gadget", 60),
           ("gadget 07", 2), ("holder", 2), ("pie", 1), ("zzz", 5)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_lookup_through_merges_finds_what_a_store_of_the_merged_entities_finds(make_store, backend):
    store = make_store(backend)
    store.add([], ENTITIES)
    view = ResolvedStore(store, CANONICAL)
    merged = make_store(backend)
    merged.add([], list(view.entities()))
    for name, limit in QUERIES:
        assert [e.id for e in view.find_entities(name, limit)] == [e.id for e in merged.find_entities(name, limit)], \
            (name, limit)


def test_the_name_an_entity_goes_by_breaks_ties_and_merged_names_never_crowd_out_others(make_store):
    store = make_store("embedded")
    store.add([], ENTITIES)
    view = ResolvedStore(store, CANONICAL)
    assert [e.id for e in view.find_entities("apple", 2)] == ["ent:banana", "ent:zed"]  # was zed, banana
    # the 30 merged gadgets are one widget, then the holders: 3 of them, where there was the widget alone
    assert [e.id for e in view.find_entities("gadget", 3)] == ["ent:widget", "ent:gh0", "ent:gh1"]
    assert view.find_entities("gadget", 3)[0].name == "Widget"


def test_a_store_reading_older_name_keys_keeps_its_order_cut_to_the_limit(make_store):
    """Its matches need not hold the name by today's keys: they were dropped (none found while 12 match), and the
    store asked again for ever more of them until it gave every one."""
    store = make_store("embedded")
    old = [Entity(f"ent:o{i:02d}", f"Old {i:02d}", "Thing") for i in range(12)]
    store.add([], old)
    asked: list[int] = []

    class OldKeyed:  # found by keys of an older rule that today's does not make from these names
        stale_name_keys = frozenset({STALE_RULE})

        def __getattr__(self, attr: str):
            return getattr(store, attr)

        def find_entities(self, name: str, limit: int = 10) -> list[Entity]:
            asked.append(limit)
            return old[:limit]

    view = ResolvedStore(OldKeyed(), {"ent:o01": "ent:o00"})
    assert [e.id for e in view.find_entities("xyz", 3)] == ["ent:o00", "ent:o02", "ent:o03"]
    assert view.find_entities("xyz", 3)[0].aliases == ("Old 01",)  # the merged one's name
    assert len(asked) == 2  # once a lookup: its first answer held 3 (not asked again for all 12)
