"""``kgnlp embed``, ``kgnlp index`` and ``kgnlp retrieve`` through Typer's CliRunner on a small app."""
from __future__ import annotations

import json
import re

import pytest
import typer
from typer.testing import CliRunner

from cli.commands.embed import register
from kg.records import Document, Entity, Extraction, Provenance, Triple
from kg.workspace import Workspace

FACTS = [("chem:metformin", "TREATS", "dis:t2d"), ("chem:insulin", "TREATS", "dis:t2d"),
         ("chem:aspirin", "TREATS", "dis:headache"), ("chem:ibuprofen", "TREATS", "dis:headache"),
         ("org:acme", "MANUFACTURES", "chem:aspirin"), ("org:acme", "MANUFACTURES", "chem:ibuprofen"),
         ("chem:aspirin", "INTERACTS_WITH", "chem:ibuprofen"), ("org:nova", "MANUFACTURES", "chem:insulin"),
         ("org:nova", "MANUFACTURES", "chem:metformin"), ("chem:metformin", "CAUSES", "dis:acidosis")]
NAMES = {"chem:metformin": "metformin", "dis:t2d": "type 2 diabetes", "chem:insulin": "insulin",
         "chem:aspirin": "aspirin", "dis:headache": "headache", "chem:ibuprofen": "ibuprofen",
         "org:acme": "Acme Pharma", "org:nova": "Nova Bio", "dis:acidosis": "lactic acidosis"}


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = Workspace.open(tmp_path_factory.mktemp("cli") / "ws", create=True)
    store = ws.open_store()
    store.add([], [Entity(i, n, i.split(":")[0]) for i, n in NAMES.items()])
    for n, (h, r, t) in enumerate(FACTS):
        text = f"Doc {n}: {NAMES[h]} and {NAMES[t]} ({r.lower()})."
        prov = (Provenance(f"doc{n}", 0, len(text), text, "test"),)
        store.add_extraction(Extraction(Document(f"doc{n}", text), (), (Triple(h, r, t, 1.0, prov),)), f"h{n}")
    store.close()
    return ws


def invoke(app, *args, stdin=None):
    return CliRunner().invoke(app, list(args), input=stdin)


def test_each_command_has_help_with_an_example(app):
    for command in ("embed", "index", "retrieve"):
        result = invoke(app, command, "--help")
        assert result.exit_code == 0 and "Example: kgnlp " + command in result.stdout
        assert "--workspace" in result.stdout and "--json" in result.stdout


