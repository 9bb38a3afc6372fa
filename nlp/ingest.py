"""Ingest: read documents, extract, and store each one atomically; skip what is already stored."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from kg.schema import Schema
from kg.store import GraphStore
from nlp.interfaces import NERLayer
from nlp.loaders import LoadedDocument, load_documents

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class IngestReport:
    """What one ingest run changed."""

    documents: int  # stored by this run
    skipped: int  # already stored with the same content
    entities: int  # new in the graph
    relations: int  # new facts in the graph
    seconds: float


def ingest_paths(store: GraphStore, paths: Sequence[Path], schema: Schema | None = None,
                 extra_ner: Sequence[NERLayer] = (), progress: Progress | None = None) -> IngestReport:
    """Ingest files/folders. Every file is read and checked before the first write."""
    return ingest_documents(store, load_documents(list(paths)), schema, extra_ner, progress)


def ingest_documents(store: GraphStore, docs: Sequence[LoadedDocument], schema: Schema | None = None,
                     extra_ner: Sequence[NERLayer] = (), progress: Progress | None = None) -> IngestReport:
    from nlp.extractor import Extractor  # spaCy loads only when there is something to do

    started = time.perf_counter()
    before = store.stats()
    todo = [d for d in docs if not store.has_document(d.document.id, d.sha256)]
    skipped = len(docs) - len(todo)
    if progress:
        progress(0, len(todo))
    if todo:
        extractor = Extractor.for_store(store, schema, extra_ner)
        hashes = {d.document.id: d.sha256 for d in todo}
        for done, extraction in enumerate(extractor.extract(d.document for d in todo), 1):
            store.add_extraction(extraction, hashes[extraction.document.id])
            if progress:
                progress(done, len(todo))
    after = store.stats()
    return IngestReport(len(todo), skipped, after.entities - before.entities,
                        after.relations - before.relations, round(time.perf_counter() - started, 3))
