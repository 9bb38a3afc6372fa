"""The fusion commands on a small app, with the tiny encoder (no workspace needed for --fusion none)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.commands import fusion as fusion_cli


def _app() -> typer.Typer:
    app = typer.Typer()
    train = typer.Typer()
    fusion_cli.register(app, train)
    app.add_typer(train, name="train")
    return app


def test_help_has_examples():
    runner = CliRunner()
    app = _app()
    for args in (["train", "classify", "--help"], ["train", "qa", "--help"], ["classify", "--help"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0 and "Example: kgnlp" in res.output


def test_train_then_classify_from_stdin(tmp_path, tiny_encoder):
    data = tmp_path / "d.jsonl"
    rows = [{"text": "profit rose , good news", "label": "positive"}, {"text": "shares fell , bad news", "label": "negative"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 4))
    runner = CliRunner()
    app = _app()
    res = runner.invoke(app, ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"), "--encoder",
                              str(tiny_encoder), "--epochs", "1", "--class-weight", "balanced", "--json", "--quiet",
                              "-w", str(tmp_path / "ws")])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["labels"] == ["negative", "positive"]
    res = runner.invoke(app, ["classify", "-", "--model", str(tmp_path / "m"), "--json", "-w", str(tmp_path / "ws")],
                        input="profit rose")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["label"] in ("negative", "positive") and abs(sum(out["scores"].values()) - 1) < 1e-5
    # --lines: one result per non-empty line, in order, the same as one text at a time
    res = runner.invoke(app, ["classify", "-", "--lines", "--model", str(tmp_path / "m"), "--json", "-w",
                              str(tmp_path / "ws")], input="profit rose\n\n  shares fell , bad news \n")
    assert res.exit_code == 0, res.output
    got = [json.loads(line) for line in res.stdout.strip().splitlines()]
    assert [g["text"] for g in got] == ["profit rose", "shares fell , bad news"]
    assert got[0]["label"] == out["label"] and got[0]["scores"] == pytest.approx(out["scores"], abs=1e-5)
    texts = tmp_path / "texts.txt"
    texts.write_text("profit rose\nshares fell , bad news\n", encoding="utf-8")
    res = runner.invoke(app, ["classify", str(texts), "--lines", "--model", str(tmp_path / "m"), "-w",
                              str(tmp_path / "ws")])
    assert res.exit_code == 0 and [line.split("\t")[0] for line in res.stdout.splitlines()] == \
        [g["label"] for g in got] and res.stdout.splitlines()[1].endswith("\tshares fell , bad news")
    for bad in (str(tmp_path / "missing.txt"), str(tmp_path / "ws")):
        res = runner.invoke(app, ["classify", bad, "--lines", "--model", str(tmp_path / "m")])
        assert res.exit_code == 1 and "--lines" in str(res.exception), res.exception


def test_train_qa_span(tmp_path, tiny_encoder):
    data = tmp_path / "qa.jsonl"
    row = {"question": "what does metformin treat ?", "context": "metformin treats diabetes .", "answer": "diabetes"}
    missing = {**row, "answer": "insulin"}  # not in its context: trained as no answer, and counted
    data.write_text("\n".join(json.dumps(r) for r in [row] * 5 + [missing]))
    res = CliRunner().invoke(_app(), ["train", "qa", "--data", str(data), "--out", str(tmp_path / "qa"), "--encoder",
                                      str(tiny_encoder), "--epochs", "1", "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert report["kind"] == "span" and report["answers_not_in_context"] == 1
    res = CliRunner().invoke(_app(), ["train", "qa", "--data", str(data), "--out", str(tmp_path / "qa2"), "--encoder",
                                      str(tiny_encoder), "--epochs", "1"])
    assert res.exit_code == 0 and "1 of 6 answers are not in their context" in " ".join(res.output.split())


def test_fusion_without_workspace_is_a_clear_error(tmp_path, tiny_encoder):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": "x", "label": "a"}))
    res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--fusion", "facts", "-w", str(tmp_path / "missing"), "--quiet"])
    assert res.exit_code != 0
    assert "does not exist" in str(res.exception)


def test_unknown_class_weight_is_refused_before_training(tmp_path, tiny_encoder):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": "x", "label": "a"}))
    res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--encoder", str(tiny_encoder), "--class-weight", "inverse", "--quiet"])
    assert res.exit_code == 2 and "--class-weight" in res.output
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("cmd, fusion, option", [
    ("classify", "facts", ["--inject-layer", "1"]), ("classify", "none", ["--inject-layer", "1"]),
    ("classify", "embeddings", ["--fact-mode", "concat"]), ("classify", "none", ["--fact-words", "sentence"]),
    ("classify", "facts", ["--entity-vectors", "all"]), ("qa", "none", ["--entity-vectors", "all"])])
def test_options_of_a_knowledge_path_the_model_lacks_are_refused_not_ignored(tmp_path, tiny_encoder, cmd, fusion,
                                                                            option):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": "x", "label": "a"}))
    res = CliRunner().invoke(_app(), ["train", cmd, "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--encoder", str(tiny_encoder), "--fusion", fusion, *option, "--quiet",
                                      "-w", str(tmp_path / "missing")])
    said = " ".join(res.output.split())  # the error box may wrap lines
    assert res.exit_code == 2 and option[0] in said
    assert f"not '{fusion}'" in said or "only a --fusion embeddings or both model reads" in said
    assert not (tmp_path / "m").exists()

@pytest.mark.parametrize("cmd, rows", [
    ("qa", [{"question": "what treats diabetes ?", "context": "metformin treats diabetes .", "answer": "metformin"}]),
    ("classify", [{"text": "metformin treats diabetes", "labels": ["drug", "disease"]}])])
def test_class_weights_where_there_are_no_single_label_classes_are_refused_not_ignored(tmp_path, tiny_encoder, cmd,
                                                                                      rows):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows * 3))
    res = CliRunner().invoke(_app(), ["train", cmd, "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--encoder", str(tiny_encoder), "--class-weight", "balanced", "--quiet"])
    assert res.exit_code == 1 and "--class-weight" in str(res.exception) and "\n" not in str(res.exception)
    assert not (tmp_path / "m").exists()

def test_train_with_a_schema_file_and_classify_without_it(tmp_path, tiny_encoder):
    """`--config` names the user relations' words for training; `classify` says facts the same way without it."""
    from tests.conftest import DATA, kgnlp

    fin, ws = DATA / "finance", tmp_path / "ws"
    doc = tmp_path / "n.txt"
    doc.write_text("Net sales rose.\n")
    kgnlp("ingest", str(doc), "--seed", str(fin), "--config", str(fin / "schema.toml"), "-w", str(ws), "--json",
          check=True)
    data = tmp_path / "d.jsonl"
    rows = [{"text": "net sales rose", "label": "positive"}, {"text": "costs rose", "label": "negative"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 4))
    app = _app()
    res = CliRunner().invoke(app, ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                   "--encoder", str(tiny_encoder), "--epochs", "1", "--fusion", "facts",
                                   "--config", str(fin / "schema.toml"), "-w", str(ws), "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["classify", "costs rose", "--model", str(tmp_path / "m"), "-w", str(ws), "--json"])
    assert res.exit_code == 0, res.output
    facts = json.loads(res.stdout.strip().splitlines()[-1])["facts"]
    assert {"costs going up is unfavourable", "costs going down is favourable"} & set(facts), facts
    assert not any("rising is" in f or "falling is" in f for f in facts), facts  # the fallback words
    # without the workspace it was trained with, the model still runs, with no facts, and says so on stderr
    res = CliRunner().invoke(app, ["classify", "costs rose", "--model", str(tmp_path / "m"), "-w",
                                   str(tmp_path / "elsewhere"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["facts"] == []
    assert "trained to read the graph (fusion 'facts')" in res.stderr and f"-w {ws.resolve()}" in res.stderr


def test_unknown_truncation_side_is_refused_before_training(tmp_path, tiny_encoder):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": "x", "label": "a"}))
    for cmd in ("classify", "qa"):
        res = CliRunner().invoke(_app(), ["train", cmd, "--data", str(data), "--out", str(tmp_path / "m"),
                                          "--encoder", str(tiny_encoder), "--truncation-side", "middle", "--quiet"])
        assert res.exit_code == 2 and "--truncation-side" in res.output
        assert not (tmp_path / "m").exists()


def test_truncation_side_is_saved_with_the_model(tmp_path, tiny_encoder):
    data = tmp_path / "d.jsonl"
    rows = [{"text": "profit rose , good news", "label": "positive"}, {"text": "shares fell , bad news", "label": "negative"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 2))
    res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--encoder", str(tiny_encoder), "--epochs", "1", "--truncation-side", "left",
                                      "--quiet", "-w", str(tmp_path / "ws")])
    assert res.exit_code == 0, res.output
    from fusion.config import saved_config

    assert saved_config(tmp_path / "m").fusion.truncation_side == "left"


def test_train_qa_with_long_answers(tmp_path, tiny_encoder):
    data = {str(i): {"QUESTION": f"does drug {i} work ?", "CONTEXTS": ["it was tested ."],
                     "final_decision": "yes" if i % 2 else "no", "LONG_ANSWER": "it works ." if i % 2 else "it fails ."}
            for i in range(10)}
    path = tmp_path / "ori_pqal.json"
    path.write_text(json.dumps(data))
    res = CliRunner().invoke(_app(), ["train", "qa", "--data", str(path), "--out", str(tmp_path / "m"), "--encoder",
                                      str(tiny_encoder), "--epochs", "1", "--long-answers", "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["kind"] == "yesno"
    bad = tmp_path / "qa.jsonl"
    bad.write_text(json.dumps({"question": "q ?", "context": "c .", "answer": "yes"}))
    res = CliRunner().invoke(_app(), ["train", "qa", "--data", str(bad), "--out", str(tmp_path / "m2"), "--encoder",
                                      str(tiny_encoder), "--long-answers", "--quiet"])
    assert res.exit_code != 0 and "PubMedQA JSON" in str(res.exception)
    assert "holds QA rows (JSONL)" in str(res.exception)  # was: "question 'question' is not an object"
    assert not (tmp_path / "m2").exists()
    for row in data.values():  # PubMedQA JSON without conclusions: long answers would add nothing
        del row["LONG_ANSWER"]
    path.write_text(json.dumps(data))
    res = CliRunner().invoke(_app(), ["train", "qa", "--data", str(path), "--out", str(tmp_path / "m3"), "--encoder",
                                      str(tiny_encoder), "--long-answers", "--quiet"])
    assert res.exit_code == 1 and "no question has a LONG_ANSWER" in str(res.exception), res.output
    assert not (tmp_path / "m3").exists()


def test_no_dev_trains_on_everything_for_every_epoch(tmp_path, tiny_encoder):
    """`--no-dev`: no dev split and no early stopping (every epoch run, the last kept); without it a dev split is
    scored. For `train classify` and for `train qa` with `--long-answers` (split by question)."""
    data = {str(i): {"QUESTION": f"does drug {i} work ?", "CONTEXTS": ["it was tested ."],
                     "final_decision": "yes" if i % 2 else "no", "LONG_ANSWER": "it works ." if i % 2 else "it fails ."}
            for i in range(10)}
    pqa = tmp_path / "ori_pqal.json"
    pqa.write_text(json.dumps(data))
    sentiment = tmp_path / "d.jsonl"
    rows = [{"text": "profit rose , good news", "label": "positive"}, {"text": "shares fell , bad news", "label": "negative"}]
    sentiment.write_text("\n".join(json.dumps(r) for r in rows * 4))

    def train(*args):
        res = CliRunner().invoke(_app(), ["train", *args, "--encoder", str(tiny_encoder), "--epochs", "2",
                                          "--patience", "1", "--json", "--quiet", "-w", str(tmp_path / "ws")])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout.strip().splitlines()[-1])

    for args in (["qa", "--data", str(pqa), "--long-answers"], ["classify", "--data", str(sentiment)]):
        with_dev = train(*args, "--out", str(tmp_path / f"{args[0]}-dev"))
        without = train(*args, "--out", str(tmp_path / f"{args[0]}-all"), "--no-dev")
        assert with_dev["dev"] and without["dev"] == {} and without["train"]["epochs_run"] == 2


def test_training_bars_show_the_loss_and_the_last_dev_score(tmp_path, tiny_encoder):
    """The bar of `kgnlp train classify|ner` (fused and spaCy) carries the running loss and the dev score."""
    import re

    from tests.conftest import DATA, kgnlp

    data = tmp_path / "d.jsonl"
    rows = [{"text": "profit rose , good news", "label": "positive"}, {"text": "shares fell , bad news", "label": "negative"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 10))
    bar = r"epoch 2\s+loss \d+\.\d{4}\s+{dev} \d\.\d{3} \(epoch 2\)"
    runs = [(["train", "classify", "--data", str(data), "--encoder", str(tiny_encoder)], "dev"),
            (["train", "ner", "--data", str(DATA / "labelled" / "ner.jsonl"), "--format", "jsonl", "--fusion", "none",
              "--encoder", str(tiny_encoder), "--dev", str(DATA / "labelled" / "ner.jsonl")], "dev F1"),
            (["train", "ner", "--data", str(DATA / "labelled" / "ner.jsonl"), "--format", "jsonl", "--kind", "spacy",
              "--dev", str(DATA / "labelled" / "ner.jsonl")], "dev F1")]
    for n, (args, dev) in enumerate(runs):
        proc = kgnlp(*args, "--epochs", "2", "--out", str(tmp_path / f"m{n}"), "-w", str(tmp_path / "ws"))
        assert proc.returncode == 0, proc.stderr
        assert re.search(bar.replace("{dev}", dev), proc.stderr), proc.stderr[-600:]


def test_a_damaged_model_folder_is_a_clear_error(tmp_path, tiny_encoder):
    """Each way a copied model folder can be broken gives a FusionError naming the file, not a library error."""
    import shutil

    from fusion.errors import FusionError

    rows = [{"text": "profit rose , good news", "label": "positive"}, {"text": "shares fell", "label": "negative"},
            {"text": "news", "label": "neutral"}]
    for name, n in (("m3", 3), ("m2", 2)):
        data = tmp_path / f"{name}.jsonl"
        data.write_text("\n".join(json.dumps(r) for r in rows[:n] * 4))
        res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(data), "--out", str(tmp_path / name),
                                          "--encoder", str(tiny_encoder), "--epochs", "1", "--quiet"])
        assert res.exit_code == 0, res.output

    def broken(label, damage):
        folder = tmp_path / label
        shutil.copytree(tmp_path / "m3", folder)
        damage(folder)
        return folder

    cases = [
        (broken("no-weights", lambda f: (f / "model.safetensors").unlink()), "has no model.safetensors"),
        (broken("cut-weights", lambda f: (f / "model.safetensors").write_bytes(b"\x10" * 100)), "does not hold"),
        (broken("foreign-weights", lambda f: shutil.copy(tmp_path / "m2" / "model.safetensors", f)), "size mismatch"),
        (broken("bad-config", lambda f: (f / "config.json").write_text("{")), "config.json' is damaged"),
        (broken("no-tokenizer", lambda f: [(f / n).unlink() for n in ("tokenizer.json", "tokenizer_config.json")]),
         "No usable tokenizer"),
    ]
    for folder, needle in cases:
        res = CliRunner().invoke(_app(), ["classify", "profit rose", "--model", str(folder)])
        assert res.exit_code == 1 and isinstance(res.exception, FusionError), (folder.name, res.exception)
        assert needle in str(res.exception) and "\n" not in str(res.exception), str(res.exception)
    res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(tmp_path / "m2.jsonl"), "--out",
                                      str(tmp_path / "m5"), "--encoder", str(tmp_path / "m3"), "--quiet"])
    assert isinstance(res.exception, FusionError) and "not an encoder" in str(res.exception)


