"""A fused model records the graph it was trained with (config.json "graph"); used with another graph it says so
on stderr, and a graph holding none of its KG table's entities is refused."""
from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from kg.records import Entity, Triple


def _workspace(root, entities, triples=(), vectors=None):
    from kg.embeddings import embeddings_dir
    from kg.workspace import Workspace
    from tests.fusion.test_entity_vectors import _trained

    ws = Workspace.open(root, create=True)
    store = ws.open_store()
    store.add(list(triples), entities)
    store.close()
    if vectors:
        _trained(vectors).save(embeddings_dir(ws.path, "transe"))
    return ws.path


METFORMIN = [Entity("C1", "metformin", "Chemical"), Entity("D1", "diabetes", "Disease"),
             Entity("C9", "aspirin", "Chemical")]


def _train(tmp_path, tiny_encoder, ws):
    from tests.fusion.test_fusion_cli import _app

    data = tmp_path / "d.jsonl"
    rows = [{"text": "metformin is good news", "label": "positive"}, {"text": "aspirin is bad news", "label": "negative"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 2))
    res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--encoder", str(tiny_encoder), "--epochs", "1", "--fusion", "embeddings",
                                      "-w", str(ws), "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    return tmp_path / "m"


def _classify(model, ws):
    from tests.fusion.test_fusion_cli import _app

    return CliRunner().invoke(_app(), ["classify", "metformin is good news", "--model", str(model), "-w", str(ws),
                                       "--json"])


def test_a_model_says_when_it_reads_another_graph_than_it_was_trained_with(tmp_path, tiny_encoder):
    a = _workspace(tmp_path / "a", METFORMIN, [Triple("C1", "TREATS", "D1")], ("C1", "D1"))
    model = _train(tmp_path, tiny_encoder, a)
    graph = json.loads((model / "config.json").read_text())["graph"]
    assert graph["workspace"] == str(a.resolve()) and (graph["entities"], graph["facts"]) == (3, 1)
    res = _classify(model, a)
    assert res.exit_code == 0 and res.stderr == "", res.output
    shutil.copytree(a, tmp_path / "copy")  # the same graph elsewhere: nothing to say
    res = _classify(model, tmp_path / "copy")
    assert res.exit_code == 0 and res.stderr == "", res.output
    # another graph that shares one entity with the model's table: it runs, and says so in one line
    b = _workspace(tmp_path / "b", [Entity("C1", "metformin", "Chemical"), Entity("X1", "headache", "Disease")])
    res = _classify(model, b)
    assert res.exit_code == 0, res.output
    assert len(res.stderr.splitlines()) == 1 and str(a.resolve()) in res.stderr and str(b.resolve()) in res.stderr
    assert "1 of its 2 entity vectors match" in res.stderr and "-w " + str(a.resolve()) in res.stderr
    # a graph without any entity of the model's table cannot feed its embeddings path: refused
    d = _workspace(tmp_path / "d", [Entity("X1", "headache", "Disease")])
    res = _classify(model, d)
    assert res.exit_code == 1 and "none of them" in str(res.exception) and str(a.resolve()) in str(res.exception)
    from cli.main import app  # `ask --model` checks the graph the same way (of a yes/no model: the same, relabelled)

    shutil.copytree(model, tmp_path / "yes-no")
    config = json.loads((tmp_path / "yes-no" / "config.json").read_text())
    config["fusion"]["labels"] = ["no", "yes"]
    (tmp_path / "yes-no" / "config.json").write_text(json.dumps(config))
    res = CliRunner().invoke(app, ["ask", "Does metformin help?", "--model", str(tmp_path / "yes-no"), "-w", str(d)])
    assert res.exit_code == 1 and "none of them" in str(res.exception), res.output
    # the training workspace itself, changed since: a note
    store = __import__("kg.workspace", fromlist=["Workspace"]).Workspace.open(a).open_store()
    store.add([], [Entity("X2", "insulin", "Chemical")])
    store.close()
    res = _classify(model, a)
    assert res.exit_code == 0 and "changed since" in res.stderr and "3 -> 4 entities" in res.stderr, res.output


def test_a_model_saved_before_the_graph_was_recorded_still_loads_and_runs(tmp_path, tiny_encoder):
    a = _workspace(tmp_path / "a", METFORMIN, [Triple("C1", "TREATS", "D1")], ("C1", "D1"))
    model = _train(tmp_path, tiny_encoder, a)
    config = json.loads((model / "config.json").read_text())
    del config["graph"]
    (model / "config.json").write_text(json.dumps(config))
    b = _workspace(tmp_path / "b", [Entity("C1", "metformin", "Chemical"), Entity("X1", "headache", "Disease")])
    res = _classify(model, b)
    assert res.exit_code == 0 and res.stderr == "", res.output
    from fusion.model import FusedModel

    assert FusedModel.load(model).graph_origin is None


