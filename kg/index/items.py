"""What the indexes hold: ``IndexItem`` records made from a store, with stable int64 ids.

An item's id is a hash of what it *is* (an entity's name, a fact's key, a chunk's place and text),
so rebuilding gives the same ids and an update only touches what changed.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Iterator

from kg.names import KEY_VERSION, normalise
from kg.records import Entity, Provenance, Triple
from kg.schema import Schema
from kg.store import GraphStore

KINDS = ("entities", "facts", "chunks")
MAX_PROVENANCE = 3


@dataclass(frozen=True)
class IndexItem:
    """One vector's worth of content: the text embedded, and what it points back to."""

    id: int
    kind: str
    key: str
    text: str
    label: str = ""  # entity type, relation name, or "" for chunks
    entity_ids: tuple[str, ...] = ()
    provenance: tuple[Provenance, ...] = ()
    triple: tuple[str, str, str] | None = None

    @property
    def doc_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.doc_id for p in self.provenance if p.doc_id))


def stable_id(kind: str, key: str) -> int:
    """A non-negative int64 derived from the item's kind and key (collisions: ~n²/2⁶⁴)."""
    digest = hashlib.blake2b(f"{kind}\x1f{key}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & 0x7FFF_FFFF_FFFF_FFFF


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def store_fingerprint(store: GraphStore) -> str:
    """A cheap summary of the store's content: the backend, counts and document ids, and the name-key rule
    (``kg.names.KEY_VERSION``: an entity index keeps each name's key). Ingest and removal change it, and so do
    reading another backend of the workspace (its indexes are shared by the backends) and a new key rule."""
    stats = store.stats()
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{getattr(store, 'name', '')}|{stats.documents}|{stats.entities}|{stats.relations}|".encode())
    h.update(f"keys {KEY_VERSION}|".encode())
    for doc_id in store.document_ids():
        h.update(doc_id.encode("utf-8") + b"\x00")
    return h.hexdigest()


# ---- entities -------------------------------------------------------------------------------
def entity_items(entities: Iterable[Entity]) -> Iterator[IndexItem]:
    """One item per distinct name or alias of each entity (pass ``store.entities()``)."""
    for ent in entities:
        seen: set[str] = set()
        for surface in (ent.name, *ent.aliases):
            norm = normalise(surface)
            if not norm or norm in seen:
                continue
            seen.add(norm)
            key = f"{ent.id}\x1f{norm}"
            yield IndexItem(stable_id("entities", key), "entities", key, surface, ent.type, (ent.id,))


# ---- facts ----------------------------------------------------------------------------------
def fact_items(store: GraphStore, schema: Schema, names: dict[str, str] | None = None) -> Iterator[IndexItem]:
    """One item per fact, verbalised with the entities' names ("metformin treats type 2 diabetes")."""
    names = names if names is not None else {e.id: e.name for e in store.entities()}
    for t in store.triples():
        yield fact_item(t, schema, names)


def fact_item(t: Triple, schema: Schema, names: dict[str, str]) -> IndexItem:
    key = f"{t.head_id}\x1f{t.relation}\x1f{t.tail_id}"
    text = schema.verbalise(names.get(t.head_id, t.head_id), t.relation, names.get(t.tail_id, t.tail_id))
    prov = tuple(p for p in t.provenance if p.doc_id)[:MAX_PROVENANCE]
    return IndexItem(stable_id("facts", key), "facts", key, text, t.relation, (t.head_id, t.tail_id), prov, t.key)


# ---- chunks ---------------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def chunk_spans(text: str, max_chars: int = 600) -> list[tuple[int, int]]:
    """Character spans of chunks: whole sentences packed up to ``max_chars``; longer sentences are cut at spaces."""
    pieces: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        pieces.append((start, m.start()))
        start = m.end()
    pieces.append((start, len(text)))
    spans: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for s, e in pieces:
        while e - s > max_chars:  # an over-long "sentence": cut at the last space before the limit
            cut = text.rfind(" ", s, s + max_chars)
            cut = cut if cut > s else s + max_chars
            if cur:
                spans.append(cur)
                cur = None
            spans.append((s, cut))
            s = cut + 1 if text[cut : cut + 1] == " " else cut
        if not text[s:e].strip():
            continue
        if cur and e - cur[0] <= max_chars:
            cur = (cur[0], e)
        else:
            if cur:
                spans.append(cur)
            cur = (s, e)
    if cur:
        spans.append(cur)
    return [(s, e) for s, e in spans if text[s:e].strip()]


def chunk_items(
    store: GraphStore, doc_entities: dict[str, list[tuple[int, int, str]]] | None = None, max_chars: int = 600
) -> Iterator[IndexItem]:
    """Chunks of every stored document; a chunk's entities are those of the facts read inside it."""
    doc_entities = doc_entities if doc_entities is not None else entity_spans(store.triples())
    for doc_id in store.document_ids():
        text = store.document_text(doc_id) or ""
        spots = doc_entities.get(doc_id, [])
        for n, (s, e) in enumerate(chunk_spans(text, max_chars)):
            body = text[s:e].strip()
            key = f"{doc_id}\x1f{s}\x1f{text_hash(body)}"
            ents = tuple(dict.fromkeys(ent for a, b, ent in spots if a < e and b > s))
            prov = (Provenance(doc_id, s, e, "", f"chunk:{n}"),)
            yield IndexItem(stable_id("chunks", key), "chunks", key, body, "", ents, prov)


def entity_spans(triples: "Iterator[Triple] | list[Triple]") -> dict[str, list[tuple[int, int, str]]]:
    """doc id -> (start, end, entity id) for the two ends of every fact, at the fact's source span."""
    out: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for t in triples:
        for p in t.provenance:
            if p.doc_id and p.end > p.start:
                out[p.doc_id].append((p.start, p.end, t.head_id))
                out[p.doc_id].append((p.start, p.end, t.tail_id))
    return out
