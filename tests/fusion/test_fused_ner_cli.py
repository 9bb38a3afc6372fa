"""`kgnlp train ner --fusion` and `kgnlp ner|ingest --model FUSED_DIR`, through the real CLI."""
from __future__ import annotations

import json

import pytest

from tests.conftest import kgnlp, kgnlp_json


def _train_tiny_ner(tiny_encoder, tmp_path, out) -> None:
    """A one-epoch fused NER model (fusion none) at ``out``, from one labelled sentence."""
    from typer.testing import CliRunner

    from cli.main import app

    row = {"text": "metformin treats diabetes .", "entities": [{"start": 0, "end": 9, "label": "Chemical"}]}
    (tmp_path / "t.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["train", "ner", "--data", str(tmp_path / "t.jsonl"), "--fusion", "none",
                                   "--encoder", str(tiny_encoder), "--epochs", "1", "--max-length", "16", "--quiet",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output


def _fake_ner_layer(monkeypatch, look) -> list:
    """ingest's NER model loader replaced by one whose models find nothing; what ``look`` reads from the graph a
    model is given to read is listed, once per model, in the list returned."""
    from cli.commands import ingest as ingest_cli

    seen: list = []

    class Layer:
        name, kind, priority = "fake", "transformer", 20

        def predict(self, texts):
            return [[] for _ in texts]

    class Loaded:
        def reading(self, store=None, workspace=None):
            seen.append(look(store))
            return Layer()

    monkeypatch.setattr(ingest_cli, "load_models", lambda models: [Loaded() for _ in models])
    return seen


def test_train_fused_ner_then_tag_with_it(tiny_encoder, tmp_path):
    ws = tmp_path / "ws"
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "entities.jsonl").write_text(
        json.dumps({"id": "C1", "name": "metformin", "type": "Chemical"}) + "\n"
        + json.dumps({"id": "D1", "name": "diabetes", "type": "Disease"}) + "\n", encoding="utf-8")
    doc = tmp_path / "d.txt"
    doc.write_text("metformin treats diabetes.", encoding="utf-8")
    kgnlp("ingest", str(doc), "--seed", str(seed), "-w", str(ws), "--json", check=True)
    train = tmp_path / "train.jsonl"
    rows = [{"text": "metformin treats diabetes .", "entities": [
        {"start": 0, "end": 9, "label": "Chemical"}, {"start": 17, "end": 25, "label": "Disease"}]}] * 4
    train.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    schema = tmp_path / "schema.toml"
    schema.write_text('[[relations]]\nname = "TREATS"\nverb = "is a therapy for"\n', encoding="utf-8")
    got = kgnlp_json("train", "ner", "--data", str(train), "--format", "jsonl", "--fusion", "facts",
                     "--encoder", str(tiny_encoder), "--epochs", "1", "--max-steps", "2", "--out",
                     str(tmp_path / "m"), "-w", str(ws), "--config", str(schema))
    assert got["kind"] == "fused" and got["fusion"] == "facts" and got["train"]["steps"] >= 1
    saved = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))["fusion"]
    assert saved["relation_verbs"] == [["TREATS", "is a therapy for"]]  # --config reached the model
    assert saved["fact_share"] == 0.2  # the default of every head and the setting the benchmarks measured
    graph = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))["graph"]
    assert graph["workspace"] == str(ws.resolve()) and graph["entities"] == 2  # the graph it was trained with
    proc = kgnlp("ner", "aspirin treats diabetes.", "--model", str(tmp_path / "m"), "-w", str(ws), "--json",
                 check=True)
    assert "Warning" not in proc.stderr and "Note" not in proc.stderr, proc.stderr
    tagged = json.loads(proc.stdout)
    text = "aspirin treats diabetes."
    # without a workspace the model runs with no graph knowledge, and says which one it was trained with
    alone = kgnlp("ner", text, "--model", str(tmp_path / "m"), "-w", str(tmp_path / "none"), "--json", check=True)
    assert "without graph knowledge" in alone.stderr and f"-w {ws.resolve()}" in alone.stderr, alone.stderr
    assert f"no kgnlp workspace at '{tmp_path / 'none'}'" in alone.stderr, alone.stderr  # as `classify` says it
    assert all(text[e["start"]:e["end"]] == e["text"] for e in tagged["entities"])
    assert kgnlp_json("ner", text, "--profile", "accurate", "--model", str(tmp_path / "m"), "-w", str(ws))
    fast = kgnlp("ner", text, "--profile", "fast", "--model", str(tmp_path / "m"), "-w", str(ws))
    assert fast.returncode == 1 and "the fast profile runs none" in fast.stderr


