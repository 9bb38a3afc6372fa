"""Copy a workspace's graph from one backend to another: batched, and idempotent (rerun after a failure)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Callable

from kg.records import Entity
from kg.store import GraphStore, chunks



@dataclass(frozen=True)
class MigrationReport:
    """What was copied (counts in the source; writes are upserts, so a rerun reports the same)."""

    documents: int
    entities: int
    facts: int
    seconds: float
    removed: tuple[str, ...] = ()  # documents and seed/import sources the target held but the source no longer has
    extra_facts: int = 0  # facts the target still holds beyond the source's (a seed or import changed since)


def migrate(source: GraphStore, target: GraphStore, batch: int = 1000,
            progress: Callable[[str, int], None] | None = None) -> MigrationReport:
    """Copy documents (text, hash, mentions), entities and facts with all their provenance.

    Documents go first: storing a document on the target replaces what the target held for it, and the facts copied
    afterwards bring back their sources. An entity a document mentions and no seed or import pinned arrives with
    that document, unpinned (so removing the documents removes it, as on the source); an entity only seeds hold
    arrives with what each seed gave it (its record and the aliases only it gave), unpinned, so an edited seed takes
    back on the target what it would on the source; the others arrive pinned.
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
    given: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)  # seed -> entity id -> aliases only it gave
    seed_aliases: dict[str, set[str]] = defaultdict(set)  # entity id -> the aliases a seed alone gave
    for seed, entity_id, aliases in source.seedings():  # read once: pinned_ids() would read them again
        given[seed][entity_id] = aliases
        seed_aliases[entity_id].update(aliases)
    held = source.pinned_ids(seeds=False)  # imported or added
    pinned = held | seed_aliases.keys()
    seed_only = seed_aliases.keys() - held  # held by seeds alone: not pinned on the target either
    unpinned: set[str] = set()  # stored with the first document that mentions them, unpinned as in the source
    for extraction, content_hash in source.extractions():
        mentioned = {m.entity_id for m in extraction.mentions if m.entity_id} - pinned - unpinned
        entities = tuple(e for e in map(source.entity, sorted(mentioned)) if e is not None)
        unpinned.update(e.id for e in entities)
        target.add_extraction(replace(extraction, entities=entities), content_hash)
        docs += 1
        tell("documents", docs)
    ents = len(unpinned)
    records: dict[str, Entity] = {}  # the pinned entities, as the source has them
    for chunk in chunks((e for e in source.entities() if e.id not in unpinned), batch):
        # Aliases a seed alone gave are the seed's (below): `add` would make them the import's too. An entity only
        # seeds hold is not pinned, so an edited seed can take it back on the target as on the source.
        plain = [replace(e, aliases=tuple(a for a in e.aliases if a not in seed_aliases[e.id])) for e in chunk]
        for entities, pin in (([e for e in plain if e.id not in seed_only], True),
                              ([e for e in plain if e.id in seed_only], False)):
            if entities:
                target.add([], entities, pinned=pin)  # keeps the name and type the target has
        records.update((e.id, e) for e in chunk if e.id in pinned)
        ents += len(chunk)
        tell("entities", ents)
    # What each seed gave, as the seed itself records it; its facts on the target go here and come back below.
    for seed in sorted(given):
        target.replace_source(seed, [], [replace(records[i], aliases=given[seed][i]) for i in sorted(given[seed])
                                         if i in records])
    for seed in sorted({s for s, _, _ in target.seedings()} - set(given)):  # a seed the source no longer has
        target.replace_source(seed, [])
    named = {e.id: (e.name, e.type) for e in target.entities()}
    renamed = [replace(e, aliases=()) for e in records.values() if named.get(e.id, (e.name, e.type)) != (e.name, e.type)]
    if renamed:  # a seed edited since an earlier copy renamed some
        target.add([], renamed, pinned=False, override=True)  # pinned only grows: each keeps the target's
    facts = 0
    sources: set[str] = set()
    for chunk in chunks(source.triples(), batch):
        target.add(chunk)
        facts += len(chunk)
        sources.update(p.doc_id for t in chunk for p in t.provenance if p.doc_id not in stored)
        tell("facts", facts)
    gone = sorted({p.doc_id for t in target.triples() for p in t.provenance} - stored - sources)
    for other in gone:
        target.replace_source(other, [])
    extra = target.stats().relations - facts
    return MigrationReport(docs, ents, facts, round(time.perf_counter() - started, 3), (*removed, *gone), extra)
