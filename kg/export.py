"""Export any ``GraphStore`` to TSV, RDF (Turtle, N-Triples, JSON-LD), GraphML or a Cypher script; import RDF.

Every format carries entities and facts; RDF also carries each fact's confidence and provenance (the model in
kg/stores/rdf_map.py), so an RDF export imports back into any backend without loss of facts or sources; Cypher carries
all the neo4j store holds (kg/stores/neo4j_map.py), documents and mentions included.
"""
from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass, replace
from typing import IO, Callable, TextIO

from kg.errors import KGError
from kg.records import Entity, Provenance, Triple
from kg.store import GraphStore, chunks

FORMATS = ("tsv", "turtle", "ntriples", "jsonld", "graphml", "cypher")
RDF_FORMATS = ("turtle", "ntriples", "jsonld")
PART = 5000  # entities and facts of an RDF import stored per transaction (add_read)


@dataclass(frozen=True)
class ImportReport:
    entities: int
    facts: int


def export(store: GraphStore, fmt: str, out: TextIO) -> int:
    """Write the graph to ``out`` in ``fmt``; returns the number of facts written."""
    if fmt not in FORMATS:
        raise KGError(f"Unknown export format '{fmt}'. Choose one of: {', '.join(FORMATS)}.")
    return {"tsv": _tsv, "graphml": _graphml, "cypher": _cypher}.get(fmt, _rdf)(store, out, fmt)


