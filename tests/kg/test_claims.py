"""The seed-claim decision every backend's ``replace_source`` shares (kg.claims.claim), case by case."""
from __future__ import annotations

import pytest

from kg.claims import Stored, claim, lost_keys
from kg.records import Entity


def ent(eid: str, name: str = "Name", *aliases: str) -> Entity:
    return Entity(eid, name, "Thing", aliases)


def stored(name: str, *aliases: str) -> Stored:
    return Stored(name, frozenset(aliases))


# (case, listed, before, others, stored, expected records, dropped, free, taken)
CASES = [
    ("a new entity records every alias it gives",
     [ent("e", "E", "a", "b")], {}, {}, {},
     (("e", ("a", "b")),), {}, (), ()),
    ("an alias the store holds from a document is not the seed's",
     [ent("e", "E", "a", "doc")], {}, {}, {"e": stored("E", "doc")},
     (("e", ("a",)),), {}, (), ()),
    ("an alias the seed gave before stays recorded though the store holds it",
     [ent("e", "E", "a")], {"e": {"a"}}, {}, {"e": stored("E", "a")},
     (("e", ("a",)),), {}, (), ()),
    ("an alias another seed gave is recorded by this seed too",
     [ent("e", "E", "a")], {}, {"e": {"a"}}, {"e": stored("E", "a")},
     (("e", ("a",)),), {}, (), ()),
    ("an alias it gave and no longer lists is taken back",
     [ent("e", "E", "b")], {"e": {"a", "b"}}, {}, {"e": stored("E", "a", "b")},
     (("e", ("b",)),), {"e": {"a"}}, (), (("e", "a"),)),
    ("an alias another seed gave too stays",
     [ent("e", "E")], {"e": {"a"}}, {"e": {"a"}}, {"e": stored("E", "a")},
     (("e", ()),), {}, (), ()),
    ("the stored name it gave as an alias stays (the old name stays on as an alias)",
     [ent("e", "New")], {"e": {"Old"}}, {}, {"e": stored("Old", "Old")},
     (("e", ()),), {}, (), ()),
    ("an alias the seed now gives as the name goes from the aliases, unreported",
     [ent("e", "A")], {"e": {"A"}}, {}, {"e": stored("E", "A")},
     (("e", ()),), {"e": {"A"}}, (), ()),
    ("an alias the store no longer holds is not taken back",
     [ent("e", "E")], {"e": {"gone"}}, {}, {"e": stored("E")},
     (("e", ()),), {}, (), ()),
    ("an unlisted entity no other seed lists is free, and its aliases go",
     [], {"e": {"a"}}, {}, {"e": stored("E", "a", "doc")},
     (), {"e": {"a"}}, ("e",), (("e", "a"),)),
    ("an unlisted entity another seed lists is not free; only the aliases it alone gave go",
     [], {"e": {"a", "b"}}, {"e": {"b"}}, {"e": stored("E", "a", "b")},
     (), {"e": {"a"}}, (), (("e", "a"),)),
    ("an unlisted entity the store no longer holds is free with nothing to take",
     [], {"e": set()}, {}, {},
     (), {}, ("e",), ()),
    ("a listed entity's repeated alias is recorded once",
     [ent("e", "E", "a", "a")], {}, {}, {},
     (("e", ("a",)),), {}, (), ()),
    ("an entity listed twice records the aliases of both lines, and takes back neither",
     [ent("e", "E", "a"), ent("e", "F", "b")], {"e": {"a", "b"}}, {}, {"e": stored("E", "a", "b")},
     (("e", ("a", "b")),), {}, (), ()),
]


@pytest.mark.parametrize("case,listed,before,others,held,records,dropped,free,taken", CASES, ids=[c[0] for c in CASES])
def test_claim_decides_what_a_seed_records_and_takes_back(case, listed, before, others, held, records, dropped, free,
                                                           taken):
    plan = claim(listed, before, others, held)
    assert plan.records == records
    assert dict(plan.dropped) == {k: frozenset(v) for k, v in dropped.items()}
    assert plan.free == free
    assert plan.taken == taken
    assert plan.unlisted == tuple(sorted(set(before) - {e.id for e in listed}))


def test_claim_taken_back_leaves_out_the_entities_that_went_whole():
    plan = claim([ent("k", "K")], {"k": {"x"}, "e": {"a"}, "f": {"b"}}, {"f": set()},
                 {"k": stored("K", "x"), "e": stored("E", "a"), "f": stored("F", "b")})
    assert plan.free == ("e",)
    assert plan.taken == (("e", "a"), ("f", "b"), ("k", "x"))
    assert plan.taken_back(["e"]) == (("f", "b"), ("k", "x"))


# (case, the entity as stored: name and aliases, the aliases dropped, the keys it loses)
LOST = [
    ("a dropped alias's own key goes", ("Aspirin", "ASA", "acetylsalicylic acid"), {"ASA"}, {"asa"}),
    ("a key a kept alias gives too stays", ("Aspirin", "ASA", "Asa"), {"Asa"}, set()),
    ("a key the name gives too stays", ("Aspirin", "aspirin", "ASA"), {"aspirin"}, set()),
    ("keys fold as lookups do: accents", ("Sjögren's syndrome", "Sjogren disease", "Sjögren disease"),
     {"Sjogren disease"}, set()),
    ("keys fold as lookups do: Roman numerals", ("diabetes", "type II diabetes", "type 2 diabetes"),
     {"type II diabetes"}, set()),
    ("two dropped aliases of one key lose it once", ("Aspirin", "ASA", "asa."), {"ASA", "asa."}, {"asa"}),
    ("an alias without a key loses nothing", ("Aspirin", "!!"), {"!!"}, set()),
    ("each dropped alias is weighed on its own", ("Aspirin", "ASA", "A.S.A", "Asa"), {"ASA", "A.S.A"}, {"a.s.a"}),
    ("nothing dropped, nothing lost", ("Aspirin", "ASA"), set(), set()),
]


@pytest.mark.parametrize("case,held,dropped,lost", LOST, ids=[c[0] for c in LOST])
def test_lost_keys_are_those_of_the_dropped_aliases_no_other_name_gives(case, held, dropped, lost):
    assert lost_keys(stored(*held), dropped) == lost
