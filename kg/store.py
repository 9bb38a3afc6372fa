"""The ``GraphStore`` contract every backend honours, and lazy lookup of backends by name."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from itertools import islice
from typing import Callable, Iterable, Iterator, Protocol, Sequence, TypeVar, runtime_checkable

from kg.errors import KGError
from kg.names import name_keys
from kg.records import Entity, Extraction, Triple

T = TypeVar("T")

# name -> "module:Class"; modules load only when asked for, so `kgnlp query` starts fast.
BACKENDS: dict[str, str] = {
    "embedded": "kg.stores.sqlite:SQLiteStore",
    "rdf": "kg.stores.rdf:RDFStore",
    "neo4j": "kg.stores.neo4j:Neo4jStore",
}
BatchStored = Callable[[int, int], None]  # bulk_load's (facts read so far, new facts so far) after each stored batch


@dataclass(frozen=True)
class SourceChange:
    """What replacing (or removing) a source took out of the graph: facts only it supported, and what only a seed
    gave: entities nothing else holds (their ids) and aliases (``(entity id, alias)``) of entities that stay."""

    facts: int = 0
    entities: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StoreStats:
    """Counts of what a store holds."""

    documents: int
    entities: int
    relations: int
    by_type: tuple[tuple[str, int], ...] = ()
    by_relation: tuple[tuple[str, int], ...] = ()


class IRI(str):
    """An IRI among a query's values (not a literal that reads like one): a plain string, so JSON writes it in
    full, that a table may print in a shorter form."""

    __slots__ = ()


class BlankNode(str):
    """A blank node among a query's values: its id, as JSON writes it, that a table prints as ``_:id``."""

    __slots__ = ()


class GraphNode(dict):
    """A node among a Cypher query's values: its properties, with ``_labels``."""


class GraphRelationship(dict):
    """A relationship among a Cypher query's values: its properties, with ``_type``."""


class GraphPath(dict):
    """A path among a Cypher query's values: ``nodes`` and ``relationships``; ``forward[i]`` says whether
    relationship ``i`` points from node ``i`` to node ``i + 1`` (kept off the dict, so JSON is unchanged)."""

    forward: tuple[bool, ...] = ()


@dataclass(frozen=True)
class QueryResult:
    """Rows returned by a query in the backend's own language."""

    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]


@runtime_checkable
class GraphStore(Protocol):
    """What every backend provides. Writes are idempotent: adding the same fact twice keeps one."""

    name: str

    def add(self, triples: Iterable[Triple], entities: Iterable[Entity] = (), pinned: bool = True,
            override: bool = False) -> None:
        """Upsert entities, then facts; provenance rows are merged into existing facts. The entities are pinned
        (kept when no document mentions them) unless ``pinned`` is False; an entity once pinned stays pinned. A
        stored entity keeps its first name and type, unless ``override``: then these replace them, as a seed's do
        (a replaced name stays on as an alias)."""

    def add_extraction(self, extraction: Extraction, content_hash: str) -> None:
        """Store one document with its mentions, entities and facts, all or nothing."""

    def has_document(self, doc_id: str, content_hash: str | None = None) -> bool:
        """True if the document is stored (with this content, when a hash is given)."""

    def mark_stale(self, doc_ids: Iterable[str]) -> None:
        """Forget the content hash of these stored documents (the others are left alone): ``has_document`` with a
        hash is False for them until they are stored again, so a run that stops before it stores them again reads
        them on the next run, whatever their text."""

    def remove_document(self, doc_id: str) -> int:
        """Remove a document and the facts only it supported (the others take the best confidence of the sources
        they keep); returns how many facts went."""

    def replace_source(self, source: str, triples: Iterable[Triple], entities: Iterable[Entity] = ()) -> SourceChange:
        """Give a source that is not a document (a seed folder's ``seed:<name>``) exactly these facts: its
        earlier provenance goes (and the facts only it supported), then these are added, all or nothing where the
        backend allows. The seed is the curated source: its entities' names and types replace the stored ones (a
        replaced name stays on as an alias), where ``add`` keeps the first. What it gave before and no longer lists
        goes: an alias no other source gave, and an entity nothing else holds (no other seed, no ``add`` or import,
        no document mention, no fact). A fact that keeps other sources takes the best confidence among them.
        Returns what went: how many earlier facts, and the entities and aliases taken back. A document id is
        refused."""

    def document_ids(self) -> list[str]:
        """Ids of the stored documents."""

    def pinned_ids(self, seeds: bool = True) -> set[str]:
        """Ids of the pinned entities: listed by a seed, or imported (or added), kept when no document mentions them
        any more; with ``seeds=False`` only those imported or added."""

    def seedings(self) -> Iterator[tuple[str, str, tuple[str, ...]]]:
        """``(seed source, entity id, the aliases only that seed gave)`` for every entity a seed lists."""

    def document_sources(self) -> dict[str, str]:
        """Each stored document's id and where it was read from (``Document.source``: a file, ``file:line``)."""

    def document_text(self, doc_id: str) -> str | None:
        """The stored text of a document, or None."""

    def extractions(self) -> Iterator[tuple[Extraction, str]]:
        """Every stored document with its mentions and content hash (facts and entities are read separately);
        what ``kg.migrate`` copies between backends."""

    def bulk_load(self, triples: Iterable[tuple[str, str, str]], entities: Iterable[Entity] = (),
                  source: str = "import", batch: int = 50_000, stored: BatchStored | None = None) -> int:
        """Fast load of plain ``(head_id, RELATION, tail_id)`` facts, each sourced to ``source``, in batches that
        are each stored for good (an interrupted load keeps them; loading again adds nothing twice); returns how
        many facts were new. ``stored(read, new)`` is called after each batch, the last time with every fact."""

    def names(self) -> Iterator[tuple[str, str, str]]:
        """``(surface name, entity id, type)`` for every name and alias: the gazetteer's input."""

    def entity(self, entity_id: str) -> Entity | None:
        """The entity with this id, or None."""

    def find_entities(self, name: str, limit: int = 10) -> list[Entity]:
        """Entities whose name or alias key (``kg.names.normalise``) holds ``name``'s key, at most ``limit``, in one
        order on every backend: by the length of the shortest such key (so an exact key match comes first), then
        by name as written (code point order), then by id (see :func:`lookup_order`). A result shorter than
        ``limit`` holds every match, so a caller may reuse it for any larger limit (:class:`kg.views.SearchedOnce`
        does). A view that wraps a store (``kg.resolved.ResolvedStore``, ``SearchedOnce``) keeps both: the order, and
        a short result only when it is every match."""

    def entities(self) -> Iterator[Entity]:
        """Every entity."""

    def neighbours(self, entity_id: str, hops: int = 1, relation: str | None = None) -> list[Triple]:
        """Facts within ``hops`` of the entity, either direction, optionally of one relation."""

    def path(self, source_id: str, target_id: str, max_hops: int = 4) -> list[Triple]:
        """The facts along a shortest undirected path, or [] when none within ``max_hops``."""

    def triples(self) -> Iterator[Triple]:
        """Every fact with its provenance."""

    def stats(self) -> StoreStats:
        """Counts of documents, entities and facts."""

    def query(self, text: str, write: bool = False) -> QueryResult:
        """Run a query in the backend's own language; read-only unless ``write``."""

    def close(self) -> None:
        """Release files and connections."""


