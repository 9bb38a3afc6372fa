"""Shapes per head and path, the K-BERT visibility property, save/load, and a short training run."""
from __future__ import annotations

import json
import re
from dataclasses import replace
import shutil

import pytest
import torch
from safetensors.torch import save_file

from fusion.config import FusionConfig
from fusion.context import build_kg_context, NameLinker
from fusion.errors import FusionError
from fusion.examples import InputBuilder, Knowledge
from fusion.model import FusedModel
from fusion.train import TrainSettings, to_batch, train_fused

TEXTS = ["the patient took metformin for type 2 diabetes .", "aspirin causes bleeding and headache ."]


def _setup(tiny_encoder, store, emb, head="sequence", fusion="both", mode="kbert", layer=0, labels=("bad", "good")):
    from transformers import AutoTokenizer

    cfg = FusionConfig(head=head, labels=labels if head != "span" else (), fusion=fusion, fact_mode=mode,
                       inject_layer=layer, max_length=48, dropout=0.0, fact_share=0.0)  # tiny texts: every fact
    model = FusedModel.from_encoder(tiny_encoder, cfg, emb if cfg.uses_embeddings else None)
    tok = AutoTokenizer.from_pretrained(str(tiny_encoder))
    knowledge = Knowledge(store=store, embeddings=emb) if fusion != "none" else None
    return model, tok, InputBuilder(tok, model.config, knowledge, model.entity_row)


def test_build_kg_context_links_mentions_and_anchors_facts(tiny_store, tiny_embeddings):
    ctx = build_kg_context(TEXTS[0], tiny_store, tiny_embeddings, None, linker=NameLinker.from_store(tiny_store))
    assert [(m.text, m.entity_id) for m in ctx.mentions] == [("metformin", "C1"), ("type 2 diabetes", "D1")]
    assert ctx.facts and all(f.anchor in (0, 1) for f in ctx.facts)
    assert "metformin treats diabetes" in {f.text for f in ctx.facts}


def test_kbert_facts_read_as_branches_after_their_mention(tiny_encoder, tiny_store, tiny_embeddings):
    """K-BERT's sentence tree: after "metformin" comes "treats diabetes", not the name again; ``sentence``
    keeps the whole fact (what older models read), and concatenated facts are always whole sentences."""
    from fusion.inputs import tokenise

    def injected(cfg_changes):
        model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="facts")
        b = InputBuilder(tok, model.config.with_(**cfg_changes), b.knowledge, model.entity_row)
        item = b.sequence(TEXTS[0])
        words = [b.fact_words(f) for f in b.knowledge.context(TEXTS[0]).facts]
        ids = [tuple(i for i, f in zip(item.input_ids, item.fact_of) if f == k) for k in range(len(item.anchors))]
        return words, ids, item, tok

    branches, ids, item, tok = injected({})
    assert "treats diabetes" in branches and "metformin treats diabetes" not in branches
    # "type 2 diabetes" is an alias of diabetes: its facts keep the name the mention does not say
    ctx = Knowledge(store=tiny_store, embeddings=tiny_embeddings).context(TEXTS[0])
    alias = [f for f in ctx.facts if ctx.mentions[f.anchor].text == "type 2 diabetes"]
    assert alias and all(f.branch == "" and "diabetes" in f.text for f in alias)
    assert {f.text for f in alias} <= set(branches)
    assert ids == [tokenise(tok, w)[0] for w in branches]  # what the model reads is the branch
    k = branches.index("treats diabetes")
    assert item.fact_of[max(item.anchors[k]) + 1] == k  # placed right after its mention
    sentences, s_ids, _, _ = injected({"fact_words": "sentence"})
    assert "metformin treats diabetes" in sentences and len(sentences) == len(branches)
    assert s_ids == [tokenise(tok, w)[0] for w in sentences]
    assert sum(map(len, ids)) < sum(map(len, s_ids))
    concat, c_ids, item, _ = injected({"fact_mode": "concat"})
    assert concat == sentences


def test_fact_share_bounds_the_fact_tokens_by_the_input_length(tiny_encoder, tiny_store, tiny_embeddings):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="facts")
    free = b.sequence(TEXTS[0])
    n_body = sum(len(s) for s in free.body)
    n_facts = sum(1 for f in free.fact_of if f >= 0)
    assert n_facts > 0
    for share in (0.1, 0.3, 1.0):
        capped = InputBuilder(tok, model.config.with_(fact_share=share), b.knowledge, model.entity_row)
        item = capped.sequence(TEXTS[0])
        got = sum(1 for f in item.fact_of if f >= 0)
        assert got <= int(share * n_body) and got <= n_facts
    assert got == n_facts  # a share above what the facts need changes nothing
    with pytest.raises(FusionError, match="fact_share"):
        model.config.with_(fact_share=-1.0).checked()


def test_configs_saved_before_fact_words_read_sentences_without_a_share_limit():
    old = FusionConfig(head="sequence", labels=("a",)).as_dict()
    assert FusionConfig.from_dict(old).fact_words == "branch" and FusionConfig.from_dict(old).fact_share == 0.2
    del old["fact_words"], old["fact_share"]
    assert FusionConfig.from_dict(old).fact_words == "sentence" and FusionConfig.from_dict(old).fact_share == 0.0
    with pytest.raises(FusionError, match="fact words"):
        FusionConfig(head="sequence", labels=("a",), fact_words="tree").checked()


