"""The ``neo4j`` store: the graph in a Neo4j-compatible server over Bolt, with plain parameterised Cypher.

Model (labels carry an optional prefix, so several graphs can share one server, e.g. in tests):

* ``(:Entity {id, name, type, norm, aliases, ext, pinned, stub})`` — ``id`` unique; ``norm`` indexed for name lookup;
  ``stub`` marks a node that only exists as a fact endpoint (never returned as an entity);
* ``(:Name {norm, entity_id})`` — one per key of an alias (but the name's), indexed on both;
* a fact is a relationship ``(h)-[:RELATION {confidence, imports}]->(t)``, MERGEd so it exists once; ``imports`` lists
  the import sources that support it with confidence 1.0 (bulk loads; one added below 1.0 is a ``Source`` node);
* ``(:Source {key, fact, head, rel, tail, doc_id, start, end, sentence, extractor, confidence})`` — one per
  sentence-level source of a fact (a property graph cannot point a node at a relationship, so ``fact`` names it);
  a fact's ``confidence`` is the best of its sources' (one in ``imports`` counts 1.0);
* ``(:Seeding {source, entity_id, aliases})`` — a seed lists the entity; ``aliases``: those it alone gave;
* ``(:Document {id, sha256, source, text, added})`` and ``(:Mention {doc_id, start, end, text, label, entity_id})``;
* ``(:Meta {key: 'name_keys', version})`` — the key rule ``norm`` values were made by (``kg.names.KEY_VERSION``).

Writes run in managed transactions (the driver retries transient errors), in ``UNWIND $rows`` batches; the statements
that write the model, and its constraints and indexes, are in ``kg.stores.neo4j_map`` (a Cypher export writes them too).
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Callable, Iterable, Iterator, Mapping

from kg.claims import Stored, claim, lost_keys
from kg.errors import KGError, not_a_source
from kg.names import KEY_VERSION, normalise
from kg.records import Document, Entity, Extraction, Mention, Provenance, Triple, one_per_id
from kg.store import (BatchStored, GraphNode, GraphPath, GraphRelationship, QueryResult, SourceChange, StoreStats,
                      lookup_order)
from kg.stores.neo4j_map import (Write, document_writes, entity_writes, fact_key, fact_writes, name_rows, rel_type,
                                 schema_statements, seeding_write)

_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Clauses that change data or schema. Strings and comments are blanked before this runs.
_WRITE = re.compile(r"\b(CREATE|MERGE|SET|DELETE|DETACH|REMOVE|DROP|LOAD\s+CSV|FOREACH|ALTER|GRANT|DENY|REVOKE)\b"
                    r"|\bCALL\s+(apoc|db\.create|dbms)", re.IGNORECASE)
_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.DOTALL)


BOLT_SCHEMES = ("bolt", "neo4j", "bolt+s", "bolt+ssc", "neo4j+s", "neo4j+ssc")


class Neo4jStore:
    """``GraphStore`` over Bolt. Open it with :meth:`open`."""

    name = "neo4j"
    # every node label, before the prefix
    LABELS = ("Entity", "Name", "Document", "Mention", "Source", "Seeding", "Meta")

    def __init__(self, driver, uri: str, user: str, database: str | None, batch_size: int, prefix: str) -> None:
        self._driver = driver
        self.uri, self.user, self.database, self.batch_size = uri, user, database, batch_size
        self.prefix = prefix
        self.E, self.N, self.D, self.M, self.S, self.G, self.K = (f"`{prefix}{x}`" for x in self.LABELS)

    @classmethod
    def open(cls, workspace: object = None, uri: str = "bolt://127.0.0.1:7687", user: str = "neo4j",
             password: str = "", database: str | None = None, batch_size: int = 3000, label_prefix: str = "",
             retry_seconds: float = 10.0) -> "Neo4jStore":
        """Connect, check the credentials, and create the constraint and indexes when missing."""
        from neo4j import GraphDatabase

        if label_prefix and not _PREFIX.match(label_prefix):
            raise KGError(f"Label prefix '{label_prefix}' must be letters, digits and _ (starting with a letter).")
        if batch_size < 1:
            raise KGError(f"batch_size must be at least 1, got {batch_size}.")
        if uri.split("://", 1)[0].lower() not in BOLT_SCHEMES or "://" not in uri:
            raise KGError(f"Bad Bolt URI '{uri}': expected {' or '.join(s + '://' for s in BOLT_SCHEMES[:2])}... "
                          "(e.g. bolt://127.0.0.1:7687).")
        try:
            driver = GraphDatabase.driver(uri, auth=(user, password), connection_timeout=5.0,
                                          max_transaction_retry_time=retry_seconds)
        except ValueError as exc:
            raise KGError(f"Bad Bolt URI '{uri}' ({exc}). Expected e.g. bolt://127.0.0.1:7687.") from exc
        store = cls(driver, uri, user, database, batch_size, label_prefix)
        try:
            store._guard(driver.verify_connectivity)
            store._schema()
            store._update_name_keys()
        except KGError:
            driver.close()
            raise
        return store

    def _schema(self) -> None:
        for stmt in schema_statements(self.prefix):
            self._run(stmt)

    def _update_name_keys(self) -> None:
        """Remake every entity's ``norm`` and ``Name`` nodes, once, when they were made by another key rule than
        ``normalise``'s (a graph without a ``Meta`` node has version 1), in one transaction; an alias held twice is
        stored once."""
        if self._run(f"MATCH (m:{self.K} {{key: 'name_keys', version: $v}}) RETURN m.version", v=KEY_VERSION):
            return
        E, N = self.E, self.N

        def work(tx) -> None:
            rows, names = [], []
            for eid, name, aliases in [r.values() for r in tx.run(f"MATCH (e:{E}) WHERE NOT coalesce(e.stub, false) "
                                                                  "RETURN e.id, e.name, e.aliases")]:
                norm, alias_rows = name_rows(eid, name, aliases or ())
                # a graph written before an alias given twice was stored once may hold one twice: keep it once
                rows.append({"id": eid, "norm": norm, "aliases": list(dict.fromkeys(aliases or ()))})
                names += alias_rows
            tx.run(f"MATCH (n:{N}) DELETE n").consume()
            for i in range(0, max(len(rows), len(names)), self.batch_size):
                tx.run(f"UNWIND $rows AS r MATCH (e:{E} {{id: r.id}}) SET e.norm = r.norm, e.aliases = r.aliases",
                       rows=rows[i:i + self.batch_size]).consume()
                tx.run(f"UNWIND $rows AS r MERGE (n:{N} {{norm: r.norm, entity_id: r.id}})",
                       rows=names[i:i + self.batch_size]).consume()
            tx.run(f"MERGE (m:{self.K} {{key: 'name_keys'}}) SET m.version = $v", v=KEY_VERSION).consume()

        self._write(work)

    @property
    def capabilities(self) -> frozenset[str]:
        """Neo4j-only features (vector and fulltext indexes); ArcadeDB's Bolt plugin has neither."""
        try:
            rows = self._read(lambda tx: [r.values() for r in tx.run("CALL dbms.components() YIELD name RETURN name")])
        except KGError:
            return frozenset()
        return frozenset({"vector_index", "fulltext_index"}) if any("neo4j" in str(r[0]).lower() for r in rows) \
            else frozenset()

    # ---- plumbing ------------------------------------------------------------------------
    def _guard(self, fn: Callable, *args):
        from neo4j import exceptions as nx

        try:
            return fn(*args)
        except nx.AuthError as exc:
            raise KGError(f"The Bolt server at {self.uri} refused user '{self.user}': wrong user or password. "
                          "Put the right password in the variable named by --password-env.") from exc
        except (nx.ServiceUnavailable, nx.SessionExpired, OSError) as exc:
            raise KGError(f"Cannot reach the Bolt server at {self.uri} ({_short(exc)}). Is it running? Check --uri, "
                          "or start the test server with `bash .ci/arcadedb.sh start`; rerunning is safe.") from exc
        except nx.TransientError as exc:
            raise KGError(f"The Bolt server kept failing with a transient error ({_short(exc)}); retry later.") from exc
        except nx.Neo4jError as exc:
            raise KGError(f"Cypher failed on {self.uri}: {_short(exc)}.") from exc
        except nx.DriverError as exc:
            raise KGError(f"Bolt driver error talking to {self.uri}: {_short(exc)}.") from exc

    def _session(self, read: bool = False):
        return self._driver.session(database=self.database, default_access_mode="READ" if read else "WRITE")

    def _write(self, work: Callable) -> object:
        def go():
            with self._session() as s:
                return s.execute_write(work)
        return self._guard(go)

    def _read(self, work: Callable) -> object:
        def go():
            with self._session(read=True) as s:
                return s.execute_read(work)
        return self._guard(go)

    def _run(self, cypher: str, **params: object) -> list[list]:
        return self._read(lambda tx: [r.values() for r in tx.run(cypher, **params)]) if not _WRITE.search(cypher) \
            else self._write(lambda tx: [r.values() for r in tx.run(cypher, **params)])

    # ---- writing -------------------------------------------------------------------------
    def add(self, triples: Iterable[Triple], entities: Iterable[Entity] = (), pinned: bool = True,
            override: bool = False) -> None:
        self._add(list(triples), list(entities), override=override, pinned=pinned)

    def _add(self, facts: list[Triple], ents: list[Entity], override: bool = False, pinned: bool = True,
             seed: bool = False) -> None:
        """Entities, then facts, in batches of ``batch_size`` (``override``, ``seed``: see :meth:`_put_entities`)."""
        for i in range(0, len(ents), self.batch_size):
            part = ents[i : i + self.batch_size]
            self._write(lambda tx: self._put_entities(tx, part, pinned=pinned, override=override, seed=seed))
        for i in range(0, len(facts), self.batch_size):
            part = facts[i : i + self.batch_size]
            self._write(lambda tx: self._put_facts(tx, part))

    def add_extraction(self, extraction: Extraction, content_hash: str) -> None:
        doc = extraction.document

        def work(tx) -> None:
            self._delete_document(tx, doc.id)
            self._apply(tx, document_writes(self.prefix, [(extraction, content_hash)]))
            self._put_entities(tx, list(extraction.entities), pinned=False)
            self._put_facts(tx, list(extraction.triples))

        self._write(work)  # one transaction: the whole document or nothing

    def _put_entities(self, tx, entities: list[Entity], pinned: bool, override: bool = False,
                      seed: bool = False, old: Mapping[str, list] | None = None) -> None:
        """Upsert entities; ``override`` (a seed, the curated source): their name and type replace the stored
        ones, a replaced name staying on as an alias; ``seed``: the seed's own write, whose aliases ``_claim``
        recorded; ``old``: entity id -> its stored row (:meth:`_stored_rows`), when the caller (``_claim``) read
        them already in this transaction."""
        if not entities:
            return
        merged = {e.id: e for e in one_per_id(entities, override)}  # the same id twice in one batch
        if old is None:
            old = self._stored_rows(tx, list(merged))
        given = [{"id": e.id, "aliases": list(e.aliases)} for e in merged.values() if e.id in old and e.aliases]
        if given and not seed:  # an alias a seed gave is now this source's too: no seed takes it back
            tx.run(f"UNWIND $rows AS r MATCH (g:{self.G} {{entity_id: r.id}}) "
                   "SET g.aliases = [a IN coalesce(g.aliases, []) WHERE NOT a IN r.aliases]", rows=given).consume()
        final = []
        for e in merged.values():
            if e.id in old:
                _, name, etype, aliases, ext, _ = old[e.id]
                prev = Entity(e.id, name, etype, tuple(aliases or ()), tuple(sorted(json.loads(ext or "{}").items())))
                e = _override(prev, e) if override else prev.merged(e)
            final.append((e, pinned))  # a pinned entity stays pinned (the write keeps it)
        self._apply(tx, entity_writes(self.prefix, final))

    def _stored_rows(self, tx, ids: list[str]) -> dict[str, list]:
        """Entity id -> ``[id, name, type, aliases, ext, pinned]`` for the stored entities among ``ids`` (stubs
        left out)."""
        return {r[0]: r.values() for r in tx.run(
            f"UNWIND $ids AS i MATCH (e:{self.E} {{id: i}}) WHERE NOT coalesce(e.stub, false) "
            "RETURN e.id, e.name, e.type, e.aliases, e.ext, e.pinned", ids=ids)}

    def _put_facts(self, tx, triples: list[Triple]) -> int:
        """MERGE the facts and their sources (:func:`fact_writes`); returns facts created."""
        return self._apply(tx, fact_writes(self.prefix, triples))

    @staticmethod
    def _apply(tx, writes: list[Write]) -> int:
        """Run each write that has rows; returns the relationships they created."""
        created = 0
        for stmt, rows in writes:
            if rows:
                created += tx.run(stmt, rows=rows).consume().counters.relationships_created
        return created

    def bulk_load(self, triples: Iterable[tuple[str, str, str]], entities: Iterable[Entity] = (),
                  source: str = "import", batch: int | None = None, stored: BatchStored | None = None) -> int:
        """``UNWIND $rows`` batches of ``batch_size`` facts, each in its own retried transaction; idempotent;
        ``stored(read, new)`` after each (a fact read twice counts as read, and is sent once).

        Endpoints are MERGEd once (as stubs when undescribed) and the facts then MATCH them; facts already
        there are read first and only the missing ones are CREATEd, in the same transaction. Bulk loads
        assume no other writer adds the same facts at the same moment (ingest uses MERGE)."""
        size = self.batch_size if batch is None else min(batch, self.batch_size)
        ents = list(entities)
        for i in range(0, len(ents), size):
            part = ents[i : i + size]
            self._write(lambda tx: self._put_entities(tx, part, pinned=True))
        known = {e.id for e in ents}
        total = read = reported = 0
        by_rel: dict[str, list[dict]] = defaultdict(list)
        pending = 0
        fresh_types: dict[str, bool] = {}  # relation -> had no fact at all when this load began
        seen: set[tuple[str, str, str]] = set()
        for h, r, t in triples:
            read += 1
            if (h, r, t) in seen:
                continue
            seen.add((h, r, t))
            if r not in fresh_types:
                fresh_types[r] = not self._run(
                    f"MATCH (:{self.E})-[x:{rel_type(r)}]->(:{self.E}) RETURN 1 LIMIT 1")
            by_rel[r].append({"h": h, "t": t})
            pending += 1
            if pending >= size:
                total += self._bulk_batch(by_rel, known, source, fresh_types)
                by_rel, pending = defaultdict(list), 0
                if stored:
                    stored(read, total)
                    reported = read
        if pending:
            total += self._bulk_batch(by_rel, known, source, fresh_types)
        if stored and read != reported:  # the last batch, or facts read again after the last one
            stored(read, total)
        return total

    def _bulk_batch(self, by_rel: dict[str, list[dict]], known: set[str], source: str,
                    fresh_types: dict[str, bool]) -> int:
        stubs = sorted({x for rows in by_rel.values() for row in rows for x in (row["h"], row["t"])} - known)

        def work(tx) -> int:
            if stubs:
                tx.run(f"UNWIND $ids AS i MERGE (e:{self.E} {{id: i}}) ON CREATE SET e.stub = true",
                       ids=stubs).consume()
            created = 0
            for relation, rows in by_rel.items():
                # A relation with no fact when this load began, and rows deduplicated across the load: all new.
                have = set() if fresh_types.get(relation) else None
                # Otherwise read which facts exist, then CREATE the rest in the same transaction: MERGE of a relationship
                # costs ArcadeDB about twice a CREATE over Bolt (5.7k vs 10k rows/s on 47k nodes here).
                have = have if have is not None else {(r["h"], r["t"]) for r in tx.run(
                    f"UNWIND $rows AS r MATCH (h:{self.E} {{id: r.h}})-[:{rel_type(relation)}]->(t:{self.E} {{id: r.t}}) "
                    "RETURN r.h AS h, r.t AS t", rows=rows)}
                fresh = [r for r in rows if (r["h"], r["t"]) not in have]
                if fresh:
                    tx.run(f"UNWIND $rows AS r MATCH (h:{self.E} {{id: r.h}}) MATCH (t:{self.E} {{id: r.t}}) "
                           f"CREATE (h)-[x:{rel_type(relation)}]->(t) SET x.confidence = 1.0, x.imports = [$src]",
                           rows=fresh, src=source).consume()
                created += len(fresh)
                if have:  # facts that were there already record this source too
                    tx.run(f"UNWIND $rows AS r MATCH (h:{self.E} {{id: r.h}})-[x:{rel_type(relation)}]->"
                           f"(t:{self.E} {{id: r.t}}) WHERE NOT $src IN coalesce(x.imports, []) "
                           "SET x.confidence = 1.0, x.imports = coalesce(x.imports, []) + $src",
                           rows=[{"h": h, "t": t} for h, t in have], src=source).consume()
            return created

        created = self._write(work)
        known.update(stubs)
        return created

    def mark_stale(self, doc_ids: Iterable[str]) -> None:
        self._write(lambda tx: tx.run(f"UNWIND $ids AS i MATCH (d:{self.D} {{id: i}}) SET d.sha256 = ''",
                                      ids=list(doc_ids)).consume())

    def remove_document(self, doc_id: str) -> int:
        if not self.has_document(doc_id):
            raise KGError(f"No document '{doc_id}' in the store. `kgnlp documents` lists them.")
        return len(self._write(lambda tx: self._delete_document(tx, doc_id)))

    def replace_source(self, source: str, triples: Iterable[Triple], entities: Iterable[Entity] = ()) -> SourceChange:
        if self.has_document(source):
            raise KGError(not_a_source(source))
        facts, ents = list(triples), list(entities)
        imports = not source.startswith("seed:")  # a seed's facts are never import-sourced: no scan for them
        if len(facts) + len(ents) <= self.batch_size:
            def work(tx) -> tuple:
                gone = self._delete_document(tx, source, imports)
                self._put_facts(tx, facts)
                taken, read = self._claim(tx, source, ents)
                self._put_entities(tx, ents, pinned=False, override=True, seed=True, old=read)
                return gone, taken

            gone, taken = self._write(work)  # one transaction: all or nothing
        else:  # too big for one transaction: the old provenance goes first, then the facts in batches
            gone = self._write(lambda tx: self._delete_document(tx, source, imports))
            self._add(facts, [])
            taken, _ = self._write(lambda tx: self._claim(tx, source, ents))
            # each batch reads its entities in its own transaction: an id in two batches takes on the first's write
            self._add([], ents, override=True, pinned=False, seed=True)
        return SourceChange(len(gone - {t.key for t in facts}), *taken)

    def _claim(self, tx, source: str, entities: list[Entity]
               ) -> tuple[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], dict[str, list]]:
        """Record what seed ``source`` now gives and take back what it gave before and no longer lists (the decision
        is :func:`kg.claims.claim`; an entity no seed lists any more goes when no import pins it, no document
        mentions it and no fact relates it). Runs before the seed's entities are written. Returns the entities and
        the ``(entity id, alias)`` pairs taken back, and the stored rows it read (:meth:`_stored_rows`), their aliases
        as it left them, which the seed's write of its entities in the same transaction takes on."""
        G, E, N = self.G, self.E, self.N
        before = {r[0]: set(r[1] or ()) for r in tx.run(
            f"MATCH (g:{G} {{source: $s}}) RETURN g.entity_id, g.aliases", s=source)}
        ids = sorted(set(before) | {e.id for e in entities})
        others: dict[str, set[str]] = {}  # a key for each entity another seed lists
        for eid, src, aliases in tx.run(f"UNWIND $ids AS i MATCH (g:{G} {{entity_id: i}}) "
                                        "RETURN g.entity_id, g.source, g.aliases", ids=ids):
            if src != source:
                others.setdefault(eid, set()).update(aliases or ())
        rows = self._stored_rows(tx, ids)
        stored = {eid: Stored(r[1], frozenset(r[3] or ())) for eid, r in rows.items()}
        plan = claim(entities, before, others, stored)
        tx.run(f"UNWIND $ids AS i MATCH (g:{G} {{source: $s, entity_id: i}}) DELETE g", ids=list(plan.unlisted),
               s=source).consume()
        self._apply(tx, [seeding_write(self.prefix, ((source, eid, aliases) for eid, aliases in plan.records))])
        fixes, names = [], []
        for eid, gone in plan.dropped.items():
            rows[eid][3] = sorted(stored[eid].aliases - gone)
            fixes.append({"id": eid, "aliases": rows[eid][3]})
            names += [{"id": eid, "norm": n} for n in lost_keys(stored[eid], gone)]
        if fixes:
            tx.run(f"UNWIND $rows AS r MATCH (e:{E} {{id: r.id}}) SET e.aliases = r.aliases", rows=fixes).consume()
        if names:
            tx.run(f"UNWIND $rows AS r MATCH (n:{N} {{norm: r.norm, entity_id: r.id}}) DELETE n", rows=names).consume()
        mentioned = {r[0] for r in tx.run(f"UNWIND $ids AS i MATCH (m:{self.M} {{entity_id: i}}) RETURN DISTINCT i",
                                          ids=list(plan.free))}
        free = [e for e in plan.free if e not in mentioned]
        if free:  # those that go are read first: what a DELETE returns differs between servers
            free = sorted({r[0] for r in tx.run(
                f"UNWIND $ids AS i MATCH (e:{E} {{id: i}}) WHERE e.pinned = false AND NOT coalesce(e.stub, false) "
                "AND COUNT { (e)--() } = 0 RETURN e.id", ids=free)})
            tx.run(f"UNWIND $ids AS i MATCH (e:{E} {{id: i}}) "
                   f"OPTIONAL MATCH (n:{N} {{entity_id: i}}) DELETE n, e", ids=free).consume()
        return (tuple(free), plan.taken_back(free)), rows

    def _delete_document(self, tx, doc_id: str, imports: bool = False) -> set[tuple[str, str, str]]:
        """Delete a document's (or another source's) nodes, and with ``imports`` its name from the facts' import
        lists; returns the facts that went with them. The facts that stay take the best confidence of the sources
        left."""
        S, M, E = self.S, self.M, self.E
        touched = [tuple(r.values()) for r in tx.run(
            f"MATCH (s:{S} {{doc_id: $d}}) RETURN DISTINCT s.head, s.rel, s.tail, s.fact", d=doc_id)]
        if imports:  # a bulk import's source is a name in the list on each fact, not a node
            touched += [(h, rel, t, fact_key(h, rel, t)) for h, rel, t in tx.run(
                f"MATCH (h:{E})-[x]->(t:{E}) WHERE $d IN coalesce(x.imports, []) "
                "SET x.imports = [i IN x.imports WHERE i <> $d] RETURN h.id, type(x), t.id", d=doc_id).values()]
            touched = list(dict.fromkeys(touched))
        ents = [r[0] for r in tx.run(f"MATCH (m:{M} {{doc_id: $d}}) WHERE m.entity_id IS NOT NULL "
                                     "RETURN DISTINCT m.entity_id", d=doc_id)]
        tx.run(f"MATCH (s:{S} {{doc_id: $d}}) DELETE s", d=doc_id).consume()
        tx.run(f"MATCH (m:{M} {{doc_id: $d}}) DELETE m", d=doc_id).consume()
        tx.run(f"MATCH (x:{self.D} {{id: $d}}) DELETE x", d=doc_id).consume()
        left: dict[str, list] = defaultdict(list)  # the confidences of the sources each fact has left
        for f, c in tx.run(f"UNWIND $fs AS f MATCH (s:{S} {{fact: f}}) RETURN f, s.confidence",
                           fs=[t[3] for t in touched]).values():
            left[f].append(c)
        by_rel: dict[str, list] = defaultdict(list)
        for h, rel, t, f in touched:
            if f not in left:
                by_rel[rel].append({"h": h, "t": t})
        removed = set()
        for rel, rows in by_rel.items():
            removed.update((h, rel, t) for h, t in tx.run(
                f"UNWIND $rows AS r MATCH (h:{E} {{id: r.h}})-[x:{rel_type(rel)}]->(t:{E} {{id: r.t}}) "
                "WHERE size(coalesce(x.imports, [])) = 0 DELETE x RETURN r.h, r.t", rows=rows).values())
        best: dict[str, list] = defaultdict(list)  # a source written before sources had a confidence: left as is
        for h, rel, t, f in touched:
            if (h, rel, t) not in removed and None not in left.get(f, ()):
                best[rel].append({"h": h, "t": t, "c": max(left[f], default=0.0)})
        for rel, rows in best.items():
            tx.run(f"UNWIND $rows AS r MATCH (h:{E} {{id: r.h}})-[x:{rel_type(rel)}]->(t:{E} {{id: r.t}}) "
                   "SET x.confidence = CASE WHEN size(coalesce(x.imports, [])) > 0 THEN 1.0 ELSE r.c END",
                   rows=rows).consume()
        ends = {e for rows in by_rel.values() for r in rows for e in (r["h"], r["t"])}
        if ents:
            still = {r[0] for r in tx.run(f"UNWIND $ids AS i MATCH (m:{M} {{entity_id: i}}) RETURN DISTINCT i",
                                          ids=ents)}
            still |= {r[0] for r in tx.run(f"UNWIND $ids AS i MATCH (g:{self.G} {{entity_id: i}}) RETURN DISTINCT i",
                                           ids=ents)}  # a seed lists it
            gone = [e for e in ents if e not in still]
            tx.run(f"UNWIND $ids AS i MATCH (e:{E} {{id: i}}) WHERE e.pinned = false AND COUNT {{ (e)--() }} = 0 "
                   f"OPTIONAL MATCH (n:{self.N} {{entity_id: i}}) DELETE n, e", ids=gone).consume()
        if ends:
            tx.run(f"UNWIND $ids AS i MATCH (e:{E} {{id: i}}) WHERE e.stub = true AND COUNT {{ (e)--() }} = 0 "
                   "DELETE e", ids=list(ends)).consume()
        return removed

    # ---- reading -------------------------------------------------------------------------
    def has_document(self, doc_id: str, content_hash: str | None = None) -> bool:
        rows = self._run(f"MATCH (d:{self.D} {{id: $id}}) RETURN d.sha256", id=doc_id)
        return bool(rows) and (content_hash is None or rows[0][0] == content_hash)

    def document_ids(self) -> list[str]:
        return [r[0] for r in self._run(f"MATCH (d:{self.D}) RETURN d.id ORDER BY d.id")]

    def pinned_ids(self, seeds: bool = True) -> set[str]:
        seeded = {eid for _, eid, _ in self.seedings()} if seeds else set()
        return {r[0] for r in self._run(f"MATCH (e:{self.E}) WHERE e.pinned = true RETURN e.id")} | seeded

    def seedings(self) -> Iterator[tuple[str, str, tuple[str, ...]]]:
        rows = self._run(f"MATCH (g:{self.G}) MATCH (e:{self.E} {{id: g.entity_id}}) WHERE NOT coalesce(e.stub, false) "
                         "RETURN g.source, g.entity_id, g.aliases")
        yield from sorted((src, eid, tuple(sorted(aliases or ()))) for src, eid, aliases in rows)

    def document_sources(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self._run(f"MATCH (d:{self.D}) RETURN d.id, d.source ORDER BY d.id")}

    def document_text(self, doc_id: str) -> str | None:
        rows = self._run(f"MATCH (d:{self.D} {{id: $id}}) RETURN d.text", id=doc_id)
        return rows[0][0] if rows else None

    def extractions(self) -> Iterator[tuple[Extraction, str]]:
        for doc_id, sha, source, text in self._run(f"MATCH (d:{self.D}) RETURN d.id, d.sha256, d.source, d.text "
                                                   "ORDER BY d.id"):
            mentions = tuple(Mention(*r) for r in self._run(
                f"MATCH (m:{self.M} {{doc_id: $d}}) RETURN m.start, m.end, m.text, m.label, m.entity_id, m.score "
                "ORDER BY m.idx", d=doc_id))
            yield Extraction(Document(doc_id, text, source), mentions), sha

    _ENT = "e.id, e.name, e.type, e.aliases, e.ext"

    def entity(self, entity_id: str) -> Entity | None:
        rows = self._run(f"MATCH (e:{self.E} {{id: $id}}) WHERE NOT coalesce(e.stub, false) RETURN {self._ENT}",
                         id=entity_id)
        return _entity(rows[0]) if rows else None

    def find_entities(self, name: str, limit: int = 10) -> list[Entity]:
        norm = normalise(name)
        if not norm:
            return []
        E, N, F = self.E, self.N, self._ENT
        rows = self._run(f"MATCH (e:{E} {{norm: $n}}) RETURN {F}, e.norm AS k UNION MATCH (a:{N} {{norm: $n}}) "
                         f"MATCH (e:{E} {{id: a.entity_id}}) RETURN {F}, a.norm AS k", n=norm)
        if len(rows) < limit:  # the exact matches come first here too: their key is the shortest that holds norm
            rows = self._run(f"MATCH (e:{E}) WHERE e.norm CONTAINS $n RETURN {F}, e.norm AS k UNION "
                             f"MATCH (a:{N}) WHERE a.norm CONTAINS $n MATCH (e:{E} {{id: a.entity_id}}) "
                             f"RETURN {F}, a.norm AS k", n=norm)
        found = {r[0]: r for r in rows}
        return [_entity(found[i]) for i in lookup_order(((r[0], r[1], len(r[5])) for r in rows), limit)]

    def entities(self) -> Iterator[Entity]:
        for r in self._run(f"MATCH (e:{self.E}) WHERE NOT coalesce(e.stub, false) RETURN {self._ENT} ORDER BY e.id"):
            yield _entity(r)

    def names(self) -> Iterator[tuple[str, str, str]]:
        for e in self.entities():
            for n in (e.name, *e.aliases):
                yield n, e.id, e.type

    def _edges(self, ids: list[str], relation: str | None) -> list[list]:
        where = "WHERE type(x) = $rel " if relation else ""
        return self._run(f"UNWIND $ids AS i MATCH (a:{self.E} {{id: i}})-[x]-(b:{self.E}) {where}"
                         "RETURN startNode(x).id, type(x), endNode(x).id, x.confidence, x.imports",
                         ids=ids, rel=relation)

    def neighbours(self, entity_id: str, hops: int = 1, relation: str | None = None) -> list[Triple]:
        if hops < 1:
            raise KGError(f"--hops must be at least 1, got {hops}.")
        seen, frontier, found = {entity_id}, [entity_id], {}
        for _ in range(hops):
            nxt = set()
            for row in self._edges(frontier, relation):
                found[(row[0], row[1], row[2])] = row
                nxt.update((row[0], row[2]))
            frontier = list(nxt - seen)
            seen |= nxt
            if not frontier:
                break
        return self._with_sources(list(found.values()))

    def path(self, source_id: str, target_id: str, max_hops: int = 4) -> list[Triple]:
        if source_id == target_id:
            return []
        hops = int(max_hops)
        if hops < 1:
            raise KGError(f"max_hops must be at least 1, got {max_hops}.")
        rows = self._run(
            f"MATCH (a:{self.E} {{id: $s}}), (b:{self.E} {{id: $t}}) MATCH p = shortestPath((a)-[*..{hops}]-(b)) "
            "RETURN [x IN relationships(p) | [startNode(x).id, type(x), endNode(x).id, x.confidence, x.imports]]",
            s=source_id, t=target_id)
        return self._with_sources(rows[0][0]) if rows and rows[0][0] else []

    def triples(self) -> Iterator[Triple]:
        rows = self._run(f"MATCH (h:{self.E})-[x]->(t:{self.E}) "
                         "RETURN h.id, type(x), t.id, x.confidence, x.imports")
        for i in range(0, len(rows), 2000):
            yield from self._with_sources(rows[i : i + 2000])

    def _with_sources(self, rows: list) -> list[Triple]:
        prov: dict[str, list[Provenance]] = defaultdict(list)
        keys = [fact_key(r[0], r[1], r[2]) for r in rows]
        for i in range(0, len(keys), 2000):
            for f, doc, s, e, sent, ext, conf in self._run(
                    f"UNWIND $fs AS f MATCH (s:{self.S} {{fact: f}}) "
                    "RETURN f, s.doc_id, s.start, s.end, s.sentence, s.extractor, s.confidence", fs=keys[i : i + 2000]):
                prov[f].append(Provenance(doc, s, e, sent, ext, None if conf is None else float(conf)))
        out = []
        for key, (h, rel, t, conf, imports) in zip(keys, rows):
            best: dict[Provenance, Provenance] = {}  # an import added below 1.0, then bulk-loaded: the best counts
            for x in prov[key] + [Provenance(src, 0, 0, "", "import", 1.0) for src in imports or ()]:
                if x not in best or (x.confidence or 0.0) > (best[x].confidence or 0.0):
                    best[x] = x
            p = sorted(best.values(), key=lambda x: (x.doc_id, x.start, x.end, x.sentence, x.extractor))
            out.append(Triple(h, rel, t, 1.0 if conf is None else float(conf), tuple(p)))
        return out

    def mentions_of(self, entity_id: str, limit: int = 20) -> list[tuple[str, int, int, str]]:
        return [tuple(r) for r in self._run(
            f"MATCH (m:{self.M} {{entity_id: $id}}) RETURN m.doc_id, m.start, m.end, m.text "
            "ORDER BY m.doc_id, m.start LIMIT $k", id=entity_id, k=int(limit))]

    def stats(self) -> StoreStats:
        E = self.E
        by_type = self._run(f"MATCH (e:{E}) WHERE NOT coalesce(e.stub, false) RETURN e.type, count(*)")
        by_rel = self._run(f"MATCH (:{E})-[x]->(:{E}) RETURN type(x), count(*)")
        order = lambda rows: tuple(sorted(((r[0], r[1]) for r in rows), key=lambda x: (-x[1], x[0])))  # noqa: E731
        return StoreStats(documents=self._run(f"MATCH (d:{self.D}) RETURN count(d)")[0][0],
                          entities=sum(r[1] for r in by_type), relations=sum(r[1] for r in by_rel),
                          by_type=order(by_type), by_relation=order(by_rel))

    def query(self, text: str, write: bool = False) -> QueryResult:
        """User Cypher. Without ``write`` it must not change anything: write clauses are refused up front, and the
        read transaction is rolled back if the server still reports an update (not every server enforces READ)."""
        if not write and _WRITE.search(_STRINGS.sub(" ", text)):
            raise KGError("This Cypher query writes to the graph; it is refused without --write.")

        def go() -> QueryResult:
            with self._session(read=not write) as s:
                tx = s.begin_transaction()
                try:
                    result = tx.run(text)
                    cols = tuple(result.keys())
                    rows = tuple(tuple(_plain(v) for v in r.values()) for r in result)
                    counters = result.consume().counters
                    if not write and (counters.contains_updates or counters.contains_system_updates):
                        tx.rollback()
                        raise KGError("This Cypher query changed the graph; rolled back. Add --write to allow it.")
                    tx.commit()
                    return QueryResult(cols, rows)
                finally:
                    if not tx.closed():
                        tx.rollback()

        return self._guard(go)

    def close(self) -> None:
        self._driver.close()