def test_unknown_fusion_is_one_line_error(tiny_encoder, tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"text": "metformin .", "entities": []}) + "\n", encoding="utf-8")
    proc = kgnlp("train", "ner", "--data", str(train), "--fusion", "all", "--out", str(tmp_path / "m"))
    assert proc.returncode == 2 and "'all' is not one of: none, facts" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_entity_vectors_is_one_line_error(tiny_encoder, tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"text": "metformin .", "entities": []}) + "\n", encoding="utf-8")
    proc = kgnlp("train", "ner", "--data", str(train), "--fusion", "embeddings", "--entity-vectors", "some",
                 "--out", str(tmp_path / "m"), "-w", str(tmp_path / "ws"))
    assert proc.returncode == 2 and "'some' is not one of: all, trained" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "m").exists()


def test_entity_vectors_without_a_graph_embeddings_path_is_refused_not_ignored(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"text": "metformin .", "entities": []}) + "\n", encoding="utf-8")
    for fusion in ([], ["--fusion", "facts"]):
        proc = kgnlp("train", "ner", "--data", str(train), *fusion, "--entity-vectors", "all",
                     "--out", str(tmp_path / "m"), "-w", str(tmp_path / "ws"))
        assert proc.returncode == 2 and "--entity-vectors" in proc.stderr and "Traceback" not in proc.stderr
        assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("args, flag", [
    (["--kind", "spacy", "--encoder", "ENC"], "--encoder"), (["--kind", "spacy", "--max-length", "64"], "--max-length"),
    (["--kind", "transformer", "--cnn-width", "48"], "--cnn-width"), (["--fusion", "none", "--cnn-depth", "2"],
                                                                       "--cnn-depth"),
    (["--fusion", "none", "--kind", "transformer"], "--kind")])
def test_options_of_another_kind_of_ner_model_are_refused_not_ignored(tmp_path, tiny_encoder, args, flag):
    from typer.testing import CliRunner

    from cli.main import app

    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"text": "metformin .", "entities": []}) + "\n", encoding="utf-8")
    args = [str(tiny_encoder) if a == "ENC" else a for a in args]
    res = CliRunner().invoke(app, ["train", "ner", "--data", str(train), *args, "--out", str(tmp_path / "m"),
                                   "-w", str(tmp_path / "ws")])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and flag in said and "leave" in said, said
    assert not (tmp_path / "m").exists()


def test_ingest_with_a_seed_loads_a_fused_model_on_the_seeded_graph(tmp_path, monkeypatch):
    """The fused layer builds its name linker when it loads: on a new workspace it must see the --seed's entities,
    not the empty graph of before the seed."""
    from typer.testing import CliRunner

    from cli.main import app
    from tests.conftest import write_seed

    seen = _fake_ner_layer(monkeypatch, lambda store: sorted(i for _, i, _ in store.names()))
    seed = write_seed(tmp_path / "seed", [{"id": "C1", "name": "metformin", "type": "Chemical"}])
    (tmp_path / "d.txt").write_text("metformin helps.", encoding="utf-8")
    (tmp_path / "m").mkdir()
    res = CliRunner().invoke(app, ["ingest", str(tmp_path / "d.txt"), "--seed", str(seed), "--model",
                                   str(tmp_path / "m"), "-w", str(tmp_path / "ws"), "--json"])
    assert res.exit_code == 0, res.output
    assert seen == [["C1"]]


