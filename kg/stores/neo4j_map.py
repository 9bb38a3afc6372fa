"""The neo4j store's property-graph layout (module docstring of kg/stores/neo4j.py): its constraints and indexes, and
each write as an ``UNWIND $rows`` statement with the rows it takes. The store runs these with ``rows`` as a parameter;
a Cypher export (``kg.export``) writes the same statements with the rows inlined, so a loaded script holds what the
store would.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Iterable

from kg.names import name_keys
from kg.records import Entity, Extraction, Provenance, Triple

# An ``UNWIND $rows AS r ...`` statement and the rows it runs on.
Write = tuple[str, list[dict]]


def rel_type(name: str) -> str:
    """A relationship type as a Cypher identifier; backticks make any name safe."""
    return "`" + name.replace("`", "``") + "`"


def label(prefix: str, name: str) -> str:
    """A node label under the graph's label ``prefix``, quoted."""
    return f"`{prefix}{name}`"


def fact_key(head: str, relation: str, tail: str) -> str:
    return f"{head}\x1f{relation}\x1f{tail}"


def name_rows(entity_id: str, name: str, aliases: Iterable[str]) -> tuple[str, list[dict[str, str]]]:
    """An entity's ``norm`` (its name's key; "" for a name without one) and the ``Name`` rows of its aliases' other
    keys: what the store saves for lookup."""
    own = name_keys([name])
    return next(iter(own), ""), [{"norm": n, "id": entity_id} for n in name_keys(aliases) - own]


def schema_statements(prefix: str = "") -> list[str]:
    """The constraints and indexes of a graph under the label ``prefix`` (``IF NOT EXISTS``): what the store makes on
    connect, and what a Cypher export writes first."""
    tag = prefix.lower() or "kg"
    E, D, S, N, M, G = (label(prefix, x) for x in ("Entity", "Document", "Source", "Name", "Mention", "Seeding"))
    return [
        f"CREATE CONSTRAINT {tag}_entity_id IF NOT EXISTS FOR (e:{E}) REQUIRE e.id IS UNIQUE",
        f"CREATE CONSTRAINT {tag}_document_id IF NOT EXISTS FOR (d:{D}) REQUIRE d.id IS UNIQUE",
        f"CREATE CONSTRAINT {tag}_source_key IF NOT EXISTS FOR (s:{S}) REQUIRE s.key IS UNIQUE",
        f"CREATE INDEX {tag}_entity_norm IF NOT EXISTS FOR (e:{E}) ON (e.norm)",
        f"CREATE INDEX {tag}_name_norm IF NOT EXISTS FOR (n:{N}) ON (n.norm)",
        f"CREATE INDEX {tag}_name_entity IF NOT EXISTS FOR (n:{N}) ON (n.entity_id)",
        f"CREATE INDEX {tag}_mention_doc IF NOT EXISTS FOR (m:{M}) ON (m.doc_id)",
        f"CREATE INDEX {tag}_mention_entity IF NOT EXISTS FOR (m:{M}) ON (m.entity_id)",
        f"CREATE INDEX {tag}_source_doc IF NOT EXISTS FOR (s:{S}) ON (s.doc_id)",
        f"CREATE INDEX {tag}_source_fact IF NOT EXISTS FOR (s:{S}) ON (s.fact)",
        f"CREATE INDEX {tag}_seeding_source IF NOT EXISTS FOR (g:{G}) ON (g.source)",
        f"CREATE INDEX {tag}_seeding_entity IF NOT EXISTS FOR (g:{G}) ON (g.entity_id)",
    ]


def entity_writes(prefix: str, entities: Iterable[tuple[Entity, bool]], replace_names: bool = False) -> list[Write]:
    """Upsert entities, each given as it is to be stored with whether it is pinned (a pinned entity stays pinned),
    with a ``Name`` node per key of their aliases. ``replace_names``: delete their ``Name`` nodes first, so an alias
    an entity had and is written without is no key of it (the store's own writes never drop an alias, and skip it)."""
    E, N = label(prefix, "Entity"), label(prefix, "Name")
    rows, names = [], []
    for e, pinned in entities:
        norm, alias_rows = name_rows(e.id, e.name, e.aliases)
        rows.append({"id": e.id, "name": e.name, "type": e.type, "norm": norm,
                     "aliases": list(dict.fromkeys(e.aliases)),  # an alias given twice is stored once
                     "ext": json.dumps(dict(e.external_ids), sort_keys=True), "pinned": pinned})
        names += alias_rows
    gone = [{"id": r["id"]} for r in rows] if replace_names else []
    return [(f"UNWIND $rows AS r MATCH (n:{N} {{entity_id: r.id}}) DELETE n", gone),
            (f"UNWIND $rows AS r MERGE (e:{E} {{id: r.id}}) SET e.name = r.name, e.type = r.type, e.norm = r.norm, "
             "e.aliases = r.aliases, e.ext = r.ext, e.pinned = coalesce(e.pinned, false) OR r.pinned, e.stub = false",
             rows),
            (f"UNWIND $rows AS r MERGE (n:{N} {{norm: r.norm, entity_id: r.id}})", names)]


