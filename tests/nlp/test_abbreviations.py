"""Schwartz & Hearst abbreviation detection, and the short-form rule the name linkers share."""
from __future__ import annotations

import pytest

from nlp.abbreviations import STATISTICAL, abbreviation_map, definitions, find_abbreviations, relink_short_forms


@pytest.mark.parametrize("text,short,long", [
    ("Data are presented as mean ± standard deviation (SD).", "SD", "standard deviation"),
    ("Children with acute lymphoblastic leukemia (ALL) were enrolled; ALL relapsed in 12.", "ALL",
     "acute lymphoblastic leukemia"),
    ("Patients with non-small cell lung cancer (NSCLC) received docetaxel.", "NSCLC", "non-small cell lung cancer"),
    ("Serum tumor necrosis factor-alpha (TNF-alpha) levels rose after 5 days.", "TNF-alpha",
     "tumor necrosis factor-alpha"),
    ("Rats received 5-fluorouracil (5-FU, 20 mg/kg) daily.", "5-FU", "5-fluorouracil"),
    ("In adults, type 2 diabetes mellitus (T2DM) is common.", "T2DM", "type 2 diabetes mellitus"),
    ("Each unit of HR (hazard ratio) was adjusted for age.", "HR", "hazard ratio"),
    ('Values are the "standard deviation" (SD) of three runs.', "SD", "standard deviation"),
    # a filing's defined terms: the capitalised name before the parenthesis, without "The" or its company suffix
    ("On March 11, 2024, Northwind Therapeutics, Inc. (the \u201cCompany\u201d) agreed", "Company",
     "Northwind Therapeutics"),
    ('The Bank of America Corporation (the "Bank") lent it', "Bank", "Bank of America"),
    ("It bought Bramble Biologics (\u201cBramble\u201d) in 2023.", "Bramble", "Bramble Biologics"),
])
def test_definitions_are_found_with_their_offsets(text, short, long):
    assert abbreviation_map(text) == {short: long}
    a = definitions(text)[short]
    assert text[a.short_start:a.short_end] == short and text[a.long_start:a.long_end] == long


@pytest.mark.parametrize("text", [
    "The difference was significant (p < 0.05).",
    "Mean age was 45 (SD 12) years; mean (SD) weight 70 (9) kg.",
    "The odds ratio was 2.1 (95% CI, 1.2-3.4) in the cohort.",
    "As shown before (Fig. 1), the dose (n = 5) was low (see above).",
    "Patients with paroxysmal AF (AF) were excluded.",  # a long form must be longer than its short form
    "Men, women, and children (MWC) were seen.",  # a long form does not reach back over ", "
    "Patients had gastric bleeding.\nAspirin (ASA) was stopped.",  # nor over the end of a sentence
    "Patients in the study of the effects of a very long list of drugs on outcomes (X1)",
    "The seller (the \u201cSeller\u201d) and Pfizer Inc. (\u201cPfizer\u201d) signed.",  # no name, or the name itself
])
def test_parentheses_that_define_nothing_are_ignored(text):
    assert find_abbreviations(text) == []


def test_the_long_form_window_is_min_of_length_plus_five_and_twice_the_length():
    # two letters: at most four words
    assert abbreviation_map("the ratio of the absolute differences (RD)") == {}
    assert abbreviation_map("it is the risk difference (RD)") == {"RD": "risk difference"}


def test_the_first_definition_wins():
    text = "sexual dysfunction (SD) and later the standard deviation (SD)"
    assert abbreviation_map(text) == {"SD": "sexual dysfunction"}
    assert [a.long for a in find_abbreviations(text)] == ["sexual dysfunction", "standard deviation"]


def test_statistical_abbreviations_are_no_disease_or_drug_acronyms():
    assert {"SD", "SEM", "CI", "OR", "HR", "RR", "IQR", "AUC", "ROC", "BMI"} <= STATISTICAL
    assert not {"SE", "ALL", "AF", "MI", "CKD"} & STATISTICAL  # SE: status epilepticus


def _rule(text, matches, names):
    return sorted(relink_short_forms(text, matches, lambda d: names.get(d.long.lower())))


def test_rule_follows_the_definition_drops_undefined_statistics_and_keeps_the_rest():
    names = {"sexual dysfunction": "dis:sd", "type 2 diabetes mellitus": "dis:t2dm"}
    text = "mean ± SD; ALL and aspirin"
    matches = [(7, 9, "dis:sd"), (11, 14, "dis:all"), (19, 26, "chem:asa")]
    assert _rule(text, matches, names) == [(11, 14, "dis:all"), (19, 26, "chem:asa")]
    text = "sexual dysfunction (SD): SD"
    assert _rule(text, [(0, 18, "dis:sd"), (20, 22, "dis:x")], names) == [
        (0, 18, "dis:sd"), (20, 22, "dis:sd"), (25, 27, "dis:sd")]  # re-pointed, and the other SD added
    text = "standard deviation (SD): SD"
    assert _rule(text, [(20, 22, "dis:sd"), (25, 27, "dis:sd")], names) == []
    text = "type 2 diabetes mellitus (T2DM); T2DM, T2DMx and xT2DM"
    assert _rule(text, [(0, 24, "dis:t2dm")], names) == [(0, 24, "dis:t2dm"), (26, 30, "dis:t2dm"),
                                                         (33, 37, "dis:t2dm")]  # whole words only
    unchanged = [(0, 7, "chem:asa")]
    assert relink_short_forms("aspirin (low dose)", unchanged, names.get) is unchanged


def test_plural_long_forms_offer_their_singular():
    forms = {a.short: a.long_forms for a in find_abbreviations(
        "levodopa-induced dyskinesias (LIDs) and multiple sclerosis (MS) and sleep status (SS) in mice")}
    assert forms["LIDs"] == ("levodopa-induced dyskinesias", "levodopa-induced dyskinesia")
    assert forms["MS"] == ("multiple sclerosis",)
