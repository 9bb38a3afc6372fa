"""Reading a workspace's SQLite file (the graph, the merge log) from a folder this process cannot write."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable

from kg.errors import KGError


def read_only_connection(path: Path, probe: str, what: str,
                         not_ours: Callable[[sqlite3.DatabaseError], KGError]) -> sqlite3.Connection:
    """A read-only connection to ``path`` (``what`` it holds, e.g. "the graph", for the messages) in a folder this
    process cannot write, checked by running ``probe`` (a query of a table the file must hold). SQLite reads a WAL
    database through its ``-shm`` file, which cannot be made there: a writer's (one is running) serves; without one
    nobody can be writing, so the file is read as it is (``immutable``). A file that is no SQLite database raises
    ``not_ours(error)``. In a writable folder open the ordinary connection instead: a read-only one would leave its
    ``-wal`` and ``-shm`` files behind."""
    uri = path.resolve().as_uri()
    wal = path.with_name(path.name + "-wal")
    for mode in ("mode=ro", "immutable=1"):
        if mode == "immutable=1" and wal.exists() and wal.stat().st_size > 0:
            # committed changes may wait there for a checkpoint: read as immutable, the file would be an older one
            raise KGError(f"Cannot read {what} at {path} from a folder this process cannot write: its write-ahead "
                          f"log {wal.name} holds changes not yet in the file. Open it once where it can be written "
                          "(any kgnlp command there), or copy the workspace somewhere writable.")
        conn = sqlite3.connect(f"{uri}?{mode}", uri=True, check_same_thread=False)
        try:
            conn.execute(probe).fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise not_ours(exc) from exc
    raise KGError(f"Cannot read {what} at {path} from a folder this process cannot write; copy the workspace "
                  "somewhere writable.")