@pytest.mark.parametrize("fusion", ["none", "facts", "embeddings", "both"])
@pytest.mark.parametrize("head", ["token", "sequence", "multilabel", "span"])
def test_head_shapes_with_each_path(tiny_encoder, tiny_store, tiny_embeddings, fusion, head):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, head, fusion)
    if head == "span":
        items = [b.span("what does metformin treat ?", TEXTS[0], (27, 42)), b.span("what ?", TEXTS[1], (8, 14))]
    elif head == "token":
        items = [b.tokens(t, *__import__("fusion.inputs", fromlist=["tokenise"]).tokenise(tok, t), None) for t in TEXTS]
    else:
        items = [b.sequence(t, [0] if head == "multilabel" else 0) for t in TEXTS]
    batch = to_batch(model, items)
    out = model(batch)
    width = batch["input_ids"].shape[1]
    expected = {"token": (2, width, 2), "sequence": (2, 2), "multilabel": (2, 2), "span": (2, width, 2)}[head]
    assert tuple(out["logits"].shape) == expected
    if head != "token":
        assert out["loss"].ndim == 0 and torch.isfinite(out["loss"])
    if fusion in ("facts", "both"):
        assert max(len(i) for i in items) > max(len(i.body[0]) for i in items) + 2  # facts were injected


def _body_states(model, b, text, anchor_sees_fact=True):
    from fusion.batch import collate

    item = b.sequence(text)
    batch = collate([item], anchor_sees_fact=anchor_sees_fact)
    with torch.no_grad():
        h = model.encode(batch)[0]
    return item, h[list(item.body[0])]


def test_visibility_mask_keeps_original_tokens_identical(tiny_encoder, tiny_store, tiny_embeddings):
    text = TEXTS[0]
    with_facts, tok, b_f = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="facts")
    plain, _, b_n = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="none")
    plain.load_state_dict(with_facts.state_dict())
    item, h_facts = _body_states(with_facts, b_f, text, anchor_sees_fact=False)
    _, h_plain = _body_states(plain, b_n, text)
    assert len(item) > len(item.body[0]) + 2
    # facts see their anchor, nobody sees the facts: every original token is untouched in every layer
    assert torch.allclose(h_facts, h_plain, atol=1e-5)
    # with K-BERT's full mask the anchor reads its facts, so the outputs now differ (the property can fail)
    _, h_kbert = _body_states(with_facts, b_f, text)
    assert not torch.allclose(h_kbert, h_plain, atol=1e-4)


def test_visibility_mask_one_layer_only_anchors_change(tiny_encoder, tiny_store, tiny_embeddings):
    model, _, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="facts")
    plain, _, b_n = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="none")
    plain.load_state_dict(model.state_dict())
    for m in (model, plain):
        m.encoder.encoder.layer = m.encoder.encoder.layer[:1]
    item, h_f = _body_states(model, b, TEXTS[0])
    _, h_p = _body_states(plain, b_n, TEXTS[0])
    anchors = {t for a in item.anchors for t in a}
    same = [i for i, t in enumerate(item.body[0]) if t not in anchors]
    diff = [i for i, t in enumerate(item.body[0]) if t in anchors]
    assert torch.allclose(h_f[same], h_p[same], atol=1e-5)
    assert not torch.allclose(h_f[diff], h_p[diff], atol=1e-4)


def test_concatenation_changes_original_tokens(tiny_encoder, tiny_store, tiny_embeddings):
    model, _, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="facts", mode="concat")
    plain, _, b_n = _setup(tiny_encoder, tiny_store, tiny_embeddings, fusion="none")
    plain.load_state_dict(model.state_dict())
    _, h_c = _body_states(model, b, TEXTS[0])
    _, h_p = _body_states(plain, b_n, TEXTS[0])
    assert not torch.allclose(h_c, h_p, atol=1e-4)


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_save_load_gives_same_logits(tmp_path, tiny_encoder, tiny_store, tiny_embeddings, layer):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "both", layer=layer)
    torch.nn.init.normal_(model.kg_gate.weight)  # make the gate matter
    items = [b.sequence(t) for t in TEXTS]
    model.eval()
    with torch.no_grad():
        before = model(to_batch(model, items))["logits"]
    model.save(tmp_path / "m", tok)
    loaded = FusedModel.load(tmp_path / "m")
    with torch.no_grad():
        after = loaded(to_batch(loaded, items))["logits"]
    assert torch.allclose(before, after, atol=1e-6)
    assert torch.equal(loaded.kg_table, model.kg_table) and loaded.entity_ids == model.entity_ids
    # the table comes from kg_embeddings/, not from a second copy of the vectors
    assert (tmp_path / "m" / "kg_embeddings" / "meta.json").exists()
    assert not (tmp_path / "m" / "kg_table.safetensors").exists()


def test_a_model_saved_with_a_separate_table_still_loads(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "embeddings")
    torch.nn.init.normal_(model.kg_gate.weight)
    items = [b.sequence(t) for t in TEXTS]
    model.eval()
    with torch.no_grad():
        before = model(to_batch(model, items))["logits"]
    folder = model.save(tmp_path / "old", tok)
    # the layout before 2026-11-29: kg_table.safetensors + kg_entities.json; here without kg_embeddings/
    save_file({"table": model.kg_table.contiguous()}, str(folder / "kg_table.safetensors"))
    (folder / "kg_entities.json").write_text(json.dumps({"ids": list(model.entity_ids)}), encoding="utf-8")
    shutil.rmtree(folder / "kg_embeddings")
    loaded = FusedModel.load(folder)
    with torch.no_grad():
        assert torch.allclose(before, loaded(to_batch(loaded, items))["logits"], atol=1e-6)
    assert loaded.kg_embeddings is None
    (folder / "kg_table.safetensors").unlink()
    with pytest.raises(FusionError, match="neither kg_embeddings"):
        FusedModel.load(folder)