def test_dev_entity_types_the_training_data_lacks_are_named(tmp_path, tiny_encoder):
    """A dev file with a type no training mention has scores F1 0 on it: the command says why, as `train classify`
    does for dev labels."""
    from typer.testing import CliRunner

    from cli.main import app

    row = {"text": "metformin treats diabetes .", "entities": [{"start": 0, "end": 9, "label": "Chemical"}]}
    dev = {"text": "metformin treats diabetes .", "entities": [{"start": 17, "end": 25, "label": "Illness"}]}
    (tmp_path / "t.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    (tmp_path / "d.jsonl").write_text(json.dumps(dev) + "\n", encoding="utf-8")
    args = ["train", "ner", "--data", str(tmp_path / "t.jsonl"), "--dev", str(tmp_path / "d.jsonl"), "--fusion",
            "none", "--encoder", str(tiny_encoder), "--epochs", "1", "--max-length", "16", "--quiet"]
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    assert "Dev entity types no training mention has" in res.stderr and "Illness" in res.stderr, res.stderr
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "m2"), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["dev_labels_not_trained"] == ["Illness"], res.output


def test_ingest_refuses_a_fused_model_of_another_task_before_touching_the_workspace(tmp_path):
    """The fused layer now loads after the --seed is stored; a classifier given as --model is still refused
    first, with nothing written."""
    from typer.testing import CliRunner

    from cli.main import app
    from fusion.config import MARKER
    from tests.conftest import write_seed

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps(
        {"kgnlp": MARKER, "fusion": {"head": "sequence", "labels": ["a", "b"]}}), encoding="utf-8")
    seed = write_seed(tmp_path / "seed", [{"id": "C1", "name": "metformin", "type": "Chemical"}])
    (tmp_path / "d.txt").write_text("metformin helps.", encoding="utf-8")
    res = CliRunner().invoke(app, ["ingest", str(tmp_path / "d.txt"), "--seed", str(seed), "--model",
                                   str(tmp_path / "m"), "-w", str(tmp_path / "ws")])
    assert not (tmp_path / "ws").exists()  # refused before the workspace is made (and the seed stored)
    assert res.exit_code == 1 and "is a sequence model" in str(res.exception), res.output


def test_ingest_gives_a_fused_model_the_graph_with_the_workspace_merges(tmp_path, monkeypatch):
    """`kgnlp entities merge` is a view: a fused NER layer loaded by ingest reads the graph as `ner --model` and
    training do (a merged entity's names are the aliases of the one it went into), not the stored rows."""
    from typer.testing import CliRunner

    from cli.main import app
    from kg.merges import MergeLog
    from kg.records import Entity
    from tests.fusion.test_graph_origin import _workspace

    ws = _workspace(tmp_path / "ws", [Entity("C1", "metformin", "Chemical"), Entity("D1", "diabetes", "Disease"),
                                      Entity("D2", "type 2 diabetes", "Disease")])
    with MergeLog.for_workspace(ws) as log:
        log.record("D1", "D2", "test", "same disease", 0.95)
    seen = _fake_ner_layer(monkeypatch, lambda store: sorted(set(store.names())))
    (tmp_path / "d.txt").write_text("metformin helps.", encoding="utf-8")
    (tmp_path / "m").mkdir()
    res = CliRunner().invoke(app, ["ingest", str(tmp_path / "d.txt"), "--model", str(tmp_path / "m"), "-w", str(ws),
                                   "--json"])
    assert res.exit_code == 0, res.output
    assert seen == [[("diabetes", "D1", "Disease"), ("metformin", "C1", "Chemical"),
                     ("type 2 diabetes", "D1", "Disease")]], seen


