"""The sentence embedder behind the FAISS indexes: all-MiniLM-L6-v2 by default, any local model dir.

Loads lazily (sentence-transformers and torch are imported on the first ``encode``), batches,
and returns L2-normalised float32 rows so inner product is cosine similarity.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from nlp.errors import NLPError
from nlp.models import encoder_path


class Embedder:
    """``encode(texts) -> (n, dim)`` unit vectors. Satisfies ``kg.index.Encoder``."""

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 64, device: str = "cpu") -> None:
        self._path_arg = model_path
        self._model = None
        self._dim: int | None = None
        self._name: str | None = None
        self.batch_size = batch_size
        self.device = device

    @property
    def path(self) -> Path:
        return encoder_path(self._path_arg)

    @property
    def name(self) -> str:
        """Identifies the model's weights (folder name + a hash of its config and weight sizes), so an
        index built with another model is noticed."""
        if self._name is None:
            folder = self.path
            h = hashlib.blake2b(digest_size=6)
            for item in sorted(folder.rglob("*")):
                if item.is_file() and item.suffix in (".json", ".safetensors", ".bin", ".txt"):
                    h.update(f"{item.relative_to(folder)}:{item.stat().st_size}".encode())
            self._name = f"{folder.name}:{h.hexdigest()}"
        return self._name

    @property
    def dim(self) -> int:
        if self._dim is None:
            pooling = self.path / "1_Pooling" / "config.json"
            try:
                self._dim = int(json.loads(pooling.read_text(encoding="utf-8"))["word_embedding_dimension"])
            except (OSError, KeyError, ValueError):
                self._dim = int(self._load().get_sentence_embedding_dimension())
        return self._dim

    def _load(self):
        if self._model is None:
            self._model = _load_model(str(self.path.resolve()), self.device)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text, in input order."""
        if isinstance(texts, str):
            raise NLPError("Embedder.encode takes a list of texts, got one string; wrap it in a list.")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._load().encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)


@lru_cache(maxsize=2)
def _load_model(path: str, device: str):
    """One loaded copy per model folder and process (ingest, index and retrieve share it)."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise NLPError("sentence-transformers is not installed. Install it with: "
                       "pip install 'sentence-transformers>=3.0'") from None
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar on every CLI call
    except ImportError:
        pass
    try:
        return SentenceTransformer(path, device=device, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise NLPError(f"Cannot load the sentence embedder from '{path}' ({exc}). "
                       "Pass a local sentence-transformers folder.") from exc