def lookup_order(found: Iterable[tuple[str, str, int]], limit: int) -> list[str]:
    """The ids among ``found`` (``(entity id, name, the length of a matching key)`` rows, an entity in as many rows as
    it has matching keys) in ``find_entities``'s order: shortest matching key, then name, then id; at most
    ``limit``."""
    best: dict[str, tuple[int, str, str]] = {}
    for entity_id, name, length in found:
        rank = (length, name, entity_id)
        if entity_id not in best or rank < best[entity_id]:
            best[entity_id] = rank
    return [rank[2] for rank in sorted(best.values())[:limit]]


def lookup_rows(entities: Iterable[Entity], key: str) -> list[tuple[str, str, int]]:
    """:func:`lookup_order`'s rows for ``entities`` looked up by the name key ``key``: one for each of an entity's
    name keys that holds ``key``."""
    return [(e.id, e.name, len(k)) for e in entities for k in name_keys((e.name, *e.aliases)) if key in k]


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last shorter), read as they come."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def load_in_batches(triples: Iterable[tuple[str, str, str]], batch: int,
                    store_batch: Callable[[Sequence[tuple[str, str, str]]], int],
                    stored: BatchStored | None = None) -> int:
    """``bulk_load``'s loop: ``store_batch`` (which stores a batch for good and returns its new facts) for each
    ``batch`` facts, then ``stored(read, new)``; returns the new facts. The neo4j store's ``bulk_load`` keeps its own
    loop: it sends a fact read twice once (``seen``) and groups a batch by relation."""
    read = new = 0
    for part in chunks(triples, batch):
        new += store_batch(part)
        read += len(part)
        if stored:
            stored(read, new)
    return new


def store_class(name: str) -> type:
    """The backend class registered under ``name``, imported on first use."""
    try:
        target = BACKENDS[name]
    except KeyError:
        raise KGError(f"Unknown store '{name}'. Choose one of: {', '.join(BACKENDS)}.") from None
    module_name, cls_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in ("kg", "nlp", "fusion", "cli"):
            raise  # a fault of kgnlp's own, not a missing package: the traceback says where
        raise KGError(f"Store '{name}' needs a package that is not installed ({exc.name}).") from exc
    return getattr(module, cls_name)


def remove_source(store: GraphStore, source: str) -> SourceChange:
    """Take a seed (``seed:<folder>``) or an import (``import:<file>``) out of the graph as a stored document is
    removed: its facts that no other source supports go, and so do the entities and aliases only a seed gave.
    Returns what went; an id that is no stored document nor such a source is an error."""
    if source.split(":", 1)[0] not in ("seed", "import") or store.has_document(source):
        return SourceChange(store.remove_document(source))
    known = any(s == source for s, _, _ in store.seedings()) or any(
        p.doc_id == source for t in store.triples() for p in t.provenance)  # stops at the first
    if not known:
        raise KGError(f"No document or source '{source}' in the store. `kgnlp documents` lists the documents; "
                      "a seed is 'seed:<folder name>', an import 'import:<file name>'.")
    return store.replace_source(source, [])
