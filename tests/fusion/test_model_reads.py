"""A command with a fused --model reads the model's config.json once and the graph's names once (for the check
of the graph it was trained with and the linker both)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.records import Entity, Triple
from tests.fusion.test_graph_origin import METFORMIN, _train, _workspace


@pytest.fixture()
def reads(monkeypatch):
    """Counts of config.json files read (by name) and of ``names()`` calls on any store or view."""
    from kg.resolved import ResolvedStore
    from kg.stores.sqlite import SQLiteStore

    counts = {"config.json": 0, "names": 0}
    read_text = Path.read_text

    def counting_read(self, *args, **kwargs):
        if self.name == "config.json":
            counts["config.json"] += 1
        return read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counting_read)
    for cls in (SQLiteStore, ResolvedStore):
        def counting_names(self, _names=cls.names):
            counts["names"] += 1
            return _names(self)

        monkeypatch.setattr(cls, "names", counting_names)
    return counts


def _run(args):
    from cli.main import app

    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, (res.output, res.exception)
    return res


def test_classify_and_eval_read_the_model_config_and_the_graph_names_once(tmp_path, tiny_encoder, reads):
    ws = _workspace(tmp_path / "ws", METFORMIN, [Triple("C1", "TREATS", "D1")], ("C1", "D1"))
    model = _train(tmp_path, tiny_encoder, ws)
    reads.update({"config.json": 0, "names": 0})
    _run(["classify", "metformin is good news", "--model", str(model), "-w", str(ws), "--json"])
    assert reads == {"config.json": 1, "names": 1}
    test = tmp_path / "t.jsonl"
    test.write_text(json.dumps({"text": "metformin is good news", "label": "positive"}) + "\n")
    reads.update({"config.json": 0, "names": 0})
    _run(["eval", "classify", "--data", str(test), "--model", str(model), "-w", str(ws), "--json"])
    assert reads == {"config.json": 1, "names": 1}


def test_ask_with_a_model_reads_its_config_and_the_graph_names_once(tmp_path, tiny_encoder, reads):
    ws = _workspace(tmp_path / "ws", METFORMIN, [Triple("C1", "TREATS", "D1")], ("C1", "D1"))
    model = _train(tmp_path, tiny_encoder, ws)
    shutil.copytree(model, tmp_path / "yes-no")  # a yes/no/maybe model: the same, relabelled
    config = json.loads((tmp_path / "yes-no" / "config.json").read_text())
    config["fusion"]["labels"] = ["no", "yes"]
    (tmp_path / "yes-no" / "config.json").write_text(json.dumps(config))
    reads.update({"config.json": 0, "names": 0})
    _run(["ask", "Does metformin help?", "--model", str(tmp_path / "yes-no"), "-w", str(ws), "--json"])
    assert reads == {"config.json": 1, "names": 1}


def test_ner_and_ingest_with_a_fused_model_read_its_config_once_and_the_graph_names_twice(tmp_path, tiny_encoder,
                                                                                           reads):
    """The graph's names are read once for the pipeline's own gazetteer and once for the model (its linker and the
    check of the graph it was trained with share that read)."""
    ws = _workspace(tmp_path / "ws", [Entity("C1", "metformin", "Chemical"), Entity("D1", "diabetes", "Disease")],
                    [Triple("C1", "TREATS", "D1")])
    train = tmp_path / "train.jsonl"
    row = {"text": "metformin treats diabetes .", "entities": [{"start": 0, "end": 9, "label": "Chemical"}]}
    train.write_text((json.dumps(row) + "\n") * 2, encoding="utf-8")
    _run(["train", "ner", "--data", str(train), "--fusion", "facts", "--encoder", str(tiny_encoder), "--epochs", "1",
          "--max-length", "16", "--out", str(tmp_path / "m"), "-w", str(ws), "--quiet"])
    reads.update({"config.json": 0, "names": 0})
    _run(["ner", "metformin treats diabetes.", "--model", str(tmp_path / "m"), "-w", str(ws), "--json"])
    assert reads["config.json"] == 1, reads
    names_ner = reads["names"]
    (tmp_path / "d.txt").write_text("metformin treats diabetes.", encoding="utf-8")
    reads.update({"config.json": 0, "names": 0})
    _run(["ingest", str(tmp_path / "d.txt"), "--model", str(tmp_path / "m"), "-w", str(ws), "--json"])
    assert reads["config.json"] == 1, reads
    assert names_ner == reads["names"] == 2, (names_ner, reads)  # the pipeline's own gazetteer, and the model


@pytest.mark.parametrize("fusion", ["facts", "embeddings"])
def test_training_reads_the_graph_names_once(tmp_path, tiny_encoder, reads, fusion):
    """The knowledge's linker and the record of the graph the model trains with (fusion.origin) share one read of
    the graph's names (training read them twice)."""
    from tests.fusion.test_fusion_cli import _app

    ws = _workspace(tmp_path / "ws", METFORMIN, [Triple("C1", "TREATS", "D1")], ("C1", "D1"))
    data = tmp_path / "d.jsonl"
    rows = [{"text": "metformin is good news", "label": "positive"}, {"text": "aspirin is bad news", "label": "negative"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 2))
    reads.update({"config.json": 0, "names": 0})
    res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--encoder", str(tiny_encoder), "--epochs", "1", "--fusion", fusion,
                                      "-w", str(ws), "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    assert reads["names"] == 1
    graph = json.loads((tmp_path / "m" / "config.json").read_text())["graph"]
    assert (graph["entities"], graph["facts"]) == (3, 1)  # the record is still the graph's


