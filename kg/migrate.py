"""Copy a workspace's graph from one backend to another: batched, and idempotent (rerun after a failure)."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Callable, Iterable, Iterator, TypeVar

from kg.store import GraphStore

T = TypeVar("T")


@dataclass(frozen=True)
class MigrationReport:
    """What was copied (counts in the source; writes are upserts, so a rerun reports the same)."""

    documents: int
    entities: int
    facts: int
    seconds: float


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def migrate(source: GraphStore, target: GraphStore, batch: int = 1000,
            progress: Callable[[str, int], None] | None = None) -> MigrationReport:
    """Copy documents (text, hash, mentions), entities and facts with all their provenance.

    Documents go first: storing a document on the target replaces what the target held for it, and the facts copied
    afterwards bring back their sources. Entities arrive pinned (the contract does not expose the pinned flag).
    """
    import time

    started = time.perf_counter()
    tell = progress or (lambda stage, n: None)
    docs = 0
    for extraction, content_hash in source.extractions():
        target.add_extraction(extraction, content_hash)
        docs += 1
        tell("documents", docs)
    ents = 0
    for chunk in _chunks(source.entities(), batch):
        target.add([], chunk)
        ents += len(chunk)
        tell("entities", ents)
    facts = 0
    for chunk in _chunks(source.triples(), batch):
        target.add(chunk)
        facts += len(chunk)
        tell("facts", facts)
    return MigrationReport(docs, ents, facts, round(time.perf_counter() - started, 3))
