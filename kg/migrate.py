"""Copy a workspace's graph from one backend to another: batched, and idempotent (rerun after a failure)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import islice
from typing import Callable, Iterable, Iterator, TypeVar

from kg.store import GraphStore

T = TypeVar("T")
RENAME_SOURCE = "seed:/migrate"  # gives the target the source's names and types of pinned entities


@dataclass(frozen=True)
class MigrationReport:
    """What was copied (counts in the source; writes are upserts, so a rerun reports the same)."""

    documents: int
    entities: int
    facts: int
    seconds: float
    removed: tuple[str, ...] = ()  # documents and seed/import sources the target held but the source no longer has
    extra_facts: int = 0  # facts the target still holds beyond the source's (a seed or import changed since)


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def migrate(source: GraphStore, target: GraphStore, batch: int = 1000,
            progress: Callable[[str, int], None] | None = None) -> MigrationReport:
    """Copy documents (text, hash, mentions), entities and facts with all their provenance.

    Documents go first: storing a document on the target replaces what the target held for it, and the facts copied
    afterwards bring back their sources. An entity a document mentions and no seed or import pinned arrives with
    that document, unpinned (so removing the documents removes it, as on the source); the others arrive pinned.
    A rerun after the source changed also removes from the target the documents, and the seed or import sources,
    that the source no longer has; facts the target then still holds beyond the source's are counted.
    """
    import time

    from kg.errors import KGError

    have = source.stats()
    if not (have.documents or have.entities or have.relations):
        held = target.stats()
        if held.documents or held.entities or held.relations:  # a mistyped server or an empty store, not a wish
            raise KGError(f"The source graph is empty: copying it would remove the target's {held.documents} "
                          f"document(s) and {held.relations} fact(s). Nothing was changed; check --from and its "
                          "connection options.")
    started = time.perf_counter()
    tell = progress or (lambda stage, n: None)
    docs = 0
    stored = set(source.document_ids())
    removed = [doc_id for doc_id in target.document_ids() if doc_id not in stored]
    for doc_id in removed:
        target.remove_document(doc_id)
    pinned = source.pinned_ids()
    named = {e.id: (e.name, e.type) for e in target.entities()}  # what an earlier copy stored
    unpinned: set[str] = set()  # stored with the first document that mentions them, unpinned as in the source
    for extraction, content_hash in source.extractions():
        mentioned = {m.entity_id for m in extraction.mentions if m.entity_id} - pinned - unpinned
        entities = tuple(e for e in map(source.entity, sorted(mentioned)) if e is not None)
        unpinned.update(e.id for e in entities)
        target.add_extraction(replace(extraction, entities=entities), content_hash)
        docs += 1
        tell("documents", docs)
    ents = len(unpinned)
    for chunk in _chunks((e for e in source.entities() if e.id not in unpinned), batch):
        target.add([], chunk)  # keeps the name and type the target has: a seed edited since renamed some
        renamed = [e for e in chunk if e.id in pinned and named.get(e.id, (e.name, e.type)) != (e.name, e.type)]
        if renamed:  # a source no seed or import can be named (no '/' in a folder or file name): no facts go
            target.replace_source(RENAME_SOURCE, [], renamed)
        ents += len(chunk)
        tell("entities", ents)
    facts = 0
    sources: set[str] = set()
    for chunk in _chunks(source.triples(), batch):
        target.add(chunk)
        facts += len(chunk)
        sources.update(p.doc_id for t in chunk for p in t.provenance if p.doc_id not in stored)
        tell("facts", facts)
    gone = sorted({p.doc_id for t in target.triples() for p in t.provenance} - stored - sources)
    for other in gone:
        target.replace_source(other, [])
    extra = target.stats().relations - facts
    return MigrationReport(docs, ents, facts, round(time.perf_counter() - started, 3), (*removed, *gone), extra)