def test_checkpoints_write_the_graph_vectors_once(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    model, tok, _ = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "both")
    model.save(tmp_path / "m", tok)
    vectors = tmp_path / "m" / "kg_embeddings" / "vectors.safetensors"
    first = vectors.stat().st_mtime_ns
    model.save(tmp_path / "m", tok)  # the next checkpoint
    assert vectors.stat().st_mtime_ns == first
    model.save(tmp_path / "other", tok)  # another folder gets its own copy
    assert (tmp_path / "other" / "kg_embeddings" / "vectors.safetensors").exists()
    shutil.rmtree(tmp_path / "m" / "kg_embeddings")  # removed behind the model's back: written again
    model.save(tmp_path / "m", tok)
    assert (tmp_path / "m" / "kg_embeddings" / "meta.json").exists()


def test_embeddings_path_changes_only_with_linked_entities(tiny_encoder, tiny_store, tiny_embeddings):
    model, _, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "embeddings")
    item = b.sequence(TEXTS[0])
    assert sum(r > 0 for r in item.entity_rows) >= 2
    none_item = b.sequence("good news .")
    assert not any(none_item.entity_rows)


def test_three_training_steps_lower_the_loss(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "both")
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    batch = to_batch(model, items)
    model.eval()
    with torch.no_grad():
        before = model(batch)["loss"].item()
    settings = TrainSettings(epochs=3, batch_size=8, learning_rate=1e-3, head_learning_rate=1e-2, warmup=0.0, seed=1)
    result = train_fused(model, items, tmp_path / "out", settings, tokenizer=tok)
    model.eval()
    with torch.no_grad():
        after = model(batch)["loss"].item()
    assert result.steps == 3 and after < before
    # resuming a finished run does nothing more and keeps the step count
    again = train_fused(FusedModel.load(tmp_path / "out"), items, tmp_path / "out", settings, tokenizer=tok)
    assert again.steps == 3 and again.epochs_run == 3


def test_a_checkpoint_resumes_only_its_own_run(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "both")
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    settings = TrainSettings(epochs=1, batch_size=8, seed=1)
    out = tmp_path / "out"
    train_fused(model, items, out, settings, tokenizer=tok)
    saved = (out / "model.safetensors").read_bytes(), (out / "checkpoint" / "trainer.json").read_text()
    other_labels = [b.sequence(t, 1 - i % 2) for i, t in enumerate(TEXTS * 4)]
    for data, changed, message in ((other_labels, settings, "the training data (same count, other content)"),
                                   (items[:-1], settings, "the training data (8 -> 7 examples)"),
                                   (items, replace(settings, learning_rate=1e-3), "learning_rate 5e-05 -> 0.001")):
        with pytest.raises(FusionError, match="checkpoint of another run") as err:
            train_fused(FusedModel.load(out), data, out, changed, tokenizer=tok)
        assert message in str(err.value) and "--fresh" in str(err.value)
        assert ((out / "model.safetensors").read_bytes(), (out / "checkpoint" / "trainer.json").read_text()) == saved
    with pytest.raises(FusionError, match="the dev data"):  # early stopping would read other dev data
        train_fused(FusedModel.load(out), items, out, settings, tokenizer=tok, dev_digest="another dev set")
    # more epochs (and threads) may change: the same run goes on after its last epoch
    more = train_fused(FusedModel.load(out), items, out, replace(settings, epochs=2, threads=1), tokenizer=tok)
    assert more.epochs_run == 2 and more.steps == 2 and [h["epoch"] for h in more.history] == [1, 2]
    assert more.resumed_after == 1 and not more.stopped_early and "resumed after epoch 1" in more.summary()
    # resume=False (the CLI's --fresh) starts the other run over and replaces the checkpoint
    fresh = train_fused(FusedModel.load(out), other_labels, out, settings, tokenizer=tok, resume=False)
    assert fresh.epochs_run == 1 and fresh.steps == 1 and len(fresh.history) == 1 and fresh.resumed_after == 0
    again = train_fused(FusedModel.load(out), other_labels, out, replace(settings, epochs=2), tokenizer=tok)
    assert again.steps == 2 and again.epochs_run == 2


def test_a_checkpoint_is_not_resumed_from_another_encoder(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    """Resuming loads every weight from the checkpoint: with another --encoder the run would silently go on
    from the first encoder's, so it is refused, naming both folders."""
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "none")
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    settings, out = TrainSettings(epochs=1, batch_size=8, seed=1), tmp_path / "out"
    train_fused(model, items, out, settings, tokenizer=tok)
    other = shutil.copytree(tiny_encoder, tmp_path / "other-encoder")
    with pytest.raises(FusionError, match=r"checkpoint of another run \(the encoder \(.*other-encoder\)"):
        train_fused(FusedModel.from_encoder(other, model.config), items, out, replace(settings, epochs=2),
                    tokenizer=tok)
    more = train_fused(FusedModel.from_encoder(tiny_encoder, model.config), items, out, replace(settings, epochs=2),
                       tokenizer=tok)
    assert more.resumed_after == 1 and more.epochs_run == 2

