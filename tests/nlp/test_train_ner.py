"""A 2-step training run of each NER kind saves a model dir that reloads with identical predictions."""
from __future__ import annotations

from pathlib import Path

import pytest

from nlp.errors import NLPError
from nlp.evaluation import score_layer, score_ner
from nlp.formats import read_labelled_jsonl
from nlp.formats.records import GoldMention
from nlp.ner import TrainConfig, load_ner_model, train_ner
from nlp.ner.training import EarlyStopping

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "extraction"
TEXTS = ["Metformin lowers blood glucose in type 2 diabetes.", "Jane Roe runs Northwind Therapeutics in Oslo.",
         "word " * 80 + "aspirin"]


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory):
    """A 1-layer random BERT with MiniLM's tokenizer, saved as a local HF folder (exercises --encoder PATH)."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from nlp.models import default_encoder_path

    out = tmp_path_factory.mktemp("enc")
    tok = AutoTokenizer.from_pretrained(str(default_encoder_path()), local_files_only=True)
    BertModel(BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=64)).save_pretrained(str(out))
    tok.save_pretrained(str(out))
    return str(out)


@pytest.mark.parametrize("kind", ["spacy", "transformer"])
def test_two_step_training_saves_and_reloads_identical_predictions(tmp_path, kind, tiny_encoder):
    docs = read_labelled_jsonl(FIX / "tiny.jsonl")
    seen = []
    report = train_ner(docs, tmp_path / "m", TrainConfig(kind=kind, epochs=1, max_steps=2, batch_size=2,
                                                         max_length=32, stride=8, encoder=tiny_encoder),
                       dev_docs=docs[:2], progress=seen.append)
    assert report.kind == kind and report.epochs_run == 1
    assert [p.step for p in seen if p.phase == "train"] == [1, 2]
    assert any(p.phase == "eval" and p.dev_f1 is not None for p in seen)
    assert (tmp_path / "m" / "kgnlp_ner.json").exists()
    if kind == "transformer":
        assert (tmp_path / "m" / "model.safetensors").exists()
        assert not list((tmp_path / "m").glob("*.bin"))
    first = load_ner_model(tmp_path / "m").predict(TEXTS)
    again = load_ner_model(tmp_path / "m").predict(TEXTS)
    assert first == again
    # the best epoch's dev scores, as `kgnlp eval ner --model-only --json` writes them for the saved model
    assert report.dev_scores == score_layer(load_ner_model(tmp_path / "m"), docs[:2]).as_dict()
    for text, mentions in zip(TEXTS, first):
        for m in mentions:
            assert text[m.start:m.end] == m.text
    # a copied folder broken in each common way is a one-line NLPError naming it, not a library traceback
    import shutil

    weights = "model.safetensors" if kind == "transformer" else "pipeline/ner/model"
    damage = {"cut-weights": lambda f: (f / weights).write_bytes(b"\x10" * 100),
              "no-weights": lambda f: (f / weights).unlink(),
              "bad-config": lambda f: (f / ("config.json" if kind == "transformer" else "pipeline/config.cfg"))
              .write_text("{"),
              "bad-marker": lambda f: (f / "kgnlp_ner.json").write_text("{")}
    for name, hurt in damage.items():
        folder = tmp_path / name
        shutil.copytree(tmp_path / "m", folder)
        hurt(folder)
        with pytest.raises(NLPError) as err:
            load_ner_model(folder)
        assert str(folder) in str(err.value) and "\n" not in str(err.value), (name, err.value)


def test_load_ner_model_explains_a_wrong_folder(tmp_path):
    with pytest.raises(NLPError, match="kgnlp train ner"):
        load_ner_model(tmp_path)


def test_unknown_kind_lists_choices(tmp_path):
    with pytest.raises(NLPError, match="spacy, transformer"):
        train_ner(read_labelled_jsonl(FIX / "tiny.jsonl"), tmp_path / "m", TrainConfig(kind="crf"))


def test_transformer_refuses_a_hub_name(tmp_path):
    with pytest.raises(NLPError, match="local Hugging Face model folder"):
        train_ner(read_labelled_jsonl(FIX / "tiny.jsonl"), tmp_path / "m",
                  TrainConfig(kind="transformer", encoder="bert-base-uncased", max_steps=1))


def test_scores_are_exact_span_and_type():
    gold = [[GoldMention(0, 5, "a", "Chemical"), GoldMention(10, 15, "b", "Disease")]]
    pred = [[GoldMention(0, 5, "a", "Chemical"), GoldMention(10, 14, "b", "Disease"), GoldMention(20, 25, "c", "Disease")]]
    s = score_ner(gold, pred)
    assert (s.overall.tp, s.overall.fp, s.overall.fn) == (1, 2, 1)
    assert s.by_label["Chemical"].f1 == 1.0
    assert s.overall.f1 == round(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5), 4)


def test_scores_need_the_predictions_of_every_gold_document():
    """The scorer compares document by document: a list of predictions one short was scored on the documents
    both lists had (the last gold document's mentions were no misses)."""
    gold = [[GoldMention(0, 5, "a", "Chemical")], [GoldMention(0, 5, "b", "Disease")]]
    with pytest.raises(NLPError, match="of 1 predicted and 2 gold documents"):
        score_ner(gold, gold[:1])


def test_early_stopping_keeps_the_best_dev_scores_as_eval_ner_writes_them():
    """Training's dev scores (TrainReport.dev_scores) came from a scorer of their own, as {"micro", "by_label"}."""
    gold = [[GoldMention(0, 5, "a", "Chemical"), GoldMention(10, 15, "b", "Disease")]]
    worse, better = score_ner(gold, [gold[0][:1]]), score_ner(gold, gold)
    early = EarlyStopping(patience=1)
    assert early.update(1, worse) and early.update(2, better) and not early.update(3, worse)
    assert early.best_epoch == 2 and early.stop
    assert early.scores == better.as_dict() and early.scores["f1"] == 1.0 and set(early.scores["labels"]) == {
        "Chemical", "Disease"}



def test_early_stopping_ranks_epochs_by_unrounded_f1():
    """F1 0.99346 then 0.99355: both 0.9935 as written, yet the second epoch is the better one (as it was before
    training took the rounded scores of `kgnlp eval ner`)."""
    gold = [[(i, i + 1, "Chemical") for i in range(77)]]
    first, second = score_ner(gold, [gold[0][:76]]), score_ner(gold, [gold[0] + [(100, 101, "Chemical")]])
    assert first.overall.f1 == second.overall.f1 == 0.9935
    early = EarlyStopping(patience=2)
    assert early.update(1, first) and early.update(2, second) and early.best_epoch == 2


def test_score_layer_runs_a_layer_over_docs():
    class Echo:
        name, priority = "echo", 0

        def predict(self, texts):
            return [[] for _ in texts]

    docs = read_labelled_jsonl(FIX / "tiny.jsonl")
    assert score_layer(Echo(), docs).overall.recall == 0.0


def test_spacy_examples_mark_tokens_outside_entities_as_O_and_misaligned_spans_missing():
    import spacy

    from nlp.formats.records import LabelledDoc
    from nlp.ner.spacy_cnn import _examples
    from kg.records import Document

    text = "Aspirin helps. Xaspirin no."
    doc = LabelledDoc(Document("d", text), (GoldMention(0, 7, "Aspirin", "Chemical"),
                                            GoldMention(16, 23, "aspirin", "Chemical")))  # mid-token: misaligned
    [ex] = _examples(spacy.blank("en"), [doc])
    tags = ex.get_aligned_ner()
    assert tags[0] == "U-Chemical" and tags[1] == "O" and tags[2] == "O"
    assert tags[3] in (None, "-")  # "Xaspirin" cannot hold the span: missing, not O


def test_device_choice_is_checked_before_training(tmp_path, tiny_encoder, monkeypatch):
    import torch

    from nlp.ner.training import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu" and resolve_device("CPU") == "cpu"
    with pytest.raises(NLPError, match="sees no CUDA GPU"):
        resolve_device("cuda")
    with pytest.raises(NLPError, match="Choose auto, cpu, cuda"):
        resolve_device("tpu")
    docs = read_labelled_jsonl(FIX / "tiny.jsonl")
    with pytest.raises(NLPError, match="CPU only"):
        train_ner(docs, tmp_path / "s", TrainConfig(kind="spacy", epochs=1, max_steps=1, device="cuda"))
    with pytest.raises(NLPError, match="sees no CUDA GPU"):
        train_ner(docs, tmp_path / "t", TrainConfig(kind="transformer", epochs=1, max_steps=1, device="cuda",
                                                    encoder=tiny_encoder))
    assert not (tmp_path / "t").exists() and not (tmp_path / "s").exists()


def test_matmul_precision_bf16_runs_under_autocast_and_fp32_does_not(tmp_path, tiny_encoder, monkeypatch):
    import torch

    from nlp import models as tr

    docs = read_labelled_jsonl(FIX / "tiny.jsonl")
    train_ner(docs, tmp_path / "m", TrainConfig(kind="transformer", epochs=1, max_steps=1, batch_size=2,
                                                max_length=32, stride=8, encoder=tiny_encoder))
    layer = load_ner_model(tmp_path / "m")
    seen = []
    forward = layer.model.forward

    def spy(*args, **kwargs):
        seen.append(torch.is_autocast_enabled("cpu"))
        return forward(*args, **kwargs)

    monkeypatch.setattr(layer.model, "forward", spy)
    monkeypatch.delenv("KGNLP_PRECISION", raising=False)
    for choice, autocast in (("fp32", False), ("bf16", True)):
        layer.precision, seen[:] = choice, []
        out = layer.predict(TEXTS)
        assert seen and set(seen) == {autocast}, choice
        assert all(text[m.start:m.end] == m.text for text, ms in zip(TEXTS, out) for m in ms)
    layer.precision = None
    monkeypatch.setenv("KGNLP_PRECISION", "fp32")
    seen[:] = []
    layer.predict(TEXTS[:1])
    assert set(seen) == {False}  # the environment variable is obeyed when no precision is given
    monkeypatch.setattr(tr, "_native_cpu_bf16", lambda: False)
    assert tr.matmul_precision("auto") == "fp32" and tr.matmul_precision("auto", "cuda") == "fp32"
    monkeypatch.setattr(tr, "_native_cpu_bf16", lambda: True)
    assert tr.matmul_precision("auto") == "bf16" and tr.matmul_precision("auto", "cuda") == "fp32"
    monkeypatch.setenv("KGNLP_PRECISION", "int4")
    with pytest.raises(NLPError, match="Choose auto, fp32 or bf16"):
        tr.matmul_precision(None)


def test_spacy_cnn_size_is_configurable_and_saved(tmp_path):
    docs = read_labelled_jsonl(FIX / "tiny.jsonl")
    train_ner(docs, tmp_path / "m", TrainConfig(kind="spacy", epochs=1, max_steps=1, batch_size=2,
                                                cnn_width=32, cnn_depth=1))
    layer = load_ner_model(tmp_path / "m")
    tok2vec = layer.nlp.config["components"]["ner"]["model"]["tok2vec"]
    assert (tok2vec["width"], tok2vec["depth"]) == (32, 1)
    with pytest.raises(NLPError, match="width"):
        train_ner(docs, tmp_path / "bad", TrainConfig(kind="spacy", epochs=1, max_steps=1, cnn_width=4))


@pytest.mark.parametrize("choice", ["fp32", "bf16"])
def test_transformer_training_precision_sets_autocast_and_is_recorded(tmp_path, tiny_encoder, monkeypatch, choice):
    import json

    import torch
    from transformers import BertForTokenClassification

    seen = []
    forward = BertForTokenClassification.forward

    def spy(self, *args, **kwargs):
        seen.append(torch.is_autocast_enabled("cpu"))
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(BertForTokenClassification, "forward", spy)
    docs = read_labelled_jsonl(FIX / "tiny.jsonl")
    report = train_ner(docs, tmp_path / "m", TrainConfig(kind="transformer", epochs=1, max_steps=2, batch_size=2,
                                                         max_length=32, stride=8, encoder=tiny_encoder,
                                                         precision=choice))
    assert seen and set(seen) == {choice == "bf16"}  # only training forwards ran (no dev set)
    assert report.epochs_run == 1 and all(h["loss"] == h["loss"] for h in report.history)  # finite, not NaN
    assert json.loads((tmp_path / "m" / "kgnlp_ner.json").read_text())["train_precision"] == choice
    with pytest.raises(NLPError, match="Unknown precision 'fp8'"):
        train_ner(docs, tmp_path / "bad", TrainConfig(kind="transformer", epochs=1, max_steps=1,
                                                      encoder=tiny_encoder, precision="fp8"))
    assert not (tmp_path / "bad").exists()


def test_spacy_cnn_refuses_bf16_by_name_but_not_by_environment(tmp_path, monkeypatch):
    docs = read_labelled_jsonl(FIX / "tiny.jsonl")
    with pytest.raises(NLPError, match="trains in fp32 only"):
        train_ner(docs, tmp_path / "m", TrainConfig(kind="spacy", epochs=1, max_steps=1, precision="bf16"))
    assert not (tmp_path / "m").exists()
    monkeypatch.setenv("KGNLP_PRECISION", "bf16")  # a global preference for transformers; the CNN ignores it
    report = train_ner(docs, tmp_path / "m", TrainConfig(kind="spacy", epochs=1, max_steps=1, batch_size=2))
    assert report.epochs_run == 1 and (tmp_path / "m" / "kgnlp_ner.json").exists()


def test_the_out_folder_is_checked_before_training(tmp_path):
    from nlp.errors import NLPError
    from nlp.ner import TrainConfig, train_ner

    out = tmp_path / "enc"
    out.mkdir()
    (out / "config.json").write_text("{}", encoding="utf-8")  # an encoder, say
    class Never:
        def __iter__(self):
            raise AssertionError("training data read before --out was checked")

    for kind in ("spacy", "transformer"):
        with pytest.raises(NLPError, match="is not a kgnlp NER model"):
            train_ner(Never(), out, TrainConfig(kind=kind))
    assert [p.name for p in out.iterdir()] == ["config.json"]
