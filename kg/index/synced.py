"""An index folder that stays in step with the store: FAISS vectors + item table + manifest.

``<workspace>/index/<kind>/`` holds ``index.faiss``, ``items.sqlite`` (id -> text and what it points
to) and ``manifest.json`` (what the index holds: count, a digest of the ids, the embedder, and the
store fingerprint at the last sync). :meth:`SyncedIndex.problems` compares the three; any mismatch
(a crash between writes, a different embedder, a hand-edited file) means a rebuild, never a
silently wrong answer.

An index opened ``read_only`` (what reading commands do) changes nothing on disk: no folder is made, its item table
is read through a read-only connection, and a sync happens in memory (the item table copied there first) and is
not saved.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

import numpy as np

from kg.errors import KGError
from kg.files import make_folder
from kg.index.items import IndexItem, text_hash
from kg.index.vectors import APPROXIMATE_FROM, VectorIndex, choose_type
from kg.records import Provenance

Progress = Callable[[int, int], None]  # (texts embedded, texts to embed)
FORMAT = 1
_DDL = """
CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, key TEXT NOT NULL, text TEXT NOT NULL,
    text_hash TEXT NOT NULL, digest TEXT NOT NULL, label TEXT NOT NULL, data TEXT NOT NULL, norm TEXT);
