"""The RDF mapping of the graph, shared by the ``rdf`` store and by export/import: IRIs, quads, readers.

See kg/stores/rdf.py and docs/stores.md for the model.
"""
from __future__ import annotations

import hashlib
import math
import re
from typing import Iterator
from urllib.parse import quote, unquote

import pyoxigraph as ox

from kg.errors import KGError
from kg.names import name_keys
from kg.records import Entity, Provenance, Triple
from kg.store import IRI, BlankNode

BASE = "https://kgnlp.dev/"
KG = BASE + "ns#"
ENT, REL, FACT, EVID, DOC, MENT, EXT, SEEDING = (BASE + p for p in (
    "entity/", "relation/", "fact/", "evidence/", "document/", "mention/", "external/", "seeding/"))
PREFIXES = {"kg": KG, "kge": ENT, "kgr": REL, "kgf": FACT, "kgv": EVID, "kgd": DOC, "kgm": MENT, "kgx": EXT,
            "kgs": SEEDING,
            "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "skos": "http://www.w3.org/2004/02/skos/core#", "xsd": "http://www.w3.org/2001/XMLSchema#"}
_N = ox.NamedNode
RDF_TYPE = _N(PREFIXES["rdf"] + "type")
RDF_SUBJ, RDF_PRED, RDF_OBJ = (_N(PREFIXES["rdf"] + p) for p in ("subject", "predicate", "object"))
RDF_STATEMENT = _N(PREFIXES["rdf"] + "Statement")
LABEL = _N(PREFIXES["rdfs"] + "label")
ALT = _N(PREFIXES["skos"] + "altLabel")
(C_ENTITY, C_DOC, C_MENTION, C_EVIDENCE, P_ETYPE, P_NORM, P_PINNED, P_CONF, P_EVID, P_DOCID, P_START, P_END,
 P_SENT, P_EXTR, P_SHA, P_SOURCE, P_TEXT, P_ADDED, P_LABEL, P_ENTITY, P_SCORE) = (_N(KG + n) for n in (
    "Entity", "Document", "Mention", "Evidence", "entityType", "norm", "pinned", "confidence", "evidence", "docId",
    "start", "end", "sentence", "extractor", "sha256", "source", "text", "added", "mentionLabel", "entity", "score"))
# What a seed gave an entity: ``kgs:<hash> a kg:Seeding ; kg:seed "seed:x" ; kg:seeded kge:<id> ; kg:seededAlias "…"``
C_SEEDING, P_SEED, P_SEEDED, P_SEEDED_ALIAS = (_N(KG + n) for n in ("Seeding", "seed", "seeded", "seededAlias"))
_XSD = PREFIXES["xsd"]
DG = ox.DefaultGraph()


def ent(entity_id: str) -> ox.NamedNode:
    return _N(ENT + quote(entity_id, safe=""))


def rel(relation: str) -> ox.NamedNode:
    return _N(REL + quote(relation, safe=""))


def fact_node(head: str, relation: str, tail: str) -> ox.NamedNode:
    return _N(FACT + _hash(head, relation, tail))


def _hash(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:32]


def _lit(value: object) -> ox.Literal:
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=_N(_XSD + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=_N(_XSD + "integer"))
    if isinstance(value, float):
        return ox.Literal(repr(value), datatype=_N(_XSD + "double"))
    return ox.Literal(str(value))


def _q(s: object, p: ox.NamedNode, o: object) -> ox.Quad:
    return ox.Quad(s, p, o)  # the default graph (DG); naming it makes each quad slower to build


def entity_quads(e: Entity, pinned: bool = True) -> list[ox.Quad]:
    """Every quad describing an entity (used for new entities and for export)."""
    node = ent(e.id)
    quads = [_q(node, RDF_TYPE, C_ENTITY), _q(node, LABEL, _lit(e.name)), _q(node, P_ETYPE, _lit(e.type)),
             _q(node, P_PINNED, _lit(pinned))]
    quads += [_q(node, ALT, _lit(a)) for a in e.aliases]
    # sorted: a set's order changes from run to run, and so would an export of the same graph
    quads += [_q(node, P_NORM, _lit(n)) for n in sorted(name_keys((e.name, *e.aliases)))]
    quads += [_q(node, _N(EXT + quote(k, safe="")), _lit(v)) for k, v in e.external_ids]
    return quads


def evidence_quads(p: Provenance, confidence: float | None = None) -> tuple[ox.NamedNode, list[ox.Quad]]:
    """A source's node; with ``confidence`` (how sure that source is of the facts it links to) it is part of the
    node's identity, so the facts of one sentence share a node only when they are as sure."""
    parts = (p.doc_id, p.start, p.end, p.extractor, p.sentence) + (() if confidence is None else (float(confidence),))
    node = _N(EVID + _hash(*parts))
    quads = [_q(node, RDF_TYPE, C_EVIDENCE), _q(node, P_DOCID, _lit(p.doc_id)), _q(node, P_START, _lit(p.start)),
             _q(node, P_END, _lit(p.end)), _q(node, P_EXTR, _lit(p.extractor))]
    if p.sentence:
        quads.append(_q(node, P_SENT, _lit(p.sentence)))
    if confidence is not None:
        quads.append(_q(node, P_CONF, _lit(float(confidence))))
    return node, quads


def seeding_node(source: str, entity_id: str) -> ox.NamedNode:
    return _N(SEEDING + _hash(source, entity_id))


def seeding_quads(source: str, entity_id: str, aliases: tuple[str, ...] = ()) -> list[ox.Quad]:
    """The record that seed ``source`` lists the entity and alone gave it ``aliases``."""
    sn = seeding_node(source, entity_id)
    return [_q(sn, RDF_TYPE, C_SEEDING), _q(sn, P_SEED, _lit(source)), _q(sn, P_SEEDED, ent(entity_id))] + \
        [_q(sn, P_SEEDED_ALIAS, _lit(a)) for a in aliases]


def fact_quads(t: Triple, per_source: bool = True) -> list[ox.Quad]:
    """The asserted triple, its reification node with confidence, and its evidence, each with its source's own
    confidence (``Provenance.confidence``); one without takes the fact's, unless ``per_source`` is False (a copy, where
    the fact's is the best of several sources): then it has none."""
    h, r, o, f = ent(t.head_id), rel(t.relation), ent(t.tail_id), fact_node(*t.key)
    quads = [_q(h, r, o), _q(f, RDF_TYPE, RDF_STATEMENT), _q(f, RDF_SUBJ, h), _q(f, RDF_PRED, r), _q(f, RDF_OBJ, o),
             _q(f, P_CONF, _lit(float(t.confidence)))]
    for p in t.provenance:
        ev, ev_quads = evidence_quads(p, p.confidence if p.confidence is not None else
                                      t.confidence if per_source else None)
        quads += ev_quads
        quads.append(_q(f, P_EVID, ev))
    return quads


def _id(node: object) -> str:
    return unquote(node.value[len(ENT):])


def _rel_name(node: object) -> str:
    return unquote(node.value[len(REL):])


def _props(store: ox.Store, node: object) -> dict[str, list]:
    out: dict[str, list] = {}
    for q in store.quads_for_pattern(node, None, None, DG):
        out.setdefault(q.predicate.value, []).append(q.object)
    return out


def read_entity(store: ox.Store, node: object) -> Entity | None:
    """The entity described at ``node`` in ``store``, or None when it is only a fact endpoint."""
    props = _props(store, node)
    if C_ENTITY not in props.get(RDF_TYPE.value, []):
        return None
    ext = tuple(sorted((unquote(k[len(EXT):]), v[0].value) for k, v in props.items() if k.startswith(EXT)))
    if LABEL.value not in props:
        raise KGError(f"Entity <{node.value}> has no rdfs:label (every kg:Entity needs its name there).")
    return Entity(_id(node), props[LABEL.value][0].value, props.get(P_ETYPE.value, [_lit("")])[0].value,
                  tuple(sorted(a.value for a in props.get(ALT.value, []))), ext)


def read_triple(store: ox.Store, head: object, relation: object, tail: object,
                cache: dict | None = None) -> Triple:
    """The fact ``head relation tail`` with its confidence and evidence from its reification node."""
    h, r, t = _id(head), _rel_name(relation), _id(tail)
    node = fact_node(h, r, t)
    props = _props(store, node)
    conf = _number(float, props[P_CONF.value][0].value, node, "kg:confidence") if P_CONF.value in props else 1.0
    cache = {} if cache is None else cache
    prov = []
    for ev in props.get(P_EVID.value, []):
        if ev.value not in cache:
            e = _props(store, ev)
            one = lambda k, d="": e[k][0].value if k in e else d  # noqa: E731
            sure = one(P_CONF.value, None)
            cache[ev.value] = Provenance(one(P_DOCID.value), _number(int, one(P_START.value, 0), ev, "kg:start"),
                                         _number(int, one(P_END.value, 0), ev, "kg:end"),
                                         one(P_SENT.value), one(P_EXTR.value),
                                         None if sure is None else _number(float, sure, ev, "kg:confidence"))
        prov.append(cache[ev.value])
    best: dict[Provenance, Provenance] = {}  # one per source (re-added with another confidence: the best)
    for p in prov:
        if p not in best or (p.confidence or 0.0) > (best[p].confidence or 0.0):
            best[p] = p
    prov = sorted(best.values(), key=lambda p: (p.doc_id, p.start, p.end, p.sentence, p.extractor))
    return Triple(h, r, t, conf, tuple(prov))


def _number(kind: type, value: object, node: object, what: str):
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise KGError(f"{what} of <{getattr(node, 'value', node)}> is '{value}', not a number.") from None


def name_statements(store: ox.Store) -> int:
    """Give every reification of a kgnlp fact (``rdf:subject``/``rdf:predicate``/``rdf:object``) that another tool
    wrote under its own name (a blank node, ``ex:stmt1``) kgnlp's name for it too, so its confidence and evidence
    are read; returns how many were named."""
    named = 0
    for q in list(store.quads_for_pattern(None, RDF_SUBJ, None, DG)):
        node, head = q.subject, q.object
        preds = [x.object for x in store.quads_for_pattern(node, RDF_PRED, None, DG)]
        objs = [x.object for x in store.quads_for_pattern(node, RDF_OBJ, None, DG)]
        if len(preds) != 1 or len(objs) != 1 or not all(
                isinstance(x, ox.NamedNode) and x.value.startswith(ns)
                for x, ns in ((head, ENT), (preds[0], REL), (objs[0], ENT))):
            continue
        canonical = fact_node(_id(head), _rel_name(preds[0]), _id(objs[0]))
        if node != canonical:
            store.extend([ox.Quad(canonical, x.predicate, x.object, DG)
                          for x in store.quads_for_pattern(node, None, None, DG)])
            named += 1
    return named


def asserted(store: ox.Store) -> Iterator[ox.Quad]:
    """The asserted fact quads (predicate in the relation namespace) of the default graph."""
    for q in store.quads_for_pattern(None, None, None, DG):
        if q.predicate.value.startswith(REL) and isinstance(q.object, ox.NamedNode):
            yield q



def rdf_format(fmt: str) -> ox.RdfFormat:
    formats = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD}
    if fmt not in formats:
        raise KGError(f"Unknown RDF format '{fmt}'. Choose one of: {', '.join(formats)}.")
    return formats[fmt]