@pytest.mark.parametrize("weights", [None, b"\x10" * 100], ids=["missing", "cut-short"])
def test_ingest_refuses_a_fused_model_without_its_weights_before_touching_the_workspace(tmp_path, weights):
    """A fused NER model loads after the --seed is stored; one whose model.safetensors is missing or not a
    safetensors file is refused first, with nothing written (no workspace made, no seed stored)."""
    from typer.testing import CliRunner

    from cli.main import app
    from fusion.config import MARKER
    from tests.conftest import write_seed

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps(
        {"kgnlp": MARKER, "fusion": {"head": "token", "labels": ["O", "B-Chemical", "I-Chemical"]}}), encoding="utf-8")
    if weights is not None:
        (tmp_path / "m" / "model.safetensors").write_bytes(weights)
    seed = write_seed(tmp_path / "seed", [{"id": "C1", "name": "metformin", "type": "Chemical"}])
    (tmp_path / "d.txt").write_text("metformin helps.", encoding="utf-8")
    res = CliRunner().invoke(app, ["ingest", str(tmp_path / "d.txt"), "--seed", str(seed), "--model",
                                   str(tmp_path / "m"), "-w", str(tmp_path / "ws")])
    assert not (tmp_path / "ws").exists(), res.output  # refused before the workspace is made (and the seed stored)
    assert res.exit_code == 1 and "model.safetensors" in str(res.exception), res.output
    assert "\n" not in str(res.exception)


@pytest.mark.parametrize("seeded", [False, True], ids=["no-seed", "seed"])
def test_ingest_refuses_a_fused_model_with_a_damaged_tokenizer_before_touching_the_workspace(tmp_path, tiny_encoder,
                                                                                             seeded):
    """A fused NER model loads (weights and tokenizer) before ingest makes the workspace or stores the --seed, and
    gets the graph after: one whose tokenizer is damaged left an empty new workspace behind (and a stored seed)."""
    from typer.testing import CliRunner

    from cli.main import app
    from tests.conftest import write_seed

    _train_tiny_ner(tiny_encoder, tmp_path, tmp_path / "m")
    (tmp_path / "m" / "tokenizer.json").write_text("{", encoding="utf-8")  # cut short
    (tmp_path / "d.txt").write_text("metformin helps.", encoding="utf-8")
    seed = ["--seed", str(write_seed(tmp_path / "seed", [{"id": "C1", "name": "metformin", "type": "Chemical"}]))]
    res = CliRunner().invoke(app, ["ingest", str(tmp_path / "d.txt"), *(seed if seeded else []), "--model",
                                   str(tmp_path / "m"), "-w", str(tmp_path / "ws")])
    assert res.exit_code == 1 and "No usable tokenizer" in str(res.exception), res.output
    assert not (tmp_path / "ws").exists()  # nothing made, nothing stored


