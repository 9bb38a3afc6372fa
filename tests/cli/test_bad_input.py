"""Bad input: one clear line on stderr, a non-zero exit, no traceback, and the workspace untouched."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT, kgnlp, kgnlp_json, write_seed


@pytest.fixture(scope="module")
def small_ws(tmp_path_factory):
    ws = tmp_path_factory.mktemp("bad") / "ws"
    kgnlp("ingest", str(DATA / "documents" / "medical" / "med01_metformin.txt"), "-w", str(ws), "--json", check=True)
    return ws


def _snapshot(ws):
    tsv = kgnlp("export", "--format", "tsv", "-w", str(ws), check=True).stdout
    docs = kgnlp("documents", "-w", str(ws), "--json", check=True).stdout
    return hashlib.sha256((tsv + docs).encode()).hexdigest()


def _assert_one_line_error(proc, code=1, needle=""):
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert needle.lower() in lines[0].lower(), lines[0]


def _bad_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\xe9 au lait and metformin.".encode("latin-1"))
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text('{"id": "a", "text": "fine"}\n{"id": "b", "text": oops}\n', encoding="utf-8")
    no_text = tmp_path / "notext.jsonl"
    no_text.write_text('{"id": "a"}\n', encoding="utf-8")
    wrong = tmp_path / "table.csv"
    wrong.write_text("a,b\n", encoding="utf-8")
    cases = {"empty": (empty, "empty"), "binary": (binary, "binary"), "latin": (latin, "UTF-8"),
             "jsonl": (jsonl, "docs.jsonl:2"), "no_text": (no_text, "text"), "wrong": (wrong, ".txt")}
    odd_ids = {"seed_id": ('"seed:seed"', "reserved"), "import_id": ('"import:x.csv"', "reserved"),
               "findings_id": ('"a#findings"', "kgnlp findings` read in document 'a'"),
               "null_id": ("null", "id"), "blank_id": ('"  "', "id"), "dict_id": ('{"a": 1}', "id")}
    for case, (value, needle) in odd_ids.items():  # "seed:seed" would replace the seed graph's facts
        path = tmp_path / f"{case}.jsonl"
        path.write_text('{"id": %s, "text": "Metformin treats type 2 diabetes."}\n' % value, encoding="utf-8")
        cases[case] = (path, needle)
    surrogate = tmp_path / "surrogate.jsonl"
    surrogate.write_text('{"id": "s", "text": "bad \\ud800 text"}\n', encoding="utf-8")
    long = tmp_path / "long.txt"
    long.write_text("Metformin treats diabetes. " * 40_000, encoding="utf-8")  # 1,080,000 characters
    cases |= {"surrogate": (surrogate, "unpaired surrogate"), "long": (long, "1,000,000")}
    return cases


@pytest.mark.parametrize("case", ["empty", "binary", "latin", "jsonl", "no_text", "wrong", "seed_id", "import_id",
                                  "findings_id", "null_id", "blank_id", "dict_id", "surrogate", "long"])
def test_bad_file_is_refused_and_nothing_changes(small_ws, tmp_path, case):
    path, needle = _bad_files(tmp_path)[case]
    good = tmp_path / "good.txt"
    good.write_text("Warfarin can cause bleeding.", encoding="utf-8")
    before = _snapshot(small_ws)
    proc = kgnlp("ingest", str(good), str(path), "-w", str(small_ws))
    _assert_one_line_error(proc, 1, needle)
    assert _snapshot(small_ws) == before  # the good file was not half-ingested either


def test_missing_path(small_ws, tmp_path):
    _assert_one_line_error(kgnlp("ingest", str(tmp_path / "nope.txt"), "-w", str(small_ws)), 1, "no such file")


def test_missing_workspace(tmp_path):
    proc = kgnlp("query", "entity", "metformin", "-w", str(tmp_path / "nowhere"))
    _assert_one_line_error(proc, 1, "no kgnlp workspace")
    assert not (tmp_path / "nowhere").exists()
    _assert_one_line_error(kgnlp("ask", "What does metformin treat?", "-w", str(tmp_path / "nowhere")), 1, "workspace")


def test_question_with_no_known_entity(small_ws):
    before = _snapshot(small_ws)
    _assert_one_line_error(kgnlp("ask", "What does zorblax treat?", "-w", str(small_ws)), 1, "no known entity")
    assert _snapshot(small_ws) == before


def test_unknown_entity_in_query(small_ws):
    _assert_one_line_error(kgnlp("query", "entity", "zorblax", "-w", str(small_ws)), 1, "no entity named")


def test_unknown_command_and_option():
    _assert_one_line_error(kgnlp("frobnicate"), 2, "no such command")
    _assert_one_line_error(kgnlp("ingest", "--frob", "x"), 2, "no such option")


def test_unknown_store(small_ws):
    _assert_one_line_error(kgnlp("query", "entity", "metformin", "--store", "neo", "-w", str(small_ws)), 2,
                           "Invalid value for '--store': 'neo' is not one of: embedded, rdf, neo4j")


@pytest.mark.parametrize("args", [
    ("ingest", "{doc}", "--store", "neo"), ("ingest", "{doc}", "--profile", "turbo"), ("export", "--format", "csv"),
    ("migrate", "--from", "sql"), ("migrate", "--to", "sql"), ("train", "ner", "--data", "{doc}", "--out", "{out}",
                                                             "--kind", "crf"),
    ("train", "ner", "--data", "{doc}", "--out", "{out}", "--format", "conll"),
    ("train", "classify", "--data", "{doc}", "--out", "{out}", "--fusion", "all"),
    ("eval", "ner", "--data", "{doc}", "--format", "conll")])
def test_a_value_outside_an_options_choices_is_a_usage_error_before_anything_runs(tmp_path, args):
    doc = tmp_path / "doc.txt"
    doc.write_text("Metformin treats type 2 diabetes.", encoding="utf-8")
    ws, out = tmp_path / "ws", tmp_path / "model"
    proc = kgnlp(*(a.format(doc=doc, out=out) for a in args), "-w", str(ws))
    _assert_one_line_error(proc, 2, f"'{args[-1]}' is not one of: ")
    assert not ws.exists() and not out.exists()


@pytest.mark.parametrize("args", [
    ("train", "classify", "--data", "{doc}", "--out", "{out}", "--seed", "-1"),
    ("train", "ner", "--data", "{doc}", "--out", "{out}", "--seed", str(2**32)),
    ("embed", "--seed", "-5")])
def test_a_seed_numpy_and_torch_cannot_take_is_a_usage_error(tmp_path, args):
    doc = tmp_path / "doc.txt"
    doc.write_text("Metformin treats type 2 diabetes.", encoding="utf-8")
    ws, out = tmp_path / "ws", tmp_path / "model"
    proc = kgnlp(*(a.format(doc=doc, out=out) for a in args), "-w", str(ws))
    _assert_one_line_error(proc, 2, "'--seed'")
    assert not ws.exists() and not out.exists()


def test_empty_stdin(small_ws):
    _assert_one_line_error(kgnlp("ner", "-", "-w", str(small_ws), stdin=""), 1, "standard input")


@pytest.mark.parametrize("command", [("ner",), ("ask",), ("query", "sparql")])
def test_empty_text_argument(small_ws, command):
    _assert_one_line_error(kgnlp(*command, "  ", "-w", str(small_ws)), 1, "empty argument")


def test_debug_shows_traceback(tmp_path):
    proc = kgnlp("query", "entity", "x", "-w", str(tmp_path / "nowhere"), "--debug")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_workspace_that_is_a_file(tmp_path):
    f = tmp_path / "ws"
    f.write_text("not a folder")
    good = tmp_path / "good.txt"
    good.write_text("Warfarin can cause bleeding.", encoding="utf-8")
    _assert_one_line_error(kgnlp("ingest", str(good), "-w", str(f)), 1, "is a file")
    assert f.read_text() == "not a folder"


def test_corrupt_graph_file_is_reported(tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(DATA / "seed", tmp_path / "seed")
    kgnlp("ingest", str(DATA / "documents" / "medical" / "med01_metformin.txt"), "-w", str(ws), check=True)
    (ws / "graph.db").write_bytes(b"garbage" * 100)
    for extra in ("graph.db-wal", "graph.db-shm"):
        (ws / extra).unlink(missing_ok=True)
    _assert_one_line_error(kgnlp("query", "entity", "metformin", "-w", str(ws)), 1, "not a kgnlp graph")


@pytest.mark.parametrize("task", ["ner", "classify", "qa"])
def test_train_out_that_is_a_file_is_refused_before_training(tmp_path, task):
    blocker = tmp_path / "model.bin"
    blocker.write_text("not a folder")
    data = tmp_path / "missing.jsonl"  # never read: --out is checked first
    for out, needle in ((blocker, "is a file"), (blocker / "inner", "which is a file")):
        proc = kgnlp("train", task, "--data", str(data), "--out", str(out), "-w", str(tmp_path / "ws"))
        _assert_one_line_error(proc, code=2, needle=needle)
    assert blocker.read_text() == "not a folder"


def test_fresh_is_refused_where_nothing_resumes(tmp_path):
    proc = kgnlp("train", "ner", "--data", str(tmp_path / "x.jsonl"), "--out", str(tmp_path / "m"), "--fresh")
    _assert_one_line_error(proc, code=2, needle="applies to the fused transformer")


@pytest.mark.parametrize("command", [("export", "--format", "turtle", "--out"), ("ner", "metformin", "--html"),
                                     ("viz", "--out"), ("demo", "--out")])
def test_output_file_that_cannot_be_written_is_refused_first(small_ws, tmp_path, command):
    """A folder, a path under a file, or a new path ending in '/' (a folder too: it used to be written as a file of
    that name) given as an output file: a usage error before any work, nothing left behind (export used to fail
    with an internal error after writing the whole graph to OUT.part)."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep")
    before = sorted(p.name for p in tmp_path.iterdir())
    for out, needle in ((str(tmp_path), "is a folder"), (str(blocker / "g.out"), "which is a file"),
                        (f"{tmp_path / 'newdir'}/", "so it names a folder"), ("-", "not standard output"),
                        ("", "expected a file name, got an empty one"), ("  ", "expected a file name, got '  '")):
        proc = kgnlp(*command, out, "-w", str(small_ws), cwd=tmp_path)  # where a file named '-' would go
        _assert_one_line_error(proc, code=2, needle=needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == before and blocker.read_text() == "keep"
    assert not list(tmp_path.parent.glob(tmp_path.name + ".part"))


@pytest.mark.parametrize("command", [("export", "--format", "turtle", "--out"), ("ner", "metformin", "--html")])
def test_output_file_in_a_new_folder_is_written(small_ws, tmp_path, command):
    out = tmp_path / "new" / "deeper" / "result.out"
    kgnlp(*command, str(out), "-w", str(small_ws), check=True)
    assert out.read_text(encoding="utf-8").strip()
    assert [p.name for p in out.parent.iterdir()] == ["result.out"]  # no temporary file left beside it


def test_retrieve_checks_its_options_before_building_indexes(tmp_path):
    ws = tmp_path / "ws"
    kgnlp("ingest", str(DATA / "documents" / "medical" / "med01_metformin.txt"), "-w", str(ws), check=True)
    _assert_one_line_error(kgnlp("retrieve", "metformin", "--k", "0", "-w", str(ws)), code=2, needle="--k")
    assert not (ws / "index").exists()  # refused before the indexes were built
    proc = kgnlp("retrieve", "metformin", "--entity", "chem:no_such_thing", "-w", str(ws), "--quiet")
    _assert_one_line_error(proc, code=1, needle="chem:no_such_thing")


@pytest.mark.parametrize("command, needle", [
    (("eval", "ner", "--data", str(DATA / "labelled" / "ner.jsonl")), "migrate --from rdf --to embedded"),
    (("entities", "resolve", "--dry-run"), "pass --store rdf")])
def test_commands_without_store_option_refuse_an_rdf_only_workspace(tmp_path, command, needle):
    """Commands run without --store on a workspace whose graph went to the RDF store: those that read only the
    embedded store (eval, the fusion models) name the way to copy it; those that take --store (entity
    resolution) name that option; neither makes an empty graph.db and reports empty results."""
    from kg.records import Entity
    from kg.workspace import Workspace

    w = Workspace.open(tmp_path / "ws", create=True)
    g = w.open_store("rdf")
    g.add([], [Entity("chem:metformin", "metformin", "Chemical")])
    g.close()
    _assert_one_line_error(kgnlp(*command, "-w", str(w.path)), 1, needle)
    assert not w.graph_path.exists()


def test_files_a_folder_holds_that_ingest_cannot_read_are_named(tmp_path):
    """A folder's documents (.txt, .md, .jsonl, .html, PubMed .xml, .pdf) are ingested; its other files (not hidden
    ones) are named on stderr and in the JSON instead of being passed over in silence."""
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(DATA / "documents" / "medical" / "med01_metformin.txt", folder)
    (folder / "report.docx").write_bytes(b"PK\x03\x04")
    (folder / "sub" / "table.csv").write_text("a,b\n")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    proc = kgnlp("ingest", str(folder), "-w", str(tmp_path / "ws"), "-q")
    assert proc.returncode == 0, proc.stderr
    assert "report.docx" in proc.stderr and "table.csv" in proc.stderr and ".DS_Store" not in proc.stderr
    # the office file is told how to be made readable, as when it is named alone
    assert "(.docx) are not read: save each as PDF, HTML or plain text (.txt)" in proc.stderr, proc.stderr
    data = kgnlp("ingest", str(folder), "-w", str(tmp_path / "ws"), "--json", check=True)
    got = json.loads(data.stdout)
    assert got["skipped"] == 1 and sorted(Path(p).name for p in got["not_read"]) == ["report.docx", "table.csv"]


def test_embed_on_an_rdf_only_workspace_and_embed_sizes(tmp_path):
    from kg.records import Entity, Triple
    from kg.workspace import Workspace

    w = Workspace.open(tmp_path / "ws", create=True)
    g = w.open_store("rdf")
    g.add([Triple("chem:a", "TREATS", "dis:b", 1.0)], [Entity("chem:a", "a", "Chemical"), Entity("dis:b", "b", "Disease")])
    g.close()
    _assert_one_line_error(kgnlp("embed", "-w", str(w.path)), 1, "--store rdf")
    assert not w.graph_path.exists()
    for option in ("--dim", "--epochs"):
        _assert_one_line_error(kgnlp("embed", option, "0", "-w", str(w.path), "--store", "rdf"), 2, option)


def test_hidden_files_and_folders_are_not_ingested(tmp_path):
    docs = tmp_path / "docs"
    (docs / ".cache").mkdir(parents=True)
    (docs / "a.txt").write_text("Warfarin can cause bleeding.", encoding="utf-8")
    (docs / ".draft.txt").write_text("Aspirin can cause bleeding.", encoding="utf-8")
    (docs / ".cache" / "b.txt").write_text("Metformin treats type 2 diabetes.", encoding="utf-8")
    kgnlp("ingest", str(docs), "-w", str(tmp_path / "ws"), check=True)
    listed = kgnlp("documents", "-w", str(tmp_path / "ws"), "--json", check=True).stdout
    assert json.loads(listed)["documents"] == ["a"]


def test_migrate_batch_size_below_one_is_refused_and_the_target_keeps_its_facts(tmp_path):
    ws = tmp_path / "ws"
    kgnlp("ingest", str(DATA / "documents" / "medical"), "-w", str(ws), check=True)
    kgnlp("migrate", "--to", "rdf", "-w", str(ws), check=True)
    before = kgnlp("export", "--format", "tsv", "--store", "rdf", "-w", str(ws), check=True).stdout
    for size in ("0", "-5"):
        _assert_one_line_error(kgnlp("migrate", "--to", "rdf", "--batch-size", size, "-w", str(ws)), 2, "batch-size")
    assert kgnlp("export", "--format", "tsv", "--store", "rdf", "-w", str(ws), check=True).stdout == before


def test_more_bad_values_are_one_line_errors(small_ws, tmp_path):
    ws = str(small_ws)
    for lr in ("-1", "nan", "0"):
        _assert_one_line_error(kgnlp("embed", "--lr", lr, "--epochs", "1", "-w", ws), 2, "--lr")
    _assert_one_line_error(kgnlp("query", "cypher", "MATCH (n) RETURN n", "--uri", "http://nope", "-w", ws,
                                 env={"KGNLP_NEO4J_PASSWORD": "x"}), 1, "bolt uri")
    _assert_one_line_error(kgnlp("migrate", "--to", "neo4j", "--uri", "notauri", "-w", ws,
                                 env={"KGNLP_NEO4J_PASSWORD": "x"}), 1, "bolt uri")
    _assert_one_line_error(kgnlp("ask", "What does metformin treat?", "--model", str(tmp_path / "nope"), "-w", ws),
                           2, "qa model")  # refused even where the graph answers without it
    prefixes = ("@prefix kg: <https://kgnlp.dev/ns#> .\n@prefix kge: <https://kgnlp.dev/entity/> .\n"
                "@prefix kgr: <https://kgnlp.dev/relation/> .\n")
    (tmp_path / "nolabel.ttl").write_text(prefixes + "kge:zz a kg:Entity .\n", encoding="utf-8")
    before = _snapshot(small_ws)
    _assert_one_line_error(kgnlp("import", "turtle", str(tmp_path / "nolabel.ttl"), "-w", ws), 1, "rdfs:label")
    assert _snapshot(small_ws) == before


def test_a_dry_run_records_nothing_and_a_corrupt_merge_log_is_named(tmp_path):
    ws = tmp_path / "ws"
    kgnlp("ingest", str(DATA / "documents" / "financial"), "-w", str(ws), check=True)
    kgnlp("entities", "resolve", "--dry-run", "-w", str(ws), check=True)
    assert not (ws / "merges.db").exists()
    (ws / "merges.db").write_bytes(b"not a database" * 200)
    _assert_one_line_error(kgnlp("stats", "-w", str(ws)), 1, "merge log")


def test_a_changed_document_that_loses_facts_reports_a_negative_count(tmp_path):
    doc = tmp_path / "a.txt"
    doc.write_text("Warfarin can cause bleeding. Zorblamab can cause bleeding.", encoding="utf-8")
    seed = write_seed(tmp_path / "seed", [{"id": "chem:w", "name": "warfarin", "type": "Chemical"},
                                          {"id": "chem:z", "name": "Zorblamab", "type": "Chemical"},
                                          {"id": "dis:b", "name": "bleeding", "type": "Disease"}])
    kgnlp("ingest", str(doc), "--seed", str(seed), "-w", str(tmp_path / "ws"), check=True)
    doc.write_text("Warfarin can cause bleeding.", encoding="utf-8")
    proc = kgnlp("ingest", str(doc), "-w", str(tmp_path / "ws"), check=True)
    assert "-1 relations" in proc.stdout and "+-" not in proc.stdout, proc.stdout


def test_migrate_from_a_store_the_workspace_does_not_have_is_refused(tmp_path):
    ws = tmp_path / "ws"
    kgnlp("ingest", str(DATA / "documents" / "medical" / "med01_metformin.txt"), "--store", "rdf", "-w", str(ws),
          check=True)
    _assert_one_line_error(kgnlp("migrate", "--from", "embedded", "--to", "rdf", "-w", str(ws)), 1, "--from rdf")
    assert not (ws / "graph.db").exists()
    _assert_one_line_error(kgnlp("stats", "-w", str(ws)), 1, "rdf store")  # the hint is still right


def test_a_file_that_replaces_a_stored_document_of_the_same_id_is_named(tmp_path):
    for folder, text in (("x1", "Warfarin can cause bleeding."), ("x2", "Aspirin can cause bleeding.")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.txt").write_text(text, encoding="utf-8")
    ws = str(tmp_path / "ws")
    assert kgnlp_json("ingest", str(tmp_path / "x1"), "-w", ws)["replaced"] == []
    proc = kgnlp("ingest", str(tmp_path / "x2"), "-w", ws, check=True)
    assert "Replaced 1 stored document(s)" in proc.stderr and "notes" in proc.stderr, proc.stderr


def test_a_refused_ingest_makes_no_workspace(tmp_path):
    doc = tmp_path / "a.txt"
    doc.write_text("Warfarin can cause bleeding.", encoding="utf-8")
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "entities.jsonl").write_text("{bad\n", encoding="utf-8")
    ws = tmp_path / "ws"  # (a bad --store is refused before the command runs: test_a_value_outside_...)
    _assert_one_line_error(kgnlp("ingest", str(doc), "--seed", str(tmp_path / "seed"), "-w", str(ws)), 1,
                           "entities.jsonl")
    assert not ws.exists()


def test_a_writer_without_store_does_not_start_a_second_graph_beside_an_rdf_one(tmp_path):
    a, b, ws = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "ws"
    a.write_text("Metformin treats type 2 diabetes.", encoding="utf-8")
    b.write_text("Aspirin treats headache.", encoding="utf-8")
    kgnlp("ingest", str(a), "--store", "rdf", "-w", str(ws), check=True)
    _assert_one_line_error(kgnlp("ingest", str(b), "-w", str(ws)), 1, "holds its graph in the rdf store")
    assert not (ws / "graph.db").exists()
    kgnlp("ingest", str(b), "--store", "rdf", "-w", str(ws), check=True)
    kgnlp("ingest", str(b), "--store", "embedded", "-w", str(ws), check=True)  # asked for: a second graph
    assert (ws / "graph.db").exists()


def test_ctrl_c_says_interrupted_once_and_exits_130(monkeypatch, capsys, tmp_path):
    from cli.main import run
    from kg.workspace import Workspace

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Workspace, "open", interrupted)
    with pytest.raises(SystemExit) as exit_:
        run(["stats", "-w", str(tmp_path)])
    assert exit_.value.code == 130
    assert capsys.readouterr().err.strip() == "Interrupted."


