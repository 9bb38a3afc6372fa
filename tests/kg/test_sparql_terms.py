"""SPARQL over the RDF store: only the workspace's graph (no SERVICE, no LOAD), one-line errors, and result
values that always make valid JSON."""
from __future__ import annotations

import json

import pytest

from kg.errors import KGError
from kg.stores.rdf import RDFStore


@pytest.mark.parametrize("text,write", [
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", False),
    ("select * where { service silent <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", False),
    ("LOAD <http://127.0.0.1:9/data.ttl>", True),
])
def test_queries_that_reach_other_servers_are_refused(text, write):
    with pytest.raises(KGError, match="offline"):
        RDFStore.open().query(text, write=write)


def test_the_word_service_inside_a_string_or_iri_is_fine():
    rows = RDFStore.open().query('SELECT ?x WHERE { BIND("SERVICE <x>" AS ?x) FILTER(?x != <http://e/SERVICE>) }').rows
    assert rows == (("SERVICE <x>",),)


def test_non_finite_and_malformed_literals_give_values_json_can_carry():
    result = RDFStore.open().query('SELECT ("INF"^^xsd:double AS ?a) ("NaN"^^xsd:double AS ?b) '
                                   '("abc"^^xsd:integer AS ?c) ("2.5"^^xsd:double AS ?d) ("7"^^xsd:integer AS ?e) '
                                   'WHERE {}')
    assert result.rows == (("INF", "NaN", "abc", 2.5, 7),)
    json.dumps(result.rows, allow_nan=False)


def test_a_syntax_error_is_one_line_and_names_an_unknown_prefix():
    with pytest.raises(KGError) as err:
        RDFStore.open().query("SELECT ?x WHERE { ?x foo:bar ?y }")
    message = str(err.value)
    assert "\n" not in message and "foo:" in message and "kge:" in message, message
    with pytest.raises(KGError, match="SPARQL syntax error") as err:
        RDFStore.open().query("SELECT ?x WHERE { ?x <a> ?y ")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("iri,shown", [
    ("https://kgnlp.dev/entity/dis%3Aobesity", "kge:dis%3Aobesity"),
    ("https://kgnlp.dev/relation/TREATS", "kgr:TREATS"),
    ("http://www.w3.org/2000/01/rdf-schema#label", "rdfs:label"),
    ("https://kgnlp.dev/mention/doc1/0", "<https://kgnlp.dev/mention/doc1/0>"),
    ("https://kgnlp.dev/entity/-a.", "<https://kgnlp.dev/entity/-a.>"),
    ("https://kgnlp.dev/entity/a~b", "<https://kgnlp.dev/entity/a~b>"),
    ("http://example.org/x", "<http://example.org/x>"),
])
def test_an_iri_is_shown_in_a_form_a_query_reads_back_as_the_same_iri(iri, shown):
    from kg.stores.rdf_map import prefixed

    assert prefixed(iri) == shown
    rows = RDFStore.open().query(f"SELECT ?x WHERE {{ BIND({shown} AS ?x) }}").rows
    assert rows == ((iri,),) and type(rows[0][0]).__name__ == "IRI"