def test_multilabel_classify_shows_every_label_above_one_half(tmp_path, tiny_encoder):
    data = tmp_path / "d.jsonl"
    rows = [{"text": "profit rose , good news", "labels": ["finance", "positive"]},
            {"text": "shares fell , bad news", "labels": ["finance", "negative"]}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 8))
    app, runner = _app(), CliRunner()
    res = runner.invoke(app, ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"), "--encoder",
                              str(tiny_encoder), "--epochs", "4", "--lr", "5e-3", "--no-dev", "--quiet"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["classify", "-", "--lines", "--model", str(tmp_path / "m"), "--json"],
                        input="profit rose , good news\nshares fell , bad news\n")
    assert res.exit_code == 0, res.output
    got = [json.loads(line) for line in res.stdout.strip().splitlines()]
    for g in got:  # the labels are those above 0.5; "finance", on every training row, is one of them
        assert g["labels"] == [lab for lab, p in g["scores"].items() if p > 0.5] and "finance" in g["labels"]
        assert g["label"] == max(g["scores"], key=g["scores"].get)
    res = runner.invoke(app, ["classify", "-", "--lines", "--model", str(tmp_path / "m")],
                        input="profit rose , good news\nshares fell , bad news\n")
    assert res.exit_code == 0 and [line.split("\t")[0] for line in res.stdout.splitlines()] == \
        [",".join(g["labels"]) for g in got]


