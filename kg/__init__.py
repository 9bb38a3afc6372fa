"""kg: records, the relation schema and graph stores. Knows nothing of spaCy or transformers."""
from kg.errors import KGError
from kg.records import Document, Entity, Extraction, Mention, Provenance, Triple
from kg.schema import Schema, load_schema
from kg.store import GraphStore, QueryResult, StoreStats

__all__ = [
    "Document", "Entity", "Extraction", "GraphStore", "KGError", "Mention", "Provenance",
    "QueryResult", "Schema", "StoreStats", "Triple", "load_schema",
]
