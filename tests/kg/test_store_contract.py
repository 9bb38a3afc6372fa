"""One contract, every backend: the embedded store's behaviour is the reference."""
from __future__ import annotations

from dataclasses import replace

import pytest

from kg.errors import KGError
from kg.records import Document, Entity, Extraction, Mention, Provenance, Triple
from kg.store import GraphStore, SourceChange

BACKENDS = ("embedded", "rdf", "neo4j")

ASPIRIN = Entity("drug:aspirin", "Aspirin", "Drug", ("acetylsalicylic acid", "ASA"), (("mesh", "D001241"),))
HEADACHE = Entity("disease:headache", "Headache", "Disease", ("cephalalgia",))
BAYER = Entity("org:bayer", "Bayer AG", "Company")
IBU = Entity("drug:ibuprofen", "Ibuprofen", "Drug")
FEVER = Entity("disease:fever", "Fever", "Disease")


def prov(doc: str, start: int = 0, sentence: str = "s") -> Provenance:
    return Provenance(doc, start, start + 10, sentence, "pattern")


def fact_set(store: GraphStore) -> set[tuple[str, str, str]]:
    return {t.key for t in store.triples()}


def extraction(doc_id: str, text: str, triples: tuple[Triple, ...], entities: tuple[Entity, ...] = (),
               mentions: tuple[Mention, ...] = ()) -> Extraction:
    return Extraction(Document(doc_id, text, f"{doc_id}.txt"), mentions, triples, entities)


@pytest.fixture(params=BACKENDS)
def store(request, make_store) -> GraphStore:
    return make_store(request.param)


def seed(store: GraphStore) -> None:
    store.add([
        Triple(ASPIRIN.id, "TREATS", HEADACHE.id, 0.9, (prov("d1"),)),
        Triple(BAYER.id, "MANUFACTURES", ASPIRIN.id, 0.8, (prov("d2"),)),
        Triple(IBU.id, "TREATS", FEVER.id, 0.7, (prov("d3"),)),
    ], [ASPIRIN, HEADACHE, BAYER, IBU, FEVER])


def test_store_satisfies_protocol(store):
    assert isinstance(store, GraphStore)


def test_store_entity_round_trips(store):
    seed(store)
    got = store.entity(ASPIRIN.id)
    assert (got.id, got.name, got.type) == (ASPIRIN.id, "Aspirin", "Drug")
    assert set(got.aliases) == set(ASPIRIN.aliases)
    assert got.external() == {"mesh": "D001241"}
    assert store.entity("nope") is None
    store.add([], [Entity("drug:x", "X", "Drug", ("zeta", "Alpha", "beta"))])  # one order, whatever the store
    assert store.entity("drug:x").aliases == ("Alpha", "beta", "zeta") == next(
        e for e in store.entities() if e.id == "drug:x").aliases


def test_store_an_alias_given_twice_is_stored_once(store):
    store.add([], [Entity("drug:x", "X", "Drug", ("y", "Z", "y"))])
    assert store.entity("drug:x").aliases == ("Z", "y")
    assert ("y", "drug:x", "Drug") in set(store.names()) and len(list(store.names())) == 3


def test_store_an_entity_given_twice_in_one_write_is_merged_as_two_writes_would(store):
    """The first name and type stay, the aliases are merged and the later external ids win, in `add`,
    `add_extraction` and `bulk_load` alike."""
    twice = [Entity("drug:x", "X", "Drug", ("a",), (("mesh", "1"),)), Entity("drug:x", "Y", "Brand", ("b",),
                                                                               (("mesh", "2"), ("lei", "L")))]
    store.add([], twice)
    store.add_extraction(extraction("doc-a", "a", (), tuple(replace(e, id="drug:y") for e in twice)), "ha")
    store.bulk_load([], [replace(e, id="drug:z") for e in twice])
    for eid in ("drug:x", "drug:y", "drug:z"):
        got = store.entity(eid)
        assert (got.name, got.type, got.aliases, got.external()) == ("X", "Drug", ("a", "b"), {"mesh": "2", "lei": "L"})
    assert dict(store.stats().by_type) == {"Drug": 3}


def test_store_an_entity_written_again_under_another_name_is_not_found_by_that_name(store):
    """A stored entity keeps its first name when `add`, `add_extraction` or `bulk_load` writes it again under
    another: that name is neither its name nor an alias, so no lookup key of it either. A rename (a seed's write,
    `add(override=True)`) gives the new name, and the old one stays on as an alias: both find it."""
    for eid in ("x:add", "x:doc", "x:bulk", "x:seed"):
        store.add([], [Entity(eid, "Alpha", "Thing")])
    store.add([], [Entity("x:add", "Beta", "Thing")])
    store.add_extraction(extraction("doc-a", "Beta", (), (Entity("x:doc", "Beta", "Thing", ("b1",)),)), "ha")
    store.bulk_load([], [Entity("x:bulk", "Beta", "Thing")])
    store.replace_source("seed:s", [], [Entity("x:seed", "Beta", "Thing")])
    assert [(e.id, e.name, e.aliases) for e in store.find_entities("beta")] == [("x:seed", "Beta", ("Alpha",))]
    assert [e.id for e in store.find_entities("alpha")] == ["x:add", "x:bulk", "x:doc", "x:seed"]
    assert [e.id for e in store.find_entities("b1")] == ["x:doc"]  # the aliases a write gives are the entity's


