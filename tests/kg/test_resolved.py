"""Entity merges applied to reading: the merge log's view of a store (kg.resolved), and through the CLI."""
from __future__ import annotations

import json

from kg.merges import MergeLog, merge_count
from kg.records import Entity, Provenance, Triple
from kg.resolved import ResolvedStore, resolved
from kg.stores.sqlite import SQLiteStore
from tests.conftest import kgnlp, kgnlp_json, seeded_workspace, write_seed

ENTITIES = [Entity("dis:t2d", "type 2 diabetes", "Disease", ("T2D",)),
            Entity("dis:t2d-2", "type II diabetes", "Disease", (), (("MeSH", "D003924"),)),
            Entity("chem:met", "metformin", "Chemical"), Entity("chem:sema", "semaglutide", "Chemical"),
            Entity("dis:ob", "obesity", "Disease")]


def _fact(h, r, t, doc, conf=0.9):
    return Triple(h, r, t, conf, (Provenance(doc, 0, 5, f"sentence of {doc}", "patterns"),))


def _store(tmp_path):
    store = SQLiteStore.open(tmp_path / "graph.db")
    store.add([_fact("chem:met", "TREATS", "dis:t2d", "a", 0.8), _fact("chem:met", "TREATS", "dis:t2d-2", "b"),
               _fact("chem:sema", "TREATS", "dis:t2d-2", "c"), _fact("dis:t2d-2", "ASSOCIATED_WITH", "dis:t2d", "d"),
               _fact("chem:sema", "TREATS", "dis:ob", "e")], ENTITIES)
    with MergeLog.open(tmp_path / "merges.db") as log:
        log.record("dis:t2d", "dis:t2d-2", "test", "same disease", 0.95)
    return store


def test_a_merged_entity_is_its_canonical_one_for_every_reader(tmp_path):
    view = resolved(_store(tmp_path), tmp_path)
    assert isinstance(view, ResolvedStore)
    ent = view.entity("dis:t2d-2")
    assert (ent.id, ent.name) == ("dis:t2d", "type 2 diabetes")
    assert set(ent.aliases) == {"T2D", "type II diabetes"} and ent.external_ids == (("MeSH", "D003924"),)
    assert [e.id for e in view.find_entities("type II diabetes")] == ["dis:t2d"]
    assert sorted(e.id for e in view.entities()) == ["chem:met", "chem:sema", "dis:ob", "dis:t2d"]
    facts = {(t.head_id, t.relation, t.tail_id): t for t in view.triples()}
    assert set(facts) == {("chem:met", "TREATS", "dis:t2d"), ("chem:sema", "TREATS", "dis:t2d"),
                          ("chem:sema", "TREATS", "dis:ob")}  # the fact between the two merged ones is gone
    both = facts[("chem:met", "TREATS", "dis:t2d")]
    assert {p.doc_id for p in both.provenance} == {"a", "b"} and both.confidence == 0.9
    assert {(t.head_id, t.tail_id) for t in view.neighbours("dis:t2d-2")} == {("chem:met", "dis:t2d"),
                                                                              ("chem:sema", "dis:t2d")}
    ends = lambda facts: {e for t in facts for e in (t.head_id, t.tail_id)}  # noqa: E731
    assert ends(view.neighbours("chem:met", hops=2)) == {"chem:met", "dis:t2d", "chem:sema"}
    assert ends(view.neighbours("chem:met", hops=3)) == {"chem:met", "dis:t2d", "chem:sema", "dis:ob"}
    assert [(t.head_id, t.tail_id) for t in view.path("chem:met", "dis:ob")] == [
        ("chem:met", "dis:t2d"), ("chem:sema", "dis:t2d"), ("chem:sema", "dis:ob")]
    assert [(t.head_id, t.tail_id) for t in view.path("dis:t2d-2", "chem:met")] == [("chem:met", "dis:t2d")]
    stats = view.stats()
    assert (stats.entities, stats.relations) == (4, 3)
    assert dict(stats.by_relation) == {"TREATS": 3} and dict(stats.by_type) == {"Chemical": 2, "Disease": 2}


