"""FAISS indexes kept in step with the store: stable ids, incremental updates, drift detected."""
from __future__ import annotations

import sqlite3
import zlib

import numpy as np
import pytest

from kg.index import (SyncedIndex, VectorIndex, chunk_items, chunk_spans, choose_type, entity_items, fact_items,
                      stable_id, store_fingerprint)
from kg.records import Document, Entity, Extraction, Provenance, Triple
from kg.schema import Schema
from kg.stores.sqlite import SQLiteStore


class WordHashEncoder:
    """A fast stand-in for the sentence embedder: hashed bag of words, L2-normalised."""

    def __init__(self, name: str = "words-v1", dim: int = 64) -> None:
        self.name, self.dim, self.calls = name, dim, 0

    def encode(self, texts):
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def extraction(doc_id: str, text: str, facts: list[tuple[str, str, str]]) -> Extraction:
    triples = tuple(Triple(h, r, t, 1.0, (Provenance(doc_id, 0, len(text), text, "test"),)) for h, r, t in facts)
    return Extraction(Document(doc_id, text), (), triples)


ENTITIES = [Entity("chem:metformin", "metformin", "Chemical", ("Glucophage",)),
            Entity("dis:t2d", "type 2 diabetes", "Disease", ("T2D",)),
            Entity("chem:aspirin", "aspirin", "Chemical"),
            Entity("dis:headache", "headache", "Disease")]


@pytest.fixture()
def store(tmp_path):
    st = SQLiteStore.open(tmp_path / "graph.db", durable=False)
    st.add([], ENTITIES)
    st.add_extraction(extraction("d1", "Metformin treats type 2 diabetes.", [("chem:metformin", "TREATS", "dis:t2d")]), "h1")
    yield st
    st.close()


def items_of(kind, store):
    if kind == "entities":
        return list(entity_items(store.entities()))
    if kind == "facts":
        return list(fact_items(store, Schema()))
    return list(chunk_items(store))


def sync(folder, kind, store, encoder, **kw):
    idx = SyncedIndex.open(folder, kind)
    try:
        return idx.sync(items_of(kind, store), encoder, store_fingerprint(store), **kw)
    finally:
        idx.close()


def test_facts_are_verbalised_with_names_and_keep_provenance(store):
    (item,) = items_of("facts", store)
    assert item.text == "metformin treats type 2 diabetes"
    assert item.doc_ids == ("d1",) and item.triple == ("chem:metformin", "TREATS", "dis:t2d")
    assert item.id == stable_id("facts", "chem:metformin\x1fTREATS\x1fdis:t2d")


def test_every_name_and_alias_is_an_entity_item(store):
    texts = {it.text for it in items_of("entities", store)}
    assert {"metformin", "Glucophage", "type 2 diabetes", "T2D"} <= texts


def test_incremental_update_embeds_only_the_new_document(store, tmp_path):
    enc = WordHashEncoder()
    first = sync(tmp_path / "facts", "facts", store, enc)
    assert first.added == 1 and first.rebuilt and enc.calls == 1
    store.add_extraction(extraction("d2", "Aspirin relieves headache.", [("chem:aspirin", "TREATS", "dis:headache")]), "h2")
    second = sync(tmp_path / "facts", "facts", store, enc)
    assert (second.added, second.removed, second.rebuilt, second.total) == (1, 0, False, 2)
    assert enc.calls == 2
    store.remove_document("d2")
    third = sync(tmp_path / "facts", "facts", store, enc)
    assert (third.added, third.removed, third.total) == (0, 1, 1) and enc.calls == 2


def test_rebuild_gives_the_same_ids(store, tmp_path):
    enc = WordHashEncoder()
    sync(tmp_path / "a", "chunks", store, enc)
    sync(tmp_path / "b", "chunks", store, enc, rebuild=True)
    ids = [{r[0] for r in sqlite3.connect(tmp_path / d / "items.sqlite").execute("SELECT id FROM items")} for d in "ab"]
    assert ids[0] == ids[1] and len(ids[0]) == 1


def test_index_and_manifest_out_of_step_is_detected_and_rebuilt(store, tmp_path):
    enc = WordHashEncoder()
    folder = tmp_path / "entities"
    sync(folder, "entities", store, enc)
    # a crash between writes: the item table lost a row the manifest and FAISS still count
    con = sqlite3.connect(folder / "items.sqlite")
    con.execute("DELETE FROM items WHERE id IN (SELECT id FROM items LIMIT 1)")
    con.commit()
    con.close()
    idx = SyncedIndex.open(folder, "entities")
    assert any("manifest says" in p for p in idx.problems(enc.name))
    idx.close()
    report = sync(folder, "entities", store, enc)
    assert report.rebuilt and "manifest says" in report.reason
    idx = SyncedIndex.open(folder, "entities")
    assert idx.problems(enc.name) == []
    idx.close()


def test_another_embedder_or_a_damaged_file_means_a_rebuild(store, tmp_path):
    folder = tmp_path / "facts"
    sync(folder, "facts", store, WordHashEncoder())
    idx = SyncedIndex.open(folder, "facts")
    assert "now using 'other'" in idx.problems("other")[0]
    idx.close()
    (folder / "index.faiss").write_bytes(b"not an index")
    idx = SyncedIndex.open(folder, "facts")
    assert "unreadable" in idx.problems()[0]
    idx.close()
    assert sync(folder, "facts", store, WordHashEncoder()).rebuilt