def test_store_an_entity_a_seed_lists_twice_takes_the_later_name_and_both_lines_aliases(store):
    """A seed (or `add(override=True)`) that gives an id twice in one write: the later name and type win, the
    stored name stays on as an alias, and the seed records, and later takes back, the aliases of both."""
    store.add([], [Entity("drug:x", "W", "Drug"), Entity("drug:y", "W", "Drug")])
    twice = [Entity("drug:x", "X", "Drug", ("a",)), Entity("drug:x", "Y", "Brand", ("b",))]
    store.replace_source("seed:s", [], twice)
    store.add([], [replace(e, id="drug:y") for e in twice], pinned=False, override=True)
    for eid in ("drug:x", "drug:y"):
        got = store.entity(eid)
        assert (got.name, got.type, got.aliases) == ("Y", "Brand", ("W", "a", "b"))
    assert list(store.seedings()) == [("seed:s", "drug:x", ("a", "b"))]
    assert store.replace_source("seed:s", [], []) == SourceChange(0, (), (("drug:x", "a"), ("drug:x", "b")))
    assert store.entity("drug:x").aliases == ("W",)


def test_store_find_entities_by_name_alias_and_part(store):
    seed(store)
    assert [e.id for e in store.find_entities("aspirin")] == [ASPIRIN.id]
    assert [e.id for e in store.find_entities("  ASPIRIN. ")] == [ASPIRIN.id]
    assert [e.id for e in store.find_entities("Acetylsalicylic Acid")] == [ASPIRIN.id]
    assert BAYER.id in [e.id for e in store.find_entities("bayer")]
    assert store.find_entities("zzz-unknown") == []
    assert store.find_entities("") == []


def test_store_find_entities_in_one_order_on_every_backend(store):
    """Shortest matching key first (an exact match of name or alias), then name as written, then id: the same list
    and the same cut at ``limit`` whatever the backend and the order entities were written in."""
    written = [Entity("ent:pine", "Pineapple", "Food"), Entity("ent:crab", "Crab apple tree", "Plant", ("Crabapple",)),
               Entity("ent:big", "Big Apple", "Location"), Entity("ent:pie", "Apple pie", "Food"),
               Entity("ent:apples", "Apples", "Food"), Entity("ent:a", "apple", "Food"),
               Entity("ent:malus", "Malus domestica", "Plant", ("APPLE",)), Entity("ent:c", "Apple", "Company"),
               Entity("ent:b", "Apple", "Food")]
    for entity in written:
        store.add([], [entity])
    order = ["ent:b", "ent:c", "ent:malus", "ent:a",  # exact: by name ("Apple" < "Malus ..." < "apple"), then id
             "ent:apples", "ent:pie", "ent:big", "ent:crab", "ent:pine"]  # then key length 6, then 9 by name
    assert [e.id for e in store.find_entities("apple")] == order
    for limit in (2, 3, 5, 6):
        assert [e.id for e in store.find_entities("Apple", limit=limit)] == order[:limit]


def test_store_find_entities_with_a_very_long_name_finds_none(store):
    seed(store)
    assert store.find_entities("x" * 60_000) == []  # not an SQLite "pattern too complex" error
    assert [e.id for e in store.find_entities("spirin")] == [ASPIRIN.id]  # part of a name, as before
    assert store.find_entities("50%") == [] and store.find_entities("a_b") == []  # no wildcards


def test_store_add_is_idempotent_and_merges_provenance(store):
    seed(store)
    seed(store)
    assert len(list(store.triples())) == 3
    store.add([Triple(ASPIRIN.id, "TREATS", HEADACHE.id, 0.95, (prov("d9", 5),))])
    (fact,) = [t for t in store.triples() if t.key == (ASPIRIN.id, "TREATS", HEADACHE.id)]
    assert {p.doc_id for p in fact.provenance} == {"d1", "d9"}
    assert fact.confidence == pytest.approx(0.95)
    store.add([Triple(ASPIRIN.id, "TREATS", HEADACHE.id, 0.1)])
    (fact,) = [t for t in store.triples() if t.key == (ASPIRIN.id, "TREATS", HEADACHE.id)]
    assert fact.confidence == pytest.approx(0.95)  # confidence keeps the best seen


