"""Export formats and RDF import, on the embedded and RDF backends (the neo4j path shares the same code)."""
from __future__ import annotations

import io
import re
import uuid
import xml.etree.ElementTree as ET

import pytest

from kg.errors import KGError
from kg.export import export, import_rdf
from kg.names import KEY_VERSION
from kg.records import Entity, Provenance, Triple
from tests.kg.conftest import load_cypher

ENTS = [Entity("d:asp", "Aspirin", "Drug", ("ASA",), (("mesh", "D001241"),)), Entity("x:head", "Head\tache", "Disease"),
        Entity("o:bayer", "Bayer 'AG'", "Company")]
FACTS = [Triple("d:asp", "TREATS", "x:head", 0.9, (Provenance("doc1", 3, 30, "Aspirin treats headache.", "pattern"),)),
         Triple("o:bayer", "MANUFACTURES", "d:asp", 1.0, (Provenance("hetionet", 0, 0, "", "import"),))]


@pytest.fixture(params=["embedded", "rdf"])
def filled(request, make_store):
    store = make_store(request.param)
    store.add(FACTS, ENTS)
    return store


def run(store, fmt: str) -> str:
    buf = io.StringIO()
    export(store, fmt, buf)
    return buf.getvalue()


def test_export_tsv_is_head_relation_tail_by_name(filled):
    lines = sorted(run(filled, "tsv").splitlines())
    assert lines == ["Aspirin\tTREATS\tHead ache", "Bayer 'AG'\tMANUFACTURES\tAspirin"]


def test_export_tsv_keeps_one_fact_per_line_whatever_the_names_hold(make_store):
    store = make_store("embedded")
    store.add([Triple("a", "TREATS", "b")], [Entity("a", "A\rB\u2028C", "Drug"), Entity("b", "D\x0bE\x85F", "Disease")])
    assert run(store, "tsv").splitlines() == ["A B C\tTREATS\tD E F"]


@pytest.mark.parametrize("fmt", ["turtle", "ntriples", "jsonld"])
def test_export_rdf_round_trips_facts_entities_and_provenance(filled, make_store, fmt):
    text = run(filled, fmt)
    target = make_store("embedded")
    report = import_rdf(target, text.encode(), fmt)
    assert (report.entities, report.facts) == (3, 2)
    got = {t.key: t for t in target.triples()}
    assert got[("d:asp", "TREATS", "x:head")].provenance == FACTS[0].provenance
    assert got[("d:asp", "TREATS", "x:head")].confidence == pytest.approx(0.9)
    assert got[("o:bayer", "MANUFACTURES", "d:asp")].provenance == FACTS[1].provenance
    asp = target.entity("d:asp")
    assert (asp.name, asp.aliases, asp.external()) == ("Aspirin", ("ASA",), {"mesh": "D001241"})
    import_rdf(target, text.encode(), fmt)  # idempotent
    assert len(list(target.triples())) == 2


def test_import_reads_foreign_rdf_as_facts(make_store):
    ttl = b"""@prefix ex: <http://example.org/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    ex:metformin ex:treats ex:diabetes ; rdfs:label "Metformin" . ex:diabetes rdfs:label "Diabetes" ."""
    store = make_store("embedded")
    assert import_rdf(store, ttl, "turtle").facts == 1
    (t,) = store.triples()
    assert t.key == ("http://example.org/metformin", "TREATS", "http://example.org/diabetes")
    assert store.entity("http://example.org/metformin").name == "Metformin"
    assert [(p.doc_id, p.extractor) for p in t.provenance] == [("import:rdf", "import")]  # a fact keeps a source


def test_imported_facts_between_undeclared_entities_get_entities_and_a_source(make_store):
    ttl = b"@prefix kge: <https://kgnlp.dev/entity/> . @prefix kgr: <https://kgnlp.dev/relation/> .\n" \
          b"kge:zorb kgr:TREATS kge:blix ."
    store = make_store("embedded")
    import_rdf(store, ttl, "turtle", source="import:x.ttl")
    (t,) = store.triples()
    assert t.key == ("zorb", "TREATS", "blix") and t.provenance[0].doc_id == "import:x.ttl"
    assert store.entity("zorb").name == "zorb" and store.find_entities("blix")[0].id == "blix"


