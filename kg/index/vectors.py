"""A FAISS inner-product index keyed by our stable int64 ids: exact (flat), HNSW or IVF.

Vectors are L2-normalised by the embedder, so inner product is cosine similarity. Flat and IVF remove
vectors by id. HNSW cannot, so a removed id becomes a *tombstone*: its vector stays in the graph but
searches skip it (an ``IDSelectorNot``); once tombstones pass a fifth of the index it is compacted
(rebuilt from its own stored vectors, nothing re-embedded).
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from kg.errors import KGError

INDEX_TYPES = ("flat", "hnsw", "ivf")
# Exact search up to here. Measured single-threaded on the 2-core box (benchmarks/retrieval.py):
# flat top-10 p50 0.66 ms at 10k, 17 ms at 100k; HNSW (M=32, efSearch=64) 0.35 ms, recall@10 0.98 at 100k.
APPROXIMATE_FROM = 25_000
EF_SEARCH = 64
COMPACT_AT = 0.2  # tombstones / stored vectors


def choose_type(n: int, approximate_from: int = APPROXIMATE_FROM) -> str:
    """``flat`` (exact) for small collections, ``hnsw`` from ``approximate_from`` vectors on."""
    return "hnsw" if n >= approximate_from else "flat"


class VectorIndex:
    """Thin wrapper over a FAISS index. Build with :meth:`create` or :meth:`load`."""

    def __init__(self, index: object, index_type: str, dim: int, deleted: np.ndarray | None = None) -> None:
        self.index = index
        self.index_type = index_type
        self.dim = dim
        self.deleted = np.zeros(0, dtype=np.int64) if deleted is None else np.unique(deleted.astype(np.int64))
        self.effort = EF_SEARCH

    @classmethod
    def create(cls, dim: int, index_type: str = "flat", train: np.ndarray | None = None,
               hnsw_m: int = 32) -> "VectorIndex":
        """A new empty index; ``ivf`` needs ``train`` vectors (a sample of what will be added)."""
        import faiss

        if index_type == "flat":
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        elif index_type == "hnsw":
            inner = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = 80
            inner.hnsw.efSearch = EF_SEARCH
            index = faiss.IndexIDMap2(inner)
        elif index_type == "ivf":
            if train is None or len(train) < 64:
                raise KGError("An IVF index needs at least 64 training vectors; use index type 'flat' for less.")
            nlist = int(min(4096, max(16, 4 * math.sqrt(len(train)))))
            nlist = min(nlist, len(train) // 39 or 1)  # FAISS wants ~39 training points per list
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.train(np.ascontiguousarray(train, dtype=np.float32))
            index.nprobe = max(8, nlist // 16)
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by id
        else:
            raise KGError(f"Unknown index type '{index_type}'. Choose one of: {', '.join(INDEX_TYPES)}.")
        return cls(index, index_type, dim)

    def __len__(self) -> int:
        """Live vectors (tombstones excluded)."""
        return int(self.index.ntotal) - len(self.deleted)  # type: ignore[attr-defined]

    @property
    def needs_compaction(self) -> bool:
        return len(self.deleted) > COMPACT_AT * max(1, int(self.index.ntotal))  # type: ignore[attr-defined]

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise KGError(f"Vectors of width {vectors.shape[1]} for an index of width {self.dim}.")
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(self.deleted) and np.isin(ids, self.deleted).any():
            raise KGError("Adding an id that is still a tombstone; compact the index first.")
        self.index.add_with_ids(vectors, ids)  # type: ignore[attr-defined]

    def remove(self, ids: np.ndarray) -> int:
        import faiss

        if len(ids) == 0:
            return 0
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if self.index_type == "hnsw":
            self.deleted = np.union1d(self.deleted, ids)
            return len(ids)
        # IVF's id hashtable accepts only an explicit array; the id maps prefer the hashed batch.
        sel = faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids)) if self.index_type == "ivf" \
            else faiss.IDSelectorBatch(ids)
        return int(self.index.remove_ids(sel))  # type: ignore[attr-defined]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, ids)`` of shape ``(len(queries), k)``; missing slots have id -1."""
        import faiss

        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if not len(self):
            n = len(queries)
            return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
        k = max(1, min(k, len(self)))
        if self.index_type == "hnsw":
            sel = faiss.IDSelectorNot(faiss.IDSelectorBatch(self.deleted)) if len(self.deleted) else None
            params = faiss.SearchParametersHNSW(efSearch=max(self.effort, k), sel=sel)
            return self.index.search(queries, k, params=params)  # type: ignore[attr-defined]
        return self.index.search(queries, k)  # type: ignore[attr-defined]

    def vectors(self, ids: list[int]) -> np.ndarray:
        """Stored vectors of ``ids`` (all must be present)."""
        if not ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.index.reconstruct(int(i)) for i in ids])  # type: ignore[attr-defined]

    def ids(self) -> np.ndarray | None:
        """Every live id, for flat/HNSW (None for IVF, whose ids live in its lists)."""
        import faiss

        if self.index_type == "ivf":
            return None
        held = faiss.vector_to_array(self.index.id_map).astype(np.int64)  # type: ignore[attr-defined]
        return held[~np.isin(held, self.deleted)] if len(self.deleted) else held

    def compacted(self) -> "VectorIndex":
        """A new index of the same type holding only live vectors, read back from this one."""
        import faiss

        if self.index_type == "ivf" or not len(self.deleted):
            return self
        held = faiss.vector_to_array(self.index.id_map).astype(np.int64)  # type: ignore[attr-defined]
        stored = faiss.downcast_index(self.index.index).reconstruct_n(0, len(held))  # type: ignore[attr-defined]
        keep = ~np.isin(held, self.deleted)
        fresh = VectorIndex.create(self.dim, self.index_type)
        fresh.effort = self.effort
        fresh.add(held[keep], stored[keep])
        return fresh

    def set_search_effort(self, effort: int) -> None:
        """``efSearch`` for HNSW, ``nprobe`` for IVF; ignored for flat."""
        self.effort = effort
        if self.index_type == "ivf":
            self.index.nprobe = effort  # type: ignore[attr-defined]

    def save(self, path: str | Path) -> None:
        """Write to ``path`` (and tombstones to ``path.deleted.npy``) through temporary files, so a crash
        never leaves half a file; a crash between the two is caught by the manifest's id digest."""
        import faiss

        path = Path(path)
        tomb = path.with_name(path.name + ".deleted.npy")
        if len(self.deleted):
            with open(tomb.with_name(tomb.name + ".tmp"), "wb") as fh:
                np.save(fh, self.deleted, allow_pickle=False)
            os.replace(tomb.with_name(tomb.name + ".tmp"), tomb)
        elif tomb.exists():
            tomb.unlink()
        tmp = path.with_suffix(path.suffix + ".tmp")
        faiss.write_index(self.index, str(tmp))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path, index_type: str, dim: int) -> "VectorIndex":
        import faiss

        path = Path(path)
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise KGError(f"Cannot read the FAISS index {path} ({exc}). Run `kgnlp index --rebuild`.") from exc
        if index.d != dim:
            raise KGError(f"FAISS index {path} has width {index.d}, its manifest says {dim}. "
                          "Run `kgnlp index --rebuild`.")
        if index_type == "ivf":
            index.set_direct_map_type(faiss.DirectMap.Hashtable)
        tomb = path.with_name(path.name + ".deleted.npy")
        deleted = np.load(tomb, allow_pickle=False) if tomb.exists() else None
        return cls(index, index_type, dim, deleted)