def test_no_merge_log_or_an_undone_merge_leaves_the_store_as_it_is(tmp_path):
    store = _store(tmp_path)
    assert resolved(store, tmp_path / "elsewhere") is store
    with MergeLog.open(tmp_path / "merges.db") as log:
        log.undo(log.merges()[0].id)
    assert resolved(store, tmp_path) is store
    assert len(list(store.triples())) == 5  # the stored graph was never rewritten


def test_resolve_then_query_export_stats_and_unmerge_through_the_cli(tmp_path):
    ws = seeded_workspace(tmp_path, [
        {"id": "org:acme", "name": "Acme Robotics", "type": "Organization"},
        {"id": "org:acme-inc", "name": "Acme Robotics Inc.", "type": "Organization"},
        {"id": "loc:oslo", "name": "Oslo", "type": "Location"},
        {"id": "per:ada", "name": "Ada Quint", "type": "Person"}],
        "org:acme\tHEADQUARTERED_IN\tloc:oslo\nper:ada\tCEO_OF\torg:acme-inc\n")
    assert kgnlp_json("stats", "-w", ws)["entities"] == 4
    assert kgnlp_json("entities", "merges", "-w", ws) == {"merges": []}
    proc = kgnlp("entities", "unmerge", "1", "-w", ws)
    assert proc.returncode == 1 and "No merge with id 1" in proc.stderr
    assert not (tmp_path / "ws" / "merges.db").exists()  # listing merges, or a refused undo, writes nothing
    merges = kgnlp_json("entities", "resolve", "-w", ws)["merges"]
    assert [(m["merged_id"], m["canonical_id"]) for m in merges] in ([("org:acme-inc", "org:acme")],
                                                                     [("org:acme", "org:acme-inc")])
    keep = merges[0]["canonical_id"]
    facts = kgnlp_json("query", "entity", "Acme Robotics Inc.", "-w", ws)["facts"]
    assert {(f["head_id"], f["relation"], f["tail_id"]) for f in facts} == {
        (keep, "HEADQUARTERED_IN", "loc:oslo"), ("per:ada", "CEO_OF", keep)}
    assert kgnlp_json("stats", "-w", ws)["entities"] == 3
    gone = {"org:acme": "Acme Robotics", "org:acme-inc": "Acme Robotics Inc."}[merges[0]["merged_id"]]
    rows = [line.split("\t") for line in kgnlp("export", "--format", "tsv", "-w", ws, check=True).stdout.splitlines()]
    assert len(rows) == 2 and not any(gone in row[:3] for row in rows), rows
    count = kgnlp_json("query", "sparql", "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a kg:Entity }", "-w", ws)
    assert count["rows"] == [[3]]  # SPARQL over the embedded store reads the merged graph too
    hits = kgnlp_json("retrieve", "Acme Robotics", "--kind", "entities", "-k", "2", "-w", ws)["hits"]
    assert [h["entity_ids"] for h in hits] == [[keep], [keep]]  # both names, one entity
    answer = kgnlp_json("ask", "Who is the CEO of Acme Robotics?", "-w", ws)
    assert "Ada Quint" in json.dumps(answer)
    kgnlp("entities", "unmerge", str(merges[0]["id"]), "-w", ws, check=True)
    assert kgnlp_json("stats", "-w", ws)["entities"] == 4
    facts = kgnlp_json("query", "entity", "Ada Quint", "-w", ws)["facts"]
    assert {f["tail_id"] for f in facts} == {"org:acme-inc"}


