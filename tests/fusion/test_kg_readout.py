"""``FusionConfig.kg_readout``: the mean KG vector of an input's knowledge read straight into the logits."""
from __future__ import annotations

import random

import pytest
import torch

from fusion.batch import collate
from fusion.config import FusionConfig
from fusion.context import Fact, KGContext, Mention
from fusion.errors import FusionError
from fusion.examples import InputBuilder, readout_rows
from fusion.inputs import hide_knowledge
from fusion.model import FusedModel
from fusion.train import TrainSettings, to_batch, train_fused

from tests.fusion.test_fused_model import TEXTS, _setup


def _readout_setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="both"):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion=fusion)
    model = FusedModel.from_encoder(tiny_encoder, model.config.with_(kg_readout=True), tiny_embeddings)
    return model, tok, InputBuilder(tok, model.config, b.knowledge, model.entity_row)


def test_config_refuses_a_readout_without_vectors_or_a_sequence_head():
    with pytest.raises(FusionError, match="kg_readout"):
        FusionConfig(labels=("a", "b"), fusion="facts", kg_readout=True).checked()
    with pytest.raises(FusionError, match="kg_readout"):
        FusionConfig(head="token", labels=("O",), fusion="both", kg_dim=8, kg_readout=True).checked()
    assert FusionConfig(labels=("a", "b"), fusion="embeddings", kg_dim=8, kg_readout=True).checked().kg_readout


def test_rows_are_the_mentions_and_both_ends_of_each_fact():
    ctx = KGContext("metformin and x", (Mention(0, 9, "metformin", "Chemical", "C1"),
                                        Mention(14, 15, "x", "Chemical", "X0")),
                    (Fact("metformin treats diabetes", 0, "graph", ("C1", "TREATS", "D1")),
                     Fact("a sentence", -1, "faiss", None)))
    rows = readout_rows([ctx, None], {"C1": 1, "D1": 2})
    assert rows == (1, 1, 2)  # X0 has no vector; the fact without a triple adds nothing


def test_readout_moves_logits_only_for_inputs_with_knowledge(tiny_encoder, tiny_store, tiny_embeddings):
    model, _, b = _readout_setup(tiny_encoder, tiny_store, tiny_embeddings)
    items = [b.sequence(t, 0) for t in TEXTS] + [b.sequence("nothing known here .", 0)]
    assert items[0].kg_rows and items[1].kg_rows and not items[2].kg_rows
    plain, _, pb = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="both")
    assert not pb.sequence(TEXTS[0]).kg_rows  # a model without the readout builds none
    model.eval()
    batch = to_batch(model, items)
    with torch.no_grad():
        before = model(batch)["logits"].clone()
        model.kg_readout.weight.add_(1.0)
        after = model(batch)["logits"]
    assert not torch.allclose(before[:2], after[:2]) and torch.equal(before[2], after[2])
    # the readout is the mean of the rows' vectors through the map
    rows = torch.tensor(items[0].kg_rows)
    mean = model.kg_table[rows].mean(0)
    with torch.no_grad():
        model.kg_readout.weight.zero_()
        base = model(batch)["logits"][0]
        model.kg_readout.weight.add_(1.0)
        assert torch.allclose(model(batch)["logits"][0] - base, mean.sum().expand(2), atol=1e-5)


def test_readout_saves_loads_and_trains(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    model, tok, b = _readout_setup(tiny_encoder, tiny_store, tiny_embeddings)
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    batch = to_batch(model, items)
    start = model.kg_readout.weight.detach().clone()
    model.eval()
    with torch.no_grad():
        before = model(batch)["loss"].item()
    settings = TrainSettings(epochs=3, batch_size=8, learning_rate=1e-3, head_learning_rate=1e-2, warmup=0.0, seed=1,
                             knowledge_dropout=0.2)
    train_fused(model, items, tmp_path / "m", settings, tokenizer=tok)
    model.eval()
    with torch.no_grad():
        after = model(batch)["loss"].item()
        logits = model(batch)["logits"]
    assert after < before and not torch.equal(start, model.kg_readout.weight)
    loaded = FusedModel.load(tmp_path / "m")
    assert loaded.config.kg_readout
    lb = InputBuilder(tok, loaded.config, b.knowledge, loaded.entity_row)
    assert [lb.sequence(t, i % 2).kg_rows for i, t in enumerate(TEXTS)] == [it.kg_rows for it in items[:2]]
    loaded.eval()
    with torch.no_grad():
        assert torch.allclose(loaded(to_batch(loaded, items))["logits"], logits, atol=1e-5)


def test_knowledge_dropout_hides_readout_rows(tiny_encoder, tiny_store, tiny_embeddings):
    _, _, b = _readout_setup(tiny_encoder, tiny_store, tiny_embeddings)
    item = b.sequence(TEXTS[0], 0)
    assert hide_knowledge(item, 0.999, random.Random(0)).kg_rows == ()
    assert hide_knowledge(item, 0.0, random.Random(0)) is item
    assert collate([item, b.sequence("nothing known here .", 0)])["kg_rows"].shape == (2, len(item.kg_rows))


def test_cli_kg_readout(tmp_path, tiny_encoder):
    import json

    from typer.testing import CliRunner

    from cli.main import app
    from tests.fusion.test_entity_vectors import _workspace_with_embeddings

    ws = _workspace_with_embeddings(tmp_path)
    data = tmp_path / "d.jsonl"
    rows = [{"text": "metformin is good news", "label": "positive"},
            {"text": "diabetes is bad news", "label": "negative"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 3))
    base = ["--data", str(data), "--encoder", str(tiny_encoder), "--epochs", "1", "-w", str(ws), "--quiet"]
    res = CliRunner().invoke(app, ["train", "classify", *base, "--out", str(tmp_path / "m"), "--fusion", "both",
                                   "--kg-readout"])
    assert res.exit_code == 0, res.output
    assert FusedModel.load(tmp_path / "m").config.kg_readout
    res = CliRunner().invoke(app, ["classify", "metformin is good news", "--model", str(tmp_path / "m"),
                                   "-w", str(ws), "--json"])
    assert res.exit_code == 0 and json.loads(res.output.splitlines()[-1])["label"] in ("positive", "negative")
    for cmd in ("classify", "qa"):
        res = CliRunner().invoke(app, ["train", cmd, *base, "--out", str(tmp_path / "bad"), "--fusion", "facts",
                                       "--kg-readout"])
        assert res.exit_code == 2 and "--kg-readout" in res.output and not (tmp_path / "bad").exists()
