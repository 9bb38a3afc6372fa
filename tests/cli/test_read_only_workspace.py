"""Reading commands on a workspace this process may not write (a read-only copy, another user's): they read, and
every file is left as it was."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, file_tree

# root writes anywhere; without these capabilities (setpriv, util-linux) it obeys the permission bits like anyone
AS_READER = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []


def _read_only(folder: Path, on: bool) -> None:
    for path in (folder, *folder.rglob("*")):
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) if on else mode | stat.S_IWUSR)


def _kgnlp_reader(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([*AS_READER, sys.executable, "-m", "cli.main", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None, reason="root without setpriv writes anyway")
def test_reading_commands_work_on_a_read_only_workspace_and_change_nothing(sample_ws, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(sample_ws, ws)
    _read_only(ws, True)
    try:
        assert _kgnlp_reader("--help").returncode == 0  # the reader can run the CLI at all
        probe = subprocess.run([*AS_READER, "touch", str(ws / "probe")], capture_output=True)
        assert probe.returncode != 0, "the folder is writable: the test would prove nothing"
        before = file_tree(ws)
        done = {}
        for command in (("stats", "--json"), ("query", "entity", "metformin"), ("export",),
                        ("ask", "What does metformin treat?"), ("retrieve", "metformin", "-k", "1", "--json")):
            done[command[0]] = proc = _kgnlp_reader(*command, "-w", str(ws))
            assert proc.returncode == 0, (command, proc.stderr)
        assert "1. type 2 diabetes" in done["ask"].stdout
        assert '"chem:metformin"' in proc.stdout and "kgnlp index" in proc.stderr  # indexes built in memory
        assert file_tree(ws) == before
    finally:
        _read_only(ws, False)


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None, reason="root without setpriv writes anyway")
def test_a_read_only_workspace_with_name_keys_of_an_older_version_is_read_with_a_note(tmp_path, monkeypatch):
    """No write can bring its keys up to date there: the command reads and says in one line why folded names
    ("sjogren syndrome") may not be found; where it can write, the next command brings them up to date."""
    from kg import names
    from kg.records import Entity
    from kg.stores.sqlite import SQLiteStore
    from kg.workspace import Workspace

    ws = Workspace.open(tmp_path / "ws", create=True)
    store = SQLiteStore.open(ws.graph_path)
    with monkeypatch.context() as old_code:
        old_code.setattr("kg.names.normalise", names._plain)  # the key rule every store saves keys by
        store.add([], [Entity("dis:sjogren", "Sjögren's syndrome", "Disease")])
        store.query("DELETE FROM meta WHERE key='name_keys'", write=True)
    store.close()
    _read_only(ws.path, True)
    try:
        proc = _kgnlp_reader("query", "entity", "dis:sjogren", "-w", str(ws.path))
        assert proc.returncode == 0, proc.stderr
        assert "name keys are from an older kgnlp" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    finally:
        _read_only(ws.path, False)
    proc = _kgnlp_reader("query", "entity", "sjogren syndrome", "-w", str(ws.path))
    assert proc.returncode == 0 and "Sjögren's syndrome" in proc.stdout and "older kgnlp" not in proc.stderr