def test_retrieve_never_returns_facts_of_another_backend(tmp_path):
    from tests.conftest import DATA

    ws = str(tmp_path / "ws")
    kgnlp("ingest", str(DATA / "documents" / "medical" / "med01_metformin.txt"), "--seed", str(DATA / "seed"),
          "-w", ws, check=True)
    kgnlp("migrate", "--to", "rdf", "-w", ws, check=True)
    # a fact only the rdf store has, its counts unchanged (no evidence node): only the backend tells them apart
    kgnlp("query", "sparql", "INSERT DATA { kge:zorb kgr:TREATS kge:blix }", "--store", "rdf", "--write", "-w", ws,
          check=True)
    kgnlp("index", "--kind", "facts", "--store", "rdf", "-w", ws, check=True)
    rdf_hits = kgnlp_json("retrieve", "zorb treats blix", "--kind", "facts", "-k", "50", "--store", "rdf",
                          "-w", ws)["hits"]
    assert any(h["entity_ids"] == ["zorb", "blix"] for h in rdf_hits), rdf_hits
    hits = kgnlp_json("retrieve", "zorb treats blix", "--kind", "facts", "-k", "50", "-w", ws)["hits"]
    assert hits and not any("zorb" in h["entity_ids"] for h in hits), hits


def test_resolve_runs_on_the_rdf_store_too(tmp_path):
    seed = write_seed(tmp_path / "seed", [{"id": "org:a", "name": "Acme Robotics", "type": "Organization"},
                                          {"id": "org:b", "name": "Acme Robotics Inc.", "type": "Organization"}])
    (tmp_path / "doc.txt").write_text("Nothing to see.", encoding="utf-8")
    ws = str(tmp_path / "ws")
    kgnlp("ingest", str(tmp_path / "doc.txt"), "--seed", str(seed), "--store", "rdf", "-w", ws, check=True)
    merges = kgnlp_json("entities", "resolve", "--store", "rdf", "-w", ws)["merges"]
    assert len(merges) == 1
    assert kgnlp_json("stats", "--store", "rdf", "-w", ws)["entities"] == 1


def test_a_merge_whose_canonical_entity_is_gone_leaves_the_merged_one_visible(tmp_path):
    """The canonical entity's only document removed: the entity merged into it (still stored, with its fact) goes
    by its own id again rather than vanishing behind an id that names nothing; it comes back if the other does."""
    from kg.records import Document, Extraction, Mention

    store = SQLiteStore.open(tmp_path / "graph.db")
    group = Entity("org:foo-group", "Foo Holdings Group", "Organization")
    store.add_extraction(Extraction(Document("a", "Foo Holdings Group rose.", "a.txt"),
                                    (Mention(0, 18, "Foo Holdings Group", "ORG", group.id),), (), (group,)), "ha")
    imported = (Provenance("import:f.csv", 0, 0, "", "import"),)
    store.add([Triple("org:foo", "HEADQUARTERED_IN", "loc:paris", 1.0, imported)],
              [Entity("org:foo", "Foo", "Organization"), Entity("loc:paris", "Paris", "Location")])
    with MergeLog.open(tmp_path / "merges.db") as log:
        log.record(group.id, "org:foo", "test", "same name", 1.0)
    assert [e.id for e in resolved(store, tmp_path).find_entities("Foo")] == [group.id]
    store.remove_document("a")
    view = resolved(store, tmp_path)
    assert [e.id for e in view.find_entities("Foo")] == ["org:foo"]
    assert sorted(e.id for e in view.entities()) == ["loc:paris", "org:foo"] and view.stats().entities == 2
    assert view.stats().by_type == (("Location", 1), ("Organization", 1))  # ties by name, as in every store
    assert [t.head_id for t in view.neighbours("loc:paris")] == ["org:foo"]
    store.add([], [group])
    assert resolved(store, tmp_path).entity("org:foo").id == group.id
    store.close()


def test_undoing_a_merge_id_no_merge_can_have_is_a_clear_error(tmp_path):
    import pytest

    from kg.errors import KGError

    with MergeLog.open(tmp_path / "merges.db") as log:
        for merge_id in (10**20, -10**20, 0):
            with pytest.raises(KGError, match=f"No merge with id {merge_id}"):
                log.undo(merge_id)


def test_merge_count_counts_the_merges_in_effect_and_makes_no_merge_log(tmp_path):
    assert merge_count(tmp_path) == 0 and not (tmp_path / "merges.db").exists()
    with MergeLog.for_workspace(tmp_path) as log:
        log.record("org:a", "org:b", "test", "same", 1.0)
        log.undo(log.record("org:a", "org:c", "test", "same", 1.0).id)
    assert merge_count(tmp_path) == 1  # the undone one does not count
