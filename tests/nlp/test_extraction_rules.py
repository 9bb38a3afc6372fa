"""Pattern relations, references, linking and loaders on small texts we write here."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.records import Document, Entity
from kg.stores.sqlite import SQLiteStore
from nlp.errors import NLPError
from nlp.extractor import Extractor
from nlp.loaders import load_documents
from tests.conftest import kgnlp

ENTITIES = [
    Entity("chem:warfarin", "warfarin", "Chemical", ("Coumadin",)),
    Entity("chem:aspirin", "aspirin", "Chemical"),
    Entity("chem:metformin", "metformin", "Chemical"),
    Entity("dis:bleeding", "bleeding", "Disease"),
    Entity("dis:t2d", "type 2 diabetes", "Disease", ("T2D",)),
    Entity("dis:af", "atrial fibrillation", "Disease", ("AF",)),
    Entity("dis:stroke", "stroke", "Disease"),
    Entity("org:acme", "Acme Robotics", "Organization", ("Acme",)),
    Entity("org:beta", "Beta Sensors", "Organization"),
    Entity("org:gamma", "Gamma Labs", "Organization"),
    Entity("per:ada", "Ada Quint", "Person"),
    Entity("loc:oslo", "Oslo", "Location"),
    Entity("chem:mg", "magnesium", "Chemical", ("Mg",)),
    Entity("dis:all", "acute lymphoblastic leukemia", "Disease", ("ALL",)),
    Entity("chem:glp1", "glucagon-like peptide 1", "Chemical", ("GLP-1",)),
    Entity("chem:doxorubicin", "doxorubicin", "Chemical"),
    Entity("chem:anthracyclines", "anthracyclines", "Chemical", ("anthracycline",)),
    Entity("dis:breast-cancer", "breast cancer", "Disease"),
]


@pytest.fixture(scope="module")
def extractor(tmp_path_factory):
    store = SQLiteStore.open(tmp_path_factory.mktemp("x") / "g.db")
    store.add([], ENTITIES)
    return Extractor.for_store(store)


def facts(extractor, text):
    (ex,) = extractor.extract([Document("d", text)])
    return {(t.head_id, t.relation, t.tail_id) for t in ex.triples}, ex


@pytest.mark.parametrize("text,fact", [
    ("Metformin is used to treat type 2 diabetes.", ("chem:metformin", "TREATS", "dis:t2d")),
    ("T2D patients were given metformin.", ("chem:metformin", "TREATS", "dis:t2d")),
    ("Warfarin can cause serious bleeding.", ("chem:warfarin", "CAUSES", "dis:bleeding")),
    ("Aspirin-induced bleeding is common.", ("chem:aspirin", "CAUSES", "dis:bleeding")),
    ("Warfarin should not be combined with aspirin.", ("chem:warfarin", "INTERACTS_WITH", "chem:aspirin")),
    ("Acme Robotics acquired Beta Sensors last year.", ("org:acme", "ACQUIRED", "org:beta")),
    ("Beta Sensors was bought by Acme Robotics.", ("org:acme", "ACQUIRED", "org:beta")),
    ("Acme Robotics completed its purchase of Beta Sensors.", ("org:acme", "ACQUIRED", "org:beta")),
    ("Ada Quint, chief executive of Acme Robotics, spoke.", ("per:ada", "CEO_OF", "org:acme")),
    ("Ada Quint, Acme's chief executive, spoke.", ("per:ada", "CEO_OF", "org:acme")),
    ("The Oslo-based Acme Robotics hired staff.", ("org:acme", "HEADQUARTERED_IN", "loc:oslo")),
    ("Beta Sensors, a subsidiary of Acme Robotics, grew.", ("org:beta", "SUBSIDIARY_OF", "org:acme")),
    ("Acme Robotics partnered with Beta Sensors.", ("org:acme", "PARTNERED_WITH", "org:beta")),
    ("Acme Robotics invested in Beta Sensors.", ("org:acme", "INVESTED_IN", "org:beta")),
    ("Acme Robotics acquired Gamma Labs and Beta Sensors.", ("org:acme", "ACQUIRED", "org:beta")),
    ("Warfarin can also cause bleeding.", ("chem:warfarin", "CAUSES", "dis:bleeding")),
    ("Metformin is the anchor drug for type 2 diabetes.", ("chem:metformin", "TREATS", "dis:t2d")),
])
def test_pattern_finds_fact(extractor, text, fact):
    found, _ = facts(extractor, text)
    assert fact in found, found


@pytest.mark.parametrize("text", [
    "Acme Robotics did not acquire Beta Sensors.",
    "Acme Robotics and Beta Sensors both reported results.",
    "Warfarin and aspirin were studied in patients with bleeding risk factors.",
])
def test_no_fact_without_a_cue_or_when_negated(extractor, text):
    found, _ = facts(extractor, text)
    assert not {f for f in found if f[1] in ("ACQUIRED", "INTERACTS_WITH", "TREATS")}, found


@pytest.mark.parametrize("text,fact", [
    ("Beta Sensors was bought by Acme Robotics.", ("org:acme", "ACQUIRED", "org:beta")),
    ("Beta Sensors, the Oslo-based maker, has been bought by Acme Robotics for $5 million.",
     ("org:acme", "ACQUIRED", "org:beta")),
    ("Beta Sensors was backed by Gamma Labs.", ("org:gamma", "INVESTED_IN", "org:beta")),
])
def test_a_passive_verb_with_by_never_gives_the_active_direction(extractor, text, fact):
    found, _ = facts(extractor, text)
    assert fact in found and (fact[2], fact[1], fact[0]) not in found, found


def test_a_cue_must_end_a_word(extractor):
    """"markets" is not the start of "marketed as": the words after a cue may not continue it."""
    for text in ("Acme Robotics marketing praised aspirin.", "Acme Robotics sellers recommend aspirin."):
        found, _ = facts(extractor, text)
        assert ("org:acme", "MANUFACTURES", "chem:aspirin") not in found, (text, found)
    found, _ = facts(extractor, "Acme Robotics markets aspirin.")  # the cue itself still reads
    assert ("org:acme", "MANUFACTURES", "chem:aspirin") in found, found


def test_closer_mention_of_same_type_takes_the_fact(extractor):
    found, _ = facts(extractor, "Acme Robotics will sell, while Gamma Labs, which acquired Beta Sensors, will buy.")
    assert ("org:gamma", "ACQUIRED", "org:beta") in found
    assert ("org:acme", "ACQUIRED", "org:beta") not in found


def test_pronoun_reference_carries_the_fact(extractor):
    found, ex = facts(extractor, "Beta Sensors makes chips in Oslo. Its chief executive, Ada Quint, is new.")
    assert ("per:ada", "CEO_OF", "org:beta") in found
    assert all(m.text.lower() != "its" for m in ex.mentions)  # references are not stored as mentions


@pytest.mark.parametrize("text,investors", [
    ("Beta Sensors has secured $60 million in new funding. The round was led by Gamma Labs, "
     "with Acme Robotics also investing.", {"org:gamma", "org:acme"}),
    ("Beta Sensors raised $20 million in a Series A. Gamma Labs led the round.", {"org:gamma"}),
    ("Beta Sensors closed a $9 million financing. The financing was co-led by Gamma Labs and Ada Quint.",
     {"org:gamma", "per:ada"}),
])
def test_the_round_of_an_earlier_sentence_carries_its_investors(extractor, text, investors):
    found, ex = facts(extractor, text)
    assert {h for h, r, t in found if r == "INVESTED_IN" and t == "org:beta"} == investors, found
    assert not {f for f in found if f[1] == "CEO_OF"}, found
    assert all(not m.text.lower().startswith("the") for m in ex.mentions)  # references are not stored


@pytest.mark.parametrize("text", [
    "Beta Sensors cut 40 jobs in March. The round of cuts was led by Gamma Labs.",  # no funding to refer to
    "Beta Sensors raised $20 million. The round was not led by Gamma Labs.",
    "Ada Quint, Acme's chief executive, said the funds would carry its lead programme.",  # "funds", a noun
    "Acme Robotics, led by Ada Quint, grew.",
])
def test_no_investment_without_a_funding_round_or_with_funds_as_a_noun(extractor, text):
    found, _ = facts(extractor, text)
    assert not {f for f in found if f[1] == "INVESTED_IN"}, found


def test_provenance_points_at_the_sentence(extractor):
    text = "Nothing here. Acme Robotics acquired Beta Sensors."
    _, ex = facts(extractor, text)
    (t,) = [t for t in ex.triples if t.relation == "ACQUIRED"]
    p = t.provenance[0]
    assert p.doc_id == "d" and text[p.start : p.end] == p.sentence == "Acme Robotics acquired Beta Sensors."


def test_acronym_alias_matches_only_as_written(extractor):
    _, ex = facts(extractor, "AF is common; af in lower case is not the disease.")
    assert [(m.text, m.entity_id) for m in ex.mentions if m.entity_id == "dis:af"] == [("AF", "dis:af")]


def test_short_names_with_a_capital_match_only_as_written(extractor):
    _, ex = facts(extractor, "All children with ALL got 5 mg of Mg daily; all got no more.")
    assert [(m.text, m.entity_id) for m in ex.mentions if m.entity_id in ("chem:mg", "dis:all")] == [
        ("ALL", "dis:all"), ("Mg", "chem:mg")]


def test_matches_as_written():
    from kg.names import matches_as_written

    assert all(map(matches_as_written, ["ALL", "NO", "AF", "PFE", "Mg", "pH", "HIV-1", " CAD "]))
    assert not any(map(matches_as_written, ["all", "no", "mg", "Aspirin", "Gout", "1-2", "", "Pfizer"]))


def test_short_form_links_to_the_full_name_in_the_same_document(tmp_path):
    store = SQLiteStore.open(tmp_path / "g.db")
    ex = Extractor.for_store(store)
    (out,) = ex.extract([Document("d", "Jane Roe joined Northwind Therapeutics Inc. in May. Roe said Northwind grew.")])
    ids = {m.text: m.entity_id for m in out.mentions}
    assert ids["Roe"] == ids["Jane Roe"] == "per:jane-roe"
    assert ids["Northwind"] == ids["Northwind Therapeutics Inc."] == "org:northwind-therapeutics"


def test_a_new_firms_name_keeps_the_period_of_its_corporate_suffix(extractor):
    # "Acme Holdings, Inc." was stored as 'Acme Holdings, Inc': the sentence's punctuation was trimmed off the name
    text = ("Beta Sensors acquired Northwind Holdings, Inc. The buyer also met Koninklijke Philips N.V. and Globex "
            "Corp. in Boston. We met the team at Tyrell.")
    found, out = facts(extractor, text)
    names = {m.text for m in out.mentions}
    assert {"Northwind Holdings, Inc.", "Koninklijke Philips N.V.", "Globex Corp."} <= names, names
    assert {"Northwind Holdings, Inc.", "Koninklijke Philips N.V."} <= {e.name for e in out.entities}, out.entities
    assert not [n for n in names if n.endswith(("Inc", "Corp", "N.V", "."))
                and n not in ("Northwind Holdings, Inc.", "Koninklijke Philips N.V.", "Globex Corp.")], names
    # the sentence still ends after the name, and the fact over it is read
    assert ("org:beta", "ACQUIRED", "org:northwind-holdings") in found, found
    assert [p.sentence for t in out.triples for p in t.provenance if t.relation == "ACQUIRED"] == [
        "Beta Sensors acquired Northwind Holdings, Inc."], out.triples


def test_loader_reads_jsonl_text_holding_unicode_line_separators_and_any_line_ends(tmp_path):
    text = "Warfarin interacts with aspirin.\u2028Metformin treats diabetes.\x85Next.\u2029End."
    rows = [json.dumps({"id": "p1", "text": text}, ensure_ascii=False), json.dumps({"id": "p2", "text": "Two."}),
            json.dumps({"id": "p3", "text": "Three."})]
    (tmp_path / "c.jsonl").write_bytes((rows[0] + "\r\n" + rows[1] + "\r" + rows[2] + "\n").encode("utf-8"))
    docs = load_documents([tmp_path / "c.jsonl"])
    assert [(d.document.id, d.document.text) for d in docs] == [("p1", text), ("p2", "Two."), ("p3", "Three.")]
    assert [d.document.source for d in docs] == [f"{tmp_path / 'c.jsonl'}:{n}" for n in (1, 2, 3)]


def test_ingest_names_a_file_name_or_jsonl_id_that_is_not_utf8_in_one_line_and_writes_nothing(tmp_path):
    import os

    bad = tmp_path / "bad"
    bad.mkdir()
    with open(os.path.join(os.fsencode(bad), b"caf\xe9.txt"), "wb") as f:  # a Latin-1 file name
        f.write(b"Metformin treats type 2 diabetes.")
    ids = tmp_path / "ids.jsonl"
    ids.write_text('{"id": "x\\udce9", "text": "Aspirin."}\n', encoding="utf-8")
    for path, needle in ((bad, "the file name is not UTF-8"), (ids, "the document id 'x\\udce9'")):
        proc = kgnlp("ingest", str(path), "-w", str(tmp_path / "ws"))
        assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert needle in proc.stderr and "Internal error" not in proc.stderr
        assert not (tmp_path / "ws").exists()


def test_loader_reads_a_file_named_twice_once(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("Alpha.", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Beta.", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    docs = load_documents([tmp_path, tmp_path / "a.txt", Path("a.txt"), Path("./b.txt")])
    assert [d.document.id for d in docs] == ["a", "b"]


def test_loader_reads_txt_md_jsonl_and_refuses_duplicates(tmp_path):
    (tmp_path / "a.txt").write_text("Alpha.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Beta\nText.", encoding="utf-8")
    (tmp_path / "c.jsonl").write_text(json.dumps({"id": 7, "text": "Gamma."}) + "\n\n", encoding="utf-8")
    docs = load_documents([tmp_path])
    assert [d.document.id for d in docs] == ["a", "b", "7"]
    (tmp_path / "d.jsonl").write_text(json.dumps({"id": "a", "text": "again"}) + "\n", encoding="utf-8")
    with pytest.raises(NLPError, match="appears twice"):
        load_documents([tmp_path])


def test_a_markdown_heading_is_no_part_of_the_sentence_under_it(extractor):
    text = "# Warfarin: interactions to watch\n\nWarfarin can cause serious bleeding.\n## Notes\nAspirin can cause bleeding."
    found, ex = facts(extractor, text)
    sources = {t.head_id: t.provenance[0].sentence for t in ex.triples}
    assert sources == {"chem:warfarin": "Warfarin can cause serious bleeding.",
                       "chem:aspirin": "Aspirin can cause bleeding."}


def test_no_sentence_runs_over_a_blank_line():
    from nlp.extractor import mend_sentences

    text = "Quarterly results\n\nAcme Robotics acquired Beta Sensors."  # a title line without a full stop
    assert [s.text for s in mend_sentences(text, [(0, len(text))], [])] == [
        "Quarterly results", "Acme Robotics acquired Beta Sensors."]


def test_a_filings_defined_term_is_the_company_it_defines(extractor):
    # "the Company" of an 8-K became an entity "Company" that acquired Beta Sensors
    text = ("On March 11, 2024, Acme Robotics, Inc. (the \u201cCompany\u201d) entered into an Agreement and Plan of Merger "
            "(the \u201cMerger Agreement\u201d) with Beta Sensors, pursuant to which the Company agreed to acquire Beta "
            "Sensors for $1.2 billion in cash.")
    found, ex = facts(extractor, text)
    assert ("org:acme", "ACQUIRED", "org:beta") in found, found
    assert not [e.name for e in ex.entities if "Company" in e.name], ex.entities


def test_a_names_quotes_and_a_statistic_are_no_organisation(extractor):
    # spaCy's '“Merger Agreement' became an entity named with its opening quote, '95% CI' an organisation 'CI'
    text = ("Acme Robotics signed an Agreement and Plan of Merger (the \u201cMerger Agreement\u201d) with Beta Sensors. "
            "The hazard ratio was 1.3 (95% CI, 1.1-1.6) for Acme Robotics.")
    _, ex = facts(extractor, text)
    assert [(m.text, text[m.start:m.end]) for m in ex.mentions if "Merger" in m.text] == [("Merger Agreement",) * 2]
    assert not [m for m in ex.mentions if m.text == "CI" or m.text[0] in "\u201c\u201d"], ex.mentions


def test_a_degree_after_a_persons_name_is_no_place_or_organisation(extractor):
    # spaCy read 'MD' after an author's name as Maryland, 'MPH' as an organisation, and took 'MD' into 'J. Smith MD'
    text = ("Jane Smith, MD, leads the unit. J. Smith MD, PhD and Peter Jones, MD, MPH wrote the guideline. "
            "Robert Hale, M.D., agreed. The trial ran in Baltimore, MD.")
    _, ex = facts(extractor, text)
    spacy = [(m.text, m.label) for m in ex.mentions]
    assert not [m for m in spacy if m[0].rstrip(".") in ("MD", "M.D", "MPH", "PhD") and m != ("MD", "Location")], spacy
    assert ("J. Smith", "Person") in spacy and not [m for m in spacy if m[0].endswith(" MD")], spacy
    assert [m.start for m in ex.mentions if m.text == "MD"] == [text.rindex("MD")]  # Baltimore's state stays a place


def test_a_biomedical_symbol_is_no_organisation_person_or_place(extractor):
    # the stock model made organisations of 'IL-6', the 'TNF' of 'TNF-alpha' and 'COVID-19', and of 'GLP-1' an
    # organisation, a person and a place; the graph's own name 'GLP-1' (a Chemical) still links
    text = ("Levels of IL-6 and TNF-alpha rose in patients with COVID-19. Semaglutide is a GLP-1 agonist. "
            "Pfizer and Novo Nordisk sell GLP-1 drugs; Eli Lilly's tirzepatide targets GIP and GLP-1.")
    _, ex = facts(extractor, text)
    generic = {"Organization", "Person", "Location"}
    assert not [m for m in ex.mentions if m.label in generic and m.text in ("IL-6", "TNF", "COVID-19", "GLP-1")], \
        ex.mentions
    assert {(m.entity_id, m.label) for m in ex.mentions if m.text == "GLP-1"} == {("chem:glp1", "Chemical")}
    assert "Eli Lilly" in {m.text for m in ex.mentions if m.label == "Organization"}  # a firm stays one


@pytest.mark.parametrize("word,symbol", [
    ("GLP-1", True), ("IL-6", True), ("IL-1\u03b2", True), ("TNF-alpha", True), ("TNF-\u03b1", True),
    ("NF-\u03baB", True), ("PD-L1", True), ("COX-2", True), ("HER2", True), ("HER2-positive", True),
    ("BRCA1", True), ("CYP3A4", True), ("COVID-19", True), ("GLP-1's", True),
    ("G20", False), ("MI5", False), ("CRP", False), ("Coca-Cola", False), ("Rolls-Royce", False), ("3M", False),
    ("Form 10-K", False), ("Acme", False),
])
def test_the_shape_of_a_biomedical_symbol(word, symbol):
    from nlp.spacy_ner import _in_symbol

    text = f"We saw {word} today."
    start = text.index(word)
    assert _in_symbol(text, start, start + len(word)) is symbol


def test_no_mention_runs_over_a_blank_line(extractor):
    # spaCy made one organisation of an 8-K's first two paragraphs, 'UNITED STATES\n\nSECURITIES AND EXCHANGE ...'
    text = ("UNITED STATES\n\nSECURITIES AND EXCHANGE COMMISSION\n\nWashington, D.C.\n\n"
            "Acme Robotics acquired Beta Sensors.")
    _, ex = facts(extractor, text)
    assert ex.mentions and not [m for m in ex.mentions if "\n" in m.text], ex.mentions


def test_a_filings_defined_term_is_the_company_it_defines_when_the_graph_does_not_know_it(extractor):
    # the firm new to the graph (found by the tagger, not the gazetteer): "the Company" later on was its own entity
    text = ("On March 11, 2024, Northwind Therapeutics, Inc. (the \u201cCompany\u201d) entered into an Agreement with "
            "Beta Sensors.\n\nThe Company expects the transaction to close in the second quarter. The Board of "
            "Directors of the Company approved it.")
    _, ex = facts(extractor, text)
    linked = {m.entity_id for m in ex.mentions if m.text == "Company"}
    assert linked == {"org:northwind-therapeutics"}, ex.mentions
    assert not [e.name for e in ex.entities if "Company" in e.name], ex.entities


def test_no_sentence_runs_over_a_blank_line_of_windows_line_endings_or_a_page_break(extractor):
    # a .txt saved on Windows: "\r\n\r\n" was no paragraph break, the title ran into the fact's sentence
    text = "Warfarin label\r\n\r\nWarfarin can cause bleeding.\r\n\x0c\r\nPage 2\r\n\r\nAspirin can cause bleeding.\r\n"
    _, ex = facts(extractor, text)
    assert sorted(t.provenance[0].sentence for t in ex.triples) == [
        "Aspirin can cause bleeding.", "Warfarin can cause bleeding."]


@pytest.mark.parametrize("text", [
    "Warfarin is widely used for the prevention of stroke.",
    "Warfarin is commonly prescribed for the prevention of stroke.",
    "Warfarin is recommended for stroke prevention in atrial fibrillation.",
    "Warfarin was approved by the FDA for stroke.",
    "Warfarin is FDA-approved for stroke.",
    "Warfarin is currently indicated for stroke.",
    "Warfarin is first-line therapy for stroke.",
])
def test_a_drug_used_recommended_or_approved_for_a_disease_treats_it(extractor, text):
    # an adverb before 'prescribed'/'indicated', 'recommended for' and the FDA's approval gave no fact
    found, _ = facts(extractor, text)
    assert found == {("chem:warfarin", "TREATS", "dis:stroke")}, found


@pytest.mark.parametrize("text", [
    "Warfarin is not recommended for stroke.",
    "Warfarin is rarely associated with stroke in trials approved by the FDA.",
    "For warfarin, a dose of 5 mg is recommended in those without stroke.",  # 'recommended in' names no use
])
def test_no_treatment_fact_when_not_recommended_or_only_approved_elsewhere(extractor, text):
    found, _ = facts(extractor, text)
    assert ("chem:warfarin", "TREATS", "dis:stroke") not in found, found


@pytest.mark.parametrize("text,fact", [
    ("Metformin lowers glucose. Its best-known serious adverse effect is bleeding: it is rare.",
     ("chem:metformin", "CAUSES", "dis:bleeding")),
    ("Aspirin's main side effect is bleeding.", ("chem:aspirin", "CAUSES", "dis:bleeding")),
    ("Warfarin's adverse reactions include AF and bleeding.", ("chem:warfarin", "CAUSES", "dis:bleeding")),
])
def test_a_side_effect_named_by_is_or_include_is_a_cause(extractor, text, fact):
    found, _ = facts(extractor, text)
    assert fact in found, found


def test_side_effects_said_to_be_rare_in_a_disease_are_no_cause_of_it(extractor):
    found, _ = facts(extractor, "Metformin's side effects are rare in type 2 diabetes.")
    assert not {f for f in found if f[1] == "CAUSES"}, found


@pytest.mark.parametrize("text,fact", [
    ("Gamma Labs has taken a 9% stake in Beta Sensors.", ("org:gamma", "INVESTED_IN", "org:beta")),
    ("Gamma Labs is taking a minority stake in Beta Sensors.", ("org:gamma", "INVESTED_IN", "org:beta")),
    ("Beta Sensors makes chips. Ada Quint, who founded the company and still serves as its CEO, spoke.",
     ("per:ada", "CEO_OF", "org:beta")),
    ("Ada Quint is Acme chief executive.", ("per:ada", "CEO_OF", "org:acme")),
])
def test_a_stake_taken_and_a_ceo_named_after_the_firm_are_read(extractor, text, fact):
    found, _ = facts(extractor, text)
    assert fact in found, found


def test_a_firm_named_before_other_words_than_ceo_makes_no_ceo(extractor):
    found, _ = facts(extractor, "Ada Quint is Acme's biggest customer, and Ada Quint was Acme staff.")
    assert not {f for f in found if f[1] == "CEO_OF"}, found


@pytest.mark.parametrize("text", [
    "Beta Sensors, an Oslo-based subsidiary of Acme Robotics, has signed a deal with Gamma Labs.",
    "Beta Sensors, a Norway-based chip subsidiary of Acme Robotics, grew.",
])
def test_a_subsidiary_described_by_its_place_is_read(extractor, text):
    found, _ = facts(extractor, text)
    assert ("org:beta", "SUBSIDIARY_OF", "org:acme") in found, found


@pytest.mark.parametrize("text,wrong", [
    ("Acme Robotics makes robots. The company Beta Sensors acquired Gamma Labs.", ("org:acme", "ACQUIRED", "org:gamma")),
    ("Metformin treats type 2 diabetes. The antibiotic trimethoprim interacts with warfarin.",
     ("chem:metformin", "INTERACTS_WITH", "chem:warfarin")),
])
def test_the_noun_before_a_name_introduces_it_and_points_back_to_nothing(extractor, text, wrong):
    found, _ = facts(extractor, text)
    assert wrong not in found, found


def test_the_noun_before_a_verb_still_points_back(extractor):
    found, _ = facts(extractor, "Acme Robotics makes robots. The company acquired Gamma Labs. Warfarin treats AF. "
                                "The drug can cause bleeding.")
    assert {("org:acme", "ACQUIRED", "org:gamma"), ("chem:warfarin", "CAUSES", "dis:bleeding")} <= found, found


def test_a_reference_to_another_firm_between_the_pair_takes_the_fact(extractor):
    found, _ = facts(extractor, "Beta Sensors said Acme's data would support its partnership with Gamma Labs.")
    assert ("org:beta", "PARTNERED_WITH", "org:gamma") in found, found  # its = Beta Sensors
    assert ("org:acme", "PARTNERED_WITH", "org:gamma") not in found, found
    found, _ = facts(extractor, "Acme Robotics said its partnership with Gamma Labs grew.")  # its = Acme itself
    assert ("org:acme", "PARTNERED_WITH", "org:gamma") in found, found


@pytest.mark.parametrize("text,fact,not_fact", [
    ("Doxorubicin is an anthracycline used to treat breast cancer.",
     ("chem:doxorubicin", "TREATS", "dis:breast-cancer"), ("chem:anthracyclines", "TREATS", "dis:breast-cancer")),
    ("Doxorubicin, an anthracycline, is used to treat breast cancer.",
     ("chem:doxorubicin", "TREATS", "dis:breast-cancer"), ("chem:anthracyclines", "TREATS", "dis:breast-cancer")),
    ("Acme Robotics is a Gamma Labs portfolio firm that acquired Beta Sensors.",
     ("org:acme", "ACQUIRED", "org:beta"), ("org:gamma", "ACQUIRED", "org:beta")),
])
def test_what_is_said_after_a_subjects_class_is_the_subjects_fact(extractor, text, fact, not_fact):
    # the class ("an anthracycline") sat between the drug and the cue: it took the drug's fact
    found, _ = facts(extractor, text)
    assert fact in found and not_fact not in found, found


def test_an_undefined_generic_firm_noun_makes_no_entity_and_refers_to_the_firm(extractor):
    # "the Group" without "(the “Group”)" became an entity 'Group' that took the firm's facts
    text = ("Acme Robotics builds sensors. The Group acquired Beta Sensors in 2023, and the Bank may cut its credit "
            "line. The Issuer is exposed to rates.")
    found, ex = facts(extractor, text)
    ids = {m.entity_id for m in ex.mentions} | {e.id for e in ex.entities} | {f[0] for f in found}
    assert not ids & {"org:group", "org:bank", "org:issuer"}, ids
    assert ("org:acme", "ACQUIRED", "org:beta") in found, found


def test_a_defined_generic_firm_noun_still_links_to_its_firm(extractor):
    text = "Beta Sensors, Inc. (the \u201cGroup\u201d) makes chips. The Group hired staff."
    _, ex = facts(extractor, text)
    later = [m.entity_id for m in ex.mentions if m.text.endswith("Group") and m.start > text.index("makes")]
    assert later == ["org:beta"], ex.mentions


def test_an_acronym_defined_by_lower_case_words_is_no_organisation(extractor):
    # the stock model tags "IGF" an organisation: it made an entity 'org:igf'
    text = "The insulin-like growth factor (IGF) axis was studied; IGF levels and TNF rose."
    _, ex = facts(extractor, text)
    assert not [m for m in ex.mentions if m.text == "IGF"], ex.mentions
    assert "org:igf" not in {e.id for e in ex.entities}


def test_a_sentence_initial_generic_drug_name_is_a_chemical_named_in_lower_case(extractor):
    # the stock model took "Fluoxetine" for a person: 'per:fluoxetine', which the later "fluoxetine" linked to too
    text = "Fluoxetine was given to 40 patients with stroke. Later, fluoxetine was stopped in 5 patients."
    _, ex = facts(extractor, text)
    assert {(m.label, m.entity_id) for m in ex.mentions if m.text.lower() == "fluoxetine"} == {
        ("Chemical", "chem:fluoxetine")}, ex.mentions
    assert [e.name for e in ex.entities if e.id == "chem:fluoxetine"] == ["fluoxetine"]


def test_an_organisation_named_like_a_drug_keeps_its_tag():
    # "Genmab" and "Medivir" end like drugs ("-mab", "-vir"): a firm's mention was dropped, then the drug-stem rule
    # made it a Chemical 'genmab'; a person's tag on a drug name ("Paroxetine was given") is still dropped
    from spacy.tokens import Span

    from nlp.models import blank_english
    from nlp.spacy_ner import SpacyNER
    doc = blank_english()("Genmab acquired Xyz Labs. Medivir grew. Paroxetine was given.")
    doc.ents = [Span(doc, 0, 1, "ORG"), Span(doc, 2, 4, "ORG"), Span(doc, 5, 6, "ORG"), Span(doc, 8, 9, "PERSON")]
    assert [(m.text, m.label) for m in SpacyNER(blank_english()).from_doc(doc)] == [
        ("Genmab", "Organization"), ("Xyz Labs", "Organization"), ("Medivir", "Organization")]


@pytest.mark.parametrize("noun", ["Group", "Issuer", "Companies", "Company"])
def test_every_undefined_firm_noun_of_the_filer_refers_to_the_firm(extractor, noun):
    # "The Group", "The Issuer", ... made no entity, and their facts are the firm's
    found, ex = facts(extractor, f"Acme Robotics builds sensors. The {noun} acquired Beta Sensors in 2023.")
    assert f"org:{noun.lower()}" not in {e.id for e in ex.entities}
    assert ("org:acme", "ACQUIRED", "org:beta") in found, found


@pytest.mark.parametrize("noun", ["Lender", "Borrower", "Parent", "Guarantor"])
def test_an_undefined_noun_of_another_party_makes_no_entity_and_gives_the_firm_no_fact(extractor, noun):
    # "The Parent acquired Beta Sensors" is not Acme's acquisition: the parent is a firm the text does not name
    found, ex = facts(extractor, f"Acme Robotics builds sensors. The {noun} acquired Beta Sensors in 2023.")
    assert f"org:{noun.lower()}" not in {e.id for e in ex.entities}
    assert not any(f[1] == "ACQUIRED" for f in found), found
