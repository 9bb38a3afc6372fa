"""Drug names by their INN/USAN stems: the last recogniser, for words no other layer took."""
from __future__ import annotations

import pytest

from kg.records import Document, Entity, Mention
from kg.stores.sqlite import SQLiteStore
from nlp.drug_names import STEMS, STOP, add_drug_names, drug_name_mentions
from nlp.extractor import Extractor


@pytest.mark.parametrize("text,found", [
    ("Patients received fluconazole and trimethoprim.", ["fluconazole", "trimethoprim"]),
    ("Atorvastatin, lisinopril and losartan; then propranolol.", ["Atorvastatin", "lisinopril", "losartan",
                                                                  "propranolol"]),
    ("Imatinib or rituximab after sofosbuvir and liraglutide.", ["Imatinib", "rituximab", "sofosbuvir",
                                                                  "liraglutide"]),
    ("Captopril-induced cough; timolol maleate drops.", ["Captopril", "timolol maleate"]),
])
def test_words_with_a_drug_stem_are_chemicals(text, found):
    got = drug_name_mentions(text)
    assert [m.text for m in got] == found
    assert all(m.label == "Chemical" and text[m.start:m.end] == m.text and m.entity_id is None for m in got)


@pytest.mark.parametrize("word", ["provolone", "eventide", "peptide", "nucleotide", "magazine", "equine", "concept",
                                  "triumvir", "Guadalquivir", "heliotropium", "tide", "nib", "pril", "statins-like"])
def test_english_words_ending_alike_are_no_drugs(word):
    assert drug_name_mentions(f"We saw {word} there.") == []


@pytest.mark.parametrize("word", ["anthracycline", "carbapenem", "benzodiazepine", "provolone", "Guadalquivir",
                                  "heliotropium", "ectropium", "fusetron", "zapotecan", "unprim", "armavir"])
def test_stop_listed_words_that_end_in_a_stem_are_no_drugs(word):
    # each ends in a stem with letters to spare: only the stop list keeps it out
    assert any(word.lower().endswith(stem) and len(word) - len(stem) >= 2 for stem in STEMS)
    assert drug_name_mentions(f"We saw {word} there.") == []


@pytest.mark.parametrize("word", ["April", "Pril"])
def test_a_stem_needs_two_letters_before_it(word):
    assert word.lower().endswith(STEMS) and drug_name_mentions(f"Since {word}, patients took it.") == []
    assert [m.text for m in drug_name_mentions(f"Since {word}, patients took captopril.")] == ["captopril"]


def test_a_drug_name_is_added_only_where_no_layer_proposed_anything():
    text = "Fluconazole and sulfamethoxazole with trimethoprim."
    kept = [Mention(0, 11, "Fluconazole", "Organization", None, 0.7)]  # another recogniser's call stands
    voted_down = Mention(16, 32, "sulfamethoxazole", "Chemical", None, 0.5)  # proposed, not kept: stays out
    out = add_drug_names(text, kept, [*kept, voted_down])
    assert [(m.text, m.label) for m in out] == [("Fluconazole", "Organization"), ("trimethoprim", "Chemical")]
    assert add_drug_names(text, []) == drug_name_mentions(text)


def _extractor(tmp_path, **options):
    store = SQLiteStore.open(tmp_path / "g.db")
    store.add([], [Entity("chem:tmp", "trimethoprim", "Chemical", ("TMP",)), Entity("dis:c", "candidiasis", "Disease")])
    return Extractor.for_store(store, **options)


def test_the_stock_pipeline_finds_a_drug_the_graph_does_not_know(tmp_path):
    # the stock model knows no drugs: 'fluconazole' was no mention unless the graph had the name
    text = "Patients with candidiasis received fluconazole and trimethoprim."
    (ex,) = _extractor(tmp_path).extract([Document("d", text)])
    linked = {m.text: (m.label, m.entity_id) for m in ex.mentions}
    assert linked["fluconazole"] == ("Chemical", "chem:fluconazole")  # a new entity
    assert linked["trimethoprim"] == ("Chemical", "chem:tmp")  # the graph's own name still decides
    assert [e.name for e in ex.entities if e.id == "chem:fluconazole"] == ["fluconazole"]
    (off,) = _extractor(tmp_path / "off", drug_names=False).extract([Document("d", text)])
    assert "fluconazole" not in {m.text for m in off.mentions}


def test_every_stop_listed_word_ends_in_a_stem_the_rule_would_take():
    """A stop-list entry no stem matches does nothing and misleads: each one is a word the rule would take."""
    dead = [w for w in STOP if not any(w.endswith(s) and len(w) - len(s) >= 2 for s in STEMS)]
    assert dead == []
