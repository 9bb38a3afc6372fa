"""Reading commands on a workspace this process may not write (a read-only copy, another user's): they read, and
every file is left as it was."""
from __future__ import annotations

import json
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


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None, reason="root without setpriv writes anyway")
@pytest.mark.parametrize("dropped, said, not_said", [
    ("name_keys", "accents, possessives", "a name it did not take"),
    ("name_rows", "an entity may be found by a name it did not take", "accents")])
def test_the_note_on_older_name_keys_says_what_may_go_wrong_for_what_is_out_of_date(tmp_path, dropped, said,
                                                                                    not_said):
    """Keys of an older rule miss folded names; keys of names no entity took (the older name rows, under today's
    rule) miss nothing but may find an entity by such a name: the note names the one that applies."""
    from kg.records import Entity
    from kg.stores.sqlite import SQLiteStore
    from kg.workspace import Workspace

    ws = Workspace.open(tmp_path / "ws", create=True)
    store = SQLiteStore.open(ws.graph_path)
    store.add([], [Entity("dis:sjogren", "Sjögren's syndrome", "Disease")])
    store.query(f"DELETE FROM meta WHERE key='{dropped}'", write=True)
    store.close()
    _read_only(ws.path, True)
    try:
        proc = _kgnlp_reader("query", "entity", "dis:sjogren", "-w", str(ws.path))
    finally:
        _read_only(ws.path, False)
    assert proc.returncode == 0, proc.stderr
    (note,) = proc.stderr.strip().splitlines()
    assert "name keys are from an older kgnlp" in note and said in note and not_said not in note


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None, reason="root without setpriv writes anyway")
def test_a_read_only_workspace_with_a_merge_log_is_read_merged_and_left_as_it_was(sample_ws, tmp_path):
    """The merge log is only read there (no journal mode set, no table made): the merge in it is applied, and every
    file stays as it was."""
    from kg.merges import MergeLog

    ws = tmp_path / "ws"
    shutil.copytree(sample_ws, ws)
    with MergeLog.for_workspace(ws) as log:
        log.record("chem:metformin", "org:northwind_therapeutics", "test", "a merge in effect", 1.0)
    _read_only(ws, True)
    try:
        before = file_tree(ws)
        done = {}
        for command in (("ask", "What does metformin treat?"), ("stats", "--json"), ("entities", "merges", "--json"),
                        ("query", "entity", "metformin", "--json")):
            done[command[0]] = proc = _kgnlp_reader(*command, "-w", str(ws))
            assert proc.returncode == 0, (command, proc.stderr)
        assert "1. type 2 diabetes" in done["ask"].stdout
        assert '"merged_id": "org:northwind_therapeutics"' in done["entities"].stdout
        entity = json.loads(done["query"].stdout)
        assert "Northwind Therapeutics" in entity["entity"]["aliases"]  # the merge is applied
        assert all(f["relation"] != "MANUFACTURES" for f in entity["facts"])  # a fact between the two is dropped
        assert file_tree(ws) == before
    finally:
        _read_only(ws, False)


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None, reason="root without setpriv writes anyway")
def test_a_merge_log_a_read_only_workspace_cannot_read_is_a_one_line_error(sample_ws, tmp_path):
    """A damaged log, and one whose write-ahead log holds merges not yet in the file (reading the file alone would
    hide them): one line that says what to do, exit 1, nothing changed."""
    from kg.merges import MergeLog

    damaged, pending = tmp_path / "damaged", tmp_path / "pending"
    for ws in (damaged, pending):
        shutil.copytree(sample_ws, ws)
    (damaged / "merges.db").write_bytes(b"this is not sqlite" * 300)
    with MergeLog.for_workspace(tmp_path) as log:  # copied while open: its merge waits in merges.db-wal
        log.record("chem:metformin", "org:northwind_therapeutics", "test", "a merge in effect", 1.0)
        for name in ("merges.db", "merges.db-wal"):
            shutil.copy(tmp_path / name, pending / name)
    assert (pending / "merges.db-wal").stat().st_size > 0
    for ws, why in ((damaged, "cannot be read (file is not a database)"), (pending, "holds changes not yet")):
        _read_only(ws, True)
        try:
            before = file_tree(ws)
            proc = _kgnlp_reader("stats", "-w", str(ws))
            assert proc.returncode == 1 and why in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, \
                proc.stderr
            assert file_tree(ws) == before
        finally:
            _read_only(ws, False)