def test_an_interrupted_run_resumed_ends_as_the_same_run_uninterrupted(tmp_path, tiny_encoder, tiny_store,
                                                                       tiny_embeddings):
    from safetensors.torch import load_file

    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "none")
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    settings = TrainSettings(epochs=3, batch_size=4, seed=1)  # 2 steps an epoch; encoder dropout draws numbers
    whole = train_fused(FusedModel.load(model.save(tmp_path / "start", tok)), items, tmp_path / "whole", settings,
                        tokenizer=tok)

    class Stop(Exception):
        pass

    def stop_in_epoch_2(p):
        if p.epoch == 2:
            raise Stop

    with pytest.raises(Stop):
        train_fused(FusedModel.load(tmp_path / "start"), items, tmp_path / "cut", settings, tokenizer=tok,
                    progress=stop_in_epoch_2)
    resumed = train_fused(FusedModel.load(tmp_path / "start"), items, tmp_path / "cut", settings, tokenizer=tok)
    # the learning rate goes on from the schedule's step, and dropout from the generator's state, at the checkpoint
    assert resumed.resumed_after == 1 and resumed.history == whole.history
    a, b = (load_file(str(tmp_path / run / "model.safetensors")) for run in ("whole", "cut"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_more_epochs_after_a_finished_run_take_the_longer_runs_learning_rates(tmp_path, tiny_encoder, tiny_store,
                                                                              tiny_embeddings, monkeypatch):
    """A finished 1-epoch run resumed with 3 epochs: each step after the checkpoint takes the learning rate a run
    started with 3 epochs takes at that step (the first took the 1-epoch schedule's last rate, 0), and the summary
    says the epochs before followed another schedule (they cannot be made a 3-epoch run's)."""
    rates: list[tuple[float, ...]] = []
    step = torch.optim.AdamW.step

    def recording(self, *args, **kwargs):
        rates.append(tuple(group["lr"] for group in self.param_groups))
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", recording)
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "none")
    start = model.save(tmp_path / "start", tok)
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    settings = TrainSettings(epochs=3, batch_size=4, seed=1)  # 2 steps an epoch, 6 in all
    whole = train_fused(FusedModel.load(start), items, tmp_path / "whole", settings, tokenizer=tok)
    three, rates[:] = list(rates), []
    first = train_fused(FusedModel.load(start), items, tmp_path / "more", replace(settings, epochs=1), tokenizer=tok)
    assert len(rates) == 2 and first.rescheduled_from == () and "schedule" not in first.summary()
    more = train_fused(FusedModel.load(start), items, tmp_path / "more", settings, tokenizer=tok)
    assert len(three) == 6 and rates[2:] == three[2:] and three[2][0] > 0, (rates, three)
    assert more.resumed_after == 1 and more.steps == whole.steps == 6 and more.rescheduled_from == ((2, 2),)
    assert "resumed after epoch 1 (trained until then on a learning-rate schedule made for 2 steps until step 2)" in \
        more.summary()
    assert whole.rescheduled_from == ()
    # a finished run given fewer epochs trains nothing more, on no other schedule
    again = train_fused(FusedModel.load(start), items, tmp_path / "more", replace(settings, epochs=2), tokenizer=tok)
    assert again.steps == 6 and again.rescheduled_from == () and len(rates) == 6


def test_a_run_resumed_with_two_other_lengths_reports_both_earlier_schedules(tmp_path, tiny_encoder, tiny_store,
                                                                              tiny_embeddings):
    """1 -> 2 -> 3 epochs: epoch 1 ran on the 2-step schedule, epoch 2 on the 4-step one, and both are reported; and
    a rescheduled run interrupted, then resumed with the same settings, still reports the schedule before it."""
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "none")
    start = model.save(tmp_path / "start", tok)
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    settings = TrainSettings(epochs=1, batch_size=4, seed=1)  # 2 steps an epoch

    def run(out: str, epochs: int, **kw):
        return train_fused(FusedModel.load(start), items, tmp_path / out, replace(settings, epochs=epochs),
                           tokenizer=tok, **kw)

    assert run("more", 1).rescheduled_from == ()
    assert run("more", 2).rescheduled_from == ((2, 2),)
    third = run("more", 3)
    assert third.resumed_after == 2 and third.rescheduled_from == ((2, 2), (4, 4))
    assert ("resumed after epoch 2 (trained until then on a learning-rate schedule made for 2 steps until step 2, "
            "then on one made for 4 steps until step 4)") in third.summary()

    class Stop(Exception):
        pass

    def stop_in_epoch_3(p):
        if p.epoch == 3:
            raise Stop

    run("cut", 1)
    with pytest.raises(Stop):  # resumed with 3 epochs, interrupted after epoch 2
        run("cut", 3, progress=stop_in_epoch_3)
    resumed = run("cut", 3)
    assert resumed.resumed_after == 2 and resumed.rescheduled_from == ((2, 2),)
    # the 2-step schedule was followed until step 2, not until this call resumed (after epoch 2, step 4)
    assert "resumed after epoch 2 (trained until then on a learning-rate schedule made for 2 steps until step 2)" in \
        resumed.summary()


def test_early_stopping_keeps_the_best_epoch_and_says_so(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "none")
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    scores = iter([0.5, 0.7, 0.6, 0.6, 0.9])  # best at epoch 2, then two epochs without a gain
    result = train_fused(model, items, tmp_path / "out", TrainSettings(epochs=5, batch_size=8, patience=2),
                         score=lambda m: next(scores), tokenizer=tok)
    assert (result.epochs_run, result.best_epoch, result.stopped_early) == (4, 2, True)
    assert result.summary().startswith("4 epochs (best 2), ") and result.summary().endswith("stopped early: no dev gain")
    assert json.loads((tmp_path / "out" / "config.json").read_text())["extra"]["best_epoch"] == 2


def test_balanced_weights_follow_class_counts():
    from fusion.tasks import balanced_weights

    w = balanced_weights([0, 0, 0, 1], 3)  # 4 examples, 3 classes; class 2 absent
    assert torch.allclose(w, torch.tensor([4 / 9, 4 / 3, 1.0]))


