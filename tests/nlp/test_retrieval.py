"""Retrieval with the real MiniLM embedder: documents in and out change results; drift is caught."""
from __future__ import annotations

import numpy as np
import pytest

from kg.records import Document, Entity, Extraction, Provenance, Triple
from kg.stores.sqlite import SQLiteStore
from kg.workspace import Workspace
from nlp.embedder import Embedder
from nlp.errors import NLPError
from nlp.retrieval import Retriever, build_indexes, indexes_exist, update_indexes

ENTITIES = [
    Entity("chem:metformin", "metformin", "Chemical", ("Glucophage",)),
    Entity("dis:t2d", "type 2 diabetes", "Disease", ("T2D",)),
    Entity("chem:ibuprofen", "ibuprofen", "Chemical"),
    Entity("dis:arthritis", "arthritis", "Disease"),
    Entity("chem:warfarin", "warfarin", "Chemical"),
    Entity("dis:stroke", "stroke", "Disease"),
    Entity("org:acme", "Acme Pharma", "Organization"),
]
DOCS = {
    "met": ("Metformin is the first-line drug for type 2 diabetes. It lowers blood glucose.",
            [("chem:metformin", "TREATS", "dis:t2d")]),
    "ibu": ("Ibuprofen relieves the pain of arthritis. Acme Pharma manufactures ibuprofen.",
            [("chem:ibuprofen", "TREATS", "dis:arthritis"), ("org:acme", "MANUFACTURES", "chem:ibuprofen")]),
}
NEW = ("war", "Warfarin is an anticoagulant given to prevent stroke in atrial fibrillation.",
       [("chem:warfarin", "TREATS", "dis:stroke")])


def add_doc(store, doc_id: str, text: str, facts) -> None:
    triples = tuple(Triple(h, r, t, 1.0, (Provenance(doc_id, 0, len(text), text, "test"),)) for h, r, t in facts)
    store.add_extraction(Extraction(Document(doc_id, text), (), triples), f"hash-{doc_id}")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    emb = Embedder()
    emb.encode(["warm up"])  # load MiniLM once for the module
    return emb


@pytest.fixture()
def ws_store(tmp_path):
    ws = Workspace.open(tmp_path / "ws", create=True)
    store = SQLiteStore.open(ws.graph_path, durable=False)
    store.add([], ENTITIES)
    for doc_id, (text, facts) in DOCS.items():
        add_doc(store, doc_id, text, facts)
    yield ws, store
    store.close()


def test_embedder_gives_unit_vectors_in_order(embedder):
    vecs = embedder.encode(["metformin treats diabetes", "a bank bought another bank"])
    assert vecs.shape == (2, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)
    assert np.allclose(embedder.encode(["metformin treats diabetes"])[0], vecs[0], atol=1e-5)


def test_embedder_refuses_a_folder_that_is_not_a_model(tmp_path):
    with pytest.raises(NLPError, match="not a local Hugging Face model folder"):
        Embedder(tmp_path).encode(["x"])


def test_search_finds_facts_with_provenance(ws_store, embedder):
    ws, store = ws_store
    build_indexes(ws, store, embedder=embedder)
    retriever = Retriever.open(ws, store, embedder, on_drift="error")
    hits = retriever.search("What does metformin treat?", k=2, kind="facts")
    retriever.close()
    assert hits[0].text == "metformin treats type 2 diabetes"
    assert hits[0].doc_ids == ("met",) and hits[0].triple == ("chem:metformin", "TREATS", "dis:t2d")
    assert hits[0].proximity > 0 and hits[0].score >= hits[1].score


def test_adding_and_removing_a_document_changes_results(ws_store, embedder):
    ws, store = ws_store
    update_indexes(ws, store, embedder=embedder)
    query = "blood thinner to prevent a stroke"

    def top_chunk_docs():
        r = Retriever.open(ws, store, embedder, on_drift="error")
        try:
            return [h.doc_ids[0] for h in r.search(query, k=3, kind="chunks")]
        finally:
            r.close()

    assert "war" not in top_chunk_docs()
    add_doc(store, *NEW)
    reports = update_indexes(ws, store, embedder=embedder)
    assert reports["chunks"].added == 1 and not reports["chunks"].rebuilt
    assert reports["facts"].added == 1 and reports["facts"].removed == 0
    assert top_chunk_docs()[0] == "war"
    store.remove_document("war")
    reports = update_indexes(ws, store, embedder=embedder)
    assert reports["chunks"].removed == 1 and reports["facts"].removed == 1
    assert "war" not in top_chunk_docs()


