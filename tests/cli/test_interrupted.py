"""Ctrl-C in `kgnlp import` and `kgnlp ingest`, which store their work in steps: one stderr line says how much was
stored and that the same command completes it, exit code 130; what was stored is whole, and the rerun adds the
rest, nothing twice. The signal is a real SIGINT, sent in a subprocess as a step is about to be stored."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, kgnlp, kgnlp_json

# Runs `kgnlp ARGS...` with SQLiteStore.METHOD sending this process a SIGINT when it is called the AT-th time, and
# imports in parts of 10 facts (50,000 or 5,000 otherwise: a test file would fit in one).
DRIVER = """
import functools, os, signal, sys
import kg.export
from kg.stores.sqlite import SQLiteStore

method, at = sys.argv[1], int(sys.argv[2])
real, calls = getattr(SQLiteStore, method), []

def interrupting(self, *args, **kwargs):
    calls.append(1)
    if len(calls) == at:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C as this step begins: the steps before it are stored
    return real(self, *args, **kwargs)

setattr(SQLiteStore, method, interrupting)
SQLiteStore.bulk_load = functools.partialmethod(SQLiteStore.bulk_load, batch=10)
kg.export.PART = 10
from cli.main import run
run(sys.argv[3:])
"""


def _interrupted(tmp_path: Path, method: str, at: int, *args: str) -> subprocess.CompletedProcess:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    return subprocess.run([sys.executable, str(driver), method, str(at), *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
                          timeout=300)


def _count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def _facts_csv(tmp_path: Path) -> Path:
    facts = tmp_path / "facts.csv"
    facts.write_text("head,relation,tail,head_type,tail_type\n" + "".join(
        f"drug {i},treats,disease {i},Chemical,Disease\n" for i in range(25)), encoding="utf-8")
    return facts


def test_an_interrupted_csv_import_keeps_its_stored_batches_says_so_and_a_rerun_completes_it(tmp_path):
    facts = _facts_csv(tmp_path)
    ws = tmp_path / "ws"
    proc = _interrupted(tmp_path, "_bulk", 3, "import", "csv", str(facts), "-w", str(ws), "-q")
    assert proc.returncode == 130 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["Interrupted: 20 of 25 facts stored (20 new). Run the same command again to "
                                        "complete it; nothing is added twice."]
    assert _count(ws / "graph.db", "triples") == 20 and _count(ws / "graph.db", "sources") == 20
    again = kgnlp_json("import", "csv", str(facts), "-w", str(ws))
    assert (again["facts"], again["new_facts"]) == (25, 5)
    assert _count(ws / "graph.db", "triples") == 25 and _count(ws / "graph.db", "sources") == 25


def test_an_interrupted_rdf_import_keeps_its_stored_parts_says_so_and_a_rerun_completes_it(tmp_path):
    source = tmp_path / "source"
    kgnlp_json("import", "csv", str(_facts_csv(tmp_path)), "-w", str(source))
    graph = tmp_path / "graph.ttl"
    kgnlp("export", "--format", "turtle", "--out", str(graph), "-w", str(source), check=True)
    ws = tmp_path / "ws"
    # the 50 entities in 5 parts first (no fact is stored without its entities), then the facts: Ctrl-C in the 2nd
    proc = _interrupted(tmp_path, "add", 7, "import", "turtle", str(graph), "-w", str(ws))
    assert proc.returncode == 130 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["Interrupted: 50 of 50 entities and 10 of 25 facts stored. Run the same "
                                        "command again to complete it; nothing is added twice."]
    assert _count(ws / "graph.db", "triples") == 10 and _count(ws / "graph.db", "entities") == 50
    assert kgnlp_json("import", "turtle", str(graph), "-w", str(ws))["facts"] == 25
    assert _count(ws / "graph.db", "triples") == 25 and _count(ws / "graph.db", "sources") == 25
    assert _count(ws / "graph.db", "entities") == 50


def test_an_interrupted_ingest_keeps_the_documents_it_stored_says_so_and_a_rerun_completes_it(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(5):
        (docs / f"doc{i}.txt").write_text(f"Company Number{i} Holdings acquired Firm Number{i} Limited on Monday.",
                                          encoding="utf-8")
    ws = tmp_path / "ws"
    kgnlp_json("ingest", str(docs / "doc0.txt"), "-w", str(ws))
    proc = _interrupted(tmp_path, "add_extraction", 3, "ingest", str(docs), "-w", str(ws), "--json")
    assert proc.returncode == 130 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["Interrupted: 2 of 4 new or changed document(s) stored (and 1 stored before). "
                                        "Run the same command again to complete it; nothing is added twice."]
    assert _count(ws / "graph.db", "documents") == 3
    again = kgnlp_json("ingest", str(docs), "-w", str(ws))
    assert (again["documents"], again["skipped"]) == (2, 3)
    assert _count(ws / "graph.db", "documents") == 5