def test_class_weights_change_the_loss_and_are_not_saved(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    from fusion.data import TextExample
    from fusion.tasks import train_classifier

    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "none")
    batch = to_batch(model, [b.sequence(t, 1) for t in TEXTS])
    model.eval()
    with torch.no_grad():
        plain = model(batch)["loss"].item()
        model.loss_weights = torch.tensor([1.0, 3.0])  # every row is class 1: the weighted mean is unchanged ...
        same = model(batch)["loss"].item()
        mixed = to_batch(model, [b.sequence(TEXTS[0], 0), b.sequence(TEXTS[1], 1)])
        weighted = model(mixed)["loss"].item()
        model.loss_weights = None
        unweighted = model(mixed)["loss"].item()
    assert same == pytest.approx(plain, abs=1e-6) and weighted != pytest.approx(unweighted, abs=1e-6)
    examples = [TextExample(t, ("good" if i % 4 else "bad",)) for i, t in enumerate(TEXTS * 4)]
    cfg = FusionConfig(head="sequence", labels=("_",), fusion="none", max_length=48)
    settings = TrainSettings(epochs=1, batch_size=4, max_steps=1, class_weight="balanced")
    train_classifier(examples, tmp_path / "m", cfg, encoder=tiny_encoder, settings=settings, dev=examples[:2])
    assert "loss_weights" not in FusedModel.load(tmp_path / "m").state_dict()
    with pytest.raises(Exception, match="class weighting"):
        train_classifier(examples, tmp_path / "n", cfg, encoder=tiny_encoder,
                         settings=TrainSettings(max_steps=1, class_weight="inverse"), dev=examples[:2])



def test_a_classifier_needs_two_labels_in_its_training_examples(tmp_path, tiny_encoder):
    from fusion.data import TextExample
    from fusion.errors import FusionError
    from fusion.tasks import train_classifier

    cfg = FusionConfig(head="sequence", labels=("_",), fusion="none", max_length=48)
    one = [TextExample(t, ("good",)) for t in TEXTS * 2]
    with pytest.raises(FusionError, match=r"1 label \('good'\): a classifier needs at least two"):
        train_classifier(one, tmp_path / "m", cfg, encoder=tiny_encoder, settings=TrainSettings(max_steps=1))
    # the second label only in dev: the training examples still have one
    with pytest.raises(FusionError, match="needs at least two"):
        train_classifier(one, tmp_path / "m", cfg, encoder=tiny_encoder, settings=TrainSettings(max_steps=1),
                         dev=[TextExample(TEXTS[0], ("bad",))])
    assert not (tmp_path / "m").exists()

@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_seeded_run_does_not_depend_on_what_ran_before(tmp_path, tiny_encoder, precision):
    from safetensors.torch import load_file

    from fusion.data import TextExample
    from fusion.tasks import train_classifier

    examples = [TextExample(t, ("good" if i % 3 else "bad",)) for i, t in enumerate(TEXTS * 4)]
    cfg = FusionConfig(head="sequence", labels=("_",), fusion="none", max_length=48)
    settings = TrainSettings(epochs=1, batch_size=4, max_steps=3, seed=5, precision=precision)
    weights = []
    for run in range(2):
        torch.rand(run * 7 + 1)  # other work in the same process draws from the global generator
        train_classifier(examples, tmp_path / f"m{run}", cfg, encoder=tiny_encoder, settings=settings)
        weights.append(load_file(str(tmp_path / f"m{run}" / "model.safetensors")))
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


@pytest.mark.parametrize("choice", ["fp32", "bf16"])
def test_fused_training_precision_sets_autocast(tmp_path, tiny_encoder, tiny_store, tiny_embeddings, monkeypatch,
                                                choice):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "both")
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 2)]
    seen = []
    forward = FusedModel.forward

    def spy(self, *args, **kwargs):
        seen.append(torch.is_autocast_enabled("cpu"))
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(FusedModel, "forward", spy)
    settings = TrainSettings(epochs=1, batch_size=2, max_steps=2, seed=1, precision=choice)
    result = train_fused(model, items, tmp_path / "out", settings, tokenizer=tok)
    assert result.steps == 2 and seen and set(seen) == {choice == "bf16"}
    assert all(torch.isfinite(p).all() for p in model.parameters())
    with pytest.raises(Exception, match="Unknown precision 'fp8'"):
        train_fused(model, items, tmp_path / "bad", TrainSettings(max_steps=1, precision="fp8"), tokenizer=tok)
    assert not (tmp_path / "bad").exists()


def test_facts_keep_the_training_schema_words_after_loading(tmp_path, tiny_encoder):
    """A user relation (from a schema file) is said the same way at inference as in training, with no config."""
    from fusion.data import TextExample
    from fusion.predict import Classifier
    from fusion.tasks import train_classifier
    from kg.records import Entity, Triple
    from kg.schema import load_schema
    from kg.stores.sqlite import SQLiteStore

    (tmp_path / "schema.toml").write_text('[[relations]]\nname = "RISING_IS"\nverb = "going up is"\n'
                                          'when = ["UP"]\n')
    schema = load_schema(tmp_path / "schema.toml")
    store = SQLiteStore.open(tmp_path / "g.db")
    store.add([Triple("P", "RISING_IS", "G")], [Entity("P", "profit", "Concept"), Entity("G", "good news", "Polarity"),
                                                 Entity("UP", "rose", "Change")])
    examples = [TextExample("profit rose .", ("good",)), TextExample("profit fell .", ("bad",))] * 2
    knowledge = Knowledge(store=store, schema=schema)
    assert [f.text for f in knowledge.context("profit rose .").facts] == ["profit going up is good news"]
    assert knowledge.context("profit fell .").facts == ()  # the fact's condition: a text that says it rose
    cfg = FusionConfig(head="sequence", labels=("_",), fusion="facts", max_length=32)
    train_classifier(examples, tmp_path / "m", cfg, encoder=tiny_encoder, knowledge=knowledge,
                     settings=TrainSettings(epochs=1, batch_size=4, seed=1))
    loaded = FusedModel.load(tmp_path / "m")
    assert loaded.config.relation_verbs == (("RISING_IS", "going up is"),)
    assert loaded.config.relation_when == (("RISING_IS", ("UP",)),)
    assert loaded.config.schema().get("TREATS").verb == "treats"  # the built-ins stay
    rose, fell = Classifier.load(tmp_path / "m", store).classify(["profit rose .", "profit fell ."])
    assert rose.facts == ("profit going up is good news",) and fell.facts == ()
    # the built-in schema alone says it the fallback way: the saved verbs are what made the difference
    assert Knowledge(store=store).context("profit rose .").facts[0].text == "profit rising is good news"
    store.close()


