"""The hand-written financial concept graph in data/finance: well-formed (with tests/kg/test_concept_graphs.py), loadable, and usable from the CLI."""
from __future__ import annotations

from collections import defaultdict

import pytest

from kg.schema import load_schema
from kg.seed import read_seed
from tests.conftest import DATA, kgnlp, kgnlp_json

FIN = DATA / "finance"


@pytest.fixture(scope="module")
def graph():
    return read_seed(FIN, load_schema(FIN / "schema.toml"))


def test_every_measure_has_one_direction_and_its_opposite(graph):
    by_head: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for t in graph.triples:
        by_head[t.head_id][t.relation].append(t.tail_id)
    flip = {"fin:favourable": "fin:unfavourable", "fin:unfavourable": "fin:favourable"}
    measures = [e.id for e in graph.entities if e.type == "FinancialMeasure"]
    events = [e.id for e in graph.entities if e.type == "BusinessEvent"]
    assert len(measures) >= 15 and len(events) >= 15
    for m in measures:
        rising, falling = by_head[m]["RISING_IS"], by_head[m]["FALLING_IS"]
        assert len(rising) == 1 and falling == [flip[rising[0]]], m
    for e in events:
        assert len(by_head[e]["SIGNALS"]) == 1 and len(by_head[e]["IS_A"]) == 1, e
    # costs going up is bad news, sales going up good news
    assert by_head["fin:costs"]["RISING_IS"] == ["fin:unfavourable"]
    assert by_head["fin:net_sales"]["RISING_IS"] == ["fin:favourable"]


def test_facts_read_as_sentences():
    schema = load_schema(FIN / "schema.toml")
    assert schema.verbalise("net sales", "RISING_IS", "favourable") == "net sales going up is favourable"
    assert schema.get("OPPOSITE_OF").symmetric


def test_cli_ingest_with_the_finance_graph(tmp_path):
    doc = tmp_path / "news.txt"
    doc.write_text("Net sales of Northwind rose 12 percent, while operating costs fell.\n", encoding="utf-8")
    ws = tmp_path / "ws"
    kgnlp_json("ingest", str(doc), "--seed", str(FIN), "--config", str(FIN / "schema.toml"), "-w", str(ws))
    found = kgnlp_json("query", "entity", "revenue", "-w", str(ws))
    assert found["entity"]["id"] == "fin:net_sales"
    said = {(f["relation"], f["tail"]) for f in found["facts"]}
    assert ("RISING_IS", "favourable") in said and ("FALLING_IS", "unfavourable") in said
    # without the schema the seed's relations are unknown: one clear line, non-zero exit, nothing stored
    other = tmp_path / "ws2"
    proc = kgnlp("ingest", str(doc), "--seed", str(FIN), "-w", str(other))
    assert proc.returncode != 0 and "Unknown relation" in proc.stderr


def test_a_measures_direction_fact_comes_with_the_direction_the_sentence_says(tmp_path):
    """With conditions (``when``) on RISING_IS / FALLING_IS, after "operating profit fell" the model reads that
    profit going down is unfavourable, not that it going up is favourable; a sentence with no change word gets
    neither. data/finance ships without them (they did not help PhraseBank, BENCHMARKS.md): a user adds them."""
    from fusion.examples import Knowledge
    from kg.stores.sqlite import SQLiteStore

    plain_schema = load_schema(FIN / "schema.toml")
    assert plain_schema.when("RISING_IS") == ()
    (tmp_path / "s.toml").write_text((FIN / "schema.toml").read_text(encoding="utf-8").replace(
        'verb = "going up is"', 'verb = "going up is"\nwhen = ["fin:increase"]').replace(
        'verb = "going down is"', 'verb = "going down is"\nwhen = ["fin:decrease"]'), encoding="utf-8")
    schema = load_schema(tmp_path / "s.toml")
    assert schema.when("RISING_IS") == ("fin:increase",) and schema.when("IS_A") == ()
    g = read_seed(FIN, schema)
    store = SQLiteStore.open(tmp_path / "fin.db")
    store.add(g.triples, g.entities)
    know = Knowledge(store=store, schema=schema)

    def facts(text, knowledge=know):
        return {f.text for f in knowledge.context(text).facts if "operating profit" in f.text}

    assert facts("Operating profit fell to EUR 3 mn .") == {"operating profit going down is unfavourable",
                                                             "operating profit is a kind of profitability measure"}
    assert facts("Operating profit rose to EUR 3 mn .") == {"operating profit going up is favourable",
                                                             "operating profit is a kind of profitability measure"}
    assert facts("Operating profit was EUR 3 mn .") == {"operating profit is a kind of profitability measure"}
    # without the conditions the facts are ranked without the sentence: here (no vectors: by key) the falling
    # one comes after "rose" too
    assert "operating profit going down is unfavourable" in facts("Operating profit rose .", Knowledge(
        store=store, schema=plain_schema))
    store.close()


def test_a_condition_must_name_entities(tmp_path):
    from kg.errors import KGError

    bad = tmp_path / "s.toml"
    bad.write_text('[[relations]]\nname = "RISING_IS"\nwhen = [1]\n', encoding="utf-8")
    with pytest.raises(KGError, match="'when' of relation RISING_IS .* must be a list of entity ids"):
        load_schema(bad)
    bad.write_text('[[relations]]\nname = "RISING_IS"\nwhen = "fin:increase"\n', encoding="utf-8")
    assert load_schema(bad).when("RISING_IS") == ("fin:increase",)
