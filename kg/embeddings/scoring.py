"""Scoring functions of the four interaction models, in numpy, on saved vectors.

Every model reduces to a *query vector* ``q`` built from the two known parts of a fact, and a
score between ``q`` and each candidate entity; that makes ranking all entities one matrix product.
Complex-valued models (ComplEx, RotatE) store vectors as ``[real | imaginary]`` float32 rows.
The formulas match PyKEEN's interactions (checked in tests/kg/test_embeddings.py).
"""
from __future__ import annotations

import numpy as np

MODELS = ("transe", "distmult", "complex", "rotate")
COMPLEX_MODELS = ("complex", "rotate")
DISTANCE_MODELS = ("transe", "rotate")


def as_complex(vectors: np.ndarray) -> np.ndarray:
    half = vectors.shape[-1] // 2
    return vectors[..., :half] + 1j * vectors[..., half:]


def as_real(vectors: np.ndarray) -> np.ndarray:
    return np.concatenate([vectors.real, vectors.imag], axis=-1).astype(np.float32)


def tail_query(model: str, heads: np.ndarray, relations: np.ndarray) -> np.ndarray:
    """The vector a tail should be close to (or aligned with), given head and relation rows."""
    if model == "transe":
        return heads + relations
    if model == "distmult":
        return heads * relations
    return as_real(as_complex(heads) * as_complex(relations))  # complex, rotate


def head_query(model: str, relations: np.ndarray, tails: np.ndarray) -> np.ndarray:
    """The vector a head should be close to (or aligned with), given relation and tail rows."""
    if model == "transe":
        return tails - relations
    if model == "distmult":
        return relations * tails
    # ComplEx: Re<h, r, conj t> = Re<h, conj(conj(r) t)>; RotatE: |h r - t| = |h - t conj(r)| as |r| = 1.
    return as_real(np.conj(as_complex(relations)) * as_complex(tails))


def match(model: str, queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Scores ``(len(queries), len(candidates))``: higher is a more plausible fact."""
    dots = queries @ candidates.T
    if model not in DISTANCE_MODELS:
        return dots
    sq = (queries * queries).sum(1)[:, None] + (candidates * candidates).sum(1)[None, :] - 2.0 * dots
    return -np.sqrt(np.maximum(sq, 0.0))


def score_triples(model: str, heads: np.ndarray, relations: np.ndarray, tails: np.ndarray) -> np.ndarray:
    """Row-wise scores of facts given their head, relation and tail rows."""
    q = tail_query(model, heads, relations)
    if model in DISTANCE_MODELS:
        return -np.linalg.norm(q - tails, axis=1)
    return (q * tails).sum(1)