def test_store_add_merges_a_fact_given_twice_in_one_call_per_source(store):
    """One `add` holding the same fact twice (and a fact with no source): the fact keeps its best confidence and
    each source its own best."""
    treats = (ASPIRIN.id, "TREATS", HEADACHE.id)
    store.add([Triple(*treats, 0.6, (prov("d1"), prov("d2"))), Triple(IBU.id, "TREATS", FEVER.id, 0.4),
               Triple(*treats, 0.8, (prov("d1"),)), Triple(*treats, 0.7, (Provenance("d3", 0, 0, "", "x", 0.5),))])
    facts = {t.key: t for t in store.triples()}
    assert set(facts) == {treats, (IBU.id, "TREATS", FEVER.id)}
    assert round(facts[treats].confidence, 6) == 0.8 and facts[(IBU.id, "TREATS", FEVER.id)].provenance == ()
    assert sorted((p.doc_id, round(p.confidence, 6)) for p in facts[treats].provenance) == [
        ("d1", 0.8), ("d2", 0.6), ("d3", 0.5)]


def test_store_entity_upsert_keeps_first_name_and_merges_aliases(store):
    seed(store)
    store.add([], [Entity(ASPIRIN.id, "Aspirin 2", "Other", ("Aspirin tablet",), (("drugbank", "DB00945"),))])
    got = store.entity(ASPIRIN.id)
    assert (got.name, got.type) == ("Aspirin", "Drug")
    assert set(got.aliases) == {"acetylsalicylic acid", "ASA", "Aspirin tablet"}
    assert got.external() == {"mesh": "D001241", "drugbank": "DB00945"}
    assert [e.id for e in store.find_entities("aspirin tablet")] == [ASPIRIN.id]


def test_store_neighbours_respects_hops_and_relation(store):
    seed(store)
    one = {t.key for t in store.neighbours(ASPIRIN.id)}
    assert one == {(ASPIRIN.id, "TREATS", HEADACHE.id), (BAYER.id, "MANUFACTURES", ASPIRIN.id)}
    store.add([Triple(HEADACHE.id, "ASSOCIATED_WITH", FEVER.id)])
    two = {t.key for t in store.neighbours(BAYER.id, hops=2)}
    assert two == {(BAYER.id, "MANUFACTURES", ASPIRIN.id), (ASPIRIN.id, "TREATS", HEADACHE.id)}
    three = {t.key for t in store.neighbours(BAYER.id, hops=3)}
    assert (HEADACHE.id, "ASSOCIATED_WITH", FEVER.id) in three
    only = {t.key for t in store.neighbours(ASPIRIN.id, relation="TREATS")}
    assert only == {(ASPIRIN.id, "TREATS", HEADACHE.id)}
    (t,) = [t for t in store.neighbours(HEADACHE.id, relation="TREATS")]
    assert t.provenance == (prov("d1"),)
    assert store.neighbours("nope") == []
    with pytest.raises(KGError):
        store.neighbours(ASPIRIN.id, hops=0)


def test_store_path_is_shortest_and_empty_when_none(store):
    seed(store)
    store.add([Triple(HEADACHE.id, "ASSOCIATED_WITH", FEVER.id)])
    path = store.path(BAYER.id, FEVER.id)
    assert [t.key for t in path] == [(BAYER.id, "MANUFACTURES", ASPIRIN.id), (ASPIRIN.id, "TREATS", HEADACHE.id),
                                     (HEADACHE.id, "ASSOCIATED_WITH", FEVER.id)]
    assert path[0].provenance == (prov("d2"),)
    assert store.path(BAYER.id, FEVER.id, max_hops=2) == []
    store.add([], [Entity("x:lonely", "Lonely", "Thing")])
    assert store.path(BAYER.id, "x:lonely") == []


def test_store_documents_are_stored_atomically_and_idempotently(store):
    ext = extraction("doc-a", "Aspirin treats headache.", (Triple(ASPIRIN.id, "TREATS", HEADACHE.id, 0.9,
                                                                  (prov("doc-a", 0, "Aspirin treats headache."),)),),
                     (ASPIRIN, HEADACHE), (Mention(0, 7, "Aspirin", "DRUG", ASPIRIN.id),
                                           Mention(15, 23, "headache", "DISEASE", HEADACHE.id)))
    store.add_extraction(ext, "h1")
    store.add_extraction(ext, "h1")
    assert store.has_document("doc-a") and store.has_document("doc-a", "h1")
    assert not store.has_document("doc-a", "other") and not store.has_document("doc-b")
    assert store.document_ids() == ["doc-a"]
    assert store.document_text("doc-a") == "Aspirin treats headache."
    assert store.document_text("missing") is None
    assert len(list(store.triples())) == 1
    (fact,) = store.triples()
    assert fact.provenance == (Provenance("doc-a", 0, 10, "Aspirin treats headache.", "pattern"),)
    st = store.stats()
    assert (st.documents, st.entities, st.relations) == (1, 2, 1)


