"""A ``kill -9`` in the middle of ``kgnlp ingest`` loses no stored document and leaves no half-written one;
rerunning resumes and ends with the same graph as an uninterrupted run."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, kgnlp, kgnlp_json

N_DOCS = 240


def _write_corpus(folder: Path) -> None:
    (folder / "docs").mkdir(parents=True)
    (folder / "seed").mkdir()
    with open(folder / "seed" / "entities.jsonl", "w", encoding="utf-8") as f:
        for i in range(N_DOCS):
            for kind in ("Buyer", "Target"):
                f.write(json.dumps({"id": f"org:{kind.lower()}-{i}", "name": f"{kind} Number{i} Holdings",
                                    "type": "Organization"}) + "\n")
    for i in range(N_DOCS):
        text = (f"Buyer Number{i} Holdings acquired Target Number{i} Holdings on Monday. "
                f"Analysts expect more deals. " * 3)
        (folder / "docs" / f"doc{i:04d}.txt").write_text(text, encoding="utf-8")


def _stored_docs(db: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM documents")}
    except sqlite3.OperationalError:
        return set()
    finally:
        conn.close()


def test_kill_9_mid_ingest_then_resume(tmp_path):
    _write_corpus(tmp_path)
    ws = tmp_path / "ws"
    kgnlp("ingest", str(tmp_path / "docs" / "doc0000.txt"), "--seed", str(tmp_path / "seed"), "-w", str(ws),
          "--json", check=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "ingest", str(tmp_path / "docs"), "-w", str(ws), "-q"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = ws / "graph.db"
    deadline = time.time() + 120
    reported: set[str] = set()
    while time.time() < deadline and len(reported) < 25:
        time.sleep(0.05)
        reported = _stored_docs(db)
    workers = _children(proc.pid)  # the spaCy worker processes of a big ingest
    assert workers or (os.cpu_count() or 1) < 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 25 <= len(reported) < N_DOCS, "the ingest finished before it could be killed"
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.1)
    assert not [p for p in workers if _alive(p)], "worker processes outlived the killed ingest"

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {r[0] for r in conn.execute("SELECT id FROM documents")}
    assert reported <= stored  # nothing reported as stored was lost
    for doc in stored:  # every stored document is whole: its mentions and its one fact's source
        mentions = conn.execute("SELECT count(*) FROM mentions WHERE doc_id=?", (doc,)).fetchone()[0]
        sources = conn.execute("SELECT count(*) FROM sources WHERE doc_id=?", (doc,)).fetchone()[0]
        assert mentions == 6 and sources == 1, (doc, mentions, sources)
    conn.close()

    again = kgnlp_json("ingest", str(tmp_path / "docs"), "-w", str(ws))
    assert again["skipped"] == len(stored) and again["documents"] == N_DOCS - len(stored)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == N_DOCS
    assert conn.execute("SELECT count(*) FROM triples").fetchone()[0] == N_DOCS
    assert conn.execute("SELECT count(*) FROM sources").fetchone()[0] == N_DOCS
    conn.close()


def _children(pid: int) -> list[int]:
    """Child process ids of ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
