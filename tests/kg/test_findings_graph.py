"""The hand-written research-findings concept graph in data/findings: well-formed (with tests/kg/test_concept_graphs.py), loadable, and linkable."""
from __future__ import annotations

from collections import defaultdict

import pytest

from fusion.context import NameLinker
from kg.schema import load_schema
from kg.seed import read_seed
from tests.conftest import DATA

FINDINGS = DATA / "findings"


@pytest.fixture(scope="module")
def graph():
    return read_seed(FINDINGS, load_schema(FINDINGS / "schema.toml"))


def test_every_way_of_reporting_says_what_it_signals(graph):
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for t in graph.triples:
        out[t.head_id][t.relation].append(t.tail_id)
    evidence = {e.id for e in graph.entities if e.type == "Evidence"}
    reporting = [e.id for e in graph.entities if e.type in ("Finding", "Change", "Certainty")]
    assert len(reporting) >= 10 and evidence == {"find:effect", "find:no_effect", "find:uncertain"}
    for concept in reporting:
        said = out[concept]["SIGNALS"] + out[concept]["NEGATES"]
        assert len(said) == 1 and said[0] in evidence, concept
        assert set(out[concept]) <= {"SIGNALS", "NEGATES"}, concept  # one fact each: the one worth reading
    assert out["find:not_significant"]["SIGNALS"] == ["find:no_effect"]
    assert out["find:significant"]["SIGNALS"] == ["find:effect"]
    assert out["find:hedge"]["SIGNALS"] == ["find:uncertain"]


def test_the_longest_way_of_saying_it_wins(graph, tmp_path):
    from kg.stores.sqlite import SQLiteStore

    store = SQLiteStore.open(tmp_path / "f.db")
    store.add(graph.triples, graph.entities)
    linked = {m.text: m.entity_id for m in NameLinker.from_store(store).link(
        "There was no significant difference in mortality, although the drug may reduce pain.")}
    assert linked["no significant difference"] == "find:not_significant"  # not "significant" inside it
    assert linked["may"] == "find:hedge" and "significant" not in linked
    store.close()
