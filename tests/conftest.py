"""Shared fixtures: the repo's sample data, and a workspace built from it once per test session."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


def kgnlp(*args: str, stdin: str | None = None, env: dict | None = None, check: bool = False,
          cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real CLI in a fresh process, as a user would."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "cli.main", *args], input=stdin, capture_output=True, text=True,
                          env=full_env, cwd=cwd or ROOT, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"kgnlp {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def kgnlp_json(*args: str, **kw) -> dict:
    proc = kgnlp(*args, "--json", check=True, **kw)
    return json.loads(proc.stdout)


def write_seed(folder: Path, entities: list[dict], triples: str = "") -> Path:
    """A seed graph folder: ``entities`` as entities.jsonl, ``triples`` (TSV lines) as triples.tsv."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "entities.jsonl").write_text("\n".join(json.dumps(e) for e in entities) + "\n", encoding="utf-8")
    (folder / "triples.tsv").write_text(triples, encoding="utf-8")
    return folder


def seeded_workspace(root: Path, entities: list[dict], triples: str = "") -> str:
    """A workspace under ``root`` holding only a seed graph (and one document without facts)."""
    seed = write_seed(root / "seed", entities, triples)
    (root / "doc.txt").write_text("Nothing to see.", encoding="utf-8")
    ws = root / "ws"
    kgnlp("ingest", str(root / "doc.txt"), "--seed", str(seed), "-w", str(ws), check=True)
    return str(ws)


def pattern_fact(h: str, r: str, t: str, confidence: float = 0.9, doc: str = "d1"):
    """A fact as the relation patterns give it, with one source sentence naming it ("h R t.")."""
    from kg.records import Provenance, Triple

    return Triple(h, r, t, confidence, (Provenance(doc, 0, 10, f"{h} {r} {t}.", "patterns"),))


def file_tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``root``: relative path -> (size, mtime in ns); what a reading command must leave
    as it found it."""
    return {str(p.relative_to(root)): (p.stat().st_size if p.is_file() else 0, p.stat().st_mtime_ns)
            for p in sorted(Path(root).rglob("*"))}


@pytest.fixture(scope="session")
def sample_ws(tmp_path_factory) -> Path:
    """A workspace holding the sample documents and seed graph (built once, treat as read-only)."""
    ws = tmp_path_factory.mktemp("sample") / "ws"
    kgnlp("ingest", str(DATA / "documents"), "--seed", str(DATA / "seed"), "-w", str(ws), "--json", check=True)
    return ws
