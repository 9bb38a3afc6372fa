"""`nlp.findings`: how a study reports its results, read with the `data/findings` cue graph."""
from __future__ import annotations

from collections import Counter

import pytest

from kg.records import Document
from kg.schema import load_schema
from kg.seed import read_seed
from nlp.errors import NLPError
from nlp.findings import EFFECT, NO_EFFECT, UNCERTAIN, FindingsReader, sentences
from tests.conftest import DATA

ABSTRACT = ("Metformin was given to 120 patients with heart failure. Mortality did not differ significantly "
            "between the groups. Admissions were significantly reduced with metformin. Rates did not increase. "
            "These results may support wider use.")


@pytest.fixture(scope="module")
def reader():
    from fusion.context import NameLinker

    cues = read_seed(DATA / "findings", load_schema(DATA / "findings" / "schema.toml"))
    rows = [(name, e.id, e.type) for e in cues.entities for name in (e.name, *e.aliases)]
    return FindingsReader.from_graph(NameLinker.from_rows(rows), cues.entities, cues.triples)


def test_each_sentence_signals_by_its_cues(reader):
    got = [reader.signal(s) for s in sentences(ABSTRACT)]
    # no cue; a no-effect cue; an effect cue; a negated effect cue; a hedge
    assert got == [None, NO_EFFECT, EFFECT, NO_EFFECT, UNCERTAIN]


def test_findings_are_facts_with_their_sentence_as_source(reader):
    counts: Counter = Counter()
    ex = reader.read(Document("a1", ABSTRACT, "test"), counts=counts)
    assert [t.head_id for t in ex.triples] == [NO_EFFECT, EFFECT, NO_EFFECT, UNCERTAIN]
    assert {t.relation for t in ex.triples} == {"REPORTED_IN"} and counts["none"] == 1
    names = {e.id: e.name for e in ex.entities}
    for t in ex.triples:
        prov = t.provenance[0]
        assert prov.doc_id == "a1" and ABSTRACT[prov.start:prov.end] == prov.sentence == names[t.tail_id]
    assert all(e.type == "Finding" for e in ex.entities) and len(set(names)) == 4
    # parts: only the pieces given are read (e.g. an abstract's results section), offsets still into the text
    part = reader.read(Document("a1", ABSTRACT), parts=["These results may support wider use."])
    assert [t.head_id for t in part.triples] == [UNCERTAIN]
    assert part.triples[0].provenance[0].start == ABSTRACT.index("These results")



def test_a_finding_is_named_by_its_sentence_not_by_the_heading_over_it(reader):
    text = "# Metformin in heart failure\n\nAdmissions were significantly reduced with metformin.\n"
    assert [s.strip() for s in sentences(text)] == [
        "# Metformin in heart failure", "Admissions were significantly reduced with metformin."]
    ex = reader.read(Document("h1", text))
    assert [e.name for e in ex.entities] == ["Admissions were significantly reduced with metformin."]


def test_a_repeated_sentence_is_placed_where_it_occurs(reader):
    said = "Mortality did not differ significantly between the groups."
    text = f"{said} Patients were followed for a year. {said}"
    ex = reader.read(Document("r1", text))
    assert [(p.start, p.end) for t in ex.triples for p in t.provenance] == \
        [(0, len(said)), (text.rindex(said), len(text))]
    # parts that repeat a sentence of an earlier part: each in its own place
    ex = reader.read(Document("r1", text), parts=[said, f"Patients were followed for a year. {said}"])
    assert [t.provenance[0].start for t in ex.triples] == [0, text.rindex(said)]

def test_a_cue_graph_without_the_evidence_entities_is_refused(reader):
    with pytest.raises(NLPError, match="find:effect"):
        FindingsReader(reader.linker, reader.signals, [e for e in reader.evidence if e.id != EFFECT])