def py_value(term: object) -> object:
    """A SPARQL result term as a plain Python value."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):  # numbers as numbers; a malformed or non-finite one as its text (valid JSON)
        dt = term.datatype.value
        try:
            if dt in (_XSD + "integer", _XSD + "int", _XSD + "long"):
                return int(term.value)
            if dt in (_XSD + "double", _XSD + "decimal", _XSD + "float"):
                number = float(term.value)
                return number if math.isfinite(number) else term.value
        except ValueError:
            return term.value
        if dt == _XSD + "boolean" and term.value in ("true", "1", "false", "0"):  # a malformed one: its text
            return term.value in ("true", "1")
        return term.value
    if isinstance(term, ox.NamedNode):
        return IRI(term.value)
    if isinstance(term, ox.BlankNode):
        return BlankNode(term.value)
    return getattr(term, "value", str(term))


# A local name SPARQL and Turtle read without escapes: letters, digits, _ - . : and %XX (kept as written, so
# kge:dis%3Aobesity is <.../entity/dis%3Aobesity>); '-' and '.' not first, '.' not last.
_LOCAL = re.compile(r"(?:(?:[A-Za-z0-9_:]|%[0-9A-Fa-f]{2})(?:(?:[A-Za-z0-9_:.-]|%[0-9A-Fa-f]{2})*"
                    r"(?:[A-Za-z0-9_:-]|%[0-9A-Fa-f]{2}))?)?")


def prefixed(iri: str) -> str:
    """``iri`` as a prefixed name over :data:`PREFIXES` (``kge:dis%3Aobesity``), as rdflib's namespace manager
    writes it, or else as ``<iri>``: either form can be pasted back into a query."""
    best = max((p for p, ns in PREFIXES.items() if iri.startswith(ns)), key=lambda p: len(PREFIXES[p]), default=None)
    if best is not None and _LOCAL.fullmatch(local := iri[len(PREFIXES[best]):]):
        return f"{best}:{local}"
    return f"<{iri}>"
