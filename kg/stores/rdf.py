"""The ``rdf`` store: the graph as RDF in a persistent Oxigraph store, queried with SPARQL 1.1.

Mapping (vocabulary ``https://kgnlp.dev/ns#``, prefix ``kg:``; see docs/stores.md):

* an entity is ``kge:<id>`` (id percent-encoded) with ``rdf:type kg:Entity``, ``rdfs:label``, ``skos:altLabel``,
  ``kg:entityType``, ``kg:norm`` (normalised names, for lookup), ``kg:pinned`` and ``kgx:<scheme>`` external ids;
* a fact is the asserted triple ``kge:<head> kgr:<RELATION> kge:<tail>`` plus a standard RDF reification node
  ``kgf:<hash>`` (``rdf:subject/predicate/object``) carrying ``kg:confidence`` and one ``kg:evidence`` link per
  source. Reification rather than RDF-star because every tool and format (N-Triples, Turtle, JSON-LD, rdflib)
  reads it;
* a source is a content-addressed ``kgv:<hash>`` node (``kg:docId``, ``kg:start``, ``kg:end``, ``kg:sentence``,
  ``kg:extractor``), shared by every fact it supports (a bulk import has one for the whole import);
* documents and mentions are ``kgd:<id>`` and ``kgm:<doc>/<n>`` nodes.

Writes go straight to pyoxigraph (transactional ``extend``/``update``); ``store.graph`` gives the same data as an
rdflib ``Graph`` through oxrdflib. Oxigraph keeps the data on disk (RocksDB), not as Python objects: on the
Hetionet subset rdflib's in-memory store needs several times the memory (benchmarks/stores.py measures both).
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Mapping, Sequence
from urllib.parse import quote, unquote

import pyoxigraph as ox

from kg.claims import Stored, claim, lost_keys
from kg.errors import KGError, not_a_source
from kg.names import KEY_VERSION, STALE_RULE, name_keys, normalise
from kg.records import Document, Entity, Extraction, Mention, Provenance, Triple, one_per_id
from kg.store import (BatchStored, GraphStore, QueryResult, SourceChange, StoreStats, load_in_batches,
                      lookup_order)
from kg.stores.rdf_map import (
    ALT, C_DOC, C_ENTITY, C_EVIDENCE, C_MENTION, DG, DOC, ENT, EXT, LABEL, MENT, P_ADDED, P_CONF, P_DOCID, P_END,
    P_ENTITY, P_ETYPE, P_EVID, P_LABEL, P_NORM, P_PINNED, P_SCORE, P_SEED, P_SEEDED, P_SEEDED_ALIAS, P_SHA, P_SOURCE,
    KG, P_START, P_TEXT, PREFIXES,
    RDF_OBJ, RDF_PRED, RDF_STATEMENT, RDF_SUBJ, RDF_TYPE, REL, _id, _lit, _N, _props, _q, asserted, ent,
    entity_quads, evidence_quads, fact_node, fact_quads, py_value, rdf_format, read_entity, read_triple, rel,
    seeding_node, seeding_quads,
)

# String literals, IRIs and comments, blanked before looking for keywords that reach other servers
_SPARQL_TEXT = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
                          r'|<[^<>"{}|^`\\\s]*>|#[^\n]*')
_REMOTE = re.compile(r"\b(?:SERVICE|LOAD)\b", re.IGNORECASE)
_PREFIXED = re.compile(r"(?<![\w<:])([A-Za-z][\w.-]*):[\w]")


def _syntax_error(exc: SyntaxError, text: str) -> str:
    """pyoxigraph's message on one line; an unknown prefix named, with the ones kgnlp declares."""
    first = str(exc).splitlines()[0] if str(exc) else "invalid query"
    if "Prefix not found" not in str(exc):
        return f"SPARQL syntax error: {first[:200]}."
    declared = {*PREFIXES, *re.findall(r"PREFIX\s+([\w.-]*):", text, re.IGNORECASE)}
    unknown = [p for p in _PREFIXED.findall(_SPARQL_TEXT.sub(" ", text)) if p not in declared]
    where = first.split(": expected", 1)[0]
    name = f" '{unknown[0]}:'" if unknown else ""
    return (f"SPARQL syntax error: {where}: unknown prefix{name}. Declared: {', '.join(p + ':' for p in PREFIXES)} "
            "(or add PREFIX lines).")


_UPDATE = re.compile(r"\b(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD)\b", re.IGNORECASE)
# The key rule the store's kg:norm literals were made by (kg.names.KEY_VERSION), in a graph of its own: default-graph
# queries, dumps and exports never see it
_META, _STORE, _NAME_KEYS = _N(KG + "meta"), _N(KG + "store"), _N(KG + "nameKeys")