def test_import_reads_a_reified_facts_evidence_whatever_the_statement_is_called(make_store):
    ttl = b"""@prefix kg: <https://kgnlp.dev/ns#> . @prefix kge: <https://kgnlp.dev/entity/> .
    @prefix kgr: <https://kgnlp.dev/relation/> . @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
    @prefix ex: <http://example.org/> .
    kge:acme kgr:ACQUIRED kge:bramble .
    ex:stmt1 a rdf:Statement ; rdf:subject kge:acme ; rdf:predicate kgr:ACQUIRED ; rdf:object kge:bramble ;
        kg:confidence 0.9e0 ; kg:evidence ex:ev1 .
    ex:ev1 kg:docId "news-7" ; kg:start 4 ; kg:end 40 ; kg:sentence "Acme acquired Bramble." ; kg:extractor "pattern" .
    kge:acme kgr:PARTNERED_WITH kge:cobalt .
    [] rdf:subject kge:acme ; rdf:predicate kgr:PARTNERED_WITH ; rdf:object kge:cobalt ; kg:confidence 0.5e0 ."""
    store = make_store("embedded")
    import_rdf(store, ttl, "turtle", source="import:x.ttl")
    facts = {t.key: t for t in store.triples()}
    acquired = facts[("acme", "ACQUIRED", "bramble")]
    assert acquired.confidence == pytest.approx(0.9)
    assert [(p.doc_id, p.start, p.end, p.sentence) for p in acquired.provenance] == [
        ("news-7", 4, 40, "Acme acquired Bramble.")]
    partnered = facts[("acme", "PARTNERED_WITH", "cobalt")]
    assert partnered.confidence == pytest.approx(0.5) and partnered.provenance[0].doc_id == "import:x.ttl"


def test_import_rejects_bad_rdf_with_a_clear_error(make_store):
    with pytest.raises(KGError, match="Not valid turtle"):
        import_rdf(make_store("embedded"), b"this is not turtle", "turtle")
    with pytest.raises(KGError, match="Choose one of"):
        import_rdf(make_store("embedded"), b"", "graphml")


def test_export_graphml_is_valid_xml_with_names_and_relations(filled):
    root = ET.fromstring(run(filled, "graphml").encode())
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    assert len(root.findall(".//g:node", ns)) == 3
    assert len(root.findall(".//g:edge", ns)) == 2
    assert "MANUFACTURES" in run(filled, "graphml")


def test_export_graphml_and_cypher_keep_every_source(filled):
    import json

    import networkx as nx

    g = nx.read_graphml(io.StringIO(run(filled, "graphml")))
    (data,) = [d for _, _, d in g.edges(data=True) if d["relation"] == "TREATS"]
    assert json.loads(data["provenance"]) == [{"doc": "doc1", "start": 3, "end": 30,
                                               "sentence": "Aspirin treats headache.", "extractor": "pattern"}]
    assert "Aspirin treats headache." in run(filled, "cypher")


def test_export_graphml_keeps_aliases_and_external_ids(filled):
    import json

    import networkx as nx

    g = nx.read_graphml(io.StringIO(run(filled, "graphml")))
    asp = g.nodes["d:asp"]
    assert (asp["name"], json.loads(asp["aliases"]), json.loads(asp["external_ids"])) == (
        "Aspirin", ["ASA"], {"mesh": "D001241"})
    assert (json.loads(g.nodes["o:bayer"]["aliases"]), json.loads(g.nodes["o:bayer"]["external_ids"])) == ([], {})


def test_export_cypher_script_runs_on_the_bolt_server(filled, make_store):
    script = run(filled, "cypher")
    assert script.count("MERGE (h)-[x:`TREATS`]->(t)") == 1
    assert "'Bayer \\'AG\\''" in script
    neo = make_store("neo4j")
    load_cypher(script, neo, neo.prefix)
    assert {t.key for t in neo.triples()} == {t.key for t in FACTS}
    assert neo.entity("o:bayer").name == "Bayer 'AG'"


def test_export_cypher_loaded_into_a_graph_finds_entities_by_alias(filled, make_store):
    """The script writes the lookup keys the neo4j store saves (``norm``, a ``Name`` node per other key of an alias)
    and the key rule they were made by: the store finds an entity by alias in a graph it had opened before the load,
    and in one it opens after, which it then takes as it is (no key remade)."""
    from tests.kg.conftest import wipe_prefix

    script = run(filled, "cypher")
    assert "CREATE INDEX kg_name_norm IF NOT EXISTS FOR (n:`Name`) ON (n.norm);" in script
    neo = make_store("neo4j")
    load_cypher(script, neo, neo.prefix)
    assert [e.id for e in neo.find_entities("asa")] == ["d:asp"]
    assert [e.id for e in neo.find_entities("aspirin")] == ["d:asp"]
    fresh = f"T{uuid.uuid4().hex[:10]}_"
    try:
        load_cypher(script, neo, fresh)
        assert neo.query(f"MATCH (m:`{fresh}Meta` {{key: 'name_keys'}}) RETURN m.version").rows == ((KEY_VERSION,),)
        assert neo.query(f"MATCH (n:`{fresh}Name`) RETURN n.norm, n.entity_id").rows == (("asa", "d:asp"),)
        opened = make_store("neo4j", label_prefix=fresh)
        assert [e.id for e in opened.find_entities("ASA")] == ["d:asp"]
        assert {e.id: e.aliases for e in opened.entities()} == {e.id: e.aliases for e in filled.entities()}
    finally:
        wipe_prefix(fresh)


