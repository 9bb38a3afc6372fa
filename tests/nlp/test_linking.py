"""Linking rules: exact, loose, abbreviations, embeddings with a threshold, NIL, and MeSH ids kept."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from kg.records import Entity, Mention
from nlp.abbreviations import abbreviation_map, find_abbreviations
from nlp.entity_linker import EntityLinker, loose_key
from nlp.interfaces import Linker


class FakeEncoder:
    """Deterministic 'embeddings': names sharing a word are similar."""

    dim = 64

    def encode(self, names):
        out = np.zeros((len(names), self.dim), dtype="float32")
        for i, n in enumerate(names):
            for w in n.lower().split():
                out[i, zlib.crc32(w.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


ENTITIES = [
    Entity("mesh:D001281", "atrial fibrillation", "Disease", ("AF",), (("MeSH", "D001281"),)),
    Entity("mesh:D001241", "aspirin", "Chemical", ("acetylsalicylic acid",), (("MeSH", "D001241"),)),
    Entity("mesh:D000894", "non-steroidal anti-inflammatory drugs", "Chemical", (), (("MeSH", "D000894"),)),
]


def m(text, doc, label, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = doc.index(text, start + 1)
    return Mention(start, start + len(text), text, label)


@pytest.mark.parametrize("text,short,long", [
    ("Patients with atrial fibrillation (AF) were treated.", "AF", "atrial fibrillation"),
    ("A dose of indomethacin (IDM) was given.", "IDM", "indomethacin"),
    ("AF (atrial fibrillation) is common.", "AF", "atrial fibrillation"),
    ("Pfizer (PFE) shares rose.", "PFE", "Pfizer"),
])
def test_abbreviations_are_found(text, short, long):
    assert abbreviation_map(text) == {short: long}
    a = find_abbreviations(text)[0]
    assert text[a.short_start:a.short_end] == short and text[a.long_start:a.long_end] == long


def test_a_defined_term_links_to_the_new_entity_its_long_form_made():
    # the firm new to the graph: "the Company" became an entity 'Company' of its own
    linker = EntityLinker(ENTITIES, encoder=FakeEncoder())
    doc = "Northwind Therapeutics, Inc. (the \u201cCompany\u201d) signed. The Company expects to close."
    out = linker.link(doc, [m("Northwind Therapeutics, Inc", doc, "Organization"), m("Company", doc, "Organization", 1)])
    assert [x.entity_id for x in out.mentions] == ["org:northwind-therapeutics"] * 2
    assert [e.name for e in out.new_entities] == ["Northwind Therapeutics, Inc"]


@pytest.mark.parametrize("kind", ["EntityLinker", "StoreLinker"])
def test_both_linkers_link_a_defined_term_as_its_long_forms_mention(tmp_path, kind):
    # the firm known to the graph by another spelling than the long form: EntityLinker made an entity 'Company'
    from kg.stores.sqlite import SQLiteStore
    from nlp.linking import StoreLinker

    acme = Entity("org:acme", "Acme Robotics, Inc.", "Organization")
    if kind == "EntityLinker":
        linker = EntityLinker([acme], encoder=FakeEncoder(), threshold=0.99)
    else:
        store = SQLiteStore.open(tmp_path / "g.db")
        store.add([], [acme])
        linker = StoreLinker(store)
    doc = "Acme Robotics, Inc. (the \u201cCompany\u201d) signed. The Company expects to close."
    out = linker.link(doc, [m("Acme Robotics, Inc.", doc, "Organization"), m("Company", doc, "Organization", 1)])
    assert [x.entity_id for x in out.mentions] == ["org:acme"] * 2
    assert out.new_entities == ()


def test_parentheses_that_are_not_abbreviations_are_ignored():
    assert abbreviation_map("The dose (n = 5) was low (see above).") == {}


def test_linker_implements_the_protocol():
    assert isinstance(EntityLinker(ENTITIES, encoder=FakeEncoder()), Linker)


def test_exact_alias_and_loose_matches_keep_mesh_ids():
    linker = EntityLinker(ENTITIES, encoder=FakeEncoder())
    doc = "Aspirin, acetylsalicylic acid and nonsteroidal antiinflammatory drug use."
    out = linker.link(doc, [m("Aspirin", doc, "Chemical"), m("acetylsalicylic acid", doc, "Chemical"),
                            m("nonsteroidal antiinflammatory drug", doc, "Chemical")])
    assert [x.entity_id for x in out.mentions] == ["mesh:D001241", "mesh:D001241", "mesh:D000894"]
    assert out.new_entities == ()
    assert linker.entity("mesh:D001241").external()["MeSH"] == "D001241"
    assert loose_key("Non-steroidal anti-inflammatory drugs") == loose_key("nonsteroidal antiinflammatory drug")


def test_abbreviation_defined_in_the_document_links_through_its_long_form():
    linker = EntityLinker([ENTITIES[1]], encoder=FakeEncoder())
    doc = "Patients took acetylsalicylic acid (ASA); ASA was stopped later."
    out = linker.link(doc, [m("ASA", doc, "Chemical", 1)])
    assert {x.entity_id for x in out.mentions} == {"mesh:D001241"}


def test_embedding_match_needs_the_threshold_and_the_type():
    linker = EntityLinker(ENTITIES, encoder=FakeEncoder(), threshold=0.5, create_new=False)
    c = linker.candidate("paroxysmal atrial fibrillation", "Disease")
    assert c.entity_id == "mesh:D001281" and c.method == "embedding" and 0.5 <= c.score < 1.0
    assert linker.candidate("paroxysmal atrial fibrillation", "Chemical").entity_id is None  # type must agree
    strict = EntityLinker(ENTITIES, encoder=FakeEncoder(), threshold=0.99, create_new=False)
    nil = strict.candidate("paroxysmal atrial fibrillation", "Disease")
    assert nil.entity_id is None and nil.method == "nil"


def test_nil_mentions_create_one_new_entity_per_name():
    linker = EntityLinker(ENTITIES, encoder=FakeEncoder(), threshold=0.99)
    doc = "Zorbaxin helped. Zorbaxin again."
    out = linker.link(doc, [m("Zorbaxin", doc, "Chemical"), m("Zorbaxin", doc, "Chemical", 1)])
    assert len(out.new_entities) == 1
    assert out.mentions[0].entity_id == out.mentions[1].entity_id == out.new_entities[0].id
    again = linker.link("Zorbaxin.", [Mention(0, 8, "Zorbaxin", "Chemical")])
    assert again.new_entities == () and again.mentions[0].entity_id == out.new_entities[0].id


def test_real_minilm_links_a_spelling_variant():
    linker = EntityLinker([Entity("org:pfizer", "Pfizer Inc", "Organization")], threshold=0.75, create_new=False)
    c = linker.candidate("Pfizer Incorporated", "Organization")
    assert c.entity_id == "org:pfizer" and c.method == "embedding"


class CountingEncoder(FakeEncoder):
    def __init__(self):
        self.names = []

    def encode(self, names):
        self.names += list(names)
        return super().encode(names)


def test_cached_nearest_answers_see_entities_added_later_and_nothing_is_embedded_twice():
    enc = CountingEncoder()
    linker = EntityLinker(ENTITIES, encoder=enc, threshold=0.5, create_new=False)
    before = linker.nearest("chronic kidney failure", "Disease")
    linker.add([Entity("dis:ckf", "kidney failure", "Disease")])
    after = linker.nearest("chronic kidney failure", "Disease")
    assert after[0] == "dis:ckf" and (before is None or after[1] > before[1])
    # the same answer a fresh linker (no cache) gives
    fresh = EntityLinker([*ENTITIES, Entity("dis:ckf", "kidney failure", "Disease")], encoder=FakeEncoder())
    assert fresh.nearest("chronic kidney failure", "Disease") == pytest.approx(after)
    assert len(enc.names) == len(set(enc.names))  # every name embedded once


def test_prefetch_docs_embeds_a_batch_once_and_links_exactly_as_one_by_one(monkeypatch):
    docs = ["Patients on acetylsalicylic acid tablets had atrial fibrillation (AF).",
            "Aspirin dose and the non-steroidal drugs; fibrillation of the atria.",
            "Unknown compound XR-17 and fibrillation of the atria again."]
    mentions = [[m("acetylsalicylic acid tablets", docs[0], "Chemical"), m("AF", docs[0], "Disease")],
                [m("Aspirin dose", docs[1], "Chemical"), m("non-steroidal drugs", docs[1], "Chemical"),
                 m("fibrillation of the atria", docs[1], "Disease")],
                [m("XR-17", docs[2], "Chemical"), m("fibrillation of the atria", docs[2], "Disease")]]

    class Counting(FakeEncoder):
        calls: list = []

        def encode(self, names):
            self.calls.append(list(names))
            return super().encode(names)

    plain = EntityLinker(ENTITIES, encoder=FakeEncoder(), threshold=0.5)
    expected = [plain.link(t, ms) for t, ms in zip(docs, mentions)]
    enc = Counting()
    batched = EntityLinker(ENTITIES, encoder=enc, threshold=0.5)
    batched.warm([])
    enc.calls.clear()
    batched.prefetch_docs(list(zip(docs, mentions)))
    assert len(enc.calls) == 1 and len(enc.calls[0]) == 5  # every surface the rules cannot answer, once
    import nlp.entity_linker as el

    seen, real = [], el.definitions
    monkeypatch.setattr(el, "definitions", lambda text: seen.append(text) or real(text))
    assert [batched.link(t, ms) for t, ms in zip(docs, mentions)] == expected
    assert seen == []  # the definitions found by prefetch_docs are reused, not looked for again


def test_a_short_form_tagged_as_a_person_links_to_the_organisation_of_the_same_document(tmp_path):
    from kg.stores.sqlite import SQLiteStore
    from nlp.linking import StoreLinker

    linker = StoreLinker(SQLiteStore.open(tmp_path / "g.db"))
    doc = "Greywater Pharmaceuticals was sold. Greywater makes tablets. Erik Halvorsen spoke; Halvorsen left."
    out = linker.link(doc, [m("Greywater Pharmaceuticals", doc, "Organization"), m("Greywater", doc, "Person", 1),
                            m("Erik Halvorsen", doc, "Person"), m("Halvorsen", doc, "Person", 1)])
    org, short, person, surname = out.mentions
    assert (short.entity_id, short.label) == (org.entity_id, "Organization")
    assert surname.entity_id == person.entity_id and surname.label == "Person"  # a surname stays the person's
    assert [e.id for e in out.new_entities] == [org.entity_id, person.entity_id]
    made = {e.id: e for e in out.new_entities}
    assert "Greywater" in made[org.entity_id].aliases  # the name the document uses, findable later
    assert made[person.entity_id].aliases == ()  # a bare surname is no alias (it may be a firm's name too)


@pytest.mark.parametrize("noun", ["Issuer", "Lenders", "Guarantors", "Subsidiaries"])
def test_an_undefined_generic_firm_noun_makes_no_new_entity(noun):
    # "the Issuer" with no "(the “Issuer”)" became an entity 'Issuer'; of the plurals only three were known
    linker = EntityLinker(ENTITIES, encoder=FakeEncoder())
    doc = f"The {noun} may default. Aspirin was given."
    out = linker.link(doc, [m(noun, doc, "Organization"), m("Aspirin", doc, "Chemical")])
    assert [x.entity_id for x in out.mentions] == ["mesh:D001241"] and out.new_entities == ()


@pytest.mark.parametrize("doc,word,label,name", [
    ("Paroxetine was given to 40 patients. Later, paroxetine was stopped.", "Paroxetine", "Chemical", "paroxetine"),
    ("Results. Fluoxetine relieves low mood.", "Fluoxetine", "Chemical", "fluoxetine"),
    # after a bullet, a deep indent or an opening bracket (the capital stayed)
    ("Treatment:\n- Metformin is used first.", "Metformin", "Chemical", "metformin"),
    ("- Metformin is used first.", "Metformin", "Chemical", "metformin"),
    ("Methods.\n\n        Paroxetine was given.", "Paroxetine", "Chemical", "paroxetine"),
    ("We saw no effect. (Paroxetine was given daily.)", "Paroxetine", "Chemical", "paroxetine"),
    ("Patients on paroxetine - Fluoxetine too.", "Fluoxetine", "Chemical", "Fluoxetine"),  # a dash inside a sentence
    ("Hypertension was common in the cohort.", "Hypertension", "Disease", "hypertension"),
    ("Patients took Zoloft daily.", "Zoloft", "Chemical", "Zoloft"),  # a brand inside a sentence
    ("Prozac was given.", "Prozac", "Chemical", "Prozac"),  # a brand opening one: no drug stem, stays
    ("HbA1c was high.", "HbA1c", "Chemical", "HbA1c"),
    ("Parkinson disease was diagnosed.", "Parkinson disease", "Disease", "Parkinson disease"),
    ("Acmetine Labs was founded. Later, acmetine sold.", "Acmetine Labs", "Organization", "Acmetine Labs"),
])
@pytest.mark.parametrize("make", ["store", "entity"])
def test_a_new_chemical_or_disease_is_named_in_lower_case_when_its_capital_is_the_sentences(
        tmp_path, make, doc, word, label, name):
    # "Paroxetine was given ..." made an entity named 'Paroxetine'
    from kg.stores.sqlite import SQLiteStore
    from nlp.linking import StoreLinker
    store = SQLiteStore.open(tmp_path / "g.db")
    linker = StoreLinker(store) if make == "store" else EntityLinker(ENTITIES, encoder=FakeEncoder())
    out = linker.link(doc, [m(word, doc, label)])
    assert [e.name for e in out.new_entities] == [name]


@pytest.mark.parametrize("make", ["store", "entity"])
def test_an_organisation_tag_on_an_acronym_defined_by_lower_case_words_makes_no_entity(tmp_path, make):
    # "IGF" tagged an organisation by the stock model became 'org:igf'; a firm's acronym still is one
    from kg.stores.sqlite import SQLiteStore
    from nlp.linking import StoreLinker
    store = SQLiteStore.open(tmp_path / "g.db")
    linker = StoreLinker(store) if make == "store" else EntityLinker(ENTITIES, encoder=FakeEncoder())
    doc = ("The insulin-like growth factor (IGF) axis was studied; IGF rose. "
           "The World Health Organization (WHO) and WHO agree.")
    out = linker.link(doc, [m("IGF", doc, "Organization", 1), m("WHO", doc, "Organization", 1)])
    assert [x.text for x in out.mentions] == ["WHO"] and [e.name for e in out.new_entities] == ["WHO"]


@pytest.mark.parametrize("make", ["store", "entity"])
def test_an_acronym_defined_by_lower_case_words_that_the_graph_knows_links_to_its_entity(tmp_path, make):
    # StoreLinker dropped "AMU" even where the graph names an organisation so; EntityLinker linked it
    from kg.stores.sqlite import SQLiteStore
    from nlp.linking import StoreLinker
    amu = Entity("org:amu", "AMU", "Organization")
    store = SQLiteStore.open(tmp_path / "g.db")
    store.add([], [*ENTITIES, amu])
    linker = StoreLinker(store) if make == "store" else EntityLinker([*ENTITIES, amu], encoder=FakeEncoder())
    doc = "The asset management unit (AMU) grew; AMU hired staff."
    out = linker.link(doc, [m("AMU", doc, "Organization", 1)])
    assert [(x.text, x.entity_id) for x in out.mentions] == [("AMU", "org:amu")] and out.new_entities == ()
