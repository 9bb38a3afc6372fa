"""``train ner`` and ``entities merges|unmerge|resolve`` through a small Typer app (CliRunner)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.commands.extraction import register
from kg.records import Entity
from kg.workspace import Workspace

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "extraction"


@pytest.fixture()
def app():
    root = typer.Typer()
    train_app = typer.Typer()
    entities_app = typer.Typer()
    register(root, train_app, entities_app)
    root.add_typer(train_app, name="train")
    root.add_typer(entities_app, name="entities")
    return root


@pytest.fixture()
def ws(tmp_path):
    w = Workspace.open(tmp_path / "ws", create=True)
    store = w.open_store("embedded")
    store.add([], [Entity("org:pfizer-inc", "Pfizer Inc.", "Organization", (), (("ticker", "PFE"),)),
                   Entity("org:pfizer", "Pfizer", "Organization"),
                   Entity("org:pfe", "PFE", "Organization"),
                   Entity("org:moderna", "Moderna", "Organization")])
    store.close()
    return w.path


def test_train_ner_json_reports_eval(app, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["train", "ner", "--data", str(FIX / "tiny.jsonl"), "--format", "jsonl",
                              "--kind", "spacy", "--out", str(tmp_path / "m"), "--dev", str(FIX / "tiny.jsonl"),
                              "--epochs", "1", "--max-steps", "2", "--cnn-width", "48", "--cnn-depth", "2", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout.strip().splitlines()[-1])
    assert data["kind"] == "spacy" and data["eval"]["on"] == "dev"
    marker = json.loads((tmp_path / "m" / "kgnlp_ner.json").read_text())
    assert (marker["config"]["cnn_width"], marker["config"]["cnn_depth"]) == (48, 2)
    assert set(data["eval"]) >= {"precision", "recall", "f1", "labels", "unknown_labels"}  # eval ner's shape
    assert (tmp_path / "m" / "kgnlp_ner.json").exists()


def test_train_ner_help_has_an_example(app):
    res = CliRunner().invoke(app, ["train", "ner", "--help"])
    assert res.exit_code == 0 and "Example: kgnlp train ner" in res.output


def test_resolve_then_list_then_unmerge(app, ws):
    runner = CliRunner()
    dry = json.loads(runner.invoke(app, ["entities", "resolve", "-w", str(ws), "--dry-run", "--json"]).stdout)
    assert dry["dry_run"] and len(dry["merges"]) == 2
    assert json.loads(runner.invoke(app, ["entities", "merges", "-w", str(ws), "--json"]).stdout)["merges"] == []
    res = runner.invoke(app, ["entities", "resolve", "-w", str(ws), "--json"])
    assert res.exit_code == 0, res.output
    merged = {m["merged_id"]: m["canonical_id"] for m in json.loads(res.stdout)["merges"]}
    assert merged == {"org:pfizer": "org:pfizer-inc", "org:pfe": "org:pfizer-inc"}
    listing = json.loads(runner.invoke(app, ["entities", "merges", "-w", str(ws), "--json"]).stdout)["merges"]
    assert len(listing) == 2 and all(m["who"] and m["why"] and m["score"] > 0 for m in listing)
    undo = runner.invoke(app, ["entities", "unmerge", str(listing[0]["id"]), "-w", str(ws)])
    assert undo.exit_code == 0 and "Undid merge" in undo.stdout
    after = json.loads(runner.invoke(app, ["entities", "merges", "-w", str(ws), "--json"]).stdout)["merges"]
    assert len(after) == 1
    human = runner.invoke(app, ["entities", "merges", "-w", str(ws), "--all"])
    assert "(undone)" in human.stdout


@pytest.mark.parametrize("option", [("--threshold", "0.99"), ("--encoder", "models/minilm")])
def test_resolve_refuses_embedding_options_without_embeddings(app, ws, option):
    """--threshold and --encoder tune name-embedding merges only; without --embeddings they were ignored (the rules
    merged at their fixed scores): now a usage error naming the option, and nothing is recorded."""
    res = CliRunner().invoke(app, ["entities", "resolve", *option, "-w", str(ws)])
    assert res.exit_code == 2 and option[0] in res.output and "--embeddings" in res.output, res.output
    assert not (ws / "merges.db").exists()


def test_unmerge_unknown_id_is_an_error(app, ws):
    res = CliRunner().invoke(app, ["entities", "unmerge", "42", "-w", str(ws)])
    assert res.exit_code != 0
    assert "No merge with id 42" in str(res.exception)


def test_unmerge_refused_for_the_store_leaves_the_merge_in_force(app, tmp_path):
    """A workspace whose graph is only in its RDF store: `entities unmerge` without --store rdf is refused, and
    the refusal comes before the undo (it was saved first, so the merge was undone by a command that failed)."""
    w = Workspace.open(tmp_path / "ws", create=True)
    store = w.open_store("rdf")
    store.add([], [Entity("org:pfizer-inc", "Pfizer Inc.", "Organization"), Entity("org:pfizer", "Pfizer",
                                                                                  "Organization")])
    store.close()
    runner = CliRunner()
    resolved = runner.invoke(app, ["entities", "resolve", "--store", "rdf", "-w", str(w.path), "--json"])
    assert resolved.exit_code == 0 and len(json.loads(resolved.stdout)["merges"]) == 1, resolved.output
    before = runner.invoke(app, ["entities", "merges", "-w", str(w.path), "--json"]).stdout
    refused = runner.invoke(app, ["entities", "unmerge", "1", "-w", str(w.path)])
    assert refused.exit_code == 1 and "holds its graph in the rdf store" in str(refused.exception)
    assert runner.invoke(app, ["entities", "merges", "-w", str(w.path), "--json"]).stdout == before
    assert not w.graph_path.exists()
    undone = runner.invoke(app, ["entities", "unmerge", "1", "--store", "rdf", "-w", str(w.path), "--json"])
    assert undone.exit_code == 0 and json.loads(undone.stdout)["undone"]["merged_id"] == "org:pfizer", undone.output
