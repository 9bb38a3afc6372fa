"""``KGEmbeddings``: trained entity and relation vectors with their id maps, saved without pickle.

Layout of ``<workspace>/embeddings/<model>/``:
``vectors.safetensors`` (``entity``, ``relation`` float32), ``entities.json`` (ids and where each
vector came from), ``relations.json`` and ``meta.json`` (model, dims, training figures, and the digest of each other
file). A save takes ``meta.json`` away first and writes it last, and a load checks the digests, so a save cut short,
or one read while it is under way, is refused as unreadable, never read as a mix of two sets.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from kg.embeddings import scoring
from kg.errors import KGError
from kg.files import make_folder

TRAINED = "trained"
FROM_NEIGHBOURS = "neighbours"
FROM_NAME = "name"
FORMAT = 1
DATA_FILES = ("vectors.safetensors", "entities.json", "relations.json")  # what meta.json's "files" digests vouch for


@dataclass(frozen=True)
class EmbeddingMeta:
    """How a set of vectors was made; figures are the validation ones used for early stopping."""

    model: str
    dim: int
    epochs_run: int = 0
    best_epoch: int = 0
    seed: int = 0
    seconds: float = 0.0
    valid_mrr: float | None = None
    trained_at: str = ""
    library: str = "pykeen"
    facts: int = 0


@dataclass(frozen=True, eq=False)
class KGEmbeddings:
    """Entity and relation vectors of one model. ``vector(entity_id)`` is what the fusion model reads.

    ``entity_vectors`` rows are float32; complex models store ``[real | imaginary]`` so every row is a
    plain real vector of width :attr:`dim`. ``sources[i]`` says whether row ``i`` was trained or
    inferred later (``neighbours`` or ``name``).
    """

    meta: EmbeddingMeta
    entity_ids: tuple[str, ...]
    relation_ids: tuple[str, ...]
    entity_vectors: np.ndarray
    relation_vectors: np.ndarray
    sources: tuple[str, ...] = ()
    _rows: dict[str, int] = field(default_factory=dict, repr=False)
    _rel_rows: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.meta.model not in scoring.MODELS:
            raise KGError(f"Unknown embedding model '{self.meta.model}'. "
                          f"Choose one of: {', '.join(scoring.MODELS)}.")
        if len(self.entity_ids) != len(self.entity_vectors):
            raise KGError(f"{len(self.entity_ids)} entity ids for {len(self.entity_vectors)} vectors; files are damaged.")
        if len(self.relation_ids) != len(self.relation_vectors):
            raise KGError(f"{len(self.relation_ids)} relation ids for {len(self.relation_vectors)} vectors; files are "
                          "damaged.")
        if not self.sources:
            object.__setattr__(self, "sources", (TRAINED,) * len(self.entity_ids))
        object.__setattr__(self, "_rows", {e: i for i, e in enumerate(self.entity_ids)})
        object.__setattr__(self, "_rel_rows", {r: i for i, r in enumerate(self.relation_ids)})

    @property
    def model(self) -> str:
        return self.meta.model

    @property
    def dim(self) -> int:
        """Width of the vectors :meth:`vector` returns (twice the complex dimension for ComplEx/RotatE)."""
        return int(self.entity_vectors.shape[1])

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._rows

    def __len__(self) -> int:
        return len(self.entity_ids)

    def vector(self, entity_id: str) -> np.ndarray | None:
        """The entity's vector (a copy), or None when it has none (unknown and not inferred)."""
        row = self._rows.get(entity_id)
        return None if row is None else self.entity_vectors[row].copy()

    def relation_vector(self, relation: str) -> np.ndarray | None:
        row = self._rel_rows.get(relation)
        return None if row is None else self.relation_vectors[row].copy()

    def source(self, entity_id: str) -> str | None:
        """``trained``, ``neighbours`` or ``name`` (how the vector was made), or None."""
        row = self._rows.get(entity_id)
        return None if row is None else self.sources[row]

    def is_inferred(self, entity_id: str) -> bool:
        return self.source(entity_id) not in (None, TRAINED)

    def score(self, head_id: str, relation: str, tail_id: str) -> float | None:
        """Plausibility of one fact (higher is better), or None if a part has no vector."""
        h, r, t = self._rows.get(head_id), self._rel_rows.get(relation), self._rows.get(tail_id)
        if h is None or r is None or t is None:
            return None
        E, R = self.entity_vectors, self.relation_vectors
        return float(scoring.score_triples(self.model, E[[h]], R[[r]], E[[t]])[0])

    def predict_tails(self, head_id: str, relation: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most plausible tails of ``(head, relation, ?)``, best first."""
        h, r = self._rows.get(head_id), self._rel_rows.get(relation)
        if h is None or r is None:
            return []
        q = scoring.tail_query(self.model, self.entity_vectors[[h]], self.relation_vectors[[r]])
        scores = scoring.match(self.model, q, self.entity_vectors)[0]
        top = np.argsort(-scores)[:k]
        return [(self.entity_ids[i], float(scores[i])) for i in top]

    def with_rows(self, ids: list[str], vectors: np.ndarray, sources: list[str]) -> "KGEmbeddings":
        """A copy with extra entity rows (used for vectors inferred after training)."""
        if not ids:
            return self
        return replace(
            self,
            entity_ids=self.entity_ids + tuple(ids),
            entity_vectors=np.vstack([self.entity_vectors, vectors.astype(np.float32)]),
            sources=self.sources + tuple(sources),
        )

    # ---- files -----------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the four files into ``folder`` (each replaced atomically; ``meta.json``, which vouches for the others
        with their digests, taken away first and written last); returns the folder."""
        from safetensors.numpy import save_file

        folder = Path(folder)
        make_folder(folder, "embeddings folder", "kgnlp embed")
        (folder / "meta.json").unlink(missing_ok=True)  # until the new set is whole, no set is
        tmp = folder / "vectors.safetensors.tmp"
        save_file({"entity": np.ascontiguousarray(self.entity_vectors, dtype=np.float32),
                   "relation": np.ascontiguousarray(self.relation_vectors, dtype=np.float32)}, str(tmp))
        os.replace(tmp, folder / "vectors.safetensors")
        _write_json(folder / "entities.json", {"ids": list(self.entity_ids), "sources": list(self.sources)})
        _write_json(folder / "relations.json", {"ids": list(self.relation_ids)})
        files = {name: _file_digest(folder / name) for name in DATA_FILES}
        _write_json(folder / "meta.json", {"format": FORMAT, **asdict(self.meta), "files": files})
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "KGEmbeddings":
        """Read vectors saved by :meth:`save`."""
        from safetensors.numpy import load

        folder = Path(folder)
        if not (folder / "meta.json").exists():
            raise KGError(f"No embeddings in '{folder}'. Train some with `kgnlp embed --model transe`.")
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            meta.pop("format", None)
            data = _read_checked(folder, meta.pop("files", None))  # each file read once: checked, then parsed
            ents, rels = json.loads(data["entities.json"]), json.loads(data["relations.json"])
            arrays = load(data["vectors.safetensors"])
            out = cls(EmbeddingMeta(**meta), tuple(ents["ids"]), tuple(rels["ids"]),
                      arrays["entity"], arrays["relation"], tuple(ents.get("sources", ())))
        except Exception as exc:  # noqa: BLE001 - cut JSON, safetensors' own error, missing keys, mixed files
            reason = " ".join(str(exc).split())[:240] or type(exc).__name__
            raise KGError(f"Embeddings in '{folder}' are unreadable ({reason}): retrain with `kgnlp embed`.") from exc
        return out


def embeddings_dir(workspace_path: str | Path, model: str) -> Path:
    return Path(workspace_path) / "embeddings" / model


def load_embeddings(workspace_path: str | Path, model: str | None = None) -> KGEmbeddings:
    """The workspace's embeddings of ``model``; without one, the saved model with the best validation MRR."""
    root = Path(workspace_path) / "embeddings"
    saved = [p for p in sorted(root.glob("*/meta.json"))] if root.exists() else []
    if model is not None:
        if not (root / model / "meta.json").exists():  # the hint names this model, and those there are
            have = f" This workspace has {', '.join(p.parent.name for p in saved)} embeddings." if saved else ""
            raise KGError(f"No {model} embeddings in '{root / model}'. Train some with `kgnlp embed --model "
                          f"{model}`.{have}")
        return KGEmbeddings.load(root / model)
    if not saved:
        raise KGError(f"No embeddings under '{root}'. Train some with `kgnlp embed --model transe`.")

    def quality(meta_file: Path) -> float:
        try:
            mrr = json.loads(meta_file.read_text(encoding="utf-8")).get("valid_mrr")
            return -1.0 if mrr is None else float(mrr)
        except (OSError, ValueError, TypeError, AttributeError, UnicodeDecodeError):  # OSError: a save under way
            return -2.0  # unreadable: chosen last; loading it (if it is the only one) says what is wrong

    return KGEmbeddings.load(max(saved, key=quality).parent)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data).hexdigest()[:32]


def _file_digest(path: Path) -> str:
    """:func:`_digest` of a file's bytes, read in chunks (what ``save`` vouches for)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "blake2b").hexdigest()[:32]


def _read_checked(folder: Path, files: dict[str, str] | None) -> dict[str, bytes]:
    """The data files' bytes, each the one ``meta.json`` was written with (a set saved before digests were kept: not
    checked). Read once and parsed from these bytes: a save starting after the check cannot mix in its files."""
    data = {name: (folder / name).read_bytes() for name in DATA_FILES}
    for name, digest in (files or {}).items():
        if _digest(data.get(name, b"")) != digest:
            raise ValueError(f"{name} is not the file meta.json was saved with: a save was cut short or is under way")
    return data


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
