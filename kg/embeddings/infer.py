"""Vectors for entities added after training, without retraining, marked as inferred.

1. From trained neighbours: each fact ``(new, r, known)`` or ``(known, r, new)`` gives the model's
   own estimate of the new entity (TransE ``t - r`` / ``h + r``, RotatE ``t·conj(r)`` / ``h·r``;
   for DistMult/ComplEx the direction that scores the fact highest, scaled to the typical norm);
   the estimates are averaged. Repeated so entities next to newly inferred ones get vectors too.
2. From the name: a ridge-regression map from a sentence embedding of names to KG vectors, fitted
   on trained entities, for new entities with no trained neighbour. ``kg`` does not import a text
   model, so the caller passes ``embed_names``.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Sequence

import numpy as np

from kg.embeddings import scoring
from kg.embeddings.data import FactSource, labelled_facts
from kg.embeddings.vectors import FROM_NAME, FROM_NEIGHBOURS, KGEmbeddings
from kg.records import Entity

EmbedNames = Callable[[Sequence[str]], np.ndarray]


def infer_new_entities(
    embeddings: KGEmbeddings,
    facts: FactSource,
    entities: Sequence[Entity] = (),
    embed_names: EmbedNames | None = None,
    rounds: int = 2,
    fit_sample: int = 2000,
) -> KGEmbeddings:
    """A copy of ``embeddings`` with vectors for entities of ``facts``/``entities`` it lacks."""
    rows = {e: i for i, e in enumerate(embeddings.entity_ids)}
    rels = {r: i for i, r in enumerate(embeddings.relation_ids)}
    facts_l = labelled_facts(facts)
    wanted = {e for h, _, t in facts_l for e in (h, t)} | {e.id for e in entities}
    missing = sorted(wanted - set(rows))
    if not missing:
        return embeddings
    E, R, model = embeddings.entity_vectors, embeddings.relation_vectors, embeddings.model
    norm = float(np.median(np.linalg.norm(E, axis=1))) if len(E) else 1.0
    new_vec: dict[str, np.ndarray] = {}
    todo = set(missing)
    for _ in range(rounds):
        estimates: dict[str, list[np.ndarray]] = defaultdict(list)
        for h, r, t in facts_l:
            if r not in rels:
                continue
            rv = R[[rels[r]]]
            if h in todo and t not in todo and _known(t, rows, new_vec):
                estimates[h].append(scoring.head_query(model, rv, _row(t, rows, new_vec, E))[0])
            if t in todo and h not in todo and _known(h, rows, new_vec):
                estimates[t].append(scoring.tail_query(model, _row(h, rows, new_vec, E), rv)[0])
        if not estimates:
            break
        for ent, vecs in estimates.items():
            vec = np.mean(vecs, axis=0)
            if model not in scoring.DISTANCE_MODELS:  # product models: only the direction is meaningful
                vec = vec / (np.linalg.norm(vec) or 1.0) * norm
            new_vec[ent] = vec.astype(np.float32)
        todo -= set(estimates)
    ids = [e for e in missing if e in new_vec]
    vecs = [new_vec[e] for e in ids]
    sources = [FROM_NEIGHBOURS] * len(ids)
    names = {e.id: e.name for e in entities}
    by_name = [e for e in missing if e not in new_vec and e in names]
    if by_name and embed_names is not None and len(embeddings):
        projected = _project_names(embeddings, [names[e] for e in by_name], entities, embed_names, fit_sample)
        ids += by_name
        vecs += list(projected)
        sources += [FROM_NAME] * len(by_name)
    if not ids:
        return embeddings
    return embeddings.with_rows(ids, np.vstack(vecs), sources)


def _known(ent: str, rows: dict[str, int], new_vec: dict[str, np.ndarray]) -> bool:
    return ent in rows or ent in new_vec


def _row(ent: str, rows: dict[str, int], new_vec: dict[str, np.ndarray], E: np.ndarray) -> np.ndarray:
    return E[[rows[ent]]] if ent in rows else new_vec[ent][None, :]


def _project_names(
    embeddings: KGEmbeddings, names: list[str], entities: Sequence[Entity], embed_names: EmbedNames, sample: int
) -> np.ndarray:
    """Fit ``W`` minimising ``|X W - Y|² + λ|W|²`` on trained entities' names, then map the new names."""
    trained = [(e.name, embeddings.vector(e.id)) for e in entities
               if e.id in embeddings and not embeddings.is_inferred(e.id)]
    if not trained:
        return np.zeros((len(names), embeddings.dim), dtype=np.float32)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(trained), size=min(sample, len(trained)), replace=False)
    X = np.asarray(embed_names([trained[i][0] for i in pick]), dtype=np.float64)
    Y = np.vstack([trained[i][1] for i in pick]).astype(np.float64)
    mean_y = Y.mean(0)
    lam = 1.0
    W = np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ (Y - mean_y))
    return (np.asarray(embed_names(names), dtype=np.float64) @ W + mean_y).astype(np.float32)