def test_store_change_without_update_is_detected(ws_store, embedder):
    ws, store = ws_store
    build_indexes(ws, store, embedder=embedder)
    add_doc(store, *NEW)
    with pytest.raises(NLPError, match="out of step"):
        Retriever.open(ws, store, embedder, on_drift="error")
    messages: list[str] = []
    retriever = Retriever.open(ws, store, embedder, notify=messages.append)
    assert messages and "graph changed" in messages[0]
    assert retriever.search("warfarin", k=1, kind="entities")[0].entity_ids == ("chem:warfarin",)
    retriever.close()


def test_update_on_drift_opens_each_stale_index_once_and_saves_it(ws_store, embedder, monkeypatch):
    """``on_drift="update"`` brings a stale index in step where it is opened (it was opened three times: to check,
    to update, to read)."""
    from kg.index import SyncedIndex

    ws, store = ws_store
    build_indexes(ws, store, embedder=embedder)
    add_doc(store, *NEW)
    opened: list[str] = []
    real_open = SyncedIndex.open.__func__
    monkeypatch.setattr(SyncedIndex, "open", classmethod(
        lambda cls, folder, kind, read_only=False: opened.append(kind) or real_open(cls, folder, kind, read_only)))
    with Retriever.open(ws, store, embedder, on_drift="update", kinds=("facts", "chunks")) as retriever:
        assert retriever.search("anticoagulant", k=1, kind="facts")[0].triple == NEW[2][0]
    assert sorted(opened) == ["chunks", "facts"]
    monkeypatch.undo()
    with Retriever.open(ws, store, embedder, on_drift="error", kinds=("facts", "chunks")):  # saved in step
        pass


def test_linking_prefers_the_longest_name_and_aliases(ws_store, embedder):
    ws, store = ws_store
    build_indexes(ws, store, embedder=embedder)
    retriever = Retriever.open(ws, store, embedder)
    assert retriever.link("Is Glucophage used for type 2 diabetes?") == ["chem:metformin", "dis:t2d"]
    assert retriever.link("nothing known here") == []
    retriever.close()


def test_graph_proximity_lifts_facts_about_the_linked_entity(ws_store, embedder):
    ws, store = ws_store
    build_indexes(ws, store, embedder=embedder)
    retriever = Retriever.open(ws, store, embedder)
    query = "who makes it?"
    plain = retriever.search(query, k=3, kind="facts", entity_ids=[])
    around = retriever.search(query, k=3, kind="facts", entity_ids=["chem:ibuprofen"])
    retriever.close()
    assert all(h.proximity == 0 for h in plain)
    assert around[0].triple == ("org:acme", "MANUFACTURES", "chem:ibuprofen")
    assert {h.triple for h in around[:2]} == {("org:acme", "MANUFACTURES", "chem:ibuprofen"),
                                              ("chem:ibuprofen", "TREATS", "dis:arthritis")}


def test_indexes_exist_only_after_a_build(ws_store, embedder):
    ws, store = ws_store
    assert not indexes_exist(ws)
    update_indexes(ws, store, embedder=embedder, kinds=["entities"])
    assert indexes_exist(ws)


def test_name_similarity_links_a_variant_to_an_indexed_entity_of_the_same_type(ws_store, embedder):
    from kg.records import Mention
    from nlp.linking import StoreLinker
    from nlp.retrieval import name_similarity

    ws, store = ws_store
    assert name_similarity(ws, embedder=embedder) is None  # no index yet: rules only
    update_indexes(ws, store, embedder=embedder, kinds=["entities"])
    similar = name_similarity(ws, embedder=embedder)
    try:
        hit = similar("metformin hydrochloride", "Chemical")
        assert hit is not None and hit[0] == "chem:metformin" and 0.5 < hit[1] < 1.0
        assert similar("metformin hydrochloride", "Organization") != hit  # the type must agree
        text = "Metformin hydrochloride was given."
        mention = Mention(0, 23, "Metformin hydrochloride", "Chemical")
        near = StoreLinker(store, similar, threshold=hit[1] - 0.01).link(text, [mention])
        assert near.mentions[0].entity_id == "chem:metformin" and near.new_entities == ()
        strict = StoreLinker(store, similar, threshold=hit[1] + 0.01).link(text, [mention])
        assert strict.mentions[0].entity_id != "chem:metformin" and len(strict.new_entities) == 1
    finally:
        similar.close()