def test_cli_reads_findings_once_and_keeps_them_beside_ingest(tmp_path):
    from kg.workspace import Workspace
    from tests.conftest import kgnlp, kgnlp_json

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a1.txt").write_text(ABSTRACT, encoding="utf-8")
    ws = tmp_path / "ws"
    assert kgnlp_json("findings", str(docs), "--cues", str(DATA / "findings"), "-w", str(ws)) == \
        {"documents": 1, "skipped": 0, "findings": 4}
    assert kgnlp_json("findings", str(docs), "--cues", str(DATA / "findings"), "-w", str(ws))["skipped"] == 1
    kgnlp("ingest", str(docs), "-w", str(ws), "--json", check=True)  # the document itself: its own id
    store = Workspace.open(ws).open_store()
    try:
        assert sorted(store.document_ids()) == ["a1", "a1#findings"]
        reported = [t for t in store.triples() if t.relation == "REPORTED_IN"]
        assert len(reported) == 4 and {t.provenance[0].doc_id for t in reported} == {"a1#findings"}
    finally:
        store.close()
    proc = kgnlp("findings", str(docs), "--cues", str(DATA / "finance"), "-w", str(ws))
    assert proc.returncode == 1 and "evidence entities" in proc.stderr and "Traceback" not in proc.stderr
    proc = kgnlp("findings", str(docs), "--cues", str(tmp_path / "none"), "-w", str(ws))
    assert proc.returncode == 2 and "--cues" in proc.stderr


def test_a_changed_document_names_its_findings_by_the_new_sentences(reader):
    before = reader.read(Document("d", "Aspirin did not reduce pain. Aspirin reduced fever significantly."))
    after = reader.read(Document("d", "Aspirin reduced pain significantly. Aspirin reduced fever significantly."))
    old = {e.id: e.name for e in before.entities}
    new = {e.id: e.name for e in after.entities}
    assert all(new[i] == name for i, name in old.items() if i in new)  # an id never changes its sentence
    assert [n for i, n in new.items() if i in old] == ["Aspirin reduced fever significantly."]


def test_cli_reads_pubmedqa_results_sections_and_conclusions(tmp_path):
    """A PubMedQA .json file: findings are read in each abstract's results sections only (the background's
    "may" is not read); `--long-answers` reads each conclusion as its own document too."""
    import json

    from kg.workspace import Workspace
    from tests.conftest import kgnlp, kgnlp_json

    data = {"101": {"QUESTION": "Does metformin lower mortality?", "final_decision": "no",
                    "CONTEXTS": ["Metformin may lower mortality.", "Mortality did not differ significantly."],
                    "LABELS": ["BACKGROUND", "RESULTS"], "LONG_ANSWER": "Metformin was not associated with mortality."}}
    path = tmp_path / "pqa.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    ws = tmp_path / "ws"
    cues = str(DATA / "findings")
    assert kgnlp_json("findings", str(path), "--cues", cues, "-w", str(ws))["findings"] == 1
    assert kgnlp_json("findings", str(path), "--cues", cues, "--long-answers", "-w", str(ws)) == \
        {"documents": 1, "skipped": 1, "findings": 1}
    store = Workspace.open(ws).open_store()
    try:
        got = sorted((t.provenance[0].doc_id, t.head_id, t.provenance[0].sentence)
                     for t in store.triples() if t.relation == "REPORTED_IN")
    finally:
        store.close()
    assert got == [("101#findings", NO_EFFECT, "Mortality did not differ significantly."),
                   ("101:conclusion#findings", NO_EFFECT, "Metformin was not associated with mortality.")]
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1}', encoding="utf-8")
    proc = kgnlp("findings", str(bad), "--cues", cues, "-w", str(ws))
    assert proc.returncode == 1 and "PubMedQA JSON" in proc.stderr and "Traceback" not in proc.stderr
    proc = kgnlp("findings", str(tmp_path / "nope.json"), "--cues", cues, "-w", str(ws))
    assert proc.returncode == 1 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    proc = kgnlp("findings", str(tmp_path), "--cues", cues, "--long-answers", "-w", str(ws))
    assert proc.returncode == 2 and "--long-answers" in proc.stderr


def test_findings_go_with_their_document_when_it_is_removed_or_changed(tmp_path):
    from tests.conftest import kgnlp, kgnlp_json

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a1.txt").write_text(ABSTRACT, encoding="utf-8")
    ws = str(tmp_path / "ws")
    cues = str(DATA / "findings")
    kgnlp("findings", str(docs), "--cues", cues, "-w", ws, check=True)
    with_four = kgnlp_json("stats", "-w", ws)["entities"]
    (docs / "a1.txt").write_text(ABSTRACT.replace("Rates did not increase.", "Rates did not rise."), encoding="utf-8")
    kgnlp("findings", str(docs), "--cues", cues, "-w", ws, check=True)
    assert kgnlp_json("stats", "-w", ws)["entities"] == with_four  # the changed finding replaced, not added
    kgnlp("remove", "a1#findings", "-w", ws, check=True)
    assert kgnlp_json("stats", "-w", ws)["entities"] == with_four - 4  # the cue graph's evidence entities stay
