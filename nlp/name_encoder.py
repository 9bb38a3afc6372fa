"""Sentence embeddings of short names (mean-pooled, L2-normalised), from a local HF encoder folder."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence


class NameEncoder:
    """Embeds names with a local encoder (default all-MiniLM-L6-v2); loads the model on first use."""

    def __init__(self, path: str | Path | None = None, batch_size: int = 64, max_length: int = 32,
                 precision: str | None = None) -> None:
        self._path = path
        self.precision = precision  # None: $KGNLP_PRECISION, else auto (nlp.models.matmul_precision)
        self._model = None
        self._tokenizer = None
        self.batch_size = batch_size
        self.max_length = max_length

    def _load(self) -> None:
        from transformers import AutoModel, AutoTokenizer

        from nlp.models import encoder_path

        folder = str(encoder_path(self._path))
        self._tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self._model = AutoModel.from_pretrained(folder, local_files_only=True)
        self._model.eval()

    @property
    def dim(self) -> int:
        if self._model is None:
            self._load()
        return int(self._model.config.hidden_size)

    def encode(self, names: Sequence[str]):
        """A float32 numpy array (len(names), dim) of unit vectors."""
        import numpy as np
        import torch

        if self._model is None:
            self._load()
        if not names:
            return np.zeros((0, self.dim), dtype="float32")
        from nlp.models import matmul_autocast

        out = []
        order = sorted(range(len(names)), key=lambda i: len(names[i]))
        with torch.inference_mode(), matmul_autocast(self.precision):  # pooling below stays fp32
            for i in range(0, len(order), self.batch_size):
                idx = order[i:i + self.batch_size]
                batch = self._tokenizer([names[j] for j in idx], padding=True, truncation=True,
                                        max_length=self.max_length, return_tensors="pt")
                hidden = self._model(**batch).last_hidden_state.float()
                mask = batch["attention_mask"].unsqueeze(-1).float()
                vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                vec = torch.nn.functional.normalize(vec, dim=-1)
                out.append((idx, vec.numpy().astype("float32")))
        result = np.zeros((len(names), out[0][1].shape[1]), dtype="float32")
        for idx, vecs in out:
            result[idx] = vecs
        return result