def test_relation_verbs_round_trip_and_default_to_none():
    from kg.schema import Schema

    cfg = FusionConfig(labels=("a",)).with_schema(Schema())
    assert cfg.relation_verbs == () and FusionConfig.from_dict(cfg.as_dict()) == cfg
    old = cfg.as_dict()
    del old["relation_verbs"]  # a model saved before the field existed
    del old["relation_when"]
    assert FusionConfig.from_dict(old).relation_verbs == () and FusionConfig.from_dict(old).relation_when == ()
    # a relation with a condition and the built-in verb: the condition alone is saved, and comes back
    from kg.schema import BUILTIN_RELATIONS, extended_schema

    treats = next(r for r in BUILTIN_RELATIONS if r.name == "TREATS")
    cfg = FusionConfig(labels=("a",)).with_schema(extended_schema([replace(treats, when=("D1",))]))
    assert cfg.relation_verbs == () and cfg.relation_when == (("TREATS", ("D1",)),)
    back = FusionConfig.from_dict(json.loads(json.dumps(cfg.as_dict())))
    assert back == cfg and back.schema().get("TREATS") == replace(treats, when=("D1",))
    damaged = {**cfg.as_dict(), "relation_when": [["RISES", ["D1"]]]}  # a condition on a relation it cannot say
    with pytest.raises(FusionError, match="relation_when names relations without a verb"):
        FusionConfig.from_dict(damaged)


def test_loaded_model_ranks_facts_as_training_did(tmp_path, tiny_encoder):
    """The graph embeddings that ranked each entity's facts in training are saved with the model, so after
    loading (no embeddings passed) the same facts are picked, not the confidence order's."""
    import numpy as np

    from fusion.examples import model_knowledge
    from kg.embeddings import EmbeddingMeta, KGEmbeddings
    from kg.records import Entity, Triple
    from kg.stores.sqlite import SQLiteStore

    store = SQLiteStore.open(tmp_path / "g.db")
    ents = [Entity("C1", "metformin", "Chemical"), Entity("D1", "diabetes", "Disease"),
            Entity("D2", "bleeding", "Disease"), Entity("D3", "headache", "Disease")]
    store.add([Triple("C1", "TREATS", "D1", 0.9), Triple("C1", "CAUSES", "D2", 0.8),
               Triple("C1", "CAUSES", "D3", 0.7)], ents)
    # TransE: h + r close to t for the two lowest-confidence facts only
    vec = {"C1": [0, 0], "D1": [5, 5], "D2": [1, 0], "D3": [1, 0.1]}
    emb = KGEmbeddings(EmbeddingMeta("transe", 2), tuple(vec), ("TREATS", "CAUSES"),
                       np.array(list(vec.values()), dtype="float32"), np.array([[-5, 0], [1, 0]], dtype="float32"))
    text = "the patient took metformin ."
    trained = [f.text for f in Knowledge(store=store, embeddings=emb).context(text).facts]
    by_confidence = [f.text for f in Knowledge(store=store).context(text).facts]
    assert trained == ["metformin causes bleeding", "metformin causes headache"] and trained != by_confidence
    model, tok, _ = _setup(tiny_encoder, store, emb, "sequence", "both")
    model.save(tmp_path / "m", tok)
    loaded = FusedModel.load(tmp_path / "m")
    assert [f.text for f in model_knowledge(loaded, store).context(text).facts] == trained
    store.close()


def test_a_model_without_graph_vectors_saved_over_one_with_them_ranks_facts_as_its_training_did(tmp_path,
                                                                                                 tiny_encoder):
    """A facts model trained (without embeddings) into the folder of an earlier 'both' model must not load the
    earlier model's kg_embeddings/: they would rank its facts otherwise than training did."""
    import numpy as np

    from fusion.examples import model_knowledge
    from kg.embeddings import EmbeddingMeta, KGEmbeddings
    from kg.records import Entity, Triple
    from kg.stores.sqlite import SQLiteStore

    store = SQLiteStore.open(tmp_path / "g.db")
    store.add([Triple("C1", "TREATS", "D1", 0.9), Triple("C1", "CAUSES", "D2", 0.8),
               Triple("C1", "CAUSES", "D3", 0.7)],
              [Entity("C1", "metformin", "Chemical"), Entity("D1", "diabetes", "Disease"),
               Entity("D2", "bleeding", "Disease"), Entity("D3", "headache", "Disease")])
    vec = {"C1": [0, 0], "D1": [5, 5], "D2": [1, 0], "D3": [1, 0.1]}
    emb = KGEmbeddings(EmbeddingMeta("transe", 2), tuple(vec), ("TREATS", "CAUSES"),
                       np.array(list(vec.values()), dtype="float32"), np.array([[-5, 0], [1, 0]], dtype="float32"))
    text = "the patient took metformin ."
    by_confidence = [f.text for f in Knowledge(store=store).context(text).facts]
    both, tok, _ = _setup(tiny_encoder, store, emb, "sequence", "both")
    both.save(tmp_path / "m", tok)
    facts, _, _ = _setup(tiny_encoder, store, None, "sequence", "facts")
    facts.save(tmp_path / "m", tok)
    loaded = FusedModel.load(tmp_path / "m")
    assert loaded.kg_embeddings is None and not (tmp_path / "m" / "kg_embeddings").exists()
    assert [f.text for f in model_knowledge(loaded, store).context(text).facts] == by_confidence
    store.close()