def test_a_reader_that_stops_reading_is_no_error(sample_ws):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "export", "-w", str(sample_ws)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    proc.stdout.close()  # as `kgnlp export | head -0` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and err == ""


@pytest.mark.parametrize("kind", ["csv", "turtle"])
def test_importing_a_folder_says_it_is_a_folder(tmp_path, kind):
    _assert_one_line_error(kgnlp("import", kind, str(tmp_path), "-w", str(tmp_path / "ws")), 1,
                           f"'{tmp_path}' is a folder, not a file")
    assert not (tmp_path / "ws").exists()


def test_a_missing_package_is_named_but_a_fault_of_kgnlps_own_is_not_hidden_as_one(monkeypatch):
    from kg import store
    from kg.errors import KGError

    monkeypatch.setitem(store.BACKENDS, "missing", "zz_not_installed_pkg:Store")
    monkeypatch.setitem(store.BACKENDS, "broken", "kg.stores.zz_no_such_module:Store")
    with pytest.raises(KGError, match=r"needs a package that is not installed \(zz_not_installed_pkg\)"):
        store.store_class("missing")
    with pytest.raises(ImportError):
        store.store_class("broken")


@pytest.mark.parametrize("content", [b"5\n", b"null\n", b'["text"]\n', b"\xff\xfe\n"])
def test_a_jsonl_line_that_is_no_object_or_not_utf8_is_one_line_for_every_reader(tmp_path, content):
    data = tmp_path / "d.jsonl"
    data.write_bytes(content)
    for args in (("train", "classify", "--data", str(data), "--out", str(tmp_path / "m")),
                 ("eval", "classify", "--data", str(data), "--model", str(tmp_path)),
                 ("train", "qa", "--data", str(data), "--out", str(tmp_path / "m")),
                 ("train", "classify", "--data", str(tmp_path), "--out", str(tmp_path / "m"))):
        proc = kgnlp(*args)
        _assert_one_line_error(proc, 1)
        assert "Internal error" not in proc.stderr and not (tmp_path / "m").exists()


