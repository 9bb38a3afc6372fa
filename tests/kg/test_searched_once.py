"""Name lookups searched once (``kg.views.SearchedOnce``): the same entities in the same order as the store gives,
fewer searches."""
from __future__ import annotations

from collections import Counter

import pytest

from kg.records import Entity
from kg.views import SearchedOnce, searched_once

BACKENDS = ("embedded", "rdf", "neo4j")
ENTITIES = [Entity("ent:pine", "Pineapple", "Food"), Entity("ent:crab", "Crab apple tree", "Plant", ("Crabapple",)),
            Entity("ent:big", "Big Apple", "Location"), Entity("ent:pie", "Apple pie", "Food"),
            Entity("ent:apples", "Apples", "Food"), Entity("ent:a", "apple", "Food"),
            Entity("ent:malus", "Malus domestica", "Plant", ("APPLE", "apple tree")),
            Entity("ent:c", "Apple", "Company"), Entity("ent:b", "Apple", "Food"),
            Entity("dis:t2d", "type II diabetes", "Disease", ("T2D", "diabetes mellitus type 2")),
            Entity("dis:d", "diabetes", "Disease"), Entity("dis:gd", "gestational diabetes", "Disease")]
# words first, then phrases that hold them, then other limits: each answered as the store answers it
QUERIES = [("apple", 60), ("tree", 60), ("diabetes", 60), ("type", 60), ("Apple", 3), ("apple tree", 5),
           ("crab apple", 5), ("apple pie", 2), ("type 2 diabetes", 5), ("Type II Diabetes", 1), ("diabetes", 2),
           ("mellitus type 2", 5), ("gestational", 5), ("pie", 1), ("pie", 5), ("zzz", 5), ("", 5), ("apples", 10)]


class _Counted:
    """A store whose ``find_entities`` calls are counted."""

    def __init__(self, store) -> None:
        self.store, self.calls = store, Counter()

    def find_entities(self, name: str, limit: int = 10) -> list[Entity]:
        self.calls[(name, limit)] += 1
        return self.store.find_entities(name, limit)


@pytest.mark.parametrize("backend", BACKENDS)
def test_searched_once_finds_what_the_store_finds_with_fewer_searches(make_store, backend):
    store = make_store(backend)
    store.add([], ENTITIES)
    counted = _Counted(store)
    once = SearchedOnce(counted)
    for name, limit in QUERIES:
        assert [e.id for e in once.find_entities(name, limit)] == [e.id for e in store.find_entities(name, limit)], \
            (name, limit)
    # the four words are searched; every phrase that holds one is answered from its matches, as is a smaller limit
    assert sorted(counted.calls) == [("apple", 60), ("diabetes", 60), ("gestational", 5), ("pie", 1), ("pie", 5),
                                     ("tree", 60), ("type", 60), ("zzz", 5)]
    assert set(counted.calls.values()) == {1}


def test_a_search_cut_short_by_its_limit_is_searched_again_for_a_larger_one(make_store):
    store = make_store("embedded")
    store.add([], ENTITIES)
    counted = _Counted(store)
    once = SearchedOnce(counted)
    assert len(once.find_entities("apple", 2)) == 2
    assert [e.id for e in once.find_entities("apple tree", 5)] == [e.id for e in store.find_entities("apple tree", 5)]
    assert len(once.find_entities("apple", 9)) == 9  # the first search held 2 of them: searched again
    assert once.find_entities("apple", 1) == once.find_entities("apple", 9)[:1]  # answered from the larger one
    assert counted.calls == Counter({("apple", 2): 1, ("apple tree", 5): 1, ("apple", 9): 1})


def test_searched_once_is_applied_once_and_passes_the_rest_to_the_store(make_store):
    store = make_store("embedded")
    store.add([], ENTITIES)
    once = searched_once(store)
    assert searched_once(once) is once
    assert once.entity("dis:d") == store.entity("dis:d") and once.name == store.name


def test_a_store_reading_older_name_keys_is_asked_for_a_phrase_not_answered_from_a_word(tmp_path, monkeypatch):
    """Its keys are not today's: a phrase's matches derived from a word's with today's keys would be other than the
    store's (here one it does not find); the phrase goes to the store."""
    import sqlite3

    from kg import names
    from kg.stores.sqlite import SQLiteStore

    store = SQLiteStore.open(tmp_path / "g.db")
    with monkeypatch.context() as old_code:  # keyed by the first key rule, the record of the rule dropped
        old_code.setattr("kg.names.normalise", names._plain)
        store.add([], [Entity("dis:sjogren", "Sjögren's syndrome", "Disease")])
        store.query("DELETE FROM meta WHERE key='name_keys'", write=True)
    store.close()
    holder = sqlite3.connect(tmp_path / "g.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a writer holds the graph: the reader cannot remake the keys
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: connect(*a, **{**k, "timeout": 0.1}))
    try:
        reader = SQLiteStore.open(tmp_path / "g.db", read_only=True)
        assert reader.stale_name_keys
        view = searched_once(reader)
        assert [e.id for e in view.find_entities("syndrome")] == ["dis:sjogren"]  # every match: complete
        assert view.find_entities("sjogren syndrome") == reader.find_entities("sjogren syndrome") == []
        reader.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
