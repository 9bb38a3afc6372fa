"""The embedded default store: one SQLite file in WAL mode, crash-safe per document.

Every document is written in a single transaction (document, mentions, entities, facts and
their sources), so a killed ``ingest`` leaves either the whole document or none of it.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from kg.errors import KGError, not_a_source
from kg.names import KEY_VERSION, STALE_ROWS, STALE_RULE, name_keys, normalise
from kg.records import Document, Entity, Extraction, Mention, Provenance, Triple, one_per_id
from kg.claims import Stored, claim
from kg.sqlite_read import read_only_connection
from kg.store import BatchStored, QueryResult, SourceChange, StoreStats, load_in_batches

SCHEMA_VERSION = "1"
# what the names table holds, besides the key rule its keys follow (meta ``name_keys``), recorded in meta as
# ``name_rows``: 2, the keys of the entities' names and aliases only (before, a write that kept an entity's first
# name saved the key of the name it gave too, which no other backend did)
NAME_ROWS = "2"
_DDL = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entities(
    id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]', external_ids TEXT NOT NULL DEFAULT '{}',
    pinned INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS names(norm TEXT NOT NULL, entity_id TEXT NOT NULL,
    PRIMARY KEY(norm, entity_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS names_entity ON names(entity_id);
CREATE TABLE IF NOT EXISTS documents(id TEXT PRIMARY KEY, sha256 TEXT NOT NULL,
    source TEXT NOT NULL, text TEXT NOT NULL, added REAL NOT NULL);
CREATE TABLE IF NOT EXISTS mentions(doc_id TEXT NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, text TEXT NOT NULL, label TEXT NOT NULL, entity_id TEXT, score REAL);
CREATE INDEX IF NOT EXISTS mentions_doc ON mentions(doc_id);
CREATE INDEX IF NOT EXISTS mentions_entity ON mentions(entity_id);
CREATE TABLE IF NOT EXISTS triples(id INTEGER PRIMARY KEY, head TEXT NOT NULL,
    relation TEXT NOT NULL, tail TEXT NOT NULL, confidence REAL NOT NULL,
    UNIQUE(head, relation, tail));
CREATE INDEX IF NOT EXISTS triples_tail ON triples(tail, relation);
CREATE TABLE IF NOT EXISTS sources(triple_id INTEGER NOT NULL, doc_id TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, sentence TEXT NOT NULL,
    extractor TEXT NOT NULL, confidence REAL NOT NULL,
    UNIQUE(triple_id, doc_id, start, "end", extractor));
CREATE INDEX IF NOT EXISTS sources_doc ON sources(doc_id);
CREATE TABLE IF NOT EXISTS seeded(source TEXT NOT NULL, entity_id TEXT NOT NULL, aliases TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY(source, entity_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seeded_entity ON seeded(entity_id);
"""
# the entities among a JSON list of ids that nothing holds any more (not pinned, no seed lists them, no mention, no
# fact) go; returns their ids
_DROP_UNHELD = ("DELETE FROM entities WHERE id IN (SELECT value FROM json_each(?)) AND pinned=0 "
                "AND NOT EXISTS (SELECT 1 FROM seeded WHERE entity_id=entities.id) "
                "AND NOT EXISTS (SELECT 1 FROM mentions WHERE entity_id=entities.id) "
                "AND NOT EXISTS (SELECT 1 FROM triples WHERE head=entities.id) "
                "AND NOT EXISTS (SELECT 1 FROM triples WHERE tail=entities.id) RETURNING id")


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the graph in a folder this process cannot write (see :func:`read_only_connection`)."""
    return read_only_connection(path, "SELECT value FROM meta WHERE key='schema_version'", "the graph",
                                lambda exc: KGError(f"{path} is not a kgnlp graph database ({exc})."))


_SCHEMA_NAMES = frozenset(re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", _DDL))


def _has_schema(conn: sqlite3.Connection) -> bool:
    """Whether the database holds every table and index of ``_DDL`` and its schema version (an older graph may lack
    a table added since: creating it needs the write lock)."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
    return _SCHEMA_NAMES <= names and bool(conn.execute("SELECT 1 FROM meta WHERE key='schema_version'").fetchone())


