"""Entity resolution rules and the merge log: recorded with who/why/score, listable, undoable."""
from __future__ import annotations

import pytest

from kg.errors import KGError
from kg.merges import MergeLog, canonical_id
from kg.records import Entity
from nlp.resolution import core_name, propose_merges, resolve

PFIZER = [
    Entity("org:pfizer-inc", "Pfizer Inc.", "Organization", (), (("ticker", "PFE"),)),
    Entity("org:pfizer", "Pfizer", "Organization"),
    Entity("org:pfe", "PFE", "Organization"),
    Entity("org:moderna", "Moderna", "Organization"),
    Entity("per:pfizer", "Pfizer", "Person"),
]


@pytest.mark.parametrize("name,core", [("Pfizer Inc.", "pfizer"), ("The Boeing Company", "boeing"),
                                       ("Novo Nordisk A/S", "novo nordisk a s"), ("AT&T Inc.", "at&t"),
                                       ("Siemens AG", "siemens"), ("Apple", "apple")])
def test_core_name_drops_corporate_suffixes(name, core):
    assert core_name(name) == core


def test_names_that_differ_by_a_sign_are_not_merged_but_hyphens_and_suffixes_still_are():
    ents = [Entity("chem:p-cat", "(+)-catechin", "Chemical"), Entity("chem:m-cat", "(-)-catechin", "Chemical"),
            Entity("chem:na-ion", "Na+", "Chemical"), Entity("chem:na", "Na", "Chemical"),
            Entity("dis:her2p", "HER2+ breast cancer", "Disease"), Entity("dis:her2m", "HER2- breast cancer", "Disease"),
            Entity("dis:t2d", "type-2 diabetes", "Disease"), Entity("dis:t2d-2", "Type 2 Diabetes", "Disease"),
            Entity("org:cox", "COX-1 Inc.", "Organization"), Entity("org:cox-2", "COX 1", "Organization")]
    assert {(p.merged_id, p.canonical_id) for p in propose_merges(ents)} == {
        ("dis:t2d-2", "dis:t2d"), ("org:cox-2", "org:cox")}


def test_pfizer_names_and_ticker_become_one_entity_but_types_must_agree():
    proposals = propose_merges(PFIZER)
    assert {(p.merged_id, p.canonical_id) for p in proposals} == {
        ("org:pfizer", "org:pfizer-inc"), ("org:pfe", "org:pfizer-inc")}
    why = {p.merged_id: p.why for p in proposals}
    assert "ticker PFE" in why["org:pfe"] and "corporate suffix" in why["org:pfizer"]


def test_alias_evidence_merges():
    ents = [Entity("org:ibm", "International Business Machines", "Organization", ("IBM",)),
            Entity("org:ibm2", "IBM", "Organization")]
    assert [(p.merged_id, p.canonical_id) for p in propose_merges(ents)] == [("org:ibm2", "org:ibm")]


def test_merges_are_recorded_listed_and_undone(tmp_path):
    with MergeLog.for_workspace(tmp_path) as log:
        done = resolve(PFIZER, log, who="test")
        assert len(done) == 2 and all(m.who == "test" and m.score > 0 for m in done)
        assert log.canonical("org:pfe") == "org:pfizer-inc"
        assert resolve(PFIZER, log) == []  # nothing twice
        undone = log.undo(done[0].id)
        assert undone.undone is not None
        assert log.canonical(done[0].merged_id) == done[0].merged_id
        assert len(log.merges()) == 1 and len(log.merges(include_undone=True)) == 2
        with pytest.raises(KGError, match="already undone"):
            log.undo(done[0].id)
    assert canonical_id(tmp_path, "org:pfizer") in {"org:pfizer", "org:pfizer-inc"}
    assert canonical_id(tmp_path / "nowhere", "x") == "x"


def test_a_later_resolve_does_not_redo_an_undone_merge(tmp_path):
    with MergeLog.for_workspace(tmp_path) as log:
        done = resolve(PFIZER, log, who="test")
        log.undo(done[0].id)
        assert resolve(PFIZER, log) == [] and resolve(PFIZER, log, dry_run=True) == []
        assert log.canonical(done[0].merged_id) == done[0].merged_id  # still apart
        assert log.canonical(done[1].merged_id) == done[1].canonical_id


def test_merge_chains_stay_flat_and_cycles_are_refused(tmp_path):
    with MergeLog.open(tmp_path / "m.db") as log:
        log.record("b", "a", "t", "why", 1.0)
        log.record("c", "b", "t", "why", 1.0)
        assert log.canonical("a") == "c"
        assert log.canonical_map() == {"a": "c", "b": "c"}
        with pytest.raises(KGError, match="itself"):
            log.record("a", "c", "t", "why", 1.0)
        with pytest.raises(KGError, match="already merged"):
            log.record("x", "a", "t", "why", 1.0)
        with pytest.raises(KGError, match="No merge with id"):
            log.undo(99)


def test_undoing_a_later_merge_restores_the_earlier_one_and_its_record(tmp_path):
    with MergeLog.open(tmp_path / "m.db") as log:
        first = log.record("a", "b", "t", "why", 1.0)   # b -> a
        second = log.record("c", "a", "t", "why", 1.0)  # a -> c, so b -> c too
        assert log.canonical_map() == {"a": "c", "b": "c"}
        log.undo(second.id)
        assert log.canonical_map() == {"b": "a"}
        assert [(m.merged_id, m.canonical_id) for m in log.merges(include_undone=True)] == [("b", "a"), ("a", "c")]
        assert log.get(first.id).canonical_id == "a"


def test_a_corrupt_merge_log_is_a_clear_error(tmp_path):
    (tmp_path / "m.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(KGError, match="m.db"):
        MergeLog.open(tmp_path / "m.db")


def test_an_empty_merge_log_left_by_a_crash_reads_as_no_merges_and_is_left_as_it_is(tmp_path):
    (tmp_path / "m.db").write_bytes(b"")
    with MergeLog.open(tmp_path / "m.db", read_only=True) as log:
        assert log.merges() == [] and log.canonical("a") == "a"
    assert (tmp_path / "m.db").read_bytes() == b""
    with MergeLog.open(tmp_path / "m.db") as log:  # a writer makes its tables in it
        log.record("a", "b", "test", "same", 1.0)
    with MergeLog.open(tmp_path / "m.db", read_only=True) as log:
        assert log.canonical("b") == "a"


def test_embedding_evidence_is_optional_and_typed():
    class Enc:
        def encode(self, names):
            import numpy as np
            return np.array([[1.0, 0.0] if "acme" in n.lower() else [0.0, 1.0] for n in names], dtype="float32")

    ents = [Entity("org:a", "Acme Widgets", "Organization"), Entity("org:b", "ACME Widget Co", "Organization"),
            Entity("loc:a", "Acme", "Location")]
    assert propose_merges(ents) == []
    merged = {(p.merged_id, p.canonical_id) for p in propose_merges(ents, encoder=Enc(), threshold=0.9)}
    assert merged == {("org:b", "org:a")} or merged == {("org:a", "org:b")}
