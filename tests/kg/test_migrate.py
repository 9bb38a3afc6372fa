"""Copying a graph between backends keeps documents, mentions, entities, facts and provenance; reruns add nothing."""
from __future__ import annotations

import pytest

from kg.migrate import migrate
from kg.records import Document, Entity, Extraction, Mention, Provenance, Triple


def fill(store) -> None:
    store.bulk_load([("g:1", "ASSOCIATES", "d:1"), ("g:2", "ASSOCIATES", "d:1")],
                    [Entity("g:1", "BRCA1", "Gene"), Entity("g:2", "TP53", "Gene"), Entity("d:1", "Cancer", "Disease")],
                    source="hetionet")
    store.add_extraction(Extraction(
        Document("doc1", "BRCA1 is associated with cancer.", "doc1.txt"),
        (Mention(0, 5, "BRCA1", "GENE", "g:1"), Mention(25, 31, "cancer", "DISEASE", "d:1")),
        (Triple("g:1", "ASSOCIATES", "d:1", 0.8, (Provenance("doc1", 0, 32, "BRCA1 is associated with cancer.",
                                                             "pattern"),)),),
        (Entity("g:1", "BRCA1", "Gene"),)), "sha-doc1")


def snapshot(store):
    return ({t.key: (t.confidence, t.provenance) for t in store.triples()},
            {e.id: e for e in store.entities()}, list(store.extractions()))


@pytest.mark.parametrize("source,target", [("embedded", "rdf"), ("embedded", "neo4j"), ("rdf", "embedded"),
                                           ("neo4j", "rdf")])
def test_migrate_copies_everything_and_is_idempotent(make_store, source, target):
    src, dst = make_store(source), make_store(target)
    fill(src)
    report = migrate(src, dst, batch=1)
    assert (report.documents, report.entities, report.facts) == (1, 3, 2)
    assert snapshot(dst) == snapshot(src)
    migrate(src, dst, batch=2)
    assert snapshot(dst) == snapshot(src)
    assert dst.has_document("doc1", "sha-doc1")
    assert dst.stats().relations == 2


@pytest.mark.parametrize("source,target", [("embedded", "rdf"), ("embedded", "neo4j"), ("rdf", "embedded")])
def test_a_rerun_after_the_source_changed_removes_what_it_no_longer_has(make_store, source, target):
    src, dst = make_store(source), make_store(target)
    fill(src)
    seed = Provenance("seed:s", 2, 2, "g:2\tTREATS\td:1", "seed")
    src.add([Triple("g:2", "TREATS", "d:1", 1.0, (seed,))])
    migrate(src, dst)
    assert dst.stats().relations == 3
    src.remove_document("doc1")  # its fact stays: hetionet supports it too
    src.replace_source("seed:s", [])
    report = migrate(src, dst)
    assert report.removed == ("doc1", "seed:s") and report.extra_facts == 0
    assert snapshot(dst) == snapshot(src)
    assert dst.document_ids() == []


@pytest.mark.parametrize("source,target", [("embedded", "rdf"), ("rdf", "embedded"), ("embedded", "neo4j")])
def test_an_extracted_entity_stays_unpinned_so_removing_its_document_removes_it_on_the_target_too(
        make_store, source, target):
    src, dst = make_store(source), make_store(target)
    fill(src)
    src.add_extraction(Extraction(Document("doc2", "Zorbaxin is new.", "doc2.txt"),
                                  (Mention(0, 8, "Zorbaxin", "DRUG", "c:zorbaxin"),), (),
                                  (Entity("c:zorbaxin", "Zorbaxin", "Drug"),)), "sha-doc2")
    report = migrate(src, dst)
    assert report.entities == 4 and dst.pinned_ids() == src.pinned_ids() == {"g:1", "g:2", "d:1"}
    for store in (src, dst):
        store.remove_document("doc2")
        assert store.entity("c:zorbaxin") is None


@pytest.mark.parametrize("source,target", [("embedded", "rdf"), ("rdf", "embedded"), ("embedded", "neo4j")])
def test_a_rerun_after_a_seed_renamed_an_entity_gives_the_target_its_new_name_and_type(make_store, source, target):
    src, dst = make_store(source), make_store(target)
    fill(src)
    migrate(src, dst)
    src.replace_source("seed:s", [], [Entity("g:2", "TP53 gene", "Protein")])  # an edited seed renames g:2
    migrate(src, dst)
    assert snapshot(dst) == snapshot(src)
    assert (dst.entity("g:2").name, dst.entity("g:2").type) == ("TP53 gene", "Protein")
    assert dst.stats().relations == 2 and dst.pinned_ids() == src.pinned_ids()


@pytest.mark.parametrize("source,target", [("embedded", "rdf"), ("neo4j", "embedded")])
def test_an_empty_source_is_refused_rather_than_emptying_the_target(make_store, source, target):
    """An empty source (a mistyped server, the wrong --from) would remove every document from the target."""
    from kg.errors import KGError

    src, dst = make_store(source), make_store(target)
    fill(dst)
    before = snapshot(dst)
    with pytest.raises(KGError, match="source graph is empty.*1 document"):
        migrate(src, dst)
    assert snapshot(dst) == before
    empty = make_store(target)
    assert migrate(src, empty).documents == 0  # empty to empty is no loss


@pytest.mark.parametrize("source,target", [("embedded", "rdf"), ("rdf", "neo4j"), ("neo4j", "embedded")])
def test_the_copy_keeps_each_sources_confidence(make_store, source, target):
    """Removing the best source on the target leaves the next best confidence, as it would on the source."""
    src, dst = make_store(source), make_store(target)
    for doc, conf in (("doc-a", 0.6), ("doc-b", 0.9)):
        src.add_extraction(Extraction(Document(doc, "BRCA1 and cancer.", f"{doc}.txt"), (), (
            Triple("g:1", "ASSOCIATES", "d:1", conf, (Provenance(doc, 0, 17, "BRCA1 and cancer.", "pattern"),)),)),
            f"sha-{doc}")
    migrate(src, dst)
    for store in (src, dst):
        store.remove_document("doc-b")
        assert [round(t.confidence, 6) for t in store.triples()] == [0.6]


@pytest.mark.parametrize("source,target", [("embedded", "rdf"), ("rdf", "neo4j"), ("neo4j", "embedded")])
def test_the_copy_keeps_what_each_seed_gave_so_an_edited_seed_takes_it_back_there_too(make_store, source, target):
    src, dst = make_store(source), make_store(target)
    a, b = Entity("g:1", "BRCA1", "Gene", ("RNF53",)), Entity("g:2", "TP53", "Gene", ("p53",))
    src.add([], [Entity("d:1", "Cancer", "Disease", ("neoplasm",))])  # imported: it stays
    src.replace_source("seed:s", [Triple("g:1", "ASSOCIATES", "d:1", 1.0, (Provenance("seed:s", 1, 1, "x", "seed"),))],
                       [a, b, Entity("d:1", "Cancer", "Disease", ("tumour", "neoplasm"))])
    migrate(src, dst)
    assert list(dst.seedings()) == list(src.seedings()) and dst.pinned_ids(seeds=False) == {"d:1"}
    for store in (src, dst):
        store.replace_source("seed:s", [], [Entity("g:1", "BRCA1", "Gene")])
    assert snapshot(dst) == snapshot(src)
    assert {e.id: e.aliases for e in dst.entities()} == {"g:1": (), "d:1": ("neoplasm",)}
    migrate(src, dst)
    assert snapshot(dst) == snapshot(src) and list(dst.seedings()) == list(src.seedings())