def test_name_similarity_prefetch_answers_a_batch_with_one_encode_and_the_same_answers(ws_store, embedder):
    from kg.records import Mention
    from nlp.linking import StoreLinker
    from nlp.retrieval import name_similarity

    ws, store = ws_store
    update_indexes(ws, store, embedder=embedder, kinds=["entities"])
    pairs = [("metformin hydrochloride", "Chemical"), ("type two diabetes", "Disease"), ("aspirin tablets", "Chemical")]
    one = name_similarity(ws, embedder=embedder)
    batched = name_similarity(ws, embedder=embedder)
    calls = []
    real = embedder.encode

    def counting(texts):
        calls.append(len(texts))
        return real(texts)

    try:
        expected = [one(n, t) for n, t in pairs]
        embedder.encode = counting
        batched.prefetch(pairs + pairs[:1])
        assert calls == [3]  # one batch, duplicates once
        got = [batched(n, t) for n, t in pairs]
        assert calls == [3]  # answered from the cache
        # the same entities; cosines agree to float precision (a padded batch is not bit-identical)
        assert [g and g[0] for g in got] == [e and e[0] for e in expected]
        assert all(g is None or abs(g[1] - e[1]) < 1e-5 for g, e in zip(got, expected))
        text = "Metformin hydrochloride and aspirin tablets."
        ms = [Mention(0, 23, "Metformin hydrochloride", "Chemical"), Mention(28, 43, "aspirin tablets", "Chemical")]
        linker = StoreLinker(store, batched, threshold=0.0)
        calls.clear()
        linker.prefetch_docs([(text, ms)])
        assert len(calls) == 1  # the canonical names the rules cannot answer, in one batch
        a = linker.link(text, ms)
        assert len(calls) == 1  # linking found them cached
        b = StoreLinker(store, one, threshold=0.0).link(text, ms)
        assert [x.entity_id for x in a.mentions] == [x.entity_id for x in b.mentions]
    finally:
        embedder.encode = real
        one.close()
        batched.close()


def test_search_within_gives_every_item_read_in_the_text_and_nothing_else(ws_store, embedder):
    import math

    ws, store = ws_store
    build_indexes(ws, store, embedder=embedder)
    retriever = Retriever.open(ws, store, embedder, on_drift="error")
    calls = []
    real = embedder.encode
    embedder.encode = lambda texts: calls.append(len(texts)) or real(texts)
    try:
        passage = "An aside first. " + DOCS["ibu"][0] + " And a last word."
        hits = retriever.search("What does metformin treat?", k=5, kind="facts", within=passage)
        # both ibuprofen facts, though the question is about metformin; never the metformin fact
        assert sorted(h.triple for h in hits) == sorted(DOCS["ibu"][1])
        # no more than k of them: nothing to choose, so the question is not embedded
        assert calls == [] and len(hits) == 2 and all(math.isnan(h.similarity) for h in hits)
        both = DOCS["met"][0] + " Then: " + DOCS["ibu"][0]
        read = retriever.search("What relieves arthritis pain?", k=5, within=both)
        assert len(read) == 3 and read[0].triple == DOCS["met"][1][0]  # in reading order: metformin's first
        assert calls == []
        ranked = retriever.search("What relieves arthritis pain?", k=2, within=both)  # 3 for 2 places: ranked
        assert calls == [1] and len(ranked) == 2 and ranked[0].score >= ranked[1].score
        assert ranked[0].triple == DOCS["ibu"][1][0]
        # part of a provenance sentence is not the sentence; a text holding none gives nothing
        assert retriever.search("ibuprofen", k=5, within=DOCS["ibu"][0][:40]) == []
        assert retriever.search("ibuprofen", k=5, within="Nothing from the graph here.") == []
        # an incremental update writes the new items' sentences too
        add_doc(store, *NEW)
        update_indexes(ws, store, embedder=embedder)
        retriever.close()
        retriever = Retriever.open(ws, store, embedder, on_drift="error")
        assert [h.triple for h in retriever.search("anticoagulant", k=5, within=NEW[1])] == NEW[2]
    finally:
        embedder.encode = real
        retriever.close()