def test_ingest_with_a_transformer_model_reads_its_config_once(tmp_path, tiny_encoder, reads):
    """A --model that is not fused: its config.json is read once to tell (it was read twice, as the profile was
    checked twice)."""
    ws = _workspace(tmp_path / "ws", [Entity("C1", "metformin", "Chemical")], [])
    train = tmp_path / "train.jsonl"
    row = {"text": "metformin treats diabetes .", "entities": [{"start": 0, "end": 9, "label": "Chemical"}]}
    train.write_text((json.dumps(row) + "\n") * 2, encoding="utf-8")
    _run(["train", "ner", "--data", str(train), "--kind", "transformer", "--encoder", str(tiny_encoder), "--epochs",
          "1", "--max-length", "16", "--out", str(tmp_path / "m"), "--quiet"])
    (tmp_path / "d.txt").write_text("metformin treats diabetes.", encoding="utf-8")
    reads.update({"config.json": 0, "names": 0})
    _run(["ingest", str(tmp_path / "d.txt"), "--model", str(tmp_path / "m"), "-w", str(ws), "--json"])
    assert reads["config.json"] == 1, reads


@pytest.mark.parametrize("undone", [False, True])
def test_a_fused_model_reads_the_merge_log_once(tmp_path, tiny_encoder, monkeypatch, undone):
    """The graph a command opens is already seen through the workspace's merges: the model's linker and the check of
    the graph it was trained with take it as it is. Where the log merges nothing (an undone merge, so the view is the
    stored graph itself) it was read again by both (3 reads, training 2)."""
    from kg.merges import MergeLog
    from tests.fusion.test_fusion_cli import _app

    ws = _workspace(tmp_path / "ws", [*METFORMIN, Entity("C2", "metformin hydrochloride", "Chemical")],
                    [Triple("C1", "TREATS", "D1")], ("C1", "D1"))
    with MergeLog.for_workspace(ws) as log:
        merge = log.record("C1", "C2", "test", "same drug", 0.95)
        if undone:
            log.undo(merge.id)
    reads = []
    canonical_map = MergeLog.canonical_map
    monkeypatch.setattr(MergeLog, "canonical_map", lambda self: reads.append(1) or canonical_map(self))
    model = _train(tmp_path, tiny_encoder, ws)
    assert len(reads) == 1
    reads.clear()
    _run(["classify", "metformin is good news", "--model", str(model), "-w", str(ws), "--json"])
    assert len(reads) == 1