# A tab or any character a reader may end a line at (\r, as spreadsheet programs and str.splitlines do, ...).
_BREAKS = re.compile("[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _tsv(store: GraphStore, out: TextIO, fmt: str) -> int:
    """``head<TAB>RELATION<TAB>tail`` by entity name (the id when the entity has no record)."""
    names = {e.id: e.name for e in store.entities()}
    clean = lambda s: _BREAKS.sub(" ", s)  # noqa: E731
    n = 0
    for t in store.triples():
        out.write(f"{clean(names.get(t.head_id, t.head_id))}\t{t.relation}\t{clean(names.get(t.tail_id, t.tail_id))}\n")
        n += 1
    return n


def _rdf(store: GraphStore, out: TextIO, fmt: str) -> int:
    from kg.stores.rdf import RDFStore

    copy, n = RDFStore.copy_of(store)
    buf = io.BytesIO()
    copy.dump(buf, fmt)
    out.write(buf.getvalue().decode("utf-8"))
    return n


def _graphml(store: GraphStore, out: TextIO, fmt: str) -> int:
    """Nodes with name, type, aliases and external ids; edges with relation, confidence and provenance."""
    import networkx as nx

    from kg.graph_view import to_networkx

    g = to_networkx(store, provenance=True)
    pinned = store.pinned_ids()
    for e in store.entities():  # GraphML attributes are plain values: other names and ids as JSON, like provenance
        g.nodes[e.id]["aliases"] = json.dumps(list(e.aliases), ensure_ascii=False)
        g.nodes[e.id]["external_ids"] = json.dumps(e.external(), ensure_ascii=False, sort_keys=True)
        g.nodes[e.id]["pinned"] = e.id in pinned
    g = _xml_safe(g)
    for line in nx.generate_graphml(g, encoding="utf-8", prettyprint=True):
        out.write(line + "\n")
    return g.number_of_edges()


# Characters XML 1.0 cannot hold, not even as &#...; references (a name with \x01 made the file unreadable)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_safe(g):
    """``g`` with every character XML cannot hold, in ids and string attributes, replaced by U+FFFD."""
    import networkx as nx

    clean = lambda v: _NOT_XML.sub("\ufffd", v) if isinstance(v, str) else v  # noqa: E731
    for _, data in g.nodes(data=True):
        data.update({k: clean(v) for k, v in data.items()})
    for _, _, data in g.edges(data=True):
        data.update({k: clean(v) for k, v in data.items()})
    renamed = {n: clean(n) for n in g if clean(n) != n}
    return nx.relabel_nodes(g, renamed, copy=True) if renamed else g


def _cy(value: object) -> str:
    """A Cypher literal for a string, number (null for NaN or infinity), boolean, null, list or map (of plain
    keys)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "null"  # Cypher has no literal for NaN or infinity: "nan" and "inf" read as unknown variables
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(_cy, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_cy(v)}" for k, v in value.items()) + "}"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return "'" + _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "'"


# written as \uXXXX escapes: a line break or other control character (a fact key's \x1f) stays out of the script's text
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


_ROWS = 500  # rows per statement: a statement stays small for any server, and loads in one short transaction


def _cypher(store: GraphStore, out: TextIO, fmt: str) -> int:
    """The neo4j store's model (kg/stores/neo4j_map.py), as its own write statements with their rows inlined: its
    constraints and indexes, the key rule's version, entities with their lookup keys, seed records, documents with
    their mentions, and facts with their sources. Every statement is idempotent (MERGE, or mentions replaced per
    document), so loading the script twice stores nothing twice and loses nothing; only each document's ``added``
    (the time the server stored it) is set again. One statement a line: run the file with cypher-shell, or
    each line with `kgnlp query cypher --write` (one statement a call)."""
    from kg.names import KEY_VERSION
    from kg.stores.neo4j_map import document_writes, entity_writes, fact_writes, schema_statements, seeding_write

    out.writelines(f"{stmt};\n" for stmt in schema_statements())
    # the rule the keys below are made by; a graph that records another keeps it, so the store remakes every key
    out.write(f"MERGE (m:Meta {{key: 'name_keys'}}) ON CREATE SET m.version = {KEY_VERSION};\n")
    held = store.pinned_ids(seeds=False)  # imported or added; a seed's entities are held by its records
    for part in chunks(store.entities(), _ROWS):
        _inline(entity_writes("", ((e, e.id in held) for e in part), replace_names=True), out)
    _inline([seeding_write("", store.seedings())], out)
    for part in chunks(store.extractions(), 50):
        _inline(document_writes("", part), out)
    n = 0
    for part in chunks(store.triples(), _ROWS):
        _inline(fact_writes("", part), out)
        n += len(part)
    return n


def _inline(writes: list[tuple[str, list[dict]]], out: TextIO) -> None:
    """Each write's statement with its rows in place of ``$rows``, ``_ROWS`` rows a statement."""
    for stmt, rows in writes:
        for part in chunks(rows, _ROWS):
            out.write(stmt.replace("UNWIND $rows ", f"UNWIND {_cy(part)} ", 1) + ";\n")


_LOCAL = re.compile(r"[^A-Za-z0-9]+")


def read_rdf(data: bytes | IO[bytes], fmt: str, source: str = "import:rdf"
             ) -> tuple[list[Entity], list[Triple], set[str]]:
    """Entities and facts from RDF, and the ids of the entities the file says are not pinned. The kgnlp
    vocabulary is read in full (confidence, provenance, aliases, ``kg:pinned``, ``kg:Seeding``); other IRI-to-IRI
    triples become facts named after the predicate's local name (``ex:treats`` -> ``TREATS``), with ``rdfs:label``
    as the entity name when there is one. A fact with no evidence gets ``source`` (the file) as its source, and an
    end that is not declared as an entity becomes one named by its id."""
    import pyoxigraph as ox

    from kg.stores.rdf_map import (ENT, LABEL, P_PINNED, P_SEEDED, REL, RDF_TYPE, _lit, asserted, name_statements,
                                   rdf_format, read_entity, read_triple)

    mem = ox.Store()
    try:
        mem.load(data, rdf_format(fmt), to_graph=ox.DefaultGraph())
    except SyntaxError as exc:
        raise KGError(f"Not valid {fmt}: {exc}.") from exc
    name_statements(mem)
    entities: dict[str, Entity] = {}
    for q in mem.quads_for_pattern(None, None, None, ox.DefaultGraph()):
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(ENT) and q.subject.value not in entities:
            e = read_entity(mem, q.subject)
            if e is not None and not e.id:
                raise KGError(f"Entity '{e.name}' has an empty id (its IRI ends at kge:); give it an id.")
            if e is not None:
                entities[q.subject.value] = e
    triples = [read_triple(mem, q.subject, q.predicate, q.object) for q in asserted(mem)
               if q.subject.value.startswith(ENT) and q.object.value.startswith(ENT)]
    for t in triples:
        _check_read(t)
    for q in mem.quads_for_pattern(None, None, None, ox.DefaultGraph()):
        p = q.predicate.value
        if p.startswith(REL) or p == RDF_TYPE.value or p.startswith("https://kgnlp.dev/"):
            continue
        if not (isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode)):
            continue
        if q.subject.value.startswith("https://kgnlp.dev/"):
            continue
        local = _LOCAL.sub("_", re.split(r"[#/]", p.rstrip("/#"))[-1]).strip("_").upper() or "RELATED_TO"
        for node in (q.subject, q.object):
            if node.value not in entities:
                labels = [x.object.value for x in mem.quads_for_pattern(node, LABEL, None, ox.DefaultGraph())]
                entities[node.value] = Entity(node.value, labels[0] if labels else node.value, "Thing")
        triples.append(Triple(q.subject.value, local, q.object.value))
    imported = (Provenance(source, 0, 0, "", "import"),)
    triples = [t if t.provenance else replace(t, provenance=imported) for t in triples]
    known = {e.id for e in entities.values()}
    for end in dict.fromkeys(x for t in triples for x in (t.head_id, t.tail_id)):
        if end not in known:
            entities[end] = Entity(end, end, "Entity")
    # an entity that only documents held where it was exported (kg:pinned false, no seed lists it) is not pinned
    # here either; one a seed lists is kept without documents, as an import
    dg = ox.DefaultGraph()
    unpinned = {e.id for iri, e in entities.items() if iri.startswith(ENT)
                and ox.Quad(ox.NamedNode(iri), P_PINNED, _lit(False), dg) in mem
                and ox.Quad(ox.NamedNode(iri), P_PINNED, _lit(True), dg) not in mem
                and not any(mem.quads_for_pattern(None, P_SEEDED, ox.NamedNode(iri), dg))}
    return list(entities.values()), triples, unpinned


