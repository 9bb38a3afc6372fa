"""Fixtures for the graph-store tests: one ``make_store`` per backend, and the Bolt test server settings.

The neo4j backend runs against the server that ``bash .ci/arcadedb.sh start`` starts (or any Neo4j: set
KGNLP_TEST_BOLT_URI / _USER / _PASSWORD, or KGNLP_NEO4J_URI). Each store a test opens gets its own label prefix, so
tests never touch each other's data or anything else in the database. A prefix whose graph was wiped empty after its
test is used again by a later test of the same process: ArcadeDB keeps files for every label it has seen, and one
fresh prefix per test ran the server out of open files over a few runs. With CI=true a missing server fails the run.
"""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

BOLT_URI = os.environ.get("KGNLP_TEST_BOLT_URI") or os.environ.get("KGNLP_NEO4J_URI") or "bolt://127.0.0.1:7687"
BOLT_USER = os.environ.get("KGNLP_TEST_BOLT_USER", "root")
BOLT_PASSWORD = os.environ.get("KGNLP_TEST_BOLT_PASSWORD", "kgnlp-test-password")
BACKENDS = ("embedded", "rdf", "neo4j")


def bolt_problem() -> str | None:
    """Why the Bolt server cannot be used, or None when it answers ``RETURN 1``."""
    try:
        from neo4j import GraphDatabase

        with GraphDatabase.driver(BOLT_URI, auth=(BOLT_USER, BOLT_PASSWORD), connection_timeout=3) as d:
            with d.session() as s:
                s.run("RETURN 1").consume()
    except Exception as exc:  # any failure means: no usable server
        return f"{type(exc).__name__}: {str(exc)[:160]}"
    return None


_PROBLEM: list[str | None] = []


def require_bolt() -> None:
    if not _PROBLEM:
        _PROBLEM.append(bolt_problem())
    problem = _PROBLEM[0]
    if problem is None:
        return
    msg = (f"No Bolt server at {BOLT_URI} ({problem}). Start one with `bash .ci/arcadedb.sh start` "
           "or point KGNLP_TEST_BOLT_URI at a Neo4j.")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(msg)
    pytest.skip(msg)


def wipe_prefix(prefix: str) -> bool:
    """Delete the (small) test graph under one label prefix; True when nothing is left under it."""
    from neo4j import GraphDatabase

    from kg.stores.neo4j import Neo4jStore

    with GraphDatabase.driver(BOLT_URI, auth=(BOLT_USER, BOLT_PASSWORD)) as d:
        with d.session() as s:
            left = 0
            for label in Neo4jStore.LABELS:
                s.run(f"MATCH (n:`{prefix}{label}`) DETACH DELETE n").consume()
                left += s.run(f"MATCH (n:`{prefix}{label}`) RETURN count(n) AS c").single()["c"]
    return left == 0


def load_cypher(script: str, neo, prefix: str) -> None:
    """Run an exported Cypher script's statements through ``neo`` with every label under ``prefix`` (the test's own
    graph on the shared server); its schema statements are left out (the store made them for its labels)."""
    from kg.stores.neo4j import Neo4jStore

    labels = "|".join(Neo4jStore.LABELS)
    for stmt in filter(None, (s.strip() for s in script.split(";\n"))):
        if not re.match(r"CREATE (CONSTRAINT|INDEX) ", stmt):
            neo.query(re.sub(rf"(\(\w*):`?({labels})`?([ )])", rf"\1:`{prefix}\2`\3", stmt), write=True)


_FREE_PREFIXES: list[str] = []  # generated prefixes wiped empty, to be used again in this process


@pytest.fixture
def bolt_settings() -> dict[str, str]:
    """URI, user and password of the shared Bolt test server."""
    return {"uri": BOLT_URI, "user": BOLT_USER, "password": BOLT_PASSWORD}


@pytest.fixture
def make_store(tmp_path: Path) -> Iterator[Callable]:
    """``make_store(kind)`` opens a fresh, empty store of that backend; all are closed afterwards."""
    opened: list = []
    prefixes: list[str] = []
    generated: list[str] = []

    def make(kind: str, **options):
        if kind == "embedded":
            from kg.stores.sqlite import SQLiteStore

            store = SQLiteStore.open(tmp_path / f"graph{len(opened)}.db")
        elif kind == "rdf":
            from kg.stores.rdf import RDFStore

            store = RDFStore.open(path=tmp_path / f"rdf{len(opened)}")
        else:
            require_bolt()
            from kg.stores.neo4j import Neo4jStore

            prefix = options.pop("label_prefix", None)
            if prefix is None:  # a test's own prefix (reopening a store) is never pooled
                prefix = _FREE_PREFIXES.pop() if _FREE_PREFIXES else f"T{uuid.uuid4().hex[:10]}_"
                generated.append(prefix)
            prefixes.append(prefix)
            store = Neo4jStore.open(None, uri=BOLT_URI, user=BOLT_USER, password=BOLT_PASSWORD,
                                    label_prefix=prefix, retry_seconds=3.0, **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        try:
            store.close()
        except Exception:
            pass
    wiped = set()
    for prefix in dict.fromkeys(prefixes):
        try:
            if wipe_prefix(prefix):
                wiped.add(prefix)
        except Exception:
            pass
    _FREE_PREFIXES.extend(p for p in generated if p in wiped)