def _override(old: Entity, new: Entity) -> Entity:
    """The new name and type win, the old name staying on as an alias; aliases merged; new external ids win (as
    the embedded store does for a seed)."""
    kept = old.merged(new)
    aliases = set(kept.aliases) | ({old.name} if old.name != new.name else set())
    return Entity(old.id, new.name, new.type, tuple(sorted(aliases)), kept.external_ids)


def _entity(row: list) -> Entity:
    ext = json.loads(row[4] or "{}")
    return Entity(row[0], row[1], row[2], tuple(sorted(row[3] or ())), tuple(sorted(ext.items())))


def _plain(value: object) -> object:
    """Nodes and relationships as dicts, dates, times and durations as ISO 8601 text, points as Cypher's map form
    (``{srid, x, y[, z]}``), so results print and serialise."""
    if hasattr(value, "iso_format"):  # neo4j.time Date, Time, DateTime, Duration
        return value.iso_format()
    if hasattr(value, "srid") and isinstance(value, tuple):  # a neo4j.spatial Point
        return {"srid": value.srid, **dict(zip(("x", "y", "z"), value))}
    if hasattr(value, "items") and hasattr(value, "element_id"):
        out: dict = GraphNode(value.items()) if hasattr(value, "labels") else GraphRelationship(value.items())
        if hasattr(value, "labels"):
            out["_labels"] = sorted(value.labels)
        if hasattr(value, "type"):
            out["_type"] = value.type
        return out
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "nodes") and hasattr(value, "relationships"):
        path = GraphPath(nodes=[_plain(n) for n in value.nodes],
                         relationships=[_plain(r) for r in value.relationships])
        path.forward = tuple(getattr(r.start_node, "element_id", None) == n.element_id
                             for r, n in zip(value.relationships, value.nodes))
        return path
    return value


def _short(exc: BaseException) -> str:
    msg = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(msg).split())[:200]
