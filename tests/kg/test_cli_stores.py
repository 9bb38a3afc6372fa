"""The store commands through Typer (a local app; cli/main.py wires the same register())."""
from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from cli.commands.stores import register
from kg.errors import KGError
from kg.records import Entity, Provenance, Triple
from kg.workspace import Workspace


@pytest.fixture
def app() -> typer.Typer:
    root, query = typer.Typer(), typer.Typer()
    register(root, query)
    root.add_typer(query, name="query")
    return root


def _sample_workspace(path, store: str):
    """A workspace whose ``store`` holds one sourced fact: Aspirin TREATS Headache."""
    w = Workspace.open(path, create=True)
    g = w.open_store(store)
    g.add([Triple("d:asp", "TREATS", "x:head", 0.9, (Provenance("doc1", 0, 5, "s", "pattern"),))],
          [Entity("d:asp", "Aspirin", "Drug"), Entity("x:head", "Headache", "Disease")])
    g.close()
    return w.path


@pytest.fixture
def ws(tmp_path):
    return _sample_workspace(tmp_path / "ws", "embedded")


def invoke(app, *args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_every_command_has_help_with_an_example(app):
    for cmd in (["stats"], ["export"], ["import", "turtle"], ["import", "hetionet"], ["import", "csv"], ["migrate"], ["query", "sparql"], ["query", "cypher"]):
        result = invoke(app, *cmd, "--help")
        assert result.exit_code == 0 and "Example" in result.output, cmd


def test_cli_stats_json(app, ws):
    data = json.loads(invoke(app, "stats", "--workspace", ws, "--json").output)
    assert (data["entities"], data["relations"], data["by_relation"]) == (2, 1, {"TREATS": 1})
    assert data["degree"]["max"] == 1


def test_cli_export_tsv_and_file(app, ws, tmp_path):
    assert invoke(app, "export", "--workspace", ws, "--format", "tsv").output == "Aspirin\tTREATS\tHeadache\n"
    out = tmp_path / "g.ttl"
    data = json.loads(invoke(app, "export", "--workspace", ws, "--format", "turtle", "--out", out, "--json").output)
    assert data == {"format": "turtle", "facts": 1, "out": str(out)}
    assert "kgr:TREATS" in out.read_text()


def test_cli_migrate_to_rdf_then_sparql(app, ws):
    data = json.loads(invoke(app, "migrate", "--from", "embedded", "--to", "rdf", "--workspace", ws, "--json").output)
    assert (data["entities"], data["facts"]) == (2, 1)
    res = json.loads(invoke(app, "query", "sparql", "SELECT ?n WHERE { ?d kgr:TREATS ?x . ?d rdfs:label ?n }",
                            "--workspace", ws, "--json").output)
    assert res == {"columns": ["n"], "rows": [["Aspirin"]]}
    refused = invoke(app, "query", "sparql", "DELETE WHERE { ?s ?p ?o }", "--workspace", ws)
    assert isinstance(refused.exception, KGError) and "--write" in str(refused.exception)


def test_cli_import_round_trip(app, ws, tmp_path):
    out = tmp_path / "g.nt"
    invoke(app, "export", "--workspace", ws, "--format", "ntriples", "--out", out)
    other = tmp_path / "other"
    data = json.loads(invoke(app, "import", "ntriples", out, "--workspace", other, "--json").output)
    assert (data["entities"], data["facts"]) == (2, 1)
    missing = invoke(app, "import", "turtle", tmp_path / "nope.ttl", "--workspace", other)
    assert isinstance(missing.exception, KGError)


def test_cli_import_of_a_bad_rdf_file_makes_no_workspace(app, tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_bytes(b"\xff\xfe not turtle")
    result = invoke(app, "import", "turtle", bad, "--workspace", tmp_path / "new")
    assert isinstance(result.exception, KGError) and "Not valid turtle" in str(result.exception)
    assert not (tmp_path / "new").exists()


def test_cli_cypher_needs_the_password_variable(app, ws, monkeypatch):
    monkeypatch.delenv("KGNLP_NO_SUCH_PW", raising=False)
    result = invoke(app, "query", "cypher", "RETURN 1", "--workspace", ws, "--password-env", "KGNLP_NO_SUCH_PW")
    assert isinstance(result.exception, KGError) and "KGNLP_NO_SUCH_PW" in str(result.exception)


def test_cli_cypher_refuses_writes_without_write(app, ws, monkeypatch, make_store, bolt_settings):
    make_store("neo4j").close()  # skips locally / fails in CI without a server
    monkeypatch.setenv("KGNLP_TEST_PW", bolt_settings["password"])
    common = ["--workspace", ws, "--uri", bolt_settings["uri"], "--user", bolt_settings["user"],
              "--password-env", "KGNLP_TEST_PW"]
    ok = invoke(app, "query", "cypher", "RETURN 1 AS one", *common, "--json")
    assert json.loads(ok.output) == {"columns": ["one"], "rows": [[1]]}
    refused = invoke(app, "query", "cypher", "CREATE (:Nope)", *common)
    assert isinstance(refused.exception, KGError) and "--write" in str(refused.exception)


def test_cli_neo4j_label_prefix_from_the_environment_keeps_a_graph_under_its_own_labels(app, ws, monkeypatch,
                                                                                       make_store, bolt_settings):
    import uuid

    from tests.kg.conftest import wipe_prefix

    make_store("neo4j").close()  # skips locally / fails in CI without a server
    prefix = f"T{uuid.uuid4().hex[:10]}_"
    monkeypatch.setenv("KGNLP_TEST_PW", bolt_settings["password"])
    monkeypatch.setenv("KGNLP_NEO4J_LABEL_PREFIX", prefix)
    common = ["--workspace", ws, "--uri", bolt_settings["uri"], "--user", bolt_settings["user"],
              "--password-env", "KGNLP_TEST_PW"]
    try:
        moved = invoke(app, "migrate", "--to", "neo4j", *common)
        assert moved.exit_code == 0, moved.output
        stats = json.loads(invoke(app, "stats", "--store", "neo4j", *common, "--json").output)
        assert (stats["entities"], stats["relations"]) == (2, 1)
        count = json.loads(invoke(app, "query", "cypher", f"MATCH (e:`{prefix}Entity`) RETURN count(e) AS n",
                                  *common, "--json").output)
        assert count["rows"] == [[2]]
        monkeypatch.setenv("KGNLP_NEO4J_LABEL_PREFIX", "9-bad")
        bad = invoke(app, "stats", "--store", "neo4j", *common)
        assert isinstance(bad.exception, KGError) and "Label prefix '9-bad'" in str(bad.exception)
    finally:
        wipe_prefix(prefix)


def test_cli_sparql_reads_the_embedded_graph_without_a_copy(app, ws):
    """The default store is embedded: SPARQL reads it (an in-memory RDF copy) and leaves no rdf store behind."""
    res = json.loads(invoke(app, "query", "sparql", "SELECT ?n ?doc WHERE { ?d kgr:TREATS ?x . ?d rdfs:label ?n . "
                            "?f rdf:subject ?d ; kg:evidence ?e . ?e kg:docId ?doc }", "--workspace", ws,
                            "--json").output)
    assert res == {"columns": ["n", "doc"], "rows": [["Aspirin", "doc1"]]}
    assert not (ws / "rdf").exists()


def test_cli_sparql_write_on_the_embedded_graph_is_refused_and_changes_nothing(app, ws):
    refused = invoke(app, "query", "sparql", "DELETE WHERE { ?s ?p ?o }", "--write", "--workspace", ws)
    assert isinstance(refused.exception, KGError) and "--store rdf" in str(refused.exception)
    assert json.loads(invoke(app, "stats", "--workspace", ws, "--json").output)["relations"] == 1


def test_cli_sparql_store_rdf_without_an_rdf_store_says_how_to_make_one(app, ws):
    result = invoke(app, "query", "sparql", "SELECT ?s WHERE { ?s ?p ?o }", "--store", "rdf", "--workspace", ws)
    assert isinstance(result.exception, KGError) and "migrate" in str(result.exception)
    assert not (ws / "rdf").exists()


@pytest.mark.parametrize("command", [("stats",), ("export",)])
def test_reading_store_rdf_of_a_workspace_without_one_makes_none_so_migrate_from_rdf_cannot_empty_the_graph(
        app, ws, command):
    result = invoke(app, *command, "--store", "rdf", "--workspace", ws)
    assert isinstance(result.exception, KGError) and "migrate" in str(result.exception)
    assert not (ws / "rdf").exists()
    refused = invoke(app, "migrate", "--from", "rdf", "--to", "embedded", "--workspace", ws)
    assert isinstance(refused.exception, KGError)
    assert json.loads(invoke(app, "stats", "--workspace", ws, "--json").output)["relations"] == 1


@pytest.mark.parametrize("command", [("stats",), ("export",), ("query", "sparql", "SELECT ?s WHERE { ?s ?p ?o }")])
def test_reading_a_workspace_without_a_graph_makes_none(app, tmp_path, command):
    """A workspace folder whose graph is gone (or never made): a reading command says so and leaves the folder as it
    was, instead of making an empty graph.db and reporting an empty graph."""
    ws = Workspace.open(tmp_path / "ws", create=True).path
    result = invoke(app, *command, "--workspace", ws)
    assert isinstance(result.exception, KGError) and "kgnlp ingest" in str(result.exception)
    assert sorted(p.name for p in ws.iterdir()) == ["workspace.json"]


@pytest.mark.parametrize("command", [("stats",), ("export",), ("query", "sparql", "SELECT ?s WHERE { ?s ?p ?o }")])
def test_reading_a_workspace_whose_graph_file_is_empty_writes_nothing_into_it(app, tmp_path, command):
    """A 0-byte graph.db (made, never written: a copy cut short, a touch) is no graph: a reading command says so in
    one line and leaves it 0 bytes, with no -wal or -shm beside it; a writer may make it a graph."""
    w = Workspace.open(tmp_path / "ws", create=True)
    w.graph_path.touch()
    result = invoke(app, *command, "--workspace", w.path)
    assert isinstance(result.exception, KGError) and "empty (0 bytes)" in str(result.exception)
    with pytest.raises(KGError, match="kgnlp ingest"):  # the readers without --store (eval, the fused models)
        w.read_embedded()
    assert sorted(p.name for p in w.path.iterdir()) == ["graph.db", "workspace.json"]
    assert w.graph_path.stat().st_size == 0
    graph = w.open_store("embedded")  # ingest's way in
    graph.add([], [Entity("d:asp", "Aspirin", "Drug")])
    graph.close()
    assert json.loads(invoke(app, "stats", "--workspace", w.path, "--json").output)["entities"] == 1


def test_cli_sparql_on_neo4j_points_to_cypher(app, ws):
    result = invoke(app, "query", "sparql", "SELECT ?s WHERE { ?s ?p ?o }", "--store", "neo4j", "--workspace", ws)
    assert isinstance(result.exception, KGError) and "query cypher" in str(result.exception)


def test_cli_sparql_store_rdf_after_migrate_can_write(app, ws):
    invoke(app, "migrate", "--from", "embedded", "--to", "rdf", "--workspace", ws)
    common = ["--store", "rdf", "--workspace", ws]
    upd = invoke(app, "query", "sparql", "DELETE WHERE { ?d kgr:TREATS ?x }", "--write", *common, "--json")
    assert json.loads(upd.output) == {"columns": ["updated"], "rows": [[True]]}
    res = json.loads(invoke(app, "query", "sparql", "ASK { ?d kgr:TREATS ?x }", *common, "--json").output)
    assert res == {"columns": ["ask"], "rows": [[False]]}
    # the embedded graph is its own store: unchanged
    res = json.loads(invoke(app, "query", "sparql", "ASK { ?d kgr:TREATS ?x }", "--workspace", ws, "--json").output)
    assert res == {"columns": ["ask"], "rows": [[True]]}


def _merge_aspirin_twin(ws, store: str) -> None:
    """The workspace's ``store`` gains "ASA" with a fact of its own, merged into Aspirin in the merge log."""
    from kg.merges import MergeLog

    g = Workspace.open(ws).open_store(store)
    try:
        g.add([Triple("d:asa", "TREATS", "x:head", 0.8, (Provenance("doc2", 0, 3, "s", "pattern"),))],
              [Entity("d:asa", "ASA", "Drug")])
    finally:
        g.close()
    with MergeLog.for_workspace(ws) as log:
        log.record("d:asp", "d:asa", "test", "same drug", 1.0)


def test_cli_raw_sparql_on_the_rdf_store_says_the_workspaces_merges_are_not_applied(app, tmp_path):
    """A raw query reads the stored graph (merged entities under their own ids), unlike every structured reader:
    one stderr line says so, and only where it is so."""
    ws = _sample_workspace(tmp_path / "ws", "rdf")
    treats = "SELECT ?d WHERE { ?d kgr:TREATS ?x } ORDER BY ?d"
    quiet = invoke(app, "query", "sparql", treats, "--store", "rdf", "--workspace", ws, "--json")
    assert quiet.exit_code == 0 and quiet.stderr == ""  # no merges: nothing to say
    _merge_aspirin_twin(ws, "rdf")
    raw = invoke(app, "query", "sparql", treats, "--store", "rdf", "--workspace", ws, "--json")
    assert raw.exit_code == 0, raw.output
    assert [r[0].rsplit("/", 1)[1] for r in json.loads(raw.stdout)["rows"]] == ["d%3Aasa", "d%3Aasp"]  # not merged
    (note,) = raw.stderr.strip().splitlines()
    assert "without this workspace's 1 entity merge(s)" in note and "kgnlp query entity" in note


def test_cli_sparql_on_the_embedded_store_reads_the_graph_merged_without_a_note(app, ws):
    _merge_aspirin_twin(ws, "embedded")
    res = invoke(app, "query", "sparql", "SELECT ?d WHERE { ?d kgr:TREATS ?x }", "--workspace", ws, "--json")
    assert [r[0].rsplit("/", 1)[1] for r in json.loads(res.stdout)["rows"]] == ["d%3Aasp"]
    assert "merge" not in res.stderr


def test_cli_cypher_says_the_workspaces_merges_are_not_applied(app, ws, monkeypatch, make_store, bolt_settings):
    from tests.kg.conftest import wipe_prefix

    prefix = make_store("neo4j").prefix  # skips locally / fails in CI without a server; a prefix of its own
    monkeypatch.setenv("KGNLP_TEST_PW", bolt_settings["password"])
    monkeypatch.setenv("KGNLP_NEO4J_LABEL_PREFIX", prefix)
    common = ["--workspace", ws, "--uri", bolt_settings["uri"], "--user", bolt_settings["user"],
              "--password-env", "KGNLP_TEST_PW"]
    try:
        _merge_aspirin_twin(ws, "embedded")
        assert invoke(app, "migrate", "--to", "neo4j", *common).exit_code == 0
        res = invoke(app, "query", "cypher", f"MATCH (d:`{prefix}Entity`)-[:TREATS]->() RETURN d.id ORDER BY d.id",
                     *common, "--json")
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["rows"] == [["d:asa"], ["d:asp"]]  # the stored graph, not merged
        (note,) = res.stderr.strip().splitlines()
        assert note.startswith("Note: Cypher reads the graph as stored") and "1 entity merge(s)" in note
    finally:
        wipe_prefix(prefix)


def test_cli_cypher_without_a_server_names_the_ways_on(app, ws, monkeypatch):
    monkeypatch.delenv("KGNLP_NO_SUCH_PW", raising=False)
    result = invoke(app, "query", "cypher", "RETURN 1", "--workspace", ws, "--password-env", "KGNLP_NO_SUCH_PW")
    message = str(result.exception)
    assert "migrate --to neo4j" in message and "query sparql" in message


@pytest.fixture
def rdf_only_ws(tmp_path):
    """A workspace whose graph went only to the RDF store (as `kgnlp ingest --store rdf` leaves it)."""
    return _sample_workspace(tmp_path / "rdfws", "rdf")


@pytest.mark.parametrize("command", [("stats",), ("export",), ("query", "sparql", "SELECT ?s WHERE { ?s ?p ?o }")])
def test_reading_the_embedded_store_of_an_rdf_only_workspace_points_to_store_rdf(app, rdf_only_ws, command):
    result = invoke(app, *command, "--workspace", rdf_only_ws)
    assert isinstance(result.exception, KGError) and "--store rdf" in str(result.exception)
    assert not (rdf_only_ws / "graph.db").exists()  # no empty embedded graph made by a read
    ok = invoke(app, *command, "--workspace", rdf_only_ws, "--store", "rdf", "--json")
    assert ok.exit_code == 0, ok.output


def test_reading_the_rdf_store_writes_nothing_and_works_while_a_writer_holds_it(app, rdf_only_ws):
    """Reading commands open the RDF store read-only: its folder's files (names, sizes, times) stay as they were
    (a read-write open rewrites its logs), and they read while another process writes (its lock held)."""
    from kg.stores.rdf import RDFStore
    from tests.conftest import file_tree

    commands = [("stats",), ("export",), ("query", "sparql", "SELECT ?s WHERE { ?s ?p ?o }")]
    before = file_tree(rdf_only_ws)
    for command in commands:
        result = invoke(app, *command, "--workspace", rdf_only_ws, "--store", "rdf")
        assert result.exit_code == 0, (command, result.output)
    assert file_tree(rdf_only_ws) == before
    writer = RDFStore.open(Workspace.open(rdf_only_ws))
    try:
        stats = invoke(app, "stats", "--workspace", rdf_only_ws, "--store", "rdf", "--json")
        assert stats.exit_code == 0 and json.loads(stats.output)["relations"] == 1, stats.output
    finally:
        writer.close()


def test_import_into_the_embedded_store_of_an_rdf_only_workspace_still_works(app, rdf_only_ws, tmp_path):
    out = tmp_path / "g.nt"
    invoke(app, "export", "--workspace", rdf_only_ws, "--store", "rdf", "--format", "ntriples", "--out", out)
    # without --store the import is refused (it would start a second graph beside the RDF one) ...
    refused = invoke(app, "import", "ntriples", out, "--workspace", rdf_only_ws, "--json")
    assert isinstance(refused.exception, KGError) and "--store embedded" in str(refused.exception)
    assert not (rdf_only_ws / "graph.db").exists()
    # ... and with --store embedded it is what was asked for: a copy in the embedded store
    data = json.loads(invoke(app, "import", "ntriples", out, "--workspace", rdf_only_ws, "--store", "embedded",
                             "--json").output)
    assert (data["entities"], data["facts"]) == (2, 1)
    assert json.loads(invoke(app, "stats", "--workspace", rdf_only_ws, "--json").output)["relations"] == 1


def test_cli_sparql_says_when_the_embedded_copy_is_slow(app, ws, monkeypatch):
    import cli.commands.stores as stores

    monkeypatch.setattr(stores, "SLOW_COPY_SECONDS", -1.0)  # every copy counts as slow
    res = invoke(app, "query", "sparql", "ASK { ?d kgr:TREATS ?x }", "--workspace", ws, "--json")
    assert json.loads(res.stdout) == {"columns": ["ask"], "rows": [[True]]}
    assert "in-memory RDF copy of 1 facts" in res.stderr and "--store rdf" in res.stderr


def _cells(output: str) -> list[str]:
    """The body cells of a one-column rich table, each folded cell joined back into one string."""
    rows, cell = [], ""
    for line in output.splitlines():
        if line.startswith("│"):
            cell += line.strip("│").strip()
        elif line.startswith(("├", "└")) and cell:
            rows.append(cell)
            cell = ""
    return rows


@pytest.mark.parametrize("store", ["embedded", "rdf"])
def test_cli_sparql_table_shows_iris_as_prefixed_names_in_full_and_json_keeps_the_iri(app, tmp_path, store):
    long_id = "d:a-rather-long-identifier-for-aspirin-that-an-eighty-column-table-would-cut-0123456789"
    w = Workspace.open(tmp_path / "ws", create=True)
    g = w.open_store(store)
    g.add([Triple(long_id, "TREATS", "x:head", 0.9, (Provenance("doc1", 0, 5, "s", "pattern"),))],
          [Entity(long_id, "Aspirin", "Drug"), Entity("x:head", "Headache", "Disease")])
    g.close()
    common = ["--store", store, "--workspace", w.path]
    table = invoke(app, "query", "sparql", "SELECT ?d WHERE { ?d kgr:TREATS ?x }", *common)
    assert table.exit_code == 0, table.output
    shown = _cells(table.output)
    assert shown == ["kge:d%3Aa-rather-long-identifier-for-aspirin-that-an-eighty-column-table-would-cut-0123456789"]
    # what the table shows is a name the user can paste back into a query
    again = invoke(app, "query", "sparql", f"SELECT ?n WHERE {{ {shown[0]} rdfs:label ?n }}", *common, "--json")
    assert json.loads(again.output)["rows"] == [["Aspirin"]]
    full = json.loads(invoke(app, "query", "sparql", "SELECT ?d WHERE { ?d kgr:TREATS ?x }", *common, "--json").output)
    assert full["rows"] == [["https://kgnlp.dev/entity/d%3Aa-rather-long-identifier-for-aspirin-that-an-eighty-"
                             "column-table-would-cut-0123456789"]]
    # a literal that reads like an IRI is shown as the literal it is
    lit = invoke(app, "query", "sparql", 'SELECT ("https://kgnlp.dev/entity/x" AS ?v) WHERE {}', *common)
    assert _cells(lit.output) == ["https://kgnlp.dev/entity/x"]


def test_cli_cypher_table_shows_nodes_relationships_and_paths_in_pattern_syntax(app, ws, monkeypatch, make_store,
                                                                                  bolt_settings):
    import uuid

    from tests.kg.conftest import wipe_prefix

    make_store("neo4j").close()  # skips locally / fails in CI without a server
    prefix = f"T{uuid.uuid4().hex[:10]}_"
    monkeypatch.setenv("KGNLP_TEST_PW", bolt_settings["password"])
    monkeypatch.setenv("KGNLP_NEO4J_LABEL_PREFIX", prefix)
    monkeypatch.setenv("COLUMNS", "400")  # one line per row
    common = ["--workspace", ws, "--uri", bolt_settings["uri"], "--user", bolt_settings["user"],
              "--password-env", "KGNLP_TEST_PW"]
    try:
        assert invoke(app, "migrate", "--to", "neo4j", *common).exit_code == 0
        out = invoke(app, "query", "cypher", f"MATCH p = (a:`{prefix}Entity`)<-[r]-(b) RETURN a, r, p",
                     *common).output
        assert f'(:{prefix}Entity {{id: "x:head", name: "Headache", ' in out
        assert '[:TREATS {confidence: 0.9, ' in out
        assert f'(:{prefix}Entity {{id: "x:head"}})<-[:TREATS {{confidence: 0.9, ' in out
        assert f']-(:{prefix}Entity {{id: "d:asp"}})' in out
        assert "_labels" not in out and "_type" not in out
        none = invoke(app, "query", "cypher", f"MATCH (a:`{prefix}Nothing`) RETURN a", *common)
        assert none.exit_code == 0 and "No rows." in none.output
    finally:
        wipe_prefix(prefix)


def test_cli_cypher_json_carries_dates_durations_points_and_nodes_inside_maps(app, ws, monkeypatch, make_store,
                                                                            bolt_settings):
    make_store("neo4j").close()  # skips locally / fails in CI without a server
    monkeypatch.setenv("KGNLP_TEST_PW", bolt_settings["password"])
    common = ["--workspace", ws, "--uri", bolt_settings["uri"], "--user", bolt_settings["user"],
              "--password-env", "KGNLP_TEST_PW"]
    res = invoke(app, "query", "cypher", "RETURN date('2024-01-02') AS d, duration('P1DT2H') AS du, "
                 "point({x: 1, y: 2}) AS p, {when: date('2024-01-02')} AS m", *common, "--json")
    assert res.exit_code == 0, res.output
    row = json.loads(res.output)["rows"][0]
    assert row[:2] == ["2024-01-02", "P1DT2H"] and row[3] == {"when": "2024-01-02"}
    assert (row[2]["x"], row[2]["y"]) == (1.0, 2.0) and "srid" in row[2]


@pytest.mark.parametrize("store", ["embedded", "rdf"])
def test_cli_sparql_table_shows_blank_nodes_with_their_prefix_and_booleans_as_sparql_writes_them(app, tmp_path, store):
    path = _sample_workspace(tmp_path / "ws", store)
    common = ["--store", store, "--workspace", path]
    table = invoke(app, "query", "sparql", 'SELECT (BNODE("b") AS ?v) WHERE {} ', *common)
    assert table.exit_code == 0, table.output
    [shown] = _cells(table.output)
    assert shown.startswith("_:") and len(shown) > 2
    data = json.loads(invoke(app, "query", "sparql", 'SELECT (BNODE("b") AS ?v) WHERE {}', *common, "--json").output)
    assert data["rows"][0][0].isalnum()  # JSON keeps the bare id, as before
    for query, cells in (("ASK { ?d kgr:TREATS ?x }", ["true"]), ("ASK { ?d kgr:CAUSES ?x }", ["false"]),
                         ("SELECT (false AS ?v) WHERE {}", ["false"]),
                         ('SELECT ("0"^^xsd:boolean AS ?v) WHERE {}', ["false"]),
                         ('SELECT ("yes"^^xsd:boolean AS ?v) WHERE {}', ["yes"])):  # malformed: its text, not false
        assert _cells(invoke(app, "query", "sparql", query, *common).output) == cells, query


def test_a_read_only_rdf_open_racing_a_writer_s_compaction_is_tried_again_then_one_line(tmp_path, monkeypatch):
    """A writer opening the store compacts it and deletes files a reader's snapshot lists: RocksDB raises
    "Corruption ... No such file" (seen when a reader opened just as `ingest --store rdf` did)."""
    import pyoxigraph as ox

    from kg.stores import rdf

    RDFStore = rdf.RDFStore
    RDFStore.open(path=tmp_path / "rdf").close()
    real, calls = ox.Store.read_only, []

    def racing(path, fail=2):
        calls.append(path)
        if len(calls) <= fail:
            raise RuntimeError(f"Corruption: IO error: No such file or directory: {path}/000024.sst")
        return real(path)

    monkeypatch.setattr(rdf.time, "sleep", lambda s: None)
    monkeypatch.setattr(rdf.ox.Store, "read_only", staticmethod(racing))
    RDFStore.open(path=tmp_path / "rdf", read_only=True).close()
    assert len(calls) == 3
    monkeypatch.setattr(rdf.ox.Store, "read_only", staticmethod(lambda path: racing(path, fail=99)))
    with pytest.raises(KGError, match="another kgnlp process is rewriting it") as err:
        RDFStore.open(path=tmp_path / "rdf", read_only=True)
    assert "\n" not in str(err.value)