def test_an_index_written_before_item_sentences_gets_them_on_open(ws_store, embedder):
    import sqlite3

    from nlp.index_sync import index_root

    ws, store = ws_store
    build_indexes(ws, store, embedder=embedder)
    db = sqlite3.connect(index_root(ws) / "facts" / "items.sqlite")
    db.execute("DELETE FROM item_sentences")
    db.execute("PRAGMA user_version = 0")  # as an item table of an earlier version
    db.commit()
    db.close()
    with Retriever.open(ws, store, embedder, on_drift="error") as retriever:  # no rebuild, no re-embedding
        hits = retriever.search("pain", k=5, within=DOCS["ibu"][0])
    assert sorted(h.triple for h in hits) == sorted(DOCS["ibu"][1])


def test_prefetch_embeds_queries_in_one_batch_and_search_gives_the_same_hits(ws_store, embedder):
    ws, store = ws_store
    build_indexes(ws, store, embedder=embedder)
    questions = ["What does metformin treat?", "Who makes ibuprofen?", "What relieves arthritis pain?"]
    with Retriever.open(ws, store, embedder, on_drift="error") as retriever:
        expected = [retriever.search(q, k=3) for q in questions]
        retriever.clear()
        calls = []
        real = embedder.encode
        embedder.encode = lambda texts: calls.append(len(texts)) or real(texts)
        try:
            retriever.prefetch(questions + questions[:1])
            got = [retriever.search(q, k=3) for q in questions]
            assert calls == [3]  # one batch, a repeated question once, none at search time
            retriever.clear()
            retriever.search(questions[0], k=3)
            assert calls == [3, 1] and retriever.queries_held == 1  # forgotten after clear()
        finally:
            embedder.encode = real
    assert [[h.id for h in hs] for hs in got] == [[h.id for h in hs] for hs in expected]
    assert all(abs(a.score - b.score) < 1e-5 for g, e in zip(got, expected) for a, b in zip(g, e))


def test_prefetch_with_scopes_embeds_only_the_queries_whose_search_ranks(ws_store, embedder):
    ws, store = ws_store
    build_indexes(ws, store, embedder=embedder)
    questions = ["What does metformin treat?", "What relieves arthritis pain?", "Who makes warfarin?"]
    scopes = [DOCS["ibu"][0], DOCS["met"][0] + " " + DOCS["ibu"][0], None]  # 2 items, 3 items, no scope
    with Retriever.open(ws, store, embedder, on_drift="error") as retriever:
        calls = []
        real = embedder.encode
        embedder.encode = lambda texts: calls.append(list(texts)) or real(texts)
        try:
            retriever.prefetch(questions, within=scopes, k=2)
            assert calls == [questions[1:]]  # the first one's 2 items fit in k: its search ranks nothing
            assert retriever.queries_held == 2
            for q, w in zip(questions, scopes):
                retriever.search(q, k=2, within=w)
            assert len(calls) == 1  # every search found what it needed
            with pytest.raises(NLPError, match="2 scopes"):
                retriever.prefetch(questions, within=scopes[:2], k=2)
        finally:
            embedder.encode = real


def test_open_with_kinds_checks_builds_and_opens_only_those(ws_store, embedder):
    """A fused model reads only facts: opening for it builds the fact index alone and touches no other."""
    ws, store = ws_store
    with pytest.raises(NLPError, match="Unknown index kind 'fact'"):
        Retriever.open(ws, store, embedder, kinds=("fact",))
    with Retriever.open(ws, store, embedder, kinds=("facts",)) as r:
        assert [h.text for h in r.search("what treats arthritis", k=1, kind="facts")]
        with pytest.raises(NLPError, match="without the chunks index"):
            r.search("arthritis", kind="chunks")
    assert sorted(p.name for p in (ws.path / "index").iterdir()) == ["facts"]


def test_indexes_made_under_an_older_name_key_rule_are_brought_up_to_date(ws_store, embedder, monkeypatch):
    from kg import names

    ws, store = ws_store
    store.add([], [Entity("dis:sjogren", "Sjögren's syndrome", "Disease")])
    with monkeypatch.context() as old_code:  # the entity index as the code before KEY_VERSION 2 wrote it
        for where in ("kg.index.items.normalise", "kg.names.normalise"):
            old_code.setattr(where, names._plain)
        old_code.setattr("kg.index.items.KEY_VERSION", 1, raising=False)
        build_indexes(ws, store, embedder=embedder)
    with pytest.raises(NLPError, match="out of step"):
        Retriever.open(ws, store, embedder, on_drift="error")
    retriever = Retriever.open(ws, store, embedder)
    try:
        assert retriever.link("Is sjogren syndrome rare?") == ["dis:sjogren"]
    finally:
        retriever.close()