@pytest.mark.parametrize("fusion", ["absent", {}, [], {"head": "tree", "labels": ["a", "b"]}])
def test_a_model_folder_with_damaged_fusion_settings_is_a_clear_error(tmp_path, fusion):
    """eval classify|qa, classify and ask read the head and labels from config.json before the weights: settings
    missing or of the wrong shape are a one-line error naming the file, not an internal KeyError."""
    from fusion.errors import FusionError
    from fusion.config import MARKER, saved_config

    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"kgnlp": MARKER, **({} if fusion == "absent" else
                                                                       {"fusion": fusion})}), encoding="utf-8")
    with pytest.raises(FusionError, match=r"config.json' is damaged \(its \"fusion\" settings") as err:
        saved_config(model)
    assert "\n" not in str(err.value)
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": "x", "label": "a"}) + "\n")
    from cli.commands.evaluate import eval_classify

    with pytest.raises(FusionError, match="is damaged"):
        eval_classify(data, model, tmp_path / "ws", True)


def test_an_error_found_after_the_data_is_read_comes_without_an_empty_training_bar(tmp_path, tiny_encoder):
    data = tmp_path / "one.jsonl"
    data.write_text("\n".join(json.dumps({"text": t, "label": "x"}) for t in ("profit rose", "shares fell")))
    res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--encoder", str(tiny_encoder)])
    assert res.exit_code == 1 and "needs at least two" in str(res.exception), res.output
    assert res.stderr == "" and not (tmp_path / "m").exists(), res.stderr
    # a run that trains still shows its bar
    data.write_text("\n".join(json.dumps({"text": t, "label": lab}) for t, lab in (("profit rose", "a"),
                                                                                   ("shares fell", "b"))))
    res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--encoder", str(tiny_encoder), "--epochs", "1"])
    assert res.exit_code == 0 and "training" in res.stderr and "epoch 1" in res.stderr, res.output


