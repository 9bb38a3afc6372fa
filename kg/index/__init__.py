"""FAISS indexes over entity names, verbalised facts and document chunks, kept in step with the store.

``kg`` does not load a text model: callers pass an embedding function.
"""
from kg.index.items import (
    KINDS, IndexItem, chunk_items, chunk_spans, entity_items, entity_spans, fact_item, fact_items, stable_id,
    store_fingerprint,
)
from kg.index.synced import Encoder, IndexReport, Manifest, SyncedIndex, SyncPlan
from kg.index.vectors import APPROXIMATE_FROM, INDEX_TYPES, VectorIndex, choose_type

__all__ = [
    "APPROXIMATE_FROM", "Encoder", "INDEX_TYPES", "KINDS", "IndexItem", "IndexReport", "Manifest", "SyncPlan",
    "SyncedIndex",
    "VectorIndex", "chunk_items", "chunk_spans", "choose_type", "entity_items", "entity_spans", "fact_item",
    "fact_items", "stable_id", "store_fingerprint",
]