CREATE TABLE IF NOT EXISTS item_entities(entity_id TEXT NOT NULL, item_id INTEGER NOT NULL,
    PRIMARY KEY(entity_id, item_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_norm ON items(norm);
CREATE TABLE IF NOT EXISTS item_sentences(head TEXT NOT NULL, item_id INTEGER NOT NULL,
    PRIMARY KEY(head, item_id)) WITHOUT ROWID;
"""
HEAD = 16  # item_sentences: the first characters of a provenance sentence, what items_read_in looks up
_TABLES = 1  # PRAGMA user_version: 1 = item_sentences is filled (older item tables get it on open)


class Encoder(Protocol):
    """What the indexes need from a text embedder (``nlp.embedder.Embedder`` is one)."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 rows, one per text."""


@dataclass(frozen=True)
class Manifest:
    kind: str
    index_type: str
    dim: int
    embedder: str
    count: int
    ids_digest: str
    store_fingerprint: str
    updated: float
    format: int = FORMAT


@dataclass(frozen=True, eq=False)
class SyncPlan:
    kind: str
    desired: dict[int, IndexItem]
    to_add: list[IndexItem]
    to_remove: list[int]
    to_update: list[IndexItem]
    full: bool
    reasons: tuple[str, ...]
    index_type: str

    @property
    def work(self) -> int:
        """Texts to embed."""
        return len(self.to_add)


@dataclass(frozen=True)
class IndexReport:
    """What one sync did."""

    kind: str
    added: int
    removed: int
    updated: int
    total: int
    rebuilt: bool
    reason: str
    index_type: str
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def choose_threshold(approximate_from: int | None) -> int:
    return approximate_from or APPROXIMATE_FROM


def ids_digest(ids: Iterable[int]) -> str:
    arr = np.sort(np.fromiter(ids, dtype=np.int64))
    return hashlib.blake2b(arr.tobytes(), digest_size=12).hexdigest()


class SyncedIndex:
    """One kind of index in its folder. :meth:`open` reads it; :meth:`sync` brings it in step."""

    def __init__(self, folder: Path, kind: str, manifest: Manifest | None, vectors: VectorIndex | None,
                 conn: sqlite3.Connection, read_only: bool = False) -> None:
        self.folder, self.kind, self.manifest, self.vectors, self.conn = folder, kind, manifest, vectors, conn
        self.read_only = read_only
        self.load_error = ""

    @classmethod
    def open(cls, folder: str | Path, kind: str, read_only: bool = False) -> "SyncedIndex":
        """The index in ``folder`` (made when missing, unless ``read_only``: then a missing index is an empty one
        in memory, and nothing in the folder is ever written)."""
        folder = Path(folder)
        if read_only:
            conn = _read_only_table(folder / "items.sqlite")
        else:
            make_folder(folder, "index folder", "kgnlp index")
            conn = sqlite3.connect(folder / "items.sqlite", isolation_level=None, check_same_thread=False)
            conn.executescript(_DDL)
            _fill_sentences(conn)
        manifest, vectors, error = None, None, ""
        mpath = folder / "manifest.json"
        if mpath.exists():
            try:
                manifest = Manifest(**json.loads(mpath.read_text(encoding="utf-8")))
                vectors = VectorIndex.load(folder / "index.faiss", manifest.index_type, manifest.dim)
            except (ValueError, TypeError, KGError, OSError) as exc:
                error = f"unreadable index files ({exc})"
        out = cls(folder, kind, manifest, vectors, conn, read_only)
        out.load_error = error
        return out

    @staticmethod
    def exists(folder: str | Path) -> bool:
        return (Path(folder) / "manifest.json").exists()

    def close(self) -> None:
        self.conn.close()

    # ---- consistency ---------------------------------------------------------------------
    def problems(self, embedder: str | None = None) -> list[str]:
        """Why this index cannot be trusted as it is (empty list: consistent with itself)."""
        if self.load_error:
            return [self.load_error]
        if self.manifest is None or self.vectors is None:
            return ["no index built yet"]
        m, out = self.manifest, []
        held = [r[0] for r in self.conn.execute("SELECT id FROM items")]
        if m.format != FORMAT:
            out.append(f"index format {m.format}, this version writes {FORMAT}")
        if embedder is not None and m.embedder != embedder:
            out.append(f"built with embedder '{m.embedder}', now using '{embedder}'")
        if len(self.vectors) != m.count or len(held) != m.count:
            out.append(f"manifest says {m.count} vectors, FAISS holds {len(self.vectors)}, item table {len(held)}")
        elif ids_digest(held) != m.ids_digest:
            out.append("item table ids differ from the manifest")
        else:
            faiss_ids = self.vectors.ids()
            if faiss_ids is not None and ids_digest(faiss_ids) != m.ids_digest:
                out.append("FAISS ids differ from the manifest")
        return out

    def in_step_with(self, fingerprint: str) -> bool:
        return self.manifest is not None and self.manifest.store_fingerprint == fingerprint

    # ---- updating ------------------------------------------------------------------------
    def plan(self, items: Iterable[IndexItem], encoder: Encoder, rebuild: bool = False,
             approximate_from: int | None = None, index_type: str | None = None) -> SyncPlan:
        """What a sync would do: add what the store has and the index lacks, remove what the store no
        longer has, re-embed changed text, rewrite changed pointers; or rebuild, and why."""
        desired = {it.id: it for it in items}
        reasons = [] if rebuild else self.problems(encoder.name)
        if self.manifest is None and not self.load_error:
            reasons = []  # a first build, not a repair
        extra = {"approximate_from": approximate_from} if approximate_from else {}
        want_type = index_type or choose_type(len(desired), **extra)
        if index_type is None and self.vectors is not None and self.vectors.index_type != "flat" \
                and want_type == "flat" and len(desired) >= choose_threshold(approximate_from) // 2:
            want_type = self.vectors.index_type  # hysteresis: no rebuild back and forth around the threshold
        if self.vectors is not None and not reasons and not rebuild and self.vectors.index_type != want_type:
            reasons.append(f"{len(desired)} items: switching from {self.vectors.index_type} to {want_type}")
        full = rebuild or bool(reasons) or self.vectors is None
        held = {} if full else self._held()
        changed = {i for i, it in desired.items() if i in held and held[i][0] != text_hash(it.text)}
        to_remove = [i for i in held if i not in desired] + sorted(changed)
        to_add = [it for i, it in desired.items() if i not in held or i in changed]
        to_update = [it for i, it in desired.items() if i in held and i not in changed and held[i][1] != _digest(it)]
        return SyncPlan(self.kind, desired, to_add, to_remove, to_update, full, tuple(reasons), want_type)

    def apply(self, plan: SyncPlan, encoder: Encoder, fingerprint: str,
              progress: Progress | None = None, batch: int = 256) -> IndexReport:
        """Carry out a plan: embed, update FAISS and the item table, then write the manifest last (for an index
        opened ``read_only``: all in memory, nothing saved)."""
        started = time.perf_counter()
        vecs = self._embed([it.text for it in plan.to_add], encoder, progress, batch)
        if self.read_only:
            self.conn = _in_memory(self.conn)
        if plan.full:
            train = None
            kind = "flat" if plan.index_type == "ivf" and len(vecs) < 64 else plan.index_type
            if kind == "ivf":
                train = vecs[np.random.default_rng(0).choice(len(vecs), min(len(vecs), 100_000), replace=False)]
            index = VectorIndex.create(encoder.dim, kind, train=train)
            self.conn.execute("BEGIN")
            self.conn.execute("DELETE FROM items")
            self.conn.execute("DELETE FROM item_entities")
            self.conn.execute("DELETE FROM item_sentences")
        else:
            index = self.vectors  # type: ignore[assignment]
            self.conn.execute("BEGIN")
        try:
            index.remove(np.array(plan.to_remove, dtype=np.int64))
            add_ids = np.array([it.id for it in plan.to_add], dtype=np.int64)
            if index.needs_compaction or (len(index.deleted) and np.isin(add_ids, index.deleted).any()):
                index = index.compacted()  # HNSW tombstones: drop them before an id comes back
            index.add(add_ids, vecs)
            self._write_rows(plan.to_remove, plan.to_add, plan.to_update)
            if not self.read_only:
                index.save(self.folder / "index.faiss")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.vectors = index
        self.manifest = Manifest(self.kind, index.index_type, index.dim, encoder.name, len(plan.desired),
                                 ids_digest(plan.desired), fingerprint, time.time())
        if not self.read_only:
            _write_json(self.folder / "manifest.json", asdict(self.manifest))
        self.load_error = ""
        return IndexReport(self.kind, len(plan.to_add), len(plan.to_remove), len(plan.to_update),
                           len(plan.desired), plan.full, "; ".join(plan.reasons), index.index_type,
                           round(time.perf_counter() - started, 3))

    def sync(self, items: Iterable[IndexItem], encoder: Encoder, fingerprint: str,
             progress: Progress | None = None, rebuild: bool = False,
             approximate_from: int | None = None, index_type: str | None = None) -> IndexReport:
        """:meth:`plan` then :meth:`apply`. ``index_type`` forces flat, ivf or hnsw (else chosen by size)."""
        plan = self.plan(items, encoder, rebuild, approximate_from, index_type)
        return self.apply(plan, encoder, fingerprint, progress)

    def _held(self) -> dict[int, tuple[str, str]]:
        return {r[0]: (r[1], r[2]) for r in self.conn.execute("SELECT id, text_hash, digest FROM items")}

    def _embed(self, texts: list[str], encoder: Encoder, progress: Progress | None, batch: int) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), batch):
            parts.append(np.asarray(encoder.encode(texts[start : start + batch]), dtype=np.float32))
            if progress:
                progress(min(start + batch, len(texts)), len(texts))
        return np.vstack(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32)

    def _write_rows(self, removed: list[int], added: list[IndexItem], updated: list[IndexItem]) -> None:
        c = self.conn
        c.executemany("DELETE FROM items WHERE id=?", [(i,) for i in removed])
        c.executemany("DELETE FROM item_entities WHERE item_id=?", [(i,) for i in removed])
        rows = [_row(it) for it in (*added, *updated)]
        c.executemany("INSERT OR REPLACE INTO items VALUES(?,?,?,?,?,?,?,?)", rows)
        c.executemany("DELETE FROM item_entities WHERE item_id=?", [(it.id,) for it in updated])
        c.executemany("INSERT OR IGNORE INTO item_entities VALUES(?,?)",
                      [(e, it.id) for it in (*added, *updated) for e in it.entity_ids])
        c.executemany("DELETE FROM item_sentences WHERE item_id=?", [(i,) for i in (*removed, *(it.id for it in updated))])
        c.executemany("INSERT OR IGNORE INTO item_sentences VALUES(?,?)",
                      [(h, it.id) for it in (*added, *updated) for h in _heads(it.provenance)])

    # ---- reading -------------------------------------------------------------------------
    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """``(item id, similarity)`` of the ``k`` nearest items, best first."""
        if self.vectors is None:
            raise KGError(f"The {self.kind} index is not built. Run `kgnlp index`.")
        scores, ids = self.vectors.search(query.reshape(1, -1), k)
        return [(int(i), float(s)) for s, i in zip(scores[0], ids[0]) if i >= 0]

    def similarities(self, query: np.ndarray, ids: list[int]) -> list[tuple[int, float]]:
        """Similarity of the query to chosen items (exact, whatever the index type)."""
        if self.vectors is None or not ids:
            return []
        return [(i, float(s)) for i, s in zip(ids, self.vectors.vectors(ids) @ query.reshape(-1))]

    def ids_for_entities(self, entity_ids: Iterable[str], limit: int = 500) -> list[int]:
        ents = list(entity_ids)
        if not ents:
            return []
        marks = ",".join("?" * len(ents))
        return [r[0] for r in self.conn.execute(
            f"SELECT DISTINCT item_id FROM item_entities WHERE entity_id IN ({marks}) LIMIT ?", (*ents, limit))]

    def entities_named(self, norms: Iterable[str]) -> dict[str, list[str]]:
        """normalised name -> entity ids, from the names an entity index holds."""
        names = list(norms)
        out: dict[str, list[str]] = {}
        for start in range(0, len(names), 500):
            part = names[start : start + 500]
            marks = ",".join("?" * len(part))
            for norm, data in self.conn.execute(f"SELECT norm, data FROM items WHERE norm IN ({marks})", part):
                out.setdefault(norm, []).extend(json.loads(data)["entity_ids"])
        return out

    def items_read_in(self, text: str) -> dict[int, IndexItem]:
        """The items with a provenance sentence that ``text`` holds word for word (sentences of at least
        ``HEAD`` characters: shorter ones cannot be told apart by their start)."""
        starts = list({text[i : i + HEAD] for i in range(len(text) - HEAD + 1)})
        ids: set[int] = set()
        for start in range(0, len(starts), 500):
            part = starts[start : start + 500]
            marks = ",".join("?" * len(part))
            ids.update(r[0] for r in self.conn.execute(
                f"SELECT item_id FROM item_sentences WHERE head IN ({marks})", part))
        return {i: it for i, it in self.items(sorted(ids)).items()
                if any(len(p.sentence) >= HEAD and p.sentence in text for p in it.provenance)}

    def items(self, ids: list[int]) -> dict[int, IndexItem]:
        out: dict[int, IndexItem] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for row in self.conn.execute(
                    f"SELECT id, key, text, label, data FROM items WHERE id IN ({marks})", part):
                out[row[0]] = _item(self.kind, row)
        return out

    def __len__(self) -> int:
        return 0 if self.manifest is None else self.manifest.count