def test_a_model_of_another_task_is_refused_before_the_graph_is_read_or_answers(tmp_path, tiny_encoder):
    """`ask --model` with a classifier (not yes/no/maybe) or an NER model is an error even where the graph answers
    the question alone (it was ignored there); `classify` with an NER model says so before any graph line."""
    from cli.main import app
    from kg.records import Entity, Triple
    from tests.fusion.test_graph_origin import _workspace

    ws = _workspace(tmp_path / "ws", [Entity("C1", "metformin", "Chemical"), Entity("D1", "diabetes", "Disease")],
                    [Triple("C1", "TREATS", "D1")])
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps({"text": t, "label": lab}) for t, lab in (("profit rose", "good"),
                                                                                   ("shares fell", "bad"))))
    res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--encoder", str(tiny_encoder), "--epochs", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    question = "What does metformin treat?"
    assert "diabetes" in CliRunner().invoke(app, ["ask", question, "-w", str(ws), "--json"]).stdout  # the graph answers
    res = CliRunner().invoke(app, ["ask", question, "--model", str(tmp_path / "m"), "-w", str(ws), "--json"])
    assert res.exit_code == 1 and "not yes/no/maybe" in str(res.exception) and res.stdout == "", res.output
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["fusion"].update(head="token", fusion="facts")  # an NER model, as far as the commands read before loading
    config["graph"] = {"workspace": "/elsewhere", "entities": 9, "facts": 9, "digest": "0"}
    (tmp_path / "ner").mkdir()
    (tmp_path / "ner" / "config.json").write_text(json.dumps(config))
    res = CliRunner().invoke(app, ["ask", question, "--model", str(tmp_path / "ner"), "-w", str(ws)])
    assert res.exit_code == 1 and "is a token model" in str(res.exception), res.output
    res = CliRunner().invoke(_app(), ["classify", "metformin", "--model", str(tmp_path / "ner"), "-w", str(ws)])
    assert res.exit_code == 1 and "is a token model" in str(res.exception) and res.stderr == "", res.output