def test_left_truncation_keeps_the_end_of_the_long_text(tiny_encoder, tiny_store, tiny_embeddings):
    """truncation_side=left drops the start of an overlong context: its last tokens, the entity rows of a
    mention there and a span answer at the very end survive; right truncation loses them."""

    question = "what helps ?"
    context = "the first part is long . " * 12 + "the patient took metformin for type 2 diabetes ."
    answer = (context.index("type 2 diabetes"), len(context) - 2)
    _, tok, right = _setup(tiny_encoder, tiny_store, tiny_embeddings, head="span", fusion="both")
    left = InputBuilder(tok, replace(right.config, truncation_side="left"), right.knowledge, right.entity_row)
    from fusion.inputs import tokenise

    ctx_ids = tokenise(tok, context)[0]
    r, lft = right.span(question, context, answer), left.span(question, context, answer)
    assert len(r.body[1]) == len(lft.body[1]) < len(ctx_ids)  # both cut to the same length
    assert [lft.input_ids[i] for i in lft.body[1]] == list(ctx_ids[-len(lft.body[1]):])
    assert [r.input_ids[i] for i in r.body[1]] == list(ctx_ids[:len(r.body[1])])
    assert lft.extra["start"] > 0 and r.extra["start"] == 0  # the answer survives only on the left cut
    offs, body = lft.extra["context_offsets"], list(lft.body[1])
    first, last = offs[body.index(lft.extra["start"])], offs[body.index(lft.extra["end"])]
    assert context[first[0]:last[1]] == "type 2 diabetes"
    assert any(lft.entity_rows[i] for i in lft.body[1]) and not any(r.entity_rows[i] for i in r.body[1])
    assert lft.extra["context_offsets"][-1][1] == len(context)


def test_unknown_truncation_side_is_refused():
    with pytest.raises(FusionError, match="truncation side"):
        FusionConfig(labels=("a",), truncation_side="middle").checked()
    assert FusionConfig.from_dict(FusionConfig(labels=("a",), truncation_side="left").as_dict()).truncation_side == "left"
    assert FusionConfig.from_dict({"labels": ["a"]}).truncation_side == "right"  # models saved before the option


def test_left_truncation_spends_facts_on_the_kept_end(tmp_path, tiny_encoder, tiny_embeddings):
    """The facts an input has room for go to mentions that survive truncation: with the start of a long text
    cut, the facts of its first mentions must not use up the cap (the knowledge layer's old cap of 4 did)."""
    from kg.records import Entity, Triple
    from kg.stores.sqlite import SQLiteStore

    store = SQLiteStore.open(tmp_path / "g.db")
    early = ["aspirin", "insulin", "heparin", "warfarin", "codeine"]
    ents = [Entity(f"C{i}", n, "Chemical") for i, n in enumerate(early)] + [
        Entity("M", "metformin", "Chemical"), Entity("B", "bleeding", "Disease"), Entity("D", "diabetes", "Disease")]
    store.add([Triple(f"C{i}", "CAUSES", "B") for i in range(len(early))] + [Triple("M", "TREATS", "D")], ents)
    context = " ".join(early) + " . " + "the first part is long . " * 12 + "the patient took metformin ."
    _, tok, right = _setup(tiny_encoder, store, tiny_embeddings, fusion="facts")
    cfg = right.config.with_(truncation_side="left", max_facts=1)
    item = InputBuilder(tok, cfg, Knowledge(store=store)).sequence("what helps ?", 0, context)
    fact_tokens = [i for i, f in enumerate(item.fact_of) if f >= 0]
    assert fact_tokens and len({item.fact_of[i] for i in fact_tokens}) == 1
    anchor = fact_tokens[0] - 1  # K-BERT: the fact follows its mention's last token
    assert anchor in sorted(item.body[1])[-2:]  # "metformin" of "... metformin .", the kept end
    assert item.position_ids[fact_tokens[0]] == item.position_ids[anchor] + 1  # soft position after the mention
    capped = InputBuilder(tok, cfg, Knowledge(store=store, max_facts=4))
    assert not any(f >= 0 for f in capped.sequence("what helps ?", 0, context).fact_of)  # the old cap: none
    store.close()


def test_each_command_refuses_a_model_of_another_head(tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    """`ner --model` needs a token model, `classify` a sequence one, `ask --model` yes/no/maybe or spans."""
    from fusion.ner import FusedNER
    from fusion.predict import Classifier
    from fusion.reader import Reader

    saved = {}
    for head, labels in (("token", ("O", "B-Chemical", "I-Chemical")), ("sequence", ("down", "up")),
                         ("span", ()), ("yesno", ("maybe", "no", "yes"))):
        model, tok, _ = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence" if head == "yesno" else head,
                               "none", labels=labels)
        model.save(tmp_path / head, tok)
        saved[head] = tmp_path / head
    for load, ok, refused, needle in (
            (FusedNER.load, ("token",), ("sequence", "span"), "an NER --model needs"),
            (Classifier.load, ("sequence", "yesno"), ("token", "span"), "`kgnlp classify` needs"),
            (Reader.load, ("span", "yesno"), ("token", "sequence"), "`ask --model` needs a QA model")):
        for head in ok:
            load(saved[head])
        for head in refused:
            with pytest.raises(FusionError, match=re.escape(needle)):
                load(saved[head])