def test_text_that_is_not_utf8_is_one_line_from_the_argument_or_stdin(sample_ws):
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}
    for args, stdin in (([b"abc\xff"], None), ([b"-"], b"abc\xff\n")):
        proc = subprocess.run([sys.executable, "-m", "cli.main", "ner", *args, "-w", str(sample_ws)], input=stdin,
                              capture_output=True, env=env, cwd=ROOT, timeout=120)
        err = proc.stderr.decode()
        assert proc.returncode == 1 and err.count("\n") == 1 and "is not UTF-8 text" in err, err


def test_remove_with_a_document_id_that_is_not_utf8_is_one_line(sample_ws):
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}
    proc = subprocess.run([sys.executable, "-m", "cli.main", "remove", b"caf\xe9", "-w", str(sample_ws)],
                          capture_output=True, env=env, cwd=ROOT, timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and err.count("\n") == 1 and "document id is not UTF-8 text" in err, err


@pytest.mark.parametrize("command", [("query", "entity"), ("query", "neighbours"), ("viz",)])
def test_any_argument_that_is_not_utf8_is_one_line_naming_it(sample_ws, command):
    """Commands without a check of their own (names, paths, queries) still say which argument is not UTF-8."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}
    proc = subprocess.run([sys.executable, "-m", "cli.main", *command, b"caf\xe9", "-w", str(sample_ws)],
                          capture_output=True, env=env, cwd=ROOT, timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and err.count("\n") == 1, err
    assert f"argument {len(command) + 1} ('caf\\xe9') is not UTF-8 text" in err and "Internal error" not in err, err
