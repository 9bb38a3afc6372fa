"""The graph-names layer: phrase matching of names and aliases, and abbreviations as the document defines them."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from kg.names import normalise
from nlp.gazetteer import Gazetteer


@pytest.fixture(scope="module")
def gazetteer():
    import spacy

    g = Gazetteer(spacy.blank("en"))
    g.add([("sexual dysfunction", "dis:sd", "Disease"), ("SD", "dis:sd", "Disease"),
           ("sleep deprivation", "dis:slp", "Disease"), ("ALL", "dis:all", "Disease"),
           ("acute lymphoblastic leukemia", "dis:all", "Disease"), ("type 2 diabetes mellitus", "dis:t2dm", "Disease"),
           ("metformin", "chem:met", "Chemical"), ("OR", "org:or", "Organization")])
    return g


def links(g, text):
    return [(m.text, m.entity_id) for m in g.predict([text])[0]]


def test_undefined_statistical_abbreviations_link_to_nothing(gazetteer):
    assert links(gazetteer, "Values are mean ± SD of three runs; OR 1.2 with metformin.") == [
        ("metformin", "chem:met")]


def test_a_short_form_links_as_its_definition_says(gazetteer):
    assert links(gazetteer, "Sexual dysfunction (SD) was common; SD fell.") == [
        ("Sexual dysfunction", "dis:sd"), ("SD", "dis:sd"), ("SD", "dis:sd")]
    assert links(gazetteer, "Scores are the standard deviation (SD); SD was small.") == []
    assert links(gazetteer, "Sleep deprivation (SD) raised SD scores.") == [
        ("Sleep deprivation", "dis:slp"), ("SD", "dis:slp"), ("SD", "dis:slp")]


def test_an_acronym_defined_by_a_graph_name_links_even_when_it_is_no_alias(gazetteer):
    assert links(gazetteer, "Type 2 diabetes mellitus (T2DM) patients; T2DM care.") == [
        ("Type 2 diabetes mellitus", "dis:t2dm"), ("T2DM", "dis:t2dm"), ("T2DM", "dis:t2dm")]


def test_other_names_and_acronyms_are_unchanged(gazetteer):
    assert links(gazetteer, "In all children with ALL (see above), acute lymphoblastic leukemia.") == [
        ("ALL", "dis:all"), ("acute lymphoblastic leukemia", "dis:all")]


def test_a_plural_long_form_links_through_its_singular(gazetteer):
    assert links(gazetteer, "Sleep deprivations (SD) raised SD scores.") == [("SD", "dis:slp"), ("SD", "dis:slp")]


def test_names_match_with_accents_numerals_and_possessives_folded():
    import spacy

    g = Gazetteer(spacy.blank("en"))
    g.add([("Sjögren's syndrome", "dis:sj", "Disease"), ("Graves disease", "dis:gd", "Disease"),
           ("type 2 diabetes", "dis:t2d", "Disease"), ("Phase 1", "ph:1", "Phase"), ("Straße", "loc:st", "Location")])
    text = "Sjogren syndrome, sjogren's syndrome and Sjögren’s syndrome; Graves' disease; type II diabetes; Phase I trial."
    assert links(g, text) == [("Sjogren syndrome", "dis:sj"), ("sjogren's syndrome", "dis:sj"),
                              ("Sjögren’s syndrome", "dis:sj"), ("Graves' disease", "dis:gd"),
                              ("type II diabetes", "dis:t2d"), ("Phase I", "ph:1")]
    # "I" alone is no numeral, and "Sjögren's" without "syndrome" is no name here
    assert links(g, "I said Sjögren's was rare.") == []


def test_hyphenated_numerals_and_a_numeral_ending_a_sentence_match_their_names():
    # "Type-II" and "Type-2" keyed apart from "type 2"; "Phase I." (one token "I.") was no "phase 1"
    import spacy

    g = Gazetteer(spacy.blank("en"))
    g.add([("type 2 diabetes", "dis:t2d", "Disease"), ("Phase 1", "ph:1", "Phase"), ("COVID-19", "dis:cov", "Disease"),
           ("IL-6", "chem:il6", "Chemical")])
    text = "Type-II diabetes, Type-2 diabetes and type-I diabetes. COVID-19 raised IL-6 in Phase I. It ended in phase I."
    assert links(g, text) == [("Type-II diabetes", "dis:t2d"), ("Type-2 diabetes", "dis:t2d"), ("COVID-19", "dis:cov"),
                              ("IL-6", "chem:il6"), ("Phase I", "ph:1"), ("phase I", "ph:1")]


def test_folded_matches_keep_offsets_into_the_text_as_written():
    import spacy

    g = Gazetteer(spacy.blank("en"))
    g.add([("Strasse", "loc:st", "Location"), ("Sjogren syndrome", "dis:sj", "Disease")])
    text = "In der Straße (Straße), ß-Sjögren’s syndrome und STRASSE."
    got = g.predict([text])[0]
    assert [(m.start, m.end, m.text) for m in got] == [(7, 13, "Straße"), (15, 21, "Straße"),
                                                         (26, 44, "Sjögren’s syndrome"), (49, 56, "STRASSE")]
    assert all(text[m.start:m.end] == m.text for m in got)


FOLDED = {"dis:sj": "Sjögren's syndrome", "dis:t2d": "type 2 diabetes", "loc:st": "Straße", "ph:1": "phase 1",
          "dis:gd": "Graves disease"}
PIECES = ["Sjogren", "Sjögren’s", "sjögren's", "SJOGREN'S", "syndrome", "type", "Type-II", "II", "2", "I", "diabetes",
          "Type-2", "-", "I.", "phase-1",
          "STRASSE", "Straße", "strasse", "phase", "Phase", "i", "Graves'", "graves", "disease", ",", "(", ")", "'s", "."]


@pytest.fixture(scope="module")
def folding():
    import spacy

    g = Gazetteer(spacy.blank("en"))
    g.add((name, eid, "Thing") for eid, name in FOLDED.items())
    return g


@settings(max_examples=150, deadline=None)
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=14), space=st.sampled_from([" ", "  ", "\n"]))
def test_every_folded_match_is_a_name_by_its_key_with_offsets_into_the_text(folding, pieces, space):
    text = space.join(pieces)
    for m in folding.predict([text])[0]:
        assert text[m.start:m.end] == m.text
        assert normalise(m.text) == normalise(FOLDED[m.entity_id])