def test_a_dev_split_that_takes_a_labels_every_example_says_so(tmp_path):
    """Five examples, one of them 'y': where the seeded dev split takes that one, the error says why the
    training examples have one label, and what to do (before, it named only 'x', though the file has two)."""
    from fusion.data import TextExample
    from fusion.errors import FusionError
    from fusion.tasks import split_dev

    examples = [TextExample(t, ("x",)) for t in "abcd"] + [TextExample("e", ("y",))]
    seed = next(s for s in range(100) if split_dev(examples, 0.1, s)[1][0].labels == ("y",))
    data = tmp_path / "five.jsonl"
    data.write_text("\n".join(json.dumps({"text": e.text, "label": e.labels[0]}) for e in examples))
    res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--seed", str(seed), "--quiet"])
    assert res.exit_code == 1 and isinstance(res.exception, FusionError), res.output
    assert "1 of 5 examples went to the dev split, which took every example of 'y'" in str(res.exception)
    assert "--no-dev" in str(res.exception) and not (tmp_path / "m").exists()


def test_a_knowledge_path_over_an_empty_graph_is_refused(tmp_path, tiny_encoder):
    """A workspace with no entities gives a fused model nothing to read: refused, not trained as a plain model
    that records a graph."""
    from kg.workspace import Workspace

    Workspace.open(tmp_path / "ws", create=True).open_store().close()
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps({"text": t, "label": lab}) for t, lab in (("profit rose", "a"),
                                                                                   ("shares fell", "b"))))
    res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--encoder", str(tiny_encoder), "--fusion", "facts", "-w", str(tmp_path / "ws")])
    assert res.exit_code == 1 and "holds no entities" in str(res.exception), res.output
    assert not (tmp_path / "m").exists() and res.stderr == ""