def test_store_reingest_replaces_a_changed_document(store):
    store.add_extraction(extraction("doc-a", "v1", (Triple(ASPIRIN.id, "TREATS", HEADACHE.id, 0.9,
                                                           (prov("doc-a"),)),), (ASPIRIN, HEADACHE)), "h1")
    store.add_extraction(extraction("doc-a", "v2", (Triple(IBU.id, "TREATS", FEVER.id, 0.9,
                                                           (prov("doc-a"),)),), (IBU, FEVER)), "h2")
    assert fact_set(store) == {(IBU.id, "TREATS", FEVER.id)}
    assert store.has_document("doc-a", "h2") and store.document_text("doc-a") == "v2"


def test_store_mark_stale_forgets_only_those_documents_hashes_keeping_what_they_stored(store):
    store.add_extraction(extraction("doc-a", "a", (Triple(ASPIRIN.id, "TREATS", HEADACHE.id, 0.9, (prov("doc-a"),)),),
                                    (ASPIRIN, HEADACHE)), "h1")
    store.add_extraction(extraction("doc-b", "b", ()), "h2")
    store.mark_stale(["doc-a", "missing"])
    assert store.has_document("doc-a") and not store.has_document("doc-a", "h1")
    assert store.has_document("doc-b", "h2") and store.document_ids() == ["doc-a", "doc-b"]
    assert fact_set(store) == {(ASPIRIN.id, "TREATS", HEADACHE.id)} and store.document_text("doc-a") == "a"
    store.add_extraction(extraction("doc-a", "a", ()), "h1")
    assert store.has_document("doc-a", "h1")


def test_store_remove_document_removes_only_what_it_alone_supported(store):
    shared = Triple(ASPIRIN.id, "TREATS", HEADACHE.id, 0.9, (prov("doc-a"),))
    store.add([], [BAYER])  # pinned: seeded entities stay
    store.add_extraction(extraction("doc-a", "a", (shared, Triple(BAYER.id, "MANUFACTURES", ASPIRIN.id, 0.8,
                                                                  (prov("doc-a", 20),))),
                                    (ASPIRIN, HEADACHE), (Mention(0, 7, "Aspirin", "DRUG", ASPIRIN.id),
                                                          Mention(9, 14, "Bayer", "ORG", BAYER.id))), "ha")
    store.add_extraction(extraction("doc-b", "b", (Triple(ASPIRIN.id, "TREATS", HEADACHE.id, 0.7, (prov("doc-b"),)),
                                                   Triple(IBU.id, "TREATS", FEVER.id, 0.7, (prov("doc-b", 30),))),
                                    (ASPIRIN, HEADACHE, IBU, FEVER),
                                    (Mention(0, 9, "Ibuprofen", "DRUG", IBU.id),)), "hb")
    assert store.remove_document("doc-a") == 1  # MANUFACTURES went; TREATS is still supported by doc-b
    assert fact_set(store) == {(ASPIRIN.id, "TREATS", HEADACHE.id), (IBU.id, "TREATS", FEVER.id)}
    (treats,) = [t for t in store.triples() if t.head_id == ASPIRIN.id]
    assert [p.doc_id for p in treats.provenance] == ["doc-b"]
    assert store.entity(BAYER.id) is not None  # pinned
    assert store.entity(ASPIRIN.id) is not None  # still in a fact
    assert store.remove_document("doc-b") == 2
    assert fact_set(store) == set()
    assert store.entity(IBU.id) is None  # extracted, unpinned, no longer mentioned or related
    assert store.entity(BAYER.id) is not None
    assert store.document_ids() == []
    with pytest.raises(KGError):
        store.remove_document("doc-b")


def seed_prov(line: int, source: str = "seed:s") -> Provenance:
    return Provenance(source, line, line, f"line {line}", "seed")


