"""The Bolt backend under failure: a server killed mid-ingest, bad credentials, and writes without --write."""
from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from kg.errors import KGError
from kg.records import Entity

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / ".ci" / "arcadedb.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server(action: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), action], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=150)


@pytest.fixture
def private_server(tmp_path):
    """A server of our own (own ports, own root dir), so killing it cannot hurt other tests."""
    import importlib.util

    if importlib.util.find_spec("arcadedb_embedded") is None:
        msg = "arcadedb-embedded is not installed: bash .ci/arcadedb.sh install"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    env = {"KGNLP_TEST_BOLT_PORT": str(free_port()), "KGNLP_TEST_HTTP_PORT": str(free_port()),
           "KGNLP_ARCADEDB_DIR": str(tmp_path / "arcadedb"), "KGNLP_TEST_BOLT_PASSWORD": "reliability-pw",
           "KGNLP_ARCADEDB_HEAP": "512m"}
    started = server("start", env)
    assert started.returncode == 0, started.stderr
    yield env
    server("stop", env)


def open_store(env: dict[str, str], prefix: str = "R_"):
    from kg.stores.neo4j import Neo4jStore

    return Neo4jStore.open(None, uri=f"bolt://127.0.0.1:{env['KGNLP_TEST_BOLT_PORT']}", user="root",
                           password=env["KGNLP_TEST_BOLT_PASSWORD"], batch_size=100, label_prefix=prefix,
                           retry_seconds=2.0)


def test_neo4j_killed_mid_ingest_fails_clearly_and_rerun_leaves_no_duplicates(private_server):
    env = private_server
    n = 3000  # enough batches that the ingest is still running when the server is killed (600 raced on a quiet machine)
    entities = [Entity(f"n{i}", f"Node {i}", "Thing") for i in range(n)]
    rows = [(f"n{i}", "LINKS", f"n{(i * 7 + 1) % n}") for i in range(n)] + \
           [(f"n{i}", "NEXT", f"n{(i + 1) % n}") for i in range(n)]
    store = open_store(env)
    errors: list[BaseException] = []

    def ingest() -> None:
        try:
            store.bulk_load(rows, entities, source="test")
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            errors.append(exc)

    worker = threading.Thread(target=ingest)
    worker.start()
    pid = int((Path(env["KGNLP_ARCADEDB_DIR"]) / "server.pid").read_text())
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until the ingest is under way, then kill -9 the server
        probe = open_store(env)
        try:
            if probe.query("MATCH (:R_Entity)-[x]->() RETURN count(x) AS n").rows[0][0] > 0:
                break
        finally:
            probe.close()
        time.sleep(0.2)
    os.kill(pid, 9)
    worker.join(60)
    store.close()
    assert not worker.is_alive()
    assert errors, "the ingest should have failed when the server died"
    err = errors[0]
    assert isinstance(err, KGError)
    message = str(err)
    assert "\n" not in message and "Cannot reach the Bolt server" in message

    server("stop", env)
    restarted = server("start", env)
    assert restarted.returncode == 0, restarted.stderr
    store = open_store(env)
    try:
        store.bulk_load(rows, entities, source="test")
        q = store.query
        assert q("MATCH (e:R_Entity) RETURN count(e) AS n").rows[0][0] == n
        assert q("MATCH (e:R_Entity) WITH e.id AS id, count(*) AS c WHERE c > 1 RETURN count(id) AS d").rows[0][0] == 0
        assert q("MATCH (:R_Entity)-[x]->(:R_Entity) RETURN count(x) AS n").rows[0][0] == len(rows)
        assert store.bulk_load(rows, [], source="test") == 0
        assert q("MATCH (:R_Entity)-[x]->(:R_Entity) RETURN count(x) AS n").rows[0][0] == len(rows)
    finally:
        store.close()


def test_neo4j_wrong_password_is_one_clear_line(make_store, bolt_settings):
    from kg.stores.neo4j import Neo4jStore

    make_store("neo4j").close()  # skips or fails (CI) when no server
    with pytest.raises(KGError, match="wrong user or password") as info:
        Neo4jStore.open(None, uri=bolt_settings["uri"], user=bolt_settings["user"], password="not-the-password",
                        retry_seconds=1)
    assert "\n" not in str(info.value)


def test_neo4j_server_down_is_one_clear_line():
    from kg.stores.neo4j import Neo4jStore

    with pytest.raises(KGError, match="Cannot reach the Bolt server") as info:
        Neo4jStore.open(None, uri=f"bolt://127.0.0.1:{free_port()}", user="root", password="x", retry_seconds=1)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("cypher", [
    "CREATE (n:Entity {id: 'evil'})",
    "MATCH (n) DETACH DELETE n",
    "match (n) set n.x = 1",
    "MERGE (n:Entity {id: 'evil'}) RETURN n",
    "CALL { CREATE (:X) } RETURN 1",
    "MATCH (n) REMOVE n.name",
    "DROP CONSTRAINT kg_entity_id",
])
def test_neo4j_query_refuses_cypher_writes_without_write(make_store, cypher):
    store = make_store("neo4j")
    store.add([], [Entity("a", "A", "Thing")])
    with pytest.raises(KGError, match="--write"):
        store.query(cypher)
    assert store.entity("a") is not None


def test_neo4j_query_allows_reads_and_writes_with_write(make_store):
    store = make_store("neo4j")
    p = store.prefix
    assert store.query("RETURN 'CREATE (x)' AS text, 1 AS one // DELETE in a comment").rows == (("CREATE (x)", 1),)
    store.query(f"CREATE (n:`{p}Entity` {{id: 'w', name: 'W', type: 'Thing', stub: false}})", write=True)
    assert store.entity("w").name == "W"


def test_sparql_update_is_refused_without_write(make_store):
    store = make_store("rdf")
    store.add([], [Entity("a", "A", "Thing")])
    with pytest.raises(KGError, match="--write"):
        store.query("INSERT DATA { kge:b a kg:Entity }")
    with pytest.raises(KGError, match="--write"):
        store.query("DELETE WHERE { ?s ?p ?o }")
    assert store.entity("a") is not None
    store.query('INSERT DATA { kge:b a kg:Entity ; rdfs:label "B" ; kg:entityType "Thing" }', write=True)
    assert store.entity("b").name == "B"
    assert store.query("ASK { kge:b a kg:Entity }").rows == ((True,),)
    with pytest.raises(KGError, match="syntax"):
        store.query("SELEKT nonsense")