def is_import(p: Provenance) -> bool:
    """A bulk import's source (no sentence, no offsets)."""
    return p.extractor == "import" and p.start == 0 and p.end == 0 and not p.sentence


def fact_writes(prefix: str, triples: Iterable[Triple]) -> list[Write]:
    """MERGE facts (one statement per relation type; an end never described becomes a ``stub``) and their sources:
    an import's with confidence 1.0 in the fact's ``imports`` list, every other one a ``Source`` node. A fact already
    stored keeps its best confidence and gains the sources."""
    E, S = label(prefix, "Entity"), label(prefix, "Source")
    by_rel: dict[str, dict[tuple[str, str], dict]] = defaultdict(dict)
    sources = []
    for t in triples:
        row = by_rel[t.relation].setdefault((t.head_id, t.tail_id),
                                            {"h": t.head_id, "t": t.tail_id, "c": t.confidence, "imports": []})
        row["c"] = max(row["c"], t.confidence)
        for p in t.provenance:
            if is_import(p) and (t.confidence if p.confidence is None else p.confidence) >= 1.0:
                if p.doc_id not in row["imports"]:
                    row["imports"].append(p.doc_id)
            else:
                key = hashlib.sha1("\x1f".join(map(str, (*t.key, p.doc_id, p.start, p.end, p.extractor)))
                                   .encode()).hexdigest()
                sources.append({"key": key, "fact": fact_key(*t.key), "head": t.head_id, "rel": t.relation,
                                "tail": t.tail_id, "doc_id": p.doc_id, "start": p.start, "end": p.end,
                                "sentence": p.sentence, "extractor": p.extractor,
                                "c": float(t.confidence if p.confidence is None else p.confidence)})
    writes: list[Write] = [(
        f"UNWIND $rows AS r MERGE (h:{E} {{id: r.h}}) ON CREATE SET h.stub = true "
        f"MERGE (t:{E} {{id: r.t}}) ON CREATE SET t.stub = true "
        f"MERGE (h)-[x:{rel_type(relation)}]->(t) ON CREATE SET x.confidence = r.c, x.imports = r.imports "
        "ON MATCH SET x.confidence = CASE WHEN r.c > x.confidence THEN r.c ELSE x.confidence END, "
        "x.imports = coalesce(x.imports, []) + [i IN r.imports WHERE NOT i IN coalesce(x.imports, [])]",
        list(rows.values())) for relation, rows in by_rel.items()]
    writes.append((f"UNWIND $rows AS r MERGE (s:{S} {{key: r.key}}) SET s.fact = r.fact, s.head = r.head, "
                   "s.rel = r.rel, s.tail = r.tail, s.doc_id = r.doc_id, s.start = r.start, s.end = r.end, "
                   "s.sentence = r.sentence, s.extractor = r.extractor, s.confidence = CASE WHEN s.confidence IS NULL "
                   "OR r.c > s.confidence THEN r.c ELSE s.confidence END", sources))
    return writes


def seeding_write(prefix: str, records: Iterable[tuple[str, str, Iterable[str]]]) -> Write:
    """Record what seeds gave: ``(seed, entity id, the aliases it alone gave)`` each (``GraphStore.seedings``)."""
    return (f"UNWIND $rows AS r MERGE (g:{label(prefix, 'Seeding')} {{source: r.source, entity_id: r.id}}) "
            "SET g.aliases = r.aliases",
            [{"source": src, "id": eid, "aliases": list(aliases)} for src, eid, aliases in records])


def document_writes(prefix: str, documents: Iterable[tuple[Extraction, str]]) -> list[Write]:
    """Store documents (with their content hash; ``added``: when the server stores them) and their mentions,
    replacing the mentions a stored document had."""
    D, M = label(prefix, "Document"), label(prefix, "Mention")
    docs, mentions = [], []
    for x, sha in documents:
        d = x.document
        docs.append({"id": d.id, "sha256": sha, "source": d.source, "text": d.text})
        mentions += [{"doc_id": d.id, "idx": i, "start": m.start, "end": m.end, "text": m.text, "label": m.label,
                      "entity_id": m.entity_id, "score": float(m.score)} for i, m in enumerate(x.mentions)]
    return [(f"UNWIND $rows AS r MATCH (m:{M} {{doc_id: r.id}}) DELETE m", [{"id": r["id"]} for r in docs]),
            (f"UNWIND $rows AS r MERGE (d:{D} {{id: r.id}}) SET d.sha256 = r.sha256, d.source = r.source, "
             "d.text = r.text, d.added = timestamp() / 1000.0", docs),
            (f"UNWIND $rows AS r CREATE (m:{M}) SET m.doc_id = r.doc_id, m.idx = r.idx, m.start = r.start, "
             "m.end = r.end, m.text = r.text, m.label = r.label, m.entity_id = r.entity_id, m.score = r.score",
             mentions)]
