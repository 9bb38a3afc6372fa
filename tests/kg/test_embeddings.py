"""Graph embeddings: training ranks the right tail, numpy scoring matches PyKEEN, files round-trip."""
from __future__ import annotations

import numpy as np
import pytest

from kg.embeddings import (KGEmbeddings, TrainConfig, evaluate_link_prediction, infer_new_entities, load_embeddings,
                           split_facts, train_embeddings)
from kg.embeddings import scoring
from kg.embeddings.vectors import FROM_NAME, FROM_NEIGHBOURS
from kg.errors import KGError
from kg.records import Entity


def clustered_graph() -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Two drug families; each family treats one disease and belongs to one class. One fact per family
    is held out: the model can only get it from the family resemblance."""
    facts, held = [], []
    for fam, disease, cls in (("a", "flu", "antiviral"), ("b", "gout", "uricosuric")):
        for i in range(6):
            drug = f"{fam}{i}"
            facts.append((drug, "IS_A", cls))
            facts.append((drug, "SIMILAR_TO", f"{fam}{(i + 1) % 6}"))
            (held if i == 5 else facts).append((drug, "TREATS", disease))
    return facts, held


@pytest.fixture(scope="module")
def trained():
    facts, held = clustered_graph()
    config = TrainConfig(model="transe", dim=16, epochs=60, batch_size=64, learning_rate=0.05, negatives=4,
                         eval_every=20, patience=10, seed=1, threads=1)
    return train_embeddings(facts, config, validation=[], test=held), facts, held


def test_training_ranks_the_held_out_tail_first(trained):
    result, facts, held = trained
    metrics = evaluate_link_prediction(result.embeddings, held, facts + held, side="tail")
    assert metrics.count == 2
    assert metrics.hits_at_1 == 1.0 and metrics.mrr == 1.0
    assert result.embeddings.predict_tails("a5", "TREATS", k=1)[0][0] == "flu"


def test_save_load_round_trip_gives_the_same_scores(trained, tmp_path):
    emb = trained[0].embeddings
    again = KGEmbeddings.load(emb.save(tmp_path / "embeddings" / "transe"))
    assert again.entity_ids == emb.entity_ids and again.relation_ids == emb.relation_ids
    assert again.score("a5", "TREATS", "flu") == emb.score("a5", "TREATS", "flu")
    np.testing.assert_array_equal(again.vector("b2"), emb.vector("b2"))
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.pt"))
    assert load_embeddings(tmp_path).meta == emb.meta


def test_damaged_embedding_files_are_a_one_line_error_naming_the_folder(trained, tmp_path):
    """Cut vectors, cut or foreign JSON, another model's vectors: a KGError, not a library traceback."""
    import json
    import shutil

    emb = trained[0].embeddings
    good = emb.save(tmp_path / "good")
    other = emb.save(tmp_path / "other")
    (other / "entities.json").write_text(json.dumps({"ids": list(emb.entity_ids[:3])}), encoding="utf-8")
    damage = {"cut-vectors": lambda f: (f / "vectors.safetensors").write_bytes(b"\x10" * 100),
              "no-vectors": lambda f: (f / "vectors.safetensors").unlink(),
              "cut-meta": lambda f: (f / "meta.json").write_text('{"model": '),
              "foreign-meta": lambda f: (f / "meta.json").write_text('{"colour": "red"}'),
              "list-entities": lambda f: (f / "entities.json").write_text("[1, 2]"),
              "few-relations": lambda f: (f / "relations.json").write_text('{"ids": ["IS_A"]}')}
    for name, hurt in damage.items():
        folder = tmp_path / "broken" / name
        shutil.copytree(good, folder)
        hurt(folder)
        with pytest.raises(KGError) as err:
            KGEmbeddings.load(folder)
        assert str(folder) in str(err.value) and "\n" not in str(err.value), (name, err.value)
    with pytest.raises(KGError, match="unreadable"):
        KGEmbeddings.load(other)
    # the best-MRR choice skips a meta.json it cannot read (rather than crash) and loads a good one
    shutil.copytree(tmp_path / "broken" / "cut-meta", tmp_path / "ws" / "embeddings" / "aaa")
    shutil.copytree(good, tmp_path / "ws" / "embeddings" / "transe")
    assert load_embeddings(tmp_path / "ws").entity_ids == emb.entity_ids