def test_export_cypher_loaded_over_an_entity_leaves_no_key_of_an_alias_it_drops(make_store):
    """Loading the script where an entity is stored already gives it the script's aliases, and only their lookup
    keys: an alias the script does not list is no longer found."""
    from dataclasses import replace

    source = make_store("embedded")
    source.add(FACTS, ENTS)
    neo = make_store("neo4j")
    neo.add([], [replace(ENTS[0], aliases=("ASA", "Old alias"))])
    assert [e.id for e in neo.find_entities("old alias")] == ["d:asp"]
    load_cypher(run(source, "cypher"), neo, neo.prefix)
    assert neo.entity("d:asp").aliases == ("ASA",)
    assert neo.find_entities("old alias") == []
    assert [e.id for e in neo.find_entities("ASA")] == ["d:asp"]


def test_export_cypher_writes_control_characters_as_escapes_one_statement_a_line(make_store):
    odd = "Line\nbreak\x01\u2028end"
    store = make_store("embedded")
    store.add([Triple("a", "TREATS", "b", 0.5, (Provenance("doc\r1", 0, 5, "Sent\x1fence\x85", "pattern"),))],
              [Entity("a", odd, "Drug"), Entity("b", "B", "Disease")])
    script = run(store, "cypher")
    assert len(script.splitlines()) == script.count(";\n")  # str.splitlines also ends a line at \x1f, \x85, \u2028
    neo = make_store("neo4j")
    load_cypher(script, neo, neo.prefix)
    assert neo.entity("a").name == odd
    assert [t.provenance for t in neo.triples()] == [t.provenance for t in store.triples()]


def test_export_unknown_format_is_refused(filled):
    with pytest.raises(KGError, match="Choose one of"):
        run(filled, "xlsx")


@pytest.mark.parametrize("kind", ["embedded", "rdf"])
@pytest.mark.parametrize("value", ["NaN", "INF", "-0.5", "7.5"])
def test_import_refuses_a_confidence_outside_0_to_1_and_stores_nothing(make_store, kind, value):
    ttl = f"""@prefix kg: <https://kgnlp.dev/ns#> . @prefix kge: <https://kgnlp.dev/entity/> .
    @prefix kgr: <https://kgnlp.dev/relation/> . @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
    @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
    kge:a kgr:TREATS kge:b .
    [] rdf:subject kge:a ; rdf:predicate kgr:TREATS ; rdf:object kge:b ;
       kg:confidence "{value}"^^xsd:double .""".encode()
    store = make_store(kind)
    with pytest.raises(KGError, match="expected a number from 0 to 1"):
        import_rdf(store, ttl, "turtle")
    assert list(store.triples()) == [] and list(store.entities()) == []


