"""``kgnlp eval ner``: every labelled format ``train ner`` reads, and a trained model scored on its own."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import kgnlp

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
    got = json.loads(proc.stdout)
    scores = got.pop("all")
    assert scores["tp"] + scores["fn"] == gold > 0
    for k in ("tp", "fp", "fn"):  # a row for each gold or predicted label: the rows add up to "all"
        assert sum(row[k] for row in got.values()) == scores[k], (k, got)


def test_model_only_scores_the_model_as_its_own_evaluator_does(ws, spacy_model):
    from nlp.formats import load_labelled
    from cli.commands.ingest import load_ner_layer
    from nlp.ner.evaluate import evaluate_ner

    own = evaluate_ner(load_ner_layer(spacy_model), load_labelled(FIX / "tiny.jsonl", "jsonl")).micro
    proc = kgnlp("eval", "ner", "--data", str(FIX / "tiny.jsonl"), "--model", str(spacy_model), "--model-only",
                 "-w", str(ws), "--json", check=True)
    scores = json.loads(proc.stdout)["all"]
    assert (scores["tp"], scores["fp"], scores["fn"]) == (own.tp, own.fp, own.fn)


def test_model_only_needs_exactly_one_model(ws, spacy_model):
    for extra in ([], ["--model", str(spacy_model), "--model", str(spacy_model)]):
        proc = kgnlp("eval", "ner", "--data", str(FIX / "tiny.jsonl"), *extra, "--model-only", "-w", str(ws))
        assert proc.returncode == 1 and "exactly one --model" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