def test_a_damaged_or_half_swapped_checkpoint_is_a_clear_error_or_the_last_whole_one(
        tmp_path, tiny_encoder, tiny_store, tiny_embeddings):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "none")
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    settings = TrainSettings(epochs=1, batch_size=8, seed=1)
    out = tmp_path / "out"
    train_fused(model, items, out, settings, tokenizer=tok)
    ckpt = out / "checkpoint"
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("checkpoint")) == ["checkpoint"]
    ckpt.rename(out / "checkpoint.old")  # an interrupt between putting the old one aside and the new in place
    more = train_fused(FusedModel.load(out), items, out, replace(settings, epochs=2), tokenizer=tok)
    assert more.resumed_after == 1 and more.epochs_run == 2
    with open(ckpt / "model.safetensors", "r+b") as f:
        f.truncate(1000)
    with pytest.raises(FusionError, match=r"checkpoint in .* cannot be read .*--fresh") as err:
        train_fused(FusedModel.load(out), items, out, replace(settings, epochs=3), tokenizer=tok)
    assert "\n" not in str(err.value)
    train_fused(FusedModel.load(out), items, out, replace(settings, epochs=3), tokenizer=tok, resume=False)


def test_training_never_replaces_another_kind_of_model_or_an_encoder(tmp_path, tiny_encoder, tiny_store,
                                                                     tiny_embeddings):
    import shutil

    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "none")
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    settings = TrainSettings(epochs=1, batch_size=8, seed=1)
    encoder = tmp_path / "encoder"
    shutil.copytree(tiny_encoder, encoder)
    ner = tmp_path / "ner"
    ner.mkdir()
    (ner / "kgnlp_ner.json").write_text('{"kind": "spacy"}', encoding="utf-8")
    for folder in (encoder, ner):
        before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        with pytest.raises(FusionError, match="Choose an empty or new --out"):
            train_fused(model, items, folder, settings, tokenizer=tok)
        assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    out = tmp_path / "sequence"
    train_fused(model, items, out, settings, tokenizer=tok)
    token_model, _, _ = _setup(tiny_encoder, tiny_store, tiny_embeddings, "token", "none", labels=("O", "B-X"))
    with pytest.raises(FusionError, match="holds a fused sequence model, which a token model would replace"):
        train_fused(token_model, items, out, settings, tokenizer=tok)  # refused before any item is read


def test_a_max_length_beyond_the_encoders_positions_is_refused_before_training(tmp_path, tiny_encoder):
    from nlp.errors import NLPError

    with pytest.raises(NLPError, match="--max-length 300 is more than this encoder's 256 positions"):
        FusedModel.from_encoder(tiny_encoder, FusionConfig(head="sequence", labels=("a", "b"), max_length=300))
    FusedModel.from_encoder(tiny_encoder, FusionConfig(head="sequence", labels=("a", "b"), max_length=256))


def test_transformer_ner_refuses_a_trained_model_or_a_broken_folder_as_its_encoder(tmp_path, tiny_encoder):
    import json
    import shutil

    from nlp.errors import NLPError
    from kg.records import Document
    from nlp.formats import LabelledDoc
    from nlp.formats.records import GoldMention
    from nlp.ner import TrainConfig, train_ner

    docs = [LabelledDoc(Document("d", "metformin helps", "d"), (GoldMention(0, 9, "metformin", "Chemical"),))]
    fused = tmp_path / "fused"
    fused.mkdir()
    (fused / "config.json").write_text(json.dumps({"kgnlp": "kgnlp-fused-model"}), encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.json").write_text("{}", encoding="utf-8")
    for encoder, needle in ((fused, "is a trained kgnlp model, not an encoder"),
                            (empty, "is not a usable Hugging Face encoder folder")):
        with pytest.raises(NLPError, match=needle) as err:
            train_ner(docs, tmp_path / "out", TrainConfig(kind="transformer", encoder=str(encoder), epochs=1))
        assert "\n" not in str(err.value)
    long = tmp_path / "enc"
    shutil.copytree(tiny_encoder, long)
    with pytest.raises(NLPError, match="more than this encoder's 256 positions"):
        train_ner(docs, tmp_path / "out", TrainConfig(kind="transformer", encoder=str(long), max_length=1000))


def test_a_dev_label_no_training_example_has_is_reported(tmp_path, tiny_encoder):
    from fusion.data import TextExample
    from fusion.tasks import train_classifier

    cfg = FusionConfig(head="sequence", labels=("_",), fusion="none", max_length=48)
    train = [TextExample(t, ("good" if i % 2 else "bad",)) for i, t in enumerate(TEXTS * 2)]
    dev = [TextExample(TEXTS[0], ("mixed",)), TextExample(TEXTS[1], ("good",))]
    report = train_classifier(train, tmp_path / "m", cfg, encoder=tiny_encoder, settings=TrainSettings(max_steps=1),
                              dev=dev)
    assert report.unseen == ("mixed",) and report.as_dict()["dev_labels_not_trained"] == ["mixed"]
    assert report.dev["n"] == 1


def test_a_diverged_run_stops_with_an_error_instead_of_saving_nan_weights(tmp_path, tiny_encoder, tiny_store,
                                                                          tiny_embeddings):
    model, tok, b = _setup(tiny_encoder, tiny_store, tiny_embeddings, "sequence", "none")
    items = [b.sequence(t, i % 2) for i, t in enumerate(TEXTS * 4)]
    with pytest.raises(FusionError, match="The training loss became nan in epoch 1"):
        train_fused(model, items, tmp_path / "out", TrainSettings(epochs=2, batch_size=2, learning_rate=1e308,
                                                                  head_learning_rate=1e308), tokenizer=tok)
    assert not (tmp_path / "out" / "model.safetensors").exists()


def test_knowledge_reads_the_graph_names_itself_and_takes_none_given(tiny_store):
    """``Knowledge.names`` is the store's names() as its linker was built from them: not a constructor argument
    (names given were silently replaced by the store's)."""
    assert Knowledge(store=tiny_store).names == list(tiny_store.names())
    assert Knowledge(store=tiny_store, linker=NameLinker.from_store(tiny_store)).names is None  # none read
    with pytest.raises(TypeError, match="names"):
        Knowledge(store=tiny_store, names=[("aspirin", "C9", "Chemical")])
