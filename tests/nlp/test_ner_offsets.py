"""Offsets stay exact: windowing, word decoding and both NER layers on random text (hypothesis)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathlib import Path

from nlp.ner.spacy_cnn import split_long
from nlp.ner.windows import best_window, decode_words, encode, windows, word_tags

WORDS = ["aspirin", "Pfizer", "Inc.", "naïve", "Zürich", "tremor", "(AF)", "x", "1,2-diol", "東京", "😀",
         "co-operate", "\u00ad", "e\u0301", "ﬁ", "İstanbul", "ß", "CEO", "\t", "\u200b", "\u3000"]
FIX = Path(__file__).resolve().parents[1] / "fixtures" / "extraction"
SEPS = [" ", "  ", "\n", "\t", " \u00a0 ", "\r\n", "", "\u2028"]

texts = st.lists(st.tuples(st.sampled_from(WORDS) | st.text(min_size=1, max_size=6), st.sampled_from(SEPS)),
                 max_size=40).map(lambda parts: "".join(w + s for w, s in parts))


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from nlp.models import default_encoder_path

    tok = AutoTokenizer.from_pretrained(str(default_encoder_path()), local_files_only=True)
    tok.model_max_length = 1_000_000
    return tok


@pytest.fixture(scope="module")
def random_transformer(tokenizer):
    """A tiny randomly initialised token classifier: random labels make random spans to check."""
    import torch
    from transformers import BertConfig, BertForTokenClassification

    from nlp.ner.transformer import TransformerNER

    torch.manual_seed(0)
    labels = ["O", "B-Chemical", "I-Chemical", "B-Disease", "I-Disease"]
    cfg = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, num_labels=len(labels), max_position_embeddings=64)
    model = BertForTokenClassification(cfg).eval()
    return TransformerNER(model, tokenizer, labels, max_length=12, stride=3, batch_size=4)


def _check(text, mentions):
    last_end = -1
    for m in mentions:
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start:m.end] == m.text
        assert m.start >= last_end, "mentions of one layer do not overlap"
        last_end = m.end


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts)
def test_transformer_mentions_index_the_original_text(random_transformer, text):
    [mentions] = random_transformer.predict([text])
    _check(text, mentions)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts)
def test_gold_spans_survive_encoding_and_decoding(tokenizer, text):
    enc = encode(tokenizer, text)
    words = enc.word_spans()
    # take every other word as a one-word entity: decoding must give back exactly those spans
    gold = [(s, e, "Chemical") for i, (_, s, e) in enumerate(words) if i % 2 == 0]
    decoded = [(s, e, lab) for s, e, lab, _ in decode_words(enc, word_tags(enc, gold))]
    assert decoded == gold
    for s, e, _ in decoded:
        assert text[s:e].strip() == text[s:e] or not text[s:e].strip()


@given(n=st.integers(0, 500), size=st.integers(1, 64), stride=st.integers(0, 40))
def test_windows_cover_every_token_and_respect_size(n, size, stride):
    spans = windows(n, size, stride)
    covered = set()
    for s, e in spans:
        assert 0 <= s < e <= n and e - s <= size
        covered.update(range(s, e))
    assert covered == set(range(n))
    owners = best_window(n, spans)
    for t, w in enumerate(owners):
        assert spans[w][0] <= t < spans[w][1]


def test_windowed_prediction_matches_one_window_when_text_fits(random_transformer):
    from nlp.ner.transformer import TransformerNER

    text = "aspirin and tremor"
    big = TransformerNER(random_transformer.model, random_transformer.tokenizer, random_transformer.labels,
                         max_length=64, stride=8)
    assert big.predict([text]) == random_transformer.predict([text]) or len(encode(big.tokenizer, text).ids) > 10


@given(text=texts, limit=st.integers(5, 40))
def test_split_long_pieces_rebuild_the_text(text, limit):
    pieces = split_long(text, limit)
    assert "".join(p for _, p in pieces) == text
    for off, p in pieces:
        assert text[off:off + len(p)] == p


@pytest.fixture(scope="module")
def spacy_layer(tmp_path_factory):
    from nlp.formats import read_labelled_jsonl
    from nlp.ner import TrainConfig, load_ner_model, train_ner
    out = tmp_path_factory.mktemp("spacy") / "model"
    train_ner(read_labelled_jsonl(FIX / "tiny.jsonl"), out, TrainConfig(kind="spacy", epochs=1, max_steps=2))
    return load_ner_model(out)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts)
def test_spacy_mentions_index_the_original_text(spacy_layer, text):
    [mentions] = spacy_layer.predict([text])
    _check(text, mentions)


def test_io_decoding_joins_adjacent_words_of_one_type(tokenizer):
    text = "scleroderma renal crisis and aspirin"
    enc = encode(tokenizer, text)
    tags = ["B-Disease", "B-Disease", "I-Disease", "O", "B-Chemical"]
    strict = [(text[s:e], lab) for s, e, lab, _ in decode_words(enc, tags)]
    joined = [(text[s:e], lab) for s, e, lab, _ in decode_words(enc, tags, merge_adjacent=True)]
    assert strict == [("scleroderma", "Disease"), ("renal crisis", "Disease"), ("aspirin", "Chemical")]
    assert joined == [("scleroderma renal crisis", "Disease"), ("aspirin", "Chemical")]
