"""Readers of labelled QA data: PubMedQA's JSON with and without its conclusions."""
from __future__ import annotations

import json

from fusion.data import read_pubmedqa, read_qa

PQA = {
    "1": {"QUESTION": "Does aspirin cause bleeding?", "CONTEXTS": ["We studied.", "Bleeding rose."],
          "final_decision": "yes", "LONG_ANSWER": "Aspirin causes bleeding."},
    "2": {"QUESTION": "Does water cure cancer?", "CONTEXTS": ["No effect was seen."],
          "final_decision": "no", "LONG_ANSWER": ""},
    "3": {"QUESTION": "Is coffee safe?", "CONTEXTS": ["Mixed results."], "final_decision": "maybe",
          "LONG_ANSWER": "It may be."},
}


def test_pubmedqa_reads_questions_contexts_and_decisions(tmp_path):
    path = tmp_path / "ori_pqal.json"
    path.write_text(json.dumps(PQA))
    rows = read_pubmedqa(path)
    assert [(r.text, r.labels, r.pair) for r in rows] == [
        ("Does aspirin cause bleeding?", ("yes",), "We studied. Bleeding rose."),
        ("Does water cure cancer?", ("no",), "No effect was seen."),
        ("Is coffee safe?", ("maybe",), "Mixed results.")]
    assert read_qa(path)[1] == "yesno" and len(read_qa(path)[0]) == 3  # conclusions never by default


def test_pubmedqa_long_answers_add_one_example_per_conclusion_of_the_chosen_ids(tmp_path):
    path = tmp_path / "ori_pqal.json"
    path.write_text(json.dumps(PQA))
    rows = read_pubmedqa(path, {"1", "2"}, long_answers=True)
    assert [(r.text, r.labels, r.pair) for r in rows] == [
        ("Does aspirin cause bleeding?", ("yes",), "We studied. Bleeding rose."),
        ("Does water cure cancer?", ("no",), "No effect was seen."),
        ("Does aspirin cause bleeding?", ("yes",), "Aspirin causes bleeding.")]  # "2" has no conclusion
