"""A tiny random BERT (2 layers, hidden 32) with a hand-written WordPiece vocab, and a tiny graph."""
from __future__ import annotations

import pytest

WORDS = ("metformin treats diabetes aspirin causes bleeding headache the a patient took and had with drug "
         "disease good bad news profit fell rose shares company is of for what does treat yes no type 2 "
         "insulin lowers glucose pfizer makes").split()


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory):
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "?", "-", *WORDS, *[f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"], *"abcdefghijklmnopqrstuvwxyz0123456789"]
    # the vocab as a dict: transformers 5 ignores ``vocab_file=`` here and would map every word to [UNK]
    tok = BertTokenizerFast(vocab={w: i for i, w in enumerate(dict.fromkeys(vocab))}, do_lower_case=True)
    tok.save_pretrained(str(folder))
    assert tok("metformin treats diabetes", add_special_tokens=False)["input_ids"] == [9, 10, 11], "tiny vocab lost"
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(dict.fromkeys(vocab)), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=256)
    BertModel(cfg).save_pretrained(str(folder), safe_serialization=True)
    return folder


@pytest.fixture()
def tiny_store(tmp_path):
    from kg.records import Entity, Triple
    from kg.stores.sqlite import SQLiteStore

    store = SQLiteStore.open(tmp_path / "g.db")
    ents = [Entity("C1", "metformin", "Chemical"), Entity("D1", "diabetes", "Disease", ("type 2 diabetes",)),
            Entity("C2", "aspirin", "Chemical"), Entity("D2", "bleeding", "Disease"),
            Entity("C3", "insulin", "Chemical")]
    store.add([Triple("C1", "TREATS", "D1"), Triple("C2", "CAUSES", "D2"), Triple("C3", "TREATS", "D1")], ents)
    yield store
    store.close()


@pytest.fixture()
def tiny_embeddings(tiny_store):
    import numpy as np

    from kg.embeddings import EmbeddingMeta, KGEmbeddings

    ids = ("C1", "D1", "C2", "D2", "C3")
    rng = np.random.default_rng(0)
    return KGEmbeddings(EmbeddingMeta("transe", 8), ids, ("TREATS", "CAUSES"),
                        rng.normal(size=(5, 8)).astype("float32"), rng.normal(size=(2, 8)).astype("float32"))
