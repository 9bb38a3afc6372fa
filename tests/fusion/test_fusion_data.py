"""Readers of labelled QA data: PubMedQA's JSON with and without its conclusions."""
from __future__ import annotations

import json

import pytest

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


def test_pubmedqa_train_dev_splits_by_question_and_keeps_conclusions_out_of_dev(tmp_path):
    from fusion.data import pubmedqa_train_dev

    data = {str(i): {"QUESTION": f"q{i}?", "CONTEXTS": [f"c{i}"], "final_decision": "yes", "LONG_ANSWER": f"a{i}"}
            for i in range(20)}
    path = tmp_path / "ori_pqal.json"
    path.write_text(json.dumps(data))
    train, dev = pubmedqa_train_dev(path, 0.1, seed=3, long_answers=True)
    assert len(dev) == 2 and all(e.pair.startswith("c") for e in dev)
    dev_q = {e.text for e in dev}
    assert not dev_q & {e.text for e in train}  # a dev question is in no training example
    assert len(train) == 36 and sum(e.pair.startswith("a") for e in train) == 18
    assert pubmedqa_train_dev(path, 0.1, seed=3)[1] == dev  # the same questions with or without conclusions


def test_long_answers_need_pubmedqa_json(tmp_path):
    import pytest

    from fusion.data import pubmedqa_train_dev
    from fusion.errors import FusionError

    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "q?", "context": "c", "answer": "yes"}\n')
    with pytest.raises(FusionError, match="PubMedQA JSON"):
        pubmedqa_train_dev(path, 0.1, 1, long_answers=True)


def test_malformed_pubmedqa_json_is_a_one_line_error_naming_the_question(tmp_path):
    import pytest

    from fusion.errors import FusionError
    from tests.conftest import kgnlp

    bad = {**PQA, "2": {**PQA["2"], "final_decision": None}}
    cases = [(bad, "question '2' has final_decision None"),
             ({"1": {**PQA["1"], "CONTEXTS": "We studied."}}, "question '1' has no CONTEXTS list"),
             ({"1": {**PQA["1"]}, "7": {**PQA["2"], "CONTEXTS": []}}, "question '7' has an empty CONTEXTS list"),
             ({"1": {**PQA["1"], "CONTEXTS": ["", "  "]}}, "question '1' has an empty CONTEXTS list"),
             ({"1": {**PQA["1"], "QUESTION": ""}}, "question '1' has no QUESTION")]
    for data, message in cases:
        path = tmp_path / "ori_pqal.json"
        path.write_text(json.dumps(data))
        with pytest.raises(FusionError, match=message):
            read_pubmedqa(path)
        with pytest.raises(FusionError, match=message):
            read_qa(path)
    with pytest.raises(FusionError, match="missing.json.* does not exist"):
        read_qa(tmp_path / "missing.json")  # was a FileNotFoundError, an internal error in the CLI
    # through the CLI: exit 1, one line, no model written (before: KeyError, or CONTEXTS read letter by letter)
    proc = kgnlp("train", "qa", "--data", str(path), "--out", str(tmp_path / "m"), "-w", str(tmp_path / "ws"))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"Error: {path}: question '1' has no QUESTION; expected PubMedQA JSON"), lines
    assert not (tmp_path / "m").exists()


def test_malformed_rows_are_refused_not_coerced(tmp_path):
    from fusion.data import read_classification, read_qa
    from fusion.errors import FusionError

    for row in ({"text": "x", "label": ["a", "b"]}, {"text": "x", "labels": "abc"}, {"text": None, "label": "a"},
                {"text": "x", "label": None}, {"text": "x", "label": "a", "pair": 5}):
        path = tmp_path / "c.jsonl"
        path.write_text(json.dumps(row) + "\n", encoding="utf-8")
        with pytest.raises(FusionError, match=r"c.jsonl:1: expected a non-empty \"text\" string"):
            read_classification(path)
    path = tmp_path / "n.jsonl"
    path.write_text(json.dumps({"text": "x", "label": 3}) + "\n", encoding="utf-8")
    assert read_classification(path)[0][0].labels == ("3",)  # numbers are labels too
    path.write_text('{"text": "x", "label": 1.0}\n{"text": "y", "label": 1}\n{"text": "z", "label": 0.5}\n',
                    encoding="utf-8")
    assert [e.labels for e in read_classification(path)[0]] == [("1",), ("1",), ("0.5",)]  # 1.0 and 1: one label
    for bad in ("NaN", "Infinity"):  # Python's json reads them; no label is "nan"
        path.write_text('{"text": "x", "label": %s}\n' % bad, encoding="utf-8")
        with pytest.raises(FusionError, match=r"n.jsonl:1: expected"):
            read_classification(path)
    qa = tmp_path / "q.jsonl"
    for start, ok in ((4, True), (0, False), (999, False), ("x", False), (-1, False)):
        qa.write_text(json.dumps({"question": "q?", "context": "abc def", "answer": "def", "answer_start": start})
                      + "\n", encoding="utf-8")
        if ok:
            assert read_qa(qa)[0][0].answer_start == 4
        else:
            with pytest.raises(FusionError, match="is not where the answer"):
                read_qa(qa)
    jsonl_in_json = tmp_path / "yn.json"
    jsonl_in_json.write_text(json.dumps({"question": "q?", "context": "c", "answer": "yes"}) + "\n"
                             + json.dumps({"question": "r?", "context": "c", "answer": "no"}) + "\n", encoding="utf-8")
    examples, kind = read_qa(jsonl_in_json)
    assert kind == "yesno" and [e.labels for e in examples] == [("yes",), ("no",)]


def test_a_multilabel_text_may_have_none_of_the_labels(tmp_path):
    from fusion.data import read_classification

    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"text": "metformin treats diabetes", "labels": ["drug", "disease"]}) + "\n"
                    + json.dumps({"text": "shares rose", "labels": []}) + "\n", encoding="utf-8")
    examples, multi = read_classification(path)
    assert multi and [e.labels for e in examples] == [("drug", "disease"), ()]


def test_files_with_a_byte_order_mark_are_read_as_utf8(tmp_path):
    """Windows editors start UTF-8 files with a byte-order mark: the training and test files still read, and the mark
    is not part of the first text."""
    from cli.commands.fusion import _line_texts
    from fusion.data import read_classification

    bom = "\ufeff"
    (tmp_path / "c.jsonl").write_text(bom + '{"text": "a", "label": "x"}\r\n{"text": "b", "label": "y"}\r\n',
                                      encoding="utf-8")
    assert [e.text for e in read_classification(tmp_path / "c.jsonl")[0]] == ["a", "b"]
    (tmp_path / "q.json").write_text(bom + json.dumps(PQA), encoding="utf-8")
    assert read_qa(tmp_path / "q.json")[1] == "yesno" and len(read_qa(tmp_path / "q.json")[0]) == 3
    (tmp_path / "lines.txt").write_text(bom + "profit rose\nshares fell\n", encoding="utf-8")
    assert _line_texts(str(tmp_path / "lines.txt")) == ["profit rose", "shares fell"]