def test_a_save_cut_short_or_a_mixed_set_is_refused_not_read(trained, tmp_path, monkeypatch):
    """Two sets of the same size: a save that dies after the vectors (a crash, Ctrl-C) leaves no set that loads,
    and vectors of one save next to the other's files are refused, instead of being read as a silently wrong mix."""
    import shutil

    import kg.embeddings.vectors as vectors

    emb = trained[0].embeddings
    other = KGEmbeddings(emb.meta, emb.entity_ids, emb.relation_ids, -emb.entity_vectors, emb.relation_vectors)
    folder = emb.save(tmp_path / "transe")
    real = vectors._write_json

    def dies_after_the_vectors(path, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(vectors, "_write_json", dies_after_the_vectors)
    with pytest.raises(KeyboardInterrupt):
        other.save(folder)
    with pytest.raises(KGError, match="No embeddings|unreadable"):
        KGEmbeddings.load(folder)
    monkeypatch.setattr(vectors, "_write_json", real)
    other.save(tmp_path / "other")
    emb.save(folder)
    shutil.copy(tmp_path / "other" / "vectors.safetensors", folder / "vectors.safetensors")
    with pytest.raises(KGError, match="vectors.safetensors is not the file meta.json was saved with"):
        KGEmbeddings.load(folder)


def test_vector_is_none_for_an_unknown_entity(trained):
    emb = trained[0].embeddings
    assert emb.vector("nope") is None and emb.score("nope", "TREATS", "flu") is None
    assert emb.vector("a1").shape == (emb.dim,) and emb.source("a1") == "trained"


@pytest.mark.parametrize("name", ["TransE", "DistMult", "ComplEx", "RotatE"])
def test_numpy_scores_match_pykeen(name):
    import torch
    from pykeen import models
    from pykeen.triples import TriplesFactory

    from kg.embeddings.train import _vectors

    mapped = torch.tensor([[0, 0, 1], [1, 1, 2], [2, 0, 3], [3, 1, 0]])
    factory = TriplesFactory(mapped_triples=mapped, entity_to_id={f"e{i}": i for i in range(4)},
                             relation_to_id={"A": 0, "B": 1})
    kwargs = {"scoring_fct_norm": 2} if name == "TransE" else {}
    model = getattr(models, name)(triples_factory=factory, embedding_dim=6, random_seed=3, **kwargs)
    ents, rels = _vectors(model, name.lower())
    ours = scoring.score_triples(name.lower(), ents[mapped[:, 0]], rels[mapped[:, 1]], ents[mapped[:, 2]])
    theirs = model.score_hrt(mapped).detach().numpy().reshape(-1)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    # ranking all tails / heads through the query vectors agrees with row-wise scores
    tails = scoring.match(name.lower(), scoring.tail_query(name.lower(), ents[[0]], rels[[0]]), ents)[0]
    heads = scoring.match(name.lower(), scoring.head_query(name.lower(), rels[[0]], ents[[1]]), ents)[0]
    np.testing.assert_allclose(tails[1], ours[0], rtol=1e-4, atol=1e-5)
    if name != "RotatE":  # RotatE's head query assumes |r| = 1, which PyKEEN enforces only after a step
        np.testing.assert_allclose(heads[0], ours[0], rtol=1e-4, atol=1e-5)


def test_new_entity_gets_a_vector_from_its_trained_neighbours(trained):
    emb = trained[0].embeddings
    new = infer_new_entities(emb, [("a6", "TREATS", "flu"), ("a6", "IS_A", "antiviral")])
    assert new.source("a6") == FROM_NEIGHBOURS and new.is_inferred("a6") and not new.is_inferred("a1")
    # TransE: the estimate is the mean of (flu - r_TREATS) and (antiviral - r_IS_A)
    expected = np.mean([emb.vector("flu") - emb.relation_vector("TREATS"),
                        emb.vector("antiviral") - emb.relation_vector("IS_A")], axis=0)
    np.testing.assert_allclose(new.vector("a6"), expected, rtol=1e-5)
    assert new.predict_tails("a6", "TREATS", k=1)[0][0] == "flu"
    assert len(emb) + 1 == len(new)  # the original is unchanged


def test_entity_without_trained_neighbours_gets_a_projected_name_vector(trained):
    emb = trained[0].embeddings

    def embed_names(names):  # a stand-in text embedder: letters' counts
        out = np.zeros((len(names), 26), dtype=np.float32)
        for i, n in enumerate(names):
            for ch in n.lower():
                if ch.isalpha():
                    out[i, ord(ch) - 97] += 1
        return out

    ents = [Entity(e, e, "Chemical") for e in emb.entity_ids] + [Entity("zz", "a7", "Chemical")]
    new = infer_new_entities(emb, [], ents, embed_names=embed_names)
    assert new.source("zz") == FROM_NAME and new.vector("zz").shape == (emb.dim,)
    assert np.all(np.isfinite(new.vector("zz")))


def test_same_seed_gives_the_same_vectors():
    facts, _ = clustered_graph()
    config = TrainConfig(model="distmult", dim=8, epochs=3, batch_size=16, eval_every=3, seed=7, threads=1)
    a, b = (train_embeddings(facts, config).embeddings for _ in range(2))
    np.testing.assert_array_equal(a.entity_vectors, b.entity_vectors)


def test_split_keeps_every_entity_in_training():
    facts, _ = clustered_graph()
    train, held = split_facts(facts, 0.3, seed=0)
    assert held and len(train) + len(held) == len(facts)
    seen = {e for h, _, t in train for e in (h, t)}
    assert all(h in seen and t in seen for h, _, t in held)


def test_unknown_model_is_refused_with_the_choices():
    with pytest.raises(KGError, match="Choose one of: transe, distmult, complex, rotate"):
        train_embeddings([("a", "R", "b")], TrainConfig(model="transh"))


@pytest.mark.parametrize("model", ["distmult", "complex", "rotate"])
def test_every_model_trains_and_round_trips(model, tmp_path):
    facts, held = clustered_graph()
    config = TrainConfig(model=model, dim=8, epochs=4, batch_size=64, eval_every=2, seed=0, threads=1)
    result = train_embeddings(facts, config, test=held)
    emb = result.embeddings
    assert emb.dim == (16 if model in ("complex", "rotate") else 8)
    assert [e.epoch for e in result.history] == [2, 4] and emb.meta.valid_mrr is not None
    again = KGEmbeddings.load(emb.save(tmp_path / model))
    assert again.score("a1", "TREATS", "flu") == pytest.approx(emb.score("a1", "TREATS", "flu"), abs=0)
    metrics = evaluate_link_prediction(again, held, facts)
    assert 0.0 < metrics.mrr <= 1.0 and metrics.count == 4


@pytest.mark.parametrize("backend", ["embedded", "rdf", "neo4j"])
def test_labelled_facts_of_a_store_do_not_depend_on_the_backends_order(make_store, backend):
    """The training split is drawn from this list: the same graph and seed must train the same model on every store."""
    from kg.embeddings import labelled_facts
    from kg.records import Provenance, Triple

    facts = [("x:z", "TREATS", "x:a"), ("x:b", "CAUSES", "x:y"), ("x:a", "TREATS", "x:m"), ("x:m", "CAUSES", "x:b")]
    store = make_store(backend)
    store.add([Triple(h, r, t, 1.0, (Provenance("d", 0, 1, "s", "test"),)) for h, r, t in facts],
              [Entity(i, i, "Thing") for i in ("x:z", "x:a", "x:b", "x:y", "x:m")])
    assert labelled_facts(store) == sorted(facts)


@pytest.mark.parametrize("model", ["transe", "rotate"])
def test_training_that_diverges_is_one_clear_error_naming_the_learning_rate(model, caplog):
    """A learning rate far too large overflowed inside PyKEEN: an internal RuntimeError after PyKEEN's own warning."""
    facts, _ = clustered_graph()
    config = TrainConfig(model=model, dim=4, epochs=2, batch_size=64, learning_rate=1e38, eval_every=1, threads=1)
    with pytest.raises(KGError, match=rf"Training {model} diverged in epoch 1 .*Lower the learning rate \(--lr; "
                                      rf"this run used 1e\+38"):
        train_embeddings(facts, config, validation=[])
    assert "just failed" not in caplog.text


def test_saving_where_a_file_blocks_the_folder_is_one_clear_error(trained, tmp_path):
    (tmp_path / "embeddings").write_text("notes")
    with pytest.raises(KGError, match=r"is a file where the embeddings folder .* should be: move it away"):
        trained[0].embeddings.save(tmp_path / "embeddings" / "transe")
    assert (tmp_path / "embeddings").read_text() == "notes"
