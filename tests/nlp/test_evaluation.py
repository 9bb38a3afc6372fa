"""Scores on labelled files: `eval relations` reads its gold lines strictly and scores only documents it has."""
from __future__ import annotations

import json

import pytest

from kg.records import Entity, Provenance, Triple
from kg.stores.sqlite import SQLiteStore
from nlp.errors import NLPError
from nlp.evaluation import evaluate_relations


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([Triple("chem:met", "TREATS", "dis:t2d", 0.9, (Provenance("d1", 0, 9, "Metformin treats T2D.", "p"),)),
           Triple("chem:met", "CAUSES", "dis:la", 0.9, (Provenance("d1", 0, 9, "It causes LA.", "p"),))],
          [Entity("chem:met", "metformin", "Chemical"), Entity("dis:t2d", "type 2 diabetes", "Disease", ("T2D",)),
           Entity("dis:la", "lactic acidosis", "Disease")])
    yield s
    s.close()


def _gold(tmp_path, *rows):
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_relations_reads_relations_as_the_graph_names_them_and_a_document_on_two_lines_once(store, tmp_path):
    path = _gold(tmp_path, {"doc": "d1", "triples": [["Metformin", "treats", "T2D"]]},
                 {"doc": "d1", "triples": [["metformin", "Causes", "lactic acidosis"]]})
    s = evaluate_relations(store, path)
    assert (s.tp, s.fp, s.fn) == (2, 0, 0)


@pytest.mark.parametrize("row", [{"doc": "d1"}, {"doc": "d1", "triples": [["a", "TREATS"]]}, {"doc": 5, "triples": []},
                                 {"doc": "d1", "triples": [[1, "TREATS", 2]]}, {"doc": "d1", "triples": "a b c"}])
def test_eval_relations_malformed_line_is_a_one_line_error_naming_it(store, tmp_path, row):
    with pytest.raises(NLPError, match=r"gold.jsonl:2: expected \{\"doc\""):
        evaluate_relations(store, _gold(tmp_path, {"doc": "d1", "triples": []}, row))


def test_eval_relations_refuses_documents_the_graph_never_read_rather_than_scoring_them_as_misses(store, tmp_path):
    path = _gold(tmp_path, {"doc": "d1", "triples": []}, {"doc": "other", "triples": [["a", "TREATS", "b"]]})
    with pytest.raises(NLPError, match=r"1 of its documents is not in the graph \('other'\)"):
        evaluate_relations(store, path)


def test_eval_qa_on_pubmedqa_json_says_a_trained_model_answers_it(store, tmp_path):
    """The graph's QA reads {"question","answers"} lines; a PubMedQA file (often indented over many lines) used to be
    'malformed JSON' or 'expected {"question": ...}', with no word of --model."""
    from nlp.evaluation import evaluate_qa

    path = tmp_path / "ori_pqal.json"
    path.write_text(json.dumps({"1": {"QUESTION": "Does metformin treat T2D?", "CONTEXTS": ["It does."],
                                      "final_decision": "yes"}}, indent=2), encoding="utf-8")
    with pytest.raises(NLPError, match=r"ori_pqal.json is PubMedQA JSON: .*\(eval qa --model MODEL\)"):
        evaluate_qa(store, path)