def test_embed_trains_saves_and_evaluates(app, ws):
    result = invoke(app, "embed", "--model", "distmult", "--dim", "8", "--epochs", "4", "--eval-every", "2",
                    "--eval", "-w", str(ws.path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "distmult" and data["epochs_run"] == 4 and data["dim"] == 8
    assert set(data["eval"]) >= {"mrr", "hits_at_1", "hits_at_3", "hits_at_10"}
    assert (ws.path / "embeddings" / "distmult" / "vectors.safetensors").exists()


def test_embed_infer_new_marks_vectors_inferred(app, ws):
    assert invoke(app, "embed", "--model", "transe", "--dim", "8", "--epochs", "2", "--eval-every", "2",
                  "-w", str(ws.path), "-q").exit_code == 0
    store = ws.open_store()
    store.add([Triple("chem:newdrug", "TREATS", "dis:t2d")], [Entity("chem:newdrug", "newdrug", "chem")])
    store.close()
    result = invoke(app, "embed", "--model", "transe", "--infer-new", "-w", str(ws.path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["from_neighbours"] == 1 and data["without"] == 0

    from kg.embeddings import load_embeddings
    assert load_embeddings(ws.path, "transe").source("chem:newdrug") == "neighbours"
    # a model not trained here: the hint names that model (it used to say transe) and the one there is
    other = invoke(app, "embed", "--model", "rotate", "--infer-new", "-w", str(ws.path))
    assert other.exit_code == 1 and "`kgnlp embed --model rotate`" in str(other.exception)
    assert re.search(r"This workspace has [a-z, ]*\btranse\b[a-z, ]* embeddings\.", str(other.exception))



def test_embed_infer_new_refuses_training_options_instead_of_ignoring_them(app, ws):
    before = sorted(p.name for p in ws.path.rglob("*"))
    for options in (["--eval"], ["--dim", "8"], ["--epochs", "3", "--lr", "0.1"]):
        result = invoke(app, "embed", "--infer-new", *options, "-w", str(ws.path))
        said = " ".join(result.output.split())
        assert result.exit_code == 2 and "--infer-new" in said and all(o in said for o in options[::2]), said
    assert sorted(p.name for p in ws.path.rglob("*")) == before

def test_index_then_retrieve_json_and_stdin(app, ws):
    store = ws.open_store()
    n_facts = sum(1 for _ in store.triples())  # FACTS, and the one the test above adds when it runs
    store.close()
    result = invoke(app, "index", "-w", str(ws.path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"entities", "facts", "chunks"} and data["facts"]["total"] == n_facts >= len(FACTS)
    result = invoke(app, "retrieve", "-", "--k", "2", "--kind", "facts", "-w", str(ws.path), "--json",
                    stdin="What does metformin treat?\n")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["query"] == "What does metformin treat?" and out["linked"] == ["chem:metformin"]
    assert out["hits"][0]["text"] == "metformin treats type 2 diabetes"
    assert out["hits"][0]["provenance"][0]["doc"] == "doc0" and len(out["hits"]) == 2
    human = invoke(app, "retrieve", "aspirin", "-k", "1", "--kind", "entities", "-w", str(ws.path))
    assert human.exit_code == 0 and "aspirin" in human.stdout and "similarity" in human.stdout
    twice = invoke(app, "retrieve", "pain", "--entity", "chem:aspirin", "--entity", "chem:aspirin", "-w", str(ws.path),
                   "--json")
    assert json.loads(twice.stdout)["linked"] == ["chem:aspirin"]


def test_retrieve_writes_nothing_in_the_workspace_when_indexes_are_missing_or_stale(app, tmp_path):
    """A reading command builds a missing or out-of-date index in memory and says how to save it: the workspace's
    files (names, sizes, times) are as they were; `kgnlp index` still saves them."""
    from tests.conftest import file_tree

    ws = Workspace.open(tmp_path / "ws", create=True)
    store = ws.open_store()
    store.add([], [Entity(i, n, i.split(":")[0]) for i, n in NAMES.items()])
    store.close()
    before = file_tree(ws.path)
    missing = invoke(app, "retrieve", "metformin", "--kind", "entities", "-w", str(ws.path), "--json")
    assert missing.exit_code == 0, missing.output
    assert json.loads(missing.stdout)["hits"][0]["entity_ids"] == ["chem:metformin"]
    assert f"kgnlp index -w {ws.path}" in missing.stderr and "in memory" in missing.stderr
    assert file_tree(ws.path) == before
    assert invoke(app, "index", "-w", str(ws.path), "-q").exit_code == 0
    store = ws.open_store()
    store.add([Triple("chem:metformin", "TREATS", "dis:t2d")])
    store.close()
    before = file_tree(ws.path)
    stale = invoke(app, "retrieve", "what treats diabetes", "-k", "1", "-w", str(ws.path), "--json")
    assert stale.exit_code == 0, stale.output
    assert json.loads(stale.stdout)["hits"][0]["triple"] == ["chem:metformin", "TREATS", "dis:t2d"]
    assert "graph changed" in stale.stderr and file_tree(ws.path) == before


def test_retrieve_refuses_to_embed_a_large_gap_and_names_the_command(app, ws, tmp_path, monkeypatch):
    import shutil

    import nlp.retrieval

    shutil.copytree(ws.path, tmp_path / "ws", ignore=shutil.ignore_patterns("index"))
    monkeypatch.setattr(nlp.retrieval, "MEMORY_BUILD", 5)
    result = invoke(app, "retrieve", "metformin", "-w", str(tmp_path / "ws"))
    assert result.exit_code != 0 and not (tmp_path / "ws" / "index").exists()
    assert f"kgnlp index -w {tmp_path / 'ws'}" in str(result.exception), result.exception


def test_import_resolve_and_unmerge_keep_saved_indexes_in_step(tmp_path):
    """Reading commands no longer save indexes, so every command that changes what they read saves them, as ingest
    and remove do: after an import (csv or RDF), a recorded merge and its undoing, the saved indexes are in step."""
    from cli.main import app as kgnlp_app
    from kg.index import SyncedIndex, store_fingerprint

    ws = Workspace.open(tmp_path / "ws", create=True)
    store = ws.open_store()
    store.add([], [Entity("org:pfizer-inc", "Pfizer Inc.", "Organization"), Entity("org:pfizer", "Pfizer",
                                                                                  "Organization")])
    store.close()

    def run(*args):
        result = invoke(kgnlp_app, *args, "-w", str(ws.path), "--json")
        assert result.exit_code == 0, (args, result.output)

    def in_step() -> bool:
        graph = ws.read_embedded()
        try:
            fingerprint = store_fingerprint(graph)
        finally:
            graph.close()
        opened = [SyncedIndex.open(ws.path / "index" / kind, kind) for kind in ("entities", "facts")]
        try:
            return all(idx.in_step_with(fingerprint) for idx in opened)
        finally:
            for idx in opened:
                idx.close()

    run("index", "--kind", "entities", "--kind", "facts")
    (tmp_path / "deals.csv").write_text("head,relation,tail\nPfizer,ACQUIRED,Seagen\n", encoding="utf-8")
    run("import", "csv", str(tmp_path / "deals.csv"))
    assert in_step()
    (tmp_path / "more.nt").write_text('<https://kgnlp.dev/ns/e/x> <http://www.w3.org/2000/01/rdf-schema#label> "X" .\n',
                                      encoding="utf-8")
    run("import", "ntriples", str(tmp_path / "more.nt"))
    assert in_step()
    run("entities", "resolve")
    assert in_step()
    run("entities", "unmerge", "1")
    assert in_step()


def test_retrieve_says_which_index_is_empty(app, tmp_path):
    """A workspace with entities but no facts: the facts index is empty, not "the index" (the entities one is not)."""
    ws = Workspace.open(tmp_path / "ws", create=True)
    store = ws.open_store()
    store.add([], [Entity("chem:metformin", "metformin", "Chemical")])
    store.close()
    facts = invoke(app, "retrieve", "metformin", "-w", str(ws.path), "-q")
    assert facts.exit_code == 0 and "No results: the facts index is empty (the graph has no facts yet)." in facts.stdout
    names = invoke(app, "retrieve", "metformin", "--kind", "entities", "-w", str(ws.path), "-q")
    assert names.exit_code == 0 and "1. 1.000  metformin" in names.stdout


def test_embed_checks_where_its_vectors_go_before_training(app, tmp_path):
    """A file at <workspace>/embeddings: said before any training (it was an internal error after the last epoch)."""
    ws = Workspace.open(tmp_path / "ws", create=True)
    (ws.path / "embeddings").write_text("notes")
    result = invoke(app, "embed", "--epochs", "1", "-w", str(ws.path))  # no facts: training would fail first
    assert result.exit_code == 1 and "is a file where the embeddings folder" in str(result.exception)


def test_bad_choices_are_refused(app, ws):
    assert invoke(app, "embed", "--model", "transh", "-w", str(ws.path)).exit_code != 0
    assert invoke(app, "retrieve", "x", "--kind", "tables", "-w", str(ws.path)).exit_code != 0


@pytest.mark.parametrize("command", [("embed", "--epochs", "1"), ("index",), ("retrieve", "metformin")])
def test_store_neo4j_takes_the_bolt_uri_user_and_password_env_like_every_graph_command(app, ws, monkeypatch,
                                                                                       command):
    """--store neo4j without --uri/--user/--password-env could only reach bolt://127.0.0.1:7687 as user neo4j."""
    from kg.errors import KGError

    monkeypatch.setenv("KGNLP_TEST_PW", "pw")
    result = invoke(app, *command, "--workspace", str(ws.path), "--store", "neo4j", "--uri", "bolt://127.0.0.1:1",
                    "--user", "someone", "--password-env", "KGNLP_TEST_PW")
    assert isinstance(result.exception, KGError), result.output
    assert "bolt://127.0.0.1:1" in str(result.exception)