def _digest(it: IndexItem) -> str:
    payload = json.dumps([it.label, it.entity_ids, [_source(p) for p in it.provenance], it.triple])
    return text_hash(it.text + "\x1f" + payload)


def _row(it: IndexItem) -> tuple:
    from kg.names import normalise

    data = {"entity_ids": list(it.entity_ids), "provenance": [_source(p) for p in it.provenance],
            "triple": list(it.triple) if it.triple else None}
    norm = normalise(it.text) if it.kind == "entities" else None
    return (it.id, it.key, it.text, text_hash(it.text), _digest(it), it.label, json.dumps(data), norm)


def _source(p: Provenance) -> dict[str, object]:
    """A source as the index keeps it: where it is, not how sure it is (a confidence that changes with the
    other sources of a fact does not make an item new)."""
    data = asdict(p)
    del data["confidence"]
    return data


def _heads(provenance: Iterable[Provenance]) -> set[str]:
    return {p.sentence[:HEAD] for p in provenance if p.sentence and len(p.sentence) >= HEAD}


def _read_only_table(path: Path) -> sqlite3.Connection:
    """The item table at ``path`` through a read-only connection; an empty one in memory when there is none, and a
    copy in memory when it lacks a table this version reads (an older index: filled there, the file untouched)."""
    if not path.is_file():
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.executescript(_DDL)
        return conn
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False)
    if conn.execute("PRAGMA user_version").fetchone()[0] < _TABLES:
        conn = _in_memory(conn)
        conn.executescript(_DDL)
        _fill_sentences(conn)
    return conn