KGNLP_TTL = b"""@prefix kg: <https://kgnlp.dev/ns#> . @prefix kge: <https://kgnlp.dev/entity/> .
    @prefix kgr: <https://kgnlp.dev/relation/> . @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""


@pytest.mark.parametrize("kind", ["embedded", "rdf"])
@pytest.mark.parametrize("body, error", [
    (b"kge:a kgr:TREATS kge:b . [] rdf:subject kge:a ; rdf:predicate kgr:TREATS ; rdf:object kge:b ; "
     b"kg:evidence kge:ev . kge:ev kg:docId 'd' ; kg:start 99999999999999999999999 ; kg:end 2 .", "offsets"),
    (b"kge:a kgr:TREATS kge:b . [] rdf:subject kge:a ; rdf:predicate kgr:TREATS ; rdf:object kge:b ; "
     b"kg:evidence kge:ev . kge:ev kg:docId 'd' ; kg:start -5 ; kg:end 2 .", "offsets"),
    (b"kge: kgr:TREATS kge:b .", "empty entity id"),
    (b"kge:a <https://kgnlp.dev/relation/> kge:b .", "empty entity id or relation"),
    (b"kge: a kg:Entity ; rdfs:label 'Nameless' .", "empty id"),
], ids=["huge-offset", "negative-offset", "empty-entity-id", "empty-relation", "empty-declared-id"])
def test_import_refuses_facts_no_store_can_hold_and_stores_nothing(make_store, kind, body, error):
    store = make_store(kind)
    with pytest.raises(KGError, match=error):
        import_rdf(store, KGNLP_TTL + body, "turtle")
    assert list(store.triples()) == [] and list(store.entities()) == []


@pytest.mark.parametrize("kind", ["embedded", "rdf"])
def test_export_graphml_stays_readable_xml_when_a_name_holds_characters_xml_cannot(make_store, kind):
    import networkx as nx

    store = make_store(kind)
    store.add([Triple("a", "TREATS", "b\x02")], [Entity("a", "Ctl\x01Name\x0bInc", "Drug"), Entity("b\x02", "B", "X")])
    g = nx.read_graphml(io.StringIO(run(store, "graphml")))
    assert sorted(d["name"] for _, d in g.nodes(data=True)) == ["B", "Ctl\ufffdName\ufffdInc"]
    assert [(h, t, d["relation"]) for h, t, d in g.edges(data=True)] == [("a", "b\ufffd", "TREATS")]


@pytest.mark.parametrize("kind", ["embedded", "rdf", "neo4j"])
def test_export_then_import_keeps_each_sources_confidence(make_store, kind):
    store, copy = make_store("embedded"), make_store(kind)
    store.add([Triple("d:asp", "TREATS", "x:head", conf, (Provenance(doc, 0, 9, "s", "pattern"),))
               for doc, conf in (("doc-a", 0.6), ("doc-b", 0.9))], ENTS[:2])
    import_rdf(copy, run(store, "ntriples").encode(), "ntriples")
    copy.replace_source("doc-b", [])  # the best source goes: the next best counts
    assert [round(t.confidence, 6) for t in copy.triples()] == [0.6]


def _mixed(store):
    """Bayer added (pinned), Aspirin seeded (pinned), Headache only a document holds (not pinned)."""
    from kg.records import Document, Extraction, Mention

    store.add([], [ENTS[2]])
    store.replace_source("seed:s", [], [ENTS[0]])
    store.add_extraction(Extraction(Document("doc1", "Aspirin treats headache.", "doc1.txt"),
                                    (Mention(15, 23, "headache", "DISEASE", "x:head"),), FACTS[:1], (ENTS[1],)), "h1")
    assert store.pinned_ids() == {"d:asp", "o:bayer"}
    return store


@pytest.mark.parametrize("kind", ["embedded", "rdf", "neo4j"])
def test_export_then_import_keeps_which_entities_are_pinned(make_store, kind):
    source = _mixed(make_store("embedded"))
    text = run(source, "turtle")
    # as the RDF store holds them: Bayer pinned, Aspirin listed by a seed, Headache neither
    assert text.count("kg:pinned true") == 1 and text.count("kg:pinned false") == 2
    assert text.count("a kg:Seeding") == 1 and 'kg:seed "seed:s"' in text
    target = make_store(kind)
    import_rdf(target, text.encode(), "turtle")
    assert target.pinned_ids() == {"d:asp", "o:bayer"}
    import_rdf(target, run(make_store("embedded"), "turtle").encode(), "turtle")  # nothing: no change
    assert {e.id for e in target.entities()} == {"d:asp", "o:bayer", "x:head"}


def test_export_graphml_and_cypher_say_which_entities_are_pinned(make_store):
    import networkx as nx

    source = _mixed(make_store("rdf"))
    g = nx.read_graphml(io.StringIO(run(source, "graphml")))
    assert {n for n, d in g.nodes(data=True) if d["pinned"]} == {"d:asp", "o:bayer"}
    script = run(source, "cypher")
    neo = make_store("neo4j")
    neo.add([], [ENTS[1]])  # pinned on the server already: a script does not unpin it
    load_cypher(script, neo, neo.prefix)
    assert neo.pinned_ids() == {"d:asp", "o:bayer", "x:head"}
    other = make_store("neo4j")
    load_cypher(script, other, other.prefix)
    assert other.pinned_ids() == {"d:asp", "o:bayer"}


def test_export_rdf_of_the_same_graph_is_the_same_text_every_run(tmp_path):
    """Run to run (another hash seed), an unchanged graph exports byte for byte the same (diffable)."""
    import os
    import subprocess
    import sys

    code = ("import io, sys; from kg.stores.sqlite import SQLiteStore; from kg.export import export; "
            "from kg.records import Entity; s = SQLiteStore.open(sys.argv[1]); "
            "s.add([], [Entity('o:a', 'Acme Corp', 'Company', ('Acme', 'ACME Inc', 'AC', 'Acme Co', 'A.C.M.E.'))]); "
            "b = io.StringIO(); export(s, 'turtle', b); print(b.getvalue())")
    texts = {subprocess.run([sys.executable, "-c", code, str(tmp_path / f"g{seed}.db")], capture_output=True, text=True,
                            check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in range(6)}
    assert len(texts) == 1 and "kg:norm" in texts.pop()


def test_cypher_literals_of_nan_and_infinity_are_null_not_unknown_variables():
    from kg.export import _cy

    assert [_cy(x) for x in (float("nan"), float("inf"), float("-inf"))] == ["null", "null", "null"]
    assert _cy({"score": float("nan"), "w": [0.5, float("inf")]}) == "{score: null, w: [0.5, null]}"
    assert (_cy(1.5), _cy(2), _cy(True)) == ("1.5", "2", "true")
