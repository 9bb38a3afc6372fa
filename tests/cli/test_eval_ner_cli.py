"""``kgnlp eval ner``: every labelled format ``train ner`` reads, and a trained model scored on its own."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import kgnlp, kgnlp_json

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "extraction"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = tmp_path_factory.mktemp("evalner") / "ws"
    kgnlp("ingest", str(FIX / "tiny.jsonl"), "-w", str(ws), check=True)
    return ws


@pytest.fixture(scope="module")
def spacy_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("evalner-model") / "m"
    kgnlp("train", "ner", "--data", str(FIX / "tiny.jsonl"), "--kind", "spacy", "--out", str(out), "--epochs", "2",
          "--cnn-width", "48", "--cnn-depth", "2", "--seed", "1", check=True)
    return out


@pytest.mark.parametrize("fmt,path", [("pubtator", "tiny.PubTator.txt"), ("iob", "tiny.iob.tsv"),
                                      ("finer-csv", "tiny_finer.csv"), ("jsonl", "tiny.jsonl")])
def test_eval_ner_reads_each_training_format(ws, fmt, path):
    from nlp.formats import load_labelled

    gold = sum(len(d.mentions) for d in load_labelled(FIX / path, fmt))
    proc = kgnlp("eval", "ner", "--data", str(FIX / path), "--format", fmt, "-w", str(ws), "--json", check=True)
    scores = json.loads(proc.stdout)
    assert scores["tp"] + scores["fn"] == gold > 0
    for k in ("tp", "fp", "fn"):  # a row for each gold or predicted label: the rows add up to the overall counts
        assert sum(row[k] for row in scores["labels"].values()) == scores[k], (k, scores)


def test_eval_ner_json_keeps_the_label_rows_apart_from_the_overall_scores(ws, tmp_path):
    """--json: the overall P/R/F1 and counts at the top (as eval relations writes them), each label's row under
    "labels" (as eval classify), "unknown_labels" beside them: a gold label named "all" or "unknown_labels" is a row
    like any other, not written over the overall scores (or over the row)."""
    rows = [json.loads(line) for line in (FIX / "tiny.jsonl").read_text(encoding="utf-8").splitlines() if line]
    rows[0]["entities"][1]["label"] = "all"  # "type 2 diabetes"
    rows[2]["entities"][1]["label"] = "unknown_labels"  # "bleeding"
    data = tmp_path / "gold.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    got = kgnlp_json("eval", "ner", "--data", str(data), "-w", str(ws))
    assert set(got) == {"precision", "recall", "f1", "tp", "fp", "fn", "labels", "unknown_labels"}, got
    assert got["unknown_labels"] == {}  # no --model: no label it was not trained on
    assert got["labels"]["all"]["tp"] + got["labels"]["all"]["fn"] == 1
    assert got["labels"]["unknown_labels"]["tp"] + got["labels"]["unknown_labels"]["fn"] == 1
    gold = sum(len(r["entities"]) for r in rows)
    assert got["tp"] + got["fn"] == gold > 2
    for k in ("tp", "fp", "fn"):
        assert sum(row[k] for row in got["labels"].values()) == got[k], (k, got)


def test_model_only_scores_the_model_as_its_own_evaluator_does(ws, spacy_model):
    from nlp.formats import load_labelled
    from nlp.evaluation import score_layer
    from nlp.ner import load_ner_model

    own = score_layer(load_ner_model(spacy_model), load_labelled(FIX / "tiny.jsonl", "jsonl")).overall
    proc = kgnlp("eval", "ner", "--data", str(FIX / "tiny.jsonl"), "--model", str(spacy_model), "--model-only",
                 "-w", str(ws), "--json", check=True)
    scores = json.loads(proc.stdout)
    assert (scores["tp"], scores["fp"], scores["fn"]) == (own.tp, own.fp, own.fn)


def test_model_only_needs_exactly_one_model(ws, spacy_model):
    for extra in ([], ["--model", str(spacy_model), "--model", str(spacy_model)]):
        proc = kgnlp("eval", "ner", "--data", str(FIX / "tiny.jsonl"), *extra, "--model-only", "-w", str(ws))
        assert proc.returncode == 1 and "exactly one --model" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_gold_labels_the_model_was_not_trained_on_are_named(ws, spacy_model, tmp_path):
    """As `eval classify` does: gold labels the --model never saw are counted in --json ("unknown_labels") and named
    in one stderr line (alone, its misses; in the pipeline, left to the graph's names and spaCy)."""
    rows = [json.loads(line) for line in (FIX / "tiny.jsonl").read_text(encoding="utf-8").splitlines() if line]
    rows[0]["entities"].append({"start": 17, "end": 30, "label": "Measurement"})  # "blood glucose"
    data = tmp_path / "gold.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    args = ["eval", "ner", "--data", str(data), "--model", str(spacy_model), "-w", str(ws)]
    got = json.loads(kgnlp(*args, "--model-only", "--json", check=True).stdout)
    assert got["unknown_labels"] == {"Measurement": 1} and got["labels"]["Measurement"]["fn"] == 1, got
    alone = kgnlp(*args, "--model-only", check=True)
    assert [line for line in alone.stderr.splitlines() if "not trained on" in line] == [
        "Labels the model was not trained on (scored as misses): Measurement (1)"], alone.stderr
    piped = kgnlp(*args, check=True)
    assert "Labels the model was not trained on (only the graph's names and spaCy can find them): Measurement (1)" \
        in piped.stderr, piped.stderr
    two = kgnlp(*args, "--model", str(spacy_model), check=True)  # they vote
    assert "Labels no --model was trained on (only the graph's names and spaCy can find them): Measurement (1)" \
        in two.stderr, two.stderr
    assert json.loads(kgnlp(*args[:4], "-w", str(ws), "--json", check=True).stdout)["unknown_labels"] == {}
