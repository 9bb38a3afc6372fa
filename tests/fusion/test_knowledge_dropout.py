"""Knowledge dropout (``TrainSettings.knowledge_dropout``, ``kgnlp train --knowledge-dropout``): in training,
a share of the linked mentions lose their entity vector and their facts, and the body then reads as if the
graph had not marked them."""
from __future__ import annotations

import random

import pytest
import torch

from fusion.batch import collate
from fusion.errors import FusionError
from fusion.inputs import hide_knowledge, knowledge_units
from fusion.train import TrainSettings, to_batch, train_fused

from tests.fusion.test_fused_model import TEXTS, _setup


def _body(model, item):
    with torch.no_grad():
        return model.encode(collate([item]))[0][list(item.body[0])]


def test_units_are_the_linked_mentions(tiny_encoder, tiny_store, tiny_embeddings):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="both")
    item = b.sequence(TEXTS[0])
    units = knowledge_units(item)
    assert len(units) == 2  # metformin, type 2 diabetes: each mention's vector tokens and facts' anchor
    for unit in units:
        assert all(item.entity_rows[t] for t in unit) and all(item.fact_of[t] == -1 for t in unit)
    assert {t for a in item.anchors for t in a} <= set().union(*units)
    # facts without vectors: the anchors alone are the units
    _, _, b_f = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="facts")
    facts_only = b_f.sequence(TEXTS[0])
    assert not any(facts_only.entity_rows) and len(knowledge_units(facts_only)) == 2


def test_hidden_knowledge_reads_as_no_knowledge(tiny_encoder, tiny_store, tiny_embeddings):
    """All of it hidden: every body token's output equals the plain encoder's (same weights), in every
    layer; nothing hidden (share 0) changes nothing; the property can fail, as the last check shows."""
    fused, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="both")
    torch.nn.init.normal_(fused.kg_gate.weight)  # the vectors matter
    plain, _, b_n = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="none")
    plain.load_state_dict(fused.state_dict(), strict=False)
    item = b.sequence(TEXTS[0])
    hidden = hide_knowledge(item, 0.999999, random.Random(0))
    assert not any(hidden.entity_rows) and not any(hidden.anchors)
    assert hidden.input_ids == item.input_ids and hidden.position_ids == item.position_ids  # labels stay put
    assert hide_knowledge(item, 0.0, random.Random(0)) is item
    h_plain = _body(plain, b_n.sequence(TEXTS[0]))
    assert torch.allclose(_body(fused, hidden), h_plain, atol=1e-5)
    assert not torch.allclose(_body(fused, item), h_plain, atol=1e-4)


def test_a_share_hides_some_mentions_by_seed(tiny_encoder, tiny_store, tiny_embeddings):
    _, _, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="both")
    item = b.sequence(TEXTS[0])
    units = knowledge_units(item)
    seen = set()
    for seed in range(40):
        out = hide_knowledge(item, 0.5, random.Random(seed))
        assert out == hide_knowledge(item, 0.5, random.Random(seed))  # seeded
        kept = tuple(all(out.entity_rows[t] for t in u) for u in units)
        for u, k in zip(units, kept):  # a unit is hidden whole or kept whole, vector and facts together
            assert k == any(out.entity_rows[t] for t in u)
            anchored = [f for f, a in enumerate(item.anchors) if set(a) & u]
            assert all(bool(out.anchors[f]) == k for f in anchored)
        seen.add(kept)
    assert seen == {(True, True), (True, False), (False, True), (False, False)}


def test_training_with_knowledge_dropout(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="both")
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    before = items[0].entity_rows
    for share in (1.0, 0.95):  # the library's bound is the CLI's (--knowledge-dropout at most 0.9)
        with pytest.raises(FusionError, match="knowledge_dropout must be between 0 and 0.9"):
            train_fused(model, items, tmp_path / "bad", TrainSettings(knowledge_dropout=share))
    assert not (tmp_path / "bad").exists()
    plain, _, pb = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="none")
    with pytest.raises(FusionError, match="fusion 'none'"):  # it would hide nothing: refused, not ignored
        train_fused(plain, [pb.sequence(t, 0) for t in TEXTS], tmp_path / "bad", TrainSettings(knowledge_dropout=0.2))
    assert not (tmp_path / "bad").exists()
    model.eval()
    with torch.no_grad():
        start = model(to_batch(model, items))["loss"].item()
    train_fused(model, items, tmp_path / "m", TrainSettings(epochs=3, batch_size=8, learning_rate=1e-3,
                                                            head_learning_rate=1e-2, warmup=0.0, seed=1,
                                                            knowledge_dropout=0.3))
    model.eval()
    with torch.no_grad():
        end = model(to_batch(model, items))["loss"].item()
    assert end < start
    assert items[0].entity_rows == before  # the training inputs themselves are not changed


def test_training_hides_knowledge_only_when_asked(tmp_path, tiny_encoder, tiny_store, tiny_embeddings, monkeypatch):
    import fusion.train

    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="both")
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    seen = []
    real = fusion.train.to_batch
    monkeypatch.setattr(fusion.train, "to_batch", lambda m, its, d="cpu": seen.extend(its) or real(m, its, d))
    train_fused(model, items, tmp_path / "a", TrainSettings(epochs=2, batch_size=4))
    assert all(it in items for it in seen)
    seen.clear()
    train_fused(model, items, tmp_path / "b", TrainSettings(epochs=2, batch_size=4, knowledge_dropout=0.5))
    assert len(seen) == 16 and any(it not in items for it in seen)


def test_cli_passes_knowledge_dropout_and_refuses_bad_values(tmp_path, tiny_encoder, monkeypatch):
    import json

    from typer.testing import CliRunner

    import fusion.train
    from tests.fusion.test_entity_vectors import _workspace_with_embeddings
    from cli.main import app

    ws = _workspace_with_embeddings(tmp_path)
    data = tmp_path / "d.jsonl"
    rows = [{"text": "metformin is good news", "label": "positive"},
            {"text": "diabetes is bad news", "label": "negative"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 3))
    shares = []
    real = fusion.train.hide_knowledge
    monkeypatch.setattr(fusion.train, "hide_knowledge",
                        lambda it, share, rng: shares.append(share) or real(it, share, rng))
    base = ["--data", str(data), "--encoder", str(tiny_encoder), "--epochs", "1", "-w", str(ws), "--quiet"]
    res = CliRunner().invoke(app, ["train", "classify", *base, "--out", str(tmp_path / "m"), "--fusion", "both",
                                      "--knowledge-dropout", "0.25"])
    assert res.exit_code == 0, res.output
    assert shares and set(shares) == {0.25}
    for cmd, extra in (("classify", ["--fusion", "both"]), ("qa", ["--fusion", "both"]),
                       ("ner", ["--fusion", "both", "--format", "jsonl"]), ("ner", ["--kind", "spacy"]),
                       ("classify", ["--fusion", "none"]), ("qa", ["--fusion", "none"]),
                       ("ner", ["--fusion", "none", "--format", "jsonl"])):
        value = "1.5" if "both" in extra else "0.5"  # in range, but a spaCy or fusion none model reads no graph
        res = CliRunner().invoke(app, ["train", cmd, *base, "--out", str(tmp_path / "bad"), *extra,
                                          "--knowledge-dropout", value])
        assert res.exit_code == 2 and "--knowledge-dropout" in res.output, (cmd, res.output)
        assert not (tmp_path / "bad").exists()
