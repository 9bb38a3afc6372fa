"""Ingest: read documents, extract, and store each one atomically; skip what is already stored."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

from kg.records import Document, Entity, Extraction
from kg.schema import Schema
from kg.store import GraphStore
from nlp.interfaces import NERLayer
from nlp.loaders import LoadedDocument, continues, load_documents

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
    wanted = {d.document.id for d in docs if reextract or d.document.id not in same}
    read = _with_later_parts(docs, wanted)
    todo = [d for d in docs if d.document.id in read]
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
        order, context = _with_earlier_parts(docs, read)
        if read - wanted:  # unchanged, read again after a changed part: a run stopped once that one is stored
            store.mark_stale(read - wanted)  # sees it unchanged, and these must not look so either
        done, made = 0, {}  # made: the entities the parts read again for context made
        for extraction in extractor.extract(order, processes=workers):
            if extraction.document.id in context:
                made.update((e.id, e) for e in extraction.entities)
                continue
            done += 1
            if made:
                extraction = _with_made_entities(store, extraction, made)
            if extraction.document.id in stored:
                extraction = _with_linked_entities(store, extraction, held)
            store.add_extraction(extraction, hashes[extraction.document.id])
            if progress:
                progress(done, len(todo))
    after = store.stats()
    return IngestReport(len(todo), skipped, after.entities - before.entities,
                        after.relations - before.relations, round(time.perf_counter() - started, 3), replaced)


def _with_later_parts(docs: Sequence[LoadedDocument], todo: set[str]) -> set[str]:
    """``todo`` and the parts of a file after one of them (see :func:`nlp.loaders.continues`): a changed part may
    define a term the later ones use ("the Company" now another firm's), so those are extracted and stored again
    too, unchanged or not, or they kept the entity the old text defined."""
    out = set(todo)
    previous, reading = None, False
    for loaded in docs:
        doc = loaded.document
        reading = (reading and continues(previous, doc)) or doc.id in todo
        previous = doc
        if reading:
            out.add(doc.id)
    return out


def _with_earlier_parts(docs: Sequence[LoadedDocument], todo: set[str]) -> tuple[list[Document], set[str]]:
    """The documents to extract (ids ``todo``), in order, each led by the parts of its file before it that are
    stored already and skipped (their ids the set returned: read again, not stored again): a part read without them
    lost the terms its file's first part defined ("(the “Company”)", see ``nlp.defined_terms``)."""
    order: list[Document] = []
    context: set[str] = set()
    skipped: list[Document] = []  # the skipped parts just before, of the file being read
    previous = None
    for loaded in docs:
        doc = loaded.document
        if not continues(previous, doc):
            skipped = []
        previous = doc
        if doc.id in todo:
            order += [*skipped, doc]
            context.update(d.id for d in skipped)
            skipped = []
        else:
            skipped.append(doc)
    return order, context


def _with_linked_entities(store: GraphStore, extraction: Extraction, held: set[str] = frozenset()) -> Extraction:
    """A stored document read again: storing it first removes the entities only its old text brought, so the
    stored entities its new mentions and facts link to travel with it (or they were lost, and its mentions
    pointed at nothing). Those a seed or an import ``held`` are not removed and do not travel: the document would
    store them again as if it gave their names, and a seed's names would no longer be the seed's alone."""
    have = {e.id for e in extraction.entities} | held
    extra = tuple(e for e in map(store.entity, sorted(_linked_ids(extraction) - have)) if e is not None)
    return replace(extraction, entities=(*extraction.entities, *extra)) if extra else extraction


def _with_made_entities(store: GraphStore, extraction: Extraction, made: dict[str, Entity]) -> Extraction:
    """A part linking to an entity that a part before it, read again only for context (see
    :func:`_with_earlier_parts`), made: the entity travels with it unless the store has it (or its mention would
    point at nothing)."""
    have = {e.id for e in extraction.entities}
    extra = tuple(made[i] for i in sorted(_linked_ids(extraction) - have) if i in made and store.entity(i) is None)
    return replace(extraction, entities=(*extraction.entities, *extra)) if extra else extraction


def _linked_ids(extraction: Extraction) -> set[str]:
    """The entity ids an extraction's mentions and facts link to."""
    return ({m.entity_id for m in extraction.mentions if m.entity_id}
            | {x for t in extraction.triples for x in (t.head_id, t.tail_id)})


def auto_processes(n_docs: int, heavy: bool = False) -> int:
    """Worker processes for the spaCy pass: ``KGNLP_PROCESSES`` if set, else 2 for big batches on 2+ cores,
    but none beside a ``heavy`` (transformer) layer, which already keeps the cores busy."""
    import os

    env = os.environ.get("KGNLP_PROCESSES", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return min(2, os.cpu_count() or 1) if n_docs >= 200 and not heavy else 1