def test_store_replace_source_drops_the_facts_a_seed_no_longer_has(store):
    store.add([Triple(ASPIRIN.id, "TREATS", HEADACHE.id, 1.0, (seed_prov(1),)),
               Triple(IBU.id, "TREATS", FEVER.id, 1.0, (seed_prov(2),)),
               Triple(IBU.id, "TREATS", HEADACHE.id, 1.0, (seed_prov(1, "seed:other"),))],
              [ASPIRIN, HEADACHE, IBU, FEVER])
    store.add_extraction(extraction("doc-a", "a", (Triple(ASPIRIN.id, "TREATS", HEADACHE.id, 0.9, (prov("doc-a"),)),),
                                    (ASPIRIN, HEADACHE), (Mention(0, 7, "Aspirin", "DRUG", ASPIRIN.id),)), "ha")
    # The seed's new text: line 1 is now Bayer's fact, the other two lines are gone.
    gone = store.replace_source("seed:s", [Triple(BAYER.id, "MANUFACTURES", ASPIRIN.id, 1.0, (seed_prov(1),))],
                                [BAYER])
    assert gone == SourceChange(1)  # ibuprofen TREATS fever had no other source; aspirin TREATS headache keeps doc-a's
    assert fact_set(store) == {(ASPIRIN.id, "TREATS", HEADACHE.id), (IBU.id, "TREATS", HEADACHE.id),
                               (BAYER.id, "MANUFACTURES", ASPIRIN.id)}
    sources = {t.key: {(p.doc_id, p.start) for p in t.provenance} for t in store.triples()}
    assert sources[(ASPIRIN.id, "TREATS", HEADACHE.id)] == {("doc-a", 0)}
    assert sources[(IBU.id, "TREATS", HEADACHE.id)] == {("seed:other", 1)}  # another seed is not touched
    assert sources[(BAYER.id, "MANUFACTURES", ASPIRIN.id)] == {("seed:s", 1)}
    assert store.entity(BAYER.id) is not None and store.entity(FEVER.id) is not None  # seeded entities stay
    assert store.document_ids() == ["doc-a"]
    assert store.document_sources() == {"doc-a": "doc-a.txt"}
    assert store.pinned_ids() == {ASPIRIN.id, HEADACHE.id, IBU.id, FEVER.id, BAYER.id}
    assert store.replace_source("seed:s", [], []) == SourceChange(1, (BAYER.id,))  # Bayer and its fact go too
    assert store.replace_source("seed:new", [], []) == SourceChange(0)
    with pytest.raises(KGError):
        store.replace_source("doc-a", [], [])  # a document is removed with remove_document


def test_store_replace_source_takes_the_seeds_name_and_type_and_keeps_the_old_name_findable(store):
    """An edited seed corrects an entity (the seed is the curated source); `add` (documents, imports) keeps the
    first name and type it was given."""
    store.add([], [ASPIRIN, IBU])
    store.add([], [replace(IBU, name="Advil", type="Brand")])
    assert (store.entity(IBU.id).name, store.entity(IBU.id).type) == ("Ibuprofen", "Drug")
    fixed = replace(ASPIRIN, name="Acetylsalicylic acid", type="Chemical", aliases=("aspirin tablet",))
    store.replace_source("seed:s", [], [fixed, replace(IBU, type="Chemical")])
    got = store.entity(ASPIRIN.id)
    assert (got.name, got.type) == ("Acetylsalicylic acid", "Chemical")
    assert {"Aspirin", "ASA", "aspirin tablet"} <= set(got.aliases)  # the old name stays on as an alias
    assert got.external() == {"mesh": "D001241"}
    assert [e.id for e in store.find_entities("aspirin")] == [ASPIRIN.id]  # still found by its old name
    assert [e.id for e in store.find_entities("acetylsalicylic acid")] == [ASPIRIN.id]
    assert (store.entity(IBU.id).name, store.entity(IBU.id).type) == ("Ibuprofen", "Chemical")
    assert ("Acetylsalicylic acid", ASPIRIN.id, "Chemical") in set(store.names())
    assert dict(store.stats().by_type) == {"Chemical": 2}


def test_store_add_with_override_renames_as_a_seed_does_and_its_aliases_are_its_own(store):
    """`add(override=True)` (how `kgnlp migrate` carries a rename) gives the name and type as a seed does, with no
    record of a seed; an alias it gives is its own, so the seed that gave it first no longer takes it back."""
    store.add([], [ASPIRIN])
    store.replace_source("seed:s", [], [replace(IBU, aliases=("brufen",))])
    store.add([], [replace(ASPIRIN, name="Acetylsalicylic acid", type="Chemical", aliases=()),
                   replace(IBU, name="Ibuprofen sodium", aliases=("brufen",))], pinned=False, override=True)
    got = store.entity(ASPIRIN.id)
    assert (got.name, got.type) == ("Acetylsalicylic acid", "Chemical") and "Aspirin" in got.aliases
    assert [e.id for e in store.find_entities("aspirin")] == [ASPIRIN.id]  # still found by its old name
    assert store.pinned_ids(seeds=False) == {ASPIRIN.id}  # pinned only grows, and stays
    assert [(s, e) for s, e, _ in store.seedings()] == [("seed:s", IBU.id)]
    assert store.entity(IBU.id).name == "Ibuprofen sodium"
    assert store.replace_source("seed:s", [], [IBU]) == SourceChange(0)  # the alias `add` gave too stays
    assert {"brufen", "Ibuprofen sodium"} <= set(store.entity(IBU.id).aliases)


MIGRAINE = Entity("disease:migraine", "Migraine", "Disease", ("hemicrania",))