def test_eval_ner_names_gold_types_a_fused_model_was_not_trained_on(tmp_path, tiny_encoder):
    """`eval ner --model FUSED --model-only`: a gold type no training mention had is counted in --json."""
    from typer.testing import CliRunner

    from cli.main import app

    row = {"text": "metformin treats diabetes .", "entities": [{"start": 0, "end": 9, "label": "Chemical"}]}
    gold = {"text": "metformin treats diabetes .", "entities": [{"start": 0, "end": 9, "label": "Chemical"},
                                                                {"start": 17, "end": 25, "label": "Disease"}]}
    (tmp_path / "t.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    (tmp_path / "g.jsonl").write_text(json.dumps(gold) + "\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["train", "ner", "--data", str(tmp_path / "t.jsonl"), "--fusion", "none",
                                   "--encoder", str(tiny_encoder), "--epochs", "1", "--max-length", "16", "--quiet",
                                   "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    ws = tmp_path / "ws"
    (tmp_path / "d.txt").write_text("metformin helps.", encoding="utf-8")
    assert CliRunner().invoke(app, ["ingest", str(tmp_path / "d.txt"), "-w", str(ws), "--json"]).exit_code == 0
    res = CliRunner().invoke(app, ["eval", "ner", "--data", str(tmp_path / "g.jsonl"), "--model", str(tmp_path / "m"),
                                   "--model-only", "-w", str(ws), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["unknown_labels"] == {"Disease": 1}, res.stdout


def test_ingest_fast_profile_refuses_a_fused_model_before_touching_the_workspace(tmp_path, tiny_encoder):
    """A fused NER model is a transformer-kind layer, which --profile fast runs none of: refused before the workspace
    is made or the --seed stored (it was refused once the layers loaded, after both)."""
    from typer.testing import CliRunner

    from cli.main import app
    from tests.conftest import write_seed

    _train_tiny_ner(tiny_encoder, tmp_path, tmp_path / "m")
    (tmp_path / "d.txt").write_text("metformin helps.", encoding="utf-8")
    seed = write_seed(tmp_path / "seed", [{"id": "C1", "name": "metformin", "type": "Chemical"}])
    res = CliRunner().invoke(app, ["ingest", str(tmp_path / "d.txt"), "--seed", str(seed), "--profile", "fast",
                                   "--model", str(tmp_path / "m"), "-w", str(tmp_path / "ws")])
    assert res.exit_code == 1 and "the fast profile runs none" in str(res.exception), res.output
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize("kind", ["spacy", "transformer", "fused"])
def test_train_ner_json_scores_the_dev_file_as_eval_ner_writes_them(tmp_path, tiny_encoder, kind):
    """`train ner --json`: the scores on the --dev file (spaCy and transformer: under "eval", beside "on"; fused:
    under "dev") are what `eval ner --model M --model-only --json` writes for that file: the overall scores at the
    top, each label's row under "labels", "unknown_labels" (was: {"micro", "by_label"}, or flat scores)."""
    from pathlib import Path

    from typer.testing import CliRunner

    from cli.main import app
    from kg.workspace import Workspace

    fix = Path(__file__).resolve().parents[1] / "fixtures" / "extraction"
    train = tmp_path / "t.jsonl"  # without the line of the Person, Location and Organization: types not trained on
    train.write_text("".join(line + "\n" for line in (fix / "tiny.jsonl").read_text(encoding="utf-8").splitlines()
                             if line and '"Person"' not in line), encoding="utf-8")
    model = {"spacy": ["--kind", "spacy", "--cnn-width", "48", "--cnn-depth", "2"],
             "transformer": ["--kind", "transformer", "--encoder", str(tiny_encoder), "--max-length", "32"],
             "fused": ["--fusion", "none", "--encoder", str(tiny_encoder), "--max-length", "32"]}[kind]
    res = CliRunner().invoke(app, ["train", "ner", "--data", str(train), "--dev", str(fix / "tiny.jsonl"), *model,
                                   "--epochs", "1", "--max-steps", "2", "--out", str(tmp_path / "m"), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    scores = report["dev"] if kind == "fused" else report["eval"]
    assert scores.pop("on", "dev") == "dev" and report["kind"] == kind
    Workspace.open(tmp_path / "ws", create=True).open_store("embedded").close()
    res = CliRunner().invoke(app, ["eval", "ner", "--data", str(fix / "tiny.jsonl"), "--model", str(tmp_path / "m"),
                                   "--model-only", "-w", str(tmp_path / "ws"), "--json"])
    assert res.exit_code == 0, res.output
    assert scores == json.loads(res.stdout)
    assert set(scores) == {"precision", "recall", "f1", "tp", "fp", "fn", "labels", "unknown_labels"}, scores
    assert scores["unknown_labels"] == {"Location": 1, "Organization": 1, "Person": 1}
    assert scores["tp"] + scores["fn"] == 11 and set(scores["labels"]) >= {"Chemical", "Disease", "Person"}