def test_store_change_moves_the_fingerprint(store, tmp_path):
    before = store_fingerprint(store)
    sync(tmp_path / "facts", "facts", store, WordHashEncoder())
    store.add_extraction(extraction("d2", "Aspirin relieves headache.", [("chem:aspirin", "TREATS", "dis:headache")]), "h2")
    idx = SyncedIndex.open(tmp_path / "facts", "facts")
    assert idx.in_step_with(before) and not idx.in_step_with(store_fingerprint(store))
    idx.close()


def test_search_returns_the_nearest_item(store, tmp_path):
    enc = WordHashEncoder()
    sync(tmp_path / "entities", "entities", store, enc)
    idx = SyncedIndex.open(tmp_path / "entities", "entities")
    (best_id, score), *_ = idx.search(enc.encode(["glucophage"])[0], 3)
    assert idx.items([best_id])[best_id].entity_ids == ("chem:metformin",) and score == pytest.approx(1.0)
    assert idx.entities_named(["t2d"]) == {"t2d": ["dis:t2d"]}
    idx.close()


def random_unit(n, dim, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_vector_index_types_add_search_and_save(kind, tmp_path):
    vecs = random_unit(2000, 32)
    ids = np.arange(10, 2010, dtype=np.int64) * 7919
    index = VectorIndex.create(32, kind, train=vecs if kind == "ivf" else None)
    index.add(ids, vecs)
    index.set_search_effort(64)
    scores, found = index.search(vecs[:50], 1)
    assert np.mean(found[:, 0] == ids[:50]) >= 0.95
    index.save(tmp_path / "x.faiss")
    again = VectorIndex.load(tmp_path / "x.faiss", kind, 32)
    assert len(again) == 2000
    assert again.remove(ids[:10]) == 10 and len(again) == 1990
    assert ids[0] not in again.search(vecs[:1], 5)[1][0]
    assert set(again.search(vecs[10:11], 1)[1][0]) == {ids[10]}


def test_index_type_is_chosen_by_size():
    assert choose_type(10) == "flat" and choose_type(10**6) == "hnsw"


def test_hnsw_removal_is_a_tombstone_and_a_returning_id_compacts(tmp_path):
    vecs = random_unit(300, 16, seed=2)
    ids = np.arange(300, dtype=np.int64)
    index = VectorIndex.create(16, "hnsw")
    index.add(ids, vecs)
    index.remove(ids[:100])
    assert len(index) == 200 and int(index.index.ntotal) == 300 and index.needs_compaction
    assert not set(index.search(vecs[:20], 10)[1].ravel()) & set(range(100))
    index.save(tmp_path / "h.faiss")
    again = VectorIndex.load(tmp_path / "h.faiss", "hnsw", 16)
    assert len(again) == 200 and sorted(again.ids()) == list(range(100, 300))
    compact = again.compacted()
    assert int(compact.index.ntotal) == 200 and len(compact.deleted) == 0
    np.testing.assert_allclose(compact.vectors([150]), vecs[[150]], rtol=1e-6)


def test_synced_hnsw_index_updates_without_rebuilding(store, tmp_path):
    enc = WordHashEncoder()
    folder = tmp_path / "facts"
    doc2 = extraction("d2", "Aspirin relieves headache.", [("chem:aspirin", "TREATS", "dis:headache")])
    store.add_extraction(doc2, "h2")
    assert sync(folder, "facts", store, enc, index_type="hnsw").index_type == "hnsw"
    store.remove_document("d2")
    report = sync(folder, "facts", store, enc, index_type="hnsw")
    assert not report.rebuilt and report.removed == 1 and report.total == 1
    idx = SyncedIndex.open(folder, "facts")
    assert idx.problems(enc.name) == [] and len(idx.vectors) == 1
    idx.close()
    store.add_extraction(doc2, "h2")  # the same fact comes back: its tombstone must go first
    report = sync(folder, "facts", store, enc, index_type="hnsw")
    assert not report.rebuilt and report.added == 1 and report.total == 2
    idx = SyncedIndex.open(folder, "facts")
    assert idx.problems(enc.name) == [] and len(idx.vectors.deleted) == 0
    idx.close()


def test_no_rebuild_back_and_forth_around_the_size_threshold(store, tmp_path):
    enc = WordHashEncoder()
    folder = tmp_path / "facts"
    store.add_extraction(extraction("d2", "Aspirin relieves headache.", [("chem:aspirin", "TREATS", "dis:headache")]), "h2")
    assert sync(folder, "facts", store, enc, approximate_from=2).index_type == "hnsw"
    store.remove_document("d2")  # 1 fact: below the threshold, but not below half of it
    report = sync(folder, "facts", store, enc, approximate_from=2)
    assert report.index_type == "hnsw" and not report.rebuilt


def test_chunks_cover_the_text_within_the_size_limit():
    text = " ".join(f"Sentence number {i} says something." for i in range(40)) + " " + "x" * 50 + " y" * 400
    spans = chunk_spans(text, max_chars=200)
    assert all(e - s <= 200 for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    covered = "".join(text[s:e] for s, e in spans).replace(" ", "")
    assert covered == text.replace(" ", "")


@pytest.mark.parametrize("blocked", ["index", "index/facts"])
def test_a_file_where_the_index_folder_should_be_is_one_clear_error(tmp_path, blocked):
    """Was an internal NotADirectoryError / FileExistsError."""
    from kg.errors import KGError

    (tmp_path / blocked).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / blocked).write_text("notes")
    with pytest.raises(KGError, match=rf"'{tmp_path / blocked}' is a file where the index folder .* should be"):
        SyncedIndex.open(tmp_path / "index" / "facts", "facts")
    assert (tmp_path / blocked).read_text() == "notes"
