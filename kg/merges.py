"""The merge log: which entity was merged into which, by whom, why and how sure; undoable.

It lives in its own small SQLite file in the workspace (``<ws>/merges.db``), independent of the
graph backend, so every store sees the same resolution. ``canonical(id)`` is what the rest of the
system asks: the id an entity now goes by.
"""
from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KGError
from kg.sqlite_read import read_only_connection

FILE_NAME = "merges.db"
_DDL = """
CREATE TABLE IF NOT EXISTS merges(
    id INTEGER PRIMARY KEY, canonical_id TEXT NOT NULL, merged_id TEXT NOT NULL,
    who TEXT NOT NULL, why TEXT NOT NULL, score REAL NOT NULL, created REAL NOT NULL,
    undone REAL);
CREATE INDEX IF NOT EXISTS merges_merged ON merges(merged_id) WHERE undone IS NULL;
"""


def _unreadable(path: Path, exc: sqlite3.DatabaseError) -> KGError:
    return KGError(f"The merge log '{path}' cannot be read ({exc}). Restore it from a backup, or move it away to "
                   "start with no merges.")


def _reader(path: Path) -> sqlite3.Connection:
    """A connection that only reads the merge log at ``path`` (which exists): the ordinary one where the folder can
    be written (SQLite tidies its WAL files away on close), else a read-only one (:func:`read_only_connection`).
    An empty file (a crash before SQLite wrote its header, which it does as the log is made) holds no merges: an
    empty log in memory is read, and the file left as it is."""
    if path.stat().st_size == 0:
        conn = sqlite3.connect(":memory:")
        conn.executescript(_DDL)
        return conn
    probe = "SELECT count(*) FROM merges"
    if not os.access(path.parent, os.W_OK):
        return read_only_connection(path, probe, "the merge log", lambda exc: _unreadable(path, exc))
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)  # never made here
    try:
        conn.execute(probe).fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _unreadable(path, exc) from None
    return conn


@dataclass(frozen=True)
class Merge:
    """One recorded merge: ``merged_id`` now resolves to ``canonical_id``."""

    id: int
    canonical_id: str
    merged_id: str
    who: str
    why: str
    score: float
    created: float
    undone: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "canonical_id": self.canonical_id, "merged_id": self.merged_id, "who": self.who,
                "why": self.why, "score": self.score, "created": self.created, "undone": self.undone}


class MergeLog:
    """Open with :meth:`open` or :meth:`for_workspace`; close when done."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, path: str | Path, read_only: bool = False) -> "MergeLog":
        """Open (and make, with its folder) the merge log at ``path``. ``read_only``: the caller only reads a log
        that exists, so nothing is made or written (no folder, table or journal mode), and a folder this process
        cannot write (a read-only workspace) is no obstacle."""
        path = Path(path)
        if path.exists() and path.is_dir():
            raise KGError(f"Merge log path '{path}' is a folder; expected a file such as <workspace>/{FILE_NAME}.")
        if read_only:
            return cls(_reader(path), path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path))
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_DDL)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _unreadable(path, exc) from None
        return cls(conn, path)

    @classmethod
    def for_workspace(cls, workspace_path: str | Path) -> "MergeLog":
        return cls.open(Path(workspace_path) / FILE_NAME)

    def record(self, canonical_id: str, merged_id: str, who: str, why: str, score: float) -> Merge:
        """Merge ``merged_id`` into ``canonical_id``. Earlier records stay as they were: what was merged into
        ``merged_id`` now resolves through it (:meth:`canonical` follows the chain), and comes back to it when
        this merge is undone."""
        target = self.canonical(canonical_id)
        if target == merged_id or canonical_id == merged_id:
            raise KGError(f"Cannot merge '{merged_id}' into itself (via '{canonical_id}').")
        if self.canonical(merged_id) != merged_id:
            raise KGError(f"'{merged_id}' is already merged into '{self.canonical(merged_id)}'. "
                          "Undo that merge first (`kgnlp entities unmerge ID`).")
        now = time.time()
        with self._conn:
            cur = self._conn.execute(
                "INSERT INTO merges(canonical_id, merged_id, who, why, score, created) VALUES (?,?,?,?,?,?)",
                (target, merged_id, who, why, float(score), now))
        return Merge(int(cur.lastrowid), target, merged_id, who, why, float(score), now)

    def merges(self, include_undone: bool = False) -> list[Merge]:
        sql = "SELECT id, canonical_id, merged_id, who, why, score, created, undone FROM merges"
        if not include_undone:
            sql += " WHERE undone IS NULL"
        return [Merge(*row) for row in self._conn.execute(sql + " ORDER BY id")]

    def count(self) -> int:
        """How many merges are in effect (not undone)."""
        return self._conn.execute("SELECT count(*) FROM merges WHERE undone IS NULL").fetchone()[0]

    def get(self, merge_id: int) -> Merge:
        if not -2**63 <= merge_id < 2**63:  # beyond what SQLite can hold: no merge has it
            raise KGError(f"No merge with id {merge_id}. List them with `kgnlp entities merges`.")
        row = self._conn.execute(
            "SELECT id, canonical_id, merged_id, who, why, score, created, undone FROM merges WHERE id = ?",
            (merge_id,)).fetchone()
        if row is None:
            raise KGError(f"No merge with id {merge_id}. List them with `kgnlp entities merges`.")
        return Merge(*row)

    def undo(self, merge_id: int) -> Merge:
        """Undo one merge: ``merged_id`` goes by its own id again."""
        merge = self.get(merge_id)
        if merge.undone is not None:
            raise KGError(f"Merge {merge_id} was already undone.")
        now = time.time()
        with self._conn:
            self._conn.execute("UPDATE merges SET undone = ? WHERE id = ?", (now, merge_id))
        return Merge(merge.id, merge.canonical_id, merge.merged_id, merge.who, merge.why, merge.score,
                     merge.created, now)

    def undone_pairs(self) -> set[frozenset[str]]:
        """The pairs of ids a merge between was undone: someone judged them apart."""
        return {frozenset(row) for row in self._conn.execute(
            "SELECT canonical_id, merged_id FROM merges WHERE undone IS NOT NULL")}

    def canonical(self, entity_id: str) -> str:
        """The id ``entity_id`` now goes by (itself when never merged)."""
        seen = {entity_id}
        current = entity_id
        while True:
            row = self._conn.execute(
                "SELECT canonical_id FROM merges WHERE merged_id = ? AND undone IS NULL ORDER BY id DESC LIMIT 1",
                (current,)).fetchone()
            if row is None or row[0] in seen:
                return current
            current = row[0]
            seen.add(current)

    def canonical_map(self) -> dict[str, str]:
        """Every merged id -> its canonical id."""
        return {m.merged_id: self.canonical(m.merged_id) for m in self.merges()}

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "MergeLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def canonical_id(workspace_path: str | Path, entity_id: str) -> str:
    """The canonical id of an entity in a workspace (no merge log = no merges)."""
    path = Path(workspace_path) / FILE_NAME
    if not path.exists():
        return entity_id
    with MergeLog.open(path, read_only=True) as log:
        return log.canonical(entity_id)


def merge_count(workspace_path: str | Path) -> int:
    """How many merges are in effect in a workspace (0 without a merge log; none is made)."""
    path = Path(workspace_path) / FILE_NAME
    if not path.exists():
        return 0
    with MergeLog.open(path, read_only=True) as log:
        return log.count()
