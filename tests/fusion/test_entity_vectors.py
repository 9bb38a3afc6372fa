"""``--entity-vectors all``: every entity the linker can link gets a KG vector for training (default: trained)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from kg.embeddings import EmbeddingMeta, KGEmbeddings
from kg.records import Entity


def _trained(ids):
    rng = np.random.default_rng(1)
    return KGEmbeddings(EmbeddingMeta("transe", 8), tuple(ids), ("TREATS", "CAUSES"),
                        rng.normal(size=(len(ids), 8)).astype("float32"), rng.normal(size=(2, 8)).astype("float32"))


def test_entities_without_a_trained_vector_get_one_from_neighbours_or_name(tiny_store):
    from fusion.examples import vectors_for_training

    tiny_store.add([], [Entity("X1", "headache", "Disease")])  # no fact: training never sees it
    trained = _trained(("C1", "D1", "C2", "D2"))  # C3 came after training: C3 TREATS D1
    asked = []
    got = vectors_for_training(trained, tiny_store, "all",
                               embed_names=lambda names: asked.extend(names) or np.ones((len(names), 4)))
    assert got.source("C3") == "neighbours" and got.source("X1") == "name" and "headache" in asked
    assert all(np.array_equal(got.vector(e), trained.vector(e)) for e in trained.entity_ids)
    assert vectors_for_training(trained, tiny_store, "trained") is trained
    assert vectors_for_training(None, tiny_store, "all") is None


def test_the_name_embedder_is_not_loaded_when_no_entity_needs_it(tiny_store):
    from fusion.examples import vectors_for_training

    def fail(names):
        raise AssertionError("embedded names without need")

    got = vectors_for_training(_trained(("C1", "D1", "C2", "D2")), tiny_store, "all", embed_names=fail)
    assert got.source("C3") == "neighbours"


def test_unknown_entity_vectors_is_an_error():
    from fusion.errors import FusionError
    from fusion.examples import vectors_for_training

    with pytest.raises(FusionError, match="--entity-vectors 'some'"):
        vectors_for_training(None, None, "some")


def _workspace_with_embeddings(tmp_path):
    from kg.embeddings import embeddings_dir
    from kg.records import Triple
    from kg.workspace import Workspace

    ws = Workspace.open(tmp_path / "ws", create=True)
    store = ws.open_store()
    store.add([Triple("C1", "TREATS", "D1")], [Entity("C1", "metformin", "Chemical"),
                                               Entity("D1", "diabetes", "Disease"),
                                               Entity("C9", "aspirin", "Chemical")])  # aspirin: no fact
    store.close()
    _trained(("C1", "D1")).save(embeddings_dir(ws.path, "transe"))
    return ws.path


@pytest.mark.parametrize("choice, has_aspirin", [("all", True), ("trained", False), (None, False)])
def test_train_classify_saves_a_vector_for_each_linkable_entity(tmp_path, tiny_encoder, choice, has_aspirin):
    from tests.fusion.test_fusion_cli import _app

    ws = _workspace_with_embeddings(tmp_path)
    data = tmp_path / "d.jsonl"
    rows = [{"text": "metformin is good news", "label": "positive"}, {"text": "aspirin is bad news", "label": "negative"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 2))
    res = CliRunner().invoke(_app(), ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                      "--encoder", str(tiny_encoder), "--epochs", "1", "--fusion", "embeddings",
                                      *(["--entity-vectors", choice] if choice else []), "-w", str(ws), "--json",
                                      "--quiet"])
    assert res.exit_code == 0, res.output
    saved = KGEmbeddings.load(tmp_path / "m" / "kg_embeddings")
    assert ("C9" in saved) is has_aspirin and "C1" in saved
    assert KGEmbeddings.load(ws / "embeddings" / "transe").entity_ids == ("C1", "D1")  # the workspace's: untouched


def test_unknown_entity_vectors_is_refused_before_training(tmp_path, tiny_encoder):
    from tests.conftest import kgnlp

    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": "x", "label": "a"}))
    proc = kgnlp("train", "classify", "--data", str(data), "--out", str(tmp_path / "m"), "--encoder",
                 str(tiny_encoder), "--entity-vectors", "some")
    assert proc.returncode == 2 and "'some' is not one of: all, trained" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "m").exists()