def _locked(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _open_error(path: Path, exc: sqlite3.Error) -> KGError:
    """One line for a graph file that cannot be opened: busy (a writer holds it past the busy timeout) or not ours."""
    if _locked(exc):
        return KGError(f"The graph at {path} is busy: another kgnlp process is writing it; try again when it is done.")
    return KGError(f"{path} is not a kgnlp graph database ({exc}).")


def _check_graph_file(path: Path) -> None:
    """Refuse a graph file that is missing or empty (0 bytes: made, never written), which opening would make or
    initialise, writing tables into the workspace of a command that only reads."""
    if not path.exists():
        raise KGError(f"No graph at {path}. Run `kgnlp ingest` first or pass the right --workspace.")
    if path.is_file() and path.stat().st_size == 0:
        raise KGError(f"The graph file {path} is empty (0 bytes): no graph was written there. Run `kgnlp ingest` to "
                      "make one, or pass the right --workspace.")


class SQLiteStore:
    """``GraphStore`` over a single SQLite file. Open it with :meth:`open`."""

    name = "embedded"

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.file = path
        # what is out of date in the lookup keys, left as it was (see open and :meth:`_stale_name_keys`)
        self.stale_name_keys: frozenset[str] = frozenset()

    @classmethod
    def open(cls, path: str | Path, create: bool = True, durable: bool = True,
             read_only: bool = False) -> "SQLiteStore":
        """Open (and with ``create``, make) the store file at ``path``. ``read_only``: the caller only reads, so a
        folder this process cannot write (a read-only workspace) is no obstacle (see :func:`_read_only`), and a
        missing or empty (0-byte) file is refused, as without ``create``, not made into a graph."""
        path = Path(path)
        if not create or read_only:
            _check_graph_file(path)
        if read_only and not os.access(path.parent, os.W_OK):  # the file exists: checked above
            store = cls(_read_only(path), path)
            store.stale_name_keys = store._stale_name_keys()  # no write can bring them up to date here
            return store
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = None
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a document reported as stored survives power loss, not only a killed process.
            conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            conn.execute("PRAGMA foreign_keys=OFF")
            if not (read_only and _has_schema(conn)):  # a reader of a whole graph asks for no write lock
                conn.executescript(_DDL)
                conn.execute("INSERT OR IGNORE INTO meta VALUES('schema_version', ?)", (SCHEMA_VERSION,))
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise _open_error(path, exc) from exc
        store = cls(conn, path)
        try:
            store._update_name_keys()
        except sqlite3.OperationalError as exc:
            if not read_only or not _locked(exc):
                conn.close()
                raise _open_error(path, exc) from exc
            store.stale_name_keys = store._stale_name_keys_or_all()  # a writer holds it past the busy timeout
        return store

    def _stale_name_keys_or_all(self) -> frozenset[str]:
        """:meth:`_stale_name_keys`, or, when the graph is too busy to say, every kind: the keys are read as they
        are, and a lookup may miss what today's would find."""
        try:
            return self._stale_name_keys()
        except sqlite3.OperationalError as exc:
            if not _locked(exc):
                self._conn.close()
                raise _open_error(self.file, exc) from exc
            return frozenset({STALE_RULE, STALE_ROWS})

    def _stale_name_keys(self) -> frozenset[str]:
        """What is out of date in the lookup names: ``STALE_RULE``, they were made by another key rule than
        ``normalise``'s (``kg.names.KEY_VERSION``); ``STALE_ROWS``, they may hold keys of names no entity has
        (``NAME_ROWS``). Empty when they are current."""
        meta = dict(self._conn.execute("SELECT key, value FROM meta WHERE key IN ('name_keys', 'name_rows')"))
        return frozenset(what for what, key, now in ((STALE_RULE, "name_keys", str(KEY_VERSION)),
                                                     (STALE_ROWS, "name_rows", NAME_ROWS)) if meta.get(key) != now)

    def _update_name_keys(self) -> None:
        """Remake every lookup name, once, when the store's were made by another key rule than ``normalise``'s
        (``kg.names.KEY_VERSION``, recorded in ``meta`` as ``name_keys``; a store without it has version 1) or may
        hold keys of names no entity has (``NAME_ROWS``), and store an alias held twice once."""
        if not self._stale_name_keys():
            return
        with self._transaction():
            if not self._stale_name_keys():  # another process did it meanwhile
                return
            self._conn.execute("DELETE FROM names")
            rows = self._conn.execute("SELECT id, name, aliases FROM entities").fetchall()
            self._conn.executemany("INSERT OR IGNORE INTO names VALUES(?,?)", [
                (n, eid) for eid, name, aliases in rows for n in name_keys((name, *json.loads(aliases)))])
            # a store written before an alias given twice was stored once may hold one twice: keep it once
            self._conn.execute("UPDATE entities SET aliases=(SELECT json_group_array(DISTINCT value) FROM "
                               "json_each(entities.aliases)) WHERE json_array_length(aliases) > "
                               "(SELECT count(DISTINCT value) FROM json_each(entities.aliases))")
            self._conn.executemany("INSERT OR REPLACE INTO meta VALUES(?, ?)",
                                   [("name_keys", str(KEY_VERSION)), ("name_rows", NAME_ROWS)])

    # ---- writing -------------------------------------------------------------------------
    def add(self, triples: Iterable[Triple], entities: Iterable[Entity] = (), pinned: bool = True,
            override: bool = False) -> None:
        with self._transaction():
            self._put_entities(entities, pinned=int(pinned), override=override)
            self._put_triples(triples)

    def add_extraction(self, extraction: Extraction, content_hash: str) -> None:
        doc = extraction.document
        with self._transaction():
            self._delete_document(doc.id)
            self._conn.execute(
                "INSERT INTO documents VALUES(?,?,?,?,?)",
                (doc.id, content_hash, doc.source, doc.text, time.time()),
            )
            self._put_entities(extraction.entities, pinned=0)
            self._conn.executemany(
                'INSERT INTO mentions VALUES(?,?,?,?,?,?,?)',
                [(doc.id, m.start, m.end, m.text, m.label, m.entity_id, m.score) for m in extraction.mentions],
            )
            self._put_triples(extraction.triples)

    def _put_entities(self, entities: Iterable[Entity], pinned: int, override: bool = False,
                      seed: bool = False, stored: Mapping[str, Stored] | None = None) -> None:
        # pinned=1: imported (or added), kept when no document mentions it any more; a seed's entities are held by
        # its rows in `seeded` instead. override (a seed, the curated source): its name and type replace the stored
        # ones, a replaced name staying on as an alias. seed: the seed's own write, whose aliases `_claim` recorded.
        # stored: the stored entities among them (their names), when the caller (`_claim`) read them already.
        entities = one_per_id(entities, override)  # an id given twice is one row, whichever store takes it
        if not seed and (held := self._claims([e.id for e in entities if e.aliases])):
            # an alias a seed gave is now this source's too (a seed's record is only ever of a stored entity)
            by_id = {e.id: set(e.aliases) for e in entities}
            self._conn.executemany("UPDATE seeded SET aliases=? WHERE source=? AND entity_id=?", [
                (json.dumps([a for a in aliases if a not in by_id[eid]]), src, eid)
                for (src, eid), aliases in held.items() if by_id[eid] & set(aliases)])
        if override:
            if stored is None:
                stored = self._stored([e.id for e in entities])
            old = {e.id: stored[e.id].name for e in entities if e.id in stored}
            self._conn.executemany("UPDATE entities SET name=?, type=? WHERE id=?",
                                   [(e.name, e.type, e.id) for e in entities if e.id in old])
            entities = [replace(e, aliases=tuple(dict.fromkeys((*e.aliases, old[e.id]))))
                        if e.id in old and old[e.id] != e.name else e for e in entities]
        rows, names, own = [], [], []
        for ent in entities:
            aliases = json.dumps(list(dict.fromkeys(ent.aliases)))  # an alias given twice is stored once
            rows.append((ent.id, ent.name, ent.type, aliases, json.dumps(ent.external()), pinned))
            names.extend((n, ent.id) for n in name_keys(ent.aliases))
            own.extend((n, ent.id, ent.name) for n in name_keys([ent.name]))
        # Keep the first name and type an entity was given; merge in new aliases.
        self._conn.executemany(
            "INSERT INTO entities VALUES(?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET pinned=max(pinned, excluded.pinned), "
            "aliases=json((SELECT json_group_array(value) FROM (SELECT value FROM json_each(entities.aliases) "
            "UNION SELECT value FROM json_each(excluded.aliases)))), "
            "external_ids=json_patch(entities.external_ids, excluded.external_ids)",
            rows,
        )
        self._conn.executemany("INSERT OR IGNORE INTO names VALUES(?,?)", names)
        # a name's key only where the entity took that name: one stored already keeps its first (without override),
        # and a name it never had is no key of it, as on every backend
        self._conn.executemany("INSERT OR IGNORE INTO names SELECT ?, id FROM entities WHERE id=? AND name=?", own)

    def _claims(self, ids: list[str]) -> dict[tuple[str, str], list[str]]:
        """(source, entity id) -> the aliases that seed gave, for every seed that lists one of ``ids``."""
        if not ids:
            return {}
        return {(r[0], r[1]): json.loads(r[2]) for r in self._conn.execute(
            "SELECT source, entity_id, aliases FROM seeded WHERE entity_id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),))}

    def _stored(self, ids: list[str]) -> dict[str, Stored]:
        """The name and aliases of the stored entities among ``ids``."""
        return {r[0]: Stored(r[1], frozenset(json.loads(r[2]))) for r in self._conn.execute(
            "SELECT id, name, aliases FROM entities WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),))}

    def _claim(self, source: str, entities: list[Entity]
               ) -> tuple[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], dict[str, Stored]]:
        """Record what seed ``source`` now gives and take back what it gave before and no longer lists (the decision
        is :func:`kg.claims.claim`). Runs before the seed's entities are written. Returns the entities and the
        ``(entity id, alias)`` pairs taken back, and the stored entities it read (as they were before it), which
        the seed's write of its entities takes on."""
        c = self._conn
        ids = sorted({eid for (eid,) in c.execute("SELECT entity_id FROM seeded WHERE source=?", (source,))}
                     | {e.id for e in entities})
        before: dict[str, set[str]] = {}
        others: dict[str, set[str]] = defaultdict(set)  # a key for each entity another seed lists
        for (src, eid), aliases in self._claims(ids).items():
            if src == source:
                before[eid] = set(aliases)
            else:
                others[eid].update(aliases)
        stored = self._stored(ids)
        plan = claim(entities, before, others, stored)
        c.executemany("DELETE FROM seeded WHERE source=? AND entity_id=?", [(source, e) for e in plan.unlisted])
        c.executemany("INSERT OR REPLACE INTO seeded VALUES(?,?,?)",
                      [(source, eid, json.dumps(list(aliases))) for eid, aliases in plan.records])
        c.executemany("UPDATE entities SET aliases=(SELECT json_group_array(value) FROM json_each(aliases) "
                      "WHERE value NOT IN (SELECT value FROM json_each(?))) WHERE id=?",
                      [(json.dumps(sorted(gone)), eid) for eid, gone in plan.dropped.items()])
        self._rename({eid: (stored[eid].name, stored[eid].aliases - gone) for eid, gone in plan.dropped.items()})
        removed = self._drop_unheld(list(plan.free))
        return (tuple(removed), plan.taken_back(removed)), stored

    def _rename(self, surfaces: dict[str, tuple[str, Iterable[str]]]) -> None:
        """Rebuild the lookup names of entities from their (name, aliases)."""
        self._conn.executemany("DELETE FROM names WHERE entity_id=?", [(eid,) for eid in surfaces])
        self._conn.executemany("INSERT OR IGNORE INTO names VALUES(?,?)", [
            (n, eid) for eid, (name, aliases) in surfaces.items() for n in name_keys((name, *aliases))])

    def _drop_unheld(self, ids: list[str]) -> list[str]:
        """Delete the entities among ``ids`` that nothing holds any more, with their lookup names; returns their
        ids, sorted."""
        if not ids:
            return []
        gone = sorted(r[0] for r in self._conn.execute(_DROP_UNHELD, (json.dumps(ids),)).fetchall())
        if gone:
            self._conn.execute("DELETE FROM names WHERE entity_id IN (SELECT value FROM json_each(?))",
                               (json.dumps(gone),))
        return gone

    def _put_triples(self, triples: Iterable[Triple]) -> None:
        """Merge facts in (a fact keeps its best confidence) with their sources: one statement for the facts and one
        for the sources, each run over every row, instead of an insert and a read of its id per fact."""
        triples = list(triples)
        self._conn.executemany(
            "INSERT INTO triples(head, relation, tail, confidence) VALUES(?,?,?,?) "
            "ON CONFLICT(head, relation, tail) DO UPDATE SET confidence=max(confidence, excluded.confidence)",
            [(t.head_id, t.relation, t.tail_id, t.confidence) for t in triples])
        self._conn.executemany(  # each source keeps its own best confidence: the fact's is recomputed from them
            "INSERT INTO sources SELECT id, ?, ?, ?, ?, ?, ? FROM triples WHERE head=? AND relation=? AND tail=? "
            'ON CONFLICT(triple_id, doc_id, start, "end", extractor) DO UPDATE SET confidence=max(confidence, '
            "excluded.confidence)",
            [(p.doc_id, p.start, p.end, p.sentence, p.extractor, t.confidence if p.confidence is None else p.confidence,
              *t.key) for t in triples for p in t.provenance])

    def bulk_load(self, triples: Iterable[tuple[str, str, str]], entities: Iterable[Entity] = (),
                  source: str = "import", batch: int = 50_000, stored: BatchStored | None = None) -> int:
        """Fast load of plain facts (no sentence provenance), a transaction per batch; returns facts added."""
        with self._transaction():
            self._put_entities(entities, pinned=1)
        return load_in_batches(triples, batch, lambda rows: self._bulk(rows, source), stored)

    def _bulk(self, rows: Sequence[tuple[str, str, str]], source: str) -> int:
        with self._transaction():
            before = self._conn.total_changes
            self._conn.executemany(
                "INSERT OR IGNORE INTO triples(head, relation, tail, confidence) VALUES(?,?,?,1.0)", rows)
            added = self._conn.total_changes - before
            self._conn.executemany(  # an import's source has confidence 1.0: the best a fact can have
                "UPDATE triples SET confidence=1.0 WHERE head=? AND relation=? AND tail=? AND confidence<1.0", rows)
            self._conn.executemany(  # the same source added before with less confidence (`add`) is now sure
                "INSERT INTO sources SELECT id, ?, 0, 0, '', 'import', 1.0 FROM triples "
                "WHERE head=? AND relation=? AND tail=? "
                'ON CONFLICT(triple_id, doc_id, start, "end", extractor) DO UPDATE SET confidence=1.0',
                [(source, *r) for r in rows])
        return added

    def mark_stale(self, doc_ids: Iterable[str]) -> None:
        with self._transaction():
            self._conn.executemany("UPDATE documents SET sha256='' WHERE id=?", [(i,) for i in doc_ids])

    def remove_document(self, doc_id: str) -> int:
        if not self.has_document(doc_id):
            raise KGError(f"No document '{doc_id}' in the store. `kgnlp documents` lists them.")
        with self._transaction():
            return len(self._delete_document(doc_id))

    def replace_source(self, source: str, triples: Iterable[Triple], entities: Iterable[Entity] = ()) -> SourceChange:
        if self.has_document(source):
            raise KGError(not_a_source(source))
        triples = list(triples)
        entities = list(entities)
        with self._transaction():
            gone = self._delete_document(source)
            self._put_triples(triples)
            taken, stored = self._claim(source, entities)
            self._put_entities(entities, pinned=0, override=True, seed=True, stored=stored)
        return SourceChange(len(gone - {t.key for t in triples}), *taken)

    def _delete_document(self, doc_id: str) -> set[tuple[str, str, str]]:
        """Delete a document's (or another source's) rows; returns the facts that went with them."""
        c = self._conn
        touched = c.execute("SELECT DISTINCT triple_id FROM sources WHERE doc_id=?", (doc_id,)).fetchall()
        ents = [r[0] for r in c.execute("SELECT DISTINCT entity_id FROM mentions WHERE doc_id=?", (doc_id,))]
        c.execute("DELETE FROM sources WHERE doc_id=?", (doc_id,))
        c.execute("DELETE FROM mentions WHERE doc_id=?", (doc_id,))
        c.execute("DELETE FROM documents WHERE id=?", (doc_id,))
        removed: set[tuple[str, str, str]] = set()
        if touched:
            tids = json.dumps([r[0] for r in touched])
            removed = {tuple(r) for r in c.execute(
                "DELETE FROM triples WHERE id IN (SELECT value FROM json_each(?)) "
                "AND NOT EXISTS (SELECT 1 FROM sources WHERE triple_id=triples.id) RETURNING head, relation, tail",
                (tids,)).fetchall()}
            # the others take the best of the sources left: the one removed may have been the best
            c.execute("UPDATE triples SET confidence=(SELECT max(confidence) FROM sources WHERE triple_id=triples.id) "
                      "WHERE id IN (SELECT value FROM json_each(?))", (tids,))
        # Entities first seen in this document go too, once nothing else mentions or relates them.
        self._drop_unheld([e for e in ents if e])
        return removed

    # ---- reading -------------------------------------------------------------------------
    def has_document(self, doc_id: str, content_hash: str | None = None) -> bool:
        row = self._conn.execute("SELECT sha256 FROM documents WHERE id=?", (doc_id,)).fetchone()
        return row is not None and (content_hash is None or row[0] == content_hash)

    def document_ids(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT id FROM documents ORDER BY id")]

    def pinned_ids(self, seeds: bool = True) -> set[str]:
        seeded = " UNION SELECT entity_id FROM seeded JOIN entities ON id=entity_id" if seeds else ""
        return {r[0] for r in self._conn.execute("SELECT id FROM entities WHERE pinned=1" + seeded)}

    def seedings(self) -> Iterator[tuple[str, str, tuple[str, ...]]]:
        for src, eid, aliases in self._conn.execute("SELECT source, entity_id, s.aliases FROM seeded s JOIN entities "
                                                    "ON id=entity_id ORDER BY source, entity_id").fetchall():
            yield src, eid, tuple(sorted(json.loads(aliases)))

    def document_sources(self) -> dict[str, str]:
        return dict(self._conn.execute("SELECT id, source FROM documents ORDER BY id").fetchall())

    def document_text(self, doc_id: str) -> str | None:
        row = self._conn.execute("SELECT text FROM documents WHERE id=?", (doc_id,)).fetchone()
        return row[0] if row else None

    def extractions(self) -> Iterator[tuple[Extraction, str]]:
        for doc_id, sha, source, text in self._conn.execute("SELECT id, sha256, source, text FROM documents ORDER BY id").fetchall():
            mentions = tuple(Mention(*r) for r in self._conn.execute(
                'SELECT start, "end", text, label, entity_id, score FROM mentions WHERE doc_id=? ORDER BY rowid',
                (doc_id,)))
            yield Extraction(Document(doc_id, text, source), mentions), sha

    def entity(self, entity_id: str) -> Entity | None:
        row = self._conn.execute("SELECT * FROM entities WHERE id=?", (entity_id,)).fetchone()
        return _entity(row) if row else None

    def find_entities(self, name: str, limit: int = 10) -> list[Entity]:
        norm = normalise(name)
        if not norm:
            return []
        # the contract's order (kg.store.lookup_order) in SQL: BINARY text order is code point order, as Python's
        rows = self._conn.execute(
            "SELECT e.* FROM names n JOIN entities e ON e.id=n.entity_id WHERE n.norm=? ORDER BY e.name, e.id LIMIT ?",
            (norm, limit)).fetchall()
        if len(rows) < limit:  # the exact matches come first here too: their key is the shortest that holds norm
            rows = self._conn.execute(  # instr, not LIKE: a LIKE pattern over 50,000 bytes is an SQLite error
                "SELECT e.* FROM (SELECT entity_id, min(length(norm)) AS l FROM names WHERE instr(norm, ?) > 0 "
                "GROUP BY entity_id) n JOIN entities e ON e.id=n.entity_id ORDER BY n.l, e.name, e.id LIMIT ?",
                (norm, limit)).fetchall()
        return [_entity(r) for r in rows]

    def entities(self) -> Iterator[Entity]:
        for row in self._conn.execute("SELECT * FROM entities ORDER BY id"):
            yield _entity(row)

    def names(self) -> Iterator[tuple[str, str, str]]:
        """(surface name, entity id, type) for every name and alias: the gazetteer's input."""
        for ent in self.entities():
            for n in (ent.name, *ent.aliases):
                yield n, ent.id, ent.type

    def neighbours(self, entity_id: str, hops: int = 1, relation: str | None = None) -> list[Triple]:
        if hops < 1:
            raise KGError(f"--hops must be at least 1, got {hops}.")
        seen_nodes, frontier, found = {entity_id}, {entity_id}, {}
        rel_sql, rel_arg = (" AND relation=?", (relation,)) if relation else ("", ())
        for _ in range(hops):
            nxt: set[str] = set()
            for node in frontier:
                for row in self._conn.execute(
                    f"SELECT id, head, relation, tail, confidence FROM triples WHERE head=?{rel_sql} "
                    f"UNION ALL SELECT id, head, relation, tail, confidence FROM triples WHERE tail=?{rel_sql}",
                    (node, *rel_arg, node, *rel_arg),
                ):
                    found[row[0]] = row
                    nxt.update((row[1], row[3]))
            frontier = nxt - seen_nodes
            seen_nodes |= nxt
            if not frontier:
                break
        return self._with_sources(found.values())

    def path(self, source_id: str, target_id: str, max_hops: int = 4) -> list[Triple]:
        """Bidirectional breadth-first search, expanding the smaller frontier one level per query, so hubs
        are met from both ends instead of being walked through."""
        if source_id == target_id:
            return []
        sides: tuple[dict[str, tuple | None], dict[str, tuple | None]] = ({source_id: None}, {target_id: None})
        fronts = [[source_id], [target_id]]
        meet = None
        for _ in range(max_hops):
            i = 0 if len(fronts[0]) <= len(fronts[1]) else 1
            seen, other, nxt, front = sides[i], sides[1 - i], [], set(fronts[i])
            for row in self._edges_of(fronts[i]):
                for node, n2 in ((row[1], row[3]), (row[3], row[1])):
                    if node in front and n2 not in seen:
                        seen[n2] = (node, row)
                        nxt.append(n2)
                        if n2 in other and meet is None:
                            meet = n2
            fronts[i] = nxt
            if meet is not None or not nxt:
                break
        if meet is None:
            return []
        rows, node = [], meet
        while sides[0][node] is not None:
            node, row = sides[0][node]
            rows.append(row)
        rows.reverse()
        node = meet
        while sides[1][node] is not None:
            node, row = sides[1][node]
            rows.append(row)
        return self._with_sources(rows)

    def _edges_of(self, nodes: list[str]) -> Iterator[tuple]:
        """Every fact touching any of ``nodes`` (either end), in chunks SQLite can take."""
        for i in range(0, len(nodes), 450):
            part = nodes[i : i + 450]
            marks = ",".join("?" * len(part))
            yield from self._conn.execute(
                f"SELECT id, head, relation, tail, confidence FROM triples WHERE head IN ({marks}) "
                f"UNION ALL SELECT id, head, relation, tail, confidence FROM triples WHERE tail IN ({marks})",
                (*part, *part))

    def triples(self) -> Iterator[Triple]:
        cur = self._conn.execute("SELECT id, head, relation, tail, confidence FROM triples ORDER BY id")
        while chunk := cur.fetchmany(2000):
            yield from self._with_sources(chunk)

    def _with_sources(self, rows: Iterable[tuple]) -> list[Triple]:
        rows = list(rows)
        prov: dict[int, list[Provenance]] = defaultdict(list)
        ids = [r[0] for r in rows]
        for i in range(0, len(ids), 900):
            part = ids[i : i + 900]
            marks = ",".join("?" * len(part))
            for tid, doc, s, e, sent, ext, conf in self._conn.execute(
                f'SELECT triple_id, doc_id, start, "end", sentence, extractor, confidence FROM sources '
                f"WHERE triple_id IN ({marks}) ORDER BY doc_id, start", part
            ):
                prov[tid].append(Provenance(doc, s, e, sent, ext, conf))
        return [Triple(r[1], r[2], r[3], r[4], tuple(prov[r[0]])) for r in rows]

    def mentions_of(self, entity_id: str, limit: int = 20) -> list[tuple[str, int, int, str]]:
        """(doc id, start, end, text) of the places an entity is mentioned."""
        return self._conn.execute(
            'SELECT doc_id, start, "end", text FROM mentions WHERE entity_id=? ORDER BY doc_id, start LIMIT ?',
            (entity_id, limit)).fetchall()

    def stats(self) -> StoreStats:
        one = lambda sql: self._conn.execute(sql).fetchone()[0]  # noqa: E731
        return StoreStats(
            documents=one("SELECT count(*) FROM documents"),
            entities=one("SELECT count(*) FROM entities"),
            relations=one("SELECT count(*) FROM triples"),
            by_type=tuple(self._conn.execute("SELECT type, count(*) FROM entities GROUP BY type ORDER BY 2 DESC, 1")),
            by_relation=tuple(  # most first, ties by name: the order of every backend
                self._conn.execute("SELECT relation, count(*) FROM triples GROUP BY relation ORDER BY 2 DESC, 1")),
        )

    def query(self, text: str, write: bool = False) -> QueryResult:
        """SQL over the store's tables; a read-only connection unless ``write``."""
        conn = self._conn if write else sqlite3.connect(f"file:{self.file}?mode=ro", uri=True)
        try:
            cur = conn.execute(text)
            cols = tuple(d[0] for d in cur.description or ())
            return QueryResult(cols, tuple(tuple(r) for r in cur.fetchall()))
        except sqlite3.Error as exc:
            hint = " Add --write to change data." if "readonly" in str(exc) else ""
            raise KGError(f"SQL query failed: {exc}.{hint}") from exc
        finally:
            if conn is not self._conn:
                conn.close()

    def close(self) -> None:
        self._conn.close()

    def _transaction(self) -> "_Tx":
        return _Tx(self._conn)


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _entity(row: tuple) -> Entity:
    ext = json.loads(row[4] or "{}")
    # aliases sorted, as every backend gives them (not in the order they were first given)
    return Entity(row[0], row[1], row[2], tuple(sorted(json.loads(row[3]))), tuple(sorted(ext.items())))
