"""Ingest: read documents, extract, and store each one atomically; skip what is already stored."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

from kg.records import Extraction
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
    replaced: tuple[str, ...] = ()  # ids stored before with other text, now replaced (edited, or another file's)


def ingest_paths(store: GraphStore, paths: Sequence[Path], schema: Schema | None = None,
                 extra_ner: Sequence[NERLayer] = (), progress: Progress | None = None) -> IngestReport:
    """Ingest files/folders. Every file is read and checked before the first write."""
    return ingest_documents(store, load_documents(list(paths)), schema, extra_ner, progress)


def ingest_documents(store: GraphStore, docs: Sequence[LoadedDocument], schema: Schema | None = None,
                     extra_ner: Sequence[NERLayer] = (), progress: Progress | None = None,
                     processes: int = 0, vote: float = 0, similar=None, reextract: bool = False) -> IngestReport:
    """Extract and store ``docs`` (with ``reextract``, those already stored with the same text too, replacing their
    extractions). ``processes``: worker processes for the spaCy pass (0 = automatic:
    up to 2, only for 200 documents or more, where the start-up cost pays off, and none beside a transformer
    layer, which already keeps both cores busy: measured 14.0 vs 15.1 docs/s with and without workers)."""
    from nlp.extractor import Extractor  # spaCy loads only when there is something to do
    from nlp.interfaces import layer_kind

    started = time.perf_counter()
    before = store.stats()
    same = {d.document.id for d in docs if store.has_document(d.document.id, d.sha256)}
    todo = list(docs) if reextract else [d for d in docs if d.document.id not in same]
    skipped = len(docs) - len(todo)
    replaced = tuple(d.document.id for d in todo if d.document.id not in same and store.has_document(d.document.id))
    if progress:
        progress(0, len(todo))
    if todo:
        extractor = Extractor.for_store(store, schema, extra_ner, vote=vote, similar=similar)
        hashes = {d.document.id: d.sha256 for d in todo}
        heavy = any(layer_kind(layer) == "transformer" for layer in extra_ner)  # transformer or fused
        workers = processes or auto_processes(len(todo), heavy)
        stored = {d.document.id for d in todo if store.has_document(d.document.id)}
        held = store.pinned_ids() if stored else set()  # seeded or imported: never removed with a document
        for done, extraction in enumerate(extractor.extract((d.document for d in todo), processes=workers), 1):
            if extraction.document.id in stored:
                extraction = _with_linked_entities(store, extraction, held)
            store.add_extraction(extraction, hashes[extraction.document.id])
            if progress:
                progress(done, len(todo))
    after = store.stats()
    return IngestReport(len(todo), skipped, after.entities - before.entities,
                        after.relations - before.relations, round(time.perf_counter() - started, 3), replaced)


def _with_linked_entities(store: GraphStore, extraction: Extraction, held: set[str] = frozenset()) -> Extraction:
    """A stored document read again: storing it first removes the entities only its old text brought, so the
    stored entities its new mentions and facts link to travel with it (or they were lost, and its mentions
    pointed at nothing). Those a seed or an import ``held`` are not removed and do not travel: the document would
    store them again as if it gave their names, and a seed's names would no longer be the seed's alone."""
    have = {e.id for e in extraction.entities} | held
    linked = {m.entity_id for m in extraction.mentions if m.entity_id}
    linked |= {x for t in extraction.triples for x in (t.head_id, t.tail_id)}
    extra = tuple(e for e in map(store.entity, sorted(linked - have)) if e is not None)
    return replace(extraction, entities=(*extraction.entities, *extra)) if extra else extraction


def auto_processes(n_docs: int, heavy: bool = False) -> int:
    """Worker processes for the spaCy pass: ``KGNLP_PROCESSES`` if set, else 2 for big batches on 2+ cores,
    but none beside a ``heavy`` (transformer) layer, which already keeps the cores busy."""
    import os

    env = os.environ.get("KGNLP_PROCESSES", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return min(2, os.cpu_count() or 1) if n_docs >= 200 and not heavy else 1