def test_store_replace_source_removes_the_entities_and_aliases_only_the_seed_gave(store):
    """An edited seed takes back what it alone brought: entities it no longer lists that nothing else holds (no
    mention, no fact, no other seed or import) go, and so do aliases only it gave."""
    store.add([], [replace(BAYER, aliases=("Bayer Pharma",))])  # an import: pinned, its alias its own
    store.replace_source("seed:s", [Triple(ASPIRIN.id, "TREATS", MIGRAINE.id, 1.0, (seed_prov(1),))], [
        ASPIRIN, HEADACHE, IBU, MIGRAINE, replace(FEVER, aliases=("pyrexia",)),
        replace(BAYER, aliases=("Bayer Pharma", "Bayer"))])
    store.replace_source("seed:other", [], [replace(FEVER, aliases=("pyrexia",))])
    store.add_extraction(extraction("doc-a", "a", (Triple(ASPIRIN.id, "TREATS", HEADACHE.id, 0.9, (prov("doc-a"),)),),
                                    ()), "ha")
    store.add_extraction(extraction("doc-b", "b", (), (IBU,), (Mention(0, 9, "Ibuprofen", "DRUG", IBU.id),)), "hb")
    assert {"Bayer", "Bayer Pharma"} <= set(store.entity(BAYER.id).aliases)
    # The edited seed lists aspirin alone, with one alias fewer and one more.
    change = store.replace_source("seed:s", [], [replace(ASPIRIN, aliases=("acetylsalicylic acid", "aspirin tablet"))])
    assert change == SourceChange(1, (MIGRAINE.id,), ((HEADACHE.id, "cephalalgia"), (ASPIRIN.id, "ASA"),
                                                      (BAYER.id, "Bayer")))  # what went is reported
    assert store.entity(MIGRAINE.id) is None  # the seed alone brought it (its fact went with the seed's line)
    assert store.find_entities("hemicrania") == [] and store.find_entities("migraine") == []
    assert set(store.entity(ASPIRIN.id).aliases) == {"acetylsalicylic acid", "aspirin tablet"}  # "ASA" went
    assert store.find_entities("asa") == []
    assert store.entity(HEADACHE.id) is not None  # a document's fact relates it
    assert store.entity(IBU.id) is not None  # a document mentions it
    assert set(store.entity(FEVER.id).aliases) == {"pyrexia"}  # another seed lists it, with that alias
    assert store.entity(BAYER.id).aliases == ("Bayer Pharma",)  # the import's alias stays, the seed's went
    assert store.find_entities("bayer pharma")[0].id == BAYER.id and [e.id for e in store.find_entities("bayer")] \
        == [BAYER.id]
    assert store.pinned_ids() == {ASPIRIN.id, FEVER.id, BAYER.id}  # IBU and HEADACHE now stay while documents hold them
    store.remove_document("doc-b")
    assert store.entity(IBU.id) is None  # nothing holds it any more
    assert store.replace_source("seed:other", [], []) == SourceChange(0, (FEVER.id,))
    assert store.entity(FEVER.id) is None
    assert {e.id for e in store.entities()} == {ASPIRIN.id, HEADACHE.id, BAYER.id}


def test_store_an_alias_a_seed_takes_back_that_is_also_the_name_leaves_the_entity_findable_by_it(store):
    """A seed that gave an entity its own name as an alias takes the alias back; the name stays, and so does
    finding the entity by it."""
    store.add([], [FEVER])  # imported: it stays when the seed drops it
    store.replace_source("seed:s", [], [replace(FEVER, aliases=("Fever",))])
    assert store.replace_source("seed:s", [], []) == SourceChange(0, (), ((FEVER.id, "Fever"),))
    assert store.entity(FEVER.id).name == "Fever"
    assert [e.id for e in store.find_entities("fever")] == [FEVER.id]


def _seed_edit_with_shared_keys(store: GraphStore) -> None:
    """A seed renames aspirin and takes back three aliases: "Asa" (a kept alias, "ASA", has its key), "acetylsalicylic
    acid" (a new alias folds to its key) and "Aspro" (no other name has its key): only "aspro" stops finding it."""
    store.replace_source("seed:s", [], [HEADACHE, FEVER, replace(
        ASPIRIN, aliases=("ASA", "Asa", "acetylsalicylic acid", "Aspro"), external_ids=())])
    change = store.replace_source("seed:s", [], [HEADACHE, FEVER, replace(
        ASPIRIN, name="Aspirin tablet", aliases=("ASA", "acétylsalicylic acid"), external_ids=())])
    assert change == SourceChange(0, (), ((ASPIRIN.id, "Asa"), (ASPIRIN.id, "Aspro"),
                                          (ASPIRIN.id, "acetylsalicylic acid")))
    got = store.entity(ASPIRIN.id)
    assert (got.name, got.aliases) == ("Aspirin tablet", ("ASA", "Aspirin", "acétylsalicylic acid"))
    for name in ("asa", "Acetylsalicylic acid", "aspirin", "aspirin tablet"):
        assert [e.id for e in store.find_entities(name)] == [ASPIRIN.id], name
    assert store.find_entities("aspro") == []


def test_store_an_alias_a_seed_takes_back_takes_only_the_lookup_keys_no_other_name_gives(store):
    _seed_edit_with_shared_keys(store)


