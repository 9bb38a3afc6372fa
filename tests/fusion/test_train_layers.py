"""``TrainSettings.train_layers``: only the top N encoder layers are fine-tuned; the rest stay as loaded."""
from __future__ import annotations

import pytest
import torch

from fusion.errors import FusionError
from fusion.train import TrainSettings, frozen_encoder_params, train_fused

from tests.fusion.test_fused_model import TEXTS, _setup


def _train(tmp_path, tiny_encoder, tiny_store, tiny_embeddings, train_layers: int):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="both")
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    settings = TrainSettings(epochs=2, batch_size=8, learning_rate=1e-2, head_learning_rate=1e-2, warmup=0.0,
                             seed=1, train_layers=train_layers)
    train_fused(model, items, tmp_path / f"m{train_layers}", settings, tokenizer=tok)
    changed = {n for n, p in model.named_parameters() if not torch.equal(p.detach(), before[n])}
    return model, changed


def test_top_layers_learn_the_rest_stay(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    model, changed = _train(tmp_path, tiny_encoder, tiny_store, tiny_embeddings, 1)
    top = len(model.encoder.encoder.layer) - 1
    enc = {n for n in changed if n.startswith("encoder.")}
    assert enc and all(n.startswith(f"encoder.encoder.layer.{top}.") for n in enc)
    assert {"head.weight", "kg_proj.weight", "kg_gate.weight"} <= changed  # fusion layers and head still learn


def test_zero_fixes_the_encoder_and_all_trains_everything(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    _, changed = _train(tmp_path, tiny_encoder, tiny_store, tiny_embeddings, 0)
    assert not any(n.startswith("encoder.") for n in changed) and "head.weight" in changed
    _, changed = _train(tmp_path, tiny_encoder, tiny_store, tiny_embeddings, -1)
    assert any(n.startswith("encoder.embeddings.") for n in changed)
    assert any(n.startswith("encoder.encoder.layer.0.") for n in changed)


def test_layers_out_of_range_are_refused(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    model, _, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="none")
    n = len(model.encoder.encoder.layer)
    assert frozen_encoder_params(model, n) == {p for p in frozen_encoder_params(model, 0)
                                               if not p.startswith("encoder.encoder.layer.")}
    for bad in (n + 1, -2):
        with pytest.raises(FusionError, match="train_layers"):
            train_fused(model, [b.sequence(t, 0) for t in TEXTS], tmp_path / "bad", TrainSettings(train_layers=bad))
    assert not (tmp_path / "bad").exists()


def test_cli_train_layers(tmp_path, tiny_encoder, capsys):
    import json

    from typer.testing import CliRunner

    from cli.main import app, run
    from fusion.config import FusionConfig
    from fusion.model import FusedModel

    data = tmp_path / "d.jsonl"
    rows = [{"text": "metformin is good news", "label": "positive"},
            {"text": "diabetes is bad news", "label": "negative"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 3))
    base = ["--data", str(data), "--encoder", str(tiny_encoder), "--epochs", "1", "-w", str(tmp_path / "ws"),
            "--quiet", "--lr", "0.01"]
    res = CliRunner().invoke(app, ["train", "classify", *base, "--out", str(tmp_path / "m"), "--train-layers", "0"])
    assert res.exit_code == 0, res.output
    start = FusedModel.from_encoder(tiny_encoder, FusionConfig(head="sequence", labels=("a", "b")))
    trained = FusedModel.load(tmp_path / "m")
    for (name, p), (_, q) in zip(start.encoder.named_parameters(), trained.encoder.named_parameters()):
        assert torch.equal(p, q), name  # the encoder is as loaded; only the head learnt
    capsys.readouterr()
    missing = ["--data", str(tmp_path / "missing.jsonl"), *base[2:]]  # refused before the data is read
    for cmd, data_args in ((("train", "classify"), base), (("train", "classify"), missing), (("train", "qa"), missing),
                           (("train", "ner"), [*missing[:-2], "--format", "jsonl", "--fusion", "none"])):
        with pytest.raises(SystemExit) as exit_:
            run([*cmd, *data_args, "--out", str(tmp_path / "bad"), "--train-layers", "99"])
        err = capsys.readouterr().err.strip().splitlines()
        assert exit_.value.code == 1 and err == ["Error: train_layers must be -1 (all) or 0..2 (this encoder's "
                                                 "layers), got 99."], (cmd, err)
    assert not (tmp_path / "bad").exists()
    res = CliRunner().invoke(app, ["train", "ner", *base[:-2], "--out", str(tmp_path / "bad"), "--format", "jsonl",
                                   "--train-layers", "1"])
    assert res.exit_code == 2 and "--train-layers" in res.output and not (tmp_path / "bad").exists()