def _open_read_only(path: str, tries: int = 5, pause: float = 0.2) -> ox.Store:
    """The store at ``path`` opened read-only. A writer that opens it meanwhile compacts it and deletes files the
    reader's snapshot lists (RocksDB: "Corruption ... No such file"): the open is tried again a few times, then one
    line says another process is rewriting the store."""
    for attempt in range(1, tries + 1):
        try:
            return ox.Store.read_only(path)
        except RuntimeError as exc:
            if "Corruption" not in str(exc) and "No such file" not in str(exc):
                raise
            if attempt == tries:
                raise KGError(f"Cannot read the RDF store at {path}: another kgnlp process is rewriting it; "
                              "try again when it is done.") from exc
            time.sleep(pause)

class RDFStore:
    """``GraphStore`` over an on-disk Oxigraph store. Open it with :meth:`open`."""

    name = "rdf"

    def __init__(self, store: ox.Store, path: Path | None, read_only: bool = False) -> None:
        self._store = store
        self.location = path
        self.read_only = read_only
        # what is out of date in the lookup keys, left as it was (see open): STALE_RULE, made by an older key rule
        self.stale_name_keys: frozenset[str] = frozenset()

    @classmethod
    def open(cls, workspace: object = None, path: str | Path | None = None, read_only: bool = False) -> "RDFStore":
        """The RDF graph of a workspace (kept in ``<workspace>/rdf``), at ``path``, or in memory when neither.
        ``read_only``: as it is on disk now, and no file of the store's folder is written (a read-write open
        rewrites its log files even for a query)."""
        if path is None and workspace is not None:
            path = workspace.rdf_path
        try:
            if path is None:
                store = ox.Store()
            else:
                store = _open_read_only(str(path)) if read_only else ox.Store(str(path))
        except OSError as exc:
            raise KGError(f"Cannot open the RDF store at {path} ({exc}). Is another kgnlp process using it?") from exc
        out = cls(store, Path(path) if path is not None else None, read_only and path is not None)
        if out.read_only and not out._name_keys_current():
            # a format upgrade, done once by whoever opens the store first: a reader takes the write lock for it
            # when it can; otherwise (a writer holds it) it reads the older keys, which miss folded names
            try:
                cls.open(path=path).close()
            except (OSError, KGError):
                out.stale_name_keys = frozenset({STALE_RULE})
                return out
            out.close()
            out = cls(_open_read_only(str(path)), Path(path), True)
        elif not out.read_only:
            out._update_name_keys()
        return out

    def _name_keys_current(self) -> bool:
        """Whether the store's ``kg:norm`` literals were made by ``normalise``'s key rule."""
        return ox.Quad(_STORE, _NAME_KEYS, _lit(KEY_VERSION), _META) in self._store

    def _update_name_keys(self) -> None:
        """Remake every entity's ``kg:norm`` literals, once, when they were made by another key rule than
        ``normalise``'s (a store that records none has version 1). The version is recorded after the literals are
        written: a run stopped in between does it again on the next open."""
        if self._name_keys_current():
            return
        remove, add = [], []
        for q in list(self._store.quads_for_pattern(None, RDF_TYPE, C_ENTITY, DG)):
            e = read_entity(self._store, q.subject)
            have = {o.object.value for o in self._store.quads_for_pattern(q.subject, P_NORM, None, DG)}
            want = name_keys((e.name, *e.aliases)) if e else have
            remove += [_q(q.subject, P_NORM, _lit(n)) for n in sorted(have - want)]
            add += [_q(q.subject, P_NORM, _lit(n)) for n in sorted(want - have)]
        if remove or add:
            self._apply(remove, add, atomic=True)
        for old in list(self._store.quads_for_pattern(_STORE, _NAME_KEYS, None, _META)):
            self._store.remove(old)
        self._store.add(ox.Quad(_STORE, _NAME_KEYS, _lit(KEY_VERSION), _META))

    @classmethod
    def copy_of(cls, source: "GraphStore") -> tuple["RDFStore", int]:
        """An in-memory RDF copy of any store's entities and facts (with confidence and provenance; documents and
        mentions are not copied), and the number of facts copied: what ``export`` writes and what SPARQL over the
        embedded store reads."""
        mem = ox.Store()
        # as this store holds them: kg:pinned true for an imported (or added) entity, a kg:Seeding for each seed
        # that lists one, neither for an entity only documents hold
        pinned, ids = source.pinned_ids(seeds=False), set()
        for e in source.entities():
            ids.add(e.id)
            mem.bulk_extend(entity_quads(e, e.id in pinned))
        mem.bulk_extend(q for seed, eid, aliases in source.seedings() if eid in ids
                        for q in seeding_quads(seed, eid, aliases))
        facts = 0
        for t in source.triples():
            mem.bulk_extend(fact_quads(t, per_source=False))
            facts += 1
        return cls(mem, None), facts

    @property
    def graph(self):  # -> rdflib.Graph; rdflib loads only when asked for
        """The same data as an rdflib ``Graph`` (oxrdflib store), for code that speaks rdflib."""
        from oxrdflib import OxigraphStore
        from rdflib import Graph

        return Graph(store=OxigraphStore(store=self._store))

    @property
    def oxigraph(self) -> ox.Store:
        return self._store

    # ---- writing -------------------------------------------------------------------------
    def add(self, triples: Iterable[Triple], entities: Iterable[Entity] = (), pinned: bool = True,
            override: bool = False) -> None:
        remove, add = self._entity_changes(entities, pinned=pinned, override=override)
        r2, a2 = self._fact_changes(triples, conf={})
        self._apply(remove + r2, add + a2)

    def add_extraction(self, extraction: Extraction, content_hash: str) -> None:
        doc = extraction.document
        remove, _, conf = self._document_removal(doc.id)
        dn = _N(DOC + quote(doc.id, safe=""))
        add = [_q(dn, RDF_TYPE, C_DOC), _q(dn, P_DOCID, _lit(doc.id)), _q(dn, P_SHA, _lit(content_hash)),
               _q(dn, P_SOURCE, _lit(doc.source)), _q(dn, P_TEXT, _lit(doc.text)), _q(dn, P_ADDED, _lit(time.time()))]
        for i, m in enumerate(extraction.mentions):
            mn = _N(f"{MENT}{quote(doc.id, safe='')}/{i}")
            add += [_q(mn, RDF_TYPE, C_MENTION), _q(mn, P_DOCID, _lit(doc.id)), _q(mn, P_START, _lit(m.start)),
                    _q(mn, P_END, _lit(m.end)), _q(mn, P_TEXT, _lit(m.text)), _q(mn, P_LABEL, _lit(m.label)),
                    _q(mn, P_SCORE, _lit(float(m.score)))]
            if m.entity_id:
                add.append(_q(mn, P_ENTITY, ent(m.entity_id)))
        r1, a1 = self._entity_changes(extraction.entities, pinned=False, removed=set(remove))
        r2, a2 = self._fact_changes(extraction.triples, conf, removed=set(remove))
        # One SPARQL update = one transaction: the whole document or nothing.
        self._apply(remove + r1 + r2, add + a1 + a2, atomic=True)

    def _entity_changes(self, entities: Iterable[Entity], pinned: bool, removed: set | frozenset = frozenset(),
                        override: bool = False, seed: bool = False,
                        read: Mapping[str, dict[str, list]] | None = None) -> tuple[list, list]:
        """Quads to remove and add for upserting ``entities``; ``override`` (a seed): their name and type replace
        the stored ones, a replaced name staying on as an alias; ``seed``: the seed's own write, whose aliases
        ``_claim`` recorded; ``read``: entity id -> its properties, when the caller (``_claim``) read them already."""
        remove: list[ox.Quad] = []
        add: list[ox.Quad] = []
        for e in one_per_id(entities, override):  # the store is read once: an id given twice is merged first
            node = ent(e.id)
            props = read[e.id] if read is not None else _props(self._store, node)
            if C_ENTITY not in props.get(RDF_TYPE.value, []) or _q(node, RDF_TYPE, C_ENTITY) in removed:
                add += entity_quads(e, pinned)
                continue
            if override:
                for pred, value in ((LABEL, e.name), (P_ETYPE, e.type)):
                    old = props.get(pred.value, [])
                    if [o.value for o in old] != [value]:
                        remove += [_q(node, pred, o) for o in old]
                        add.append(_q(node, pred, _lit(value)))
                        if pred == LABEL:
                            add += [_q(node, ALT, o) for o in old if o.value != e.name]
            if e.aliases and not seed:  # an alias a seed gave is now this source's too: no seed takes it back
                for sn in self._store.quads_for_pattern(None, P_SEEDED, node, DG):
                    remove += [_q(sn.subject, P_SEEDED_ALIAS, _lit(a)) for a in e.aliases
                               if _q(sn.subject, P_SEEDED_ALIAS, _lit(a)) in self._store]
            # Keep the first name and type; merge aliases; new external ids win; pinned only grows.
            add += [_q(node, ALT, _lit(a)) for a in e.aliases]
            add += [_q(node, P_NORM, _lit(n)) for n in name_keys((e.name, *e.aliases) if override else e.aliases)]
            for k, v in e.external_ids:
                p = _N(EXT + quote(k, safe=""))
                remove += [_q(node, p, o) for o in props.get(p.value, []) if o.value != v]
                add.append(_q(node, p, _lit(v)))
            if pinned and _lit(True) not in props.get(P_PINNED.value, []):
                remove += [_q(node, P_PINNED, o) for o in props.get(P_PINNED.value, [])]
                add.append(_q(node, P_PINNED, _lit(True)))
        return remove, add

    def _fact_changes(self, triples: Iterable[Triple], conf: dict[ox.NamedNode, float],
                      removed: set | frozenset = frozenset()) -> tuple[list, list]:
        """Quads to remove and add for merging ``triples`` in; ``conf`` holds the confidence of facts that the same
        update sets (recomputed after a source went) and is the place the best confidence of each fact is kept."""
        remove: list[ox.Quad] = []
        add: list[ox.Quad] = []
        for t in triples:
            f = fact_node(*t.key)
            if f not in conf:
                old = [q.object for q in self._store.quads_for_pattern(f, P_CONF, None, DG)]
                old = [o for o in old if _q(f, P_CONF, o) not in removed]
                if old and float(old[0].value) >= t.confidence:
                    add += [q for q in fact_quads(t) if not (q.subject == f and q.predicate == P_CONF)]
                    continue
                remove += [_q(f, P_CONF, o) for o in old]
                conf[f] = t.confidence
            conf[f] = max(conf[f], t.confidence)
            add += [q for q in fact_quads(t) if not (q.subject == f and q.predicate == P_CONF)]
        add += [_q(f, P_CONF, _lit(float(c))) for f, c in conf.items()]
        return remove, add

    def _apply(self, remove: list, add: list, atomic: bool = False) -> None:
        if not remove and not atomic:
            self._store.extend(add)
            return
        parts = []
        if remove:
            parts.append("DELETE DATA { " + " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in remove) + " }")
        if add:
            parts.append("INSERT DATA { " + " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in add) + " }")
        if parts:
            self._store.update(" ;\n".join(parts))

    def bulk_load(self, triples: Iterable[tuple[str, str, str]], entities: Iterable[Entity] = (),
                  source: str = "import", batch: int = 50_000, stored: BatchStored | None = None) -> int:
        """Fast load of plain facts, each sourced to ``source``, in transactional batches; returns facts added."""
        self._apply(*self._entity_changes(entities, pinned=True))  # as `add`: replaced external ids, seeds' aliases
        ev, ev_quads = evidence_quads(Provenance(source, 0, 0, "", "import"), 1.0)
        self._store.extend(ev_quads)
        return load_in_batches(triples, batch, lambda rows: self._bulk(rows, ev), stored)

    def _bulk(self, rows: Sequence[tuple[str, str, str]], ev: ox.NamedNode) -> int:
        quads, new, one = [], 0, _lit(1.0)
        lower, raised = [], []  # an import's source has confidence 1.0, the best there is: one update raises them all
        seen: set[tuple[str, str, str]] = set()
        for h_id, r_name, t_id in rows:
            h, r, t, f = ent(h_id), rel(r_name), ent(t_id), fact_node(h_id, r_name, t_id)
            if (h_id, r_name, t_id) not in seen and _q(h, r, t) not in self._store:
                new += 1
                quads += [_q(h, r, t), _q(f, RDF_TYPE, RDF_STATEMENT), _q(f, RDF_SUBJ, h), _q(f, RDF_PRED, r),
                          _q(f, RDF_OBJ, t), _q(f, P_CONF, one)]
            elif (h_id, r_name, t_id) not in seen:
                below = [q for q in self._store.quads_for_pattern(f, P_CONF, None, DG) if q.object != one]
                if below:
                    lower += below
                    raised.append(_q(f, P_CONF, one))
            seen.add((h_id, r_name, t_id))
            quads.append(_q(f, P_EVID, ev))
        if lower:
            self._apply(lower, raised, atomic=True)
        self._store.extend(quads)
        return new

    def mark_stale(self, doc_ids: Iterable[str]) -> None:
        nodes = [_N(DOC + quote(i, safe="")) for i in doc_ids]
        old = [q for n in nodes for q in self._store.quads_for_pattern(n, P_SHA, None, DG)]
        self._apply(old, [_q(q.subject, P_SHA, _lit("")) for q in old], atomic=True)

    def remove_document(self, doc_id: str) -> int:
        if not self.has_document(doc_id):
            raise KGError(f"No document '{doc_id}' in the store. `kgnlp documents` lists them.")
        remove, gone, conf = self._document_removal(doc_id)
        self._apply(remove, [_q(f, P_CONF, _lit(float(c))) for f, c in conf.items()], atomic=True)
        return len(gone)

    def replace_source(self, source: str, triples: Iterable[Triple], entities: Iterable[Entity] = ()) -> SourceChange:
        if self.has_document(source):
            raise KGError(not_a_source(source))
        triples, entities = list(triples), list(entities)
        remove, gone, conf = self._document_removal(source, document=False)
        r2, a2 = self._fact_changes(triples, conf, removed=set(remove))
        r0, a0, taken, props = self._claim(source, entities, set(remove + r2))
        r1, a1 = self._entity_changes(entities, pinned=False, removed=set(remove + r0), override=True,
                                      seed=True, read=props)
        self._apply(remove + r0 + r1 + r2, a0 + a1 + a2)  # one SPARQL update when anything goes: all or nothing
        return SourceChange(len(gone - {fact_node(*t.key).value for t in triples}), *taken)

    def _document_removal(self, doc_id: str, document: bool = True
                          ) -> tuple[list[ox.Quad], set[str], dict[ox.NamedNode, float]]:
        """The quads that go when a document (or, ``document=False``, another source) goes, the facts (their
        nodes) that go with them, and the confidence of the facts that stay, recomputed from their other sources
        (their old confidence quads are among those that go)."""
        s = self._store
        doc_lit = _lit(doc_id)
        remove = list(s.quads_for_pattern(_N(DOC + quote(doc_id, safe="")), None, None, DG))
        if not remove and document:
            return [], set(), {}
        mentioned: set[str] = set()
        evidence: set[str] = set()
        for q in list(s.quads_for_pattern(None, P_DOCID, doc_lit, DG)):
            node = q.subject
            if _q(node, RDF_TYPE, C_MENTION) in s:
                mentioned.update(o.object.value for o in s.quads_for_pattern(node, P_ENTITY, None, DG))
            elif _q(node, RDF_TYPE, C_EVIDENCE) not in s:
                continue
            else:
                evidence.add(node.value)
            remove += s.quads_for_pattern(node, None, None, DG)
        gone_facts: set[str] = set()
        conf: dict[ox.NamedNode, float] = {}
        for ev in evidence:
            for q in s.quads_for_pattern(None, P_EVID, _N(ev), DG):
                remove.append(q)
                others = [o for o in s.quads_for_pattern(q.subject, P_EVID, None, DG) if o.object.value not in evidence]
                if not others and q.subject.value not in gone_facts:
                    gone_facts.add(q.subject.value)
                    props = _props(s, q.subject)
                    remove += [_q(q.subject, _N(p), o) for p, objs in props.items() for o in objs if p != P_EVID.value]
                    remove.append(_q(props[RDF_SUBJ.value][0], props[RDF_PRED.value][0], props[RDF_OBJ.value][0]))
                elif others and q.subject not in conf:  # the best of the sources left (one without its own
                    # confidence, written before sources had one, leaves the fact's as it is)
                    left = [[c.object for c in s.quads_for_pattern(o.object, P_CONF, None, DG)] for o in others]
                    if all(left):
                        old = list(s.quads_for_pattern(q.subject, P_CONF, None, DG))
                        remove += old
                        conf[q.subject] = max(float(c[0].value) for c in left)
        removing = set(remove)
        for e_iri in mentioned:
            node = _N(e_iri)
            if _q(node, P_PINNED, _lit(False)) not in s or any(s.quads_for_pattern(None, P_SEEDED, node, DG)):
                continue
            still_mentioned = any(q for q in s.quads_for_pattern(None, P_ENTITY, node, DG) if q not in removing)
            related = any(q for q in (*s.quads_for_pattern(node, None, None, DG), *s.quads_for_pattern(None, None, node, DG))
                          if q.predicate.value.startswith(REL) and q not in removing)
            if not still_mentioned and not related:
                remove += [q for q in s.quads_for_pattern(node, None, None, DG) if q not in removing]
        return list(dict.fromkeys(remove)), gone_facts, conf

    def _claim(self, source: str, entities: list[Entity], removing: set) -> tuple[list, list, tuple, dict]:
        """Quads that record what seed ``source`` now gives and take back what it gave before and no longer lists
        (the decision is :func:`kg.claims.claim`; an entity no seed lists any more goes when no import pins it, no
        document mentions it and no fact outside ``removing`` relates it); then the entities and the
        ``(entity id, alias)`` pairs taken back, and the properties it read of the entities (id -> properties), which
        the seed's write of its entities takes on."""
        s, src = self._store, _lit(source)
        before: dict[str, set[str]] = {}
        for q in s.quads_for_pattern(None, P_SEED, src, DG):
            for e in s.quads_for_pattern(q.subject, P_SEEDED, None, DG):
                before[_id(e.object)] = self._seeded_aliases(q.subject)
        ids = sorted(set(before) | {e.id for e in entities})
        others: dict[str, set[str]] = {}  # a key for each entity another seed lists
        for eid in ids:
            for q in s.quads_for_pattern(None, P_SEEDED, ent(eid), DG):
                if _q(q.subject, P_SEED, src) not in s:
                    others.setdefault(eid, set()).update(self._seeded_aliases(q.subject))
        props = {eid: _props(s, ent(eid)) for eid in ids}
        stored = {eid: Stored(p[LABEL.value][0].value, frozenset(a.value for a in p.get(ALT.value, [])))
                  for eid, p in props.items() if p.get(LABEL.value)}
        plan = claim(entities, before, others, stored)
        recorded = [q for eid in before for q in s.quads_for_pattern(seeding_node(source, eid), None, None, DG)]
        add = [q for eid, aliases in plan.records for q in seeding_quads(source, eid, aliases)]
        remove: list[ox.Quad] = []
        gone: list[str] = []  # entities taken back
        for eid in plan.free:
            node = ent(eid)
            related = any(q for q in (*s.quads_for_pattern(node, None, None, DG), *s.quads_for_pattern(None, None, node, DG))
                          if q.predicate.value.startswith(REL) and q not in removing)
            if not (related or _q(node, P_PINNED, _lit(True)) in s or any(s.quads_for_pattern(None, P_ENTITY, node, DG))):
                remove += s.quads_for_pattern(node, None, None, DG)
                if C_ENTITY in props[eid].get(RDF_TYPE.value, []):
                    gone.append(eid)
        for eid, dropped in plan.dropped.items():
            if eid not in gone:
                remove += _without(ent(eid), props[eid], dropped, lost_keys(stored[eid], dropped))
        kept, new = set(recorded), set(add)  # what the seed gave before and still gives is left as it is
        return ([q for q in recorded if q not in new] + remove, [q for q in add if q not in kept],
                (tuple(gone), plan.taken_back(gone)), props)

    def _seeded_aliases(self, seeding: ox.NamedNode) -> set[str]:
        """The aliases a seed's record says it alone gave."""
        return {a.object.value for a in self._store.quads_for_pattern(seeding, P_SEEDED_ALIAS, None, DG)}

    # ---- reading -------------------------------------------------------------------------
    def has_document(self, doc_id: str, content_hash: str | None = None) -> bool:
        node = _N(DOC + quote(doc_id, safe=""))
        shas = [q.object.value for q in self._store.quads_for_pattern(node, P_SHA, None, DG)]
        return bool(shas) and (content_hash is None or shas[0] == content_hash)

    def document_ids(self) -> list[str]:
        return sorted(q.object.value for q in self._docs(P_DOCID))

    def pinned_ids(self, seeds: bool = True) -> set[str]:
        quads = self._store.quads_for_pattern(None, P_PINNED, _lit(True), DG)
        seeded = {eid for _, eid, _ in self.seedings()} if seeds else set()
        return {unquote(q.subject.value[len(ENT):]) for q in quads} | seeded

    def seedings(self) -> Iterator[tuple[str, str, tuple[str, ...]]]:
        s, rows = self._store, []
        for q in s.quads_for_pattern(None, P_SEED, None, DG):
            for e in s.quads_for_pattern(q.subject, P_SEEDED, None, DG):
                if _q(e.object, RDF_TYPE, C_ENTITY) in s:
                    aliases = sorted(a.object.value for a in s.quads_for_pattern(q.subject, P_SEEDED_ALIAS, None, DG))
                    rows.append((q.object.value, _id(e.object), tuple(aliases)))
        yield from sorted(rows)

    def document_sources(self) -> dict[str, str]:
        ids = {q.subject: q.object.value for q in self._docs(P_DOCID)}
        return dict(sorted((ids[q.subject], q.object.value) for q in self._docs(P_SOURCE) if q.subject in ids))

    def _docs(self, prop: ox.NamedNode) -> Iterator[ox.Quad]:
        for q in self._store.quads_for_pattern(None, RDF_TYPE, C_DOC, DG):
            yield from self._store.quads_for_pattern(q.subject, prop, None, DG)

    def document_text(self, doc_id: str) -> str | None:
        node = _N(DOC + quote(doc_id, safe=""))
        texts = [q.object.value for q in self._store.quads_for_pattern(node, P_TEXT, None, DG)]
        return texts[0] if texts else None

    def extractions(self) -> Iterator[tuple[Extraction, str]]:
        for doc_id in self.document_ids():
            d = _props(self._store, _N(DOC + quote(doc_id, safe="")))
            mentions = []
            for q in self._store.quads_for_pattern(None, P_DOCID, _lit(doc_id), DG):
                m = _props(self._store, q.subject)
                if C_MENTION not in m.get(RDF_TYPE.value, []):
                    continue
                idx = int(q.subject.value.rsplit("/", 1)[1])
                entity = _id(m[P_ENTITY.value][0]) if P_ENTITY.value in m else None
                mentions.append((idx, Mention(int(m[P_START.value][0].value), int(m[P_END.value][0].value),
                                              m[P_TEXT.value][0].value, m[P_LABEL.value][0].value, entity,
                                              float(m[P_SCORE.value][0].value))))
            doc = Document(doc_id, d[P_TEXT.value][0].value, d[P_SOURCE.value][0].value)
            yield Extraction(doc, tuple(m for _, m in sorted(mentions))), d[P_SHA.value][0].value

    def entity(self, entity_id: str) -> Entity | None:
        return read_entity(self._store, ent(entity_id))

    def find_entities(self, name: str, limit: int = 10) -> list[Entity]:
        norm = normalise(name)
        if not norm or limit < 1:
            return []
        lengths = {q.subject: len(norm) for q in self._store.quads_for_pattern(None, P_NORM, _lit(norm), DG)}
        if len(lengths) < limit:  # the exact matches come first here too: their key is the shortest that holds norm
            lengths = self._shortest_keys(norm, limit)
        found = [(_id(node), q.object.value, length) for node, length in lengths.items()
                 for q in self._store.quads_for_pattern(node, LABEL, None, DG)]
        entities = [read_entity(self._store, ent(i)) for i in lookup_order(found, limit)]
        return [e for e in entities if e is not None]

    def _shortest_keys(self, norm: str, limit: int) -> dict[ox.NamedNode, int]:
        """The entities whose keys hold ``norm``, each with its shortest such key's length: the ``limit`` with the
        shortest and every one that ties with the last of them. Keys are read shortest first and only as far as
        that (a one-letter name is held by most keys, and a row read into Python costs more than one sorted)."""
        rows = self._store.query(
            "SELECT ?e ?l ?q WHERE { ?e <%s> ?n FILTER(CONTAINS(?n, ?q)) BIND(STRLEN(?n) AS ?l) } ORDER BY ?l"
            % P_NORM.value, substitutions={ox.Variable("q"): _lit(norm)})
        lengths: dict[ox.NamedNode, int] = {}
        cut = None
        for row in rows:
            length = int(row[1].value)
            if cut is not None and length > cut:
                break
            lengths.setdefault(row[0], length)
            if cut is None and len(lengths) == limit:
                cut = length
        return lengths

    def entities(self) -> Iterator[Entity]:
        nodes = sorted((q.subject for q in self._store.quads_for_pattern(None, RDF_TYPE, C_ENTITY, DG)), key=_id)
        for node in nodes:
            e = read_entity(self._store, node)
            if e is not None:
                yield e

    def names(self) -> Iterator[tuple[str, str, str]]:
        for e in self.entities():
            for n in (e.name, *e.aliases):
                yield n, e.id, e.type

    def _edges(self, node: ox.NamedNode, relation: str | None) -> Iterator[ox.Quad]:
        pred = rel(relation) if relation else None
        for q in (*self._store.quads_for_pattern(node, pred, None, DG), *self._store.quads_for_pattern(None, pred, node, DG)):
            if q.predicate.value.startswith(REL) and isinstance(q.subject, ox.NamedNode) \
                    and q.subject.value.startswith(ENT) and isinstance(q.object, ox.NamedNode):
                yield q

    def neighbours(self, entity_id: str, hops: int = 1, relation: str | None = None) -> list[Triple]:
        if hops < 1:
            raise KGError(f"--hops must be at least 1, got {hops}.")
        start = ent(entity_id)
        seen, frontier, found = {start}, {start}, {}
        for _ in range(hops):
            nxt = set()
            for node in frontier:
                for q in self._edges(node, relation):
                    found[q] = None
                    nxt.update((q.subject, q.object))
            frontier = nxt - seen
            seen |= nxt
            if not frontier:
                break
        cache: dict = {}
        return [read_triple(self._store, q.subject, q.predicate, q.object, cache) for q in found]

    def path(self, source_id: str, target_id: str, max_hops: int = 4) -> list[Triple]:
        """Bidirectional breadth-first search: expands the smaller side, so hubs are met from both ends."""
        src, dst = ent(source_id), ent(target_id)
        if src == dst:
            return []
        sides = ({src: None}, {dst: None})  # node -> (previous node, quad) on each side
        fronts = ([src], [dst])
        meet = None
        for _ in range(max_hops):
            i = 0 if len(fronts[0]) <= len(fronts[1]) else 1
            seen, other, nxt = sides[i], sides[1 - i], []
            for node in fronts[i]:
                for q in self._edges(node, None):
                    n2 = q.object if q.subject == node else q.subject
                    if n2 not in seen:
                        seen[n2] = (node, q)
                        nxt.append(n2)
                        if n2 in other:
                            meet = n2
                            break
                if meet is not None:
                    break
            fronts = (nxt, fronts[1]) if i == 0 else (fronts[0], nxt)
            if meet is not None or not nxt:
                break
        if meet is None:
            return []
        head, node = [], meet
        while sides[0][node] is not None:
            node, q = sides[0][node]
            head.append(q)
        tail, node = [], meet
        while sides[1][node] is not None:
            node, q = sides[1][node]
            tail.append(q)
        cache: dict = {}
        return [read_triple(self._store, q.subject, q.predicate, q.object, cache) for q in [*reversed(head), *tail]]

    def triples(self) -> Iterator[Triple]:
        cache: dict = {}
        for q in asserted(self._store):
            yield read_triple(self._store, q.subject, q.predicate, q.object, cache)

    def mentions_of(self, entity_id: str, limit: int = 20) -> list[tuple[str, int, int, str]]:
        out = []
        for q in self._store.quads_for_pattern(None, P_ENTITY, ent(entity_id), DG):
            p = _props(self._store, q.subject)
            out.append((p[P_DOCID.value][0].value, int(p[P_START.value][0].value), int(p[P_END.value][0].value),
                        p[P_TEXT.value][0].value))
        return sorted(out)[:limit]

    def stats(self) -> StoreStats:
        def count(cls: ox.NamedNode) -> int:
            return sum(1 for _ in self._store.quads_for_pattern(None, RDF_TYPE, cls, DG))

        def grouped(sparql: str, name: Callable[[str], str] = str) -> tuple[tuple[str, int], ...]:
            """(name of the value, count), most first, ties by the name (not by its IRI's encoding)."""
            rows = [(name(r[0].value), int(r[1].value)) for r in self._store.query(sparql)]
            return tuple(sorted(rows, key=lambda x: (-x[1], x[0])))

        return StoreStats(
            documents=count(C_DOC), entities=count(C_ENTITY), relations=count(RDF_STATEMENT),
            by_type=grouped(f"SELECT ?t (COUNT(*) AS ?n) WHERE {{ ?e <{RDF_TYPE.value}> <{C_ENTITY.value}> ; "
                            f"<{P_ETYPE.value}> ?t }} GROUP BY ?t"),
            by_relation=grouped(f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ ?f <{RDF_PRED.value}> ?p }} GROUP BY ?p",
                                lambda iri: unquote(iri[len(REL):])),
        )

    def query(self, text: str, write: bool = False) -> QueryResult:
        """SPARQL 1.1 SELECT/ASK/CONSTRUCT/DESCRIBE; an UPDATE only with ``write``. Prefixes kg:, kge:, kgr:… are
        predeclared (see ``PREFIXES``)."""
        if _REMOTE.search(_SPARQL_TEXT.sub(" ", text)):
            raise KGError("SERVICE and LOAD are refused: they fetch from other servers, and kgnlp queries only the "
                          "workspace's graph (offline). Import other data with `kgnlp import` first.")
        try:
            result = self._store.query(text, prefixes=PREFIXES)
        except SyntaxError as exc:
            if not _UPDATE.search(text):
                raise KGError(_syntax_error(exc, text)) from exc
            if not write:
                raise KGError("SPARQL UPDATE is refused without --write (this query would change the graph).") from exc
            try:
                self._store.update(text, prefixes=PREFIXES)
            except SyntaxError as exc2:
                raise KGError(_syntax_error(exc2, text)) from exc2
            return QueryResult(("updated",), ((True,),))
        except OSError as exc:
            raise KGError(f"SPARQL query failed: {exc}.") from exc
        if isinstance(result, ox.QueryBoolean):
            return QueryResult(("ask",), ((bool(result),),))
        if isinstance(result, ox.QuerySolutions):
            cols = tuple(v.value for v in result.variables)
            return QueryResult(cols, tuple(tuple(py_value(t) for t in row) for row in result))
        return QueryResult(("subject", "predicate", "object"),
                           tuple((py_value(t.subject), py_value(t.predicate), py_value(t.object)) for t in result))

    def dump(self, out: IO[bytes], fmt: str) -> None:
        """Write the default graph as ``turtle``, ``ntriples`` or ``jsonld``."""
        self._store.dump(out, rdf_format(fmt), from_graph=DG, prefixes=PREFIXES if fmt == "turtle" else None)

    def stats_quads(self) -> int:
        return len(self._store)

    def close(self) -> None:
        if self._store is not None:
            if self.location is not None and not self.read_only:
                self._store.flush()
            self._store = None


def _without(node: ox.NamedNode, props: dict[str, list], dropped: frozenset[str], lost: set[str]) -> list[ox.Quad]:
    """The quads of aliases ``dropped`` from an entity (``props``: its properties), and of the lookup keys ``lost``
    with them (:func:`kg.claims.lost_keys`)."""
    return [_q(node, ALT, _lit(a)) for a in sorted(dropped)] + \
        [_q(node, P_NORM, o) for o in props.get(P_NORM.value, []) if o.value in lost]