def test_store_a_neo4j_seed_edit_too_big_for_one_transaction_takes_back_the_same_keys(make_store):
    _seed_edit_with_shared_keys(make_store("neo4j", batch_size=2))  # three entities: written in batches


def confidence(store: GraphStore, key: tuple[str, str, str]) -> float:
    (fact,) = [t for t in store.triples() if t.key == key]
    return round(fact.confidence, 6)


def test_store_confidence_is_recomputed_from_the_remaining_sources(store):
    """A fact's confidence is the best of its sources: when the best one goes, the next best counts."""
    treats, makes = (ASPIRIN.id, "TREATS", HEADACHE.id), (BAYER.id, "MANUFACTURES", ASPIRIN.id)
    same = prov("doc-a", 0, "Bayer's aspirin treats headache.")  # one sentence, two facts, two confidences
    store.add_extraction(extraction("doc-a", "a", (Triple(*treats, 0.6, (same,)), Triple(*makes, 0.95, (same,))),
                                    (ASPIRIN, HEADACHE, BAYER)), "ha")
    store.add_extraction(extraction("doc-b", "b", (Triple(*treats, 0.9, (prov("doc-b"),)),
                                                   Triple(*makes, 0.7, (prov("doc-b"),))), ()), "hb")
    store.replace_source("seed:s", [Triple(*treats, 1.0, (seed_prov(1),))], [])
    assert confidence(store, treats) == 1.0 and confidence(store, makes) == 0.95
    store.replace_source("seed:s", [], [])  # the seed no longer has the line
    assert confidence(store, treats) == 0.9
    store.add_extraction(extraction("doc-b", "b2", (Triple(*treats, 0.7, (prov("doc-b"),)),), ()), "hb2")  # edited
    assert confidence(store, treats) == 0.7
    store.remove_document("doc-b")
    assert confidence(store, treats) == 0.6 and confidence(store, makes) == 0.95
    store.bulk_load([treats], source="hetionet")
    assert confidence(store, treats) == 1.0
    assert store.replace_source("hetionet", []) == SourceChange(0)  # the import's source goes; doc-a still has it
    assert confidence(store, treats) == 0.6
    assert [p.doc_id for p in store.neighbours(HEADACHE.id)[0].provenance] == ["doc-a"]


def test_store_an_import_source_added_below_one_keeps_its_own_confidence(store):
    """An import-style source (``import:<file>``, no span) added through ``add`` with a confidence below 1.0 (an RDF
    file's kg:confidence) counts as that, not as a bulk import's 1.0; a bulk load of the same source raises it."""
    treats = (ASPIRIN.id, "TREATS", HEADACHE.id)
    imported = Provenance("import:g.ttl", 0, 0, "", "import")
    store.add([Triple(*treats, 0.6, (imported,))], [ASPIRIN, HEADACHE])
    store.add_extraction(extraction("doc-a", "a", (Triple(*treats, 0.9, (prov("doc-a"),)),), ()), "ha")
    assert confidence(store, treats) == 0.9
    store.remove_document("doc-a")
    assert confidence(store, treats) == 0.6
    (fact,) = store.triples()
    assert [(p.doc_id, p.confidence) for p in fact.provenance] == [("import:g.ttl", 0.6)]
    store.bulk_load([treats], source="import:g.ttl")  # the same source, now sure of it
    (fact,) = store.triples()
    assert fact.confidence == 1.0 and [(p.doc_id, p.confidence) for p in fact.provenance] == [("import:g.ttl", 1.0)]
    store.add_extraction(extraction("doc-b", "b", (Triple(*treats, 0.8, (prov("doc-b"),)),), ()), "hb")
    store.remove_document("doc-b")
    assert confidence(store, treats) == 1.0
    assert store.replace_source("import:g.ttl", []) == SourceChange(1)
    assert list(store.triples()) == []


def test_store_bulk_load_counts_new_facts_and_is_idempotent(store):
    rows = [(ASPIRIN.id, "TREATS", HEADACHE.id), (IBU.id, "TREATS", FEVER.id), (IBU.id, "TREATS", FEVER.id)]
    assert store.bulk_load(rows, [ASPIRIN, HEADACHE, IBU, FEVER], source="hetionet", batch=2) == 2
    assert store.bulk_load(rows, [ASPIRIN], source="hetionet", batch=2) == 0
    facts = list(store.triples())
    assert len(facts) == 2
    assert all(t.provenance == (Provenance("hetionet", 0, 0, "", "import"),) for t in facts)
    assert store.stats().entities == 4


