"""``kgnlp eval classify`` and ``kgnlp eval qa --model``: trained fused models scored on labelled files."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fusion.evaluate import classification_scores, macro_f1, multilabel_scores, token_f1


def _invoke(*args: str):
    from cli.main import app

    return CliRunner().invoke(app, list(args))


def _refused(capsys, *args: str) -> str:
    """Run the CLI as `kgnlp` does (its error handling included): exit 1 with one line on stderr, returned."""
    from cli.main import run

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        run(list(args))
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("Loading weights")]
    assert exit_.value.code == 1 and len(err) == 1 and err[0].startswith("Error: "), (args, err)
    return err[0]


def test_classification_scores_agree_with_scikit_learn():
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
    from sklearn.preprocessing import MultiLabelBinarizer

    rng = random.Random(3)
    gold = [rng.choice("abcd") for _ in range(200)]  # "d" is never predicted, "e" is never gold
    pred = [g if rng.random() < 0.6 else rng.choice("abce") for g in gold]
    got = classification_scores(gold, pred)
    assert got["accuracy"] == pytest.approx(accuracy_score(gold, pred))
    assert got["macro_f1"] == pytest.approx(f1_score(gold, pred, average="macro", zero_division=0))
    assert macro_f1(gold, pred) == pytest.approx(got["macro_f1"])  # the dev score training reports: the same
    assert macro_f1(["a"], ["a"]) == 1.0  # a label of the model that neither has does not count as 0
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=list("abcde"), zero_division=0)
    for i, lab in enumerate("abcde"):
        assert [got["labels"][lab][k] for k in ("precision", "recall", "f1", "support")] == \
            pytest.approx([p[i], r[i], f[i], s[i]])
    assert sum(got["confusion"]["a"].values()) == gold.count("a") and "e" not in got["confusion"]

    gold_sets = [{x for x in "xyz" if rng.random() < 0.4} for _ in range(100)]
    pred_sets = [{x for x in "xyz" if (x in g) == (rng.random() < 0.8)} for g in gold_sets]
    mlb = MultiLabelBinarizer(classes=list("xyz")).fit([list("xyz")])
    g, p = mlb.transform([sorted(s) for s in gold_sets]), mlb.transform([sorted(s) for s in pred_sets])
    multi = multilabel_scores(gold_sets, pred_sets)
    assert multi["micro_f1"] == pytest.approx(f1_score(g, p, average="micro", zero_division=0))
    assert multi["exact_set_accuracy"] == pytest.approx(accuracy_score(g, p))


def test_token_f1_uses_squad_normalisation():
    assert token_f1("The Metformin.", "metformin") == 1.0
    assert token_f1("metformin insulin", "metformin") == pytest.approx(2 * 0.5 * 1 / 1.5)  # P 1/2, R 1
    assert token_f1("", "") == 1.0 and token_f1("aspirin", "") == 0.0 and token_f1("aspirin", "metformin") == 0.0



def test_train_qa_dev_exact_match_is_the_one_eval_qa_scores(tmp_path, tiny_encoder, monkeypatch):
    """The dev exact match `train qa` reports (and stops early on) normalises answers as SQuAD and `eval qa
    --model` do: a reader answering "shares" for "The shares" matches in both."""
    import fusion.predict
    from fusion.config import FusionConfig
    from fusion.data import SpanExample
    from fusion.tasks import train_span_qa
    from fusion.train import TrainSettings

    ctx = "The shares fell ."
    examples = [SpanExample("what fell ?", ctx, "The shares", 0)] * 6
    monkeypatch.setattr(fusion.predict, "span_answers", lambda model, items, contexts, *a: ["shares"] * len(items))
    report = train_span_qa(examples, tmp_path / "m", FusionConfig(head="span", max_length=32), encoder=tiny_encoder,
                           settings=TrainSettings(epochs=1, batch_size=8))
    assert report.dev == {"n": 1, "exact_match": 1.0, "f1": 1.0, "answered": 1}  # eval qa --model's scores

def test_eval_classify_scores_the_models_own_predictions(tmp_path, tiny_encoder, capsys):
    from fusion.predict import Classifier

    train = tmp_path / "train.jsonl"
    rows = [{"text": "profit rose , good news", "label": "positive"},
            {"text": "shares fell , bad news", "label": "negative"}]
    train.write_text("\n".join(json.dumps(r) for r in rows * 4))
    model = tmp_path / "m"
    res = _invoke("train", "classify", "--data", str(train), "--out", str(model), "--encoder", str(tiny_encoder),
                  "--epochs", "2", "--lr", "0.01", "--quiet", "-w", str(tmp_path / "ws"))
    assert res.exit_code == 0, res.output
    test = tmp_path / "test.jsonl"
    test_rows = [*rows, {"text": "the company is good", "label": "positive"},
                 {"text": "the drug is of the company", "label": "neutral"}]  # a label the model does not know
    test.write_text("\n".join(json.dumps(r) for r in test_rows))
    res = _invoke("eval", "classify", "--data", str(test), "--model", str(model), "--json", "-w", str(tmp_path / "ws"))
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout.strip().splitlines()[-1])
    preds = [p.label for p in Classifier.load(model).classify([r["text"] for r in test_rows])]
    right = sum(p == r["label"] for p, r in zip(preds, test_rows))
    assert got["n"] == 4 and got["accuracy"] == pytest.approx(right / 4) and right <= 3
    assert got["unknown_labels"] == {"neutral": 1} and got["labels"]["neutral"] == \
        {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    human = _invoke("eval", "classify", "--data", str(test), "--model", str(model), "-w", str(tmp_path / "ws"))
    assert human.exit_code == 0 and "4 examples: accuracy" in human.output and "neutral (1)" in human.output
    # a classifier is not a QA model, and a QA file is not classification data: one line each, exit 1
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"question": "q ?", "context": "metformin treats diabetes", "answer": "diabetes"}))
    assert "not yes/no/maybe: `eval qa --model` needs a QA model" in _refused(
        capsys, "eval", "qa", "--data", str(qa), "--model", str(model))
    yes_no = tmp_path / "yn.jsonl"  # yes/no questions too: it scored them as if it read them (accuracy 0)
    yes_no.write_text(json.dumps({"question": "q ?", "context": "metformin treats diabetes", "answer": "yes"}))
    assert "not yes/no/maybe: `eval qa --model` needs a QA model" in _refused(
        capsys, "eval", "qa", "--data", str(yes_no), "--model", str(model))
    ner = tmp_path / "ner"  # an NER model (its head as config.json names it): it was "a token model, which reads
    ner.mkdir()             # span answers; qa.jsonl holds span answers"
    config = json.loads((model / "config.json").read_text())
    config["fusion"].update(head="token", labels=["O", "B-Chemical", "I-Chemical"])
    (ner / "config.json").write_text(json.dumps(config))
    assert "is a token model; `eval qa --model` needs a QA model" in _refused(
        capsys, "eval", "qa", "--data", str(qa), "--model", str(ner))
    assert "expected {\"text\", \"label\"}" in _refused(capsys, "eval", "classify", "--data", str(qa), "--model",
                                                      str(model))
    assert "No fused model at" in _refused(capsys, "eval", "classify", "--data", str(test), "--model",
                                           str(tmp_path / "none"))


def test_eval_qa_scores_a_yes_no_reader_with_its_graph_and_a_span_reader(tmp_path, tiny_encoder, capsys):
    from fusion.predict import Classifier
    from fusion.reader import Reader
    from kg.workspace import Workspace
    from tests.fusion.test_ask_reader import _metformin_workspace_and_questions

    ws, data = _metformin_workspace_and_questions(tmp_path)
    reader = tmp_path / "reader"
    res = _invoke("train", "qa", "--data", str(data), "--encoder", str(tiny_encoder), "--epochs", "1", "--fusion",
                  "facts", "--out", str(reader), "-w", str(ws), "--quiet")
    assert res.exit_code == 0, res.output
    res = _invoke("eval", "qa", "--data", str(data), "--model", str(reader), "-w", str(ws), "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout.strip().splitlines()[-1])
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    store = Workspace.open(ws).open_store()
    try:  # the same model with the same graph, question by question
        preds = Classifier.load(reader, store).classify([r["question"] for r in rows], [r["context"] for r in rows])
    finally:
        store.close()
    assert got["kind"] == "yesno" and got["n"] == 6
    assert got["accuracy"] == pytest.approx(sum(p.label == r["answer"] for p, r in zip(preds, rows)) / 6)
    # a model that reads the graph is not scored without it
    assert f"-w {Path(ws).resolve()}" in _refused(capsys, "eval", "qa", "--data", str(data), "--model", str(reader),
                                                  "-w", str(tmp_path / "missing"))  # the one it was trained with

    spans = tmp_path / "spans.jsonl"
    span_rows = [{"question": "what does metformin treat ?", "context": "metformin treats diabetes .",
                  "answer": "diabetes"},
                 {"question": "what does aspirin cause ?", "context": "aspirin causes bleeding .", "answer": "bleeding"}]
    spans.write_text("\n".join(json.dumps(r) for r in span_rows * 3))
    span_model = tmp_path / "span"
    res = _invoke("train", "qa", "--data", str(spans), "--encoder", str(tiny_encoder), "--epochs", "1",
                  "--out", str(span_model), "--quiet")
    assert res.exit_code == 0, res.output
    res = _invoke("eval", "qa", "--data", str(spans), "--model", str(span_model), "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout.strip().splitlines()[-1])
    answers = Reader.load(span_model).read_pairs([r["question"] for r in span_rows], [r["context"] for r in span_rows])
    exact = [a is not None and a.text.strip(" .").lower() == r["answer"] for a, r in zip(answers, span_rows)]
    assert got["kind"] == "span" and got["n"] == 6 and got["exact_match"] == pytest.approx(sum(exact) / 2)
    assert got["exact_match"] <= got["f1"] <= 1.0
    assert "holds span answers" in _refused(capsys, "eval", "qa", "--data", str(spans), "--model", str(reader),
                                            "-w", str(ws))


def test_classify_and_eval_classify_refuse_a_yes_no_qa_model(tmp_path, tiny_encoder, capsys):
    """A yes/no/maybe model from `train qa` has a sequence head, as a classifier has, but answers a question from
    its passage: `classify` labelled a text alone with it (exit 0), and `eval classify` scored it so. Both refuse it
    in one line that names `ask --model`, before any text is read."""
    data = tmp_path / "yn.jsonl"
    rows = [{"question": "does metformin treat diabetes ?", "context": "metformin treats diabetes .", "answer": "yes"},
            {"question": "does aspirin treat diabetes ?", "context": "aspirin causes bleeding .", "answer": "no"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 3))
    model = tmp_path / "yn"
    res = _invoke("train", "qa", "--data", str(data), "--encoder", str(tiny_encoder), "--epochs", "1", "--no-dev",
                  "--out", str(model), "--quiet")
    assert res.exit_code == 0, res.output
    texts = tmp_path / "texts.jsonl"
    texts.write_text(json.dumps({"text": "metformin treats diabetes", "label": "yes"}))
    old = tmp_path / "old"  # saved before the model said it reads pairs: its labels say it
    old.mkdir()
    config = json.loads((model / "config.json").read_text())
    assert config["extra"].pop("pairs") is True
    (old / "config.json").write_text(json.dumps(config))
    for qa in (model, old):
        for args in (("classify", "metformin treats diabetes"), ("eval", "classify", "--data", str(texts))):
            line = _refused(capsys, *args, "--model", str(qa), "-w", str(tmp_path / "none"))
            assert "is a yes/no/maybe QA model" in line and f"`kgnlp ask --model {qa}`" in line, line
    # a classifier of texts whose labels happen to be yes and no is one
    labelled = tmp_path / "c.jsonl"
    labelled.write_text("\n".join(json.dumps({"text": r["context"], "label": r["answer"]}) for r in rows))
    res = _invoke("train", "classify", "--data", str(labelled), "--encoder", str(tiny_encoder), "--epochs", "1",
                  "--no-dev", "--out", str(tmp_path / "c"), "--quiet")
    assert res.exit_code == 0, res.output
    res = _invoke("classify", "metformin treats diabetes", "--model", str(tmp_path / "c"), "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["label"] in ("yes", "no"), res.output