def _in_memory(conn: sqlite3.Connection) -> sqlite3.Connection:
    """A copy of ``conn``'s database in memory (``conn`` is closed), to change without touching the file; ``conn``
    itself when it is in memory already."""
    if not conn.execute("PRAGMA database_list").fetchone()[2]:
        return conn
    copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    conn.backup(copy)
    conn.close()
    return copy


def _fill_sentences(conn: sqlite3.Connection) -> None:
    """Give an item table written before ``item_sentences`` existed its rows (no re-embedding), once."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= _TABLES:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < _TABLES:
            rows = [(h, r[0]) for r in conn.execute("SELECT id, data FROM items")
                    for h in _heads(Provenance(**p) for p in json.loads(r[1])["provenance"])]
            conn.executemany("INSERT OR IGNORE INTO item_sentences VALUES(?,?)", rows)
            conn.execute(f"PRAGMA user_version = {_TABLES}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _item(kind: str, row: tuple) -> IndexItem:
    data = json.loads(row[4])
    prov = tuple(Provenance(**p) for p in data["provenance"])
    triple = tuple(data["triple"]) if data["triple"] else None
    ents = tuple(data["entity_ids"])
    return IndexItem(row[0], kind, row[1], row[2], row[3], ents, prov, triple)  # type: ignore[arg-type]


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data) + "\n", encoding="utf-8")
    os.replace(tmp, path)