def _dev_file(tmp_path, rows: list[dict], examples: list) -> Path:
    """The rows training split off as dev (``fusion.tasks.split_dev`` of ``examples``, read from ``rows``, with the
    commands' seed), written as a JSONL file."""
    from fusion.tasks import split_dev

    _, dev = split_dev(list(range(len(examples))), 0.1, 13)
    path = tmp_path / "dev.jsonl"
    path.write_text("".join(json.dumps(rows[i]) + "\n" for i in dev), encoding="utf-8")
    return path


@pytest.mark.parametrize("task", ["classify", "multilabel", "yesno", "span"])
def test_train_json_scores_the_dev_split_as_eval_writes_them(tmp_path, tiny_encoder, task):
    """`train classify|qa --json`: "dev" holds the scores of the dev split as `eval classify` or `eval qa --model`
    writes them for those examples (each label's row under "labels", "unknown_labels"; a QA model's "kind" at the
    top of both), not training's own summary ({"accuracy", "macro_f1", "n"}; spans {"exact_match", "n"})."""
    from cli.main import app
    from fusion.data import read_classification, read_qa

    rows = {"classify": [{"text": "profit rose , good news", "label": "positive"},
                         {"text": "shares fell , bad news", "label": "negative"}] * 5,
            "multilabel": [{"text": "profit rose , good news", "labels": ["positive", "profit"]},
                           {"text": "shares fell , bad news", "labels": ["negative"]}] * 5,
            "yesno": [{"question": f"does drug {i} work ?", "context": "it was tested .",
                       "answer": "yes" if i % 2 else "no"} for i in range(10)],
            "span": [{"question": "what does metformin treat ?", "context": "metformin treats diabetes .",
                      "answer": "diabetes"}] * 6}[task]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    command = "classify" if task in ("classify", "multilabel") else "qa"
    res = CliRunner().invoke(app, ["train", command, "--data", str(data), "--out", str(tmp_path / "m"), "--encoder",
                                   str(tiny_encoder), "--epochs", "1", "--json", "--quiet", "-w", str(tmp_path / "ws")])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout.strip().splitlines()[-1])
    examples = (read_classification(data) if command == "classify" else read_qa(data))[0]
    dev = _dev_file(tmp_path, rows, examples)
    res = CliRunner().invoke(app, ["eval", command, "--data", str(dev), "--model", str(tmp_path / "m"), "--json",
                                   "-w", str(tmp_path / "ws")])
    assert res.exit_code == 0, res.output
    scores = json.loads(res.stdout)
    assert scores.pop("kind", task) == report.get("kind", task)
    assert report["dev"] == scores and scores["n"] == 1
    assert ("labels" in scores and scores["unknown_labels"] == {}) is (task != "span"), scores