def test_check_graph_of_a_model_trained_on_a_graph_given_without_a_workspace(tmp_path, tiny_store):
    """Library training (a store, no workspace) records the graph all the same; the note then names no -w."""
    from fusion.config import MARKER
    from fusion.origin import check_graph, graph_origin

    origin, ids = graph_origin(tiny_store)
    assert origin.workspace == "" and (origin.entities, origin.facts) == (5, 3) and ids == {"C1", "D1", "C2", "D2", "C3"}
    (tmp_path / "m").mkdir()
    config = {"kgnlp": MARKER, "fusion": {"head": "sequence", "labels": ["a", "b"], "fusion": "facts"},
              "graph": origin.as_dict()}
    (tmp_path / "m" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert check_graph(tmp_path / "m", tiny_store, tmp_path / "elsewhere") is None  # the same graph
    tiny_store.add([], [Entity("X1", "headache", "Disease")])
    line = check_graph(tmp_path / "m", tiny_store, tmp_path / "ws")
    assert line.startswith("Warning:") and "a graph given without a workspace (5 entities, 3 facts)" in line
    assert "6 entities" in line and "-w" not in line and "\n" not in line


def test_a_folder_that_is_not_a_workspace_is_treated_as_a_missing_one(tmp_path, tiny_encoder):
    """`classify -w DIR` warns and runs without the graph whether DIR is missing or holds no workspace; `eval`
    refuses both with the same line."""
    from cli.main import app

    a = _workspace(tmp_path / "a", METFORMIN, [Triple("C1", "TREATS", "D1")], ("C1", "D1"))
    model = _train(tmp_path, tiny_encoder, a)
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text("not a workspace")
    test = tmp_path / "t.jsonl"
    test.write_text(json.dumps({"text": "metformin is good news", "label": "positive"}) + "\n")
    for where in (tmp_path / "missing", tmp_path / "plain"):
        res = _classify(model, where)
        assert res.exit_code == 0 and res.stdout.strip(), (where, res.output, res.exception)
        assert f"no kgnlp workspace at '{where}'" in res.stderr and "without graph knowledge" in res.stderr
        assert f"-w {a.resolve()}" in res.stderr and len(res.stderr.splitlines()) == 1
        res = CliRunner().invoke(app, ["eval", "classify", "--data", str(test), "--model", str(model), "-w", str(where)])
        assert res.exit_code == 1 and f"no kgnlp workspace at '{where}'" in str(res.exception), res.output
    assert sorted(p.name for p in (tmp_path / "plain").iterdir()) == ["notes.txt"]  # nothing written there


def test_the_stored_graph_of_a_workspace_with_merges_is_the_graph_its_readers_see(tmp_path):
    """`ingest --model` reads the stored graph (it writes), training the graph with the workspace's entity merges
    applied: the same workspace is the same graph, and a real change is still said."""
    from fusion.config import MARKER
    from fusion.origin import check_graph, graph_origin
    from kg.merges import MergeLog
    from kg.workspace import Workspace

    ws = _workspace(tmp_path / "ws", [*METFORMIN, Entity("D2", "type 2 diabetes", "Disease")],
                    [Triple("C1", "TREATS", "D1"), Triple("C1", "TREATS", "D2")])
    with MergeLog.for_workspace(ws) as log:
        log.record("D1", "D2", "test", "same disease", 0.95)
    view = Workspace.open(ws).read_embedded()
    origin, _ = graph_origin(view, ws)
    view.close()
    assert (origin.entities, origin.facts) == (3, 1)  # as training sees it: D2 is D1, its fact one with D1's
    (tmp_path / "m").mkdir()
    config = {"kgnlp": MARKER, "fusion": {"head": "token", "labels": ["O"], "fusion": "facts"}, "graph": origin.as_dict()}
    (tmp_path / "m" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    stored = Workspace.open(ws).open_store()  # what ingest opens
    try:
        assert check_graph(tmp_path / "m", stored, ws) is None
        stored.add([], [Entity("X1", "headache", "Disease")])
        line = check_graph(tmp_path / "m", stored, ws)
        assert line and "changed since" in line and "3 -> 4 entities" in line, line
    finally:
        stored.close()


def test_a_resume_refused_after_the_graph_changed_names_the_graph_not_the_data(tmp_path, tiny_encoder):
    """The same data file over a graph that now links more: the training inputs differ, and the refusal says the
    graph changed (with its counts), not that the training or dev data did."""
    from kg.workspace import Workspace
    from tests.fusion.test_fusion_cli import _app

    a = _workspace(tmp_path / "a", METFORMIN, [Triple("C1", "TREATS", "D1")])
    data = tmp_path / "d.jsonl"
    long = " and the patient had a drug for the disease"  # room for a fact (at most a fifth of the input's tokens)
    rows = [{"text": "good news" + long, "label": "positive"}, {"text": "bad news" + long, "label": "negative"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 4))
    args = ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"), "--encoder", str(tiny_encoder),
            "--epochs", "1", "--fusion", "facts", "-w", str(a), "--json", "--quiet"]
    assert CliRunner().invoke(_app(), args).exit_code == 0
    store = Workspace.open(a).open_store()
    store.add([Triple("X1", "CAUSES", "C9")], [Entity("X1", "news", "Chemical")])  # "... good news" now links
    store.close()
    res = CliRunner().invoke(_app(), args)
    said = str(res.exception)
    assert res.exit_code == 1 and "checkpoint of another run" in said, res.output
    assert "the graph (3 entities, 1 facts -> 4 entities, 2 facts)" in said, said
    assert "training data" not in said and "dev data" not in said, said