_MAX_OFFSET = 2**63 - 1  # the embedded store's INTEGER column


def _check_read(t: Triple) -> None:
    """A fact read in the kgnlp vocabulary is one every store can hold and every reader can print: ids and a
    relation that are not empty, a confidence from 0 to 1 (NaN would break the embedded store's NOT NULL column
    and every --json reader) and offsets that fit an integer column."""
    what = f"the fact <{t.head_id}> {t.relation} <{t.tail_id}>"
    if not (t.head_id and t.tail_id and t.relation):
        raise KGError(f"{what.capitalize()} has an empty entity id or relation name (an IRI that ends at "
                      "kge: or kgr:); give every entity and relation a name.")
    if not 0.0 <= t.confidence <= 1.0:
        raise KGError(f"kg:confidence of {what} is {t.confidence}; expected a number from 0 to 1.")
    for p in t.provenance:
        if not (0 <= p.start <= _MAX_OFFSET and 0 <= p.end <= _MAX_OFFSET):
            raise KGError(f"Evidence of {what} from '{p.doc_id}' has offsets {p.start}..{p.end}; expected "
                          "character offsets from 0 to 2^63-1.")


def import_rdf(store: GraphStore, data: bytes | IO[bytes], fmt: str, source: str = "import:rdf") -> ImportReport:
    """Read RDF (``turtle``, ``ntriples`` or ``jsonld``) into ``store``; idempotent. ``source``: what facts
    without evidence of their own are sourced to (``import:<file name>``)."""
    if fmt not in RDF_FORMATS:
        raise KGError(f"Cannot import '{fmt}'. Choose one of: {', '.join(RDF_FORMATS)}.")
    return add_read(store, *read_rdf(data, fmt, source))


def add_read(store: GraphStore, entities: list[Entity], triples: list[Triple],
             unpinned: set[str] = frozenset(), stored: Callable[[int, int], None] | None = None) -> ImportReport:
    """Add what :func:`read_rdf` read to ``store`` (so a file can be read, and refused, before a store is opened):
    the entities pinned, as imports are, but those in ``unpinned``. The entities first, then the facts, ``PART`` at a
    time, each part stored for good, then ``stored(entities, facts)`` says how many are: an interrupted import keeps
    them, and no fact it stored lacks an entity."""
    for i in range(0, len(entities), PART):
        part = entities[i : i + PART]
        if any(e.id in unpinned for e in part):
            store.add([], [e for e in part if e.id in unpinned], pinned=False)
        store.add([], [e for e in part if e.id not in unpinned])
        if stored:
            stored(min(i + PART, len(entities)), 0)
    for i in range(0, len(triples), PART):
        store.add(triples[i : i + PART])
        if stored:
            stored(len(entities), min(i + PART, len(triples)))
    return ImportReport(len(entities), len(triples))