def test_store_bulk_load_reports_each_stored_batch_and_an_interrupted_load_completes_on_rerun(store):
    """What an import interrupted with Ctrl-C says and keeps: ``stored(read, new)`` after each batch; the batches
    stored stay, and loading again adds the rest, nothing twice."""
    rows = [(ASPIRIN.id, "TREATS", HEADACHE.id), (IBU.id, "TREATS", FEVER.id), (IBU.id, "TREATS", HEADACHE.id)]
    calls: list[tuple[int, int]] = []

    def interrupt(read: int, new: int) -> None:
        calls.append((read, new))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.bulk_load(rows, [ASPIRIN, HEADACHE, IBU, FEVER], source="hetionet", batch=2, stored=interrupt)
    assert calls == [(2, 2)] and fact_set(store) == set(rows[:2])
    calls.clear()
    assert store.bulk_load(rows, [], source="hetionet", batch=2, stored=lambda *c: calls.append(c)) == 1
    assert calls == [(2, 0), (3, 1)] and fact_set(store) == set(rows)
    assert all(len(t.provenance) == 1 for t in store.triples())


def test_store_bulk_load_replaces_changed_external_ids_and_keeps_an_alias_a_seed_also_gave(store):
    """A bulk load's entities are written as `add` writes them: a changed external id replaces the stored one, and
    an alias a seed gave first is now the import's too, so the seed no longer takes it back."""
    store.replace_source("seed:s", [], [replace(IBU, aliases=("brufen",))])
    store.add([], [ASPIRIN])
    store.bulk_load([(ASPIRIN.id, "TREATS", HEADACHE.id)], [
        replace(ASPIRIN, external_ids=(("mesh", "D999999"),)), replace(IBU, aliases=("brufen",))], source="hetionet")
    assert store.entity(ASPIRIN.id).external() == {"mesh": "D999999"}
    assert [(s, e, a) for s, e, a in store.seedings()] == [("seed:s", IBU.id, ())]
    assert store.replace_source("seed:s", [], [IBU]) == SourceChange(0)  # the alias the import gave too stays
    assert store.entity(IBU.id).aliases == ("brufen",)
    assert [e.id for e in store.find_entities("brufen")] == [IBU.id]


def test_store_stats_and_names(store):
    seed(store)
    st = store.stats()
    assert (st.entities, st.relations, st.documents) == (5, 3, 0)
    assert dict(st.by_relation) == {"TREATS": 2, "MANUFACTURES": 1}
    assert dict(st.by_type) == {"Drug": 2, "Disease": 2, "Company": 1}
    assert list(st.by_type) == [("Disease", 2), ("Drug", 2), ("Company", 1)]  # most first, ties by name
    store.add([Triple(BAYER.id, "ACQUIRED", IBU.id, 0.5, (prov("d4"),))])
    assert list(store.stats().by_relation) == [("TREATS", 2), ("ACQUIRED", 1), ("MANUFACTURES", 1)]
    names = set(store.names())
    assert ("ASA", ASPIRIN.id, "Drug") in names and ("Bayer AG", BAYER.id, "Company") in names
    assert [e.id for e in store.entities()] == sorted(e.id for e in (ASPIRIN, HEADACHE, BAYER, IBU, FEVER))


def test_store_stats_orders_relations_by_count_then_name_whatever_their_characters(store):
    """Ties by the name itself, not by how a backend encodes it (RDF percent-encodes "Ü" in the relation IRI)."""
    store.add([Triple("x:a", "ÜBER", "x:b"), Triple("x:a", "HAS_PART", "x:b"), Triple("x:b", "ÜBER", "x:c"),
               Triple("x:b", "HAS_PART", "x:c"), Triple("x:a", "ABOUT", "x:c")])
    assert list(store.stats().by_relation) == [("HAS_PART", 2), ("ÜBER", 2), ("ABOUT", 1)]


def test_store_facts_with_unknown_endpoints_are_kept(store):
    store.add([Triple("x:a", "RELATED_TO", "x:b")])
    assert fact_set(store) == {("x:a", "RELATED_TO", "x:b")}
    assert store.entity("x:a") is None
    assert [t.key for t in store.neighbours("x:a")] == [("x:a", "RELATED_TO", "x:b")]


READ_QUERIES = {
    "embedded": "SELECT count(*) AS n FROM entities",
    "rdf": "SELECT (COUNT(?e) AS ?n) WHERE { ?e a kg:Entity }",
    "neo4j": "MATCH (e) WHERE e.id = 'drug:aspirin' RETURN count(e) AS n",
}
WRITE_QUERIES = {
    "embedded": "DELETE FROM entities",
    "rdf": "DELETE WHERE { ?s ?p ?o }",
    "neo4j": "MATCH (e) WHERE e.id = 'drug:aspirin' DETACH DELETE e",
}


def test_store_query_reads_and_refuses_writes_without_write(store):
    seed(store)
    res = store.query(READ_QUERIES[store.name])
    assert res.columns == ("n",)
    assert res.rows[0][0] >= 1
    with pytest.raises(KGError, match="--write"):
        store.query(WRITE_QUERIES[store.name])
    assert store.entity(ASPIRIN.id) is not None
